/* sparse.c - which of a batch's inputs are non-zero, by rows and by inputs,
 * and the first layer's products over those only (AVX-512). */
#include "nntune/sparse.h"

#include <assert.h>
#include <string.h>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include "lanes.h"

// TILE_OUT outputs at a time, in up to TILE_OUT / 16 registers a row; the
// forward takes FORWARD_INPUTS inputs at a time, dW DW_INPUTS (measured
// best on MNIST: benchmarks/README.md, "Where to speed up", item 13)
enum { LANES = 16, TILE_OUT = 64, FORWARD_INPUTS = 4, DW_INPUTS = 2 };
enum { TILE_ROWS = 128 };  // the tile: 128 rows of 64 floats, 32 KB
enum { WORK_ROWS = 4 };  // group_work's blocks of rows (sparse.h)

// The accumulators stay in registers only when the small loops over them
// are unrolled and their counts are constants: hence "#pragma GCC unroll"
// on each, and the kernels inlined into a switch over the register count.

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
    sp->inputs64 = (in + 63) / 64 * 64;
    sp->words = (max_batch + 63) / 64;
    // whole 64 x 64 squares of bits, for the transpose
    const size_t bits = (size_t)sp->words * 64 * (size_t)sp->inputs64;
    sp->row_nz = nt_alloc(bits / 8);
    sp->col_rows = nt_alloc(bits / 8);
    sp->group_work = nt_alloc((size_t)(sp->inputs64 / LANES) * sizeof *sp->group_work);
    sp->tile = nt_alloc((size_t)(max_batch < TILE_ROWS ? max_batch : TILE_ROWS) * TILE_OUT *
                        sizeof *sp->tile);
    if (!sp->row_nz || !sp->col_rows || !sp->group_work || !sp->tile) {
        nt_errorf("sparse: out of memory for batches of %d rows of %d inputs", max_batch, in);
        nt_sparse_free(sp);
        return NT_ERR_NOMEM;
    }
    // a build over a slice of the inputs transposes whole squares: the
    // bits outside it are never read, but are defined
    memset(sp->row_nz, 0, bits / 8);
    return NT_OK;
}

void nt_sparse_free(nt_sparse *sp)
{
    if (!sp) return;
    nt_free(sp->row_nz);
    nt_free(sp->col_rows);
    nt_free(sp->group_work);
    nt_free(sp->tile);
    memset(sp, 0, sizeof *sp);
}

#ifdef __AVX512F__

// Rows r0 .. r0 + rows - 1 (rows <= 4) of inputs [i0, i1) (i0 a multiple
// of 16): their bits into row_nz, and each group's count of the inputs
// where any of them is non-zero into group_work. Returns their non-zero
// values.
static size_t mark_rows(nt_sparse *sp, const float *x, int r0, int rows, int i0, int i1)
{
    const size_t square = (size_t)sp->words * 64 * 4;  // uint16s of 64 inputs
    uint16_t *bits = sp->row_nz + (size_t)r0 * 4;
    size_t nnz = 0;
    for (int i = i0; i < i1; i += LANES) {
        const __mmask16 tail = nt_first_lanes(i1 - i);
        __mmask16 any = 0;
        for (int s = 0; s < rows; s++) {
            const __m512 v = _mm512_maskz_loadu_ps(tail, x + (size_t)(r0 + s) * sp->in + i);
            const __mmask16 nz = _mm512_cmpneq_ps_mask(v, _mm512_setzero_ps());
            bits[(size_t)(i / 64) * square + (size_t)s * 4 + (i / LANES) % 4] = nz;
            nnz += (size_t)__builtin_popcount(nz);
            any |= nz;
        }
        sp->group_work[i / LANES] += __builtin_popcount(any);
    }
    return nnz;
}

