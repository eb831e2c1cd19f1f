/* test_rng.c - nt_rng_normals against the draws it stands for: n calls of
 * nt_rng_normal, scaled and rounded to floats one at a time. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nntune/rng.h"

// nt_rng_normals(n, scale) from one generator and n scalar draws from a
// copy: every float the same bit for bit, and both generators left in the
// same state
static void check_normals(uint64_t seed, size_t n, double scale)
{
    nt_rng a, b;
    nt_rng_seed(&a, seed);
    b = a;
    float *got = malloc((n ? n : 1) * sizeof *got);
    cr_assert(got != NULL);
    nt_rng_normals(&a, got, n, scale);
    for (size_t k = 0; k < n; k++) {
        const float want = (float)(scale * nt_rng_normal(&b));
        cr_assert(memcmp(&got[k], &want, sizeof want) == 0,
                  "seed %llu, scale %g: draw %zu of %zu is %a, the scalar formula gives %a",
                  (unsigned long long)seed, scale, k, n, (double)got[k], (double)want);
    }
    cr_assert(memcmp(&a, &b, sizeof a) == 0,
              "seed %llu: %zu normals left the generator elsewhere than %zu draws",
              (unsigned long long)seed, n, n);
    free(got);
}

Test(rng, normals_are_the_scalar_draws_for_any_count)
{
    // the vector path goes 8 at a time: counts around its edges, and none
    const size_t counts[] = {0, 1, 7, 8, 9, 15, 16, 17, 255, 256, 784};
    for (size_t i = 0; i < sizeof counts / sizeof *counts; i++)
        for (uint64_t seed = 1; seed <= 5; seed++) check_normals(seed, counts[i], 1.0);
}

Test(rng, normals_round_as_the_scalar_formula_over_millions_of_draws)
{
    // the He scales of 784 and 256 inputs, 1, a negative scale and one
    // that makes most values subnormal floats: 17 million draws in all, of
    // which about 0.2% take the scalar path (near a zero of log or cos, or
    // near the middle between two floats) and the rest libmvec's
    const double scales[] = {sqrt(2.0 / 784), sqrt(2.0 / 256), 1.0, -3.0, 0x1p-140};
    for (size_t i = 0; i < sizeof scales / sizeof *scales; i++)
        check_normals(100 + i, (size_t)1 << 22 >> (i == 4 ? 2 : 0), scales[i]);
}

Test(rng, normals_on_the_middle_between_two_floats_round_as_the_scalar_formula)
{
    // Each round picks the scale that puts one lane's value (by the scalar
    // formula) on the middle between two floats, to double precision: there
    // the few units in the last place between libmvec's log and cos and
    // libm's decide the rounding, so that lane must take the scalar path
    nt_rng a;
    nt_rng_seed(&a, 42);
    for (int round = 0; round < 200000; round++) {
        const int lane = round % 8;
        nt_rng peek = a;
        double z = 0;
        for (int k = 0; k <= lane; k++) z = nt_rng_normal(&peek);
        const float f = (float)z;
        const double mid = ((double)f + (double)nextafterf(f, INFINITY)) / 2;
        const double scale = mid / z;
        nt_rng b = a;
        float got[8];
        nt_rng_normals(&a, got, 8, scale);
        for (int k = 0; k < 8; k++) {
            const float want = (float)(scale * nt_rng_normal(&b));
            cr_assert(memcmp(&got[k], &want, sizeof want) == 0,
                      "round %d, lane %d of 8 (scale %a for lane %d): %a, the scalar formula "
                      "gives %a", round, k, scale, lane, (double)got[k], (double)want);
        }
    }
}
