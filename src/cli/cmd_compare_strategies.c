/* cmd_compare_strategies.c - `nntune compare-strategies`: run every strategy
 * for seeds 1..S on the same budget, space, folds and data, then compare
 * them. Each (strategy, seed) run is an ordinary `nntune tune` child process
 * with its own run folder and journal, so there is one tuning loop, and a
 * comparison resumes the way a study does. The comparison itself: median and
 * IQR of the best so far over seeds, trials and seconds to a target, regret
 * and Bayesmark's normalized score for test functions, test accuracy for
 * networks, and paired Wilcoxon signed-rank tests; a markdown table on
 * stdout, compare.csv, curves.csv and report.html in the comparison folder. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "svg.h"
#include "nntune/journal.h"
#include "nntune/objective.h"
#include "nntune/stats.h"
#include "nntune/testfn.h"

static const char CMD[] = "compare-strategies";
static const char *const KNOWN[] = {"grid", "random", "bayes"};
#define N_KNOWN (int)(sizeof KNOWN / sizeof KNOWN[0])
#define MAX_SEEDS 1000
#define MAX_JOBS 256
#define TIME_GRID 160                     /* points of the common time grid */
static const int CHECKPOINTS[] = {10, 20, 50};
#define N_CHECK (int)(sizeof CHECKPOINTS / sizeof CHECKPOINTS[0])
#define SIGNIFICANT 0.05

typedef struct {
    const char *data, *test_data, *objective, *space_file, *out;
    const char *params[NT_MAX_PARAMS];
    int n_params;
    int strategy[N_KNOWN];                /* indexes into KNOWN, in the given order */
    int n_strategies;
    int budget, seeds, jobs, folds, bayes_batch;
    double time_budget, target;           /* seconds (0 = none); target < 0 = default */
    bool budget_set, folds_set, resume, overwrite;
} cs_opts;

typedef enum { RUN_MISSING, RUN_PARTIAL, RUN_DONE } run_state;

/* One (strategy, seed) run: its folder, its child process, what it found. */
typedef struct {
    int strategy, seed;                   /* index into opts.strategy[]; 1..S */
    char name[64];                        /* "bayes-seed3" */
    char dir[1100], log[1100];
    run_state state;
    pid_t pid;
    int exit_code;                        /* -1 until its child ends */
    int n;                                /* trials in its journal */
    double *best;                         /* (n) owned: best metric after each trial */
    double *finished;                     /* (n) owned: seconds since its start */
    double final, seconds, test_acc;      /* final best; search seconds; NaN if none */
    int best_trial;                       /* journal trial number, -1 if none ok */
    double to_target, sec_to_target;      /* trials / seconds to the target; inf: never */
    double regret, normalized;            /* NaN where not applicable */
} run_t;

/* One strategy summarized over its seeds. */
typedef struct {
    int runs, max_trials, reached;
    double check[N_CHECK];                /* median best after CHECKPOINTS[i] trials */
    double med, q1, q3;                   /* of the final best */
    double to_target, sec_to_target, regret, normalized, test_acc, seconds, trials; /* medians */
    double *c_med, *c_q1, *c_q3;          /* (max_trials) owned: by trial */
    double t_med[TIME_GRID], t_q1[TIME_GRID], t_q3[TIME_GRID];  /* by time */
} strat_sum;

/* One pair of strategies, tested on their final best values by seed. */
typedef struct {
    int a, b;                             /* strategy indexes, a < b */
    nt_wilcoxon w;
    int wins_a, wins_b, ties;
    int ahead;                            /* a, b, or -1 for neither */
} pair_t;

typedef struct {
    cs_opts o;
    const nt_testfn *fn;                  /* NULL for networks */
    nt_space space;
    char space_text[8192];
    char name[256], dir[1024];
    int sense;                            /* +1: smaller is better (f); -1: accuracy */
    int jobs;                             /* children at once */
    run_t *run;                           /* (n_runs) owned, strategy-major */
    int n_runs;
    int argc;
    char **argv;                          /* borrowed, for the resume hint */
    double best_found, target_value, target_x, random_med;
    const char *target_why;
    strat_sum sum[N_KNOWN];
    pair_t pair[N_KNOWN * (N_KNOWN - 1) / 2];
    int n_pairs;
    double tgrid[TIME_GRID];
    bool log_time;
} compare;

enum { C_DATA = 1, C_TEST_DATA, C_OBJECTIVE, C_STRATEGIES, C_BUDGET, C_TIME, C_SEEDS,
       C_JOBS, C_OUT, C_RESUME, C_OVERWRITE, C_FOLDS, C_SPACE, C_PARAM, C_TARGET, C_HELP,
       C_BAYES_BATCH };

static const struct option LONGOPTS[] = {
    {"data", required_argument, 0, C_DATA},
    {"test-data", required_argument, 0, C_TEST_DATA},
    {"objective", required_argument, 0, C_OBJECTIVE},
    {"strategies", required_argument, 0, C_STRATEGIES},
    {"budget", required_argument, 0, C_BUDGET},
    {"time-budget", required_argument, 0, C_TIME},
    {"seeds", required_argument, 0, C_SEEDS},
    {"jobs", required_argument, 0, C_JOBS},
    {"out", required_argument, 0, C_OUT},
    {"resume", no_argument, 0, C_RESUME},
    {"overwrite", no_argument, 0, C_OVERWRITE},
    {"folds", required_argument, 0, C_FOLDS},
    {"space", required_argument, 0, C_SPACE},
    {"param", required_argument, 0, C_PARAM},
    {"target", required_argument, 0, C_TARGET},
    {"bayes-batch", required_argument, 0, C_BAYES_BATCH},
    {"help", no_argument, 0, C_HELP},
    {0, 0, 0, 0},
};

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: nntune compare-strategies --objective NAME [options]\n"
        "       nntune compare-strategies --data mnist [options]\n"
        "Run every strategy once per seed 1..S on the same budget, space, folds and\n"
        "data, each run an ordinary `nntune tune` study in its own folder, then\n"
        "compare them over the seeds: best so far (median and inter-quartile\n"
        "range), trials and seconds to a target, regret and normalized score\n"
        "(test functions), test accuracy (networks), and paired Wilcoxon\n"
        "signed-rank tests of every pair of strategies.\n\n"
        "What to tune (exactly one of --data and --objective):\n"
        "  --data NAME|PATH     mnist, fashion-mnist, an IDX folder or a CSV\n"
        "  --test-data FILE     test CSV for a CSV --data\n"
        "  --objective NAME     a test function (nntune --list-objectives)\n"
        "  --space FILE         search space file (--data)  [the built-in MNIST space]\n"
        "  --param 'LINE'       add or replace one parameter (--data; repeatable)\n"
        "  --folds K            stratified cross-validation folds (--data)      [3]\n"
        "The comparison:\n"
        "  --strategies LIST    comma-separated grid, random, bayes\n"
        "                                                     [grid,random,bayes]\n"
        "  --budget N           trials per run       [50; 1000 with --time-budget]\n"
        "  --time-budget T      also stop each run after T (90s, 20m, 1.5h), so a\n"
        "                       cheap strategy gets more trials in the same time;\n"
        "                       with it, compare at equal time       [none]\n"
        "  --seeds S            runs per strategy, with seeds 1..S            [10]\n"
        "  --target X           a run reaches the target when its best is within X\n"
        "                       of the best any run found      [networks: 0.002\n"
        "                       accuracy; test functions: 1%% of the range from\n"
        "                       random search's median final f to the known\n"
        "                       minimum (without random: the median final f of\n"
        "                       all runs)]\n"
        "  --jobs J             runs at once; each gets --jobs 1 and one BLAS\n"
        "                       thread when J > 1          [the online cores]\n"
        "  --bayes-batch N      bayes runs propose their trials in batches of N\n"
        "                       (nntune tune --help); 1 compares strategies\n"
        "                       trial for trial                            [1]\n"
        "Output:\n"
        "  --out DIR            comparison folder            [models/compare-DATA]\n"
        "  --resume             keep finished runs, continue interrupted ones, start\n"
        "                       missing ones (same settings)\n"
        "  --overwrite          replace the runs already in DIR\n"
        "  --help               this text\n\n"
        "DIR holds a run folder STRATEGY-seedN/ and its log STRATEGY-seedN.log per\n"
        "run, compare.csv (one row per run: strategy, seed, trials, seconds,\n"
        "best_metric, best_trial (the journal's 0-based number), trials_to_target,\n"
        "seconds_to_target, regret, normalized, test_accuracy), curves.csv\n"
        "(strategy, trial, median, q1, q3 of the best so far) and report.html.\n"
        "Medians and quartiles interpolate linearly (numpy's default). The Wilcoxon\n"
        "test drops zero differences; it is exact for up to 25 pairs without ties,\n"
        "else normal with tie and continuity corrections; two-sided.\n"
        "Ctrl-C stops every run (their finished trials are kept); --resume goes on.\n"
        "Exit codes: 0 done, 1 a run failed or a file error, 2 bad option,\n"
        "130 interrupted.\n");
}

