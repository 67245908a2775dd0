/* idx_build.c — `olmo data index`: builds the suffix-array index of a list of token files (idx.h).
 *
 * Files are grouped, in order, into shards of at most shard_tokens tokens (files are never split; 4-byte
 * pointers below 2^32 tokens). A shard is sorted in chunks of at most chunk_tokens tokens (from the memory
 * budget: ~9 bytes per token sorted at once): each chunk with SA-IS over its tokens plus the following max_cmp
 * tokens (so its order is right up to max_cmp tokens of common prefix, infini-gram's overlap trick), written
 * to a temporary part file, then all parts k-way merged comparing at most max_cmp tokens. A shard that fits one
 * chunk is sorted exactly and written directly. File ends become separator symbols below every token (valued by
 * file index), so a suffix stops at its file's end and equal stopped suffixes order by file, the canonical order
 * of idx_text_cmp_suffix. Then the document table (EOS scan, or the .csv.gz rows when present), metadata,
 * unigram counts and manifest.json. Every output is written to a temp name and renamed when complete. */
#include "index/idx.h"
#include "index/idx_format.h"
#include "index/idx_internal.h"
#include "index/idx_build_internal.h"
#include "index/sais.h"

#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- progress bar (stderr) ---- */

struct progress { int on; uint64_t total, done; double t0, last; const char *label; };

static void progress_add(struct progress *p, uint64_t n) {
    #pragma omp atomic
    p->done += n;
    if (!p->on) return;
    double now = olmo_now();
    int final = p->done >= p->total;
    if (!final && now - p->last < 0.25) return;
    #pragma omp critical(idx_progress)
    {
        p->last = now;
        double frac = p->total ? (double)p->done / (double)p->total : 1.0;
        if (frac > 1) frac = 1;
        int bar = (int)(frac * 30);
        double rate = (double)p->done / (now - p->t0 + 1e-9) / 1e6;
        fprintf(stderr, "\r%-6s [%.*s%*s] %5.1f%%  %.2f M tokens/s  %.0f s ", p->label, bar,
                "==============================", 30 - bar, "", frac * 100, rate, now - p->t0);
        if (final) fputc('\n', stderr);
    }
}

/* ---- payload writer: header page placeholder, payload with running CRC, header rewritten at the end ---- */

int idx_pw_open(struct idx_pw *w, const char *path) {
    memset(w, 0, sizeof *w);
    if (olmo_atomic_open(&w->f, path) < 0) return -1;
    static const uint8_t zero[IDX_HEADER_BYTES];
    if (fwrite(zero, 1, sizeof zero, w->f.fp) != sizeof zero) {
        olmo_atomic_abort(&w->f);
        return olmo_err_errno("%s: writing", path);
    }
    return 0;
}

int idx_pw_write(struct idx_pw *w, const void *p, size_t n) {
    if (!n) return 0;
    w->crc = idx_crc32c(w->crc, p, n);
    w->bytes += n;
    if (fwrite(p, 1, n, w->f.fp) != n) return olmo_err_errno("%s: writing", w->f.path);
    return 0;
}

int idx_pw_close(struct idx_pw *w, struct idx_header *h) {
    h->payload_bytes = w->bytes;
    h->payload_crc = w->crc;
    h->flags |= IDX_FLAG_NUMERIC;
    uint8_t page[IDX_HEADER_BYTES];
    idx_header_write(h, page);
    if (fseek(w->f.fp, 0, SEEK_SET) || fwrite(page, 1, sizeof page, w->f.fp) != sizeof page) {
        olmo_atomic_abort(&w->f);
        return olmo_err_errno("%s: writing the header", w->f.path);
    }
    return olmo_atomic_commit(&w->f);
}

/* ---- chunk sort ---- */

/* Sorts the suffixes starting in shard tokens [a, b), looking at tokens up to b + H (H = 0: to the shard's
 * end). Returns (b - a) chunk-local positions in order (caller frees), NULL after olmo_err. */
