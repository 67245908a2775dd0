/* test_model.c — the forward pass against the independent PyTorch reference (tests/ref/make_model_fixtures.py).
 *
 * Each fixture holds a tiny random checkpoint in HF layout and reference logits for a 5-token prefill (every
 * position) and 4 single-token decode steps through the KV cache. The check is relative to the logits' scale:
 * max |ours - ref| <= 1e-4 · max |ref| over each row.
 *
 * The reference computes in float64 with weights rounded to bf16 exactly as stored (BF16 fixtures), so it and
 * olmo.c evaluate the same function; tolerances for BF16 checkpoints are explained at BF16_TEST below.
 * Each fixture is checked on two paths: the prompt in one call (GEMM kernels) and every token alone (GEMV). */
#include "harness.h"
#include "base/error.h"
#include "base/file.h"
#include "formats/hf_config.h"
#include "formats/safetensors.h"
#include "model/model.h"

#include <stdlib.h>
#include <string.h>

#define FIX "tests/fixtures/model/"

static double row_rel_err(const float *got, const float *want, int n) {
    double mx = 0, err = 0;
    for (int i = 0; i < n; i++) {
        mx = fmax(mx, fabs(want[i]));
        err = fmax(err, fabs((double)got[i] - want[i]));
    }
    return err / (mx > 0 ? mx : 1);
}

/* Runs one fixture: *batched gets the worst error of the path generation takes (the whole prompt in one call,
 * then one token per call), *stepwise that of feeding every token one at a time (the T == 1 GEMV path only).
 * so chooses the KV cache (NULL: fp32). Returns 0, or -1 after th_fail on a structural failure. */
static int check_fixture_opts(const char *name, const struct model_load_opts *opts, const struct model_state_opts *so,
                              double *batched, double *stepwise) {
    char dir[256], refp[300];
    snprintf(dir, sizeof dir, FIX "%s", name);
    snprintf(refp, sizeof refp, "%s/ref.safetensors", dir);
    struct olmo_model m;
    if (model_load(&m, dir, opts) != 0) {
        th_fail(__FILE__, __LINE__, "load %s: %s", name, olmo_errmsg());
        return -1;
    }
    struct st_set ref;
    if (st_open(&ref, refp) != 0) {
        th_fail(__FILE__, __LINE__, "%s", olmo_errmsg());
        model_free(&m);
        return -1;
    }
    const struct st_tensor *tk = st_find(&ref, "tokens"), *pre = st_find(&ref, "prefill_logits"),
                           *dec = st_find(&ref, "decode_logits");
    int V = m.cfg.vocab_size, P = (int)pre->shape[0], S = (int)dec->shape[0], rc = 0;
    const int32_t *tokens = tk->data;
    const float *want_pre = pre->data, *want_dec = dec->data;
    float *logits = malloc(sizeof(float) * (size_t)V * (size_t)P);
    *batched = *stepwise = 0;
    struct olmo_state st;
    if (model_state_init_opts(&st, &m, P + S, so) != 0) goto fail;
    /* prefill: all positions in one call, then decode one token at a time through the cache */
    if (model_forward_all(&m, &st, tokens, P, 0, logits) != 0) goto fail;
    for (int t = 0; t < P; t++) *batched = fmax(*batched, row_rel_err(logits + (size_t)t * V, want_pre + (size_t)t * V, V));
    for (int i = 0; i < S; i++) {
        if (model_forward(&m, &st, tokens + P + i, 1, P + i, logits) != 0) goto fail;
        *batched = fmax(*batched, row_rel_err(logits, want_dec + (size_t)i * V, V));
    }
    /* model_forward (last position only) over the prompt agrees with the reference's last prefill row */
    if (model_forward(&m, &st, tokens, P, 0, logits) != 0) goto fail;
    *batched = fmax(*batched, row_rel_err(logits, want_pre + (size_t)(P - 1) * V, V));
    /* every token alone */
    for (int t = 0; t < P + S; t++) {
        if (model_forward(&m, &st, tokens + t, 1, t, logits) != 0) goto fail;
        *stepwise = fmax(*stepwise, row_rel_err(logits, t < P ? want_pre + (size_t)t * V : want_dec + (size_t)(t - P) * V, V));
    }
    goto out;
fail:
    th_fail(__FILE__, __LINE__, "%s: %s", name, olmo_errmsg());
    rc = -1;
out:
    model_state_free(&st);
    free(logits);
    st_close(&ref);
    model_free(&m);
    return rc;
}

