/* tok_maps.c — the tokenizer's two hash maps (see tok_internal.h): token strings -> ids, and merge pairs ->
 * (rank, merged id). Open addressing with linear probing, sized at load time to stay under half full. */
#include "tokenizer/tok_internal.h"
#include "base/error.h"
#include "base/mem.h"

#include <stdlib.h>
#include <string.h>

static size_t pow2_for(size_t expected) {
    size_t n = 16;
    while (n < expected * 2 + 2) n *= 2;
    return n;
}

int tok_strmap_init(struct tok_strmap *m, size_t expected) {
    size_t n = pow2_for(expected);
    m->v = olmo_calloc(n, sizeof *m->v);
    if (!m->v) return -1;
    m->mask = n - 1;
    m->n = 0;
    return 0;
}

void tok_strmap_free(struct tok_strmap *m) {
    free(m->v);
    memset(m, 0, sizeof *m);
}

static int tok_strmap_grow(struct tok_strmap *m) {
    struct tok_strmap nm;
    if (tok_strmap_init(&nm, (m->mask + 1))) return -1;
    for (size_t i = 0; i <= m->mask; i++)
        if (m->v[i].key) tok_strmap_put(&nm, m->v[i].key, m->v[i].len, m->v[i].id);
    free(m->v);
    *m = nm;
    return 0;
}

int tok_strmap_put(struct tok_strmap *m, const char *key, size_t len, int32_t id) {
    if (len > UINT32_MAX) return olmo_err("token of %zu bytes is too long", len);
    if ((m->n + 1) * 2 > m->mask + 1 && tok_strmap_grow(m)) return -1;
    size_t i = (size_t)tok_hash(key, len) & m->mask;
    while (m->v[i].key) {
        if (m->v[i].len == len && !memcmp(m->v[i].key, key, len)) { m->v[i].id = id; return 0; }
        i = (i + 1) & m->mask;
    }
    m->v[i] = (struct tok_strmap_entry){key, (uint32_t)len, id};
    m->n++;
    return 0;
}

int32_t tok_strmap_get(const struct tok_strmap *m, const char *key, size_t len) {
    if (!m->v) return -1;
    size_t i = (size_t)tok_hash(key, len) & m->mask;
    while (m->v[i].key) {
        if (m->v[i].len == len && !memcmp(m->v[i].key, key, len)) return m->v[i].id;
        i = (i + 1) & m->mask;
    }
    return -1;
}

int tok_pairmap_init(struct tok_pairmap *m, size_t expected) {
    size_t n = pow2_for(expected);
    m->keys = olmo_malloc(n * sizeof *m->keys);
    m->vals = olmo_malloc(n * sizeof *m->vals);
    if (!m->keys || !m->vals) { free(m->keys); free(m->vals); return -1; }
    memset(m->keys, 0xFF, n * sizeof *m->keys);   /* PAIR_NONE */
    m->mask = n - 1;
    m->n = 0;
    return 0;
}

void tok_pairmap_free(struct tok_pairmap *m) {
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

int tok_pairmap_put(struct tok_pairmap *m, int32_t a, int32_t b, uint32_t rank, int32_t new_id) {
    if ((m->n + 1) * 2 > m->mask + 1) {
        struct tok_pairmap nm;
        if (tok_pairmap_init(&nm, m->mask + 1)) return -1;
        for (size_t i = 0; i <= m->mask; i++)
            if (m->keys[i] != PAIR_NONE)
                tok_pairmap_put(&nm, (int32_t)(m->keys[i] >> 32), (int32_t)(uint32_t)m->keys[i],
                            (uint32_t)(m->vals[i] >> 32), (int32_t)(uint32_t)m->vals[i]);
        tok_pairmap_free(m);
        *m = nm;
    }
    uint64_t k = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    size_t i = (size_t)((k * 0x9E3779B97F4A7C15ull) >> 20) & m->mask;
    while (m->keys[i] != PAIR_NONE && m->keys[i] != k) i = (i + 1) & m->mask;
    if (m->keys[i] == PAIR_NONE) m->n++;
    m->keys[i] = k;
    /* A pair listed twice keeps the later rank, as HF's HashMap insert does. */
    m->vals[i] = ((uint64_t)rank << 32) | (uint32_t)new_id;
    return 0;
}
