/* eval_ppl.c — Paloma-style perplexity and bits per byte (see eval_ppl.h). */
#include "eval/eval_ppl.h"

#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"
#include "eval/eval_io.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int is_jsonl(const char *path) {
    static const char *const ext[] = {".jsonl", ".jsonl.gz", ".json.gz"};
    size_t n = strlen(path);
    for (size_t k = 0; k < sizeof ext / sizeof *ext; k++) {
        size_t m = strlen(ext[k]);
        if (n > m && !strcmp(path + n - m, ext[k])) return 1;
    }
    return 0;
}

static int docs_push(struct eval_docs *docs, const char *text, size_t len, const char *source,
                     const char *subdomain, const char *id, const char *where) {
    if (docs->n == docs->cap) {
        int cap = docs->cap ? docs->cap * 2 : 64;
        struct eval_doc *nd = olmo_realloc(docs->d, (size_t)cap * sizeof *nd);
        if (!nd) return -1;
        docs->d = nd;
        docs->cap = cap;
    }
    struct eval_doc *d = &docs->d[docs->n];
    memset(d, 0, sizeof *d);
    d->text = olmo_malloc(len + 1);
    if (!d->text) return -1;
    memcpy(d->text, text, len);
    d->text[len] = 0;
    d->len = len;
    d->source = olmo_strdup(source);
    d->subdomain = olmo_strdup(subdomain);
    d->id = id ? olmo_strdup(id) : NULL;
    d->where = olmo_strdup(where);
    docs->n++;
    if (!d->source || !d->subdomain || !d->where) return -1;
    return 0;
}

struct load_ctx {
    struct eval_docs *docs;
    const char *path, *stem;
    int skip_bad;
};

static int bad_line(struct load_ctx *c, int lineno, const char *why) {
    if (!c->skip_bad) return olmo_err("%s:%d: %s (--skip-bad skips and counts such lines)", c->path, lineno, why);
    olmo_log_warn("%s:%d: skipped: %s", c->path, lineno, why);
    c->docs->n_skipped++;
    return 0;
}

static int load_line(char *line, size_t n, int lineno, void *arg) {
    struct load_ctx *c = arg;
    json_error_t je;
    json_t *o = json_loadb(line, n, 0, &je);
    char where[600];
    snprintf(where, sizeof where, "%s:%d", c->path, lineno);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        char why[300];
        snprintf(why, sizeof why, "expected a JSON object per line, found %s", o ? "another JSON value" : je.text);
        return bad_line(c, lineno, why) ? 1 : 0;
    }
    json_t *t = json_object_get(o, "text");
    int rc = 0;
    if (!json_is_string(t)) rc = bad_line(c, lineno, "no \"text\" string");
    else if (json_string_length(t) == 0) rc = bad_line(c, lineno, "empty \"text\"");
    else {
        const char *src = json_string_value(json_object_get(o, "source"));
        const char *sub = json_string_value(json_object_get(o, "subdomain"));
        const char *id = json_string_value(json_object_get(o, "id"));
        rc = docs_push(c->docs, json_string_value(t), json_string_length(t), src ? src : c->stem,
                       sub ? sub : (src ? src : c->stem), id, where);
    }
    json_decref(o);
    return rc ? 1 : 0;
}

int eval_docs_load(struct eval_docs *docs, const char *path, int skip_bad) {
    size_t len;
    char *buf = eval_read_all(path, &len);
    if (!buf) return -1;
    char *stem = eval_path_stem(path);
    int rc = -1;
    if (!stem) goto out;
    if (is_jsonl(path)) {
        struct load_ctx c = {docs, path, stem, skip_bad};
        int before = docs->n;
        if (eval_for_lines(buf, len, load_line, &c)) goto out;
        if (docs->n == before && !docs->n_skipped) {
            olmo_err("%s: no documents (expected one JSON object with \"text\" per line)", path);
            goto out;
        }
    } else {
        if (len == 0) {
            if (!skip_bad) {
                olmo_err("%s: empty file (--skip-bad skips and counts such files)", path);
                goto out;
            }
            olmo_log_warn("%s: skipped: empty file", path);
            docs->n_skipped++;
        } else if (docs_push(docs, buf, len, stem, stem, NULL, path) < 0) {
            goto out;
        }
    }
    rc = 0;
out:
    free(stem);
    free(buf);
    return rc;
}

