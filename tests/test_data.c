/* test_data.c — training data: OLMo's data order (drop/pad per world size, per-rank slices, epochs) against the
 * NumPy reference in tests/fixtures/data_ref.json (tests/ref/data_order_ref.py), world-size independence of the
 * global batch, token files cut into instances (headerless and .npy, uint16/uint32), (inputs, targets) with
 * OLMo's labels, the OLMo-2 repetition filter against the reference, and clear errors for bad files. */
#include "harness.h"
#include "train/data.h"
#include "train/data_order.h"
#include "train/train_config.h"
#include "formats/yaml_config.h"
#include "base/error.h"
#include "base/file.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static json_t *fixture(void) {
    json_error_t e;
    return json_load_file("tests/fixtures/data_ref.json", 0, &e);
}

TEST(order_matches_numpy_reference_all_world_sizes) {
    json_t *root = fixture();
    CHECK_MSG(root != NULL, "tests/fixtures/data_ref.json missing (run tests/ref/data_order_ref.py)");
    json_t *cases = json_object_get(root, "order");
    size_t ci;
    json_t *c;
    uint64_t out[64];
    int n_cases = 0, n_batches = 0;
    json_array_foreach(cases, ci, c) {
        uint64_t n = (uint64_t)json_integer_value(json_object_get(c, "n"));
        uint64_t seed = (uint64_t)json_integer_value(json_object_get(c, "seed"));
        int64_t epoch = json_integer_value(json_object_get(c, "epoch"));
        int w = (int)json_integer_value(json_object_get(c, "world"));
        int drop = (int)json_integer_value(json_object_get(c, "drop_last"));
        int64_t batch = json_integer_value(json_object_get(c, "batch"));
        json_t *global = json_object_get(c, "global");
        struct data_order o;
        CHECK(data_order_init(&o, n, seed, w, drop) == 0);
        CHECK_GOTO(o.total == json_array_size(global), done);
        CHECK_GOTO(data_order_set_epoch(&o, epoch) == 0, done);
        for (size_t k = 0; k < o.total; k++)
            CHECK_GOTO(o.perm[k] == (uint32_t)json_integer_value(json_array_get(global, k)), done);
        json_t *ranks = json_object_get(c, "ranks");
        size_t n_steps = json_array_size(json_array_get(ranks, 0));
        CHECK_GOTO((int64_t)n_steps == data_order_steps_per_epoch(n, w, drop, batch), done);
        for (int r = 0; r < w; r++) {
            json_t *bl = json_array_get(ranks, (size_t)r);
            CHECK_GOTO(json_array_size(bl) == n_steps, done);
            for (size_t j = 0; j < n_steps; j++) {
                json_t *want = json_array_get(bl, j);
                int64_t got = data_order_batch(&o, epoch, j * (uint64_t)batch, batch, r, out);
                CHECK_GOTO(got == (int64_t)json_array_size(want), done);
                for (int64_t k = 0; k < got; k++)
                    CHECK_GOTO(out[k] == (uint64_t)json_integer_value(json_array_get(want, (size_t)k)), done);
                n_batches++;
            }
            /* past the epoch's last batch there is nothing */
            CHECK_GOTO(data_order_batch(&o, epoch, n_steps * (uint64_t)batch, batch, r, out) == 0, done);
        }
        n_cases++;
    done:
        data_order_free(&o);
        if (th_failed()) break;
    }
    json_decref(root);
    CHECK(n_cases == 17 && n_batches > 100);
}

