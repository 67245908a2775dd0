/* peer_gguf.c — converts an OLMo-2 Hugging Face checkpoint directory into a GGUF file that llama.cpp loads, so
 * bench/llama_cpp_peer.sh can time llama.cpp on exactly the weights olmo.c runs (docs/bench-peers.md).
 *
 *   build/bench/peer_gguf DIR OUT.gguf [--type bf16|q8_0|q4_0]
 *
 * What is written (GGUF version 3, facts from ggml's GGUF description and llama.cpp's "olmo2" architecture):
 *   - metadata: general.architecture "olmo2", the shape (olmo2.embedding_length, block_count, ...), RoPE base,
 *     RMSNorm epsilon, and a synthetic tokenizer: "gpt2" model with one unique string per id (the GPT-2
 *     byte-to-character alphabet for the first 256 ids, "t<id>" after that) and no merges. The peer is fed token
 *     ids, never text, so the vocabulary only has to have the right size and load;
 *   - tensors in llama.cpp's names (token_embd, blk.N.attn_q, ..., blk.N.post_attention_norm, blk.N.post_ffw_norm,
 *     output_norm, output), dims innermost first (a HF [rows, cols] matrix is GGUF [cols, rows]);
 *   - matrices as BF16, or Q8_0: blocks of 32 weights along a row, an fp16 scale d = amax / 127 and 32 int8
 *     round(w / d) (34 bytes per block: llama.cpp's layout), or Q4_0: an fp16 d = m / -8 (m the block's value
 *     of largest magnitude) and 16 bytes of round(w / d) + 8 clamped to 15, values j and j + 16 in the low and
 *     high nibble of byte j (18 bytes per block, as llama.cpp's reference quantizer); norm vectors as F32.
 * The source may be F32, BF16 or F16; a tied checkpoint gets output = a copy of the embedding. Only model_type
 * olmo2 is converted (the benchmark's shape); anything else is refused with a message.
 * The file is written atomically (temp file + rename): a failed conversion leaves nothing under OUT. */
#include "base/error.h"
#include "base/file.h"
#include "formats/hf_config.h"
#include "formats/safetensors.h"
#include "model/kernels/linear.h"

#include <immintrin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { GGUF_U32 = 4, GGUF_I32 = 5, GGUF_F32 = 6, GGUF_BOOL = 7, GGUF_STRING = 8, GGUF_ARRAY = 9 };
enum { GGML_F32 = 0, GGML_Q4_0 = 2, GGML_Q8_0 = 8, GGML_BF16 = 30 };
enum { FTYPE_Q4_0 = 2, FTYPE_Q8_0 = 7, FTYPE_BF16 = 32 };   /* general.file_type: llama.cpp's "mostly" types */
#define ALIGN 32                            /* GGUF's default general.alignment */
#define QK 32                               /* Q8_0 block */

/* ---- little-endian primitives on a FILE (the header) ---- */
static void put_u32(FILE *f, uint32_t v) { fwrite(&v, 4, 1, f); }
static void put_u64(FILE *f, uint64_t v) { fwrite(&v, 8, 1, f); }
static void put_str(FILE *f, const char *s) { put_u64(f, strlen(s)); fwrite(s, 1, strlen(s), f); }
static void kv_u32(FILE *f, const char *k, uint32_t v) { put_str(f, k); put_u32(f, GGUF_U32); put_u32(f, v); }
static void kv_f32(FILE *f, const char *k, float v) { put_str(f, k); put_u32(f, GGUF_F32); fwrite(&v, 4, 1, f); }
static void kv_bool(FILE *f, const char *k, int v) { uint8_t b = (uint8_t)v; put_str(f, k); put_u32(f, GGUF_BOOL); fwrite(&b, 1, 1, f); }
static void kv_str(FILE *f, const char *k, const char *v) { put_str(f, k); put_u32(f, GGUF_STRING); put_str(f, v); }

/* ---- the tensors to write ---- */
struct out_tensor {
    char name[96];
    const struct st_tensor *src;
    int ggml_type;
    uint64_t rows, cols;        /* HF shape [rows, cols]; a vector has rows 1 */
    int ndim;
    uint64_t nbytes, offset;    /* in the data section */
};

static uint64_t tensor_bytes(int type, uint64_t rows, uint64_t cols) {
    if (type == GGML_F32) return rows * cols * 4;
    if (type == GGML_BF16) return rows * cols * 2;
    if (type == GGML_Q4_0) return rows * (cols / QK) * (2 + QK / 2);
    return rows * (cols / QK) * (2 + QK);
}

