/* net.h - a dense feed-forward classifier: n_in -> hidden layers -> n_out.
 * Each hidden layer is Dense + activation (+ inverted Dropout while
 * training); the output layer is Dense + softmax, trained with fused softmax
 * cross-entropy. The network owns one parameter block, one gradient block
 * of the same layout, and a workspace sized once for max_batch rows:
 * nothing is allocated per batch.
 *
 * Parameter layout, layer after layer: W (in, out) row-major, then b (out)
 * (dense.h: a zero input skips a row of W). Model files keep W as (out, in),
 * the layout of PyTorch's nn.Linear: nt_net_export_params converts.
 * A first layer whose batch is mostly zero (NT_SPARSE_MAX_DENSITY) runs on
 * its non-zero inputs only (sparse.h); others run on GEMMs.
 * Initialization: He normal (std sqrt(2/in)) for ReLU, Glorot uniform
 * (limit sqrt(6/(in+out))) for tanh and sigmoid and for the output layer;
 * biases zero. */
#ifndef NNTUNE_NET_H
#define NNTUNE_NET_H

#include "nntune/common.h"
#include "nntune/rng.h"
#include "nntune/sparse.h"

#define NT_MAX_HIDDEN 8

typedef enum { NT_ACT_RELU = 0, NT_ACT_TANH = 1, NT_ACT_SIGMOID = 2 } nt_act;

/* The architecture: everything needed to rebuild the network's shape. */
typedef struct {
    int n_in;                   /* features, e.g. 784 */
    int n_out;                  /* classes, e.g. 10 */
    int n_hidden;               /* hidden layers, 0..NT_MAX_HIDDEN */
    int hidden[NT_MAX_HIDDEN];  /* units of each hidden layer */
    nt_act act;                 /* activation of every hidden layer */
    float dropout;              /* drop probability after each hidden act, [0,1) */
} nt_arch;

/* One layer's place in the parameter block. */
typedef struct {
    int in, out;
    size_t w;   /* offset of W (in, out) in params/grads */
    size_t b;   /* offset of b (out) */
} nt_layer;

typedef struct {
    nt_arch arch;
    int n_layers;                     /* n_hidden + 1 */
    nt_layer layer[NT_MAX_HIDDEN + 1];
    size_t n_params;
    float *params;                    /* (n_params) owned */
    float *grads;                     /* (n_params) owned, same layout */
    int max_batch;
    /* workspace, sized for max_batch rows; see net.c for the shapes */
    float *act[NT_MAX_HIDDEN + 2];    /* act[0] unused (input is borrowed);
                                         act[l+1] is layer l's output */
    uint8_t *mask[NT_MAX_HIDDEN];     /* dropout keep masks of hidden layers */
    float *delta[2];                  /* two (max_batch, widest) buffers */
    const float *input;               /* borrowed: last forward's x */
    int last_batch;
    double sparse_max_density;        /* the first layer goes sparse at or
                                         below this density; 0: never */
    nt_sparse sparse;                 /* the last forward's x, when sparse */
    bool input_sparse;                /* whether the last forward used it */
} nt_net;

/* Check an architecture: sizes positive, n_hidden in range, dropout in
 * [0,1). NT_ERR_ARG with a message naming the bad field. */
nt_status nt_arch_check(const nt_arch *a);

/* Build a network and initialize its weights from rng. max_batch >= 1. */
nt_status nt_net_init(const nt_arch *a, int max_batch, nt_rng *rng, nt_net *out);

/* Free everything; safe on a zeroed or freed net. */
void nt_net_free(nt_net *net);

/* Forward pass of B <= max_batch rows. x is (B, n_in), borrowed until the
 * next forward. Returns the (B, n_out) class probabilities, owned by the
 * workspace. With train = true, dropout draws masks from rng (rng may be
 * NULL when train is false or dropout is 0). */
const float *nt_net_forward(nt_net *net, const float *x, int B, bool train,
                            nt_rng *rng);

/* The same, with the batch's rows as bytes beside x (rows[r] is zero
 * exactly where x's row r is: nt_view_gather_bytes), which the sparse first
 * layer reads to find x's non-zero values (nt_sparse_build_rows); NULL
 * rows: nt_net_forward. */
const float *nt_net_forward_rows(nt_net *net, const float *x, const uint8_t *const *rows, int B,
                                 bool train, nt_rng *rng);

/* The dropout draws of one training forward pass: a seed per hidden layer,
 * taken from rng in layer order. Returns false (and draws nothing) when
 * there is no dropout to draw: train false or dropout 0. */
bool nt_net_dropout_seeds(const nt_net *net, bool train, nt_rng *rng,
                          uint64_t seeds[NT_MAX_HIDDEN]);

/* Mean cross-entropy of the last forward's probabilities against labels y
 * (B), and backward pass: overwrites net->grads with the gradient of
 * (mean loss + l2/2 * sum of squared weights, biases excluded).
 * Returns the mean cross-entropy (without the L2 term); NaN or Inf if the
 * forward pass produced non-finite values. */
float nt_net_backward(nt_net *net, const int32_t *y, int B, float l2);

/* The workspace's logits (max_batch, n_out), which follow the
 * probabilities in act[n_layers], and the per-row sums the loss needs after
 * them (max_batch): what nt_softmax_forward_keep leaves for
 * nt_ce_loss_kept. For a step that runs the layers itself (shards.c). */
float *nt_net_logits(const nt_net *net);
float *nt_net_softmax_sums(const nt_net *net);

/* Where the weights lie in params and grads, layer by layer: [lo[l],
 * hi[l]) for l < n_layers (the biases lie between). lo and hi hold
 * NT_MAX_HIDDEN + 1 entries. Returns n_layers. For nt_optim_set_l2, which
 * folds the L2 term into the optimizer's step instead of the backward pass. */
int nt_net_weight_ranges(const nt_net *net, size_t *lo, size_t *hi);

/* The density at or below which the first layer runs on the batch's
 * non-zero inputs only (NT_SPARSE_MAX_DENSITY by default; 0 turns the
 * sparse path off, e.g. to measure the GEMMs). The same results either way,
 * up to float rounding. */
void nt_net_set_sparse(nt_net *net, double max_density);

/* The parameters in the model file's layout (every W as (out, in), then b),
 * into out (n_params); and back from that layout. */
void nt_net_export_params(const nt_net *net, float *out);
void nt_net_import_params(nt_net *net, const float *in);

/* Copy parameters from src to dst; both must have the same architecture. */
void nt_net_copy_params(nt_net *dst, const nt_net *src);

/* Number of parameters an architecture has. */
size_t nt_arch_n_params(const nt_arch *a);

/* Name of an activation ("relu", "tanh", "sigmoid"), and back (-1 if none). */
const char *nt_act_name(nt_act a);
int nt_act_parse(const char *s);

#endif
