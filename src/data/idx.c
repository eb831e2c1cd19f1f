/* idx.c - IDX image and label files, raw or gzip, through zlib's gz* API. */
#include "nntune/idx.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

enum {
    IDX_IMAGES = 0x803,
    IDX_LABELS = 0x801,
    CHUNK = 1 << 20,           // bytes per gzread/gzwrite call
};
// the largest payload we accept: MNIST is 47 MB, so 2 GiB means a bad header
static const uint64_t MAX_PAYLOAD = (uint64_t)1 << 31;

/* An open IDX file whose header has been read and checked. */
typedef struct {
    const char *path; // borrowed
    gzFile gz;
    uint32_t dims[3]; // n, rows, cols (rows = cols = 1 for labels)
    size_t bytes;     // payload bytes the header promises
    bool sized;       // a plain file checked to hold them (stat)
} idx_file;

/* zlib's message for f, without the "path: " zlib puts in front. */
static const char *zlib_message(const idx_file *f, int *errnum)
{
    const char *msg = gzerror(f->gz, errnum);
    size_t len = strlen(f->path);
    if (strncmp(msg, f->path, len) == 0 && strncmp(msg + len, ": ", 2) == 0)
        msg += len + 2;
    return msg;
}

/* The status and message for a failed or short gzread, if zlib reports an
 * error; NT_OK if it was a clean end of file. */
static nt_status gz_failure(idx_file *f)
{
    int errnum = Z_OK;
    const char *msg = zlib_message(f, &errnum);
    if (errnum == Z_ERRNO) {
        nt_errorf("%s: read error (%s)", f->path, strerror(errno));
        return NT_ERR_IO;
    }
    // Z_BUF_ERROR is a gzip stream cut short; the caller reports truncation
    if (errnum != Z_OK && errnum != Z_BUF_ERROR) {
        nt_errorf("%s: corrupt gzip data (zlib: %s)", f->path, msg);
        return NT_ERR_FORMAT;
    }
    return NT_OK;
}

/* Read up to len bytes; *got is how many arrived before end of file. */
static nt_status read_some(idx_file *f, void *buf, size_t len, size_t *got)
{
    uint8_t *p = buf;
    *got = 0;
    while (*got < len) {
        size_t want = len - *got < CHUNK ? len - *got : CHUNK;
        int r = gzread(f->gz, p + *got, (unsigned)want);
        if (r < 0) {
            nt_status rc = gz_failure(f);
            if (rc != NT_OK) return rc;
            nt_errorf("%s: read error", f->path);
            return NT_ERR_IO;
        }
        if (r == 0) return gz_failure(f);
        *got += (size_t)r;
    }
    return NT_OK;
}

static uint32_t be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
           (uint32_t)b[3];
}

static void idx_close(idx_file *f)
{
    if (f->gz) gzclose_r(f->gz);
    f->gz = NULL;
}

/* Open `path` and check its header against `magic`. */
static nt_status idx_open(const char *path, uint32_t magic, idx_file *f)
{
    memset(f, 0, sizeof *f);
    f->path = path;
    f->gz = gzopen(path, "rb");
    if (!f->gz) {
        nt_errorf("%s: cannot open (%s)", path,
                  errno ? strerror(errno) : "out of memory");
        return NT_ERR_IO;
    }
    gzbuffer(f->gz, 256 * 1024);

    int ndims = magic == IDX_IMAGES ? 3 : 1;
    uint8_t head[16];
    size_t want = 4 + 4 * (size_t)ndims, got;
    nt_status rc = read_some(f, head, want, &got);
    if (rc != NT_OK) return rc;
    if (got == 0) {
        nt_errorf("%s: empty file", path);
        return NT_ERR_FORMAT;
    }
    if (got < 4) {
        nt_errorf("%s: truncated header (%zu bytes, want %zu)", path, got,
                  want);
        return NT_ERR_FORMAT;
    }
    if (be32(head) != magic) {
        nt_errorf("%s: bad IDX magic 0x%08x (want 0x%08x, %s)", path,
                  be32(head), magic,
                  magic == IDX_IMAGES ? "unsigned-byte images"
                                      : "unsigned-byte labels");
        return NT_ERR_FORMAT;
    }
    if (got < want) {
        nt_errorf("%s: truncated header (%zu bytes, want %zu)", path, got,
                  want);
        return NT_ERR_FORMAT;
    }
    f->dims[0] = be32(head + 4);
    f->dims[1] = ndims == 3 ? be32(head + 8) : 1;
    f->dims[2] = ndims == 3 ? be32(head + 12) : 1;
    if (f->dims[0] == 0 || f->dims[1] == 0 || f->dims[2] == 0) {
        if (ndims == 3)
            nt_errorf("%s: zero dimension in header (%u images of %u x %u)",
                      path, f->dims[0], f->dims[1], f->dims[2]);
        else
            nt_errorf("%s: zero labels in header", path);
        return NT_ERR_FORMAT;
    }
    // each factor is < 2^32, so check the first product before the second
    uint64_t bytes = (uint64_t)f->dims[0] * f->dims[1];
    if (bytes > MAX_PAYLOAD || bytes * f->dims[2] > MAX_PAYLOAD) {
        nt_errorf("%s: header promises %u x %u x %u bytes, over the 2 GiB "
                  "limit", path, f->dims[0], f->dims[1], f->dims[2]);
        return NT_ERR_FORMAT;
    }
    f->bytes = (size_t)(bytes * f->dims[2]);
    // an uncompressed file must hold the promised bytes: check its size
    // before the caller allocates room for them
    struct stat st;
    if (gzdirect(f->gz) && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
        if ((uint64_t)st.st_size < want + (uint64_t)f->bytes) {
            nt_errorf("%s: truncated: header promises %zu bytes of data, file "
                      "holds %zu", path, f->bytes, (size_t)st.st_size - want);
            return NT_ERR_FORMAT;
        }
        f->sized = true;
    }
    return NT_OK;
}

