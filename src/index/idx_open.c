/* idx_open.c — opening an index directory (idx.h): manifest.json names the token files of each shard; every
 * binary file's header page is checked (idx_header_parse), and the token files must still have the sizes the
 * index was built over — an index over changed files would answer wrong without a word. */
#include "index/idx.h"
#include "index/idx_format.h"
#include "index/idx_internal.h"

#include "base/error.h"
#include "base/mem.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static int map_checked(struct olmo_mmap *m, const char *dir, const char *name, uint32_t kind, struct idx_header *h,
                       int verify) {
    char *path = olmo_path_join(dir, name);
    if (!path) return -1;
    int rc = olmo_mmap_open(m, path);
    if (rc == 0) rc = idx_header_parse(h, m->data ? m->data : (const uint8_t *)"", m->size, kind, path);
    if (rc == 0 && verify) {
        uint32_t crc = idx_crc32c(0, m->data + IDX_HEADER_BYTES, m->size - IDX_HEADER_BYTES);
        if (crc != h->payload_crc)
            rc = olmo_err("%s: payload checksum mismatch (stored %08x, computed %08x): the file is damaged", path,
                          h->payload_crc, crc);
    }
    if (rc == 0 && m->size > IDX_HEADER_BYTES)
        madvise((void *)m->data, m->size, MADV_RANDOM);   /* binary searches: no read-ahead */
    free(path);
    if (rc < 0) olmo_mmap_close(m);
    return rc;
}

void idx_close(struct olmo_index *ix) {
    for (uint32_t s = 0; ix->shards && s < ix->n_shards; s++) {
        struct idx_shard *sh = &ix->shards[s];
        for (uint32_t f = 0; sh->file_maps && f < sh->text.n_files; f++) {
            olmo_mmap_close(&sh->file_maps[f]);
            if (sh->paths) free(sh->paths[f]);
        }
        free(sh->file_maps); free(sh->paths);
        free(sh->text.data); free(sh->text.first);
        olmo_mmap_close(&sh->sa_map); olmo_mmap_close(&sh->docs_map); olmo_mmap_close(&sh->meta_map);
    }
    free(ix->shards);
    olmo_mmap_close(&ix->unigram_map);
    free(ix->dir); free(ix->tokenizer);
    memset(ix, 0, sizeof *ix);
}

static int open_shard(struct olmo_index *ix, uint32_t s, json_t *js, int verify) {
    struct idx_shard *sh = &ix->shards[s];
    const char *name = json_string_value(json_object_get(js, "name"));
    json_t *jf = json_object_get(js, "files");
    if (!name || !json_is_array(jf) || !json_array_size(jf) || strchr(name, '/') || strlen(name) > 64)
        return olmo_err("%s/manifest.json: shard %u lacks a name or a file list", ix->dir, s);
    char fname[96];
    struct idx_header h;
    snprintf(fname, sizeof fname, "%s.sa", name);
    if (map_checked(&sh->sa_map, ix->dir, fname, IDX_KIND_SA, &h, verify) < 0) return -1;
    if (h.n_files != json_array_size(jf))
        return olmo_err("%s/%s: %u source files in the header, %zu in manifest.json", ix->dir, fname, h.n_files,
                        json_array_size(jf));
    if (h.token_width != ix->width)
        return olmo_err("%s/%s: %d-byte tokens, the manifest says %d", ix->dir, fname, h.token_width, ix->width);
    sh->n_tokens = h.n_tokens;
    sh->ptr_width = h.ptr_width;
    sh->max_cmp = h.flags & IDX_FLAG_CAPPED ? h.max_cmp : 0;
    sh->sa = sh->sa_map.data + IDX_HEADER_BYTES;
    uint32_t nf = h.n_files;
    sh->text.width = ix->width;
    sh->text.n_files = nf;
    sh->text.data = calloc(nf, sizeof *sh->text.data);
    sh->text.first = calloc(nf + 1, sizeof *sh->text.first);
    sh->file_maps = calloc(nf, sizeof *sh->file_maps);
    sh->paths = calloc(nf, sizeof *sh->paths);
    if (!sh->text.data || !sh->text.first || !sh->file_maps || !sh->paths) return olmo_err("index: out of memory");
    for (uint32_t f = 0; f < nf; f++) {
        const char *p = json_string_value(json_object_get(json_array_get(jf, f), "path"));
        if (!p) return olmo_err("%s/manifest.json: shard %s file %u has no path", ix->dir, name, f);
        if (!(sh->paths[f] = olmo_strdup(p))) return -1;
        uint64_t n;
        if (idx_token_file_open(p, ix->width, &sh->file_maps[f], &sh->text.data[f], &n, NULL) < 0)
            return olmo_err_prefix("index %s: ", ix->dir);
        if (n != h.file_count[f])
            return olmo_err("%s: %llu tokens now, the index %s was built over %llu (the file changed: rebuild)", p,
                            (unsigned long long)n, ix->dir, (unsigned long long)h.file_count[f]);
        sh->text.first[f + 1] = sh->text.first[f] + n;
        if (n) madvise((void *)sh->file_maps[f].data, sh->file_maps[f].size, MADV_RANDOM);
    }
    snprintf(fname, sizeof fname, "%s.docs", name);
    struct idx_header hd;
    if (map_checked(&sh->docs_map, ix->dir, fname, IDX_KIND_DOCS, &hd, verify) < 0) return -1;
    if (hd.n_tokens != sh->n_tokens)
        return olmo_err("%s/%s: %llu tokens, the suffix array has %llu", ix->dir, fname,
                        (unsigned long long)hd.n_tokens, (unsigned long long)sh->n_tokens);
    sh->docs = (const uint64_t *)(sh->docs_map.data + IDX_HEADER_BYTES);
    sh->n_docs = hd.n_docs;
    for (uint64_t d = 0; d < sh->n_docs; d++)   /* binary searches need sorted, in-range starts */
        if (sh->docs[d] >= sh->docs[d + 1] && !(sh->n_tokens == 0))
            return olmo_err("%s/%s: document %llu starts at %llu, not before the next (%llu)", ix->dir, fname,
                            (unsigned long long)d, (unsigned long long)sh->docs[d], (unsigned long long)sh->docs[d + 1]);
    if (sh->docs[sh->n_docs] != sh->n_tokens || (sh->n_docs && sh->docs[0] != 0))
        return olmo_err("%s/%s: document table does not span tokens 0..%llu", ix->dir, fname,
                        (unsigned long long)sh->n_tokens);
    snprintf(fname, sizeof fname, "%s.meta", name);
    char *mp = olmo_path_join(ix->dir, fname);
    int has_meta = mp && olmo_file_exists(mp);
    free(mp);
    if (has_meta) {
        struct idx_header hm;
        if (map_checked(&sh->meta_map, ix->dir, fname, IDX_KIND_META, &hm, verify) < 0) return -1;
        if (hm.n_docs != sh->n_docs)
            return olmo_err("%s/%s: %llu documents, the document table has %llu", ix->dir, fname,
                            (unsigned long long)hm.n_docs, (unsigned long long)sh->n_docs);
        sh->meta_off = (const uint64_t *)(sh->meta_map.data + IDX_HEADER_BYTES);
        sh->meta = (const char *)(sh->meta_off + sh->n_docs + 1);
        uint64_t rec_bytes = sh->meta_map.size - IDX_HEADER_BYTES - (sh->n_docs + 1) * 8;
        for (uint64_t d = 0; d <= sh->n_docs; d++)
            if (sh->meta_off[d] > rec_bytes || (d && sh->meta_off[d] < sh->meta_off[d - 1]))
                return olmo_err("%s/%s: record offset %llu of document %llu is out of order or past the %llu bytes",
                                ix->dir, fname, (unsigned long long)sh->meta_off[d], (unsigned long long)d,
                                (unsigned long long)rec_bytes);
    }
    return 0;
}

