/* optim.h — OLMo's optimizer recipe: AdamW, weight-decay groups, global gradient-norm clipping, LR schedules.
 *
 * Semantics follow spec training-and-eval.md §2 (olmo/optim.py, PyTorch AdamW):
 *   p ← p·(1 − lr·wd);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
 *   p ← p − lr/(1−β1^t) · m / (sqrt(v)/sqrt(1−β2^t) + eps)
 * Clipping: total = ‖g‖₂ over all gradients, coef = min(1, max/(total + 1e-6)), every gradient × coef (always).
 * Schedules (OLMo's `olmo/optim.py` and OLMo-core's `optim/scheduler.py`, spec §2d): linear warm-up from
 * warmup_min_lr (OLMo-1's trainer: 0.1·lr when unset) then cosine / linear / inverse-sqrt / cosine×linear decay
 * to alpha_f·lr at t_max, constant after warm-up, warmup-stable-decay (WSD), or plain constant — which, as in
 * OLMo, has no warm-up at all. The position x is a step count or a token count (the caller's units);
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

enum optim_sched_kind {
    SCHED_CONSTANT = 0,              /* lr at every x: no warm-up, whatever t_warmup says (OLMo's ConstantScheduler) */
    SCHED_COSINE_WITH_WARMUP = 1,    /* warm-up, cosine to alpha_f·lr at t_max, then alpha_f·lr */
    SCHED_LINEAR_WITH_WARMUP = 2,    /* warm-up, linear to alpha_f·lr at t_max, then alpha_f·lr */
    SCHED_CONSTANT_WITH_WARMUP = 3,  /* warm-up, then lr */
    SCHED_INV_SQRT_WITH_WARMUP = 4,  /* warm-up, then lr·sqrt(W/x) (old trainer: no alpha_f floor) */
    SCHED_MAX = 5,                   /* max(cosine_with_warmup, inverse_sqrt_with_warmup) (OLMo's max_scheduler) */
    SCHED_COS_LINEAR_ENVELOPE = 6,   /* warm-up, then α·lr + (1 − p)·(lr − α·lr)(1 + cos πp)/2, p = (x−W)/(T−W) */
    SCHED_WSD = 7,                   /* warm-up, lr, then linear to decay_min_lr over the last `decay` of T */
};

/* The OLMo config name of a kind ("cosine_with_warmup", ...), and back (-1 when unknown). */
const char *optim_sched_name(enum optim_sched_kind k);
int optim_sched_from_name(const char *name);
/* All names, comma-separated, for error messages. */
#define OPTIM_SCHED_NAMES                                                                                          \
    "constant, constant_with_warmup, cosine_with_warmup, linear_with_warmup, inverse_sqrt_with_warmup, "           \
    "max_scheduler, cosine_linear_envelope, wsd"

struct optim_schedule {
    enum optim_sched_kind kind;
    double lr;              /* peak learning rate */
    double t_warmup;        /* warm-up length in the caller's units (0 = none) */
    double t_max;           /* end of the decay (units as t_warmup); ignored by constant */
    double alpha_f;         /* final lr = alpha_f · lr (OLMo default 0.1) */
    double warmup_min_lr;   /* lr at x = 0; negative = unset → 0.1·lr (the old trainer's default, OLMo-1 quirk) */
    /* WSD only (OLMo-core): the decay phase is the last `decay` units before t_max (decay <= 0: decay_fraction·t_max,
     * rounded), ending at decay_min_lr. */
    double decay, decay_fraction, decay_min_lr;
};

/* Learning rate at position x (spec §2d). constant: lr at every x (no warm-up, as OLMo). Past t_max every decaying
 * schedule stays at its floor (WSD: decay_min_lr; OLMo-core would extrapolate below it, but never runs past T). */
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
