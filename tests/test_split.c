/* test_split.c - views, stratified splits and stratified k-fold: coverage,
 * disjointness, class balance, seeding, subsets and gather. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "nntune/split.h"

enum { C = 5, D = 3 };
// an unbalanced data set: 103 rows, the smallest class has 13
static const size_t class_n[C] = {30, 25, 20, 15, 13};

/* Rows in a seeded random class order; X[i] = (10 i, 10 i + 1, 10 i + 2). */
static nt_dataset make_data(void)
{
    size_t n = 0;
    for (int c = 0; c < C; c++) n += class_n[c];
    nt_dataset ds;
    cr_assert_eq(nt_dataset_alloc(n, D, C, &ds), NT_OK, "%s", nt_last_error());
    size_t k = 0;
    for (int c = 0; c < C; c++)
        for (size_t j = 0; j < class_n[c]; j++) ds.y[k++] = c;
    nt_rng r;
    nt_rng_seed(&r, 99);
    for (size_t i = n - 1; i > 0; i--) { // shuffle labels so classes interleave
        size_t j = nt_rng_below(&r, i + 1);
        int32_t t = ds.y[i];
        ds.y[i] = ds.y[j];
        ds.y[j] = t;
    }
    for (size_t i = 0; i < n; i++)
        for (int f = 0; f < D; f++) ds.X[i * D + f] = (float)(10 * i + f);
    return ds;
}

/* Check that fold f of kf splits view v: train and val disjoint, together
 * exactly the view's rows. */
static void check_fold_partitions_view(const nt_kfold *kf, const nt_view *v,
                                       int f)
{
    const nt_dataset *ds = v->ds;
    int *mark = calloc(ds->n, sizeof(int)); // +1 per view row, -1 per part row
    for (size_t k = 0; k < v->n; k++) mark[nt_view_row(v, k)]++;
    nt_view tr = nt_kfold_train(kf, v, f), va = nt_kfold_val(kf, v, f);
    cr_assert_eq(tr.ds, ds, "train view of fold %d has another data set", f);
    cr_assert_eq(tr.n + va.n, v->n, "fold %d: %zu train + %zu val != %zu", f,
                 tr.n, va.n, v->n);
    for (size_t k = 0; k < tr.n; k++) mark[nt_view_row(&tr, k)]--;
    for (size_t k = 0; k < va.n; k++) mark[nt_view_row(&va, k)]--;
    for (size_t i = 0; i < ds->n; i++)
        cr_assert_eq(mark[i], 0, "fold %d: row %zu appears %d times too few "
                     "(or too many) in train + val", f, i, mark[i]);
    free(mark);
}

Test(split, every_row_is_in_exactly_one_validation_fold)
{
    nt_dataset ds = make_data();
    nt_view v = nt_view_all(&ds);
    nt_rng r;
    nt_rng_seed(&r, 1);
    nt_kfold kf;
    cr_assert_eq(nt_kfold_make(&v, 5, &r, &kf), NT_OK, "%s", nt_last_error());
    cr_assert_eq(kf.k, 5, "k = %d", kf.k);
    int *seen = calloc(ds.n, sizeof(int));
    for (int f = 0; f < kf.k; f++)
        for (size_t k = 0; k < kf.val[f].n; k++) seen[kf.val[f].i[k]]++;
    for (size_t i = 0; i < ds.n; i++)
        cr_assert_eq(seen[i], 1, "row %zu is in %d validation folds", i,
                     seen[i]);
    free(seen);
    nt_kfold_free(&kf);
    nt_kfold_free(&kf); // twice is fine
    nt_dataset_free(&ds);
}

