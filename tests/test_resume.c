/* test_resume.c - a study cut short at any point (between trials, or in the
 * middle of writing a journal line) and resumed from its journal ends with
 * the journal an uninterrupted study writes: same trials, same points, same
 * scores, none twice. Also what nt_journal_read refuses (a bad line before
 * the last, an empty file, no study header) and what it forgives (a torn
 * last line, reported and cut off). */
#include <criterion/criterion.h>

#include <cjson/cJSON.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nntune/journal.h"
#include "nntune/testfn.h"

static char tmpdir[64];

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nt_resume_XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp failed");
}

static void teardown(void)
{
    const char *names[] = {"full.jsonl", "cut.jsonl", "bad.jsonl"};
    char p[256];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", tmpdir, names[i]);
        remove(p);
    }
    rmdir(tmpdir);
}

TestSuite(resume, .init = setup, .fini = teardown);

/* A study to run: strategy, test function, options, trial budget. */
typedef struct {
    const char *strategy, *fn;
    nt_strategy_options opt;
    int budget;
} study_case;

/* The test function's value; every 7th trial from the 4th on is made to
 * diverge, so failed trials are journaled and replayed too. */
static nt_status fn_objective(void *ctx, const nt_space *space, nt_trial *t)
{
    const nt_testfn *fn = ctx;
    t->metric = nt_testfn_eval(fn, space, &t->values);
    t->metric_std = 0;
    t->score = t->metric;
    t->status = NT_OK;
    if (t->trial % 7 == 3) {
        t->status = NT_ERR_NUMERIC;
        snprintf(t->reason, sizeof t->reason, "trial %d made to diverge", t->trial);
    }
    return NT_OK;
}

/* The on_trial callback: append to the journal as `nntune tune` does, and
 * count the trials that were run (not replayed). */
typedef struct {
    nt_journal j;
    const nt_space *space;
    nt_status rc;
    int calls;
    int stop_after;               /* set *stop after this many calls; 0 = never */
    volatile sig_atomic_t *stop;
} writer;

static void append_trial(const nt_trial *t, int best, void *user)
{
    writer *w = user;
    (void)best;
    w->calls++;
    if (w->rc == NT_OK) w->rc = nt_journal_append(&w->j, w->space, t);
    if (w->stop_after && w->calls >= w->stop_after) *w->stop = 1;
}

static nt_strategy *make_strategy(const study_case *c, const nt_space *s)
{
    nt_strategy *st = NULL;
    nt_status rc = nt_strategy_create(c->strategy, s, &c->opt, &st);
    cr_assert_eq(rc, NT_OK, "%s: %s", c->strategy, nt_last_error());
    return st;
}

/* Run (or continue) a study with a fresh strategy, appending to the open
 * journal in w. Returns how many trials were run. */
static int run_study(const study_case *c, const nt_space *s, int budget, writer *w,
                     nt_study *study)
{
    nt_strategy *st = make_strategy(c, s);
    volatile sig_atomic_t stop = 0;
    w->space = s;
    w->stop = &stop;
    w->calls = 0;
    nt_tuner_config cfg = {.trials = budget, .stop = &stop, .on_trial = append_trial,
                           .user = w};
    nt_status rc = nt_tune(s, st, fn_objective, (void *)nt_testfn_find(c->fn), &cfg, study);
    cr_assert_eq(rc, NT_OK, "%s: nt_tune: %s", c->strategy, nt_last_error());
    cr_assert_eq(w->rc, NT_OK, "%s: journal: %s", c->strategy, nt_last_error());
    nt_journal_close(&w->j);
    nt_strategy_free(st);
    return w->calls;
}

static char *path_of(char *buf, const char *name)
{
    snprintf(buf, 256, "%s/%s", tmpdir, name);
    return buf;
}

static char *header_of(const study_case *c)
{
    static char h[256];
    snprintf(h, sizeof h, "{\"study\":{\"strategy\":\"%s\",\"objective\":\"%s\"}}", c->strategy,
             c->fn);
    return h;
}

