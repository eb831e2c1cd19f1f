/* test_journal.c - trials.jsonl (a header line, then one JSON object per
 * trial, readable while the study runs) and trials.csv (header, one row a
 * trial, ranks, quoting). */
#include <criterion/criterion.h>

#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nntune/journal.h"

static char tmpdir[64];

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nt_journal_XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp failed");
}

static void teardown(void)
{
    DIR *d = opendir(tmpdir);
    if (!d) return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
            remove(p);
        }
    closedir(d);
    rmdir(tmpdir);
}

TestSuite(journal, .init = setup, .fini = teardown);

static nt_space test_space(void)
{
    nt_space s;
    cr_assert_eq(nt_space_parse("lr = loguniform(1e-4, 1e-1)\n"
                                "batch = choice(32, 64)\n"
                                "act = choice(relu, tanh)\n"
                                "momentum = uniform(0.5, 0.99) if act == relu\n"
                                "epochs = 20\n",
                                "test", &s),
                 NT_OK, "%s", nt_last_error());
    return s;
}

/* A trial at point u; ok with the given accuracy, or failed. */
static nt_trial make_trial(const nt_space *s, int id, const double *u, nt_status status,
                           double acc, int folds, const char *reason)
{
    nt_trial t;
    memset(&t, 0, sizeof t);
    t.trial = id;
    memcpy(t.u, u, (size_t)s->dims * sizeof *u);
    nt_space_decode(s, u, &t.values);
    t.status = status;
    t.n_folds = folds;
    for (int f = 0; f < folds; f++) {
        t.fold_metric[f] = status == NT_OK ? acc + 0.01 * (f - 1) : NAN;
        t.fold_epochs[f] = 3 + f;
        t.fold_ran[f] = 6 + f;
    }
    if (status == NT_OK) {
        t.metric = acc;
        t.metric_std = 0.00816496580927726;
        t.score = 1 - acc;
    } else {
        t.metric = t.metric_std = t.score = NAN;
        snprintf(t.reason, sizeof t.reason, "%s", reason);
    }
    t.seconds = 1.5 + id;
    t.finished = 10.0 * (id + 1);
    snprintf(t.why, sizeof t.why, "random point for trial %d", id);
    return t;
}

/* Read every line of a file into a NULL-terminated array. */
static char **read_lines(const char *path, int *n)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot open %s", path);
    char **lines = calloc(256, sizeof *lines);
    char buf[16384];
    *n = 0;
    while (fgets(buf, sizeof buf, f) && *n < 255) {
        size_t len = strlen(buf);
        cr_assert(len > 0 && buf[len - 1] == '\n', "line %d of %s has no newline: %s", *n + 1,
                  path, buf);
        buf[len - 1] = '\0';
        lines[(*n)++] = strdup(buf);
    }
    fclose(f);
    return lines;
}

static void free_lines(char **lines, int n)
{
    for (int i = 0; i < n; i++) free(lines[i]);
    free(lines);
}

