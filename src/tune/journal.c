/* journal.c - trials.jsonl and trials.csv. */
#include "nntune/journal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

nt_status nt_journal_create(const char *path, const char *header_json, nt_journal *j)
{
    memset(j, 0, sizeof *j);
    snprintf(j->path, sizeof j->path, "%s", path);
    // the header goes in whole (temporary name, then rename): a process
    // killed here leaves no journal or a resumable one, never an empty file
    // that neither --resume nor a new run would accept
    size_t len = strlen(header_json);
    char *text = malloc(len + 1);
    if (!text) {
        nt_errorf("%s: out of memory", path);
        return NT_ERR_NOMEM;
    }
    memcpy(text, header_json, len);
    text[len] = '\n';
    nt_status rc = nt_write_file_atomic(path, text, len + 1);
    free(text);
    if (rc != NT_OK) return rc;
    j->f = fopen(path, "a");
    if (!j->f) {
        nt_errorf("%s: cannot write the journal: %s", path, strerror(errno));
        return NT_ERR_IO;
    }
    return NT_OK;
}

void nt_journal_close(nt_journal *j)
{
    if (j->f) fclose(j->f);
    j->f = NULL;
}

/* cJSON prints 15 significant digits when they read back "close enough";
 * a resumed study needs the exact double the strategy saw, so the numbers
 * a replay feeds back (points, scores) are printed with 17. */
static cJSON *number_or_null(double v)
{
    if (!isfinite(v)) return cJSON_CreateNull();
    char text[32];
    snprintf(text, sizeof text, "%.17g", v);
    return cJSON_CreateRaw(text);
}

/* A learning curve's values, 5 significant digits (enough to draw). */
static cJSON *curve_array(const float *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        char text[32];
        if (isfinite(v[i])) snprintf(text, sizeof text, "%.5g", (double)v[i]);
        cJSON_AddItemToArray(a, isfinite(v[i]) ? cJSON_CreateRaw(text)
                                               : cJSON_CreateNull());
    }
    return a;
}

/* "curves": one {"train_loss", "val_loss", "val_acc"} object a fold. */
static void add_curves(cJSON *o, const nt_trial *t)
{
    if (!t->curves) return;
    cJSON *cs = cJSON_AddArrayToObject(o, "curves");
    for (int k = 0; k < t->n_folds; k++) {
        const nt_curve *c = &t->curves[k];
        cJSON *fold = cJSON_CreateObject();
        cJSON_AddItemToObject(fold, "train_loss", curve_array(c->train_loss, c->n));
        cJSON_AddItemToObject(fold, "val_loss", curve_array(c->val_loss, c->n));
        cJSON_AddItemToObject(fold, "val_acc", curve_array(c->val_acc, c->n));
        cJSON_AddItemToArray(cs, fold);
    }
}

cJSON *nt_assign_to_json(const nt_space *s, const nt_assignment *a)
{
    cJSON *p = cJSON_CreateObject();
    for (int i = 0; i < s->n; i++) {
        const nt_value *v = &a->v[i];
        if (!v->active) continue;
        if (v->label && !(s->p[i].numeric))
            cJSON_AddStringToObject(p, s->p[i].name, v->label);
        else
            cJSON_AddNumberToObject(p, s->p[i].name, v->num);
    }
    return p;
}

char *nt_trial_to_json(const nt_space *s, const nt_trial *t)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "trial", t->trial);
    cJSON_AddStringToObject(o, "status", t->status == NT_OK ? "ok"
                                         : t->status == NT_ERR_NUMERIC ? "diverged"
                                                                       : "failed");
    if (t->status != NT_OK) cJSON_AddStringToObject(o, "reason", t->reason);
    cJSON_AddItemToObject(o, "params", nt_assign_to_json(s, &t->values));
    cJSON_AddItemToObject(o, "metric", number_or_null(t->metric));
    cJSON_AddItemToObject(o, "metric_std", number_or_null(t->metric_std));
    cJSON_AddItemToObject(o, "score", number_or_null(t->score));
    if (t->n_folds > 0) {
        cJSON *f = cJSON_AddArrayToObject(o, "folds");
        cJSON *e = cJSON_AddArrayToObject(o, "fold_epochs");
        cJSON *r = cJSON_AddArrayToObject(o, "fold_epochs_run");
        for (int k = 0; k < t->n_folds; k++) {
            cJSON_AddItemToArray(f, number_or_null(t->fold_metric[k]));
            cJSON_AddItemToArray(e, cJSON_CreateNumber(t->fold_epochs[k]));
            cJSON_AddItemToArray(r, cJSON_CreateNumber(t->fold_ran[k]));
        }
    }
    cJSON_AddNumberToObject(o, "seconds", t->seconds);
    cJSON_AddNumberToObject(o, "finished", t->finished);
    cJSON *u = cJSON_AddArrayToObject(o, "u");
    for (int d = 0; d < s->dims; d++) cJSON_AddItemToArray(u, number_or_null(t->u[d]));
    cJSON_AddStringToObject(o, "why", t->why);
    add_curves(o, t);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

