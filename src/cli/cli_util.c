/* cli_util.c - option parsing, data loading and printing shared by the
 * subcommands. */
#include "cli.h"

#include <cblas.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nntune/shards.h"

static int verror(int code, const char *cmd, const char *fmt, va_list ap)
{
    fprintf(stderr, "nntune%s%s: ", cmd && *cmd ? " " : "", cmd ? cmd : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    return code;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = verror(EXIT_USAGE, cmd, fmt, ap);
    va_end(ap);
    return rc;
}

int cli_fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = verror(EXIT_FAIL, cmd, fmt, ap);
    va_end(ap);
    return rc;
}

bool cli_int(const char *cmd, const char *opt, const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        cli_usage_error(cmd, "--%s: expected an integer in %ld..%ld, got '%s'",
                        opt, lo, hi, s);
        return false;
    }
    *out = (int)v;
    return true;
}

bool cli_u64(const char *cmd, const char *opt, const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-') {
        cli_usage_error(cmd, "--%s: expected a non-negative integer, got '%s'", opt, s);
        return false;
    }
    *out = v;
    return true;
}

bool cli_double(const char *cmd, const char *opt, const char *s, double lo,
                double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi) {
        cli_usage_error(cmd, "--%s: expected a number in [%g, %g], got '%s'",
                        opt, lo, hi, s);
        return false;
    }
    *out = v;
    return true;
}

bool cli_layers(const char *cmd, const char *s, nt_arch *a)
{
    a->n_hidden = 0;
    if (!*s || strcmp(s, "none") == 0) return true;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (errno || end == p || v < 1 || v > 65536 || (*end && *end != ',')) {
            cli_usage_error(cmd, "--layers: expected sizes like 256,128 "
                            "(each 1..65536), got '%s'", s);
            return false;
        }
        if (a->n_hidden == NT_MAX_HIDDEN) {
            cli_usage_error(cmd, "--layers: at most %d hidden layers, got '%s'",
                            NT_MAX_HIDDEN, s);
            return false;
        }
        a->hidden[a->n_hidden++] = (int)v;
        p = *end ? end + 1 : end;
        if (*end == ',' && !*p) {
            cli_usage_error(cmd, "--layers: trailing comma in '%s'", s);
            return false;
        }
    }
    return true;
}

bool cli_duration(const char *cmd, const char *opt, const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    double unit = 1;
    if (*end == 's') unit = 1, end++;
    else if (*end == 'm') unit = 60, end++;
    else if (*end == 'h') unit = 3600, end++;
    if (errno || end == s || *end || !(v > 0) || !isfinite(v)) {
        cli_usage_error(cmd, "--%s: expected a positive duration like 90s, 20m "
                        "or 1.5h, got '%s'", opt, s);
        return false;
    }
    *out = v * unit;
    return true;
}

int cli_blas_threads(void)
{
    return openblas_get_num_threads();
}

int cli_training_shards(void)
{
    int threads = cli_blas_threads();
    return threads < NT_MAX_SHARDS ? threads : NT_MAX_SHARDS;
}

/* OpenBLAS's pthreads build keeps a pool of worker threads, and a worker
 * spins (sched_yield in a loop) for OPENBLAS_THREAD_TIMEOUT, 2^28 TSC cycles
 * unless set, when it starts and after each job, before it sleeps: 0.14 s
 * on this project's 2-core VMs. nntune's own threads (folds, shards) have
 * the cores then. The spin at start-up took a third of a core from a tune's
 * first folds, and each validation pass of `nntune train` (BLAS runs
 * threaded there, as in eval, predict and lr-find) left a worker spinning
 * into the next epoch's shards: 17% of the samples of a 4-epoch run. So
 * unless the user has set it, the spin is cut to 2^20 cycles (about half a
 * millisecond, still enough to span an evaluation pass's GEMMs) and the
 * pool restarted to read it. Both calls are OpenBLAS's own exports, weak
 * here: another BLAS simply lacks them. */
extern void openblas_read_env(void) __attribute__((weak));
extern int blas_thread_shutdown_(void) __attribute__((weak));
extern int openblas_thread_timeout(void) __attribute__((weak));

void cli_quiet_blas_pool(void)
{
    if (!openblas_read_env || !blas_thread_shutdown_) return;
    setenv("OPENBLAS_THREAD_TIMEOUT", "20", 0); // 0: the user's value stands
    openblas_read_env();
    int threads = openblas_get_num_threads();
    blas_thread_shutdown_();
    openblas_set_num_threads(threads); // the pool again, with the timeout
}

