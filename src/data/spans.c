/* spans.c — see spans.h. One pass over the text's code points, copying bytes, with the span list as a cursor;
 * the order of tests mirrors Dolma's loop so edge cases (overlaps, adjacency, zero-length spans) agree. */
#include "data/spans.h"

#include "base/error.h"

#include <stdlib.h>
#include <string.h>

struct buf {
    char *p;
    size_t n, cap;
};
static int buf_put(struct buf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) return olmo_err("span replacement: out of memory");
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
    return 0;
}

/* Emits the replacement of a span whose original text is orig[0..olen). */
static int emit(struct buf *b, const struct span_repl *s, const char *orig, size_t olen) {
    const char *r = s->repl, *end = r + s->repl_len;
    while (r < end) {
        const char *m = NULL;
        for (const char *q = r; q + 1 < end; q++)
            if (q[0] == '{' && q[1] == '}') { m = q; break; }
        if (!m) return buf_put(b, r, end - r);
        if (buf_put(b, r, m - r) || buf_put(b, orig, olen)) return -1;
        r = m + 2;
    }
    return 0;
}

/* Stable by start (Rust's sort_by_key is stable): insertion sort, spans come mostly in order already. */
static void sort_stable(struct span_repl *s, size_t n) {
    for (size_t i = 1; i < n; i++) {
        struct span_repl t = s[i];
        size_t j = i;
        while (j > 0 && s[j - 1].start > t.start) { s[j] = s[j - 1]; j--; }
        s[j] = t;
    }
}

static size_t u8len(unsigned char c) { return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4; }

int spans_apply(const char *text, size_t len, struct span_repl *spans, size_t n, char **out, size_t *out_len) {
    for (size_t i = 0; i < n; i++)
        if (spans[i].start < 0 || spans[i].end < spans[i].start)
            return olmo_err("span replacement: span %zu [%lld, %lld): expected 0 <= start <= end", i,
                            (long long)spans[i].start, (long long)spans[i].end);
    sort_stable(spans, n);
    struct buf b = {0};
    if (buf_put(&b, "", 0)) return -1;
    size_t si = 0, start_byte = 0, pos = 0;
    int64_t i = 0;
    while (pos < len) {
        size_t cl = u8len((unsigned char)text[pos]);
        if (pos + cl > len) cl = len - pos;
        const struct span_repl *s = si < n ? &spans[si] : NULL;
        int copy = 1;
        if (s && i >= s->start && i < s->end) {
            if (i == s->start) start_byte = pos;
            copy = 0;
        } else if (s && i == s->end) {
            size_t olen = s->start < s->end ? pos - start_byte : 0;
            if (emit(&b, s, text + start_byte, olen)) goto fail;
            while (si < n && spans[si].start < i) si++;
            if (si < n && spans[si].start == i) { /* adjacent (or zero-length): begins here */
                start_byte = pos;
                copy = 0;
            }
        }
        if (copy && buf_put(&b, text + pos, cl)) goto fail;
        pos += cl;
        i++;
    }
    /* A span still open at the end of the text (it ends there or beyond) is replaced now. */
    if (si < n && spans[si].start < i && spans[si].end >= i) {
        if (emit(&b, &spans[si], text + start_byte, len - start_byte)) goto fail;
    }
    *out = b.p;
    *out_len = b.n;
    return 0;
fail:
    free(b.p);
    return -1;
}
