/* space.c - the search-space text format, and the map between parameter
 * values and the unit cube that strategies search. */
#include "nntune/space.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_LEN 1024

// ---------------------------------------------------------------------------
// small parsing helpers

static nt_status fail(const char *where, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static nt_status fail(const char *where, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    nt_errorf("%s: %s", where, msg);
    return NT_ERR_FORMAT;
}

static const char *skip_ws(const char *c)
{
    while (*c && isspace((unsigned char)*c)) c++;
    return c;
}

static bool is_ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

// characters of a value as written: words and numbers (1e-4, -3, relu, he_normal)
static bool is_label_char(char c)
{
    return is_ident_char(c) || c == '.' || c == '-' || c == '+';
}

// copy [b, e) into dst (cap bytes), trimming spaces; false if it does not fit
static bool copy_trimmed(const char *b, const char *e, char *dst, size_t cap)
{
    while (b < e && isspace((unsigned char)*b)) b++;
    while (e > b && isspace((unsigned char)e[-1])) e--;
    size_t len = (size_t)(e - b);
    if (len + 1 > cap) return false;
    memcpy(dst, b, len);
    dst[len] = '\0';
    return true;
}

// a whole token that is a finite number
static bool parse_num(const char *tok, double *v)
{
    if (!*tok) return false;
    errno = 0;
    char *end;
    double x = strtod(tok, &end);
    if (*end != '\0' || !isfinite(x)) return false;
    *v = x;
    return true;
}

static bool valid_name(const char *name)
{
    if (!(isalpha((unsigned char)name[0]) || name[0] == '_')) return false;
    for (const char *c = name; *c; c++)
        if (!is_ident_char(*c)) return false;
    return true;
}

static bool valid_label(const char *label)
{
    if (!*label) return false;
    for (const char *c = label; *c; c++)
        if (!is_label_char(*c)) return false;
    return true;
}

static const char *kind_name(nt_param_kind k)
{
    switch (k) {
    case NT_P_UNIFORM: return "uniform";
    case NT_P_LOGUNIFORM: return "loguniform";
    case NT_P_INT: return "int";
    case NT_P_INTLOG: return "int";
    case NT_P_CHOICE: return "choice";
    case NT_P_FIXED: return "fixed";
    }
    return "?";
}

// option index of `value` in choice parameter p (by label, or by number when
// both are numeric: "64.0" names option "64"), -1 if none
static int find_option(const nt_param *p, const char *value)
{
    for (int j = 0; j < p->n_choices; j++)
        if (strcmp(p->choice[j], value) == 0) return j;
    double v;
    if (p->numeric && parse_num(value, &v))
        for (int j = 0; j < p->n_choices; j++)
            if (p->choice_num[j] == v) return j;
    return -1;
}

static void list_options(const nt_param *p, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int j = 0; j < p->n_choices && used < len; j++) {
        int w = snprintf(buf + used, len - used, "%s%s", j ? ", " : "",
                         p->choice[j]);
        if (w < 0) break;
        used += (size_t)w;
    }
}

// ---------------------------------------------------------------------------
// one line

typedef struct {
    char items[NT_MAX_CHOICES + 1][NT_NAME_LEN]; // one extra to detect overflow
    int n;
    bool too_long;       // an item did not fit in NT_NAME_LEN
    int long_item;       // its position (0-based)
} arg_list;

// Split the text between the parentheses at commas. "()" has no arguments.
static void split_args(const char *b, const char *e, arg_list *out)
{
    out->n = 0;
    out->too_long = false;
    const char *t = b;
    while (t < e && isspace((unsigned char)*t)) t++;
    if (t == e) return;
    for (;;) {
        const char *comma = b;
        while (comma < e && *comma != ',') comma++;
        if (out->n <= NT_MAX_CHOICES) {
            if (!copy_trimmed(b, comma, out->items[out->n], NT_NAME_LEN)) {
                if (!out->too_long) out->long_item = out->n;
                out->too_long = true;
                out->items[out->n][0] = '\0';
            }
        }
        out->n++;
        if (comma == e) break;
        b = comma + 1;
    }
}

