/* filter.c — see filter.h. libjq is only entered for jq programs the walker cannot run, because each call costs a
 * serialisation of the document to text and a parse into jq's values. */
#include "data/filter.h"

#include "base/error.h"
#include "data/jsonpath.h"

#include <jq.h>
#include <stdlib.h>
#include <string.h>

struct dfilter {
    char *expr;
    enum dfilter_syntax syntax;
    struct jpath *path; /* jsonpath, or a plain jq path */
    jq_state *jq;       /* libjq program (jq syntax), compiled lazily for plain paths */
    char jq_err[512];
};

static void jq_err_cb(void *data, jv msg) {
    struct dfilter *f = data;
    if (jv_get_kind(msg) == JV_KIND_STRING) snprintf(f->jq_err, sizeof f->jq_err, "%s", jv_string_value(msg));
    else snprintf(f->jq_err, sizeof f->jq_err, "jq error");
    jv_free(msg);
}

static int compile_libjq(struct dfilter *f) {
    f->jq = jq_init();
    if (!f->jq) return olmo_err("jq: out of memory");
    jq_set_error_cb(f->jq, jq_err_cb, f);
    f->jq_err[0] = 0;
    if (!jq_compile(f->jq, f->expr)) {
        olmo_err("jq filter '%s': expected a jq program, found a compile error: %s", f->expr,
                 f->jq_err[0] ? f->jq_err : "syntax error");
        jq_teardown(&f->jq);
        return -1;
    }
    return 0;
}

struct dfilter *dfilter_compile(const char *expr, enum dfilter_syntax syntax) {
    struct dfilter *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->expr = strdup(expr);
    f->syntax = syntax;
    if (syntax == DFILTER_JSONPATH) {
        f->path = jpath_compile(expr);
        if (!f->path) { dfilter_free(f); return NULL; }
        return f;
    }
    f->path = jpath_compile_jq(expr, 1);
    if (!f->path && compile_libjq(f)) { dfilter_free(f); return NULL; }
    return f;
}

struct dfilter *dfilter_clone(const struct dfilter *f) {
    struct dfilter *c = dfilter_compile(f->expr, f->syntax);
    if (c && f->jq && !c->jq && compile_libjq(c)) { dfilter_free(c); return NULL; }
    return c;
}

void dfilter_free(struct dfilter *f) {
    if (!f) return;
    free(f->expr);
    jpath_free(f->path);
    if (f->jq) jq_teardown(&f->jq);
    free(f);
}

const char *dfilter_expr(const struct dfilter *f) { return f->expr; }

void dfilter_force_libjq(struct dfilter *f) {
    if (f->syntax != DFILTER_JQ || !f->path) return;
    if (!f->jq && compile_libjq(f)) return;
    jpath_free(f->path);
    f->path = NULL;
}

static int truthy_json(json_t *v) {
    if (!v || json_is_null(v)) return 0;
    if (json_is_boolean(v)) return json_is_true(v);
    if (json_is_number(v)) return json_number_value(v) != 0;
    if (json_is_string(v)) return json_string_length(v) > 0;
    if (json_is_array(v)) return json_array_size(v) > 0;
    if (json_is_object(v)) return json_object_size(v) > 0;
    return 0;
}

static int truthy_jv(jv v) {
    switch (jv_get_kind(v)) {
    case JV_KIND_TRUE: return 1;
    case JV_KIND_NUMBER: return jv_number_value(v) != 0;
    case JV_KIND_STRING: return jv_string_length_bytes(jv_copy(v)) > 0;
    case JV_KIND_ARRAY: return jv_array_length(jv_copy(v)) > 0;
    case JV_KIND_OBJECT: return jv_object_length(jv_copy(v)) > 0;
    default: return 0;
    }
}

/* Runs libjq on doc; calls each(output) for every output. */
static int run_libjq(struct dfilter *f, json_t *doc, int (*each)(void *, jv), void *ctx) {
    if (!f->jq && compile_libjq(f)) return -1;
    char *text = json_dumps(doc, JSON_COMPACT);
    if (!text) return olmo_err("jq filter '%s': cannot serialise the document", f->expr);
    jv in = jv_parse_sized(text, (int)strlen(text));
    free(text);
    if (!jv_is_valid(in)) {
        jv_free(in);
        return olmo_err("jq filter '%s': the document did not parse as jq input", f->expr);
    }
    f->jq_err[0] = 0;
    jq_start(f->jq, in, 0);
    int rc = 0, stop = 0;
    for (;;) {
        jv out = jq_next(f->jq);
        if (!jv_is_valid(out)) {
            if (jv_invalid_has_msg(jv_copy(out))) {
                jv msg = jv_invalid_get_msg(out);
                rc = olmo_err("jq filter '%s': runtime error: %s", f->expr,
                              jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "(no message)");
                jv_free(msg);
            } else {
                jv_free(out);
            }
            break;
        }
        if (!stop) stop = each(ctx, out);
        else jv_free(out);
    }
    return rc;
}

struct eval_ctx {
    int n, t;
};
static int eval_each(void *p, jv v) {
    struct eval_ctx *c = p;
    c->n++;
    c->t += truthy_jv(v);
    jv_free(v);
    return 0;
}

/* The walker's answer for a plain jq path, or 1 when jq would raise a type error (defer to libjq). */
static int walk_jq(const struct dfilter *f, json_t *doc, json_t **out) {
    *out = jpath_select(f->path, doc);
    /* jq gives null for a missing key of an object or of null, the walker NULL: the same. A type error (a key of a
     * string or number, an index of an object) only happens when some step met a non-container: re-check then. */
    return jpath_type_error(f->path, doc);
}

int dfilter_eval(struct dfilter *f, json_t *doc, int *n_out, int *n_truthy) {
    if (f->syntax == DFILTER_JSONPATH) {
        *n_out = 1;
        *n_truthy = jpath_matches(f->path, doc);
        return 0;
    }
    if (f->path) {
        json_t *v;
        if (!walk_jq(f, doc, &v)) {
            *n_out = 1;
            *n_truthy = truthy_json(v);
            return 0;
        }
    }
    struct eval_ctx c = {0, 0};
    if (run_libjq(f, doc, eval_each, &c)) return -1;
    *n_out = c.n;
    *n_truthy = c.t;
    return 0;
}

struct select_ctx {
    json_t *v;
    int err;
};
static int select_each(void *p, jv v) {
    struct select_ctx *c = p;
    if (jv_get_kind(v) == JV_KIND_NULL) { jv_free(v); return 1; }
    jv s = jv_dump_string(v, 0);
    c->v = json_loads(jv_string_value(s), JSON_DECODE_ANY, NULL);
    if (!c->v) c->err = 1;
    jv_free(s);
    return 1;
}

int dfilter_select(struct dfilter *f, json_t *doc, json_t **out) {
    *out = NULL;
    if (f->syntax == DFILTER_JSONPATH || (f->path && !walk_jq(f, doc, out))) {
        if (f->syntax == DFILTER_JSONPATH) *out = jpath_select(f->path, doc);
        if (*out && json_is_null(*out)) *out = NULL;
        if (*out) json_incref(*out);
        return 0;
    }
    struct select_ctx c = {NULL, 0};
    if (run_libjq(f, doc, select_each, &c)) return -1;
    if (c.err) return olmo_err("jq filter '%s': an output did not convert back to JSON", f->expr);
    *out = c.v;
    return 0;
}
