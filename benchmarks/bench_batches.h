/* bench_batches.h - what a kernel benchmark (bench_sparse.c) needs: its
 * options, and the batches nt_train makes. */
#ifndef NNTUNE_BENCH_BATCHES_H
#define NNTUNE_BENCH_BATCHES_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_args.h"
#include "nntune/dataset.h"
#include "nntune/rng.h"
#include "nntune/split.h"

#define KERNEL_MAX_UNITS 8

typedef struct {
    int units[KERNEL_MAX_UNITS], nu;
    int batch, runs;
    long images;       /* 0: all of them */
    const char *data;
    bool peak;         /* --peak, where allowed */
} kernel_args;

/* --units LIST, --batch N, --runs N, --images N, --data DIR (and --peak
 * when allow_peak) over the defaults already in ka. false on any other
 * argument or an unreadable list (the caller checks the values' ranges). */
static inline bool kernel_args_parse(kernel_args *ka, int argc, char **argv, bool allow_peak)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--units") == 0 && v) ka->nu = parse_list(v, ka->units, KERNEL_MAX_UNITS), i++;
        else if (strcmp(a, "--batch") == 0 && v) ka->batch = atoi(v), i++;
        else if (strcmp(a, "--runs") == 0 && v) ka->runs = atoi(v), i++;
        else if (strcmp(a, "--images") == 0 && v) ka->images = atol(v), i++;
        else if (strcmp(a, "--data") == 0 && v) ka->data = v, i++;
        else if (allow_peak && strcmp(a, "--peak") == 0) ka->peak = true;
        else return false;
    }
    return ka->nu > 0;
}

typedef struct {
    nt_dataset train;
    size_t n, d;       /* images used (whole batches), features */
    float *X;          /* (n, d): the batches one after another */
    int32_t *y;        /* (n) */
    const uint8_t **rows; /* (n) the same rows as the data set's bytes, or NULL */
} kernel_batches;

static inline void kernel_batches_free(kernel_batches *kb)
{
    nt_free(kb->X);
    nt_free(kb->y);
    free(kb->rows);
    nt_dataset_free(&kb->train);
    memset(kb, 0, sizeof *kb);
}

/* The batches nt_train makes from data's first `images` training images
 * (all when 0, rounded down to whole batches): shuffled (seed 1), grouped
 * by label within each batch, gathered to floats, and with the data set's
 * bytes behind each row when it has them. On failure prints
 * "prog: why" and returns false. */
static inline bool kernel_batches_load(kernel_batches *kb, const char *prog, const char *data,
                                       long images, int batch)
{
    memset(kb, 0, sizeof *kb);
    nt_dataset test = {0};
    if (nt_data_open(data, NULL, &kb->train, &test) != NT_OK) {
        fprintf(stderr, "%s: %s\n", prog, nt_last_error());
        return false;
    }
    nt_dataset_free(&test);
    const nt_dataset *ds = &kb->train;
    kb->d = ds->d;
    size_t n = images > 0 && (size_t)images < ds->n ? (size_t)images : ds->n;
    kb->n = n / (size_t)batch * (size_t)batch;
    if (kb->n == 0) {
        fprintf(stderr, "%s: fewer than one batch of %d images\n", prog, batch);
        kernel_batches_free(kb);
        return false;
    }
    nt_view all = nt_view_all(ds);
    size_t *order = malloc(ds->n * sizeof *order);
    size_t *scratch = malloc(((size_t)batch + (size_t)ds->n_classes + 1) * sizeof *scratch);
    kb->X = nt_alloc(kb->n * kb->d * sizeof *kb->X);
    kb->y = nt_alloc(kb->n * sizeof *kb->y);
    bool ok = order && scratch && kb->X && kb->y;
    if (ok) {
        for (size_t i = 0; i < ds->n; i++) order[i] = i;
        nt_rng rng = nt_rng_stream(1, 0);
        nt_rng_shuffle(&rng, order, ds->n);
        nt_order_group_by_label(&all, order, kb->n, (size_t)batch, scratch);
        kb->rows = malloc(kb->n * sizeof *kb->rows);
        if (!nt_view_gather_bytes(&all, order, 0, kb->n, kb->X, kb->y, kb->rows)) {
            free(kb->rows);
            kb->rows = NULL;
        }
    } else {
        fprintf(stderr, "%s: out of memory for %zu images\n", prog, kb->n);
        kernel_batches_free(kb);
    }
    free(order);
    free(scratch);
    return ok;
}

#endif
