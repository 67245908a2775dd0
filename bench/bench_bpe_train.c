/* bench_bpe_train.c — how fast `olmo tokenizer train` learns a BPE: counting (1 and N threads), merge learning,
 * writing, on MB megabytes of the shared English corpora (default 20 MB, vocabulary 16384).
 *
 *   build/bench/bench_bpe_train [MB] [VOCAB] [THREADS]
 *
 * Prints seconds, MB/s and merges/s per phase, the memory bandwidth of one pass over the text (the physical
 * floor of the counting phase) and, side by side, Hugging Face `tokenizers` 0.23.2's BpeTrainer on the same
 * file when node and the npm package are available ($TOK_DIR, default build/npm). The node binding only runs
 * HF's default trainer (30000 ids, alphabet = characters seen), so olmo is then also run to the same number of
 * merges and the two merge lists are compared. */
#include "base/cpu.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"
#include "tokenizer/bpe_train.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const corpus_files[] = {
    "corpora/gutenberg/pg2600_war_and_peace.txt", "corpora/kjv_bible_debian.txt",
    "corpora/speeches/state_union.txt", "corpora/gutenberg/pg1399_anna_karenina.txt",
    "corpora/wikitext2/wiki.test.raw.noblank.txt", "corpora/gutenberg/pg2701_moby_dick.txt",
    "corpora/gutenberg/pg2554_crime_and_punishment.txt", "corpora/tinyshakespeare.txt",
    "corpora/wikitext2/wiki.valid.tokens.txt", "corpora/gutenberg/pg37106_little_women.txt",
    "corpora/gutenberg/pg345_dracula.txt", "corpora/speeches/inaugural.txt",
    "corpora/tinystories/tinystories_valid_head.txt", "corpora/gutenberg/pg98_tale_of_two_cities.txt",
    "corpora/gutenberg/pg1342_pride_and_prejudice.txt", "corpora/gutenberg/pg1661_adventures_of_sherlock_holmes.txt",
    "corpora/gutenberg/pg174_picture_of_dorian_gray.txt", "corpora/gutenberg/pg84_frankenstein.txt",
    "corpora/gutenberg/pg2641_room_with_a_view.txt", "corpora/gutenberg/pg64317_great_gatsby.txt",
    "corpora/gutenberg/pg236_jungle_book.txt", "corpora/gutenberg/pg16_peter_pan.txt",
    "corpora/speeches/genesis_kjv.txt", "corpora/tinystories/tinystories_sample_niklas6.txt",
    "corpora/gutenberg/pg11_alice_in_wonderland.txt", "corpora/gutenberg/pg5200_metamorphosis.txt",
    "corpora/wikitext2/wiki.test.tokens.txt",
};

/* Concatenates corpus files until `want` bytes, cut after a newline; writes it to path. */
static int make_corpus(const char *path, size_t want, size_t *got, int *n_files) {
    const char *root = getenv("OLMO_SHARED_DATA");
    if (!root || !*root) root = "../shared/data";
    char *buf = olmo_malloc(want + 1);
    if (!buf) return -1;
    size_t n = 0;
    *n_files = 0;
    for (size_t i = 0; i < sizeof corpus_files / sizeof *corpus_files && n < want; i++) {
        char *p = olmo_path_join(root, corpus_files[i]);
        size_t len = 0;
        char *t = p ? olmo_read_file(p, &len) : NULL;
        free(p);
        if (!t) continue;
        size_t take = len < want - n ? len : want - n;
        memcpy(buf + n, t, take);
        n += take;
        free(t);
        (*n_files)++;
    }
    while (n > 0 && buf[n - 1] != '\n') n--;
    if (n < want / 2) {
        free(buf);
        return olmo_err("found only %zu bytes of text under %s/corpora (set OLMO_SHARED_DATA)", n, root);
    }
    int rc = olmo_write_file_atomic(path, buf, n);
    free(buf);
    *got = n;
    return rc;
}

static double memcpy_gbs(size_t n) {
    char *a = olmo_malloc(n), *b = olmo_malloc(n);
    if (!a || !b) {
        free(a);
        free(b);
        return 0;
    }
    memset(a, 1, n);
    memset(b, 2, n);
    double best = 1e9;
    for (int r = 0; r < 5; r++) {
        double t0 = olmo_now();
        memcpy(b, a, n);
        double t = olmo_now() - t0;
        if (t < best) best = t;
        a[r] = b[n - 1 - r];   /* keep the copies observable */
    }
    free(a);
    free(b);
    return 2.0 * (double)n / best / 1e9;   /* read + write */
}

static int count(const char *path, int threads, struct bpe_words *w, double *secs) {
    if (bpe_words_init(w) < 0) return -1;
    double t0 = olmo_now();
    const char *files[] = {path};
    int rc = bpe_words_add_files(w, files, 1, threads);
    *secs = olmo_now() - t0;
    if (rc < 0) bpe_words_free(w);
    return rc;
}

/* HF's default trainer on the corpus; returns its seconds (or -1) and its merge count / alphabet size. */
static double run_hf(const char *corpus, const char *out, long *n_merges, long *n_alpha) {
    const char *dir = getenv("TOK_DIR");
    char tokdir[4096];
    snprintf(tokdir, sizeof tokdir, "%s", dir && *dir ? dir : "build/npm");
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/node_modules/tokenizers/package.json", tokdir);
    if (!olmo_file_exists(probe)) return -1;
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "TOK_DIR='%s' node tests/ref/hf_bpe_train.js '%s' '%s' 2>/dev/null", tokdir, out, corpus);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    double secs = -1;
    if (fscanf(p, "%lf", &secs) != 1) secs = -1;
    if (pclose(p) != 0) return -1;
    json_error_t je;
    json_t *root = json_load_file(out, 0, &je);
    if (!root) return -1;
    json_t *model = json_object_get(root, "model");
    *n_merges = (long)json_array_size(json_object_get(model, "merges"));
    const char *k;
    json_t *v;
    *n_alpha = 0;
    json_object_foreach(json_object_get(model, "vocab"), k, v) {
        size_t chars = 0;
        for (const char *c = k; *c; c++) chars += ((unsigned char)*c & 0xc0) != 0x80;
        *n_alpha += chars == 1;
    }
    json_decref(root);
    return secs;
}