Test(split, train_and_val_of_each_fold_are_disjoint_and_cover_the_view)
{
    nt_dataset ds = make_data();
    nt_view v = nt_view_all(&ds);
    nt_rng r;
    nt_rng_seed(&r, 2);
    nt_kfold kf;
    cr_assert_eq(nt_kfold_make(&v, 3, &r, &kf), NT_OK, "%s", nt_last_error());
    for (int f = 0; f < 3; f++) check_fold_partitions_view(&kf, &v, f);
    nt_kfold_free(&kf);
    nt_dataset_free(&ds);
}

Test(split, folds_keep_class_proportions_within_one_row)
{
    nt_dataset ds = make_data();
    nt_view v = nt_view_all(&ds);
    for (int k = 2; k <= 13; k++) {
        nt_rng r;
        nt_rng_seed(&r, (uint64_t)k);
        nt_kfold kf;
        cr_assert_eq(nt_kfold_make(&v, k, &r, &kf), NT_OK, "k=%d: %s", k,
                     nt_last_error());
        size_t lo[C], hi[C], size_lo = SIZE_MAX, size_hi = 0;
        for (int c = 0; c < C; c++) lo[c] = SIZE_MAX, hi[c] = 0;
        for (int f = 0; f < k; f++) {
            size_t cnt[C] = {0};
            for (size_t j = 0; j < kf.val[f].n; j++)
                cnt[ds.y[kf.val[f].i[j]]]++;
            for (int c = 0; c < C; c++) {
                lo[c] = cnt[c] < lo[c] ? cnt[c] : lo[c];
                hi[c] = cnt[c] > hi[c] ? cnt[c] : hi[c];
            }
            size_lo = kf.val[f].n < size_lo ? kf.val[f].n : size_lo;
            size_hi = kf.val[f].n > size_hi ? kf.val[f].n : size_hi;
        }
        for (int c = 0; c < C; c++)
            cr_assert_leq(hi[c] - lo[c], 1u, "k=%d class %d: folds hold "
                          "between %zu and %zu rows", k, c, lo[c], hi[c]);
        cr_assert_leq(size_hi - size_lo, 1u, "k=%d: fold sizes from %zu to "
                      "%zu", k, size_lo, size_hi);
        nt_kfold_free(&kf);
    }
    nt_dataset_free(&ds);
}

static bool same_folds(const nt_kfold *a, const nt_kfold *b)
{
    for (int f = 0; f < a->k; f++) {
        if (a->val[f].n != b->val[f].n) return false;
        if (memcmp(a->val[f].i, b->val[f].i, a->val[f].n * sizeof(size_t)))
            return false;
    }
    return true;
}

Test(split, the_same_seed_gives_the_same_folds_and_another_seed_others)
{
    nt_dataset ds = make_data();
    nt_view v = nt_view_all(&ds);
    nt_kfold a, b, c;
    nt_rng r1 = nt_rng_stream(42, 0), r2 = nt_rng_stream(42, 0),
           r3 = nt_rng_stream(43, 0);
    cr_assert_eq(nt_kfold_make(&v, 4, &r1, &a), NT_OK, "%s", nt_last_error());
    cr_assert_eq(nt_kfold_make(&v, 4, &r2, &b), NT_OK, "%s", nt_last_error());
    cr_assert_eq(nt_kfold_make(&v, 4, &r3, &c), NT_OK, "%s", nt_last_error());
    cr_assert(same_folds(&a, &b), "seed 42 twice gave different folds");
    cr_assert(!same_folds(&a, &c), "seeds 42 and 43 gave the same folds");
    nt_kfold_free(&a);
    nt_kfold_free(&b);
    nt_kfold_free(&c);
    nt_dataset_free(&ds);
}

