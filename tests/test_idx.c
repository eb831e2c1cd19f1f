/* test_idx.c - IDX round trips (raw and gzip) and a corpus of malformed
 * files, each refused with the right status and a message naming the file. */
#include <criterion/criterion.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include "nntune/idx.h"
#include "nntune/rng.h"

static char tmpdir[64];

static int rm_entry(const char *p, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(p);
}

static void setup(void)
{
    strcpy(tmpdir, "/tmp/nt_test_idx_XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp failed");
}

static void teardown(void)
{
    nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(idx, .init = setup, .fini = teardown);

/* tmpdir/name into buf (PATH_MAX-ish). */
static char *at(char *buf, const char *name)
{
    snprintf(buf, 256, "%s/%s", tmpdir, name);
    return buf;
}

static void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    cr_assert_not_null(fp, "cannot create %s", path);
    cr_assert_eq(fwrite(data, 1, len, fp), len, "short write to %s", path);
    fclose(fp);
}

static uint8_t *read_bytes(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp, "cannot open %s", path);
    fseek(fp, 0, SEEK_END);
    *len = (size_t)ftell(fp);
    rewind(fp);
    uint8_t *buf = malloc(*len + 1);
    cr_assert_eq(fread(buf, 1, *len, fp), *len, "short read of %s", path);
    fclose(fp);
    return buf;
}

enum { N = 5, ROWS = 3, COLS = 4 };

/* A small valid pair: pixel (i, p) = (i * 37 + p * 11) % 256 with the
 * extremes 0 and 255 present; labels 0 3 9 1 7. */
static void make_data(uint8_t *pixels, uint8_t *labels)
{
    for (int i = 0; i < N; i++)
        for (int p = 0; p < ROWS * COLS; p++)
            pixels[i * ROWS * COLS + p] = (uint8_t)((i * 37 + p * 11) % 256);
    pixels[0] = 0;
    pixels[1] = 255;
    uint8_t l[N] = {0, 3, 9, 1, 7};
    memcpy(labels, l, N);
}

static void write_valid(const char *img, const char *lab)
{
    uint8_t pixels[N * ROWS * COLS], labels[N];
    make_data(pixels, labels);
    nt_status rc = nt_idx_write(img, lab, pixels, labels, N, ROWS, COLS);
    cr_assert_eq(rc, NT_OK, "nt_idx_write: %s", nt_last_error());
}

static void check_round_trip(const char *img, const char *lab)
{
    uint8_t pixels[N * ROWS * COLS], labels[N];
    make_data(pixels, labels);
    write_valid(img, lab);
    nt_dataset ds = {0};
    nt_status rc = nt_idx_load(img, lab, 10, &ds);
    cr_assert_eq(rc, NT_OK, "nt_idx_load: %s", nt_last_error());
    cr_assert_eq(ds.n, (size_t)N, "n = %zu, want %d", ds.n, N);
    cr_assert_eq(ds.d, (size_t)(ROWS * COLS), "d = %zu, want %d", ds.d,
                 ROWS * COLS);
    cr_assert_eq(ds.n_classes, 10, "n_classes = %d", ds.n_classes);
    // the bytes are kept as they are; a row reads as byte / 255.0f exactly
    cr_assert_null(ds.X, "an IDX set holds its pixels as bytes, not X");
    cr_assert_not_null(ds.pixels, "no pixels");
    cr_assert_eq(memcmp(ds.pixels, pixels, sizeof pixels), 0, "pixels differ from the file's");
    float row[ROWS * COLS];
    for (size_t i = 0; i < ds.n; i++) {
        nt_dataset_row(&ds, i, row);
        for (size_t j = 0; j < ds.d; j++) {
            float want = (float)pixels[i * ds.d + j] / 255.0f;
            cr_assert_eq(row[j], want, "row %zu feature %zu = %.9g, want %.9g", i, j,
                         row[j], want);
        }
    }
    nt_dataset_row(&ds, 0, row);
    cr_assert_eq(row[0], 0.0f, "feature 0 = %g, want 0", row[0]);
    cr_assert_eq(row[1], 1.0f, "feature 1 = %g, want 1", row[1]);
    for (int i = 0; i < N; i++)
        cr_assert_eq(ds.y[i], labels[i], "y[%d] = %d, want %d", i, ds.y[i],
                     labels[i]);
    cr_assert_str_eq(ds.source, img, "source '%s', want '%s'", ds.source, img);
    nt_dataset_free(&ds);
    cr_assert_null(ds.pixels, "free leaves pixels set");
}

