/* test_data_dedup.c — the deduper's UAX #29 words (Dolma's own tokenizer test vector and Unicode cases) and the
 * mixer's serde-style JSON writer and raw member scanner. */
#include "harness.h"

#include "data/dedup_words.h"
#include "data/mix_json.h"

#include <stdlib.h>
#include <string.h>

static int words_are(const char *s, const char *const *want, size_t n) {
    struct dword *w = NULL;
    size_t cap = 0;
    long k = dedup_words(s, strlen(s), &w, &cap);
    int ok = k == (long)n;
    for (long i = 0; ok && i < k; i++) ok = strlen(want[i]) == w[i].len && !memcmp(s + w[i].off, want[i], w[i].len);
    free(w);
    return ok;
}

TEST(dedup_words_as_unicode_segmentation) {
    /* src/wimbd/tokens.rs's test in Dolma */
    const char *a[] = {"You", "can", "follow", "any", "responses", "to", "this", "entry", "through", "the", "RSS",
                       "2.0", "feed"};
    CHECK(words_are("You can follow any responses to this entry through the RSS 2.0 feed", a, 13));
    const char *b[] = {"can't", "(", "x", ")", "1,000", "Jazz", "–", "e.g", ".", "a_b"};
    CHECK(words_are("can't (x) 1,000 Jazz – e.g. a_b", b, 10));
    const char *c[] = {"naïve", "東", "京", "3.14", "カタカナ"};
    CHECK(words_are("  naïve\t東京 3.14\nカタカナ  ", c, 5));
    CHECK(words_are(" \n\t ", NULL, 0));
}

TEST(mix_json_sorted_compact_serde_floats) {
    json_t *v = json_loads("{\"b\":[1,2.5,1e-7,1e16,0.1,-0.0],\"a\":{\"z\":null,\"y\":true},\"é\":\"x\\ny\\u0001\"}", 0, NULL);
    struct docs_buf b = {0};
    CHECK(v && mix_json_write(&b, v) == 0);
    const char *want = "{\"a\":{\"y\":true,\"z\":null},\"b\":[1,2.5,1e-7,1e16,0.1,-0.0],\"é\":\"x\\ny\\u0001\"}";
    CHECK_MSG(b.len == strlen(want) && !memcmp(b.data, want, b.len), "got %.*s", (int)b.len, b.data);
    docs_buf_free(&b);
    json_decref(v);
    const char *line = "{ \"id\" : \"a\\\"b\", \"n\":12,\"f\":1.50,\"t\":\"caf\\u00e9\",\"m\":{\"k\":[1, 2]}}";
    struct mix_member m[8];
    CHECK_EQ_INT(mix_json_members(line, strlen(line), m, 8), 5);
    CHECK(m[0].copyable && m[0].val_len == 6);      /* "a\"b": serde writes \" the same */
    CHECK(m[1].copyable && m[1].val_len == 2);      /* 12 */
    CHECK(!m[2].copyable);                          /* 1.50: ryu writes 1.5 */
    CHECK(!m[3].copyable);                          /* \u00e9: serde writes é raw */
    CHECK(!m[4].copyable && m[4].val_len == 12);    /* nested: re-serialised, keys sorted */
    CHECK_EQ_INT(mix_json_members("[1]", 3, m, 8), -1);
    CHECK_EQ_INT(mix_json_members("{\"a\":1", 6, m, 8), -1);
}
