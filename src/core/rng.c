/* rng.c - xoshiro256** seeded by splitmix64 (Blackman & Vigna 2018). */
#include "nntune/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
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

double nt_rng_normal(nt_rng *r)
{
    double u1 = 1.0 - nt_rng_uniform(r); // (0, 1]: log() stays finite
    double u2 = nt_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
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
