/* tok_internal.h — the loaded tokenizer's data structures, shared by the files of src/tokenizer (not public API).
 *
 *   tok_load.c      tokenizer.json -> struct olmo_tokenizer (validation, error messages)
 *   tok_maps.c      hash maps: token string -> id, merge pair -> (rank, new id)
 *   added_tokens.c  the byte trie that finds added/special tokens in text (leftmost-longest, HF flags)
 *   bpe.c           the merge loop and the per-thread cache of encoded pieces
 *   encode.c        the pipeline: added tokens, normalizer, pre-tokenizer, BPE, post-processor; batches
 *   decode.c        ids -> text, token lookups */
#ifndef OLMO_TOKENIZER_TOK_INTERNAL_H
#define OLMO_TOKENIZER_TOK_INTERNAL_H

#include "tokenizer/pretokenize.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* ---- hashing and maps (tok_maps.c); tok_hash also keys the trainer's bpe_strmap.c.
 * 8 bytes at a time, multiply-xorshift mixing: keys are short, so a per-byte hash (FNV) would cost more. */
static inline uint64_t tok_hash(const void *p, size_t n) {
    const uint8_t *s = (const uint8_t *)p;
    uint64_t h = 0x9E3779B97F4A7C15ull ^ ((uint64_t)n * 0xC2B2AE3D27D4EB4Full);
    while (n >= 8) {
        uint64_t w;
        __builtin_memcpy(&w, s, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 32;
        s += 8;
        n -= 8;
    }
    uint64_t w = 0;
    __builtin_memcpy(&w, s, n);   /* the last 0-7 bytes (little-endian: the same value as shifting them in) */
    h = (h ^ w) * 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 29;
    h *= 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 32);
}

/* String -> id, keys point into memory owned elsewhere (the tokenizer's string arena). */
struct tok_strmap_entry { const char *key; uint32_t len; int32_t id; };
struct tok_strmap { struct tok_strmap_entry *v; size_t mask, n; };
int tok_strmap_init(struct tok_strmap *m, size_t expected);
void tok_strmap_free(struct tok_strmap *m);
/* Inserts or replaces key -> id. */
int tok_strmap_put(struct tok_strmap *m, const char *key, size_t len, int32_t id);
int32_t tok_strmap_get(const struct tok_strmap *m, const char *key, size_t len);   /* -1 if absent */

/* (a, b) -> (rank, new id), open addressing on 64-bit keys. */
#define PAIR_NONE UINT64_MAX
struct tok_pairmap { uint64_t *keys, *vals; size_t mask, n; };
int tok_pairmap_init(struct tok_pairmap *m, size_t expected);
void tok_pairmap_free(struct tok_pairmap *m);
int tok_pairmap_put(struct tok_pairmap *m, int32_t a, int32_t b, uint32_t rank, int32_t new_id);
static inline uint64_t tok_pairmap_get(const struct tok_pairmap *m, int32_t a, int32_t b) {
    uint64_t k = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    size_t i = (size_t)((k * 0x9E3779B97F4A7C15ull) >> 20) & m->mask;
    for (;;) {
        uint64_t kk = m->keys[i];
        if (kk == k) return m->vals[i];
        if (kk == PAIR_NONE) return PAIR_NONE;
        i = (i + 1) & m->mask;
    }
}

/* ---- added tokens (added_tokens.c) */
struct tok_added {
    int32_t id;
    char *content;             /* as written in tokenizer.json */
    size_t len;
    char *pattern;             /* what is searched for: content, or normalized content when normalized */
    size_t pat_len;
    int special, single_word, lstrip, rstrip, normalized;
};

struct tok_trie_node { int32_t child, sibling, term; uint8_t byte; };
struct tok_trie {
    struct tok_trie_node *nodes;
    size_t n, cap;
    int32_t root[256];         /* first-level children by byte */
    int empty;                 /* no patterns */
};
void tok_trie_init(struct tok_trie *t);   /* no patterns yet; tok_trie_free releases */
int tok_trie_add(struct tok_trie *t, const char *pat, size_t len, int32_t term);
void tok_trie_free(struct tok_trie *t);

struct tok_match { size_t start, end; int32_t added; };   /* added: index into tok->added, or -1 for text */
/* Splits s[0..len) into text spans and added-token matches (HF AddedVocabulary::find_matches). *out grows. */
int tok_added_find(const struct olmo_tokenizer *tok, const struct tok_trie *t, const char *s, size_t len,
               struct tok_match **out, size_t *n, size_t *cap);

