/* train_model.c — allocation, named parameter views, initialisation and the public entry points of the trainable
 * model (train_model.h). The math lives in train_forward.c / train_backward.c; this file only lays out memory. */
#include "train/train_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/mem.h"
#include "model/kernels/gemm_bf16.h"
#include "model/kernels/matmul.h"
#include "train/metrics.h"
#include "train/train_acts.h"

/* ---- configuration check -------------------------------------------------------------------------------- */

static int check_config(const struct olmo_config *c, int B, int T) {
    if (c->d_model <= 0 || c->n_layers <= 0 || c->n_heads <= 0 || c->n_kv_heads <= 0 || c->head_dim <= 0 ||
        c->d_ff <= 0 || c->vocab_size <= 0)
        return olmo_err("train model: expected positive sizes, found d_model %d n_layers %d n_heads %d "
                        "n_kv_heads %d head_dim %d d_ff %d vocab %d",
                        c->d_model, c->n_layers, c->n_heads, c->n_kv_heads, c->head_dim, c->d_ff, c->vocab_size);
    if (c->n_heads * c->head_dim != c->d_model)
        return olmo_err("train model: expected n_heads·head_dim = d_model, found %d·%d != %d", c->n_heads,
                        c->head_dim, c->d_model);
    if (c->n_heads % c->n_kv_heads)
        return olmo_err("train model: n_heads %d is not a multiple of n_kv_heads %d", c->n_heads, c->n_kv_heads);
    if (c->head_dim % 2) return olmo_err("train model: RoPE needs an even head_dim, found %d", c->head_dim);
    if (c->norm_type != NORM_LAYERNORM_NOAFFINE && c->norm_type != NORM_LAYERNORM && c->norm_type != NORM_RMSNORM)
        return olmo_err("train model: unknown norm type %d", (int)c->norm_type);
    if (!(c->norm_eps > 0)) return olmo_err("train model: norm eps must be > 0, found %g", (double)c->norm_eps);
    if (!(c->rope_theta > 0)) return olmo_err("train model: rope_theta must be > 0, found %g", (double)c->rope_theta);
    if (B <= 0 || T <= 0) return olmo_err("train model: micro-batch must be positive, found B %d T %d", B, T);
    return 0;
}

/* ---- parameter views ------------------------------------------------------------------------------------ */

struct layout {
    struct train_model *m;
    size_t off;
    int cap;
};

static size_t add_view(struct layout *L, const char *name, int ndim, int64_t d0, int64_t d1,
                       enum train_param_kind kind, int layer) {
    struct train_model *m = L->m;
    struct train_param *p = &m->tensors[m->n_tensors++];
    snprintf(p->name, sizeof p->name, "%s", name);
    p->ndim = ndim;
    p->shape[0] = d0;
    p->shape[1] = ndim == 2 ? d1 : 1;
    p->numel = (size_t)d0 * (size_t)(ndim == 2 ? d1 : 1);
    p->offset = L->off;
    p->kind = kind;
    p->layer = layer;
    p->decay = kind == TRAIN_PARAM_LINEAR;
    L->off += p->numel;
    return p->offset;
}

/* Lays out every tensor; with m->tensors == NULL only counts. Order = checkpoint order. */
static void build_views(struct train_model *m) {
    const struct olmo_config *c = &m->cfg;
    struct layout L = {m, 0, 0};
    int64_t d = c->d_model, kvd = (int64_t)c->n_kv_heads * c->head_dim, I = c->d_ff;
    char nm[80];
    int affine = c->norm_type != NORM_LAYERNORM_NOAFFINE;
    m->n_tensors = 0;
    m->embed = add_view(&L, "model.embed_tokens.weight", 2, c->vocab_size, d, TRAIN_PARAM_EMBEDDING, -1);
    for (int l = 0; l < c->n_layers; l++) {
        struct train_layer *ly = &m->layers[l];
#define NAME(fmt) (snprintf(nm, sizeof nm, "model.layers.%d." fmt, l), nm)
        ly->wqkv = add_view(&L, NAME("self_attn.q_proj.weight"), 2, d, d, TRAIN_PARAM_LINEAR, l);
        add_view(&L, NAME("self_attn.k_proj.weight"), 2, kvd, d, TRAIN_PARAM_LINEAR, l);
        add_view(&L, NAME("self_attn.v_proj.weight"), 2, kvd, d, TRAIN_PARAM_LINEAR, l);
        ly->wo = add_view(&L, NAME("self_attn.o_proj.weight"), 2, d, d, TRAIN_PARAM_LINEAR, l);
        ly->wgu = add_view(&L, NAME("mlp.gate_proj.weight"), 2, I, d, TRAIN_PARAM_LINEAR, l);
        add_view(&L, NAME("mlp.up_proj.weight"), 2, I, d, TRAIN_PARAM_LINEAR, l);
        ly->wdown = add_view(&L, NAME("mlp.down_proj.weight"), 2, d, I, TRAIN_PARAM_LINEAR, l);
        ly->q_norm = ly->k_norm = ly->norm1 = ly->norm2 = TRAIN_NONE;
        if (c->qk_norm) {
            ly->q_norm = add_view(&L, NAME("self_attn.q_norm.weight"), 1, d, 0, TRAIN_PARAM_NORM, l);
            ly->k_norm = add_view(&L, NAME("self_attn.k_norm.weight"), 1, kvd, 0, TRAIN_PARAM_NORM, l);
        }
        if (affine) {
            if (c->norm_after) {
                ly->norm1 = add_view(&L, NAME("post_attention_layernorm.weight"), 1, d, 0, TRAIN_PARAM_NORM, l);
                ly->norm2 = add_view(&L, NAME("post_feedforward_layernorm.weight"), 1, d, 0, TRAIN_PARAM_NORM, l);
            } else {
                ly->norm1 = add_view(&L, NAME("input_layernorm.weight"), 1, d, 0, TRAIN_PARAM_NORM, l);
                ly->norm2 = add_view(&L, NAME("post_attention_layernorm.weight"), 1, d, 0, TRAIN_PARAM_NORM, l);
            }
        }
#undef NAME
    }
    m->final_norm = affine ? add_view(&L, "model.norm.weight", 1, d, 0, TRAIN_PARAM_NORM, -1) : TRAIN_NONE;
    m->lm_head = c->tie_embeddings ? m->embed
                                   : add_view(&L, "lm_head.weight", 2, c->vocab_size, d, TRAIN_PARAM_LINEAR, -1);
    m->n_params = L.off;
}

