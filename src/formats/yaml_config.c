/* yaml_config.c — YAML → tree (libyaml's document loader), overrides, OmegaConf-style interpolation, typed
 * reads. See yaml_config.h for the forms understood and why. */
#include "formats/yaml_config.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#define YCFG_MAX_DEPTH 64   /* nesting and interpolation depth; deeper is an error, never a stack overflow */

/* ------------------------------------------------------------------------------------------------ nodes */

static struct ycfg_node *node_new(enum ycfg_kind kind, int line, const char *src) {
    struct ycfg_node *n = olmo_calloc(1, sizeof *n);
    if (!n) return NULL;
    n->kind = kind;
    n->line = line;
    n->src = src;
    return n;
}

static void node_free(struct ycfg_node *n) {
    if (!n) return;
    free(n->text);
    for (size_t i = 0; i < n->n; i++) {
        if (n->keys) free(n->keys[i]);
        node_free(n->vals[i]);
    }
    free(n->keys);
    free(n->vals);
    free(n);
}

static struct ycfg_node *scalar_new(const char *text, int quoted, int line, const char *src) {
    struct ycfg_node *n = node_new(YCFG_SCALAR, line, src);
    if (!n) return NULL;
    n->text = olmo_strdup(text ? text : "");
    if (!n->text) {
        free(n);
        return NULL;
    }
    n->quoted = quoted;
    return n;
}

/* Appends (key may be NULL for lists); takes ownership of val (freed on failure). */
static int node_push(struct ycfg_node *c, const char *key, struct ycfg_node *val) {
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 8;
        struct ycfg_node **v = olmo_realloc(c->vals, cap * sizeof *v);
        if (!v) goto fail;
        c->vals = v;
        if (c->kind == YCFG_MAP) {
            char **k = olmo_realloc(c->keys, cap * sizeof *k);
            if (!k) goto fail;
            c->keys = k;
        }
        c->cap = cap;
    }
    if (c->kind == YCFG_MAP) {
        c->keys[c->n] = olmo_strdup(key);
        if (!c->keys[c->n]) goto fail;
    }
    c->vals[c->n++] = val;
    return 0;
fail:
    node_free(val);
    return -1;
}

static struct ycfg_node *node_clone(const struct ycfg_node *s) {
    struct ycfg_node *n = node_new(s->kind, s->line, s->src);
    if (!n) return NULL;
    if (s->kind == YCFG_SCALAR) {
        n->text = olmo_strdup(s->text);
        n->quoted = s->quoted;
        if (!n->text) goto fail;
        return n;
    }
    for (size_t i = 0; i < s->n; i++) {
        struct ycfg_node *v = node_clone(s->vals[i]);
        if (!v || node_push(n, s->keys ? s->keys[i] : NULL, v) < 0) goto fail;
    }
    return n;
fail:
    node_free(n);
    return NULL;
}

const struct ycfg_node *ycfg_child(const struct ycfg_node *map, const char *key) {
    if (!map || map->kind != YCFG_MAP) return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (!strcmp(map->keys[i], key)) return map->vals[i];
    return NULL;
}

static long map_index(const struct ycfg_node *map, const char *key) {
    for (size_t i = 0; i < map->n; i++)
        if (!strcmp(map->keys[i], key)) return (long)i;
    return -1;
}

const char *ycfg_where(const struct ycfg_node *n) {
    static _Thread_local char buf[512];
    if (!n) return "?";
    if (n->line > 0) snprintf(buf, sizeof buf, "%s:%d", n->src ? n->src : "?", n->line);
    else snprintf(buf, sizeof buf, "command line (%s)", n->src ? n->src : "?");
    return buf;
}

static const char *add_src(struct ycfg *c, const char *s) {
    char **v = olmo_realloc(c->srcs, (c->n_srcs + 1) * sizeof *v);
    if (!v) return NULL;
    c->srcs = v;
    char *d = olmo_strdup(s);
    if (!d) return NULL;
    c->srcs[c->n_srcs++] = d;
    return d;
}

/* ------------------------------------------------------------------------------------------------ loading */

