/* moe.h — OLMoE's mixture-of-experts MLP (spec §3.5, addendum §5), called by forward.c in place of the dense MLP. */
#ifndef OLMO_MODEL_MOE_H
#define OLMO_MODEL_MOE_H

#include "model/model.h"

/* Grows s->moe_buf for T tokens (no-op for dense models). 0, or -1 with olmo_err (out of memory). */
int moe_scratch(struct olmo_state *s, const struct olmo_config *c, int T);
/* out[T][d] = MoE_l(x[T][d]) (moe_scratch(s, T) first). batch = 1: the T rows are independent sequences
 * (model_forward_batch), and every projection is linear_forward_batch so each row equals a T = 1 call bit for bit. */
void moe_forward(const struct olmo_model *m, struct olmo_state *s, int l, const float *x, float *out, int T, int batch);

/* The router's choice for one token: p = softmax(logits[E]) in fp32, the k largest (ties: lower index first),
 * divided by their sum when norm. idx[k] ascending by rank; w[k] their weights. */
void moe_route(const float *logits, int E, int k, int norm, int *idx, float *w);

/* forward.c's SwiGLU on one row (g = silu(g) * u), shared with the experts. */
void model_swiglu(float *g, const float *u, int n);

#endif