/* ------------------------------------------------------------------ parse */

/* "grid,random" -> strategy indexes; false with a message. */
static bool parse_strategies(const char *s, cs_opts *o)
{
    o->n_strategies = 0;
    for (const char *p = s;;) {
        size_t len = strcspn(p, ",");
        int k = -1;
        for (int i = 0; i < N_KNOWN; i++)
            if (strlen(KNOWN[i]) == len && !strncmp(p, KNOWN[i], len)) k = i;
        if (k < 0) {
            cli_usage_error(CMD, "--strategies: unknown strategy '%.*s' in '%s' (expected "
                            "grid, random or bayes, comma-separated)", (int)len, p, s);
            return false;
        }
        for (int i = 0; i < o->n_strategies; i++)
            if (o->strategy[i] == k) {
                cli_usage_error(CMD, "--strategies: '%s' is named twice in '%s'", KNOWN[k], s);
                return false;
            }
        o->strategy[o->n_strategies++] = k;
        if (!p[len]) return true;
        p += len + 1;
    }
}

static int parse_option(int code, const char *arg, cs_opts *o)
{
    bool ok = true;
    switch (code) {
    case C_DATA: o->data = arg; break;
    case C_TEST_DATA: o->test_data = arg; break;
    case C_OBJECTIVE: o->objective = arg; break;
    case C_STRATEGIES: ok = parse_strategies(arg, o); break;
    case C_BUDGET:
        ok = cli_int(CMD, "budget", arg, 1, 1000000, &o->budget);
        o->budget_set = true;
        break;
    case C_TIME:
        if (!strcmp(arg, "none") || !strcmp(arg, "0")) o->time_budget = 0;
        else ok = cli_duration(CMD, "time-budget", arg, &o->time_budget);
        break;
    case C_SEEDS: ok = cli_int(CMD, "seeds", arg, 1, MAX_SEEDS, &o->seeds); break;
    case C_JOBS: ok = cli_int(CMD, "jobs", arg, 1, MAX_JOBS, &o->jobs); break;
    case C_OUT: o->out = arg; break;
    case C_RESUME: o->resume = true; break;
    case C_OVERWRITE: o->overwrite = true; break;
    case C_BAYES_BATCH:
        ok = cli_int(CMD, "bayes-batch", arg, 1, NT_MAX_BAYES_BATCH, &o->bayes_batch);
        break;
    case C_FOLDS:
        ok = cli_int(CMD, "folds", arg, 2, NT_MAX_FOLDS, &o->folds);
        o->folds_set = true;
        break;
    case C_SPACE: o->space_file = arg; break;
    case C_PARAM:
        if (o->n_params == NT_MAX_PARAMS)
            return cli_usage_error(CMD, "--param: at most %d", NT_MAX_PARAMS);
        o->params[o->n_params++] = arg;
        break;
    case C_TARGET: ok = cli_double(CMD, "target", arg, 0, 1e300, &o->target); break;
    default: return -1;
    }
    return ok ? 0 : EXIT_USAGE;
}

/* Options that contradict each other, once all are known. */
static int check_options(cs_opts *o)
{
    if (!o->data == !o->objective)
        return cli_usage_error(CMD, "--data/--objective: give exactly one (a data set to "
                               "tune networks on, or a test function)");
    if (o->objective && (o->space_file || o->n_params))
        return cli_usage_error(CMD, "--space/--param: --objective brings its own space");
    if (o->objective && (o->folds_set || o->test_data))
        return cli_usage_error(CMD, "%s: only for --data (a test function is not "
                               "cross-validated)", o->folds_set ? "--folds" : "--test-data");
    if (o->resume && o->overwrite)
        return cli_usage_error(CMD, "--resume and --overwrite contradict each other");
    if (!o->budget_set) o->budget = o->time_budget > 0 ? 1000 : 50;
    if (!o->jobs) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        o->jobs = cores < 1 ? 1 : cores > MAX_JOBS ? MAX_JOBS : (int)cores;
    }
    return 0;
}

/* 0 to go on, -1 after --help, or an exit code. */
static int parse_args(int argc, char **argv, cs_opts *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 0; i < N_KNOWN; i++) o->strategy[i] = i;
    o->n_strategies = N_KNOWN;
    o->seeds = 10;
    o->folds = 3;
    o->bayes_batch = 1;
    o->target = -1;
    optind = 1;
    opterr = 0;
    int code;
    while ((code = getopt_long(argc, argv, "", LONGOPTS, NULL)) != -1) {
        if (code == C_HELP) {
            usage(stdout);
            return -1;
        }
        int rc = parse_option(code, optarg, o);
        if (rc < 0)
            return cli_usage_error(CMD, "unknown or incomplete option '%s' (see nntune "
                                   "compare-strategies --help)", argv[optind - 1]);
        if (rc) return rc;
    }
    if (optind < argc) return cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    return check_options(o);
}

/* The space every run searches, built as `tune` builds it, so bad --space
 * or --param lines are refused once here rather than by every child. */
static int build_space(compare *c)
{
    const cs_opts *o = &c->o;
    if (o->objective) {
        if (!(c->fn = nt_testfn_find(o->objective)))
            return cli_usage_error(CMD, "--objective: unknown test function '%s' (see "
                                   "nntune --list-objectives)", o->objective);
        nt_testfn_space(c->fn, &c->space);
    } else {
        if (o->space_file && nt_space_load(o->space_file, &c->space) != NT_OK)
            return cli_usage_error(CMD, "%s", nt_last_error());
        if (!o->space_file) nt_space_default_mnist(&c->space);
        for (int i = 0; i < o->n_params; i++)
            if (nt_space_add_line(&c->space, o->params[i], "--param") != NT_OK)
                return cli_usage_error(CMD, "%s", nt_last_error());
        if (nt_objective_check_space(&c->space) != NT_OK)
            return cli_usage_error(CMD, "%s", nt_last_error());
    }
    nt_space_format(&c->space, c->space_text, sizeof c->space_text);
    return 0;
}

/* ------------------------------------------------------------------ plan */

static bool file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* A name this command writes into DIR: STRATEGY-seedN[.log], compare.csv. */
static bool is_ours(const char *name)
{
    if (!strcmp(name, "compare.csv")) return true;
    const char *s = strstr(name, "-seed");
    if (!s || s == name) return false;
    s += 5;
    size_t digits = strspn(s, "0123456789");
    return digits > 0 && (!s[digits] || !strcmp(s + digits, ".log"));
}

static bool dir_holds_runs(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return false;
    bool found = false;
    for (struct dirent *e; !found && (e = readdir(d));) found = is_ours(e->d_name);
    closedir(d);
    return found;
}

