/* shards.c - one training step split between threads by the weights' rows. */
#include "nntune/shards.h"

#include <assert.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "nntune/activation.h"
#include "nntune/dense.h"
#include "nntune/dropout.h"
#include "nntune/loss.h"
#include "nntune/metrics.h"

enum { CUT_STEP = 16 };  // inputs are cut at multiples of 16, sparse.h's groups

static void equal_cuts(int in, int n, int *cut)
{
    for (int k = 0; k < n; k++) {
        int i1;
        nt_shard_inputs(in, n, k, &cut[k], &i1);
    }
    cut[n] = in;
}

nt_status nt_shards_init(nt_shards *s, nt_net *net, int n)
{
    assert(s && net && net->params);
    memset(s, 0, sizeof *s);
    if (n < 1 || n > NT_MAX_SHARDS) {
        nt_errorf("shards: %d, must be in 1..%d", n, NT_MAX_SHARDS);
        return NT_ERR_ARG;
    }
    // a net without hidden layers trains in one pass, as it always has
    s->n = net->arch.n_hidden > 0 ? n : 1;
    s->net = net;
    size_t widest = 0;
    for (int l = 0; l < net->n_layers; l++)
        if ((size_t)net->layer[l].out > widest) widest = (size_t)net->layer[l].out;
    for (int k = 1; k < s->n; k++) {
        s->part[k] = nt_alloc((size_t)net->max_batch * widest * sizeof(float));
        s->x[k] = nt_alloc((size_t)net->max_batch * (size_t)net->arch.n_in * sizeof(float));
        if (!s->part[k] || !s->x[k]) {
            nt_errorf("shards: out of memory for %d partial sums of %d x %zu and batches of "
                      "%d x %d", s->n - 1, net->max_batch, widest, net->max_batch,
                      net->arch.n_in);
            nt_shards_free(s);
            return NT_ERR_NOMEM;
        }
        if (nt_sparse_available()) {
            nt_status rc = nt_sparse_init(&s->sparse[k], net->max_batch, net->arch.n_in);
            if (rc != NT_OK) {
                nt_shards_free(s);
                return rc;
            }
        }
    }
    equal_cuts(net->arch.n_in, s->n, s->cut);
    return NT_OK;
}

void nt_shards_free(nt_shards *s)
{
    if (!s) return;
    for (int k = 0; k < NT_MAX_SHARDS; k++) {
        nt_free(s->part[k]);
        nt_free(s->x[k]);
        nt_sparse_free(&s->sparse[k]);
    }
    memset(s, 0, sizeof *s);
}

void nt_shard_rows(int B, int n, int k, int *row0, int *rows)
{
    int base = B / n, extra = B % n;
    *rows = base + (k < extra);
    *row0 = k * base + (k < extra ? k : extra);
}

void nt_shard_inputs(int in, int n, int k, int *i0, int *i1)
{
    assert(in >= 0 && n >= 1 && k >= 0 && k < n);
    long groups = (in + CUT_STEP - 1) / CUT_STEP;
    long g0 = groups * k / n, g1 = groups * (k + 1) / n;
    *i0 = (int)(g0 * CUT_STEP < in ? g0 * CUT_STEP : in);
    *i1 = (int)(g1 * CUT_STEP < in ? g1 * CUT_STEP : in);
}

/* What every shard of one step reads: the step's inputs and what the
 * shards leave for each other between barriers. */
typedef struct {
    nt_shards *s;
    nt_net *net;
    int n, B;
    float *x[NT_MAX_SHARDS];        /* the batch's x each shard reads */
    const int32_t *y;
    const uint64_t *seeds;          /* dropout seeds, NULL: no dropout */
    const nt_shard_hooks *hooks;
    int cut0[NT_MAX_SHARDS + 1];    /* the first layer's input cuts */
    bool sparse;                    /* whether the first layer runs sparse */
    size_t nnz[NT_MAX_SHARDS];      /* non-zero inputs in each shard's columns */
    double loss[NT_MAX_SHARDS];     /* summed cross-entropy of each row block */
    size_t correct[NT_MAX_SHARDS];
} step_state;

