/* hf_config.c — config.json, tokenizer_config.json and generation_config.json (see hf_config.h).
 *
 * config.json is parsed strictly where a value changes the math (sizes, eps, theta, clip_qkv, tying, rope
 * scaling) and leniently elsewhere (transformers writes many bookkeeping fields, which are ignored). */
#include "formats/hf_config.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *hf_model_type(enum olmo_arch arch) {
    switch (arch) {
    case ARCH_OLMO1: return "olmo";
    case ARCH_OLMO2: return "olmo2";
    case ARCH_LLAMA: return "llama";
    case ARCH_OLMO3: return "olmo3";
    case ARCH_OLMOE: return "olmoe";
    }
    return "?";
}

/* Integer field in [lo, hi]; absent → *out = dflt when dflt_ok, else an error. */
static int get_int(json_t *root, const char *key, int *out, int lo, int hi, int dflt, int dflt_ok, const char *where) {
    json_t *v = json_object_get(root, key);
    if (!v || json_is_null(v)) {
        if (!dflt_ok) return olmo_err("%s: missing \"%s\"", where, key);
        *out = dflt;
        return 0;
    }
    if (!json_is_integer(v)) return olmo_err("%s: \"%s\" must be an integer", where, key);
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi) return olmo_err("%s: \"%s\" = %lld is outside [%d, %d]", where, key, (long long)x, lo, hi);
    *out = (int)x;
    return 0;
}

static int get_num(json_t *root, const char *key, double *out, double lo, double hi, double dflt, int dflt_ok,
                   const char *where) {
    json_t *v = json_object_get(root, key);
    if (!v || json_is_null(v)) {
        if (!dflt_ok) return olmo_err("%s: missing \"%s\"", where, key);
        *out = dflt;
        return 0;
    }
    if (!json_is_number(v)) return olmo_err("%s: \"%s\" must be a number", where, key);
    double x = json_number_value(v);
    if (!(x >= lo && x <= hi)) return olmo_err("%s: \"%s\" = %g is outside [%g, %g]", where, key, x, lo, hi);
    *out = x;
    return 0;
}

static int get_bool(json_t *root, const char *key, int *out, int dflt, const char *where) {
    json_t *v = json_object_get(root, key);
    if (!v || json_is_null(v)) {
        *out = dflt;
        return 0;
    }
    if (!json_is_boolean(v)) return olmo_err("%s: \"%s\" must be true or false", where, key);
    *out = json_is_true(v);
    return 0;
}

/* A token id field: null/absent → -1; an integer; or (eos in newer configs) a list whose first entry is used. */
static int get_token_id(json_t *root, const char *key, int *out, const char *where) {
    json_t *v = json_object_get(root, key);
    if (json_is_array(v)) v = json_array_size(v) ? json_array_get(v, 0) : NULL;
    if (!v || json_is_null(v)) {
        *out = -1;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 0x7fffffff)
        return olmo_err("%s: \"%s\" must be a token id (non-negative integer) or null", where, key);
    *out = (int)json_integer_value(v);
    return 0;
}

/* Parses one JSON document that must be an object; NULL (message set) otherwise. Shared by the three parsers. */
static json_t *load_object(const char *json, size_t len, const char *where) {
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        olmo_err("%s: line %d column %d: %s", where, jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        olmo_err("%s: expected a JSON object", where);
        json_decref(root);
        return NULL;
    }
    return root;
}

/* One RoPE block (rope_scaling, a flat rope_parameters, or one per-type entry of rope_parameters): rope_type (or the
 * legacy "type") "default" or "yarn"; rope_theta inside it overrides theta. Spec addendum §2, §3. */
