/* bench_epoch.c - how long one training epoch takes, and how much of it is
 * matrix multiplication.
 *
 * For the 784-256-128-10 network (ReLU, dropout 0.2, Adam) and one epoch over
 * MNIST's 60,000 training images, at each batch size and BLAS thread count:
 *
 *   nntune  one epoch through nt_train (no validation): gather, forward,
 *           dropout, softmax, loss, backward, Adam - the real thing. Median
 *           of --runs timed runs after one untimed warm-up run.
 *   gemm    only the cblas_sgemm calls an epoch makes with every layer on
 *           GEMMs, same shapes, same order, same alpha/beta, on buffers
 *           allocated once: per batch, per layer forward y = x W, backward
 *           dW = x^T dy and (except the first layer) dx = dy W^T. Same
 *           warm-up and median.
 *   ratio   nntune / gemm, and the non-GEMM share 1 - gemm / nntune: the
 *           part of an epoch that is neither OpenBLAS's fault nor its merit.
 *           The two alternate (nntune, gemm, nntune, gemm, ...) and the
 *           ratio is the median of each pair's: a machine that drifts
 *           between the two phases no longer decides it.
 *
 * Two ways to use T threads (--parallel):
 *   blas    T BLAS threads under one pass per batch (the default)
 *   shards  T shards per step, each on its own OpenMP thread with one BLAS
 *           thread, each owning a block of every layer's weight rows
 *           (nt_train's cfg.shards, shards.h); the GEMM-only side replays
 *           each shard's GEMMs on its own thread, with the step's barriers
 *   shards-shared  the same nntune epoch; the GEMM-only side's threads
 *           also write their rows of the weights after each batch, as the
 *           optimizer does in a sharded step, so the rows every shard's dx
 *           reads cross between the cores (the part of a sharded epoch
 *           that is the cores passing data, not nntune's own code)
 *
 * The nntune epoch's first layer (--first-layer):
 *   gemm    on GEMMs like the other layers (the default here, so that the
 *           ratio is nntune's overhead around the GEMMs it makes)
 *   sparse  what nntune does by default: a batch that is mostly zero
 *           (MNIST's is 19% non-zero) multiplies only its non-zero pixels
 *           (sparse.h); the GEMM-only side stays the all-GEMM epoch, so the
 *           ratio is below 1 by what the sparse layer saves
 *
 * Usage (run from the repository root; see benchmarks/run.sh):
 *   bench_epoch [--batches 32,64,128,512] [--threads 1,2] [--runs 3]
 *               [--parallel blas|shards|shards-shared] [--csv FILE]
 *               [--data mnist] [--first-layer gemm|sparse]
 *   bench_epoch --info                 machine and OpenBLAS, "key: value"
 *   bench_epoch --profile-epochs N [--batches 128] [--threads 1]
 *                                      N epochs of nt_train only, for perf
 *   --no-gemm                          skip the GEMM-only timing (run.sh
 *                                      runs two such processes at once to
 *                                      compare jobs against BLAS threads)
 *
 * --csv appends one row per (threads, batch) and writes the header first
 * when the file is new or empty. OPENBLAS_CORETYPE is read by OpenBLAS when
 * the library loads, so a different kernel set means running this program
 * again with the variable set (run.sh does so for SkylakeX).
 */
#define _POSIX_C_SOURCE 200809L

#include <cblas.h>
#include <omp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_args.h"
#include "nntune/dataset.h"
#include "nntune/net.h"
#include "nntune/shards.h"
#include "nntune/split.h"
#include "nntune/stats.h"
#include "nntune/train.h"

#define MAX_LIST 16

/* The benchmarked network: 784-256-128-10, ReLU, dropout 0.2. */
static nt_arch bench_arch(void)
{
    nt_arch a = {0};
    a.n_in = 784;
    a.n_out = 10;
    a.n_hidden = 2;
    a.hidden[0] = 256;
    a.hidden[1] = 128;
    a.act = NT_ACT_RELU;
    a.dropout = 0.2f;
    return a;
}

