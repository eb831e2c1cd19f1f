/* bayes.c - Bayesian optimization: a Gaussian process (gp.h) on the told
 * scores, expected improvement maximized over quasi-random candidates and
 * refined by a local pattern search. Reference points: scikit-optimize's
 * gp_minimize and Optuna's GPSampler.
 *
 * Choices made here (a learner may want to know them):
 * - Initial design: the first n_init points known to the strategy (told
 *   plus pending) come from a maximin Latin hypercube (the best of 32 random
 *   ones by smallest pairwise distance), drawn once from the seed's design
 *   stream. n_init = initial_points, or 2*dims + 2 clamped to [5, 20].
 * - Targets: scores above Tukey's upper fence (q3 + 1.5 IQR of the
 *   successful scores) are pulled down to it before the fit, so a few
 *   disastrous trials cannot flatten the differences among good ones.
 * - Inputs: see nt_gp_encode (reals/ints by cube coordinate, choices
 *   one-hot; inactive parameters neutral: 0.5 or all zeros).
 * - Kernel hyperparameters are fitted on the told trials, warm started
 *   from the previous fit plus `restarts` random starts (default 2) from
 *   the trial's stream. Once the model holds more than RESTARTS_UNTIL
 *   points, the random starts are made only when the count is a multiple
 *   of RESTARTS_EVERY: one more point moves the optimum little, and each
 *   start costs O(n^3) per step (Hartmann-6 at 200 trials: 10 ms per
 *   trial with the warm start alone, 30 ms with two random starts every
 *   time). The warm start also keeps the previous fit's L-BFGS curvature
 *   and, as Optuna, stops at a projected gradient below 1e-2 (see gp.c).
 * - Failed trials are never scored 0 (that would make failure look like the
 *   best result and pull the search into it). For the model only, they are
 *   imputed with the worst successful score, as SMAC does for crashed runs,
 *   and fitted like real data: a made-up value the hyperparameters did not
 *   see, next to a real score, forces the near noise-free model to
 *   oscillate. On a 2-D slope that fails past an edge (best point on the
 *   edge), it proposed 1.7 failing points in 24 (mean of 10 seeds), where
 *   leaving failures out of the model proposed 23.9.
 * - Pending trials are constant liars (Ginsbourger et al. 2010): the
 *   posterior is conditioned on each as if it scored the mean of the
 *   successful scores, with noise variance 0.1 (normalized) so a liar next
 *   to a real score bends the model instead of breaking it (4 parallel
 *   trials on Branin: median best 0.41 with it, 0.54 without). Parallel
 *   asks thus spread out.
 * - Batches (batch > 1): after the design, trials come in batches of
 *   `batch`, and each is chosen with its batch's earlier trials counted as
 *   liars, even when their results are already told: the point then does
 *   not depend on the order results arrive in, so the tuner can train the
 *   batch side by side and a study still repeats whatever --jobs is.
 * - Acquisition: EI with xi = 0, as Optuna (xi = 0.01 score standard
 *   deviations, like skopt's default, did worse: Branin median best over
 *   30 seeds 0.43 against 0.40), over
 *   `candidates` (default 2048) Halton points with a random shift plus a
 *   quarter as many Gaussian perturbations of the 5 best trials; the best 5
 *   are refined by coordinate pattern search (choices tried option by
 *   option, so one-hot stays valid; ints move cell by cell). The search
 *   often comes back to a point it has left; an ask remembers the GP's
 *   predictions by their exact inputs (predict_memo), which saved 27% of
 *   the predictions and 6.6% of the ask's time at 200 Hartmann-6 trials,
 *   with every proposal the same (benchmarks/README.md item 36).
 * - A point within 1e-6 (max norm, canonical cube point) of a told or
 *   pending one is never proposed unless every candidate is such a point.
 * Determinism: the design depends on the seed only; an ask draws from
 * nt_rng_stream(seed, STREAM_ASK + trial) and the warm start depends on the
 * previous asks, so the same ask/tell sequence gives the same points. */
#include "nntune/gp.h"
#include "nntune/rng.h"
#include "nntune/strategy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STREAM_DESIGN 0x62617965ULL           /* "baye" */
#define STREAM_ASK 0x6261796573000000ULL      /* "bayes" << 24, + trial */
#define DUP_TOL 1e-6
#define N_BEST 5        /* perturbed and refined starts */
#define ENC_MAX NT_GP_MAX_DIMS
#define LIAR_NOISE 0.1  /* a pending liar's noise variance, normalized */
#define RESTARTS_UNTIL 64   /* random kernel-fit starts at every fit up to */
#define RESTARTS_EVERY 16   /* this many points, then at every 16th count */
#define MEMO_SLOTS 1024     /* predictions an ask remembers (a power of 2) */