static nt_status parse_bounds(const char *where, const char *kind,
                              const arg_list *a, nt_param *p)
{
    if (!parse_num(a->items[0], &p->lo))
        return fail(where, "%s: lo '%s' is not a number", kind, a->items[0]);
    if (!parse_num(a->items[1], &p->hi))
        return fail(where, "%s: hi '%s' is not a number", kind, a->items[1]);
    return NT_OK;
}

static nt_status parse_range(const char *where, const char *kind,
                             const arg_list *a, nt_param *p)
{
    if (a->too_long)
        return fail(where, "%s: argument %d is too long", kind, a->long_item + 1);
    bool is_int = strcmp(kind, "int") == 0;
    if (a->n != 2 && !(is_int && a->n == 3))
        return fail(where, "%s needs %s, got %d argument%s", kind,
                    is_int ? "2 or 3 arguments (lo, hi[, log])"
                           : "2 arguments (lo, hi)",
                    a->n, a->n == 1 ? "" : "s");
    nt_status rc = parse_bounds(where, kind, a, p);
    if (rc != NT_OK) return rc;
    if (strcmp(kind, "uniform") == 0) {
        p->kind = NT_P_UNIFORM;
        if (!(p->lo < p->hi))
            return fail(where, "uniform needs lo < hi (got lo=%g, hi=%g)",
                        p->lo, p->hi);
        return NT_OK;
    }
    if (strcmp(kind, "loguniform") == 0) {
        p->kind = NT_P_LOGUNIFORM;
        if (!(p->lo > 0))
            return fail(where, "loguniform needs 0 < lo < hi (got lo=%g)", p->lo);
        if (!(p->lo < p->hi))
            return fail(where, "loguniform needs 0 < lo < hi (got lo=%g, hi=%g)",
                        p->lo, p->hi);
        return NT_OK;
    }
    // int: bounds must be whole numbers that a double and an int hold exactly
    p->kind = NT_P_INT;
    if (a->n == 3) {
        if (strcmp(a->items[2], "log") != 0)
            return fail(where, "int's third argument must be 'log' (got '%s')",
                        a->items[2]);
        p->kind = NT_P_INTLOG;
    }
    if (p->lo != floor(p->lo) || fabs(p->lo) > 1e9)
        return fail(where, "int needs integer bounds (got lo=%s)", a->items[0]);
    if (p->hi != floor(p->hi) || fabs(p->hi) > 1e9)
        return fail(where, "int needs integer bounds (got hi=%s)", a->items[1]);
    if (p->kind == NT_P_INTLOG && !(p->lo > 0))
        return fail(where, "int(lo, hi, log) needs 0 < lo < hi (got lo=%g)", p->lo);
    if (!(p->lo < p->hi))
        return fail(where, "int needs lo < hi (got lo=%g, hi=%g)", p->lo, p->hi);
    return NT_OK;
}

static nt_status parse_choice(const char *where, const arg_list *a, nt_param *p)
{
    p->kind = NT_P_CHOICE;
    if (a->n == 0) return fail(where, "choice needs at least one option");
    if (a->n > NT_MAX_CHOICES)
        return fail(where, "choice has %d options (at most %d)", a->n,
                    NT_MAX_CHOICES);
    if (a->too_long)
        return fail(where, "choice option %d is too long (at most %d characters)",
                    a->long_item + 1, NT_NAME_LEN - 1);
    p->n_choices = a->n;
    p->numeric = true;
    for (int j = 0; j < a->n; j++) {
        const char *opt = a->items[j];
        if (!*opt) return fail(where, "choice option %d is empty", j + 1);
        if (!valid_label(opt))
            return fail(where, "choice option '%s' has characters other than "
                        "letters, digits and _ . - +", opt);
        strcpy(p->choice[j], opt);
        if (!parse_num(opt, &p->choice_num[j])) p->numeric = false;
    }
    for (int j = 0; j < a->n; j++)
        for (int k = 0; k < j; k++) {
            bool same = strcmp(p->choice[j], p->choice[k]) == 0 ||
                        (p->numeric && p->choice_num[j] == p->choice_num[k]);
            if (same)
                return fail(where, "choice lists option '%s' twice", p->choice[j]);
        }
    if (!p->numeric)
        for (int j = 0; j < a->n; j++) p->choice_num[j] = j;
    return NT_OK;
}