int main(int argc, char **argv) {
    { char cpu[512]; printf("%s\n", olmo_cpu_describe(cpu, (int)sizeof cpu)); }   /* a figure belongs to a CPU */
    double mb = argc > 1 ? atof(argv[1]) : 20;
    uint32_t vocab = argc > 2 ? (uint32_t)atol(argv[2]) : 16384;
    int threads = argc > 3 ? atoi(argv[3]) : 2;
    char corpus[256], out[256], hf_out[256];
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp) tmp = "/tmp";
    snprintf(corpus, sizeof corpus, "%s/bench_bpe_corpus.%d.txt", tmp, (int)getpid());
    snprintf(out, sizeof out, "%s/bench_bpe_tok.%d.json", tmp, (int)getpid());
    snprintf(hf_out, sizeof hf_out, "%s/bench_bpe_hf.%d.json", tmp, (int)getpid());
    size_t bytes = 0;
    int n_files = 0;
    if (make_corpus(corpus, (size_t)(mb * 1e6), &bytes, &n_files) < 0) {
        fprintf(stderr, "bench_bpe_train: %s\n", olmo_errmsg());
        return 1;
    }
    double mbytes = (double)bytes / 1e6;
    printf("corpus: %.1f MB from %d files of ../shared/data/corpora; vocabulary %u\n", mbytes, n_files, vocab);
    double gbs = memcpy_gbs(bytes);
    printf("memory bandwidth (memcpy, read+write): %.1f GB/s = floor %.4f s for one pass over the text\n", gbs,
           2.0 * (double)bytes / (gbs * 1e9));

    struct bpe_words w;
    double t1 = 1e9, tn = 1e9, s;
    int rc = 0;
    for (int r = 0; r < 2 && rc == 0; r++) {
        rc = count(corpus, 1, &w, &s);
        if (rc == 0) bpe_words_free(&w);
        if (s < t1) t1 = s;
    }
    for (int r = 0; r < 2 && rc == 0; r++) {
        if (r) bpe_words_free(&w);
        rc = count(corpus, threads, &w, &s);
        if (s < tn) tn = s;
    }
    if (rc < 0) {
        fprintf(stderr, "bench_bpe_train: %s\n", olmo_errmsg());
        unlink(corpus);
        return 1;
    }
    printf("count  1 thread : %7.3f s  %7.1f MB/s   (%llu distinct pre-tokens)\n", t1, mbytes / t1,
           (unsigned long long)w.map.n);
    printf("count %2d threads: %7.3f s  %7.1f MB/s   (x%.2f)\n", threads, tn, mbytes / tn, t1 / tn);

    struct bpe_train_opts o;
    bpe_train_opts_default(&o);
    o.vocab_size = vocab;
    struct bpe_model m;
    struct bpe_learn_stats st;
    if (bpe_learn(&m, &w, &o, &st) < 0) {
        fprintf(stderr, "bench_bpe_train: %s\n", olmo_errmsg());
        return 1;
    }
    printf("learn %u merges: %7.3f s  %9.0f merges/s\n", m.n_merges, st.seconds, m.n_merges / st.seconds);
    double t0 = olmo_now();
    rc = bpe_model_write_json(&m, out);
    double tw = olmo_now() - t0;
    bpe_model_free(&m);
    printf("write tokenizer.json: %.3f s\n", tw);
    double total = tn + st.seconds + tw;
    printf("olmo total (%d threads): %.2f s = %.2f MB/s   [target: 16k vocabulary on 20 MB under 60 s on 2 cores]\n",
           threads, total, mbytes / total);

    long hf_merges = 0, hf_alpha = 0;
    double hf = run_hf(corpus, hf_out, &hf_merges, &hf_alpha);
    if (hf < 0) {
        printf("peer: HF tokenizers (node) not available (npm install tokenizers@0.23.2 into $TOK_DIR or build/npm)\n");
    } else {
        /* same stopping point as HF's default trainer: 30000 ids from its own alphabet */
        o.vocab_size = 258 + (uint32_t)(30000 - hf_alpha);
        double c0 = olmo_now();
        rc = bpe_learn(&m, &w, &o, &st);
        if (rc == 0) rc = bpe_model_write_json(&m, out);
        double ours = tn + (olmo_now() - c0);
        if (rc == 0) {
            printf("peer, same work (%ld merges, HF's default trainer = 30000 ids):\n", hf_merges);
            printf("  HF tokenizers 0.23.2 BpeTrainer (Rust, all cores): %7.2f s  %6.2f MB/s\n", hf, mbytes / hf);
            printf("  olmo (%d threads)                                 : %7.2f s  %6.2f MB/s   (x%.2f)\n", threads,
                   ours, mbytes / ours, hf / ours);
            char cmd[1024];
            snprintf(cmd, sizeof cmd, "node tests/ref/hf_bpe_train.js --compare '%s' '%s'", hf_out, out);
            printf("  merge lists: ");
            fflush(stdout);
            if (system(cmd) != 0) printf("  (differ)\n");
            bpe_model_free(&m);
        }
        unlink(hf_out);
    }
    bpe_words_free(&w);
    unlink(corpus);
    unlink(out);
    return 0;
}
