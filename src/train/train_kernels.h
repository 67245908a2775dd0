/* train_kernels.h — the layer primitives of training (private to src/train): each <layer>_forward in
 * train_forward.c has its <layer>_backward in train_backward.c. Backward functions ADD into parameter gradients
 * and, where stated, into input gradients. Shapes as in train_acts.h. */
#ifndef OLMO_TRAIN_KERNELS_H
#define OLMO_TRAIN_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "model/config.h"

/* Per-thread scratch for the attention kernels: `threads` slices of `per_thread` floats, 2 × (hd·T) each
 * (a transposed K and a transposed V of one head). Parallel regions that use it run with num_threads(threads). */
struct train_scratch {
    float *buf;
    int threads;
    size_t per_thread;
};
float *train_scratch(const struct train_scratch *s, int which);   /* slice `which` (0 or 1) of this thread */

/* p[j] ← exp(p[j] − shift) for j < n; returns Σ p[j] (vectorised, ~1 ulp; fixed summation order). */
float train_exp_shift(float *p, int n, float shift);

void encoder_forward(float *out, const int32_t *inp, const float *wte, int N, int d);
void encoder_backward(float *dwte, const float *dout, const int32_t *inp, int N, int d);

void norm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w, int N, int C,
                  size_t in_stride, size_t out_stride, enum olmo_norm_type type, float eps);
/* dinp (+)= ∂/∂inp (accumulate != 0 adds, else overwrites); dw += ∂/∂w when dw != NULL. */
void norm_backward(float *dinp, float *dw, const float *dout, const float *inp, const float *w, const float *mean,
                   const float *rstd, int N, int C, size_t in_stride, size_t dout_stride, size_t dinp_stride,
                   enum olmo_norm_type type, int accumulate);

void clip_forward(float *x, size_t n, float clip);
/* dx[i] = 0 where the raw value was clipped (|raw| > clip), in place. */
void clip_backward(float *dx, const float *raw, size_t n, float clip);

void rope_forward(float *x, const float *cosb, const float *sinb, int B, int T, int nh, int hd, size_t stride);
void rope_backward(float *dx, const float *cosb, const float *sinb, int B, int T, int nh, int hd, size_t stride);

void attention_forward(float *out, float *att, const float *qkv, int B, int T, int H, int Hkv, int hd,
                       const struct train_scratch *sc);
/* dqkv [N, C3] is overwritten (q, k and v parts) from dout [N, d]. */
void attention_backward(float *dqkv, const float *dout, const float *att, const float *qkv, int B, int T, int H,
                        int Hkv, int hd, const struct train_scratch *sc);

void swiglu_forward(float *act, const float *gu, int N, int I);
void swiglu_backward(float *dgu, const float *dact, const float *gu, int N, int I);   /* overwrites dgu */

void residual_forward(float *out, const float *a, const float *b, size_t n);

void crossentropy_forward(float *logits, float *row_ce, float *row_lse, const int32_t *targets, int N, int V,
                          float zm, float grad_scale);

#endif
