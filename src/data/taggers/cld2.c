/* cld2.c — the cld2 language taggers (spec §2.6) on Debian's libcld2, through cld2_shim.cc.
 *
 * Per unit (the document, or each paragraph of split_paragraphs): detect as pycld2.detect() does; if CLD2
 * rejects the bytes (it refuses control characters and non-characters), retry with \p{Cc} removed. Dolma tries
 * an anyascii transliteration before that step; it is not available here, so a text CLD2 rejects is retried
 * on the sanitised text directly (a rare difference). Results count only when CLD2 says "reliable".
 *   cld2_doc_v2 / cld2_paragraph_v2: one span per detail, type = the first two letters of CLD2's language
 *     name lowercased (Dolma's quirk: GERMAN -> "ge", and "Unknown" -> "un" is kept), score = percent / 100.
 *   cld2_en_*: the "en" span (0.0 when English is absent or unreliable) and "not_en" = 1 - en.
 *   cld2_en_paragraph_with_doc_score_v2: plus doc_en = Σ len(paragraph)·en / len(text), doc_not_en = 1 - doc_en
 *     (both 0 for an empty text). */
#include "data/taggers/cld2_shim.h"
#include "data/taggers/registry.h"

#include "base/mem.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

static char g_pairs[128][128][3];   /* "xy" for every ASCII pair: static type names */

int tg_cld2_setup(void) {
    /* CLD2 allocates and frees large scoring buffers on every call; with glibc's default trimming each free
     * shrinks the heap (brk) and the next call grows it again — measured 70% of a cld2 run in the kernel's TLB
     * flushes. Keeping freed memory in the process (a few MB) removes that. */
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    for (int a = 0; a < 128; a++)
        for (int b = 0; b < 128; b++) {
            g_pairs[a][b][0] = (char)(a >= 'A' && a <= 'Z' ? a + 32 : a);
            g_pairs[a][b][1] = (char)(b >= 'A' && b <= 'Z' ? b + 32 : b);
        }
    return 0;
}

static const char *lang_type(const char *name) {
    unsigned char a = (unsigned char)name[0], b = a ? (unsigned char)name[1] : 0;
    if (a >= 128 || b >= 128) return "??";
    return g_pairs[a][b];
}

struct cld2_result {
    int n;
    const char *type[3];
    double score[3];
};

/* Dolma's predict_text for the all-language variant. */
static int detect(struct tag_text *t, size_t s, size_t e, struct cld2_result *r) {
    const char *names[3];
    int pct[3], reliable = 0;
    r->n = 0;
    int bad = olmo_cld2_detect(t->text + s, (int)(e - s), &reliable, names, pct);
    if (bad) {
        /* remove control characters (\p{Cc}: U+0000..U+001F, U+007F..U+009F) and retry */
        char *clean = tag_text_scratch(t, 3, e - s + 1);
        if (!clean) return -1;
        size_t o = 0;
        for (size_t i = s; i < e;) {
            size_t j = i;
            uint32_t c = tag_utf8_next(t->text, e, &j);
            if (!(c < 0x20 || (c >= 0x7F && c <= 0x9F))) {
                memcpy(clean + o, t->text + i, j - i);
                o += j - i;
            }
            i = j;
        }
        bad = olmo_cld2_detect(clean, (int)o, &reliable, names, pct);
    }
    if (bad || !reliable) return 0;
    for (int i = 0; i < 3; i++) {
        r->type[r->n] = lang_type(names[i]);
        r->score[r->n++] = pct[i] / 100.0;
    }
    return 0;
}

static double english(const struct cld2_result *r) {
    for (int i = 0; i < r->n; i++)
        if (!strcmp(r->type[i], "en")) return r->score[i];   /* English appears at most once */
    return 0.0;
}

int tg_cld2(const struct tagger *tg, struct tag_text *t, struct tag_result *out) {
    int mode = tg->variant;
    int para = mode == TG_CLD2_EN_PARA || mode == TG_CLD2_EN_PARA_DOC || mode == TG_CLD2_ALL_PARA;
    int en_only = mode == TG_CLD2_EN_DOC || mode == TG_CLD2_EN_PARA || mode == TG_CLD2_EN_PARA_DOC;
    struct tag_range whole = {0, (uint32_t)t->len, (uint32_t)t->ncp};
    const struct tag_range *units = &whole;
    size_t nu = 1;
    if (para && !(units = tag_text_paragraphs(t, &nu))) return -1;
    size_t first = out->n;
    int rc = 0;
    double weighted = 0;
    for (size_t u = 0; u < nu; u++) {
        struct cld2_result r;
        if (detect(t, units[u].start, units[u].end, &r)) return -1;
        if (en_only) {
            double en = english(&r);
            weighted += en * units[u].ncp;
            rc |= tag_emit(out, "en", units[u].start, units[u].end, en);
        } else {
            for (int i = 0; i < r.n; i++) rc |= tag_emit(out, r.type[i], units[u].start, units[u].end, r.score[i]);
        }
    }
    if (en_only) {   /* the negatives come after all positives, as Dolma's make_negative appends them */
        size_t last = out->n;
        for (size_t k = first; k < last; k++)
            rc |= tag_emit(out, "not_en", out->v[k].start, out->v[k].end, 1.0 - out->v[k].score);
    }
    if (mode == TG_CLD2_EN_PARA_DOC) {
        double doc_en = t->ncp ? weighted / (double)t->ncp : 0.0;
        rc |= tag_emit(out, "doc_en", 0, t->len, doc_en);
        rc |= tag_emit(out, "doc_not_en", 0, t->len, t->ncp ? 1.0 - doc_en : 0.0);
    }
    return rc ? -1 : 0;
}
