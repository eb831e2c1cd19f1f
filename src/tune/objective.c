/* objective.c - hyperparameters -> network and training settings, and the
 * stratified k-fold cross-validated score of one trial. */
#include "nntune/objective.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nntune/net.h"

static const char *const KNOWN[] = {
    "lr", "batch", "layers", "units", "act", "dropout", "optimizer",
    "momentum", "nesterov", "l2", "schedule", "warmup", "gamma",
    "step_epochs", "lr_min", "epochs", "patience",
};

const char *nt_metric_name(nt_metric m)
{
    switch (m) {
    case NT_METRIC_ACCURACY: return "accuracy";
    case NT_METRIC_LOSS: return "loss";
    case NT_METRIC_F1: return "f1";
    }
    return "?";
}

int nt_metric_parse(const char *s)
{
    for (int m = 0; m <= NT_METRIC_F1; m++)
        if (!strcmp(s, nt_metric_name((nt_metric)m))) return m;
    return -1;
}

double nt_metric_score(nt_metric m, double value)
{
    return m == NT_METRIC_LOSS ? value : 1.0 - value;
}

/* The lowest and highest numbers a parameter can take. */
static void param_range(const nt_param *p, double *lo, double *hi)
{
    if (p->kind == NT_P_FIXED) {
        *lo = *hi = p->fixed_num;
    } else if (p->kind == NT_P_CHOICE) {
        *lo = INFINITY;
        *hi = -INFINITY;
        for (int i = 0; i < p->n_choices; i++) {
            *lo = fmin(*lo, p->choice_num[i]);
            *hi = fmax(*hi, p->choice_num[i]);
        }
    } else {
        *lo = p->lo;
        *hi = p->hi;
    }
}

typedef struct {
    const char *name;
    double lo, hi;     /* allowed closed range */
    bool integer;
} num_rule;

static const num_rule RULES[] = {
    {"lr", 1e-12, 1e3, false},     {"batch", 1, 65536, true},
    {"layers", 0, NT_MAX_HIDDEN, true}, {"units", 1, 65536, true},
    {"dropout", 0, 0.99, false},   {"momentum", 0, 0.999999, false},
    {"nesterov", 0, 1, true},      {"l2", 0, 10, false},
    {"warmup", 0, 1e6, false},     {"gamma", 1e-6, 1, false},
    {"step_epochs", 1e-3, 1e6, false}, {"lr_min", 0, 1e3, false},
    {"epochs", 1, 100000, true},   {"patience", 0, 100000, true},
};

/* Words a parameter may take, NULL-terminated; NULL for numeric ones. */
static bool word_ok(const char *name, const char *w)
{
    if (!strcmp(name, "act")) return nt_act_parse(w) >= 0;
    if (!strcmp(name, "optimizer")) return nt_opt_parse(w) >= 0;
    if (!strcmp(name, "schedule")) return nt_sched_parse(w) >= 0;
    if (!strcmp(name, "nesterov")) return !strcmp(w, "true") || !strcmp(w, "false");
    return false;
}

static bool is_word_param(const char *name)
{
    return !strcmp(name, "act") || !strcmp(name, "optimizer") || !strcmp(name, "schedule");
}

static nt_status check_param(const nt_param *p)
{
    bool known = false;
    for (size_t i = 0; i < sizeof KNOWN / sizeof KNOWN[0]; i++)
        known |= !strcmp(p->name, KNOWN[i]);
    if (!known) {
        nt_errorf("%s: unknown hyperparameter '%s' (known: lr, batch, layers, "
                  "units, act, dropout, optimizer, momentum, nesterov, l2, "
                  "schedule, warmup, gamma, step_epochs, lr_min, epochs, "
                  "patience)", p->where, p->name);
        return NT_ERR_ARG;
    }
    bool words = is_word_param(p->name) ||
                 (!strcmp(p->name, "nesterov") &&
                  (p->kind == NT_P_CHOICE || p->kind == NT_P_FIXED) && !p->numeric);
    if (words) {
        if (p->kind != NT_P_CHOICE && p->kind != NT_P_FIXED) {
            nt_errorf("%s: '%s' takes words, use choice(...) or a fixed value", p->where, p->name);
            return NT_ERR_ARG;
        }
        int n = p->kind == NT_P_CHOICE ? p->n_choices : 1;
        for (int i = 0; i < n; i++) {
            const char *w = p->kind == NT_P_CHOICE ? p->choice[i] : p->fixed;
            if (!word_ok(p->name, w)) {
                nt_errorf("%s: '%s' cannot be '%s'", p->where, p->name, w);
                return NT_ERR_ARG;
            }
        }
        return NT_OK;
    }
    if ((p->kind == NT_P_CHOICE || p->kind == NT_P_FIXED) && !p->numeric) {
        nt_errorf("%s: '%s' takes numbers, got '%s'", p->where, p->name,
                  p->kind == NT_P_FIXED ? p->fixed : p->choice[0]);
        return NT_ERR_ARG;
    }
    for (size_t i = 0; i < sizeof RULES / sizeof RULES[0]; i++) {
        const num_rule *r = &RULES[i];
        if (strcmp(r->name, p->name)) continue;
        double lo, hi;
        param_range(p, &lo, &hi);
        if (lo < r->lo || hi > r->hi) {
            nt_errorf("%s: '%s' must stay within [%g, %g] (got %g..%g)", p->where, p->name,
                      r->lo, r->hi, lo, hi);
            return NT_ERR_ARG;
        }
        if (r->integer && (p->kind == NT_P_UNIFORM || p->kind == NT_P_LOGUNIFORM)) {
            nt_errorf("%s: '%s' is an integer: use int(...) or choice(...)", p->where, p->name);
            return NT_ERR_ARG;
        }
    }
    return NT_OK;
}

