/* bench_crosscore.c - how long a cache line takes to go from one core to
 * the other and back, on this machine, now.
 *
 * A sharded training step (src/nn/shards.h) passes activations and their
 * gradients between the cores and meets at barriers; what that costs
 * depends on how far apart the two vCPUs are, which a VM does not say, and
 * on what else runs (450-540 ns here on the idle machine, 860-2,400 ns
 * while the test suite ran alongside). benchmarks/run.sh runs this
 * before and after its runs and results.md records both, so
 * that a 2-shard ratio can be read next to the latency it paid.
 *
 * Two threads bounce one 64-byte-aligned counter: each waits (spinning) for
 * the other's increment, then increments it. The figure is the median over
 * 5 runs of 100,000 round trips, in nanoseconds a round trip. With fewer
 * than 2 CPUs online spinning would measure the scheduler, so it prints
 * "n/a".
 *
 * Usage: bench_crosscore      (prints one number, or n/a)
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "nntune/common.h"

enum { ROUNDS = 100000, RUNS = 5 };

static _Alignas(64) _Atomic long counter;

// the other side: answers each odd value with the next even one
static void *answer(void *unused)
{
    (void)unused;
    for (long i = 0; i < ROUNDS; i++) {
        while (atomic_load_explicit(&counter, memory_order_acquire) != 2 * i + 1) {
        }
        atomic_store_explicit(&counter, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: bench_crosscore\n");
        return 2;
    }
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
        puts("n/a");
        return 0;
    }
    double ns[RUNS];
    for (int r = 0; r < RUNS; r++) {
        atomic_store(&counter, 0);
        pthread_t other;
        if (pthread_create(&other, NULL, answer, NULL) != 0) {
            fprintf(stderr, "bench_crosscore: cannot start a thread\n");
            return 1;
        }
        double t0 = nt_now();
        for (long i = 0; i < ROUNDS; i++) {
            atomic_store_explicit(&counter, 2 * i + 1, memory_order_release);
            while (atomic_load_explicit(&counter, memory_order_acquire) != 2 * i + 2) {
            }
        }
        ns[r] = (nt_now() - t0) / ROUNDS * 1e9;
        pthread_join(other, NULL);
    }
    qsort(ns, RUNS, sizeof *ns, by_value);
    printf("%.0f\n", ns[RUNS / 2]);
    return 0;
}
