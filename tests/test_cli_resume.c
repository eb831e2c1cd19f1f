/* test_cli_resume.c - `nntune tune --resume` end to end with the built
 * ./nntune: a resume with other settings is refused naming the setting; a
 * study is never overwritten by accident; a resumed study with a larger
 * budget is a fresh study of that size; and a network study killed with
 * SIGKILL (between trials, in the middle of one, at a random moment, during
 * the refit) and resumed ends with the trials, fold scores and best trial
 * of an uninterrupted run. Skipped when ./nntune has not been built. */
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include "helpers.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nntune/idx.h"
#include "nntune/rng.h"

static char tmpdir[64];

static void setup(void)
{
    scratch_make(tmpdir, "/tmp/nt_test_cli_resume_XXXXXX");
}

static void teardown(void)
{
    scratch_remove(tmpdir);
}

TestSuite(cli_resume, .init = setup, .fini = teardown);

static void need_binary(void)
{
    need_nntune(teardown);
}

static char *at(char *buf, const char *name)
{
    return scratch_at(buf, tmpdir, name);
}

/* slurp, and *len the text's length when len is not NULL (journals and
 * outputs are text: no NUL bytes). */
static char *slurp_len(const char *path, long *len)
{
    char *text = slurp(path);
    if (len) *len = text ? (long)strlen(text) : 0;
    return text;
}

/* An argument list for ./nntune. */
typedef struct {
    const char *v[64];
    int n;
} args_t;

static void add(args_t *a, ...)
{
    va_list ap;
    va_start(ap, a);
    for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *)) {
        cr_assert_lt(a->n, 62, "too many arguments");
        a->v[a->n++] = s;
    }
    va_end(ap);
}

static void drop(args_t *a, const char *s)
{
    for (int i = 0; i < a->n; i++)
        if (!strcmp(a->v[i], s)) {
            memmove(&a->v[i], &a->v[i + 1], (size_t)(a->n - i - 1) * sizeof a->v[0]);
            a->n--;
            return;
        }
    cr_assert_fail("no argument %s to drop", s);
}

/* Start ./nntune with the arguments, stdout and stderr going to
 * tmpdir/run.stdout and tmpdir/run.stderr. */
static pid_t spawn(const args_t *a)
{
    return nntune_spawn(tmpdir, a->v, a->n);
}

static run_result finish(pid_t pid)
{
    return nntune_finish(tmpdir, pid);
}

static run_result run(const args_t *a)
{
    return finish(spawn(a));
}

/* Complete lines in a file (0 if it does not exist). */
static int count_lines(const char *path)
{
    char *text = slurp(path);
    if (!text) return 0;
    int n = 0;
    for (const char *c = text; *c; c++) n += *c == '\n';
    free(text);
    return n;
}

/* ------------------------------------------------------------------------
 * comparing studies */

/* One JSON line without the keys named (NULL-terminated), printed back by
 * cJSON with as many digits as each double needs: equal texts mean equal
 * values. */
static char *canonical(const char *line, const char *const *drop, const char *what)
{
    cJSON *o = cJSON_Parse(line);
    cr_assert(cJSON_IsObject(o), "%s is not a JSON object: %s", what, line);
    cJSON *inner = cJSON_GetObjectItemCaseSensitive(o, "study");
    cJSON *from = cJSON_IsObject(inner) ? inner : o;
    for (int i = 0; drop[i]; i++) cJSON_DeleteItemFromObjectCaseSensitive(from, drop[i]);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

/* The trial lines of two journals are the same but for their timing; the
 * headers are the same but for when they were made and the budget. */
static void same_journal(const char *ref_dir, const char *dir, const char *what)
{
    static const char *const header_drop[] = {"created", "trials", NULL};
    static const char *const trial_drop[] = {"seconds", "finished", NULL};
    char pa[300], pb[300];
    snprintf(pa, sizeof pa, "%s/trials.jsonl", ref_dir);
    snprintf(pb, sizeof pb, "%s/trials.jsonl", dir);
    char *ta = slurp(pa), *tb = slurp(pb);
    cr_assert(ta && tb, "%s: cannot read %s or %s", what, pa, pb);
    char *sa = ta, *sb = tb;
    int line = 0;
    for (;;) {
        char *ea = strchr(sa, '\n'), *eb = strchr(sb, '\n');
        cr_assert((ea == NULL) == (eb == NULL), "%s: %s has %s lines than %s", what, pb,
                  eb ? "more" : "fewer", pa);
        if (!ea) break;
        *ea = *eb = '\0';
        line++;
        const char *const *drop = line == 1 ? header_drop : trial_drop;
        char *ca = canonical(sa, drop, "uninterrupted line"), *cb = canonical(sb, drop, "line");
        cr_assert_str_eq(cb, ca, "%s: line %d differs\n resumed:       %s\n uninterrupted: %s",
                         what, line, cb, ca);
        if (line > 1) {
            cJSON *o = cJSON_Parse(sb);
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "trial");
            cr_assert(cJSON_IsNumber(t) && t->valueint == line - 2,
                      "%s: line %d holds trial %d, want %d (none twice, none skipped)", what,
                      line, t ? t->valueint : -1, line - 2);
            cJSON_Delete(o);
        }
        free(ca);
        free(cb);
        sa = ea + 1;
        sb = eb + 1;
    }
    cr_assert(!*sa && !*sb, "%s: a line without a newline at the end", what);
    free(ta);
    free(tb);
}