/* A file's bytes, NUL-terminated; *len is its length. */
static char *slurp(const char *path, long *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    *len = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)*len + 1);
    cr_assert_eq(fread(buf, 1, (size_t)*len, f), (size_t)*len, "short read of %s", path);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static void spit(const char *path, const char *data, long len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot write %s", path);
    cr_assert_eq(fwrite(data, 1, (size_t)len, f), (size_t)len, "short write of %s", path);
    fclose(f);
}

/* A journal as lines: start[i] is the byte offset of line i (0 = header),
 * start[n] the file length. */
typedef struct {
    char *text;
    long len;
    int n;
    long start[512];
} lines_t;

static lines_t read_lines(const char *path)
{
    lines_t L = {0};
    L.text = slurp(path, &L.len);
    for (long i = 0; i < L.len; i++)
        if (i == 0 || L.text[i - 1] == '\n') {
            cr_assert_lt(L.n, 511, "too many lines in %s", path);
            L.start[L.n++] = i;
        }
    L.start[L.n] = L.len;
    cr_assert(L.len > 0 && L.text[L.len - 1] == '\n', "%s does not end in a newline", path);
    return L;
}

/* Line i without its newline, malloc'd. */
static char *line_at(const lines_t *L, int i)
{
    long n = L->start[i + 1] - L->start[i] - 1;
    char *s = malloc((size_t)n + 1);
    memcpy(s, L->text + L->start[i], (size_t)n);
    s[n] = '\0';
    return s;
}

/* A trial line without its timing fields ("seconds", "finished"), printed
 * back by cJSON (which prints as many digits as a double needs), so two
 * lines compare equal exactly when everything else - trial, status,
 * params, metric, score, folds, u, why - is the same. */
static char *canonical(const char *line, const char *what)
{
    cJSON *o = cJSON_Parse(line);
    cr_assert(cJSON_IsObject(o), "%s is not a JSON object: %s", what, line);
    cr_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, "seconds")) &&
                  cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, "finished")),
              "%s has no seconds/finished: %s", what, line);
    cJSON_DeleteItemFromObjectCaseSensitive(o, "seconds");
    cJSON_DeleteItemFromObjectCaseSensitive(o, "finished");
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

/* The resumed journal must be the uninterrupted one, line for line. */
static void check_same_journal(const char *full_path, const char *path, const char *what)
{
    lines_t A = read_lines(full_path), B = read_lines(path);
    cr_assert_eq(B.n, A.n, "%s: %d lines resumed, %d uninterrupted", what, B.n, A.n);
    char *ha = line_at(&A, 0), *hb = line_at(&B, 0);
    cr_assert_str_eq(hb, ha, "%s: the header changed", what);
    free(ha);
    free(hb);
    for (int i = 1; i < A.n; i++) {
        char *la = line_at(&A, i), *lb = line_at(&B, i);
        char *ca = canonical(la, "uninterrupted line"), *cb = canonical(lb, "resumed line");
        cr_assert_str_eq(cb, ca, "%s: line %d differs\n resumed:       %s\n uninterrupted: %s",
                         what, i + 1, cb, ca);
        // no trial twice, none skipped: line i holds trial i - 1
        cJSON *o = cJSON_Parse(lb);
        const cJSON *trial = cJSON_GetObjectItemCaseSensitive(o, "trial");
        cr_assert(cJSON_IsNumber(trial) && trial->valueint == i - 1,
                  "%s: line %d holds trial %d, want %d", what, i + 1,
                  trial ? trial->valueint : -1, i - 1);
        cJSON_Delete(o);
        free(ca);
        free(cb);
        free(la);
        free(lb);
    }
    free(A.text);
    free(B.text);
}

static bool same_score(double a, double b)
{
    return a == b || (isnan(a) && isnan(b));
}

