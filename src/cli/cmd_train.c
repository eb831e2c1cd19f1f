/* cmd_train.c - `nntune train`, `nntune eval` and `nntune lr-find`. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "progress.h"
#include "nntune/model.h"
#include "nntune/shards.h"
#include "nntune/split.h"

/* Options every data command shares. */
typedef struct {
    const char *data;
    const char *test_data;
    uint64_t seed;
    int threads;
    bool json;
    bool quiet;
} common_opts;

enum { C_DATA = 1, C_TEST_DATA, C_SEED, C_THREADS, C_JSON, C_QUIET, C_HELP,
       C_SAVE, C_MODEL, C_START, C_END, C_STEPS };

static const char COMMON_HELP[] =
    "Data and run:\n"
    "  --data NAME|PATH   mnist, fashion-mnist, a folder of IDX files or a\n"
    "                     CSV file (label first)                   [mnist]\n"
    "  --test-data FILE   test CSV for a CSV --data     [the 'test' twin]\n"
    "  --seed N           seed for initialization, shuffles, dropout  [1]\n"
    "  --threads N        threads (0: one per core, or as many as\n"
    "                     OPENBLAS_NUM_THREADS says). train splits\n"
    "                     every step between N threads, each owning a\n"
    "                     block of every layer's weight rows, so its\n"
    "                     result depends on N; eval and lr-find give N\n"
    "                     threads to BLAS                             [0]\n"
    "  --json             print a JSON summary on stdout (progress goes\n"
    "                     to stderr)\n"
    "  --quiet            no per-epoch lines\n"
    "  --help             this text\n";

static void common_defaults(common_opts *c)
{
    memset(c, 0, sizeof *c);
    c->data = "mnist";
    c->seed = 1;
}

/* Returns 1 handled, 0 not a common option, -1 bad value. */
static int common_option(const char *cmd, int code, const char *arg, common_opts *c)
{
    switch (code) {
    case C_DATA: c->data = arg; return 1;
    case C_TEST_DATA: c->test_data = arg; return 1;
    case C_SEED: return cli_u64(cmd, "seed", arg, &c->seed) ? 1 : -1;
    case C_THREADS: return cli_int(cmd, "threads", arg, 0, NT_MAX_SHARDS, &c->threads) ? 1 : -1;
    case C_JSON: c->json = true; return 1;
    case C_QUIET: c->quiet = true; return 1;
    }
    return 0;
}

#define COMMON_LONGOPTS                                      \
    {"data", required_argument, 0, C_DATA},                  \
    {"test-data", required_argument, 0, C_TEST_DATA},        \
    {"seed", required_argument, 0, C_SEED},                  \
    {"threads", required_argument, 0, C_THREADS},            \
    {"json", no_argument, 0, C_JSON},                        \
    {"quiet", no_argument, 0, C_QUIET},                      \
    {"help", no_argument, 0, C_HELP}

/* Build the long-options table: extra entries, then the model options. */
static void build_longopts(struct option *out, const struct option *extra, size_t n_extra)
{
    size_t k = 0;
    for (size_t i = 0; i < n_extra; i++) out[k++] = extra[i];
    for (const struct option *o = CLI_MODEL_LONGOPTS; o->name; o++) out[k++] = *o;
    memset(&out[k], 0, sizeof out[k]);
}

static cJSON *hyper_json(const cli_model_opts *o, uint64_t seed)
{
    const nt_train_config *c = &o->cfg;
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "optimizer", nt_opt_name(c->opt.kind));
    cJSON_AddNumberToObject(h, "lr", c->lr);
    if (c->opt.kind == NT_OPT_SGD) {
        cJSON_AddNumberToObject(h, "momentum", c->opt.momentum);
        cJSON_AddBoolToObject(h, "nesterov", c->opt.nesterov);
    }
    cJSON_AddNumberToObject(h, "batch", c->batch);
    cJSON_AddNumberToObject(h, "epochs", c->epochs);
    cJSON_AddNumberToObject(h, "l2", c->l2);
    cJSON_AddStringToObject(h, "schedule", nt_sched_name(c->schedule));
    cJSON_AddNumberToObject(h, "warmup_epochs", c->warmup_epochs);
    cJSON_AddNumberToObject(h, "patience", c->patience);
    cJSON_AddNumberToObject(h, "val_frac", o->val_frac);
    cJSON_AddNumberToObject(h, "seed", (double)seed);
    return h;
}

