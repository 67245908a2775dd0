/* test_quant.c — the Q4 format (linear.h, linear_q4_quant.c, linear_q4.c).
 *
 *   - the layout: every element read back by linear_row_f32 equals q·scale with q in [-8, 7] and the stored
 *     fp16 scale, and is within half a step (plus the clamp at the ends) of the original;
 *   - the scale search: RMS error below 0.97 of llama.cpp Q4_0's rule (d = m/-8, round to nearest) on Gaussian-like rows;
 *   - the kernel, T = 1 (decode) and T > 1 (prefill tiles and the partial tail), several thread counts, row
 *     counts that are not a multiple of 16: against fp32 products on the dequantized weights. x is quantized per
 *     32-block with step s_b = amax_b/127 (each x_i moves by at most s_b/2), so the bound is
 *     B = Σ_b (s_b/2)·Σ_{i in b} |w_i| (·1.001) + 2e-6·Σ|x_i w_i| for the fp32 sums;
 *   - the reference path on Q4 weights equals the same fp32 products (2e-6 relative);
 *   - bad input: row lengths that are not a multiple of 32, weights whose scale overflows fp16, NaN. */
#include "harness.h"
#include "base/error.h"
#include "base/file.h"
#include "model/kernels/linear.h"
#include "model/kernels/linear_internal.h"
#include "model/kernels/matmul.h"
#include "model/kernels/pool.h"

#include <stdlib.h>
#include <string.h>

