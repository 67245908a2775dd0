/* test_pcg64.c — NumPy 1.24 SeedSequence / PCG64 / Generator.shuffle against every vector in
 * ../shared/data/numpy-pcg64/numpy_pcg64_shuffle_vectors.json (made with NumPy itself): seed words, raw 64-bit
 * outputs, buffered 32-bit draws, and shuffles of arange(n) for n up to 3,000,001 (full permutation for small n,
 * SHA-256 of the little-endian uint32 array plus first/last 8 for large n). */
#include "harness.h"
#include "train/pcg64.h"
#include "train/data_order.h"
#include "base/file.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* ---- SHA-256 (FIPS 180-4), only to compare large permutations with the stored digests ---- */
static const uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
    0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
    0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
    0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};
#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha_block(uint32_t h[8], const uint8_t *p) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++) w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + sha_k[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

static void sha256_hex(const uint8_t *data, size_t len, char hex[65]) {
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    size_t i = 0;
    for (; i + 64 <= len; i += 64) sha_block(h, data + i);
    uint8_t tail[128] = {0};
    size_t rest = len - i;
    memcpy(tail, data + i, rest);
    tail[rest] = 0x80;
    size_t tl = rest + 9 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int k = 0; k < 8; k++) tail[tl - 1 - k] = (uint8_t)(bits >> (8 * k));
    sha_block(h, tail);
    if (tl == 128) sha_block(h, tail + 64);
    for (int k = 0; k < 8; k++) sprintf(hex + 8 * k, "%08x", h[k]);
}