static struct ycfg_node *from_yaml(yaml_document_t *doc, yaml_node_t *y, const char *src, int depth) {
    if (depth > YCFG_MAX_DEPTH) {
        olmo_err("%s:%lu: nesting deeper than %d levels (recursive alias?)", src,
                 (unsigned long)y->start_mark.line + 1, YCFG_MAX_DEPTH);
        return NULL;
    }
    int line = (int)y->start_mark.line + 1;
    if (y->type == YAML_SCALAR_NODE) {
        int quoted = y->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        return scalar_new((const char *)y->data.scalar.value, quoted, line, src);
    }
    if (y->type == YAML_SEQUENCE_NODE) {
        struct ycfg_node *n = node_new(YCFG_LIST, line, src);
        if (!n) return NULL;
        for (yaml_node_item_t *it = y->data.sequence.items.start; it < y->data.sequence.items.top; it++) {
            struct ycfg_node *v = from_yaml(doc, yaml_document_get_node(doc, *it), src, depth + 1);
            if (!v || node_push(n, NULL, v) < 0) {
                node_free(n);
                return NULL;
            }
        }
        return n;
    }
    if (y->type == YAML_MAPPING_NODE) {
        struct ycfg_node *n = node_new(YCFG_MAP, line, src);
        if (!n) return NULL;
        for (yaml_node_pair_t *p = y->data.mapping.pairs.start; p < y->data.mapping.pairs.top; p++) {
            yaml_node_t *k = yaml_document_get_node(doc, p->key);
            yaml_node_t *v = yaml_document_get_node(doc, p->value);
            if (k->type != YAML_SCALAR_NODE) {
                olmo_err("%s:%lu: a mapping key must be a plain name, found a %s", src,
                         (unsigned long)k->start_mark.line + 1, k->type == YAML_MAPPING_NODE ? "mapping" : "list");
                node_free(n);
                return NULL;
            }
            const char *key = (const char *)k->data.scalar.value;
            if (map_index(n, key) >= 0) {
                olmo_err("%s:%lu: duplicate key '%s'", src, (unsigned long)k->start_mark.line + 1, key);
                node_free(n);
                return NULL;
            }
            struct ycfg_node *val = from_yaml(doc, v, src, depth + 1);
            if (!val) {
                node_free(n);
                return NULL;
            }
            /* a nested map or list is reported at its key's line, where the user looks for it */
            if (val->kind != YCFG_SCALAR) val->line = (int)k->start_mark.line + 1;
            if (node_push(n, key, val) < 0) {
                node_free(n);
                return NULL;
            }
        }
        return n;
    }
    olmo_err("%s:%d: unexpected YAML node", src, line);
    return NULL;
}

/* Parses one YAML document; *out is NULL for an empty document. */
static int parse_yaml(const char *text, size_t len, const char *src, struct ycfg_node **out) {
    yaml_parser_t p;
    yaml_document_t doc;
    *out = NULL;
    if (!yaml_parser_initialize(&p)) return olmo_err("%s: cannot initialise the YAML parser", src);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (!yaml_parser_load(&p, &doc)) {
        olmo_err("%s:%lu:%lu: YAML syntax error: %s%s%s", src, (unsigned long)p.problem_mark.line + 1,
                 (unsigned long)p.problem_mark.column + 1, p.problem ? p.problem : "malformed",
                 p.context ? " " : "", p.context ? p.context : "");
        yaml_parser_delete(&p);
        return -1;
    }
    int rc = 0;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root) {
        *out = from_yaml(&doc, root, src, 0);
        if (!*out) rc = -1;
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    return rc;
}

int ycfg_load_string(struct ycfg *c, const char *text, const char *name) {
    memset(c, 0, sizeof *c);
    c->path = olmo_strdup(name);
    const char *src = c->path ? add_src(c, name) : NULL;
    if (!src) goto fail;
    if (parse_yaml(text, strlen(text), src, &c->root) < 0) goto fail;
    if (!c->root) {
        olmo_err("%s: the config is empty (expected a mapping of keys)", name);
        goto fail;
    }
    if (c->root->kind != YCFG_MAP) {
        olmo_err("%s:%d: the config must be a mapping of keys, found a %s", name, c->root->line,
                 c->root->kind == YCFG_LIST ? "list" : "single value");
        goto fail;
    }
    return 0;
fail:
    ycfg_free(c);
    return -1;
}

int ycfg_load(struct ycfg *c, const char *path) {
    size_t len = 0;
    char *text = olmo_read_file(path, &len);
    if (!text) {
        memset(c, 0, sizeof *c);
        return olmo_err_prefix("reading config: ");
    }
    if (strlen(text) != len) {
        free(text);
        memset(c, 0, sizeof *c);
        return olmo_err("%s: contains a NUL byte; expected a YAML text file", path);
    }
    int rc = ycfg_load_string(c, text, path);
    free(text);
    return rc;
}

void ycfg_free(struct ycfg *c) {
    node_free(c->root);
    for (size_t i = 0; i < c->n_srcs; i++) free(c->srcs[i]);
    free(c->srcs);
    free(c->path);
    memset(c, 0, sizeof *c);
}

/* ------------------------------------------------------------------------------------------------ lookups */

static int parse_index(const char *s, size_t *out) {
    if (!*s) return 0;
    size_t v = 0;
    for (const char *p = s; *p; p++) {
        if (!isdigit((unsigned char)*p) || v > 100000000) return 0;
        v = v * 10 + (size_t)(*p - '0');
    }
    *out = v;
    return 1;
}

const struct ycfg_node *ycfg_get(const struct ycfg *c, const char *dotted) {
    const struct ycfg_node *n = c->root;
    char seg[256];
    const char *p = dotted;
    while (n && *p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len >= sizeof seg) return NULL;
        memcpy(seg, p, len);
        seg[len] = 0;
        if (n->kind == YCFG_MAP) {
            n = ycfg_child(n, seg);
        } else if (n->kind == YCFG_LIST) {
            size_t i;
            n = parse_index(seg, &i) && i < n->n ? n->vals[i] : NULL;
        } else {
            return NULL;
        }
        p = dot ? dot + 1 : p + len;
    }
    return n;
}

