/* model.c — loading a Hugging Face OLMo / OLMo-2 / llama directory into struct olmo_model (see model.h).
 *
 * The config says which tensors must exist and what shape each has (spec §4.1); the loader checks the
 * safetensors set against that list in both directions, so a missing, extra or misshapen tensor is reported by
 * name before any arithmetic runs. Projection weights are not copied: each struct olmo_linear points into the
 * memory map (a tensor whose offset is not a multiple of its element size is the one exception: it is copied
 * to aligned memory, because unaligned float loads are undefined behaviour). */
#include "model/model.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"
#include "formats/hf_config.h"
#include "model/quant_file.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct loader {
    const struct st_set *st;
    char *used;          /* per tensor in st: claimed by the model */
    int n_mixed;
    enum st_dtype first_dtype;
    int have_dtype;
};

/* Checks t's dtype, notes it (mixed-dtype report) and marks t used. t, or NULL with olmo_err. */
static const struct st_tensor *claim(struct loader *L, const struct st_tensor *t) {
    if (t->dtype != ST_F32 && t->dtype != ST_BF16 && t->dtype != ST_F16) {
        olmo_err("tensor '%s' has dtype %s; weights must be F32, BF16 or F16", t->name, st_dtype_name(t->dtype));
        return NULL;
    }
    if (!L->have_dtype) {
        L->first_dtype = t->dtype;
        L->have_dtype = 1;
    } else if (t->dtype != L->first_dtype) L->n_mixed++;
    L->used[t - L->st->tensors] = 1;
    return t;
}

static const struct st_tensor *want(struct loader *L, const char *name, int ndim, int64_t d0, int64_t d1) {
    const struct st_tensor *t = st_find(L->st, name);
    if (!t) {
        olmo_err("tensor '%s' [%lld%s%.0lld] is missing from the checkpoint", name, (long long)d0, ndim == 2 ? ", " : "",
                 ndim == 2 ? (long long)d1 : 0LL);
        return NULL;
    }
    char sb[160];
    if (t->ndim != ndim || t->shape[0] != d0 || (ndim == 2 && t->shape[1] != d1)) {
        if (ndim == 2)
            olmo_err("tensor '%s' has shape %s; config.json implies [%lld, %lld]", name, st_shape_str(t, sb, sizeof sb),
                     (long long)d0, (long long)d1);
        else
            olmo_err("tensor '%s' has shape %s; config.json implies [%lld]", name, st_shape_str(t, sb, sizeof sb), (long long)d0);
        return NULL;
    }
    return claim(L, t);
}

/* A 3-D tensor [d0, d1, d2] (fused OLMoE experts). */
static const struct st_tensor *want3(struct loader *L, const char *name, int64_t d0, int64_t d1, int64_t d2) {
    const struct st_tensor *t = st_find(L->st, name);
    char sb[160];
    if (!t) return olmo_err("tensor '%s' [%lld, %lld, %lld] is missing from the checkpoint", name, (long long)d0,
                            (long long)d1, (long long)d2), NULL;
    if (t->ndim != 3 || t->shape[0] != d0 || t->shape[1] != d1 || t->shape[2] != d2)
        return olmo_err("tensor '%s' has shape %s; config.json implies [%lld, %lld, %lld]", name,
                        st_shape_str(t, sb, sizeof sb), (long long)d0, (long long)d1, (long long)d2), NULL;
    if ((uintptr_t)t->data % st_dtype_size(t->dtype))
        return olmo_err("tensor '%s' is not aligned to its element size inside the file", name), NULL;
    return claim(L, t);
}

static enum olmo_dtype to_olmo_dtype(enum st_dtype d) {
    return d == ST_F32 ? OLMO_DTYPE_F32 : d == ST_BF16 ? OLMO_DTYPE_BF16 : OLMO_DTYPE_F16;
}