static int parse_rope(struct olmo_rope *r, json_t *o, float theta, int max_pos, const char *what, const char *where) {
    memset(r, 0, sizeof *r);
    r->theta = theta;
    r->attn_factor = 1.0f;
    r->factor = 1.0f;
    if (!o || json_is_null(o)) return 0;
    if (!json_is_object(o)) return olmo_err("%s: \"%s\" must be an object or null", where, what);
    json_t *ty = json_object_get(o, "rope_type");
    if (!ty) ty = json_object_get(o, "type");
    const char *type = json_is_string(ty) ? json_string_value(ty) : ty ? NULL : "default";
    if (!type) return olmo_err("%s: %s: \"rope_type\" must be a string", where, what);
    double th;
    if (get_num(o, "rope_theta", &th, 1.0, 1e12, theta, 1, where)) return -1;
    r->theta = (float)th;
    if (!strcmp(type, "default")) return 0;
    if (strcmp(type, "yarn"))
        return olmo_err("%s: %s: rope type \"%s\" is not supported (expected \"default\" or \"yarn\")", where, what, type);
    double f, a, bf, bs, ms, msa;
    int L0;
    if (get_int(o, "original_max_position_embeddings", &L0, 1, 1 << 30, 0, 1, where) ||
        get_num(o, "factor", &f, 1.0, 1e6, 0, 1, where) || get_num(o, "beta_fast", &bf, 0, 1e6, 32, 1, where) ||
        get_num(o, "beta_slow", &bs, 0, 1e6, 1, 1, where) || get_num(o, "attention_factor", &a, 0, 1e6, 0, 1, where) ||
        get_num(o, "mscale", &ms, 0, 1e6, 0, 1, where) || get_num(o, "mscale_all_dim", &msa, 0, 1e6, 0, 1, where))
        return -1;
    if (f == 0 && L0 == 0) return olmo_err("%s: %s: yarn needs \"factor\" or \"original_max_position_embeddings\"", where, what);
    if (f == 0) f = (double)max_pos / L0;   /* newer transformers: the ratio only when factor is absent */
    else if (L0 && fabs((double)max_pos / L0 - f) > 1e-6 * f)
        olmo_log_warn("%s: %s: yarn factor %g differs from max_position_embeddings / original_max_position_embeddings = %g; "
                  "using factor (as transformers v5 does; v4 used the ratio)", where, what, f, (double)max_pos / L0);
    if (f < 1.0) return olmo_err("%s: %s: yarn factor %g is below 1", where, what, f);
    if (L0 == 0) L0 = (int)(max_pos / f);
    if (bf == 0) bf = 32;
    if (bs == 0) bs = 1;
    /* attention factor: given, else mscale ratio, else 0.1·ln s + 1 (TR _compute_yarn_parameters) */
#define YARN_G(s_, m_) ((s_) <= 1 ? 1.0 : 0.1 * (m_) * log(s_) + 1.0)
    if (a == 0) a = ms > 0 && msa > 0 ? YARN_G(f, ms) / YARN_G(f, msa) : YARN_G(f, 1.0);
#undef YARN_G
    r->yarn = 1;
    r->factor = (float)f;
    r->attn_factor = (float)a;
    r->orig_max_pos = L0;
    r->beta_fast = (float)bf;
    r->beta_slow = (float)bs;
    if (json_is_false(json_object_get(o, "truncate")))
        return olmo_err("%s: %s: yarn with \"truncate\": false is not supported", where, what);
    return 0;
}

/* OLMo-3's RoPE from the three config.json shapes (addendum §2): A top-level rope_theta + rope_scaling, B a flat
 * rope_parameters, C rope_parameters per layer type. A/B: the scaling is for full-attention layers; sliding layers
 * get plain RoPE with the same θ. Other architectures: every layer is full, so rope_full applies everywhere. */
static int parse_rope_config(struct olmo_config *c, json_t *root, const char *where) {
    json_t *rs = json_object_get(root, "rope_scaling"), *rp = json_object_get(root, "rope_parameters");
    if (rs && !json_is_null(rs) && rp && !json_is_null(rp))
        return olmo_err("%s: both \"rope_scaling\" and \"rope_parameters\" are set; expected one", where);
    float theta = c->rope_theta;
    if (rp && !json_is_null(rp)) {
        json_t *full = json_object_get(rp, "full_attention"), *slide = json_object_get(rp, "sliding_attention");
        if (full || slide) {   /* shape C */
            if (!full) return olmo_err("%s: rope_parameters has \"sliding_attention\" but no \"full_attention\"", where);
            if (parse_rope(&c->rope_full, full, theta, c->max_seq_len, "rope_parameters.full_attention", where) ||
                parse_rope(&c->rope_sliding, slide ? slide : full, theta, c->max_seq_len, "rope_parameters.sliding_attention", where))
                return -1;
            if (!json_object_get(root, "rope_theta")) c->rope_theta = c->rope_full.theta;
            return 0;
        }
        rs = rp;   /* shape B */
    }
    if (parse_rope(&c->rope_full, rs, theta, c->max_seq_len, rp ? "rope_parameters" : "rope_scaling", where)) return -1;
    if (!json_object_get(root, "rope_theta")) c->rope_theta = c->rope_full.theta;
    parse_rope(&c->rope_sliding, NULL, c->rope_full.theta, c->max_seq_len, "", where);   /* plain, same θ */
    return 0;
}

