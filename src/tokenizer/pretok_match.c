/* pretok_match.c — the hand-written matchers for the two regexes OLMo's tokenizers split with, and GPT-2's
 * byte <-> character map (see pretokenize.h).
 *
 * Each matcher returns the length of the regex match that starts at a given position, following the regex's
 * backtracking semantics alternative by alternative (the comments name the alternative each branch implements).
 * Both patterns match at every position, so the matches partition the text. They are the hot path of encoding:
 * ~3x faster than PCRE2 JIT running the same regex (bench/bench_tokenizer.c), and checked against it on random
 * text (tests/test_tokenizer.c) and by the fuzzer (fuzz/fuzz_tokenizer.c). */
#include "tokenizer/pretok_internal.h"
#include "tokenizer/unicode.h"

#include <string.h>

const char PRETOK_GPT2_REGEX[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const char PRETOK_CL100K_REGEX[] = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
                                   "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/* ---------------------------------------------------------------- hand-written matchers */

/* End of the run of characters of class cls starting at i. */
static inline size_t run_of(const uint8_t *s, size_t len, size_t i, int cls) {
    while (i < len) {
        int n;
        if (uc_class_at(s, len, i, &n) != cls) break;
        i += (size_t)n;
    }
    return i;
}

/* Whitespace run from i (s[i] is whitespace): returns its end; *last gets the start of its last character and
 * *count_ge2 whether it has at least two characters. */
static inline size_t ws_run(const uint8_t *s, size_t len, size_t i, size_t *last, int *count_ge2) {
    size_t j = i, prev = i;
    int count = 0;
    while (j < len) {
        int n;
        if (uc_class_at(s, len, j, &n) != UC_WS) break;
        prev = j;
        j += (size_t)n;
        count++;
    }
    *last = prev;
    *count_ge2 = count >= 2;
    return j;
}

size_t pretok_gpt2_match(const uint8_t *s, size_t len, size_t i) {
    uint8_t c0 = s[i];
    /* 's|'t|'re|'ve|'m|'ll|'d  (case-sensitive) */
    if (c0 == '\'' && i + 1 < len) {
        uint8_t c1 = s[i + 1];
        if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
        if (i + 2 < len) {
            uint8_t c2 = s[i + 2];
            if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
        }
    }
    int n0;
    int cls = uc_class_at(s, len, i, &n0);
    /* ' ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+' with the optional space taken */
    if (c0 == ' ' && i + 1 < len) {
        int n1;
        int cls1 = uc_class_at(s, len, i + 1, &n1);
        if (cls1 != UC_WS) return run_of(s, len, i + 1 + (size_t)n1, cls1) - i;
    }
    /* the same without the space */
    if (cls != UC_WS) return run_of(s, len, i + (size_t)n0, cls) - i;
    /* \s+(?!\S) : the whole run at the end of the text, else the run minus its last character (needs >= 2);
     * \s+ : a single whitespace character before a non-space */
    size_t last;
    int ge2;
    size_t j = ws_run(s, len, i, &last, &ge2);
    if (j == len || !ge2) return j - i;
    return last - i;
}

static inline int is_ci(uint8_t c, char lower) { return (c | 0x20) == (uint8_t)lower; }

size_t pretok_cl100k_match(const uint8_t *s, size_t len, size_t i) {
    uint8_t c0 = s[i];
    /* (?i:'s|'t|'re|'ve|'m|'ll|'d) — Unicode case folding adds U+017F LATIN SMALL LETTER LONG S for 's' */
    if (c0 == '\'' && i + 1 < len) {
        uint8_t c1 = s[i + 1];
        if (is_ci(c1, 's') || is_ci(c1, 't') || is_ci(c1, 'm') || is_ci(c1, 'd')) return 2;
        if (c1 == 0xC5 && i + 2 < len && s[i + 2] == 0xBF) return 3;
        if (i + 2 < len) {
            uint8_t c2 = s[i + 2];
            if ((is_ci(c1, 'r') && is_ci(c2, 'e')) || (is_ci(c1, 'v') && is_ci(c2, 'e')) ||
                (is_ci(c1, 'l') && is_ci(c2, 'l')))
                return 3;
        }
    }
    int n0;
    int cls = uc_class_at(s, len, i, &n0);
    /* [^\r\n\p{L}\p{N}]?\p{L}+ */
    if (cls == UC_L) return run_of(s, len, i + (size_t)n0, UC_L) - i;
    if (cls != UC_N && c0 != '\r' && c0 != '\n' && i + (size_t)n0 < len) {
        int n1;
        if (uc_class_at(s, len, i + (size_t)n0, &n1) == UC_L)
            return run_of(s, len, i + (size_t)n0 + (size_t)n1, UC_L) - i;
    }
    /* \p{N}{1,3} */
    if (cls == UC_N) {
        size_t j = i + (size_t)n0;
        for (int k = 1; k < 3 && j < len; k++) {
            int n;
            if (uc_class_at(s, len, j, &n) != UC_N) break;
            j += (size_t)n;
        }
        return j - i;
    }
    /* ' ?[^\s\p{L}\p{N}]+[\r\n]*' */
    size_t j = 0;
    if (cls == UC_OTHER) j = run_of(s, len, i + (size_t)n0, UC_OTHER);
    else if (c0 == ' ' && i + 1 < len) {
        int n1;
        if (uc_class_at(s, len, i + 1, &n1) == UC_OTHER) j = run_of(s, len, i + 1 + (size_t)n1, UC_OTHER);
    }
    if (j) {
        while (j < len && (s[j] == '\r' || s[j] == '\n')) j++;
        return j - i;
    }
    /* cls == UC_WS here. \s*[\r\n]+ : up to and including the last \r or \n of the whitespace run */
    size_t last;
    int ge2;
    size_t end = ws_run(s, len, i, &last, &ge2);
    for (size_t q = end; q > i; q--)
        if (s[q - 1] == '\r' || s[q - 1] == '\n') return q - i;
    /* \s+(?!\S) | \s+ */
    if (end == len || !ge2) return end - i;
    return last - i;
}

/* ---------------------------------------------------------------- byte <-> char map */

static int is_printable_byte(unsigned b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE; }

uint32_t pretok_byte_to_char(uint8_t b) {
    if (is_printable_byte(b)) return b;
    /* The 68 other bytes map, in increasing order, to U+0100, U+0101, ... */
    uint32_t k = 0;
    for (unsigned x = 0; x < b; x++)
        if (!is_printable_byte(x)) k++;
    return 0x100 + k;
}

int pretok_char_to_byte(uint32_t c) {
    if (c < 0x100) return is_printable_byte(c) ? (int)c : -1;
    if (c >= 0x100 + 68) return -1;
    uint32_t k = c - 0x100;
    for (unsigned x = 0; x < 256; x++)
        if (!is_printable_byte(x) && k-- == 0) return (int)x;
    return -1;
}