/* ---- machine and library description ---------------------------------- */

static void cpu_model(char *model, size_t len, int *cpus, int *avx512)
{
    snprintf(model, len, "unknown");
    *cpus = 0;
    *avx512 = 0;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[4096];
    bool have_model = false;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "processor", 9) == 0) (*cpus)++;
        if (!have_model && strncmp(line, "model name", 10) == 0) {
            const char *c = strchr(line, ':');
            if (c) {
                c += c[1] == ' ' ? 2 : 1;
                snprintf(model, len, "%s", c);
                model[strcspn(model, "\n")] = '\0';
                have_model = true;
            }
        }
        if (strncmp(line, "flags", 5) == 0 && strstr(line, " avx512f")) *avx512 = 1;
    }
    fclose(f);
}

/* One line of /sys's text for cache `index` of CPU 0, without its newline;
 * false when it is not there. */
static bool cache_field(int index, const char *field, char *out, size_t len)
{
    char path[128];
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/%s", index, field);
    FILE *f = fopen(path, "r");
    if (!f) return false;
    bool ok = fgets(out, (int)len, f) != NULL;
    fclose(f);
    if (ok) out[strcspn(out, "\n")] = '\0';
    return ok;
}

/* CPU 0's caches as Linux lists them, "L2 1024K, L3 32768K (CPUs 0-1)":
 * the data and unified ones, with the CPUs that share each when more
 * than CPU 0 do. The grid's speed against its peers moves with them
 * (benchmarks/README.md item 37). */
static void print_caches(void)
{
    char line[512] = "", level[16], type[32], size[32], shared[64];
    for (int i = 0; i < 16 && cache_field(i, "level", level, sizeof level); i++) {
        if (!cache_field(i, "type", type, sizeof type) || strcmp(type, "Instruction") == 0 ||
            !cache_field(i, "size", size, sizeof size))
            continue;
        char one[160];
        const bool alone = !cache_field(i, "shared_cpu_list", shared, sizeof shared) ||
                           strcmp(shared, "0") == 0;
        snprintf(one, sizeof one, "%sL%s %s%s%s%s", line[0] ? ", " : "", level, size,
                 alone ? "" : " (CPUs ", alone ? "" : shared, alone ? "" : ")");
        strncat(line, one, sizeof line - strlen(line) - 1);
    }
    printf("caches: %s\n", line[0] ? line : "unknown");
}

static void print_info(void)
{
    char model[256];
    int cpus, avx512;
    cpu_model(model, sizeof model, &cpus, &avx512);
    const char *ct = getenv("OPENBLAS_CORETYPE");
    const char *nt = getenv("OPENBLAS_NUM_THREADS");
    printf("cpu: %s\n", model);
    printf("logical cpus: %d\n", cpus);
    printf("avx512f: %s\n", avx512 ? "yes" : "no");
    print_caches();
    printf("openblas config: %s\n", openblas_get_config());
    printf("openblas core: %s\n", openblas_get_corename());
    printf("openblas procs: %d\n", openblas_get_num_procs());
    printf("OPENBLAS_CORETYPE: %s\n", ct ? ct : "(unset)");
    printf("OPENBLAS_NUM_THREADS: %s\n", nt ? nt : "(unset)");
}

/* ---- (a) the real epoch through nt_train -------------------------------- */

typedef struct {
    double median, min, max;  /* wall seconds over the timed runs */
    double cpu;               /* median process CPU seconds (all threads) */
} timing;

// Process CPU time: with one BLAS thread it is immune to other processes
// taking the core away (wall time is not); with two it also counts
// OpenBLAS's spinning worker, so it is only a cross-check.
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static timing summarize(const double *t, const double *cpu, int runs)
{
    timing s = {0};
    s.cpu = nt_median(cpu, runs);
    s.min = s.max = t[0];
    for (int i = 1; i < runs; i++) {
        if (t[i] < s.min) s.min = t[i];
        if (t[i] > s.max) s.max = t[i];
    }
    s.median = nt_median(t, runs);
    return s;
}

