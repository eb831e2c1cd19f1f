/* test_cli_jobs.c - a network study's scores do not depend on --jobs: every
 * fold trains on one BLAS thread whatever --jobs is, because OpenBLAS's
 * sgemm sums differ bitwise between 1 and 2 threads (and a chaotic first
 * epoch turns that into percent-sized score differences). Runs ./nntune
 * with BLAS left at its own default thread count, as a user would. */
#include <criterion/criterion.h>

#include "helpers.h"

#include <cjson/cJSON.h>

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
