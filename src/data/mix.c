/* mix.c — Dolma's mixer; see mix.h. Config → streams → shards (split by input size) → one worker per shard:
 * zip documents with their attribute files, filter, replace spans, write sorted compact JSON. */
#include "data/mix.h"

#include "base/error.h"
#include "base/log.h"
#include "data/dedup_mpi.h"
#include "data/docs.h"
#include "data/filter.h"
#include "data/mix_config.h"
#include "data/mix_json.h"
#include "data/spans.h"
#include "train/mpi.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const mix_schema[] = {
    "streams.*.name", "streams.*.documents", "streams.*.attributes", "streams.*.filter.include",
    "streams.*.filter.exclude", "streams.*.filter.syntax", "streams.*.span_replacement.*.span",
    "streams.*.span_replacement.*.min_score", "streams.*.span_replacement.*.max_score",
    "streams.*.span_replacement.*.replacement", "streams.*.span_replacement.*.syntax", "streams.*.output.path",
    "streams.*.output.max_size_in_bytes", "streams.*.output.discard_fields", "streams.*.output.min_text_length",
    "streams.*.compression.input", "streams.*.compression.output", "work_dir.**", "processes", "shuffle",
    "skip_bad_lines", "is_s3_volume", NULL};
const char *const mix_list_keys[] = {NULL};

struct span_rule {
    struct dfilter *sel;
    double min_score, max_score;
    const char *repl;
    struct dfilter *repl_jq; /* replacement "$<jq>" */
};

struct stream {
    const char *name;
    char **files;
    size_t n_files;
    const char **attributes;
    size_t n_attributes;
    struct dfilter **include, **exclude;
    size_t n_include, n_exclude;
    struct span_rule *rules;
    size_t n_rules;
    const char *out_path;
    int64_t max_size, min_text_length;
    const char **discard;
    size_t n_discard;
    char ext[16];
};

struct shard {
    const struct stream *s;
    size_t lo, hi; /* files [lo, hi) of the stream */
    char *out;
};

static int read_filters(const struct ycfg_node *sn, const char *key, enum dfilter_syntax syn, struct dfilter ***out,
                        size_t *n) {
    const char **exprs;
    if (dcfg_node_strs(ycfg_child(ycfg_child(sn, "filter"), key), key, &exprs, n)) return -1;
    *out = calloc(*n + 1, sizeof **out);
    for (size_t i = 0; i < *n; i++) {
        (*out)[i] = dfilter_compile(exprs[i], syn);
        if (!(*out)[i]) {
            free(exprs);
            return olmo_err_prefix("%s: filter.%s[%zu]: ", ycfg_where(sn), key, i);
        }
    }
    free(exprs);
    return 0;
}

static int parse_syntax(const struct ycfg_node *n, enum dfilter_syntax *syn) {
    *syn = DFILTER_JSONPATH;
    if (!n || ycfg_is_null(n)) return 0;
    const char *s;
    if (ycfg_as_str(n, "syntax", &s)) return -1;
    if (!strcmp(s, "jq")) *syn = DFILTER_JQ;
    else if (strcmp(s, "jsonpath")) return olmo_err("%s: syntax: expected jsonpath or jq, found '%s'", ycfg_where(n), s);
    return 0;
}

static int node_double(const struct ycfg_node *n, const char *key, double def, double *out) {
    const struct ycfg_node *c = n ? ycfg_child(n, key) : NULL;
    if (!c || ycfg_is_null(c)) { *out = def; return 0; }
    return ycfg_as_double(c, key, out);
}
static int node_int(const struct ycfg_node *n, const char *key, int64_t def, int64_t *out) {
    const struct ycfg_node *c = n ? ycfg_child(n, key) : NULL;
    if (!c || ycfg_is_null(c)) { *out = def; return 0; }
    return ycfg_as_int(c, key, out);
}
static int node_str(const struct ycfg_node *n, const char *key, const char *def, const char **out) {
    const struct ycfg_node *c = n ? ycfg_child(n, key) : NULL;
    if (!c || ycfg_is_null(c)) { *out = def; return 0; }
    return ycfg_as_str(c, key, out);
}

