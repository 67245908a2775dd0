/* jsonpath.c — the JSONPath / jq-path subset of jsonpath.h: a recursive-descent parser into steps and expression
 * nodes, then a direct walk over jansson values (no intermediate result lists: Dolma's filters are all
 * "is this one value there / above a threshold", and a walk is the cheapest way to answer). */
#include "data/jsonpath.h"

#include "base/error.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

enum step_kind { STEP_KEY, STEP_INDEX, STEP_FILTER };
enum node_kind { N_OR, N_AND, N_NOT, N_EXISTS, N_CMP, N_LIT };
enum cmp_op { OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE };

struct node;
struct step {
    enum step_kind kind;
    char *key;          /* STEP_KEY */
    long index;         /* STEP_INDEX (negative counts from the end) */
    struct node *expr;  /* STEP_FILTER */
};
struct jpath {
    struct step *steps;
    int n, cap;
};
struct node {
    enum node_kind kind;
    enum cmp_op op;
    struct node *a, *b;
    struct jpath *path; /* N_EXISTS and path operands of N_CMP (relative to @) */
    json_t *lit;        /* N_LIT */
};

struct parser {
    const char *src, *p;
    int jq;
    int quiet;
};

static void node_free(struct node *n);
void jpath_free(struct jpath *p) {
    if (!p) return;
    for (int i = 0; i < p->n; i++) {
        free(p->steps[i].key);
        node_free(p->steps[i].expr);
    }
    free(p->steps);
    free(p);
}
static void node_free(struct node *n) {
    if (!n) return;
    node_free(n->a);
    node_free(n->b);
    jpath_free(n->path);
    if (n->lit) json_decref(n->lit);
    free(n);
}

static int perr(struct parser *ps, const char *what) {
    if (ps->quiet) return -1;
    return olmo_err("%s path '%s': column %d: expected %s, found '%.12s'", ps->jq ? "jq" : "JSONPath", ps->src,
                    (int)(ps->p - ps->src) + 1, what, *ps->p ? ps->p : "end of expression");
}
static void skip_ws(struct parser *ps) { while (isspace((unsigned char)*ps->p)) ps->p++; }

static int push_step(struct jpath *jp, struct step s) {
    if (jp->n == jp->cap) {
        int cap = jp->cap ? 2 * jp->cap : 4;
        struct step *ns = realloc(jp->steps, cap * sizeof *ns);
        if (!ns) return olmo_err("out of memory");
        jp->steps = ns;
        jp->cap = cap;
    }
    jp->steps[jp->n++] = s;
    return 0;
}

static char *parse_quoted(struct parser *ps) {
    char q = *ps->p++;
    const char *start = ps->p;
    while (*ps->p && *ps->p != q) ps->p++;
    if (*ps->p != q) { perr(ps, "a closing quote"); return NULL; }
    char *s = strndup(start, ps->p - start);
    ps->p++;
    return s;
}
static int is_ident(char c) { return isalnum((unsigned char)c) || c == '_' || c == '-' || (unsigned char)c >= 0x80; }

static struct node *parse_or(struct parser *ps);

/* Steps after '$' or '@' (or, in jq mode, from the start): .key  ['key']  [N]  [?(EXPR)]  and jq's '?'. */
static int parse_steps(struct parser *ps, struct jpath *jp, int allow_filter) {
    for (;;) {
        if (ps->jq) skip_ws(ps);
        if (ps->jq && *ps->p == '?') { ps->p++; continue; }
        if (*ps->p == '.') {
            ps->p++;
            if (ps->jq && (*ps->p == '[' || *ps->p == '"')) {
                if (*ps->p == '"') {
                    char *k = parse_quoted(ps);
                    if (!k || push_step(jp, (struct step){.kind = STEP_KEY, .key = k})) { free(k); return -1; }
                }
                continue;
            }
            const char *s = ps->p;
            while (is_ident(*ps->p)) ps->p++;
            if (ps->p == s) {
                if (ps->jq && jp->n == 0) continue; /* jq's identity '.' */
                return perr(ps, "a key name after '.'");
            }
            char *k = strndup(s, ps->p - s);
            if (!k || push_step(jp, (struct step){.kind = STEP_KEY, .key = k})) { free(k); return -1; }
        } else if (*ps->p == '[') {
            ps->p++;
            skip_ws(ps);
            if (*ps->p == '\'' || *ps->p == '"') {
                char *k = parse_quoted(ps);
                if (!k || push_step(jp, (struct step){.kind = STEP_KEY, .key = k})) { free(k); return -1; }
            } else if (*ps->p == '?' && allow_filter) {
                ps->p++;
                skip_ws(ps);
                if (*ps->p != '(') return perr(ps, "'(' after '[?'");
                ps->p++;
                struct node *e = parse_or(ps);
                if (!e) return -1;
                skip_ws(ps);
                if (*ps->p != ')') { node_free(e); return perr(ps, "')' closing the filter"); }
                ps->p++;
                if (push_step(jp, (struct step){.kind = STEP_FILTER, .expr = e})) { node_free(e); return -1; }
            } else if (*ps->p == '-' || isdigit((unsigned char)*ps->p)) {
                char *end;
                long v = strtol(ps->p, &end, 10);
                ps->p = end;
                if (push_step(jp, (struct step){.kind = STEP_INDEX, .index = v})) return -1;
            } else {
                return perr(ps, allow_filter ? "a quoted key, an index or '?(' after '['" : "a quoted key or an index after '['");
            }
            skip_ws(ps);
            if (*ps->p != ']') return perr(ps, "']'");
            ps->p++;
        } else {
            return 0;
        }
    }
}

