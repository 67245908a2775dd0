/* docs.c — one Dolma document per JSONL line: parsing with jansson (which also rejects invalid UTF-8), the
 * reader that turns bad lines into errors or counted skips, and the JSON writing helpers the taggers and
 * commands share (string escaping and Python's float repr, so attribute files read like Dolma's). */
#include "data/docs.h"

#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void docs_doc_clear(struct docs_doc *d) {
    if (d->obj) json_decref(d->obj);
    memset(d, 0, sizeof *d);
}

static const char *json_kind(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE: case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

/* An optional string field: absent or null gives NULL; another type is an error. */
static int opt_string(json_t *obj, const char *key, const char **out, const char *where) {
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v)) return olmo_err("%s: expected \"%s\" to be a string, found %s", where, key, json_kind(v));
    *out = json_string_value(v);
    return 0;
}

int docs_doc_parse(struct docs_doc *d, const char *line, size_t len, const char *where) {
    long keep_line = d->line;
    docs_doc_clear(d);
    d->line = keep_line;
    json_error_t err;
    json_t *obj = json_loadb(line, len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &err);
    if (!obj) return olmo_err("%s: expected a JSON object, found bad JSON at column %d: %s", where, err.column, err.text);
    if (!json_is_object(obj)) {
        olmo_err("%s: expected a JSON object, found %s", where, json_kind(obj));
        json_decref(obj);
        return -1;
    }
    d->obj = obj;
    json_t *id = json_object_get(obj, "id"), *text = json_object_get(obj, "text");
    if (!id || !json_is_string(id)) {
        olmo_err("%s: expected \"id\" to be a string, found %s", where, id ? json_kind(id) : "no \"id\"");
        goto fail;
    }
    if (!text || !json_is_string(text)) {
        olmo_err("%s: expected \"text\" to be a string, found %s", where, text ? json_kind(text) : "no \"text\"");
        goto fail;
    }
    d->id = json_string_value(id);
    d->text = json_string_value(text);
    d->text_len = json_string_length(text);
    if (opt_string(obj, "source", &d->source, where) || opt_string(obj, "added", &d->added, where) ||
        opt_string(obj, "created", &d->created, where))
        goto fail;
    json_t *md = json_object_get(obj, "metadata");
    if (md && !json_is_null(md)) {
        if (!json_is_object(md)) {
            olmo_err("%s: expected \"metadata\" to be an object, found %s", where, json_kind(md));
            goto fail;
        }
        d->metadata = md;
    }
    return 0;
fail:
    docs_doc_clear(d);
    d->line = keep_line;
    return -1;
}

struct docs_reader *docs_reader_open(const char *path) {
    struct docs_reader *r = olmo_calloc(1, sizeof *r);
    if (!r) return NULL;
    r->lines = docs_lines_open(path);
    if (!r->lines) {
        free(r);
        return NULL;
    }
    r->path = path;
    return r;
}

void docs_reader_set_skip(struct docs_reader *r, int skip_bad) { r->skip_bad = skip_bad; }

int docs_reader_next(struct docs_reader *r, struct docs_doc *d) {
    for (;;) {
        char *line;
        size_t len;
        int rc = docs_lines_next(r->lines, &line, &len);
        if (rc <= 0) {
            docs_doc_clear(d);
            return rc;
        }
        long no = docs_lines_number(r->lines);
        char where[512];
        snprintf(where, sizeof where, "%s:%ld", r->path, no);
        d->line = no;
        if (docs_doc_parse(d, line, len, where) == 0) {
            r->read++;
            return 1;
        }
        if (!r->skip_bad) return -1;
        if (r->skipped++ == 0) olmo_log_warn("skipping bad lines (first: %s)", olmo_errmsg());
    }
}

void docs_reader_close(struct docs_reader *r) {
    if (!r) return;
    docs_lines_close(r->lines);
    free(r);
}

/* ---------------------------------------------------------------- JSON output */

int docs_buf_put(struct docs_buf *b, const void *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *nd = olmo_realloc(b->data, cap);
        if (!nd) return -1;
        b->data = nd;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
    return 0;
}

int docs_buf_puts(struct docs_buf *b, const char *s) { return docs_buf_put(b, s, strlen(s)); }

int docs_buf_json_string(struct docs_buf *b, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    if (docs_buf_put(b, "\"", 1)) return -1;
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        if (docs_buf_put(b, s + run, i - run)) return -1;
        run = i + 1;
        char esc[7] = {'\\', 0};
        size_t n = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            esc[1] = 'u'; esc[2] = '0'; esc[3] = '0'; esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
            n = 6;
        }
        if (docs_buf_put(b, esc, n)) return -1;
    }
    if (docs_buf_put(b, s + run, len - run)) return -1;
    return docs_buf_put(b, "\"", 1);
}

int docs_buf_py_float(struct docs_buf *b, double x) {
    if (!isfinite(x)) return docs_buf_puts(b, "null");   /* JSON has no inf/nan */
    if (x == 0) return docs_buf_puts(b, signbit(x) ? "-0.0" : "0.0");
    /* shortest %e form that reads back to x: its digits and exponent */
    char e[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(e, sizeof e, "%.*e", p - 1, x);
        if (strtod(e, NULL) == x) break;
    }
    char digits[24];
    int nd = 0, neg = e[0] == '-';
    const char *s = e + neg;
    for (; *s && *s != 'e'; s++)
        if (*s != '.') digits[nd++] = *s;
    int exp = atoi(s + 1);
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    char out[64];
    int o = 0;
    if (neg) out[o++] = '-';
    if (exp >= -4 && exp < 16) {   /* Python repr: positional inside [1e-4, 1e16) */
        if (exp < 0) {
            out[o++] = '0';
            out[o++] = '.';
            for (int i = -1; i > exp; i--) out[o++] = '0';
            for (int i = 0; i < nd; i++) out[o++] = digits[i];
        } else {
            for (int i = 0; i <= exp; i++) out[o++] = i < nd ? digits[i] : '0';
            out[o++] = '.';
            if (nd > exp + 1)
                for (int i = exp + 1; i < nd; i++) out[o++] = digits[i];
            else
                out[o++] = '0';
        }
    } else {
        out[o++] = digits[0];
        if (nd > 1) {
            out[o++] = '.';
            for (int i = 1; i < nd; i++) out[o++] = digits[i];
        }
        o += snprintf(out + o, sizeof out - (size_t)o, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    }
    return docs_buf_put(b, out, (size_t)o);
}

double docs_round5(double x) {
    if (!isfinite(x) || fabs(x) > 1e15) return x;
    char s[64];
    snprintf(s, sizeof s, "%.5f", x);   /* glibc rounds the exact binary value, as CPython's round() does */
    return strtod(s, NULL);
}

void docs_buf_free(struct docs_buf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}