/* ------------------------------------------------------------------------------------------------ overrides */

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if the bytes there are not valid UTF-8. */
static int utf8_len(const unsigned char *p) {
    if (p[0] < 0x80) return 1;
    int n = p[0] >= 0xC2 && p[0] <= 0xDF ? 2 : p[0] >= 0xE0 && p[0] <= 0xEF ? 3 : p[0] >= 0xF0 && p[0] <= 0xF4 ? 4 : 0;
    if (n == 0) return 0;
    for (int i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    if (n == 3 && p[0] == 0xE0 && p[1] < 0xA0) return 0;   /* overlong */
    if (n == 3 && p[0] == 0xED && p[1] >= 0xA0) return 0;  /* surrogates */
    if (n == 4 && p[0] == 0xF0 && p[1] < 0x90) return 0;   /* overlong */
    if (n == 4 && p[0] == 0xF4 && p[1] >= 0x90) return 0;  /* above U+10FFFF */
    return n;
}

static int valid_utf8(const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        int n = utf8_len(p);
        if (!n) return 0;
        p += n;
    }
    return 1;
}

int ycfg_override(struct ycfg *c, const char *arg) {
    const char *a = arg;
    while (*a == '-') a++;
    const char *eq = strchr(a, '=');
    if (!eq || eq == a)
        return olmo_err("override '%s': expected --KEY=VALUE with a dotted KEY, e.g. --model.d_model=256", arg);
    if (!valid_utf8(arg)) return olmo_err("override '%s': not valid UTF-8", arg);
    for (const char *p = a; p < eq; p++)
        if (*p == '.' && (p == a || p + 1 == eq || p[1] == '.'))
            return olmo_err("override '%s': empty key segment in '%.*s'", arg, (int)(eq - a), a);
    const char *src = add_src(c, arg);
    if (!src) return -1;
    struct ycfg_node *val = NULL;
    const char *vtext = eq + 1;
    if (parse_yaml(vtext, strlen(vtext), src, &val) < 0) return olmo_err_prefix("override '%s': ", arg);
    if (!val) val = scalar_new("", 0, 0, src);   /* KEY= is null, as in OmegaConf's dotlist */
    if (!val) return -1;
    /* the value's lines are those of the one-line string: report the override instead */
    struct ycfg_node *stack[YCFG_MAX_DEPTH];
    int ns = 0;
    stack[ns++] = val;
    while (ns > 0) {
        struct ycfg_node *n = stack[--ns];
        n->line = 0;
        n->src = src;
        for (size_t i = 0; i < n->n && ns < YCFG_MAX_DEPTH; i++) stack[ns++] = n->vals[i];
    }

    char *key = olmo_strndup(a, (size_t)(eq - a));
    if (!key) {
        node_free(val);
        return -1;
    }
    struct ycfg_node *cur = c->root;
    char *save = NULL;
    char *seg = strtok_r(key, ".", &save);
    int rc = 0;
    while (seg) {
        char *next = strtok_r(NULL, ".", &save);
        if (cur->kind == YCFG_LIST) {
            size_t i;
            if (!parse_index(seg, &i) || i >= cur->n) {
                rc = olmo_err("override '%s': '%s' is not an index of the list at %s (0..%zu)", arg, seg,
                              ycfg_where(cur), cur->n ? cur->n - 1 : 0);
                break;
            }
            if (!next) {
                node_free(cur->vals[i]);
                cur->vals[i] = val;
                val = NULL;
                break;
            }
            cur = cur->vals[i];
        } else {
            long i = map_index(cur, seg);
            if (!next) {
                if (i >= 0) {
                    node_free(cur->vals[i]);
                    cur->vals[i] = val;
                } else {
                    rc = node_push(cur, seg, val);
                }
                val = NULL;
                break;
            }
            if (i < 0) {
                struct ycfg_node *m = node_new(YCFG_MAP, 0, src);
                if (!m || node_push(cur, seg, m) < 0) {
                    rc = -1;
                    break;
                }
                i = (long)cur->n - 1;
            } else if (cur->vals[i]->kind == YCFG_SCALAR) {
                if (!ycfg_is_null(cur->vals[i])) {
                    rc = olmo_err("override '%s': '%s' at %s is a single value ('%s'), not a mapping", arg, seg,
                                  ycfg_where(cur->vals[i]), cur->vals[i]->text);
                    break;
                }
                /* `compile: null` overridden by --compile.mode=x: null becomes a mapping, as in OmegaConf */
                struct ycfg_node *m = node_new(YCFG_MAP, 0, src);
                if (!m) {
                    rc = -1;
                    break;
                }
                node_free(cur->vals[i]);
                cur->vals[i] = m;
            }
            cur = cur->vals[i];
        }
        seg = next;
    }
    node_free(val);
    free(key);
    return rc;
}

/* ------------------------------------------------------------------------------------------------ interpolation */

/* A key path as segments; list positions are written as their decimal index. */
struct kpath {
    int n;
    char *seg[YCFG_MAX_DEPTH];
};

