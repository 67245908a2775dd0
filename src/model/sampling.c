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

/* Min-heap on p (ties: larger id is "smaller", so the lower id wins a tie for the last place). */
static int heap_less(const struct sampler_cand *x, const struct sampler_cand *y) {
    return x->p < y->p || (x->p == y->p && x->id > y->id);
}
static void sift_down(struct sampler_cand *h, int n, int i) {
    for (;;) {
        int m = i, l = 2 * i + 1, r = l + 1;
        if (l < n && heap_less(&h[l], &h[m])) m = l;
        if (r < n && heap_less(&h[r], &h[m])) m = r;
        if (m == i) return;
        struct sampler_cand t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/* Draws from cand[0..n) with unnormalised weights p summing to sum. */
static int32_t draw(struct olmo_sampler *s, const struct sampler_cand *c, int n, double sum) {
    double r = (double)sampler_rand_f32(s) * sum, acc = 0;
    for (int i = 0; i < n; i++) {
        acc += c[i].p;
        if (r < acc) return c[i].id;
    }
    return c[n - 1].id;
}

/* Cost per token: O(V) for plain temperature sampling, O(V log k) with top-k, O(V + m log m) with top-p where
 * m is the number of tokens that can be in the nucleus (never a full sort of a 100k vocabulary). */
int32_t sampler_sample(struct olmo_sampler *s, const float *logits) {
    int n = s->vocab;
    if (s->temperature <= 0) return sampler_argmax(logits, n);
    float inv_t = 1.0f / s->temperature;
    struct sampler_cand *c = s->cand;
    int m;          /* candidates in c, sorted by descending p */
    double sum;     /* normalisation of the distribution the top-p mass refers to */
    if (s->top_k > 0 && s->top_k < n) {
        /* top-k: keep the k largest logits in a min-heap, then sort them */
        int k = s->top_k;
        for (int i = 0; i < k; i++) c[i] = (struct sampler_cand){logits[i] * inv_t, i};
        for (int i = k / 2 - 1; i >= 0; i--) sift_down(c, k, i);
        for (int i = k; i < n; i++) {
            struct sampler_cand x = {logits[i] * inv_t, i};
            if (heap_less(&c[0], &x)) {
                c[0] = x;
                sift_down(c, k, 0);
            }
        }
        qsort(c, (size_t)k, sizeof *c, cmp_desc);
        float mx = c[0].p;
        sum = 0;
        for (int i = 0; i < k; i++) sum += c[i].p = expf(c[i].p - mx);
        m = k;
    } else {
        float mx = logits[0] * inv_t;
        for (int i = 1; i < n; i++) mx = fmaxf(mx, logits[i] * inv_t);
        sum = 0;
        for (int i = 0; i < n; i++) sum += c[i].p = expf(logits[i] * inv_t - mx), c[i].id = i;
        if (s->top_p >= 1.0f) return draw(s, c, n, sum);
        /* A token with probability below (1 - top_p) / (n - 1) can never be in the nucleus (all of them together
         * hold less than 1 - top_p), so only the others need sorting. */
        double cut = (1.0 - s->top_p) / (n - 1) * sum;
        m = 0;
        for (int i = 0; i < n; i++)
            if (c[i].p >= cut) c[m++] = c[i];
        qsort(c, (size_t)m, sizeof *c, cmp_desc);
    }
    if (s->top_p < 1.0f) {   /* smallest prefix whose mass reaches top_p */
        double acc = 0;
        int k = 0;
        while (k < m) {
            acc += c[k].p / sum;
            k++;
            if (acc >= s->top_p) break;
        }
        m = k;
        sum = 0;
        for (int i = 0; i < m; i++) sum += c[i].p;
    }
    return draw(s, c, m, sum);
}
