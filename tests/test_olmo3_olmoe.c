/* test_olmo3_olmoe.c — OLMo-3 (sliding window, YaRN, ring KV cache) and OLMoE (router, experts) against the
 * independent PyTorch reference tests/ref/make_olmo3_olmoe_fixtures.py (float64, plain masking over the whole
 * history, no ring), plus the addendum's self-tests (§6): YaRN table values, the three config shapes, chunked
 * prefill, per-expert vs fused experts, router choice. Tolerances as in test_model.c: relative to each row's largest
 * |logit|, 1e-4 for fp32 paths, 2e-2 for a bf16 checkpoint's prompt in one call (the GEMM rounds activations to bf16). */
#include "harness.h"
#include "base/error.h"
#include "formats/hf_config.h"
#include "formats/safetensors.h"
#include "model/model.h"
#include "model/moe.h"
#include "model/rope.h"

#include <stdlib.h>
#include <string.h>

#define FIX "tests/fixtures/olmo3_olmoe/"

static double row_rel_err(const float *got, const float *want, int n) {
    double mx = 0, err = 0;
    for (int i = 0; i < n; i++) {
        mx = fmax(mx, fabs(want[i]));
        err = fmax(err, fabs((double)got[i] - want[i]));
    }
    return err / (mx > 0 ? mx : 1);
}

/* Prompt in one call then decode (*one), and every token alone (*step). Also leaves the decode logits of the
 * one-call path in last[S·V] when last is not NULL. 0, or -1 after th_fail. */
static int run_fixture(const char *name, const struct model_load_opts *lo, double *one, double *step, float **last) {
    char dir[256], refp[300];
    snprintf(dir, sizeof dir, FIX "%s", name);
    snprintf(refp, sizeof refp, "%s/ref.safetensors", dir);
    struct olmo_model m;
    struct st_set ref;
    if (model_load(&m, dir, lo) != 0) return th_fail(__FILE__, __LINE__, "load %s: %s", name, olmo_errmsg()), -1;
    if (st_open(&ref, refp) != 0) {
        model_free(&m);
        return th_fail(__FILE__, __LINE__, "%s", olmo_errmsg()), -1;
    }
    const struct st_tensor *tk = st_find(&ref, "tokens"), *pre = st_find(&ref, "prefill_logits"),
                           *dec = st_find(&ref, "decode_logits");
    int V = m.cfg.vocab_size, P = (int)pre->shape[0], S = (int)dec->shape[0], rc = 0;
    const int32_t *tokens = tk->data;
    const float *wp = pre->data, *wd = dec->data;
    float *lg = malloc(sizeof(float) * (size_t)V * P), *keep = malloc(sizeof(float) * (size_t)V * S);
    struct olmo_state st;
    *one = *step = 0;
    if (model_state_init(&st, &m, P + S) != 0 || model_forward_all(&m, &st, tokens, P, 0, lg) != 0) goto fail;
    for (int t = 0; t < P; t++) *one = fmax(*one, row_rel_err(lg + (size_t)t * V, wp + (size_t)t * V, V));
    for (int i = 0; i < S; i++) {
        if (model_forward(&m, &st, tokens + P + i, 1, P + i, keep + (size_t)i * V) != 0) goto fail;
        *one = fmax(*one, row_rel_err(keep + (size_t)i * V, wd + (size_t)i * V, V));
    }
    model_state_free(&st);
    if (model_state_init(&st, &m, P + S) != 0) goto fail;
    for (int t = 0; t < P + S; t++) {
        if (model_forward(&m, &st, tokens + t, 1, t, lg) != 0) goto fail;
        *step = fmax(*step, row_rel_err(lg, t < P ? wp + (size_t)t * V : wd + (size_t)(t - P) * V, V));
    }
    goto out;
fail:
    th_fail(__FILE__, __LINE__, "%s: %s", name, olmo_errmsg());
    rc = -1;
out:
    model_state_free(&st);
    free(lg);
    if (last && rc == 0) *last = keep;
    else free(keep);
    st_close(&ref);
    model_free(&m);
    return rc;
}

#define FIXTURE_TEST(tname, fixture, bound_one)                                                         \
    TEST(tname) {                                                                                       \
        double a, b;                                                                                    \
        if (run_fixture(fixture, NULL, &a, &b, NULL) != 0) return;                                      \
        printf("  %s: worst relative logit error %.2e (prompt in one call), %.2e (token by token)\n", fixture, a, b); \
        CHECK_MSG(a <= (bound_one) && b <= 1e-4, "%s: relative error %.3e / %.3e", fixture, a, b);     \
    }

