/* testfn.h - noise-free test functions with known minima (Surjanovic &
 * Bingham's Virtual Library of Simulation Experiments), used in place of a
 * network so strategies can be tested, compared and taught in seconds. */
#ifndef NNTUNE_TESTFN_H
#define NNTUNE_TESTFN_H

#include "nntune/space.h"

typedef struct {
    const char *name;         /* "branin", "hartmann6", ... */
    int dims;
    double lo[8], hi[8];      /* the usual domain of each coordinate */
    double minimum;           /* known global minimum value */
    double (*f)(const double *x);  /* x in the domain (not the cube) */
    const char *about;        /* one line: shape, dims, where the minima are */
} nt_testfn;

/* By name, NULL if unknown. */
const nt_testfn *nt_testfn_find(const char *name);
/* All of them, count in *n. */
const nt_testfn *nt_testfn_all(int *n);
/* The space x1..xd = uniform(lo, hi) of a test function. */
void nt_testfn_space(const nt_testfn *fn, nt_space *out);
/* Evaluate at an assignment of that space. */
double nt_testfn_eval(const nt_testfn *fn, const nt_space *s,
                      const nt_assignment *a);

#endif
