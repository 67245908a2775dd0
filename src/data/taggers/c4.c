/* c4.c — c4_v1 and c4_v2: C4's heuristics as Dolma measures them (spec §2.4). Per line of text.split("\n")
 * (span = the line plus its '\n'): no end punctuation after lower().strip() (. ? ! "), fewer than 3 words.
 * Per document: a naughty word (a whitespace token in the list's word set, or a list phrase as a substring of
 * the lowercased text), "javascript" (v1: a whole token; v2: a substring), "lorem ipsum", '{'; line_count.
 *
 * The 124 phrases are found in one pass over the lowercased text: a bitmap of their first three bytes picks
 * the positions worth comparing (the C4 README calls the naïve lookup the most expensive step). */
#include "data/taggers/c4_words.h"
#include "data/taggers/registry.h"

#include "base/error.h"
#include "base/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define C4_WORD_SLOTS 1024   /* > 2 x 279 words */

static struct {
    const char *words[C4_WORD_SLOTS];    /* open addressing by hash */
    uint16_t word_len[C4_WORD_SLOTS];
    const char *phrases[160];
    uint16_t phrase_len[160];
    int nphrases;
    uint8_t first3[8192];                /* bitmap over a 16-bit hash of a phrase's first three bytes */
    uint8_t first_byte[256];
    int ready;
} g_c4;

static uint32_t word_hash(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static unsigned prefix3(const unsigned char *s) { return ((s[0] * 31u + s[1]) * 31u + s[2]) & 0xFFFF; }

int tg_c4_setup(void) {
    if (g_c4.ready) return 0;
    for (const char *const *l = c4_naughty_lines; *l; l++) {
        size_t n = strlen(*l);
        if (strchr(*l, ' ')) {
            if (g_c4.nphrases >= 160 || n < 3) return olmo_err("c4 word list: unexpected phrase '%s'", *l);
            g_c4.phrases[g_c4.nphrases] = *l;
            g_c4.phrase_len[g_c4.nphrases++] = (uint16_t)n;
            g_c4.first3[prefix3((const unsigned char *)*l) >> 3] |= (uint8_t)(1u << (prefix3((const unsigned char *)*l) & 7));
            g_c4.first_byte[(unsigned char)(*l)[0]] = 1;
        } else {
            uint32_t slot = word_hash(*l, n) & (C4_WORD_SLOTS - 1);
            while (g_c4.words[slot]) slot = (slot + 1) & (C4_WORD_SLOTS - 1);
            g_c4.words[slot] = *l;
            g_c4.word_len[slot] = (uint16_t)n;
        }
    }
    g_c4.ready = 1;
    return 0;
}

static int is_naughty_word(const char *s, size_t n) {
    if (n > 64) return 0;
    uint32_t slot = word_hash(s, n) & (C4_WORD_SLOTS - 1);
    for (; g_c4.words[slot]; slot = (slot + 1) & (C4_WORD_SLOTS - 1))
        if (g_c4.word_len[slot] == n && !memcmp(g_c4.words[slot], s, n)) return 1;
    return 0;
}

static int has_phrase(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i + 3 <= n; i++) {
        if (!g_c4.first_byte[u[i]]) continue;
        unsigned h = prefix3(u + i);
        if (!(g_c4.first3[h >> 3] & (1u << (h & 7)))) continue;
        for (int p = 0; p < g_c4.nphrases; p++)
            if (g_c4.phrase_len[p] <= n - i && !memcmp(g_c4.phrases[p], s + i, g_c4.phrase_len[p])) return 1;
    }
    return 0;
}

