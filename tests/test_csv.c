/* test_csv.c - CSV data sets: headers, line endings, pixel scaling (and a
 * test file scaled like its training file), and
 * every malformed row refused with the file, line and field named. */
#include <criterion/criterion.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nntune/csv.h"

static char tmpdir[64];
static char path[256];

static int rm_entry(const char *p, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(p);
}

static void setup(void)
{
    strcpy(tmpdir, "/tmp/nt_test_csv_XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp failed");
    snprintf(path, sizeof path, "%s/data.csv", tmpdir);
}

static void teardown(void)
{
    nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(csv, .init = setup, .fini = teardown);

static void write_text(const char *text)
{
    FILE *fp = fopen(path, "wb");
    cr_assert_not_null(fp, "cannot create %s", path);
    fputs(text, fp);
    fclose(fp);
}

static nt_dataset load_ok(const char *text, int n_classes)
{
    write_text(text);
    nt_dataset ds = {0};
    nt_status rc = nt_csv_load(path, n_classes, &ds);
    cr_assert_eq(rc, NT_OK, "nt_csv_load: status %d: %s", rc, nt_last_error());
    return ds;
}

/* Expect the text to be refused with `want` and a message holding the
 * path-and-line prefix `where` (e.g. ":3:") and `must`. */
static void expect_refused(const char *text, int n_classes, nt_status want,
                           const char *where, const char *must)
{
    write_text(text);
    nt_dataset ds = {0};
    ds.n = 99;
    nt_clear_error();
    nt_status rc = nt_csv_load(path, n_classes, &ds);
    const char *msg = nt_last_error();
    cr_assert_eq(rc, want, "status %d (%s), want %d; message: %s", rc,
                 nt_strerror(rc), want, msg);
    cr_assert(ds.n == 0 && ds.X == NULL && ds.y == NULL,
              "output not zeroed: n = %zu", ds.n);
    char prefix[300];
    snprintf(prefix, sizeof prefix, "%s%s", path, where);
    cr_assert(strncmp(msg, prefix, strlen(prefix)) == 0,
              "message '%s' does not start with '%s'", msg, prefix);
    cr_assert_not_null(strstr(msg, must), "message '%s' lacks '%s'", msg, must);
}

static void expect_values(const nt_dataset *ds, size_t n, size_t d,
                          const int32_t *y, const float *X)
{
    cr_assert_eq(ds->n, n, "n = %zu, want %zu", ds->n, n);
    cr_assert_eq(ds->d, d, "d = %zu, want %zu", ds->d, d);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(ds->y[i], y[i], "y[%zu] = %d, want %d", i, ds->y[i], y[i]);
    for (size_t k = 0; k < n * d; k++)
        cr_assert_float_eq(ds->X[k], X[k], 1e-6f, "X[%zu] = %g, want %g", k,
                           ds->X[k], X[k]);
}

Test(csv, a_header_line_is_detected_and_skipped)
{
    nt_dataset ds = load_ok("label,a,b\n1,0.5,0.25\n0,0.1,0.2\n", 0);
    expect_values(&ds, 2, 2, (int32_t[]){1, 0},
                  (float[]){0.5f, 0.25f, 0.1f, 0.2f});
    cr_assert_eq(ds.n_classes, 2, "n_classes = %d, want max label + 1 = 2",
                 ds.n_classes);
    cr_assert_str_eq(ds.source, path, "source '%s'", ds.source);
    nt_dataset_free(&ds);
}

Test(csv, a_file_without_header_keeps_its_first_row)
{
    nt_dataset ds = load_ok("4,0.5,0.25\n0,0.1,0.2", 0); // no final newline
    expect_values(&ds, 2, 2, (int32_t[]){4, 0},
                  (float[]){0.5f, 0.25f, 0.1f, 0.2f});
    cr_assert_eq(ds.n_classes, 5, "n_classes = %d, want 5", ds.n_classes);
    nt_dataset_free(&ds);
}

Test(csv, crlf_line_endings_and_blank_lines_are_accepted)
{
    nt_dataset ds = load_ok("y,f1,f2\r\n1, 0.5 ,0.25\r\n\r\n0,0.1,0.2\r\n\r\n",
                            3);
    expect_values(&ds, 2, 2, (int32_t[]){1, 0},
                  (float[]){0.5f, 0.25f, 0.1f, 0.2f});
    cr_assert_eq(ds.n_classes, 3, "n_classes = %d, want the given 3",
                 ds.n_classes);
    nt_dataset_free(&ds);
}

Test(csv, pixels_in_0_255_are_scaled_to_unit_range)
{
    nt_dataset ds = load_ok("1,0,255,51\n0,102,1,0\n", 0);
    expect_values(&ds, 2, 3, (int32_t[]){1, 0},
                  (float[]){0.0f, 1.0f, 0.2f, 0.4f, 1.0f / 255, 0.0f});
    nt_dataset_free(&ds);
}

Test(csv, features_outside_0_255_or_within_0_1_are_kept_as_they_are)
{
    nt_dataset ds = load_ok("1,-1,255,51\n0,102,1,0\n", 0);
    expect_values(&ds, 2, 3, (int32_t[]){1, 0},
                  (float[]){-1.0f, 255.0f, 51.0f, 102.0f, 1.0f, 0.0f});
    nt_dataset_free(&ds);
    ds = load_ok("1,0,256,51\n", 0);
    cr_assert_eq(ds.X[1], 256.0f, "X[1] = %g, want 256 (not scaled)", ds.X[1]);
    nt_dataset_free(&ds);
    ds = load_ok("1,0,1,0.5\n", 0);
    cr_assert_eq(ds.X[2], 0.5f, "X[2] = %g, want 0.5 (not scaled)", ds.X[2]);
    nt_dataset_free(&ds);
}

Test(csv, long_mnist_like_rows_are_read_whole)
{
    // 2 rows of a label and 784 pixels "255,": about 3 KB a line
    size_t cap = 2 * 785 * 5 + 100, len = 0;
    char *text = malloc(cap);
    for (int r = 0; r < 2; r++) {
        len += (size_t)sprintf(text + len, "%d", 7 + r);
        for (int p = 0; p < 784; p++)
            len += (size_t)sprintf(text + len, ",%d", p == 783 ? 51 : 255);
        text[len++] = '\n';
    }
    text[len] = '\0';
    nt_dataset ds = load_ok(text, 10);
    free(text);
    cr_assert_eq(ds.n, 2u, "n = %zu, want 2", ds.n);
    cr_assert_eq(ds.d, 784u, "d = %zu, want 784", ds.d);
    cr_assert_eq(ds.y[1], 8, "y[1] = %d, want 8", ds.y[1]);
    cr_assert_float_eq(ds.X[783], 0.2f, 1e-6f, "X[783] = %g, want 0.2",
                       ds.X[783]);
    cr_assert_eq(ds.X[784], 1.0f, "X[784] = %g, want 1", ds.X[784]);
    nt_dataset_free(&ds);
}

Test(csv, a_ragged_row_is_refused_with_its_field_count)
{
    expect_refused("1,2,3\n0,1,2\n1,2\n", 0, NT_ERR_FORMAT, ":3:",
                   "2 fields, expected 3");
    expect_refused("1,2,3\n0,1,2,3,4\n", 0, NT_ERR_FORMAT, ":2:",
                   "5 fields, expected 3");
}

Test(csv, a_non_number_is_refused_naming_line_and_field)
{
    expect_refused("1,2,3\n0,1,abc\n", 0, NT_ERR_FORMAT, ":2:",
                   "field 3: 'abc' is not a number");
    expect_refused("h,a,b\n1,2,3\n0,,2\n", 0, NT_ERR_FORMAT, ":3:",
                   "field 2: '' is not a number");
    expect_refused("1,2,3\n0,1,2x\n", 0, NT_ERR_FORMAT, ":2:",
                   "field 3: '2x' is not a number");
    expect_refused("1,2,3\nx,1,2\n", 0, NT_ERR_FORMAT, ":2:",
                   "field 1: 'x' is not a number");
}

Test(csv, nan_and_inf_are_refused)
{
    expect_refused("1,2,3\n0,nan,2\n", 0, NT_ERR_FORMAT, ":2:",
                   "field 2: 'nan' is not finite");
    expect_refused("1,2,3\n0,1,-inf\n", 0, NT_ERR_FORMAT, ":2:",
                   "field 3: '-inf' is not finite");
    expect_refused("1,2,1e999\n", 0, NT_ERR_FORMAT, ":1:", "not finite");
    expect_refused("1,2,1e39\n", 0, NT_ERR_FORMAT, ":1:",
                   "out of float range");
    expect_refused("inf,2,3\n", 0, NT_ERR_FORMAT, ":1:", "not finite");
}

Test(csv, negative_and_fractional_labels_are_refused)
{
    expect_refused("1,2,3\n-1,1,2\n", 0, NT_ERR_FORMAT, ":2:",
                   "label '-1' is not a non-negative integer");
    expect_refused("1.5,2,3\n", 0, NT_ERR_FORMAT, ":1:",
                   "label '1.5' is not a non-negative integer");
}

Test(csv, a_label_not_below_n_classes_is_refused)
{
    expect_refused("1,2,3\n9,1,2\n10,1,2\n", 10, NT_ERR_FORMAT, ":3:",
                   "label 10 is not below 10");
    expect_refused("1,2,3\n70000,1,2\n", 0, NT_ERR_FORMAT, ":2:",
                   "label 70000 is not below 65536");
}

Test(csv, empty_files_and_header_only_files_are_refused)
{
    expect_refused("", 0, NT_ERR_FORMAT, ":", "empty file");
    expect_refused("\n\r\n  \n", 0, NT_ERR_FORMAT, ":", "empty file");
    expect_refused("label,a,b\n", 0, NT_ERR_FORMAT, ":", "no data rows");
    expect_refused("3\n4\n", 0, NT_ERR_FORMAT, ":", "at least one feature");
}

Test(csv, a_header_with_the_wrong_field_count_is_refused)
{
    expect_refused("label,a\n1,2,3\n", 0, NT_ERR_FORMAT, ":1:",
                   "header has 2 fields");
}

Test(csv, a_missing_file_is_an_io_error_naming_it)
{
    char missing[300];
    snprintf(missing, sizeof missing, "%s/nope.csv", tmpdir);
    nt_dataset ds = {0};
    nt_status rc = nt_csv_load(missing, 0, &ds);
    cr_assert_eq(rc, NT_ERR_IO, "status %d, want NT_ERR_IO", rc);
    cr_assert_not_null(strstr(nt_last_error(), missing), "message '%s'",
                       nt_last_error());
}

/* ---- scaling chosen by the caller, and a test file scaled like its
 * training file ---- */

static nt_dataset load_scaled_ok(const char *text, int scale, bool *scaled)
{
    write_text(text);
    nt_dataset ds = {0};
    nt_status rc = nt_csv_load_scaled(path, 0, scale, &ds, scaled);
    cr_assert_eq(rc, NT_OK, "nt_csv_load_scaled: status %d: %s", rc,
                 nt_last_error());
    return ds;
}

Test(csv, auto_scaling_reports_what_it_chose)
{
    bool scaled = false;
    nt_dataset ds = load_scaled_ok("1,0,255\n0,51,0\n", NT_CSV_SCALE_AUTO,
                                   &scaled);
    cr_assert(scaled, "pixels in 0..255: scaled = %d, want 1", scaled);
    cr_assert_float_eq(ds.X[2], 0.2f, 1e-6f, "X[2] = %g, want 0.2", ds.X[2]);
    nt_dataset_free(&ds);
    scaled = true;
    ds = load_scaled_ok("1,0,0.5\n0,1,0\n", NT_CSV_SCALE_AUTO, &scaled);
    cr_assert(!scaled, "values in 0..1: scaled = %d, want 0", scaled);
    nt_dataset_free(&ds);
    scaled = true;
    ds = load_scaled_ok("1,-3,200\n", NT_CSV_SCALE_AUTO, &scaled);
    cr_assert(!scaled, "a negative value: scaled = %d, want 0", scaled);
    nt_dataset_free(&ds);
}

Test(csv, never_keeps_pixels_and_255_divides_any_values)
{
    bool scaled = true;
    nt_dataset ds = load_scaled_ok("1,0,255\n0,51,0\n", NT_CSV_SCALE_NEVER,
                                   &scaled);
    cr_assert(!scaled && ds.X[1] == 255.0f, "scaled %d, X[1] = %g, want 0 and "
              "255", scaled, ds.X[1]);
    nt_dataset_free(&ds);
    ds = load_scaled_ok("1,0,1\n0,-51,0.5\n", NT_CSV_SCALE_255, &scaled);
    expect_values(&ds, 2, 2, (int32_t[]){1, 0},
                  (float[]){0, 1.0f / 255, -0.2f, 0.5f / 255});
    cr_assert(scaled, "scaled = %d, want 1", scaled);
    nt_dataset_free(&ds);
    // nt_csv_load is the AUTO case; NULL is allowed for the flag
    ds = load_scaled_ok("1,0,255\n", NT_CSV_SCALE_AUTO, NULL);
    cr_assert_eq(ds.X[1], 1.0f, "X[1] = %g, want 1", ds.X[1]);
    nt_dataset_free(&ds);
}

Test(csv, a_failed_scaled_load_leaves_the_flag_false)
{
    write_text("1,2,x\n");
    nt_dataset ds = {0};
    bool scaled = true;
    nt_status rc = nt_csv_load_scaled(path, 0, NT_CSV_SCALE_255, &ds, &scaled);
    cr_assert_eq(rc, NT_ERR_FORMAT, "status %d, want NT_ERR_FORMAT", rc);
    cr_assert(!scaled && ds.X == NULL, "scaled %d, X %p after a failure",
              scaled, (void *)ds.X);
}

/* Open tmpdir/s_train.csv and s_test.csv through nt_data_open. */
static void open_pair(const char *train_text, const char *test_text,
                      nt_dataset *train, nt_dataset *test)
{
    char tr[300], te[300];
    snprintf(tr, sizeof tr, "%s/s_train.csv", tmpdir);
    snprintf(te, sizeof te, "%s/s_test.csv", tmpdir);
    FILE *fp = fopen(tr, "wb");
    cr_assert_not_null(fp, "cannot create %s", tr);
    fputs(train_text, fp);
    fclose(fp);
    fp = fopen(te, "wb");
    cr_assert_not_null(fp, "cannot create %s", te);
    fputs(test_text, fp);
    fclose(fp);
    nt_status rc = nt_data_open(tr, NULL, train, test);
    cr_assert_eq(rc, NT_OK, "nt_data_open: %s", nt_last_error());
}

Test(csv, a_test_file_of_0_and_1_pixels_is_scaled_like_its_0_255_training_file)
{
    nt_dataset train = {0}, test = {0};
    // on its own the test file (all values <= 1) would be kept as it is
    open_pair("1,0,255\n0,51,0\n", "1,1,0\n0,0,1\n", &train, &test);
    cr_assert_eq(train.X[1], 1.0f, "train X[1] = %g, want 255/255 = 1",
                 train.X[1]);
    cr_assert_float_eq(test.X[0], 1.0f / 255, 1e-9f,
                       "test X[0] = %g, want 1/255 as in training", test.X[0]);
    nt_dataset_free(&train);
    nt_dataset_free(&test);
}

Test(csv, a_test_file_in_0_255_is_kept_when_its_training_file_was)
{
    nt_dataset train = {0}, test = {0};
    // the training file has a negative value, so it is not pixels; on its
    // own the test file (0..255, some above 1) would be divided by 255
    open_pair("1,-1,100\n0,51,0\n", "1,2,200\n0,0,1\n", &train, &test);
    cr_assert_eq(train.X[1], 100.0f, "train X[1] = %g, want 100", train.X[1]);
    cr_assert_eq(test.X[1], 200.0f, "test X[1] = %g, want 200 as in training",
                 test.X[1]);
    nt_dataset_free(&train);
    nt_dataset_free(&test);
}
