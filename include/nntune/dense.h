/* dense.h - the fully connected layer as plain functions over float buffers.
 * y = x W + b with W (in, out) row-major, the layout of net.h's parameter
 * block: row i holds input i's weights to every unit, so an input that is
 * zero skips a whole row (sparse.h). Every GEMM goes through cblas_sgemm
 * (row-major), except a layer of at most 16 outputs, which takes
 * narrow.h's kernels when the build has them. All pointers are borrowed;
 * the functions allocate nothing. */
#ifndef NNTUNE_DENSE_H
#define NNTUNE_DENSE_H

#include <stdbool.h>

/* y = x W + b. b may be NULL (no bias: net.c adds it fused with the
 * activation). y must not overlap x, W or b. */
void nt_dense_forward(float *y /*(B,out)*/, const float *x /*(B,in)*/,
                      const float *W /*(in,out)*/, const float *b /*(out) or NULL*/,
                      int B, int in, int out);

/* Backward of y = x W + b given dy = dL/dy:
 *   dW (+)= x^T dy,  db (+)= sum over rows of dy  (accumulate true: added to
 *                   what is there; false: overwritten, no clearing needed)
 *   dx  = dy W^T    (overwritten; skipped when dx is NULL, e.g. the first layer)
 * db may be NULL (no bias). dx must not overlap the other buffers. */
void nt_dense_backward(float *dx /*(B,in) or NULL*/, float *dW /*(in,out)*/,
                       float *db /*(out) or NULL*/, const float *dy /*(B,out)*/,
                       const float *x /*(B,in)*/, const float *W /*(in,out)*/,
                       int B, int in, int out, bool accumulate);

/* db (+)= the column sums of dy: the bias gradient, for a caller that
 * computes dW itself (sparse.h). */
void nt_dense_bias_backward(float *db /*(out)*/, const float *dy /*(B,out)*/,
                            int B, int out, bool accumulate);

/* Parts of those products, for a step whose threads each own a slice of
 * every layer's inputs (the rows of W, shards.h). Every matrix keeps the
 * whole layer's row-major layout and leading dimension:
 *   forward_inputs    y = x[:, i0:i1] W[i0:i1, :]   (all of y overwritten:
 *                     a partial sum; zero when i0 == i1)
 *   grad_inputs       dW[i0:i1, :] = x[:, i0:i1]^T dy   (those rows only)
 *   bias_grad_units   db[u0:u1] = the column sums of dy[:, u0:u1]
 *   input_grad        dx = dy W^T, for B rows of a batch */
void nt_dense_forward_inputs(float *y /*(B,out)*/, const float *x /*(B,in)*/,
                             const float *W /*(in,out)*/, int B, int in, int out,
                             int i0, int i1);
void nt_dense_grad_inputs(float *dW /*(in,out)*/, const float *dy /*(B,out)*/,
                          const float *x /*(B,in)*/, int B, int in, int out, int i0, int i1);
void nt_dense_bias_grad_units(float *db /*(out)*/, const float *dy /*(B,out)*/,
                              int B, int out, int u0, int u1);
void nt_dense_input_grad(float *dx /*(B,in)*/, const float *dy /*(B,out)*/,
                         const float *W /*(in,out)*/, int B, int in, int out);

/* y[r, :] += b for every row r, without an activation. */
void nt_bias_forward(float *y /*(B,n)*/, const float *b /*(n)*/, int B, int n);

#endif
