/* test_sampling.c — greedy, temperature, top-k, top-p and seed reproducibility of the sampler. */
#include "harness.h"
#include "model/sampling.h"

#include <math.h>

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
