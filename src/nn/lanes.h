/* lanes.h - what the AVX-512 kernels (sparse.c, narrow.c) share: a mask of
 * the first lanes of a 16-float register. Internal to src/nn. */
#ifndef NNTUNE_LANES_H
#define NNTUNE_LANES_H

#ifdef __AVX512F__
#include <immintrin.h>

/* Lanes 0..n-1 of 16 (all 16 when n >= 16, none when n <= 0): the tail of
 * a row of n floats. */
static inline __mmask16 nt_first_lanes(int n)
{
    return n >= 16 ? 0xFFFF : n <= 0 ? 0 : (__mmask16)((1u << n) - 1);
}
#endif

#endif
