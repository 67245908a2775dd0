/* optim.c — AdamW, weight-decay groups, global-norm clipping and learning-rate schedules (see optim.h). */
#include "train/optim.h"

#include "train/train_kernels.h"

#include <math.h>
#include <string.h>

static const char *const sched_names[] = {
    [SCHED_CONSTANT] = "constant",
    [SCHED_COSINE_WITH_WARMUP] = "cosine_with_warmup",
    [SCHED_LINEAR_WITH_WARMUP] = "linear_with_warmup",
    [SCHED_CONSTANT_WITH_WARMUP] = "constant_with_warmup",
    [SCHED_INV_SQRT_WITH_WARMUP] = "inverse_sqrt_with_warmup",
    [SCHED_MAX] = "max_scheduler",
    [SCHED_COS_LINEAR_ENVELOPE] = "cosine_linear_envelope",
    [SCHED_WSD] = "wsd",
};
enum { N_SCHED = (int)(sizeof sched_names / sizeof *sched_names) };

const char *optim_sched_name(enum optim_sched_kind k) {
    return (int)k >= 0 && (int)k < N_SCHED ? sched_names[k] : "?";
}

int optim_sched_from_name(const char *name) {
    for (int k = 0; k < N_SCHED; k++)
        if (!strcmp(name, sched_names[k])) return k;
    return -1;
}

/* Linear warm-up (both trainers): w0 + (lr0 − w0)·min(x, W)/W. */
static double warmup_lr(const struct optim_schedule *s, double x) {
    /* OLMo's old trainer starts warm-up at 0.1·lr when warmup_min_lr is unset (OLMo-1 configs) */
    double w0 = s->warmup_min_lr < 0 ? 0.1 * s->lr : s->warmup_min_lr;
    double f = x < 0 ? 0 : x > s->t_warmup ? 1 : x / s->t_warmup;
    return w0 + (s->lr - w0) * f;
}

static double cosine_lr(const struct optim_schedule *s, double x) {
    double lr0 = s->lr, W = s->t_warmup, eta_min = s->alpha_f * lr0;
    if (x >= s->t_max || s->t_max <= W) return eta_min;
    return eta_min + (lr0 - eta_min) * (1.0 + cos(M_PI * (x - W) / (s->t_max - W))) / 2.0;
}

static double inv_sqrt_lr(const struct optim_schedule *s, double x) {
    double W = s->t_warmup;
    return s->lr * sqrt(W / (x > W ? x : W));
}

double optim_lr(const struct optim_schedule *s, double x) {
    double lr0 = s->lr, W = s->t_warmup, T = s->t_max, eta_min = s->alpha_f * lr0;
    /* OLMo's plain constant schedule returns the peak at every position: t_warmup does not apply to it */
    if (s->kind == SCHED_CONSTANT) return lr0;
    if (W > 0 && x < W) return warmup_lr(s, x);
    switch (s->kind) {
    case SCHED_COSINE_WITH_WARMUP: return cosine_lr(s, x);
    case SCHED_LINEAR_WITH_WARMUP:
        if (x >= T || T <= W) return eta_min;
        return lr0 - (lr0 - eta_min) * (x - W) / (T - W);
    case SCHED_INV_SQRT_WITH_WARMUP: return inv_sqrt_lr(s, x);
    case SCHED_MAX: {
        double a = cosine_lr(s, x), b = inv_sqrt_lr(s, x);
        return a > b ? a : b;
    }
    case SCHED_COS_LINEAR_ENVELOPE: {
        if (x >= T || T <= W) return eta_min;
        double p = (x - W) / (T - W);
        return eta_min + (1.0 - p) * (lr0 - eta_min) * (1.0 + cos(M_PI * p)) / 2.0;
    }
    case SCHED_WSD: {
        /* OLMo-core: the decay covers [T − D, T], lr = dmin + (lr0 − dmin)·min(T − x, D)/D */
        double D = s->decay > 0 ? s->decay : round(T * s->decay_fraction);
        if (x >= T) return D > 0 ? s->decay_min_lr : lr0;
        if (D > 0 && x >= T - D) return s->decay_min_lr + (lr0 - s->decay_min_lr) * (T - x) / D;
        return lr0;
    }
    case SCHED_CONSTANT_WITH_WARMUP:
    case SCHED_CONSTANT:
    default: return lr0;
    }
}