Test(idx, raw_files_round_trip_with_pixels_scaled_to_unit_range)
{
    char img[256], lab[256];
    check_round_trip(at(img, "im-idx3-ubyte"), at(lab, "lb-idx1-ubyte"));
    size_t len;
    uint8_t *b = read_bytes(img, &len);
    cr_assert_eq(len, 16u + N * ROWS * COLS, "raw image file is %zu bytes",
                 len);
    cr_assert(b[0] == 0 && b[1] == 0 && b[2] == 8 && b[3] == 3,
              "magic bytes %02x %02x %02x %02x", b[0], b[1], b[2], b[3]);
    free(b);
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", img, (long)getpid());
    cr_assert_neq(access(tmp, F_OK), 0, "temporary file %s left behind", tmp);
}

Test(idx, gzip_files_round_trip_with_pixels_scaled_to_unit_range)
{
    char img[256], lab[256];
    check_round_trip(at(img, "im-idx3-ubyte.gz"), at(lab, "lb-idx1-ubyte.gz"));
    size_t len;
    uint8_t *b = read_bytes(lab, &len);
    cr_assert(len >= 2 && b[0] == 0x1f && b[1] == 0x8b,
              "%s does not start with the gzip magic (%02x %02x)", lab, b[0],
              b[1]);
    free(b);
}

/* Expect nt_idx_load(img, lab) to fail with `want`, a zeroed output and a
 * message holding `must` (and `must2` if not NULL). */
static void expect_refused(const char *img, const char *lab, int n_classes,
                           nt_status want, const char *must, const char *must2)
{
    nt_dataset ds = {0};
    ds.n = 123; // must be zeroed on failure
    nt_clear_error();
    nt_status rc = nt_idx_load(img, lab, n_classes, &ds);
    const char *msg = nt_last_error();
    cr_assert_eq(rc, want, "status %d (%s), want %d; message: %s", rc,
                 nt_strerror(rc), want, msg);
    cr_assert(ds.n == 0 && ds.X == NULL && ds.pixels == NULL && ds.y == NULL,
              "output not zeroed: n = %zu, pixels = %p", ds.n, (void *)ds.pixels);
    cr_assert_not_null(strstr(msg, must), "message '%s' lacks '%s'", msg, must);
    if (must2)
        cr_assert_not_null(strstr(msg, must2), "message '%s' lacks '%s'", msg,
                           must2);
}

/* Rewrite a file with bytes [0, keep) and then `extra`. */
static void rewrite(const char *path, size_t keep, const void *extra,
                    size_t n_extra)
{
    size_t len;
    uint8_t *b = read_bytes(path, &len);
    cr_assert_leq(keep, len, "keep %zu > length %zu", keep, len);
    uint8_t *nb = malloc(keep + n_extra + 1);
    memcpy(nb, b, keep);
    if (n_extra) memcpy(nb + keep, extra, n_extra);
    write_bytes(path, nb, keep + n_extra);
    free(b);
    free(nb);
}

Test(idx, truncated_image_file_is_refused)
{
    char img[256], lab[256];
    write_valid(at(img, "im"), at(lab, "lb"));
    rewrite(img, 16 + N * ROWS * COLS - 5, NULL, 0);
    expect_refused(img, lab, 10, NT_ERR_FORMAT, img, "truncated");
}

Test(idx, truncated_label_file_is_refused)
{
    char img[256], lab[256];
    write_valid(at(img, "im"), at(lab, "lb"));
    rewrite(lab, 8 + N - 1, NULL, 0);
    expect_refused(img, lab, 10, NT_ERR_FORMAT, lab, "truncated");
}

Test(idx, truncated_header_is_refused)
{
    char img[256], lab[256];
    write_valid(at(img, "im"), at(lab, "lb"));
    rewrite(img, 10, NULL, 0);
    expect_refused(img, lab, 10, NT_ERR_FORMAT, img, "header");
}