static void stream_free(struct stream *s) {
    for (size_t i = 0; i < s->n_files; i++) free(s->files[i]);
    free(s->files);
    free(s->attributes);
    for (size_t i = 0; i < s->n_include; i++) dfilter_free(s->include[i]);
    for (size_t i = 0; i < s->n_exclude; i++) dfilter_free(s->exclude[i]);
    free(s->include);
    free(s->exclude);
    for (size_t i = 0; i < s->n_rules; i++) {
        dfilter_free(s->rules[i].sel);
        dfilter_free(s->rules[i].repl_jq);
    }
    free(s->rules);
    free(s->discard);
}

static int stream_read(const struct ycfg_node *sn, struct stream *s) {
    memset(s, 0, sizeof *s);
    if (node_str(sn, "name", NULL, &s->name)) return -1;
    if (!s->name) return olmo_err("%s: streams[]: expected a name, found none", ycfg_where(sn));
    const char **globs;
    size_t ng;
    if (dcfg_node_strs(ycfg_child(sn, "documents"), "documents", &globs, &ng)) return -1;
    if (!ng) { free(globs); return olmo_err("%s: stream %s: expected documents, found none", ycfg_where(sn), s->name); }
    for (size_t g = 0; g < ng; g++) { /* a glob listed twice is processed twice (Dolma's upsampling) */
        size_t n;
        char **m = docs_glob(globs[g], &n);
        if (!m) { free(globs); return olmo_err_prefix("stream %s: ", s->name); }
        s->files = realloc(s->files, (s->n_files + n + 1) * sizeof *s->files);
        for (size_t i = 0; i < n; i++) s->files[s->n_files++] = strdup(m[i]);
        docs_paths_free(m);
    }
    free(globs);
    if (dcfg_node_strs(ycfg_child(sn, "attributes"), "attributes", &s->attributes, &s->n_attributes)) return -1;
    enum dfilter_syntax syn;
    if (parse_syntax(ycfg_child(ycfg_child(sn, "filter"), "syntax"), &syn)) return -1;
    if (read_filters(sn, "include", syn, &s->include, &s->n_include) ||
        read_filters(sn, "exclude", syn, &s->exclude, &s->n_exclude))
        return -1;
    const struct ycfg_node *sr = ycfg_child(sn, "span_replacement");
    if (sr && sr->kind == YCFG_LIST) {
        s->rules = calloc(sr->n + 1, sizeof *s->rules);
        for (size_t i = 0; i < sr->n; i++) {
            const struct ycfg_node *r = sr->vals[i];
            struct span_rule *rule = &s->rules[s->n_rules++];
            const char *span;
            enum dfilter_syntax rs;
            if (node_str(r, "span", NULL, &span) || parse_syntax(ycfg_child(r, "syntax"), &rs) ||
                node_double(r, "min_score", -INFINITY, &rule->min_score) ||
                node_double(r, "max_score", INFINITY, &rule->max_score) ||
                node_str(r, "replacement", "", &rule->repl))
                return -1;
            if (!span) return olmo_err("%s: span_replacement[%zu]: expected span, found none", ycfg_where(r), i);
            if (!ycfg_child(r, "min_score") && !ycfg_child(r, "max_score"))
                return olmo_err("%s: span_replacement[%zu]: expected min_score or max_score (as Dolma requires), found "
                                "neither", ycfg_where(r), i);
            if (!(rule->sel = dfilter_compile(span, rs))) return olmo_err_prefix("%s: span_replacement: ", ycfg_where(r));
            if (rule->repl[0] == '$' && !(rule->repl_jq = dfilter_compile(rule->repl + 1, DFILTER_JQ)))
                return olmo_err_prefix("%s: span_replacement replacement: ", ycfg_where(r));
        }
    }
    const struct ycfg_node *out = ycfg_child(sn, "output");
    if (node_str(out, "path", NULL, &s->out_path) || node_int(out, "max_size_in_bytes", 2147483648LL, &s->max_size) ||
        node_int(out, "min_text_length", 0, &s->min_text_length))
        return -1;
    if (!s->out_path) return olmo_err("%s: stream %s: expected output.path, found none", ycfg_where(sn), s->name);
    if (dcfg_node_strs(out ? ycfg_child(out, "discard_fields") : NULL, "discard_fields", &s->discard, &s->n_discard))
        return -1;
    const char *cext;
    if (node_str(ycfg_child(sn, "compression"), "output", NULL, &cext)) return -1;
    if (!cext) snprintf(s->ext, sizeof s->ext, ".gz");
    else if (!*cext) s->ext[0] = 0;
    else snprintf(s->ext, sizeof s->ext, "%s%s", cext[0] == '.' ? "" : ".", cext);
    return 0;
}

