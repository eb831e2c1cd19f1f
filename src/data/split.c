/* split.c - index views, stratified train/validation splits and stratified
 * k-fold. Splits work on positions in the view, then emit absolute rows of
 * the data set in the view's order. */
#include "nntune/split.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void nt_index_free(nt_index *ix)
{
    if (!ix) return;
    nt_free(ix->i);
    ix->i = NULL;
    ix->n = 0;
}

static nt_status index_alloc(size_t n, nt_index *out)
{
    out->n = 0;
    out->i = n <= SIZE_MAX / sizeof(size_t) ? nt_alloc(n * sizeof(size_t))
                                            : NULL;
    if (!out->i) {
        nt_errorf("index: cannot allocate %zu entries", n);
        return NT_ERR_NOMEM;
    }
    out->n = n;
    return NT_OK;
}

nt_status nt_index_range(size_t n, nt_index *out)
{
    assert(out);
    nt_status rc = index_alloc(n, out);
    if (rc != NT_OK) return rc;
    for (size_t k = 0; k < n; k++) out->i[k] = k;
    return NT_OK;
}

nt_status nt_index_of_view(const nt_view *v, nt_index *out)
{
    assert(v && out);
    nt_status rc = index_alloc(v->n, out);
    if (rc != NT_OK) return rc;
    for (size_t k = 0; k < v->n; k++) out->i[k] = nt_view_row(v, k);
    return NT_OK;
}

nt_view nt_view_all(const nt_dataset *ds)
{
    return (nt_view){.ds = ds, .idx = NULL, .n = ds->n};
}

nt_view nt_view_of(const nt_dataset *ds, const nt_index *ix)
{
    return (nt_view){.ds = ds, .idx = ix->i, .n = ix->n};
}

// The data set's row at position k of `order` (or of the view, when NULL).
static size_t gathered_row(const nt_view *v, const size_t *order, size_t k)
{
    size_t pos = order ? order[k] : k;
    assert(pos < v->n);
    size_t row = nt_view_row(v, pos);
    assert(row < v->ds->n);
    return row;
}

void nt_order_group_by_label(const nt_view *v, size_t *order, size_t n, size_t batch,
                             size_t *scratch)
{
    assert(v && v->ds && (order || n == 0) && batch >= 1 && n <= v->n && scratch);
    const int C = v->ds->n_classes;
    const int32_t *y = v->ds->y;
    size_t *sorted = scratch, *next = scratch + batch; // (batch), (C + 1)
    for (size_t s = 0; s < n; s += batch) {
        size_t e = n - s < batch ? n : s + batch;
        // a counting sort: next[c] is where class c's next row goes
        memset(next, 0, ((size_t)C + 1) * sizeof *next);
        for (size_t k = s; k < e; k++) next[y[gathered_row(v, order, k)] + 1]++;
        for (int c = 1; c <= C; c++) next[c] += next[c - 1];
        for (size_t k = s; k < e; k++) sorted[next[y[gathered_row(v, order, k)]]++] = order[k];
        memcpy(order + s, sorted, (e - s) * sizeof *order);
    }
}

// Rows order[start .. start+count) of the view: features [j0, j1) into X
// (count, d) when X, labels into y when y, and pointers to the data set's
// bytes behind them into rows when rows (a data set of pixels only)
static void gather(const nt_view *v, const size_t *order, size_t start, size_t count,
                   size_t j0, size_t j1, float *X, int32_t *y, const uint8_t **rows)
{
    const nt_dataset *ds = v->ds;
    size_t d = ds->d;
    assert(!rows || ds->pixels);
    // rows in shuffled order miss the cache: the loads of the row
    // PREFETCH_AHEAD places on start while this one is converted
    enum { PREFETCH_AHEAD = 4 };
    if (X)
        for (size_t r = 0; r < count && r < PREFETCH_AHEAD; r++)
            nt_dataset_prefetch_row(ds, gathered_row(v, order, start + r), j0, j1);
    for (size_t r = 0; r < count; r++) {
        if (X && r + PREFETCH_AHEAD < count)
            nt_dataset_prefetch_row(ds, gathered_row(v, order, start + r + PREFETCH_AHEAD), j0,
                                    j1);
        size_t row = gathered_row(v, order, start + r);
        // X is (count, d): row r of the batch is row `row` of the data set
        if (X) nt_dataset_row_inputs(ds, row, j0, j1, X + r * d);
        if (y) y[r] = ds->y[row];
        if (rows) rows[r] = ds->pixels + row * d;
    }
}

void nt_view_gather(const nt_view *v, const size_t *order, size_t start,
                    size_t count, float *X, int32_t *y)
{
    gather(v, order, start, count, 0, v->ds->d, X, y, NULL);
}

bool nt_view_gather_bytes(const nt_view *v, const size_t *order, size_t start, size_t count,
                          float *X, int32_t *y, const uint8_t **rows)
{
    const bool bytes = v->ds->pixels != NULL;
    gather(v, order, start, count, 0, v->ds->d, X, y, bytes ? rows : NULL);
    return bytes;
}

