/* test_batch.c — batched decoding (model_forward_batch) and KV-cache prefix copies (model_state_copy_prefix).
 *
 * The server decodes many sequences in one pass over the weights; that must not change any sequence's output.
 * So the check is exact: after prompts of different lengths, each batched step's logits are compared bit for bit
 * with model_forward of that token alone on a twin state, and the caches must stay equal too. Run over fp32, bf16
 * and f16 checkpoints, a bf16 KV cache, and Q8 weights, which exercise each GEMV kernel. */
#include "harness.h"
#include "base/error.h"
#include "model/model.h"

#include <stdlib.h>
#include <string.h>

#define FIX "tests/fixtures/model/"
#define NSEQ 3
#define STEPS 6

static int32_t tok(int seq, int t, int V) { return (int32_t)((seq * 37 + t * 11 + 5) % V); }

/* Returns 1 when the batched steps equal the single ones bit for bit, after th_fail otherwise. */
static int batch_equals_single(const char *name, const struct model_load_opts *lo, const struct model_state_opts *so) {
    struct olmo_model m;
    if (model_load(&m, name, lo) != 0) {
        th_fail(__FILE__, __LINE__, "load %s: %s", name, olmo_errmsg());
        return 0;
    }
    int V = m.cfg.vocab_size, ok = 1, plen[NSEQ] = {5, 1, 9};
    struct olmo_state a[NSEQ], b[NSEQ];
    struct olmo_state *ap[NSEQ];
    float *lb = malloc(sizeof(float) * (size_t)V * NSEQ), *ls = malloc(sizeof(float) * (size_t)V);
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    for (int i = 0; i < NSEQ && ok; i++) {
        int32_t prompt[16];
        for (int t = 0; t < plen[i]; t++) prompt[t] = tok(i, t, V);
        ok = model_state_init_opts(&a[i], &m, 32, so) == 0 && model_state_init_opts(&b[i], &m, 32, so) == 0 &&
             model_forward(&m, &a[i], prompt, plen[i], 0, NULL) == 0 && model_forward(&m, &b[i], prompt, plen[i], 0, NULL) == 0;
        ap[i] = &a[i];
    }
    if (!ok) th_fail(__FILE__, __LINE__, "%s: %s", name, olmo_errmsg());
    for (int s = 0; s < STEPS && ok; s++) {
        int32_t t[NSEQ];
        for (int i = 0; i < NSEQ; i++) t[i] = tok(i, 100 + s, V);
        /* from step 3 on, sequence 1 sits out: batches need not hold every sequence */
        int n = s >= 3 ? 2 : NSEQ;
        struct olmo_state *sel[NSEQ] = {ap[0], ap[2], ap[1]};
        int32_t tsel[NSEQ] = {t[0], t[2], t[1]};
        int idx[NSEQ] = {0, 2, 1};
        if (model_forward_batch(&m, sel, tsel, n, lb) != 0) {
            th_fail(__FILE__, __LINE__, "%s batch step %d: %s", name, s, olmo_errmsg());
            ok = 0;
            break;
        }
        for (int k = 0; k < n && ok; k++) {
            int i = idx[k];
            if (model_forward(&m, &b[i], &tsel[k], 1, b[i].pos, ls) != 0) {
                th_fail(__FILE__, __LINE__, "%s: %s", name, olmo_errmsg());
                ok = 0;
            } else if (memcmp(ls, lb + (size_t)k * V, sizeof(float) * (size_t)V) != 0 || a[i].pos != b[i].pos) {
                th_fail(__FILE__, __LINE__, "%s: step %d sequence %d: batched logits differ from single (%.9g vs %.9g)",
                        name, s, i, lb[(size_t)k * V], ls[0]);
                ok = 0;
            }
        }
    }
    for (int i = 0; i < NSEQ && ok; i++)   /* the written rows (the rest of a cache is never initialised) */
        for (int l = 0; l < m.cfg.n_layers && ok; l++)
            for (int g = 0; g < m.cfg.n_kv_heads && ok; g++) {
                size_t at = model_kv_offset(&a[i], l, g, 0) * (so && so->kv_dtype == OLMO_KV_BF16 ? 2 : 4);
                size_t len = (size_t)a[i].pos * (size_t)m.cfg.head_dim * (so && so->kv_dtype == OLMO_KV_BF16 ? 2 : 4);
                if (memcmp((char *)a[i].k_cache + at, (char *)b[i].k_cache + at, len) != 0 ||
                    memcmp((char *)a[i].v_cache + at, (char *)b[i].v_cache + at, len) != 0) {
                    th_fail(__FILE__, __LINE__, "%s: sequence %d's cache (layer %d) differs after batched decoding", name, i, l);
                    ok = 0;
                }
            }
    for (int i = 0; i < NSEQ; i++) {
        model_state_free(&a[i]);
        model_state_free(&b[i]);
    }
    free(lb);
    free(ls);
    model_free(&m);
    return ok;
}

