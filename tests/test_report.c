/* test_report.c - `nntune report` and `nntune compare` end to end with the
 * built ./nntune, on run folders made by small tuning runs (test functions,
 * and a network on a tiny synthetic CSV): the page is well-formed (every
 * tag closed, in order), self-contained (no scripts, no http(s) resources),
 * holds every section, and shows the journal's numbers; a missing, empty
 * or corrupt run folder is a one-line error that leaves no page behind.
 * Skipped when ./nntune has not been built. */
#include <criterion/criterion.h>

#include "helpers.h"
#include <criterion/logging.h>

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[64];

static void setup(void)
{
    scratch_make(tmpdir, "/tmp/nt_test_report_XXXXXX");
}

static void teardown(void)
{
    scratch_remove(tmpdir);
}

TestSuite(report, .init = setup, .fini = teardown);

static void need_binary(void)
{
    need_nntune(teardown);
}

/* tmpdir/name, into buf (256 bytes). */
static char *at(char *buf, const char *name)
{
    return scratch_at(buf, tmpdir, name);
}

static void spit(const char *path, const char *text, const char *mode)
{
    FILE *f = fopen(path, mode);
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* Run ./nntune with the arguments (NULL-terminated), in the current
 * folder, stdout and stderr captured. */
static run_result run(const char *first, ...)
{
    const char *args[64];
    va_list ap;
    va_start(ap, first);
    int n = collect_args(args, 0, 64, first, ap);
    va_end(ap);
    return nntune_finish(tmpdir, nntune_spawn(tmpdir, args, n));
}

/* A tuning run that must succeed; its folder is tmpdir/name. */
static void tune_function(const char *name, const char *fn, const char *strategy,
                          const char *trials)
{
    char dir[256];
    run_result r = run("--objective", fn, "--strategy", strategy, "--trials", trials,
                       "--quiet", "--out", at(dir, name), NULL);
    cr_assert_eq(r.code, 0, "tuning %s with %s exited %d: %s", fn, strategy, r.code, r.err);
    run_free(&r);
}

/* A tiny network run on a synthetic 3-class CSV (240 training rows, 90
 * test rows, 6 features): seconds, and it has curves, a refit and a test. */
static void tune_network(const char *name)
{
    char train[256], test[256], dir[256];
    const char *paths[2] = {at(train, "train.csv"), at(test, "test.csv")};
    unsigned s = 12345;
    for (int k = 0; k < 2; k++) {
        FILE *f = fopen(paths[k], "w");
        cr_assert_not_null(f);
        for (int i = 0; i < (k ? 90 : 240); i++) {
            int c = i % 3;
            fprintf(f, "%d", c);
            for (int j = 0; j < 6; j++) {
                s = s * 1103515245u + 12345u;
                double noise = ((s >> 8) % 1000) / 1000.0 - 0.5;
                fprintf(f, ",%.3f", (j % 3 == c ? 1.0 : 0.0) + noise);
            }
            fputc('\n', f);
        }
        fclose(f);
    }
    run_result r = run("--data", train, "--test-data", test, "--strategy", "random",
                       "--trials", "3", "--folds", "2", "--param", "epochs = 4", "--jobs", "1",
                       "--quiet", "--out", at(dir, name), NULL);
    cr_assert_eq(r.code, 0, "the CSV tuning run exited %d: %s", r.code, r.err);
    run_free(&r);
}

/* `nntune report DIR` succeeds; returns the page (owned). */
static char *report(const char *name)
{
    char dir[256], page[300];
    run_result r = run("report", at(dir, name), NULL);
    cr_assert_eq(r.code, 0, "nntune report %s exited %d: %s", dir, r.code, r.err);
    cr_assert(strstr(r.out, "report.html"), "report does not say where it wrote: %s", r.out);
    run_free(&r);
    snprintf(page, sizeof page, "%s/report.html", dir);
    char *html = slurp(page);
    cr_assert_not_null(html, "%s was not written", page);
    return html;
}

/* ------------------------------------------------------------------------
 * checking a page */

static bool void_element(const char *name)
{
    static const char *const v[] = {"meta", "br", "hr", "img", "input", "link", "col",
                                    "wbr", "source", "area", "base", "embed", "track"};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (!strcasecmp(name, v[i])) return true;
    return false;
}

/* Every opened tag is closed, in order (void elements and <x/> excepted);
 * fails naming the first mismatch and its byte offset. */
static void assert_balanced(const char *html)
{
    char stack[256][32];
    int depth = 0;
    for (const char *p = strchr(html, '<'); p; p = strchr(p + 1, '<')) {
        if (!strncmp(p, "<!", 2)) continue;   // doctype, comments
        const char *end = strchr(p, '>');
        cr_assert_not_null(end, "unterminated tag at byte %ld", (long)(p - html));
        bool closing = p[1] == '/', self = end[-1] == '/';
        const char *name = p + 1 + closing;
        size_t len = strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
        cr_assert(len > 0 && len < 32, "a bare '<' at byte %ld: %.20s", (long)(p - html), p);
        char tag[32];
        memcpy(tag, name, len);
        tag[len] = '\0';
        if (closing) {
            cr_assert_gt(depth, 0, "</%s> at byte %ld closes nothing", tag, (long)(p - html));
            cr_assert_str_eq(stack[depth - 1], tag, "</%s> at byte %ld closes <%s>", tag,
                             (long)(p - html), stack[depth - 1]);
            depth--;
        } else if (!self && !void_element(tag)) {
            cr_assert_lt(depth, 256, "tags nested too deep");
            strcpy(stack[depth++], tag);
        }
    }
    cr_assert_eq(depth, 0, "<%s> is never closed", depth ? stack[depth - 1] : "");
}

/* Well-formed, self-contained, and every section there. */
static void assert_good_page(const char *html)
{
    assert_balanced(html);
    cr_assert(!strstr(html, "http://") && !strstr(html, "https://"),
              "the page refers to the network: %.80s",
              strstr(html, "http") ? strstr(html, "http") : "");
    cr_assert(!strcasestr(html, "<script"), "the page has a script");
    static const char *const ids[] = {"settings", "trials", "history", "params",
                                      "curves", "test", "model"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        char want[64];
        snprintf(want, sizeof want, "<h2 id=\"%s\">", ids[i]);
        cr_assert(strstr(html, want), "the page has no section %s", want);
    }
}

/* The text of section id: from its <h2> to the next <h2> or the end. */
static char *section_text(const char *html, const char *id)
{
    char want[64];
    snprintf(want, sizeof want, "<h2 id=\"%s\">", id);
    const char *s = strstr(html, want);
    cr_assert_not_null(s, "no section %s", id);
    const char *e = strstr(s + 1, "<h2");
    size_t n = e ? (size_t)(e - s) : strlen(s);
    char *out = malloc(n + 1);
    memcpy(out, s, n);
    out[n] = '\0';
    return out;
}

/* The journal's best trial (lowest score among ok trials): its 1-based
 * number and its metric. */
static void journal_best(const char *dir_name, int *trial, double *metric)
{
    char path[256], buf[64];
    snprintf(buf, sizeof buf, "%s/trials.jsonl", dir_name);
    char *text = slurp(at(path, buf));
    cr_assert_not_null(text, "no journal %s", path);
    double best = INFINITY;
    *trial = -1;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *o = cJSON_Parse(line);
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "status");
        double s = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "score"));
        if (cJSON_IsString(st) && !strcmp(st->valuestring, "ok") && s < best) {
            best = s;
            *trial = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "trial")) + 1;
            *metric = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "metric"));
        }
        cJSON_Delete(o);
    }
    free(text);
    cr_assert_geq(*trial, 1, "the journal %s has no ok trial", path);
}

