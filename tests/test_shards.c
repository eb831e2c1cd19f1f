/* test_shards.c - a step split between threads by the weights' rows gives
 * the whole batch's loss, hit count, dropout masks and (to rounding)
 * gradient, on GEMMs and on the sparse first layer; its updates cover every
 * parameter once; gathered by a hook, each shard reads its columns from
 * where the hook put them; the result depends on the number of shards only,
 * not on how many threads run them; nt_train with shards learns and is
 * reproducible; the optimizer's pieces give exactly its whole step. */
#include <criterion/criterion.h>

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "nntune/dropout.h"
#include "nntune/shards.h"
#include "nntune/train.h"

#include "net_helpers.h"

static nt_arch arch2(int n_in, int h1, int h2, int n_out, float dropout)
{
    nt_arch a = {.n_in = n_in, .n_out = n_out, .n_hidden = 2, .act = NT_ACT_RELU,
                 .dropout = dropout};
    a.hidden[0] = h1;
    a.hidden[1] = h2;
    return a;
}

/* nt_shard_rows as [row0, row0 + rows), the form nt_shard_inputs gives. */
static void row_cut(int B, int n, int k, int *lo, int *hi)
{
    int rows;
    nt_shard_rows(B, n, k, lo, &rows);
    *hi = *lo + rows;
}

/* The n parts [lo[k], hi[k]) that cut (row_cut, nt_shard_inputs) makes of
 * [0, total), checked to be consecutive and to cover it exactly. */
static void cuts_cover(void (*cut)(int, int, int, int *, int *), const char *what, int total,
                       int n, int *lo, int *hi)
{
    int next = 0;
    for (int k = 0; k < n; k++) {
        cut(total, n, k, &lo[k], &hi[k]);
        cr_assert_eq(lo[k], next, "%s %d n %d part %d starts at %d, want %d", what, total, n,
                     k, lo[k], next);
        cr_assert(hi[k] >= lo[k], "%s %d n %d part %d ends at %d, before it starts", what,
                  total, n, k, hi[k]);
        next = hi[k];
    }
    cr_assert_eq(next, total, "%s %d n %d: parts cover %d", what, total, n, next);
}

Test(shards, blocks_cover_the_batch_in_order_and_block_0_is_never_empty)
{
    int lo[NT_MAX_SHARDS], hi[NT_MAX_SHARDS];
    for (int B = 1; B <= 40; B++) {
        for (int n = 1; n <= 7; n++) {
            cuts_cover(row_cut, "B", B, n, lo, hi);
            for (int k = 0; k < n; k++)
                cr_assert(hi[k] - lo[k] == B / n || hi[k] - lo[k] == B / n + 1,
                          "B %d n %d block %d has %d rows", B, n, k, hi[k] - lo[k]);
            int row0, rows;
            nt_shard_rows(B, n < B ? n : B, 0, &row0, &rows);
            cr_assert(rows >= 1, "B %d n %d: block 0 is empty", B, n);
        }
    }
}

Test(shards, input_cuts_cover_the_layer_in_order_at_multiples_of_16)
{
    int lo[NT_MAX_SHARDS], hi[NT_MAX_SHARDS];
    for (int in = 1; in <= 300; in += 7) {
        for (int n = 1; n <= 7; n++) {
            cuts_cover(nt_shard_inputs, "in", in, n, lo, hi);
            for (int k = 0; k < n; k++)
                cr_assert(hi[k] % 16 == 0 || hi[k] == in, "in %d n %d shard %d ends at %d",
                          in, n, k, hi[k]);
        }
    }
}

