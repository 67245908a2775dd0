/* train_forward.c — the forward pass of the trainable model, layer by layer (as llm.c's train_gpt2.c), and the
 * loss. Each <layer>_forward here has its <layer>_backward in train_backward.c. Shapes: N = B·T tokens,
 * d = d_model, kvd = n_kv_heads·head_dim, C3 = d + 2·kvd, I = d_ff, V = vocab. All fp32; matrix products go through
 * train_mm (fp32 OpenBLAS or bf16 oneDNN). Loops are parallel over rows (tokens) or (batch, head), each output
 * written by one thread in a fixed order, so results do not depend on the thread count (the GEMMs excepted). */
#include <math.h>
#include <string.h>

#include "base/error.h"
#include "train/train_acts.h"
#include "train/train_kernels.h"

/* ---- RoPE tables: inv_freq[i] = θ^(-2i/hd) and angles in fp32, as OLMo/HF compute them ---------------------- */
void train_rope_tables(float *cosb, float *sinb, int T, int hd, float theta) {
    int half = hd / 2;
    for (int i = 0; i < half; i++) {
        float inv = 1.0f / powf(theta, (float)(2 * i) / (float)hd);
        for (int p = 0; p < T; p++) {
            float a = (float)p * inv;
            cosb[(size_t)p * half + i] = cosf(a);
            sinb[(size_t)p * half + i] = sinf(a);
        }
    }
}

/* ---- embedding: out[N,d] = wte[inp[n]] ---------------------------------------------------------------------- */
void encoder_forward(float *out, const int32_t *inp, const float *wte, int N, int d) {
    for (int n = 0; n < N; n++) memcpy(out + (size_t)n * d, wte + (size_t)inp[n] * d, (size_t)d * sizeof(float));
}

/* ---- norms: out[n, 0..C) = Norm(inp[n, 0..C)) · w ------------------------------------------------------------
 * LayerNorm: (x − mean)/sqrt(var + eps) (biased var); RMSNorm: x/sqrt(mean(x²) + eps). w NULL = no weight.
 * Statistics accumulate in double (cheap at these widths, and independent of vector width). Row strides let the
 * QK-norm read q and k straight out of the fused qkv rows. */
void norm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w, int N, int C,
                  size_t in_stride, size_t out_stride, enum olmo_norm_type type, float eps) {
#pragma omp parallel for schedule(static) if ((size_t)N * C > TRAIN_PAR_MIN)
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * in_stride;
        float *y = out + (size_t)n * out_stride;
        double mu = 0, var = 0;
        if (type != NORM_RMSNORM) {
            for (int c = 0; c < C; c++) mu += x[c];
            mu /= C;
        }
        for (int c = 0; c < C; c++) var += ((double)x[c] - mu) * ((double)x[c] - mu);
        var /= C;
        float r = (float)(1.0 / sqrt(var + (double)eps)), m = (float)mu;
        for (int c = 0; c < C; c++) y[c] = (x[c] - m) * r * (w ? w[c] : 1.0f);
        if (mean) mean[n] = m;
        rstd[n] = r;
    }
}

/* ---- clip_qkv: clamp in place to [-clip, clip] (OLMo clamps the fused qkv output, before QK-norm and RoPE) ---- */
void clip_forward(float *x, size_t n, float clip) {
#pragma omp parallel for schedule(static) if (n > TRAIN_PAR_MIN)
    for (size_t i = 0; i < n; i++) x[i] = x[i] > clip ? clip : (x[i] < -clip ? -clip : x[i]);
}

/* ---- RoPE, rotate-half pairing (j with j + hd/2), on `nh` heads of width hd starting at x[n*stride] ---------- */
void rope_forward(float *x, const float *cosb, const float *sinb, int B, int T, int nh, int hd, size_t stride) {
    int half = hd / 2;
#pragma omp parallel for schedule(static) if ((size_t)B * T * nh * hd > TRAIN_PAR_MIN)
    for (int n = 0; n < B * T; n++) {
        const float *cs = cosb + (size_t)(n % T) * half, *sn = sinb + (size_t)(n % T) * half;
        for (int h = 0; h < nh; h++) {
            float *v = x + (size_t)n * stride + (size_t)h * hd;
            for (int j = 0; j < half; j++) {
                float a = v[j], b = v[j + half];
                v[j] = a * cs[j] - b * sn[j];
                v[j + half] = b * cs[j] + a * sn[j];
            }
        }
    }
}