static cJSON *read_json(const char *dir, const char *name, const char *what)
{
    char p[300];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    char *text = slurp(p);
    cr_assert_not_null(text, "%s: no %s", what, p);
    cJSON *o = cJSON_Parse(text);
    cr_assert_not_null(o, "%s: %s is not JSON", what, p);
    free(text);
    return o;
}

/* best.json names the same best trial, with the same params and scores;
 * with a network, the refit model tests the same. */
static void same_best(const char *ref_dir, const char *dir, bool network, const char *what)
{
    cJSON *a = read_json(ref_dir, "best.json", what), *b = read_json(dir, "best.json", what);
    const char *keys[] = {"best", "trials", "failed", "test_accuracy", "test_loss"};
    int n = network ? 5 : 3;
    for (int i = 0; i < n; i++) {
        const cJSON *va = cJSON_GetObjectItemCaseSensitive(a, keys[i]);
        const cJSON *vb = cJSON_GetObjectItemCaseSensitive(b, keys[i]);
        cr_assert_not_null(va, "%s: uninterrupted best.json has no %s", what, keys[i]);
        char *ta = cJSON_PrintUnformatted(va);
        char *tb = vb ? cJSON_PrintUnformatted(vb) : strdup("(none)");
        cr_assert_str_eq(tb, ta, "%s: best.json %s is %s, uninterrupted %s", what, keys[i], tb,
                         ta);
        free(ta);
        free(tb);
    }
    cJSON_Delete(a);
    cJSON_Delete(b);
}

/* ------------------------------------------------------------------------
 * (a) settings and budgets, on a test function (fast) */

/* A study on a test function in tmpdir/name. */
static args_t fn_study(const char *fn, const char *strategy, const char *trials,
                       const char *name, char *dir)
{
    args_t a = {0};
    add(&a, "--objective", fn, "--strategy", strategy, "--out", at(dir, name), "--quiet",
        NULL);
    if (trials) add(&a, "--trials", trials, NULL);
    return a;
}

