/* forward.c — the OLMo-1 / OLMo-2 / llama forward pass with an fp32 KV cache (spec §3).
 *
 * All T new tokens go through each layer together: every projection is one linear_forward call on a [T, ·]
 * activation matrix (a GEMM during prefill, a GEMV while decoding), so the kernels behind linear.h decide the
 * speed. Everything else (norms, RoPE, attention over the cache, SwiGLU) is fp32 here, written plainly; the
 * attention loop is parallel over (token, head) pairs on the kernels' thread pool. The three architectures differ only in
 * where the norms sit, which norm it is, QK-norm and clip_qkv — see block() below. */
#include "model/model.h"
#include "base/error.h"
#include "base/mem.h"
#include "model/kernels/attention.h"
#include "model/kernels/pool.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- primitives ---------------------------------------------------------------------------------------- */

/* OLMo-1: (x - mean) / sqrt(var + eps), no weight, no bias. */
static void layernorm_noaffine(float *out, const float *x, int n, float eps) {
    float mu = 0, var = 0;
#pragma omp simd reduction(+ : mu)
    for (int i = 0; i < n; i++) mu += x[i];
    mu /= (float)n;
#pragma omp simd reduction(+ : var)
    for (int i = 0; i < n; i++) var += (x[i] - mu) * (x[i] - mu);
    float r = 1.0f / sqrtf(var / (float)n + eps);
#pragma omp simd
    for (int i = 0; i < n; i++) out[i] = (x[i] - mu) * r;
}

/* x / sqrt(mean(x²) + eps) * w (OLMo-2 flavour: the weight multiply is in fp32 too). */
static void rmsnorm(float *out, const float *x, const float *w, int n, float eps) {
    float ss = 0;
#pragma omp simd reduction(+ : ss)
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    float r = 1.0f / sqrtf(ss / (float)n + eps);
#pragma omp simd
    for (int i = 0; i < n; i++) out[i] = w[i] * (x[i] * r);
}

/* The block's pre-norm (OLMo-1 LayerNorm or llama RMSNorm) over T rows. */
static void norm_rows(const struct olmo_config *c, float *out, const float *x, const float *w, int T, int n) {
    for (int t = 0; t < T; t++) {
        if (c->norm_type == NORM_LAYERNORM_NOAFFINE) layernorm_noaffine(out + (size_t)t * n, x + (size_t)t * n, n, c->norm_eps);
        else rmsnorm(out + (size_t)t * n, x + (size_t)t * n, w, n, c->norm_eps);
    }
}

static void clamp_rows(float *x, size_t n, float c) {
#pragma omp simd
    for (size_t i = 0; i < n; i++) x[i] = fminf(fmaxf(x[i], -c), c);
}

/* Rotate-half RoPE on each head of one token: dimension j pairs with j + hd/2 (spec §3.1). */
static void rope(float *v, int n_heads, int hd, const float *cs, const float *sn) {
    int half = hd / 2;
    for (int h = 0; h < n_heads; h++) {
        float *p = v + (size_t)h * hd;
        for (int j = 0; j < half; j++) {
            float a = p[j], b = p[j + half];
            p[j] = a * cs[j] - b * sn[j];
            p[j + half] = b * cs[j] + a * sn[j];
        }
    }
}

