/* test_safetensors.c — the safetensors writer round trip, sharded sets, and every kind of bad file.
 *
 * Bad files are built in exactly-sized heap buffers so the sanitizer build (make SAN=1 test) turns any read
 * past the end into a failure: every case must end in a clear message, never a crash. */
#include "harness.h"
#include "base/error.h"
#include "base/file.h"
#include "base/mem.h"
#include "formats/hf_config.h"
#include "formats/safetensors.h"
#include "model/kernels/linear.h"
#include "model/model.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* An 8-byte length + header + `data_len` zero bytes, in a buffer of exactly that size. */
static uint8_t *make_file(const char *header, size_t data_len, size_t *len) {
    size_t h = strlen(header);
    *len = 8 + h + data_len;
    uint8_t *b = calloc(1, *len);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)h >> (8 * i));
    memcpy(b + 8, header, h);
    return b;
}

/* Parses; returns the error message ("" on success). */
static const char *parse(const char *header, size_t data_len) {
    static char msg[1024];
    size_t len;
    uint8_t *b = make_file(header, data_len, &len);
    struct st_set s;
    memset(&s, 0, sizeof s);
    int rc = st_parse(&s, b, len, 0, "x.safetensors");
    snprintf(msg, sizeof msg, "%s", rc ? olmo_errmsg() : "");
    st_close(&s);
    free(b);
    return msg;
}

#define EXPECT_ERR(header, data_len, needle)                                               \
    do {                                                                                   \
        const char *m_ = parse(header, data_len);                                          \
        CHECK_MSG(*m_ && strstr(m_, needle), "header %s: got '%s', wanted '%s'", header, m_, needle); \
    } while (0)

TEST(st_valid_minimal_and_metadata) {
    CHECK_MSG(!*parse("{}", 0), "%s", olmo_errmsg());
    CHECK_MSG(!*parse("{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}   ", 8), "%s", olmo_errmsg());
    /* rank 0 and zero-size tensors are legal; I64 parses (refused later only if used as a weight) */
    CHECK_MSG(!*parse("{\"s\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},\"z\":{\"dtype\":\"BF16\",\"shape\":[0,4],\"data_offsets\":[8,8]}}", 8), "%s", olmo_errmsg());
}

