/* dropout.h - inverted dropout as plain functions over float buffers.
 * Training keeps each value with probability 1-p and scales kept values by
 * 1/(1-p), so inference needs no rescaling. The keep mask is stored as one
 * uint8 (0 or 1) per value for the backward pass. Randomness comes only
 * from the nt_rng passed in. Buffers are borrowed; y may equal x and dx may
 * equal dy. */
#ifndef NNTUNE_DROPOUT_H
#define NNTUNE_DROPOUT_H

#include <stddef.h>
#include <stdint.h>
#include "nntune/net.h"  /* nt_act */
#include "nntune/rng.h"

/* Draw mask (n) (keep with probability 1-p) and set y = x * mask / (1-p).
 * Takes exactly one nt_rng_u64() from rng, which seeds a counter-based
 * stream for the n values, so equal rng states give equal masks.
 * p in [0, 1); p == 0 copies x and draws nothing (mask is then left
 * untouched and may be NULL). */
void nt_dropout_forward(float *y /*(n)*/, uint8_t *mask /*(n)*/,
                        const float *x /*(n)*/, size_t n, float p, nt_rng *rng);

/* The same with the stream's seed given, for values first .. first+n-1 of
 * it: nt_dropout_forward is this with seed = nt_rng_u64(rng), first = 0.
 * A block of rows starting at element `first` of a batch draws exactly the
 * part of the mask the whole batch would (data-parallel training). */
void nt_dropout_forward_at(float *y /*(n)*/, uint8_t *mask /*(n)*/,
                           const float *x /*(n)*/, size_t n, float p,
                           uint64_t seed, size_t first);

/* dx = dy * mask / (1-p). */
void nt_dropout_backward(float *dx /*(n)*/, const float *dy /*(n)*/,
                         const uint8_t *mask /*(n)*/, size_t n, float p);

/* Backward through dropout and the activation before it, in one pass.
 * yd is the dropped output yd = mask * act(z) / (1-p) that the network
 * keeps; the activation's own output is recovered as yd * (1-p) where kept.
 * dx = dL/dz = dy * mask / (1-p) * act'(z). dx may equal dy. */
void nt_dropout_act_backward(float *dx /*(n)*/, const float *dy /*(n)*/,
                             const float *yd /*(n)*/, const uint8_t *mask /*(n)*/,
                             size_t n, float p, nt_act act);

#endif
