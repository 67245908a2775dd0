/* config.h — the architecture of one OLMo-family model, shared by inference and training.
 *
 * Filled from a Hugging Face config.json (formats/hf_config.c: model_type olmo, olmo2, llama) or from an OLMo
 * training YAML (train config reader), and written back as config.json when a checkpoint is saved. The block is
 * parameterised the way OLMo's trainer is, so the three released layouts are three settings of the same fields:
 *
 *   OLMo-1 (olmo):  pre-norm, non-parametric LayerNorm (eps 1e-5), optional clip_qkv, often tied embeddings
 *   OLMo-2 (olmo2): norm *after* each sublayer inside the residual branch (h + RMS(F(h))), QK-norm over the whole
 *                   q / k projection, RMSNorm with weights, untied
 *   llama:          pre-norm RMSNorm with weights (OLMo's "tiny" pre-norm RMSNorm configs), no QK-norm
 *   OLMo-3 (olmo3): OLMo-2's block; sliding-window attention on the layers layer_sliding marks (plain RoPE there),
 *                   YaRN (rope_full) on the full-attention layers
 *   OLMoE (olmoe):  llama's pre-norm block with OLMo-2's QK-norm, optional clip_qkv (after the norms), and a
 *                   mixture of n_experts SwiGLU experts (d_ff wide each) of which top_k run per token */
#ifndef OLMO_MODEL_CONFIG_H
#define OLMO_MODEL_CONFIG_H

#include <stdint.h>

#define OLMO_MAX_LAYERS 256

enum olmo_arch { ARCH_OLMO1 = 1, ARCH_OLMO2 = 2, ARCH_LLAMA = 3, ARCH_OLMO3 = 4, ARCH_OLMOE = 5 };

/* One RoPE variant (spec addendum §3). Plain: inv_freq[i] = 1/θ^(2i/hd). YaRN: frequencies blended between
 * plain and plain/factor by a ramp over [yarn_low, yarn_high] found from orig_max_pos and the betas, and cos/sin
 * scaled by attn_factor. */
struct olmo_rope {
    float theta;
    int yarn;                /* 0: plain RoPE */
    float factor;            /* s */
    float attn_factor;       /* a (1 for plain) */
    int orig_max_pos;        /* L0 = original_max_position_embeddings */
    float beta_fast, beta_slow;
};

enum olmo_norm_type {
    NORM_LAYERNORM_NOAFFINE = 1,  /* OLMo-1: (x-mu)/sqrt(var+eps), no weight, no bias */
    NORM_LAYERNORM = 2,           /* LayerNorm with weight (and no bias) */
    NORM_RMSNORM = 3              /* x / sqrt(mean(x^2)+eps) * w */
};

struct olmo_config {
    enum olmo_arch arch;
    enum olmo_norm_type norm_type;
    int norm_after;          /* 1: h + Norm(F(h)) (OLMo-2); 0: h + F(Norm(h)) (OLMo-1, llama) */
    int qk_norm;             /* RMSNorm over the full q and k projections before RoPE (OLMo-2) */
    int d_model;             /* hidden_size */
    int n_layers;            /* num_hidden_layers */
    int n_heads;             /* num_attention_heads */
    int n_kv_heads;          /* num_key_value_heads (== n_heads without GQA) */
    int head_dim;            /* d_model / n_heads unless config says otherwise */
    int d_ff;                /* intermediate_size: width of gate_proj and of up_proj each */
    int vocab_size;          /* embedding rows = logits width (padded above the tokenizer's vocabulary) */
    int max_seq_len;         /* max_position_embeddings */
    float rope_theta;
    float norm_eps;          /* rms_norm_eps, or 1e-5 for OLMo-1's LayerNorm */
    float clip_qkv;          /* 0 = no clipping; else clamp q, k, v to [-clip_qkv, clip_qkv] before RoPE */
    int tie_embeddings;      /* logits use embed_tokens.weight; lm_head.weight absent */
    int bos_token_id, eos_token_id, pad_token_id;   /* -1 when absent */
    /* OLMo-3: sliding-window attention on the layers marked in layer_sliding (query i sees keys i-W+1 .. i) */
    int sliding_window;      /* W; 0 = every layer attends to the whole history */
    unsigned char layer_sliding[OLMO_MAX_LAYERS];
    struct olmo_rope rope_full, rope_sliding;   /* RoPE of full-attention and of sliding-window layers (theta = rope_theta
                                                   and plain, unless config.json says otherwise) */
    /* OLMoE: router over n_experts (0 = dense MLP), top_k per token, renormalised when norm_topk_prob */
    int n_experts, top_k, norm_topk_prob;
};

#endif