nt_status nt_journal_append(nt_journal *j, const nt_space *s, const nt_trial *t)
{
    char *line = nt_trial_to_json(s, t);
    if (!line) {
        nt_errorf("%s: out of memory", j->path);
        return NT_ERR_NOMEM;
    }
    bool ok = fprintf(j->f, "%s\n", line) >= 0 && fflush(j->f) == 0 &&
              fsync(fileno(j->f)) == 0;
    free(line);
    if (!ok) {
        nt_errorf("%s: cannot append trial %d: %s", j->path, t->trial, strerror(errno));
        return NT_ERR_IO;
    }
    return NT_OK;
}

/* A growable text buffer for the CSV. */
typedef struct {
    char *s;
    size_t n, cap;
    bool oom;
} buf_t;

static void put(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(buf_t *b, const char *fmt, ...)
{
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int w = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (w >= 0 && b->s && b->n + (size_t)w < b->cap) {
            b->n += (size_t)w;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->n + (size_t)w + 1) cap *= 2;
        char *bigger = realloc(b->s, cap);
        if (!bigger) { b->oom = true; return; }
        b->s = bigger;
        b->cap = cap;
    }
}

static void put_num(buf_t *b, double v)
{
    if (isfinite(v)) put(b, ",%.10g", v);
    else put(b, ",");
}

nt_status nt_trials_csv(const char *path, const nt_space *s, const nt_study *st)
{
    int folds = 0;
    for (int i = 0; i < st->n; i++)
        if (st->trial[i].n_folds > folds) folds = st->trial[i].n_folds;
    buf_t b = {0};
    put(&b, "trial,status,mean_test_score,std_test_score,rank_test_score");
    for (int k = 0; k < folds; k++) put(&b, ",split%d_test_score", k);
    put(&b, ",mean_fit_time,epochs");
    for (int p = 0; p < s->n; p++) put(&b, ",param_%s", s->p[p].name);
    put(&b, ",reason\n");
    for (int i = 0; i < st->n; i++) {
        const nt_trial *t = &st->trial[i];
        // rank 1 is the best, ties share a rank; failed trials rank last
        int rank = 1;
        for (int j = 0; j < st->n; j++) {
            const nt_trial *o = &st->trial[j];
            if (t->status != NT_OK) { rank = st->n - st->failures + 1; break; }
            if (o->status == NT_OK && o->score < t->score) rank++;
        }
        put(&b, "%d,%s", t->trial, t->status == NT_OK ? "ok"
                                  : t->status == NT_ERR_NUMERIC ? "diverged" : "failed");
        put_num(&b, t->metric);
        put_num(&b, t->metric_std);
        put(&b, ",%d", rank);
        for (int k = 0; k < folds; k++) put_num(&b, k < t->n_folds ? t->fold_metric[k] : NAN);
        put_num(&b, t->n_folds ? t->seconds / t->n_folds : t->seconds);
        double ep = 0;
        for (int k = 0; k < t->n_folds; k++) ep += t->fold_ran[k];
        put_num(&b, t->n_folds ? ep / t->n_folds : NAN);
        for (int p = 0; p < s->n; p++) {
            const nt_value *v = &t->values.v[p];
            if (!v->active) put(&b, ",");
            else if (v->label && !s->p[p].numeric) put(&b, ",%s", v->label);
            else put(&b, ",%.6g", v->num);
        }
        // quote the reason: it may hold commas
        put(&b, ",\"");
        for (const char *c = t->reason; *c; c++) put(&b, *c == '"' ? "\"\"" : "%c", *c);
        put(&b, "\"\n");
    }
    if (b.oom) {
        free(b.s);
        nt_errorf("%s: out of memory", path);
        return NT_ERR_NOMEM;
    }
    nt_status rc = nt_write_file_atomic(path, b.s ? b.s : "", b.n);
    free(b.s);
    return rc;
}