Test(cli_resume, a_resume_with_other_settings_is_refused_naming_the_setting)
{
    need_binary();
    char dir[256], journal[300];
    args_t a = fn_study("branin", "random", "6", "run", dir);
    run_result r = run(&a);
    cr_assert_eq(r.code, 0, "the study exited %d: %s", r.code, r.err);
    run_free(&r);
    snprintf(journal, sizeof journal, "%s/trials.jsonl", dir);
    long len0;
    char *before = slurp_len(journal, &len0);
    cr_assert_not_null(before, "no %s", journal);

    struct {
        const char *opt, *val, *fn, *names;
    } cases[] = {
        {"--strategy", "bayes", "branin", "strategy"},
        {"--seed", "2", "branin", "seed"},
        {NULL, NULL, "hartmann6", "objective"},
        {"--grid-points", "4", "branin", "grid_points"},
        {"--initial-points", "3", "branin", "initial_points"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        args_t b = fn_study(cases[i].fn, "random", "10", "run", dir);
        if (cases[i].opt) add(&b, cases[i].opt, cases[i].val, NULL);
        add(&b, "--resume", NULL);
        r = run(&b);
        cr_assert_eq(r.code, 2, "--resume with another %s exited %d, want 2: %s",
                     cases[i].names, r.code, r.err);
        cr_assert(strstr(r.err, cases[i].names) && strstr(r.err, "--resume"),
                  "the message does not name '%s': %s", cases[i].names, r.err);
        run_free(&r);
        long len;
        char *after = slurp_len(journal, &len);
        cr_assert(after && len == len0 && !memcmp(after, before, (size_t)len),
                  "a refused resume (%s) changed the journal: %ld bytes, were %ld",
                  cases[i].names, len, len0);
        free(after);
    }
    free(before);
    // the same settings (and a larger budget) are accepted
    args_t c = fn_study("branin", "random", "10", "run", dir);
    add(&c, "--resume", NULL);
    r = run(&c);
    cr_assert_eq(r.code, 0, "a resume with the same settings exited %d: %s", r.code, r.err);
    run_free(&r);
    cr_assert_eq(count_lines(journal), 11, "%d lines after resuming to 10 trials",
                 count_lines(journal));
}

/* Make dir's journal look as if written before --bayes-batch existed: its
 * header without "bayes_batch":1. */
static void drop_bayes_batch(const char *dir)
{
    char path[300];
    snprintf(path, sizeof path, "%s/trials.jsonl", dir);
    long len;
    char *text = slurp_len(path, &len);
    const char *pat = ",\"bayes_batch\":1";
    char *key = text ? strstr(text, pat) : NULL;
    cr_assert_not_null(key, "no bayes_batch 1 in %s", path);
    size_t cut = strlen(pat);
    memmove(key, key + cut, (size_t)len - (size_t)(key - text) - cut + 1);
    FILE *f = fopen(path, "w");
    cr_assert(f && fputs(text, f) >= 0 && fclose(f) == 0, "cannot rewrite %s", path);
    free(text);
}

/* A bayes study on Branin in tmpdir/name (into dir): `trials` trials,
 * --bayes-batch `batch` unless NULL, --resume if asked; it must succeed. */
static void branin_bayes(const char *name, char *dir, const char *trials, const char *batch,
                         bool resume, const char *what)
{
    args_t a = fn_study("branin", "bayes", trials, name, dir);
    if (batch) add(&a, "--bayes-batch", batch, NULL);
    if (resume) add(&a, "--resume", NULL);
    run_result r = run(&a);
    cr_assert_eq(r.code, 0, "%s exited %d: %s", what, r.code, r.err);
    run_free(&r);
}

Test(cli_resume, a_bayes_study_resumes_with_its_recorded_batch_and_refuses_another)
{
    need_binary();
    char dir[256], journal[300];
    // impossible batches, and a batch for a strategy without one
    const char *bad[][2] = {{"bayes", "0"}, {"bayes", "17"}, {"bayes", "two"}, {"random", "2"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        args_t x = fn_study("branin", bad[i][0], "8", "bad", dir);
        add(&x, "--bayes-batch", bad[i][1], NULL);
        run_result rx = run(&x);
        cr_assert_eq(rx.code, 2, "--strategy %s --bayes-batch %s exited %d, want 2", bad[i][0],
                     bad[i][1], rx.code);
        cr_assert(strstr(rx.err, "--bayes-batch") && !strchr(strchr(rx.err, '\n') ?
                  strchr(rx.err, '\n') + 1 : "", '\n'),
                  "not one line naming --bayes-batch: %s", rx.err);
        run_free(&rx);
        cr_assert(access(dir, F_OK) != 0, "a refused run made %s", dir);
    }

    branin_bayes("run", dir, "8", "2", false, "the study");
    snprintf(journal, sizeof journal, "%s/trials.jsonl", dir);
    char *text = slurp_len(journal, &(long){0});
    cr_assert(text && strstr(text, "\"bayes_batch\":2"), "header without bayes_batch 2");
    free(text);
    // another batch is another study
    args_t b = fn_study("branin", "bayes", "10", "run", dir);
    add(&b, "--bayes-batch", "3", "--resume", NULL);
    run_result r = run(&b);
    cr_assert_eq(r.code, 2, "--resume with another --bayes-batch exited %d: %s", r.code, r.err);
    cr_assert(strstr(r.err, "bayes_batch"), "the message does not name bayes_batch: %s", r.err);
    run_free(&r);
    // without the option, the recorded batch: as a fresh study of 10 trials
    char fresh[256];
    branin_bayes("run", dir, "10", NULL, true, "a resume");
    branin_bayes("fresh", fresh, "10", "2", false, "the fresh study");
    same_journal(fresh, dir, "resumed with the recorded --bayes-batch 2");

    // a journal from before --bayes-batch (no key) resumes one trial at a
    // time: as a fresh batch-1 study (its header stripped the same way)
    char old[256], fresh1[256];
    branin_bayes("old", old, "8", "1", false, "the batch-1 study");
    drop_bayes_batch(old);
    branin_bayes("old", old, "10", NULL, true, "an older journal's resume");
    branin_bayes("fresh1", fresh1, "10", "1", false, "the fresh batch-1 study");
    drop_bayes_batch(fresh1);
    same_journal(fresh1, old, "an older journal resumed");
    // and that is not the batch-2 study
    cJSON *b1 = read_json(old, "best.json", "batch 1"), *b2 = read_json(fresh, "best.json", "batch 2");
    char *t1 = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(b1, "best"));
    char *t2 = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(b2, "best"));
    cr_assert(t1 && t2 && strcmp(t1, t2), "batch 1 and 2 found the same best %s", t1);
    free(t1);
    free(t2);
    cJSON_Delete(b1);
    cJSON_Delete(b2);
}

