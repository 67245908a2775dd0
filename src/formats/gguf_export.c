/* gguf_export.c — a Hugging Face OLMo checkpoint as GGUF (gguf_export.h, docs/gguf.md).
 *
 * Names and keys are llama.cpp's for its "olmo", "olmo2" and "olmoe" architectures: token_embd,
 * blk.N.attn_{q,k,v,output}, blk.N.ffn_{gate,up,down}, output (a copy of the embedding when tied), and for OLMo-2
 * blk.N.attn_{q,k}_norm, blk.N.post_attention_norm, blk.N.post_ffw_norm, output_norm; for OLMoE (collect_olmoe)
 * attn_norm / ffn_norm, the router ffn_gate_inp and the experts stacked as 3-D ffn_{gate,up,down}_exps with
 * <arch>.expert_count / expert_used_count; OLMo-3 is llama.cpp's "olmo2" plus sliding-window keys and YaRN
 * (olmo3_supported); dims innermost first. llama.cpp runs "olmo" with
 * the interleaved RoPE (pairs of neighbouring values), HF OLMo-1 with rotate-half, so the q and k rows of each head
 * are permuted as llama.cpp's converter does (row 2i+j of a head <- row j·hd/2+i); "olmo2" and "olmoe" use
 * rotate-half as HF.
 * Tokenizer: "gpt2" (byte-level BPE) with every id's string, type (1 normal, 3 control = special added token,
 * 4 user-defined = other added token, 5 unused = an id the tokenizer lacks, written "[PAD<id>]"), the merges as
 * "a b", the config's bos/eos/pad ids, and the pre-tokenizer llama.cpp expects for OLMo's tokenizers: "olmo" for
 * the GPT-NeoX style (ByteLevel with its own regex), "dbrx" for the cl100k-style Split regex of dolma2 (OLMo-2).
 * Q4_0 blocks use olmo.c's least-squares scale (linear_q4_block: the same d·(q-8) format, smaller error than the
 * reference rounding); Q8_0 uses amax/127. */
#include "formats/gguf_export.h"
#include "base/error.h"
#include "base/file.h"
#include "base/half.h"
#include "base/mem.h"
#include "formats/hf_config.h"
#include "formats/safetensors.h"
#include "model/kernels/linear.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gguf_export_type_parse(const char *s, enum ggml_type *t) {
    if (!strcmp(s, "f16")) *t = GGML_TYPE_F16;
    else if (!strcmp(s, "bf16")) *t = GGML_TYPE_BF16;
    else if (!strcmp(s, "q8_0")) *t = GGML_TYPE_Q8_0;
    else if (!strcmp(s, "q4_0")) *t = GGML_TYPE_Q4_0;
    else return olmo_err("unknown GGUF type '%s' (expected f16, bf16, q8_0 or q4_0)", s);
    return 0;
}

struct out_tensor {
    int q4_reference;    /* Q4_0 rounded as llama.cpp's reference quantizer (gguf_export_opts) */
    char name[96];
    const struct st_tensor *src;       /* the source; for stacked experts from a fused tensor, that tensor */
    const struct st_tensor **experts;  /* stacked experts from per-expert tensors: n_expert of them, else NULL */
    enum ggml_type type;
    uint64_t rows, cols;               /* one matrix (per expert when stacked) */
    uint64_t n_expert;                 /* > 0: a 3-D stack of n_expert matrices (llama.cpp's *_exps) */
    uint64_t fused_stride, fused_off;  /* fused source: expert e's row i is source row e·fused_stride + fused_off + i */
    int ndim;
    int permute_heads;   /* > 0: OLMo-1 q/k rows permuted per head of this many heads */
    uint64_t nbytes, offset;
};

static float src_at(const struct st_tensor *t, uint64_t i) {
    if (t->dtype == ST_F32) { float v; memcpy(&v, (const uint8_t *)t->data + i * 4, 4); return v; }
    uint16_t h;
    memcpy(&h, (const uint8_t *)t->data + i * 2, 2);
    return t->dtype == ST_BF16 ? olmo_bf16_to_f32(h) : olmo_f16_to_f32(h);
}

/* llama.cpp's reference Q4_0 rounding: d = m/-8 for the value m of largest magnitude, q = round(v/d) clamped. */
static void q4_reference_block(const float *v, uint16_t *h, int8_t *q) {
    float m = 0;
    for (int j = 0; j < 32; j++) if (fabsf(v[j]) > fabsf(m)) m = v[j];
    float d = m / -8.0f, id = d != 0 ? 1.0f / d : 0.0f;
    *h = olmo_f32_to_f16(d);
    for (int j = 0; j < 32; j++) {
        int t = (int)(v[j] * id + 8.5f);
        q[j] = (int8_t)((t > 15 ? 15 : t) - 8);
    }
}