Test(idx, trailing_bytes_after_the_images_are_refused)
{
    char img[256], lab[256];
    write_valid(at(img, "im"), at(lab, "lb"));
    rewrite(img, 16 + N * ROWS * COLS, "xyz", 3);
    expect_refused(img, lab, 10, NT_ERR_FORMAT, img, "3 bytes after");
}

Test(idx, trailing_bytes_after_the_labels_are_refused)
{
    char img[256], lab[256];
    write_valid(at(img, "im"), at(lab, "lb"));
    rewrite(lab, 8 + N, "\0", 1);
    expect_refused(img, lab, 10, NT_ERR_FORMAT, lab, "1 bytes after");
}

Test(idx, wrong_magic_is_refused)
{
    char img[256], lab[256];
    write_valid(at(img, "im"), at(lab, "lb"));
    // a label file where images are expected, and the other way round
    expect_refused(lab, lab, 10, NT_ERR_FORMAT, lab, "magic 0x00000801");
    expect_refused(img, img, 10, NT_ERR_FORMAT, img, "magic 0x00000803");
}

Test(idx, image_and_label_count_mismatch_names_both_files_and_counts)
{
    char img[256], lab[256];
    write_valid(at(img, "im"), at(lab, "lb"));
    uint8_t four[N - 1 + 8] = {0, 0, 8, 1, 0, 0, 0, N - 1, 1, 2, 3, 4};
    write_bytes(lab, four, sizeof four);
    expect_refused(img, lab, 10, NT_ERR_MISMATCH, img, lab);
    expect_refused(img, lab, 10, NT_ERR_MISMATCH, "5 images", "4 labels");
}

Test(idx, label_out_of_range_names_file_index_and_label)
{
    char img[256], lab[256];
    write_valid(at(img, "im"), at(lab, "lb"));
    // labels are 0 3 9 1 7: with 8 classes, index 2 (label 9) is the first bad
    expect_refused(img, lab, 8, NT_ERR_FORMAT, lab, "label 9 at index 2");
}

Test(idx, empty_file_is_refused)
{
    char img[256], lab[256];
    write_valid(at(img, "im"), at(lab, "lb"));
    write_bytes(img, "", 0);
    expect_refused(img, lab, 10, NT_ERR_FORMAT, img, "empty");
}

Test(idx, missing_file_is_an_io_error_naming_it)
{
    char img[256], lab[256];
    write_valid(at(img, "im"), at(lab, "lb"));
    char missing[256];
    at(missing, "no-such-file");
    expect_refused(img, missing, 10, NT_ERR_IO, missing, NULL);
    expect_refused(missing, lab, 10, NT_ERR_IO, missing, NULL);
}

Test(idx, zero_dimensions_are_refused)
{
    char img[256], lab[256];
    write_valid(at(img, "im"), at(lab, "lb"));
    uint8_t zero_rows[16] = {0, 0, 8, 3, 0, 0, 0, N, 0, 0, 0, 0, 0, 0, 0, COLS};
    write_bytes(img, zero_rows, sizeof zero_rows);
    expect_refused(img, lab, 10, NT_ERR_FORMAT, img, "zero");
    uint8_t zero_n[8] = {0, 0, 8, 1, 0, 0, 0, 0};
    write_valid(img, lab);
    write_bytes(lab, zero_n, sizeof zero_n);
    expect_refused(img, lab, 10, NT_ERR_FORMAT, lab, "zero");
}

Test(idx, absurd_header_dimensions_are_refused_before_allocating)
{
    char img[256], lab[256];
    write_valid(at(img, "im"), at(lab, "lb"));
    // 2^32-1 images of 65536 x 65536: would overflow a 64-bit byte count
    uint8_t huge[16] = {0, 0, 8, 3, 255, 255, 255, 255, 0, 1, 0, 0, 0, 1, 0, 0};
    write_bytes(img, huge, sizeof huge);
    expect_refused(img, lab, 10, NT_ERR_FORMAT, img, "2 GiB");
    // 3 GB: fits in 64 bits but not under the limit
    uint8_t big[16] = {0, 0, 8, 3, 0, 0, 0xEA, 0x60,
                       0, 0, 0xC3, 0x50, 0, 0, 0, 1};
    write_bytes(img, big, sizeof big);
    expect_refused(img, lab, 10, NT_ERR_FORMAT, img, "2 GiB");
}