static int get_linear(struct loader *L, struct olmo_linear *W, const char *name, int64_t rows, int64_t cols) {
    const struct st_tensor *t = st_find(L->st, name), *s;
    if (t && t->dtype == ST_U8) {   /* a quantized checkpoint (olmo quantize): model/quant_file.h */
        if (quant_file_linear(L->st, t, rows, cols, W, &s) != 0) return -1;
        L->used[t - L->st->tensors] = L->used[s - L->st->tensors] = 1;
        return 0;
    }
    t = want(L, name, 2, rows, cols);
    if (!t) return -1;
    memset(W, 0, sizeof *W);
    W->dtype = to_olmo_dtype(t->dtype);
    W->rows = rows;
    W->cols = cols;
    W->data = t->data;
    size_t es = st_dtype_size(t->dtype);
    if ((uintptr_t)t->data % es) {   /* misaligned inside the file: take an aligned copy */
        void *copy = olmo_aligned_alloc(t->nbytes);
        if (!copy) return -1;
        memcpy(copy, t->data, t->nbytes);
        W->data = W->owned = copy;
    }
    return 0;
}

/* W = rows r0.. r0+rows-1 of the 3-D tensor t seen as a matrix of `cols` columns (a view, no copy). */
static void slice_linear(struct olmo_linear *W, const struct st_tensor *t, int64_t r0, int64_t rows, int64_t cols) {
    memset(W, 0, sizeof *W);
    W->dtype = to_olmo_dtype(t->dtype);
    W->rows = rows;
    W->cols = cols;
    W->data = (const char *)t->data + (size_t)(r0 * cols) * st_dtype_size(t->dtype);
}

/* OLMoE experts of layer l: per expert (mlp.experts.E.{gate,up,down}_proj.weight, hub releases) or fused
 * (mlp.experts.gate_up_proj [E, 2I, d]: gate rows then up rows per expert; mlp.experts.down_proj [E, d, I];
 * files saved by transformers v5). Spec addendum §5. */
static int get_experts(struct loader *L, struct olmo_layer *ly, const struct olmo_config *c, int l) {
    int64_t d = c->d_model, I = c->d_ff, E = c->n_experts;
    char name[256];
    ly->ex_gate = olmo_calloc((size_t)E, sizeof *ly->ex_gate);
    ly->ex_up = olmo_calloc((size_t)E, sizeof *ly->ex_up);
    ly->ex_down = olmo_calloc((size_t)E, sizeof *ly->ex_down);
    if (!ly->ex_gate || !ly->ex_up || !ly->ex_down) return -1;
    snprintf(name, sizeof name, "model.layers.%d.mlp.experts.gate_up_proj", l);
    if (st_find(L->st, name)) {
        const struct st_tensor *gu = want3(L, name, E, 2 * I, d);
        snprintf(name, sizeof name, "model.layers.%d.mlp.experts.down_proj", l);
        const struct st_tensor *dn = gu ? want3(L, name, E, d, I) : NULL;
        if (!dn) return -1;
        for (int64_t e = 0; e < E; e++) {
            slice_linear(&ly->ex_gate[e], gu, e * 2 * I, I, d);
            slice_linear(&ly->ex_up[e], gu, e * 2 * I + I, I, d);
            slice_linear(&ly->ex_down[e], dn, e * d, d, I);
        }
        return 0;
    }
    for (int64_t e = 0; e < E; e++) {
        snprintf(name, sizeof name, "model.layers.%d.mlp.experts.%lld.gate_proj.weight", l, (long long)e);
        if (get_linear(L, &ly->ex_gate[e], name, I, d)) return -1;
        snprintf(name, sizeof name, "model.layers.%d.mlp.experts.%lld.up_proj.weight", l, (long long)e);
        if (get_linear(L, &ly->ex_up[e], name, I, d)) return -1;
        snprintf(name, sizeof name, "model.layers.%d.mlp.experts.%lld.down_proj.weight", l, (long long)e);
        if (get_linear(L, &ly->ex_down[e], name, d, I)) return -1;
    }
    return 0;
}

/* A 1-D norm weight converted to fp32 into dst[n]. */
static int get_vec(struct loader *L, float *dst, const char *name, int64_t n) {
    const struct st_tensor *t = want(L, name, 1, n, 0);   /* want() accepts only F32, BF16, F16 */
    return t ? st_tensor_to_f32(dst, t, "checkpoint") : -1;
}