static void inputs_of(const step_state *st, int l, int k, int *i0, int *i1)
{
    if (l == 0) {
        *i0 = st->cut0[k];
        *i1 = st->cut0[k + 1];
    } else {
        nt_shard_inputs(st->net->layer[l].in, st->n, k, i0, i1);
    }
}

// Shard k's inputs of the batch, marked (sparse.h)
static nt_sparse *shard_sparse(const step_state *st, int k)
{
    return k == 0 ? &st->net->sparse : &st->s->sparse[k];
}

// The batch's work in inputs [16 g, 16 g + 16) (nt_sparse.group_work),
// whichever shard marked them (the others count 0 there)
static size_t group_work(const step_state *st, int g)
{
    size_t work = 0;
    for (int k = 0; k < st->n; k++) work += (size_t)shard_sparse(st, k)->group_work[g];
    return work;
}

// The next batch's first-layer cuts: the first multiples of CUT_STEP with
// equal shares of this batch's work below them, or equal counts of
// inputs when this batch ran on GEMMs
static void next_cuts(step_state *st)
{
    const int in = st->net->arch.n_in, n = st->n;
    int *cut = st->s->cut;
    equal_cuts(in, n, cut);
    if (!st->sparse) return;
    const int groups = (in + CUT_STEP - 1) / CUT_STEP;
    size_t total = 0;
    for (int g = 0; g < groups; g++) total += group_work(st, g);
    size_t below = 0;  // work in the groups before g
    int k = 1;
    for (int g = 0; g <= groups && k < n; g++) {
        for (; k < n && below >= total * (size_t)k / (size_t)n; k++)
            cut[k] = g * CUT_STEP < in ? g * CUT_STEP : in;
        if (g < groups) below += group_work(st, g);
    }
}

static float *layer_output(const nt_net *net, int l)
{
    return l == net->n_layers - 1 ? nt_net_logits(net) : net->act[l + 1];
}

// Shard k's partial sum of layer l: its inputs' part of x W
static void forward_part(step_state *st, int l, int k)
{
    nt_net *net = st->net;
    const nt_layer *ly = &net->layer[l];
    float *dst = k == 0 ? layer_output(net, l) : st->s->part[k];
    const float *W = net->params + ly->w;
    int i0, i1;
    inputs_of(st, l, k, &i0, &i1);
    if (l == 0 && st->sparse)
        nt_sparse_forward_inputs(dst, shard_sparse(st, k), W, ly->out, i0, i1);
    else
        nt_dense_forward_inputs(dst, l == 0 ? st->x[k] : net->act[l], W, st->B, ly->in,
                                ly->out, i0, i1);
}

// Rows [r0, r0 + rows) of layer l's output: the shards' partial sums added
// up, then bias, activation and dropout (hidden layers) or softmax, loss,
// hits and dL/dlogits into d (the output layer)
static void finish_rows(step_state *st, int l, int k, int r0, int rows, float *d)
{
    nt_net *net = st->net;
    const nt_layer *ly = &net->layer[l];
    const nt_arch *a = &net->arch;
    const int out = ly->out;
    const size_t at = (size_t)r0 * out, len = (size_t)rows * out;
    float *restrict y = layer_output(net, l) + at;
    for (int j = 1; j < st->n; j++) {
        const float *restrict p = st->s->part[j] + at;
        #pragma omp simd
        for (size_t i = 0; i < len; i++) y[i] += p[i];
    }
    const float *b = net->params + ly->b;
    if (l < a->n_hidden) {
        nt_bias_act_forward(y, b, rows, out, a->act);
        if (st->seeds)
            nt_dropout_forward_at(y, net->mask[l] + at, y, len, a->dropout, st->seeds[l], at);
        return;
    }
    nt_bias_forward(y, b, rows, out);
    float *probs = net->act[net->n_layers] + at, *sums = nt_net_softmax_sums(net) + r0;
    nt_softmax_forward_keep(probs, sums, y, rows, out);
    size_t hits = 0;
    for (int i = 0; i < rows; i++)
        hits += nt_argmax(probs + (size_t)i * out, out) == st->y[r0 + i];
    st->correct[k] = hits;
    st->loss[k] = (double)nt_ce_loss_kept(y, sums, st->y + r0, rows, out) * rows;
    nt_softmax_ce_backward_of(d + at, probs, st->y + r0, rows, out, st->B);
}