#ifdef __AVX512BW__
// mark_rows from the rows' bytes (rows[r] zero exactly where x's row r is):
// a quarter of the memory, and one test a 64 inputs, a word of row_nz's
// squares
static size_t mark_rows_bytes(nt_sparse *sp, const uint8_t *const *rows, int r0, int n,
                              int i0, int i1)
{
    const size_t square = (size_t)sp->words * 64 * 4;  // uint16s of 64 inputs
    uint16_t *bits = sp->row_nz + (size_t)r0 * 4;
    size_t nnz = 0;
    for (int c0 = i0 / 64 * 64; c0 < i1; c0 += 64) {
        // the lanes of [i0, i1) in this word
        const uint64_t lo = c0 >= i0 ? ~0ull : ~0ull << (i0 - c0);
        const uint64_t in = lo & (i1 - c0 >= 64 ? ~0ull : (1ull << (i1 - c0)) - 1);
        uint64_t any = 0;
        for (int s = 0; s < n; s++) {
            const __m512i v = _mm512_maskz_loadu_epi8(in, rows[r0 + s] + c0);
            const uint64_t nz = _mm512_test_epi8_mask(v, v);
            memcpy(bits + (size_t)(c0 / 64) * square + (size_t)s * 4, &nz, sizeof nz);
            nnz += (size_t)__builtin_popcountll(nz);
            any |= nz;
        }
        // (the groups outside [i0, i1) add 0: their lanes were not loaded)
        for (int g = 0; g < 4; g++)
            sp->group_work[c0 / LANES + g] += __builtin_popcount((unsigned)(any >> 16 * g) &
                                                                 0xFFFFu);
    }
    return nnz;
}
#endif

// Rows r0 .. r0 + n - 1 marked from their bytes when there are any
static size_t mark(nt_sparse *sp, const float *x, const uint8_t *const *rows, int r0, int n,
                   int i0, int i1)
{
#ifdef __AVX512BW__
    if (rows) return mark_rows_bytes(sp, rows, r0, n, i0, i1);
#else
    (void)rows;  // AVX-512 without its byte instructions: from x
#endif
    return mark_rows(sp, x, r0, n, i0, i1);
}

// One swap of the 64 x 64 bit transpose (Hacker's Delight 7-3; row r's bit
// c is column c) between rows k and k + h, k's bit h clear: k's bits c + h
// trade places with k + h's bits c, for each c whose bit h is clear (m).
// swap_low: row k's new bits, from a = row k and b = row k + h.
static inline __m512i swap_low(__m512i a, __m512i b, int h, __m512i m)
{
    const __m512i t = _mm512_and_si512(_mm512_xor_si512(_mm512_srli_epi64(a, h), b), m);
    return _mm512_xor_si512(a, _mm512_slli_epi64(t, h));
}
// swap_high: row k + h's new bits, from a = row k + h and b = row k.
static inline __m512i swap_high(__m512i a, __m512i b, int h, __m512i m)
{
    return _mm512_xor_si512(a, _mm512_and_si512(_mm512_xor_si512(_mm512_srli_epi64(b, h), a), m));
}

// a, 64 rows of 64 bits, 8 to a register (a[r] bit c), transposed in
// place (a[c] bit r): six rounds of swaps, h = 32, 16, 8 between
// registers, then 4, 2, 1 between the lanes of each
static void transpose_64(__m512i a[8])
{
    static const uint64_t mask[6] = {0x00000000FFFFFFFFull, 0x0000FFFF0000FFFFull,
                                     0x00FF00FF00FF00FFull, 0x0F0F0F0F0F0F0F0Full,
                                     0x3333333333333333ull, 0x5555555555555555ull};
    for (int round = 0; round < 3; round++) {
        const int h = 32 >> round, span = h / 8;
        const __m512i m = _mm512_set1_epi64((long long)mask[round]);
        for (int k = 0; k < 8; k++) {
            if (k & span) continue;
            const __m512i lo = a[k], hi = a[k + span];
            a[k] = swap_low(lo, hi, h, m);
            a[k + span] = swap_high(hi, lo, h, m);
        }
    }
    const __m512i lane = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
    for (int round = 3; round < 6; round++) {
        const int h = 32 >> round;
        const __m512i m = _mm512_set1_epi64((long long)mask[round]);
        const __m512i partner = _mm512_xor_si512(lane, _mm512_set1_epi64(h));
        const __mmask8 high = _mm512_test_epi64_mask(lane, _mm512_set1_epi64(h));
        for (int k = 0; k < 8; k++) {
            const __m512i b = _mm512_permutexvar_epi64(partner, a[k]);
            a[k] = _mm512_mask_blend_epi64(high, swap_low(a[k], b, h, m),
                                           swap_high(a[k], b, h, m));
        }
    }
}