Test(cli_resume, a_resume_without_a_study_is_refused)
{
    need_binary();
    char dir[256], journal[300];
    // a folder that does not exist, and one that exists without a journal
    for (int i = 0; i < 2; i++) {
        args_t a = fn_study("branin", "random", "5", i ? "empty" : "missing", dir);
        if (i) cr_assert_eq(mkdir(dir, 0755), 0, "mkdir %s", dir);
        add(&a, "--resume", NULL);
        run_result r = run(&a);
        cr_assert_eq(r.code, 2, "--resume in %s exited %d, want 2: %s", dir, r.code, r.err);
        cr_assert(strstr(r.err, "no study") && strstr(r.err, dir),
                  "the message does not say there is no study in %s: %s", dir, r.err);
        run_free(&r);
        snprintf(journal, sizeof journal, "%s/trials.jsonl", dir);
        cr_assert(!file_exists(journal), "a refused resume created %s", journal);
    }
}

Test(cli_resume, running_again_without_resume_is_refused_and_leaves_the_journal_alone)
{
    need_binary();
    char dir[256], journal[300];
    args_t a = fn_study("hartmann6", "bayes", "8", "run", dir);
    run_result r = run(&a);
    cr_assert_eq(r.code, 0, "the study exited %d: %s", r.code, r.err);
    run_free(&r);
    snprintf(journal, sizeof journal, "%s/trials.jsonl", dir);
    long len0, len;
    char *before = slurp_len(journal, &len0);
    cr_assert_not_null(before, "no %s", journal);
    // the same command, and one with other settings
    for (int i = 0; i < 2; i++) {
        args_t b = fn_study("hartmann6", i ? "random" : "bayes", "8", "run", dir);
        r = run(&b);
        cr_assert_eq(r.code, 2, "a second run exited %d, want 2: %s", r.code, r.err);
        cr_assert(strstr(r.err, "--resume") && strstr(r.err, "--overwrite"),
                  "the message does not offer --resume and --overwrite: %s", r.err);
        run_free(&r);
        char *after = slurp_len(journal, &len);
        cr_assert(after && len == len0 && !memcmp(after, before, (size_t)len),
                  "a refused run changed the journal: %ld bytes, were %ld", len, len0);
        free(after);
    }
    free(before);
}

/* A study of `small` trials resumed with `big` (NULL: the default budget)
 * equals a fresh study of `big`. */
static void check_extend(const char *fn, const char *strategy, const char *extra_opt,
                         const char *extra_val, const char *small, const char *big)
{
    char ext[256], fresh[256], what[128];
    snprintf(what, sizeof what, "%s on %s, %s then %s trials", strategy, fn, small,
             big ? big : "all");
    args_t a = fn_study(fn, strategy, small, strategy, ext);
    if (extra_opt) add(&a, extra_opt, extra_val, NULL);
    run_result r = run(&a);
    cr_assert_eq(r.code, 0, "%s: the first run exited %d: %s", what, r.code, r.err);
    run_free(&r);
    a = fn_study(fn, strategy, big, strategy, ext);
    if (extra_opt) add(&a, extra_opt, extra_val, NULL);
    drop(&a, "--quiet"); // the resume says what it kept
    add(&a, "--resume", NULL);
    r = run(&a);
    cr_assert_eq(r.code, 0, "%s: the resume exited %d: %s", what, r.code, r.err);
    char want[64];
    snprintf(want, sizeof want, "%s finished trials kept", small);
    cr_assert(strstr(r.out, want), "%s: the resume does not say '%s':\n%s", what, want, r.out);
    run_free(&r);
    char name[64];
    snprintf(name, sizeof name, "%s-fresh", strategy);
    a = fn_study(fn, strategy, big, name, fresh);
    if (extra_opt) add(&a, extra_opt, extra_val, NULL);
    r = run(&a);
    cr_assert_eq(r.code, 0, "%s: the fresh run exited %d: %s", what, r.code, r.err);
    run_free(&r);
    same_journal(fresh, ext, what);
    same_best(fresh, ext, false, what);
}

Test(cli_resume, a_resume_with_a_larger_budget_equals_a_fresh_study_of_that_size)
{
    need_binary();
    check_extend("hartmann6", "random", NULL, NULL, "8", "15");
    check_extend("hartmann6", "bayes", "--initial-points", "4", "8", "15");
    // grid: resumed without --trials, the whole grid (3 x 3 = 9 points)
    check_extend("branin", "grid", "--grid-points", "3", "4", NULL);
}