Test(shards, a_block_of_rows_draws_its_part_of_the_whole_batchs_dropout_mask)
{
    enum { N = 1000 };
    float x[N], y_whole[N], y_part[N];
    uint8_t m_whole[N], m_part[N];
    for (int i = 0; i < N; i++) x[i] = 1.0f + (float)i;
    nt_dropout_forward_at(y_whole, m_whole, x, N, 0.3f, 12345, 0);
    // the same mask drawn as three blocks at their offsets
    const size_t cut[] = {0, 333, 334, N};
    for (int b = 0; b < 3; b++)
        nt_dropout_forward_at(y_part + cut[b], m_part + cut[b], x + cut[b],
                              cut[b + 1] - cut[b], 0.3f, 12345, cut[b]);
    cr_assert(memcmp(m_whole, m_part, N) == 0, "block masks differ from the whole mask");
    cr_assert(memcmp(y_whole, y_part, sizeof y_whole) == 0, "block outputs differ");
    // and the rng version is the seeded one with the rng's next draw
    nt_rng r, r2;
    nt_rng_seed(&r, 7);
    r2 = r;
    nt_dropout_forward(y_whole, m_whole, x, N, 0.3f, &r);
    nt_dropout_forward_at(y_part, m_part, x, N, 0.3f, nt_rng_u64(&r2), 0);
    cr_assert(memcmp(m_whole, m_part, N) == 0, "nt_dropout_forward is not _at(seed, 0)");
}

/* Where each parameter's update went: counts per parameter. */
typedef struct {
    int *hits;
} update_log;

static void log_update(void *user, size_t lo, size_t hi)
{
    update_log *u = user;
    for (size_t i = lo; i < hi; i++) {
        #pragma omp atomic
        u->hits[i]++;
    }
}

/* Two steps of a D-40-24-5 net (hidden false: D-5) on B rows, whole and in
 * n shards, from the same weights and rng state: loss, hits and gradient
 * must agree, and the update hook must see every parameter once. sparse:
 * 85% of x is zero, so the first layer runs on its non-zero inputs (the
 * second step's cuts come from the first step's lists). */
static void check_step_matches_whole(int B, int n, float dropout, bool sparse, bool hidden)
{
    enum { D = 50, C = 5, BMAX = 64 };
    nt_arch a = arch2(D, 40, 24, C, dropout);
    if (!hidden) a.n_hidden = 0;
    nt_net whole = make_net(a, BMAX, 3), cut = make_net(a, BMAX, 3);
    nt_shards s;
    cr_assert_eq(nt_shards_init(&s, &cut, n), NT_OK, "%s", nt_last_error());
    nt_rng r1, r2;
    nt_rng_seed(&r1, 5);
    r2 = r1;
    for (int step = 0; step < 2; step++) {
        float x[BMAX * D];
        int32_t y[BMAX];
        fill_data(x, y, B, D, C, 4 + step);
        if (sparse) {
            nt_rng z;
            nt_rng_seed(&z, 6 + step);
            // denser on the right, so the second step's cuts move off the middle
            for (int i = 0; i < B * D; i++)
                if (nt_rng_uniform(&z) < (i % D < D / 2 ? 0.95 : 0.75)) x[i] = 0.0f;
        }

        const float *p = nt_net_forward(&whole, x, B, true, &r1);
        cr_assert_eq(whole.input_sparse, sparse && nt_sparse_available(),
                     "the whole batch's first layer sparse: %d", whole.input_sparse);
        size_t hits_whole = 0;
        for (int i = 0; i < B; i++) hits_whole += nt_argmax(p + (size_t)i * C, C) == y[i];
        float loss_whole = nt_net_backward(&whole, y, B, 0.0f);

        update_log log = {calloc(cut.n_params, sizeof(int))};
        nt_shard_hooks hooks = {.update = log_update, .user = &log};
        size_t hits = 0;
        float loss = nt_shards_step(&s, x, y, B, &r2, &hits, &hooks);
        cr_assert_eq(s.ran_sparse, whole.input_sparse, "B %d n %d: sparse %d, whole %d", B, n,
                     s.ran_sparse, whole.input_sparse);
        cr_assert(nt_rng_u64(&r1) == nt_rng_u64(&r2),
                  "B %d n %d: the step took a different number of draws from the rng", B, n);
        cr_assert_eq(hits, hits_whole, "B %d n %d: %zu rows right, whole batch %zu", B, n, hits,
                     hits_whole);
        cr_assert(fabsf(loss - loss_whole) <= 1e-6f * fabsf(loss_whole),
                  "B %d n %d: loss %.9g, whole batch %.9g", B, n, (double)loss,
                  (double)loss_whole);
        double gmax = 0;
        for (size_t i = 0; i < whole.n_params; i++)
            if (fabs(whole.grads[i]) > gmax) gmax = fabs(whole.grads[i]);
        cr_assert(gmax > 0, "the whole batch's gradient is zero");
        for (size_t i = 0; i < whole.n_params; i++) {
            cr_assert(fabs(cut.grads[i] - whole.grads[i]) <= 1e-5 * gmax,
                      "B %d n %d dropout %g sparse %d step %d: grad[%zu] = %.9g, whole batch "
                      "%.9g", B, n, (double)dropout, sparse, step, i, (double)cut.grads[i],
                      (double)whole.grads[i]);
            cr_assert_eq(log.hits[i], 1, "B %d n %d: parameter %zu updated %d times", B, n, i,
                         log.hits[i]);
        }
        free(log.hits);
    }
    nt_shards_free(&s);
    nt_net_free(&whole);
    nt_net_free(&cut);
}