// col_rows from row_nz: each input of [i0, i1)'s rows, of the batch's B
static void transpose_rows(nt_sparse *sp, int B, int i0, int i1)
{
    const int words = (B + 63) / 64;
    for (int c = i0 / 64; c * 64 < i1; c++) {
        for (int w = 0; w < words; w++) {
            const uint16_t *src = sp->row_nz + ((size_t)c * sp->words + w) * 64 * 4;
            __m512i a[8];
            for (int k = 0; k < 8; k++) {
                const int left = B - w * 64 - k * 8;  // rows of the batch from here
                const __mmask8 rows = left >= 8 ? 0xFF : left <= 0 ? 0 : (__mmask8)((1u << left) - 1);
                a[k] = _mm512_maskz_loadu_epi64(rows, src + k * 8 * 4);
            }
            transpose_64(a);
            uint64_t *dst = sp->col_rows + (size_t)w * sp->inputs64 + (size_t)c * 64;
            for (int k = 0; k < 8; k++) _mm512_storeu_si512(dst + k * 8, a[k]);
        }
    }
}

size_t nt_sparse_build_inputs(nt_sparse *sp, const float *x, int B, int i0, int i1,
                              double max_density)
{
    return nt_sparse_build_inputs_rows(sp, x, NULL, B, i0, i1, max_density);
}

size_t nt_sparse_build_inputs_rows(nt_sparse *sp, const float *x, const uint8_t *const *rows,
                                   int B, int i0, int i1, double max_density)
{
    assert(sp && sp->row_nz && x && B >= 1 && B <= sp->max_batch);
    assert(0 <= i0 && i0 <= i1 && i1 <= sp->in && (i0 % LANES == 0 || i0 == i1));
    const size_t most = (size_t)(max_density * (double)B * sp->in);
    sp->i0 = i0;
    sp->i1 = i1;
    memset(sp->group_work, 0, (size_t)(sp->inputs64 / LANES) * sizeof *sp->group_work);
    size_t nnz = 0;
    for (int r0 = 0; r0 < B; r0 += WORK_ROWS) {
        const int n = B - r0 < WORK_ROWS ? B - r0 : WORK_ROWS;
        nnz += mark(sp, x, rows, r0, n, i0, i1);
        if (nnz > most) return SIZE_MAX;
    }
    transpose_rows(sp, B, i0, i1);
    sp->x = x;
    return nnz;
}

bool nt_sparse_finish(nt_sparse *sp, int B, size_t nnz, double max_density)
{
    assert(sp && B >= 1 && B <= sp->max_batch);
    bool ok = nnz != SIZE_MAX && (double)nnz <= max_density * (double)B * sp->in;
    sp->B = ok ? B : 0;
    sp->nnz = ok ? nnz : 0;
    return ok;
}

// Bits of the rows in word w (64 w ..) where any of inputs j .. j + nc - 1
// is non-zero
static inline __attribute__((always_inline)) uint64_t any_rows(const nt_sparse *sp, int j,
                                                               const int nc, int w)
{
    const uint64_t *rows = sp->col_rows + (size_t)w * sp->inputs64 + j;
    uint64_t any = 0;
    #pragma GCC unroll 4
    for (int c = 0; c < nc; c++) any |= rows[c];
    return any;
}

// The tile's rows of 64 floats and a product's (out wide) outputs o0 ..
// o0 + width - 1
static void tile_from(float *tile, const float *src, int B, int out, int o0, int width)
{
    for (int r = 0; r < B; r++) {
        #pragma GCC unroll 4
        for (int t = 0; t < TILE_OUT / LANES; t++) {
            const __mmask16 m = nt_first_lanes(width - t * LANES);
            _mm512_storeu_ps(tile + (size_t)r * TILE_OUT + t * LANES,
                             _mm512_maskz_loadu_ps(m, src + (size_t)r * out + o0 + t * LANES));
        }
    }
}

static void tile_to(float *dst, const float *tile, int B, int out, int o0, int width)
{
    for (int r = 0; r < B; r++) {
        #pragma GCC unroll 4
        for (int t = 0; t < TILE_OUT / LANES; t++) {
            const __mmask16 m = nt_first_lanes(width - t * LANES);
            _mm512_mask_storeu_ps(dst + (size_t)r * out + o0 + t * LANES, m,
                                  _mm512_loadu_ps(tile + (size_t)r * TILE_OUT + t * LANES));
        }
    }
}