/* The real epoch through nt_train, set up once and run as often as asked,
 * each run from the same initial weights and RNG state so every run does
 * identical work. */
typedef struct {
    nt_net net;
    float *init;             /* (n_params) the initial weights */
    nt_train_config cfg;
    nt_view all;
} train_run;

static void train_run_free(train_run *tr)
{
    nt_free(tr->init);
    nt_net_free(&tr->net);
    memset(tr, 0, sizeof *tr);
}

static nt_status train_run_init(train_run *tr, const nt_dataset *ds, int batch, int shards,
                                int epochs, bool sparse)
{
    memset(tr, 0, sizeof *tr);
    nt_arch a = bench_arch();
    nt_rng rng;
    nt_rng_seed(&rng, 1);
    nt_status rc = nt_net_init(&a, batch, &rng, &tr->net);
    if (rc != NT_OK) return rc;
    nt_net_set_sparse(&tr->net, sparse ? NT_SPARSE_MAX_DENSITY : 0.0);
    if (!(tr->init = nt_alloc(tr->net.n_params * sizeof *tr->init))) {
        train_run_free(tr);
        return NT_ERR_NOMEM;
    }
    memcpy(tr->init, tr->net.params, tr->net.n_params * sizeof *tr->init);
    tr->cfg = nt_train_defaults();  // Adam lr 1e-3, no L2
    tr->cfg.epochs = epochs;
    tr->cfg.batch = batch;
    tr->cfg.patience = 0;
    tr->cfg.shards = shards;
    tr->all = nt_view_all(ds);
    return NT_OK;
}

static nt_status train_run_once(train_run *tr, double *wall, double *cpu)
{
    memcpy(tr->net.params, tr->init, tr->net.n_params * sizeof *tr->init);
    nt_rng rng;
    nt_rng_seed(&rng, 2);
    nt_history h = {0};
    double t0 = nt_now(), c0 = cpu_now();
    nt_status rc = nt_train(&tr->net, &tr->cfg, &tr->all, NULL, &rng, NULL, NULL, &h);
    *wall = nt_now() - t0;
    *cpu = cpu_now() - c0;
    nt_history_free(&h);
    return rc;
}

/* ---- (b) the same epoch's GEMMs alone ----------------------------------- */

typedef struct {
    int L;                  /* layers */
    int in[3], out[3];
    float *x;               /* (B, 784) the gathered batch */
    float *W[3];            /* (out, in) */
    float *dW[3];           /* (out, in) */
    float *y[3];            /* (B, out) layer outputs; y[l] feeds layer l+1 */
    float *dy[3];           /* (B, out) gradient at layer l's output */
} gemm_bufs;

static void gemm_free(gemm_bufs *g)
{
    nt_free(g->x);
    for (int l = 0; l < 3; l++) {
        nt_free(g->W[l]);
        nt_free(g->dW[l]);
        nt_free(g->y[l]);
        nt_free(g->dy[l]);
    }
    memset(g, 0, sizeof *g);
}

// Values of the magnitude training sees (pixels in [0,1], weights ~ 0.05,
// gradients ~ 1e-3), so no denormals or overflow slow anything down.
static void fill(float *p, size_t n, float scale, nt_rng *rng)
{
    for (size_t i = 0; i < n; i++) p[i] = scale * (float)nt_rng_uniform(rng);
}