/* The journal's first line (malloc'd), or NULL. */
static char *first_line(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char *line = NULL;
    size_t cap = 0;
    if (getline(&line, &cap, f) <= 0) {
        free(line);
        line = NULL;
    }
    fclose(f);
    return line;
}

/* The study header this comparison's run r would write, for the keys a
 * finished run must share with it. */
static cJSON *expected_header(const compare *c, const run_t *r)
{
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "strategy", KNOWN[c->o.strategy[r->strategy]]);
    cJSON_AddNumberToObject(s, "seed", r->seed);
    if (c->fn) cJSON_AddStringToObject(s, "objective", c->fn->name);
    else cJSON_AddNumberToObject(s, "folds", c->o.folds);
    cJSON_AddNumberToObject(s, "time_budget", c->o.time_budget);
    cJSON_AddStringToObject(s, "space", c->space_text);
    return s;
}

/* A run found on disk must be this comparison's run: same strategy, seed,
 * function or folds, time budget and space, and no more trials than the
 * budget (fewer are continued). The data set is checked by `tune --resume`
 * for runs it continues. Returns 0 or an exit code; *short_budget says the
 * run was made with a smaller --budget (or has no readable header), so it
 * is to be continued. */
static int check_recorded(const compare *c, const run_t *r, const char *line,
                          bool *short_budget)
{
    cJSON *h = cJSON_Parse(line);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(h, "study");
    *short_budget = true;
    if (!cJSON_IsObject(s)) { // not a study header: `tune --resume` says what is wrong
        cJSON_Delete(h);
        return 0;
    }
    cJSON *want = expected_header(c, r);
    int rc = 0;
    for (const cJSON *w = want->child; w && !rc; w = w->next) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, w->string);
        if (v && cJSON_Compare(v, w, true)) continue;
        char *tv = v ? cJSON_PrintUnformatted(v) : strdup("(none)");
        char *tw = cJSON_PrintUnformatted(w);
        rc = cli_usage_error(CMD, "--resume: %s was run with %s %s, this comparison has %s; "
                             "keep the settings, or pass --overwrite or another --out",
                             r->dir, w->string, tv, tw);
        free(tv);
        free(tw);
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(s, "trials");
    int trials = cJSON_IsNumber(t) ? t->valueint : 0;
    if (!rc && trials > c->o.budget)
        rc = cli_usage_error(CMD, "--resume: %s was run with a budget of %d trials, more than "
                             "--budget %d; keep the budget, or pass --overwrite or another "
                             "--out", r->dir, trials, c->o.budget);
    *short_budget = trials < c->o.budget;
    cJSON_Delete(h);
    cJSON_Delete(want);
    return rc;
}

/* best.json of a run folder, parsed (NULL if missing or unreadable). */
static cJSON *read_best_json(const char *dir)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/best.json", dir);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m) {
        fclose(f);
        return NULL;
    }
    char buf[4096];
    for (size_t k; (k = fread(buf, 1, sizeof buf, f)) > 0;) fwrite(buf, 1, k, m);
    fclose(f);
    fclose(m);
    cJSON *j = cJSON_Parse(text);
    free(text);
    return j;
}

/* Done, partial or missing, under --resume; with the checks above. */
static int find_state(const compare *c, run_t *r)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/trials.jsonl", r->dir);
    char *line = first_line(path);
    r->state = RUN_MISSING;
    if (!line) return file_exists(path) ? (r->state = RUN_PARTIAL, 0) : 0;
    bool short_budget = false;
    int rc = check_recorded(c, r, line, &short_budget);
    free(line);
    if (rc) return rc;
    cJSON *best = read_best_json(r->dir);
    bool done = best && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(best, "interrupted"));
    cJSON_Delete(best);
    r->state = done && !short_budget ? RUN_DONE : RUN_PARTIAL;
    return 0;
}

/* The runs, their folders, and what is already on disk. */
static int plan_runs(compare *c)
{
    const cs_opts *o = &c->o;
    if (!o->resume && !o->overwrite && dir_holds_runs(c->dir))
        return cli_usage_error(CMD, "%s already holds runs; pass --resume to continue "
                               "them, --overwrite to replace them, or --out DIR", c->dir);
    c->n_runs = o->n_strategies * o->seeds;
    c->run = calloc((size_t)c->n_runs, sizeof *c->run);
    if (!c->run) return cli_fail(CMD, "out of memory");
    for (int i = 0; i < c->n_runs; i++) {
        run_t *r = &c->run[i];
        r->strategy = i / o->seeds;
        r->seed = i % o->seeds + 1;
        r->exit_code = -1;
        snprintf(r->name, sizeof r->name, "%s-seed%d", KNOWN[o->strategy[r->strategy]],
                 r->seed);
        snprintf(r->dir, sizeof r->dir, "%s/%s", c->dir, r->name);
        snprintf(r->log, sizeof r->log, "%s/%s.log", c->dir, r->name);
        int rc = o->resume ? find_state(c, r) : 0;
        if (rc) return rc;
    }
    return 0;
}

/* "50 trials per run" or "90s per run (at most 1000 trials)". */
static const char *budget_text(const compare *c, char *buf, size_t len)
{
    if (c->o.time_budget > 0)
        snprintf(buf, len, "%gs per run (at most %d trials)", c->o.time_budget, c->o.budget);
    else
        snprintf(buf, len, "%d trials per run", c->o.budget);
    return buf;
}

/* ------------------------------------------------------------------ run */

static volatile sig_atomic_t stop_requested = 0;
static volatile pid_t running[MAX_JOBS];  /* pids of running children; 0 = free */

/* Pass Ctrl-C (and SIGTERM) on to the children, which run in their own
 * process groups: each stops after its trial, as `tune` does; a second one
 * makes them leave at once. */
static void on_signal(int sig)
{
    stop_requested = 1;
    for (int i = 0; i < MAX_JOBS; i++)
        if (running[i] > 0) kill(running[i], SIGINT);
    (void)sig;
}

/* The `tune` command line of run r (argv[0] is "nntune"). */
typedef struct {
    char *v[2 * NT_MAX_PARAMS + 40];
    int n;
    char seed[24], trials[24], time[48], folds[24], batch[24];
} child_args;

static void push(child_args *a, const char *s)
{
    a->v[a->n++] = (char *)s;
    a->v[a->n] = NULL;
}

static void child_argv(const compare *c, const run_t *r, child_args *a)
{
    const cs_opts *o = &c->o;
    a->n = 0;
    push(a, "nntune");
    push(a, "tune");
    if (c->fn) {
        push(a, "--objective");
        push(a, c->fn->name);
    } else {
        push(a, "--data");
        push(a, o->data);
        if (o->test_data) push(a, "--test-data"), push(a, o->test_data);
        snprintf(a->folds, sizeof a->folds, "%d", o->folds);
        push(a, "--folds");
        push(a, a->folds);
        if (o->space_file) push(a, "--space"), push(a, o->space_file);
        for (int i = 0; i < o->n_params; i++) push(a, "--param"), push(a, o->params[i]);
    }
    snprintf(a->seed, sizeof a->seed, "%d", r->seed);
    snprintf(a->trials, sizeof a->trials, "%d", o->budget);
    // explicit, so a network run is not held to tune's default 25 minutes
    if (o->time_budget > 0) snprintf(a->time, sizeof a->time, "%.17g", o->time_budget);
    else snprintf(a->time, sizeof a->time, "none");
    push(a, "--strategy");
    push(a, KNOWN[o->strategy[r->strategy]]);
    push(a, "--seed");
    push(a, a->seed);
    push(a, "--trials");
    push(a, a->trials);
    push(a, "--time-budget");
    push(a, a->time);
    if (!strcmp(KNOWN[o->strategy[r->strategy]], "bayes")) {
        snprintf(a->batch, sizeof a->batch, "%d", o->bayes_batch);
        push(a, "--bayes-batch");
        push(a, a->batch);
    }
    push(a, "--out");
    push(a, r->dir);
    push(a, "--quiet");
    push(a, "--json");
    if (c->jobs > 1) push(a, "--jobs"), push(a, "1");
    if (r->state == RUN_PARTIAL) push(a, "--resume");
    else if (o->overwrite) push(a, "--overwrite");
}