Test(journal, the_journal_has_a_header_line_and_one_json_line_per_trial)
{
    nt_space s = test_space();
    cr_assert_eq(s.dims, 4, "%d dims", s.dims);
    char path[256];
    snprintf(path, sizeof path, "%s/trials.jsonl", tmpdir);
    nt_journal j;
    const char *header = "{\"study\": {\"strategy\": \"random\", \"folds\": 3}}";
    cr_assert_eq(nt_journal_create(path, header, &j), NT_OK, "%s", nt_last_error());
    const double u0[4] = {0.1, 0.2, 0.3, 0.4}; // relu: momentum active
    const double u1[4] = {0.9, 0.8, 0.7, 0.6}; // tanh: momentum inactive
    const double u2[4] = {0.5, 0.5, 0.2, 0.5};
    nt_trial tr[3] = {
        make_trial(&s, 0, u0, NT_OK, 0.9, 3, ""),
        make_trial(&s, 1, u1, NT_ERR_NUMERIC, 0, 3,
                   "fold 2: diverged at epoch 3, step 41: loss is nan"),
        make_trial(&s, 2, u2, NT_OK, 0.95, 3, ""),
    };
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(nt_journal_append(&j, &s, &tr[i]), NT_OK, "append %d: %s", i,
                     nt_last_error());
        // flushed: a reader sees the line while the journal is still open
        int n;
        char **lines = read_lines(path, &n);
        cr_assert_eq(n, i + 2, "after %d appends the open journal has %d lines", i + 1, n);
        free_lines(lines, n);
    }
    nt_journal_close(&j);
    nt_journal_close(&j); // twice is fine

    int n;
    char **lines = read_lines(path, &n);
    cr_assert_eq(n, 4, "%d lines, want a header and 3 trials", n);
    cJSON *h = cJSON_Parse(lines[0]);
    cr_assert(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(h, "study")),
              "header line is not {\"study\": ...}: %s", lines[0]);
    cJSON_Delete(h);
    for (int i = 0; i < 3; i++) {
        const char *line = lines[i + 1];
        cJSON *o = cJSON_Parse(line);
        cr_assert(cJSON_IsObject(o), "line %d is not a JSON object: %s", i + 2, line);
        const cJSON *trial = cJSON_GetObjectItemCaseSensitive(o, "trial");
        cr_assert(cJSON_IsNumber(trial) && trial->valueint == i, "line %d: trial %s", i + 2,
                  line);
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(o, "status");
        cr_assert(cJSON_IsString(status), "line %d: no status: %s", i + 2, line);
        const cJSON *params = cJSON_GetObjectItemCaseSensitive(o, "params");
        cr_assert(cJSON_IsObject(params), "line %d: no params object: %s", i + 2, line);
        const cJSON *lr = cJSON_GetObjectItemCaseSensitive(params, "lr");
        cr_assert(cJSON_IsNumber(lr) && fabs(lr->valuedouble - tr[i].values.v[0].num) <=
                                            1e-12 * tr[i].values.v[0].num,
                  "line %d: lr %g, want %g", i + 2, lr ? lr->valuedouble : NAN,
                  tr[i].values.v[0].num);
        const cJSON *batch = cJSON_GetObjectItemCaseSensitive(params, "batch");
        cr_assert(cJSON_IsNumber(batch) && batch->valuedouble == tr[i].values.v[1].num,
                  "line %d: batch must be the number %g: %s", i + 2, tr[i].values.v[1].num,
                  line);
        const cJSON *act = cJSON_GetObjectItemCaseSensitive(params, "act");
        cr_assert(cJSON_IsString(act) && !strcmp(act->valuestring, tr[i].values.v[2].label),
                  "line %d: act must be \"%s\": %s", i + 2, tr[i].values.v[2].label, line);
        const cJSON *mom = cJSON_GetObjectItemCaseSensitive(params, "momentum");
        if (tr[i].values.v[3].active)
            cr_assert(cJSON_IsNumber(mom), "line %d: active momentum missing: %s", i + 2, line);
        else
            cr_assert_null(mom, "line %d: inactive momentum written: %s", i + 2, line);
        const cJSON *ep = cJSON_GetObjectItemCaseSensitive(params, "epochs");
        cr_assert(cJSON_IsNumber(ep) && ep->valuedouble == 20, "line %d: epochs: %s", i + 2,
                  line);

        const cJSON *metric = cJSON_GetObjectItemCaseSensitive(o, "metric");
        const cJSON *folds = cJSON_GetObjectItemCaseSensitive(o, "folds");
        cr_assert(cJSON_IsArray(folds) && cJSON_GetArraySize(folds) == 3,
                  "line %d: folds is not an array of 3: %s", i + 2, line);
        const cJSON *reason = cJSON_GetObjectItemCaseSensitive(o, "reason");
        if (tr[i].status == NT_OK) {
            cr_assert_str_eq(status->valuestring, "ok", "line %d: status %s", i + 2,
                             status->valuestring);
            cr_assert(cJSON_IsNumber(metric) && metric->valuedouble == tr[i].metric,
                      "line %d: metric %s, want %g", i + 2, line, tr[i].metric);
            for (int f = 0; f < 3; f++) {
                const cJSON *x = cJSON_GetArrayItem(folds, f);
                cr_assert(cJSON_IsNumber(x) && x->valuedouble == tr[i].fold_metric[f],
                          "line %d: fold %d is not %g: %s", i + 2, f, tr[i].fold_metric[f],
                          line);
            }
            cr_assert(reason == NULL || (cJSON_IsString(reason) && !reason->valuestring[0]),
                      "line %d: an ok trial has a reason: %s", i + 2, line);
        } else {
            cr_assert_str_neq(status->valuestring, "ok", "line %d: failed trial says ok",
                              i + 2);
            cr_assert(cJSON_IsString(reason) && !strcmp(reason->valuestring, tr[i].reason),
                      "line %d: reason missing or wrong: %s", i + 2, line);
            cr_assert(cJSON_IsNull(metric), "line %d: metric of a failed trial is not null: %s",
                      i + 2, line);
        }
        // the line is exactly nt_trial_to_json's text
        char *text = nt_trial_to_json(&s, &tr[i]);
        cr_assert_str_eq(text, line, "line %d differs from nt_trial_to_json", i + 2);
        free(text);
        cJSON_Delete(o);
    }
    free_lines(lines, n);
}

