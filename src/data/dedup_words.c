/* dedup_words.c — UAX #29 word boundaries (the rules that matter for text: WB3-WB13b, with Extend/Format absorbed
 * per WB4), character classes from utf8proc's general categories plus the few code-point lists the standard
 * names. Ideographs, Hiragana and other scripts without ALetter break per character, as the standard does.
 * Close to, not a byte-exact copy of, unicode-segmentation 1.11 (its tables are Unicode 15): emoji ZWJ sequences
 * and regional-indicator pairs are split per code point here. */
#include "data/dedup_words.h"

#include <stdlib.h>
#include <utf8proc.h>

enum wb { WB_OTHER, WB_CR, WB_LF, WB_NEWLINE, WB_EXTEND, WB_FORMAT, WB_KATAKANA, WB_ALETTER, WB_MIDLETTER,
          WB_MIDNUM, WB_MIDNUMLET, WB_SQUOTE, WB_DQUOTE, WB_NUMERIC, WB_EXTENDNUMLET, WB_WSEG, WB_HEBREW };

static enum wb wb_class(int32_t c) {
    if (c < 0x80) {
        if (c == '\r') return WB_CR;
        if (c == '\n') return WB_LF;
        if (c == 0x0B || c == 0x0C) return WB_NEWLINE;
        if (c == ' ') return WB_WSEG;
        if (c == '\'') return WB_SQUOTE;
        if (c == '"') return WB_DQUOTE;
        if (c == '.') return WB_MIDNUMLET;
        if (c == ':') return WB_MIDLETTER;
        if (c == ',' || c == ';') return WB_MIDNUM;
        if (c == '_') return WB_EXTENDNUMLET;
        if (c >= '0' && c <= '9') return WB_NUMERIC;
        if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return WB_ALETTER;
        return WB_OTHER;
    }
    switch (c) {
    case 0x85: case 0x2028: case 0x2029: return WB_NEWLINE;
    case 0xB7: case 0x387: case 0x5F4: case 0x2027: case 0xFE13: case 0xFE55: case 0xFF1A: return WB_MIDLETTER;
    case 0x2018: case 0x2019: case 0x2024: case 0xFE52: case 0xFF07: case 0xFF0E: return WB_MIDNUMLET;
    case 0x37E: case 0x589: case 0x60C: case 0x60D: case 0x66C: case 0x7F8: case 0x2044: case 0xFE10: case 0xFE14:
    case 0xFE50: case 0xFE54: case 0xFF0C: case 0xFF1B: return WB_MIDNUM;
    case 0x202F: case 0x203F: case 0x2040: case 0x2054: case 0xFE33: case 0xFE34: case 0xFE4D: case 0xFE4E:
    case 0xFE4F: case 0xFF3F: return WB_EXTENDNUMLET;
    case 0x200D: return WB_EXTEND;
    }
    if (c >= 0x30A0 && c <= 0x30FF && c != 0x30FB) return WB_KATAKANA;
    if (c >= 0x31F0 && c <= 0x31FF) return WB_KATAKANA;
    if (c >= 0xFF66 && c <= 0xFF9F) return WB_KATAKANA;
    if (c >= 0x5D0 && c <= 0x5EA) return WB_HEBREW;
    utf8proc_category_t cat = utf8proc_category(c);
    switch (cat) {
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_MC: return WB_EXTEND;
    case UTF8PROC_CATEGORY_CF: return WB_FORMAT;
    case UTF8PROC_CATEGORY_ND: return WB_NUMERIC;
    case UTF8PROC_CATEGORY_ZS: return c == 0xA0 || c == 0x2007 ? WB_OTHER : WB_WSEG;
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_NL:
        /* Ideographic, Hiragana and the South-East Asian scripts are not ALetter: one segment per character. */
        if ((c >= 0x3040 && c <= 0x309F) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF) ||
            (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x3FFFF) || (c >= 0x0E00 && c <= 0x0EFF) ||
            (c >= 0x1000 && c <= 0x109F) || (c >= 0x1780 && c <= 0x17FF))
            return WB_OTHER;
        return WB_ALETTER;
    default: return WB_OTHER;
    }
}

static int is_space_cp(int32_t c) {
    if (c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
        c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000)
        return 1;
    return 0;
}

static int ahletter(enum wb c) { return c == WB_ALETTER || c == WB_HEBREW; }
static int midletq(enum wb c) { return c == WB_MIDLETTER || c == WB_MIDNUMLET || c == WB_SQUOTE; }
static int midnumq(enum wb c) { return c == WB_MIDNUM || c == WB_MIDNUMLET || c == WB_SQUOTE; }