/* The uninterrupted study: its journal at tmpdir/full.jsonl. */
static void run_full(const study_case *c, const nt_space *s, nt_study *full)
{
    char path[256];
    writer w = {0};
    cr_assert_eq(nt_journal_create(path_of(path, "full.jsonl"), header_of(c), &w.j), NT_OK,
                 "%s", nt_last_error());
    run_study(c, s, c->budget, &w, full);
    cr_assert_gt(full->n, 8, "%s: only %d trials", c->strategy, full->n);
    cr_assert_gt(full->failures, 0, "%s: no failed trial to replay", c->strategy);
}

/* Cut tmpdir/cut.jsonl from the full journal: the header, k whole trial
 * lines, then `partial` bytes of trial k's line (0 = none). */
static void cut_journal(const lines_t *F, int k, long partial)
{
    char path[256];
    spit(path_of(path, "cut.jsonl"), F->text, F->start[k + 1] + partial);
}

/* Read the cut journal back, check what was kept, then resume it to the
 * budget; returns the trials run. The study is freed. */
static int resume_cut(const study_case *c, const nt_space *s, const nt_study *full, int k,
                      bool torn, int budget, const char *what)
{
    char path[256];
    path_of(path, "cut.jsonl");
    // where the k-th trial line ends: what good_bytes must say
    long cut_len, want_good = 0;
    char *cut = slurp(path, &cut_len);
    for (int nl = 0; want_good < cut_len && nl < k + 1; want_good++) nl += cut[want_good] == '\n';
    free(cut);
    nt_study study = {0};
    char *header = NULL;
    int dropped = -1;
    long good = -1;
    nt_status rc = nt_journal_read(path, s, &header, &study, &dropped, &good);
    cr_assert_eq(rc, NT_OK, "%s: reading it back: %s", what, nt_last_error());
    cr_assert_eq(study.n, k, "%s: %d trials read back, want %d", what, study.n, k);
    cr_assert_eq(dropped, torn ? 1 : 0, "%s: dropped %d, want %d", what, dropped, torn);
    cr_assert_eq(good, want_good, "%s: good_bytes %ld, want %ld (header + %d lines)", what,
                 good, want_good, k);
    cr_assert_not_null(header, "%s: no header", what);
    cJSON *h = cJSON_Parse(header);
    cJSON *want = cJSON_Parse(header_of(c));
    cr_assert(cJSON_Compare(h, want, true), "%s: header %s, want %s", what, header,
              header_of(c));
    cJSON_Delete(h);
    cJSON_Delete(want);
    free(header);
    for (int i = 0; i < k; i++) {
        const nt_trial *a = &full->trial[i], *b = &study.trial[i];
        cr_assert_eq(b->trial, i, "%s: read-back trial %d is numbered %d", what, i, b->trial);
        for (int d = 0; d < s->dims; d++)
            cr_assert(a->u[d] == b->u[d], "%s: trial %d u[%d] read back %.17g, ran %.17g", what,
                      i, d, b->u[d], a->u[d]);
        cr_assert(a->status == b->status && same_score(a->score, b->score),
                  "%s: trial %d status %d score %.17g read back, %d %.17g ran", what, i,
                  b->status, b->score, a->status, a->score);
    }

    writer w = {0};
    cr_assert_eq(nt_journal_append_open(path, good, &w.j), NT_OK, "%s: %s", what,
                 nt_last_error());
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0, "%s: stat", what);
    cr_assert_eq((long)sb.st_size, good, "%s: the journal is %ld bytes after append_open, "
                 "want %ld (the torn line cut off)", what, (long)sb.st_size, good);
    int ran = run_study(c, s, budget, &w, &study);
    if (budget == c->budget) {
        cr_assert_eq(study.n, full->n, "%s: %d trials, want %d", what, study.n, full->n);
        cr_assert_eq(study.best, full->best, "%s: best %d, uninterrupted %d", what, study.best,
                     full->best);
        cr_assert_eq(study.failures, full->failures, "%s: %d failures, uninterrupted %d", what,
                     study.failures, full->failures);
        cr_assert_str_eq(study.ended, full->ended, "%s: ended '%s', uninterrupted '%s'", what,
                         study.ended, full->ended);
    }
    nt_study_free(&study);
    return ran;
}

