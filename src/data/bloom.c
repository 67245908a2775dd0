/* bloom.c — Dolma's Bloom filter; see bloom.h. The hash is aHash 0.8.11's portable fallback hasher, transcribed
 * from the spec (../shared/spec/dolma.md §3.2), because that is what Dolma's released wheels run; a filter written
 * here can be read by Dolma and the reverse, as long as that transcription holds. */
#include "data/bloom.h"

#include "base/error.h"
#include "base/file.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

uint32_t bloom_optimal_k(uint64_t size_bytes, uint64_t n) {
    double k = ((double)size_bytes * 8.0 / (double)n) * log(2.0);
    k = ceil(k);
    return k < 1 ? 1 : k > 1e6 ? 1000000u : (uint32_t)k;
}

double bloom_fp_rate(uint64_t size_bytes, uint64_t n, uint32_t k) {
    double m = (double)size_bytes * 8.0;
    return pow(1.0 - pow(1.0 - 1.0 / m, (double)k * (double)n), (double)k);
}

uint64_t bloom_suggest_size(uint64_t n, double p) {
    uint64_t size = 1u << 20;
    while (bloom_fp_rate(size, n, bloom_optimal_k(size, n)) > p && size < (1ull << 62)) size *= 2;
    return size;
}

/* ---- aHash fallback (ahash 0.8.11, 64-bit, no AES) ---- */

#define AH_MULTIPLE 6364136223846793005ull
#define AH_ROT 23
static const uint64_t ah_pi2[4] = {0x452821e638d01377ull, 0xbe5466cf34e90c6cull, 0xc0ac29b7c97c50ddull,
                                   0x3f84d5b5b5470917ull};

struct ahasher {
    uint64_t buffer, pad, extra0, extra1;
};

