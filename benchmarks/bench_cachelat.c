/* bench_cachelat.c - how far this core's caches reach, on this machine, now.
 *
 * The grid's training reads shuffled rows of a 15.7 MB data set and streams
 * each core's 1.6-3.2 MB of weights, gradients and Adam state every step,
 * so its speed depends on how much of the last-level cache the VM gets,
 * which moves with what its neighbours run: the same binary's grid took
 * 1.86-1.98 s in some minutes and 2.56-2.70 s in others, while
 * GridSearchCV, bound by its GEMMs, moved far less (benchmarks/README.md
 * item 19). benchmarks/run.sh runs this before and after its runs, and
 * results.md records both, so that a run's seconds can be read next to
 * the cache it had.
 *
 * For each size, one thread follows a chain of pointers through a buffer
 * of that size, one per 64-byte line in a random cyclic order (so no
 * prefetcher can guess the next), on 2 MiB pages where the kernel gives
 * them (so that the TLB is not what is measured). The figure is the median
 * over 3 runs of 1,000,000 dependent loads, in nanoseconds a load: a few
 * ns in L1 and L2, tens in a last-level cache, 100-200 in memory.
 *
 * Usage: bench_cachelat      (prints "SIZE:NS" for 1, 2, 4, 8 and 64 MiB)
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "nntune/common.h"
#include "nntune/rng.h"

enum { LINE = 64, LOADS = 1000000, RUNS = 3 };
#define HUGE_PAGE ((size_t)2 << 20)

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ns a dependent load over `bytes`, or a negative value without memory */
static double chase_ns(size_t bytes, nt_rng *rng)
{
    const size_t n = bytes / LINE, step = LINE / sizeof(size_t);
    size_t *chain = NULL, *order = malloc(n * sizeof *order);
    if (!order || posix_memalign((void **)&chain, HUGE_PAGE, bytes) != 0) {
        free(order);
        return -1.0;
    }
    madvise(chain, bytes, MADV_HUGEPAGE);
    memset(chain, 0, bytes);
    // one cycle through every line, in a random order
    for (size_t i = 0; i < n; i++) order[i] = i;
    nt_rng_shuffle(rng, order, n);
    for (size_t i = 0; i < n; i++) chain[order[i] * step] = order[(i + 1) % n] * step;
    free(order);
    size_t at = 0;
    for (size_t i = 0; i < n; i++) at = chain[at];  // brings the buffer in once
    double ns[RUNS];
    for (int r = 0; r < RUNS; r++) {
        double t0 = nt_now();
        for (long i = 0; i < LOADS; i++) at = chain[at];
        ns[r] = (nt_now() - t0) / LOADS * 1e9;
    }
    // `at` feeds the result, so the loads cannot be left out
    volatile size_t sink = at;
    (void)sink;
    free(chain);
    qsort(ns, RUNS, sizeof *ns, by_value);
    return ns[RUNS / 2];
}

int main(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: bench_cachelat\n");
        return 2;
    }
    const int mib[] = {1, 2, 4, 8, 64};
    nt_rng rng;
    nt_rng_seed(&rng, 1);
    for (size_t k = 0; k < sizeof mib / sizeof *mib; k++) {
        double ns = chase_ns((size_t)mib[k] << 20, &rng);
        if (ns < 0) {
            fprintf(stderr, "bench_cachelat: out of memory for %d MiB\n", mib[k]);
            return 1;
        }
        printf("%s%d MiB: %.0f ns", k ? ", " : "", mib[k], ns);
    }
    putchar('\n');
    return 0;
}