static nt_status gemm_init(gemm_bufs *g, int Bmax)
{
    memset(g, 0, sizeof *g);
    nt_arch a = bench_arch();
    g->L = a.n_hidden + 1;
    nt_rng rng;
    nt_rng_seed(&rng, 3);
    for (int l = 0; l < g->L; l++) {
        g->in[l] = l == 0 ? a.n_in : a.hidden[l - 1];
        g->out[l] = l == a.n_hidden ? a.n_out : a.hidden[l];
    }
    size_t B = (size_t)Bmax;
    g->x = nt_alloc(B * (size_t)g->in[0] * sizeof(float));
    if (!g->x) return NT_ERR_NOMEM;
    fill(g->x, B * (size_t)g->in[0], 1.0f, &rng);
    for (int l = 0; l < g->L; l++) {
        size_t nw = (size_t)g->out[l] * (size_t)g->in[l], ny = B * (size_t)g->out[l];
        g->W[l] = nt_alloc(nw * sizeof(float));
        g->dW[l] = nt_alloc(nw * sizeof(float));
        g->y[l] = nt_alloc(ny * sizeof(float));
        g->dy[l] = nt_alloc(ny * sizeof(float));
        if (!g->W[l] || !g->dW[l] || !g->y[l] || !g->dy[l]) return NT_ERR_NOMEM;
        fill(g->W[l], nw, 0.1f, &rng);
        fill(g->dy[l], ny, 1e-3f, &rng);
    }
    return NT_OK;
}

/* Exactly the cblas_sgemm calls of nt_net_forward + nt_net_backward for one
 * batch of B rows (dense.c): forward layer by layer, backward from the top,
 * dW and dx overwriting (beta 0). */
static void gemm_batch(gemm_bufs *g, int B)
{
    for (int l = 0; l < g->L; l++) {
        const float *x = l == 0 ? g->x : g->y[l - 1];
        int in = g->in[l], out = g->out[l];
        // x (B, in), W (in, out): y = x W is (B, out)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, out, in,
                    1.0f, x, in, g->W[l], out, 0.0f, g->y[l], out);
    }
    for (int l = g->L - 1; l >= 0; l--) {
        const float *x = l == 0 ? g->x : g->y[l - 1];
        int in = g->in[l], out = g->out[l];
        // dW (in, out) = x^T (in, B) dy (B, out)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, out, B,
                    1.0f, x, in, g->dy[l], out, 0.0f, g->dW[l], out);
        // dx (B, in) = dy (B, out) W^T (out, in), written where layer l-1's dy is
        if (l > 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, in, out,
                        1.0f, g->dy[l], out, g->W[l], out, 0.0f, g->dy[l - 1], in);
    }
}

/* FLOPs of one batch of B rows (2 per multiply-add). */
static double gemm_flops(const gemm_bufs *g, int B)
{
    double f = 0;
    for (int l = 0; l < g->L; l++) {
        double mn = 2.0 * B * g->in[l] * g->out[l];
        f += mn * (l > 0 ? 3 : 2);
    }
    return f;
}

/* Shard k's cblas_sgemm calls of one nt_shards_step over B rows (shards.c,
 * dense.c), all shards on g[0]'s activations, weights and gradients, and
 * each on its own partial sums (g[k].y, k > 0): per layer the partial
 * product of its rows of W, then from the top its rows of dW and its rows
 * of the batch's dx, with a barrier after each layer as the step has. The
 * step's own work between them (adding the partial sums up, bias,
 * activation, dropout, softmax, the optimizer) is left out. */
static void gemm_shard_batch(gemm_bufs *g, int shards, int k, int B)
{
    gemm_bufs *w = &g[0];
    int r0, rows;
    nt_shard_rows(B, shards, k, &r0, &rows);
    for (int l = 0; l < w->L; l++) {
        const float *x = l == 0 ? w->x : w->y[l - 1];
        int in = w->in[l], out = w->out[l], i0, i1;
        nt_shard_inputs(in, shards, k, &i0, &i1);
        if (i0 < i1)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, out, i1 - i0, 1.0f,
                        x + i0, in, w->W[l] + (size_t)i0 * out, out, 0.0f,
                        k == 0 ? w->y[l] : g[k].y[l], out);
        #pragma omp barrier
    }
    for (int l = w->L - 1; l >= 0; l--) {
        const float *x = l == 0 ? w->x : w->y[l - 1];
        int in = w->in[l], out = w->out[l], i0, i1;
        nt_shard_inputs(in, shards, k, &i0, &i1);
        if (i0 < i1)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, i1 - i0, out, B, 1.0f,
                        x + i0, in, w->dy[l], out, 0.0f, w->dW[l] + (size_t)i0 * out, out);
        if (l == 0) break;
        if (rows > 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, in, out, 1.0f,
                        w->dy[l] + (size_t)r0 * out, out, w->W[l], out, 0.0f,
                        w->dy[l - 1] + (size_t)r0 * in, in);
        #pragma omp barrier
    }
}

