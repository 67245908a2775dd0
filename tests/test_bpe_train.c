/* test_bpe_train.c — the BPE trainer (tokenizer/bpe_train.h): merges checked by hand on tiny corpora, against a
 * naive recount-everything trainer on random corpora, the tokenizer.json it writes, determinism across thread
 * counts, and a round trip through the tokenizer loader (tok_load / tok_encode / tok_decode). */
#include "harness.h"
#include "base/error.h"
#include "base/file.h"
#include "base/mem.h"
#include "tokenizer/bpe_train.h"
#include "tokenizer/tokenizer.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

static int add_words(struct bpe_words *w, const char *const *words, const uint64_t *counts, int n) {
    for (int i = 0; i < n; i++)
        if (bpe_words_add(w, words[i], (uint32_t)strlen(words[i]), counts[i]) < 0) return -1;
    return 0;
}

/* Trains on n words with the default options and room for every merge (vocab_size 1000). */
static int learn_words(struct bpe_model *m, const char *const *words, const uint64_t *counts, int n) {
    struct bpe_words w;
    if (bpe_words_init(&w) < 0) return -1;
    int rc = add_words(&w, words, counts, n);
    struct bpe_train_opts o;
    bpe_train_opts_default(&o);
    o.vocab_size = 1000;
    if (rc == 0) rc = bpe_learn(m, &w, &o, NULL);
    bpe_words_free(&w);
    return rc;
}

/* The merge list as "left right" strings joined by '|' (only ASCII-letter tokens here). */
static void merges_str(const struct bpe_model *m, char *out, size_t cap) {
    size_t n = 0;
    out[0] = 0;
    for (uint32_t i = 0; i < m->n_merges && n < cap; i++) {
        const struct bpe_strmap_entry *a = &m->vocab.ents[m->merges[2 * i]], *b = &m->vocab.ents[m->merges[2 * i + 1]];
        n += (size_t)snprintf(out + n, cap - n, "%s%.*s %.*s", i ? "|" : "", (int)a->len,
                              (const char *)bpe_strmap_key(&m->vocab, m->merges[2 * i]), (int)b->len,
                              (const char *)bpe_strmap_key(&m->vocab, m->merges[2 * i + 1]));
    }
}

static int64_t token_id(const struct bpe_model *m, const char *s) {
    return bpe_strmap_find(&m->vocab, s, (uint32_t)strlen(s));
}

/* ---- hand-checked merges ---- */

/* The classic example: hug 10, pug 5, pun 12, bun 4, hugs 5. Pair counts: ug 20, un 16, hu 15, pu 17 ... so
 * u+g, u+n, h+ug (15), p+un (12), then p+ug and hug+s tie at 5: p (an original byte, smaller id) goes first. */
TEST(bpe_hand_checked_merges) {
    static const char *const words[] = {"hug", "pug", "pun", "bun", "hugs"};
    static const uint64_t counts[] = {10, 5, 12, 4, 5};
    struct bpe_model m;
    CHECK_MSG(learn_words(&m, words, counts, 5) == 0, "%s", olmo_errmsg());
    char s[512];
    merges_str(&m, s, sizeof s);
    CHECK_MSG(!strcmp(s, "u g|u n|h ug|p un|p ug|hug s|b un"), "merges: %s", s);
    CHECK_EQ_INT(bpe_model_size(&m), 2 + 256 + 7);
    CHECK_EQ_INT(m.n_special, 2);
    CHECK_EQ_INT(token_id(&m, "<|endoftext|>"), 0);
    CHECK_EQ_INT(token_id(&m, "<|padding|>"), 1);
    CHECK_EQ_INT(token_id(&m, "!"), 2);            /* the alphabet starts at the smallest code point, '!' */
    CHECK_EQ_INT(token_id(&m, "\xc4\xa0"), 2 + 188 + 32); /* space = U+0120 after 188 printable bytes, 0x00-0x1f */
    CHECK_EQ_INT(token_id(&m, "ug"), 258);
    CHECK_EQ_INT(token_id(&m, "bun"), 264);
    bpe_model_free(&m);
}

