/* sparse.c - mostly-zero inputs in blocks of NT_SPARSE_ROWS rows, and the
 * first layer's products over their non-zero columns (AVX-512). */
#include "nntune/sparse.h"

#include <assert.h>
#include <string.h>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include "lanes.h"

enum { R = NT_SPARSE_ROWS, LANES = 16, TILE = 4 };  // a tile: TILE x 16 outputs

// The R x TILE accumulators stay in registers only when the small loops
// over them are unrolled, which -O2 does not do by itself: hence the
// "#pragma GCC unroll" on each (without them the kernels run 2-3x slower).

bool nt_sparse_available(void)
{
#ifdef __AVX512F__
    return true;
#else
    return false;
#endif
}

nt_status nt_sparse_init(nt_sparse *sp, int max_batch, int in)
{
    assert(sp && max_batch >= 1 && in >= 1);
    memset(sp, 0, sizeof *sp);
    sp->max_batch = max_batch;
    sp->in = in;
    sp->stride = (in + LANES - 1) / LANES * LANES;
    size_t blocks = ((size_t)max_batch + R - 1) / R, entries = blocks * (size_t)sp->stride;
    sp->count = nt_alloc(blocks * sizeof *sp->count);
    sp->col = nt_alloc(entries * sizeof *sp->col);
    sp->val = nt_alloc(entries * R * sizeof *sp->val);
    sp->listed = nt_alloc((size_t)(sp->stride / LANES) * sizeof *sp->listed);
    if (!sp->count || !sp->col || !sp->val || !sp->listed) {
        nt_errorf("sparse: out of memory for %zu blocks of %d columns", blocks, in);
        nt_sparse_free(sp);
        return NT_ERR_NOMEM;
    }
    return NT_OK;
}

void nt_sparse_free(nt_sparse *sp)
{
    if (!sp) return;
    nt_free(sp->count);
    nt_free(sp->col);
    nt_free(sp->val);
    nt_free(sp->listed);
    memset(sp, 0, sizeof *sp);
}

#ifdef __AVX512F__

static const float *block_val(const nt_sparse *sp, int blk, int s)
{
    return sp->val + ((size_t)blk * R + (size_t)s) * sp->stride;
}

static int block_rows(int B, int blk) { return B - blk * R < R ? B - blk * R : R; }

/* One built block as the kernels read it. */
typedef struct {
    int rows;                 /* rows of the batch in it, 1..R */
    int n;                    /* columns listed */
    const int32_t *col;       /* (n) */
    const float *val[R];      /* (R, n): row s's value at each column */
} block;

// first of the n ascending columns that is >= c
static int lower_bound(const int32_t *col, int n, int c)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (col[mid] < c) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

// block blk, with only its columns in [i0, i1)
static block block_of(const nt_sparse *sp, int blk, int i0, int i1)
{
    const int32_t *col = sp->col + (size_t)blk * sp->stride;
    const int n = sp->count[blk];
    const int k0 = i0 > sp->i0 ? lower_bound(col, n, i0) : 0;
    const int k1 = i1 < sp->i1 ? lower_bound(col, n, i1) : n;
    block b = {block_rows(sp->B, blk), k1 - k0, col + k0, {0}};
    #pragma GCC unroll 4
    for (int s = 0; s < R; s++) b.val[s] = block_val(sp, blk, s) + k0;
    return b;
}

// List block blk's columns in [i0, i1) (i0 a multiple of 16): rows rows
// (<= R) of x starting at x0. Returns the non-zero values seen.
static size_t build_block(nt_sparse *sp, int blk, const float *x0, int rows, int i0, int i1)
{
    const int in = sp->in;
    int32_t *col = sp->col + (size_t)blk * sp->stride;
    float *val[R];
    #pragma GCC unroll 4
    for (int s = 0; s < R; s++) val[s] = (float *)block_val(sp, blk, s);
    __m512i index = _mm512_add_epi32(_mm512_set1_epi32(i0),
                                     _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                                       12, 13, 14, 15));
    const __m512i step = _mm512_set1_epi32(LANES);
    size_t nnz = 0;
    int n = 0;
    for (int i = i0; i < i1; i += LANES) {
        const __mmask16 m = nt_first_lanes(i1 - i);
        __m512 v[R];
        __mmask16 any = 0;
        #pragma GCC unroll 4
        for (int s = 0; s < R; s++) {
            v[s] = s < rows ? _mm512_maskz_loadu_ps(m, x0 + (size_t)s * in + i)
                            : _mm512_setzero_ps();
            __mmask16 nz = _mm512_cmpneq_ps_mask(v[s], _mm512_setzero_ps());
            nnz += (size_t)__builtin_popcount(nz);
            any |= nz;
        }
        // full-width stores: they stay inside the block's stride, and the
        // lanes past n are overwritten by the next columns or never read
        #pragma GCC unroll 4
        for (int s = 0; s < R; s++)
            _mm512_storeu_ps(val[s] + n, _mm512_maskz_compress_ps(any, v[s]));
        _mm512_storeu_si512(col + n, _mm512_maskz_compress_epi32(any, index));
        const int listed = __builtin_popcount(any);
        n += listed;
        sp->listed[i / LANES] += listed;
        index = _mm512_add_epi32(index, step);
    }
    sp->count[blk] = n;
    return nnz;
}

