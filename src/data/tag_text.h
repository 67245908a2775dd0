/* tag_text.h — one document's text, analysed once and shared by every tagger that runs on it.
 *
 * Dolma's taggers each re-split the text (Python str.split(), text.split("\n"), split_paragraphs); here the
 * splits are computed lazily on first use and kept, so running gopher + c4 + pii + cld2 walks the words and
 * lines of a document once. Everything is in byte offsets into the UTF-8 text; tag_text_cp() turns a byte
 * offset into Dolma's code-point offset when a span is written.
 *
 * Python semantics kept: "whitespace" is str.isspace() (Unicode-wide: U+001C..U+001F, U+0085, U+00A0, U+3000 ...),
 * "alpha" is str.isalpha() (Unicode letters, categories L*), words are str.split(), paragraphs are Dolma's
 * split_paragraphs (each paragraph keeps its trailing '\n'; whitespace-only ones dropped). */
#ifndef OLMO_DATA_TAG_TEXT_H
#define OLMO_DATA_TAG_TEXT_H

#include "data/docs.h"

#include <stddef.h>
#include <stdint.h>

struct tag_range {
    uint32_t start, end;     /* bytes, end exclusive */
    uint32_t ncp;            /* code points in [start, end) */
};

struct tag_text {
    const char *text;
    size_t len;              /* bytes */
    size_t ncp;              /* code points */
    int ascii;
    struct docs_cpmap cpmap;
    /* lazily computed; use the accessors */
    struct tag_range *words; size_t nwords, cap_words; int have_words;
    struct tag_range *lines; size_t nlines, cap_lines; int have_lines;
    struct tag_range *paras; size_t nparas, cap_paras; int have_paras;
    char *lower; size_t lower_len, cap_lower; int have_lower;
    const struct docs_doc *doc;   /* the document (id, source, metadata) when the runtime has one, else NULL */
    struct { void *p; size_t cap; } scratch[4];   /* per-thread work buffers taggers reuse across documents */
};

/* Starts a new document (buffers are kept for reuse). Fails (olmo_err) for a text of 4 GiB or more. */
int tag_text_reset(struct tag_text *t, const char *text, size_t len);
void tag_text_free(struct tag_text *t);

/* A work buffer of at least `bytes` in slot 0..3 (contents not kept); NULL on allocation failure.
 * Slots: 0, 1 gopher; 2 pcre2 match data holder; 3 free. */
void *tag_text_scratch(struct tag_text *t, int slot, size_t bytes);

/* str.split() words. */
const struct tag_range *tag_text_words(struct tag_text *t, size_t *n);
/* text.split("\n"): n >= 1 lines, each without its '\n'. */
const struct tag_range *tag_text_lines(struct tag_text *t, size_t *n);
/* split_paragraphs(text, remove_empty=True). */
const struct tag_range *tag_text_paragraphs(struct tag_text *t, size_t *n);
/* The text with every code point lowercased (simple case mapping); same length in bytes only when ASCII. */
const char *tag_text_lower(struct tag_text *t, size_t *len);

static inline size_t tag_text_cp(const struct tag_text *t, size_t byte) { return docs_cpmap_get(&t->cpmap, byte); }

/* UTF-8 helpers on valid UTF-8. */
uint32_t tag_utf8_next(const char *s, size_t len, size_t *i);   /* decodes at *i, advances it */
int tag_is_space(uint32_t c);    /* Python str.isspace() */
int tag_is_alpha(uint32_t c);    /* Python str.isalpha() */
int tag_is_alnum(uint32_t c);    /* Python str.isalnum() (letters and numbers, categories L*, N*) */
/* Python str.strip(): the [start, end) of s without leading/trailing whitespace. */
void tag_strip(const char *s, size_t start, size_t end, size_t *ostart, size_t *oend);

#endif
