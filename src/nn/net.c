/* net.c - dense feed-forward classifier: parameters, workspace, forward,
 * backward.
 *
 * Workspace shapes (L = n_layers, B_max = max_batch, out_l = layer l's out):
 *   act[l+1]   (B_max, out_l)  layer l's output after activation and dropout
 *   act[L]     (B_max, n_out)  softmax probabilities, followed in the same
 *                              allocation by the logits (B_max, n_out): the
 *                              loss is computed from logits by log-sum-exp
 *   mask[l]    (B_max, out_l)  uint8 keep masks, only when dropout > 0; mask[0]
 *                              has one extra trailing byte set to 1 when the
 *                              last forward drew masks (train) and 0 when it
 *                              did not, so backward knows whether to apply them
 *   delta[0,1] (B_max, widest) gradients flowing down, ping-ponged; widest is
 *                              the largest layer output (the input layer's dx
 *                              is never computed)
 *   sparse                     the first layer's input in blocks of non-zero
 *                              columns (sparse.h), when the build has the
 *                              sparse kernels
 */
#include "nntune/net.h"

#include <assert.h>
#include <math.h>
#include <string.h>
#include <strings.h>

#include "nntune/activation.h"
#include "nntune/dense.h"
#include "nntune/dropout.h"
#include "nntune/loss.h"

nt_status nt_arch_check(const nt_arch *a)
{
    assert(a);
    if (a->n_in < 1) {
        nt_errorf("arch: n_in = %d, must be >= 1", a->n_in);
        return NT_ERR_ARG;
    }
    if (a->n_out < 1) {
        nt_errorf("arch: n_out = %d, must be >= 1", a->n_out);
        return NT_ERR_ARG;
    }
    if (a->n_hidden < 0 || a->n_hidden > NT_MAX_HIDDEN) {
        nt_errorf("arch: n_hidden = %d, must be in [0, %d]", a->n_hidden, NT_MAX_HIDDEN);
        return NT_ERR_ARG;
    }
    for (int i = 0; i < a->n_hidden; i++) {
        if (a->hidden[i] < 1) {
            nt_errorf("arch: hidden[%d] = %d, must be >= 1", i, a->hidden[i]);
            return NT_ERR_ARG;
        }
    }
    if ((unsigned)a->act > NT_ACT_SIGMOID) {
        nt_errorf("arch: act = %d, not an activation", (int)a->act);
        return NT_ERR_ARG;
    }
    if (!(a->dropout >= 0.0f && a->dropout < 1.0f)) {  // also refuses NaN
        nt_errorf("arch: dropout = %g, must be in [0, 1)", (double)a->dropout);
        return NT_ERR_ARG;
    }
    return NT_OK;
}

static int layer_in(const nt_arch *a, int l) { return l == 0 ? a->n_in : a->hidden[l - 1]; }
static int layer_out(const nt_arch *a, int l) { return l == a->n_hidden ? a->n_out : a->hidden[l]; }

size_t nt_arch_n_params(const nt_arch *a)
{
    size_t n = 0;
    for (int l = 0; l <= a->n_hidden; l++)
        n += (size_t)layer_out(a, l) * layer_in(a, l) + (size_t)layer_out(a, l);
    return n;
}

void nt_net_free(nt_net *net)
{
    if (!net) return;
    nt_free(net->params);
    nt_free(net->grads);
    for (int i = 0; i < NT_MAX_HIDDEN + 2; i++) nt_free(net->act[i]);
    for (int i = 0; i < NT_MAX_HIDDEN; i++) nt_free(net->mask[i]);
    nt_free(net->delta[0]);
    nt_free(net->delta[1]);
    nt_sparse_free(&net->sparse);
    memset(net, 0, sizeof *net);
}

