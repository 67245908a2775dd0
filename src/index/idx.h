/* idx.h — the search index over training tokens: a suffix array per shard, over the token files `olmo train`
 * reads, queried in place (memory-mapped). What docs/provenance.md describes; spec provenance.md §7.
 *
 * An index directory holds manifest.json (the token files of each shard, dtype, EOS), per shard NNNN
 * shard-NNNN.sa (suffix array: token indices, 4 bytes when the shard has < 2^32 tokens, else 5), shard-NNNN.docs
 * (u64 start of every document, EOS-terminated as in the token files or from the .csv.gz metadata),
 * shard-NNNN.meta (the metadata rows "id\tsrc\tloc"), and unigram.bin (count of every token id). Each binary
 * file starts with a 4096-byte versioned header page with a CRC-32C of itself (idx_format.h).
 *
 * A shard is the virtual concatenation of its token files; file ends are hard ends: a suffix stops there (no
 * match crosses files, as no training instance does), a stopped suffix sorting before the longer ones it
 * prefixes. Tokens are compared as numbers. Order is exact unless the shard was built in several chunks (bounded
 * memory), then exact up to max_cmp tokens of common prefix and queries longer than that are refused. */
#ifndef OLMO_INDEX_IDX_H
#define OLMO_INDEX_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "base/file.h"

#define IDX_NO_TOKEN UINT32_MAX

/* The tokens of one shard: its files, mapped. */
struct idx_text {
    int width;                 /* bytes per token: 2 or 4 */
    uint32_t n_files;
    const uint8_t **data;      /* (n_files,) first token of each file */
    uint64_t *first;           /* (n_files + 1,) first token index of each file in the shard; last = N */
};

static inline uint32_t idx_text_tok(const struct idx_text *t, const uint8_t *file_data, uint64_t i) {
    if (t->width == 2) { uint16_t v; __builtin_memcpy(&v, file_data + 2 * i, 2); return v; }
    uint32_t v; __builtin_memcpy(&v, file_data + 4 * i, 4); return v;
}
/* The file holding token index pos (pos < N). */
uint32_t idx_text_file(const struct idx_text *t, uint64_t pos);
/* Token at pos (pos < N). */
uint32_t idx_text_at(const struct idx_text *t, uint64_t pos);
/* Compares the suffix at pos (up to its file's end) with q[0..m): <0, 0 (first m tokens equal) or >0. A suffix
 * that ends first compares less. *lcp (may be NULL) gets the number of equal leading tokens. */
int idx_text_cmp_query(const struct idx_text *t, uint64_t pos, const uint32_t *q, size_t m, size_t *lcp);

struct idx_shard {
    struct idx_text text;
    struct olmo_mmap *file_maps; /* (n_files,) */
    char **paths;
    uint64_t n_tokens;
    uint64_t max_cmp;          /* 0 = order exact */
    int ptr_width;
    struct olmo_mmap sa_map, docs_map, meta_map;
    const uint8_t *sa;         /* n_tokens × ptr_width */
    const uint64_t *docs;      /* (n_docs + 1,) document starts; last = n_tokens */
    uint64_t n_docs;
    uint64_t doc_base;         /* global index of this shard's first document */
    const uint64_t *meta_off;  /* (n_docs + 1,) or NULL */
    const char *meta;
};

struct olmo_index {
    char *dir;
    int width;
    uint32_t eos_id;           /* IDX_NO_TOKEN when none */
    uint64_t vocab_size;
    uint32_t n_shards;
    struct idx_shard *shards;
    uint64_t n_tokens, n_docs;
    uint64_t max_cmp;          /* smallest nonzero max_cmp of any shard (0 = no limit) */
    struct olmo_mmap unigram_map;
    const uint64_t *unigram;   /* (vocab_size,) */
    char *tokenizer;           /* path recorded at build time, or NULL */
};

/* Opens an index directory: checks every header (magic, version, kind, CRC) and that the token files still
 * have the recorded sizes. verify_payload also checks the payload CRC-32Cs (reads everything). */
int idx_open(struct olmo_index *ix, const char *dir, int verify_payload);
void idx_close(struct olmo_index *ix);

