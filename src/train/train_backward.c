/* train_backward.c — the backward pass, layer by layer, mirroring train_forward.c. Every <layer>_backward adds
 * into the parameter gradients (so micro-batches accumulate); input gradients are overwritten or added as each
 * function says. Parameter-gradient reductions over tokens run per column in token order, so they are the same
 * for any thread count. Shapes: N = B·T, d, kvd, C3 = d + 2·kvd, I, V as in train_acts.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "train/train_acts.h"
#include "train/train_kernels.h"

/* ---- embedding: dwte[inp[n]] += dout[n]; serial over tokens (repeated ids add in a fixed order) -------------- */
void encoder_backward(float *dwte, const float *dout, const int32_t *inp, int N, int d) {
    for (int n = 0; n < N; n++) {
        float *g = dwte + (size_t)inp[n] * d;
        const float *s = dout + (size_t)n * d;
        for (int c = 0; c < d; c++) g[c] += s[c];
    }
}

/* ---- norms ------------------------------------------------------------------------------------------------
 * x̂ = (x − μ)·r, y = x̂·w, g = dy·w:
 *   RMSNorm:   dx = r·(g − x̂·mean(g·x̂))            LayerNorm: dx = r·(g − mean(g) − x̂·mean(g·x̂))
 *   dw += Σ_n dy·x̂.
 * dw is reduced first (it reads dout), then dx is written row by row, so dinp may alias dout (in place).
 * Row sums are fp32 in a fixed vector order (deterministic; widths here are ≤ a few thousand). */
void norm_backward(float *dinp, float *dw, const float *dout, const float *inp, const float *w, const float *mean,
                   const float *rstd, int N, int C, size_t in_stride, size_t dout_stride, size_t dinp_stride,
                   enum olmo_norm_type type, int accumulate, float *part) {
    if (dw) {
        /* Σ_n dy·x̂ in fixed blocks of TRAIN_NORM_ROWS rows (row-contiguous, vectorisable), block sums added in block
         * order: the same bits for any thread count. Falls back to a column walk if the partials can't be had. */
        int nb = (N + TRAIN_NORM_ROWS - 1) / TRAIN_NORM_ROWS;
        int own = part == NULL;   /* callers pass scratch; tests and odd sizes may not */
        if (own) part = malloc((size_t)nb * C * sizeof(float));
        if (part) {
#pragma omp parallel for schedule(static) if ((size_t)N * C > TRAIN_PAR_MIN)
            for (int blk = 0; blk < nb; blk++) {
                float *pp = part + (size_t)blk * C;
                for (int c = 0; c < C; c++) pp[c] = 0.0f;
                for (int n = blk * TRAIN_NORM_ROWS; n < N && n < (blk + 1) * TRAIN_NORM_ROWS; n++) {
                    const float *x = inp + (size_t)n * in_stride, *dy = dout + (size_t)n * dout_stride;
                    float mu = mean ? mean[n] : 0.0f, r = rstd[n];
#pragma omp simd
                    for (int c = 0; c < C; c++) pp[c] += dy[c] * ((x[c] - mu) * r);
                }
            }
            for (int blk = 0; blk < nb; blk++)
                for (int c = 0; c < C; c++) dw[c] += part[(size_t)blk * C + c];
            if (own) free(part);
        } else {
#pragma omp parallel for schedule(static) if ((size_t)N * C > TRAIN_PAR_MIN)
            for (int c = 0; c < C; c++) {
                double s = 0;
                for (int n = 0; n < N; n++) {
                    float mu = mean ? mean[n] : 0.0f;
                    s += (double)dout[(size_t)n * dout_stride + c] * ((inp[(size_t)n * in_stride + c] - mu) * rstd[n]);
                }
                dw[c] += (float)s;
            }
        }
    }
#pragma omp parallel for schedule(static) if ((size_t)N * C > TRAIN_PAR_MIN)
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * in_stride, *dy = dout + (size_t)n * dout_stride;
        float *dx = dinp + (size_t)n * dinp_stride;
        float mu = mean ? mean[n] : 0.0f, r = rstd[n];
        float sg = 0, sgx = 0;
#pragma omp simd reduction(+ : sg, sgx)
        for (int c = 0; c < C; c++) {
            float g = dy[c] * (w ? w[c] : 1.0f);
            sg += g;
            sgx += g * ((x[c] - mu) * r);
        }
        float mg = type == NORM_RMSNORM ? 0.0f : sg / C, mgx = sgx / C;
#pragma omp simd
        for (int c = 0; c < C; c++) {
            float g = dy[c] * (w ? w[c] : 1.0f);
            float v = r * (g - mg - (x[c] - mu) * r * mgx);
            dx[c] = accumulate ? dx[c] + v : v;
        }
    }
}