/* Row r of the output tensor, encoded into buf. 0, or -1 when a block cannot be represented. */
static int encode_row(const struct out_tensor *o, uint64_t r, uint8_t *buf, float *x) {
    uint64_t src_row = r;
    const struct st_tensor *src = o->src;
    if (o->permute_heads > 0) {   /* within a head of hd rows: output row 2i+j comes from row j·hd/2+i */
        uint64_t hd = o->rows / (uint64_t)o->permute_heads, h = r / hd, k = r % hd;
        src_row = h * hd + (k % 2) * (hd / 2) + k / 2;
    }
    if (o->n_expert > 0) {        /* row r of the stack: row r % rows of expert r / rows */
        uint64_t e = r / o->rows, i = r % o->rows;
        if (o->experts) { src = o->experts[e]; src_row = i; }
        else src_row = e * o->fused_stride + o->fused_off + i;
    }
    for (uint64_t c = 0; c < o->cols; c++) x[c] = src_at(src, src_row * o->cols + c);
    switch (o->type) {
    case GGML_TYPE_F32: memcpy(buf, x, o->cols * 4); return 0;
    case GGML_TYPE_F16:
    case GGML_TYPE_BF16:
        for (uint64_t c = 0; c < o->cols; c++) {
            uint16_t h = o->type == GGML_TYPE_F16 ? olmo_f32_to_f16(x[c]) : olmo_f32_to_bf16(x[c]);
            memcpy(buf + 2 * c, &h, 2);
        }
        return 0;
    case GGML_TYPE_Q8_0:
        for (uint64_t b = 0; b < o->cols / 32; b++) {
            const float *v = x + b * 32;
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(v[j]));
            uint16_t h = olmo_f32_to_f16(amax / 127.0f);
            float d = olmo_f16_to_f32(h), id = d > 0 ? 1.0f / d : 0.0f;
            if (!isfinite(d)) return -1;
            uint8_t *blk = buf + b * 34;
            memcpy(blk, &h, 2);
            for (int j = 0; j < 32; j++) {
                long q = lrintf(v[j] * id);
                blk[2 + j] = (uint8_t)(int8_t)(q > 127 ? 127 : q < -127 ? -127 : q);
            }
        }
        return 0;
    case GGML_TYPE_Q4_0:
        for (uint64_t b = 0; b < o->cols / 32; b++) {
            uint8_t *blk = buf + b * 18;
            uint16_t h;
            int8_t q[32];
            if (o->q4_reference) q4_reference_block(x + b * 32, &h, q);
            else if (!linear_q4_block(x + b * 32, &h, q)) return -1;
            memcpy(blk, &h, 2);
            for (int j = 0; j < 16; j++) blk[2 + j] = (uint8_t)((q[j] + 8) | (q[j + 16] + 8) << 4);
        }
        return 0;
    }
    return -1;
}

/* The checkpoint tensor hf: F32, BF16 or F16, of ndim dims; shape[] checked where want_shape is non-NULL. */
static const struct st_tensor *source(const struct st_set *st, const char *hf, int ndim, const int64_t *want_shape) {
    const struct st_tensor *t = st_find(st, hf);
    if (!t) { olmo_err("tensor %s is missing from the checkpoint", hf); return NULL; }
    if (t->dtype != ST_F32 && t->dtype != ST_BF16 && t->dtype != ST_F16) {
        olmo_err("tensor %s: expected F32, BF16 or F16, found %s (export from the unquantized checkpoint)", hf, st_dtype_name(t->dtype));
        return NULL;
    }
    if (ndim ? t->ndim != ndim : t->ndim != 1 && t->ndim != 2) {
        olmo_err("tensor %s: expected %s dims, found %d", hf, ndim == 3 ? "3" : ndim == 2 ? "2" : "1 or 2", t->ndim);
        return NULL;
    }
    for (int i = 0; want_shape && i < t->ndim; i++)
        if (t->shape[i] != want_shape[i]) {
            olmo_err("tensor %s: dim %d is %lld, expected %lld from config.json", hf, i, (long long)t->shape[i], (long long)want_shape[i]);
            return NULL;
        }
    return t;
}

/* Checks that x's rows split into whole blocks of its type and sets its byte size. */
static int finish(struct out_tensor *x, const char *hf) {
    if ((x->type == GGML_TYPE_Q8_0 || x->type == GGML_TYPE_Q4_0) && x->cols % 32)
        return olmo_err("tensor %s: %s needs rows of a multiple of 32 values, found %llu", hf, ggml_type_name(x->type), (unsigned long long)x->cols);
    if (x->permute_heads > 0 && x->rows % (uint64_t)(2 * x->permute_heads))
        return olmo_err("tensor %s: %llu rows do not split into %d heads of even size", hf, (unsigned long long)x->rows, x->permute_heads);
    x->nbytes = x->rows * (x->n_expert ? x->n_expert : 1) * ggml_type_bytes(x->type, x->cols);
    return 0;
}

