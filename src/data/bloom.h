/* bloom.h — Dolma's Bloom filter (src/bloom_filter.rs), bit-compatible: the same sizing, the same k keyed aHash
 * (fallback, non-AES) hashers over a Rust VecDeque<&str> key, the same bit addressing and the same .bin file.
 *
 * The bit array is u32 words updated with relaxed atomic OR, so any number of threads share one filter (as
 * Dolma's threads do). contains-then-insert is not one atomic step: two threads can both miss one key, exactly
 * as in Dolma. A filter loaded with read_only never changes its bits. */
#ifndef OLMO_DATA_BLOOM_H
#define OLMO_DATA_BLOOM_H

#include <stddef.h>
#include <stdint.h>

#define BLOOM_MAGIC 0x81F0F117u
#define BLOOM_VERSION 1u

struct bloom {
    uint32_t k;           /* number of hashers */
    uint64_t (*seeds)[4]; /* k × the 4 seeds given to ahash::RandomState::with_seeds */
    uint64_t n_words;     /* number of u32 words */
    uint32_t *words;      /* the bit array, n_words words */
    int read_only;        /* insert is a no-op */
};

/* k = ceil(bits / n · ln 2), as Dolma computes it (doubles). n must be > 0. */
uint32_t bloom_optimal_k(uint64_t size_bytes, uint64_t n);
/* Expected false-positive rate (1 − (1 − 1/m)^(k·n))^k with m = bits. */
double bloom_fp_rate(uint64_t size_bytes, uint64_t n, uint32_t k);
/* Dolma's suggest_size_in_bytes: 1 MiB doubled while the rate at the optimal k exceeds p. */
uint64_t bloom_suggest_size(uint64_t n, double p);

/* A fresh empty filter of size_bytes (rounded down to whole u32 words) with k hashers. The seeds come from seed64
 * through splitmix64 (so ranks of one MPI job can agree on them); Dolma draws them from thread_rng. */
int bloom_init(struct bloom *b, uint64_t size_bytes, uint32_t k, uint64_t seed64);
/* Reads a .bin file (whole into RAM). Errors name the file, the field, what was expected and found. */
int bloom_load(struct bloom *b, const char *path);
/* Writes the .bin file atomically (temp + rename). */
int bloom_save(const struct bloom *b, const char *path);
void bloom_free(struct bloom *b);

/* The hash Dolma's hasher i gives a key made of n strings (Rust Hash of VecDeque<&str>). */
uint64_t bloom_ahash(const uint64_t seeds[4], size_t n, const char *const *strs, const size_t *lens);
/* All k hashes of a key into out[k]. */
void bloom_hashes(const struct bloom *b, size_t n, const char *const *strs, const size_t *lens, uint64_t *out);
/* 1 if every bit of the k hashes is set. */
int bloom_contains_hashes(const struct bloom *b, const uint64_t *hashes);
/* Sets the bits of the k hashes (no-op when read_only). */
void bloom_insert_hashes(struct bloom *b, const uint64_t *hashes);
/* Convenience for a one-string key: returns 1 if it was present, else inserts it and returns 0. */
int bloom_check_insert(struct bloom *b, const char *key, size_t len, uint64_t *scratch);
/* ORs src's bits into dst (same k, seeds and size; checked). */
int bloom_merge(struct bloom *dst, const struct bloom *src);

#endif
