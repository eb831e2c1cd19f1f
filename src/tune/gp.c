/* gp.c - Gaussian-process regression with a Matern-5/2 ARD kernel, fitted
 * by type-II maximum likelihood with Optuna's hyperpriors; expected
 * improvement; the GP encoding of search-space points. See gp.h. */
#include "nntune/gp.h"

#include <math.h>
#include <string.h>

#define SQRT5 2.23606797749978969641
#define LOG_2PI 1.83787706640934548356
#define LBFGS_M 8
/* Many right-hand sides of a triangular solve go in strips of STRIP
 * columns: strip s is (n, STRIP), row-major, at B + s n STRIP. */
#define STRIP 16
#define LOG2E 1.44269504088896340736
#define LN2_HI 6.93147180369123816490e-01  /* ln 2 in two parts: LN2_HI has */
#define LN2_LO 1.90821492927058770002e-10  /* its low bits clear, so k LN2_HI is exact */

// L-BFGS curvature pairs (s, y) in a ring of LBFGS_M, newest at head - 1.
// A fit keeps the pairs of its warm-started run for the next fit: one more
// point moves the optimum and the curvature around it little, so the next
// run starts with a Hessian estimate instead of steepest descent.
typedef struct {
    double S[LBFGS_M][NT_GP_MAX_DIMS + 2], Y[LBFGS_M][NT_GP_MAX_DIMS + 2];
    double rho[LBFGS_M];
    int mem, head;
} lbfgs_pairs;

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

// exp(-s) for s >= 0, within an ulp or two of libm's exp (0 past s = 700,
// where the kernel is 0 anyway). Written out so that loops over many pairs
// vectorize (`omp simd`): libm's exp is a call per element.
typedef union { double f; int64_t i; } f64_bits;

static inline double exp_neg(double s)
{
    double x = s < 700.0 ? -s : -700.0;
    // k = round(x / ln 2) by the 1.5 * 2^52 trick; x = k ln 2 + r
    f64_bits k = {x * LOG2E + 0x1.8p52}, scale;
    double kd = k.f - 0x1.8p52;
    double r = (x - kd * LN2_HI) - kd * LN2_LO;   // |r| <= ln 2 / 2
    // e^r by Taylor to r^13 / 13!: error below 1e-17 for |r| <= 0.35
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    // 2^k: k (>= -1010 here) into the exponent field
    scale.i = (k.i - (int64_t)0x4338000000000000 + 1023) << 52;
    return p * scale.f;
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
    double *Kinv = nt_alloc(c * c * sizeof *Kinv);
    double *alpha = nt_alloc(c * sizeof *alpha);
    double *work = nt_alloc(((c + STRIP) * c + 2 * c * c + (d + 4) * c) * sizeof *work);
    double *kstar = nt_alloc((c + d + 1) * NT_GP_PREDICT_BLOCK * sizeof *kstar);
    if (!X || !y || !L || !Kinv || !alpha || !work || !kstar) {
        nt_free(X); nt_free(y); nt_free(L); nt_free(Kinv); nt_free(alpha);
        nt_free(work); nt_free(kstar);
        nt_errorf("gp: cannot allocate room for %d points of %d inputs",
                  cap, gp->d);
        return NT_ERR_NOMEM;
    }
    if (gp->X) {
        memcpy(X, gp->X, (size_t)gp->n * d * sizeof *X);
        memcpy(y, gp->y, (size_t)gp->n * sizeof *y);
    }
    nt_free(gp->X); nt_free(gp->y); nt_free(gp->L); nt_free(gp->alpha);
    nt_free(gp->work); nt_free(gp->kstar); nt_free(gp->Kinv);
    gp->X = X; gp->y = y; gp->L = L; gp->alpha = alpha; gp->work = work;
    gp->Kinv = Kinv;
    gp->kstar = kstar;
    gp->cap = cap;
    gp->factored = false;
    return NT_OK;
}

