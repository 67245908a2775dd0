/* cmd_data_stats.c — `olmo data stats`: how much is in a set of documents and what the taggers found.
 * Per source: documents, characters (code points), UTF-8 bytes; per attribute key of the given attribute sets
 * (read line by line beside the documents, .../documents/X -> .../attributes/EXP/X as Dolma's mixer finds
 * them): documents with the key, spans, and the mean and maximum span score. A table, or --json. An attribute
 * file out of step with its documents (another id, fewer lines) is an error naming file and line. */
#include "cli/commands.h"

#include "base/error.h"
#include "base/mem.h"
#include "data/docs.h"
#include "data/docs_args.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: olmo data stats --documents GLOB... [--attributes EXP...] [--json] [--skip_bad_lines]\n\n"
            "Counts documents, characters and bytes per source and, for each attribute set EXP (files under\n"
            "attributes/EXP/ mirroring documents/), the documents and spans of every attribute key with their\n"
            "mean and max score. --json prints one JSON object instead of the table.\n");
}

struct st_source {
    char *name;
    double docs, chars, bytes;
};
struct st_key {
    char *name;
    double docs, spans, sum, max;
};
struct st_all {
    struct st_source *src;
    size_t nsrc, capsrc;
    struct st_key *key;
    size_t nkey, capkey;
    double files, skipped;
};

static struct st_source *source_of(struct st_all *a, const char *name) {
    for (size_t i = 0; i < a->nsrc; i++)
        if (!strcmp(a->src[i].name, name)) return &a->src[i];
    if (a->nsrc == a->capsrc) {
        a->capsrc = a->capsrc ? 2 * a->capsrc : 16;
        struct st_source *n = olmo_realloc(a->src, a->capsrc * sizeof *n);
        if (!n) return NULL;
        a->src = n;
    }
    a->src[a->nsrc] = (struct st_source){olmo_strdup(name), 0, 0, 0};
    return &a->src[a->nsrc++];
}

static struct st_key *key_of(struct st_all *a, const char *name) {
    for (size_t i = 0; i < a->nkey; i++)
        if (!strcmp(a->key[i].name, name)) return &a->key[i];
    if (a->nkey == a->capkey) {
        a->capkey = a->capkey ? 2 * a->capkey : 32;
        struct st_key *n = olmo_realloc(a->key, a->capkey * sizeof *n);
        if (!n) return NULL;
        a->key = n;
    }
    a->key[a->nkey] = (struct st_key){olmo_strdup(name), 0, 0, 0, -INFINITY};
    return &a->key[a->nkey++];
}

/* path with every "/documents/" replaced by "/attributes/EXP/" (Dolma's mixer rule); NULL if none. */
static char *attr_path(const char *doc, const char *exp) {
    const char *needle = "/documents/";
    size_t count = 0;
    for (const char *p = doc; (p = strstr(p, needle)); p += strlen(needle)) count++;
    if (!count) {
        olmo_err("%s: expected a path containing /documents/ to find its attributes", doc);
        return NULL;
    }
    size_t n = strlen(doc) + count * (strlen(exp) + 16) + 1;
    char *out = olmo_malloc(n), *o = out;
    if (!out) return NULL;
    for (const char *p = doc;;) {
        const char *h = strstr(p, needle);
        if (!h) { strcpy(o, p); break; }
        memcpy(o, p, (size_t)(h - p));
        o += h - p;
        o += sprintf(o, "/attributes/%s/", exp);
        p = h + strlen(needle);
    }
    return out;
}

