/* shards.c - one training step cut into row blocks run in parallel. */
#include "nntune/shards.h"

#include <assert.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "nntune/metrics.h"

nt_status nt_shards_init(nt_shards *s, nt_net *net, int n)
{
    assert(s && net && net->params);
    memset(s, 0, sizeof *s);
    if (n < 1 || n > NT_MAX_SHARDS) {
        nt_errorf("shards: %d, must be in 1..%d", n, NT_MAX_SHARDS);
        return NT_ERR_ARG;
    }
    s->n = n;
    s->net = net;
    for (int k = 1; k < n; k++) {
        nt_status rc = nt_net_init_replica(net, &s->rep[k]);
        if (rc != NT_OK) {
            nt_shards_free(s);
            return rc;
        }
    }
    return NT_OK;
}

void nt_shards_free(nt_shards *s)
{
    if (!s) return;
    for (int k = 1; k < NT_MAX_SHARDS; k++) nt_net_free(&s->rep[k]);
    memset(s, 0, sizeof *s);
}

int nt_shards_active(const nt_shards *s, int B)
{
    return B < s->n ? B : s->n;
}

void nt_shard_rows(int B, int n, int k, int *row0, int *rows)
{
    int base = B / n, extra = B % n;
    *rows = base + (k < extra);
    *row0 = k * base + (k < extra ? k : extra);
}

nt_shard_result nt_shard_pass(nt_shards *s, int k, const float *x, const int32_t *y,
                              int B, float l2, const uint64_t *seeds)
{
    assert(s && s->net && x && y && B >= 1 && B <= s->net->max_batch);
    const int active = nt_shards_active(s, B);
    assert(k >= 0 && k < active);
    nt_net *part = k == 0 ? s->net : &s->rep[k];
    const int C = part->arch.n_out;
    int row0, rows;
    nt_shard_rows(B, active, k, &row0, &rows);
    const float *p = nt_net_forward_rows(part, x + (size_t)row0 * part->arch.n_in, rows,
                                         seeds, (size_t)row0);
    nt_shard_result r = {0};
    for (int i = 0; i < rows; i++)
        r.correct += nt_argmax(p + (size_t)i * C, C) == y[row0 + i];
    float loss = nt_net_backward_rows(part, y + row0, rows, B, k == 0 ? l2 : 0.0f);
    r.loss_sum = (double)loss * rows;
    return r;
}

void nt_shards_sum(nt_shards *s, int active, size_t lo, size_t hi)
{
    assert(s && active >= 1 && active <= s->n && hi <= s->net->n_params);
    float *restrict g = s->net->grads;
    for (int k = 1; k < active; k++) {
        const float *restrict gk = s->rep[k].grads;
        #pragma omp simd
        for (size_t i = lo; i < hi; i++) g[i] += gk[i];
    }
}

// Parameters are summed, then updated, a chunk at a time, so the update
// reads the sum while it is still in cache
#define UPDATE_CHUNK 4096

float nt_shards_step(nt_shards *s, const float *x, const int32_t *y, int B,
                     float l2, nt_rng *rng, size_t *correct, const nt_shard_hooks *h)
{
    assert(s && s->net && x && y && correct);
    uint64_t seeds[NT_MAX_HIDDEN];
    const uint64_t *drop = nt_net_dropout_seeds(s->net, true, rng, seeds) ? seeds : NULL;
    const int active = nt_shards_active(s, B);
    const size_t P = s->net->n_params;
    nt_shard_result r[NT_MAX_SHARDS];
    double total = 0;

    // one parallel region a step: each thread gathers and runs its blocks,
    // then, after a barrier, sums and updates its slices of the parameters
    #pragma omp parallel num_threads(active) if (active > 1)
    {
        const int t = omp_get_thread_num(), T = omp_get_num_threads();
        for (int k = t; k < active; k += T) {
            if (h && h->gather) {
                int row0, rows;
                nt_shard_rows(B, active, k, &row0, &rows);
                h->gather(h->user, row0, rows);
            }
            r[k] = nt_shard_pass(s, k, x, y, B, l2, drop);
        }
        #pragma omp barrier
        #pragma omp single
        for (int k = 0; k < active; k++) total += r[k].loss_sum;
        // (the single ends with a barrier: every thread sees the total)
        for (int k = t; k < active; k += T) {
            size_t lo = P * (size_t)k / (size_t)active, hi = P * (size_t)(k + 1) / (size_t)active;
            for (size_t c = lo; c < hi; c += UPDATE_CHUNK) {
                size_t e = hi - c < UPDATE_CHUNK ? hi : c + UPDATE_CHUNK;
                nt_shards_sum(s, active, c, e);
                if (h && h->update && isfinite(total)) h->update(h->user, c, e);
            }
        }
    }
    for (int k = 0; k < active; k++) *correct += r[k].correct;
    return (float)(total / B);
}
