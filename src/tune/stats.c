/* stats.c - quantiles and the Wilcoxon signed-rank test (see stats.h). */
#include "nntune/stats.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>

/* Above this many non-zero differences the exact null distribution is
 * replaced by the normal approximation (the limit the comparison report
 * documents; scipy < 1.9 used the same one). */
#define EXACT_MAX_N 25

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double nt_quantile(const double *x, int n, double q)
{
    assert(n >= 0 && q >= 0 && q <= 1);
    double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    if (!v) return NAN;
    int m = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(x[i])) v[m++] = x[i];
    double r = NAN;
    if (m > 0) {
        qsort(v, (size_t)m, sizeof *v, cmp_double);
        double h = (m - 1) * q;
        int lo = (int)floor(h);
        double frac = h - lo;
        // equal neighbours (two infinities among them) need no interpolation,
        // which would compute inf - inf
        if (frac == 0 || lo + 1 >= m || v[lo] == v[lo + 1]) r = v[lo];
        else r = v[lo] + frac * (v[lo + 1] - v[lo]);
    }
    free(v);
    return r;
}

double nt_median(const double *x, int n)
{
    return nt_quantile(x, n, 0.5);
}

/* Sort key for ranking: |d| with its sign kept apart. */
typedef struct {
    double abs;
    int sign;
} signed_abs;

static int cmp_abs(const void *a, const void *b)
{
    return cmp_double(&((const signed_abs *)a)->abs, &((const signed_abs *)b)->abs);
}

/* Rank the n sorted |d| (mid-ranks for ties), summing the ranks of each
 * sign into out; *tie_sum gets sum(t^3 - t) over groups of t equal values,
 * for the variance correction. */
static void rank_sums(const signed_abs *d, int n, nt_wilcoxon *out, double *tie_sum)
{
    *tie_sum = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && d[j + 1].abs == d[i].abs) j++;
        double t = j - i + 1, rank = (i + j) / 2.0 + 1; // mid-rank, 1-based
        if (t > 1) {
            out->ties = true;
            *tie_sum += t * t * t - t;
        }
        for (int k = i; k <= j; k++) {
            if (d[k].sign > 0) out->r_plus += rank;
            else out->r_minus += rank;
        }
        i = j + 1;
    }
}

/* Two-sided exact p-value of r_plus = r among n untied non-zero differences.
 * Under the null each rank 1..n is positive with probability 1/2, so the
 * count of sign patterns giving r_plus = s is the number of subsets of
 * {1..n} summing to s: a subset-sum count, built one rank at a time.
 * Counts stay below 2^25, exact in a double. */
static nt_status exact_p(int n, int r, double *p)
{
    int top = n * (n + 1) / 2;
    double *c = calloc((size_t)top + 1, sizeof *c);
    if (!c) return NT_ERR_NOMEM;
    c[0] = 1;
    for (int k = 1; k <= n; k++)
        for (int s = k * (k + 1) / 2; s >= k; s--) c[s] += c[s - k];
    double total = ldexp(1.0, n), below = 0, above = 0;
    for (int s = 0; s <= top; s++) {
        if (s <= r) below += c[s];
        if (s >= r) above += c[s];
    }
    free(c);
    // the centre itself is p = 1, as in scipy (2 min(...) would exceed it)
    *p = r == top / 2 ? 1.0 : fmin(1.0, 2 * fmin(below, above) / total);
    return NT_OK;
}

/* Normal approximation with tie and continuity corrections (scipy's
 * wilcoxon, method="approx", correction=True). */
static void approx_p(nt_wilcoxon *w, double tie_sum)
{
    double n = w->n, mean = n * (n + 1) / 4;
    double var = (n * (n + 1) * (2 * n + 1) - tie_sum / 2) / 24;
    double t = w->statistic;
    double cc = t > mean ? 0.5 : t < mean ? -0.5 : 0;
    w->z = var > 0 ? (t - mean - cc) / sqrt(var) : 0;
    w->p = fmin(1.0, erfc(fabs(w->z) / sqrt(2.0))); // 2 * normal sf(|z|)
}

nt_status nt_wilcoxon_test(const double *x, const double *y, int n, nt_wilcoxon *out)
{
    assert(n >= 0 && out);
    *out = (nt_wilcoxon){.z = NAN, .p = NAN};
    signed_abs *d = malloc((size_t)(n > 0 ? n : 1) * sizeof *d);
    if (!d) return NT_ERR_NOMEM;
    for (int i = 0; i < n; i++) {
        double diff = x[i] - y[i];
        if (isnan(x[i]) || isnan(y[i])) out->n_nan++;
        else if (diff == 0) out->n_zero++;
        else {
            d[out->n] = (signed_abs){fabs(diff), diff > 0 ? 1 : -1};
            out->n++;
            if (diff > 0) out->n_pos++;
            else out->n_neg++;
        }
    }
    nt_status rc = NT_OK;
    if (out->n > 0) {
        qsort(d, (size_t)out->n, sizeof *d, cmp_abs);
        double tie_sum;
        rank_sums(d, out->n, out, &tie_sum);
        out->statistic = fmin(out->r_plus, out->r_minus);
        out->exact = out->n <= EXACT_MAX_N && !out->ties;
        if (out->exact) rc = exact_p(out->n, (int)out->r_plus, &out->p);
        else approx_p(out, tie_sum);
    }
    free(d);
    return rc;
}
