/* test_utf8_stream.c — streamed lossy UTF-8 equals Python's bytes.decode("utf-8", "replace") on the whole. */
#include "harness.h"
#include "model/utf8_stream.h"

#include <stdlib.h>
#include <string.h>

/* Feeds `in` in pieces of `piece` bytes and returns what was printed. */
static char *stream(const char *in, size_t n, size_t piece) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct utf8_stream s;
    utf8_stream_init(&s);
    for (size_t i = 0; i < n; i += piece) utf8_stream_feed(&s, in + i, n - i < piece ? n - i : piece, f);
    utf8_stream_flush(&s, f);
    fclose(f);
    return buf;
}

/* Expected outputs computed with CPython 3: b.decode("utf-8", "replace"). */
static const struct { const char *in; size_t n; const char *want; } CASES[] = {
    {"h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80", 15, "h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80"},
    {"a\xFF" "b", 3, "a\xEF\xBF\xBD" "b"},
    {"\xE2\x82" "x", 3, "\xEF\xBF\xBD" "x"},                           /* truncated 3-byte char: one U+FFFD */
    {"\xF0\x9F\x98", 3, "\xEF\xBF\xBD"},                                 /* incomplete at the end */
    {"\xE0\x80\x80", 3, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},         /* overlong: E0 alone, then two strays */
    {"\xED\xA0\x80", 3, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},         /* surrogate */
    {"\xC3\xC3\xA9", 3, "\xEF\xBF\xBD\xC3\xA9"},
    {"\x80\x80", 2, "\xEF\xBF\xBD\xEF\xBF\xBD"},
    {"\xF4\x90\x80\x80", 4, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
};

TEST(utf8_stream_matches_lossy_decode_any_split) {
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++)
        for (size_t piece = 1; piece <= 4; piece++) {
            char *got = stream(CASES[c].in, CASES[c].n, piece);
            int ok = !strcmp(got, CASES[c].want);
            free(got);
            CHECK_MSG(ok, "case %zu piece %zu", c, piece);
        }
}
