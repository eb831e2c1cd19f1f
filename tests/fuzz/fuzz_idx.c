/* fuzz_idx.c - libFuzzer harness for nt_idx_load / nt_idx_load_images.
 *
 * Input: 2 bytes little-endian L, then the image file (the next L bytes,
 * clamped to what is there), then the label file (the rest). Both files go
 * through nt_idx_load (10 classes); the image file alone also through
 * nt_idx_load_images. */
#include "fuzz_common.h"

#include "nntune/idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    size_t split = (size_t)data[0] | (size_t)data[1] << 8;
    data += 2;
    size -= 2;
    if (split > size) split = size;
    const char *img = fuzz_write_temp(0, "-images", data, split);
    const char *lbl = fuzz_write_temp(1, "-labels", data + split, size - split);

    nt_dataset ds;
    if (nt_idx_load(img, lbl, 10, &ds) == NT_OK) {
        if (ds.n == 0 || ds.d == 0 || !ds.pixels || !ds.y) abort();
        for (size_t i = 0; i < ds.n; i++)
            if (ds.y[i] < 0 || ds.y[i] >= 10) abort();
    }
    nt_dataset_free(&ds);

    if (nt_idx_load_images(img, &ds) == NT_OK) {
        if (ds.n == 0 || ds.d == 0 || !ds.pixels) abort();
    }
    nt_dataset_free(&ds);
    return 0;
}