static inline uint64_t ah_fold(uint64_t a, uint64_t b) {
    unsigned __int128 r = (unsigned __int128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}
static inline uint64_t ah_rotl(uint64_t x, unsigned r) { return r ? (x << r) | (x >> (64 - r)) : x; }
static inline uint64_t ah_le64(const unsigned char *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline uint64_t ah_le32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t ah_le16(const unsigned char *p) { uint16_t v; memcpy(&v, p, 2); return v; }

static inline void ah_update(struct ahasher *h, uint64_t x) { h->buffer = ah_fold(x ^ h->buffer, AH_MULTIPLE); }
static inline void ah_large(struct ahasher *h, uint64_t lo, uint64_t hi) {
    uint64_t combined = ah_fold(lo ^ h->extra0, hi ^ h->extra1);
    h->buffer = ah_rotl((h->buffer + h->pad) ^ combined, AH_ROT);
}

static void ah_write(struct ahasher *h, const unsigned char *d, size_t len) {
    h->buffer = (h->buffer + (uint64_t)len) * AH_MULTIPLE;
    if (len > 8) {
        if (len > 16) {
            ah_large(h, ah_le64(d + len - 16), ah_le64(d + len - 8));
            while (len > 16) {
                ah_large(h, ah_le64(d), ah_le64(d + 8));
                d += 16;
                len -= 16;
            }
        } else {
            ah_large(h, ah_le64(d), ah_le64(d + len - 8));
        }
    } else if (len >= 4) {
        ah_large(h, ah_le32(d), ah_le32(d + len - 4));
    } else if (len >= 2) {
        ah_large(h, ah_le16(d), d[len - 1]);
    } else if (len == 1) {
        ah_large(h, d[0], d[0]);
    } else {
        ah_large(h, 0, 0);
    }
}

uint64_t bloom_ahash(const uint64_t seeds[4], size_t n, const char *const *strs, const size_t *lens) {
    /* RandomState::with_seeds XORs with PI2; the hasher starts buffer = k1, pad = k0, extra = [k2, k3]. */
    struct ahasher h = {seeds[1] ^ ah_pi2[1], seeds[0] ^ ah_pi2[0], seeds[2] ^ ah_pi2[2], seeds[3] ^ ah_pi2[3]};
    ah_update(&h, (uint64_t)n); /* VecDeque's length prefix (write_usize) */
    for (size_t i = 0; i < n; i++) {
        ah_write(&h, (const unsigned char *)strs[i], lens[i]);
        ah_update(&h, 0xff); /* str's Hash appends write_u8(0xff) */
    }
    return ah_rotl(ah_fold(h.buffer, h.pad), (unsigned)(h.buffer & 63));
}

/* ---- the filter ---- */

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int bloom_init(struct bloom *b, uint64_t size_bytes, uint32_t k, uint64_t seed64) {
    memset(b, 0, sizeof *b);
    if (k == 0) return olmo_err("bloom filter: expected at least 1 hasher, found k = 0");
    b->n_words = size_bytes / 4;
    if (b->n_words == 0) return olmo_err("bloom filter: expected a size of at least 4 bytes, found %llu",
                                         (unsigned long long)size_bytes);
    b->k = k;
    b->seeds = malloc((size_t)k * sizeof *b->seeds);
    b->words = calloc(b->n_words, 4);
    if (!b->seeds || !b->words) {
        bloom_free(b);
        return olmo_err("bloom filter: out of memory for %llu bytes", (unsigned long long)size_bytes);
    }
    uint64_t s = seed64;
    for (uint32_t i = 0; i < k; i++)
        for (int j = 0; j < 4; j++) b->seeds[i][j] = splitmix64(&s);
    return 0;
}

void bloom_free(struct bloom *b) {
    free(b->seeds);
    free(b->words);
    memset(b, 0, sizeof *b);
}

static int read_exact(FILE *f, void *p, size_t n, const char *path, const char *what, long off) {
    if (fread(p, 1, n, f) != n)
        return olmo_err("%s: offset %ld: expected %zu bytes of %s, found end of file", path, off, n, what);
    return 0;
}

int bloom_load(struct bloom *b, const char *path) {
    memset(b, 0, sizeof *b);
    FILE *f = fopen(path, "rb");
    if (!f) return olmo_err_errno("%s: cannot open bloom filter", path);
    uint32_t head[3];
    uint64_t n_words = 0;
    if (read_exact(f, head, sizeof head, path, "header (magic, version, k)", 0)) goto fail;
    if (head[0] != BLOOM_MAGIC) {
        olmo_err("%s: offset 0: expected bloom magic 0x%08X, found 0x%08X", path, BLOOM_MAGIC, head[0]);
        goto fail;
    }
    if (head[1] != BLOOM_VERSION) {
        olmo_err("%s: offset 4: expected bloom version %u, found %u", path, BLOOM_VERSION, head[1]);
        goto fail;
    }
    if (head[2] == 0 || head[2] > 1000000) {
        olmo_err("%s: offset 8: expected 1..1000000 hashers, found %u", path, head[2]);
        goto fail;
    }
    b->k = head[2];
    b->seeds = malloc((size_t)b->k * sizeof *b->seeds);
    if (!b->seeds) { olmo_err("%s: out of memory", path); goto fail; }
    if (read_exact(f, b->seeds, (size_t)b->k * 32, path, "hasher seeds", 12)) goto fail;
    long off = 12 + 32 * (long)b->k;
    if (read_exact(f, &n_words, 8, path, "word count", off)) goto fail;
    /* The file size must match exactly: a short file is truncated, a long one is not a bloom file. */
    if (fseek(f, 0, SEEK_END)) { olmo_err_errno("%s: seek", path); goto fail; }
    long long size = ftell(f);
    long long want = off + 8 + (long long)n_words * 4;
    if (n_words == 0 || size != want) {
        olmo_err("%s: offset %ld: expected %llu words making a %lld-byte file, found a %lld-byte file", path, off,
                 (unsigned long long)n_words, want, size);
        goto fail;
    }
    fseek(f, off + 8, SEEK_SET);
    b->n_words = n_words;
    b->words = malloc(n_words * 4);
    if (!b->words) { olmo_err("%s: out of memory for %llu words", path, (unsigned long long)n_words); goto fail; }
    if (read_exact(f, b->words, n_words * 4, path, "bit array", off + 8)) goto fail;
    fclose(f);
    return 0;
fail:
    fclose(f);
    bloom_free(b);
    return -1;
}

int bloom_save(const struct bloom *b, const char *path) {
    struct olmo_atomic_file af;
    if (olmo_atomic_open(&af, path)) return -1;
    uint32_t head[3] = {BLOOM_MAGIC, BLOOM_VERSION, b->k};
    int ok = fwrite(head, sizeof head, 1, af.fp) == 1 && fwrite(b->seeds, 32, b->k, af.fp) == b->k &&
             fwrite(&b->n_words, 8, 1, af.fp) == 1 && fwrite(b->words, 4, b->n_words, af.fp) == b->n_words;
    if (!ok) {
        olmo_atomic_abort(&af);
        return olmo_err_errno("%s: writing bloom filter", path);
    }
    return olmo_atomic_commit(&af);
}

void bloom_hashes(const struct bloom *b, size_t n, const char *const *strs, const size_t *lens, uint64_t *out) {
    for (uint32_t i = 0; i < b->k; i++) out[i] = bloom_ahash(b->seeds[i], n, strs, lens);
}

int bloom_contains_hashes(const struct bloom *b, const uint64_t *hashes) {
    for (uint32_t i = 0; i < b->k; i++) {
        uint64_t h = hashes[i];
        uint32_t w = __atomic_load_n(&b->words[(h / 32) % b->n_words], __ATOMIC_RELAXED);
        if (!(w & (1u << (h % 32)))) return 0;
    }
    return 1;
}

void bloom_insert_hashes(struct bloom *b, const uint64_t *hashes) {
    if (b->read_only) return;
    for (uint32_t i = 0; i < b->k; i++) {
        uint64_t h = hashes[i];
        __atomic_fetch_or(&b->words[(h / 32) % b->n_words], 1u << (h % 32), __ATOMIC_RELAXED);
    }
}

int bloom_check_insert(struct bloom *b, const char *key, size_t len, uint64_t *scratch) {
    bloom_hashes(b, 1, &key, &len, scratch);
    if (bloom_contains_hashes(b, scratch)) return 1;
    bloom_insert_hashes(b, scratch);
    return 0;
}

int bloom_merge(struct bloom *dst, const struct bloom *src) {
    if (dst->k != src->k || dst->n_words != src->n_words ||
        memcmp(dst->seeds, src->seeds, (size_t)dst->k * 32))
        return olmo_err("bloom merge: expected filters with the same k, seeds and size, found k %u/%u, %llu/%llu words",
                        dst->k, src->k, (unsigned long long)dst->n_words, (unsigned long long)src->n_words);
    for (uint64_t i = 0; i < dst->n_words; i++) dst->words[i] |= src->words[i];
    return 0;
}
