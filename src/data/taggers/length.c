/* length.c — Dolma's length taggers (spec §2.2): char_length_v1 (length), char_length_strip_ws_v1
 * (length_no_ws), bytes_length_v1 (bytes), doc_count_v1 (docs = 1), char_length_with_paragraphs_v1
 * (paragraph, document), whitespace_tokenizer_v1 (length) and whitespace_tokenizer_with_paragraphs_v1
 * (paragraph, document = Σ). All lengths are code points; the whitespace "tokens" are
 * len(regex.split(r"\w+|[^\w\s]+", text)) = number of matches + 1, with the `regex` module's Unicode \w and \s,
 * counted here as runs of word characters plus runs of other non-space characters. */
#include "data/taggers/registry.h"

#include <utf8proc.h>

/* \s of Python's `regex` module: Unicode White_Space (unlike str.isspace(), not U+001C..U+001F). */
static int regex_space(uint32_t c) {
    if (c < 0x80) return (c >= 0x09 && c <= 0x0D) || c == 0x20;
    return tag_is_space(c);
}

/* \w of `regex`: letters, marks, decimal and letter numbers, connector punctuation, ZWNJ/ZWJ. */
static int regex_word(uint32_t c) {
    if (c < 0x80) return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '_';
    if (c == 0x200C || c == 0x200D) return 1;
    switch (utf8proc_category((utf8proc_int32_t)c)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_PC:
        return 1;
    default:
        return 0;
    }
}

static double ws_tokens(const char *s, size_t start, size_t end) {
    size_t runs = 0;
    int prev = 0;   /* 0 space/start, 1 word, 2 other */
    for (size_t i = start; i < end;) {
        uint32_t c = tag_utf8_next(s, end, &i);
        int k = regex_word(c) ? 1 : regex_space(c) ? 0 : 2;
        if (k && k != prev) runs++;
        prev = k;
    }
    return (double)runs + 1;
}

int tg_length(const struct tagger *tg, struct tag_text *t, struct tag_result *out) {
    size_t n = t->len;
    switch (tg->variant) {
    case TG_LEN_CHAR: return tag_emit(out, "length", 0, n, (double)t->ncp);
    case TG_LEN_CHAR_STRIP: {
        size_t a, b;
        tag_strip(t->text, 0, n, &a, &b);
        return tag_emit(out, "length_no_ws", 0, n, (double)(tag_text_cp(t, b) - tag_text_cp(t, a)));
    }
    case TG_LEN_BYTES: return tag_emit(out, "bytes", 0, n, (double)n);
    case TG_LEN_DOCS: return tag_emit(out, "docs", 0, n, 1.0);
    case TG_LEN_WS: return tag_emit(out, "length", 0, n, ws_tokens(t->text, 0, n));
    case TG_LEN_CHAR_PARA:
    case TG_LEN_WS_PARA: {
        size_t np;
        const struct tag_range *p = tag_text_paragraphs(t, &np);
        if (!p) return -1;
        double sum = 0;
        for (size_t k = 0; k < np; k++) {
            double v = tg->variant == TG_LEN_CHAR_PARA ? (double)p[k].ncp : ws_tokens(t->text, p[k].start, p[k].end);
            sum += v;
            if (tag_emit(out, "paragraph", p[k].start, p[k].end, v)) return -1;
        }
        return tag_emit(out, "document", 0, n, tg->variant == TG_LEN_CHAR_PARA ? (double)t->ncp : sum);
    }
    }
    return 0;
}
