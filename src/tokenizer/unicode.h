/* unicode.h — the small Unicode toolbox the tokenizer needs: UTF-8 decoding that tolerates invalid bytes, the
 * character classes of the pre-tokenizer regexes (\p{L}, \p{N}, \s = White_Space) from a table built once from
 * utf8proc, normalization forms (utf8proc), and Rust's from_utf8_lossy replacement rule for decoding. */
#ifndef OLMO_TOKENIZER_UNICODE_H
#define OLMO_TOKENIZER_UNICODE_H

#include <stddef.h>
#include <stdint.h>

/* Character classes. Exactly one of L / N / WS / OTHER; invalid UTF-8 bytes are OTHER. */
enum { UC_OTHER = 0, UC_L = 1, UC_N = 2, UC_WS = 3 };
#define UC_INVALID 0xFFFFFFFFu

extern uint8_t uc_ascii_class[128];
void uc_init(void);   /* builds the tables (thread-safe, idempotent); called by the loaders */
int uc_class_cp(uint32_t cp);   /* class of a code point (UC_INVALID -> UC_OTHER) */
int uc_is_white_space(uint32_t cp);
int uc_is_word_char(uint32_t cp);   /* regex \w: letters, marks, numbers, connector punctuation */

/* Decodes one character at s[0..avail) (avail >= 1). Returns its code point, or UC_INVALID for a byte that does
 * not start a well-formed UTF-8 sequence; *n gets the bytes consumed (1 for an invalid byte). */
static inline uint32_t uc_decode(const uint8_t *s, size_t avail, int *n) {
    uint8_t c = s[0];
    if (c < 0x80) { *n = 1; return c; }
    *n = 1;
    if (c < 0xC2) return UC_INVALID;
    if (c < 0xE0) {
        if (avail < 2 || (s[1] & 0xC0) != 0x80) return UC_INVALID;
        *n = 2;
        return ((uint32_t)(c & 0x1F) << 6) | (s[1] & 0x3F);
    }
    if (c < 0xF0) {
        if (avail < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return UC_INVALID;
        if (c == 0xE0 && s[1] < 0xA0) return UC_INVALID;   /* overlong */
        if (c == 0xED && s[1] > 0x9F) return UC_INVALID;   /* surrogate */
        *n = 3;
        return ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    }
    if (c < 0xF5) {
        if (avail < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return UC_INVALID;
        if (c == 0xF0 && s[1] < 0x90) return UC_INVALID;
        if (c == 0xF4 && s[1] > 0x8F) return UC_INVALID;
        *n = 4;
        return ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) | ((uint32_t)(s[2] & 0x3F) << 6) |
               (s[3] & 0x3F);
    }
    return UC_INVALID;
}

/* Class of the character at s[i] (i < len); *n gets its byte length. */
static inline int uc_class_at(const uint8_t *s, size_t len, size_t i, int *n) {
    if (s[i] < 0x80) { *n = 1; return uc_ascii_class[s[i]]; }
    return uc_class_cp(uc_decode(s + i, len - i, n));
}

/* Writes cp as UTF-8 into out (>= 4 bytes); returns the byte count. */
int uc_encode(uint32_t cp, char *out);

/* Normalization forms for the tokenizer's normalizer. */
enum uc_norm { UC_NORM_NFC, UC_NORM_NFD, UC_NORM_NFKC, UC_NORM_NFKD };
/* Normalizes s[0..len) into a new buffer (caller frees), *out_len its length. Invalid UTF-8 bytes are copied
 * unchanged and split the text into separately normalized runs. Returns NULL on allocation failure. */
char *uc_normalize(enum uc_norm form, const char *s, size_t len, size_t *out_len);
/* 1 when s is certainly unchanged by the form (NFC: a quick check per code point; the others: ASCII only). */
int uc_norm_is_noop(enum uc_norm form, const char *s, size_t len);
/* 1 if NFC may change cp or combine it with the preceding character. */
int uc_nfc_unsafe(uint32_t cp);

/* Rust String::from_utf8_lossy: each maximal invalid subsequence becomes U+FFFD. Returns a new NUL-terminated
 * buffer (caller frees), its length in *out_len. */
char *uc_utf8_lossy(const uint8_t *s, size_t len, size_t *out_len);

#endif