/* ---- clip_qkv: clamp passes the gradient where −clip ≤ raw ≤ clip (PyTorch's convention) -------------------- */
void clip_backward(float *dx, const float *raw, size_t n, float clip) {
#pragma omp parallel for schedule(static) if (n > TRAIN_PAR_MIN)
    for (size_t i = 0; i < n; i++)
        if (raw[i] > clip || raw[i] < -clip) dx[i] = 0.0f;
}

/* ---- RoPE: the transpose of the rotation, in place ---------------------------------------------------------- */
void rope_backward(float *dx, const float *cosb, const float *sinb, int B, int T, int nh, int hd, size_t stride) {
    int half = hd / 2;
#pragma omp parallel for schedule(static) if ((size_t)B * T * nh * hd > TRAIN_PAR_MIN)
    for (int n = 0; n < B * T; n++) {
        const float *cs = cosb + (size_t)(n % T) * half, *sn = sinb + (size_t)(n % T) * half;
        for (int h = 0; h < nh; h++) {
            float *v = dx + (size_t)n * stride + (size_t)h * hd;
            for (int j = 0; j < half; j++) {
                float a = v[j], b = v[j + half];
                v[j] = a * cs[j] + b * sn[j];
                v[j + half] = b * cs[j] - a * sn[j];
            }
        }
    }
}

/* ---- causal softmax: dS = P ⊙ (dP − Σ_j P·dP) · scale per row, in place in datt (zero above the diagonal) ----- */
static void softmax_causal_backward(float *datt, const float *att, int rows, int T, float scale) {
#pragma omp parallel for schedule(static) if ((size_t)rows * T > TRAIN_PAR_MIN)
    for (int r = 0; r < rows; r++) {
        int i = r % T;
        const float *p = att + (size_t)r * T;
        float *dp = datt + (size_t)r * T;
        float s = 0.0f;
        for (int j = 0; j <= i; j++) s += p[j] * dp[j];
        for (int j = 0; j <= i; j++) dp[j] = p[j] * (dp[j] - s) * scale;
        for (int j = i + 1; j < T; j++) dp[j] = 0.0f;
    }
}

/* ---- attention: the products of attention_forward transposed, batched over (batch, kv head) ------------------
 *   dP_g = dO_g·V_gᵀ;  dS = softmax backward;  dQ_g = dS_g·K_g;  dK_g = dS_gᵀ·Q_g;  dV_g = P_gᵀ·dO_g
 * (the last two sum over the grp query heads sharing the kv head, as GQA requires). */
int attention_backward(struct train_model *m, float *dqkvh, const float *dout, const float *att, const float *qkvh,
                       float *datt, float *tmp, int B, int T) {
    const struct olmo_config *c = &m->cfg;
    int H = c->n_heads, Hkv = c->n_kv_heads, hd = c->head_dim, grp = H / Hkv, G = B * Hkv;
    size_t N = (size_t)B * T;
    const float *Q = qkvh, *K = Q + N * H * hd, *V = K + N * Hkv * hd;
    float *dQ = dqkvh, *dK = dQ + N * H * hd, *dV = dK + N * Hkv * hd;
    rows_to_heads(tmp, dout, (size_t)H * hd, B, T, H, hd);                          /* dO [B, H, T, hd] */
    if (train_mm_batched(m, datt, tmp, V, G, grp * T, T, hd, 0, 1, 0.0f)) return -1;     /* dP [grp·T, T] */
    softmax_causal_backward(datt, att, B * H * T, T, 1.0f / sqrtf((float)hd));
    if (train_mm_batched(m, dQ, datt, K, G, grp * T, hd, T, 0, 0, 0.0f)) return -1;      /* [grp·T, hd] */
    if (train_mm_batched(m, dK, datt, Q, G, T, hd, grp * T, 1, 0, 0.0f)) return -1;      /* [T, hd] */
    if (train_mm_batched(m, dV, att, tmp, G, T, hd, grp * T, 1, 0, 0.0f)) return -1;     /* [T, hd] */
    return 0;
}

