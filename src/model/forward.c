/* forward.c — the OLMo-1 / OLMo-2 / llama forward pass with a KV cache (spec §3), fp32 or bf16 (kernels/kv_cache.h).
 *
 * All T new tokens go through each layer together: every projection is one linear_forward call on a [T, ·]
 * activation matrix (a GEMM during prefill, a GEMV while decoding), so the kernels behind linear.h decide the
 * speed. Everything else (norms, RoPE, attention over the cache, SwiGLU) is fp32 here; per-token steps and
 * attention run on the kernels' thread pool (attention over a prompt goes to kernels/attention.h when it takes the
 * shape, else to attention_block below). The three architectures differ only in where the norms sit, which norm
 * it is, QK-norm and clip_qkv — see block() below. */
#include "model/model.h"
#include "model/moe.h"
#include "model/rope.h"
#include "model/state_internal.h"
#include "base/cpu.h"
#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"
#include "model/kernels/attention.h"
#include "model/kernels/pool.h"
#include "model/kernels/vexp.h"

#include <immintrin.h>
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

#define ATT_QB MODEL_ATT_QB   /* queries per attention work unit (see attention_block) */

/* ---- attention over the cache ------------------------------------------------------------------------- */

/* att[t][h] = softmax(q[t][h] · K[0..pos+t]ᵀ / sqrt(hd)) · V[0..pos+t] for every new token t and query head h;
 * query head h reads KV head h / (H / Hkv) (HF repeat_kv: consecutive groups).
 *
 * Work unit (one pool chunk): one head and a block of up to ATT_QB consecutive queries. Each key and value row is
 * read once per block and used for all its queries (while in L1), instead of once per query: during prefill that
 * divides the KV-cache traffic by ATT_QB. The kernels' thread pool (kernels/pool.h) runs the chunks, so the whole
 * forward pass shares one set of threads that sleep instead of spinning between steps. */
/* A bf16 cache (kernels/kv_cache.h) is read through kv_row: each key or value row is widened exactly into a per-thread
 * fp32 row, then used as an fp32 row is; an fp32 cache is read in place.
 * One head's rows are contiguous (model_kv_offset: head-major), so the keys, then the values, are two sequential
 * streams; the rows ATT_AHEAD keys ahead are still fetched explicitly, to cross 4 KB page ends without a stall. */
#define ATT_AHEAD 8
static inline void prefetch_row(const void *p, size_t bytes) {
    for (size_t i = 0; i < bytes; i += 64) __builtin_prefetch((const char *)p + i, 0, 0);
}

/* One sequence's attention in one layer: T queries at positions pos.. over its cache. */
struct att_job {
    const struct olmo_config *c;
    struct olmo_state *w;   /* whose per-thread score and row buffers are used */
    const float *q;         /* [T][H·hd] */
    float *att;             /* [T][H·hd] */
    const void *K, *V;      /* this layer's cache, elements of dt: [Hkv][cap][hd], position p in row p % cap */
    enum olmo_kv_dtype dt;
    int cap, window;        /* window 0: causal over the whole history; else query i sees keys i-window+1 .. i */
    int pos, T;
};