static int add_attributes(struct st_all *a, const char *line, size_t len, const char *doc_id, const char *where) {
    json_error_t err;
    json_t *o = json_loadb(line, len, 0, &err);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        return olmo_err("%s: expected an attributes JSON object, found %s", where, o ? "another value" : err.text);
    }
    json_t *id = json_object_get(o, "id");
    if (!json_is_string(id) || strcmp(json_string_value(id), doc_id)) {
        olmo_err("%s: attribute file out of step with its documents: expected id \"%s\", found %s%s%s", where,
                 doc_id, json_is_string(id) ? "\"" : "", json_is_string(id) ? json_string_value(id) : "no id",
                 json_is_string(id) ? "\"" : "");
        json_decref(o);
        return -1;
    }
    json_t *attrs = json_object_get(o, "attributes");
    const char *k;
    json_t *v;
    json_object_foreach(attrs, k, v) {
        struct st_key *s = key_of(a, k);
        if (!s) { json_decref(o); return -1; }
        s->docs++;
        if (json_is_array(v)) {
            size_t i;
            json_t *span;
            json_array_foreach(v, i, span) {
                s->spans++;
                double sc = json_number_value(json_array_get(span, 2));
                s->sum += sc;
                if (sc > s->max) s->max = sc;
            }
        } else if (json_is_number(v)) {
            s->spans++;
            s->sum += json_number_value(v);
            if (json_number_value(v) > s->max) s->max = json_number_value(v);
        }
    }
    json_decref(o);
    return 0;
}

static int stats_file(struct st_all *a, const char *path, const char *const *exps, size_t nexp, int skip_bad) {
    struct docs_reader *r = docs_reader_open(path);
    if (!r) return -1;
    docs_reader_set_skip(r, skip_bad);
    struct docs_lines *al[64] = {0};
    char *apaths[64] = {0};
    int rc = -1;
    if (nexp > 64) { olmo_err("--attributes: at most 64 sets"); goto out; }
    for (size_t e = 0; e < nexp; e++) {
        if (!(apaths[e] = attr_path(path, exps[e])) || !(al[e] = docs_lines_open(apaths[e]))) goto out;
    }
    struct docs_doc d = {0};
    int got;
    while ((got = docs_reader_next(r, &d)) > 0) {
        struct st_source *s = source_of(a, d.source ? d.source : "");
        if (!s) goto out;
        s->docs++;
        s->chars += (double)docs_cp_count(d.text, d.text_len);
        s->bytes += (double)d.text_len;
        for (size_t e = 0; e < nexp; e++) {
            char *line, where[600];
            size_t len;
            int g = docs_lines_next(al[e], &line, &len);
            snprintf(where, sizeof where, "%s:%ld", apaths[e], docs_lines_number(al[e]) + (g <= 0));
            if (g < 0) goto out_doc;
            if (g == 0) {
                olmo_err("%s: attribute file out of step with its documents: it ends before document line %ld",
                         where, d.line);
                goto out_doc;
            }
            if (add_attributes(a, line, len, d.id, where)) goto out_doc;
        }
    }
    if (got < 0) goto out_doc;
    for (size_t e = 0; e < nexp; e++) {
        char *line;
        size_t len;
        if (docs_lines_next(al[e], &line, &len) != 0) {
            olmo_err("%s: attribute file out of step with its documents: more lines than %s has documents",
                     apaths[e], path);
            goto out_doc;
        }
    }
    a->files++;
    a->skipped += (double)r->skipped;
    rc = 0;
out_doc:
    docs_doc_clear(&d);
out:
    for (size_t e = 0; e < nexp && e < 64; e++) {
        docs_lines_close(al[e]);
        free(apaths[e]);
    }
    docs_reader_close(r);
    return rc;
}

static void print_json(const struct st_all *a) {
    double docs = 0, chars = 0, bytes = 0;
    for (size_t i = 0; i < a->nsrc; i++) docs += a->src[i].docs, chars += a->src[i].chars, bytes += a->src[i].bytes;
    json_t *o = json_object(), *srcs = json_object(), *keys = json_object();
    json_object_set_new(o, "files", json_integer((json_int_t)a->files));
    json_object_set_new(o, "documents", json_integer((json_int_t)docs));
    json_object_set_new(o, "characters", json_integer((json_int_t)chars));
    json_object_set_new(o, "bytes", json_integer((json_int_t)bytes));
    json_object_set_new(o, "skipped_lines", json_integer((json_int_t)a->skipped));
    for (size_t i = 0; i < a->nsrc; i++) {
        json_t *s = json_object();
        json_object_set_new(s, "documents", json_integer((json_int_t)a->src[i].docs));
        json_object_set_new(s, "characters", json_integer((json_int_t)a->src[i].chars));
        json_object_set_new(s, "bytes", json_integer((json_int_t)a->src[i].bytes));
        json_object_set_new(srcs, a->src[i].name, s);
    }
    json_object_set_new(o, "sources", srcs);
    for (size_t i = 0; i < a->nkey; i++) {
        json_t *s = json_object();
        json_object_set_new(s, "documents", json_integer((json_int_t)a->key[i].docs));
        json_object_set_new(s, "spans", json_integer((json_int_t)a->key[i].spans));
        json_object_set_new(s, "mean_score", a->key[i].spans ? json_real(a->key[i].sum / a->key[i].spans) : json_null());
        json_object_set_new(s, "max_score", a->key[i].spans ? json_real(a->key[i].max) : json_null());
        json_object_set_new(keys, a->key[i].name, s);
    }
    json_object_set_new(o, "attributes", keys);
    char *txt = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (txt) printf("%s\n", txt);
    free(txt);
    json_decref(o);
}

