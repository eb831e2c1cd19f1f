/* svg.c - HTML page frame, escaping, and inline SVG charts (see svg.h).
 * Charts compute their own axis ranges and "nice" ticks (1, 2, 5 times a
 * power of ten), skip what cannot be drawn (NaN, values <= 0 on a log
 * axis) and still draw a labelled empty frame when nothing is left. */
#include "svg.h"

#include <math.h>
#include <string.h>

/* ---------------------------------------------------------------- page */

static const char CSS[] =
    "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;font-size:15px;"
    "line-height:1.45;color:#1a1a1a;background:#fff;max-width:1240px;"
    "margin:24px auto;padding:0 16px}\n"
    "h1{font-size:26px;margin:0 0 8px}\n"
    "h2{font-size:20px;margin:34px 0 6px;padding-top:8px;border-top:2px solid #ccc}\n"
    "h3{font-size:16px;margin:18px 0 4px}\n"
    "p.note{color:#333;max-width:860px;margin:4px 0 12px}\n"
    "p.muted{color:#555}\n"
    "table{border-collapse:collapse;margin:8px 0 16px;font-size:13px}\n"
    "th,td{border:1px solid #bbb;padding:3px 6px;text-align:right;vertical-align:top}\n"
    "th{background:#eee;font-weight:600}\n"
    "td.l,th.l{text-align:left}\n"
    "td{white-space:nowrap}\n"
    "tr.why td{text-align:left;white-space:normal;color:#555;font-size:12px;"
    "border-top:none;padding-bottom:5px}\n"
    "tr.best td{background:#fff2b3}\n"
    "tr.best:not(.why) td{font-weight:600}\n"
    "tr.failed td{color:#a00}\n"
    "table.kv td:first-child{text-align:left;font-weight:600;background:#f6f6f6}\n"
    "table.kv td{text-align:left}\n"
    "table.cm td{min-width:34px;text-align:center}\n"
    "pre{background:#f6f6f6;border:1px solid #ddd;padding:6px 10px;font-size:13px}\n"
    ".scroll{overflow-x:auto}\n"
    ".charts{display:flex;flex-wrap:wrap;gap:8px 18px}\n"
    "figure{margin:6px 0 14px}\n"
    "svg{display:block;max-width:100%;height:auto}\n"
    "svg text{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif}\n"
    "@media print{body{max-width:none;margin:0}h2{break-after:avoid}"
    "figure,table{break-inside:avoid}}\n";

void html_page_begin(FILE *f, const char *title)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>", f);
    html_text(f, title ? title : "nntune");
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", CSS);
    html_text(f, title ? title : "nntune");
    fputs("</h1>\n", f);
}

void html_page_end(FILE *f)
{
    fputs("</body>\n</html>\n", f);
}

void html_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* ---------------------------------------------------------------- axes */

/* Colour-blind-safe (Okabe & Ito 2008), dark enough to print. */
static const char *const PALETTE[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                      "#E69F00", "#56B4E9", "#333333", "#8C6D31"};
#define N_PALETTE (int)(sizeof PALETTE / sizeof PALETTE[0])

const char *svg_colour(int i)
{
    return PALETTE[(i < 0 ? -i : i) % N_PALETTE];
}

/* One axis: data range in drawing units (log10 of the value on a log
 * axis) and the pixel span it maps to. */
typedef struct {
    bool log;
    double lo, hi;        /* in drawing units */
    double p0, p1;        /* pixels of lo and hi */
    bool any;             /* some value was seen */
    bool frac;            /* some value was not a whole number */
} axis;

static bool axis_unit(const axis *a, double v, double *out)
{
    if (!isfinite(v) || (a->log && v <= 0)) return false;
    *out = a->log ? log10(v) : v;
    return true;
}

static void axis_see(axis *a, double v)
{
    double u;
    if (!axis_unit(a, v, &u)) return;
    if (!a->any || u < a->lo) a->lo = u;
    if (!a->any || u > a->hi) a->hi = u;
    a->any = true;
    a->frac |= v != floor(v);
}

/* Widen a flat or empty range, then pad it by 4% so points do not sit on
 * the frame. */
