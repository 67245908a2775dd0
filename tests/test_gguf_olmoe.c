/* test_gguf_olmoe.c — GGUF export of OLMoE (llama.cpp's "olmoe" architecture) read back with olmo.c's own GGUF
 * reader (formats/gguf.c), so it runs without the llama.cpp peer (tests/gguf_export.test.sh runs the files there):
 *
 *   - every type (f16, bf16, q8_0, q4_0) of the tiny per-expert fixture olmoe_a: the architecture, the expert
 *     counts and the other hyper-parameter keys; every tensor's name, dims, ggml type (norms and the router F32,
 *     the rest as asked) and every value against the checkpoint — each expert of ffn_{gate,up,down}_exps against
 *     its own HF tensor (f16/bf16 within their rounding, q8_0 within half a step, q4_0 equal to olmo.c's q4 block);
 *   - the fused-expert checkpoint (transformers v5's gate_up_proj / down_proj) gives byte-identical tensors;
 *   - refused with a message naming the cause: clip_qkv, norm_topk_prob, grouped-query attention (llama.cpp's
 *     olmoe runs none of them), a router or an expert of the wrong shape. */
#include "harness.h"
#include "base/error.h"
#include "base/file.h"
#include "base/half.h"
#include "formats/gguf.h"
#include "formats/gguf_export.h"
#include "formats/safetensors.h"
#include "model/kernels/linear.h"

#include <stdlib.h>
#include <string.h>

#define FIX "tests/fixtures/olmo3_olmoe/"

static const struct gguf_export_opts synth = {.synthetic_vocab = 1};   /* the fixtures have no tokenizer.json */

static uint8_t *export_read(const char *dir, const char *file, enum ggml_type t, struct gguf_file *g) {
    char out[512];
    size_t len;
    snprintf(out, sizeof out, "%s/%s", th_tmpdir(), file);
    if (gguf_export_opts(dir, out, t, &synth) != 0) return NULL;
    uint8_t *buf = (uint8_t *)olmo_read_file(out, &len);
    if (buf && gguf_parse(g, buf, len, out) != 0) { free(buf); return NULL; }
    return buf;
}

static int str_is(const struct gguf_kv *kv, const char *want) {
    const char *s;
    size_t n;
    return gguf_string(kv, 0, &s, &n) == 0 && n == strlen(want) && !memcmp(s, want, n);
}

/* rows × cols values of a GGUF tensor of type t (row stride rb bytes) against src, within t's rounding. */
static int rows_match(const char *name, enum ggml_type t, const uint8_t *data, uint64_t rb, const float *src, uint64_t rows, uint64_t cols) {
    for (uint64_t r = 0; r < rows; r++) {
        const float *v = src + r * cols;
        for (uint64_t j = 0; j < cols; j++) {
            float got = ggml_row_at(t, data + r * rb, j), want = v[j];
            double tol = t == GGML_TYPE_F32 ? 0 : t == GGML_TYPE_F16 ? fabs(want) / 1024 + 6e-8 : t == GGML_TYPE_BF16 ? fabs(want) / 128 : 0;
            if (t == GGML_TYPE_Q8_0) {
                float amax = 0;
                for (int k = 0; k < 32; k++) amax = fmaxf(amax, fabsf(v[j / 32 * 32 + k]));
                tol = amax / 127 * 0.5001 + 1e-7;
            } else if (t == GGML_TYPE_Q4_0) {   /* exactly olmo.c's q4 block */
                int8_t q[32];
                uint16_t h;
                linear_q4_block(v + j / 32 * 32, &h, q);
                want = olmo_f16_to_f32(h) * q[j % 32];
            }
            if (!(fabs(got - want) <= tol)) {
                printf("  %s [%llu][%llu]: %g vs %g\n", name, (unsigned long long)r, (unsigned long long)j, got, want);
                return 0;
            }
        }
    }
    return 1;
}

/* The GGUF tensor gg: n_src HF tensors (one, or one per expert) stacked, each rows × cols; dims and type checked. */
static int tensor_matches(const struct gguf_file *g, const struct st_set *st, const char *gg, enum ggml_type want_type,
                          const char *const *hf, int n_src, uint64_t rows, uint64_t cols) {
    const struct gguf_tensor *t = gguf_find_tensor(g, gg);
    if (!t) { printf("  %s: missing\n", gg); return 0; }
    uint32_t ndim = n_src > 1 ? 3 : rows > 1 ? 2 : 1;
    if (t->ndim != ndim || t->dims[0] != cols || (ndim > 1 && t->dims[1] != rows) || (ndim > 2 && t->dims[2] != (uint64_t)n_src) ||
        t->type != want_type) {
        printf("  %s: %u dims {%llu, %llu, %llu} %s, expected %u dims {%llu, %llu, %d} %s\n", gg, t->ndim, (unsigned long long)t->dims[0],
               (unsigned long long)t->dims[1], (unsigned long long)t->dims[2], ggml_type_name(t->type), ndim, (unsigned long long)cols,
               (unsigned long long)rows, n_src, ggml_type_name(want_type));
        return 0;
    }
    uint64_t rb = ggml_type_bytes(t->type, cols);
    float *src = malloc(sizeof(float) * rows * cols);
    int ok = src != NULL;
    for (int e = 0; e < n_src && ok; e++) {
        const struct st_tensor *s = st_find(st, hf[e]);
        ok = s && st_tensor_to_f32(src, s, "fixture") == 0 && rows_match(gg, t->type, t->data + (uint64_t)e * rows * rb, rb, src, rows, cols);
        if (!ok) printf("  %s: expert/slice %d (%s) differs\n", gg, e, hf[e]);
    }
    free(src);
    return ok;
}