Test(journal, creating_a_journal_in_a_missing_folder_is_an_io_error)
{
    char path[256];
    snprintf(path, sizeof path, "%s/nope/trials.jsonl", tmpdir);
    nt_journal j;
    nt_status rc = nt_journal_create(path, "{\"study\": {}}", &j);
    cr_assert_eq(rc, NT_ERR_IO, "status %d (%s)", rc, nt_strerror(rc));
    cr_assert(strstr(nt_last_error(), path) != NULL, "message '%s' does not name %s",
              nt_last_error(), path);
    nt_journal_close(&j);
}

/* Split one CSV line into fields (RFC 4180 quoting). Returns the count. */
static int csv_split(const char *line, char fields[][512], int max)
{
    int n = 0;
    const char *p = line;
    for (;;) {
        cr_assert(n < max, "more than %d fields in: %s", max, line);
        char *out = fields[n];
        size_t k = 0;
        if (*p == '"') {
            p++;
            for (;;) {
                cr_assert(*p, "unterminated quote in: %s", line);
                if (*p == '"' && p[1] == '"') out[k++] = '"', p += 2;
                else if (*p == '"') { p++; break; }
                else out[k++] = *p++;
            }
            cr_assert(*p == ',' || *p == '\0', "text after a closing quote in: %s", line);
        } else {
            while (*p && *p != ',') {
                cr_assert(*p != '"', "a bare quote in an unquoted field: %s", line);
                out[k++] = *p++;
            }
        }
        out[k] = '\0';
        n++;
        if (*p == '\0') return n;
        p++; // the comma
    }
}

static int column(char fields[][512], int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(fields[i], name)) return i;
    cr_assert_fail("no column %s", name);
    return -1;
}