static void axis_finish(axis *a, bool tight)
{
    if (!a->any) {
        a->lo = 0;
        a->hi = 1;
    } else if (a->hi - a->lo < 1e-12 * (fabs(a->lo) + 1)) {
        double w = a->log ? 0.5 : (a->lo != 0 ? 0.1 * fabs(a->lo) : 1);
        a->lo -= w;
        a->hi += w;
    }
    double pad = tight ? 0 : 0.04 * (a->hi - a->lo);
    a->lo -= pad;
    a->hi += pad;
}

/* Pixel of a value already in drawing units, clamped to the frame so an
 * error bar reaching below a log axis stops at its edge. */
static double axis_px(const axis *a, double u)
{
    double t = (u - a->lo) / (a->hi - a->lo);
    if (t < -0.02) t = -0.02;
    if (t > 1.02) t = 1.02;
    return a->p0 + t * (a->p1 - a->p0);
}

/* The value v in pixels; false when it cannot be drawn. */
static bool axis_map(const axis *a, double v, double *px)
{
    double u;
    if (!axis_unit(a, v, &u)) return false;
    *px = axis_px(a, u);
    return true;
}

static double nice_step(double raw)
{
    double p = pow(10, floor(log10(raw))), m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

#define MAX_TICKS 24

/* Ticks as values (not drawing units) every nice step of at least
 * min_step, about `want` of them. */
static int linear_ticks(double lo, double hi, int want, double min_step, double *t,
                        double *step_out)
{
    double step = nice_step((hi - lo) / want);
    if (step < min_step) step = min_step;
    int n = 0;
    for (double k = ceil(lo / step - 1e-9); n < MAX_TICKS; k++) {
        double v = k * step;
        if (v > hi + 1e-9 * step) break;
        t[n++] = fabs(v) < 1e-12 * step ? 0 : v;
    }
    *step_out = step;
    return n;
}

/* Decades (thinned when there are many) when the axis spans three or more
 * or when `decades_only`; else 1, 2 and 5 times powers of ten; plain
 * linear ticks when the axis spans less than a factor 3. */
static int log_ticks(const axis *a, bool decades_only, double *t, double *step_out)
{
    int n = 0;
    double d0 = ceil(a->lo - 1e-9), d1 = floor(a->hi + 1e-9);
    int decades = (int)(d1 - d0) + 1, every = decades > 8 ? (decades + 7) / 8 : 1;
    *step_out = 0;
    if (decades >= 3 || (decades >= 2 && decades_only)) {
        for (double d = d0; d <= d1 && n < MAX_TICKS; d += every) t[n++] = pow(10, d);
        return n;
    }
    if (a->hi - a->lo >= log10(3.0)) {
        for (double d = floor(a->lo); d <= a->hi && n < MAX_TICKS - 3; d++) {
            static const double m[] = {1, 2, 5};
            for (int i = 0; i < 3; i++) {
                double u = d + log10(m[i]);
                if (u >= a->lo && u <= a->hi) t[n++] = m[i] * pow(10, d);
            }
        }
        if (n >= 2) return n;
    }
    return linear_ticks(pow(10, a->lo), pow(10, a->hi), 4, 0, t, step_out);
}

/* A tick label: as many decimals as the step needs; exponents for very
 * large or small values. */
static void tick_label(char *buf, size_t len, double v, double step)
{
    double av = fabs(v);
    if (v == 0) snprintf(buf, len, "0");
    else if (step == 0 || av >= 1e6 || av < 1e-4 || (step > 0 && step < 1e-5))
        snprintf(buf, len, "%.3g", v);
    else {
        int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
        snprintf(buf, len, "%.*f", dec > 8 ? 8 : dec, v);
    }
}

/* An axis's ticks that fall inside it, with their labels; returns how
 * many, and in *crowd how many times over their labels fill the axis. */
static int place_ticks(const axis *a, bool is_x, bool decades_only, double *pos,
                       char (*lab)[32], double *crowd)
{
    double t[MAX_TICKS], step, u, widest = 0;
    int n = a->log ? log_ticks(a, decades_only, t, &step)
                   : linear_ticks(a->lo, a->hi, is_x ? 6 : 5, a->frac ? 0 : 1, t, &step);
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (!axis_unit(a, t[i], &u) || u < a->lo || u > a->hi) continue;
        pos[m] = axis_px(a, u);
        tick_label(lab[m], sizeof lab[m], t[i], step);
        double w = is_x ? 7.0 * strlen(lab[m]) + 10 : 18;   // 12px text
        if (w > widest) widest = w;
        m++;
    }
    *crowd = m * widest / fabs(a->p1 - a->p0);
    return m;
}

