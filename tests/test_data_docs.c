/* test_data_docs.c — the documents layer: JSONL round trips through plain/.gz/.zst, Dolma's format fixtures,
 * bad lines (fail with file:line, or skip with a count), broken compression, atomic output, Python float repr,
 * the attributes path rule, glob expansion and code-point offsets. */
#include "harness.h"

#include "base/error.h"
#include "base/file.h"
#include "data/docs.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *tmp_path(const char *name) { return olmo_path_join(th_tmpdir(), name); }

static int write_docs(const char *path, const char *const *lines, int n) {
    struct docs_writer *w = docs_writer_open(path);
    if (!w) return -1;
    for (int i = 0; i < n; i++)
        if (docs_writer_line(w, lines[i], strlen(lines[i]))) { docs_writer_abort(w); return -1; }
    return docs_writer_commit(w);
}

static const char *const k_lines[] = {
    "{\"id\":\"a\",\"text\":\"héllo\\nworld\",\"source\":\"s\",\"metadata\":{\"url\":\"u\"}}",
    "{\"text\":\"nul\\u0000inside\",\"id\":\"b\",\"added\":\"2023\"}",
};

TEST(docs_round_trip_codecs) {
    const char *names[] = {"x.jsonl", "x.json.gz", "x.jsonl.zst"};
    for (int c = 0; c < 3; c++) {
        char *p = tmp_path(names[c]);
        CHECK(write_docs(p, k_lines, 2) == 0);
        struct docs_reader *r = docs_reader_open(p);
        CHECK(r);
        struct docs_doc d = {0};
        CHECK(docs_reader_next(r, &d) == 1);
        CHECK(!strcmp(d.id, "a") && d.text_len == 12 && !strcmp(d.source, "s") && d.metadata && d.line == 1);
        CHECK(docs_reader_next(r, &d) == 1);
        CHECK(!strcmp(d.id, "b") && d.text_len == 10 && d.text[3] == 0 && !d.source && !strcmp(d.added, "2023"));
        CHECK(docs_reader_next(r, &d) == 0);
        docs_reader_close(r);
        free(p);
    }
}

TEST(docs_codec_by_extension) {
    CHECK(docs_codec_of("a/b.json.gz") == DOCS_GZIP);
    CHECK(docs_codec_of("a/b.jsonl.zst") == DOCS_ZSTD);
    CHECK(docs_codec_of("a/b.zstd") == DOCS_ZSTD);
    CHECK(docs_codec_of("a/b.json.gz.tmp") == DOCS_GZIP);
    CHECK(docs_codec_of("a.gz/b.jsonl") == DOCS_PLAIN);
    CHECK(docs_codec_of("noext") == DOCS_PLAIN);
}

TEST(docs_dolma_format_fixtures) {
    const char *names[] = {"dolma/tests/data/formats/test.jsonl", "dolma/tests/data/formats/test.jsonl.gz",
                           "dolma/tests/data/formats/test.jsonl.zst"};
    for (int i = 0; i < 3; i++) {
        char buf[512];
        const char *p = th_shared(names[i], buf, sizeof buf);
        if (!p) SKIP("../shared/data/dolma not found");
        struct docs_lines *l = docs_lines_open(p);
        CHECK(l);
        char *line;
        size_t len;
        CHECK(docs_lines_next(l, &line, &len) == 1);
        CHECK_MSG(!strcmp(line, "{\"message\": \"this is a test\"}"), "%s: got %s", p, line);
        CHECK(docs_lines_next(l, &line, &len) == 0);
        docs_lines_close(l);
    }
    char buf[512];
    const char *p = th_shared("dolma/tests/data/provided/documents/000.json.gz", buf, sizeof buf);
    if (!p) SKIP("provided documents not found");
    struct docs_reader *r = docs_reader_open(p);
    CHECK(r);
    struct docs_doc d = {0};
    int n = 0, rc;
    while ((rc = docs_reader_next(r, &d)) > 0) n++;
    CHECK(rc == 0);
    CHECK_EQ_INT(n, 10);
    docs_reader_close(r);
}