/* After the payload: the file must end here, and a gzip stream must end
 * with a good checksum. */
static nt_status expect_end(idx_file *f)
{
    uint8_t extra[4096];
    size_t got, total = 0;
    do {
        nt_status rc = read_some(f, extra, sizeof extra, &got);
        if (rc != NT_OK) return rc;
        total += got;
    } while (got == sizeof extra && total < (1u << 20));
    if (total > 0) {
        nt_errorf("%s: trailing data: %s%zu bytes after the %zu the header "
                  "promises", f->path, got == sizeof extra ? "over " : "",
                  total, f->bytes);
        return NT_ERR_FORMAT;
    }
    return NT_OK;
}

static nt_status truncated(const idx_file *f, size_t got)
{
    int errnum = Z_OK;
    const char *msg = zlib_message(f, &errnum);
    nt_errorf("%s: truncated: header promises %zu bytes of data, file holds "
              "%zu%s%s%s", f->path, f->bytes, got,
              errnum == Z_BUF_ERROR ? " (zlib: " : "",
              errnum == Z_BUF_ERROR ? msg : "",
              errnum == Z_BUF_ERROR ? ")" : "");
    return NT_ERR_FORMAT;
}

/* Read the payload into a new byte buffer *out (f->bytes long), then check
 * the file ends there. A plain file known to hold the payload gets it all
 * at once; otherwise (gzip) the buffer grows with what actually arrives -
 * from 1 MiB, doubling, up to the header's promise - so a small file whose
 * header promises gigabytes is refused as truncated after reading what it
 * holds, never after reserving what it claims. Room not yet written is
 * advised into huge pages (common.h): the read is what first touches it. */