static int check_fixture(const char *name, const struct model_load_opts *opts, double *batched, double *stepwise) {
    return check_fixture_opts(name, opts, NULL, batched, stepwise);
}

/* fp32 (and f16: widened exactly, fp32 activations in every kernel) checkpoints: 1e-4 relative on every path. */
#define F32_TEST(tname, fixture)                                                                   \
    TEST(tname) {                                                                                  \
        double b, s;                                                                               \
        if (check_fixture(fixture, NULL, &b, &s) != 0) return;                                     \
        printf("  %s: worst relative logit error %.2e (prompt in one call), %.2e (token by token)\n", fixture, b, s); \
        CHECK_MSG(b <= 1e-4 && s <= 1e-4, "%s: relative error %.3e / %.3e > 1e-4", fixture, b, s); \
    }

/* bf16 checkpoints: token by token 1e-4 as for fp32 (the reference sees exactly the stored bf16 values and the
 * GEMV widens them exactly to fp32). With the prompt in one call the GEMM kernels round the activations to bf16
 * once per matrix product (as bf16 inference in PyTorch does; kernels/linear.h): unit roundoff 2^-9 ≈ 2e-3 per
 * activation, summed over 2 layers × 4 product stages + lm_head; measured 3.5e-3 – 5.5e-3. The bound is 2e-2,
 * 4× the measurement, while any wrong piece of the forward pass moves logits by O(10%) or more. */
#define BF16_TEST(tname, fixture)                                                                  \
    TEST(tname) {                                                                                  \
        double b, s;                                                                               \
        if (check_fixture(fixture, NULL, &b, &s) != 0) return;                                     \
        printf("  %s: worst relative logit error %.2e (prompt in one call), %.2e (token by token)\n", fixture, b, s); \
        CHECK_MSG(b <= 2e-2 && s <= 1e-4, "%s: relative error %.3e (bound 2e-2) / %.3e (bound 1e-4)", fixture, b, s); \
    }

F32_TEST(model_olmo1_f32_tied_clip, "olmo1_f32_tied_clip")
BF16_TEST(model_olmo1_bf16_untied, "olmo1_bf16_untied")
F32_TEST(model_olmo2_f32_gqa, "olmo2_f32_gqa")
BF16_TEST(model_olmo2_bf16_gqa_sharded, "olmo2_bf16_gqa_sharded")
F32_TEST(model_llama_f32_gqa, "llama_f32_gqa")
BF16_TEST(model_llama_bf16_tied, "llama_bf16_tied")
BF16_TEST(model_olmo2_gen, "olmo2_gen")
F32_TEST(model_olmo2_f16, "olmo2_f16")
F32_TEST(model_olmo2_f32_hd16_long, "olmo2_f32_hd16_long")

/* Q8 weights: not exact, but close (the q8 error on these random weights is about 1% of the logit scale). */
TEST(model_q8_close_to_reference) {
    struct model_load_opts o = {.quant = OLMO_QUANT_Q8};
    const char *fx[] = {"olmo2_f32_gqa", "olmo1_f32_tied_clip", "llama_bf16_tied"};   /* tied: lm_head gets its own Q8 copy */
    for (int i = 0; i < 3; i++) {
        double b, s;
        if (check_fixture(fx[i], &o, &b, &s) != 0) return;
        double e = fmax(b, s);
        printf("  %s --quant q8: worst relative logit error %.2e\n", fx[i], e);
        CHECK_MSG(e > 1e-6 && e < 5e-2, "%s: q8 relative error %.3e", fx[i], e);
    }
}

/* Q4 weights (docs/quantization.md): 16x coarser steps than q8, so about 16x its error on these random weights;
 * the bound (3e-1 of the logit scale) still separates it from a wrong layout or kernel, which gives O(1). */
TEST(model_q4_close_to_reference) {
    struct model_load_opts o = {.quant = OLMO_QUANT_Q4};
    const char *fx[] = {"olmo2_f32_gqa", "olmo1_f32_tied_clip", "llama_bf16_tied"};
    for (int i = 0; i < 3; i++) {
        double b, s;
        if (check_fixture(fx[i], &o, &b, &s) != 0) return;
        double e = fmax(b, s);
        printf("  %s --quant q4: worst relative logit error %.2e\n", fx[i], e);
        CHECK_MSG(e > 1e-6 && e < 3e-1, "%s: q4 relative error %.3e", fx[i], e);
    }
}