/* rows, cols > 0: the shape config.json implies ([cols] for a vector), checked; 0: taken as found. */
static int add(struct out_tensor *o, int *n, const struct st_set *st, const char *hf, const char *gg, enum ggml_type type,
               int permute_heads, int64_t rows, int64_t cols) {
    int64_t want[2] = {rows, cols};
    const struct st_tensor *t = source(st, hf, cols ? (rows ? 2 : 1) : 0, cols ? (rows ? want : want + 1) : NULL);
    if (!t) return -1;
    struct out_tensor *x = &o[(*n)++];
    snprintf(x->name, sizeof x->name, "%s", gg);
    x->src = t;
    x->ndim = t->ndim;
    x->rows = t->ndim == 2 ? (uint64_t)t->shape[0] : 1;
    x->cols = (uint64_t)t->shape[t->ndim - 1];
    x->type = t->ndim == 1 ? GGML_TYPE_F32 : type;
    x->permute_heads = permute_heads;
    return finish(x, hf);
}

/* blk.l.ffn_{gate,up,down}_exps (which = 0, 1, 2): layer l's experts of one kind stacked on a third dimension
 * (GGUF dims {cols, rows, n_experts}: expert e is the e-th matrix, as llama.cpp's converter stacks them). From
 * per-expert tensors mlp.experts.E.{gate,up,down}_proj.weight (hub releases; slots gets the n_experts of them) or
 * the fused mlp.experts.gate_up_proj [E, 2I, d] (per expert gate rows, then up rows) / mlp.experts.down_proj
 * [E, d, I] of transformers v5 (spec addendum §5). */
static int add_experts(struct out_tensor *o, int *n, const struct st_set *st, const struct olmo_config *c, int l, int which,
                       const struct st_tensor **slots, enum ggml_type type) {
    static const char *proj[] = {"gate_proj", "up_proj", "down_proj"}, *gg[] = {"ffn_gate_exps", "ffn_up_exps", "ffn_down_exps"};
    int64_t E = c->n_experts, d = c->d_model, I = c->d_ff, rows = which == 2 ? d : I, cols = which == 2 ? I : d;
    char hf[160];
    struct out_tensor *x = &o[*n];
    memset(x, 0, sizeof *x);
    snprintf(x->name, sizeof x->name, "blk.%d.%s.weight", l, gg[which]);
    snprintf(hf, sizeof hf, "model.layers.%d.mlp.experts.%s", l, which == 2 ? "down_proj" : "gate_up_proj");
    if (st_find(st, hf)) {
        int64_t want[3] = {E, which == 2 ? d : 2 * I, cols};
        if (!(x->src = source(st, hf, 3, want))) return -1;
        x->fused_stride = (uint64_t)want[1];
        x->fused_off = which == 1 ? (uint64_t)I : 0;
    } else {
        int64_t want[2] = {rows, cols};
        for (int64_t e = 0; e < E; e++) {
            snprintf(hf, sizeof hf, "model.layers.%d.mlp.experts.%lld.%s.weight", l, (long long)e, proj[which]);
            if (!(slots[e] = source(st, hf, 2, want)))
                return olmo_err_prefix("layer %d expert %lld (neither per-expert tensors nor the fused mlp.experts.%s): ",
                                       l, (long long)e, which == 2 ? "down_proj" : "gate_up_proj");
        }
        x->experts = slots;
    }
    x->ndim = 3;
    x->rows = (uint64_t)rows;
    x->cols = (uint64_t)cols;
    x->n_expert = (uint64_t)E;
    x->type = type;
    (*n)++;
    return finish(x, x->name);
}

/* ---- tokenizer ---- */
struct vocab { const char **tok; int *type; int n; json_t *root; const char *pre; char *names; };

/* The GPT-2 byte-level alphabet: byte b's printable stand-in character, as UTF-8 into out (NUL-terminated). */
static void byte_char(int b, char *out) {
#define PRINTABLE(k) (((k) >= '!' && (k) <= '~') || ((k) >= 0xA1 && (k) <= 0xAC) || ((k) >= 0xAE && (k) <= 0xFF))
    int cp = b;
    if (!PRINTABLE(b)) {   /* the non-printable bytes map, in order, to U+0100 and on */
        int n = 0;
        for (int k = 0; k < b; k++) n += !PRINTABLE(k);
        cp = 256 + n;
    }
#undef PRINTABLE
    if (cp < 0x80) { out[0] = (char)cp; out[1] = 0; }
    else { out[0] = (char)(0xC0 | (cp >> 6)); out[1] = (char)(0x80 | (cp & 0x3F)); out[2] = 0; }
}

