/* bpe_strmap.h — an insertion-ordered hash map from byte strings to uint64 values, for the BPE trainer.
 *
 * The trainer needs two such maps: pre-token ("word") -> occurrence count while counting the corpus, and token
 * string -> id while learning merges (HF's trainer keys its vocabulary by string, so a merge that rebuilds an
 * existing string reuses its id). Keys are copied into one arena; entries keep insertion order, so iterating
 * 0..n-1 is deterministic whatever the hash. Open addressing with linear probing, grown at 1/2 load. */
#ifndef OLMO_TOKENIZER_BPE_STRMAP_H
#define OLMO_TOKENIZER_BPE_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct bpe_strmap_entry {
    uint64_t off;    /* key bytes at arena + off */
    uint32_t len;    /* key length in bytes */
    uint32_t hash;   /* low 32 bits of the key's hash: cheap rejection and rehashing without the key */
    uint64_t val;
};

struct bpe_strmap {
    uint32_t *slots;                  /* 0 = empty, else entry index + 1 */
    uint64_t cap;                     /* number of slots, a power of two */
    struct bpe_strmap_entry *ents;    /* in insertion order */
    uint64_t n, ents_cap;
    uint8_t *arena;
    uint64_t arena_len, arena_cap;
};

int bpe_strmap_init(struct bpe_strmap *m, uint64_t expected);
void bpe_strmap_free(struct bpe_strmap *m);
/* Entry index of key, inserting it with val 0 if absent (*is_new = 1 then). -1 on allocation failure. */
int64_t bpe_strmap_upsert(struct bpe_strmap *m, const void *key, uint32_t len, int *is_new);
/* Entry index of key, or -1. */
int64_t bpe_strmap_find(const struct bpe_strmap *m, const void *key, uint32_t len);
static inline const uint8_t *bpe_strmap_key(const struct bpe_strmap *m, uint64_t i) {
    return m->arena + m->ents[i].off;
}

#endif