/* vocab_size counts everything (2 special + 256 bytes + merges); min_frequency stops at rare pairs. */
TEST(bpe_vocab_size_and_min_frequency) {
    static const char *const words[] = {"hug", "pug", "pun", "bun", "hugs"};
    static const uint64_t counts[] = {10, 5, 12, 4, 5};
    struct bpe_words w;
    CHECK(bpe_words_init(&w) == 0);
    CHECK(add_words(&w, words, counts, 5) == 0);
    struct bpe_train_opts o;
    bpe_train_opts_default(&o);
    o.vocab_size = 2 + 256 + 3;
    struct bpe_model m;
    char s[512];
    CHECK(bpe_learn(&m, &w, &o, NULL) == 0);
    merges_str(&m, s, sizeof s);
    CHECK_MSG(!strcmp(s, "u g|u n|h ug"), "merges: %s", s);
    bpe_model_free(&m);

    o.vocab_size = 1000;
    o.min_frequency = 12;
    CHECK(bpe_learn(&m, &w, &o, NULL) == 0);
    merges_str(&m, s, sizeof s);
    CHECK_MSG(!strcmp(s, "u g|u n|h ug|p un"), "merges: %s", s);
    bpe_model_free(&m);

    o.vocab_size = 2 + 255;   /* cannot even hold the alphabet */
    o.min_frequency = 0;
    CHECK(bpe_learn(&m, &w, &o, NULL) == -1);
    CHECK_MSG(strstr(olmo_errmsg(), "vocab size 257") != NULL, "message: %s", olmo_errmsg());
    bpe_words_free(&w);
}

/* Overlapping occurrences merge left to right: "aaaa" -> aa aa, "aaa" -> aa a. (a,a) occurs 3 + 2 = 5 times;
 * then (aa,a) and (aa,aa) tie at 1 and the smaller right id (a) wins. */
TEST(bpe_overlapping_pairs) {
    static const char *const words[] = {"aaaa", "aaa"};
    static const uint64_t counts[] = {1, 1};
    struct bpe_model m;
    CHECK_MSG(learn_words(&m, words, counts, 2) == 0, "%s", olmo_errmsg());
    char s[256];
    merges_str(&m, s, sizeof s);
    CHECK_MSG(!strcmp(s, "a a|aa a|aa aa"), "merges: %s", s);
    bpe_model_free(&m);
}

/* Special tokens: custom list, ids in order; a repeated one counts once; invalid UTF-8 or empty is refused. */
TEST(bpe_special_tokens) {
    struct bpe_words w;
    CHECK(bpe_words_init(&w) == 0);
    CHECK(bpe_words_add(&w, "xy", 2, 3) == 0);
    struct bpe_train_opts o;
    bpe_train_opts_default(&o);
    o.vocab_size = 1000;
    const char *sp[] = {"<s>", "</s>", "<s>", "<pad>"};
    o.special = sp;
    o.n_special = 4;
    struct bpe_model m;
    CHECK(bpe_learn(&m, &w, &o, NULL) == 0);
    CHECK_EQ_INT(m.n_special, 3);
    CHECK_EQ_INT(token_id(&m, "<pad>"), 2);
    CHECK_EQ_INT(token_id(&m, "xy"), 3 + 256);
    bpe_model_free(&m);
    /* a merge that builds a special token's string reuses its id (HF keys its vocabulary by string) */
    const char *same[] = {"xy"};
    o.special = same;
    o.n_special = 1;
    CHECK(bpe_learn(&m, &w, &o, NULL) == 0);
    int reused = m.n_merges == 1 && bpe_model_size(&m) == 1 + 256 && token_id(&m, "xy") == 0;
    bpe_model_free(&m);
    CHECK(reused);
    const char *bad[] = {"ok", "\xff\xfe"};
    o.special = bad;
    o.n_special = 2;
    CHECK(bpe_learn(&m, &w, &o, NULL) == -1);
    CHECK_MSG(strstr(olmo_errmsg(), "special token 2") != NULL, "message: %s", olmo_errmsg());
    const char *empty[] = {""};
    o.special = empty;
    o.n_special = 1;
    CHECK(bpe_learn(&m, &w, &o, NULL) == -1);
    bpe_words_free(&w);
}