TEST(st_bad_headers) {
    size_t len;
    struct st_set s;
    memset(&s, 0, sizeof s);
    uint8_t three[3] = {1, 2, 3};
    CHECK(st_parse(&s, three, 3, 0, "x") == -1 && strstr(olmo_errmsg(), "8-byte header length"));
    uint8_t *b = make_file("{}", 0, &len);
    b[0] = 200;   /* header length larger than the file */
    CHECK(st_parse(&s, b, len, 0, "x") == -1 && strstr(olmo_errmsg(), "truncated"));
    b[7] = 0x7f;   /* absurd length */
    CHECK(st_parse(&s, b, len, 0, "x") == -1 && strstr(olmo_errmsg(), "limit"));
    free(b);
    EXPECT_ERR("[1,2]", 0, "not a JSON object");
    EXPECT_ERR("{\"a\":", 0, "header JSON");
    EXPECT_ERR("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "duplicate");
    EXPECT_ERR("{\"a\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "unknown dtype 'F33'");
    EXPECT_ERR("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "needs 12 bytes");
    EXPECT_ERR("{\"a\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 16, "needs 8 bytes");
    EXPECT_ERR("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "shape[0]");
    EXPECT_ERR("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4, "end before begin");
    EXPECT_ERR("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "past the end");
    EXPECT_ERR("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[1000000,1000008]}}", 8, "unused bytes");
    EXPECT_ERR("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "overlaps");
    EXPECT_ERR("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "unused bytes");
    EXPECT_ERR("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8, "trailing");
    EXPECT_ERR("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,4]}}", 4, "more");
    EXPECT_ERR("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4, "unexpected field");
    EXPECT_ERR("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "data_offsets");
    EXPECT_ERR("{\"a\":7}", 0, "expected an object");
    EXPECT_ERR("{\"__metadata__\":{\"format\":3}}", 0, "__metadata__");
}

/* Every truncation of a real checkpoint is refused (the length-field and header region byte by byte). */
TEST(st_every_truncation_refused) {
    size_t n;
    char *full = olmo_read_file("tests/fixtures/model/llama_bf16_tied/model.safetensors", &n);
    CHECK(full);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = (hl << 8) | (uint8_t)full[i];
    size_t step_data = th_sanitized() ? 997 : 61;
    int refused = 0, tried = 0;
    for (size_t cut = 0; cut < n; cut += cut < 8 + hl + 16 ? 1 : step_data) {
        uint8_t *b = malloc(cut ? cut : 1);
        memcpy(b, full, cut);
        struct st_set s;
        memset(&s, 0, sizeof s);
        refused += st_parse(&s, b, cut, 0, "cut") == -1;
        tried++;
        st_close(&s);
        free(b);
    }
    free(full);
    CHECK_EQ_INT(refused, tried);
}

TEST(st_writer_round_trip) {
    const char *dir = th_tmpdir();
    char *path = olmo_path_join(dir, "w.safetensors");
    float a[6] = {1, -2, 3.5f, 1e-3f, 65504, -0.0f}, b[3] = {0.1f, 0.2f, 0.3f};
    int32_t ids[4] = {7, 8, 9, -1};
    int64_t sa[2] = {2, 3}, sb[1] = {3}, si[1] = {4};
    struct st_writer w;
    st_writer_init(&w);
    CHECK(st_writer_add_f32(&w, "b.bf16", ST_BF16, 1, sb, b) == 0);
    CHECK(st_writer_add_f32(&w, "a.f32", ST_F32, 2, sa, a) == 0);
    CHECK(st_writer_add_raw(&w, "ids", ST_I32, 1, si, ids) == 0);
    CHECK(st_writer_add_f32(&w, "a.f32", ST_F32, 2, sa, a) == -1 && strstr(olmo_errmsg(), "twice"));
    CHECK(st_writer_add_f32(&w, "c", ST_I64, 1, sb, b) == -1);
    CHECK(st_writer_write(&w, path) == 0);
    st_writer_free(&w);
    struct st_set s;
    CHECK_MSG(st_open(&s, path) == 0, "%s", olmo_errmsg());
    const struct st_tensor *ta = st_find(&s, "a.f32"), *tb = st_find(&s, "b.bf16"), *ti = st_find(&s, "ids");
    CHECK(ta && tb && ti && s.n_tensors == 3);
    CHECK(ta->dtype == ST_F32 && ta->ndim == 2 && ta->shape[0] == 2 && ta->shape[1] == 3);
    CHECK(!memcmp(ta->data, a, sizeof a));
    CHECK(tb->dtype == ST_BF16 && tb->numel == 3);
    for (int i = 0; i < 3; i++) CHECK_NEAR(olmo_bf16_to_f32(((const uint16_t *)tb->data)[i]), b[i], 1e-3);
    CHECK(!memcmp(ti->data, ids, sizeof ids));
    /* header length is a multiple of 8 and the metadata says "pt" */
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = (hl << 8) | s.files[0].map.data[i];
    CHECK(hl % 8 == 0);
    CHECK(memmem(s.files[0].map.data, 8 + hl, "\"__metadata__\":{\"format\":\"pt\"}", 30) != NULL);
    st_close(&s);
    free(path);
}

/* A weight with an integer dtype parses as a tensor but is refused by the model loader, naming it. */
TEST(st_integer_weight_refused_by_model) {
    struct olmo_model m;
    struct st_set src;
    CHECK(st_open_dir(&src, "tests/fixtures/model/llama_bf16_tied") == 0);
    const char *dir = th_tmpdir();
    struct st_writer w;
    st_writer_init(&w);
    for (int64_t i = 0; i < src.n_tensors; i++) {
        const struct st_tensor *t = &src.tensors[i];
        int bad = strstr(t->name, "layers.1.mlp.up_proj") != NULL;
        /* same byte count: BF16 [r, c] → I16 [r, c] */
        st_writer_add_raw(&w, t->name, bad ? ST_I16 : t->dtype, t->ndim, t->shape, t->data);
    }
    char *p = olmo_path_join(dir, "model.safetensors"), *c = olmo_path_join(dir, "config.json");
    CHECK(st_writer_write(&w, p) == 0);
    st_writer_free(&w);
    size_t n;
    char *cfg = olmo_read_file("tests/fixtures/model/llama_bf16_tied/config.json", &n);
    olmo_write_file_atomic(c, cfg, n);
    free(cfg);
    int rc = model_load(&m, dir, NULL);
    st_close(&src);
    free(p);
    free(c);
    CHECK(rc == -1);
    CHECK_MSG(strstr(olmo_errmsg(), "model.layers.1.mlp.up_proj.weight") && strstr(olmo_errmsg(), "I16"), "%s", olmo_errmsg());
}

static void write_text(const char *dir, const char *name, const char *text) {
    char *p = olmo_path_join(dir, name);
    olmo_write_file_atomic(p, text, strlen(text));
    free(p);
}

static void copy_file(const char *from, const char *dir, const char *name) {
    size_t n;
    char *t = olmo_read_file(from, &n), *p = olmo_path_join(dir, name);
    olmo_write_file_atomic(p, t, n);
    free(t);
    free(p);
}

TEST(st_sharded_index_checks) {
    struct st_set s;
    const char *fx = "tests/fixtures/model/olmo2_bf16_gqa_sharded";
    CHECK_MSG(st_open_dir(&s, fx) == 0, "%s", olmo_errmsg());
    CHECK(s.n_files == 2 && st_find(&s, "lm_head.weight") && st_find(&s, "model.layers.0.self_attn.q_norm.weight"));
    st_close(&s);
    const char *dir = th_tmpdir();
    copy_file("tests/fixtures/model/olmo2_bf16_gqa_sharded/model-00001-of-00002.safetensors", dir, "model-00001-of-00002.safetensors");
    /* the index names a shard that is not there */
    write_text(dir, "model.safetensors.index.json", "{\"weight_map\":{\"lm_head.weight\":\"model-00002-of-00002.safetensors\"}}");
    CHECK(st_open_dir(&s, dir) == -1 && strstr(olmo_errmsg(), "model-00002-of-00002.safetensors"));
    /* the index puts a tensor in the wrong shard / omits tensors */
    write_text(dir, "model.safetensors.index.json", "{\"weight_map\":{\"lm_head.weight\":\"model-00001-of-00002.safetensors\"}}");
    CHECK(st_open_dir(&s, dir) == -1 && strstr(olmo_errmsg(), "not in the index"));
    /* path escapes the directory */
    write_text(dir, "model.safetensors.index.json", "{\"weight_map\":{\"x\":\"../etc/passwd\"}}");
    CHECK(st_open_dir(&s, dir) == -1 && strstr(olmo_errmsg(), "inside the model directory"));
    write_text(dir, "model.safetensors.index.json", "{\"metadata\":{}}");
    CHECK(st_open_dir(&s, dir) == -1 && strstr(olmo_errmsg(), "weight_map"));
    const char *empty = th_tmpdir();
    (void)empty;
}

TEST(st_open_missing) {
    struct st_set s;
    CHECK(st_open_dir(&s, "tests/fixtures") == -1 && strstr(olmo_errmsg(), "model.safetensors"));
    CHECK(st_open(&s, "tests/fixtures/nothing.safetensors") == -1);
}

/* What a trainer does to save a checkpoint: config via hf_config_write, weights via st_writer (fp32 values);
 * loading the result gives bit-identical logits (F32) / the same model at bf16 precision (BF16). */
TEST(st_writer_checkpoint_round_trip_through_model_load) {
    const char *fx = "tests/fixtures/model/olmo2_f32_gqa";
    struct olmo_model a, b, c;
    CHECK(model_load(&a, fx, NULL) == 0);
    const char *d32 = th_tmpdir();
    char d16[512];
    snprintf(d16, sizeof d16, "%s/bf16", d32);
    olmo_mkdir_p(d16);
    const char *dirs[2] = {d32, d16};
    for (int k = 0; k < 2; k++) {
        struct st_writer w;
        st_writer_init(&w);
        for (int64_t i = 0; i < a.st.n_tensors; i++) {
            const struct st_tensor *t = &a.st.tensors[i];
            st_writer_add_f32(&w, t->name, k ? ST_BF16 : ST_F32, t->ndim, t->shape, t->data);
        }
        char *p = olmo_path_join(dirs[k], "model.safetensors"), *cp = olmo_path_join(dirs[k], "config.json");
        int rc = st_writer_write(&w, p) | hf_config_write(&a.cfg, k ? "bfloat16" : "float32", cp);
        st_writer_free(&w);
        free(p);
        free(cp);
        CHECK(rc == 0);
    }
    CHECK_MSG(model_load(&b, d32, NULL) == 0, "%s", olmo_errmsg());
    CHECK_MSG(model_load(&c, d16, NULL) == 0, "%s", olmo_errmsg());
    CHECK(!strcmp(b.dtype_name, "F32") && !strcmp(c.dtype_name, "BF16"));
    struct olmo_state sa, sb, sc;
    model_state_init(&sa, &a, 8);
    model_state_init(&sb, &b, 8);
    model_state_init(&sc, &c, 8);
    int V = a.cfg.vocab_size;
    float *la = malloc(sizeof(float) * V), *lb = malloc(sizeof(float) * V), *lc = malloc(sizeof(float) * V);
    int32_t toks[4] = {5, 17, 3, 90};
    model_forward(&a, &sa, toks, 4, 0, la);
    model_forward(&b, &sb, toks, 4, 0, lb);
    model_forward(&c, &sc, toks, 4, 0, lc);
    int same = !memcmp(la, lb, sizeof(float) * V);
    double err = 0, mx = 0;
    for (int i = 0; i < V; i++) err = fmax(err, fabs(la[i] - lc[i])), mx = fmax(mx, fabs(la[i]));
    free(la); free(lb); free(lc);
    model_state_free(&sa); model_state_free(&sb); model_state_free(&sc);
    model_free(&a); model_free(&b); model_free(&c);
    CHECK(same);
    CHECK_MSG(err / mx < 0.05 && err > 0, "bf16 copy: relative logit change %.3e", err / mx);
}
