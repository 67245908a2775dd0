/* test_gguf.c — GGUF export (formats/gguf_export.c) read back with the GGUF reader (formats/gguf.c).
 *
 *   - every type (f16, bf16, q8_0, q4_0): the architecture keys, the tokenizer (every id's string and type, the
 *     merges, the special ids), the tensor names and shapes, and every matrix dequantized against the checkpoint:
 *     f16/bf16 within their rounding, q8_0 within half a step, q4_0 bit-equal to olmo.c's own q4 of the same row
 *     (the same least-squares blocks);
 *   - OLMo-1: q and k rows permuted per head for llama.cpp's interleaved RoPE, and no norm tensors;
 *   - bad input to the reader: truncation at every length, a bad magic, a huge count, an unknown tensor type,
 *     a tensor beyond the data section; and to the export: a non-OLMo model type, a missing tokenizer. */
#include "harness.h"
#include "base/error.h"
#include "base/file.h"
#include "formats/gguf.h"
#include "formats/gguf_export.h"
#include "formats/safetensors.h"
#include "model/kernels/linear.h"

#include <stdlib.h>
#include <string.h>

#define FIX "tests/fixtures/model/"

static uint8_t *export_and_read(const char *dir, enum ggml_type t, struct gguf_file *g, size_t *len) {
    char out[512];
    snprintf(out, sizeof out, "%s/m.gguf", th_tmpdir());
    if (gguf_export(dir, out, t) != 0) return NULL;
    uint8_t *buf = (uint8_t *)olmo_read_file(out, len);
    if (buf && gguf_parse(g, buf, *len, out) != 0) { free(buf); return NULL; }
    return buf;
}

static int str_is(const struct gguf_kv *kv, uint64_t i, const char *want) {
    const char *s;
    size_t n;
    return gguf_string(kv, i, &s, &n) == 0 && n == strlen(want) && !memcmp(s, want, n);
}

static void check_type(enum ggml_type t) {
    struct gguf_file g;
    size_t len;
    uint8_t *buf = export_and_read(FIX "olmo2_gen", t, &g, &len);
    CHECK_MSG(buf, "%s", olmo_errmsg());
    struct st_set st;
    CHECK(st_open_dir(&st, FIX "olmo2_gen") == 0);
    uint32_t u;
    float f;
    CHECK(str_is(gguf_find(&g, "general.architecture"), 0, "olmo2"));
    CHECK(gguf_u32(gguf_find(&g, "olmo2.block_count"), &u) == 0 && u == 2);
    CHECK(gguf_u32(gguf_find(&g, "olmo2.attention.head_count_kv"), &u) == 0 && u == 2);
    CHECK(gguf_f32(gguf_find(&g, "olmo2.attention.layer_norm_rms_epsilon"), &f) == 0 && f == 1e-6f);
    CHECK(str_is(gguf_find(&g, "tokenizer.ggml.model"), 0, "gpt2"));
    CHECK(str_is(gguf_find(&g, "tokenizer.ggml.pre"), 0, "olmo"));   /* the fixture's ByteLevel pre-tokenizer */
    const struct gguf_kv *toks = gguf_find(&g, "tokenizer.ggml.tokens"), *types = gguf_find(&g, "tokenizer.ggml.token_type");
    CHECK(toks && types && toks->n == 272 && types->n == 272);
    CHECK(str_is(toks, 264, "<|endoftext|>"));
    int32_t ty;
    memcpy(&ty, types->val + 4 * 264, 4);
    CHECK_EQ_INT(ty, 3);   /* special added token: control */
    CHECK(gguf_u32(gguf_find(&g, "tokenizer.ggml.eos_token_id"), &u) == 0 && u == 264);
    CHECK(gguf_find(&g, "tokenizer.ggml.merges") && gguf_find(&g, "tokenizer.ggml.merges")->n > 0);
    CHECK_EQ_INT(g.n_tensors, 3 + 11 * 2);
    /* every matrix against its source */
    const char *pairs[][2] = {{"token_embd.weight", "model.embed_tokens.weight"}, {"blk.1.ffn_down.weight", "model.layers.1.mlp.down_proj.weight"},
                              {"blk.0.attn_q.weight", "model.layers.0.self_attn.q_proj.weight"}, {"output.weight", "lm_head.weight"},
                              {"blk.0.attn_q_norm.weight", "model.layers.0.self_attn.q_norm.weight"}};
    for (int p = 0; p < 5; p++) {
        const struct gguf_tensor *gt = gguf_find_tensor(&g, pairs[p][0]);
        const struct st_tensor *s = st_find(&st, pairs[p][1]);
        CHECK_MSG(gt && s, "%s", pairs[p][0]);
        uint64_t rows = s->ndim == 2 ? (uint64_t)s->shape[0] : 1, cols = (uint64_t)s->shape[s->ndim - 1];
        CHECK(gt->dims[0] == cols && (s->ndim == 1 || gt->dims[1] == rows));
        float *src = malloc(sizeof(float) * rows * cols);
        CHECK(st_tensor_to_f32(src, s, "fixture") == 0);
        uint64_t rb = gt->nbytes / rows;
        int ok = 1;
        for (uint64_t r = 0; r < rows && ok; r++) {
            const float *v = src + r * cols;
            int8_t q[32];
            uint16_t h;
            for (uint64_t j = 0; j < cols && ok; j++) {
                float got = ggml_row_at(gt->type, gt->data + r * rb, j), want = v[j];
                double tol = gt->type == GGML_TYPE_F32 ? 0 : gt->type == GGML_TYPE_F16 ? fabs(want) / 1024 + 6e-8
                           : gt->type == GGML_TYPE_BF16 ? fabs(want) / 128 : 0;
                if (gt->type == GGML_TYPE_Q8_0) {
                    float amax = 0;
                    for (int k = 0; k < 32; k++) amax = fmaxf(amax, fabsf(v[j / 32 * 32 + k]));
                    tol = amax / 127 * 0.5001 + 1e-7;
                }
                if (gt->type == GGML_TYPE_Q4_0) {   /* exactly olmo.c's q4 block */
                    linear_q4_block(v + j / 32 * 32, &h, q);
                    want = olmo_f16_to_f32(h) * q[j % 32];
                }
                if (!(fabs(got - want) <= tol)) {
                    ok = 0;
                    printf("  %s [%llu][%llu]: %g vs %g\n", pairs[p][0], (unsigned long long)r, (unsigned long long)j, got, want);
                }
            }
        }
        free(src);
        CHECK_MSG(ok, "%s as %s", pairs[p][0], ggml_type_name(t));
    }
    st_close(&st);
    gguf_free(&g);
    free(buf);
}
TEST(gguf_export_f16) { check_type(GGML_TYPE_F16); }
TEST(gguf_export_bf16) { check_type(GGML_TYPE_BF16); }
TEST(gguf_export_q8_0) { check_type(GGML_TYPE_Q8_0); }
TEST(gguf_export_q4_0) { check_type(GGML_TYPE_Q4_0); }