/* Cut the journal at many points - between lines, and inside a line as a
 * process killed mid-write leaves it - and resume each. */
static void check_cuts(const study_case *c)
{
    const nt_testfn *fn = nt_testfn_find(c->fn);
    cr_assert_not_null(fn, "no test function %s", c->fn);
    nt_space s;
    nt_testfn_space(fn, &s);
    nt_study full = {0};
    run_full(c, &s, &full);
    int N = full.n;
    char fp[256], cp[256];
    lines_t F = read_lines(path_of(fp, "full.jsonl"));
    cr_assert_eq(F.n, N + 1, "%s: %d lines for %d trials", c->strategy, F.n, N);

    const int whole[] = {0, 1, N / 3, N / 2, N - 1, N};
    for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++) {
        int k = whole[i];
        char what[128];
        snprintf(what, sizeof what, "%s cut after %d of %d trials", c->strategy, k, N);
        cut_journal(&F, k, 0);
        int ran = resume_cut(c, &s, &full, k, false, c->budget, what);
        cr_assert_eq(ran, N - k, "%s: %d trials run on resume, want %d", what, ran, N - k);
        check_same_journal(fp, path_of(cp, "cut.jsonl"), what);
    }
    const int torn[] = {0, N / 2, N - 1};
    for (size_t i = 0; i < sizeof torn / sizeof torn[0]; i++) {
        int k = torn[i];
        long len = F.start[k + 2] - F.start[k + 1];
        // one byte, half the line, everything but the newline
        const long partial[] = {1, len / 2, len - 1};
        for (size_t p = 0; p < 3; p++) {
            char what[160];
            snprintf(what, sizeof what, "%s cut %ld bytes into trial %d's line (of %ld)",
                     c->strategy, partial[p], k, len);
            cut_journal(&F, k, partial[p]);
            int ran = resume_cut(c, &s, &full, k, true, c->budget, what);
            cr_assert_eq(ran, N - k, "%s: %d trials run on resume, want %d", what, ran, N - k);
            check_same_journal(fp, cp, what);
        }
    }
    free(F.text);
    nt_study_free(&full);
}

static const study_case GRID = {"grid", "branin", {.grid_points = 5, .seed = 7}, 40};
static const study_case RANDOM = {"random", "hartmann6", {.seed = 7}, 24};
static const study_case BAYES = {"bayes", "hartmann6", {.initial_points = 6, .seed = 7}, 18};

Test(resume, a_grid_study_cut_anywhere_resumes_to_the_uninterrupted_journal)
{
    check_cuts(&GRID);
}

Test(resume, a_random_study_cut_anywhere_resumes_to_the_uninterrupted_journal)
{
    check_cuts(&RANDOM);
}

Test(resume, a_bayes_study_cut_anywhere_resumes_to_the_uninterrupted_journal)
{
    check_cuts(&BAYES);
}

/* Cut, resume part of the way, get cut again mid-line (or stopped), resume
 * to the end: still the uninterrupted journal. */