// Layer l's dW for shard k's rows of W and db for its share of the units
static void grad_part(step_state *st, int l, int k, const float *d)
{
    nt_net *net = st->net;
    const nt_layer *ly = &net->layer[l];
    float *dW = net->grads + ly->w;
    int i0, i1, u0, u1;
    inputs_of(st, l, k, &i0, &i1);
    if (l == 0 && st->sparse)
        nt_sparse_backward_inputs(dW, shard_sparse(st, k), d, ly->out, i0, i1);
    else
        nt_dense_grad_inputs(dW, d, l == 0 ? st->x[k] : net->act[l], st->B, ly->in, ly->out,
                             i0, i1);
    nt_shard_inputs(ly->out, st->n, k, &u0, &u1);
    if (u0 < u1) nt_dense_bias_grad_units(net->grads + ly->b, d, st->B, ly->out, u0, u1);
}

// Rows [r0, r0 + rows) of dx = dL/d(layer l's input) = d W^T, back through
// the dropout and activation of the hidden layer below
static void input_grad_rows(step_state *st, int l, int r0, int rows, const float *d, float *dx)
{
    nt_net *net = st->net;
    const nt_layer *ly = &net->layer[l];
    const nt_arch *a = &net->arch;
    const int in = ly->in;
    const size_t at = (size_t)r0 * in, len = (size_t)rows * in;
    nt_dense_input_grad(dx + at, d + (size_t)r0 * ly->out, net->params + ly->w, rows, in,
                        ly->out);
    if (st->seeds)
        nt_dropout_act_backward(dx + at, dx + at, net->act[l] + at, net->mask[l - 1] + at, len,
                                a->dropout, a->act);
    else
        nt_act_backward(dx + at, dx + at, net->act[l] + at, len, a->act);
}

// Layer l's parameters of shard k through the update hook
static void update_part(step_state *st, int l, int k)
{
    const nt_layer *ly = &st->net->layer[l];
    const nt_shard_hooks *h = st->hooks;
    int i0, i1, u0, u1;
    inputs_of(st, l, k, &i0, &i1);
    if (i0 < i1)
        h->update(h->user, ly->w + (size_t)i0 * ly->out, ly->w + (size_t)i1 * ly->out);
    nt_shard_inputs(ly->out, st->n, k, &u0, &u1);
    if (u0 < u1) h->update(h->user, ly->b + (size_t)u0, ly->b + (size_t)u1);
}

// each thread t of T runs shards t, t + T, ...: the same work whatever T is
#define EACH_SHARD(k) for (int k = t; k < st->n; k += T)