FIXTURE_TEST(olmo3_shape_a_f32, "olmo3_a", 1e-4)
FIXTURE_TEST(olmo3_shape_c_bf16_gqa, "olmo3_c", 2e-2)
FIXTURE_TEST(olmoe_per_expert_f32, "olmoe_a", 1e-4)
FIXTURE_TEST(olmoe_norm_topk_clip_bf16, "olmoe_b", 2e-2)

/* Two spellings of one model give bit-identical logits: config shapes A and B (addendum §2), per-expert and
 * fused expert tensors (addendum §5). */
static void same_logits(const char *a, const char *b) {
    double e1, e2, e3, e4;
    float *la = NULL, *lb = NULL;
    if (run_fixture(a, NULL, &e1, &e2, &la) != 0) return;
    if (run_fixture(b, NULL, &e3, &e4, &lb) != 0) {
        free(la);
        return;
    }
    struct olmo_config c;
    char p[256];
    snprintf(p, sizeof p, FIX "%s/config.json", a);
    int same = hf_config_load(&c, p) == 0 && memcmp(la, lb, sizeof(float) * 4 * (size_t)c.vocab_size) == 0;
    free(la);
    free(lb);
    CHECK_MSG(same, "%s and %s differ", a, b);
    CHECK(e3 <= 1e-4 && e4 <= 1e-4);
}
TEST(olmo3_config_shapes_a_b_agree) { same_logits("olmo3_a", "olmo3_b"); }
TEST(olmoe_fused_equals_per_expert) { same_logits("olmoe_a", "olmoe_fused"); }

/* Addendum §3.6: released OLMo-3 YaRN values, and the table equals the reference's float32 computation. */
TEST(olmo3_yarn_table) {
    struct olmo_rope r = {.theta = 5e5f, .yarn = 1, .factor = 8, .attn_factor = 1.2079441541679836f, .orig_max_pos = 8192,
                          .beta_fast = 32, .beta_slow = 1};
    float inv[64], low, high;
    rope_yarn_range(&r, 128, &low, &high);
    CHECK(low == 18.0f && high == 35.0f);
    float a = rope_inv_freq(&r, 128, inv);
    CHECK_NEAR(a * a, 1.459129, 1e-6);
    CHECK_NEAR(inv[0], 1.0, 1e-7);
    CHECK_NEAR(inv[18], 2.49554e-2, 1e-7);
    CHECK_NEAR(inv[19], 1.92828e-2, 1e-7);
    CHECK_NEAR(inv[26], 2.84672e-3, 1e-8);
    CHECK_NEAR(inv[35], 9.55621e-5, 1e-10);
    CHECK_NEAR(inv[63], 3.06893e-7, 1e-12);
    struct st_set ref;
    CHECK(st_open(&ref, FIX "yarn_table.safetensors") == 0);
    const float *want = st_find(&ref, "inv_freq")->data, *plain_want = st_find(&ref, "plain_inv_freq")->data;
    int bad = -1;
    for (int i = 0; i < 64; i++)
        if (inv[i] != want[i]) bad = i;
    struct olmo_rope p = {.theta = 5e5f, .factor = 1, .attn_factor = 1};
    float plain[64];
    CHECK(rope_inv_freq(&p, 128, plain) == 1.0f);
    for (int i = 0; i < 64; i++)
        if (plain[i] != plain_want[i]) bad = 100 + i;
    st_close(&ref);
    CHECK_MSG(bad < 0, "inv_freq[%d] differs from the reference's float32 value", bad % 100);
    CHECK_NEAR(plain[1], 0.814617, 1e-6);
}