static nt_status read_payload(idx_file *f, uint8_t **out)
{
    *out = NULL;
    size_t cap = f->sized || f->bytes < CHUNK ? f->bytes : CHUNK, done = 0;
    uint8_t *buf = malloc(cap);
    nt_status rc = NT_OK;
    if (!buf) goto nomem;
    nt_advise_huge_pages(buf, cap);
    while (done < f->bytes) {
        if (done == cap) {
            size_t grown = cap > f->bytes / 2 ? f->bytes : 2 * cap;
            uint8_t *more = realloc(buf, grown);
            if (!more) goto nomem;
            buf = more;
            cap = grown;
            nt_advise_huge_pages(buf + done, cap - done);
        }
        size_t got;
        rc = read_some(f, buf + done, cap - done, &got);
        if (rc != NT_OK) break;
        done += got;
        if (done < cap) {
            rc = truncated(f, done);
            break;
        }
    }
    if (rc == NT_OK) rc = expect_end(f);
    if (rc != NT_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    return NT_OK;
nomem:
    free(buf);
    nt_errorf("%s: out of memory after %zu of %zu bytes", f->path, done,
              f->bytes);
    return NT_ERR_NOMEM;
}

static nt_status check_labels(const idx_file *f, const uint8_t *bytes,
                              int n_classes, int32_t *y)
{
    for (size_t i = 0; i < f->bytes; i++) {
        if (bytes[i] >= n_classes) {
            nt_errorf("%s: label %u at index %zu is not below %d (the number "
                      "of classes)", f->path, bytes[i], i, n_classes);
            return NT_ERR_FORMAT;
        }
        y[i] = bytes[i];
    }
    return NT_OK;
}

nt_status nt_idx_load(const char *images_path, const char *labels_path,
                      int n_classes, nt_dataset *out)
{
    assert(images_path && labels_path && out && n_classes > 0);
    memset(out, 0, sizeof *out);
    idx_file im = {0}, lb = {0};
    uint8_t *pixels = NULL, *labels = NULL;
    nt_status rc = idx_open(images_path, IDX_IMAGES, &im);
    if (rc == NT_OK) rc = idx_open(labels_path, IDX_LABELS, &lb);
    if (rc == NT_OK && im.dims[0] != lb.dims[0]) {
        nt_errorf("%s: %u images, but %s: %u labels", images_path, im.dims[0],
                  labels_path, lb.dims[0]);
        rc = NT_ERR_MISMATCH;
    }
    if (rc == NT_OK) rc = read_payload(&im, &pixels);
    if (rc == NT_OK) rc = read_payload(&lb, &labels);
    // the data set keeps the pixel bytes (nt_dataset_row scales them)
    if (rc == NT_OK) {
        rc = nt_dataset_adopt_pixels(im.dims[0], (size_t)im.dims[1] * im.dims[2],
                                     n_classes, pixels, out);
        pixels = NULL;
    }
    if (rc == NT_OK) rc = check_labels(&lb, labels, n_classes, out->y);
    free(pixels);
    free(labels);
    idx_close(&im);
    idx_close(&lb);
    if (rc != NT_OK) {
        nt_dataset_free(out);
        return rc;
    }
    snprintf(out->source, sizeof out->source, "%s", images_path);
    return NT_OK;
}

nt_status nt_idx_load_images(const char *path, nt_dataset *out)
{
    assert(path && out);
    memset(out, 0, sizeof *out);
    idx_file im = {0};
    uint8_t *pixels = NULL;
    nt_status rc = idx_open(path, IDX_IMAGES, &im);
    if (rc == NT_OK) rc = read_payload(&im, &pixels);
    if (rc == NT_OK) {
        rc = nt_dataset_adopt_pixels(im.dims[0], (size_t)im.dims[1] * im.dims[2], 0,
                                     pixels, out);
        pixels = NULL;
    }
    free(pixels);
    idx_close(&im);
    if (rc != NT_OK) {
        nt_dataset_free(out);
        return rc;
    }
    snprintf(out->source, sizeof out->source, "%s", path);
    return NT_OK;
}

/* ---- writing ---- */

static bool ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

static nt_status write_all(gzFile gz, const char *path, const void *buf,
                           size_t len)
{
    const uint8_t *p = buf;
    while (len > 0) {
        unsigned want = len < CHUNK ? (unsigned)len : CHUNK;
        if (gzwrite(gz, p, want) != (int)want) {
            int errnum;
            const char *msg = gzerror(gz, &errnum);
            nt_errorf("%s: write error (%s)", path,
                      errnum == Z_ERRNO ? strerror(errno) : msg);
            return NT_ERR_IO;
        }
        p += want;
        len -= want;
    }
    return NT_OK;
}

/* Write header words then payload to path.tmp.PID, then rename to path. */
static nt_status write_idx(const char *path, uint32_t magic,
                           const uint32_t *dims, int ndims,
                           const uint8_t *data, size_t bytes)
{
    char tmp[4096];
    int len = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (len < 0 || (size_t)len >= sizeof tmp) {
        nt_errorf("%s: path too long", path);
        return NT_ERR_ARG;
    }
    // "T" writes plain bytes; "9" compresses as tightly as gzip -9
    gzFile gz = gzopen(tmp, ends_with(path, ".gz") ? "wb9" : "wbT");
    if (!gz) {
        nt_errorf("%s: cannot create (%s)", tmp,
                  errno ? strerror(errno) : "out of memory");
        return NT_ERR_IO;
    }
    uint8_t head[16];
    uint32_t words[4] = {magic, dims[0], dims[1], dims[2]};
    for (int w = 0; w < 1 + ndims; w++)
        for (int b = 0; b < 4; b++)
            head[4 * w + b] = (uint8_t)(words[w] >> (24 - 8 * b));
    nt_status rc = write_all(gz, tmp, head, 4 + 4 * (size_t)ndims);
    if (rc == NT_OK) rc = write_all(gz, tmp, data, bytes);
    int zrc = gzclose_w(gz);
    if (rc == NT_OK && zrc != Z_OK) {
        nt_errorf("%s: write error on close (zlib code %d)", tmp, zrc);
        rc = NT_ERR_IO;
    }
    if (rc == NT_OK && rename(tmp, path) != 0) {
        nt_errorf("%s: cannot rename from %s (%s)", path, tmp, strerror(errno));
        rc = NT_ERR_IO;
    }
    if (rc != NT_OK) remove(tmp);
    return rc;
}

nt_status nt_idx_write(const char *images_path, const char *labels_path,
                       const uint8_t *pixels, const uint8_t *labels,
                       size_t n, size_t rows, size_t cols)
{
    assert(images_path && labels_path);
    assert(n == 0 || (pixels && labels));
    if (n > UINT32_MAX || rows > UINT32_MAX || cols > UINT32_MAX) {
        nt_errorf("%s: %zu images of %zu x %zu do not fit IDX's 32-bit sizes",
                  images_path, n, rows, cols);
        return NT_ERR_ARG;
    }
    uint32_t dims[3] = {(uint32_t)n, (uint32_t)rows, (uint32_t)cols};
    nt_status rc = write_idx(images_path, IDX_IMAGES, dims, 3, pixels,
                             n * rows * cols);
    if (rc != NT_OK) return rc;
    return write_idx(labels_path, IDX_LABELS, dims, 1, labels, n);
}