typedef struct {
    int trial;
    bool ok;
    double score;
} record;

typedef struct {
    const nt_space *s;
    int dims, enc;               /* cube dims, GP inputs */
    int n_init, n_cand, restarts;
    int batch;                   /* model trials proposed together */
    int next_trial;              /* the trial after the last one asked */
    int hide_lo, hide_hi;        /* during an ask: told trials it must not
                                    see, its batch's earlier ones */
    double *design;              /* (n_init, dims) */
    int n_told, n_pend, cap;     /* records; cap for both lists */
    record *told, *pend;         /* (cap) */
    double *told_u, *pend_u;     /* (cap, dims) canonical cube points */
    double *told_x, *pend_x;     /* (cap, enc) GP inputs */
    double *gx, *gy;             /* (cap, enc), (cap): data handed to the GP */
    double *cand_u, *cand_lei;   /* (n_cand + n_cand/4, dims), (same) */
    double *cand_x, *cand_var;   /* (same, enc) GP inputs, (same) variances */
    double *memo;                /* (MEMO_SLOTS, enc + 2): a GP input, then
                                    its predicted mean and variance */
    unsigned char *memo_used;    /* (MEMO_SLOTS) */
    int memo_n;                  /* slots filled in this ask */
    nt_gp gp;
} bayes;

/* ---- bookkeeping ---- */

// Model trials come in batches of b->batch, counted from the first trial
// after the design: trial t's partners are the earlier trials of its batch.
static int batch_first(const bayes *b, int trial)
{
    if (trial < b->n_init) return trial;
    return trial - (trial - b->n_init) % b->batch;
}

// Whether told record i may inform the current ask (not a partner of it)
static bool seen(const bayes *b, int i)
{
    int t = b->told[i].trial;
    return t < b->hide_lo || t >= b->hide_hi;
}

static nt_status grow(bayes *b, int need)
{
    if (need <= b->cap) return NT_OK;
    int cap = b->cap ? b->cap : 32;
    while (cap < need) cap *= 2;
    size_t c = (size_t)cap, d = (size_t)(b->dims ? b->dims : 1);
    size_t e = (size_t)(b->enc ? b->enc : 1);
    record *told = nt_alloc(c * sizeof *told), *pend = nt_alloc(c * sizeof *pend);
    double *tu = nt_alloc(c * d * sizeof *tu), *pu = nt_alloc(c * d * sizeof *pu);
    double *tx = nt_alloc(c * e * sizeof *tx), *px = nt_alloc(c * e * sizeof *px);
    double *gx = nt_alloc(2 * c * e * sizeof *gx), *gy = nt_alloc(2 * c * sizeof *gy);
    if (!told || !pend || !tu || !pu || !tx || !px || !gx || !gy) {
        nt_free(told); nt_free(pend); nt_free(tu); nt_free(pu);
        nt_free(tx); nt_free(px); nt_free(gx); nt_free(gy);
        nt_errorf("bayes: cannot allocate room for %d trials", cap);
        return NT_ERR_NOMEM;
    }
    if (b->cap) {
        memcpy(told, b->told, (size_t)b->n_told * sizeof *told);
        memcpy(pend, b->pend, (size_t)b->n_pend * sizeof *pend);
        memcpy(tu, b->told_u, (size_t)b->n_told * d * sizeof *tu);
        memcpy(pu, b->pend_u, (size_t)b->n_pend * d * sizeof *pu);
        memcpy(tx, b->told_x, (size_t)b->n_told * e * sizeof *tx);
        memcpy(px, b->pend_x, (size_t)b->n_pend * e * sizeof *px);
    }
    nt_free(b->told); nt_free(b->pend); nt_free(b->told_u); nt_free(b->pend_u);
    nt_free(b->told_x); nt_free(b->pend_x); nt_free(b->gx); nt_free(b->gy);
    b->told = told; b->pend = pend; b->told_u = tu; b->pend_u = pu;
    b->told_x = tx; b->pend_x = px; b->gx = gx; b->gy = gy;
    b->cap = cap;
    return NT_OK;
}

static void drop_pending(bayes *b, int trial)
{
    size_t d = (size_t)b->dims, e = (size_t)b->enc;
    for (int i = 0; i < b->n_pend; i++) {
        if (b->pend[i].trial != trial) continue;
        int last = --b->n_pend;
        b->pend[i] = b->pend[last];
        memmove(b->pend_u + i * d, b->pend_u + last * d, d * sizeof(double));
        memmove(b->pend_x + i * e, b->pend_x + last * e, e * sizeof(double));
        i--;
    }
}

