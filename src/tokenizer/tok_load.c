/* tok_load.c — reading a tokenizer.json into struct olmo_tokenizer (see tokenizer.h for what is supported).
 *
 * Every part is validated; anything the encoder would not reproduce exactly (another model type, dropout,
 * truncation, an unknown normalizer...) is refused with an error that names the part, so a tokenizer either
 * loads and encodes like Hugging Face, or does not load at all. */
#include "tokenizer/pretok_internal.h"
#include "tokenizer/tok_internal.h"
#include "base/error.h"
#include "base/file.h"
#include "base/mem.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ID (1 << 24)   /* ids above this are refused: real vocabularies have at most a few 100k */

static int16_t char_byte[0x144];   /* byte-level character (code point < 0x144) -> byte, -1 if not one */
static void init_char_byte(void) {
    for (int c = 0; c < 0x144; c++) char_byte[c] = -1;
    for (int b = 0; b < 256; b++) char_byte[pretok_byte_to_char((uint8_t)b)] = (int16_t)b;
}

/* The bytes a byte-level token string stands for; returns the count, or -1 if some character is not one of
 * the 256 byte characters. out has room for len bytes. */
static long bytelevel_bytes(const char *s, size_t len, uint8_t *out) {
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        int n;
        uint32_t c = uc_decode((const uint8_t *)s + i, len - i, &n);
        if (c == UC_INVALID || c >= 0x144 || char_byte[c] < 0) return -1;
        out[o++] = (uint8_t)char_byte[c];
        i += (size_t)n;
    }
    return (long)o;
}

static int get_flag(const json_t *o, const char *key, int dflt, int *out, const char *where) {
    const json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) { *out = dflt; return 0; }
    if (!json_is_boolean(v)) return olmo_err("%s: \"%s\" must be true or false", where, key);
    *out = json_is_true(v);
    return 0;
}

/* ---------------------------------------------------------------- normalizer */
static int parse_normalizer(struct olmo_tokenizer *t, const json_t *v, int depth) {
    if (!v || json_is_null(v)) return 0;
    if (!json_is_object(v)) return olmo_err("%s: \"normalizer\" must be an object or null", t->name);
    const char *type = json_string_value(json_object_get(v, "type"));
    if (!type) return olmo_err("%s: normalizer without a \"type\"", t->name);
    if (!strcmp(type, "Sequence")) {
        const json_t *arr = json_object_get(v, "normalizers");
        if (!json_is_array(arr)) return olmo_err("%s: Sequence normalizer without a \"normalizers\" array", t->name);
        if (depth > 8) return olmo_err("%s: normalizer Sequence nested too deeply", t->name);
        size_t i;
        const json_t *e;
        json_array_foreach(arr, i, e) if (parse_normalizer(t, e, depth + 1)) return -1;
        return 0;
    }
    enum uc_norm f;
    if (!strcmp(type, "NFC")) f = UC_NORM_NFC;
    else if (!strcmp(type, "NFD")) f = UC_NORM_NFD;
    else if (!strcmp(type, "NFKC")) f = UC_NORM_NFKC;
    else if (!strcmp(type, "NFKD")) f = UC_NORM_NFKD;
    else return olmo_err("%s: unsupported normalizer \"%s\" (supported: NFC, NFD, NFKC, NFKD, Sequence, null)",
                         t->name, type);
    if (t->n_norm == (int)(sizeof t->norm / sizeof t->norm[0]))
        return olmo_err("%s: more than 8 normalizers in a Sequence", t->name);
    t->norm[t->n_norm++] = f;
    return 0;
}

/* ---------------------------------------------------------------- post-processor */
static int append_ids(int32_t **v, int *n, const int32_t *ids, int k) {
    int32_t *nv = realloc(*v, (size_t)(*n + k + 1) * sizeof *nv);
    if (!nv) return olmo_err("out of memory");
    if (k) memcpy(nv + *n, ids, (size_t)k * sizeof *ids);
    *v = nv;
    *n += k;
    return 0;
}

/* Post-processors compose: a later one wraps the output of an earlier one. */
static int wrap(struct olmo_tokenizer *t, const int32_t *pre, int npre, const int32_t *post, int npost) {
    int32_t *np = NULL;
    int nn = 0;
    if (append_ids(&np, &nn, pre, npre) || append_ids(&np, &nn, t->post_pre, t->n_post_pre)) { free(np); return -1; }
    free(t->post_pre);
    t->post_pre = np;
    t->n_post_pre = nn;
    return append_ids(&t->post_post, &t->n_post_post, post, npost);
}

