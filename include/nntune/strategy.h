/* strategy.h - one ask/tell interface for every search strategy.
 * A strategy sees points in [0,1]^dims and scores to MINIMIZE, never a
 * network: the tuner decodes points through the space and turns "higher is
 * better" metrics into scores to minimize.
 *
 *   ask(trial)  -> a point u, plus a sentence on why it was chosen
 *   tell(trial, u, score, ok)
 *
 * A strategy may be asked for several trials before their results are told
 * (parallel trials); it must not propose the same pending point twice.
 * Given the same seed and the same sequence of ask/tell calls, a strategy
 * proposes the same points (this is how a study is resumed: its journal is
 * replayed through ask/tell). A failed trial (ok = false, score ignored) is
 * remembered as failed, never scored as 0. */
#ifndef NNTUNE_STRATEGY_H
#define NNTUNE_STRATEGY_H

#include "nntune/space.h"

/* bayes: model trials proposed together (nt_strategy_options.batch), at
 * most; also the bound of --bayes-batch */
#define NT_MAX_BAYES_BATCH 16

typedef struct {
    int grid_points;      /* grid: values per real/int range (default 3) */
    int initial_points;   /* bayes: space-filling design size (0 = default) */
    int candidates;       /* bayes: EI candidates (0 = default 2048) */
    int restarts;         /* bayes: kernel fit starts (0 = default) */
    int batch;            /* bayes: model trials proposed together, each
                             blind to its batch's earlier results, so they
                             can train side by side (0 = default 1) */
    uint64_t seed;
} nt_strategy_options;

typedef struct nt_strategy nt_strategy;

typedef struct {
    const char *name;
    /* Propose the point for `trial` into u (dims). NT_ERR_EXHAUSTED when
     * there is nothing left (the grid is done). `why` (may be NULL) gets a
     * sentence a learner can follow. */
    nt_status (*ask)(nt_strategy *st, int trial, double *u, char *why,
                     size_t why_len);
    /* Report a result: the score (to minimize) when ok, or a failure. */
    nt_status (*tell)(nt_strategy *st, int trial, const double *u,
                      double score, bool ok);
    /* Would the next ask propose the same point (and give the same why)
     * whether or not the pending trials' results were told first? Then the
     * tuner may score it alongside them (a batch, on more cores). Grid and
     * random: always; bayes: while in its initial design, and after it for
     * all but the first trial of each batch of opt.batch. */
    bool (*independent)(nt_strategy *st);
    void (*free)(nt_strategy *st);
} nt_strategy_ops;

struct nt_strategy {
    const nt_strategy_ops *ops;
    const nt_space *space;      /* borrowed; must outlive the strategy */
    nt_strategy_options opt;
    void *state;                /* owned by the strategy's implementation */
};

/* Create "grid", "random" or "bayes" over a space (borrowed).
 * NT_ERR_ARG for an unknown name or options it cannot use. */
nt_status nt_strategy_create(const char *name, const nt_space *space,
                             const nt_strategy_options *opt, nt_strategy **out);
/* Free; NULL is a no-op. */
void nt_strategy_free(nt_strategy *st);

static inline nt_status nt_strategy_ask(nt_strategy *st, int trial, double *u,
                                        char *why, size_t why_len)
{
    return st->ops->ask(st, trial, u, why, why_len);
}
static inline bool nt_strategy_next_independent(nt_strategy *st)
{
    return st->ops->independent && st->ops->independent(st);
}

static inline nt_status nt_strategy_tell(nt_strategy *st, int trial,
                                         const double *u, double score, bool ok)
{
    return st->ops->tell(st, trial, u, score, ok);
}

/* Implementations, called by nt_strategy_create; each fills st->ops and
 * st->state. */
nt_status nt_grid_create(nt_strategy *st);
nt_status nt_random_create(nt_strategy *st);
nt_status nt_bayes_create(nt_strategy *st);

/* Grid only: total number of points (product of option counts over active
 * combinations), for progress and --explain. */
long nt_grid_size(const nt_space *space, int grid_points);

#endif