/* ---- SwiGLU: a = silu(g)·u;  dg = da·u·σ(g)·(1 + g·(1 − σ(g))),  du = da·silu(g) --------------------------- */
void swiglu_backward(float *dgu, const float *dact, const float *gu, int N, int I) {
#pragma omp parallel for schedule(static) if ((size_t)N * I > TRAIN_PAR_MIN)
    for (int n = 0; n < N; n++) {
        const float *g = gu + (size_t)n * 2 * I, *u = g + I, *da = dact + (size_t)n * I;
        float *dg = dgu + (size_t)n * 2 * I, *du = dg + I;
        float e[256];
        for (int i0 = 0; i0 < I; i0 += 256) {
            int m = I - i0 < 256 ? I - i0 : 256;
            for (int i = 0; i < m; i++) e[i] = -g[i0 + i];
            train_exp_shift(e, m, 0.0f);   /* e = exp(−g) */
            for (int k = 0; k < m; k++) {
                int i = i0 + k;
                float sg = 1.0f / (1.0f + e[k]);
                dg[i] = da[i] * u[i] * sg * (1.0f + g[i] * (1.0f - sg));
                du[i] = da[i] * g[i] * sg;
            }
        }
    }
}

/* ---- the model ------------------------------------------------------------------------------------------------ */

/* One block, the reverse of block_forward. dres enters as ∂loss/∂(block output) and leaves as ∂loss/∂x. */
static int block_backward(struct train_model *m, int l, const float *x, float *dres, int B, int T) {
    const struct olmo_config *c = &m->cfg;
    const struct train_layer *w = &m->layers[l];
    struct train_layer_acts *a = &m->acts->layer[l];
    struct train_acts *s = m->acts;
    const float *P = m->params;
    float *G = m->grads;
    int N = B * T, d = c->d_model, kvd = c->n_kv_heads * c->head_dim, C3 = d + 2 * kvd, I = c->d_ff;
    int after = c->norm_after;
#define W(off) ((off) == TRAIN_NONE ? NULL : P + (off))
#define DW(off) ((off) == TRAIN_NONE ? NULL : G + (off))
    /* MLP sublayer: out = h + Norm2(fo) (after) or h + fo */
    const float *dfo = dres;
    if (after) {
        norm_backward(s->d_fo, DW(w->norm2), dres, a->fo, W(w->norm2), a->ln2_mean, a->ln2_rstd, N, d, d, d, d,
                      c->norm_type, 0, s->norm_part);
        dfo = s->d_fo;
    }
    if (train_mm(m, s->d_act, dfo, P + w->wdown, N, I, d, 0, 0, 0.0f)) return -1;     /* [N,I] = [N,d]·[d,I] */
    if (train_mm(m, G + w->wdown, dfo, a->act, d, I, N, 1, 0, 1.0f)) return -1;      /* [d,I] += dfoᵀ·act */
    swiglu_backward(s->d_gu, s->d_act, a->gu, N, I);                                   /* [N, 2I] */
    const float *min = after ? a->resid_mid : a->ln2;
    if (train_mm(m, G + w->wgu, s->d_gu, min, 2 * I, d, N, 1, 0, 1.0f)) return -1;   /* [2I,d] += d_guᵀ·min */
    if (after) {
        if (train_mm(m, dres, s->d_gu, P + w->wgu, N, d, 2 * I, 0, 0, 1.0f)) return -1;   /* dres += */
    } else {
        if (train_mm(m, s->d_ln, s->d_gu, P + w->wgu, N, d, 2 * I, 0, 0, 0.0f)) return -1;
        norm_backward(dres, DW(w->norm2), s->d_ln, a->resid_mid, W(w->norm2), a->ln2_mean, a->ln2_rstd, N, d, d, d,
                      d, c->norm_type, 1, s->norm_part);
    }
    /* dres is now ∂loss/∂resid_mid. Attention sublayer: h = x + Norm1(ao) (after) or x + ao */
    const float *dao = dres;
    if (after) {
        norm_backward(s->d_ao, DW(w->norm1), dres, a->ao, W(w->norm1), a->ln1_mean, a->ln1_rstd, N, d, d, d, d,
                      c->norm_type, 0, s->norm_part);
        dao = s->d_ao;
    }
    if (train_mm(m, s->d_atty, dao, P + w->wo, N, d, d, 0, 0, 0.0f)) return -1;       /* [N, d] */
    if (train_mm(m, G + w->wo, dao, a->atty, d, d, N, 1, 0, 1.0f)) return -1;        /* [d, d] */
    /* attention → head-major dq|dk|dv in d_qkv2 → token rows [N, C3] in d_qkv */
    if (attention_backward(m, s->d_qkv2, s->d_atty, a->att, a->qkvr, s->d_att, s->att_tmp, B, T)) return -1;
    heads_to_rows(s->d_qkv, C3, s->d_qkv2, B, T, c->n_heads, c->head_dim);
    heads_to_rows(s->d_qkv + d, C3, s->d_qkv2 + (size_t)N * d, B, T, c->n_kv_heads, c->head_dim);
    heads_to_rows(s->d_qkv + d + kvd, C3, s->d_qkv2 + (size_t)N * (d + kvd), B, T, c->n_kv_heads, c->head_dim);
    rope_backward(s->d_qkv, s->rope_cos, s->rope_sin, B, T, c->n_heads, c->head_dim, C3);
    rope_backward(s->d_qkv + d, s->rope_cos, s->rope_sin, B, T, c->n_kv_heads, c->head_dim, C3);
    if (c->qk_norm) {   /* in place on the q and k parts; the norm's input is the clipped projection */
        const float *qin = a->qkv;
        if (c->clip_qkv > 0) {
            memcpy(s->d_qkv2, a->qkv, (size_t)N * C3 * sizeof(float));
            clip_forward(s->d_qkv2, (size_t)N * C3, c->clip_qkv);
            qin = s->d_qkv2;
        }
        norm_backward(s->d_qkv, DW(w->q_norm), s->d_qkv, qin, W(w->q_norm), NULL, a->q_rstd, N, d, C3, C3, C3,
                      NORM_RMSNORM, 0, s->norm_part);
        norm_backward(s->d_qkv + d, DW(w->k_norm), s->d_qkv + d, qin + d, W(w->k_norm), NULL, a->k_rstd, N, kvd,
                      C3, C3, C3, NORM_RMSNORM, 0, s->norm_part);
    }
    if (c->clip_qkv > 0) clip_backward(s->d_qkv, a->qkv, (size_t)N * C3, c->clip_qkv);
    const float *ain = after ? x : a->ln1;
    if (train_mm(m, G + w->wqkv, s->d_qkv, ain, C3, d, N, 1, 0, 1.0f)) return -1;    /* [C3, d] */
    if (after) {
        if (train_mm(m, dres, s->d_qkv, P + w->wqkv, N, d, C3, 0, 0, 1.0f)) return -1;
    } else {
        if (train_mm(m, s->d_ln, s->d_qkv, P + w->wqkv, N, d, C3, 0, 0, 0.0f)) return -1;
        norm_backward(dres, DW(w->norm1), s->d_ln, x, W(w->norm1), a->ln1_mean, a->ln1_rstd, N, d, d, d, d,
                      c->norm_type, 1, s->norm_part);
    }
#undef W
#undef DW
    return 0;
}