TEST(batch_equals_single_f32) {
    CHECK(batch_equals_single(FIX "olmo2_f32_gqa", NULL, NULL));
    CHECK(batch_equals_single(FIX "olmo1_f32_tied_clip", NULL, NULL));
    CHECK(batch_equals_single(FIX "llama_f32_gqa", NULL, NULL));
    CHECK(batch_equals_single(FIX "olmo2_f32_hd16_long", NULL, NULL));
}

TEST(batch_equals_single_bf16_f16) {
    CHECK(batch_equals_single(FIX "olmo2_bf16_gqa_sharded", NULL, NULL));
    CHECK(batch_equals_single(FIX "llama_bf16_tied", NULL, NULL));
    CHECK(batch_equals_single(FIX "olmo2_f16", NULL, NULL));
}

TEST(batch_equals_single_bf16_kv_and_q8) {
    struct model_state_opts so = {.kv_dtype = OLMO_KV_BF16};
    CHECK(batch_equals_single(FIX "olmo2_f32_gqa", NULL, &so));
    struct model_load_opts q8 = {.quant = OLMO_QUANT_Q8};
    CHECK(batch_equals_single(FIX "olmo2_f32_gqa", &q8, NULL));
}

TEST(batch_rejects_bad_input) {
    struct olmo_model m;
    CHECK(model_load(&m, FIX "llama_f32_gqa", NULL) == 0);
    struct olmo_state s1, s2;
    CHECK(model_state_init(&s1, &m, 2) == 0);
    CHECK(model_state_init(&s2, &m, 2) == 0);
    struct olmo_state *same[2] = {&s1, &s1}, *two[2] = {&s1, &s2};
    int32_t t[2] = {3, 4}, bad[2] = {3, 96};
    int rc_same = model_forward_batch(&m, same, t, 2, NULL);
    int rc_bad = model_forward_batch(&m, two, bad, 2, NULL);
    int pos_kept = s1.pos == 0 && s2.pos == 0;
    s2.pos = 2;   /* full */
    int rc_full = model_forward_batch(&m, two, t, 2, NULL);
    model_state_free(&s1);
    model_state_free(&s2);
    model_free(&m);
    CHECK(rc_same == -1 && rc_bad == -1 && rc_full == -1 && pos_kept);
}

/* A state that got its first k positions by copy continues exactly as the state it was copied from. */
TEST(state_copy_prefix_continues_identically) {
    struct olmo_model m;
    CHECK(model_load(&m, FIX "olmo2_f32_gqa", NULL) == 0);
    int V = m.cfg.vocab_size, ok = 1;
    int32_t toks[12];
    for (int t = 0; t < 12; t++) toks[t] = tok(1, t, V);
    struct olmo_state src, dst, ref;
    float *l1 = malloc(sizeof(float) * V), *l2 = malloc(sizeof(float) * V);
    ok = model_state_init(&src, &m, 32) == 0 && model_state_init(&dst, &m, 20) == 0 && model_state_init(&ref, &m, 32) == 0;
    /* src runs a 10-token prompt; dst takes its first 6 positions and runs its own continuation */
    ok = ok && model_forward(&m, &src, toks, 10, 0, NULL) == 0 && model_forward(&m, &ref, toks, 10, 0, NULL) == 0;
    ok = ok && model_state_copy_prefix(&dst, &src, 6) == 0 && dst.pos == 6;
    int32_t cont[3] = {7, 8, 9};
    ok = ok && model_forward(&m, &dst, cont, 3, 6, l1) == 0 && model_forward(&m, &ref, cont, 3, 6, l2) == 0;
    int same = ok && memcmp(l1, l2, sizeof(float) * V) == 0;
    int rc_long = model_state_copy_prefix(&dst, &src, 11);   /* more than src holds */
    int rc_self = model_state_copy_prefix(&src, &src, 2);
    model_state_free(&src);
    model_state_free(&dst);
    model_state_free(&ref);
    free(l1);
    free(l2);
    model_free(&m);
    CHECK_MSG(ok, "%s", olmo_errmsg());
    CHECK(same);
    CHECK(rc_long == -1 && rc_self == -1);
}
