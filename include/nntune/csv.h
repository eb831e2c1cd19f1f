/* csv.h - data sets from CSV files: one sample a line, the integer label
 * first, then the features (or, for prediction, features alone); comma
 * separated; an optional
 * header line (detected when its first field is not a number). Every row
 * must have the same number of fields; every field must be a finite number.
 * If every feature value is in [0, 255] and some value is above 1, the
 * features are taken as pixels and divided by 255; otherwise they are kept
 * as they are. */
#ifndef NNTUNE_CSV_H
#define NNTUNE_CSV_H

#include "nntune/dataset.h"

/* Load `path`. n_classes = 0 takes max(label)+1; otherwise labels must be
 * below it. Labels must be non-negative integers. Errors name the file,
 * the line and the field. On failure `out` is left zeroed. */
nt_status nt_csv_load(const char *path, int n_classes, nt_dataset *out);

/* How features are scaled: by the rule above (AUTO), never, or always. */
enum {
    NT_CSV_SCALE_AUTO = -1,  /* pixels in [0,255] (some above 1) -> /255 */
    NT_CSV_SCALE_NEVER = 0,  /* keep the values as they are */
    NT_CSV_SCALE_255 = 1,    /* divide every feature by 255, whatever its range */
};

/* nt_csv_load with the scaling chosen by the caller: `scale` is one of
 * NT_CSV_SCALE_*. `scaled` (may be NULL) receives whether the features
 * were divided by 255 - what AUTO decided - so that a test file can be
 * scaled exactly like its training file, whatever its own values are:
 *     bool s;
 *     nt_csv_load_scaled(train_csv, 0, NT_CSV_SCALE_AUTO, &train, &s);
 *     nt_csv_load_scaled(test_csv, train.n_classes, s, &test, NULL);
 * (nt_data_open does this.) nt_csv_load(p, k, out) is
 * nt_csv_load_scaled(p, k, NT_CSV_SCALE_AUTO, out, NULL). On failure `out`
 * is left zeroed and *scaled false. */
nt_status nt_csv_load_scaled(const char *path, int n_classes, int scale,
                             nt_dataset *out, bool *scaled);

/* Load samples to classify: every data row holds either d features
 * (unlabeled: y is all 0 and n_classes 0) or a label then d features
 * (labelled: y holds the labels, n_classes = max(label)+1). The first data
 * row decides which; a later row of the other width is NT_ERR_FORMAT naming
 * its line. A first row that is neither d nor d+1 fields wide is
 * NT_ERR_MISMATCH naming the file, line and both widths. Header detection,
 * number and label checks and the AUTO scaling rule are nt_csv_load's (the
 * loader cannot know how the training data was scaled). d > 0. On failure
 * `out` is left zeroed. */
nt_status nt_csv_load_features(const char *path, size_t d, nt_dataset *out);

#endif