// Rows j .. j + nc - 1 of M (out wide), columns o0 .. o0 + 16 nt - 1, to
// and from nc x nt registers (W's in the forward, dW's sums); the last
// register of each row holds the lanes in `last`
static inline __attribute__((always_inline)) void
block_load(__m512 (*reg)[TILE_OUT / LANES], const float *M, int out, int j, int o0,
           const int nc, const int nt, __mmask16 last)
{
    #pragma GCC unroll 4
    for (int c = 0; c < nc; c++)
        #pragma GCC unroll 4
        for (int t = 0; t < nt; t++)
            reg[c][t] = _mm512_maskz_loadu_ps(t == nt - 1 ? last : 0xFFFF,
                                              M + (size_t)(j + c) * out + o0 + t * LANES);
}

static inline __attribute__((always_inline)) void
block_store(float *M, __m512 (*reg)[TILE_OUT / LANES], int out, int j, int o0, const int nc,
            const int nt, __mmask16 last)
{
    #pragma GCC unroll 4
    for (int c = 0; c < nc; c++)
        #pragma GCC unroll 4
        for (int t = 0; t < nt; t++)
            _mm512_mask_storeu_ps(M + (size_t)(j + c) * out + o0 + t * LANES,
                                  t == nt - 1 ? last : 0xFFFF, reg[c][t]);
}

// The tile's row r += x[r, j + c0 .. j + c1 - 1] W[those inputs, the
// tile's outputs], input by input (x counted from input j and the tile's
// first row), from W's registers w
static inline __attribute__((always_inline)) void
forward_row(float *tile, const nt_sparse *sp, const float *x,
            __m512 w[FORWARD_INPUTS][TILE_OUT / LANES], int r, const int c0, const int c1,
            const int nt)
{
    float *y = tile + (size_t)r * TILE_OUT;
    __m512 a[TILE_OUT / LANES];
    #pragma GCC unroll 4
    for (int t = 0; t < nt; t++) a[t] = _mm512_loadu_ps(y + t * LANES);
    #pragma GCC unroll 4
    for (int c = c0; c < c1; c++) {
        const __m512 v = _mm512_set1_ps(x[(size_t)r * sp->in + c]);
        #pragma GCC unroll 4
        for (int t = 0; t < nt; t++) a[t] = _mm512_fmadd_ps(v, w[c][t], a[t]);
    }
    #pragma GCC unroll 4
    for (int t = 0; t < nt; t++) _mm512_storeu_ps(y + t * LANES, a[t]);
}

// The tile's rows (y's outputs o0 .. o0 + 16 nt - 1, the batch's rows from
// 64 w0 to 64 w1) += x[those rows, j : j + nc] W[j : j + nc, those outputs]:
// W's nc x nt registers stay loaded while each row where any of the nc
// inputs is non-zero adds them, input by input. A group of 4 goes as two
// pairs: a row where only one pair is non-zero adds that pair alone (2 in
// 5 of MNIST's rows; the other pair's zeros would add nothing). Each
// row's sums still take its inputs in ascending order. The last register
// holds the lanes in `last`.
static inline __attribute__((always_inline)) void
forward_inputs(float *tile, const nt_sparse *sp, const float *W, int out, int j, int o0,
               int w0, int w1, const int nc, const int nt, __mmask16 last)
{
    // rows counted from the tile's first, 64 w0
    const float *x = sp->x + (size_t)64 * w0 * sp->in + j;
    __m512 w[FORWARD_INPUTS][TILE_OUT / LANES];
    block_load(w, W, out, j, o0, nc, nt, last);
    for (int wd = w0; wd < w1; wd++) {
        const int r0 = (wd - w0) * 64;
        if (nc != FORWARD_INPUTS) {
            for (uint64_t any = any_rows(sp, j, nc, wd); any; any &= any - 1)
                forward_row(tile, sp, x, w, r0 + __builtin_ctzll(any), 0, nc, nt);
            continue;
        }
        const int half = FORWARD_INPUTS / 2;
        const uint64_t lo = any_rows(sp, j, half, wd), hi = any_rows(sp, j + half, half, wd);
        for (uint64_t both = lo & hi; both; both &= both - 1)
            forward_row(tile, sp, x, w, r0 + __builtin_ctzll(both), 0, FORWARD_INPUTS, nt);
        for (uint64_t only = lo & ~hi; only; only &= only - 1)
            forward_row(tile, sp, x, w, r0 + __builtin_ctzll(only), 0, half, nt);
        for (uint64_t only = hi & ~lo; only; only &= only - 1)
            forward_row(tile, sp, x, w, r0 + __builtin_ctzll(only), half, FORWARD_INPUTS, nt);
    }
}