// gp->work, by use: L^-1 in strips ((cap + STRIP) cap), M52 and its
// derivative terms (2 cap cap), scaled inputs (d cap), 4 cap spare. The
// scaled inputs are build_kernel's: after nt_gp_factor, those of theta and
// all n points, which nt_gp_predict uses.
static double *scratch_m52(nt_gp *gp)
{
    return gp->work + (size_t)(gp->cap + STRIP) * gp->cap;
}
static double *scratch_xs(nt_gp *gp)
{
    return scratch_m52(gp) + 2 * (size_t)gp->cap * gp->cap;
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
    lbfgs_pairs *pairs = nt_alloc(2 * sizeof *pairs);  // kept, scratch
    if (!pairs) {
        nt_errorf("gp: cannot allocate the hyperparameter fit's memory");
        return NT_ERR_NOMEM;
    }
    pairs[0].mem = pairs[0].head = 0;
    gp->pairs = pairs;
    return gp_reserve(gp, cap > 0 ? cap : 16);
}

void nt_gp_free(nt_gp *gp)
{
    if (!gp) return;
    nt_free(gp->X); nt_free(gp->y); nt_free(gp->L); nt_free(gp->alpha);
    nt_free(gp->work); nt_free(gp->kstar); nt_free(gp->Kinv);
    nt_free(gp->theta);
    nt_free(gp->pairs);
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

// amp * M52 at squared scaled distance r2, with the inline exp so callers'
// loops over many points vectorize (nt_gp_matern52 is the libm version)
static inline double kernel_of_r2(double amp, double r2)
{
    double sr = SQRT5 * sqrt(r2);
    return amp * (1.0 + sr + sr * sr / 3.0) * exp_neg(sr);
}

/* ---- linear algebra (row-major, stride n) ----
 * Hand-written rather than LAPACK's dpotrf: OpenBLAS may split a LAPACK call
 * over threads, and the number of BLAS threads changes with --jobs, while a
 * study must propose the same points whatever --jobs is (and on --resume).
 * The inner loops are dot products and axpys the compiler vectorizes
 * (`omp simd`): a fixed order of operations for a given build. */

// sum_k a[k] b[k]
static inline double dot(const double *a, const double *b, int n)
{
    double t = 0.0;
    #pragma omp simd reduction(+:t)
    for (int k = 0; k < n; k++) t += a[k] * b[k];
    return t;
}

// Inputs scaled by the length scales, transposed: xs (d, stride), column i
// is X_i / ls, so the distances from one point to many run along rows.
static void scale_inputs(const double *X, int n, int d, const double *inv_ls,
                         double *xs, int stride)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++)
            xs[(size_t)j * stride + i] = X[(size_t)i * d + j] * inv_ls[j];
}

// r2 (m) <- squared scaled distances from the scaled point p (d) to the m
// columns of xs (d, stride)
static void dist2_row(const double *xs, int stride, int d, const double *p,
                      int m, double *r2)
{
    for (int c = 0; c < m; c++) r2[c] = 0.0;
    for (int j = 0; j < d; j++) {
        const double *row = xs + (size_t)j * stride;
        double pj = p[j];
        #pragma omp simd
        for (int c = 0; c < m; c++) {
            double t = row[c] - pj;
            r2[c] += t * t;
        }
    }
}