static int load_weights(struct olmo_model *m, struct loader *L) {
    const struct olmo_config *c = &m->cfg;
    int64_t d = c->d_model, qd = (int64_t)c->n_heads * c->head_dim, kvd = (int64_t)c->n_kv_heads * c->head_dim,
            I = c->d_ff, V = c->vocab_size;
    char name[256];
    /* fp32 norm vectors: per layer up to attn/ffn (d each) + q_norm (qd) + k_norm (kvd); plus the final norm. */
    int64_t per_layer = 0;
    if (c->arch != ARCH_OLMO1) per_layer += 2 * d;
    if (c->qk_norm) per_layer += qd + kvd;
    int64_t total = per_layer * c->n_layers + (c->arch != ARCH_OLMO1 ? d : 0);
    m->norm_mem = olmo_aligned_alloc((size_t)(total + 1) * sizeof(float));
    m->layers = olmo_calloc((size_t)c->n_layers, sizeof *m->layers);
    if (!m->norm_mem || !m->layers) return -1;
    float *nm = m->norm_mem;

    if (get_linear(L, &m->embed, "model.embed_tokens.weight", V, d)) return -1;
    for (int l = 0; l < c->n_layers; l++) {
        struct olmo_layer *ly = &m->layers[l];
#define LIN(field, suffix, r, cc)                                                     \
        snprintf(name, sizeof name, "model.layers.%d.%s.weight", l, suffix);           \
        if (get_linear(L, &ly->field, name, r, cc)) return -1;
#define VEC(field, suffix, n)                                                         \
        snprintf(name, sizeof name, "model.layers.%d.%s.weight", l, suffix);           \
        ly->field = nm;                                                               \
        nm += (n);                                                                    \
        if (get_vec(L, ly->field, name, n)) return -1;
        LIN(wq, "self_attn.q_proj", qd, d);
        LIN(wk, "self_attn.k_proj", kvd, d);
        LIN(wv, "self_attn.v_proj", kvd, d);
        LIN(wo, "self_attn.o_proj", d, qd);
        if (c->n_experts > 0) {
            LIN(router, "mlp.gate", c->n_experts, d);
            if (get_experts(L, ly, c, l)) return -1;
        } else {
            LIN(w_gate, "mlp.gate_proj", I, d);
            LIN(w_up, "mlp.up_proj", I, d);
            LIN(w_down, "mlp.down_proj", d, I);
        }
        if (c->arch == ARCH_OLMO2 || c->arch == ARCH_OLMO3) {
            VEC(q_norm, "self_attn.q_norm", qd);
            VEC(k_norm, "self_attn.k_norm", kvd);
            VEC(attn_norm, "post_attention_layernorm", d);
            VEC(ffn_norm, "post_feedforward_layernorm", d);
        } else if (c->arch == ARCH_LLAMA) {
            VEC(attn_norm, "input_layernorm", d);
            VEC(ffn_norm, "post_attention_layernorm", d);
        } else if (c->arch == ARCH_OLMOE) {
            VEC(q_norm, "self_attn.q_norm", qd);
            VEC(k_norm, "self_attn.k_norm", kvd);
            VEC(attn_norm, "input_layernorm", d);
            VEC(ffn_norm, "post_attention_layernorm", d);
        }
#undef LIN
#undef VEC
    }
    if (c->arch != ARCH_OLMO1) {
        m->final_norm = nm;
        if (get_vec(L, m->final_norm, "model.norm.weight", d)) return -1;
    }
    const struct st_tensor *lm = st_find(L->st, "lm_head.weight");
    if (c->tie_embeddings && lm && lm->dtype == ST_U8) {   /* quantized checkpoint: its own lm_head copy */
        if (get_linear(L, &m->lm_head, "lm_head.weight", V, d)) return -1;
    } else if (c->tie_embeddings) {
        /* Tied: lm_head is normally absent. Tolerate an exact duplicate of the embedding, nothing else. */
        if (lm) {
            const struct st_tensor *e = st_find(L->st, "model.embed_tokens.weight");
            if (lm->nbytes != e->nbytes || lm->dtype != e->dtype || memcmp(lm->data, e->data, lm->nbytes))
                return olmo_err("tensor 'lm_head.weight' is present and differs from the embedding, but config.json "
                                "says tie_word_embeddings: true");
            L->used[lm - L->st->tensors] = 1;
        }
        m->lm_head = m->embed;
        m->lm_head.owned = NULL;   /* shares embed's memory */
    } else {
        if (!lm) return olmo_err("tensor 'lm_head.weight' is missing (config.json says tie_word_embeddings: false)");
        if (get_linear(L, &m->lm_head, "lm_head.weight", V, d)) return -1;
    }
    /* Anything not claimed is an error, except stale rotary buffers that old exports carry. */
    for (int64_t i = 0; i < L->st->n_tensors; i++) {
        const char *n = L->st->tensors[i].name;
        size_t len = strlen(n);
        if (L->used[i] || (len > 9 && !strcmp(n + len - 9, ".inv_freq"))) continue;
        return olmo_err("unexpected tensor '%s' in the checkpoint (not part of a %s model with this config)", n,
                        hf_model_type(c->arch));
    }
    int64_t mlp = c->n_experts > 0 ? (int64_t)c->n_experts * 3 * I * d + (int64_t)c->n_experts * d : 3 * I * d;
    m->n_params = V * d * (c->tie_embeddings ? 1 : 2) + c->n_layers * (2 * qd * d + 2 * kvd * d + mlp) + total;
    return 0;
}