/* The config contradicting the tensors is refused, naming the tensor. */
static const char *load_with_config_edit(const char *fixture, const char *from, const char *to) {
    static char msg[1024];
    const char *tmp = th_tmpdir();
    char src[256], dst[512];
    const char *files[] = {"config.json", "model.safetensors"};
    for (int i = 0; i < 2; i++) {
        snprintf(src, sizeof src, FIX "%s/%s", fixture, files[i]);
        snprintf(dst, sizeof dst, "%s/%s", tmp, files[i]);
        size_t n;
        char *text = olmo_read_file(src, &n);
        if (!text) return "cannot read fixture";
        if (i == 0) {
            char *at = strstr(text, from);
            if (!at) { free(text); return "pattern not in config"; }
            size_t a = (size_t)(at - text), fl = strlen(from), tl = strlen(to);
            char *out = malloc(n - fl + tl + 1);
            memcpy(out, text, a);
            memcpy(out + a, to, tl);
            memcpy(out + a + tl, at + fl, n - a - fl + 1);
            free(text);
            text = out;
            n = n - fl + tl;
        }
        olmo_write_file_atomic(dst, text, n);
        free(text);
    }
    struct olmo_model m;
    if (model_load(&m, tmp, NULL) == 0) {
        model_free(&m);
        return "loaded";
    }
    snprintf(msg, sizeof msg, "%s", olmo_errmsg());
    return msg;
}

TEST(model_config_contradicting_tensors) {
    const char *e = load_with_config_edit("olmo2_f32_gqa", "\"intermediate_size\": 64", "\"intermediate_size\": 96");
    CHECK_MSG(strstr(e, "mlp.gate_proj.weight") && strstr(e, "[96, 32]"), "%s", e);
    e = load_with_config_edit("olmo2_f32_gqa", "\"tie_word_embeddings\": false", "\"tie_word_embeddings\": true");
    CHECK_MSG(strstr(e, "lm_head.weight"), "%s", e);
    e = load_with_config_edit("olmo1_f32_tied_clip", "\"tie_word_embeddings\": true", "\"tie_word_embeddings\": false");
    CHECK_MSG(strstr(e, "lm_head.weight") && strstr(e, "missing"), "%s", e);
    e = load_with_config_edit("olmo2_f32_gqa", "\"num_hidden_layers\": 2", "\"num_hidden_layers\": 1");
    CHECK_MSG(strstr(e, "unexpected tensor 'model.layers.1."), "%s", e);
    e = load_with_config_edit("olmo2_f32_gqa", "\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3");
    CHECK_MSG(strstr(e, "model.layers.2.") && strstr(e, "missing"), "%s", e);
    e = load_with_config_edit("olmo2_f32_gqa", "\"model_type\": \"olmo2\"", "\"model_type\": \"olmo\"");
    CHECK_MSG(strstr(e, "unexpected tensor"), "%s", e);
    e = load_with_config_edit("olmo2_f32_gqa", "\"vocab_size\": 96", "\"vocab_size\": 100");
    CHECK_MSG(strstr(e, "vocab_size 100") && strstr(e, "96 rows"), "%s", e);
    e = load_with_config_edit("olmo2_f32_gqa", "\"num_key_value_heads\": 2", "\"num_key_value_heads\": 4");
    CHECK_MSG(strstr(e, "k_proj.weight") && strstr(e, "[16, 32]"), "%s", e);
}

TEST(model_forward_rejects_bad_input) {
    struct olmo_model m;
    CHECK(model_load(&m, FIX "llama_f32_gqa", NULL) == 0);
    struct olmo_state st;
    CHECK(model_state_init(&st, &m, 4) == 0);
    int32_t bad[2] = {3, 96};
    int rc1 = model_forward(&m, &st, bad, 2, 0, NULL);
    int32_t ok[2] = {3, 4};
    int rc2 = model_forward(&m, &st, ok, 2, 3, NULL);   /* positions 3..4 exceed the 4-position cache */
    model_state_free(&st);
    model_free(&m);
    CHECK(rc1 == -1 && rc2 == -1);
}

TEST(model_missing_directory) {
    struct olmo_model m;
    CHECK(model_load(&m, "tests/fixtures/model/nope", NULL) == -1);
    CHECK_MSG(strstr(olmo_errmsg(), "config.json"), "%s", olmo_errmsg());
}

