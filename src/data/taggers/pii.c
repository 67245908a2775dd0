/* pii.c — Dolma's regex PII taggers (spec §2.5): EMAIL_ADDRESS, PHONE_NUMBER, IP_ADDRESS with Dolma's exact
 * patterns, compiled once with PCRE2 (JIT) in UTF mode. Python's `\s` and `\d` on str are Unicode-wide:
 * `\d` is PCRE2's \p{Nd} under UCP, and `\s` is spelled out as str.isspace()'s set (PCRE2's \s lacks
 * U+001C..U+001F). Dolma's URL regex never matches (a literal backspace where \b was meant), so its checks are
 * no-ops here too.
 *
 *   pii_regex_v1/v2/with_counts_v2: whole text; emails kept unless the part before the first '@' strips to
 *     "(" or the part after it has no '.'; phones and IPs dropped when the ±100-character window around them
 *     contains "isbn", "doi" or "#"; doc = spans / words (v1 and v2 give -1 for a text without words: Dolma's
 *     v1 raises ZeroDivisionError there); with_counts adds doc_count.
 *   pii_regex_with_counts_fast_v2: per paragraph, the same email rule on the addressee group, no window
 *     rule; doc_count, and doc_frac = (Σ span lengths including doc_count's own) / len (Dolma's +1 quirk). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "data/taggers/registry.h"

#include "base/error.h"

#include <pcre2.h>
#include <string.h>

#define PY_S "\\t-\\r\\x{1c}-\\x{20}\\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}"

static const char *const k_patterns[3] = {
    "[." PY_S "@,?!;:)(]*([^" PY_S "@]+@[^" PY_S "@,?!;:)(]+?)[." PY_S "@,?!;:)(]?[" PY_S "\\n\\r]",
    "[" PY_S "]+\\(?(\\d{3})\\)?[-\\. ]*(\\d{3})[-. ]?(\\d{4})",
    "(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)",
};
static const char *const k_types[3] = {"EMAIL_ADDRESS", "PHONE_NUMBER", "IP_ADDRESS"};
static pcre2_code *g_re[3];

int tg_pii_setup(void) {
    for (int i = 0; i < 3; i++) {
        if (g_re[i]) continue;
        int err;
        PCRE2_SIZE off;
        g_re[i] = pcre2_compile((PCRE2_SPTR)k_patterns[i], PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK,
                                &err, &off, NULL);
        if (!g_re[i]) {
            char msg[256];
            pcre2_get_error_message(err, (PCRE2_UCHAR *)msg, sizeof msg);
            return olmo_err("pii regex %d at offset %zu: %s", i, (size_t)off, msg);
        }
        pcre2_jit_compile(g_re[i], PCRE2_JIT_COMPLETE);   /* falls back to the interpreter if JIT is absent */
    }
    return 0;
}

/* The email rule on [s, e): split at the first '@' (Python's split("@")[0] / [1]). */
static int email_ok(const char *text, size_t s, size_t e) {
    const char *at = memchr(text + s, '@', e - s);
    if (!at) return 0;
    size_t a0, a1;
    tag_strip(text, s, (size_t)(at - text), &a0, &a1);
    if (a1 - a0 == 1 && text[a0] == '(') return 0;
    const char *dom = at + 1, *dom_end = memchr(dom, '@', (size_t)(text + e - dom));
    if (!dom_end) dom_end = text + e;
    return memchr(dom, '.', (size_t)(dom_end - dom)) != NULL;
}

/* Byte offset of the code point `n` code points before (dir < 0) or after (dir > 0) byte b. */
static size_t walk_cp(const char *s, size_t len, size_t b, size_t n, int dir) {
    while (n--) {
        if (dir < 0) {
            if (b == 0) break;
            b--;
            while (b > 0 && ((unsigned char)s[b] & 0xC0) == 0x80) b--;
        } else {
            if (b >= len) break;
            tag_utf8_next(s, len, &b);
        }
    }
    return b;
}

static int window_has_marker(const char *s, size_t len, size_t start, size_t end) {
    size_t a = walk_cp(s, len, start, 100, -1), b = walk_cp(s, len, end, 100, 1);
    return memmem(s + a, b - a, "isbn", 4) || memmem(s + a, b - a, "doi", 3) || memchr(s + a, '#', b - a);
}

/* Could regex i match anything in s[0..n)? (cheap prefilters that never change the result) */
static int worth_trying(int i, const char *s, size_t n) {
    if (i == 0) return memchr(s, '@', n) != NULL;
    if (i == 2) return memchr(s, '.', n) != NULL;
    for (size_t k = 0; k < n; k++)
        if ((s[k] >= '0' && s[k] <= '9') || ((unsigned char)s[k] & 0x80)) return 1;   /* \d is Unicode-wide */
    return 0;
}

struct pii_hit {
    size_t start, end;       /* whole match */
    size_t g1s, g1e;         /* group 1 */
};

