# olmo.c build. `make` builds build/olmo and build/libolmo.a; `make test` runs the suite; `make check` runs it
# twice, plain and under ASan+UBSan; `make bench` builds the benchmarks. Sources are found by wildcard, so a
# new src/<module>/*.c, tests/test_*.c or bench/bench_*.c needs no edit here.
#
#   make BUILD=build-x      another build folder (several configurations side by side)
#   make SAN=1              AddressSanitizer + UndefinedBehaviorSanitizer build (default folder build-san)
#   make valgrind           an x86-64-v3 build in build-vg and scripts/valgrind.sh over it (memcheck)
#   make MPI=0              build without MPI even if OpenMPI is installed
#   make NATIVE=1           compile everything for this machine (-march=native; default folder build-native)
#
# Portable by default: the library is compiled for x86-64-v3 (AVX2 + FMA + F16C: every x86-64 CPU since Intel
# Haswell, 2013, and AMD Zen, 2017) and the hot kernels carry their own AVX-512 / AVX512-BF16 / AMX code behind
# run-time checks (src/base/cpu.h), so one binary runs on any of them and uses what each CPU has. Why v3 rather
# than v2: the portable C around the kernels (norms, RoPE, the reference kernels, training's element-wise loops)
# auto-vectorizes to AVX2 + FMA, and the CPUs v3 leaves out (pre-2013) are too slow for these models anyway;
# olmo says so clearly on such a CPU (olmo_cpu_check_baseline) instead of dying of an illegal instruction.

SAN ?= 0
NATIVE ?= 0
ifeq ($(SAN),1)
BUILD ?= build-san
else ifeq ($(NATIVE),1)
BUILD ?= build-native
else
BUILD ?= build
endif
ifeq ($(NATIVE),1)
ARCH_CFLAGS := -march=native
else
ARCH_CFLAGS := -march=x86-64-v3 -DOLMO_BUILD_BASELINE_V3=1
endif

CC ?= cc
PKGS := jansson libpcre2-8 libutf8proc zlib libzstd yaml-0.1 openblas
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# MPI is optional: with OpenMPI's compiler wrapper present, build data-parallel training in.
MPI ?= $(if $(shell command -v mpicc 2>/dev/null),1,0)
ifeq ($(MPI),1)
MPI_CFLAGS := $(shell mpicc --showme:compile) -DOLMO_HAVE_MPI=1
MPI_LIBS := $(shell mpicc --showme:link)
endif

OPT ?= -O2
CFLAGS := -std=c11 -D_GNU_SOURCE $(OPT) -g $(ARCH_CFLAGS) -fopenmp -Wall -Wextra -Wno-unused-parameter -Werror=implicit-function-declaration \
          -Isrc $(PKG_CFLAGS) $(MPI_CFLAGS) $(EXTRA_CFLAGS)
LDLIBS := $(PKG_LIBS) -ljq -lmicrohttpd -ldnnl -lcld2 -lstdc++ $(MPI_LIBS) -fopenmp -lpthread -lm
ifeq ($(SAN),1)
CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -DOLMO_SANITIZED=1
LDLIBS += -fsanitize=address,undefined
SAN_CXXFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer
endif

# cpu.c runs before the baseline check, so it must itself run on any x86-64 (the last -march wins).
$(BUILD)/obj/src/base/cpu.o: CFLAGS += -march=x86-64
# What `olmo --version` prints about the build.
$(BUILD)/obj/src/cli/main.o: CFLAGS += -DOLMO_BUILD_ARCH='"$(filter -march=%,$(ARCH_CFLAGS))"' -DOLMO_BUILD_OPT='"$(OPT)$(if $(filter 1,$(SAN)), ASan+UBSan,)"'

