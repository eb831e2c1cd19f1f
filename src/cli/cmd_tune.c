/* cmd_tune.c - `nntune [tune]`: search, cross-validate, refit the best,
 * test it once, and write the run folder. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "progress.h"
#include "report.h"
#include "nntune/journal.h"
#include "nntune/model.h"
#include "nntune/objective.h"
#include "nntune/testfn.h"

typedef struct {
    const char *data, *test_data, *objective, *strategy, *space_file, *out;
    const char *params[NT_MAX_PARAMS];
    int n_params;
    int trials, folds, grid_points, initial_points, bayes_batch, jobs;
    nt_metric metric;
    double time_budget, es_frac;
    uint64_t seed;
    bool json, quiet, verbose, explain, overwrite, trials_set, time_set, resume;
} tune_opts;

enum { T_DATA = 1, T_TEST_DATA, T_OBJECTIVE, T_STRATEGY, T_SPACE, T_PARAM,
       T_TRIALS, T_FOLDS, T_METRIC, T_GRID_POINTS, T_INITIAL, T_TIME, T_SEED,
       T_JOBS, T_OUT, T_JSON, T_QUIET, T_EXPLAIN, T_OVERWRITE, T_ES_FRAC,
       T_RESUME, T_HELP, T_LIST, T_VERBOSE, T_BAYES_BATCH };

static const struct option LONGOPTS[] = {
    {"data", required_argument, 0, T_DATA},
    {"test-data", required_argument, 0, T_TEST_DATA},
    {"objective", required_argument, 0, T_OBJECTIVE},
    {"strategy", required_argument, 0, T_STRATEGY},
    {"space", required_argument, 0, T_SPACE},
    {"param", required_argument, 0, T_PARAM},
    {"trials", required_argument, 0, T_TRIALS},
    {"folds", required_argument, 0, T_FOLDS},
    {"metric", required_argument, 0, T_METRIC},
    {"grid-points", required_argument, 0, T_GRID_POINTS},
    {"initial-points", required_argument, 0, T_INITIAL},
    {"bayes-batch", required_argument, 0, T_BAYES_BATCH},
    {"time-budget", required_argument, 0, T_TIME},
    {"seed", required_argument, 0, T_SEED},
    {"jobs", required_argument, 0, T_JOBS},
    {"out", required_argument, 0, T_OUT},
    {"json", no_argument, 0, T_JSON},
    {"quiet", no_argument, 0, T_QUIET},
    {"verbose", no_argument, 0, T_VERBOSE},
    {"explain", no_argument, 0, T_EXPLAIN},
    {"overwrite", no_argument, 0, T_OVERWRITE},
    {"es-frac", required_argument, 0, T_ES_FRAC},
    {"resume", no_argument, 0, T_RESUME},
    {"list-objectives", no_argument, 0, T_LIST},
    {"help", no_argument, 0, T_HELP},
    {0, 0, 0, 0},
};

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: nntune [tune] --data mnist --strategy grid|random|bayes [options]\n"
        "       nntune [tune] --objective branin --strategy bayes [options]\n"
        "Search hyperparameters, scoring every trial by stratified k-fold\n"
        "cross-validation on the training set; refit the best on all of it;\n"
        "test that model once; write the run folder.\n\n"
        "What to tune:\n"
        "  --data NAME|PATH     mnist, fashion-mnist, an IDX folder or a CSV  [mnist]\n"
        "  --test-data FILE     test CSV for a CSV --data\n"
        "  --objective NAME     a test function instead of a network (see\n"
        "                       --list-objectives); no data, no refit\n"
        "  --list-objectives    list the test functions and their minima\n"
        "  --space FILE         search space file            [the built-in MNIST space]\n"
        "  --param 'LINE'       add or replace one parameter, e.g.\n"
        "                       --param 'lr = loguniform(1e-4, 1e-1)' (repeatable)\n"
        "How to search:\n"
        "  --strategy NAME      grid, random or bayes                         [bayes]\n"
        "  --trials N           trial budget                 [50; grid: the whole grid]\n"
        "  --time-budget T      start no trial after T (90s, 20m, 1.5h; none)\n"
        "                       [25m for a network; none for --objective]\n"
        "  --grid-points N      grid: values per real or integer range           [3]\n"
        "  --initial-points N   bayes: space-filling design size [2*dims+2 in 5..20,\n"
        "                       at most a quarter of --trials]\n"
        "  --bayes-batch N      bayes: after the design, trials come in batches\n"
        "                       of N, each chosen without its batch's earlier\n"
        "                       results, so a batch trains side by side\n"
        "                       [2; 1 for --objective]\n"
        "  --seed N             seed of the whole study                          [1]\n"
        "How to score:\n"
        "  --folds K            stratified cross-validation folds                [3]\n"
        "  --metric NAME        accuracy, loss or f1 (macro)              [accuracy]\n"
        "  --es-frac F          slice of each fold's training part watched by\n"
        "                       early stopping; 0 turns early stopping off     [0.1]\n"
        "  --jobs J             folds trained at once, one BLAS thread each;\n"
        "                       grid, random and bayes's initial design and\n"
        "                       batches run several trials' folds together to\n"
        "                       keep all J busy (the scores do not depend on J)\n"
        "                       [cores]\n"
        "Output:\n"
        "  --out DIR            run folder                [models/DATA-STRATEGY]\n"
        "  --overwrite          replace an existing run folder's study\n"
        "  --resume             continue the study in the run folder: finished\n"
        "                       trials are kept, not run again (same settings)\n"
        "  --explain            say why each point was chosen\n"
        "  --json               JSON summary on stdout (progress to stderr)\n"
        "  --quiet              no per-trial lines, no status line\n"
        "  --verbose            also a line for every epoch of every fold\n"
        "  --help               this text\n\n"
        "Hyperparameters the space leaves out take `nntune train`'s defaults,\n"
        "except early-stopping patience: 4 epochs inside a fold.\n"
        "The run folder holds trials.jsonl (the journal), trials.csv, best.json,\n"
        "space.txt, model.nnt (the refit best model) and report.html (see\n"
        "`nntune report --help`).\n"
        "Exit codes: 0 done, 1 run-time error, 2 bad option, 130 interrupted.\n");
}

static volatile sig_atomic_t stop_requested = 0;

static void on_sigint(int sig)
{
    if (stop_requested) _exit(EXIT_INTERRUPTED); // second Ctrl-C: leave now
    stop_requested = 1;
    (void)sig;
}

static int parse_args(int argc, char **argv, tune_opts *o)
{
    const char *cmd = "tune";
    memset(o, 0, sizeof *o);
    o->data = "mnist";
    o->strategy = "bayes";
    o->trials = 0; // set after parsing: it depends on the strategy
    o->folds = 3;
    o->grid_points = 3;
    o->seed = 1;
    o->es_frac = 0.1;
    o->metric = NT_METRIC_ACCURACY;
    int code, k;
    optind = 1;
    opterr = 0;
    while ((code = getopt_long(argc, argv, "", LONGOPTS, NULL)) != -1) {
        bool ok = true;
        switch (code) {
        case T_HELP: usage(stdout); return -1;
        case T_LIST: {
            int n;
            const nt_testfn *all = nt_testfn_all(&n);
            for (int i = 0; i < n; i++)
                printf("%-16s %d-D, minimum %.6g: %s\n", all[i].name, all[i].dims,
                       all[i].minimum, all[i].about);
            return -1;
        }
        case T_DATA: o->data = optarg; break;
        case T_TEST_DATA: o->test_data = optarg; break;
        case T_OBJECTIVE: o->objective = optarg; break;
        case T_STRATEGY: o->strategy = optarg; break;
        case T_SPACE: o->space_file = optarg; break;
        case T_PARAM:
            if (o->n_params == NT_MAX_PARAMS)
                return cli_usage_error(cmd, "--param: at most %d", NT_MAX_PARAMS);
            o->params[o->n_params++] = optarg;
            break;
        case T_TRIALS: ok = cli_int(cmd, "trials", optarg, 1, 1000000, &o->trials);
            o->trials_set = true; break;
        case T_FOLDS: ok = cli_int(cmd, "folds", optarg, 2, NT_MAX_FOLDS, &o->folds); break;
        case T_METRIC:
            if ((k = nt_metric_parse(optarg)) < 0)
                return cli_usage_error(cmd, "--metric: expected accuracy, loss or f1, got '%s'", optarg);
            o->metric = (nt_metric)k;
            break;
        case T_GRID_POINTS: ok = cli_int(cmd, "grid-points", optarg, 2, 100, &o->grid_points); break;
        case T_INITIAL: ok = cli_int(cmd, "initial-points", optarg, 1, 10000, &o->initial_points); break;
        case T_BAYES_BATCH: ok = cli_int(cmd, "bayes-batch", optarg, 1, NT_MAX_BAYES_BATCH, &o->bayes_batch); break;
        case T_TIME:
            o->time_set = true;
            if (!strcmp(optarg, "none") || !strcmp(optarg, "0")) o->time_budget = 0;
            else ok = cli_duration(cmd, "time-budget", optarg, &o->time_budget);
            break;
        case T_SEED: ok = cli_u64(cmd, "seed", optarg, &o->seed); break;
        case T_JOBS: ok = cli_int(cmd, "jobs", optarg, 1, 256, &o->jobs); break;
        case T_OUT: o->out = optarg; break;
        case T_JSON: o->json = true; break;
        case T_QUIET: o->quiet = true; break;
        case T_VERBOSE: o->verbose = true; break;
        case T_EXPLAIN: o->explain = true; break;
        case T_OVERWRITE: o->overwrite = true; break;
        case T_ES_FRAC: ok = cli_double(cmd, "es-frac", optarg, 0, 0.5, &o->es_frac); break;
        case T_RESUME: o->resume = true; break;
        default:
            return cli_usage_error(cmd, "unknown or incomplete option '%s' (see nntune --help)",
                                   argv[optind - 1]);
        }
        if (!ok) return EXIT_USAGE;
    }
    if (optind < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (strcmp(o->strategy, "grid") && strcmp(o->strategy, "random") && strcmp(o->strategy, "bayes"))
        return cli_usage_error(cmd, "--strategy: expected grid, random or bayes, got '%s'",
                               o->strategy);
    if (o->bayes_batch && strcmp(o->strategy, "bayes"))
        return cli_usage_error(cmd, "--bayes-batch: only for --strategy bayes (this is %s)",
                               o->strategy);
    // Defaults sized so the README's one command finishes in about half an
    // hour on two cores: 50 trials, and at most 25 minutes of search for a
    // network; the whole grid for grid search.
    if (!o->trials_set)
        o->trials = !strcmp(o->strategy, "grid") ? 1000000 : 50;
    if (!o->time_set && !o->objective) o->time_budget = 25 * 60;
    if (o->resume && o->overwrite)
        return cli_usage_error(cmd, "--resume and --overwrite contradict each other");
    if (o->objective && (o->space_file || o->n_params))
        return cli_usage_error(cmd, "--objective brings its own space: drop --space/--param");
    return 0;
}

/* The search space: a test function's, or a file / the default, then the
 * --param lines in order. */
