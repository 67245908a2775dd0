/* train_acts.h — activation buffers of one micro-batch and the layer primitives (private to src/train).
 *
 * N = B·T tokens, d = d_model, kvd = n_kv_heads·head_dim, C3 = d + 2·kvd (the fused q|k|v width), I = d_ff,
 * H = n_heads, V = vocab_size. Everything the backward pass needs is kept per layer (no recomputation), as in
 * llm.c's train_gpt2.c; the d_* buffers are backward scratch shared by all layers. */
#ifndef OLMO_TRAIN_ACTS_H
#define OLMO_TRAIN_ACTS_H

#include <stddef.h>
#include <stdint.h>

#include "model/config.h"
#include "train/train_kernels.h"
#include "train/train_model.h"

struct train_layer_acts {
    float *resid_mid;   /* [N, d]    residual stream after the attention sublayer */
    float *ln1;         /* [N, d]    pre-norm: Norm(x) (attention input); norm_after: Norm(attn_out) */
    float *ln1_mean;    /* [N]       LayerNorm mean (unused by RMSNorm) */
    float *ln1_rstd;    /* [N]       1/sqrt(var + eps) or 1/sqrt(mean(x²) + eps) */
    float *qkv;         /* [N, C3]   raw projection of the attention input (before clip, QK-norm, RoPE) */
    float *qkvr;        /* [N·C3]    what attention reads, head-major (train_kernels.h): clipped, QK-normed,
                                     RoPE'd q [B,H,T,hd] | k [B,Hkv,T,hd] | clipped v [B,Hkv,T,hd] */
    float *q_rstd;      /* [N]       QK-norm statistics (qk_norm only) */
    float *k_rstd;      /* [N] */
    float *att;         /* [B, H, T, T] softmax probabilities (zero above the diagonal) */
    float *atty;        /* [N, d]    attention output, heads concatenated (input of o_proj) */
    float *ao;          /* [N, d]    o_proj output */
    float *ln2;         /* [N, d]    pre-norm: Norm(resid_mid) (MLP input); norm_after: Norm(ff_out) */
    float *ln2_mean;    /* [N] */
    float *ln2_rstd;    /* [N] */
    float *gu;          /* [N, 2I]   gate|up projections */
    float *act;         /* [N, I]    silu(gate)·up (input of down_proj) */
    float *fo;          /* [N, d]    down_proj output */
};

struct train_acts {
    int B, T;                      /* capacity */
    float *resid;                  /* [L+1, N, d] residual stream entering each layer; [L] enters the final norm */
    struct train_layer_acts *layer;/* [L] */
    float *lnf;                    /* [N, d]   final norm output (LM head input) */
    float *lnf_mean, *lnf_rstd;    /* [N] */
    float *logits;                 /* [N, V]   logits, turned into dloss/dlogits in place by the loss */
    float *row_ce, *row_lse;       /* [N]      per-position CE and logsumexp (reduced in order) */
    float *rope_cos, *rope_sin;    /* [T, hd/2] */
    /* backward scratch */
    float *d_resid;                /* [N, d] */
    float *d_ln;                   /* [N, d] */
    float *d_ao, *d_atty, *d_fo;   /* [N, d] */
    float *d_qkv, *d_qkv2;         /* [N, C3]; d_qkv2 also the forward's row-major q|k|v before the head split */
    float *att_tmp;                /* [N, d]   head-major attention output / its gradient */
    float *d_att;                  /* [B, H, T, T] gradient of the scores */
    float *norm_part;              /* [ceil(N/64), d] partial sums of norm-weight gradients */
    float *d_gu;                   /* [N, 2I] */
    float *d_act;                  /* [N, I] */
    float *block;                  /* the one allocation all of the above point into */
    size_t bytes;
};

int train_acts_alloc(struct train_acts *a, const struct olmo_config *c, int B, int T);
void train_acts_free(struct train_acts *a);

/* Matrix product through the model's precision (fp32 OpenBLAS or bf16 oneDNN); same contract as mm_f32. */
int train_mm(struct train_model *m, float *C, const float *A, const float *B, int M, int N, int K, int transA,
             int transB, float beta);
/* `batch` products of dense matrices stored one after another (see gemm_bf16_batched). */
int train_mm_batched(struct train_model *m, float *C, const float *A, const float *B, int batch, int M, int N, int K,
                     int transA, int transB, float beta);

/* Forward of all layers and the loss; fills m->acts and, with backward != 0, turns logits into dlogits. */
int train_forward_pass(struct train_model *m, const int32_t *inputs, const int32_t *targets, int B, int T,
                       const struct train_loss_opts *lo, struct train_loss_stats *st, int backward);
/* Backward of everything after train_forward_pass(..., backward=1); adds into m->grads. */
int train_backward_pass(struct train_model *m, const int32_t *inputs, int B, int T);

/* Primitives shared by forward and backward (train_forward.c). */
void train_rope_tables(float *cosb, float *sinb, int T, int hd, float theta);

#endif
