/* bpe_learn.c — the merge-learning half of the BPE trainer (bpe_train.h): from counted words to a vocabulary
 * and a ranked merge list.
 *
 * Same choices as HF `tokenizers`' BpeTrainer, so a corpus gives the same merges in both:
 *   - ids: special tokens first, then the 256 byte-level characters sorted by code point, then one id per new
 *     token string in merge order (a merge that rebuilds an existing string reuses its id, as HF does);
 *   - each step merges the pair with the highest total count, ties going to the smaller (left id, right id);
 *   - within a word, occurrences are merged left to right without overlap ("a a a" -> "aa a").
 * Speed comes from not recounting: every pair keeps its exact count and the list of words it occurs in, so a
 * merge rewrites only those words and adjusts the counts of the pairs around each occurrence. A max-heap holds
 * (count, pair) entries; an entry whose count went stale is re-queued with the current count when it reaches
 * the top (counts only fall between pushes, except for the pairs a merge creates, which are pushed anew). */
#include "tokenizer/bpe_train.h"
#include "tokenizer/pretokenize.h"
#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"

#include <stdlib.h>
#include <string.h>

static const char *const default_special[] = {"<|endoftext|>", "<|padding|>"};

void bpe_train_opts_default(struct bpe_train_opts *o) {
    o->vocab_size = 16384;
    o->min_frequency = 0;
    o->special = default_special;
    o->n_special = 2;
}

/* ---- pair table: (left, right) -> count and the words holding it ---- */

struct pair {
    uint32_t a, b;
    int64_t count;       /* exact number of occurrences, weighted by word counts */
    uint32_t *words;     /* words that held the pair when it was counted or created (may hold stale ones) */
    uint32_t n_words, cap_words;
    uint32_t touched;    /* merge step that last raised the count (to queue it once per step) */
    uint32_t merged_at;  /* 1 + index in the merge list of its last merge, 0 if never merged */
};

struct pair_table {
    struct pair *p;
    uint32_t n, cap;
    uint32_t *slots;     /* 0 = empty, else pair index + 1 */
    uint64_t slot_cap;   /* power of two */
};

static uint64_t pair_hash(uint32_t a, uint32_t b) {
    uint64_t h = ((uint64_t)a << 32 | b) * 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 29);
}

static int pt_grow(struct pair_table *t) {
    uint64_t cap = t->slot_cap ? t->slot_cap * 2 : 1 << 16;
    uint32_t *slots = olmo_calloc(cap, sizeof *slots);
    if (!slots) return -1;
    for (uint32_t i = 0; i < t->n; i++) {
        uint64_t s = pair_hash(t->p[i].a, t->p[i].b) & (cap - 1);
        while (slots[s]) s = (s + 1) & (cap - 1);
        slots[s] = i + 1;
    }
    free(t->slots);
    t->slots = slots;
    t->slot_cap = cap;
    return 0;
}

/* Index of pair (a, b), created with count 0 if absent; -1 on allocation failure. */
static int64_t pt_get(struct pair_table *t, uint32_t a, uint32_t b) {
    uint64_t s = pair_hash(a, b) & (t->slot_cap - 1);
    for (;; s = (s + 1) & (t->slot_cap - 1)) {
        uint32_t e = t->slots[s];
        if (!e) break;
        if (t->p[e - 1].a == a && t->p[e - 1].b == b) return e - 1;
    }
    if (t->n == UINT32_MAX - 1) return olmo_err("bpe: more than %u distinct pairs", UINT32_MAX - 1);
    if (t->n == t->cap) {
        uint32_t cap = t->cap ? (t->cap > UINT32_MAX / 2 ? UINT32_MAX - 1 : t->cap * 2) : 1 << 15;
        struct pair *p = olmo_realloc(t->p, (size_t)cap * sizeof *p);
        if (!p) return -1;
        t->p = p;
        t->cap = cap;
    }
    uint32_t i = t->n++;
    t->p[i] = (struct pair){.a = a, .b = b};
    t->slots[s] = i + 1;
    if (2 * (uint64_t)t->n > t->slot_cap && pt_grow(t) < 0) return -1;
    return i;
}

