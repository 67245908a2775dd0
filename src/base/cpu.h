/* cpu.h — what this CPU can run, found once at run time, so one binary carries every kernel and picks the best.
 *
 * The library is compiled for a portable baseline (Makefile: x86-64-v3 = AVX2 + FMA + F16C); kernels that need
 * more are compiled for it inside an OLMO_TARGET_*_BEGIN / OLMO_TARGET_END region (function-level target
 * attributes, so no -m flag leaks into the rest of the file) and are only called after a check here:
 *
 *     if (olmo_cpu_has(OLMO_CPU_AVX512_BF16)) return gemm_avx512bf16(...);   // else the portable path
 *
 * Levels, each including the ones before (a kernel needs the level's whole feature set):
 *   scalar      nothing beyond the build's baseline: only the portable C paths (the reference kernels)
 *   avx2        AVX2, FMA, F16C (with the OS saving ymm state)
 *   avx512      + AVX512 F/BW/VL/DQ (with the OS saving zmm state)
 *   avx512bf16  + AVX512_BF16 and AVX512_VNNI (Zen 4+, Cooper Lake, Sapphire Rapids+)
 *   amx         + AMX tile/bf16/int8, and Linux granted this process the tile data state (arch_prctl)
 * OLMO_CPU=<level> in the environment caps what is used at a lower level (tests run every kernel path the
 * machine has this way; a user can rule out a path); a cap above what the CPU has changes nothing.
 * olmo_cpu_set_cap does the same from code (tests). Thread-safe after the first call (detection is idempotent). */
#ifndef OLMO_BASE_CPU_H
#define OLMO_BASE_CPU_H

enum olmo_cpu_level {
    OLMO_CPU_LEVEL_SCALAR = 0,
    OLMO_CPU_LEVEL_AVX2 = 1,
    OLMO_CPU_LEVEL_AVX512 = 2,
    OLMO_CPU_LEVEL_AVX512BF16 = 3,
    OLMO_CPU_LEVEL_AMX = 4,
    OLMO_CPU_LEVEL_COUNT = 5
};

/* Single features (bit flags). A kernel asks for exactly those it uses. */
enum olmo_cpu_feature {
    OLMO_CPU_AVX2 = 1u << 0,
    OLMO_CPU_FMA = 1u << 1,
    OLMO_CPU_F16C = 1u << 2,
    OLMO_CPU_AVX512F = 1u << 3,
    OLMO_CPU_AVX512BW = 1u << 4,
    OLMO_CPU_AVX512VL = 1u << 5,
    OLMO_CPU_AVX512DQ = 1u << 6,
    OLMO_CPU_AVX512_BF16 = 1u << 7,
    OLMO_CPU_AVX512_VNNI = 1u << 8,
    OLMO_CPU_AVX_VNNI = 1u << 9,
    OLMO_CPU_AMX_TILE = 1u << 10,
    OLMO_CPU_AMX_BF16 = 1u << 11,
    OLMO_CPU_AMX_INT8 = 1u << 12,
};
/* The feature sets of the levels (what OLMO_TARGET_* regions may use). */
#define OLMO_CPU_SET_AVX2 (OLMO_CPU_AVX2 | OLMO_CPU_FMA | OLMO_CPU_F16C)
#define OLMO_CPU_SET_AVX512 (OLMO_CPU_SET_AVX2 | OLMO_CPU_AVX512F | OLMO_CPU_AVX512BW | OLMO_CPU_AVX512VL | OLMO_CPU_AVX512DQ)
#define OLMO_CPU_SET_AVX512BF16 (OLMO_CPU_SET_AVX512 | OLMO_CPU_AVX512_BF16 | OLMO_CPU_AVX512_VNNI)
#define OLMO_CPU_SET_AMX (OLMO_CPU_SET_AVX512BF16 | OLMO_CPU_AMX_TILE | OLMO_CPU_AMX_BF16 | OLMO_CPU_AMX_INT8)