Test(shards, a_split_step_gives_the_whole_batchs_loss_hits_and_gradient)
{
    const int batches[] = {1, 2, 7, 33, 64}, counts[] = {1, 2, 3, 5};
    for (int bi = 0; bi < 5; bi++)
        for (int ni = 0; ni < 4; ni++) {
            check_step_matches_whole(batches[bi], counts[ni], 0.0f, false, true);
            check_step_matches_whole(batches[bi], counts[ni], 0.3f, false, true);
            check_step_matches_whole(batches[bi], counts[ni], 0.3f, true, true);
            check_step_matches_whole(batches[bi], counts[ni], 0.0f, false, false);
            check_step_matches_whole(batches[bi], counts[ni], 0.0f, true, false);
        }
}

Test(shards, the_first_layers_cuts_follow_the_last_batchs_listed_values)
{
    // inputs 0-31 always zero, 32-63 non-zero in every other row (25%): the
    // listed values lie in groups 2 and 3 (16 columns each per block of 4
    // rows), so two shards split them at 48; a dense batch (GEMMs) then
    // gives equal counts of inputs again, 32
    enum { D = 64, B = 8 };
    nt_arch a = arch2(D, 8, 8, 3, 0.0f);
    nt_net net = make_net(a, B, 7);
    nt_shards s;
    cr_assert_eq(nt_shards_init(&s, &net, 2), NT_OK, "%s", nt_last_error());
    cr_assert_eq(s.cut[1], 32, "before any batch: cut at %d, want 32", s.cut[1]);
    float x[B * D];
    int32_t y[B] = {0, 1, 2, 0, 1, 2, 0, 1};
    for (int i = 0; i < B * D; i++) x[i] = i % D >= 32 && (i / D + i % D) % 2 ? 0.5f : 0.0f;
    nt_rng r;
    nt_rng_seed(&r, 8);
    size_t hits = 0;
    nt_shards_step(&s, x, y, B, &r, &hits, NULL);
    const bool sparse = nt_sparse_available();
    cr_assert_eq(s.ran_sparse, sparse, "a 25%% non-zero batch ran sparse: %d", s.ran_sparse);
    cr_assert_eq(s.cut[1], sparse ? 48 : 32, "after it: cut at %d, want %d", s.cut[1],
                 sparse ? 48 : 32);
    for (int i = 0; i < B * D; i++) x[i] = 0.5f;
    nt_shards_step(&s, x, y, B, &r, &hits, NULL);
    cr_assert(!s.ran_sparse, "a dense batch ran sparse");
    cr_assert_eq(s.cut[1], 32, "after a dense batch: cut at %d, want 32", s.cut[1]);
    nt_shards_free(&s);
    nt_net_free(&net);
}

