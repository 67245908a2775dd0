/* pretokenize.c — pre-tokenizer pipelines (see pretokenize.h): parsing the tokenizer.json description, PCRE2
 * (JIT) for regexes other than the two with hand-written matchers (pretok_match.c), the Split behaviours of HF
 * `tokenizers`, ByteLevel's prefix space, and Sequence. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/pretok_internal.h"
#include "tokenizer/unicode.h"
#include "base/error.h"
#include "base/mem.h"

#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

enum { STEP_SPLIT, STEP_BYTELEVEL };
enum { M_NONE, M_GPT2, M_CL100K, M_PCRE, M_LITERAL };
enum { B_REMOVED, B_ISOLATED, B_MERGED_PREV, B_MERGED_NEXT, B_CONTIGUOUS };

struct pt_step {
    int kind, matcher, behavior, invert, add_prefix_space;
    pcre2_code *re;
    char *lit;
    size_t lit_len;
};

struct pretok {
    struct pt_step *steps;
    int n_steps;
    int byte_level;
};

/* ---------------------------------------------------------------- PCRE2 */

/* Rewrites \s and \S to Unicode White_Space (PCRE2's own \s differs, e.g. on U+0085). */
static char *rewrite_ws(const char *re) {
    static const char ws[] = "\\t-\\r\\x20\\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}"
                             "\\x{205f}\\x{3000}";
    size_t n = strlen(re);
    char *out = malloc(n * (sizeof ws + 4) + 1);
    if (!out) return NULL;
    size_t o = 0;
    int in_class = 0;
    for (size_t i = 0; i < n; i++) {
        char c = re[i];
        if (c == '\\' && i + 1 < n) {
            char d = re[i + 1];
            if (d == 's' || (d == 'S' && !in_class)) {
                if (!in_class) out[o++] = '[';
                if (d == 'S') out[o++] = '^';
                memcpy(out + o, ws, sizeof ws - 1);
                o += sizeof ws - 1;
                if (!in_class) out[o++] = ']';
            } else {
                out[o++] = c;
                out[o++] = d;
            }
            i++;
            continue;
        }
        if (!in_class && c == '[') {
            in_class = 1;
            out[o++] = c;
            if (i + 1 < n && re[i + 1] == '^') out[o++] = re[++i];
            if (i + 1 < n && re[i + 1] == ']') out[o++] = re[++i];
            continue;
        }
        if (in_class && c == ']') in_class = 0;
        out[o++] = c;
    }
    out[o] = 0;
    return out;
}

static pcre2_code *compile_pcre(const char *regex) {
    char *re = rewrite_ws(regex);
    if (!re) { olmo_err("out of memory compiling a regex"); return NULL; }
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
                                     PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &ec, &eo, NULL);
    free(re);
    if (!code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        olmo_err("pre-tokenizer regex /%s/: %s (near offset %zu)", regex, (const char *)msg, (size_t)eo);
        return NULL;
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);   /* falls back to the interpreter when JIT is unavailable */
    return code;
}

/* ---------------------------------------------------------------- matching into spans */

struct span { size_t s, e; int is_match; };
struct spans { struct span *v; size_t n, cap; };

static int spans_push(struct spans *sp, size_t s, size_t e, int m) {
    if (sp->n == sp->cap) {
        size_t nc = sp->cap ? sp->cap * 2 : 64;
        struct span *nv = realloc(sp->v, nc * sizeof *nv);
        if (!nv) return olmo_err("out of memory splitting text");
        sp->v = nv;
        sp->cap = nc;
    }
    sp->v[sp->n++] = (struct span){s, e, m};
    return 0;
}

