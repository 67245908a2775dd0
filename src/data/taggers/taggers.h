/* taggers.h — Dolma's taggers: one small file each under src/data/taggers/, one registration table
 * (registry.c). A tagger reads the shared analysis of a document (tag_text: words, lines, paragraphs computed
 * once for all taggers) and appends spans to a tag_result; the runtime (tag_run.c) groups them by type and
 * writes Dolma's attribute line. Spans are in byte offsets here and turned into code points on output.
 *
 * A tagger is stateless once its setup() has run (compiled regexes, word lists are shared, read-only), so
 * one tagger serves every thread. */
#ifndef OLMO_DATA_TAGGERS_H
#define OLMO_DATA_TAGGERS_H

#include "data/tag_text.h"

#include <stddef.h>

struct tag_span {
    const char *type;        /* a string that outlives the result (static) */
    size_t start, end;       /* bytes */
    double score;
};

struct tag_result {
    struct tag_span *v;
    size_t n, cap;
};
int tag_emit(struct tag_result *r, const char *type, size_t start, size_t end, double score);
void tag_result_clear(struct tag_result *r);   /* keeps the buffers */
void tag_result_free(struct tag_result *r);
/* The i-th span of `type`, or NULL (for tests). */
const struct tag_span *tag_result_find(const struct tag_result *r, const char *type, size_t i);

struct tagger {
    const char *name;
    const char *summary;
    /* Appends this document's spans. Returns 0, or -1 with olmo_err. */
    int (*predict)(const struct tagger *tg, struct tag_text *t, struct tag_result *out);
    /* One-time setup before any predict (may be NULL); returns 0 or -1 with olmo_err. */
    int (*setup)(void);
    int variant;             /* for taggers sharing one predict (v1/v2, doc/paragraph) */
};

const struct tagger *tagger_find(const char *name);
/* The whole table, NULL-name terminated. */
extern const struct tagger tagger_table[];


#endif
