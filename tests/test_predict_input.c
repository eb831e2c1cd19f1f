/* test_predict_input.c - the unlabeled input loaders behind `nntune
 * predict`: IDX image files alone (raw and gzip) and CSV files whose rows
 * are features alone or a label then features. */
#include <criterion/criterion.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nntune/csv.h"
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
    strcpy(tmpdir, "/tmp/nt_test_predict_input_XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp failed");
}

static void teardown(void)
{
    nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(predict_input, .init = setup, .fini = teardown);

static char *at(char *buf, const char *name)
{
    snprintf(buf, 256, "%s/%s", tmpdir, name);
    return buf;
}

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "wb");
    cr_assert_not_null(fp, "cannot create %s", path);
    fputs(text, fp);
    fclose(fp);
}

static void expect_zeroed(const nt_dataset *ds)
{
    cr_assert(ds->n == 0 && ds->d == 0 && ds->X == NULL && ds->pixels == NULL && ds->y == NULL,
              "output not zeroed after a failure: n = %zu, d = %zu", ds->n,
              ds->d);
}

enum { N = 6, ROWS = 2, COLS = 3 };

/* Write an image file (and a label file beside it) with pixel k = k * 7 %
 * 256, with 0 and 255 present; return the pixels in px. */
static void write_images(const char *img, uint8_t *px)
{
    uint8_t labels[N] = {1, 2, 0, 1, 2, 0};
    for (int k = 0; k < N * ROWS * COLS; k++) px[k] = (uint8_t)(k * 7 % 256);
    px[1] = 255;
    char lab[300];
    snprintf(lab, sizeof lab, "%s.labels", img);
    nt_status rc = nt_idx_write(img, lab, px, labels, N, ROWS, COLS);
    cr_assert_eq(rc, NT_OK, "nt_idx_write: %s", nt_last_error());
}

static void check_images(const char *img)
{
    uint8_t px[N * ROWS * COLS];
    write_images(img, px);
    nt_dataset ds = {0};
    nt_status rc = nt_idx_load_images(img, &ds);
    cr_assert_eq(rc, NT_OK, "nt_idx_load_images: %s", nt_last_error());
    cr_assert(ds.n == N && ds.d == ROWS * COLS,
              "n %zu d %zu, want %d %d", ds.n, ds.d, N, ROWS * COLS);
    cr_assert_eq(ds.n_classes, 0, "n_classes = %d, want 0 (no labels)",
                 ds.n_classes);
    float row[ROWS * COLS];
    for (size_t i = 0; i < ds.n; i++) {
        nt_dataset_row(&ds, i, row);
        for (size_t j = 0; j < ds.d; j++)
            cr_assert_eq(row[j], px[i * ds.d + j] / 255.0f, "row %zu feature %zu = %g, want %g",
                         i, j, row[j], px[i * ds.d + j] / 255.0f);
    }
    for (size_t i = 0; i < ds.n; i++)
        cr_assert_eq(ds.y[i], 0, "y[%zu] = %d, want 0", i, ds.y[i]);
    cr_assert_str_eq(ds.source, img, "source '%s'", ds.source);
    nt_dataset_free(&ds);
}

Test(predict_input, raw_image_files_load_alone_with_zero_labels)
{
    char img[256];
    check_images(at(img, "im-idx3-ubyte"));
}

Test(predict_input, gzip_image_files_load_alone_with_zero_labels)
{
    char img[256];
    check_images(at(img, "im-idx3-ubyte.gz"));
}

static void expect_images_refused(const char *img, nt_status want,
                                  const char *must)
{
    nt_dataset ds = {0};
    ds.n = 5;
    nt_clear_error();
    nt_status rc = nt_idx_load_images(img, &ds);
    const char *msg = nt_last_error();
    cr_assert_eq(rc, want, "status %d (%s), want %d; message: %s", rc,
                 nt_strerror(rc), want, msg);
    expect_zeroed(&ds);
    cr_assert_not_null(strstr(msg, img), "message '%s' lacks the path", msg);
    cr_assert_not_null(strstr(msg, must), "message '%s' lacks '%s'", msg, must);
}

