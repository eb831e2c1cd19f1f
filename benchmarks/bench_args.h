/* bench_args.h - command-line helpers the benchmark programs share. */
#ifndef NNTUNE_BENCH_ARGS_H
#define NNTUNE_BENCH_ARGS_H

#include <stdlib.h>

/* "32,64,128" -> {32, 64, 128}: at most `max` values, each in 1..65536;
 * returns the count, 0 on a bad list. */
static inline int parse_list(const char *s, int *out, int max)
{
    int n = 0;
    while (*s && n < max) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 1 || v > 65536) return 0;
        out[n++] = (int)v;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return 0;
    }
    return *s ? 0 : n;
}

#endif