Test(split, k_outside_2_to_the_smallest_class_is_refused)
{
    nt_dataset ds = make_data();
    nt_view v = nt_view_all(&ds);
    nt_rng r;
    nt_rng_seed(&r, 3);
    nt_kfold kf;
    nt_status rc = nt_kfold_make(&v, 14, &r, &kf);
    const char *msg = nt_last_error();
    cr_assert_eq(rc, NT_ERR_ARG, "k=14: status %d, want NT_ERR_ARG", rc);
    cr_assert(strstr(msg, "14") && strstr(msg, "13") && strstr(msg, "class 4"),
              "message '%s' should give k=14, the count 13 and class 4", msg);
    cr_assert(kf.k == 0 && kf.train == NULL, "output not zeroed");
    rc = nt_kfold_make(&v, 1, &r, &kf);
    cr_assert_eq(rc, NT_ERR_ARG, "k=1: status %d, want NT_ERR_ARG", rc);
    rc = nt_kfold_make(&v, 13, &r, &kf);
    cr_assert_eq(rc, NT_OK, "k=13: %s", nt_last_error());
    nt_kfold_free(&kf);
    nt_dataset_free(&ds);
}

Test(split, kfold_over_a_subset_view_gives_absolute_rows_of_the_subset)
{
    nt_dataset ds = make_data();
    // the subset: every odd row, in reverse order
    nt_index sub;
    size_t m = ds.n / 2;
    cr_assert_eq(nt_index_range(m, &sub), NT_OK, "%s", nt_last_error());
    for (size_t k = 0; k < m; k++) sub.i[k] = ds.n - 1 - ds.n % 2 - 2 * k;
    for (size_t k = 0; k < m; k++)
        cr_assert(sub.i[k] % 2 == 1, "subset row %zu is even", sub.i[k]);
    nt_view v = nt_view_of(&ds, &sub);
    nt_rng r;
    nt_rng_seed(&r, 4);
    nt_kfold kf;
    cr_assert_eq(nt_kfold_make(&v, 3, &r, &kf), NT_OK, "%s", nt_last_error());
    for (int f = 0; f < 3; f++) {
        check_fold_partitions_view(&kf, &v, f);
        for (size_t k = 0; k < kf.val[f].n; k++)
            cr_assert(kf.val[f].i[k] % 2 == 1 && kf.val[f].i[k] < ds.n,
                      "fold %d val holds row %zu, not an odd row", f,
                      kf.val[f].i[k]);
    }
    nt_kfold_free(&kf);
    nt_index_free(&sub);
    nt_dataset_free(&ds);
}

Test(split, a_stratified_split_takes_the_fraction_from_every_class)
{
    nt_dataset ds = make_data();
    nt_view v = nt_view_all(&ds);
    nt_rng r;
    nt_rng_seed(&r, 5);
    nt_index tr, va;
    cr_assert_eq(nt_split_stratified(&v, 0.2, &r, &tr, &va), NT_OK, "%s",
                 nt_last_error());
    // round(103 * 0.2) = 21
    cr_assert_eq(va.n, 21u, "val has %zu rows, want 21", va.n);
    cr_assert_eq(tr.n + va.n, ds.n, "%zu + %zu != %zu", tr.n, va.n, ds.n);
    size_t cnt[C] = {0};
    int *seen = calloc(ds.n, sizeof(int));
    for (size_t k = 0; k < va.n; k++) cnt[ds.y[va.i[k]]]++, seen[va.i[k]]++;
    for (size_t k = 0; k < tr.n; k++) seen[tr.i[k]]++;
    for (size_t i = 0; i < ds.n; i++)
        cr_assert_eq(seen[i], 1, "row %zu is in %d parts", i, seen[i]);
    for (int c = 0; c < C; c++) {
        double want = 0.2 * (double)class_n[c];
        cr_assert(cnt[c] + 1 > want && (double)cnt[c] < want + 1,
                  "class %d: %zu in val, want about %.1f", c, cnt[c], want);
    }
    free(seen);
    nt_index_free(&tr);
    nt_index_free(&va);
    nt_dataset_free(&ds);
}

