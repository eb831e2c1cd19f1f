/* sparse.h - a batch of inputs that are mostly zero, and the first layer's
 * two products over its non-zero values only.
 *
 * MNIST's pixels are 19% non-zero, and the first layer holds most of a
 * network's multiply-adds (784 x 256 of 784-256-128-10's 1,007,104 flop a
 * sample, forward and dW). With W stored (in, out) (dense.h), a zero input
 * skips a whole row of W, so these products cost what the non-zeros cost.
 *
 * Rows are taken NT_SPARSE_ROWS at a time: a block lists the columns where
 * any of its rows is non-zero, with every row's value there (0 where that
 * row is zero), so one load of a row of W serves all of the block's rows.
 * The kernels use AVX-512 (compress for the gather, 16-lane FMAs); a build
 * without it has no sparse path (nt_sparse_available() is false) and the
 * network uses its GEMMs. */
#ifndef NNTUNE_SPARSE_H
#define NNTUNE_SPARSE_H

#include "nntune/common.h"

#define NT_SPARSE_ROWS 4

/* Above this fraction of non-zero values the GEMM is faster: at MNIST's 19%
 * the sparse products take 0.6x the time of OpenBLAS's AVX-512 GEMMs, at
 * Fashion-MNIST's 50% 1.2x (benchmarks/README.md, "sparse inputs"). */
#define NT_SPARSE_MAX_DENSITY 0.3

typedef struct {
    int max_batch, in;
    int stride;        /* entries reserved per block: in rounded up to 16 */
    int B;             /* rows of the batch it was built from; 0: not built */
    int n_blocks;      /* ceil(B / NT_SPARSE_ROWS) */
    int i0, i1;        /* the inputs it lists, [i0, i1): all of them, or a
                          thread's slice (below) */
    int *count;        /* (blocks) columns listed in each block */
    int32_t *col;      /* (blocks, stride) the block's columns, ascending */
    float *val;        /* (blocks, NT_SPARSE_ROWS, stride) row s's value at
                          the block's k-th column; 0 for rows past B */
    int *listed;       /* (stride / 16) entries listed in each group of 16
                          inputs, over all blocks; 0 outside [i0, i1) */
    size_t nnz;        /* non-zero values of the batch */
} nt_sparse;

/* Whether this build has the sparse kernels (AVX-512). */
bool nt_sparse_available(void);

/* Buffers for batches of up to max_batch rows of in columns. */
nt_status nt_sparse_init(nt_sparse *sp, int max_batch, int in);

/* Free the buffers; safe on a zeroed or freed one. */
void nt_sparse_free(nt_sparse *sp);

/* Build sp from x (B, in), B <= max_batch. Returns false, with sp->B = 0,
 * when more than max_density of x's values are non-zero (it stops counting
 * as soon as they are) or the build has no sparse path. */
bool nt_sparse_build(nt_sparse *sp, const float *x /*(B,in)*/, int B, double max_density);

/* y (B, out) = x W for the x that sp was built from (overwritten). */
void nt_sparse_forward(float *y /*(B,out)*/, const nt_sparse *sp,
                       const float *W /*(in,out)*/, int out);

/* dW (in, out) = x^T dy for the x that sp was built from (overwritten). */
void nt_sparse_backward(float *dW /*(in,out)*/, const nt_sparse *sp,
                        const float *dy /*(B,out)*/, int out);

/* The same split between threads (shards.h), by inputs: thread k builds
 * its own sp over inputs [i0, i1) of every row of x (B, in) (i0 a multiple
 * of 16) and returns the non-zero values it saw, or SIZE_MAX once they alone
 * are more than max_density of x. Once every thread's is built, each sp
 * gets one nt_sparse_finish with the threads' total (SIZE_MAX if any saw
 * too many): it is usable when at most max_density of x is non-zero, as
 * nt_sparse_build would decide. The products then take a slice of the
 * inputs within the built ones: y = x[:, i0:i1] W[i0:i1, :] (every row and
 * unit of y overwritten: a partial sum) and dW[i0:i1, :] = x[:, i0:i1]^T dy
 * (those rows only). sp->listed counts what the products' time follows, so
 * threads can take equal shares of it. Blocks of a batch of B rows:
 * ceil(B / NT_SPARSE_ROWS). */
int nt_sparse_blocks(int B);
size_t nt_sparse_build_inputs(nt_sparse *sp, const float *x /*(B,in)*/, int B, int i0, int i1,
                              double max_density);
bool nt_sparse_finish(nt_sparse *sp, int B, size_t nnz, double max_density);
void nt_sparse_forward_inputs(float *y /*(B,out)*/, const nt_sparse *sp,
                              const float *W /*(in,out)*/, int out, int i0, int i1);
void nt_sparse_backward_inputs(float *dW /*(in,out)*/, const nt_sparse *sp,
                               const float *dy /*(B,out)*/, int out, int i0, int i1);

#endif
