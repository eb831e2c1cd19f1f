/* rng.c - xoshiro256** seeded by splitmix64 (Blackman & Vigna 2018). */
#include "nntune/rng.h"

#include <math.h>

// glibc's libmvec has 8-lane AVX-512 log and cos (linked with -lmvec)
#if defined(__AVX512F__) && defined(__AVX512VL__) && defined(__GLIBC__)
#define NT_VECTOR_NORMALS 1
#include <immintrin.h>
#endif

static uint64_t splitmix64(uint64_t *x)
{
    return nt_mix64(*x += 0x9e3779b97f4a7c15ULL);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void nt_rng_seed(nt_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

nt_rng nt_rng_stream(uint64_t seed, uint64_t stream)
{
    // Hash (seed, stream) into a fresh splitmix64 state, so each stream is
    // a separately seeded generator rather than a jump of a shared one.
    uint64_t x = seed;
    uint64_t a = splitmix64(&x);
    uint64_t y = a ^ (stream * 0xd1342543de82ef95ULL + 0x2545f4914f6cdd1dULL);
    nt_rng r;
    nt_rng_seed(&r, splitmix64(&y));
    return r;
}

uint64_t nt_rng_u64(nt_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double nt_rng_uniform(nt_rng *r)
{
    return (double)(nt_rng_u64(r) >> 11) * 0x1.0p-53;
}

uint64_t nt_rng_below(nt_rng *r, uint64_t n)
{
    // Lemire's rejection keeps the draw unbiased for any n
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t x = nt_rng_u64(r);
        if (x >= threshold) return x % n;
    }
}

// Box-Muller's cosine half from u1 in (0, 1] and u2 in [0, 1)
static double box_muller(double u1, double u2)
{
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

// a normal draw's two uniforms, in the order both nt_rng_normal and
// nt_rng_normals take them
static inline void box_muller_uniforms(nt_rng *r, double *u1, double *u2)
{
    *u1 = 1.0 - nt_rng_uniform(r); // (0, 1]: log() stays finite
    *u2 = nt_rng_uniform(r);
}

double nt_rng_normal(nt_rng *r)
{
    double u1, u2;
    box_muller_uniforms(r, &u1, &u2);
    return box_muller(u1, u2);
}

#ifdef NT_VECTOR_NORMALS
// glibc's vector math library (libmvec): 8 logs and 8 cosines at once,
// within 4 units in the last place of the true value (glibc's manual; libm's
// scalar log and cos are within 1). Here they were within 1 and 2 units of
// libm's over 33 million draws (benchmarks/README.md item 27).
__m512d _ZGVeN8v_log(__m512d x);
__m512d _ZGVeN8v_cos(__m512d x);

// 8 lanes of box_muller times scale as floats, from u1[8] and u2[8]. A lane
// keeps libmvec's result only where libm's must round to the same float:
// - |log u1| and |cos| are at least 2^-10 (near a zero an error counted in
//   units of the last place can be larger relative to the value);
// - the errors above add up to under 2^-48 of the product's size, so libm's
//   product lies within 2^-36 of it (a margin of 4096 times), and every value
//   in that interval rounds to one float.
// Any other lane takes libm's scalar path with the same u1 and u2: about 1
// in 500, near a zero or near the middle between two floats.
static void normals8(const double *u1, const double *u2, double scale, float *dst)
{
    const __m512d L = _ZGVeN8v_log(_mm512_loadu_pd(u1));
    const __m512d S = _mm512_sqrt_pd(_mm512_mul_pd(_mm512_set1_pd(-2.0), L));
    const __m512d C = _ZGVeN8v_cos(_mm512_mul_pd(_mm512_set1_pd(2.0 * M_PI), _mm512_loadu_pd(u2)));
    const __m512d Y = _mm512_mul_pd(_mm512_set1_pd(scale), _mm512_mul_pd(S, C));
    const __m512d tol = _mm512_mul_pd(_mm512_abs_pd(Y), _mm512_set1_pd(0x1p-36));
    const __m256 lo = _mm512_cvtpd_ps(_mm512_sub_pd(Y, tol));
    const __m256 hi = _mm512_cvtpd_ps(_mm512_add_pd(Y, tol));
    const __m512d small = _mm512_set1_pd(0x1p-10);
    __mmask8 ok = _mm512_cmp_pd_mask(_mm512_abs_pd(L), small, _CMP_GE_OQ) &
                  _mm512_cmp_pd_mask(_mm512_abs_pd(C), small, _CMP_GE_OQ) &
                  _mm256_cmp_epi32_mask(_mm256_castps_si256(lo), _mm256_castps_si256(hi),
                                        _MM_CMPINT_EQ);
    _mm256_storeu_ps(dst, _mm512_cvtpd_ps(Y));
    for (__mmask8 redo = (__mmask8)~ok; redo; redo &= (__mmask8)(redo - 1)) {
        const int k = __builtin_ctz(redo);
        dst[k] = (float)(scale * box_muller(u1[k], u2[k]));
    }
}
#endif

void nt_rng_normals(nt_rng *r, float *dst, size_t n, double scale)
{
    size_t k = 0;
#ifdef NT_VECTOR_NORMALS
    for (; k + 8 <= n; k += 8) {
        double u1[8], u2[8];
        for (int j = 0; j < 8; j++) box_muller_uniforms(r, &u1[j], &u2[j]);
        normals8(u1, u2, scale, dst + k);
    }
#endif
    for (; k < n; k++) dst[k] = (float)(scale * nt_rng_normal(r));
}

void nt_rng_shuffle(nt_rng *r, size_t *idx, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)nt_rng_below(r, i);
        size_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}