static float src_at(const struct st_tensor *t, uint64_t i) {
    if (t->dtype == ST_F32) { float v; memcpy(&v, (const uint8_t *)t->data + i * 4, 4); return v; }
    uint16_t h;
    memcpy(&h, (const uint8_t *)t->data + i * 2, 2);
    return t->dtype == ST_BF16 ? olmo_bf16_to_f32(h) : olmo_f16_to_f32(h);
}

/* One row of `cols` source values (from element `first`) encoded as `type` into buf. */
static void encode_row(const struct out_tensor *o, uint64_t first, uint8_t *buf, float *tmp) {
    for (uint64_t c = 0; c < o->cols; c++) tmp[c] = src_at(o->src, first + c);
    if (o->ggml_type == GGML_F32) { memcpy(buf, tmp, o->cols * 4); return; }
    if (o->ggml_type == GGML_BF16) {
        if (o->src->dtype == ST_BF16) { memcpy(buf, (const uint8_t *)o->src->data + first * 2, o->cols * 2); return; }
        for (uint64_t c = 0; c < o->cols; c++) { uint16_t h = olmo_f32_to_bf16(tmp[c]); memcpy(buf + 2 * c, &h, 2); }
        return;
    }
    if (o->ggml_type == GGML_Q4_0) {   /* Q4_0: d = m/-8 (m the value of largest magnitude), q = round(w/d) + 8 */
        for (uint64_t b = 0; b < o->cols / QK; b++) {
            const float *x = tmp + b * QK;
            float m = 0;
            for (int j = 0; j < QK; j++) if (fabsf(x[j]) > fabsf(m)) m = x[j];
            float d = m / -8.0f, id = d != 0 ? 1.0f / d : 0.0f;
            uint8_t *blk = buf + b * (2 + QK / 2);
            uint16_t dh = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
            memcpy(blk, &dh, 2);
            for (int j = 0; j < QK / 2; j++) {   /* low nibbles: values 0..15, high nibbles: 16..31 (ggml's order) */
                int q0 = (int)(x[j] * id + 8.5f), q1 = (int)(x[j + QK / 2] * id + 8.5f);
                blk[2 + j] = (uint8_t)((q0 > 15 ? 15 : q0) | (q1 > 15 ? 15 : q1) << 4);
            }
        }
        return;
    }
    for (uint64_t b = 0; b < o->cols / QK; b++) {   /* Q8_0: d = amax/127 stored as fp16, q = round(w/d) */
        const float *x = tmp + b * QK;
        float amax = 0;
        for (int j = 0; j < QK; j++) amax = fmaxf(amax, fabsf(x[j]));
        float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
        uint8_t *blk = buf + b * (2 + QK);
        uint16_t dh = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
        memcpy(blk, &dh, 2);
        for (int j = 0; j < QK; j++) blk[2 + j] = (uint8_t)(int8_t)roundf(x[j] * id);
    }
}

/* The GPT-2 byte-level alphabet: byte b's printable stand-in character, as UTF-8 into out (NUL-terminated). */
static void byte_char(int b, char *out) {
    int printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    int cp = b;
    if (!printable) {   /* the non-printable bytes map, in order, to U+0100 and on */
        int n = 0;
        for (int k = 0; k < b; k++)
            if (!((k >= '!' && k <= '~') || (k >= 0xA1 && k <= 0xAC) || (k >= 0xAE && k <= 0xFF))) n++;
        cp = 256 + n;
    }
    if (cp < 0x80) { out[0] = (char)cp; out[1] = 0; }
    else { out[0] = (char)(0xC0 | (cp >> 6)); out[1] = (char)(0x80 | (cp & 0x3F)); out[2] = 0; }
}

static const char *token_text(const struct olmo_config *c, int id, char *buf, size_t n) {
    if (id == c->eos_token_id) return "<|endoftext|>";
    if (id == c->pad_token_id) return "<|pad|>";
    if (id == c->bos_token_id) return "<|bos|>";
    if (id < 256) { byte_char(id, buf); return buf; }
    snprintf(buf, n, "t%d", id);
    return buf;
}

static int add(struct out_tensor *o, int *n, const struct st_set *st, const char *hf, const char *gg, int type) {
    const struct st_tensor *t = st_find(st, hf);
    if (!t) return olmo_err("peer_gguf: tensor %s missing from the checkpoint", hf);
    if (t->dtype != ST_F32 && t->dtype != ST_BF16 && t->dtype != ST_F16)
        return olmo_err("peer_gguf: tensor %s: expected F32, BF16 or F16, found %s", hf, st_dtype_name(t->dtype));
    if (t->ndim != 1 && t->ndim != 2) return olmo_err("peer_gguf: tensor %s: expected 1 or 2 dims, found %d", hf, t->ndim);
    struct out_tensor *x = &o[(*n)++];
    snprintf(x->name, sizeof x->name, "%s", gg);
    x->src = t;
    x->ndim = t->ndim;
    x->rows = t->ndim == 2 ? (uint64_t)t->shape[0] : 1;
    x->cols = (uint64_t)t->shape[t->ndim - 1];
    x->ggml_type = t->ndim == 1 ? GGML_F32 : type;
    if ((x->ggml_type == GGML_Q8_0 || x->ggml_type == GGML_Q4_0) && x->cols % QK)
        return olmo_err("peer_gguf: tensor %s: Q8_0 and Q4_0 need rows of a multiple of %d values, found %llu", hf, QK,
                        (unsigned long long)x->cols);
    x->nbytes = tensor_bytes(x->ggml_type, x->rows, x->cols);
    return 0;
}