nt_status nt_objective_check_space(const nt_space *s)
{
    for (int i = 0; i < s->n; i++) {
        nt_status rc = check_param(&s->p[i]);
        if (rc != NT_OK) return rc;
    }
    return NT_OK;
}

nt_status nt_hparams_apply(const nt_space *s, const nt_assignment *a,
                           nt_arch *arch, nt_train_config *cfg)
{
    const char *w;
    cfg->lr = nt_assign_num(s, a, "lr", cfg->lr);
    cfg->batch = (int)lround(nt_assign_num(s, a, "batch", cfg->batch));
    int layers = (int)lround(nt_assign_num(s, a, "layers", arch->n_hidden));
    int units = arch->n_hidden > 0 ? arch->hidden[0] : 128;
    units = (int)lround(nt_assign_num(s, a, "units", units));
    if (nt_space_find(s, "layers") >= 0 || nt_space_find(s, "units") >= 0) {
        arch->n_hidden = layers;
        for (int i = 0; i < layers; i++) arch->hidden[i] = units;
    }
    if ((w = nt_assign_str(s, a, "act", NULL))) arch->act = (nt_act)nt_act_parse(w);
    arch->dropout = (float)nt_assign_num(s, a, "dropout", arch->dropout);
    if ((w = nt_assign_str(s, a, "optimizer", NULL))) {
        cfg->opt = nt_opt_defaults((nt_opt_kind)nt_opt_parse(w));
    }
    if (cfg->opt.kind == NT_OPT_SGD) {
        cfg->opt.momentum = (float)nt_assign_num(s, a, "momentum", cfg->opt.momentum);
        w = nt_assign_str(s, a, "nesterov", NULL);
        if (w) cfg->opt.nesterov = !strcmp(w, "true") || !strcmp(w, "1");
    }
    cfg->l2 = (float)nt_assign_num(s, a, "l2", cfg->l2);
    if ((w = nt_assign_str(s, a, "schedule", NULL)))
        cfg->schedule = (nt_sched_kind)nt_sched_parse(w);
    cfg->warmup_epochs = nt_assign_num(s, a, "warmup", cfg->warmup_epochs);
    cfg->gamma = nt_assign_num(s, a, "gamma", cfg->gamma);
    cfg->step_epochs = nt_assign_num(s, a, "step_epochs", cfg->step_epochs);
    cfg->lr_min = nt_assign_num(s, a, "lr_min", cfg->lr_min);
    cfg->epochs = (int)lround(nt_assign_num(s, a, "epochs", cfg->epochs));
    cfg->patience = (int)lround(nt_assign_num(s, a, "patience", cfg->patience));
    if (cfg->lr_min >= cfg->lr) cfg->lr_min = 0; // a floor above the peak means none
    return nt_arch_check(arch);
}

nt_status nt_cv_init(nt_cv *cv)
{
    nt_view all = nt_view_all(cv->train);
    if (cv->folds < 2 || cv->folds > NT_MAX_FOLDS) {
        nt_errorf("--folds must be in 2..%d (got %d)", NT_MAX_FOLDS, cv->folds);
        return NT_ERR_ARG;
    }
    nt_rng rng = nt_rng_stream(cv->seed, 0x6b666f6c64ULL); // "kfold"
    return nt_kfold_make(&all, cv->folds, &rng, &cv->kf);
}