/* ---- a naive trainer: recount every pair before every merge (the textbook algorithm), same rules ---- */

struct naive {
    char tok[4096][64];    /* token strings (byte-level strings of ASCII letters are the letters) */
    int n_tok;
    int merges[4096][2];
    int n_merges;
};

static int naive_id(struct naive *nv, const char *s) {
    for (int i = 0; i < nv->n_tok; i++)
        if (!strcmp(nv->tok[i], s)) return i;
    size_t n = strlen(s);
    if (n >= sizeof nv->tok[0]) n = sizeof nv->tok[0] - 1;   /* words are shorter than 32 bytes */
    memcpy(nv->tok[nv->n_tok], s, n);
    nv->tok[nv->n_tok][n] = 0;
    return nv->n_tok++;
}

/* words: n_words arrays of symbol ids (modified), counts; runs to completion (every pair merged). */
static void naive_train(struct naive *nv, int (*sym)[32], int *len, const uint64_t *count, int n_words) {
    for (;;) {
        int best_a = -1, best_b = -1;
        uint64_t best = 0;
        for (int a = 0; a < nv->n_tok; a++)
            for (int b = 0; b < nv->n_tok; b++) {
                uint64_t c = 0;
                for (int w = 0; w < n_words; w++)
                    for (int j = 0; j + 1 < len[w]; j++) c += (sym[w][j] == a && sym[w][j + 1] == b) * count[w];
                if (c > best) best = c, best_a = a, best_b = b;   /* strict: the first (smallest a, b) keeps ties */
            }
        if (!best) break;
        char s[128];
        snprintf(s, sizeof s, "%s%s", nv->tok[best_a], nv->tok[best_b]);
        int nt = naive_id(nv, s);
        nv->merges[nv->n_merges][0] = best_a;
        nv->merges[nv->n_merges][1] = best_b;
        nv->n_merges++;
        for (int w = 0; w < n_words; w++) {
            int o = 0;
            for (int i = 0; i < len[w];) {
                if (i + 1 < len[w] && sym[w][i] == best_a && sym[w][i + 1] == best_b) sym[w][o++] = nt, i += 2;
                else sym[w][o++] = sym[w][i++];
            }
            len[w] = o;
        }
    }
    /* a pair merged twice keeps its last rank */
    int n = 0;
    for (int i = 0; i < nv->n_merges; i++) {
        int later = 0;
        for (int j = i + 1; j < nv->n_merges; j++)
            later |= nv->merges[j][0] == nv->merges[i][0] && nv->merges[j][1] == nv->merges[i][1];
        if (!later) nv->merges[n][0] = nv->merges[i][0], nv->merges[n][1] = nv->merges[i][1], n++;
    }
    nv->n_merges = n;
}

/* Random words over a 3-letter alphabet (many ties, overlaps and strings built twice), trained to completion
 * by both trainers: the same vocabulary in the same order and the same merges. */