// One epoch's GEMMs; with shards > 1, each of `shards` OpenMP threads
// replays its part of every batch as nt_shards_step cuts it (single-threaded
// BLAS, like nt_train's shards). With `shared`, each thread also writes its
// rows of the weights after each batch, as the optimizer does, so the rows
// the other shards' dx read cross between the cores every step.
static void gemm_epoch(gemm_bufs *g, int shards, bool shared, size_t n, int batch)
{
    #pragma omp parallel num_threads(shards) if (shards > 1)
    {
        const int k = omp_get_thread_num();
        for (size_t start = 0; start < n; start += (size_t)batch) {
            int B = (int)(n - start < (size_t)batch ? n - start : (size_t)batch);
            if (shards == 1) {
                gemm_batch(&g[0], B);
                continue;
            }
            gemm_shard_batch(g, shards, k, B);
            if (shared)
                for (int l = 0; l < g[0].L; l++) {
                    int i0, i1;
                    nt_shard_inputs(g[0].in[l], shards, k, &i0, &i1);
                    float *restrict w = g[0].W[l];
                    const float *restrict dw = g[0].dW[l];
                    #pragma omp simd
                    for (size_t i = (size_t)i0 * g[0].out[l]; i < (size_t)i1 * g[0].out[l]; i++)
                        w[i] -= 1e-9f * dw[i];  // a tiny step
                }
            #pragma omp barrier
        }
    }
}

/* The GEMM-only epoch, set up once (shards' buffers) and run as often as
 * asked. */
typedef struct {
    gemm_bufs g[NT_MAX_SHARDS];
    int shards, batch;
    bool shared;
    size_t n;
    double flops;            /* an epoch's */
} gemm_run;

static void gemm_run_free(gemm_run *gr)
{
    for (int k = 0; k < NT_MAX_SHARDS; k++) gemm_free(&gr->g[k]);
}

static nt_status gemm_run_init(gemm_run *gr, size_t n, int batch, int shards, bool shared)
{
    memset(gr, 0, sizeof *gr);
    gr->shards = shards;
    gr->batch = batch;
    gr->shared = shared;
    gr->n = n;
    nt_status rc = NT_OK;
    for (int k = 0; k < shards && rc == NT_OK; k++) rc = gemm_init(&gr->g[k], batch);
    if (rc != NT_OK) {
        gemm_run_free(gr);
        return rc;
    }
    for (size_t start = 0; start < n; start += (size_t)batch)
        gr->flops += gemm_flops(&gr->g[0], (int)(n - start < (size_t)batch ? n - start
                                                                          : (size_t)batch));
    return NT_OK;
}

static void gemm_run_once(gemm_run *gr, double *wall, double *cpu)
{
    double t0 = nt_now(), c0 = cpu_now();
    gemm_epoch(gr->g, gr->shards, gr->shared, gr->n, gr->batch);
    *wall = nt_now() - t0;
    *cpu = cpu_now() - c0;
}

/* One untimed warm-up of each, then `runs` timed pairs: nntune's epoch and
 * right after it the GEMM-only one, so that a machine that slows down or
 * speeds up meanwhile moves both sides of a pair alike. The ratio is the
 * median of the pairs' ratios. */
