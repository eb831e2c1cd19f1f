/* test_cli_jobs.c - a network study's scores do not depend on --jobs: every
 * fold trains on one BLAS thread whatever --jobs is, because OpenBLAS's
 * sgemm sums differ bitwise between 1 and 2 threads (and a chaotic first
 * epoch turns that into percent-sized score differences), and trials scored
 * in batches score as they do one at a time. `nntune train` on shards
 * repeats exactly. Runs ./nntune with BLAS left at its own default thread
 * count, as a user would. */
#include <criterion/criterion.h>

#include "helpers.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <sys/wait.h>

static char tmpdir[64];

static void setup(void)
{
    scratch_make(tmpdir, "/tmp/nt_test_cli_jobs_XXXXXX");
}

static void teardown(void)
{
    scratch_remove(tmpdir);
}

TestSuite(cli_jobs, .init = setup, .fini = teardown);

/* best.json of a one-trial, two-fold study at --jobs `jobs`. */
static cJSON *study_with_jobs(int jobs)
{
    char cmd[1024], dir[128], best[256];
    snprintf(dir, sizeof dir, "%s/jobs%d", tmpdir, jobs);
    snprintf(cmd, sizeof cmd,
             "env -u OPENBLAS_NUM_THREADS -u OMP_NUM_THREADS ./nntune --data mnist "
             "--strategy random --trials 1 --folds 2 --param 'epochs = 1' "
             "--param 'units = 256' --param 'layers = 2' --param 'batch = 128' "
             "--quiet --jobs %d --out %s > /dev/null 2>&1", jobs, dir);
    cr_assert_eq(system(cmd), 0, "failed: %s", cmd);
    snprintf(best, sizeof best, "%s/best.json", dir);
    char *text = slurp(best);
    cr_assert_not_null(text, "no %s", best);
    cJSON *j = cJSON_Parse(text);
    free(text);
    cr_assert_not_null(j, "%s does not parse", best);
    return j;
}

Test(cli_jobs, fold_scores_are_the_same_with_one_or_two_jobs)
{
    if (access("./nntune", X_OK) != 0 || access("data/mnist", R_OK) != 0)
        cr_skip_test("needs ./nntune and data/mnist (make setup)");
    cJSON *a = study_with_jobs(1), *b = study_with_jobs(2);
    const cJSON *fa = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(a, "best"), "cv"), "folds");
    const cJSON *fb = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(b, "best"), "cv"), "folds");
    cr_assert(cJSON_GetArraySize(fa) == 2 && cJSON_GetArraySize(fb) == 2, "no fold scores");
    for (int k = 0; k < 2; k++) {
        double x = cJSON_GetArrayItem(fa, k)->valuedouble, y = cJSON_GetArrayItem(fb, k)->valuedouble;
        cr_assert(x == y, "fold %d: %.17g with --jobs 1, %.17g with --jobs 2", k + 1, x, y);
    }
    cJSON_Delete(a);
    cJSON_Delete(b);
}

/* Every trial's `key` in RUN/trials.jsonl (a number, or each number of a
 * list), as one flat list. */
static int journal_numbers(const char *dir, const char *key, double *out, int max)
{
    char path[256];
    snprintf(path, sizeof path, "%s/trials.jsonl", dir);
    char *text = slurp(path);
    cr_assert_not_null(text, "no %s", path);
    int n = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *j = cJSON_Parse(line);
        cr_assert_not_null(j, "%s: a line does not parse", path);
        const cJSON *v = cJSON_GetObjectItem(j, key);
        if (cJSON_IsNumber(v) && n < max) out[n++] = v->valuedouble;
        for (int k = 0; cJSON_IsArray(v) && k < cJSON_GetArraySize(v) && n < max; k++)
            out[n++] = cJSON_GetArrayItem(v, k)->valuedouble;
        cJSON_Delete(j);
    }
    free(text);
    return n;
}

/* A 3-fold study at --jobs 1 and 2 (up to 4 trials a batch): the same fold
 * scores. */
