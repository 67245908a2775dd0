/* forward.c — the OLMo-1 / OLMo-2 / llama forward pass with a KV cache (spec §3), fp32 or bf16 (kernels/kv_cache.h).
 *
 * All T new tokens go through each layer together: every projection is one linear_forward call on a [T, ·]
 * activation matrix (a GEMM during prefill, a GEMV while decoding), so the kernels behind linear.h decide the
 * speed. Everything else (norms, RoPE, attention over the cache, SwiGLU) is fp32 here; per-token steps and
 * attention run on the kernels' thread pool (attention over a prompt goes to kernels/attention.h when it takes the
 * shape, else to attention_block below). The three architectures differ only in where the norms sit, which norm
 * it is, QK-norm and clip_qkv — see block() below. */
#include "model/model.h"
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
#include <sys/mman.h>

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

#define ATT_QB 8   /* queries per attention work unit (see attention_block) */

/* ---- state ---------------------------------------------------------------------------------------------- */

/* The KV cache in 2 MB pages where the kernel allows (transparent huge pages on request): attention reads each
 * head's keys at a stride of a whole cache row (n_kv_heads·head_dim elements, 8 KB fp32 for OLMo-2 1B), so with 4 KB
 * pages nearly every key is a TLB miss. Not zeroed: only positions already written are ever read. */
static void *cache_alloc(size_t bytes) {
    const size_t huge = (size_t)2 << 20;
    void *p = NULL;
    if (bytes >= huge) {
        bytes = (bytes + huge - 1) & ~(huge - 1);
        if (posix_memalign(&p, huge, bytes) != 0) p = NULL;
        else madvise(p, bytes, MADV_HUGEPAGE);
    } else if (posix_memalign(&p, 64, bytes ? bytes : 64) != 0) p = NULL;
    if (!p) olmo_err("out of memory (%zu bytes of KV cache)", bytes);
    return p;
}

const char *model_kv_dtype_name(enum olmo_kv_dtype dt) {
    return dt == OLMO_KV_F32 ? "f32" : dt == OLMO_KV_BF16 ? "bf16" : "?";
}

int model_kv_dtype_parse(const char *name, enum olmo_kv_dtype *dt) {
    if (!strcmp(name, "f32")) *dt = OLMO_KV_F32;
    else if (!strcmp(name, "bf16")) *dt = OLMO_KV_BF16;
    else return olmo_err("KV cache type '%s': expected 'f32' or 'bf16'", name);
    return 0;
}

int model_state_init(struct olmo_state *s, const struct olmo_model *m, int max_seq) {
    return model_state_init_opts(s, m, max_seq, NULL);
}

int model_state_init_opts(struct olmo_state *s, const struct olmo_model *m, int max_seq, const struct model_state_opts *o) {
    memset(s, 0, sizeof *s);
    const struct olmo_config *c = &m->cfg;
    enum olmo_kv_dtype dt = o ? o->kv_dtype : OLMO_KV_F32;
    if (max_seq < 1) return olmo_err("state: context length %d must be positive", max_seq);
    if (dt != OLMO_KV_F32 && dt != OLMO_KV_BF16) return olmo_err("state: unknown KV cache type %d", (int)dt);
    s->max_seq = max_seq;
    s->kv_dim = c->n_kv_heads * c->head_dim;
    s->head_dim = c->head_dim;
    s->kv_dtype = dt;
    size_t n = (size_t)c->n_layers * (size_t)max_seq * (size_t)s->kv_dim;
    s->kv_bytes = 2 * n * kv_elem_size(dt);
    s->k_cache = cache_alloc(n * kv_elem_size(dt));
    s->v_cache = cache_alloc(n * kv_elem_size(dt));
    if (!s->k_cache || !s->v_cache) {
        model_state_free(s);
        return olmo_err_prefix("KV cache for %d positions: ", max_seq);
    }
    return 0;
}

void model_state_free(struct olmo_state *s) {
    free(s->k_cache); free(s->v_cache);
    free(s->x); free(s->xb); free(s->q); free(s->k); free(s->v); free(s->att); free(s->hb); free(s->hb2);
    free(s->tmp); free(s->scores); free(s->kv_rows);
    memset(s, 0, sizeof *s);
}

