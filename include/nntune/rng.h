/* rng.h - a seedable random number generator that splits into independent
 * streams. xoshiro256** (Blackman & Vigna 2018) seeded through splitmix64.
 * No global state: every function that draws takes an nt_rng *. */
#ifndef NNTUNE_RNG_H
#define NNTUNE_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t s[4];
} nt_rng;

/* Seed a generator. Equal seeds give equal sequences on every platform. */
void nt_rng_seed(nt_rng *r, uint64_t seed);

/* A generator for stream `stream` of `seed`: e.g. (study seed, trial*64+fold).
 * Streams of one seed are statistically independent, and a stream does not
 * depend on how many numbers any other stream has drawn. */
nt_rng nt_rng_stream(uint64_t seed, uint64_t stream);

uint64_t nt_rng_u64(nt_rng *r);
/* Uniform in [0, 1), 53 random bits. */
double nt_rng_uniform(nt_rng *r);
/* Uniform integer in [0, n), unbiased; n > 0. */
uint64_t nt_rng_below(nt_rng *r, uint64_t n);
/* Standard normal (Box-Muller, no cached second value). */
double nt_rng_normal(nt_rng *r);
/* dst[k] = (float)(scale * nt_rng_normal(r)) for k = 0..n-1, in order:
 * the same draws and the same floats as n calls, 8 at a time in vector
 * lanes where the machine has them (glibc's libmvec), checked to round as
 * the scalar formula does and redone by it where they might not. */
void nt_rng_normals(nt_rng *r, float *dst, size_t n, double scale);
/* Fisher-Yates shuffle of idx[0..n). */
void nt_rng_shuffle(nt_rng *r, size_t *idx, size_t n);

/* splitmix64's output function (Steele, Lea & Flood 2014): a bijection
 * that scatters every input bit over the output. Seeds nt_rng, draws
 * dropout masks from counters, hashes bits. Inline, so loops over it
 * vectorize. */
static inline uint64_t nt_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

#endif
