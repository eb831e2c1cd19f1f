/* gp.c - Gaussian-process regression with a Matern-5/2 ARD kernel, fitted
 * by type-II maximum likelihood with Optuna's hyperpriors; expected
 * improvement; the GP encoding of search-space points. See gp.h. */
#include "nntune/gp.h"

#include <math.h>
#include <string.h>

#define SQRT5 2.23606797749978969641
#define LOG_2PI 1.83787706640934548356
#define LBFGS_M 8

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

double nt_gp_matern52(double r)
{
    double s = SQRT5 * r;
    return (1.0 + s + s * s / 3.0) * exp(-s);
}

/* ---- storage ---- */

static nt_status gp_reserve(nt_gp *gp, int need)
{
    if (need <= gp->cap && gp->X) return NT_OK;
    int cap = gp->cap > 0 ? gp->cap : 16;
    while (cap < need) cap *= 2;
    size_t c = (size_t)cap, d = (size_t)gp->d;
    double *X = nt_alloc(c * d * sizeof *X);
    double *y = nt_alloc(c * sizeof *y);
    double *L = nt_alloc(c * c * sizeof *L);
    double *alpha = nt_alloc(c * sizeof *alpha);
    double *work = nt_alloc((c * c + 4 * c) * sizeof *work);
    if (!X || !y || !L || !alpha || !work) {
        nt_free(X); nt_free(y); nt_free(L); nt_free(alpha); nt_free(work);
        nt_errorf("gp: cannot allocate room for %d points of %d inputs",
                  cap, gp->d);
        return NT_ERR_NOMEM;
    }
    if (gp->X) {
        memcpy(X, gp->X, (size_t)gp->n * d * sizeof *X);
        memcpy(y, gp->y, (size_t)gp->n * sizeof *y);
    }
    nt_free(gp->X); nt_free(gp->y); nt_free(gp->L); nt_free(gp->alpha);
    nt_free(gp->work);
    gp->X = X; gp->y = y; gp->L = L; gp->alpha = alpha; gp->work = work;
    gp->cap = cap;
    gp->factored = false;
    return NT_OK;
}

nt_status nt_gp_init(nt_gp *gp, int d, int cap)
{
    memset(gp, 0, sizeof *gp);
    if (d < 1 || d > NT_GP_MAX_DIMS) {
        nt_errorf("gp: %d inputs (want 1..%d)", d, NT_GP_MAX_DIMS);
        return NT_ERR_ARG;
    }
    gp->d = d;
    gp->y_std = 1.0;
    gp->theta = nt_alloc((size_t)nt_gp_n_theta(d) * sizeof *gp->theta);
    if (!gp->theta) {
        nt_errorf("gp: cannot allocate %d hyperparameters", d + 2);
        return NT_ERR_NOMEM;
    }
    gp->theta[0] = 0.0;
    for (int j = 0; j < d; j++) gp->theta[1 + j] = log(0.5);
    gp->theta[d + 1] = log(1e-3);
    return gp_reserve(gp, cap > 0 ? cap : 16);
}

void nt_gp_free(nt_gp *gp)
{
    if (!gp) return;
    nt_free(gp->X); nt_free(gp->y); nt_free(gp->L); nt_free(gp->alpha);
    nt_free(gp->work); nt_free(gp->theta);
    memset(gp, 0, sizeof *gp);
}

nt_status nt_gp_set_data(nt_gp *gp, const double *X, const double *y, int n)
{
    nt_status rc = gp_reserve(gp, n);
    if (rc != NT_OK) return rc;
    double mean = 0.0, var = 0.0;
    for (int i = 0; i < n; i++) mean += y[i];
    mean = n > 0 ? mean / n : 0.0;
    for (int i = 0; i < n; i++) var += (y[i] - mean) * (y[i] - mean);
    double sd = n > 1 ? sqrt(var / n) : 0.0;
    // one point or equal targets: nothing to scale by; keep unit scale
    if (!(sd > 1e-12 * fmax(1.0, fabs(mean)))) sd = 1.0;
    gp->y_mean = mean;
    gp->y_std = sd;
    memcpy(gp->X, X, (size_t)n * (size_t)gp->d * sizeof *X);
    for (int i = 0; i < n; i++) gp->y[i] = (y[i] - mean) / sd;
    gp->n = gp->n_fit = n;
    gp->factored = false;
    return NT_OK;
}