TEST(global_batch_independent_of_world_size) {
    /* every step's global batch is the same SET of instances for any W (and the same list for W = 1 and
     * rank = -1); ranks partition it */
    const uint64_t n = 1000;
    const int64_t B = 24;
    struct data_order ref;
    CHECK(data_order_init(&ref, n, 6198, 1, 1) == 0);
    uint64_t want[24], got[24], part[24];
    static const int worlds[] = {2, 3, 4, 6, 8, 12, 24};
    for (size_t wi = 0; wi < sizeof worlds / sizeof *worlds; wi++) {
        int w = worlds[wi];
        struct data_order o;
        CHECK(data_order_init(&o, n, 6198, w, 1) == 0);
        int64_t steps = data_order_steps_per_epoch(n, w, 1, B);
        CHECK_GOTO(steps == 41, next);   /* 1000 // 24, whatever W */
        for (int64_t s = 0; s < steps; s++) {
            CHECK_GOTO(data_order_batch(&ref, 0, (uint64_t)(s * B), B, 0, want) == B, next);
            CHECK_GOTO(data_order_batch(&o, 0, (uint64_t)(s * B), B, -1, got) == B, next);
            CHECK_GOTO(!memcmp(want, got, sizeof want), next);
            /* the ranks' shares together are the global batch */
            int seen[24] = {0};
            for (int r = 0; r < w; r++) {
                int64_t k = data_order_batch(&o, 0, (uint64_t)(s * B), B, r, part);
                CHECK_GOTO(k == B / w, next);
                for (int64_t i = 0; i < k; i++) {
                    int hit = -1;
                    for (int q = 0; q < B; q++)
                        if (want[q] == part[i]) hit = q;
                    CHECK_GOTO(hit >= 0 && !seen[hit], next);
                    seen[hit] = 1;
                }
            }
        }
    next:
        data_order_free(&o);
        if (th_failed()) break;
    }
    data_order_free(&ref);
}

TEST(order_rejects_bad_arguments) {
    struct data_order o;
    uint64_t out[8];
    CHECK(data_order_init(&o, 1ULL << 32, 1, 1, 0) < 0);
    CHECK(strstr(olmo_errmsg(), "2^32"));
    CHECK(data_order_init(&o, 10, 1, 3, 0) == 0);
    CHECK(data_order_batch(&o, 0, 0, 4, 0, out) < 0);   /* 4 is not a multiple of 3 */
    CHECK(strstr(olmo_errmsg(), "multiple of the world size"));
    CHECK(data_order_batch(&o, 0, 0, 6, 3, out) < 0);
    CHECK(data_order_batch(&o, -1, 0, 6, 0, out) < 0);
    data_order_free(&o);
    /* drop_last with fewer instances than processes leaves nothing; OLMo's formula gives 0 */
    CHECK(data_order_total(3, 4, 1) == 0 && data_order_total(3, 4, 0) == 4 && data_order_total(10, 4, 1) == 8);
    CHECK(data_order_total(10, 4, 0) == 12 && data_order_steps_per_epoch(10, 4, 0, 8) == 2);
}

/* ---------------------------------------------------------------- token files */

/* Token value at position i of file f: distinct per file and position, below 50000. */
static uint32_t tok_at(int f, uint64_t i) { return (uint32_t)((f * 7919 + i * 31) % 50000); }

static char *write_tokens(const char *name, int f, uint64_t n, int bytes, int npy_header) {
    char *path = olmo_path_join(th_tmpdir(), name);
    size_t hdr = 0;
    char header[128];
    if (npy_header) {
        /* version 1.0: magic, version, u16 header length, dict padded with spaces to a multiple of 64, newline */
        char dict[96];
        int dl = snprintf(dict, sizeof dict, "{'descr': '<u%d', 'fortran_order': False, 'shape': (%llu,), }", bytes,
                          (unsigned long long)n);
        int total = 10 + dl + 1;
        int padded = (total + 63) / 64 * 64;
        memcpy(header, "\x93NUMPY\x01\x00", 8);
        header[8] = (char)((padded - 10) & 0xff);
        header[9] = (char)((padded - 10) >> 8);
        memcpy(header + 10, dict, (size_t)dl);
        memset(header + 10 + dl, ' ', (size_t)(padded - 10 - dl - 1));
        header[padded - 1] = '\n';
        hdr = (size_t)padded;
    }
    size_t len = hdr + n * (size_t)bytes;
    uint8_t *buf = malloc(len ? len : 1);
    memcpy(buf, header, hdr);
    for (uint64_t i = 0; i < n; i++) {
        uint32_t v = tok_at(f, i);
        if (bytes == 2) {
            uint16_t x = (uint16_t)v;
            memcpy(buf + hdr + 2 * i, &x, 2);
        } else {
            memcpy(buf + hdr + 4 * i, &v, 4);
        }
    }
    if (olmo_write_file_atomic(path, buf, len) < 0) {
        free(buf);
        free(path);
        return NULL;
    }
    free(buf);
    return path;
}