// K (n, n), lower triangle and diagonal: amp * M52(r_ik) + diag. With
// m52 and dm52 (n, n) not NULL, also what the likelihood gradient needs,
// so it does not compute each exp twice, in their lower triangles:
// M52(r_ik) and 5/3 (1 + sqrt5 r_ik) exp(-sqrt5 r_ik).
static void build_kernel(nt_gp *gp, const double *theta, int n,
                         double diag, double *K, double *m52, double *dm52)
{
    int d = gp->d;
    double amp = exp(theta[0]);
    double inv_ls[NT_GP_MAX_DIMS], p[NT_GP_MAX_DIMS];
    for (int j = 0; j < d; j++) inv_ls[j] = exp(-theta[1 + j]);
    double *xs = scratch_xs(gp);                               // (d, n)
    double *r2 = xs + (size_t)d * n;                           // (n)
    scale_inputs(gp->X, n, d, inv_ls, xs, n);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < d; j++) p[j] = xs[(size_t)j * n + i];
        dist2_row(xs, n, d, p, i, r2);
        double *ki = K + (size_t)i * n;
        if (m52) {
            double *mi = m52 + (size_t)i * n, *di = dm52 + (size_t)i * n;
            #pragma omp simd
            for (int k = 0; k < i; k++) {
                double sr = SQRT5 * sqrt(r2[k]), e = exp_neg(sr);
                mi[k] = (1.0 + sr + sr * sr / 3.0) * e;
                di[k] = (5.0 / 3.0) * (1.0 + sr) * e;
                ki[k] = amp * mi[k];
            }
        } else {
            #pragma omp simd
            for (int k = 0; k < i; k++) ki[k] = kernel_of_r2(amp, r2[k]);
        }
        ki[i] = amp + diag + (i >= gp->n_fit ? gp->fantasy_noise : 0.0);
    }
}

// In place: the lower triangle of A (n, n) becomes L with A = L L^T.
// Returns false if A is not (numerically) positive definite. T is scratch
// of (n + STRIP) * STRIP.
// Left-looking, a strip of STRIP columns at a time: first every row's
// strip loses the contributions of the columns left of the strip (with a
// transposed copy of the strip's own rows, so the inner loop runs along
// STRIP contiguous values kept in registers), then the strip is factored
// column by column.
static bool cholesky(double *A, int n, double *T)
{
    for (int c0 = 0; c0 < n; c0 += STRIP) {
        int w = n - c0 < STRIP ? n - c0 : STRIP;
        // T (c0, STRIP): T[k][c] = L[c0 + c][k], zero past the last row
        for (int k = 0; k < c0; k++)
            for (int c = 0; c < STRIP; c++)
                T[(size_t)k * STRIP + c] = c < w ? A[(size_t)(c0 + c) * n + k] : 0.0;
        for (int i = c0; i < n; i++) {
            double *ai = A + (size_t)i * n, acc[STRIP] = {0};
            for (int k = 0; k < c0; k++) {
                const double *tk = T + (size_t)k * STRIP;
                double lik = ai[k];
                #pragma omp simd
                for (int c = 0; c < STRIP; c++) acc[c] += lik * tk[c];
            }
            int last = i - c0 < w - 1 ? i - c0 : w - 1;
            for (int c = 0; c <= last; c++) ai[c0 + c] -= acc[c];
        }
        // the strip, right-looking: column j is scaled, then taken off the
        // strip's columns right of it; col holds column j's strip rows
        for (int j = c0; j < c0 + w; j++) {
            double *rj = A + (size_t)j * n, col[STRIP];
            double s = rj[j];
            if (!(s > 0.0) || !isfinite(s)) return false;
            double ljj = sqrt(s), inv = 1.0 / ljj;
            rj[j] = ljj;
            int end = c0 + w;  // strip columns j + 1 .. end - 1 to update
            for (int i = j + 1; i < n; i++) {
                double *ri = A + (size_t)i * n;
                double lij = ri[j] * inv;
                ri[j] = lij;
                if (i < end) col[i - j] = lij;
                int lim = i < end - 1 ? i : end - 1;
                #pragma omp simd
                for (int k = j + 1; k <= lim; k++) ri[k] -= lij * col[k - j];
            }
        }
    }
    return true;
}

// b (n) <- L^-1 b
static void forward_solve(const double *L, int n, double *b)
{
    for (int i = 0; i < n; i++) {
        const double *ri = L + (size_t)i * n;
        b[i] = (b[i] - dot(ri, b, i)) / ri[i];
    }
}