void nt_view_gather_inputs(const nt_view *v, const size_t *order, size_t start, size_t count,
                           size_t j0, size_t j1, float *X)
{
    assert(j0 <= j1 && j1 <= v->ds->d && X);
    gather(v, order, start, count, j0, j1, X, NULL, NULL);
}

void nt_view_prefetch(const nt_view *v, const size_t *order, size_t start, size_t count,
                      size_t j0, size_t j1)
{
    assert(j0 <= j1 && j1 <= v->ds->d);
    if (!v->ds->pixels) return;
    for (size_t r = 0; r < count; r++)
        nt_dataset_prefetch_row_l2(v->ds, gathered_row(v, order, start + r), j0, j1);
}

/* The view's positions grouped by class: class c holds
 * pos[start[c] .. start[c+1]), each group shuffled by rng. */
typedef struct {
    int n_classes;
    size_t *start; // (n_classes + 1)
    size_t *pos;   // (v->n)
} class_groups;

static void groups_free(class_groups *g)
{
    nt_free(g->start);
    nt_free(g->pos);
    memset(g, 0, sizeof *g);
}

static nt_status groups_make(const nt_view *v, nt_rng *rng, class_groups *g)
{
    int C = v->ds->n_classes;
    assert(C > 0);
    g->n_classes = C;
    g->start = nt_alloc(((size_t)C + 1) * sizeof(size_t));
    g->pos = nt_alloc(v->n * sizeof(size_t));
    size_t *fill = nt_alloc((size_t)C * sizeof(size_t));
    if (!g->start || !g->pos || !fill) {
        nt_free(fill);
        groups_free(g);
        nt_errorf("split: cannot allocate class groups for %zu rows", v->n);
        return NT_ERR_NOMEM;
    }
    for (size_t k = 0; k < v->n; k++) {
        int32_t c = v->ds->y[nt_view_row(v, k)];
        assert(c >= 0 && c < C);
        g->start[c + 1]++;
    }
    for (int c = 0; c < C; c++) g->start[c + 1] += g->start[c];
    memcpy(fill, g->start, (size_t)C * sizeof(size_t));
    for (size_t k = 0; k < v->n; k++)
        g->pos[fill[v->ds->y[nt_view_row(v, k)]]++] = k;
    nt_free(fill);
    for (int c = 0; c < C; c++)
        nt_rng_shuffle(rng, g->pos + g->start[c],
                       g->start[c + 1] - g->start[c]);
    return NT_OK;
}

/* How many of each class go to validation: per class floor or ceil of
 * count * frac, with the extra ones given to the largest remainders
 * (Hamilton's method) so the total is round(n * frac); then every class of
 * 2 or more keeps at least one row on each side. */
static void val_counts(const class_groups *g, double frac, size_t *nval)
{
    int C = g->n_classes;
    size_t total = g->start[C], assigned = 0;
    for (int c = 0; c < C; c++) {
        size_t m = g->start[c + 1] - g->start[c];
        nval[c] = (size_t)floor((double)m * frac);
        assigned += nval[c];
    }
    size_t target = (size_t)llround((double)total * frac);
    while (assigned < target) {
        int best = -1;
        double best_rem = -1.0;
        for (int c = 0; c < C; c++) {
            size_t m = g->start[c + 1] - g->start[c];
            double rem = (double)m * frac - (double)nval[c];
            if (nval[c] < m && rem > 0.0 && rem > best_rem) {
                best = c;
                best_rem = rem;
            }
        }
        if (best < 0) break;
        nval[best]++;
        assigned++;
    }
    for (int c = 0; c < C; c++) {
        size_t m = g->start[c + 1] - g->start[c];
        if (m >= 2 && nval[c] == 0) nval[c] = 1;
        if (m >= 2 && nval[c] == m) nval[c] = m - 1;
    }
}

nt_status nt_split_stratified(const nt_view *v, double val_frac, nt_rng *rng,
                              nt_index *train, nt_index *val)
{
    assert(v && rng && train && val);
    memset(train, 0, sizeof *train);
    memset(val, 0, sizeof *val);
    if (!(val_frac > 0.0 && val_frac < 1.0)) {
        nt_errorf("split: validation fraction %g is not in (0, 1)", val_frac);
        return NT_ERR_ARG;
    }
    class_groups g = {0};
    nt_status rc = groups_make(v, rng, &g);
    if (rc != NT_OK) return rc;
    int C = g.n_classes;
    size_t *nval = nt_alloc((size_t)C * sizeof(size_t));
    uint8_t *is_val = nt_alloc(v->n);
    if (!nval || !is_val) {
        nt_errorf("split: cannot allocate marks for %zu rows", v->n);
        rc = NT_ERR_NOMEM;
        goto done;
    }
    val_counts(&g, val_frac, nval);
    size_t n_val = 0;
    for (int c = 0; c < C; c++) {
        for (size_t j = 0; j < nval[c]; j++) is_val[g.pos[g.start[c] + j]] = 1;
        n_val += nval[c];
    }
    rc = index_alloc(v->n - n_val, train);
    if (rc == NT_OK) rc = index_alloc(n_val, val);
    if (rc != NT_OK) goto done;
    size_t nt = 0, nv = 0;
    for (size_t k = 0; k < v->n; k++) {
        size_t row = nt_view_row(v, k);
        if (is_val[k])
            val->i[nv++] = row;
        else
            train->i[nt++] = row;
    }
done:
    nt_free(nval);
    nt_free(is_val);
    groups_free(&g);
    if (rc != NT_OK) {
        nt_index_free(train);
        nt_index_free(val);
    }
    return rc;
}

