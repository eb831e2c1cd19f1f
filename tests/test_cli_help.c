/* test_cli_help.c - the help texts and the man page say the same: the
 * committed nntune.1 is what scripts/make_man.sh makes from the binary's
 * --help texts (run `make man` after changing one), and every command
 * answers --help with its usage and exit code 0. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int shell(const char *cmd)
{
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

Test(cli_help, the_committed_man_page_matches_the_help_texts)
{
    if (access("./nntune", X_OK) != 0) cr_skip_test("needs ./nntune");
    int rc = shell("sh scripts/make_man.sh ./nntune > /tmp/nt_test_man_$$.1 && "
                   "cmp -s /tmp/nt_test_man_$$.1 nntune.1; r=$?; rm -f /tmp/nt_test_man_$$.1; "
                   "exit $r");
    cr_assert_eq(rc, 0, "nntune.1 is out of date with the --help texts: run `make man`");
}

Test(cli_help, every_command_prints_its_usage_and_exits_0)
{
    if (access("./nntune", X_OK) != 0) cr_skip_test("needs ./nntune");
    const char *cmds[] = {"", "tune", "train", "eval", "predict", "lr-find", "report",
                          "compare", "compare-strategies"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "./nntune %s --help | grep -q '^Usage:'", cmds[i]);
        cr_assert_eq(shell(cmd), 0, "`nntune %s --help` printed no usage or failed", cmds[i]);
    }
}

/* OpenBLAS's idle workers spin for OPENBLAS_THREAD_TIMEOUT before they
 * sleep: nntune cuts that to 2^20 cycles unless the user chose, and keeps
 * the thread count while it restarts the pool (cli_quiet_blas_pool). */
Test(cli_help, version_shows_blas_threads_and_their_idle_spin)
{
    if (access("./nntune", X_OK) != 0) cr_skip_test("needs ./nntune");
    cr_assert_eq(shell("env -u OPENBLAS_THREAD_TIMEOUT OPENBLAS_NUM_THREADS=2 ./nntune --version"
                       " | grep -q ', 2 thread(s), idle workers sleep after 2^20 cycles$'"),
                 0, "the default spin is not 2^20 cycles, or the pool lost a thread");
    cr_assert_eq(shell("OPENBLAS_THREAD_TIMEOUT=25 OPENBLAS_NUM_THREADS=2 ./nntune --version"
                       " | grep -q ', 2 thread(s), idle workers sleep after 2^25 cycles$'"),
                 0, "the user's OPENBLAS_THREAD_TIMEOUT was not kept");
}