static inline uint64_t idx_sa_at(const struct idx_shard *s, uint64_t rank) {
    const uint8_t *p = s->sa + rank * (uint64_t)s->ptr_width;
    if (s->ptr_width == 4) { uint32_t v; __builtin_memcpy(&v, p, 4); return v; }
    uint64_t v = 0;
    for (int i = s->ptr_width; i-- > 0;) v = v << 8 | p[i];
    return v;
}

/* A query's rank range in one shard. */
struct idx_range { uint64_t lo, hi; };

/* Finds q[0..m) in every shard (ranges: n_shards entries, may be NULL) and returns the total count. The empty
 * query matches every position. -1 (olmo_err) when m exceeds the index's max_cmp. */
int64_t idx_find(const struct olmo_index *ix, const uint32_t *q, size_t m, struct idx_range *ranges);
/* The same inside one shard, narrowed to [lo, hi) (a range known to hold all matches, e.g. a prefix's). */
struct idx_range idx_find_shard(const struct idx_shard *s, const uint32_t *q, size_t m, uint64_t lo, uint64_t hi);

/* One occurrence. */
struct idx_hit {
    uint32_t shard, file;      /* file index within the shard */
    uint64_t pos;              /* token index within the shard */
    uint64_t file_offset;      /* token index within the file */
    uint64_t doc;              /* global document index */
    uint64_t doc_start, doc_end;  /* shard token indices of the document [start, end) (EOS included) */
};
void idx_hit_at(const struct olmo_index *ix, uint32_t shard, uint64_t pos, struct idx_hit *h);
/* Metadata of a document of a shard ("id\tsrc\tloc"), NULL when there is none. *len gets its length. */
const char *idx_doc_meta(const struct olmo_index *ix, uint32_t shard, uint64_t local_doc, size_t *len);

/* Next-token distribution after ctx[0..m): distinct next tokens and their counts, in increasing token order;
 * an occurrence at a file end counts as eos_id. Returns the number of entries (arrays grow as needed; caller
 * frees), -1 on error. *total gets count(ctx). */
int64_t idx_ntd(const struct olmo_index *ix, const uint32_t *ctx, size_t m, uint32_t **tokens, uint64_t **counts,
                uint64_t *total);
/* The ∞-gram suffix: the longest suffix of ctx[0..m) that occurs (count > 0); returns its length (0 = empty
 * context, which always occurs when the index is not empty). */
size_t idx_infgram_suffix(const struct olmo_index *ix, const uint32_t *ctx, size_t m);
/* Longest prefix of q[0..m) that occurs anywhere (capped at max_cmp). */
size_t idx_longest_prefix(const struct olmo_index *ix, const uint32_t *q, size_t m);

/* AND of OR-clauses (CNF) over phrases, infini-gram style: an occurrence of the rarest clause is a match when
 * every other clause occurs within max_diff tokens of it in the same document. terms[c][t] is the t-th phrase of
 * clause c (len[c][t] tokens). Positions of the matches (shard, pos) go to *hits (caller frees) when not NULL.
 * Refuses (-1) when a clause has more than max_occ occurrences. Returns the number of matches. */
struct idx_cnf_clause {
    size_t n_terms;
    const uint32_t **terms;
    const size_t *lens;
};
int64_t idx_cnf(const struct olmo_index *ix, const struct idx_cnf_clause *clauses, size_t n_clauses,
                uint64_t max_diff, uint64_t max_occ, struct idx_hit **hits);

/* Builds an index (idx_build.c). */
struct idx_build_opts {
    int dtype_bytes;           /* 2 or 4 */
    uint32_t eos_id;           /* IDX_NO_TOKEN: documents are whole files */
    uint64_t shard_tokens;     /* most tokens per shard (files are never split); 0 = 2^32 - 1 */
    uint64_t chunk_tokens;     /* most tokens sorted in memory at once; 0 = from mem_bytes */
    uint64_t mem_bytes;        /* memory budget of the sort (default 4 GiB) */
    uint64_t max_cmp;          /* order cap between chunks (default 50,000) */
    int threads;
    int progress;              /* progress bar on stderr */
    const char *tokenizer;     /* recorded in the manifest (may be NULL) */
    char **metadata;           /* (n_files,) .csv.gz per token file or NULL entries; NULL = look beside */
};
int idx_build(const char *out_dir, char *const *files, size_t n_files, const struct idx_build_opts *o);

#endif