static inline float dot(const float *a, const float *b, int n) {
    float s = 0;
#pragma omp simd reduction(+ : s)
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/* ---- state ---------------------------------------------------------------------------------------------- */

int model_state_init(struct olmo_state *s, const struct olmo_model *m, int max_seq) {
    memset(s, 0, sizeof *s);
    const struct olmo_config *c = &m->cfg;
    if (max_seq < 1) return olmo_err("state: context length %d must be positive", max_seq);
    s->max_seq = max_seq;
    s->kv_dim = c->n_kv_heads * c->head_dim;
    size_t n = (size_t)c->n_layers * (size_t)max_seq * (size_t)s->kv_dim;
    s->k_cache = olmo_aligned_alloc(n * sizeof(float));
    s->v_cache = olmo_aligned_alloc(n * sizeof(float));
    if (!s->k_cache || !s->v_cache) {
        model_state_free(s);
        return olmo_err_prefix("KV cache for %d positions: ", max_seq);
    }
    return 0;
}

void model_state_free(struct olmo_state *s) {
    free(s->k_cache); free(s->v_cache);
    free(s->x); free(s->xb); free(s->q); free(s->k); free(s->v); free(s->att); free(s->hb); free(s->hb2);
    free(s->tmp); free(s->scores);
    memset(s, 0, sizeof *s);
}

/* Grows the per-token buffers to hold T tokens and the score rows to hold `len` keys per thread. */
static int ensure_scratch(struct olmo_state *s, const struct olmo_config *c, int T, int len) {
    if (T > s->scratch_T) {
        size_t d = (size_t)c->d_model, qd = (size_t)c->n_heads * c->head_dim, I = (size_t)c->d_ff;
        size_t big = d > qd ? d : qd;
        float **bufs[] = {&s->x, &s->xb, &s->q, &s->k, &s->v, &s->att, &s->hb, &s->hb2, &s->tmp};
        size_t widths[] = {d, big, qd, (size_t)s->kv_dim, (size_t)s->kv_dim, qd, I, I, d};
        for (int i = 0; i < 9; i++) {
            free(*bufs[i]);
            *bufs[i] = olmo_aligned_alloc(widths[i] * (size_t)T * sizeof(float));
            if (!*bufs[i]) { s->scratch_T = 0; return -1; }
        }
        s->scratch_T = T;
    }
    int nth = olmo_pool_threads();
    if (len > s->scores_len || nth > s->scores_threads) {
        free(s->scores);
        s->scores = olmo_aligned_alloc((size_t)len * (size_t)nth * sizeof(float));
        if (!s->scores) { s->scores_len = 0; return -1; }
        s->scores_len = len;
        s->scores_threads = nth;
    }
    return 0;
}

/* ---- attention over the cache ------------------------------------------------------------------------- */

/* att[t][h] = softmax(q[t][h] · K[0..pos+t]ᵀ / sqrt(hd)) · V[0..pos+t] for every new token t and query head h;
 * query head h reads KV head h / (H / Hkv) (HF repeat_kv: consecutive groups). One (t, h) pair per pool chunk:
 * the kernels' thread pool (kernels/pool.h) rather than OpenMP, so the whole forward pass shares one set of
 * threads that sleep instead of spinning between steps. */
struct att_job {
    const struct olmo_config *c;
    struct olmo_state *s;
    const float *K, *V;
    int pos;
};

static void attention_one(void *ctx, int64_t chunk, int thread) {
    const struct att_job *J = ctx;
    const struct olmo_config *c = J->c;
    struct olmo_state *s = J->s;
    int H = c->n_heads, hd = c->head_dim, group = c->n_heads / c->n_kv_heads, kvd = s->kv_dim;
    int t = (int)(chunk / H), h = (int)(chunk % H);
    float scale = 1.0f / sqrtf((float)hd), *sc = s->scores + (size_t)thread * s->scores_len;
    const float *q = s->q + ((size_t)t * H + h) * hd;
    size_t koff = (size_t)(h / group) * hd;
    int n = J->pos + t + 1;   /* causal: keys 0..pos+t */
    float mx = -INFINITY;
    for (int j = 0; j < n; j++) {
        sc[j] = dot(q, J->K + (size_t)j * kvd + koff, hd) * scale;
        mx = fmaxf(mx, sc[j]);
    }
    float sum = 0;
    for (int j = 0; j < n; j++) {
        sc[j] = expf(sc[j] - mx);
        sum += sc[j];
    }
    float inv = 1.0f / sum, *o = s->att + ((size_t)t * H + h) * hd;
    memset(o, 0, (size_t)hd * sizeof(float));
    for (int j = 0; j < n; j++) {
        const float *v = J->V + (size_t)j * kvd + koff;
        float p = sc[j] * inv;
#pragma omp simd
        for (int i = 0; i < hd; i++) o[i] += p * v[i];
    }
}

static void attention(const struct olmo_config *c, struct olmo_state *s, int layer, int T, int pos) {
    size_t kvd = (size_t)s->kv_dim;
    struct att_job J = {c, s, s->k_cache + (size_t)layer * s->max_seq * kvd, s->v_cache + (size_t)layer * s->max_seq * kvd, pos};
    /* prompts (T >= 8): the tiled kernel (kernels/attention.h); it declines what it does not handle */
    if (attn_prefill(s->att, s->q, J.K, J.V, T, pos, c->n_heads, c->n_kv_heads, c->head_dim, (int)kvd,
                     1.0f / sqrtf((float)c->head_dim)) == 0)
        return;
    olmo_pool_for((int64_t)T * c->n_heads, attention_one, &J);
}

/* ---- one block ------------------------------------------------------------------------------------------ */

static void block(const struct olmo_model *m, struct olmo_state *s, int l, int T, int pos, const float *cos_t,
                  const float *sin_t) {
    const struct olmo_config *c = &m->cfg;
    const struct olmo_layer *w = &m->layers[l];
    int d = c->d_model, hd = c->head_dim, qd = c->n_heads * hd, kvd = s->kv_dim, I = c->d_ff, half = hd / 2;
    float *x = s->x, *in = x;

    /* attention sublayer: pre-norm (OLMo-1, llama) or raw residual input (OLMo-2) */
    if (!c->norm_after) {
        norm_rows(c, s->xb, x, w->attn_norm, T, d);
        in = s->xb;
    }
    linear_forward(s->q, in, &w->wq, T);
    linear_forward(s->k, in, &w->wk, T);
    linear_forward(s->v, in, &w->wv, T);
    for (int t = 0; t < T; t++) {
        float *q = s->q + (size_t)t * qd, *k = s->k + (size_t)t * kvd, *v = s->v + (size_t)t * kvd;
        if (c->qk_norm) {   /* over the whole projection, before the head split */
            rmsnorm(q, q, w->q_norm, qd, c->norm_eps);
            rmsnorm(k, k, w->k_norm, kvd, c->norm_eps);
        }
        if (c->clip_qkv > 0) {
            clamp_rows(q, (size_t)qd, c->clip_qkv);
            clamp_rows(k, (size_t)kvd, c->clip_qkv);
            clamp_rows(v, (size_t)kvd, c->clip_qkv);
        }
        rope(q, c->n_heads, hd, cos_t + (size_t)t * half, sin_t + (size_t)t * half);
        rope(k, c->n_kv_heads, hd, cos_t + (size_t)t * half, sin_t + (size_t)t * half);
        size_t at = ((size_t)l * s->max_seq + (size_t)(pos + t)) * kvd;
        memcpy(s->k_cache + at, k, (size_t)kvd * sizeof(float));
        memcpy(s->v_cache + at, v, (size_t)kvd * sizeof(float));
    }
    attention(c, s, l, T, pos);
    linear_forward(s->tmp, s->att, &w->wo, T);
    for (int t = 0; t < T; t++) {
        float *o = s->tmp + (size_t)t * d, *xt = x + (size_t)t * d;
        if (c->norm_after) rmsnorm(o, o, w->attn_norm, d, c->norm_eps);   /* OLMo-2: h + RMS(attn(h)) */
        for (int i = 0; i < d; i++) xt[i] += o[i];
    }

    /* MLP sublayer: down(silu(gate(in)) * up(in)) */
    in = x;
    if (!c->norm_after) {
        norm_rows(c, s->xb, x, w->ffn_norm, T, d);
        in = s->xb;
    }
    linear_forward(s->hb, in, &w->w_gate, T);
    linear_forward(s->hb2, in, &w->w_up, T);
    size_t n = (size_t)T * I;
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float g = s->hb[i];
        s->hb[i] = g / (1.0f + expf(-g)) * s->hb2[i];
    }
    linear_forward(s->tmp, s->hb, &w->w_down, T);
    for (int t = 0; t < T; t++) {
        float *o = s->tmp + (size_t)t * d, *xt = x + (size_t)t * d;
        if (c->norm_after) rmsnorm(o, o, w->ffn_norm, d, c->norm_eps);    /* OLMo-2: h + RMS(mlp(h)) */
        for (int i = 0; i < d; i++) xt[i] += o[i];
    }
}