/* All matches of the step's pattern in s[0..len), with the gaps between them, as (span, is_match). */
static int find_matches(const struct pt_step *st, const uint8_t *s, size_t len, struct spans *out) {
    out->n = 0;
    if (len == 0) return 0;
    size_t prev = 0;
    if (st->matcher == M_GPT2 || st->matcher == M_CL100K) {
        for (size_t i = 0; i < len;) {
            size_t m = st->matcher == M_GPT2 ? pretok_gpt2_match(s, len, i) : pretok_cl100k_match(s, len, i);
            if (spans_push(out, i, i + m, 1)) return -1;
            i += m;
        }
        return 0;
    }
    if (st->matcher == M_LITERAL) {
        if (st->lit_len) {
            const uint8_t *p = s;
            while ((size_t)(p - s) + st->lit_len <= len) {
                const uint8_t *q = memmem(p, len - (size_t)(p - s), st->lit, st->lit_len);
                if (!q) break;
                size_t a = (size_t)(q - s);
                if (a > prev && spans_push(out, prev, a, 0)) return -1;
                if (spans_push(out, a, a + st->lit_len, 1)) return -1;
                prev = a + st->lit_len;
                p = q + st->lit_len;
            }
        }
    } else if (st->matcher == M_PCRE) {
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(st->re, NULL);
        if (!md) return olmo_err("out of memory running a regex");
        size_t off = 0;
        while (off <= len) {
            int rc = pcre2_match(st->re, s, len, off, 0, md, NULL);
            if (rc < 0) break;   /* no match (or a match-limit error: the rest stays one piece) */
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            size_t a = ov[0], b = ov[1];
            if (a > prev && spans_push(out, prev, a, 0)) { pcre2_match_data_free(md); return -1; }
            if (b > a) {
                if (spans_push(out, a, b, 1)) { pcre2_match_data_free(md); return -1; }
                prev = off = b;
            } else {   /* empty match: step over one character */
                prev = a;
                if (a >= len) break;
                int n;
                uc_decode(s + a, len - a, &n);
                off = a + (size_t)n;
            }
        }
        pcre2_match_data_free(md);
    }
    if (prev < len && spans_push(out, prev, len, 0)) return -1;
    return 0;
}

/* Applies invert and the behaviour (HF SplitDelimiterBehavior) in place; is_match then means "delimiter". */
static void apply_behavior(struct spans *sp, int behavior, int invert) {
    size_t o = 0;
    int prev_match = 0;
    if (invert)
        for (size_t i = 0; i < sp->n; i++) sp->v[i].is_match = !sp->v[i].is_match;
    switch (behavior) {
    case B_REMOVED:
        for (size_t i = 0; i < sp->n; i++)
            if (!sp->v[i].is_match) sp->v[o++] = sp->v[i];
        break;
    case B_ISOLATED:
        o = sp->n;
        break;
    case B_MERGED_PREV:
        for (size_t i = 0; i < sp->n; i++) {
            int m = sp->v[i].is_match;
            if (m && !prev_match && o > 0) sp->v[o - 1].e = sp->v[i].e;
            else sp->v[o++] = sp->v[i];
            prev_match = m;
        }
        break;
    case B_MERGED_NEXT: {
        /* Walk backwards, attaching each delimiter to the piece after it. */
        size_t w = sp->n;
        for (size_t i = sp->n; i-- > 0;) {
            int m = sp->v[i].is_match;
            if (m && !prev_match && w < sp->n) sp->v[w].s = sp->v[i].s;
            else sp->v[--w] = sp->v[i];
            prev_match = m;
        }
        memmove(sp->v, sp->v + w, (sp->n - w) * sizeof *sp->v);
        o = sp->n - w;
        break;
    }
    case B_CONTIGUOUS:
        for (size_t i = 0; i < sp->n; i++) {
            int m = sp->v[i].is_match;
            if (m == prev_match && o > 0) sp->v[o - 1].e = sp->v[i].e;
            else sp->v[o++] = sp->v[i];
            prev_match = m;
        }
        break;
    }
    sp->n = o;
}

/* ---------------------------------------------------------------- pipelines */