void cli_set_threads(int threads)
{
    if (threads <= 0) return;
    openblas_set_num_threads(threads);
    omp_set_num_threads(threads);
}

bool cli_load_data(const char *cmd, const char *spec, const char *test_path,
                   nt_dataset *train, nt_dataset *test)
{
    if (nt_data_open(spec, test_path, train, test) != NT_OK) {
        cli_fail(cmd, "%s", nt_last_error());
        return false;
    }
    return true;
}

bool cli_make_dir(const char *cmd, const char *dir)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf) {
        cli_fail(cmd, "%s: path too long", dir);
        return false;
    }
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
                cli_fail(cmd, "%s: cannot create folder: %s", buf, strerror(errno));
                return false;
            }
            struct stat st;
            if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
                cli_fail(cmd, "%s: exists and is not a folder", buf);
                return false;
            }
            *p = c;
            if (!c) break;
        }
    }
    return true;
}

bool cli_make_parent(const char *cmd, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) return true;
    char dir[4096];
    size_t n = (size_t)(slash - path);
    if (n >= sizeof dir) {
        cli_fail(cmd, "%s: path too long", path);
        return false;
    }
    memcpy(dir, path, n);
    dir[n] = '\0';
    return cli_make_dir(cmd, dir);
}

void cli_print_metrics(FILE *f, const nt_metrics *m)
{
    fprintf(f, "test accuracy %.2f%%   loss %.4f   macro-F1 %.4f   (%zu samples)\n\n",
            100 * m->accuracy, m->loss, m->macro_f1, m->n);
    fprintf(f, "class  precision  recall      f1  support\n");
    for (int c = 0; c < m->k; c++)
        fprintf(f, "%5d  %9.4f  %6.4f  %6.4f  %7zu\n", c, m->precision[c],
                m->recall[c], m->f1[c], m->support[c]);
    fprintf(f, "\nconfusion matrix (rows: true class, columns: predicted)\n     ");
    for (int c = 0; c < m->k; c++) fprintf(f, "%6d", c);
    fputc('\n', f);
    for (int r = 0; r < m->k; r++) {
        fprintf(f, "%5d", r);
        for (int c = 0; c < m->k; c++)
            fprintf(f, "%6lld", (long long)m->confusion[(size_t)r * m->k + c]);
        fputc('\n', f);
    }
}

/* ---- the model and training options shared by train and lr-find ---- */

enum {
    O_LAYERS = CLI_OPT_BASE, O_ACT, O_DROPOUT, O_OPT, O_LR, O_MOMENTUM,
    O_NESTEROV, O_BATCH, O_EPOCHS, O_L2, O_SCHEDULE, O_STEP_EPOCHS, O_GAMMA,
    O_LR_MIN, O_WARMUP, O_PATIENCE, O_MIN_DELTA, O_MONITOR, O_VAL_FRAC,
};

const struct option CLI_MODEL_LONGOPTS[] = {
    {"layers", required_argument, 0, O_LAYERS},
    {"act", required_argument, 0, O_ACT},
    {"dropout", required_argument, 0, O_DROPOUT},
    {"opt", required_argument, 0, O_OPT},
    {"lr", required_argument, 0, O_LR},
    {"momentum", required_argument, 0, O_MOMENTUM},
    {"nesterov", no_argument, 0, O_NESTEROV},
    {"batch", required_argument, 0, O_BATCH},
    {"epochs", required_argument, 0, O_EPOCHS},
    {"l2", required_argument, 0, O_L2},
    {"schedule", required_argument, 0, O_SCHEDULE},
    {"step-epochs", required_argument, 0, O_STEP_EPOCHS},
    {"gamma", required_argument, 0, O_GAMMA},
    {"lr-min", required_argument, 0, O_LR_MIN},
    {"warmup", required_argument, 0, O_WARMUP},
    {"patience", required_argument, 0, O_PATIENCE},
    {"min-delta", required_argument, 0, O_MIN_DELTA},
    {"monitor", required_argument, 0, O_MONITOR},
    {"val-frac", required_argument, 0, O_VAL_FRAC},
    {0, 0, 0, 0},
};

