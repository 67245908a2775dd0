/* test_sampling.c — greedy, temperature, top-k, top-p and seed reproducibility of the sampler. */
#include "harness.h"
#include "model/sampling.h"

#include <math.h>
#include <stdlib.h>

/* Draws n tokens from p = (0.5, 0.3, 0.2, ~0) and counts them. */
static void counts(float temp, int top_k, float top_p, uint64_t seed, int n, int out[4]) {
    float lg[4] = {logf(0.5f), logf(0.3f), logf(0.2f), -1e30f};
    struct olmo_sampler s;
    sampler_init(&s, 4, temp, top_k, top_p, seed);
    for (int i = 0; i < 4; i++) out[i] = 0;
    for (int i = 0; i < n; i++) out[sampler_sample(&s, lg)]++;
    sampler_free(&s);
}

TEST(sampling_greedy_and_ties) {
    float lg[5] = {1, 3, 2, 3, -1};
    CHECK_EQ_INT(sampler_argmax(lg, 5), 1);   /* lowest id on ties */
    int c[4];
    counts(0.0f, 0, 1.0f, 1, 100, c);
    CHECK_EQ_INT(c[0], 100);
}

TEST(sampling_distribution_temperature_one) {
    int c[4], n = 40000;
    counts(1.0f, 0, 1.0f, 42, n, c);
    CHECK_NEAR(c[0] / (double)n, 0.5, 0.015);
    CHECK_NEAR(c[1] / (double)n, 0.3, 0.015);
    CHECK_NEAR(c[2] / (double)n, 0.2, 0.015);
    CHECK_EQ_INT(c[3], 0);
    /* temperature 2 flattens: p ∝ sqrt(p) → 0.416, 0.322, 0.263 */
    counts(2.0f, 0, 1.0f, 43, n, c);
    CHECK_NEAR(c[0] / (double)n, 0.4156, 0.015);
    CHECK_NEAR(c[2] / (double)n, 0.2629, 0.015);
}

TEST(sampling_top_k_and_top_p) {
    int c[4], n = 40000;
    counts(1.0f, 2, 1.0f, 7, n, c);   /* top-2: 0.5/0.8, 0.3/0.8 */
    CHECK_EQ_INT(c[2], 0);
    CHECK_NEAR(c[0] / (double)n, 0.625, 0.015);
    counts(1.0f, 0, 0.7f, 8, n, c);   /* smallest prefix reaching 0.7: {0, 1} */
    CHECK_EQ_INT(c[2], 0);
    CHECK_NEAR(c[1] / (double)n, 0.375, 0.015);
    counts(1.0f, 0, 0.4f, 9, 1000, c);   /* {0} alone */
    CHECK_EQ_INT(c[0], 1000);
    counts(1.0f, 1, 1.0f, 9, 1000, c);
    CHECK_EQ_INT(c[0], 1000);
}

TEST(sampling_seed_reproducible) {
    int a[4], b[4], d[4];
    counts(1.0f, 0, 1.0f, 123, 1000, a);
    counts(1.0f, 0, 1.0f, 123, 1000, b);
    counts(1.0f, 0, 1.0f, 124, 1000, d);
    CHECK(a[0] == b[0] && a[1] == b[1] && a[2] == b[2]);
    CHECK(a[0] != d[0] || a[1] != d[1]);
}

/* The fast paths (heap top-k, pre-filtered top-p) against a brute-force sampler that sorts the whole
 * vocabulary, fed the same uniform draws: the same token nearly always (sums in another order can move a
 * draw that lands within ~1e-7 of a boundary). */
static int cmp_ref(const void *a, const void *b) {
    const double *x = a, *y = b;   /* pairs {p, id} */
    if (x[0] != y[0]) return x[0] > y[0] ? -1 : 1;
    return x[1] < y[1] ? -1 : 1;
}

static int32_t ref_sample(const float *logits, int n, float temp, int top_k, float top_p, float u) {
    double *c = malloc(sizeof(double) * 2 * (size_t)n), mx = -1e300, sum = 0;
    for (int i = 0; i < n; i++) c[2 * i] = (double)(logits[i] / temp), c[2 * i + 1] = i;
    if ((top_k > 0 && top_k < n) || top_p < 1) qsort(c, (size_t)n, 2 * sizeof(double), cmp_ref);   /* else id order */
    int keep = top_k > 0 && top_k < n ? top_k : n;
    for (int i = 0; i < keep; i++) mx = fmax(mx, c[2 * i]);
    for (int i = 0; i < keep; i++) sum += c[2 * i] = exp(c[2 * i] - mx);
    if (top_p < 1) {
        double acc = 0;
        int k = 0;
        while (k < keep) {
            acc += c[2 * k] / sum;
            k++;
            if (acc >= top_p) break;
        }
        keep = k;
        sum = 0;
        for (int i = 0; i < keep; i++) sum += c[2 * i];
    }
    double r = u * sum, acc = 0;
    int32_t id = (int32_t)c[2 * (keep - 1) + 1];
    for (int i = 0; i < keep; i++) {
        acc += c[2 * i];
        if (r < acc) { id = (int32_t)c[2 * i + 1]; break; }
    }
    free(c);
    return id;
}

TEST(sampling_fast_paths_match_full_sort) {
    int n = 5000, trials = th_sanitized() ? 100 : 400, mismatches = 0;
    float *lg = malloc(sizeof(float) * (size_t)n);
    struct olmo_sampler noise;
    sampler_init(&noise, 1, 1, 0, 1, 99);
    const struct { float t; int k; float p; } cfg[] = {{1, 50, 1}, {0.7f, 0, 0.9f}, {1.3f, 200, 0.5f}, {1, 0, 1}};
    for (size_t c = 0; c < sizeof cfg / sizeof cfg[0]; c++) {
        struct olmo_sampler a, b;
        sampler_init(&a, n, cfg[c].t, cfg[c].k, cfg[c].p, 5);
        sampler_init(&b, n, cfg[c].t, cfg[c].k, cfg[c].p, 5);   /* same stream: supplies the reference's draws */
        for (int t = 0; t < trials; t++) {
            for (int i = 0; i < n; i++) lg[i] = 4.0f * (sampler_rand_f32(&noise) - 0.5f) * (i % 7 == 0 ? 3.0f : 1.0f);
            int32_t got = sampler_sample(&a, lg), want = ref_sample(lg, n, cfg[c].t, cfg[c].k, cfg[c].p, sampler_rand_f32(&b));
            mismatches += got != want;
        }
        sampler_free(&a);
        sampler_free(&b);
    }
    sampler_free(&noise);
    free(lg);
    CHECK_MSG(mismatches <= 4, "%d of %d draws differ from the full-sort sampler", mismatches, 4 * trials);
}