// "kind(args)" starting at c (c points at the kind's name); *rest after ')'
static nt_status parse_kind(const char *where, const char *c, nt_param *p,
                            const char **rest)
{
    const char *k0 = c;
    while (is_label_char(*c)) c++;
    char kind[NT_NAME_LEN];
    if (!copy_trimmed(k0, c, kind, sizeof kind)) strcpy(kind, "?");
    bool known = !strcmp(kind, "uniform") || !strcmp(kind, "loguniform") ||
                 !strcmp(kind, "int") || !strcmp(kind, "choice");
    if (!known)
        return fail(where, "unknown kind '%s' (expected uniform, loguniform, "
                    "int, choice or a fixed value)", kind);
    c = skip_ws(c);
    assert(*c == '(');
    const char *open = c + 1;
    const char *close = strchr(open, ')');
    if (!close) return fail(where, "%s: missing ')'", kind);
    arg_list args;
    split_args(open, close, &args);
    nt_status rc = strcmp(kind, "choice") == 0
                       ? parse_choice(where, &args, p)
                       : parse_range(where, kind, &args, p);
    *rest = skip_ws(close + 1);
    return rc;
}

static nt_status parse_fixed(const char *where, const char *c, nt_param *p,
                             const char **rest)
{
    const char *v0 = c;
    while (is_label_char(*c)) c++;
    if (c == v0)
        return fail(where, "unexpected '%.20s' after '=' (expected a kind or a "
                    "value)", v0);
    if (!copy_trimmed(v0, c, p->fixed, sizeof p->fixed))
        return fail(where, "value '%.*s' is too long (at most %d characters)",
                    (int)(c - v0), v0, NT_NAME_LEN - 1);
    p->kind = NT_P_FIXED;
    p->numeric = parse_num(p->fixed, &p->fixed_num);
    if (!p->numeric) p->fixed_num = 0;
    *rest = skip_ws(c);
    return NT_OK;
}

// "if other == value": sets p->parent and p->parent_choice. `self` is the
// index the parameter will have if it replaces one, else -1.
static nt_status parse_condition(const char *where, const nt_space *s,
                                 const char *c, int self, nt_param *p)
{
    const char *start = c;
    c = skip_ws(c + 2); // past "if"
    const char *n0 = c;
    while (is_ident_char(*c)) c++;
    char other[64], value[64];
    bool ok = c > n0 && copy_trimmed(n0, c, other, sizeof other);
    c = skip_ws(c);
    ok = ok && c[0] == '=' && c[1] == '=';
    if (ok) c = skip_ws(c + 2);
    const char *v0 = c;
    while (is_label_char(*c)) c++;
    ok = ok && c > v0 && copy_trimmed(v0, c, value, sizeof value);
    if (!ok || *skip_ws(c))
        return fail(where, "condition must read 'if other == value' (got '%s')",
                    start);
    int pi = nt_space_find(s, other);
    if (pi < 0)
        return fail(where, "condition on unknown parameter '%s' (declare it on "
                    "a line above)", other);
    if (pi == self) return fail(where, "condition of '%s' on itself", p->name);
    if (self >= 0 && pi > self)
        return fail(where, "condition on '%s', which is declared after '%s'",
                    other, p->name);
    const nt_param *par = &s->p[pi];
    if (par->kind != NT_P_CHOICE)
        return fail(where, "condition on '%s', which is %s, not a choice",
                    other, par->kind == NT_P_FIXED ? "a fixed value"
                                                   : kind_name(par->kind));
    int j = find_option(par, value);
    if (j < 0) {
        char opts[300];
        list_options(par, opts, sizeof opts);
        return fail(where, "'%s' is not an option of '%s' (options: %s)", value,
                    other, opts);
    }
    p->parent = pi;
    p->parent_choice = j;
    return NT_OK;
}

