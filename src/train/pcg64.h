/* pcg64.h — NumPy 1.24's SeedSequence, PCG64 bit generator and Generator.shuffle, reproduced bit for bit.
 *
 * OLMo's global data order is `np.random.Generator(np.random.PCG64(seed)).shuffle(np.arange(N, dtype=uint32))`
 * (spec training-and-eval.md §3c, §3c'), so the exact batch at any step can only be rebuilt by the same
 * generator: seeding through SeedSequence's hash mixing, the 128-bit LCG with the XSL-RR output, NumPy's
 * buffered 32-bit draws, and its bit-mask rejection sampling for bounded integers. Checked against vectors made
 * with NumPy 1.24 (../shared/data/numpy-pcg64/, tests/test_pcg64.c). */
#ifndef OLMO_TRAIN_PCG64_H
#define OLMO_TRAIN_PCG64_H

#include <stddef.h>
#include <stdint.h>

struct pcg64 {
    unsigned __int128 state;
    unsigned __int128 inc;
    int has_uint32;        /* NumPy buffers the high half of a 64-bit draw for the next 32-bit draw */
    uint32_t uinteger;
};

/* SeedSequence(seed).generate_state(n_words, uint32) for a non-negative integer seed (any width up to 64 bits;
 * NumPy splits it into little-endian 32-bit words). */
void pcg64_seedseq_words(uint64_t seed, uint32_t *out, size_t n_words);

/* PCG64(seed) as NumPy seeds it: 8 SeedSequence words → initstate, initseq. */
void pcg64_seed(struct pcg64 *g, uint64_t seed);
uint64_t pcg64_next_u64(struct pcg64 *g);   /* bit_generator.random_raw() */
uint32_t pcg64_next_u32(struct pcg64 *g);   /* the buffered 32-bit draw Generator.integers/shuffle use */
/* NumPy's random_interval: uniform in [0, max] by bit-mask rejection. */
uint64_t pcg64_interval(struct pcg64 *g, uint64_t max);

/* Generator(PCG64(seed)).shuffle(x) for a 1-D uint32 array (Fisher–Yates from the end). */
void pcg64_shuffle_u32(struct pcg64 *g, uint32_t *x, size_t n);

#endif