static int check_id(const struct olmo_tokenizer *t, json_int_t id, const char *what) {
    if (id < 0 || id >= MAX_ID) return olmo_err("%s: %s has id %lld, expected 0..%d", t->name, what, (long long)id, MAX_ID - 1);
    return 0;
}

static int parse_post(struct olmo_tokenizer *t, const json_t *v, int depth) {
    if (!v || json_is_null(v)) return 0;
    const char *type = json_string_value(json_object_get(v, "type"));
    if (!type) return olmo_err("%s: post_processor without a \"type\"", t->name);
    if (!strcmp(type, "ByteLevel")) return 0;   /* offsets only; ids unchanged */
    if (!strcmp(type, "Sequence")) {
        const json_t *arr = json_object_get(v, "processors");
        if (!json_is_array(arr) || depth > 8) return olmo_err("%s: bad Sequence post_processor", t->name);
        size_t i;
        const json_t *e;
        json_array_foreach(arr, i, e) if (parse_post(t, e, depth + 1)) return -1;
        return 0;
    }
    if (!strcmp(type, "RobertaProcessing") || !strcmp(type, "BertProcessing")) {
        const json_t *cls = json_object_get(v, "cls"), *sep = json_object_get(v, "sep");
        if (!json_is_array(cls) || !json_is_array(sep) || !json_is_integer(json_array_get(cls, 1)) ||
            !json_is_integer(json_array_get(sep, 1)))
            return olmo_err("%s: %s needs \"cls\" and \"sep\" as [token, id]", t->name, type);
        json_int_t c = json_integer_value(json_array_get(cls, 1)), s = json_integer_value(json_array_get(sep, 1));
        if (check_id(t, c, "post_processor cls") || check_id(t, s, "post_processor sep")) return -1;
        int32_t ci = (int32_t)c, si = (int32_t)s;
        return wrap(t, &ci, 1, &si, 1);
    }
    if (!strcmp(type, "TemplateProcessing")) {
        const json_t *single = json_object_get(v, "single"), *specials = json_object_get(v, "special_tokens");
        if (!json_is_array(single)) return olmo_err("%s: TemplateProcessing without a \"single\" template", t->name);
        int32_t *pre = NULL, *post = NULL;
        int npre = 0, npost = 0, seen_a = 0;
        size_t i;
        const json_t *item;
        json_array_foreach(single, i, item) {
            const json_t *sp = json_object_get(item, "SpecialToken"), *sq = json_object_get(item, "Sequence");
            if (sq) {
                const char *sid = json_string_value(json_object_get(sq, "id"));
                if (!sid || strcmp(sid, "A") || seen_a) {
                    free(pre); free(post);
                    return olmo_err("%s: TemplateProcessing \"single\" must contain the sequence $A exactly once",
                                    t->name);
                }
                seen_a = 1;
                continue;
            }
            const char *name = json_string_value(json_object_get(sp, "id"));
            const json_t *st = name ? json_object_get(specials, name) : NULL;
            const json_t *ids = json_object_get(st, "ids");
            if (!json_is_array(ids)) {
                free(pre); free(post);
                return olmo_err("%s: TemplateProcessing item %zu: special token %s%s%s not described in "
                                "\"special_tokens\"", t->name, i, name ? "\"" : "", name ? name : "(unnamed)", name ? "\"" : "");
            }
            size_t k;
            const json_t *idv;
            json_array_foreach(ids, k, idv) {
                if (!json_is_integer(idv) || check_id(t, json_integer_value(idv), "TemplateProcessing special token")) {
                    free(pre); free(post);
                    if (!json_is_integer(idv)) olmo_err("%s: TemplateProcessing special token \"%s\": ids must be integers", t->name, name);
                    return -1;
                }
                int32_t id = (int32_t)json_integer_value(idv);
                if (append_ids(seen_a ? &post : &pre, seen_a ? &npost : &npre, &id, 1)) { free(pre); free(post); return -1; }
            }
        }
        if (!seen_a) { free(pre); free(post); return olmo_err("%s: TemplateProcessing \"single\" has no $A", t->name); }
        int rc = wrap(t, pre, npre, post, npost);
        free(pre);
        free(post);
        return rc;
    }
    return olmo_err("%s: unsupported post_processor \"%s\" (supported: TemplateProcessing, ByteLevel, "
                    "RobertaProcessing, BertProcessing, Sequence, null)", t->name, type);
}

