/* mix_json.c — see mix_json.h. */
#include "data/mix_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mix_json_float(struct docs_buf *b, double x) {
    /* Python's repr and ryu agree on the digits; they differ in the exponent's spelling (1e-07 vs 1e-7) */
    struct docs_buf t = {0};
    if (docs_buf_py_float(&t, x)) { docs_buf_free(&t); return -1; }
    char *e = memchr(t.data, 'e', t.len);
    int rc;
    if (!e) {
        rc = docs_buf_put(b, t.data, t.len);
    } else {
        rc = docs_buf_put(b, t.data, (size_t)(e - t.data) + 1);
        const char *p = e + 1, *end = t.data + t.len;
        if (*p == '+') p++;
        else if (*p == '-') { rc |= docs_buf_put(b, "-", 1); p++; }
        while (p + 1 < end && *p == '0') p++;
        rc |= docs_buf_put(b, p, (size_t)(end - p));
    }
    docs_buf_free(&t);
    return rc;
}

static int cmp_key(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

int mix_json_write(struct docs_buf *b, json_t *v) {
    char tmp[32];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(v), i = 0;
        const char *small[32], **keys = n <= 32 ? small : malloc(n * sizeof *keys);
        if (!keys) return -1;
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) keys[i++] = k;
        qsort(keys, n, sizeof *keys, cmp_key);
        int rc = docs_buf_put(b, "{", 1);
        for (i = 0; i < n && !rc; i++) {
            if (i) rc |= docs_buf_put(b, ",", 1);
            rc |= docs_buf_json_string(b, keys[i], strlen(keys[i]));
            rc |= docs_buf_put(b, ":", 1);
            rc |= mix_json_write(b, json_object_get(v, keys[i]));
        }
        if (keys != small) free(keys);
        return rc | docs_buf_put(b, "}", 1);
    }
    case JSON_ARRAY: {
        int rc = docs_buf_put(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v) && !rc; i++) {
            if (i) rc |= docs_buf_put(b, ",", 1);
            rc |= mix_json_write(b, json_array_get(v, i));
        }
        return rc | docs_buf_put(b, "]", 1);
    }
    case JSON_STRING: return docs_buf_json_string(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        snprintf(tmp, sizeof tmp, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return docs_buf_puts(b, tmp);
    case JSON_REAL: return mix_json_float(b, json_real_value(v));
    case JSON_TRUE: return docs_buf_puts(b, "true");
    case JSON_FALSE: return docs_buf_puts(b, "false");
    default: return docs_buf_puts(b, "null");
    }
}

/* ---- raw member scanner ---- */

static const char *skip_ws(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++;
    return p;
}
/* p at '"': returns the position after the closing quote, or NULL; *plain = no escapes other than serde's. */
static const char *skip_string(const char *p, const char *e, int *plain) {
    p++;
    while (p < e) {
        const char *q = memchr(p, '"', e - p), *bs = memchr(p, '\\', e - p);
        if (!q) return NULL;
        if (!bs || bs > q) return q + 1;
        /* an escape before the quote: serde writes \" \\ \n \r \t \b \f and \u00XX for other controls only */
        if (bs + 1 >= e) return NULL;
        char c = bs[1];
        if (c == 'u') {
            if (bs + 5 >= e) return NULL;
            *plain = 0;
            p = bs + 6;
        } else {
            if (c == '/') *plain = 0;
            p = bs + 2;
        }
    }
    return NULL;
}
static const char *skip_value(const char *p, const char *e, int *copyable) {
    *copyable = 1;
    if (p >= e) return NULL;
    if (*p == '"') return skip_string(p, e, copyable);
    if (*p == '{' || *p == '[') {
        *copyable = 0; /* nested keys would need sorting, arrays may hold spaces: re-serialise */
        int depth = 0;
        while (p < e) {
            if (*p == '"') {
                int dummy;
                p = skip_string(p, e, &dummy);
                if (!p) return NULL;
                continue;
            }
            if (*p == '{' || *p == '[') depth++;
            else if (*p == '}' || *p == ']') {
                if (--depth == 0) return p + 1;
            }
            p++;
        }
        return NULL;
    }
    const char *s = p;
    while (p < e && *p != ',' && *p != '}' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') p++;
    /* integers, true, false, null are written as read; a float may be spelt differently by ryu */
    for (const char *q = s; q < p; q++)
        if (*q == '.' || *q == 'e' || *q == 'E' || (*q == '-' && q != s)) *copyable = 0;
    if (p - s == 2 && s[0] == '-' && s[1] == '0') *copyable = 0;
    return p > s ? p : NULL;
}

int mix_json_members(const char *line, size_t len, struct mix_member *m, int max) {
    const char *p = line, *e = line + len;
    p = skip_ws(p, e);
    if (p >= e || *p != '{') return -1;
    p = skip_ws(p + 1, e);
    int n = 0;
    if (p < e && *p == '}') return 0;
    while (p < e) {
        if (*p != '"' || n >= max) return -1;
        int plain = 1;
        const char *ke = skip_string(p, e, &plain);
        if (!ke || !plain || memchr(p + 1, '\\', (size_t)(ke - p - 2))) return -1; /* escaped keys: slow path */
        m[n].key = p + 1;
        m[n].key_len = (size_t)(ke - p - 2);
        p = skip_ws(ke, e);
        if (p >= e || *p != ':') return -1;
        p = skip_ws(p + 1, e);
        const char *ve = skip_value(p, e, &m[n].copyable);
        if (!ve) return -1;
        m[n].val = p;
        m[n].val_len = (size_t)(ve - p);
        n++;
        p = skip_ws(ve, e);
        if (p < e && *p == ',') { p = skip_ws(p + 1, e); continue; }
        if (p < e && *p == '}') return n;
        return -1;
    }
    return -1;
}