static void check_olmoe(enum ggml_type type) {
    struct gguf_file g;
    uint8_t *buf = export_read(FIX "olmoe_a", "a.gguf", type, &g);
    CHECK_MSG(buf, "%s", olmo_errmsg());
    struct st_set st;
    CHECK(st_open_dir(&st, FIX "olmoe_a") == 0);
    uint32_t u;
    float f;
    CHECK(str_is(gguf_find(&g, "general.architecture"), "olmoe"));
    const struct { const char *key; uint32_t want; } u32s[] = {
        {"olmoe.expert_count", 8}, {"olmoe.expert_used_count", 2}, {"olmoe.block_count", 2}, {"olmoe.embedding_length", 32},
        {"olmoe.feed_forward_length", 32}, {"olmoe.attention.head_count", 4}, {"olmoe.attention.head_count_kv", 4},
        {"olmoe.rope.dimension_count", 8}, {"olmoe.context_length", 4096}, {"tokenizer.ggml.eos_token_id", 95}};
    for (size_t i = 0; i < sizeof u32s / sizeof *u32s; i++)
        CHECK_MSG(gguf_u32(gguf_find(&g, u32s[i].key), &u) == 0 && u == u32s[i].want, "%s: expected %u", u32s[i].key, u32s[i].want);
    CHECK(gguf_f32(gguf_find(&g, "olmoe.attention.layer_norm_rms_epsilon"), &f) == 0 && f == 1e-5f);
    CHECK(gguf_f32(gguf_find(&g, "olmoe.rope.freq_base"), &f) == 0 && f == 10000.0f);
    CHECK(gguf_find(&g, "olmoe.attention.clamp_kqv") == NULL);
    CHECK_EQ_INT(g.n_tensors, 3 + 12 * 2);
    int ok = 1;
    const char *one[1];
    one[0] = "model.embed_tokens.weight";
    ok &= tensor_matches(&g, &st, "token_embd.weight", type, one, 1, 96, 32);
    one[0] = "lm_head.weight";
    ok &= tensor_matches(&g, &st, "output.weight", type, one, 1, 96, 32);
    one[0] = "model.norm.weight";
    ok &= tensor_matches(&g, &st, "output_norm.weight", GGML_TYPE_F32, one, 1, 1, 32);
    static const char *map[][2] = {
        {"self_attn.q_proj", "attn_q"}, {"self_attn.k_proj", "attn_k"}, {"self_attn.v_proj", "attn_v"},
        {"self_attn.o_proj", "attn_output"}, {"self_attn.q_norm", "attn_q_norm"}, {"self_attn.k_norm", "attn_k_norm"},
        {"input_layernorm", "attn_norm"}, {"post_attention_layernorm", "ffn_norm"}, {"mlp.gate", "ffn_gate_inp"}};
    static const char *exps[][2] = {{"gate_proj", "ffn_gate_exps"}, {"up_proj", "ffn_up_exps"}, {"down_proj", "ffn_down_exps"}};
    char names[8][128], gg[96];
    const char *ptr[8];
    for (int l = 0; l < 2; l++) {
        for (int i = 0; i < 9; i++) {
            snprintf(names[0], sizeof names[0], "model.layers.%d.%s.weight", l, map[i][0]);
            snprintf(gg, sizeof gg, "blk.%d.%s.weight", l, map[i][1]);
            ptr[0] = names[0];
            int vec = i >= 4 && i < 8;
            ok &= tensor_matches(&g, &st, gg, vec || i == 8 ? GGML_TYPE_F32 : type, ptr, 1, vec ? 1 : i == 8 ? 8 : 32, 32);
        }
        for (int w = 0; w < 3; w++) {
            for (int e = 0; e < 8; e++) {
                snprintf(names[e], sizeof names[e], "model.layers.%d.mlp.experts.%d.%s.weight", l, e, exps[w][0]);
                ptr[e] = names[e];
            }
            snprintf(gg, sizeof gg, "blk.%d.%s.weight", l, exps[w][1]);
            ok &= tensor_matches(&g, &st, gg, type, ptr, 8, 32, 32);
        }
    }
    CHECK_MSG(ok, "tensors as %s (see above)", ggml_type_name(type));
    st_close(&st);
    gguf_free(&g);
    free(buf);
}
TEST(gguf_olmoe_f16) { check_olmoe(GGML_TYPE_F16); }
TEST(gguf_olmoe_bf16) { check_olmoe(GGML_TYPE_BF16); }
TEST(gguf_olmoe_q8_0) { check_olmoe(GGML_TYPE_Q8_0); }
TEST(gguf_olmoe_q4_0) { check_olmoe(GGML_TYPE_Q4_0); }