static nt_status bench_pairs(const nt_dataset *ds, int batch, int shards, bool shared,
                             bool sparse, bool with_gemm, int runs, timing *tn, timing *tg,
                             double *ratio, double *gflops)
{
    train_run tr;
    gemm_run gr = {0};
    nt_status rc = train_run_init(&tr, ds, batch, shards, 1, sparse);
    if (rc == NT_OK && with_gemm) rc = gemm_run_init(&gr, ds->n, batch, shards, shared);
    double t[MAX_LIST], c[MAX_LIST], gt[MAX_LIST], gc[MAX_LIST], r[MAX_LIST], w, u;
    for (int i = -1; i < runs && rc == NT_OK; i++) {
        rc = train_run_once(&tr, i >= 0 ? &t[i] : &w, i >= 0 ? &c[i] : &u);
        if (with_gemm) gemm_run_once(&gr, i >= 0 ? &gt[i] : &w, i >= 0 ? &gc[i] : &u);
        if (i >= 0) r[i] = with_gemm ? t[i] / gt[i] : NAN;
    }
    if (rc == NT_OK) {
        *tn = summarize(t, c, runs);
        *ratio = with_gemm ? nt_median(r, runs) : NAN;
        if (with_gemm) {
            *tg = summarize(gt, gc, runs);
            *gflops = gr.flops / tg->median * 1e-9;
        }
    }
    train_run_free(&tr);
    gemm_run_free(&gr);
    return rc;
}