static double num_or_nan(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* One journal line -> a trial. */
static nt_status parse_trial(const char *path, int line, const cJSON *o,
                             const nt_space *space, nt_trial *t)
{
    memset(t, 0, sizeof *t);
    const cJSON *trial = cJSON_GetObjectItemCaseSensitive(o, "trial");
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(o, "status");
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(o, "u");
    if (!cJSON_IsObject(o) || !cJSON_IsNumber(trial) || !cJSON_IsString(status) ||
        !cJSON_IsArray(u) || cJSON_GetArraySize(u) != space->dims) {
        nt_errorf("%s:%d: not a trial of this study's space", path, line);
        return NT_ERR_FORMAT;
    }
    t->trial = trial->valueint;
    for (int d = 0; d < space->dims; d++) {
        const cJSON *x = cJSON_GetArrayItem(u, d);
        if (!cJSON_IsNumber(x) || !(x->valuedouble >= 0 && x->valuedouble <= 1)) {
            nt_errorf("%s:%d: point coordinate %d is not in [0,1]", path, line, d);
            return NT_ERR_FORMAT;
        }
        t->u[d] = x->valuedouble;
    }
    nt_space_decode(space, t->u, &t->values);
    const char *st = status->valuestring;
    t->status = !strcmp(st, "ok") ? NT_OK : !strcmp(st, "diverged") ? NT_ERR_NUMERIC : NT_ERR_ARG;
    const cJSON *reason = cJSON_GetObjectItemCaseSensitive(o, "reason");
    if (cJSON_IsString(reason)) snprintf(t->reason, sizeof t->reason, "%s", reason->valuestring);
    const cJSON *why = cJSON_GetObjectItemCaseSensitive(o, "why");
    if (cJSON_IsString(why)) snprintf(t->why, sizeof t->why, "%s", why->valuestring);
    t->metric = num_or_nan(o, "metric");
    t->metric_std = num_or_nan(o, "metric_std");
    t->score = num_or_nan(o, "score");
    t->seconds = num_or_nan(o, "seconds");
    t->finished = num_or_nan(o, "finished");
    if (t->status == NT_OK && !isfinite(t->score)) {
        nt_errorf("%s:%d: trial %d is ok but has no score", path, line, t->trial);
        return NT_ERR_FORMAT;
    }
    const cJSON *folds = cJSON_GetObjectItemCaseSensitive(o, "folds");
    const cJSON *ep = cJSON_GetObjectItemCaseSensitive(o, "fold_epochs");
    const cJSON *ran = cJSON_GetObjectItemCaseSensitive(o, "fold_epochs_run");
    if (cJSON_IsArray(folds)) {
        int k = cJSON_GetArraySize(folds);
        t->n_folds = k > NT_MAX_FOLDS ? NT_MAX_FOLDS : k;
        for (int f = 0; f < t->n_folds; f++) {
            const cJSON *x = cJSON_GetArrayItem(folds, f);
            t->fold_metric[f] = cJSON_IsNumber(x) ? x->valuedouble : NAN;
            x = cJSON_IsArray(ep) ? cJSON_GetArrayItem(ep, f) : NULL;
            t->fold_epochs[f] = cJSON_IsNumber(x) ? x->valueint : 0;
            x = cJSON_IsArray(ran) ? cJSON_GetArrayItem(ran, f) : NULL;
            t->fold_ran[f] = cJSON_IsNumber(x) ? x->valueint : 0;
        }
    }
    return NT_OK;
}

nt_status nt_journal_read(const char *path, const nt_space *space, char **header,
                          nt_study *study, int *dropped, long *good_bytes)
{
    *header = NULL;
    *dropped = 0;
    *good_bytes = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        nt_errorf("%s: cannot read the journal: %s", path, strerror(errno));
        return NT_ERR_IO;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0;
    long offset = 0;
    nt_status rc = NT_OK;
    while (rc == NT_OK && (len = getline(&line, &cap, f)) > 0) {
        lineno++;
        bool complete = line[len - 1] == '\n';
        int next = fgetc(f);
        bool last = next == EOF;
        if (!last) ungetc(next, f);
        if (lineno == 1) {
            cJSON *h = complete ? cJSON_Parse(line) : NULL;
            bool ok = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(h, "study"));
            cJSON_Delete(h);
            if (!ok) {
                nt_errorf("%s:1: not an nntune journal (no \"study\" header)", path);
                rc = NT_ERR_FORMAT;
                break;
            }
            *header = strdup(line);
            offset += len;
            continue;
        }
        nt_trial t;
        cJSON *o = complete ? cJSON_Parse(line) : NULL;
        nt_status prc = complete ? parse_trial(path, lineno, o, space, &t) : NT_ERR_FORMAT;
        cJSON_Delete(o);
        if (prc != NT_OK && last) { // torn write: the process died mid-line
            *dropped = 1;
            break;
        }
        if (prc != NT_OK) {
            if (!complete) nt_errorf("%s:%d: line cut short", path, lineno);
            rc = prc;
            break;
        }
        rc = nt_study_add(study, &t);
        study->seconds = t.finished;
        offset += len;
    }
    free(line);
    fclose(f);
    if (rc == NT_OK && !*header) {
        nt_errorf("%s: empty journal", path);
        rc = NT_ERR_FORMAT;
    }
    if (rc != NT_OK) {
        free(*header);
        *header = NULL;
        return rc;
    }
    *good_bytes = offset;
    return NT_OK;
}