nt_status nt_gp_add_points(nt_gp *gp, const double *X, const double *y, int m)
{
    nt_status rc = gp_reserve(gp, gp->n + m);
    if (rc != NT_OK) return rc;
    size_t d = (size_t)gp->d;
    memcpy(gp->X + (size_t)gp->n * d, X, (size_t)m * d * sizeof *X);
    for (int i = 0; i < m; i++)
        gp->y[gp->n + i] = (y[i] - gp->y_mean) / gp->y_std;
    gp->n += m;
    gp->factored = false;
    return NT_OK;
}

// r^2 = sum_j ((a_j - b_j) / ls_j)^2, given inv_ls = 1 / ls
static inline double scaled_dist2(const double *a, const double *b,
                                  const double *inv_ls, int d)
{
    double r2 = 0.0;
    for (int j = 0; j < d; j++) {
        double t = (a[j] - b[j]) * inv_ls[j];
        r2 += t * t;
    }
    return r2;
}

/* ---- linear algebra (row-major, stride n) ---- */

// K (n, n), lower triangle and diagonal: amp * M52(r_ij) + diag
static void build_kernel(const nt_gp *gp, const double *theta, int n,
                         double diag, double *K)
{
    int d = gp->d;
    double amp = exp(theta[0]);
    double inv_ls[NT_GP_MAX_DIMS];
    for (int j = 0; j < d; j++) inv_ls[j] = exp(-theta[1 + j]);
    for (int i = 0; i < n; i++) {
        const double *xi = gp->X + (size_t)i * d;
        for (int k = 0; k < i; k++) {
            const double *xk = gp->X + (size_t)k * d;
            double r2 = scaled_dist2(xi, xk, inv_ls, d);
            K[(size_t)i * n + k] = amp * nt_gp_matern52(sqrt(r2));
        }
        K[(size_t)i * n + i] = amp + diag + (i >= gp->n_fit ? gp->fantasy_noise : 0.0);
    }
}

// In place: the lower triangle of A (n, n) becomes L with A = L L^T.
// Returns false if A is not (numerically) positive definite.
static bool cholesky(double *A, int n)
{
    for (int j = 0; j < n; j++) {
        double *rj = A + (size_t)j * n;
        double s = rj[j];
        for (int k = 0; k < j; k++) s -= rj[k] * rj[k];
        if (!(s > 0.0) || !isfinite(s)) return false;
        double ljj = sqrt(s);
        rj[j] = ljj;
        for (int i = j + 1; i < n; i++) {
            double *ri = A + (size_t)i * n;
            double t = ri[j];
            for (int k = 0; k < j; k++) t -= ri[k] * rj[k];
            ri[j] = t / ljj;
        }
    }
    return true;
}

// b (n) <- L^-1 b, then optionally L^-T: solves L L^T x = b when both
static void forward_solve(const double *L, int n, double *b)
{
    for (int i = 0; i < n; i++) {
        const double *ri = L + (size_t)i * n;
        double t = b[i];
        for (int k = 0; k < i; k++) t -= ri[k] * b[k];
        b[i] = t / ri[i];
    }
}

static void backward_solve(const double *L, int n, double *b)
{
    for (int i = n - 1; i >= 0; i--) {
        double t = b[i];
        for (int k = i + 1; k < n; k++) t -= L[(size_t)k * n + i] * b[k];
        b[i] = t / L[(size_t)i * n + i];
    }
}