static void pt_free(struct pair_table *t) {
    for (uint32_t i = 0; i < t->n; i++) free(t->p[i].words);
    free(t->p);
    free(t->slots);
}

/* ---- max-heap of (count, pair): highest count first, then smallest (a, b) ---- */

struct heap_ent {
    int64_t count;
    uint32_t a, b, pair;
};

struct heap {
    struct heap_ent *e;
    size_t n, cap;
};

static int ent_before(const struct heap_ent *x, const struct heap_ent *y) {
    if (x->count != y->count) return x->count > y->count;
    if (x->a != y->a) return x->a < y->a;
    return x->b < y->b;
}

static void heap_down(struct heap *h, size_t i) {
    struct heap_ent v = h->e[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && ent_before(&h->e[c + 1], &h->e[c])) c++;
        if (!ent_before(&h->e[c], &v)) break;
        h->e[i] = h->e[c];
        i = c;
    }
    h->e[i] = v;
}

static int heap_push(struct heap *h, struct heap_ent v) {
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 1024;
        struct heap_ent *e = olmo_realloc(h->e, cap * sizeof *e);
        if (!e) return -1;
        h->e = e;
        h->cap = cap;
    }
    size_t i = h->n++;
    while (i > 0 && ent_before(&v, &h->e[(i - 1) / 2])) {
        h->e[i] = h->e[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->e[i] = v;
    return 0;
}

static struct heap_ent heap_pop(struct heap *h) {
    struct heap_ent top = h->e[0];
    h->e[0] = h->e[--h->n];
    if (h->n) heap_down(h, 0);
    return top;
}

/* ---- learner state ---- */

struct learner {
    uint32_t *sym;         /* symbols of all words, word w at sym + off[w], len[w] of them (shrinks in place) */
    uint64_t *off;
    uint32_t *len;
    int64_t *count;        /* occurrences of each word */
    uint32_t *stamp;       /* merge step that last rewrote the word (a word listed twice is done once) */
    uint32_t n_words;
    struct pair_table pt;
    struct heap heap;
    uint32_t step;
    uint32_t *touched;     /* pairs whose count rose in this step */
    uint32_t n_touched, cap_touched;
};

/* Adds delta (weighted occurrences) to pair (a, b) as seen in word w. A rise also records w in the pair's word
 * list and queues the pair for a heap push at the end of the step. */
static int pair_change(struct learner *L, uint32_t a, uint32_t b, int64_t delta, uint32_t w) {
    int64_t i = pt_get(&L->pt, a, b);
    if (i < 0) return -1;
    struct pair *p = &L->pt.p[i];
    p->count += delta;
    if (delta <= 0) return 0;
    if (!p->n_words || p->words[p->n_words - 1] != w) {
        if (p->n_words == p->cap_words) {
            uint32_t cap = p->cap_words ? p->cap_words * 2 : 4;
            uint32_t *ws = olmo_realloc(p->words, (size_t)cap * sizeof *ws);
            if (!ws) return -1;
            p->words = ws;
            p->cap_words = cap;
        }
        p->words[p->n_words++] = w;
    }
    if (p->touched != L->step) {
        p->touched = L->step;
        if (L->n_touched == L->cap_touched) {
            uint32_t cap = L->cap_touched ? L->cap_touched * 2 : 256;
            uint32_t *t = olmo_realloc(L->touched, (size_t)cap * sizeof *t);
            if (!t) return -1;
            L->touched = t;
            L->cap_touched = cap;
        }
        L->touched[L->n_touched++] = (uint32_t)i;
    }
    return 0;
}

/* Rewrites every non-overlapping (a, b) in word w, left to right, into nt and moves the counts of the pairs
 * around each occurrence: (prev, a) becomes (prev, nt) and (b, next) becomes (nt, next). The count of (a, b)
 * itself is zeroed by the caller once all words are done. */
static int merge_word(struct learner *L, uint32_t w, uint32_t a, uint32_t b, uint32_t nt) {
    uint32_t *s = L->sym + L->off[w];
    uint32_t n = L->len[w], i = 0, o = 0;
    int64_t c = L->count[w];
    while (i < n) {
        if (i + 1 < n && s[i] == a && s[i + 1] == b) {
            if (o > 0 && (pair_change(L, s[o - 1], a, -c, w) < 0 || pair_change(L, s[o - 1], nt, c, w) < 0))
                return -1;
            if (i + 2 < n && (pair_change(L, b, s[i + 2], -c, w) < 0 || pair_change(L, nt, s[i + 2], c, w) < 0))
                return -1;
            s[o++] = nt;
            i += 2;
        } else {
            s[o++] = s[i++];
        }
    }
    L->len[w] = o;
    return 0;
}

static void learner_free(struct learner *L) {
    free(L->sym);
    free(L->off);
    free(L->len);
    free(L->count);
    free(L->stamp);
    pt_free(&L->pt);
    free(L->heap.e);
    free(L->touched);
}

static int utf8_put(uint8_t *out, uint32_t cp) {
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    out[0] = (uint8_t)(0xc0 | cp >> 6);   /* byte-level code points are all below U+0800 */
    out[1] = (uint8_t)(0x80 | (cp & 0x3f));
    return 2;
}

/* Is s valid UTF-8 (so it can be written into JSON as it is)? */
static int utf8_valid(const uint8_t *s, size_t n) {
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!k || i + k > n) return 0;
        uint32_t cp = k == 1 ? c : (uint32_t)(c & (0x7f >> k));
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xc0) != 0x80) return 0;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[k] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
        i += k;
    }
    return 1;
}