static void check_twice(const study_case *c, bool stop_flag)
{
    const nt_testfn *fn = nt_testfn_find(c->fn);
    nt_space s;
    nt_testfn_space(fn, &s);
    nt_study full = {0};
    run_full(c, &s, &full);
    int N = full.n, k1 = N / 4, k2 = N / 2 + 1;
    char fp[256], cp[256];
    lines_t F = read_lines(path_of(fp, "full.jsonl"));
    path_of(cp, "cut.jsonl");
    long len = F.start[k1 + 2] - F.start[k1 + 1];
    cut_journal(&F, k1, len / 3);
    free(F.text);
    char what[160];
    if (stop_flag) {
        // a stop request (Ctrl-C) after a few trials instead of a budget
        nt_study study = {0};
        char *header = NULL;
        int dropped;
        long good;
        cr_assert_eq(nt_journal_read(cp, &s, &header, &study, &dropped,
                                     &good), NT_OK, "%s", nt_last_error());
        free(header);
        writer w = {.stop_after = k2 - k1};
        cr_assert_eq(nt_journal_append_open(cp, good, &w.j), NT_OK, "%s", nt_last_error());
        int ran = run_study(c, &s, c->budget, &w, &study);
        cr_assert_eq(ran, k2 - k1, "%s: %d trials before the stop, want %d", c->strategy, ran,
                     k2 - k1);
        cr_assert_str_eq(study.ended, "stopped", "ended '%s'", study.ended);
        nt_study_free(&study);
    } else {
        snprintf(what, sizeof what, "%s first resume (from %d to %d)", c->strategy, k1, k2);
        int ran = resume_cut(c, &s, &full, k1, true, k2, what);
        cr_assert_eq(ran, k2 - k1, "%s: ran %d, want %d", what, ran, k2 - k1);
    }
    // the journal now holds k2 trials; cut it again inside the last one
    lines_t P = read_lines(cp);
    cr_assert_eq(P.n, k2 + 1, "%s: %d lines after the first resume, want %d", c->strategy, P.n,
                 k2 + 1);
    spit(cp, P.text, P.start[k2] + (P.start[k2 + 1] - P.start[k2]) / 2);
    free(P.text);
    snprintf(what, sizeof what, "%s second resume (from %d)", c->strategy, k2 - 1);
    int ran = resume_cut(c, &s, &full, k2 - 1, true, c->budget, what);
    cr_assert_eq(ran, N - (k2 - 1), "%s: ran %d, want %d", what, ran, N - (k2 - 1));
    check_same_journal(fp, cp, what);
    nt_study_free(&full);
}

Test(resume, resuming_twice_in_a_row_gives_the_uninterrupted_journal)
{
    check_twice(&GRID, false);
    check_twice(&RANDOM, false);
    check_twice(&BAYES, false);
}

Test(resume, a_study_stopped_on_request_then_cut_resumes_to_the_uninterrupted_journal)
{
    check_twice(&RANDOM, true);
    check_twice(&BAYES, true);
}

/* nt_journal_read on a damaged copy of a real journal. */
static nt_status read_bad(const char *text, long len, nt_study *study, int *dropped)
{
    char path[256];
    spit(path_of(path, "bad.jsonl"), text, len);
    const nt_testfn *fn = nt_testfn_find(RANDOM.fn);
    nt_space s;
    nt_testfn_space(fn, &s);
    char *header = (char *)"untouched";
    long good = -1;
    nt_status rc = nt_journal_read(path, &s, &header, study, dropped, &good);
    if (rc != NT_OK) cr_assert_null(header, "a refused journal still returned a header");
    free(header);
    return rc;
}

static void full_random_journal(lines_t *F)
{
    const nt_testfn *fn = nt_testfn_find(RANDOM.fn);
    nt_space s;
    nt_testfn_space(fn, &s);
    nt_study full = {0};
    run_full(&RANDOM, &s, &full);
    nt_study_free(&full);
    char fp[256];
    *F = read_lines(path_of(fp, "full.jsonl"));
}