const char CLI_MODEL_HELP[] =
    "Network:\n"
    "  --layers LIST      hidden layer sizes, e.g. 256,128 ('none' for softmax\n"
    "                     regression)                          [256,128]\n"
    "  --act NAME         relu, tanh or sigmoid                   [relu]\n"
    "  --dropout P        drop probability after each hidden layer [0.2]\n"
    "Training:\n"
    "  --opt NAME         adam or sgd                             [adam]\n"
    "  --lr X             base learning rate                      [0.001]\n"
    "  --momentum X       SGD momentum                            [0.9]\n"
    "  --nesterov         SGD with Nesterov momentum              [off]\n"
    "  --batch N          mini-batch size                         [128]\n"
    "  --epochs N         maximum epochs                          [20]\n"
    "  --l2 X             L2 weight decay on weights              [0]\n"
    "  --schedule NAME    constant, step, exp, cosine or cyclic   [cosine]\n"
    "  --step-epochs X    step/exp decay period; cyclic half cycle [5]\n"
    "  --gamma X          step/exp decay factor                   [0.5]\n"
    "  --lr-min X         cosine floor / cyclic bottom            [0]\n"
    "  --warmup X         linear warm-up, in epochs               [0]\n"
    "Early stopping:\n"
    "  --val-frac F       slice of the training set held out to\n"
    "                     watch; 0 trains on all of it         [0.1]\n"
    "  --patience N       epochs without improvement before\n"
    "                     stopping; 0 never stops early          [8]\n"
    "  --min-delta X      smallest change counted as improvement [0.0001]\n"
    "  --monitor WHAT     loss or accuracy (validation)      [accuracy]\n";

void cli_model_defaults(cli_model_opts *o)
{
    memset(o, 0, sizeof *o);
    o->arch.n_hidden = 2;
    o->arch.hidden[0] = 256;
    o->arch.hidden[1] = 128;
    o->arch.act = NT_ACT_RELU;
    o->arch.dropout = 0.2f;
    o->cfg = nt_train_defaults();
    o->cfg.schedule = NT_SCHED_COSINE;
    o->cfg.monitor_accuracy = true;
    o->cfg.patience = 8;
    o->val_frac = 0.1;
}

int cli_model_option(const char *cmd, int code, const char *arg, cli_model_opts *o)
{
    double v;
    int k;
    nt_train_config *c = &o->cfg;
    switch (code) {
    case O_LAYERS: return cli_layers(cmd, arg, &o->arch) ? 1 : -1;
    case O_ACT:
        if ((k = nt_act_parse(arg)) < 0) {
            cli_usage_error(cmd, "--act: expected relu, tanh or sigmoid, got '%s'", arg);
            return -1;
        }
        o->arch.act = (nt_act)k;
        return 1;
    case O_DROPOUT:
        if (!cli_double(cmd, "dropout", arg, 0, 0.99, &v)) return -1;
        o->arch.dropout = (float)v;
        return 1;
    case O_OPT:
        if ((k = nt_opt_parse(arg)) < 0) {
            cli_usage_error(cmd, "--opt: expected adam or sgd, got '%s'", arg);
            return -1;
        }
        {
            float mom = c->opt.momentum;
            bool nest = c->opt.nesterov;
            c->opt = nt_opt_defaults((nt_opt_kind)k);
            if (k == NT_OPT_SGD && mom > 0) c->opt.momentum = mom;
            c->opt.nesterov = nest;
        }
        return 1;
    case O_LR: return cli_double(cmd, "lr", arg, 1e-12, 1e3, &c->lr) ? 1 : -1;
    case O_MOMENTUM:
        if (!cli_double(cmd, "momentum", arg, 0, 0.999999, &v)) return -1;
        c->opt.momentum = (float)v;
        return 1;
    case O_NESTEROV: c->opt.nesterov = true; return 1;
    case O_BATCH: return cli_int(cmd, "batch", arg, 1, 65536, &c->batch) ? 1 : -1;
    case O_EPOCHS: return cli_int(cmd, "epochs", arg, 1, 100000, &c->epochs) ? 1 : -1;
    case O_L2:
        if (!cli_double(cmd, "l2", arg, 0, 10, &v)) return -1;
        c->l2 = (float)v;
        return 1;
    case O_SCHEDULE:
        if ((k = nt_sched_parse(arg)) < 0) {
            cli_usage_error(cmd, "--schedule: expected constant, step, exp, cosine "
                            "or cyclic, got '%s'", arg);
            return -1;
        }
        c->schedule = (nt_sched_kind)k;
        return 1;
    case O_STEP_EPOCHS: return cli_double(cmd, "step-epochs", arg, 1e-3, 1e6, &c->step_epochs) ? 1 : -1;
    case O_GAMMA: return cli_double(cmd, "gamma", arg, 1e-6, 1, &c->gamma) ? 1 : -1;
    case O_LR_MIN: return cli_double(cmd, "lr-min", arg, 0, 1e3, &c->lr_min) ? 1 : -1;
    case O_WARMUP: return cli_double(cmd, "warmup", arg, 0, 1e6, &c->warmup_epochs) ? 1 : -1;
    case O_PATIENCE: return cli_int(cmd, "patience", arg, 0, 100000, &c->patience) ? 1 : -1;
    case O_MIN_DELTA: return cli_double(cmd, "min-delta", arg, 0, 1e6, &c->min_delta) ? 1 : -1;
    case O_MONITOR:
        if (strcmp(arg, "loss") && strcmp(arg, "accuracy")) {
            cli_usage_error(cmd, "--monitor: expected loss or accuracy, got '%s'", arg);
            return -1;
        }
        c->monitor_accuracy = strcmp(arg, "accuracy") == 0;
        return 1;
    case O_VAL_FRAC: return cli_double(cmd, "val-frac", arg, 0, 0.5, &o->val_frac) ? 1 : -1;
    }
    return 0;
}

