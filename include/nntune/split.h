/* split.h - index views over a data set, shuffles, stratified train /
 * validation splits and stratified k-fold. Nothing here copies X: a view is
 * a borrowed data set plus a borrowed list of row indices.
 *
 * Stratified: each part keeps the class proportions of the whole, up to
 * rounding (per class, the counts of two folds differ by at most one). */
#ifndef NNTUNE_SPLIT_H
#define NNTUNE_SPLIT_H

#include "nntune/dataset.h"
#include "nntune/rng.h"

/* An owned list of row indices. */
typedef struct {
    size_t *i;
    size_t n;
} nt_index;

/* A view: rows idx[0..n) of ds, or rows 0..n-1 if idx is NULL.
 * Borrows both ds and idx. */
typedef struct {
    const nt_dataset *ds;
    const size_t *idx;
    size_t n;
} nt_view;

void nt_index_free(nt_index *ix);
/* 0, 1, ..., n-1 */
nt_status nt_index_range(size_t n, nt_index *out);
/* A copy of a view's row indices (absolute rows of the data set). */
nt_status nt_index_of_view(const nt_view *v, nt_index *out);

nt_view nt_view_all(const nt_dataset *ds);
nt_view nt_view_of(const nt_dataset *ds, const nt_index *ix);
/* Row k of the view (an absolute row number of v->ds). */
static inline size_t nt_view_row(const nt_view *v, size_t k)
{
    return v->idx ? v->idx[k] : k;
}

/* Copy rows order[start .. start+count) of the view into contiguous buffers:
 * X is (count, d), y is (count). `order` holds positions in the view
 * (0..v->n-1), or is NULL for the view's own order. This is the one copy a
 * trainer makes per batch, into buffers it allocated once. */
void nt_view_gather(const nt_view *v, const size_t *order, size_t start,
                    size_t count, float *X, int32_t *y);

/* The same (X or y may be NULL), and in the same pass rows[r] pointed at
 * the data set's bytes behind row r of the batch (nt_dataset.pixels): zero
 * exactly where the gathered features are. False, with rows untouched,
 * for a data set of floats. */
bool nt_view_gather_bytes(const nt_view *v, const size_t *order, size_t start, size_t count,
                          float *X, int32_t *y, const uint8_t **rows);

/* The same for features [j0, j1) of each row only (j1 <= d), into those
 * columns of X (count, d); the rest of X is left as it was. A thread
 * working on those features alone gathers them itself, so that they are in
 * its core's cache and no other's (shards.h). */
void nt_view_gather_inputs(const nt_view *v, const size_t *order, size_t start, size_t count,
                           size_t j0, size_t j1, float *X);

/* Start loading features [j0, j1) of rows order[start .. start+count) into
 * this core's L2, while the step before their gather computes: a batch of
 * shuffled rows otherwise waits on memory row by row. Only a data set of
 * pixels (100 KB a batch of 128 MNIST rows); rows of floats are 4 times
 * that, and are left to the gather's own prefetch. Changes nothing. */
void nt_view_prefetch(const nt_view *v, const size_t *order, size_t start, size_t count,
                      size_t j0, size_t j1);

/* Reorder each batch of a shuffled order - positions [s, s + batch) for s =
 * 0, batch, 2 batch, ... below n - by label, keeping the shuffled order
 * within a label. A batch keeps its rows, so its summed gradient is the
 * same, but rows of one class sit together: their images share more
 * non-zero pixels, so the sparse first layer's blocks of rows (sparse.h)
 * have fewer columns to go through (MNIST: 35% of the pixels in a block's
 * union, against 39% in shuffled order). scratch is the caller's, of
 * batch + v->ds->n_classes + 1 entries (nt_train allocates it once). */
void nt_order_group_by_label(const nt_view *v, size_t *order, size_t n, size_t batch,
                             size_t *scratch);

/* Stratified split of a view: about val_frac of each class goes to `val`,
 * the rest to `train`, chosen by `rng`. Indices are absolute rows of
 * v->ds. 0 < val_frac < 1; every class with at least 2 samples gets at least
 * one in each part. */
nt_status nt_split_stratified(const nt_view *v, double val_frac, nt_rng *rng,
                              nt_index *train, nt_index *val);

/* Stratified k-fold over a view. Fold f's validation part is val[f]; its
 * training part train[f] is every other row of the view. Every row of the
 * view is in exactly one validation part. 2 <= k <= smallest class count,
 * else NT_ERR_ARG with a message giving k and the smallest class. */
typedef struct {
    int k;
    nt_index *train; /* k owned index lists */
    nt_index *val;   /* k owned index lists */
} nt_kfold;

nt_status nt_kfold_make(const nt_view *v, int k, nt_rng *rng, nt_kfold *out);
void nt_kfold_free(nt_kfold *kf);
nt_view nt_kfold_train(const nt_kfold *kf, const nt_view *v, int fold);
nt_view nt_kfold_val(const nt_kfold *kf, const nt_view *v, int fold);

#endif
