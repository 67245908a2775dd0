/* cpu.c — run-time CPU feature detection (cpu.h): cpuid for what the CPU implements, xgetbv for what the OS
 * saves on a context switch (an AVX-512 CPU under an OS that does not save zmm registers must not use them),
 * and on Linux the AMX tile-data permission, which a process has to request before its first tile instruction.
 * Compiled for plain x86-64 (Makefile) so that olmo_cpu_check_baseline can run on any x86-64 CPU. */
#include "base/cpu.h"
#include "base/error.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define OLMO_X86 1
#endif
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

static const char *const level_names[OLMO_CPU_LEVEL_COUNT] = {"scalar", "avx2", "avx512", "avx512bf16", "amx"};
static const unsigned level_sets[OLMO_CPU_LEVEL_COUNT] = {0, OLMO_CPU_SET_AVX2, OLMO_CPU_SET_AVX512,
                                                          OLMO_CPU_SET_AVX512BF16, OLMO_CPU_SET_AMX};
static const char *const feature_names[] = {"avx2",        "fma",        "f16c",     "avx512f",  "avx512bw",
                                            "avx512vl",    "avx512dq",   "avx512_bf16", "avx512_vnni", "avx_vnni",
                                            "amx_tile",    "amx_bf16",   "amx_int8"};

/* detected: features present and usable; allowed: detected & the cap's set. -1 until first detection. */
static atomic_int detected = -1, allowed = -1;
static char model[64];