TEST(bpe_matches_naive_trainer) {
    static struct naive nv;
    uint64_t rng = 12345;
    for (int round = 0; round < 30; round++) {
        int n_words = 3 + round % 10;
        static int sym[16][32];
        int len[16];
        uint64_t count[16];
        char text[16][32];
        struct bpe_words w;
        CHECK(bpe_words_init(&w) == 0);
        memset(&nv, 0, sizeof nv);
        naive_id(&nv, "<|endoftext|>");
        naive_id(&nv, "<|padding|>");
        for (int c = 0x21; c <= 0x7e; c++) {   /* alphabet order for the ASCII part: code point order */
            char s[2] = {(char)c, 0};
            naive_id(&nv, s);
        }
        for (int i = 0; i < n_words; i++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            len[i] = 2 + (int)((rng >> 33) % 12);
            count[i] = 1 + (rng >> 50) % 4;
            for (int j = 0; j < len[i]; j++) {
                rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                text[i][j] = (char)('a' + (rng >> 40) % 3);
            }
            text[i][len[i]] = 0;
            /* a repeated word adds to one count here and is a separate word for the naive trainer: same sums */
            CHECK(bpe_words_add(&w, text[i], (uint32_t)len[i], count[i]) == 0);
            for (int j = 0; j < len[i]; j++) {
                char s[2] = {text[i][j], 0};
                sym[i][j] = naive_id(&nv, s);
            }
        }
        naive_train(&nv, sym, len, count, n_words);
        struct bpe_train_opts o;
        bpe_train_opts_default(&o);
        o.vocab_size = 100000;
        struct bpe_model m;
        int rc = bpe_learn(&m, &w, &o, NULL);
        bpe_words_free(&w);
        CHECK(rc == 0);
        /* the naive vocabulary holds only ASCII bytes: compare merges and learned tokens as strings */
        CHECK_GOTO(m.n_merges == (uint32_t)nv.n_merges, fail);
        for (int i = 0; i < nv.n_merges; i++) {
            for (int side = 0; side < 2; side++) {
                uint32_t id = m.merges[2 * i + side];
                const char *want = nv.tok[nv.merges[i][side]];
                CHECK_GOTO(m.vocab.ents[id].len == strlen(want) &&
                               !memcmp(bpe_strmap_key(&m.vocab, id), want, strlen(want)), fail);
            }
        }
        CHECK_GOTO(bpe_model_size(&m) - 258 == (uint32_t)(nv.n_tok - 2 - 94), fail);
        for (int i = 2 + 94; i < nv.n_tok; i++) {
            uint32_t id = 258 + (uint32_t)(i - 96);
            CHECK_GOTO(m.vocab.ents[id].len == strlen(nv.tok[i]) &&
                           !memcmp(bpe_strmap_key(&m.vocab, id), nv.tok[i], strlen(nv.tok[i])), fail);
        }
        bpe_model_free(&m);
        continue;
    fail:
        th_fail(__FILE__, __LINE__, "round %d differs from the naive trainer", round);
        bpe_model_free(&m);
        return;
    }
}

/* ---- the tokenizer.json ---- */

static int train_small(struct bpe_model *m) {
    static const char *const words[] = {"hug", "pug", "pun", "bun", "hugs", "\"q\\", "\xc3\xa9t\xc3\xa9"};
    static const uint64_t counts[] = {10, 5, 12, 4, 5, 7, 3};
    return learn_words(m, words, counts, 7);
}

