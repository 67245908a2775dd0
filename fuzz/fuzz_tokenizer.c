/* fuzz_tokenizer.c — libFuzzer target for the tokenizer: the tokenizer.json loader and the encoder.
 *
 * The first input byte picks what the rest is (mod 4):
 *   0  a tokenizer.json: load it; if it loads, encode/decode a fixed text and the input itself;
 *   1  text for a small synthetic tokenizer (byte-level BPE, NFC, added tokens, TemplateProcessing): the bytes
 *      of the tokens must equal NFC(text) (every byte has a token, so nothing may be lost);
 *      (lstrip/rstrip and add_prefix_space, which add or drop spaces by design, are reached through mode 0)
 *   2  text for dolma2 (../shared/data, or $OLMO_FUZZ_TOKENIZER; the synthetic one when absent): with no
 *      normalizer the token bytes must equal the text exactly, invalid UTF-8 included;
 *   3  text for the pre-tokenizers: on valid UTF-8 the hand-written GPT-2 / cl100k matchers must split exactly
 *      like PCRE2 running the same regexes (code points PCRE2's older Unicode tables don't know are left out).
 * A broken invariant calls __builtin_trap() so libFuzzer reports it with the input.
 * Build and run: `make fuzz` (FUZZ_SECONDS per target, default 60). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/pretok_internal.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

#include <jansson.h>
#include <pcre2.h>
#include <utf8proc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct olmo_tokenizer *synthetic, *real;
static int real_is_raw;   /* real tokenizer has no normalizer and all 256 byte tokens */
static struct pretok *hand[2], *pcre[2];
static pcre2_code *unassigned;       /* \p{Cn} in PCRE2's Unicode tables */
static pcre2_match_data *unassigned_md;

static char *synthetic_json(void) {
    json_t *vocab = json_object(), *merges = json_array();
    for (int b = 0; b < 256; b++) {
        char c[8] = {0};
        uc_encode(pretok_byte_to_char((uint8_t)b), c);
        json_object_set_new(vocab, c, json_integer(b));
    }
    const char *m[][3] = {{"\xc4\xa0", "t", "\xc4\xa0t"}, {"h", "e", "he"}, {"\xc4\xa0t", "he", "\xc4\xa0the"},
                          {"e", "r", "er"}, {"a", "a", "aa"}, {"aa", "aa", "aaaa"}, {"\xc4\xa0", "\xc4\xa0", "\xc4\xa0\xc4\xa0"}};
    for (int i = 0; i < 7; i++) {
        json_array_append_new(merges, json_pack("[s,s]", m[i][0], m[i][1]));
        json_object_set_new(vocab, m[i][2], json_integer(256 + i));
    }
    json_t *root = json_pack(
        "{s:s, s:[{s:i,s:s,s:b,s:b},{s:i,s:s,s:b,s:b,s:b},{s:i,s:s,s:b,s:b,s:b}], s:{s:s}, "
        "s:{s:s,s:[{s:s,s:{s:s},s:s,s:b},{s:s,s:b,s:b}]}, s:{s:s}, "
        "s:{s:s,s:[{s:{s:s,s:i}},{s:{s:s,s:i}}],s:{s:{s:s,s:[i],s:[s]}}}, s:{s:s,s:o,s:o}}",
        "version", "1.0",
        "added_tokens", "id", 300, "content", "<s>", "special", 1, "normalized", 0,
        "id", 301, "content", "  ", "special", 0, "normalized", 1, "lstrip", 0,
        "id", 302, "content", "cat", "special", 0, "normalized", 1, "single_word", 1,
        "normalizer", "type", "NFC",
        "pre_tokenizer", "type", "Sequence", "pretokenizers", "type", "Split", "pattern", "Regex",
        PRETOK_CL100K_REGEX, "behavior", "Isolated", "invert", 0, "type", "ByteLevel", "add_prefix_space", 0,
        "use_regex", 0,
        "decoder", "type", "ByteLevel",
        "post_processor", "type", "TemplateProcessing", "single", "SpecialToken", "id", "<s>", "type_id", 0,
        "Sequence", "id", "A", "type_id", 0, "special_tokens", "<s>", "id", "<s>", "ids", 300, "tokens", "<s>",
        "model", "type", "BPE", "vocab", vocab, "merges", merges);
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return s;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    char *js = synthetic_json();
    synthetic = js ? tok_load_json(js, strlen(js), "synthetic.json") : NULL;
    free(js);
    if (!synthetic) { fprintf(stderr, "fuzz_tokenizer: the synthetic tokenizer does not load\n"); abort(); }
    const char *p = getenv("OLMO_FUZZ_TOKENIZER");
    real = tok_load(p ? p : "../shared/data/tokenizers/allenai_dolma2.json");
    real_is_raw = real && !p;
    if (!real) fprintf(stderr, "fuzz_tokenizer: no dolma2 tokenizer; mode 2 uses the synthetic one\n");
    int ec;
    PCRE2_SIZE eo;
    unassigned = pcre2_compile((PCRE2_SPTR) "^\\p{Cn}$", PCRE2_ZERO_TERMINATED, PCRE2_UTF, &ec, &eo, NULL);
    unassigned_md = unassigned ? pcre2_match_data_create_from_pattern(unassigned, NULL) : NULL;
    if (!unassigned_md) abort();
    const char *re[2] = {PRETOK_GPT2_REGEX, PRETOK_CL100K_REGEX};
    for (int i = 0; i < 2; i++) {
        hand[i] = pretok_from_regex(re[i]);
        pcre[i] = pretok_from_regex_pcre2(re[i]);
        if (!hand[i] || !pcre[i]) abort();
    }
    return 0;
}

