/* test_tokenizer_vectors.c — conformance with Hugging Face `tokenizers` 0.23.2 on the shared vectors.
 *
 * Every item of every file in ../shared/data/tokenizer-vectors/vectors/ (<tokenizer>__<input>.jsonl, objects
 * {"text", "ids"} produced by the HF library) must encode to exactly its ids, and decode(ids) must give back
 * the text — NFC-normalized text for the NeoX files (whose normalizer is NFC), as HF's decode does; the HF
 * decode itself is compared in tests/tokenizer_hf.test.sh. golden_encodings.jsonl adds add_special_tokens=True
 * and HF's decoded strings. Skips, saying so, when the shared data is absent. */
#include "harness.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"
#include "base/error.h"
#include "base/file.h"

#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char *TOKS[] = {"allenai_dolma2", "allenai_gpt-neox-olmo-dolma-v1_5",
                             "allenai_eleuther-ai-gpt-neox-20b-pii-special"};

static struct olmo_tokenizer *load_shared(const char *name) {
    char rel[256], buf[4096];
    snprintf(rel, sizeof rel, "tokenizers/%s.json", name);
    const char *p = th_shared(rel, buf, sizeof buf);
    return p ? tok_load(p) : NULL;
}

/* Checks one vector file; returns the number of items, counts mismatches into *bad (first one described). */
static long check_file(struct olmo_tokenizer *tok, int nfc, const char *path, long *bad, char *first, size_t fl) {
    size_t len;
    char *data = olmo_read_file(path, &len);
    if (!data) { snprintf(first, fl, "cannot read %.200s", path); (*bad)++; return 0; }
    long items = 0;
    char *line = data;
    while (line < data + len) {
        char *nl = memchr(line, '\n', (size_t)(data + len - line));
        size_t ll = nl ? (size_t)(nl - line) : (size_t)(data + len - line);
        if (ll == 0) { line = nl ? nl + 1 : data + len; continue; }
        json_error_t err;
        json_t *o = json_loadb(line, ll, JSON_ALLOW_NUL, &err);
        items++;
        const json_t *text = json_object_get(o, "text"), *ids = json_object_get(o, "ids");
        if (!json_is_string(text) || !json_is_array(ids)) {
            if (!*bad) snprintf(first, fl, "%.200s item %ld: unreadable (%s)", path, items, err.text);
            (*bad)++;
        } else {
            const char *s = json_string_value(text);
            size_t sl = json_string_length(text);
            int32_t *got = NULL;
            size_t n = 0;
            int ok = tok_encode(tok, s, sl, 0, &got, &n) == 0 && n == json_array_size(ids);
            for (size_t i = 0; ok && i < n; i++) ok = got[i] == json_integer_value(json_array_get(ids, i));
            if (!ok) {
                if (!*bad) {
                    int w = snprintf(first, fl, "%.200s item %ld %.60s: expected %zu ids, got %zu:", path, items, s,
                                     json_array_size(ids), n);
                    for (size_t i = 0; i < n && i < 12 && w < (int)fl - 16; i++) w += snprintf(first + w, fl - (size_t)w, " %d", got[i]);
                }
                (*bad)++;
            } else {
                /* decode gives back the (normalized) text */
                size_t dl, el = sl;
                char *dec = tok_decode(tok, got, n, 0, &dl);
                char *exp = nfc ? uc_normalize(UC_NORM_NFC, s, sl, &el) : NULL;
                const char *e = exp ? exp : s;
                if (!dec || dl != el || memcmp(dec, e, dl)) {
                    if (!*bad) snprintf(first, fl, "%.200s item %ld: decode differs: \"%.60s\"", path, items, dec ? dec : "(null)");
                    (*bad)++;
                }
                free(dec);
                free(exp);
            }
            free(got);
        }
        json_decref(o);
        line = nl ? nl + 1 : data + len;
    }
    free(data);
    return items;
}