LIB_SRC := $(shell find src -name '*.c' -not -path 'src/cli/*' | sort)
# C++ shims around C++-only libraries (src/data/taggers/cld2_shim.cc: libcld2), compiled with g++ into libolmo.a
CXX ?= g++
LIB_CXX_SRC := $(shell find src -name '*.cc' | sort)
CXXFLAGS := -std=c++11 $(OPT) -g -Wall -Wextra -Isrc $(SAN_CXXFLAGS)
CLI_SRC := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
BENCH_SRC := $(sort $(wildcard bench/bench_*.c))
# bench/peer_*.c: helpers of the side-by-side peer benchmarks (bench/llama_cpp_peer.sh), also used by a test
PEER_SRC := $(sort $(wildcard bench/peer_*.c))

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(LIB_CXX_SRC:%.cc=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
PEER_BIN := $(PEER_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: all test check bench clean deps san-test fuzz valgrind
all: $(BUILD)/olmo

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.cc
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libolmo.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/olmo: $(CLI_OBJ) $(BUILD)/libolmo.a
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libolmo.a $(LDLIBS)

$(BUILD)/obj/tests/harness.o: tests/harness.c tests/harness.h
$(BUILD)/tests/%: tests/%.c $(BUILD)/obj/tests/harness.o $(BUILD)/libolmo.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -MMD -MP -o $@ $< $(BUILD)/obj/tests/harness.o $(BUILD)/libolmo.a $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libolmo.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Ibench -MMD -MP -o $@ $< $(BUILD)/libolmo.a $(LDLIBS)

# The suite: unit-test binaries and shell integration tests (tests/*.test.sh), one closing line.
test: $(BUILD)/olmo $(TEST_BIN) $(PEER_BIN) $(BENCH_BIN)   # benchmarks built too, so none silently stops compiling
	OLMO_SANITIZED=$(SAN) bash tests/run.sh $(BUILD)

san-test:
	$(MAKE) SAN=1 test

# What CI runs (through .ci/run): the plain suite, then the same suite under ASan + UBSan.
check:
	$(MAKE) test
	$(MAKE) SAN=1 test

bench: $(BUILD)/olmo $(BENCH_BIN) $(PEER_BIN)

deps:
	bash scripts/install-deps.sh

clean:
	rm -rf build-fuzz
	rm -rf build build-san build-native

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# Fuzzing: every fuzz/fuzz_<name>.c is a libFuzzer target, built with clang together with the whole library
# (ASan + UBSan) into build-fuzz/, then run for FUZZ_SECONDS each. Seeds come from fuzz/seeds/<name>/ and a
# dictionary from fuzz/<name>.dict when they exist; the growing corpus stays in build-fuzz/corpus/<name>/.
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=build-fuzz/%)
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -O1 -g -fopenmp -fsanitize=fuzzer-no-link,address,undefined \
               -fno-sanitize-recover=undefined -fno-omit-frame-pointer -Isrc $(PKG_CFLAGS) $(MPI_CFLAGS) -DOLMO_FUZZ=1
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=build-fuzz/obj/%.o)

build-fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

build-fuzz/libolmo.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

build-fuzz/fuzz_%: fuzz/fuzz_%.c build-fuzz/libolmo.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< build-fuzz/libolmo.a $(PKG_LIBS) -ldnnl $(MPI_LIBS) -lpthread -lm

# Valgrind 3.19 cannot decode AVX-512: build for x86-64-v3 (the last -march wins) in its own folder.
VG_TESTS := base safetensors hf_config linear attention model sampling chat_template utf8_stream tokenizer
valgrind:
	$(MAKE) BUILD=build-vg EXTRA_CFLAGS=-march=x86-64-v3 all $(VG_TESTS:%=build-vg/tests/test_%)
	bash scripts/valgrind.sh build-vg/olmo $(VG_TESTS:%=build-vg/tests/test_%)

fuzz: $(FUZZ_BIN)
	@set -e; for bin in $(FUZZ_BIN); do \
	  name=$$(basename $$bin); short=$${name#fuzz_}; \
	  mkdir -p build-fuzz/corpus/$$short; \
	  seeds=; [ -d fuzz/seeds/$$short ] && seeds=fuzz/seeds/$$short; \
	  dict=; [ -f fuzz/$$short.dict ] && dict=-dict=fuzz/$$short.dict; \
	  echo "== $$name for $(FUZZ_SECONDS) s"; \
	  $$bin -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=4096 -artifact_prefix=build-fuzz/ $$dict build-fuzz/corpus/$$short $$seeds; \
	done