/* One work unit: query head h, queries t0 .. t0+ATT_QB-1 of job J. */
static void attend(const struct att_job *J, int h, int t0, int thread) {
    const struct olmo_config *c = J->c;
    struct olmo_state *w = J->w;
    int H = c->n_heads, hd = c->head_dim, group = c->n_heads / c->n_kv_heads, cap = J->cap;
    int nq = J->T - t0 < ATT_QB ? J->T - t0 : ATT_QB;
    size_t koff = (size_t)(h / group) * (size_t)cap * (size_t)hd, L = (size_t)w->scores_len;
    float scale = 1.0f / sqrtf((float)hd), *sc = w->scores + (size_t)thread * ATT_QB * L;
    enum olmo_kv_dtype dt = J->dt;
    size_t row_bytes = (size_t)hd * kv_elem_size(dt);
    float *buf = w->kv_rows + (size_t)thread * hd;   /* a bf16 row widened (kv_row); fp32 rows are read in place */
    const float *q[ATT_QB];
    float *o[ATT_QB];
    int first[ATT_QB] = {0}, last[ATT_QB] = {0};   /* query i sees keys first[i]..last[i] (causal, windowed) */
    for (int i = 0; i < nq; i++) {
        q[i] = J->q + ((size_t)(t0 + i) * H + h) * hd;
        o[i] = J->att + ((size_t)(t0 + i) * H + h) * hd;
        last[i] = J->pos + t0 + i;
        first[i] = J->window > 0 && last[i] - J->window + 1 > 0 ? last[i] - J->window + 1 : 0;
        memset(o[i], 0, (size_t)hd * sizeof(float));
    }
    int lo = first[0], n = J->pos + t0 + nq;   /* keys lo .. n-1 are seen by some query of the block */
    /* scores are stored at j - lo; the cache row of key j is j % cap, walked without a division per key */
    for (int j = lo, slot = lo % cap; j < n; j++, slot = slot + 1 == cap ? 0 : slot + 1) {
        size_t at = (size_t)slot * (size_t)hd + koff;
        if (j + ATT_AHEAD < n && slot + ATT_AHEAD < cap)
            prefetch_row((const char *)J->K + at * kv_elem_size(dt) + ATT_AHEAD * row_bytes, row_bytes);
        const float *k = kv_row(J->K, dt, at, hd, buf);
        for (int i = 0; i < nq; i++)
            if (j >= first[i] && j <= last[i]) sc[i * L + (size_t)(j - lo)] = dot(q[i], k, hd) * scale;
    }
    for (int i = 0; i < nq; i++) {   /* softmax of each query's row, in place */
        float *r = sc + i * L, mx = -INFINITY, sum = 0;   /* key j at r[j - lo] */
        int b = first[i] - lo, e = last[i] - lo;
        for (int j = b; j <= e; j++) mx = fmaxf(mx, r[j]);
        for (int j = b; j <= e; j++) {   /* clamped: glibc's expf takes a slow path when it underflows */
            r[j] = expf(fmaxf(r[j] - mx, -80.0f));
            sum += r[j];
        }
        float inv = 1.0f / sum;
        for (int j = b; j <= e; j++) r[j] *= inv;
    }
    for (int j = lo, slot = lo % cap; j < n; j++, slot = slot + 1 == cap ? 0 : slot + 1) {
        size_t at = (size_t)slot * (size_t)hd + koff;
        if (j + ATT_AHEAD < n && slot + ATT_AHEAD < cap)
            prefetch_row((const char *)J->V + at * kv_elem_size(dt) + ATT_AHEAD * row_bytes, row_bytes);
        const float *v = kv_row(J->V, dt, at, hd, buf);
        for (int i = 0; i < nq; i++) {
            if (j < first[i] || j > last[i]) continue;
            float p = sc[i * L + (size_t)(j - lo)], *oi = o[i];
#pragma omp simd
            for (int e = 0; e < hd; e++) oi[e] += p * v[e];
        }
    }
}

static void attention_block(void *ctx, int64_t chunk, int thread) {
    const struct att_job *J = ctx;
    attend(J, (int)(chunk % J->c->n_heads), (int)(chunk / J->c->n_heads) * ATT_QB, thread);
}

/* Batched decoding: chunk = sequence · H + head, one query each. */
static void attention_batch_block(void *ctx, int64_t chunk, int thread) {
    const struct att_job *jobs = ctx;
    int H = jobs[0].c->n_heads;
    attend(&jobs[chunk / H], (int)(chunk % H), 0, thread);
}

/* The job of sequence s (work buffers of w, rows from row0) in layer l. */
static struct att_job att_job_for(const struct olmo_config *c, struct olmo_state *w, struct olmo_state *s, int l,
                                  int row0, int T, int pos) {
    size_t layer_bytes = s->layer_off[l] * kv_elem_size(s->kv_dtype);
    size_t qd = (size_t)c->n_heads * c->head_dim;
    struct att_job J = {c, w, w->q + (size_t)row0 * qd, w->att + (size_t)row0 * qd, (const char *)s->k_cache + layer_bytes,
                        (const char *)s->v_cache + layer_bytes, s->kv_dtype, s->layer_cap[l],
                        model_layer_sliding(c, l) ? c->sliding_window : 0, pos, T};
    return J;
}