// He normal (He et al. 2015) for ReLU layers, Glorot uniform (Glorot &
// Bengio 2010) for tanh/sigmoid layers and the softmax output layer. Drawn
// unit by unit (the model file's (out, in) order), so a seed gives the
// weights it gave when W was stored that way.
static void init_layer(float *W, const nt_layer *ly, bool he, nt_rng *rng)
{
    const int in = ly->in, out = ly->out;
    const double std = sqrt(2.0 / in), lim = sqrt(6.0 / (in + out));
    enum { CHUNK = 256 };
    float z[CHUNK];
    for (int o = 0; o < out; o++)
        for (int i0 = 0; i0 < in; i0 += CHUNK) {
            const int n = in - i0 < CHUNK ? in - i0 : CHUNK;
            if (he)
                nt_rng_normals(rng, z, (size_t)n, std);
            else
                for (int i = 0; i < n; i++) z[i] = (float)(lim * (2.0 * nt_rng_uniform(rng) - 1.0));
            for (int i = 0; i < n; i++) W[(size_t)(i0 + i) * out + o] = z[i];
        }
}

static nt_status alloc_workspace(nt_net *n)
{
    const nt_arch *a = &n->arch;
    size_t B = (size_t)n->max_batch, widest = 0;
    for (int l = 0; l < n->n_layers; l++) {
        size_t out = (size_t)n->layer[l].out;
        if (out > widest) widest = out;
        // the last layer also holds the logits after the probabilities,
        // and after them each row's sum the loss needs (nt_net_softmax_sums)
        size_t floats = l == n->n_layers - 1 ? 2 * B * out + B : B * out;
        if (!(n->act[l + 1] = nt_alloc(floats * sizeof(float)))) return NT_ERR_NOMEM;
        if (l < a->n_hidden && a->dropout > 0.0f) {
            size_t extra = l == 0 ? 1 : 0;  // "masks drawn" flag, see top
            if (!(n->mask[l] = nt_alloc(B * out + extra))) return NT_ERR_NOMEM;
        }
    }
    for (int i = 0; i < 2; i++)
        if (!(n->delta[i] = nt_alloc(B * widest * sizeof(float)))) return NT_ERR_NOMEM;
    n->sparse_max_density = nt_sparse_available() ? NT_SPARSE_MAX_DENSITY : 0.0;
    if (nt_sparse_available()) return nt_sparse_init(&n->sparse, n->max_batch, a->n_in);
    return NT_OK;
}

nt_status nt_net_init(const nt_arch *a, int max_batch, nt_rng *rng, nt_net *out)
{
    assert(a && rng && out);
    memset(out, 0, sizeof *out);
    nt_status rc = nt_arch_check(a);
    if (rc != NT_OK) return rc;
    if (max_batch < 1) {
        nt_errorf("net: max_batch = %d, must be >= 1", max_batch);
        return NT_ERR_ARG;
    }
    nt_net n = {0};
    n.arch = *a;
    n.n_layers = a->n_hidden + 1;
    n.max_batch = max_batch;
    size_t off = 0;
    for (int l = 0; l < n.n_layers; l++) {
        nt_layer *ly = &n.layer[l];
        ly->in = layer_in(a, l);
        ly->out = layer_out(a, l);
        ly->w = off;
        off += (size_t)ly->out * ly->in;
        ly->b = off;
        off += (size_t)ly->out;
    }
    n.n_params = off;
    n.params = nt_alloc(off * sizeof(float));  // zeroed: biases start at 0
    n.grads = nt_alloc(off * sizeof(float));
    rc = n.params && n.grads ? alloc_workspace(&n) : NT_ERR_NOMEM;
    if (rc != NT_OK) {
        nt_errorf("net: out of memory for %zu parameters, max_batch %d", off, max_batch);
        nt_net_free(&n);
        return rc;
    }
    for (int l = 0; l < n.n_layers; l++) {
        bool he = a->act == NT_ACT_RELU && l < a->n_hidden;
        init_layer(n.params + n.layer[l].w, &n.layer[l], he, rng);
    }
    *out = n;
    return NT_OK;
}

float *nt_net_logits(const nt_net *net)
{
    return net->act[net->n_layers] + (size_t)net->max_batch * net->arch.n_out;
}