Test(journal, trials_csv_has_fold_and_param_columns_ranks_and_quoted_reasons)
{
    nt_space s = test_space();
    const double u[4] = {0.1, 0.2, 0.3, 0.4};
    const double v[4] = {0.9, 0.8, 0.7, 0.6};
    nt_study st = {0};
    // accuracies 0.80, failed, 0.95, 0.90, failed, 0.95: ties share the
    // lowest rank and the next rank skips, as scikit-learn's cv_results_
    // (rankdata method "min"): 4 5 1 3 5 1
    const double acc[6] = {0.80, 0, 0.95, 0.90, 0, 0.95};
    const int want_rank[6] = {4, 5, 1, 3, 5, 1};
    const char *reason = "fold 2: diverged, loss is \"nan\"";
    for (int i = 0; i < 6; i++) {
        bool ok = i != 1 && i != 4;
        nt_trial t = make_trial(&s, i, i % 2 ? v : u, ok ? NT_OK : NT_ERR_NUMERIC, acc[i], 3,
                                reason);
        cr_assert_eq(nt_study_add(&st, &t), NT_OK, "%s", nt_last_error());
    }
    char path[256];
    snprintf(path, sizeof path, "%s/trials.csv", tmpdir);
    cr_assert_eq(nt_trials_csv(path, &s, &st), NT_OK, "%s", nt_last_error());

    int n;
    char **lines = read_lines(path, &n);
    cr_assert_eq(n, 7, "%d lines, want a header and 6 rows", n);
    static char head[64][512], row[64][512];
    int nh = csv_split(lines[0], head, 64);
    const char *must[] = {"trial", "status", "mean_test_score", "std_test_score",
                          "rank_test_score", "split0_test_score", "split1_test_score",
                          "split2_test_score", "mean_fit_time", "param_lr", "param_batch",
                          "param_act", "param_momentum", "reason"};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++) column(head, nh, must[i]);
    for (int i = 0; i < nh; i++)
        cr_assert(strcmp(head[i], "split3_test_score"), "a split3 column for 3 folds: %s",
                  lines[0]);
    int c_trial = column(head, nh, "trial"), c_rank = column(head, nh, "rank_test_score"),
        c_mean = column(head, nh, "mean_test_score"), c_reason = column(head, nh, "reason"),
        c_s0 = column(head, nh, "split0_test_score"), c_act = column(head, nh, "param_act"),
        c_status = column(head, nh, "status"), c_mom = column(head, nh, "param_momentum");

    for (int i = 0; i < 6; i++) {
        int nr = csv_split(lines[i + 1], row, 64);
        cr_assert_eq(nr, nh, "row %d has %d fields, header %d: %s", i, nr, nh, lines[i + 1]);
        cr_assert_eq(atoi(row[c_trial]), i, "row %d is trial %s", i, row[c_trial]);
        cr_assert_eq(atoi(row[c_rank]), want_rank[i], "trial %d (accuracy %g, %s) rank %s, want %d",
                     i, acc[i], row[c_status], row[c_rank], want_rank[i]);
        bool ok = i != 1 && i != 4;
        if (ok) {
            cr_assert(fabs(atof(row[c_mean]) - acc[i]) < 1e-9, "trial %d mean %s, want %g", i,
                      row[c_mean], acc[i]);
            cr_assert(fabs(atof(row[c_s0]) - (acc[i] - 0.01)) < 1e-9,
                      "trial %d split0 %s, want %g", i, row[c_s0], acc[i] - 0.01);
            cr_assert_str_eq(row[c_reason], "", "ok trial %d has reason '%s'", i,
                             row[c_reason]);
        } else {
            cr_assert_str_eq(row[c_reason], reason, "trial %d reason '%s', want '%s'", i,
                             row[c_reason], reason);
            cr_assert(strstr(lines[i + 1], "\"fold 2: diverged, loss is \"\"nan\"\"\"") != NULL,
                      "the reason is not quoted in: %s", lines[i + 1]);
            cr_assert_str_neq(row[c_status], "ok", "failed trial %d has status ok", i);
        }
        const char *want_act = i % 2 ? "tanh" : "relu";
        cr_assert_str_eq(row[c_act], want_act, "trial %d param_act '%s'", i, row[c_act]);
        if (i % 2)
            cr_assert_str_eq(row[c_mom], "", "trial %d: inactive momentum '%s'", i, row[c_mom]);
        else
            cr_assert(atof(row[c_mom]) >= 0.5 && atof(row[c_mom]) <= 0.99,
                      "trial %d momentum '%s'", i, row[c_mom]);
    }
    free_lines(lines, n);
    // written atomically: nothing but the CSV in the folder
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    while ((e = readdir(d)))
        cr_assert(strstr(e->d_name, ".tmp") == NULL, "left behind: %s", e->d_name);
    closedir(d);
    nt_study_free(&st);
}