struct train_model *train_model_create(const struct olmo_config *cfg, int B, int T, enum train_precision prec) {
    if (check_config(cfg, B, T)) return NULL;
    struct train_model *m = olmo_calloc(1, sizeof *m);
    if (!m) return NULL;
    m->cfg = *cfg;
    m->B = B;
    m->T = T;
    m->precision = prec;
    m->tensors = olmo_calloc((size_t)cfg->n_layers * 11 + 4, sizeof *m->tensors);
    m->layers = olmo_calloc((size_t)cfg->n_layers, sizeof *m->layers);
    m->acts = olmo_calloc(1, sizeof *m->acts);
    if (!m->tensors || !m->layers || !m->acts) goto fail;
    build_views(m);
    size_t bytes = m->n_params * sizeof(float);
    m->params = olmo_aligned_alloc(bytes);
    m->grads = olmo_aligned_alloc(bytes);
    m->m = olmo_aligned_alloc(bytes);
    m->v = olmo_aligned_alloc(bytes);
    if (!m->params || !m->grads || !m->m || !m->v) {
        olmo_err("train model: out of memory for 4 x %zu bytes of parameters/gradients/moments", bytes);
        goto fail;
    }
    if (train_acts_alloc(m->acts, cfg, B, T)) goto fail;
    m->act_bytes = m->acts->bytes;
    if (prec == TRAIN_PREC_BF16) {
        m->bf16 = gemm_bf16_create();
        if (!m->bf16) goto fail;
    }
    return m;
fail:
    train_model_free(m);
    return NULL;
}

void train_model_free(struct train_model *m) {
    if (!m) return;
    if (m->acts) train_acts_free(m->acts);
    free(m->acts);
    gemm_bf16_free(m->bf16);
    free(m->params);
    free(m->grads);
    free(m->m);
    free(m->v);
    free(m->tensors);
    free(m->layers);
    free(m);
}

void train_model_zero_grad(struct train_model *m) { memset(m->grads, 0, m->n_params * sizeof(float)); }

const struct train_param *train_model_find(const struct train_model *m, const char *name) {
    for (int i = 0; i < m->n_tensors; i++)
        if (!strcmp(m->tensors[i].name, name)) return &m->tensors[i];
    return NULL;
}

int64_t train_model_num_params(const struct train_model *m) { return (int64_t)m->n_params; }

int64_t train_model_num_params_nonembed(const struct train_model *m) {
    return (int64_t)m->n_params - (int64_t)m->cfg.vocab_size * m->cfg.d_model;
}

double train_model_flops_per_token(const struct train_model *m, int T) { return metrics_flops_per_token(&m->cfg, T); }

/* ---- initialisation ------------------------------------------------------------------------------------- */

/* xoshiro256** seeded through splitmix64: small, fast, and fully specified here, so an init is reproducible
 * from the seed alone on any platform. */
struct rng { uint64_t s[4]; };

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
static uint64_t rng_next(struct rng *r) {
    uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45);
    return res;
}
static double rng_uniform(struct rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }   /* [0, 1) */

/* Normal(0, std) truncated to [-cut·std, cut·std] by rejection (exactly the truncated distribution, like PyTorch's
 * trunc_normal_, though not its stream of numbers). Box–Muller in double. */
static void fill_trunc_normal(float *w, size_t n, double std, double cut, struct rng *r) {
    for (size_t i = 0; i < n;) {
        double u1 = rng_uniform(r), u2 = rng_uniform(r);
        double rad = sqrt(-2.0 * log(1.0 - u1)), a = 6.283185307179586 * u2;
        double z[2] = {rad * cos(a), rad * sin(a)};
        for (int k = 0; k < 2 && i < n; k++)
            if (cut <= 0 || fabs(z[k]) <= cut) w[i++] = (float)(z[k] * std);
    }
}

