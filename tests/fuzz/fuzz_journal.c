/* fuzz_journal.c - libFuzzer harness for nt_journal_read and
 * nt_partial_read (trials cut short, partial.json: lines like a
 * journal's trial lines).
 *
 * Input: byte 0 picks the space the files are read against (even: the
 * branin test function's, odd: the default MNIST space); the rest is the
 * file, read both as a journal and as partial.json. */
#include "fuzz_common.h"

#include "nntune/journal.h"
#include "nntune/testfn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    static nt_space branin, mnist;
    static int ready;
    if (!ready) {
        nt_testfn_space(nt_testfn_find("branin"), &branin);
        nt_space_default_mnist(&mnist);
        ready = 1;
    }
    const nt_space *space = data[0] & 1 ? &mnist : &branin;
    const char *path = fuzz_write_temp(0, ".jsonl", data + 1, size - 1);

    char *header = NULL;
    nt_study study;
    memset(&study, 0, sizeof study);
    study.best = -1;
    int dropped = 0;
    long good = -1;
    if (nt_journal_read(path, space, &header, &study, &dropped, &good) == NT_OK) {
        if (good < 0 || good > (long)(size - 1)) abort();
        if (study.n < 0 || (study.n > 0 && !study.trial)) abort();
    }
    free(header);
    nt_study_free(&study);

    nt_trial cut[NT_MAX_BATCH];
    int n = -1;
    nt_status rc = nt_partial_read(path, space, cut, NT_MAX_BATCH, &n);
    if (rc == NT_OK ? n < 1 || n > NT_MAX_BATCH : n != 0) abort();
    for (int i = 0; i < n; i++) {
        if (cut[i].n_folds < 2 || cut[i].n_folds > NT_MAX_FOLDS || !cut[i].folds_done) abort();
        if (cut[i].folds_done >> cut[i].n_folds) abort();
        if (i > 0 && cut[i].trial <= cut[i - 1].trial) abort();
        nt_curves_free(cut[i].curves, cut[i].n_folds);
    }
    return 0;
}
