/* gp.h - Gaussian-process regression on points of [0,1]^d, expected
 * improvement, and the encoding of a search space's points as GP inputs.
 * Used by the Bayesian strategy (bayes.c); usable on its own.
 *
 * Model (as in scikit-optimize's gp_minimize and Optuna's GPSampler):
 *     k(x, x') = amp * M52(r) + (noise + jitter) * [x == x' as rows]
 *     M52(r)   = (1 + sqrt(5) r + 5 r^2 / 3) exp(-sqrt(5) r)
 *     r^2      = sum_j ((x_j - x'_j) / ls_j)^2
 * on targets normalized to mean 0 and standard deviation 1 (std taken as 1
 * for one point or equal targets). The hyperparameters live in log space,
 *     theta = [log amp, log ls_1 .. log ls_d, log noise]   (d + 2 values),
 * in the normalized units of y, within the bounds NT_GP_* below. They are
 * fitted by maximizing log marginal likelihood + log prior (Optuna's priors:
 * -(0.1 ls^2 + 0.1 / ls^2) per length scale, Gamma(2, 1) on amp,
 * Gamma(1.1, 30) on noise) with a projected L-BFGS, from a warm start (the
 * previous optimum) and random starts.
 *
 * Cost: a fit is O(n^3) per likelihood evaluation; after it, a prediction is
 * O(n d) for the mean and O(n^2) for the variance. */
#ifndef NNTUNE_GP_H
#define NNTUNE_GP_H

#include "nntune/common.h"
#include "nntune/rng.h"
#include "nntune/space.h"

/* Most inputs a GP takes: a space of NT_MAX_PARAMS choices, one-hot. */
#define NT_GP_MAX_DIMS (NT_MAX_PARAMS * NT_MAX_CHOICES)

/* Hyperparameter bounds, natural units (normalized y). */
#define NT_GP_AMP_MIN 1e-2
#define NT_GP_AMP_MAX 1e2
#define NT_GP_LS_MIN 1e-2
#define NT_GP_LS_MAX 1e2
#define NT_GP_NOISE_MIN 1e-6  /* Optuna's minimum noise variance */
#define NT_GP_NOISE_MAX 1.0
#define NT_GP_JITTER 1e-9     /* added to the diagonal on top of noise */
#define NT_GP_PREDICT_BLOCK 128  /* points nt_gp_predict_many does at once */

typedef struct {
    int d;              /* input dimensions */
    int n;              /* points held */
    int n_fit;          /* the first n_fit points are real data: they set the
                           normalization; the rest are added (fantasies) */
    int cap;            /* capacity in points */
    double y_mean, y_std;  /* normalization of the real targets */
    double *X;          /* (cap, d) inputs, row-major */
    double *y;          /* (cap) normalized targets */
    double *theta;      /* (d + 2) log hyperparameters, see above */
    double *L;          /* (cap, cap) lower Cholesky factor of K, row-major */
    double *Kinv;       /* (cap, cap) K^-1, lower triangle, for nt_gp_predict */
    double *alpha;      /* (cap) K^-1 y */
    double *work;       /* scratch: about 3 cap * cap + (d + 20) cap */
    double *kstar;      /* (cap, NT_GP_PREDICT_BLOCK) prediction scratch */
    double fantasy_noise;  /* variance added on the diagonal of the points
                           past n_fit, normalized units (default 0) */
    double jitter;      /* diagonal jitter actually used by the last factor */
    bool factored;      /* L and alpha match X, y and theta */
    void *pairs;        /* the last fit's L-BFGS curvature pairs, which start
                           the next fit (gp.c); opaque */
} nt_gp;

/* Number of hyperparameters for d inputs: d + 2. */
static inline int nt_gp_n_theta(int d) { return d + 2; }

/* Set up for d inputs (1..NT_GP_MAX_DIMS, else NT_ERR_ARG) with room for
 * `cap` points (it grows as needed). theta starts at amp = 1, ls = 0.5,
 * noise = 1e-3. Free with nt_gp_free. */
