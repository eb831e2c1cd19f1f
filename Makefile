# nntune - see README.md. `make setup` installs packages and fetches data,
# `make` builds build/libnntune.a and ./nntune, `make check` runs the tests.
CC      ?= gcc
PREFIX  ?= /usr/local
# No -ffast-math: it lets the compiler assume no NaN/Inf, and divergence
# detection depends on seeing them. -fno-math-errno only drops errno from
# sqrt and friends (nntune never reads it), so their loops vectorize.
CFLAGS  ?= -O2 -march=native -g
CFLAGS  += -fno-math-errno -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wno-unused-parameter \
           -fopenmp -Iinclude -I/usr/include/x86_64-linux-gnu/openblas-pthread
LDLIBS  := -lopenblas -lcjson -lz -lmvec -lm -fopenmp
# EXTRA adds flags to compiling and linking alike (the sanitizer build)
CFLAGS  += $(EXTRA)
LDLIBS  += $(EXTRA)
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
CFLAGS  += -DNT_VERSION=\"$(VERSION)\"

LIB_SRC  := $(sort $(wildcard src/core/*.c src/data/*.c src/nn/*.c src/train/*.c src/tune/*.c))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
# B is the build folder: build/, or build-asan/ for the sanitizer build
B        ?= build
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(B)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(B)/%.o)
HEADERS  := $(wildcard include/nntune/*.h src/*/*.h)

.PHONY: all run setup setup-test check test check-asan fuzz bench bench-programs man install uninstall clean distclean test-%
all: $(B)/libnntune.a nntune

$(B)/%.o: %.c $(HEADERS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(B)/libnntune.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

nntune: $(CLI_OBJ) $(B)/libnntune.a
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJ) $(B)/libnntune.a $(LDLIBS)

# All suites link into one Criterion binary, so one summary line reports them.
$(B)/tests/run: $(TEST_OBJ) $(B)/libnntune.a
	$(CC) $(CFLAGS) -o $@ $(TEST_OBJ) $(B)/libnntune.a -lcriterion $(LDLIBS)

# One suite alone while working on it: make test-split
$(B)/tests/%: $(B)/tests/%.o $(B)/libnntune.a
	$(CC) $(CFLAGS) -o $@ $< $(B)/libnntune.a -lcriterion $(LDLIBS)
test-%: $(B)/tests/test_%
	OPENBLAS_NUM_THREADS=1 ./$< --jobs 2

# The main job on a fresh machine: set up, build, tune on MNIST.
RUN_ARGS ?= --data mnist --strategy bayes
run: setup
	@$(MAKE) --no-print-directory all
	./nntune $(RUN_ARGS)

setup:
	@bash scripts/setup.sh

setup-test:
	@bash scripts/setup.sh --test

# What CI runs (.ci/run) and the README's test command: the test suite,
# the same suite under the sanitizers, then a short fuzz pass of every
# harness (FUZZ_SECONDS_CHECK each). `make test` is the first part alone.
FUZZ_SECONDS_CHECK ?= 30
check: setup-test
	@$(MAKE) --no-print-directory test
	@$(MAKE) --no-print-directory check-asan
	bash tests/fuzz/run.sh $(FUZZ_SECONDS_CHECK)

test: setup
	@$(MAKE) --no-print-directory build/tests/run nntune
	OPENBLAS_NUM_THREADS=1 ./build/tests/run --jobs 2

# The whole suite under AddressSanitizer and UndefinedBehaviorSanitizer, in
# build-asan/ (the tests that run ./nntune use the normal binary).
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=undefined
check-asan: setup
	@$(MAKE) --no-print-directory nntune
	@$(MAKE) --no-print-directory B=build-asan EXTRA="$(ASAN_FLAGS)" build-asan/tests/run
	ASAN_OPTIONS=detect_leaks=1 OPENBLAS_NUM_THREADS=1 ./build-asan/tests/run --jobs 2

# libFuzzer harnesses for the IDX, CSV, space, journal and model readers
# (tests/fuzz/), each run for FUZZ_SECONDS on its seed corpus; needs clang.
FUZZ_SECONDS ?= 60
fuzz: setup-test
	bash tests/fuzz/run.sh $(FUZZ_SECONDS)

# nntune against GEMM, PyTorch, scikit-learn and Optuna (benchmarks/run.sh;
# about 12 minutes; ARGS=--full for the long version)
bench: setup all
	@bash benchmarks/run.sh $(ARGS)

# The benchmark programs (benchmarks/*.c), built with the library's flags;
# benchmarks/run.sh and benchmarks/bayes_batch.sh build them through this.
BENCH_BIN := $(patsubst benchmarks/%.c,$(B)/%,$(wildcard benchmarks/*.c))
bench-programs: $(BENCH_BIN)
$(BENCH_BIN): $(B)/%: benchmarks/%.c benchmarks/bench_args.h benchmarks/bench_batches.h $(B)/libnntune.a
	$(CC) $(CFLAGS) -o $@ $< $(B)/libnntune.a $(LDLIBS)

# The man page is nntune's own --help texts (scripts/make_man.sh); the
# committed copy is checked against them by the test suite.
man: nntune
	sh scripts/make_man.sh ./nntune > nntune.1.tmp && mv nntune.1.tmp nntune.1

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/nntune \
	           $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 nntune $(DESTDIR)$(PREFIX)/bin/nntune
	install -m 644 nntune.1 $(DESTDIR)$(PREFIX)/share/man/man1/nntune.1
	install -m 644 build/libnntune.a $(DESTDIR)$(PREFIX)/lib/libnntune.a
	install -m 644 include/nntune/*.h $(DESTDIR)$(PREFIX)/include/nntune/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/nntune $(DESTDIR)$(PREFIX)/lib/libnntune.a \
	      $(DESTDIR)$(PREFIX)/share/man/man1/nntune.1
	rm -rf $(DESTDIR)$(PREFIX)/include/nntune

clean:
	rm -rf build build-asan build-fuzz nntune

distclean: clean
	rm -rf data/mnist data/fashion-mnist
