/* test_loss.c - fused softmax + cross-entropy: values against double
 * precision, finiteness on huge logits, NaN propagation, backward against
 * finite differences. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nntune/loss.h"
#include "nntune/rng.h"

// mean -log softmax(logits)[y] in double
static double ref_loss(const float *z, const int32_t *y, int B, int C)
{
    double sum = 0;
    for (int r = 0; r < B; r++) {
        double m = -INFINITY, s = 0;
        for (int j = 0; j < C; j++) m = fmax(m, z[r * C + j]);
        for (int j = 0; j < C; j++) s += exp(z[r * C + j] - m);
        sum += m + log(s) - z[r * C + y[r]];
    }
    return sum / B;
}

Test(loss, softmax_and_loss_match_double_precision)
{
    enum { B = 6, C = 7 };
    float z[B * C], p[B * C];
    int32_t y[B];
    nt_rng r;
    nt_rng_seed(&r, 41);
    for (int i = 0; i < B * C; i++) z[i] = (float)(4 * nt_rng_normal(&r));
    for (int i = 0; i < B; i++) y[i] = (int32_t)nt_rng_below(&r, C);
    float L = nt_softmax_ce_forward(p, z, y, B, C);
    double want = ref_loss(z, y, B, C);
    cr_assert(fabs(L - want) <= 1e-6 * fabs(want) + 1e-7, "loss = %.9g, double %.9g", (double)L, want);
    cr_assert(nt_ce_loss(z, y, B, C) == L, "nt_ce_loss = %.9g, fused forward %.9g",
              (double)nt_ce_loss(z, y, B, C), (double)L);
    for (int rr = 0; rr < B; rr++) {
        double m = -INFINITY, s = 0, total = 0;
        for (int j = 0; j < C; j++) m = fmax(m, z[rr * C + j]);
        for (int j = 0; j < C; j++) s += exp(z[rr * C + j] - m);
        for (int j = 0; j < C; j++) {
            double pj = exp(z[rr * C + j] - m) / s;
            cr_assert(fabs(p[rr * C + j] - pj) <= 1e-6 * pj + 1e-9, "p[%d,%d] = %.9g, double %.9g",
                      rr, j, (double)p[rr * C + j], pj);
            total += p[rr * C + j];
        }
        cr_assert(fabs(total - 1) < 1e-6, "row %d of probabilities sums to %.9g", rr, total);
    }
}

Test(loss, stays_finite_and_exact_when_a_probability_underflows)
{
    // row 0: label has logit -1000 against 1000: p underflows to 0, and
    // -log(p) would be Inf; log-sum-exp gives 1000 - (-1000) = 2000.
    // row 1: the label wins by 1000: loss exp(-1000) ~ 0.
    const float z[6] = {1000, 0, -1000, 0, 1000, -1000};
    const int32_t y[2] = {2, 1};
    float p[6];
    float L = nt_softmax_ce_forward(p, z, y, 2, 3);
    cr_assert(isfinite(L) && fabsf(L - 1000.0f) < 1e-3f, "mean loss = %g, want (2000 + 0)/2 = 1000",
              (double)L);
    cr_assert(p[0] == 1.0f && p[2] == 0.0f && p[4] == 1.0f, "probabilities %g %g %g, want 1 0 1",
              (double)p[0], (double)p[2], (double)p[4]);
}

Test(loss, nan_or_inf_logits_give_a_non_finite_loss)
{
    const float bad[3] = {NAN, INFINITY, -INFINITY};
    for (int k = 0; k < 3; k++) {
        for (int pos = 0; pos < 3; pos++) {
            float z[3] = {0.5f, -0.25f, 1.0f}, p[3];
            const int32_t y[1] = {1};
            z[pos] = bad[k];
            float L = nt_softmax_ce_forward(p, z, y, 1, 3);
            // -Inf on a non-label logit is a legitimate 0 probability
            if (bad[k] == -INFINITY && pos != 1) continue;
            cr_assert(!isfinite(L), "logits {%g, %g, %g} (label 1) gave finite loss %g",
                      (double)z[0], (double)z[1], (double)z[2], (double)L);
        }
    }
}

Test(loss, backward_is_probs_minus_onehot_over_B)
{
    // B = 2, C = 2, logits 0: p = 0.5 everywhere; (p - onehot)/2 = +-0.25
    const float z[4] = {0, 0, 0, 0};
    const int32_t y[2] = {0, 1};
    float p[4], d[4];
    nt_softmax_ce_forward(p, z, y, 2, 2);
    nt_softmax_ce_backward(d, p, y, 2, 2);
    const float want[4] = {-0.25f, 0.25f, 0.25f, -0.25f};
    for (int i = 0; i < 4; i++)
        cr_assert(d[i] == want[i], "d[%d] = %g, want %g", i, (double)d[i], (double)want[i]);
}

Test(loss, backward_matches_finite_differences)
{
    enum { B = 5, C = 4 };
    float z[B * C], p[B * C], d[B * C];
    int32_t y[B];
    nt_rng r;
    nt_rng_seed(&r, 42);
    for (int i = 0; i < B * C; i++) z[i] = (float)(2 * nt_rng_normal(&r));
    for (int i = 0; i < B; i++) y[i] = (int32_t)nt_rng_below(&r, C);
    nt_softmax_ce_forward(p, z, y, B, C);
    nt_softmax_ce_backward(d, p, y, B, C);
    const float eps = 1e-3f;
    for (int i = 0; i < B * C; i++) {
        float keep = z[i], hi = keep + eps, lo = keep - eps;
        z[i] = hi;
        double Lp = nt_ce_loss(z, y, B, C);
        z[i] = lo;
        double Lm = nt_ce_loss(z, y, B, C);
        z[i] = keep;
        double n = (Lp - Lm) / ((double)hi - lo);
        double err = fabs(d[i] - n) / fmax(1e-2, fmax(fabs(d[i]), fabs(n)));
        cr_assert(err < 1e-2, "dlogits[%d] = %.6g, finite difference %.6g", i, (double)d[i], n);
    }
}

Test(loss, a_confident_correct_row_keeps_its_small_loss_accurate)
{
    // logits {10, 0}, label 0: loss = log(1 + e^-10) = 4.5398899e-5; computing
    // log-sum-exp in float first (10.0000454) would round away ~1e-6 of it
    const float z[2] = {10.0f, 0.0f};
    const int32_t y[1] = {0};
    double want = log1p(exp(-10.0));
    float L = nt_ce_loss(z, y, 1, 2);
    cr_assert(fabs(L - want) < 1e-6 * want, "loss = %.9g, want log(1 + e^-10) = %.9g", (double)L, want);
}

Test(loss, the_kept_sums_give_nt_ce_loss_bit_for_bit)
{
    enum { B = 9, C = 10 };
    float z[B * C], p[B * C], q[B * C], rest[B];
    int32_t y[B];
    nt_rng r;
    nt_rng_seed(&r, 7);
    for (int i = 0; i < B * C; i++) z[i] = (float)(6 * nt_rng_normal(&r));
    for (int i = 0; i < B; i++) y[i] = (int32_t)nt_rng_below(&r, C);
    z[1 * C + 3] = 80.0f;       // a confident row: its loss is about 1e-30..1e-5
    z[2 * C + 0] = z[2 * C + 5] = 3.0f; // a tie for the max
    z[3 * C + 4] = -INFINITY;   // a class that cannot happen
    for (int rr = 0; rr < B; rr++) {
        nt_softmax_forward(q + rr * C, z + rr * C, 1, C);
        nt_softmax_forward_keep(p + rr * C, rest + rr, z + rr * C, 1, C);
        for (int j = 0; j < C; j++)
            cr_assert(p[rr * C + j] == q[rr * C + j], "row %d: p[%d] %.9g kept, %.9g plain", rr, j,
                      (double)p[rr * C + j], (double)q[rr * C + j]);
        float kept = nt_ce_loss_kept(z + rr * C, rest + rr, y + rr, 1, C);
        float plain = nt_ce_loss(z + rr * C, y + rr, 1, C);
        cr_assert(kept == plain, "row %d: loss %.9g from the kept sum, %.9g by nt_ce_loss", rr,
                  (double)kept, (double)plain);
    }
    nt_softmax_forward_keep(p, rest, z, B, C);
    cr_assert(nt_ce_loss_kept(z, rest, y, B, C) == nt_ce_loss(z, y, B, C), "batch means differ");
    // NaN in a row: NaN loss either way
    z[4 * C + 2] = NAN;
    nt_softmax_forward_keep(p, rest, z, B, C);
    cr_assert(isnan(nt_ce_loss_kept(z, rest, y, B, C)) && isnan(nt_ce_loss(z, y, B, C)));
}

// row_softmax's formula one row at a time, with libm's expf: the order of
// every sum the softmax promises (loss.c)
static void ref_softmax_row(float *p, float *rest, const float *x, int C)
{
    int k = 0;
    for (int j = 1; j < C; j++)
        if (x[j] > x[k] || x[j] != x[j]) k = j;
    float m = x[k], s = 0.0f, o = 0.0f;
    for (int j = 0; j < C; j++) {
        float e = expf(x[j] - m);
        if (j != k) o += e;
        s += e;
        p[j] = e;
    }
    float inv = 1.0f / s;
    for (int j = 0; j < C; j++) p[j] *= inv;
    *rest = o;
}

Test(loss, softmax_of_a_batch_equals_the_row_formula_bit_for_bit)
{
    // batches of 16 rows a lane each and their remainders, up to 65
    // classes, with ties, huge and tiny logits, -Inf, +Inf and NaN
    static const int Bs[] = {1, 7, 16, 17, 40, 128}, Cs[] = {1, 2, 3, 10, 64, 65};
    nt_rng r;
    nt_rng_seed(&r, 7);
    for (size_t bi = 0; bi < sizeof Bs / sizeof *Bs; bi++)
        for (size_t ci = 0; ci < sizeof Cs / sizeof *Cs; ci++) {
            const int B = Bs[bi], C = Cs[ci];
            float *z = malloc(sizeof(float) * B * C), *p = malloc(sizeof(float) * B * C);
            float *q = malloc(sizeof(float) * B * C), *rest = malloc(sizeof(float) * B);
            cr_assert(z && p && q && rest);
            for (int i = 0; i < B * C; i++) {
                uint64_t kind = nt_rng_below(&r, 40);
                z[i] = kind == 0   ? -INFINITY
                       : kind == 1 ? NAN
                       : kind == 2 ? INFINITY
                       : kind == 3 ? 1.0f  // ties
                       : kind < 8  ? (float)(60 * nt_rng_normal(&r))  // exp(x - m) underflows
                                   : (float)(3 * nt_rng_normal(&r));
            }
            nt_softmax_forward_keep(p, rest, z, B, C);
            for (int row = 0; row < B; row++) {
                float want_rest;
                ref_softmax_row(q + (size_t)row * C, &want_rest, z + (size_t)row * C, C);
                cr_assert(memcmp(p + (size_t)row * C, q + (size_t)row * C, sizeof(float) * C) == 0,
                          "B %d, C %d: row %d's probabilities differ from the row formula's",
                          B, C, row);
                cr_assert(memcmp(&rest[row], &want_rest, sizeof want_rest) == 0,
                          "B %d, C %d: row %d keeps %a, the row formula %a", B, C, row,
                          (double)rest[row], (double)want_rest);
            }
            // in place, as nt_softmax_forward allows
            memcpy(q, z, sizeof(float) * B * C);
            nt_softmax_forward(q, q, B, C);
            cr_assert(memcmp(p, q, sizeof(float) * B * C) == 0,
                      "B %d, C %d: in place differs", B, C);
            free(z);
            free(p);
            free(q);
            free(rest);
        }
}

Test(loss, softmax_exponentials_equal_libm_expf)
{
    // rows (0, x): the max is 0, so what the softmax keeps is exp(x) as it
    // computed it; x runs over every 1021st float from -0 down through the
    // subnormals and the underflow to -Inf (the NaNs skipped)
    enum { B = 4096 };
    float *z = malloc(sizeof(float) * 2 * B), *p = malloc(sizeof(float) * 2 * B);
    float *rest = malloc(sizeof(float) * B);
    cr_assert(z && p && rest);
    long checked = 0;
    uint64_t bits = 0x80000000u;
    while (bits <= 0xffffffffu) {
        int n = 0;
        for (; n < B && bits <= 0xffffffffu; n++, bits += 1021) {
            uint32_t b = (uint32_t)bits;
            z[2 * n] = 0.0f;
            memcpy(&z[2 * n + 1], &b, sizeof b);
        }
        nt_softmax_forward_keep(p, rest, z, n, 2);
        for (int i = 0; i < n; i++) {
            float x = z[2 * i + 1], want = expf(x);
            if (x != x) continue; // a NaN is its row's max (the test above)
            cr_assert(memcmp(&rest[i], &want, sizeof want) == 0, "exp(%a): %a, expf %a",
                      (double)x, (double)rest[i], (double)want);
        }
        checked += n;
    }
    cr_assert(checked > 2000000, "checked %ld", checked);
    free(z);
    free(p);
    free(rest);
}