/* ---- layout changes between token rows [N, stride] and head-major [B, nh, T, hd] ------------------------------ */
void rows_to_heads(float *dst, const float *src, size_t src_stride, int B, int T, int nh, int hd) {
#pragma omp parallel for schedule(static) if ((size_t)B * T * nh * hd > TRAIN_PAR_MIN)
    for (int n = 0; n < B * T; n++) {
        int b = n / T, t = n % T;
        for (int h = 0; h < nh; h++)
            memcpy(dst + (((size_t)b * nh + h) * T + t) * hd, src + (size_t)n * src_stride + (size_t)h * hd,
                   (size_t)hd * sizeof(float));
    }
}

void heads_to_rows(float *dst, size_t dst_stride, const float *src, int B, int T, int nh, int hd) {
#pragma omp parallel for schedule(static) if ((size_t)B * T * nh * hd > TRAIN_PAR_MIN)
    for (int n = 0; n < B * T; n++) {
        int b = n / T, t = n % T;
        for (int h = 0; h < nh; h++)
            memcpy(dst + (size_t)n * dst_stride + (size_t)h * hd, src + (((size_t)b * nh + h) * T + t) * hd,
                   (size_t)hd * sizeof(float));
    }
}

/* ---- causal softmax of score rows in place: row r of a [rows, T] block is query position i = r mod T ----------
 * p[j] = exp(scale·s[j] − max) / Σ for lo ≤ j ≤ i, 0 elsewhere; lo = 0, or i − window + 1 for a sliding-window
 * layer (OLMo-3). The backward pass needs no window: it only sees p, which is 0 outside. */
static void softmax_causal_forward(float *att, int rows, int T, float scale, int window) {
#pragma omp parallel for schedule(static) if ((size_t)rows * T > TRAIN_PAR_MIN)
    for (int r = 0; r < rows; r++) {
        int i = r % T, lo = window > 0 && i - window + 1 > 0 ? i - window + 1 : 0;
        float *p = att + (size_t)r * T;
        float mx = -INFINITY;
        for (int j = lo; j <= i; j++) {
            p[j] *= scale;
            mx = p[j] > mx ? p[j] : mx;
        }
        float inv = 1.0f / train_exp_shift(p + lo, i + 1 - lo, mx);
        for (int j = 0; j < lo; j++) p[j] = 0.0f;
        for (int j = lo; j <= i; j++) p[j] *= inv;
        for (int j = i + 1; j < T; j++) p[j] = 0.0f;
    }
}

/* ---- causal self-attention (see train_kernels.h for the grouping of GQA heads) ------------------------------- */
int attention_forward(struct train_model *m, float *out, float *att, const float *qkvh, float *tmp, int B, int T,
                      int window) {
    const struct olmo_config *c = &m->cfg;
    int H = c->n_heads, Hkv = c->n_kv_heads, hd = c->head_dim, grp = H / Hkv;
    size_t N = (size_t)B * T;
    const float *Q = qkvh, *K = Q + N * H * hd, *V = K + N * Hkv * hd;
    /* S_g [grp·T, T] = Q_g [grp·T, hd] · K_gᵀ, for each of the B·Hkv (batch, kv head) pairs */
    if (train_mm_batched(m, att, Q, K, B * Hkv, grp * T, T, hd, 0, 1, 0.0f)) return -1;
    softmax_causal_forward(att, B * H * T, T, 1.0f / sqrtf((float)hd), window);
    /* O_g [grp·T, hd] = P_g · V_g  (head-major), then back to token rows */
    if (train_mm_batched(m, tmp, att, V, B * Hkv, grp * T, hd, T, 0, 0, 0.0f)) return -1;
    heads_to_rows(out, (size_t)H * hd, tmp, B, T, H, hd);
    return 0;
}

/* ---- SwiGLU: act[n, i] = silu(gate[n, i]) · up[n, i], gu = [gate | up] of width 2I ---------------------------- */
void swiglu_forward(float *act, const float *gu, int N, int I) {
#pragma omp parallel for schedule(static) if ((size_t)N * I > TRAIN_PAR_MIN)
    for (int n = 0; n < N; n++) {
        const float *g = gu + (size_t)n * 2 * I, *u = g + I;
        float *a = act + (size_t)n * I;
        float e[256];
        for (int i0 = 0; i0 < I; i0 += 256) {   /* exp(−g) vectorised in chunks, then silu(g)·u */
            int m = I - i0 < 256 ? I - i0 : 256;
            for (int k = 0; k < m; k++) e[k] = -g[i0 + k];
            train_exp_shift(e, m, 0.0f);
            for (int k = 0; k < m; k++) a[i0 + k] = g[i0 + k] / (1.0f + e[k]) * u[i0 + k];
        }
    }
}

