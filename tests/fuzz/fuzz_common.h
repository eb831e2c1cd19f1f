/* fuzz_common.h - shared by the libFuzzer harnesses: a temporary file, one
 * per process and reused, that a harness writes its input to before calling
 * a loader that takes a path. */
#ifndef NT_FUZZ_COMMON_H
#define NT_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Write `n` bytes to this process's temp file number `slot` (0..3) and
 * return its path (valid for the whole run). `suffix` is appended to the
 * name (e.g. ".csv"). Aborts on I/O failure: that is the harness's fault,
 * not the input's. */
static char fuzz_temp_path[4][256];

static void fuzz_remove_temps(void)
{
    for (int i = 0; i < 4; i++)
        if (fuzz_temp_path[i][0]) remove(fuzz_temp_path[i]);
}

__attribute__((unused))
static const char *fuzz_write_temp(int slot, const char *suffix,
                                   const uint8_t *data, size_t n)
{
    char (*path)[256] = fuzz_temp_path;
    static int registered;
    if (!registered) {
        atexit(fuzz_remove_temps);
        registered = 1;
    }
    if (!path[slot][0])
        snprintf(path[slot], sizeof path[slot], "/tmp/nt_fuzz_%ld_%d%s",
                 (long)getpid(), slot, suffix);
    FILE *f = fopen(path[slot], "wb");
    if (!f) abort();
    if (n && fwrite(data, 1, n, f) != n) abort();
    if (fclose(f) != 0) abort();
    return path[slot];
}

#endif