static uint32_t *sort_chunk(const struct idx_text *t, uint64_t a, uint64_t b, uint64_t H) {
    uint64_t N = t->first[t->n_files];
    if (b <= a) return malloc(1);
    uint64_t end = H && b + H < N ? b + H : N;
    uint32_t fa = idx_text_file(t, a), fe = idx_text_file(t, end - 1);
    uint32_t nsep = 0;
    for (uint32_t f = fa; f <= fe; f++) nsep += t->first[f + 1] <= end;
    uint64_t len = end - a + nsep;
    if (len >= UINT32_MAX) { olmo_err("index build: chunk of %llu tokens is too long", (unsigned long long)len); return NULL; }
    uint32_t *T = malloc(len * sizeof *T), *SA = malloc(len * sizeof *SA);
    uint64_t *aug_first = malloc((size_t)(fe - fa + 2) * sizeof *aug_first);
    if (!T || !SA || !aug_first) {
        free(T); free(SA); free(aug_first);
        olmo_err("index build: out of memory sorting %llu tokens (%.1f GiB); lower --mem or --chunk-tokens",
                 (unsigned long long)len, (double)len * 8 / (1u << 30));
        return NULL;
    }
    uint64_t j = 0;
    uint32_t maxtok = 0;
    for (uint32_t f = fa; f <= fe; f++) {
        uint64_t s = a > t->first[f] ? a : t->first[f], e = end < t->first[f + 1] ? end : t->first[f + 1];
        aug_first[f - fa] = j;
        const uint8_t *d = t->data[f];
        for (uint64_t i = s - t->first[f]; i < e - t->first[f]; i++) {
            uint32_t v = idx_text_tok(t, d, i);
            if (v > maxtok) maxtok = v;
            T[j++] = v;
        }
        if (t->first[f + 1] <= end) T[j++] = 0;   /* the separator, numbered below */
    }
    aug_first[fe - fa + 1] = j;
    if ((uint64_t)maxtok + nsep + 1 > UINT32_MAX) {
        free(T); free(SA); free(aug_first);
        olmo_err("index build: token id %u too large for the suffix sort", maxtok);
        return NULL;
    }
    /* Tokens shift up by nsep; separators (right after each file's tokens) take 0..nsep-1 in file order. */
    uint32_t sep = 0;
    for (uint32_t f = fa; f <= fe; f++) {
        uint64_t s = aug_first[f - fa], e = aug_first[f - fa + 1];
        int has_sep = t->first[f + 1] <= end;
        for (uint64_t i = s; i < e - (uint64_t)has_sep; i++) T[i] += nsep;
        if (has_sep) T[e - 1] = sep++;
    }
    int rc = sais_build(T, SA, (uint32_t)len, maxtok + nsep + 1);
    free(T);
    if (rc < 0) { free(SA); free(aug_first); return NULL; }
    /* Keep suffixes that start at a token in [a, b), as chunk-local positions. */
    uint64_t out = 0;
    uint32_t nf = fe - fa + 1;
    for (uint64_t r = 0; r < len; r++) {
        uint64_t q = SA[r];
        uint32_t k = 0;
        if (nf > 1) {
            uint32_t lo = 0, hi = nf;
            while (hi - lo > 1) { uint32_t mid = (lo + hi) / 2; if (aug_first[mid] <= q) lo = mid; else hi = mid; }
            k = lo;
        }
        uint64_t in_file = q - aug_first[k];
        uint64_t file_tokens = aug_first[k + 1] - aug_first[k] - (t->first[fa + k + 1] <= end);
        if (in_file >= file_tokens) continue;   /* a separator */
        uint64_t s = a > t->first[fa + k] ? a : t->first[fa + k];
        uint64_t pos = s + in_file;
        if (pos < b) SA[out++] = (uint32_t)(pos - a);
    }
    free(aug_first);
    if (out != b - a) {
        free(SA);
        olmo_err("index build: internal error, chunk kept %llu of %llu suffixes", (unsigned long long)out,
                 (unsigned long long)(b - a));
        return NULL;
    }
    return SA;
}

/* ---- SA output with ptr_width-byte entries ---- */

struct sa_out { struct idx_pw w; int width; uint8_t *buf; size_t n, cap; };

static int sa_out_put(struct sa_out *o, uint64_t v) {
    for (int i = 0; i < o->width; i++) o->buf[o->n++] = (uint8_t)(v >> (8 * i));
    if (o->n + 8 > o->cap) {
        if (idx_pw_write(&o->w, o->buf, o->n) < 0) return -1;
        o->n = 0;
    }
    return 0;
}
static int sa_out_flush(struct sa_out *o) {
    int rc = idx_pw_write(&o->w, o->buf, o->n);
    o->n = 0;
    return rc;
}

