/* pretok_internal.h — pre-tokenizer pieces shared inside src/tokenizer (not public API): building a pipeline
 * from an already-parsed jansson value, and the hand-written regex matchers (exposed for tests/benchmarks). */
#ifndef OLMO_TOKENIZER_PRETOK_INTERNAL_H
#define OLMO_TOKENIZER_PRETOK_INTERNAL_H

#include "tokenizer/pretokenize.h"

#include <jansson.h>

/* v: the "pre_tokenizer" value (NULL or json null: no pre-tokenizer). where: context for errors. */
struct pretok *pretok_from_jansson(const json_t *v, const char *where);

/* The GPT-2 and cl100k regexes exactly as tokenizer.json files write them. */
extern const char PRETOK_GPT2_REGEX[];
extern const char PRETOK_CL100K_REGEX[];

/* Length of the match of the pattern starting exactly at s[i] (i < len; both patterns match every
 * non-empty position). */
size_t pretok_gpt2_match(const uint8_t *s, size_t len, size_t i);
size_t pretok_cl100k_match(const uint8_t *s, size_t len, size_t i);

/* Forces every regex through PCRE2 (for measuring the hand-written matchers against it). */
struct pretok *pretok_from_regex_pcre2(const char *regex);

#endif
