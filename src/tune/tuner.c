/* tuner.c - the ask / score / tell loop. */
#include "nntune/tuner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nt_study_free(nt_study *s)
{
    free(s->trial);
    memset(s, 0, sizeof *s);
    s->best = -1;
}

void nt_curve_free(nt_curve *c)
{
    free(c->train_loss);
    free(c->val_loss);
    free(c->val_acc);
    memset(c, 0, sizeof *c);
}

void nt_curves_free(nt_curve *c, int n)
{
    for (int i = 0; c && i < n; i++) nt_curve_free(&c[i]);
    free(c);
}

nt_curve nt_curve_alloc(int n)
{
    size_t bytes = (size_t)(n > 0 ? n : 1) * sizeof(float);
    nt_curve c = {n, malloc(bytes), malloc(bytes), malloc(bytes)};
    if (!c.train_loss || !c.val_loss || !c.val_acc) nt_curve_free(&c);
    return c;
}

nt_curve nt_curve_copy(const nt_curve *from)
{
    if (!from || from->n <= 0) return (nt_curve){0};
    nt_curve c = nt_curve_alloc(from->n);
    size_t bytes = (size_t)c.n * sizeof(float);
    if (c.n > 0) {
        memcpy(c.train_loss, from->train_loss, bytes);
        memcpy(c.val_loss, from->val_loss, bytes);
        memcpy(c.val_acc, from->val_acc, bytes);
    }
    return c;
}

nt_curve *nt_curves_copy(const nt_curve *from, int n)
{
    if (!from || n < 1) return NULL;
    nt_curve *c = calloc((size_t)n, sizeof *c);
    for (int i = 0; c && i < n; i++) c[i] = nt_curve_copy(&from[i]);
    return c;
}

nt_status nt_study_add(nt_study *s, const nt_trial *t)
{
    if (s->n == 0 && s->cap == 0) s->best = -1;
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 32;
        nt_trial *bigger = realloc(s->trial, (size_t)cap * sizeof *bigger);
        if (!bigger) {
            nt_errorf("study: out of memory at trial %d", t->trial);
            return NT_ERR_NOMEM;
        }
        s->trial = bigger;
        s->cap = cap;
    }
    s->trial[s->n] = *t;
    if (t->status == NT_OK) {
        if (s->best < 0 || t->score < s->trial[s->best].score) s->best = s->n;
    } else {
        s->failures++;
    }
    s->n++;
    return NT_OK;
}

/* Replay recorded trials through the strategy so its state (grid position,
 * random streams, GP data) is what it was when they ran. */
static nt_status replay(const nt_space *space, nt_strategy *st, const nt_study *study)
{
    double u[NT_MAX_PARAMS];
    for (int i = 0; i < study->n; i++) {
        const nt_trial *t = &study->trial[i];
        nt_status rc = nt_strategy_ask(st, t->trial, u, NULL, 0);
        if (rc != NT_OK && rc != NT_ERR_EXHAUSTED) return rc;
        rc = nt_strategy_tell(st, t->trial, t->u, t->score, t->status == NT_OK);
        if (rc != NT_OK) return rc;
    }
    (void)space;
    return NT_OK;
}

nt_status nt_tune(const nt_space *space, nt_strategy *st, nt_objective_fn f,
                  void *ctx, const nt_tuner_config *cfg, nt_study *study)
{
    if (cfg->trials < 1) {
        nt_errorf("--trials must be at least 1 (got %d)", cfg->trials);
        return NT_ERR_ARG;
    }
    if (study->n == 0) study->best = -1;
    nt_status rc = replay(space, st, study);
    if (rc != NT_OK) return rc;
    int max_fail = cfg->max_failures_in_row > 0 ? cfg->max_failures_in_row : 10;
    int in_row = 0;
    double t0 = nt_now() - study->seconds;
    const int width = cfg->score_batch && cfg->batch > 1
                          ? (cfg->batch < NT_MAX_BATCH ? cfg->batch : NT_MAX_BATCH) : 1;
    nt_trial batch[NT_MAX_BATCH];
    study->ended = "trials";
    for (int next = study->n; next < cfg->trials;) {
        if (cfg->stop && *cfg->stop) {
            study->ended = "stopped";
            break;
        }
        if (cfg->time_budget > 0 && nt_now() - t0 >= cfg->time_budget) {
            study->ended = "time budget";
            break;
        }
        // the next trial, and after it those the strategy would choose the
        // same without its result
        int n = 0;
        bool exhausted = false;
        while (n < width && next + n < cfg->trials &&
               (n == 0 || nt_strategy_next_independent(st))) {
            nt_trial *t = &batch[n];
            memset(t, 0, sizeof *t);
            t->trial = next + n;
            rc = nt_strategy_ask(st, t->trial, t->u, t->why, sizeof t->why);
            if (rc == NT_ERR_EXHAUSTED) {
                exhausted = true;
                break;
            }
            if (rc != NT_OK) return rc;
            nt_space_decode(space, t->u, &t->values);
            n++;
        }
        if (n == 0) {
            study->ended = "grid exhausted";
            rc = NT_OK;
            break;
        }
        double ts = nt_now();
        nt_clear_error();
        int scored = n;
        rc = n == 1 ? f(ctx, space, &batch[0]) : cfg->score_batch(ctx, space, batch, n, &scored);
        if (n == 1) scored = rc == NT_ERR_INTERRUPTED ? 0 : 1;
        double seconds = (nt_now() - ts) / n;
        bool stopped = rc == NT_ERR_INTERRUPTED;
        for (int b = 0; b < n; b++) {
            nt_trial *t = &batch[b];
            t->seconds = seconds;
            t->finished = nt_now() - t0;
            if (b >= scored) {  // a stop request cut it short, or it never ran
                if (t->folds_done && cfg->on_interrupted)
                    cfg->on_interrupted(t, -1, cfg->user);
                nt_curves_free(t->curves, t->n_folds);
                continue;
            }
            if (rc != NT_OK && !stopped) { // an objective error is the trial's failure
                t->status = rc;
                snprintf(t->reason, sizeof t->reason, "%s", nt_last_error());
            }
            if (t->status != NT_OK) t->score = t->metric = t->metric_std = NAN;
            nt_status trc = nt_strategy_tell(st, t->trial, t->u, t->score, t->status == NT_OK);
            if (trc == NT_OK) trc = nt_study_add(study, t);
            if (trc != NT_OK) {
                for (int c = b; c < n; c++) nt_curves_free(batch[c].curves, batch[c].n_folds);
                return trc;
            }
            nt_trial *added = &study->trial[study->n - 1];
            if (cfg->on_trial) cfg->on_trial(added, study->best, cfg->user);
            // the curves are for the journal line only; a study keeps scores
            nt_curves_free(added->curves, added->n_folds);
            added->curves = NULL;
            // a batch's trials all ran: each is recorded, then the count stops it
            in_row = t->status == NT_OK ? 0 : in_row + 1;
        }
        rc = NT_OK;
        if (stopped) {
            study->ended = "stopped";
            break;
        }
        if (in_row >= max_fail) {
            study->ended = "too many failures";
            break;
        }
        next += n;
        if (exhausted) {
            study->ended = "grid exhausted";
            break;
        }
    }
    study->seconds = nt_now() - t0;
    return NT_OK;
}
