/* test_net.c - the network: whole-net gradient checks (relu, tanh, sigmoid,
 * with and without L2 and dropout), initialization statistics, determinism,
 * NaN propagation, architecture checks, and a tiny net that must overfit. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nntune/net.h"
#include "nntune/optim.h"

#include "net_helpers.h"

static const nt_act ACTS[] = {NT_ACT_RELU, NT_ACT_TANH, NT_ACT_SIGMOID};

// A double-precision reference of the network, written as plain loops from
// net.h's description: it reads the parameters as doubles (theta, laid out
// like net->params) and, when masks is set, applies the dropout masks the
// float net drew. Returns mean cross-entropy + l2/2 * sum of squared weights,
// the quantity whose gradient nt_net_backward gives, and the probabilities.
static double ref_loss(const nt_net *net, const double *theta, const float *x,
                       const int32_t *y, int B, float l2, bool masks, double *probs)
{
    const nt_arch *a = &net->arch;
    double h[2][64];
    double L = 0;
    for (int r = 0; r < B; r++) {
        const double *in = NULL;
        double xin[64];
        for (int k = 0; k < a->n_in; k++) xin[k] = x[r * a->n_in + k];
        in = xin;
        for (int l = 0; l < net->n_layers; l++) {
            const nt_layer *ly = &net->layer[l];
            double *out = h[l % 2];
            for (int o = 0; o < ly->out; o++) {
                double z = theta[ly->b + o];
                for (int k = 0; k < ly->in; k++) z += theta[ly->w + (size_t)k * ly->out + o] * in[k];
                if (l < a->n_hidden) {
                    z = a->act == NT_ACT_RELU ? (z > 0 ? z : 0)
                      : a->act == NT_ACT_TANH ? tanh(z) : 1 / (1 + exp(-z));
                    if (masks) z *= net->mask[l][(size_t)r * ly->out + o] / (1.0 - a->dropout);
                }
                out[o] = z;
            }
            in = out;
        }
        double m = -INFINITY, s = 0;
        for (int j = 0; j < a->n_out; j++) m = fmax(m, in[j]);
        for (int j = 0; j < a->n_out; j++) s += exp(in[j] - m);
        for (int j = 0; j < a->n_out; j++) probs[r * a->n_out + j] = exp(in[j] - m) / s;
        L += (m + log(s) - in[y[r]]) / B;
    }
    for (int l = 0; l < net->n_layers; l++)
        for (size_t i = 0; i < (size_t)net->layer[l].out * net->layer[l].in; i++)
            L += 0.5 * l2 * theta[net->layer[l].w + i] * theta[net->layer[l].w + i];
    return L;
}

// Every parameter's float32 gradient against central differences of the
// double reference (h = 1e-6: truncation and rounding both far below float
// precision). Relative error < 1e-3, compared absolutely below 1e-3 where
// float32 rounding in the backward pass (~1e-7 per value) dominates. The
// float forward must also agree with the reference's probabilities.
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
    const float *p = nt_net_forward(&net, x, B, train, &r);
    float loss = nt_net_backward(&net, y, B, l2);
    double *theta = malloc(net.n_params * sizeof *theta), probs[B * 8];
    for (size_t i = 0; i < net.n_params; i++) theta[i] = net.params[i];
    const bool masks = train && a.dropout > 0;
    double L = ref_loss(&net, theta, x, y, B, 0.0f, masks, probs);
    cr_assert(fabs(loss - L) < 1e-5 * L, "%s: float loss %.8g, double reference %.8g",
              nt_act_name(a.act), (double)loss, L);
    for (int i = 0; i < B * a.n_out; i++)
        cr_assert(fabs(p[i] - probs[i]) < 1e-5, "%s: float probability [%d] = %.8g, reference %.8g",
                  nt_act_name(a.act), i, (double)p[i], probs[i]);
    const double h = 1e-6;
    double worst = 0;
    for (size_t i = 0; i < net.n_params; i++) {
        double keep = theta[i];
        theta[i] = keep + h;
        double Lp = ref_loss(&net, theta, x, y, B, l2, masks, probs);
        theta[i] = keep - h;
        double Lm = ref_loss(&net, theta, x, y, B, l2, masks, probs);
        theta[i] = keep;
        double n = (Lp - Lm) / (2 * h), g = net.grads[i];
        double err = fabs(g - n) / fmax(1e-3, fmax(fabs(g), fabs(n)));
        if (err > worst) worst = err;
        cr_assert(err < 1e-3, "%s l2=%g dropout=%g: grad[%zu] = %.8g, finite difference %.8g",
                  nt_act_name(a.act), (double)l2, masks ? (double)a.dropout : 0.0, i, g, n);
    }
    cr_log_info("%s l2=%g train=%d: worst relative error %.2e over %zu parameters",
                nt_act_name(a.act), (double)l2, train, worst, net.n_params);
    free(theta);
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
Test(net, he_init_has_std_sqrt_2_over_in_on_a_784x256_layer)
{
    nt_arch a = {.n_in = 784, .n_out = 10, .n_hidden = 1, .hidden = {256}, .act = NT_ACT_RELU};
    nt_net net = make_net(a, 1, 7);
    const float *W = net.params + net.layer[0].w;
    size_t n = 784 * 256;
    double s = 0, ss = 0;
    for (size_t i = 0; i < n; i++) s += W[i], ss += (double)W[i] * W[i];
    double mean = s / n, sd = sqrt(ss / n - mean * mean), want = sqrt(2.0 / 784);
    cr_assert(fabs(sd / want - 1) < 0.05, "He std = %.6f, want sqrt(2/784) = %.6f within 5%%", sd, want);
    cr_assert(fabs(mean) < 0.01 * want, "He mean = %.3g, want ~0 (std %.4f)", mean, want);
    for (int l = 0; l < 2; l++)
        for (int i = 0; i < net.layer[l].out; i++)
            cr_assert(net.params[net.layer[l].b + i] == 0, "layer %d bias[%d] = %g, want 0", l, i,
                      (double)net.params[net.layer[l].b + i]);
    // the softmax layer of a ReLU net is Glorot: |w| <= sqrt(6/(256+10))
    double lim = sqrt(6.0 / 266);
    const float *W2 = net.params + net.layer[1].w;
    for (int i = 0; i < 256 * 10; i++)
        cr_assert(fabs(W2[i]) <= lim, "output W[%d] = %g outside the Glorot bound %g", i, (double)W2[i], lim);
    nt_net_free(&net);
}

Test(net, glorot_init_respects_its_bound_and_fills_it)
{
    for (int a = 1; a < 3; a++) {  // tanh, sigmoid
        nt_arch ar = {.n_in = 784, .n_out = 10, .n_hidden = 1, .hidden = {256}, .act = ACTS[a]};
        nt_net net = make_net(ar, 1, 8);
        for (int l = 0; l < 2; l++) {
            const nt_layer *ly = &net.layer[l];
            const float *W = net.params + ly->w;
            size_t n = (size_t)ly->out * ly->in;
            double lim = sqrt(6.0 / (ly->in + ly->out)), maxabs = 0, ss = 0;
            for (size_t i = 0; i < n; i++) {
                cr_assert(fabs(W[i]) <= lim, "%s layer %d W[%zu] = %g outside the Glorot bound %g",
                          nt_act_name(ACTS[a]), l, i, (double)W[i], lim);
                maxabs = fmax(maxabs, fabs(W[i]));
                ss += (double)W[i] * W[i];
            }
            // uniform(-lim, lim): std lim/sqrt(3), and the extremes come near lim
            double sd = sqrt(ss / n), want = lim / sqrt(3.0);
            cr_assert(fabs(sd / want - 1) < 0.05, "%s layer %d std = %.5f, want lim/sqrt(3) = %.5f",
                      nt_act_name(ACTS[a]), l, sd, want);
            cr_assert(maxabs > 0.98 * lim, "%s layer %d max |w| = %.5f, want close to %.5f",
                      nt_act_name(ACTS[a]), l, maxabs, lim);
        }
        nt_net_free(&net);
    }
}

Test(net, same_seed_gives_the_same_init_and_another_seed_does_not)
{
    nt_arch a = small_arch(NT_ACT_RELU, 0.0f);
    nt_net n1 = make_net(a, 2, 99), n2 = make_net(a, 2, 99), n3 = make_net(a, 2, 100);
    cr_assert(memcmp(n1.params, n2.params, n1.n_params * sizeof(float)) == 0,
              "two nets from seed 99 have different weights");
    cr_assert(memcmp(n1.params, n3.params, n1.n_params * sizeof(float)) != 0,
              "seeds 99 and 100 gave identical weights");
    nt_net_free(&n1); nt_net_free(&n2); nt_net_free(&n3);
}

Test(net, eval_forward_is_deterministic_and_needs_no_rng)
{
    nt_arch a = small_arch(NT_ACT_TANH, 0.5f);
    nt_net net = make_net(a, 8, 5);
    float x[8 * 6], p1[8 * 3];
    int32_t y[8];
    fill_data(x, y, 8, 6, 3, 6);
    memcpy(p1, nt_net_forward(&net, x, 8, false, NULL), sizeof p1);
    nt_rng r;
    nt_rng_seed(&r, 1);
    nt_net_forward(&net, x, 8, true, &r);  // a training pass in between
    const float *p2 = nt_net_forward(&net, x, 8, false, NULL);
    for (int i = 0; i < 8 * 3; i++)
        cr_assert(p1[i] == p2[i], "eval probability [%d] = %.9g then %.9g", i, (double)p1[i], (double)p2[i]);
    for (int rr = 0; rr < 8; rr++) {
        double s = (double)p2[rr * 3] + p2[rr * 3 + 1] + p2[rr * 3 + 2];
        cr_assert(fabs(s - 1) < 1e-6, "row %d of probabilities sums to %.9g", rr, s);
    }
    // a smaller batch than max_batch gives the same rows
    const float *p3 = nt_net_forward(&net, x, 1, false, NULL);
    for (int j = 0; j < 3; j++)
        cr_assert(p3[j] == p1[j], "B=1 probability [%d] = %.9g, B=8 %.9g", j, (double)p3[j], (double)p1[j]);
    nt_net_free(&net);
}

Test(net, training_forward_with_dropout_drops_and_depends_on_the_rng)
{
    nt_arch a = small_arch(NT_ACT_RELU, 0.5f);
    nt_net net = make_net(a, 8, 5);
    float x[8 * 6], p1[8 * 3];
    int32_t y[8];
    fill_data(x, y, 8, 6, 3, 6);
    nt_rng r1, r2;
    nt_rng_seed(&r1, 1);
    nt_rng_seed(&r2, 2);
    memcpy(p1, nt_net_forward(&net, x, 8, true, &r1), sizeof p1);
    const float *p2 = nt_net_forward(&net, x, 8, true, &r2);
    cr_assert(memcmp(p1, p2, sizeof p1) != 0, "dropout 0.5 with different rngs gave identical outputs");
    long dropped = 0;
    for (int i = 0; i < 8 * 7; i++) dropped += net.mask[0][i] == 0;
    cr_assert(dropped > 8 && dropped < 48, "%ld of 56 units dropped at p = 0.5", dropped);
    nt_net_free(&net);
}

Test(net, backward_returns_nan_when_a_parameter_is_nan)
{
    for (int a = 0; a < 3; a++) {
        nt_arch ar = small_arch(ACTS[a], 0.0f);
        nt_net net = make_net(ar, 4, 9);
        float x[4 * 6];
        int32_t y[4];
        fill_data(x, y, 4, 6, 3, 10);
        // a first-layer weight, a hidden bias, an output weight
        size_t where[3] = {net.layer[0].w + 3, net.layer[1].b + 2, net.layer[2].w + 1};
        for (int k = 0; k < 3; k++) {
            float keep = net.params[where[k]];
            net.params[where[k]] = NAN;
            nt_net_forward(&net, x, 4, false, NULL);
            float L = nt_net_backward(&net, y, 4, 0.0f);
            cr_assert(isnan(L), "%s: parameter %zu is NaN but backward returned %g",
                      nt_act_name(ACTS[a]), where[k], (double)L);
            net.params[where[k]] = keep;
        }
        // (an infinite input may legitimately saturate tanh or sigmoid)
        x[0] = NAN;
        nt_net_forward(&net, x, 4, false, NULL);
        float L = nt_net_backward(&net, y, 4, 0.0f);
        cr_assert(isnan(L), "%s: a NaN input gave loss %g", nt_act_name(ACTS[a]), (double)L);
        nt_net_free(&net);
    }
}

Test(net, arch_check_refuses_bad_architectures_naming_the_field)
{
    const nt_arch ok = small_arch(NT_ACT_RELU, 0.2f);
    cr_assert(nt_arch_check(&ok) == NT_OK, "a valid arch was refused: %s", nt_last_error());
    struct { nt_arch a; const char *field; } bad[9];
    for (int i = 0; i < 9; i++) bad[i].a = ok;
    bad[0].a.n_in = 0, bad[0].field = "n_in";
    bad[1].a.n_out = 0, bad[1].field = "n_out";
    bad[2].a.n_hidden = -1, bad[2].field = "n_hidden";
    bad[3].a.n_hidden = NT_MAX_HIDDEN + 1, bad[3].field = "n_hidden";
    bad[4].a.hidden[1] = 0, bad[4].field = "hidden[1]";
    bad[5].a.dropout = 1.0f, bad[5].field = "dropout";
    bad[6].a.dropout = -0.1f, bad[6].field = "dropout";
    bad[7].a.dropout = NAN, bad[7].field = "dropout";
    bad[8].a.act = (nt_act)7, bad[8].field = "act";
    for (int i = 0; i < 9; i++) {
        nt_status rc = nt_arch_check(&bad[i].a);
        cr_assert(rc == NT_ERR_ARG, "bad arch %d (%s) gave status %d, want NT_ERR_ARG", i, bad[i].field, rc);
        cr_assert(strstr(nt_last_error(), bad[i].field), "message \"%s\" does not name %s",
                  nt_last_error(), bad[i].field);
        nt_rng r;
        nt_rng_seed(&r, 1);
        nt_net net;
        rc = nt_net_init(&bad[i].a, 4, &r, &net);
        cr_assert(rc == NT_ERR_ARG && net.params == NULL, "nt_net_init accepted bad arch %d (%s)",
                  i, bad[i].field);
        nt_net_free(&net);
    }
    nt_rng r;
    nt_rng_seed(&r, 1);
    nt_net net;
    cr_assert(nt_net_init(&ok, 0, &r, &net) == NT_ERR_ARG, "max_batch 0 was accepted");
    cr_assert(strstr(nt_last_error(), "max_batch"), "message \"%s\" does not name max_batch", nt_last_error());
}

Test(net, parameter_layout_is_contiguous_w_then_b)
{
    nt_arch a = {.n_in = 5, .n_out = 4, .n_hidden = 2, .hidden = {3, 2}, .act = NT_ACT_TANH};
    // 3*5+3 + 2*3+2 + 4*2+4 = 18 + 8 + 12 = 38
    cr_assert(nt_arch_n_params(&a) == 38, "nt_arch_n_params = %zu, want 38", nt_arch_n_params(&a));
    nt_net net = make_net(a, 3, 1);
    cr_assert(net.n_params == 38 && net.n_layers == 3, "n_params %zu, n_layers %d", net.n_params, net.n_layers);
    const size_t w[3] = {0, 18, 26}, b[3] = {15, 24, 34};
    for (int l = 0; l < 3; l++)
        cr_assert(net.layer[l].w == w[l] && net.layer[l].b == b[l], "layer %d at w=%zu b=%zu, want %zu %zu",
                  l, net.layer[l].w, net.layer[l].b, w[l], b[l]);
    nt_net_free(&net);
}

Test(net, copy_params_copies_and_free_is_safe_twice)
{
    nt_arch a = small_arch(NT_ACT_SIGMOID, 0.1f);
    nt_net n1 = make_net(a, 2, 1), n2 = make_net(a, 5, 2);
    nt_net_copy_params(&n2, &n1);
    cr_assert(memcmp(n1.params, n2.params, n1.n_params * sizeof(float)) == 0, "params differ after copy");
    nt_net_free(&n1);
    nt_net_free(&n1);
    nt_net_free(&n2);
    nt_net zero = {0};
    nt_net_free(&zero);
    nt_net_free(NULL);
}

Test(net, act_names_round_trip)
{
    for (int a = 0; a < 3; a++)
        cr_assert(nt_act_parse(nt_act_name(ACTS[a])) == (int)ACTS[a], "%s does not parse back",
                  nt_act_name(ACTS[a]));
    cr_assert(nt_act_parse("ReLU") == NT_ACT_RELU, "ReLU did not parse as relu");
    cr_assert(nt_act_parse("gelu") == -1 && nt_act_parse("") == -1 && nt_act_parse(NULL) == -1,
              "unknown activation names parsed");
}

// train full-batch with an optimizer; returns training accuracy in [0, 1]
static double fit(nt_net *net, const float *x, const int32_t *y, int B, nt_opt_config cfg,
                  float lr, int steps)
{
    nt_optim o;
    cr_assert(nt_optim_init(&cfg, net->n_params, &o) == NT_OK);
    for (int s = 0; s < steps; s++) {
        nt_net_forward(net, x, B, true, NULL);
        float L = nt_net_backward(net, y, B, 0.0f);
        cr_assert(isfinite(L), "loss %g at step %d", (double)L, s);
        nt_optim_step(&o, net->params, net->grads, lr);
    }
    nt_optim_free(&o);
    const float *p = nt_net_forward(net, x, B, false, NULL);
    int correct = 0;
    for (int i = 0; i < B; i++) {
        int best = 0;
        for (int j = 1; j < net->arch.n_out; j++)
            if (p[i * net->arch.n_out + j] > p[i * net->arch.n_out + best]) best = j;
        correct += best == y[i];
    }
    return (double)correct / B;
}

Test(net, a_tiny_net_overfits_32_random_samples_with_adam)
{
    // 8-16-3 on 32 points with random labels: memorization, nothing to generalize
    nt_arch a = {.n_in = 8, .n_out = 3, .n_hidden = 1, .hidden = {16}, .act = NT_ACT_RELU};
    float x[32 * 8];
    int32_t y[32];
    fill_data(x, y, 32, 8, 3, 77);
    for (int k = 0; k < 3; k++) {
        a.act = ACTS[k];
        nt_net net = make_net(a, 32, 78);
        double acc = fit(&net, x, y, 32, nt_opt_defaults(NT_OPT_ADAM), 0.02f, 400);
        cr_assert(acc == 1.0, "%s 8-16-3 with Adam: training accuracy %.4f after 400 steps, want 1",
                  nt_act_name(a.act), acc);
        nt_net_free(&net);
    }
}

Test(net, a_tiny_net_overfits_32_random_samples_with_sgd_momentum)
{
    nt_arch a = {.n_in = 8, .n_out = 3, .n_hidden = 1, .hidden = {16}, .act = NT_ACT_TANH};
    float x[32 * 8];
    int32_t y[32];
    fill_data(x, y, 32, 8, 3, 79);
    nt_net net = make_net(a, 32, 80);
    nt_opt_config cfg = nt_opt_defaults(NT_OPT_SGD);
    cfg.nesterov = true;
    double acc = fit(&net, x, y, 32, cfg, 0.1f, 400);
    cr_assert(acc == 1.0, "8-16-3 with SGD Nesterov momentum: training accuracy %.4f after 400 steps",
              acc);
    nt_net_free(&net);
}
