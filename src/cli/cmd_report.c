/* cmd_report.c - `nntune report` (rebuild a run folder's report.html) and
 * `nntune compare` (several runs on one page: best so far against trials
 * and against time, and a table, also printed as text). */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report.h"
#include "svg.h"

static const char REPORT_HELP[] =
    "Usage: nntune report RUN_FOLDER\n"
    "(Re)build RUN_FOLDER/report.html from the folder's files: the journal\n"
    "trials.jsonl (required) and best.json (when the run got that far).\n"
    "Every tuning run writes the report itself; this command rebuilds it, e.g.\n"
    "for a run that is still going or was stopped.\n\n"
    "The report is one self-contained HTML file (no scripts, no network):\n"
    "settings, the trial table, the optimization history, each\n"
    "hyperparameter against the score, learning curves of the best trial,\n"
    "the test-set evaluation, and for a Bayesian run on a 1-D or 2-D test\n"
    "function the Gaussian process's view.\n\n"
    "  --help             this text\n\n"
    "Exit codes: 0 written, 1 missing or corrupt run folder, 2 bad option.\n";

static const char COMPARE_HELP[] =
    "Usage: nntune compare RUN_FOLDER... [options]\n"
    "Draw several tuning runs on one page, e.g. grid, random and bayes search\n"
    "on the same data: the best score so far against the trial number and\n"
    "against elapsed seconds, one line a run, and a table of the runs (also\n"
    "printed on stdout). The runs must share their metric (accuracy, loss,\n"
    "f1, or the same test function).\n\n"
    "  --out FILE         the HTML page to write             [compare.html]\n"
    "  --title TEXT       the page's title    [nntune compare: N runs]\n"
    "  --help             this text\n\n"
    "Exit codes: 0 written, 1 missing or corrupt run folder, 2 bad option\n"
    "or runs that measure different things.\n";

enum { R_OUT = 1, R_TITLE, R_HELP };

/* Parse the options of report/compare; the folders are what is left.
 * 0 to go on, -1 after --help, else an exit code. */
static int parse(const char *cmd, const char *help, int argc, char **argv,
                 const char **out, const char **title)
{
    static const struct option report_opts[] = {
        {"help", no_argument, 0, R_HELP}, {0, 0, 0, 0}};
    static const struct option compare_opts[] = {
        {"out", required_argument, 0, R_OUT}, {"title", required_argument, 0, R_TITLE},
        {"help", no_argument, 0, R_HELP}, {0, 0, 0, 0}};
    int code;
    optind = 1;
    opterr = 0;
    while ((code = getopt_long(argc, argv, "", out ? compare_opts : report_opts, NULL)) != -1) {
        switch (code) {
        case R_HELP: fputs(help, stdout); return -1;
        case R_OUT: *out = optarg; break;
        case R_TITLE: *title = optarg; break;
        default:
            return cli_usage_error(cmd, "unknown or incomplete option '%s' (see nntune %s "
                                   "--help)", argv[optind - 1], cmd);
        }
    }
    if (optind == argc) return cli_usage_error(cmd, "no run folder given (see nntune %s --help)", cmd);
    return 0;
}

int cmd_report(int argc, char **argv)
{
    const char *cmd = "report";
    int rc = parse(cmd, REPORT_HELP, argc, argv, NULL, NULL);
    if (rc) return rc < 0 ? EXIT_OK : rc;
    if (argc - optind > 1)
        return cli_usage_error(cmd, "one run folder at a time; got '%s' too (nntune compare "
                               "draws several)", argv[optind + 1]);
    const char *dir = argv[optind];
    if (report_write(dir) != NT_OK) return cli_fail(cmd, "%s", nt_last_error());
    printf("report written to %s/report.html\n", dir);
    return EXIT_OK;
}

/* ------------------------------------------------------------ compare */

/* What a run's scores measure: the metric, or the test function's name. */
static const char *measure(const report_run *r)
{
    if (strcmp(r->metric, "f")) return r->metric;
    const char *obj = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(r->study, "objective"));
    return obj ? obj : "f";
}

static int load_runs(const char *cmd, char **dirs, int n, report_run *runs)
{
    for (int i = 0; i < n; i++) {
        if (report_run_load(dirs[i], &runs[i]) != NT_OK)
            return cli_fail(cmd, "%s", nt_last_error());
        if (strcmp(measure(&runs[i]), measure(&runs[0])))
            return cli_usage_error(cmd, "%s: its trials are scored by %s, %s's by %s; "
                                   "compare runs that measure the same thing", dirs[i],
                                   measure(&runs[i]), dirs[0], measure(&runs[0]));
    }
    return 0;
}

/* One run's summary row. */
typedef struct {
    char run[1100], strategy[32], trials[16], failed[16], best[32], at_trial[16],
        at_seconds[24], test[16];
} row;

