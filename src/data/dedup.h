/* dedup.h — `olmo data dedup`: Dolma's deduper (src/deduper.rs, spec §3.3–3.4) on the Bloom filter of bloom.h.
 *
 * Every input document file gives one attribute file at its path with "/<document_dir>/" replaced by
 * "/attributes/<name>/", line for line: {"attributes":{...},"id":...} (keys sorted, compact, as serde_json).
 *   documents mode: the key (a JSONPath, must select a string) of a document seen before gets
 *                   [[0, bytes(key), 1]]; a first occurrence gets no attribute ({}).
 *   paragraphs mode: text split on the separator; duplicate paragraphs get [start, end, 1] in code points
 *                   (Dolma's offset quirk kept: the separator is counted unless the paragraph ends within the
 *                   last byte); with by_ngram, [start, end, dup_fraction] of the checked word n-grams.
 *
 * Which copy survives: the first in the order the documents are listed (sorted glob expansion, line by line),
 * with processes = 1. With several threads files are processed concurrently on one shared filter, as Dolma
 * does, and which copy of a cross-file duplicate survives depends on timing. Under MPI (mpirun -np N) each rank
 * takes a contiguous block of files and the result is the one-process result: pass 1 inserts every key of the
 * rank's files into a filter, an exclusive prefix OR (MPI_Exscan) gives rank r the keys of ranks < r, and pass 2
 * runs the normal dedup starting from that filter; the final filter is the OR of all of them.
 *
 * Dolma's bugs kept by default (spec §3.3), each corrected by an olmo-only config key:
 *   min_words > 0 disables dedupe of keys/paragraphs that have enough words   dedupe.fix_min_words: true
 * One place where Dolma's own expected output and its source disagree: the n-gram overlap fraction must exceed
 * the threshold to give a span in the fixture (default here), deduper.rs says ">="
 * (dedupe.paragraphs.by_ngram.threshold_inclusive: true). */
#ifndef OLMO_DATA_DEDUP_H
#define OLMO_DATA_DEDUP_H

#include <stddef.h>
#include <stdint.h>

struct jpath;

struct dedup_config {
    const char **documents; /* globs */
    size_t n_documents;
    const char *name;       /* attribute dir name */
    const char *attribute_name;
    int by_paragraph;
    struct jpath *key;      /* documents mode */
    const char *key_expr;
    const char *separator;
    int64_t ngram_length, stride;
    double overlap_threshold;
    int skip_short_paragraphs;
    int threshold_inclusive; /* olmo: n-gram fraction kept at >= threshold (deduper.rs) instead of > (fixture) */
    int skip_empty;
    int64_t min_length, min_words;
    int64_t num_partitions, partition_index;
    const char *document_dir;
    const char *bloom_file;
    int read_only;
    int64_t size_in_bytes, estimated_doc_count;
    double desired_fp_rate;
    int64_t processes;
    int skip_bad;           /* olmo: skip malformed lines with a count instead of failing */
    int fix_min_words;      /* olmo: the corrected min_words behaviour */
    uint64_t seed;          /* olmo: seed of the hashers of a new filter (0: random) */
};

struct dedup_stats {
    long files, files_skipped_existing, docs, docs_bad, keys, duplicates, paragraphs, dup_paragraphs;
};

struct ycfg;
/* Fills c from a loaded config (dcfg_load with dedup_schema). c->key is owned by c (dedup_config_free). */
int dedup_config_read(const struct ycfg *cfg, struct dedup_config *c);
void dedup_config_free(struct dedup_config *c);
extern const char *const dedup_schema[];
extern const char *const dedup_list_keys[];

/* Runs the deduper (all files, threads, MPI ranks when active). */
int dedup_run(const struct dedup_config *c, struct dedup_stats *st);

#endif
