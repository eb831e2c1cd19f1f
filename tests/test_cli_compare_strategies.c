/* test_cli_compare_strategies.c - `nntune compare-strategies` end to end
 * with the built ./nntune on the branin test function (small budgets, three
 * seeds): its files exist and agree with the runs' journals; --resume
 * leaves finished runs alone and completes a cut-short one; a folder that
 * holds runs is not overwritten by accident; bad options exit 2 with one
 * line naming the option and write nothing. Skipped when ./nntune has not
 * been built. */
#include <criterion/criterion.h>

#include "helpers.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const STRATEGIES[] = {"grid", "random", "bayes"};
enum { N_STRATEGIES = 3, SEEDS = 3, BUDGET = 12 };
static char tmpdir[64];

static void setup(void)
{
    scratch_make(tmpdir, "/tmp/nt_test_cli_compare_XXXXXX");
}

static void teardown(void)
{
    scratch_remove(tmpdir);
}

TestSuite(cli_compare_strategies, .init = setup, .fini = teardown);

static void need_binary(void)
{
    need_nntune(teardown);
}

/* tmpdir/name, into buf (256 bytes). */
static char *at(char *buf, const char *name)
{
    return scratch_at(buf, tmpdir, name);
}

/* Start ./nntune compare-strategies with the arguments in ap (up to a
 * NULL), stdout and stderr into tmpdir/run.stdout and run.stderr. */
static pid_t vspawn(const char *first, va_list ap)
{
    const char *args[64] = {"compare-strategies"};
    int n = collect_args(args, 1, 64, first, ap);
    return nntune_spawn(tmpdir, args, n);
}

static pid_t spawn(const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    pid_t pid = vspawn(first, ap);
    va_end(ap);
    return pid;
}

static run_result finish(pid_t pid)
{
    return nntune_finish(tmpdir, pid);
}

/* Run ./nntune compare-strategies with the NULL-terminated arguments. */
static run_result run(const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    pid_t pid = vspawn(first, ap);
    va_end(ap);
    return finish(pid);
}

/* The comparison every test starts from: branin, all three strategies,
 * BUDGET trials, SEEDS seeds, two at a time, in tmpdir/cmp. */
static run_result compare_branin(const char *dir, const char *extra)
{
    return run("--objective", "branin", "--budget", "12", "--seeds", "3", "--jobs", "2",
               "--out", dir, extra, NULL);
}

/* ------------------------------------------------------------------------
 * reading what was written */

/* The best (smallest) ok f in a run's journal; *trials gets its trials. */
static double journal_best(const char *dir, const char *run, int *trials)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/trials.jsonl", dir, run);
    char *text = slurp(path);
    cr_assert_not_null(text, "no journal %s", path);
    double best = INFINITY;
    *trials = 0;
    for (char *line = strchr(text, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        cJSON *o = cJSON_Parse(line + 1);
        cr_assert_not_null(o, "%s: a line is not JSON", path);
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "status");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "metric");
        if (cJSON_IsString(st) && !strcmp(st->valuestring, "ok") && m->valuedouble < best)
            best = m->valuedouble;
        (*trials)++;
        cJSON_Delete(o);
    }
    free(text);
    return best;
}

static double median3(double a, double b, double c)
{
    return fmax(fmin(a, b), fmin(fmax(a, b), c));
}

/* Cell `col` (0-based, empty cells count) of the CSV line in `text` whose
 * first two cells are key1,key2; NAN if that cell is empty. */
static double csv_cell(const char *text, const char *key1, const char *key2, int col,
                       const char *what)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "\n%s,%s,", key1, key2);
    const char *line = strstr(text, prefix);
    cr_assert_not_null(line, "%s: no row %s,%s", what, key1, key2);
    line++;
    for (int i = 0; i < col; i++) {
        line = strpbrk(line, ",\n");
        cr_assert(line && *line == ',', "%s: row %s,%s has no column %d", what, key1, key2, col);
        line++;
    }
    if (*line == ',' || *line == '\n') return NAN;
    return strtod(line, NULL);
}

/* The last row of a strategy's curve in curves.csv: its median column. */
static double curve_last_median(const char *text, const char *strategy, int trials)
{
    char key[16];
    snprintf(key, sizeof key, "%d", trials);
    return csv_cell(text, strategy, key, 2, "curves.csv");
}

/* Cell `col` of the markdown row of `strategy` on stdout, as a number. */
static double stdout_cell(const char *out, const char *strategy, int col)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "\n| %s |", strategy);
    const char *line = strstr(out, prefix);
    cr_assert_not_null(line, "stdout has no table row for %s:\n%s", strategy, out);
    line += 2;
    for (int i = 0; i < col; i++) line = strchr(line, '|') + 1;
    return strtod(line, NULL);
}