/* gguf_export_opts.synthetic_vocab: strings owned by v->names (one block), the config's special ids as control */
static int synthetic_vocab(struct vocab *v, const struct olmo_config *c) {
    v->n = c->vocab_size;
    v->pre = "default";
    v->tok = olmo_calloc((size_t)v->n, sizeof *v->tok);
    v->type = olmo_calloc((size_t)v->n, sizeof *v->type);
    v->names = olmo_malloc((size_t)v->n * 16);
    if (!v->tok || !v->type || !v->names) return -1;
    for (int id = 0; id < v->n; id++) {
        char *s = v->names + (size_t)id * 16;
        int special = id == c->eos_token_id || id == c->pad_token_id || id == c->bos_token_id;
        if (id == c->eos_token_id) snprintf(s, 16, "<|endoftext|>");
        else if (id == c->pad_token_id) snprintf(s, 16, "<|pad|>");
        else if (id == c->bos_token_id) snprintf(s, 16, "<|bos|>");
        else if (id < 256) byte_char(id, s);
        else snprintf(s, 16, "t%d", id);
        v->tok[id] = s;
        v->type[id] = special ? 3 : 1;
    }
    return 0;
}

static int load_vocab(struct vocab *v, const char *dir, int n_vocab) {
    memset(v, 0, sizeof *v);
    char *path = olmo_path_join(dir, "tokenizer.json");
    if (!path) return -1;
    json_error_t je;
    v->root = json_load_file(path, 0, &je);
    if (!v->root) { olmo_err("%s: line %d: %s", path, je.line, je.text); free(path); return -1; }
    json_t *model = json_object_get(v->root, "model"), *vocab = json_object_get(model, "vocab");
    json_t *type = json_object_get(model, "type");
    if (!json_is_object(vocab) || (type && !(json_is_string(type) && !strcmp(json_string_value(type), "BPE")))) {
        olmo_err("%s: expected a BPE model with a vocab object (byte-level BPE as OLMo's tokenizers)", path);
        free(path);
        return -1;
    }
    /* the pre-tokenizer: a Split with the cl100k-style \p{N}{1,3} regex (dolma2), or a plain ByteLevel (GPT-NeoX) */
    const char *pre = NULL;
    char *pt = json_dumps(json_object_get(v->root, "pre_tokenizer"), JSON_COMPACT);
    if (pt && strstr(pt, "\"Split\"") && strstr(pt, "\\\\p{N}{1,3}")) pre = "dbrx";
    else if (pt && strstr(pt, "\"ByteLevel\"") && !strstr(pt, "\"Split\"") && strstr(pt, "\"use_regex\":true")) pre = "olmo";
    if (!pre) {
        olmo_err("%s: pre-tokenizer %.200s is neither OLMo's GPT-NeoX ByteLevel nor dolma2's cl100k-style Split; "
                 "llama.cpp would split text differently", path, pt ? pt : "(none)");
        free(pt);
        free(path);
        return -1;
    }
    free(pt);
    v->pre = pre;
    v->n = n_vocab;
    v->tok = olmo_calloc((size_t)n_vocab, sizeof *v->tok);
    v->type = olmo_calloc((size_t)n_vocab, sizeof *v->type);
    if (!v->tok || !v->type) { free(path); return -1; }
    const char *k;
    json_t *val;
    json_object_foreach(vocab, k, val) {
        json_int_t id = json_is_integer(val) ? json_integer_value(val) : -1;
        if (id < 0 || id >= n_vocab) { olmo_err("%s: token '%.40s' has id %lld outside the model's %d embedding rows", path, k, (long long)id, n_vocab); free(path); return -1; }
        v->tok[id] = k;
        v->type[id] = 1;
    }
    size_t i;
    json_array_foreach(json_object_get(v->root, "added_tokens"), i, val) {
        json_int_t id = json_integer_value(json_object_get(val, "id"));
        const char *c = json_string_value(json_object_get(val, "content"));
        if (!c || id < 0 || id >= n_vocab) { olmo_err("%s: added token %zu has no content or id %lld outside [0, %d)", path, i, (long long)id, n_vocab); free(path); return -1; }
        v->tok[id] = c;
        v->type[id] = json_is_true(json_object_get(val, "special")) ? 3 : 4;
    }
    free(path);
    return 0;
}

static void free_vocab(struct vocab *v) {
    free(v->tok);
    free(v->type);
    free(v->names);
    if (v->root) json_decref(v->root);
    memset(v, 0, sizeof *v);
}

/* The merges as "a b" strings (tokenizer.json has either that or [a, b] pairs). */
static int write_merges(FILE *f, json_t *merges) {
    gguf_w_kv_array(f, "tokenizer.ggml.merges", GGUF_T_STRING, json_array_size(merges));
    size_t i;
    json_t *m;
    json_array_foreach(merges, i, m) {
        if (json_is_string(m)) gguf_w_str(f, json_string_value(m), json_string_length(m));
        else if (json_is_array(m) && json_array_size(m) == 2 && json_is_string(json_array_get(m, 0)) && json_is_string(json_array_get(m, 1))) {
            const char *a = json_string_value(json_array_get(m, 0)), *b = json_string_value(json_array_get(m, 1));
            size_t la = strlen(a), lb = strlen(b);
            char *s = olmo_malloc(la + lb + 2);
            if (!s) return -1;
            memcpy(s, a, la);
            s[la] = ' ';
            memcpy(s + la + 1, b, lb + 1);
            gguf_w_str(f, s, la + lb + 1);
            free(s);
        } else return olmo_err("tokenizer.json: merge %zu is neither \"a b\" nor [\"a\", \"b\"]", i);
    }
    return 0;
}