// Replacing parameter r by np must keep its children's conditions: the same
// option label must exist in the new choice. Fills new option indices.
static nt_status check_children(const char *where, const nt_space *s, int r,
                                const nt_param *np, int *new_choice)
{
    const nt_param *old = &s->p[r];
    for (int k = r + 1; k < s->n; k++) {
        if (s->p[k].parent != r) continue;
        const char *label = old->choice[s->p[k].parent_choice];
        int j = np->kind == NT_P_CHOICE ? find_option(np, label) : -1;
        if (j < 0)
            return fail(where, "replacing '%s' would break the condition of "
                        "'%s' (if %s == %s)", old->name, s->p[k].name,
                        old->name, label);
        new_choice[k] = j;
    }
    return NT_OK;
}

static void assign_dims(nt_space *s)
{
    s->dims = 0;
    for (int i = 0; i < s->n; i++)
        s->p[i].dim = s->p[i].kind == NT_P_FIXED ? -1 : s->dims++;
}

nt_status nt_space_add_line(nt_space *s, const char *line, const char *where)
{
    assert(s && line);
    if (!where) where = "space";
    size_t len = strlen(line);
    if (len >= LINE_MAX_LEN)
        return fail(where, "line too long (%zu characters, at most %d)", len,
                    LINE_MAX_LEN - 1);
    char buf[LINE_MAX_LEN];
    memcpy(buf, line, len + 1);
    char *hash = strchr(buf, '#');
    if (hash) *hash = '\0';
    const char *c = skip_ws(buf);
    if (!*c) return NT_OK; // blank or comment-only

    // name
    const char *n0 = c;
    while (*c && *c != '=' && !isspace((unsigned char)*c)) c++;
    if (c == n0) return fail(where, "missing parameter name before '='");
    size_t nlen = (size_t)(c - n0);
    nt_param p;
    memset(&p, 0, sizeof p);
    p.parent = -1;
    p.parent_choice = -1;
    p.dim = -1;
    if (nlen >= NT_NAME_LEN)
        return fail(where, "name '%.*s' is too long (%zu characters, at most %d)",
                    (int)nlen, n0, nlen, NT_NAME_LEN - 1);
    memcpy(p.name, n0, nlen);
    p.name[nlen] = '\0';
    if (!valid_name(p.name))
        return fail(where, "bad name '%s' (use letters, digits and _, not "
                    "starting with a digit)", p.name);
    c = skip_ws(c);
    if (*c != '=')
        return fail(where, "missing '=' after '%s' (expected %s = kind(...) "
                    "or %s = value)", p.name, p.name, p.name);
    c = skip_ws(c + 1);
    if (!*c) return fail(where, "missing value after '%s ='", p.name);

    // value: kind(args) or a fixed value
    const char *after = c;
    while (is_label_char(*after)) after++;
    const char *rest = NULL;
    nt_status rc = *skip_ws(after) == '(' && after > c
                       ? parse_kind(where, c, &p, &rest)
                       : parse_fixed(where, c, &p, &rest);
    if (rc != NT_OK) return rc;

    int r = nt_space_find(s, p.name);
    if (*rest) {
        bool is_if = rest[0] == 'i' && rest[1] == 'f' &&
                     (rest[2] == '\0' || isspace((unsigned char)rest[2]));
        if (!is_if) {
            if (p.kind == NT_P_FIXED)
                return fail(where, "unexpected '%s' after the value '%s'", rest,
                            p.fixed);
            return fail(where, "unexpected '%s' after ')'", rest);
        }
        rc = parse_condition(where, s, rest, r, &p);
        if (rc != NT_OK) return rc;
    }

    snprintf(p.where, sizeof p.where, "%s", where);
    // install: replace in place (keeps dimension order) or append
    if (r >= 0) {
        int new_choice[NT_MAX_PARAMS];
        rc = check_children(where, s, r, &p, new_choice);
        if (rc != NT_OK) return rc;
        for (int k = r + 1; k < s->n; k++)
            if (s->p[k].parent == r) s->p[k].parent_choice = new_choice[k];
        s->p[r] = p;
    } else {
        if (s->n >= NT_MAX_PARAMS)
            return fail(where, "too many parameters (at most %d)", NT_MAX_PARAMS);
        s->p[s->n++] = p;
    }
    assign_dims(s);
    return NT_OK;
}

