/* net_helpers.h - what the network tests share: a network built from an
 * architecture and a seed, and a random batch. Header-only (static
 * inline). */
#ifndef NNTUNE_TEST_NET_HELPERS_H
#define NNTUNE_TEST_NET_HELPERS_H

#include <criterion/criterion.h>

#include "nntune/net.h"

/* A network of architecture a for batches up to max_batch, weights from seed. */
static inline nt_net make_net(nt_arch a, int max_batch, uint64_t seed)
{
    nt_rng r;
    nt_rng_seed(&r, seed);
    nt_net net;
    nt_status rc = nt_net_init(&a, max_batch, &r, &net);
    cr_assert(rc == NT_OK, "nt_net_init: %s", nt_last_error());
    return net;
}

/* B rows of d standard-normal features in x, and labels in 0..C-1 in y. */
static inline void fill_data(float *x, int32_t *y, int B, int d, int C, uint64_t seed)
{
    nt_rng r;
    nt_rng_seed(&r, seed);
    for (int i = 0; i < B * d; i++) x[i] = (float)nt_rng_normal(&r);
    for (int i = 0; i < B; i++) y[i] = (int32_t)nt_rng_below(&r, (uint64_t)C);
}

#endif