TEST(bpe_json_layout) {
    struct bpe_model m;
    CHECK(train_small(&m) == 0);
    char *path = olmo_path_join(th_tmpdir(), "tok.json");
    char *path2 = olmo_path_join(th_tmpdir(), "tok2.json");
    CHECK(path && path2);
    int rc = bpe_model_write_json(&m, path);
    int rc2 = bpe_model_write_json(&m, path2);
    uint32_t n_vocab = bpe_model_size(&m), n_merges = m.n_merges;
    bpe_model_free(&m);
    CHECK(rc == 0 && rc2 == 0);
    size_t n1, n2;
    char *a = olmo_read_file(path, &n1), *b = olmo_read_file(path2, &n2);
    CHECK(a && b);
    int same = n1 == n2 && !memcmp(a, b, n1);
    free(b);
    CHECK(same);
    json_error_t je;
    json_t *root = json_loadb(a, n1, 0, &je);
    free(a);
    CHECK_MSG(root != NULL, "invalid JSON at line %d: %s", je.line, je.text);
    json_t *model = json_object_get(root, "model");
    json_t *vocab = json_object_get(model, "vocab"), *merges = json_object_get(model, "merges");
    json_t *added = json_object_get(root, "added_tokens");
    json_t *pre = json_object_get(root, "pre_tokenizer");
    int ok = json_is_object(vocab) && json_object_size(vocab) == n_vocab && json_array_size(merges) == n_merges &&
             !strcmp(json_string_value(json_object_get(model, "type")), "BPE") && json_array_size(added) == 2 &&
             json_integer_value(json_object_get(vocab, "<|padding|>")) == 1 &&
             json_integer_value(json_object_get(vocab, "\xc4\xa0")) == 2 + 188 + 32 &&
             json_integer_value(json_object_get(vocab, "\"q\\")) > 257 &&       /* escaped correctly */
             json_object_get(vocab, "\xc3\x83\xc2\xa9t\xc3\x83\xc2\xa9") != NULL &&  /* é as byte-level chars */
             !strcmp(json_string_value(json_array_get(merges, 0)), "u g") &&
             json_is_true(json_object_get(json_array_get(added, 0), "special")) &&
             json_is_false(json_object_get(json_array_get(added, 0), "normalized")) &&
             !strcmp(json_string_value(json_object_get(json_array_get(added, 1), "content")), "<|padding|>") &&
             json_is_null(json_object_get(root, "normalizer")) &&
             json_array_size(json_object_get(pre, "pretokenizers")) == 2;
    json_decref(root);
    free(path);
    free(path2);
    CHECK(ok);
}

TEST(bpe_write_error_leaves_nothing) {
    struct bpe_model m;
    CHECK(train_small(&m) == 0);
    char *dir = olmo_path_join(th_tmpdir(), "missing");
    char *path = olmo_path_join(dir, "tok.json");
    int rc = bpe_model_write_json(&m, path);
    bpe_model_free(&m);
    CHECK(rc == -1);
    CHECK(!olmo_file_exists(path));
    CHECK(strstr(olmo_errmsg(), "missing") != NULL);
    free(dir);
    free(path);
}

/* ---- from text: counting, thread-count independence, round trip through the loader ---- */

static const char sample_text[] =
    "The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs!\n"
    "\n"
    "It's 12345 o'clock -- don't you think?  Numbers: 3.14159, 2718, 42.\n"
    "Caf\xc3\xa9 na\xc3\xafve \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x98\x80 tabs\tand\r\nCRLF lines\n"
    "    indented code() { return x + y; }\n"
    "<|endoftext|>the end\n";

static char *write_corpus(const char *name, int copies, size_t *len) {
    size_t one = sizeof sample_text - 1, n = one * (size_t)copies;
    char *buf = olmo_malloc(n + 64 * (size_t)copies);
    if (!buf) return NULL;
    size_t pos = 0;
    for (int i = 0; i < copies; i++) {
        memcpy(buf + pos, sample_text, one);
        pos += one;
        pos += (size_t)sprintf(buf + pos, "line %d of the sample, word%d\n", i, i % 17);
    }
    char *path = olmo_path_join(th_tmpdir(), name);
    if (!path || olmo_write_file_atomic(path, buf, pos) < 0) {
        free(path);
        free(buf);
        return NULL;
    }
    free(buf);
    *len = pos;
    return path;
}

TEST(bpe_counts_lines_like_hf) {
    /* lines keep their "\n"; a blank line is its own "\n" piece rather than joining the previous one */
    struct bpe_words w;
    CHECK(bpe_words_init(&w) == 0);
    const char text[] = "ab ab\n\ncd";
    int rc = bpe_words_add_text(&w, text, sizeof text - 1);
    int64_t i_ab = bpe_strmap_find(&w.map, "ab", 2), i_sab = bpe_strmap_find(&w.map, " ab", 3);
    int64_t i_nl = bpe_strmap_find(&w.map, "\n", 1), i_nn = bpe_strmap_find(&w.map, "\n\n", 2);
    int64_t i_cd = bpe_strmap_find(&w.map, "cd", 2);
    int ok = rc == 0 && i_ab >= 0 && i_sab >= 0 && i_nl >= 0 && i_nn < 0 && i_cd >= 0 && w.map.ents[i_nl].val == 2 &&
             w.map.n == 4 && w.n_bytes == sizeof text - 1;
    bpe_words_free(&w);
    CHECK_MSG(ok, "rc %d, ab %lld, ' ab' %lld, nl %lld, nlnl %lld", rc, (long long)i_ab, (long long)i_sab,
              (long long)i_nl, (long long)i_nn);
}

