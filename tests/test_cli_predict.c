/* test_cli_predict.c - `nntune predict` end to end: the built ./nntune
 * trains on a tiny separable IDX data set, then predicts; bad inputs give
 * the documented exit code and a one-line message naming the culprit.
 * Skipped when ./nntune has not been built (make check builds it first). */
#include <criterion/criterion.h>

#include "helpers.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nntune/idx.h"
#include "nntune/rng.h"

static char tmpdir[64];

static void setup(void)
{
    scratch_make(tmpdir, "/tmp/nt_test_cli_predict_XXXXXX");
}

static void teardown(void)
{
    scratch_remove(tmpdir);
}

TestSuite(cli_predict, .init = setup, .fini = teardown);

static char *at(char *buf, const char *name)
{
    return scratch_at(buf, tmpdir, name);
}

/* Run ./nntune with the NULL-terminated arguments, stdout and stderr going
 * to files in tmpdir. */
static run_result run(const char *arg0, ...)
{
    const char *args[64];
    va_list ap;
    va_start(ap, arg0);
    int n = collect_args(args, 0, 64, arg0, ap);
    va_end(ap);
    return nntune_finish(tmpdir, nntune_spawn(tmpdir, args, n));
}

static void need_binary(void)
{
    need_nntune(teardown);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

enum { SIDE = 4, D = SIDE * SIDE, N_TRAIN = 200, N_TEST = 60, K = 3 };

/* n images of 4 x 4: class i % 3 lights row (class) at 200..255, the rest
 * is dark noise in 0..59 - separable by any reasonable model. */
static void make_set(nt_rng *r, size_t n, uint8_t *px, uint8_t *labels)
{
    for (size_t i = 0; i < n; i++) {
        int c = (int)(i % K);
        labels[i] = (uint8_t)c;
        for (int p = 0; p < D; p++)
            px[i * D + p] = (uint8_t)(p / SIDE == c ? 200 + nt_rng_below(r, 56)
                                                    : nt_rng_below(r, 60));
    }
}

static uint8_t test_labels[N_TEST];

/* Write the IDX folder and train tmpdir/m.nnt with ./nntune. */
static void make_model(void)
{
    need_binary();
    nt_rng r;
    nt_rng_seed(&r, 11);
    uint8_t px[N_TRAIN * D], lb[N_TRAIN];
    char img[256], lab[256], model[256];
    make_set(&r, N_TRAIN, px, lb);
    nt_status rc = nt_idx_write(at(img, "train-images-idx3-ubyte"),
                                at(lab, "train-labels-idx1-ubyte"), px, lb,
                                N_TRAIN, SIDE, SIDE);
    cr_assert_eq(rc, NT_OK, "nt_idx_write: %s", nt_last_error());
    make_set(&r, N_TEST, px, test_labels);
    rc = nt_idx_write(at(img, "t10k-images-idx3-ubyte"),
                      at(lab, "t10k-labels-idx1-ubyte"), px, test_labels,
                      N_TEST, SIDE, SIDE);
    cr_assert_eq(rc, NT_OK, "nt_idx_write: %s", nt_last_error());
    run_result t = run("train", "--data", tmpdir, "--layers", "8", "--epochs",
                       "30", "--val-frac", "0", "--dropout", "0", "--lr", "0.01",
                       "--batch", "20", "--threads", "1", "--quiet", "--save",
                       at(model, "m.nnt"), NULL);
    cr_assert_eq(t.code, 0, "train exited %d: %s", t.code, t.err);
    run_free(&t);
}

/* Parse CSV predictions: check the header, one line a sample with indices
 * in order; the fraction whose prediction matches test_labels. */
static double csv_accuracy(const char *text, const char *want_header,
                           size_t want_rows)
{
    size_t lines = count_lines(text);
    cr_assert_eq(lines, want_rows + 1, "%zu lines, want a header and %zu rows",
                 lines, want_rows);
    cr_assert(strncmp(text, want_header, strlen(want_header)) == 0 &&
              text[strlen(want_header)] == '\n',
              "header '%.80s', want '%s'", text, want_header);
    const char *p = strchr(text, '\n') + 1;
    size_t hits = 0;
    for (size_t i = 0; i < want_rows; i++) {
        size_t index;
        int pred;
        double prob;
        cr_assert_eq(sscanf(p, "%zu,%d,%lf", &index, &pred, &prob), 3,
                     "row %zu unreadable: '%.60s'", i, p);
        cr_assert_eq(index, i, "row %zu has index %zu", i, index);
        cr_assert(prob > 0 && prob <= 1, "row %zu: probability %g", i, prob);
        hits += pred == test_labels[i];
        p = strchr(p, '\n') + 1;
    }
    return (double)hits / (double)want_rows;
}

Test(cli_predict, idx_images_get_one_line_each_and_high_accuracy)
{
    make_model();
    char model[256], img[256];
    run_result r = run("predict", "--model", at(model, "m.nnt"), "--input",
                       at(img, "t10k-images-idx3-ubyte"), NULL);
    cr_assert_eq(r.code, 0, "predict exited %d: %s", r.code, r.err);
    double acc = csv_accuracy(r.out, "index,predicted,probability", N_TEST);
    cr_assert_geq(acc, 0.9, "accuracy %.3f on a separable set, want >= 0.9",
                  acc);
    cr_assert_null(strstr(r.err, "accuracy"),
                   "no labels, yet stderr says '%s'", r.err);
    run_free(&r);
}

Test(cli_predict, out_writes_the_file_and_top_k_adds_ranked_classes)
{
    make_model();
    char model[256], img[256], out[256];
    // a file name without IDX hints: detected by its magic bytes
    rename(at(img, "t10k-images-idx3-ubyte"), at(out, "images.bin"));
    run_result r = run("predict", "--model", at(model, "m.nnt"), "--input",
                       at(img, "images.bin"), "--top", "2", "--out",
                       at(out, "sub/pred.csv"), NULL);
    cr_assert_eq(r.code, 0, "predict exited %d: %s", r.code, r.err);
    cr_assert_str_eq(r.out, "", "stdout not empty with --out: '%.80s'", r.out);
    char *text = slurp(out);
    cr_assert_not_null(text, "%s was not written", out);
    double acc = csv_accuracy(text, "index,predicted,probability,top1_class,"
                              "top1_probability,top2_class,top2_probability",
                              N_TEST);
    cr_assert_geq(acc, 0.9, "accuracy %.3f, want >= 0.9", acc);
    const char *p = strchr(text, '\n') + 1;
    for (int i = 0; i < N_TEST; i++, p = strchr(p, '\n') + 1) {
        int idx, pred, c1, c2;
        double prob, p1, p2;
        cr_assert_eq(sscanf(p, "%d,%d,%lf,%d,%lf,%d,%lf", &idx, &pred, &prob,
                            &c1, &p1, &c2, &p2), 7, "row %d: '%.80s'", i, p);
        cr_assert(c1 == pred && p1 == prob && c2 != c1 && p2 <= p1 &&
                  p1 + p2 <= 1.0 + 1e-5,
                  "row %d: predicted %d (%g), top %d (%g), %d (%g)", i, pred,
                  prob, c1, p1, c2, p2);
    }
    free(text);
    run_free(&r);
}

Test(cli_predict, json_prints_an_array_with_one_object_a_sample)
{
    make_model();
    char model[256], img[256];
    run_result r = run("predict", "--model", at(model, "m.nnt"), "--input",
                       at(img, "t10k-images-idx3-ubyte"), "--json", "--top",
                       "3", NULL);
    cr_assert_eq(r.code, 0, "predict exited %d: %s", r.code, r.err);
    cJSON *j = cJSON_Parse(r.out);
    cr_assert(cJSON_IsArray(j), "stdout is not a JSON array: '%.80s'", r.out);
    cr_assert_eq(cJSON_GetArraySize(j), N_TEST, "%d objects, want %d",
                 cJSON_GetArraySize(j), N_TEST);
    int hits = 0;
    for (int i = 0; i < N_TEST; i++) {
        cJSON *o = cJSON_GetArrayItem(j, i);
        cJSON *idx = cJSON_GetObjectItem(o, "index");
        cJSON *pred = cJSON_GetObjectItem(o, "predicted");
        cJSON *top = cJSON_GetObjectItem(o, "top");
        cr_assert(cJSON_IsNumber(idx) && idx->valueint == i &&
                  cJSON_IsNumber(pred) && cJSON_GetArraySize(top) == 3,
                  "object %d malformed", i);
        hits += pred->valueint == test_labels[i];
    }
    cr_assert_geq(hits, N_TEST * 9 / 10, "%d of %d right, want >= 90%%", hits,
                  N_TEST);
    cJSON_Delete(j);
    run_free(&r);
}

Test(cli_predict, a_labelled_csv_reports_accuracy_on_stderr)
{
    make_model();
    // the test images as CSV: a header, then the label and 16 pixels
    nt_rng r;
    nt_rng_seed(&r, 11);
    uint8_t px[N_TRAIN * D], lb[N_TRAIN];
    make_set(&r, N_TRAIN, px, lb);
    make_set(&r, N_TEST, px, lb);
    char csv[256], model[256];
    FILE *fp = fopen(at(csv, "test.csv"), "w");
    fputs("label", fp);
    for (int p = 0; p < D; p++) fprintf(fp, ",p%d", p);
    fputc('\n', fp);
    for (int i = 0; i < N_TEST; i++) {
        fprintf(fp, "%d", lb[i]);
        for (int p = 0; p < D; p++) fprintf(fp, ",%d", px[i * D + p]);
        fputc('\n', fp);
    }
    fclose(fp);
    run_result res = run("predict", "--model", at(model, "m.nnt"), "--input",
                         csv, NULL);
    cr_assert_eq(res.code, 0, "predict exited %d: %s", res.code, res.err);
    double acc = csv_accuracy(res.out, "index,predicted,probability", N_TEST);
    const char *a = strstr(res.err, "accuracy ");
    cr_assert_not_null(a, "no accuracy on stderr: '%s'", res.err);
    double reported = atof(a + strlen("accuracy "));
    cr_assert_float_eq(reported, 100 * acc, 0.01,
                       "stderr says %.2f%%, the output gives %.2f%%", reported,
                       100 * acc);
    cr_assert_geq(acc, 0.9, "accuracy %.3f, want >= 0.9", acc);
    run_free(&res);
}

/* Expect exit `code`, nothing on stdout, and one stderr line holding each
 * of the non-NULL strings. */
static void expect_error(run_result *r, int code, const char *must,
                         const char *must2)
{
    cr_assert_eq(r->code, code, "exit %d, want %d; stderr: %s", r->code, code,
                 r->err);
    cr_assert_str_eq(r->out, "", "stdout not empty: '%.80s'", r->out);
    size_t lines = count_lines(r->err);
    cr_assert_eq(lines, 1u, "%zu stderr lines, want 1: '%s'", lines, r->err);
    cr_assert_not_null(strstr(r->err, must), "stderr '%s' lacks '%s'", r->err,
                       must);
    if (must2)
        cr_assert_not_null(strstr(r->err, must2), "stderr '%s' lacks '%s'",
                           r->err, must2);
    run_free(r);
}

Test(cli_predict, a_missing_or_corrupt_model_fails_naming_the_file)
{
    make_model();
    char model[256], img[256], bad[256];
    at(img, "t10k-images-idx3-ubyte");
    run_result r = run("predict", "--model", at(bad, "none.nnt"), "--input",
                       img, NULL);
    expect_error(&r, 1, bad, "cannot open");

    // flip one weight byte: the CRC no longer matches
    FILE *fp = fopen(at(model, "m.nnt"), "rb");
    cr_assert_not_null(fp, "cannot open %s", model);
    fseek(fp, 0, SEEK_END);
    size_t len = (size_t)ftell(fp);
    rewind(fp);
    uint8_t *buf = malloc(len);
    cr_assert_eq(fread(buf, 1, len, fp), len, "short read of %s", model);
    fclose(fp);
    buf[len - 10] ^= 0x40;
    fp = fopen(at(bad, "bad.nnt"), "wb");
    fwrite(buf, 1, len, fp);
    fclose(fp);
    free(buf);
    r = run("predict", "--model", bad, "--input", img, NULL);
    expect_error(&r, 1, bad, "CRC");
}

Test(cli_predict, the_wrong_feature_count_fails_naming_the_input_and_writes_nothing)
{
    make_model();
    char model[256], img[256], lab[256], out[256], csv[256];
    uint8_t px[2 * 25] = {0}, lb[2] = {0};
    cr_assert_eq(nt_idx_write(at(img, "five-idx3-ubyte"), at(lab, "five-l"), px,
                              lb, 2, 5, 5), NT_OK, "%s", nt_last_error());
    run_result r = run("predict", "--model", at(model, "m.nnt"), "--input",
                       img, "--out", at(out, "p.csv"), NULL);
    expect_error(&r, 1, img, "25 features per sample, the model takes 16");
    cr_assert_neq(access(out, F_OK), 0, "%s written after a failure", out);

    FILE *fp = fopen(at(csv, "three.csv"), "w");
    fputs("1,2,3\n4,5,6\n", fp);
    fclose(fp);
    r = run("predict", "--model", model, "--input", csv, NULL);
    expect_error(&r, 1, csv, "want 16 features");
}

Test(cli_predict, bad_options_exit_2_naming_the_option)
{
    need_binary();
    run_result r = run("predict", "--model", "m.nnt", "--input", "x.csv",
                       "--bogus", NULL);
    expect_error(&r, 2, "'--bogus'", NULL);
    r = run("predict", "--model", "m.nnt", NULL);
    expect_error(&r, 2, "--input", "required");
    r = run("predict", "--input", "x.csv", NULL);
    expect_error(&r, 2, "--model", "required");
    r = run("predict", "--model", "m.nnt", "--input", "x.csv", "--top", "0",
            NULL);
    expect_error(&r, 2, "--top", "'0'");
    r = run("predict", "--model", "m.nnt", "--input", "x.csv", "--threads",
            "many", NULL);
    expect_error(&r, 2, "--threads", "'many'");
}

Test(cli_predict, top_k_above_the_model_classes_is_a_usage_error)
{
    make_model();
    char model[256], img[256];
    run_result r = run("predict", "--model", at(model, "m.nnt"), "--input",
                       at(img, "t10k-images-idx3-ubyte"), "--top", "11", NULL);
    expect_error(&r, 2, "--top", model);
}

Test(cli_predict, help_exits_0_and_explains_csv_scaling)
{
    need_binary();
    run_result r = run("predict", "--help", NULL);
    cr_assert_eq(r.code, 0, "exit %d", r.code);
    cr_assert_not_null(strstr(r.out, "--input FILE"), "help: '%s'", r.out);
    cr_assert_not_null(strstr(r.out, "Scaling"), "help lacks the scaling note");
    run_free(&r);
}
