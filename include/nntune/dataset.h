/* dataset.h - a labelled data set in memory: n samples of d features, with
 * integer labels y in [0, n_classes). The features are kept one of two ways:
 * a float32 row-major matrix X (n x d) (CSV files), or the raw bytes of an
 * IDX image file (n x d, one byte a pixel), whose feature is byte / 255: a
 * quarter of the memory, and a quarter of the traffic when batches are
 * gathered. Readers go through nt_dataset_row or nt_view_gather (split.h),
 * which give float rows either way. Also the lookup from a --data argument
 * (a known name, an IDX folder or a CSV file) to a train and a test set. */
#ifndef NNTUNE_DATASET_H
#define NNTUNE_DATASET_H

#include "nntune/common.h"

typedef struct {
    size_t n;          /* samples */
    size_t d;          /* features per sample */
    int n_classes;     /* labels are in [0, n_classes) */
    float *X;          /* (n, d) row-major, owned, 64-byte aligned; or NULL */
    uint8_t *pixels;   /* (n, d) row-major, owned, when X is NULL: feature
                          (i, j) is pixels[i d + j] / 255.0f */
    int32_t *y;        /* (n), owned */
    char source[256];  /* where it came from, for messages and reports */
} nt_dataset;

/* Allocate an n x d data set with zeroed X and y. Free with nt_dataset_free. */
nt_status nt_dataset_alloc(size_t n, size_t d, int n_classes, nt_dataset *out);

/* An n x d data set of bytes: takes `pixels` ((n, d), allocated with
 * malloc or nt_alloc) whatever happens, and allocates zeroed y. On failure
 * pixels is freed and out left zeroed. */
nt_status nt_dataset_adopt_pixels(size_t n, size_t d, int n_classes,
                                  uint8_t *pixels, nt_dataset *out);

/* Row `row` of the features as d floats in out (pixels / 255.0f, the same
 * floats an IDX set held when it was stored as floats). */
void nt_dataset_row(const nt_dataset *ds, size_t row, float *out);

/* The same for features [j0, j1) only, into out[j0 .. j1); j1 <= d. */
void nt_dataset_row_inputs(const nt_dataset *ds, size_t row, size_t j0, size_t j1, float *out);

/* Ask the CPU to start loading features [j0, j1) of row `row` into cache,
 * so that a later nt_dataset_row of them does not wait on memory (a gather
 * in random order otherwise spends most of its time there). Changes
 * nothing. */
void nt_dataset_prefetch_row(const nt_dataset *ds, size_t row, size_t j0, size_t j1);

/* The same into the core's L2 only, for a gather a training step from now:
 * the rows of a whole batch would push the step's own work out of L1. */
void nt_dataset_prefetch_row_l2(const nt_dataset *ds, size_t row, size_t j0, size_t j1);

/* Free X, pixels and y and zero the struct. Safe on a zeroed or freed data
 * set. */
void nt_dataset_free(nt_dataset *ds);

/* Per-class counts: counts[c] for c in [0, n_classes). counts is borrowed
 * and must hold n_classes entries. */
void nt_dataset_class_counts(const nt_dataset *ds, size_t *counts);

/* Resolve a --data argument and load its train and test sets.
 *  - "mnist", "fashion-mnist": the folder of that name under $NNTUNE_DATA,
 *    then under ./data/ (as written by `make setup`).
 *  - a folder: train-images-idx3-ubyte, train-labels-idx1-ubyte,
 *    t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each raw or with .gz.
 *  - a .csv file: the training set; the test set is `test_path` if given,
 *    else the file with "train" replaced by "test" if it exists; otherwise
 *    NT_ERR_ARG telling the user to pass a test file.
 * `test_path` may be NULL. On failure both outputs are left zeroed and a
 * message names the file and the problem. */
nt_status nt_data_open(const char *spec, const char *test_path,
                       nt_dataset *train, nt_dataset *test);

#endif
