/* strategy.c - create a strategy by name and free it. Each implementation
 * (grid.c, random.c, bayes.c) fills st->ops and st->state; its ops->free
 * releases st->state only (it must be safe on a half-built state), and
 * nt_strategy_free releases the nt_strategy itself. */
#include "nntune/strategy.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

nt_status nt_strategy_create(const char *name, const nt_space *space,
                             const nt_strategy_options *opt, nt_strategy **out)
{
    assert(name && space && out);
    *out = NULL;
    nt_status (*create)(nt_strategy *) = NULL;
    if (strcmp(name, "grid") == 0) create = nt_grid_create;
    else if (strcmp(name, "random") == 0) create = nt_random_create;
    else if (strcmp(name, "bayes") == 0) create = nt_bayes_create;
    if (!create) {
        nt_errorf("unknown strategy '%s' (expected grid, random or bayes)", name);
        return NT_ERR_ARG;
    }
    nt_strategy *st = calloc(1, sizeof *st);
    if (!st) {
        nt_errorf("%s: out of memory creating the strategy", name);
        return NT_ERR_NOMEM;
    }
    st->space = space;
    if (opt) st->opt = *opt;
    nt_status rc = create(st);
    if (rc != NT_OK) {
        nt_strategy_free(st);
        return rc;
    }
    *out = st;
    return NT_OK;
}

void nt_strategy_free(nt_strategy *st)
{
    if (!st) return;
    if (st->ops && st->ops->free) st->ops->free(st);
    free(st);
}
