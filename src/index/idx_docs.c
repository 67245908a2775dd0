/* idx_docs.c — the document table and metadata of a shard. Documents are what the token files separate: each
 * ends with EOS (as `olmo data tokens` and Dolma write them), or, when the file has a `.csv.gz` beside it
 * (`start,end,id,src,loc`, one row per document, token offsets within the file), exactly its rows, whose id,
 * src and loc name the document in search results. */
#include "index/idx_build_internal.h"

#include "base/error.h"
#include "base/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

char *idx_meta_sibling(const char *token_path) {
    size_t n = strlen(token_path);
    const char *dot = strrchr(token_path, '.'), *slash = strrchr(token_path, '/');
    size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - token_path) : n;
    char *p = olmo_malloc(stem + 8);
    if (!p) return NULL;
    memcpy(p, token_path, stem);
    memcpy(p + stem, ".csv.gz", 8);
    if (olmo_file_exists(p)) return p;
    free(p);
    return NULL;
}

struct u64vec { uint64_t *v; size_t n, cap; };
static int u64_push(struct u64vec *a, uint64_t x) {
    if (a->n == a->cap) {
        size_t nc = a->cap ? 2 * a->cap : 1024;
        uint64_t *nv = olmo_realloc(a->v, nc * sizeof *nv);
        if (!nv) return -1;
        a->v = nv; a->cap = nc;
    }
    a->v[a->n++] = x;
    return 0;
}
struct strbuf { char *s; size_t n, cap; };
static int sb_add(struct strbuf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 4096;
        while (nc < b->n + n + 1) nc *= 2;
        char *ns = olmo_realloc(b->s, nc);
        if (!ns) return -1;
        b->s = ns; b->cap = nc;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    return 0;
}

/* Splits one CSV line in place into up to max fields (RFC 4180 quotes; tabs/newlines in a field become spaces
 * so a record stays one "id\tsrc\tloc" line). Returns the field count. */
static int csv_split(char *line, char **f, int max) {
    int n = 0;
    char *r = line, *w = line;
    while (n < max) {
        f[n++] = w;
        if (*r == '"') {
            r++;
            for (;;) {
                if (!*r) break;
                if (*r == '"' && r[1] == '"') { *w++ = '"'; r += 2; continue; }
                if (*r == '"') { r++; break; }
                *w++ = (*r == '\t' || *r == '\n' || *r == '\r') ? ' ' : *r;
                r++;
            }
        }
        while (*r && *r != ',' && *r != '\n' && *r != '\r') { *w++ = *r == '\t' ? ' ' : *r; r++; }
        int more = *r == ',';
        *w++ = 0;
        if (!more) break;
        r++;
    }
    return n;
}

/* Reads a whole gzip line (any length) into *buf; 0 at end of file. */
static int gz_line(gzFile gz, char **buf, size_t *cap) {
    size_t n = 0;
    for (;;) {
        if (n + 2 > *cap) {
            size_t nc = *cap ? 2 * *cap : 4096;
            char *nb = olmo_realloc(*buf, nc);
            if (!nb) return -1;
            *buf = nb; *cap = nc;
        }
        if (!gzgets(gz, *buf + n, (int)(*cap - n))) return n > 0;
        n += strlen(*buf + n);
        if (n && (*buf)[n - 1] == '\n') return 1;
    }
}

