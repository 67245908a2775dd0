/* model.h — an OLMo-family model loaded from a Hugging Face directory, and its forward pass with a KV cache.
 *
 * model_load reads config.json, opens the safetensors files (memory-mapped: weights are never copied, bf16
 * stays bf16) and checks them against the config: every expected tensor present with the right shape, no
 * tensor left over, lm_head absent exactly when embeddings are tied (spec §4.1). Projection matrices become
 * struct olmo_linear pointing into the map, so every matrix product goes through linear_forward
 * (kernels/linear.h). Norm weights (a few KB) are converted to fp32 copies.
 *
 * model_forward runs T new tokens at positions pos … pos+T-1 (spec §3: OLMo-1, OLMo-2, llama), appending their
 * keys and values to the state's cache (fp32, or bf16 on request: model_state_init_opts). Prefill passes the
 * whole prompt in one call (matrix-matrix products); decoding passes one token at a time. */
#ifndef OLMO_MODEL_MODEL_H
#define OLMO_MODEL_MODEL_H

#include "formats/safetensors.h"
#include "model/config.h"
#include "model/kernels/kv_cache.h"
#include "model/kernels/linear.h"

#include <stdint.h>

struct olmo_layer {
    struct olmo_linear wq, wk, wv, wo, w_gate, w_up, w_down;
    /* fp32 norm weights (NULL where the architecture has none):
     *   OLMo-2: attn_norm = post_attention_layernorm, ffn_norm = post_feedforward_layernorm, q_norm, k_norm
     *   llama:  attn_norm = input_layernorm,          ffn_norm = post_attention_layernorm */
    float *attn_norm, *ffn_norm, *q_norm, *k_norm;
    /* OLMoE (cfg.n_experts > 0; the dense w_gate/w_up/w_down are then unused): router [n_experts, d] and per expert
     * gate/up [d_ff, d] and down [d, d_ff], views into the map whether stored per expert or fused (moe.c) */
    struct olmo_linear router;
    struct olmo_linear *ex_gate, *ex_up, *ex_down;
};

struct olmo_model {
    struct olmo_config cfg;
    struct st_set st;            /* the mapped files every weight points into */
    struct olmo_linear embed;    /* [vocab, d] */
    struct olmo_linear lm_head;  /* [vocab, d]; a copy of embed's descriptor when tied */
    float *final_norm;           /* [d], NULL for OLMo-1 */
    struct olmo_layer *layers;
    float *norm_mem;             /* owns every fp32 norm vector */
    char *dtype_name;            /* "BF16", "F32", "F16" or "mixed" (for messages) */
    int64_t n_params;
    uint64_t weight_bytes;       /* bytes of the projection matrices + embeddings as used (after quantization); for
                                    OLMoE the bytes one decoded token reads: the router and top_k experts per layer */
    uint64_t expert_bytes;       /* OLMoE: bytes of all experts' matrices (0 for dense models) */
};

/* Weight quantization at load (docs/quantization.md). */
enum olmo_quant { OLMO_QUANT_NONE = 0, OLMO_QUANT_Q8 = 1, OLMO_QUANT_Q4 = 2 };
struct model_load_opts {
    enum olmo_quant quant;       /* convert every projection (not the embedding) to Q8 or Q4 at load */
};
/* "none" / "q8" / "q4"; olmo_quant_parse: 0 and *q set, or -1 with olmo_err naming the accepted values. */
const char *olmo_quant_name(enum olmo_quant q);
int olmo_quant_parse(const char *s, enum olmo_quant *q);

/* Loads DIR. 0, or -1 with olmo_err naming the file and tensor at fault. opts may be NULL. */
int model_load(struct olmo_model *m, const char *dir, const struct model_load_opts *opts);
/* Loads with an already-parsed config and an already-opened set of tensors (takes ownership of st). */
int model_load_from(struct olmo_model *m, const struct olmo_config *cfg, struct st_set *st,
                    const struct model_load_opts *opts);
void model_free(struct olmo_model *m);
/* Converts every projection matrix (q/k/v/o, MLP, and the lm_head: a tied one gets its own copy) to q in place;
 * matrices already quantized are left as they are. */
int model_quantize(struct olmo_model *m, enum olmo_quant q);
/* Converts one matrix of m to q in place (a view of the mapped checkpoint has its pages released afterwards;
 * per expert for mixture-of-experts weights). No-op for OLMO_QUANT_NONE or a matrix already quantized. */
int model_quantize_linear(struct olmo_model *m, struct olmo_linear *W, enum olmo_quant q);

/* A sliding-window layer's cache is a ring of window - 1 + MODEL_RING_SLACK rows: enough for one forward call of up
 * to MODEL_RING_SLACK + 1 new tokens (longer calls are cut into such chunks) and for cutting back that many positions. */
#define MODEL_RING_SLACK 256