// B <- L^-1 B for `strips` strips of right-hand sides (see STRIP). A strip's
// row i stays in registers while the rows above it are subtracted.
static void forward_solve_strips(const double *L, int n, double *B, int strips)
{
    for (int s = 0; s < strips; s++) {
        double *Bs = B + (size_t)s * n * STRIP;
        for (int i = 0; i < n; i++) {
            const double *li = L + (size_t)i * n;
            double *bi = Bs + (size_t)i * STRIP, acc[STRIP];
            #pragma omp simd
            for (int c = 0; c < STRIP; c++) acc[c] = bi[c];
            for (int k = 0; k < i; k++) {
                const double *bk = Bs + (size_t)k * STRIP;
                double lik = li[k];
                #pragma omp simd
                for (int c = 0; c < STRIP; c++) acc[c] -= lik * bk[c];
            }
            double inv = 1.0 / li[i];
            #pragma omp simd
            for (int c = 0; c < STRIP; c++) bi[c] = acc[c] * inv;
        }
    }
}

// L^-1 into strips (see STRIP) at Linv; row i of strip s is meaningful
// from i >= s STRIP on (above that it is zero, and left unwritten)
static void invert_lower_strips(const double *L, int n, double *Linv)
{
    for (int s = 0, c0 = 0; c0 < n; s++, c0 += STRIP) {
        double *Ls = Linv + (size_t)s * n * STRIP;
        for (int i = c0; i < n; i++) {
            const double *li = L + (size_t)i * n;
            double acc[STRIP] = {0};
            if (i - c0 < STRIP) acc[i - c0] = 1.0;
            for (int k = c0; k < i; k++) {
                const double *bk = Ls + (size_t)k * STRIP;
                double lik = li[k];
                #pragma omp simd
                for (int c = 0; c < STRIP; c++) acc[c] -= lik * bk[c];
            }
            double inv = 1.0 / li[i];
            double *bi = Ls + (size_t)i * STRIP;
            #pragma omp simd
            for (int c = 0; c < STRIP; c++) bi[c] = acc[c] * inv;
        }
    }
}

// out (n, n), lower triangle <- K^-1 = L^-T L^-1 from K's Cholesky factor
// L (which out may overwrite): K^-1_ij = sum_{k >= i} Linv_ki Linv_kj for
// j <= i, a strip of columns j at a time, in registers. Linv is scratch of
// (n + STRIP) n for L^-1 in strips.
static void cholesky_inverse(const double *L, int n, double *Linv, double *out)
{
    invert_lower_strips(L, n, Linv);
    for (int s = 0, c0 = 0; c0 < n; s++, c0 += STRIP) {
        const double *Ls = Linv + (size_t)s * n * STRIP;
        for (int i = c0; i < n; i++) {
            const double *Li = Linv + (size_t)(i / STRIP) * n * STRIP + i % STRIP;
            double acc[STRIP] = {0};
            for (int k = i; k < n; k++) {
                double lki = Li[(size_t)k * STRIP];
                const double *lk = Ls + (size_t)k * STRIP;
                #pragma omp simd
                for (int c = 0; c < STRIP; c++) acc[c] += lki * lk[c];
            }
            double *oi = out + (size_t)i * n;
            int last = i - c0 < STRIP - 1 ? i - c0 : STRIP - 1;
            for (int c = 0; c <= last; c++) oi[c0 + c] = acc[c];
        }
    }
}