Test(predict_input, a_label_file_truncation_trailing_bytes_or_absence_is_refused)
{
    char img[256], lab[300], missing[256];
    uint8_t px[N * ROWS * COLS];
    write_images(at(img, "im"), px);
    snprintf(lab, sizeof lab, "%s.labels", img);
    expect_images_refused(lab, NT_ERR_FORMAT, "magic 0x00000801");
    expect_images_refused(at(missing, "nope"), NT_ERR_IO, "cannot open");

    FILE *fp = fopen(img, "ab");
    fputs("xy", fp);
    fclose(fp);
    expect_images_refused(img, NT_ERR_FORMAT, "2 bytes after");
    cr_assert_eq(truncate(img, 16 + N * ROWS * COLS - 3), 0, "truncate");
    expect_images_refused(img, NT_ERR_FORMAT, "truncated");
}

/* Load text as features of width d; expect success. */
static nt_dataset features_ok(const char *text, size_t d)
{
    char path[256];
    write_text(at(path, "in.csv"), text);
    nt_dataset ds = {0};
    nt_status rc = nt_csv_load_features(path, d, &ds);
    cr_assert_eq(rc, NT_OK, "nt_csv_load_features: status %d: %s", rc,
                 nt_last_error());
    return ds;
}

static void expect_values(const nt_dataset *ds, size_t n, size_t d,
                          const float *X)
{
    cr_assert(ds->n == n && ds->d == d, "n %zu d %zu, want %zu %zu", ds->n,
              ds->d, n, d);
    for (size_t k = 0; k < n * d; k++)
        cr_assert_float_eq(ds->X[k], X[k], 1e-6f, "X[%zu] = %g, want %g", k,
                           ds->X[k], X[k]);
}

Test(predict_input, an_unlabeled_csv_gives_features_and_no_classes)
{
    nt_dataset ds = features_ok("0.5,0.25\n0.1,0.2\n0,1\n", 2);
    expect_values(&ds, 3, 2, (float[]){0.5f, 0.25f, 0.1f, 0.2f, 0, 1});
    cr_assert_eq(ds.n_classes, 0, "n_classes = %d, want 0", ds.n_classes);
    for (size_t i = 0; i < ds.n; i++)
        cr_assert_eq(ds.y[i], 0, "y[%zu] = %d, want 0", i, ds.y[i]);
    nt_dataset_free(&ds);
}

Test(predict_input, an_unlabeled_csv_with_a_header_skips_it)
{
    nt_dataset ds = features_ok("a,b\r\n0.5,0.25\r\n\r\n0.1,0.2\r\n", 2);
    expect_values(&ds, 2, 2, (float[]){0.5f, 0.25f, 0.1f, 0.2f});
    nt_dataset_free(&ds);
}

Test(predict_input, a_labelled_csv_keeps_its_labels_and_counts_classes)
{
    nt_dataset ds = features_ok("label,a,b\n4,0.5,0.25\n0,0.1,0.2\n", 2);
    expect_values(&ds, 2, 2, (float[]){0.5f, 0.25f, 0.1f, 0.2f});
    cr_assert(ds.y[0] == 4 && ds.y[1] == 0, "y = %d %d, want 4 0", ds.y[0],
              ds.y[1]);
    cr_assert_eq(ds.n_classes, 5, "n_classes = %d, want max + 1 = 5",
                 ds.n_classes);
    nt_dataset_free(&ds);
}