static int build_space(const tune_opts *o, const nt_testfn *fn, nt_space *space)
{
    const char *cmd = "tune";
    if (fn) {
        nt_testfn_space(fn, space);
        return 0;
    }
    if (o->space_file) {
        if (nt_space_load(o->space_file, space) != NT_OK)
            return cli_usage_error(cmd, "%s", nt_last_error());
    } else {
        nt_space_default_mnist(space);
    }
    for (int i = 0; i < o->n_params; i++)
        if (nt_space_add_line(space, o->params[i], "--param") != NT_OK)
            return cli_usage_error(cmd, "%s", nt_last_error());
    if (nt_objective_check_space(space) != NT_OK)
        return cli_usage_error(cmd, "%s", nt_last_error());
    return 0;
}

/* The live status line, drawn in place at the bottom of a terminal (never
 * into a pipe or a file): trial i of N, each fold's epoch (and those of the
 * next trials when a batch trains them alongside), elapsed time, an
 * estimate of the time left, the best so far. Fold threads update it. */
typedef struct {
    term_line term;              /* term.on: a terminal and not --quiet */
    bool on, verbose;
    pthread_mutex_t lock;
    FILE *f;
    int trial, trials, folds, epochs;
    int fold_epoch[NT_MAX_BATCH][NT_MAX_FOLDS]; /* [trial - trial][fold] */
    double t0, budget, best;
    int finished;                /* trials finished in this run */
    double finished_seconds;     /* and their total time */
} status_line;

/* Redraw; the caller holds the lock. */
static void status_draw(status_line *sl)
{
    double elapsed = nt_now() - sl->t0;
    char line[512], el[32], eta[48] = "", bar[32];
    int n = sl->trials > 0 ? sl->trials : 1;
    term_bar(bar, 20, (double)sl->trial / n);
    term_duration(el, sizeof el, elapsed);
    if (sl->finished > 0) {
        double left = sl->finished_seconds / sl->finished * (sl->trials - sl->trial);
        if (sl->budget > 0 && sl->budget - elapsed < left) left = sl->budget - elapsed;
        char d[32];
        term_duration(d, sizeof d, left > 0 ? left : 0);
        snprintf(eta, sizeof eta, ", about %s left", d);
    }
    int w = snprintf(line, sizeof line, "%s trial %d/%d  fold epochs", bar,
                     sl->trial + 1, sl->trials);
    for (int k = 0; k < sl->folds && w < (int)sizeof line; k++)
        w += snprintf(line + w, sizeof line - (size_t)w, " %d", sl->fold_epoch[0][k]);
    if (w < (int)sizeof line)
        w += snprintf(line + w, sizeof line - (size_t)w, " of %d", sl->epochs);
    for (int b = 1; b < NT_MAX_BATCH; b++) {  // later trials of the batch, once started
        bool started = false;
        for (int k = 0; k < sl->folds; k++) started |= sl->fold_epoch[b][k] > 0;
        if (!started) continue;
        if (w < (int)sizeof line)
            w += snprintf(line + w, sizeof line - (size_t)w, " (trial %d:", sl->trial + b + 1);
        for (int k = 0; k < sl->folds && w < (int)sizeof line; k++)
            w += snprintf(line + w, sizeof line - (size_t)w, " %d", sl->fold_epoch[b][k]);
        if (w < (int)sizeof line) w += snprintf(line + w, sizeof line - (size_t)w, ")");
    }
    if (w < (int)sizeof line)
        w += snprintf(line + w, sizeof line - (size_t)w, "  %s%s", el, eta);
    if (w < (int)sizeof line && isfinite(sl->best))
        snprintf(line + w, sizeof line - (size_t)w, "  best %.4f", sl->best);
    term_line_draw(&sl->term, line);
}

