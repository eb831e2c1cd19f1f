/* shards.h - data parallelism inside one training step. The batch is cut
 * into n blocks of consecutive rows ("shards"); each block runs forward and
 * backward on its own OpenMP thread through its own replica of the network
 * (the parameters shared, the gradients and workspace its own), and the
 * blocks' gradients are then summed, in shard order, into the network's
 * grads. BLAS must be single-threaded meanwhile (nt_train sees to it): the
 * cores belong to the shards.
 *
 * Why: at these layer sizes one BLAS thread per half batch beats one GEMM
 * on two BLAS threads (OpenBLAS splits small GEMMs poorly and the rest of
 * the step - bias, activation, dropout, softmax - would run on one core);
 * see benchmarks/results.md, section 1.
 *
 * The result depends on n (each GEMM sums over fewer rows and the blocks'
 * sums are added afterwards) but never on timing or on how many threads
 * OpenMP actually grants: each shard is the same computation wherever it
 * runs. Dropout masks are exactly those of the undivided batch. */
#ifndef NNTUNE_SHARDS_H
#define NNTUNE_SHARDS_H

#include "nntune/net.h"

#define NT_MAX_SHARDS 64

typedef struct {
    int n;                          /* shards, 1..NT_MAX_SHARDS */
    nt_net *net;                    /* borrowed: shard 0; its grads get the sum */
    nt_net rep[NT_MAX_SHARDS];      /* rep[1..n-1]: replicas of net */
} nt_shards;

/* Set up n shards over net (n = 1: the plain net, no replicas). */
nt_status nt_shards_init(nt_shards *s, nt_net *net, int n);
void nt_shards_free(nt_shards *s);

/* Blocks that get at least one row of a batch of B: min(B, n). */
int nt_shards_active(const nt_shards *s, int B);

/* Rows of block k when B rows are cut into n blocks: the first B % n blocks
 * get one row more, so block 0 is never empty. */
void nt_shard_rows(int B, int n, int k, int *row0, int *rows);

typedef struct {
    double loss_sum;   /* the block's summed cross-entropy */
    size_t correct;    /* its rows whose most probable class is the label */
} nt_shard_result;

/* Block k (< nt_shards_active) of one training step over the batch x (B,
 * n_in), y (B), B <= net->max_batch: forward with the batch's dropout seeds
 * (nt_net_dropout_seeds; NULL for none) and backward, into block k's own
 * grads (block 0's are net->grads, with the l2 term; the others' without).
 * Blocks of one step may run at the same time on different threads. */
nt_shard_result nt_shard_pass(nt_shards *s, int k, const float *x, const int32_t *y,
                              int B, float l2, const uint64_t *seeds);

/* net->grads[lo..hi) += the other active blocks' grads, added in block
 * order whoever runs the slice; slices may run at the same time. After all
 * slices, net->grads is the whole batch's gradient as nt_net_backward
 * defines it. */
void nt_shards_sum(nt_shards *s, int active, size_t lo, size_t hi);

/* What a caller's threads do in a step besides the passes (nt_train's
 * batch gather and optimizer); either may be NULL. */
typedef struct {
    /* On block k's thread, before its pass: put rows row0..row0+rows-1 of
     * the batch into the x and y the step reads. */
    void (*gather)(void *user, int row0, int rows);
    /* Once net->grads[lo..hi) holds the summed gradient, when the batch's
     * loss is finite: e.g. the optimizer on that slice. Slices run on
     * different threads at once. */
    void (*update)(void *user, size_t lo, size_t hi);
    void *user;
} nt_shard_hooks;

/* All of it for one batch, in one parallel region: dropout seeds drawn
 * from rng as nt_net_forward(train) draws them, each block gathered (hook)
 * and passed, then the gradients summed into net->grads and updated (hook)
 * slice by slice. Returns the batch's mean cross-entropy (NaN or Inf when
 * the pass diverged: no update is made) and adds the rows classified right
 * to *correct. hooks may be NULL. */
float nt_shards_step(nt_shards *s, const float *x, const int32_t *y, int B,
                     float l2, nt_rng *rng, size_t *correct, const nt_shard_hooks *hooks);

#endif