// dW's sums of inputs j .. j + nc - 1, outputs o0 .. o0 + 16 nt - 1: from 0,
// or from what the rows before this tile's left in dW (a float stored and
// loaded again is the same float, so the sums are those of one pass over
// all the rows); block_store writes them back
static inline __attribute__((always_inline)) void
dw_sums_start(__m512 a[DW_INPUTS][TILE_OUT / LANES], const float *dW, int out, int j, int o0,
              const bool resume, const int nc, const int nt, __mmask16 last)
{
    if (resume) {
        block_load(a, dW, out, j, o0, nc, nt, last);
        return;
    }
    #pragma GCC unroll 4
    for (int c = 0; c < nc; c++)
        #pragma GCC unroll 4
        for (int t = 0; t < nt; t++) a[c][t] = _mm512_setzero_ps();
}

// The tile's row r (dy's outputs o0 ..) into those sums, times x[r, j + c]
// (x counted from input j and the tile's first row)
static inline __attribute__((always_inline)) void
dw_row(__m512 a[DW_INPUTS][TILE_OUT / LANES], const nt_sparse *sp, const float *x,
       const float *tile, int r, const int nc, const int nt)
{
    const float *g = tile + (size_t)r * TILE_OUT;
    __m512 gr[TILE_OUT / LANES];
    #pragma GCC unroll 4
    for (int t = 0; t < nt; t++) gr[t] = _mm512_loadu_ps(g + t * LANES);
    #pragma GCC unroll 4
    for (int c = 0; c < nc; c++) {
        const __m512 v = _mm512_set1_ps(x[(size_t)r * sp->in + c]);
        #pragma GCC unroll 4
        for (int t = 0; t < nt; t++) a[c][t] = _mm512_fmadd_ps(v, gr[t], a[c][t]);
    }
}

// dW[j : j + nc, o0 .. o0 + 16 nt - 1] = x[:, j : j + nc]^T (the tile's
// rows: dy's outputs o0 .., the batch's rows from 64 w0 to 64 w1): nc x nt
// registers of sums, each taking the rows where any of the nc inputs is
// non-zero in ascending order, written once.
static inline __attribute__((always_inline)) void
dw_inputs(float *dW, const nt_sparse *sp, const float *tile, int out, int j, int o0, int w0,
          int w1, const bool resume, const int nc, const int nt, __mmask16 last)
{
    const float *x = sp->x + (size_t)64 * w0 * sp->in + j;
    __m512 a[DW_INPUTS][TILE_OUT / LANES];
    dw_sums_start(a, dW, out, j, o0, resume, nc, nt, last);
    for (int wd = w0; wd < w1; wd++)
        for (uint64_t any = any_rows(sp, j, nc, wd); any; any &= any - 1)
            dw_row(a, sp, x, tile, (wd - w0) * 64 + __builtin_ctzll(any), nc, nt);
    block_store(dW, a, out, j, o0, nc, nt, last);
}

