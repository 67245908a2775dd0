/* rope.c — RoPE inverse frequencies (rope.h). YaRN, as transformers' _compute_yarn_parameters:
 *   pf[i] = θ^(2i/hd)                  (float32, exponent as float(2i)/hd)
 *   ext = 1/pf, int = 1/(s·pf)
 *   c(n) = hd·ln(L0/(2πn)) / (2·ln θ)  (double); low = floor(c(β_fast)), high = ceil(c(β_slow)), clamped
 *   ramp[i] = clamp((i - low)/(high - low), 0, 1);  e = 1 - ramp;  inv = int·(1 - e) + ext·e   (float32)
 * and cos/sin multiplied by the attention factor. */
#include "model/rope.h"

#include <math.h>

struct olmo_rope rope_for(const struct olmo_config *c, int sliding) {
    struct olmo_rope r = sliding ? c->rope_sliding : c->rope_full;
    if (r.theta <= 0) {   /* not filled in: plain RoPE at rope_theta */
        struct olmo_rope plain = {.theta = c->rope_theta, .factor = 1.0f, .attn_factor = 1.0f};
        return plain;
    }
    return r;
}

int rope_same(const struct olmo_config *c) {
    struct olmo_rope a = rope_for(c, 0), b = rope_for(c, 1);
    return a.theta == b.theta && a.yarn == b.yarn && (!a.yarn || (a.factor == b.factor && a.attn_factor == b.attn_factor &&
                                                                  a.orig_max_pos == b.orig_max_pos &&
                                                                  a.beta_fast == b.beta_fast && a.beta_slow == b.beta_slow));
}

static double corr_dim(double n_rot, int hd, double base, double L0) {
    return (double)hd * log(L0 / (n_rot * 2.0 * M_PI)) / (2.0 * log(base));
}

void rope_yarn_range(const struct olmo_rope *r, int hd, float *low, float *high) {
    double lo = floor(corr_dim(r->beta_fast, hd, r->theta, r->orig_max_pos));
    double hi = ceil(corr_dim(r->beta_slow, hd, r->theta, r->orig_max_pos));
    if (lo < 0) lo = 0;
    if (hi > hd - 1) hi = hd - 1;
    if (lo == hi) hi += 0.001;   /* HF: avoid a zero-width ramp */
    *low = (float)lo;
    *high = (float)hi;
}

float rope_inv_freq(const struct olmo_rope *r, int hd, float *inv) {
    int half = hd / 2;
    if (!r->yarn) {
        for (int i = 0; i < half; i++) inv[i] = 1.0f / powf(r->theta, (float)(2 * i) / (float)hd);
        return 1.0f;
    }
    float low, high;
    rope_yarn_range(r, hd, &low, &high);
    for (int i = 0; i < half; i++) {
        float pf = powf(r->theta, (float)(2 * i) / (float)hd);
        float ext = 1.0f / pf, itp = 1.0f / (r->factor * pf);
        float ramp = ((float)i - low) / (high - low);
        ramp = ramp < 0 ? 0 : ramp > 1 ? 1 : ramp;
        float e = 1.0f - ramp;
        inv[i] = itp * (1.0f - e) + ext * e;
    }
    return r->attn_factor;
}