nt_status nt_journal_append_open(const char *path, long good_bytes, nt_journal *j)
{
    memset(j, 0, sizeof *j);
    snprintf(j->path, sizeof j->path, "%s", path);
    if (truncate(path, good_bytes) != 0) {
        nt_errorf("%s: cannot cut the torn last line: %s", path, strerror(errno));
        return NT_ERR_IO;
    }
    j->f = fopen(path, "a");
    if (!j->f) {
        nt_errorf("%s: cannot append to the journal: %s", path, strerror(errno));
        return NT_ERR_IO;
    }
    return NT_OK;
}

/* ---- trials a stop cut short: partial.json ---- */

/* Trial t as partial.json's line: the journal's, with "folds_done". */
static char *partial_line(const char *path, const nt_space *s, const nt_trial *t)
{
    nt_trial cut = *t;
    cut.status = NT_ERR_INTERRUPTED; // never read as a finished trial
    snprintf(cut.reason, sizeof cut.reason, "cut short by a stop request");
    char *line = nt_trial_to_json(s, &cut);
    // the mask goes in as text: a parse and print by cJSON would round the
    // point's 17 digits, and a resume matches the point exactly
    size_t n = line ? strlen(line) : 0;
    char *text = n > 0 && line[n - 1] == '}' ? malloc(n + 32) : NULL;
    if (text)
        snprintf(text, n + 32, "%.*s,\"folds_done\":%u}\n", (int)(n - 1), line,
                 (unsigned)t->folds_done);
    free(line);
    if (!text) nt_errorf("%s: out of memory", path);
    return text;
}

nt_status nt_partial_write(const char *path, const nt_space *s, const nt_trial *t, int n)
{
    char *text = calloc(1, 1);
    size_t len = 0;
    for (int i = 0; text && i < n; i++) {
        char *line = partial_line(path, s, &t[i]);
        size_t add = line ? strlen(line) : 0;
        char *grown = line ? realloc(text, len + add + 1) : NULL;
        if (grown) {
            memcpy(grown + len, line, add + 1);
            len += add;
        } else {
            free(text);
        }
        text = grown;
        free(line);
    }
    if (!text) {
        nt_errorf("%s: out of memory", path);
        return NT_ERR_NOMEM;
    }
    nt_status rc = nt_write_file_atomic(path, text, len);
    free(text);
    return rc;
}

/* A curve array's values (null: NaN) into a new float array of *n. */
static float *floats_of(const cJSON *a, int *n)
{
    *n = cJSON_IsArray(a) ? cJSON_GetArraySize(a) : 0;
    float *v = malloc((size_t)(*n > 0 ? *n : 1) * sizeof *v);
    for (int i = 0; v && i < *n; i++) {
        const cJSON *x = cJSON_GetArrayItem(a, i);
        v[i] = cJSON_IsNumber(x) ? (float)x->valuedouble : NAN;
    }
    return v;
}