static uint64_t linear_bytes(const struct olmo_linear *W) {
    uint64_t n = (uint64_t)(W->rows * W->cols);
    switch (W->dtype) {
    case OLMO_DTYPE_F32: return 4 * n;
    case OLMO_DTYPE_BF16:
    case OLMO_DTYPE_F16: return 2 * n;
    case OLMO_DTYPE_Q8: return n + n / OLMO_Q8_BLOCK * 2;
    case OLMO_DTYPE_Q4: return n / 2 + n / OLMO_Q8_BLOCK * 2;
    }
    return 0;
}

/* Bytes streamed per decoded token: every projection once plus the lm_head (the embedding row is negligible). */
static void count_bytes(struct olmo_model *m) {
    uint64_t b = linear_bytes(&m->lm_head);
    m->expert_bytes = 0;
    for (int l = 0; l < m->cfg.n_layers; l++) {
        const struct olmo_layer *ly = &m->layers[l];
        b += linear_bytes(&ly->wq) + linear_bytes(&ly->wk) + linear_bytes(&ly->wv) + linear_bytes(&ly->wo);
        if (m->cfg.n_experts > 0) {   /* a token reads the router and top_k experts (of equal size) */
            uint64_t all = 0;
            for (int e = 0; e < m->cfg.n_experts; e++)
                all += linear_bytes(&ly->ex_gate[e]) + linear_bytes(&ly->ex_up[e]) + linear_bytes(&ly->ex_down[e]);
            m->expert_bytes += all;
            b += linear_bytes(&ly->router) + all / (uint64_t)m->cfg.n_experts * (uint64_t)m->cfg.top_k;
        } else {
            b += linear_bytes(&ly->w_gate) + linear_bytes(&ly->w_up) + linear_bytes(&ly->w_down);
        }
    }
    m->weight_bytes = b;
}

int model_load_from(struct olmo_model *m, const struct olmo_config *cfg, struct st_set *st,
                    const struct model_load_opts *opts) {
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    m->st = *st;
    memset(st, 0, sizeof *st);
    struct loader L = {.st = &m->st};
    L.used = olmo_calloc((size_t)m->st.n_tensors + 1, 1);
    int rc = L.used ? load_weights(m, &L) : -1;
    free(L.used);
    if (rc == 0) {
        m->dtype_name = olmo_strdup(L.n_mixed ? "mixed" : st_dtype_name(L.first_dtype));
        if (!m->dtype_name) rc = -1;
    }
    if (rc == 0 && opts && opts->quant != OLMO_QUANT_NONE) rc = model_quantize(m, opts->quant);
    if (rc != 0) {
        model_free(m);
        return -1;
    }
    count_bytes(m);
    return 0;
}

int model_load(struct olmo_model *m, const char *dir, const struct model_load_opts *opts) {
    memset(m, 0, sizeof *m);
    struct olmo_config cfg;
    char *cpath = olmo_path_join(dir, "config.json");
    if (!cpath) return -1;
    int rc = hf_config_load(&cfg, cpath);
    free(cpath);
    if (rc) return -1;
    struct st_set st;
    if (st_open_dir(&st, dir) != 0) return -1;
    const struct st_tensor *e = st_find(&st, "model.embed_tokens.weight");
    if (e && e->ndim == 2 && e->shape[0] != cfg.vocab_size) {
        /* Spec §2.2: the embedding's row count is the truth, but a config that disagrees is a broken checkpoint. */
        olmo_err("%s/config.json says vocab_size %d but model.embed_tokens.weight has %lld rows", dir, cfg.vocab_size,
                 (long long)e->shape[0]);
        st_close(&st);
        return -1;
    }
    if (model_load_from(m, &cfg, &st, opts) != 0) {
        st_close(&st);
        return olmo_err_prefix("%s: ", dir);
    }
    return 0;
}