/* Concatenated token bytes of ids must equal want[0..wl). */
static void check_bytes(const struct olmo_tokenizer *t, const int32_t *ids, size_t n, const char *want, size_t wl) {
    size_t o = 0;
    char buf[256];
    for (size_t i = 0; i < n; i++) {
        int k = tok_token_bytes(t, ids[i], buf, sizeof buf);
        if (k < 0 || (size_t)k > sizeof buf || o + (size_t)k > wl || memcmp(want + o, buf, (size_t)k)) __builtin_trap();
        o += (size_t)k;
    }
    if (o != wl) __builtin_trap();
}

static void encode_decode(const struct olmo_tokenizer *t, const char *s, size_t n, int special) {
    int32_t *ids;
    size_t k;
    if (tok_encode(t, s, n, special, &ids, &k)) return;
    size_t dl;
    free(tok_decode(t, ids, k, special, &dl));
    free(ids);
}

/* Valid UTF-8 whose every code point is assigned in both Unicode versions at hand: PCRE2 10.42 knows Unicode 14,
 * utf8proc 2.8 (and HF `tokenizers`, checked) Unicode 15, whose new letters (e.g. CJK extension H) PCRE2 would
 * class as unassigned. */
static int comparable_utf8(const uint8_t *s, size_t n) {
    for (size_t i = 0; i < n;) {
        int k;
        uint32_t c = uc_decode(s + i, n - i, &k);
        if (c == UC_INVALID) return 0;
        int pcre_cn = pcre2_match(unassigned, s + i, (size_t)k, 0, 0, unassigned_md, NULL) >= 0;
        int u8p_cn = utf8proc_category((utf8proc_int32_t)c) == UTF8PROC_CATEGORY_CN;
        if (pcre_cn != u8p_cn) return 0;
        i += (size_t)k;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    int mode = data[0] % 4;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    if (mode == 0) {
        struct olmo_tokenizer *t = tok_load_json(s, n, "fuzz.json");
        if (t) {
            static const char text[] = "Hello <s> w\xc3\xb6rld \xff\xfe  don't\r\n\t 12345 <|endoftext|>";
            encode_decode(t, text, sizeof text - 1, 1);
            encode_decode(t, s, n < 4096 ? n : 4096, 0);
            int v = tok_vocab_size(t);
            for (int32_t id = -1; id <= v && id < 2000; id++) {
                char b[8];
                tok_token_bytes(t, id, b, sizeof b);
                tok_id_to_token(t, id);
                tok_is_special(t, id);
            }
            tok_free(t);
        }
    } else if (mode == 1 || mode == 2) {
        const struct olmo_tokenizer *t = mode == 2 && real ? real : synthetic;
        int32_t *ids;
        size_t k;
        if (tok_encode(t, s, n, 0, &ids, &k)) return 0;
        if (t == synthetic) {
            size_t el;
            char *exp = uc_normalize(UC_NORM_NFC, s, n, &el);
            if (exp) check_bytes(t, ids, k, exp, el);   /* every byte has a token: nothing may be lost */
            free(exp);
        } else if (real_is_raw) {
            check_bytes(t, ids, k, s, n);
        }
        size_t dl;
        free(tok_decode(t, ids, k, 0, &dl));
        free(ids);
    } else if (comparable_utf8((const uint8_t *)s, n)) {
        for (int r = 0; r < 2; r++) {
            struct pretok_piece *a = NULL, *b = NULL;
            size_t na = 0, nb = 0, ca = 0, cb = 0;
            if (pretok_split(hand[r], s, n, &a, &na, &ca) || pretok_split(pcre[r], s, n, &b, &nb, &cb)) __builtin_trap();
            if (na != nb) __builtin_trap();
            for (size_t i = 0; i < na; i++)
                if (a[i].start != b[i].start || a[i].len != b[i].len) __builtin_trap();
            free(a);
            free(b);
        }
    }
    return 0;
}
