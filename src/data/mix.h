/* mix.h — `olmo data mix`: Dolma's mixer (src/mixer.rs, src/shard.rs; spec §4) over documents and attributes.
 *
 * Streams of document globs are cut into output shards by compressed input size (Dolma's split_streams, its
 * "-NNNN.jsonl<ext>" / last shard ".json<ext>" naming kept); each shard's documents are read with their attribute
 * files zipped line by line (ids must agree), filtered (include/exclude in JSONPath or jq), span-replaced,
 * stripped of discard_fields, dropped below min_text_length, stamped metadata.provenance = "<file>:<line>" and
 * written with sorted keys, compact, as serde_json writes them. One thread per output shard.
 *
 * Speed: the text and the other top-level scalars are copied from the input line's bytes instead of re-serialised
 * when nothing changed them and their bytes are already what serde_json would write (no \u escapes); only
 * metadata, attributes and changed fields are re-written.
 *
 * Under MPI each rank writes the shards i with i % size == rank; the files are the one-process files. */
#ifndef OLMO_DATA_MIX_H
#define OLMO_DATA_MIX_H

#include <stddef.h>
#include <stdint.h>

struct ycfg;
struct mix_stats {
    long shards, shards_skipped_existing, docs_in, docs_bad, docs_out, dropped_filter, dropped_min_length,
        spans_replaced, bytes_in, bytes_out;
};

extern const char *const mix_schema[];
extern const char *const mix_list_keys[];
/* Runs every stream of a loaded config (threads, MPI ranks); stats summed over all. */
int mix_run(const struct ycfg *cfg, struct mix_stats *st);

#endif