/* Special tokens, then the byte alphabet in code-point order; byte_id[b] gets each byte's id. */
static int init_vocab(struct bpe_model *m, const struct bpe_train_opts *o, uint32_t byte_id[256]) {
    for (uint32_t i = 0; i < o->n_special; i++)
        if (bpe_strmap_upsert(&m->vocab, o->special[i], (uint32_t)strlen(o->special[i]), NULL) < 0) return -1;
    m->n_special = (uint32_t)m->vocab.n;   /* a repeated special token counts once, as in HF */
    /* HF sorts its alphabet by code point: the 188 printable bytes (themselves), then the other 68 (U+0100...) */
    uint32_t order[256];
    for (uint32_t b = 0; b < 256; b++) order[b] = b;
    for (uint32_t i = 1; i < 256; i++) {   /* insertion sort by code point: 256 items, once */
        uint32_t b = order[i], j = i;
        for (; j > 0 && pretok_byte_to_char((uint8_t)b) < pretok_byte_to_char((uint8_t)order[j - 1]); j--)
            order[j] = order[j - 1];
        order[j] = b;
    }
    for (uint32_t i = 0; i < 256; i++) {
        uint8_t buf[2];
        int k = utf8_put(buf, pretok_byte_to_char((uint8_t)order[i]));
        int64_t id = bpe_strmap_upsert(&m->vocab, buf, (uint32_t)k, NULL);
        if (id < 0) return -1;
        byte_id[order[i]] = (uint32_t)id;
    }
    return 0;
}