/* layer_types default, the three shapes, refusals. */
TEST(olmo3_config_parsing) {
    const char *base = "{\"model_type\":\"olmo3\",\"hidden_size\":64,\"intermediate_size\":96,\"num_hidden_layers\":6,"
                       "\"num_attention_heads\":4,\"vocab_size\":96,\"max_position_embeddings\":65536,%s}";
    char js[2048];
    struct olmo_config c;
    snprintf(js, sizeof js, base, "\"rope_theta\":500000,\"rope_scaling\":{\"type\":\"yarn\",\"factor\":8,"
                                  "\"original_max_position_embeddings\":8192}");
    CHECK_MSG(hf_config_parse(&c, js, strlen(js), "A") == 0, "%s", olmo_errmsg());
    CHECK(c.sliding_window == 4096 && c.layer_sliding[0] && c.layer_sliding[2] && !c.layer_sliding[3] && c.layer_sliding[5]);
    CHECK(c.rope_full.yarn && !c.rope_sliding.yarn && c.rope_sliding.theta == 500000.0f);
    CHECK_NEAR(c.rope_full.attn_factor, 0.1 * log(8) + 1, 1e-6);
    snprintf(js, sizeof js, base, "\"rope_parameters\":{\"rope_type\":\"linear\",\"factor\":2}");
    CHECK(hf_config_parse(&c, js, strlen(js), "bad type") == -1 && strstr(olmo_errmsg(), "linear"));
    snprintf(js, sizeof js, base, "\"layer_types\":[\"full_attention\"]");
    CHECK(hf_config_parse(&c, js, strlen(js), "short list") == -1 && strstr(olmo_errmsg(), "layer_types"));
    /* written back and read again: same layers and RoPE */
    snprintf(js, sizeof js, base, "\"rope_theta\":500000,\"sliding_window\":16,\"layer_types\":[\"full_attention\","
             "\"sliding_attention\",\"full_attention\",\"sliding_attention\",\"sliding_attention\",\"full_attention\"],"
             "\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":8,\"original_max_position_embeddings\":8192,"
             "\"attention_factor\":1.2079441541679836,\"beta_fast\":32,\"beta_slow\":1}");
    CHECK(hf_config_parse(&c, js, strlen(js), "C") == 0);
    char *out = hf_config_to_json(&c, "bfloat16");
    struct olmo_config c2;
    int rc = out ? hf_config_parse(&c2, out, strlen(out), "written") : -1;
    free(out);
    CHECK(rc == 0 && c2.arch == ARCH_OLMO3 && c2.sliding_window == 16 && c2.rope_full.yarn &&
          !memcmp(c.layer_sliding, c2.layer_sliding, 6) && c2.rope_full.attn_factor == c.rope_full.attn_factor);
}

/* Addendum §6: with W = 8, a prompt in one call and in 3-token chunks give the same logits (to fp32 rounding: the
 * calls take different kernels), and cutting back within the ring's slack works while cutting back past it is refused. */
TEST(olmo3_chunked_prefill_and_rewind) {
    struct olmo_model m;
    CHECK(model_load(&m, FIX "olmo3_a", NULL) == 0);
    int V = m.cfg.vocab_size, N = 40, ok = 1;
    int32_t tok[40];
    for (int i = 0; i < N; i++) tok[i] = (i * 7 + 3) % V;
    float *a = malloc(sizeof(float) * V), *b = malloc(sizeof(float) * V);
    struct olmo_state s1, s2;
    ok = model_state_init(&s1, &m, 600) == 0 && model_state_init(&s2, &m, 600) == 0 && model_forward(&m, &s1, tok, N, 0, a) == 0;
    for (int t = 0; ok && t < N; t += 3) ok = model_forward(&m, &s2, tok + t, N - t < 3 ? N - t : 3, t, b) == 0;
    double e = ok ? row_rel_err(a, b, V) : 1;
    /* rewind 5 positions: allowed; then run 540 positions and try to go back 300: refused */
    int rw = ok && model_state_can_rewind(&s1, N - 5) && model_forward(&m, &s1, tok + N - 5, 5, N - 5, b) == 0;
    double e2 = rw ? row_rel_err(a, b, V) : 1;
    int32_t *many = calloc(540, sizeof *many);
    int far = model_forward(&m, &s1, many, 540, N, NULL) == 0 && !model_state_can_rewind(&s1, N + 540 - 300) &&
              model_forward(&m, &s1, many, 1, N + 540 - 300, NULL) == -1;
    free(many);
    model_state_free(&s1);
    model_state_free(&s2);
    free(a);
    free(b);
    model_free(&m);
    CHECK_MSG(ok, "%s", olmo_errmsg());
    CHECK_MSG(e < 1e-5, "chunked prefill differs: %.3e", e);
    CHECK_MSG(rw && e2 < 1e-5, "rewind: %.3e", e2);
    CHECK(far);
}

