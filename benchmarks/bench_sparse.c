/* bench_sparse.c - the sparse first layer's three parts alone, on real
 * batches: how long building the blocks, the forward product and dW take,
 * and how close the products run to the FMA units' peak.
 *
 * The batches are those nt_train makes: the training images shuffled, then
 * grouped by label within each batch (nt_order_group_by_label), gathered to
 * floats before the timing starts, one batch at a time into one buffer (so
 * the build reads a batch that is in cache, as in training). For each
 * batch, in order:
 *
 *   build     nt_sparse_build (the non-zero bits by rows, transposed to
 *             each input's rows)
 *   bytes     the same build from the data set's bytes behind the batch's
 *             rows (nt_sparse_build_rows), as nt_train builds it for a data
 *             set of pixels; the rows are read once first, as the gather
 *             reads them in training
 *   forward   nt_sparse_forward: y (batch, units) = x W
 *   dW        nt_sparse_backward: dW (784, units) = x^T dy
 *
 * Each part's time is the sum over an epoch's batches, minimum over --runs
 * epochs. The useful multiply-adds of each product are non-zero values x
 * units, so their flop / time is set against the FMA peak that --peak
 * measures (16-lane FMAs on independent registers, one thread). The
 * kernels make more than that: a few neighbouring inputs go together, and
 * a row where only some of them are non-zero multiplies the others' zeros.
 *
 * The same two products through the GEMMs (nt_dense_forward and
 * nt_dense_backward's dW, OpenBLAS on one thread, with the kernels that
 * OPENBLAS_CORETYPE selects) are timed on the same batches too: "sparse /
 * GEMM" is where NT_SPARSE_MAX_DENSITY's cut-off should sit for a data
 * set of that density (run it with --data fashion-mnist for 50%).
 *
 * A harness to compare kernel changes on: a change to sparse.c that helps
 * shows here first, without the grid's noise (benchmarks/README.md, "Where
 * to speed up nntune", item 8, lists what was tried with it).
 *
 * Usage (from the repository root, after `make setup`):
 *   bench_sparse [--units 128,256] [--batch 128] [--runs 7] [--data mnist]
 *                [--images N]
 *   bench_sparse --peak                the FMA peak alone
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include <cblas.h>

#include "bench_batches.h"
#include "nntune/dense.h"
#include "nntune/sparse.h"

/* Multiply-adds a second on 16-lane FMAs, one thread: 16 independent
 * accumulators, so latency never limits it. */
static double fma_peak(void)
{
#ifdef __AVX512F__
    __m512 a[16];
    const __m512 x = _mm512_set1_ps(1.0000001f), y = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < 16; i++) a[i] = _mm512_set1_ps((float)i);
    const long rounds = 20000000;
    double t0 = nt_now();
    for (long k = 0; k < rounds; k++) {
        #pragma GCC unroll 16
        for (int i = 0; i < 16; i++) a[i] = _mm512_fmadd_ps(a[i], x, y);
        // the compiler may not drop or merge the chains: each is an input here
        __asm__ volatile("" ::"v"(a[0]), "v"(a[1]), "v"(a[2]), "v"(a[3]), "v"(a[4]), "v"(a[5]),
                         "v"(a[6]), "v"(a[7]), "v"(a[8]), "v"(a[9]), "v"(a[10]), "v"(a[11]),
                         "v"(a[12]), "v"(a[13]), "v"(a[14]), "v"(a[15]));
    }
    double t = nt_now() - t0;
    float sink = 0;
    for (int i = 0; i < 16; i++) sink += _mm512_reduce_add_ps(a[i]);
    if (sink == 1.0f) fprintf(stderr, " ");  // never: keeps the sum
    return (double)rounds * 16 * 16 / t;
#else
    return 0;
#endif
}

typedef struct {
    double build, forward, dw;  /* seconds, summed over an epoch's batches */
    double bytes;               /* the build from the bytes */
    double gemm;                /* the GEMMs' forward + dW, the same batches */
} part_times;