TEST(sha256_known_answer) {
    char hex[65];
    sha256_hex((const uint8_t *)"abc", 3, hex);
    CHECK(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha256_hex((const uint8_t *)m, strlen(m), hex);
    CHECK(!strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
}

static json_t *load_vectors(void) {
    char buf[1024];
    const char *p = th_shared("numpy-pcg64/numpy_pcg64_shuffle_vectors.json", buf, sizeof buf);
    if (!p) return NULL;
    json_error_t e;
    /* jansson rejects integers above INT64_MAX (the raw u64 outputs), so numbers load as doubles: exact for
     * everything below 2^53 (seeds, u32 words, permutations); the raw u64 outputs are read from the text. */
    return json_load_file(p, JSON_DECODE_INT_AS_REAL, &e);
}

static uint64_t ju64(json_t *v) { return (uint64_t)json_number_value(v); }

/* The k-th case's "pcg64_raw_u64_first16" array, parsed from the file text with strtoull. */
static int raw_u64_vectors(size_t case_index, uint64_t out[16]) {
    char buf[1024];
    const char *p = th_shared("numpy-pcg64/numpy_pcg64_shuffle_vectors.json", buf, sizeof buf);
    char *text = p ? olmo_read_file(p, NULL) : NULL;
    if (!text) return -1;
    const char *q = text;
    for (size_t k = 0; k <= case_index && q; k++) {
        q = strstr(q, "\"pcg64_raw_u64_first16\"");
        if (q && k < case_index) q++;
    }
    int n = 0;
    if (q && (q = strchr(q, '['))) {
        q++;
        for (; n < 16; n++) {
            char *end;
            out[n] = strtoull(q, &end, 10);
            if (end == q) break;
            q = end;
            while (*q == ',' || *q == ' ') q++;
        }
    }
    free(text);
    return n == 16 ? 0 : -1;
}

TEST(pcg64_seedseq_and_raw_outputs_match_numpy) {
    json_t *root = load_vectors();
    if (!root) SKIP("../shared/data/numpy-pcg64 vectors not found");
    json_t *cases = json_object_get(root, "cases");
    size_t i;
    json_t *c;
    int n_cases = 0;
    json_array_foreach(cases, i, c) {
        uint64_t seed = ju64(json_object_get(c, "seed"));
        uint32_t w[8];
        pcg64_seedseq_words(seed, w, 8);
        json_t *u32 = json_object_get(c, "seedseq_state_u32x4");
        for (size_t k = 0; k < 4; k++)
            CHECK_GOTO(w[k] == (uint32_t)json_number_value(json_array_get(u32, k)), out);
        /* pcg64 raw outputs: read as text to keep all 64 bits */
        uint64_t raw[16];
        CHECK_GOTO(raw_u64_vectors(i, raw) == 0, out);
        struct pcg64 g;
        pcg64_seed(&g, seed);
        for (size_t k = 0; k < 16; k++) CHECK_GOTO(pcg64_next_u64(&g) == raw[k], out);
        json_t *g32 = json_object_get(c, "generator_u32_first8");
        CHECK_GOTO(json_array_size(g32) == 8, out);   /* a missing key must not pass as zero draws compared */
        pcg64_seed(&g, seed);
        for (size_t k = 0; k < json_array_size(g32); k++)
            CHECK_GOTO(pcg64_next_u32(&g) == (uint32_t)json_number_value(json_array_get(g32, k)), out);
        n_cases++;
    }
    CHECK_GOTO(n_cases == 8, out);
out:
    json_decref(root);
}

TEST(pcg64_shuffle_matches_numpy_all_sizes) {
    json_t *root = load_vectors();
    if (!root) SKIP("../shared/data/numpy-pcg64 vectors not found");
    json_t *cases = json_object_get(root, "cases");
    size_t i;
    json_t *c;
    uint32_t *x = NULL;
    int n_checked = 0, n_sha = 0;
    json_array_foreach(cases, i, c) {
        uint64_t seed = ju64(json_object_get(c, "seed"));
        const char *key;
        json_t *s;
        json_object_foreach(json_object_get(c, "shuffle_arange_uint32"), key, s) {
            size_t n = (size_t)json_number_value(json_object_get(s, "n"));
            free(x);
            x = malloc(n * sizeof *x);
            CHECK_GOTO(x != NULL, out);
            data_order_permutation(x, n, seed);
            json_t *perm = json_object_get(s, "perm");
            if (perm) {
                CHECK_GOTO(json_array_size(perm) == n, out);
                for (size_t k = 0; k < n; k++)
                    CHECK_MSG(x[k] == (uint32_t)json_number_value(json_array_get(perm, k)),
                              "seed %llu n %zu: perm[%zu] = %u", (unsigned long long)seed, n, k, x[k]);
            }
            json_t *f8 = json_object_get(s, "first8"), *l8 = json_object_get(s, "last8");
            size_t nf = json_array_size(f8), nl = json_array_size(l8);
            for (size_t k = 0; k < nf; k++) CHECK_GOTO(x[k] == json_number_value(json_array_get(f8, k)), out);
            for (size_t k = 0; k < nl; k++)
                CHECK_GOTO(x[n - nl + k] == json_number_value(json_array_get(l8, k)), out);
            /* SHA-256 over the little-endian bytes (this machine is little-endian, as NumPy's uint32 was). */
            char hex[65];
            sha256_hex((const uint8_t *)x, n * 4, hex);
            CHECK_MSG(!strcmp(hex, json_string_value(json_object_get(s, "sha256_u32le"))),
                      "seed %llu n %zu: sha256 %s", (unsigned long long)seed, n, hex);
            n_checked++;
            if (!perm) n_sha++;
        }
    }
    CHECK_GOTO(n_checked == 80 && n_sha == 32, out);
out:
    free(x);
    json_decref(root);
}

TEST(pcg64_interval_stays_in_range_and_uses_64bit_draws_above_u32) {
    struct pcg64 g;
    pcg64_seed(&g, 6198);
    for (int k = 0; k < 1000; k++) CHECK(pcg64_interval(&g, 6) <= 6);
    CHECK(pcg64_interval(&g, 0) == 0);
    uint64_t big = (1ULL << 40) + 3;
    for (int k = 0; k < 100; k++) CHECK(pcg64_interval(&g, big) <= big);
}