nt_status nt_gp_factor(nt_gp *gp)
{
    int n = gp->n, d = gp->d;
    double amp = exp(gp->theta[0]);
    double noise = exp(gp->theta[d + 1]);
    double jitter = NT_GP_JITTER;
    for (;;) {
        build_kernel(gp, gp->theta, n, noise + jitter, gp->L);
        if (cholesky(gp->L, n)) break;
        jitter *= 10.0;
        if (jitter > 1e-4 * amp) {
            nt_errorf("gp: kernel matrix of %d points not positive definite "
                      "even with jitter %.1e", n, jitter / 10.0);
            gp->factored = false;
            return NT_ERR_NUMERIC;
        }
    }
    memcpy(gp->alpha, gp->y, (size_t)n * sizeof *gp->alpha);
    forward_solve(gp->L, n, gp->alpha);
    backward_solve(gp->L, n, gp->alpha);
    gp->jitter = jitter;
    gp->factored = true;
    return NT_OK;
}

/* ---- likelihood, prior, fit ---- */

double nt_gp_log_marginal(nt_gp *gp, const double *theta, double *grad)
{
    int n = gp->n_fit, d = gp->d;
    gp->factored = false;
    if (grad) memset(grad, 0, (size_t)nt_gp_n_theta(d) * sizeof *grad);
    if (n == 0) return 0.0;
    double amp = exp(theta[0]), noise = exp(theta[d + 1]);
    double *L = gp->L, *alpha = gp->alpha;
    build_kernel(gp, theta, n, noise + NT_GP_JITTER, L);
    if (!cholesky(L, n)) return -INFINITY;
    memcpy(alpha, gp->y, (size_t)n * sizeof *alpha);
    forward_solve(L, n, alpha);
    double quad = 0.0, logdet = 0.0;
    for (int i = 0; i < n; i++) {
        quad += alpha[i] * alpha[i];   // y^T K^-1 y = |L^-1 y|^2
        logdet += log(L[(size_t)i * n + i]);
    }
    backward_solve(L, n, alpha);
    double lml = -0.5 * quad - logdet - 0.5 * n * LOG_2PI;
    if (!grad) return lml;

    // d lml / d theta_p = 1/2 tr(W dK/dtheta_p), W = alpha alpha^T - K^-1
    // (Rasmussen & Williams 2006, eq. 5.9)
    // U = L^-T (n, n), upper: row j of U is column j of L^-1
    double *U = gp->work;
    for (int j = 0; j < n; j++) {
        double *uj = U + (size_t)j * n;
        memset(uj, 0, (size_t)j * sizeof *uj);
        uj[j] = 1.0 / L[(size_t)j * n + j];
        for (int i = j + 1; i < n; i++) {
            const double *li = L + (size_t)i * n;
            double t = 0.0;
            for (int k = j; k < i; k++) t += li[k] * uj[k];
            uj[i] = -t / li[i];
        }
    }
    // W (lower triangle) overwrites L: K^-1_ij = sum_{k>=i} U_ik U_jk, i>=j
    double *W = L;
    for (int i = 0; i < n; i++) {
        const double *ui = U + (size_t)i * n;
        for (int j = 0; j <= i; j++) {
            const double *uj = U + (size_t)j * n;
            double t = 0.0;
            for (int k = i; k < n; k++) t += ui[k] * uj[k];
            W[(size_t)i * n + j] = alpha[i] * alpha[j] - t;
        }
    }
    double inv_ls[NT_GP_MAX_DIMS];
    for (int j = 0; j < d; j++) inv_ls[j] = exp(-theta[1 + j]);
    double g_amp = 0.0, g_noise = 0.0;
    for (int i = 0; i < n; i++) {
        const double *xi = gp->X + (size_t)i * d;
        double wii = W[(size_t)i * n + i];
        g_amp += 0.5 * wii * amp;
        g_noise += 0.5 * wii * noise;
        for (int k = 0; k < i; k++) {
            const double *xk = gp->X + (size_t)k * d;
            double r2 = scaled_dist2(xi, xk, inv_ls, d);
            double s = SQRT5 * sqrt(r2), e = exp(-s);
            double w = W[(size_t)i * n + k];  // counted twice: (i,k), (k,i)
            g_amp += w * amp * (1.0 + s + s * s / 3.0) * e;
            // d M52 / d log ls_j = 5/3 (1 + sqrt5 r) exp(-sqrt5 r) t_j^2
            double c = w * amp * (5.0 / 3.0) * (1.0 + s) * e;
            for (int j = 0; j < d; j++) {
                double t = (xi[j] - xk[j]) * inv_ls[j];
                grad[1 + j] += c * t * t;
            }
        }
    }
    grad[0] = g_amp;
    grad[d + 1] = g_noise;
    return lml;
}

