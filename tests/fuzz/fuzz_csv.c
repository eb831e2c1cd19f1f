/* fuzz_csv.c - libFuzzer harness for nt_csv_load_scaled and
 * nt_csv_load_features.
 *
 * Input: byte 0 picks n_classes (b % 12; 0 = from the labels) and the
 * scaling (b / 12 % 3 - 1: AUTO, NEVER, 255); byte 1 picks the feature
 * count d = 1 + b % 16 for nt_csv_load_features; the rest is the CSV file. */
#include "fuzz_common.h"

#include "nntune/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    int n_classes = data[0] % 12;
    int scale = data[0] / 12 % 3 - 1;
    size_t d = 1 + (size_t)(data[1] % 16);
    const char *path = fuzz_write_temp(0, ".csv", data + 2, size - 2);

    nt_dataset ds;
    bool scaled = true;
    if (nt_csv_load_scaled(path, n_classes, scale, &ds, &scaled) == NT_OK) {
        if (ds.n == 0 || ds.d == 0 || !ds.X || !ds.y || ds.n_classes < 1) abort();
        for (size_t i = 0; i < ds.n; i++)
            if (ds.y[i] < 0 || ds.y[i] >= ds.n_classes) abort();
    } else if (scaled) {
        abort();  /* contract: *scaled false on failure */
    }
    nt_dataset_free(&ds);

    if (nt_csv_load_features(path, d, &ds) == NT_OK) {
        if (ds.n == 0 || ds.d != d || !ds.X || !ds.y) abort();
    }
    nt_dataset_free(&ds);
    return 0;
}