/* Clear the line before ordinary output; the caller holds the lock. */
static void status_clear(status_line *sl)
{
    term_line_clear(&sl->term);
}

static void status_epoch(int trial, int fold, const nt_epoch_stats *s, void *user)
{
    status_line *sl = user;
    pthread_mutex_lock(&sl->lock);
    int b = trial - sl->trial;
    if (fold < NT_MAX_FOLDS && b >= 0 && b < NT_MAX_BATCH) sl->fold_epoch[b][fold] = s->epoch;
    if (sl->verbose) {
        status_clear(sl);
        fprintf(sl->f, "    trial %d fold %d epoch %2d  train loss %.4f", trial + 1, fold + 1,
                s->epoch, s->train_loss);
        if (isfinite(s->val_loss))
            fprintf(sl->f, "  early-stopping slice: loss %.4f acc %.2f%%", s->val_loss,
                    100 * s->val_acc);
        fprintf(sl->f, "  lr %.2e  %.1fs\n", s->lr, s->seconds);
        fflush(sl->f);
    }
    if (sl->on && (sl->verbose || nt_now() - sl->term.last_draw > 0.2)) status_draw(sl);
    pthread_mutex_unlock(&sl->lock);
}

/* State the per-trial callback needs. */
typedef struct {
    FILE *out;
    const nt_space *space;
    nt_journal journal;
    nt_status journal_rc;
    int trials;
    bool quiet, explain, network, color;
    nt_metric metric;
    const nt_study *study;       /* for the best so far */
    status_line *status;         /* NULL when not on a terminal */
    char partial[1200];          /* RUN/partial.json: trials cut short */
    int n_held;                  /* the trials it holds and their finished */
    int held[2 * NT_MAX_BATCH];  /* folds, in trial order */
    int held_folds[2 * NT_MAX_BATCH];
    const nt_trial *resumed;     /* (n_resumed) what it held on --resume */
    int n_resumed;
    nt_trial kept[NT_MAX_BATCH]; /* (n_kept) the trials a stop cut short
                                    that have finished folds; owned */
    int n_kept;
} progress;

static int popcount(uint32_t m)
{
    int n = 0;
    for (; m; m &= m - 1) n++;
    return n;
}

/* partial.json holds trials t[0..n) now. */
static void hold(progress *p, const nt_trial *t, int n)
{
    p->n_held = n;
    for (int i = 0; i < n; i++) {
        p->held[i] = t[i].trial;
        p->held_folds[i] = popcount(t[i].folds_done);
    }
}

/* A stop request cut a batch short and trial t has finished folds: keep
 * them in partial.json, so --resume does not train them again. The file
 * holds every such trial of the batch so far (they come in trial order),
 * and the trials it held on --resume that are still to come and that this
 * batch did not reach. */
static void on_interrupted(const nt_trial *t, int best, void *user)
{
    progress *p = user;
    (void)best;
    if (p->n_kept == NT_MAX_BATCH) return; // (a batch has no more trials)
    nt_trial *k = &p->kept[p->n_kept++];
    *k = *t;
    k->curves = nt_curves_copy(t->curves, t->n_folds);
    nt_trial all[2 * NT_MAX_BATCH];
    int n = 0;
    for (int i = 0; i < p->n_kept; i++) all[n++] = p->kept[i];
    for (int i = 0; i < p->n_resumed; i++)
        if (p->resumed[i].trial > t->trial && n < 2 * NT_MAX_BATCH) all[n++] = p->resumed[i];
    if (nt_partial_write(p->partial, p->space, all, n) != NT_OK) {
        fprintf(stderr, "nntune tune: %s (the finished folds of trial %d will run again)\n",
                nt_last_error(), t->trial + 1);
        return;
    }
    hold(p, all, n);
}

static void print_trial(const progress *p, const nt_trial *t, int best);

static void on_trial(const nt_trial *t, int best, void *user)
{
    progress *p = user;
    if (p->journal_rc == NT_OK) {
        p->journal_rc = nt_journal_append(&p->journal, p->space, t);
        if (p->journal_rc != NT_OK) {
            fprintf(stderr, "nntune tune: %s; stopping\n", nt_last_error());
            stop_requested = 1;
        }
    }
    // the last cut-short trial is in the journal now, whole
    if (p->journal_rc == NT_OK && p->n_held > 0 && t->trial == p->held[p->n_held - 1]) {
        remove(p->partial);
        p->n_held = 0;
    }
    if (p->quiet) return;
    status_line *sl = p->status;
    if (sl) {
        pthread_mutex_lock(&sl->lock);
        status_clear(sl);
        sl->finished++;
        sl->finished_seconds += t->seconds;
        // trial t is done: the rows of the trials after it move up
        int shift = t->trial + 1 - sl->trial;
        if (shift < 1 || shift > NT_MAX_BATCH) shift = NT_MAX_BATCH;
        memmove(sl->fold_epoch[0], sl->fold_epoch[shift],
                (size_t)(NT_MAX_BATCH - shift) * sizeof sl->fold_epoch[0]);
        memset(sl->fold_epoch[NT_MAX_BATCH - shift], 0, (size_t)shift * sizeof sl->fold_epoch[0]);
        sl->trial = t->trial + 1;
        if (best >= 0) sl->best = p->study->trial[best].metric;
    }
    print_trial(p, t, best);
    if (sl) {
        if (sl->trial < sl->trials) status_draw(sl);
        pthread_mutex_unlock(&sl->lock);
    }
}

/* After a trial, for --explain: what cross-validation measured. */
static void explain_cv(const progress *p, const nt_trial *t, int best)
{
    FILE *f = p->out;
    if (t->status != NT_OK) {
        fprintf(f, "  so what: the trial failed, so it has no score; the strategy is told "
                "it failed, never given a made-up score\n");
        return;
    }
    if (!p->network) {
        fprintf(f, "  so what: f = %.6g %s\n", t->metric,
                best >= 0 && p->study->trial[best].trial == t->trial
                    ? "is the lowest so far: the new best" : "does not beat the best");
        return;
    }
    double lo = t->fold_metric[0], hi = lo;
    for (int k = 1; k < t->n_folds; k++) {
        lo = t->fold_metric[k] < lo ? t->fold_metric[k] : lo;
        hi = t->fold_metric[k] > hi ? t->fold_metric[k] : hi;
    }
    fprintf(f, "  so what: %d folds, each trained on %d/%d of the data and scored on the "
            "rest, gave %s from %.4f to %.4f (spread %.4f, std %.4f); ", t->n_folds,
            t->n_folds - 1, t->n_folds, nt_metric_name(p->metric), lo, hi, hi - lo,
            t->metric_std);
    if (best >= 0 && p->study->trial[best].trial == t->trial)
        fprintf(f, "their mean %.4f is the new best\n", t->metric);
    else if (best >= 0) {
        const nt_trial *b = &p->study->trial[best];
        double gap = fabs(t->metric - b->metric);
        fprintf(f, "their mean %.4f is %.4f %s the best (#%d)%s\n", t->metric, gap,
                p->metric == NT_METRIC_LOSS ? "above" : "below", b->trial + 1,
                gap < t->metric_std + b->metric_std ? ", within the folds' noise" : "");
    } else {
        fprintf(f, "their mean is %.4f\n", t->metric);
    }
}