Test(journal, trials_csv_of_a_plain_function_has_no_split_columns)
{
    nt_space s;
    cr_assert_eq(nt_space_parse("x1 = uniform(-5, 10)\nx2 = uniform(0, 15)\n", "t", &s),
                 NT_OK, "%s", nt_last_error());
    nt_study st = {0};
    for (int i = 0; i < 3; i++) {
        const double u[2] = {0.25 * i, 0.5};
        nt_trial t = make_trial(&s, i, u, NT_OK, 0.5 + 0.1 * i, 0, "");
        t.score = t.metric = 3.0 - i; // function values, minimized
        cr_assert_eq(nt_study_add(&st, &t), NT_OK, "%s", nt_last_error());
    }
    char path[256];
    snprintf(path, sizeof path, "%s/f.csv", tmpdir);
    cr_assert_eq(nt_trials_csv(path, &s, &st), NT_OK, "%s", nt_last_error());
    int n;
    char **lines = read_lines(path, &n);
    cr_assert_eq(n, 4, "%d lines", n);
    cr_assert(strstr(lines[0], "split0") == NULL, "split column without folds: %s", lines[0]);
    static char head[64][512], row[64][512];
    int nh = csv_split(lines[0], head, 64);
    int c_rank = column(head, nh, "rank_test_score");
    column(head, nh, "param_x1");
    column(head, nh, "param_x2");
    for (int i = 0; i < 3; i++) {
        csv_split(lines[i + 1], row, 64);
        cr_assert_eq(atoi(row[c_rank]), 3 - i, "trial %d (value %g) rank %s, want %d", i,
                     3.0 - i, row[c_rank], 3 - i);
    }
    free_lines(lines, n);
    nt_study_free(&st);
}

/* A cut-short trial: fold 1 and 3 of 3 finished, with a curve each. */
static nt_trial make_cut_trial(const nt_space *s)
{
    // 17 significant digits that a 15-digit print would round
    double u[] = {0.61628099599693809, 0.125, 0.75, 0.33333333333333331};
    nt_trial t = make_trial(s, 4, u, NT_OK, 0.9, 3, NULL);
    t.metric = t.metric_std = t.score = NAN;
    t.folds_done = 0x5u;
    t.fold_metric[1] = NAN;
    t.curves = calloc(3, sizeof *t.curves);
    for (int f = 0; f < 3; f += 2) {
        nt_curve *c = &t.curves[f];
        c->n = 2;
        c->train_loss = malloc(2 * sizeof(float));
        c->val_loss = malloc(2 * sizeof(float));
        c->val_acc = malloc(2 * sizeof(float));
        for (int e = 0; e < 2; e++) {
            c->train_loss[e] = 1.0f / (float)(e + 1 + f);
            c->val_loss[e] = e ? NAN : 0.5f;
            c->val_acc[e] = 0.25f * (float)(e + 1);
        }
    }
    return t;
}

Test(journal, cut_short_trials_round_trip_through_partial_json_exactly)
{
    nt_space s = test_space();
    nt_trial t[2] = {make_cut_trial(&s), make_cut_trial(&s)};
    // the second: a later trial of the batch, every fold finished
    t[1].trial = 6;
    t[1].folds_done = 0x7u;
    t[1].fold_metric[1] = 0.875;
    char path[128];
    snprintf(path, sizeof path, "%s/partial.json", tmpdir);
    cr_assert_eq(nt_partial_write(path, &s, t, 2), NT_OK, "%s", nt_last_error());
    nt_trial r[NT_MAX_BATCH];
    int n = -1;
    cr_assert_eq(nt_partial_read(path, &s, r, NT_MAX_BATCH, &n), NT_OK, "%s", nt_last_error());
    cr_assert_eq(n, 2, "%d trials read back, want 2", n);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(r[i].trial, t[i].trial);
        cr_assert_eq(r[i].n_folds, 3);
        cr_assert_eq(r[i].folds_done, t[i].folds_done, "trial %d: mask %#x, want %#x",
                     t[i].trial, r[i].folds_done, t[i].folds_done);
        for (int d = 0; d < s.dims; d++)
            cr_assert(r[i].u[d] == t[i].u[d], "u[%d] %.17g read back, %.17g written", d,
                      r[i].u[d], t[i].u[d]);
        for (int f = 0; f < 3; f++) {
            if (!(t[i].folds_done >> f & 1u)) continue;
            cr_assert(r[i].fold_metric[f] == t[i].fold_metric[f] &&
                          r[i].fold_epochs[f] == t[i].fold_epochs[f] &&
                          r[i].fold_ran[f] == t[i].fold_ran[f],
                      "fold %d: %.17g/%d/%d read back, %.17g/%d/%d written", f,
                      r[i].fold_metric[f], r[i].fold_epochs[f], r[i].fold_ran[f],
                      t[i].fold_metric[f], t[i].fold_epochs[f], t[i].fold_ran[f]);
        }
    }
    for (int f = 0; f < 3; f += 2) {
        cr_assert_eq(r[0].curves[f].n, 2, "fold %d curve of %d epochs", f, r[0].curves[f].n);
        cr_assert(r[0].curves[f].train_loss[1] == t[0].curves[f].train_loss[1] &&
                      isnan(r[0].curves[f].val_loss[1]) && r[0].curves[f].val_acc[0] == 0.25f,
                  "fold %d curve differs", f);
    }
    // no more than the reader has room for
    nt_trial one[1];
    cr_assert_eq(nt_partial_read(path, &s, one, 1, &n), NT_ERR_FORMAT);
    cr_assert(n == 0 && strstr(nt_last_error(), path), "%d read; '%s'", n, nt_last_error());
    for (int i = 0; i < 2; i++) {
        nt_curves_free(t[i].curves, 3);
        nt_curves_free(r[i].curves, r[i].n_folds);
    }
}