/* The key/value section into f; *n_kv gets how many were written. */
static int write_kvs(FILE *f, const struct olmo_config *c, const char *arch, const char *name, enum ggml_type type,
                     struct vocab *v, const char *chat_template, uint64_t *n_kv) {
    char k[128];
    uint64_t n = 0;
#define KEY(fmt) (snprintf(k, sizeof k, fmt, arch), n++, k)
    gguf_w_kv_str(f, "general.architecture", arch); n++;
    gguf_w_kv_str(f, "general.name", name); n++;
    uint32_t ftype = type == GGML_TYPE_F16 ? 1 : type == GGML_TYPE_Q4_0 ? 2 : type == GGML_TYPE_Q8_0 ? 7 : 32;
    gguf_w_kv_u32(f, "general.file_type", ftype); n++;
    gguf_w_kv_u32(f, "general.alignment", GGUF_DEFAULT_ALIGN); n++;
    if (type == GGML_TYPE_Q4_0 || type == GGML_TYPE_Q8_0) { gguf_w_kv_u32(f, "general.quantization_version", 2); n++; }
    gguf_w_kv_u32(f, KEY("%s.context_length"), (uint32_t)c->max_seq_len);
    gguf_w_kv_u32(f, KEY("%s.embedding_length"), (uint32_t)c->d_model);
    gguf_w_kv_u32(f, KEY("%s.block_count"), (uint32_t)c->n_layers);
    gguf_w_kv_u32(f, KEY("%s.feed_forward_length"), (uint32_t)c->d_ff);
    gguf_w_kv_u32(f, KEY("%s.attention.head_count"), (uint32_t)c->n_heads);
    gguf_w_kv_u32(f, KEY("%s.attention.head_count_kv"), (uint32_t)c->n_kv_heads);
    gguf_w_kv_u32(f, KEY("%s.rope.dimension_count"), (uint32_t)c->head_dim);
    gguf_w_kv_f32(f, KEY("%s.rope.freq_base"), c->arch == ARCH_OLMO3 ? c->rope_full.theta : c->rope_theta);
    if (c->arch == ARCH_OLMO1) {
        gguf_w_kv_f32(f, KEY("%s.attention.layer_norm_epsilon"), c->norm_eps);
        if (c->clip_qkv > 0) gguf_w_kv_f32(f, KEY("%s.attention.clamp_kqv"), c->clip_qkv);
    } else gguf_w_kv_f32(f, KEY("%s.attention.layer_norm_rms_epsilon"), c->norm_eps);
    if (c->arch == ARCH_OLMO3) {   /* llama.cpp runs OLMo-3 as "olmo2" with sliding-window layers (olmo3_supported) */
        gguf_w_kv_u32(f, KEY("%s.attention.sliding_window"), (uint32_t)c->sliding_window);
        gguf_w_kv_array(f, KEY("%s.attention.sliding_window_pattern"), GGUF_T_BOOL, (uint64_t)c->n_layers);
        for (int l = 0; l < c->n_layers; l++) fputc(c->layer_sliding[l] ? 1 : 0, f);
        gguf_w_kv_f32(f, KEY("%s.rope.freq_base_swa"), c->rope_sliding.theta);
        const struct olmo_rope *r = &c->rope_full;
        if (r->yarn) {
            gguf_w_kv_str(f, KEY("%s.rope.scaling.type"), "yarn");
            gguf_w_kv_f32(f, KEY("%s.rope.scaling.factor"), r->factor);
            gguf_w_kv_u32(f, KEY("%s.rope.scaling.original_context_length"), (uint32_t)r->orig_max_pos);
            gguf_w_kv_f32(f, KEY("%s.rope.scaling.yarn_beta_fast"), r->beta_fast);
            gguf_w_kv_f32(f, KEY("%s.rope.scaling.yarn_beta_slow"), r->beta_slow);
        }
    }
    if (c->n_experts > 0) {   /* OLMoE: feed_forward_length above is one expert's width */
        gguf_w_kv_u32(f, KEY("%s.expert_count"), (uint32_t)c->n_experts);
        gguf_w_kv_u32(f, KEY("%s.expert_used_count"), (uint32_t)c->top_k);
    }
#undef KEY
    gguf_w_kv_str(f, "tokenizer.ggml.model", "gpt2"); n++;
    gguf_w_kv_str(f, "tokenizer.ggml.pre", v->pre); n++;
    gguf_w_kv_array(f, "tokenizer.ggml.tokens", GGUF_T_STRING, (uint64_t)v->n); n++;
    for (int id = 0; id < v->n; id++) {
        char pad[32];
        if (v->tok[id]) gguf_w_str(f, v->tok[id], strlen(v->tok[id]));
        else { snprintf(pad, sizeof pad, "[PAD%d]", id); gguf_w_str(f, pad, strlen(pad)); }
    }
    gguf_w_kv_array(f, "tokenizer.ggml.token_type", GGUF_T_I32, (uint64_t)v->n); n++;
    for (int id = 0; id < v->n; id++) { int32_t t = v->tok[id] ? v->type[id] : 5; fwrite(&t, 4, 1, f); }
    if (v->root) {
        if (write_merges(f, json_object_get(json_object_get(v->root, "model"), "merges"))) return -1;
    } else gguf_w_kv_array(f, "tokenizer.ggml.merges", GGUF_T_STRING, 0);
    n++;
    if (c->bos_token_id >= 0) { gguf_w_kv_u32(f, "tokenizer.ggml.bos_token_id", (uint32_t)c->bos_token_id); n++; }
    if (c->eos_token_id >= 0) { gguf_w_kv_u32(f, "tokenizer.ggml.eos_token_id", (uint32_t)c->eos_token_id); n++; }
    if (c->pad_token_id >= 0) { gguf_w_kv_u32(f, "tokenizer.ggml.padding_token_id", (uint32_t)c->pad_token_id); n++; }
    gguf_w_kv_bool(f, "tokenizer.ggml.add_bos_token", 0); n++;
    gguf_w_kv_bool(f, "tokenizer.ggml.add_eos_token", 0); n++;
    if (chat_template) { gguf_w_kv_str(f, "tokenizer.chat_template", chat_template); n++; }
    *n_kv = n;
    return ferror(f) ? olmo_err("writing the GGUF header failed") : 0;
}

