/* cmd_data_index.c — `olmo data index TOKENFILES... -o INDEX_DIR`: builds the suffix-array index of the token
 * files `olmo train` reads (src/index/idx_build.c), with bounded memory and a progress bar. */
#include "cli/commands.h"
#include "index/idx.h"
#include "index/idx_internal.h"
#include "tokenizer/tokenizer.h"

#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: olmo data index TOKENFILES... -o INDEX_DIR [options]\n\n"
            "Builds a suffix-array index over token files (headerless uint16/uint32 or .npy, documents ending with\n"
            "EOS) so `olmo data count|search|ngram` and `olmo trace` can query them. The token files are used in\n"
            "place (not copied): the index adds 4 bytes per token (5 above 2^32 tokens per shard).\n\n"
            "options:\n"
            "  -o, --out DIR         index directory (required)\n"
            "  --dtype uint16|uint32 token width (default uint16)\n"
            "  -t, --tokenizer PATH  tokenizer.json, recorded for queries; its <|endoftext|> is the EOS\n"
            "  --eos ID              document separator id (default: the tokenizer's, else 100257 or 50279\n"
            "                        when found in the data, else whole files are documents)\n"
            "  --metadata F1,F2,...  .csv.gz per token file (start,end,id,src,loc); default: X.csv.gz beside X.npy\n"
            "  --threads N           chunks sorted in parallel (default 1)\n"
            "  --mem GIB             memory for sorting (default 4); larger shards are sorted in chunks and merged\n"
            "  --chunk-tokens N      tokens per sorted chunk (overrides --mem)\n"
            "  --shard-tokens N      most tokens per shard (default 2^32-1; files are never split)\n"
            "  --max-cmp N           tokens compared when merging chunks (default 50000)\n"
            "  --quiet               no progress bar\n");
}

/* The EOS guess: the dolma2 or gpt-neox-olmo EOS when it occurs in the first file's first million tokens. */
static uint32_t guess_eos(const char *path, int width) {
    struct olmo_mmap m;
    const uint8_t *d;
    uint64_t n;
    uint32_t found = IDX_NO_TOKEN;
    if (idx_token_file_open(path, width, &m, &d, &n, NULL) < 0) { olmo_err_clear(); return found; }
    for (uint64_t i = 0; i < n && i < 1000000 && found == IDX_NO_TOKEN; i++) {
        uint32_t v = width == 2 ? (uint32_t)(d[2 * i] | d[2 * i + 1] << 8)
                                : (uint32_t)d[4 * i] | (uint32_t)d[4 * i + 1] << 8 | (uint32_t)d[4 * i + 2] << 16 |
                                      (uint32_t)d[4 * i + 3] << 24;
        if (v == 100257 || v == 50279) found = v;
    }
    olmo_mmap_close(&m);
    return found;
}

int cmd_data_index(int argc, char **argv) {
    struct idx_build_opts o = {.dtype_bytes = 2, .eos_id = IDX_NO_TOKEN, .threads = 1, .progress = isatty(2)};
    const char *out = NULL, *meta = NULL;
    long long eos = -1;
    char **files = calloc((size_t)argc, sizeof *files);
    size_t nf = 0;
    int rc = 1;
    char **metas = NULL;
    if (!files) return cli_fail("data index");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); free(files); return 0; }
        else if ((!strcmp(a, "-o") || !strcmp(a, "--out")) && more) out = argv[++i];
        else if (!strcmp(a, "--dtype") && more) {
            const char *v = argv[++i];
            if (!strcmp(v, "uint16")) o.dtype_bytes = 2;
            else if (!strcmp(v, "uint32")) o.dtype_bytes = 4;
            else { fprintf(stderr, "olmo data index: --dtype '%s', expected uint16 or uint32\n", v); goto done; }
        } else if ((!strcmp(a, "-t") || !strcmp(a, "--tokenizer")) && more) o.tokenizer = argv[++i];
        else if (!strcmp(a, "--eos") && more) eos = atoll(argv[++i]);
        else if (!strcmp(a, "--metadata") && more) meta = argv[++i];
        else if (!strcmp(a, "--threads") && more) o.threads = atoi(argv[++i]);
        else if (!strcmp(a, "--mem") && more) o.mem_bytes = (uint64_t)(atof(argv[++i]) * (1u << 30));
        else if (!strcmp(a, "--chunk-tokens") && more) o.chunk_tokens = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--shard-tokens") && more) o.shard_tokens = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--max-cmp") && more) o.max_cmp = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--quiet")) o.progress = 0;
        else if (a[0] == '-' && a[1]) { fprintf(stderr, "olmo data index: unknown option '%s'\n\n", a); usage(stderr); rc = 2; goto done; }
        else files[nf++] = argv[i];
    }
    if (!out || !nf) { usage(stderr); rc = 2; goto done; }
    if (meta) {
        metas = calloc(nf, sizeof *metas);
        size_t k = 0;
        for (const char *p = meta; metas && *p && k < nf; k++) {
            const char *c = strchr(p, ',');
            size_t l = c ? (size_t)(c - p) : strlen(p);
            metas[k] = olmo_strndup(p, l);
            p += l + (c != NULL);
        }
        if (k != nf) {
            fprintf(stderr, "olmo data index: --metadata names %zu files for %zu token files\n", k, nf);
            goto done;
        }
        o.metadata = metas;
    }
    if (eos >= 0) o.eos_id = (uint32_t)eos;
    else if (o.tokenizer) {
        struct olmo_tokenizer *tok = tok_load(o.tokenizer);
        if (!tok) { cli_fail("data index"); goto done; }
        int32_t id = tok_token_to_id(tok, "<|endoftext|>");
        tok_free(tok);
        if (id >= 0) o.eos_id = (uint32_t)id;
    } else {
        o.eos_id = guess_eos(files[0], o.dtype_bytes);
        if (o.eos_id == IDX_NO_TOKEN) olmo_log_warn("data index: no EOS given or found; each file is one document");
    }
    double t0 = olmo_now();
    if (idx_build(out, files, nf, &o) < 0) { cli_fail("data index"); goto done; }
    struct olmo_index ix;
    if (idx_open(&ix, out, 0) < 0) { cli_fail("data index"); goto done; }
    double dt = olmo_now() - t0;
    fprintf(stderr, "indexed %llu tokens, %llu documents, %u shard(s) in %.2f s (%.2f M tokens/s) -> %s\n",
            (unsigned long long)ix.n_tokens, (unsigned long long)ix.n_docs, ix.n_shards, dt,
            (double)ix.n_tokens / dt / 1e6, out);
    idx_close(&ix);
    rc = 0;
done:
    for (size_t k = 0; metas && k < nf; k++) free(metas[k]);
    free(metas);
    free(files);
    return rc;
}
