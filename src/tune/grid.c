/* grid.c - grid search: the cartesian product of every choice's options and
 * grid_points values of every real or int range, enumerated with the first
 * declared parameter varying slowest. A conditional parameter is enumerated
 * only where it is active, so no two points differ only in an inactive
 * parameter. Point k is computed from k alone (unranking), so the position
 * is just the number of asks so far and a replayed study repeats itself. */
#include "nntune/strategy.h"

#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GRID_MAX_POINTS 10000

typedef struct {
    int n;                         // parameters
    int nv[NT_MAX_PARAMS];         // grid values of each non-fixed parameter
    double *val[NT_MAX_PARAMS];    // their cube coordinates, (nv[i],) each
    double *block;                 // storage behind val
    bool is_parent[NT_MAX_PARAMS]; // some condition tests this parameter
    long size;                     // points in the grid
    long next;                     // asks so far = index of the next point
    char product[600];             // "lr (3 values) x batch (4 values) ..."
} grid_state;

static long sat_mul(long a, long b)
{
    if (a == 0 || b == 0) return 0;
    return a > LONG_MAX / b ? LONG_MAX : a * b;
}

static long sat_add(long a, long b)
{
    return a > LONG_MAX - b ? LONG_MAX : a + b;
}

// The cube coordinate of integer k of parameter i: the centre of its cell.
static double int_centre(const nt_space *s, int i, double k)
{
    nt_assignment a;
    memset(&a, 0, sizeof a);
    a.n = s->n;
    a.v[i].active = true;
    a.v[i].num = k;
    a.v[i].choice = -1;
    double u[NT_MAX_PARAMS];
    nt_space_encode(s, &a, u);
    return u[s->p[i].dim];
}

// Grid values of parameter i (non-fixed) as cube coordinates, ascending, into
// u (may be NULL to count only). Returns how many.
static int param_values(const nt_space *s, int i, int g, double *u)
{
    const nt_param *p = &s->p[i];
    int m = 0;
    if (p->kind == NT_P_CHOICE) {
        for (int j = 0; j < p->n_choices; j++)
            if (u) u[m++] = (j + 0.5) / p->n_choices;
        return p->n_choices;
    }
    if (g == 1) { // one value: the middle of the range
        if (u) u[0] = 0.5;
        return 1;
    }
    if (p->kind == NT_P_UNIFORM || p->kind == NT_P_LOGUNIFORM) {
        // endpoints included; decode spaces them evenly, log-spaced for log
        for (int j = 0; j < g; j++)
            if (u) u[j] = (double)j / (g - 1);
        return g;
    }
    // ints: at most hi-lo+1 distinct integers spread over [lo, hi]
    double span = p->hi - p->lo;
    int want = span + 1 < g ? (int)(span + 1) : g;
    double prev = -INFINITY;
    for (int j = 0; j < want; j++) {
        double t = (double)j / (want - 1), k;
        if (p->kind == NT_P_INT)
            k = p->lo + round(t * span);
        else
            k = round(exp(log(p->lo) + t * (log(p->hi) - log(p->lo))));
        k = fmax(p->lo, fmin(p->hi, k));
        if (k == prev) continue; // log spacing can round two values together
        prev = k;
        if (u) u[m] = int_centre(s, i, k);
        m++;
    }
    return m;
}

// Is parameter i active given the option indices ch[] chosen before it?
static bool is_active(const nt_space *s, int i, const int *ch, const bool *act)
{
    int par = s->p[i].parent;
    return par < 0 || (act[par] && ch[par] == s->p[i].parent_choice);
}

// Number of grid points for parameters i.. given choices made before i.
// Only parents branch; every other active parameter multiplies the count.
// Scribbles ch[] and act[] from i on.
static long count_from(const nt_space *s, const int *nv, const bool *is_parent,
                       int i, int *ch, bool *act)
{
    long mult = 1;
    for (; i < s->n; i++) {
        act[i] = is_active(s, i, ch, act);
        ch[i] = -1;
        if (s->p[i].kind == NT_P_FIXED || !act[i]) continue;
        if (!is_parent[i]) {
            mult = sat_mul(mult, nv[i]);
            continue;
        }
        long sum = 0;
        for (int j = 0; j < nv[i]; j++) {
            ch[i] = j;
            sum = sat_add(sum, count_from(s, nv, is_parent, i + 1, ch, act));
        }
        return sat_mul(mult, sum);
    }
    return mult;
}

static void find_parents(const nt_space *s, bool *is_parent)
{
    memset(is_parent, 0, NT_MAX_PARAMS * sizeof *is_parent);
    for (int i = 0; i < s->n; i++)
        if (s->p[i].parent >= 0) is_parent[s->p[i].parent] = true;
}

long nt_grid_size(const nt_space *space, int grid_points)
{
    int g = grid_points > 0 ? grid_points : 3;
    int nv[NT_MAX_PARAMS] = {0}, ch[NT_MAX_PARAMS];
    bool is_parent[NT_MAX_PARAMS], act[NT_MAX_PARAMS];
    for (int i = 0; i < space->n; i++)
        if (space->p[i].kind != NT_P_FIXED) nv[i] = param_values(space, i, g, NULL);
    find_parents(space, is_parent);
    return count_from(space, nv, is_parent, 0, ch, act);
}

