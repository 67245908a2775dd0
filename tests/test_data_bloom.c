/* test_data_bloom.c — Dolma's Bloom filter: sizing constants from Dolma's own tests, insert/contains, the .bin
 * file round trip, read_only, threads sharing one filter, and bad files rejected with a message. */
#include "harness.h"

#include "base/error.h"
#include "base/file.h"
#include "data/bloom.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TEST(bloom_sizing_matches_dolma) {
    /* src/bloom_filter/bloom_test.rs constants, and the spec's table of repo configs. */
    CHECK_EQ_INT(bloom_optimal_k(1000000000ull, 1000000000ull), 6);
    CHECK_EQ_INT(bloom_optimal_k(1000000ull, 500000ull), 12);
    CHECK_EQ_INT(bloom_suggest_size(1000000ull, 1e-4), 4194304);
    CHECK_EQ_INT(bloom_suggest_size(1000ull, 1e-3), 1048576);
    CHECK_EQ_INT(bloom_optimal_k(1048576, 1000), 5815);
    CHECK_EQ_INT(bloom_suggest_size(6000000ull, 1e-4), 16ull << 20);
    CHECK_EQ_INT(bloom_optimal_k(16ull << 20, 6000000ull), 16);
    CHECK_EQ_INT(bloom_suggest_size(2336120ull, 1e-15), 32ull << 20);
    CHECK_EQ_INT(bloom_optimal_k(32ull << 20, 2336120ull), 80);
}

TEST(bloom_ahash_properties) {
    /* The VecDeque key hashes its length and a 0xff after every string, so ["ab","c"] != ["a","bc"] != ["abc"]. */
    uint64_t seeds[4] = {1, 2, 3, 4};
    const char *a[2] = {"ab", "c"}, *b[2] = {"a", "bc"}, *c[1] = {"abc"};
    size_t la[2] = {2, 1}, lb[2] = {1, 2}, lc[1] = {3};
    uint64_t ha = bloom_ahash(seeds, 2, a, la), hb = bloom_ahash(seeds, 2, b, lb), hc = bloom_ahash(seeds, 1, c, lc);
    CHECK(ha != hb && hb != hc && ha != hc);
    CHECK(bloom_ahash(seeds, 2, a, la) == ha); /* deterministic */
    uint64_t seeds2[4] = {1, 2, 3, 5};
    CHECK(bloom_ahash(seeds2, 1, c, lc) != hc);
    /* every length class of the fallback's write (0, 1, 2-3, 4-8, 9-16, >16, >32) gives distinct values */
    const char *s = "0123456789abcdefghijklmnopqrstuvwxyz0123456789";
    uint64_t seen[48];
    for (size_t n = 0; n <= 40; n++) {
        seen[n] = bloom_ahash(seeds, 1, &s, &n);
        for (size_t j = 0; j < n; j++) CHECK_MSG(seen[j] != seen[n], "length %zu and %zu collide", j, n);
    }
}

TEST(bloom_insert_contains_save_load_read_only) {
    struct bloom b;
    CHECK(bloom_init(&b, 1 << 20, bloom_optimal_k(1 << 20, 1000), 42) == 0);
    uint64_t *h = malloc(b.k * sizeof *h);
    char key[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        CHECK_GOTO(bloom_check_insert(&b, key, strlen(key), h) == 0, out);
    }
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        CHECK_GOTO(bloom_check_insert(&b, key, strlen(key), h) == 1, out);
    }
    char path[512];
    snprintf(path, sizeof path, "%s/f.bin", th_tmpdir());
    CHECK_GOTO(bloom_save(&b, path) == 0, out);
    struct bloom c;
    CHECK_GOTO(bloom_load(&c, path) == 0, out);
    CHECK_GOTO(c.k == b.k && c.n_words == b.n_words && !memcmp(c.words, b.words, b.n_words * 4), out2);
    c.read_only = 1;
    CHECK_GOTO(bloom_check_insert(&c, "key-7", 5, h) == 1, out2);
    CHECK_GOTO(bloom_check_insert(&c, "never", 5, h) == 0, out2);
    CHECK_GOTO(bloom_check_insert(&c, "never", 5, h) == 0, out2); /* read_only: still absent */
    /* the on-disk layout: magic, version, k, seeds, word count */
    size_t len;
    char *raw = olmo_read_file(path, &len);
    uint32_t magic, ver, k;
    memcpy(&magic, raw, 4); memcpy(&ver, raw + 4, 4); memcpy(&k, raw + 8, 4);
    CHECK_GOTO(magic == 0x81F0F117u && ver == 1 && k == b.k && len == 12 + 32 * k + 8 + b.n_words * 4, out3);
    /* truncated and wrong-magic files are rejected with a message naming the file */
    FILE *f = fopen(path, "wb");
    fwrite(raw, 1, len - 3, f);
    fclose(f);
    struct bloom d;
    CHECK_GOTO(bloom_load(&d, path) == -1 && strstr(olmo_errmsg(), "f.bin"), out3);
    raw[0] ^= 1;
    olmo_write_file_atomic(path, raw, len);
    CHECK_GOTO(bloom_load(&d, path) == -1 && strstr(olmo_errmsg(), "magic"), out3);
out3:
    free(raw);
out2:
    bloom_free(&c);
out:
    free(h);
    bloom_free(&b);
}

static struct bloom shared;
static int dup_count[2];
static void *insert_worker(void *arg) {
    int t = (int)(long)arg;
    uint64_t h[64];
    char key[32];
    for (int j = 0; j < 2000; j++) {
        /* both threads insert the same keys, in opposite orders: a key that both insert at the same moment may
         * be reported new by both (its bits are set by two threads at once, as in Dolma), which in this order
         * can happen only where the two meet, not for every key as when they run in step */
        int i = t == 0 ? j : 1999 - j;
        snprintf(key, sizeof key, "k%d", i);
        dup_count[t] += bloom_check_insert(&shared, key, strlen(key), h);
    }
    return NULL;
}

TEST(bloom_shared_between_threads) {
    CHECK(bloom_init(&shared, 1 << 20, 8, 7) == 0);
    pthread_t th[2];
    for (long t = 0; t < 2; t++) pthread_create(&th[t], NULL, insert_worker, (void *)t);
    for (int t = 0; t < 2; t++) pthread_join(th[t], NULL);
    /* every key inserted twice: 2000 of 4000 calls report a duplicate, minus races where the threads meet */
    int d = dup_count[0] + dup_count[1];
    uint64_t h[8];
    int all = 1;
    for (int i = 0; i < 2000; i++) {
        char key[32];
        snprintf(key, sizeof key, "k%d", i);
        bloom_hashes(&shared, 1, (const char *const[]){key}, (size_t[]){strlen(key)}, h);
        all &= bloom_contains_hashes(&shared, h);
    }
    bloom_free(&shared);
    CHECK(all);
    CHECK_MSG(d >= 1990 && d <= 2000, "duplicates found %d", d);
}