// dw_inputs for two groups of DW_INPUTS inputs, j .. and j + DW_INPUTS ..,
// with their loops over the rows taken in turn. Each sum waits on its
// multiply-add of the row before: one group's 8 sums leave the FMA units
// waiting on that latency, two groups' 16 do not (dW 13% faster at 256
// units, benchmarks/README.md item 18). Each group's rows still come in
// ascending order: the same sums, bit for bit.
static inline __attribute__((always_inline)) void
dw_inputs_two(float *dW, const nt_sparse *sp, const float *tile, int out, int j, int o0,
              int w0, int w1, const bool resume, const int nt, __mmask16 last)
{
    const int nc = DW_INPUTS;
    const float *x = sp->x + (size_t)64 * w0 * sp->in + j;
    __m512 a[DW_INPUTS][TILE_OUT / LANES], b[DW_INPUTS][TILE_OUT / LANES];
    dw_sums_start(a, dW, out, j, o0, resume, nc, nt, last);
    dw_sums_start(b, dW, out, j + nc, o0, resume, nc, nt, last);
    for (int wd = w0; wd < w1; wd++) {
        const int r0 = (wd - w0) * 64;
        uint64_t ra = any_rows(sp, j, nc, wd), rb = any_rows(sp, j + nc, nc, wd);
        for (; ra && rb; ra &= ra - 1, rb &= rb - 1) {
            dw_row(a, sp, x, tile, r0 + __builtin_ctzll(ra), nc, nt);
            dw_row(b, sp, x + nc, tile, r0 + __builtin_ctzll(rb), nc, nt);
        }
        for (; ra; ra &= ra - 1) dw_row(a, sp, x, tile, r0 + __builtin_ctzll(ra), nc, nt);
        for (; rb; rb &= rb - 1) dw_row(b, sp, x + nc, tile, r0 + __builtin_ctzll(rb), nc, nt);
    }
    block_store(dW, a, out, j, o0, nc, nt, last);
    block_store(dW, b, out, j + nc, o0, nc, nt, last);
}

// y's tile (outputs o0 .., the batch's rows from 64 w0 to 64 w1) +=
// x[those rows, i0:i1] W[i0:i1, those outputs]: inputs in groups of
// FORWARD_INPUTS, then one at a time; nt registers a row
static inline __attribute__((always_inline)) void
forward_tile(float *tile, const nt_sparse *sp, const float *W, int out, int i0, int i1, int o0,
             int w0, int w1, const int nt, __mmask16 last)
{
    int j = i0;
    for (; j + FORWARD_INPUTS <= i1; j += FORWARD_INPUTS)
        forward_inputs(tile, sp, W, out, j, o0, w0, w1, FORWARD_INPUTS, nt, last);
    for (; j < i1; j++) forward_inputs(tile, sp, W, out, j, o0, w0, w1, 1, nt, last);
}

// dW[i0:i1, outputs o0 ..] from dy's tile (the batch's rows from 64 w0 to
// 64 w1), after the rows before them when resume: inputs two groups of
// DW_INPUTS at a time, then one group, then one at a time; nt registers a row
static inline __attribute__((always_inline)) void
dw_tile(float *dW, const nt_sparse *sp, const float *tile, int out, int i0, int i1, int o0,
        int w0, int w1, const bool resume, const int nt, __mmask16 last)
{
    int j = i0;
    for (; j + 2 * DW_INPUTS <= i1; j += 2 * DW_INPUTS)
        dw_inputs_two(dW, sp, tile, out, j, o0, w0, w1, resume, nt, last);
    for (; j + DW_INPUTS <= i1; j += DW_INPUTS)
        dw_inputs(dW, sp, tile, out, j, o0, w0, w1, resume, DW_INPUTS, nt, last);
    for (; j < i1; j++) dw_inputs(dW, sp, tile, out, j, o0, w0, w1, resume, 1, nt, last);
}

// Both products go outputs TILE_OUT at a time and rows TILE_ROWS at a time:
// the tile (32 KB) stays in L1 while every input's rows read or add to it.
// (Each product has its own function: one holding both kernels' copies ran
// one or the other up to 20% slower, depending on where the code fell.)
static void forward_product(float *y, const nt_sparse *sp, const float *W, int out, int i0,
                            int i1)
{
    const int B = sp->B, words = (B + 63) / 64;
    for (int o0 = 0; o0 < out; o0 += TILE_OUT) {
        const int width = out - o0 < TILE_OUT ? out - o0 : TILE_OUT;
        const __mmask16 last = nt_first_lanes(width - (width - 1) / LANES * LANES);
        for (int w0 = 0; w0 < words; w0 += TILE_ROWS / 64) {
            const int w1 = words - w0 < TILE_ROWS / 64 ? words : w0 + TILE_ROWS / 64;
            const int r0 = 64 * w0, rows = (B < 64 * w1 ? B : 64 * w1) - r0;
            memset(sp->tile, 0, (size_t)rows * TILE_OUT * sizeof *sp->tile);
            switch ((width + LANES - 1) / LANES) {
            case 1: forward_tile(sp->tile, sp, W, out, i0, i1, o0, w0, w1, 1, last); break;
            case 2: forward_tile(sp->tile, sp, W, out, i0, i1, o0, w0, w1, 2, last); break;
            case 3: forward_tile(sp->tile, sp, W, out, i0, i1, o0, w0, w1, 3, last); break;
            default: forward_tile(sp->tile, sp, W, out, i0, i1, o0, w0, w1, 4, last); break;
            }
            tile_to(y + (size_t)r0 * out, sp->tile, rows, out, o0, width);
        }
    }
}

