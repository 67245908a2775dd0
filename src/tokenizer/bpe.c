/* bpe.c — byte-pair encoding of one pre-tokenized piece, and the per-encoder cache of pieces already seen.
 *
 * The merge rule is HF `tokenizers`' (rank = position in `merges`): repeatedly merge the adjacent pair with the
 * lowest rank, the leftmost one on ties, until no adjacent pair has a merge. Short pieces (nearly all of them)
 * use a flat array and a linear scan for the minimum, which beats a heap below a few hundred symbols; long
 * pieces use HF's own scheme (a min-heap ordered by (rank, position) over a linked list of symbols) so that
 * adversarial input stays O(n log n).
 *
 * The cache maps piece bytes -> ids (pieces of words repeat: ~90% hits on English text). It is per encoder,
 * i.e. per thread, so it needs no locks; it is cleared when full. */
#include "tokenizer/tok_internal.h"
#include "base/error.h"
#include "base/mem.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_SLOTS (1u << 15)
#define CACHE_MAX_ENTRIES (CACHE_SLOTS / 2)
#define CACHE_MAX_KEY 64
#define CACHE_KEY_BYTES (CACHE_MAX_ENTRIES * 16)
#define CACHE_ID_COUNT (CACHE_MAX_ENTRIES * 4)
/* Symbols; above this the heap version runs. A variable so tests can force either loop on the same input. */
int tok_bpe_small_max = 256;

struct tok_enc *tok_enc_new(const struct olmo_tokenizer *tok) {
    struct tok_enc *e = olmo_calloc(1, sizeof *e);
    if (!e) return NULL;
    e->tok = tok;
    e->n_slots = CACHE_SLOTS;
    e->slots = olmo_calloc(CACHE_SLOTS, sizeof *e->slots);
    e->ckeys = olmo_malloc(CACHE_KEY_BYTES);
    e->cids = olmo_malloc(CACHE_ID_COUNT * sizeof *e->cids);
    e->ckeys_cap = CACHE_KEY_BYTES;
    e->cids_cap = CACHE_ID_COUNT;
    if (!e->slots || !e->ckeys || !e->cids) { tok_enc_free(e); return NULL; }
    return e;
}

void tok_enc_free(struct tok_enc *e) {
    if (!e) return;
    free(e->ids);
    free(e->pieces);
    free(e->m1);
    free(e->m2);
    free(e->sym);
    free(e->aux_i);
    free(e->aux_r);
    free(e->heap);
    free(e->tmp);
    free(e->slots);
    free(e->ckeys);
    free(e->cids);
    free(e);
}

static int grow_ids(struct tok_enc *e, size_t extra) {
    size_t need = e->n_ids + extra;
    if (need <= e->cap_ids) return 0;
    size_t nc = e->cap_ids ? e->cap_ids * 2 : 256;
    while (nc < need) nc *= 2;
    int32_t *nv = realloc(e->ids, nc * sizeof *nv);
    if (!nv) return olmo_err("out of memory encoding text (%zu ids)", need);
    e->ids = nv;
    e->cap_ids = nc;
    return 0;
}

int tok_enc_push(struct tok_enc *e, int32_t id) {
    if (e->n_ids == e->cap_ids && grow_ids(e, 1)) return -1;
    e->ids[e->n_ids++] = id;
    return 0;
}

static int grow_sym(struct tok_enc *e, size_t n) {
    if (n <= e->cap_sym) return 0;
    size_t nc = e->cap_sym ? e->cap_sym : 256;
    while (nc < n) nc *= 2;
    int32_t *s = realloc(e->sym, nc * sizeof *s);
    if (s) e->sym = s;
    int32_t *a = realloc(e->aux_i, 2 * nc * sizeof *a);
    if (a) e->aux_i = a;
    uint32_t *r = realloc(e->aux_r, nc * sizeof *r);
    if (r) e->aux_r = r;
    uint64_t *h = realloc(e->heap, 4 * nc * sizeof *h);   /* merge_heap pushes at most 3n entries */
    if (h) e->heap = h;
    if (!s || !a || !r || !h) return olmo_err("out of memory encoding a piece of %zu characters", n);
    e->cap_sym = nc;
    return 0;
}

/* ---------------------------------------------------------------- merge loops */