static int piece_push(struct pretok_piece **v, size_t *n, size_t *cap, size_t s, size_t len, int pfx) {
    if (len == 0 && !pfx) return 0;   /* empty pieces are dropped, as HF does */
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        struct pretok_piece *nv = realloc(*v, nc * sizeof *nv);
        if (!nv) return olmo_err("out of memory splitting text");
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = (struct pretok_piece){s, len, pfx};
    return 0;
}

/* Runs one step over one piece, appending the sub-pieces to out. */
static int run_step(const struct pt_step *st, const uint8_t *text, struct pretok_piece in, struct spans *sp,
                    struct pretok_piece **out, size_t *n, size_t *cap) {
    const uint8_t *s = text + in.start;
    size_t len = in.len;
    int pfx = in.prefix_space;
    if (st->kind == STEP_BYTELEVEL && st->add_prefix_space && !pfx && !(len > 0 && s[0] == ' ')) pfx = 1;
    if (st->matcher == M_NONE) return piece_push(out, n, cap, in.start, len, pfx);
    const uint8_t *m = s;
    uint8_t *tmp = NULL;
    size_t mlen = len;
    if (pfx) {   /* match on " " + piece; offset 0 is the virtual space */
        tmp = malloc(len + 1);
        if (!tmp) return olmo_err("out of memory splitting text");
        tmp[0] = ' ';
        memcpy(tmp + 1, s, len);
        m = tmp;
        mlen = len + 1;
    }
    int rc = find_matches(st, m, mlen, sp);
    if (!rc) {
        apply_behavior(sp, st->behavior, st->invert);
        for (size_t k = 0; k < sp->n && !rc; k++) {
            size_t a = sp->v[k].s, b = sp->v[k].e;
            if (b <= a) continue;
            if (pfx) {
                if (a == 0) rc = piece_push(out, n, cap, in.start, b - 1, 1);
                else rc = piece_push(out, n, cap, in.start + a - 1, b - a, 0);
            } else {
                rc = piece_push(out, n, cap, in.start + a, b - a, 0);
            }
        }
    }
    free(tmp);
    return rc;
}

int pretok_split(const struct pretok *p, const char *text, size_t len, struct pretok_piece **pieces, size_t *n,
                 size_t *cap) {
    const uint8_t *s = (const uint8_t *)text;
    *n = 0;
    if (len == 0) return 0;
    if (!p || p->n_steps == 0) return piece_push(pieces, n, cap, 0, len, 0);
    /* Fast path: one step, a hand-written matcher whose matches partition the text and are all kept. */
    if (p->n_steps == 1 || (p->n_steps == 2 && p->steps[1].kind == STEP_BYTELEVEL &&
                            p->steps[1].matcher == M_NONE && !p->steps[1].add_prefix_space)) {
        const struct pt_step *st = &p->steps[0];
        int keep_all = st->behavior == B_ISOLATED || (st->behavior == B_REMOVED && st->invert);
        if (keep_all && !st->add_prefix_space && (st->matcher == M_GPT2 || st->matcher == M_CL100K)) {
            for (size_t i = 0; i < len;) {
                size_t m = st->matcher == M_GPT2 ? pretok_gpt2_match(s, len, i) : pretok_cl100k_match(s, len, i);
                if (*n < *cap) (*pieces)[(*n)++] = (struct pretok_piece){i, m, 0};
                else if (piece_push(pieces, n, cap, i, m, 0)) return -1;
                i += m;
            }
            return 0;
        }
    }
    /* General path: each step refines the list of pieces. */
    struct spans sp = {0};
    struct pretok_piece *cur = NULL, *next = NULL;
    size_t ncur = 0, capcur = 0, nnext = 0, capnext = 0;
    int rc = piece_push(&cur, &ncur, &capcur, 0, len, 0);
    for (int k = 0; k < p->n_steps && !rc; k++) {
        nnext = 0;
        for (size_t i = 0; i < ncur && !rc; i++) rc = run_step(&p->steps[k], s, cur[i], &sp, &next, &nnext, &capnext);
        struct pretok_piece *t = cur; cur = next; next = t;
        size_t tc = capcur; capcur = capnext; capnext = tc;
        ncur = nnext;
    }
    for (size_t i = 0; i < ncur && !rc; i++) rc = piece_push(pieces, n, cap, cur[i].start, cur[i].len, cur[i].prefix_space);
    free(cur);
    free(next);
    free(sp.v);
    return rc;
}