/* Flags of line i: bit 0 no end punctuation, bit 1 fewer than 3 words. */
static int line_flags(const struct tag_text *t, const struct tag_range *l) {
    size_t a, b;
    tag_strip(t->text, l->start, l->end, &a, &b);
    char last = b > a ? t->text[b - 1] : 0;
    int f = !(last == '.' || last == '?' || last == '!' || last == '"');
    int words = 0, in = 0;   /* whitespace tokens of the line, counted up to 3 */
    for (size_t k = l->start; k < l->end && words < 3;) {
        int sp = tag_is_space(tag_utf8_next(t->text, l->end, &k));
        if (!sp && !in) words++;
        in = !sp;
    }
    return f | (words < 3) << 1;
}

int tg_c4(const struct tagger *tg, struct tag_text *t, struct tag_result *out) {
    int v2 = tg->variant == 2;
    size_t llen;
    const char *low = tag_text_lower(t, &llen);
    if (!low) return -1;
    size_t nl;
    const struct tag_range *l = tag_text_lines(t, &nl);
    if (!l) return -1;
    /* document rules on the lowercased text: tokens split at whitespace */
    int naughty = 0, javascript = 0;
    for (size_t i = 0; i < llen && !(naughty && (v2 || javascript));) {
        size_t j = i;
        if (tag_is_space(tag_utf8_next(low, llen, &j))) { i = j; continue; }
        size_t s = i;
        while (i < llen) {
            j = i;
            if (tag_is_space(tag_utf8_next(low, llen, &j))) break;
            i = j;
        }
        if (!naughty && is_naughty_word(low + s, i - s)) naughty = 1;
        if (!v2 && i - s == 10 && !memcmp(low + s, "javascript", 10)) javascript = 1;
    }
    if (!naughty) naughty = has_phrase(low, llen);
    if (v2) javascript = memmem(low, llen, "javascript", 10) != NULL;
    int lorem = memmem(low, llen, "lorem ipsum", 11) != NULL;
    int curly = memchr(low, '{', llen) != NULL;
    int rc = 0;
    /* Span order is Dolma's (it decides the order of the keys): v2 emits the document flags, then per line
     * "no punctuation" and "too few words" interleaved; v1 all of the first, all of the second, then flags.
     * Line offsets are on the original text (Dolma's v2 uses the lowercased one: the same unless lowercasing
     * changes a length, as for U+0130). */
    if (v2) {
        if (curly) rc |= tag_emit(out, "has_curly_brace", 0, t->len, 1.0);
        if (lorem) rc |= tag_emit(out, "has_lorem_ipsum", 0, t->len, 1.0);
        if (javascript) rc |= tag_emit(out, "has_javascript", 0, t->len, 1.0);
        if (naughty) rc |= tag_emit(out, "has_naughty_word", 0, t->len, 1.0);
        for (size_t i = 0; i < nl; i++) {
            int f = line_flags(t, &l[i]);
            size_t end = i + 1 < nl ? l[i].end + 1 : l[i].end;
            if (f & 1) rc |= tag_emit(out, "lines_with_no_ending_punctuation", l[i].start, end, 1.0);
            if (f & 2) rc |= tag_emit(out, "lines_with_too_few_words", l[i].start, end, 1.0);
        }
    } else {
        for (int pass = 1; pass <= 2; pass++)
            for (size_t i = 0; i < nl; i++) {
                size_t end = i + 1 < nl ? l[i].end + 1 : l[i].end;
                if (line_flags(t, &l[i]) & pass)
                    rc |= tag_emit(out, pass == 1 ? "lines_with_no_ending_punctuation" : "lines_with_too_few_words",
                                   l[i].start, end, 1.0);
            }
        if (naughty) rc |= tag_emit(out, "has_naughty_word", 0, t->len, 1.0);
        if (javascript) rc |= tag_emit(out, "has_javascript", 0, t->len, 1.0);
        if (lorem) rc |= tag_emit(out, "has_lorem_ipsum", 0, t->len, 1.0);
        if (curly) rc |= tag_emit(out, "has_curly_brace", 0, t->len, 1.0);
    }
    rc |= tag_emit(out, "line_count", 0, t->len, (double)nl);
    return rc ? -1 : 0;
}