/* ---- main --------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_epoch [--batches 32,64,128,512] [--threads 1,2] [--runs 3]\n"
               "                   [--parallel blas|shards|shards-shared] [--csv FILE]\n"
               "                   [--data mnist] [--first-layer gemm|sparse]\n"
               "                   [--no-gemm]\n"
               "       bench_epoch --info\n"
               "       bench_epoch --profile-epochs N [--batches 128] [--threads 1]\n");
}

static FILE *open_csv(const char *path)
{
    FILE *f = fopen(path, "a");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    if (ftell(f) == 0)
        fprintf(f, "coretype,corename,parallel,threads,blas_threads,batch,steps,nntune_s,nntune_min_s,"
                   "nntune_max_s,gemm_s,gemm_min_s,ratio,non_gemm_share,gemm_gflops,"
                   "nntune_images_per_s,nntune_cpu_s,gemm_cpu_s,first_layer\n");
    return f;
}

int main(int argc, char **argv)
{
    int batches[MAX_LIST] = {32, 64, 128, 512}, nb = 4;
    int threads[MAX_LIST] = {1, 2}, nth = 2;
    int runs = 3, profile_epochs = 0;
    bool no_gemm = false, sharded = false, shared = false, sparse = false;
    const char *csv = NULL, *data = "mnist";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--info") == 0) {
            print_info();
            return 0;
        } else if (strcmp(a, "--batches") == 0 && v) {
            nb = parse_list(v, batches, MAX_LIST), i++;
        } else if (strcmp(a, "--threads") == 0 && v) {
            nth = parse_list(v, threads, MAX_LIST), i++;
        } else if (strcmp(a, "--runs") == 0 && v) {
            runs = atoi(v), i++;
        } else if (strcmp(a, "--profile-epochs") == 0 && v) {
            profile_epochs = atoi(v), i++;
        } else if (strcmp(a, "--parallel") == 0 && v &&
                   (!strcmp(v, "blas") || !strcmp(v, "shards") || !strcmp(v, "shards-shared"))) {
            sharded = strcmp(v, "blas") != 0;
            shared = !strcmp(v, "shards-shared"), i++;
        } else if (strcmp(a, "--first-layer") == 0 && v &&
                   (strcmp(v, "gemm") == 0 || strcmp(v, "sparse") == 0)) {
            sparse = strcmp(argv[++i], "sparse") == 0;
        } else if (strcmp(a, "--no-gemm") == 0) {
            no_gemm = true;
        } else if (strcmp(a, "--csv") == 0 && v) {
            csv = v, i++;
        } else if (strcmp(a, "--data") == 0 && v) {
            data = v, i++;
        } else {
            usage(stderr);
            return 2;
        }
    }
    bool threads_ok = true;
    for (int i = 0; i < nth; i++) threads_ok &= threads[i] <= NT_MAX_SHARDS;
    if (nb < 1 || nth < 1 || !threads_ok || runs < 1 || runs > MAX_LIST || profile_epochs < 0) {
        usage(stderr);
        return 2;
    }

    nt_dataset train = {0}, test = {0};
    if (nt_data_open(data, NULL, &train, &test) != NT_OK) {
        fprintf(stderr, "bench_epoch: %s\n", nt_last_error());
        return 1;
    }
    nt_dataset_free(&test);

    if (profile_epochs > 0) {
        openblas_set_num_threads(sharded ? 1 : threads[0]);
        omp_set_num_threads(threads[0]);
        train_run tr;
        double wall = NAN, cpu;
        nt_status rc = train_run_init(&tr, &train, batches[0], sharded ? threads[0] : 1,
                                      profile_epochs, sparse);
        if (rc == NT_OK) rc = train_run_once(&tr, &wall, &cpu);
        train_run_free(&tr);
        if (rc == NT_OK)
            printf("profile: %d epochs at batch %d, %d thread(s) (%s): %.3f s\n",
                   profile_epochs, batches[0], threads[0], sharded ? "shards" : "blas", wall);
        nt_dataset_free(&train);
        return rc == NT_OK ? 0 : 1;
    }

    FILE *out = csv ? open_csv(csv) : NULL;
    if (csv && !out) {
        fprintf(stderr, "bench_epoch: cannot open %s\n", csv);
        nt_dataset_free(&train);
        return 1;
    }
    const char *ct = getenv("OPENBLAS_CORETYPE");
    const char *core = openblas_get_corename();
    printf("%zu images, OpenBLAS core %s (OPENBLAS_CORETYPE=%s), median of %d runs "
           "(ratio: of %d nntune/GEMM-only pairs), "
           "threads as %s, first layer on %s\n", train.n, core, ct ? ct : "unset", runs, runs,
           shared    ? "shards, GEMM-only on shared weights updated each batch"
           : sharded ? "shards (one BLAS thread each)" : "BLAS threads",
           sparse ? "its non-zero inputs (sparse.h)" : "GEMMs");
    printf("%7s %6s %6s %10s %10s %7s %9s %8s %9s %9s\n", "threads", "batch", "steps",
           "nntune s", "gemm s", "ratio", "non-gemm", "GFLOP/s", "nt cpu s", "gemm cpu");
    int status = 0;
    for (int ti = 0; ti < nth && !status; ti++) {
        int T = threads[ti], shards = sharded ? T : 1;
        openblas_set_num_threads(sharded ? 1 : T);
        omp_set_num_threads(T);
        for (int bi = 0; bi < nb && !status; bi++) {
            int B = batches[bi];
            long steps = (long)((train.n + (size_t)B - 1) / (size_t)B);
            timing tn, tg = {NAN, NAN, NAN, NAN};
            double gf = NAN, ratio = NAN;
            nt_status rc = bench_pairs(&train, B, shards, shared && shards > 1, sparse, !no_gemm,
                                       runs, &tn, &tg, &ratio, &gf);
            if (rc != NT_OK) {
                fprintf(stderr, "bench_epoch: batch %d: %s\n", B, nt_last_error());
                status = 1;
                break;
            }
            double share = 1.0 - 1.0 / ratio;
            printf("%7d %6d %6ld %10.3f %10.3f %7.2f %8.1f%% %8.1f %9.3f %9.3f\n",
                   T, B, steps, tn.median, tg.median, ratio,
                   100 * share, gf, tn.cpu, tg.cpu);
            fflush(stdout);
            if (out)
                fprintf(out, "%s,%s,%s,%d,%d,%d,%ld,%.4f,%.4f,%.4f,%.4f,%.4f,%.3f,%.3f,%.2f,%.0f,"
                             "%.4f,%.4f,%s\n",
                        ct ? ct : "unset", core,
                        shared ? "shards-shared" : sharded ? "shards" : "blas", T,
                        openblas_get_num_threads(), B, steps,
                        tn.median, tn.min, tn.max, tg.median, tg.min, ratio, share, gf,
                        (double)train.n / tn.median, tn.cpu, tg.cpu, sparse ? "sparse" : "gemm");
        }
    }
    if (out) fclose(out);
    nt_dataset_free(&train);
    return status;
}