nt_status nt_space_parse(const char *text, const char *origin, nt_space *out)
{
    assert(text && out);
    memset(out, 0, sizeof *out);
    if (!origin) origin = "space";
    char line[LINE_MAX_LEN];
    char where[300];
    int lineno = 0;
    const char *c = text;
    while (*c) {
        const char *e = strchr(c, '\n');
        if (!e) e = c + strlen(c);
        lineno++;
        size_t len = (size_t)(e - c);
        snprintf(where, sizeof where, "%s:%d", origin, lineno);
        if (len >= sizeof line)
            return fail(where, "line too long (%zu characters, at most %zu)",
                        len, sizeof line - 1);
        memcpy(line, c, len);
        line[len] = '\0';
        nt_status rc = nt_space_add_line(out, line, where);
        if (rc != NT_OK) return rc;
        c = *e ? e + 1 : e;
    }
    return NT_OK;
}

nt_status nt_space_load(const char *path, nt_space *out)
{
    assert(path && out);
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        nt_errorf("%s: cannot open space file (%s)", path, strerror(errno));
        return NT_ERR_IO;
    }
    // space files are small; refuse anything over 1 MiB
    size_t cap = 1 << 20;
    char *text = malloc(cap + 1);
    nt_status rc = NT_OK;
    size_t len = 0;
    if (!text) {
        nt_errorf("%s: out of memory reading the space file", path);
        rc = NT_ERR_NOMEM;
    } else {
        len = fread(text, 1, cap + 1, f);
        if (ferror(f)) {
            nt_errorf("%s: read error (%s)", path, strerror(errno));
            rc = NT_ERR_IO;
        } else if (len > cap) {
            nt_errorf("%s: space file larger than %zu bytes", path, cap);
            rc = NT_ERR_FORMAT;
        }
    }
    fclose(f);
    if (rc == NT_OK) {
        text[len] = '\0';
        if (memchr(text, '\0', len)) {
            nt_errorf("%s: binary data in a space file", path);
            rc = NT_ERR_FORMAT;
        } else {
            rc = nt_space_parse(text, path, out);
        }
    }
    free(text);
    return rc;
}

static const char default_mnist[] =
    "lr        = loguniform(1e-4, 1e-1)\n"
    "batch     = choice(32, 64, 128, 256)\n"
    "layers    = int(1, 3)\n"
    "units     = choice(64, 128, 256, 512)\n"
    "act       = choice(relu, tanh)\n"
    "dropout   = uniform(0.0, 0.5)\n"
    "optimizer = choice(sgd, adam)\n"
    "momentum  = uniform(0.5, 0.99)   if optimizer == sgd\n"
    "l2        = loguniform(1e-6, 1e-3)\n"
    "schedule  = choice(constant, cosine, step)\n"
    "epochs    = 20\n";

void nt_space_default_mnist(nt_space *out)
{
    nt_status rc = nt_space_parse(default_mnist, "default space", out);
    assert(rc == NT_OK);
    (void)rc;
}