Test(split, a_stratified_split_keeps_one_of_each_small_class_on_each_side)
{
    nt_dataset ds;
    cr_assert_eq(nt_dataset_alloc(12, 1, 3, &ds), NT_OK, "%s", nt_last_error());
    int32_t y[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2}; // 9, 2 and 1 rows
    memcpy(ds.y, y, sizeof y);
    nt_view v = nt_view_all(&ds);
    nt_rng r;
    nt_rng_seed(&r, 6);
    nt_index tr, va;
    cr_assert_eq(nt_split_stratified(&v, 0.1, &r, &tr, &va), NT_OK, "%s",
                 nt_last_error());
    size_t cv[3] = {0}, ct[3] = {0};
    for (size_t k = 0; k < va.n; k++) cv[ds.y[va.i[k]]]++;
    for (size_t k = 0; k < tr.n; k++) ct[ds.y[tr.i[k]]]++;
    cr_assert(cv[0] >= 1 && ct[0] >= 1, "class 0: %zu val, %zu train", cv[0],
              ct[0]);
    cr_assert(cv[1] == 1 && ct[1] == 1, "class 1: %zu val, %zu train, want "
              "1 and 1", cv[1], ct[1]);
    cr_assert_eq(cv[2] + ct[2], 1u, "class 2 rows: %zu", cv[2] + ct[2]);
    nt_index_free(&tr);
    nt_index_free(&va);
    cr_assert_eq(nt_split_stratified(&v, 1.0, &r, &tr, &va), NT_ERR_ARG,
                 "val_frac 1 accepted");
    cr_assert_eq(nt_split_stratified(&v, 0.0, &r, &tr, &va), NT_ERR_ARG,
                 "val_frac 0 accepted");
    nt_dataset_free(&ds);
}

Test(split, gather_copies_the_right_rows_in_order)
{
    nt_dataset ds = make_data();
    nt_index sub;
    cr_assert_eq(nt_index_range(10, &sub), NT_OK, "%s", nt_last_error());
    for (size_t k = 0; k < 10; k++) sub.i[k] = 3 * k + 1; // rows 1, 4, ..., 28
    nt_view v = nt_view_of(&ds, &sub);
    size_t order[6] = {9, 0, 5, 5, 2, 7}; // positions in the view
    float X[4 * D];
    int32_t y[4];
    nt_view_gather(&v, order, 1, 4, X, y); // positions 0, 5, 5, 2
    size_t want_rows[4] = {1, 16, 16, 7};
    for (int r = 0; r < 4; r++) {
        size_t row = want_rows[r];
        cr_assert_eq(y[r], ds.y[row], "y[%d] = %d, want y of row %zu = %d", r,
                     y[r], row, ds.y[row]);
        for (int f = 0; f < D; f++)
            cr_assert_eq(X[r * D + f], (float)(10 * row + f),
                         "X[%d][%d] = %g, want %g", r, f, X[r * D + f],
                         (float)(10 * row + f));
    }
    nt_view_gather(&v, NULL, 8, 2, X, y); // view order: rows 25, 28
    cr_assert(X[0] == 250.0f && X[D] == 280.0f, "rows start %g and %g, want "
              "250 and 280", X[0], X[D]);
    nt_view all = nt_view_all(&ds);
    nt_view_gather(&all, NULL, 102, 1, X, y);
    cr_assert_eq(X[2], 1022.0f, "last row of the data set: X = %g, want 1022",
                 X[2]);
    nt_index_free(&sub);
    nt_dataset_free(&ds);
}