void cli_print_version(FILE *f)
{
    fprintf(f, "nntune %s\n", NT_VERSION);
    fprintf(f, "OpenBLAS %s, core %s, %d thread(s)", openblas_get_config(),
            openblas_get_corename(), openblas_get_num_threads());
    if (openblas_thread_timeout) { // OpenBLAS's own bounds on the exponent
        int t = openblas_thread_timeout();
        t = t <= 0 ? 28 : t < 4 ? 4 : t > 30 ? 30 : t;
        fprintf(f, ", idle workers sleep after 2^%d cycles", t);
    }
    fputc('\n', f);
    const char *forced = getenv("OPENBLAS_CORETYPE");
    __builtin_cpu_init();
    if (forced && *forced && __builtin_cpu_supports("avx512f") &&
        strcasecmp(forced, "SkylakeX") != 0 && strcasecmp(forced, "CooperLake") != 0 &&
        strcasecmp(forced, "SapphireRapids") != 0)
        fprintf(f, "note: OPENBLAS_CORETYPE=%s holds OpenBLAS to older kernels; "
                "this CPU has AVX-512 (OPENBLAS_CORETYPE=SkylakeX runs GEMM "
                "faster)\n", forced);
}

/* A short name for the data set, for default file names: "mnist",
 * "fashion-mnist" or the basename of a path without extension. */
void cli_data_name(const char *spec, char *out, size_t len)
{
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", spec);
    size_t n = strlen(tmp);
    while (n > 1 && tmp[n - 1] == '/') tmp[--n] = '\0';
    const char *base = strrchr(tmp, '/');
    base = base ? base + 1 : tmp;
    snprintf(out, len, "%s", base);
    char *dot = strrchr(out, '.');
    if (dot && dot != out) *dot = '\0';
}

cJSON *cli_metrics_json(const nt_metrics *m)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "accuracy", m->accuracy);
    cJSON_AddNumberToObject(o, "loss", m->loss);
    cJSON_AddNumberToObject(o, "macro_f1", m->macro_f1);
    cJSON_AddNumberToObject(o, "samples", (double)m->n);
    cJSON *pc = cJSON_AddArrayToObject(o, "per_class");
    for (int c = 0; c < m->k; c++) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddNumberToObject(r, "class", c);
        cJSON_AddNumberToObject(r, "precision", m->precision[c]);
        cJSON_AddNumberToObject(r, "recall", m->recall[c]);
        cJSON_AddNumberToObject(r, "f1", m->f1[c]);
        cJSON_AddNumberToObject(r, "support", (double)m->support[c]);
        cJSON_AddItemToArray(pc, r);
    }
    cJSON *cm = cJSON_AddArrayToObject(o, "confusion");
    for (int r = 0; r < m->k; r++) {
        cJSON *row = cJSON_CreateArray();
        for (int c = 0; c < m->k; c++)
            cJSON_AddItemToArray(row, cJSON_CreateNumber((double)m->confusion[(size_t)r * m->k + c]));
        cJSON_AddItemToArray(cm, row);
    }
    return o;
}