/* A failed command: the exit code, one line on stderr naming `what`, and
 * nothing at `must_not_exist`. */
static void assert_fails(run_result *r, int code, const char *what, const char *must_not_exist)
{
    cr_assert_eq(r->code, code, "exit %d, want %d; stderr: %s", r->code, code, r->err);
    size_t len = strlen(r->err);
    cr_assert(len > 0 && r->err[len - 1] == '\n' && !memchr(r->err, '\n', len - 1),
              "want one line on stderr, got: %s", r->err);
    cr_assert(strstr(r->err, "nntune ") == r->err, "the error does not start with nntune: %s",
              r->err);
    cr_assert(strstr(r->err, what), "the error does not name %s: %s", what, r->err);
    cr_assert(!must_not_exist || !file_exists(must_not_exist), "%s was left behind", must_not_exist);
    run_free(r);
}

/* ------------------------------------------------------------------------
 * report */

Test(report, a_2d_bayes_run_shows_its_best_value_and_the_gp_heatmaps)
{
    need_binary();
    tune_function("b", "branin", "bayes", "16");
    char *html = report("b");
    assert_good_page(html);
    int trial;
    double value;
    journal_best("b", &trial, &value);
    char want[64];
    snprintf(want, sizeof want, "Best: trial %d, f = %.6g", trial, value);
    cr_assert(strstr(html, want), "the summary does not say \"%s\"", want);
    char *trials = section_text(html, "trials");
    snprintf(want, sizeof want, "<td>%.6g</td>", value);
    cr_assert(strstr(trials, "class=\"best\"") && strstr(trials, want),
              "the trial table has no best row with %s", want);
    char *model = section_text(html, "model");
    cr_assert(strstr(model, "GP mean") && strstr(model, "GP standard deviation"),
              "the model section has no mean and sd heatmaps");
    free(model);
    free(trials);
    free(html);
}

