/* test_index.c — the suffix-array index (src/index/) against brute-force scans of the same token files:
 * SA-IS against qsort, the built suffix array byte-identical to the canonical order (file ends hard, ties by
 * file), counts and locations of substrings, boundary-spanning, absent, frequent and EOS-containing phrases,
 * next-token distributions and the ∞-gram suffix against direct counts, longest matching prefix, AND queries,
 * on random corpora over 2–5 symbols (deep SA-IS recursion, long runs) built exactly, in merged chunks and in
 * several shards; plus damaged-index and wrong-dtype errors. */
#include "harness.h"
#include "index/idx.h"
#include "index/idx_format.h"
#include "index/idx_internal.h"
#include "index/sais.h"
#include "index/trace.h"
#include "base/error.h"
#include "base/file.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(uint32_t n) {
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

/* ---- SA-IS against qsort ---- */

static const uint32_t *g_t;
static uint32_t g_n;
static int cmp_suf(const void *a, const void *b) {
    uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
    while (i < g_n && j < g_n) {
        if (g_t[i] != g_t[j]) return g_t[i] < g_t[j] ? -1 : 1;
        i++; j++;
    }
    return i == g_n ? -1 : 1;
}

TEST(sais_equals_qsort_on_random_small_alphabets) {
    uint32_t t[300], sa[300], ref[300];
    for (int it = 0; it < 3000; it++) {
        uint32_t n = 1 + rnd(it < 2000 ? 40 : 300), k = 1 + rnd(it % 3 ? 3 : 60);
        for (uint32_t i = 0; i < n; i++) { t[i] = it % 7 == 0 ? (i % (1 + k)) % k : rnd(k); ref[i] = i; }
        g_t = t; g_n = n;
        qsort(ref, n, 4, cmp_suf);
        CHECK(sais_build(t, sa, n, k) == 0);
        CHECK_MSG(!memcmp(sa, ref, n * 4), "iteration %d (n %u, k %u): SA differs", it, n, k);
    }
}

/* ---- corpora ---- */

struct corpus {
    int nf;
    char *paths[6];
    uint32_t *tok[6];
    uint64_t len[6];
    int width;
    uint32_t eos;
};

static void corpus_free(struct corpus *c) {
    for (int f = 0; f < c->nf; f++) { free(c->paths[f]); free(c->tok[f]); }
    memset(c, 0, sizeof *c);
}

/* nf files of random tokens over `alpha` symbols starting at base, with EOS every ~doc tokens. */
static int corpus_make(struct corpus *c, const char *dir, const char *tag, int nf, uint64_t max_len, uint32_t alpha,
                       uint32_t base, int width) {
    memset(c, 0, sizeof *c);
    c->nf = nf;
    c->width = width;
    c->eos = base + alpha;   /* outside the alphabet */
    for (int f = 0; f < nf; f++) {
        char name[64];
        snprintf(name, sizeof name, "%s-%d.npy", tag, f);
        c->paths[f] = olmo_path_join(dir, name);
        uint64_t n = f == nf - 1 && nf > 2 ? 1 : 1 + rnd((uint32_t)max_len);   /* a one-token file too */
        c->len[f] = n;
        c->tok[f] = malloc(n * sizeof *c->tok[f]);
        uint8_t *buf = malloc(n * (size_t)width);
        for (uint64_t i = 0; i < n; i++) {
            uint32_t v = rnd(17) == 0 ? c->eos : base + (i % 50 < 10 ? 0 : rnd(alpha));   /* runs of one symbol */
            c->tok[f][i] = v;
            for (int b = 0; b < width; b++) buf[i * (uint64_t)width + b] = (uint8_t)(v >> (8 * b));
        }
        int rc = olmo_write_file_atomic(c->paths[f], buf, n * (size_t)width);
        free(buf);
        if (rc < 0) return -1;
    }
    return 0;
}

