/* train.c - the epoch loop: shuffle (each batch's rows grouped by label),
 * gather, forward, backward, step; validate; early stopping; divergence
 * detection; evaluation. */
#include "nntune/train.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>

#include "nntune/shards.h"

nt_train_config nt_train_defaults(void)
{
    nt_train_config c = {0};
    c.epochs = 20;
    c.batch = 128;
    c.lr = 1e-3;
    c.opt = nt_opt_defaults(NT_OPT_ADAM);
    c.l2 = 0.0f;
    c.schedule = NT_SCHED_CONSTANT;
    c.step_epochs = 5;
    c.gamma = 0.5;
    c.lr_min = 0.0;
    c.warmup_epochs = 0;
    c.patience = 5;
    c.min_delta = 1e-4;
    c.restore_best = true;
    return c;
}

const char *nt_stop_name(nt_stop_reason r)
{
    switch (r) {
    case NT_STOP_EPOCHS: return "epochs";
    case NT_STOP_EARLY: return "early-stop";
    case NT_STOP_DIVERGED: return "diverged";
    case NT_STOP_INTERRUPTED: return "interrupted";
    }
    return "?";
}

void nt_history_free(nt_history *h)
{
    free(h->epoch);
    memset(h, 0, sizeof *h);
}

nt_schedule nt_train_schedule(const nt_train_config *cfg, size_t n_train)
{
    long per_epoch = (long)((n_train + (size_t)cfg->batch - 1) / (size_t)cfg->batch);
    if (per_epoch < 1) per_epoch = 1;
    nt_schedule s = {0};
    s.kind = cfg->schedule;
    s.lr = cfg->lr;
    s.lr_min = cfg->lr_min;
    s.gamma = cfg->gamma;
    s.step_size = lround(cfg->step_epochs * per_epoch);
    if (s.step_size < 1) s.step_size = 1;
    s.warmup = lround(cfg->warmup_epochs * per_epoch);
    s.total_steps = (long)cfg->epochs * per_epoch;
    return s;
}

nt_status nt_train_check(const nt_train_config *cfg, const nt_net *net)
{
    if (cfg->epochs < 1) {
        nt_errorf("epochs must be at least 1 (got %d)", cfg->epochs);
        return NT_ERR_ARG;
    }
    if (cfg->batch < 1 || (net && cfg->batch > net->max_batch)) {
        nt_errorf("batch must be in 1..%d (got %d)", net ? net->max_batch : INT_MAX,
                  cfg->batch);
        return NT_ERR_ARG;
    }
    if (!(cfg->lr > 0) || !isfinite(cfg->lr)) {
        nt_errorf("learning rate must be positive (got %g)", cfg->lr);
        return NT_ERR_ARG;
    }
    if (!(cfg->l2 >= 0) || !isfinite(cfg->l2)) {
        nt_errorf("l2 must be >= 0 (got %g)", (double)cfg->l2);
        return NT_ERR_ARG;
    }
    if (cfg->shards < 0 || cfg->shards > NT_MAX_SHARDS) {
        nt_errorf("shards must be in 0..%d (got %d)", NT_MAX_SHARDS, cfg->shards);
        return NT_ERR_ARG;
    }
    if (cfg->patience < 0) {
        nt_errorf("patience must be >= 0 (got %d)", cfg->patience);
        return NT_ERR_ARG;
    }
    if (cfg->opt.kind == NT_OPT_SGD && !(cfg->opt.momentum >= 0 && cfg->opt.momentum < 1)) {
        nt_errorf("momentum must be in [0, 1) (got %g)", (double)cfg->opt.momentum);
        return NT_ERR_ARG;
    }
    nt_schedule s = nt_train_schedule(cfg, 1000 * (size_t)cfg->batch);
    return nt_schedule_check(&s);
}

nt_status nt_train_optim_init(const nt_train_config *cfg, const nt_net *net, nt_optim *out)
{
    nt_status rc = nt_optim_init(&cfg->opt, net->n_params, out);
    // the L2 term goes into the optimizer's step, not into grads: one pass
    // over the weights fewer a step
    size_t lo[NT_MAX_HIDDEN + 1], hi[NT_MAX_HIDDEN + 1];
    int ranges = nt_net_weight_ranges(net, lo, hi);
    if (rc == NT_OK) rc = nt_optim_set_l2(out, cfg->l2, ranges, lo, hi);
    return rc;
}

