/* tokens.h — `olmo data tokens`: what `dolma tokens` writes (spec §5), the token files `olmo train` reads.
 *
 * Output, in --destination: part-<g>-<m:05>.npy (a headerless little-endian uint16/uint32 array: the documents'
 * ids back to back, each ended by EOS, with BOS first where one is set) and part-<g>-<m:05>.csv.gz (one row per
 * document, Python csv style with \r\n: start,end,id,src,loc = token offsets in that .npy, the document id, the
 * source path as listed, the 1-based line). Group g's digits: ceil(log10(groups + 1)); m counts the files of a
 * group, a new one starting when the next document would reach max_size tokens.
 *
 * Per document, as Dolma: text.strip() (Python's Unicode whitespace), empty documents skipped, encoded without
 * special tokens (ids equal Hugging Face tokenizers: src/tokenizer), BOS prepended unless already first, EOS
 * appended unless already last. dtype must be NumPy's min_scalar_type(vocab_size - 1), as Dolma checks.
 *
 * Deterministic where Dolma is not: files are the sorted glob expansion, cut into `processes` contiguous groups
 * (no shuffle: Dolma's seed is never applied), documents in file order; the same config gives the same bytes.
 * Groups run on threads; under MPI, rank r writes the groups g with g % size == r (the same files as one
 * process). A document of max_size tokens or more is an error (Dolma loops forever on one, issue #272). */
#ifndef OLMO_DATA_TOKENS_H
#define OLMO_DATA_TOKENS_H

#include <stdint.h>

struct ycfg;
struct tokens_stats {
    long files, docs_in, docs_bad, docs_empty, docs_out, tokens, npy_files;
};

extern const char *const tokens_schema[];
extern const char *const tokens_list_keys[];
int tokens_run(const struct ycfg *cfg, struct tokens_stats *st);

#endif
