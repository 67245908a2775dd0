/* fuzz_docs.c — libFuzzer target for the documents layer: any bytes, read as a plain / gzip / zstd JSONL file
 * (the first byte picks the codec), either give documents or a refusal with a message, never a crash; every
 * document's shared text analysis (str.split words, lines, paragraphs, lowercase, code-point map) stays inside
 * the text and agrees with the code-point count. Built by `make fuzz` (seeds: fuzz/seeds/docs/). */
#include "data/docs.h"
#include "data/tag_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void check_ranges(const struct tag_range *r, size_t n, size_t len) {
    for (size_t i = 0; i < n; i++)
        if (r[i].start > r[i].end || r[i].end > len || (i && r[i].start < r[i - 1].end)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    static const char *const ext[3] = {"jsonl", "json.gz", "jsonl.zst"};
    char path[96];
    snprintf(path, sizeof path, "/tmp/fuzz_docs.%d.%s", (int)getpid(), ext[data[0] % 3]);
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data + 1, 1, size - 1, f);
    fclose(f);
    struct docs_reader *r = docs_reader_open(path);
    if (!r) return 0;
    docs_reader_set_skip(r, data[0] & 4);
    struct docs_doc d = {0};
    struct tag_text t = {0};
    struct docs_buf b = {0};
    while (docs_reader_next(r, &d) > 0) {
        if (!d.id || !d.text) abort();
        if (tag_text_reset(&t, d.text, d.text_len) != 0) continue;
        if (t.ncp != docs_cp_count(d.text, d.text_len)) abort();
        size_t n, ll;
        const struct tag_range *w = tag_text_words(&t, &n);
        if (w) check_ranges(w, n, d.text_len);
        if ((w = tag_text_lines(&t, &n))) check_ranges(w, n, d.text_len);
        if ((w = tag_text_paragraphs(&t, &n))) check_ranges(w, n, d.text_len);
        if (!tag_text_lower(&t, &ll) || ll > 2 * d.text_len) abort();
        if (tag_text_cp(&t, d.text_len) != t.ncp) abort();
        b.len = 0;
        docs_buf_json_string(&b, d.text, d.text_len);
        docs_buf_py_float(&b, (double)d.text_len / 3.0);
    }
    docs_doc_clear(&d);
    docs_reader_close(r);
    tag_text_free(&t);
    docs_buf_free(&b);
    unlink(path);
    return 0;
}