static void attention(const struct olmo_config *c, struct olmo_state *s, int layer, int T, int pos) {
    struct att_job J = att_job_for(c, s, s, layer, 0, T, pos);
    /* prompts (T >= 8): the tiled kernel (kernels/attention.h) when no window or ring is in play; it declines
     * what it does not handle */
    if ((J.window == 0 || pos + T <= J.window) && pos + T <= J.cap &&
        attn_prefill(s->att, s->q, J.K, J.V, s->kv_dtype, T, pos, c->n_heads, c->n_kv_heads, c->head_dim, c->head_dim,
                     (int64_t)J.cap * c->head_dim, 1.0f / sqrtf((float)c->head_dim)) == 0)
        return;
    olmo_pool_for((int64_t)((T + ATT_QB - 1) / ATT_QB) * c->n_heads, attention_block, &J);
}

/* ---- one block ------------------------------------------------------------------------------------------ */

/* A projection, with its time added to the state's profile (olmo_now costs ~20 ns; a projection ≥ µs). */
static void proj(struct olmo_state *s, float *y, const float *x, const struct olmo_linear *W, int T, int batch) {
    double t0 = olmo_now();
    if (batch) linear_forward_batch(y, x, W, T);
    else linear_forward(y, x, W, T);
    s->t_proj += olmo_now() - t0;
}

/* Per-token steps between the projections. Each runs on one token's row; prefill spreads the T rows over the
 * thread pool (single-threaded they would cost ~10 % of a 2-thread prefill), decoding runs its one row inline. */
struct step {
    const struct olmo_config *c;
    struct olmo_state *s;              /* whose scratch buffers hold the rows */
    struct olmo_state *const *rs;      /* batched: row t belongs to sequence rs[t] at position rp[t]; */
    const int *rp;                     /* else every row to s, row t at position pos + t */
    const struct olmo_layer *w;
    const float *norm_w, *cos_t, *sin_t;
    int layer, pos;
};

static void per_token(int T, olmo_pool_fn fn, struct step *J) {
    if (T == 1) fn(J, 0, 0);
    else olmo_pool_for(T, fn, J);
}

/* xb[t] = Norm(x[t]): the pre-norm of OLMo-1 (LayerNorm) and llama (RMSNorm with norm_w). */
static void step_prenorm(void *ctx, int64_t t, int thread) {
    const struct step *J = ctx;
    norm_rows(J->c, J->s->xb + t * J->c->d_model, J->s->x + t * J->c->d_model, J->norm_w, 1, J->c->d_model);
}

/* q, k, v of token t: QK-norm over the whole projection (OLMo-2), clip_qkv (OLMo-1), RoPE, then into the cache. */
static void step_qkv(void *ctx, int64_t t, int thread) {
    const struct step *J = ctx;
    const struct olmo_config *c = J->c;
    struct olmo_state *s = J->s;
    int hd = c->head_dim, qd = c->n_heads * hd, kvd = s->kv_dim, half = hd / 2;
    float *q = s->q + t * qd, *k = s->k + t * kvd, *v = s->v + t * kvd;
    if (c->qk_norm) {
        rmsnorm(q, q, J->w->q_norm, qd, c->norm_eps);
        rmsnorm(k, k, J->w->k_norm, kvd, c->norm_eps);
    }
    if (c->clip_qkv > 0) {
        clamp_rows(q, (size_t)qd, c->clip_qkv);
        clamp_rows(k, (size_t)kvd, c->clip_qkv);
        clamp_rows(v, (size_t)kvd, c->clip_qkv);
    }
    rope(q, c->n_heads, hd, J->cos_t + t * half, J->sin_t + t * half);
    rope(k, c->n_kv_heads, hd, J->cos_t + t * half, J->sin_t + t * half);
    struct olmo_state *cs = J->rs ? J->rs[t] : s;   /* whose cache the row goes to */
    int p = J->rp ? J->rp[t] : J->pos + (int)t;
    for (int g = 0; g < c->n_kv_heads; g++) {   /* bf16 cache: rounded here, once */
        size_t at = model_kv_offset(cs, J->layer, g, p);
        kv_store(cs->k_cache, cs->kv_dtype, at, k + (size_t)g * hd, hd);
        kv_store(cs->v_cache, cs->kv_dtype, at, v + (size_t)g * hd, hd);
    }
}