// The rows as bytes beside x change nothing but where the shards read which
// values are non-zero: the same loss, gradient and next cuts, step after step
Test(shards, a_step_given_the_rows_bytes_computes_what_one_without_them_does)
{
    enum { D = 100, B = 70, STEPS = 3 };
    nt_arch a = arch2(D, 24, 16, 3, 0.0f);
    nt_net n1 = make_net(a, B, 9), n2 = make_net(a, B, 9);
    nt_shards s1, s2;
    cr_assert_eq(nt_shards_init(&s1, &n1, 2), NT_OK, "%s", nt_last_error());
    cr_assert_eq(nt_shards_init(&s2, &n2, 2), NT_OK, "%s", nt_last_error());
    static uint8_t bytes[B][D];
    float x[B * D];
    int32_t y[B];
    const uint8_t *rows[B];
    nt_rng r, r1, r2;
    nt_rng_seed(&r, 31);
    for (int step = 0; step < STEPS; step++) {
        for (int i = 0; i < B; i++) {
            for (int j = 0; j < D; j++) {
                // the first inputs empty, the rest 30% non-zero
                bytes[i][j] = j >= 20 && nt_rng_uniform(&r) < 0.3 ? (uint8_t)(1 + i % 255) : 0;
                x[i * D + j] = bytes[i][j] / 255.0f;
            }
            y[i] = i % 3;
            rows[i] = bytes[i];
        }
        nt_rng_seed(&r1, 5);
        nt_rng_seed(&r2, 5);
        size_t h1 = 0, h2 = 0;
        nt_shard_hooks with = {.rows = rows};
        float l1 = nt_shards_step(&s1, x, y, B, &r1, &h1, NULL);
        float l2 = nt_shards_step(&s2, x, y, B, &r2, &h2, &with);
        cr_assert(l1 == l2 && h1 == h2, "step %d: loss %g / %g, hits %zu / %zu", step,
                  (double)l1, (double)l2, h1, h2);
        cr_assert_eq(s1.ran_sparse, s2.ran_sparse);
        cr_assert_eq(s1.cut[1], s2.cut[1], "step %d: next cut %d / %d", step, s1.cut[1],
                     s2.cut[1]);
        cr_assert(memcmp(n1.grads, n2.grads, n1.n_params * sizeof *n1.grads) == 0,
                  "step %d: the gradients differ", step);
    }
    nt_shards_free(&s1);
    nt_shards_free(&s2);
    nt_net_free(&n1);
    nt_net_free(&n2);
}

/* A gather hook's source: the whole batch, copied into x and y as asked. */
typedef struct {
    const float *x;
    const int32_t *y;
    int32_t *y_out;
    int B, D;
} gather_source;

static void gather_columns(void *user, float *x, int i0, int i1, int row0, int rows)
{
    gather_source *g = user;
    for (int i = 0; i < g->B; i++)
        memcpy(x + (size_t)i * g->D + i0, g->x + (size_t)i * g->D + i0,
               (size_t)(i1 - i0) * sizeof *x);
    memcpy(g->y_out + row0, g->y + row0, (size_t)rows * sizeof *g->y);
}

/* Each shard gathers its columns into the x the hook is handed, and reads
 * them from there: the step's own x, NaN but for shard 0's columns, must
 * not leak into the others' products. */
