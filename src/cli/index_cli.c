/* index_cli.c — shared pieces of the index commands (see index_cli.h). */
#include "cli/index_cli.h"

#include "base/error.h"
#include "base/mem.h"

#include <stdlib.h>
#include <string.h>

int index_cli_open(struct index_cli *c, const char *dir, const char *tok_path, int need_tok) {
    memset(c, 0, sizeof *c);
    if (idx_open(&c->ix, dir, 0) < 0) return -1;
    const char *tp = tok_path ? tok_path : need_tok == INDEX_CLI_NO_TOK ? NULL : c->ix.tokenizer;
    if (tp && !(c->tok = tok_load(tp))) {
        olmo_err_prefix("tokenizer %s%s: ", tp, tok_path ? "" : " (recorded in the index manifest)");
        idx_close(&c->ix);
        return -1;
    }
    if (!c->tok && need_tok == 1) {
        idx_close(&c->ix);
        return olmo_err("%s: no tokenizer recorded in the index; give -t TOKENIZER.json (or --ids)", dir);
    }
    return 0;
}

void index_cli_close(struct index_cli *c) {
    idx_close(&c->ix);
    if (c->tok) tok_free(c->tok);
    memset(c, 0, sizeof *c);
}

int index_cli_query(const struct index_cli *c, const char *text, const char *ids, uint32_t **q, size_t *m) {
    *q = NULL;
    *m = 0;
    if (ids) {
        size_t cap = 1;
        for (const char *p = ids; *p; p++) cap += *p == ',';
        uint32_t *out = olmo_malloc(cap * sizeof *out);
        if (!out) return -1;
        size_t n = 0;
        const char *p = ids;
        while (*p) {
            char *end;
            unsigned long long v = strtoull(p, &end, 10);
            if (end == p || v > UINT32_MAX || (*end && *end != ',')) {
                free(out);
                return olmo_err("--ids '%s': expected comma-separated token ids, found '%s'", ids, p);
            }
            out[n++] = (uint32_t)v;
            p = *end ? end + 1 : end;
        }
        *q = out;
        *m = n;
        return 0;
    }
    if (!text) return olmo_err("no query: give TEXT or --ids");
    if (!c->tok) return olmo_err("a text query needs a tokenizer: give -t TOKENIZER.json or use --ids");
    int32_t *tids = NULL;
    size_t n = 0;
    if (tok_encode(c->tok, text, strlen(text), 0, &tids, &n) < 0) return -1;
    uint32_t *out = olmo_malloc((n ? n : 1) * sizeof *out);
    if (!out) { free(tids); return -1; }
    for (size_t i = 0; i < n; i++) out[i] = (uint32_t)tids[i];
    free(tids);
    *q = out;
    *m = n;
    return 0;
}

char *index_cli_decode(const struct index_cli *c, uint32_t shard, uint64_t a, uint64_t b) {
    const struct idx_text *t = &c->ix.shards[shard].text;
    size_t n = (size_t)(b - a);
    int32_t *ids = olmo_malloc((n ? n : 1) * sizeof *ids);
    if (!ids) return NULL;
    for (size_t i = 0; i < n; i++) ids[i] = (int32_t)idx_text_at(t, a + i);
    char *s;
    if (c->tok) {
        s = tok_decode(c->tok, ids, n, 0, NULL);
    } else {
        s = olmo_malloc(n * 12 + 1);
        if (s) {
            size_t o = 0;
            s[0] = 0;
            for (size_t i = 0; i < n; i++) o += (size_t)sprintf(s + o, i ? " %d" : "%d", ids[i]);
        }
    }
    free(ids);
    return s;
}

json_t *index_cli_hit_json(const struct index_cli *c, const struct idx_hit *h, size_t m, long context) {
    json_t *o = json_object();
    const struct idx_shard *s = &c->ix.shards[h->shard];
    json_object_set_new(o, "shard", json_integer(h->shard));
    json_object_set_new(o, "doc", json_integer((json_int_t)h->doc));
    json_object_set_new(o, "file", json_string(s->paths[h->file]));
    json_object_set_new(o, "file_offset", json_integer((json_int_t)h->file_offset));
    json_object_set_new(o, "doc_offset", json_integer((json_int_t)(h->pos - h->doc_start)));
    json_object_set_new(o, "doc_tokens", json_integer((json_int_t)(h->doc_end - h->doc_start)));
    size_t mlen = 0;
    const char *meta = idx_doc_meta(&c->ix, h->shard, h->doc - s->doc_base, &mlen);
    if (meta && mlen > 2) {   /* "\t\t": a document without a metadata row */
        static const char *keys[3] = {"id", "src", "loc"};
        const char *p = meta, *end = meta + mlen;
        for (int k = 0; k < 3; k++) {
            const char *tab = memchr(p, '\t', (size_t)(end - p));
            const char *e = k < 2 && tab ? tab : end;
            json_object_set_new(o, keys[k], json_stringn(p, (size_t)(e - p)));
            p = e < end ? e + 1 : end;
        }
    }
    if (context >= 0) {
        uint64_t a = h->pos - h->doc_start > (uint64_t)context ? h->pos - (uint64_t)context : h->doc_start;
        uint64_t me = h->pos + m < h->doc_end ? h->pos + m : h->doc_end;
        uint64_t b = h->doc_end - me > (uint64_t)context ? me + (uint64_t)context : h->doc_end;
        char *before = index_cli_decode(c, h->shard, a, h->pos), *match = index_cli_decode(c, h->shard, h->pos, me),
             *after = index_cli_decode(c, h->shard, me, b);
        json_object_set_new(o, "before", json_string(before ? before : ""));
        json_object_set_new(o, "match", json_string(match ? match : ""));
        json_object_set_new(o, "after", json_string(after ? after : ""));
        free(before); free(match); free(after);
    }
    return o;
}