/* OLMo-3's sliding window: sliding_window and layer_types (authoritative when present; else full iff (i+1) % 4 == 0). */
static int parse_layer_types(struct olmo_config *c, json_t *root, const char *where) {
    if (get_int(root, "sliding_window", &c->sliding_window, 1, 1 << 30, 4096, 1, where)) return -1;
    json_t *lt = json_object_get(root, "layer_types");
    if (lt && !json_is_null(lt)) {
        if (!json_is_array(lt) || (int)json_array_size(lt) != c->n_layers)
            return olmo_err("%s: \"layer_types\" must be a list of %d entries (num_hidden_layers)", where, c->n_layers);
        for (int l = 0; l < c->n_layers; l++) {
            json_t *e = json_array_get(lt, (size_t)l);
            const char *v = json_is_string(e) ? json_string_value(e) : "";
            if (!strcmp(v, "sliding_attention")) c->layer_sliding[l] = 1;
            else if (strcmp(v, "full_attention"))
                return olmo_err("%s: layer_types[%d] must be \"sliding_attention\" or \"full_attention\"", where, l);
        }
    } else {
        for (int l = 0; l < c->n_layers; l++) c->layer_sliding[l] = (l + 1) % 4 != 0;
    }
    return 0;
}

static int parse_config(struct olmo_config *c, json_t *root, const char *where) {
    memset(c, 0, sizeof *c);
    json_t *mt = json_object_get(root, "model_type");
    if (!json_is_string(mt))
        return olmo_err("%s: missing \"model_type\" (expected \"olmo\", \"olmo2\", \"olmo3\", \"olmoe\" or \"llama\")", where);
    const char *type = json_string_value(mt);
    if (!strcmp(type, "olmo")) c->arch = ARCH_OLMO1;
    else if (!strcmp(type, "olmo2")) c->arch = ARCH_OLMO2;
    else if (!strcmp(type, "llama")) c->arch = ARCH_LLAMA;
    else if (!strcmp(type, "olmo3")) c->arch = ARCH_OLMO3;
    else if (!strcmp(type, "olmoe")) c->arch = ARCH_OLMOE;
    else
        return olmo_err("%s: model_type \"%s\" is not supported (olmo.c runs \"olmo\", \"olmo2\", \"olmo3\", \"olmoe\" "
                        "and \"llama\")", where, type);
    const int BIG = 1 << 24;
    if (get_int(root, "hidden_size", &c->d_model, 1, BIG, 0, 0, where) ||
        get_int(root, "intermediate_size", &c->d_ff, 1, BIG, 0, 0, where) ||
        get_int(root, "num_hidden_layers", &c->n_layers, 1, OLMO_MAX_LAYERS, 0, 0, where) ||
        get_int(root, "num_attention_heads", &c->n_heads, 1, 65536, 0, 0, where) ||
        get_int(root, "num_key_value_heads", &c->n_kv_heads, 1, 65536, c->n_heads, 1, where) ||
        get_int(root, "vocab_size", &c->vocab_size, 1, 1 << 28, 0, 0, where) ||
        get_int(root, "max_position_embeddings", &c->max_seq_len, 1, 1 << 30, 2048, 1, where))
        return -1;
    if (get_int(root, "head_dim", &c->head_dim, 1, 65536, 0, 1, where)) return -1;
    if (!c->head_dim) {
        if (c->d_model % c->n_heads)
            return olmo_err("%s: hidden_size %d is not divisible by num_attention_heads %d", where, c->d_model, c->n_heads);
        c->head_dim = c->d_model / c->n_heads;
    }
    if (c->n_heads % c->n_kv_heads)
        return olmo_err("%s: num_attention_heads %d is not a multiple of num_key_value_heads %d", where, c->n_heads, c->n_kv_heads);
    if (c->head_dim % 2) return olmo_err("%s: head_dim %d is odd (RoPE pairs dimensions j and j+head_dim/2)", where, c->head_dim);
    if ((int64_t)c->n_heads * c->head_dim > BIG) return olmo_err("%s: num_attention_heads × head_dim is too large", where);
    double theta, eps, clip;
    if (get_num(root, "rope_theta", &theta, 1.0, 1e12, 10000.0, 1, where)) return -1;
    c->rope_theta = (float)theta;
    if (parse_rope_config(c, root, where)) return -1;
    if (c->arch != ARCH_OLMO3 && c->rope_full.yarn)
        return olmo_err("%s: rope type \"yarn\" is only supported for model_type \"olmo3\"", where);
    json_t *act = json_object_get(root, "hidden_act");
    if (act && (!json_is_string(act) || strcmp(json_string_value(act), "silu")))
        return olmo_err("%s: hidden_act must be \"silu\" (SwiGLU)", where);
    int bias = 0, mlp_bias = 0;
    if (get_bool(root, "attention_bias", &bias, 0, where) || get_bool(root, "mlp_bias", &mlp_bias, 0, where)) return -1;
    if (bias || mlp_bias) return olmo_err("%s: attention_bias / mlp_bias true is not supported (OLMo has no biases)", where);
    if (get_bool(root, "tie_word_embeddings", &c->tie_embeddings, 0, where)) return -1;
    switch (c->arch) {
    case ARCH_OLMO1:
        c->norm_type = NORM_LAYERNORM_NOAFFINE;
        c->norm_eps = 1e-5f;   /* hard-coded in OLMo-1 (spec §2.1) */
        if (get_num(root, "clip_qkv", &clip, 0.0, 1e30, 0.0, 1, where)) return -1;
        c->clip_qkv = (float)clip;
        break;
    case ARCH_OLMO2:
    case ARCH_OLMO3:
        c->norm_type = NORM_RMSNORM;
        c->norm_after = 1;
        c->qk_norm = 1;
        if (get_num(root, "rms_norm_eps", &eps, 1e-12, 1.0, 1e-5, 1, where)) return -1;
        c->norm_eps = (float)eps;
        if (c->arch == ARCH_OLMO3 && parse_layer_types(c, root, where)) return -1;
        break;
    case ARCH_OLMOE:
        c->norm_type = NORM_RMSNORM;
        c->qk_norm = 1;
        if (get_num(root, "rms_norm_eps", &eps, 1e-12, 1.0, 1e-5, 1, where) ||
            get_num(root, "clip_qkv", &clip, 0.0, 1e30, 0.0, 1, where) ||
            get_int(root, "num_experts", &c->n_experts, 1, 4096, 64, 1, where) ||
            get_int(root, "num_experts_per_tok", &c->top_k, 1, 4096, 8, 1, where) ||
            get_bool(root, "norm_topk_prob", &c->norm_topk_prob, 0, where))
            return -1;
        if (c->top_k > c->n_experts)
            return olmo_err("%s: num_experts_per_tok %d is more than num_experts %d", where, c->top_k, c->n_experts);
        c->norm_eps = (float)eps;
        c->clip_qkv = (float)clip;
        break;
    case ARCH_LLAMA:
        c->norm_type = NORM_RMSNORM;
        if (get_num(root, "rms_norm_eps", &eps, 1e-12, 1.0, 1e-6, 1, where)) return -1;
        c->norm_eps = (float)eps;
        break;
    }
    if (get_token_id(root, "bos_token_id", &c->bos_token_id, where) ||
        get_token_id(root, "eos_token_id", &c->eos_token_id, where) ||
        get_token_id(root, "pad_token_id", &c->pad_token_id, where))
        return -1;
    return 0;
}

