/* docs_args.c — `-c CONFIG` plus dotted flags into one checked option tree (see docs_args.h). Flag values are
 * handed to ycfg_override as quoted YAML strings, so globs such as "*.gz" are never read as YAML aliases. */
#include "data/docs_args.h"

#include "base/error.h"
#include "base/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int in_list(const char *const *l, const char *s, size_t n) {
    for (; l && *l; l++)
        if (strlen(*l) == n && !strncmp(*l, s, n)) return 1;
    return 0;
}

/* Is `key` (a dotted path) known, or the parent map of a known key? */
static int key_known(const char *const *known, const char *key) {
    size_t n = strlen(key);
    for (const char *const *k = known; *k; k++)
        if (!strcmp(*k, key) || (!strncmp(*k, key, n) && (*k)[n] == '.')) return 1;
    return 0;
}

static int check_tree(const struct ycfg_node *m, const char *prefix, const char *const *known) {
    if (!m || m->kind != YCFG_MAP) return 0;
    for (size_t i = 0; i < m->n; i++) {
        char key[512];
        snprintf(key, sizeof key, "%s%s%s", prefix, prefix[0] ? "." : "", m->keys[i]);
        if (!key_known(known, key)) {
            char list[1024] = "";
            for (const char *const *k = known; *k && strlen(list) + strlen(*k) + 3 < sizeof list; k++) {
                strcat(list, list[0] ? ", " : "");
                strcat(list, *k);
            }
            return olmo_err("%s: unknown option '%s' (known: %s)", ycfg_where(m->vals[i]), key, list);
        }
        if (in_list(known, key, strlen(key))) continue;   /* a leaf: its value may be a map (free-form) */
        if (check_tree(m->vals[i], key, known)) return -1;
    }
    return 0;
}

struct strbuf {
    char *s;
    size_t len, cap;
};

static int sb_reserve(struct strbuf *b, size_t more) {
    if (b->len + more + 1 <= b->cap) return 0;
    size_t nc = (b->len + more + 1) * 2;
    char *ns = olmo_realloc(b->s, nc);
    if (!ns) return -1;
    b->s = ns;
    b->cap = nc;
    return 0;
}

static int sb_add(struct strbuf *b, const char *s) {
    size_t n = strlen(s);
    if (sb_reserve(b, n)) return -1;
    memcpy(b->s + b->len, s, n + 1);
    b->len += n;
    return 0;
}

/* Appends s as a double-quoted YAML string. */
static int sb_quoted(struct strbuf *b, const char *s) {
    if (sb_reserve(b, 2 * strlen(s) + 2)) return -1;
    char *o = b->s + b->len;
    *o++ = '"';
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') *o++ = '\\';
        *o++ = *s;
    }
    *o++ = '"';
    *o = 0;
    b->len = (size_t)(o - b->s);
    return 0;
}

static int is_bool_word(const char *v) { return v && (!strcmp(v, "true") || !strcmp(v, "false")); }

int docs_args_parse(struct ycfg *c, int argc, char **argv, const char *const *known, const char *const *lists,
                    const char *const *bools) {
    memset(c, 0, sizeof *c);
    const char *config = NULL;
    for (int i = 1; i < argc; i++)
        if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) && i + 1 < argc) config = argv[i + 1];
    if (config) {
        if (ycfg_load(c, config) != 0) return -1;
    } else if (ycfg_load_string(c, "{}", "command line") != 0) {
        return -1;
    }
    struct strbuf b = {0};
    if (check_tree(c->root, "", known)) goto fail;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-c") || !strcmp(a, "--config")) { i++; continue; }
        if (strncmp(a, "--", 2) != 0) {
            olmo_err("argument '%s': expected an option (--name VALUE); see --help", a);
            goto fail;
        }
        const char *key = a + 2, *eq = strchr(key, '=');
        size_t klen = eq ? (size_t)(eq - key) : strlen(key);
        if (!in_list(known, key, klen)) {
            olmo_err("unknown option '--%.*s'; see --help", (int)klen, key);
            goto fail;
        }
        b.len = 0;
        if (sb_reserve(&b, klen + 1)) goto fail;
        memcpy(b.s, key, klen);
        b.s[klen] = '=';
        b.s[b.len = klen + 1] = 0;
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        int rc;
        if (in_list(bools, key, klen)) {   /* --flag, --flag true|false, --flag=true|false */
            const char *v = eq ? eq + 1 : is_bool_word(next) ? argv[++i] : "true";
            rc = is_bool_word(v) ? sb_add(&b, v) : sb_quoted(&b, v);
        } else if (in_list(lists, key, klen) && !eq) {   /* --key v1 v2 ... */
            rc = sb_add(&b, "[");
            int nv = 0;
            while (rc == 0 && i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0 && strcmp(argv[i + 1], "-c"))
                rc = (nv++ ? sb_add(&b, ",") : 0) || sb_quoted(&b, argv[++i]);
            rc = rc || sb_add(&b, "]");
            if (rc == 0 && nv == 0) {
                olmo_err("--%.*s: expected one or more values after it", (int)klen, key);
                goto fail;
            }
        } else {
            const char *v = eq ? eq + 1 : next ? argv[++i] : NULL;
            if (!v) {
                olmo_err("--%.*s: expected a value after it, found the end of the arguments", (int)klen, key);
                goto fail;
            }
            rc = sb_quoted(&b, v);
        }
        if (rc || ycfg_override(c, b.s) != 0) goto fail;
    }
    free(b.s);
    return ycfg_resolve(c);
fail:
    free(b.s);
    ycfg_free(c);
    return -1;
}

int docs_args_strings(const struct ycfg *c, const char *key, const char ***v, size_t *n) {
    *v = NULL;
    *n = 0;
    const struct ycfg_node *node = ycfg_get(c, key);
    if (!node || ycfg_is_null(node)) return 0;
    size_t cnt = node->kind == YCFG_LIST ? node->n : 1;
    const char **out = olmo_calloc(cnt + 1, sizeof *out);
    if (!out) return -1;
    for (size_t i = 0; i < cnt; i++) {
        const struct ycfg_node *e = node->kind == YCFG_LIST ? node->vals[i] : node;
        if (ycfg_as_str(e, key, &out[i]) != 0) {
            free(out);
            return -1;
        }
    }
    *v = out;
    *n = cnt;
    return 0;
}

int docs_args_str(const struct ycfg *c, const char *key, const char *dflt, const char **out) {
    const struct ycfg_node *node = ycfg_get(c, key);
    if (!node || ycfg_is_null(node)) {
        *out = dflt;
        return 0;
    }
    return ycfg_as_str(node, key, out);
}

int docs_args_int(const struct ycfg *c, const char *key, long dflt, long *out) {
    const struct ycfg_node *node = ycfg_get(c, key);
    if (!node || ycfg_is_null(node)) {
        *out = dflt;
        return 0;
    }
    int64_t v;
    if (ycfg_as_int(node, key, &v) != 0) return -1;
    *out = (long)v;
    return 0;
}

int docs_args_bool(const struct ycfg *c, const char *key, int dflt, int *out) {
    const struct ycfg_node *node = ycfg_get(c, key);
    if (!node || ycfg_is_null(node)) {
        *out = dflt;
        return 0;
    }
    return ycfg_as_bool(node, key, out);
}
