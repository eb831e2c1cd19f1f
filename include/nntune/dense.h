/* dense.h - the fully connected layer as plain functions over float buffers.
 * y = x W + b with W (in, out) row-major, the layout of net.h's parameter
 * block: row i holds input i's weights to every unit, so an input that is
 * zero skips a whole row (sparse.h). Every GEMM goes through cblas_sgemm
 * (row-major). All pointers are borrowed; the functions allocate nothing. */
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

/* y[r, :] += b for every row r, without an activation. */
void nt_bias_forward(float *y /*(B,n)*/, const float *b /*(n)*/, int B, int n);

#endif
