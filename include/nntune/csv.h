/* csv.h - a labelled data set from a CSV file: one sample a line, the
 * integer label first, then the features; comma separated; an optional
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

#endif
