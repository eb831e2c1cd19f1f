/* csv.c - a labelled data set from a CSV file (label first, then features).
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

/* First pass: the number of non-blank lines, whether the first is a header
 * (its first field is not a number), and the field count of the first data
 * line. */
static nt_status scan(FILE *fp, const char *path, size_t *lines, bool *header,
                      size_t *n_fields)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    *lines = 0;
    *header = false;
    *n_fields = 0;
    while ((len = getline(&line, &cap, fp)) >= 0) {
        chomp(line, (size_t)len);
        if (is_blank(line)) continue;
        if (*lines == 0 || (*lines == 1 && *header)) {
            size_t nf = count_fields(line);
            char *comma = strchr(line, ',');
            if (comma) *comma = '\0';
            double v;
            if (*lines == 0 && !parse_double(line, &v))
                *header = true;
            else
                *n_fields = nf;
        }
        (*lines)++;
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
    size_t n_fields; // expected fields per line
    int n_classes;   // 0: any label below MAX_CLASSES
} csv_ctx;

/* Parse one data line into x (d features) and *label. */
static nt_status parse_row(const csv_ctx *c, char *line, float *x,
                           int32_t *label)
{
    size_t nf = count_fields(line);
    if (nf != c->n_fields) {
        nt_errorf("%s:%zu: %zu field%s, expected %zu", c->path, c->lineno, nf,
                  nf == 1 ? "" : "s", c->n_fields);
        return NT_ERR_FORMAT;
    }
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
        if (f > 0 && !isfinite((float)v)) {
            nt_errorf("%s:%zu: field %zu: '%.40s' is out of float range",
                      c->path, c->lineno, f + 1, field);
            return NT_ERR_FORMAT;
        }
        if (f == 0) {
            if (v < 0 || v != floor(v)) {
                nt_errorf("%s:%zu: field 1: label '%.40s' is not a "
                          "non-negative integer", c->path, c->lineno, field);
                return NT_ERR_FORMAT;
            }
            int limit = c->n_classes ? c->n_classes : MAX_CLASSES;
            if (v >= limit) {
                nt_errorf("%s:%zu: field 1: label %.0f is not below %d (%s)",
                          c->path, c->lineno, v, limit,
                          c->n_classes ? "the number of classes"
                                       : "the most classes supported");
                return NT_ERR_FORMAT;
            }
            *label = (int32_t)v;
        } else {
            x[f - 1] = (float)v;
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

/* Pixels (every feature in [0,255], some above 1) are scaled to [0,1]. */
static void scale_pixels(nt_dataset *ds)
{
    size_t total = ds->n * ds->d;
    float lo = ds->X[0], hi = ds->X[0];
    for (size_t i = 1; i < total; i++) {
        lo = fminf(lo, ds->X[i]);
        hi = fmaxf(hi, ds->X[i]);
    }
    if (lo < 0.0f || hi > 255.0f || hi <= 1.0f) return;
    for (size_t i = 0; i < total; i++) ds->X[i] /= 255.0f;
}

nt_status nt_csv_load(const char *path, int n_classes, nt_dataset *out)
{
    assert(path && out && n_classes >= 0);
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(path, "r");
    if (!fp) {
        nt_errorf("%s: cannot open (%s)", path, strerror(errno));
        return NT_ERR_IO;
    }
    size_t lines = 0, n_fields = 0;
    bool header = false;
    nt_status rc = scan(fp, path, &lines, &header, &n_fields);
    if (rc == NT_OK && lines == 0) {
        nt_errorf("%s: empty file", path);
        rc = NT_ERR_FORMAT;
    } else if (rc == NT_OK && lines == 1 && header) {
        nt_errorf("%s: no data rows (only a header)", path);
        rc = NT_ERR_FORMAT;
    } else if (rc == NT_OK && n_fields < 2) {
        nt_errorf("%s: rows need a label and at least one feature (the first "
                  "data row has 1 field)", path);
        rc = NT_ERR_FORMAT;
    }
    if (rc == NT_OK)
        rc = nt_dataset_alloc(lines - header, n_fields - 1, n_classes, out);
    if (rc == NT_OK) {
        rewind(fp);
        csv_ctx c = {.path = path, .n_fields = n_fields,
                     .n_classes = n_classes};
        rc = parse_all(fp, &c, header, out);
    }
    fclose(fp);
    if (rc != NT_OK) {
        nt_dataset_free(out);
        return rc;
    }
    if (n_classes == 0) {
        int32_t max = 0;
        for (size_t i = 0; i < out->n; i++)
            if (out->y[i] > max) max = out->y[i];
        out->n_classes = max + 1;
    }
    scale_pixels(out);
    snprintf(out->source, sizeof out->source, "%s", path);
    return NT_OK;
}