/* 1 when every feature in `mask` is present and allowed by the cap. Cheap (one load after the first call). */
int olmo_cpu_has(unsigned mask);
/* The highest level whose whole feature set is present and allowed. */
enum olmo_cpu_level olmo_cpu_level(void);
/* Features detected on this CPU, ignoring the cap. */
unsigned olmo_cpu_detected(void);
/* Caps the features in use at `level` (OLMO_CPU_LEVEL_COUNT or above: no cap); returns the previous cap.
 * Overrides OLMO_CPU. For tests: not to be called while kernels run on other threads. */
enum olmo_cpu_level olmo_cpu_set_cap(enum olmo_cpu_level level);
/* "scalar", "avx2", ... ; NULL for an out-of-range level. */
const char *olmo_cpu_level_name(enum olmo_cpu_level level);
/* Parses a level name (as above); -1 when unknown. */
int olmo_cpu_level_parse(const char *name);
/* Space-separated names of the features in `mask` ("avx2 fma f16c avx512f ..."), into buf; returns buf. */
char *olmo_cpu_feature_names(unsigned mask, char *buf, int size);
/* One line naming the CPU, its instruction sets and the kernel level in use (and OLMO_CPU when set):
 * "CPU: AMD EPYC 9R14 | instruction sets: avx2 fma ... | kernels: avx512bf16". Benchmarks print it first. */
char *olmo_cpu_describe(char *buf, int size);
/* The CPU's brand string ("AMD EPYC 9R14 96-Core Processor"), or "unknown". */
const char *olmo_cpu_model(void);
/* 0 when the CPU runs the build's baseline (AVX2 + FMA + F16C unless built with NATIVE=1 or for a lower
 * target); otherwise -1 with olmo_err naming what is missing. The CLI calls it first thing: a clear message
 * instead of an illegal-instruction crash. */
int olmo_cpu_check_baseline(void);

/* Regions of code compiled for a level: OLMO_TARGET_AVX512_BEGIN ... OLMO_TARGET_END around whole functions
 * (headers such as <immintrin.h> included before the region). GCC and clang spell it differently. */
#define OLMO_TARGET_STR_AVX2 "avx2,fma,f16c,bmi,bmi2,popcnt"
#define OLMO_TARGET_STR_AVX512 OLMO_TARGET_STR_AVX2 ",avx512f,avx512bw,avx512vl,avx512dq,avx512cd"
#define OLMO_TARGET_STR_AVX512BF16 OLMO_TARGET_STR_AVX512 ",avx512bf16,avx512vnni"
#define OLMO_TARGET_STR_AMX OLMO_TARGET_STR_AVX512BF16 ",amx-tile,amx-bf16,amx-int8"
#define OLMO_PRAGMA_(x) _Pragma(#x)
#if defined(__clang__)
#define OLMO_TARGET_BEGIN_(s) OLMO_PRAGMA_(clang attribute push(__attribute__((target(s))), apply_to = function))
#define OLMO_TARGET_END _Pragma("clang attribute pop")
#else
#define OLMO_TARGET_BEGIN_(s) _Pragma("GCC push_options") OLMO_PRAGMA_(GCC target(s))
#define OLMO_TARGET_END _Pragma("GCC pop_options")
#endif
#define OLMO_TARGET_AVX2_BEGIN OLMO_TARGET_BEGIN_(OLMO_TARGET_STR_AVX2)
#define OLMO_TARGET_AVX512_BEGIN OLMO_TARGET_BEGIN_(OLMO_TARGET_STR_AVX512)
#define OLMO_TARGET_AVX512BF16_BEGIN OLMO_TARGET_BEGIN_(OLMO_TARGET_STR_AVX512BF16)
#define OLMO_TARGET_AMX_BEGIN OLMO_TARGET_BEGIN_(OLMO_TARGET_STR_AMX)

#endif