static void kpath_clear(struct kpath *k) {
    for (int i = 0; i < k->n; i++) free(k->seg[i]);
    k->n = 0;
}

static int kpath_push(struct kpath *k, const char *s, size_t len) {
    if (k->n >= YCFG_MAX_DEPTH) return olmo_err("interpolation: key path deeper than %d", YCFG_MAX_DEPTH);
    k->seg[k->n] = olmo_strndup(s, len);
    if (!k->seg[k->n]) return -1;
    k->n++;
    return 0;
}

static int kpath_copy(struct kpath *dst, const struct kpath *src, int n) {
    dst->n = 0;
    for (int i = 0; i < n; i++)
        if (kpath_push(dst, src->seg[i], strlen(src->seg[i])) < 0) return -1;
    return 0;
}

static char *kpath_str(const struct kpath *k) {
    size_t len = 1;
    for (int i = 0; i < k->n; i++) len += strlen(k->seg[i]) + 1;
    char *s = olmo_malloc(len);
    if (!s) return NULL;
    s[0] = 0;
    for (int i = 0; i < k->n; i++) {
        if (i) strcat(s, ".");
        strcat(s, k->seg[i]);
    }
    return s;
}

struct rctx {
    struct ycfg *c;
    const struct ycfg_node *stack[YCFG_MAX_DEPTH];   /* scalars being resolved: a repeat is a cycle */
    int ns;
};

static int resolve_slot(struct rctx *x, struct kpath *path, struct ycfg_node **slot);
static int resolve_tree(struct rctx *x, struct kpath *path, struct ycfg_node *n);

static int has_interp(const char *s) {
    for (const char *p = s; *p; p++) {
        if (p[0] == '\\' && p[1] == '$' && p[2] == '{') return 1;   /* an escape still needs unescaping */
        if (p[0] == '$' && p[1] == '{') return 1;
    }
    return 0;
}

/* The node at absolute path `target`, resolving interpolations met on the way (and inside the result). */
static int lookup(struct rctx *x, const struct kpath *target, struct ycfg_node ***out, const char *ref,
                  const struct ycfg_node *from) {
    struct ycfg_node **slot = &x->c->root;
    struct kpath walked = {0};
    int rc = 0;
    for (int i = 0; i < target->n; i++) {
        if ((rc = resolve_slot(x, &walked, slot)) < 0) break;
        struct ycfg_node *n = *slot;
        const char *seg = target->seg[i];
        struct ycfg_node **next = NULL;
        if (n->kind == YCFG_MAP) {
            long k = map_index(n, seg);
            if (k >= 0) next = &n->vals[k];
        } else if (n->kind == YCFG_LIST) {
            size_t k;
            if (parse_index(seg, &k) && k < n->n) next = &n->vals[k];
        }
        if (!next) {
            rc = olmo_err("%s: interpolation '${%s}': key '%s' not found", ycfg_where(from), ref, seg);
            break;
        }
        if ((rc = kpath_push(&walked, seg, strlen(seg))) < 0) break;
        slot = next;
    }
    if (rc == 0) rc = resolve_slot(x, &walked, slot);
    if (rc == 0) rc = resolve_tree(x, &walked, *slot);
    kpath_clear(&walked);
    if (rc == 0) *out = slot;
    return rc;
}

/* Growing string buffer. */
struct sbuf {
    char *s;
    size_t n, cap;
};
static int sb_add(struct sbuf *b, const char *s, size_t len) {
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + len + 1) cap *= 2;
        char *p = olmo_realloc(b->s, cap);
        if (!p) return -1;
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, len);
    b->n += len;
    b->s[b->n] = 0;
    return 0;
}

/* Index just past the '}' matching the "${" at s[0], or -1. Quotes inside are skipped. */
static long match_close(const char *s) {
    int depth = 0;
    char q = 0;
    for (long i = 0; s[i]; i++) {
        if (q) {
            if (s[i] == '\\' && s[i + 1]) i++;
            else if (s[i] == q) q = 0;
            continue;
        }
        if (s[i] == '$' && s[i + 1] == '{') {
            depth++;
            i++;
        } else if ((s[i] == '\'' || s[i] == '"') && depth > 0 && i > 0) {
            q = s[i];
        } else if (s[i] == '}') {
            if (--depth == 0) return i + 1;
        }
    }
    return -1;
}

static int eval_interp(struct rctx *x, const struct ycfg_node *from, const struct kpath *here, const char *body,
                       struct ycfg_node **out);

