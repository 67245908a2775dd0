/* train_config.c — OLMo's training YAML → struct olmo_config + struct train_config (see train_config.h).
 *
 * Each section is read by one function with three lists of keys: honoured (read here, with OLMo's defaults),
 * ignored (GPU/service settings, collected into tc->ignored), and everything else, which is refused by name and
 * line, as OLMo's structured OmegaConf schema refuses unknown keys. Values that would change the math in a way
 * olmo.c does not implement are refused with the reason. */
#include "train/train_config.h"
#include "train/optim.h"
#include "formats/yaml_config.h"
#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"

#include <glob.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One section being read: its node (may be NULL: all defaults), its dotted name, and the config. */
struct sec {
    const struct ycfg_node *node;
    const char *name;             /* "" for the top level, else "model", "optimizer", ... */
    struct train_config *tc;
};

static void key_name(const struct sec *s, const char *key, char *buf, size_t cap) {
    if (s->name[0]) snprintf(buf, cap, "%s.%s", s->name, key);
    else snprintf(buf, cap, "%s", key);
}

/* The value of key, or NULL when absent or null (OLMo's Optional default then applies). */
static const struct ycfg_node *val(const struct sec *s, const char *key) {
    const struct ycfg_node *n = ycfg_child(s->node, key);
    return n && !ycfg_is_null(n) ? n : NULL;
}

static int get_int(const struct sec *s, const char *key, int64_t def, int64_t *out) {
    const struct ycfg_node *n = val(s, key);
    char k[128];
    key_name(s, key, k, sizeof k);
    if (!n) {
        *out = def;
        return 0;
    }
    return ycfg_as_int(n, k, out);
}

static int get_int32(const struct sec *s, const char *key, int def, int *out) {
    int64_t v;
    if (get_int(s, key, def, &v) < 0) return -1;
    if (v < INT32_MIN || v > INT32_MAX) {
        char k[128];
        key_name(s, key, k, sizeof k);
        return olmo_err("%s: %s: %lld does not fit a 32-bit integer", ycfg_where(ycfg_child(s->node, key)), k,
                        (long long)v);
    }
    *out = (int)v;
    return 0;
}

static int get_double(const struct sec *s, const char *key, double def, double *out) {
    const struct ycfg_node *n = val(s, key);
    char k[128];
    key_name(s, key, k, sizeof k);
    if (!n) {
        *out = def;
        return 0;
    }
    return ycfg_as_double(n, k, out);
}

static int get_bool(const struct sec *s, const char *key, int def, int *out) {
    const struct ycfg_node *n = val(s, key);
    char k[128];
    key_name(s, key, k, sizeof k);
    if (!n) {
        *out = def;
        return 0;
    }
    return ycfg_as_bool(n, k, out);
}

/* A string (or NULL when absent/null) copied into *out. */
static int get_str(const struct sec *s, const char *key, const char *def, char **out) {
    const struct ycfg_node *n = val(s, key);
    char k[128];
    key_name(s, key, k, sizeof k);
    const char *v = def;
    if (n && ycfg_as_str(n, k, &v) < 0) return -1;
    free(*out);
    *out = NULL;
    if (v && !(*out = olmo_strdup(v))) return -1;
    return 0;
}