// b (n) <- L^-T b
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
        build_kernel(gp, gp->theta, n, noise + jitter, gp->L, NULL, NULL);
        if (cholesky(gp->L, n, gp->kstar)) break;
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
    // K^-1 (lower triangle) for single predictions
    cholesky_inverse(gp->L, n, gp->work, gp->Kinv);
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
    double *U = gp->work, *m52 = scratch_m52(gp), *dm52 = m52 + (size_t)n * n;
    build_kernel(gp, theta, n, noise + NT_GP_JITTER, L, grad ? m52 : NULL,
                 grad ? dm52 : NULL);
    if (!cholesky(L, n, gp->kstar)) return -INFINITY;
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
    // (Rasmussen & Williams 2006, eq. 5.9), K^-1 = L^-T L^-1.
    // W (lower triangle) overwrites L
    double *W = L;
    cholesky_inverse(L, n, U, W);
    for (int i = 0; i < n; i++) {
        double *wi = W + (size_t)i * n;
        for (int j = 0; j <= i; j++) wi[j] = alpha[i] * alpha[j] - wi[j];
    }
    // dK/d log ls_j = amp dM52 t_j^2, t_j = (x_ij - x_kj) / ls_j: xs holds
    // the scaled inputs, transposed (from build_kernel)
    const double *xs = scratch_xs(gp);
    double g_ls[NT_GP_MAX_DIMS] = {0}, g_amp = 0.0, g_noise = 0.0;
    for (int i = 0; i < n; i++) {
        const double *wi = W + (size_t)i * n;
        const double *mi = m52 + (size_t)i * n, *di = dm52 + (size_t)i * n;
        g_amp += 0.5 * wi[i] * amp;
        g_noise += 0.5 * wi[i] * noise;
        // pairs (i, k) with k < i, each counted twice: (i,k), (k,i)
        double ga = 0.0;
        #pragma omp simd reduction(+:ga)
        for (int k = 0; k < i; k++) ga += wi[k] * mi[k];
        g_amp += amp * ga;
        for (int j = 0; j < d; j++) {
            const double *xj = xs + (size_t)j * n;
            double xij = xj[i], gj = 0.0;
            #pragma omp simd reduction(+:gj)
            for (int k = 0; k < i; k++) {
                double t = xj[k] - xij;
                gj += wi[k] * di[k] * t * t;
            }
            g_ls[j] += amp * gj;
        }
    }
    for (int j = 0; j < d; j++) grad[1 + j] = g_ls[j];
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

// dir = -H g over the free coordinates, H from the pairs (Nocedal & Wright
// 2006, Alg. 7.4, the two-loop recursion)
static void lbfgs_direction(const lbfgs_pairs *m, int p, const double *g,
                            const bool *pinned, double *dir)
{
    double q[NT_GP_MAX_DIMS + 2], a[LBFGS_M];
    for (int i = 0; i < p; i++) q[i] = pinned[i] ? 0.0 : g[i];
    for (int k = 0; k < m->mem; k++) {
        int h = (m->head - 1 - k + LBFGS_M) % LBFGS_M;
        double s = 0.0;
        for (int i = 0; i < p; i++) s += m->S[h][i] * q[i];
        a[h] = m->rho[h] * s;
        for (int i = 0; i < p; i++) q[i] -= a[h] * m->Y[h][i];
    }
    double gamma = 1.0;
    if (m->mem > 0) {
        int h = (m->head - 1 + LBFGS_M) % LBFGS_M;
        double yy = 0.0;
        for (int i = 0; i < p; i++) yy += m->Y[h][i] * m->Y[h][i];
        gamma = 1.0 / (m->rho[h] * yy);
    }
    for (int i = 0; i < p; i++) q[i] *= gamma;
    for (int k = m->mem - 1; k >= 0; k--) {
        int h = (m->head - 1 - k + LBFGS_M) % LBFGS_M;
        double s = 0.0;
        for (int i = 0; i < p; i++) s += m->Y[h][i] * q[i];
        double b = m->rho[h] * s;
        for (int i = 0; i < p; i++) q[i] += (a[h] - b) * m->S[h][i];
    }
    for (int i = 0; i < p; i++) dir[i] = pinned[i] ? 0.0 : -q[i];
}

