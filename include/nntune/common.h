/* common.h - status codes, error messages, aligned allocation and a clock.
 * Library code never prints and never exits: it returns an nt_status and
 * leaves a one-line message (what, where, the value) for the caller to
 * fetch with nt_last_error(). Messages are per thread. */
#ifndef NNTUNE_COMMON_H
#define NNTUNE_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

typedef enum {
    NT_OK = 0,
    NT_ERR_NOMEM = -1,       /* an allocation failed */
    NT_ERR_IO = -2,          /* a file could not be opened, read or written */
    NT_ERR_FORMAT = -3,      /* a file or string is not in the expected format */
    NT_ERR_ARG = -4,         /* an impossible option or parameter value */
    NT_ERR_NUMERIC = -5,     /* a loss or value became NaN or infinite */
    NT_ERR_INTERRUPTED = -6, /* stopped on request (Ctrl-C, time budget) */
    NT_ERR_EXHAUSTED = -7,   /* nothing left to do (a grid fully enumerated) */
    NT_ERR_MISMATCH = -8,    /* two inputs disagree (model vs data, resume) */
} nt_status;

/* A short fixed description of a status, e.g. "file format error". */
const char *nt_strerror(nt_status s);

/* Record the calling thread's last error message (printf-style, one line,
 * no trailing newline). Overwrites the previous one. */
void nt_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The calling thread's last message, or nt_strerror-like text if none was
 * recorded. Never NULL. Borrowed: valid until the next nt_errorf(). */
const char *nt_last_error(void);

/* Clear the calling thread's last message. */
void nt_clear_error(void);

/* 64-byte aligned, zero-filled allocation of `bytes` (0 is allowed).
 * NULL on failure. Free with nt_free(); nt_free(NULL) is a no-op. Blocks of
 * several MiB get nt_advise_huge_pages before they are zeroed. */
void *nt_alloc(size_t bytes);
void nt_free(void *p);

/* Ask the kernel to back the whole 2 MiB pages inside [p, p + bytes) with
 * huge pages (madvise MADV_HUGEPAGE; transparent huge pages in "madvise"
 * mode, Debian's default, give them only to memory that asks). A hint,
 * ignored where it cannot apply; it counts only before the memory is first
 * touched. Otherwise fresh memory costs a page fault per 4 KiB page, which
 * is slow on a VM: loading MNIST (55 MB of pixels) took 160-180 ms, and
 * 25-110 ms with huge pages, on a 2-core one. */
void nt_advise_huge_pages(void *p, size_t bytes);

/* Write len bytes to path through PATH.tmp.PID, fsync, then rename, so a
 * crash leaves either the old file or the new one, never half of one. */
nt_status nt_write_file_atomic(const char *path, const void *data, size_t len);

/* Seconds from a monotonic clock, for timing. */
double nt_now(void);

#endif
