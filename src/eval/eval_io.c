/* eval_io.c — whole-file reads through zlib (gzip or plain) and a JSON-lines splitter. */
#include "eval/eval_io.h"

#include "base/error.h"
#include "base/mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

char *eval_read_all(const char *path, size_t *len) {
    /* gzread passes plain files through unchanged, so one path serves .jsonl, .jsonl.gz and text */
    gzFile f = gzopen(path, "rb");
    if (!f) {
        olmo_err_errno("%s: cannot open", path);
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = olmo_malloc(cap + 1);
    for (;;) {
        if (!buf) break;
        if (n == cap) {
            char *nb = olmo_realloc(buf, cap * 2 + 1);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
        int r = gzread(f, buf + n, (unsigned)(cap - n > (1u << 30) ? (1u << 30) : cap - n));
        if (r < 0) {
            int e;
            const char *m = gzerror(f, &e);
            olmo_err("%s: read failed after %zu bytes: %s", path, n, m);
            free(buf);
            buf = NULL;
            break;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    gzclose(f);
    if (!buf) return NULL;
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

int eval_for_lines(char *buf, size_t len, int (*fn)(char *line, size_t n, int lineno, void *arg), void *arg) {
    int lineno = 0;
    size_t i = 0;
    while (i < len) {
        char *nl = memchr(buf + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - buf) : len;
        lineno++;
        size_t b = i;
        while (b < e && (buf[b] == ' ' || buf[b] == '\t' || buf[b] == '\r')) b++;
        if (b < e) {
            char save = buf[e];
            buf[e] = 0;
            int r = fn(buf + i, e - i, lineno, arg);
            buf[e] = save;
            if (r) return r;
        }
        i = e + 1;
    }
    return 0;
}

char *eval_path_stem(const char *path) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    char *s = olmo_malloc(strlen(b) + 1);
    if (!s) return NULL;
    strcpy(s, b);
    static const char *const ext[] = {".gz", ".jsonl", ".json", ".txt"};
    for (size_t k = 0; k < sizeof ext / sizeof *ext; k++) {
        size_t n = strlen(s), m = strlen(ext[k]);
        if (n > m && !strcmp(s + n - m, ext[k])) s[n - m] = 0;
    }
    return s;
}
