/* test_linear.c — every dtype and path of linear_forward (GEMV T = 1, GEMM T > 1; odd sizes, row counts that
 * are not a multiple of any chunk or tile, several thread counts) against fp32 products through mm_f32 on the
 * exactly dequantized weights, and the reference path itself against the same.
 *
 * Tolerances, per output y = Σ x_i w_i with scale S = Σ |x_i w_i|:
 *   F32, F16, BF16 (weights exact in fp32, products exact): |y - ref| <= 2e-6·S + 1e-6 (summation order only).
 *   BF16 with vdpbf16ps (the GEMM for T > 1, and the optional GEMV variant: x rounded to bf16, relative error
 *       <= 2^-9 per element, products and sums fp32): <= 2^-8·S.
 *   Q8: x is quantized per 32-block with step s_b = amax_b/127, so each x_i moves by at most s_b/2; the
 *       error is then at most B = Σ_b (s_b/2)·Σ_{i in b} |w_i|, checked as |y - ref| <= B·1.001 + 2e-6·S.
 *   Q8 weights themselves: |w - q·scale| <= scale/2 per element. */
#include "harness.h"
#include "base/cpu.h"
#include "base/error.h"
#include "model/kernels/linear.h"
#include "model/kernels/linear_internal.h"
#include "model/kernels/matmul.h"
#include "model/kernels/pool.h"

#include <stdlib.h>
#include <string.h>