void eval_docs_free(struct eval_docs *docs) {
    for (int i = 0; i < docs->n; i++) {
        free(docs->d[i].text);
        free(docs->d[i].source);
        free(docs->d[i].subdomain);
        free(docs->d[i].id);
        free(docs->d[i].where);
    }
    free(docs->d);
    memset(docs, 0, sizeof *docs);
}

static struct eval_ppl_group *group_for(struct eval_ppl_result *r, const char *src, const char *sub) {
    for (int i = 0; i < r->n_groups; i++)
        if (!strcmp(r->g[i].source, src) && !strcmp(r->g[i].subdomain, sub)) return &r->g[i];
    struct eval_ppl_group *ng = olmo_realloc(r->g, (size_t)(r->n_groups + 1) * sizeof *ng);
    if (!ng) return NULL;
    r->g = ng;
    struct eval_ppl_group *g = &r->g[r->n_groups++];
    memset(g, 0, sizeof *g);
    g->source = olmo_strdup(src);
    g->subdomain = olmo_strdup(sub);
    return g->source && g->subdomain ? g : NULL;
}

static void count_text(const char *s, size_t n, int64_t *chars, int64_t *words) {
    int in_word = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) != 0x80) (*chars)++;   /* not a UTF-8 continuation byte */
        int ws = c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
        if (!ws && !in_word) (*words)++;
        in_word = !ws;
    }
}

/* NLL of one document by rolling windows; *ntok gets its token count. */
static int score_doc(struct eval_scorer *sc, const struct olmo_tokenizer *tok, const struct eval_doc *d,
                     const struct eval_ppl_opts *o, double *nll, int64_t *ntok) {
    int32_t *ids = NULL;
    size_t n = 0;
    *nll = 0;
    *ntok = 0;
    if (tok_encode(tok, d->text, d->len, 0, &ids, &n) != 0) return olmo_err_prefix("%s: ", d->where);
    *nll = 0;
    *ntok = (int64_t)n;
    int L = o->ctx, S = o->stride > 0 && o->stride < o->ctx ? o->stride : o->ctx;
    size_t predicted = 0;
    int rc = 0;
    while (predicted < n && rc == 0) {
        struct eval_loglik ll;
        if (predicted == 0) {
            /* [EOS] + tokens[0 : L−1] predicts tokens[0 : L] */
            size_t pred = n < (size_t)L ? n : (size_t)L;
            rc = eval_score(sc, &o->prefix_token, 1, ids, (int)pred, &ll);
            predicted = pred;
        } else {
            size_t pred = n - predicted < (size_t)S ? n - predicted : (size_t)S, end = predicted + pred;
            size_t a = end - 1 - (size_t)L;   /* the query ids[a, end − 1) is exactly L long */
            rc = eval_score(sc, ids + a, (int)(predicted - a), ids + predicted, (int)pred, &ll);
            predicted = end;
        }
        if (rc == 0) *nll -= ll.sum;
    }
    free(ids);
    if (rc) return olmo_err_prefix("%s: ", d->where);
    return 0;
}

int eval_ppl_run(struct eval_scorer *sc, const struct olmo_tokenizer *tok, const struct eval_docs *docs,
                 const struct eval_ppl_opts *o, struct eval_ppl_result *r) {
    memset(r, 0, sizeof *r);
    if (o->ctx < 2 || o->ctx > sc->max_len)
        return olmo_err("eval ppl: window of %d tokens: expected 2..%d (the model's context)", o->ctx, sc->max_len);
    r->ctx = o->ctx;
    r->stride = o->stride > 0 && o->stride < o->ctx ? o->stride : o->ctx;
    r->n_skipped = docs->n_skipped;
    double t0 = olmo_now();
    for (int i = 0; i < docs->n; i++) {
        const struct eval_doc *d = &docs->d[i];
        double nll;
        int64_t ntok;
        eval_scorer_reset(sc);
        if (score_doc(sc, tok, d, o, &nll, &ntok) < 0) return -1;
        if (ntok == 0) return olmo_err("%s: the text encodes to no tokens", d->where);
        struct eval_ppl_group *g = group_for(r, d->source, d->subdomain);
        if (!g) return -1;
        g->docs++;
        g->tokens += ntok;
        g->bytes += (int64_t)d->len;
        g->nll += nll;
        count_text(d->text, d->len, &g->chars, &g->words);
        r->docs++;
        r->tokens += ntok;
        r->bytes += (int64_t)d->len;
        r->nll += nll;
        if (o->progress)
            fprintf(stderr, "\r[eval ppl] %d/%d documents, %lld tokens, %.1f s", i + 1, docs->n,
                    (long long)r->tokens, olmo_now() - t0);
    }
    if (o->progress && docs->n) fputc('\n', stderr);
    r->seconds = olmo_now() - t0;
    return 0;
}

