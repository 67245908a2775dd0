/* pretokenize.h — pre-tokenizers: splitting text into the pieces BPE works on.
 *
 * A `struct pretok` is a compiled tokenizer.json "pre_tokenizer" (ByteLevel with or without its regex, Split,
 * Sequence). The two patterns OLMo uses — GPT-2/NeoX (ByteLevel's regex) and cl100k (dolma2's Split) — run
 * through hand-written matchers that implement the regex semantics of HF (Oniguruma): \p{L} letters, \p{N}
 * numbers, \s = Unicode White_Space, leftmost-first alternation, the (?!\S) look-ahead. Any other regex runs
 * through PCRE2 (JIT). Invalid UTF-8 bytes count as single "other" characters and are never lost.
 *
 * Pieces are byte ranges of the input text. A ByteLevel step with add_prefix_space=true conceptually prepends
 * one space to the text; the piece that begins with that space has .prefix_space = 1 and starts at offset 0.
 * Whether the pieces are then mapped to byte-level characters is reported by pretok_is_byte_level(). */
#ifndef OLMO_TOKENIZER_PRETOKENIZE_H
#define OLMO_TOKENIZER_PRETOKENIZE_H

#include <stddef.h>
#include <stdint.h>

struct pretok;

struct pretok_piece {
    size_t start, len;      /* bytes [start, start+len) of the text */
    int prefix_space;       /* 1: a space (added by ByteLevel add_prefix_space) precedes these bytes */
};

/* Built-in pipelines: "gpt2" (= NeoX/OLMo-1: ByteLevel use_regex=true) and "cl100k" (= dolma2 / OLMo-2:
 * Split(cl100k regex, Removed, invert) then ByteLevel use_regex=false). NULL + olmo_err for other names. */
struct pretok *pretok_named(const char *name);
/* From the JSON text of a tokenizer.json "pre_tokenizer" value (an object, or "null" for none). */
struct pretok *pretok_from_json(const char *json, size_t len);
/* A single Split step with the given regex, keeping the matches and the text between them (Isolated). Known
 * patterns (GPT-2, cl100k) get the hand-written matcher, others PCRE2. */
struct pretok *pretok_from_regex(const char *regex);
void pretok_free(struct pretok *p);

/* Splits text into pieces. *pieces is a growable array (may start NULL with *cap 0; caller frees);
 * *n receives the count. Empty pieces are never produced. Returns 0 or -1. */
int pretok_split(const struct pretok *p, const char *text, size_t len, struct pretok_piece **pieces, size_t *n,
                 size_t *cap);
/* 1 when the pipeline contains a ByteLevel step (pieces are then BPE'd as byte-level characters). */
int pretok_is_byte_level(const struct pretok *p);

/* GPT-2's bytes_to_unicode: the code point byte b is written as in byte-level vocabularies (e.g. ' ' -> U+0120). */
uint32_t pretok_byte_to_char(uint8_t b);
/* The inverse: the byte for code point c, or -1 if c is not one of the 256 byte characters. */
int pretok_char_to_byte(uint32_t c);

#endif