TEST(docs_bad_lines_fail_or_skip) {
    const char *lines[] = {"{\"id\":\"a\",\"text\":\"ok\"}", "{\"id\":1,\"text\":\"int id\"}", "not json",
                           "{\"id\":\"c\"}", "[1]", "{\"id\":\"d\",\"text\":\"ok\"}"};
    char *p = tmp_path("bad.jsonl");
    CHECK(write_docs(p, lines, 6) == 0);
    struct docs_reader *r = docs_reader_open(p);
    struct docs_doc d = {0};
    CHECK(docs_reader_next(r, &d) == 1);
    CHECK(docs_reader_next(r, &d) == -1);
    CHECK_MSG(strstr(olmo_errmsg(), "bad.jsonl:2") && strstr(olmo_errmsg(), "an integer"), "%s", olmo_errmsg());
    docs_reader_close(r);
    r = docs_reader_open(p);
    docs_reader_set_skip(r, 1);
    int n = 0;
    while (docs_reader_next(r, &d) > 0) n++;
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(r->skipped, 4);
    docs_reader_close(r);
    /* invalid UTF-8 in a plain file */
    CHECK(olmo_write_file_atomic(p, "{\"id\":\"x\",\"text\":\"\xff\"}\n", 22) == 0);
    r = docs_reader_open(p);
    CHECK(docs_reader_next(r, &d) == -1);
    CHECK_MSG(strstr(olmo_errmsg(), "bad.jsonl:1"), "%s", olmo_errmsg());
    docs_reader_close(r);
    free(p);
}

TEST(docs_broken_compression) {
    char *gz = tmp_path("t.json.gz"), *zs = tmp_path("t.json.zst"), *bad = tmp_path("e.json.gz");
    const char *lines[] = {"{\"id\":\"a\",\"text\":\"some text that is long enough to be compressed a bit\"}"};
    CHECK(write_docs(gz, lines, 1) == 0 && write_docs(zs, lines, 1) == 0);
    const char *files[] = {gz, zs};
    for (int i = 0; i < 2; i++) {
        size_t n;
        char *data = olmo_read_file(files[i], &n);
        CHECK(data && n > 12);
        CHECK(olmo_write_file_atomic(files[i], data, n - 6) == 0);   /* truncate */
        free(data);
        struct docs_reader *r = docs_reader_open(files[i]);
        struct docs_doc d = {0};
        int rc;
        while ((rc = docs_reader_next(r, &d)) > 0) {}
        CHECK_MSG(rc == -1 && strstr(olmo_errmsg(), "truncated"), "%s: rc %d %s", files[i], rc, olmo_errmsg());
        docs_doc_clear(&d);
        docs_reader_close(r);
    }
    const char *cases[][2] = {{"", "empty"}, {"plain text\n", "bad gzip"}};
    for (int i = 0; i < 2; i++) {
        CHECK(olmo_write_file_atomic(bad, cases[i][0], strlen(cases[i][0])) == 0);
        struct docs_reader *r = docs_reader_open(bad);
        struct docs_doc d = {0};
        CHECK(docs_reader_next(r, &d) == -1);
        CHECK_MSG(strstr(olmo_errmsg(), cases[i][1]) && strstr(olmo_errmsg(), "e.json.gz"), "%s", olmo_errmsg());
        docs_reader_close(r);
    }
    free(gz), free(zs), free(bad);
}

TEST(docs_writer_atomic) {
    char *p = tmp_path("sub/dir/out.json.gz");
    struct docs_writer *w = docs_writer_open(p);
    CHECK(w);
    CHECK(docs_writer_line(w, "{}", 2) == 0);
    CHECK(!olmo_file_exists(p));   /* not under its final name before commit */
    docs_writer_abort(w);
    CHECK(!olmo_file_exists(p));
    free(p);
}

static int repr_is(double x, const char *want) {
    struct docs_buf b = {0};
    docs_buf_py_float(&b, x);
    int ok = !strcmp(b.data, want);
    if (!ok) fprintf(stderr, "repr(%.17g) = %s, want %s\n", x, b.data, want);
    docs_buf_free(&b);
    return ok;
}

TEST(docs_python_float_repr) {
    CHECK(repr_is(1.0, "1.0"));
    CHECK(repr_is(0.5, "0.5"));
    CHECK(repr_is(0.1, "0.1"));
    CHECK(repr_is(1e-05, "1e-05"));
    CHECK(repr_is(0.0001, "0.0001"));
    CHECK(repr_is(123456.0, "123456.0"));
    CHECK(repr_is(1e16, "1e+16"));
    CHECK(repr_is(1.5e16, "1.5e+16"));
    CHECK(repr_is(-2.25, "-2.25"));
    CHECK(repr_is(0.0, "0.0"));
    CHECK(repr_is(1.0 / 3.0, "0.3333333333333333"));
    CHECK(repr_is(docs_round5(1.0 / 3.0), "0.33333"));
    CHECK(repr_is(docs_round5(2.0 / 3.0), "0.66667"));
    CHECK(repr_is(docs_round5(0.000004), "0.0"));
    CHECK(repr_is(docs_round5(0.000005), "1e-05"));
}

