/* idx_query.c — queries on an open index (idx.h): count/find (two binary searches per shard), locating hits in
 * files and documents, next-token distributions, the ∞-gram suffix and the longest matching prefix (for
 * tracing). Every occurrence of a phrase is one contiguous rank range of a shard's suffix array. */
#include "index/idx.h"
#include "index/idx_internal.h"

#include "base/error.h"
#include "base/mem.h"

#include <stdlib.h>
#include <string.h>

struct idx_range idx_find_shard(const struct idx_shard *s, const uint32_t *q, size_t m, uint64_t lo, uint64_t hi) {
    struct idx_range r = {lo, lo};
    if (m == 0) { r.hi = hi; return r; }
    /* Phase 1: narrow [lo, hi) until a rank matches (or the range is empty); both bounds lie around it. */
    uint64_t a = lo, b = hi, mid = 0;
    int found = 0;
    while (a < b) {
        mid = a + (b - a) / 2;
        int c = idx_text_cmp_query(&s->text, idx_sa_at(s, mid), q, m, NULL);
        if (c < 0) a = mid + 1;
        else if (c > 0) b = mid;
        else { found = 1; break; }
    }
    if (!found) { r.lo = r.hi = a; return r; }
    /* Phase 2: first match in [a, mid], first non-match in (mid, b]. */
    uint64_t x = a, y = mid;
    while (x < y) {
        uint64_t k = x + (y - x) / 2;
        if (idx_text_cmp_query(&s->text, idx_sa_at(s, k), q, m, NULL) < 0) x = k + 1; else y = k;
    }
    r.lo = x;
    x = mid + 1; y = b;
    while (x < y) {
        uint64_t k = x + (y - x) / 2;
        if (idx_text_cmp_query(&s->text, idx_sa_at(s, k), q, m, NULL) <= 0) x = k + 1; else y = k;
    }
    r.hi = x;
    return r;
}

static int check_len(const struct olmo_index *ix, size_t m) {
    if (ix->max_cmp && m > ix->max_cmp)
        return olmo_err("query of %zu tokens is longer than %llu, the length up to which index %s is sorted "
                        "exactly (built in several chunks)", m, (unsigned long long)ix->max_cmp, ix->dir);
    return 0;
}

int64_t idx_find(const struct olmo_index *ix, const uint32_t *q, size_t m, struct idx_range *ranges) {
    if (check_len(ix, m) < 0) return -1;
    uint64_t total = 0;
    for (uint32_t s = 0; s < ix->n_shards; s++) {
        struct idx_range r = idx_find_shard(&ix->shards[s], q, m, 0, ix->shards[s].n_tokens);
        if (ranges) ranges[s] = r;
        total += r.hi - r.lo;
    }
    return (int64_t)total;
}

void idx_hit_at(const struct olmo_index *ix, uint32_t shard, uint64_t pos, struct idx_hit *h) {
    const struct idx_shard *s = &ix->shards[shard];
    memset(h, 0, sizeof *h);
    h->shard = shard;
    h->pos = pos;
    h->file = idx_text_file(&s->text, pos);
    h->file_offset = pos - s->text.first[h->file];
    uint64_t lo = 0, hi = s->n_docs;   /* last document starting at or before pos */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (s->docs[mid] <= pos) lo = mid; else hi = mid;
    }
    h->doc = s->doc_base + lo;
    h->doc_start = s->docs[lo];
    h->doc_end = s->docs[lo + 1];
}

const char *idx_doc_meta(const struct olmo_index *ix, uint32_t shard, uint64_t local_doc, size_t *len) {
    const struct idx_shard *s = &ix->shards[shard];
    if (!s->meta_off || local_doc >= s->n_docs) return NULL;
    if (len) *len = (size_t)(s->meta_off[local_doc + 1] - s->meta_off[local_doc]);
    return s->meta + s->meta_off[local_doc];
}

/* Next token after the m-token match at pos, or IDX_NO_TOKEN at a file end. */
static uint32_t next_tok(const struct idx_shard *s, uint64_t pos, size_t m) {
    uint32_t f = idx_text_file(&s->text, pos);
    if (pos + m >= s->text.first[f + 1]) return IDX_NO_TOKEN;
    return idx_text_tok(&s->text, s->text.data[f], pos + m - s->text.first[f]);
}