// Keep the pair (s, y) = (xn - x, gn - g) if its curvature is positive.
static void lbfgs_push(lbfgs_pairs *m, int p, const double *x, const double *xn,
                       const double *g, const double *gn)
{
    double sy = 0.0, ss = 0.0, yy = 0.0;
    for (int i = 0; i < p; i++) {
        m->S[m->head][i] = xn[i] - x[i];
        m->Y[m->head][i] = gn[i] - g[i];
        sy += m->S[m->head][i] * m->Y[m->head][i];
        ss += m->S[m->head][i] * m->S[m->head][i];
        yy += m->Y[m->head][i] * m->Y[m->head][i];
    }
    if (sy > 1e-10 * sqrt(ss * yy)) {
        m->rho[m->head] = 1.0 / sy;
        m->head = (m->head + 1) % LBFGS_M;
        if (m->mem < LBFGS_M) m->mem++;
    }
}

// Projected L-BFGS on the box [lo, hi] (Nocedal & Wright 2006, Alg. 7.4,
// with a projected backtracking Armijo search), starting from the pairs in
// m (mem 0: none) and leaving its own there. x (p) is the start and the
// result; returns the objective there.
static double minimize_box(nt_gp *gp, double *x, const double *lo,
                           const double *hi, int max_iter, lbfgs_pairs *m)
{
    int p = nt_gp_n_theta(gp->d);
    enum { PMAX = NT_GP_MAX_DIMS + 2 };
    double g[PMAX], gn[PMAX], xn[PMAX], dir[PMAX];
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
        // Optuna's tolerance (gtol 1e-2 in its fit_kernel_params): past it
        // the steps change the log likelihood by 1e-5 or less, and theta
        // by less than the next point will move it (1e-5 took 14-21
        // evaluations a fit at Hartmann-6's 190-199 points, 1e-2 2-15;
        // median best of 200 seeds after 50 trials, Hartmann-6: -3.3200
        // then, -3.3187 now; Branin 0.3979 both)
        if (pg < 1e-2) break;
        lbfgs_direction(m, p, g, pinned, dir);
        double slope = 0.0;
        for (int i = 0; i < p; i++) slope += dir[i] * g[i];
        if (!(slope < 0.0)) {  // not a descent direction: steepest descent
            m->mem = 0;
            for (int i = 0; i < p; i++) dir[i] = pinned[i] ? 0.0 : -g[i];
        }
        double t = 1.0;
        if (m->mem == 0) {  // first step: at most 1 in log space per coordinate
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
        lbfgs_push(m, p, x, xn, g, gn);
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
        lbfgs_pairs *warm = gp->pairs, *fresh = warm + 1;
        memcpy(x, gp->theta, (size_t)p * sizeof *x);
        double fbest = minimize_box(gp, x, lo, hi, 200, warm);
        memcpy(best, x, (size_t)p * sizeof *x);
        for (int r = 0; r < restarts; r++) {
            // starts spread over the plausible region, log-uniform
            x[0] = log(0.3) + nt_rng_uniform(rng) * log(10.0);
            for (int j = 0; j < d; j++)
                x[1 + j] = log(0.1) + nt_rng_uniform(rng) * log(20.0);
            x[d + 1] = log(1e-6) + nt_rng_uniform(rng) * log(1e4);
            fresh->mem = fresh->head = 0;
            double f = minimize_box(gp, x, lo, hi, 200, fresh);
            if (f < fbest) {
                fbest = f;
                memcpy(best, x, (size_t)p * sizeof *x);
                *warm = *fresh;  // the curvature around the optimum kept
            }
        }
        if (isfinite(fbest)) memcpy(gp->theta, best, (size_t)p * sizeof *best);
        else warm->mem = 0;
    }
    return nt_gp_factor(gp);
}

/* ---- prediction and acquisition ---- */