static size_t merge_small(const struct tok_pairmap *pm, int32_t *sym, size_t n, uint32_t *rk, int32_t *nw) {
    if (n < 2) return n;
    for (size_t i = 0; i + 1 < n; i++) {
        uint64_t v = tok_pairmap_get(pm, sym[i], sym[i + 1]);
        rk[i] = v == PAIR_NONE ? UINT32_MAX : (uint32_t)(v >> 32);
        nw[i] = (int32_t)(uint32_t)v;
    }
    while (n > 1) {
        uint32_t best = UINT32_MAX;
        size_t bi = 0;
        for (size_t i = 0; i + 1 < n; i++)
            if (rk[i] < best) { best = rk[i]; bi = i; }
        if (best == UINT32_MAX) break;
        sym[bi] = nw[bi];
        /* drop symbol bi+1 and pair entry bi+1 (the old pair to its right) */
        memmove(sym + bi + 1, sym + bi + 2, (n - bi - 2) * sizeof *sym);
        if (n >= bi + 3) {
            memmove(rk + bi + 1, rk + bi + 2, (n - bi - 3) * sizeof *rk);
            memmove(nw + bi + 1, nw + bi + 2, (n - bi - 3) * sizeof *nw);
        }
        n--;
        if (bi > 0) {
            uint64_t v = tok_pairmap_get(pm, sym[bi - 1], sym[bi]);
            rk[bi - 1] = v == PAIR_NONE ? UINT32_MAX : (uint32_t)(v >> 32);
            nw[bi - 1] = (int32_t)(uint32_t)v;
        }
        if (bi + 1 < n) {
            uint64_t v = tok_pairmap_get(pm, sym[bi], sym[bi + 1]);
            rk[bi] = v == PAIR_NONE ? UINT32_MAX : (uint32_t)(v >> 32);
            nw[bi] = (int32_t)(uint32_t)v;
        }
    }
    return n;
}

static void heap_push(uint64_t *h, size_t *n, uint64_t x) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h[p] <= x) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = x;
}

static uint64_t heap_pop(uint64_t *h, size_t *n) {
    uint64_t top = h[0], x = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && h[c + 1] < h[c]) c++;
        if (h[c] >= x) break;
        h[i] = h[c];
        i = c;
    }
    if (*n) h[i] = x;
    return top;
}

/* HF's scheme: min-heap of (rank << 32 | position) over a linked list; stale entries are skipped. */
static size_t merge_heap(const struct tok_pairmap *pm, int32_t *sym, size_t n, int32_t *prev, int32_t *next,
                         uint64_t *heap) {
    size_t hn = 0;
    if (n < 2) return n;
    for (size_t i = 0; i < n; i++) {
        prev[i] = (int32_t)i - 1;
        next[i] = i + 1 < n ? (int32_t)i + 1 : -1;
    }
    for (size_t i = 0; i + 1 < n; i++) {
        uint64_t v = tok_pairmap_get(pm, sym[i], sym[i + 1]);
        if (v != PAIR_NONE) heap_push(heap, &hn, (v & 0xFFFFFFFF00000000ull) | i);
    }
    while (hn) {
        uint64_t top = heap_pop(heap, &hn);
        uint32_t rank = (uint32_t)(top >> 32), pos = (uint32_t)top;
        if (sym[pos] < 0 || next[pos] < 0) continue;
        int32_t nx = next[pos];
        uint64_t v = tok_pairmap_get(pm, sym[pos], sym[nx]);
        if (v == PAIR_NONE || (uint32_t)(v >> 32) != rank) continue;   /* stale */
        sym[pos] = (int32_t)(uint32_t)v;
        sym[nx] = -1;
        next[pos] = next[nx];
        if (next[nx] >= 0) prev[next[nx]] = (int32_t)pos;
        if (prev[pos] >= 0) {
            uint64_t w = tok_pairmap_get(pm, sym[prev[pos]], sym[pos]);
            if (w != PAIR_NONE) heap_push(heap, &hn, (w & 0xFFFFFFFF00000000ull) | (uint32_t)prev[pos]);
        }
        if (next[pos] >= 0) {
            uint64_t w = tok_pairmap_get(pm, sym[pos], sym[next[pos]]);
            if (w != PAIR_NONE) heap_push(heap, &hn, (w & 0xFFFFFFFF00000000ull) | pos);
        }
    }
    size_t o = 0;
    for (int32_t i = 0; i >= 0; i = next[i]) sym[o++] = sym[i];
    return o;
}

/* ---------------------------------------------------------------- initial symbols */

/* A character that is not in the vocabulary: byte fallback <0xXX> tokens, else unk (fused), else dropped — the
 * order HF's BPE uses. */
static int unknown_char(struct tok_enc *e, const char *c, size_t cl, size_t *n, int *last_unk) {
    const struct olmo_tokenizer *t = e->tok;
    if (t->byte_fallback) {
        int32_t ids[4];
        size_t k;
        for (k = 0; k < cl && k < 4; k++) {
            char name[8];
            snprintf(name, sizeof name, "<0x%02X>", (unsigned)(uint8_t)c[k]);
            ids[k] = tok_strmap_get(&t->tok2id, name, 6);
            if (ids[k] < 0) break;
        }
        if (k == cl) {
            for (k = 0; k < cl; k++) e->sym[(*n)++] = ids[k];
            *last_unk = 0;
            return 0;
        }
    }
    if (t->unk_id >= 0) {
        if (!(t->fuse_unk && *last_unk)) e->sym[(*n)++] = t->unk_id;
        *last_unk = 1;
    }
    return 0;
}

