/* pcg64.c — NumPy's SeedSequence + PCG64 + Generator.shuffle (see pcg64.h; constants from spec §3c'). */
#include "train/pcg64.h"

/* SeedSequence hashing constants (NumPy bit_generator.pyx). */
#define SS_INIT_A 0x43b0d7e5u
#define SS_MULT_A 0x931e8875u
#define SS_INIT_B 0x8b51f9ddu
#define SS_MULT_B 0x58f38dedu
#define SS_MIX_L 0xca01f9ddu
#define SS_MIX_R 0x4973f715u
#define SS_POOL 4

static uint32_t ss_hashmix(uint32_t v, uint32_t *hc) {
    v ^= *hc;
    *hc *= SS_MULT_A;
    v *= *hc;
    v ^= v >> 16;
    return v;
}

static uint32_t ss_mix(uint32_t x, uint32_t y) {
    uint32_t r = SS_MIX_L * x - SS_MIX_R * y;
    r ^= r >> 16;
    return r;
}

void pcg64_seedseq_words(uint64_t seed, uint32_t *out, size_t n_words) {
    /* The entropy as little-endian 32-bit words; NumPy emits at least one word (seed 0 -> [0]). */
    uint32_t e[2];
    size_t ne = 0;
    e[ne++] = (uint32_t)seed;
    if (seed >> 32) e[ne++] = (uint32_t)(seed >> 32);

    uint32_t pool[SS_POOL];
    uint32_t hc = SS_INIT_A;
    for (size_t i = 0; i < SS_POOL; i++) pool[i] = ss_hashmix(i < ne ? e[i] : 0, &hc);
    for (size_t src = 0; src < SS_POOL; src++)
        for (size_t dst = 0; dst < SS_POOL; dst++)
            if (src != dst) pool[dst] = ss_mix(pool[dst], ss_hashmix(pool[src], &hc));
    /* Entropy beyond the pool size (never for a 64-bit seed) would be mixed in here. */

    uint32_t hb = SS_INIT_B;
    for (size_t i = 0; i < n_words; i++) {
        uint32_t d = pool[i % SS_POOL] ^ hb;
        hb *= SS_MULT_B;
        d *= hb;
        d ^= d >> 16;
        out[i] = d;
    }
}

#define PCG_MULT (((unsigned __int128)0x2360ed051fc65da4ULL << 64) | 0x4385df649fccf645ULL)

static void pcg64_step(struct pcg64 *g) { g->state = g->state * PCG_MULT + g->inc; }

void pcg64_seed(struct pcg64 *g, uint64_t seed) {
    uint32_t w[8];
    pcg64_seedseq_words(seed, w, 8);
    uint64_t v[4];
    for (int k = 0; k < 4; k++) v[k] = (uint64_t)w[2 * k] | (uint64_t)w[2 * k + 1] << 32;
    unsigned __int128 initstate = (unsigned __int128)v[0] << 64 | v[1];
    unsigned __int128 initseq = (unsigned __int128)v[2] << 64 | v[3];
    g->state = 0;
    g->inc = (initseq << 1) | 1;
    pcg64_step(g);
    g->state += initstate;
    pcg64_step(g);
    g->has_uint32 = 0;
    g->uinteger = 0;
}

uint64_t pcg64_next_u64(struct pcg64 *g) {
    pcg64_step(g);
    /* XSL-RR output: fold the halves, rotate right by the top 6 bits. */
    uint64_t x = (uint64_t)(g->state >> 64) ^ (uint64_t)g->state;
    unsigned rot = (unsigned)(g->state >> 122);
    return (x >> rot) | (x << ((64 - rot) & 63));
}

uint32_t pcg64_next_u32(struct pcg64 *g) {
    if (g->has_uint32) {
        g->has_uint32 = 0;
        return g->uinteger;
    }
    uint64_t v = pcg64_next_u64(g);
    g->has_uint32 = 1;
    g->uinteger = (uint32_t)(v >> 32);
    return (uint32_t)v;
}

uint64_t pcg64_interval(struct pcg64 *g, uint64_t max) {
    if (max == 0) return 0;
    uint64_t mask = max;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    mask |= mask >> 32;
    uint64_t v;
    if (max <= 0xffffffffULL) {
        while ((v = (pcg64_next_u32(g) & mask)) > max) {}
    } else {
        while ((v = (pcg64_next_u64(g) & mask)) > max) {}
    }
    return v;
}

void pcg64_shuffle_u32(struct pcg64 *g, uint32_t *x, size_t n) {
    /* The draws do not depend on the array, so they are made a block ahead and the cache lines they hit are
     * prefetched: the swaps then find their data in cache instead of waiting for one random DRAM access each
     * (same draws, same swaps, same order: the result is identical). */
    enum { BLOCK = 64 };
    size_t js[BLOCK];
    size_t i = n;   /* next index to swap is i - 1 */
    while (i > 1) {
        size_t m = i - 1 < BLOCK ? i - 1 : BLOCK;   /* indices i-1 .. i-m, all >= 1 */
        for (size_t k = 0; k < m; k++) {
            js[k] = (size_t)pcg64_interval(g, i - 1 - k);
            __builtin_prefetch(&x[js[k]], 1, 0);
        }
        for (size_t k = 0; k < m; k++) {
            size_t a = i - 1 - k, j = js[k];
            uint32_t t = x[a];
            x[a] = x[j];
            x[j] = t;
        }
        i -= m;
    }
}
