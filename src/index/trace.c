/* trace.c — OLMoTrace steps 1–2 (see trace.h). Step 1 runs one longest-prefix search per word start, so the work
 * is O(L · shards · log N) suffix-array probes; documents (step 3) are the caller's (idx_find + idx_hit_at). */
#include "index/trace.h"

#include "base/error.h"

#include <math.h>
#include <stdlib.h>

static int flag(const uint8_t *set, size_t vocab, uint32_t t, int dflt) {
    if (!set) return dflt;
    return t < vocab ? set[t] : 0;
}

static double span_logprob(const struct olmo_index *ix, const uint32_t *t, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t c = t[i] < ix->vocab_size ? ix->unigram[t[i]] : 0;
        s += c && ix->n_tokens ? log((double)c / (double)ix->n_tokens) : -10000.0;
    }
    return s;
}

static int by_logprob(const void *a, const void *b) {
    const struct trace_span *x = a, *y = b;
    if (x->unigram_logprob != y->unigram_logprob) return x->unigram_logprob < y->unigram_logprob ? -1 : 1;
    return x->start < y->start ? -1 : x->start > y->start;
}
static int by_start(const void *a, const void *b) {
    const struct trace_span *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

int64_t trace_spans(const struct olmo_index *ix, const uint32_t *tok, size_t L, const struct trace_opts *o,
                    struct trace_span **spans) {
    struct trace_span *sp = calloc(L ? L : 1, sizeof *sp);
    if (!sp) return olmo_err("trace: out of memory");
    size_t n = 0, max_end = 0, min_len = o->min_len ? o->min_len : 1;
    for (size_t b = 0; b < L; b++) {
        if (!flag(o->bow, o->vocab, tok[b], 1)) continue;
        size_t len = idx_longest_prefix(ix, tok + b, L - b);
        for (size_t k = 0; k + 1 < len; k++)   /* a delimiter may only end a span */
            if (flag(o->delim, o->vocab, tok[b + k], 0)) { len = k + 1; break; }
        while (len > 0 && b + len < L && !flag(o->bow, o->vocab, tok[b + len], 1)) len--;
        if (len < min_len) continue;
        int64_t cnt = idx_find(ix, tok + b, len, NULL);
        if (cnt < 0) { free(sp); return -1; }
        if (o->max_count && (uint64_t)cnt > o->max_count) continue;
        if (b + len <= max_end) continue;   /* inside a span kept before: not maximal */
        max_end = b + len;
        sp[n++] = (struct trace_span){b, len, (uint64_t)cnt, span_logprob(ix, tok + b, len)};
    }
    if (o->density > 0) {
        size_t k = (size_t)ceil(o->density * (double)L);
        if (k < n) {
            qsort(sp, n, sizeof *sp, by_logprob);
            n = k;
        }
    }
    qsort(sp, n, sizeof *sp, by_start);
    *spans = sp;
    return (int64_t)n;
}