static void check_tokenizer(int which) {
    char buf[1024], first[1024] = "";
    const char *dir = th_shared("tokenizer-vectors/vectors", buf, sizeof buf);
    if (!dir) SKIP("../shared/data/tokenizer-vectors/vectors not found (set OLMO_SHARED_DATA)");
    struct olmo_tokenizer *tok = load_shared(TOKS[which]);
    CHECK_MSG(tok, "loading %s: %s", TOKS[which], olmo_errmsg());
    DIR *d = opendir(dir);
    CHECK(d);
    long items = 0, bad = 0, files = 0;
    struct dirent *de;
    size_t pl = strlen(TOKS[which]);
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, TOKS[which], pl) || strncmp(de->d_name + pl, "__", 2)) continue;
        char path[2400];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        items += check_file(tok, which != 0, path, &bad, first, sizeof first);
        files++;
    }
    closedir(d);
    tok_free(tok);
    fprintf(stderr, "%s: %ld files, %ld items, %ld mismatches\n", TOKS[which], files, items, bad);
    CHECK_MSG(files > 0, "no vector files for %s", TOKS[which]);
    CHECK_MSG(bad == 0, "%ld of %ld items differ; first: %s", bad, items, first);
}

TEST(tok_vectors_dolma2) { check_tokenizer(0); }
TEST(tok_vectors_neox_v1_5) { check_tokenizer(1); }
TEST(tok_vectors_neox_pii_special) { check_tokenizer(2); }

/* golden_encodings.jsonl: add_special_tokens=True ids and HF's decode(ids, skip_special_tokens=False). */
TEST(tok_golden_encodings_special_and_decode) {
    char buf[1024];
    const char *path = th_shared("tokenizers/golden_encodings.jsonl", buf, sizeof buf);
    if (!path) SKIP("../shared/data/tokenizers/golden_encodings.jsonl not found");
    size_t len;
    char *data = olmo_read_file(path, &len);
    CHECK(data);
    struct olmo_tokenizer *toks[3] = {0};
    long items = 0, bad = 0;
    char first[512] = "";
    for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
        json_t *o = json_loads(line, JSON_ALLOW_NUL, NULL);
        const char *tn = json_string_value(json_object_get(o, "tokenizer"));
        const json_t *text = json_object_get(o, "text"), *ids = json_object_get(o, "ids"),
                     *dec = json_object_get(o, "decoded_skip_special_false");
        int w = -1;
        for (int k = 0; k < 3 && tn; k++)
            if (!strncmp(tn, TOKS[k], strlen(TOKS[k])) && !strcmp(tn + strlen(TOKS[k]), ".json")) w = k;
        if (w < 0 || !json_is_string(text) || !json_is_array(ids) || !json_is_string(dec)) { json_decref(o); bad++; continue; }
        if (!toks[w]) toks[w] = load_shared(TOKS[w]);
        items++;
        int32_t *got = NULL;
        size_t n = 0;
        int ok = toks[w] && !tok_encode(toks[w], json_string_value(text), json_string_length(text), 1, &got, &n) &&
                 n == json_array_size(ids);
        for (size_t i = 0; ok && i < n; i++) ok = got[i] == json_integer_value(json_array_get(ids, i));
        if (ok) {
            size_t dl;
            char *d = tok_decode(toks[w], got, n, 0, &dl);
            ok = d && dl == json_string_length(dec) && !memcmp(d, json_string_value(dec), dl);
            free(d);
        }
        if (!ok && !bad) snprintf(first, sizeof first, "%s: \"%.60s\"", tn, json_string_value(text));
        bad += !ok;
        free(got);
        json_decref(o);
    }
    for (int k = 0; k < 3; k++) tok_free(toks[k]);
    free(data);
    CHECK_MSG(items > 60, "only %ld golden items", items);
    CHECK_MSG(bad == 0, "%ld of %ld golden items differ; first: %s", bad, items, first);
}