/* OLMoE (llama.cpp "olmoe"): llama's pre-norm block (attn_norm = input_layernorm, ffn_norm =
 * post_attention_layernorm), QK-norm over the whole q and k projections (attn_q_norm / attn_k_norm, width
 * hidden_size), the router as ffn_gate_inp [E, d] kept F32 (as llama.cpp's converter and quantizer keep it: a
 * rounded router can pick other experts), the experts stacked. Every shape checked against config.json. */
static int collect_olmoe(struct out_tensor *o, int *n, const struct st_set *st, const struct olmo_config *c,
                         enum ggml_type type, const struct st_tensor **slots) {
    int64_t d = c->d_model, V = c->vocab_size, kvd = (int64_t)c->n_kv_heads * c->head_dim;
    if (add(o, n, st, "model.embed_tokens.weight", "token_embd.weight", type, 0, V, d) ||
        add(o, n, st, "model.norm.weight", "output_norm.weight", type, 0, 0, d) ||
        add(o, n, st, c->tie_embeddings ? "model.embed_tokens.weight" : "lm_head.weight", "output.weight", type, 0, V, d))
        return -1;
    static const char *map[][2] = {
        {"self_attn.q_proj", "attn_q"}, {"self_attn.k_proj", "attn_k"}, {"self_attn.v_proj", "attn_v"},
        {"self_attn.o_proj", "attn_output"}, {"self_attn.q_norm", "attn_q_norm"}, {"self_attn.k_norm", "attn_k_norm"},
        {"input_layernorm", "attn_norm"}, {"post_attention_layernorm", "ffn_norm"}, {"mlp.gate", "ffn_gate_inp"}};
    int64_t shape[][2] = {{d, d}, {kvd, d}, {kvd, d}, {d, d}, {0, d}, {0, kvd}, {0, d}, {0, d}, {c->n_experts, d}};
    for (int l = 0; l < c->n_layers; l++) {
        for (int i = 0; i < 9; i++) {
            char hf[128], gg[96];
            snprintf(hf, sizeof hf, "model.layers.%d.%s.weight", l, map[i][0]);
            snprintf(gg, sizeof gg, "blk.%d.%s.weight", l, map[i][1]);
            if (add(o, n, st, hf, gg, i == 8 ? GGML_TYPE_F32 : type, 0, shape[i][0], shape[i][1])) return -1;
        }
        for (int w = 0; w < 3; w++)
            if (add_experts(o, n, st, c, l, w, slots + ((size_t)l * 3 + (size_t)w) * (size_t)c->n_experts, type)) return -1;
    }
    return 0;
}

