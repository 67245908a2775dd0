/* dedup_words.h — the deduper's "words": UAX #29 word-boundary segments with whitespace-only segments dropped, as
 * Dolma's Rust deduper gets them from unicode-segmentation's split_word_bounds() (src/wimbd/tokens.rs).
 * Punctuation segments are kept ("2.0" and "can't" are one segment each, "," is its own). */
#ifndef OLMO_DATA_DEDUP_WORDS_H
#define OLMO_DATA_DEDUP_WORDS_H

#include <stddef.h>

struct dword {
    size_t off, len; /* bytes into the text */
};

/* Segments s[0..len); *out grows as needed (*cap its capacity). Returns the number of words or -1 (no memory). */
long dedup_words(const char *s, size_t len, struct dword **out, size_t *cap);

#endif