/* Fork and exec run r's child, stdout and stderr into its log; the child
 * gets the signal mask `mask`. */
static pid_t start_child(const compare *c, run_t *r, const sigset_t *mask)
{
    child_args a;
    child_argv(c, r, &a);
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (r->state == RUN_PARTIAL ? O_APPEND : O_TRUNC);
    int fd = open(r->log, flags, 0644);
    if (fd < 0) return -1;
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        // its own process group, so a terminal's Ctrl-C reaches only us and
        // each child is told once; if we die, it stops as on Ctrl-C
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGINT);
        if (getppid() != parent) _exit(EXIT_INTERRUPTED);
        sigprocmask(SIG_SETMASK, mask, NULL);
        int in = open("/dev/null", O_RDONLY);
        if (in >= 0) dup2(in, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        // /proc/self/exe, not a path: a rebuilt ./nntune cannot get in the way,
        // and every run uses the binary this comparison started with
        execv("/proc/self/exe", a.v);
        static const char msg[] = "nntune compare-strategies: cannot execute /proc/self/exe\n";
        ssize_t ignored = write(2, msg, sizeof msg - 1);
        (void)ignored;
        _exit(127);
    }
    int e = errno;
    close(fd);
    errno = e;
    return pid;
}

/* The last non-empty line of a log, for a failure message. */
static void last_log_line(const char *path, char *buf, size_t len)
{
    snprintf(buf, len, "(no output)");
    FILE *f = fopen(path, "r");
    if (!f) return;
    char *line = NULL;
    size_t cap = 0;
    for (ssize_t k; (k = getline(&line, &cap, f)) > 0;) {
        while (k > 0 && (line[k - 1] == '\n' || line[k - 1] == '\r')) line[--k] = '\0';
        if (k > 0) snprintf(buf, len, "%s", line);
    }
    free(line);
    fclose(f);
}

/* "best f -3.32 in 50 trials, 0.4s" from a finished run's best.json. */
static void run_outcome(const run_t *r, char *buf, size_t len)
{
    cJSON *j = read_best_json(r->dir);
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "best");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(b, "value");
    const cJSON *cv = cJSON_GetObjectItemCaseSensitive(b, "cv");
    const cJSON *mean = cJSON_GetObjectItemCaseSensitive(cv, "mean");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "trials");
    const cJSON *sec = cJSON_GetObjectItemCaseSensitive(j, "search_seconds");
    if (cJSON_IsNumber(v) || cJSON_IsNumber(mean))
        snprintf(buf, len, ": best %s %.5g in %d trials, %.3gs", cJSON_IsNumber(v) ? "f" : "CV",
                 cJSON_IsNumber(v) ? v->valuedouble : mean->valuedouble,
                 cJSON_IsNumber(n) ? n->valueint : 0, cJSON_IsNumber(sec) ? sec->valuedouble : 0);
    else
        buf[0] = '\0';
    cJSON_Delete(j);
}

static void note_exit(run_t *r, int status, int done, int todo)
{
    r->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    int w = todo >= 100 ? 3 : todo >= 10 ? 2 : 1;
    char line[400];
    if (r->exit_code == 0) {
        run_outcome(r, line, sizeof line);
        fprintf(stderr, "[%*d/%d] %s done%s\n", w, done, todo, r->name, line);
    } else if (!stop_requested) {
        last_log_line(r->log, line, sizeof line);
        fprintf(stderr, "[%*d/%d] %s FAILED (exit %d): %s\n", w, done, todo, r->name,
                r->exit_code, line);
    }
}

static int slot_of(pid_t pid)
{
    for (int i = 0; i < MAX_JOBS; i++)
        if (running[i] == pid) return i;
    return -1;
}

/* Start run r in a free slot. Ctrl-C is held off from the fork until the
 * child's pid is in running[], so the handler cannot miss the new child. */
static pid_t launch(const compare *c, run_t *r)
{
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigprocmask(SIG_BLOCK, &stop, &old);
    r->pid = start_child(c, r, &old);
    int e = errno;
    if (r->pid > 0) running[slot_of(0)] = r->pid;
    sigprocmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return r->pid;
}

/* Start every run not done, at most c->jobs at once; wait for them all. */
static void run_all(compare *c, int todo)
{
    int next = 0, active = 0, done = 0;
    for (;;) {
        while (!stop_requested && active < c->jobs && next < c->n_runs) {
            run_t *r = &c->run[next++];
            if (r->state == RUN_DONE) continue;
            if (launch(c, r) < 0) {
                cli_fail(CMD, "%s: cannot start a run: %s", r->log, strerror(errno));
                r->exit_code = EXIT_FAIL;
                continue;
            }
            active++;
        }
        if (active == 0) break;
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno == EINTR) continue;
            break; // no children left: nothing more to wait for
        }
        int slot = slot_of(pid);
        if (slot < 0) continue;
        running[slot] = 0;
        active--;
        for (int i = 0; i < c->n_runs; i++)
            if (c->run[i].pid == pid && c->run[i].exit_code < 0)
                note_exit(&c->run[i], status, ++done, todo);
    }
}

/* After Ctrl-C: what is kept and the command that goes on. */
static void print_resume_hint(const compare *c)
{
    int complete = 0;
    for (int i = 0; i < c->n_runs; i++)
        complete += c->run[i].state == RUN_DONE || c->run[i].exit_code == 0;
    fprintf(stderr, "\ninterrupted: %d of %d runs complete; the others keep their finished "
            "trials in %s. To continue the comparison:\n  nntune", complete, c->n_runs, c->dir);
    for (int i = 0; i < c->argc; i++) {
        if (!strcmp(c->argv[i], "--overwrite") || !strcmp(c->argv[i], "--resume")) continue;
        bool plain = strcspn(c->argv[i], " '\"$\\") == strlen(c->argv[i]) && c->argv[i][0];
        fprintf(stderr, plain ? " %s" : " '%s'", c->argv[i]);
    }
    fprintf(stderr, " --resume\n");
}

/* 0 if every run that was started succeeded; else one line on the first
 * failure, with its log's last line (the child's own message). */
static int check_failures(const compare *c, int todo)
{
    int failed = 0;
    const run_t *first = NULL;
    for (int i = 0; i < c->n_runs; i++)
        if (c->run[i].state != RUN_DONE && c->run[i].exit_code != 0)
            failed++, first = first ? first : &c->run[i];
    if (!failed) return 0;
    char line[400];
    last_log_line(first->log, line, sizeof line);
    return cli_fail(CMD, "%d of %d runs failed; %s (exit %d): %s (see %s)", failed, todo,
                    first->name, first->exit_code, line, first->log);
}

/* The children: 0 when every run is complete, else an exit code. */
static int run_children(compare *c)
{
    int todo = 0;
    for (int i = 0; i < c->n_runs; i++) todo += c->run[i].state != RUN_DONE;
    c->jobs = c->o.jobs < todo ? c->o.jobs : todo;
    char budget[64];
    fprintf(stderr, "%s: %d strategies x %d seeds = %d runs of %s, %s, in %s\n", CMD,
            c->o.n_strategies, c->o.seeds, c->n_runs, c->name,
            budget_text(c, budget, sizeof budget), c->dir);
    if (todo == 0) {
        fprintf(stderr, "all %d runs are complete: nothing to run\n", c->n_runs);
        return 0;
    }
    fprintf(stderr, "%d to run, %d at a time; each writes STRATEGY-seedN/ and its "
            "STRATEGY-seedN.log\n", todo, c->jobs);
    if (c->jobs > 1) { // one core each: no BLAS or OpenMP threads on top
        setenv("OPENBLAS_NUM_THREADS", "1", 1);
        setenv("OMP_NUM_THREADS", "1", 1);
    }
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    run_all(c, todo);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (stop_requested) {
        print_resume_hint(c);
        return EXIT_INTERRUPTED;
    }
    return check_failures(c, todo);
}