static void print_trial(const progress *p, const nt_trial *t, int best)
{
    FILE *f = p->out;
    bool c = p->color;
    char params[1024];
    nt_assign_format(p->space, &t->values, params, sizeof params);
    if (p->explain && t->why[0]) fprintf(f, "  why #%d: %s\n", t->trial + 1, t->why);
    fprintf(f, "trial %3d/%d ", t->trial + 1, p->trials);
    const char *mname = p->network ? nt_metric_name(p->metric) : "f";
    if (t->status != NT_OK) {
        fprintf(f, " %s%s%s: %s  %.1fs  %s\n", term_on(c, TERM_BAD),
                t->status == NT_ERR_NUMERIC ? "DIVERGED" : "FAILED", term_off(c), t->reason,
                t->seconds, params);
        if (p->explain) explain_cv(p, t, best);
        fflush(f);
        return;
    }
    bool is_best = best >= 0 && p->study->trial[best].trial == t->trial;
    if (p->network) {
        int ep = 0;
        for (int k = 0; k < t->n_folds; k++) ep += t->fold_ran[k];
        fprintf(f, " %s %s%.4f%s ± %.4f [", mname, term_on(c && is_best, TERM_GOOD), t->metric,
                term_off(c && is_best), t->metric_std);
        for (int k = 0; k < t->n_folds; k++) fprintf(f, "%s%.4f", k ? " " : "", t->fold_metric[k]);
        fprintf(f, "]  ep %2d  %5.1fs", t->n_folds ? (ep + t->n_folds / 2) / t->n_folds : 0,
                t->seconds);
    } else {
        fprintf(f, " f %s%.6g%s", term_on(c && is_best, TERM_GOOD), t->metric,
                term_off(c && is_best));
    }
    if (best >= 0) {
        const nt_trial *b = &p->study->trial[best];
        fprintf(f, "  best %.4g (#%d)", b->metric, b->trial + 1);
    }
    fprintf(f, "  %s%s%s\n", term_on(c, TERM_DIM), params, term_off(c));
    if (p->explain) explain_cv(p, t, best);
    fflush(f);
}

static double test_function_value = 0;

typedef struct {
    const nt_testfn *fn;
} fn_ctx;

static nt_status testfn_objective(void *ctx, const nt_space *space, nt_trial *t)
{
    fn_ctx *c = ctx;
    t->metric = nt_testfn_eval(c->fn, space, &t->values);
    t->metric_std = 0;
    t->score = t->metric;
    t->status = isfinite(t->metric) ? NT_OK : NT_ERR_NUMERIC;
    if (t->status != NT_OK) snprintf(t->reason, sizeof t->reason, "value is %g", t->metric);
    test_function_value = t->metric;
    return NT_OK;
}

static char *study_header(const tune_opts *o, const char *space_text, const char *source)
{
    cJSON *h = cJSON_CreateObject();
    cJSON *s = cJSON_AddObjectToObject(h, "study");
    cJSON_AddStringToObject(s, "nntune", NT_VERSION);
    cJSON_AddStringToObject(s, "strategy", o->strategy);
    cJSON_AddNumberToObject(s, "seed", (double)o->seed);
    if (o->objective) cJSON_AddStringToObject(s, "objective", o->objective);
    else {
        cJSON_AddStringToObject(s, "data", source);
        cJSON_AddNumberToObject(s, "folds", o->folds);
        cJSON_AddStringToObject(s, "metric", nt_metric_name(o->metric));
        cJSON_AddNumberToObject(s, "es_frac", o->es_frac);
    }
    cJSON_AddNumberToObject(s, "trials", o->trials);
    cJSON_AddNumberToObject(s, "time_budget", o->time_budget);
    cJSON_AddNumberToObject(s, "grid_points", o->grid_points);
    cJSON_AddNumberToObject(s, "initial_points", o->initial_points);
    if (!strcmp(o->strategy, "bayes")) cJSON_AddNumberToObject(s, "bayes_batch", o->bayes_batch);
    cJSON_AddStringToObject(s, "space", space_text);
    time_t now = time(NULL);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    cJSON_AddStringToObject(s, "created", stamp);
    char *out = cJSON_PrintUnformatted(h);
    cJSON_Delete(h);
    return out;
}

static cJSON *cv_json(const nt_trial *t, nt_metric metric)
{
    cJSON *cv = cJSON_CreateObject();
    cJSON_AddStringToObject(cv, "metric", nt_metric_name(metric));
    cJSON_AddNumberToObject(cv, "mean", t->metric);
    cJSON_AddNumberToObject(cv, "std", t->metric_std);
    cJSON *f = cJSON_AddArrayToObject(cv, "folds");
    cJSON *e = cJSON_AddArrayToObject(cv, "fold_epochs");
    for (int k = 0; k < t->n_folds; k++) {
        cJSON_AddItemToArray(f, cJSON_CreateNumber(t->fold_metric[k]));
        cJSON_AddItemToArray(e, cJSON_CreateNumber(t->fold_epochs[k]));
    }
    return cv;
}

typedef struct {
    FILE *out;
    int epochs;
} refit_printer;

static bool refit_epoch(const nt_epoch_stats *s, void *user)
{
    refit_printer *p = user;
    fprintf(p->out, "  refit epoch %2d/%d  loss %.4f  acc %6.2f%%  lr %.2e  %5.1fs\n",
            s->epoch, p->epochs, s->train_loss, 100 * s->train_acc, s->lr, s->seconds);
    fflush(p->out);
    return !stop_requested;
}

/* "11, 19, 13": a trial's early-stopping epoch per fold (static buffer). */
static const char *refit_epoch_list(const nt_trial *t)
{
    static char buf[256];
    int w = 0;
    buf[0] = '\0';
    for (int k = 0; k < t->n_folds && w < (int)sizeof buf - 16; k++)
        w += snprintf(buf + w, sizeof buf - (size_t)w, "%s%d", k ? ", " : "", t->fold_epochs[k]);
    return buf;
}

/* --explain after the test: how the one-off test score compares with the
 * cross-validated estimate that chose the model. */