Test(shards, a_gathered_step_reads_each_shards_columns_where_its_hook_put_them)
{
    enum { D = 100, B = 70, STEPS = 3 };
    nt_arch a = arch2(D, 24, 16, 3, 0.0f);
    for (int n = 2; n <= 3; n++)
        for (int mode = 0; mode <= 2; mode++) {
            // 0: sparse data, 1: dense data, 2: dense data and the sparse
            // layer turned off (no build: the shards skip its barriers)
            const int dense = mode >= 1;
            nt_net n1 = make_net(a, B, 9), n2 = make_net(a, B, 9);
            if (mode == 2) n1.sparse_max_density = n2.sparse_max_density = 0.0;
            nt_shards s1, s2;
            cr_assert_eq(nt_shards_init(&s1, &n1, n), NT_OK, "%s", nt_last_error());
            cr_assert_eq(nt_shards_init(&s2, &n2, n), NT_OK, "%s", nt_last_error());
            static float x[B * D], x_gathered[B * D];
            int32_t y[B], y_gathered[B];
            nt_rng r, r1, r2;
            nt_rng_seed(&r, 32);
            for (int step = 0; step < STEPS; step++) {
                for (int i = 0; i < B * D; i++) {
                    // 30% non-zero (the sparse first layer) or all (GEMMs)
                    const bool on = dense || nt_rng_uniform(&r) < 0.3;
                    x[i] = on ? (float)nt_rng_uniform(&r) : 0.0f;
                    x_gathered[i] = NAN;
                }
                for (int i = 0; i < B; i++) y[i] = y_gathered[i] = i % 3;
                gather_source src = {x, y, y_gathered, B, D};
                nt_shard_hooks hooks = {.gather = gather_columns, .user = &src};
                nt_rng_seed(&r1, 5);
                nt_rng_seed(&r2, 5);
                size_t h1 = 0, h2 = 0;
                float l1 = nt_shards_step(&s1, x, y, B, &r1, &h1, NULL);
                float l2 = nt_shards_step(&s2, x_gathered, y_gathered, B, &r2, &h2, &hooks);
                cr_assert(l1 == l2 && h1 == h2, "n %d mode %d step %d: loss %g / %g, hits "
                          "%zu / %zu", n, mode, step, (double)l1, (double)l2, h1, h2);
                cr_assert_eq(s1.ran_sparse, s2.ran_sparse);
                cr_assert_eq(s2.ran_sparse, !dense && nt_sparse_available(),
                             "n %d mode %d: sparse %d", n, mode, s2.ran_sparse);
                cr_assert(memcmp(n1.grads, n2.grads, n1.n_params * sizeof *n1.grads) == 0,
                          "n %d mode %d step %d: the gradients differ", n, mode, step);
            }
            nt_shards_free(&s1);
            nt_shards_free(&s2);
            nt_net_free(&n1);
            nt_net_free(&n2);
        }
}

/* What a step's hooks were handed: each shard's columns, by gather and
 * by prefetch (the next batch's), sorted by their first column */
typedef struct {
    gather_source src;
    int gathered[NT_MAX_SHARDS][2], prefetched[NT_MAX_SHARDS][2];
    int n_gathered, n_prefetched;
} cut_log;

static void log_cut(int (*cuts)[2], int *n, int i0, int i1)
{
#pragma omp critical(test_cut_log)
    {
        int at = (*n)++;
        for (; at > 0 && cuts[at - 1][0] > i0; at--) memcpy(cuts[at], cuts[at - 1], sizeof *cuts);
        cuts[at][0] = i0;
        cuts[at][1] = i1;
    }
}

static void gather_logged(void *user, float *x, int i0, int i1, int row0, int rows)
{
    cut_log *log = user;
    gather_columns(&log->src, x, i0, i1, row0, rows);
    log_cut(log->gathered, &log->n_gathered, i0, i1);
}

static void prefetch_logged(void *user, int i0, int i1)
{
    cut_log *log = user;
    log_cut(log->prefetched, &log->n_prefetched, i0, i1);
}

/* The prefetch hook is a hint for the next step's gather: each shard is
 * handed the columns it gathers in the next step, which move with the
 * batches' non-zero values (next_cuts). */
Test(shards, the_prefetch_hook_gets_the_columns_each_shard_gathers_next)
{
    enum { D = 100, B = 70, STEPS = 4 };
    nt_arch a = arch2(D, 24, 16, 3, 0.0f);
    for (int n = 2; n <= 3; n++) {
        nt_net net = make_net(a, B, 9);
        nt_shards s;
        cr_assert_eq(nt_shards_init(&s, &net, n), NT_OK, "%s", nt_last_error());
        static float x[B * D], xg[B * D];
        int32_t y[B], yg[B];
        nt_rng r, rs;
        nt_rng_seed(&r, 41);
        nt_rng_seed(&rs, 6);
        int before[NT_MAX_SHARDS][2];
        bool moved = false;
        for (int step = 0; step < STEPS; step++) {
            for (int i = 0; i < B * D; i++) {
                // the non-zero values crowd to one side or the other
                const double p = (i % D < D / 2) == (step % 2 == 0) ? 0.6 : 0.05;
                x[i] = nt_rng_uniform(&r) < p ? (float)nt_rng_uniform(&r) : 0.0f;
            }
            for (int i = 0; i < B; i++) y[i] = i % 3;
            cut_log log = {.src = {x, y, yg, B, D}};
            nt_shard_hooks hooks = {.gather = gather_logged, .prefetch = prefetch_logged,
                                    .user = &log};
            size_t hits = 0;
            nt_shards_step(&s, xg, yg, B, &rs, &hits, &hooks);
            cr_assert_eq(log.n_gathered, n);
            cr_assert_eq(log.n_prefetched, n);
            if (step > 0) {
                cr_assert(memcmp(before, log.gathered, sizeof(int[2]) * n) == 0,
                          "n %d step %d: the step gathered other columns than the one "
                          "before prefetched", n, step);
                moved |= memcmp(log.gathered, log.prefetched, sizeof(int[2]) * n) != 0;
            }
            memcpy(before, log.prefetched, sizeof(int[2]) * n);
        }
        cr_assert(moved || !nt_sparse_available(),
                  "n %d: the cuts never moved, so the test tells nothing", n);
        nt_shards_free(&s);
        nt_net_free(&net);
    }
}

