/* report.c - reading a run folder, and report.html: one function per
 * section (settings, trials, history, params, curves, test, model), each
 * an <h2 id=...> with a few sentences for a learner on how to read it.
 * Every section is always present; one the run has no data for says why. */
#include "report.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nntune/gp.h"
#include "nntune/rng.h"
#include "nntune/tuner.h"
#include "svg.h"

/* ------------------------------------------------------------ JSON bits */

static const cJSON *jget(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* A number, or NaN when absent or null (the journal writes NaN as null). */
static double jnum(const cJSON *o, const char *key)
{
    const cJSON *v = jget(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = jget(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* An array of numbers (null -> NaN) as a malloc'd array; NULL if absent
 * or empty. */
static double *jarray(const cJSON *a, int *n)
{
    *n = cJSON_IsArray(a) ? cJSON_GetArraySize(a) : 0;
    if (*n == 0) return NULL;
    double *v = malloc((size_t)*n * sizeof *v);
    if (!v) {
        *n = 0;
        return NULL;
    }
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) v[i++] = cJSON_IsNumber(e) ? e->valuedouble : NAN;
    return v;
}

/* ------------------------------------------------------------- loading */

/* The whole file, NUL-terminated; NULL with errno set when unreadable. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t cap = 0;
    FILE *m = open_memstream(&buf, &cap);
    char chunk[65536];
    size_t got;
    while (m && (got = fread(chunk, 1, sizeof chunk, f)) > 0) fwrite(chunk, 1, got, m);
    bool bad = ferror(f);
    fclose(f);
    if (m) fclose(m);
    if (bad || !m) {
        free(buf);
        errno = bad ? EIO : ENOMEM;
        return NULL;
    }
    *len = cap;
    return buf;
}

static nt_status load_header(report_run *r, const char *path, const char *line)
{
    r->header = cJSON_Parse(line);
    r->study = jget(r->header, "study");
    if (!cJSON_IsObject(r->study)) {
        nt_errorf("%s: line 1 is not a study header ({\"study\": ...})", path);
        return NT_ERR_FORMAT;
    }
    const char *space = jstr(r->study, "space");
    char origin[1300];
    snprintf(origin, sizeof origin, "%s (the header's space)", path);
    if (!space) {
        nt_errorf("%s: the study header has no \"space\"", path);
        return NT_ERR_FORMAT;
    }
    if (nt_space_parse(space, origin, &r->space) != NT_OK) return NT_ERR_FORMAT;
    const char *obj = jstr(r->study, "objective");
    r->fn = obj ? nt_testfn_find(obj) : NULL;
    r->strategy = jstr(r->study, "strategy") ? jstr(r->study, "strategy") : "?";
    r->metric = obj ? "f" : jstr(r->study, "metric") ? jstr(r->study, "metric") : "accuracy";
    return NT_OK;
}

/* A trial line: an object with a status and a trial number (0-based, a
 * whole number in int range, since it is printed as one). */
static bool is_trial(const cJSON *t)
{
    double k = jnum(t, "trial");
    return cJSON_IsObject(t) && k >= 0 && k < 1e9 && k == floor(k) &&
           cJSON_IsString(jget(t, "status"));
}

/* One trial line. A bad last line (the process died mid-write) is dropped,
 * as --resume does; a bad line before it means the file was damaged. */
static nt_status load_trial(report_run *r, const char *path, char *line, int lineno, bool last)
{
    cJSON *t = cJSON_Parse(line);
    if (!is_trial(t)) {
        cJSON_Delete(t);
        if (last) {
            r->dropped = 1;
            return NT_OK;
        }
        nt_errorf("%s:%d: not a trial (bad JSON, or no \"trial\" number or \"status\")",
                  path, lineno);
        return NT_ERR_FORMAT;
    }
    cJSON **bigger = realloc(r->trial, (size_t)(r->n + 1) * sizeof *bigger);
    if (!bigger) {
        cJSON_Delete(t);
        nt_errorf("%s: out of memory", path);
        return NT_ERR_NOMEM;
    }
    r->trial = bigger;
    r->trial[r->n++] = t;
    return NT_OK;
}

static nt_status load_journal(report_run *r, const char *path)
{
    size_t len = 0;
    char *text = slurp(path, &len);
    if (!text) {
        nt_errorf("%s: cannot read the journal: %s", path, strerror(errno));
        return NT_ERR_IO;
    }
    nt_status rc = NT_OK;
    if (len == 0 || strspn(text, " \t\r\n") == len) {
        nt_errorf("%s: empty journal (no study header)", path);
        rc = NT_ERR_FORMAT;
    }
    char *line = text;
    for (int lineno = 1; rc == NT_OK && line < text + len; lineno++) {
        char *nl = memchr(line, '\n', (size_t)(text + len - line));
        bool torn = nl == NULL;   // no newline: cut off mid-write
        if (nl) *nl = '\0';
        bool last = torn || nl + 1 >= text + len;
        if (lineno == 1) rc = load_header(r, path, line);
        else if (line[strspn(line, " \t\r")]) rc = load_trial(r, path, line, lineno, last);
        line = torn ? text + len : nl + 1;
    }
    free(text);
    return rc;
}

static nt_status load_best_json(report_run *r, const char *path)
{
    size_t len = 0;
    char *text = slurp(path, &len);
    if (!text) return errno == ENOENT ? NT_OK : (nt_errorf("%s: %s", path, strerror(errno)),
                                                 NT_ERR_IO);
    r->best_json = cJSON_Parse(text);
    free(text);
    if (!cJSON_IsObject(r->best_json)) {
        nt_errorf("%s: not a JSON object (corrupt best.json)", path);
        return NT_ERR_FORMAT;
    }
    return NT_OK;
}

static void find_best(report_run *r)
{
    r->best = -1;
    r->failed = 0;
    for (int i = 0; i < r->n; i++) {
        const char *st = jstr(r->trial[i], "status");
        double s = jnum(r->trial[i], "score");
        if (strcmp(st, "ok") || !isfinite(s)) {
            r->failed++;
            continue;
        }
        if (r->best < 0 || s < jnum(r->trial[r->best], "score")) r->best = i;
    }
}

nt_status report_run_load(const char *dir, report_run *r)
{
    memset(r, 0, sizeof *r);
    r->best = -1;
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        nt_errorf("%s: no such run folder", dir);
        return NT_ERR_IO;
    }
    char path[1200];
    snprintf(path, sizeof path, "%s/trials.jsonl", dir);
    if (stat(path, &sb) != 0) {
        nt_errorf("%s: no journal (trials.jsonl) in this folder: not a run folder", dir);
        return NT_ERR_IO;
    }
    nt_status rc = load_journal(r, path);
    if (rc != NT_OK) return rc;
    snprintf(path, sizeof path, "%s/best.json", dir);
    rc = load_best_json(r, path);
    find_best(r);
    return rc;
}

void report_run_free(report_run *r)
{
    for (int i = 0; i < r->n; i++) cJSON_Delete(r->trial[i]);
    free(r->trial);
    cJSON_Delete(r->header);
    cJSON_Delete(r->best_json);
    memset(r, 0, sizeof *r);
    r->best = -1;
}

/* ------------------------------------------------------ plotted values */

bool report_higher_better(const report_run *r)
{
    return !strcmp(r->metric, "accuracy") || !strcmp(r->metric, "f1");
}

static bool trial_ok(const report_run *r, int i)
{
    return !strcmp(jstr(r->trial[i], "status"), "ok") && isfinite(jnum(r->trial[i], "metric"));
}

double report_trial_y(const report_run *r, int i)
{
    if (!trial_ok(r, i)) return NAN;
    double m = jnum(r->trial[i], "metric");
    // everything plotted is minimized and drawn on a log axis, so the
    // differences among good trials (accuracy 0.97 against 0.98) show
    if (report_higher_better(r)) return fmax(1 - m, 1e-12);
    if (r->fn) return fmax(m - r->fn->minimum, 1e-12);
    return m;
}

const char *report_y_label(const report_run *r)
{
    if (!strcmp(r->metric, "accuracy")) return "CV error rate (1 - accuracy)";
    if (!strcmp(r->metric, "f1")) return "CV 1 - macro F1";
    if (!strcmp(r->metric, "loss")) return "CV loss";
    return r->fn ? "regret f - f* (distance to the minimum)" : "function value f";
}

bool report_y_log(const report_run *r)
{
    return strcmp(r->metric, "f") || r->fn;
}

void report_best_so_far(const report_run *r, double *out)
{
    double best = NAN;
    for (int i = 0; i < r->n; i++) {
        double y = report_trial_y(r, i);
        if (isfinite(y) && !(y >= best)) best = y;
        out[i] = best;
    }
}

void report_fmt_metric(const report_run *r, double v, char *buf, size_t len)
{
    if (!isfinite(v)) snprintf(buf, len, "-");
    else if (r->fn || !strcmp(r->metric, "f")) snprintf(buf, len, "%.6g", v);
    else snprintf(buf, len, "%.4f", v);
}

static const char *metric_name(const report_run *r)
{
    return strcmp(r->metric, "f") ? r->metric : "f";
}

static bool network_run(const report_run *r)
{
    return strcmp(r->metric, "f") != 0;
}

/* ----------------------------------------------------------- sections */

static void section(FILE *f, const char *id, const char *title)
{
    fprintf(f, "<h2 id=\"%s\">", id);
    html_text(f, title);
    fputs("</h2>\n", f);
}

/* A <p class="note"> with printf formatting, HTML-escaped. */
static void note(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(FILE *f, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fputs("<p class=\"note\">", f);
    html_text(f, buf);
    fputs("</p>\n", f);
}

static void kv_row(FILE *f, const char *key, const char *value)
{
    fputs("<tr><td>", f);
    html_text(f, key);
    fputs("</td><td>", f);
    html_text(f, value);
    fputs("</td></tr>\n", f);
}

/* The journal header's settings with readable names; unknown keys as they
 * are, so a newer header still shows everything. */
static void settings_rows(FILE *f, const report_run *r)
{
    static const char *const names[][2] = {
        {"nntune", "nntune version"}, {"strategy", "strategy"}, {"seed", "seed"},
        {"data", "data"}, {"objective", "test function"}, {"folds", "CV folds"},
        {"metric", "metric"}, {"es_frac", "early-stopping slice of each fold"},
        {"trials", "trial budget"}, {"time_budget", "time budget (seconds)"},
        {"grid_points", "grid points per range"}, {"initial_points", "initial design points"},
        {"bayes_batch", "bayes trials proposed together"}, {"created", "started (UTC)"}};
    const cJSON *v;
    cJSON_ArrayForEach(v, r->study) {
        // the space has its own table; a strategy's setting only for it
        if (!strcmp(v->string, "space") ||
            (!strcmp(v->string, "grid_points") && strcmp(r->strategy, "grid")) ||
            (!strcmp(v->string, "initial_points") && strcmp(r->strategy, "bayes")))
            continue;
        const char *label = v->string;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (!strcmp(names[i][0], v->string)) label = names[i][1];
        char val[256];
        if (cJSON_IsString(v)) snprintf(val, sizeof val, "%s", v->valuestring);
        else if (!strcmp(v->string, "time_budget") && v->valuedouble == 0)
            snprintf(val, sizeof val, "none");
        else if (cJSON_IsNumber(v)) snprintf(val, sizeof val, "%.10g", v->valuedouble);
        else snprintf(val, sizeof val, "%s", cJSON_IsTrue(v) ? "true" : "-");
        kv_row(f, label, val);
    }
}

static void ending_rows(FILE *f, const report_run *r)
{
    char val[256];
    const char *ended = jstr(r->best_json, "ended");
    bool stopped = cJSON_IsTrue(jget(r->best_json, "interrupted"));
    if (!r->best_json) snprintf(val, sizeof val, "interrupted / still running (no best.json yet)");
    else snprintf(val, sizeof val, "%s%s", ended ? ended : "?", stopped ? " (interrupted)" : "");
    kv_row(f, "how the run ended", val);
    snprintf(val, sizeof val, "%d (%d failed)%s", r->n, r->failed,
             r->dropped ? "; a torn last line was left out" : "");
    kv_row(f, "trials in the journal", val);
    double secs = r->n ? jnum(r->trial[r->n - 1], "finished") : 0;
    snprintf(val, sizeof val, "%.1f", secs);
    kv_row(f, "search time (seconds)", val);
}

static const char *kind_name(nt_param_kind k)
{
    switch (k) {
    case NT_P_UNIFORM: return "uniform";
    case NT_P_LOGUNIFORM: return "log-uniform";
    case NT_P_INT: return "integer";
    case NT_P_INTLOG: return "integer, log scale";
    case NT_P_CHOICE: return "choice";
    default: return "fixed";
    }
}

static void space_row(FILE *f, const nt_space *s, const nt_param *p)
{
    char vals[1024] = "";
    if (p->kind == NT_P_FIXED) snprintf(vals, sizeof vals, "%s", p->fixed);
    else if (p->kind == NT_P_CHOICE)
        for (int c = 0; c < p->n_choices; c++) {
            size_t w = strlen(vals);
            snprintf(vals + w, sizeof vals - w, "%s%s", c ? ", " : "", p->choice[c]);
        }
    else snprintf(vals, sizeof vals, "%g to %g", p->lo, p->hi);
    fputs("<tr><td class=\"l\">", f);
    html_text(f, p->name);
    fprintf(f, "</td><td class=\"l\">%s</td><td class=\"l\">", kind_name(p->kind));
    html_text(f, vals);
    fputs("</td><td class=\"l\">", f);
    if (p->parent >= 0) {
        fputs("if ", f);
        html_text(f, s->p[p->parent].name);
        fputs(" == ", f);
        html_text(f, s->p[p->parent].choice[p->parent_choice]);
    } else {
        fputs("always", f);
    }
    fputs("</td></tr>\n", f);
}

static void section_settings(FILE *f, const report_run *r)
{
    section(f, "settings", "Settings");
    note(f, "What was tuned and how, from the journal's first line (trials.jsonl), "
         "and how the run ended. Running nntune again with these settings repeats "
         "this study trial for trial.");
    fputs("<table class=\"kv\">\n", f);
    settings_rows(f, r);
    ending_rows(f, r);
    fputs("</table>\n<h3>Search space</h3>\n", f);
    note(f, "Each searched parameter is one dimension of the unit cube the strategy "
         "explores; log-scale ranges give every factor of ten the same share of it. "
         "Fixed parameters are not searched.");
    fputs("<table>\n<tr><th class=\"l\">parameter</th><th class=\"l\">kind</th>"
          "<th class=\"l\">values</th><th class=\"l\">active</th></tr>\n", f);
    for (int i = 0; i < r->space.n; i++) space_row(f, &r->space, &r->space.p[i]);
    fputs("</table>\n", f);
}

/* --------------------------------------------------------------- trials */

static void param_cell(FILE *f, const cJSON *v)
{
    fputs("<td>", f);
    if (cJSON_IsNumber(v)) fprintf(f, "%.4g", v->valuedouble);
    else if (cJSON_IsString(v)) html_text(f, v->valuestring);
    else fputs("&ndash;", f);   // inactive: its condition did not hold
    fputs("</td>", f);
}

static void trials_head(FILE *f, const report_run *r)
{
    fputs("<tr><th>#</th><th class=\"l\">status</th>", f);
    if (network_run(r))
        fprintf(f, "<th>CV %s</th><th>fold scores</th><th>epochs</th>", metric_name(r));
    else
        fputs("<th>f</th>", f);
    fputs("<th>seconds</th>", f);
    for (int p = 0; p < r->space.n; p++)
        if (r->space.p[p].kind != NT_P_FIXED) {
            fputs("<th>", f);
            html_text(f, r->space.p[p].name);
            fputs("</th>", f);
        }
    fputs("</tr>\n", f);
}

static void int_list_cell(FILE *f, const cJSON *a, const char *fmt)
{
    fputs("<td>", f);
    const cJSON *e;
    bool first = true;
    cJSON_ArrayForEach(e, a) {
        if (!first) fputc(' ', f);
        if (cJSON_IsNumber(e)) fprintf(f, fmt, e->valuedouble);
        else fputc('-', f);
        first = false;
    }
    fputs("</td>", f);
}

static void score_cells(FILE *f, const report_run *r, const cJSON *t, bool ok)
{
    char m[32], s[32];
    report_fmt_metric(r, jnum(t, "metric"), m, sizeof m);
    report_fmt_metric(r, jnum(t, "metric_std"), s, sizeof s);
    int span = network_run(r) ? 3 : 1;
    if (!ok) {
        fprintf(f, "<td class=\"l\" colspan=\"%d\">", span);
        html_text(f, jstr(t, "reason") ? jstr(t, "reason") : "no score");
        fputs("</td>", f);
    } else if (network_run(r)) {
        fprintf(f, "<td>%s &plusmn; %s</td>", m, s);
        int_list_cell(f, jget(t, "folds"), "%.4f");
        int_list_cell(f, jget(t, "fold_epochs"), "%.0f");
    } else {
        fprintf(f, "<td>%s</td>", m);
    }
}

/* Columns of the trials table. */
static int trial_columns(const report_run *r)
{
    int n = network_run(r) ? 6 : 4;
    for (int p = 0; p < r->space.n; p++) n += r->space.p[p].kind != NT_P_FIXED;
    return n;
}

static void trial_row(FILE *f, const report_run *r, int i)
{
    const cJSON *t = r->trial[i];
    bool ok = trial_ok(r, i);
    fprintf(f, "<tr%s><td>%d</td><td class=\"l\">", i == r->best ? " class=\"best\""
            : ok ? "" : " class=\"failed\"", (int)jnum(t, "trial") + 1);
    html_text(f, jstr(t, "status"));
    fputs(i == r->best ? " (best)</td>" : "</td>", f);
    score_cells(f, r, t, ok);
    fprintf(f, "<td>%.2f</td>", jnum(t, "seconds"));
    const cJSON *params = jget(t, "params");
    for (int p = 0; p < r->space.n; p++)
        if (r->space.p[p].kind != NT_P_FIXED) param_cell(f, jget(params, r->space.p[p].name));
    // the strategy's reason on a row of its own, under the numbers
    fprintf(f, "</tr>\n<tr class=\"why%s\"><td></td><td colspan=\"%d\">why: ",
            i == r->best ? " best" : "", trial_columns(r) - 1);
    html_text(f, jstr(t, "why") ? jstr(t, "why") : "");
    fputs("</td></tr>\n", f);
}

static void section_trials(FILE *f, const report_run *r)
{
    section(f, "trials", "Trials");
    if (r->n == 0) {
        note(f, "The journal holds no finished trial yet.");
        return;
    }
    if (network_run(r))
        note(f, "One row a trial, in the order they finished. The score is the mean of "
             "the %s over the cross-validation folds, with their standard deviation: "
             "a difference between two trials smaller than that is mostly noise. "
             "\"epochs\" are the epochs each fold's early stopping kept. The best row "
             "is highlighted; a dash marks a parameter its condition switched off. Under "
             "each row, the strategy says why it chose that point.",
             metric_name(r));
    else
        note(f, "One row a trial, in the order they finished: the test function's value "
             "f at the point (lower is better). The best row is highlighted. Under each "
             "row, the strategy says why it chose that point.");
    fputs("<div class=\"scroll\"><table>\n", f);
    trials_head(f, r);
    for (int i = 0; i < r->n; i++) trial_row(f, r, i);
    fputs("</table></div>\n", f);
}

/* What the history chart's y is and how to read it. */
static void history_note(FILE *f, const report_run *r)
{
    if (report_higher_better(r))
        note(f, "Each dot is one trial's cross-validated error, 1 - %s (lower is better), "
             "with a bar of plus or minus one fold standard deviation; the line steps "
             "down whenever a trial beats every earlier one. The axis is logarithmic, so "
             "going from 4%% to 2%% error looks as big as going from 2%% to 1%%. A search "
             "that still improves late would likely gain from more trials; a flat line "
             "says the budget was enough.%s", metric_name(r),
             r->failed ? " Failed trials have no score and are not drawn." : "");
    else if (network_run(r))
        note(f, "Each dot is one trial's cross-validated loss (lower is better), with a "
             "bar of plus or minus one fold standard deviation, on a log axis; the line "
             "steps down whenever a trial beats every earlier one.");
    else if (r->fn)
        note(f, "Each dot is one trial's regret: how far its value is above the "
             "function's known minimum %.6g (lower is better, 0 would be perfect), on a "
             "log axis, so each grid line down is ten times closer. The line is the best "
             "so far: a good strategy drives it down steadily.", r->fn->minimum);
    else
        note(f, "Each dot is one trial's function value (lower is better); the line is "
             "the best so far.");
}

/* -------------------------------------------------------------- history */

static void section_history(FILE *f, const report_run *r)
{
    section(f, "history", "Optimization history");
    if (r->n == 0) {
        note(f, "No trial has finished yet, so there is nothing to draw.");
        return;
    }
    int n = r->n;
    double *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y);
    double *err = malloc((size_t)n * sizeof *err), *best = malloc((size_t)n * sizeof *best);
    if (!x || !y || !err || !best) goto done;
    for (int i = 0; i < n; i++) {
        x[i] = jnum(r->trial[i], "trial") + 1;
        y[i] = report_trial_y(r, i);
        err[i] = network_run(r) ? jnum(r->trial[i], "metric_std") : 0;
    }
    report_best_so_far(r, best);
    history_note(f, r);
    svg_series s[2] = {
        {.label = "trial", .n = n, .x = x, .y = y, .err = err, .no_line = true},
        {.label = "best so far", .n = n, .x = x, .y = best, .step = true}};
    svg_axes ax = {.title = "Score of each trial, and the best so far",
                   .x_label = "trial", .y_label = report_y_label(r),
                   .log_y = report_y_log(r), .width = 900, .height = 400};
    svg_lines(f, &ax, s, 2);
done:
    free(x);
    free(y);
    free(err);
    free(best);
}

/* -------------------------------------------------------------- params */

static const char *y_short(const report_run *r)
{
    if (report_higher_better(r)) return !strcmp(r->metric, "f1") ? "1 - F1" : "1 - accuracy";
    if (network_run(r)) return "loss";
    return r->fn ? "regret" : "f";
}

/* The option index of a choice parameter's value, -1 if none matches. */
static int choice_index(const nt_param *p, const cJSON *v)
{
    for (int c = 0; c < p->n_choices; c++) {
        if (cJSON_IsString(v) && !strcmp(v->valuestring, p->choice[c])) return c;
        if (cJSON_IsNumber(v) && p->numeric && fabs(v->valuedouble - p->choice_num[c]) <=
                                                   1e-9 * (fabs(p->choice_num[c]) + 1))
            return c;
    }
    return -1;
}

/* Where trial i's value of parameter p goes on x: the value, or for a
 * choice its option index spread by up to +-0.2 (golden-ratio sequence, so
 * the spread is fixed and even). NaN when inactive. */
static double param_x(const report_run *r, const nt_param *p, int i)
{
    const cJSON *v = jget(jget(r->trial[i], "params"), p->name);
    if (p->kind != NT_P_CHOICE) return cJSON_IsNumber(v) ? v->valuedouble : NAN;
    int c = choice_index(p, v);
    if (c < 0) return NAN;
    double g = fmod(i * 0.6180339887498949, 1.0);
    return c + 0.4 * (g - 0.5);
}

static void param_chart(FILE *f, const report_run *r, const nt_param *p, double *x, double *y)
{
    int n = 0;
    double bx = NAN, by = NAN;
    for (int i = 0; i < r->n; i++) {
        x[n] = param_x(r, p, i);
        y[n] = report_trial_y(r, i);
        if (!isfinite(x[n]) || !isfinite(y[n])) continue;
        if (i == r->best) bx = x[n], by = y[n];
        n++;
    }
    svg_series s[2] = {{.label = "trial", .n = n, .x = x, .y = y, .no_line = true},
                       {.label = "best", .n = 1, .x = &bx, .y = &by, .no_line = true}};
    svg_axes ax = {.title = p->name, .x_label = p->name, .y_label = y_short(r),
                   .log_x = p->kind == NT_P_LOGUNIFORM || p->kind == NT_P_INTLOG,
                   .log_y = report_y_log(r), .width = 350, .height = 270};
    fputs("<figure>\n", f);
    if (p->kind == NT_P_CHOICE) {
        const char *cats[NT_MAX_CHOICES];
        for (int c = 0; c < p->n_choices; c++) cats[c] = p->choice[c];
        svg_lines_cat(f, &ax, s, 2, cats, p->n_choices);
    } else {
        svg_lines(f, &ax, s, 2);
    }
    fputs("</figure>\n", f);
}

static void section_params(FILE *f, const report_run *r)
{
    section(f, "params", "Each hyperparameter against the score");
    if (r->n == 0 || r->best < 0) {
        note(f, "No trial has a score yet, so there is nothing to draw.");
        return;
    }
    note(f, "One small chart a searched parameter: each dot is a trial, placed by the "
         "value it used (x) and its score (y, %s, lower is better); the best trial is "
         "the second colour. A parameter whose good trials gather in one region matters "
         "and that region is where to look; one whose dots spread evenly at every height "
         "matters little. Log-scale parameters are on a log axis; the options of a "
         "choice are spread a little sideways so the dots do not hide each other. These "
         "charts show one parameter at a time: an effect that needs two parameters "
         "together does not show here.", y_short(r));
    double *x = malloc((size_t)r->n * sizeof *x), *y = malloc((size_t)r->n * sizeof *y);
    fputs("<div class=\"charts\">\n", f);
    for (int p = 0; x && y && p < r->space.n; p++)
        if (r->space.p[p].kind != NT_P_FIXED) param_chart(f, r, &r->space.p[p], x, y);
    fputs("</div>\n", f);
    free(x);
    free(y);
}

/* -------------------------------------------------------------- curves */

/* One fold's (or the refit's) curves, per epoch; NaN where not measured. */
typedef struct {
    int n;
    double *train_loss, *val_loss, *acc, *epoch;
} curve;

static void curve_free(curve *c)
{
    free(c->train_loss);
    free(c->val_loss);
    free(c->acc);
    free(c->epoch);
}

static bool any_finite(const double *v, int n)
{
    for (int i = 0; v && i < n; i++)
        if (isfinite(v[i])) return true;
    return false;
}

/* From {"train_loss":[...], "val_loss":[...], "val_acc"|"train_acc":[...]}. */
static void curve_read(const cJSON *o, const char *acc_key, curve *c)
{
    int n1, n2 = 0, n3 = 0;
    memset(c, 0, sizeof *c);
    c->train_loss = jarray(jget(o, "train_loss"), &n1);
    c->val_loss = jarray(jget(o, "val_loss"), &n2);
    c->acc = jarray(jget(o, acc_key), &n3);
    c->n = n1;
    if (n2 < c->n && c->val_loss) c->n = n2;
    if (n3 < c->n && c->acc) c->n = n3;
    c->epoch = c->n > 0 ? malloc((size_t)c->n * sizeof *c->epoch) : NULL;
    if (!c->epoch) c->n = 0;
    for (int i = 0; i < c->n; i++) c->epoch[i] = i + 1;
}

/* The folds' series of one quantity (which: 0 train loss, 1 val loss, 2
 * accuracy), fold k in colour k, then the refit's in colour n_folds. */
static int curve_series(const curve *c, int n_folds, const curve *refit, int which,
                        svg_series *s, char (*labels)[48])
{
    int n = 0;
    for (int k = 0; k <= n_folds; k++) {
        const curve *ck = k < n_folds ? &c[k] : refit;
        const double *y = which == 0 ? ck->train_loss : which == 1 ? ck->val_loss : ck->acc;
        if (k < n_folds) snprintf(labels[k], 48, "fold %d", k + 1);
        else snprintf(labels[k], 48, which == 2 ? "refit (training accuracy)" : "refit");
        bool have = ck->n > 0 && any_finite(y, ck->n);
        s[n++] = (svg_series){.label = have ? labels[k] : NULL, .n = have ? ck->n : 0,
                              .x = ck->epoch, .y = y};
    }
    return n;
}

static void curves_note(FILE *f, const report_run *r, int n_folds, bool have_val, bool have_refit)
{
    note(f, "How trial %d (the best) learned, epoch by epoch, in each of its %d "
         "cross-validation folds%s. Training loss falls as the network fits its "
         "training part. %s%s", (int)jnum(r->trial[r->best], "trial") + 1, n_folds,
         have_refit ? ", and in the refit on the whole training set with its settings" : "",
         have_val ? "The validation figures are measured on a slice held out from each "
                    "fold's training part: when the validation loss stops falling while the "
                    "training loss still falls, the network has begun to memorize instead "
                    "of generalize (overfitting). Early stopping keeps the weights of the "
                    "epoch with the best validation accuracy (the marked points) and stops "
                    "when a few epochs in a row bring no better one. "
                  : "Early stopping was off (--es-frac 0), so there are no validation curves. ",
         have_refit ? "The refit runs for the mean of the folds' kept epochs, with no "
                      "validation slice to watch, so it shows training figures only."
                    : "There is no refit curve: the run was interrupted, is still running, "
                      "or was made by an nntune that did not record one.");
}

/* The epoch early stopping kept in each fold, on curve `which` (1 the
 * validation loss, 2 the validation accuracy). */
static int kept_points(const report_run *r, const curve *c, int n_folds, int which,
                       double *x, double *y)
{
    int n = 0, m;
    double *kept = jarray(jget(r->trial[r->best], "fold_epochs"), &m);
    for (int k = 0; k < n_folds && k < m; k++) {
        const double *v = which == 1 ? c[k].val_loss : c[k].acc;
        if (!(kept[k] >= 1 && kept[k] <= c[k].n) || !v) continue;
        int e = (int)kept[k];
        x[n] = e;
        y[n++] = v[e - 1];
    }
    free(kept);
    return n;
}

static void curve_chart(FILE *f, const char *title, const char *y_label, bool log_y,
                        const svg_series *s, int n)
{
    svg_axes ax = {.title = title, .x_label = "epoch", .y_label = y_label, .log_y = log_y,
                   .width = 530, .height = 320};
    fputs("<figure>\n", f);
    svg_lines(f, &ax, s, n);
    fputs("</figure>\n", f);
}

/* Folds in colours 0..nf-1, the refit in nf, the kept epochs in nf + 1,
 * the same in every chart. */
static void curve_charts(FILE *f, const report_run *r, const curve *c, int nf, const curve *refit)
{
    svg_series s[NT_MAX_FOLDS + 3];
    char labels[NT_MAX_FOLDS + 1][48];
    double kx[NT_MAX_FOLDS], ky[NT_MAX_FOLDS];
    bool have_val = false;
    for (int k = 0; k < nf; k++) have_val |= any_finite(c[k].val_loss, c[k].n);
    curves_note(f, r, nf, have_val, refit->n > 0);
    fputs("<div class=\"charts\">\n", f);
    int n = curve_series(c, nf, refit, 0, s, labels);
    curve_chart(f, "Training loss", "training loss", true, s, n);
    for (int which = 1; which <= 2; which++) {
        if (which == 1 && !have_val) continue;
        n = curve_series(c, nf, refit, which, s, labels);
        int m = have_val ? kept_points(r, c, nf, which, kx, ky) : 0;
        s[n++] = (svg_series){.label = m ? "epoch kept by early stopping" : NULL, .n = m,
                              .x = kx, .y = ky, .no_line = true};
        if (which == 1)
            curve_chart(f, "Validation loss (early-stopping slice)", "validation loss", true, s, n);
        else
            curve_chart(f, have_val ? "Accuracy: validation (folds), training (refit)"
                                    : "Training accuracy of the refit", "accuracy", false, s, n);
    }
    fputs("</div>\n", f);
}

static void section_curves(FILE *f, const report_run *r)
{
    section(f, "curves", "Learning curves of the best trial");
    if (!network_run(r)) {
        note(f, "A test function is evaluated, not trained, so there are no learning curves.");
        return;
    }
    const cJSON *folds = r->best >= 0 ? jget(r->trial[r->best], "curves") : NULL;
    const cJSON *rc = jget(jget(r->best_json, "refit"), "curve");
    if (!cJSON_IsArray(folds) && !cJSON_IsObject(rc)) {
        note(f, "The journal has no learning curves for %s (journals written by older "
             "versions of nntune do not record them).",
             r->best >= 0 ? "the best trial" : "this run: no trial succeeded");
        return;
    }
    int nf = cJSON_IsArray(folds) ? cJSON_GetArraySize(folds) : 0;
    if (nf > NT_MAX_FOLDS) nf = NT_MAX_FOLDS;
    curve c[NT_MAX_FOLDS], refit;
    for (int k = 0; k < nf; k++) curve_read(cJSON_GetArrayItem(folds, k), "val_acc", &c[k]);
    curve_read(rc, "train_acc", &refit);
    curve_charts(f, r, c, nf, &refit);
    for (int k = 0; k < nf; k++) curve_free(&c[k]);
    curve_free(&refit);
}

/* ---------------------------------------------------------------- test */

static void per_class_table(FILE *f, const cJSON *per_class)
{
    fputs("<table>\n<tr><th>class</th><th>precision</th><th>recall</th><th>F1</th>"
          "<th>support</th></tr>\n", f);
    const cJSON *c;
    cJSON_ArrayForEach(c, per_class)
        fprintf(f, "<tr><td>%.0f</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%.0f</td></tr>\n",
                jnum(c, "class"), jnum(c, "precision"), jnum(c, "recall"), jnum(c, "f1"),
                jnum(c, "support"));
    fputs("</table>\n", f);
}

/* The confusion matrix, when it is a square array of numbers. */
static void confusion_table(FILE *f, const cJSON *rows)
{
    int k = cJSON_IsArray(rows) ? cJSON_GetArraySize(rows) : 0;
    double *m = k > 0 ? calloc((size_t)k * k, sizeof *m) : NULL;
    for (int i = 0; m && i < k; i++) {
        int n;
        double *row = jarray(cJSON_GetArrayItem(rows, i), &n);
        if (n != k) k = 0;   // not square: not drawn
        for (int j = 0; j < n && j < k; j++) m[i * k + j] = row[j];
        free(row);
    }
    if (m && k > 0) html_confusion(f, m, k, NULL);
    else note(f, "best.json holds no confusion matrix.");
    free(m);
}

/* The CV score of the best trial against the same measure on the test set. */
static void gap_table(FILE *f, const report_run *r, const cJSON *test)
{
    const char *key = !strcmp(r->metric, "loss") ? "loss"
                      : !strcmp(r->metric, "f1") ? "macro_f1" : "accuracy";
    double cv = jnum(r->trial[r->best], "metric"), sd = jnum(r->trial[r->best], "metric_std");
    double te = jnum(test, key);
    fprintf(f, "<table class=\"kv\">\n<tr><td>cross-validated %s of the best trial</td>"
            "<td>%.4f &plusmn; %.4f</td></tr>\n<tr><td>test %s (%.0f samples)</td>"
            "<td>%.4f</td></tr>\n<tr><td>test - CV</td><td>%+.4f</td></tr>\n",
            r->metric, cv, sd, key, jnum(test, "samples"), te, te - cv);
    // the other two measures (the compared one is above)
    static const char *const keys[] = {"accuracy", "loss", "macro_f1"};
    static const char *const names[] = {"accuracy", "loss", "macro F1"};
    for (int i = 0; i < 3; i++)
        if (strcmp(keys[i], key))
            fprintf(f, "<tr><td>test %s</td><td>%.4f</td></tr>\n", names[i], jnum(test, keys[i]));
    fputs("</table>\n", f);
}

static void section_test(FILE *f, const report_run *r)
{
    section(f, "test", "Test set");
    const cJSON *test = jget(r->best_json, "test");
    if (!cJSON_IsObject(test) || r->best < 0) {
        note(f, "%s", !network_run(r) ? "A test function has no test set: its known "
             "minimum is the yardstick (see the history)."
             : "No test result: the run was interrupted, is still running, or no trial "
               "succeeded, so nothing was refitted and tested.");
        return;
    }
    note(f, "The best settings, refitted on the whole training set, scored once on the "
         "test set, which no trial saw. The test set is used once, at the end, because "
         "every look at it that guides a choice makes it a little less independent: the "
         "cross-validated score was what the search optimized, so it tends to flatter the "
         "winner, and the test score is the honest estimate. A test score a little below "
         "the CV score is normal; a large gap means the search overfitted the folds.");
    gap_table(f, r, test);
    fputs("<h3>Confusion matrix</h3>\n", f);
    note(f, "Rows are the true classes, columns the predicted ones; the diagonal counts "
         "the correct answers (shaded by the share of the row, the class's recall), the "
         "other cells the mistakes (shaded relative to the most common mistake), so the "
         "darkest off-diagonal cells are the pairs of classes the model confuses most.");
    confusion_table(f, jget(test, "confusion"));
    fputs("<h3>Per class</h3>\n", f);
    note(f, "Precision: of the samples predicted as the class, the share that are. "
         "Recall: of the samples of the class, the share found. F1 is their harmonic "
         "mean; support is the number of test samples of the class.");
    per_class_table(f, jget(test, "per_class"));
}

/* --------------------------------------------------------------- model */

#define STREAM_REPORT 0x7265706f7274ULL   /* "report": the GP refit's starts */
#define GRID_1D 201
#define GRID_2D 48

/* Why the model view does not apply to this run, or NULL when it does. */
static const char *model_skip(const report_run *r, char *buf, size_t len)
{
    if (strcmp(r->strategy, "bayes")) {
        snprintf(buf, len, "This run used %s search, which fits no model of the scores.",
                 r->strategy);
        return buf;
    }
    if (!r->fn || r->space.dims > 2) {
        snprintf(buf, len, "The model is drawn for Bayesian runs on test functions of 1 or "
                 "2 dimensions, where all of it fits on a page; this run searched %d "
                 "dimensions%s.", r->space.dims, r->fn ? "" : " of network settings");
        return buf;
    }
    if (r->n - r->failed < 2) {
        snprintf(buf, len, "Fewer than two trials have a score: too few to fit a model.");
        return buf;
    }
    for (int i = 0; i < r->space.n; i++) {
        nt_param_kind k = r->space.p[i].kind;
        if (k != NT_P_FIXED && k != NT_P_UNIFORM && k != NT_P_LOGUNIFORM) {
            snprintf(buf, len, "The model is drawn only over real-valued parameters.");
            return buf;
        }
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* As bayes.c does: scores above Tukey's upper fence are pulled down to it,
 * failed trials (NaN) take the worst remaining score. */
static void model_targets(double *y, int n)
{
    double *s = malloc((size_t)n * sizeof *s), worst = -INFINITY;
    int m = 0;
    for (int i = 0; s && i < n; i++)
        if (isfinite(y[i])) s[m++] = y[i];
    if (s && m > 0) {
        qsort(s, (size_t)m, sizeof *s, cmp_double);
        double q1 = s[(m - 1) / 4], q3 = s[(3 * (m - 1)) / 4], fence = q3 + 1.5 * (q3 - q1);
        for (int i = 0; i < n; i++)
            if (isfinite(y[i]) && y[i] > fence) y[i] = fence;
        for (int i = 0; i < n; i++)
            if (isfinite(y[i]) && y[i] > worst) worst = y[i];
        for (int i = 0; i < n; i++)
            if (!isfinite(y[i])) y[i] = worst;
    }
    free(s);
}

/* Refit the strategy's Gaussian process to the journal's points ("u") and
 * scores, the way bayes.c fits it: same inputs, targets and kernel fit. */
static nt_status model_fit(const report_run *r, nt_gp *gp)
{
    int enc = nt_gp_encoded_dims(&r->space), n = 0;
    double *X = calloc((size_t)r->n * (size_t)enc + 1, sizeof *X);
    double *y = calloc((size_t)r->n + 1, sizeof *y);
    nt_status rc = X && y ? NT_OK : NT_ERR_NOMEM;
    for (int i = 0; rc == NT_OK && i < r->n; i++) {
        int m;
        double *u = jarray(jget(r->trial[i], "u"), &m);
        bool in_cube = u && m == r->space.dims;
        for (int d = 0; in_cube && d < m; d++) in_cube = u[d] >= 0 && u[d] <= 1;
        if (in_cube) {
            nt_gp_encode(&r->space, u, NULL, X + (size_t)n * enc);
            y[n++] = trial_ok(r, i) ? jnum(r->trial[i], "score") : NAN;
        }
        free(u);
    }
    model_targets(y, n);
    double seed = jnum(r->study, "seed");
    nt_rng rng = nt_rng_stream(seed >= 0 && seed < 1.8e19 ? (uint64_t)seed : 1, STREAM_REPORT);
    if (rc == NT_OK) rc = nt_gp_init(gp, enc, n > 0 ? n : 1);
    if (rc == NT_OK) rc = nt_gp_set_data(gp, X, y, n);
    // random starts cost O(n^3) each; past 64 points (as bayes.c) the default start
    if (rc == NT_OK) rc = nt_gp_fit(gp, n <= 64 ? 2 : 0, &rng);
    free(X);
    free(y);
    return rc;
}

/* The parameter that owns cube dimension d. */
static const nt_param *dim_param(const nt_space *s, int d)
{
    for (int i = 0; i < s->n; i++)
        if (s->p[i].dim == d) return &s->p[i];
    return NULL;
}

/* The trials' points in the domain (x, and y for 2-D) and their values. */
static int model_points(const report_run *r, double *px, double *py, double *pf)
{
    const nt_param *a = dim_param(&r->space, 0), *b = dim_param(&r->space, 1);
    int n = 0;
    for (int i = 0; i < r->n; i++) {
        const cJSON *params = jget(r->trial[i], "params");
        px[n] = jnum(params, a->name);
        py[n] = b ? jnum(params, b->name) : 0;
        pf[n] = jnum(r->trial[i], "metric");
        if (isfinite(px[n]) && isfinite(py[n]) && isfinite(pf[n])) n++;
    }
    return n;
}

static void model_1d(FILE *f, const report_run *r, nt_gp *gp)
{
    double u[GRID_1D], x[GRID_1D], mu[GRID_1D], var[GRID_1D], lo[GRID_1D], hi[GRID_1D],
        truth[GRID_1D], enc[GRID_1D];
    const nt_param *p = dim_param(&r->space, 0);
    for (int i = 0; i < GRID_1D; i++) {
        nt_assignment a;
        u[i] = (double)i / (GRID_1D - 1);
        nt_space_decode(&r->space, &u[i], &a);
        x[i] = a.v[p - r->space.p].num;
        truth[i] = nt_testfn_eval(r->fn, &r->space, &a);
        nt_gp_encode(&r->space, &u[i], NULL, &enc[i]);
    }
    nt_gp_predict_many(gp, enc, GRID_1D, mu, var);
    for (int i = 0; i < GRID_1D; i++) {
        lo[i] = mu[i] - 2 * sqrt(fmax(var[i], 0));
        hi[i] = mu[i] + 2 * sqrt(fmax(var[i], 0));
    }
    double *px = malloc((size_t)r->n * sizeof *px), *py = malloc((size_t)r->n * sizeof *py);
    double *pf = malloc((size_t)r->n * sizeof *pf);
    int n = px && py && pf ? model_points(r, px, py, pf) : 0;
    svg_series s[3] = {
        {.label = "true function", .n = GRID_1D, .x = x, .y = truth},
        {.label = "GP mean, band = mean ± 2 sd", .n = GRID_1D, .x = x, .y = mu, .lo = lo, .hi = hi},
        {.label = "trials", .n = n, .x = px, .y = pf, .no_line = true}};
    svg_axes ax = {.title = "The Gaussian process after the last trial", .x_label = p->name,
                   .y_label = "f", .log_x = p->kind == NT_P_LOGUNIFORM, .width = 900,
                   .height = 400};
    svg_lines(f, &ax, s, 3);
    free(px);
    free(py);
    free(pf);
}

/* Mean and standard deviation on a GRID_2D x GRID_2D grid of cell centres,
 * row 0 at the bottom. */
static void model_grid(const report_run *r, nt_gp *gp, double *mu, double *sd)
{
    int enc = nt_gp_encoded_dims(&r->space), m = GRID_2D * GRID_2D;
    double *X = malloc((size_t)m * enc * sizeof *X);
    if (!X) {
        for (int i = 0; i < m; i++) mu[i] = sd[i] = NAN;
        return;
    }
    for (int iy = 0; iy < GRID_2D; iy++)
        for (int ix = 0; ix < GRID_2D; ix++) {
            double u[2] = {(ix + 0.5) / GRID_2D, (iy + 0.5) / GRID_2D};
            nt_gp_encode(&r->space, u, NULL, X + (size_t)(iy * GRID_2D + ix) * enc);
        }
    nt_gp_predict_many(gp, X, m, mu, sd);
    for (int i = 0; i < m; i++) sd[i] = sqrt(fmax(sd[i], 0));
    free(X);
}

static void model_2d(FILE *f, const report_run *r, nt_gp *gp)
{
    double mu[GRID_2D * GRID_2D], sd[GRID_2D * GRID_2D];
    const nt_param *a = dim_param(&r->space, 0), *b = dim_param(&r->space, 1);
    model_grid(r, gp, mu, sd);
    double *px = malloc((size_t)r->n * sizeof *px), *py = malloc((size_t)r->n * sizeof *py);
    double *pf = malloc((size_t)r->n * sizeof *pf);
    int n = px && py && pf ? model_points(r, px, py, pf) : 0;
    svg_axes ax = {.x_label = a->name, .y_label = b->name, .width = 530, .height = 440,
                   .log_x = a->kind == NT_P_LOGUNIFORM, .log_y = b->kind == NT_P_LOGUNIFORM};
    svg_grid g = {GRID_2D, GRID_2D, mu, a->lo, a->hi, b->lo, b->hi, "mean f"};
    fputs("<div class=\"charts\">\n<figure>\n", f);
    ax.title = "GP mean: the predicted f";
    svg_heatmap(f, &ax, &g, px, py, n);
    fputs("</figure>\n<figure>\n", f);
    ax.title = "GP standard deviation: its uncertainty";
    g.z = sd;
    g.z_label = "sd of f";
    svg_heatmap(f, &ax, &g, px, py, n);
    fputs("</figure>\n</div>\n", f);
    free(px);
    free(py);
    free(pf);
}

static void model_note(FILE *f, const report_run *r)
{
    if (r->space.dims == 1)
        note(f, "The Bayesian strategy models the function with a Gaussian process (GP) "
             "fitted to the trials so far. Here it is refitted to all %d trials: the line is "
             "its prediction (the mean) and the band its uncertainty (two standard "
             "deviations either side). The band pinches at the trials and widens between "
             "them; the strategy picks the next point where a low mean or a wide band makes "
             "an improvement likely (expected improvement). Compare the mean with the true "
             "function: where they differ, the model had too few points there.", r->n);
    else
        note(f, "The Bayesian strategy models the function with a Gaussian process (GP) "
             "fitted to the trials so far. Here it is refitted to all %d trials (white "
             "dots). Left: its prediction, the mean (dark = low f, where the minima are "
             "believed to be). Right: its uncertainty, one standard deviation (dark = "
             "certain, near trials; light = unexplored). The strategy picks the next point "
             "where a low mean or a high uncertainty makes an improvement likely "
             "(expected improvement), so the dots crowd into the dark valleys on the left "
             "and leave light areas on the right only where the mean is high.", r->n);
    note(f, "Scores far above the rest are capped before the fit, as the strategy does, so "
         "the model is faithful in the low regions that matter and may flatten the peaks.");
}

static void section_model(FILE *f, const report_run *r)
{
    section(f, "model", "What the Bayesian model believes");
    char why[512];
    const char *skip = model_skip(r, why, sizeof why);
    nt_gp gp = {0};
    if (!skip && model_fit(r, &gp) != NT_OK) {
        snprintf(why, sizeof why, "The Gaussian process could not be refitted: %s.",
                 nt_last_error());
        skip = why;
    }
    if (skip) {
        note(f, "%s", skip);
    } else {
        model_note(f, r);
        if (r->space.dims == 1) model_1d(f, r, &gp);
        else model_2d(f, r, &gp);
    }
    nt_gp_free(&gp);
}

/* ---------------------------------------------------------------- page */

static void summary(FILE *f, const report_run *r)
{
    const char *what = jstr(r->study, "data") ? jstr(r->study, "data")
                       : jstr(r->study, "objective") ? jstr(r->study, "objective") : "?";
    fputs("<p class=\"note\">", f);
    html_text(f, r->dir);
    fprintf(f, ": %d trial%s of %s search on ", r->n, r->n == 1 ? "" : "s", r->strategy);
    html_text(f, what);
    if (r->best >= 0) {
        char m[32];
        report_fmt_metric(r, jnum(r->trial[r->best], "metric"), m, sizeof m);
        fprintf(f, ". Best: trial %d, %s%s = %s", (int)jnum(r->trial[r->best], "trial") + 1,
                network_run(r) ? "cross-validated " : "", metric_name(r), m);
    }
    double acc = jnum(jget(r->best_json, "test"), "accuracy");
    if (isfinite(acc)) fprintf(f, "; test accuracy %.4f", acc);
    fputs(".</p>\n<p class=\"muted\">Contents: <a href=\"#settings\">settings</a> &middot; "
          "<a href=\"#trials\">trials</a> &middot; <a href=\"#history\">history</a> &middot; "
          "<a href=\"#params\">parameters</a> &middot; <a href=\"#curves\">learning "
          "curves</a> &middot; <a href=\"#test\">test set</a> &middot; <a href=\"#model\">"
          "model</a></p>\n", f);
}

static void write_page(FILE *f, const report_run *r)
{
    char title[1200];
    snprintf(title, sizeof title, "nntune run report: %s", r->dir);
    html_page_begin(f, title);
    summary(f, r);
    section_settings(f, r);
    section_trials(f, r);
    section_history(f, r);
    section_params(f, r);
    section_curves(f, r);
    section_test(f, r);
    section_model(f, r);
    fprintf(f, "<p class=\"muted\">Written by nntune %s from the files of %s; rebuild it "
            "with <code>nntune report ", NT_VERSION, "this run folder");
    html_text(f, r->dir);
    fputs("</code>.</p>\n", f);
    html_page_end(f);
}

nt_status report_write(const char *dir)
{
    report_run r;
    nt_status rc = report_run_load(dir, &r);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = rc == NT_OK ? open_memstream(&buf, &len) : NULL;
    if (rc == NT_OK && !f) {
        nt_errorf("%s: out of memory", dir);
        rc = NT_ERR_NOMEM;
    }
    if (f) {
        write_page(f, &r);
        fclose(f);
        char path[1200];
        snprintf(path, sizeof path, "%s/report.html", dir);
        rc = nt_write_file_atomic(path, buf, len);
    }
    free(buf);
    report_run_free(&r);
    return rc;
}