void index_cli_print_json(json_t *v) {
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII * 0);
    if (s) { fputs(s, stdout); fputc('\n', stdout); }
    free(s);
}

/* Splits s on the word `sep` surrounded by spaces; returns the pieces (trimmed copies). */
static char **split_word(const char *s, const char *sep, size_t *n) {
    size_t cap = 4, k = 0, sl = strlen(sep);
    char **out = olmo_malloc(cap * sizeof *out);
    if (!out) return NULL;
    const char *p = s;
    for (;;) {
        const char *hit = p;
        for (;;) {
            hit = strstr(hit, sep);
            if (!hit || ((hit == s || hit[-1] == ' ') && (hit[sl] == ' ' || !hit[sl]))) break;
            hit += sl;
        }
        const char *e = hit ? hit : p + strlen(p);
        const char *a = p, *b = e;
        while (a < b && *a == ' ') a++;
        while (b > a && b[-1] == ' ') b--;
        if (k == cap) {
            char **no = olmo_realloc(out, 2 * cap * sizeof *out);
            if (!no) break;
            out = no; cap *= 2;
        }
        out[k++] = olmo_strndup(a, (size_t)(b - a));
        if (!hit) break;
        p = hit + sl;
    }
    *n = k;
    return out;
}

size_t index_cli_split_cnf(const char *text, char ****clauses, size_t **n_terms) {
    size_t nc = 0;
    char **cl = split_word(text, "AND", &nc);
    *clauses = olmo_calloc(nc ? nc : 1, sizeof **clauses);
    *n_terms = olmo_calloc(nc ? nc : 1, sizeof **n_terms);
    for (size_t i = 0; i < nc; i++) {
        if (*clauses && *n_terms) (*clauses)[i] = split_word(cl[i], "OR", &(*n_terms)[i]);
        free(cl[i]);
    }
    free(cl);
    return nc;
}

void index_cli_free_cnf(char ***clauses, size_t *n_terms, size_t n) {
    for (size_t i = 0; clauses && i < n; i++) {
        for (size_t j = 0; clauses[i] && j < n_terms[i]; j++) free(clauses[i][j]);
        free(clauses[i]);
    }
    free(clauses); free(n_terms);
}

int index_cmd_common(int argc, char **argv, int *i, const char **tok, const char **ids, int *json) {
    const char *a = argv[*i];
    int more = *i + 1 < argc;
    if ((!strcmp(a, "-t") || !strcmp(a, "--tokenizer")) && more) { *tok = argv[++*i]; return 1; }
    if (!strcmp(a, "--ids") && more) { *ids = argv[++*i]; return 1; }
    if (!strcmp(a, "--json")) { *json = 1; return 1; }
    return 0;
}

int index_cmd_cnf(const struct index_cli *c, const char *text, uint64_t max_diff, uint64_t max_occ, int64_t *count,
                  struct idx_hit **hits) {
    char ***cl = NULL;
    size_t *nt = NULL, nc = index_cli_split_cnf(text, &cl, &nt);
    struct idx_cnf_clause *cs = calloc(nc, sizeof *cs);
    int rc = -1;
    if (!cs || !cl || !nt) { olmo_err("out of memory"); goto done; }
    for (size_t k = 0; k < nc; k++) {
        cs[k].n_terms = nt[k];
        cs[k].terms = calloc(nt[k], sizeof *cs[k].terms);
        cs[k].lens = calloc(nt[k], sizeof *cs[k].lens);
        if (!cs[k].terms || !cs[k].lens) { olmo_err("out of memory"); goto done; }
        for (size_t j = 0; j < nt[k]; j++) {
            uint32_t *q; size_t m;
            if (!*cl[k][j]) { olmo_err("AND/OR query '%s': an empty phrase", text); goto done; }
            /* A term is a word inside running text: tokenize it with a leading space (the word-initial form
             * byte-level BPE uses mid-sentence, as SentencePiece's ▁ does for infini-gram's Llama indexes). */
            char *term = malloc(strlen(cl[k][j]) + 2);
            if (!term) { olmo_err("out of memory"); goto done; }
            sprintf(term, "%s%s", cl[k][j][0] == ' ' ? "" : " ", cl[k][j]);
            int qr = index_cli_query(c, term, NULL, &q, &m);
            free(term);
            if (qr < 0) goto done;
            cs[k].terms[j] = q;
            ((size_t *)cs[k].lens)[j] = m;
        }
    }
    *count = idx_cnf(&c->ix, cs, nc, max_diff, max_occ, hits);
    rc = *count < 0 ? -1 : 0;
done:
    for (size_t k = 0; cs && k < nc; k++) {
        for (size_t j = 0; cs[k].terms && j < cs[k].n_terms; j++) free((void *)cs[k].terms[j]);
        free(cs[k].terms); free((void *)cs[k].lens);
    }
    free(cs);
    index_cli_free_cnf(cl, nt, nc);
    return rc;
}

int index_cmd_is_cnf(const char *text) { return text && (strstr(text, " AND ") || strstr(text, " OR ")); }