/* ---------------------------------------------------------------- decoder */
static int parse_decoder(struct olmo_tokenizer *t, const json_t *v, int depth) {
    if (!v || json_is_null(v)) return 0;
    const char *type = json_string_value(json_object_get(v, "type"));
    if (!type) return olmo_err("%s: decoder without a \"type\"", t->name);
    if (!strcmp(type, "ByteLevel")) { t->decoder = DEC_BYTELEVEL; return 0; }
    if (!strcmp(type, "Sequence") && depth < 8) {
        const json_t *arr = json_object_get(v, "decoders");
        if (!json_is_array(arr)) return olmo_err("%s: Sequence decoder without a \"decoders\" array", t->name);
        size_t i;
        const json_t *e;
        json_array_foreach(arr, i, e) if (parse_decoder(t, e, depth + 1)) return -1;
        return 0;
    }
    return olmo_err("%s: unsupported decoder \"%s\" (supported: ByteLevel, null)", t->name, type);
}

/* ---------------------------------------------------------------- model */
static int parse_merge(const struct olmo_tokenizer *t, const json_t *m, size_t i, const char **a, size_t *al,
                       const char **b, size_t *bl) {
    if (json_is_string(m)) {
        const char *s = json_string_value(m);
        size_t n = json_string_length(m);
        const char *sp = memchr(s, ' ', n);
        if (!sp || memchr(sp + 1, ' ', n - (size_t)(sp + 1 - s)))
            return olmo_err("%s: merges[%zu] is \"%.80s\"; expected two tokens separated by one space", t->name, i, s);
        *a = s; *al = (size_t)(sp - s);
        *b = sp + 1; *bl = n - *al - 1;
        return 0;
    }
    if (json_is_array(m) && json_array_size(m) == 2 && json_is_string(json_array_get(m, 0)) &&
        json_is_string(json_array_get(m, 1))) {
        *a = json_string_value(json_array_get(m, 0)); *al = json_string_length(json_array_get(m, 0));
        *b = json_string_value(json_array_get(m, 1)); *bl = json_string_length(json_array_get(m, 1));
        return 0;
    }
    return olmo_err("%s: merges[%zu]: expected \"a b\" or [\"a\", \"b\"]", t->name, i);
}