/* x[t] += tmp[t], or x[t] += RMS(tmp[t], norm_w) when the norm sits after the sublayer (OLMo-2). */
static void step_residual(void *ctx, int64_t t, int thread) {
    const struct step *J = ctx;
    int d = J->c->d_model;
    float *o = J->s->tmp + t * d, *x = J->s->x + t * d;
    if (J->c->norm_after) rmsnorm(o, o, J->norm_w, d, J->c->norm_eps);
#pragma omp simd
    for (int i = 0; i < d; i++) x[i] += o[i];
}

/* hb[t] = silu(hb[t]) * hb2[t]. The exp argument is clamped to [-80, 80] (changes silu by < 1e-33 relative) so
 * glibc's expf never takes its slow under/overflow path. With AVX-512 (when the CPU has it, base/cpu.h), 16
 * lanes at a time (kernels/vexp.h). */
OLMO_TARGET_AVX512_BEGIN
static int swiglu_avx512(float *g, const float *u, int n) {
    int i = 0;
    const __m512 lo = _mm512_set1_ps(-80.0f), hi = _mm512_set1_ps(80.0f), one = _mm512_set1_ps(1.0f);
    for (; i + 16 <= n; i += 16) {
        __m512 x = _mm512_loadu_ps(g + i);
        __m512 z = _mm512_min_ps(_mm512_max_ps(_mm512_sub_ps(_mm512_setzero_ps(), x), lo), hi);
        __m512 e = olmo_exp512(z);
        _mm512_storeu_ps(g + i, _mm512_mul_ps(_mm512_div_ps(x, _mm512_add_ps(one, e)), _mm512_loadu_ps(u + i)));
    }
    return i;
}
OLMO_TARGET_END

static void swiglu_row(float *g, const float *u, int n) {
    int i = olmo_cpu_has(OLMO_CPU_SET_AVX512) ? swiglu_avx512(g, u, n) : 0;
    for (; i < n; i++) g[i] = g[i] / (1.0f + expf(fmaxf(fminf(-g[i], 80.0f), -80.0f))) * u[i];
}

void model_swiglu(float *g, const float *u, int n) { swiglu_row(g, u, n); }

static void step_swiglu(void *ctx, int64_t t, int thread) {
    const struct step *J = ctx;
    int I = J->c->d_ff;
    swiglu_row(J->s->hb + t * I, J->s->hb2 + t * I, I);
}

/* RoPE tables of the two layer kinds (0 full, 1 sliding; one shared table when they agree). */
struct rope_tabs {
    float *cos[2], *sin[2];
};

/* One layer over T rows: one sequence's tokens pos..pos+T-1 (rs == NULL), or one token of each of T sequences
 * (batched decoding: rs[t], rp[t]; jobs has room for T attention jobs). */
static void block(const struct olmo_model *m, struct olmo_state *s, int l, int T, int pos, const struct rope_tabs *R,
                  struct olmo_state *const *rs, const int *rp, struct att_job *jobs) {
    const struct olmo_config *c = &m->cfg;
    const struct olmo_layer *w = &m->layers[l];
    int kind = model_layer_sliding(c, l);
    struct step J = {.c = c, .s = s, .rs = rs, .rp = rp, .w = w, .cos_t = R->cos[kind], .sin_t = R->sin[kind], .layer = l,
                     .pos = pos};
    const float *in = s->x;
    int b = rs != NULL;

    /* attention sublayer: pre-norm (OLMo-1, llama) or the raw residual stream (OLMo-2) */
    if (!c->norm_after) {
        J.norm_w = w->attn_norm;
        per_token(T, step_prenorm, &J);
        in = s->xb;
    }
    proj(s, s->q, in, &w->wq, T, b);
    proj(s, s->k, in, &w->wk, T, b);
    proj(s, s->v, in, &w->wv, T, b);
    per_token(T, step_qkv, &J);               /* QK-norm / clip, RoPE, append k and v to the cache */
    double ta = olmo_now();
    if (b) {
        for (int i = 0; i < T; i++) jobs[i] = att_job_for(c, s, rs[i], l, i, 1, rp[i]);
        olmo_pool_for((int64_t)T * c->n_heads, attention_batch_block, jobs);
    } else {
        attention(c, s, l, T, pos);
    }
    s->t_attn += olmo_now() - ta;
    proj(s, s->tmp, s->att, &w->wo, T, b);
    J.norm_w = w->attn_norm;
    per_token(T, step_residual, &J);          /* h += o   (OLMo-2: h += RMS(o)) */

    /* MLP sublayer: down(silu(gate(in)) * up(in)) */
    in = s->x;
    if (!c->norm_after) {
        J.norm_w = w->ffn_norm;
        per_token(T, step_prenorm, &J);
        in = s->xb;
    }
    if (c->n_experts > 0) {
        moe_forward(m, s, l, in, s->tmp, T, b);   /* OLMoE: the experts the router picks */
    } else {
        proj(s, s->hb, in, &w->w_gate, T, b);
        proj(s, s->hb2, in, &w->w_up, T, b);
        per_token(T, step_swiglu, &J);
        proj(s, s->tmp, s->hb, &w->w_down, T, b);
    }
    J.norm_w = w->ffn_norm;
    per_token(T, step_residual, &J);          /* h += m   (OLMo-2: h += RMS(m)) */
}