float *nt_net_softmax_sums(const nt_net *net)
{
    return net->act[net->n_layers] + 2 * (size_t)net->max_batch * net->arch.n_out;
}

static uint8_t *drawn_flag(const nt_net *net)
{
    return net->mask[0] + (size_t)net->max_batch * net->layer[0].out;
}

bool nt_net_dropout_seeds(const nt_net *net, bool train, nt_rng *rng,
                          uint64_t seeds[NT_MAX_HIDDEN])
{
    if (!train || net->arch.dropout <= 0.0f) return false;
    assert(rng);
    for (int l = 0; l < net->arch.n_hidden; l++) seeds[l] = nt_rng_u64(rng);
    return true;
}

void nt_net_set_sparse(nt_net *net, double max_density)
{
    assert(net && max_density >= 0.0 && max_density <= 1.0);
    net->sparse_max_density = nt_sparse_available() ? max_density : 0.0;
}

// y = x W for layer l (no bias); the first layer goes sparse when x is
// mostly zero (rows: x's rows in bytes, or NULL)
static void layer_forward(nt_net *net, int l, float *y, const float *x,
                          const uint8_t *const *rows, int B)
{
    const nt_layer *ly = &net->layer[l];
    const float *W = net->params + ly->w;
    if (l == 0) {
        net->input_sparse = net->sparse_max_density > 0.0 &&
                            nt_sparse_build_rows(&net->sparse, x, rows, B,
                                                 net->sparse_max_density);
        if (net->input_sparse) {
            nt_sparse_forward(y, &net->sparse, W, ly->out);
            return;
        }
    }
    nt_dense_forward(y, x, W, NULL, B, ly->in, ly->out);
}

const float *nt_net_forward(nt_net *net, const float *x, int B, bool train,
                            nt_rng *rng)
{
    return nt_net_forward_rows(net, x, NULL, B, train, rng);
}

const float *nt_net_forward_rows(nt_net *net, const float *x, const uint8_t *const *rows, int B,
                                 bool train, nt_rng *rng)
{
    assert(net && net->params && x && B >= 1 && B <= net->max_batch);
    const nt_arch *a = &net->arch;
    uint64_t seeds[NT_MAX_HIDDEN];
    const bool drop = nt_net_dropout_seeds(net, train, rng, seeds);
    net->input = x;
    net->last_batch = B;
    const float *in = x;
    for (int l = 0; l < a->n_hidden; l++) {
        const nt_layer *ly = &net->layer[l];
        float *y = net->act[l + 1];
        layer_forward(net, l, y, in, l == 0 ? rows : NULL, B);
        nt_bias_act_forward(y, net->params + ly->b, B, ly->out, a->act);
        if (drop)
            nt_dropout_forward_at(y, net->mask[l], y, (size_t)B * ly->out, a->dropout,
                                  seeds[l], 0);
        in = y;
    }
    if (a->n_hidden > 0 && a->dropout > 0.0f) *drawn_flag(net) = drop;
    const nt_layer *ly = &net->layer[a->n_hidden];
    float *logits = nt_net_logits(net), *probs = net->act[net->n_layers];
    layer_forward(net, a->n_hidden, logits, in, a->n_hidden == 0 ? rows : NULL, B);
    nt_bias_forward(logits, net->params + ly->b, B, ly->out);
    nt_softmax_forward_keep(probs, nt_net_softmax_sums(net), logits, B, ly->out);
    return probs;
}

int nt_net_weight_ranges(const nt_net *net, size_t *lo, size_t *hi)
{
    assert(net && lo && hi);
    for (int l = 0; l < net->n_layers; l++) {
        lo[l] = net->layer[l].w;
        hi[l] = net->layer[l].w + (size_t)net->layer[l].in * net->layer[l].out;
    }
    return net->n_layers;
}

// grads += the L2 term's gradient, l2 * W, on the weights (not the biases)
static void add_l2(nt_net *net, float l2)
{
    size_t lo[NT_MAX_HIDDEN + 1], hi[NT_MAX_HIDDEN + 1];
    int ranges = nt_net_weight_ranges(net, lo, hi);
    float *restrict g = net->grads;
    const float *restrict w = net->params;
    for (int r = 0; r < ranges; r++) {
        #pragma omp simd
        for (size_t i = lo[r]; i < hi[r]; i++) g[i] += l2 * w[i];
    }
}