static int collect(struct out_tensor *o, int *n, const struct st_set *st, const struct olmo_config *c, enum ggml_type type) {
    int olmo1 = c->arch == ARCH_OLMO1;
    if (add(o, n, st, "model.embed_tokens.weight", "token_embd.weight", type, 0, 0, 0)) return -1;
    if (!olmo1 && add(o, n, st, "model.norm.weight", "output_norm.weight", type, 0, 0, 0)) return -1;
    if (add(o, n, st, c->tie_embeddings ? "model.embed_tokens.weight" : "lm_head.weight", "output.weight", type, 0, 0, 0)) return -1;
    static const char *map[][2] = {
        {"self_attn.q_proj", "attn_q"}, {"self_attn.k_proj", "attn_k"}, {"self_attn.v_proj", "attn_v"},
        {"self_attn.o_proj", "attn_output"}, {"mlp.gate_proj", "ffn_gate"}, {"mlp.up_proj", "ffn_up"},
        {"mlp.down_proj", "ffn_down"}, {"self_attn.q_norm", "attn_q_norm"}, {"self_attn.k_norm", "attn_k_norm"},
        {"post_attention_layernorm", "post_attention_norm"}, {"post_feedforward_layernorm", "post_ffw_norm"}};
    for (int l = 0; l < c->n_layers; l++)
        for (int i = 0; i < (olmo1 ? 7 : 11); i++) {
            char hf[128], gg[96];
            snprintf(hf, sizeof hf, "model.layers.%d.%s.weight", l, map[i][0]);
            snprintf(gg, sizeof gg, "blk.%d.%s.weight", l, map[i][1]);
            int perm = !olmo1 ? 0 : i == 0 ? c->n_heads : i == 1 ? c->n_kv_heads : 0;
            if (add(o, n, st, hf, gg, type, perm, 0, 0)) return -1;
        }
    return 0;
}

/* What llama.cpp's "olmoe" graph cannot run, refused rather than written as a file that loads and computes
 * something else: it has no clamp of q/k/v, never renormalises the top-k weights, sizes attn_k_norm (and
 * attn_q/attn_output) by hidden_size, so no grouped-query attention and head_dim · heads = hidden_size. The
 * released OLMoE-1B-7B checkpoints have none of these. */
static int olmoe_supported(const struct olmo_config *c, const char *dir) {
    if (c->clip_qkv > 0)
        return olmo_err("%s: clip_qkv %g: llama.cpp's olmoe architecture does not clamp q/k/v, the GGUF would compute "
                        "other logits (expected clip_qkv null, as in the released OLMoE)", dir, (double)c->clip_qkv);
    if (c->norm_topk_prob)
        return olmo_err("%s: norm_topk_prob true: llama.cpp's olmoe architecture never renormalises the top-k expert "
                        "weights, the GGUF would compute other logits (expected false, as in the released OLMoE)", dir);
    if (c->n_kv_heads != c->n_heads || (int64_t)c->n_heads * c->head_dim != c->d_model)
        return olmo_err("%s: %d query heads, %d key/value heads of %d dims, hidden_size %d: llama.cpp's olmoe architecture "
                        "expects as many key/value heads as query heads and heads · head_dim = hidden_size", dir,
                        c->n_heads, c->n_kv_heads, c->head_dim, c->d_model);
    return 0;
}

/* llama.cpp runs OLMo-3 as "olmo2" with <arch>.attention.sliding_window and a per-layer sliding_window_pattern:
 * sliding layers get plain RoPE at rope.freq_base (its graph ignores rope.freq_base_swa), full layers YaRN with
 * ggml's attention factor 1 + 0.1·ln s. Refused, as it would compute other logits: a sliding-layer θ other than
 * the full layers' (config shape C may give one), YaRN on sliding layers, another attention_factor. The released
 * OLMo-3 checkpoints (one θ, YaRN on full layers, attention_factor 1.2079 = 1 + 0.1·ln 8) have none of these. */
static int olmo3_supported(const struct olmo_config *c, const char *dir) {
    const struct olmo_rope *f = &c->rope_full, *s = &c->rope_sliding;
    if (s->theta != f->theta)
        return olmo_err("%s: sliding layers use rope_theta %g, full layers %g: llama.cpp's olmo2 (which runs OLMo-3) rotates "
                        "every layer with one rope_theta, the GGUF would compute other logits", dir, (double)s->theta, (double)f->theta);
    if (s->yarn)
        return olmo_err("%s: YaRN on sliding-window layers: llama.cpp's olmo2 (which runs OLMo-3) uses plain RoPE there", dir);
    double want = f->factor > 1 ? 1 + 0.1 * log(f->factor) : 1;
    if (f->yarn && fabs(f->attn_factor - want) > 1e-5 * want)
        return olmo_err("%s: YaRN attention_factor %g: llama.cpp computes 1 + 0.1·ln(factor) = %g, the GGUF would compute "
                        "other logits", dir, (double)f->attn_factor, want);
    return 0;
}

int gguf_export(const char *dir, const char *out, enum ggml_type type) { return gguf_export_opts(dir, out, type, NULL); }