double nt_gp_log_prior(int d, const double *theta, double *grad)
{
    // Optuna's GPSampler priors (optuna/_gp/prior.py): on each inverse
    // squared length scale lam = 1/ls^2, -(0.1/lam + 0.1 lam), which keeps
    // ls near 1 on the unit cube; Gamma(2, 1) on amp; Gamma(1.1, 30) on
    // the noise variance (mode 1/300: data assumed nearly noise-free).
    double amp = exp(theta[0]), noise = exp(theta[d + 1]);
    double lp = theta[0] - amp + 0.1 * theta[d + 1] - 30.0 * noise;
    if (grad) {
        grad[0] += 1.0 - amp;
        grad[d + 1] += 0.1 - 30.0 * noise;
    }
    for (int j = 0; j < d; j++) {
        double ls2 = exp(2.0 * theta[1 + j]);
        lp -= 0.1 * ls2 + 0.1 / ls2;
        if (grad) grad[1 + j] -= 0.2 * ls2 - 0.2 / ls2;
    }
    return lp;
}

static void theta_bounds(int d, double *lo, double *hi)
{
    lo[0] = log(NT_GP_AMP_MIN); hi[0] = log(NT_GP_AMP_MAX);
    for (int j = 0; j < d; j++) {
        lo[1 + j] = log(NT_GP_LS_MIN); hi[1 + j] = log(NT_GP_LS_MAX);
    }
    lo[d + 1] = log(NT_GP_NOISE_MIN); hi[d + 1] = log(NT_GP_NOISE_MAX);
}

// the function minimized: -(log marginal likelihood + log prior)
static double neg_objective(nt_gp *gp, const double *theta, double *grad)
{
    int p = nt_gp_n_theta(gp->d);
    double f = nt_gp_log_marginal(gp, theta, grad);
    if (!isfinite(f)) return INFINITY;
    f += nt_gp_log_prior(gp->d, theta, grad);
    for (int i = 0; i < p; i++) grad[i] = -grad[i];
    return -f;
}

