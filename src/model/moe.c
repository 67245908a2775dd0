/* moe.c — OLMoE's MLP: router, softmax, top-k, experts (moe.h).
 *
 * Tokens are grouped by expert: for each expert that any of the T tokens chose (ascending expert index), its
 * tokens' rows are gathered and run through gate/up/down as one [n_e, d] product, so a prompt reads each chosen
 * expert's weights once and a decoded token reads only its top_k experts (weight_bytes in model.h). Each token's
 * output is accumulated in ascending expert index, as HF's index_add_ does, from zero. */
#include "model/moe.h"
#include "base/error.h"
#include "base/log.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void moe_route(const float *logits, int E, int k, int norm, int *idx, float *w) {
    float mx = -INFINITY, sum = 0;
    for (int e = 0; e < E; e++) mx = fmaxf(mx, logits[e]);
    float p[E];
    for (int e = 0; e < E; e++) {
        p[e] = expf(logits[e] - mx);
        sum += p[e];
    }
    for (int e = 0; e < E; e++) p[e] /= sum;
    unsigned char taken[E];
    memset(taken, 0, sizeof taken);
    float ksum = 0;
    for (int j = 0; j < k; j++) {   /* k passes of argmax: strict > keeps the lower index on ties */
        int best = -1;
        for (int e = 0; e < E; e++)
            if (!taken[e] && (best < 0 || p[e] > p[best])) best = e;
        taken[best] = 1;
        idx[j] = best;
        w[j] = p[best];
        ksum += p[best];
    }
    if (norm)
        for (int j = 0; j < k; j++) w[j] /= ksum;
}

static void lin(float *y, const float *x, const struct olmo_linear *W, int n, int batch) {
    if (batch) linear_forward_batch(y, x, W, n);
    else linear_forward(y, x, W, n);
}

int moe_scratch(struct olmo_state *s, const struct olmo_config *c, int T) {
    if (c->n_experts <= 0) return 0;
    /* floats: router logits [T][E], weights [T][k], gathered x [T][d], gate and up [T][I] each, expert out [T][d];
     * ints: choices [T][k], per expert token list [T·k] (an int takes a float's room) */
    size_t need = (size_t)T * c->n_experts + (size_t)T * c->top_k + (size_t)T * c->d_model * 2 + (size_t)T * c->d_ff * 2 +
                  (size_t)T * c->top_k * 2;
    if (need > s->moe_cap) {
        free(s->moe_buf);
        s->moe_buf = malloc(need * sizeof(float));
        s->moe_cap = s->moe_buf ? need : 0;
        if (!s->moe_buf) return olmo_err("out of memory (MoE scratch for %d tokens)", T);
    }
    return 0;
}

void moe_forward(const struct olmo_model *m, struct olmo_state *s, int l, const float *x, float *out, int T, int batch) {
    const struct olmo_config *c = &m->cfg;
    const struct olmo_layer *ly = &m->layers[l];
    int E = c->n_experts, k = c->top_k, d = c->d_model, I = c->d_ff;
    float *R = s->moe_buf, *W = R + (size_t)T * E, *X = W + (size_t)T * k, *G = X + (size_t)T * d, *U = G + (size_t)T * I,
          *Y = U + (size_t)T * I;
    int *sel = (int *)(Y + (size_t)T * d), *rows = sel + (size_t)T * k;
    double t0 = olmo_now();
    lin(R, x, &ly->router, T, batch);
    for (int t = 0; t < T; t++) moe_route(R + (size_t)t * E, E, k, c->norm_topk_prob, sel + (size_t)t * k, W + (size_t)t * k);
    memset(out, 0, (size_t)T * d * sizeof(float));
    for (int e = 0; e < E; e++) {
        int n = 0;
        for (int t = 0; t < T; t++)
            for (int j = 0; j < k; j++)
                if (sel[(size_t)t * k + j] == e) rows[n++] = t * k + j;   /* token t, rank j */
        if (n == 0) continue;
        for (int i = 0; i < n; i++) memcpy(X + (size_t)i * d, x + (size_t)(rows[i] / k) * d, (size_t)d * sizeof(float));
        lin(G, X, &ly->ex_gate[e], n, batch);
        lin(U, X, &ly->ex_up[e], n, batch);
        for (int i = 0; i < n; i++) model_swiglu(G + (size_t)i * I, U + (size_t)i * I, I);
        lin(Y, G, &ly->ex_down[e], n, batch);
        for (int i = 0; i < n; i++) {
            float wt = W[rows[i]], *o = out + (size_t)(rows[i] / k) * d;
            const float *y = Y + (size_t)i * d;
            for (int a = 0; a < d; a++) o[a] += wt * y[a];
        }
    }
    s->t_proj += olmo_now() - t0;
}
