/* optim.h — OLMo's optimizer recipe: AdamW, weight-decay groups, global gradient-norm clipping, LR schedules.
 *
 * Semantics follow spec training-and-eval.md §2 (olmo/optim.py, PyTorch AdamW):
 *   p ← p·(1 − lr·wd);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
 *   p ← p − lr/(1−β1^t) · m / (sqrt(v)/sqrt(1−β2^t) + eps)
 * Clipping: total = ‖g‖₂ over all gradients, coef = min(1, max/(total + 1e-6)), every gradient × coef (always).
 * Schedules: linear warm-up from warmup_min_lr (OLMo-1's trainer: 0.1·lr when unset) then cosine / linear decay
 * to alpha_f·lr at t_max, or constant. The position x is a step count or a token count (the caller's units);
 * OLMo evaluates lr at the position *after* counting the current batch (step 1 uses x = 1 / tokens_per_step).
 * Gradient accumulation is the caller summing micro-batch gradients (train_model_forward_backward adds).
 *
 * Determinism: every reduction is over fixed-size chunks whose partial sums are combined in index order, so the
 * result does not depend on the number of threads; elementwise updates are order-free. */
#ifndef OLMO_TRAIN_OPTIM_H
#define OLMO_TRAIN_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "train/train_model.h"

struct optim_adamw {
    float beta1, beta2;   /* 0.9, 0.95 in every OLMo run */
    float eps;            /* OLMo-1: 1e-5, OLMo-2: 1e-8 */
    float weight_decay;   /* 0.1; applied only to tensors with decay = 1 */
};

enum optim_sched_kind { SCHED_CONSTANT = 0, SCHED_COSINE_WITH_WARMUP = 1, SCHED_LINEAR_WITH_WARMUP = 2 };

struct optim_schedule {
    enum optim_sched_kind kind;
    double lr;              /* peak learning rate */
    double t_warmup;        /* warm-up length in the caller's units (0 = none) */
    double t_max;           /* end of the decay (units as t_warmup); ignored by constant */
    double alpha_f;         /* final lr = alpha_f · lr (OLMo default 0.1) */
    double warmup_min_lr;   /* lr at x = 0; negative = unset → 0.1·lr (the old trainer's default, OLMo-1 quirk) */
};

/* Learning rate at position x (spec §2d). constant: warm-up (if t_warmup > 0) then lr. */
double optim_lr(const struct optim_schedule *s, double x);

/* Marks which tensors get weight decay (spec §2b): Linear weights always; norm weights if decay_norm_and_bias;
 * the input embedding if decay_embeddings (tied: the embedding is also the head and follows decay_embeddings).
 * OLMo-1: (0, 0); OLMo-2: (1, 0); OLMo-1.7: (1, 1). */
void optim_set_decay(struct train_model *m, int decay_norm_and_bias, int decay_embeddings);

/* ‖g‖₂ over n floats, accumulated in double over fixed chunks (thread-count independent). */
double optim_grad_norm(const float *g, size_t n);

/* Global-norm clipping (spec §2c): returns the pre-clip norm; multiplies every gradient by
 * min(1, max_norm / (norm + 1e-6)). max_norm <= 0 disables clipping (norm still returned). */
double optim_clip_grads(float *g, size_t n, double max_norm);

/* The clipping threshold at 1-based step `step` with OLMo's optional clip warm-up
 * (factor × max_norm while step ≤ warmup_steps; factor <= 0 or warmup_steps <= 0 = no warm-up). */
double optim_clip_threshold(double max_norm, int64_t step, int64_t warmup_steps, double warmup_factor);

/* One AdamW update of every tensor of m with learning rate lr; step is the 1-based update count (bias
 * correction). Uses m->params, m->grads, m->m, m->v and each tensor's decay flag. */
void optim_adamw_step(struct train_model *m, const struct optim_adamw *o, double lr, int64_t step);

#endif
