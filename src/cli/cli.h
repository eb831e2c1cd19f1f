/* cli.h - shared pieces of the command-line front end: option parsing with
 * one-line errors, thread settings, data loading, printing metrics.
 * Internal to src/cli; the only code that prints to the terminal or exits. */
#ifndef NNTUNE_CLI_H
#define NNTUNE_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "nntune/dataset.h"
#include "nntune/metrics.h"
#include "nntune/net.h"
#include "nntune/train.h"

/* Exit codes (documented in the README and --help). */
enum {
    EXIT_OK = 0,
    EXIT_FAIL = 1,        /* a run-time error: data, file, numeric */
    EXIT_USAGE = 2,       /* an impossible option or argument */
    EXIT_INTERRUPTED = 130,
};

/* Print "nntune CMD: MESSAGE" on stderr. Returns EXIT_USAGE or EXIT_FAIL
 * as asked, for `return cli_error(...)`. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int cli_fail(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Parse an option value; on error print "nntune CMD: --OPT: ..." and return
 * false. */
bool cli_int(const char *cmd, const char *opt, const char *s, long lo, long hi,
             int *out);
bool cli_u64(const char *cmd, const char *opt, const char *s, uint64_t *out);
bool cli_double(const char *cmd, const char *opt, const char *s, double lo,
                double hi, double *out);
/* "256,128" -> hidden sizes; "" or "none" -> no hidden layer. */
bool cli_layers(const char *cmd, const char *s, nt_arch *a);
/* "90s", "20m", "1.5h", "3600" -> seconds. */
bool cli_duration(const char *cmd, const char *opt, const char *s, double *out);

/* OpenBLAS's idle workers spin for about half a millisecond, not 0.14 s,
 * after start-up and each job (OPENBLAS_THREAD_TIMEOUT=20 unless set):
 * nntune's own threads have the cores. Once, first thing in main. */
void cli_quiet_blas_pool(void);
/* Threads for BLAS (and OpenMP): 0 leaves the library default. */
void cli_set_threads(int threads);
/* BLAS's thread count now (its default until cli_set_threads). */
int cli_blas_threads(void);
/* Shards for one training (train, the refit): one per thread of that
 * count, at most NT_MAX_SHARDS. */
int cli_training_shards(void);

/* Load --data (and --test-data) with a message on failure. */
bool cli_load_data(const char *cmd, const char *spec, const char *test_path,
                   nt_dataset *train, nt_dataset *test);

/* Make the parent folder of a file path (mkdir -p); false with a message. */
bool cli_make_parent(const char *cmd, const char *path);
bool cli_make_dir(const char *cmd, const char *dir);

/* Human-readable test metrics: accuracy, loss, macro-F1, per-class table
 * and confusion matrix. */
void cli_print_metrics(FILE *f, const nt_metrics *m);

/* Train-config options shared by `train`, `lr-find` and the tuner's fixed
 * settings. Returns 1 if `opt` was one of them and parsed, 0 if it is not
 * one of them, -1 on a bad value (message printed). */
typedef struct {
    nt_arch arch;
    nt_train_config cfg;
    double val_frac;      /* early-stopping slice of the training set */
} cli_model_opts;

void cli_model_defaults(cli_model_opts *o);

/* The usage text fragment describing those options, with defaults. */
extern const char CLI_MODEL_HELP[];

/* getopt_long codes for the shared model options start here. */
#define CLI_OPT_BASE 1000
int cli_model_option(const char *cmd, int code, const char *arg, cli_model_opts *o);
/* The long options table entries for them (terminated by a zero entry). */
extern const struct option CLI_MODEL_LONGOPTS[];

/* Every subcommand. */
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_lr_find(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_compare_strategies(int argc, char **argv);

/* A short name for --data, for default file names: "mnist" or the
 * basename of a path without its extension. */
void cli_data_name(const char *spec, char *out, size_t len);

/* Test metrics as a JSON object (accuracy, loss, macro_f1, per_class,
 * confusion). */
struct cJSON;
struct cJSON *cli_metrics_json(const nt_metrics *m);

/* "nntune 0.1.0" plus the BLAS line, for --version and reports. */
void cli_print_version(FILE *f);

#endif