int pretok_is_byte_level(const struct pretok *p) { return p && p->byte_level; }

void pretok_free(struct pretok *p) {
    if (!p) return;
    for (int i = 0; i < p->n_steps; i++) {
        pcre2_code_free(p->steps[i].re);
        free(p->steps[i].lit);
    }
    free(p->steps);
    free(p);
}

static int add_step(struct pretok *p, struct pt_step st) {
    struct pt_step *nv = realloc(p->steps, (size_t)(p->n_steps + 1) * sizeof *nv);
    if (!nv) {
        pcre2_code_free(st.re);
        free(st.lit);
        return olmo_err("out of memory building a pre-tokenizer");
    }
    p->steps = nv;
    p->steps[p->n_steps++] = st;
    if (st.kind == STEP_BYTELEVEL) p->byte_level = 1;
    return 0;
}

/* Split step for a regex: the known patterns get their hand-written matcher unless force_pcre. */
static int regex_step(struct pt_step *st, const char *regex, int force_pcre) {
    memset(st, 0, sizeof *st);
    st->kind = STEP_SPLIT;
    if (!force_pcre && !strcmp(regex, PRETOK_GPT2_REGEX)) st->matcher = M_GPT2;
    else if (!force_pcre && !strcmp(regex, PRETOK_CL100K_REGEX)) st->matcher = M_CL100K;
    else {
        st->matcher = M_PCRE;
        st->re = compile_pcre(regex);
        if (!st->re) return -1;
    }
    return 0;
}

static struct pretok *new_pretok(void) {
    uc_init();
    struct pretok *p = olmo_calloc(1, sizeof *p);
    return p;
}

static int get_bool(const json_t *o, const char *key, int dflt, int *out, const char *where) {
    const json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) { *out = dflt; return 0; }
    if (!json_is_boolean(v)) return olmo_err("%s: \"%s\" must be true or false", where, key);
    *out = json_is_true(v);
    return 0;
}

