/* test_model.c — the forward pass against the independent PyTorch reference (tests/ref/make_model_fixtures.py).
 *
 * Each fixture holds a tiny random checkpoint in HF layout and reference logits for a 5-token prefill (every
 * position) and 4 single-token decode steps through the KV cache. The check is relative to the logits' scale:
 * max |ours - ref| <= 1e-4 · max |ref| over each row.
 *
 * Tolerance for BF16 checkpoints: the same 1e-4. The reference computes in float64 with weights rounded to bf16
 * exactly as stored, and olmo.c widens bf16 to fp32 exactly (a shift), so both evaluate the same function; the
 * only difference is fp32 vs fp64 arithmetic, as for F32 checkpoints (measured worst case printed below ~1e-6). */
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

/* Runs one fixture; returns the worst relative error or -1 (after th_fail) on a structural failure. */
static double check_fixture(const char *name, const struct model_load_opts *opts) {
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
    int V = m.cfg.vocab_size, P = (int)pre->shape[0], S = (int)dec->shape[0];
    const int32_t *tokens = tk->data;
    float *logits = malloc(sizeof(float) * (size_t)V * (size_t)P);
    double worst = 0;
    struct olmo_state st;
    model_state_init(&st, &m, P + S);
    /* prefill: all positions in one call */
    if (model_forward_all(&m, &st, tokens, P, 0, logits) != 0) {
        th_fail(__FILE__, __LINE__, "%s", olmo_errmsg());
        worst = -1;
        goto out;
    }
    for (int t = 0; t < P; t++) worst = fmax(worst, row_rel_err(logits + (size_t)t * V, (const float *)pre->data + (size_t)t * V, V));
    /* decode: one token at a time through the cache */
    for (int i = 0; i < S; i++) {
        if (model_forward(&m, &st, tokens + P + i, 1, P + i, logits) != 0) {
            th_fail(__FILE__, __LINE__, "%s", olmo_errmsg());
            worst = -1;
            goto out;
        }
        worst = fmax(worst, row_rel_err(logits, (const float *)dec->data + (size_t)i * V, V));
    }
    /* model_forward (last position only) over the prompt agrees with model_forward_all's last row */
    float *last = malloc(sizeof(float) * (size_t)V);
    model_forward(&m, &st, tokens, P, 0, last);
    worst = fmax(worst, row_rel_err(last, (const float *)pre->data + (size_t)(P - 1) * V, V));
    free(last);
out:
    model_state_free(&st);
    free(logits);
    st_close(&ref);
    model_free(&m);
    return worst;
}

#define FIXTURE_TEST(tname, fixture)                                                  \
    TEST(tname) {                                                                     \
        double e = check_fixture(fixture, NULL);                                      \
        if (e < 0) return;                                                            \
        printf("  %s: worst relative logit error %.2e\n", fixture, e);               \
        CHECK_MSG(e <= 1e-4, "%s: relative error %.3e > 1e-4", fixture, e);          \
    }

FIXTURE_TEST(model_olmo1_f32_tied_clip, "olmo1_f32_tied_clip")
FIXTURE_TEST(model_olmo1_bf16_untied, "olmo1_bf16_untied")
FIXTURE_TEST(model_olmo2_f32_gqa, "olmo2_f32_gqa")
FIXTURE_TEST(model_olmo2_bf16_gqa_sharded, "olmo2_bf16_gqa_sharded")
FIXTURE_TEST(model_llama_f32_gqa, "llama_f32_gqa")
FIXTURE_TEST(model_llama_bf16_tied, "llama_bf16_tied")
FIXTURE_TEST(model_olmo2_gen, "olmo2_gen")

/* Q8 weights: not exact, but close (the q8 error on these random weights is about 1% of the logit scale). */
TEST(model_q8_close_to_reference) {
    struct model_load_opts o = {.quant_q8 = 1};
    double e = check_fixture("olmo2_f32_gqa", &o);
    if (e < 0) return;
    printf("  olmo2_f32_gqa --quant q8: worst relative logit error %.2e\n", e);
    CHECK_MSG(e > 1e-6 && e < 5e-2, "q8 relative error %.3e", e);
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