/* OLMo-1 with a synthetic GPT-NeoX-style tokenizer: permuted q/k rows, no norms, tied output copied. */
TEST(gguf_export_olmo1_permutes_qk) {
    const char *tmp = th_tmpdir();
    char p[600];
    size_t n;
    char *cfg = olmo_read_file(FIX "olmo1_f32_tied_clip/config.json", &n), *st_bytes;
    snprintf(p, sizeof p, "%s/config.json", tmp);
    CHECK(cfg && olmo_write_file_atomic(p, cfg, n) == 0);
    free(cfg);
    st_bytes = olmo_read_file(FIX "olmo1_f32_tied_clip/model.safetensors", &n);
    snprintf(p, sizeof p, "%s/model.safetensors", tmp);
    CHECK(st_bytes && olmo_write_file_atomic(p, st_bytes, n) == 0);
    free(st_bytes);
    char tok[4096];
    int k = snprintf(tok, sizeof tok, "{\"added_tokens\":[],\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,"
                                      "\"trim_offsets\":true,\"use_regex\":true},\"model\":{\"type\":\"BPE\",\"merges\":[[\"t1\",\"t2\"]],\"vocab\":{");
    for (int i = 0; i < 96; i++) k += snprintf(tok + k, sizeof tok - (size_t)k, "%s\"t%d\":%d", i ? "," : "", i, i);
    snprintf(tok + k, sizeof tok - (size_t)k, "}}}");
    snprintf(p, sizeof p, "%s/tokenizer.json", tmp);
    CHECK(olmo_write_file_atomic(p, tok, strlen(tok)) == 0);
    char out[600];
    snprintf(out, sizeof out, "%s/o.gguf", tmp);
    CHECK_MSG(gguf_export(tmp, out, GGML_TYPE_F16) == 0, "%s", olmo_errmsg());
    size_t len;
    uint8_t *buf = (uint8_t *)olmo_read_file(out, &len);
    struct gguf_file g;
    CHECK(buf && gguf_parse(&g, buf, len, out) == 0);
    CHECK(str_is(gguf_find(&g, "general.architecture"), 0, "olmo"));
    CHECK(str_is(gguf_find(&g, "tokenizer.ggml.merges"), 0, "t1 t2"));
    float clamp;
    CHECK(gguf_f32(gguf_find(&g, "olmo.attention.clamp_kqv"), &clamp) == 0 && clamp > 0);
    CHECK(gguf_find_tensor(&g, "output_norm.weight") == NULL && gguf_find_tensor(&g, "output.weight") != NULL);
    struct st_set st;
    snprintf(p, sizeof p, "%s/model.safetensors", tmp);
    CHECK(st_open(&st, p) == 0);
    const struct st_tensor *s = st_find(&st, "model.layers.0.self_attn.q_proj.weight");
    const struct gguf_tensor *gt = gguf_find_tensor(&g, "blk.0.attn_q.weight");
    CHECK(s && gt);
    int64_t rows = s->shape[0], cols = s->shape[1], hd = rows / 4;   /* 4 heads in the fixture */
    float *src = malloc(sizeof(float) * (size_t)(rows * cols));
    CHECK(st_tensor_to_f32(src, s, "fixture") == 0);
    int ok = 1;
    for (int64_t r = 0; r < rows; r++) {   /* GGUF row h·hd + 2i + j holds HF row h·hd + j·hd/2 + i */
        int64_t h = r / hd, kk = r % hd, from = h * hd + (kk % 2) * (hd / 2) + kk / 2;
        for (int64_t c = 0; c < cols; c++)
            if (fabs(ggml_row_at(gt->type, gt->data + (size_t)(r * cols * 2), (uint64_t)c) - src[from * cols + c]) > fabs(src[from * cols + c]) / 1024 + 6e-8) ok = 0;
    }
    CHECK(ok);
    free(src);
    st_close(&st);
    gguf_free(&g);
    free(buf);
}

