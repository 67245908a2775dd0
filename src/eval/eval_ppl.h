/* eval_ppl.h — perplexity and bits per byte of documents, per Paloma source and subdomain (spec §6b).
 *
 * Documents: a plain text file is one document (source and subdomain = the file's stem); a JSON-lines file
 * (.jsonl, .jsonl.gz, .json.gz) holds one document per line with "text" and optionally "source", "subdomain"
 * and "id" (Paloma's format; absent source/subdomain fall back to the file's stem).
 *
 * Scoring (catwalk's rolling log-likelihood): each document is tokenized without special tokens; the first
 * window is [EOS] + tokens[0 : L−1] predicting tokens[0 : L]; every later window predicts the next S tokens
 * (S = stride, default L: Paloma's disjoint windows) with the query left-extended to L positions. Every token
 * is scored exactly once. Per subdomain: ppl_token = exp(NLL/tokens), bits_per_byte = NLL / (ln 2 · UTF-8
 * bytes of the raw text) (a micro-average over documents); per source and overall, macro averages over
 * subdomains (as Paloma reports) next to the micro averages. */
#ifndef OLMO_EVAL_EVAL_PPL_H
#define OLMO_EVAL_EVAL_PPL_H

#include "eval/eval_score.h"
#include "tokenizer/tokenizer.h"

#include <stdint.h>
#include <stdio.h>

struct eval_doc {
    char *text;
    size_t len;
    char *source, *subdomain, *id;
    char *where;             /* "file:line" for messages */
};

struct eval_docs {
    struct eval_doc *d;
    int n, cap;
    int n_skipped;           /* bad lines skipped under skip_bad */
};

/* Appends the documents of path to docs. A bad line (not JSON, no "text", empty text) is an error naming the
 * file and line, or, with skip_bad, counted in docs->n_skipped with a warning. 0, or -1 with olmo_err. */
int eval_docs_load(struct eval_docs *docs, const char *path, int skip_bad);
void eval_docs_free(struct eval_docs *docs);

struct eval_ppl_group {
    char *source, *subdomain;
    int64_t docs, tokens, bytes, chars, words;
    double nll;              /* −Σ log p, nats */
};

struct eval_ppl_result {
    struct eval_ppl_group *g;
    int n_groups;
    int ctx, stride;
    int64_t docs, tokens, bytes;
    double nll, seconds;
    int n_skipped;
};

struct eval_ppl_opts {
    int ctx;                 /* window length L (<= the scorer's cache) */
    int stride;              /* new tokens per window after the first; 0 = L */
    int32_t prefix_token;    /* the first window's extra token (EOS) */
    int progress;            /* 1: a progress line on stderr */
};

/* Scores every document. 0, or -1 with olmo_err naming the document. */
int eval_ppl_run(struct eval_scorer *sc, const struct olmo_tokenizer *tok, const struct eval_docs *docs,
                 const struct eval_ppl_opts *o, struct eval_ppl_result *r);
void eval_ppl_result_free(struct eval_ppl_result *r);

/* The table (subdomains, then sources with macro and micro averages, then all). */
void eval_ppl_print(const struct eval_ppl_result *r, FILE *out);
/* Every figure as JSON text (malloc'd), model = the model directory's name. */
char *eval_ppl_json(const struct eval_ppl_result *r, const char *model);

#endif
