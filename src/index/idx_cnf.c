/* idx_cnf.c — AND/OR queries (a conjunction of OR-clauses of phrases), infini-gram's co-occurrence semantics
 * without its subsampling: the occurrences of the rarest clause are the candidates, and one is a match when
 * every other clause has an occurrence within max_diff tokens of it in the same document. Exact; refused above
 * max_occ occurrences in a clause (infini-gram samples there instead and reports approx). */
#include "index/idx.h"

#include "base/error.h"

#include <stdlib.h>
#include <string.h>

/* Occurrence keys: shard in the top 24 bits, token index (< 2^40) below; sorted they group by shard. */
static inline uint64_t key(uint32_t shard, uint64_t pos) { return (uint64_t)shard << 40 | pos; }

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int64_t clause_occ(const struct olmo_index *ix, const struct idx_cnf_clause *c, uint64_t max_occ,
                          uint64_t **out) {
    struct idx_range *rs = calloc(ix->n_shards, sizeof *rs);
    uint64_t total = 0, *v = NULL;
    if (!rs) return olmo_err("AND/OR query: out of memory");
    for (int pass = 0; pass < 2; pass++) {
        uint64_t n = 0;
        for (size_t t = 0; t < c->n_terms; t++) {
            if (!c->lens[t]) { free(rs); free(v); return olmo_err("AND/OR query: term %zu of a clause is empty", t + 1); }
            int64_t cnt = idx_find(ix, c->terms[t], c->lens[t], rs);
            if (cnt < 0) { free(rs); free(v); return -1; }
            if (pass == 0) { total += (uint64_t)cnt; continue; }
            for (uint32_t s = 0; s < ix->n_shards; s++)
                for (uint64_t r = rs[s].lo; r < rs[s].hi; r++) v[n++] = key(s, idx_sa_at(&ix->shards[s], r));
        }
        if (pass == 0) {
            if (total > max_occ) {
                free(rs);
                return olmo_err("AND/OR query: a clause occurs %llu times, above --max-occ %llu (narrow it or raise "
                                "the limit)", (unsigned long long)total, (unsigned long long)max_occ);
            }
            if (!(v = malloc((total ? total : 1) * sizeof *v))) { free(rs); return olmo_err("AND/OR query: out of memory"); }
        }
    }
    free(rs);
    qsort(v, total, sizeof *v, cmp_u64);
    uint64_t u = 0;   /* an OR of overlapping phrases may list a position twice */
    for (uint64_t i = 0; i < total; i++)
        if (!u || v[u - 1] != v[i]) v[u++] = v[i];
    *out = v;
    return (int64_t)u;
}

/* Does the sorted occurrence list v[0..n) hold a position within d tokens of (shard, pos), in document doc? */
static int near(const struct olmo_index *ix, const uint64_t *v, uint64_t n, uint32_t shard, uint64_t pos, uint64_t d,
                uint64_t doc) {
    uint64_t k = key(shard, pos), lo = 0, hi = n;
    while (lo < hi) { uint64_t mid = lo + (hi - lo) / 2; if (v[mid] < k) lo = mid + 1; else hi = mid; }
    struct idx_hit h;
    for (int side = 0; side < 2; side++) {
        if (side == 0 && lo == n) continue;
        if (side == 1 && lo == 0) continue;
        uint64_t q = v[side == 0 ? lo : lo - 1];
        if (q >> 40 != shard) continue;
        uint64_t qp = q & ((UINT64_C(1) << 40) - 1);
        if ((qp > pos ? qp - pos : pos - qp) > d) continue;
        idx_hit_at(ix, shard, qp, &h);
        if (h.doc == doc) return 1;
    }
    return 0;
}

int64_t idx_cnf(const struct olmo_index *ix, const struct idx_cnf_clause *clauses, size_t n_clauses,
                uint64_t max_diff, uint64_t max_occ, struct idx_hit **hits) {
    if (!n_clauses) return olmo_err("AND/OR query: no clauses");
    uint64_t **occ = calloc(n_clauses, sizeof *occ), *n = calloc(n_clauses, sizeof *n);
    int64_t rc = -1;
    size_t nh = 0;
    struct idx_hit *out = NULL;
    if (!occ || !n) { olmo_err("AND/OR query: out of memory"); goto done; }
    size_t rare = 0;
    for (size_t c = 0; c < n_clauses; c++) {
        int64_t k = clause_occ(ix, &clauses[c], max_occ, &occ[c]);
        if (k < 0) goto done;
        n[c] = (uint64_t)k;
        if (n[c] < n[rare]) rare = c;
    }
    if (hits && !(out = malloc((n[rare] ? n[rare] : 1) * sizeof *out))) { olmo_err("AND/OR query: out of memory"); goto done; }
    for (uint64_t i = 0; i < n[rare]; i++) {
        uint32_t shard = (uint32_t)(occ[rare][i] >> 40);
        uint64_t pos = occ[rare][i] & ((UINT64_C(1) << 40) - 1);
        struct idx_hit h;
        idx_hit_at(ix, shard, pos, &h);
        int ok = 1;
        for (size_t c = 0; c < n_clauses && ok; c++)
            if (c != rare) ok = near(ix, occ[c], n[c], shard, pos, max_diff, h.doc);
        if (!ok) continue;
        if (out) out[nh] = h;
        nh++;
    }
    rc = (int64_t)nh;
    if (hits) { *hits = out; out = NULL; }
done:
    for (size_t c = 0; occ && c < n_clauses; c++) free(occ[c]);
    free(occ); free(n); free(out);
    return rc;
}