/* The KV cache and scratch space of one sequence (state.c). */
struct olmo_state {
    int max_seq;                 /* context capacity in positions */
    int pos;                     /* positions in the cache: the next token goes here (model_forward sets it to
                                    pos + T; model_forward_batch reads and advances it) */
    int kv_dim;                  /* n_kv_heads * head_dim */
    int head_dim;
    int n_layers;
    enum olmo_kv_dtype kv_dtype; /* element type of the cache (kernels/kv_cache.h) */
    void *k_cache, *v_cache;     /* per layer [n_kv_heads][layer_cap[l]][head_dim] elements of kv_dtype */
    int *layer_cap;              /* per layer: cache rows; max_seq, or a ring of window-1+MODEL_RING_SLACK rows for a
                                    sliding-window layer (position p lives in row p % cap) */
    size_t *layer_off;           /* per layer: element offset of its cache in k_cache / v_cache */
    size_t kv_bytes;             /* bytes of k_cache + v_cache */
    int scratch_T;               /* tokens the scratch buffers hold; grown on demand */
    float *x, *xb, *q, *k, *v, *att, *hb, *hb2, *tmp;
    float *scores;               /* per-thread attention score rows */
    float *moe_buf;              /* OLMoE scratch (moe.c), moe_cap floats */
    size_t moe_cap;
    float *kv_rows;              /* per-thread row of head_dim floats: a bf16 key or value widened for decoding */
    int scores_len, scores_threads;
    /* profile, accumulated over model_forward calls (seconds): all of it, the projections, attention */
    double t_total, t_proj, t_attn;
};

/* Element offset of the cache row of (layer, KV head g, position pos). Head-major, so that decoding reads each
 * head's keys and values as one contiguous stream (a [pos][kv_dim] layout would make it a strided walk with one
 * head_dim row per kv_dim: prefetchers stop at every page). A sliding-window layer's rows form a ring. */
static inline size_t model_kv_offset(const struct olmo_state *s, int layer, int g, int pos) {
    size_t cap = (size_t)s->layer_cap[layer];
    return s->layer_off[layer] + ((size_t)g * cap + (size_t)pos % cap) * (size_t)s->head_dim;
}
struct model_state_opts {
    enum olmo_kv_dtype kv_dtype; /* OLMO_KV_F32 (default, exact) or OLMO_KV_BF16 (half the memory; keys and values
                                    rounded to bf16 when written, all arithmetic fp32) */
};
/* A state with an fp32 cache of max_seq positions. 0, or -1 with olmo_err. */
int model_state_init(struct olmo_state *s, const struct olmo_model *m, int max_seq);
/* The same with options (o may be NULL: the defaults). */
int model_state_init_opts(struct olmo_state *s, const struct olmo_model *m, int max_seq, const struct model_state_opts *o);
/* "f32" / "bf16" (for messages and flags); model_kv_dtype_parse: 0 and *dt set, or -1 with olmo_err. */
const char *model_kv_dtype_name(enum olmo_kv_dtype dt);
int model_kv_dtype_parse(const char *name, enum olmo_kv_dtype *dt);
void model_state_free(struct olmo_state *s);
/* Makes dst hold src's first n positions (prefix reuse: a server starting a request whose prompt begins with one
 * already computed): copies those cache rows of every layer and sets dst->pos = n. Both states must belong to the
 * same model with the same KV type; n <= src->pos and n <= dst->max_seq. For a sliding-window layer the rows of
 * the last window positions before n are copied, which src still holds only if it has not run more than
 * MODEL_RING_SLACK positions past n (else -1). 0, or -1 with olmo_err. */
int model_state_copy_prefix(struct olmo_state *dst, const struct olmo_state *src, int n);
/* 1 when the cache can be cut back to its first n positions (then run on from n): always for full-attention
 * caches; for a ring, only while positions n-window+1..n-1 are still there. */
int model_state_can_rewind(const struct olmo_state *s, int n);

/* Runs tokens[0..T) at positions pos..pos+T-1 (0 < T, pos + T <= max_seq); logits[vocab] gets the last
 * token's logits (may be NULL). 0, or -1 with olmo_err (out-of-range token id, cache full). */
int model_forward(const struct olmo_model *m, struct olmo_state *s, const int32_t *tokens, int T, int pos,
                  float *logits);
/* Same, but logits[T][vocab] gets every position's logits (tests, perplexity). */
int model_forward_all(const struct olmo_model *m, struct olmo_state *s, const int32_t *tokens, int T, int pos,
                      float *logits);
/* Batched decoding: one new token for each of n sequences, tokens[i] at position states[i]->pos of states[i]'s
 * cache (then states[i]->pos += 1), in one pass over the weights (every projection a linear_forward_batch over n
 * rows). logits[n][vocab] gets each sequence's logits (may be NULL). The result for sequence i is bitwise equal to
 * model_forward(m, states[i], &tokens[i], 1, states[i]->pos, …). The n states must be distinct; states[0]'s scratch
 * buffers hold the batch's activations. 0, or -1 with olmo_err (and no state advanced). */
int model_forward_batch(const struct olmo_model *m, struct olmo_state *const *states, const int32_t *tokens, int n,
                        float *logits);

#endif