const char *olmo_quant_name(enum olmo_quant q) { return q == OLMO_QUANT_Q8 ? "q8" : q == OLMO_QUANT_Q4 ? "q4" : "none"; }

int olmo_quant_parse(const char *s, enum olmo_quant *q) {
    if (!strcmp(s, "q8")) *q = OLMO_QUANT_Q8;
    else if (!strcmp(s, "q4")) *q = OLMO_QUANT_Q4;
    else if (!strcmp(s, "none")) *q = OLMO_QUANT_NONE;
    else return olmo_err("unknown quantization '%s' (expected q8, q4 or none)", s);
    return 0;
}

/* When W was a view of the memory-mapped checkpoint, its pages are dropped from resident memory after
 * quantizing (they are read once here and never again: a tied embedding's rows fault back in on lookup), so a
 * quantized model's peak RSS is the quantized copy plus one matrix of the file, not the whole file besides. */
int model_quantize_linear(struct olmo_model *m, struct olmo_linear *W, enum olmo_quant qt) {
    if (qt == OLMO_QUANT_NONE || W->dtype == OLMO_DTYPE_Q8 || W->dtype == OLMO_DTYPE_Q4) return 0;
    struct olmo_linear q;
    const void *src = W->data;
    size_t n = (size_t)linear_bytes(W);
    int mapped = W->owned == NULL;
    if ((qt == OLMO_QUANT_Q8 ? linear_quantize_q8(&q, W) : linear_quantize_q4(&q, W)) != 0) return -1;
    linear_free(W);
    *W = q;
    for (int f = 0; mapped && f < m->st.n_files; f++) olmo_mmap_release(&m->st.files[f].map, src, n);
    return 0;
}

int model_quantize(struct olmo_model *m, enum olmo_quant qt) {
    for (int l = 0; l < m->cfg.n_layers; l++) {
        struct olmo_layer *ly = &m->layers[l];
        struct olmo_linear *all[] = {&ly->wq, &ly->wk, &ly->wv, &ly->wo, &ly->w_gate, &ly->w_up, &ly->w_down};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            if (all[i]->data && model_quantize_linear(m, all[i], qt) != 0)
                return olmo_err_prefix("quantizing layer %d: ", l);
        /* OLMoE experts (the router stays as stored: a rounded router can pick other experts) */
        for (int e = 0; e < m->cfg.n_experts; e++) {
            struct olmo_linear *ex[] = {&ly->ex_gate[e], &ly->ex_up[e], &ly->ex_down[e]};
            for (int i = 0; i < 3; i++)
                if (model_quantize_linear(m, ex[i], qt) != 0)
                    return olmo_err_prefix("quantizing layer %d expert %d: ", l, e);
        }
    }
    /* A tied lm_head gets its own copy; the embedding itself stays as stored for row lookups. */
    if (model_quantize_linear(m, &m->lm_head, qt) != 0) return olmo_err_prefix("quantizing lm_head: ");
    count_bytes(m);
    return 0;
}

void model_free(struct olmo_model *m) {
    if (m->layers)
        for (int l = 0; l < m->cfg.n_layers; l++) {
            struct olmo_layer *ly = &m->layers[l];
            linear_free(&ly->wq); linear_free(&ly->wk); linear_free(&ly->wv); linear_free(&ly->wo);
            linear_free(&ly->w_gate); linear_free(&ly->w_up); linear_free(&ly->w_down); linear_free(&ly->router);
            for (int e = 0; e < m->cfg.n_experts; e++) {
                if (ly->ex_gate) linear_free(&ly->ex_gate[e]);
                if (ly->ex_up) linear_free(&ly->ex_up[e]);
                if (ly->ex_down) linear_free(&ly->ex_down[e]);
            }
            free(ly->ex_gate); free(ly->ex_up); free(ly->ex_down);
        }
    if (m->lm_head.owned != m->embed.owned) linear_free(&m->lm_head);
    linear_free(&m->embed);
    free(m->layers);
    free(m->norm_mem);
    free(m->dtype_name);
    st_close(&m->st);
    memset(m, 0, sizeof *m);
}
