/* csv.c - data sets from CSV files: labelled (label first, then features)
 * for training, and labelled or unlabeled rows for prediction.
 * Two passes: the first counts rows and so sizes X exactly, the second
 * parses into it. */
#include "nntune/csv.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// labels become class indices, so a stray huge label must not size arrays
enum { MAX_CLASSES = 65536 };

/* Strip the line ending (\n or \r\n) in place; the new length. */
static size_t chomp(char *line, size_t len)
{
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
    return len;
}

static bool is_blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t') return false;
    return true;
}

/* Parse a whole field as a double (surrounding blanks allowed). */
static bool parse_double(const char *field, double *v)
{
    char *end;
    *v = strtod(field, &end);
    if (end == field) return false;
    while (*end == ' ' || *end == '\t') end++;
    return *end == '\0';
}

static size_t count_fields(const char *line)
{
    size_t n = 1;
    for (; *line; line++) n += *line == ',';
    return n;
}

/* What the first pass learns about a file. */
typedef struct {
    size_t lines;      // non-blank lines, header included
    bool header;       // the first non-blank line's first field is no number
    size_t n_fields;   // fields of the first data line
    size_t first_data; // its line number (1-based)
} csv_shape;

/* First pass: count lines, detect a header, measure the first data line. */
static nt_status scan(FILE *fp, const char *path, csv_shape *s)
{
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    memset(s, 0, sizeof *s);
    while ((len = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        chomp(line, (size_t)len);
        if (is_blank(line)) continue;
        if (s->lines == 0 || (s->lines == 1 && s->header)) {
            size_t nf = count_fields(line);
            char *comma = strchr(line, ',');
            if (comma) *comma = '\0';
            double v;
            if (s->lines == 0 && !parse_double(line, &v)) {
                s->header = true;
            } else {
                s->n_fields = nf;
                s->first_data = lineno;
            }
        }
        s->lines++;
    }
    int err = errno;
    bool bad = ferror(fp);
    free(line);
    if (bad) {
        nt_errorf("%s: read error (%s)", path, strerror(err));
        return NT_ERR_IO;
    }
    return NT_OK;
}

typedef struct {
    const char *path;
    size_t lineno;
    size_t n_fields;   // expected fields per line
    bool labelled;     // field 1 is the label
    bool for_features; // nt_csv_load_features: explain width changes
    size_t first_data; // line the width was taken from
    int n_classes;     // 0: any label below MAX_CLASSES
} csv_ctx;

static nt_status bad_width(const csv_ctx *c, size_t nf)
{
    if (c->for_features)
        nt_errorf("%s:%zu: %zu field%s, but line %zu has %zu; rows must be "
                  "all unlabeled (%zu features) or all labelled (a label, "
                  "then %zu features)", c->path, c->lineno, nf,
                  nf == 1 ? "" : "s", c->first_data, c->n_fields,
                  c->n_fields - c->labelled, c->n_fields - c->labelled);
    else
        nt_errorf("%s:%zu: %zu field%s, expected %zu", c->path, c->lineno, nf,
                  nf == 1 ? "" : "s", c->n_fields);
    return NT_ERR_FORMAT;
}

static nt_status parse_label(const csv_ctx *c, const char *field, double v,
                             int32_t *label)
{
    if (v < 0 || v != floor(v)) {
        nt_errorf("%s:%zu: field 1: label '%.40s' is not a non-negative "
                  "integer", c->path, c->lineno, field);
        return NT_ERR_FORMAT;
    }
    int limit = c->n_classes ? c->n_classes : MAX_CLASSES;
    if (v >= limit) {
        nt_errorf("%s:%zu: field 1: label %.0f is not below %d (%s)", c->path,
                  c->lineno, v, limit,
                  c->n_classes ? "the number of classes"
                               : "the most classes supported");
        return NT_ERR_FORMAT;
    }
    *label = (int32_t)v;
    return NT_OK;
}

/* Parse one data line into x (its features) and, if labelled, *label. */
static nt_status parse_row(const csv_ctx *c, char *line, float *x,
                           int32_t *label)
{
    size_t nf = count_fields(line);
    if (nf != c->n_fields) return bad_width(c, nf);
    char *field = line;
    for (size_t f = 0; f < nf; f++) {
        char *comma = strchr(field, ',');
        if (comma) *comma = '\0';
        double v;
        if (!parse_double(field, &v)) {
            nt_errorf("%s:%zu: field %zu: '%.40s' is not a number", c->path,
                      c->lineno, f + 1, field);
            return NT_ERR_FORMAT;
        }
        if (!isfinite(v)) {
            nt_errorf("%s:%zu: field %zu: '%.40s' is not finite", c->path,
                      c->lineno, f + 1, field);
            return NT_ERR_FORMAT;
        }
        bool is_label = c->labelled && f == 0;
        if (!is_label && !isfinite((float)v)) {
            nt_errorf("%s:%zu: field %zu: '%.40s' is out of float range",
                      c->path, c->lineno, f + 1, field);
            return NT_ERR_FORMAT;
        }
        if (is_label) {
            nt_status rc = parse_label(c, field, v, label);
            if (rc != NT_OK) return rc;
        } else {
            x[f - c->labelled] = (float)v;
        }
        field = comma ? comma + 1 : field + strlen(field);
    }
    return NT_OK;
}

/* Second pass: parse n rows of d features into out (already allocated). */
static nt_status parse_all(FILE *fp, csv_ctx *c, bool header, nt_dataset *out)
{
    char *line = NULL;
    size_t cap = 0, row = 0;
    ssize_t len;
    nt_status rc = NT_OK;
    bool skip_header = header;
    c->lineno = 0;
    while (rc == NT_OK && (len = getline(&line, &cap, fp)) >= 0) {
        c->lineno++;
        chomp(line, (size_t)len);
        if (is_blank(line)) continue;
        if (skip_header) {
            size_t nf = count_fields(line);
            if (nf != c->n_fields) {
                nt_errorf("%s:%zu: header has %zu fields, the data %zu",
                          c->path, c->lineno, nf, c->n_fields);
                rc = NT_ERR_FORMAT;
            }
            skip_header = false;
            continue;
        }
        if (row == out->n) {
            nt_errorf("%s:%zu: file grew while being read", c->path, c->lineno);
            rc = NT_ERR_IO;
            break;
        }
        rc = parse_row(c, line, out->X + row * out->d, out->y + row);
        row++;
    }
    if (rc == NT_OK && ferror(fp)) {
        nt_errorf("%s: read error (%s)", c->path, strerror(errno));
        rc = NT_ERR_IO;
    }
    if (rc == NT_OK && row != out->n) {
        nt_errorf("%s: file shrank while being read (%zu rows, then %zu)",
                  c->path, out->n, row);
        rc = NT_ERR_IO;
    }
    free(line);
    return rc;
}

/* Apply `scale` (NT_CSV_SCALE_*) to X; true if it was divided by 255.
 * AUTO: pixels (every feature in [0,255], some above 1) are scaled. */
static bool scale_features(nt_dataset *ds, int scale)
{
    size_t total = ds->n * ds->d;
    if (scale == NT_CSV_SCALE_AUTO) {
        float lo = ds->X[0], hi = ds->X[0];
        for (size_t i = 1; i < total; i++) {
            lo = fminf(lo, ds->X[i]);
            hi = fmaxf(hi, ds->X[i]);
        }
        scale = lo < 0.0f || hi > 255.0f || hi <= 1.0f ? NT_CSV_SCALE_NEVER
                                                       : NT_CSV_SCALE_255;
    }
    if (scale == NT_CSV_SCALE_NEVER) return false;
    for (size_t i = 0; i < total; i++) ds->X[i] /= 255.0f;
    return true;
}

/* The rows' layout: labelled with d = n_fields - 1 (want_d == 0, training
 * files), or the width of the first data row decides (want_d > 0). */
static nt_status choose_layout(const char *path, const csv_shape *s,
                               size_t want_d, csv_ctx *c)
{
    if (s->lines == 0) {
        nt_errorf("%s: empty file", path);
        return NT_ERR_FORMAT;
    }
    if (s->lines == 1 && s->header) {
        nt_errorf("%s: no data rows (only a header)", path);
        return NT_ERR_FORMAT;
    }
    c->n_fields = s->n_fields;
    c->first_data = s->first_data;
    if (want_d == 0) {
        if (s->n_fields < 2) {
            nt_errorf("%s: rows need a label and at least one feature (the "
                      "first data row has 1 field)", path);
            return NT_ERR_FORMAT;
        }
        c->labelled = true;
        return NT_OK;
    }
    c->for_features = true;
    if (s->n_fields != want_d && s->n_fields != want_d + 1) {
        nt_errorf("%s:%zu: %zu field%s, want %zu features or a label then "
                  "%zu features (%zu fields)", path, s->first_data,
                  s->n_fields, s->n_fields == 1 ? "" : "s", want_d, want_d,
                  want_d + 1);
        return NT_ERR_MISMATCH;
    }
    c->labelled = s->n_fields == want_d + 1;
    return NT_OK;
}

/* The common loader. want_d = 0 for labelled training files. */
static nt_status load(const char *path, int n_classes, size_t want_d,
                      int scale, nt_dataset *out, bool *scaled)
{
    memset(out, 0, sizeof *out);
    if (scaled) *scaled = false;
    FILE *fp = fopen(path, "r");
    if (!fp) {
        nt_errorf("%s: cannot open (%s)", path, strerror(errno));
        return NT_ERR_IO;
    }
    csv_shape s;
    csv_ctx c = {.path = path, .n_classes = n_classes};
    nt_status rc = scan(fp, path, &s);
    if (rc == NT_OK) rc = choose_layout(path, &s, want_d, &c);
    if (rc == NT_OK)
        rc = nt_dataset_alloc(s.lines - s.header, c.n_fields - c.labelled,
                              n_classes, out);
    if (rc == NT_OK) {
        rewind(fp);
        rc = parse_all(fp, &c, s.header, out);
    }
    fclose(fp);
    if (rc != NT_OK) {
        nt_dataset_free(out);
        return rc;
    }
    if (c.labelled && n_classes == 0) {
        int32_t max = 0;
        for (size_t i = 0; i < out->n; i++)
            if (out->y[i] > max) max = out->y[i];
        out->n_classes = max + 1;
    }
    bool did = scale_features(out, scale);
    if (scaled) *scaled = did;
    snprintf(out->source, sizeof out->source, "%s", path);
    return NT_OK;
}

nt_status nt_csv_load_scaled(const char *path, int n_classes, int scale,
                             nt_dataset *out, bool *scaled)
{
    assert(path && out && n_classes >= 0);
    assert(scale == NT_CSV_SCALE_AUTO || scale == NT_CSV_SCALE_NEVER ||
           scale == NT_CSV_SCALE_255);
    return load(path, n_classes, 0, scale, out, scaled);
}

nt_status nt_csv_load(const char *path, int n_classes, nt_dataset *out)
{
    return nt_csv_load_scaled(path, n_classes, NT_CSV_SCALE_AUTO, out, NULL);
}

nt_status nt_csv_load_features(const char *path, size_t d, nt_dataset *out)
{
    assert(path && out && d > 0);
    return load(path, 0, d, NT_CSV_SCALE_AUTO, out, NULL);
}