static void pad(FILE *f) {
    static const uint8_t zero[ALIGN];
    long p = ftell(f);
    if (p % ALIGN) fwrite(zero, 1, (size_t)(ALIGN - p % ALIGN), f);
}

static int convert(const char *dir, const char *out, int type) {
    char *cfg_path = olmo_path_join(dir, "config.json");
    struct olmo_config c;
    int rc = cfg_path ? hf_config_load(&c, cfg_path) : olmo_err("peer_gguf: out of memory");
    free(cfg_path);
    if (rc) return -1;
    if (c.arch != ARCH_OLMO2)
        return olmo_err("peer_gguf: %s: model_type %s, but only olmo2 is converted", dir, hf_model_type(c.arch));
    struct st_set st;
    if (st_open_dir(&st, dir)) return -1;
    int cap = 3 + 11 * c.n_layers, n = 0;
    struct out_tensor *o = calloc((size_t)cap, sizeof *o);
    if (!o) { st_close(&st); return olmo_err("peer_gguf: out of memory"); }
    rc = add(o, &n, &st, "model.embed_tokens.weight", "token_embd.weight", type);
    if (rc == 0) rc = add(o, &n, &st, "model.norm.weight", "output_norm.weight", type);
    if (rc == 0) rc = add(o, &n, &st, c.tie_embeddings ? "model.embed_tokens.weight" : "lm_head.weight", "output.weight", type);
    static const char *map[][2] = {
        {"self_attn.q_proj", "attn_q"}, {"self_attn.k_proj", "attn_k"}, {"self_attn.v_proj", "attn_v"},
        {"self_attn.o_proj", "attn_output"}, {"self_attn.q_norm", "attn_q_norm"}, {"self_attn.k_norm", "attn_k_norm"},
        {"post_attention_layernorm", "post_attention_norm"}, {"mlp.gate_proj", "ffn_gate"}, {"mlp.up_proj", "ffn_up"},
        {"mlp.down_proj", "ffn_down"}, {"post_feedforward_layernorm", "post_ffw_norm"}};
    for (int l = 0; l < c.n_layers && rc == 0; l++)
        for (int i = 0; i < 11 && rc == 0; i++) {
            char hf[128], gg[96];
            snprintf(hf, sizeof hf, "model.layers.%d.%s.weight", l, map[i][0]);
            snprintf(gg, sizeof gg, "blk.%d.%s.weight", l, map[i][1]);
            rc = add(o, &n, &st, hf, gg, type);
        }
    if (rc) { free(o); st_close(&st); return -1; }

    struct olmo_atomic_file af;
    if (olmo_atomic_open(&af, out)) { free(o); st_close(&st); return -1; }
    FILE *f = af.fp;
    fwrite("GGUF", 1, 4, f);
    put_u32(f, 3);
    put_u64(f, (uint64_t)n);
    int n_kv = 21 + (c.bos_token_id >= 0) + (c.eos_token_id >= 0) + (c.pad_token_id >= 0);
    put_u64(f, (uint64_t)n_kv);
    kv_str(f, "general.architecture", "olmo2");
    kv_str(f, "general.name", "olmo.c benchmark peer");
    kv_u32(f, "general.file_type", type == GGML_Q8_0 ? FTYPE_Q8_0 : type == GGML_Q4_0 ? FTYPE_Q4_0 : FTYPE_BF16);
    kv_u32(f, "general.alignment", ALIGN);
    kv_u32(f, "olmo2.context_length", (uint32_t)c.max_seq_len);
    kv_u32(f, "olmo2.embedding_length", (uint32_t)c.d_model);
    kv_u32(f, "olmo2.block_count", (uint32_t)c.n_layers);
    kv_u32(f, "olmo2.feed_forward_length", (uint32_t)c.d_ff);
    kv_u32(f, "olmo2.attention.head_count", (uint32_t)c.n_heads);
    kv_u32(f, "olmo2.attention.head_count_kv", (uint32_t)c.n_kv_heads);
    kv_u32(f, "olmo2.attention.key_length", (uint32_t)c.head_dim);
    kv_u32(f, "olmo2.attention.value_length", (uint32_t)c.head_dim);
    kv_u32(f, "olmo2.rope.dimension_count", (uint32_t)c.head_dim);
    kv_f32(f, "olmo2.rope.freq_base", c.rope_theta);
    kv_f32(f, "olmo2.attention.layer_norm_rms_epsilon", c.norm_eps);
    kv_str(f, "tokenizer.ggml.model", "gpt2");
    kv_str(f, "tokenizer.ggml.pre", "default");
    kv_bool(f, "tokenizer.ggml.add_bos_token", 0);
    /* tokens, their types (1 normal, 3 control for the special ids) and an empty merge list */
    put_str(f, "tokenizer.ggml.tokens");
    put_u32(f, GGUF_ARRAY); put_u32(f, GGUF_STRING); put_u64(f, (uint64_t)c.vocab_size);
    for (int id = 0; id < c.vocab_size; id++) { char b[32]; put_str(f, token_text(&c, id, b, sizeof b)); }
    put_str(f, "tokenizer.ggml.token_type");
    put_u32(f, GGUF_ARRAY); put_u32(f, GGUF_I32); put_u64(f, (uint64_t)c.vocab_size);
    for (int id = 0; id < c.vocab_size; id++) {
        int32_t ty = id == c.eos_token_id || id == c.pad_token_id || id == c.bos_token_id ? 3 : 1;
        fwrite(&ty, 4, 1, f);
    }
    put_str(f, "tokenizer.ggml.merges");
    put_u32(f, GGUF_ARRAY); put_u32(f, GGUF_STRING); put_u64(f, 0);
    if (c.bos_token_id >= 0) kv_u32(f, "tokenizer.ggml.bos_token_id", (uint32_t)c.bos_token_id);
    if (c.eos_token_id >= 0) kv_u32(f, "tokenizer.ggml.eos_token_id", (uint32_t)c.eos_token_id);
    if (c.pad_token_id >= 0) kv_u32(f, "tokenizer.ggml.padding_token_id", (uint32_t)c.pad_token_id);

    uint64_t off = 0;
    for (int i = 0; i < n; i++) {   /* tensor infos: name, dims (innermost first), type, offset in the data */
        put_str(f, o[i].name);
        put_u32(f, (uint32_t)o[i].ndim);
        put_u64(f, o[i].cols);
        if (o[i].ndim == 2) put_u64(f, o[i].rows);
        put_u32(f, (uint32_t)o[i].ggml_type);
        o[i].offset = off;
        put_u64(f, off);
        off += (o[i].nbytes + ALIGN - 1) / ALIGN * ALIGN;
    }
    pad(f);
    uint64_t maxcols = 0;
    for (int i = 0; i < n; i++) if (o[i].cols > maxcols) maxcols = o[i].cols;
    uint8_t *row = malloc(maxcols * 4);
    float *tmp = malloc(maxcols * 4);
    if (!row || !tmp) rc = olmo_err("peer_gguf: out of memory");
    for (int i = 0; i < n && rc == 0; i++) {
        uint64_t rb = o[i].nbytes / o[i].rows;
        for (uint64_t r = 0; r < o[i].rows; r++) {
            encode_row(&o[i], r * o[i].cols, row, tmp);
            fwrite(row, 1, rb, f);
        }
        pad(f);
    }
    free(row);
    free(tmp);
    if (rc == 0 && ferror(f)) rc = olmo_err("peer_gguf: write error on %s", out);
    if (rc == 0) rc = olmo_atomic_commit(&af);
    else olmo_atomic_abort(&af);
    if (rc == 0)
        fprintf(stderr, "peer_gguf: %s: %d tensors, %s, %.2f GB of tensor data\n", out, n,
                type == GGML_Q8_0 ? "Q8_0" : type == GGML_Q4_0 ? "Q4_0" : "BF16", (double)off / 1e9);
    free(o);
    st_close(&st);
    return rc;
}

int main(int argc, char **argv) {
    int type = GGML_BF16;
    if (argc == 5 && !strcmp(argv[3], "--type")) {
        if (!strcmp(argv[4], "q8_0") || !strcmp(argv[4], "q8")) type = GGML_Q8_0;
        else if (!strcmp(argv[4], "q4_0") || !strcmp(argv[4], "q4")) type = GGML_Q4_0;
        else if (strcmp(argv[4], "bf16")) { fprintf(stderr, "peer_gguf: --type bf16, q8_0 or q4_0, not %s\n", argv[4]); return 2; }
    } else if (argc != 3) {
        fprintf(stderr, "usage: peer_gguf DIR OUT.gguf [--type bf16|q8_0|q4_0]\n");
        return 2;
    }
    if (convert(argv[1], argv[2], type)) { fprintf(stderr, "%s\n", olmo_errmsg()); return 1; }
    return 0;
}