Test(predict_input, one_feature_rows_are_read_as_unlabeled_or_labelled_by_width)
{
    nt_dataset ds = features_ok("0.5\n0.25\n", 1);
    expect_values(&ds, 2, 1, (float[]){0.5f, 0.25f});
    cr_assert_eq(ds.n_classes, 0, "n_classes = %d, want 0", ds.n_classes);
    nt_dataset_free(&ds);
    ds = features_ok("2,0.5\n1,0.25\n", 1);
    expect_values(&ds, 2, 1, (float[]){0.5f, 0.25f});
    cr_assert(ds.y[0] == 2 && ds.n_classes == 3, "y[0] %d, n_classes %d, "
              "want 2 and 3", ds.y[0], ds.n_classes);
    nt_dataset_free(&ds);
}

Test(predict_input, pixel_features_are_scaled_by_the_same_rule_as_training)
{
    nt_dataset ds = features_ok("0,255,51\n102,1,0\n", 3);
    expect_values(&ds, 2, 3,
                  (float[]){0, 1, 0.2f, 0.4f, 1.0f / 255, 0});
    nt_dataset_free(&ds);
    // labels are not features: a label of 9 does not make 0..1 data pixels
    ds = features_ok("9,0.5,1\n0,0,0.25\n", 2);
    expect_values(&ds, 2, 2, (float[]){0.5f, 1, 0, 0.25f});
    nt_dataset_free(&ds);
    ds = features_ok("-1,300\n", 2);
    expect_values(&ds, 1, 2, (float[]){-1, 300});
    nt_dataset_free(&ds);
}

/* Expect text to be refused for width d with `want` and a message starting
 * with the path and `where`, and holding `must`. */
static void expect_features_refused(const char *text, size_t d, nt_status want,
                                    const char *where, const char *must)
{
    char path[256], prefix[300];
    write_text(at(path, "in.csv"), text);
    nt_dataset ds = {0};
    ds.n = 5;
    nt_clear_error();
    nt_status rc = nt_csv_load_features(path, d, &ds);
    const char *msg = nt_last_error();
    cr_assert_eq(rc, want, "status %d (%s), want %d; message: %s", rc,
                 nt_strerror(rc), want, msg);
    expect_zeroed(&ds);
    snprintf(prefix, sizeof prefix, "%s%s", path, where);
    cr_assert(strncmp(msg, prefix, strlen(prefix)) == 0,
              "message '%s' does not start with '%s'", msg, prefix);
    cr_assert_not_null(strstr(msg, must), "message '%s' lacks '%s'", msg, must);
}

Test(predict_input, a_mix_of_labelled_and_unlabeled_rows_is_refused_naming_the_line)
{
    expect_features_refused("0.1,0.2\n0.3,0.4\n1,0.5,0.6\n", 2, NT_ERR_FORMAT,
                            ":3:", "3 fields, but line 1 has 2");
    expect_features_refused("h,a,b\n1,0.1,0.2\n\n0.3,0.4\n", 2, NT_ERR_FORMAT,
                            ":4:", "2 fields, but line 2 has 3");
}

Test(predict_input, rows_of_neither_width_are_a_mismatch_naming_both_widths)
{
    expect_features_refused("1,2,3\n4,5,6\n", 784, NT_ERR_MISMATCH, ":1:",
                            "3 fields, want 784 features or a label then 784 "
                            "features (785 fields)");
    expect_features_refused("x,y,z,w\n1,2,3,4\n", 2, NT_ERR_MISMATCH, ":2:",
                            "4 fields");
}

Test(predict_input, bad_numbers_labels_and_empty_files_are_refused)
{
    expect_features_refused("0.1,abc\n", 2, NT_ERR_FORMAT, ":1:",
                            "field 2: 'abc' is not a number");
    expect_features_refused("0.1,0.2\n0.1,nan\n", 2, NT_ERR_FORMAT, ":2:",
                            "not finite");
    expect_features_refused("1.5,0.1,0.2\n", 2, NT_ERR_FORMAT, ":1:",
                            "label '1.5' is not a non-negative integer");
    expect_features_refused("", 2, NT_ERR_FORMAT, ":", "empty file");
    expect_features_refused("a,b\n", 2, NT_ERR_FORMAT, ":", "no data rows");
}