/* Everything nt_train allocates, once. */
typedef struct {
    size_t *order;     /* (n_train) positions in the train view, shuffled */
    size_t *grouping;  /* (batch + classes + 1) nt_order_group_by_label's scratch */
    float *xb;         /* (batch, d) gathered inputs */
    int32_t *yb;       /* (batch) gathered labels */
    const uint8_t **rows; /* (batch) the batch's rows as bytes, when the data set has them */
    float *best;       /* (n_params) best weights so far */
    nt_shards shards;  /* the net itself when cfg->shards <= 1 */
    nt_optim opt;
    nt_metrics val;
} train_buffers;

static void buffers_free(train_buffers *b)
{
    free(b->order);
    free(b->grouping);
    nt_free(b->xb);
    nt_free(b->yb);
    free(b->rows);
    nt_free(b->best);
    nt_shards_free(&b->shards);
    nt_optim_free(&b->opt);
    nt_metrics_free(&b->val);
}

static nt_status buffers_init(train_buffers *b, nt_net *net,
                              const nt_train_config *cfg, const nt_view *train)
{
    memset(b, 0, sizeof *b);
    size_t d = train->ds->d;
    b->order = malloc((train->n ? train->n : 1) * sizeof *b->order);
    b->grouping = malloc(((size_t)cfg->batch + (size_t)train->ds->n_classes + 1) *
                         sizeof *b->grouping);
    b->xb = nt_alloc((size_t)cfg->batch * d * sizeof *b->xb);
    b->yb = nt_alloc((size_t)cfg->batch * sizeof *b->yb);
    b->rows = malloc((size_t)cfg->batch * sizeof *b->rows);
    b->best = nt_alloc(net->n_params * sizeof *b->best);
    if (!b->order || !b->grouping || !b->xb || !b->yb || !b->rows || !b->best) {
        nt_errorf("train: out of memory");
        return NT_ERR_NOMEM;
    }
    nt_status rc = nt_train_optim_init(cfg, net, &b->opt);
    if (rc == NT_OK) rc = nt_metrics_init(net->arch.n_out, &b->val);
    if (rc == NT_OK) rc = nt_shards_init(&b->shards, net, cfg->shards > 1 ? cfg->shards : 1);
    return rc;
}

/* A sharded step's own work (nt_shard_hooks): each shard gathers its
 * inputs' columns of the batch and its block of the labels, and puts its
 * slices of the gradient through the optimizer. */
typedef struct {
    train_buffers *b;
    const nt_view *train;
    size_t start;   /* the batch's first position in b->order */
    int B;          /* its rows */
    float lr;
} step_hooks;

static void gather_slice(void *user, float *x, int i0, int i1, int row0, int rows)
{
    step_hooks *h = user;
    nt_view_gather_inputs(h->train, h->b->order, h->start, (size_t)h->B, (size_t)i0,
                          (size_t)i1, x);
    // the labels of its block of rows, and where their bytes are (read by
    // every shard's build, after the step's barrier)
    nt_view_gather_bytes(h->train, h->b->order, h->start + (size_t)row0, (size_t)rows, NULL,
                         h->b->yb + row0, h->b->rows + row0);
}

// the epoch's next batch's rows, if there is one, while this step computes
static void prefetch_next(const nt_view *train, const size_t *order, size_t start, int B,
                          size_t i0, size_t i1)
{
    const size_t next = start + (size_t)B, n = train->n;
    if (next >= n) return;
    const size_t rows = n - next < (size_t)B ? n - next : (size_t)B;
    nt_view_prefetch(train, order, next, rows, i0, i1);
}

static void prefetch_slice(void *user, int i0, int i1)
{
    step_hooks *h = user;
    prefetch_next(h->train, h->b->order, h->start, h->B, (size_t)i0, (size_t)i1);
}

static void update_slice(void *user, size_t lo, size_t hi)
{
    step_hooks *h = user;
    nt_net *net = h->b->shards.net;
    nt_optim_update(&h->b->opt, net->params, net->grads, h->lr, lo, hi);
}

static bool all_finite(const float *p, size_t n)
{
    float acc = 0;
    for (size_t i = 0; i < n; i++) acc += p[i] * 0.0f; // NaN/Inf poison the sum
    return acc == 0.0f;
}

/* Is this epoch better than the best so far by more than min_delta? */
static bool improved(const nt_train_config *cfg, const nt_epoch_stats *e,
                     double best_loss, double best_acc)
{
    if (cfg->monitor_accuracy) return e->val_acc > best_acc + cfg->min_delta;
    return e->val_loss < best_loss - cfg->min_delta;
}

