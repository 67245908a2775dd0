/* bpe_train.h — learning a byte-level BPE tokenizer from text, the way Hugging Face `tokenizers`' BpeTrainer does.
 *
 * Three steps, each usable on its own:
 *   1. count:  bpe_words_add_files / bpe_words_add_text split the corpus into lines (each keeps its "\n", as
 *              HF's train_from_files does), pre-tokenize every line with the dolma2 (cl100k) Split pattern and
 *              count the distinct pre-tokens ("words"). Parallel over chunks of lines with OpenMP; per-thread
 *              maps are summed, so counts do not depend on the thread count.
 *   2. learn:  bpe_learn starts from the special tokens (ids 0..S-1) and the 256 byte-level characters (in
 *              code-point order, as HF sorts its alphabet), then repeatedly merges the adjacent pair with the
 *              highest count (ties: the smaller (left id, right id)), until vocab_size ids exist or no pair is
 *              frequent enough. Pair counts are kept up to date incrementally (pair -> words index and a lazy
 *              max-heap), so each merge touches only the words that contain the pair.
 *   3. write:  bpe_model_write_json writes a tokenizer.json (atomically, byte-identical for identical input and
 *              settings) with the dolma2 pipeline: no normalizer, Split(cl100k) + ByteLevel(use_regex=false)
 *              pre-tokenizer, ByteLevel decoder, no post-processor, the special tokens as added tokens.
 * docs/tokenizer-training.md describes the choices and where they follow or depart from HF. */
#ifndef OLMO_TOKENIZER_BPE_TRAIN_H
#define OLMO_TOKENIZER_BPE_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "tokenizer/bpe_strmap.h"

/* The counted corpus: distinct pre-tokens (raw bytes, before the byte-level character map) and their counts. */
struct bpe_words {
    struct bpe_strmap map;   /* key = pre-token bytes, val = number of occurrences */
    uint64_t n_bytes;        /* bytes of text read, for progress and throughput figures */
};

int bpe_words_init(struct bpe_words *w);
void bpe_words_free(struct bpe_words *w);
/* Adds count occurrences of one pre-token. */
int bpe_words_add(struct bpe_words *w, const void *bytes, uint32_t len, uint64_t count);
/* Adds every count of src to dst. */
int bpe_words_merge(struct bpe_words *dst, const struct bpe_words *src);
/* Splits text into lines (keeping each "\n"), pre-tokenizes them and counts the pieces. Single-threaded. */
int bpe_words_add_text(struct bpe_words *w, const char *text, size_t len);
/* Counts the pre-tokens of whole files, in parallel over ~1 MiB chunks of lines with `threads` threads
 * (<= 0: OpenMP's default). The result is the same for every thread count. */
int bpe_words_add_files(struct bpe_words *w, const char *const *paths, int n_paths, int threads);

struct bpe_train_opts {
    uint32_t vocab_size;           /* ids in the result, special tokens and the 256 bytes included */
    uint64_t min_frequency;        /* stop when the best pair occurs fewer times (HF min_frequency; 0 = 1) */
    const char *const *special;    /* special tokens, given ids 0..n_special-1 in this order */
    uint32_t n_special;
};
/* vocab_size 16384, min_frequency 0, special = {"<|endoftext|>", "<|padding|>"}. */
void bpe_train_opts_default(struct bpe_train_opts *o);
/* Checks the options before any work: special tokens non-empty valid UTF-8, room for them and the 256 bytes.
 * (bpe_learn checks again; front ends call this first so a bad flag fails before the corpus is read.) */
int bpe_train_opts_check(const struct bpe_train_opts *o);

/* A trained tokenizer. vocab entry i is token id i: its string as tokenizer.json spells it (special tokens
 * verbatim, learned tokens in GPT-2 byte-level characters, UTF-8). */
struct bpe_model {
    struct bpe_strmap vocab;
    uint32_t n_special;            /* ids 0..n_special-1 are the special (added) tokens */
    uint32_t n_merges;
    uint32_t *merges;              /* (left id, right id) pairs, 2 * n_merges, in rank order */
};

struct bpe_learn_stats {
    uint64_t n_words;              /* distinct pre-tokens */
    uint64_t n_pairs_initial;      /* distinct adjacent pairs before the first merge */
    double seconds;
};

/* Learns merges from counted words. stats may be NULL. On failure m is left empty (nothing to free). */
int bpe_learn(struct bpe_model *m, const struct bpe_words *w, const struct bpe_train_opts *o,
              struct bpe_learn_stats *stats);
void bpe_model_free(struct bpe_model *m);
static inline uint32_t bpe_model_size(const struct bpe_model *m) { return (uint32_t)m->vocab.n; }

/* Writes the tokenizer.json (temp file + rename: never half-written under path). */
int bpe_model_write_json(const struct bpe_model *m, const char *path);

#endif