static void run_row(const report_run *r, row *w)
{
    double acc = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(r->best_json, "test"), "accuracy"));
    snprintf(w->run, sizeof w->run, "%s", r->dir);
    snprintf(w->strategy, sizeof w->strategy, "%s", r->strategy);
    snprintf(w->trials, sizeof w->trials, "%d", r->n);
    snprintf(w->failed, sizeof w->failed, "%d", r->failed);
    snprintf(w->test, sizeof w->test, isfinite(acc) ? "%.4f" : "-", acc);
    snprintf(w->best, sizeof w->best, "-");
    snprintf(w->at_trial, sizeof w->at_trial, "-");
    snprintf(w->at_seconds, sizeof w->at_seconds, "-");
    if (r->best < 0) return;
    const cJSON *t = r->trial[r->best];
    report_fmt_metric(r, cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(t, "metric")),
                      w->best, sizeof w->best);
    snprintf(w->at_trial, sizeof w->at_trial, "%d",
             (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(t, "trial")) + 1);
    double sec = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(t, "finished"));
    if (isfinite(sec))
        snprintf(w->at_seconds, sizeof w->at_seconds, sec >= 10 ? "%.0f" : "%.2g", sec);
}

static const char *const COLUMNS[] = {"run", "strategy", "trials", "failed", "best",
                                      "at trial", "at seconds", "test accuracy"};
#define N_COLUMNS 8

static const char *cell(const row *w, int c)
{
    const char *cells[N_COLUMNS] = {w->run, w->strategy, w->trials, w->failed, w->best,
                                    w->at_trial, w->at_seconds, w->test};
    return cells[c];
}

/* The table as aligned text: the run left-aligned, numbers right-aligned. */
static void print_table(FILE *f, const row *rows, int n, const char *best_name)
{
    const char *metric = best_name;
    int width[N_COLUMNS];
    for (int c = 0; c < N_COLUMNS; c++) {
        width[c] = (int)strlen(c == 4 ? metric : COLUMNS[c]);
        for (int i = 0; i < n; i++)
            if ((int)strlen(cell(&rows[i], c)) > width[c]) width[c] = (int)strlen(cell(&rows[i], c));
    }
    for (int i = -1; i < n; i++) {
        for (int c = 0; c < N_COLUMNS; c++) {
            const char *s = i < 0 ? (c == 4 ? metric : COLUMNS[c]) : cell(&rows[i], c);
            fprintf(f, c < 2 ? "%-*s" : "%*s", width[c], s);
            if (c + 1 < N_COLUMNS) fputs("  ", f);
        }
        fputc('\n', f);
    }
}