/* Interpolates every ${…} inside text into a plain string. */
static int interp_string(struct rctx *x, const struct ycfg_node *from, const struct kpath *here, const char *text,
                         char **out) {
    struct sbuf b = {0};
    if (sb_add(&b, "", 0) < 0) return -1;
    const char *p = text;
    while (*p) {
        if (p[0] == '\\' && p[1] == '$' && p[2] == '{') {
            if (sb_add(&b, "${", 2) < 0) goto fail;
            p += 3;
            continue;
        }
        if (p[0] == '$' && p[1] == '{') {
            long end = match_close(p);
            if (end < 0) {
                olmo_err("%s: unterminated interpolation in '%s' (expected a closing '}')", ycfg_where(from), text);
                goto fail;
            }
            char *body = olmo_strndup(p + 2, (size_t)end - 3);
            if (!body) goto fail;
            struct ycfg_node *v = NULL;
            int rc = eval_interp(x, from, here, body, &v);
            if (rc < 0) {
                free(body);
                goto fail;
            }
            if (v->kind != YCFG_SCALAR) {
                olmo_err("%s: '${%s}' is a %s and cannot be part of the string '%s'", ycfg_where(from), body,
                         v->kind == YCFG_MAP ? "mapping" : "list", text);
                free(body);
                node_free(v);
                goto fail;
            }
            free(body);
            /* a null inside a string reads "None" in OmegaConf; keep the literal text instead */
            rc = sb_add(&b, v->text, strlen(v->text));
            node_free(v);
            if (rc < 0) goto fail;
            p += end;
            continue;
        }
        if (sb_add(&b, p, 1) < 0) goto fail;
        p++;
    }
    *out = b.s;
    return 0;
fail:
    free(b.s);
    return -1;
}

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
    return s;
}

/* Splits resolver arguments at top-level commas (not inside ${…} or quotes). */
static int split_args(char *s, char **args, int max) {
    int n = 0, depth = 0;
    char q = 0;
    char *start = s;
    for (char *p = s;; p++) {
        if (*p == 0 || (*p == ',' && depth == 0 && !q)) {
            if (n >= max) return -1;
            int last = *p == 0;
            *p = 0;
            args[n++] = start;
            if (last) break;
            start = p + 1;
            continue;
        }
        if (q) {
            if (*p == q) q = 0;
        } else if (p[0] == '$' && p[1] == '{') {
            depth++;
            p++;
        } else if (*p == '}' && depth > 0) {
            depth--;
        } else if ((*p == '\'' || *p == '"') && depth == 0) {
            q = *p;
        }
    }
    return n;
}

static int is_url(const char *s) {
    const char *c = strstr(s, "://");
    if (!c || c == s) return 0;
    for (const char *p = s; p < c; p++)
        if (!isalnum((unsigned char)*p) && *p != '+' && *p != '-' && *p != '.') return 0;
    return 1;
}

