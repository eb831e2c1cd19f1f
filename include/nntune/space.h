/* space.h - a hyperparameter search space, parsed from a small text format,
 * and its map to and from the unit cube [0,1]^dims that strategies search.
 *
 * One parameter a line (from a file, a string, or `--param` inline):
 *     name = uniform(lo, hi)            real, lo < hi
 *     name = loguniform(lo, hi)         real, 0 < lo < hi, uniform in log
 *     name = int(lo, hi)                integer in [lo, hi], lo < hi
 *     name = int(lo, hi, log)           integer, uniform in log, 0 < lo
 *     name = choice(a, b, c)            numbers or words, at least one
 *     name = 20    or    name = adam    a fixed value (not searched)
 *     name = ... if other == value      conditional: active only when the
 *                                       choice parameter `other`, declared
 *                                       above, takes `value`
 * '#' starts a comment; blank lines are ignored. Names are
 * [A-Za-z_][A-Za-z0-9_]*. Each non-fixed parameter owns one dimension of
 * the cube, in declaration order. A real or int maps linearly (log scale
 * for log kinds) from [0,1] to [lo,hi]; a choice of n options maps u to
 * option min(floor(u*n), n-1). */
#ifndef NNTUNE_SPACE_H
#define NNTUNE_SPACE_H

#include "nntune/common.h"
#include "nntune/rng.h"

#define NT_MAX_PARAMS 32
#define NT_MAX_CHOICES 16
#define NT_NAME_LEN 32

typedef enum {
    NT_P_UNIFORM = 0,
    NT_P_LOGUNIFORM,
    NT_P_INT,
    NT_P_INTLOG,
    NT_P_CHOICE,
    NT_P_FIXED,
} nt_param_kind;

typedef struct {
    char name[NT_NAME_LEN];
    nt_param_kind kind;
    double lo, hi;                                /* real and int kinds */
    int n_choices;                                /* choice */
    char choice[NT_MAX_CHOICES][NT_NAME_LEN];     /* choice labels as written */
    bool numeric;                                 /* choice/fixed: all numbers */
    double choice_num[NT_MAX_CHOICES];            /* their values if numeric */
    char fixed[NT_NAME_LEN];                      /* fixed: the value as written */
    double fixed_num;                             /* fixed: its value if numeric */
    int dim;                                      /* its cube dimension, -1 if fixed */
    int parent;                                   /* condition's parameter, -1 if none */
    int parent_choice;                            /* active iff parent takes this option */
    char where[64];                               /* where it was declared, e.g.
                                                     "space.txt:4", for messages */
} nt_param;

typedef struct {
    int n;                    /* parameters */
    int dims;                 /* non-fixed parameters = cube dimensions */
    nt_param p[NT_MAX_PARAMS];
} nt_space;

/* One parameter's decoded value. */
typedef struct {
    bool active;        /* false when its condition does not hold */
    double num;         /* numeric value (choice: the number, or the index
                           for word choices) */
    int choice;         /* choice: option index; else -1 */
    const char *label;  /* choice/fixed: the label as written (borrowed
                           from the space); NULL for reals and ints */
} nt_value;

typedef struct {
    int n;
    nt_value v[NT_MAX_PARAMS];
} nt_assignment;

/* Parse one line and add (or, if the name exists, replace) its parameter.
 * `where` names the source for messages, e.g. "space.txt:4" or "--param".
 * Errors are NT_ERR_FORMAT with a message starting with `where`. */
nt_status nt_space_add_line(nt_space *s, const char *line, const char *where);
/* Parse a whole text (lines separated by '\n'); origin names it in messages
 * ("space.txt" gives "space.txt:LINE: ..."). */
nt_status nt_space_parse(const char *text, const char *origin, nt_space *out);
nt_status nt_space_load(const char *path, nt_space *out);

/* The default space for MNIST-style classification: lr, batch, layers,
 * units, act, dropout, optimizer, momentum (if optimizer == sgd), l2,
 * schedule, epochs. */
void nt_space_default_mnist(nt_space *out);

/* Index of a parameter by name, -1 if none. */
int nt_space_find(const nt_space *s, const char *name);

/* Map a point u in [0,1]^dims to values; inactive parameters are marked. */
void nt_space_decode(const nt_space *s, const double *u, nt_assignment *out);
/* Map values back to the centre of their cell in the cube (used to replay
 * a journal). Inactive dimensions get 0.5. */
void nt_space_encode(const nt_space *s, const nt_assignment *a, double *u);
/* Is parameter i active at point u? */
bool nt_space_active(const nt_space *s, const double *u, int i);

/* Helpers for consumers of an assignment: a parameter's number / label, or
 * `fallback` if absent or inactive. */
double nt_assign_num(const nt_space *s, const nt_assignment *a,
                     const char *name, double fallback);
const char *nt_assign_str(const nt_space *s, const nt_assignment *a,
                          const char *name, const char *fallback);

/* "lr=0.00123 batch=64 act=relu ..." (active parameters only, %.3g). */
void nt_assign_format(const nt_space *s, const nt_assignment *a, char *buf,
                      size_t len);
/* The space written back in the text format (for run folders). */
void nt_space_format(const nt_space *s, char *buf, size_t len);

#endif