/* The ticks to draw: on a crowded log axis decades alone; on any axis
 * still crowded every k-th tick. Returns how many. */
static int visible_ticks(const axis *a, bool is_x, double *pos, char (*lab)[32])
{
    double crowd;
    int m = place_ticks(a, is_x, false, pos, lab, &crowd);
    if (crowd > 1 && a->log) m = place_ticks(a, is_x, true, pos, lab, &crowd);
    if (crowd <= 1) return m;
    int every = (int)ceil(crowd), k = 0;
    for (int i = 0; i < m; i += every, k++) {
        pos[k] = pos[i];
        memmove(lab[k], lab[i], sizeof lab[k]);
    }
    return k;
}

static void draw_ticks(FILE *f, const axis *a, bool is_x, const axis *other)
{
    double pos[MAX_TICKS];
    char lab[MAX_TICKS][32];
    int n = visible_ticks(a, is_x, pos, lab);
    for (int i = 0; i < n; i++) {
        double p = pos[i];
        if (is_x)
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"g\"/>"
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                    p, other->p1, p, other->p0, p, other->p0 + 15, lab[i]);
        else
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"g\"/>"
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                    other->p0, p, other->p1, p, other->p0 - 5, p + 4, lab[i]);
    }
}

/* ---------------------------------------------------------------- frame */

/* The plot rectangle and both axes of one chart. */
typedef struct {
    int w, h;             /* whole svg, pixels */
    double left, top, right, bottom;
    axis x, y;
    bool tight;           /* no padding: the data fills the frame (heatmaps) */
    const char *const *cats;  /* x categories (borrowed) or NULL */
    int n_cat;
} frame;

static void frame_layout(frame *fr, const svg_axes *ax, int legend_rows)
{
    fr->w = ax->width > 0 ? ax->width : 640;
    int plot_h = ax->height > 0 ? ax->height : 360;
    fr->h = plot_h + 18 * legend_rows;
    fr->left = 70;
    fr->right = fr->w - 16;
    fr->top = ax->title ? 30 : 12;
    fr->bottom = plot_h - 44;
    fr->x.log = ax->log_x;
    fr->y.log = ax->log_y;
}

/* Category names under x = 0, 1, ... in place of numbers. */
static void draw_categories(FILE *f, const frame *fr)
{
    for (int i = 0; i < fr->n_cat; i++) {
        double p = axis_px(&fr->x, i);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"g\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", p, fr->y.p1, p,
                fr->y.p0, p, fr->y.p0 + 15);
        html_text(f, fr->cats[i]);
        fputs("</text>\n", f);
    }
}

static void frame_begin(FILE *f, frame *fr, const svg_axes *ax)
{
    axis_finish(&fr->x, fr->tight);
    axis_finish(&fr->y, fr->tight);
    fr->x.p0 = fr->left;
    fr->x.p1 = fr->right;
    fr->y.p0 = fr->bottom;
    fr->y.p1 = fr->top;
    fprintf(f, "<svg width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", fr->w, fr->h, fr->w, fr->h);
    html_text(f, ax->title ? ax->title : "chart");
    fputs("\">\n<style>text{font-size:12px;fill:#222}.g{stroke:#e2e2e2;stroke-width:1}"
          ".t{font-size:13px;font-weight:bold}</style>\n", f);
    if (ax->title) {
        fprintf(f, "<text x=\"%.1f\" y=\"18\" class=\"t\">", fr->left);
        html_text(f, ax->title);
        fputs("</text>\n", f);
    }
    if (fr->cats) draw_categories(f, fr);
    else if (fr->x.any && fr->y.any) draw_ticks(f, &fr->x, true, &fr->y);
    if (fr->x.any && fr->y.any) draw_ticks(f, &fr->y, false, &fr->x);
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
            "stroke=\"#888\"/>\n", fr->left, fr->top, fr->right - fr->left, fr->bottom - fr->top);
    if (ax->x_label) {
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
                (fr->left + fr->right) / 2, fr->bottom + 34);
        html_text(f, ax->x_label);
        fprintf(f, "%s</text>\n", ax->log_x ? " (log scale)" : "");
    }
    if (ax->y_label) {
        double cy = (fr->top + fr->bottom) / 2;
        fprintf(f, "<text x=\"14\" y=\"%.1f\" text-anchor=\"middle\" "
                "transform=\"rotate(-90 14 %.1f)\">", cy, cy);
        html_text(f, ax->y_label);
        fprintf(f, "%s</text>\n", ax->log_y ? " (log scale)" : "");
    }
}

