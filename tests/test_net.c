/* test_net.c - the network: whole-net gradient checks (relu, tanh, sigmoid,
 * with and without L2 and dropout), initialization statistics, determinism,
 * NaN propagation, architecture checks, and a tiny net that must overfit. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nntune/net.h"
#include "nntune/optim.h"

static const nt_act ACTS[] = {NT_ACT_RELU, NT_ACT_TANH, NT_ACT_SIGMOID};

static nt_net make_net(nt_arch a, int max_batch, uint64_t seed)
{
    nt_rng r;
    nt_rng_seed(&r, seed);
    nt_net net;
    nt_status rc = nt_net_init(&a, max_batch, &r, &net);
    cr_assert(rc == NT_OK, "nt_net_init: %s", nt_last_error());
    return net;
}

static void fill_data(float *x, int32_t *y, int B, int d, int C, uint64_t seed)
{
    nt_rng r;
    nt_rng_seed(&r, seed);
    for (int i = 0; i < B * d; i++) x[i] = (float)nt_rng_normal(&r);
    for (int i = 0; i < B; i++) y[i] = (int32_t)nt_rng_below(&r, (uint64_t)C);
}

// mean cross-entropy + l2/2 * sum of squared weights, the quantity whose
// gradient nt_net_backward gives; a fixed dropout mask comes from reseeding
static double total_loss(nt_net *net, const float *x, const int32_t *y, int B, float l2,
                         bool train, uint64_t drop_seed)
{
    nt_rng r;
    nt_rng_seed(&r, drop_seed);
    nt_net_forward(net, x, B, train, &r);
    double L = nt_net_backward(net, y, B, 0.0f);
    for (int l = 0; l < net->n_layers; l++) {
        const float *W = net->params + net->layer[l].w;
        size_t n = (size_t)net->layer[l].out * net->layer[l].in;
        for (size_t i = 0; i < n; i++) L += 0.5 * l2 * (double)W[i] * W[i];
    }
    return L;
}

// Every parameter's analytic gradient against a central difference
// (eps 1e-3 in float32); relative error < 1e-2, compared absolutely below
// 1e-2 where float32 rounding of the loss (~1e-7 / 2e-3) dominates.
static void grad_check(nt_arch a, float l2, bool train, uint64_t seed)
{
    enum { B = 4 };
    nt_net net = make_net(a, B, seed);
    float x[B * 16];
    int32_t y[B];
    cr_assert(a.n_in <= 16);
    fill_data(x, y, B, a.n_in, a.n_out, seed + 1);
    nt_rng r;
    nt_rng_seed(&r, seed + 2);
    nt_net_forward(&net, x, B, train, &r);
    nt_net_backward(&net, y, B, l2);
    float *g = malloc(net.n_params * sizeof *g);
    memcpy(g, net.grads, net.n_params * sizeof *g);
    const float eps = 1e-3f;
    double worst = 0;
    for (size_t i = 0; i < net.n_params; i++) {
        float keep = net.params[i], hi = keep + eps, lo = keep - eps;
        net.params[i] = hi;
        double Lp = total_loss(&net, x, y, B, l2, train, seed + 2);
        net.params[i] = lo;
        double Lm = total_loss(&net, x, y, B, l2, train, seed + 2);
        net.params[i] = keep;
        double n = (Lp - Lm) / ((double)hi - lo);
        double err = fabs(g[i] - n) / fmax(1e-2, fmax(fabs(g[i]), fabs(n)));
        if (err > worst) worst = err;
        cr_assert(err < 1e-2, "%s l2=%g dropout=%g: grad[%zu] = %.6g, finite difference %.6g",
                  nt_act_name(a.act), (double)l2, train ? (double)a.dropout : 0.0, i,
                  (double)g[i], n);
    }
    cr_log_info("%s l2=%g train=%d: worst relative error %.2e over %zu parameters",
                nt_act_name(a.act), (double)l2, train, worst, net.n_params);
    free(g);
    nt_net_free(&net);
}

static nt_arch small_arch(nt_act act, float dropout)
{
    return (nt_arch){.n_in = 6, .n_out = 3, .n_hidden = 2, .hidden = {7, 5},
                     .act = act, .dropout = dropout};
}

Test(net, backward_matches_finite_differences_without_l2)
{
    for (int a = 0; a < 3; a++) grad_check(small_arch(ACTS[a], 0.0f), 0.0f, false, 100 + a);
}

Test(net, backward_matches_finite_differences_with_l2)
{
    for (int a = 0; a < 3; a++) grad_check(small_arch(ACTS[a], 0.0f), 0.1f, false, 110 + a);
}

Test(net, backward_matches_finite_differences_through_a_fixed_dropout_mask)
{
    for (int a = 0; a < 3; a++) grad_check(small_arch(ACTS[a], 0.3f), 0.01f, true, 120 + a);
}

Test(net, backward_after_an_eval_forward_ignores_dropout)
{
    // dropout 0.5 but train = false: the gradient is that of the plain net
    for (int a = 0; a < 3; a++) grad_check(small_arch(ACTS[a], 0.5f), 0.0f, false, 130 + a);
}
