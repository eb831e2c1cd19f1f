/* test_space.c - the search-space parser, the default space, and the map
 * between values and the unit cube. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nntune/space.h"

// The space every table line is added to (conditions refer to it).
static const char base_text[] =
    "optimizer = choice(sgd, adam)\n"
    "lr = loguniform(1e-4, 1e-1)\n"
    "epochs = 20\n";

typedef struct {
    const char *line;
    nt_status want;
    const char *msg; // substring of the message when want != NT_OK
} line_case;

static const line_case line_cases[] = {
    // accepted
    {"x = uniform(0, 1)", NT_OK, NULL},
    {"  x=uniform( -2.5 ,1e3 )   # a comment", NT_OK, NULL},
    {"x = loguniform(1e-6, 1e-2)", NT_OK, NULL},
    {"x = int(1, 3)", NT_OK, NULL},
    {"x = int(-5, 5)", NT_OK, NULL},
    {"x = int(1, 100, log)", NT_OK, NULL},
    {"x = choice(relu, tanh)", NT_OK, NULL},
    {"x = choice(32, 64, 128)", NT_OK, NULL},
    {"x = choice(only)", NT_OK, NULL},
    {"x = 20", NT_OK, NULL},
    {"x = adam", NT_OK, NULL},
    {"x = 1e-3", NT_OK, NULL},
    {"x = uniform(0.5, 0.99) if optimizer == sgd", NT_OK, NULL},
    {"x = 0.9 if optimizer == sgd", NT_OK, NULL},
    {"", NT_OK, NULL},
    {"   ", NT_OK, NULL},
    {"# only a comment", NT_OK, NULL},
    {"lr = uniform(0.1, 0.2)", NT_OK, NULL}, // replaces
    // refused
    {"x = normal(0, 1)", NT_ERR_FORMAT,
     "unknown kind 'normal' (expected uniform, loguniform, int, choice or a "
     "fixed value)"},
    {"1x = uniform(0, 1)", NT_ERR_FORMAT, "bad name '1x'"},
    {"a-b = uniform(0, 1)", NT_ERR_FORMAT, "bad name 'a-b'"},
    {"x.y = 3", NT_ERR_FORMAT, "bad name"},
    {"x uniform(0, 1)", NT_ERR_FORMAT, "missing '='"},
    {"= 3", NT_ERR_FORMAT, "missing parameter name"},
    {"x =", NT_ERR_FORMAT, "missing value"},
    {"x = # nothing", NT_ERR_FORMAT, "missing value"},
    {"abcdefghijabcdefghijabcdefghijab = 1", NT_ERR_FORMAT, "too long"},
    {"x = choice()", NT_ERR_FORMAT, "at least one option"},
    {"x = choice(  )", NT_ERR_FORMAT, "at least one option"},
    {"x = choice(a,,b)", NT_ERR_FORMAT, "option 2 is empty"},
    {"x = choice(1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17)", NT_ERR_FORMAT,
     "17 options (at most 16)"},
    {"x = choice(a, b, a)", NT_ERR_FORMAT, "option 'a' twice"},
    {"x = choice(1, 1.0)", NT_ERR_FORMAT, "twice"},
    {"x = choice(a b)", NT_ERR_FORMAT, "characters other than"},
    {"x = uniform(1, 1)", NT_ERR_FORMAT, "uniform needs lo < hi"},
    {"x = uniform(2, 1)", NT_ERR_FORMAT, "uniform needs lo < hi (got lo=2, hi=1)"},
    {"x = loguniform(0, 1)", NT_ERR_FORMAT,
     "loguniform needs 0 < lo < hi (got lo=0)"},
    {"x = loguniform(-1, 1)", NT_ERR_FORMAT, "0 < lo < hi (got lo=-1)"},
    {"x = loguniform(0.1, 0.01)", NT_ERR_FORMAT, "0 < lo < hi"},
    {"x = int(1.5, 3)", NT_ERR_FORMAT, "int needs integer bounds (got lo=1.5)"},
    {"x = int(1, 2.5)", NT_ERR_FORMAT, "integer bounds (got hi=2.5)"},
    {"x = int(3, 3)", NT_ERR_FORMAT, "int needs lo < hi"},
    {"x = int(0, 10, log)", NT_ERR_FORMAT, "0 < lo"},
    {"x = int(1, 10, lin)", NT_ERR_FORMAT, "must be 'log'"},
    {"x = uniform(0)", NT_ERR_FORMAT, "needs 2 arguments (lo, hi), got 1"},
    {"x = uniform()", NT_ERR_FORMAT, "got 0 arguments"},
    {"x = uniform(0, 1, 2)", NT_ERR_FORMAT, "got 3 arguments"},
    {"x = int(1, 2, log, 4)", NT_ERR_FORMAT, "2 or 3 arguments"},
    {"x = uniform(0, abc)", NT_ERR_FORMAT, "hi 'abc' is not a number"},
    {"x = uniform(0, inf)", NT_ERR_FORMAT, "not a number"},
    {"x = uniform(0, 1", NT_ERR_FORMAT, "missing ')'"},
    {"x = uniform(0, 1) junk", NT_ERR_FORMAT, "unexpected 'junk' after ')'"},
    {"x = uniform(0, 1))", NT_ERR_FORMAT, "after ')'"},
    {"x = 20 30", NT_ERR_FORMAT, "unexpected '30' after the value '20'"},
    {"x = (1, 2)", NT_ERR_FORMAT, "unexpected"},
    {"x = uniform(0, 1) if nothere == a", NT_ERR_FORMAT,
     "condition on unknown parameter 'nothere'"},
    {"x = uniform(0, 1) if lr == 0.1", NT_ERR_FORMAT,
     "condition on 'lr', which is loguniform, not a choice"},
    {"x = uniform(0, 1) if epochs == 20", NT_ERR_FORMAT, "not a choice"},
    {"x = uniform(0, 1) if optimizer == rmsprop", NT_ERR_FORMAT,
     "'rmsprop' is not an option of 'optimizer' (options: sgd, adam)"},
    {"x = uniform(0, 1) if optimizer = sgd", NT_ERR_FORMAT,
     "condition must read"},
    {"x = uniform(0, 1) if optimizer == sgd extra", NT_ERR_FORMAT,
     "condition must read"},
    {"x = uniform(0, 1) if", NT_ERR_FORMAT, "condition must read"},
    {"optimizer = choice(a, b) if optimizer == a", NT_ERR_FORMAT, "on itself"},
};

Test(space, parser_accepts_and_refuses_a_table_of_lines)
{
    int n = (int)(sizeof line_cases / sizeof line_cases[0]);
    for (int i = 0; i < n; i++) {
        const line_case *c = &line_cases[i];
        nt_space s;
        cr_assert_eq(nt_space_parse(base_text, "base", &s), NT_OK, "%s",
                     nt_last_error());
        nt_clear_error();
        nt_status rc = nt_space_add_line(&s, c->line, "t.txt:7");
        const char *msg = nt_last_error();
        cr_assert_eq(rc, c->want, "line \"%s\": status %d, want %d (%s)",
                     c->line, rc, c->want, msg);
        if (c->want == NT_OK) continue;
        cr_assert(strncmp(msg, "t.txt:7: ", 9) == 0,
                  "line \"%s\": message \"%s\" does not start with the place",
                  c->line, msg);
        cr_assert(strstr(msg, c->msg) != NULL,
                  "line \"%s\": message \"%s\" lacks \"%s\"", c->line, msg,
                  c->msg);
        cr_assert_eq(s.n, 3, "line \"%s\": a refused line changed the space "
                     "(%d parameters)", c->line, s.n);
    }
}

Test(space, accepted_lines_store_kind_bounds_and_options)
{
    nt_space s;
    cr_assert_eq(nt_space_parse("a = uniform(-2.5, 1e3)\n"
                                "b = int(1, 100, log)\n"
                                "c = choice(32, 64, 128)\n"
                                "d = choice(relu, tanh)\n"
                                "e = adam\n"
                                "f = 1e-3\n",
                                "t", &s),
                 NT_OK, "%s", nt_last_error());
    cr_assert_eq(s.n, 6, "n = %d", s.n);
    cr_assert_eq(s.dims, 4, "dims = %d", s.dims);
    cr_assert(s.p[0].kind == NT_P_UNIFORM && s.p[0].lo == -2.5 &&
                  s.p[0].hi == 1000,
              "a: kind %d lo %g hi %g", s.p[0].kind, s.p[0].lo, s.p[0].hi);
    cr_assert(s.p[1].kind == NT_P_INTLOG && s.p[1].lo == 1 && s.p[1].hi == 100,
              "b: kind %d lo %g hi %g", s.p[1].kind, s.p[1].lo, s.p[1].hi);
    cr_assert(s.p[2].numeric && s.p[2].n_choices == 3 &&
                  s.p[2].choice_num[2] == 128 && !strcmp(s.p[2].choice[1], "64"),
              "c: numeric %d n %d", s.p[2].numeric, s.p[2].n_choices);
    cr_assert(!s.p[3].numeric && !strcmp(s.p[3].choice[1], "tanh"),
              "d: numeric %d option 1 '%s'", s.p[3].numeric, s.p[3].choice[1]);
    cr_assert(s.p[4].kind == NT_P_FIXED && !s.p[4].numeric &&
                  !strcmp(s.p[4].fixed, "adam") && s.p[4].dim == -1,
              "e: kind %d fixed '%s' dim %d", s.p[4].kind, s.p[4].fixed,
              s.p[4].dim);
    cr_assert(s.p[5].numeric && s.p[5].fixed_num == 1e-3, "f = %g",
              s.p[5].fixed_num);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(s.p[i].dim, i, "p[%d].dim = %d", i, s.p[i].dim);
}

Test(space, parse_names_the_line_of_an_error)
{
    nt_space s;
    nt_status rc = nt_space_parse("a = uniform(0, 1)\n\n# c\nb = normal(0, 1)\n",
                                  "space.txt", &s);
    cr_assert_eq(rc, NT_ERR_FORMAT, "status %d", rc);
    const char *want = "space.txt:4: unknown kind 'normal'";
    cr_assert(strncmp(nt_last_error(), want, strlen(want)) == 0,
              "message \"%s\", want it to start with \"%s\"", nt_last_error(),
              want);
    rc = nt_space_parse("x = loguniform(0, 1)\r\n", "space.txt", &s);
    cr_assert(rc == NT_ERR_FORMAT &&
                  strstr(nt_last_error(),
                         "space.txt:1: loguniform needs 0 < lo < hi (got lo=0)"),
              "status %d, message \"%s\"", rc, nt_last_error());
}

Test(space, a_later_line_replaces_a_parameter_in_place_and_renumbers_dims)
{
    nt_space s;
    nt_space_default_mnist(&s);
    int n = s.n, dims = s.dims;
    cr_assert_eq(nt_space_add_line(&s, "lr = 0.01", "--param"), NT_OK, "%s",
                 nt_last_error());
    cr_assert_eq(s.n, n, "n %d -> %d", n, s.n);
    cr_assert_eq(s.dims, dims - 1, "dims %d -> %d", dims, s.dims);
    cr_assert(!strcmp(s.p[0].name, "lr") && s.p[0].dim == -1,
              "p[0] is '%s' with dim %d", s.p[0].name, s.p[0].dim);
    cr_assert_eq(s.p[1].dim, 0, "batch dim %d", s.p[1].dim);
    int ep = nt_space_find(&s, "epochs");
    cr_assert_eq(nt_space_add_line(&s, "epochs = int(5, 50)", "--param"), NT_OK,
                 "%s", nt_last_error());
    cr_assert_eq(s.p[ep].dim, s.dims - 1, "epochs dim %d of %d", s.p[ep].dim,
                 s.dims);
    for (int i = 0, d = 0; i < s.n; i++)
        if (s.p[i].kind != NT_P_FIXED)
            cr_assert_eq(s.p[i].dim, d++, "%s dim %d", s.p[i].name, s.p[i].dim);
}

Test(space, replacing_a_parent_keeps_or_refuses_its_childrens_conditions)
{
    nt_space s;
    nt_space_default_mnist(&s);
    int mom = nt_space_find(&s, "momentum");
    int opt = nt_space_find(&s, "optimizer");
    cr_assert_eq(nt_space_add_line(&s, "optimizer = choice(adam, rmsprop, sgd)",
                                   "--param"),
                 NT_OK, "%s", nt_last_error());
    cr_assert(s.p[mom].parent == opt && s.p[mom].parent_choice == 2,
              "momentum parent %d choice %d, want %d and 2", s.p[mom].parent,
              s.p[mom].parent_choice, opt);
    nt_status rc = nt_space_add_line(&s, "optimizer = adam", "--param");
    cr_assert(rc == NT_ERR_FORMAT && strstr(nt_last_error(), "momentum"),
              "status %d, message \"%s\"", rc, nt_last_error());
    rc = nt_space_add_line(&s, "optimizer = choice(adam, rmsprop)", "--param");
    cr_assert(rc == NT_ERR_FORMAT && strstr(nt_last_error(), "break"),
              "status %d, message \"%s\"", rc, nt_last_error());
    cr_assert_eq(s.p[opt].n_choices, 3, "refused replacement changed optimizer");
}

Test(space, refuses_a_condition_on_a_later_parameter)
{
    nt_space s;
    cr_assert_eq(nt_space_parse("a = uniform(0, 1)\nb = choice(p, q)\n", "t", &s),
                 NT_OK, "%s", nt_last_error());
    nt_status rc = nt_space_add_line(&s, "a = uniform(0, 1) if b == p", "t:3");
    cr_assert(rc == NT_ERR_FORMAT && strstr(nt_last_error(), "declared after"),
              "status %d, message \"%s\"", rc, nt_last_error());
    cr_assert_eq(s.p[0].parent, -1, "a got parent %d", s.p[0].parent);
}

Test(space, refuses_more_than_the_maximum_number_of_parameters)
{
    nt_space s;
    memset(&s, 0, sizeof s);
    char line[64];
    for (int i = 0; i < NT_MAX_PARAMS; i++) {
        snprintf(line, sizeof line, "p%d = uniform(0, 1)", i);
        cr_assert_eq(nt_space_add_line(&s, line, "t"), NT_OK, "%s: %s", line,
                     nt_last_error());
    }
    nt_status rc = nt_space_add_line(&s, "extra = 1", "t");
    cr_assert(rc == NT_ERR_FORMAT && strstr(nt_last_error(), "too many"),
              "status %d, message \"%s\"", rc, nt_last_error());
    cr_assert_eq(nt_space_add_line(&s, "p3 = 7", "t"), NT_OK,
                 "replacing in a full space: %s", nt_last_error());
    cr_assert_eq(s.dims, NT_MAX_PARAMS - 1, "dims %d", s.dims);
}

Test(space, default_space_parses_with_the_listed_names)
{
    static const char *names[] = {"lr",      "batch",     "layers",   "units",
                                  "act",     "dropout",   "optimizer", "momentum",
                                  "l2",      "schedule",  "epochs"};
    nt_space s;
    nt_space_default_mnist(&s);
    int n = (int)(sizeof names / sizeof names[0]);
    cr_assert_eq(s.n, n, "%d parameters, want %d", s.n, n);
    for (int i = 0; i < n; i++)
        cr_assert_str_eq(s.p[i].name, names[i], "parameter %d", i);
    cr_assert_eq(s.dims, 10, "dims %d", s.dims);
    const nt_param *m = &s.p[nt_space_find(&s, "momentum")];
    cr_assert(m->parent == nt_space_find(&s, "optimizer") &&
                  !strcmp(s.p[m->parent].choice[m->parent_choice], "sgd"),
              "momentum parent %d choice %d", m->parent, m->parent_choice);
    const nt_param *e = &s.p[nt_space_find(&s, "epochs")];
    cr_assert(e->kind == NT_P_FIXED && e->fixed_num == 20, "epochs kind %d = %g",
              e->kind, e->fixed_num);
    cr_assert_eq(s.p[0].kind, NT_P_LOGUNIFORM, "lr kind %d", s.p[0].kind);
    cr_assert_eq(nt_space_find(&s, "nope"), -1, "found a missing name");
}

Test(space, conditional_parameters_decode_active_or_inactive_with_labels)
{
    nt_space s;
    nt_space_default_mnist(&s);
    int opt = nt_space_find(&s, "optimizer"), mom = nt_space_find(&s, "momentum");
    double u[NT_MAX_PARAMS];
    for (int d = 0; d < s.dims; d++) u[d] = 0.3;
    nt_assignment a;
    u[s.p[opt].dim] = 0.25; // sgd
    nt_space_decode(&s, u, &a);
    cr_assert(a.v[opt].choice == 0 && !strcmp(a.v[opt].label, "sgd"),
              "optimizer choice %d label %s", a.v[opt].choice, a.v[opt].label);
    cr_assert(a.v[mom].active, "momentum inactive under sgd");
    cr_assert(nt_space_active(&s, u, mom), "nt_space_active says inactive");
    double m = nt_assign_num(&s, &a, "momentum", -1);
    cr_assert(fabs(m - (0.5 + 0.3 * 0.49)) < 1e-12, "momentum %g", m);
    cr_assert_str_eq(nt_assign_str(&s, &a, "act", "?"), "relu", "act");
    cr_assert_eq(nt_assign_num(&s, &a, "batch", 0), 64, "batch %g",
                 nt_assign_num(&s, &a, "batch", 0));
    cr_assert_eq(nt_assign_num(&s, &a, "epochs", 0), 20, "epochs");
    cr_assert_null(a.v[0].label, "lr has a label");

    u[s.p[opt].dim] = 0.75; // adam
    nt_space_decode(&s, u, &a);
    cr_assert_str_eq(a.v[opt].label, "adam", "optimizer label");
    cr_assert(!a.v[mom].active, "momentum active under adam");
    cr_assert(!nt_space_active(&s, u, mom), "nt_space_active says active");
    cr_assert_eq(nt_assign_num(&s, &a, "momentum", -1), -1,
                 "inactive momentum gave %g", nt_assign_num(&s, &a, "momentum", -1));
    char buf[512];
    nt_assign_format(&s, &a, buf, sizeof buf);
    cr_assert(strstr(buf, "optimizer=adam") && !strstr(buf, "momentum") &&
                  strstr(buf, "epochs=20") && strstr(buf, "layers=1"),
              "format \"%s\"", buf);
    double u2[NT_MAX_PARAMS];
    nt_space_encode(&s, &a, u2);
    cr_assert_eq(u2[s.p[mom].dim], 0.5, "inactive dim encoded as %g",
                 u2[s.p[mom].dim]);
}

Test(space, nested_conditions_need_every_ancestor_active)
{
    nt_space s;
    cr_assert_eq(nt_space_parse("a = choice(x, y)\n"
                                "b = choice(p, q) if a == y\n"
                                "c = uniform(0, 1) if b == q\n",
                                "t", &s),
                 NT_OK, "%s", nt_last_error());
    struct { double ua, ub; bool b, c; } cases[] = {
        {0.2, 0.8, false, false}, // a = x: b and c off even though u_b says q
        {0.8, 0.2, true, false},
        {0.8, 0.8, true, true},
    };
    for (int k = 0; k < 3; k++) {
        double u[3] = {cases[k].ua, cases[k].ub, 0.5};
        nt_assignment a;
        nt_space_decode(&s, u, &a);
        cr_assert(a.v[1].active == cases[k].b && a.v[2].active == cases[k].c,
                  "case %d: b %d c %d, want %d %d", k, a.v[1].active,
                  a.v[2].active, cases[k].b, cases[k].c);
        cr_assert(nt_space_active(&s, u, 2) == cases[k].c, "case %d active", k);
    }
}

Test(space, ints_get_equal_width_cells)
{
    nt_space s;
    cr_assert_eq(nt_space_parse("k = int(1, 3)\nc = choice(a, b, c)\n", "t", &s),
                 NT_OK, "%s", nt_last_error());
    struct { double u; double k; int c; } cases[] = {
        {0.0, 1, 0},   {0.3333, 1, 0}, {0.3334, 2, 1}, {0.6666, 2, 1},
        {0.6667, 3, 2}, {0.999999, 3, 2}, {1.0, 3, 2},
    };
    for (int i = 0; i < 7; i++) {
        double u[2] = {cases[i].u, cases[i].u};
        nt_assignment a;
        nt_space_decode(&s, u, &a);
        cr_assert(a.v[0].num == cases[i].k && a.v[1].choice == cases[i].c,
                  "u=%g: int %g choice %d, want %g %d", cases[i].u, a.v[0].num,
                  a.v[1].choice, cases[i].k, cases[i].c);
    }
}

Test(space, encode_then_decode_round_trips_every_kind)
{
    nt_space s;
    cr_assert_eq(nt_space_parse("u = uniform(-3, 7)\n"
                                "l = loguniform(1e-6, 1e-2)\n"
                                "k = int(-4, 9)\n"
                                "g = int(2, 500, log)\n"
                                "n = choice(32, 64, 128)\n"
                                "w = choice(relu, tanh, gelu)\n"
                                "f = 20\n"
                                "m = uniform(0, 1) if w == tanh\n",
                                "t", &s),
                 NT_OK, "%s", nt_last_error());
    nt_rng rng;
    nt_rng_seed(&rng, 7);
    for (int t = 0; t < 5000; t++) {
        double u[NT_MAX_PARAMS], u2[NT_MAX_PARAMS];
        for (int d = 0; d < s.dims; d++) u[d] = nt_rng_uniform(&rng);
        if (t < 2) // the edges of the cube too
            for (int d = 0; d < s.dims; d++) u[d] = t;
        nt_assignment a, b;
        nt_space_decode(&s, u, &a);
        nt_space_encode(&s, &a, u2);
        nt_space_decode(&s, u2, &b);
        for (int i = 0; i < s.n; i++) {
            const nt_value *x = &a.v[i], *y = &b.v[i];
            cr_assert_eq(x->active, y->active, "t %d %s active", t, s.p[i].name);
            if (!x->active) continue; // encoded as 0.5, its value is moot
            cr_assert_eq(x->choice, y->choice, "t %d %s choice %d vs %d", t,
                         s.p[i].name, x->choice, y->choice);
            double tol = 1e-12 * fmax(1, fabs(x->num));
            cr_assert(fabs(x->num - y->num) <= tol, "t %d %s: %.17g -> %.17g", t,
                      s.p[i].name, x->num, y->num);
            if (s.p[i].kind == NT_P_INT || s.p[i].kind == NT_P_INTLOG)
                cr_assert(x->num == floor(x->num) && x->num >= s.p[i].lo &&
                              x->num <= s.p[i].hi,
                          "t %d %s = %g not an integer in range", t,
                          s.p[i].name, x->num);
        }
        // ints and choices land on the centre of their cell
        double k = a.v[2].num;
        double centre = (k - (-4) + 0.5) / 14;
        cr_assert(fabs(u2[s.p[2].dim] - centre) < 1e-12, "int %g at u %g, want %g",
                  k, u2[s.p[2].dim], centre);
        double cc = (a.v[4].choice + 0.5) / 3;
        cr_assert(fabs(u2[s.p[4].dim] - cc) < 1e-12, "choice %d at u %g", 
                  a.v[4].choice, u2[s.p[4].dim]);
    }
}

static void assert_same_space(const nt_space *a, const nt_space *b)
{
    cr_assert_eq(a->n, b->n, "n %d vs %d", a->n, b->n);
    cr_assert_eq(a->dims, b->dims, "dims %d vs %d", a->dims, b->dims);
    for (int i = 0; i < a->n; i++) {
        const nt_param *p = &a->p[i], *q = &b->p[i];
        cr_assert(!strcmp(p->name, q->name) && p->kind == q->kind &&
                      p->lo == q->lo && p->hi == q->hi &&
                      p->n_choices == q->n_choices && p->parent == q->parent &&
                      p->parent_choice == q->parent_choice &&
                      !strcmp(p->fixed, q->fixed) && p->dim == q->dim,
                  "parameter %d: %s/%s kind %d/%d lo %.17g/%.17g hi %.17g/%.17g",
                  i, p->name, q->name, p->kind, q->kind, p->lo, q->lo, p->hi,
                  q->hi);
        for (int j = 0; j < p->n_choices; j++)
            cr_assert_str_eq(p->choice[j], q->choice[j], "%s option %d", p->name, j);
    }
}

Test(space, format_writes_text_that_parses_back_to_the_same_space)
{
    nt_space s, t;
    nt_space_default_mnist(&s);
    cr_assert_eq(nt_space_add_line(&s, "h = int(2, 300, log)", "t"), NT_OK, "%s",
                 nt_last_error());
    cr_assert_eq(nt_space_add_line(&s, "dropout = uniform(0.1, 0.7)", "t"),
                 NT_OK, "%s", nt_last_error());
    char buf[4096];
    nt_space_format(&s, buf, sizeof buf);
    cr_assert_eq(nt_space_parse(buf, "formatted", &t), NT_OK, "%s\n%s",
                 nt_last_error(), buf);
    assert_same_space(&s, &t);
    cr_assert(strstr(buf, "if optimizer == sgd"), "no condition in:\n%s", buf);
}

Test(space, load_reads_a_file_and_reports_a_missing_one)
{
    char dir[] = "/tmp/nt_space_XXXXXX";
    cr_assert_not_null(mkdtemp(dir), "mkdtemp failed");
    char path[128];
    snprintf(path, sizeof path, "%s/space.txt", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs("# tune two things\nlr = loguniform(1e-4, 1e-1)\n\n"
          "act = choice(relu, tanh)  # and this\nepochs = 5", f);
    fclose(f);
    nt_space s;
    nt_status rc = nt_space_load(path, &s);
    cr_assert_eq(rc, NT_OK, "%s", nt_last_error());
    cr_assert(s.n == 3 && s.dims == 2, "n %d dims %d", s.n, s.dims);
    f = fopen(path, "w");
    fputs("lr = loguniform(1e-4, 1e-1)\nact = choice(relu, tanh,)\n", f);
    fclose(f);
    rc = nt_space_load(path, &s);
    char want[200];
    snprintf(want, sizeof want, "%s:2: ", path);
    cr_assert(rc == NT_ERR_FORMAT && strstr(nt_last_error(), want),
              "status %d, message \"%s\"", rc, nt_last_error());
    remove(path);
    rc = nt_space_load(path, &s);
    cr_assert(rc == NT_ERR_IO && strstr(nt_last_error(), path),
              "missing file: status %d, message \"%s\"", rc, nt_last_error());
    rmdir(dir);
}