// Point k of the grid into u: at each parameter, skip whole sub-grids.
static void unrank(const nt_space *s, const grid_state *gs, long k, double *u)
{
    int ch[NT_MAX_PARAMS];
    bool act[NT_MAX_PARAMS];
    for (int i = 0; i < s->n; i++) {
        const nt_param *p = &s->p[i];
        act[i] = is_active(s, i, ch, act);
        ch[i] = -1;
        if (p->kind == NT_P_FIXED) continue;
        if (!act[i]) {
            u[p->dim] = 0.5;
            continue;
        }
        int j = 0;
        if (!gs->is_parent[i]) {
            long sub = count_from(s, gs->nv, gs->is_parent, i + 1, ch, act);
            j = (int)(k / sub);
            k %= sub;
        } else {
            for (j = 0; j < gs->nv[i]; j++) {
                ch[i] = j;
                long sub = count_from(s, gs->nv, gs->is_parent, i + 1, ch, act);
                if (k < sub) break;
                k -= sub;
            }
        }
        assert(j < gs->nv[i]);
        ch[i] = j;
        u[p->dim] = gs->val[i][j];
    }
}

static void describe_product(const nt_space *s, grid_state *gs)
{
    size_t used = 0, len = sizeof gs->product;
    gs->product[0] = '\0';
    for (int i = 0; i < s->n && used < len; i++) {
        const nt_param *p = &s->p[i];
        if (p->kind == NT_P_FIXED) continue;
        int w;
        if (p->parent >= 0) {
            const nt_param *par = &s->p[p->parent];
            w = snprintf(gs->product + used, len - used,
                         "%s%s (%d value%s, only when %s == %s)",
                         used ? " x " : "", p->name, gs->nv[i],
                         gs->nv[i] == 1 ? "" : "s", par->name,
                         par->choice[p->parent_choice]);
        } else {
            w = snprintf(gs->product + used, len - used, "%s%s (%d value%s)",
                         used ? " x " : "", p->name, gs->nv[i],
                         gs->nv[i] == 1 ? "" : "s");
        }
        if (w < 0) break;
        used += (size_t)w;
    }
    if (!gs->product[0]) snprintf(gs->product, len, "no searched parameters");
}

static nt_status grid_ask(nt_strategy *st, int trial, double *u, char *why,
                          size_t why_len)
{
    grid_state *gs = st->state;
    if (gs->next >= gs->size) {
        nt_errorf("grid: all %ld points have been asked", gs->size);
        if (why && why_len)
            snprintf(why, why_len, "the grid is exhausted: all %ld points of "
                     "the cartesian product have been tried", gs->size);
        return NT_ERR_EXHAUSTED;
    }
    long k = gs->next++;
    unrank(st->space, gs, k, u);
    if (why && why_len)
        snprintf(why, why_len, "grid point %ld of %ld: next in the cartesian "
                 "product of %s; %ld left", k + 1, gs->size, gs->product,
                 gs->size - k - 1);
    return NT_OK;
}

static nt_status grid_tell(nt_strategy *st, int trial, const double *u,
                           double score, bool ok)
{
    return NT_OK; // the grid's order never depends on results
}

static bool grid_independent(nt_strategy *st)
{
    (void)st;
    return true; // the grid's order never depends on results
}

static void grid_free(nt_strategy *st)
{
    grid_state *gs = st->state;
    if (gs) free(gs->block);
    free(gs);
    st->state = NULL;
}

static const nt_strategy_ops grid_ops = {
    .name = "grid",
    .ask = grid_ask,
    .tell = grid_tell,
    .independent = grid_independent,
    .free = grid_free,
};

nt_status nt_grid_create(nt_strategy *st)
{
    const nt_space *s = st->space;
    int g = st->opt.grid_points;
    if (g == 0) g = st->opt.grid_points = 3;
    if (g < 1 || g > GRID_MAX_POINTS) {
        nt_errorf("grid: grid_points must be between 1 and %d (got %d)",
                  GRID_MAX_POINTS, g);
        return NT_ERR_ARG;
    }
    st->ops = &grid_ops;
    grid_state *gs = calloc(1, sizeof *gs);
    st->state = gs;
    int maxv = g > NT_MAX_CHOICES ? g : NT_MAX_CHOICES;
    if (gs) gs->block = malloc((size_t)(s->n ? s->n : 1) * maxv * sizeof(double));
    if (!gs || !gs->block) {
        nt_errorf("grid: out of memory for %d parameters x %d values", s->n, maxv);
        return NT_ERR_NOMEM;
    }
    gs->n = s->n;
    for (int i = 0; i < s->n; i++) {
        gs->val[i] = gs->block + (size_t)i * maxv;
        if (s->p[i].kind != NT_P_FIXED)
            gs->nv[i] = param_values(s, i, g, gs->val[i]);
    }
    find_parents(s, gs->is_parent);
    int ch[NT_MAX_PARAMS];
    bool act[NT_MAX_PARAMS];
    gs->size = count_from(s, gs->nv, gs->is_parent, 0, ch, act);
    if (gs->size == LONG_MAX) {
        nt_errorf("grid: more than %ld points with grid_points=%d; use fewer "
                  "grid points or fix some parameters", LONG_MAX, g);
        return NT_ERR_ARG;
    }
    describe_product(s, gs);
    return NT_OK;
}
