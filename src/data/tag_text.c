/* tag_text.c — lazily computed word / line / paragraph splits of one document, with Python's Unicode
 * character classes (see tag_text.h). ASCII bytes take a table lookup; only non-ASCII goes through utf8proc. */
#include "data/tag_text.h"

#include "base/error.h"
#include "base/mem.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

uint32_t tag_utf8_next(const char *s, size_t len, size_t *i) {
    const unsigned char *u = (const unsigned char *)s + *i;
    size_t left = len - *i;
    uint32_t c = u[0];
    if (c < 0x80) { *i += 1; return c; }
    if (c < 0xE0 && left >= 2) { *i += 2; return ((c & 0x1F) << 6) | (u[1] & 0x3F); }
    if (c < 0xF0 && left >= 3) { *i += 3; return ((c & 0x0F) << 12) | ((u[1] & 0x3F) << 6) | (u[2] & 0x3F); }
    if (left >= 4) { *i += 4; return ((c & 0x07) << 18) | ((u[1] & 0x3F) << 12) | ((u[2] & 0x3F) << 6) | (u[3] & 0x3F); }
    *i += 1;   /* not reached on valid UTF-8 */
    return 0xFFFD;
}

int tag_is_space(uint32_t c) {
    if (c < 0x80) return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20);
    switch (c) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
        return 1;
    default:
        return c >= 0x2000 && c <= 0x200A;
    }
}

int tag_is_alpha(uint32_t c) {
    if (c < 0x80) return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
    utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)c);
    return k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO;
}

int tag_is_alnum(uint32_t c) {
    if (c < 0x80) return tag_is_alpha(c) || (c >= '0' && c <= '9');
    utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)c);
    return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) ||
           (k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO);
}

void tag_strip(const char *s, size_t start, size_t end, size_t *ostart, size_t *oend) {
    size_t i = start;
    while (i < end) {
        size_t j = i;
        if (!tag_is_space(tag_utf8_next(s, end, &j))) break;
        i = j;
    }
    size_t e = end;
    while (e > i) {
        size_t b = e - 1;
        while (b > i && ((unsigned char)s[b] & 0xC0) == 0x80) b--;
        size_t j = b;
        if (!tag_is_space(tag_utf8_next(s, end, &j))) break;
        e = b;
    }
    *ostart = i;
    *oend = e;
}