/* ------------------------------------------------------------------ read */

static double worst(const compare *c)
{
    return c->sense > 0 ? INFINITY : -INFINITY;
}

static bool better(const compare *c, double a, double b)
{
    return c->sense > 0 ? a < b : a > b;
}

/* Run r's journal as best-so-far and finishing-time series, and its
 * best.json's search time and test accuracy. */
static int read_run(compare *c, run_t *r)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/trials.jsonl", r->dir);
    nt_study st = {.best = -1};
    char *header = NULL;
    int dropped = 0;
    long good = 0;
    nt_status rc = nt_journal_read(path, &c->space, &header, &st, &dropped, &good);
    free(header);
    r->best = malloc((size_t)(st.n + 1) * sizeof *r->best);
    r->finished = malloc((size_t)(st.n + 1) * sizeof *r->finished);
    if (rc != NT_OK || !r->best || !r->finished) {
        nt_study_free(&st);
        return cli_fail(CMD, "%s", rc != NT_OK ? nt_last_error() : "out of memory");
    }
    double b = worst(c);
    r->best_trial = -1;
    for (int i = 0; i < st.n; i++) {
        const nt_trial *t = &st.trial[i];
        if (t->status == NT_OK && isfinite(t->metric) && better(c, t->metric, b)) {
            b = t->metric;
            r->best_trial = t->trial;
        }
        r->best[i] = b;
        r->finished[i] = t->finished;
    }
    r->n = st.n;
    r->final = b;
    r->seconds = st.n ? r->finished[st.n - 1] : 0;
    nt_study_free(&st);
    cJSON *bj = read_best_json(r->dir);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(bj, "search_seconds");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(bj, "test_accuracy");
    if (cJSON_IsNumber(s)) r->seconds = s->valuedouble;
    r->test_acc = cJSON_IsNumber(a) ? a->valuedouble : NAN;
    cJSON_Delete(bj);
    return 0;
}

/* ------------------------------------------------------------------ aggregate */

static const run_t *run_of(const compare *c, int s, int seed_index)
{
    return &c->run[s * c->o.seeds + seed_index];
}

static double nan_if_inf(double x)
{
    return isfinite(x) ? x : NAN;
}

/* Each seed's value of a double field of run_t (by offset) for strategy s. */
static double median_field(const compare *c, int s, size_t off, double *v)
{
    for (int i = 0; i < c->o.seeds; i++)
        v[i] = *(const double *)((const char *)run_of(c, s, i) + off);
    return nt_median(v, c->o.seeds);
}

static double best_after(const compare *c, const run_t *r, int k)
{
    return r->n == 0 ? worst(c) : r->best[(k < r->n ? k : r->n) - 1];
}

static double best_at_time(const compare *c, const run_t *r, double t)
{
    double b = worst(c);
    for (int i = 0; i < r->n && r->finished[i] <= t; i++) b = r->best[i];
    return b;
}

/* Median and quartiles of v (n) into med/q1/q3[i], NaN where infinite (a
 * seed that has found nothing yet counts as infinitely bad). */
static void quartiles(const double *v, int n, double *med, double *q1, double *q3, int i)
{
    med[i] = nan_if_inf(nt_quantile(v, n, 0.5));
    q1[i] = nan_if_inf(nt_quantile(v, n, 0.25));
    q3[i] = nan_if_inf(nt_quantile(v, n, 0.75));
}

/* The best any run found; the target; random search's median final. */
static void pick_target(compare *c, double *v)
{
    int random = -1;
    for (int s = 0; s < c->o.n_strategies; s++)
        if (!strcmp(KNOWN[c->o.strategy[s]], "random")) random = s;
    c->best_found = worst(c);
    for (int i = 0; i < c->n_runs; i++) {
        if (better(c, c->run[i].final, c->best_found)) c->best_found = c->run[i].final;
        v[i] = c->run[i].final;
    }
    c->random_med = random >= 0 ? median_field(c, random, offsetof(run_t, final), v + c->n_runs)
                                : NAN;
    if (c->o.target >= 0) {
        c->target_x = c->o.target;
        c->target_why = "set by --target";
    } else if (!c->fn) {
        c->target_x = 0.002;
        c->target_why = "the default for networks: 0.002 accuracy";
    } else {
        double ref = random >= 0 ? c->random_med : nt_median(v, c->n_runs);
        c->target_x = 0.01 * (ref - c->fn->minimum);
        c->target_why = random >= 0 ? "1% of the range from random search's median final f "
                                      "to the known minimum"
                                    : "1% of the range from the median final f of all runs "
                                      "to the known minimum (no random search to measure by)";
        if (!isfinite(c->target_x) || c->target_x < 0) c->target_x = 0;
    }
    c->target_value = c->best_found + c->sense * c->target_x;
}

/* Trials and seconds to the target; regret and normalized score. */
static void score_run(const compare *c, run_t *r)
{
    r->to_target = r->sec_to_target = INFINITY;
    for (int i = 0; i < r->n; i++)
        if (c->sense * (r->best[i] - c->target_value) <= 0) {
            r->to_target = i + 1;
            r->sec_to_target = r->finished[i];
            break;
        }
    r->regret = r->normalized = NAN;
    if (!c->fn) return;
    r->regret = r->final - c->fn->minimum;
    double range = c->random_med - c->fn->minimum;
    // Bayesmark: 0 = the optimum, 1 = random search's median at this budget
    if (range > 0) r->normalized = r->regret / range;
}

static void summarize(compare *c, int s, double *v)
{
    strat_sum *m = &c->sum[s];
    int S = c->o.seeds;
    for (int i = 0; i < S; i++) {
        const run_t *r = run_of(c, s, i);
        m->runs += r->n > 0;
        m->reached += isfinite(r->to_target);
        if (r->n > m->max_trials) m->max_trials = r->n;
    }
    m->med = nan_if_inf(median_field(c, s, offsetof(run_t, final), v));
    m->q1 = nan_if_inf(nt_quantile(v, S, 0.25));
    m->q3 = nan_if_inf(nt_quantile(v, S, 0.75));
    m->to_target = median_field(c, s, offsetof(run_t, to_target), v);
    m->sec_to_target = median_field(c, s, offsetof(run_t, sec_to_target), v);
    m->regret = median_field(c, s, offsetof(run_t, regret), v);
    m->normalized = median_field(c, s, offsetof(run_t, normalized), v);
    m->test_acc = median_field(c, s, offsetof(run_t, test_acc), v);
    m->seconds = median_field(c, s, offsetof(run_t, seconds), v);
    for (int i = 0; i < S; i++) v[i] = run_of(c, s, i)->n;
    m->trials = nt_median(v, S);
    for (int k = 0; k < N_CHECK; k++) {
        for (int i = 0; i < S; i++) v[i] = best_after(c, run_of(c, s, i), CHECKPOINTS[k]);
        m->check[k] = nan_if_inf(nt_median(v, S));
    }
}