Test(journal, a_damaged_partial_json_is_a_format_error_naming_the_file)
{
    nt_space s = test_space();
    char path[128];
    snprintf(path, sizeof path, "%s/partial.json", tmpdir);
    const char *bad[] = {
        "",
        "not json\n",
        "{\"trial\":4,\"status\":\"failed\",\"u\":[0.5,0.5,0.5,0.5],\"folds\":[0.9,null,0.8]}\n",
        "{\"trial\":4,\"status\":\"failed\",\"u\":[0.5,0.5,0.5,0.5],\"folds\":[0.9,null,0.8],"
        "\"folds_done\":8}\n",
        "{\"trial\":4,\"status\":\"failed\",\"u\":[0.5,0.5,0.5,0.5],\"folds\":[0.9,null,0.8],"
        "\"folds_done\":2}\n",
        "{\"trial\":4,\"status\":\"failed\",\"u\":[0.5,0.5],\"folds\":[0.9,0.8],\"folds_done\":1}\n",
        // two trials: out of order, the same one twice, a bad second line
        "{\"trial\":5,\"status\":\"failed\",\"u\":[0.5,0.5,0.5,0.5],\"folds\":[0.9,null,0.8],"
        "\"folds_done\":1}\n"
        "{\"trial\":4,\"status\":\"failed\",\"u\":[0.5,0.5,0.5,0.5],\"folds\":[0.9,null,0.8],"
        "\"folds_done\":1}\n",
        "{\"trial\":4,\"status\":\"failed\",\"u\":[0.5,0.5,0.5,0.5],\"folds\":[0.9,null,0.8],"
        "\"folds_done\":1}\n"
        "{\"trial\":4,\"status\":\"failed\",\"u\":[0.5,0.5,0.5,0.5],\"folds\":[0.9,null,0.8],"
        "\"folds_done\":1}\n",
        "{\"trial\":4,\"status\":\"failed\",\"u\":[0.5,0.5,0.5,0.5],\"folds\":[0.9,null,0.8],"
        "\"folds_done\":1}\n"
        "\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FILE *f = fopen(path, "w");
        fputs(bad[i], f);
        fclose(f);
        nt_trial r[NT_MAX_BATCH];
        int n = -1;
        nt_clear_error();
        nt_status rc = nt_partial_read(path, &s, r, NT_MAX_BATCH, &n);
        cr_assert_eq(rc, NT_ERR_FORMAT, "case %zu: status %d (%s)", i, rc, nt_last_error());
        cr_assert(strstr(nt_last_error(), path), "case %zu: message '%s' does not name the file",
                  i, nt_last_error());
        cr_assert(n == 0 && r[0].curves == NULL && r[0].folds_done == 0,
                  "case %zu: output not zeroed", i);
    }
}