void nt_cv_free(nt_cv *cv)
{
    nt_kfold_free(&cv->kf);
}

/* What one fold produced. */
typedef struct {
    nt_status status;
    char reason[200];
    double metric;
    int best_epoch, ran;
    nt_curve curve;               /* owned until moved into the trial */
} fold_result;

/* Passes a fold's epochs on to the caller's progress callback. */
typedef struct {
    const nt_cv *cv;
    int trial, fold;
} fold_progress;

static bool fold_epoch(const nt_epoch_stats *s, void *user)
{
    const fold_progress *fp = user;
    fp->cv->on_epoch(fp->trial, fp->fold, s, fp->cv->user);
    return true;
}

/* The history's per-epoch losses as a curve. */
static nt_curve curve_of(const nt_history *h)
{
    nt_curve c = nt_curve_alloc(h->n);
    for (int e = 0; e < c.n; e++) {
        c.train_loss[e] = (float)h->epoch[e].train_loss;
        c.val_loss[e] = (float)h->epoch[e].val_loss;
        c.val_acc[e] = (float)h->epoch[e].val_acc;
    }
    return c;
}

/* The one of cv->resume that is this very trial (number and point), else
 * NULL. */
static const nt_trial *resumed(const nt_cv *cv, const nt_space *space, const nt_trial *t)
{
    for (int i = 0; i < cv->n_resume; i++) {
        const nt_trial *r = &cv->resume[i];
        if (r->trial != t->trial || r->n_folds != cv->folds) continue;
        bool same = true;
        for (int d = 0; d < space->dims && same; d++) same = r->u[d] == t->u[d];
        if (same) return r;
    }
    return NULL;
}

/* Fold f as a cut-short run of this trial finished it. */
static void fold_from(const nt_trial *r, int f, fold_result *out)
{
    memset(out, 0, sizeof *out);
    out->status = NT_OK;
    out->metric = r->fold_metric[f];
    out->best_epoch = r->fold_epochs[f];
    out->ran = r->fold_ran[f];
    out->curve = nt_curve_copy(r->curves ? &r->curves[f] : NULL);
}

/* A stop request cut the trial short: keep the finished folds' figures and
 * curves in it (t->folds_done) for the caller, free the rest. */
static void keep_finished(const nt_cv *cv, nt_trial *t, fold_result *res)
{
    t->folds_done = 0;
    t->curves = calloc((size_t)(cv->folds > 0 ? cv->folds : 1), sizeof *t->curves);
    for (int f = 0; f < cv->folds; f++) {
        if (res[f].status == NT_OK) {
            t->folds_done |= 1u << f;
            t->fold_metric[f] = res[f].metric;
            t->fold_epochs[f] = res[f].best_epoch;
            t->fold_ran[f] = res[f].ran;
        } else {
            t->fold_metric[f] = NAN;
        }
        if (t->curves && res[f].status == NT_OK) t->curves[f] = res[f].curve;
        else nt_curve_free(&res[f].curve);
    }
}

/* Train on fold f's training part (minus an early-stopping slice) and
 * score on its validation part. */
static void run_fold(const nt_cv *cv, const nt_arch *arch,
                     const nt_train_config *cfg, int trial, int f,
                     fold_result *out)
{
    nt_view all = nt_view_all(cv->train);
    nt_view fit = nt_kfold_train(&cv->kf, &all, f);
    nt_view held = nt_kfold_val(&cv->kf, &all, f);
    nt_index fit_idx = {0}, es_idx = {0};
    nt_net net = {0};
    nt_history hist = {0};
    nt_metrics m = {0};
    uint64_t stream = (uint64_t)trial * 64 + (uint64_t)f;
    nt_rng split_rng = nt_rng_stream(cv->seed ^ 0x5157ULL, stream);
    nt_rng init_rng = nt_rng_stream(cv->seed ^ 0x1417ULL, stream);
    nt_rng train_rng = nt_rng_stream(cv->seed ^ 0x7a11ULL, stream);
    nt_view fit_v = fit, es_v = {0};
    nt_status rc = NT_OK;
    if (cv->es_frac > 0) {
        rc = nt_split_stratified(&fit, cv->es_frac, &split_rng, &fit_idx, &es_idx);
        fit_v = nt_view_of(cv->train, &fit_idx);
        es_v = nt_view_of(cv->train, &es_idx);
    }
    int max_batch = cfg->batch > 256 ? cfg->batch : 256;
    if (rc == NT_OK) rc = nt_net_init(arch, max_batch, &init_rng, &net);
    fold_progress fp = {cv, trial, f};
    if (rc == NT_OK)
        rc = nt_train(&net, cfg, &fit_v, es_v.n ? &es_v : NULL, &train_rng,
                      cv->on_epoch ? fold_epoch : NULL, &fp, &hist);
    if (rc == NT_OK) rc = nt_metrics_init(cv->train->n_classes, &m);
    if (rc == NT_OK) rc = nt_evaluate(&net, &held, &m);
    out->status = rc;
    out->reason[0] = '\0';
    if (rc != NT_OK) snprintf(out->reason, sizeof out->reason, "%s", nt_last_error());
    // a fold that failed has no metric: never score it 0 (m is zeroed then)
    out->metric = rc != NT_OK                        ? NAN
                  : cv->metric == NT_METRIC_ACCURACY ? m.accuracy
                  : cv->metric == NT_METRIC_LOSS     ? m.loss
                                                     : m.macro_f1;
    if (rc == NT_OK && !isfinite(out->metric)) {
        out->status = NT_ERR_NUMERIC;
        snprintf(out->reason, sizeof out->reason, "validation %s is %g",
                 nt_metric_name(cv->metric), out->metric);
    }
    out->best_epoch = hist.best_epoch;
    out->ran = hist.n;
    out->curve = curve_of(&hist);
    nt_metrics_free(&m);
    nt_history_free(&hist);
    nt_net_free(&net);
    nt_index_free(&fit_idx);
    nt_index_free(&es_idx);
}