/* ---- k-way merge of chunk parts ---- */

struct cursor { FILE *fp; uint32_t *buf; size_t i, n; uint64_t base, left, pos; uint32_t id; };

static int cursor_next(struct cursor *c) {   /* 1: pos set; 0: exhausted; -1: error */
    if (c->i == c->n) {
        if (!c->left) return 0;
        size_t want = c->left < 65536 ? (size_t)c->left : 65536;
        if (fread(c->buf, sizeof *c->buf, want, c->fp) != want) return olmo_err("index build: short read of a part file");
        c->n = want; c->i = 0; c->left -= want;
    }
    c->pos = c->base + c->buf[c->i++];
    return 1;
}

static int cur_less(const struct idx_text *t, uint64_t cap, const struct cursor *x, const struct cursor *y) {
    int c = idx_text_cmp_suffix(t, x->pos, y->pos, cap);
    return c < 0 || (c == 0 && x->id < y->id);
}

static void heap_down(struct cursor **h, size_t n, size_t i, const struct idx_text *t, uint64_t cap) {
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && cur_less(t, cap, h[l], h[m])) m = l;
        if (l + 1 < n && cur_less(t, cap, h[l + 1], h[m])) m = l + 1;
        if (m == i) return;
        struct cursor *tmp = h[i]; h[i] = h[m]; h[m] = tmp;
        i = m;
    }
}

static int merge_parts(const struct idx_text *t, char **part_paths, const uint64_t *starts, uint32_t n_parts,
                       uint64_t cap, struct sa_out *out, struct progress *pg) {
    struct cursor *cs = calloc(n_parts, sizeof *cs);
    struct cursor **heap = calloc(n_parts, sizeof *heap);
    int rc = -1;
    size_t hn = 0;
    if (!cs || !heap) { olmo_err("index build: out of memory for the merge"); goto done; }
    for (uint32_t i = 0; i < n_parts; i++) {
        cs[i].id = i;
        cs[i].base = starts[i];
        cs[i].left = starts[i + 1] - starts[i];
        cs[i].buf = malloc(65536 * sizeof *cs[i].buf);
        cs[i].fp = fopen(part_paths[i], "rb");
        if (!cs[i].buf || !cs[i].fp) { olmo_err_errno("%s: opening a part file", part_paths[i]); goto done; }
        int r = cursor_next(&cs[i]);
        if (r < 0) goto done;
        if (r) heap[hn++] = &cs[i];
    }
    for (size_t i = hn / 2; i-- > 0;) heap_down(heap, hn, i, t, cap);
    uint64_t since = 0;
    while (hn) {
        if (sa_out_put(out, heap[0]->pos) < 0) goto done;
        int r = cursor_next(heap[0]);
        if (r < 0) goto done;
        if (!r) heap[0] = heap[--hn];
        heap_down(heap, hn, 0, t, cap);
        if (++since == 1 << 20) { progress_add(pg, since); since = 0; }
    }
    progress_add(pg, since);
    rc = 0;
done:
    for (uint32_t i = 0; cs && i < n_parts; i++) {
        if (cs[i].fp) fclose(cs[i].fp);
        free(cs[i].buf);
    }
    free(cs); free(heap);
    return rc;
}

/* ---- one shard's suffix array ---- */