static int parse_model(struct olmo_tokenizer *t, const json_t *model, const json_t *added) {
    if (!json_is_object(model)) return olmo_err("%s: missing \"model\" object", t->name);
    const char *type = json_string_value(json_object_get(model, "type"));
    if (type && strcmp(type, "BPE"))
        return olmo_err("%s: unsupported model type \"%s\" (only BPE is supported)", t->name, type);
    const json_t *vocab = json_object_get(model, "vocab"), *merges = json_object_get(model, "merges");
    if (!json_is_object(vocab)) return olmo_err("%s: model.vocab must be an object {token: id}", t->name);
    if (!json_is_array(merges)) return olmo_err("%s: model.merges must be an array", t->name);
    const json_t *dropout = json_object_get(model, "dropout");
    if (dropout && !json_is_null(dropout) && !(json_is_number(dropout) && json_number_value(dropout) == 0.0))
        return olmo_err("%s: BPE dropout is not supported (encoding would be random); set it to null", t->name);
    const char *fields[] = {"continuing_subword_prefix", "end_of_word_suffix"};
    for (int k = 0; k < 2; k++) {
        const json_t *f = json_object_get(model, fields[k]);
        if (f && !json_is_null(f) && !(json_is_string(f) && json_string_length(f) == 0))
            return olmo_err("%s: BPE %s is not supported (only null or \"\")", t->name, fields[k]);
    }
    if (get_flag(model, "fuse_unk", 0, &t->fuse_unk, t->name) ||
        get_flag(model, "byte_fallback", 0, &t->byte_fallback, t->name) ||
        get_flag(model, "ignore_merges", 0, &t->ignore_merges, t->name))
        return -1;

    /* ids and the string arena: vocab keys, then added-token contents */
    size_t total = 1, n_vocab = json_object_size(vocab);
    int32_t max_id = -1;
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)vocab, key, val) {
        if (!json_is_integer(val)) return olmo_err("%s: model.vocab[\"%.80s\"] is not an integer id", t->name, key);
        json_int_t id = json_integer_value(val);
        if (id < 0 || id >= MAX_ID)
            return olmo_err("%s: model.vocab[\"%.80s\"] = %lld; expected 0..%d", t->name, key, (long long)id, MAX_ID - 1);
        if (id > max_id) max_id = (int32_t)id;
        total += strlen(key) + 1;
    }
    size_t i;
    const json_t *a;
    json_array_foreach(added, i, a) {
        const json_t *id = json_object_get(a, "id"), *content = json_object_get(a, "content");
        if (!json_is_integer(id) || !json_is_string(content))
            return olmo_err("%s: added_tokens[%zu] needs an integer \"id\" and a string \"content\"", t->name, i);
        if (check_id(t, json_integer_value(id), "added token")) return -1;
        if (json_integer_value(id) > max_id) max_id = (int32_t)json_integer_value(id);
        total += json_string_length(content) + 1;
    }
    t->vocab_size = max_id + 1;
    size_t vs = (size_t)t->vocab_size + 1;
    t->arena = olmo_malloc(total);
    t->id_tok = olmo_calloc(vs, sizeof *t->id_tok);
    t->id_tok_len = olmo_calloc(vs, sizeof *t->id_tok_len);
    t->id_special = olmo_calloc(vs, 1);
    if (!t->arena || !t->id_tok || !t->id_tok_len || !t->id_special) return -1;
    if (tok_strmap_init(&t->tok2id, n_vocab + json_array_size(added)) || tok_strmap_init(&t->raw2id, n_vocab)) return -1;
    size_t off = 0;
    json_object_foreach((json_t *)vocab, key, val) {
        /* jansson keys are NUL-terminated; a key with an embedded NUL is cut there (no real vocab has one) */
        size_t kl = strlen(key);
        char *dst = t->arena + off;
        memcpy(dst, key, kl + 1);
        off += kl + 1;
        int32_t id = (int32_t)json_integer_value(val);
        if (tok_strmap_put(&t->tok2id, dst, kl, id)) return -1;
        if (!t->id_tok[id]) { t->id_tok[id] = dst; t->id_tok_len[id] = (uint32_t)kl; }
    }

    /* byte-level: single-byte symbols and the raw-bytes map */
    for (int b = 0; b < 256; b++) t->byte_id[b] = -1;
    if (t->byte_level) {
        for (int b = 0; b < 256; b++) {
            char c[4];
            int n = uc_encode(pretok_byte_to_char((uint8_t)b), c);
            t->byte_id[b] = tok_strmap_get(&t->tok2id, c, (size_t)n);
        }
    }

    const json_t *unk = json_object_get(model, "unk_token");
    t->unk_id = -1;
    if (unk && !json_is_null(unk)) {
        if (!json_is_string(unk)) return olmo_err("%s: model.unk_token must be a string or null", t->name);
        t->unk_id = tok_strmap_get(&t->tok2id, json_string_value(unk), json_string_length(unk));
        if (t->unk_id < 0)
            return olmo_err("%s: model.unk_token \"%.80s\" is not in the vocabulary", t->name, json_string_value(unk));
    }

    /* merges: rank = position in the list */
    if (json_array_size(merges) >= (size_t)INT32_MAX) return olmo_err("%s: too many merges", t->name);
    if (tok_pairmap_init(&t->merges, json_array_size(merges))) return -1;
    const json_t *m;
    char *buf = NULL;
    size_t bufcap = 0;
    json_array_foreach(merges, i, m) {
        const char *x = NULL, *y = NULL;
        size_t xl = 0, yl = 0;
        if (parse_merge(t, m, i, &x, &xl, &y, &yl)) { free(buf); return -1; }
        int32_t xi = tok_strmap_get(&t->tok2id, x, xl), yi = tok_strmap_get(&t->tok2id, y, yl);
        if (xi < 0 || yi < 0) {
            free(buf);
            return olmo_err("%s: merges[%zu] (\"%.*s\" \"%.*s\") names a token that is not in the vocabulary: "
                            "\"%.*s\"", t->name, i, (int)(xl > 80 ? 80 : xl), x, (int)(yl > 80 ? 80 : yl), y,
                            (int)((xi < 0 ? xl : yl) > 80 ? 80 : (xi < 0 ? xl : yl)), xi < 0 ? x : y);
        }
        if (xl + yl > bufcap) {
            bufcap = 2 * (xl + yl) + 64;
            char *nb = realloc(buf, bufcap);
            if (!nb) { free(buf); return olmo_err("out of memory"); }
            buf = nb;
        }
        memcpy(buf, x, xl);
        memcpy(buf + xl, y, yl);
        int32_t zi = tok_strmap_get(&t->tok2id, buf, xl + yl);
        if (zi < 0) {
            olmo_err("%s: merges[%zu] (\"%.*s\" \"%.*s\"): the merged token \"%.*s\" is not in the vocabulary",
                     t->name, i, (int)(xl > 80 ? 80 : xl), x, (int)(yl > 80 ? 80 : yl), y,
                     (int)(xl + yl > 160 ? 160 : xl + yl), buf);
            free(buf);
            return -1;
        }
        if (tok_pairmap_put(&t->merges, xi, yi, (uint32_t)i, zi)) { free(buf); return -1; }
    }
    free(buf);

    /* added tokens */
    t->added = olmo_calloc(json_array_size(added) + 1, sizeof *t->added);
    if (!t->added) return -1;
    json_array_foreach(added, i, a) {
        struct tok_added *ad = &t->added[t->n_added++];
        const json_t *content = json_object_get(a, "content");
        ad->id = (int32_t)json_integer_value(json_object_get(a, "id"));
        ad->len = json_string_length(content);
        ad->content = t->arena + off;
        memcpy(ad->content, json_string_value(content), ad->len);
        ad->content[ad->len] = 0;
        off += ad->len + 1;
        char where[64];
        snprintf(where, sizeof where, "%s: added_tokens[%zu]", t->name, i);
        if (get_flag(a, "special", 0, &ad->special, where) || get_flag(a, "single_word", 0, &ad->single_word, where) ||
            get_flag(a, "lstrip", 0, &ad->lstrip, where) || get_flag(a, "rstrip", 0, &ad->rstrip, where) ||
            get_flag(a, "normalized", !ad->special, &ad->normalized, where))
            return -1;
        if (tok_strmap_put(&t->tok2id, ad->content, ad->len, ad->id)) return -1;
        t->id_tok[ad->id] = ad->content;   /* HF looks added tokens up first */
        t->id_tok_len[ad->id] = (uint32_t)ad->len;
        t->id_special[ad->id] = (uint8_t)ad->special;
    }
    return 0;
}