struct cp {
    int32_t c;
    size_t off, len;
    enum wb k;
};

/* The class of the next code point at or after j that is not Extend/Format (WB4), or WB_OTHER at the end. */
static enum wb next_real(const struct cp *v, size_t n, size_t j) {
    while (j < n && (v[j].k == WB_EXTEND || v[j].k == WB_FORMAT)) j++;
    return j < n ? v[j].k : WB_OTHER;
}

long dedup_words(const char *s, size_t len, struct dword **out, size_t *cap) {
    /* decode once */
    size_t ncp = 0, vcap = len + 1;
    struct cp *v = malloc(vcap * sizeof *v);
    if (!v) return -1;
    for (size_t p = 0; p < len;) {
        utf8proc_int32_t c;
        utf8proc_ssize_t l = utf8proc_iterate((const utf8proc_uint8_t *)s + p, len - p, &c);
        if (l <= 0) { c = 0xFFFD; l = 1; }
        v[ncp] = (struct cp){c, p, (size_t)l, wb_class(c)};
        ncp++;
        p += l;
    }
    long nw = 0;
    size_t seg = 0;
    enum wb prev = WB_OTHER, prev2 = WB_OTHER; /* classes of the last two non-Extend code points */
    for (size_t i = 0; i <= ncp; i++) {
        int brk;
        if (i == 0) {
            brk = 0;
        } else if (i == ncp) {
            brk = 1;
        } else {
            enum wb a = v[i - 1].k, b = v[i].k;
            if (a == WB_CR && b == WB_LF) brk = 0;                                         /* WB3 */
            else if (a == WB_CR || a == WB_LF || a == WB_NEWLINE) brk = 1;                 /* WB3a */
            else if (b == WB_CR || b == WB_LF || b == WB_NEWLINE) brk = 1;                 /* WB3b */
            else if (a == WB_WSEG && b == WB_WSEG) brk = 0;                                /* WB3d */
            else if (b == WB_EXTEND || b == WB_FORMAT) brk = 0;                           /* WB4 (ZWJ is Extend) */
            else {
                enum wb L = prev, R = b, R2 = next_real(v, ncp, i + 1);
                if (ahletter(L) && ahletter(R)) brk = 0;                                   /* WB5 */
                else if (ahletter(L) && midletq(R) && ahletter(R2)) brk = 0;               /* WB6 */
                else if (ahletter(prev2) && midletq(L) && ahletter(R)) brk = 0;            /* WB7 */
                else if (L == WB_HEBREW && R == WB_SQUOTE) brk = 0;                        /* WB7a */
                else if (L == WB_NUMERIC && R == WB_NUMERIC) brk = 0;                      /* WB8 */
                else if (ahletter(L) && R == WB_NUMERIC) brk = 0;                          /* WB9 */
                else if (L == WB_NUMERIC && ahletter(R)) brk = 0;                          /* WB10 */
                else if (prev2 == WB_NUMERIC && midnumq(L) && R == WB_NUMERIC) brk = 0;    /* WB11 */
                else if (L == WB_NUMERIC && midnumq(R) && R2 == WB_NUMERIC) brk = 0;       /* WB12 */
                else if (L == WB_KATAKANA && R == WB_KATAKANA) brk = 0;                    /* WB13 */
                else if ((ahletter(L) || L == WB_NUMERIC || L == WB_KATAKANA || L == WB_EXTENDNUMLET) &&
                         R == WB_EXTENDNUMLET) brk = 0;                                    /* WB13a */
                else if (L == WB_EXTENDNUMLET && (ahletter(R) || R == WB_NUMERIC || R == WB_KATAKANA)) brk = 0; /* WB13b */
                else brk = 1;                                                              /* WB999 */
            }
        }
        if (brk) {
            /* close [seg, i): keep it unless every code point is whitespace */
            int all_ws = 1;
            for (size_t j = seg; j < i && all_ws; j++) all_ws = is_space_cp(v[j].c);
            if (!all_ws) {
                if ((size_t)nw == *cap) {
                    size_t nc = *cap ? 2 * *cap : 64;
                    struct dword *no = realloc(*out, nc * sizeof *no);
                    if (!no) { free(v); return -1; }
                    *out = no;
                    *cap = nc;
                }
                size_t end = i < ncp ? v[i].off : len;
                (*out)[nw++] = (struct dword){v[seg].off, end - v[seg].off};
            }
            seg = i;
        }
        if (i < ncp && v[i].k != WB_EXTEND && v[i].k != WB_FORMAT) {
            /* after a hard break (WB3*) the rules restart; keep the last two real classes */
            prev2 = prev;
            prev = v[i].k;
        }
    }
    free(v);
    return nw;
}
