/* optim.h - optimizers over a flat parameter block: SGD with (Nesterov)
 * momentum, and Adam. They own their state (velocity, moments), sized once.
 *
 * SGD (PyTorch convention):  v = mu*v + g;  p -= lr * v
 *   Nesterov:                v = mu*v + g;  p -= lr * (g + mu*v)
 * Adam (Kingma & Ba 2015, Alg. 1): m = b1*m + (1-b1)*g;
 *   v = b2*v + (1-b2)*g^2;  p -= lr * mhat / (sqrt(vhat) + eps),
 *   mhat = m/(1-b1^t), vhat = v/(1-b2^t). */
#ifndef NNTUNE_OPTIM_H
#define NNTUNE_OPTIM_H

#include "nntune/common.h"

typedef enum { NT_OPT_SGD = 0, NT_OPT_ADAM = 1 } nt_opt_kind;

typedef struct {
    nt_opt_kind kind;
    float momentum;  /* SGD: 0 for plain SGD; default 0.9 */
    bool nesterov;   /* SGD only */
    float beta1;     /* Adam, default 0.9 */
    float beta2;     /* Adam, default 0.999 */
    float eps;       /* Adam, default 1e-8 */
} nt_opt_config;

#define NT_MAX_DECAY_RANGES 16

typedef struct {
    nt_opt_config cfg;
    size_t n;
    float *m;   /* (n) velocity (SGD) or first moment (Adam), owned */
    float *v;   /* (n) second moment (Adam only), owned */
    long t;     /* steps taken */
    float c1, c2; /* Adam's bias corrections at step t: 1/(1-beta1^t), 1/(1-beta2^t) */
    float l2;   /* L2 penalty folded into the steps (nt_optim_set_l2) */
    int n_decay;                              /* ranges it applies to */
    size_t decay_lo[NT_MAX_DECAY_RANGES];     /* sorted, disjoint */
    size_t decay_hi[NT_MAX_DECAY_RANGES];
} nt_optim;

/* Defaults for a kind: the values given above. */
nt_opt_config nt_opt_defaults(nt_opt_kind kind);
nt_status nt_optim_init(const nt_opt_config *cfg, size_t n, nt_optim *out);
void nt_optim_free(nt_optim *o);
/* Zero the state (t = 0), e.g. before training again from new weights. */
void nt_optim_reset(nt_optim *o);
/* One update of params (n) from grads (n) at learning rate lr. */
void nt_optim_step(nt_optim *o, float *params, const float *grads, float lr);
/* The same step in pieces: nt_optim_next starts step t+1, and
 * nt_optim_update applies it to elements lo..hi-1. Every element is updated
 * on its own, so the pieces may run on different threads at once (nt_train
 * does, with shards) and give exactly what nt_optim_step gives. */
void nt_optim_next(nt_optim *o);
void nt_optim_update(nt_optim *o, float *params, const float *grads, float lr,
                     size_t lo, size_t hi);
/* Fold an L2 penalty into every later step: an element in one of the n
 * ranges [lo[i], hi[i]) (sorted, disjoint: a network's weights, not its
 * biases) steps as if its gradient also held l2 * param, which is what
 * adding that term to grads before the step gives, without a pass over
 * grads of its own. l2 = 0 or n = 0 folds in nothing. NT_ERR_ARG for a
 * negative or non-finite l2, or ranges out of order or past n. */
nt_status nt_optim_set_l2(nt_optim *o, float l2, int n, const size_t *lo, const size_t *hi);
const char *nt_opt_name(nt_opt_kind k);   /* "sgd", "adam" */
int nt_opt_parse(const char *s);          /* -1 if unknown */

#endif