int hf_config_parse(struct olmo_config *cfg, const char *json, size_t len, const char *where) {
    json_t *root = load_object(json, len, where);
    if (!root) return -1;
    int rc = parse_config(cfg, root, where);
    json_decref(root);
    return rc;
}

int hf_config_load(struct olmo_config *cfg, const char *path) {
    size_t len;
    char *text = olmo_read_file(path, &len);
    if (!text) return -1;
    int rc = hf_config_parse(cfg, text, len, path);
    free(text);
    return rc;
}

static json_t *token_or_null(int id) { return id >= 0 ? json_integer(id) : json_null(); }

/* A float written with the fewest digits that read back to the same float (so 1e-06 stays 1e-06). */
static json_t *short_real(float f) {
    char buf[32];
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)f);
        if (strtof(buf, NULL) == f) break;
    }
    return json_real(strtod(buf, NULL));
}

char *hf_config_to_json(const struct olmo_config *c, const char *torch_dtype) {
    json_t *r = json_object();
    const char *arch = c->arch == ARCH_OLMO1   ? "OlmoForCausalLM"
                       : c->arch == ARCH_OLMO2 ? "Olmo2ForCausalLM"
                       : c->arch == ARCH_OLMO3 ? "Olmo3ForCausalLM"
                       : c->arch == ARCH_OLMOE ? "OlmoeForCausalLM"
                                               : "LlamaForCausalLM";
    json_t *archs = json_array();
    json_array_append_new(archs, json_string(arch));
    /* Key set and order as transformers' to_json_string (sorted keys) for each config class. */
    json_object_set_new(r, "architectures", archs);
    json_object_set_new(r, "attention_bias", json_false());
    json_object_set_new(r, "attention_dropout", json_real(0.0));
    json_object_set_new(r, "bos_token_id", token_or_null(c->bos_token_id));
    if (c->arch == ARCH_OLMO1 || c->arch == ARCH_OLMOE)
        json_object_set_new(r, "clip_qkv", c->clip_qkv > 0 ? short_real(c->clip_qkv) : json_null());
    json_object_set_new(r, "eos_token_id", token_or_null(c->eos_token_id));
    if (c->arch == ARCH_LLAMA) json_object_set_new(r, "head_dim", json_integer(c->head_dim));
    json_object_set_new(r, "hidden_act", json_string("silu"));
    json_object_set_new(r, "hidden_size", json_integer(c->d_model));
    json_object_set_new(r, "initializer_range", json_real(0.02));
    json_object_set_new(r, "intermediate_size", json_integer(c->d_ff));
    if (c->arch == ARCH_OLMO3) {
        json_t *lt = json_array();
        for (int l = 0; l < c->n_layers; l++)
            json_array_append_new(lt, json_string(c->layer_sliding[l] ? "sliding_attention" : "full_attention"));
        json_object_set_new(r, "layer_types", lt);
    }
    json_object_set_new(r, "max_position_embeddings", json_integer(c->max_seq_len));
    if (c->arch == ARCH_LLAMA) json_object_set_new(r, "mlp_bias", json_false());
    json_object_set_new(r, "model_type", json_string(hf_model_type(c->arch)));
    if (c->arch == ARCH_OLMOE) json_object_set_new(r, "norm_topk_prob", json_boolean(c->norm_topk_prob));
    json_object_set_new(r, "num_attention_heads", json_integer(c->n_heads));
    if (c->arch == ARCH_OLMOE) {
        json_object_set_new(r, "num_experts", json_integer(c->n_experts));
        json_object_set_new(r, "num_experts_per_tok", json_integer(c->top_k));
    }
    json_object_set_new(r, "num_hidden_layers", json_integer(c->n_layers));
    json_object_set_new(r, "num_key_value_heads", json_integer(c->n_kv_heads));
    if (c->arch == ARCH_OLMOE) json_object_set_new(r, "output_router_logits", json_false());
    json_object_set_new(r, "pad_token_id", token_or_null(c->pad_token_id));
    if (c->arch == ARCH_LLAMA) json_object_set_new(r, "pretraining_tp", json_integer(1));
    if (c->arch != ARCH_OLMO1) json_object_set_new(r, "rms_norm_eps", short_real(c->norm_eps));
    const struct olmo_rope *rf = &c->rope_full;
    if (rf->yarn) {   /* shape A (addendum §2): what released OLMo-3 checkpoints carry */
        json_t *y = json_object();
        json_object_set_new(y, "attention_factor", short_real(rf->attn_factor));
        json_object_set_new(y, "beta_fast", short_real(rf->beta_fast));
        json_object_set_new(y, "beta_slow", short_real(rf->beta_slow));
        json_object_set_new(y, "factor", short_real(rf->factor));
        json_object_set_new(y, "original_max_position_embeddings", json_integer(rf->orig_max_pos));
        json_object_set_new(y, "rope_type", json_string("yarn"));
        json_object_set_new(r, "rope_scaling", y);
    } else json_object_set_new(r, "rope_scaling", json_null());
    json_object_set_new(r, "rope_theta", short_real(c->rope_theta));
    if (c->arch == ARCH_OLMOE) json_object_set_new(r, "router_aux_loss_coef", json_real(0.01));
    if (c->arch == ARCH_OLMO3) json_object_set_new(r, "sliding_window", json_integer(c->sliding_window));
    json_object_set_new(r, "tie_word_embeddings", json_boolean(c->tie_embeddings));
    json_object_set_new(r, "torch_dtype", json_string(torch_dtype ? torch_dtype : "float32"));
    json_object_set_new(r, "transformers_version", json_string("4.46.0"));
    json_object_set_new(r, "use_cache", json_true());
    json_object_set_new(r, "vocab_size", json_integer(c->vocab_size));
    char *s = json_dumps(r, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
    json_decref(r);
    if (!s) olmo_err("cannot serialise config.json");
    return s;
}

int hf_config_write(const struct olmo_config *cfg, const char *torch_dtype, const char *path) {
    char *s = hf_config_to_json(cfg, torch_dtype);
    if (!s) return -1;
    struct olmo_atomic_file f;
    int rc = olmo_atomic_open(&f, path);
    if (rc == 0) {
        if (fputs(s, f.fp) == EOF || fputc('\n', f.fp) == EOF) {
            olmo_err_errno("error writing %s", path);
            olmo_atomic_abort(&f);
            rc = -1;
        } else rc = olmo_atomic_commit(&f);
    }
    free(s);
    return rc;
}

/* ---- tokenizer_config.json ---- */

/* bos_token / eos_token are either a string or an AddedToken object {"content": "..."}. */
static int get_token_str(json_t *root, const char *key, char **out, const char *where) {
    json_t *v = json_object_get(root, key);
    *out = NULL;
    if (!v || json_is_null(v)) return 0;
    if (json_is_object(v)) v = json_object_get(v, "content");
    if (!json_is_string(v)) return olmo_err("%s: \"%s\" must be a string or {\"content\": string}", where, key);
    *out = olmo_strdup(json_string_value(v));
    return *out ? 0 : -1;
}

int hf_tokenizer_config_parse(struct hf_tokenizer_config *tc, const char *json, size_t len, const char *where) {
    memset(tc, 0, sizeof *tc);
    json_t *root = load_object(json, len, where);
    if (!root) return -1;
    int rc = -1;
    json_t *ct = json_object_get(root, "chat_template");
    if (json_is_array(ct)) {   /* a list of named templates: use "default" */
        json_t *pick = NULL, *e;
        size_t i;
        json_array_foreach(ct, i, e) {
            json_t *nm = json_object_get(e, "name");
            if (json_is_string(nm) && !strcmp(json_string_value(nm), "default")) pick = json_object_get(e, "template");
        }
        ct = pick;
    }
    if (ct && !json_is_null(ct)) {
        if (!json_is_string(ct)) {
            olmo_err("%s: \"chat_template\" must be a string", where);
            goto out;
        }
        if (!(tc->chat_template = olmo_strdup(json_string_value(ct)))) goto out;
    }
    if (get_token_str(root, "bos_token", &tc->bos_token, where) || get_token_str(root, "eos_token", &tc->eos_token, where) ||
        get_bool(root, "add_bos_token", &tc->add_bos_token, 0, where) ||
        get_bool(root, "add_eos_token", &tc->add_eos_token, 0, where))
        goto out;
    rc = 0;
out:
    json_decref(root);
    if (rc) hf_tokenizer_config_free(tc);
    return rc;
}

int hf_tokenizer_config_load(struct hf_tokenizer_config *tc, const char *dir) {
    memset(tc, 0, sizeof *tc);
    char *path = olmo_path_join(dir, "tokenizer_config.json"), *jinja = olmo_path_join(dir, "chat_template.jinja");
    int rc = -1;
    if (!path || !jinja) goto out;
    if (olmo_file_exists(path)) {
        size_t len;
        char *text = olmo_read_file(path, &len);
        if (!text) goto out;
        rc = hf_tokenizer_config_parse(tc, text, len, path);
        free(text);
        if (rc) goto out;
    }
    rc = 0;
    if (olmo_file_exists(jinja)) {   /* chat_template.jinja wins over the JSON field (as in transformers) */
        char *t = olmo_read_file(jinja, NULL);
        if (!t) {
            rc = -1;
            hf_tokenizer_config_free(tc);
            goto out;
        }
        free(tc->chat_template);
        tc->chat_template = t;
    }
out:
    free(path);
    free(jinja);
    return rc;
}

void hf_tokenizer_config_free(struct hf_tokenizer_config *tc) {
    free(tc->chat_template);
    free(tc->bos_token);
    free(tc->eos_token);
    memset(tc, 0, sizeof *tc);
}

/* ---- generation_config.json ---- */

int hf_generation_config_parse(struct hf_generation_config *gc, const char *json, size_t len, const char *where) {
    memset(gc, 0, sizeof *gc);
    gc->bos_token_id = -1;
    json_t *root = load_object(json, len, where);
    if (!root) return -1;
    int rc = -1;
    json_t *eos = json_object_get(root, "eos_token_id");
    if (json_is_integer(eos)) {
        json_t *one = json_array();
        json_array_append(one, eos);
        eos = one;
    } else if (eos) json_incref(eos);
    if (eos && !json_is_null(eos)) {
        size_t i;
        json_t *e;
        int bad = !json_is_array(eos) || json_array_size(eos) > HF_MAX_EOS;
        if (!bad) json_array_foreach(eos, i, e) {
            if (!json_is_integer(e) || json_integer_value(e) < 0 || json_integer_value(e) > 0x7fffffff) bad = 1;
            else gc->eos_token_ids[gc->n_eos++] = (int32_t)json_integer_value(e);
        }
        json_decref(eos);
        if (bad) {
            olmo_err("%s: \"eos_token_id\" must be a token id or a list of at most %d ids", where, HF_MAX_EOS);
            goto out;
        }
    } else json_decref(eos);
    int bos, tk = 0, mx = 0;
    double t = 1, p = 1;
    if (get_token_id(root, "bos_token_id", &bos, where)) goto out;
    gc->bos_token_id = bos;
    gc->has_temperature = json_is_number(json_object_get(root, "temperature"));
    gc->has_top_p = json_is_number(json_object_get(root, "top_p"));
    gc->has_top_k = json_is_integer(json_object_get(root, "top_k"));
    if (get_num(root, "temperature", &t, 0, 1e6, 1, 1, where) || get_num(root, "top_p", &p, 0, 1, 1, 1, where) ||
        get_int(root, "top_k", &tk, 0, 1 << 28, 0, 1, where) || get_int(root, "max_new_tokens", &mx, 0, 1 << 30, 0, 1, where) ||
        get_bool(root, "do_sample", &gc->do_sample, 0, where))
        goto out;
    gc->temperature = (float)t;
    gc->top_p = (float)p;
    gc->top_k = tk;
    gc->max_new_tokens = mx;
    rc = 0;
out:
    json_decref(root);
    return rc;
}

int hf_generation_config_load(struct hf_generation_config *gc, const char *dir) {
    memset(gc, 0, sizeof *gc);
    gc->bos_token_id = -1;
    char *path = olmo_path_join(dir, "generation_config.json");
    if (!path) return -1;
    int rc = 0;
    if (olmo_file_exists(path)) {
        size_t len;
        char *text = olmo_read_file(path, &len);
        rc = text ? hf_generation_config_parse(gc, text, len, path) : -1;
        free(text);
    }
    free(path);
    return rc;
}