/* Per-epoch lines, and on a terminal a status line under them: a bar,
 * the epoch, elapsed and estimated time left, the best validation so far. */
typedef struct {
    FILE *out;
    int epochs;
    bool color;
    term_line term;
    double best_acc;
    int best_epoch;
} epoch_printer;

static bool print_epoch(const nt_epoch_stats *s, void *user)
{
    epoch_printer *p = user;
    bool is_best = !isnan(s->val_loss) && s->val_acc > p->best_acc;
    if (is_best) {
        p->best_acc = s->val_acc;
        p->best_epoch = s->epoch;
    }
    term_line_clear(&p->term);
    fprintf(p->out, "epoch %3d/%d  loss %.4f  acc %6.2f%%", s->epoch, p->epochs,
            s->train_loss, 100 * s->train_acc);
    if (!isnan(s->val_loss))
        fprintf(p->out, "  val_loss %.4f  val_acc %s%6.2f%%%s", s->val_loss,
                term_on(p->color && is_best, TERM_GOOD), 100 * s->val_acc,
                term_off(p->color && is_best));
    fprintf(p->out, "  lr %.2e  %6.1fs\n", s->lr, s->seconds);
    if (p->term.on && s->epoch < p->epochs) {
        char line[256], bar[32], el[32], left[32];
        term_bar(bar, 20, (double)s->epoch / p->epochs);
        term_duration(el, sizeof el, s->seconds);
        term_duration(left, sizeof left, s->seconds / s->epoch * (p->epochs - s->epoch));
        int w = snprintf(line, sizeof line, "%s epoch %d/%d  %s, about %s left", bar,
                         s->epoch + 1, p->epochs, el, left);
        if (p->best_epoch > 0 && w < (int)sizeof line)
            snprintf(line + w, sizeof line - (size_t)w, "  best val_acc %.2f%% (epoch %d)",
                     100 * p->best_acc, p->best_epoch);
        term_line_draw(&p->term, line);
    }
    fflush(p->out);
    return true;
}

/* Load --data and fit the network's inputs and outputs to it. EXIT_OK, or
 * the exit code after the error is printed. */
static int load_for_model(const char *cmd, const common_opts *co, cli_model_opts *mo,
                          nt_dataset *train, nt_dataset *test)
{
    if (!cli_load_data(cmd, co->data, co->test_data, train, test)) return EXIT_FAIL;
    mo->arch.n_in = (int)train->d;
    mo->arch.n_out = train->n_classes;
    if (nt_arch_check(&mo->arch) != NT_OK)
        return cli_usage_error(cmd, "%s", nt_last_error());
    return EXIT_OK;
}

static void train_usage(FILE *f)
{
    fprintf(f, "Usage: nntune train [options]\n"
               "Train one dense network, test it once on the test set and save it.\n\n"
               "%s"
               "  --save FILE        where to write the model\n"
               "                     [models/DATA-train.nnt]\n\n%s",
            COMMON_HELP, CLI_MODEL_HELP);
}

