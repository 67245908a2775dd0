/* spans.h — Dolma's span replacement (mixer, spec §4.5): rebuild a text with character spans replaced.
 *
 * Offsets are code points of the UTF-8 text, end exclusive. Spans are sorted by start (stable); a span starting
 * inside the one being replaced is dropped whole; a span starting exactly where the previous one ended begins at
 * once; the replacement's "{}" becomes the replaced text; a span reaching the end of the text (or past it) is
 * replaced there. A zero-length span deletes the character at its position and emits its replacement (Dolma). */
#ifndef OLMO_DATA_SPANS_H
#define OLMO_DATA_SPANS_H

#include <stddef.h>
#include <stdint.h>

struct span_repl {
    int64_t start, end;
    const char *repl; /* the replacement template (may contain "{}"); not owned */
    size_t repl_len;
};

/* Sorts spans (stable by start) and writes the new text into *out (malloc'ed, NUL-terminated). Errors (a span
 * with end < start or start < 0) name the span. */
int spans_apply(const char *text, size_t len, struct span_repl *spans, size_t n, char **out, size_t *out_len);

#endif