Test(shards, a_diverged_step_updates_nothing)
{
    enum { D = 8, C = 3, B = 6 };
    nt_net net = make_net(arch2(D, 20, 16, C, 0.0f), B, 2);
    float x[B * D];
    int32_t y[B];
    fill_data(x, y, B, D, C, 1);
    x[3] = NAN;
    nt_shards s;
    cr_assert_eq(nt_shards_init(&s, &net, 2), NT_OK, "%s", nt_last_error());
    update_log log = {calloc(net.n_params, sizeof(int))};
    nt_shard_hooks hooks = {.update = log_update, .user = &log};
    nt_rng r;
    nt_rng_seed(&r, 1);
    size_t hits = 0;
    float loss = nt_shards_step(&s, x, y, B, &r, &hits, &hooks);
    cr_assert(!isfinite(loss), "loss %g from a NaN input", (double)loss);
    for (size_t i = 0; i < net.n_params; i++)
        cr_assert_eq(log.hits[i], 0, "parameter %zu updated after a NaN loss", i);
    free(log.hits);
    nt_shards_free(&s);
    nt_net_free(&net);
}

static nt_dataset make_blobs(size_t n, size_t d, int k, uint64_t seed)
{
    nt_dataset ds;
    cr_assert_eq(nt_dataset_alloc(n, d, k, &ds), NT_OK, "%s", nt_last_error());
    nt_rng r;
    nt_rng_seed(&r, seed);
    double centre[4][16];
    for (int c = 0; c < k; c++)
        for (size_t j = 0; j < d; j++) centre[c][j] = 2.0 * nt_rng_normal(&r);
    for (size_t i = 0; i < n; i++) {
        int c = (int)(i % (size_t)k);
        ds.y[i] = c;
        for (size_t j = 0; j < d; j++) ds.X[i * d + j] = (float)(centre[c][j] + nt_rng_normal(&r));
    }
    return ds;
}

/* Train a 16-32-16-4 net on blobs for 5 epochs with `shards`; the weights
 * come back in a fresh allocation, the history in *h. */
static float *train_with(const nt_dataset *ds, int shards, int batch, nt_history *h)
{
    nt_net net = make_net(arch2(16, 32, 16, 4, 0.2f), 64, 8);
    nt_train_config cfg = nt_train_defaults();
    cfg.epochs = 5;
    cfg.batch = batch;
    cfg.lr = 1e-2;
    cfg.l2 = 1e-4f;
    cfg.shards = shards;
    nt_view all = nt_view_all(ds);
    nt_rng r;
    nt_rng_seed(&r, 9);
    cr_assert_eq(nt_train(&net, &cfg, &all, NULL, &r, NULL, NULL, h), NT_OK, "%s",
                 nt_last_error());
    float *w = malloc(net.n_params * sizeof *w);
    memcpy(w, net.params, net.n_params * sizeof *w);
    nt_net_free(&net);
    return w;
}