/* A trial's network and settings; false (the trial failed, nothing to
 * train) when the point gives impossible ones. */
static bool trial_settings(const nt_cv *cv, const nt_space *space, nt_trial *t,
                           nt_arch *arch, nt_train_config *cfg)
{
    *arch = cv->base_arch;
    *cfg = cv->base;
    cfg->stop = NULL; // a fold in progress always finishes (see below)
    t->n_folds = cv->folds;
    nt_status rc = nt_hparams_apply(space, &t->values, arch, cfg);
    if (rc == NT_OK) rc = nt_train_check(cfg, NULL);
    if (rc == NT_OK) return true;
    t->status = rc;
    snprintf(t->reason, sizeof t->reason, "%s", nt_last_error());
    t->metric = t->metric_std = t->score = NAN;
    for (int f = 0; f < cv->folds; f++) t->fold_metric[f] = NAN; // none ran
    return false;
}

/* Every fold finished: the trial's mean, std and score from them. */
static void score_trial(const nt_cv *cv, nt_trial *t, fold_result *res)
{
    t->curves = calloc((size_t)(cv->folds > 0 ? cv->folds : 1), sizeof *t->curves);
    for (int f = 0; f < cv->folds; f++) {
        if (t->curves) t->curves[f] = res[f].curve;
        else nt_curve_free(&res[f].curve);
    }
    double sum = 0;
    t->status = NT_OK;
    for (int f = 0; f < cv->folds; f++) {
        if (res[f].status != NT_OK && t->status == NT_OK) {
            t->status = res[f].status;
            snprintf(t->reason, sizeof t->reason, "fold %d: %s", f + 1, res[f].reason);
        }
        t->fold_metric[f] = res[f].metric;
        t->fold_epochs[f] = res[f].best_epoch;
        t->fold_ran[f] = res[f].ran;
        sum += res[f].metric;
    }
    if (t->status != NT_OK) {
        t->metric = t->metric_std = t->score = NAN;
        return;
    }
    t->metric = sum / cv->folds;
    double ss = 0;
    for (int f = 0; f < cv->folds; f++)
        ss += (t->fold_metric[f] - t->metric) * (t->fold_metric[f] - t->metric);
    t->metric_std = sqrt(ss / cv->folds); // population std, as cv_results_
    t->score = nt_metric_score(cv->metric, t->metric);
}

/* A fold's cost, roughly: its epochs times the network's parameters, each
 * weight one multiply-add per sample (the rows and the batch size are the
 * batch's trials' alike or matter less). */
static double fold_cost(const nt_arch *a, const nt_train_config *c)
{
    return (double)nt_arch_n_params(a) * c->epochs;
}

/* The order a batch's trials start in: by fold cost, the costliest first,
 * and in trial order among equals. The last folds to start are then the
 * cheapest, so the cores finish the batch close together: in trial order,
 * a grid whose wide networks come last left one core idle for most of a
 * wide fold at the end of each batch (benchmarks/README.md item 28). */