static int train_files(const char *const *paths, int n, int threads, uint32_t vocab, const char *out) {
    struct bpe_words w;
    if (bpe_words_init(&w) < 0) return -1;
    int rc = bpe_words_add_files(&w, paths, n, threads);
    struct bpe_train_opts o;
    bpe_train_opts_default(&o);
    o.vocab_size = vocab;
    struct bpe_model m;
    if (rc == 0) rc = bpe_learn(&m, &w, &o, NULL);
    bpe_words_free(&w);
    if (rc == 0) {
        rc = bpe_model_write_json(&m, out);
        bpe_model_free(&m);
    }
    return rc;
}

TEST(bpe_same_file_for_any_thread_count) {
    size_t len1, len2;
    char *f1 = write_corpus("c1.txt", 4000, &len1), *f2 = write_corpus("c2.txt", 700, &len2);
    CHECK(f1 && f2);
    const char *files[] = {f1, f2};
    char *o1 = olmo_path_join(th_tmpdir(), "t1.json"), *o3 = olmo_path_join(th_tmpdir(), "t3.json");
    int rc1 = train_files(files, 2, 1, 600, o1), rc3 = train_files(files, 2, 3, 600, o3);
    size_t n1 = 0, n3 = 0;
    char *a = rc1 == 0 ? olmo_read_file(o1, &n1) : NULL, *b = rc3 == 0 ? olmo_read_file(o3, &n3) : NULL;
    int same = a && b && n1 == n3 && !memcmp(a, b, n1);
    free(a);
    free(b);
    free(f1);
    free(f2);
    free(o1);
    free(o3);
    CHECK_MSG(rc1 == 0 && rc3 == 0, "%s", olmo_errmsg());
    CHECK(len1 > (1u << 20));   /* more than one chunk, so the threads really split the work */
    CHECK(same);
}

TEST(bpe_missing_file_is_an_error) {
    const char *files[] = {"/nonexistent/corpus.txt"};
    struct bpe_words w;
    CHECK(bpe_words_init(&w) == 0);
    int rc = bpe_words_add_files(&w, files, 1, 2);
    bpe_words_free(&w);
    CHECK(rc == -1);
    CHECK_MSG(strstr(olmo_errmsg(), "/nonexistent/corpus.txt") != NULL, "message: %s", olmo_errmsg());
}

/* Train, load the result with the tokenizer loader, encode and decode text (also invalid UTF-8) back to itself;
 * special tokens in the text map to their ids; frequent words became single tokens. */