void nt_gp_predict_many(nt_gp *gp, const double *X, int m, double *mu,
                        double *var)
{
    enum { BLK = NT_GP_PREDICT_BLOCK };
    _Static_assert(NT_GP_PREDICT_BLOCK % STRIP == 0, "block of whole strips");
    int n = gp->n, d = gp->d;
    double amp = exp(gp->theta[0]);
    double inv_ls[NT_GP_MAX_DIMS], p[NT_GP_MAX_DIMS], v[BLK], mean[BLK], row[BLK];
    for (int j = 0; j < d; j++) inv_ls[j] = exp(-gp->theta[1 + j]);
    double *B = gp->kstar;                     // strips of k(x_c, X_i),
                                               // then of L^-1 of it
    double *xs = B + (size_t)gp->cap * BLK;    // (d, BLK) scaled points
    for (int c0 = 0; c0 < m; c0 += BLK) {
        int mb = m - c0 < BLK ? m - c0 : BLK;
        int ns = (mb + STRIP - 1) / STRIP, width = ns * STRIP;
        scale_inputs(X + (size_t)c0 * d, mb, d, inv_ls, xs, BLK);
        // pad the last strip with copies of the last point
        for (int j = 0; j < d; j++)
            for (int c = mb; c < width; c++)
                xs[(size_t)j * BLK + c] = xs[(size_t)j * BLK + mb - 1];
        for (int c = 0; c < width; c++) mean[c] = 0.0, v[c] = amp;
        for (int i = 0; i < n; i++) {
            const double *xi = gp->X + (size_t)i * d;
            for (int j = 0; j < d; j++) p[j] = xi[j] * inv_ls[j];
            double ai = gp->alpha[i];
            dist2_row(xs, BLK, d, p, width, row);
            #pragma omp simd
            for (int c = 0; c < width; c++) {
                row[c] = kernel_of_r2(amp, row[c]);
                mean[c] += row[c] * ai;
            }
            for (int st = 0; st < ns; st++)
                memcpy(B + ((size_t)st * n + i) * STRIP, row + st * STRIP,
                       STRIP * sizeof *row);
        }
        forward_solve_strips(gp->L, n, B, ns);
        for (int st = 0; st < ns; st++) {
            double *vs = v + st * STRIP;
            for (int i = 0; i < n; i++) {
                const double *bi = B + ((size_t)st * n + i) * STRIP;
                #pragma omp simd
                for (int c = 0; c < STRIP; c++) vs[c] -= bi[c] * bi[c];
            }
        }
        for (int c = 0; c < mb; c++) {
            mu[c0 + c] = gp->y_mean + gp->y_std * mean[c];
            var[c0 + c] = gp->y_std * gp->y_std * (v[c] > 0.0 ? v[c] : 0.0);
        }
    }
}

void nt_gp_predict(nt_gp *gp, const double *x, double *mu, double *var)
{
    int n = gp->n, d = gp->d;
    double amp = exp(gp->theta[0]);
    double inv_ls[NT_GP_MAX_DIMS];
    for (int j = 0; j < d; j++) inv_ls[j] = exp(-gp->theta[1 + j]);
    // the scaled, transposed inputs nt_gp_factor's build_kernel left
    double *k = gp->kstar, p[NT_GP_MAX_DIMS];  // (n) k(x, X_i)
    for (int j = 0; j < d; j++) p[j] = x[j] * inv_ls[j];
    dist2_row(scratch_xs(gp), n, d, p, n, k);
    #pragma omp simd
    for (int i = 0; i < n; i++) k[i] = kernel_of_r2(amp, k[i]);
    // k^T K^-1 k from K^-1's lower triangle, symmetric: sum_i k_i (K^-1_ii
    // k_i + 2 sum_{j<i} K^-1_ij k_j), n independent dot products (no chain
    // of dependent steps as in a triangular solve) of half the length
    double q = 0.0;
    for (int i = 0; i < n; i++) {
        const double *ki = gp->Kinv + (size_t)i * n;
        q += k[i] * (ki[i] * k[i] + 2.0 * dot(ki, k, i));
    }
    double v = amp - q;
    *mu = gp->y_mean + gp->y_std * dot(k, gp->alpha, n);
    *var = gp->y_std * gp->y_std * (v > 0.0 ? v : 0.0);
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
