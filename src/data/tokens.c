/* tokens.c — see tokens.h. One thread per group of input files; each streams its documents through the
 * tokenizer into a growing id buffer that is written out (temp file + rename) whenever the next document would
 * not fit in max_size tokens. */
#include "data/tokens.h"

#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "data/dedup_mpi.h"
#include "data/docs.h"
#include "data/mix_config.h"
#include "tokenizer/tokenizer.h"
#include "train/mpi.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const tokens_schema[] = {
    "documents", "destination", "tokenizer.name_or_path", "tokenizer.bos_token_id", "tokenizer.eos_token_id",
    "tokenizer.pad_token_id", "tokenizer.segment_before_tokenization", "tokenizer.encode_special_tokens",
    "tokenizer.fast", "tokenizer.refresh", "tokenizer_name_or_path", "processes", "files_per_process",
    "batch_size", "ring_size", "sample_ring_prop", "max_size", "dtype", "seed", "fields.text_field_name",
    "fields.text_field_type", "fields.id_field_name", "fields.id_field_type", "work_dir.**", "dryrun", "debug",
    "skip_bad_lines", NULL};
const char *const tokens_list_keys[] = {"documents", NULL};

struct tcfg {
    char **files;
    size_t n_files;
    const char *dest;
    struct olmo_tokenizer *tok;
    int64_t bos, eos; /* -1: none */
    int64_t max_size;
    int bytes; /* 2 or 4 */
    const char *text_field, *id_field;
    int skip_bad;
};

struct group {
    const struct tcfg *c;
    size_t lo, hi;
    int g, digits;
    struct tokens_stats st;
    int failed;
    char err[OLMO_ERR_MSG_MAX];
};

/* Python str.strip(): the code points for which str.isspace() is true. */
static int py_space(const unsigned char *s, size_t n, size_t *len) {
    unsigned c = s[0];
    *len = 1;
    if (c < 0x80) return c == ' ' || (c >= 9 && c <= 13) || (c >= 0x1c && c <= 0x1f);
    uint32_t cp;
    size_t l = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (l > n) return 0;
    cp = c & (0x3F >> (l - 1));
    for (size_t i = 1; i < l; i++) cp = (cp << 6) | (s[i] & 0x3F);
    *len = l;
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
           cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}
static void py_strip(const char **s, size_t *n) {
    const unsigned char *p = (const unsigned char *)*s, *e = p + *n;
    size_t l;
    while (p < e && py_space(p, e - p, &l)) p += l;
    /* from the end: step back over UTF-8 continuation bytes to a lead byte */
    while (e > p) {
        const unsigned char *q = e - 1;
        while (q > p && (*q & 0xC0) == 0x80) q--;
        if (!py_space(q, e - q, &l) || q + l != e) break;
        e = q;
    }
    *s = (const char *)p;
    *n = (size_t)(e - p);
}

static json_t *dotted(json_t *o, const char *path) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save, *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
        o = json_is_object(o) ? json_object_get(o, k) : NULL;
    return o;
}

/* csv.writer's minimal quoting: quote a field holding , " \r or \n, doubling quotes. */
static int csv_field(struct docs_buf *b, const char *s, size_t n) {
    int q = 0;
    for (size_t i = 0; i < n && !q; i++) q = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!q) return docs_buf_put(b, s, n);
    int rc = docs_buf_put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) rc |= s[i] == '"' ? docs_buf_put(b, "\"\"", 2) : docs_buf_put(b, s + i, 1);
    return rc | docs_buf_put(b, "\"", 1);
}

struct out {
    void *ids;
    size_t n, cap; /* tokens */
    struct docs_buf csv;
    int m;
};

