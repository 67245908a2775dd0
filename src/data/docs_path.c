/* docs_path.c — where documents and attributes live: glob expansion with Dolma's "**", the tagger's
 * documents/ -> attributes/<EXP>/ path rule (spec §1.3), and byte -> code-point offset maps. */
#include "data/docs.h"

#include "base/error.h"
#include "base/file.h"
#include "base/mem.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Matches a bracket class at p against c; returns the pattern just after ']' or NULL when c is not in it. */
static const char *match_class(const char *p, char c, int *ok) {
    const char *q = p + 1;
    int neg = *q == '!' || *q == '^';
    if (neg) q++;
    int hit = 0, first = 1;
    for (; *q && (first || *q != ']'); q++, first = 0) {
        if (q[1] == '-' && q[2] && q[2] != ']') {
            if (c >= q[0] && c <= q[2]) hit = 1;
            q += 2;
        } else if (*q == c) {
            hit = 1;
        }
    }
    if (*q != ']') {   /* unterminated: a literal '[' */
        *ok = c == '[';
        return p + 1;
    }
    *ok = hit != neg;
    return q + 1;
}

/* Whole-path match: '*', '?', '[..]' stay inside a component; "**" (as a whole component) spans any number. */
static int glob_match(const char *p, const char *s) {
    for (;;) {
        if (p[0] == '*' && p[1] == '*' && (p[2] == '/' || p[2] == 0)) {
            const char *rest = p[2] ? p + 3 : p + 2;
            if (!p[2]) return 1;
            for (const char *t = s;; t++) {
                if ((t == s || t[-1] == '/') && glob_match(rest, t)) return 1;
                if (!*t) return 0;
            }
        }
        if (*p == '*') {
            for (const char *t = s;; t++) {
                if (glob_match(p + 1, t)) return 1;
                if (!*t || *t == '/') return 0;
            }
        }
        if (!*p) return !*s;
        if (*p == '?') {
            if (!*s || *s == '/') return 0;
            p++, s++;
        } else if (*p == '[') {
            int ok;
            const char *np = match_class(p, *s, &ok);
            if (!ok || !*s || *s == '/') return 0;
            p = np, s++;
        } else {
            if (*p != *s) return 0;
            p++, s++;
        }
    }
}

struct path_list {
    char **v;
    size_t n, cap;
};

static int list_add(struct path_list *l, const char *path) {
    if (l->n + 2 > l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        char **nv = olmo_realloc(l->v, cap * sizeof *nv);
        if (!nv) return -1;
        l->v = nv;
        l->cap = cap;
    }
    if (!(l->v[l->n] = olmo_strdup(path))) return -1;
    l->v[++l->n] = NULL;
    return 0;
}

/* Walks dir recursively, adding regular files whose full path matches pattern. */
static int walk(const char *dir, const char *pattern, struct path_list *out, int depth) {
    if (depth > 64) return 0;
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *full = olmo_path_join(dir, e->d_name);
        if (!full) { rc = -1; break; }
        struct stat st;
        if (stat(full, &st) == 0) {
            if (S_ISDIR(st.st_mode)) rc = walk(full, pattern, out, depth + 1);
            else if (S_ISREG(st.st_mode) && glob_match(pattern, full)) rc = list_add(out, full);
        }
        free(full);
    }
    closedir(d);
    return rc;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Length of the directory part of pattern before its first wildcard ("" -> 0). */
static size_t glob_base_len(const char *pattern) {
    size_t w = strcspn(pattern, "*?[");
    if (!pattern[w]) {   /* no wildcard: the parent directory */
        const char *slash = strrchr(pattern, '/');
        return slash ? (size_t)(slash - pattern) : 0;
    }
    while (w > 0 && pattern[w - 1] != '/') w--;
    return w > 0 ? w - 1 : 0;
}