static void explain_test(FILE *out, nt_metric metric, const nt_trial *best, const nt_metrics *m)
{
    double test = metric == NT_METRIC_ACCURACY ? m->accuracy
                  : metric == NT_METRIC_LOSS   ? m->loss
                                               : m->macro_f1;
    double gap = test - best->metric, sd = best->metric_std;
    fprintf(out, "  why test once: cross-validation estimated %s %.4f ± %.4f for these settings; "
            "the test set, untouched until now, measures %.4f (%+.4f). ", nt_metric_name(metric),
            best->metric, sd, test, gap);
    if (fabs(gap) <= 2 * sd + 1e-12)
        fprintf(out, "That is within two fold standard deviations: the estimate held. ");
    else if ((metric == NT_METRIC_LOSS) == (gap < 0))
        fprintf(out, "Better than the estimate: the refit model trained on more data than any "
                "fold. ");
    else
        fprintf(out, "Worse than the estimate: choosing the best of many trials flatters its "
                "CV score (the winner's curse). ");
    fprintf(out, "Had the test set been looked at while choosing, this number would be "
            "flattered in the same way; used once, it is an honest estimate for new data.\n");
}

/* Refit the best trial on all training data, test it once, save it.
 * Fills the JSON summary. Returns an exit code. */
static int refit_and_test(const tune_opts *o, const nt_space *space, const nt_cv *cv,
                          const nt_trial *best, const nt_dataset *train,
                          const nt_dataset *test, const char *model_path, FILE *out,
                          cJSON *summary)
{
    const char *cmd = "tune";
    nt_arch arch = cv->base_arch;
    nt_train_config cfg = cv->base;
    cfg.stop = &stop_requested;
    nt_hparams_apply(space, &best->values, &arch, &cfg);
    cfg.epochs = nt_cv_refit_epochs(best);
    // one network and every core: each owns a block of the weights' rows
    // (shards.h), which beats one pass on BLAS's threads at these sizes
    cfg.shards = cli_training_shards();
    nt_net net = {0};
    nt_history hist = {0};
    nt_metrics m = {0};
    int rc = EXIT_FAIL;
    nt_rng init_rng = nt_rng_stream(o->seed, 0x7265666974ULL), train_rng = nt_rng_stream(o->seed, 0x72656678ULL);
    nt_view all = nt_view_all(train), tv = nt_view_all(test);
    if (nt_net_init(&arch, cfg.batch > 256 ? cfg.batch : 256, &init_rng, &net) != NT_OK) goto fail;
    if (!o->quiet)
        fprintf(out, "\nrefit: trial %d's settings on all %zu training images for %d epochs "
                "(the mean of its folds' early-stopping epochs), no early stopping\n",
                best->trial + 1, train->n, cfg.epochs);
    if (o->explain && !o->quiet)
        fprintf(out, "  why: each fold trained on %d/%d of the training set and held the rest "
                "back to score it; the winner's settings now train on all of it, so the final "
                "model sees every example. Nothing is left to watch for early stopping, so it "
                "runs the %d epochs its folds' early stopping chose on average (%s).\n",
                best->n_folds - 1, best->n_folds, cfg.epochs, refit_epoch_list(best));
    refit_printer rp = {out, cfg.epochs};
    nt_status st = nt_train(&net, &cfg, &all, NULL, &train_rng,
                            o->quiet ? NULL : refit_epoch, &rp, &hist);
    if (st == NT_ERR_INTERRUPTED) { rc = cli_fail(cmd, "refit interrupted; no model saved"); goto done; }
    if (st != NT_OK) goto fail;
    if (nt_metrics_init(test->n_classes, &m) != NT_OK || nt_evaluate(&net, &tv, &m) != NT_OK)
        goto fail;
    if (!o->quiet || !o->json) {
        fprintf(out, "\ntest set, used once: ");
        cli_print_metrics(out, &m);
    }
    if (o->explain && !o->quiet) explain_test(out, o->metric, best, &m);
    cJSON *meta = cJSON_CreateObject();
    cJSON_AddStringToObject(meta, "nntune", NT_VERSION);
    cJSON_AddStringToObject(meta, "data", train->source);
    cJSON *hp = nt_assign_to_json(space, &best->values);
    cJSON_AddNumberToObject(hp, "refit_epochs", cfg.epochs);
    cJSON_AddItemToObject(meta, "hyperparameters", hp);
    cJSON_AddItemToObject(meta, "cv", cv_json(best, o->metric));
    cJSON_AddNumberToObject(meta, "test_accuracy", m.accuracy);
    char *text = cJSON_PrintUnformatted(meta);
    cJSON_Delete(meta);
    st = nt_model_save(model_path, &net, text);
    free(text);
    if (st != NT_OK) goto fail;
    cJSON *r = cJSON_AddObjectToObject(summary, "refit");
    cJSON_AddNumberToObject(r, "epochs", cfg.epochs);
    cJSON_AddNumberToObject(r, "seconds", hist.seconds);
    cJSON *curve = cJSON_AddObjectToObject(r, "curve");
    cJSON *loss = cJSON_AddArrayToObject(curve, "train_loss");
    cJSON *acc = cJSON_AddArrayToObject(curve, "train_acc");
    for (int e = 0; e < hist.n; e++) {
        cJSON_AddItemToArray(loss, cJSON_CreateNumber(hist.epoch[e].train_loss));
        cJSON_AddItemToArray(acc, cJSON_CreateNumber(hist.epoch[e].train_acc));
    }
    cJSON_AddItemToObject(summary, "test", cli_metrics_json(&m));
    cJSON_AddNumberToObject(summary, "test_accuracy", m.accuracy);
    cJSON_AddNumberToObject(summary, "test_loss", m.loss);
    cJSON_AddStringToObject(summary, "model", model_path);
    rc = EXIT_OK;
    goto done;
fail:
    rc = cli_fail(cmd, "%s", nt_last_error());
done:
    nt_metrics_free(&m);
    nt_history_free(&hist);
    nt_net_free(&net);
    return rc;
}

/* A number a study header records (0 if none): a resumed study with a
 * larger --trials keeps the initial design it started with, and its bayes
 * batch. */
static int recorded_int(const char *header, const char *key)
{
    cJSON *h = cJSON_Parse(header);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(h, "study"), key);
    int n = cJSON_IsNumber(v) ? (int)v->valuedouble : 0;
    cJSON_Delete(h);
    return n;
}

/* How many bayes trials a recorded study proposes together: its
 * bayes_batch, or 1 for a study from before --bayes-batch, which proposed
 * its trials one at a time. */
static int recorded_bayes_batch(const char *header)
{
    int batch = recorded_int(header, "bayes_batch");
    return batch ? batch : 1;
}

/* The journal's first line if it is a study header (malloc'd), else NULL. */
static char *recorded_header(const char *journal)
{
    FILE *f = fopen(journal, "r");
    if (!f) return NULL;
    char *line = NULL;
    size_t cap = 0;
    bool ok = false;
    if (getline(&line, &cap, f) > 0) {
        cJSON *h = cJSON_Parse(line);
        ok = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(h, "study"));
        cJSON_Delete(h);
    }
    fclose(f);
    if (!ok) {
        free(line);
        return NULL;
    }
    return line;
}

/* A resumed study must be the same study: compare the settings recorded
 * in its journal header with this run's. Returns 0 or an exit code. */