TEST(bpe_round_trip_through_loader) {
    size_t len;
    char *f = write_corpus("rt.txt", 200, &len);
    CHECK(f);
    const char *files[] = {f};
    char *out = olmo_path_join(th_tmpdir(), "rt.json");
    int rc = train_files(files, 1, 2, 500, out);
    free(f);
    CHECK_MSG(rc == 0, "%s", olmo_errmsg());
    struct olmo_tokenizer *tok = tok_load(out);
    free(out);
    CHECK_MSG(tok != NULL, "tok_load: %s", olmo_errmsg());
    CHECK_EQ_INT(tok_vocab_size(tok), 500);
    CHECK_EQ_INT(tok_token_to_id(tok, "<|endoftext|>"), 0);
    CHECK_EQ_INT(tok_token_to_id(tok, "<|padding|>"), 1);
    CHECK(tok_is_special(tok, 0) && tok_is_special(tok, 1));
    CHECK(tok_token_to_id(tok, "\xc4\xa0" "fox") >= 258);   /* " fox" learned as one token */

    const char *texts[] = {"The lazy fox<|endoftext|>jumps over 12345 dogs!\n", sample_text,
                           "bytes \xff\xfe\xc3 not UTF-8 \xe6\x97", "unseen: zebra quixotic \xe2\x82\xac"};
    for (int t = 0; t < 4; t++) {
        int32_t *ids = NULL;
        size_t n = 0;
        size_t tl = strlen(texts[t]);
        CHECK_GOTO(tok_encode(tok, texts[t], tl, 0, &ids, &n) == 0, fail);
        /* byte-for-byte through tok_token_bytes (decode would replace invalid UTF-8 with U+FFFD) */
        char *back = olmo_malloc(tl + 1);
        size_t pos = 0;
        int ok = back != NULL;
        for (size_t i = 0; ok && i < n; i++) {
            int k = tok_token_bytes(tok, ids[i], back + pos, tl + 1 - pos);
            ok = k >= 0 && pos + (size_t)k <= tl;
            pos += ok ? (size_t)k : 0;
        }
        ok = ok && pos == tl && !memcmp(back, texts[t], tl);
        if (t == 0) {
            int has_eot = 0;
            for (size_t i = 0; i < n; i++) has_eot |= ids[i] == 0;
            ok = ok && has_eot;
        }
        if (t == 1) {   /* valid UTF-8: tok_decode gives the text back too */
            char *d = tok_decode(tok, ids, n, 0, NULL);
            ok = ok && d && !strcmp(d, texts[t]);
            free(d);
        }
        free(back);
        free(ids);
        CHECK_GOTO(ok, fail);
    }
    tok_free(tok);
    return;
fail:
    tok_free(tok);
}

/* Invalid UTF-8 in the corpus is trained on byte for byte (HF's trainer would refuse the file): frequent invalid
 * byte pairs become tokens and round-trip. An empty corpus gives the bare alphabet. */
TEST(bpe_invalid_utf8_and_empty_corpus) {
    struct bpe_words w;
    CHECK(bpe_words_init(&w) == 0);
    const char text[] = "ok \xff\xfe\xff\xfe ok\n\xc3( \xff\xfe\xff\xfe\n\xe6\x97 \xff\xfe\xff\xfe\n";
    int rc = bpe_words_add_text(&w, text, sizeof text - 1);
    struct bpe_train_opts o;
    bpe_train_opts_default(&o);
    o.vocab_size = 1000;
    struct bpe_model m;
    if (rc == 0) rc = bpe_learn(&m, &w, &o, NULL);
    bpe_words_free(&w);
    CHECK_MSG(rc == 0, "%s", olmo_errmsg());
    /* " \xff\xfe\xff\xfe" is one piece (invalid bytes are "other" characters), written "Ġÿþÿþ" */
    int64_t id = token_id(&m, "\xc4\xa0\xc3\xbf\xc3\xbe\xc3\xbf\xc3\xbe");
    char *path = olmo_path_join(th_tmpdir(), "inv.json");
    int wrc = bpe_model_write_json(&m, path);
    bpe_model_free(&m);
    CHECK(id >= 258);
    CHECK(wrc == 0);
    struct olmo_tokenizer *tok = tok_load(path);
    free(path);
    CHECK_MSG(tok != NULL, "%s", olmo_errmsg());
    int32_t *ids = NULL;
    size_t n = 0;
    const char in[] = " \xff\xfe\xff\xfe";
    rc = tok_encode(tok, in, 5, 0, &ids, &n);
    int ok = rc == 0 && n == 1 && ids[0] == id;
    free(ids);
    tok_free(tok);
    CHECK(ok);

    CHECK(bpe_words_init(&w) == 0);
    rc = bpe_learn(&m, &w, &o, NULL);
    bpe_words_free(&w);
    CHECK(rc == 0);
    uint32_t size = bpe_model_size(&m), merges = m.n_merges;
    bpe_model_free(&m);
    CHECK_EQ_INT(size, 258);
    CHECK_EQ_INT(merges, 0);
}