#ifdef OLMO_X86
static unsigned long long xgetbv0(void) {
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

/* Linux keeps AMX tile data off until the process asks (arch/x86 XFD); without it the first tile instruction
 * kills the process. 1 when granted (or not needed). */
static int amx_permission(void) {
#if defined(__linux__)
    enum { ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18 };
    return syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
#else
    return 0;
#endif
}

static unsigned detect(void) {
    unsigned a, b, c, d, f = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1, f16c = (c >> 29) & 1, avx = (c >> 28) & 1;
    unsigned long long xcr0 = osxsave ? xgetbv0() : 0;
    int os_ymm = (xcr0 & 0x6) == 0x6, os_zmm = os_ymm && (xcr0 & 0xe0) == 0xe0;
    int os_tile = (xcr0 & (3ull << 17)) == (3ull << 17);
    unsigned max = __get_cpuid_max(0, NULL);
    unsigned b7 = 0, c7 = 0, d7 = 0, a71 = 0;
    if (max >= 7) {
        __cpuid_count(7, 0, a, b7, c7, d7);
        __cpuid_count(7, 1, a71, b, c, d);
    }
    if (avx && os_ymm) {
        if ((b7 >> 5) & 1) f |= OLMO_CPU_AVX2;
        if (fma) f |= OLMO_CPU_FMA;
        if (f16c) f |= OLMO_CPU_F16C;
        if ((a71 >> 4) & 1) f |= OLMO_CPU_AVX_VNNI;
    }
    if (os_zmm) {
        if ((b7 >> 16) & 1) f |= OLMO_CPU_AVX512F;
        if ((b7 >> 17) & 1) f |= OLMO_CPU_AVX512DQ;
        if ((b7 >> 30) & 1) f |= OLMO_CPU_AVX512BW;
        if ((b7 >> 31) & 1) f |= OLMO_CPU_AVX512VL;
        if ((c7 >> 11) & 1) f |= OLMO_CPU_AVX512_VNNI;
        if ((a71 >> 5) & 1) f |= OLMO_CPU_AVX512_BF16;
    }
    unsigned amx = 0;
    if ((d7 >> 24) & 1) amx |= OLMO_CPU_AMX_TILE;
    if ((d7 >> 22) & 1) amx |= OLMO_CPU_AMX_BF16;
    if ((d7 >> 25) & 1) amx |= OLMO_CPU_AMX_INT8;
    if (amx && os_tile && amx_permission()) f |= amx;
    /* brand string: leaves 0x80000002..4 */
    if (__get_cpuid_max(0x80000000, NULL) >= 0x80000004) {
        unsigned r[12];
        for (unsigned i = 0; i < 3; i++) __cpuid(0x80000002 + i, r[4 * i], r[4 * i + 1], r[4 * i + 2], r[4 * i + 3]);
        memcpy(model, r, 48);
        model[48] = 0;
        for (int i = 47; i >= 0 && (model[i] == ' ' || model[i] == 0); i--) model[i] = 0;   /* padded with spaces */
    }
    return f;
}
#else
static unsigned detect(void) { return 0; }
#endif

static unsigned cap_set(int level) { return level >= OLMO_CPU_LEVEL_COUNT || level < 0 ? ~0u : level_sets[level]; }

static void init(void) {
    if (atomic_load_explicit(&allowed, memory_order_acquire) >= 0) return;
    unsigned f = detect();
    unsigned cap = ~0u;
    const char *env = getenv("OLMO_CPU");
    if (env && *env) {
        int l = olmo_cpu_level_parse(env);
        if (l < 0)   /* not fatal: the kernels still work, but say so rather than ignore it */
            fprintf(stderr, "olmo: OLMO_CPU=%s: unknown level (expected scalar, avx2, avx512, avx512bf16 or amx); "
                            "not capping\n", env);
        else cap = cap_set(l);
    }
    atomic_store(&detected, (int)f);
    atomic_store_explicit(&allowed, (int)(f & cap), memory_order_release);
}

int olmo_cpu_has(unsigned mask) {
    int a = atomic_load_explicit(&allowed, memory_order_acquire);
    if (a < 0) {
        init();
        a = atomic_load(&allowed);
    }
    return ((unsigned)a & mask) == mask;
}

enum olmo_cpu_level olmo_cpu_level(void) {
    int l = OLMO_CPU_LEVEL_SCALAR;
    for (int i = 1; i < OLMO_CPU_LEVEL_COUNT; i++)
        if (olmo_cpu_has(level_sets[i])) l = i;
    return (enum olmo_cpu_level)l;
}

unsigned olmo_cpu_detected(void) {
    init();
    return (unsigned)atomic_load(&detected);
}

enum olmo_cpu_level olmo_cpu_set_cap(enum olmo_cpu_level level) {
    enum olmo_cpu_level prev = olmo_cpu_level();
    unsigned prev_allowed = (unsigned)atomic_load(&allowed);
    if (prev_allowed == olmo_cpu_detected()) prev = OLMO_CPU_LEVEL_COUNT;   /* there was no cap */
    atomic_store(&allowed, (int)(olmo_cpu_detected() & cap_set((int)level)));
    return prev;
}

const char *olmo_cpu_level_name(enum olmo_cpu_level level) {
    return (int)level >= 0 && level < OLMO_CPU_LEVEL_COUNT ? level_names[level] : NULL;
}

int olmo_cpu_level_parse(const char *name) {
    for (int i = 0; i < OLMO_CPU_LEVEL_COUNT; i++)
        if (strcmp(name, level_names[i]) == 0) return i;
    return -1;
}

char *olmo_cpu_feature_names(unsigned mask, char *buf, int size) {
    int n = 0;
    if (size > 0) buf[0] = 0;
    for (unsigned i = 0; i < sizeof feature_names / sizeof *feature_names; i++)
        if (mask & (1u << i)) {
            int w = snprintf(buf + n, (size_t)(size - n), "%s%s", n ? " " : "", feature_names[i]);
            if (w < 0 || w >= size - n) break;
            n += w;
        }
    return buf;
}

const char *olmo_cpu_model(void) {
    init();
    const char *p = model;
    while (*p == ' ') p++;
    return *p ? p : "unknown";
}

char *olmo_cpu_describe(char *buf, int size) {
    char feats[256];
    const char *cap = getenv("OLMO_CPU");
    snprintf(buf, (size_t)size, "CPU: %s | instruction sets: %s | kernels: %s%s%s", olmo_cpu_model(),
             olmo_cpu_feature_names(olmo_cpu_detected(), feats, (int)sizeof feats), olmo_cpu_level_name(olmo_cpu_level()),
             cap && *cap ? " (OLMO_CPU=" : "", cap && *cap ? cap : "");
    if (cap && *cap) {
        size_t n = strlen(buf);
        if (n + 1 < (size_t)size) { buf[n] = ')'; buf[n + 1] = 0; }
    }
    return buf;
}

int olmo_cpu_check_baseline(void) {
#if defined(OLMO_BUILD_BASELINE_V3)   /* the Makefile's portable build: -march=x86-64-v3 */
    unsigned miss = OLMO_CPU_SET_AVX2 & ~olmo_cpu_detected();
    if (miss) {
        char buf[128];
        return olmo_err("this CPU (%s) lacks %s, which this build of olmo requires (compiled for x86-64-v3: "
                        "AVX2, FMA, F16C); rebuild with `make NATIVE=1` on this machine", olmo_cpu_model(),
                        olmo_cpu_feature_names(miss, buf, (int)sizeof buf));
    }
#endif
    return 0;
}
