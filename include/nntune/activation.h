/* activation.h - element-wise activations (relu, tanh, sigmoid) as plain
 * functions over float buffers, forward and backward. Backward works from
 * the activation's output y (what the network keeps), not its input:
 *   relu: dx = dy * [y > 0]   tanh: dx = dy * (1 - y^2)
 *   sigmoid: dx = dy * y * (1 - y)
 * NaN propagates: relu(NaN) is NaN, so divergence stays visible. Buffers are
 * borrowed; in-place use (y == x, dx == dy) is allowed where noted. */
#ifndef NNTUNE_ACTIVATION_H
#define NNTUNE_ACTIVATION_H

#include <stddef.h>
#include "nntune/net.h"  /* nt_act */

/* y = act(x) over n values. y may equal x. */
void nt_act_forward(float *y /*(n)*/, const float *x /*(n)*/, size_t n, nt_act act);

/* Fused bias + activation in place over a (B, n) block:
 * y[r, j] = act(y[r, j] + b[j]). b may be NULL (activation only). */
void nt_bias_act_forward(float *y /*(B,n)*/, const float *b /*(n) or NULL*/,
                         int B, int n, nt_act act);

/* dx = dy * act'(x), computed from y = act(x). dx may equal dy. */
void nt_act_backward(float *dx /*(n)*/, const float *dy /*(n)*/,
                     const float *y /*(n)*/, size_t n, nt_act act);

#endif