static void frame_empty_note(FILE *f, const frame *fr)
{
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#777\">"
            "nothing to plot</text>\n", (fr->left + fr->right) / 2, (fr->top + fr->bottom) / 2);
}

/* --------------------------------------------------------------- series */

static bool series_point(const frame *fr, const svg_series *s, int i, double *px, double *py)
{
    return axis_map(&fr->x, s->x[i], px) && axis_map(&fr->y, s->y[i], py);
}

static void see_series(frame *fr, const svg_series *s)
{
    for (int i = 0; i < s->n; i++) {
        double u;
        if (!axis_unit(&fr->x, s->x[i], &u)) continue;
        if (!axis_unit(&fr->y, s->y[i], &u) &&
            !(s->lo && s->hi && isfinite(s->lo[i]) && isfinite(s->hi[i])))
            continue;
        axis_see(&fr->x, s->x[i]);
        axis_see(&fr->y, s->y[i]);
        if (s->err && isfinite(s->err[i]) && isfinite(s->y[i])) {
            axis_see(&fr->y, s->y[i] + fabs(s->err[i]));
            axis_see(&fr->y, s->y[i] - fabs(s->err[i]));
        }
        if (s->lo && s->hi) {
            axis_see(&fr->y, s->lo[i]);
            axis_see(&fr->y, s->hi[i]);
        }
    }
}

/* The band between lo and hi as one polygon per run of drawable points;
 * stepped like the line when the series is. */
static void draw_band(FILE *f, const frame *fr, const svg_series *s, const char *col)
{
    int i = 0;
    while (i < s->n) {
        int j = i;
        double px, pl, ph;
        while (j < s->n && axis_map(&fr->x, s->x[j], &px) && axis_map(&fr->y, s->hi[j], &ph) &&
               isfinite(s->lo[j]))
            j++;
        if (j - i >= 1) {
            fprintf(f, "<polygon fill=\"%s\" fill-opacity=\"0.22\" stroke=\"none\" points=\"", col);
            for (int k = i; k < j; k++) {   // upper edge forwards
                axis_map(&fr->x, s->x[k], &px);
                axis_map(&fr->y, s->hi[k], &ph);
                fprintf(f, "%.1f,%.1f ", px, ph);
                if (s->step && k + 1 < j) {
                    double nx;
                    axis_map(&fr->x, s->x[k + 1], &nx);
                    fprintf(f, "%.1f,%.1f ", nx, ph);
                }
            }
            for (int k = j - 1; k >= i; k--) {  // lower edge backwards
                axis_map(&fr->x, s->x[k], &px);
                if (!axis_map(&fr->y, s->lo[k], &pl)) pl = fr->bottom; // <= 0 on a log axis
                if (s->step && k + 1 < j) {
                    double nx;
                    axis_map(&fr->x, s->x[k + 1], &nx);
                    fprintf(f, "%.1f,%.1f ", nx, pl);
                }
                fprintf(f, "%.1f,%.1f ", px, pl);
            }
            fputs("\"/>\n", f);
        }
        i = j + 1;
    }
}

/* The line as one path; a point that cannot be drawn starts a new piece. */
static void draw_line(FILE *f, const frame *fr, const svg_series *s, const char *col)
{
    bool pen = false, any = false;
    for (int i = 0; i < s->n; i++) {
        double px, py;
        if (!series_point(fr, s, i, &px, &py)) {
            pen = false;
            continue;
        }
        if (!any) fprintf(f, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
                          "stroke-linejoin=\"round\" d=\"", col);
        any = true;
        if (!pen) fprintf(f, "M%.1f %.1f", px, py);
        else if (s->step) fprintf(f, "H%.1fV%.1f", px, py);
        else fprintf(f, "L%.1f %.1f", px, py);
        pen = true;
    }
    if (any) fputs("\"/>\n", f);
}