Test(report, a_1d_bayes_run_draws_the_gp_mean_with_its_band)
{
    need_binary();
    tune_function("f", "forrester", "bayes", "10");
    char *html = report("f");
    assert_good_page(html);
    char *model = section_text(html, "model");
    cr_assert(strstr(model, "band = mean") && strstr(model, "<polygon"),
              "the 1-D model chart has no uncertainty band");
    cr_assert(strstr(model, "true function"), "the 1-D model chart has no true function");
    free(model);
    free(html);
}

Test(report, a_random_run_on_a_function_explains_why_there_is_no_model)
{
    need_binary();
    tune_function("r", "hartmann3", "random", "8");
    char *html = report("r");
    assert_good_page(html);
    char *model = section_text(html, "model");
    cr_assert(strstr(model, "random search") && !strstr(model, "<svg"),
              "the model section of a random run: %s", model);
    free(model);
    free(html);
}

Test(report, a_network_run_shows_curves_the_test_set_and_the_confusion_matrix)
{
    need_binary();
    tune_network("n");
    char *html = report("n");
    assert_good_page(html);
    int trial;
    double acc;
    journal_best("n", &trial, &acc);
    char want[128];
    snprintf(want, sizeof want, "Best: trial %d, cross-validated accuracy = %.4f", trial, acc);
    cr_assert(strstr(html, want), "the summary does not say \"%s\"", want);
    char path[256], *best_text = slurp(at(path, "n/best.json"));
    cJSON *best = cJSON_Parse(best_text);
    double test_acc = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(best, "test"), "accuracy"));
    char *test = section_text(html, "test");
    snprintf(want, sizeof want, "<td>%.4f</td>", test_acc);
    cr_assert(strstr(test, want), "the test section does not show test accuracy %s", want);
    cr_assert(strstr(test, "class=\"cm\""), "the test section has no confusion matrix");
    char *curves = section_text(html, "curves");
    cr_assert(strstr(curves, "<svg") && strstr(curves, "fold 1") && strstr(curves, "refit"),
              "the curves section has no fold and refit curves");
    free(curves);
    free(test);
    cJSON_Delete(best);
    free(best_text);
    free(html);
}

Test(report, a_journal_without_best_json_is_reported_as_interrupted)
{
    need_binary();
    tune_function("i", "branin", "random", "6");
    char path[256];
    cr_assert_eq(remove(at(path, "i/best.json")), 0);
    // and a last line cut short, as a killed run leaves it
    spit(at(path, "i/trials.jsonl"), "{\"trial\":6,\"status\":\"o", "a");
    char *html = report("i");
    assert_good_page(html);
    cr_assert(strstr(html, "interrupted / still running"), "the ending is not explained");
    cr_assert(strstr(html, "torn last line"), "the dropped line is not mentioned");
    free(html);
}

Test(report, a_header_only_journal_still_makes_a_page)
{
    need_binary();
    tune_function("h", "branin", "random", "3");
    char path[256];
    char *text = slurp(at(path, "h/trials.jsonl"));
    *strchr(text, '\n') = '\0';
    spit(path, text, "w");
    spit(path, "\n", "a");
    remove(at(path, "h/best.json"));
    char *html = report("h");
    assert_good_page(html);
    cr_assert(strstr(html, "no finished trial"), "an empty study is not explained");
    free(text);
    free(html);
}

Test(report, a_missing_folder_is_a_one_line_error)
{
    need_binary();
    char dir[256];
    run_result r = run("report", at(dir, "nowhere"), NULL);
    assert_fails(&r, 1, "nowhere", NULL);
}

Test(report, a_folder_without_journal_is_a_one_line_error)
{
    need_binary();
    char dir[256], page[256];
    mkdir(at(dir, "e"), 0755);
    run_result r = run("report", dir, NULL);
    assert_fails(&r, 1, "trials.jsonl", at(page, "e/report.html"));
}

Test(report, an_empty_journal_is_a_one_line_error_and_writes_nothing)
{
    need_binary();
    char dir[256], path[256], page[256];
    mkdir(at(dir, "e"), 0755);
    spit(at(path, "e/trials.jsonl"), "", "w");
    run_result r = run("report", dir, NULL);
    assert_fails(&r, 1, "empty journal", at(page, "e/report.html"));
}