/* Fills e->sym with the initial symbols of piece s[0..len); returns the count. */
static size_t initial_symbols(struct tok_enc *e, const uint8_t *s, size_t len) {
    const struct olmo_tokenizer *t = e->tok;
    size_t n = 0;
    int last_unk = 0;
    if (t->byte_level) {
        for (size_t i = 0; i < len; i++) {
            int32_t id = t->byte_id[s[i]];
            if (id >= 0) { e->sym[n++] = id; last_unk = 0; continue; }
            char c[4];
            int cl = uc_encode(pretok_byte_to_char(s[i]), c);
            unknown_char(e, c, (size_t)cl, &n, &last_unk);
        }
        return n;
    }
    for (size_t i = 0; i < len;) {
        int cl;
        uc_decode(s + i, len - i, &cl);
        int32_t id = tok_strmap_get(&t->tok2id, (const char *)s + i, (size_t)cl);
        if (id >= 0) { e->sym[n++] = id; last_unk = 0; }
        else unknown_char(e, (const char *)s + i, (size_t)cl, &n, &last_unk);
        i += (size_t)cl;
    }
    return n;
}

/* ---------------------------------------------------------------- cache */

static void cache_clear(struct tok_enc *e) {
    memset(e->slots, 0, e->n_slots * sizeof *e->slots);
    e->n_cached = e->ckeys_n = e->cids_n = 0;
}

/* Looks the piece up; on a hit appends its ids and returns 1. */
static int cache_get(struct tok_enc *e, const uint8_t *s, size_t len, uint64_t h, int *err) {
    size_t mask = e->n_slots - 1, i = (size_t)h & mask;
    for (;;) {
        struct tok_cache_slot *sl = &e->slots[i];
        if (!sl->key_len) return 0;
        if (sl->hash == h && sl->key_len == len && !memcmp(e->ckeys + sl->key_off, s, len)) {
            if (!sl->n_ids) return 1;
            if (grow_ids(e, sl->n_ids)) { *err = 1; return 0; }
            memcpy(e->ids + e->n_ids, e->cids + sl->ids_off, sl->n_ids * sizeof(int32_t));
            e->n_ids += sl->n_ids;
            return 1;
        }
        i = (i + 1) & mask;
    }
}

static void cache_put(struct tok_enc *e, const uint8_t *s, size_t len, uint64_t h, const int32_t *ids, size_t n) {
    if (n > 0xFFFF) return;
    if (e->n_cached >= CACHE_MAX_ENTRIES || e->ckeys_n + len > e->ckeys_cap || e->cids_n + n > e->cids_cap)
        cache_clear(e);
    size_t mask = e->n_slots - 1, i = (size_t)h & mask;
    while (e->slots[i].key_len) i = (i + 1) & mask;
    memcpy(e->ckeys + e->ckeys_n, s, len);
    memcpy(e->cids + e->cids_n, ids, n * sizeof *ids);
    e->slots[i] = (struct tok_cache_slot){h, (uint32_t)e->ckeys_n, (uint32_t)e->cids_n, (uint16_t)len, (uint16_t)n};
    e->ckeys_n += len;
    e->cids_n += n;
    e->n_cached++;
}

/* ---------------------------------------------------------------- one piece */

int tok_bpe_piece(struct tok_enc *e, const char *text, size_t len, int prefix_space) {
    const struct olmo_tokenizer *t = e->tok;
    const uint8_t *s = (const uint8_t *)text;
    if (prefix_space) {
        if (len + 1 > e->cap_tmp) {
            size_t nc = 2 * (len + 1);
            char *nt = realloc(e->tmp, nc);
            if (!nt) return olmo_err("out of memory encoding text");
            e->tmp = nt;
            e->cap_tmp = nc;
        }
        e->tmp[0] = ' ';
        memcpy(e->tmp + 1, text, len);
        s = (const uint8_t *)e->tmp;
        len++;
    }
    if (len == 0) return 0;
    if (t->byte_level && len == 1 && t->byte_id[s[0]] >= 0) return tok_enc_push(e, t->byte_id[s[0]]);
    if (t->ignore_merges) {
        int32_t id = t->byte_level ? tok_strmap_get(&t->raw2id, (const char *)s, len)
                                   : tok_strmap_get(&t->tok2id, (const char *)s, len);
        if (id >= 0) return tok_enc_push(e, id);
    }
    uint64_t h = 0;
    int cacheable = len <= CACHE_MAX_KEY;
    if (cacheable) {
        int err = 0;
        h = tok_hash(s, len);
        if (cache_get(e, s, len, h, &err)) return 0;
        if (err) return -1;
    }
    /* up to 4 symbols per byte (byte fallback of a byte-level character) */
    if (grow_sym(e, 4 * len + 4)) return -1;
    size_t n = initial_symbols(e, s, len);
    if (n <= (size_t)tok_bpe_small_max) n = merge_small(&t->merges, e->sym, n, e->aux_r, e->aux_i);
    else n = merge_heap(&t->merges, e->sym, n, e->aux_i, e->aux_i + e->cap_sym, e->heap);
    if (n) {   /* n == 0 when every character was unknown and dropped (no unk token) */
        if (grow_ids(e, n)) return -1;
        memcpy(e->ids + e->n_ids, e->sym, n * sizeof *e->sym);
        e->n_ids += n;
    }
    if (cacheable) cache_put(e, s, len, h, e->sym, n);
    return 0;
}