static void html_table(FILE *f, const row *rows, int n, const char *best_name)
{
    const char *metric = best_name;
    fputs("<table>\n<tr>", f);
    for (int c = 0; c < N_COLUMNS; c++) {
        fprintf(f, "<th%s>", c < 2 ? " class=\"l\"" : "");
        html_text(f, c == 4 ? metric : COLUMNS[c]);
        fputs("</th>", f);
    }
    fputs("</tr>\n", f);
    for (int i = 0; i < n; i++) {
        fputs("<tr>", f);
        for (int c = 0; c < N_COLUMNS; c++) {
            fprintf(f, "<td%s>", c < 2 ? " class=\"l\"" : "");
            html_text(f, cell(&rows[i], c));
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

/* One run's best-so-far line, against trials or against seconds. */
typedef struct {
    char label[1200];
    double *trial, *seconds, *best;
} run_line;

static void run_line_free(run_line *l)
{
    free(l->trial);
    free(l->seconds);
    free(l->best);
}

static bool run_line_make(const report_run *r, run_line *l)
{
    size_t n = (size_t)(r->n > 0 ? r->n : 1);
    snprintf(l->label, sizeof l->label, "%s (%s)", r->dir, r->strategy);
    l->trial = malloc(n * sizeof *l->trial);
    l->seconds = malloc(n * sizeof *l->seconds);
    l->best = malloc(n * sizeof *l->best);
    if (!l->trial || !l->seconds || !l->best) return false;
    report_best_so_far(r, l->best);
    for (int i = 0; i < r->n; i++) {
        const cJSON *t = r->trial[i];
        l->trial[i] = i + 1;
        l->seconds[i] = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(t, "finished"));
    }
    return true;
}

static void compare_charts(FILE *f, const report_run *runs, const run_line *lines, int n)
{
    svg_series *s = calloc((size_t)n, sizeof *s);
    if (!s) return;
    for (int i = 0; i < n; i++)
        s[i] = (svg_series){.label = lines[i].label, .n = runs[i].n, .x = lines[i].trial,
                            .y = lines[i].best, .step = true};
    svg_axes ax = {.title = "Best so far against trials", .x_label = "trial",
                   .y_label = report_y_label(&runs[0]), .log_y = report_y_log(&runs[0]),
                   .width = 1000, .height = 420};
    fputs("<h2 id=\"by-trial\">Best so far against trials</h2>\n<p class=\"note\">Each line "
          "steps down when its run finds a better trial (lower is better). The run whose "
          "line is lowest after a given number of trials made the best use of that "
          "budget; one run of each strategy is one draw of its luck, so compare several "
          "seeds (nntune compare-strategies) before concluding.</p>\n", f);
    svg_lines(f, &ax, s, n);
    for (int i = 0; i < n; i++) s[i].x = lines[i].seconds;
    ax.title = "Best so far against elapsed time";
    ax.x_label = "seconds since the study started";
    fputs("<h2 id=\"by-time\">Best so far against time</h2>\n<p class=\"note\">The same "
          "lines against the time each trial finished: a strategy that spends more time "
          "choosing its points, or picks slower settings, moves right.</p>\n", f);
    svg_lines(f, &ax, s, n);
    free(s);
}

/* Whether every run tuned on the same data (test-function runs have none). */
static bool same_data(const report_run *runs, int n)
{
    const char *first = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(runs[0].study, "data"));
    for (int i = 1; i < n; i++) {
        const char *d = cJSON_GetStringValue(
            cJSON_GetObjectItemCaseSensitive(runs[i].study, "data"));
        if ((first == NULL) != (d == NULL) || (first && strcmp(first, d))) return false;
    }
    return true;
}

static void compare_page(FILE *f, const char *title, const report_run *runs, const run_line *lines,
                         const row *rows, int n)
{
    html_page_begin(f, title);
    fputs("<p class=\"note\">", f);
    fprintf(f, "%d run%s, scored by ", n, n == 1 ? "" : "s");
    html_text(f, report_y_label(&runs[0]));
    fputs(". Each run's own report.html in its folder shows its trials in detail.", f);
    if (!same_data(runs, n))
        fputs(" Note: these runs tuned on different data, so their scores are not "
              "directly comparable.", f);
    fputs("</p>\n", f);
    compare_charts(f, runs, lines, n);
    fputs("<h2 id=\"runs\">Runs</h2>\n<p class=\"note\">Trials and failures in each run's "
          "journal; the best score, the trial and the second at which it was reached; "
          "the test accuracy of the refitted best, when the run got that far.</p>\n", f);
    char best_name[64];
    snprintf(best_name, sizeof best_name, "best %s", runs[0].metric);
    html_table(f, rows, n, best_name);
    html_page_end(f);
}

/* Build the page in memory and write it in one go. */
static int write_compare(const char *cmd, const char *out, const char *title,
                         const report_run *runs, const run_line *lines, const row *rows, int n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return cli_fail(cmd, "out of memory");
    compare_page(f, title, runs, lines, rows, n);
    fclose(f);
    int rc = EXIT_OK;
    if (!cli_make_parent(cmd, out)) rc = EXIT_FAIL;
    else if (nt_write_file_atomic(out, buf, len) != NT_OK)
        rc = cli_fail(cmd, "%s", nt_last_error());
    free(buf);
    return rc;
}

int cmd_compare(int argc, char **argv)
{
    const char *cmd = "compare", *out = "compare.html", *title = NULL;
    int rc = parse(cmd, COMPARE_HELP, argc, argv, &out, &title);
    if (rc) return rc < 0 ? EXIT_OK : rc;
    int n = argc - optind;
    char **dirs = argv + optind, default_title[64];
    snprintf(default_title, sizeof default_title, "nntune compare: %d runs", n);
    report_run *runs = calloc((size_t)n, sizeof *runs);
    run_line *lines = calloc((size_t)n, sizeof *lines);
    row *rows = calloc((size_t)n, sizeof *rows);
    rc = runs && lines && rows ? load_runs(cmd, dirs, n, runs) : cli_fail(cmd, "out of memory");
    for (int i = 0; rc == 0 && i < n; i++) {
        if (!run_line_make(&runs[i], &lines[i])) rc = cli_fail(cmd, "out of memory");
        run_row(&runs[i], &rows[i]);
    }
    if (rc == 0) rc = write_compare(cmd, out, title ? title : default_title, runs, lines, rows, n);
    if (rc == 0) {
        char best_name[64];
        snprintf(best_name, sizeof best_name, "best %s", runs[0].metric);
        print_table(stdout, rows, n, best_name);
        printf("\npage written to %s\n", out);
    }
    for (int i = 0; i < n && runs && lines; i++) {
        report_run_free(&runs[i]);
        run_line_free(&lines[i]);
    }
    free(runs);
    free(lines);
    free(rows);
    return rc;
}