int train_backward_pass(struct train_model *m, const int32_t *inputs, int B, int T) {
    const struct olmo_config *c = &m->cfg;
    struct train_acts *a = m->acts;
    int N = B * T, d = c->d_model, V = c->vocab_size, L = c->n_layers;
    size_t Nd = (size_t)N * d;
    float *G = m->grads;
    /* LM head: a->logits holds ∂loss/∂logits [N, V] */
    if (train_mm(m, a->d_ln, a->logits, m->params + m->lm_head, N, d, V, 0, 0, 0.0f)) return -1;   /* [N, d] */
    if (train_mm(m, G + m->lm_head, a->logits, a->lnf, V, d, N, 1, 0, 1.0f)) return -1;           /* [V, d] */
    const float *wf = m->final_norm == TRAIN_NONE ? NULL : m->params + m->final_norm;
    float *dwf = m->final_norm == TRAIN_NONE ? NULL : G + m->final_norm;
    norm_backward(a->d_resid, dwf, a->d_ln, a->resid + L * Nd, wf, a->lnf_mean, a->lnf_rstd, N, d, d, d, d,
                  c->norm_type, 0, a->norm_part);
    for (int l = L - 1; l >= 0; l--)
        if (block_backward(m, l, a->resid + l * Nd, a->d_resid, B, T)) return -1;
    encoder_backward(G + m->embed, a->d_resid, inputs, N, d);
    return 0;
}