static void print_table(const struct st_all *a) {
    double docs = 0, chars = 0, bytes = 0;
    printf("%-32s %12s %16s %16s\n", "source", "documents", "characters", "bytes");
    for (size_t i = 0; i < a->nsrc; i++) {
        printf("%-32s %12.0f %16.0f %16.0f\n", a->src[i].name[0] ? a->src[i].name : "(none)", a->src[i].docs,
               a->src[i].chars, a->src[i].bytes);
        docs += a->src[i].docs, chars += a->src[i].chars, bytes += a->src[i].bytes;
    }
    printf("%-32s %12.0f %16.0f %16.0f\n", "total", docs, chars, bytes);
    printf("files: %.0f, bad lines skipped: %.0f\n", a->files, a->skipped);
    if (!a->nkey) return;
    printf("\n%-64s %10s %10s %12s %12s\n", "attribute", "documents", "spans", "mean score", "max score");
    for (size_t i = 0; i < a->nkey; i++)
        printf("%-64s %10.0f %10.0f %12.5g %12.5g\n", a->key[i].name, a->key[i].docs, a->key[i].spans,
               a->key[i].spans ? a->key[i].sum / a->key[i].spans : 0.0, a->key[i].spans ? a->key[i].max : 0.0);
}

static const char *const k_keys[] = {"documents", "attributes", "json", "skip_bad_lines", NULL};
static const char *const k_lists[] = {"documents", "attributes", NULL};
static const char *const k_bools[] = {"json", "skip_bad_lines", NULL};

int cmd_data_stats(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        }
    struct ycfg cfg;
    if (docs_args_parse(&cfg, argc, argv, k_keys, k_lists, k_bools) != 0) return cli_fail("data stats");
    const char **docs = NULL, **exps = NULL;
    size_t ndocs = 0, nexp = 0;
    int json = 0, skip = 0, rc = 1;
    struct st_all a;
    memset(&a, 0, sizeof a);
    if (docs_args_strings(&cfg, "documents", &docs, &ndocs) || docs_args_strings(&cfg, "attributes", &exps, &nexp) ||
        docs_args_bool(&cfg, "json", 0, &json) || docs_args_bool(&cfg, "skip_bad_lines", 0, &skip))
        goto out;
    if (!ndocs) { olmo_err("--documents: expected at least one documents path or glob"); goto out; }
    for (size_t g = 0; g < ndocs; g++) {
        size_t n;
        char **v = docs_glob(docs[g], &n);
        if (!v) goto out;
        for (size_t i = 0; i < n; i++)
            if (stats_file(&a, v[i], exps, nexp, skip)) { docs_paths_free(v); goto out; }
        docs_paths_free(v);
    }
    if (json) print_json(&a);
    else print_table(&a);
    rc = 0;
out:
    if (rc) fprintf(stderr, "olmo data stats: %s\n", olmo_errmsg());
    for (size_t i = 0; i < a.nsrc; i++) free(a.src[i].name);
    for (size_t i = 0; i < a.nkey; i++) free(a.key[i].name);
    free(a.src), free(a.key), free(docs), free(exps);
    ycfg_free(&cfg);
    return rc;
}