Test(shards, training_with_shards_learns_and_repeats_bit_for_bit)
{
    nt_dataset ds = make_blobs(999, 16, 4, 2);  // 999 rows: a short last batch
    nt_history h1, h2, h0;
    float *w1 = train_with(&ds, 2, 50, &h1), *w2 = train_with(&ds, 2, 50, &h2);
    float *w0 = train_with(&ds, 0, 50, &h0);
    size_t n = (size_t)(16 * 32 + 32 + 32 * 16 + 16 + 16 * 4 + 4);
    cr_assert(memcmp(w1, w2, n * sizeof *w1) == 0, "two runs with 2 shards differ");
    cr_assert(h1.epoch[4].train_acc > 0.95, "train accuracy %.4f after 5 epochs with shards "
              "(%.4f without)", h1.epoch[4].train_acc, h0.epoch[4].train_acc);
    // the same training up to rounding: the same masks, shuffles and steps
    cr_assert(fabs(h1.epoch[4].train_loss - h0.epoch[4].train_loss) < 0.02,
              "final train loss %.5f with shards, %.5f without", h1.epoch[4].train_loss,
              h0.epoch[4].train_loss);
    nt_history_free(&h0);
    nt_history_free(&h1);
    nt_history_free(&h2);
    free(w0);
    free(w1);
    free(w2);
    nt_dataset_free(&ds);
}

Test(shards, the_result_depends_on_the_shard_count_not_on_the_threads_that_run_them)
{
    nt_dataset ds = make_blobs(500, 16, 4, 3);
    nt_history h1, h2;
    float *parallel = train_with(&ds, 3, 64, &h1);
    // no active parallel region: every block runs on this one thread
    int levels = omp_get_max_active_levels();
    omp_set_max_active_levels(0);
    float *serial = train_with(&ds, 3, 64, &h2);
    omp_set_max_active_levels(levels);
    size_t n = (size_t)(16 * 32 + 32 + 32 * 16 + 16 + 16 * 4 + 4);
    cr_assert(memcmp(parallel, serial, n * sizeof *serial) == 0,
              "3 shards on 3 threads and on 1 thread give different weights");
    nt_history_free(&h1);
    nt_history_free(&h2);
    free(parallel);
    free(serial);
    nt_dataset_free(&ds);
}

Test(shards, the_optimizers_pieces_give_exactly_its_whole_step)
{
    enum { N = 1001 };
    const nt_opt_kind kinds[] = {NT_OPT_ADAM, NT_OPT_SGD};
    for (int ki = 0; ki < 2; ki++) {
        nt_opt_config c = nt_opt_defaults(kinds[ki]);
        nt_optim whole, cut;
        cr_assert_eq(nt_optim_init(&c, N, &whole), NT_OK, "%s", nt_last_error());
        cr_assert_eq(nt_optim_init(&c, N, &cut), NT_OK, "%s", nt_last_error());
        float p1[N], p2[N], g[N];
        nt_rng r;
        nt_rng_seed(&r, 4);
        for (int i = 0; i < N; i++) p1[i] = p2[i] = (float)nt_rng_normal(&r);
        for (int step = 0; step < 5; step++) {
            for (int i = 0; i < N; i++) g[i] = (float)nt_rng_normal(&r);
            nt_optim_step(&whole, p1, g, 1e-2f);
            nt_optim_next(&cut);
            nt_optim_update(&cut, p2, g, 1e-2f, 600, N);  // any order, any cut
            nt_optim_update(&cut, p2, g, 1e-2f, 0, 17);
            nt_optim_update(&cut, p2, g, 1e-2f, 17, 600);
        }
        cr_assert(memcmp(p1, p2, sizeof p1) == 0, "%s: the pieces differ from the whole step",
                  nt_opt_name(kinds[ki]));
        nt_optim_free(&whole);
        nt_optim_free(&cut);
    }
}

Test(shards, init_refuses_a_count_out_of_range)
{
    nt_net net = make_net(arch2(4, 3, 3, 2, 0.0f), 8, 1);
    nt_shards s;
    cr_assert_eq(nt_shards_init(&s, &net, 0), NT_ERR_ARG, "0 shards accepted");
    cr_assert(strstr(nt_last_error(), "shards") != NULL, "message: %s", nt_last_error());
    cr_assert_eq(nt_shards_init(&s, &net, NT_MAX_SHARDS + 1), NT_ERR_ARG, "too many accepted");
    nt_net_free(&net);
}