static void dw_product(float *dW, const nt_sparse *sp, const float *dy, int out, int i0, int i1)
{
    const int B = sp->B, words = (B + 63) / 64;
    for (int o0 = 0; o0 < out; o0 += TILE_OUT) {
        const int width = out - o0 < TILE_OUT ? out - o0 : TILE_OUT;
        const __mmask16 last = nt_first_lanes(width - (width - 1) / LANES * LANES);
        for (int w0 = 0; w0 < words; w0 += TILE_ROWS / 64) {
            const int w1 = words - w0 < TILE_ROWS / 64 ? words : w0 + TILE_ROWS / 64;
            const int r0 = 64 * w0, rows = (B < 64 * w1 ? B : 64 * w1) - r0;
            tile_from(sp->tile, dy + (size_t)r0 * out, rows, out, o0, width);
            const float *t = sp->tile;
            const bool more = w0 > 0;  // rows before these went into dW
            switch ((width + LANES - 1) / LANES + 4 * more) {
            case 1: dw_tile(dW, sp, t, out, i0, i1, o0, w0, w1, false, 1, last); break;
            case 2: dw_tile(dW, sp, t, out, i0, i1, o0, w0, w1, false, 2, last); break;
            case 3: dw_tile(dW, sp, t, out, i0, i1, o0, w0, w1, false, 3, last); break;
            case 4: dw_tile(dW, sp, t, out, i0, i1, o0, w0, w1, false, 4, last); break;
            case 5: dw_tile(dW, sp, t, out, i0, i1, o0, w0, w1, true, 1, last); break;
            case 6: dw_tile(dW, sp, t, out, i0, i1, o0, w0, w1, true, 2, last); break;
            case 7: dw_tile(dW, sp, t, out, i0, i1, o0, w0, w1, true, 3, last); break;
            default: dw_tile(dW, sp, t, out, i0, i1, o0, w0, w1, true, 4, last); break;
            }
        }
    }
}

void nt_sparse_forward_inputs(float *y, const nt_sparse *sp, const float *W, int out,
                              int i0, int i1)
{
    assert(y && sp && sp->B >= 1 && W && out >= 1 && sp->i0 <= i0 && i0 <= i1 && i1 <= sp->i1);
    forward_product(y, sp, W, out, i0, i1);
}

void nt_sparse_backward_inputs(float *dW, const nt_sparse *sp, const float *dy, int out,
                               int i0, int i1)
{
    assert(dW && sp && sp->B >= 1 && dy && out >= 1 && sp->i0 <= i0 && i0 <= i1 && i1 <= sp->i1);
    dw_product(dW, sp, dy, out, i0, i1);
}

#else  // no AVX-512: no sparse path; the network uses its GEMMs

size_t nt_sparse_build_inputs(nt_sparse *sp, const float *x, int B, int i0, int i1,
                              double max_density)
{
    assert(sp && x && B >= 1 && i0 <= i1);
    (void)max_density;
    return SIZE_MAX;
}

size_t nt_sparse_build_inputs_rows(nt_sparse *sp, const float *x, const uint8_t *const *rows,
                                   int B, int i0, int i1, double max_density)
{
    assert(sp && x && B >= 1 && i0 <= i1);
    (void)rows;
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

bool nt_sparse_build(nt_sparse *sp, const float *x, int B, double max_density)
{
    return nt_sparse_build_rows(sp, x, NULL, B, max_density);
}

bool nt_sparse_build_rows(nt_sparse *sp, const float *x, const uint8_t *const *rows, int B,
                          double max_density)
{
    size_t nnz = nt_sparse_build_inputs_rows(sp, x, rows, B, 0, sp->in, max_density);
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