static void batch_order(const nt_arch *arch, const nt_train_config *cfg, int n, int *order)
{
    double cost[NT_MAX_BATCH];
    for (int i = 0; i < n; i++) {
        cost[i] = fold_cost(&arch[i], &cfg[i]);
        order[i] = i;
    }
    for (int i = 1; i < n; i++) // insertion sort: stable, and n <= NT_MAX_BATCH
        for (int p = i; p > 0 && cost[order[p]] > cost[order[p - 1]]; p--) {
            int swap = order[p];
            order[p] = order[p - 1];
            order[p - 1] = swap;
        }
}

nt_status nt_cv_objective(void *ctx, const nt_space *space, nt_trial *t)
{
    int scored;
    return nt_cv_objective_batch(ctx, space, t, 1, &scored);
}

nt_status nt_cv_objective_batch(void *ctx, const nt_space *space, nt_trial *t, int n,
                                int *scored)
{
    nt_cv *cv = ctx;
    if (n < 1 || n > NT_MAX_BATCH) {
        nt_errorf("cross-validation: a batch of %d trials, must be 1..%d", n, NT_MAX_BATCH);
        return NT_ERR_ARG;
    }
    const int k = cv->folds, total = n * k;
    nt_arch arch[NT_MAX_BATCH];
    nt_train_config cfg[NT_MAX_BATCH];
    bool runs[NT_MAX_BATCH];
    const nt_trial *prior[NT_MAX_BATCH];
    fold_result (*res)[NT_MAX_FOLDS] = calloc((size_t)n, sizeof *res);
    if (!res) {
        nt_errorf("cross-validation: out of memory");
        return NT_ERR_NOMEM;
    }
    // a fold a cut-short run of the same trial finished is taken as it was
    for (int i = 0; i < n; i++) {
        runs[i] = trial_settings(cv, space, &t[i], &arch[i], &cfg[i]);
        prior[i] = runs[i] ? resumed(cv, space, &t[i]) : NULL;
        for (int f = 0; prior[i] && f < k; f++)
            if (prior[i]->folds_done >> f & 1u) fold_from(prior[i], f, &res[i][f]);
    }
    // The batch's folds, trial by trial, go to `jobs` threads, the costliest
    // trials first (batch_order). Folds are independent: each has its own
    // data view, network and RNG streams, so running them side by side, in
    // any order, gives the same numbers. A stop request lets the folds in
    // progress finish and starts no other.
    int order[NT_MAX_BATCH], next = 0, started = 0;
    batch_order(arch, cfg, n, order);
    const int jobs = cv->jobs < 1 ? 1 : cv->jobs;
#pragma omp parallel num_threads(jobs) if (jobs > 1)
    for (;;) {
        int j;
#pragma omp critical(nt_cv_next_fold)
        {
            j = next < total && !(cv->stop && *cv->stop) ? next++ : total;
            if (j < total) started = j + 1;
        }
        if (j >= total) break;
        int i = order[j / k], f = j % k;
        if (!runs[i] || (prior[i] && (prior[i]->folds_done >> f & 1u))) continue;
        run_fold(cv, &arch[i], &cfg[i], t[i].trial, f, &res[i][f]);
    }
    // Fold f of trial i started when its place in the order came before
    // `started`; a fold a resumed trial had already finished counts as
    // started. The trials whose folds all started, up to the first that is
    // not whole, are scored; every later one keeps its finished folds
    // (t->folds_done), for the caller to keep as well.
    int place[NT_MAX_BATCH];
    for (int p = 0; p < n; p++) place[order[p]] = p;
    *scored = 0;
    nt_status rc = NT_OK;
    for (int i = 0; i < n; i++) {
        bool whole = true;
        for (int f = 0; f < k; f++)
            if (place[i] * k + f >= started && !(prior[i] && (prior[i]->folds_done >> f & 1u))) {
                res[i][f].status = NT_ERR_INTERRUPTED; // never ran
                whole = false;
            }
        if (whole && rc == NT_OK) {
            if (runs[i]) score_trial(cv, &t[i], res[i]);
            (*scored)++;
            continue;
        }
        if (runs[i]) {
            keep_finished(cv, &t[i], res[i]);
        } else {
            for (int f = 0; f < k; f++) nt_curve_free(&res[i][f].curve);
        }
        rc = NT_ERR_INTERRUPTED;
    }
    free(res);
    return rc;
}

int nt_cv_refit_epochs(const nt_trial *t)
{
    double sum = 0;
    for (int f = 0; f < t->n_folds; f++) sum += t->fold_epochs[f];
    int e = t->n_folds ? (int)lround(sum / t->n_folds) : 1;
    return e < 1 ? 1 : e;
}
