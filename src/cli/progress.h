/* progress.h - what nntune draws on a terminal while it works: one status
 * line redrawn in place at the bottom (a progress bar, where it is, elapsed
 * time, time left, best so far) under ordinary lines that scroll above it,
 * and colour for the words that matter. Only on a terminal: into a pipe or
 * a file nntune writes plain lines, with no control characters. Colour
 * also honours NO_COLOR (https://no-color.org) and TERM=dumb. */
#ifndef NNTUNE_PROGRESS_H
#define NNTUNE_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>

/* The line at the bottom. Not thread-safe: callers serialize. */
typedef struct {
    FILE *f;          /* borrowed */
    bool on;          /* f is a terminal (and the caller wants the line) */
    bool drawn;       /* the line is on screen now */
    double last_draw; /* nt_now() of the last draw */
} term_line;

/* Whether f is a terminal that can redraw a line (not TERM=dumb). */
bool term_is_live(FILE *f);
/* Whether to colour output to f: a live terminal and NO_COLOR unset or
 * empty. */
bool term_use_color(FILE *f);

/* Start a status line on f; it stays off unless `want` and f is live. */
term_line term_line_start(FILE *f, bool want);
/* Draw text in place of the line, cut to the terminal's width. */
void term_line_draw(term_line *t, const char *text);
/* Remove the line before printing ordinary output. */
void term_line_clear(term_line *t);

/* "[#######.............]" filled to frac (0..1), width cells inside the
 * brackets, into buf (at least width + 3 bytes). */
void term_bar(char *buf, int width, double frac);
/* 42s, 3m05s, 1h20m. */
void term_duration(char *buf, size_t len, double seconds);

/* Colours for a word: the escape before it and the reset after it, both
 * "" when colour is off. */
typedef enum { TERM_GOOD, TERM_BAD, TERM_DIM, TERM_BOLD } term_style;
const char *term_on(bool color, term_style s);
const char *term_off(bool color);

#endif