TEST(instances_per_file_and_global_index_space) {
    const int T = 16;
    char *paths[4];
    paths[0] = write_tokens("a.npy", 0, 100, 2, 0);   /* 6 instances, 4 tokens dropped */
    paths[1] = write_tokens("b.npy", 1, 15, 2, 0);    /* shorter than one instance: 0 */
    paths[2] = write_tokens("c.npy", 2, 40, 2, 0);    /* 2 */
    paths[3] = write_tokens("d.npy", 3, 50, 2, 1);    /* real .npy with header: 3 */
    for (int i = 0; i < 4; i++) CHECK(paths[i] != NULL);
    struct train_data d;
    CHECK_MSG(train_data_open_files(&d, paths, 4, 2, T, 6198, 1, 0, 4) == 0, "%s", olmo_errmsg());
    CHECK(d.n_instances == 11 && d.files[1].n_instances == 0 && d.files[3].first == 8);
    static const int want_file[11] = {0, 0, 0, 0, 0, 0, 2, 2, 3, 3, 3};
    uint32_t buf[16];
    for (uint64_t k = 0; k < 11; k++) {
        size_t f;
        uint64_t start;
        CHECK(train_data_locate(&d, k, &f, &start) == 0);
        CHECK_EQ_INT(f, want_file[k]);
        CHECK_EQ_INT(start, (k - d.files[f].first) * T);
        CHECK(train_data_instance(&d, k, buf) == 0);
        for (int t = 0; t < T; t++) CHECK(buf[t] == tok_at((int)f, start + (uint64_t)t));
    }
    CHECK(train_data_locate(&d, 11, &(size_t){0}, &(uint64_t){0}) < 0);
    train_data_close(&d);
    for (int i = 0; i < 4; i++) free(paths[i]);
}

TEST(step_batches_inputs_targets_and_epochs) {
    const int T = 8;
    char *p = write_tokens("e.u32", 5, 8 * 13 + 3, 4, 0);   /* 13 instances of uint32 */
    CHECK(p != NULL);
    struct train_data d;
    CHECK(train_data_open_files(&d, &p, 1, 4, T, 42, 2, 1, 4) == 0);
    d.vocab_size = 50000;
    CHECK(train_data_steps_per_epoch(&d) == 3);   /* total 12 (drop_last, W = 2) / 4 */
    uint64_t idx[4], idx2[4];
    int32_t in[4 * 8], tg[4 * 8];
    uint32_t perms[3][13];
    for (int e = 0; e < 3; e++) data_order_permutation(perms[e], 13, 42 + (uint64_t)e);   /* epoch e: seed + e */
    const uint32_t *perm1 = perms[1];
    for (int64_t step = 1; step <= 7; step++) {
        int64_t e = (step - 1) / 3, j = (step - 1) % 3;
        const uint32_t *perm = perms[e];
        for (int r = 0; r < 2; r++) {
            CHECK(train_data_step_batch(&d, step, r, idx, in, tg) == 2);
            for (int k = 0; k < 2; k++) {
                CHECK_EQ_INT(idx[k], perm[j * 4 + k * 2 + r]);   /* rank r: every 2nd of the global batch */
                for (int t = 0; t < T; t++) CHECK(in[k * T + t] == (int32_t)tok_at(5, idx[k] * T + (uint64_t)t));
                for (int t = 0; t < T - 1; t++) CHECK(tg[k * T + t] == in[k * T + t + 1]);
                CHECK(tg[k * T + T - 1] == TRAIN_IGNORE_INDEX);
            }
        }
        CHECK(train_data_step_batch(&d, step, -1, idx2, NULL, NULL) == 4);
        for (int k = 0; k < 4; k++) CHECK_EQ_INT(idx2[k], perm[j * 4 + k]);
    }
    /* resume position: epoch 1, 4 examples seen = step 5 */
    CHECK(train_data_batch_at(&d, 1, 4, 1, idx, NULL, NULL) == 2);
    CHECK(idx[0] == perm1[5] && idx[1] == perm1[7]);
    CHECK(train_data_step_batch(&d, 0, 0, idx, in, tg) < 0);
    train_data_close(&d);
    free(p);
}