void eval_ppl_result_free(struct eval_ppl_result *r) {
    for (int i = 0; i < r->n_groups; i++) {
        free(r->g[i].source);
        free(r->g[i].subdomain);
    }
    free(r->g);
    memset(r, 0, sizeof *r);
}

static double bpb(double nll, int64_t bytes) { return bytes ? nll / (log(2.0) * (double)bytes) : NAN; }
static double ppl(double nll, int64_t n) { return n ? exp(nll / (double)n) : NAN; }

/* Macro averages over the subdomains of source (NULL: all): bits per byte and token perplexity. */
static int macro(const struct eval_ppl_result *r, const char *source, double *m_bpb, double *m_ppl) {
    int k = 0;
    double sb = 0, sp = 0;
    for (int i = 0; i < r->n_groups; i++) {
        if (source && strcmp(r->g[i].source, source)) continue;
        sb += bpb(r->g[i].nll, r->g[i].bytes);
        sp += ppl(r->g[i].nll, r->g[i].tokens);
        k++;
    }
    *m_bpb = k ? sb / k : NAN;
    *m_ppl = k ? sp / k : NAN;
    return k;
}

/* Sums over the subdomains of one source. */
static void source_sums(const struct eval_ppl_result *r, const char *source, struct eval_ppl_group *s) {
    memset(s, 0, sizeof *s);
    for (int i = 0; i < r->n_groups; i++) {
        if (strcmp(r->g[i].source, source)) continue;
        s->docs += r->g[i].docs;
        s->tokens += r->g[i].tokens;
        s->bytes += r->g[i].bytes;
        s->nll += r->g[i].nll;
    }
}

static int first_of_source(const struct eval_ppl_result *r, int i) {
    for (int j = 0; j < i; j++)
        if (!strcmp(r->g[j].source, r->g[i].source)) return 0;
    return 1;
}

void eval_ppl_print(const struct eval_ppl_result *r, FILE *out) {
    fprintf(out, "%-28s %-32s %6s %9s %10s %10s %9s\n", "source", "subdomain", "docs", "tokens", "bytes", "ppl",
            "bits/byte");
    for (int i = 0; i < r->n_groups; i++) {
        const struct eval_ppl_group *g = &r->g[i];
        fprintf(out, "%-28s %-32s %6lld %9lld %10lld %10.3f %9.4f\n", g->source, g->subdomain, (long long)g->docs,
                (long long)g->tokens, (long long)g->bytes, ppl(g->nll, g->tokens), bpb(g->nll, g->bytes));
    }
    fprintf(out, "\nper source: macro = mean over its subdomains (Paloma), micro = all its tokens together\n");
    fprintf(out, "%-28s %5s %6s %12s %12s %10s\n", "source", "subs", "docs", "macro bpb", "micro bpb", "micro ppl");
    for (int i = 0; i < r->n_groups; i++) {
        if (!first_of_source(r, i)) continue;
        struct eval_ppl_group s;
        source_sums(r, r->g[i].source, &s);
        double mb, mp;
        int k = macro(r, r->g[i].source, &mb, &mp);
        fprintf(out, "%-28s %5d %6lld %12.4f %12.4f %10.3f\n", r->g[i].source, k, (long long)s.docs, mb,
                bpb(s.nll, s.bytes), ppl(s.nll, s.tokens));
    }
    double mb, mp;
    macro(r, NULL, &mb, &mp);
    fprintf(out, "%-28s %5d %6lld %12.4f %12.4f %10.3f\n", "ALL", r->n_groups, (long long)r->docs, mb,
            bpb(r->nll, r->bytes), ppl(r->nll, r->tokens));
    fprintf(out, "window %d tokens, stride %d; %lld tokens in %.1f s (%.0f tok/s)%s\n", r->ctx, r->stride,
            (long long)r->tokens, r->seconds, r->seconds > 0 ? (double)r->tokens / r->seconds : 0.0,
            r->n_skipped ? "; bad input skipped, see the count" : "");
    if (r->n_skipped) fprintf(out, "skipped (--skip-bad): %d\n", r->n_skipped);
}