/* The added tokens' search patterns and tries (normalized tokens are searched for in normalized form). */
static int build_added(struct olmo_tokenizer *t) {
    tok_trie_init(&t->trie_raw);
    tok_trie_init(&t->trie_norm);
    for (int i = 0; i < t->n_added; i++) {
        struct tok_added *a = &t->added[i];
        if (a->normalized && t->n_norm) {
            a->pattern = tok_normalize(t, a->content, a->len, &a->pat_len);
            if (!a->pattern) return -1;
        }
        const char *p = a->pattern ? a->pattern : a->content;
        size_t pl = a->pattern ? a->pat_len : a->len;
        if (tok_trie_add(a->normalized ? &t->trie_norm : &t->trie_raw, p, pl, i)) return -1;
    }
    return 0;
}

/* Per-id decoded bytes (what tok_token_bytes returns). */
static int build_decoded(struct olmo_tokenizer *t) {
    size_t vs = (size_t)t->vocab_size, total = 1;
    for (size_t id = 0; id < vs; id++) total += t->id_tok_len[id];
    t->dec_bytes = olmo_malloc(total);
    t->dec_off = olmo_calloc(vs + 1, sizeof *t->dec_off);
    t->dec_len = olmo_calloc(vs + 1, sizeof *t->dec_len);
    if (!t->dec_bytes || !t->dec_off || !t->dec_len) return -1;
    if (total > UINT32_MAX) return olmo_err("%s: vocabulary strings too large", t->name);
    size_t off = 0;
    for (size_t id = 0; id < vs; id++) {
        if (!t->id_tok[id]) continue;
        const char *s = t->id_tok[id];
        size_t n = t->id_tok_len[id];
        long k = t->decoder == DEC_BYTELEVEL ? bytelevel_bytes(s, n, (uint8_t *)t->dec_bytes + off) : -1;
        if (k < 0) { memcpy(t->dec_bytes + off, s, n); k = (long)n; }
        t->dec_off[id] = (uint32_t)off;
        t->dec_len[id] = (uint32_t)k;
        off += (size_t)k;
    }
    /* raw bytes -> id for byte-level models (ignore_merges looks whole pieces up by their bytes) */
    if (t->byte_level && t->ignore_merges && t->decoder == DEC_BYTELEVEL) {
        for (size_t k = 0; k <= t->tok2id.mask; k++) {
            const struct tok_strmap_entry *e = &t->tok2id.v[k];
            /* the decoded bytes of this id are exactly these bytes when its token string is this key */
            if (!e->key || e->id < 0 || e->id >= t->vocab_size || t->id_tok[e->id] != e->key) continue;
            uint8_t *tmp = olmo_malloc(e->len + 1);
            if (!tmp) return -1;
            long nb = bytelevel_bytes(e->key, e->len, tmp);   /* only to learn whether every char is a byte char */
            free(tmp);
            if (nb < 0) continue;
            if (tok_strmap_put(&t->raw2id, t->dec_bytes + t->dec_off[e->id], (size_t)nb, e->id)) return -1;
        }
    }
    return 0;
}