char **docs_glob(const char *pattern, size_t *n) {
    struct path_list out = {0};
    size_t w = strcspn(pattern, "*?[");
    if (!pattern[w]) {
        struct stat st;
        if (stat(pattern, &st) != 0 || !S_ISREG(st.st_mode)) {
            olmo_err("%s: expected a documents file, found %s", pattern, "nothing there");
            return NULL;
        }
        if (list_add(&out, pattern)) return NULL;
    } else {
        size_t b = glob_base_len(pattern);
        char *base = b ? olmo_strndup(pattern, b) : olmo_strdup(pattern[0] == '/' ? "/" : ".");
        if (!base) return NULL;
        /* a relative pattern is matched against "./"-less paths: walk "." and strip it */
        int rel_dot = b == 0 && pattern[0] != '/';
        if (rel_dot) {
            struct path_list tmp = {0};
            char *pat2 = olmo_malloc(strlen(pattern) + 3);
            if (!pat2) { free(base); return NULL; }
            strcpy(pat2, "./");
            strcat(pat2, pattern);
            int rc = walk(".", pat2, &tmp, 0);
            for (size_t i = 0; rc == 0 && i < tmp.n; i++) rc = list_add(&out, tmp.v[i] + 2);
            for (size_t i = 0; i < tmp.n; i++) free(tmp.v[i]);
            free(tmp.v);
            free(pat2);
            if (rc) { free(base); docs_paths_free(out.v); return NULL; }
        } else if (walk(base, pattern, &out, 0) != 0) {
            free(base);
            docs_paths_free(out.v);
            return NULL;
        }
        free(base);
        if (out.n == 0) {
            olmo_err("%s: expected documents files, found no file matching the pattern", pattern);
            return NULL;
        }
        qsort(out.v, out.n, sizeof *out.v, cmp_str);
    }
    *n = out.n;
    return out.v;
}

void docs_paths_free(char **paths) {
    if (!paths) return;
    for (char **p = paths; *p; p++) free(*p);
    free(paths);
}

char *docs_attributes_path(const char *glob, const char *file, const char *experiment, const char *destination) {
    size_t b = glob_base_len(glob);
    const char *rel = file + b;
    if (strncmp(file, glob, b) != 0) {
        olmo_err("%s: expected a path under %.*s (the base of the glob %s)", file, (int)b, glob, glob);
        return NULL;
    }
    while (*rel == '/') rel++;
    size_t cap = strlen(glob) + strlen(file) + strlen(experiment) + (destination ? strlen(destination) : 0) + 32;
    char *out = olmo_malloc(cap);
    if (!out) return NULL;
    if (destination) {
        snprintf(out, cap, "%s/%s/%s", destination, experiment, rel);
        return out;
    }
    /* the first component of the base that is exactly "documents" */
    const char *hit = NULL;
    for (size_t i = 0; i + 9 <= b; i++) {
        if ((i == 0 || glob[i - 1] == '/') && !strncmp(glob + i, "documents", 9) && (i + 9 == b || glob[i + 9] == '/')) {
            hit = glob + i;
            break;
        }
    }
    if (!hit) {
        olmo_err("%s: expected a path component named 'documents' before the first wildcard (Dolma's rule: "
                 "documents/... -> attributes/<experiment>/...), found none; give --destination",
                 glob);
        free(out);
        return NULL;
    }
    snprintf(out, cap, "%.*sattributes/%s%.*s/%s", (int)(hit - glob), glob, experiment,
             (int)(glob + b - (hit + 9)), hit + 9, rel);
    return out;
}

/* ---------------------------------------------------------------- code points */

size_t docs_cp_count(const char *s, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

int docs_cpmap_init(struct docs_cpmap *m, const char *text, size_t len) {
    m->text = text;
    m->len = len;
    m->cp_at = NULL;
    size_t i = 0;
    while (i < len && (unsigned char)text[i] < 0x80) i++;
    if (i == len) return 0;
    m->cp_at = olmo_malloc((len + 1) * sizeof *m->cp_at);
    if (!m->cp_at) return -1;
    uint32_t cp = 0;
    for (size_t b = 0; b < len; b++) {
        /* a continuation byte maps to the code point it belongs to; offsets always land on boundaries */
        if (((unsigned char)text[b] & 0xC0) != 0x80) m->cp_at[b] = cp++;
        else m->cp_at[b] = cp;
    }
    m->cp_at[len] = cp;
    return 0;
}

void docs_cpmap_free(struct docs_cpmap *m) {
    free(m->cp_at);
    m->cp_at = NULL;
}