static struct node *new_node(enum node_kind k) {
    struct node *n = calloc(1, sizeof *n);
    if (n) n->kind = k;
    return n;
}

static struct node *parse_operand(struct parser *ps) {
    skip_ws(ps);
    const char *p = ps->p;
    if (*p == '@') {
        ps->p++;
        struct node *n = new_node(N_EXISTS);
        n->path = calloc(1, sizeof *n->path);
        if (parse_steps(ps, n->path, 0)) { node_free(n); return NULL; }
        return n;
    }
    struct node *n = new_node(N_LIT);
    if (*p == '\'' || *p == '"') {
        char *s = parse_quoted(ps);
        if (!s) { free(n); return NULL; }
        n->lit = json_string(s);
        free(s);
    } else if (!strncmp(p, "true", 4) && !is_ident(p[4])) {
        n->lit = json_true(); ps->p += 4;
    } else if (!strncmp(p, "false", 5) && !is_ident(p[5])) {
        n->lit = json_false(); ps->p += 5;
    } else if (!strncmp(p, "null", 4) && !is_ident(p[4])) {
        n->lit = json_null(); ps->p += 4;
    } else {
        char *end;
        double v = strtod(p, &end);
        if (end == p) { free(n); perr(ps, "'@', a number, a quoted string, true, false or null"); return NULL; }
        n->lit = json_real(v);
        ps->p = end;
    }
    return n;
}

static struct node *parse_unary(struct parser *ps) {
    skip_ws(ps);
    if (*ps->p == '!' && ps->p[1] != '=') {
        ps->p++;
        struct node *a = parse_unary(ps);
        if (!a) return NULL;
        struct node *n = new_node(N_NOT);
        n->a = a;
        return n;
    }
    if (*ps->p == '(') {
        ps->p++;
        struct node *e = parse_or(ps);
        if (!e) return NULL;
        skip_ws(ps);
        if (*ps->p != ')') { node_free(e); perr(ps, "')'"); return NULL; }
        ps->p++;
        return e;
    }
    struct node *a = parse_operand(ps);
    if (!a) return NULL;
    skip_ws(ps);
    static const struct { const char *s; enum cmp_op op; } ops[] = {
        {"<=", OP_LE}, {">=", OP_GE}, {"==", OP_EQ}, {"!=", OP_NE}, {"<", OP_LT}, {">", OP_GT}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t l = strlen(ops[i].s);
        if (!strncmp(ps->p, ops[i].s, l)) {
            ps->p += l;
            struct node *b = parse_operand(ps);
            if (!b) { node_free(a); return NULL; }
            struct node *n = new_node(N_CMP);
            n->op = ops[i].op;
            n->a = a;
            n->b = b;
            return n;
        }
    }
    if (a->kind == N_LIT) { node_free(a); perr(ps, "a comparison after a literal"); return NULL; }
    return a;
}

static struct node *parse_bin(struct parser *ps, int level) {
    struct node *a = level ? parse_unary(ps) : parse_bin(ps, 1);
    if (!a) return NULL;
    const char *tok = level ? "&&" : "||";
    for (;;) {
        skip_ws(ps);
        if (strncmp(ps->p, tok, 2)) return a;
        ps->p += 2;
        struct node *b = level ? parse_unary(ps) : parse_bin(ps, 1);
        if (!b) { node_free(a); return NULL; }
        struct node *n = new_node(level ? N_AND : N_OR);
        n->a = a;
        n->b = b;
        a = n;
    }
}
static struct node *parse_or(struct parser *ps) { return parse_bin(ps, 0); }

