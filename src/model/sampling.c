/* sampling.c — greedy / temperature / top-k / top-p token choice with a seeded PCG32 (see sampling.h). */
#include "model/sampling.h"
#include "base/error.h"
#include "base/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* PCG32 (O'Neill's XSH-RR output on a 64-bit LCG): tiny, portable, and the same stream everywhere. */
uint32_t sampler_rand_u32(struct olmo_sampler *s) {
    uint64_t old = s->rng_state;
    s->rng_state = old * 6364136223846793005ull + s->rng_inc;
    uint32_t xs = (uint32_t)(((old >> 18) ^ old) >> 27), rot = (uint32_t)(old >> 59);
    return (xs >> rot) | (xs << ((32 - rot) & 31));
}

float sampler_rand_f32(struct olmo_sampler *s) { return (float)(sampler_rand_u32(s) >> 8) * (1.0f / 16777216.0f); }

int sampler_init(struct olmo_sampler *s, int vocab, float temperature, int top_k, float top_p, uint64_t seed) {
    memset(s, 0, sizeof *s);
    if (vocab < 1) return olmo_err("sampler: vocabulary size %d", vocab);
    if (!(top_p > 0)) return olmo_err("sampler: top_p %g must be in (0, 1]", (double)top_p);
    s->temperature = temperature;
    s->top_k = top_k;
    s->top_p = top_p;
    s->vocab = vocab;
    s->rng_inc = (seed << 1) | 1;
    sampler_rand_u32(s);
    s->rng_state += 0x853c49e6748fea9bull ^ seed;
    sampler_rand_u32(s);
    s->cand = olmo_malloc((size_t)vocab * sizeof *s->cand);
    return s->cand ? 0 : -1;
}

void sampler_free(struct olmo_sampler *s) {
    free(s->cand);
    memset(s, 0, sizeof *s);
}

int32_t sampler_argmax(const float *logits, int n) {
    int32_t best = 0;
    for (int i = 1; i < n; i++)
        if (logits[i] > logits[best]) best = i;
    return best;
}

static int cmp_desc(const void *a, const void *b) {
    const struct sampler_cand *x = a, *y = b;
    if (x->p != y->p) return x->p > y->p ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

int32_t sampler_sample(struct olmo_sampler *s, const float *logits) {
    int n = s->vocab;
    if (s->temperature <= 0) return sampler_argmax(logits, n);
    struct sampler_cand *c = s->cand;
    for (int i = 0; i < n; i++) c[i] = (struct sampler_cand){logits[i] / s->temperature, i};
    int keep = n;
    if (s->top_k > 0 && s->top_k < n) keep = s->top_k;
    if (keep < n || s->top_p < 1.0f) {
        /* Partial work would do for top-k alone; a full sort keeps it simple and is cheap next to a forward pass. */
        qsort(c, (size_t)n, sizeof *c, cmp_desc);
    }
    float mx = c[0].p;
    for (int i = 1; i < keep; i++) mx = fmaxf(mx, c[i].p);
    double sum = 0;
    for (int i = 0; i < keep; i++) {
        c[i].p = expf(c[i].p - mx);
        sum += c[i].p;
    }
    if (s->top_p < 1.0f) {   /* smallest prefix (already sorted) whose mass reaches top_p */
        double acc = 0;
        int k = 0;
        while (k < keep) {
            acc += c[k].p / sum;
            k++;
            if (acc >= s->top_p) break;
        }
        keep = k;
        sum = 0;
        for (int i = 0; i < keep; i++) sum += c[i].p;
    }
    double r = (double)sampler_rand_f32(s) * sum, acc = 0;
    for (int i = 0; i < keep; i++) {
        acc += c[i].p;
        if (r < acc) return c[i].id;
    }
    return c[keep - 1].id;
}
