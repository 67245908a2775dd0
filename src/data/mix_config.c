/* mix_config.c — see mix_config.h. Built on formats/yaml_config (the trainer's OmegaConf-like tree), so configs of
 * every olmo command share one parser, one override syntax and one style of error message. */
#include "data/mix_config.h"

#include "base/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Matches a dotted key against one schema entry: "*" matches one segment, a trailing "**" anything below.
 * Returns 2 for a full match, 1 when key is a proper prefix of the entry (an intermediate map), 0 otherwise. */
static int schema_match(const char *a, const char *b) {
    for (;;) {
        if (a[0] == '*' && a[1] == '*') return 2;
        if (!*b) return !*a ? 2 : *a == '.' ? 1 : 0;
        if (a[0] == '*' && (a[1] == '.' || !a[1])) {
            while (*b && *b != '.') b++;
            a++;
        } else if (*a && *a == *b) {
            a++;
            b++;
        } else {
            return 0;
        }
    }
}

static int schema_lookup(const char *dotted, const char *const *schema) {
    int best = 0;
    for (const char *const *s = schema; *s; s++) {
        int m = schema_match(*s, dotted);
        if (m > best) best = m;
    }
    return best;
}

/* Walks the tree: a key that fully matches is a leaf (whatever its value); a prefix match is a map to descend. */
static int check_node(const struct ycfg_node *n, char *path, size_t plen, const char *const *schema) {
    if (n->kind == YCFG_SCALAR) return 0;
    for (size_t i = 0; i < n->n; i++) {
        char seg[32];
        const char *k = n->kind == YCFG_MAP ? n->keys[i] : (snprintf(seg, sizeof seg, "%zu", i), seg);
        size_t l = strlen(k);
        if (plen + l + 2 >= 1024) return olmo_err("%s: key path too long", ycfg_where(n->vals[i]));
        size_t old = plen;
        if (plen) path[plen++] = '.';
        memcpy(path + plen, k, l + 1);
        plen += l;
        int m = schema_lookup(path, schema);
        if (!m)
            return olmo_err("%s: unknown config key '%s' (not a key of this command's Dolma config)",
                            ycfg_where(n->vals[i]), path);
        if (m == 1 && check_node(n->vals[i], path, plen, schema)) return -1;
        plen = old;
        path[plen] = 0;
    }
    return 0;
}

static int is_list_key(const char *k, const char *const *list_keys) {
    for (const char *const *s = list_keys; s && *s; s++)
        if (!strcmp(*s, k)) return 1;
    return 0;
}

/* Appends v to b as a YAML double-quoted string. */
static void quote_into(char **b, size_t *n, size_t *cap, const char *v) {
    size_t need = *n + 2 * strlen(v) + 8;
    if (need > *cap) {
        *cap = need * 2;
        *b = realloc(*b, *cap);
    }
    char *p = *b + *n;
    *p++ = '"';
    for (; *v; v++) {
        if (*v == '"' || *v == '\\') *p++ = '\\';
        *p++ = *v;
    }
    *p++ = '"';
    *n = p - *b;
    (*b)[*n] = 0;
}