/* Byte offset where line `line` (1-based) of a text starts. */
static long line_start(const char *text, int line)
{
    long off = 0;
    for (int l = 1; l < line; l++) {
        const char *nl = strchr(text + off, '\n');
        cr_assert_not_null(nl, "no line %d", line);
        off = nl - text + 1;
    }
    return off;
}

Test(cli_resume, a_torn_last_line_is_dropped_and_its_trial_run_again)
{
    need_binary();
    char ref[256], dir[256], journal[300];
    args_t a = fn_study("hartmann6", "bayes", "10", "ref", ref);
    run_result r = run(&a);
    cr_assert_eq(r.code, 0, "the study exited %d: %s", r.code, r.err);
    run_free(&r);
    a = fn_study("hartmann6", "bayes", "10", "cut", dir);
    r = run(&a);
    cr_assert_eq(r.code, 0, "the study exited %d: %s", r.code, r.err);
    run_free(&r);
    // keep the header, trials 0..5 and half of trial 6's line
    snprintf(journal, sizeof journal, "%s/trials.jsonl", dir);
    long len;
    char *text = slurp_len(journal, &len);
    cr_assert_not_null(text, "no %s", journal);
    long keep = line_start(text, 8) + (line_start(text, 9) - line_start(text, 8)) / 2;
    cr_assert_eq(truncate(journal, keep), 0, "truncate %s", journal);
    free(text);
    a = fn_study("hartmann6", "bayes", "10", "cut", dir);
    drop(&a, "--quiet");
    add(&a, "--resume", NULL);
    r = run(&a);
    cr_assert_eq(r.code, 0, "the resume exited %d: %s", r.code, r.err);
    cr_assert(strstr(r.out, "6 finished trials kept") && strstr(r.out, "torn last line"),
              "the resume does not report 6 trials kept and a torn line dropped:\n%s", r.out);
    run_free(&r);
    same_journal(ref, dir, "bayes resumed after a torn line");
    same_best(ref, dir, false, "bayes resumed after a torn line");
}

Test(cli_resume, a_bad_line_inside_the_journal_is_refused_and_left_alone)
{
    need_binary();
    char dir[256], journal[300];
    args_t a = fn_study("branin", "random", "8", "run", dir);
    run_result r = run(&a);
    cr_assert_eq(r.code, 0, "the study exited %d: %s", r.code, r.err);
    run_free(&r);
    // overwrite the first bytes of line 4 (trial 2): no longer JSON
    snprintf(journal, sizeof journal, "%s/trials.jsonl", dir);
    long len0, len;
    char *before = slurp_len(journal, &len0);
    cr_assert_not_null(before, "no %s", journal);
    memcpy(before + line_start(before, 4), "#garbage", 8);
    FILE *f = fopen(journal, "wb");
    cr_assert_not_null(f, "cannot write %s", journal);
    fwrite(before, 1, (size_t)len0, f);
    fclose(f);
    a = fn_study("branin", "random", "12", "run", dir);
    add(&a, "--resume", NULL);
    r = run(&a);
    cr_assert_eq(r.code, 1, "a resume over a damaged journal exited %d, want 1: %s", r.code,
                 r.err);
    char want[320];
    snprintf(want, sizeof want, "%s:4:", journal);
    cr_assert(strstr(r.err, want), "the message does not name %s: %s", want, r.err);
    run_free(&r);
    char *after = slurp_len(journal, &len);
    cr_assert(after && len == len0 && !memcmp(after, before, (size_t)len),
              "a refused resume changed the journal: %ld bytes, were %ld", len, len0);
    free(after);
    free(before);
}

/* ------------------------------------------------------------------------
 * (b) a network study killed with SIGKILL */

enum { SIDE = 10, D = SIDE * SIDE, N_TRAIN = 1200, N_TEST = 150, K = 3, TRIALS = 6 };

/* n images of 10 x 10: class c brightens the rows r with r % 3 == c a
 * little over noise, so classes overlap (CV accuracy near 0.73) and the
 * trials differ; 100 epochs of 1200 images take ~0.1 s a trial. */
static void make_set(nt_rng *r, size_t n, uint8_t *px, uint8_t *labels)
{
    for (size_t i = 0; i < n; i++) {
        int c = (int)(i % K);
        labels[i] = (uint8_t)c;
        for (int p = 0; p < D; p++)
            px[i * D + p] = (uint8_t)((p / SIDE) % K == c ? 10 + nt_rng_below(r, 120)
                                                          : nt_rng_below(r, 120));
    }
}

