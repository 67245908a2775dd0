/* generate.c — prefill with prefix reuse, then sample-and-feed decoding (see generate.h). */
#include "model/generate.h"
#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"

#include <stdlib.h>
#include <string.h>

int gen_init(struct gen_session *g, const struct olmo_model *m, int max_seq, float temperature, int top_k, float top_p,
             uint64_t seed) {
    return gen_init_opts(g, m, max_seq, NULL, temperature, top_k, top_p, seed);
}

int gen_init_opts(struct gen_session *g, const struct olmo_model *m, int max_seq, const struct model_state_opts *so,
                  float temperature, int top_k, float top_p, uint64_t seed) {
    memset(g, 0, sizeof *g);
    g->model = m;
    if (model_state_init_opts(&g->state, m, max_seq, so) != 0) return -1;
    g->tokens = olmo_malloc((size_t)max_seq * sizeof *g->tokens);
    g->logits = olmo_malloc((size_t)m->cfg.vocab_size * sizeof *g->logits);
    if (!g->tokens || !g->logits || sampler_init(&g->sampler, m->cfg.vocab_size, temperature, top_k, top_p, seed) != 0) {
        gen_free(g);
        return -1;
    }
    return 0;
}

void gen_free(struct gen_session *g) {
    model_state_free(&g->state);
    sampler_free(&g->sampler);
    free(g->tokens);
    free(g->logits);
    memset(g, 0, sizeof *g);
}

void gen_add_stop(struct gen_session *g, int32_t id) {
    if (id < 0 || gen_is_stop(g, id) || g->n_stop == GEN_MAX_STOP) return;
    g->stop[g->n_stop++] = id;
}

int gen_is_stop(const struct gen_session *g, int32_t id) {
    for (int i = 0; i < g->n_stop; i++)
        if (g->stop[i] == id) return 1;
    return 0;
}

int gen_prefill(struct gen_session *g, const int32_t *tokens, int n) {
    if (n < 1) return olmo_err("generate: empty prompt");
    if (n > g->state.max_seq)
        return olmo_err("generate: the prompt has %d tokens but the context holds %d", n, g->state.max_seq);
    int keep = 0;
    while (keep < n && keep < g->n_tokens && g->tokens[keep] == tokens[keep]) keep++;
    if (keep == n) keep = n - 1;   /* recompute the last token to get its logits */
    if (!model_state_can_rewind(&g->state, keep)) keep = 0;   /* a sliding-window ring no longer holds that prefix */
    double t0 = olmo_now();
    if (model_forward(g->model, &g->state, tokens + keep, n - keep, keep, g->logits) != 0) return -1;
    g->prefill_s += olmo_now() - t0;
    g->prefill_tokens += n - keep;
    memcpy(g->tokens + keep, tokens + keep, (size_t)(n - keep) * sizeof *tokens);
    g->n_tokens = n;
    g->have_logits = 1;
    olmo_log_debug("prefill: %d tokens reused from the cache, %d computed", keep, n - keep);
    return 0;
}

int gen_step(struct gen_session *g, int32_t *id) {
    if (!g->have_logits) return olmo_err("generate: nothing to continue (prefill first)");
    *id = sampler_sample(&g->sampler, g->logits);
    if (gen_is_stop(g, *id)) return 0;
    if (g->n_tokens >= g->state.max_seq) return olmo_err("generate: the %d-token context is full", g->state.max_seq);
    double t0 = olmo_now();
    if (model_forward(g->model, &g->state, id, 1, g->n_tokens, g->logits) != 0) return -1;
    g->decode_s += olmo_now() - t0;
    g->decode_tokens++;
    g->tokens[g->n_tokens++] = *id;
    return 0;
}
