/* loss.h - fused softmax + cross-entropy over a (B, C) block of logits.
 * The loss is computed as log-sum-exp(logits) - logit[label] with the row
 * max subtracted first, never as -log(prob): it stays finite when a
 * probability underflows to 0, and NaN/Inf in the logits make it NaN.
 * Labels are class indices in [0, C). Buffers are borrowed. */
#ifndef NNTUNE_LOSS_H
#define NNTUNE_LOSS_H

#include <stdint.h>

/* probs = softmax(logits) row by row. probs may equal logits. */
void nt_softmax_forward(float *probs /*(B,C)*/, const float *logits /*(B,C)*/,
                        int B, int C);

/* nt_softmax_forward that also keeps what the loss needs of each row, its
 * sum of exp(logit - row max) over the columns other than the max's, in
 * rest (B): nt_ce_loss_kept then computes nt_ce_loss's value without
 * exponentials of its own. probs must not overlap logits. */
void nt_softmax_forward_keep(float *probs /*(B,C)*/, float *rest /*(B)*/,
                             const float *logits /*(B,C)*/, int B, int C);

/* nt_ce_loss from the sums nt_softmax_forward_keep kept for these logits:
 * the same value, bit for bit. */
float nt_ce_loss_kept(const float *logits /*(B,C)*/, const float *rest /*(B)*/,
                      const int32_t *y /*(B)*/, int B, int C);

/* Mean cross-entropy of logits against labels y, by log-sum-exp. */
float nt_ce_loss(const float *logits /*(B,C)*/, const int32_t *y /*(B)*/,
                 int B, int C);

/* Both at once: probs = softmax(logits); returns the mean cross-entropy.
 * probs must not overlap logits. */
float nt_softmax_ce_forward(float *probs /*(B,C)*/, const float *logits /*(B,C)*/,
                            const int32_t *y /*(B)*/, int B, int C);

/* Gradient of the mean loss with respect to the logits:
 * dlogits = (probs - onehot(y)) / B. dlogits may equal probs. */
void nt_softmax_ce_backward(float *dlogits /*(B,C)*/, const float *probs /*(B,C)*/,
                            const int32_t *y /*(B)*/, int B, int C);

/* The same for B rows of a batch of n_mean >= B rows whose mean loss is
 * differentiated: dlogits = (probs - onehot(y)) / n_mean. */
void nt_softmax_ce_backward_of(float *dlogits /*(B,C)*/, const float *probs /*(B,C)*/,
                               const int32_t *y /*(B)*/, int B, int C, int n_mean);

#endif