int idx_open(struct olmo_index *ix, const char *dir, int verify) {
    memset(ix, 0, sizeof *ix);
    ix->eos_id = IDX_NO_TOKEN;
    if (!(ix->dir = olmo_strdup(dir))) return -1;
    char *mpath = olmo_path_join(dir, "manifest.json");
    json_error_t jerr;
    json_t *m = mpath ? json_load_file(mpath, 0, &jerr) : NULL;
    int rc = -1;
    if (!m) {
        olmo_err("%s: not an olmo index (manifest.json: %s)", dir, mpath ? jerr.text : "out of memory");
        goto done;
    }
    const char *fmt = json_string_value(json_object_get(m, "format"));
    const char *dtype = json_string_value(json_object_get(m, "dtype"));
    json_t *shards = json_object_get(m, "shards");
    if (!fmt || strcmp(fmt, "olmo-index") || json_integer_value(json_object_get(m, "version")) != IDX_VERSION) {
        olmo_err("%s: format '%s' version %lld, expected olmo-index version %d", mpath, fmt ? fmt : "(none)",
                 (long long)json_integer_value(json_object_get(m, "version")), IDX_VERSION);
        goto done;
    }
    if (!dtype || (strcmp(dtype, "uint16") && strcmp(dtype, "uint32"))) {
        olmo_err("%s: dtype '%s', expected uint16 or uint32", mpath, dtype ? dtype : "(none)");
        goto done;
    }
    ix->width = dtype[4] == '1' ? 2 : 4;
    json_t *je = json_object_get(m, "eos_id");
    if (json_is_integer(je)) ix->eos_id = (uint32_t)json_integer_value(je);
    const char *tk = json_string_value(json_object_get(m, "tokenizer"));
    if (tk && !(ix->tokenizer = olmo_strdup(tk))) goto done;
    if (!json_is_array(shards) || !json_array_size(shards) || json_array_size(shards) > 100000) {
        olmo_err("%s: no shards listed", mpath);
        goto done;
    }
    ix->n_shards = (uint32_t)json_array_size(shards);
    if (!(ix->shards = calloc(ix->n_shards, sizeof *ix->shards))) { olmo_err("index: out of memory"); goto done; }
    for (uint32_t s = 0; s < ix->n_shards; s++) {
        if (open_shard(ix, s, json_array_get(shards, s), verify) < 0) goto done;
        ix->shards[s].doc_base = ix->n_docs;
        ix->n_tokens += ix->shards[s].n_tokens;
        ix->n_docs += ix->shards[s].n_docs;
        uint64_t mc = ix->shards[s].max_cmp;
        if (mc && (!ix->max_cmp || mc < ix->max_cmp)) ix->max_cmp = mc;
    }
    struct idx_header hu;
    if (map_checked(&ix->unigram_map, dir, "unigram.bin", IDX_KIND_UNIGRAM, &hu, verify) < 0) goto done;
    if (hu.n_tokens != ix->n_tokens) {
        olmo_err("%s/unigram.bin: counts %llu tokens, the shards hold %llu", dir, (unsigned long long)hu.n_tokens,
                 (unsigned long long)ix->n_tokens);
        goto done;
    }
    ix->vocab_size = hu.vocab_size;
    ix->unigram = (const uint64_t *)(ix->unigram_map.data + IDX_HEADER_BYTES);
    rc = 0;
done:
    json_decref(m);
    free(mpath);
    if (rc < 0) idx_close(ix);
    return rc;
}
