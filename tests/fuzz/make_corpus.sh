#!/bin/sh
# Regenerate the seed corpora in tests/fuzz/corpus/ (small valid inputs of
# each format, plus the prefix bytes each harness expects). Needs ./nntune
# and build/libnntune.a (make), python3 and gcc. Seeds found by fuzzing
# (crash-*) are kept; only the generated seeds are rewritten.
set -eu
cd "$(dirname "$0")/../.."
C=tests/fuzz/corpus
T=$(mktemp -d /tmp/nt_corpus.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p $C/idx $C/csv $C/space $C/journal $C/model

python3 - "$C" <<'PY'
import gzip, struct, sys
C = sys.argv[1]
def idx_images(n, r, c, px): return struct.pack('>IIII', 0x803, n, r, c) + bytes(px)
def idx_labels(lab): return struct.pack('>II', 0x801, len(lab)) + bytes(lab)
def idx_seed(name, img, lbl):
    open(f'{C}/idx/{name}', 'wb').write(struct.pack('<H', len(img)) + img + lbl)
px = [(i * 37) % 256 for i in range(3 * 4 * 4)]
idx_seed('valid_3x4x4', idx_images(3, 4, 4, px), idx_labels([0, 9, 4]))
idx_seed('valid_gz', gzip.compress(idx_images(3, 4, 4, px), mtime=0),
         gzip.compress(idx_labels([1, 2, 3]), mtime=0))
idx_seed('label_too_big', idx_images(2, 2, 2, px[:8]), idx_labels([3, 10]))
idx_seed('count_mismatch', idx_images(2, 2, 2, px[:8]), idx_labels([3]))
# csv: byte 0 = n_classes/scale, byte 1 = d for load_features
csv = {
 'header_pixels': (0, 3, 'label,a,b,c,d\n0,0,255,12,7\n1,3,4,200,0\n2,1,1,1,1\n'),
 'reals_no_header': (10, 2, '1,0.5,-0.25,1e-3\n0,0.1,0.2,0.3\n'),
 'features_only': (24, 3, '0.1,0.2,0.3,0.4\n0.5,0.6,0.7,0.8\n'),
 'bad_field': (0, 1, '0,1,2\n1,x,3\n'),
}
for name, (b0, b1, text) in csv.items():
    open(f'{C}/csv/{name}', 'wb').write(bytes([b0, b1]) + text.encode())
open(f'{C}/space/conditional', 'w').write(
 '# comment\nopt = choice(adam, sgd)\nmom = uniform(0.5, 0.99) if opt == sgd\n'
 'lr = loguniform(1e-4, 1e-1)\nunits = int(16, 512, log)\nlayers = int(1, 3)\n'
 'batch = choice(32, 64, 128)\nepochs = 20\nact = relu\n')
PY

# the default MNIST space, and a journal over it, through the library
cat > "$T/gen.c" <<'CSRC'
#include <stdio.h>
#include <string.h>
#include "nntune/journal.h"
int main(int argc, char **argv)
{
    nt_space s;
    nt_space_default_mnist(&s);
    char text[8192];
    nt_space_format(&s, text, sizeof text);
    FILE *f = fopen(argv[1], "w");
    fputs(text, f);
    fclose(f);
    nt_journal j;
    if (nt_journal_create(argv[2], "{\"study\":{\"strategy\":\"random\"}}", &j) != NT_OK) return 1;
    nt_rng rng;
    nt_rng_seed(&rng, 7);
    for (int k = 0; k < 2; k++) {
        nt_trial t;
        memset(&t, 0, sizeof t);
        t.trial = k;
        for (int i = 0; i < s.dims; i++) t.u[i] = nt_rng_uniform(&rng);
        nt_space_decode(&s, t.u, &t.values);
        t.metric = 0.9 + 0.01 * k; t.score = 1 - t.metric; t.n_folds = 2;
        t.fold_metric[0] = t.fold_metric[1] = t.metric;
        t.fold_epochs[0] = t.fold_ran[0] = t.fold_epochs[1] = t.fold_ran[1] = 3;
        t.status = k ? NT_ERR_NUMERIC : NT_OK;
        if (k) strcpy(t.reason, "diverged");
        strcpy(t.why, "seed");
        if (nt_journal_append(&j, &s, &t) != NT_OK) return 1;
    }
    nt_journal_close(&j);
    return argc < 3;
}
CSRC
gcc -std=c11 -D_GNU_SOURCE -Iinclude "$T/gen.c" build/libnntune.a \
    -lopenblas -lcjson -lz -lmvec -lm -fopenmp -o "$T/gen"
"$T/gen" $C/space/default_mnist "$T/mnist.jsonl"
printf '\001' | cat - "$T/mnist.jsonl" > $C/journal/mnist_space

./nntune --objective branin --strategy random --trials 3 --out "$T/j" --quiet >/dev/null
printf '\000' | cat - "$T/j/trials.jsonl" > $C/journal/branin
# cut short mid-line: the reader drops the last line
head -c 900 "$T/j/trials.jsonl" | { printf '\000'; cat; } > $C/journal/branin_cut

# a tiny model: 4 features, 3 classes, one hidden layer of 5
python3 - "$T" <<'PY'
import sys, random
random.seed(1)
for part, n in (('train', 60), ('test', 15)):
    with open(f'{sys.argv[1]}/tiny-{part}.csv', 'w') as f:
        for i in range(n):
            y = i % 3
            f.write(','.join([str(y)] + [f'{y + random.random():.3f}' for _ in range(4)]) + '\n')
PY
./nntune train --data "$T/tiny-train.csv" --layers 5 --epochs 2 --batch 16 \
    --quiet --save "$T/tiny.nnt" >/dev/null
printf '\000' | cat - "$T/tiny.nnt" > $C/model/tiny
printf '\001' | cat - "$T/tiny.nnt" > $C/model/tiny_fixcrc
ls -l $C/*