int dcfg_load(struct ycfg *cfg, int argc, char **argv, const char *const *schema, const char *const *list_keys) {
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 1;
        if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) && i + 1 < argc) file = argv[++i];
    }
    if (file ? ycfg_load(cfg, file) : ycfg_load_string(cfg, "{}", "command line")) return -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-c") || !strcmp(a, "--config")) { i++; continue; }
        if (strncmp(a, "--", 2)) {
            ycfg_free(cfg);
            return olmo_err("command line: argument %d '%s': expected --key=value or --key value", i, a);
        }
        a += 2;
        const char *eq = strchr(a, '=');
        char key[512];
        snprintf(key, sizeof key, "%.*s", (int)(eq ? (size_t)(eq - a) : strlen(a)), a);
        char *ov = NULL;
        size_t n = 0, cap = 0;
        ov = malloc(cap = strlen(key) + 64);
        n = (size_t)sprintf(ov, "%s=", key);
        if (eq) {
            /* --key=value: a YAML value as written, except list keys, whose single value is quoted as a path */
            if (is_list_key(key, list_keys) && eq[1] != '[') {
                n += 0;
                ov[n++] = '[';
                ov[n] = 0;
                quote_into(&ov, &n, &cap, eq + 1);
                ov = realloc(ov, n + 2);
                ov[n++] = ']';
                ov[n] = 0;
            } else {
                size_t l = strlen(eq + 1);
                ov = realloc(ov, n + l + 1);
                memcpy(ov + n, eq + 1, l + 1);
            }
        } else if (is_list_key(key, list_keys)) {
            ov[n++] = '[';
            ov[n] = 0;
            int any = 0;
            while (i + 1 < argc && strncmp(argv[i + 1], "--", 2)) {
                if (any) { ov = realloc(ov, n + 3); ov[n++] = ','; ov[n] = 0; }
                quote_into(&ov, &n, &cap, argv[++i]);
                any = 1;
            }
            ov = realloc(ov, n + 2);
            ov[n++] = ']';
            ov[n] = 0;
        } else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2)) {
            const char *v = argv[++i];
            ov = realloc(ov, n + strlen(v) + 1);
            strcpy(ov + n, v);
        } else {
            ov = realloc(ov, n + 5);
            strcpy(ov + n, "true"); /* a bare --flag */
        }
        int rc = ycfg_override(cfg, ov);
        free(ov);
        if (rc) { ycfg_free(cfg); return -1; }
    }
    if (ycfg_resolve(cfg)) { ycfg_free(cfg); return -1; }
    char path[1024] = "";
    if (check_node(cfg->root, path, 0, schema)) { ycfg_free(cfg); return -1; }
    return 0;
}

int dcfg_int(const struct ycfg *c, const char *key, int64_t def, int64_t *out) {
    const struct ycfg_node *n = ycfg_get(c, key);
    if (!n || ycfg_is_null(n)) { *out = def; return 0; }
    return ycfg_as_int(n, key, out);
}
int dcfg_double(const struct ycfg *c, const char *key, double def, double *out) {
    const struct ycfg_node *n = ycfg_get(c, key);
    if (!n || ycfg_is_null(n)) { *out = def; return 0; }
    return ycfg_as_double(n, key, out);
}
int dcfg_bool(const struct ycfg *c, const char *key, int def, int *out) {
    const struct ycfg_node *n = ycfg_get(c, key);
    if (!n || ycfg_is_null(n)) { *out = def; return 0; }
    return ycfg_as_bool(n, key, out);
}
int dcfg_str(const struct ycfg *c, const char *key, const char *def, const char **out) {
    const struct ycfg_node *n = ycfg_get(c, key);
    if (!n || ycfg_is_null(n)) { *out = def; return 0; }
    return ycfg_as_str(n, key, out);
}

int dcfg_node_strs(const struct ycfg_node *n, const char *key, const char ***out, size_t *count) {
    *out = NULL;
    *count = 0;
    if (!n || ycfg_is_null(n)) {
        *out = calloc(1, sizeof **out);
        return 0;
    }
    if (n->kind == YCFG_SCALAR) {
        *out = calloc(2, sizeof **out);
        (*out)[0] = n->text;
        *count = 1;
        return 0;
    }
    if (n->kind != YCFG_LIST) return olmo_err("%s: %s: expected a list of strings, found a map", ycfg_where(n), key);
    *out = calloc(n->n + 1, sizeof **out);
    for (size_t i = 0; i < n->n; i++) {
        if (n->vals[i]->kind != YCFG_SCALAR) {
            free(*out);
            *out = NULL;
            return olmo_err("%s: %s[%zu]: expected a string, found a %s", ycfg_where(n->vals[i]), key, i,
                            n->vals[i]->kind == YCFG_MAP ? "map" : "list");
        }
        (*out)[i] = n->vals[i]->text;
    }
    *count = n->n;
    return 0;
}

int dcfg_strs(const struct ycfg *c, const char *key, const char ***out, size_t *n) {
    return dcfg_node_strs(ycfg_get(c, key), key, out, n);
}
