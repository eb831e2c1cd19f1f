/* svg.h - the pieces every HTML page nntune writes is made of: a page frame
 * with inline CSS (no network, no JavaScript), escaped text, and charts as
 * inline <svg> elements. Used by the run report (report.c), `nntune
 * compare` and `nntune compare-strategies`. Everything writes to a FILE *
 * (an open_memstream buffer, written out atomically by the caller). */
#ifndef NNTUNE_SVG_H
#define NNTUNE_SVG_H

#include <stdbool.h>
#include <stdio.h>

/* <!DOCTYPE html> ... <body><h1>title</h1>; html_page_end closes it. */
void html_page_begin(FILE *f, const char *title);
void html_page_end(FILE *f);
/* s with &, <, >, " and ' escaped. */
void html_text(FILE *f, const char *s);

/* One chart's frame. */
typedef struct {
    const char *title;            /* caption above the chart; NULL for none */
    const char *x_label, *y_label;
    bool log_x, log_y;            /* log10 axes (values <= 0 are skipped) */
    int width, height;            /* pixels; 0 = 640 x 360 */
} svg_axes;

/* One line (or set of points) on a chart. */
typedef struct {
    const char *label;            /* legend entry; NULL for none */
    int n;                        /* points */
    const double *x, *y;          /* (n) borrowed; a NaN y leaves a gap */
    const double *lo, *hi;        /* (n) optional shaded band, e.g. the
                                     inter-quartile range over seeds */
    const double *err;            /* (n) optional error bar half-widths,
                                     e.g. the fold standard deviation */
    bool markers;                 /* draw a dot at each point */
    bool no_line;                 /* dots only (a scatter) */
    bool step;                    /* hold y until the next x (best so far) */
} svg_series;

/* A line chart of n_series series on shared axes, with a legend; colours
 * are assigned in order from one fixed palette. */
void svg_lines(FILE *f, const svg_axes *ax, const svg_series *s, int n_series);

/* How svg_lines reads its input (it never fails; what cannot be drawn is
 * left out): axes span all drawable x, y, y +- err, lo and hi, padded 4%;
 * a flat range is widened; no drawable point gives an empty frame saying
 * "nothing to plot". A NaN (or, on a log axis, a value <= 0) in x or y
 * breaks the line there; a band's lo <= 0 on a log axis reaches the bottom
 * edge. Ticks are 1, 2, 5 times powers of ten (decades on a log axis),
 * whole numbers only when all x (or y) are whole, thinned so labels do
 * not overlap; a log axis's label gets " (log scale)" appended. A step
 * series draws its band stepped too. Markers carry a <title> tooltip. */

/* Additions for the run report (report.c). */

/* svg_lines with categories on x: x = 0 .. n_cat-1 are labelled
 * cats[0 .. n_cat-1] (borrowed) instead of numbers (log_x is ignored).
 * Spread points of one category a little around its x so they do not
 * hide each other. */
void svg_lines_cat(FILE *f, const svg_axes *ax, const svg_series *s, int n_series,
                   const char *const *cats, int n_cat);

/* The i-th colour of the chart palette (wraps around), e.g. "#0072B2". */
const char *svg_colour(int i);

/* A field of values on a regular grid, e.g. a model's prediction. */
typedef struct {
    int nx, ny;                   /* cells across and up */
    const double *z;              /* (ny, nx) borrowed, row-major, row 0 at
                                     the bottom (y0); NaN cells stay blank */
    double x0, x1, y0, y1;        /* the data extent the cells cover (evenly
                                     spaced in log10 on a log axis) */
    const char *z_label;          /* colour bar caption; NULL for none */
} svg_grid;

/* A heatmap of g (dark = low, light = high, one sequential scale that
 * survives greyscale printing) with a colour bar, and n_points points
 * (px, py; borrowed, may be NULL when n_points is 0) drawn over it. */
void svg_heatmap(FILE *f, const svg_axes *ax, const svg_grid *g,
                 const double *px, const double *py, int n_points);

/* A confusion matrix as an HTML table: m is (k, k) borrowed, row = true
 * class, column = predicted class; names (k, borrowed) label the classes,
 * or NULL for 0..k-1. The diagonal is shaded by its share of the row
 * (recall), the other cells by their count relative to the largest
 * off-diagonal count, in a second colour, so the common mistakes stand
 * out. */
void html_confusion(FILE *f, const double *m, int k, const char *const *names);

#endif