/* Words -> symbol arrays, initial pair counts and the heap. Single-byte words have no pair and are left out. */
static int init_words(struct learner *L, const struct bpe_words *w, const uint32_t byte_id[256]) {
    const struct bpe_strmap *wm = &w->map;
    uint64_t n_sym = 0, n_words = 0;
    for (uint64_t i = 0; i < wm->n; i++)
        if (wm->ents[i].len >= 2) {
            n_sym += wm->ents[i].len;
            n_words++;
        }
    if (n_words >= UINT32_MAX) return olmo_err("bpe: %llu distinct words, at most %u supported",
                                               (unsigned long long)n_words, UINT32_MAX - 1);
    L->sym = olmo_malloc(n_sym * sizeof *L->sym);
    L->off = olmo_malloc(n_words * sizeof *L->off);
    L->len = olmo_malloc(n_words * sizeof *L->len);
    L->count = olmo_malloc(n_words * sizeof *L->count);
    L->stamp = olmo_calloc(n_words, sizeof *L->stamp);
    if (!L->sym || !L->off || !L->len || !L->count || !L->stamp || pt_grow(&L->pt) < 0) return -1;
    uint64_t pos = 0;
    uint32_t nw = 0;
    for (uint64_t i = 0; i < wm->n; i++) {
        const struct bpe_strmap_entry *e = &wm->ents[i];
        if (e->len < 2) continue;
        if (e->val > INT64_MAX / 4) return olmo_err("bpe: word count %llu too large", (unsigned long long)e->val);
        const uint8_t *k = bpe_strmap_key(wm, i);
        L->off[nw] = pos;
        L->len[nw] = e->len;
        L->count[nw] = (int64_t)e->val;
        for (uint32_t j = 0; j < e->len; j++) L->sym[pos + j] = byte_id[k[j]];
        for (uint32_t j = 0; j + 1 < e->len; j++)
            if (pair_change(L, L->sym[pos + j], L->sym[pos + j + 1], (int64_t)e->val, nw) < 0) return -1;
        pos += e->len;
        nw++;
    }
    L->n_words = nw;
    for (uint32_t i = 0; i < L->pt.n; i++) {
        const struct pair *p = &L->pt.p[i];
        if (p->count > 0 && heap_push(&L->heap, (struct heap_ent){p->count, p->a, p->b, i}) < 0) return -1;
    }
    L->n_touched = 0;
    return 0;
}

static int learn(struct bpe_model *m, struct learner *L, const struct bpe_train_opts *o) {
    uint32_t cap_merges = 1024;
    m->merges = olmo_malloc(2 * (size_t)cap_merges * sizeof *m->merges);
    if (!m->merges) return -1;
    uint8_t *buf = NULL;
    size_t buf_cap = 0;
    uint64_t min_freq = o->min_frequency ? o->min_frequency : 1;
    int rc = -1;
    while (m->vocab.n < o->vocab_size && L->heap.n) {
        struct heap_ent top = heap_pop(&L->heap);
        struct pair *p = &L->pt.p[top.pair];
        if (top.count != p->count) {   /* stale: re-queue with the current count if it fell, else drop */
            if (p->count > 0 && top.count > p->count) {
                top.count = p->count;
                if (heap_push(&L->heap, top) < 0) goto out;
            }
            continue;
        }
        if ((uint64_t)top.count < min_freq) break;

        /* the new token's string is the two strings side by side */
        const struct bpe_strmap_entry *ea = &m->vocab.ents[top.a], *eb = &m->vocab.ents[top.b];
        size_t len = (size_t)ea->len + eb->len;
        if (len > UINT32_MAX / 2) { olmo_err("bpe: token longer than %u bytes", UINT32_MAX / 2); goto out; }
        if (len > buf_cap) {
            buf_cap = 2 * len;
            uint8_t *nb = olmo_realloc(buf, buf_cap);
            if (!nb) goto out;
            buf = nb;
        }
        memcpy(buf, bpe_strmap_key(&m->vocab, top.a), ea->len);
        memcpy(buf + ea->len, bpe_strmap_key(&m->vocab, top.b), eb->len);
        int64_t nt = bpe_strmap_upsert(&m->vocab, buf, (uint32_t)len, NULL);
        if (nt < 0) goto out;

        if (m->n_merges == cap_merges) {
            uint32_t *mg = olmo_realloc(m->merges, 4 * (size_t)cap_merges * sizeof *mg);
            if (!mg) goto out;
            m->merges = mg;
            cap_merges *= 2;
        }
        m->merges[2 * m->n_merges] = top.a;
        m->merges[2 * m->n_merges + 1] = top.b;
        m->n_merges++;
        p->merged_at = m->n_merges;

        /* detach the word list: merge_word may grow the pair table and move p */
        uint32_t *ws = p->words, nws = p->n_words;
        p->words = NULL;
        p->n_words = p->cap_words = 0;
        L->step++;
        for (uint32_t k = 0; k < nws; k++) {
            uint32_t w = ws[k];
            if (L->stamp[w] == L->step) continue;
            L->stamp[w] = L->step;
            if (merge_word(L, w, top.a, top.b, (uint32_t)nt) < 0) {
                free(ws);
                goto out;
            }
        }
        free(ws);
        L->pt.p[top.pair].count = 0;
        for (uint32_t k = 0; k < L->n_touched; k++) {
            const struct pair *q = &L->pt.p[L->touched[k]];
            if (q->count > 0 && heap_push(&L->heap, (struct heap_ent){q->count, q->a, q->b, L->touched[k]}) < 0)
                goto out;
        }
        L->n_touched = 0;
    }
    /* A pair merged twice (possible only when two merge paths build the same string) keeps its last rank,
     * as HF's trainer does when it turns its merge list into a map. */
    uint32_t n = 0;
    for (uint32_t i = 0; i < m->n_merges; i++) {
        int64_t pi = pt_get(&L->pt, m->merges[2 * i], m->merges[2 * i + 1]);
        if (pi < 0) goto out;
        if (L->pt.p[pi].merged_at != i + 1) continue;
        m->merges[2 * n] = m->merges[2 * i];
        m->merges[2 * n + 1] = m->merges[2 * i + 1];
        n++;
    }
    m->n_merges = n;
    rc = 0;
out:
    free(buf);
    return rc;
}

