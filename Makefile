# ltsim - build, test, check (sanitizers), bench, demo, fuzz, lint.
#
#   make                 ./ltsim
#   make test            CMocka suite (OPENBLAS_NUM_THREADS=1)
#   make check           the suite under ASan+UBSan with -Werror (build-san/)
#   make bench           forward time vs matrix-product time, RSS, arena bytes
#   make demo            ltsim run on the paper's WMT configs
#   make fuzz            libFuzzer targets for the config and safetensors readers
#                        (FUZZ_SECONDS=600 per target by default)
#   make lint            cppcheck + clang-tidy
#   make deps-check      module boundaries (cblas.h, sqlite3.h, popen)

CC      ?= cc
PKGS    := openblas yaml-0.1 libcjson sqlite3
OPT     ?= -O2
WARN    := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wvla -Wundef
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS_ALL := $(WARN) $(OPT) -g -D_GNU_SOURCE -MMD -MP $(PKG_CFLAGS) $(CFLAGS)
LDLIBS_ALL := $(PKG_LIBS) -lm -lpthread $(LDLIBS)

# OpenBLAS kernels for tests and timings: the Haswell (AVX2) kernels, which valgrind can run;
# values already in the environment are kept. Every timing prints them.
OPENBLAS_CORETYPE ?= Haswell
OPENBLAS_L2_SIZE ?= 512
export OPENBLAS_CORETYPE OPENBLAS_L2_SIZE

ifeq ($(WERROR),1)
CFLAGS_ALL += -Werror
endif

BUILD := build
BIN   := ltsim
ifneq ($(SANITIZE),)
BUILD := build-san
BIN   := build-san/ltsim
CFLAGS_ALL += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SANITIZE)
endif

