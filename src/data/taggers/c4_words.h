/* c4_words.h — the C4 bad-word list (LDNOOBW English, CC-BY-4.0, as vendored by Dolma), NULL-terminated. */
#ifndef OLMO_DATA_TAGGERS_C4_WORDS_H
#define OLMO_DATA_TAGGERS_C4_WORDS_H

#include <stddef.h>

extern const char *const c4_naughty_lines[];

#endif
