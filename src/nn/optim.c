/* optim.c - SGD with (Nesterov) momentum in PyTorch's convention, and Adam. */
#include "nntune/optim.h"

#include <assert.h>
#include <math.h>
#include <string.h>
#include <strings.h>

nt_opt_config nt_opt_defaults(nt_opt_kind kind)
{
    return (nt_opt_config){
        .kind = kind, .momentum = 0.9f, .nesterov = false,
        .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
    };
}

static nt_status check_config(const nt_opt_config *c)
{
    if (c->kind != NT_OPT_SGD && c->kind != NT_OPT_ADAM) {
        nt_errorf("optimizer: kind = %d, not an optimizer", (int)c->kind);
        return NT_ERR_ARG;
    }
    if (c->kind == NT_OPT_SGD) {
        if (!(c->momentum >= 0.0f && c->momentum < 1.0f)) {
            nt_errorf("optimizer: momentum = %g, must be in [0, 1)", (double)c->momentum);
            return NT_ERR_ARG;
        }
        if (c->nesterov && c->momentum == 0.0f) {
            nt_errorf("optimizer: nesterov needs momentum > 0 (momentum = 0)");
            return NT_ERR_ARG;
        }
        return NT_OK;
    }
    if (!(c->beta1 >= 0.0f && c->beta1 < 1.0f)) {
        nt_errorf("optimizer: beta1 = %g, must be in [0, 1)", (double)c->beta1);
        return NT_ERR_ARG;
    }
    if (!(c->beta2 >= 0.0f && c->beta2 < 1.0f)) {
        nt_errorf("optimizer: beta2 = %g, must be in [0, 1)", (double)c->beta2);
        return NT_ERR_ARG;
    }
    if (!(c->eps > 0.0f && isfinite(c->eps))) {
        nt_errorf("optimizer: eps = %g, must be > 0", (double)c->eps);
        return NT_ERR_ARG;
    }
    return NT_OK;
}

nt_status nt_optim_init(const nt_opt_config *cfg, size_t n, nt_optim *out)
{
    assert(cfg && out);
    memset(out, 0, sizeof *out);
    nt_status rc = check_config(cfg);
    if (rc != NT_OK) return rc;
    nt_optim o = {.cfg = *cfg, .n = n};
    bool need_m = cfg->kind == NT_OPT_ADAM || cfg->momentum > 0.0f;
    bool need_v = cfg->kind == NT_OPT_ADAM;
    if ((need_m && !(o.m = nt_alloc(n * sizeof(float)))) ||
        (need_v && !(o.v = nt_alloc(n * sizeof(float))))) {
        nt_errorf("optimizer: out of memory for state of %zu parameters", n);
        nt_optim_free(&o);
        return NT_ERR_NOMEM;
    }
    *out = o;
    return NT_OK;
}

void nt_optim_free(nt_optim *o)
{
    if (!o) return;
    nt_free(o->m);
    nt_free(o->v);
    memset(o, 0, sizeof *o);
}

void nt_optim_reset(nt_optim *o)
{
    assert(o);
    if (o->m) memset(o->m, 0, o->n * sizeof(float));
    if (o->v) memset(o->v, 0, o->n * sizeof(float));
    o->t = 0;
}

// SGD, PyTorch convention: v = mu*v + g; p -= lr*v (Nesterov: p -= lr*(g + mu*v)).
// v starts at 0, so the first step gives v = g as PyTorch's buffer does.
// Both steps update elements lo..hi-1 (every element on its own, so any cut
// into slices gives the same result), with g = grads + l2 * p when decay.
// Each is inlined twice, with and without decay, so the loop without it
// adds nothing (not even 0 * p, which is NaN for an infinite p).
static inline void sgd_step(nt_optim *o, float *restrict p, const float *restrict grads,
                            float lr, float l2, bool decay, size_t lo, size_t hi)
{
    const float mu = o->cfg.momentum;
    float *restrict v = o->m;
    if (!v) {
        #pragma omp simd
        for (size_t i = lo; i < hi; i++) {
            float g = decay ? grads[i] + l2 * p[i] : grads[i];
            p[i] -= lr * g;
        }
    } else if (o->cfg.nesterov) {
        #pragma omp simd
        for (size_t i = lo; i < hi; i++) {
            float g = decay ? grads[i] + l2 * p[i] : grads[i];
            v[i] = mu * v[i] + g;
            p[i] -= lr * (g + mu * v[i]);
        }
    } else {
        #pragma omp simd
        for (size_t i = lo; i < hi; i++) {
            float g = decay ? grads[i] + l2 * p[i] : grads[i];
            v[i] = mu * v[i] + g;
            p[i] -= lr * v[i];
        }
    }
}