/* A larger gzip pair whose deflate stream is long enough to corrupt in the
 * middle: 200 images of 28 x 28 of smooth, compressible noise. */
static void write_big_gz(const char *img, const char *lab)
{
    enum { BN = 200, BD = 28 * 28 };
    uint8_t *pixels = malloc(BN * BD), labels[BN];
    nt_rng r;
    nt_rng_seed(&r, 7);
    for (int k = 0; k < BN * BD; k++)
        pixels[k] = (uint8_t)((k % 28) * 9 + nt_rng_below(&r, 4));
    for (int i = 0; i < BN; i++) labels[i] = (uint8_t)(i % 10);
    nt_status rc = nt_idx_write(img, lab, pixels, labels, BN, 28, 28);
    cr_assert_eq(rc, NT_OK, "nt_idx_write: %s", nt_last_error());
    free(pixels);
}

Test(idx, corrupt_gzip_is_a_format_error_with_zlibs_message)
{
    char img[256], lab[256];
    write_big_gz(at(img, "im.gz"), at(lab, "lb.gz"));
    nt_dataset ds = {0};
    cr_assert_eq(nt_idx_load(img, lab, 10, &ds), NT_OK, "valid gz refused: %s",
                 nt_last_error());
    nt_dataset_free(&ds);
    size_t len;
    uint8_t *b = read_bytes(img, &len);
    cr_assert_gt(len, 200u, "compressed file only %zu bytes", len);
    for (size_t k = len / 2; k < len / 2 + 16; k++) b[k] ^= 0x5A;
    write_bytes(img, b, len);
    free(b);
    expect_refused(img, lab, 10, NT_ERR_FORMAT, img, "zlib");
}

Test(idx, gzip_cut_short_is_refused_as_truncated)
{
    char img[256], lab[256];
    write_big_gz(at(img, "im.gz"), at(lab, "lb.gz"));
    size_t len;
    uint8_t *b = read_bytes(img, &len);
    free(b);
    rewrite(img, len / 2, NULL, 0);
    expect_refused(img, lab, 10, NT_ERR_FORMAT, img, "truncated");
}

static void write_gz(const char *path, const uint8_t *head, size_t n_head,
                     const uint8_t *body, size_t n_body)
{
    gzFile gz = gzopen(path, "wb9");
    cr_assert_not_null(gz, "cannot create %s", path);
    cr_assert_eq(gzwrite(gz, head, (unsigned)n_head), (int)n_head);
    cr_assert_eq(gzwrite(gz, body, (unsigned)n_body), (int)n_body);
    cr_assert_eq(gzclose(gz), Z_OK);
}

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* A tiny gzip file whose header promises 1 GiB of pixels: the reader must
 * say how little the file holds, having grown its buffer only with what
 * arrived (libFuzzer found such files running it out of memory). Outside
 * the sanitizer build, data memory is capped at 512 MiB, so reserving the
 * promised 1 GiB of bytes (or 4 GiB of floats) up front would fail. */
Test(idx, gzip_header_promising_a_gigabyte_is_refused_without_reserving_it)
{
    char img[256], lab[256];
    uint8_t head[16] = {0, 0, 8, 3, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 4, 0};
    uint8_t body[1024] = {0};
    write_gz(at(img, "im.gz"), head, sizeof head, body, 100);
    uint8_t lab_head[8] = {0, 0, 8, 1, 0, 0, 4, 0}; // 1024 labels, all there
    write_gz(at(lab, "lb.gz"), lab_head, sizeof lab_head, body, sizeof body);
#ifndef UNDER_ASAN
    struct rlimit cap = {512u << 20, 512u << 20};
    cr_assert_eq(setrlimit(RLIMIT_DATA, &cap), 0, "setrlimit failed");
#endif
    expect_refused(img, lab, 10, NT_ERR_FORMAT, img, "file holds 100");
}

Test(idx, write_refuses_sizes_beyond_32_bits)
{
    char img[256], lab[256];
    uint8_t px[1] = {0}, lb[1] = {0};
    nt_status rc = nt_idx_write(at(img, "im"), at(lab, "lb"), px, lb, 1,
                                (size_t)1 << 33, 1);
    cr_assert_eq(rc, NT_ERR_ARG, "status %d, want NT_ERR_ARG", rc);
    cr_assert_neq(access(img, F_OK), 0, "%s was created", img);
}