/* The "curves" of a parsed trial line, one a fold (missing ones empty). */
static nt_curve *curves_of(const cJSON *o, int n_folds)
{
    nt_curve *c = calloc((size_t)(n_folds > 0 ? n_folds : 1), sizeof *c);
    const cJSON *cs = cJSON_GetObjectItemCaseSensitive(o, "curves");
    for (int f = 0; c && f < n_folds; f++) {
        const cJSON *fold = cJSON_IsArray(cs) ? cJSON_GetArrayItem(cs, f) : NULL;
        int a, b, d;
        c[f].train_loss = floats_of(cJSON_GetObjectItemCaseSensitive(fold, "train_loss"), &a);
        c[f].val_loss = floats_of(cJSON_GetObjectItemCaseSensitive(fold, "val_loss"), &b);
        c[f].val_acc = floats_of(cJSON_GetObjectItemCaseSensitive(fold, "val_acc"), &d);
        c[f].n = a == b && b == d && c[f].train_loss && c[f].val_loss && c[f].val_acc ? a : 0;
    }
    return c;
}

/* Line `line` of partial.json as a cut-short trial into t (zeroed on
 * failure, which names the file and line). */
static nt_status partial_trial(const char *path, int line, const char *text, const nt_space *s,
                               nt_trial *t)
{
    cJSON *o = cJSON_Parse(text);
    nt_status rc = parse_trial(path, line, o, s, t);
    const cJSON *done = cJSON_GetObjectItemCaseSensitive(o, "folds_done");
    double mask = cJSON_IsNumber(done) ? done->valuedouble : -1;
    if (rc == NT_OK && (t->n_folds < 2 || !(mask >= 1 && mask < (double)(1u << t->n_folds)) ||
                        mask != floor(mask))) {
        nt_errorf("%s:%d: not a cut-short trial (folds_done %g of %d folds)", path, line, mask,
                  t->n_folds);
        rc = NT_ERR_FORMAT;
    }
    if (rc == NT_OK) t->folds_done = (uint32_t)mask;
    for (int k = 0; rc == NT_OK && k < t->n_folds; k++)
        if ((t->folds_done >> k & 1u) && !isfinite(t->fold_metric[k])) {
            nt_errorf("%s:%d: finished fold %d has no score", path, line, k + 1);
            rc = NT_ERR_FORMAT;
        }
    if (rc == NT_OK) t->curves = curves_of(o, t->n_folds);
    cJSON_Delete(o);
    if (rc != NT_OK) {
        nt_curves_free(t->curves, t->n_folds);
        memset(t, 0, sizeof *t);
    }
    return rc;
}

nt_status nt_partial_read(const char *path, const nt_space *s, nt_trial *t, int max, int *n)
{
    *n = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        nt_errorf("%s: cannot read: %s", path, strerror(errno));
        return NT_ERR_IO;
    }
    char *line = NULL;
    size_t cap = 0;
    nt_status rc = NT_OK;
    for (int lineno = 1; rc == NT_OK && getline(&line, &cap, f) > 0; lineno++) {
        if (*n == max) {
            nt_errorf("%s: more than %d cut-short trials", path, max);
            rc = NT_ERR_FORMAT;
            break;
        }
        rc = partial_trial(path, lineno, line, s, &t[*n]);
        // in trial order, each once: as written, and a resume takes each by
        // its number
        if (rc == NT_OK && *n > 0 && t[*n].trial <= t[*n - 1].trial) {
            nt_errorf("%s:%d: trial %d after trial %d", path, lineno, t[*n].trial + 1,
                      t[*n - 1].trial + 1);
            nt_curves_free(t[*n].curves, t[*n].n_folds);
            rc = NT_ERR_FORMAT;
        }
        if (rc == NT_OK) (*n)++;
    }
    free(line);
    fclose(f);
    if (rc == NT_OK && *n == 0) {
        nt_errorf("%s: empty", path);
        rc = NT_ERR_FORMAT;
    }
    if (rc != NT_OK) {
        for (int i = 0; i < *n; i++) nt_curves_free(t[i].curves, t[i].n_folds);
        memset(t, 0, (size_t)*n * sizeof *t);
        *n = 0;
    }
    return rc;
}
