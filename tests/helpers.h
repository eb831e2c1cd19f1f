/* helpers.h - what the tests that run ./nntune share: a scratch folder per
 * test (made by the suite's .init, removed with everything in it by its
 * .fini), paths inside it, and whole-file reads and writes. Header-only
 * (static inline), so each test file takes what it uses. */
#ifndef NNTUNE_TEST_HELPERS_H
#define NNTUNE_TEST_HELPERS_H

#include <criterion/criterion.h>

#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

#endif
