/* test_attention.c — attn_prefill against a plain double-precision causal attention: GQA and plain heads,
 * several head widths, tile-unaligned token counts, with and without earlier positions in the cache.
 * Tolerance 2e-5 relative to the largest |V| entry: fp32 sums over a few hundred keys plus the vectorized
 * exp (≈ 1 ulp); a wrong mask, head mapping or normalisation moves outputs by O(1e-1).
 * With a bf16 cache (K and V rounded to bf16): the same tolerance against the reference computed on the rounded
 * values, and bit-for-bit the output of the fp32 path given those rounded values (the kernel widens exactly and
 * then does the same fp32 arithmetic in the same order). */
#include "harness.h"
#include "base/cpu.h"
#include "base/half.h"
#include "model/kernels/attention.h"
#include "model/kernels/pool.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static float frand(unsigned *s) {
    *s = *s * 1664525u + 1013904223u;
    return (float)((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

/* Runs one case with a cache of type dt; *worst = max error against the double reference. With bf16, K and V are
 * drawn, rounded to bf16, and the reference (and an fp32 run, whose output must equal the bf16 run's exactly:
 * *mismatch counts the differing outputs) sees the rounded values. */
static int check(int T, int pos, int H, int Hkv, int hd, enum olmo_kv_dtype dt, double *worst, int *mismatch) {
    int n = pos + T, kvs = Hkv * hd;
    size_t nkv = (size_t)n * kvs, nq = (size_t)T * H * hd;
    float *q = malloc(sizeof(float) * nq), *K = malloc(sizeof(float) * nkv);
    float *V = malloc(sizeof(float) * nkv), *out = malloc(sizeof(float) * nq), *out32 = malloc(sizeof(float) * nq);
    uint16_t *K16 = malloc(2 * nkv), *V16 = malloc(2 * nkv);
    unsigned s = (unsigned)(T * 131 + pos * 7 + hd);
    for (int i = 0; i < T * H * hd; i++) q[i] = frand(&s) * 3.0f;   /* scores up to ~±30: a peaked softmax */
    for (int i = 0; i < n * kvs; i++) { K[i] = frand(&s); V[i] = frand(&s); }
    float scale = 1.0f / sqrtf((float)hd);
    *mismatch = 0;
    int rc;
    if (dt == OLMO_KV_BF16) {
        for (size_t i = 0; i < nkv; i++) {
            K16[i] = olmo_f32_to_bf16(K[i]);
            V16[i] = olmo_f32_to_bf16(V[i]);
            K[i] = olmo_bf16_to_f32(K16[i]);   /* what the bf16 cache holds, for the reference and the fp32 run */
            V[i] = olmo_bf16_to_f32(V16[i]);
        }
        rc = attn_prefill(out, q, K16, V16, OLMO_KV_BF16, T, pos, H, Hkv, hd, kvs, hd, scale);
        if (rc == 0 && attn_prefill(out32, q, K, V, OLMO_KV_F32, T, pos, H, Hkv, hd, kvs, hd, scale) == 0)
            for (size_t i = 0; i < nq; i++) *mismatch += memcmp(&out[i], &out32[i], sizeof(float)) != 0;
    } else rc = attn_prefill(out, q, K, V, OLMO_KV_F32, T, pos, H, Hkv, hd, kvs, hd, scale);
    *worst = 0;
    double *p = malloc(sizeof(double) * (size_t)n);
    for (int t = 0; t < T && rc == 0; t++)
        for (int h = 0; h < H; h++) {
            int g = h / (H / Hkv), nk = pos + t + 1;
            double mx = -1e300, sum = 0;
            for (int j = 0; j < nk; j++) {
                double d = 0;
                for (int i = 0; i < hd; i++) d += (double)q[((size_t)t * H + h) * hd + i] * K[(size_t)j * kvs + g * hd + i];
                p[j] = d * scale;
                if (p[j] > mx) mx = p[j];
            }
            for (int j = 0; j < nk; j++) { p[j] = exp(p[j] - mx); sum += p[j]; }
            for (int i = 0; i < hd; i++) {
                double o = 0;
                for (int j = 0; j < nk; j++) o += p[j] * V[(size_t)j * kvs + g * hd + i];
                double e = fabs(o / sum - out[((size_t)t * H + h) * hd + i]);
                if (e > *worst) *worst = e;
            }
        }
    free(p);
    free(q);
    free(K);
    free(V);
    free(K16);
    free(V16);
    free(out);
    free(out32);
    return rc;
}

/* The model's cache is head-major ([Hkv][max_seq][hd]: kv_stride = hd, head_stride = max_seq·hd); the kernel must
 * give exactly the interleaved layout's result for the same values, with room left after position n. */
TEST(attention_prefill_head_major_layout_equals_interleaved) {
    enum { T = 19, POS = 6, H = 4, HKV = 2, HD = 32, N = T + POS, MAXSEQ = N + 5 };
    static float q[T * H * HD], K[N * HKV * HD], V[N * HKV * HD], Kh[HKV * MAXSEQ * HD], Vh[HKV * MAXSEQ * HD];
    static float a[T * H * HD], b[T * H * HD];
    unsigned s = 99;
    for (int i = 0; i < T * H * HD; i++) q[i] = frand(&s) * 3.0f;
    for (int i = 0; i < N * HKV * HD; i++) { K[i] = frand(&s); V[i] = frand(&s); }
    for (int i = 0; i < HKV * MAXSEQ * HD; i++) Kh[i] = Vh[i] = 1e30f;   /* unused rows: must never be read */
    for (int j = 0; j < N; j++)
        for (int g = 0; g < HKV; g++)
            for (int i = 0; i < HD; i++) {
                Kh[((size_t)g * MAXSEQ + j) * HD + i] = K[((size_t)j * HKV + g) * HD + i];
                Vh[((size_t)g * MAXSEQ + j) * HD + i] = V[((size_t)j * HKV + g) * HD + i];
            }
    int ra = attn_prefill(a, q, K, V, OLMO_KV_F32, T, POS, H, HKV, HD, HKV * HD, HD, 0.2f);
    int rb = attn_prefill(b, q, Kh, Vh, OLMO_KV_F32, T, POS, H, HKV, HD, HD, (int64_t)MAXSEQ * HD, 0.2f);
    if (ra && !olmo_cpu_has(OLMO_CPU_SET_AVX512)) SKIP("no AVX-512 on this CPU (or OLMO_CPU caps it): attn_prefill declines");
    CHECK(ra == 0 && rb == 0);
    CHECK(memcmp(a, b, sizeof a) == 0);
}

TEST(attention_prefill_matches_double_reference) {
    static const int cases[][5] = {   /* T, pos, H, Hkv, hd */
        {8, 0, 2, 2, 16}, {13, 0, 4, 2, 32}, {37, 5, 4, 1, 128}, {64, 0, 3, 3, 64}, {9, 200, 2, 1, 128},
        {100, 0, 2, 2, 256},
    };
    for (int dt = OLMO_KV_F32; dt <= OLMO_KV_BF16; dt++)
        for (int th = 1; th <= 3; th += 2) {
            olmo_pool_set_threads(th);
            for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
                double w;
                int mismatch;
                int rc = check(cases[c][0], cases[c][1], cases[c][2], cases[c][3], cases[c][4], (enum olmo_kv_dtype)dt,
                               &w, &mismatch);
                if (olmo_cpu_has(OLMO_CPU_SET_AVX512)) CHECK_MSG(rc == 0, "case %zu: not handled", c);
                else if (rc) SKIP("no AVX-512 on this CPU (or OLMO_CPU caps it): attn_prefill declines (the caller's loop is used)");
                CHECK_MSG(w <= 2e-5, "%s cache, threads %d, case %zu (T %d pos %d H %d Hkv %d hd %d): error %.3g",
                          dt ? "bf16" : "f32", th, c, cases[c][0], cases[c][1], cases[c][2], cases[c][3], cases[c][4], w);
                CHECK_MSG(mismatch == 0, "bf16 cache, threads %d, case %zu: %d outputs differ from the fp32 run on the "
                          "same rounded values", th, c, mismatch);
            }
        }
    olmo_pool_set_threads(0);
}

TEST(attention_prefill_declines_what_it_does_not_handle) {
    float buf[4096] = {0};
    CHECK(attn_prefill(buf, buf, buf, buf, OLMO_KV_F32, 7, 0, 2, 2, 16, 32, 16, 0.25f) == -1);     /* T < 8: caller's loop */
    CHECK(attn_prefill(buf, buf, buf, buf, OLMO_KV_F32, 8, 0, 2, 2, 8, 16, 8, 0.35f) == -1);      /* hd not a multiple of 16 */
    CHECK(attn_prefill(buf, buf, buf, buf, OLMO_KV_F32, 8, 0, 3, 2, 16, 32, 16, 0.25f) == -1);     /* H not a multiple of Hkv */
    CHECK(attn_prefill(buf, buf, buf, buf, (enum olmo_kv_dtype)7, 8, 0, 2, 2, 16, 32, 16, 0.25f) == -1);   /* unknown type */
}
