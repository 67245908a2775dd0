/* tokenizer.h — Hugging Face tokenizer.json (byte-level BPE) loading, encoding and decoding.
 *
 * The pipeline is the one `tokenizers` runs, so ids match Hugging Face id for id:
 *   added-token extraction (non-normalized tokens on the raw text, then the normalizer, then normalized tokens)
 *   -> pre-tokenizer (ByteLevel / Split / Sequence, see pretokenize.h) -> BPE merges -> post-processor.
 * Decoding concatenates token strings through the decoder (ByteLevel) and turns the bytes into UTF-8 with the
 * same replacement rule as Rust's String::from_utf8_lossy.
 *
 * Text given to tok_encode may be any bytes: invalid UTF-8 is kept byte for byte (each invalid byte is its own
 * "other" character for the splitting rules), so byte-level BPE always round-trips it through tok_token_bytes.
 *
 * A loaded tokenizer is immutable; every function here may be called from several threads at once.
 * Errors: NULL / -1 after olmo_err() (see base/error.h). Unsupported tokenizer.json parts are named in the error. */
#ifndef OLMO_TOKENIZER_TOKENIZER_H
#define OLMO_TOKENIZER_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

struct olmo_tokenizer;

/* Loads a tokenizer.json file. */
struct olmo_tokenizer *tok_load(const char *path);
/* Loads from JSON text in memory; name is used in error messages (e.g. the file name). */
struct olmo_tokenizer *tok_load_json(const char *json, size_t len, const char *name);
void tok_free(struct olmo_tokenizer *tok);

/* Encodes text[0..len) into a new array *ids (caller frees; may be NULL when *n_ids == 0).
 * add_special: run the post-processor (TemplateProcessing adds BOS/EOS etc.), like HF add_special_tokens=True.
 * Special and added tokens written in the text are always matched (HF's default). Returns 0 or -1. */
int tok_encode(const struct olmo_tokenizer *tok, const char *text, size_t len, int add_special,
               int32_t **ids, size_t *n_ids);

/* Encodes n_docs documents in parallel (OpenMP; n_threads <= 0: OpenMP's default). ids[i] / n_ids[i] receive
 * exactly what tok_encode would give for document i (caller frees each ids[i]). On failure every ids[i] is
 * NULL and -1 is returned. */
int tok_encode_batch(const struct olmo_tokenizer *tok, const char *const *texts, const size_t *lens,
                     size_t n_docs, int add_special, int n_threads, int32_t **ids, size_t *n_ids);

/* Decodes ids like HF decode(ids, skip_special_tokens): returns a new NUL-terminated UTF-8 string (caller frees),
 * its byte length in *len (may be NULL). Ids outside the vocabulary are skipped (as HF does). */
char *tok_decode(const struct olmo_tokenizer *tok, const int32_t *ids, size_t n, int skip_special, size_t *len);

/* The raw bytes one token stands for after the decoder (byte-level: the original text bytes, possibly a partial
 * UTF-8 sequence), for streaming output. Writes min(needed, cap) bytes to buf and returns the number of bytes the
 * token has (call again with a bigger buffer if it exceeds cap), or -1 for an unknown id. */
int tok_token_bytes(const struct olmo_tokenizer *tok, int32_t id, char *buf, size_t cap);

/* Token string (as written in tokenizer.json, e.g. "Ġthe") -> id, or -1 when absent. Added tokens included. */
int32_t tok_token_to_id(const struct olmo_tokenizer *tok, const char *token);
/* id -> token string (NUL-terminated, owned by the tokenizer), or NULL for an unknown id. */
const char *tok_id_to_token(const struct olmo_tokenizer *tok, int32_t id);
/* 1 + the largest id (model vocabulary and added tokens), like HF get_vocab_size(with_added_tokens=True). */
int tok_vocab_size(const struct olmo_tokenizer *tok);
/* 1 if id is an added token marked "special": true (dropped by skip_special decoding). */
int tok_is_special(const struct olmo_tokenizer *tok, int32_t id);

#endif
