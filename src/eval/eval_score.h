/* eval_score.h — log-likelihood of a continuation given a context, through the model's forward pass, with the
 * context's KV cache reused across continuations (spec training-and-eval.md §6c).
 *
 * OLMo's recipe: context and continuation are tokenized separately (no BOS/EOS) and concatenated; the query
 * ctx ++ cont[:-1] is left-truncated to the context length; the continuation's log-probabilities come from the
 * positions [ctx_len − 1, ctx_len + cont_len − 1). Here the scorer remembers which tokens its KV cache holds
 * and, for the next query, runs only the positions after the longest common prefix: every choice of an item
 * shares one prefill of the context, and 5-shot items share the prefill of their common few-shot prefix.
 * Overwriting the cache rows past the common prefix is exact: position p attends only to rows 0..p. */
#ifndef OLMO_EVAL_EVAL_SCORE_H
#define OLMO_EVAL_EVAL_SCORE_H

#include "model/model.h"

#include <stdint.h>

struct eval_scorer {
    const struct olmo_model *m;
    struct olmo_state *s;          /* its cache holds cached[0..n_cached) at positions 0..n_cached-1 */
    int max_len;                   /* positions the cache holds (= s->max_seq) */
    int reuse;                     /* 1 (default): skip the common prefix; 0: score every query from position 0 */
    int32_t *cached;
    int n_cached;
    float *logits;                 /* [chunk][vocab] */
    int32_t *query;
    /* counters: positions run through the model, queries scored, queries left-truncated */
    int64_t n_positions, n_queries, n_truncated;
};

struct eval_loglik {
    double sum;                    /* Σ log p(cont token | everything before it) */
    int n_tokens;                  /* continuation tokens scored */
    int greedy;                    /* 1 if every continuation token was the argmax (LAMBADA-style exact match) */
    int truncated;                 /* 1 if the query was left-truncated to max_len */
};

/* s must be a state of m (its max_seq is the longest query). 0, or -1 with olmo_err. */
int eval_scorer_init(struct eval_scorer *sc, const struct olmo_model *m, struct olmo_state *s);
void eval_scorer_free(struct eval_scorer *sc);

/* Scores cont[0..n_cont) after ctx[0..n_ctx) (n_ctx >= 1, n_cont >= 1). A continuation longer than the cache is
 * an error (it cannot be scored at all); a longer context is left-truncated as OLMo does and flagged in out.
 * 0, or -1 with olmo_err. */
int eval_score(struct eval_scorer *sc, const int32_t *ctx, int n_ctx, const int32_t *cont, int n_cont,
               struct eval_loglik *out);

/* Forgets what the cache holds (the next query runs from position 0). */
void eval_scorer_reset(struct eval_scorer *sc);

#endif