/* k must be in [2, smallest non-empty class count]. */
static nt_status check_k(const class_groups *g, int k)
{
    int small = -1;
    size_t small_n = 0;
    for (int c = 0; c < g->n_classes; c++) {
        size_t m = g->start[c + 1] - g->start[c];
        if (m > 0 && (small < 0 || m < small_n)) {
            small = c;
            small_n = m;
        }
    }
    if (small < 0) {
        nt_errorf("k-fold: the view has no rows to split into %d folds", k);
        return NT_ERR_ARG;
    }
    if (k < 2 || (size_t)k > small_n) {
        nt_errorf("k-fold: k = %d folds is impossible: need 2 <= k <= %zu, "
                  "the row count of the smallest class (class %d)", k,
                  small_n, small);
        return NT_ERR_ARG;
    }
    return NT_OK;
}

nt_status nt_kfold_make(const nt_view *v, int k, nt_rng *rng, nt_kfold *out)
{
    assert(v && rng && out);
    memset(out, 0, sizeof *out);
    class_groups g = {0};
    nt_status rc = groups_make(v, rng, &g);
    if (rc == NT_OK) rc = check_k(&g, k);
    if (rc != NT_OK) {
        groups_free(&g);
        return rc;
    }
    int *fold_of = nt_alloc(v->n * sizeof(int));
    size_t *fold_n = nt_alloc((size_t)k * sizeof(size_t));
    out->train = nt_alloc((size_t)k * sizeof(nt_index));
    out->val = nt_alloc((size_t)k * sizeof(nt_index));
    if (!fold_of || !fold_n || !out->train || !out->val) {
        nt_errorf("k-fold: cannot allocate %d folds of %zu rows", k, v->n);
        rc = NT_ERR_NOMEM;
        goto done;
    }
    out->k = k;
    // deal each class round-robin, each class starting where the last one
    // stopped: per class the folds differ by at most one row, and so do the
    // fold totals
    size_t next = 0;
    for (int c = 0; c < g.n_classes; c++) {
        for (size_t j = g.start[c]; j < g.start[c + 1]; j++) {
            fold_of[g.pos[j]] = (int)next;
            fold_n[next]++;
            next = (next + 1) % (size_t)k;
        }
    }
    for (int f = 0; f < k && rc == NT_OK; f++) {
        rc = index_alloc(fold_n[f], &out->val[f]);
        if (rc == NT_OK) rc = index_alloc(v->n - fold_n[f], &out->train[f]);
    }
    if (rc != NT_OK) goto done;
    memset(fold_n, 0, (size_t)k * sizeof(size_t)); // now: val rows filled
    for (size_t p = 0; p < v->n; p++) {
        size_t row = nt_view_row(v, p);
        int fv = fold_of[p];
        out->val[fv].i[fold_n[fv]++] = row;
        // train[f] holds rows p' < p not in fold f, i.e. p - val rows so far
        for (int f = 0; f < k; f++)
            if (f != fv) out->train[f].i[p - fold_n[f]] = row;
    }
done:
    nt_free(fold_of);
    nt_free(fold_n);
    groups_free(&g);
    if (rc != NT_OK) nt_kfold_free(out);
    return rc;
}

void nt_kfold_free(nt_kfold *kf)
{
    if (!kf) return;
    for (int f = 0; f < kf->k; f++) {
        if (kf->train) nt_index_free(&kf->train[f]);
        if (kf->val) nt_index_free(&kf->val[f]);
    }
    nt_free(kf->train);
    nt_free(kf->val);
    memset(kf, 0, sizeof *kf);
}

nt_view nt_kfold_train(const nt_kfold *kf, const nt_view *v, int fold)
{
    assert(fold >= 0 && fold < kf->k);
    return nt_view_of(v->ds, &kf->train[fold]);
}

nt_view nt_kfold_val(const nt_kfold *kf, const nt_view *v, int fold)
{
    assert(fold >= 0 && fold < kf->k);
    return nt_view_of(v->ds, &kf->val[fold]);
}
