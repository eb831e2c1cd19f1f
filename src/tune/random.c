/* random.c - random search (Bergstra & Bengio 2012): every coordinate of
 * the cube drawn uniformly, so each parameter follows its declared
 * distribution (log-uniform for log kinds). Trial t draws from its own
 * stream nt_rng_stream(seed, t): its point depends only on (seed, t), not on
 * how many trials were asked before, in what order, or what they scored. */
#include "nntune/strategy.h"

#include <inttypes.h>
#include <stdio.h>

static nt_status random_ask(nt_strategy *st, int trial, double *u, char *why,
                            size_t why_len)
{
    if (trial < 0) {
        nt_errorf("random: trial %d is negative", trial);
        return NT_ERR_ARG;
    }
    const nt_space *s = st->space;
    nt_rng rng = nt_rng_stream(st->opt.seed, (uint64_t)trial);
    for (int d = 0; d < s->dims; d++) u[d] = nt_rng_uniform(&rng);
    if (why && why_len) {
        nt_assignment a;
        nt_space_decode(s, u, &a);
        char vals[400];
        nt_assign_format(s, &a, vals, sizeof vals);
        snprintf(why, why_len, "random point: %d coordinate%s drawn uniformly "
                 "from [0,1) (seed %" PRIu64 ", stream %d), independent of "
                 "earlier results; decoded: %s", s->dims,
                 s->dims == 1 ? "" : "s", st->opt.seed, trial, vals);
    }
    return NT_OK;
}

static nt_status random_tell(nt_strategy *st, int trial, const double *u,
                             double score, bool ok)
{
    return NT_OK; // random search never looks at results
}

static bool random_independent(nt_strategy *st)
{
    (void)st;
    return true; // each point comes from its trial's own stream
}

static void random_free(nt_strategy *st)
{
    st->state = NULL; // no state
}

static const nt_strategy_ops random_ops = {
    .name = "random",
    .ask = random_ask,
    .tell = random_tell,
    .independent = random_independent,
    .free = random_free,
};

nt_status nt_random_create(nt_strategy *st)
{
    st->ops = &random_ops;
    st->state = NULL;
    return NT_OK;
}
