/* test_dataset.c - the data set struct and the --data lookup: IDX folders
 * (raw and gzip), known names, CSV pairs, and the real MNIST when present. */
#include <criterion/criterion.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nntune/dataset.h"
#include "nntune/idx.h"

static char tmpdir[64];

static int rm_entry(const char *p, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(p);
}

static void setup(void)
{
    strcpy(tmpdir, "/tmp/nt_test_dataset_XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp failed");
}

static void teardown(void)
{
    nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(dataset, .init = setup, .fini = teardown);

static char *at(char *buf, const char *name)
{
    snprintf(buf, 512, "%s/%s", tmpdir, name);
    return buf;
}

/* Write an IDX set (n images of 2 x 3, labels i % 10) as prefix-images-...
 * into dir, with `suffix` ("" or ".gz"). */
static void write_set(const char *dir, const char *prefix, size_t n,
                      const char *suffix)
{
    uint8_t *px = malloc(n * 6), *lb = malloc(n);
    for (size_t k = 0; k < n * 6; k++) px[k] = (uint8_t)(k * 7);
    for (size_t i = 0; i < n; i++) lb[i] = (uint8_t)(i % 10);
    char img[512], lab[512];
    snprintf(img, sizeof img, "%s/%s-images-idx3-ubyte%s", dir, prefix, suffix);
    snprintf(lab, sizeof lab, "%s/%s-labels-idx1-ubyte%s", dir, prefix, suffix);
    nt_status rc = nt_idx_write(img, lab, px, lb, n, 2, 3);
    cr_assert_eq(rc, NT_OK, "nt_idx_write: %s", nt_last_error());
    free(px);
    free(lb);
}

static void write_text(const char *p, const char *text)
{
    FILE *fp = fopen(p, "wb");
    cr_assert_not_null(fp, "cannot create %s", p);
    fputs(text, fp);
    fclose(fp);
}

static void expect_zeroed(const nt_dataset *ds, const char *which)
{
    cr_assert(ds->n == 0 && ds->d == 0 && ds->X == NULL && ds->y == NULL,
              "%s not zeroed after a failure: n = %zu, X = %p", which, ds->n,
              (void *)ds->X);
}

Test(dataset, alloc_gives_zeroed_aligned_storage_and_free_zeroes_the_struct)
{
    nt_dataset ds;
    cr_assert_eq(nt_dataset_alloc(7, 5, 3, &ds), NT_OK, "%s", nt_last_error());
    cr_assert(ds.n == 7 && ds.d == 5 && ds.n_classes == 3,
              "n %zu d %zu classes %d, want 7 5 3", ds.n, ds.d, ds.n_classes);
    cr_assert_eq((uintptr_t)ds.X % 64, 0u, "X at %p is not 64-byte aligned",
                 (void *)ds.X);
    for (size_t k = 0; k < 35; k++)
        cr_assert_eq(ds.X[k], 0.0f, "X[%zu] = %g, want 0", k, ds.X[k]);
    for (size_t i = 0; i < 7; i++)
        cr_assert_eq(ds.y[i], 0, "y[%zu] = %d, want 0", i, ds.y[i]);
    nt_dataset_free(&ds);
    cr_assert(ds.X == NULL && ds.y == NULL && ds.n == 0, "free left data");
    nt_dataset_free(&ds); // twice is fine
    nt_dataset zero = {0};
    nt_dataset_free(&zero);
}

Test(dataset, class_counts_count_each_label)
{
    nt_dataset ds;
    cr_assert_eq(nt_dataset_alloc(6, 1, 4, &ds), NT_OK, "%s", nt_last_error());
    int32_t y[6] = {3, 0, 3, 1, 3, 0};
    memcpy(ds.y, y, sizeof y);
    size_t counts[4] = {9, 9, 9, 9}, want[4] = {2, 1, 0, 3};
    nt_dataset_class_counts(&ds, counts);
    for (int c = 0; c < 4; c++)
        cr_assert_eq(counts[c], want[c], "class %d: %zu, want %zu", c,
                     counts[c], want[c]);
    nt_dataset_free(&ds);
}

// A byte data set's feature is the byte divided by 255 in float, the same
// float for every byte whichever way the conversion computes it (the
// training sums depend on each bit of it); checked in rows long enough for
// the vector loop and at offsets that leave a scalar tail
Test(dataset, every_byte_value_converts_to_the_quotient_by_255)
{
    enum { D = 256 + 37 };
    uint8_t *pixels = malloc(2 * D);
    cr_assert_not_null(pixels);
    for (int j = 0; j < 2 * D; j++) pixels[j] = (uint8_t)(j * 7 + j / D);  // all 256 values
    nt_dataset ds;
    cr_assert_eq(nt_dataset_adopt_pixels(2, D, 0, pixels, &ds), NT_OK, "%s", nt_last_error());
    float row[D];
    for (size_t r = 0; r < 2; r++) {
        for (size_t j0 = 0; j0 < 3; j0++) {
            memset(row, 0xff, sizeof row);
            nt_dataset_row_inputs(&ds, r, j0, D - j0, row);
            for (size_t j = j0; j < D - j0; j++) {
                volatile float byte = ds.pixels[r * D + j], want = byte / 255.0f;
                cr_assert_eq(row[j], want, "row %zu byte %g: %.9g, want %.9g", r, (double)byte,
                             (double)row[j], (double)want);
            }
        }
    }
    // every value was among those checked
    bool seen[256] = {false};
    for (int j = 0; j < 2 * D; j++) seen[ds.pixels[j]] = true;
    for (int k = 0; k < 256; k++) cr_assert(seen[k], "byte %d was not checked", k);
    nt_dataset_free(&ds);
}

Test(dataset, a_folder_of_gzip_idx_files_opens_as_train_and_test)
{
    write_set(tmpdir, "train", 30, ".gz");
    write_set(tmpdir, "t10k", 12, ".gz");
    nt_dataset tr, te;
    nt_status rc = nt_data_open(tmpdir, NULL, &tr, &te);
    cr_assert_eq(rc, NT_OK, "nt_data_open: %s", nt_last_error());
    cr_assert(tr.n == 30 && tr.d == 6 && tr.n_classes == 10,
              "train %zu x %zu, %d classes; want 30 x 6, 10", tr.n, tr.d,
              tr.n_classes);
    cr_assert(te.n == 12 && te.d == 6, "test %zu x %zu; want 12 x 6", te.n,
              te.d);
    float row[6];
    nt_dataset_row(&tr, 0, row);
    cr_assert_eq(row[1], 7.0f / 255, "feature 1 = %g, want 7/255", row[1]);
    cr_assert_eq(te.y[11], 1, "test y[11] = %d, want 1", te.y[11]);
    cr_assert_not_null(strstr(tr.source, tmpdir), "source '%s'", tr.source);
    cr_assert_str_eq(te.source, tmpdir, "test source '%s' names the folder", te.source);
    nt_dataset_free(&tr);
    nt_dataset_free(&te);
}

Test(dataset, raw_and_gzip_files_can_be_mixed_in_one_folder)
{
    write_set(tmpdir, "train", 20, "");
    write_set(tmpdir, "t10k", 10, ".gz");
    nt_dataset tr, te;
    nt_status rc = nt_data_open(tmpdir, NULL, &tr, &te);
    cr_assert_eq(rc, NT_OK, "nt_data_open: %s", nt_last_error());
    cr_assert(tr.n == 20 && te.n == 10, "n %zu and %zu, want 20 and 10", tr.n,
              te.n);
    nt_dataset_free(&tr);
    nt_dataset_free(&te);
}

Test(dataset, a_folder_missing_a_file_names_it_and_leaves_outputs_zeroed)
{
    write_set(tmpdir, "train", 30, ".gz");
    write_set(tmpdir, "t10k", 12, ".gz");
    char p[512];
    cr_assert_eq(remove(at(p, "t10k-labels-idx1-ubyte.gz")), 0, "remove");
    nt_dataset tr, te;
    nt_status rc = nt_data_open(tmpdir, NULL, &tr, &te);
    const char *msg = nt_last_error();
    cr_assert_eq(rc, NT_ERR_IO, "status %d, want NT_ERR_IO; %s", rc, msg);
    cr_assert_not_null(strstr(msg, "t10k-labels-idx1-ubyte"), "message '%s'",
                       msg);
    cr_assert_not_null(strstr(msg, tmpdir), "message '%s'", msg);
    expect_zeroed(&tr, "train");
    expect_zeroed(&te, "test");
}

Test(dataset, a_bad_test_file_frees_the_loaded_training_set)
{
    write_set(tmpdir, "train", 30, "");
    write_set(tmpdir, "t10k", 12, "");
    char p[512];
    write_text(at(p, "t10k-images-idx3-ubyte"), "garbage!");
    nt_dataset tr, te;
    nt_status rc = nt_data_open(tmpdir, NULL, &tr, &te);
    cr_assert_eq(rc, NT_ERR_FORMAT, "status %d, want NT_ERR_FORMAT; %s", rc,
                 nt_last_error());
    cr_assert_not_null(strstr(nt_last_error(), p), "message '%s'",
                       nt_last_error());
    expect_zeroed(&tr, "train");
    expect_zeroed(&te, "test");
}

Test(dataset, a_known_name_is_found_under_nntune_data)
{
    char dir[512];
    cr_assert_eq(mkdir(at(dir, "mnist"), 0700), 0, "mkdir %s", dir);
    write_set(dir, "train", 10, "");
    write_set(dir, "t10k", 10, ".gz");
    setenv("NNTUNE_DATA", tmpdir, 1);
    nt_dataset tr, te;
    nt_status rc = nt_data_open("mnist", NULL, &tr, &te);
    cr_assert_eq(rc, NT_OK, "nt_data_open: %s", nt_last_error());
    cr_assert(tr.n == 10 && tr.d == 6, "train %zu x %zu, want 10 x 6", tr.n,
              tr.d);
    cr_assert_not_null(strstr(tr.source, dir), "source '%s' not in %s",
                       tr.source, dir);
    nt_dataset_free(&tr);
    nt_dataset_free(&te);
}

Test(dataset, a_known_name_without_data_says_to_run_make_setup)
{
    // this test process alone: run where ./data/ does not exist
    cr_assert_eq(chdir(tmpdir), 0, "chdir %s", tmpdir);
    unsetenv("NNTUNE_DATA");
    nt_dataset tr, te;
    nt_status rc = nt_data_open("mnist", NULL, &tr, &te);
    const char *want = "mnist: data not found in ./data/mnist (run `make "
                       "setup` to fetch it)";
    cr_assert_eq(rc, NT_ERR_IO, "status %d, want NT_ERR_IO", rc);
    cr_assert_str_eq(nt_last_error(), want, "message '%s', want '%s'",
                     nt_last_error(), want);
    setenv("NNTUNE_DATA", tmpdir, 1);
    rc = nt_data_open("fashion-mnist", NULL, &tr, &te);
    cr_assert_eq(rc, NT_ERR_IO, "status %d, want NT_ERR_IO", rc);
    cr_assert_not_null(strstr(nt_last_error(), tmpdir), "message '%s'",
                       nt_last_error());
    expect_zeroed(&tr, "train");
}

Test(dataset, a_missing_path_is_refused_naming_it)
{
    char p[512];
    nt_dataset tr, te;
    nt_status rc = nt_data_open(at(p, "nothing-here"), NULL, &tr, &te);
    cr_assert_eq(rc, NT_ERR_IO, "status %d, want NT_ERR_IO", rc);
    cr_assert_not_null(strstr(nt_last_error(), p), "message '%s'",
                       nt_last_error());
}

Test(dataset, a_csv_training_file_finds_its_test_file_by_name)
{
    char tr_path[512], te_path[512];
    write_text(at(tr_path, "digits_train.csv"),
               "label,a,b\n2,0.5,0.5\n0,1,0\n");
    write_text(at(te_path, "digits_test.csv"), "label,a,b\n1,0.25,0\n");
    nt_dataset tr, te;
    nt_status rc = nt_data_open(tr_path, NULL, &tr, &te);
    cr_assert_eq(rc, NT_OK, "nt_data_open: %s", nt_last_error());
    cr_assert(tr.n == 2 && te.n == 1 && te.d == 2, "n %zu, %zu; test d %zu",
              tr.n, te.n, te.d);
    cr_assert_eq(te.n_classes, 3, "test n_classes %d, want train's 3",
                 te.n_classes);
    cr_assert_str_eq(te.source, te_path, "test source '%s'", te.source);
    nt_dataset_free(&tr);
    nt_dataset_free(&te);
}

Test(dataset, a_csv_without_a_test_file_asks_for_one)
{
    char tr_path[512];
    write_text(at(tr_path, "train.csv"), "1,0.5\n0,0.25\n");
    nt_dataset tr, te;
    nt_status rc = nt_data_open(tr_path, NULL, &tr, &te);
    cr_assert_eq(rc, NT_ERR_ARG, "status %d, want NT_ERR_ARG", rc);
    cr_assert_not_null(strstr(nt_last_error(), "test"), "message '%s'",
                       nt_last_error());
    expect_zeroed(&tr, "train");
}

Test(dataset, an_explicit_csv_test_file_must_match_the_training_file)
{
    char tr_path[512], te_path[512];
    write_text(at(tr_path, "a.csv"), "1,0.5,0.5\n0,0.25,0\n");
    write_text(at(te_path, "b.csv"), "1,0.5\n");
    nt_dataset tr, te;
    nt_status rc = nt_data_open(tr_path, te_path, &tr, &te);
    cr_assert_eq(rc, NT_ERR_MISMATCH, "status %d, want NT_ERR_MISMATCH; %s",
                 rc, nt_last_error());
    expect_zeroed(&tr, "train");
    expect_zeroed(&te, "test");
    write_text(te_path, "2,0.5,0.5\n");
    rc = nt_data_open(tr_path, te_path, &tr, &te);
    cr_assert_eq(rc, NT_ERR_FORMAT, "label 2 with 2 classes: status %d; %s",
                 rc, nt_last_error());
    write_text(te_path, "1,0.5,0.5\n");
    rc = nt_data_open(tr_path, te_path, &tr, &te);
    cr_assert_eq(rc, NT_OK, "nt_data_open: %s", nt_last_error());
    nt_dataset_free(&tr);
    nt_dataset_free(&te);
}

/* Shape, label counts and pixel range of a full MNIST-style pair. */
static void check_mnist_like(const nt_dataset *tr, const nt_dataset *te)
{
    cr_assert(tr->n == 60000 && tr->d == 784, "train %zu x %zu, want 60000 x "
              "784", tr->n, tr->d);
    cr_assert(te->n == 10000 && te->d == 784, "test %zu x %zu, want 10000 x "
              "784", te->n, te->d);
    size_t counts[10], sum = 0;
    nt_dataset_class_counts(tr, counts);
    for (int c = 0; c < 10; c++) {
        cr_assert_gt(counts[c], 5000u, "class %d has only %zu images", c,
                     counts[c]);
        sum += counts[c];
    }
    cr_assert_eq(sum, tr->n, "label counts sum to %zu, want %zu", sum, tr->n);
    float lo = 1.0f, hi = 0.0f, row[784];
    for (size_t i = 0; i < tr->n; i++) {
        nt_dataset_row(tr, i, row);
        for (size_t j = 0; j < tr->d; j++) {
            lo = row[j] < lo ? row[j] : lo;
            hi = row[j] > hi ? row[j] : hi;
        }
    }
    cr_assert(lo == 0.0f && hi == 1.0f, "pixels in [%g, %g], want [0, 1]", lo,
              hi);
}

Test(dataset, the_real_mnist_loads_from_a_folder_path)
{
    // `make setup` puts it there; the tests run from the repository's root
    if (access("data/mnist/train-images-idx3-ubyte", R_OK) != 0)
        cr_skip_test("data/mnist is absent (make setup)");
    nt_dataset tr, te;
    nt_status rc = nt_data_open("data/mnist", NULL, &tr, &te);
    cr_assert_eq(rc, NT_OK, "nt_data_open: %s", nt_last_error());
    check_mnist_like(&tr, &te);
    // the first training image of MNIST is a 5, the first test image a 7
    cr_assert(tr.y[0] == 5 && te.y[0] == 7, "first labels %d and %d, want 5 "
              "and 7", tr.y[0], te.y[0]);
    nt_dataset_free(&tr);
    nt_dataset_free(&te);
}

Test(dataset, the_real_fashion_mnist_loads_by_name_from_gzip_files)
{
    const char *root = "/usr/share/datasets";
    if (access("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz",
               R_OK) != 0)
        cr_skip_test("%s/fashion-mnist is absent", root);
    setenv("NNTUNE_DATA", root, 1);
    nt_dataset tr, te;
    nt_status rc = nt_data_open("fashion-mnist", NULL, &tr, &te);
    cr_assert_eq(rc, NT_OK, "nt_data_open: %s", nt_last_error());
    check_mnist_like(&tr, &te);
    nt_dataset_free(&tr);
    nt_dataset_free(&te);
}