static bool near(const double *a, const double *c, int dims)
{
    for (int j = 0; j < dims; j++)
        if (fabs(a[j] - c[j]) > DUP_TOL) return false;
    return true;
}

// 0: new; 1: a told point; 2: a pending point
static int known(const bayes *b, const double *canon)
{
    size_t d = (size_t)b->dims;
    for (int i = 0; i < b->n_pend; i++)
        if (near(canon, b->pend_u + i * d, b->dims)) return 2;
    for (int i = 0; i < b->n_told; i++)
        if (near(canon, b->told_u + i * d, b->dims)) return 1;
    return 0;
}

/* ---- design and candidates ---- */

// Latin hypercube: coordinate j of point i is (perm_j(i) + U) / n.
static void latin(nt_rng *r, int n, int dims, double *out)
{
    size_t perm[64];
    for (int j = 0; j < dims; j++) {
        for (int i = 0; i < n; i++) perm[i] = (size_t)i;
        nt_rng_shuffle(r, perm, (size_t)n);
        for (int i = 0; i < n; i++)
            out[(size_t)i * dims + j] = ((double)perm[i] + nt_rng_uniform(r)) / n;
    }
}

static double min_pair_dist2(const double *P, int n, int dims)
{
    double best = INFINITY;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < i; k++) {
            double s = 0.0;
            for (int j = 0; j < dims; j++) {
                double t = P[(size_t)i * dims + j] - P[(size_t)k * dims + j];
                s += t * t;
            }
            if (s < best) best = s;
        }
    return best;
}

static void maximin_design(uint64_t seed, int n, int dims, double *out,
                           double *scratch)
{
    nt_rng r = nt_rng_stream(seed, STREAM_DESIGN);
    double best = -1.0;
    for (int t = 0; t < 32; t++) {
        latin(&r, n, dims, scratch);
        double m = min_pair_dist2(scratch, n, dims);
        if (m > best) {
            best = m;
            memcpy(out, scratch, (size_t)n * dims * sizeof *out);
        }
    }
}

static const int primes[NT_MAX_PARAMS] = {
    2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53,
    59, 61, 67, 71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131,
};

static double radical_inverse(uint64_t i, int base)
{
    double f = 1.0, r = 0.0;
    while (i > 0) {
        f /= base;
        r += f * (double)(i % (uint64_t)base);
        i /= (uint64_t)base;
    }
    return r;
}

/* ---- acquisition ---- */

typedef struct {
    double best, xi;     /* original units */
} acq;

/* The GP's predictions at the inputs one ask has scored: the pattern
 * search comes back to points it has left (a step, then the step back;
 * a step clamped at the cube's edge), about a quarter of its predictions
 * at 200 trials. A hit needs the same bits, so it returns exactly what
 * nt_gp_predict would. maximize_ei empties it first, after the ask's
 * fit: the GP does not change while it searches. */
static void memo_clear(bayes *b)
{
    memset(b->memo_used, 0, MEMO_SLOTS);
    b->memo_n = 0;
}

static size_t memo_slot(const bayes *b, const double *x)
{
    uint64_t h = 0;
    for (int j = 0; j < b->enc; j++) {
        uint64_t bits;
        memcpy(&bits, &x[j], sizeof bits);
        h = nt_mix64(h ^ bits);
    }
    return (size_t)(h & (MEMO_SLOTS - 1));
}

// nt_gp_predict at x, or what it gave there before in this ask
static void predict_memo(bayes *b, const double *x, double *mu, double *var)
{
    const size_t w = (size_t)b->enc + 2, bytes = (size_t)b->enc * sizeof *x;
    size_t i = memo_slot(b, x);
    for (; b->memo_used[i]; i = (i + 1) & (MEMO_SLOTS - 1)) {
        const double *e = b->memo + i * w;
        if (memcmp(e, x, bytes) == 0) {
            *mu = e[b->enc];
            *var = e[b->enc + 1];
            return;
        }
    }
    nt_gp_predict(&b->gp, x, mu, var);
    if (b->memo_n >= MEMO_SLOTS / 4 * 3) return;  // full enough: no more
    double *e = b->memo + i * w;
    memcpy(e, x, bytes);
    e[b->enc] = *mu;
    e[b->enc + 1] = *var;
    b->memo_used[i] = 1;
    b->memo_n++;
}