static void draw_errors(FILE *f, const frame *fr, const svg_series *s, const char *col)
{
    for (int i = 0; i < s->n; i++) {
        double px, py, e = s->err[i];
        if (!isfinite(e) || e == 0 || !series_point(fr, s, i, &px, &py)) continue;
        double u_hi, u_lo, p_hi, p_lo;
        if (!axis_unit(&fr->y, s->y[i] + fabs(e), &u_hi)) continue;
        p_hi = axis_px(&fr->y, u_hi);
        p_lo = axis_unit(&fr->y, s->y[i] - fabs(e), &u_lo) ? axis_px(&fr->y, u_lo) : fr->bottom;
        fprintf(f, "<path stroke=\"%s\" stroke-width=\"1.2\" fill=\"none\" "
                "d=\"M%.1f %.1fV%.1fM%.1f %.1fh6M%.1f %.1fh6\"/>\n",
                col, px, p_lo, p_hi, px - 3, p_lo, px - 3, p_hi);
    }
}

static void draw_markers(FILE *f, const frame *fr, const svg_series *s, const char *col)
{
    fprintf(f, "<g fill=\"%s\" stroke=\"#fff\" stroke-width=\"0.8\">\n", col);
    for (int i = 0; i < s->n; i++) {
        double px, py;
        if (!series_point(fr, s, i, &px, &py)) continue;
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.6\"><title>", px, py);
        if (s->label) {
            html_text(f, s->label);
            fputs(": ", f);
        }
        fprintf(f, "x %.6g, y %.6g</title></circle>\n", s->x[i], s->y[i]);
    }
    fputs("</g>\n", f);
}

/* ---------------------------------------------------------------- legend */

static int legend_width(const char *label)
{
    return 34 + 7 * (int)strlen(label) + 16;
}

static int legend_rows(const svg_series *s, int n, int width)
{
    int rows = 0, x = width;   // width forces a new row at the first entry
    for (int i = 0; i < n; i++) {
        if (!s[i].label) continue;
        int w = legend_width(s[i].label);
        if (x + w > width - 16) {
            rows++;
            x = 70;
        }
        x += w;
    }
    return rows;
}

static void draw_legend(FILE *f, const frame *fr, const svg_series *s, int n)
{
    double x = fr->w, y = fr->bottom + 38; // first row: 18 below this
    for (int i = 0; i < n; i++) {
        if (!s[i].label) continue;
        int w = legend_width(s[i].label);
        if (x + w > fr->w - 16) {
            x = fr->left;
            y += 18;
        }
        const char *col = svg_colour(i);
        if (s[i].lo && s[i].hi)
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"26\" height=\"10\" fill=\"%s\" "
                    "fill-opacity=\"0.22\"/>\n", x, y - 9, col);
        if (!s[i].no_line)
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                    "stroke-width=\"2\"/>\n", x, y - 4, x + 26, y - 4, col);
        if (s[i].markers || s[i].no_line)
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.6\" fill=\"%s\"/>\n",
                    x + 13, y - 4, col);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", x + 32, y);
        html_text(f, s[i].label);
        fputs("</text>\n", f);
        x += w;
    }
}

/* ---------------------------------------------------------------- lines */

static void lines(FILE *f, const svg_axes *ax, const svg_series *s, int n_series,
                  const char *const *cats, int n_cat)
{
    frame fr = {.cats = n_cat > 0 ? cats : NULL, .n_cat = n_cat};
    int width = ax->width > 0 ? ax->width : 640;
    frame_layout(&fr, ax, legend_rows(s, n_series, width));
    if (fr.cats) fr.x.log = false;
    for (int i = 0; i < n_series; i++) see_series(&fr, &s[i]);
    bool empty = !fr.x.any || !fr.y.any;
    if (fr.cats) {   // every category gets its place, with or without points
        axis_see(&fr.x, -0.5);
        axis_see(&fr.x, n_cat - 0.5);
    }
    frame_begin(f, &fr, ax);
    if (empty) frame_empty_note(f, &fr);
    for (int i = 0; i < n_series && !empty; i++) {
        const char *col = svg_colour(i);
        if (s[i].lo && s[i].hi) draw_band(f, &fr, &s[i], col);
    }
    for (int i = 0; i < n_series && !empty; i++) {
        const char *col = svg_colour(i);
        if (s[i].err) draw_errors(f, &fr, &s[i], col);
        if (!s[i].no_line) draw_line(f, &fr, &s[i], col);
        if (s[i].markers || s[i].no_line) draw_markers(f, &fr, &s[i], col);
    }
    draw_legend(f, &fr, s, n_series);
    fputs("</svg>\n", f);
}

