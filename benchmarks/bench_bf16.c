/* bench_bf16.c - what bf16 operands would buy the sparse first layer: a
 * probe for a design decision, not a path nntune has.
 *
 * nntune's first layer multiplies only the listed columns of each block of
 * NT_SPARSE_ROWS rows in float32 (src/nn/sparse.c). AVX512_BF16's vdpbf16ps
 * takes 16 pairs of bf16 products a lane per instruction into float32 sums,
 * so the same instruction count covers twice the products, when the pairs
 * line up:
 *
 *   forward   y = x W, paired over inputs: a block lists pairs of inputs
 *             (2p, 2p+1) where any of its rows is non-zero at either, and
 *             W is converted each step to bf16 pairs (its rows 2p and 2p+1
 *             interleaved). One vdpbf16ps a listed pair, where float32
 *             makes one FMA a listed column.
 *   dW        dW = x^T dy, paired over rows: rows 0-1 and 2-3 of a block,
 *             their dy interleaved in bf16, their values at each listed
 *             column as one bf16 pair. Two vdpbf16ps a listed column where
 *             float32 makes four FMAs; dW itself stays float32, read and
 *             written once a block column as before.
 *
 * On the batches nt_train makes (shuffled, grouped by label in each batch),
 * it times nntune's float32 build, forward and dW, then the bf16 versions:
 * the pair build, the conversion of W, the forward, the conversion of each
 * block's values to row pairs and of its dy, and dW. Times are sums over
 * the batches of an epoch, minimum over --runs epochs. It checks the bf16
 * results against the float32 ones (largest difference over the largest
 * value) so that a faster wrong kernel cannot pass for a result.
 *
 * Usage (from the repository root, after `make setup`; needs a CPU and a
 * compiler with AVX512_BF16, else it says so and exits 1):
 *   bench_bf16 [--units 128,256] [--batch 128] [--runs 5] [--data mnist]
 *              [--images 20000]
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __AVX512BF16__
#include <immintrin.h>
#endif

#include "bench_batches.h"
#include "nntune/sparse.h"

#ifdef __AVX512BF16__

enum { R = NT_SPARSE_ROWS, TILE = 4, LANES = 16 };
_Static_assert(R == 4, "dW pairs a block's rows as 0-1 and 2-3");

/* One block listed by pairs of inputs. */
typedef struct {
    int n;             /* pairs listed */
    int32_t *pair;     /* (in / 2 rounded up) pair p covers inputs 2p, 2p+1 */
    uint32_t *val[R];  /* row s's two values there, as a bf16 pair */
} pair_block;

/* The 32 bf16 of (a[j], b[j]), j = 0..15, interleaved. */
static __m512i interleave(__m512 a, __m512 b)
{
    static const uint16_t order[32] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23,
                                       8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
    __m512i c = (__m512i)_mm512_cvtne2ps_pbh(b, a);  // a in 0..15, b in 16..31
    return _mm512_permutexvar_epi16(_mm512_loadu_si512(order), c);
}

// Rows x0 (R rows of in floats, in even) listed by pairs of inputs
static void build_pairs(pair_block *pb, const float *x0, int in)
{
    __m512i index = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    int n = 0;
    for (int i = 0; i < in; i += 2 * LANES) {
        const int left = in - i;
        const __mmask16 lo_m = left >= LANES ? 0xFFFF : (__mmask16)((1u << left) - 1);
        const __mmask16 hi_m = left >= 2 * LANES ? 0xFFFF
                               : left > LANES    ? (__mmask16)((1u << (left - LANES)) - 1)
                                                 : 0;
        __m512i v[R];
        __mmask16 any = 0;
        for (int s = 0; s < R; s++) {
            const float *x = x0 + (size_t)s * in + i;
            // consecutive floats converted in order: 32-bit lane j is the
            // pair (x[2j], x[2j+1])
            v[s] = (__m512i)_mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(hi_m, x + LANES),
                                                _mm512_maskz_loadu_ps(lo_m, x));
            any |= _mm512_test_epi32_mask(v[s], v[s]);
        }
        for (int s = 0; s < R; s++)
            _mm512_storeu_si512(pb->val[s] + n, _mm512_maskz_compress_epi32(any, v[s]));
        _mm512_storeu_si512(pb->pair + n, _mm512_maskz_compress_epi32(any, index));
        n += __builtin_popcount(any);
        index = _mm512_add_epi32(index, _mm512_set1_epi32(LANES));
    }
    pb->n = n;
}

