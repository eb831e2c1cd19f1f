/* test_metrics.c - loss, accuracy, confusion matrix and per-class
 * precision / recall / F1 against a 3-class example worked out by hand;
 * accumulation over batches; classes never predicted or never seen. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nntune/metrics.h"
#include "nntune/rng.h"

enum { K = 3, N = 7 };

/* Seven samples, three classes. Predicted class = argmax of the row.
 *   row  true  probs              pred
 *    0    0    .70 .20 .10         0
 *    1    0    .20 .50 .30         1
 *    2    1    .10 .80 .10         1
 *    3    1    .60 .30 .10         0
 *    4    2    .20 .20 .60         2
 *    5    2    .10 .60 .30         1
 *    6    1    .25 .50 .25         1
 * Confusion (row = true, column = predicted):
 *    [1 1 0]
 *    [1 2 0]
 *    [0 1 1]
 * accuracy 4/7; column sums 2 4 1, row sums 2 3 2;
 * precision 1/2, 2/4, 1/1; recall 1/2, 2/3, 1/2;
 * F1 1/2, 4/7, 2/3; macro-F1 (1/2 + 4/7 + 2/3) / 3 = 73/126;
 * loss -(ln .7 + ln .2 + ln .8 + ln .3 + ln .6 + ln .3 + ln .5) / 7. */
static const float PROBS[N * K] = {
    0.70f, 0.20f, 0.10f, //
    0.20f, 0.50f, 0.30f, //
    0.10f, 0.80f, 0.10f, //
    0.60f, 0.30f, 0.10f, //
    0.20f, 0.20f, 0.60f, //
    0.10f, 0.60f, 0.30f, //
    0.25f, 0.50f, 0.25f, //
};
static const int32_t LABELS[N] = {0, 0, 1, 1, 2, 2, 1};

static void assert_close(const char *what, double got, double want, double tol)
{
    cr_assert(fabs(got - want) <= tol, "%s: got %.12f, want %.12f (tol %g)",
              what, got, want, tol);
}

Test(metrics, a_hand_worked_three_class_example_gives_the_expected_figures)
{
    nt_metrics m;
    cr_assert_eq(nt_metrics_init(K, &m), NT_OK, "%s", nt_last_error());
    nt_metrics_add(&m, PROBS, LABELS, N);
    nt_metrics_finish(&m);

    const int64_t conf[K * K] = {1, 1, 0, 1, 2, 0, 0, 1, 1};
    for (int i = 0; i < K * K; i++)
        cr_assert_eq(m.confusion[i], conf[i],
                     "confusion[true %d][pred %d] = %lld, want %lld", i / K,
                     i % K, (long long)m.confusion[i], (long long)conf[i]);
    cr_assert_eq(m.n, (size_t)N, "n = %zu, want %d", m.n, N);

    const double prec[K] = {0.5, 0.5, 1.0};
    const double rec[K] = {0.5, 2.0 / 3.0, 0.5};
    const double f1[K] = {0.5, 4.0 / 7.0, 2.0 / 3.0};
    const size_t support[K] = {2, 3, 2};
    char what[64];
    for (int c = 0; c < K; c++) {
        snprintf(what, sizeof what, "precision[%d]", c);
        assert_close(what, m.precision[c], prec[c], 1e-12);
        snprintf(what, sizeof what, "recall[%d]", c);
        assert_close(what, m.recall[c], rec[c], 1e-12);
        snprintf(what, sizeof what, "f1[%d]", c);
        assert_close(what, m.f1[c], f1[c], 1e-12);
        cr_assert_eq(m.support[c], support[c], "support[%d] = %zu, want %zu", c,
                     m.support[c], support[c]);
    }
    assert_close("accuracy", m.accuracy, 4.0 / 7.0, 1e-12);
    assert_close("macro_f1", m.macro_f1, 73.0 / 126.0, 1e-12);
    double want_loss = -(log(0.7) + log(0.2) + log(0.8) + log(0.3) + log(0.6) +
                         log(0.3) + log(0.5)) / 7.0;
    // the probabilities are float32: allow their rounding
    assert_close("loss", m.loss, want_loss, 1e-6);
    assert_close("loss_sum", m.loss_sum, 7.0 * want_loss, 7e-6);
    nt_metrics_free(&m);
    nt_metrics_free(&m); // twice is fine
}

