/* trace.h — OLMoTrace over an index (spec provenance.md §3): the maximal spans of a text that occur verbatim in
 * the indexed training tokens, kept when self-contained (start on a word start, no delimiter inside, followed
 * by a word start or the end), suppressed when inside an earlier kept span, ranked by span unigram probability
 * (rarest first) and capped at ceil(density · L). */
#ifndef OLMO_INDEX_TRACE_H
#define OLMO_INDEX_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "index/idx.h"

struct trace_opts {
    const uint8_t *bow;      /* (vocab,) 1 = the token begins a word; NULL = every token does */
    const uint8_t *delim;    /* (vocab,) 1 = a delimiter ("\n", "."); NULL = none */
    size_t vocab;            /* entries of bow/delim */
    size_t min_len;          /* drop shorter spans (default 1) */
    uint64_t max_count;      /* drop spans occurring more often (0 = no cap) */
    double density;          /* keep ceil(density · L) spans (<= 0: keep all) */
};

struct trace_span {
    size_t start, len;       /* [start, start + len) of the text's tokens */
    uint64_t count;          /* occurrences in the index */
    double unigram_logprob;  /* Σ ln(count(token) / N); -10000 for an unseen token */
};

/* Spans of tok[0..L), sorted by start. Returns the number (caller frees *spans), -1 on error. */
int64_t trace_spans(const struct olmo_index *ix, const uint32_t *tok, size_t L, const struct trace_opts *o,
                    struct trace_span **spans);

#endif