/* ---- the whole model ------------------------------------------------------------------------------------ */

static int forward(const struct olmo_model *m, struct olmo_state *s, const int32_t *tokens, int T, int pos,
                   float *logits, int all) {
    const struct olmo_config *c = &m->cfg;
    if (T < 1) return olmo_err("forward: no tokens");
    if (pos < 0 || pos > s->max_seq - T)
        return olmo_err("forward: positions %d..%d do not fit the %d-position context", pos, pos + T - 1, s->max_seq);
    for (int t = 0; t < T; t++)
        if (tokens[t] < 0 || tokens[t] >= c->vocab_size)
            return olmo_err("forward: token id %d is outside the vocabulary [0, %d)", tokens[t], c->vocab_size);
    if (ensure_scratch(s, c, T, pos + T) != 0) return olmo_err_prefix("forward scratch for %d tokens: ", T);
    int d = c->d_model, hd = c->head_dim, half = hd / 2;

    /* RoPE tables for these T positions, computed as HF does in fp32: inv_freq = 1 / θ^(2i/hd), angle = p·inv_freq. */
    float *cos_t = malloc((size_t)T * half * sizeof(float)), *sin_t = malloc((size_t)T * half * sizeof(float));
    if (!cos_t || !sin_t) {
        free(cos_t);
        free(sin_t);
        return olmo_err("forward: out of memory");
    }
    for (int i = 0; i < half; i++) {
        float inv_freq = 1.0f / powf(c->rope_theta, (float)(2 * i) / (float)hd);
        for (int t = 0; t < T; t++) {
            float a = (float)(pos + t) * inv_freq;
            cos_t[(size_t)t * half + i] = cosf(a);
            sin_t[(size_t)t * half + i] = sinf(a);
        }
    }

    for (int t = 0; t < T; t++) linear_row_f32(s->x + (size_t)t * d, &m->embed, tokens[t]);
    for (int l = 0; l < c->n_layers; l++) block(m, s, l, T, pos, cos_t, sin_t);
    free(cos_t);
    free(sin_t);
    if (!logits) return 0;

    /* final norm, then logits for the last token (or all) */
    int first = all ? 0 : T - 1, n = T - first;
    float *h = s->x + (size_t)first * d;
    norm_rows(c, s->xb, h, m->final_norm, n, d);
    linear_forward(logits, s->xb, &m->lm_head, n);
    return 0;
}

int model_forward(const struct olmo_model *m, struct olmo_state *s, const int32_t *tokens, int T, int pos,
                  float *logits) {
    return forward(m, s, tokens, T, pos, logits, 0);
}

int model_forward_all(const struct olmo_model *m, struct olmo_state *s, const int32_t *tokens, int T, int pos,
                      float *logits) {
    return forward(m, s, tokens, T, pos, logits, 1);
}