static int read_meta(const char *path, const char *token_path, uint64_t base, uint64_t n_tokens,
                     struct u64vec *docs, struct strbuf *recs, struct u64vec *offs) {
    gzFile gz = gzopen(path, "rb");
    if (!gz) return olmo_err_errno("%s: opening metadata", path);
    char *line = NULL, *f[16];
    size_t cap = 0, lineno = 0;
    int col[4] = {-1, -1, -1, -1}, rc = -1, r;   /* start, id, src, loc */
    static const char *names[4] = {"start", "id", "src", "loc"};
    uint64_t prev_end = 0;
    while ((r = gz_line(gz, &line, &cap)) > 0) {
        lineno++;
        int nf = csv_split(line, f, 16);
        if (lineno == 1) {
            /* Dolma writes no header: rows are start,end,id,src,loc (spec dolma §5). A first row whose first
             * field is not a number is a header naming the columns (any order). */
            int numeric = *f[0] != 0;
            for (const char *c = f[0]; *c; c++) numeric &= *c >= '0' && *c <= '9';
            if (numeric) {
                col[0] = 0, col[1] = 2, col[2] = 3, col[3] = 4;
            } else {
                for (int i = 0; i < nf; i++)
                    for (int k = 0; k < 4; k++)
                        if (!strcmp(f[i], names[k])) col[k] = i;
                if (col[0] < 0) {
                    olmo_err("%s:1: expected a row start,end,id,src,loc (Dolma's, no header) or a header with a "
                             "'start' column, found neither", path);
                    goto done;
                }
                continue;
            }
        }
        if (nf == 1 && !*f[0]) continue;
        char *end;
        if (col[0] >= nf) { olmo_err("%s:%zu: %d fields, expected a 'start' in field %d", path, lineno, nf, col[0] + 1); goto done; }
        unsigned long long s = strtoull(f[col[0]], &end, 10);
        if (end == f[col[0]] || *end) { olmo_err("%s:%zu: start '%s' is not a number", path, lineno, f[col[0]]); goto done; }
        if (s >= n_tokens || (docs->n && base + s <= docs->v[docs->n - 1] && docs->n > 0 && prev_end)) {
            olmo_err("%s:%zu: document start %llu is out of order or past the %llu tokens of %s", path, lineno, s,
                     (unsigned long long)n_tokens, token_path);
            goto done;
        }
        if (!prev_end && s > 0) {   /* tokens before the first row: an unnamed document */
            if (u64_push(docs, base) < 0 || u64_push(offs, recs->n) < 0) goto done;
        }
        prev_end = 1;
        if (u64_push(docs, base + s) < 0 || u64_push(offs, recs->n) < 0) goto done;
        for (int k = 1; k < 4; k++) {
            const char *v = col[k] >= 0 && col[k] < nf ? f[col[k]] : "";
            if (sb_add(recs, v, strlen(v)) < 0 || (k < 3 && sb_add(recs, "\t", 1) < 0)) goto done;
        }
    }
    if (r < 0) goto done;
    int zerr;
    const char *zmsg = gzerror(gz, &zerr);
    if (zerr != Z_OK && zerr != Z_STREAM_END) { olmo_err("%s: gzip error: %s", path, zmsg); goto done; }
    if (!prev_end && n_tokens) {
        olmo_err("%s: no document rows for the %llu tokens of %s", path, (unsigned long long)n_tokens, token_path);
        goto done;
    }
    rc = 0;
done:
    free(line);
    gzclose(gz);
    return rc;
}

int idx_build_docs(const char *out_dir, uint32_t shard, const struct idx_text *t, const char *const *meta,
                   const char *const *paths, struct idx_header *hdr) {
    struct u64vec docs = {0}, offs = {0};
    struct strbuf recs = {0};
    int any_meta = 0, rc = -1;
    for (uint32_t f = 0; f < t->n_files; f++) any_meta |= meta[f] != NULL;
    for (uint32_t f = 0; f < t->n_files; f++) {
        uint64_t base = t->first[f], n = t->first[f + 1] - base;
        if (!n) continue;
        if (meta[f]) {
            if (read_meta(meta[f], paths[f], base, n, &docs, &recs, &offs) < 0) goto done;
            continue;
        }
        if (u64_push(&docs, base) < 0 || (any_meta && u64_push(&offs, recs.n) < 0)) goto done;
        if (hdr->eos_id == IDX_NO_TOKEN) continue;
        const uint8_t *d = t->data[f];
        for (uint64_t i = 0; i + 1 < n; i++)
            if (idx_text_tok(t, d, i) == hdr->eos_id)
                if (u64_push(&docs, base + i + 1) < 0 || (any_meta && u64_push(&offs, recs.n) < 0)) goto done;
    }
    uint64_t n_docs = docs.n;
    if (u64_push(&docs, t->first[t->n_files]) < 0) goto done;
    hdr->n_docs = n_docs;
    char name[64];
    snprintf(name, sizeof name, "shard-%04u.docs", shard);
    char *path = olmo_path_join(out_dir, name);
    struct idx_pw w;
    struct idx_header h = *hdr;
    h.kind = IDX_KIND_DOCS;
    h.ptr_width = 0;
    h.flags = 0;
    h.max_cmp = 0;
    int r = path ? idx_pw_open(&w, path) : -1;
    free(path);
    if (r < 0) goto done;
    if (idx_pw_write(&w, docs.v, docs.n * 8) < 0) { olmo_atomic_abort(&w.f); goto done; }
    if (idx_pw_close(&w, &h) < 0) goto done;
    if (any_meta) {
        if (u64_push(&offs, recs.n) < 0) goto done;
        snprintf(name, sizeof name, "shard-%04u.meta", shard);
        path = olmo_path_join(out_dir, name);
        h.kind = IDX_KIND_META;
        r = path ? idx_pw_open(&w, path) : -1;
        free(path);
        if (r < 0) goto done;
        if (idx_pw_write(&w, offs.v, offs.n * 8) < 0 || idx_pw_write(&w, recs.s, recs.n) < 0) {
            olmo_atomic_abort(&w.f);
            goto done;
        }
        if (idx_pw_close(&w, &h) < 0) goto done;
    }
    rc = 0;
done:
    free(docs.v); free(offs.v); free(recs.s);
    return rc;
}
