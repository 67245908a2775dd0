/* fuzz_data_filter.c — libFuzzer target for the mixer's expression parsers (src/data/jsonpath.c): the input is
 * compiled as a JSONPath filter and as a jq path, and whatever compiles is evaluated on a document with nested
 * objects, arrays, numbers, strings, null and booleans; the input's byte pairs also give span-replacement
 * offsets over a UTF-8 text (src/data/spans.c). Nothing may crash, leak or read out of bounds.
 *   make fuzz   (seeds in fuzz/seeds/data_filter/, dictionary fuzz/data_filter.dict), or alone:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc fuzz/fuzz_data_filter.c \
 *     src/data/jsonpath.c src/data/spans.c src/base/error.c -ljansson -o /tmp/fuzz_data_filter */
#include "data/jsonpath.h"
#include "data/spans.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static json_t *doc;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!doc)
        doc = json_loads("{\"id\":\"x\",\"text\":\"h\\u00e9llo w\\u00f6rld \\u6771\",\"metadata\":{\"length\":12,\"url\":\"u\"},"
                         "\"attributes\":{\"a\":[[0,3,0.5],[4,9,1]],\"b\":0.9,\"c\":{\"d\":true,\"e\":null},\"s\":\"str\","
                         "\"x y\":[]}}", 0, NULL);
    char *expr = malloc(size + 1);
    if (!expr) return 0;
    memcpy(expr, data, size);
    expr[size] = 0;
    struct jpath *p = jpath_compile(expr);
    if (p) {
        jpath_select(p, doc);
        jpath_matches(p, doc);
        jpath_type_error(p, doc);
        jpath_free(p);
    }
    p = jpath_compile_jq(expr, size & 1);
    if (p) {
        jpath_select(p, doc);
        jpath_type_error(p, doc);
        jpath_free(p);
    }
    /* spans from the input bytes, over the document's text (possibly past its end, overlapping, zero-length) */
    const char *text = json_string_value(json_object_get(doc, "text"));
    struct span_repl sp[8];
    size_t n = 0;
    for (size_t i = 0; i + 1 < size && n < 8; i += 2)
        sp[n++] = (struct span_repl){data[i] % 24, data[i + 1] % 24, "[{}]", 4};
    char *out;
    size_t out_len;
    if (spans_apply(text, strlen(text), sp, n, &out, &out_len) == 0) free(out);
    free(expr);
    return 0;
}