/* The IDX folder tmpdir/data and the space file tmpdir/space.txt. */
static void make_data(void)
{
    char d[256], img[300], lab[300], sp[256];
    cr_assert_eq(mkdir(at(d, "data"), 0755), 0, "mkdir %s", d);
    nt_rng r;
    nt_rng_seed(&r, 5);
    static uint8_t px[N_TRAIN * D], lb[N_TRAIN];
    make_set(&r, N_TRAIN, px, lb);
    snprintf(img, sizeof img, "%s/train-images-idx3-ubyte", d);
    snprintf(lab, sizeof lab, "%s/train-labels-idx1-ubyte", d);
    nt_status rc = nt_idx_write(img, lab, px, lb, N_TRAIN, SIDE, SIDE);
    cr_assert_eq(rc, NT_OK, "nt_idx_write: %s", nt_last_error());
    make_set(&r, N_TEST, px, lb);
    snprintf(img, sizeof img, "%s/t10k-images-idx3-ubyte", d);
    snprintf(lab, sizeof lab, "%s/t10k-labels-idx1-ubyte", d);
    rc = nt_idx_write(img, lab, px, lb, N_TEST, SIDE, SIDE);
    cr_assert_eq(rc, NT_OK, "nt_idx_write: %s", nt_last_error());
    // patience = epochs: every fold trains its 100 epochs (early stopping
    // still picks the best epoch), so a trial lasts long enough to be hit
    const char *space = "lr = loguniform(1e-4, 1e-2)\n"
                        "units = choice(16, 32)\n"
                        "layers = 1\n"
                        "batch = 32\n"
                        "epochs = 100\n"
                        "patience = 100\n";
    FILE *f = fopen(at(sp, "space.txt"), "w");
    cr_assert_not_null(f, "cannot write %s", sp);
    fputs(space, f);
    fclose(f);
}

static char data_dir[256], space_path[256];

/* The network study of a strategy in tmpdir/name. */
static args_t net_study(const char *strategy, const char *name, char *dir)
{
    args_t a = {0};
    add(&a, "--data", at(data_dir, "data"), "--space", at(space_path, "space.txt"),
        "--strategy", strategy, "--trials", "6", "--folds", "2", "--jobs", "1", "--seed", "3",
        "--out", at(dir, name), "--quiet", NULL);
    // grid: 3 learning rates x 2 widths = 6 points
    if (!strcmp(strategy, "grid")) add(&a, "--grid-points", "3", NULL);
    if (!strcmp(strategy, "bayes")) add(&a, "--initial-points", "3", NULL);
    return a;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) continue;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Wait until the journal holds `lines` complete lines, then SIGKILL the
 * run. Returns true if the kill landed, false if the run ended first. */
static bool kill_at_lines(pid_t pid, const char *journal, int lines)
{
    for (;;) {
        int status;
        if (count_lines(journal) >= lines) {
            kill(pid, SIGKILL);
            cr_assert_eq(waitpid(pid, &status, 0), pid, "waitpid failed");
            return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
        }
        pid_t w = waitpid(pid, &status, WNOHANG);
        cr_assert_neq(w, -1, "waitpid failed");
        if (w == pid) return false;
        sleep_s(0.0005);
    }
}

/* Resume the killed study in tmpdir/name (or start it, if it was killed
 * before it wrote a journal) and compare it with the uninterrupted one. */
static void resume_and_compare(const char *strategy, const char *name, const char *ref,
                               const char *what)
{
    char dir[256], journal[300];
    args_t a = net_study(strategy, name, dir);
    snprintf(journal, sizeof journal, "%s/trials.jsonl", dir);
    bool has_journal = file_exists(journal);
    if (has_journal) add(&a, "--resume", NULL);
    run_result r = run(&a);
    cr_assert_eq(r.code, 0, "%s: the %s exited %d: %s", what, has_journal ? "resume" : "rerun",
                 r.code, r.err);
    run_free(&r);
    same_journal(ref, dir, what);
    same_best(ref, dir, true, what);
    char model[300];
    snprintf(model, sizeof model, "%s/model.nnt", dir);
    cr_assert(file_exists(model), "%s: no %s after the resume", what, model);
}