// log EI at cube point u (dims); canonical point into canon; -INFINITY for
// a known point. mu and sd (original units) unless NULL.
static double score_point(bayes *b, const acq *a, const double *u,
                          double *canon, double *mu_out, double *sd_out)
{
    double x[ENC_MAX];
    nt_gp_encode(b->s, u, canon, x);
    if (known(b, canon)) return -INFINITY;
    double mu, var;
    predict_memo(b, x, &mu, &var);
    double sd = sqrt(var);
    if (mu_out) *mu_out = mu;
    if (sd_out) *sd_out = sd;
    return nt_gp_log_ei(mu, sd, a->best, a->xi);
}

// Pattern search from u (canonical) on log EI; u and *lei updated in place.
static void refine(bayes *b, const acq *a, double *u, double *lei)
{
    const nt_space *s = b->s;
    double t[NT_MAX_PARAMS], c[NT_MAX_PARAMS];
    for (double step = 0.1; step >= 1e-3; step *= 0.5) {
        bool improved = true;
        for (int sweep = 0; improved && sweep < 4; sweep++) {
            improved = false;
            for (int i = 0; i < s->n; i++) {
                const nt_param *p = &s->p[i];
                if (p->kind == NT_P_FIXED || !nt_space_active(s, u, i)) continue;
                int dm = p->dim;
                int tries = p->kind == NT_P_CHOICE ? p->n_choices : 2;
                for (int k = 0; k < tries; k++) {
                    memcpy(t, u, (size_t)b->dims * sizeof *t);
                    if (p->kind == NT_P_CHOICE) {
                        t[dm] = (k + 0.5) / p->n_choices;
                    } else {
                        // ints: grow the step until it leaves the cell
                        double dir = k ? -1.0 : 1.0, h = step;
                        for (;; h *= 2.0) {
                            t[dm] = fmin(1.0, fmax(0.0, u[dm] + dir * h));
                            double x[ENC_MAX];
                            nt_gp_encode(s, t, c, x);
                            if (fabs(c[dm] - u[dm]) > 1e-12 || h > 1.0) break;
                        }
                    }
                    double l = score_point(b, a, t, c, NULL, NULL);
                    if (l > *lei + 1e-12) {
                        *lei = l;
                        memcpy(u, c, (size_t)b->dims * sizeof *u);
                        improved = true;
                    }
                }
            }
        }
    }
}

static int cand_count(const bayes *b) { return b->n_cand + b->n_cand / 4; }

// Fill the candidate list and score it; returns the count.
static int make_candidates(bayes *b, const acq *a, nt_rng *r)
{
    int dims = b->dims, nc = b->n_cand, np = b->n_cand / 4;
    double shift[NT_MAX_PARAMS], c[NT_MAX_PARAMS];
    for (int j = 0; j < dims; j++) shift[j] = nt_rng_uniform(r);
    uint64_t start = 1 + nt_rng_below(r, 1u << 20);
    // Halton points with a random shift mod 1 (Cranley-Patterson rotation)
    for (int i = 0; i < nc; i++) {
        double *u = b->cand_u + (size_t)i * dims;
        for (int j = 0; j < dims; j++) {
            double v = radical_inverse(start + (uint64_t)i, primes[j]) + shift[j];
            u[j] = v - floor(v);
        }
    }
    // perturbations of the best successful trials
    int order[N_BEST], nb = 0;  // the best successful trials, best first
    for (int i = 0; i < b->n_told; i++) {
        if (!b->told[i].ok || !seen(b, i)) continue;
        double y = b->told[i].score;
        if (nb == N_BEST && b->told[order[nb - 1]].score <= y) continue;
        int k = nb < N_BEST ? nb++ : N_BEST - 1;
        while (k > 0 && b->told[order[k - 1]].score > y) {
            order[k] = order[k - 1];
            k--;
        }
        order[k] = i;
    }
    for (int i = 0; i < np; i++) {
        double *u = b->cand_u + (size_t)(nc + i) * dims;
        const double *base = b->told_u + (size_t)order[i % nb] * dims;
        double sd = 0.2 * pow(10.0, -2.0 * nt_rng_uniform(r));
        int must = (int)nt_rng_below(r, (uint64_t)dims);
        for (int j = 0; j < dims; j++) {
            u[j] = base[j];
            if (j != must && nt_rng_uniform(r) >= 0.5) continue;
            u[j] += sd * nt_rng_normal(r);
            u[j] = fmin(1.0, fmax(0.0, u[j]));
        }
        // a perturbed choice lands on a neighbouring option, or any option
        for (int k = 0; k < b->s->n; k++) {
            const nt_param *p = &b->s->p[k];
            if (p->kind == NT_P_CHOICE && p->dim >= 0 &&
                nt_rng_uniform(r) < 1.0 / dims)
                u[p->dim] = nt_rng_uniform(r);
        }
    }
    // score all at once (as score_point would one by one): canonical
    // points, their GP inputs, one batched prediction, log EI
    int n = nc + np, enc = b->enc;
    for (int i = 0; i < n; i++) {
        double *u = b->cand_u + (size_t)i * dims;
        nt_gp_encode(b->s, u, c, b->cand_x + (size_t)i * enc);
        memcpy(u, c, (size_t)dims * sizeof *u);
    }
    double *mu = b->cand_lei;  // means first, then log EI in place
    nt_gp_predict_many(&b->gp, b->cand_x, n, mu, b->cand_var);
    for (int i = 0; i < n; i++) {
        const double *u = b->cand_u + (size_t)i * dims;
        b->cand_lei[i] = known(b, u) ? -INFINITY
            : nt_gp_log_ei(mu[i], sqrt(b->cand_var[i]), a->best, a->xi);
    }
    return n;
}

