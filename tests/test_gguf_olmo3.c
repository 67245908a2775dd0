/* test_gguf_olmo3.c — GGUF export of OLMo-3 as llama.cpp runs it (architecture "olmo2" with sliding-window
 * layers), read back with olmo.c's GGUF reader (no peer needed; tests/gguf_export.test.sh runs the files in
 * llama.cpp):
 *
 *   - the tiny fixtures olmo3_a (config shape A: rope_theta + rope_scaling) and olmo3_b (shape B: flat
 *     rope_parameters) give the same keys: olmo2.attention.sliding_window, the per-layer sliding_window_pattern
 *     (booleans from layer_types), rope.freq_base and freq_base_swa, the YaRN keys (type, factor, original context,
 *     betas); OLMo-2's 11 tensors per layer with their shapes;
 *   - refused with the reason: olmo3_c (sliding layers with their own rope_theta, which llama.cpp's olmo2 graph
 *     ignores), an attention_factor other than 1 + 0.1·ln(factor). */
#include "harness.h"
#include "base/error.h"
#include "base/file.h"
#include "formats/gguf.h"
#include "formats/gguf_export.h"

#include <stdlib.h>
#include <string.h>

#define FIX "tests/fixtures/olmo3_olmoe/"

static const struct gguf_export_opts synth = {.synthetic_vocab = 1};   /* the fixtures have no tokenizer.json */

static void check_olmo3(const char *dir) {
    char out[512];
    size_t len;
    snprintf(out, sizeof out, "%s/o3.gguf", th_tmpdir());
    CHECK_MSG(gguf_export_opts(dir, out, GGML_TYPE_BF16, &synth) == 0, "%s", olmo_errmsg());
    uint8_t *buf = (uint8_t *)olmo_read_file(out, &len);
    struct gguf_file g;
    CHECK(buf && gguf_parse(&g, buf, len, out) == 0);
    const char *s;
    size_t n;
    uint32_t u;
    float f;
    CHECK(gguf_string(gguf_find(&g, "general.architecture"), 0, &s, &n) == 0 && n == 5 && !memcmp(s, "olmo2", 5));
    CHECK(gguf_u32(gguf_find(&g, "olmo2.attention.sliding_window"), &u) == 0 && u == 8);
    const struct gguf_kv *pat = gguf_find(&g, "olmo2.attention.sliding_window_pattern");
    CHECK(pat && pat->type == GGUF_T_ARRAY && pat->elem == GGUF_T_BOOL && pat->n == 4);
    CHECK(pat->val[0] == 1 && pat->val[1] == 1 && pat->val[2] == 1 && pat->val[3] == 0);   /* s, s, s, full */
    CHECK(gguf_f32(gguf_find(&g, "olmo2.rope.freq_base"), &f) == 0 && f == 500000.0f);
    CHECK(gguf_f32(gguf_find(&g, "olmo2.rope.freq_base_swa"), &f) == 0 && f == 500000.0f);
    CHECK(gguf_string(gguf_find(&g, "olmo2.rope.scaling.type"), 0, &s, &n) == 0 && n == 4 && !memcmp(s, "yarn", 4));
    CHECK(gguf_f32(gguf_find(&g, "olmo2.rope.scaling.factor"), &f) == 0 && f == 8.0f);
    CHECK(gguf_u32(gguf_find(&g, "olmo2.rope.scaling.original_context_length"), &u) == 0 && u == 256);
    CHECK(gguf_f32(gguf_find(&g, "olmo2.rope.scaling.yarn_beta_fast"), &f) == 0 && f == 32.0f);
    CHECK(gguf_f32(gguf_find(&g, "olmo2.rope.scaling.yarn_beta_slow"), &f) == 0 && f == 1.0f);
    CHECK(gguf_u32(gguf_find(&g, "olmo2.context_length"), &u) == 0 && u == 2048);
    CHECK_EQ_INT(g.n_tensors, 3 + 11 * 4);
    const struct gguf_tensor *q = gguf_find_tensor(&g, "blk.3.attn_q.weight"), *kn = gguf_find_tensor(&g, "blk.0.attn_k_norm.weight");
    CHECK(q && q->ndim == 2 && q->dims[0] == 64 && q->dims[1] == 64 && q->type == GGML_TYPE_BF16);
    CHECK(kn && kn->ndim == 1 && kn->dims[0] == 64 && kn->type == GGML_TYPE_F32);
    CHECK(gguf_find_tensor(&g, "blk.3.post_ffw_norm.weight") && gguf_find_tensor(&g, "output_norm.weight"));
    gguf_free(&g);
    free(buf);
}
TEST(gguf_olmo3_shape_a) { check_olmo3(FIX "olmo3_a"); }
TEST(gguf_olmo3_shape_b) { check_olmo3(FIX "olmo3_b"); }

TEST(gguf_olmo3_refusals) {
    char out[512], p[600];
    const char *tmp = th_tmpdir();
    snprintf(out, sizeof out, "%s/x.gguf", tmp);
    CHECK(gguf_export_opts(FIX "olmo3_c", out, GGML_TYPE_F16, &synth) == -1);
    CHECK_MSG(strstr(olmo_errmsg(), "sliding layers use rope_theta 10000, full layers 500000"), "%s", olmo_errmsg());
    CHECK(!olmo_file_exists(out));
    /* olmo3_a with attention_factor 1.5 instead of 1 + 0.1·ln 8 */
    size_t n;
    char *cfg = olmo_read_file(FIX "olmo3_a/config.json", &n), *w = olmo_read_file(FIX "olmo3_a/model.safetensors", &n);
    char *at = cfg ? strstr(cfg, "1.2079441541679836") : NULL;
    CHECK_GOTO(at && w, done);
    memcpy(at, "1.5000000000000000", 18);
    snprintf(p, sizeof p, "%s/config.json", tmp);
    CHECK_GOTO(olmo_write_file_atomic(p, cfg, strlen(cfg)) == 0, done);
    snprintf(p, sizeof p, "%s/model.safetensors", tmp);
    CHECK_GOTO(olmo_write_file_atomic(p, w, n) == 0, done);
    CHECK_GOTO(gguf_export_opts(tmp, out, GGML_TYPE_F16, &synth) == -1, done);
    if (!strstr(olmo_errmsg(), "attention_factor 1.5")) th_fail(__FILE__, __LINE__, "%s", olmo_errmsg());
done:
    free(cfg);
    free(w);
}