void svg_lines(FILE *f, const svg_axes *ax, const svg_series *s, int n_series)
{
    lines(f, ax, s, n_series, NULL, 0);
}

void svg_lines_cat(FILE *f, const svg_axes *ax, const svg_series *s, int n_series,
                   const char *const *cats, int n_cat)
{
    lines(f, ax, s, n_series, cats, n_cat);
}

/* -------------------------------------------------------------- heatmap */

typedef struct { double r, g, b; } rgb;

/* Viridis (van der Walt & Smith, matplotlib), five stops: perceptually
 * even and monotone in lightness, so it reads in greyscale too. */
static rgb viridis(double t)
{
    static const rgb stop[] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140},
                               {94, 201, 98}, {253, 231, 37}};
    if (!(t > 0)) t = 0;
    if (t > 1) t = 1;
    double u = t * 4;
    int i = u >= 4 ? 3 : (int)u;
    double w = u - i;
    return (rgb){stop[i].r + w * (stop[i + 1].r - stop[i].r),
                 stop[i].g + w * (stop[i + 1].g - stop[i].g),
                 stop[i].b + w * (stop[i + 1].b - stop[i].b)};
}

static void hex(char out[8], rgb c)
{
    snprintf(out, 8, "#%02x%02x%02x", (int)(c.r + 0.5) & 255, (int)(c.g + 0.5) & 255,
             (int)(c.b + 0.5) & 255);
}

/* 64 shades are more than the eye separates, and let equal neighbours
 * in a row merge into one rectangle, which keeps the page small. */
static int shade_of(double z, double zlo, double zhi)
{
    if (!isfinite(z)) return -1;
    double t = zhi > zlo ? (z - zlo) / (zhi - zlo) : 0.5;
    int q = (int)(t * 63 + 0.5);
    return q < 0 ? 0 : q > 63 ? 63 : q;
}

static void grid_range(const svg_grid *g, double *zlo, double *zhi)
{
    *zlo = INFINITY;
    *zhi = -INFINITY;
    for (long i = 0; i < (long)g->nx * g->ny; i++) {
        if (!isfinite(g->z[i])) continue;
        if (g->z[i] < *zlo) *zlo = g->z[i];
        if (g->z[i] > *zhi) *zhi = g->z[i];
    }
}

/* One <path> a shade, a rectangle for each run of equal neighbours in a
 * row: about a third of the bytes of one <rect> a run. */
static void draw_cells(FILE *f, const frame *fr, const svg_grid *g, double zlo, double zhi)
{
    double cw = (fr->right - fr->left) / g->nx, ch = (fr->bottom - fr->top) / g->ny;
    fputs("<g shape-rendering=\"crispEdges\">\n", f);
    for (int q = 0; q < 64; q++) {
        bool open = false;
        for (int iy = 0; iy < g->ny; iy++) {
            const double *row = g->z + (size_t)iy * g->nx;
            for (int ix = 0; ix < g->nx;) {
                int run = 1, qi = shade_of(row[ix], zlo, zhi);
                while (ix + run < g->nx && shade_of(row[ix + run], zlo, zhi) == qi) run++;
                if (qi == q) {
                    if (!open) {
                        char col[8];
                        hex(col, viridis(q / 63.0));
                        fprintf(f, "<path fill=\"%s\" d=\"", col);
                        open = true;
                    }
                    // +0.5 px overlap hides hairline seams between cells
                    fprintf(f, "M%.1f %.1fh%.1fv%.1fh%.1fz", fr->left + ix * cw,
                            fr->bottom - (iy + 1) * ch, run * cw + 0.5, ch + 0.5, -(run * cw + 0.5));
                }
                ix += run;
            }
        }
        if (open) fputs("\"/>\n", f);
    }
    fputs("</g>\n", f);
}