// Fit the GP on successful trials, with liars for pending ones.
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// Pull scores above Tukey's upper fence (q3 + 1.5 IQR) down to it, so a few
// disastrous trials (chance-level accuracy, a huge loss) do not squash every
// good score into one flat value once the targets are normalized: the model
// then sees differences among the good trials, where the search matters.
// Scores at or below the fence, the best among them, are kept as they are.
static void winsorize(double *y, int n)
{
    if (n < 4) return;
    double sorted[n];
    memcpy(sorted, y, (size_t)n * sizeof *y);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_double);
    double q1 = sorted[(n - 1) / 4], q3 = sorted[(3 * (n - 1)) / 4];
    double fence = q3 + 1.5 * (q3 - q1);
    for (int i = 0; i < n; i++)
        if (y[i] > fence) y[i] = fence;
}

static nt_status fit_model(bayes *b, nt_rng *r, acq *a, double *liar,
                           double *worst_out)
{
    size_t e = (size_t)b->enc;
    int n = 0;
    double sum = 0.0, best = INFINITY, worst = -INFINITY;
    for (int i = 0; i < b->n_told; i++) {
        if (!b->told[i].ok || !seen(b, i)) continue;
        memcpy(b->gx + n * e, b->told_x + i * e, e * sizeof(double));
        double y = b->told[i].score;
        b->gy[n++] = y;
        sum += y;
        if (y < best) best = y;
        if (y > worst) worst = y;
    }
    winsorize(b->gy, n);
    sum = 0.0;
    worst = -INFINITY;
    for (int i = 0; i < n; i++) {
        sum += b->gy[i];
        if (b->gy[i] > worst) worst = b->gy[i];
    }
    double mean = sum / n;
    // failed trials: imputed with the worst score, as data (see the top)
    for (int i = 0; i < b->n_told; i++) {
        if (b->told[i].ok || !seen(b, i)) continue;
        memcpy(b->gx + n * e, b->told_x + i * e, e * sizeof(double));
        b->gy[n++] = worst;
    }
    nt_status rc = nt_gp_set_data(&b->gp, b->gx, b->gy, n);
    if (rc != NT_OK) return rc;
    // pending trials, then told partners (which a batch would have pending,
    // in the same order): soft constant liars at the mean, not fitted
    int n_liars = 0;
    for (int i = 0; i < b->n_pend; i++)
        memcpy(b->gx + (n + n_liars++) * e, b->pend_x + i * e, e * sizeof(double));
    for (int i = 0; i < b->n_told; i++)
        if (!seen(b, i))
            memcpy(b->gx + (n + n_liars++) * e, b->told_x + i * e, e * sizeof(double));
    for (int i = 0; i < n_liars; i++) b->gy[n + i] = mean;
    b->gp.fantasy_noise = LIAR_NOISE;
    rc = nt_gp_add_points(&b->gp, b->gx + n * e, b->gy + n, n_liars);
    int restarts = n <= RESTARTS_UNTIL || n % RESTARTS_EVERY == 0 ? b->restarts : 0;
    if (rc == NT_OK) rc = nt_gp_fit(&b->gp, restarts, r);
    if (rc != NT_OK) return rc;
    a->best = best;
    a->xi = 0.0;
    *liar = mean;
    *worst_out = worst;
    return NT_OK;
}

/* ---- ask / tell ---- */

static nt_status add_pending(bayes *b, int trial, const double *canon)
{
    nt_status rc = grow(b, b->n_pend + 1);
    if (rc != NT_OK) return rc;
    int i = b->n_pend++;
    b->pend[i] = (record){.trial = trial, .ok = false, .score = 0.0};
    memcpy(b->pend_u + (size_t)i * b->dims, canon, (size_t)b->dims * sizeof(double));
    nt_gp_encode(b->s, canon, NULL, b->pend_x + (size_t)i * b->enc);
    return NT_OK;
}