static int check_resume(const char *dir, const char *old_header, const char *new_header)
{
    static const char *const keys[] = {"strategy", "seed", "objective", "data",
                                       "folds", "metric", "es_frac", "grid_points",
                                       "initial_points", "bayes_batch", "space"};
    cJSON *a = cJSON_Parse(old_header), *b = cJSON_Parse(new_header);
    const cJSON *sa = cJSON_GetObjectItemCaseSensitive(a, "study");
    const cJSON *sb = cJSON_GetObjectItemCaseSensitive(b, "study");
    int rc = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0] && !rc; i++) {
        const cJSON *va = cJSON_GetObjectItemCaseSensitive(sa, keys[i]);
        const cJSON *vb = cJSON_GetObjectItemCaseSensitive(sb, keys[i]);
        if (!va && !vb) continue;
        if (va && vb && cJSON_Compare(va, vb, true)) continue;
        // a header without bayes_batch still matches the batch it implies
        if (!va && !strcmp(keys[i], "bayes_batch") && cJSON_IsNumber(vb) &&
            vb->valuedouble == recorded_bayes_batch(old_header))
            continue;
        char *ta = va ? cJSON_PrintUnformatted(va) : strdup("(none)");
        char *tb = vb ? cJSON_PrintUnformatted(vb) : strdup("(none)");
        rc = cli_usage_error("tune", "--resume: %s was run with %s %s, this run has %s; "
                             "resume with the same settings or pick another --out",
                             dir, keys[i], ta, tb);
        free(ta);
        free(tb);
    }
    cJSON_Delete(a);
    cJSON_Delete(b);
    return rc;
}

/* ", and the 2 finished folds of trial 5" or ", and 5 finished folds of
 * trials 5, 6 and 8": what partial.json holds from trial `next` on, into
 * text (empty for nothing). */
static void held_folds_text(const progress *p, int next, char *text, size_t len)
{
    int trials = 0, folds = 0, first = 0;
    for (int i = p->n_held - 1; i >= 0 && p->held[i] >= next; i--) {
        trials++;
        folds += p->held_folds[i];
        first = i;
    }
    text[0] = '\0';
    if (trials == 0) return;
    size_t at = (size_t)snprintf(text, len, trials == 1 ? ", and the %d finished fold%s of trial"
                                                        : ", and %d finished fold%s of trials",
                                 folds, folds == 1 ? "" : "s");
    for (int i = first; i < p->n_held && at < len; i++) {
        const char *sep = i == first ? " " : i == p->n_held - 1 ? " and " : ", ";
        at += (size_t)snprintf(text + at, len - at, "%s%d", sep, p->held[i] + 1);
    }
}

/* After Ctrl-C: what was kept and the command that continues the study. */
static void print_resume_hint(int argc, char **argv, const progress *p, int trials,
                              const char *dir)
{
    fflush(stdout); // after what stdout holds, also in a pipe
    fprintf(stderr, "\ninterrupted: %d finished trial%s kept in %s (trials.jsonl, "
            "trials.csv, report.html)", trials, trials == 1 ? "" : "s", dir);
    char held[512];
    held_folds_text(p, trials, held, sizeof held);
    if (held[0]) fprintf(stderr, "%s (partial.json)", held);
    fprintf(stderr, "; no refit. To continue the study:\n  nntune");
    bool has_resume = false;
    for (int i = 1; i < argc; i++) {
        has_resume |= !strcmp(argv[i], "--resume");
        bool plain = strcspn(argv[i], " '\"$\\") == strlen(argv[i]) && argv[i][0];
        fprintf(stderr, plain ? " %s" : " '%s'", argv[i]);
    }
    fprintf(stderr, "%s\n", has_resume ? "" : " --resume");
}

/* On --resume: the trials a stop cut short that are still to come (trial
 * `next` on) from partial.json, into cut; their count is returned (0: none,
 * and a stale or unreadable file is removed, with a word why). */
static int take_partial(progress *pg, const nt_space *space, int next, nt_trial *cut)
{
    struct stat sb;
    if (stat(pg->partial, &sb) != 0) return 0;
    int n = 0;
    if (nt_partial_read(pg->partial, space, cut, NT_MAX_BATCH, &n) != NT_OK) {
        fprintf(stderr, "nntune tune: ignoring %s; its folds will run again\n",
                nt_last_error());
        remove(pg->partial);
        return 0;
    }
    int kept = 0;
    for (int i = 0; i < n; i++) {
        if (cut[i].trial >= next) { // else it finished later: nothing to take
            cut[kept++] = cut[i];
            continue;
        }
        nt_curves_free(cut[i].curves, cut[i].n_folds);
    }
    if (kept == 0) remove(pg->partial);
    pg->resumed = cut;
    pg->n_resumed = kept;
    hold(pg, cut, kept);
    return kept;
}

static int default_jobs(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores < 1 ? 1 : cores > 256 ? 256 : (int)cores;
}

static int gcd(int a, int b)
{
    while (b) {
        int r = a % b;
        a = b;
        b = r;
    }
    return a;
}

/* Trials to score together when the strategy allows: the fewest whose
 * folds fill whole rounds of `jobs` (3 folds on 2 jobs: 2 trials, 6 folds
 * in 3 rounds instead of 2 rounds a trial with a core idle in the second),
 * taken as many times as gives at least MIN_ROUNDS rounds (3 folds on 2
 * jobs: 8 trials, 12 rounds). A batch waits for its last fold, and while it
 * runs the other cores have nothing to take: when one core runs slower
 * than the other, as a shared VM's often do, 3 rounds left the fast core
 * idle for most of a fold each batch, and the grid benchmark took 13%
 * longer than with 6 (benchmarks/README.md item 22). A batch starts its
 * costliest trials first (objective.c), so that its last folds are its
 * cheapest: the more trials a batch holds, the more it has to choose from
 * (item 28: 12 rounds, the whole 8-point grid in one batch). One job has
 * no core to fill: one trial at a time. */
enum { MIN_ROUNDS = 12 };

static int trials_per_batch(int folds, int jobs)
{
    if (jobs <= 1) return 1;
    const int whole = jobs / gcd(folds, jobs), rounds = folds * whole / jobs;
    const int n = whole * ((MIN_ROUNDS + rounds - 1) / rounds);
    return n < NT_MAX_BATCH ? n : NT_MAX_BATCH;
}

/* Folds that can train at once: the jobs, unless a batch has fewer folds. */
static int folds_at_once(int folds, int jobs)
{
    int most = folds * trials_per_batch(folds, jobs);
    return jobs < most ? jobs : most;
}

