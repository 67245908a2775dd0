/* registry.c — the table of taggers `olmo data tag --taggers` accepts (Dolma's names), and the span list a
 * tagger appends to. Adding a tagger: a file in this folder, its functions declared in registry.h, one line
 * here. */
#include "data/taggers/registry.h"

#include "base/mem.h"

#include <stdlib.h>
#include <string.h>

const struct tagger tagger_table[] = {
    {"gopher_v1", "Gopher quality statistics (20 doc-level values: word counts, n-gram and line duplication)", tg_gopher, NULL, 1},
    {"c4_v1", "C4 rules: lines without end punctuation / with < 3 words, naughty words, javascript, lorem ipsum, {", tg_c4, tg_c4_setup, 1},
    {"c4_v2", "C4 rules, Dolma's fast version (javascript as a substring)", tg_c4, tg_c4_setup, 2},
    {"pii_regex_v1", "PII by regex (email, US phone, IPv4) over the whole text; doc = spans / words", tg_pii, tg_pii_setup, 1},
    {"pii_regex_v2", "as pii_regex_v1, doc = -1 when there are no words", tg_pii, tg_pii_setup, 2},
    {"pii_regex_with_counts_v2", "as pii_regex_v2 plus doc_count", tg_pii, tg_pii_setup, 3},
    {"pii_regex_with_counts_fast_v2", "PII by regex per paragraph, doc_count and doc_frac (Dolma v1.5+)", tg_pii_fast, tg_pii_setup, 0},
    {"cld2_en_doc_v2", "CLD2 English score of the document (en, not_en)", tg_cld2, tg_cld2_setup, TG_CLD2_EN_DOC},
    {"cld2_en_paragraph_v2", "CLD2 English score per paragraph (en, not_en)", tg_cld2, tg_cld2_setup, TG_CLD2_EN_PARA},
    {"cld2_en_paragraph_with_doc_score_v2", "CLD2 per paragraph plus doc_en / doc_not_en", tg_cld2, tg_cld2_setup, TG_CLD2_EN_PARA_DOC},
    {"cld2_doc_v2", "CLD2 languages of the document, one span per reliable language", tg_cld2, tg_cld2_setup, TG_CLD2_ALL_DOC},
    {"cld2_paragraph_v2", "CLD2 languages per paragraph", tg_cld2, tg_cld2_setup, TG_CLD2_ALL_PARA},
    {"char_length_v1", "length: code points", tg_length, NULL, TG_LEN_CHAR},
    {"char_length_strip_ws_v1", "length_no_ws: code points of the stripped text", tg_length, NULL, TG_LEN_CHAR_STRIP},
    {"bytes_length_v1", "bytes: UTF-8 bytes", tg_length, NULL, TG_LEN_BYTES},
    {"doc_count_v1", "docs: 1 per document", tg_length, NULL, TG_LEN_DOCS},
    {"char_length_with_paragraphs_v1", "paragraph and document lengths in code points", tg_length, NULL, TG_LEN_CHAR_PARA},
    {"whitespace_tokenizer_v1", "length: matches of \\w+|[^\\w\\s]+ plus one", tg_length, NULL, TG_LEN_WS},
    {"whitespace_tokenizer_with_paragraphs_v1", "the same per paragraph, document = sum", tg_length, NULL, TG_LEN_WS_PARA},
    {"repetitions_v1", "repeated character sequences (.+?)(\\s?\\1){3,} and doc stats", tg_repetitions, tg_repetitions_setup, 0},
    {"paragraph_repetitions_v1", "repetitions_v1 per paragraph", tg_repetitions, tg_repetitions_setup, 1},
    {"random_number_v1", "random: a number in [0,1), reproducible from the document id and source", tg_random, NULL, 0},
    {NULL, NULL, NULL, NULL, 0},
};

const struct tagger *tagger_find(const char *name) {
    for (const struct tagger *t = tagger_table; t->name; t++)
        if (!strcmp(t->name, name)) return t;
    return NULL;
}

int tag_emit(struct tag_result *r, const char *type, size_t start, size_t end, double score) {
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 32;
        struct tag_span *nv = olmo_realloc(r->v, cap * sizeof *nv);
        if (!nv) return -1;
        r->v = nv;
        r->cap = cap;
    }
    r->v[r->n++] = (struct tag_span){type, start, end, score};
    return 0;
}

void tag_result_clear(struct tag_result *r) { r->n = 0; }

void tag_result_free(struct tag_result *r) {
    free(r->v);
    memset(r, 0, sizeof *r);
}

const struct tag_span *tag_result_find(const struct tag_result *r, const char *type, size_t i) {
    for (size_t k = 0; k < r->n; k++)
        if (!strcmp(r->v[k].type, type) && i-- == 0) return &r->v[k];
    return NULL;
}
