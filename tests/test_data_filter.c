/* test_data_filter.c — the JSONPath subset, jq (plain-path walker and libjq), truthiness, and span replacement,
 * on hand-built documents with known answers. */
#include "harness.h"

#include "base/error.h"
#include "data/filter.h"
#include "data/jsonpath.h"
#include "data/spans.h"

#include <stdlib.h>
#include <string.h>

static json_t *doc(const char *s) { return json_loads(s, 0, NULL); }

static int jp_match(const char *expr, json_t *d) {
    struct jpath *p = jpath_compile(expr);
    if (!p) return -1;
    int m = jpath_matches(p, d);
    jpath_free(p);
    return m;
}

TEST(jsonpath_filters_as_dolma_configs_write_them) {
    json_t *d = doc("{\"id\":\"a\",\"metadata\":{\"length\":333,\"url\":\"u\"},\"attributes\":{\"toxicity\":0.9,"
                    "\"pii\":{\"too_much_pii\":true},\"r\":[[0,10,0.3]],\"e\":[],\"x y\":[[0,1,1]]}}");
    CHECK(d);
    CHECK_EQ_INT(jp_match("$.metadata[?(@.length < 500)]", d), 1);
    CHECK_EQ_INT(jp_match("$.metadata[?(@.length < 300)]", d), 0);
    CHECK_EQ_INT(jp_match("$.attributes[?(@.pii.too_much_pii == true)]", d), 1);
    CHECK_EQ_INT(jp_match("$.attributes[?(@.toxicity > 0.8)]", d), 1);
    CHECK_EQ_INT(jp_match("$.attributes[?(@.toxicity >= 0.95)]", d), 0);
    CHECK_EQ_INT(jp_match("$.attributes[?(@.r[0][2] < 0.5)]", d), 1);
    CHECK_EQ_INT(jp_match("$.attributes[?(@.r[0][-1] < 0.3)]", d), 0);
    CHECK_EQ_INT(jp_match("$.attributes[?(@.dummy && @.dummy[0] && @.dummy[0][2] > 0.5)]", d), 0);
    CHECK_EQ_INT(jp_match("$.attributes[?(@.dummy[0][2] > 0.5)]", d), 0); /* missing: false, no crash */
    CHECK_EQ_INT(jp_match("$.attributes[?(@.e && @.e[0])]", d), 0);
    CHECK_EQ_INT(jp_match("$.attributes[?(!@.e[0] || @.toxicity < 0.1)]", d), 1);
    CHECK_EQ_INT(jp_match("$@.attributes[?(@['x y'][0][2] == 1)]", d), 1);
    CHECK_EQ_INT(jp_match("$.attributes[?((@.toxicity > 0.5 && @.r) || @.nope)]", d), 1);
    CHECK_EQ_INT(jp_match("$.id", d), 1);
    CHECK_EQ_INT(jp_match("$.nope", d), 0);
    struct jpath *p = jpath_compile("$.metadata.url");
    CHECK(p && json_is_string(jpath_select(p, d)) && !strcmp(json_string_value(jpath_select(p, d)), "u"));
    jpath_free(p);
    /* syntax errors name the expression and the column */
    CHECK(jpath_compile("$.attributes[?(@.x > )]") == NULL && strstr(olmo_errmsg(), "column"));
    CHECK(jpath_compile("attributes") == NULL && strstr(olmo_errmsg(), "'$'"));
    CHECK(jpath_compile("$.a[?(@.x > 1]") == NULL);
    json_decref(d);
}

static int jq_eval(const char *expr, json_t *d, int force, int *n, int *t) {
    struct dfilter *f = dfilter_compile(expr, DFILTER_JQ);
    if (!f) return -2;
    if (force) dfilter_force_libjq(f);
    int rc = dfilter_eval(f, d, n, t);
    dfilter_free(f);
    return rc;
}