int gguf_export_opts(const char *dir, const char *out, enum ggml_type type, const struct gguf_export_opts *opts) {
    char *cfg_path = olmo_path_join(dir, "config.json");
    struct olmo_config c;
    int rc = cfg_path ? hf_config_load(&c, cfg_path) : -1;
    free(cfg_path);
    if (rc) return -1;
    if (c.arch != ARCH_OLMO1 && c.arch != ARCH_OLMO2 && c.arch != ARCH_OLMO3 && c.arch != ARCH_OLMOE)
        return olmo_err("%s: model_type %s; GGUF export handles olmo, olmo2, olmo3 and olmoe", dir, hf_model_type(c.arch));
    if ((c.arch == ARCH_OLMOE && olmoe_supported(&c, dir)) || (c.arch == ARCH_OLMO3 && olmo3_supported(&c, dir))) return -1;
    const char *arch = c.arch == ARCH_OLMO1 ? "olmo" : c.arch == ARCH_OLMOE ? "olmoe" : "olmo2";
    struct st_set st;
    if (st_open_dir(&st, dir)) return -1;
    struct vocab v;
    struct out_tensor *o = olmo_calloc((size_t)(3 + 12 * c.n_layers), sizeof *o);
    const struct st_tensor **slots = c.n_experts > 0 ? olmo_calloc((size_t)c.n_layers * 3 * (size_t)c.n_experts, sizeof *slots) : NULL;
    int n = 0;
    memset(&v, 0, sizeof v);
    rc = !o || (c.n_experts > 0 && !slots) ? -1 : opts && opts->synthetic_vocab ? synthetic_vocab(&v, &c) : load_vocab(&v, dir, c.vocab_size);
    if (rc == 0) rc = c.arch == ARCH_OLMOE ? collect_olmoe(o, &n, &st, &c, type, slots) : collect(o, &n, &st, &c, type);
    for (int i = 0; i < n; i++) o[i].q4_reference = opts && opts->q4_reference;
    /* the chat template, when tokenizer_config.json has one */
    json_t *tc = NULL;
    char *tcp = olmo_path_join(dir, "tokenizer_config.json");
    if (tcp && olmo_file_exists(tcp)) tc = json_load_file(tcp, 0, NULL);
    free(tcp);
    const char *tmpl = json_string_value(json_object_get(tc, "chat_template"));
    const char *base = strrchr(dir, '/') && strrchr(dir, '/')[1] ? strrchr(dir, '/') + 1 : dir;
    struct olmo_atomic_file af;
    int opened = rc == 0 && olmo_atomic_open(&af, out) == 0;
    if (rc == 0 && !opened) rc = -1;
    if (rc == 0) {   /* the header's counts come first: the key/value section is built in memory */
        char *kvbuf = NULL;
        size_t kvlen = 0;
        uint64_t n_kv = 0;
        FILE *m = open_memstream(&kvbuf, &kvlen);
        rc = m ? write_kvs(m, &c, arch, base, type, &v, tmpl, &n_kv) : olmo_err_errno("open_memstream");
        if (m) fclose(m);
        if (rc == 0) {
            gguf_w_header(af.fp, (uint64_t)n, n_kv);
            fwrite(kvbuf, 1, kvlen, af.fp);
            uint64_t off = 0;
            for (int i = 0; i < n; i++) {
                uint64_t dims[3] = {o[i].cols, o[i].rows, o[i].n_expert};
                o[i].offset = off;
                gguf_w_tensor_info(af.fp, o[i].name, (uint32_t)o[i].ndim, dims, o[i].type, off);
                off += (o[i].nbytes + GGUF_DEFAULT_ALIGN - 1) / GGUF_DEFAULT_ALIGN * GGUF_DEFAULT_ALIGN;
            }
            gguf_w_pad(af.fp, GGUF_DEFAULT_ALIGN);
        }
        free(kvbuf);
    }
    uint64_t maxcols = 1;
    for (int i = 0; i < n; i++) if (o[i].cols > maxcols) maxcols = o[i].cols;
    uint8_t *row = rc == 0 ? olmo_malloc(maxcols * 4) : NULL;
    float *x = rc == 0 ? olmo_malloc(maxcols * 4) : NULL;
    if (rc == 0 && (!row || !x)) rc = -1;
    for (int i = 0; i < n && rc == 0; i++) {
        uint64_t rows = o[i].rows * (o[i].n_expert ? o[i].n_expert : 1), rb = o[i].nbytes / rows;
        for (uint64_t r = 0; r < rows && rc == 0; r++) {
            if (encode_row(&o[i], r, row, x)) rc = olmo_err("tensor %s row %llu: a block's scale does not fit fp16 or a value is not finite", o[i].name, (unsigned long long)r);
            else fwrite(row, 1, rb, af.fp);
        }
        gguf_w_pad(af.fp, GGUF_DEFAULT_ALIGN);
    }
    if (rc == 0 && ferror(af.fp)) rc = olmo_err_errno("writing %s", af.tmp_path);
    if (opened) {
        if (rc == 0) rc = olmo_atomic_commit(&af);
        else olmo_atomic_abort(&af);
    }
    free(row);
    free(x);
    if (tc) json_decref(tc);
    free_vocab(&v);
    free(o);
    free(slots);
    st_close(&st);
    return rc == 0 ? 0 : olmo_err_prefix("exporting %s to %s: ", dir, out);
}