int bpe_train_opts_check(const struct bpe_train_opts *o) {
    uint32_t distinct = 0;
    for (uint32_t i = 0; i < o->n_special; i++) {
        const char *s = o->special[i];
        size_t n = strlen(s);
        if (!n) return olmo_err("special token %u is empty", i + 1);
        if (n > 1024 || !utf8_valid((const uint8_t *)s, n))
            return olmo_err("special token %u: expected valid UTF-8 of at most 1024 bytes", i + 1);
        int repeat = 0;
        for (uint32_t j = 0; j < i; j++) repeat |= !strcmp(o->special[j], s);
        distinct += !repeat;
    }
    if ((uint64_t)o->vocab_size < 256 + (uint64_t)distinct)
        return olmo_err("vocab size %u is below the %u special tokens + 256 byte characters it must hold",
                        o->vocab_size, distinct);
    return 0;
}

void bpe_model_free(struct bpe_model *m) {
    bpe_strmap_free(&m->vocab);
    free(m->merges);
    memset(m, 0, sizeof *m);
}

int bpe_learn(struct bpe_model *m, const struct bpe_words *w, const struct bpe_train_opts *o,
              struct bpe_learn_stats *stats) {
    double t0 = olmo_now();
    memset(m, 0, sizeof *m);
    struct learner L;
    memset(&L, 0, sizeof L);
    uint32_t byte_id[256];
    if (bpe_train_opts_check(o) < 0) return -1;
    if (bpe_strmap_init(&m->vocab, o->vocab_size) < 0 || init_vocab(m, o, byte_id) < 0) goto fail;
    if (o->vocab_size < m->vocab.n) {
        olmo_err("vocab size %u is below the %u special tokens + 256 byte characters it must hold",
                 o->vocab_size, m->n_special);
        goto fail;
    }
    if (init_words(&L, w, byte_id) < 0) goto fail;
    if (stats) {
        stats->n_words = w->map.n;
        stats->n_pairs_initial = L.pt.n;
    }
    if (learn(m, &L, o) < 0) goto fail;
    learner_free(&L);
    if (stats) stats->seconds = olmo_now() - t0;
    return 0;
fail:
    learner_free(&L);
    bpe_model_free(m);
    return -1;
}