static int flush_out(struct group *gr, struct out *o) {
    if (o->n == 0 && o->csv.len == 0) return 0;
    char name[64], *path;
    snprintf(name, sizeof name, "part-%0*d-%05d.npy", gr->digits, gr->g, o->m);
    path = olmo_path_join(gr->c->dest, name);
    int rc = olmo_write_file_atomic(path, o->ids, o->n * (size_t)gr->c->bytes);
    free(path);
    if (rc) return -1;
    snprintf(name, sizeof name, "part-%0*d-%05d.csv.gz", gr->digits, gr->g, o->m);
    path = olmo_path_join(gr->c->dest, name);
    struct docs_writer *w = docs_writer_open(path);
    free(path);
    if (!w) return -1;
    if (docs_writer_write(w, o->csv.data ? o->csv.data : "", o->csv.len) || docs_writer_commit(w)) return -1;
    gr->st.npy_files++;
    o->n = 0;
    o->csv.len = 0;
    o->m++;
    return 0;
}

static int group_run(struct group *gr) {
    const struct tcfg *c = gr->c;
    struct out o = {0};
    int rc = 0;
    char where[4200];
    for (size_t f = gr->lo; f < gr->hi && !rc; f++) {
        const char *path = c->files[f];
        struct docs_lines *dl = docs_lines_open(path);
        if (!dl) { rc = -1; break; }
        char *line;
        size_t len;
        int got;
        while ((got = docs_lines_next(dl, &line, &len)) > 0) {
            long no = docs_lines_number(dl);
            snprintf(where, sizeof where, "%s:%ld", path, no);
            gr->st.docs_in++;
            json_error_t je;
            json_t *obj = json_loadb(line, len, 0, &je);
            json_t *tv = obj ? dotted(obj, c->text_field) : NULL, *iv = obj ? dotted(obj, c->id_field) : NULL;
            if (!obj || !json_is_string(tv) || (iv && !json_is_string(iv) && !json_is_null(iv))) {
                olmo_err("%s: expected a JSON object with string fields %s and %s, found %s", where, c->text_field,
                         c->id_field, !obj ? je.text : !json_is_string(tv) ? "no string text" : "a non-string id");
                if (obj) json_decref(obj);
                if (!c->skip_bad) { rc = -1; break; }
                if (gr->st.docs_bad++ == 0) olmo_log_warn("tokens: skipping bad lines (first: %s)", olmo_errmsg());
                continue;
            }
            const char *text = json_string_value(tv);
            size_t tl = json_string_length(tv);
            py_strip(&text, &tl);
            if (tl == 0) { gr->st.docs_empty++; json_decref(obj); continue; }
            int32_t *ids;
            size_t n;
            if (tok_encode(c->tok, text, tl, 0, &ids, &n)) { rc = olmo_err_prefix("%s: ", where); json_decref(obj); break; }
            size_t extra = (c->bos >= 0 && (n == 0 || ids[0] != c->bos)) + (c->eos >= 0 && (n == 0 || ids[n - 1] != c->eos));
            size_t total = n + extra;
            if ((int64_t)total >= c->max_size) {
                free(ids);
                json_decref(obj);
                rc = olmo_err("%s: a document of %zu tokens does not fit in max_size = %lld tokens per file (Dolma "
                              "would loop forever); raise --max_size", where, total, (long long)c->max_size);
                break;
            }
            if ((int64_t)(o.n + total) >= c->max_size && flush_out(gr, &o)) { free(ids); json_decref(obj); rc = -1; break; }
            if (o.n + total > o.cap) {
                o.cap = (o.n + total) * 2 + 1024;
                void *ni = realloc(o.ids, o.cap * (size_t)c->bytes);
                if (!ni) { free(ids); json_decref(obj); rc = olmo_err("tokens: out of memory"); break; }
                o.ids = ni;
            }
            size_t start = o.n;
            int32_t bos = (int32_t)c->bos, eos = (int32_t)c->eos;
            for (size_t i = 0; i < total; i++) {
                int first_bos = c->bos >= 0 && (n == 0 || ids[0] != c->bos);
                int32_t v;
                if (first_bos && i == 0) v = bos;
                else if (i - first_bos < n) v = ids[i - first_bos];
                else v = eos;
                if (c->bytes == 2) ((uint16_t *)o.ids)[o.n++] = (uint16_t)v;
                else ((uint32_t *)o.ids)[o.n++] = (uint32_t)v;
            }
            free(ids);
            char num[64];
            snprintf(num, sizeof num, "%zu,%zu,", start, o.n);
            int e = docs_buf_puts(&o.csv, num);
            if (iv && json_is_string(iv)) e |= csv_field(&o.csv, json_string_value(iv), json_string_length(iv));
            e |= docs_buf_put(&o.csv, ",", 1);
            e |= csv_field(&o.csv, path, strlen(path));
            snprintf(num, sizeof num, ",%ld\r\n", no);
            e |= docs_buf_puts(&o.csv, num);
            json_decref(obj);
            if (e) { rc = olmo_err("tokens: out of memory"); break; }
            gr->st.docs_out++;
            gr->st.tokens += (long)total;
        }
        if (!rc && got < 0) rc = -1;
        docs_lines_close(dl);
        if (!rc) gr->st.files++;
    }
    if (!rc && o.n) rc = flush_out(gr, &o);
    free(o.ids);
    docs_buf_free(&o.csv);
    return rc;
}

