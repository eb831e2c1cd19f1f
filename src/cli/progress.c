/* progress.c - the terminal status line and colours (see progress.h). */
#include "progress.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "nntune/common.h"

bool term_is_live(FILE *f)
{
    const char *term = getenv("TERM");
    return isatty(fileno(f)) && !(term && !strcmp(term, "dumb"));
}

bool term_use_color(FILE *f)
{
    const char *no = getenv("NO_COLOR");
    return term_is_live(f) && !(no && no[0]);
}

term_line term_line_start(FILE *f, bool want)
{
    return (term_line){.f = f, .on = want && term_is_live(f)};
}

void term_line_draw(term_line *t, const char *text)
{
    if (!t->on) return;
    struct winsize ws;
    int cols = ioctl(fileno(t->f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10 ? ws.ws_col : 80;
    // one column short of the edge: a full line would wrap on some terminals
    fprintf(t->f, "\r\033[K%.*s", cols - 1, text);
    fflush(t->f);
    t->drawn = true;
    t->last_draw = nt_now();
}

void term_line_clear(term_line *t)
{
    if (!t->on || !t->drawn) return;
    fprintf(t->f, "\r\033[K");
    fflush(t->f);
    t->drawn = false;
}

void term_bar(char *buf, int width, double frac)
{
    int fill = (int)(width * (frac < 0 ? 0 : frac > 1 ? 1 : frac));
    buf[0] = '[';
    for (int i = 0; i < width; i++) buf[1 + i] = i < fill ? '#' : '.';
    buf[width + 1] = ']';
    buf[width + 2] = '\0';
}

void term_duration(char *buf, size_t len, double s)
{
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, len, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60) snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, len, "%lds", t);
}

const char *term_on(bool color, term_style s)
{
    if (!color) return "";
    switch (s) {
    case TERM_GOOD: return "\033[32m";
    case TERM_BAD: return "\033[31m";
    case TERM_DIM: return "\033[2m";
    case TERM_BOLD: return "\033[1m";
    }
    return "";
}

const char *term_off(bool color)
{
    return color ? "\033[0m" : "";
}