int nt_space_find(const nt_space *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->p[i].name, name) == 0) return i;
    return -1;
}

// ---------------------------------------------------------------------------
// the cube

static double clamp01(double u)
{
    if (!(u > 0)) return 0; // also NaN
    return u < 1 ? u : 1;
}

// Ints get equal-width cells: linear int k owns [k, k+1) of the stretched
// range [lo, hi+1); log int k owns [log k, log(k+1)) of [log lo, log(hi+1)).
static double decode_one(const nt_param *p, double u)
{
    switch (p->kind) {
    case NT_P_UNIFORM:
        if (u >= 1) return p->hi;
        return fmin(p->hi, p->lo + u * (p->hi - p->lo));
    case NT_P_LOGUNIFORM: {
        if (u <= 0) return p->lo;
        if (u >= 1) return p->hi;
        double x = exp(log(p->lo) + u * (log(p->hi) - log(p->lo)));
        return fmax(p->lo, fmin(p->hi, x));
    }
    case NT_P_INT:
        return fmin(p->hi, p->lo + floor(u * (p->hi - p->lo + 1)));
    case NT_P_INTLOG: {
        double x = exp(log(p->lo) + u * (log(p->hi + 1) - log(p->lo)));
        return fmax(p->lo, fmin(p->hi, floor(x)));
    }
    default: {
        int j = (int)floor(u * p->n_choices);
        return j < p->n_choices ? j : p->n_choices - 1;
    }
    }
}

void nt_space_decode(const nt_space *s, const double *u, nt_assignment *out)
{
    out->n = s->n;
    for (int i = 0; i < s->n; i++) {
        const nt_param *p = &s->p[i];
        nt_value *v = &out->v[i];
        v->active = p->parent < 0 || (out->v[p->parent].active &&
                                      out->v[p->parent].choice == p->parent_choice);
        v->choice = -1;
        v->label = NULL;
        if (p->kind == NT_P_FIXED) {
            v->num = p->fixed_num;
            v->label = p->fixed;
            continue;
        }
        double x = decode_one(p, clamp01(u[p->dim]));
        if (p->kind == NT_P_CHOICE) {
            v->choice = (int)x;
            v->num = p->choice_num[v->choice];
            v->label = p->choice[v->choice];
        } else {
            v->num = x;
        }
    }
}

static double encode_one(const nt_param *p, const nt_value *v)
{
    switch (p->kind) {
    case NT_P_UNIFORM:
        return clamp01((v->num - p->lo) / (p->hi - p->lo));
    case NT_P_LOGUNIFORM:
        if (!(v->num > 0)) return 0;
        return clamp01((log(v->num) - log(p->lo)) / (log(p->hi) - log(p->lo)));
    case NT_P_INT: {
        double k = fmax(p->lo, fmin(p->hi, round(v->num)));
        return (k - p->lo + 0.5) / (p->hi - p->lo + 1);
    }
    case NT_P_INTLOG: {
        double k = fmax(p->lo, fmin(p->hi, round(v->num)));
        double mid = 0.5 * (log(k) + log(k + 1));
        return (mid - log(p->lo)) / (log(p->hi + 1) - log(p->lo));
    }
    default: {
        int j = v->choice;
        if (j < 0 || j >= p->n_choices) {
            j = v->label ? find_option(p, v->label) : -1;
            for (int k = 0; j < 0 && k < p->n_choices; k++)
                if (p->choice_num[k] == v->num) j = k;
            if (j < 0) j = 0;
        }
        return (j + 0.5) / p->n_choices;
    }
    }
}

void nt_space_encode(const nt_space *s, const nt_assignment *a, double *u)
{
    for (int i = 0; i < s->n; i++) {
        const nt_param *p = &s->p[i];
        if (p->kind == NT_P_FIXED) continue;
        bool active = i < a->n && a->v[i].active;
        u[p->dim] = active ? encode_one(p, &a->v[i]) : 0.5;
    }
}