nt_status nt_train(nt_net *net, const nt_train_config *cfg,
                   const nt_view *train, const nt_view *val, nt_rng *rng,
                   nt_epoch_fn on_epoch, void *user, nt_history *hist)
{
    memset(hist, 0, sizeof *hist);
    nt_status rc = nt_train_check(cfg, net);
    if (rc != NT_OK) return rc;
    if (train->n == 0) {
        nt_errorf("train: the training set is empty");
        return NT_ERR_ARG;
    }
    if ((int)train->ds->d != net->arch.n_in) {
        nt_errorf("train: data has %zu features, network expects %d",
                  train->ds->d, net->arch.n_in);
        return NT_ERR_MISMATCH;
    }
    // nt_evaluate would refuse it every epoch, leaving a stale val loss
    if (val && val->n > 0 && (int)val->ds->d != net->arch.n_in) {
        nt_errorf("train: validation data has %zu features, network expects %d",
                  val->ds->d, net->arch.n_in);
        return NT_ERR_MISMATCH;
    }
    train_buffers b;
    rc = buffers_init(&b, net, cfg, train);
    hist->epoch = calloc((size_t)cfg->epochs, sizeof *hist->epoch);
    if (rc != NT_OK || !hist->epoch) {
        buffers_free(&b);
        if (!hist->epoch) nt_errorf("train: out of memory");
        return rc != NT_OK ? rc : NT_ERR_NOMEM;
    }

    // with shards the cores belong to them: BLAS single-threaded inside
    // each (the validation pass gets the caller's BLAS threads back)
    const bool sharded = b.shards.n > 1;
    const int blas_threads = openblas_get_num_threads();
    if (sharded) openblas_set_num_threads(1);
    nt_schedule sched = nt_train_schedule(cfg, train->n);
    size_t n = train->n;
    for (size_t i = 0; i < n; i++) b.order[i] = i;
    memcpy(b.best, net->params, net->n_params * sizeof *b.best);
    double best_loss = INFINITY, best_acc = -INFINITY;
    int since_best = 0;
    long step = 0;
    double t0 = nt_now();
    rc = NT_OK;
    hist->stop = NT_STOP_EPOCHS;

    for (int ep = 1; ep <= cfg->epochs; ep++) {
        nt_rng_shuffle(rng, b.order, n);
        nt_order_group_by_label(train, b.order, n, (size_t)cfg->batch, b.grouping);
        double loss_sum = 0, lr = sched.lr;
        size_t correct = 0;
        for (size_t start = 0; start < n; start += (size_t)cfg->batch) {
            if (cfg->stop && *cfg->stop) {
                hist->stop = NT_STOP_INTERRUPTED;
                break;
            }
            int B = (int)(n - start < (size_t)cfg->batch ? n - start : (size_t)cfg->batch);
            float loss;
            if (sharded) {
                lr = nt_schedule_lr(&sched, step);
                // the step count only matters to steps that follow, and a
                // diverged step (no update) ends training
                nt_optim_next(&b.opt);
                step_hooks sh = {&b, train, start, B, (float)lr};
                // the gather fills b.rows when the data set has bytes
                const bool bytes = train->ds->pixels != NULL;
                nt_shard_hooks hooks = {gather_slice, update_slice, &sh, bytes ? b.rows : NULL,
                                        prefetch_slice};
                loss = nt_shards_step(&b.shards, b.xb, b.yb, B, rng, &correct, &hooks);
            } else {
                // the rows' bytes, where the data set has them, tell the
                // sparse first layer its non-zero inputs in a quarter of the reads
                const bool bytes =
                    nt_view_gather_bytes(train, b.order, start, (size_t)B, b.xb, b.yb, b.rows);
                prefetch_next(train, b.order, start, B, 0, train->ds->d);
                const float *p =
                    nt_net_forward_rows(net, b.xb, bytes ? b.rows : NULL, B, true, rng);
                loss = nt_net_backward(net, b.yb, B, 0.0f);
                for (int i = 0; i < B; i++)
                    correct += nt_argmax(p + (size_t)i * net->arch.n_out, net->arch.n_out) == b.yb[i];
            }
            if (!isfinite(loss)) {
                hist->stop = NT_STOP_DIVERGED;
                nt_errorf("diverged at epoch %d, step %ld: loss is %g "
                          "(learning rate %.3g)", ep, step, (double)loss, lr);
                break;
            }
            loss_sum += (double)loss * B;
            if (!sharded) {
                lr = nt_schedule_lr(&sched, step);
                nt_optim_step(&b.opt, net->params, net->grads, (float)lr);
            }
            step++;
        }
        if (hist->stop == NT_STOP_EPOCHS && !all_finite(net->params, net->n_params)) {
            hist->stop = NT_STOP_DIVERGED;
            nt_errorf("diverged at epoch %d: weights became non-finite "
                      "(learning rate %.3g)", ep, lr);
        }
        if (hist->stop != NT_STOP_EPOCHS) break;

        nt_epoch_stats *e = &hist->epoch[hist->n++];
        e->epoch = ep;
        e->lr = lr;
        e->train_loss = loss_sum / (double)n;
        e->train_acc = (double)correct / (double)n;
        e->val_loss = e->val_acc = NAN;
        if (val && val->n > 0) {
            if (sharded) openblas_set_num_threads(blas_threads);
            nt_evaluate(net, val, &b.val);
            if (sharded) openblas_set_num_threads(1);
            e->val_loss = b.val.loss;
            e->val_acc = b.val.accuracy;
        }
        e->seconds = nt_now() - t0;

        bool have_val = val && val->n > 0;
        if (!have_val || improved(cfg, e, best_loss, best_acc)) {
            if (have_val) {
                best_loss = e->val_loss;
                best_acc = e->val_acc;
            }
            hist->best_epoch = ep;
            since_best = 0;
            memcpy(b.best, net->params, net->n_params * sizeof *b.best);
        } else {
            since_best++;
        }
        if (have_val && !isfinite(e->val_loss)) {
            hist->stop = NT_STOP_DIVERGED;
            nt_errorf("diverged at epoch %d: validation loss is %g", ep, e->val_loss);
            break;
        }
        if (on_epoch && !on_epoch(e, user)) {
            hist->stop = NT_STOP_INTERRUPTED;
            break;
        }
        if (have_val && cfg->patience > 0 && since_best >= cfg->patience) {
            hist->stop = NT_STOP_EARLY;
            break;
        }
    }

    // Never hand back a NaN model: a diverged run keeps its best finished
    // epoch (or its initial weights); early stopping restores the best.
    bool restore = hist->stop == NT_STOP_DIVERGED ||
                   (cfg->restore_best && hist->best_epoch > 0);
    if (restore) memcpy(net->params, b.best, net->n_params * sizeof *b.best);
    if (sharded) openblas_set_num_threads(blas_threads);
    hist->steps = step;
    hist->seconds = nt_now() - t0;
    if (hist->stop == NT_STOP_DIVERGED) rc = NT_ERR_NUMERIC;
    else if (hist->stop == NT_STOP_INTERRUPTED) {
        rc = NT_ERR_INTERRUPTED;
        nt_errorf("training interrupted at epoch %d", hist->n + 1);
    }
    buffers_free(&b);
    return rc;
}