static int push_range(struct tag_range **v, size_t *n, size_t *cap, uint32_t s, uint32_t e, uint32_t ncp) {
    if (*n == *cap) {
        size_t nc = *cap ? 2 * *cap : 64;
        struct tag_range *nv = olmo_realloc(*v, nc * sizeof *nv);
        if (!nv) return -1;
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = (struct tag_range){s, e, ncp};
    return 0;
}

int tag_text_reset(struct tag_text *t, const char *text, size_t len) {
    if (len >= UINT32_MAX) return olmo_err("document text of %zu bytes: expected under 4 GiB", len);
    docs_cpmap_free(&t->cpmap);
    t->text = text;
    t->len = len;
    t->have_words = t->have_lines = t->have_paras = t->have_lower = 0;
    t->nwords = t->nlines = t->nparas = 0;
    if (docs_cpmap_init(&t->cpmap, text, len) != 0) return -1;
    t->ascii = t->cpmap.cp_at == NULL;
    t->ncp = t->ascii ? len : t->cpmap.cp_at[len];
    return 0;
}

void tag_text_free(struct tag_text *t) {
    docs_cpmap_free(&t->cpmap);
    free(t->words);
    free(t->lines);
    free(t->paras);
    free(t->lower);
    for (int i = 0; i < 4; i++) free(t->scratch[i].p);
    memset(t, 0, sizeof *t);
}

void *tag_text_scratch(struct tag_text *t, int slot, size_t bytes) {
    if (bytes > t->scratch[slot].cap) {
        size_t cap = bytes < 4096 ? 4096 : bytes + bytes / 2;
        void *p = olmo_realloc(t->scratch[slot].p, cap);
        if (!p) return NULL;
        t->scratch[slot].p = p;
        t->scratch[slot].cap = cap;
    }
    return t->scratch[slot].p;
}

/* ASCII whitespace as str.isspace() sees it: \t \n \v \f \r, 0x1C..0x1F, space. */
static const unsigned char k_ascii_space[128] = {
    [9] = 1, [10] = 1, [11] = 1, [12] = 1, [13] = 1, [28] = 1, [29] = 1, [30] = 1, [31] = 1, [32] = 1,
};

const struct tag_range *tag_text_words(struct tag_text *t, size_t *n) {
    if (!t->have_words) {
        const char *s = t->text;
        size_t i = 0, len = t->len;
        int in_word = 0;
        uint32_t ws = 0, wcp = 0;
        while (i < len) {
            unsigned char b = (unsigned char)s[i];
            size_t at = i;
            int sp;
            if (b < 0x80) {
                sp = k_ascii_space[b];
                i++;
            } else {
                sp = tag_is_space(tag_utf8_next(s, len, &i));
            }
            if (sp) {
                if (in_word && push_range(&t->words, &t->nwords, &t->cap_words, ws, (uint32_t)at, wcp)) return NULL;
                in_word = 0;
            } else {
                if (!in_word) { ws = (uint32_t)at; wcp = 0; in_word = 1; }
                wcp++;
            }
        }
        if (in_word && push_range(&t->words, &t->nwords, &t->cap_words, ws, (uint32_t)len, wcp)) return NULL;
        t->have_words = 1;
    }
    *n = t->nwords;
    return t->words;
}

const struct tag_range *tag_text_lines(struct tag_text *t, size_t *n) {
    if (!t->have_lines) {
        size_t start = 0;
        for (;;) {
            const char *nl = memchr(t->text + start, '\n', t->len - start);
            size_t end = nl ? (size_t)(nl - t->text) : t->len;
            uint32_t ncp = (uint32_t)(tag_text_cp(t, end) - tag_text_cp(t, start));
            if (push_range(&t->lines, &t->nlines, &t->cap_lines, (uint32_t)start, (uint32_t)end, ncp)) return NULL;
            if (!nl) break;
            start = end + 1;
        }
        t->have_lines = 1;
    }
    *n = t->nlines;
    return t->lines;
}

const struct tag_range *tag_text_paragraphs(struct tag_text *t, size_t *n) {
    if (!t->have_paras) {
        size_t start = 0;
        while (start < t->len) {
            const char *nl = memchr(t->text + start, '\n', t->len - start);
            size_t end = nl ? (size_t)(nl - t->text) + 1 : t->len;
            size_t a, b;
            tag_strip(t->text, start, end, &a, &b);
            if (b > a) {
                uint32_t ncp = (uint32_t)(tag_text_cp(t, end) - tag_text_cp(t, start));
                if (push_range(&t->paras, &t->nparas, &t->cap_paras, (uint32_t)start, (uint32_t)end, ncp)) return NULL;
            }
            start = end;
        }
        t->have_paras = 1;
    }
    *n = t->nparas;
    return t->paras;
}

const char *tag_text_lower(struct tag_text *t, size_t *len) {
    if (!t->have_lower) {
        size_t need = t->len * 2 + 4 + 1;   /* a lowercase code point is at most one byte longer */
        if (need > t->cap_lower) {
            char *nl = olmo_realloc(t->lower, need);
            if (!nl) return NULL;
            t->lower = nl;
            t->cap_lower = need;
        }
        size_t o = 0;
        for (size_t i = 0; i < t->len;) {
            unsigned char b = (unsigned char)t->text[i];
            if (b < 0x80) {
                t->lower[o++] = (char)(b >= 'A' && b <= 'Z' ? b + 32 : b);
                i++;
                continue;
            }
            uint32_t c = tag_utf8_next(t->text, t->len, &i);
            utf8proc_int32_t lc = utf8proc_tolower((utf8proc_int32_t)c);
            o += (size_t)utf8proc_encode_char(lc, (utf8proc_uint8_t *)t->lower + o);
        }
        t->lower[o] = 0;
        t->lower_len = o;
        t->have_lower = 1;
    }
    *len = t->lower_len;
    return t->lower;
}