Test(report, a_corrupt_journal_line_is_a_one_line_error_naming_the_line)
{
    need_binary();
    tune_function("c", "branin", "random", "4");
    char path[256], page[256];
    char *before = slurp(at(page, "c/report.html")); // the tuning run wrote it
    cr_assert_not_null(before, "the tuning run wrote no report.html");
    char *text = slurp(at(path, "c/trials.jsonl"));
    char *second = strchr(text, '\n') + 1;
    second[5] = '#';   // damage the first trial line, not the last
    spit(path, text, "w");
    run_result r = run("report", at(page, "c"), NULL);
    assert_fails(&r, 1, "trials.jsonl:2", NULL);
    char *after = slurp(at(page, "c/report.html"));
    cr_assert(after && !strcmp(before, after), "a failed rebuild changed the previous report");
    free(before);
    free(after);
    free(text);
}

Test(report, a_journal_without_study_header_is_a_one_line_error)
{
    need_binary();
    char dir[256], path[256], page[256];
    mkdir(at(dir, "g"), 0755);
    spit(at(path, "g/trials.jsonl"), "not json at all\n{\"trial\":0}\n", "w");
    run_result r = run("report", dir, NULL);
    assert_fails(&r, 1, "study header", at(page, "g/report.html"));
}

Test(report, a_corrupt_best_json_is_a_one_line_error)
{
    need_binary();
    tune_function("j", "branin", "random", "3");
    char path[256], page[256];
    remove(at(page, "j/report.html")); // as if the tuning run had been killed
    spit(at(path, "j/best.json"), "{\"trials\": 3,", "w");
    run_result r = run("report", at(page, "j"), NULL);
    assert_fails(&r, 1, "best.json", at(page, "j/report.html"));
}

Test(report, bad_arguments_are_usage_errors)
{
    need_binary();
    run_result r = run("report", NULL);
    assert_fails(&r, 2, "no run folder", NULL);
    r = run("report", "--bogus", "x", NULL);
    assert_fails(&r, 2, "--bogus", NULL);
    r = run("report", "a", "b", NULL);
    assert_fails(&r, 2, "one run folder", NULL);
}

Test(report, help_exits_0_and_names_the_sections)
{
    need_binary();
    run_result r = run("report", "--help", NULL);
    cr_assert_eq(r.code, 0, "report --help exited %d", r.code);
    cr_assert(strstr(r.out, "Usage: nntune report RUN_FOLDER"), "report --help: %s", r.out);
    run_free(&r);
    r = run("compare", "--help", NULL);
    cr_assert_eq(r.code, 0, "compare --help exited %d", r.code);
    cr_assert(strstr(r.out, "--out FILE"), "compare --help: %s", r.out);
    run_free(&r);
}

/* ------------------------------------------------------------------------
 * compare */

Test(report, compare_draws_both_runs_and_prints_an_aligned_table)
{
    need_binary();
    tune_function("cb", "branin", "bayes", "10");
    tune_function("cr", "branin", "random", "10");
    char a[256], b[256], out[256];
    run_result r = run("compare", at(a, "cb"), at(b, "cr"), "--out", at(out, "sub/cmp.html"),
                       "--title", "two <runs>", NULL);
    cr_assert_eq(r.code, 0, "compare exited %d: %s", r.code, r.err);
    cr_assert(strstr(r.out, "strategy") && strstr(r.out, a) && strstr(r.out, b),
              "the table on stdout lacks a run: %s", r.out);
    // aligned: the header's "trials" column ends where each row's does
    char *second = strchr(r.out, '\n') + 1;
    cr_assert_eq(strchr(r.out, '\n') - r.out, strchr(second, '\n') - second,
                 "the header and the first row differ in length:\n%s", r.out);
    run_free(&r);
    char *html = slurp(out);
    cr_assert_not_null(html, "compare wrote no %s", out);
    assert_balanced(html);
    cr_assert(strstr(html, "two &lt;runs&gt;"), "the title is not escaped");
    cr_assert(strstr(html, "(bayes)") && strstr(html, "(random)"), "a run has no line");
    cr_assert(strstr(html, "id=\"by-trial\"") && strstr(html, "id=\"by-time\""),
              "a chart is missing");
    cr_assert(!strstr(html, "http://") && !strstr(html, "https://") && !strstr(html, "<script"),
              "the page is not self-contained");
    free(html);
}

Test(report, compare_refuses_runs_that_measure_different_things)
{
    need_binary();
    tune_function("m1", "branin", "random", "3");
    tune_function("m2", "forrester", "random", "3");
    char a[256], b[256], out[256];
    run_result r = run("compare", at(a, "m1"), at(b, "m2"), "--out", at(out, "x.html"), NULL);
    assert_fails(&r, 2, "m2", out);
}

Test(report, compare_refuses_a_folder_without_journal)
{
    need_binary();
    tune_function("k", "branin", "random", "3");
    char a[256], b[256], out[256];
    mkdir(at(b, "empty"), 0755);
    run_result r = run("compare", at(a, "k"), b, "--out", at(out, "x.html"), NULL);
    assert_fails(&r, 1, "empty", out);
}