TEST(gguf_reader_rejects_bad_files) {
    struct gguf_file g;
    size_t len;
    uint8_t *buf = export_and_read(FIX "olmo2_gen", GGML_TYPE_Q8_0, &g, &len);
    CHECK_MSG(buf, "%s", olmo_errmsg());
    gguf_free(&g);
    int accepted = 0;
    for (size_t cut = 0; cut < len; cut += cut < 4096 ? 1 : 997) {   /* every prefix of the header, then samples */
        uint8_t *b = malloc(cut ? cut : 1);
        memcpy(b, buf, cut);
        if (gguf_parse(&g, b, cut, "cut") == 0) { accepted++; gguf_free(&g); }
        free(b);
    }
    CHECK_EQ_INT(accepted, 0);
    buf[0] = 'X';
    CHECK(gguf_parse(&g, buf, len, "x") == -1 && strstr(olmo_errmsg(), "magic"));
    buf[0] = 'G';
    uint64_t huge = (uint64_t)1 << 60;
    uint8_t save[8];
    memcpy(save, buf + 16, 8);
    memcpy(buf + 16, &huge, 8);   /* key/value count */
    CHECK(gguf_parse(&g, buf, len, "x") == -1 && strstr(olmo_errmsg(), "cannot fit"));
    memcpy(buf + 16, save, 8);
    CHECK(gguf_parse(&g, buf, len, "x") == 0);
    /* the last tensor's type field: 4 + 8 bytes before the end of its info; make it unknown */
    const struct gguf_tensor *last = &g.tensors[g.n_tensors - 1];
    size_t at = (size_t)((const uint8_t *)last->name - buf) + last->name_len + 4 + 8 * last->ndim;
    gguf_free(&g);
    uint32_t bad = 99;
    memcpy(buf + at, &bad, 4);
    CHECK(gguf_parse(&g, buf, len, "x") == -1 && strstr(olmo_errmsg(), "type 99"));
    uint32_t q8 = GGML_TYPE_Q8_0;
    memcpy(buf + at, &q8, 4);
    uint64_t far = (uint64_t)len * 32;
    memcpy(buf + at + 4, &far, 8);   /* its offset: beyond the data section */
    CHECK(gguf_parse(&g, buf, len, "x") == -1 && strstr(olmo_errmsg(), "data section"));
    free(buf);
}

TEST(gguf_export_refuses_other_models) {
    char out[512];
    snprintf(out, sizeof out, "%s/x.gguf", th_tmpdir());
    CHECK(gguf_export(FIX "llama_f32_gqa", out, GGML_TYPE_F16) == -1);
    CHECK_MSG(strstr(olmo_errmsg(), "olmo, olmo2, olmo3 and olmoe"), "%s", olmo_errmsg());
    CHECK(gguf_export(FIX "olmo2_f32_gqa", out, GGML_TYPE_F16) == -1);   /* no tokenizer.json */
    CHECK_MSG(strstr(olmo_errmsg(), "tokenizer.json"), "%s", olmo_errmsg());
    CHECK(!olmo_file_exists(out));
    enum ggml_type t;
    CHECK(gguf_export_type_parse("q5_k", &t) == -1);
}