static void step_thread(step_state *st, int t, int T)
{
    nt_net *net = st->net;
    const int n = st->n, B = st->B, L = net->n_layers;
    const nt_shard_hooks *h = st->hooks;

    // each shard gathers and lists its own inputs: the batch stays in the
    // cache of the core that reads it
    const double max_density = net->sparse_max_density;
    if (h && h->gather) {
        EACH_SHARD(k) {
            int r0, rows;
            nt_shard_rows(B, n, k, &r0, &rows);
            h->gather(h->user, st->x[k], st->cut0[k], st->cut0[k + 1], r0, rows);
        }
        // each shard's build reads every row's bytes, which the shards
        // gather by blocks of rows; without a build, a shard's forward
        // reads only what it gathered itself
        if (max_density > 0.0) {
            #pragma omp barrier
        }
    }
    if (max_density > 0.0) {
        EACH_SHARD(k) {
            st->nnz[k] = nt_sparse_build_inputs_rows(shard_sparse(st, k), st->x[k],
                                                     h ? h->rows : NULL, B, st->cut0[k],
                                                     st->cut0[k + 1], max_density);
        }
        #pragma omp barrier
        #pragma omp single
        {
            size_t total = 0;
            for (int k = 0; k < n && total != SIZE_MAX; k++)
                total = st->nnz[k] == SIZE_MAX ? SIZE_MAX : total + st->nnz[k];
            st->sparse = true;
            for (int k = 0; k < n && st->sparse; k++)
                st->sparse = nt_sparse_finish(shard_sparse(st, k), B, total, max_density);
            next_cuts(st);
        }  // (a single ends with a barrier)
    }  // (without a build, nt_shards_step set equal cuts before the step)
    if (h && h->prefetch) EACH_SHARD(k) h->prefetch(h->user, st->s->cut[k], st->s->cut[k + 1]);

    float *d = net->delta[0], *dx = net->delta[1];
    for (int l = 0; l < L; l++) {
        EACH_SHARD(k) forward_part(st, l, k);
        #pragma omp barrier
        EACH_SHARD(k) {
            int r0, rows;
            nt_shard_rows(B, n, k, &r0, &rows);
            if (rows > 0) finish_rows(st, l, k, r0, rows, d);
        }
        #pragma omp barrier
    }

    double total = 0;
    for (int k = 0; k < n; k++) total += st->loss[k];
    const bool update = h && h->update && isfinite(total);
    for (int l = L - 1; l >= 0; l--) {
        EACH_SHARD(k) grad_part(st, l, k, d);
        if (l > 0) {
            EACH_SHARD(k) {
                int r0, rows;
                nt_shard_rows(B, n, k, &r0, &rows);
                if (rows > 0) input_grad_rows(st, l, r0, rows, d, dx);
            }
            // dx is the next layer's d, which its dW reads whole; W and d
            // are read whole above, so only now may d be overwritten and W
            // be updated
            #pragma omp barrier
        }
        if (update) EACH_SHARD(k) update_part(st, l, k);
        float *swap = d;
        d = dx;
        dx = swap;
    }
}

float nt_shards_step(nt_shards *s, float *x, const int32_t *y, int B,
                     nt_rng *rng, size_t *correct, const nt_shard_hooks *hooks)
{
    assert(s && s->net && x && y && correct && B >= 1 && B <= s->net->max_batch);
    nt_net *net = s->net;
    uint64_t seeds[NT_MAX_HIDDEN];
    const bool drop = nt_net_dropout_seeds(net, true, rng, seeds);
    step_state st = {.s = s, .net = net, .n = s->n, .B = B, .y = y,
                     .seeds = drop ? seeds : NULL, .hooks = hooks};
    memcpy(st.cut0, s->cut, sizeof st.cut0);
    if (!(net->sparse_max_density > 0.0)) next_cuts(&st); // equal: no lists to follow
    // gathered, each shard's columns go to a buffer of its own: in one x
    // shared by all, each row's would be cut between the cores (shards.h)
    const bool gathered = hooks && hooks->gather;
    for (int k = 0; k < s->n; k++) st.x[k] = k > 0 && gathered ? s->x[k] : x;
    #pragma omp parallel num_threads(s->n) if (s->n > 1)
    step_thread(&st, omp_get_thread_num(), omp_get_num_threads());
    net->input = x;
    net->last_batch = B;
    net->input_sparse = false;  // the net's own lists hold shard 0's inputs only
    s->ran_sparse = st.sparse;
    double total = 0;
    for (int k = 0; k < s->n; k++) {
        total += st.loss[k];
        *correct += st.correct[k];
    }
    return (float)(total / B);
}