int main(int argc, char **argv)
{
    kernel_args ka = {.units = {128, 256}, .nu = 2, .batch = 128, .runs = 7, .data = "mnist"};
    if (!kernel_args_parse(&ka, argc, argv, true) || ka.batch < 1 || ka.batch > 4096 ||
        ka.runs < 1 || ka.images < 0) {
        fprintf(stderr, "usage: bench_sparse [--units 128,256] [--batch 128] [--runs 7] "
                        "[--data mnist] [--images N] | --peak\n");
        return 2;
    }
    if (!nt_sparse_available()) {
        fprintf(stderr, "bench_sparse: this build has no sparse kernels (no AVX-512)\n");
        return 1;
    }
    const double peak = fma_peak();
    printf("FMA peak, one thread: %.1f GFLOP/s (16-lane multiply-adds)\n", peak * 2e-9);
    if (ka.peak) return 0;

    const int batch = ka.batch, runs = ka.runs, nu = ka.nu, *units = ka.units;
    kernel_batches kb;
    if (!kernel_batches_load(&kb, "bench_sparse", ka.data, ka.images, batch)) return 1;
    const size_t d = kb.d, n = kb.n;
    const float *X = kb.X;
    float *xb = nt_alloc((size_t)batch * d * sizeof *xb);
    int widest = 0;
    for (int u = 0; u < nu; u++) widest = units[u] > widest ? units[u] : widest;
    float *W = nt_alloc(d * (size_t)widest * sizeof *W);
    float *dW = nt_alloc(d * (size_t)widest * sizeof *dW);
    float *out = nt_alloc((size_t)batch * widest * sizeof *out);
    float *dy = nt_alloc((size_t)batch * widest * sizeof *dy);
    nt_sparse sp = {0}, sb = {0};
    if (!xb || !W || !dW || !out || !dy || nt_sparse_init(&sp, batch, (int)d) != NT_OK ||
        nt_sparse_init(&sb, batch, (int)d) != NT_OK) {
        fprintf(stderr, "bench_sparse: out of memory\n");
        return 1;
    }
    nt_rng rng = nt_rng_stream(1, 1);
    for (size_t i = 0; i < d * (size_t)widest; i++) W[i] = (float)(nt_rng_uniform(&rng) - 0.5);
    for (size_t i = 0; i < (size_t)batch * widest; i++) dy[i] = (float)(nt_rng_uniform(&rng) - 0.5);

    printf("%s: %zu images, batch %d, minimum over %d epochs\n", kb.train.source, n, batch,
           runs);
    printf("units  non-zero  build ms  bytes build ms  forward ms  dW ms"
           "  build ns/img  forward ns/img  dW ns/img  forward %%peak  dW %%peak"
           "  GEMMs ms  sparse / GEMMs\n");
    openblas_set_num_threads(1);
    const size_t batches = n / (size_t)batch;
    for (int u = 0; u < nu; u++) {
        const int U = units[u];
        part_times best = {1e30, 1e30, 1e30, 1e30, 1e30};
        double nnz = 0;
        for (int r = 0; r < runs; r++) {
            part_times t = {0, 0, 0, 0, 0};
            nnz = 0;
            for (size_t b = 0; b < batches; b++) {
                memcpy(xb, X + b * (size_t)batch * d, (size_t)batch * d * sizeof *xb);
                double t0 = nt_now();
                bool sparse = nt_sparse_build(&sp, xb, batch, 1.0);
                double t1 = nt_now();
                if (!sparse) continue;  // only a build without AVX-512
                nt_sparse_forward(out, &sp, W, U);
                double t2 = nt_now();
                nt_sparse_backward(dW, &sp, dy, U);
                double t3 = nt_now();
                nt_dense_forward(out, xb, W, NULL, batch, (int)d, U);
                nt_dense_backward(NULL, dW, NULL, dy, xb, W, batch, (int)d, U, false);
                t.gemm += nt_now() - t3;
                if (kb.rows) {
                    const uint8_t **rows = kb.rows + b * (size_t)batch;
                    unsigned touch = 0;
                    for (int i = 0; i < batch; i++)
                        for (size_t j = 0; j < d; j += 64) touch += rows[i][j];
                    volatile unsigned sink = touch;  // keeps the reads
                    (void)sink;
                    double t4 = nt_now();
                    nt_sparse_build_rows(&sb, xb, rows, batch, 1.0);
                    t.bytes += nt_now() - t4;
                }
                t.build += t1 - t0;
                t.forward += t2 - t1;
                t.dw += t3 - t2;
                nnz += (double)sp.nnz;
            }
            if (t.build < best.build) best.build = t.build;
            if (t.bytes < best.bytes) best.bytes = t.bytes;
            if (t.forward < best.forward) best.forward = t.forward;
            if (t.dw < best.dw) best.dw = t.dw;
            if (t.gemm < best.gemm) best.gemm = t.gemm;
        }
        const double flops = nnz * U * 2;
        const double sparse_all = best.build + best.forward + best.dw;
        printf("%5d  %8.1f  %8.2f  %14.2f  %10.2f  %5.2f  %12.0f  %14.0f  %9.0f  %13.0f  %8.0f"
               "  %8.2f  %14.2f\n",
               U, nnz / (double)n, best.build * 1e3, kb.rows ? best.bytes * 1e3 : NAN,
               best.forward * 1e3, best.dw * 1e3, best.build * 1e9 / (double)n,
               best.forward * 1e9 / (double)n, best.dw * 1e9 / (double)n,
               100.0 * flops / best.forward / (2 * peak), 100.0 * flops / best.dw / (2 * peak),
               best.gemm * 1e3, sparse_all / best.gemm);
    }
    nt_sparse_free(&sp);
    nt_sparse_free(&sb);
    nt_free(xb);
    nt_free(W);
    nt_free(dW);
    nt_free(out);
    nt_free(dy);
    kernel_batches_free(&kb);
    return 0;
}