Test(metrics, adding_in_several_batches_equals_adding_at_once)
{
    enum { KK = 4, NN = 53 };
    static float probs[NN * KK];
    static int32_t y[NN];
    nt_rng r;
    nt_rng_seed(&r, 17);
    for (int i = 0; i < NN; i++) {
        double s = 0;
        for (int c = 0; c < KK; c++) {
            probs[i * KK + c] = (float)(0.05 + nt_rng_uniform(&r));
            s += probs[i * KK + c];
        }
        for (int c = 0; c < KK; c++) probs[i * KK + c] = (float)(probs[i * KK + c] / s);
        y[i] = (int32_t)nt_rng_below(&r, KK);
    }
    nt_metrics once, parts;
    cr_assert_eq(nt_metrics_init(KK, &once), NT_OK, "%s", nt_last_error());
    cr_assert_eq(nt_metrics_init(KK, &parts), NT_OK, "%s", nt_last_error());
    nt_metrics_add(&once, probs, y, NN);
    nt_metrics_finish(&once);

    // first fill `parts` with junk, then reset: the reset must clear it all
    nt_metrics_add(&parts, probs, y, 10);
    nt_metrics_finish(&parts);
    nt_metrics_reset(&parts);
    const int cuts[] = {0, 1, 8, 8, 30, 52, NN}; // includes an empty batch
    for (size_t i = 0; i + 1 < sizeof cuts / sizeof cuts[0]; i++)
        nt_metrics_add(&parts, probs + (size_t)cuts[i] * KK, y + cuts[i],
                       cuts[i + 1] - cuts[i]);
    nt_metrics_finish(&parts);

    cr_assert_eq(parts.n, once.n, "n: %zu in parts, %zu at once", parts.n, once.n);
    for (int i = 0; i < KK * KK; i++)
        cr_assert_eq(parts.confusion[i], once.confusion[i],
                     "confusion[%d]: %lld in parts, %lld at once", i,
                     (long long)parts.confusion[i], (long long)once.confusion[i]);
    assert_close("loss (parts vs once)", parts.loss, once.loss, 1e-12);
    assert_close("accuracy (parts vs once)", parts.accuracy, once.accuracy, 0);
    assert_close("macro_f1 (parts vs once)", parts.macro_f1, once.macro_f1, 0);
    for (int c = 0; c < KK; c++) {
        assert_close("precision (parts vs once)", parts.precision[c], once.precision[c], 0);
        assert_close("recall (parts vs once)", parts.recall[c], once.recall[c], 0);
        assert_close("f1 (parts vs once)", parts.f1[c], once.f1[c], 0);
    }
    // the accuracy also agrees with a direct count
    int correct = 0;
    for (int i = 0; i < NN; i++) {
        int pred = 0;
        for (int c = 1; c < KK; c++)
            if (probs[i * KK + c] > probs[i * KK + pred]) pred = c;
        correct += pred == y[i];
    }
    assert_close("accuracy vs direct count", once.accuracy, (double)correct / NN, 1e-12);
    nt_metrics_free(&once);
    nt_metrics_free(&parts);
}

Test(metrics, a_class_never_predicted_has_precision_zero)
{
    // class 2 occurs in the labels but is never the argmax
    const float probs[4 * K] = {
        0.8f, 0.1f, 0.1f, //
        0.1f, 0.8f, 0.1f, //
        0.6f, 0.3f, 0.1f, //
        0.2f, 0.7f, 0.1f, //
    };
    const int32_t y[4] = {0, 1, 2, 2};
    nt_metrics m;
    cr_assert_eq(nt_metrics_init(K, &m), NT_OK, "%s", nt_last_error());
    nt_metrics_add(&m, probs, y, 4);
    nt_metrics_finish(&m);
    assert_close("precision[2] (never predicted)", m.precision[2], 0.0, 0);
    assert_close("recall[2]", m.recall[2], 0.0, 0);
    assert_close("f1[2]", m.f1[2], 0.0, 0);
    cr_assert(isfinite(m.precision[2]) && isfinite(m.f1[2]),
              "precision %g, f1 %g must be finite", m.precision[2], m.f1[2]);
    // precision 1/2, 1/2, 0; recall 1, 1, 0; F1 2/3, 2/3, 0: class 2 counts
    // in the macro average because it occurs in the labels
    assert_close("precision[0]", m.precision[0], 0.5, 1e-12);
    assert_close("precision[1]", m.precision[1], 0.5, 1e-12);
    assert_close("macro_f1", m.macro_f1, (2.0 / 3.0 + 2.0 / 3.0 + 0.0) / 3.0, 1e-12);
    assert_close("accuracy", m.accuracy, 0.5, 1e-12);
    nt_metrics_free(&m);
}

Test(metrics, a_class_absent_from_labels_and_predictions_is_left_out_of_macro_f1)
{
    // the hand-worked example with a fourth class that never appears
    enum { K4 = 4 };
    float probs[N * K4];
    for (int i = 0; i < N; i++) {
        for (int c = 0; c < K; c++) probs[i * K4 + c] = PROBS[i * K + c];
        probs[i * K4 + 3] = 0.0f;
    }
    nt_metrics m;
    cr_assert_eq(nt_metrics_init(K4, &m), NT_OK, "%s", nt_last_error());
    nt_metrics_add(&m, probs, LABELS, N);
    nt_metrics_finish(&m);
    assert_close("macro_f1 with an absent class", m.macro_f1, 73.0 / 126.0, 1e-12);
    assert_close("precision[3]", m.precision[3], 0.0, 0);
    cr_assert_eq(m.support[3], (size_t)0, "support[3] = %zu", m.support[3]);
    nt_metrics_free(&m);
}