static void check_sigkill(const char *strategy)
{
    need_binary();
    make_data();
    char ref[256], dir[256], journal[300], best[300];
    args_t a = net_study(strategy, "ref", ref);
    double t0 = now_s();
    run_result r = run(&a);
    double t_ref = now_s() - t0;
    cr_assert_eq(r.code, 0, "%s: the uninterrupted study exited %d: %s", strategy, r.code,
                 r.err);
    run_free(&r);
    snprintf(journal, sizeof journal, "%s/trials.jsonl", ref);
    cr_assert_eq(count_lines(journal), 1 + TRIALS, "%s: %d journal lines, want %d", strategy,
                 count_lines(journal), 1 + TRIALS);

    // killed once the journal holds the header and j trials: in trial j
    const int at_trials[] = {0, 2, 4};
    for (size_t i = 0; i < sizeof at_trials / sizeof at_trials[0]; i++) {
        int j = at_trials[i];
        char name[32], what[128];
        snprintf(name, sizeof name, "kill%d", j);
        snprintf(what, sizeof what, "%s killed after %d trials", strategy, j);
        args_t k = net_study(strategy, name, dir);
        snprintf(journal, sizeof journal, "%s/trials.jsonl", dir);
        bool killed = kill_at_lines(spawn(&k), journal, 1 + j);
        cr_assert(killed, "%s: the run ended before the kill (trials too fast?)", what);
        int kept = count_lines(journal) - 1;
        cr_assert(kept >= j && kept <= TRIALS, "%s: %d trials in the journal at the kill",
                  what, kept);
        resume_and_compare(strategy, name, ref, what);
    }

    // at a random moment of an uninterrupted run's length
    {
        nt_rng rng;
        nt_rng_seed(&rng, (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20));
        double delay = t_ref * nt_rng_uniform(&rng);
        char what[128];
        snprintf(what, sizeof what, "%s killed %.3f s after its start (of %.3f s)", strategy,
                 delay, t_ref);
        args_t k = net_study(strategy, "killr", dir);
        pid_t pid = spawn(&k);
        sleep_s(delay);
        kill(pid, SIGKILL);
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid, "waitpid failed");
        snprintf(journal, sizeof journal, "%s/trials.jsonl", dir);
        cr_log_info("%s: %d journal lines at the kill", what, count_lines(journal));
        resume_and_compare(strategy, "killr", ref, what);
    }

    // after the search: in the refit, the test or the saving
    {
        char what[128];
        snprintf(what, sizeof what, "%s killed after its last trial", strategy);
        args_t k = net_study(strategy, "killf", dir);
        snprintf(journal, sizeof journal, "%s/trials.jsonl", dir);
        snprintf(best, sizeof best, "%s/best.json", dir);
        bool killed = kill_at_lines(spawn(&k), journal, 1 + TRIALS);
        cr_log_info("%s: %s", what, killed && !file_exists(best)
                                        ? "the kill landed before best.json was written"
                                        : "the run finished before the kill");
        resume_and_compare(strategy, "killf", ref, what);
    }
}

Test(cli_resume, a_grid_network_study_killed_anywhere_resumes_to_the_uninterrupted_one)
{
    check_sigkill("grid");
}

Test(cli_resume, a_random_network_study_killed_anywhere_resumes_to_the_uninterrupted_one)
{
    check_sigkill("random");
}

Test(cli_resume, a_bayes_network_study_killed_anywhere_resumes_to_the_uninterrupted_one)
{
    check_sigkill("bayes");
}