void optim_set_decay(struct train_model *m, int decay_norm_and_bias, int decay_embeddings) {
    for (int i = 0; i < m->n_tensors; i++) {
        struct train_param *p = &m->tensors[i];
        switch (p->kind) {
        case TRAIN_PARAM_LINEAR: p->decay = 1; break;
        case TRAIN_PARAM_NORM: p->decay = decay_norm_and_bias != 0; break;
        case TRAIN_PARAM_EMBEDDING: p->decay = decay_embeddings != 0; break;
        }
    }
}

/* Squares summed in double over chunks of this many floats, chunk sums added in chunk order: the same bits
 * whatever the number of threads. */
#define NORM_CHUNK 16384

double optim_grad_norm(const float *g, size_t n) {
    size_t nchunks = (n + NORM_CHUNK - 1) / NORM_CHUNK;
    double total = 0;
    /* chunk sums are computed in parallel in blocks of 256 chunks, then added in order */
    enum { BLK = 256 };
    double part[BLK];
    for (size_t c0 = 0; c0 < nchunks; c0 += BLK) {
        size_t nb = nchunks - c0 < BLK ? nchunks - c0 : BLK;
#pragma omp parallel for schedule(static) if (nb > 4)
        for (size_t k = 0; k < nb; k++) {
            size_t lo = (c0 + k) * NORM_CHUNK, hi = lo + NORM_CHUNK < n ? lo + NORM_CHUNK : n;
            double s = 0;
            for (size_t i = lo; i < hi; i++) s += (double)g[i] * g[i];
            part[k] = s;
        }
        for (size_t k = 0; k < nb; k++) total += part[k];
    }
    return sqrt(total);
}

double optim_clip_grads(float *g, size_t n, double max_norm) {
    double norm = optim_grad_norm(g, n);
    if (max_norm <= 0) return norm;
    double coef = max_norm / (norm + 1e-6);
    if (coef > 1.0) coef = 1.0;
    float f = (float)coef;
#pragma omp parallel for schedule(static) if (n > TRAIN_PAR_MIN)
    for (size_t i = 0; i < n; i++) g[i] *= f;
    return norm;
}

double optim_clip_threshold(double max_norm, int64_t step, int64_t warmup_steps, double warmup_factor) {
    if (warmup_steps > 0 && warmup_factor > 0 && step <= warmup_steps) return warmup_factor * max_norm;
    return max_norm;
}

void optim_adamw_step(struct train_model *m, const struct optim_adamw *o, double lr, int64_t step) {
    double bc1 = 1.0 - pow(o->beta1, (double)step), bc2 = 1.0 - pow(o->beta2, (double)step);
    float step_size = (float)(lr / bc1), bc2_sqrt = (float)sqrt(bc2);
    float b1 = o->beta1, b2 = o->beta2, eps = o->eps;
    for (int t = 0; t < m->n_tensors; t++) {
        const struct train_param *p = &m->tensors[t];
        float *w = m->params + p->offset, *g = m->grads + p->offset, *mm = m->m + p->offset, *vv = m->v + p->offset;
        float keep = p->decay ? (float)(1.0 - lr * o->weight_decay) : 1.0f;
        long n = (long)p->numel;
#pragma omp parallel for schedule(static) if (n > TRAIN_PAR_MIN)
        for (long i = 0; i < n; i++) {
            float gi = g[i];
            float mi = b1 * mm[i] + (1.0f - b1) * gi;
            float vi = b2 * vv[i] + (1.0f - b2) * gi * gi;
            mm[i] = mi;
            vv[i] = vi;
            float wi = w[i] * keep;
            w[i] = wi - step_size * mi / (sqrtf(vi) / bc2_sqrt + eps);
        }
    }
}