int cmd_tune(int argc, char **argv)
{
    const char *cmd = "tune";
    tune_opts o;
    int prc = parse_args(argc, argv, &o);
    if (prc != 0) return prc < 0 ? EXIT_OK : prc;
    FILE *out = o.json ? stderr : stdout;

    const nt_testfn *fn = NULL;
    if (o.objective && !(fn = nt_testfn_find(o.objective)))
        return cli_usage_error(cmd, "--objective: unknown test function '%s' "
                               "(see --list-objectives)", o.objective);
    nt_space space;
    int rc = build_space(&o, fn, &space);
    if (rc) return rc;
    // the space as text: in the journal header, space.txt and the banner
    char space_text[8192];
    nt_space_format(&space, space_text, sizeof space_text);

    char name[256], dir[1024], path[1200];
    cli_data_name(fn ? fn->name : o.data, name, sizeof name);
    if (o.out) snprintf(dir, sizeof dir, "%s", o.out);
    else snprintf(dir, sizeof dir, "models/%s-%s", name, o.strategy);
    snprintf(path, sizeof path, "%s/trials.jsonl", dir);
    struct stat sb;
    bool exists = stat(path, &sb) == 0;
    if (exists && !o.overwrite && !o.resume)
        return cli_usage_error(cmd, "%s already holds a study; pass --resume to "
                               "continue it, --overwrite to replace it, or --out "
                               "DIR to start another", dir);
    if (!exists && o.resume)
        return cli_usage_error(cmd, "--resume: no study to resume in %s", dir);

    nt_dataset train = {0}, test = {0};
    nt_cv cv = {0};
    nt_strategy *st = NULL;
    nt_study study = {.best = -1};
    progress pg = {0};
    nt_trial cut[NT_MAX_BATCH]; // trials a stop cut short, read back on --resume
    int n_cut = 0;
    cJSON *summary = cJSON_CreateObject();
    char *header = NULL, *old_header = NULL;
    fn_ctx fc = {fn};
    bool ran = false; // the loop ran: the journal is worth a report
    bool show_hint = false; // interrupted: say how to resume, last
    int blas_threads = 0;   // BLAS's own thread count, for the refit
    rc = EXIT_FAIL;
    if (!fn) {
        if (!cli_load_data(cmd, o.data, o.test_data, &train, &test)) goto done;
        cli_model_opts mo;
        cli_model_defaults(&mo);
        cv.train = &train;
        cv.folds = o.folds;
        cv.metric = o.metric;
        cv.es_frac = o.es_frac;
        cv.seed = o.seed;
        cv.base_arch = mo.arch;
        cv.base_arch.n_in = (int)train.d;
        cv.base_arch.n_out = train.n_classes;
        cv.base = mo.cfg;
        cv.base.patience = 4;
        cv.jobs = o.jobs ? o.jobs : default_jobs();
        cv.stop = &stop_requested;
        if (nt_cv_init(&cv) != NT_OK) {
            rc = cli_usage_error(cmd, "--folds: %s", nt_last_error());
            goto done;
        }
        // Every fold trains on one BLAS thread, whatever --jobs is: OpenBLAS's
        // sgemm gives bitwise different sums on 1 and 2 threads, and a fold's
        // score must not depend on --jobs or on the machine's core count (a
        // resume elsewhere would drift). Parallelism comes from the folds.
        blas_threads = cli_blas_threads();
        cli_set_threads(1);
    }
    snprintf(pg.partial, sizeof pg.partial, "%s/partial.json", dir);
    // the study being resumed, read once: its settings decide what follows
    old_header = o.resume ? recorded_header(path) : NULL;
    if (old_header && !o.initial_points) o.initial_points = recorded_int(old_header, "initial_points");
    if (old_header && !o.bayes_batch) o.bayes_batch = recorded_bayes_batch(old_header);
    // pairs by default when trials train folds: a lone fold (3 folds on 2
    // cores) then shares its round with the next trial's first fold
    if (!o.bayes_batch) o.bayes_batch = o.objective ? 1 : 2;
    if (!o.initial_points && !strcmp(o.strategy, "bayes")) {
        // the strategy's own default (2*dims+2 within 5..20), but at most a
        // quarter of the budget: the model needs trials of its own
        int d = 2 * space.dims + 2;
        d = d < 5 ? 5 : d > 20 ? 20 : d;
        int quarter = o.trials / 4 > 5 ? o.trials / 4 : 5;
        o.initial_points = d < quarter ? d : quarter;
    }
    nt_strategy_options so = {.grid_points = o.grid_points,
                              .initial_points = o.initial_points,
                              .batch = o.bayes_batch,
                              .seed = o.seed};
    if (nt_strategy_create(o.strategy, &space, &so, &st) != NT_OK) {
        rc = cli_usage_error(cmd, "%s", nt_last_error());
        goto done;
    }
    if (!cli_make_dir(cmd, dir)) goto done;
    header = study_header(&o, space_text, fn ? fn->name : train.source);
    if (o.resume) {
        // settings first: another study's trials may not even fit this space
        rc = old_header ? check_resume(dir, old_header, header) : 0;
        if (rc) goto done;
        rc = EXIT_FAIL;
        char *old = NULL;
        int dropped = 0;
        long good = 0;
        if (nt_journal_read(path, &space, &old, &study, &dropped, &good) != NT_OK) goto fail;
        free(old);
        if (nt_journal_append_open(path, good, &pg.journal) != NT_OK) goto fail;
        n_cut = fn ? 0 : take_partial(&pg, &space, study.n, cut);
        cv.resume = cut;
        cv.n_resume = n_cut;
        if (!o.quiet) {
            char held[512];
            held_folds_text(&pg, study.n, held, sizeof held);
            fprintf(out, "resuming %s: %d finished trials kept%s%s\n", dir, study.n,
                    dropped ? ", a torn last line (cut off mid-write) dropped" : "", held);
        }
    } else {
        // a replaced study must not leave the old one's results behind
        static const char *const stale[] = {"trials.csv", "best.json", "model.nnt",
                                            "report.html", "partial.json"};
        for (size_t i = 0; i < sizeof stale / sizeof stale[0]; i++) {
            char old_file[1200];
            snprintf(old_file, sizeof old_file, "%s/%s", dir, stale[i]);
            remove(old_file);
        }
        if (nt_journal_create(path, header, &pg.journal) != NT_OK) goto fail;
    }
    {
        char sp[1200];
        snprintf(sp, sizeof sp, "%s/space.txt", dir);
        if (nt_write_file_atomic(sp, space_text, strlen(space_text)) != NT_OK) goto fail;
    }

    long grid_n = !strcmp(o.strategy, "grid") ? nt_grid_size(&space, o.grid_points) : 0;
    int shown = grid_n > 0 && grid_n < o.trials ? (int)grid_n : o.trials;
    pg.out = out;
    pg.space = &space;
    pg.trials = shown;
    pg.quiet = o.quiet;
    pg.explain = o.explain;
    pg.color = term_use_color(out);
    pg.network = fn == NULL;
    pg.metric = o.metric;
    pg.study = &study;
    if (!o.quiet) {
        // bayes: " (a 12-point design, then trials in pairs)"
        char how[80] = "", then[32] = "one trial at a time";
        if (o.bayes_batch == 2) snprintf(then, sizeof then, "trials in pairs");
        if (o.bayes_batch > 2) snprintf(then, sizeof then, "trials in batches of %d", o.bayes_batch);
        if (!strcmp(o.strategy, "bayes"))
            snprintf(how, sizeof how, " (a %d-point design, then %s)", o.initial_points, then);
        if (fn)
            fprintf(out, "tuning %s (%d-D, known minimum %.6g) with %s search%s, %d trials\n",
                    fn->name, fn->dims, fn->minimum, o.strategy, how, shown);
        else
            fprintf(out, "tuning on %s, %zu training images, with %s search%s: %d trials"
                    "%s, each scored by %d-fold stratified cross-validation (%s), "
                    "%d fold(s) at a time\n", train.source, train.n, o.strategy, how, shown,
                    o.time_budget > 0 ? " or the time budget" : "", o.folds,
                    nt_metric_name(o.metric), folds_at_once(o.folds, cv.jobs));
        fprintf(out, "search space (%d dimensions):\n", space.dims);
        for (const char *line = space_text; *line;) {
            size_t len = strcspn(line, "\n");
            fprintf(out, "  %.*s\n", (int)len, line);
            line += len + (line[len] == '\n');
        }
        fprintf(out, "run folder: %s\n\n", dir);
    }

    status_line sl = {.f = out, .trials = shown, .folds = o.folds, .t0 = nt_now(),
                      .budget = o.time_budget, .best = NAN, .trial = study.n};
    sl.term = term_line_start(out, !fn && !o.quiet);
    sl.on = sl.term.on;
    sl.verbose = !fn && o.verbose && !o.quiet;
    pthread_mutex_init(&sl.lock, NULL);
    if (sl.on || sl.verbose) {
        cv.on_epoch = status_epoch;
        cv.user = &sl;
    }
    if (sl.on) {
        int e = nt_space_find(&space, "epochs");
        sl.epochs = e < 0 ? cv.base.epochs
                    : space.p[e].kind == NT_P_FIXED ? (int)space.p[e].fixed_num
                                                    : (int)space.p[e].hi;
        pg.status = &sl;
        if (study.n > 0 && study.best >= 0) sl.best = study.trial[study.best].metric;
        pthread_mutex_lock(&sl.lock);
        status_draw(&sl);
        pthread_mutex_unlock(&sl.lock);
    }

    struct sigaction sa = {0};
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    nt_tuner_config tc = {.trials = o.trials, .time_budget = o.time_budget,
                          .stop = &stop_requested, .on_trial = on_trial,
                          .on_interrupted = on_interrupted, .user = &pg};
    if (!fn) {
        tc.score_batch = nt_cv_objective_batch;
        tc.batch = trials_per_batch(o.folds, cv.jobs);
    }
    nt_status ts = fn ? nt_tune(&space, st, testfn_objective, &fc, &tc, &study)
                      : nt_tune(&space, st, nt_cv_objective, &cv, &tc, &study);
    ran = true;
    nt_journal_close(&pg.journal);
    if (sl.on) {
        pthread_mutex_lock(&sl.lock);
        status_clear(&sl);
        pthread_mutex_unlock(&sl.lock);
        pg.status = NULL;
    }
    cv.on_epoch = NULL;
    pthread_mutex_destroy(&sl.lock);
    if (ts != NT_OK) goto fail;
    if (pg.journal_rc != NT_OK) {
        rc = cli_fail(cmd, "the journal could not be written; results are incomplete");
        goto done;
    }
    snprintf(path, sizeof path, "%s/trials.csv", dir);
    if (nt_trials_csv(path, &space, &study) != NT_OK) goto fail;

    cJSON_AddStringToObject(summary, "strategy", o.strategy);
    cJSON_AddNumberToObject(summary, "trials", study.n);
    cJSON_AddNumberToObject(summary, "failed", study.failures);
    cJSON_AddStringToObject(summary, "ended", study.ended);
    cJSON_AddNumberToObject(summary, "search_seconds", study.seconds);
    cJSON_AddStringToObject(summary, "run_folder", dir);
    if (!o.quiet)
        fprintf(out, "\n%d trials in %.1fs (%d failed); ended: %s\n", study.n, study.seconds,
                study.failures, study.ended);
    if (stop_requested) cJSON_AddBoolToObject(summary, "interrupted", true);
    if (study.best < 0) {
        if (stop_requested) {
            show_hint = true;
            rc = EXIT_INTERRUPTED;
        } else {
            rc = cli_fail(cmd, "no trial succeeded; nothing to refit (see %s/trials.csv)", dir);
        }
        goto done;
    }
    const nt_trial *best = &study.trial[study.best];
    {
        char params[1024];
        nt_assign_format(&space, &best->values, params, sizeof params);
        if (!o.quiet) {
            if (fn)
                fprintf(out, "best: trial %d, f = %.6g (known minimum %.6g, regret %.3g)\n  %s\n",
                        best->trial + 1, best->metric, fn->minimum, best->metric - fn->minimum,
                        params);
            else
                fprintf(out, "best: trial %d, cross-validated %s %.4f ± %.4f\n  %s\n",
                        best->trial + 1, nt_metric_name(o.metric), best->metric,
                        best->metric_std, params);
        }
        cJSON *b = cJSON_AddObjectToObject(summary, "best");
        cJSON_AddNumberToObject(b, "trial", best->trial);
        cJSON_AddItemToObject(b, "params", nt_assign_to_json(&space, &best->values));
        if (fn) {
            cJSON_AddNumberToObject(b, "value", best->metric);
            cJSON_AddNumberToObject(b, "regret", best->metric - fn->minimum);
        } else {
            cJSON_AddItemToObject(b, "cv", cv_json(best, o.metric));
        }
    }
    if (!fn && !stop_requested) {
        char model_path[1200];
        snprintf(model_path, sizeof model_path, "%s/model.nnt", dir);
        cli_set_threads(blas_threads); // one network: all the threads again
        rc = refit_and_test(&o, &space, &cv, best, &train, &test, model_path, out, summary);
        if (rc != EXIT_OK) goto done;
        if (!o.quiet) fprintf(out, "\nmodel saved to %s\n", model_path);
    }
    {
        char *text = cJSON_Print(summary);
        snprintf(path, sizeof path, "%s/best.json", dir);
        nt_status ws = nt_write_file_atomic(path, text, strlen(text));
        if (ws == NT_OK && o.json) puts(text);
        free(text);
        if (ws != NT_OK) goto fail;
    }
    if (stop_requested) {
        show_hint = true;
        rc = EXIT_INTERRUPTED;
    } else {
        rc = EXIT_OK;
    }
    goto done;
fail:
    rc = cli_fail(cmd, "%s", nt_last_error());
done:
    // the report shows whatever the journal holds: a finished, failed or
    // interrupted study alike
    if (ran && report_write(dir) != NT_OK)
        fprintf(stderr, "nntune tune: report: %s\n", nt_last_error());
    else if (ran && !o.quiet)
        fprintf(out, "report: %s/report.html\n", dir);
    if (show_hint) print_resume_hint(argc, argv, &pg, study.n, dir);
    for (int i = 0; i < n_cut; i++) nt_curves_free(cut[i].curves, cut[i].n_folds);
    for (int i = 0; i < pg.n_kept; i++) nt_curves_free(pg.kept[i].curves, pg.kept[i].n_folds);
    free(header);
    free(old_header);
    cJSON_Delete(summary);
    nt_journal_close(&pg.journal);
    nt_study_free(&study);
    nt_strategy_free(st);
    nt_cv_free(&cv);
    nt_dataset_free(&train);
    nt_dataset_free(&test);
    return rc;
}
