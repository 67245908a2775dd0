/* utf8_stream.c — incremental lossy UTF-8 output (see utf8_stream.h). Ranges from Unicode Table 3-7. */
#include "model/utf8_stream.h"

#include <string.h>

static const char REPL[] = "\xEF\xBF\xBD";

void utf8_stream_init(struct utf8_stream *s) { memset(s, 0, sizeof *s); }

static void start(struct utf8_stream *s, unsigned char b, FILE *out) {
    s->n = 0;
    s->lo = 0x80;
    s->hi = 0xBF;
    if (b < 0x80) { fputc(b, out); return; }
    if (b >= 0xC2 && b <= 0xDF) s->need = 1;
    else if (b >= 0xE0 && b <= 0xEF) {
        s->need = 2;
        if (b == 0xE0) s->lo = 0xA0;        /* no overlong 3-byte forms */
        if (b == 0xED) s->hi = 0x9F;        /* no surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        s->need = 3;
        if (b == 0xF0) s->lo = 0x90;        /* no overlong 4-byte forms */
        if (b == 0xF4) s->hi = 0x8F;        /* nothing above U+10FFFF */
    } else { fputs(REPL, out); return; }
    s->buf[s->n++] = b;
}

void utf8_stream_feed(struct utf8_stream *s, const void *bytes, size_t n, FILE *out) {
    const unsigned char *p = bytes;
    for (size_t i = 0; i < n; i++) {
        unsigned char b = p[i];
        if (!s->need) { start(s, b, out); continue; }
        if (b >= s->lo && b <= s->hi) {
            s->buf[s->n++] = b;
            s->lo = 0x80;
            s->hi = 0xBF;
            if (--s->need == 0) fwrite(s->buf, 1, (size_t)s->n, out), s->n = 0;
        } else {   /* the partial character so far is one maximal subpart: replace it, then restart on b */
            fputs(REPL, out);
            s->need = 0;
            start(s, b, out);
        }
    }
}

void utf8_stream_flush(struct utf8_stream *s, FILE *out) {
    if (s->need) fputs(REPL, out);
    s->need = 0;
    s->n = 0;
}
