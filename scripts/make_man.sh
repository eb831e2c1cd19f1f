#!/bin/sh
# Usage: scripts/make_man.sh [NNTUNE] > nntune.1
# Write nntune's man page from its own --help texts, so the two always say
# the same: each command's help goes in verbatim (preformatted), between a
# hand-written description and the environment, files and exit codes.
# `make nntune.1` runs it; a test checks the committed nntune.1 is current.
set -eu
NNTUNE=${1:-./nntune}
VERSION=$("$NNTUNE" --version | sed -n '1s/^nntune //p' | cut -d' ' -f1)

# roff-safe preformatted text: escape backslashes, and a leading . or '
verbatim() {
    printf '.nf\n'
    sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
    printf '.fi\n'
}

cat <<ROFF
.TH NNTUNE 1 "" "nntune $VERSION" "User Commands"
.SH NAME
nntune \\- a dense-network trainer with hyperparameter tuning built in
.SH SYNOPSIS
.B nntune
.RB [ tune ]
.B \\-\\-data mnist \\-\\-strategy grid|random|bayes
.RI [ options ]
.br
.B nntune
.I command
.RI [ options ]
.SH DESCRIPTION
.B nntune
tunes a dense neural network on MNIST-style data: every grid, random or
Bayesian trial is scored by stratified k-fold cross-validation on the
training set; the best settings are then refitted on all of it and the
model is tested once on the test set. A run folder (default
.IR models/DATA\\-STRATEGY )
keeps the journal of trials, a table, a summary, the model and an HTML
report. The sections below are the commands' own
.B \\-\\-help
texts.
ROFF

section() { # title, then the command's arguments
    title=$1
    shift
    printf '.SH %s\n' "$title"
    "$NNTUNE" "$@" --help | verbatim
}

printf '.SH COMMANDS\n'
"$NNTUNE" --help | verbatim
section "TUNE" tune
for cmd in train eval predict lr-find report compare compare-strategies; do
    if "$NNTUNE" "$cmd" --help >/dev/null 2>&1; then
        section "$(echo "$cmd" | tr 'a-z' 'A-Z')" "$cmd"
    fi
done

cat <<'ROFF'
.SH ENVIRONMENT
.TP
.B NNTUNE_DATA
where the known data sets (mnist, fashion\-mnist) are looked for before
.IR ./data/ .
.TP
.B NO_COLOR
when set and not empty, no colour on a terminal (the status line stays).
.TP
.B TERM
.B dumb
turns the status line and colour off, as output into a pipe or a file does.
.TP
.BR OPENBLAS_NUM_THREADS ", " OPENBLAS_CORETYPE
OpenBLAS's thread count and kernel choice;
.B nntune \-\-version
says which kernels run.
.SH FILES
A run folder holds
.I trials.jsonl
(the journal: a header line, then one JSON object a finished trial,
flushed and fsynced),
.I trials.csv
(one row a trial, like scikit\-learn's cv_results_),
.I best.json
(the summary),
.I space.txt
(the search space),
.I model.nnt
(the refitted model) and
.I report.html
(the report). The README describes every format.
.SH EXIT STATUS
0 success; 1 a run\-time error (data, files, divergence); 2 a bad option
or argument; 130 interrupted (the first Ctrl\-C lets the folds in progress
finish, keeps every finished trial and says how to resume; a second one
exits at once).
.SH EXAMPLES
.nf
nntune \-\-data mnist \-\-strategy bayes
nntune \-\-data mnist \-\-strategy bayes \-\-resume
nntune train \-\-data mnist \-\-layers 256,128 \-\-epochs 20
nntune \-\-objective branin \-\-strategy bayes \-\-trials 30 \-\-explain
.fi
.SH SEE ALSO
The README in the source tree: a tutorial and the reference.
ROFF