/* bf16 KV cache against the reference. Every key and value element is rounded once, relative error <= u = 2^-9
 * (≈ 1.95e-3). An attention output Σ p_j v_j moves by <= u·max|v|; a score q·k_j by <= u·Σ|q_i k_ji|, which moves
 * the softmax weights by about twice that; through two layers and the lm_head these stay a few u of the logit
 * scale. Measured on the fp32/fp16 fixtures (where everything else is exact to < 1e-6): 0.5u – 2.6u (9.5e-4 –
 * 5.2e-3). The bound is 8u = 2^-6 (3× the worst measured), and the error must also exceed u/16: an fp32 cache
 * gives < 1e-6, so a cache that silently stayed fp32 (or any piece reading unrounded values) fails. Both paths
 * are checked: the prompt in one call (olmo2_f32_hd16_long: hd 16, 12 tokens, so the tiled attn_prefill kernel)
 * and every token alone (the decode loop). */
static const char *KV_FIXTURES[] = {"olmo1_f32_tied_clip", "olmo2_f32_gqa", "llama_f32_gqa", "olmo2_f16",
                                    "olmo2_f32_hd16_long"};

TEST(model_bf16_kv_cache_close_to_reference) {
    struct model_state_opts so = {.kv_dtype = OLMO_KV_BF16};
    const double u = 1.0 / 512;
    for (int i = 0; i < 5; i++) {
        double b, s;
        if (check_fixture_opts(KV_FIXTURES[i], NULL, &so, &b, &s) != 0) return;
        double e = fmax(b, s);
        printf("  %s, bf16 KV cache: worst relative logit error %.2e (%.2f u)\n", KV_FIXTURES[i], e, e / u);
        CHECK_MSG(e <= 8 * u && e >= u / 16, "%s: bf16-cache error %.3e outside [u/16, 8u] = [%.2e, %.2e]",
                  KV_FIXTURES[i], e, u / 16, 8 * u);
    }
}

/* Prefill then decode with a bf16 cache vs the same tokens fed one at a time with a bf16 cache. The two paths compute
 * each key and value in fp32 along different summation orders (GEMM vs GEMV: last-bit differences, as with an fp32
 * cache), so now and then an element that sits at a bf16 rounding boundary rounds to the neighbouring bf16 value
 * in one path (seen in the -O1 sanitizer build). Hence, comparing the two final caches element by element:
 *   - every element is equal or one bf16 step apart (a path storing unrounded, truncated or misplaced values is not),
 *     and at most 1 % differ;
 *   - at every position before the first row that differs in any layer, both paths attended over identical
 *     caches (causality), so their logits must agree as the fp32 paths do: measured <= 6e-7, bound 1e-5, far below
 *     the rounding's own effect (> 9e-4 above). At least half of all positions must be checked this way. */
struct kv_paths { double worst; int checked, positions; long flips, elems; int far; };

static int kv_paths(const char *name, struct kv_paths *r) {
    char dir[256], refp[300];
    snprintf(dir, sizeof dir, FIX "%s", name);
    snprintf(refp, sizeof refp, "%s/ref.safetensors", dir);
    struct olmo_model m;
    struct st_set ref;
    if (model_load(&m, dir, NULL) != 0) { th_fail(__FILE__, __LINE__, "%s", olmo_errmsg()); return -1; }
    if (st_open(&ref, refp) != 0) { th_fail(__FILE__, __LINE__, "%s", olmo_errmsg()); model_free(&m); return -1; }
    const struct st_tensor *tk = st_find(&ref, "tokens");
    int V = m.cfg.vocab_size, N = (int)tk->shape[0], P = (int)st_find(&ref, "prefill_logits")->shape[0], rc = -1;
    const int32_t *tokens = tk->data;
    float *a = malloc(sizeof(float) * (size_t)V * N), *b = malloc(sizeof(float) * (size_t)V * N);
    struct model_state_opts so = {.kv_dtype = OLMO_KV_BF16};
    struct olmo_state x, y;
    memset(r, 0, sizeof *r);
    int okx = model_state_init_opts(&x, &m, N, &so) == 0, oky = model_state_init_opts(&y, &m, N, &so) == 0;
    if (!okx || !oky || model_forward_all(&m, &x, tokens, P, 0, a) != 0) goto out;
    for (int t = P; t < N; t++)
        if (model_forward(&m, &x, tokens + t, 1, t, a + (size_t)t * V) != 0) goto out;
    for (int t = 0; t < N; t++)
        if (model_forward(&m, &y, tokens + t, 1, t, b + (size_t)t * V) != 0) goto out;
    int first = N;   /* first position whose row differs in some layer */
    const uint16_t *kx = x.k_cache, *vx = x.v_cache, *ky = y.k_cache, *vy = y.v_cache;
    for (int l = 0; l < m.cfg.n_layers; l++)
        for (int t = 0; t < N; t++)
            for (int e = 0; e < x.kv_dim; e++) {
                size_t i = model_kv_offset(&x, l, e / x.head_dim, t) + (size_t)(e % x.head_dim);
                uint16_t p[2][2] = {{kx[i], ky[i]}, {vx[i], vy[i]}};
                for (int k = 0; k < 2; k++) {
                    r->elems++;
                    if (p[k][0] == p[k][1]) continue;
                    r->flips++;
                    if (t < first) first = t;
                    int d = (int)p[k][0] - (int)p[k][1];
                    if ((p[k][0] ^ p[k][1]) & 0x8000 || (d != 1 && d != -1)) r->far++;
                }
            }
    r->positions = N;
    r->checked = first;
    for (int t = 0; t < first; t++) r->worst = fmax(r->worst, row_rel_err(a + (size_t)t * V, b + (size_t)t * V, V));
    rc = 0;
out:
    if (rc) th_fail(__FILE__, __LINE__, "%s: %s", name, olmo_errmsg());
    if (okx) model_state_free(&x);
    if (oky) model_state_free(&y);
    free(a);
    free(b);
    st_close(&ref);
    model_free(&m);
    return rc;
}

