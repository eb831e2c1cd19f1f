/* helpers.h - what the tests that run ./nntune share: a scratch folder per
 * test (made by the suite's .init, removed with everything in it by its
 * .fini), paths inside it, whole-file reads, and running ./nntune with its
 * output captured. Header-only (static inline), so each test file takes
 * what it uses. */
#ifndef NNTUNE_TEST_HELPERS_H
#define NNTUNE_TEST_HELPERS_H

#include <criterion/criterion.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The binary the CLI suites run, as built by make. */
#define NNTUNE_BIN "./nntune"

static inline int scratch_rm_entry(const char *p, const struct stat *st, int flag,
                                   struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

/* Make a fresh folder from `pattern` ("/tmp/nt_test_NAME_XXXXXX") in dir
 * (at least 64 bytes). */
static inline void scratch_make(char *dir, const char *pattern)
{
    snprintf(dir, 64, "%s", pattern);
    cr_assert_not_null(mkdtemp(dir), "mkdtemp %s failed", pattern);
}

/* Remove the folder and everything in it. */
static inline void scratch_remove(const char *dir)
{
    nftw(dir, scratch_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* dir/name into buf (256 bytes); returns buf. */
static inline char *scratch_at(char *buf, const char *dir, const char *name)
{
    snprintf(buf, 256, "%s/%s", dir, name);
    return buf;
}

/* A file's bytes, NUL-terminated (malloc'd), or NULL if it cannot be read. */
static inline char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)(n > 0 ? n : 0) + 1);
    size_t got = fread(buf, 1, (size_t)(n > 0 ? n : 0), f);
    buf[got] = '\0';
    fclose(f);
    return buf;
}

static inline bool file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* Skip the test when ./nntune is not built; `cleanup` (the suite's .fini,
 * which a skipped test does not run) first. */
static inline void need_nntune(void (*cleanup)(void))
{
    if (access(NNTUNE_BIN, X_OK) == 0) return;
    if (cleanup) cleanup();
    cr_skip_test("%s is not built (run make nntune or make check)", NNTUNE_BIN);
}

/* Append the arguments of ap, from `first` up to a NULL, to v (n used of
 * cap, one kept for the closing NULL); returns the new count. */
static inline int collect_args(const char **v, int n, int cap, const char *first, va_list ap)
{
    for (const char *s = first; s; s = va_arg(ap, const char *)) {
        cr_assert_lt(n, cap - 1, "too many arguments");
        v[n++] = s;
    }
    v[n] = NULL;
    return n;
}

/* Start ./nntune with args (n of them, not counting the program), stdout
 * and stderr into dir/run.stdout and dir/run.stderr. */
static inline pid_t nntune_spawn(const char *dir, const char *const *args, int n)
{
    const char *argv[130] = {NNTUNE_BIN};
    cr_assert_lt(n, 128, "too many arguments");
    for (int i = 0; i < n; i++) argv[i + 1] = args[i];
    argv[n + 1] = NULL;
    char out_path[256], err_path[256];
    scratch_at(out_path, dir, "run.stdout");
    scratch_at(err_path, dir, "run.stderr");
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1, "fork failed");
    if (pid == 0) {
        int fo = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fe = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fo < 0 || fe < 0) _exit(127);
        dup2(fo, 1);
        dup2(fe, 2);
        execv(NNTUNE_BIN, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* What a finished ./nntune printed and returned. */
typedef struct {
    int code;  // exit code, or -1 if it did not exit normally
    char *out; // stdout, owned
    char *err; // stderr, owned
} run_result;

static inline void run_free(run_result *r)
{
    free(r->out);
    free(r->err);
}

/* Wait for a run started by nntune_spawn(dir, ...) and read its output. */
static inline run_result nntune_finish(const char *dir, pid_t pid)
{
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid, "waitpid failed");
    char out_path[256], err_path[256];
    run_result r = {WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                    slurp(scratch_at(out_path, dir, "run.stdout")),
                    slurp(scratch_at(err_path, dir, "run.stderr"))};
    cr_assert(r.out && r.err, "cannot read the output of %s", NNTUNE_BIN);
    return r;
}

#endif