/* Median and IQR of the best so far by trial and on the time grid. */
static int curves(compare *c, int s, double *v)
{
    strat_sum *m = &c->sum[s];
    size_t n = (size_t)(m->max_trials > 0 ? m->max_trials : 1);
    m->c_med = malloc(n * sizeof(double));
    m->c_q1 = malloc(n * sizeof(double));
    m->c_q3 = malloc(n * sizeof(double));
    if (!m->c_med || !m->c_q1 || !m->c_q3) return cli_fail(CMD, "out of memory");
    for (int k = 1; k <= m->max_trials; k++) {
        for (int i = 0; i < c->o.seeds; i++) v[i] = best_after(c, run_of(c, s, i), k);
        quartiles(v, c->o.seeds, m->c_med, m->c_q1, m->c_q3, k - 1);
    }
    for (int g = 0; g < TIME_GRID; g++) {
        for (int i = 0; i < c->o.seeds; i++) v[i] = best_at_time(c, run_of(c, s, i), c->tgrid[g]);
        quartiles(v, c->o.seeds, m->t_med, m->t_q1, m->t_q3, g);
    }
    return 0;
}

/* Seeds' curves are put on one time grid from the first finished trial to
 * the last, log-spaced when it spans more than a factor of 20 (a random
 * trial of a test function takes microseconds, a Bayesian one milliseconds). */
static void time_grid(compare *c)
{
    double lo = INFINITY, hi = 0;
    for (int i = 0; i < c->n_runs; i++) {
        const run_t *r = &c->run[i];
        if (r->n == 0) continue;
        if (r->finished[0] < lo) lo = r->finished[0];
        if (r->finished[r->n - 1] > hi) hi = r->finished[r->n - 1];
    }
    if (!(hi > 0)) hi = 1;
    c->log_time = lo > 0 && isfinite(lo) && hi / lo >= 20;
    for (int g = 0; g < TIME_GRID; g++) {
        double f = (double)g / (TIME_GRID - 1);
        c->tgrid[g] = c->log_time ? lo * pow(hi / lo, f) : hi * f;
    }
}

static void test_pair(compare *c, pair_t *p, double *x, double *y)
{
    for (int i = 0; i < c->o.seeds; i++) {
        x[i] = run_of(c, p->a, i)->final;
        y[i] = run_of(c, p->b, i)->final;
        if (better(c, x[i], y[i])) p->wins_a++;
        else if (better(c, y[i], x[i])) p->wins_b++;
        else p->ties++;
    }
    if (nt_wilcoxon_test(x, y, c->o.seeds, &p->w) != NT_OK) p->w.p = NAN;
    // the side whose wins carry the larger rank sum is ahead
    double ra = c->sense > 0 ? p->w.r_minus : p->w.r_plus;
    double rb = c->sense > 0 ? p->w.r_plus : p->w.r_minus;
    p->ahead = ra > rb ? p->a : rb > ra ? p->b : -1;
}

static int aggregate(compare *c)
{
    double *v = malloc((size_t)(2 * c->n_runs + 2 * c->o.seeds) * sizeof *v);
    if (!v) return cli_fail(CMD, "out of memory");
    pick_target(c, v);
    for (int i = 0; i < c->n_runs; i++) score_run(c, &c->run[i]);
    time_grid(c);
    int rc = 0;
    for (int s = 0; s < c->o.n_strategies && !rc; s++) {
        summarize(c, s, v);
        rc = curves(c, s, v);
    }
    for (int a = 0; a < c->o.n_strategies; a++)
        for (int b = a + 1; b < c->o.n_strategies; b++) {
            pair_t *p = &c->pair[c->n_pairs++];
            *p = (pair_t){.a = a, .b = b};
            test_pair(c, p, v, v + c->o.seeds);
        }
    free(v);
    return rc;
}

/* ------------------------------------------------------------------ tables */

/* A small table, printed as markdown on stdout and as HTML in the report. */
#define MAX_COLS 14
typedef struct {
    int cols, rows;
    char head[MAX_COLS][48];
    bool left[MAX_COLS];
    char cell[N_KNOWN][MAX_COLS][64];
} table;

static void col(table *t, const char *head, bool left)
{
    snprintf(t->head[t->cols], sizeof t->head[0], "%s", head);
    t->left[t->cols++] = left;
}

static void put(table *t, int row, int c, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void put(table *t, int row, int c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->cell[row][c], sizeof t->cell[0][0], fmt, ap);
    va_end(ap);
    if (row >= t->rows) t->rows = row + 1;
}

static void table_markdown(FILE *f, const table *t)
{
    for (int j = 0; j < t->cols; j++) fprintf(f, "| %s ", t->head[j]);
    fputs("|\n", f);
    for (int j = 0; j < t->cols; j++) fputs(t->left[j] ? "|:---" : "|---:", f);
    fputs("|\n", f);
    for (int i = 0; i < t->rows; i++) {
        for (int j = 0; j < t->cols; j++) fprintf(f, "| %s ", t->cell[i][j]);
        fputs("|\n", f);
    }
}