TEST(partial_last_batch_without_drop_last) {
    char *p = write_tokens("f.npy", 6, 4 * 10, 2, 0);   /* 10 instances of 4 */
    struct train_data d;
    CHECK(train_data_open_files(&d, &p, 1, 2, 4, 1, 1, 0, 4) == 0);
    CHECK(train_data_steps_per_epoch(&d) == 3);
    uint64_t idx[4];
    CHECK(train_data_step_batch(&d, 3, 0, idx, NULL, NULL) == 2);   /* OLMo's DataLoader keeps the remainder */
    CHECK(train_data_step_batch(&d, 4, 0, idx, NULL, NULL) == 4);   /* then the next epoch */
    train_data_close(&d);
    free(p);
}

TEST(repetition_filter_matches_reference) {
    json_t *root = fixture();
    CHECK_MSG(root != NULL, "tests/fixtures/data_ref.json missing");
    json_t *cases = json_object_get(root, "filter");
    size_t i;
    json_t *c;
    int32_t a[256];
    int masked = 0;
    json_array_foreach(cases, i, c) {
        json_t *t = json_object_get(c, "tokens");
        int n = (int)json_array_size(t);
        CHECK_GOTO(n <= 256, out);
        for (int k = 0; k < n; k++) a[k] = (int32_t)json_integer_value(json_array_get(t, (size_t)k));
        int k1 = train_data_instance_ok(a, n, 1, 13, 32), k2 = train_data_instance_ok(a, n, 1, 13, 10),
            k3 = train_data_instance_ok(a, n, 2, 5, 20);
        CHECK_MSG(k1 == json_is_true(json_object_get(c, "keep_1_13_32")), "case %zu (1,13,32): %d", i, k1);
        CHECK_MSG(k2 == json_is_true(json_object_get(c, "keep_1_13_10")), "case %zu (1,13,10): %d", i, k2);
        CHECK_MSG(k3 == json_is_true(json_object_get(c, "keep_2_5_20")), "case %zu (2,5,20): %d", i, k3);
        masked += !k1;
    }
    CHECK_GOTO(masked >= 5, out);
out:
    json_decref(root);
}

TEST(repetition_filter_known_cases) {
    int32_t a[200];
    for (int i = 0; i < 200; i++) a[i] = 1000 + i;
    CHECK(train_data_instance_ok(a, 200, 1, 13, 32) == 1);
    for (int i = 50; i < 50 + 32 * 3; i++) a[i] = 7 + (i - 50) % 3;   /* "7 8 9" 32 times */
    CHECK(train_data_instance_ok(a, 200, 1, 13, 32) == 0);
    a[50 + 31 * 3] = 5;   /* now 31 full repeats (+2 tokens) */
    CHECK(train_data_instance_ok(a, 200, 1, 13, 32) == 1);
    CHECK(train_data_instance_ok(a, 200, 4, 13, 32) == 1);   /* period 3 not searched */
}

TEST(filtered_instance_has_no_targets) {
    char *path = olmo_path_join(th_tmpdir(), "rep.npy");
    uint16_t toks[2 * 64];
    for (int i = 0; i < 64; i++) toks[i] = (uint16_t)(100 + i);
    for (int i = 64; i < 128; i++) toks[i] = 9;   /* second instance: one token 64 times */
    CHECK(olmo_write_file_atomic(path, toks, sizeof toks) == 0);
    struct train_data d;
    CHECK(train_data_open_files(&d, &path, 1, 2, 64, 0, 1, 1, 2) == 0);
    d.instance_filter = 1;
    d.rep_min_period = 1;
    d.rep_max_period = 13;
    d.rep_max_count = 32;
    uint64_t idx[2] = {0, 1};
    int32_t in[128], tg[128];
    CHECK(train_data_fill(&d, idx, 2, in, tg) == 0);
    CHECK(tg[0] == 101 && tg[62] == 163 && tg[63] == TRAIN_IGNORE_INDEX);
    for (int t = 64; t < 128; t++) CHECK(tg[t] == TRAIN_IGNORE_INDEX && in[t] == 9);
    train_data_close(&d);
    free(path);
}