Test(resume, a_bad_line_before_the_last_is_refused_naming_the_line)
{
    lines_t F;
    full_random_journal(&F);
    const char *bad[] = {
        "{\"trial\": 5, oops}",                      // not JSON
        "{\"trial\":5,\"status\":\"ok\",\"score\":1,\"u\":[0.5]}", // wrong dimensions
        "",                                          // an empty line
    };
    // trial 5's line is file line 7; a torn fragment followed by more lines
    // (what appending without cutting the torn line first would leave) too
    for (size_t b = 0; b <= sizeof bad / sizeof bad[0]; b++) {
        char *text = malloc((size_t)F.len + 256);
        long n = F.start[6];
        memcpy(text, F.text, (size_t)n);
        if (b < sizeof bad / sizeof bad[0]) {
            n += sprintf(text + n, "%s\n", bad[b]);
        } else {
            long half = (F.start[7] - F.start[6]) / 2;
            memcpy(text + n, F.text + F.start[6], (size_t)half);
            n += half;
            text[n++] = '\n';
        }
        memcpy(text + n, F.text + F.start[7], (size_t)(F.len - F.start[7]));
        n += F.len - F.start[7];
        nt_study study = {0};
        int dropped = -1;
        nt_status rc = read_bad(text, n, &study, &dropped);
        cr_assert_eq(rc, NT_ERR_FORMAT, "bad line %zu: status %d (%s), want a format error", b,
                     rc, nt_strerror(rc));
        char want[280];
        snprintf(want, sizeof want, "%s/bad.jsonl:7:", tmpdir);
        cr_assert(strstr(nt_last_error(), want) != NULL,
                  "bad line %zu: message '%s' does not name %s", b, nt_last_error(), want);
        nt_study_free(&study);
        free(text);
    }
    free(F.text);
}

Test(resume, a_bad_last_line_is_dropped_and_reported)
{
    lines_t F;
    full_random_journal(&F);
    int N = F.n - 1;
    // a complete last line that does not parse, and one of NUL bytes (a
    // file system that crashed before the data reached the disk)
    const char tails[2][8] = {"{oops\n", {0, 0, 0, 0, 0, 0, 0, 0}};
    const long tail_len[2] = {6, 8};
    for (int t = 0; t < 2; t++) {
        char *text = malloc((size_t)F.len + 16);
        memcpy(text, F.text, (size_t)F.len);
        memcpy(text + F.len, tails[t], (size_t)tail_len[t]);
        nt_study study = {0};
        int dropped = -1;
        nt_status rc = read_bad(text, F.len + tail_len[t], &study, &dropped);
        cr_assert_eq(rc, NT_OK, "tail %d: %s", t, nt_last_error());
        cr_assert_eq(dropped, 1, "tail %d: dropped %d", t, dropped);
        cr_assert_eq(study.n, N, "tail %d: %d trials, want %d", t, study.n, N);
        nt_study_free(&study);
        free(text);
    }
    free(F.text);
}

Test(resume, an_empty_file_or_one_without_a_study_header_is_refused)
{
    lines_t F;
    full_random_journal(&F);
    nt_study study = {0};
    int dropped;
    nt_status rc = read_bad("", 0, &study, &dropped);
    cr_assert_eq(rc, NT_ERR_FORMAT, "empty file: status %d (%s)", rc, nt_strerror(rc));
    cr_assert(strstr(nt_last_error(), "bad.jsonl") != NULL, "message '%s' names no file",
              nt_last_error());
    cr_assert_eq(study.n, 0, "%d trials from an empty file", study.n);
    // trial lines without the header line
    rc = read_bad(F.text + F.start[1], F.len - F.start[1], &study, &dropped);
    cr_assert_eq(rc, NT_ERR_FORMAT, "no header: status %d (%s)", rc, nt_strerror(rc));
    cr_assert(strstr(nt_last_error(), "bad.jsonl:1:") != NULL,
              "message '%s' does not name line 1", nt_last_error());
    // a header that is not a study
    rc = read_bad("{\"trial\":0}\n", 12, &study, &dropped);
    cr_assert_eq(rc, NT_ERR_FORMAT, "non-study header: status %d (%s)", rc, nt_strerror(rc));
    nt_study_free(&study);
    // the header alone is a study with no trials yet
    study = (nt_study){0};
    rc = read_bad(F.text, F.start[1], &study, &dropped);
    cr_assert_eq(rc, NT_OK, "header only: %s", nt_last_error());
    cr_assert_eq(study.n, 0, "header only: %d trials", study.n);
    cr_assert_eq(dropped, 0, "header only: dropped %d", dropped);
    nt_study_free(&study);
    free(F.text);
}