/* Brute force: occurrences (global file index, offset) of q, sorted. */
static size_t brute_find(const struct corpus *c, const uint32_t *q, size_t m, uint64_t *out) {
    size_t n = 0;
    for (int f = 0; f < c->nf; f++)
        for (uint64_t p = 0; p + m <= c->len[f]; p++)
            if (!memcmp(c->tok[f] + p, q, m * 4)) { if (out) out[n] = (uint64_t)f << 40 | p; n++; }
    return n;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Picks a query: a corpus substring (possibly across a file end by construction of m), an absent one, or a
 * random one. */
static size_t pick_query(const struct corpus *c, uint32_t *q, int kind) {
    size_t m = 1 + rnd(kind == 2 ? 3 : 12);
    int f = (int)rnd((uint32_t)c->nf);
    if (kind == 0) {
        uint64_t p = c->len[f] > 1 ? rnd((uint32_t)c->len[f]) : 0;
        size_t k = 0;
        for (; k < m && p + k < c->len[f]; k++) q[k] = c->tok[f][p + k];
        if (k < m && f + 1 < c->nf)   /* run on into the next file: must NOT match across the file end */
            for (uint64_t j = 0; k < m && j < c->len[f + 1]; j++) q[k++] = c->tok[f + 1][j];
        return k;
    }
    if (kind == 1) { for (size_t k = 0; k < m; k++) q[k] = c->eos + 1 + rnd(3); return m; }   /* absent ids */
    for (size_t k = 0; k < m; k++) q[k] = c->tok[0][0] + rnd(3);
    return m;
}

static void check_index(const struct corpus *c, const char *dir, int exact_order) {
    struct olmo_index ix;
    CHECK_MSG(idx_open(&ix, dir, 1) == 0, "open: %s", olmo_errmsg());
    uint64_t total = 0;
    for (int f = 0; f < c->nf; f++) total += c->len[f];
    CHECK_GOTO(ix.n_tokens == total, out);
    CHECK_GOTO(idx_find(&ix, NULL, 0, NULL) == (int64_t)total, out);   /* empty query: every position */
    /* Canonical order, checked pairwise (suffix i < suffix i+1) in each shard. */
    for (uint32_t s = 0; s < ix.n_shards; s++) {
        const struct idx_shard *sh = &ix.shards[s];
        for (uint64_t r = 1; r < sh->n_tokens; r++) {
            int cmp = idx_text_cmp_suffix(&sh->text, idx_sa_at(sh, r - 1), idx_sa_at(sh, r), exact_order ? 0 : sh->max_cmp);
            CHECK_MSG(cmp < 0 || (cmp == 0 && !exact_order), "shard %u rank %llu out of order", s, (unsigned long long)r);
        }
    }
    uint64_t *ref = malloc((total + 1) * sizeof *ref), *got = malloc((total + 1) * sizeof *got);
    struct idx_range *rs = calloc(ix.n_shards, sizeof *rs);
    uint32_t q[64];
    for (int it = 0; it < 400; it++) {
        size_t m = pick_query(c, q, it % 3);
        size_t nb = brute_find(c, q, m, ref);
        int64_t n = idx_find(&ix, q, m, rs);
        CHECK_MSG(n == (int64_t)nb, "query %d of %zu tokens: count %lld, brute force %zu", it, m, (long long)n, nb);
        size_t k = 0;
        for (uint32_t s = 0; s < ix.n_shards; s++) {
            int fbase = 0;
            for (uint32_t t = 0; t < s; t++) fbase += (int)ix.shards[t].text.n_files;
            for (uint64_t r = rs[s].lo; r < rs[s].hi; r++) {
                struct idx_hit h;
                idx_hit_at(&ix, s, idx_sa_at(&ix.shards[s], r), &h);
                got[k++] = (uint64_t)(fbase + (int)h.file) << 40 | h.file_offset;
                CHECK(h.doc_start <= h.pos && h.pos < h.doc_end);
            }
        }
        qsort(got, k, 8, cmp_u64);
        CHECK_MSG(!memcmp(got, ref, k * 8), "query %d: locations differ from the brute-force scan", it);
        /* next-token distribution = direct count of what follows (a file end counts as EOS) */
        if (m < 6) {
            uint32_t *tk; uint64_t *ct, tot;
            int64_t d = idx_ntd(&ix, q, m, &tk, &ct, &tot);
            CHECK(d >= 0 && tot == nb);
            uint64_t sum = 0;
            for (int64_t j = 0; j < d; j++) {
                uint64_t direct = 0;
                for (size_t o = 0; o < nb; o++) {
                    int f = (int)(ref[o] >> 40);
                    uint64_t p = (ref[o] & ((1ull << 40) - 1)) + m;
                    uint32_t nx = p < c->len[f] ? c->tok[f][p] : c->eos;
                    direct += nx == tk[j];
                }
                CHECK_MSG(direct == ct[j], "ntd token %u: %llu vs direct %llu", tk[j], (unsigned long long)ct[j],
                          (unsigned long long)direct);
                sum += ct[j];
            }
            free(tk); free(ct);
            CHECK(sum == nb);
        }
        /* ∞-gram suffix and longest prefix against brute force */
        size_t suf = idx_infgram_suffix(&ix, q, m), want = 0;
        for (size_t L = m; L > 0; L--)
            if (brute_find(c, q + m - L, L, NULL)) { want = L; break; }
        CHECK_MSG(suf == want, "query %d: infgram suffix %zu, brute force %zu", it, suf, want);
        size_t lp = idx_longest_prefix(&ix, q, m), wl = 0;
        for (size_t L = m; L > 0; L--)
            if (brute_find(c, q, L, NULL)) { wl = L; break; }
        CHECK_MSG(lp == wl, "query %d: longest prefix %zu, brute force %zu", it, lp, wl);
    }
    free(ref); free(got); free(rs);
out:
    idx_close(&ix);
}

static void build_and_check(int width, uint32_t alpha, uint32_t base, uint64_t chunk, uint64_t shard_tokens,
                            int threads, const char *tag) {
    const char *tmp = th_tmpdir();
    struct corpus c;
    CHECK(corpus_make(&c, tmp, tag, 4, th_sanitized() ? 900 : 3000, alpha, base, width) == 0);
    char *dir = olmo_path_join(tmp, tag);
    struct idx_build_opts o = {.dtype_bytes = width, .eos_id = c.eos, .chunk_tokens = chunk, .max_cmp = 64,
                               .shard_tokens = shard_tokens, .threads = threads};
    int rc = idx_build(dir, c.paths, (size_t)c.nf, &o);
    CHECK_GOTO(rc == 0, out);
    check_index(&c, dir, chunk == 0);
out:
    if (rc) th_fail(__FILE__, __LINE__, "build: %s", olmo_errmsg());
    free(dir);
    corpus_free(&c);
}

TEST(exact_build_uint16_matches_brute_force) { build_and_check(2, 3, 100, 0, 0, 1, "u16exact"); }
TEST(exact_build_uint32_large_ids) { build_and_check(4, 5, 1u << 20, 0, 0, 1, "u32exact"); }
TEST(chunked_merge_build_matches_brute_force) { build_and_check(2, 2, 7, 1500, 0, 2, "chunked"); }
TEST(several_shards_match_brute_force) { build_and_check(2, 4, 0x1000, 0, 2500, 1, "shards"); }

TEST(exact_build_is_canonical_order_and_thread_independent) {
    const char *tmp = th_tmpdir();
    struct corpus c;
    CHECK(corpus_make(&c, tmp, "canon", 3, 2000, 3, 5, 2) == 0);
    char *d1 = olmo_path_join(tmp, "canon1"), *d2 = olmo_path_join(tmp, "canon2");
    struct idx_build_opts o = {.dtype_bytes = 2, .eos_id = c.eos, .threads = 1};
    CHECK_GOTO(idx_build(d1, c.paths, 3, &o) == 0, out);
    o.threads = 2;
    o.chunk_tokens = 100000;   /* one chunk anyway: exact */
    CHECK_GOTO(idx_build(d2, c.paths, 3, &o) == 0, out);
    char *p1 = olmo_path_join(d1, "shard-0000.sa"), *p2 = olmo_path_join(d2, "shard-0000.sa");
    size_t n1, n2;
    char *b1 = olmo_read_file(p1, &n1), *b2 = olmo_read_file(p2, &n2);
    CHECK_GOTO(b1 && b2 && n1 == n2 && !memcmp(b1, b2, n1), out2);
    /* against a qsort of every position with the canonical comparator */
    struct olmo_index ix;
    CHECK_GOTO(idx_open(&ix, d1, 0) == 0, out2);
    uint64_t N = ix.n_tokens;
    for (uint64_t r = 1; r < N; r++)
        CHECK_GOTO(idx_text_cmp_suffix(&ix.shards[0].text, idx_sa_at(&ix.shards[0], r - 1),
                                       idx_sa_at(&ix.shards[0], r), 0) < 0, out3);
    /* a permutation: every position once */
    uint8_t *seen = calloc(N, 1);
    for (uint64_t r = 0; r < N; r++) {
        uint64_t p = idx_sa_at(&ix.shards[0], r);
        CHECK_GOTO(p < N && !seen[p], out4);
        seen[p] = 1;
    }
out4:
    free(seen);
out3:
    idx_close(&ix);
out2:
    free(b1); free(b2); free(p1); free(p2);
out:
    free(d1); free(d2);
    corpus_free(&c);
}

TEST(cnf_and_counts_cooccurrences_in_one_document) {
    const char *tmp = th_tmpdir();
    /* docs: [1 2 9 3 EOS] [1 EOS] [3 9 9 1 EOS]  (EOS = 50) */
    uint16_t t[] = {1, 2, 9, 3, 50, 1, 50, 3, 9, 9, 1, 50};
    char *p = olmo_path_join(tmp, "cnf.npy"), *dir = olmo_path_join(tmp, "cnfix");
    CHECK(olmo_write_file_atomic(p, t, sizeof t) == 0);
    struct idx_build_opts o = {.dtype_bytes = 2, .eos_id = 50, .threads = 1};
    CHECK(idx_build(dir, &p, 1, &o) == 0);
    struct olmo_index ix;
    CHECK(idx_open(&ix, dir, 0) == 0);
    uint32_t a[] = {1}, b[] = {3}, c2[] = {2};
    const uint32_t *ta[] = {a}, *tb[] = {b}, *tc[] = {c2};
    size_t l1[] = {1};
    struct idx_cnf_clause cl[2] = {{1, ta, l1}, {1, tb, l1}};
    CHECK_EQ_INT(idx_cnf(&ix, cl, 2, 100, 1000, NULL), 2);   /* 1 & 3 share docs 0 and 2; doc 1 has 1 alone */
    CHECK_EQ_INT(idx_cnf(&ix, cl, 2, 2, 1000, NULL), 0);     /* 1 and 3 are 3 apart in both documents */
    CHECK_EQ_INT(idx_cnf(&ix, cl, 2, 3, 1000, NULL), 2);
    const uint32_t *tor[] = {b, c2};
    size_t l2[] = {1, 1};
    struct idx_cnf_clause cl2[2] = {{1, ta, l1}, {2, tor, l2}};
    CHECK_EQ_INT(idx_cnf(&ix, cl2, 2, 1, 1000, NULL), 1);   /* 1 next to (3 OR 2): doc 0 (1 2) */
    (void)tc;
    CHECK(idx_cnf(&ix, cl, 2, 100, 1, NULL) < 0);           /* over max_occ: refused */
    idx_close(&ix);
    free(p); free(dir);
}

TEST(damaged_or_foreign_index_files_are_refused) {
    const char *tmp = th_tmpdir();
    uint16_t t[200];
    for (int i = 0; i < 200; i++) t[i] = (uint16_t)(i % 7 == 6 ? 50 : i % 5);
    char *p = olmo_path_join(tmp, "bad.npy"), *dir = olmo_path_join(tmp, "badix");
    CHECK(olmo_write_file_atomic(p, t, sizeof t) == 0);
    struct idx_build_opts o = {.dtype_bytes = 2, .eos_id = 50, .threads = 1};
    CHECK(idx_build(dir, &p, 1, &o) == 0);
    char *sa = olmo_path_join(dir, "shard-0000.sa");
    size_t n;
    char *orig = olmo_read_file(sa, &n);
    struct olmo_index ix;
    /* truncated */
    CHECK(olmo_write_file_atomic(sa, orig, n - 3) == 0);
    CHECK(idx_open(&ix, dir, 0) < 0);
    CHECK_MSG(strstr(olmo_errmsg(), "truncated") != NULL, "message: %s", olmo_errmsg());
    /* header bit flipped */
    orig[30] ^= 1;
    CHECK(olmo_write_file_atomic(sa, orig, n) == 0);
    CHECK(idx_open(&ix, dir, 0) < 0);
    CHECK_MSG(strstr(olmo_errmsg(), "checksum") != NULL, "message: %s", olmo_errmsg());
    orig[30] ^= 1;
    /* payload damaged: caught by the full check only */
    orig[4100] ^= 1;
    CHECK(olmo_write_file_atomic(sa, orig, n) == 0);
    CHECK(idx_open(&ix, dir, 1) < 0);
    CHECK_MSG(strstr(olmo_errmsg(), "payload checksum") != NULL, "message: %s", olmo_errmsg());
    orig[4100] ^= 1;
    /* foreign file */
    memcpy(orig, "\x93NUMPY", 6);
    CHECK(olmo_write_file_atomic(sa, orig, n) == 0);
    CHECK(idx_open(&ix, dir, 0) < 0);
    CHECK_MSG(strstr(olmo_errmsg(), "not an olmo index") != NULL, "message: %s", olmo_errmsg());
    free(orig); free(sa);
    /* the token file changed under the index */
    CHECK(olmo_write_file_atomic(p, t, sizeof t - 2) == 0);
    CHECK(idx_open(&ix, dir, 0) < 0);
    free(p); free(dir);
}

TEST(wrong_dtype_token_files_are_refused) {
    const char *tmp = th_tmpdir();
    uint32_t t32[512];
    for (int i = 0; i < 512; i++) t32[i] = 100 + (uint32_t)(i * 37 % 3000);
    char *p = olmo_path_join(tmp, "w32.npy"), *dir = olmo_path_join(tmp, "wix");
    CHECK(olmo_write_file_atomic(p, t32, sizeof t32) == 0);
    struct idx_build_opts o = {.dtype_bytes = 2, .eos_id = IDX_NO_TOKEN, .threads = 1};
    CHECK(idx_build(dir, &p, 1, &o) < 0);   /* uint32 read as uint16 */
    CHECK_MSG(strstr(olmo_errmsg(), "uint32") != NULL, "message: %s", olmo_errmsg());
    uint16_t t16[513];
    for (int i = 0; i < 513; i++) t16[i] = (uint16_t)(100 + i);
    CHECK(olmo_write_file_atomic(p, t16, sizeof t16 - 2) == 0);
    o.dtype_bytes = 4;
    CHECK(idx_build(dir, &p, 1, &o) < 0);   /* uint16 read as uint32 */
    CHECK(olmo_write_file_atomic(p, t16, sizeof t16) == 0);
    CHECK(idx_build(dir, &p, 1, &o) < 0);   /* odd byte count */
    free(p); free(dir);
}

TEST(header_parse_rejects_garbage) {
    uint8_t page[IDX_HEADER_BYTES];
    struct idx_header h = {.kind = IDX_KIND_DOCS, .token_width = 2, .flags = IDX_FLAG_NUMERIC, .n_tokens = 10,
                           .n_docs = 2, .payload_bytes = 24};
    idx_header_write(&h, page);
    struct idx_header g;
    CHECK(idx_header_parse(&g, page, IDX_HEADER_BYTES + 24, IDX_KIND_DOCS, "x") == 0);
    CHECK(g.n_docs == 2 && g.n_tokens == 10);
    CHECK(idx_header_parse(&g, page, IDX_HEADER_BYTES + 16, IDX_KIND_DOCS, "x") < 0);
    CHECK(idx_header_parse(&g, page, IDX_HEADER_BYTES + 24, IDX_KIND_SA, "x") < 0);
    CHECK(idx_header_parse(&g, page, 100, 0, "x") < 0);
}

TEST(trace_of_pasted_spans_finds_exactly_them) {
    const char *tmp = th_tmpdir();
    struct corpus c;
    CHECK(corpus_make(&c, tmp, "trace", 3, 3000, 50, 10, 2) == 0);
    char *dir = olmo_path_join(tmp, "traceix");
    struct idx_build_opts o = {.dtype_bytes = 2, .eos_id = c.eos, .threads = 1};
    CHECK_GOTO(idx_build(dir, c.paths, (size_t)c.nf, &o) == 0, out);
    struct olmo_index ix;
    CHECK_GOTO(idx_open(&ix, dir, 0) == 0, out);
    /* text = span0 X span1 X span2, X an id absent from the data: every span is maximal and found exactly */
    uint32_t text[64];
    size_t L = 0, starts[3], lens[3];
    for (int k = 0; k < 3; k++) {
        int f = k % 2;
        uint64_t p = rnd((uint32_t)(c.len[f] > 20 ? c.len[f] - 20 : 1));
        lens[k] = c.len[f] >= 20 ? 8 + (size_t)rnd(8) : 1;
        starts[k] = L;
        for (size_t j = 0; j < lens[k]; j++) text[L++] = c.tok[f][p + j];
        text[L++] = c.eos + 7;
    }
    struct trace_opts to = {.min_len = 1};
    struct trace_span *sp = NULL;
    int64_t n = trace_spans(&ix, text, L, &to, &sp);
    CHECK_GOTO(n == 3, out2);
    for (int k = 0; k < 3; k++) {
        CHECK_GOTO(sp[k].start == starts[k] && sp[k].len == lens[k], out2);
        CHECK_GOTO(sp[k].count == brute_find(&c, text + starts[k], lens[k], NULL), out2);
    }
    /* with word starts: a span may only start on one, and must be followed by one */
    uint8_t bow[200] = {0};
    for (int k = 0; k < 200; k++) bow[k] = k % 2 == 0;
    to.bow = bow; to.vocab = 200;
    free(sp); sp = NULL;
    n = trace_spans(&ix, text, L, &to, &sp);
    CHECK_GOTO(n >= 0, out2);
    for (int64_t k = 0; k < n; k++) {
        CHECK_GOTO(bow[text[sp[k].start]], out2);
        CHECK_GOTO(sp[k].start + sp[k].len == L || bow[text[sp[k].start + sp[k].len]], out2);
    }
out2:
    if (th_failed() && sp) for (int64_t k = 0; k < n; k++) fprintf(stderr, "span %zu+%zu\n", sp[k].start, sp[k].len);
    free(sp);
    idx_close(&ix);
out:
    free(dir);
    corpus_free(&c);
}