LIB_SRC := $(filter-out sim/main.c,$(wildcard sim/*.c))
LIB_OBJ := $(LIB_SRC:sim/%.c=$(BUILD)/sim/%.o)
LIB     := $(BUILD)/libsim.a

TEST_SRC  := $(wildcard tests/test_*.c)
TEST_HELP := $(filter-out $(TEST_SRC),$(wildcard tests/*.c))
TEST_HELP_OBJ := $(TEST_HELP:tests/%.c=$(BUILD)/tests/%.o)
TEST_BIN  := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

BENCH_BIN := $(BUILD)/bench/bench_forward

.PHONY: all deps test test-run check bench bench-run demo demo-run fuzz fuzz-run fuzz-build \
        valgrind lint format deps-check clean

all: $(BIN)

# Missing Debian packages are installed first (dpkg-query, then apt-get only if needed); the
# work itself runs in a sub-make so that pkg-config sees the freshly installed libraries.
deps:
	@sh .ci/deps.sh $(DEPS_EXTRA)

$(BIN): $(BUILD)/sim/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/sim/%.o: sim/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

# the plain-C kernels: let the compiler vectorise their inner loops (portable x86-64 SSE2)
$(BUILD)/sim/kernels.o: CFLAGS_ALL += -O3

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Isim -c -o $@ $<

$(BUILD)/tests/test_%: $(BUILD)/tests/test_%.o $(TEST_HELP_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS_ALL)

# the anti-drift test wraps the BLAS calls to tally the M*N*K the kernels hand to BLAS
$(BUILD)/tests/test_ops: LDFLAGS += -Wl,--wrap=cblas_sgemm,--wrap=cblas_sgemv

$(BUILD)/bench/%.o: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Isim -c -o $@ $<

$(BENCH_BIN): $(BUILD)/bench/bench_forward.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_ALL)

# Tests run from the repository root (fixtures use relative paths), one thread.
test: deps
	@$(MAKE) --no-print-directory test-run

test-run: $(BIN) $(TEST_BIN)
	@fail=0; for t in $(TEST_BIN); do \
	  echo "== $$t"; \
	  OPENBLAS_NUM_THREADS=1 LTSIM_BIN=./$(BIN) ./$$t || fail=1; \
	done; \
	exit $$fail

check: deps
	@$(MAKE) --no-print-directory SANITIZE=address,undefined WERROR=1 test-run

bench: deps
	@$(MAKE) --no-print-directory bench-run

bench-run: $(BENCH_BIN) $(BIN)
	OPENBLAS_NUM_THREADS=1 ./$(BENCH_BIN)
	@db=$$(mktemp -d)/bench.db; t0=$$(date +%s.%N); \
	./$(BIN) sweep --count-only --family lite --budget 100M --vary width=8:8000:8 --db $$db \
	  >/dev/null 2>&1 || exit 1; t1=$$(date +%s.%N); \
	n=$$(./$(BIN) db export --db $$db --format csv | wc -l); \
	echo "count-only sweep over 1,000 widths (lite, stored): $$(awk "BEGIN{printf \"%.2f\", $$t1 - $$t0}") s ($$n rows exported)"; \
	rm -rf $$(dirname $$db)

demo: deps
	@$(MAKE) --no-print-directory demo-run

# The main job: the paper's families under 100M / 300M / 500M Mult-Adds on every profile,
# stored in db/ltsim.db, then the report (reports/out/index.html) and the stored points.
demo-run: $(BIN)
	./$(BIN) sweep --family lite,transformer,evolved --budget 100M,300M,500M --hw all
	./$(BIN) report
	./$(BIN) db list --limit 12

# ---- fuzzing (clang libFuzzer) ----
FUZZ_SECONDS ?= 600
FUZZ_CC      ?= clang
FUZZ_BUILD   := build-fuzz
FUZZ_FLAGS   := -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=all $(PKG_CFLAGS) -Isim
FUZZ_TARGETS := $(patsubst fuzz/fuzz_%.c,$(FUZZ_BUILD)/fuzz_%,$(wildcard fuzz/fuzz_*.c))

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c $(LIB_SRC)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ $(LDLIBS_ALL)

fuzz-build: $(FUZZ_TARGETS)

fuzz:
	@sh .ci/deps.sh clang libclang-rt-14-dev
	@$(MAKE) --no-print-directory fuzz-run

fuzz-run: fuzz-build
	@for f in $(FUZZ_TARGETS); do \
	  n=$$(basename $$f); corpus=$(FUZZ_BUILD)/corpus-$$n; mkdir -p $$corpus; \
	  sh fuzz/seed.sh $$n $$corpus || exit 1; \
	  echo "== $$n for $(FUZZ_SECONDS) s"; \
	  ./$$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	     -artifact_prefix=$(FUZZ_BUILD)/$$n- $$corpus || exit 1; \
	done

# The main paths under valgrind (memcheck; the Haswell kernels are the ones it can run).
VALGRIND := valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite
valgrind: $(BIN)
	@sh .ci/deps.sh valgrind
	OPENBLAS_NUM_THREADS=1 $(VALGRIND) ./$(BIN) run tests/fixtures/golden_lite_dyn_glu.yml \
	  --weights tests/golden/lite_dyn_glu/model.safetensors --repeats 2 --warmup 1 --no-db >/dev/null
	OPENBLAS_NUM_THREADS=1 $(VALGRIND) ./$(BIN) run lite-iwslt-160 --repeats 1 --warmup 0 --json --no-db >/dev/null
	OPENBLAS_NUM_THREADS=1 $(VALGRIND) ./$(BIN) count transformer-base --json --no-db >/dev/null
	OPENBLAS_NUM_THREADS=1 $(VALGRIND) ./$(BIN) count lite-wmt-496 --no-db >/dev/null
	OPENBLAS_NUM_THREADS=1 $(VALGRIND) ./$(BIN) run tests/fixtures/lm_tiny.yml --mode generate \
	  --repeats 1 --warmup 0 --no-db >/dev/null
	OPENBLAS_NUM_THREADS=1 $(VALGRIND) ./$(BIN) run tests/fixtures/golden_lite_dyn_glu.yml \
	  --quant int8 --prune 0.3 --repeats 1 --warmup 0 --no-db >/dev/null
	OPENBLAS_NUM_THREADS=1 $(VALGRIND) ./$(BIN) run tests/fixtures/et_tiny.yml --mode generate \
	  --beam 3 --src 5,0,7 --repeats 1 --warmup 0 --no-db >/dev/null
	OPENBLAS_NUM_THREADS=1 $(VALGRIND) ./$(BIN) run tests/fixtures/et_tiny.yml --mode generate \
	  --repeats 3 --warmup 0 --hw tests/fixtures/stream_profile.yml --no-db >/dev/null
	OPENBLAS_NUM_THREADS=1 $(VALGRIND) ./$(BIN) hw show tests/fixtures/stream_profile.yml --json >/dev/null
	rm -rf build/valgrind && mkdir -p build/valgrind
	OPENBLAS_NUM_THREADS=1 $(VALGRIND) ./$(BIN) sweep --family lite,transformer --budget 100M \
	  --count-only --hw raspberry-pi-4 --db build/valgrind/v.db >/dev/null
	OPENBLAS_NUM_THREADS=1 $(VALGRIND) ./$(BIN) carbon --compare strubell-nas,lite-design \
	  --db build/valgrind/v.db >/dev/null
	OPENBLAS_NUM_THREADS=1 $(VALGRIND) ./$(BIN) report --db build/valgrind/v.db \
	  --out build/valgrind/report --no-calibrate >/dev/null 2>&1

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --inline-suppr --std=c11 $(PKG_CFLAGS) -Isim sim tests
	clang-tidy --quiet sim/*.c -- -std=c11 -D_GNU_SOURCE $(PKG_CFLAGS) -Isim

format:
	clang-format -i sim/*.c sim/*.h tests/*.c bench/*.c fuzz/*.c

# Module boundaries: only kernels.c includes cblas.h (and test_ops.c, which wraps sgemm), only ops.c includes kernels_int.h,
# only store.c includes sqlite3.h, only plot.c calls popen.
deps-check:
	@bad=0; \
	for f in $$(grep -l 'include <cblas.h>' sim/*.c sim/*.h tests/*.c bench/*.c 2>/dev/null); do \
	  [ "$$f" = sim/kernels.c ] || [ "$$f" = tests/test_ops.c ] || \
	    { echo "$$f includes cblas.h"; bad=1; }; done; \
	for f in $$(grep -l 'include "kernels_int.h"' sim/*.c sim/*.h 2>/dev/null); do \
	  [ "$$f" = sim/ops.c ] || [ "$$f" = sim/kernels.c ] || { echo "$$f includes kernels_int.h"; bad=1; }; done; \
	for f in $$(grep -l 'include <sqlite3.h>' sim/*.c sim/*.h 2>/dev/null); do \
	  [ "$$f" = sim/store.c ] || { echo "$$f includes sqlite3.h"; bad=1; }; done; \
	for f in $$(grep -l 'popen(' sim/*.c 2>/dev/null); do \
	  [ "$$f" = sim/plot.c ] || { echo "$$f calls popen"; bad=1; }; done; \
	exit $$bad

clean:
	rm -rf build build-san build-fuzz ltsim

-include $(wildcard build/sim/*.d build/tests/*.d build/bench/*.d build-san/sim/*.d build-san/tests/*.d)
