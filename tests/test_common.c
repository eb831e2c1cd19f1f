/* test_common.c - aligned zeroed allocation, small and big, and the huge
 * page hint, which must leave memory as it was. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nntune/common.h"

static void check_block(size_t bytes)
{
    unsigned char *p = nt_alloc(bytes);
    cr_assert(p != NULL, "nt_alloc(%zu) failed", bytes);
    cr_assert((uintptr_t)p % 64 == 0, "nt_alloc(%zu) = %p, not 64-byte aligned", bytes, p);
    for (size_t i = 0; i < bytes; i++)
        cr_assert(p[i] == 0, "nt_alloc(%zu): byte %zu is %u, not 0", bytes, i, p[i]);
    memset(p, 0xA5, bytes); // every byte is ours to write
    nt_free(p);
}

Test(common, alloc_is_aligned_and_zeroed_small_and_big)
{
    check_block(0);
    check_block(1);
    check_block(1000);
    // past the size that is advised into huge pages, and not a multiple of
    // the page size: the hint must not cut the block short
    check_block((5u << 20) + 3);
}

Test(common, alloc_reuses_freed_memory_zeroed)
{
    // a block freed dirty and handed out again must come back zeroed
    for (int round = 0; round < 3; round++) check_block((6u << 20) + 64 * (size_t)round);
}

Test(common, huge_page_hint_changes_no_byte)
{
    const size_t bytes = (9u << 20) + 123;
    unsigned char *p = malloc(bytes);
    cr_assert(p != NULL);
    for (size_t i = 0; i < bytes; i++) p[i] = (unsigned char)(i * 2654435761u >> 24);
    nt_advise_huge_pages(p + 1, bytes - 1); // unaligned start: only whole 2 MiB pages inside
    nt_advise_huge_pages(p, 100);            // no whole huge page inside: nothing to do
    nt_advise_huge_pages(NULL, 0);
    for (size_t i = 0; i < bytes; i++)
        cr_assert(p[i] == (unsigned char)(i * 2654435761u >> 24), "byte %zu changed", i);
    free(p);
}