static json_t *jnum(double x) { return isfinite(x) ? json_real(x) : json_null(); }

char *eval_ppl_json(const struct eval_ppl_result *r, const char *model) {
    json_t *root = json_object(), *subs = json_array(), *srcs = json_array();
    json_object_set_new(root, "model", json_string(model ? model : ""));
    json_object_set_new(root, "ctx", json_integer(r->ctx));
    json_object_set_new(root, "stride", json_integer(r->stride));
    json_object_set_new(root, "documents", json_integer(r->docs));
    json_object_set_new(root, "tokens", json_integer(r->tokens));
    json_object_set_new(root, "bytes", json_integer(r->bytes));
    json_object_set_new(root, "nll", jnum(r->nll));
    json_object_set_new(root, "ppl_token", jnum(ppl(r->nll, r->tokens)));
    json_object_set_new(root, "bits_per_byte", jnum(bpb(r->nll, r->bytes)));
    double mb, mp;
    macro(r, NULL, &mb, &mp);
    json_object_set_new(root, "macro_bits_per_byte", jnum(mb));
    json_object_set_new(root, "macro_ppl_token", jnum(mp));
    json_object_set_new(root, "skipped", json_integer(r->n_skipped));
    json_object_set_new(root, "seconds", jnum(r->seconds));
    for (int i = 0; i < r->n_groups; i++) {
        const struct eval_ppl_group *g = &r->g[i];
        json_t *o = json_object();
        json_object_set_new(o, "source", json_string(g->source));
        json_object_set_new(o, "subdomain", json_string(g->subdomain));
        json_object_set_new(o, "documents", json_integer(g->docs));
        json_object_set_new(o, "tokens", json_integer(g->tokens));
        json_object_set_new(o, "bytes", json_integer(g->bytes));
        json_object_set_new(o, "chars", json_integer(g->chars));
        json_object_set_new(o, "words", json_integer(g->words));
        json_object_set_new(o, "nll", jnum(g->nll));
        json_object_set_new(o, "ppl_token", jnum(ppl(g->nll, g->tokens)));
        json_object_set_new(o, "ppl_char", jnum(ppl(g->nll, g->chars)));
        json_object_set_new(o, "ppl_word", jnum(ppl(g->nll, g->words)));
        json_object_set_new(o, "bits_per_byte", jnum(bpb(g->nll, g->bytes)));
        json_array_append_new(subs, o);
        if (!first_of_source(r, i)) continue;
        struct eval_ppl_group s;
        source_sums(r, g->source, &s);
        int k = macro(r, g->source, &mb, &mp);
        json_t *so = json_object();
        json_object_set_new(so, "source", json_string(g->source));
        json_object_set_new(so, "subdomains", json_integer(k));
        json_object_set_new(so, "documents", json_integer(s.docs));
        json_object_set_new(so, "tokens", json_integer(s.tokens));
        json_object_set_new(so, "bytes", json_integer(s.bytes));
        json_object_set_new(so, "nll", jnum(s.nll));
        json_object_set_new(so, "macro_bits_per_byte", jnum(mb));
        json_object_set_new(so, "macro_ppl_token", jnum(mp));
        json_object_set_new(so, "bits_per_byte", jnum(bpb(s.nll, s.bytes)));
        json_object_set_new(so, "ppl_token", jnum(ppl(s.nll, s.tokens)));
        json_array_append_new(srcs, so);
    }
    json_object_set_new(root, "sources", srcs);
    json_object_set_new(root, "subdomains", subs);
    char *txt = json_dumps(root, JSON_INDENT(1) | JSON_REAL_PRECISION(10));
    json_decref(root);
    if (!txt) olmo_err("eval ppl: out of memory writing JSON");
    return txt;
}
