/* test_train_grad.c — every parameter tensor's gradient against central finite differences of the loss.
 *
 * Tiny models of several block settings (OLMo-2 with GQA and z-loss; pre-norm LayerNorm-with-weight + QK-norm +
 * clip_qkv + tied embeddings, a combination no released model has, so every code path is exercised; OLMo-1's
 * non-parametric LayerNorm; llama RMSNorm). For a sample of entries of every tensor, (L(w+h) − L(w−h)) / 2h is
 * compared with the analytic gradient (Richardson-extrapolated central differences, h = 2e-3). The loss is fp32, so
 * the quotient carries ~2e-5 noise: the tolerance is 5e-5 + 1e-3 · max|grad of the tensor| + 2 % of the entry. Entries
 * whose perturbation moves a q/k/v value across the clip_qkv threshold (a kink) are skipped. A sign or factor error
 * fails by far. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "train/train_acts.h"
#include "train/train_model.h"

enum { GB = 2, GT = 6 };

static struct olmo_config cfg(enum olmo_norm_type nt, int after, int qkn, float clip, int tied, int Hkv) {
    struct olmo_config c = {0};
    c.arch = after ? ARCH_OLMO2 : ARCH_LLAMA;
    c.norm_type = nt;
    c.norm_after = after;
    c.qk_norm = qkn;
    c.d_model = 8;
    c.n_layers = 2;
    c.n_heads = 2;
    c.n_kv_heads = Hkv;
    c.head_dim = 4;
    c.d_ff = 6;
    c.vocab_size = 11;
    c.max_seq_len = 16;
    c.rope_theta = 10000.0f;
    c.norm_eps = 1e-5f;
    c.clip_qkv = clip;
    c.tie_embeddings = tied;
    return c;
}

/* Loss at the current parameters; *sig gets a hash of which raw q/k/v values were clipped, so a difference quotient
 * whose two sides straddle a clip kink can be recognised and skipped. */
static double loss_at(struct train_model *m, const int32_t *in, const int32_t *tg, const struct train_loss_opts *lo,
                      uint64_t *sig) {
    struct train_loss_stats st;
    if (train_model_forward(m, in, tg, GB, GT, lo, &st)) return NAN;
    const struct olmo_config *c = &m->cfg;
    uint64_t hsh = 1469598103934665603ull;
    size_t n = (size_t)GB * GT * (c->d_model + 2 * c->n_kv_heads * c->head_dim);
    if (c->clip_qkv > 0)
        for (int l = 0; l < c->n_layers; l++)
            for (size_t i = 0; i < n; i++)
                hsh = (hsh ^ (uint64_t)(fabsf(m->acts->layer[l].qkv[i]) > c->clip_qkv)) * 1099511628211ull;
    *sig = hsh;
    return st.loss;
}

static void fd_check(struct olmo_config c, float zm, uint64_t seed) {
    struct train_model *m = train_model_create(&c, GB, GT, TRAIN_PREC_FP32);
    CHECK(m != NULL);
    /* std 0.2: larger than a real init so every path (and the clip) carries signal in a tiny model */
    CHECK_GOTO(train_model_init(m, TRAIN_INIT_NORMAL, 0.2f, 3.0f, seed) == 0, out);
    for (int t = 0; t < m->n_tensors; t++)   /* norm weights away from 1 */
        if (m->tensors[t].kind == TRAIN_PARAM_NORM)
            for (size_t i = 0; i < m->tensors[t].numel; i++) m->params[m->tensors[t].offset + i] = 0.8f + 0.05f * (i % 7);
    int32_t in[GB * GT], tg[GB * GT];
    for (int i = 0; i < GB * GT; i++) {
        in[i] = (i * 7 + 3) % c.vocab_size;
        tg[i] = (i * 5 + 1) % c.vocab_size;
    }
    tg[GT - 1] = TRAIN_IGNORE_INDEX;
    struct train_loss_opts lo = {zm, GB * GT};
    train_model_zero_grad(m);
    CHECK_GOTO(train_model_forward_backward(m, in, tg, GB, GT, &lo, NULL) == 0, out);
    float *g = malloc(m->n_params * sizeof(float));
    CHECK_GOTO(g != NULL, out);
    memcpy(g, m->grads, m->n_params * sizeof(float));
    const float h = 2e-3f;
    int checked = 0, skipped = 0;
    for (int t = 0; t < m->n_tensors && !th_failed(); t++) {
        const struct train_param *p = &m->tensors[t];
        double gmax = 0;
        for (size_t i = 0; i < p->numel; i++) gmax = fmax(gmax, fabs(g[p->offset + i]));
        size_t stride = p->numel > 12 ? p->numel / 12 : 1;
        for (size_t i = 0; i < p->numel; i += stride) {
            size_t k = p->offset + (i * 7919) % p->numel;
            /* Richardson: (4·D(h) − D(2h))/3 cancels the h² term, so a larger h (less fp32 noise) can be used */
            float w0 = m->params[k];
            double L[4];
            uint64_t sg[4];
            const float off[4] = {h, -h, 2 * h, -2 * h};
            for (int j = 0; j < 4; j++) {
                m->params[k] = w0 + off[j];
                L[j] = loss_at(m, in, tg, &lo, &sg[j]);
            }
            m->params[k] = w0;
            if (sg[0] != sg[1] || sg[0] != sg[2] || sg[0] != sg[3]) { skipped++; continue; }
            checked++;
            double d1 = (L[0] - L[1]) / (2.0 * h), d2 = (L[2] - L[3]) / (4.0 * h);
            double fd = (4.0 * d1 - d2) / 3.0, an = g[k];
            if (!(fabs(fd - an) <= 1e-3 * gmax + 0.02 * fabs(an) + 5e-5)) {
                th_fail(__FILE__, __LINE__, "%s[%zu]: analytic %.6g vs finite difference %.6g (tensor max %.3g)",
                        p->name, k - p->offset, an, fd, gmax);
                break;
            }
        }
    }
    CHECK_GOTO(checked > 4 * skipped, out2);   /* the clip kinks must not hide most of the check */
out2:
    free(g);
out:
    train_model_free(m);
}

TEST(train_grad_olmo2_gqa_zloss) { fd_check(cfg(NORM_RMSNORM, 1, 1, 0, 0, 1), 1e-2f, 1); }
TEST(train_grad_layernorm_affine_qknorm_clip_tied) { fd_check(cfg(NORM_LAYERNORM, 0, 1, 0.4f, 1, 2), 0, 2); }
TEST(train_grad_olmo1_noaffine) { fd_check(cfg(NORM_LAYERNORM_NOAFFINE, 0, 0, 0, 1, 2), 0, 3); }
TEST(train_grad_llama) { fd_check(cfg(NORM_RMSNORM, 0, 0, 0, 0, 1), 0, 4); }
TEST(train_grad_olmo2_layernorm_after) { fd_check(cfg(NORM_LAYERNORM, 1, 0, 0, 0, 2), 1e-3f, 5); }
