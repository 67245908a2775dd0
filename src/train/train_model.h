/* train_model.h — an OLMo-family model that can be trained: parameters, gradients, Adam moments, activations.
 *
 * Layout (as karpathy/llm.c): ONE contiguous fp32 buffer each for parameters, gradients and the AdamW moments
 * m and v, all four with the same layout. Each tensor is a named view (Hugging Face name and shape, see
 * m->tensors) at the same float offset in all four buffers, so a checkpoint is a walk over m->tensors and an
 * all-reduce is one call on m->grads. Within a layer q_proj, k_proj, v_proj are adjacent (together the fused
 * [d + 2·kv_dim, d] QKV matrix) and gate_proj, up_proj are adjacent (the fused [2·d_ff, d] matrix), so the
 * forward pass does one GEMM for each; the HF views are still separate tensors.
 *
 * Use:
 *   struct train_model *m = train_model_create(&cfg, B, T, TRAIN_PREC_BF16);   // B, T: largest micro-batch
 *   train_model_init(m, TRAIN_INIT_NORMAL, 0.02f, 3.0f, seed);                 // or copy weights into m->params
 *   optim_set_decay(m, 1, 0);                                                   // optim.h, weight-decay groups
 *   for each step:  train_model_zero_grad(m);
 *                   for each micro-batch: train_model_forward_backward(m, in, tgt, b, t, &lo, &stats);
 *                   (MPI_Allreduce on m->grads), optim_clip_grads(...), optim_adamw_step(...)
 *   train_model_free(m);
 *
 * The block is parameterised by src/model/config.h (norm type, norm before/after the sublayer, QK-norm, clip_qkv,
 * GQA, tied embeddings). Forward and backward are in train_forward.c / train_backward.c. */
#ifndef OLMO_TRAIN_MODEL_H
#define OLMO_TRAIN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "model/config.h"

#define TRAIN_NONE ((size_t)-1)   /* offset of a tensor the architecture does not have */
#define TRAIN_IGNORE_INDEX (-100) /* target id that contributes no loss (PyTorch's ignore_index) */

enum train_precision {
    TRAIN_PREC_FP32 = 0,   /* every matrix product in fp32 (OpenBLAS) */
    TRAIN_PREC_BF16 = 1    /* matrix products with bf16 inputs, fp32 accumulation and output (oneDNN);
                              master weights, gradients, moments and everything else stay fp32 */
};

enum train_init {
    TRAIN_INIT_NORMAL = 1,   /* OLMo-2: every Linear/Embedding ~ truncated normal(0, std), cut at ±cutoff·std */
    TRAIN_INIT_MITCHELL = 2  /* OLMo-1: std 1/√d (embedding, qkv, up/gate, head), depth-scaled attn_out/ff_out */
};

enum train_param_kind { TRAIN_PARAM_EMBEDDING = 1, TRAIN_PARAM_LINEAR = 2, TRAIN_PARAM_NORM = 3 };

/* One named view into params / grads / m / v. */
struct train_param {
    char name[80];             /* Hugging Face name, e.g. "model.layers.3.self_attn.q_proj.weight" */
    int ndim;                  /* 1 or 2 */
    int64_t shape[2];          /* [out, in] for matrices (PyTorch Linear layout), [n] for norm weights */
    size_t offset;             /* in floats, the same in all four buffers */
    size_t numel;
    enum train_param_kind kind;
    int layer;                 /* block index, -1 for embedding / final norm / head */
    int decay;                 /* gets weight decay (set by optim_set_decay; default: Linear weights only) */
};

/* Offsets (floats) of one block's tensors; TRAIN_NONE when absent. */
struct train_layer {
    size_t wqkv;    /* q_proj|k_proj|v_proj stacked  [d + 2·kvd, d] */
    size_t wo;      /* o_proj                        [d, d] (H·hd = d) */
    size_t wgu;     /* gate_proj|up_proj stacked     [2·I, d] */
    size_t wdown;   /* down_proj                     [d, I] */
    size_t q_norm;  /* self_attn.q_norm              [d]    (qk_norm) */
    size_t k_norm;  /* self_attn.k_norm              [kvd]  (qk_norm) */
    size_t norm1;   /* attention norm [d]: post_attention_layernorm (norm_after) or input_layernorm (pre-norm);
                       TRAIN_NONE for the non-parametric LayerNorm */
    size_t norm2;   /* MLP norm [d]: post_feedforward_layernorm (norm_after) or post_attention_layernorm
                       (pre-norm, the HF llama/olmo name of the pre-MLP norm) */
};