// Without a model: the Halton candidate farthest from every known point
// (GP-input distance), canonical, into u.
static void farthest(bayes *b, nt_rng *r, double *u)
{
    int dims = b->dims, nc = b->n_cand, arg = 0;
    double shift[NT_MAX_PARAMS], x[ENC_MAX], best = -1.0;
    for (int j = 0; j < dims; j++) shift[j] = nt_rng_uniform(r);
    for (int i = 0; i < nc; i++) {
        double *cu = b->cand_u + (size_t)i * dims;
        for (int j = 0; j < dims; j++) {
            double v = radical_inverse((uint64_t)i + 1, primes[j]) + shift[j];
            cu[j] = v - floor(v);
        }
        nt_gp_encode(b->s, cu, cu, x);
        double dmin = INFINITY;
        for (int k = 0; k < b->n_told + b->n_pend; k++) {
            const double *kx = k < b->n_told
                ? b->told_x + (size_t)k * b->enc
                : b->pend_x + (size_t)(k - b->n_told) * b->enc;
            double s = 0.0;
            for (int j = 0; j < b->enc; j++) s += (x[j] - kx[j]) * (x[j] - kx[j]);
            if (s < dmin) dmin = s;
        }
        if (dmin > best) { best = dmin; arg = i; }
    }
    memcpy(u, b->cand_u + (size_t)arg * dims, (size_t)dims * sizeof *u);
}

// The refined maximizer of EI into u; false if every candidate is known.
static bool maximize_ei(bayes *b, const acq *a, nt_rng *r, double *u)
{
    memo_clear(b);  // the GP was fitted for this ask
    int dims = b->dims, n = make_candidates(b, a, r);
    double c[NT_MAX_PARAMS], best_lei = -INFINITY;
    // refine the N_BEST best-scoring candidates
    for (int t = 0; t < N_BEST; t++) {
        int arg = -1;
        for (int i = 0; i < n; i++)
            if (b->cand_lei[i] > -INFINITY &&
                (arg < 0 || b->cand_lei[i] > b->cand_lei[arg])) arg = i;
        if (arg < 0) break;
        double lei = b->cand_lei[arg];
        b->cand_lei[arg] = -INFINITY;
        memcpy(c, b->cand_u + (size_t)arg * dims, (size_t)dims * sizeof *c);
        refine(b, a, c, &lei);
        if (lei > best_lei) {
            best_lei = lei;
            memcpy(u, c, (size_t)dims * sizeof *u);
        }
    }
    if (best_lei > -INFINITY) return true;
    // all known (a small discrete space, fully explored): repeat a told
    // point rather than a pending one if there is a choice
    int pick = 0;
    for (int i = 0; i < n; i++)
        if (known(b, b->cand_u + (size_t)i * dims) != 2) { pick = i; break; }
    memcpy(u, b->cand_u + (size_t)pick * dims, (size_t)dims * sizeof *u);
    return false;
}

// "GP predicts ..." for the chosen point u.
static void describe(bayes *b, const acq *a, const double *u, double liar,
                     double worst, int n_fail, char *why, size_t why_len)
{
    double x[ENC_MAX], mu, var;
    nt_gp_encode(b->s, u, NULL, x);
    nt_gp_predict(&b->gp, x, &mu, &var);
    double sd = sqrt(var), ei = nt_gp_ei(mu, sd, a->best, a->xi);
    int w = snprintf(why, why_len, "GP predicts %.4g +/- %.4g here, expected "
                     "improvement %.4g over the best %.4g; %s", mu, sd, ei,
                     a->best, mu < a->best ? "exploiting (mean below best)"
                                           : "exploring (uncertainty drives EI)");
    if (w < 0 || (size_t)w >= why_len) return;
    why += w;
    why_len -= (size_t)w;
    // partners: the earlier trials of this one's batch, told or not
    int partners = b->hide_hi - b->hide_lo, running = b->n_pend;
    for (int i = 0; i < b->n_pend; i++)
        running -= b->pend[i].trial >= b->hide_lo && b->pend[i].trial < b->hide_hi;
    if (partners) {
        char which[32];
        if (partners == 1) snprintf(which, sizeof which, "trial %d", b->hide_lo + 1);
        else snprintf(which, sizeof which, "trials %d-%d", b->hide_lo + 1, b->hide_hi);
        w = snprintf(why, why_len, "; proposed in a batch of %d with %s, "
                     "counted as scoring the mean %.4g whether or not %s "
                     "finished (so the batch can train side by side)",
                     b->batch, which, liar, partners == 1 ? "it has" : "they have");
        if (w < 0 || (size_t)w >= why_len) return;
        why += w;
        why_len -= (size_t)w;
    }
    if (running) {
        w = snprintf(why, why_len, "; %d running trial%s counted as scoring "
                     "the mean %.4g", running, running == 1 ? "" : "s", liar);
        if (w < 0 || (size_t)w >= why_len) return;
        why += w;
        why_len -= (size_t)w;
    }
    if (n_fail)
        snprintf(why, why_len, "; %d failed trial%s modeled as scoring the "
                 "worst score %.4g, so the search keeps away from %s", n_fail,
                 n_fail == 1 ? "" : "s", worst, n_fail == 1 ? "it" : "them");
}