TEST(jq_walker_and_libjq_agree) {
    json_t *d = doc("{\"text\":\"hello world\",\"attributes\":{\"pii\":{\"email\":[[1,3,0.8]]},"
                    "\"dd\":[[0,5,1.0],[6,11,0.5]],\"cnt\":[[0,11,7]],\"z\":0,\"s\":\"\"}}");
    const char *exprs[] = {".attributes.pii.email", ".attributes?.pii?.email?", ".attributes.nope", ".attributes.z",
                           ".attributes.s", ".attributes.cnt[0][-1]", ".text"};
    int want[] = {1, 1, 0, 0, 0, 1, 1};
    for (size_t i = 0; i < sizeof exprs / sizeof exprs[0]; i++) {
        int n1, t1, n2, t2;
        CHECK_MSG(jq_eval(exprs[i], d, 0, &n1, &t1) == 0, "%s: %s", exprs[i], olmo_errmsg());
        CHECK_MSG(jq_eval(exprs[i], d, 1, &n2, &t2) == 0, "%s (libjq): %s", exprs[i], olmo_errmsg());
        CHECK_MSG(n1 == 1 && n2 == 1 && t1 == want[i] && t2 == want[i], "%s: walker %d/%d libjq %d/%d want %d",
                  exprs[i], n1, t1, n2, t2, want[i]);
    }
    int n, t;
    /* Dolma's v1.7 duplicated-fraction filter and the PII count rule: libjq programs */
    CHECK(jq_eval("(.attributes.dd | length == 0) or ((.attributes.dd | map(.[2] * (.[1] - .[0])) | add) / "
                  "(.text | length) <= 0.3)", d, 0, &n, &t) == 0 && n == 1 && t == 0);
    CHECK(jq_eval(".attributes.cnt[0][-1] > 5", d, 0, &n, &t) == 0 && n == 1 && t == 1);
    CHECK(jq_eval(".attributes.dd[] | .[2] > 0.7", d, 0, &n, &t) == 0 && n == 2 && t == 1);
    CHECK(jq_eval("empty", d, 0, &n, &t) == 0 && n == 0);
    /* a type error is jq's error, from the walker too (it defers) */
    CHECK(jq_eval(".text.x", d, 0, &n, &t) == -1 && strstr(olmo_errmsg(), ".text.x"));
    CHECK(jq_eval(".text.x?", d, 0, &n, &t) == 0 && n == 0);
    CHECK(jq_eval(".attributes | (", d, 0, &n, &t) == -2 && strstr(olmo_errmsg(), "compile"));
    struct dfilter *f = dfilter_compile(".attributes?.pii?.email?", DFILTER_JQ);
    json_t *sel = NULL;
    CHECK(dfilter_select(f, d, &sel) == 0 && json_is_array(sel) && json_array_size(sel) == 1);
    json_decref(sel);
    dfilter_free(f);
    json_decref(d);
}

static char *apply(const char *text, struct span_repl *s, size_t n) {
    char *out;
    size_t len;
    if (spans_apply(text, strlen(text), s, n, &out, &len)) return NULL;
    return out;
}
#define R(a, b, r) {a, b, r, sizeof(r) - 1}

TEST(span_replacement_edges) {
    struct span_repl a[] = {R(6, 11, "[{}]")};
    char *o = apply("hello world!", a, 1);
    CHECK(o && !strcmp(o, "hello [world]!"));
    free(o);
    struct span_repl b[] = {R(6, 12, "<{}>")}; /* a span ending at the end of the text */
    o = apply("hello world!", b, 1);
    CHECK(o && !strcmp(o, "hello <world!>"));
    free(o);
    struct span_repl c[] = {R(0, 5, "X"), R(5, 6, "_"), R(2, 9, "lost")}; /* adjacent + overlapping: dropped */
    o = apply("hello world!", c, 3);
    CHECK_MSG(o && !strcmp(o, "X_world!"), "got '%s'", o ? o : "(null)");
    free(o);
    struct span_repl d[] = {R(1, 3, "")}; /* code points, not bytes: é and ü are 2 bytes each */
    o = apply("aéüz", d, 1);
    CHECK(o && !strcmp(o, "az"));
    free(o);
    struct span_repl e[] = {R(2, 2, "|")}; /* zero-length: deletes the character there */
    o = apply("abcd", e, 1);
    CHECK_MSG(o && !strcmp(o, "ab|d"), "got '%s'", o ? o : "(null)");
    free(o);
    struct span_repl f[] = {R(3, 1, "")};
    CHECK(apply("abcd", f, 1) == NULL && strstr(olmo_errmsg(), "start <= end"));
    struct span_repl g[] = {R(8, 9, "x")}; /* beyond the text: nothing happens */
    o = apply("abcd", g, 1);
    CHECK(o && !strcmp(o, "abcd"));
    free(o);
}
