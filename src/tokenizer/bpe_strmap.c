/* bpe_strmap.c — insertion-ordered byte-string hash map used by the BPE trainer (see bpe_strmap.h). */
#include "tokenizer/bpe_strmap.h"
#include "base/error.h"
#include "base/mem.h"
#include "tokenizer/tok_internal.h"   /* tok_hash: the same string hash the loaded tokenizer uses */

#include <stdlib.h>
#include <string.h>

int bpe_strmap_init(struct bpe_strmap *m, uint64_t expected) {
    memset(m, 0, sizeof *m);
    uint64_t cap = 1024;
    while (cap < 2 * expected) cap *= 2;
    m->slots = olmo_calloc(cap, sizeof *m->slots);
    m->ents_cap = cap / 2;
    m->ents = olmo_malloc(m->ents_cap * sizeof *m->ents);
    m->arena_cap = 8 * m->ents_cap;
    m->arena = olmo_malloc(m->arena_cap);
    if (!m->slots || !m->ents || !m->arena) {
        bpe_strmap_free(m);
        return -1;
    }
    m->cap = cap;
    return 0;
}

void bpe_strmap_free(struct bpe_strmap *m) {
    free(m->slots);
    free(m->ents);
    free(m->arena);
    memset(m, 0, sizeof *m);
}

static int grow_slots(struct bpe_strmap *m) {
    uint64_t cap = m->cap * 2;
    uint32_t *slots = olmo_calloc(cap, sizeof *slots);
    if (!slots) return -1;
    for (uint64_t i = 0; i < m->n; i++) {
        uint64_t s = m->ents[i].hash & (cap - 1);
        while (slots[s]) s = (s + 1) & (cap - 1);
        slots[s] = (uint32_t)(i + 1);
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

int64_t bpe_strmap_find(const struct bpe_strmap *m, const void *key, uint32_t len) {
    uint32_t h = (uint32_t)tok_hash(key, len);
    for (uint64_t s = h & (m->cap - 1);; s = (s + 1) & (m->cap - 1)) {
        uint32_t e = m->slots[s];
        if (!e) return -1;
        const struct bpe_strmap_entry *en = &m->ents[e - 1];
        if (en->hash == h && en->len == len && !memcmp(m->arena + en->off, key, len)) return e - 1;
    }
}

int64_t bpe_strmap_upsert(struct bpe_strmap *m, const void *key, uint32_t len, int *is_new) {
    uint32_t h = (uint32_t)tok_hash(key, len);
    uint64_t s = h & (m->cap - 1);
    for (;; s = (s + 1) & (m->cap - 1)) {
        uint32_t e = m->slots[s];
        if (!e) break;
        const struct bpe_strmap_entry *en = &m->ents[e - 1];
        if (en->hash == h && en->len == len && !memcmp(m->arena + en->off, key, len)) {
            if (is_new) *is_new = 0;
            return e - 1;
        }
    }
    if (m->n >= UINT32_MAX - 1) return olmo_err("bpe: more than %u distinct strings", UINT32_MAX - 1);
    if (m->n == m->ents_cap) {
        struct bpe_strmap_entry *ents = olmo_realloc(m->ents, 2 * m->ents_cap * sizeof *ents);
        if (!ents) return -1;
        m->ents = ents;
        m->ents_cap *= 2;
    }
    if (m->arena_len + len > m->arena_cap) {
        uint64_t cap = m->arena_cap * 2;
        while (cap < m->arena_len + len) cap *= 2;
        uint8_t *a = olmo_realloc(m->arena, cap);
        if (!a) return -1;
        m->arena = a;
        m->arena_cap = cap;
    }
    memcpy(m->arena + m->arena_len, key, len);
    m->ents[m->n] = (struct bpe_strmap_entry){.off = m->arena_len, .len = len, .hash = h, .val = 0};
    m->arena_len += len;
    m->slots[s] = (uint32_t)(m->n + 1);
    int64_t idx = (int64_t)m->n++;
    if (2 * m->n > m->cap && grow_slots(m) < 0) return -1;
    if (is_new) *is_new = 1;
    return idx;
}
