/* stats.h - small-sample statistics for comparing tuning runs over seeds:
 * quantiles (the median, the inter-quartile range) and the paired Wilcoxon
 * signed-rank test. Every function borrows its inputs and never modifies
 * them; nothing is kept between calls. */
#ifndef NNTUNE_STATS_H
#define NNTUNE_STATS_H

#include <stdbool.h>

#include "nntune/common.h"

/* The q-quantile (0 <= q <= 1) of the n values x (borrowed), by linear
 * interpolation between order statistics: h = (m-1) q, then x(floor h) +
 * (h - floor h) (x(floor h + 1) - x(floor h)) over the m sorted values.
 * This is type 7 of Hyndman & Fan (1996), the default of numpy.quantile,
 * R's quantile() and scipy. NaNs are skipped (m counts the others);
 * infinities are values like any other and sort to the ends. Returns NaN
 * when no value is left, or when a copy to sort cannot be allocated. */
double nt_quantile(const double *x, int n, double q);

/* nt_quantile(x, n, 0.5): the middle value, or the mean of the two middle
 * values when their count is even. */
double nt_median(const double *x, int n);

/* The result of a paired, two-sided Wilcoxon signed-rank test. */
typedef struct {
    int n;            /* pairs used: non-zero differences x - y */
    int n_zero;       /* pairs dropped because x == y */
    int n_nan;        /* pairs dropped because x or y is NaN */
    int n_pos, n_neg; /* differences x - y > 0 and < 0 */
    double r_plus;    /* sum of the ranks of |x - y| where x > y */
    double r_minus;   /* ... where x < y; r_plus + r_minus = n(n+1)/2 */
    double statistic; /* min(r_plus, r_minus), scipy's two-sided statistic */
    double z;         /* the normal approximation's z; NaN when exact */
    double p;         /* two-sided p-value; NaN when n == 0 */
    bool exact;       /* p from the exact null distribution */
    bool ties;        /* some |x - y| are equal (mid-ranks were used) */
} nt_wilcoxon;

/* The paired Wilcoxon signed-rank test of x against y (n pairs each,
 * borrowed), two-sided. Zero differences are dropped first (Wilcoxon's own
 * rule, scipy's default zero_method="wilcox"), as are pairs holding a NaN.
 * With n <= 25 remaining differences and no ties among their absolute
 * values, p comes from the exact distribution of r_plus (2 min(P(R+ <= r),
 * P(R+ >= r)), at most 1); otherwise from the normal approximation with
 * the tie correction of the variance and a continuity correction of 0.5,
 * as scipy.stats.wilcoxon(x, y, method="approx", correction=True).
 * NT_ERR_NOMEM if a work buffer cannot be allocated. */
nt_status nt_wilcoxon_test(const double *x, const double *y, int n, nt_wilcoxon *out);

#endif