Test(split, gathering_a_slice_of_the_inputs_writes_those_columns_only)
{
    nt_dataset ds = make_data();
    nt_view all = nt_view_all(&ds);
    size_t order[3] = {7, 2, 30};
    float whole[3 * D], X[3 * D];
    int32_t y[3];
    nt_view_gather(&all, order, 0, 3, whole, y);
    for (size_t j0 = 0; j0 <= D; j0++)
        for (size_t j1 = j0; j1 <= D; j1++) {
            for (int i = 0; i < 3 * D; i++) X[i] = -1.0f;
            nt_view_gather_inputs(&all, order, 0, 3, j0, j1, X);
            for (int r = 0; r < 3; r++)
                for (size_t f = 0; f < D; f++) {
                    float want = f >= j0 && f < j1 ? whole[r * D + f] : -1.0f;
                    cr_assert_eq(X[r * D + f], want, "slice [%zu, %zu): X[%d][%zu] = %g, want %g",
                                 j0, j1, r, f, X[r * D + f], want);
                }
        }
    nt_dataset_free(&ds);
}

Test(split, index_of_view_copies_absolute_rows)
{
    nt_dataset ds = make_data();
    nt_view all = nt_view_all(&ds);
    nt_index ix, again;
    cr_assert_eq(nt_index_of_view(&all, &ix), NT_OK, "%s", nt_last_error());
    cr_assert_eq(ix.n, ds.n, "n = %zu, want %zu", ix.n, ds.n);
    for (size_t k = 0; k < ix.n; k++)
        cr_assert_eq(ix.i[k], k, "ix[%zu] = %zu", k, ix.i[k]);
    for (size_t k = 0; k < ix.n; k++) ix.i[k] = ix.n - 1 - k;
    nt_view rev = nt_view_of(&ds, &ix);
    cr_assert_eq(nt_view_row(&rev, 0), ds.n - 1, "row 0 of the reversed "
                 "view is %zu", nt_view_row(&rev, 0));
    cr_assert_eq(nt_index_of_view(&rev, &again), NT_OK, "%s", nt_last_error());
    cr_assert_eq(memcmp(again.i, ix.i, ix.n * sizeof(size_t)), 0,
                 "copy differs from the view's indices");
    nt_index_free(&ix);
    nt_index_free(&again);
    nt_index_free(&ix); // twice is fine
    nt_dataset_free(&ds);
}

Test(split, a_byte_data_set_gathers_the_floats_the_same_data_stored_as_floats_gather_and_its_bytes)
{
    enum { N = 300, DD = 20 };
    uint8_t *bytes = malloc(N * DD);
    cr_assert_not_null(bytes);
    nt_dataset fl, by;
    cr_assert_eq(nt_dataset_alloc(N, DD, 3, &fl), NT_OK, "%s", nt_last_error());
    for (size_t k = 0; k < N * DD; k++) {
        bytes[k] = (uint8_t)(k * 7 % 256); // every byte value occurs
        fl.X[k] = (float)bytes[k] / 255.0f;
    }
    cr_assert_eq(nt_dataset_adopt_pixels(N, DD, 3, bytes, &by), NT_OK, "%s", nt_last_error());
    for (size_t i = 0; i < N; i++) fl.y[i] = by.y[i] = (int32_t)(i % 3);
    size_t order[N];
    for (size_t i = 0; i < N; i++) order[i] = (i * 37 + 11) % N; // a permutation
    nt_view vf = nt_view_all(&fl), vb = nt_view_all(&by);
    float xf[64 * DD], xb[64 * DD];
    int32_t yf[64], yb[64];
    for (size_t start = 0; start + 64 <= N; start += 64) {
        nt_view_gather(&vf, order, start, 64, xf, yf);
        nt_view_gather(&vb, order, start, 64, xb, yb);
        cr_assert_eq(memcmp(xf, xb, sizeof xf), 0, "rows from %zu differ", start);
        cr_assert_eq(memcmp(yf, yb, sizeof yf), 0, "labels from %zu differ", start);
        // the same gather with the bytes behind the rows, where the floats
        // have none
        const uint8_t *rows[64] = {NULL};
        float x2[64 * DD];
        int32_t y2[64];
        cr_assert(!nt_view_gather_bytes(&vf, order, start, 64, x2, y2, rows),
                  "a float set gave bytes");
        cr_assert_null(rows[0]);
        cr_assert(memcmp(xf, x2, sizeof xf) == 0 && memcmp(yf, y2, sizeof yf) == 0);
        cr_assert(nt_view_gather_bytes(&vb, order, start, 64, x2, y2, rows));
        cr_assert(memcmp(xb, x2, sizeof xb) == 0 && memcmp(yb, y2, sizeof yb) == 0);
        for (size_t r = 0; r < 64; r++)
            cr_assert_eq(rows[r], by.pixels + order[start + r] * DD, "row %zu", start + r);
    }
    // and through a view of some of the rows
    size_t some[] = {5, 299, 0, 17};
    nt_index ix = {.i = some, .n = 4};
    nt_view sub = nt_view_of(&by, &ix);
    const uint8_t *rows[2];
    size_t pos[] = {3, 1};
    int32_t labels[2];
    cr_assert(nt_view_gather_bytes(&sub, pos, 0, 2, NULL, labels, rows));
    cr_assert(rows[0] == by.pixels + 17 * DD && rows[1] == by.pixels + 299 * DD,
              "a view's rows: %td, %td", (rows[0] - by.pixels) / DD, (rows[1] - by.pixels) / DD);
    nt_dataset_free(&fl);
    nt_dataset_free(&by);
    cr_assert_null(by.pixels, "free leaves pixels set");
}