struct jpath *jpath_compile(const char *expr) {
    struct parser ps = {expr, expr, 0, 0};
    skip_ws(&ps);
    if (*ps.p != '$') { perr(&ps, "'$' at the start"); return NULL; }
    ps.p++;
    if (*ps.p == '@') ps.p++;
    struct jpath *jp = calloc(1, sizeof *jp);
    if (parse_steps(&ps, jp, 1)) { jpath_free(jp); return NULL; }
    skip_ws(&ps);
    if (*ps.p) { perr(&ps, "end of path"); jpath_free(jp); return NULL; }
    return jp;
}

struct jpath *jpath_compile_jq(const char *expr, int quiet) {
    struct parser ps = {expr, expr, 1, quiet};
    skip_ws(&ps);
    if (*ps.p != '.') { perr(&ps, "'.' at the start of a jq path"); return NULL; }
    struct jpath *jp = calloc(1, sizeof *jp);
    if (parse_steps(&ps, jp, 0)) { jpath_free(jp); return NULL; }
    skip_ws(&ps);
    if (*ps.p) { perr(&ps, "end of a plain jq path"); jpath_free(jp); return NULL; }
    return jp;
}

/* ---- evaluation ---- */

static json_t *walk(const struct jpath *p, int from, json_t *v);

static json_t *eval_value(const struct node *n, json_t *at) {
    if (n->kind == N_LIT) return n->lit;
    return walk(n->path, 0, at);
}

static int cmp_values(enum cmp_op op, json_t *a, json_t *b) {
    if (!a || !b) return 0;
    if (json_is_number(a) && json_is_number(b)) {
        double x = json_number_value(a), y = json_number_value(b);
        switch (op) {
        case OP_LT: return x < y;
        case OP_LE: return x <= y;
        case OP_GT: return x > y;
        case OP_GE: return x >= y;
        case OP_EQ: return x == y;
        case OP_NE: return x != y;
        }
    }
    if (json_is_string(a) && json_is_string(b)) {
        int c = strcmp(json_string_value(a), json_string_value(b));
        switch (op) {
        case OP_LT: return c < 0;
        case OP_LE: return c <= 0;
        case OP_GT: return c > 0;
        case OP_GE: return c >= 0;
        case OP_EQ: return c == 0;
        case OP_NE: return c != 0;
        }
    }
    if (op == OP_EQ) return json_equal(a, b);
    if (op == OP_NE) return !json_equal(a, b);
    return 0;
}

static int eval_node(const struct node *n, json_t *at) {
    switch (n->kind) {
    case N_OR: return eval_node(n->a, at) || eval_node(n->b, at);
    case N_AND: return eval_node(n->a, at) && eval_node(n->b, at);
    case N_NOT: return !eval_node(n->a, at);
    case N_EXISTS: {
        json_t *v = walk(n->path, 0, at);
        return v && !json_is_null(v);
    }
    case N_CMP: return cmp_values(n->op, eval_value(n->a, at), eval_value(n->b, at));
    case N_LIT: return n->lit && !json_is_null(n->lit) && !json_is_false(n->lit);
    }
    return 0;
}

static json_t *walk(const struct jpath *p, int from, json_t *v) {
    for (int i = from; i < p->n && v; i++) {
        const struct step *s = &p->steps[i];
        switch (s->kind) {
        case STEP_KEY:
            v = json_is_object(v) ? json_object_get(v, s->key) : NULL;
            break;
        case STEP_INDEX: {
            if (!json_is_array(v)) return NULL;
            long n = (long)json_array_size(v), k = s->index < 0 ? n + s->index : s->index;
            v = k >= 0 && k < n ? json_array_get(v, k) : NULL;
            break;
        }
        case STEP_FILTER:
            if (json_is_array(v)) {
                size_t j;
                json_t *e;
                json_array_foreach(v, j, e) {
                    if (eval_node(s->expr, e)) {
                        json_t *r = walk(p, i + 1, e);
                        if (r && !json_is_null(r)) return r;
                    }
                }
                return NULL;
            }
            if (!eval_node(s->expr, v)) return NULL;
            break;
        }
    }
    return v;
}

json_t *jpath_select(const struct jpath *p, json_t *doc) { return walk(p, 0, doc); }

int jpath_matches(const struct jpath *p, json_t *doc) {
    json_t *v = walk(p, 0, doc);
    return v && !json_is_null(v);
}

int jpath_type_error(const struct jpath *p, json_t *v) {
    for (int i = 0; i < p->n && v && !json_is_null(v); i++) {
        const struct step *s = &p->steps[i];
        if (s->kind == STEP_KEY) {
            if (!json_is_object(v)) return 1;
            v = json_object_get(v, s->key);
        } else if (s->kind == STEP_INDEX) {
            if (!json_is_array(v)) return 1;
            long n = (long)json_array_size(v), k = s->index < 0 ? n + s->index : s->index;
            v = k >= 0 && k < n ? json_array_get(v, k) : NULL;
        } else {
            return 0;
        }
    }
    return 0;
}