struct olmo_tokenizer *tok_load_json(const char *json, size_t len, const char *name) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_char_byte);
    uc_init();
    struct olmo_tokenizer *t = olmo_calloc(1, sizeof *t);
    if (!t) return NULL;
    pthread_mutex_init(&t->pool_lock, NULL);
    t->name = olmo_strdup(name ? name : "tokenizer.json");
    json_error_t err;
    json_t *root = NULL;
    if (!t->name) goto fail;
    root = json_loadb(json, len, JSON_ALLOW_NUL, &err);
    if (!root) {
        olmo_err("%s: invalid JSON at line %d, column %d (byte %d): %s", t->name, err.line, err.column,
                 err.position, err.text);
        goto fail;
    }
    if (!json_is_object(root)) { olmo_err("%s: expected a JSON object at the top level", t->name); goto fail; }
    const char *unsupported[] = {"truncation", "padding"};
    for (int k = 0; k < 2; k++) {
        const json_t *v = json_object_get(root, unsupported[k]);
        if (v && !json_is_null(v)) {
            olmo_err("%s: \"%s\" is not supported (olmo applies no %s; set it to null)", t->name, unsupported[k],
                     unsupported[k]);
            goto fail;
        }
    }
    const json_t *added = json_object_get(root, "added_tokens");
    if (added && !json_is_array(added) && !json_is_null(added)) {
        olmo_err("%s: \"added_tokens\" must be an array", t->name);
        goto fail;
    }
    json_t *empty = json_array();
    if (!added || json_is_null(added)) added = empty;
    char where[300];
    snprintf(where, sizeof where, "%s: pre_tokenizer", t->name);
    int rc = parse_normalizer(t, json_object_get(root, "normalizer"), 0);
    if (!rc) {
        t->pretok = pretok_from_jansson(json_object_get(root, "pre_tokenizer"), where);
        if (!t->pretok) rc = -1;
        else t->byte_level = pretok_is_byte_level(t->pretok);
    }
    if (!rc) rc = parse_decoder(t, json_object_get(root, "decoder"), 0);
    if (!rc) rc = parse_model(t, json_object_get(root, "model"), added);
    if (!rc) rc = parse_post(t, json_object_get(root, "post_processor"), 0);
    for (int k = 0; !rc && k < t->n_post_pre + t->n_post_post; k++) {
        int32_t id = k < t->n_post_pre ? t->post_pre[k] : t->post_post[k - t->n_post_pre];
        if (id >= t->vocab_size) rc = olmo_err("%s: post_processor adds id %d, beyond the vocabulary (%d ids)",
                                               t->name, id, t->vocab_size);
    }
    if (!rc) rc = build_added(t);
    if (!rc) rc = build_decoded(t);
    json_decref(empty);
    if (rc) goto fail;
    json_decref(root);
    return t;
fail:
    json_decref(root);
    tok_free(t);
    return NULL;
}

struct olmo_tokenizer *tok_load(const char *path) {
    size_t len;
    char *json = olmo_read_file(path, &len);
    if (!json) return NULL;
    struct olmo_tokenizer *t = tok_load_json(json, len, path);
    free(json);
    return t;
}

void tok_free(struct olmo_tokenizer *t) {
    if (!t) return;
    for (int i = 0; i < t->n_pool; i++) tok_enc_free(t->pool[i]);
    pthread_mutex_destroy(&t->pool_lock);
    pretok_free(t->pretok);
    tok_strmap_free(&t->tok2id);
    tok_strmap_free(&t->raw2id);
    tok_pairmap_free(&t->merges);
    for (int i = 0; i < t->n_added; i++) free(t->added[i].pattern);
    free(t->added);
    tok_trie_free(&t->trie_raw);
    tok_trie_free(&t->trie_norm);
    free(t->id_tok);
    free(t->id_tok_len);
    free(t->id_special);
    free(t->dec_off);
    free(t->dec_len);
    free(t->dec_bytes);
    free(t->post_pre);
    free(t->post_post);
    free(t->arena);
    free(t->name);
    free(t);
}