/* Dolma's split_streams: shards by compressed input size; empty files skipped with a warning. */
static int split_stream(const struct stream *s, struct shard **shards, size_t *n) {
    size_t start = 0, idx = 0;
    int64_t acc = 0;
    int have = 0;
    for (size_t i = 0; i <= s->n_files; i++) {
        int64_t size = 0;
        if (i < s->n_files) {
            struct stat st;
            if (stat(s->files[i], &st)) return olmo_err_errno("%s: stat", s->files[i]);
            size = st.st_size;
            if (size == 0) {
                olmo_log_warn("mix: %s is empty, skipped (as Dolma does)", s->files[i]);
                continue;
            }
        }
        if (i < s->n_files && (!have || acc + size <= s->max_size)) {
            if (!have) start = i;
            have = 1;
            acc += size;
            continue;
        }
        if (have) {
            *shards = realloc(*shards, (*n + 1) * sizeof **shards);
            char name[4096];
            /* closed shards end ".jsonl<ext>", the last one ".json<ext>" (Dolma's naming quirk) */
            snprintf(name, sizeof name, "%s/%s-%04zu.%s%s", s->out_path, s->name, idx++,
                     i < s->n_files ? "jsonl" : "json", s->ext);
            (*shards)[(*n)++] = (struct shard){s, start, i, strdup(name)};
        }
        if (i < s->n_files) {
            start = i;
            acc = size;
            have = 1;
        }
    }
    return 0;
}

/* ---- per shard ---- */

struct mworker {
    struct dfilter **include, **exclude;
    struct span_rule *rules;
    struct span_repl *spans;
    size_t spans_cap;
    struct docs_buf out, tmp;
    struct mix_stats st;
};

static char *attr_path(const char *doc, const char *name) {
    const char *from = "/documents/";
    size_t fl = strlen(from), tl = strlen(name) + 13, n = 0;
    for (const char *p = doc; (p = strstr(p, from)); p += fl) n++;
    if (!n) return NULL;
    char *out = malloc(strlen(doc) + n * tl + 1), *o = out;
    for (const char *p = doc;;) {
        const char *m = strstr(p, from);
        if (!m) { strcpy(o, p); break; }
        memcpy(o, p, m - p);
        o += m - p;
        o += sprintf(o, "/attributes/%s/", name);
        p = m + fl;
    }
    return out;
}

static int keep_doc(struct mworker *w, const struct stream *s, json_t *doc, int *keep) {
    int any = s->n_include == 0;
    for (size_t i = 0; i < s->n_include && !any; i++) {
        int n, t;
        if (dfilter_eval(w->include[i], doc, &n, &t)) return -1;
        any = n > 0 && t == n;
    }
    for (size_t i = 0; i < s->n_exclude && any; i++) {
        int n, t;
        if (dfilter_eval(w->exclude[i], doc, &n, &t)) return -1;
        if (t > 0) any = 0;
    }
    *keep = any;
    return 0;
}

/* Collects the spans of every rule; returns the count or -1. Replacement strings of "$jq" rules are kept alive
 * in *owned (json strings) until the document is written. */
