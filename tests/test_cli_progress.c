/* test_cli_progress.c - what nntune prints while it works, as a user sees
 * it: plain lines into a pipe (no control characters at all); on a
 * terminal (a pseudo-terminal from script(1)) a status line redrawn in
 * place and colour, which NO_COLOR turns off. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Run a shell command; its stdout (and stderr) as a malloc'd string. */
static char *output_of(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p, "popen %s", cmd);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += got;
        if (cap - len < 2) buf = realloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    int rc = pclose(p);
    cr_assert_eq(rc, 0, "'%s' exited with %d:\n%s", cmd, rc, buf);
    return buf;
}

#define TRAIN "./nntune train --data mnist --epochs 2 --layers 16 --batch 256"
#define TUNE "./nntune --data mnist --strategy random --trials 2 --folds 2 " \
             "--param 'epochs = 1' --out /tmp/nt_test_progress_$$ --overwrite"

static void need_mnist(void)
{
    if (access("./nntune", X_OK) != 0 || access("data/mnist", R_OK) != 0)
        cr_skip_test("needs ./nntune and data/mnist (make setup)");
}

Test(cli_progress, into_a_pipe_train_and_tune_print_plain_lines_only)
{
    need_mnist();
    const char *cmds[] = {TRAIN " 2>&1 | cat", TUNE " 2>&1 | cat; rm -rf /tmp/nt_test_progress_$$"};
    for (int i = 0; i < 2; i++) {
        char *out = output_of(cmds[i]);
        cr_assert(strchr(out, '\033') == NULL && strchr(out, '\r') == NULL,
                  "control characters in piped output of %s:\n%s", cmds[i], out);
        cr_assert_not_null(strstr(out, i == 0 ? "epoch   2/2" : "trial   2/2"),
                           "no progress lines in:\n%s", out);
        free(out);
    }
}

Test(cli_progress, on_a_terminal_train_redraws_a_status_line_in_colour)
{
    need_mnist();
    if (system("command -v script >/dev/null") != 0) cr_skip_test("no script(1)");
    char *out = output_of("TERM=xterm script -qec '" TRAIN "' /dev/null");
    cr_assert_not_null(strstr(out, "\r\033[K[##########..........] epoch 2/2"),
                       "no status line redrawn in place:\n%s", out);
    cr_assert_not_null(strstr(out, "\033[32m"), "no colour for the best epoch:\n%s", out);
    free(out);
}

Test(cli_progress, no_color_keeps_the_status_line_and_drops_the_colour)
{
    need_mnist();
    if (system("command -v script >/dev/null") != 0) cr_skip_test("no script(1)");
    char *out = output_of("NO_COLOR=1 TERM=xterm script -qec '" TRAIN "' /dev/null");
    cr_assert_not_null(strstr(out, "\r\033[K"), "no status line:\n%s", out);
    cr_assert_null(strstr(out, "\033[32m"), "colour despite NO_COLOR:\n%s", out);
    free(out);
}

Test(cli_progress, on_a_terminal_tune_draws_its_status_line_and_verbose_adds_epoch_lines)
{
    need_mnist();
    if (system("command -v script >/dev/null") != 0) cr_skip_test("no script(1)");
    char *out = output_of("TERM=xterm script -qec \"" TUNE " --verbose\" /dev/null; "
                          "rm -rf /tmp/nt_test_progress_$$");
    cr_assert_not_null(strstr(out, "\r\033[K[...................."),
                       "no tuning status line:\n%s", out);
    cr_assert_not_null(strstr(out, "trial 1/2  fold epochs"), "status line lacks the trial:\n%s",
                       out);
    cr_assert_not_null(strstr(out, "trial 2 fold 2 epoch  1  train loss"),
                       "--verbose printed no epoch line:\n%s", out);
    free(out);
}