// A point for `trial` from a model of the told trials it may see
static nt_status model_point(bayes *b, uint64_t seed, int trial, double *u,
                             char *why, size_t why_len)
{
    int n_fail = 0, n_seen = 0;
    for (int i = 0; i < b->n_told; i++) {
        if (!seen(b, i)) continue;
        n_seen++;
        n_fail += !b->told[i].ok;
    }
    nt_rng r = nt_rng_stream(seed, STREAM_ASK + (uint64_t)trial);
    if (n_fail == n_seen) {
        farthest(b, &r, u);
        snprintf(why, why_len, "no trial has succeeded yet (%d failed), so "
                 "there is nothing to model: the candidate farthest from "
                 "every tried point", n_fail);
        return NT_OK;
    }
    acq a;
    double liar, worst;
    nt_status rc = fit_model(b, &r, &a, &liar, &worst);
    if (rc == NT_ERR_NUMERIC) {  // degenerate data: explore, don't stop
        char msg[160];
        snprintf(msg, sizeof msg, "%s", nt_last_error());
        farthest(b, &r, u);
        snprintf(why, why_len, "the GP could not be fitted (%s): the "
                 "candidate farthest from every tried point", msg);
        return NT_OK;
    }
    if (rc != NT_OK) return rc;
    if (maximize_ei(b, &a, &r, u))
        describe(b, &a, u, liar, worst, n_fail, why, why_len);
    else
        snprintf(why, why_len, "every candidate point has been tried already "
                 "(a small discrete space): repeating one to average its noise");
    return NT_OK;
}

static nt_status bayes_ask(nt_strategy *st, int trial, double *u, char *why,
                           size_t why_len)
{
    bayes *b = st->state;
    char dummy[8];
    if (!why || !why_len) { why = dummy; why_len = sizeof dummy; }
    if (trial < 0) {
        nt_errorf("bayes: trial %d is negative", trial);
        return NT_ERR_ARG;
    }
    drop_pending(b, trial);  // asked again without a tell: replace it
    b->next_trial = trial + 1;
    if (b->dims == 0) {
        snprintf(why, why_len, "the space has no searched parameter: every "
                 "trial uses the fixed values");
        return NT_OK;
    }
    double x[ENC_MAX];
    int k = b->n_told + b->n_pend;
    if (k < b->n_init) {
        nt_gp_encode(b->s, b->design + (size_t)k * b->dims, u, x);
        if (!known(b, u)) {
            snprintf(why, why_len, "space-filling design point %d of %d "
                     "(Latin hypercube): spreads the first trials over the "
                     "whole space before any model is fitted", k + 1, b->n_init);
            return add_pending(b, trial, u);
        }
    }
    // the batch's earlier trials stay out of sight, told or not
    b->hide_lo = batch_first(b, trial);
    b->hide_hi = trial;
    nt_status rc = model_point(b, st->opt.seed, trial, u, why, why_len);
    b->hide_lo = b->hide_hi = 0;
    return rc == NT_OK ? add_pending(b, trial, u) : rc;
}

// The next ask takes design point k unless that point is already known
// (told or pending: the same set whichever order results arrive in);
// after the design, points come from a model of the told results, all but
// those of the batch's earlier trials: only a batch's first trial waits
static bool bayes_independent(nt_strategy *st)
{
    bayes *b = st->state;
    if (b->dims == 0) return true;
    int k = b->n_told + b->n_pend;
    if (k >= b->n_init) {
        int t = b->next_trial;
        return batch_first(b, t) < t;
    }
    double u[NT_MAX_PARAMS], x[ENC_MAX];
    nt_gp_encode(b->s, b->design + (size_t)k * b->dims, u, x);
    return !known(b, u);
}

