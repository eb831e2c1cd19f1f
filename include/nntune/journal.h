/* journal.h - what a study writes: the append-only journal trials.jsonl (a
 * header line describing the study, then one JSON object per finished
 * trial, flushed and fsynced before the next trial starts) and the table
 * trials.csv (one row a trial, columns like scikit-learn's cv_results_).
 * JSON goes through cJSON. */
#ifndef NNTUNE_JOURNAL_H
#define NNTUNE_JOURNAL_H

#include <stdio.h>

#include "nntune/tuner.h"

typedef struct {
    FILE *f;
    char path[4096];
} nt_journal;

/* Create (truncate) the journal and write `header_json` (one JSON object,
 * {"study": {...}}) as its first line. */
nt_status nt_journal_create(const char *path, const char *header_json, nt_journal *j);
/* Append one trial as a line, then fflush and fsync. */
nt_status nt_journal_append(nt_journal *j, const nt_space *s, const nt_trial *t);
/* Close; safe on a zeroed journal. */
void nt_journal_close(nt_journal *j);

/* Read a journal back (for --resume and reports). `header` receives the
 * first line's JSON text (malloc'd, caller frees); every complete trial line
 * is added to `study` (values decoded from its point through `space`), and
 * study->seconds is set to the last trial's finishing time. A last line that
 * is cut short (no newline: the process died mid-write) or does not parse
 * is dropped: *dropped is set to 1 and *good_bytes to the length of the
 * file up to the last good line, so the caller can truncate it there. Any
 * earlier bad line is NT_ERR_FORMAT naming the file and line. */
nt_status nt_journal_read(const char *path, const nt_space *space, char **header,
                          nt_study *study, int *dropped, long *good_bytes);
/* Open an existing journal for appending, first cutting it to good_bytes. */
nt_status nt_journal_append_open(const char *path, long good_bytes, nt_journal *j);

/* The trials a stop request cut short after some of their folds finished
 * (t->folds_done), kept beside the journal so a resume does not train those
 * folds again: one JSON line each, like a trial's, plus "folds_done" (the
 * mask), in trial order. Write is atomic. Read fills t[0..*n) (at most
 * max; their points, fold figures, masks and curves, owned: free with
 * nt_curves_free) or fails with NT_ERR_FORMAT naming the file and line;
 * *n is 0 and t zeroed on failure. */
nt_status nt_partial_write(const char *path, const nt_space *s, const nt_trial *t, int n);
nt_status nt_partial_read(const char *path, const nt_space *s, nt_trial *t, int max, int *n);

/* A point's active parameters as a JSON object {name: number or word}
 * (the journal's "params", best.json's, a model header's). Owned by the
 * caller (cJSON_Delete). */
struct cJSON;
struct cJSON *nt_assign_to_json(const nt_space *s, const nt_assignment *a);

/* One trial as a JSON object (the journal's line), malloc'd; NULL when out
 * of memory. */
char *nt_trial_to_json(const nt_space *s, const nt_trial *t);

/* Write trials.csv for a study: trial, status, mean_test_score,
 * std_test_score, rank_test_score, split<k>_test_score..., mean_fit_time,
 * epochs, param_<name>..., reason. Ranks follow the scores the strategy
 * minimized (1 = best, ties share a rank, failed trials last). Atomic. */
nt_status nt_trials_csv(const char *path, const nt_space *s, const nt_study *st);

#endif