/* olmoe_fused holds olmoe_a's weights as gate_up_proj [E, 2I, d] / down_proj [E, d, I]: the same GGUF tensors. */
TEST(gguf_olmoe_fused_equals_per_expert) {
    struct gguf_file a, b;
    uint8_t *ba = export_read(FIX "olmoe_a", "a.gguf", GGML_TYPE_Q8_0, &a);
    CHECK_MSG(ba, "%s", olmo_errmsg());
    uint8_t *bb = export_read(FIX "olmoe_fused", "b.gguf", GGML_TYPE_Q8_0, &b);
    CHECK_MSG(bb, "%s", olmo_errmsg());
    CHECK_EQ_INT(a.n_tensors, b.n_tensors);
    int same = 1;
    for (uint64_t i = 0; i < a.n_tensors; i++) {
        const struct gguf_tensor *x = &a.tensors[i], *y = &b.tensors[i];
        if (x->name_len != y->name_len || memcmp(x->name, y->name, x->name_len) || x->type != y->type || x->ndim != y->ndim ||
            memcmp(x->dims, y->dims, sizeof x->dims) || x->nbytes != y->nbytes || memcmp(x->data, y->data, x->nbytes)) {
            printf("  tensor %llu (%.*s) differs\n", (unsigned long long)i, (int)x->name_len, x->name);
            same = 0;
        }
    }
    CHECK(same);
    gguf_free(&a);
    gguf_free(&b);
    free(ba);
    free(bb);
}

/* olmoe_a with one config.json line replaced (model.safetensors copied beside it); the export's error message. */
static const char *export_edited(const char *from, const char *to) {
    static char msg[1024];
    const char *tmp = th_tmpdir();
    char p[600], out[600];
    size_t n;
    char *cfg = olmo_read_file(FIX "olmoe_a/config.json", &n), *w = olmo_read_file(FIX "olmoe_a/model.safetensors", &n);
    char *at = cfg ? strstr(cfg, from) : NULL;
    if (!at || !w) { free(cfg); free(w); return "the fixture could not be read or lacks the line to edit"; }
    size_t cl = strlen(cfg), fl = strlen(from), tl = strlen(to);
    char *ed = malloc(cl - fl + tl + 1);
    memcpy(ed, cfg, (size_t)(at - cfg));
    memcpy(ed + (at - cfg), to, tl);
    memcpy(ed + (at - cfg) + tl, at + fl, cl - (size_t)(at - cfg) - fl + 1);
    snprintf(p, sizeof p, "%s/config.json", tmp);
    olmo_write_file_atomic(p, ed, strlen(ed));
    snprintf(p, sizeof p, "%s/model.safetensors", tmp);
    olmo_write_file_atomic(p, w, n);
    free(cfg);
    free(w);
    free(ed);
    snprintf(out, sizeof out, "%s/x.gguf", tmp);
    int rc = gguf_export_opts(tmp, out, GGML_TYPE_F16, &synth);
    snprintf(msg, sizeof msg, "%s", rc == 0 ? "(exported)" : olmo_file_exists(out) ? "(failed but left a file)" : olmo_errmsg());
    return msg;
}

TEST(gguf_olmoe_refusals) {
    char out[512];
    snprintf(out, sizeof out, "%s/x.gguf", th_tmpdir());
    CHECK(gguf_export_opts(FIX "olmoe_b", out, GGML_TYPE_F16, &synth) == -1);   /* clip_qkv 1.5, norm_topk_prob, GQA */
    CHECK_MSG(strstr(olmo_errmsg(), "clip_qkv 1.5"), "%s", olmo_errmsg());
    CHECK(!olmo_file_exists(out));
    const char *m = export_edited("\"norm_topk_prob\": false", "\"norm_topk_prob\": true");
    CHECK_MSG(strstr(m, "norm_topk_prob true"), "%s", m);
    m = export_edited("\"num_key_value_heads\": 4", "\"num_key_value_heads\": 2");
    CHECK_MSG(strstr(m, "2 key/value heads"), "%s", m);
    m = export_edited("\"num_experts\": 8", "\"num_experts\": 4");   /* the router [8, 32] no longer fits */
    CHECK_MSG(strstr(m, "mlp.gate.weight: dim 0 is 8, expected 4"), "%s", m);
    m = export_edited("\"intermediate_size\": 32", "\"intermediate_size\": 16");   /* experts [32, 32] */
    CHECK_MSG(strstr(m, "experts.0.gate_proj.weight: dim 0 is 32, expected 16"), "%s", m);
}
