/* main.c - nntune's entry point: picks the subcommand. The tuner is the
 * default: `nntune --data mnist --strategy bayes` is `nntune tune ...`. */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char USAGE[] =
    "nntune - a dense-network trainer with hyperparameter tuning built in\n"
    "\n"
    "Usage:\n"
    "  nntune [tune] --data mnist --strategy grid|random|bayes [options]\n"
    "                              tune by k-fold cross-validation, refit the\n"
    "                              best, test it once\n"
    "  nntune train   --data mnist [options]   train one network and test it\n"
    "  nntune eval    --model FILE --data mnist  test a saved model\n"
    "  nntune predict --model FILE --input FILE  classify new samples\n"
    "  nntune lr-find --data mnist [options]   learning-rate range test\n"
    "  nntune report  RUN_FOLDER               rebuild a run's report.html\n"
    "  nntune compare RUN_FOLDER... [--out F]  several runs on one page\n"
    "  nntune compare-strategies --objective NAME|--data mnist  benchmark strategies\n"
    "  nntune --version | --help\n"
    "\n"
    "`nntune COMMAND --help` lists a command's options and their defaults.\n"
    "Exit codes: 0 success, 1 run-time error (data, files, divergence),\n"
    "2 bad option or argument, 130 interrupted.\n";

/* Every fold and trial allocates a network, its optimizer state and its
 * batch buffers (a few MB), trains, and frees them. glibc hands blocks that
 * big out as fresh mmaps and returns them on free, so each fold paid page
 * faults to touch its memory again: 17,100 of the benchmark grid search's
 * 27,700 faults, and 5-11% of its wall time on a 2-core VM. Served from the
 * heap, and the heap not trimmed, the next fold reuses the same pages. */
static void reuse_freed_memory(void)
{
    mallopt(M_MMAP_THRESHOLD, 32 << 20); // glibc's largest; bigger blocks still map
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

int main(int argc, char **argv)
{
    reuse_freed_memory();
    cli_quiet_blas_pool();
    if (argc < 2) {
        fputs(USAGE, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(USAGE, stdout);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        cli_print_version(stdout);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "train")) return cmd_train(argc - 1, argv + 1);
    if (!strcmp(cmd, "eval")) return cmd_eval(argc - 1, argv + 1);
    if (!strcmp(cmd, "predict")) return cmd_predict(argc - 1, argv + 1);
    if (!strcmp(cmd, "lr-find")) return cmd_lr_find(argc - 1, argv + 1);
    if (!strcmp(cmd, "tune")) return cmd_tune(argc - 1, argv + 1);
    if (!strcmp(cmd, "report")) return cmd_report(argc - 1, argv + 1);
    if (!strcmp(cmd, "compare")) return cmd_compare(argc - 1, argv + 1);
    if (!strcmp(cmd, "compare-strategies")) return cmd_compare_strategies(argc - 1, argv + 1);
    if (cmd[0] == '-') return cmd_tune(argc, argv);
    return cli_usage_error("", "unknown command '%s' (try nntune --help)", cmd);
}
