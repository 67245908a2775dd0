/* repetitions.c — repetitions_v1 and paragraph_repetitions_v1 (spec §2.7): Python's regex
 * (.+?)(\s?\1){3,} — a unit repeated at least four times, optionally whitespace-separated, '.' not crossing
 * '\n' — gives "repetition" spans scored by how often the unit occurs in the match; then doc_max_score_repetition,
 * doc_max_length_repetition and doc_frac_repetition (0 without spans). The paragraph variant runs the regex per
 * paragraph of split_paragraphs(remove_empty=False). PCRE2 (JIT) backtracks like Python's re, so the matches
 * are the same; a text that exhausts PCRE2's match limit is an error naming the tagger rather than a hang. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "data/taggers/registry.h"

#include "base/error.h"

#include <pcre2.h>
#include <string.h>

#define PY_S "\\t-\\r\\x{1c}-\\x{20}\\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}"
static pcre2_code *g_rep;

int tg_repetitions_setup(void) {
    if (g_rep) return 0;
    int err;
    PCRE2_SIZE off;
    pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
    if (!cc) return olmo_err("out of memory");
    pcre2_set_newline(cc, PCRE2_NEWLINE_LF);
    g_rep = pcre2_compile((PCRE2_SPTR) "(.+?)([" PY_S "]?\\1){3,}", PCRE2_ZERO_TERMINATED,
                          PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &err, &off, cc);
    pcre2_compile_context_free(cc);
    if (!g_rep) return olmo_err("repetitions regex: error %d at %zu", err, (size_t)off);
    pcre2_jit_compile(g_rep, PCRE2_JIT_COMPLETE);
    return 0;
}

struct rep_stats {
    double max_score;
    size_t max_len, sum_len, n;
};

static int scan(struct tag_text *t, size_t base, size_t n, pcre2_match_data *md, struct tag_result *out,
                struct rep_stats *st) {
    const char *s = t->text + base;
    size_t at = 0;
    while (at < n) {
        int rc = pcre2_match(g_rep, (PCRE2_SPTR)s, n, at, PCRE2_NO_UTF_CHECK, md, NULL);
        if (rc == PCRE2_ERROR_NOMATCH) return 0;
        if (rc < 0) {
            char msg[200];
            pcre2_get_error_message(rc, (PCRE2_UCHAR *)msg, sizeof msg);
            return olmo_err("repetitions tagger at byte %zu: %s", base + at, msg);
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t ms = ov[0], me = ov[1], us = ov[2], ue = ov[3];
        /* Python str.count: non-overlapping occurrences of the unit in the whole match */
        size_t ulen = ue - us, count = 0;
        for (size_t k = ms; k + ulen <= me;) {
            if (!memcmp(s + k, s + us, ulen)) { count++; k += ulen; }
            else k++;
        }
        size_t cps = tag_text_cp(t, base + me) - tag_text_cp(t, base + ms);
        if (tag_emit(out, "repetition", base + ms, base + me, (double)count)) return -1;
        if ((double)count > st->max_score) st->max_score = (double)count;
        if (cps > st->max_len) st->max_len = cps;
        st->sum_len += cps;
        st->n++;
        at = me > at ? me : at + 1;
    }
    return 0;
}

int tg_repetitions(const struct tagger *tg, struct tag_text *t, struct tag_result *out) {
    pcre2_match_data *md = pcre2_match_data_create(4, NULL);
    if (!md) return olmo_err("out of memory");
    struct rep_stats st = {0, 0, 0, 0};
    int rc = 0;
    if (tg->variant == 0) {
        rc = scan(t, 0, t->len, md, out, &st);
    } else {
        for (size_t start = 0; start < t->len && rc == 0;) {
            const char *nl = memchr(t->text + start, '\n', t->len - start);
            size_t end = nl ? (size_t)(nl - t->text) + 1 : t->len;
            rc = scan(t, start, end - start, md, out, &st);
            start = end;
        }
    }
    pcre2_match_data_free(md);
    if (rc) return -1;
    rc |= tag_emit(out, "doc_max_score_repetition", 0, t->len, st.max_score);
    rc |= tag_emit(out, "doc_max_length_repetition", 0, t->len, (double)st.max_len);
    rc |= tag_emit(out, "doc_frac_repetition", 0, t->len, st.n && t->ncp ? (double)st.sum_len / (double)t->ncp : 0.0);
    return rc ? -1 : 0;
}
