/* shards.h - one training step split between threads by the weights'
 * rows. Each of n shards owns a slice of every layer's inputs: a block of
 * consecutive rows of W (its inputs' outgoing weights), their gradient and
 * their optimizer state, all contiguous in memory. Per layer:
 *   forward   each shard multiplies its inputs' columns of x by its rows of
 *             W, a partial sum of the whole output; after a barrier each
 *             shard adds the partial sums up for its block of the batch's
 *             rows, with bias, activation and dropout (the output layer:
 *             softmax, loss and dL/dlogits);
 *   backward  each shard computes dW for its rows of W from the whole dy,
 *             and dx for its block of the batch's rows from the whole W;
 *             after a barrier, each updates its rows of W (hook).
 * Only activations and their gradients pass between the cores (B x units
 * floats a layer); the weights, which are far bigger, stay with their
 * shard. So does the batch: each shard gathers its inputs' columns of x
 * itself (hook) into a buffer of its own, and marks their non-zero values
 * (sparse.h) in its own nt_sparse, which only it reads. (Gathered into one
 * x shared by all, each row's columns were cut between the cores, and a
 * sharded step ran 2-3% slower: benchmarks/README.md, item 16.) Other
 * layers' inputs are cut at equal counts; the first layer's where the
 * previous batch's work (group_work) splits evenly (the sparse products'
 * time follows it, and a batch's must be cut before it is gathered), or at
 * equal counts when that batch ran on GEMMs.
 * Cuts fall at multiples of 16.
 *
 * Why not row blocks of the batch, the design before this one: each core
 * then computes a full gradient that has to be summed, and reads and writes
 * every weight each step, so the weights cross between the cores twice a
 * step. And why not slices of each layer's units (columns of W): two cores
 * writing interleaved 512-byte pieces of the same rows run 8x slower than
 * on contiguous halves (the cores' prefetchers fetch each other's lines;
 * benchmarks/README.md, "shards"). See benchmarks/results.md, section 1.
 *
 * BLAS must be single-threaded meanwhile (nt_train sees to it): the cores
 * belong to the shards. The result depends on n (a layer's sums are cut
 * into n partial sums) and on nothing else: not on timing, nor on how many
 * threads OpenMP grants. Dropout masks are exactly those of the whole
 * batch. */
#ifndef NNTUNE_SHARDS_H
#define NNTUNE_SHARDS_H

#include "nntune/net.h"

#define NT_MAX_SHARDS 64

typedef struct {
    int n;                       /* shards, 1..NT_MAX_SHARDS; 1 when the net
                                    has no hidden layer */
    nt_net *net;                 /* borrowed */
    float *x[NT_MAX_SHARDS];     /* x[1..n-1]: (max_batch, n_in) where a
                                    gather hook puts shards 1..n-1's
                                    columns of the batch (shard 0's go to
                                    the step's x) */
    float *part[NT_MAX_SHARDS];  /* part[1..n-1]: (max_batch, widest layer)
                                    partial sums of shards 1..n-1 (shard 0
                                    writes into the layer's output) */
    nt_sparse sparse[NT_MAX_SHARDS]; /* sparse[1..n-1]: shards 1..n-1's
                                    inputs of the batch (shard 0 uses the
                                    net's), when the build has the kernels */
    int cut[NT_MAX_SHARDS + 1];  /* the next batch's first-layer input cuts */
    bool ran_sparse;             /* whether the last step's first layer
                                    took the non-zero inputs only */
} nt_shards;

/* Set up n shards over net. NT_ERR_ARG when n is out of range,
 * NT_ERR_NOMEM. */
nt_status nt_shards_init(nt_shards *s, nt_net *net, int n);
void nt_shards_free(nt_shards *s);

/* Rows of block k when B rows are cut into n blocks: the first B % n blocks
 * get one row more, so block 0 is never empty when B >= n. */
void nt_shard_rows(int B, int n, int k, int *row0, int *rows);

/* Shard k's inputs [*i0, *i1) of a layer of `in` inputs cut n ways in equal
 * counts, at multiples of 16: consecutive, covering the layer, possibly
 * empty. */
void nt_shard_inputs(int in, int n, int k, int *i0, int *i1);

/* What a caller's threads do in a step besides the layers (nt_train's
 * batch gather and optimizer), and what it knows of the batch; each may be
 * NULL. */
typedef struct {
    /* Before the forward pass, on the thread that runs shard k: put
     * inputs i0..i1-1 (shard k's) of every row of the batch into x (B,
     * n_in), the buffer shard k reads them from (the step's x for shard 0,
     * its own for the others; the other columns there are not read), and
     * the labels of rows row0..row0+rows-1 (shard k's block) into the
     * step's y. */
    void (*gather)(void *user, float *x, int i0, int i1, int row0, int rows);
    /* Once net->grads[lo..hi) holds the batch's gradient, when the batch's
     * loss is finite: e.g. the optimizer on that slice. Slices run on
     * different threads at once, and together cover every parameter once;
     * params outside them may still be read by other shards meanwhile. */
    void (*update)(void *user, size_t lo, size_t hi);
    void *user;
    /* The batch's rows as bytes, zero exactly where x is
     * (nt_view_gather_bytes), from which each shard finds its inputs'
     * non-zero values; or NULL. A gather hook may fill them, each shard
     * its block of rows: the shards read them only after every gather. */
    const uint8_t *const *rows;
    /* Optional, once the next batch's cuts are known, on the thread that
     * runs shard k: start loading inputs i0..i1-1 (shard k's in the next
     * batch) of the next batch's rows, which it will gather. A hint: it
     * changes no result. */
    void (*prefetch)(void *user, int i0, int i1);
} nt_shard_hooks;

/* One training step over the batch x (B, n_in), y (B), B <=
 * net->max_batch, in one parallel region: dropout seeds drawn from rng as
 * nt_net_forward(train) draws them, the batch gathered (hook: x then
 * holds shard 0's columns of it, and no other; without one, every shard
 * reads x), forward and backward into net->grads (the whole batch's
 * gradient without an L2 term, as nt_net_backward(l2 = 0) defines it),
 * then updated (hook) slice by slice. Returns the batch's mean
 * cross-entropy (NaN or Inf when the pass diverged: no update is made) and
 * adds the rows classified right to *correct. hooks may be NULL. */
float nt_shards_step(nt_shards *s, float *x, const int32_t *y, int B,
                     nt_rng *rng, size_t *correct, const nt_shard_hooks *hooks);

#endif