// W (in, out) float32 -> Wp (in / 2, out, 2) bf16, out a multiple of 16
static void convert_W(uint16_t *Wp, const float *W, int in, int out)
{
    for (int p = 0; p < in / 2; p++)
        for (int o = 0; o < out; o += LANES)
            _mm512_storeu_si512(Wp + ((size_t)p * out + o) * 2,
                                interleave(_mm512_loadu_ps(W + (size_t)(2 * p) * out + o),
                                           _mm512_loadu_ps(W + (size_t)(2 * p + 1) * out + o)));
}

// y (R, out) = the block's rows times W, out a multiple of 64
static void forward_pairs(float *y, const pair_block *pb, const uint16_t *Wp, int out)
{
    for (int o0 = 0; o0 < out; o0 += TILE * LANES) {
        __m512 a[R][TILE];
        #pragma GCC unroll 4
        for (int s = 0; s < R; s++)
            #pragma GCC unroll 4
            for (int t = 0; t < TILE; t++) a[s][t] = _mm512_setzero_ps();
        for (int k = 0; k < pb->n; k++) {
            const uint16_t *w = Wp + ((size_t)pb->pair[k] * out + o0) * 2;
            __m512bh wv[TILE];
            #pragma GCC unroll 4
            for (int t = 0; t < TILE; t++) wv[t] = (__m512bh)_mm512_loadu_si512(w + t * 2 * LANES);
            #pragma GCC unroll 4
            for (int s = 0; s < R; s++) {
                __m512bh xv = (__m512bh)_mm512_set1_epi32((int)pb->val[s][k]);
                #pragma GCC unroll 4
                for (int t = 0; t < TILE; t++) a[s][t] = _mm512_dpbf16_ps(a[s][t], xv, wv[t]);
            }
        }
        #pragma GCC unroll 4
        for (int s = 0; s < R; s++)
            #pragma GCC unroll 4
            for (int t = 0; t < TILE; t++)
                _mm512_storeu_ps(y + (size_t)s * out + o0 + t * LANES, a[s][t]);
    }
}

// A float32 block's values at its n columns as two row pairs: rows 0-1 in
// xr[0], rows 2-3 in xr[1]
static void row_pairs(uint32_t *xr[2], const float *const val[R], int n)
{
    for (int h = 0; h < 2; h++)
        for (int k = 0; k < n; k += LANES) {
            const __mmask16 m = n - k >= LANES ? 0xFFFF : (__mmask16)((1u << (n - k)) - 1);
            __m512i p = interleave(_mm512_maskz_loadu_ps(m, val[2 * h] + k),
                                   _mm512_maskz_loadu_ps(m, val[2 * h + 1] + k));
            // 32-bit lane j: column k + j's pair
            _mm512_mask_storeu_epi32(xr[h] + k, m, p);
        }
}

// dW rows of the block's columns += its rows' values times their dy,
// out a multiple of 64; dyp (2, out, 2): rows 0-1 and 2-3 interleaved
static void dw_pairs(float *dW, const int32_t *col, int n, uint32_t *const xr[2],
                     const uint16_t *dyp, int out)
{
    for (int o0 = 0; o0 < out; o0 += TILE * LANES) {
        __m512bh g[2][TILE];
        #pragma GCC unroll 2
        for (int h = 0; h < 2; h++)
            #pragma GCC unroll 4
            for (int t = 0; t < TILE; t++)
                g[h][t] = (__m512bh)_mm512_loadu_si512(dyp + ((size_t)h * out + o0 + t * LANES) * 2);
        for (int k = 0; k < n; k++) {
            float *d = dW + (size_t)col[k] * out + o0;
            __m512 a[TILE];
            #pragma GCC unroll 4
            for (int t = 0; t < TILE; t++) a[t] = _mm512_loadu_ps(d + t * LANES);
            const __m512bh x0 = (__m512bh)_mm512_set1_epi32((int)xr[0][k]);
            const __m512bh x1 = (__m512bh)_mm512_set1_epi32((int)xr[1][k]);
            #pragma GCC unroll 4
            for (int t = 0; t < TILE; t++) a[t] = _mm512_dpbf16_ps(a[t], x0, g[0][t]);
            #pragma GCC unroll 4
            for (int t = 0; t < TILE; t++) a[t] = _mm512_dpbf16_ps(a[t], x1, g[1][t]);
            #pragma GCC unroll 4
            for (int t = 0; t < TILE; t++) _mm512_storeu_ps(d + t * LANES, a[t]);
        }
    }
}

// dy rows 4b .. 4b+3 (out floats each) -> dyp (2, out, 2) bf16
static void dy_pairs(uint16_t *dyp, const float *dy, int out)
{
    for (int h = 0; h < 2; h++)
        for (int o = 0; o < out; o += LANES)
            _mm512_storeu_si512(dyp + ((size_t)h * out + o) * 2,
                                interleave(_mm512_loadu_ps(dy + (size_t)(2 * h) * out + o),
                                           _mm512_loadu_ps(dy + (size_t)(2 * h + 1) * out + o)));
}