static int build_sa(const char *out_dir, uint32_t shard, const struct idx_text *t, const struct idx_build_opts *o,
                    uint64_t chunk, struct idx_header *hdr, struct progress *pg) {
    uint64_t N = t->first[t->n_files];
    uint32_t n_chunks = (uint32_t)((N + chunk - 1) / chunk);
    if (!n_chunks) n_chunks = 1;
    uint64_t cap = n_chunks > 1 ? o->max_cmp : 0;
    char name[64];
    snprintf(name, sizeof name, "shard-%04u.sa", shard);
    char *path = olmo_path_join(out_dir, name);
    struct sa_out out = {.width = hdr->ptr_width, .cap = 1 << 20};
    out.buf = malloc(out.cap);
    char **parts = calloc(n_chunks, sizeof *parts);
    uint64_t *starts = calloc((size_t)n_chunks + 1, sizeof *starts);
    int rc = -1;
    if (!path || !out.buf || !parts || !starts) { olmo_err("index build: out of memory"); goto done; }
    for (uint32_t c = 0; c <= n_chunks; c++) starts[c] = (uint64_t)c * chunk < N ? (uint64_t)c * chunk : N;
    if (idx_pw_open(&out.w, path) < 0) goto done;
    if (n_chunks == 1) {
        uint32_t *sa = sort_chunk(t, 0, N, 0);
        if (!sa && N) { olmo_atomic_abort(&out.w.f); goto done; }
        for (uint64_t i = 0; i < N; i++)
            if (sa_out_put(&out, sa[i]) < 0) { free(sa); olmo_atomic_abort(&out.w.f); goto done; }
        free(sa);
        progress_add(pg, 2 * N);
    } else {
        int failed = 0;
        char err[OLMO_ERR_MSG_MAX] = "";
        for (uint32_t c = 0; c < n_chunks; c++) {
            snprintf(name, sizeof name, "tmp-shard-%04u-part-%05u", shard, c);
            parts[c] = olmo_path_join(out_dir, name);
            if (!parts[c]) failed = 1;
        }
        #pragma omp parallel for schedule(dynamic, 1) num_threads(o->threads > 0 ? o->threads : 1)
        for (uint32_t c = 0; c < n_chunks; c++) {
            if (failed) continue;
            uint32_t *sa = sort_chunk(t, starts[c], starts[c + 1], cap);
            int ok = sa != NULL;
            if (ok) {
                FILE *fp = fopen(parts[c], "wb");
                ok = fp && fwrite(sa, 4, starts[c + 1] - starts[c], fp) == starts[c + 1] - starts[c];
                if (fp && fclose(fp)) ok = 0;
                if (!ok) olmo_err_errno("%s: writing a part file", parts[c]);
            }
            free(sa);
            if (!ok) {
                #pragma omp critical(idx_err)
                { if (!failed) snprintf(err, sizeof err, "%s", olmo_errmsg()); failed = 1; }
            }
            progress_add(pg, starts[c + 1] - starts[c]);
        }
        if (failed) { olmo_err("%s", err); olmo_atomic_abort(&out.w.f); goto done; }
        if (merge_parts(t, parts, starts, n_chunks, cap, &out, pg) < 0) { olmo_atomic_abort(&out.w.f); goto done; }
    }
    if (sa_out_flush(&out) < 0) { olmo_atomic_abort(&out.w.f); goto done; }
    hdr->kind = IDX_KIND_SA;
    hdr->max_cmp = cap;
    if (cap) hdr->flags |= IDX_FLAG_CAPPED;
    if (idx_pw_close(&out.w, hdr) < 0) goto done;
    rc = 0;
done:
    for (uint32_t c = 0; parts && c < n_chunks; c++) {
        if (parts[c]) unlink(parts[c]);
        free(parts[c]);
    }
    free(parts); free(starts); free(out.buf); free(path);
    return rc;
}

/* ---- whole build ---- */

struct bfile { char *path; struct olmo_mmap map; const uint8_t *data; uint64_t n, skip; char *meta; };

