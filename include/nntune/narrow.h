/* narrow.h - the three products of a layer with at most 16 outputs (a
 * classifier's last layer: MNIST's 10 classes), AVX-512.
 *
 * One row of such a layer's W fits one 16-lane register, so each product
 * keeps its sums in registers over the whole reduction, where a GEMM packs
 * its operands into panels first: OpenBLAS took 5.4, 5.6 and 4.1 us for
 * the forward, dW and dx of 128 x 128 by 128 x 10, these kernels 3.2, 3.3
 * and 2.8 us (benchmarks/README.md, item 10). dense.c sends such layers
 * here when nt_narrow_available(); the shapes and meanings are dense.h's:
 *   forward   y = x[:, i0:i1] W[i0:i1, :]           (y overwritten)
 *   grad      dW[i0:i1, :] (+)= x[:, i0:i1]^T dy    (those rows only)
 *   input     dx = dy W^T                           (overwritten)
 * x has leading dimension in, W and dy out. */
#ifndef NNTUNE_NARROW_H
#define NNTUNE_NARROW_H

#include <stdbool.h>

#define NT_NARROW_MAX_OUT 16

/* Whether this build has the kernels (AVX-512) for a layer of `out`
 * outputs: out <= NT_NARROW_MAX_OUT. */
bool nt_narrow_available(int out);

void nt_narrow_forward(float *y /*(B,out)*/, const float *x /*(B,in)*/,
                       const float *W /*(in,out)*/, int B, int in, int out, int i0, int i1);
void nt_narrow_grad(float *dW /*(in,out)*/, const float *dy /*(B,out)*/,
                    const float *x /*(B,in)*/, int B, int in, int out, int i0, int i1,
                    bool accumulate);
void nt_narrow_input_grad(float *dx /*(B,in)*/, const float *dy /*(B,out)*/,
                          const float *W /*(in,out)*/, int B, int in, int out);

#endif