static float frand(unsigned *s) {
    *s = *s * 1664525u + 1013904223u;
    return (float)((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

/* W of dtype dt [rows][cols], made from random fp32 values; *buf owns the data. */
static struct olmo_linear make_weight(enum olmo_dtype dt, int64_t rows, int64_t cols, unsigned seed, void **buf) {
    unsigned s = seed;
    size_t n = (size_t)(rows * cols);
    float *f = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) f[i] = frand(&s) * 0.1f;
    struct olmo_linear W = {.dtype = dt, .rows = rows, .cols = cols};
    if (dt == OLMO_DTYPE_F32) { *buf = f; W.data = f; return W; }
    uint16_t *h = malloc(n * 2);
    for (size_t i = 0; i < n; i++) h[i] = dt == OLMO_DTYPE_BF16 ? olmo_f32_to_bf16(f[i]) : olmo_f32_to_f16(f[i]);
    free(f);
    *buf = h;
    W.data = h;
    W.dtype = dt == OLMO_DTYPE_Q8 ? OLMO_DTYPE_BF16 : dt;
    if (dt == OLMO_DTYPE_Q8) {
        struct olmo_linear q;
        if (linear_quantize_q8(&q, &W)) { W.data = NULL; return W; }
        free(h);
        *buf = NULL;
        return q;
    }
    return W;
}

static float *dequant(const struct olmo_linear *W) {
    float *f = malloc((size_t)(W->rows * W->cols) * sizeof(float));
    for (int64_t r = 0; r < W->rows; r++) linear_row_f32(f + r * W->cols, W, r);
    return f;
}

/* Runs linear_forward (or the reference) and compares with mm_f32 on the dequantized weights. */
static int check_case(enum olmo_dtype dt, int64_t rows, int64_t cols, int T, int use_ref, int dp, const char **why) {
    void *buf = NULL;
    struct olmo_linear W = make_weight(dt, rows, cols, (unsigned)(rows * 31 + cols * 7 + T), &buf);
    if (!W.data) { *why = "weight construction failed"; return 0; }
    float *wf = dequant(&W), *x = malloc((size_t)(T * cols) * sizeof(float));
    float *y = malloc((size_t)(T * rows) * sizeof(float)), *ref = malloc((size_t)(T * rows) * sizeof(float));
    unsigned s = 12345u + (unsigned)T;
    for (int64_t i = 0; i < T * cols; i++) x[i] = frand(&s) * (i % 97 == 0 ? 8.0f : 1.0f);   /* a few outliers */
    mm_f32(ref, x, wf, T, (int)rows, (int)cols, 0, 1, 1.0f, 0.0f);
    linear_gemv_set_dpbf16(dp);
    if (use_ref) linear_forward_ref(y, x, &W, T);
    else linear_forward(y, x, &W, T);
    linear_gemv_set_dpbf16(0);
    int ok = 1;
    for (int t = 0; t < T && ok; t++)
        for (int64_t r = 0; r < rows && ok; r++) {
            const float *xt = x + t * cols, *wr = wf + r * cols;
            double S = 0, B = 0;
            for (int64_t i = 0; i < cols; i++) S += fabs((double)xt[i] * wr[i]);
            if (dt == OLMO_DTYPE_Q8 && !use_ref)
                for (int64_t b = 0; b < cols; b += OLMO_Q8_BLOCK) {
                    double amax = 0, wsum = 0;
                    for (int i = 0; i < OLMO_Q8_BLOCK; i++) {
                        amax = fmax(amax, fabs(xt[b + i]));
                        wsum += fabs(wr[b + i]);
                    }
                    B += amax / 127.0 / 2.0 * wsum;
                }
            double tol = dt == OLMO_DTYPE_Q8 && !use_ref ? B * 1.001 + 2e-6 * S
                         : (dp || T > 1) && dt == OLMO_DTYPE_BF16 && !use_ref ? S / 256.0
                                                         : 2e-6 * S + 1e-6;
            double err = fabs((double)y[t * rows + r] - ref[t * rows + r]);
            if (!(err <= tol)) {
                static char msg[256];
                snprintf(msg, sizeof msg, "dtype %d %lldx%lld T=%d ref=%d dp=%d: y[%d][%lld] = %g, expected %g (err %g > tol %g)",
                         (int)dt, (long long)rows, (long long)cols, T, use_ref, dp, t, (long long)r, y[t * rows + r],
                         ref[t * rows + r], err, tol);
                *why = msg;
                ok = 0;
            }
        }
    linear_free(&W);
    free(buf);
    free(wf);
    free(x);
    free(y);
    free(ref);
    return ok;
}

static const enum olmo_dtype all_dtypes[] = {OLMO_DTYPE_F32, OLMO_DTYPE_BF16, OLMO_DTYPE_F16, OLMO_DTYPE_Q8};

/* Shapes: tiny, odd (K tails of every width; Q8 needs K % 32 == 0, and 96 leaves half a 64-byte chunk),
 * rows that are not a multiple of 4 / 16 / 32, and one big enough for several chunks per thread. */
static void run_shapes(int T, int threads) {
    static const int64_t shapes[][2] = {{1, 32}, {5, 96}, {37, 100}, {17, 7}, {33, 224}, {130, 33}, {600, 512}};
    olmo_pool_set_threads(threads);
    for (size_t d = 0; d < sizeof all_dtypes / sizeof *all_dtypes; d++)
        for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
            int64_t rows = shapes[i][0], cols = shapes[i][1];
            if (all_dtypes[d] == OLMO_DTYPE_Q8 && cols % OLMO_Q8_BLOCK) continue;
            const char *why = "";
            CHECK_MSG(check_case(all_dtypes[d], rows, cols, T, 0, 0, &why), "threads %d: %s", threads, why);
            if (all_dtypes[d] == OLMO_DTYPE_BF16 && T == 1)
                CHECK_MSG(check_case(all_dtypes[d], rows, cols, T, 0, 1, &why), "threads %d: %s", threads, why);
        }
    olmo_pool_set_threads(0);
}

TEST(linear_gemv_all_dtypes_1_thread) { run_shapes(1, 1); }
TEST(linear_gemv_all_dtypes_2_threads) { run_shapes(1, 2); }
TEST(linear_gemv_all_dtypes_3_threads) { run_shapes(1, 3); }
TEST(linear_gemm_T2_all_dtypes) { run_shapes(2, 2); }
TEST(linear_gemm_T13_all_dtypes) { run_shapes(13, 2); }
TEST(linear_gemm_T37_all_dtypes_3_threads) { run_shapes(37, 3); }

/* Every kernel path this CPU has (OLMO_CPU levels, base/cpu.h) within the tolerances above, and each level
 * really takes its path: the fast kernels decline below their level and run at or above it. */
TEST(linear_every_cpu_level) {
    enum olmo_cpu_level prev = olmo_cpu_set_cap(OLMO_CPU_LEVEL_COUNT), top = olmo_cpu_level();
    float y[2 * 64], x[2 * 64];
    for (int i = 0; i < 2 * 64; i++) x[i] = (float)(i % 7) - 3.0f;
    for (int l = 0; l <= (int)top; l++) {
        olmo_cpu_set_cap((enum olmo_cpu_level)l);
        void *buf = NULL;
        struct olmo_linear W = make_weight(OLMO_DTYPE_BF16, 64, 64, 7u, &buf);
        int want = l >= OLMO_CPU_LEVEL_AVX512BF16 ? 0 : -1;
        CHECK_MSG(linear_gemv_fast(y, x, &W) == want, "level %s: GEMV fast path %s", olmo_cpu_level_name(l), want ? "ran" : "declined");
        CHECK_MSG(linear_gemm_fast(y, x, &W, 2) == want, "level %s: GEMM fast path %s", olmo_cpu_level_name(l), want ? "ran" : "declined");
        free(buf);
        run_shapes(1, 2);
        run_shapes(13, 2);
        if (th_failed()) { th_fail(__FILE__, __LINE__, "at level %s", olmo_cpu_level_name(l)); break; }
    }
    olmo_cpu_set_cap(prev);
}

/* The oneDNN prompt path (linear_onednn.c; automatic on AMX CPUs) forced on this CPU: same tolerance as the
 * vdpbf16ps GEMM (x rounded to bf16, products exact, fp32 sums). */
TEST(linear_onednn_prompt_path_bf16) {
    linear_onednn_set(1);
    run_shapes(2, 2);
    run_shapes(37, 3);
    linear_onednn_set(2);
    CHECK_MSG(strcmp(linear_onednn_impl(), "(not used yet)") != 0, "the oneDNN path never ran (fell back)");
}

/* The Q8 quantizer's AVX-512 and portable blocks give the same bytes. */
TEST(linear_q8_quantizer_same_bytes_at_every_level) {
    enum olmo_cpu_level prev = olmo_cpu_set_cap(OLMO_CPU_LEVEL_COUNT), top = olmo_cpu_level();
    void *buf = NULL;
    struct olmo_linear W = make_weight(OLMO_DTYPE_F32, 37, 256, 99u, &buf), first = {0};
    for (int l = 0; l <= (int)top; l++) {
        olmo_cpu_set_cap((enum olmo_cpu_level)l);
        struct olmo_linear Q;
        CHECK_GOTO(linear_quantize_q8(&Q, &W) == 0, out);
        if (l == 0) first = Q;
        else {
            int same = !memcmp(Q.data, first.data, linear_q8_bytes(37, 256));
            linear_free(&Q);
            CHECK_GOTO(same, out);
        }
    }
out:
    olmo_cpu_set_cap(prev);
    linear_free(&first);
    free(buf);
}

TEST(linear_reference_path_matches_mm_f32) {
    for (size_t d = 0; d < sizeof all_dtypes / sizeof *all_dtypes; d++) {
        const char *why = "";
        CHECK_MSG(check_case(all_dtypes[d], 37, 96, 3, 1, 0, &why), "%s", why);
    }
}

TEST(linear_q8_weight_error_within_half_step) {
    void *buf;
    struct olmo_linear W = make_weight(OLMO_DTYPE_F32, 9, 96, 7, &buf), Q;
    CHECK(linear_quantize_q8(&Q, &W) == 0);
    const float *f = W.data;
    int ok = 1;
    float row[96];
    for (int r = 0; r < 9; r++) {
        linear_row_f32(row, &Q, r);
        for (int i = 0; i < 96; i++) {
            float s = olmo_f16_to_f32(Q.scales[(r / 16) * 16 * 3 + (i / 32) * 16 + r % 16]);   /* panel order (linear.h) */
            if (fabsf(row[i] - f[r * 96 + i]) > s * 0.5f * 1.0001f) ok = 0;
        }
    }
    linear_free(&Q);
    free(buf);
    CHECK(ok);
}

TEST(linear_q8_rejects_bad_row_length) {
    void *buf;
    struct olmo_linear W = make_weight(OLMO_DTYPE_F32, 2, 33, 1, &buf), Q;
    int rc = linear_quantize_q8(&Q, &W);
    free(buf);
    CHECK(rc == -1);
}

TEST(linear_q8_refuses_weights_beyond_fp16_scales) {
    /* block scales are fp16: |w| above 127 * 65504 cannot be represented; say so instead of storing inf */
    void *buf;
    struct olmo_linear W = make_weight(OLMO_DTYPE_F32, 3, 64, 5, &buf), Q;
    ((float *)buf)[70] = 1e7f;
    int rc = linear_quantize_q8(&Q, &W);
    CHECK(rc == -1);
    CHECK(strstr(olmo_errmsg(), "fp16") != NULL);
    ((float *)buf)[70] = 8e6f;   /* just inside: scale 62992 rounds to a finite fp16 */
    CHECK(linear_quantize_q8(&Q, &W) == 0);
    float row[64];
    linear_row_f32(row, &Q, 1);
    CHECK(fabsf(row[6] - 8e6f) <= 0.5f * 8e6f / 127 * 1.01f);
    linear_free(&Q);
    free(buf);
}

TEST(linear_large_values_and_zero_blocks_q8) {
    /* a block of zeros (scale 0) and large magnitudes must not produce NaN */
    enum { R = 8, K = 128 };
    float *w = calloc(R * K, sizeof(float)), x[K], y[R], ref[R];
    for (int i = 0; i < R * K; i++) w[i] = (i / 32) % 2 ? (float)(i % 13) * 100.0f : 0.0f;
    for (int i = 0; i < K; i++) x[i] = i < 32 ? 0.0f : (float)((i * 37) % 255 - 127);
    for (int b = 1; b < K / 32; b++) x[b * 32 + 1] = 127.0f;   /* amax 127 in every block: integers stay exact */
    struct olmo_linear W = {.dtype = OLMO_DTYPE_F32, .rows = R, .cols = K, .data = w}, Q;
    CHECK(linear_quantize_q8(&Q, &W) == 0);
    float *wq = dequant(&Q);
    mm_f32(ref, x, wq, 1, R, K, 0, 1, 1.0f, 0.0f);
    linear_forward(y, x, &Q, 1);
    int ok = 1;
    for (int r = 0; r < R; r++) ok &= fabsf(y[r] - ref[r]) <= 1e-3f * (1 + fabsf(ref[r]));   /* x exact in int8 here */
    linear_free(&Q);
    free(wq);
    free(w);
    CHECK(ok);
}

TEST(linear_rehome_keeps_values_and_owns_copy) {
    void *buf;
    struct olmo_linear W = make_weight(OLMO_DTYPE_BF16, 33, 100, 5, &buf);
    float x[100], y0[33], y1[33];
    for (int i = 0; i < 100; i++) x[i] = (float)(i % 9) - 4.0f;
    linear_forward(y0, x, &W, 1);
    CHECK(linear_rehome(&W, 0) == 0);   /* drop_source 0: buf is anonymous memory */
    int moved = W.data != buf && W.owned == W.data;
    linear_forward(y1, x, &W, 1);
    linear_free(&W);
    free(buf);
    CHECK(moved);
    CHECK(memcmp(y0, y1, sizeof y0) == 0);
}