Test(cli_resume, a_network_study_resumed_with_other_folds_or_space_is_refused)
{
    need_binary();
    make_data();
    char dir[256];
    args_t a = net_study("random", "run", dir);
    add(&a, "--trials", "1", NULL); // the last one counts
    run_result r = run(&a);
    cr_assert_eq(r.code, 0, "the study exited %d: %s", r.code, r.err);
    run_free(&r);
    struct {
        const char *opt, *val, *names;
    } cases[] = {
        {"--folds", "3", "folds"},
        {"--param", "units = choice(8, 16)", "space"},
        {"--param", "dropout = uniform(0, 0.5)", "space"}, // one more dimension
        {"--metric", "loss", "metric"},
        {"--es-frac", "0.2", "es_frac"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        args_t b = net_study("random", "run", dir);
        add(&b, cases[i].opt, cases[i].val, "--resume", NULL);
        r = run(&b);
        cr_assert_eq(r.code, 2, "--resume with %s %s exited %d, want 2: %s", cases[i].opt,
                     cases[i].val, r.code, r.err);
        cr_assert(strstr(r.err, cases[i].names), "the message does not name '%s': %s",
                  cases[i].names, r.err);
        run_free(&r);
    }
}

/* Distinct "trial T fold F" pairs in --verbose epoch lines. */
static int folds_trained(const char *text)
{
    bool seen[64][8] = {{false}};
    int pairs = 0;
    for (const char *c = text; c && (c = strstr(c, "    trial ")); c++) {
        int t, f, e;
        if (sscanf(c, "    trial %d fold %d epoch %d", &t, &f, &e) != 3) continue;
        if (t < 1 || t > 63 || f < 1 || f > 7) continue;
        pairs += !seen[t][f];
        seen[t][f] = true;
    }
    return pairs;
}

/* The grid study of this test: 3 learning rates x 32 or 128 units, 3 folds
 * of 1000 epochs each (about 0.35 s a fold of 32 units, 0.85 s of 128),
 * on 2 jobs: one batch, the 128-unit trials first. */
static args_t batch_study(const char *name, char *dir, const char *mode)
{
    static char sp[256];
    FILE *f = fopen(at(sp, "space_batch.txt"), "w");
    cr_assert_not_null(f, "cannot write %s", sp);
    fputs("lr = choice(0.001, 0.003, 0.01)\nunits = choice(32, 128)\nlayers = 1\n"
          "batch = 32\nepochs = 1000\npatience = 1000\n", f);
    fclose(f);
    args_t a = {0};
    add(&a, "--data", at(data_dir, "data"), "--space", sp, "--strategy", "grid", "--trials",
        "6", "--folds", "3", "--jobs", "2", "--seed", "3", "--out", at(dir, name), mode, NULL);
    return a;
}

Test(cli_resume, a_stopped_batch_keeps_each_trials_finished_folds_and_resumes_to_the_same_study)
{
    // Ctrl-C once a 32-unit trial starts: the 128-unit trials, which
    // started first, have finished folds, and the first 32-unit trial is
    // not whole for most of a fold (0.35 s) after it starts, so
    // partial.json keeps several trials
    need_binary();
    make_data();
    char ref[256], dir[256], path[300];
    args_t a = batch_study("ref", ref, "--quiet");
    run_result r = run(&a);
    cr_assert_eq(r.code, 0, "the uninterrupted study exited %d: %s", r.code, r.err);
    run_free(&r);

    args_t k = batch_study("stopped", dir, "--verbose");
    pid_t pid = spawn(&k);
    char out[300], line[512];
    scratch_at(out, tmpdir, "run.stdout");
    // the trials whose first epoch line has come, read as the lines come
    bool seen[64] = {false};
    int started = 0;
    FILE *lines = NULL;
    for (double t0 = now_s(); started < 4;) {
        if (!lines) lines = fopen(out, "r");
        while (lines && fgets(line, sizeof line, lines)) {
            int t, f, e;
            if (sscanf(line, "    trial %d fold %d epoch %d", &t, &f, &e) == 3 && t >= 1 &&
                t < 64 && !seen[t]) {
                seen[t] = true;
                started++;
            }
        }
        if (lines) clearerr(lines);
        int status;
        cr_assert_eq(waitpid(pid, &status, WNOHANG), 0, "the study ended before its 4th trial "
                     "started");
        cr_assert_lt(now_s() - t0, 120, "no 4th trial after 120 s");
        sleep_s(0.001);
    }
    if (lines) fclose(lines);
    kill(pid, SIGINT);
    r = finish(pid);
    cr_assert_eq(r.code, 130, "the stopped study exited %d: %s", r.code, r.err);
    cr_assert(strstr(r.err, "finished folds of trials") && strstr(r.err, "(partial.json)"),
              "the hint does not name the kept trials: %s", r.err);
    run_free(&r);
    snprintf(path, sizeof path, "%s/partial.json", dir);
    int held = count_lines(path);
    cr_assert_geq(held, 2, "partial.json holds %d trials, want 2 or more", held);
    snprintf(path, sizeof path, "%s/trials.jsonl", dir);
    int journaled = count_lines(path) - 1;

    // resumed: only the folds neither the journal nor partial.json holds train
    add(&k, "--resume", NULL);
    r = run(&k);
    cr_assert_eq(r.code, 0, "the resume exited %d: %s", r.code, r.err);
    int kept = 0;
    const char *said = strstr(r.out, "resuming");
    said = said ? strstr(said, ", and ") : NULL;
    cr_assert(said && sscanf(said, ", and %d finished folds of trials", &kept) == 1,
              "the resume does not say which folds it took: %s", r.out);
    int trained = folds_trained(r.out);
    cr_assert_eq(trained + kept + 3 * journaled, 18,
                 "%d folds trained, %d kept, %d trials journaled: want 18 folds in all", trained,
                 kept, journaled);
    run_free(&r);
    snprintf(path, sizeof path, "%s/partial.json", dir);
    cr_assert(!file_exists(path), "partial.json is still there after the resume");
    same_journal(ref, dir, "grid stopped mid-batch, resumed");
    same_best(ref, dir, true, "grid stopped mid-batch, resumed");
}
