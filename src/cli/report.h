/* report.h - the HTML run report (RUN_FOLDER/report.html) and the reading
 * of a run folder it is built from: the journal trials.jsonl (required),
 * best.json (when the run got that far) and the space in the journal's
 * header. Used by `nntune tune` (at the end of every run, interrupted ones
 * included), `nntune report` and `nntune compare`. Internal to src/cli. */
#ifndef NNTUNE_REPORT_H
#define NNTUNE_REPORT_H

#include <stdio.h>

#include "nntune/common.h"
#include "nntune/space.h"
#include "nntune/testfn.h"

struct cJSON;

/* A run folder as read from its files. The cJSON trees are owned; every
 * pointer into them (study, trial[i], best) is borrowed from them. */
typedef struct {
    char dir[1024];
    struct cJSON *header;          /* the journal's first line, parsed */
    const struct cJSON *study;     /* its "study" object */
    struct cJSON **trial;          /* (n) owned: one parsed line a trial */
    int n;
    int failed;                    /* trials whose status is not "ok" */
    int best;                      /* index in trial[] of the best ok trial
                                      (lowest "score"), -1 if none */
    int dropped;                   /* 1 if a torn last line was left out */
    struct cJSON *best_json;       /* best.json, or NULL when absent */
    nt_space space;                /* parsed from the header's "space" */
    const nt_testfn *fn;           /* a test-function run's function, else NULL */
    const char *strategy;          /* borrowed from study; "?" if absent */
    const char *metric;            /* "accuracy", "loss", "f1", or "f" for a
                                      test function's value */
} report_run;

/* Read run folder `dir`: its journal (a study header line, then trial
 * lines; a last line cut short by a crash is dropped, any other bad line is
 * an error), best.json if present. NT_ERR_IO when the folder or journal is
 * missing, NT_ERR_FORMAT when a file is empty or corrupt; the message
 * (nt_last_error) names the file. Free with report_run_free, also after a
 * failure. */
nt_status report_run_load(const char *dir, report_run *r);
void report_run_free(report_run *r);

/* True when larger metric values are better (accuracy, f1). */
bool report_higher_better(const report_run *r);
/* A trial's plotted value: its metric, or for a test function with a known
 * minimum its regret (value - minimum, floored at 1e-12 so a log axis can
 * show it); NaN for a failed trial. */
double report_trial_y(const report_run *r, int i);
/* The label of that value, e.g. "CV accuracy" or "regret f - f*". */
const char *report_y_label(const report_run *r);
/* Whether that value is best drawn on a log axis (regret). */
bool report_y_log(const report_run *r);
/* The best value so far after each trial (n values; NaN before the first
 * ok trial), following report_trial_y; into out. */
void report_best_so_far(const report_run *r, double *out);

/* A metric value as the terminal prints it: 4 decimals for a network's,
 * 6 significant digits for a function value, "-" for NaN. */
void report_fmt_metric(const report_run *r, double v, char *buf, size_t len);

/* Build RUN_FOLDER/report.html from the folder's files, written atomically
 * (a failure leaves any previous report untouched). Works on whatever the
 * folder holds: a journal only (interrupted or running), a test-function
 * run, a network run with refit and test. On failure the status says what
 * kind and nt_last_error() says what and where, e.g. for the tuner:
 *     if (report_write(dir) != NT_OK)
 *         fprintf(stderr, "nntune tune: report: %s\n", nt_last_error()); */
nt_status report_write(const char *dir);

#endif