static void *group_main(void *arg) {
    struct group *g = arg;
    if (group_run(g)) {
        g->failed = 1;
        snprintf(g->err, sizeof g->err, "%s", olmo_errmsg());
    }
    return NULL;
}

int tokens_run(const struct ycfg *cfg, struct tokens_stats *st) {
    memset(st, 0, sizeof *st);
    struct tcfg c = {0};
    const char **globs, *tokpath, *old_tokpath, *dtype;
    size_t ng;
    int64_t procs, fpp;
    if (dcfg_strs(cfg, "documents", &globs, &ng)) return -1;
    int rc = 0;
    if (!ng) { free(globs); return olmo_err("%s: documents: expected at least one path or glob, found none", cfg->path); }
    if (dcfg_str(cfg, "destination", NULL, &c.dest) || dcfg_str(cfg, "tokenizer.name_or_path", NULL, &tokpath) ||
        dcfg_str(cfg, "tokenizer_name_or_path", NULL, &old_tokpath) || dcfg_int(cfg, "tokenizer.bos_token_id", -1, &c.bos) ||
        dcfg_int(cfg, "tokenizer.eos_token_id", -1, &c.eos) || dcfg_int(cfg, "processes", 1, &procs) ||
        dcfg_int(cfg, "files_per_process", 0, &fpp) || dcfg_int(cfg, "max_size", 1073741824LL, &c.max_size) ||
        dcfg_str(cfg, "dtype", "uint16", &dtype) || dcfg_str(cfg, "fields.text_field_name", "text", &c.text_field) ||
        dcfg_str(cfg, "fields.id_field_name", "id", &c.id_field) || dcfg_bool(cfg, "skip_bad_lines", 0, &c.skip_bad)) {
        free(globs);
        return -1;
    }
    int enc_special = 0, seg = 0;
    if (dcfg_bool(cfg, "tokenizer.encode_special_tokens", 0, &enc_special) ||
        dcfg_bool(cfg, "tokenizer.segment_before_tokenization", 0, &seg)) { free(globs); return -1; }
    if (enc_special) { free(globs); return olmo_err("%s: tokenizer.encode_special_tokens: true is not supported (special-token strings in text are always matched as special tokens, HF's default)", cfg->path); }
    if (!c.dest) { free(globs); return olmo_err("%s: destination: expected an output directory, found none", cfg->path); }
    if (!tokpath) tokpath = old_tokpath;
    if (!tokpath) { free(globs); return olmo_err("%s: tokenizer.name_or_path: expected a tokenizer.json path, found none", cfg->path); }
    c.tok = tok_load(tokpath);
    if (!c.tok) { free(globs); return -1; }
    int vocab = tok_vocab_size(c.tok);
    if (old_tokpath && c.eos < 0 && c.bos < 0) c.eos = vocab - 1; /* the deprecated flag's rule */
    if (c.eos < 0 && c.bos < 0) {
        int32_t e = tok_token_to_id(c.tok, "<|endoftext|>");
        if (e < 0) { rc = olmo_err("%s: tokenizer.eos_token_id: expected an id (no <|endoftext|> token to default to)", cfg->path); goto out; }
        c.eos = e;
        olmo_log_info("tokens: eos_token_id defaults to %d (<|endoftext|>)", e);
    }
    /* Dolma's dtype check: numpy.min_scalar_type(vocab_size - 1) */
    const char *need = vocab - 1 <= 255 ? "uint8" : vocab - 1 <= 65535 ? "uint16" : "uint32";
    if (!strcmp(dtype, "uint16")) c.bytes = 2;
    else if (!strcmp(dtype, "uint32")) c.bytes = 4;
    else { rc = olmo_err("%s: dtype: expected uint16 or uint32, found '%s'", cfg->path, dtype); goto out; }
    if (strcmp(dtype, need) && !(c.bytes == 2 && !strcmp(need, "uint8"))) {
        rc = olmo_err("%s: dtype: the tokenizer has %d ids, so expected %s, found %s (as Dolma requires)", cfg->path,
                      vocab, need, dtype);
        goto out;
    }
    for (size_t g = 0; g < ng; g++) {
        size_t n;
        char **m = docs_glob(globs[g], &n);
        if (!m) { rc = -1; goto out; }
        c.files = realloc(c.files, (c.n_files + n + 1) * sizeof *c.files);
        for (size_t i = 0; i < n; i++) c.files[c.n_files++] = strdup(m[i]);
        docs_paths_free(m);
    }
    if (olmo_mkdir_p(c.dest)) { rc = -1; goto out; }
    /* Dolma's grouping: step = min(files_per_process, n_files / processes); groups [round(j*step), round((j+1)*step)) */
    if (procs < 1) procs = 1;
    double step = (double)c.n_files / (double)procs;
    if (fpp > 0 && (double)fpp < step) step = (double)fpp;
    if (step < 1) step = 1;
    size_t ngroups = (size_t)ceil((double)c.n_files / step - 1e-9);
    if (ngroups == 0) ngroups = 1;
    struct group *gs = calloc(ngroups, sizeof *gs);
    int digits = (int)ceil(log10((double)ngroups + 1));
    if (digits < 1) digits = 1;
    for (size_t j = 0; j < ngroups; j++) {
        size_t lo = (size_t)llround(j * step), hi = j + 1 == ngroups ? c.n_files : (size_t)llround((j + 1) * step);
        gs[j] = (struct group){.c = &c, .lo = lo, .hi = hi > c.n_files ? c.n_files : hi, .g = (int)j, .digits = digits};
    }
    int rank = dist_rank(), size = dist_size();
    pthread_t *th = calloc(ngroups, sizeof *th);
    size_t nthreads = (size_t)procs;
    for (size_t j0 = 0; j0 < ngroups; j0 += nthreads) { /* at most `processes` groups at once */
        size_t j1 = j0 + nthreads < ngroups ? j0 + nthreads : ngroups;
        for (size_t j = j0; j < j1; j++)
            if ((int)(j % (size_t)size) == rank) pthread_create(&th[j], NULL, group_main, &gs[j]);
        for (size_t j = j0; j < j1; j++)
            if ((int)(j % (size_t)size) == rank) pthread_join(th[j], NULL);
    }
    free(th);
    for (size_t j = 0; j < ngroups; j++) {
        if (gs[j].failed && !rc) rc = olmo_err("%s", gs[j].err);
        long *d = (long *)st, *s = (long *)&gs[j].st;
        for (size_t k = 0; k < sizeof *st / sizeof(long); k++) d[k] += s[k];
    }
    free(gs);
    if (size > 1) {
        int32_t bad = rc != 0;
        dist_allreduce_max_i32(&bad);
        if (bad && !rc) rc = olmo_err("tokens: another rank failed");
        if (!rc) rc = dedup_mpi_sum_long((long *)st, (int)(sizeof *st / sizeof(long)));
    }
out:
    for (size_t i = 0; i < c.n_files; i++) free(c.files[i]);
    free(c.files);
    free(globs);
    tok_free(c.tok);
    return rc;
}
