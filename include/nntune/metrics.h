/* metrics.h - classification metrics accumulated over batches: mean
 * cross-entropy, accuracy, confusion matrix, per-class precision / recall /
 * F1 and macro-F1 (the unweighted mean of per-class F1, as scikit-learn's
 * f1_score(average="macro"), over the classes that occur in the labels or
 * the predictions). A class with no predictions has precision 0. */
#ifndef NNTUNE_METRICS_H
#define NNTUNE_METRICS_H

#include "nntune/common.h"

typedef struct {
    int k;               /* classes */
    size_t n;            /* samples added */
    double loss_sum;     /* sum of per-sample cross-entropy */
    int64_t *confusion;  /* (k, k) owned: row = true class, column = predicted */
    /* filled by nt_metrics_finish: */
    double loss;         /* mean cross-entropy */
    double accuracy;     /* fraction correct */
    double macro_f1;
    double *precision;   /* (k) owned */
    double *recall;      /* (k) owned */
    double *f1;          /* (k) owned */
    size_t *support;     /* (k) owned: samples of each true class */
} nt_metrics;

/* The predicted class of one row of probabilities p (k): the first index
 * of the largest value. */
static inline int nt_argmax(const float *p, int k)
{
    int best = 0;
    for (int c = 1; c < k; c++)
        if (p[c] > p[best]) best = c;
    return best;
}

nt_status nt_metrics_init(int k, nt_metrics *out);
void nt_metrics_free(nt_metrics *m);
void nt_metrics_reset(nt_metrics *m);
/* Add B samples: probs (B, k) from a softmax, labels y (B). */
void nt_metrics_add(nt_metrics *m, const float *probs, const int32_t *y, int B);
/* Compute loss, accuracy and the per-class figures from the sums. */
void nt_metrics_finish(nt_metrics *m);

#endif
