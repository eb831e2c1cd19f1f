/* common.c - status strings, per-thread error messages, aligned memory. */
#include "nntune/common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

static _Thread_local char last_error[512];

const char *nt_strerror(nt_status s)
{
    switch (s) {
    case NT_OK: return "ok";
    case NT_ERR_NOMEM: return "out of memory";
    case NT_ERR_IO: return "input/output error";
    case NT_ERR_FORMAT: return "format error";
    case NT_ERR_ARG: return "invalid argument";
    case NT_ERR_NUMERIC: return "numeric error (non-finite value)";
    case NT_ERR_INTERRUPTED: return "interrupted";
    case NT_ERR_EXHAUSTED: return "exhausted";
    case NT_ERR_MISMATCH: return "mismatch";
    }
    return "unknown status";
}

void nt_errorf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
}

const char *nt_last_error(void)
{
    return last_error[0] ? last_error : "unknown error";
}

void nt_clear_error(void)
{
    last_error[0] = '\0';
}

enum { HUGE_PAGE = 2 << 20 };

void nt_advise_huge_pages(void *p, size_t bytes)
{
    uintptr_t lo = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
    uintptr_t hi = ((uintptr_t)p + bytes) & ~(uintptr_t)(HUGE_PAGE - 1);
    if (p && hi > lo) madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
}

void *nt_alloc(size_t bytes)
{
    // aligned_alloc needs a size that is a multiple of the alignment
    size_t rounded = (bytes + 63) / 64 * 64;
    if (rounded == 0) rounded = 64;
    if (rounded < bytes) return NULL; // overflow
    void *p = aligned_alloc(64, rounded);
    if (!p) return NULL;
    if (rounded >= 2 * (size_t)HUGE_PAGE) nt_advise_huge_pages(p, rounded);
    memset(p, 0, rounded);
    return p;
}

void nt_free(void *p)
{
    free(p);
}

double nt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

nt_status nt_write_file_atomic(const char *path, const void *data, size_t len)
{
    char tmp[4096];
    int w = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (w < 0 || (size_t)w >= sizeof tmp) {
        nt_errorf("%s: path too long", path);
        return NT_ERR_ARG;
    }
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        nt_errorf("%s: cannot write: %s", path, strerror(errno));
        return NT_ERR_IO;
    }
    bool ok = fwrite(data, 1, len, f) == len;
    ok = fflush(f) == 0 && ok;
    ok = fsync(fileno(f)) == 0 && ok;
    int saved = errno;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        if (ok) saved = errno;
        remove(tmp);
        nt_errorf("%s: cannot write: %s", path, strerror(saved));
        return NT_ERR_IO;
    }
    return NT_OK;
}