/* Evaluates the body of one ${…}: a resolver call or a key reference. *out is a new node. */
static int eval_interp(struct rctx *x, const struct ycfg_node *from, const struct kpath *here, const char *body_in,
                       struct ycfg_node **out) {
    char *body = olmo_strdup(body_in);
    if (!body) return -1;
    char *b = trim(body);
    int rc = -1;
    /* resolver call: NAME:ARGS with a ':' before any nested ${ */
    char *colon = strchr(b, ':');
    char *nest = strstr(b, "${");
    if (colon && (!nest || colon < nest)) {
        *colon = 0;
        const char *name = trim(b);
        char *args[32];
        int na = split_args(colon + 1, args, 32);
        char *vals[32] = {0};
        if (na < 0) {
            olmo_err("%s: '${%s}': too many arguments", ycfg_where(from), body_in);
            goto out;
        }
        for (int i = 0; i < na; i++) {
            char *a = trim(args[i]);
            size_t al = strlen(a);
            if (al >= 2 && (a[0] == '\'' || a[0] == '"') && a[al - 1] == a[0]) {
                a[al - 1] = 0;
                a++;
            }
            if (interp_string(x, from, here, a, &vals[i]) < 0) {
                for (int k = 0; k < i; k++) free(vals[k]);
                goto out;
            }
        }
        if (!strcmp(name, "oc.env")) {
            if (na < 1 || na > 2 || !vals[0][0]) {
                olmo_err("%s: '${%s}': expected ${oc.env:VAR} or ${oc.env:VAR,default}", ycfg_where(from), body_in);
            } else {
                const char *v = getenv(vals[0]);
                if (v) *out = scalar_new(v, 1, from->line, from->src);
                else if (na == 2) *out = scalar_new(vals[1], 1, from->line, from->src);
                else olmo_err("%s: '${%s}': environment variable %s is not set", ycfg_where(from), body_in, vals[0]);
                if (*out) rc = 0;
            }
        } else if (!strcmp(name, "path.choose")) {
            /* OLMo's resolver: the first argument that is a URL or an existing path */
            int pick = -1;
            struct stat st;
            for (int i = 0; i < na && pick < 0; i++)
                if (is_url(vals[i]) || stat(vals[i], &st) == 0) pick = i;
            if (pick < 0 && na > 0) {
                /* OLMo raises FileNotFoundError here; the official OLMo-1B save_folder would then not load on any
                 * machine without /results. Take the last choice and say so; the user overrides save_folder. */
                pick = na - 1;
                olmo_log_warn("%s: none of the paths in ${path.choose:…} exists; using '%s'", ycfg_where(from),
                              vals[pick]);
            }
            if (pick < 0) olmo_err("%s: '${%s}': path.choose needs at least one path", ycfg_where(from), body_in);
            else if ((*out = scalar_new(vals[pick], 1, from->line, from->src))) rc = 0;
        } else if (!strcmp(name, "path.glob")) {
            struct ycfg_node *list = node_new(YCFG_LIST, from->line, from->src);
            rc = list ? 0 : -1;
            for (int i = 0; i < na && rc == 0; i++) {
                glob_t g;
                int gr = glob(vals[i], 0, NULL, &g);   /* glob(3) sorts its matches, as OLMo's sorted(glob()) */
                if (gr == GLOB_NOMATCH || (gr == 0 && g.gl_pathc == 0)) {
                    rc = olmo_err("%s: ${path.glob:%s}: no file matches", ycfg_where(from), vals[i]);
                } else if (gr != 0) {
                    rc = olmo_err("%s: ${path.glob:%s}: cannot expand the pattern", ycfg_where(from), vals[i]);
                } else {
                    for (size_t k = 0; k < g.gl_pathc && rc == 0; k++) {
                        struct ycfg_node *s = scalar_new(g.gl_pathv[k], 1, from->line, from->src);
                        rc = s ? node_push(list, NULL, s) : -1;
                    }
                }
                if (gr == 0 || gr == GLOB_NOMATCH) globfree(&g);
            }
            if (rc == 0) *out = list;
            else node_free(list);
        } else {
            olmo_err("%s: '${%s}': unknown resolver '%s' (olmo.c knows oc.env, path.choose, path.glob)",
                     ycfg_where(from), body_in, name);
        }
        for (int i = 0; i < na; i++) free(vals[i]);
        goto out;
    }

    /* key reference: nested interpolations inside the key first, then absolute or relative lookup */
    char *key = NULL;
    if (interp_string(x, from, here, b, &key) < 0) goto out;
    struct kpath target = {0};
    const char *k = key;
    if (*k == '.') {
        /* ${.x}: sibling in the holding container (here minus the node's own segment); each more dot goes up */
        int up = 0;
        while (*k == '.') {
            up++;
            k++;
        }
        int base = here->n - up;   /* here includes the node's own key */
        if (base < 0) {
            olmo_err("%s: '${%s}' goes above the top of the config", ycfg_where(from), body_in);
            free(key);
            goto out;
        }
        if (kpath_copy(&target, here, base) < 0) {
            kpath_clear(&target);
            free(key);
            goto out;
        }
    }
    rc = 0;
    while (*k && rc == 0) {
        const char *dot = strchr(k, '.');
        size_t len = dot ? (size_t)(dot - k) : strlen(k);
        if (len == 0) rc = olmo_err("%s: '${%s}': empty key segment", ycfg_where(from), body_in);
        else rc = kpath_push(&target, k, len);
        k += len + (dot ? 1 : 0);
    }
    if (rc == 0 && target.n == 0) rc = olmo_err("%s: '${%s}': empty key", ycfg_where(from), body_in);
    struct ycfg_node **slot = NULL;
    if (rc == 0) rc = lookup(x, &target, &slot, key, from);
    if (rc == 0) {
        *out = node_clone(*slot);
        if (!*out) rc = -1;
    }
    kpath_clear(&target);
    free(key);
out:
    free(body);
    return rc;
}

/* Replaces *slot (a scalar with interpolations) by its value. path is the slot's own key path. */
static int resolve_slot(struct rctx *x, struct kpath *path, struct ycfg_node **slot) {
    struct ycfg_node *n = *slot;
    if (n->kind != YCFG_SCALAR || n->quoted == 2 || !has_interp(n->text)) return 0;
    for (int i = 0; i < x->ns; i++)
        if (x->stack[i] == n) {
            char *p = kpath_str(path);
            olmo_err("%s: interpolation cycle through '%s' ('%s')", ycfg_where(n), p ? p : "?", n->text);
            free(p);
            return -1;
        }
    if (x->ns >= YCFG_MAX_DEPTH) return olmo_err("%s: interpolations nested deeper than %d", ycfg_where(n), YCFG_MAX_DEPTH);
    x->stack[x->ns++] = n;
    struct ycfg_node *v = NULL;
    int rc;
    const char *t = n->text;
    long end = (t[0] == '$' && t[1] == '{') ? match_close(t) : -1;
    if (end > 0 && t[end] == 0) {
        /* the whole value is one interpolation: it takes the referenced node's type */
        char *body = olmo_strndup(t + 2, (size_t)end - 3);
        rc = body ? eval_interp(x, n, path, body, &v) : -1;
        free(body);
    } else {
        char *s = NULL;
        rc = interp_string(x, n, path, t, &s);
        if (rc == 0) {
            v = scalar_new(s, 1, n->line, n->src);
            free(s);
            if (!v) rc = -1;
        }
    }
    x->ns--;
    if (rc < 0) return -1;
    /* the value keeps the place of the interpolation that produced it, for messages */
    v->line = n->line;
    v->src = n->src;
    if (v->kind == YCFG_SCALAR && v->quoted) v->quoted = 2;   /* 2: resolved text, never re-interpolated */
    node_free(n);
    *slot = v;
    return 0;
}