TEST(bad_files_give_clear_errors) {
    struct train_data d;
    char *odd = olmo_path_join(th_tmpdir(), "odd.npy");
    CHECK(olmo_write_file_atomic(odd, "abc", 3) == 0);
    CHECK(train_data_open_files(&d, &odd, 1, 2, 4, 0, 1, 0, 1) < 0);
    CHECK(strstr(olmo_errmsg(), "odd.npy: 3 bytes") && strstr(olmo_errmsg(), "memmap_dtype"));
    char *missing = "/nonexistent/x.npy";
    CHECK(train_data_open_files(&d, &missing, 1, 2, 4, 0, 1, 0, 1) < 0);
    CHECK(strstr(olmo_errmsg(), "/nonexistent/x.npy"));
    char *url = "http://olmo-data.org/x.npy";
    CHECK(train_data_open_files(&d, &url, 1, 2, 4, 0, 1, 0, 1) < 0);
    CHECK(strstr(olmo_errmsg(), "local token files"));
    char *small = write_tokens("small.npy", 0, 3, 2, 0);
    CHECK(train_data_open_files(&d, &small, 1, 2, 4, 0, 1, 0, 1) < 0);
    CHECK(strstr(olmo_errmsg(), "no instance of 4 tokens"));
    char *npy = write_tokens("u16.npy", 0, 64, 2, 1);
    CHECK(train_data_open_files(&d, &npy, 1, 4, 4, 0, 1, 0, 1) < 0);   /* header says <u2, config uint32 */
    CHECK(strstr(olmo_errmsg(), "data.memmap_dtype is uint32"));
    CHECK(train_data_open_files(&d, &npy, 1, 2, 4, 0, 1, 0, 1) == 0);
    d.vocab_size = 100;   /* tokens up to 50000 do not fit */
    uint32_t buf[4];
    int bad = 0;
    for (uint64_t k = 0; k < d.n_instances && !bad; k++) bad = train_data_instance(&d, k, buf) < 0;
    CHECK(bad && strstr(olmo_errmsg(), "outside the model's embedding"));
    train_data_close(&d);
    CHECK(train_data_open_files(&d, &npy, 1, 2, 4, 0, 1, 1, 32) < 0);   /* 16 instances, batch 32, drop_last */
    CHECK(strstr(olmo_errmsg(), "do not fill one global batch of 32"));
    CHECK(train_data_open_files(&d, &npy, 1, 2, 4, 0, 1, 0, 32) == 0);   /* without drop_last: one partial batch */
    train_data_close(&d);
    CHECK(train_data_open_files(&d, &npy, 1, 2, 4, 0, 3, 0, 4) < 0);   /* 4 is not a multiple of 3 processes */
    CHECK(strstr(olmo_errmsg(), "multiple of the number of processes"));
    free(odd);
    free(small);
    free(npy);
}

TEST(open_from_config) {
    char *a = write_tokens("cfg-a.npy", 0, 256 * 5, 2, 0), *b = write_tokens("cfg-b.npy", 1, 256 * 3 + 10, 2, 0);
    char ov[2048];
    snprintf(ov, sizeof ov, "--data.paths=[%s, %s]", a, b);
    char *ovs[] = {ov, "--global_train_batch_size=4", "--data.seed=7"};
    struct train_config tc;
    CHECK_MSG(train_config_load(&tc, "configs/olmo2-tiny.yaml", 3, ovs, 1) == 0, "%s", olmo_errmsg());
    struct train_data d;
    CHECK_MSG(train_data_open(&d, &tc, 2) == 0, "%s", olmo_errmsg());
    CHECK(d.n_instances == 8 && d.seq_len == 256 && d.order.seed == 7 && d.order.drop_last == 1);
    CHECK(train_data_steps_per_epoch(&d) == 2);
    uint64_t idx[2];
    int32_t in[2 * 256], tg[2 * 256];
    CHECK(train_data_step_batch(&d, 1, 1, idx, in, tg) == 2);
    train_data_close(&d);
    train_config_free(&tc);
    free(a);
    free(b);
}