static void draw_colour_bar(FILE *f, const frame *fr, const svg_grid *g, double zlo, double zhi)
{
    double x = fr->right + 22, top = fr->top, h = fr->bottom - fr->top;
    for (int i = 0; i < 32; i++) {
        char col[8];
        hex(col, viridis((i + 0.5) / 32));
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"%.2f\" fill=\"%s\" "
                "shape-rendering=\"crispEdges\"/>\n", x, top + h - (i + 1) * h / 32, h / 32 + 0.3, col);
    }
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"%.1f\" fill=\"none\" "
            "stroke=\"#888\"/>\n", x, top, h);
    double t[MAX_TICKS], step;
    if (!(zhi > zlo)) zhi = zlo + 1e-9 * (fabs(zlo) + 1);
    int n = linear_ticks(zlo, zhi, 4, 0, t, &step);
    for (int i = 0; i < n; i++) {
        char lab[32];
        tick_label(lab, sizeof lab, t[i], step);
        double y = top + h - (t[i] - zlo) / (zhi - zlo) * h;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" style=\"font-size:11px\">%s</text>\n",
                x + 12, y, x + 15, y, x + 17, y + 4, lab);
    }
    if (g->z_label) {
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" style=\"font-size:11px\">",
                x + 6, fr->bottom + 30);
        html_text(f, g->z_label);
        fputs("</text>\n", f);
    }
}

void svg_heatmap(FILE *f, const svg_axes *ax, const svg_grid *g,
                 const double *px, const double *py, int n_points)
{
    frame fr = {.tight = true};
    frame_layout(&fr, ax, 0);
    fr.right -= 84;   // room for the colour bar
    axis_see(&fr.x, g->x0);
    axis_see(&fr.x, g->x1);
    axis_see(&fr.y, g->y0);
    axis_see(&fr.y, g->y1);
    double zlo, zhi;
    bool empty = g->nx <= 0 || g->ny <= 0 || !g->z;
    if (!empty) grid_range(g, &zlo, &zhi);
    empty = empty || !isfinite(zlo);
    frame_begin(f, &fr, ax);
    if (empty) {
        frame_empty_note(f, &fr);
    } else {
        draw_cells(f, &fr, g, zlo, zhi);
        draw_colour_bar(f, &fr, g, zlo, zhi);
    }
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
            "stroke=\"#888\"/>\n", fr.left, fr.top, fr.right - fr.left, fr.bottom - fr.top);
    for (int i = 0; i < n_points; i++) {
        double x, y;
        if (!axis_map(&fr.x, px[i], &x) || !axis_map(&fr.y, py[i], &y)) continue;
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.4\" fill=\"#fff\" stroke=\"#000\" "
                "stroke-width=\"1.2\"><title>x %.6g, y %.6g</title></circle>\n", x, y, px[i], py[i]);
    }
    fputs("</svg>\n", f);
}

/* ------------------------------------------------------------ confusion */

/* White blended towards c by t in [0, 1]. */
static void tint(char out[8], rgb c, double t)
{
    if (!(t > 0)) t = 0;
    if (t > 1) t = 1;
    hex(out, (rgb){255 + t * (c.r - 255), 255 + t * (c.g - 255), 255 + t * (c.b - 255)});
}

static void confusion_cell(FILE *f, double v, double t, bool diag)
{
    static const rgb blue = {0, 114, 178}, orange = {213, 94, 0};
    char bg[8];
    tint(bg, diag ? blue : orange, t);
    fprintf(f, "<td style=\"background:%s;color:%s\">%.0f</td>", bg,
            t > 0.55 ? "#fff" : "#000", v);
}

void html_confusion(FILE *f, const double *m, int k, const char *const *names)
{
    double max_off = 0;
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++)
            if (i != j && m[i * k + j] > max_off) max_off = m[i * k + j];
    fputs("<div class=\"scroll\"><table class=\"cm\">\n<tr><th class=\"l\">true \\ predicted</th>", f);
    for (int j = 0; j < k; j++) {
        fputs("<th>", f);
        if (names) html_text(f, names[j]);
        else fprintf(f, "%d", j);
        fputs("</th>", f);
    }
    fputs("</tr>\n", f);
    for (int i = 0; i < k; i++) {
        double row = 0;
        for (int j = 0; j < k; j++) row += m[i * k + j];
        fputs("<tr><th>", f);
        if (names) html_text(f, names[i]);
        else fprintf(f, "%d", i);
        fputs("</th>", f);
        for (int j = 0; j < k; j++) {
            double v = m[i * k + j];
            double t = i == j ? (row > 0 ? v / row : 0) : (max_off > 0 ? v / max_off : 0);
            confusion_cell(f, v, t, i == j);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table></div>\n", f);
}