static int resolve_tree(struct rctx *x, struct kpath *path, struct ycfg_node *n) {
    if (n->kind == YCFG_SCALAR) return 0;
    for (size_t i = 0; i < n->n; i++) {
        char idx[32];
        const char *seg = n->kind == YCFG_MAP ? n->keys[i] : (snprintf(idx, sizeof idx, "%zu", i), idx);
        if (kpath_push(path, seg, strlen(seg)) < 0) return -1;
        int rc = resolve_slot(x, path, &n->vals[i]);
        if (rc == 0) rc = resolve_tree(x, path, n->vals[i]);
        free(path->seg[--path->n]);
        if (rc < 0) return -1;
    }
    return 0;
}

int ycfg_resolve(struct ycfg *c) {
    struct rctx x = {.c = c};
    struct kpath path = {0};
    int rc = resolve_tree(&x, &path, c->root);
    kpath_clear(&path);
    return rc;
}

/* ------------------------------------------------------------------------------------------------ typed reads */

int ycfg_is_null(const struct ycfg_node *n) {
    if (!n || n->kind != YCFG_SCALAR || n->quoted) return 0;
    const char *t = n->text;
    return !*t || !strcmp(t, "~") || !strcmp(t, "null") || !strcmp(t, "Null") || !strcmp(t, "NULL");
}

static int want_scalar(const struct ycfg_node *n, const char *key, const char *what) {
    if (!n) return olmo_err("%s: missing (expected %s)", key, what);
    if (n->kind != YCFG_SCALAR)
        return olmo_err("%s: %s: expected %s, found a %s", ycfg_where(n), key, what,
                        n->kind == YCFG_MAP ? "mapping" : "list");
    return 0;
}

/* The text without YAML 1.1 digit separators ('_'), into buf; 0 if too long. */
static int strip_underscores(const char *t, char *buf, size_t cap) {
    size_t k = 0;
    for (; *t; t++) {
        if (*t == '_') continue;
        if (k + 1 >= cap) return 0;
        buf[k++] = *t;
    }
    buf[k] = 0;
    return 1;
}

int ycfg_as_int(const struct ycfg_node *n, const char *key, int64_t *out) {
    if (want_scalar(n, key, "an integer") < 0) return -1;
    char buf[64];
    const char *t = n->text;
    while (isspace((unsigned char)*t)) t++;
    int ok = strip_underscores(t, buf, sizeof buf) && buf[0];
    if (ok) {
        const char *p = buf;
        int base = 10;
        if (*p == '+' || *p == '-') p++;
        if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) base = 16;
        else if (p[0] == '0' && p[1] == 'o') base = 8;
        char tmp[64];
        const char *s = buf;
        if (base == 8) {   /* strtoll does not know 0o */
            snprintf(tmp, sizeof tmp, "%.*s%s", (int)(p - buf), buf, p + 2);
            s = tmp;
        }
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, base);
        while (isspace((unsigned char)*end)) end++;
        if (end == s || *end || errno == ERANGE) ok = 0;
        else *out = v;
    }
    if (!ok) return olmo_err("%s: %s: expected an integer, found '%s'", ycfg_where(n), key, n->text);
    return 0;
}

int ycfg_as_double(const struct ycfg_node *n, const char *key, double *out) {
    if (want_scalar(n, key, "a number") < 0) return -1;
    char buf[128];
    const char *t = n->text;
    while (isspace((unsigned char)*t)) t++;
    int ok = strip_underscores(t, buf, sizeof buf) && buf[0];
    if (ok) {
        const char *p = buf;
        int neg = 0;
        if (*p == '+' || *p == '-') neg = *p++ == '-';
        if (!strcmp(p, ".inf") || !strcmp(p, ".Inf") || !strcmp(p, ".INF")) {
            *out = neg ? -INFINITY : INFINITY;
            return 0;
        }
        if (!strcmp(buf, ".nan") || !strcmp(buf, ".NaN") || !strcmp(buf, ".NAN")) {
            *out = NAN;
            return 0;
        }
        /* only decimal forms: strtod alone would also take "inf", "nan" and hex floats */
        for (const char *q = p; *q && ok; q++)
            if (!isdigit((unsigned char)*q) && !strchr(".eE+-", *q) && !isspace((unsigned char)*q)) ok = 0;
        if (ok) {
            char *end;
            errno = 0;
            double v = strtod(buf, &end);
            while (isspace((unsigned char)*end)) end++;
            if (end == buf || *end || errno == ERANGE) ok = 0;
            else *out = v;
        }
    }
    if (!ok) return olmo_err("%s: %s: expected a number, found '%s'", ycfg_where(n), key, n->text);
    return 0;
}

int ycfg_as_bool(const struct ycfg_node *n, const char *key, int *out) {
    if (want_scalar(n, key, "true or false") < 0) return -1;
    static const char *yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
    static const char *no[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        if (!strcmp(n->text, yes[i])) {
            *out = 1;
            return 0;
        }
        if (!strcmp(n->text, no[i])) {
            *out = 0;
            return 0;
        }
    }
    return olmo_err("%s: %s: expected true or false, found '%s'", ycfg_where(n), key, n->text);
}