// Projected L-BFGS on the box [lo, hi] (Nocedal & Wright 2006, Alg. 7.4,
// with a projected backtracking Armijo search). x (p) is the start and
// the result; returns the objective there.
static double minimize_box(nt_gp *gp, double *x, const double *lo,
                           const double *hi, int max_iter)
{
    int p = nt_gp_n_theta(gp->d);
    enum { PMAX = NT_GP_MAX_DIMS + 2 };
    double g[PMAX], gn[PMAX], xn[PMAX], dir[PMAX], q[PMAX];
    double S[LBFGS_M][PMAX], Y[LBFGS_M][PMAX], rho[LBFGS_M], a[LBFGS_M];
    int mem = 0, head = 0;
    for (int i = 0; i < p; i++) x[i] = clampd(x[i], lo[i], hi[i]);
    double f = neg_objective(gp, x, g);
    if (!isfinite(f)) return f;
    for (int it = 0; it < max_iter; it++) {
        // free variables: not pinned at a bound by the gradient
        bool pinned[PMAX];
        double pg = 0.0;
        for (int i = 0; i < p; i++) {
            pinned[i] = (x[i] <= lo[i] && g[i] > 0) || (x[i] >= hi[i] && g[i] < 0);
            if (!pinned[i]) pg = fmax(pg, fabs(g[i]));
        }
        if (pg < 1e-5) break;
        // two-loop recursion: dir = -H g
        for (int i = 0; i < p; i++) q[i] = pinned[i] ? 0.0 : g[i];
        for (int k = 0; k < mem; k++) {
            int m = (head - 1 - k + LBFGS_M) % LBFGS_M;
            double s = 0.0;
            for (int i = 0; i < p; i++) s += S[m][i] * q[i];
            a[m] = rho[m] * s;
            for (int i = 0; i < p; i++) q[i] -= a[m] * Y[m][i];
        }
        double gamma = 1.0;
        if (mem > 0) {
            int m = (head - 1 + LBFGS_M) % LBFGS_M;
            double yy = 0.0;
            for (int i = 0; i < p; i++) yy += Y[m][i] * Y[m][i];
            gamma = 1.0 / (rho[m] * yy);
        }
        for (int i = 0; i < p; i++) q[i] *= gamma;
        for (int k = mem - 1; k >= 0; k--) {
            int m = (head - 1 - k + LBFGS_M) % LBFGS_M;
            double s = 0.0;
            for (int i = 0; i < p; i++) s += Y[m][i] * q[i];
            double b = rho[m] * s;
            for (int i = 0; i < p; i++) q[i] += (a[m] - b) * S[m][i];
        }
        double slope = 0.0;
        for (int i = 0; i < p; i++) {
            dir[i] = pinned[i] ? 0.0 : -q[i];
            slope += dir[i] * g[i];
        }
        if (!(slope < 0.0)) {  // not a descent direction: steepest descent
            mem = 0;
            for (int i = 0; i < p; i++) dir[i] = pinned[i] ? 0.0 : -g[i];
        }
        double t = 1.0;
        if (mem == 0) {  // first step: at most 1 in log space per coordinate
            double dmax = 0.0;
            for (int i = 0; i < p; i++) dmax = fmax(dmax, fabs(dir[i]));
            if (dmax > 1.0) t = 1.0 / dmax;
        }
        double fn = INFINITY;
        bool ok = false;
        for (int ls = 0; ls < 30; ls++, t *= 0.5) {
            double dec = 0.0;
            for (int i = 0; i < p; i++) {
                xn[i] = clampd(x[i] + t * dir[i], lo[i], hi[i]);
                dec += g[i] * (xn[i] - x[i]);
            }
            fn = neg_objective(gp, xn, gn);
            if (isfinite(fn) && fn <= f + 1e-4 * dec) { ok = true; break; }
        }
        if (!ok) break;
        double sy = 0.0, ss = 0.0, yy = 0.0;
        for (int i = 0; i < p; i++) {
            S[head][i] = xn[i] - x[i];
            Y[head][i] = gn[i] - g[i];
            sy += S[head][i] * Y[head][i];
            ss += S[head][i] * S[head][i];
            yy += Y[head][i] * Y[head][i];
        }
        if (sy > 1e-10 * sqrt(ss * yy)) {
            rho[head] = 1.0 / sy;
            head = (head + 1) % LBFGS_M;
            if (mem < LBFGS_M) mem++;
        }
        double df = f - fn;
        memcpy(x, xn, (size_t)p * sizeof *x);
        memcpy(g, gn, (size_t)p * sizeof *g);
        f = fn;
        if (df <= 1e-10 * fmax(1.0, fabs(f))) break;
    }
    return f;
}

nt_status nt_gp_fit(nt_gp *gp, int restarts, nt_rng *rng)
{
    int d = gp->d, p = nt_gp_n_theta(d);
    enum { PMAX = NT_GP_MAX_DIMS + 2 };
    double lo[PMAX], hi[PMAX], x[PMAX], best[PMAX];
    theta_bounds(d, lo, hi);
    if (gp->n_fit > 0) {
        memcpy(x, gp->theta, (size_t)p * sizeof *x);
        double fbest = minimize_box(gp, x, lo, hi, 200);
        memcpy(best, x, (size_t)p * sizeof *x);
        for (int r = 0; r < restarts; r++) {
            // starts spread over the plausible region, log-uniform
            x[0] = log(0.3) + nt_rng_uniform(rng) * log(10.0);
            for (int j = 0; j < d; j++)
                x[1 + j] = log(0.1) + nt_rng_uniform(rng) * log(20.0);
            x[d + 1] = log(1e-6) + nt_rng_uniform(rng) * log(1e4);
            double f = minimize_box(gp, x, lo, hi, 200);
            if (f < fbest) {
                fbest = f;
                memcpy(best, x, (size_t)p * sizeof *x);
            }
        }
        if (isfinite(fbest)) memcpy(gp->theta, best, (size_t)p * sizeof *best);
    }
    return nt_gp_factor(gp);
}