/* ---- the tokenizer */
enum tok_decoder { DEC_NONE, DEC_BYTELEVEL };
#define TOK_POOL_MAX 64

struct olmo_tokenizer {
    char *name;
    /* normalizer: a chain of normalization forms (empty: none) */
    enum uc_norm norm[8];
    int n_norm;
    struct pretok *pretok;
    int byte_level;            /* the model sees byte-level characters */
    /* model (BPE) */
    struct tok_strmap tok2id;      /* token string -> id (vocab, then added tokens) */
    struct tok_strmap raw2id;      /* byte-level: the bytes a vocab token stands for -> id (for ignore_merges) */
    struct tok_pairmap merges;
    int32_t byte_id[256];      /* byte-level: id of the single-byte token, -1 if absent */
    int32_t unk_id;            /* -1: none */
    int fuse_unk, byte_fallback, ignore_merges;
    /* ids */
    int32_t vocab_size;        /* 1 + largest id */
    char **id_tok;             /* id -> NUL-terminated token string (NULL: no such id) */
    uint32_t *id_tok_len;
    uint8_t *id_special;
    uint32_t *dec_off, *dec_len;   /* id -> decoded bytes in dec_bytes */
    char *dec_bytes;
    enum tok_decoder decoder;
    /* added tokens */
    struct tok_added *added;
    int n_added;
    struct tok_trie trie_raw, trie_norm;   /* normalized=false tokens / normalized=true tokens */
    /* post-processor (single sequence): pre ids, the sequence, post ids */
    int32_t *post_pre, *post_post;
    int n_post_pre, n_post_post;
    /* string arena for vocab keys */
    char *arena;
    /* idle encoders (scratch + warm cache), reused by tok_encode and tok_encode_batch across calls */
    pthread_mutex_t pool_lock;
    struct tok_enc *pool[TOK_POOL_MAX];
    int n_pool;
};

/* ---- per-thread encoding state (bpe.c / encode.c) */
struct tok_cache_slot { uint64_t hash; uint32_t key_off, ids_off; uint16_t key_len, n_ids; };

struct tok_enc {
    const struct olmo_tokenizer *tok;
    int32_t *ids;               /* output of the current encode */
    size_t n_ids, cap_ids;
    struct pretok_piece *pieces;
    size_t cap_pieces;
    struct tok_match *m1, *m2;
    size_t cap_m1, cap_m2;
    int32_t *sym, *aux_i;       /* BPE scratch */
    uint32_t *aux_r;
    uint64_t *heap;
    size_t cap_sym;
    char *tmp;                  /* " " + piece for add_prefix_space */
    size_t cap_tmp;
    /* cache: piece bytes -> ids */
    struct tok_cache_slot *slots;
    size_t n_slots, n_cached;
    uint8_t *ckeys;
    size_t ckeys_n, ckeys_cap;
    int32_t *cids;
    size_t cids_n, cids_cap;
};

struct tok_enc *tok_enc_new(const struct olmo_tokenizer *tok);
/* An encoder from the tokenizer's pool (or a new one); give it back with tok_enc_put. */
struct tok_enc *tok_enc_get(const struct olmo_tokenizer *tok);
void tok_enc_put(const struct olmo_tokenizer *tok, struct tok_enc *e);
void tok_enc_free(struct tok_enc *e);
/* Appends the ids of one pre-tokenized piece (bytes s[0..len), after an optional prefix space). */
extern int tok_bpe_small_max;   /* pieces with more symbols use the heap merge loop (tests flip it) */
int tok_bpe_piece(struct tok_enc *e, const char *s, size_t len, int prefix_space);
int tok_enc_push(struct tok_enc *e, int32_t id);
/* s[0..len) through every normalizer in order (needs n_norm > 0): a new buffer, *out_len its length; NULL after
 * olmo_err when out of memory. Used on the text and on normalized added tokens' contents. */
char *tok_normalize(const struct olmo_tokenizer *t, const char *s, size_t len, size_t *out_len);
/* Runs the whole pipeline into e->ids. */
int tok_encode_with(struct tok_enc *e, const char *text, size_t len, int add_special);

#endif
