/* cmd_tokenizer_train.c — `olmo tokenizer train`: learns a byte-level BPE from text files and writes a
 * tokenizer.json (library: tokenizer/bpe_train.h; guide: docs/tokenizer-training.md). */
#include "cli/commands.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"
#include "data/docs.h"
#include "tokenizer/bpe_train.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: olmo tokenizer train --vocab-size N [-o tokenizer.json] [--min-frequency F]\n"
            "                            [--special TOKEN]... [--threads T] FILE...\n\n"
            "Learns a byte-level BPE tokenizer from UTF-8 text files (cl100k/dolma2 pre-tokenizer, 256 byte\n"
            "characters as the initial alphabet, highest-count pair merged first, like Hugging Face tokenizers'\n"
            "BpeTrainer) and writes a tokenizer.json that olmo and Hugging Face load alike. A FILE named\n"
            "*.json[l][.gz|.zst] is read as Dolma documents (one JSON object per line): their \"text\" fields.\n\n"
            "  --vocab-size N       ids in the result, special tokens and the 256 bytes included (required)\n"
            "  -o, --output PATH    where to write the tokenizer.json (default tokenizer.json)\n"
            "  --min-frequency F    stop when the most frequent pair occurs fewer than F times (default 1)\n"
            "  --special TOKEN      a special token; repeat for several, ids 0, 1, ... in order\n"
            "                       (default: <|endoftext|> = 0, <|padding|> = 1)\n"
            "  --threads T          threads for counting (default: all cores); the result does not depend on it\n"
            "  -h, --help           this text\n");
}

/* Dolma documents are JSON lines; their texts are what the tokenizer learns from. */
static int is_documents(const char *path) {
    static const char *const ext[] = {".jsonl", ".json", ".jsonl.gz", ".json.gz", ".jsonl.zst", ".json.zst", NULL};
    size_t n = strlen(path);
    for (int i = 0; ext[i]; i++) {
        size_t e = strlen(ext[i]);
        if (n > e && !strcmp(path + n - e, ext[i])) return 1;
    }
    return 0;
}

static int add_documents(struct bpe_words *w, const char *path) {
    struct docs_reader *r = docs_reader_open(path);
    if (!r) return -1;
    struct docs_doc d = {0};
    int rc;
    while ((rc = docs_reader_next(r, &d)) > 0)
        if (bpe_words_add_text(w, d.text, d.text_len) < 0) { rc = -1; break; }
    docs_doc_clear(&d);
    docs_reader_close(r);
    return rc < 0 ? -1 : 0;
}

static int parse_u64(const char *flag, const char *s, uint64_t max, uint64_t *out) {
    if (!s) return olmo_err("%s: expected a number after it, found the end of the arguments", flag);
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || v > max)
        return olmo_err("%s: expected a whole number up to %llu, found '%s'", flag, (unsigned long long)max, s);
    *out = v;
    return 0;
}

int cmd_tokenizer_train(int argc, char **argv) {
    struct bpe_train_opts o;
    bpe_train_opts_default(&o);
    const char *out_path = "tokenizer.json";
    uint64_t vocab = 0, minf = 0, threads = 0;
    const char **special = olmo_calloc((size_t)argc + 1, sizeof *special);
    const char **files = olmo_calloc((size_t)argc + 1, sizeof *files);
    int n_special = 0, n_files = 0, have_vocab = 0, rc = 1;
    struct bpe_words words;
    int words_ok = 0;
    struct bpe_model model;
    memset(&model, 0, sizeof model);
    if (!special || !files) goto fail;

    int i = (argc > 0 && !strcmp(argv[0], "train")) ? 1 : 0;   /* argv[0] is the subcommand name */
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            rc = 0;
            goto done;
        } else if (!strcmp(a, "--vocab-size")) {
            if (parse_u64(a, ++i < argc ? argv[i] : NULL, UINT32_MAX - 1, &vocab) < 0) goto fail;
            have_vocab = 1;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (++i >= argc) {
                olmo_err("%s: expected a path after it, found the end of the arguments", a);
                goto fail;
            }
            out_path = argv[i];
        } else if (!strcmp(a, "--min-frequency")) {
            if (parse_u64(a, ++i < argc ? argv[i] : NULL, UINT64_MAX / 4, &minf) < 0) goto fail;
        } else if (!strcmp(a, "--special")) {
            if (++i >= argc) {
                olmo_err("--special: expected a token after it, found the end of the arguments");
                goto fail;
            }
            special[n_special++] = argv[i];
        } else if (!strcmp(a, "--threads")) {
            if (parse_u64(a, ++i < argc ? argv[i] : NULL, 1024, &threads) < 0) goto fail;
        } else if (!strcmp(a, "--")) {
            for (i++; i < argc; i++) files[n_files++] = argv[i];
        } else if (a[0] == '-' && a[1]) {
            olmo_err("unknown option '%s' (see olmo tokenizer train --help)", a);
            goto fail;
        } else {
            files[n_files++] = a;
        }
    }
    if (!have_vocab) {
        olmo_err("--vocab-size is required (see olmo tokenizer train --help)");
        goto fail;
    }
    if (!n_files) {
        olmo_err("expected at least one text file to train on, found none");
        goto fail;
    }
    o.vocab_size = (uint32_t)vocab;
    o.min_frequency = minf;
    if (n_special) {
        o.special = special;
        o.n_special = (uint32_t)n_special;
    }

    /* fail on bad settings or an unwritable output before reading a possibly large corpus */
    if (bpe_train_opts_check(&o) < 0) goto fail;
    struct olmo_atomic_file probe;
    if (olmo_atomic_open(&probe, out_path) < 0) goto fail;
    olmo_atomic_abort(&probe);

    double t0 = olmo_now();
    if (bpe_words_init(&words) < 0) goto fail;
    words_ok = 1;
    /* plain text files are counted in parallel; Dolma document files one by one, document by document */
    int n_plain = 0;
    for (int f = 0; f < n_files; f++)
        if (!is_documents(files[f])) files[n_plain++] = files[f];
        else if (add_documents(&words, files[f]) < 0) goto fail;
    if (n_plain && bpe_words_add_files(&words, files, n_plain, (int)threads) < 0) goto fail;
    double t1 = olmo_now();
    olmo_log_info("counted %llu distinct pre-tokens in %.1f MB of text in %.2f s",
                  (unsigned long long)words.map.n, (double)words.n_bytes / 1e6, t1 - t0);
    struct bpe_learn_stats st;
    if (bpe_learn(&model, &words, &o, &st) < 0) goto fail;
    olmo_log_info("learned %u merges (%u ids) in %.2f s", model.n_merges, bpe_model_size(&model), st.seconds);
    if (bpe_model_size(&model) < o.vocab_size)
        olmo_log_warn("the corpus ran out of pairs (min frequency %llu): %u ids instead of %u",
                      (unsigned long long)(minf ? minf : 1), bpe_model_size(&model), o.vocab_size);
    if (bpe_model_write_json(&model, out_path) < 0) goto fail;
    olmo_log_info("wrote %s (%.2f s in all)", out_path, olmo_now() - t0);
    rc = 0;
    goto done;
fail:
    rc = cli_fail("tokenizer train");
done:
    bpe_model_free(&model);
    if (words_ok) bpe_words_free(&words);
    free(special);
    free(files);
    return rc;
}