struct train_acts;   /* activation buffers of one micro-batch (train_acts.h, private to src/train) */
struct gemm_bf16;    /* cached bf16 GEMM primitives (model/kernels/gemm_bf16.h) */

struct train_model {
    struct olmo_config cfg;
    int B, T;                      /* largest micro-batch the activation buffers hold */
    enum train_precision precision;
    size_t n_params;               /* floats in each of params, grads, m, v */
    float *params, *grads, *m, *v; /* 64-byte aligned, owned */
    struct train_param *tensors;   /* in checkpoint order: embed, layers 0..L-1, final norm, lm_head */
    int n_tensors;
    struct train_layer *layers;    /* [n_layers] */
    size_t embed, final_norm, lm_head;   /* offsets; lm_head == embed when embeddings are tied */
    struct train_acts *acts;
    struct gemm_bf16 *bf16;        /* NULL in fp32 mode */
    size_t act_bytes;              /* bytes of activation + scratch memory (for the peak-memory report) */
};

/* How the loss is formed from one micro-batch. The gradient computed is that of
 *   loss = (Σ CE + z_loss_mult · Σ lse²) / denom     over positions whose target != TRAIN_IGNORE_INDEX.
 * OLMo's old trainer: denom = B_local·T of the whole local batch (sum of micro-batch losses = exact accumulation);
 * OLMo-core: denom = number of labelled tokens of the local batch. */
struct train_loss_opts {
    float z_loss_mult;   /* 0 = no z-loss (OLMo-1); 1e-5 OLMo-2 as intended (see spec §2e) */
    double denom;        /* > 0 */
};

struct train_loss_stats {
    double ce_sum;       /* Σ cross-entropy over labelled positions (nats) */
    double z_sum;        /* Σ logsumexp² over labelled positions (unscaled) */
    int64_t n_labelled;  /* positions with a target */
    double loss;         /* (ce_sum + z_loss_mult·z_sum) / denom: what the gradient is of */
};

/* Allocates parameters (zero), gradients, moments and activations for micro-batches up to B×T.
 * Checks the config (positive sizes, d_model = n_heads·head_dim, n_heads % n_kv_heads == 0, even head_dim).
 * NULL with olmo_err on failure. */
struct train_model *train_model_create(const struct olmo_config *cfg, int B, int T, enum train_precision prec);
void train_model_free(struct train_model *m);

/* Fills the parameters from a seeded deterministic RNG (same seed → same bits), norm weights = 1.
 * std and cutoff_factor are used by TRAIN_INIT_NORMAL (OLMo-2: 0.02, 3); mitchell uses its own stds, cutoff 3
 * unless cutoff_factor > 0 is given. Returns 0, or -1 with olmo_err. */
int train_model_init(struct train_model *m, enum train_init fn, float std, float cutoff_factor, uint64_t seed);

void train_model_zero_grad(struct train_model *m);   /* grads = 0 (moments untouched) */

/* One micro-batch: inputs, targets [B][T] token ids (targets may hold TRAIN_IGNORE_INDEX), B ≤ m->B, T ≤ m->T.
 * Runs forward and backward and ADDS this micro-batch's gradient into m->grads. Returns 0, or -1 with olmo_err
 * (token id out of range, sizes too large). stats may be NULL. */
int train_model_forward_backward(struct train_model *m, const int32_t *inputs, const int32_t *targets, int B, int T,
                                 const struct train_loss_opts *lo, struct train_loss_stats *stats);

/* Forward only (evaluation): the same loss statistics, no gradient. */
int train_model_forward(struct train_model *m, const int32_t *inputs, const int32_t *targets, int B, int T,
                        const struct train_loss_opts *lo, struct train_loss_stats *stats);

/* The view with this HF name, or NULL. */
const struct train_param *train_model_find(const struct train_model *m, const char *name);

/* Parameter counts: all, and without the input embedding (lm_head counts when untied). */
int64_t train_model_num_params(const struct train_model *m);
int64_t train_model_num_params_nonembed(const struct train_model *m);

/* Training FLOPs per token with OLMo-core's formula (spec §5), metrics_flops_per_token of the model's config:
 * 6·(attention + feed-forward + LM-head params incl. QK-norm and final norm) + 12·L·H·hd·T. */
double train_model_flops_per_token(const struct train_model *m, int T);

#endif