static void assert_close(double got, double want, double rel, const char *what)
{
    cr_assert(fabs(got - want) <= rel * fmax(1.0, fabs(want)),
              "%s: got %.10g, want %.10g", what, got, want);
}

/* ------------------------------------------------------------------------
 * the files */

Test(cli_compare_strategies, writes_files_that_agree_with_the_journals)
{
    need_binary();
    char dir[256], path[512];
    run_result r = compare_branin(at(dir, "cmp"), NULL);
    cr_assert_eq(r.code, 0, "compare-strategies exited %d: %s", r.code, r.err);
    const char *files[] = {"compare.csv", "curves.csv", "report.html"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        cr_assert(file_exists(path), "no %s", path);
    }
    char *csv = slurp(strcat(strcpy(path, dir), "/compare.csv"));
    char *curves = slurp(strcat(strcpy(path, dir), "/curves.csv"));
    cr_assert(csv && curves, "cannot read compare.csv or curves.csv");
    for (int s = 0; s < N_STRATEGIES; s++) {
        double best[SEEDS];
        for (int k = 0; k < SEEDS; k++) {
            char run[32], seed[16], log[512];
            snprintf(run, sizeof run, "%s-seed%d", STRATEGIES[s], k + 1);
            snprintf(seed, sizeof seed, "%d", k + 1);
            snprintf(log, sizeof log, "%s/%s.log", dir, run);
            cr_assert(file_exists(log), "no log %s", log);
            int trials;
            best[k] = journal_best(dir, run, &trials);
            assert_close(csv_cell(csv, STRATEGIES[s], seed, 4, "compare.csv"), best[k], 1e-9,
                         "compare.csv best_metric against the journal");
            assert_close(csv_cell(csv, STRATEGIES[s], seed, 2, "compare.csv"), trials, 0,
                         "compare.csv trials against the journal");
            cr_assert(isnan(csv_cell(csv, STRATEGIES[s], seed, 10, "compare.csv")),
                      "a test function has no test accuracy in compare.csv");
        }
        double med = median3(best[0], best[1], best[2]);
        int last = !strcmp(STRATEGIES[s], "grid") ? 9 : BUDGET; // branin's grid: 3 x 3
        assert_close(curve_last_median(curves, STRATEGIES[s], last), med, 1e-9,
                     "curves.csv's last median against the journals");
        // columns: strategy, runs, after 10, after 12 (5 significant digits)
        assert_close(stdout_cell(r.out, STRATEGIES[s], 3), med, 1e-4,
                     "stdout's median against the journals");
    }
    cr_assert(strstr(r.out, "random vs bayes") && strstr(r.out, "grid vs random"),
              "stdout has no pairwise tests:\n%s", r.out);
    cr_assert(strstr(r.out, "report.html"), "stdout does not say where the report is");
    // bayes runs are compared trial for trial: one trial at a time
    char *header = slurp(strcat(strcpy(path, dir), "/bayes-seed1/trials.jsonl"));
    cr_assert(header && strstr(header, "\"bayes_batch\":1"),
              "bayes-seed1 was not run with --bayes-batch 1");
    free(header);
    free(csv);
    free(curves);
    run_free(&r);
}

Test(cli_compare_strategies, the_normalized_score_needs_random_search)
{
    need_binary();
    char dir[256], path[512];
    run_result r = run("--objective", "branin", "--strategies", "grid,bayes", "--budget", "5",
                       "--seeds", "2", "--out", at(dir, "cmp"), NULL);
    cr_assert_eq(r.code, 0, "compare-strategies exited %d: %s", r.code, r.err);
    cr_assert(strstr(r.out, "normalized score is not available"),
              "stdout does not say the normalized score is not available:\n%s", r.out);
    char *csv = slurp(strcat(strcpy(path, dir), "/compare.csv"));
    cr_assert_not_null(csv);
    double regret = csv_cell(csv, "bayes", "1", 8, "compare.csv");
    double norm = csv_cell(csv, "bayes", "1", 9, "compare.csv");
    cr_assert(regret >= 0 && isnan(norm), "regret %g (want >= 0), normalized %g (want empty)",
              regret, norm);
    free(csv);
    run_free(&r);
}

/* ------------------------------------------------------------------------
 * resuming */

typedef struct {
    char *text;
    struct timespec mtime;
} snapshot;

static snapshot snap(const char *dir, const char *run)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/trials.jsonl", dir, run);
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0, "no %s", path);
    return (snapshot){slurp(path), sb.st_mtim};
}