TEST(docs_json_string_escapes) {
    struct docs_buf b = {0};
    docs_buf_json_string(&b, "a\"b\\c\n\x01é\0z", 11);
    CHECK_MSG(!strcmp(b.data, "\"a\\\"b\\\\c\\n\\u0001é\\u0000z\""), "%s", b.data);
    docs_buf_free(&b);
}

TEST(docs_attributes_path_rule) {
    char *p = docs_attributes_path("data/documents/*.json.gz", "data/documents/x.json.gz", "exp", NULL);
    CHECK_MSG(p && !strcmp(p, "data/attributes/exp/x.json.gz"), "%s", p ? p : olmo_errmsg());
    free(p);
    p = docs_attributes_path("/d/documents/cc/**/*.gz", "/d/documents/cc/a/b/x.gz", "e", NULL);
    CHECK_MSG(p && !strcmp(p, "/d/attributes/e/cc/a/b/x.gz"), "%s", p ? p : olmo_errmsg());
    free(p);
    p = docs_attributes_path("d/documents/x.gz", "d/documents/x.gz", "e", NULL);
    CHECK_MSG(p && !strcmp(p, "d/attributes/e/x.gz"), "%s", p ? p : olmo_errmsg());
    free(p);
    p = docs_attributes_path("d/docs/*.gz", "d/docs/x.gz", "e", "out");
    CHECK_MSG(p && !strcmp(p, "out/e/x.gz"), "%s", p ? p : olmo_errmsg());
    free(p);
    p = docs_attributes_path("d/mydocuments/*.gz", "d/mydocuments/x.gz", "e", NULL);
    CHECK(!p && strstr(olmo_errmsg(), "documents"));
}

TEST(docs_glob_expansion) {
    const char *dir = th_tmpdir();
    const char *rel[] = {"g/documents/b.json.gz", "g/documents/a.json.gz", "g/documents/sub/c.json.gz",
                         "g/documents/sub/d.txt"};
    for (int i = 0; i < 4; i++) {
        char *p = olmo_path_join(dir, rel[i]);
        const char *l[] = {"{}"};
        CHECK(write_docs(p, l, 1) == 0);
        free(p);
    }
    char pat[1024];
    size_t n;
    snprintf(pat, sizeof pat, "%s/g/documents/*.json.gz", dir);
    char **v = docs_glob(pat, &n);
    CHECK(v && n == 2 && strstr(v[0], "a.json.gz") && strstr(v[1], "b.json.gz"));
    docs_paths_free(v);
    snprintf(pat, sizeof pat, "%s/g/documents/**/*.json.gz", dir);
    v = docs_glob(pat, &n);
    CHECK(v && n == 3 && strstr(v[2], "sub/c.json.gz"));
    docs_paths_free(v);
    snprintf(pat, sizeof pat, "%s/g/documents/[ab].json.g?", dir);
    v = docs_glob(pat, &n);
    CHECK(v && n == 2);
    docs_paths_free(v);
    snprintf(pat, sizeof pat, "%s/g/documents/*.zst", dir);
    CHECK(!docs_glob(pat, &n) && strstr(olmo_errmsg(), "no file matching"));
}

TEST(docs_code_point_offsets) {
    const char *t = "aé€😀b";   /* 1 + 2 + 3 + 4 + 1 bytes */
    size_t len = strlen(t);
    CHECK_EQ_INT(docs_cp_count(t, len), 5);
    struct docs_cpmap m;
    CHECK(docs_cpmap_init(&m, t, len) == 0);
    CHECK_EQ_INT(docs_cpmap_get(&m, 0), 0);
    CHECK_EQ_INT(docs_cpmap_get(&m, 1), 1);
    CHECK_EQ_INT(docs_cpmap_get(&m, 3), 2);
    CHECK_EQ_INT(docs_cpmap_get(&m, 6), 3);
    CHECK_EQ_INT(docs_cpmap_get(&m, 10), 4);
    CHECK_EQ_INT(docs_cpmap_get(&m, 11), 5);
    docs_cpmap_free(&m);
    CHECK(docs_cpmap_init(&m, "abc", 3) == 0 && m.cp_at == NULL && docs_cpmap_get(&m, 2) == 2);
}