/* Batched decoding is bit-exact for OLMo-3 (ring caches, two RoPE tables) and OLMoE (experts per row). */
static void batch_exact(const char *name) {
    struct olmo_model m;
    char dir[256];
    snprintf(dir, sizeof dir, FIX "%s", name);
    CHECK(model_load(&m, dir, NULL) == 0);
    int V = m.cfg.vocab_size, ok = 1, same = 1, plen[2] = {270, 5};
    struct olmo_state a[2], b[2];
    struct olmo_state *ap[2] = {&a[0], &a[1]};
    float *lb = malloc(sizeof(float) * V * 2), *ls = malloc(sizeof(float) * V);
    int32_t *pr = malloc(sizeof(int32_t) * 300);
    for (int i = 0; i < 300; i++) pr[i] = (i * 13 + 1) % V;
    for (int i = 0; i < 2; i++)
        ok = ok && model_state_init(&a[i], &m, 300) == 0 && model_state_init(&b[i], &m, 300) == 0 &&
             model_forward(&m, &a[i], pr + i, plen[i], 0, NULL) == 0 && model_forward(&m, &b[i], pr + i, plen[i], 0, NULL) == 0;
    for (int s = 0; ok && s < 12; s++) {
        int32_t t[2] = {(s * 5 + 2) % V, (s * 3 + 1) % V};
        ok = model_forward_batch(&m, ap, t, 2, lb) == 0;
        for (int i = 0; ok && i < 2; i++) {
            ok = model_forward(&m, &b[i], &t[i], 1, b[i].pos, ls) == 0;
            same = same && memcmp(ls, lb + (size_t)i * V, sizeof(float) * V) == 0;
        }
    }
    for (int i = 0; i < 2; i++) {
        model_state_free(&a[i]);
        model_state_free(&b[i]);
    }
    free(lb);
    free(ls);
    free(pr);
    model_free(&m);
    CHECK_MSG(ok, "%s: %s", name, olmo_errmsg());
    CHECK_MSG(same, "%s: batched decoding differs from single", name);
}
TEST(olmo3_batch_exact) { batch_exact("olmo3_a"); }
TEST(olmoe_batch_exact) { batch_exact("olmoe_b"); }

/* The ring: KV memory of the OLMo-3 7B shape at a 65536-token context (3 of 4 layers keep 4095 + slack rows). */
TEST(olmo3_kv_memory_7b_shape) {
    struct olmo_model m;
    memset(&m, 0, sizeof m);
    struct olmo_config *c = &m.cfg;
    c->arch = ARCH_OLMO3;
    c->n_layers = 32;
    c->n_heads = c->n_kv_heads = 32;
    c->head_dim = 128;
    c->sliding_window = 4096;
    for (int l = 0; l < 32; l++) c->layer_sliding[l] = (l + 1) % 4 != 0;
    struct model_state_opts so = {.kv_dtype = OLMO_KV_BF16};
    struct olmo_state s;
    CHECK_MSG(model_state_init_opts(&s, &m, 65536, &so) == 0, "%s", olmo_errmsg());
    size_t row = 2 * 32 * 128 * 2;   /* k + v, 32 heads x 128, bf16 */
    size_t want = row * (8 * 65536 + 24 * (size_t)(4095 + MODEL_RING_SLACK)), full = row * 32 * (size_t)65536;
    size_t got = s.kv_bytes;
    model_state_free(&s);
    printf("  OLMo-3 7B shape, 65536 positions, bf16 KV: %.2f GiB with the ring vs %.2f GiB full (%.0f %% less)\n",
           got / 1073741824.0, full / 1073741824.0, 100.0 * (1 - (double)got / full));
    CHECK(got == want);
}

/* The router: the k largest softmax entries, ties to the lower index, weights summing to < 1 (or 1 when norm). */
TEST(olmoe_router) {
    float logits[8] = {0.5f, 2.0f, -1.0f, 2.0f, 1.0f, 0.0f, 3.0f, -2.0f}, w[3];
    int idx[3];
    moe_route(logits, 8, 3, 0, idx, w);
    CHECK(idx[0] == 6 && idx[1] == 1 && idx[2] == 3);
    CHECK(w[1] == w[2] && w[0] + w[1] + w[2] < 1.0f && w[0] > w[1]);
    moe_route(logits, 8, 3, 1, idx, w);
    CHECK_NEAR(w[0] + w[1] + w[2], 1.0, 1e-6);
}

/* Only the chosen experts count in bytes per token; Q8 experts load and stay close to the reference. */
TEST(olmoe_bytes_and_q8) {
    struct olmo_model m;
    CHECK(model_load(&m, FIX "olmoe_a", NULL) == 0);
    uint64_t per_tok = m.weight_bytes, experts = m.expert_bytes;
    int64_t d = m.cfg.d_model, I = m.cfg.d_ff;
    model_free(&m);
    uint64_t one_expert = (uint64_t)(3 * d * I * 4);
    CHECK(experts == one_expert * 8 * 2);
    CHECK(per_tok < experts);   /* 2 of 8 experts per layer */
    struct model_load_opts q8 = {.quant = OLMO_QUANT_Q8};
    double a, b;
    if (run_fixture("olmoe_a", &q8, &a, &b, NULL) != 0) return;
    printf("  olmoe_a --quant q8: worst relative logit error %.2e\n", fmax(a, b));
    CHECK(fmax(a, b) > 1e-7 && fmax(a, b) < 5e-2);
}