static void assert_untouched(const snapshot *before, const char *dir, const char *run)
{
    snapshot now = snap(dir, run);
    cr_assert_str_eq(now.text, before->text, "%s's journal changed", run);
    cr_assert(now.mtime.tv_sec == before->mtime.tv_sec &&
              now.mtime.tv_nsec == before->mtime.tv_nsec,
              "%s's journal was rewritten (mtime %ld.%09ld, was %ld.%09ld)", run,
              (long)now.mtime.tv_sec, now.mtime.tv_nsec, (long)before->mtime.tv_sec,
              before->mtime.tv_nsec);
    free(now.text);
}

Test(cli_compare_strategies, resume_skips_finished_runs_and_completes_a_cut_one)
{
    need_binary();
    char dir[256];
    run_result r = compare_branin(at(dir, "cmp"), NULL);
    cr_assert_eq(r.code, 0, "the first comparison exited %d: %s", r.code, r.err);
    run_free(&r);
    const char *runs[] = {"grid-seed1", "random-seed2", "bayes-seed1", "bayes-seed3"};
    snapshot before[4];
    for (int i = 0; i < 4; i++) before[i] = snap(dir, runs[i]);

    r = compare_branin(dir, "--resume");
    cr_assert_eq(r.code, 0, "a resume of a complete comparison exited %d: %s", r.code, r.err);
    cr_assert(strstr(r.err, "nothing to run"), "stderr does not say nothing ran:\n%s", r.err);
    for (int i = 0; i < 4; i++) assert_untouched(&before[i], dir, runs[i]);
    run_free(&r);

    // cut bayes-seed2 short, as if it had been killed after two trials
    char path[512], best_path[512];
    snprintf(path, sizeof path, "%s/bayes-seed2/trials.jsonl", dir);
    snprintf(best_path, sizeof best_path, "%s/bayes-seed2/best.json", dir);
    char *text = slurp(path);
    char *cut = text;
    for (int i = 0; i < 3; i++) cut = strchr(cut, '\n') + 1; // header + 2 trials
    FILE *f = fopen(path, "wb");
    fwrite(text, 1, (size_t)(cut - text), f);
    fclose(f);
    free(text);
    cr_assert_eq(remove(best_path), 0, "cannot remove %s", best_path);

    r = compare_branin(dir, "--resume");
    cr_assert_eq(r.code, 0, "the resume exited %d: %s", r.code, r.err);
    cr_assert(strstr(r.err, "1 to run"), "stderr does not say one run was left:\n%s", r.err);
    int trials;
    journal_best(dir, "bayes-seed2", &trials);
    cr_assert_eq(trials, BUDGET, "the resumed run has %d trials, want %d", trials, BUDGET);
    cr_assert(file_exists(best_path), "the resumed run wrote no best.json");
    for (int i = 0; i < 4; i++) {
        assert_untouched(&before[i], dir, runs[i]);
        free(before[i].text);
    }
    run_free(&r);
}