/* Grows the per-token buffers to hold T tokens and the score rows to hold ATT_QB rows of `len` keys per thread. */
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
        free(s->kv_rows);
        s->scores = olmo_aligned_alloc((size_t)len * ATT_QB * (size_t)nth * sizeof(float));
        s->kv_rows = olmo_aligned_alloc((size_t)c->head_dim * (size_t)nth * sizeof(float));
        if (!s->scores || !s->kv_rows) { s->scores_len = 0; return -1; }
        s->scores_len = len;
        s->scores_threads = nth;
    }
    return 0;
}

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

struct att_job {
    const struct olmo_config *c;
    struct olmo_state *s;
    const void *K, *V;    /* this layer's cache, elements of s->kv_dtype */
    int pos, T;
};

static void attention_block(void *ctx, int64_t chunk, int thread) {
    const struct att_job *J = ctx;
    const struct olmo_config *c = J->c;
    struct olmo_state *s = J->s;
    int H = c->n_heads, hd = c->head_dim, group = c->n_heads / c->n_kv_heads;
    int h = (int)(chunk % H), t0 = (int)(chunk / H) * ATT_QB, nq = J->T - t0 < ATT_QB ? J->T - t0 : ATT_QB;
    size_t koff = (size_t)(h / group) * (size_t)s->max_seq * (size_t)hd, L = (size_t)s->scores_len;
    float scale = 1.0f / sqrtf((float)hd), *sc = s->scores + (size_t)thread * ATT_QB * L;
    enum olmo_kv_dtype dt = s->kv_dtype;
    size_t row_bytes = (size_t)hd * kv_elem_size(dt);
    float *buf = s->kv_rows + (size_t)thread * hd;   /* a bf16 row widened (kv_row); fp32 rows are read in place */
    const float *q[ATT_QB];
    float *o[ATT_QB];
    int last[ATT_QB];   /* query i sees keys 0..last[i] (causal) */
    for (int i = 0; i < nq; i++) {
        q[i] = s->q + ((size_t)(t0 + i) * H + h) * hd;
        o[i] = s->att + ((size_t)(t0 + i) * H + h) * hd;
        last[i] = J->pos + t0 + i;
        memset(o[i], 0, (size_t)hd * sizeof(float));
    }
    int n = J->pos + t0 + nq;   /* keys any query of the block sees */
    for (int j = 0; j < n; j++) {
        size_t at = (size_t)j * (size_t)hd + koff;
        if (j + ATT_AHEAD < n) prefetch_row((const char *)J->K + at * kv_elem_size(dt) + ATT_AHEAD * row_bytes, row_bytes);
        const float *k = kv_row(J->K, dt, at, hd, buf);
        for (int i = 0; i < nq; i++)
            if (j <= last[i]) sc[i * L + j] = dot(q[i], k, hd) * scale;
    }
    for (int i = 0; i < nq; i++) {   /* softmax of each query's row, in place */
        float *r = sc + i * L, mx = -INFINITY, sum = 0;
        for (int j = 0; j <= last[i]; j++) mx = fmaxf(mx, r[j]);
        for (int j = 0; j <= last[i]; j++) {   /* clamped: glibc's expf takes a slow path when it underflows */
            r[j] = expf(fmaxf(r[j] - mx, -80.0f));
            sum += r[j];
        }
        float inv = 1.0f / sum;
        for (int j = 0; j <= last[i]; j++) r[j] *= inv;
    }
    for (int j = 0; j < n; j++) {
        size_t at = (size_t)j * (size_t)hd + koff;
        if (j + ATT_AHEAD < n) prefetch_row((const char *)J->V + at * kv_elem_size(dt) + ATT_AHEAD * row_bytes, row_bytes);
        const float *v = kv_row(J->V, dt, at, hd, buf);
        for (int i = 0; i < nq; i++) {
            if (j > last[i]) continue;
            float p = sc[i * L + j], *oi = o[i];
#pragma omp simd
            for (int e = 0; e < hd; e++) oi[e] += p * v[e];
        }
    }
}