static long collect_spans(struct mworker *w, const struct stream *s, json_t *doc, json_t *owned, const char *where) {
    size_t n = 0;
    for (size_t r = 0; r < s->n_rules; r++) {
        struct span_rule *rule = &w->rules[r];
        json_t *v;
        if (dfilter_select(rule->sel, doc, &v)) return -1;
        if (!v) continue;
        json_array_append_new(owned, v);
        if (!json_is_array(v))
            return olmo_err("%s: span_replacement %s: expected a list of [start, end, score], found another value",
                            where, dfilter_expr(rule->sel));
        const char *repl = rule->repl;
        size_t rlen = strlen(repl);
        if (rule->repl_jq) {
            json_t *rv;
            if (dfilter_select(rule->repl_jq, doc, &rv)) return -1;
            if (!rv || !json_is_string(rv)) {
                if (rv) json_decref(rv);
                return olmo_err("%s: replacement %s: expected a string, found another value", where, rule->repl);
            }
            json_array_append_new(owned, rv);
            repl = json_string_value(rv);
            rlen = json_string_length(rv);
        }
        size_t i;
        json_t *sp;
        json_array_foreach(v, i, sp) {
            json_t *a = json_array_get(sp, 0), *b = json_array_get(sp, 1), *c = json_array_get(sp, 2);
            if (!json_is_array(sp) || !json_is_number(a) || !json_is_number(b) || !json_is_number(c))
                return olmo_err("%s: span_replacement %s: span %zu: expected [start, end, score], found another value",
                                where, dfilter_expr(rule->sel), i);
            double score = json_number_value(c);
            if (!(score >= rule->min_score && score < rule->max_score)) continue;
            if (n == w->spans_cap) {
                w->spans_cap = w->spans_cap ? 2 * w->spans_cap : 16;
                w->spans = realloc(w->spans, w->spans_cap * sizeof *w->spans);
            }
            w->spans[n++] = (struct span_repl){(int64_t)json_number_value(a), (int64_t)json_number_value(b), repl, rlen};
        }
    }
    return (long)n;
}

