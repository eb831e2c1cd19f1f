/* metrics.c - loss, accuracy, confusion matrix, precision/recall/F1. */
#include "nntune/metrics.h"

#include <math.h>
#include <string.h>

nt_status nt_metrics_init(int k, nt_metrics *out)
{
    memset(out, 0, sizeof *out);
    out->k = k;
    out->confusion = nt_alloc((size_t)k * k * sizeof *out->confusion);
    out->precision = nt_alloc((size_t)k * sizeof(double));
    out->recall = nt_alloc((size_t)k * sizeof(double));
    out->f1 = nt_alloc((size_t)k * sizeof(double));
    out->support = nt_alloc((size_t)k * sizeof(size_t));
    if (!out->confusion || !out->precision || !out->recall || !out->f1 ||
        !out->support) {
        nt_metrics_free(out);
        nt_errorf("metrics: out of memory for %d classes", k);
        return NT_ERR_NOMEM;
    }
    return NT_OK;
}

void nt_metrics_free(nt_metrics *m)
{
    nt_free(m->confusion);
    nt_free(m->precision);
    nt_free(m->recall);
    nt_free(m->f1);
    nt_free(m->support);
    memset(m, 0, sizeof *m);
}

void nt_metrics_reset(nt_metrics *m)
{
    int k = m->k;
    m->n = 0;
    m->loss_sum = 0;
    m->loss = m->accuracy = m->macro_f1 = 0;
    memset(m->confusion, 0, (size_t)k * k * sizeof *m->confusion);
}

void nt_metrics_add(nt_metrics *m, const float *probs, const int32_t *y, int B)
{
    int k = m->k;
    for (int i = 0; i < B; i++) {
        const float *p = probs + (size_t)i * k;
        int pred = nt_argmax(p, k);
        // clamp so a confidently wrong prediction costs -log(1e-12), not inf
        double py = p[y[i]];
        m->loss_sum += -log(py > 1e-12 ? py : 1e-12);
        if (isnan(py)) m->loss_sum = NAN;
        m->confusion[(size_t)y[i] * k + pred]++;
    }
    m->n += (size_t)B;
}

void nt_metrics_finish(nt_metrics *m)
{
    int k = m->k;
    int64_t correct = 0;
    double f1_sum = 0;
    int present = 0;
    for (int c = 0; c < k; c++) {
        int64_t tp = m->confusion[(size_t)c * k + c], row = 0, col = 0;
        for (int j = 0; j < k; j++) {
            row += m->confusion[(size_t)c * k + j];
            col += m->confusion[(size_t)j * k + c];
        }
        correct += tp;
        m->support[c] = (size_t)row;
        m->precision[c] = col ? (double)tp / col : 0.0;
        m->recall[c] = row ? (double)tp / row : 0.0;
        double pr = m->precision[c] + m->recall[c];
        m->f1[c] = pr > 0 ? 2 * m->precision[c] * m->recall[c] / pr : 0.0;
        // a class absent from both truth and predictions says nothing
        if (row > 0 || col > 0) {
            f1_sum += m->f1[c];
            present++;
        }
    }
    m->loss = m->n ? m->loss_sum / (double)m->n : NAN;
    m->accuracy = m->n ? (double)correct / (double)m->n : NAN;
    m->macro_f1 = present ? f1_sum / present : NAN;
}