int cmd_train(int argc, char **argv)
{
    const char *cmd = "train";
    common_opts co;
    cli_model_opts mo;
    common_defaults(&co);
    cli_model_defaults(&mo);
    const char *save = NULL;
    static const struct option extra[] = {COMMON_LONGOPTS,
                                          {"save", required_argument, 0, C_SAVE}};
    struct option longopts[64];
    build_longopts(longopts, extra, sizeof extra / sizeof extra[0]);
    int code;
    optind = 1;
    opterr = 0;
    while ((code = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (code == C_HELP) { train_usage(stdout); return EXIT_OK; }
        if (code == C_SAVE) { save = optarg; continue; }
        if (code == '?' || code == ':')
            return cli_usage_error(cmd, "unknown or incomplete option '%s' (see nntune train --help)",
                                   argv[optind - 1]);
        int r = common_option(cmd, code, optarg, &co);
        if (r == 0) r = cli_model_option(cmd, code, optarg, &mo);
        if (r < 0) return EXIT_USAGE;
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    cli_set_threads(co.threads);
    // every core trains its own block of each layer's weight rows (shards.h)
    mo.cfg.shards = cli_training_shards();
    FILE *out = co.json ? stderr : stdout;

    char name[256], default_save[600];
    cli_data_name(co.data, name, sizeof name);
    snprintf(default_save, sizeof default_save, "models/%s-train.nnt", name);
    if (!save) save = default_save;
    if (!cli_make_parent(cmd, save)) return EXIT_FAIL;

    nt_dataset train = {0}, test = {0};
    nt_index tr_idx = {0}, va_idx = {0};
    nt_net net = {0};
    nt_history hist = {0};
    nt_metrics m = {0};
    int rc = EXIT_FAIL;
    if ((rc = load_for_model(cmd, &co, &mo, &train, &test)) != EXIT_OK) goto done;
    rc = EXIT_FAIL;

    nt_view all = nt_view_all(&train), tv = all, vv = {0};
    if (mo.val_frac > 0) {
        nt_rng split_rng = nt_rng_stream(co.seed, 1);
        if (nt_split_stratified(&all, mo.val_frac, &split_rng, &tr_idx, &va_idx) != NT_OK) {
            rc = cli_usage_error(cmd, "--val-frac: %s", nt_last_error());
            goto done;
        }
        tv = nt_view_of(&train, &tr_idx);
        vv = nt_view_of(&train, &va_idx);
    }
    nt_rng init_rng = nt_rng_stream(co.seed, 2), train_rng = nt_rng_stream(co.seed, 3);
    int max_batch = mo.cfg.batch > 256 ? mo.cfg.batch : 256;
    if (nt_net_init(&mo.arch, max_batch, &init_rng, &net) != NT_OK) goto fail;
    if (nt_train_check(&mo.cfg, &net) != NT_OK) {
        rc = cli_usage_error(cmd, "%s", nt_last_error());
        goto done;
    }
    if (!co.quiet) {
        fprintf(out, "training %d", mo.arch.n_in);
        for (int i = 0; i < mo.arch.n_hidden; i++) fprintf(out, "-%d", mo.arch.hidden[i]);
        fprintf(out, "-%d %s (dropout %.2g, %zu weights) on %s: %zu train, %zu "
                "validation, %zu test; %s lr %.3g, %s schedule, batch %d, %d thread%s\n",
                mo.arch.n_out, nt_act_name(mo.arch.act), (double)mo.arch.dropout,
                net.n_params, train.source, tv.n, vv.n, test.n,
                nt_opt_name(mo.cfg.opt.kind), mo.cfg.lr, nt_sched_name(mo.cfg.schedule),
                mo.cfg.batch, mo.cfg.shards, mo.cfg.shards == 1 ? "" : "s");
    }
    epoch_printer ep = {out, mo.cfg.epochs, term_use_color(out),
                        term_line_start(out, !co.quiet), -1, 0};
    char first[64], bar[32];
    term_bar(bar, 20, 0);
    snprintf(first, sizeof first, "%s epoch 1/%d", bar, mo.cfg.epochs);
    term_line_draw(&ep.term, first);
    nt_status st = nt_train(&net, &mo.cfg, &tv, vv.n ? &vv : NULL, &train_rng,
                            co.quiet ? NULL : print_epoch, &ep, &hist);
    term_line_clear(&ep.term);
    if (st == NT_ERR_NUMERIC) {
        cli_fail(cmd, "%s; try a smaller --lr", nt_last_error());
        goto done;
    }
    if (st != NT_OK) goto fail;
    if (!co.quiet)
        fprintf(out, "stopped after %d epochs (%s); keeping epoch %d; %.1fs\n\n", hist.n,
                nt_stop_name(hist.stop), hist.best_epoch, hist.seconds);

    if (nt_metrics_init(train.n_classes, &m) != NT_OK) goto fail;
    nt_view test_view = nt_view_all(&test);
    if (nt_evaluate(&net, &test_view, &m) != NT_OK) goto fail;
    if (!co.quiet || !co.json) cli_print_metrics(out, &m);

    cJSON *meta = cJSON_CreateObject();
    cJSON_AddStringToObject(meta, "nntune", NT_VERSION);
    cJSON_AddStringToObject(meta, "data", train.source);
    cJSON_AddItemToObject(meta, "hyperparameters", hyper_json(&mo, co.seed));
    cJSON_AddNumberToObject(meta, "epochs_run", hist.n);
    cJSON_AddNumberToObject(meta, "best_epoch", hist.best_epoch);
    cJSON_AddNumberToObject(meta, "test_accuracy", m.accuracy);
    cJSON_AddNumberToObject(meta, "test_loss", m.loss);
    char *meta_text = cJSON_PrintUnformatted(meta);
    cJSON_Delete(meta);
    st = nt_model_save(save, &net, meta_text);
    free(meta_text);
    if (st != NT_OK) goto fail;
    fprintf(out, "\nmodel saved to %s\n", save);

    if (co.json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddNumberToObject(j, "test_accuracy", m.accuracy);
        cJSON_AddNumberToObject(j, "test_loss", m.loss);
        cJSON_AddNumberToObject(j, "test_macro_f1", m.macro_f1);
        cJSON_AddNumberToObject(j, "epochs_run", hist.n);
        cJSON_AddNumberToObject(j, "best_epoch", hist.best_epoch);
        cJSON_AddStringToObject(j, "stop", nt_stop_name(hist.stop));
        cJSON_AddNumberToObject(j, "seconds", hist.seconds);
        cJSON_AddStringToObject(j, "model", save);
        cJSON_AddStringToObject(j, "data", train.source);
        cJSON_AddItemToObject(j, "hyperparameters", hyper_json(&mo, co.seed));
        cJSON *eps = cJSON_AddArrayToObject(j, "history");
        for (int i = 0; i < hist.n; i++) {
            const nt_epoch_stats *s = &hist.epoch[i];
            cJSON *e = cJSON_CreateObject();
            cJSON_AddNumberToObject(e, "epoch", s->epoch);
            cJSON_AddNumberToObject(e, "train_loss", s->train_loss);
            cJSON_AddNumberToObject(e, "train_acc", s->train_acc);
            if (!isnan(s->val_loss)) {
                cJSON_AddNumberToObject(e, "val_loss", s->val_loss);
                cJSON_AddNumberToObject(e, "val_acc", s->val_acc);
            }
            cJSON_AddNumberToObject(e, "lr", s->lr);
            cJSON_AddNumberToObject(e, "seconds", s->seconds);
            cJSON_AddItemToArray(eps, e);
        }
        cJSON_AddItemToObject(j, "test", cli_metrics_json(&m));
        char *s = cJSON_Print(j);
        puts(s);
        free(s);
        cJSON_Delete(j);
    }
    rc = EXIT_OK;
    goto done;
fail:
    rc = cli_fail(cmd, "%s", nt_last_error());
done:
    nt_metrics_free(&m);
    nt_history_free(&hist);
    nt_net_free(&net);
    nt_index_free(&tr_idx);
    nt_index_free(&va_idx);
    nt_dataset_free(&train);
    nt_dataset_free(&test);
    return rc;
}

/* ---- eval ---- */

int cmd_eval(int argc, char **argv)
{
    const char *cmd = "eval";
    common_opts co;
    common_defaults(&co);
    const char *model = NULL;
    static const struct option longopts[] = {COMMON_LONGOPTS,
                                             {"model", required_argument, 0, C_MODEL},
                                             {0, 0, 0, 0}};
    int code;
    optind = 1;
    opterr = 0;
    while ((code = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (code == C_HELP) {
            printf("Usage: nntune eval --model FILE [--data mnist] [options]\n"
                   "Test a saved model on a data set's test set.\n\n"
                   "  --model FILE       a model written by train or tune (required)\n%s",
                   COMMON_HELP);
            return EXIT_OK;
        }
        if (code == C_MODEL) { model = optarg; continue; }
        if (code == '?' || code == ':')
            return cli_usage_error(cmd, "unknown or incomplete option '%s' (see nntune eval --help)",
                                   argv[optind - 1]);
        if (common_option(cmd, code, optarg, &co) < 0) return EXIT_USAGE;
    }
    if (!model) return cli_usage_error(cmd, "--model FILE is required");
    if (optind < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    cli_set_threads(co.threads);
    FILE *out = co.json ? stderr : stdout;

    nt_dataset train = {0}, test = {0};
    nt_net net = {0};
    nt_metrics m = {0};
    int rc = EXIT_FAIL;
    double t0 = nt_now();
    if (nt_model_load(model, 256, &net, NULL) != NT_OK) goto fail;
    if (!cli_load_data(cmd, co.data, co.test_data, &train, &test)) goto done;
    if ((size_t)net.arch.n_in != test.d || net.arch.n_out != test.n_classes) {
        rc = cli_fail(cmd, "%s: model takes %d inputs and %d classes, %s has %zu "
                      "features and %d classes", model, net.arch.n_in, net.arch.n_out,
                      test.source, test.d, test.n_classes);
        goto done;
    }
    if (nt_metrics_init(test.n_classes, &m) != NT_OK) goto fail;
    nt_view tv = nt_view_all(&test);
    if (nt_evaluate(&net, &tv, &m) != NT_OK) goto fail;
    if (!co.json || !co.quiet) {
        fprintf(out, "%s on %s\n", model, test.source);
        cli_print_metrics(out, &m);
    }
    if (co.json) {
        cJSON *j = cli_metrics_json(&m);
        cJSON_AddStringToObject(j, "model", model);
        cJSON_AddStringToObject(j, "data", test.source);
        cJSON_AddNumberToObject(j, "seconds", nt_now() - t0);
        char *s = cJSON_Print(j);
        puts(s);
        free(s);
        cJSON_Delete(j);
    }
    rc = EXIT_OK;
    goto done;
fail:
    rc = cli_fail(cmd, "%s", nt_last_error());
done:
    nt_metrics_free(&m);
    nt_net_free(&net);
    nt_dataset_free(&train);
    nt_dataset_free(&test);
    return rc;
}

/* ---- lr-find: Smith 2017, "Cyclical learning rates", section 3.3 ---- */

static void lrfind_usage(FILE *f)
{
    fprintf(f, "Usage: nntune lr-find [options]\n"
               "The learning-rate range test: train from a tiny learning rate,\n"
               "raising it exponentially every step, and watch the loss. The rate\n"
               "where the loss falls fastest is a good --lr; where it blows up is\n"
               "too high.\n\n%s"
               "  --start X          first learning rate                  [1e-7]\n"
               "  --end X            last learning rate                   [10]\n"
               "  --steps N          mini-batches to take                 [300]\n\n%s",
            COMMON_HELP, CLI_MODEL_HELP);
}

int cmd_lr_find(int argc, char **argv)
{
    const char *cmd = "lr-find";
    common_opts co;
    cli_model_opts mo;
    common_defaults(&co);
    cli_model_defaults(&mo);
    double start = 1e-7, end = 10;
    int steps = 300;
    static const struct option extra[] = {COMMON_LONGOPTS,
                                          {"start", required_argument, 0, C_START},
                                          {"end", required_argument, 0, C_END},
                                          {"steps", required_argument, 0, C_STEPS}};
    struct option longopts[64];
    build_longopts(longopts, extra, sizeof extra / sizeof extra[0]);
    int code;
    optind = 1;
    opterr = 0;
    while ((code = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (code == C_HELP) { lrfind_usage(stdout); return EXIT_OK; }
        if (code == '?' || code == ':')
            return cli_usage_error(cmd, "unknown or incomplete option '%s' (see nntune lr-find --help)",
                                   argv[optind - 1]);
        int r = 0;
        if (code == C_START) r = cli_double(cmd, "start", optarg, 1e-12, 1e3, &start) ? 1 : -1;
        else if (code == C_END) r = cli_double(cmd, "end", optarg, 1e-12, 1e4, &end) ? 1 : -1;
        else if (code == C_STEPS) r = cli_int(cmd, "steps", optarg, 10, 1000000, &steps) ? 1 : -1;
        if (r == 0) r = common_option(cmd, code, optarg, &co);
        if (r == 0) r = cli_model_option(cmd, code, optarg, &mo);
        if (r < 0) return EXIT_USAGE;
    }
    if (optind < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!(end > start)) return cli_usage_error(cmd, "--end (%g) must be above --start (%g)", end, start);
    cli_set_threads(co.threads);
    FILE *out = co.json ? stderr : stdout;

    nt_dataset train = {0}, test = {0};
    nt_net net = {0};
    nt_optim opt = {0};
    float *xb = NULL;
    int32_t *yb = NULL;
    size_t *order = NULL;
    double *lrs = NULL, *smooth = NULL;
    int rc = EXIT_FAIL, taken = 0;
    if ((rc = load_for_model(cmd, &co, &mo, &train, &test)) != EXIT_OK) goto done;
    rc = EXIT_FAIL;
    nt_rng init_rng = nt_rng_stream(co.seed, 2), rng = nt_rng_stream(co.seed, 3);
    int B = mo.cfg.batch;
    if (nt_net_init(&mo.arch, B, &init_rng, &net) != NT_OK) goto fail;
    if (nt_train_optim_init(&mo.cfg, &net, &opt) != NT_OK) goto fail;
    xb = nt_alloc((size_t)B * train.d * sizeof *xb);
    yb = nt_alloc((size_t)B * sizeof *yb);
    order = malloc(train.n * sizeof *order);
    lrs = calloc((size_t)steps, sizeof *lrs);
    smooth = calloc((size_t)steps, sizeof *smooth);
    if (!xb || !yb || !order || !lrs || !smooth) {
        nt_errorf("out of memory");
        goto fail;
    }
    for (size_t i = 0; i < train.n; i++) order[i] = i;
    nt_view all = nt_view_all(&train);
    double ratio = pow(end / start, 1.0 / (steps - 1)), avg = 0, best = INFINITY;
    const double beta = 0.98; // exponential smoothing of the noisy batch loss
    size_t pos = train.n;
    for (int s = 0; s < steps; s++) {
        if (pos + (size_t)B > train.n) {
            nt_rng_shuffle(&rng, order, train.n);
            pos = 0;
        }
        nt_view_gather(&all, order, pos, (size_t)B, xb, yb);
        pos += (size_t)B;
        nt_net_forward(&net, xb, B, true, &rng);
        float loss = nt_net_backward(&net, yb, B, 0.0f); // l2: in opt's step
        double lr = start * pow(ratio, s);
        if (!isfinite(loss)) break;
        avg = beta * avg + (1 - beta) * loss;
        double sm = avg / (1 - pow(beta, s + 1)); // bias correction
        lrs[s] = lr;
        smooth[s] = sm;
        taken = s + 1;
        if (sm < best) best = sm;
        if (s > 10 && sm > 4 * best) break; // the loss has blown up
        nt_optim_step(&opt, net.params, net.grads, (float)lr);
    }
    // Suggest the rate where the smoothed loss falls fastest against
    // log(lr), skipping the first steps where the average is still settling.
    int steep = -1, argmin = 0;
    double steepest = 0;
    for (int s = 0; s < taken; s++)
        if (smooth[s] < smooth[argmin]) argmin = s;
    for (int s = taken / 10 + 1; s < argmin; s++) {
        double slope = (smooth[s] - smooth[s - 1]) / log(ratio);
        if (slope < steepest) { steepest = slope; steep = s; }
    }
    double suggested = steep >= 0 ? lrs[steep] : lrs[argmin] / 10;

    fprintf(out, "learning-rate range test: %d steps of batch %d, %s, lr %.1e -> %.1e\n\n",
            taken, B, nt_opt_name(mo.cfg.opt.kind), start, end);
    fprintf(out, "   step  learning rate  smoothed loss\n");
    int every = taken > 30 ? taken / 30 : 1;
    for (int s = 0; s < taken; s++) {
        if (s % every && s != steep && s != argmin && s != taken - 1) continue;
        fprintf(out, "  %5d  %13.3e  %13.4f%s\n", s, lrs[s], smooth[s],
                s == steep ? "  <- steepest descent" : s == argmin ? "  <- lowest loss" : "");
    }
    fprintf(out, "\nsuggested --lr %.2e (where the loss falls fastest); the loss is "
            "lowest at %.2e, and a tenth of that, %.2e, is the other common rule\n",
            suggested, lrs[argmin], lrs[argmin] / 10);
    if (co.json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddNumberToObject(j, "suggested_lr", suggested);
        cJSON_AddNumberToObject(j, "min_loss_lr", lrs[argmin]);
        cJSON *t = cJSON_AddArrayToObject(j, "steps");
        for (int s = 0; s < taken; s++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddNumberToObject(e, "lr", lrs[s]);
            cJSON_AddNumberToObject(e, "loss", smooth[s]);
            cJSON_AddItemToArray(t, e);
        }
        char *sj = cJSON_Print(j);
        puts(sj);
        free(sj);
        cJSON_Delete(j);
    }
    rc = EXIT_OK;
    goto done;
fail:
    rc = cli_fail(cmd, "%s", nt_last_error());
done:
    free(lrs);
    free(smooth);
    free(order);
    nt_free(xb);
    nt_free(yb);
    nt_optim_free(&opt);
    nt_net_free(&net);
    nt_dataset_free(&train);
    nt_dataset_free(&test);
    return rc;
}