int64_t idx_ntd(const struct olmo_index *ix, const uint32_t *ctx, size_t m, uint32_t **tokens, uint64_t **counts,
                uint64_t *total) {
    if (check_len(ix, m + 1) < 0) return -1;
    struct idx_range *rs = calloc(ix->n_shards, sizeof *rs);
    if (!rs) return olmo_err("ntd: out of memory");
    int64_t cnt = idx_find(ix, ctx, m, rs);
    size_t n = 0, cap = 0;
    uint32_t *tk = NULL;
    uint64_t *ct = NULL;
    for (uint32_t si = 0; si < ix->n_shards && cnt >= 0; si++) {
        const struct idx_shard *s = &ix->shards[si];
        uint64_t k = rs[si].lo;
        /* Occurrences stopped by a file end sort first in the range; each distinct next token is then one run,
         * found by a binary search for its end: O(d log occ). */
        while (k < rs[si].hi) {
            uint32_t v = next_tok(s, idx_sa_at(s, k), m);
            uint64_t a = k + 1, b = rs[si].hi;
            while (a < b) {
                uint64_t mid = a + (b - a) / 2;
                if (next_tok(s, idx_sa_at(s, mid), m) == v) a = mid + 1; else b = mid;
            }
            uint64_t c = a - k;
            k = a;
            if (v == IDX_NO_TOKEN) {
                if (ix->eos_id == IDX_NO_TOKEN) continue;   /* no EOS to report the file end as */
                v = ix->eos_id;
            }
            if (n == cap) {
                cap = cap ? 2 * cap : 64;
                uint32_t *nt = realloc(tk, cap * sizeof *nt);
                uint64_t *nc = nt ? realloc(ct, cap * sizeof *nc) : NULL;
                if (nt) tk = nt;
                if (nc) ct = nc;
                if (!nt || !nc) { cnt = olmo_err("ntd: out of memory"); break; }
            }
            tk[n] = v; ct[n] = c; n++;
        }
    }
    free(rs);
    if (cnt < 0) { free(tk); free(ct); return -1; }
    /* Merge shards: sort by token, add equal ones. */
    for (size_t i = 1; i < n; i++) {   /* insertion sort: d is small (distinct continuations) */
        uint32_t t = tk[i]; uint64_t c = ct[i]; size_t j = i;
        while (j > 0 && tk[j - 1] > t) { tk[j] = tk[j - 1]; ct[j] = ct[j - 1]; j--; }
        tk[j] = t; ct[j] = c;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (o && tk[o - 1] == tk[i]) ct[o - 1] += ct[i];
        else { tk[o] = tk[i]; ct[o] = ct[i]; o++; }
    }
    *tokens = tk; *counts = ct;
    if (total) *total = (uint64_t)cnt;
    return (int64_t)o;
}

size_t idx_infgram_suffix(const struct olmo_index *ix, const uint32_t *ctx, size_t m) {
    size_t cap = ix->max_cmp ? (size_t)ix->max_cmp - 1 : m;
    size_t hi_max = m < cap ? m : cap;
    /* count(suffix of length s) is non-increasing in s: double until it fails, then binary search. */
    size_t good = 0, bad = hi_max + 1;
    for (size_t s = 1; s <= hi_max; s *= 2) {
        if (idx_find(ix, ctx + m - s, s, NULL) > 0) good = s;
        else { bad = s; break; }
    }
    while (bad - good > 1) {
        size_t mid = good + (bad - good) / 2;
        if (idx_find(ix, ctx + m - mid, mid, NULL) > 0) good = mid; else bad = mid;
    }
    return good;
}

size_t idx_longest_prefix(const struct olmo_index *ix, const uint32_t *q, size_t m) {
    if (ix->max_cmp && m > ix->max_cmp) m = (size_t)ix->max_cmp;
    size_t best = 0;
    for (uint32_t si = 0; si < ix->n_shards && best < m; si++) {
        const struct idx_shard *s = &ix->shards[si];
        struct idx_range r = idx_find_shard(s, q, m, 0, s->n_tokens);
        if (r.hi > r.lo) return m;
        /* No full match: the longest match is with a lexicographic neighbour of the insertion point. */
        size_t l;
        if (r.lo > 0) {
            idx_text_cmp_query(&s->text, idx_sa_at(s, r.lo - 1), q, m, &l);
            if (l > best) best = l;
        }
        if (r.lo < s->n_tokens) {
            idx_text_cmp_query(&s->text, idx_sa_at(s, r.lo), q, m, &l);
            if (l > best) best = l;
        }
    }
    return best;
}
