/* unicode.c — character-class tables, normalization and lossy UTF-8 decoding for the tokenizer (see unicode.h).
 *
 * The class table is two-stage (code point >> 8 selects a 256-entry block, identical blocks shared), built once
 * from utf8proc's general categories, so the pre-tokenizer's hot loop does two loads per non-ASCII character
 * instead of a library call. The same start-up pass marks the code points NFC could change (uc_nfc_unsafe). */
#include "tokenizer/unicode.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

uint8_t uc_ascii_class[128];
static uint16_t stage1[0x110000 >> 8];
static uint8_t *stage2;   /* n_blocks * 256 */
static pthread_once_t once = PTHREAD_ONCE_INIT;

int uc_is_white_space(uint32_t c) {
    /* Unicode White_Space (PropList.txt): what Oniguruma / Rust regex mean by \s in Unicode mode. */
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

static int class_slow(uint32_t c) {
    if (uc_is_white_space(c)) return UC_WS;
    switch (utf8proc_category((utf8proc_int32_t)c)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
        return UC_L;
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return UC_N;
    default:
        return UC_OTHER;
    }
}

#define MAX_BLOCKS 1024
static uint8_t blocks[MAX_BLOCKS * 256];
#define SLOW_BLOCK 0xFFFF   /* more distinct blocks than MAX_BLOCKS (never with real Unicode data) */

/* Code points that may change under NFC or combine with what precedes them (NFC_Quick_Check No or Maybe, or a
 * non-zero combining class): those with a combining class, those whose NFC differs, and every code point that
 * occurs after the first position of some canonical decomposition (possible second elements of a
 * composition, including the algorithmic Hangul vowels and trailing consonants). */
static uint8_t *nfc_unsafe;   /* bitmap over 0..0x10FFFF, built with the class table */
#define NFC_UNSAFE_BIT 4

static void mark_unsafe(uint32_t c) { nfc_unsafe[c >> 3] |= (uint8_t)(1u << (c & 7)); }

static void build_nfc_unsafe(void) {
    static uint8_t bits[0x110000 / 8];
    nfc_unsafe = bits;
    for (uint32_t c = 0x300; c < 0x30000; c++) {
        const utf8proc_property_t *pr = utf8proc_get_property((utf8proc_int32_t)c);
        if (pr->combining_class) mark_unsafe(c);
        utf8proc_int32_t d[8];
        int bc = 0;
        utf8proc_ssize_t n = utf8proc_decompose_char((utf8proc_int32_t)c, d, 8, UTF8PROC_DECOMPOSE, &bc);
        if (n < 0 || n > 8) { mark_unsafe(c); continue; }
        if (n != 1 || (uint32_t)d[0] != c) {
            mark_unsafe(c);   /* has a canonical decomposition: NFC may map it elsewhere (singletons, exclusions) */
            for (utf8proc_ssize_t k = 1; k < n; k++) mark_unsafe((uint32_t)d[k]);
        }
    }
    for (uint32_t c = 0x1161; c <= 0x1175; c++) mark_unsafe(c);   /* Hangul V */
    for (uint32_t c = 0x11A8; c <= 0x11C2; c++) mark_unsafe(c);   /* Hangul T */
}

static void build(void) {
    build_nfc_unsafe();
    for (uint32_t c = 0; c < 128; c++) uc_ascii_class[c] = (uint8_t)class_slow(c);
    size_t nb = 0;
    uint8_t cur[256];
    for (uint32_t hi = 0; hi < (0x110000 >> 8); hi++) {
        for (uint32_t lo = 0; lo < 256; lo++) cur[lo] = (uint8_t)class_slow((hi << 8) | lo);
        size_t b;
        for (b = 0; b < nb; b++)
            if (!memcmp(blocks + b * 256, cur, 256)) break;
        if (b == nb) {
            if (nb == MAX_BLOCKS) { stage1[hi] = SLOW_BLOCK; continue; }
            memcpy(blocks + (nb++) * 256, cur, 256);
        }
        stage1[hi] = (uint16_t)b;
    }
    __atomic_store_n(&stage2, blocks, __ATOMIC_RELEASE);
}

void uc_init(void) { pthread_once(&once, build); }

int uc_class_cp(uint32_t cp) {
    if (cp >= 0x110000) return UC_OTHER;
    if (!__atomic_load_n(&stage2, __ATOMIC_ACQUIRE)) uc_init();
    uint16_t b = stage1[cp >> 8];
    if (b == SLOW_BLOCK) return class_slow(cp);
    return stage2[(size_t)b * 256 + (cp & 0xFF)];
}

int uc_is_word_char(uint32_t c) {
    if (c == UC_INVALID) return 0;
    if (c == '_' || c == 0x200C || c == 0x200D) return 1;
    switch (utf8proc_category((utf8proc_int32_t)c)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO: case UTF8PROC_CATEGORY_PC:
        return 1;
    default:
        return 0;
    }
}

int uc_encode(uint32_t cp, char *out) {
    uint8_t *o = (uint8_t *)out;
    if (cp < 0x80) { o[0] = (uint8_t)cp; return 1; }
    if (cp < 0x800) { o[0] = (uint8_t)(0xC0 | (cp >> 6)); o[1] = (uint8_t)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | (cp >> 12)); o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | (cp >> 18)); o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

int uc_nfc_unsafe(uint32_t cp) {
    if (cp >= 0x110000) return 0;
    if (!__atomic_load_n(&stage2, __ATOMIC_ACQUIRE)) uc_init();
    return (nfc_unsafe[cp >> 3] >> (cp & 7)) & 1;
}

int uc_norm_is_noop(enum uc_norm form, const char *s, size_t len) {
    /* Code points below U+0300 (lead byte < 0xCC) are NFC/NFD-stable and nothing below U+0300 composes with a
     * preceding character. The compatibility forms change some Latin-1 characters (U+00A0...), so they only
     * get the ASCII fast path. */
    const uint8_t *u = (const uint8_t *)s;
    if (form == UC_NORM_NFC) {
        /* NFC_Quick_Check: only the code points marked unsafe can change (invalid bytes are kept anyway) */
        for (size_t i = 0; i < len;) {
            if (u[i] < 0xCC) { i++; continue; }
            int n;
            uint32_t c = uc_decode(u + i, len - i, &n);
            if (c != UC_INVALID && uc_nfc_unsafe(c)) return 0;
            i += (size_t)n;
        }
        return 1;
    }
    uint8_t limit = form == UC_NORM_NFD ? 0xC3 : 0x80;   /* NFD: U+00C0.. decompose */
    for (size_t i = 0; i < len; i++)
        if (u[i] >= limit) return 0;
    return 1;
}

static int norm_options(enum uc_norm form) {
    switch (form) {
    case UC_NORM_NFC: return UTF8PROC_STABLE | UTF8PROC_COMPOSE;
    case UC_NORM_NFD: return UTF8PROC_STABLE | UTF8PROC_DECOMPOSE;
    case UC_NORM_NFKC: return UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
    default: return UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT;
    }
}

/* Appends bytes to a growing buffer. */
static int put(char **buf, size_t *n, size_t *cap, const void *p, size_t k) {
    if (*n + k + 1 > *cap) {
        size_t nc = (*cap ? *cap * 2 : 64);
        while (nc < *n + k + 1) nc *= 2;
        char *nb = realloc(*buf, nc);
        if (!nb) return -1;
        *buf = nb;
        *cap = nc;
    }
    memcpy(*buf + *n, p, k);
    *n += k;
    (*buf)[*n] = 0;
    return 0;
}

char *uc_normalize(enum uc_norm form, const char *s, size_t len, size_t *out_len) {
    char *out = NULL;
    size_t n = 0, cap = 0;
    if (put(&out, &n, &cap, "", 0)) return NULL;
    const uint8_t *u = (const uint8_t *)s;
    size_t i = 0;
    while (i < len) {
        /* A run of valid UTF-8 (without NUL, which utf8proc treats specially), then invalid bytes as they are. */
        size_t j = i;
        int k;
        while (j < len && u[j] != 0 && uc_decode(u + j, len - j, &k) != UC_INVALID) j += (size_t)k;
        if (j > i) {
            if (uc_norm_is_noop(form, s + i, j - i)) {
                if (put(&out, &n, &cap, s + i, j - i)) goto oom;
            } else {
                utf8proc_uint8_t *r = NULL;
                utf8proc_ssize_t rl = utf8proc_map(u + i, (utf8proc_ssize_t)(j - i), &r, norm_options(form));
                if (rl < 0) {   /* cannot happen on valid UTF-8 but for memory; keep the text */
                    free(r);
                    if (put(&out, &n, &cap, s + i, j - i)) goto oom;
                } else {
                    int e = put(&out, &n, &cap, r, (size_t)rl);
                    free(r);
                    if (e) goto oom;
                }
            }
            i = j;
        }
        while (i < len && (u[i] == 0 || uc_decode(u + i, len - i, &k) == UC_INVALID)) {
            if (put(&out, &n, &cap, s + i, 1)) goto oom;
            i++;
        }
    }
    *out_len = n;
    return out;
oom:
    free(out);
    return NULL;
}

char *uc_utf8_lossy(const uint8_t *s, size_t len, size_t *out_len) {
    /* Worst case every byte becomes U+FFFD (3 bytes). */
    char *out = malloc(len * 3 + 1);
    if (!out) return NULL;
    size_t o = 0, i = 0;
    while (i < len) {
        int n;
        if (uc_decode(s + i, len - i, &n) != UC_INVALID) {
            memcpy(out + o, s + i, (size_t)n);
            o += (size_t)n;
            i += (size_t)n;
            continue;
        }
        /* Length of the maximal prefix of a well-formed sequence (Unicode "maximal subpart"), at least 1. */
        uint8_t c = s[i];
        size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2, k = 1;
        if (c >= 0xC2 && c <= 0xF4) {
            uint8_t lo = 0x80, hi = 0xBF;
            if (c == 0xE0) lo = 0xA0;
            else if (c == 0xED) hi = 0x9F;
            else if (c == 0xF0) lo = 0x90;
            else if (c == 0xF4) hi = 0x8F;
            if (i + 1 < len && s[i + 1] >= lo && s[i + 1] <= hi) {
                k = 2;
                while (k < need && i + k < len && (s[i + k] & 0xC0) == 0x80) k++;
            }
        }
        memcpy(out + o, "\xEF\xBF\xBD", 3);
        o += 3;
        i += k;
    }
    out[o] = 0;
    *out_len = o;
    return out;
}
