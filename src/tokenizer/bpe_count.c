/* bpe_count.c — the counting half of the BPE trainer (bpe_train.h): corpus text -> distinct pre-tokens with counts.
 *
 * Text is cut into lines that keep their "\n" (HF's train_from_files feeds the trainer line by line, so a blank
 * line never joins the previous line's newline into one "\n\n" piece), each line is split by the shared cl100k
 * pre-tokenizer (pretokenize.h) and every piece is counted in a hash map. Files are memory-mapped and cut into
 * ~1 MiB chunks at line ends; OpenMP threads take chunks dynamically, each into its own map, and the maps are
 * summed at the end. Counts are sums, so the result does not depend on the thread count or schedule. */
#include "tokenizer/bpe_train.h"
#include "tokenizer/pretokenize.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_BYTES (1u << 20)

/* Reusable piece buffer of one counting thread. */
struct piece_buf {
    struct pretok_piece *p;
    size_t n, cap;
};

static int count_lines(struct bpe_words *w, const struct pretok *pt, struct piece_buf *pb, const char *text,
                       size_t len) {
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) + 1 : len;
        if (pretok_split(pt, text + pos, end - pos, &pb->p, &pb->n, &pb->cap) < 0) return -1;
        for (size_t k = 0; k < pb->n; k++) {
            if (pb->p[k].len > UINT32_MAX / 4)
                return olmo_err("a single pre-token of %zu bytes is longer than the trainer supports", pb->p[k].len);
            if (bpe_words_add(w, text + pos + pb->p[k].start, (uint32_t)pb->p[k].len, 1) < 0) return -1;
        }
        pos = end;
    }
    w->n_bytes += len;
    return 0;
}

int bpe_words_add_text(struct bpe_words *w, const char *text, size_t len) {
    struct pretok *pt = pretok_named("cl100k");
    if (!pt) return -1;
    struct piece_buf pb = {0};
    int rc = count_lines(w, pt, &pb, text, len);
    free(pb.p);
    pretok_free(pt);
    return rc;
}

struct chunk {
    const char *text;
    size_t len;
};

/* Cuts every mapped file into chunks of about CHUNK_BYTES that end just after a '\n' (or at the file's end). */
static int make_chunks(const struct olmo_mmap *maps, int n_maps, struct chunk **out, size_t *n_out) {
    size_t n = 0, cap = 64;
    struct chunk *c = olmo_malloc(cap * sizeof *c);
    if (!c) return -1;
    for (int f = 0; f < n_maps; f++) {
        const char *t = (const char *)maps[f].data;
        size_t len = maps[f].size, pos = 0;
        while (pos < len) {
            size_t end = len - pos <= CHUNK_BYTES ? len : pos + CHUNK_BYTES;
            if (end < len) {
                const char *nl = memchr(t + end, '\n', len - end);
                end = nl ? (size_t)(nl - t) + 1 : len;
            }
            if (n == cap) {
                struct chunk *nc = olmo_realloc(c, 2 * cap * sizeof *c);
                if (!nc) {
                    free(c);
                    return -1;
                }
                c = nc;
                cap *= 2;
            }
            c[n++] = (struct chunk){t + pos, end - pos};
            pos = end;
        }
    }
    *out = c;
    *n_out = n;
    return 0;
}

int bpe_words_add_files(struct bpe_words *w, const char *const *paths, int n_paths, int threads) {
    struct olmo_mmap *maps = olmo_calloc(n_paths > 0 ? (size_t)n_paths : 1, sizeof *maps);
    if (!maps) return -1;
    int n_open = 0, rc = -1, nt = 1;
    struct chunk *chunks = NULL;
    size_t n_chunks = 0;
    struct pretok *pt = NULL;
    struct bpe_words *local = NULL;
    for (; n_open < n_paths; n_open++)
        if (olmo_mmap_open(&maps[n_open], paths[n_open]) < 0) goto out;
    if (make_chunks(maps, n_paths, &chunks, &n_chunks) < 0) goto out;
    if (!(pt = pretok_named("cl100k"))) goto out;

    nt = threads > 0 ? threads : omp_get_max_threads();
    if ((size_t)nt > n_chunks) nt = n_chunks ? (int)n_chunks : 1;
    local = olmo_calloc((size_t)nt, sizeof *local);
    if (!local) goto out;
    for (int t = 0; t < nt; t++)
        if (bpe_words_init(&local[t]) < 0) goto out;

    /* olmo_err messages are per thread: the first failing thread copies its message out */
    char err[OLMO_ERR_MSG_MAX] = "";
    int failed = 0;
#pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num();
        struct piece_buf pb = {0};
#pragma omp for schedule(dynamic, 1)
        for (size_t i = 0; i < n_chunks; i++) {
            int stop;
#pragma omp atomic read
            stop = failed;
            if (stop) continue;
            if (count_lines(&local[t], pt, &pb, chunks[i].text, chunks[i].len) < 0) {
#pragma omp critical(bpe_count_err)
                if (!failed) {
                    snprintf(err, sizeof err, "%s", olmo_errmsg());
                    failed = 1;
                }
            }
        }
        free(pb.p);
    }
    if (failed) {
        olmo_err("%s", err);
        goto out;
    }
    for (int t = 0; t < nt; t++)
        if (bpe_words_merge(w, &local[t]) < 0) goto out;
    rc = 0;
out:
    if (local)
        for (int t = 0; t < nt; t++) bpe_words_free(&local[t]);
    free(local);
    if (pt) pretok_free(pt);
    free(chunks);
    for (int f = 0; f < n_open; f++) olmo_mmap_close(&maps[f]);
    free(maps);
    return rc;
}
