/* train_kernels.h — the layer primitives of training (private to src/train): each <layer>_forward in
 * train_forward.c has its <layer>_backward in train_backward.c. Backward functions ADD into parameter gradients
 * and, where stated, into input gradients. Shapes as in train_acts.h. */
#ifndef OLMO_TRAIN_KERNELS_H
#define OLMO_TRAIN_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "model/config.h"
#include "train/train_model.h"

/* Loops over fewer elements than this run on one thread: for tiny models a parallel region costs more than the
 * work, and on a loaded machine a barrier can cost milliseconds. */
#define TRAIN_PAR_MIN 32768

/* p[j] ← exp(p[j] − shift) for j < n; returns Σ p[j] (vectorised, ~1 ulp; fixed summation order). */
float train_exp_shift(float *p, int n, float shift);

void encoder_forward(float *out, const int32_t *inp, const float *wte, int N, int d);
void encoder_backward(float *dwte, const float *dout, const int32_t *inp, int N, int d);

void norm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w, int N, int C,
                  size_t in_stride, size_t out_stride, enum olmo_norm_type type, float eps);
/* dinp (+)= ∂/∂inp (accumulate != 0 adds, else overwrites); dw += ∂/∂w when dw != NULL, reduced over blocks of
 * TRAIN_NORM_ROWS rows whose partial sums go to `part` (ceil(N/TRAIN_NORM_ROWS)·C floats; NULL = allocate). */
#define TRAIN_NORM_ROWS 64
void norm_backward(float *dinp, float *dw, const float *dout, const float *inp, const float *w, const float *mean,
                   const float *rstd, int N, int C, size_t in_stride, size_t dout_stride, size_t dinp_stride,
                   enum olmo_norm_type type, int accumulate, float *part);

void clip_forward(float *x, size_t n, float clip);
/* dx[i] = 0 where the raw value was clipped (|raw| > clip), in place. */
void clip_backward(float *dx, const float *raw, size_t n, float clip);

void rope_forward(float *x, const float *cosb, const float *sinb, int B, int T, int nh, int hd, size_t stride);
void rope_backward(float *dx, const float *cosb, const float *sinb, int B, int T, int nh, int hd, size_t stride);

/* Head-major layout used by attention: q [B, H, T, hd], then k [B, Hkv, T, hd], then v [B, Hkv, T, hd].
 * rows_to_heads copies the row-major [N, stride] columns 0..nh·hd into [B, nh, T, hd]; heads_to_rows back. */
void rows_to_heads(float *dst, const float *src, size_t src_stride, int B, int T, int nh, int hd);
void heads_to_rows(float *dst, size_t dst_stride, const float *src, int B, int T, int nh, int hd);

/* Causal attention on head-major qkvh with batched GEMMs: for kv head g the grp = H/Hkv query heads that share it
 * are consecutive, so Q_g is one [grp·T, hd] matrix and S_g = Q_g·K_gᵀ, O_g = P_g·V_g are one batched product over
 * B·Hkv. att [B, H, T, T] keeps the probabilities (zero above the diagonal); out [N, d]; tmp [N, d] scratch. */
int attention_forward(struct train_model *m, float *out, float *att, const float *qkvh, float *tmp, int B, int T,
                      int window);   /* window 0: causal; else each query sees its last `window` positions (OLMo-3) */
/* dqkvh (head-major, overwritten) from dout [N, d]; datt [B, H, T, T] and tmp [N, d] scratch. */
int attention_backward(struct train_model *m, float *dqkvh, const float *dout, const float *att, const float *qkvh,
                       float *datt, float *tmp, int B, int T);

void swiglu_forward(float *act, const float *gu, int N, int I);
void swiglu_backward(float *dgu, const float *dact, const float *gu, int N, int I);   /* overwrites dgu */

void residual_forward(float *out, const float *a, const float *b, size_t n);

void crossentropy_forward(float *logits, float *row_ce, float *row_lse, const int32_t *targets, int N, int V,
                          float zm, float grad_scale);

#endif