// Adam: Kingma & Ba 2015, Alg. 1, with mhat = m/(1-b1^t), vhat = v/(1-b2^t)
// and eps added to sqrt(vhat). One element.
static inline void adam_one(float *p, float *m, float *v, float g, float b1,
                            float b2, float c1, float c2, float lr, float eps)
{
    *m = b1 * *m + (1.0f - b1) * g;
    *v = b2 * *v + (1.0f - b2) * (g * g);
    *p -= lr * (*m * c1) / (sqrtf(*v * c2) + eps);
}

static inline void adam_step(nt_optim *o, float *restrict p, const float *restrict grads,
                             float lr, float l2, bool decay, size_t lo, size_t hi)
{
    const float b1 = o->cfg.beta1, b2 = o->cfg.beta2, eps = o->cfg.eps;
    const float c1 = o->c1, c2 = o->c2;
    float *restrict m = o->m, *restrict v = o->v;
    // vectorizes: the build's -fno-math-errno makes sqrtf an instruction
    #pragma omp simd
    for (size_t i = lo; i < hi; i++) {
        float g = decay ? grads[i] + l2 * p[i] : grads[i];
        adam_one(p + i, m + i, v + i, g, b1, b2, c1, c2, lr, eps);
    }
}

// elements lo..hi-1, all with decay or all without
static void step_range(nt_optim *o, float *params, const float *grads, float lr,
                       bool decay, size_t lo, size_t hi)
{
    if (lo >= hi) return;
    if (o->cfg.kind == NT_OPT_ADAM) {
        if (decay) adam_step(o, params, grads, lr, o->l2, true, lo, hi);
        else adam_step(o, params, grads, lr, 0.0f, false, lo, hi);
    } else {
        if (decay) sgd_step(o, params, grads, lr, o->l2, true, lo, hi);
        else sgd_step(o, params, grads, lr, 0.0f, false, lo, hi);
    }
}

nt_status nt_optim_set_l2(nt_optim *o, float l2, int n, const size_t *lo, const size_t *hi)
{
    assert(o && (n == 0 || (lo && hi)));
    if (!(l2 >= 0.0f) || !isfinite(l2)) {
        nt_errorf("optimizer: l2 = %g, must be >= 0 and finite", (double)l2);
        return NT_ERR_ARG;
    }
    if (n < 0 || n > NT_MAX_DECAY_RANGES) {
        nt_errorf("optimizer: %d decay ranges, at most %d", n, NT_MAX_DECAY_RANGES);
        return NT_ERR_ARG;
    }
    for (int r = 0; r < n; r++)
        if (lo[r] > hi[r] || hi[r] > o->n || (r > 0 && lo[r] < hi[r - 1])) {
            nt_errorf("optimizer: decay range %d [%zu, %zu) is out of order or past "
                      "the %zu parameters", r, lo[r], hi[r], o->n);
            return NT_ERR_ARG;
        }
    o->l2 = l2;
    o->n_decay = l2 > 0.0f ? n : 0;
    for (int r = 0; r < o->n_decay; r++) {
        o->decay_lo[r] = lo[r];
        o->decay_hi[r] = hi[r];
    }
    return NT_OK;
}

void nt_optim_step(nt_optim *o, float *params, const float *grads, float lr)
{
    nt_optim_next(o);
    nt_optim_update(o, params, grads, lr, 0, o->n);
}

void nt_optim_next(nt_optim *o)
{
    assert(o);
    o->t++;
    // once a step, not in every slice's update
    o->c1 = (float)(1.0 / (1.0 - pow(o->cfg.beta1, (double)o->t)));
    o->c2 = (float)(1.0 / (1.0 - pow(o->cfg.beta2, (double)o->t)));
}

void nt_optim_update(nt_optim *o, float *params, const float *grads, float lr,
                     size_t lo, size_t hi)
{
    assert(o && o->t > 0 && lo <= hi && hi <= o->n && (lo == hi || (params && grads)));
    // [lo, hi) cut where the decay ranges start and end
    size_t at = lo;
    for (int r = 0; r < o->n_decay && at < hi; r++) {
        size_t dlo = o->decay_lo[r] > at ? o->decay_lo[r] : at;
        size_t dhi = o->decay_hi[r] < hi ? o->decay_hi[r] : hi;
        if (dlo >= dhi) continue;
        step_range(o, params, grads, lr, false, at, dlo);
        step_range(o, params, grads, lr, true, dlo, dhi);
        at = dhi;
    }
    step_range(o, params, grads, lr, false, at, hi);
}

static const char *const opt_names[] = {"sgd", "adam"};

const char *nt_opt_name(nt_opt_kind k)
{
    return (unsigned)k <= NT_OPT_ADAM ? opt_names[k] : "?";
}

int nt_opt_parse(const char *s)
{
    if (!s) return -1;
    for (int i = 0; i <= NT_OPT_ADAM; i++)
        if (strcasecmp(s, opt_names[i]) == 0) return i;
    return -1;
}