static void table_html(FILE *f, const table *t)
{
    fputs("<div class=\"scroll\"><table>\n<tr>", f);
    for (int j = 0; j < t->cols; j++) {
        fputs(t->left[j] ? "<th class=\"l\">" : "<th>", f);
        html_text(f, t->head[j]);
        fputs("</th>", f);
    }
    fputs("</tr>\n", f);
    for (int i = 0; i < t->rows; i++) {
        fputs("<tr>", f);
        for (int j = 0; j < t->cols; j++) {
            fputs(t->left[j] ? "<td class=\"l\">" : "<td>", f);
            html_text(f, t->cell[i][j]);
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table></div>\n", f);
}

/* ------------------------------------------------------------------ format */

/* A value in the metric's units ("-" when there is none). */
static const char *fmt_metric(const compare *c, double v, char *buf, size_t len)
{
    if (!isfinite(v)) snprintf(buf, len, "-");
    else snprintf(buf, len, c->fn ? "%.5g" : "%.4f", v);
    return buf;
}

static const char *fmt_seconds(double s, char *buf, size_t len)
{
    if (!isfinite(s)) snprintf(buf, len, "-");
    else snprintf(buf, len, s >= 100 ? "%.0fs" : "%.3gs", s);
    return buf;
}

static const char *fmt_p(double p, char *buf, size_t len)
{
    if (isnan(p)) snprintf(buf, len, "n/a");
    else snprintf(buf, len, p < 0.001 ? "%.1e" : "%.3f", p);
    return buf;
}

static const char *strategy_name(const compare *c, int s)
{
    return KNOWN[c->o.strategy[s]];
}

static bool have_random(const compare *c)
{
    return !isnan(c->random_med);
}

/* The checkpoints shown: 10, 20, 50 below the budget, then the final. */
static int n_checkpoints(const compare *c)
{
    int k = 0;
    while (k < N_CHECK && CHECKPOINTS[k] < c->o.budget) k++;
    return k;
}

static void strategy_row(const compare *c, table *t, int s)
{
    const strat_sum *m = &c->sum[s];
    char a[32], b[32];
    int j = 0, S = c->o.seeds;
    put(t, s, j++, "%s", strategy_name(c, s));
    put(t, s, j++, "%d", m->runs);
    for (int k = 0; k < n_checkpoints(c); k++)
        put(t, s, j++, "%s", fmt_metric(c, m->check[k], a, sizeof a));
    put(t, s, j++, "%s", fmt_metric(c, m->med, a, sizeof a));
    put(t, s, j++, "%s .. %s", fmt_metric(c, m->q1, a, sizeof a), fmt_metric(c, m->q3, b, sizeof b));
    if (isfinite(m->to_target)) put(t, s, j++, "%.4g (%d/%d)", m->to_target, m->reached, S);
    else put(t, s, j++, "never (%d/%d)", m->reached, S);
    put(t, s, j++, "%s", fmt_seconds(m->sec_to_target, a, sizeof a));
    if (c->fn) {
        put(t, s, j++, "%.3g", m->regret);
        if (have_random(c)) put(t, s, j++, "%.3g", m->normalized);
        else put(t, s, j++, "n/a");
    } else {
        put(t, s, j++, "%s", isnan(m->test_acc) ? "-" : fmt_metric(c, m->test_acc, a, sizeof a));
    }
    put(t, s, j++, "%.3g", m->trials);
    put(t, s, j++, "%s", fmt_seconds(m->seconds, a, sizeof a));
}

static void strategy_table(const compare *c, table *t)
{
    char h[48];
    memset(t, 0, sizeof *t);
    col(t, "strategy", true);
    col(t, "runs", false);
    for (int k = 0; k < n_checkpoints(c); k++) {
        snprintf(h, sizeof h, "after %d", CHECKPOINTS[k]);
        col(t, h, false);
    }
    if (c->o.time_budget > 0) snprintf(h, sizeof h, "at the end");
    else snprintf(h, sizeof h, "after %d", c->o.budget);
    col(t, h, false);
    col(t, "IQR at the end", false);
    col(t, "trials to target", false);
    col(t, "seconds to target", false);
    if (c->fn) {
        col(t, "regret", false);
        col(t, "normalized", false);
    } else {
        col(t, "test accuracy", false);
    }
    col(t, "trials per run", false);
    col(t, "seconds per run", false);
    for (int s = 0; s < c->o.n_strategies; s++) strategy_row(c, t, s);
}

static void pair_table(const compare *c, table *t)
{
    memset(t, 0, sizeof *t);
    col(t, "pair", true);
    col(t, "ahead", true);
    col(t, "wins", false);
    col(t, "ties", false);
    col(t, "pairs tested", false);
    col(t, "W", false);
    col(t, "p (two-sided)", false);
    col(t, "p from", true);
    for (int i = 0; i < c->n_pairs; i++) {
        const pair_t *p = &c->pair[i];
        char pb[32];
        put(t, i, 0, "%s vs %s", strategy_name(c, p->a), strategy_name(c, p->b));
        put(t, i, 1, "%s", p->ahead < 0 ? "neither" : strategy_name(c, p->ahead));
        put(t, i, 2, "%d : %d", p->wins_a, p->wins_b);
        put(t, i, 3, "%d", p->ties);
        put(t, i, 4, "%d", p->w.n);
        put(t, i, 5, "%g", p->w.statistic);
        put(t, i, 6, "%s", fmt_p(p->w.p, pb, sizeof pb));
        put(t, i, 7, "%s", p->w.n == 0 ? "-" : p->w.exact ? "exact" : "normal approx.");
    }
}

/* The fewest non-zero differences with which a two-sided exact p can fall
 * below SIGNIFICANT: all on one side gives p = 2 / 2^n. */
static int fewest_pairs(void)
{
    int n = 1;
    while (2.0 / ldexp(1.0, n) >= SIGNIFICANT) n++;
    return n;
}

/* One plain-English sentence on a pair, the side ahead named first. */
static void pair_sentence(const compare *c, const pair_t *p, char *buf, size_t len)
{
    bool b_first = p->ahead == p->b;
    const char *x = strategy_name(c, b_first ? p->b : p->a);
    const char *y = strategy_name(c, b_first ? p->a : p->b);
    int wx = b_first ? p->wins_b : p->wins_a, wy = b_first ? p->wins_a : p->wins_b;
    int S = c->o.seeds;
    char pb[32], tied[32] = "", few[96] = "";
    fmt_p(p->w.p, pb, sizeof pb);
    if (p->ties) snprintf(tied, sizeof tied, ", %d tied", p->ties);
    if (p->w.n > 0 && p->w.n < fewest_pairs())
        snprintf(few, sizeof few, "; with fewer than %d seeds that differ, no result can reach "
                 "p < %.2g", fewest_pairs(), SIGNIFICANT);
    if (p->w.n == 0)
        snprintf(buf, len, "%s and %s found equally good values on all %d seeds (nothing to "
                 "test).", x, y, p->ties);
    else if (p->ahead >= 0 && p->w.p < SIGNIFICANT)
        snprintf(buf, len, "%s beats %s on %d of %d seeds (Wilcoxon p = %s).", x, y, wx, S, pb);
    else
        snprintf(buf, len, "%s and %s: no significant difference (%s better on %d of %d seeds, "
                 "%s on %d%s; Wilcoxon p = %s%s).", x, y, x, wx, S, y, wy, tied, pb, few);
}

/* What the target is and why, one paragraph. */
static void target_note(const compare *c, char *buf, size_t len)
{
    char t[32], b[32];
    const char *unit = c->fn ? "f" : "accuracy";
    snprintf(buf, len, "Target: %s %s %s, within %.4g of the best any run found (%s); %s. "
             "Trials and seconds to target: medians over seeds, a seed that never got "
             "there counting as never (so the median is never when at most half got there); "
             "(k/S): k of the S seeds got there.", unit,
             c->sense > 0 ? "<=" : ">=", fmt_metric(c, c->target_value, t, sizeof t),
             c->target_x, fmt_metric(c, c->best_found, b, sizeof b), c->target_why);
}

static void print_markdown(FILE *f, const compare *c)
{
    table t;
    char buf[1024];
    fprintf(f, "## Strategies compared on %s: %s, seeds 1..%d\n\n", c->name,
            budget_text(c, buf, sizeof buf), c->o.seeds);
    if (c->fn)
        fprintf(f, "Best f so far (known minimum %.6g), median over seeds.\n\n", c->fn->minimum);
    else
        fprintf(f, "Best cross-validated accuracy so far, median over seeds.\n\n");
    strategy_table(c, &t);
    table_markdown(f, &t);
    target_note(c, buf, sizeof buf);
    fprintf(f, "\n%s\n", buf);
    if (c->fn && have_random(c))
        fprintf(f, "Regret: final best f minus the known minimum. Normalized (Bayesmark): "
                "regret / random search's median regret at the same budget; 0 is the optimum, "
                "1 is random search.\n");
    else if (c->fn)
        fprintf(f, "Regret: final best f minus the known minimum. The normalized score is not "
                "available: it needs random among the strategies.\n");
    if (c->n_pairs == 0) return;
    fprintf(f, "\n### Paired Wilcoxon signed-rank tests of the final best (paired by seed)\n\n");
    pair_table(c, &t);
    table_markdown(f, &t);
    fputc('\n', f);
    for (int i = 0; i < c->n_pairs; i++) {
        pair_sentence(c, &c->pair[i], buf, sizeof buf);
        fprintf(f, "- %s\n", buf);
    }
}

/* ------------------------------------------------------------------ files */

static void csv_num(FILE *f, double v)
{
    if (isfinite(v)) fprintf(f, ",%.10g", v);
    else fputc(',', f);
}

static void write_compare_csv(FILE *f, const compare *c)
{
    fputs("strategy,seed,trials,seconds,best_metric,best_trial,trials_to_target,"
          "seconds_to_target,regret,normalized,test_accuracy\n", f);
    for (int i = 0; i < c->n_runs; i++) {
        const run_t *r = &c->run[i];
        fprintf(f, "%s,%d,%d", strategy_name(c, r->strategy), r->seed, r->n);
        csv_num(f, r->seconds);
        csv_num(f, r->final);
        if (r->best_trial >= 0) fprintf(f, ",%d", r->best_trial);
        else fputc(',', f);
        csv_num(f, r->to_target);
        csv_num(f, r->sec_to_target);
        csv_num(f, r->regret);
        csv_num(f, r->normalized);
        csv_num(f, r->test_acc);
        fputc('\n', f);
    }
}

static void write_curves_csv(FILE *f, const compare *c)
{
    fputs("strategy,trial,median,q1,q3\n", f);
    for (int s = 0; s < c->o.n_strategies; s++) {
        const strat_sum *m = &c->sum[s];
        for (int k = 0; k < m->max_trials; k++) {
            fprintf(f, "%s,%d", strategy_name(c, s), k + 1);
            csv_num(f, m->c_med[k]);
            csv_num(f, m->c_q1[k]);
            csv_num(f, m->c_q3[k]);
            fputc('\n', f);
        }
    }
}

/* One chart of every strategy's median and IQR band, by trial (time =
 * false) or on the time grid. A test function's curves are drawn as regret
 * on a log axis, where convergence is visible. */
static void chart(FILE *f, const compare *c, bool time)
{
    int ns = c->o.n_strategies;
    svg_series ser[N_KNOWN];
    double *buf[N_KNOWN] = {0};
    double shift = c->fn ? c->fn->minimum : 0;
    for (int s = 0; s < ns; s++) {
        const strat_sum *m = &c->sum[s];
        int n = time ? TIME_GRID : m->max_trials;
        const double *med = time ? m->t_med : m->c_med, *q1 = time ? m->t_q1 : m->c_q1;
        const double *q3 = time ? m->t_q3 : m->c_q3;
        buf[s] = malloc((size_t)(4 * n + 1) * sizeof(double));
        ser[s] = (svg_series){.label = strategy_name(c, s), .step = true};
        if (!buf[s]) continue;
        double *x = buf[s], *y = x + n, *lo = y + n, *hi = lo + n;
        for (int i = 0; i < n; i++) {
            x[i] = time ? c->tgrid[i] : i + 1;
            y[i] = med[i] - shift;
            lo[i] = q1[i] - shift;
            hi[i] = q3[i] - shift;
        }
        ser[s] = (svg_series){.label = strategy_name(c, s), .n = n, .x = x, .y = y,
                              .lo = lo, .hi = hi, .step = true};
    }
    svg_axes ax = {
        .title = time ? "Best so far against seconds (median over seeds, IQR shaded)"
                      : "Best so far against trials (median over seeds, IQR shaded)",
        .x_label = time ? "seconds since the run started" : "trials",
        .y_label = c->fn ? "regret: best f so far - known minimum" : "best CV accuracy so far",
        .log_x = time && c->log_time,
        .log_y = c->fn != NULL,
    };
    fputs("<figure>", f);
    svg_lines(f, &ax, ser, ns);
    fputs("</figure>\n", f);
    for (int s = 0; s < ns; s++) free(buf[s]);
}

static void html_para(FILE *f, const char *cls, const char *text)
{
    fprintf(f, "<p class=\"%s\">", cls);
    html_text(f, text);
    fputs("</p>\n", f);
}

static void write_report(FILE *f, const compare *c)
{
    char title[300], buf[2400];
    table t;
    snprintf(title, sizeof title, "Tuning strategies compared on %s", c->name);
    html_page_begin(f, title);
    char budget[64];
    snprintf(buf, sizeof buf, "%d strategies x %d seeds (1..%d), %s, each run an nntune tune "
             "study in %s/STRATEGY-seedN.", c->o.n_strategies, c->o.seeds, c->o.seeds,
             budget_text(c, budget, sizeof budget), c->dir);
    html_para(f, "note", buf);
    fputs("<h2>Summary</h2>\n", f);
    html_para(f, "note", c->fn ? "Best f so far, median over seeds." :
              "Best cross-validated accuracy so far, median over seeds; test accuracy of each "
              "run's refit winner, median over seeds.");
    strategy_table(c, &t);
    table_html(f, &t);
    target_note(c, buf, sizeof buf);
    html_para(f, "note", buf);
    fputs("<h2>Best so far</h2>\n<div class=\"charts\">\n", f);
    chart(f, c, false);
    chart(f, c, true);
    fputs("</div>\n", f);
    if (c->n_pairs) {
        fputs("<h2>Are the differences significant?</h2>\n", f);
        html_para(f, "note", "Paired Wilcoxon signed-rank test of the final best values, "
                  "paired by seed; zero differences dropped; exact for up to 25 pairs without "
                  "ties, else the normal approximation with tie and continuity corrections.");
        pair_table(c, &t);
        table_html(f, &t);
        fputs("<ul>\n", f);
        for (int i = 0; i < c->n_pairs; i++) {
            pair_sentence(c, &c->pair[i], buf, sizeof buf);
            fputs("<li>", f);
            html_text(f, buf);
            fputs("</li>\n", f);
        }
        fputs("</ul>\n", f);
    }
    html_para(f, "muted", "Medians and quartiles interpolate linearly between order "
              "statistics (numpy's default). Per-run numbers: compare.csv; curves: curves.csv.");
    html_page_end(f);
}

typedef void (*writer_fn)(FILE *f, const compare *c);

/* Write DIR/name through a memory buffer, atomically. */
static int write_file(const compare *c, const char *name, writer_fn w)
{
    char *text = NULL, path[1200];
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m) return cli_fail(CMD, "out of memory");
    w(m, c);
    bool ok = fclose(m) == 0;
    snprintf(path, sizeof path, "%s/%s", c->dir, name);
    nt_status s = ok ? nt_write_file_atomic(path, text, len) : NT_ERR_NOMEM;
    free(text);
    if (s != NT_OK) return cli_fail(CMD, "%s", ok ? nt_last_error() : "out of memory");
    return 0;
}

static void print_written(FILE *f, const compare *c)
{
    fprintf(f, "\nwritten to %s:\n"
            "  compare.csv          one row per run (strategy, seed)\n"
            "  curves.csv           median and IQR of the best so far, per trial\n"
            "  report.html          the tables and charts against trials and seconds\n"
            "  STRATEGY-seedN/      each run's folder (trials.jsonl, best.json, ...)\n"
            "  STRATEGY-seedN.log   each run's output\n"
            "open the report: xdg-open %s/report.html\n", c->dir, c->dir);
}

/* ------------------------------------------------------------------ main */

static void compare_free(compare *c)
{
    if (!c) return;
    for (int i = 0; i < c->n_runs; i++) {
        free(c->run[i].best);
        free(c->run[i].finished);
    }
    free(c->run);
    for (int s = 0; s < N_KNOWN; s++) {
        free(c->sum[s].c_med);
        free(c->sum[s].c_q1);
        free(c->sum[s].c_q3);
    }
    free(c);
}

/* Where the comparison lives, and the runs in it. */
static int setup(compare *c, int argc, char **argv)
{
    c->argc = argc;
    c->argv = argv;
    int rc = build_space(c);
    if (rc) return rc;
    c->sense = c->fn ? 1 : -1;  // test functions are minimized; accuracy maximized
    cli_data_name(c->fn ? c->fn->name : c->o.data, c->name, sizeof c->name);
    if (c->o.out) snprintf(c->dir, sizeof c->dir, "%s", c->o.out);
    else snprintf(c->dir, sizeof c->dir, "models/compare-%s", c->name);
    return plan_runs(c);
}

static int report(compare *c)
{
    for (int i = 0; i < c->n_runs; i++) {
        int rc = read_run(c, &c->run[i]);
        if (rc) return rc;
    }
    int rc = aggregate(c);
    if (rc) return rc;
    print_markdown(stdout, c);
    if ((rc = write_file(c, "compare.csv", write_compare_csv)) ||
        (rc = write_file(c, "curves.csv", write_curves_csv)) ||
        (rc = write_file(c, "report.html", write_report)))
        return rc;
    print_written(stdout, c);
    return 0;
}

int cmd_compare_strategies(int argc, char **argv)
{
    compare *c = calloc(1, sizeof *c);
    if (!c) return cli_fail(CMD, "out of memory");
    int rc = parse_args(argc, argv, &c->o);
    if (rc) rc = rc < 0 ? EXIT_OK : rc;
    else if (!(rc = setup(c, argc, argv))) {
        if (!cli_make_dir(CMD, c->dir)) rc = EXIT_FAIL;
        else if (!(rc = run_children(c))) rc = report(c);
    }
    compare_free(c);
    return rc;
}
