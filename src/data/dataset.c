/* dataset.c - the in-memory data set and the --data lookup (known name,
 * IDX folder or CSV file) to a train and a test set. */
#include "nntune/dataset.h"
#include "nntune/csv.h"
#include "nntune/idx.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

nt_status nt_dataset_alloc(size_t n, size_t d, int n_classes, nt_dataset *out)
{
    assert(out && n_classes >= 0);
    memset(out, 0, sizeof *out);
    if (d != 0 && n > SIZE_MAX / sizeof(float) / d) {
        nt_errorf("dataset: %zu x %zu floats overflow size_t", n, d);
        return NT_ERR_NOMEM;
    }
    out->X = nt_alloc(n * d * sizeof(float));
    out->y = nt_alloc(n * sizeof(int32_t));
    if (!out->X || !out->y) {
        nt_errorf("dataset: cannot allocate %zu x %zu floats (%.1f MB)", n, d,
                  (double)(n * d * sizeof(float)) / 1e6);
        nt_dataset_free(out);
        return NT_ERR_NOMEM;
    }
    out->n = n;
    out->d = d;
    out->n_classes = n_classes;
    return NT_OK;
}

nt_status nt_dataset_adopt_pixels(size_t n, size_t d, int n_classes,
                                  uint8_t *pixels, nt_dataset *out)
{
    assert(out && n_classes >= 0);
    memset(out, 0, sizeof *out);
    out->y = n <= SIZE_MAX / sizeof(int32_t) ? nt_alloc(n * sizeof(int32_t)) : NULL;
    if (!out->y) {
        nt_errorf("dataset: cannot allocate %zu labels", n);
        free(pixels);
        return NT_ERR_NOMEM;
    }
    out->pixels = pixels;
    out->n = n;
    out->d = d;
    out->n_classes = n_classes;
    return NT_OK;
}

void nt_dataset_row(const nt_dataset *ds, size_t row, float *out)
{
    nt_dataset_row_inputs(ds, row, 0, ds->d, out);
}

void nt_dataset_row_inputs(const nt_dataset *ds, size_t row, size_t j0, size_t j1, float *out)
{
    size_t d = ds->d;
    assert(row < ds->n && j0 <= j1 && j1 <= d);
    if (ds->X) {
        memcpy(out + j0, ds->X + row * d + j0, (j1 - j0) * sizeof(float));
        return;
    }
    const uint8_t *p = ds->pixels + row * d;
    // p / 255.0f, without a division (a vector division is the slow part of
    // this loop): q = p r with r = 1/255 rounded is off by one unit in the
    // last place for 126 of the 256 bytes, and one correction by the
    // residual p - 255 q (exact in an FMA) gives the quotient for every byte
    // (test_dataset checks all 256)
    const float r = 1.0f / 255.0f;
    #pragma omp simd
    for (size_t j = j0; j < j1; j++) {
        const float k = (float)p[j], q = k * r;
        out[j] = fmaf(fmaf(-q, 255.0f, k), r, q);
    }
}

// Row `row`'s features [j0, j1): where they start, and their bytes
static const char *row_bytes(const nt_dataset *ds, size_t row, size_t j0, size_t j1,
                             size_t *bytes)
{
    assert(row < ds->n && j0 <= j1 && j1 <= ds->d);
    const size_t size = ds->X ? sizeof(float) : 1;
    *bytes = (j1 - j0) * size;
    return (ds->X ? (const char *)ds->X : (const char *)ds->pixels) + (row * ds->d + j0) * size;
}

void nt_dataset_prefetch_row(const nt_dataset *ds, size_t row, size_t j0, size_t j1)
{
    size_t bytes;
    const char *p = row_bytes(ds, row, j0, j1, &bytes);
    for (size_t b = 0; b < bytes; b += 64) __builtin_prefetch(p + b);
}

void nt_dataset_prefetch_row_l2(const nt_dataset *ds, size_t row, size_t j0, size_t j1)
{
    size_t bytes;
    const char *p = row_bytes(ds, row, j0, j1, &bytes);
    for (size_t b = 0; b < bytes; b += 64) __builtin_prefetch(p + b, 0, 1);
}

void nt_dataset_free(nt_dataset *ds)
{
    if (!ds) return;
    nt_free(ds->X);
    free(ds->pixels);
    nt_free(ds->y);
    memset(ds, 0, sizeof *ds);
}