size_t nt_sparse_build_inputs(nt_sparse *sp, const float *x, int B, int i0, int i1,
                              double max_density)
{
    assert(sp && sp->col && x && B >= 1 && B <= sp->max_batch);
    assert(0 <= i0 && i0 <= i1 && i1 <= sp->in && (i0 % LANES == 0 || i0 == i1));
    const size_t most = (size_t)(max_density * (double)B * sp->in);
    sp->i0 = i0;
    sp->i1 = i1;
    memset(sp->listed, 0, (size_t)(sp->stride / LANES) * sizeof *sp->listed);
    size_t nnz = 0;
    const int blocks = nt_sparse_blocks(B);
    for (int blk = 0; blk < blocks; blk++) {
        nnz += build_block(sp, blk, x + (size_t)blk * R * sp->in, block_rows(B, blk), i0, i1);
        if (nnz > most) return SIZE_MAX;
    }
    return nnz;
}

bool nt_sparse_finish(nt_sparse *sp, int B, size_t nnz, double max_density)
{
    assert(sp && B >= 1 && B <= sp->max_batch);
    bool ok = nnz != SIZE_MAX && (double)nnz <= max_density * (double)B * sp->in;
    sp->B = ok ? B : 0;
    sp->n_blocks = ok ? nt_sparse_blocks(B) : 0;
    sp->nnz = ok ? nnz : 0;
    return ok;
}

// y rows of one block, outputs [o0, o0 + TILE * 16): R x TILE accumulators
// in registers, one load of each W row's tile for all R rows
static void forward_tile(float *y, const block *bk, int out, int o0, const float *W)
{
    const int rows = bk->rows, n = bk->n;
    const int32_t *col = bk->col;
    const float *const *val = bk->val;
    __m512 a[R][TILE];
    #pragma GCC unroll 4
    for (int s = 0; s < R; s++)
        #pragma GCC unroll 4
        for (int t = 0; t < TILE; t++) a[s][t] = _mm512_setzero_ps();
    for (int k = 0; k < n; k++) {
        const float *w = W + (size_t)col[k] * out + o0;
        __m512 wv[TILE];
        #pragma GCC unroll 4
        for (int t = 0; t < TILE; t++) wv[t] = _mm512_loadu_ps(w + t * LANES);
        #pragma GCC unroll 4
        for (int s = 0; s < R; s++) {
            __m512 v = _mm512_set1_ps(val[s][k]);
            #pragma GCC unroll 4
            for (int t = 0; t < TILE; t++) a[s][t] = _mm512_fmadd_ps(v, wv[t], a[s][t]);
        }
    }
    #pragma GCC unroll 4
    for (int s = 0; s < rows; s++)
        #pragma GCC unroll 4
        for (int t = 0; t < TILE; t++)
            _mm512_storeu_ps(y + (size_t)s * out + o0 + t * LANES, a[s][t]);
}

// the same for the last outputs, 16 (or fewer, masked) at a time
static void forward_lanes(float *y, const block *bk, int out, int o0, const float *W)
{
    const int rows = bk->rows, n = bk->n;
    const int32_t *col = bk->col;
    const float *const *val = bk->val;
    const __mmask16 m = nt_first_lanes(out - o0);
    __m512 a[R];
    #pragma GCC unroll 4
    for (int s = 0; s < R; s++) a[s] = _mm512_setzero_ps();
    for (int k = 0; k < n; k++) {
        __m512 wv = _mm512_maskz_loadu_ps(m, W + (size_t)col[k] * out + o0);
        #pragma GCC unroll 4
        for (int s = 0; s < R; s++) a[s] = _mm512_fmadd_ps(_mm512_set1_ps(val[s][k]), wv, a[s]);
    }
    #pragma GCC unroll 4
    for (int s = 0; s < rows; s++) _mm512_mask_storeu_ps(y + (size_t)s * out + o0, m, a[s]);
}

void nt_sparse_forward_inputs(float *y, const nt_sparse *sp, const float *W, int out,
                              int i0, int i1)
{
    assert(y && sp && sp->B >= 1 && W && out >= 1 && sp->i0 <= i0 && i0 <= i1 && i1 <= sp->i1);
    for (int blk = 0; blk < sp->n_blocks; blk++) {
        const block bk = block_of(sp, blk, i0, i1);
        float *yb = y + (size_t)blk * R * out;
        int o0 = 0;
        for (; o0 + TILE * LANES <= out; o0 += TILE * LANES) forward_tile(yb, &bk, out, o0, W);
        for (; o0 < out; o0 += LANES) forward_lanes(yb, &bk, out, o0, W);
    }
}