Test(split, grouping_by_label_sorts_each_batch_stably_and_keeps_its_rows)
{
    nt_dataset ds = make_data();
    // a subset view (every row but the first 7), so positions and rows differ
    nt_index ix;
    cr_assert_eq(nt_index_range(ds.n - 7, &ix), NT_OK);
    for (size_t k = 0; k < ix.n; k++) ix.i[k] += 7;
    nt_view v = nt_view_of(&ds, &ix);
    size_t n = v.n, *order = malloc(n * sizeof *order), *before = malloc(n * sizeof *before);
    nt_rng r;
    nt_rng_seed(&r, 5);
    for (size_t k = 0; k < n; k++) order[k] = k;
    nt_rng_shuffle(&r, order, n);
    memcpy(before, order, n * sizeof *order);
    const size_t batch = 20; // 96 positions: 4 batches of 20 and a last of 16
    size_t *scratch = malloc((1000 + C + 1) * sizeof *scratch); // for batches up to 1000
    nt_order_group_by_label(&v, order, n, batch, scratch);
    for (size_t s = 0; s < n; s += batch) {
        size_t e = s + batch < n ? s + batch : n;
        for (size_t k = s; k < e; k++) {
            // the same positions: each one in the batch before, once
            size_t hits = 0;
            for (size_t j = s; j < e; j++) hits += before[j] == order[k];
            cr_assert_eq(hits, 1, "batch at %zu: position %zu came from elsewhere", s, order[k]);
            if (k == s) continue;
            int32_t a = ds.y[nt_view_row(&v, order[k - 1])], b = ds.y[nt_view_row(&v, order[k])];
            cr_assert(a <= b, "batch at %zu: label %d before %d", s, a, b);
            if (a != b) continue;
            // within a label, the shuffled order is kept
            size_t pa = 0, pb = 0;
            for (size_t j = s; j < e; j++) {
                if (before[j] == order[k - 1]) pa = j;
                if (before[j] == order[k]) pb = j;
            }
            cr_assert(pa < pb, "batch at %zu: label %d's rows swapped", s, a);
        }
    }
    // a batch bigger than the order: one segment, the whole order sorted
    memcpy(order, before, n * sizeof *order);
    nt_order_group_by_label(&v, order, n, 1000, scratch);
    for (size_t k = 1; k < n; k++)
        cr_assert(ds.y[nt_view_row(&v, order[k - 1])] <= ds.y[nt_view_row(&v, order[k])]);
    free(scratch);
    free(order);
    free(before);
    nt_index_free(&ix);
    nt_dataset_free(&ds);
}