static void check_batches_score_alike(const char *strategy, int trials, const char *extra)
{
    double f[2][32];
    int n[2];
    for (int jobs = 1; jobs <= 2; jobs++) {
        char cmd[1024], dir[128];
        snprintf(dir, sizeof dir, "%s/%s%d", tmpdir, strategy, jobs);
        snprintf(cmd, sizeof cmd,
                 "env -u OPENBLAS_NUM_THREADS -u OMP_NUM_THREADS ./nntune --data mnist "
                 "--strategy %s --trials %d --folds 3 --param 'epochs = 1' "
                 "--param 'units = 64' --param 'layers = 1' --param 'batch = 256' %s "
                 "--quiet --jobs %d --out %s > /dev/null 2>&1", strategy, trials, extra,
                 jobs, dir);
        cr_assert_eq(system(cmd), 0, "failed: %s", cmd);
        n[jobs - 1] = journal_numbers(dir, "folds", f[jobs - 1], 32);
    }
    cr_assert(n[0] == 3 * trials && n[1] == 3 * trials, "%s: %d and %d fold scores, want %d each",
              strategy, n[0], n[1], 3 * trials);
    for (int i = 0; i < 3 * trials; i++)
        cr_assert(f[0][i] == f[1][i], "%s: trial %d fold %d: %.17g one at a time, %.17g in batches",
                  strategy, i / 3 + 1, i % 3 + 1, f[0][i], f[1][i]);
}

Test(cli_jobs, trials_scored_in_batches_score_as_they_do_one_at_a_time)
{
    if (access("./nntune", X_OK) != 0 || access("data/mnist", R_OK) != 0)
        cr_skip_test("needs ./nntune and data/mnist (make setup)");
    check_batches_score_alike("random", 3, "");
    // bayes: 2 design points together, then model trials in pairs (the
    // default --bayes-batch 2), each pair's second chosen blind to the first
    check_batches_score_alike("bayes", 6, "--initial-points 2");
}

/* 3 folds on 2 jobs: batches of 8 trials (24 folds, 12 rounds), so that a
 * core that runs slower than the other leaves it idle for a smaller part
 * of each batch, and a batch has cheap trials to end on (cmd_tune.c,
 * trials_per_batch); the last batch takes what is left. */
Test(cli_jobs, three_folds_on_two_jobs_score_eight_trials_a_batch)
{
    if (access("./nntune", X_OK) != 0 || access("data/mnist", R_OK) != 0)
        cr_skip_test("needs ./nntune and data/mnist (make setup)");
    char cmd[1024], dir[128];
    snprintf(dir, sizeof dir, "%s/batches", tmpdir);
    snprintf(cmd, sizeof cmd,
             "./nntune --data mnist --strategy random --trials 10 --folds 3 "
             "--param 'epochs = 1' --param 'units = 16' --param 'layers = 1' "
             "--param 'batch = 256' --quiet --jobs 2 --out %s > /dev/null 2>&1", dir);
    cr_assert_eq(system(cmd), 0, "failed: %s", cmd);
    double sec[16];
    // a batch's trials share its wall time over its count
    cr_assert_eq(journal_numbers(dir, "seconds", sec, 16), 10, "want 10 trials' seconds");
    for (int i = 1; i < 8; i++)
        cr_assert(sec[i] == sec[0], "trial %d: %.17g s, trial 1: %.17g s (one batch)", i + 1,
                  sec[i], sec[0]);
    cr_assert(sec[9] == sec[8] && sec[8] != sec[0],
              "trials 9 and 10: %.17g and %.17g s, trial 1 %.17g s (a second batch)", sec[8],
              sec[9], sec[0]);
}

/* `nntune train --threads 2 --json`'s test loss, from its stdout. */
static double train_test_loss(const char *extra)
{
    char cmd[1024], out[256];
    snprintf(out, sizeof out, "%s/train.json", tmpdir);
    snprintf(cmd, sizeof cmd,
             "./nntune train --data mnist --epochs 1 --layers 64 --json --quiet "
             "--save %s/m.nnt %s > %s 2>/dev/null", tmpdir, extra, out);
    cr_assert_eq(system(cmd), 0, "failed: %s", cmd);
    char *text = slurp(out);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    cr_assert_not_null(j, "train --json printed no JSON");
    const cJSON *loss = cJSON_GetObjectItem(j, "test_loss");
    cr_assert(cJSON_IsNumber(loss), "no test_loss in: %s", text);
    double v = loss->valuedouble;
    cJSON_Delete(j);
    free(text);
    return v;
}

Test(cli_jobs, training_on_shards_repeats_exactly_and_bad_thread_counts_are_refused)
{
    if (access("./nntune", X_OK) != 0 || access("data/mnist", R_OK) != 0)
        cr_skip_test("needs ./nntune and data/mnist (make setup)");
    double a = train_test_loss("--threads 2"), b = train_test_loss("--threads 2");
    cr_assert(a == b, "two runs with --threads 2: test loss %.17g and %.17g", a, b);
    double one = train_test_loss("--threads 1");
    cr_assert(fabs(one - a) < 0.05, "--threads 1 gives test loss %.4f, 2 threads %.4f: not the "
              "same training", one, a);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "./nntune train --threads 65 > /dev/null 2>&1");
    int rc = system(cmd);
    cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 2, "--threads 65 exit %d, want 2",
              WEXITSTATUS(rc));
}