static int parse_step(struct pretok *p, const json_t *v, const char *where, int depth) {
    if (!json_is_object(v)) return olmo_err("%s: expected an object", where);
    const char *type = json_string_value(json_object_get(v, "type"));
    if (!type) return olmo_err("%s: missing \"type\"", where);
    if (!strcmp(type, "Sequence")) {
        const json_t *arr = json_object_get(v, "pretokenizers");
        if (!json_is_array(arr)) return olmo_err("%s: Sequence without a \"pretokenizers\" array", where);
        if (depth > 16) return olmo_err("%s: Sequence nested too deeply", where);
        size_t i;
        const json_t *e;
        json_array_foreach(arr, i, e) if (parse_step(p, e, where, depth + 1)) return -1;
        return 0;
    }
    struct pt_step st;
    memset(&st, 0, sizeof st);
    if (!strcmp(type, "ByteLevel")) {
        int use_regex = 1, aps = 1;
        if (get_bool(v, "use_regex", 1, &use_regex, where) || get_bool(v, "add_prefix_space", 1, &aps, where))
            return -1;
        if (use_regex) {
            if (regex_step(&st, PRETOK_GPT2_REGEX, 0)) return -1;
        } else {
            st.matcher = M_NONE;
        }
        st.kind = STEP_BYTELEVEL;
        st.behavior = B_ISOLATED;
        st.add_prefix_space = aps;
        return add_step(p, st);
    }
    if (!strcmp(type, "Split")) {
        const json_t *pat = json_object_get(v, "pattern");
        const char *re = json_string_value(json_object_get(pat, "Regex"));
        const json_t *lit = json_object_get(pat, "String");
        if (re) {
            if (regex_step(&st, re, 0)) return -1;
        } else if (json_is_string(lit)) {
            st.kind = STEP_SPLIT;
            st.matcher = M_LITERAL;
            st.lit_len = json_string_length(lit);
            st.lit = olmo_strndup(json_string_value(lit), st.lit_len);
            if (!st.lit) return -1;
        } else {
            return olmo_err("%s: Split needs \"pattern\": {\"Regex\": ...} or {\"String\": ...}", where);
        }
        const char *b = json_string_value(json_object_get(v, "behavior"));
        static const char *names[] = {"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"};
        st.behavior = -1;
        for (int i = 0; b && i < 5; i++)
            if (!strcmp(b, names[i])) st.behavior = i;
        int inv = 0;
        if (st.behavior < 0 || get_bool(v, "invert", 0, &inv, where)) {
            pcre2_code_free(st.re);
            free(st.lit);
            if (st.behavior < 0)
                return olmo_err("%s: Split \"behavior\" is %s%s%s; expected Removed, Isolated, MergedWithPrevious, "
                                "MergedWithNext or Contiguous", where, b ? "\"" : "", b ? b : "missing", b ? "\"" : "");
            return -1;
        }
        st.invert = inv;
        return add_step(p, st);
    }
    return olmo_err("%s: unsupported pre-tokenizer type \"%s\" (supported: ByteLevel, Split, Sequence)", where, type);
}

struct pretok *pretok_from_jansson(const json_t *v, const char *where) {
    struct pretok *p = new_pretok();
    if (!p) return NULL;
    if (v && !json_is_null(v) && parse_step(p, v, where, 0)) {
        pretok_free(p);
        return NULL;
    }
    return p;
}

struct pretok *pretok_from_json(const char *json, size_t len) {
    json_error_t err;
    json_t *v = json_loadb(json, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (!v) {
        olmo_err("pre-tokenizer JSON, line %d column %d: %s", err.line, err.column, err.text);
        return NULL;
    }
    struct pretok *p = pretok_from_jansson(v, "pre_tokenizer");
    json_decref(v);
    return p;
}

struct pretok *pretok_named(const char *name) {
    if (!strcmp(name, "gpt2") || !strcmp(name, "neox")) {
        const char *json = "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":true}";
        return pretok_from_json(json, strlen(json));
    }
    if (strcmp(name, "cl100k") && strcmp(name, "dolma2")) {
        olmo_err("unknown pre-tokenizer name \"%s\" (known: gpt2, cl100k)", name);
        return NULL;
    }
    /* dolma2: Split(cl100k, Removed, invert) then ByteLevel(use_regex=false, add_prefix_space=false) */
    struct pretok *p = new_pretok();
    struct pt_step a, b;
    if (!p || regex_step(&a, PRETOK_CL100K_REGEX, 0)) { pretok_free(p); return NULL; }
    a.behavior = B_REMOVED;
    a.invert = 1;
    memset(&b, 0, sizeof b);
    b.kind = STEP_BYTELEVEL;
    b.matcher = M_NONE;
    if (add_step(p, a) || add_step(p, b)) { pretok_free(p); return NULL; }
    return p;
}

static struct pretok *from_regex(const char *regex, int force_pcre) {
    struct pretok *p = new_pretok();
    struct pt_step st;
    if (!p) return NULL;
    if (regex_step(&st, regex, force_pcre) || (st.behavior = B_ISOLATED, add_step(p, st))) {
        pretok_free(p);
        return NULL;
    }
    return p;
}
struct pretok *pretok_from_regex(const char *regex) { return from_regex(regex, 0); }
struct pretok *pretok_from_regex_pcre2(const char *regex) { return from_regex(regex, 1); }
