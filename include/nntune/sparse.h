/* sparse.h - a batch of inputs that are mostly zero, and the first layer's
 * two products over its non-zero values only.
 *
 * MNIST's pixels are 19% non-zero, and the first layer holds most of a
 * network's multiply-adds (784 x 256 of 784-256-128-10's 1,007,104 flop a
 * sample, forward and dW). With W stored (in, out) (dense.h), a zero input
 * skips a whole row of W, so these products cost what the non-zeros cost.
 *
 * A build records which values are non-zero as bits, by rows, then
 * transposes them: for each input, the rows where it is non-zero. Both
 * products go by inputs, a few neighbouring ones at a time (neighbouring
 * pixels are non-zero together): the forward keeps their rows of W in
 * registers and adds them into each row of y where any of them is
 * non-zero; dW keeps their rows of dW in registers, sums the rows of dy
 * into them, and writes each once. Each sum takes its non-zero terms in
 * ascending order (inputs for y, rows for dW), as a plain loop over x's
 * values would: skipping a zero term leaves a float sum unchanged, so the
 * results are that loop's, bit for bit, whatever the batch's pattern.
 * The kernels use AVX-512; a build without it has no sparse path
 * (nt_sparse_available() is false) and the network uses its GEMMs. */
#ifndef NNTUNE_SPARSE_H
#define NNTUNE_SPARSE_H

#include "nntune/common.h"

/* Above this fraction of non-zero values the GEMM is faster. On the same
 * batches, one thread, 784-256 at batch 128 (bench_sparse, which times
 * both), the products by inputs take 0.17-0.18x the time of OpenBLAS's
 * Haswell GEMMs and 0.42-0.44x of its SkylakeX ones at MNIST's 19%, and
 * 0.47x and 0.82x at Fashion-MNIST's 50%: by that slope they meet the
 * SkylakeX GEMMs near 60-65% (benchmarks/README.md, item 14). */
#define NT_SPARSE_MAX_DENSITY 0.6

typedef struct {
    int max_batch, in;
    int inputs64;      /* in rounded up to 64 */
    int words;         /* 64-row words of an input's rows: ceil(max_batch / 64) */
    int B;             /* rows of the batch it was built from; 0: not built */
    int i0, i1;        /* the inputs it lists, [i0, i1): all of them, or a
                          thread's slice (below) */
    const float *x;    /* the batch it was built from: the products read its
                          values, so it must not change until they are done */
    uint16_t *row_nz;  /* (inputs64 / 64, 64 words, 4) bit c of [k][r][g]:
                          x[r, 64 k + 16 g + c] is non-zero */
    uint64_t *col_rows;/* (words, inputs64) bit b of [w][i]: x[64 w + b, i]
                          is non-zero */
    int *group_work;   /* (inputs64 / 16) each group of 16 inputs' work, for
                          threads to share (below): over blocks of 4 rows,
                          the inputs where any of a block's rows is
                          non-zero; 0 outside [i0, i1) */
    float *tile;       /* (up to 128 rows, 64) the products' scratch: 64
                          outputs of y or of dy for 128 of the batch's rows
                          at a time, 32 KB, which L1 holds */
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
 * as soon as they are) or the build has no sparse path. The products read
 * x's values again: x must not change until they are done. */
bool nt_sparse_build(nt_sparse *sp, const float *x /*(B,in)*/, int B, double max_density);

/* nt_sparse_build, reading which of x's values are non-zero from the same
 * batch in bytes: rows[r] (in bytes) is zero exactly where x's row r is, as
 * a data set's pixels are where their quotients by 255 are (nt_dataset).
 * Four times less to read than x, one test a 64 values; the same result. */
bool nt_sparse_build_rows(nt_sparse *sp, const float *x /*(B,in)*/,
                          const uint8_t *const *rows /*[B]*/, int B, double max_density);

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
 * (those rows only). Threads can take equal shares of the products' work
 * by sp->group_work. (The measure is the one the cuts have always used, as
 * they set how the partial sums round: a new one would change what a
 * sharded training computes.) */
size_t nt_sparse_build_inputs(nt_sparse *sp, const float *x /*(B,in)*/, int B, int i0, int i1,
                              double max_density);
size_t nt_sparse_build_inputs_rows(nt_sparse *sp, const float *x /*(B,in)*/,
                                   const uint8_t *const *rows /*[B] or NULL*/, int B, int i0,
                                   int i1, double max_density);
bool nt_sparse_finish(nt_sparse *sp, int B, size_t nnz, double max_density);
void nt_sparse_forward_inputs(float *y /*(B,out)*/, const nt_sparse *sp,
                              const float *W /*(in,out)*/, int out, int i0, int i1);
void nt_sparse_backward_inputs(float *dW /*(in,out)*/, const nt_sparse *sp,
                               const float *dy /*(B,out)*/, int out, int i0, int i1);

#endif