// dW rows of one block's columns, outputs [o0, o0 + TILE * 16) += the
// block's rows' values times their dy: the R x TILE dy tiles stay in
// registers while each column's dW tile is read and written once
static void backward_tile(float *dW, const float *dy, const block *bk, int out, int o0)
{
    const int rows = bk->rows, n = bk->n;
    const int32_t *col = bk->col;
    const float *const *val = bk->val;
    __m512 g[R][TILE];
    #pragma GCC unroll 4
    for (int s = 0; s < R; s++)
        #pragma GCC unroll 4
        for (int t = 0; t < TILE; t++)
            g[s][t] = s < rows ? _mm512_loadu_ps(dy + (size_t)s * out + o0 + t * LANES)
                               : _mm512_setzero_ps();
    for (int k = 0; k < n; k++) {
        float *d = dW + (size_t)col[k] * out + o0;
        __m512 a[TILE];
        #pragma GCC unroll 4
        for (int t = 0; t < TILE; t++) a[t] = _mm512_loadu_ps(d + t * LANES);
        #pragma GCC unroll 4
        for (int s = 0; s < R; s++) {
            __m512 v = _mm512_set1_ps(val[s][k]);
            #pragma GCC unroll 4
            for (int t = 0; t < TILE; t++) a[t] = _mm512_fmadd_ps(v, g[s][t], a[t]);
        }
        #pragma GCC unroll 4
        for (int t = 0; t < TILE; t++) _mm512_storeu_ps(d + t * LANES, a[t]);
    }
}

static void backward_lanes(float *dW, const float *dy, const block *bk, int out, int o0)
{
    const int rows = bk->rows, n = bk->n;
    const int32_t *col = bk->col;
    const float *const *val = bk->val;
    const __mmask16 m = nt_first_lanes(out - o0);
    __m512 g[R];
    #pragma GCC unroll 4
    for (int s = 0; s < R; s++)
        g[s] = s < rows ? _mm512_maskz_loadu_ps(m, dy + (size_t)s * out + o0)
                        : _mm512_setzero_ps();
    for (int k = 0; k < n; k++) {
        float *d = dW + (size_t)col[k] * out + o0;
        __m512 a = _mm512_maskz_loadu_ps(m, d);
        #pragma GCC unroll 4
        for (int s = 0; s < R; s++) a = _mm512_fmadd_ps(_mm512_set1_ps(val[s][k]), g[s], a);
        _mm512_mask_storeu_ps(d, m, a);
    }
}

void nt_sparse_backward_inputs(float *dW, const nt_sparse *sp, const float *dy, int out,
                               int i0, int i1)
{
    assert(dW && sp && sp->B >= 1 && dy && out >= 1 && sp->i0 <= i0 && i0 <= i1 && i1 <= sp->i1);
    memset(dW + (size_t)i0 * out, 0, (size_t)(i1 - i0) * out * sizeof *dW);
    for (int blk = 0; blk < sp->n_blocks; blk++) {
        const block bk = block_of(sp, blk, i0, i1);
        const float *dyb = dy + (size_t)blk * R * out;
        int o0 = 0;
        for (; o0 + TILE * LANES <= out; o0 += TILE * LANES) backward_tile(dW, dyb, &bk, out, o0);
        for (; o0 < out; o0 += LANES) backward_lanes(dW, dyb, &bk, out, o0);
    }
}

#else  // no AVX-512: no sparse path; the network uses its GEMMs

size_t nt_sparse_build_inputs(nt_sparse *sp, const float *x, int B, int i0, int i1,
                              double max_density)
{
    assert(sp && x && B >= 1 && i0 <= i1);
    (void)max_density;
    return SIZE_MAX;
}

bool nt_sparse_finish(nt_sparse *sp, int B, size_t nnz, double max_density)
{
    assert(sp && B >= 1);
    (void)nnz;
    (void)max_density;
    sp->B = 0;
    return false;
}

void nt_sparse_forward_inputs(float *y, const nt_sparse *sp, const float *W, int out,
                              int i0, int i1)
{
    assert(!"nt_sparse_forward_inputs without AVX-512");
}

void nt_sparse_backward_inputs(float *dW, const nt_sparse *sp, const float *dy, int out,
                               int i0, int i1)
{
    assert(!"nt_sparse_backward_inputs without AVX-512");
}

#endif

int nt_sparse_blocks(int B) { return (B + R - 1) / R; }

bool nt_sparse_build(nt_sparse *sp, const float *x, int B, double max_density)
{
    size_t nnz = nt_sparse_build_inputs(sp, x, B, 0, sp->in, max_density);
    return nt_sparse_finish(sp, B, nnz, max_density);
}

void nt_sparse_forward(float *y, const nt_sparse *sp, const float *W, int out)
{
    nt_sparse_forward_inputs(y, sp, W, out, 0, sp->in);
}

void nt_sparse_backward(float *dW, const nt_sparse *sp, const float *dy, int out)
{
    nt_sparse_backward_inputs(dW, sp, dy, out, 0, sp->in);
}