/* ---- the whole model ------------------------------------------------------------------------------------ */

static void rope_tabs_free(struct rope_tabs *R) {
    free(R->cos[0]);
    free(R->sin[0]);
    if (R->cos[1] != R->cos[0]) {
        free(R->cos[1]);
        free(R->sin[1]);
    }
    memset(R, 0, sizeof *R);
}

/* Tables for T rows at positions pos[t], computed as HF does in fp32: angle = p·inv_freq, cos/sin scaled by the
 * variant's attention factor (rope.c). 0, or -1 with olmo_err (out of memory; R freed). */
static int rope_tables(const struct olmo_config *c, const int *pos, int T, struct rope_tabs *R) {
    int hd = c->head_dim, half = hd / 2, kinds = rope_same(c) ? 1 : 2;
    float inv[hd / 2 + 1];
    memset(R, 0, sizeof *R);
    for (int k = 0; k < kinds; k++) {
        struct olmo_rope r = rope_for(c, k);
        float a = rope_inv_freq(&r, hd, inv);
        R->cos[k] = malloc((size_t)T * half * sizeof(float));
        R->sin[k] = malloc((size_t)T * half * sizeof(float));
        if (!R->cos[k] || !R->sin[k]) {
            if (kinds == 1) { R->cos[1] = R->cos[0]; R->sin[1] = R->sin[0]; }
            rope_tabs_free(R);
            return olmo_err("forward: out of memory (RoPE tables for %d tokens)", T);
        }
        for (int i = 0; i < half; i++)
            for (int t = 0; t < T; t++) {
                float ang = (float)pos[t] * inv[i];
                R->cos[k][(size_t)t * half + i] = cosf(ang) * a;
                R->sin[k][(size_t)t * half + i] = sinf(ang) * a;
            }
    }
    if (kinds == 1) {
        R->cos[1] = R->cos[0];
        R->sin[1] = R->sin[0];
    }
    return 0;
}

/* The final norm and the logits of rows first..first+n-1. */
static void head(const struct olmo_model *m, struct olmo_state *s, int first, int n, float *logits, int batch) {
    const struct olmo_config *c = &m->cfg;
    int d = c->d_model;
    norm_rows(c, s->xb, s->x + (size_t)first * d, m->final_norm, n, d);
    proj(s, logits, s->xb, &m->lm_head, n, batch);
}

static int has_ring(const struct olmo_state *s) {
    for (int l = 0; l < s->n_layers; l++)
        if (s->layer_cap[l] < s->max_seq) return 1;
    return 0;
}