int train_model_init(struct train_model *m, enum train_init fn, float std, float cutoff_factor, uint64_t seed) {
    if (fn != TRAIN_INIT_NORMAL && fn != TRAIN_INIT_MITCHELL)
        return olmo_err("train model init: unknown init_fn %d (expected normal or mitchell)", (int)fn);
    if (fn == TRAIN_INIT_NORMAL && !(std > 0))
        return olmo_err("train model init: init_std must be > 0, found %g", (double)std);
    struct rng r;
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r.s[i] = splitmix64(&x);
    const struct olmo_config *c = &m->cfg;
    double d = c->d_model, I = c->d_ff;
    double cut = cutoff_factor > 0 ? cutoff_factor : (fn == TRAIN_INIT_MITCHELL ? 3.0 : 0.0);
    for (int i = 0; i < m->n_tensors; i++) {
        const struct train_param *p = &m->tensors[i];
        float *w = m->params + p->offset;
        if (p->kind == TRAIN_PARAM_NORM) {
            for (size_t j = 0; j < p->numel; j++) w[j] = 1.0f;
            continue;
        }
        double s = std;
        if (fn == TRAIN_INIT_MITCHELL) {
            s = 1.0 / sqrt(d);   /* embedding, q/k/v, gate/up, head */
            if (strstr(p->name, "o_proj")) s = 1.0 / sqrt(2.0 * d * (p->layer + 1));
            if (strstr(p->name, "down_proj")) s = 1.0 / sqrt(2.0 * I * (p->layer + 1));
        }
        fill_trunc_normal(w, p->numel, s, cut, &r);
    }
    return 0;
}

/* ---- entry points --------------------------------------------------------------------------------------- */

int train_mm(struct train_model *m, float *C, const float *A, const float *B, int M, int N, int K, int transA,
             int transB, float beta) {
    if (m->precision == TRAIN_PREC_BF16) return gemm_bf16(m->bf16, C, A, B, M, N, K, transA, transB, 1.0f, beta);
    mm_f32(C, A, B, M, N, K, transA, transB, 1.0f, beta);
    return 0;
}

int train_mm_batched(struct train_model *m, float *C, const float *A, const float *B, int batch, int M, int N, int K,
                     int transA, int transB, float beta) {
    if (m->precision == TRAIN_PREC_BF16)
        return gemm_bf16_batched(m->bf16, C, A, B, batch, M, N, K, transA, transB, 1.0f, beta);
    for (int i = 0; i < batch; i++)
        mm_f32(C + (size_t)i * M * N, A + (size_t)i * M * K, B + (size_t)i * K * N, M, N, K, transA, transB, 1.0f,
               beta);
    return 0;
}

static int check_batch(const struct train_model *m, const int32_t *inputs, const int32_t *targets, int B, int T,
                       const struct train_loss_opts *lo) {
    if (B <= 0 || T <= 0 || B > m->B || T > m->T)
        return olmo_err("train step: micro-batch %dx%d does not fit the model's buffers (at most %dx%d)", B, T,
                        m->B, m->T);
    if (!lo || !(lo->denom > 0)) return olmo_err("train step: the loss denominator must be > 0");
    int V = m->cfg.vocab_size;
    for (int64_t i = 0; i < (int64_t)B * T; i++) {
        if (inputs[i] < 0 || inputs[i] >= V)
            return olmo_err("train step: input token %d at position %lld is outside the vocabulary [0, %d)",
                            inputs[i], (long long)i, V);
        if (targets[i] != TRAIN_IGNORE_INDEX && (targets[i] < 0 || targets[i] >= V))
            return olmo_err("train step: target %d at position %lld is outside the vocabulary [0, %d) and is not "
                            "the ignore index %d", targets[i], (long long)i, V, TRAIN_IGNORE_INDEX);
    }
    return 0;
}

int train_model_forward_backward(struct train_model *m, const int32_t *inputs, const int32_t *targets, int B, int T,
                                 const struct train_loss_opts *lo, struct train_loss_stats *stats) {
    struct train_loss_stats st;
    if (check_batch(m, inputs, targets, B, T, lo)) return -1;
    if (train_forward_pass(m, inputs, targets, B, T, lo, &st, 1)) return -1;
    if (train_backward_pass(m, inputs, B, T)) return -1;
    if (stats) *stats = st;
    return 0;
}

int train_model_forward(struct train_model *m, const int32_t *inputs, const int32_t *targets, int B, int T,
                        const struct train_loss_opts *lo, struct train_loss_stats *stats) {
    struct train_loss_stats st;
    if (check_batch(m, inputs, targets, B, T, lo)) return -1;
    if (train_forward_pass(m, inputs, targets, B, T, lo, &st, 0)) return -1;
    if (stats) *stats = st;
    return 0;
}