/* ---- prediction and acquisition ---- */

void nt_gp_predict(nt_gp *gp, const double *x, double *mu, double *var)
{
    int n = gp->n, d = gp->d;
    double amp = exp(gp->theta[0]);
    double inv_ls[NT_GP_MAX_DIMS];
    for (int j = 0; j < d; j++) inv_ls[j] = exp(-gp->theta[1 + j]);
    double *k = gp->work;  // (n) k(x, X_i), then L^-1 k
    double m = 0.0;
    for (int i = 0; i < n; i++) {
        const double *xi = gp->X + (size_t)i * d;
        double r2 = scaled_dist2(x, xi, inv_ls, d);
        k[i] = amp * nt_gp_matern52(sqrt(r2));
        m += k[i] * gp->alpha[i];
    }
    double v = amp;
    if (n > 0) {
        forward_solve(gp->L, n, k);
        for (int i = 0; i < n; i++) v -= k[i] * k[i];
    }
    if (v < 0.0) v = 0.0;
    *mu = gp->y_mean + gp->y_std * m;
    *var = gp->y_std * gp->y_std * v;
}

static double norm_cdf(double z) { return 0.5 * erfc(-z / M_SQRT2); }
static double norm_pdf(double z) { return exp(-0.5 * z * z) / sqrt(2.0 * M_PI); }

double nt_gp_ei(double mu, double sigma, double best, double xi)
{
    double imp = best - mu - xi;
    if (!(sigma > 0.0)) return imp > 0.0 ? imp : 0.0;
    double z = imp / sigma;
    double ei = imp * norm_cdf(z) + sigma * norm_pdf(z);
    return ei > 0.0 ? ei : 0.0;
}

double nt_gp_log_ei(double mu, double sigma, double best, double xi)
{
    double imp = best - mu - xi;
    if (!(sigma > 0.0)) return imp > 0.0 ? log(imp) : -INFINITY;
    double z = imp / sigma;
    if (z > -25.0) {
        double h = z * norm_cdf(z) + norm_pdf(z);
        if (h > 0.0) return log(sigma) + log(h);
    }
    // z Phi(z) + phi(z) = phi(z) (1/z^2 - 3/z^4 + 15/z^6 - 105/z^8 ...),
    // the asymptotic series of Mills' ratio, for z far below 0
    double w = 1.0 / (z * z);
    double series = w * (1.0 - w * (3.0 - w * (15.0 - w * 105.0)));
    return log(sigma) - 0.5 * z * z - 0.5 * LOG_2PI + log(series);
}

/* ---- encoding ---- */

int nt_gp_encoded_dims(const nt_space *s)
{
    int e = 0;
    for (int i = 0; i < s->n; i++) {
        const nt_param *p = &s->p[i];
        if (p->kind == NT_P_FIXED || p->dim < 0) continue;
        e += p->kind == NT_P_CHOICE ? p->n_choices : 1;
    }
    return e;
}

void nt_gp_encode(const nt_space *s, const double *u, double *canon, double *x)
{
    nt_assignment a;
    double c[NT_MAX_PARAMS];
    nt_space_decode(s, u, &a);
    nt_space_encode(s, &a, c);
    if (canon) memcpy(canon, c, (size_t)s->dims * sizeof *canon);
    int e = 0;
    for (int i = 0; i < s->n; i++) {
        const nt_param *p = &s->p[i];
        if (p->kind == NT_P_FIXED || p->dim < 0) continue;
        bool on = a.v[i].active;
        if (p->kind == NT_P_CHOICE) {
            // inactive: all zeros, so it looks like no option at all
            for (int k = 0; k < p->n_choices; k++)
                x[e + k] = (on && a.v[i].choice == k) ? 1.0 : 0.0;
            e += p->n_choices;
        } else {
            x[e++] = on ? c[p->dim] : 0.5;
        }
    }
}