static nt_status bayes_tell(nt_strategy *st, int trial, const double *u,
                            double score, bool ok)
{
    bayes *b = st->state;
    drop_pending(b, trial);
    nt_status rc = grow(b, b->n_told + 1);
    if (rc != NT_OK) return rc;
    int i = 0;
    while (i < b->n_told && b->told[i].trial != trial) i++;
    if (i == b->n_told) b->n_told++;  // else a repeated tell replaces
    // a non-finite score cannot be modeled: it counts as a failure
    b->told[i] = (record){.trial = trial, .ok = ok && isfinite(score),
                          .score = ok && isfinite(score) ? score : 0.0};
    nt_gp_encode(b->s, u, b->told_u + (size_t)i * b->dims,
                 b->told_x + (size_t)i * b->enc);
    return NT_OK;
}

static void bayes_free(nt_strategy *st)
{
    bayes *b = st->state;
    if (!b) return;
    nt_free(b->design);
    nt_free(b->told); nt_free(b->pend); nt_free(b->told_u); nt_free(b->pend_u);
    nt_free(b->told_x); nt_free(b->pend_x); nt_free(b->gx); nt_free(b->gy);
    nt_free(b->cand_u); nt_free(b->cand_lei);
    nt_free(b->cand_x); nt_free(b->cand_var);
    nt_free(b->memo); nt_free(b->memo_used);
    nt_gp_free(&b->gp);
    nt_free(b);
    st->state = NULL;
}

static const nt_strategy_ops bayes_ops = {
    .name = "bayes",
    .ask = bayes_ask,
    .tell = bayes_tell,
    .independent = bayes_independent,
    .free = bayes_free,
};

nt_status nt_bayes_create(nt_strategy *st)
{
    const nt_strategy_options *o = &st->opt;
    st->ops = &bayes_ops;
    st->state = NULL;
    if (o->initial_points < 0 || o->initial_points > 64 || o->candidates < 0 ||
        o->restarts < 0) {
        nt_errorf("bayes: initial_points %d (0..64), candidates %d and "
                  "restarts %d (>= 0) out of range", o->initial_points,
                  o->candidates, o->restarts);
        return NT_ERR_ARG;
    }
    if (o->batch < 0 || o->batch > NT_MAX_BAYES_BATCH) {
        nt_errorf("bayes: batch %d out of range (1..%d)", o->batch, NT_MAX_BAYES_BATCH);
        return NT_ERR_ARG;
    }
    bayes *b = nt_alloc(sizeof *b);
    if (!b) {
        nt_errorf("bayes: out of memory creating the strategy");
        return NT_ERR_NOMEM;
    }
    st->state = b;
    b->s = st->space;
    b->dims = st->space->dims;
    b->enc = nt_gp_encoded_dims(st->space);
    int def = 2 * b->dims + 2;
    b->n_init = o->initial_points ? o->initial_points
                                  : def < 5 ? 5 : def > 20 ? 20 : def;
    b->n_cand = o->candidates ? o->candidates : 2048;
    b->restarts = o->restarts ? o->restarts : 2;
    b->batch = o->batch ? o->batch : 1;
    size_t d = (size_t)(b->dims ? b->dims : 1);
    size_t nc = (size_t)cand_count(b);
    b->design = nt_alloc((size_t)b->n_init * d * sizeof *b->design);
    double *scratch = nt_alloc((size_t)b->n_init * d * sizeof *scratch);
    b->cand_u = nt_alloc(nc * d * sizeof *b->cand_u);
    b->cand_lei = nt_alloc(nc * sizeof *b->cand_lei);
    b->cand_x = nt_alloc(nc * (size_t)(b->enc ? b->enc : 1) * sizeof *b->cand_x);
    b->cand_var = nt_alloc(nc * sizeof *b->cand_var);
    b->memo = nt_alloc(MEMO_SLOTS * ((size_t)b->enc + 2) * sizeof *b->memo);
    b->memo_used = nt_alloc(MEMO_SLOTS);
    nt_status rc = b->design && scratch && b->cand_u && b->cand_lei &&
                   b->cand_x && b->cand_var && b->memo && b->memo_used
                   ? NT_OK : NT_ERR_NOMEM;
    if (rc != NT_OK) nt_errorf("bayes: out of memory for %zu candidates", nc);
    // no inputs (every parameter fixed): the GP is never used
    if (rc == NT_OK) rc = nt_gp_init(&b->gp, b->enc ? b->enc : 1, 64);
    if (rc == NT_OK) rc = grow(b, 32);
    if (rc == NT_OK) maximin_design(o->seed, b->n_init, b->dims, b->design, scratch);
    nt_free(scratch);
    return rc;
}
