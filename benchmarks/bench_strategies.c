/* bench_strategies.c - nntune's search strategies on test functions,
 * through the library's ask/tell interface (the loop nt_tune runs, without
 * the journal): the best value found after 20 and after --budget
 * evaluations for each seed, and the strategy's own time per trial (ask +
 * tell, the function excluded) as the study grows. The same measurements
 * as benchmarks/peers/optuna_functions.py makes for Optuna, so
 * benchmarks/run.sh can put them side by side.
 *
 *   bench_strategies [--functions branin,hartmann6] [--strategies bayes,random]
 *                    [--seeds 10] [--budget 50] [--timing-trials 200]
 *                    [--timing-repeats 5] --csv OUT.csv --timing-csv OUT2.csv
 *
 * OUT.csv:  peer,sampler,function,seed,best_20,best_50
 * OUT2.csv: peer,sampler,function,trials,ms_per_trial,repeats,ms_min,ms_max
 *           at marks 50 and --timing-trials: the mean of the 10 trials
 *           before the mark, in each of --timing-repeats runs of the same
 *           study (seed 1: the same work each time); ms_per_trial is their
 *           median, ms_min and ms_max their range. A window of 10 trials
 *           lasts about 0.1 s, short enough for one slow moment of the VM
 *           to move a single run's mean by half (benchmarks/README.md). */
#include "nntune/stats.h"
#include "nntune/strategy.h"
#include "nntune/testfn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void die(const char *msg, const char *arg)
{
    fprintf(stderr, "bench_strategies: %s%s\n", msg, arg ? arg : "");
    exit(2);
}

/* One study of `trials` evaluations. best_at[t] = best value after t + 1
 * evaluations; own_ms[t] = the strategy's time on trial t. */
static void run_study(const char *strategy, const nt_testfn *fn, uint64_t seed,
                      int trials, double *best_at, double *own_ms)
{
    nt_space space;
    nt_testfn_space(fn, &space);
    // "bayes:2": bayes proposing its model trials in batches of 2
    char name[32];
    snprintf(name, sizeof name, "%s", strategy);
    char *colon = strchr(name, ':');
    nt_strategy_options opt = {.seed = seed, .batch = colon ? atoi(colon + 1) : 0};
    if (colon) *colon = '\0';
    nt_strategy *st;
    if (nt_strategy_create(name, &space, &opt, &st) != NT_OK)
        die("cannot create strategy ", strategy);
    double best = INFINITY, u[NT_MAX_PARAMS], x[NT_MAX_PARAMS];
    for (int t = 0; t < trials; t++) {
        double t0 = now();
        if (nt_strategy_ask(st, t, u, NULL, 0) != NT_OK) die("ask failed: ", nt_last_error());
        double t1 = now();
        nt_assignment a;
        nt_space_decode(&space, u, &a);
        for (int j = 0; j < space.n; j++) x[j] = a.v[j].num;
        double y = fn->f(x);
        double t2 = now();
        if (nt_strategy_tell(st, t, u, y, true) != NT_OK) die("tell failed: ", nt_last_error());
        double t3 = now();
        if (y < best) best = y;
        best_at[t] = best;
        own_ms[t] = 1e3 * ((t1 - t0) + (t3 - t2));
    }
    nt_strategy_free(st);
}

static int split(char *s, char **out, int max)
{
    int n = 0;
    for (char *tok = strtok(s, ","); tok && n < max; tok = strtok(NULL, ","))
        out[n++] = tok;
    return n;
}

int main(int argc, char **argv)
{
    char fn_list[256] = "branin,hartmann6", st_list[256] = "bayes,random";
    int seeds = 10, budget = 50, timing_trials = 200, repeats = 5;
    const char *csv = NULL, *timing_csv = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) die("missing value for ", a);
        if (!strcmp(a, "--functions")) snprintf(fn_list, sizeof fn_list, "%s", v);
        else if (!strcmp(a, "--strategies")) snprintf(st_list, sizeof st_list, "%s", v);
        else if (!strcmp(a, "--seeds")) seeds = atoi(v);
        else if (!strcmp(a, "--budget")) budget = atoi(v);
        else if (!strcmp(a, "--timing-trials")) timing_trials = atoi(v);
        else if (!strcmp(a, "--timing-repeats")) repeats = atoi(v);
        else if (!strcmp(a, "--csv")) csv = v;
        else if (!strcmp(a, "--timing-csv")) timing_csv = v;
        else die("unknown option ", a);
        i++;
    }
    if (seeds < 1 || budget < 20 || timing_trials < 50 || repeats < 1 || repeats > 99)
        die("want --seeds >= 1, --budget >= 20, --timing-trials >= 50, --timing-repeats "
            "in 1..99", NULL);
    if (!csv || !timing_csv) die("--csv and --timing-csv are required", NULL);
    char *fns[16], *sts[4];
    int nf = split(fn_list, fns, 16), ns = split(st_list, sts, 4);
    FILE *out = fopen(csv, "w"), *tout = fopen(timing_csv, "w");
    if (!out || !tout) die("cannot write ", !out ? csv : timing_csv);
    fprintf(out, "peer,sampler,function,seed,best_20,best_50\n");
    fprintf(tout, "peer,sampler,function,trials,ms_per_trial,repeats,ms_min,ms_max\n");
    int cap = budget > timing_trials ? budget : timing_trials;
    double *best_at = malloc((size_t)cap * sizeof *best_at);
    double *own_ms = malloc((size_t)cap * sizeof *own_ms);
    if (!best_at || !own_ms) die("out of memory", NULL);
    for (int f = 0; f < nf; f++) {
        const nt_testfn *fn = nt_testfn_find(fns[f]);
        if (!fn) die("unknown test function ", fns[f]);
        for (int s = 0; s < ns; s++) {
            for (int seed = 1; seed <= seeds; seed++) {
                run_study(sts[s], fn, (uint64_t)seed, budget, best_at, own_ms);
                fprintf(out, "nntune,%s,%s,%d,%.10g,%.10g\n", sts[s], fns[f],
                        seed, best_at[19], best_at[budget - 1]);
            }
            const int marks[2] = {50, timing_trials};
            double window[2][99];  // each run's mean over the 10 trials before each mark
            for (int r = 0; r < repeats; r++) {
                run_study(sts[s], fn, 1, timing_trials, best_at, own_ms);
                for (int m = 0; m < 2; m++) {
                    double sum = 0.0;
                    for (int t = marks[m] - 10; t < marks[m]; t++) sum += own_ms[t];
                    window[m][r] = sum / 10.0;
                }
            }
            for (int m = 0; m < 2; m++)
                fprintf(tout, "nntune,%s,%s,%d,%.4f,%d,%.4f,%.4f\n", sts[s], fns[f], marks[m],
                        nt_median(window[m], repeats), repeats,
                        nt_quantile(window[m], repeats, 0.0), nt_quantile(window[m], repeats, 1.0));
            printf("%-7s %-10s done\n", sts[s], fns[f]);
            fflush(stdout);
        }
    }
    free(best_at);
    free(own_ms);
    if (fclose(out) != 0 || fclose(tout) != 0) die("cannot finish writing the CSVs", NULL);
    return 0;
}