static float grand(unsigned *s) {   /* roughly Gaussian: sum of 4 uniforms */
    float a = 0;
    for (int i = 0; i < 4; i++) {
        *s = *s * 1664525u + 1013904223u;
        a += (float)((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
    return a * 0.5f;
}

static float *rand_matrix(int64_t rows, int64_t cols, unsigned seed) {
    float *f = malloc((size_t)(rows * cols) * sizeof(float));
    for (int64_t i = 0; i < rows * cols; i++) f[i] = grand(&seed) * 0.02f * (i % 211 == 0 ? 6.0f : 1.0f);
    return f;
}

static float *dequant(const struct olmo_linear *W) {
    float *f = malloc((size_t)(W->rows * W->cols) * sizeof(float));
    for (int64_t r = 0; r < W->rows; r++) linear_row_f32(f + r * W->cols, W, r);
    return f;
}

TEST(q4_elements_are_integers_times_the_block_scale) {
    enum { R = 37, K = 96 };
    float *f = rand_matrix(R, K, 3);
    struct olmo_linear W = {.dtype = OLMO_DTYPE_F32, .rows = R, .cols = K, .data = f}, Q;
    CHECK(linear_quantize_q4(&Q, &W) == 0);
    float *d = dequant(&Q);
    int ok = 1;
    for (int r = 0; r < R && ok; r++)
        for (int b = 0; b < K / 32; b++) {
            float s = olmo_f16_to_f32(Q.scales[((r / 16) * (K / 32) + b) * 16 + r % 16]);
            for (int i = b * 32; i < b * 32 + 32; i++) {
                float q = s != 0 ? d[r * K + i] / s : 0;
                if (q != rintf(q) || q < -8 || q > 7) ok = 0;
                /* within half a step, or clamped at an end of [-8, 7] */
                if (fabsf(d[r * K + i] - f[r * K + i]) > 0.5001f * fabsf(s) && fabsf(q) < 7) ok = 0;
            }
        }
    CHECK(ok);
    CHECK(Q.dtype == OLMO_DTYPE_Q4);
    CHECK_EQ_INT(linear_q4_bytes(R, K), 48 * K / 2 + 48 * (K / 32) * 2);
    free(d);
    free(f);
    linear_free(&Q);
}

TEST(q4_error_below_q4_0_rule) {
    enum { R = 64, K = 1024 };
    float *f = rand_matrix(R, K, 11);
    struct olmo_linear W = {.dtype = OLMO_DTYPE_F32, .rows = R, .cols = K, .data = f}, Q;
    CHECK(linear_quantize_q4(&Q, &W) == 0);
    float *d = dequant(&Q);
    double e_ours = 0, e_q40 = 0;
    for (int64_t b = 0; b < R * K; b += 32) {
        float m = 0;
        for (int i = 0; i < 32; i++) if (fabsf(f[b + i]) > fabsf(m)) m = f[b + i];
        float sc = olmo_f16_to_f32(olmo_f32_to_f16(m / -8.0f)), inv = sc != 0 ? 1.0f / sc : 0;
        for (int i = 0; i < 32; i++) {
            float q = rintf(f[b + i] * inv);
            q = q > 7 ? 7 : q < -8 ? -8 : q;
            e_q40 += (double)(f[b + i] - q * sc) * (f[b + i] - q * sc);
            e_ours += (double)(f[b + i] - d[b + i]) * (f[b + i] - d[b + i]);
        }
    }
    printf("  q4 RMS error / Q4_0 rule's: %.3f\n", sqrt(e_ours / e_q40));
    CHECK(sqrt(e_ours / e_q40) < 0.97);
    free(d);
    free(f);
    linear_free(&Q);
}

/* linear_forward (use_ref = 0) or linear_forward_ref on Q4 weights against mm_f32 on the dequantized ones. */
static int check_case(int64_t rows, int64_t cols, int T, int use_ref, char *why, size_t wn) {
    float *f = rand_matrix(rows, cols, (unsigned)(rows * 7 + cols + T));
    struct olmo_linear W = {.dtype = OLMO_DTYPE_F32, .rows = rows, .cols = cols, .data = f}, Q;
    if (linear_quantize_q4(&Q, &W) != 0) { snprintf(why, wn, "quantize: %s", olmo_errmsg()); free(f); return 0; }
    float *wf = dequant(&Q), *x = malloc((size_t)(T * cols) * sizeof(float));
    float *y = malloc((size_t)(T * rows) * sizeof(float)), *ref = malloc((size_t)(T * rows) * sizeof(float));
    unsigned s = 99u + (unsigned)T;
    for (int64_t i = 0; i < T * cols; i++) x[i] = grand(&s) * (i % 97 == 0 ? 8.0f : 1.0f);
    mm_f32(ref, x, wf, T, (int)rows, (int)cols, 0, 1, 1.0f, 0.0f);
    if (use_ref) linear_forward_ref(y, x, &Q, T);
    else linear_forward(y, x, &Q, T);
    int ok = 1;
    for (int t = 0; t < T && ok; t++)
        for (int64_t r = 0; r < rows && ok; r++) {
            const float *xt = x + t * cols, *wr = wf + r * cols;
            double S = 0, B = 0;
            for (int64_t i = 0; i < cols; i++) S += fabs((double)xt[i] * wr[i]);
            for (int64_t b = 0; b < cols && !use_ref; b += 32) {
                double amax = 0, wsum = 0;
                for (int i = 0; i < 32; i++) { amax = fmax(amax, fabs(xt[b + i])); wsum += fabs(wr[b + i]); }
                B += amax / 127.0 / 2.0 * wsum;
            }
            double err = fabs((double)y[t * rows + r] - ref[t * rows + r]), tol = B * 1.001 + 2e-6 * S + 1e-9;
            if (!(err <= tol)) {
                snprintf(why, wn, "%lldx%lld T=%d ref=%d: y[%d][%lld] = %g, expected %g (err %g > tol %g)", (long long)rows,
                         (long long)cols, T, use_ref, t, (long long)r, y[t * rows + r], ref[t * rows + r], err, tol);
                ok = 0;
            }
        }
    linear_free(&Q);
    free(f); free(wf); free(x); free(y); free(ref);
    return ok;
}

static void run_shapes(int T, int threads) {
    static const int64_t shapes[][2] = {{1, 32}, {5, 96}, {33, 224}, {130, 64}, {600, 512}};
    olmo_pool_set_threads(threads);
    char why[256] = "";
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        CHECK_MSG(check_case(shapes[i][0], shapes[i][1], T, 0, why, sizeof why), "threads %d: %s", threads, why);
    olmo_pool_set_threads(0);
}

TEST(q4_decode_1_thread) { run_shapes(1, 1); }
TEST(q4_decode_3_threads) { run_shapes(1, 3); }
TEST(q4_prefill_T6) { run_shapes(6, 2); }
TEST(q4_prefill_T13_3_threads) { run_shapes(13, 3); }
TEST(q4_prefill_T37) { run_shapes(37, 2); }

TEST(q4_reference_path_matches_dequantized_products) {
    char why[256] = "";
    CHECK_MSG(check_case(37, 96, 3, 1, why, sizeof why), "%s", why);
}

TEST(q4_zero_blocks_and_rejects_bad_input) {
    enum { R = 3, K = 64 };
    float w[R * K] = {0};
    for (int i = 32; i < 64; i++) w[i] = (float)(i - 40);   /* row 0: block 0 zeros, block 1 integers -8..23 */
    struct olmo_linear W = {.dtype = OLMO_DTYPE_F32, .rows = R, .cols = K, .data = w}, Q;
    CHECK(linear_quantize_q4(&Q, &W) == 0);
    float row[K], x[K], y[R];
    linear_row_f32(row, &Q, 0);
    for (int i = 0; i < 32; i++) CHECK(row[i] == 0.0f);
    for (int i = 0; i < K; i++) x[i] = 1.0f;
    linear_forward(y, x, &Q, 1);
    for (int r = 0; r < R; r++) CHECK(isfinite(y[r]));
    CHECK(y[1] == 0.0f && y[2] == 0.0f);
    linear_free(&Q);
    struct olmo_linear odd = {.dtype = OLMO_DTYPE_F32, .rows = 1, .cols = 48, .data = w};
    CHECK(linear_quantize_q4(&Q, &odd) == -1);
    CHECK(strstr(olmo_errmsg(), "multiple of 32") != NULL);
    w[5] = 1e9f;   /* scale ~1.2e8: beyond fp16 */
    CHECK(linear_quantize_q4(&Q, &W) == -1);
    CHECK(strstr(olmo_errmsg(), "fp16") != NULL);
    w[5] = NAN;
    CHECK(linear_quantize_q4(&Q, &W) == -1);
}

/* A whole model with Q4 weights against the same model whose matrices hold the dequantized Q4 values as fp32
 * (the exact product path): what remains is the activations' int8 rounding, as for q8 (~1e-2 of the logit
 * scale). A wrong nibble order or scale index would show as O(1). Prompt in one call (prefill kernel) and one
 * token at a time (decode kernel). */
#include "model/model.h"
static int to_f32(struct olmo_linear *W) {
    float *f = malloc((size_t)(W->rows * W->cols) * sizeof(float));
    if (!f) return -1;
    for (int64_t r = 0; r < W->rows; r++) linear_row_f32(f + r * W->cols, W, r);
    linear_free(W);
    *W = (struct olmo_linear){.dtype = OLMO_DTYPE_F32, .rows = W->rows, .cols = W->cols, .data = f, .owned = f};
    return 0;
}

TEST(q4_model_matches_dequantized_model) {
    const char *dir = "tests/fixtures/model/olmo2_f32_gqa";
    struct model_load_opts o = {.quant = OLMO_QUANT_Q4};
    struct olmo_model mq, md;
    CHECK(model_load(&mq, dir, &o) == 0);
    CHECK(model_load(&md, dir, &o) == 0);
    for (int l = 0; l < md.cfg.n_layers; l++) {
        struct olmo_layer *ly = &md.layers[l];
        struct olmo_linear *all[] = {&ly->wq, &ly->wk, &ly->wv, &ly->wo, &ly->w_gate, &ly->w_up, &ly->w_down};
        for (int i = 0; i < 7; i++) CHECK(to_f32(all[i]) == 0);
    }
    CHECK(to_f32(&md.lm_head) == 0);
    enum { T = 9 };
    int32_t tok[T] = {1, 5, 9, 2, 7, 3, 11, 4, 6};
    int V = md.cfg.vocab_size;
    float *a = malloc(sizeof(float) * T * V), *b = malloc(sizeof(float) * T * V), *c = malloc(sizeof(float) * V);
    struct olmo_state sq, sd, s1;
    CHECK(model_state_init(&sq, &mq, 16) == 0 && model_state_init(&sd, &md, 16) == 0 && model_state_init(&s1, &mq, 16) == 0);
    CHECK(model_forward_all(&mq, &sq, tok, T, 0, a) == 0);
    CHECK(model_forward_all(&md, &sd, tok, T, 0, b) == 0);
    double worst = 0, worst1 = 0, scale = 0;
    for (int i = 0; i < T * V; i++) scale = fmax(scale, fabs(b[i]));
    for (int i = 0; i < T * V; i++) worst = fmax(worst, fabs(a[i] - b[i]) / scale);
    for (int t = 0; t < T; t++) {
        CHECK(model_forward(&mq, &s1, tok + t, 1, t, c) == 0);
        for (int v = 0; v < V; v++) worst1 = fmax(worst1, fabs(c[v] - b[t * V + v]) / scale);
    }
    printf("  q4 model vs its dequantized fp32 twin: worst relative logit error %.2e (prefill), %.2e (decode)\n", worst, worst1);
    CHECK(worst < 5e-2 && worst1 < 5e-2);
    /* with a q4 kernel (AVX512-VNNI or AVX2) the activations are rounded to int8 (a nonzero difference); on the
     * reference path (OLMO_CPU=scalar) the result is exactly what the fp32 twin computes */
    CHECK(olmo_cpu_has(OLMO_CPU_SET_AVX2) ? worst > 0 : worst == 0);
    model_state_free(&sq); model_state_free(&sd); model_state_free(&s1);
    model_free(&mq); model_free(&md);
    free(a); free(b); free(c);
}

/* olmo quantize's file (model/quant_file.h): written, loaded without quantizing again (the projections point
 * into the map, except a Q8 matrix the file placed unaligned), and the same logits bit for bit as quantizing at
 * load; an untied OLMo-2 and a tied llama (lm_head stored as its own quantized copy). */
#include "model/quant_file.h"
static void roundtrip(const char *fixture, enum olmo_quant q) {
    char dir[256], path[512];
    snprintf(dir, sizeof dir, "tests/fixtures/model/%s", fixture);
    const char *tmp = th_tmpdir();
    snprintf(path, sizeof path, "%s/model.safetensors", tmp);
    char cfg_from[300], cfg_to[600];
    snprintf(cfg_from, sizeof cfg_from, "%s/config.json", dir);
    snprintf(cfg_to, sizeof cfg_to, "%s/config.json", tmp);
    size_t n;
    char *cfg = olmo_read_file(cfg_from, &n);
    CHECK(cfg && olmo_write_file_atomic(cfg_to, cfg, n) == 0);
    free(cfg);
    struct model_load_opts o = {.quant = q};
    struct olmo_model a, b;
    CHECK(model_load(&a, dir, &o) == 0);
    CHECK_MSG(quant_file_write(&a, q, path) == 0, "%s", olmo_errmsg());
    CHECK_MSG(model_load(&b, tmp, NULL) == 0, "%s", olmo_errmsg());
    enum olmo_dtype want = q == OLMO_QUANT_Q8 ? OLMO_DTYPE_Q8 : OLMO_DTYPE_Q4;
    CHECK(b.layers[0].wq.dtype == want && b.lm_head.dtype == want && b.layers[1].w_down.dtype == want);
    if (q == OLMO_QUANT_Q4) CHECK(b.layers[0].w_up.owned == NULL);   /* mapped, not copied */
    CHECK_EQ_INT(a.weight_bytes, b.weight_bytes);
    int V = a.cfg.vocab_size;
    int32_t tok[5] = {3, 1, 4, 1, 5};
    float *la = malloc(sizeof(float) * 5 * V), *lb = malloc(sizeof(float) * 5 * V);
    struct olmo_state sa, sb;
    CHECK(model_state_init(&sa, &a, 8) == 0 && model_state_init(&sb, &b, 8) == 0);
    CHECK(model_forward_all(&a, &sa, tok, 5, 0, la) == 0 && model_forward_all(&b, &sb, tok, 5, 0, lb) == 0);
    CHECK_MSG(memcmp(la, lb, sizeof(float) * 5 * V) == 0, "%s %s: logits differ from quantizing at load", fixture,
              olmo_quant_name(q));
    model_state_free(&sa); model_state_free(&sb);
    /* a quantized checkpoint cannot be re-written as the other format */
    enum olmo_quant other = q == OLMO_QUANT_Q8 ? OLMO_QUANT_Q4 : OLMO_QUANT_Q8;
    CHECK(quant_file_write(&b, other, path) == -1);
    CHECK_MSG(strstr(olmo_errmsg(), "unquantized checkpoint") != NULL, "%s", olmo_errmsg());
    model_free(&a); model_free(&b);
    free(la); free(lb);
}
TEST(quant_file_roundtrip_olmo2_q4) { roundtrip("olmo2_f32_gqa", OLMO_QUANT_Q4); }
TEST(quant_file_roundtrip_olmo2_q8) { roundtrip("olmo2_f32_gqa", OLMO_QUANT_Q8); }
TEST(quant_file_roundtrip_llama_tied_q4) { roundtrip("llama_bf16_tied", OLMO_QUANT_Q4); }
TEST(quant_file_roundtrip_olmo1_tied_q8) { roundtrip("olmo1_f32_tied_clip", OLMO_QUANT_Q8); }