nt_status nt_evaluate(nt_net *net, const nt_view *v, nt_metrics *m)
{
    size_t d = v->ds->d, B = (size_t)net->max_batch;
    if ((int)d != net->arch.n_in) {
        nt_errorf("data has %zu features, the network expects %d", d, net->arch.n_in);
        return NT_ERR_MISMATCH;
    }
    float *xb = nt_alloc(B * d * sizeof *xb);
    int32_t *yb = nt_alloc(B * sizeof *yb);
    const uint8_t **rows = malloc(B * sizeof *rows);
    if (!xb || !yb || !rows) {
        nt_free(xb);
        nt_free(yb);
        free(rows);
        nt_errorf("evaluate: out of memory");
        return NT_ERR_NOMEM;
    }
    nt_metrics_reset(m);
    for (size_t start = 0; start < v->n; start += B) {
        size_t cnt = v->n - start < B ? v->n - start : B;
        const bool bytes = nt_view_gather_bytes(v, NULL, start, cnt, xb, yb, rows);
        const float *p = nt_net_forward_rows(net, xb, bytes ? rows : NULL, (int)cnt, false, NULL);
        nt_metrics_add(m, p, yb, (int)cnt);
    }
    nt_metrics_finish(m);
    nt_free(xb);
    nt_free(yb);
    free(rows);
    return NT_OK;
}