static int forward(const struct olmo_model *m, struct olmo_state *s, const int32_t *tokens, int T, int pos,
                   float *logits, int all) {
    const struct olmo_config *c = &m->cfg;
    if (T < 1) return olmo_err("forward: no tokens");
    if (pos < 0 || pos > s->max_seq - T)
        return olmo_err("forward: positions %d..%d do not fit the %d-position context", pos, pos + T - 1, s->max_seq);
    if (has_ring(s) && (pos > s->pos || !model_state_can_rewind(s, pos)))
        return olmo_err("forward: position %d with %d positions cached: a sliding-window cache can only continue at %d "
                        "or go back at most %d positions", pos, s->pos, s->pos, MODEL_RING_SLACK);
    for (int t = 0; t < T; t++)
        if (tokens[t] < 0 || tokens[t] >= c->vocab_size)
            return olmo_err("forward: token id %d is outside the vocabulary [0, %d)", tokens[t], c->vocab_size);
    /* a sliding-window ring takes at most MODEL_RING_SLACK + 1 new tokens per pass (model.h) */
    int chunk = has_ring(s) ? MODEL_RING_SLACK : T;
    if (T > chunk) {
        for (int t0 = 0; t0 < T; t0 += chunk) {
            int n = T - t0 < chunk ? T - t0 : chunk;
            float *lg = !logits ? NULL : all ? logits + (size_t)t0 * c->vocab_size : t0 + n == T ? logits : NULL;
            if (forward(m, s, tokens + t0, n, pos + t0, lg, all) != 0) return -1;
        }
        return 0;
    }
    if (model_state_scratch(s, c, T, pos + T) != 0 || moe_scratch(s, c, T) != 0)
        return olmo_err_prefix("forward scratch for %d tokens: ", T);
    double t_start = olmo_now();
    int d = c->d_model;

    int *rows_pos = malloc((size_t)T * sizeof(int));
    struct rope_tabs R;
    if (!rows_pos) return olmo_err("forward: out of memory");
    for (int t = 0; t < T; t++) rows_pos[t] = pos + t;
    int rc = rope_tables(c, rows_pos, T, &R);
    free(rows_pos);
    if (rc != 0) return -1;
    for (int t = 0; t < T; t++) linear_row_f32(s->x + (size_t)t * d, &m->embed, tokens[t]);
    for (int l = 0; l < c->n_layers; l++) block(m, s, l, T, pos, &R, NULL, NULL, NULL);
    rope_tabs_free(&R);
    s->pos = pos + T;
    if (logits) {   /* final norm, then logits for the last token (or all) */
        int first = all ? 0 : T - 1;
        head(m, s, first, T - first, logits, 0);
    }
    s->t_total += olmo_now() - t_start;
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

int model_forward_batch(const struct olmo_model *m, struct olmo_state *const *states, const int32_t *tokens, int n,
                        float *logits) {
    const struct olmo_config *c = &m->cfg;
    if (n < 1) return olmo_err("forward batch: no sequences");
    int len = 0;
    for (int i = 0; i < n; i++) {
        const struct olmo_state *si = states[i];
        if (!si || si->n_layers != c->n_layers || si->kv_dim != c->n_kv_heads * c->head_dim)
            return olmo_err("forward batch: sequence %d has no state made for this model", i);
        if (si->pos < 0 || si->pos >= si->max_seq)
            return olmo_err("forward batch: sequence %d is at position %d; its context holds %d", i, si->pos, si->max_seq);
        if (tokens[i] < 0 || tokens[i] >= c->vocab_size)
            return olmo_err("forward batch: sequence %d: token id %d is outside the vocabulary [0, %d)", i, tokens[i],
                            c->vocab_size);
        for (int j = 0; j < i; j++)
            if (states[j] == si) return olmo_err("forward batch: sequences %d and %d share one state", j, i);
        if (si->pos + 1 > len) len = si->pos + 1;
    }
    struct olmo_state *w = states[0];
    if (model_state_scratch(w, c, n, len) != 0 || moe_scratch(w, c, n) != 0)
        return olmo_err_prefix("forward batch scratch for %d sequences: ", n);
    double t_start = olmo_now();
    int d = c->d_model;
    int *rp = malloc((size_t)n * sizeof *rp);
    struct att_job *jobs = malloc((size_t)n * sizeof *jobs);
    struct rope_tabs R;
    if (!rp || !jobs) {
        free(rp);
        free(jobs);
        return olmo_err("forward batch: out of memory");
    }
    for (int i = 0; i < n; i++) rp[i] = states[i]->pos;
    if (rope_tables(c, rp, n, &R) != 0) {
        free(rp);
        free(jobs);
        return -1;
    }
    for (int i = 0; i < n; i++) linear_row_f32(w->x + (size_t)i * d, &m->embed, tokens[i]);
    for (int l = 0; l < c->n_layers; l++) block(m, w, l, n, 0, &R, states, rp, jobs);
    free(rp);
    free(jobs);
    rope_tabs_free(&R);
    for (int i = 0; i < n; i++) states[i]->pos++;
    if (logits) head(m, w, 0, n, logits, 1);
    w->t_total += olmo_now() - t_start;
    return 0;
}