static size_t trimmed_len(const char *s, size_t n) {
    size_t a = 0, b = n;
    while (a < b && ((unsigned char)s[a] <= ' ' && (s[a] == ' ' || (s[a] >= 9 && s[a] <= 13)))) a++;
    while (b > a && (s[b - 1] == ' ' || (s[b - 1] >= 9 && s[b - 1] <= 13))) b--;
    return b - a;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* Writes doc with sorted keys; the values of top-level members nothing changed are copied from the raw line when
 * their bytes are already serde_json's (the text, above all: no second escaping pass over it). */
static int write_doc(struct mworker *w, json_t *doc, const char *line, size_t len, int text_changed, int attrs_changed) {
    struct mix_member m[64];
    int nm = mix_json_members(line, len, m, 64);
    struct docs_buf *b = &w->out;
    b->len = 0;
    if (nm < 0) return mix_json_write(b, doc);
    size_t nk = json_object_size(doc), i = 0;
    const char *keys_small[64], **keys = nk <= 64 ? keys_small : malloc(nk * sizeof *keys);
    if (!keys) return olmo_err("mix: out of memory");
    const char *k;
    json_t *v;
    json_object_foreach(doc, k, v) keys[i++] = k;
    qsort(keys, nk, sizeof *keys, cmp_str);
    int rc = docs_buf_put(b, "{", 1);
    for (i = 0; i < nk && !rc; i++) {
        size_t kl = strlen(keys[i]);
        if (i) rc |= docs_buf_put(b, ",", 1);
        rc |= docs_buf_json_string(b, keys[i], kl);
        rc |= docs_buf_put(b, ":", 1);
        const struct mix_member *raw = NULL;
        for (int j = 0; j < nm; j++)
            if (m[j].key_len == kl && !memcmp(m[j].key, keys[i], kl)) { raw = &m[j]; break; }
        int changed = (text_changed && !strcmp(keys[i], "text")) || (attrs_changed && !strcmp(keys[i], "attributes")) ||
                      !strcmp(keys[i], "metadata");
        if (raw && raw->copyable && !changed) rc |= docs_buf_put(b, raw->val, raw->val_len);
        else rc |= mix_json_write(b, json_object_get(doc, keys[i]));
    }
    if (keys != keys_small) free(keys);
    return rc | docs_buf_put(b, "}", 1);
}

static int mix_shard(struct mworker *w, const struct shard *sh, int skip_bad) {
    const struct stream *s = sh->s;
    if (access(sh->out, F_OK) == 0) {
        olmo_log_info("mix: %s exists, skipped (Dolma resumes the same way)", sh->out);
        w->st.shards_skipped_existing++;
        return 0;
    }
    struct docs_writer *wr = docs_writer_open(sh->out);
    if (!wr) return -1;
    int rc = 0;
    struct docs_doc d = {0};
    char where[4200];
    for (size_t f = sh->lo; f < sh->hi && !rc; f++) {
        const char *path = s->files[f];
        struct stat stt;
        if (!stat(path, &stt) && stt.st_size == 0) continue;
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        struct docs_lines *dl = docs_lines_open(path);
        if (!dl) { rc = -1; break; }
        /* attribute readers: every attribute name (a glob) expanded, in order */
        struct docs_lines *ar[64];
        char *an[64];
        size_t na = 0;
        for (size_t a = 0; a < s->n_attributes && !rc; a++) {
            char *pat = attr_path(path, s->attributes[a]);
            if (!pat) { rc = olmo_err("%s: expected a path containing /documents/ (attributes %s), found none", path, s->attributes[a]); break; }
            size_t nm;
            char **m = docs_glob(pat, &nm);
            if (!m) { rc = olmo_err_prefix("attributes '%s' of %s: ", s->attributes[a], path); free(pat); break; }
            for (size_t i = 0; i < nm && na < 64; i++) {
                an[na] = strdup(m[i]);
                ar[na] = docs_lines_open(m[i]);
                if (!ar[na]) { free(an[na]); rc = -1; break; }
                na++;
            }
            docs_paths_free(m);
            free(pat);
        }
        char *line;
        size_t len;
        int got;
        while (!rc && (got = docs_lines_next(dl, &line, &len)) > 0) {
            long no = docs_lines_number(dl);
            snprintf(where, sizeof where, "%s:%ld", path, no);
            w->st.bytes_in += (long)len + 1;
            w->st.docs_in++;
            int bad = docs_doc_parse(&d, line, len, where) != 0;
            /* attribute lines are read even for a bad document line, so the files stay in step */
            int changed_attrs = 0;
            for (size_t a = 0; a < na && !rc; a++) {
                char *al;
                size_t alen;
                int g = docs_lines_next(ar[a], &al, &alen);
                if (g <= 0) {
                    rc = g < 0 ? -1 : olmo_err("%s: expected an attribute line for %s, found the end of the file "
                                               "(attribute file out of step with its documents)", an[a], where);
                    break;
                }
                if (bad) continue;
                json_error_t je;
                json_t *aj = json_loadb(al, alen, 0, &je);
                if (!aj || !json_is_object(aj)) {
                    rc = olmo_err("%s:%ld: expected a JSON object, found %s", an[a], docs_lines_number(ar[a]),
                                  aj ? "another value" : je.text);
                    if (aj) json_decref(aj);
                    break;
                }
                json_t *aid = json_object_get(aj, "id"), *did = json_object_get(d.obj, "id");
                if (!aid || !json_equal(aid, did)) {
                    rc = olmo_err("%s:%ld: mismatched ids: expected %s (document %s), found %s", an[a],
                                  docs_lines_number(ar[a]), d.id, where,
                                  aid && json_is_string(aid) ? json_string_value(aid) : "another id");
                    json_decref(aj);
                    break;
                }
                json_t *attrs = json_object_get(aj, "attributes");
                if (!json_is_object(attrs)) {
                    rc = olmo_err("%s:%ld: attributes: expected an object, found another value", an[a],
                                  docs_lines_number(ar[a]));
                    json_decref(aj);
                    break;
                }
                json_t *dst = json_object_get(d.obj, "attributes");
                if (!json_is_object(dst)) {
                    dst = json_object();
                    json_object_set_new(d.obj, "attributes", dst);
                }
                json_object_update(dst, attrs);
                changed_attrs = 1;
                json_decref(aj);
            }
            if (rc) break;
            if (bad) {
                if (!skip_bad) { rc = -1; break; }
                if (w->st.docs_bad++ == 0) olmo_log_warn("mix: skipping bad lines (first: %s)", olmo_errmsg());
                continue;
            }
            if (na && !json_is_object(json_object_get(d.obj, "attributes"))) {
                json_object_set_new(d.obj, "attributes", json_object());
                changed_attrs = 1;
            }
            int keep;
            if (keep_doc(w, s, d.obj, &keep)) { rc = olmo_err_prefix("%s: ", where); break; }
            if (!keep) { w->st.dropped_filter++; continue; }
            int text_changed = 0;
            const char *text = d.text;
            size_t text_len = d.text_len;
            if (s->n_rules) {
                json_t *owned = json_array();
                long ns = collect_spans(w, s, d.obj, owned, where);
                if (ns < 0) { json_decref(owned); rc = -1; break; }
                if (ns > 0) {
                    char *nt;
                    size_t nl;
                    if (spans_apply(d.text, d.text_len, w->spans, (size_t)ns, &nt, &nl)) {
                        json_decref(owned);
                        rc = olmo_err_prefix("%s: ", where);
                        break;
                    }
                    w->st.spans_replaced += ns;
                    json_object_set_new(d.obj, "text", json_stringn_nocheck(nt, nl));
                    free(nt);
                    text = json_string_value(json_object_get(d.obj, "text"));
                    text_len = json_string_length(json_object_get(d.obj, "text"));
                    text_changed = 1;
                }
                json_decref(owned);
            }
            for (size_t k = 0; k < s->n_discard; k++) json_object_del(d.obj, s->discard[k]);
            if (s->min_text_length > 0) {
                json_t *tv = json_object_get(d.obj, "text");
                if (tv && json_is_string(tv)) { text = json_string_value(tv); text_len = json_string_length(tv); }
                if ((int64_t)trimmed_len(text, text_len) < s->min_text_length) { w->st.dropped_min_length++; continue; }
            }
            json_t *meta = json_object_get(d.obj, "metadata");
            if (!json_is_object(meta)) {
                meta = json_object();
                json_object_set_new(d.obj, "metadata", meta);
            }
            char prov[4200];
            snprintf(prov, sizeof prov, "%s:%ld", base, no);
            json_object_set_new(meta, "provenance", json_string(prov));
            if (write_doc(w, d.obj, line, len, text_changed, changed_attrs) ||
                docs_writer_line(wr, w->out.data, w->out.len)) { rc = -1; break; }
            w->st.docs_out++;
            w->st.bytes_out += (long)w->out.len + 1;
        }
        if (!rc && got < 0) rc = -1;
        /* an attribute file longer than its documents is out of step too */
        for (size_t a = 0; a < na; a++) {
            char *al;
            size_t alen;
            if (!rc && docs_lines_next(ar[a], &al, &alen) > 0)
                rc = olmo_err("%s: expected %ld lines like %s, found more (attribute file out of step with its "
                              "documents)", an[a], docs_lines_number(dl), path);
            docs_lines_close(ar[a]);
            free(an[a]);
        }
        docs_lines_close(dl);
    }
    docs_doc_clear(&d);
    if (rc) { docs_writer_abort(wr); return -1; }
    if (docs_writer_commit(wr)) return -1;
    w->st.shards++;
    return 0;
}

/* ---- threads over shards ---- */

struct mpool {
    struct shard *sh;
    size_t n, next;
    int skip_bad, failed, rank, size;
    pthread_mutex_t mu;
    char err[OLMO_ERR_MSG_MAX];
    struct mix_stats st;
};

static void *mpool_main(void *arg) {
    struct mpool *p = arg;
    struct mworker w;
    memset(&w, 0, sizeof w);
    const struct stream *cur = NULL;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        size_t i = p->failed ? p->n : p->next++;
        pthread_mutex_unlock(&p->mu);
        if (i >= p->n) break;
        if ((int)(i % (size_t)p->size) != p->rank) continue;
        const struct shard *sh = &p->sh[i];
        int rc = 0;
        if (cur != sh->s) { /* this thread's own copies of the stream's filters (libjq is not thread-safe) */
            const struct stream *s = sh->s;
            if (cur) {
                for (size_t k = 0; k < cur->n_include; k++) dfilter_free(w.include[k]);
                for (size_t k = 0; k < cur->n_exclude; k++) dfilter_free(w.exclude[k]);
                for (size_t k = 0; k < cur->n_rules; k++) { dfilter_free(w.rules[k].sel); dfilter_free(w.rules[k].repl_jq); }
                free(w.include); free(w.exclude); free(w.rules);
            }
            w.include = calloc(s->n_include + 1, sizeof *w.include);
            w.exclude = calloc(s->n_exclude + 1, sizeof *w.exclude);
            w.rules = calloc(s->n_rules + 1, sizeof *w.rules);
            for (size_t k = 0; k < s->n_include; k++) rc |= !(w.include[k] = dfilter_clone(s->include[k]));
            for (size_t k = 0; k < s->n_exclude; k++) rc |= !(w.exclude[k] = dfilter_clone(s->exclude[k]));
            for (size_t k = 0; k < s->n_rules; k++) {
                w.rules[k] = s->rules[k];
                rc |= !(w.rules[k].sel = dfilter_clone(s->rules[k].sel));
                w.rules[k].repl_jq = s->rules[k].repl_jq ? dfilter_clone(s->rules[k].repl_jq) : NULL;
            }
            cur = s;
        }
        if (rc || mix_shard(&w, sh, p->skip_bad)) {
            pthread_mutex_lock(&p->mu);
            if (!p->failed) snprintf(p->err, sizeof p->err, "%s", olmo_errmsg());
            p->failed = 1;
            pthread_mutex_unlock(&p->mu);
            break;
        }
    }
    if (cur) {
        for (size_t k = 0; k < cur->n_include; k++) dfilter_free(w.include[k]);
        for (size_t k = 0; k < cur->n_exclude; k++) dfilter_free(w.exclude[k]);
        for (size_t k = 0; k < cur->n_rules; k++) { dfilter_free(w.rules[k].sel); dfilter_free(w.rules[k].repl_jq); }
        free(w.include); free(w.exclude); free(w.rules);
    }
    free(w.spans);
    docs_buf_free(&w.out);
    docs_buf_free(&w.tmp);
    pthread_mutex_lock(&p->mu);
    long *dst = (long *)&p->st, *src = (long *)&w.st;
    for (size_t j = 0; j < sizeof w.st / sizeof(long); j++) dst[j] += src[j];
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int mix_run(const struct ycfg *cfg, struct mix_stats *st) {
    memset(st, 0, sizeof *st);
    const struct ycfg_node *streams = ycfg_get(cfg, "streams");
    if (!streams || streams->kind != YCFG_LIST || streams->n == 0)
        return olmo_err("%s: streams: expected a list of streams, found %s", cfg->path, streams ? "another value" : "none");
    int64_t procs;
    int skip_bad;
    if (dcfg_int(cfg, "processes", 1, &procs) || dcfg_bool(cfg, "skip_bad_lines", 0, &skip_bad)) return -1;
    struct stream *ss = calloc(streams->n, sizeof *ss);
    struct shard *sh = NULL;
    size_t nsh = 0;
    int rc = 0;
    for (size_t i = 0; i < streams->n && !rc; i++) {
        rc = stream_read(streams->vals[i], &ss[i]);
        if (!rc) rc = split_stream(&ss[i], &sh, &nsh);
    }
    if (!rc) {
        struct mpool p = {.sh = sh, .n = nsh, .skip_bad = skip_bad, .rank = dist_rank(), .size = dist_size()};
        pthread_mutex_init(&p.mu, NULL);
        int nt = procs < 1 ? 1 : procs > 256 ? 256 : (int)procs;
        if (nt == 1) mpool_main(&p);
        else {
            pthread_t th[256];
            for (int t = 0; t < nt; t++) pthread_create(&th[t], NULL, mpool_main, &p);
            for (int t = 0; t < nt; t++) pthread_join(th[t], NULL);
        }
        pthread_mutex_destroy(&p.mu);
        *st = p.st;
        if (p.failed) rc = olmo_err("%s", p.err);
        if (dist_size() > 1) {
            int32_t bad = rc != 0;
            dist_allreduce_max_i32(&bad);
            if (bad && !rc) rc = olmo_err("mix: another rank failed");
            if (!rc) rc = dedup_mpi_sum_long((long *)st, (int)(sizeof *st / sizeof(long)));
        }
    }
    for (size_t i = 0; i < nsh; i++) free(sh[i].out);
    free(sh);
    for (size_t i = 0; i < streams->n; i++) stream_free(&ss[i]);
    free(ss);
    return rc;
}