int ycfg_as_str(const struct ycfg_node *n, const char *key, const char **out) {
    if (want_scalar(n, key, "a string") < 0) return -1;
    if (ycfg_is_null(n)) return olmo_err("%s: %s: expected a string, found null", ycfg_where(n), key);
    *out = n->text;
    return 0;
}

/* ------------------------------------------------------------------------------------------------ dump */

static int needs_quotes(const struct ycfg_node *n) {
    const char *t = n->text;
    if (!*t) return n->quoted != 0;
    if (n->quoted) return 1;   /* keep strings strings when read back */
    if (isspace((unsigned char)t[0]) || isspace((unsigned char)t[strlen(t) - 1])) return 1;
    /* "- x", "?", "---", "..." would read back as a list item, a complex key or a document marker */
    if ((t[0] == '-' || t[0] == '?') && (t[1] == 0 || t[1] == ' ')) return 1;
    if (!strncmp(t, "---", 3) || !strncmp(t, "...", 3)) return 1;
    for (const unsigned char *p = (const unsigned char *)t; *p; p++)
        if (*p < 0x20 || *p == 0x7f || strchr(":#{}[],&*!|>'\"%@`\\", *p)) return 1;
    return 0;
}

/* Text that can be written unquoted byte for byte: printable ASCII, or valid UTF-8 without C1 controls. */
static int ascii_or_printable(const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        int n = utf8_len(p);
        if (!n) return 0;
        if (n == 2 && p[0] == 0xC2 && p[1] <= 0x9F) return 0;
        if (n == 3 && p[0] == 0xEF && p[1] == 0xBF && p[2] >= 0xBE) return 0;
        p += n;
    }
    return 1;
}

static void dump_scalar(FILE *f, const struct ycfg_node *n) {
    if (!needs_quotes(n) && ascii_or_printable(n->text)) {
        fputs(n->text, f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)n->text; *p; p++) {
        if (*p >= 0x80) {
            /* valid UTF-8 is written as is; a stray byte (from an environment variable or a file name) as \xNN */
            int len = utf8_len(p);
            uint32_t cp = 0;
            if (len == 2) cp = (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
            else if (len == 3) cp = (uint32_t)(p[0] & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
            /* YAML forbids C1 controls (but NEL) and U+FFFE/U+FFFF even in quotes: write them as \uXXXX */
            if (len && ((cp >= 0x80 && cp <= 0x9F && cp != 0x85) || cp == 0xFFFE || cp == 0xFFFF))
                fprintf(f, "\\u%04x", (unsigned)cp);
            else if (len) fwrite(p, 1, (size_t)len, f);
            else fprintf(f, "\\x%02x", *p);
            p += len ? len - 1 : 0;
            continue;
        }
        /* a resolved "${" must stay literal when the dump is read back: OmegaConf's escape \${ (YAML "\\${") */
        if (p[0] == '$' && p[1] == '{' && n->quoted == 2) fputs("\\\\", f);
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p == '\n') fputs("\\n", f);
        else if (*p == '\t') fputs("\\t", f);
        else if (*p < 0x20 || *p == 0x7f) fprintf(f, "\\x%02x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

static void dump_node(FILE *f, const struct ycfg_node *n, int indent) {
    for (size_t i = 0; i < n->n; i++) {
        const struct ycfg_node *v = n->vals[i];
        fprintf(f, "%*s", indent, "");
        if (n->kind == YCFG_MAP) {
            /* a key is written like a string value: quoted when it would not read back as the same text */
            struct ycfg_node k = {.kind = YCFG_SCALAR, .text = n->keys[i]};
            k.quoted = ycfg_is_null(&k);   /* a key "", "~" or "null" must stay that text */
            /* YAML's implicit keys end at 1024 characters; a longer one needs the explicit "? key" form */
            int explicit_key = strlen(n->keys[i]) > 200;   /* escapes grow a key at most 4x */
            if (explicit_key) fputs("? ", f);
            dump_scalar(f, &k);
            if (explicit_key) fprintf(f, "\n%*s", indent, "");
            fputc(':', f);
        } else {
            fputc('-', f);
        }
        if (v->kind == YCFG_SCALAR) {
            fputc(' ', f);
            dump_scalar(f, v);
            fputc('\n', f);
        } else if (v->n == 0) {
            fputs(v->kind == YCFG_MAP ? " {}\n" : " []\n", f);
        } else {
            fputc('\n', f);
            dump_node(f, v, indent + 2);
        }
    }
}

char *ycfg_dump(const struct ycfg *c) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        olmo_err_errno("dumping the config");
        return NULL;
    }
    if (c->root && c->root->n) dump_node(f, c->root, 0);
    else fputs("{}\n", f);   /* an empty mapping, not an empty document */
    if (fclose(f) != 0) {
        free(buf);
        olmo_err_errno("dumping the config");
        return NULL;
    }
    return buf;
}