TEST(model_bf16_kv_cache_prefill_equals_token_by_token) {
    int checked = 0, positions = 0;
    for (int i = 0; i < 5; i++) {
        struct kv_paths r;
        if (kv_paths(KV_FIXTURES[i], &r) != 0) return;
        printf("  %s, bf16 KV cache: %ld of %ld cache elements round differently on the two paths; logits at the %d of %d"
               " positions before the first such row differ by %.2e\n", KV_FIXTURES[i], r.flips, r.elems, r.checked,
               r.positions, r.worst);
        CHECK_MSG(r.far == 0, "%s: %d cache elements differ by more than one bf16 step", KV_FIXTURES[i], r.far);
        CHECK_MSG(r.flips * 100 <= r.elems, "%s: %ld of %ld cache elements differ", KV_FIXTURES[i], r.flips, r.elems);
        CHECK_MSG(r.worst <= 1e-5, "%s: paths differ by %.3e > 1e-5", KV_FIXTURES[i], r.worst);
        checked += r.checked;
        positions += r.positions;
    }
    CHECK_MSG(2 * checked >= positions, "only %d of %d positions read identical caches on both paths", checked, positions);
}

TEST(model_state_kv_cache_types) {
    struct olmo_model m;
    CHECK(model_load(&m, FIX "llama_f32_gqa", NULL) == 0);
    struct olmo_state a, b, c;
    struct model_state_opts bf = {.kv_dtype = OLMO_KV_BF16}, bad = {.kv_dtype = (enum olmo_kv_dtype)9};
    int ra = model_state_init(&a, &m, 16), rb = model_state_init_opts(&b, &m, 16, &bf), rc = model_state_init_opts(&c, &m, 16, &bad);
    /* 2 layers × 2 KV heads × hd 8 × 16 positions × (K and V) */
    size_t fa = a.kv_bytes, fb = b.kv_bytes;
    int ta = a.kv_dtype, tb = b.kv_dtype;
    model_state_free(&a);
    model_state_free(&b);
    model_free(&m);
    CHECK(ra == 0 && rb == 0 && rc == -1);
    CHECK_MSG(strstr(olmo_errmsg(), "KV cache type"), "%s", olmo_errmsg());
    CHECK(ta == OLMO_KV_F32 && tb == OLMO_KV_BF16);
    CHECK_EQ_INT(fa, 2 * 2 * 2 * 8 * 16 * 4);
    CHECK_EQ_INT(fb, 2 * 2 * 2 * 8 * 16 * 2);
    enum olmo_kv_dtype dt;
    CHECK(model_kv_dtype_parse("bf16", &dt) == 0 && dt == OLMO_KV_BF16);
    CHECK(model_kv_dtype_parse("f32", &dt) == 0 && dt == OLMO_KV_F32);
    CHECK(model_kv_dtype_parse("f16", &dt) == -1 && strstr(olmo_errmsg(), "'f16'"));
    CHECK(!strcmp(model_kv_dtype_name(OLMO_KV_BF16), "bf16"));
}
