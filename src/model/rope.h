/* rope.h — RoPE frequencies: plain, and YaRN as transformers computes it (spec addendum §3), in float32 and in
 * HF's order of operations so that tables match a PyTorch reference to the ulp. */
#ifndef OLMO_MODEL_ROPE_H
#define OLMO_MODEL_ROPE_H

#include "model/config.h"

/* The variant layer kind `sliding` uses: c->rope_sliding / c->rope_full, or plain RoPE with c->rope_theta when the
 * config was built without them (training YAML, tests). */
struct olmo_rope rope_for(const struct olmo_config *c, int sliding);
/* inv[hd/2] inverse frequencies of r; returns the cos/sin scale (YaRN attention factor; 1 for plain). */
float rope_inv_freq(const struct olmo_rope *r, int hd, float *inv);
/* YaRN's ramp bounds (low, high) after floor/ceil and clamping to [0, hd-1] (OLMo-3: 18, 35). */
void rope_yarn_range(const struct olmo_rope *r, int hd, float *low, float *high);
/* 1 when both layer kinds use the same table (then one is computed). */
int rope_same(const struct olmo_config *c);

#endif