nt_status nt_gp_init(nt_gp *gp, int d, int cap);
/* Free; safe on a zeroed or freed gp. */
void nt_gp_free(nt_gp *gp);

/* Matern-5/2 correlation at distance r >= 0 (1 at r = 0). */
double nt_gp_matern52(double r);

/* Replace the data with n points X (n, d) and targets y (n), borrowed and
 * copied; computes the normalization from y. Keeps theta. */
nt_status nt_gp_set_data(nt_gp *gp, const double *X, const double *y, int n);
/* Append m points with targets in original units, normalized with the
 * current real data's mean and std (constant liars, fantasies). Keeps theta;
 * call nt_gp_factor (or nt_gp_fit) before predicting. */
nt_status nt_gp_add_points(nt_gp *gp, const double *X, const double *y, int m);

/* Factor K with the current theta: L, alpha. Adds jitter (x10 steps up to
 * 1e-4 * amp) if K is not positive definite; NT_ERR_NUMERIC if it still
 * fails. */
nt_status nt_gp_factor(nt_gp *gp);

/* Log marginal likelihood of the real (first n_fit) normalized targets at
 * hyperparameters theta (d + 2), without the prior; its gradient with
 * respect to theta into grad (d + 2) unless grad is NULL. -INFINITY if K is
 * not positive definite. Uses gp->work; leaves gp unfactored. */
double nt_gp_log_marginal(nt_gp *gp, const double *theta, double *grad);
/* Log prior of theta (up to a constant); gradient added into grad (d + 2)
 * unless NULL. */
double nt_gp_log_prior(int d, const double *theta, double *grad);

/* Fit theta on the real points by maximizing log marginal likelihood + log
 * prior: from the current theta (with the curvature the previous fit
 * learned, so a fit after one more point takes few steps), then from
 * `restarts` random starts drawn from rng (may be NULL when restarts is 0);
 * keeps the best, then factors all points (fantasies included). With no
 * points, only factors. */
nt_status nt_gp_fit(nt_gp *gp, int restarts, nt_rng *rng);

/* Posterior of the latent function at x (d), in the original units of y:
 * mean and variance (noise not included). Needs a factored gp. */
void nt_gp_predict(nt_gp *gp, const double *x, double *mu, double *var);
/* nt_gp_predict at m points X (m, d), into mu and var (m): one triangular
 * solve with many right-hand sides, far faster than m calls. */
void nt_gp_predict_many(nt_gp *gp, const double *X, int m, double *mu,
                        double *var);

/* Expected improvement below `best` for minimization, with margin xi:
 *     z = (best - mu - xi) / sigma
 *     EI = (best - mu - xi) Phi(z) + sigma phi(z)
 * and max(best - mu - xi, 0) when sigma <= 0. */
double nt_gp_ei(double mu, double sigma, double best, double xi);
/* log(EI), accurate where EI underflows (z far below 0); -INFINITY when
 * sigma <= 0 and mu + xi >= best. Used to rank candidates. */
double nt_gp_log_ei(double mu, double sigma, double best, double xi);

/* --- encoding a space's cube points as GP inputs --- */

/* GP inputs for a space: one per real or int parameter, n per choice of n
 * options (one-hot); fixed parameters have none. */
int nt_gp_encoded_dims(const nt_space *s);
/* Encode cube point u (s->dims) as GP inputs x (nt_gp_encoded_dims). The
 * point is first snapped to its canonical cube point (decoded and encoded
 * again through the space: ints and choices to their cell centres, inactive
 * coordinates to 0.5), written to canon (s->dims) unless NULL. A real or int
 * input is its canonical coordinate (log-scaled for log kinds), 0.5 when
 * inactive; a choice is one-hot, all zeros when inactive. */
void nt_gp_encode(const nt_space *s, const double *u, double *canon, double *x);

#endif