static void attention(const struct olmo_config *c, struct olmo_state *s, int layer, int T, int pos) {
    size_t layer_bytes = model_kv_offset(s, layer, 0, 0) * kv_elem_size(s->kv_dtype);
    struct att_job J = {c, s, (const char *)s->k_cache + layer_bytes, (const char *)s->v_cache + layer_bytes, pos, T};
    /* prompts (T >= 8): the tiled kernel (kernels/attention.h); it declines what it does not handle */
    if (attn_prefill(s->att, s->q, J.K, J.V, s->kv_dtype, T, pos, c->n_heads, c->n_kv_heads, c->head_dim, c->head_dim,
                     (int64_t)s->max_seq * c->head_dim, 1.0f / sqrtf((float)c->head_dim)) == 0)
        return;
    olmo_pool_for((int64_t)((T + ATT_QB - 1) / ATT_QB) * c->n_heads, attention_block, &J);
}

/* ---- one block ------------------------------------------------------------------------------------------ */

/* A projection, with its time added to the state's profile (olmo_now costs ~20 ns; a projection ≥ µs). */
static void proj(struct olmo_state *s, float *y, const float *x, const struct olmo_linear *W, int T) {
    double t0 = olmo_now();
    linear_forward(y, x, W, T);
    s->t_proj += olmo_now() - t0;
}

/* Per-token steps between the projections. Each runs on one token's row; prefill spreads the T rows over the
 * thread pool (single-threaded they would cost ~10 % of a 2-thread prefill), decoding runs its one row inline. */
struct step {
    const struct olmo_config *c;
    struct olmo_state *s;
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
    for (int g = 0; g < c->n_kv_heads; g++) {   /* bf16 cache: rounded here, once */
        size_t at = model_kv_offset(s, J->layer, g, J->pos + (int)t);
        kv_store(s->k_cache, s->kv_dtype, at, k + (size_t)g * hd, hd);
        kv_store(s->v_cache, s->kv_dtype, at, v + (size_t)g * hd, hd);
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

static void step_swiglu(void *ctx, int64_t t, int thread) {
    const struct step *J = ctx;
    int I = J->c->d_ff;
    swiglu_row(J->s->hb + t * I, J->s->hb2 + t * I, I);
}

static void block(const struct olmo_model *m, struct olmo_state *s, int l, int T, int pos, const float *cos_t,
                  const float *sin_t) {
    const struct olmo_config *c = &m->cfg;
    const struct olmo_layer *w = &m->layers[l];
    struct step J = {.c = c, .s = s, .w = w, .cos_t = cos_t, .sin_t = sin_t, .layer = l, .pos = pos};
    const float *in = s->x;

    /* attention sublayer: pre-norm (OLMo-1, llama) or the raw residual stream (OLMo-2) */
    if (!c->norm_after) {
        J.norm_w = w->attn_norm;
        per_token(T, step_prenorm, &J);
        in = s->xb;
    }
    proj(s, s->q, in, &w->wq, T);
    proj(s, s->k, in, &w->wk, T);
    proj(s, s->v, in, &w->wv, T);
    per_token(T, step_qkv, &J);               /* QK-norm / clip, RoPE, append k and v to the cache */
    double ta = olmo_now();
    attention(c, s, l, T, pos);
    s->t_attn += olmo_now() - ta;
    proj(s, s->tmp, s->att, &w->wo, T);
    J.norm_w = w->attn_norm;
    per_token(T, step_residual, &J);          /* h += o   (OLMo-2: h += RMS(o)) */

    /* MLP sublayer: down(silu(gate(in)) * up(in)) */
    in = s->x;
    if (!c->norm_after) {
        J.norm_w = w->ffn_norm;
        per_token(T, step_prenorm, &J);
        in = s->xb;
    }
    proj(s, s->hb, in, &w->w_gate, T);
    proj(s, s->hb2, in, &w->w_up, T);
    per_token(T, step_swiglu, &J);
    proj(s, s->tmp, s->hb, &w->w_down, T);
    J.norm_w = w->ffn_norm;
    per_token(T, step_residual, &J);          /* h += m   (OLMo-2: h += RMS(m)) */
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
    double t_start = olmo_now();
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
    if (!logits) {
        s->t_total += olmo_now() - t_start;
        return 0;
    }

    /* final norm, then logits for the last token (or all) */
    int first = all ? 0 : T - 1, n = T - first;
    float *h = s->x + (size_t)first * d;
    norm_rows(c, s->xb, h, m->final_norm, n, d);
    proj(s, logits, s->xb, &m->lm_head, n);
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
