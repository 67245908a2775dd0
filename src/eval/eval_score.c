/* eval_score.c — continuation log-likelihoods with KV-prefix reuse (see eval_score.h). */
#include "eval/eval_score.h"

#include "base/error.h"
#include "base/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Positions per model_forward_all call: bounds the logits buffer ([CHUNK][vocab] floats). */
#define CHUNK 64

int eval_scorer_init(struct eval_scorer *sc, const struct olmo_model *m, struct olmo_state *s) {
    memset(sc, 0, sizeof *sc);
    sc->m = m;
    sc->s = s;
    sc->max_len = s->max_seq;
    sc->reuse = 1;
    sc->cached = olmo_malloc((size_t)s->max_seq * sizeof *sc->cached);
    sc->query = olmo_malloc((size_t)s->max_seq * sizeof *sc->query);
    sc->logits = olmo_malloc((size_t)CHUNK * (size_t)m->cfg.vocab_size * sizeof *sc->logits);
    if (!sc->cached || !sc->query || !sc->logits) {
        eval_scorer_free(sc);
        return -1;
    }
    return 0;
}

void eval_scorer_free(struct eval_scorer *sc) {
    free(sc->cached);
    free(sc->query);
    free(sc->logits);
    memset(sc, 0, sizeof *sc);
}

void eval_scorer_reset(struct eval_scorer *sc) { sc->n_cached = 0; }

/* log p(target) under logits l[V] (log-softmax in double), and whether target is the argmax. */
static double token_logprob(const float *l, int V, int32_t target, int *is_argmax) {
    float mx = l[0];
    int arg = 0;
    for (int v = 1; v < V; v++)
        if (l[v] > mx) { mx = l[v]; arg = v; }
    double s = 0;
    for (int v = 0; v < V; v++) s += exp((double)l[v] - (double)mx);
    *is_argmax = arg == target;
    return (double)l[target] - (double)mx - log(s);
}

int eval_score(struct eval_scorer *sc, const int32_t *ctx, int n_ctx, const int32_t *cont, int n_cont,
               struct eval_loglik *out) {
    memset(out, 0, sizeof *out);
    if (n_ctx < 1 || n_cont < 1) return olmo_err("eval: empty %s (%d tokens)", n_ctx < 1 ? "context" : "continuation",
                                                 n_ctx < 1 ? n_ctx : n_cont);
    if (n_cont > sc->max_len)
        return olmo_err("eval: continuation of %d tokens does not fit the %d-token context", n_cont, sc->max_len);
    int V = sc->m->cfg.vocab_size;
    for (int i = 0; i < n_cont; i++)
        if (cont[i] < 0 || cont[i] >= V)
            return olmo_err("eval: continuation token id %d is outside the model's vocabulary of %d", cont[i], V);
    /* query = (ctx ++ cont)[:-1], left-truncated to max_len */
    int total = n_ctx + n_cont - 1, drop = total > sc->max_len ? total - sc->max_len : 0;
    int qlen = total - drop, first = n_ctx - drop;   /* first: query position whose logits predict cont[0], + 1 */
    for (int i = 0; i < qlen; i++) {
        int j = i + drop;
        sc->query[i] = j < n_ctx ? ctx[j] : cont[j - n_ctx];
    }
    out->truncated = drop > 0;
    /* rerun from the first position that differs from what the cache holds, but at least the position whose
     * logits predict cont[0] (its logits are not kept between queries) */
    int start = 0;
    if (sc->reuse) {
        int lim = sc->n_cached < qlen ? sc->n_cached : qlen;
        while (start < lim && sc->cached[start] == sc->query[start]) start++;
        if (start > first - 1) start = first - 1;
    }
    int all_greedy = 1;
    double sum = 0;
    /* the context before position first − 1 needs no logits: one prefill without the lm_head (at the 1B shape
     * the vocabulary projection is a tenth of a prefill's work) */
    if (start < first - 1) {
        int T = first - 1 - start;
        sc->n_cached = start;
        if (model_forward(sc->m, sc->s, sc->query + start, T, start, NULL) != 0) return -1;
        memcpy(sc->cached + start, sc->query + start, (size_t)T * sizeof *sc->query);
        sc->n_cached = first - 1;
        sc->n_positions += T;
        start = first - 1;
    }
    for (int p = start; p < qlen; p += CHUNK) {
        int T = qlen - p < CHUNK ? qlen - p : CHUNK;
        sc->n_cached = p;   /* if the forward fails, the cache is only trusted up to p */
        if (model_forward_all(sc->m, sc->s, sc->query + p, T, p, sc->logits) != 0) return -1;
        memcpy(sc->cached + p, sc->query + p, (size_t)T * sizeof *sc->query);
        sc->n_cached = p + T;
        for (int t = 0; t < T; t++) {
            int pos = p + t;   /* predicts query position pos + 1, i.e. cont[pos + 1 − first] */
            if (pos < first - 1) continue;
            int k = pos + 1 - first;
            int g;
            sum += token_logprob(sc->logits + (size_t)t * V, V, cont[k], &g);
            all_greedy &= g;
        }
        sc->n_positions += T;
    }
    sc->n_queries++;
    sc->n_truncated += out->truncated;
    out->sum = sum;
    out->n_tokens = n_cont;
    out->greedy = all_greedy;
    return 0;
}