static int refuse(const struct sec *s, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refuse(const struct sec *s, const char *key, const char *fmt, ...) {
    char k[128], msg[768];
    key_name(s, key, k, sizeof k);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const struct ycfg_node *n = ycfg_child(s->node, key);
    if (n) return olmo_err("%s: %s: %s", ycfg_where(n), k, msg);
    if (s->node) return olmo_err("%s: %s (absent, so OLMo's default applies): %s", ycfg_where(s->node), k, msg);
    return olmo_err("%s (absent, so OLMo's default applies): %s", k, msg);
}

/* Appends "name" to the ignored-keys list once. */
static int note_ignored(struct train_config *tc, const char *name) {
    size_t have = tc->ignored ? strlen(tc->ignored) : 0;
    char *p = olmo_realloc(tc->ignored, have + strlen(name) + 3);
    if (!p) return -1;
    if (have) strcpy(p + have, ", ");
    else p[0] = 0;
    strcat(p, name);
    tc->ignored = p;
    return 0;
}

static int in_list(const char *key, const char *const *list) {
    for (; *list; list++)
        if (!strcmp(key, *list)) return 1;
    return 0;
}

/* Checks every key of the section against the honoured and ignored lists; ignored ones are noted. */
static int check_keys(const struct sec *s, const char *const *honoured, const char *const *ignored) {
    if (!s->node) return 0;
    if (s->node->kind != YCFG_MAP) {
        return olmo_err("%s: %s: expected a mapping of keys, found %s", ycfg_where(s->node), s->name,
                        s->node->kind == YCFG_LIST ? "a list" : "a single value");
    }
    for (size_t i = 0; i < s->node->n; i++) {
        const char *k = s->node->keys[i];
        if (in_list(k, honoured)) continue;
        char full[160];
        key_name(s, k, full, sizeof full);
        if (in_list(k, ignored)) {
            if (note_ignored(s->tc, full) < 0) return -1;
            continue;
        }
        return olmo_err("%s: unknown key '%s' (not an OLMo training setting olmo.c knows; see "
                        "docs/training-config.md)", ycfg_where(s->node->vals[i]), full);
    }
    return 0;
}

static int positive(const struct sec *s, const char *key, int64_t v) {
    if (v > 0) return 0;
    return refuse(s, key, "must be a positive integer, found %lld", (long long)v);
}

/* A boolean that olmo.c supports only at one value. */
static int require_bool(const struct sec *s, const char *key, int def, int want, const char *why) {
    int v;
    if (get_bool(s, key, def, &v) < 0) return -1;
    if (v != want) return refuse(s, key, "%s is not supported: %s", v ? "true" : "false", why);
    return 0;
}

static int require_zero(const struct sec *s, const char *key, double def, const char *why) {
    double v;
    if (get_double(s, key, def, &v) < 0) return -1;
    if (v != 0) return refuse(s, key, "%g is not supported: %s", v, why);
    return 0;
}

/* ------------------------------------------------------------------------------------------------ model */

static const char *const model_honoured[] = {
    "d_model", "n_heads", "n_kv_heads", "multi_query_attention", "n_layers", "mlp_ratio", "mlp_hidden_size",
    "rope_theta", "layer_norm_type", "layer_norm_with_affine", "layer_norm_eps", "attention_layer_norm",
    "attention_layer_norm_with_affine", "norm_after", "clip_qkv", "weight_tying", "max_sequence_length",
    "vocab_size", "embedding_size", "eos_token_id", "pad_token_id", "bos_token_id", "init_fn", "init_std",
    "init_cutoff_factor", "sliding_window",
    /* checked: only OLMo's usual value is accepted */
    "alibi", "rope", "activation_type", "block_type", "include_bias", "bias_for_layer_norm", "scale_logits",
    "attention_dropout", "residual_dropout", "embedding_dropout", "emb_init_std", "scale_emb_init",
    NULL};
static const char *const model_ignored[] = {
    "init_device", "flash_attention", "rope_full_precision", "alibi_bias_max", "precision", "block_group_size",
    NULL};

static int read_model(struct sec *s) {
    struct train_config *tc = s->tc;
    struct olmo_config *m = &tc->model;
    if (check_keys(s, model_honoured, model_ignored) < 0) return -1;

    /* architecture choices olmo.c does not implement */
    if (require_bool(s, "alibi", 0, 0, "olmo.c uses rotary position embeddings (rope: true)") < 0) return -1;
    if (require_bool(s, "rope", 0, 1, "olmo.c implements RoPE only (no learned position embeddings); set rope: true") < 0)
        return -1;
    if (require_bool(s, "scale_logits", 0, 0, "logit scaling by 1/sqrt(d_model) is not implemented") < 0) return -1;
    if (require_bool(s, "include_bias", 1, 0, "olmo.c's linear layers have no biases; set include_bias: false") < 0)
        return -1;
    if (require_bool(s, "scale_emb_init", 0, 0, "not implemented") < 0) return -1;
    if (val(s, "emb_init_std")) return refuse(s, "emb_init_std", "a separate embedding init std is not implemented");
    static const char *no_dropout = "olmo.c trains without dropout (every OLMo release used 0.0); set it to 0.0";
    if (require_zero(s, "attention_dropout", 0.1, no_dropout) < 0) return -1;
    if (require_zero(s, "residual_dropout", 0.1, no_dropout) < 0) return -1;
    if (require_zero(s, "embedding_dropout", 0.1, no_dropout) < 0) return -1;
    char *act = NULL, *block = NULL, *lnt = NULL, *init = NULL;
    int rc = -1;
    if (get_str(s, "activation_type", "swiglu", &act) < 0) goto out;
    if (strcmp(act, "swiglu")) {
        refuse(s, "activation_type", "'%s' is not supported: olmo.c's MLP is SwiGLU", act);
        goto out;
    }
    if (get_str(s, "block_type", "sequential", &block) < 0) goto out;
    /* OLMo's "llama" block computes the same function as "sequential" with separate q/k/v projections */
    if (strcmp(block, "sequential") && strcmp(block, "llama")) {
        refuse(s, "block_type", "'%s' is not supported: olmo.c implements the sequential block", block);
        goto out;
    }

    int64_t d_model, n_heads, n_layers, mlp_ratio, seq, vocab, emb, eos, pad, bos;
    if (get_int(s, "d_model", 768, &d_model) < 0 || positive(s, "d_model", d_model) < 0) goto out;
    if (get_int(s, "n_heads", 12, &n_heads) < 0 || positive(s, "n_heads", n_heads) < 0) goto out;
    if (get_int(s, "n_layers", 12, &n_layers) < 0 || positive(s, "n_layers", n_layers) < 0) goto out;
    if (d_model % n_heads) {
        refuse(s, "n_heads", "d_model %lld is not a multiple of n_heads %lld", (long long)d_model, (long long)n_heads);
        goto out;
    }
    if ((d_model / n_heads) % 2) {
        refuse(s, "n_heads", "the head size d_model / n_heads = %lld must be even (RoPE rotates pairs)",
               (long long)(d_model / n_heads));
        goto out;
    }
    int mqa;
    int64_t n_kv;
    if (get_bool(s, "multi_query_attention", 0, &mqa) < 0) goto out;
    if (get_int(s, "n_kv_heads", mqa ? 1 : n_heads, &n_kv) < 0 || positive(s, "n_kv_heads", n_kv) < 0) goto out;
    if (val(s, "n_kv_heads") && val(s, "multi_query_attention") && n_kv != (mqa ? 1 : n_heads)) {
        refuse(s, "n_kv_heads", "cannot be set together with multi_query_attention (as in OLMo)");
        goto out;
    }
    if (n_heads % n_kv) {
        refuse(s, "n_kv_heads", "n_heads %lld is not a multiple of n_kv_heads %lld", (long long)n_heads, (long long)n_kv);
        goto out;
    }
    int64_t hidden;
    if (get_int(s, "mlp_ratio", 4, &mlp_ratio) < 0 || positive(s, "mlp_ratio", mlp_ratio) < 0) goto out;
    if (get_int(s, "mlp_hidden_size", mlp_ratio * d_model, &hidden) < 0 || positive(s, "mlp_hidden_size", hidden) < 0)
        goto out;
    if (hidden % 2) {
        refuse(s, val(s, "mlp_hidden_size") ? "mlp_hidden_size" : "mlp_ratio",
               "the MLP hidden size %lld must be even: SwiGLU splits it into two halves", (long long)hidden);
        goto out;
    }
    if (get_int(s, "max_sequence_length", 1024, &seq) < 0 || positive(s, "max_sequence_length", seq) < 0) goto out;
    if (get_int(s, "vocab_size", 50257, &vocab) < 0 || positive(s, "vocab_size", vocab) < 0) goto out;
    /* absent: OLMo's default 50304; null: the vocabulary size */
    if (get_int(s, "embedding_size", ycfg_child(s->node, "embedding_size") ? vocab : 50304, &emb) < 0) goto out;
    if (emb < vocab) {
        refuse(s, "embedding_size", "%lld is smaller than vocab_size %lld (the embedding must cover every id)",
               (long long)emb, (long long)vocab);
        goto out;
    }
    if (get_int(s, "eos_token_id", 50256, &eos) < 0 || get_int(s, "pad_token_id", 50256, &pad) < 0 ||
        get_int(s, "bos_token_id", -1, &bos) < 0)
        goto out;
    if (eos < 0 || eos >= emb) {
        refuse(s, "eos_token_id", "%lld is outside the embedding (0..%lld)", (long long)eos, (long long)emb - 1);
        goto out;
    }
    if (d_model > INT32_MAX || hidden > INT32_MAX || emb > INT32_MAX || seq > INT32_MAX || n_layers > 100000) {
        refuse(s, "d_model", "sizes too large");
        goto out;
    }
    m->d_model = (int)d_model;
    m->n_heads = (int)n_heads;
    m->n_kv_heads = (int)n_kv;
    m->n_layers = (int)n_layers;
    m->head_dim = (int)(d_model / n_heads);
    m->d_ff = (int)(hidden / 2);
    m->max_seq_len = (int)seq;
    m->vocab_size = (int)emb;
    tc->tokenizer_vocab_size = (int)vocab;
    m->eos_token_id = (int)eos;
    m->pad_token_id = (int)pad;
    m->bos_token_id = (int)bos;

    double theta, eps, clip;
    if (get_double(s, "rope_theta", 10000.0, &theta) < 0) goto out;
    if (!(theta > 0)) {
        refuse(s, "rope_theta", "must be positive");
        goto out;
    }
    if (get_double(s, "layer_norm_eps", 1e-5, &eps) < 0) goto out;
    if (!(eps > 0)) {
        refuse(s, "layer_norm_eps", "must be positive");
        goto out;
    }
    if (get_double(s, "clip_qkv", 0, &clip) < 0) goto out;
    if (clip < 0) {
        refuse(s, "clip_qkv", "must be positive (or null for no clipping)");
        goto out;
    }
    m->rope_theta = (float)theta;
    m->norm_eps = (float)eps;
    m->clip_qkv = (float)clip;
    if (get_bool(s, "weight_tying", 1, &m->tie_embeddings) < 0) goto out;

    /* norms: the three layouts Hugging Face knows (olmo, olmo2, llama), as config.h describes */
    int affine, qk, qk_affine, after, ln_bias = 0, inc_bias;
    if (get_str(s, "layer_norm_type", "default", &lnt) < 0) goto out;
    if (get_bool(s, "layer_norm_with_affine", 1, &affine) < 0 || get_bool(s, "attention_layer_norm", 0, &qk) < 0 ||
        get_bool(s, "attention_layer_norm_with_affine", 1, &qk_affine) < 0 || get_bool(s, "norm_after", 0, &after) < 0 ||
        get_bool(s, "include_bias", 1, &inc_bias) < 0 || get_bool(s, "bias_for_layer_norm", inc_bias, &ln_bias) < 0)
        goto out;
    int is_ln = !strcmp(lnt, "default") || !strcmp(lnt, "low_precision") || !strcmp(lnt, "amd_compatible");
    int is_rms = !strcmp(lnt, "rms");
    if (!is_ln && !is_rms) {
        refuse(s, "layer_norm_type", "'%s' is not supported (default, low_precision, amd_compatible, rms)", lnt);
        goto out;
    }
    m->norm_after = after;
    m->qk_norm = qk;
    if (is_ln) {
        /* OLMo-1: non-parametric LayerNorm, pre-norm, no QK-norm (Hugging Face "olmo") */
        if (affine) {
            refuse(s, "layer_norm_with_affine", "a LayerNorm with weights is not a layout olmo.c writes (OLMo-1 uses "
                   "layer_norm_with_affine: false; use layer_norm_type: rms for a norm with weights)");
            goto out;
        }
        if (after) {
            refuse(s, "norm_after", "norm_after needs layer_norm_type: rms (the OLMo-2 layout)");
            goto out;
        }
        if (qk) {
            refuse(s, "attention_layer_norm", "QK-norm needs layer_norm_type: rms (the OLMo-2 layout)");
            goto out;
        }
        m->arch = ARCH_OLMO1;
        m->norm_type = NORM_LAYERNORM_NOAFFINE;
    } else {
        if (!affine) {
            refuse(s, "layer_norm_with_affine", "an RMSNorm without weights is not a layout olmo.c writes");
            goto out;
        }
        if (ln_bias) {
            refuse(s, "bias_for_layer_norm", "norms with biases are not supported");
            goto out;
        }
        if (qk && !qk_affine) {
            refuse(s, "attention_layer_norm_with_affine", "QK-norm without weights is not supported");
            goto out;
        }
        if (after) {
            if (!qk) {
                refuse(s, "attention_layer_norm", "norm_after (the OLMo-2 layout) comes with QK-norm in Hugging "
                       "Face's olmo2; set attention_layer_norm: true");
                goto out;
            }
            m->arch = ARCH_OLMO2;
        } else {
            if (qk) {
                refuse(s, "attention_layer_norm", "QK-norm with pre-norm RMSNorm is neither olmo2 nor llama; use "
                       "norm_after: true (OLMo-2) or attention_layer_norm: false (llama)");
                goto out;
            }
            if (clip > 0) {
                refuse(s, "clip_qkv", "the pre-norm RMSNorm (llama) layout has no QKV clipping");
                goto out;
            }
            m->arch = ARCH_LLAMA;
        }
        m->norm_type = NORM_RMSNORM;
    }

    /* OLMo-3: sliding-window attention (olmo.c's key; OLMo-core's pattern [W, W, W, -1]: every 4th layer and the
     * last layer full, the others see W positions including their own) */
    int64_t win;
    if (get_int(s, "sliding_window", 0, &win) < 0) goto out;
    if (win < 0 || win > (1 << 30)) {
        refuse(s, "sliding_window", "must be 0 (off) or a positive window in tokens");
        goto out;
    }
    if (win > 0) {
        if (m->arch != ARCH_OLMO2) {
            refuse(s, "sliding_window", "sliding-window attention is the OLMo-3 block: it needs the OLMo-2 layout "
                   "(norm_after: true, attention_layer_norm: true)");
            goto out;
        }
        if (m->n_layers > OLMO_MAX_LAYERS) {
            refuse(s, "sliding_window", "at most %d layers", OLMO_MAX_LAYERS);
            goto out;
        }
        m->arch = ARCH_OLMO3;
        m->sliding_window = (int)win;
        for (int l = 0; l < m->n_layers; l++) m->layer_sliding[l] = (l + 1) % 4 != 0 && l != m->n_layers - 1;
    }

    /* init */
    if (get_str(s, "init_fn", "normal", &init) < 0) goto out;
    if (!strcmp(init, "normal")) tc->init_fn = TRAIN_INIT_NORMAL;
    else if (!strcmp(init, "mitchell")) tc->init_fn = TRAIN_INIT_MITCHELL;
    else {
        refuse(s, "init_fn", "'%s' is not supported (normal, mitchell)", init);
        goto out;
    }
    if (get_double(s, "init_std", 0.02, &tc->init_std) < 0) goto out;
    if (get_double(s, "init_cutoff_factor", 0, &tc->init_cutoff_factor) < 0) goto out;
    if (!(tc->init_std > 0) || tc->init_cutoff_factor < 0) {
        refuse(s, !(tc->init_std > 0) ? "init_std" : "init_cutoff_factor", "must be positive");
        goto out;
    }
    rc = 0;
out:
    free(act);
    free(block);
    free(lnt);
    free(init);
    return rc;
}

/* ------------------------------------------------------------------------------------------------ optimizer */

static const char *const opt_honoured[] = {"name", "learning_rate", "weight_decay", "betas", "eps",
                                           "decay_norm_and_bias", "decay_embeddings", "no_decay_norm_and_bias",
                                           "selective_updates", NULL};
static const char *const opt_ignored[] = {"metrics_log_interval", "record_update_metrics", NULL};

static int read_optimizer(struct sec *s) {
    struct train_config *tc = s->tc;
    if (check_keys(s, opt_honoured, opt_ignored) < 0) return -1;
    char *name = NULL;
    if (get_str(s, "name", "lionw", &name) < 0) return -1;
    int ok = !strcmp(name, "adamw");
    if (!ok) refuse(s, "name", "'%s' is not supported: olmo.c implements AdamW (name: adamw)", name);
    free(name);
    if (!ok) return -1;
    if (require_bool(s, "selective_updates", 0, 0, "not implemented") < 0) return -1;
    if (get_double(s, "learning_rate", 1e-4, &tc->lr) < 0 || get_double(s, "weight_decay", 0.01, &tc->weight_decay) < 0 ||
        get_double(s, "eps", 1e-5, &tc->eps) < 0 || get_bool(s, "decay_norm_and_bias", 0, &tc->decay_norm_and_bias) < 0 ||
        get_bool(s, "decay_embeddings", 0, &tc->decay_embeddings) < 0)
        return -1;
    if (val(s, "no_decay_norm_and_bias")) {
        /* OLMo's deprecated switch: true means neither norms/biases nor embeddings decay */
        int nd;
        if (get_bool(s, "no_decay_norm_and_bias", 0, &nd) < 0) return -1;
        tc->decay_norm_and_bias = !nd;
        tc->decay_embeddings = !nd;
    }
    tc->beta1 = 0.9;
    tc->beta2 = 0.95;
    const struct ycfg_node *b = val(s, "betas");
    if (b) {
        if (b->kind != YCFG_LIST || b->n != 2)
            return olmo_err("%s: optimizer.betas: expected a list of two numbers [beta1, beta2]", ycfg_where(b));
        if (ycfg_as_double(b->vals[0], "optimizer.betas.0", &tc->beta1) < 0 ||
            ycfg_as_double(b->vals[1], "optimizer.betas.1", &tc->beta2) < 0)
            return -1;
        if (!(tc->beta1 >= 0 && tc->beta1 < 1 && tc->beta2 >= 0 && tc->beta2 < 1))
            return olmo_err("%s: optimizer.betas: each must be in [0, 1), found [%g, %g]", ycfg_where(b), tc->beta1,
                            tc->beta2);
    }
    if (!(tc->lr >= 0)) return refuse(s, "learning_rate", "must be >= 0");
    if (!(tc->eps > 0)) return refuse(s, "eps", "must be positive");
    if (!(tc->weight_decay >= 0)) return refuse(s, "weight_decay", "must be >= 0");
    return 0;
}

/* ------------------------------------------------------------------------------------------------ scheduler */

static const char *const sched_honoured[] = {"name", "units", "t_warmup", "t_max", "alpha_f", "warmup_min_lr",
                                             "grad_clip_warmup_steps", "grad_clip_warmup_factor", "decay",
                                             "decay_fraction", "decay_min_lr", NULL};
static const char *const sched_ignored[] = {NULL};

static int read_scheduler(struct sec *s) {
    struct train_config *tc = s->tc;
    if (check_keys(s, sched_honoured, sched_ignored) < 0) return -1;
    char *name = NULL, *units = NULL;
    int rc = -1;
    if (get_str(s, "name", "cosine_with_warmup", &name) < 0 || get_str(s, "units", "steps", &units) < 0) goto out;
    static const struct { const char *name; enum train_sched k; } names[] = {
        {"cosine_with_warmup", TRAIN_SCHED_COSINE}, {"linear_with_warmup", TRAIN_SCHED_LINEAR},
        {"constant", TRAIN_SCHED_CONSTANT}, {"constant_with_warmup", TRAIN_SCHED_CONSTANT_WARMUP},
        {"inverse_sqrt_with_warmup", TRAIN_SCHED_INV_SQRT}, {"max_scheduler", TRAIN_SCHED_MAX},
        {"cosine_linear_envelope", TRAIN_SCHED_COS_LINEAR_ENVELOPE}, {"wsd", TRAIN_SCHED_WSD}};
    tc->sched = 0;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (!strcmp(name, names[i].name)) tc->sched = names[i].k;
    if (!tc->sched) {
        refuse(s, "name", "'%s' is not supported (" OPTIM_SCHED_NAMES ")", name);
        goto out;
    }
    if (!strcmp(units, "steps")) tc->units = TRAIN_UNITS_STEPS;
    else if (!strcmp(units, "tokens")) tc->units = TRAIN_UNITS_TOKENS;
    else {
        refuse(s, "units", "'%s' is not one of steps, tokens", units);
        goto out;
    }
    if (get_double(s, "t_warmup", 100, &tc->t_warmup) < 0 || get_double(s, "t_max", 0, &tc->t_max) < 0 ||
        get_double(s, "alpha_f", 0.1, &tc->alpha_f) < 0 ||
        get_double(s, "grad_clip_warmup_steps", 0, &tc->grad_clip_warmup_steps) < 0 ||
        get_double(s, "grad_clip_warmup_factor", 0, &tc->grad_clip_warmup_factor) < 0 ||
        get_double(s, "decay", 0, &tc->decay) < 0 || get_double(s, "decay_fraction", 0.1, &tc->decay_fraction) < 0 ||
        get_double(s, "decay_min_lr", 0, &tc->decay_min_lr) < 0)
        goto out;
    if (tc->t_warmup < 0) {
        refuse(s, "t_warmup", "must be >= 0");
        goto out;
    }
    /* lr·sqrt(W/max(W, x)) is 0 everywhere when W = 0: OLMo would train at lr 0 */
    if ((tc->sched == TRAIN_SCHED_INV_SQRT || tc->sched == TRAIN_SCHED_MAX) && !(tc->t_warmup > 0)) {
        refuse(s, "t_warmup", "must be > 0 for %s (lr·sqrt(t_warmup/x) is 0 when t_warmup is 0)", name);
        goto out;
    }
    if (tc->decay < 0 || !(tc->decay_fraction >= 0 && tc->decay_fraction <= 1)) {
        refuse(s, tc->decay < 0 ? "decay" : "decay_fraction", "must be >= 0 (decay) / in [0, 1] (decay_fraction)");
        goto out;
    }
    if (val(s, "t_max") && !(tc->t_max > 0)) {
        refuse(s, "t_max", "must be positive (or null: the run's length)");
        goto out;
    }
    tc->warmup_min_lr_set = val(s, "warmup_min_lr") != NULL;
    /* OLMo's old trainer starts warm-up at 10 % of the peak when warmup_min_lr is unset (spec §2d) */
    /* ... but wsd exists only in OLMo-core, whose default is 0 */
    double w0_default = tc->sched == TRAIN_SCHED_WSD ? 0.0 : 0.1 * tc->lr;
    if (get_double(s, "warmup_min_lr", w0_default, &tc->warmup_min_lr) < 0) goto out;
    rc = 0;
out:
    free(name);
    free(units);
    return rc;
}

/* ------------------------------------------------------------------------------------------------ data */

static const char *const data_honoured[] = {"paths", "datasets", "memmap_dtype", "drop_last", "seed",
                                            "instance_filter", "label_mask_paths", "generate_doc_lengths", NULL};
static const char *const data_ignored[] = {"pad_direction", "num_workers", "pin_memory", "prefetch_factor",
                                           "persistent_workers", "timeout", "generate_attention_mask", NULL};

static int add_path(struct train_config *tc, const char *p) {
    char **v = olmo_realloc(tc->data_paths, (tc->n_data_paths + 1) * sizeof *v);
    if (!v) return -1;
    tc->data_paths = v;
    if (!(v[tc->n_data_paths] = olmo_strdup(p))) return -1;
    tc->n_data_paths++;
    return 0;
}

/* One data.paths entry: a glob pattern expands to its sorted matches (no match is an error), else as is. */
static int add_path_entry(struct train_config *tc, const struct ycfg_node *n, const char *key) {
    const char *p;
    if (ycfg_as_str(n, key, &p) < 0) return -1;
    if (!strpbrk(p, "*?[")) return add_path(tc, p);
    glob_t g;
    int gr = glob(p, 0, NULL, &g);
    int rc = 0;
    if (gr == 0) {
        for (size_t i = 0; i < g.gl_pathc && rc == 0; i++) rc = add_path(tc, g.gl_pathv[i]);
    } else {
        rc = olmo_err("%s: %s: the pattern '%s' matches no file", ycfg_where(n), key, p);
    }
    if (gr == 0 || gr == GLOB_NOMATCH) globfree(&g);
    return rc;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int read_data(struct sec *s) {
    struct train_config *tc = s->tc;
    if (check_keys(s, data_honoured, data_ignored) < 0) return -1;
    const struct ycfg_node *paths = val(s, "paths"), *ds = val(s, "datasets");
    if (paths && ds) return refuse(s, "datasets", "set either data.paths or data.datasets, not both");
    if (paths) {
        if (paths->kind == YCFG_SCALAR) {
            if (add_path_entry(tc, paths, "data.paths") < 0) return -1;
        } else if (paths->kind == YCFG_LIST) {
            for (size_t i = 0; i < paths->n; i++) {
                char k[64];
                snprintf(k, sizeof k, "data.paths.%zu", i);
                if (add_path_entry(tc, paths->vals[i], k) < 0) return -1;
            }
        } else {
            return olmo_err("%s: data.paths: expected a list of token files, found a mapping", ycfg_where(paths));
        }
    } else if (ds) {
        /* OLMo sorts the labels, then concatenates each label's paths in order */
        if (ds->kind != YCFG_MAP) return olmo_err("%s: data.datasets: expected a mapping label -> paths", ycfg_where(ds));
        char **labels = olmo_malloc((ds->n ? ds->n : 1) * sizeof *labels);
        if (!labels) return -1;
        for (size_t i = 0; i < ds->n; i++) labels[i] = ds->keys[i];
        qsort(labels, ds->n, sizeof *labels, cmp_str);
        int rc = 0;
        for (size_t i = 0; i < ds->n && rc == 0; i++) {
            const struct ycfg_node *l = ycfg_child(ds, labels[i]);
            char k[256];
            snprintf(k, sizeof k, "data.datasets.%s", labels[i]);
            if (l->kind == YCFG_LIST) {
                for (size_t j = 0; j < l->n && rc == 0; j++) rc = add_path_entry(tc, l->vals[j], k);
            } else {
                rc = add_path_entry(tc, l, k);
            }
        }
        free(labels);
        if (rc < 0) return -1;
    }
    char *dt = NULL;
    if (get_str(s, "memmap_dtype", "uint16", &dt) < 0) return -1;
    static const struct { const char *name; int bytes; } dtypes[] = {
        {"uint8", 1}, {"uint16", 2}, {"uint32", 4}, {"uint64", 8}};
    tc->memmap_dtype_bytes = 0;
    for (size_t i = 0; i < 4; i++)
        if (!strcmp(dt, dtypes[i].name)) tc->memmap_dtype_bytes = dtypes[i].bytes;
    int bad = tc->memmap_dtype_bytes == 0;
    if (bad) refuse(s, "memmap_dtype", "'%s' is not one of uint8, uint16, uint32, uint64", dt);
    free(dt);
    if (bad) return -1;
    if (get_bool(s, "drop_last", 0, &tc->drop_last) < 0) return -1;
    if (get_int(s, "seed", tc->seed, &tc->data_seed) < 0) return -1;
    if (tc->data_seed < 0) return refuse(s, "seed", "must be >= 0 (NumPy's SeedSequence takes non-negative seeds)");
    if (val(s, "label_mask_paths")) return refuse(s, "label_mask_paths", "label masks (SFT) are not supported in pretraining");
    if (require_bool(s, "generate_doc_lengths", 0, 0, "intra-document attention masking is not implemented "
                     "(every official config trains across document boundaries)") < 0)
        return -1;
    const struct ycfg_node *f = val(s, "instance_filter");
    tc->instance_filter = f != NULL;
    tc->rep_min_period = 1;
    tc->rep_max_period = 13;
    tc->rep_max_count = 32;
    if (f) {
        static const char *const fk[] = {"repetition_max_period", "repetition_min_period", "repetition_max_count", NULL};
        static const char *const none[] = {NULL};
        struct sec fs = {f, "data.instance_filter", tc};
        if (check_keys(&fs, fk, none) < 0) return -1;
        if (get_int32(&fs, "repetition_min_period", 1, &tc->rep_min_period) < 0 ||
            get_int32(&fs, "repetition_max_period", 13, &tc->rep_max_period) < 0 ||
            get_int32(&fs, "repetition_max_count", 32, &tc->rep_max_count) < 0)
            return -1;
        if (tc->rep_min_period < 1 || tc->rep_max_period < tc->rep_min_period)
            return refuse(&fs, "repetition_min_period", "need 1 <= repetition_min_period <= repetition_max_period");
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------------ top level */

static const char *const top_honoured[] = {
    "run_name", "seed", "epoch", "model", "optimizer", "scheduler", "data", "tokenizer", "restore_dataloader",
    "fast_forward_batches", "eval_interval", "save_folder", "save_interval", "save_interval_unsharded",
    "save_overwrite", "load_path", "max_duration", "global_train_batch_size", "device_train_microbatch_size",
    "device_train_batch_size", "max_grad_norm", "max_grad_norm_ratio", "precision", "softmax_auxiliary_loss",
    "auxiliary_loss_multiplier", "stop_at", "stop_after", "reset_optimizer_state", "reset_trainer_state",
    "evaluators", NULL};
static const char *const top_ignored[] = {
    "dry_run", "wandb", "eval_subset_num_batches", "device_eval_batch_size", "eval_on_load",
    "remote_save_folder", "canceled_check_interval", "save_interval_ephemeral", "save_num_checkpoints_to_keep",
    "save_num_unsharded_checkpoints_to_keep", "force_save_unsharded", "no_pre_train_checkpoint",
    "load_path_sharded_checkpointer", "sharded_checkpointer", "new_style_checkpoints", "speed_monitor",
    "console_log_interval", "gen1_gc_interval", "compile", "fsdp", "ddp", "single", "distributed_strategy",
    "time_limit", "extra_steps_after_cancel", "early_stopping_factor", "save_data_indices", "python_profiling",
    "torch_profiling", "activation_checkpointing", "fused_loss", "hf_datasets_cache_dir", "module_outputs_save_steps",
    "try_load_latest_save", "device_train_grad_accum", "auxiliary_loss_multiplier_warmup", NULL};

static int parse_duration(const struct ycfg_node *n, struct train_config *tc) {
    const char *t = n->text;
    size_t len = strlen(t);
    char buf[64];
    if (n->kind != YCFG_SCALAR || len == 0 || len >= sizeof buf) goto bad;
    /* "2e12T" tokens, "1ep" epochs, else steps (OLMo: int(float(x)) for a string without a unit) */
    tc->duration_unit = TRAIN_DUR_STEPS;
    size_t cut = len;
    if (t[len - 1] == 'T') {
        tc->duration_unit = TRAIN_DUR_TOKENS;
        cut = len - 1;
    } else if (len > 2 && !strcmp(t + len - 2, "ep")) {
        tc->duration_unit = TRAIN_DUR_EPOCHS;
        cut = len - 2;
    }
    memcpy(buf, t, cut);
    buf[cut] = 0;
    struct ycfg_node tmp = {.kind = YCFG_SCALAR, .line = n->line, .src = n->src, .text = buf};
    int64_t iv;
    double dv;
    if (ycfg_as_int(&tmp, "max_duration", &iv) == 0) {
        tc->max_duration = iv;
    } else if (tc->duration_unit != TRAIN_DUR_EPOCHS && ycfg_as_double(&tmp, "max_duration", &dv) == 0 &&
               dv >= 0 && dv < 9.2e18) {
        tc->max_duration = (int64_t)dv;   /* int(float(...)) as OLMo does */
    } else {
        goto bad;
    }
    if (tc->max_duration <= 0) goto bad;
    olmo_err_clear();
    return 0;
bad:
    return olmo_err("%s: max_duration: expected steps (1000), tokens (2e12T) or epochs (1ep), found '%s'",
                    ycfg_where(n), n->text);
}

static int read_top(struct sec *s) {
    struct train_config *tc = s->tc;
    if (check_keys(s, top_honoured, top_ignored) < 0) return -1;
    if (get_str(s, "run_name", NULL, &tc->run_name) < 0) return -1;
    if (get_int(s, "seed", 6198, &tc->seed) < 0) return -1;
    if (get_int(s, "epoch", 0, &tc->epoch) < 0) return -1;
    if (tc->epoch < 0) return refuse(s, "epoch", "must be >= 0");
    const struct ycfg_node *d = val(s, "max_duration");
    tc->duration_unit = TRAIN_DUR_STEPS;
    tc->max_duration = 10000;
    if (d && parse_duration(d, tc) < 0) return -1;
    if (get_int(s, "stop_at", 0, &tc->stop_at) < 0) return -1;
    if (val(s, "stop_after")) return refuse(s, "stop_after", "not supported; use stop_at (a step number)");
    if (get_int(s, "global_train_batch_size", 512, &tc->global_train_batch_size) < 0 ||
        positive(s, "global_train_batch_size", tc->global_train_batch_size) < 0)
        return -1;
    if (get_int(s, "device_train_microbatch_size", 16, &tc->device_train_microbatch_size) < 0 ||
        positive(s, "device_train_microbatch_size", tc->device_train_microbatch_size) < 0)
        return -1;
    if (val(s, "device_train_batch_size") && note_ignored(tc, "device_train_batch_size") < 0) return -1;
    if (get_double(s, "max_grad_norm", 0, &tc->max_grad_norm) < 0) return -1;
    if (tc->max_grad_norm < 0) return refuse(s, "max_grad_norm", "must be >= 0");
    if (val(s, "max_grad_norm_ratio"))
        return refuse(s, "max_grad_norm_ratio", "adaptive clipping is not implemented; use max_grad_norm");
    if (get_str(s, "precision", NULL, &tc->precision) < 0) return -1;
    if (tc->precision && strcmp(tc->precision, "fp32") && strcmp(tc->precision, "amp_bf16") &&
        strcmp(tc->precision, "amp_fp16"))
        return refuse(s, "precision", "'%s' is not one of fp32, amp_bf16, amp_fp16", tc->precision);
    if (get_bool(s, "softmax_auxiliary_loss", 0, &tc->softmax_auxiliary_loss) < 0 ||
        get_double(s, "auxiliary_loss_multiplier", 1e-4, &tc->auxiliary_loss_multiplier) < 0)
        return -1;
    if (get_str(s, "save_folder", "./", &tc->save_folder) < 0 || get_str(s, "load_path", NULL, &tc->load_path) < 0)
        return -1;
    if (get_int(s, "save_interval", 1000, &tc->save_interval) < 0 ||
        get_int(s, "save_interval_unsharded", 0, &tc->save_interval_unsharded) < 0 ||
        get_int(s, "eval_interval", 1000, &tc->eval_interval) < 0 ||
        get_int(s, "fast_forward_batches", 0, &tc->fast_forward_batches) < 0 ||
        get_bool(s, "save_overwrite", 0, &tc->save_overwrite) < 0 ||
        get_bool(s, "restore_dataloader", 1, &tc->restore_dataloader) < 0)
        return -1;
    if (ycfg_child(s->node, "save_interval") && !val(s, "save_interval")) tc->save_interval = 0;   /* null: never */
    if (tc->save_interval < 0 || tc->save_interval_unsharded < 0 || tc->eval_interval < 0 || tc->fast_forward_batches < 0)
        return olmo_err("%s: intervals and fast_forward_batches must be >= 0", ycfg_where(s->node));
    if (eval_train_parse(ycfg_child(s->node, "evaluators"), &tc->evaluators) < 0) return -1;
    if (require_bool(s, "reset_optimizer_state", 0, 0, "not implemented (start from weights with --init-from)") < 0 ||
        require_bool(s, "reset_trainer_state", 0, 0, "not implemented") < 0)
        return -1;
    return 0;
}

int train_config_from_tree(struct train_config *tc, const struct ycfg *c) {
    memset(tc, 0, sizeof *tc);
    if (!(tc->ignored = olmo_strdup(""))) return -1;
    if (c->path && !(tc->config_path = olmo_strdup(c->path))) goto fail;
    struct sec top = {c->root, "", tc};
    if (read_top(&top) < 0) goto fail;
    struct sec model = {ycfg_get(c, "model"), "model", tc};
    struct sec opt = {ycfg_get(c, "optimizer"), "optimizer", tc};
    struct sec sched = {ycfg_get(c, "scheduler"), "scheduler", tc};
    struct sec data = {ycfg_get(c, "data"), "data", tc};
    struct sec tok = {ycfg_get(c, "tokenizer"), "tokenizer", tc};
    struct sec *secs[] = {&model, &opt, &sched, &data, &tok};
    for (size_t i = 0; i < 5; i++)
        if (secs[i]->node && ycfg_is_null(secs[i]->node)) secs[i]->node = NULL;
    if (read_model(&model) < 0 || read_optimizer(&opt) < 0 || read_scheduler(&sched) < 0 || read_data(&data) < 0)
        goto fail;
    static const char *const tok_honoured[] = {"identifier", NULL};
    static const char *const tok_ignored[] = {"truncate_direction", NULL};
    if (check_keys(&tok, tok_honoured, tok_ignored) < 0) goto fail;
    if (get_str(&tok, "identifier", NULL, &tc->tokenizer_identifier) < 0) goto fail;
    if (tc->device_train_microbatch_size > tc->global_train_batch_size)
        tc->device_train_microbatch_size = tc->global_train_batch_size;   /* OLMo clamps it the same way */
    return 0;
fail:
    train_config_free(tc);
    return -1;
}

int train_config_load_yaml(struct train_config *tc, const char *path, int n_overrides, char *const *overrides,
                           char **yaml) {
    struct ycfg c;
    memset(tc, 0, sizeof *tc);
    if (yaml) *yaml = NULL;
    if (ycfg_load(&c, path) < 0) return -1;
    for (int i = 0; i < n_overrides; i++)
        if (ycfg_override(&c, overrides[i]) < 0) goto fail;
    if (ycfg_resolve(&c) < 0) goto fail;
    if (train_config_from_tree(tc, &c) < 0) goto fail;
    if (yaml && !(*yaml = ycfg_dump(&c))) {
        train_config_free(tc);
        goto fail;
    }
    ycfg_free(&c);
    return 0;
fail:
    ycfg_free(&c);
    return -1;
}

int train_config_load(struct train_config *tc, const char *path, int n_overrides, char *const *overrides, int quiet) {
    if (train_config_load_yaml(tc, path, n_overrides, overrides, NULL) < 0) return -1;
    if (!quiet && tc->ignored[0]) olmo_log_info("config: ignored (no effect in olmo.c): %s", tc->ignored);
    return 0;
}

void train_config_free(struct train_config *tc) {
    free(tc->config_path);
    free(tc->run_name);
    eval_train_spec_free(&tc->evaluators);
    for (size_t i = 0; i < tc->n_data_paths; i++) free(tc->data_paths[i]);
    free(tc->data_paths);
    free(tc->tokenizer_identifier);
    free(tc->save_folder);
    free(tc->load_path);
    free(tc->precision);
    free(tc->ignored);
    memset(tc, 0, sizeof *tc);
}

int64_t train_config_tokens_per_step(const struct train_config *tc) {
    return tc->global_train_batch_size * (int64_t)tc->model.max_seq_len;
}

int64_t train_config_max_steps(const struct train_config *tc, int64_t steps_per_epoch) {
    int64_t steps;
    int64_t tps = train_config_tokens_per_step(tc);
    switch (tc->duration_unit) {
    case TRAIN_DUR_TOKENS: steps = tps > 0 ? (tc->max_duration + tps - 1) / tps : 0; break;
    case TRAIN_DUR_EPOCHS: steps = tc->max_duration * steps_per_epoch; break;
    default: steps = tc->max_duration; break;
    }
    if (tc->stop_at > 0 && tc->stop_at < steps) steps = tc->stop_at;
    return steps;
}

double train_config_t_max(const struct train_config *tc, int64_t steps_per_epoch) {
    if (tc->t_max > 0) return tc->t_max;
    /* OLMo's scheduler horizon is max_steps / max_tokens from max_duration, not from stop_at */
    int64_t tps = train_config_tokens_per_step(tc);
    int64_t steps;
    switch (tc->duration_unit) {
    case TRAIN_DUR_TOKENS:
        if (tc->units == TRAIN_UNITS_TOKENS) return (double)tc->max_duration;
        steps = tps > 0 ? (tc->max_duration + tps - 1) / tps : 0;
        break;
    case TRAIN_DUR_EPOCHS: steps = tc->max_duration * steps_per_epoch; break;
    default: steps = tc->max_duration; break;
    }
    return tc->units == TRAIN_UNITS_TOKENS ? (double)steps * (double)tps : (double)steps;
}
