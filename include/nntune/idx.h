/* idx.h - the IDX file format of MNIST and Fashion-MNIST (LeCun et al.),
 * raw or gzip-compressed, both read through zlib's gz* API (which reads
 * uncompressed files unchanged).
 *
 * An IDX file is a big-endian header - magic 0x00000803 for unsigned-byte
 * images (n, rows, cols), 0x00000801 for unsigned-byte labels (n) - then the
 * bytes. The reader checks the magic, that dimensions are non-zero, that the
 * file holds exactly the bytes the header promises (no fewer, no more), that
 * image and label counts agree, and that every label is < n_classes. */
#ifndef NNTUNE_IDX_H
#define NNTUNE_IDX_H

#include "nntune/dataset.h"

/* Load an image file and a label file into a data set with pixels scaled
 * to [0,1] (byte / 255). n_classes is the number of classes labels must be
 * below (10 for MNIST). On failure `out` is left zeroed. */
nt_status nt_idx_load(const char *images_path, const char *labels_path,
                      int n_classes, nt_dataset *out);

/* Load an image file alone (raw or gzip), for prediction: the same header
 * and size checks as nt_idx_load's image side, pixels scaled to [0,1]
 * (byte / 255); y is all 0 and n_classes 0 (no labels). On failure `out`
 * is left zeroed. */
nt_status nt_idx_load_images(const char *path, nt_dataset *out);

/* Write n images of rows x cols bytes and n label bytes as IDX files, gzip
 * compressed if the path ends in ".gz". Used by tests and tools.
 * Written to a temporary name and renamed. */
nt_status nt_idx_write(const char *images_path, const char *labels_path,
                       const uint8_t *pixels, const uint8_t *labels,
                       size_t n, size_t rows, size_t cols);

#endif