float nt_net_backward(nt_net *net, const int32_t *y, int B, float l2)
{
    assert(net && y && net->input && B == net->last_batch);
    const nt_arch *a = &net->arch;
    const int L = net->n_layers;
    const float *logits = nt_net_logits(net), *probs = net->act[L];
    float loss = nt_ce_loss_kept(logits, nt_net_softmax_sums(net), y, B, a->n_out);

    float *d = net->delta[0], *dnext = net->delta[1];
    nt_softmax_ce_backward_of(d, probs, y, B, a->n_out, B);
    const bool drop = a->n_hidden > 0 && a->dropout > 0.0f && *drawn_flag(net);
    for (int l = L - 1; l >= 0; l--) {
        const nt_layer *ly = &net->layer[l];
        const float *x = l == 0 ? net->input : net->act[l];
        float *dx = l == 0 ? NULL : dnext;
        // overwriting: no step has to clear the gradients first
        if (l == 0 && net->input_sparse) {
            nt_sparse_backward(net->grads + ly->w, &net->sparse, d, ly->out);
            nt_dense_bias_backward(net->grads + ly->b, d, B, ly->out, false);
            break;
        }
        nt_dense_backward(dx, net->grads + ly->w, net->grads + ly->b, d, x,
                          net->params + ly->w, B, ly->in, ly->out, false);
        if (l == 0) break;
        // dx is dL/d(output of hidden layer l-1): back through its dropout
        // and activation, in place
        size_t n = (size_t)B * ly->in;
        if (drop)
            nt_dropout_act_backward(dx, dx, net->act[l], net->mask[l - 1], n,
                                    a->dropout, a->act);
        else
            nt_act_backward(dx, dx, net->act[l], n, a->act);
        dnext = d;
        d = dx;
    }
    if (l2 != 0.0f) add_l2(net, l2);
    return loss;
}

// W (in, out) <-> (out, in); the biases are copied as they are
static void convert_params(const nt_net *net, float *dst, const float *src, bool to_file)
{
    for (int l = 0; l < net->n_layers; l++) {
        const nt_layer *ly = &net->layer[l];
        const float *W = src + ly->w;
        float *T = dst + ly->w;
        for (int i = 0; i < ly->in; i++)
            for (int o = 0; o < ly->out; o++) {
                size_t ours = (size_t)i * ly->out + o, file = (size_t)o * ly->in + i;
                if (to_file) T[file] = W[ours];
                else T[ours] = W[file];
            }
        memcpy(dst + ly->b, src + ly->b, (size_t)ly->out * sizeof *dst);
    }
}

void nt_net_export_params(const nt_net *net, float *out)
{
    assert(net && net->params && out && out != net->params);
    convert_params(net, out, net->params, true);
}

void nt_net_import_params(nt_net *net, const float *in)
{
    assert(net && net->params && in && in != net->params);
    convert_params(net, net->params, in, false);
}

void nt_net_copy_params(nt_net *dst, const nt_net *src)
{
    assert(dst && src && dst->n_params == src->n_params);
    assert(dst->arch.n_in == src->arch.n_in && dst->arch.n_out == src->arch.n_out &&
           dst->arch.n_hidden == src->arch.n_hidden);
    if (dst != src) memcpy(dst->params, src->params, src->n_params * sizeof(float));
}

static const char *const act_names[] = {"relu", "tanh", "sigmoid"};

const char *nt_act_name(nt_act a)
{
    return (unsigned)a <= NT_ACT_SIGMOID ? act_names[a] : "?";
}

int nt_act_parse(const char *s)
{
    if (!s) return -1;
    for (int i = 0; i <= NT_ACT_SIGMOID; i++)
        if (strcasecmp(s, act_names[i]) == 0) return i;
    return -1;
}