void residual_forward(float *out, const float *a, const float *b, size_t n) {
#pragma omp parallel for schedule(static) if (n > TRAIN_PAR_MIN)
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

/* ---- cross-entropy with z-loss, fused with its gradient ----------------------------------------------------
 * Per labelled row: lse = log Σ exp(logit), CE = lse − logit[target], z = lse². With grad_scale != 0 the row is
 * replaced by d loss / d logits = (softmax·(1 + 2·zm·lse) − onehot) · grad_scale (0 for unlabelled rows). */
void crossentropy_forward(float *logits, float *row_ce, float *row_lse, const int32_t *targets, int N, int V,
                          float zm, float grad_scale) {
#pragma omp parallel for schedule(static) if ((size_t)N * V > TRAIN_PAR_MIN)
    for (int n = 0; n < N; n++) {
        float *l = logits + (size_t)n * V;
        int t = targets[n];
        if (t == TRAIN_IGNORE_INDEX) {
            row_ce[n] = row_lse[n] = 0.0f;
            if (grad_scale != 0.0f) memset(l, 0, (size_t)V * sizeof(float));
            continue;
        }
        float mx = l[0];
        for (int v = 1; v < V; v++) mx = l[v] > mx ? l[v] : mx;
        float lt = l[t];
        double sum = train_exp_shift(l, V, mx);   /* l[v] ← exp(l[v] − mx); the logits are scratch either way */
        double lse = mx + log(sum);
        row_ce[n] = (float)(lse - lt);
        row_lse[n] = (float)lse;
        if (grad_scale != 0.0f) {
            float f = (float)((1.0 + 2.0 * zm * lse) / sum) * grad_scale;
            for (int v = 0; v < V; v++) l[v] *= f;
            l[t] -= grad_scale;
        }
    }
}

/* ---- the model --------------------------------------------------------------------------------------------- */

/* One block. x [N,d] enters, resid_out [N,d] leaves.
 *   OLMo-2 (norm_after):  h = x + Norm1(Attn(x));   out = h + Norm2(MLP(h))
 *   pre-norm (OLMo-1, llama):  h = x + Attn(Norm1(x));   out = h + MLP(Norm2(h)) */
static int block_forward(struct train_model *m, int l, const float *x, float *resid_out, int B, int T) {
    const struct olmo_config *c = &m->cfg;
    const struct train_layer *w = &m->layers[l];
    struct train_layer_acts *a = &m->acts->layer[l];
    struct train_acts *s = m->acts;
    const float *P = m->params;
    int N = B * T, d = c->d_model, kvd = c->n_kv_heads * c->head_dim, C3 = d + 2 * kvd, I = c->d_ff;
    int after = c->norm_after;
#define W(off) ((off) == TRAIN_NONE ? NULL : P + (off))
    /* attention sublayer */
    const float *ain = x;
    if (!after) {
        norm_forward(a->ln1, a->ln1_mean, a->ln1_rstd, x, W(w->norm1), N, d, d, d, c->norm_type, c->norm_eps);
        ain = a->ln1;
    }
    if (train_mm(m, a->qkv, ain, P + w->wqkv, N, C3, d, 0, 1, 0.0f)) return -1;   /* [N, C3] */
    float *r = s->d_qkv2;   /* [N, C3] scratch: q|k|v rows on their way to attention */
    memcpy(r, a->qkv, (size_t)N * C3 * sizeof(float));
    if (c->clip_qkv > 0) clip_forward(r, (size_t)N * C3, c->clip_qkv);
    if (c->qk_norm) {   /* RMSNorm over the whole q (width d) and whole k (width kvd), in place */
        norm_forward(r, NULL, a->q_rstd, r, W(w->q_norm), N, d, C3, C3, NORM_RMSNORM, c->norm_eps);
        norm_forward(r + d, NULL, a->k_rstd, r + d, W(w->k_norm), N, kvd, C3, C3, NORM_RMSNORM, c->norm_eps);
    }
    rope_forward(r, s->rope_cos, s->rope_sin, B, T, c->n_heads, c->head_dim, C3);
    rope_forward(r + d, s->rope_cos, s->rope_sin, B, T, c->n_kv_heads, c->head_dim, C3);
    rows_to_heads(a->qkvr, r, C3, B, T, c->n_heads, c->head_dim);                                 /* q */
    rows_to_heads(a->qkvr + (size_t)N * d, r + d, C3, B, T, c->n_kv_heads, c->head_dim);           /* k */
    rows_to_heads(a->qkvr + (size_t)N * (d + kvd), r + d + kvd, C3, B, T, c->n_kv_heads, c->head_dim);   /* v */
    int window = c->sliding_window > 0 && c->layer_sliding[l] ? c->sliding_window : 0;   /* OLMo-3 sliding layer */
    if (attention_forward(m, a->atty, a->att, a->qkvr, s->att_tmp, B, T, window)) return -1;     /* [N, d] */
    if (train_mm(m, a->ao, a->atty, P + w->wo, N, d, d, 0, 1, 0.0f)) return -1;             /* [N, d] */
    if (after) {
        norm_forward(a->ln1, a->ln1_mean, a->ln1_rstd, a->ao, W(w->norm1), N, d, d, d, c->norm_type, c->norm_eps);
        residual_forward(a->resid_mid, x, a->ln1, (size_t)N * d);
    } else {
        residual_forward(a->resid_mid, x, a->ao, (size_t)N * d);
    }
    /* MLP sublayer */
    const float *min = a->resid_mid;
    if (!after) {
        norm_forward(a->ln2, a->ln2_mean, a->ln2_rstd, a->resid_mid, W(w->norm2), N, d, d, d, c->norm_type,
                     c->norm_eps);
        min = a->ln2;
    }
    if (train_mm(m, a->gu, min, P + w->wgu, N, 2 * I, d, 0, 1, 0.0f)) return -1;           /* [N, 2I] */
    swiglu_forward(a->act, a->gu, N, I);                                                    /* [N, I] */
    if (train_mm(m, a->fo, a->act, P + w->wdown, N, d, I, 0, 1, 0.0f)) return -1;          /* [N, d] */
    if (after) {
        norm_forward(a->ln2, a->ln2_mean, a->ln2_rstd, a->fo, W(w->norm2), N, d, d, d, c->norm_type, c->norm_eps);
        residual_forward(resid_out, a->resid_mid, a->ln2, (size_t)N * d);
    } else {
        residual_forward(resid_out, a->resid_mid, a->fo, (size_t)N * d);
    }
#undef W
    return 0;
}

int train_forward_pass(struct train_model *m, const int32_t *inputs, const int32_t *targets, int B, int T,
                       const struct train_loss_opts *lo, struct train_loss_stats *st, int backward) {
    const struct olmo_config *c = &m->cfg;
    struct train_acts *a = m->acts;
    int N = B * T, d = c->d_model, V = c->vocab_size;
    size_t Nd = (size_t)N * d;
    encoder_forward(a->resid, inputs, m->params + m->embed, N, d);
    for (int l = 0; l < c->n_layers; l++)
        if (block_forward(m, l, a->resid + l * Nd, a->resid + (l + 1) * Nd, B, T)) return -1;
    const float *wf = m->final_norm == TRAIN_NONE ? NULL : m->params + m->final_norm;
    norm_forward(a->lnf, a->lnf_mean, a->lnf_rstd, a->resid + c->n_layers * Nd, wf, N, d, d, d, c->norm_type,
                 c->norm_eps);
    if (train_mm(m, a->logits, a->lnf, m->params + m->lm_head, N, V, d, 0, 1, 0.0f)) return -1;   /* [N, V] */
    crossentropy_forward(a->logits, a->row_ce, a->row_lse, targets, N, V, lo->z_loss_mult,
                         backward ? (float)(1.0 / lo->denom) : 0.0f);
    /* reduce the per-row statistics in index order (deterministic) */
    double ce = 0, z = 0;
    int64_t cnt = 0;
    for (int n = 0; n < N; n++) {
        if (targets[n] == TRAIN_IGNORE_INDEX) continue;
        ce += a->row_ce[n];
        z += (double)a->row_lse[n] * a->row_lse[n];
        cnt++;
    }
    st->ce_sum = ce;
    st->z_sum = z;
    st->n_labelled = cnt;
    st->loss = (ce + lo->z_loss_mult * z) / lo->denom;
    return 0;
}