int idx_build(const char *out_dir, char *const *files, size_t n_files, const struct idx_build_opts *o) {
    if (!n_files) return olmo_err("olmo data index: no token files given");
    int w = o->dtype_bytes;
    if (w != 2 && w != 4) return olmo_err("olmo data index: dtype of %d bytes, expected uint16 or uint32", w);
    uint64_t shard_tokens = o->shard_tokens ? o->shard_tokens : UINT32_MAX;
    uint64_t mem = o->mem_bytes ? o->mem_bytes : (UINT64_C(4) << 30);
    int threads = o->threads > 0 ? o->threads : 1;
    uint64_t chunk = o->chunk_tokens ? o->chunk_tokens : mem / 9 / (uint64_t)threads;
    if (chunk > UINT32_MAX / 2) chunk = UINT32_MAX / 2;
    if (chunk < 1024) chunk = 1024;
    struct idx_build_opts opts = *o;
    if (!opts.max_cmp) opts.max_cmp = 50000;
    if (opts.max_cmp > chunk) opts.max_cmp = chunk;
    double t0 = olmo_now();

    struct bfile *bf = calloc(n_files, sizeof *bf);
    json_t *manifest = json_object(), *jshards = json_array();
    uint64_t *unigram = NULL, vocab = 0, total = 0, total_docs = 0;
    int rc = -1;
    if (!bf || !manifest || !jshards) { olmo_err("olmo data index: out of memory"); goto done; }
    if (olmo_mkdir_p(out_dir) < 0) goto done;
    for (size_t i = 0; i < n_files; i++) {
        char real[PATH_MAX];
        if (!realpath(files[i], real)) { olmo_err_errno("%s: token file", files[i]); goto done; }
        if (!(bf[i].path = olmo_strdup(real))) goto done;
        if (idx_token_file_open(real, w, &bf[i].map, &bf[i].data, &bf[i].n, &bf[i].skip) < 0) goto done;
        if (idx_token_file_check(real, w, bf[i].data, bf[i].n, 0) < 0) goto done;
        const char *m = o->metadata ? o->metadata[i] : NULL;
        if (m) {
            if (!(bf[i].meta = olmo_strdup(m))) goto done;
        } else if (!o->metadata) {
            bf[i].meta = idx_meta_sibling(real);
        }
        total += bf[i].n;
    }
    /* Unigram counts (one pass; also finds the vocabulary size). */
    vocab = o->eos_id != IDX_NO_TOKEN ? (uint64_t)o->eos_id + 1 : 1;
    uint64_t ucap = w == 2 ? 65536 : 1 << 20;
    if (!(unigram = calloc(ucap, sizeof *unigram))) { olmo_err("olmo data index: out of memory"); goto done; }
    for (size_t i = 0; i < n_files; i++)
        for (uint64_t k = 0; k < bf[i].n; k++) {
            uint32_t v = w == 2 ? (uint32_t)(bf[i].data[2 * k] | bf[i].data[2 * k + 1] << 8)
                                : (uint32_t)bf[i].data[4 * k] | (uint32_t)bf[i].data[4 * k + 1] << 8 |
                                      (uint32_t)bf[i].data[4 * k + 2] << 16 | (uint32_t)bf[i].data[4 * k + 3] << 24;
            if (v >= ucap) {
                uint64_t nc = ucap;
                while (nc <= v) nc *= 2;
                uint64_t *nu = realloc(unigram, nc * sizeof *nu);
                if (!nu) { olmo_err("olmo data index: out of memory"); goto done; }
                memset(nu + ucap, 0, (nc - ucap) * sizeof *nu);
                unigram = nu; ucap = nc;
            }
            unigram[v]++;
            if (v + 1 > vocab) vocab = (uint64_t)v + 1;
        }

    struct progress pg = {.on = o->progress, .total = 2 * total, .t0 = t0, .label = "index"};
    uint32_t shard = 0;
    for (size_t f0 = 0; f0 < n_files; shard++) {
        size_t f1 = f0 + 1;
        uint64_t n = bf[f0].n;
        while (f1 < n_files && f1 - f0 < IDX_MAX_FILES && n + bf[f1].n <= shard_tokens) n += bf[f1++].n;
        struct idx_text t = {.width = w, .n_files = (uint32_t)(f1 - f0)};
        t.data = calloc(f1 - f0, sizeof *t.data);
        t.first = calloc(f1 - f0 + 1, sizeof *t.first);
        struct idx_header hdr = {.token_width = w, .eos_id = o->eos_id, .n_tokens = n, .vocab_size = vocab,
                                 .n_files = (uint32_t)(f1 - f0), .ptr_width = n <= (UINT64_C(1) << 32) ? 4 : 5};
        if (!t.data || !t.first) { free(t.data); free(t.first); olmo_err("olmo data index: out of memory"); goto done; }
        for (size_t i = f0; i < f1; i++) {
            t.data[i - f0] = bf[i].data;
            t.first[i - f0 + 1] = t.first[i - f0] + bf[i].n;
            hdr.file_first[i - f0] = t.first[i - f0];
            hdr.file_count[i - f0] = bf[i].n;
        }
        int r = build_sa(out_dir, shard, &t, &opts, chunk, &hdr, &pg);
        const char **mp = calloc(f1 - f0, sizeof *mp), **pp = calloc(f1 - f0, sizeof *pp);
        if (r == 0 && (!mp || !pp)) r = olmo_err("olmo data index: out of memory");
        for (size_t i = f0; r == 0 && i < f1; i++) { mp[i - f0] = bf[i].meta; pp[i - f0] = bf[i].path; }
        if (r == 0) r = idx_build_docs(out_dir, shard, &t, mp, pp, &hdr);
        free(mp); free(pp);
        free(t.data); free(t.first);
        if (r < 0) goto done;
        total_docs += hdr.n_docs;
        json_t *js = json_object(), *jf = json_array();
        char nm[32];
        snprintf(nm, sizeof nm, "shard-%04u", shard);
        json_object_set_new(js, "name", json_string(nm));
        json_object_set_new(js, "tokens", json_integer((json_int_t)n));
        json_object_set_new(js, "documents", json_integer((json_int_t)hdr.n_docs));
        json_object_set_new(js, "max_cmp", json_integer((json_int_t)hdr.max_cmp));
        json_object_set_new(js, "ptr_width", json_integer(hdr.ptr_width));
        for (size_t i = f0; i < f1; i++) {
            json_t *e = json_object();
            json_object_set_new(e, "path", json_string(bf[i].path));
            json_object_set_new(e, "tokens", json_integer((json_int_t)bf[i].n));
            json_object_set_new(e, "header_bytes", json_integer((json_int_t)bf[i].skip));
            json_object_set_new(e, "metadata", bf[i].meta ? json_string(bf[i].meta) : json_null());
            json_array_append_new(jf, e);
        }
        json_object_set_new(js, "files", jf);
        json_array_append_new(jshards, js);
        f0 = f1;
    }
    {
        struct idx_header h = {.kind = IDX_KIND_UNIGRAM, .token_width = w, .eos_id = o->eos_id, .n_tokens = total,
                               .n_docs = total_docs, .vocab_size = vocab};
        struct idx_pw pw;
        char *up = olmo_path_join(out_dir, "unigram.bin");
        int r = up ? idx_pw_open(&pw, up) : -1;
        free(up);
        if (r < 0) goto done;
        if (idx_pw_write(&pw, unigram, vocab * 8) < 0) { olmo_atomic_abort(&pw.f); goto done; }
        if (idx_pw_close(&pw, &h) < 0) goto done;
    }
    json_object_set_new(manifest, "format", json_string("olmo-index"));
    json_object_set_new(manifest, "version", json_integer(IDX_VERSION));
    json_object_set_new(manifest, "dtype", json_string(w == 2 ? "uint16" : "uint32"));
    json_object_set_new(manifest, "eos_id", o->eos_id == IDX_NO_TOKEN ? json_null() : json_integer(o->eos_id));
    json_object_set_new(manifest, "vocab_size", json_integer((json_int_t)vocab));
    json_object_set_new(manifest, "tokens", json_integer((json_int_t)total));
    json_object_set_new(manifest, "documents", json_integer((json_int_t)total_docs));
    if (o->tokenizer) {
        char real[PATH_MAX];
        json_object_set_new(manifest, "tokenizer", json_string(realpath(o->tokenizer, real) ? real : o->tokenizer));
    }
    json_t *jb = json_object();
    json_object_set_new(jb, "chunk_tokens", json_integer((json_int_t)chunk));
    json_object_set_new(jb, "max_cmp", json_integer((json_int_t)opts.max_cmp));
    json_object_set_new(jb, "threads", json_integer(threads));
    json_object_set_new(jb, "seconds", json_real(olmo_now() - t0));
    json_object_set_new(manifest, "build", jb);
    json_object_set(manifest, "shards", jshards);
    {
        char *s = json_dumps(manifest, JSON_INDENT(1));
        char *mp = olmo_path_join(out_dir, "manifest.json");
        int r = s && mp ? olmo_write_file_atomic(mp, s, strlen(s)) : -1;
        free(s); free(mp);
        if (r < 0) goto done;
    }
    rc = 0;
done:
    for (size_t i = 0; bf && i < n_files; i++) {
        olmo_mmap_close(&bf[i].map);
        free(bf[i].path); free(bf[i].meta);
    }
    free(bf); free(unigram);
    json_decref(manifest); json_decref(jshards);
    return rc;
}
