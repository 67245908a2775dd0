/* train_acts.c — one allocation for all activation and backward-scratch buffers of a B×T micro-batch
 * (train_acts.h lists them with their shapes). */
#include "train/train_acts.h"

#include <stdlib.h>

#include "base/error.h"
#include "base/mem.h"

/* Carves buffers of n floats out of one block; each starts on a 64-byte boundary. With base == NULL only counts. */
struct carver { float *base; size_t off; };

static float *carve(struct carver *c, size_t n) {
    float *p = c->base ? c->base + c->off : NULL;
    c->off += (n + 15) & ~(size_t)15;
    return p;
}

static void layout(struct train_acts *a, const struct olmo_config *c, int B, int T, struct carver *cv) {
    size_t N = (size_t)B * T, d = c->d_model, kvd = (size_t)c->n_kv_heads * c->head_dim, C3 = d + 2 * kvd;
    size_t I = c->d_ff, H = c->n_heads, V = c->vocab_size, L = c->n_layers, hd = c->head_dim;
    a->resid = carve(cv, (L + 1) * N * d);
    for (size_t l = 0; l < L; l++) {
        struct train_layer_acts *y = &a->layer[l];
        y->resid_mid = carve(cv, N * d);
        y->ln1 = carve(cv, N * d);
        y->ln1_mean = carve(cv, N);
        y->ln1_rstd = carve(cv, N);
        y->qkv = carve(cv, N * C3);
        y->qkvr = carve(cv, N * C3);
        y->q_rstd = carve(cv, N);
        y->k_rstd = carve(cv, N);
        y->att = carve(cv, (size_t)B * H * T * T);
        y->atty = carve(cv, N * d);
        y->ao = carve(cv, N * d);
        y->ln2 = carve(cv, N * d);
        y->ln2_mean = carve(cv, N);
        y->ln2_rstd = carve(cv, N);
        y->gu = carve(cv, N * 2 * I);
        y->act = carve(cv, N * I);
        y->fo = carve(cv, N * d);
    }
    a->lnf = carve(cv, N * d);
    a->lnf_mean = carve(cv, N);
    a->lnf_rstd = carve(cv, N);
    a->logits = carve(cv, N * V);
    a->row_ce = carve(cv, N);
    a->row_lse = carve(cv, N);
    a->rope_cos = carve(cv, (size_t)T * hd / 2);
    a->rope_sin = carve(cv, (size_t)T * hd / 2);
    a->d_resid = carve(cv, N * d);
    a->d_ln = carve(cv, N * d);
    a->d_ao = carve(cv, N * d);
    a->d_atty = carve(cv, N * d);
    a->d_fo = carve(cv, N * d);
    a->d_qkv = carve(cv, N * C3);
    a->d_qkv2 = carve(cv, N * C3);
    a->d_gu = carve(cv, N * 2 * I);
    a->d_act = carve(cv, N * I);
    a->att_tmp = carve(cv, N * d);
    a->d_att = carve(cv, (size_t)B * H * T * T);
    a->norm_part = carve(cv, (N + TRAIN_NORM_ROWS - 1) / TRAIN_NORM_ROWS * d);
}

int train_acts_alloc(struct train_acts *a, const struct olmo_config *c, int B, int T) {
    a->B = B;
    a->T = T;
    a->layer = olmo_calloc((size_t)c->n_layers, sizeof *a->layer);
    if (!a->layer) return -1;
    struct carver cv = {NULL, 0};
    layout(a, c, B, T, &cv);
    a->bytes = cv.off * sizeof(float);
    a->block = olmo_aligned_alloc(a->bytes);
    if (!a->block) return olmo_err_prefix("train model: activations for a %dx%d micro-batch: ", B, T);
    cv.base = a->block;
    cv.off = 0;
    layout(a, c, B, T, &cv);
    train_rope_tables(a->rope_cos, a->rope_sin, T, c->head_dim, c->rope_theta);
    return 0;
}

void train_acts_free(struct train_acts *a) {
    free(a->block);
    free(a->layer);
    a->block = NULL;
    a->layer = NULL;
}