/* Runs regex i over s[0..n) calling fn for each match; returns -1 on a regex error. */
static int pii_scan(int i, const char *s, size_t n, pcre2_match_data *md, int (*fn)(void *, const struct pii_hit *),
                    void *ctx) {
    size_t at = 0;
    while (at <= n) {
        int rc = pcre2_match(g_re[i], (PCRE2_SPTR)s, n, at, PCRE2_NO_UTF_CHECK, md, NULL);
        if (rc == PCRE2_ERROR_NOMATCH) return 0;
        if (rc < 0) {
            char msg[256];
            pcre2_get_error_message(rc, (PCRE2_UCHAR *)msg, sizeof msg);
            return olmo_err("pii %s regex: %s", k_types[i], msg);
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        struct pii_hit h = {ov[0], ov[1], rc > 1 ? ov[2] : 0, rc > 1 ? ov[3] : 0};
        if (fn(ctx, &h)) return -1;
        at = ov[1] > ov[0] ? ov[1] : walk_cp(s, n, ov[0], 1, 1) + (ov[0] >= n);   /* never an empty match here */
    }
    return 0;
}

struct pii_ctx {
    struct tag_text *t;
    struct tag_result *out;
    int type;
    size_t base;             /* paragraph offset (fast variant) */
    int fast;
    size_t nspans;
    size_t span_cp;          /* Σ lengths in code points (fast variant's doc_frac) */
};

static int on_hit(void *vctx, const struct pii_hit *h) {
    struct pii_ctx *c = vctx;
    const char *text = c->t->text;
    size_t s = c->base + h->start, e = c->base + h->end;
    if (c->type == 0) {
        size_t gs = c->fast ? c->base + h->g1s : s, ge = c->fast ? c->base + h->g1e : e;
        if (!email_ok(text, gs, ge)) return 0;
    } else if (!c->fast && window_has_marker(text, c->t->len, s, e)) {
        return 0;
    }
    c->nspans++;
    c->span_cp += tag_text_cp(c->t, e) - tag_text_cp(c->t, s);
    return tag_emit(c->out, k_types[c->type], s, e, 1.0);
}

int tg_pii(const struct tagger *tg, struct tag_text *t, struct tag_result *out) {
    pcre2_match_data *md = pcre2_match_data_create(8, NULL);
    if (!md) return olmo_err("out of memory");
    struct pii_ctx c = {t, out, 0, 0, 0, 0, 0};
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++) {
        c.type = i;
        if (worth_trying(i, t->text, t->len)) rc = pii_scan(i, t->text, t->len, md, on_hit, &c);
    }
    pcre2_match_data_free(md);
    if (rc) return -1;
    size_t nw;
    if (!tag_text_words(t, &nw)) return -1;
    double doc = nw ? (double)c.nspans / (double)nw : -1.0;
    if (tag_emit(out, "doc", 0, t->len, doc)) return -1;
    if (tg->variant == 3 && tag_emit(out, "doc_count", 0, t->len, (double)c.nspans)) return -1;
    return 0;
}

int tg_pii_fast(const struct tagger *tg, struct tag_text *t, struct tag_result *out) {
    (void)tg;
    size_t np;
    const struct tag_range *p = tag_text_paragraphs(t, &np);
    if (!p) return -1;
    size_t questions = 0;
    for (const char *q = t->text; (q = memchr(q, '?', (size_t)(t->text + t->len - q))); q++) questions++;
    if (questions > 10000) np = 0;   /* Dolma skips detection on such documents (slow-regex guard) */
    pcre2_match_data *md = pcre2_match_data_create(8, NULL);
    if (!md) return olmo_err("out of memory");
    struct pii_ctx c = {t, out, 0, 0, 1, 0, 0};
    int rc = 0;
    for (size_t k = 0; k < np && rc == 0; k++) {
        const char *s = t->text + p[k].start;
        size_t n = p[k].end - p[k].start;
        c.base = p[k].start;
        for (int i = 0; i < 3 && rc == 0; i++) {
            c.type = i;
            if (i == 2) {   /* Dolma's pre-check for IPs: a '.' followed by a non-space */
                int ok = 0;
                for (const char *d = s; !ok && (d = memchr(d, '.', (size_t)(s + n - d))); d++) {
                    size_t j = (size_t)(d - s) + 1;
                    ok = j < n && !tag_is_space(tag_utf8_next(s, n, &j));
                }
                if (!ok) continue;
            }
            if (worth_trying(i, s, n)) rc = pii_scan(i, s, n, md, on_hit, &c);
        }
    }
    pcre2_match_data_free(md);
    if (rc) return -1;
    double count = (double)c.nspans;
    if (tag_emit(out, "doc_count", 0, t->len, count)) return -1;
    double frac = t->ncp ? (double)(c.span_cp + t->ncp) / (double)t->ncp : -1.0;
    return tag_emit(out, "doc_frac", 0, t->len, frac);
}