void nt_dataset_class_counts(const nt_dataset *ds, size_t *counts)
{
    assert(ds && counts);
    memset(counts, 0, (size_t)ds->n_classes * sizeof *counts);
    for (size_t i = 0; i < ds->n; i++) {
        assert(ds->y[i] >= 0 && ds->y[i] < ds->n_classes);
        counts[ds->y[i]]++;
    }
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

static bool ends_with_ci(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && strcasecmp(s + ls - lx, suffix) == 0;
}

/* Path of `base` in `dir`, raw or .gz, into buf[PATH_LEN]. */
enum { PATH_LEN = 4096 };

static nt_status find_idx_file(const char *dir, const char *base, char *buf)
{
    int len = snprintf(buf, PATH_LEN, "%s/%s", dir, base);
    if (len < 0 || len + 4 >= PATH_LEN) {
        nt_errorf("%s: path too long", dir);
        return NT_ERR_ARG;
    }
    if (is_file(buf)) return NT_OK;
    strcat(buf, ".gz");
    if (is_file(buf)) return NT_OK;
    nt_errorf("%s: missing %s (or %s.gz)", dir, base, base);
    return NT_ERR_IO;
}

static nt_status open_idx_folder(const char *dir, nt_dataset *train,
                                 nt_dataset *test)
{
    static const char *const names[4] = {
        "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    char paths[4][PATH_LEN];
    for (int i = 0; i < 4; i++) {
        nt_status rc = find_idx_file(dir, names[i], paths[i]);
        if (rc != NT_OK) return rc;
    }
    nt_status rc = nt_idx_load(paths[0], paths[1], 10, train);
    if (rc != NT_OK) return rc;
    rc = nt_idx_load(paths[2], paths[3], 10, test);
    if (rc != NT_OK) return rc;
    if (train->d != test->d) {
        nt_errorf("%s: %zu features per image, but %s has %zu", paths[0],
                  train->d, paths[2], test->d);
        return NT_ERR_MISMATCH;
    }
    // name the folder, not one of its four files
    snprintf(train->source, sizeof train->source, "%s", dir);
    snprintf(test->source, sizeof test->source, "%s", dir);
    return NT_OK;
}

/* Load a known data set's folder and call it "name (folder)". */
static nt_status open_named_folder(const char *name, const char *dir,
                                   nt_dataset *train, nt_dataset *test)
{
    nt_status rc = open_idx_folder(dir, train, test);
    if (rc != NT_OK) return rc;
    snprintf(train->source, sizeof train->source, "%.60s (%.180s)", name, dir);
    snprintf(test->source, sizeof test->source, "%.60s (%.180s)", name, dir);
    return NT_OK;
}

/* The test file next to a training CSV: the last "train" in the file name
 * (not the folder) replaced by "test". False if there is none. */
static bool guess_test_csv(const char *train_path, char *buf)
{
    const char *slash = strrchr(train_path, '/');
    const char *name = slash ? slash + 1 : train_path;
    const char *hit = NULL;
    for (const char *p = strstr(name, "train"); p; p = strstr(p + 1, "train"))
        hit = p;
    if (!hit) return false;
    int len = snprintf(buf, PATH_LEN, "%.*s%s%s", (int)(hit - train_path),
                       train_path, "test", hit + 5);
    return len > 0 && len < PATH_LEN;
}

static nt_status open_csv(const char *path, const char *test_path,
                          nt_dataset *train, nt_dataset *test)
{
    char guess[PATH_LEN];
    if (!test_path) {
        bool named = guess_test_csv(path, guess);
        if (!named || !is_file(guess)) {
            nt_errorf("%s: no test set found%s%s; pass a test CSV file",
                      path, named ? " at " : "", named ? guess : "");
            return NT_ERR_ARG;
        }
        test_path = guess;
    }
    // the test file is scaled as the training file was, whatever its values
    bool scaled;
    nt_status rc = nt_csv_load_scaled(path, 0, NT_CSV_SCALE_AUTO, train,
                                      &scaled);
    if (rc != NT_OK) return rc;
    rc = nt_csv_load_scaled(test_path, train->n_classes, scaled, test, NULL);
    if (rc != NT_OK) return rc;
    if (train->d != test->d) {
        nt_errorf("%s: %zu features per row, but %s has %zu", path, train->d,
                  test_path, test->d);
        return NT_ERR_MISMATCH;
    }
    return NT_OK;
}

static nt_status open_known(const char *name, nt_dataset *train,
                            nt_dataset *test)
{
    char env_dir[PATH_LEN] = "", local_dir[PATH_LEN];
    const char *root = getenv("NNTUNE_DATA");
    if (root && root[0]) {
        snprintf(env_dir, sizeof env_dir, "%s/%s", root, name);
        if (is_dir(env_dir)) return open_named_folder(name, env_dir, train, test);
    }
    snprintf(local_dir, sizeof local_dir, "./data/%s", name);
    if (is_dir(local_dir)) return open_named_folder(name, local_dir, train, test);
    nt_errorf("%s: data not found in %s%s%s (run `make setup` to fetch it)",
              name, env_dir, env_dir[0] ? " or " : "", local_dir);
    return NT_ERR_IO;
}

nt_status nt_data_open(const char *spec, const char *test_path,
                       nt_dataset *train, nt_dataset *test)
{
    assert(spec && train && test);
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (test_path && !test_path[0]) test_path = NULL;

    nt_status rc;
    bool known =
        strcmp(spec, "mnist") == 0 || strcmp(spec, "fashion-mnist") == 0;
    if (test_path && (known || is_dir(spec))) {
        nt_errorf("%s: a separate test file applies only to CSV data "
                  "(got %s)", spec, test_path);
        return NT_ERR_ARG;
    }
    if (known) {
        rc = open_known(spec, train, test);
    } else if (is_dir(spec)) {
        rc = open_idx_folder(spec, train, test);
    } else if (ends_with_ci(spec, ".csv")) {
        rc = open_csv(spec, test_path, train, test);
    } else if (!is_file(spec)) {
        nt_errorf("%s: no such data set, folder or file (want mnist, "
                  "fashion-mnist, a folder of IDX files or a .csv file)", spec);
        rc = NT_ERR_IO;
    } else {
        nt_errorf("%s: not a known data format (want a folder of IDX files "
                  "or a .csv file)", spec);
        rc = NT_ERR_ARG;
    }
    if (rc != NT_OK) {
        nt_dataset_free(train);
        nt_dataset_free(test);
    }
    return rc;
}
