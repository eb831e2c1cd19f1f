#!/bin/sh
# Build the libFuzzer harnesses in tests/fuzz/ into build-fuzz/: the library
# sources are compiled once with the fuzzing flags into build-fuzz/obj/ and
# linked into every harness. Needs clang with its fuzzer runtime (Debian:
# libclang-rt-14-dev). Run from anywhere; paths are relative to the repo.
set -eu
cd "$(dirname "$0")/../.."
CC=${FUZZ_CC:-clang}
OUT=build-fuzz
FLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
WARN="-Wall -Wextra -Wno-unused-parameter -Wno-pass-failed"
CFLAGS="$FLAGS $WARN -std=c11 -D_GNU_SOURCE -fopenmp -Iinclude \
 -I/usr/include/x86_64-linux-gnu/openblas-pthread \
 -DNT_VERSION=\"$(cat VERSION 2>/dev/null || echo 0.0.0)\""
LIBS="-lopenblas -lcjson -lz -lmvec -lm -fopenmp"

mkdir -p "$OUT/obj"
OBJS=""
for src in src/core/*.c src/data/*.c src/nn/*.c src/train/*.c src/tune/*.c; do
    obj="$OUT/obj/$(echo "$src" | tr / _ | sed 's/\.c$/.o/')"
    # rebuild when the source or any header is newer than the object
    if [ ! -f "$obj" ] || [ -n "$(find "$src" include/nntune -newer "$obj" -name '*.[ch]' 2>/dev/null | head -n 1)" ]; then
        $CC $CFLAGS -c "$src" -o "$obj"
    fi
    OBJS="$OBJS $obj"
done

for h in tests/fuzz/fuzz_*.c; do
    name=$(basename "$h" .c)
    # shellcheck disable=SC2086
    $CC $CFLAGS -Itests/fuzz "$h" $OBJS $LIBS -o "$OUT/$name"
    echo "built $OUT/$name"
done