Test(cli_compare_strategies, a_folder_holding_runs_is_refused_without_resume_or_overwrite)
{
    need_binary();
    char dir[256];
    run_result r = compare_branin(at(dir, "cmp"), NULL);
    cr_assert_eq(r.code, 0, "the first comparison exited %d: %s", r.code, r.err);
    run_free(&r);
    snapshot before = snap(dir, "random-seed1");
    r = compare_branin(dir, NULL);
    cr_assert_eq(r.code, 2, "running again exited %d, want 2: %s", r.code, r.err);
    cr_assert(strstr(r.err, "--resume") && strstr(r.err, "--overwrite"),
              "the message does not suggest --resume or --overwrite: %s", r.err);
    assert_untouched(&before, dir, "random-seed1");
    run_free(&r);
    r = compare_branin(dir, "--overwrite");
    cr_assert_eq(r.code, 0, "--overwrite exited %d: %s", r.code, r.err);
    cr_assert(strstr(r.err, "9 to run"), "--overwrite did not run all 9 again:\n%s", r.err);
    free(before.text);
    run_free(&r);
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

Test(cli_compare_strategies, ctrl_c_stops_every_run_keeps_its_trials_and_says_how_to_resume)
{
    need_binary();
    char dir[256], journal[512], best[512], csv[512];
    // a run far too long to finish: a thousand Bayesian trials, a minute
    pid_t pid = spawn("--objective", "hartmann6", "--strategies", "bayes", "--seeds", "1",
                      "--budget", "1000", "--time-budget", "60s", "--out", at(dir, "cmp"), NULL);
    snprintf(journal, sizeof journal, "%s/bayes-seed1/trials.jsonl", dir);
    // wait (at most about a minute) for the header and a first trial
    for (int i = 0; i < 6000 && count_lines(journal) < 2; i++) usleep(10000);
    cr_assert_geq(count_lines(journal), 2, "the run never wrote a trial to %s", journal);
    kill(pid, SIGINT);
    run_result r = finish(pid);
    cr_assert_eq(r.code, 130, "an interrupted comparison exited %d, want 130: %s", r.code, r.err);
    cr_assert(strstr(r.err, "interrupted") && strstr(r.err, "--resume"),
              "stderr does not say how to resume:\n%s", r.err);
    snprintf(best, sizeof best, "%s/bayes-seed1/best.json", dir);
    char *text = slurp(best);
    cr_assert(text && strstr(text, "\"interrupted\""), "the run's best.json does not say it "
              "was interrupted: %s", text ? text : "(missing)");
    free(text);
    int kept = count_lines(journal) - 1;
    cr_assert(kept >= 1 && kept < 1000, "the interrupted run kept %d trials", kept);
    snprintf(csv, sizeof csv, "%s/compare.csv", dir);
    cr_assert(!file_exists(csv), "an interrupted comparison wrote %s", csv);
    run_free(&r);
}

/* ------------------------------------------------------------------------
 * bad options */

Test(cli_compare_strategies, bad_options_exit_2_with_one_line_naming_the_option)
{
    need_binary();
    char dir[256];
    at(dir, "never");
    struct {
        const char *args[8];
        const char *names;
    } cases[] = {
        {{"--objective", "branin", "--strategies", "grid,simplex"}, "--strategies"},
        {{"--objective", "branin", "--strategies", "random,random"}, "--strategies"},
        {{"--objective", "branin", "--seeds", "0"}, "--seeds"},
        {{"--objective", "branin", "--budget", "0"}, "--budget"},
        {{"--objective", "branin", "--jobs", "0"}, "--jobs"},
        {{"--objective", "branin", "--target", "-1"}, "--target"},
        {{"--objective", "branin", "--bayes-batch", "0"}, "--bayes-batch"},
        {{"--objective", "branin", "--time-budget", "soon"}, "--time-budget"},
        {{"--objective", "branin", "--folds", "3"}, "--folds"},
        {{"--objective", "branin", "--param", "x1 = uniform(0, 1)"}, "--param"},
        {{"--objective", "nosuchfunction"}, "--objective"},
        {{"--objective", "branin", "--data", "mnist"}, "--data/--objective"},
        {{"--budget", "5"}, "--data/--objective"},
        {{"--data", "mnist", "--param", "lr = nonsense(1)"}, "--param"},
        {{"--objective", "branin", "--resume", "--overwrite"}, "--resume"},
        {{"--objective", "branin", "--no-such-option"}, "--no-such-option"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char **a = cases[i].args;
        run_result r = run("--out", dir, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], NULL);
        cr_assert_eq(r.code, 2, "case %zu (%s) exited %d, want 2: %s", i, cases[i].names, r.code,
                     r.err);
        size_t len = strlen(r.err);
        cr_assert(len > 0 && strchr(r.err, '\n') == r.err + len - 1,
                  "case %zu: stderr is not one line: %s", i, r.err);
        cr_assert(!strncmp(r.err, "nntune compare-strategies: ", 27) &&
                  strstr(r.err, cases[i].names),
                  "case %zu: the message does not name %s: %s", i, cases[i].names, r.err);
        cr_assert(!file_exists(dir), "case %zu: a refused command created %s", i, dir);
        run_free(&r);
    }
}

Test(cli_compare_strategies, bayes_batch_reaches_the_bayes_runs)
{
    need_binary();
    char dir[256], path[512];
    run_result r = run("--objective", "branin", "--strategies", "random,bayes", "--budget", "8",
                       "--seeds", "1", "--bayes-batch", "2", "--out", at(dir, "b2"), NULL);
    cr_assert_eq(r.code, 0, "compare-strategies exited %d: %s", r.code, r.err);
    run_free(&r);
    char *bayes = slurp(strcat(strcpy(path, dir), "/bayes-seed1/trials.jsonl"));
    char *random = slurp(strcat(strcpy(path, dir), "/random-seed1/trials.jsonl"));
    cr_assert(bayes && strstr(bayes, "\"bayes_batch\":2"), "the bayes run has no bayes_batch 2");
    cr_assert(random && !strstr(random, "bayes_batch"), "the random run got a bayes batch");
    free(bayes);
    free(random);
}

Test(cli_compare_strategies, help_lists_every_option)
{
    need_binary();
    run_result r = run("--help", NULL);
    cr_assert_eq(r.code, 0, "--help exited %d", r.code);
    const char *opts[] = {"--data", "--objective", "--strategies", "--budget", "--time-budget",
                          "--seeds", "--jobs", "--out", "--resume", "--overwrite", "--folds",
                          "--space", "--param", "--target", "--bayes-batch"};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        cr_assert(strstr(r.out, opts[i]), "--help does not mention %s:\n%s", opts[i], r.out);
    run_free(&r);
}