/* The largest |a - b| over the largest |a|. */
static double rel_diff(const float *a, const float *b, size_t n)
{
    double diff = 0, top = 0;
    for (size_t i = 0; i < n; i++) {
        diff = fmax(diff, fabs((double)a[i] - b[i]));
        top = fmax(top, fabs((double)a[i]));
    }
    return top > 0 ? diff / top : diff;
}

enum { T_BUILD, T_FWD, T_DW, T_PAIRS, T_WCONV, T_PFWD, T_ROWPAIRS, T_PDW, N_T };

int main(int argc, char **argv)
{
    kernel_args ka = {.units = {128, 256}, .nu = 2, .batch = 128, .runs = 5, .images = 20000,
                      .data = "mnist"};
    bool ok = kernel_args_parse(&ka, argc, argv, false);
    for (int u = 0; u < ka.nu; u++) ok = ok && ka.units[u] % (TILE * LANES) == 0;
    if (!ok || ka.batch < R || ka.batch % R || ka.batch > 4096 || ka.runs < 1 || ka.images < 0) {
        fprintf(stderr, "usage: bench_bf16 [--units 128,256 (multiples of 64)] [--batch 128 "
                        "(a multiple of %d)] [--runs 5] [--data mnist] [--images 20000]\n", R);
        return 2;
    }
    const int batch = ka.batch, runs = ka.runs, nu = ka.nu, *units = ka.units;
    kernel_batches kb;
    if (!kernel_batches_load(&kb, "bench_bf16", ka.data, ka.images, batch)) return 1;
    const int d = (int)kb.d;
    const size_t n = kb.n;
    const float *X = kb.X;
    if (d % 2) {
        fprintf(stderr, "bench_bf16: %s has an odd number of inputs (%d)\n", kb.train.source, d);
        kernel_batches_free(&kb);
        return 1;
    }
    const int blocks = batch / R, pairs_max = d / 2 + 2 * LANES;
    int widest = 0;
    for (int u = 0; u < nu; u++) widest = units[u] > widest ? units[u] : widest;

    float *xb = nt_alloc((size_t)batch * d * sizeof *xb);
    float *W = nt_alloc((size_t)d * widest * sizeof *W);
    float *dW = nt_alloc((size_t)d * widest * sizeof *dW);
    float *dW2 = nt_alloc((size_t)d * widest * sizeof *dW2);
    float *out = nt_alloc((size_t)batch * widest * sizeof *out);
    float *out2 = nt_alloc((size_t)batch * widest * sizeof *out2);
    float *dy = nt_alloc((size_t)batch * widest * sizeof *dy);
    uint16_t *Wp = nt_alloc((size_t)d * widest * sizeof *Wp);
    uint16_t *dyp = nt_alloc((size_t)batch * widest * sizeof *dyp);
    int32_t *pair = nt_alloc((size_t)blocks * pairs_max * sizeof *pair);
    uint32_t *pval = nt_alloc((size_t)blocks * R * pairs_max * sizeof *pval);
    uint32_t *xr = nt_alloc((size_t)blocks * 2 * (d + LANES) * sizeof *xr);
    pair_block *pb = malloc((size_t)blocks * sizeof *pb);
    nt_sparse sp = {0};
    if (!xb || !W || !dW || !dW2 || !out || !out2 || !dy || !Wp || !dyp || !pair || !pval ||
        !xr || !pb || nt_sparse_init(&sp, batch, d) != NT_OK) {
        fprintf(stderr, "bench_bf16: out of memory\n");
        return 1;
    }
    for (int b = 0; b < blocks; b++) {
        pb[b].pair = pair + (size_t)b * pairs_max;
        for (int s = 0; s < R; s++) pb[b].val[s] = pval + ((size_t)b * R + s) * pairs_max;
    }
    nt_rng rng = nt_rng_stream(1, 1);
    // weights and gradients of the sizes training sees
    for (size_t i = 0; i < (size_t)d * widest; i++) W[i] = (float)nt_rng_normal(&rng) * 0.05f;
    for (size_t i = 0; i < (size_t)batch * widest; i++) dy[i] = (float)nt_rng_normal(&rng) * 1e-3f;

    printf("%s: %zu images, batch %d, blocks of %d rows, minimum over %d epochs; ms an epoch\n",
           kb.train.source, n, batch, R, runs);
    printf("units  columns  pairs | f32 build  forward     dW | bf16 build  W conv  forward"
           "  row pairs      dW | forward x  dW x | diff fwd   diff dW\n");
    const size_t batches = n / (size_t)batch;
    for (int u = 0; u < nu; u++) {
        const int U = units[u];
        double best[N_T];
        for (int i = 0; i < N_T; i++) best[i] = 1e30;
        double cols = 0, prs = 0, ef = 0, eb = 0;
        for (int r = 0; r < runs; r++) {
            double t[N_T] = {0};
            cols = prs = 0;
            for (size_t b = 0; b < batches; b++) {
                memcpy(xb, X + b * (size_t)batch * d, (size_t)batch * d * sizeof *xb);
                double t0 = nt_now();
                nt_sparse_build(&sp, xb, batch, 1.0);
                double t1 = nt_now();
                nt_sparse_forward(out, &sp, W, U);
                double t2 = nt_now();
                nt_sparse_backward(dW, &sp, dy, U);
                double t3 = nt_now();
                for (int k = 0; k < blocks; k++) build_pairs(&pb[k], xb + (size_t)k * R * d, d);
                double t4 = nt_now();
                convert_W(Wp, W, d, U);
                double t5 = nt_now();
                for (int k = 0; k < blocks; k++)
                    forward_pairs(out2 + (size_t)k * R * U, &pb[k], Wp, U);
                double t6 = nt_now();
                for (int k = 0; k < blocks; k++) {
                    const float *v0 = sp.val + (size_t)k * R * sp.stride;
                    const float *const val[R] = {v0, v0 + sp.stride, v0 + 2 * sp.stride,
                                                 v0 + 3 * sp.stride};
                    uint32_t *pr[2] = {xr + (size_t)k * 2 * (d + LANES),
                                       xr + (size_t)k * 2 * (d + LANES) + d + LANES};
                    row_pairs(pr, val, sp.count[k]);
                    dy_pairs(dyp + (size_t)k * 2 * U * 2, dy + (size_t)k * R * U, U);
                }
                double t7 = nt_now();
                memset(dW2, 0, (size_t)d * U * sizeof *dW2);
                for (int k = 0; k < blocks; k++) {
                    uint32_t *pr[2] = {xr + (size_t)k * 2 * (d + LANES),
                                       xr + (size_t)k * 2 * (d + LANES) + d + LANES};
                    dw_pairs(dW2, sp.col + (size_t)k * sp.stride, sp.count[k], pr,
                             dyp + (size_t)k * 2 * U * 2, U);
                }
                double t8 = nt_now();
                const double dt[N_T] = {t1 - t0, t2 - t1, t3 - t2, t4 - t3,
                                        t5 - t4, t6 - t5, t7 - t6, t8 - t7};
                for (int i = 0; i < N_T; i++) t[i] += dt[i];
                for (int k = 0; k < blocks; k++) cols += sp.count[k], prs += pb[k].n;
                if (r == 0) {
                    ef = fmax(ef, rel_diff(out, out2, (size_t)batch * U));
                    eb = fmax(eb, rel_diff(dW, dW2, (size_t)d * U));
                }
            }
            for (int i = 0; i < N_T; i++) best[i] = fmin(best[i], t[i]);
        }
        const double per = (double)(batches * blocks);
        const double f32_fwd = best[T_FWD], bf_fwd = best[T_WCONV] + best[T_PFWD];
        const double f32_dw = best[T_DW], bf_dw = best[T_ROWPAIRS] + best[T_PDW];
        printf("%5d  %7.1f  %5.1f | %9.2f  %7.2f  %5.2f | %10.2f  %6.2f  %7.2f  %9.2f  %6.2f |"
               " %8.2f  %4.2f | %8.2g  %8.2g\n",
               U, cols / per, prs / per, best[T_BUILD] * 1e3, f32_fwd * 1e3, f32_dw * 1e3,
               best[T_PAIRS] * 1e3, best[T_WCONV] * 1e3, best[T_PFWD] * 1e3,
               best[T_ROWPAIRS] * 1e3, best[T_PDW] * 1e3, f32_fwd / bf_fwd, f32_dw / bf_dw, ef,
               eb);
    }
    printf("columns, pairs: listed a block; forward x, dW x: float32 time over bf16's, "
           "conversions included; diff: largest |bf16 - float32| over the largest |float32|\n");
    nt_sparse_free(&sp);
    free(pb);
    nt_free(xb);
    nt_free(W);
    nt_free(dW);
    nt_free(dW2);
    nt_free(out);
    nt_free(out2);
    nt_free(dy);
    nt_free(Wp);
    nt_free(dyp);
    nt_free(pair);
    nt_free(pval);
    nt_free(xr);
    kernel_batches_free(&kb);
    return 0;
}

#else  // no AVX512_BF16

int main(void)
{
    fprintf(stderr, "bench_bf16: this build has no AVX512_BF16 (compile with -march=native on "
                    "a CPU that has it)\n");
    return 1;
}

#endif