bool nt_space_active(const nt_space *s, const double *u, int i)
{
    assert(i >= 0 && i < s->n);
    const nt_param *p = &s->p[i];
    if (p->parent < 0) return true;
    const nt_param *par = &s->p[p->parent];
    int j = (int)decode_one(par, clamp01(u[par->dim]));
    return j == p->parent_choice && nt_space_active(s, u, p->parent);
}

double nt_assign_num(const nt_space *s, const nt_assignment *a,
                     const char *name, double fallback)
{
    int i = nt_space_find(s, name);
    if (i < 0 || i >= a->n || !a->v[i].active) return fallback;
    return a->v[i].num;
}

const char *nt_assign_str(const nt_space *s, const nt_assignment *a,
                          const char *name, const char *fallback)
{
    int i = nt_space_find(s, name);
    if (i < 0 || i >= a->n || !a->v[i].active || !a->v[i].label) return fallback;
    return a->v[i].label;
}

// append printf-style text at *used, never past len
static void append(char *buf, size_t len, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
    if (*used >= len) return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *used, len - *used, fmt, ap);
    va_end(ap);
    if (w < 0) return;
    *used += (size_t)w;
    if (*used >= len) *used = len - 1;
}

void nt_assign_format(const nt_space *s, const nt_assignment *a, char *buf,
                      size_t len)
{
    if (!len) return;
    buf[0] = '\0';
    size_t used = 0;
    const char *sep = "";
    for (int i = 0; i < s->n && i < a->n; i++) {
        const nt_value *v = &a->v[i];
        if (!v->active) continue;
        const nt_param *p = &s->p[i];
        if (v->label)
            append(buf, len, &used, "%s%s=%s", sep, p->name, v->label);
        else if (p->kind == NT_P_INT || p->kind == NT_P_INTLOG)
            append(buf, len, &used, "%s%s=%.0f", sep, p->name, v->num);
        else
            append(buf, len, &used, "%s%s=%.3g", sep, p->name, v->num);
        sep = " ";
    }
}

// shortest of %.15g / %.17g that reads back to the same double
static void fmt_num(double x, char *out, size_t len)
{
    snprintf(out, len, "%.15g", x);
    if (strtod(out, NULL) != x) snprintf(out, len, "%.17g", x);
}

void nt_space_format(const nt_space *s, char *buf, size_t len)
{
    if (!len) return;
    buf[0] = '\0';
    size_t used = 0;
    int width = 0;
    for (int i = 0; i < s->n; i++) {
        int w = (int)strlen(s->p[i].name);
        if (w > width) width = w;
    }
    for (int i = 0; i < s->n; i++) {
        const nt_param *p = &s->p[i];
        append(buf, len, &used, "%-*s = ", width, p->name);
        char lo[32], hi[32];
        fmt_num(p->lo, lo, sizeof lo);
        fmt_num(p->hi, hi, sizeof hi);
        switch (p->kind) {
        case NT_P_UNIFORM:
        case NT_P_LOGUNIFORM:
        case NT_P_INT:
            append(buf, len, &used, "%s(%s, %s)", kind_name(p->kind), lo, hi);
            break;
        case NT_P_INTLOG:
            append(buf, len, &used, "int(%s, %s, log)", lo, hi);
            break;
        case NT_P_CHOICE:
            append(buf, len, &used, "choice(");
            for (int j = 0; j < p->n_choices; j++)
                append(buf, len, &used, "%s%s", j ? ", " : "", p->choice[j]);
            append(buf, len, &used, ")");
            break;
        case NT_P_FIXED:
            append(buf, len, &used, "%s", p->fixed);
            break;
        }
        if (p->parent >= 0) {
            const nt_param *par = &s->p[p->parent];
            append(buf, len, &used, "  if %s == %s", par->name,
                   par->choice[p->parent_choice]);
        }
        append(buf, len, &used, "\n");
    }
}
