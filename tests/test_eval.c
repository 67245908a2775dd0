/* test_eval.c — olmo eval's scoring against direct computations through the forward pass:
 *  - a continuation's score (with the KV prefix reused from an earlier query) equals the sum of its tokens'
 *    log-softmax values from one plain forward pass over context ++ continuation;
 *  - Paloma bits per byte of the sample equals NLL / (ln 2 · bytes) computed window by window from scratch;
 *  - each normalisation picks the choice hand-built items say it must;
 *  - every task in ../shared/data/eval loads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "eval/eval_model.h"
#include "eval/eval_ppl.h"
#include "eval/eval_tasks.h"
#include "harness.h"

#define FIXM "tests/fixtures/model/olmo2_gen"

/* Σ log p(seq[j] | seq[0..j)) for j in [from, n), one forward pass over seq[0..n-1) on a fresh state. */
static double direct_logprob(const struct olmo_model *m, const int32_t *seq, int n, int from) {
    struct olmo_state s;
    if (model_state_init(&s, m, n) != 0) return NAN;
    int V = m->cfg.vocab_size;
    float *lg = malloc((size_t)(n - 1) * V * sizeof *lg);
    double sum = NAN;
    if (lg && model_forward_all(m, &s, seq, n - 1, 0, lg) == 0) {
        sum = 0;
        for (int j = from; j < n; j++) {
            const float *l = lg + (size_t)(j - 1) * V;
            double mx = l[0], z = 0;
            for (int v = 1; v < V; v++) mx = fmax(mx, l[v]);
            for (int v = 0; v < V; v++) z += exp(l[v] - mx);
            sum += l[seq[j]] - mx - log(z);
        }
    }
    free(lg);
    model_state_free(&s);
    return sum;
}

TEST(score_equals_forward_pass_logprobs_with_prefix_reuse) {
    struct eval_model em;
    CHECK_MSG(eval_model_open(&em, FIXM, 0, 64) == 0, "%s", olmo_errmsg());
    if (th_failed()) return;
    int32_t seq[40];
    for (int i = 0; i < 40; i++) seq[i] = (int32_t)((i * 37 + 11) % 260);
    /* prime the cache with a query sharing the first 20 tokens, then score ctx = seq[0..25), cont = seq[25..40) */
    struct eval_loglik ll, ll2;
    CHECK(eval_score(&em.sc, seq, 20, seq + 20, 3, &ll) == 0);
    int64_t before = em.sc.n_positions;
    CHECK(eval_score(&em.sc, seq, 25, seq + 25, 15, &ll) == 0);
    CHECK_MSG(em.sc.n_positions - before == 39 - 22, "ran %lld positions, expected 17 (reuse of 22)",
              (long long)(em.sc.n_positions - before));
    double want = direct_logprob(&em.m, seq, 40, 25);
    CHECK_NEAR(ll.sum, want, 1e-3);
    CHECK(ll.n_tokens == 15 && !ll.truncated);
    /* the same from scratch */
    em.sc.reuse = 0;
    CHECK(eval_score(&em.sc, seq, 25, seq + 25, 15, &ll2) == 0);
    CHECK_NEAR(ll2.sum, ll.sum, 1e-3);
    /* a query longer than the cache is left-truncated (OLMo's rule), a continuation longer is refused */
    int32_t big[80];
    for (int i = 0; i < 80; i++) big[i] = (int32_t)((i * 13 + 5) % 260);
    CHECK(eval_score(&em.sc, big, 70, big + 70, 10, &ll) == 0 && ll.truncated);
    CHECK_NEAR(ll.sum, direct_logprob(&em.m, big + 15, 65, 55), 1e-3);
    CHECK(eval_score(&em.sc, big, 5, big + 5, 65, &ll) == -1);
    CHECK(strstr(olmo_errmsg(), "does not fit"));
    int32_t bad = 5000;
    CHECK(eval_score(&em.sc, big, 5, &bad, 1, &ll) == -1);
    CHECK(strstr(olmo_errmsg(), "outside the model's vocabulary"));
    eval_model_close(&em);
}

TEST(paloma_bits_per_byte_equals_direct_computation) {
    char buf[512];
    const char *p = th_shared("eval/paloma_sample/c4_100_domains_5_www.theguardian.com_00000000.jsonl.gz", buf,
                              sizeof buf);
    if (!p) SKIP("../shared/data/eval/paloma_sample absent");
    struct eval_docs docs = {0};
    CHECK_MSG(eval_docs_load(&docs, p, 0) == 0, "%s", olmo_errmsg());
    CHECK(docs.n == 10 && !strcmp(docs.d[0].source, "c4_100_domains"));
    CHECK(!strcmp(docs.d[0].subdomain, "5_www.theguardian.com"));
    struct eval_model em;
    CHECK_MSG(eval_model_open(&em, FIXM, 0, 64) == 0, "%s", olmo_errmsg());
    if (th_failed()) { eval_docs_free(&docs); return; }
    int L = 64, ndocs = 3;   /* three documents keep the test quick */
    docs.n = ndocs;          /* (eval_docs_free frees by n: restore before freeing) */
    struct eval_ppl_opts o = {L, 0, em.prefix_token, 0};
    struct eval_ppl_result r;
    CHECK_MSG(eval_ppl_run(&em.sc, em.tok, &docs, &o, &r) == 0, "%s", olmo_errmsg());
    /* direct: window w predicts tokens [wL, min(n, wL+L)) from the L positions of [EOS]+tokens ending there */
    double nll = 0;
    int64_t bytes = 0, ntok = 0;
    for (int d = 0; d < ndocs; d++) {
        int32_t *ids = NULL;
        size_t n = 0;
        CHECK(tok_encode(em.tok, docs.d[d].text, docs.d[d].len, 0, &ids, &n) == 0);
        int32_t *P = malloc((n + 1) * sizeof *P);
        P[0] = em.prefix_token;
        memcpy(P + 1, ids, n * sizeof *ids);
        for (size_t s = 0; s < n; s += (size_t)L) {
            size_t e = s + (size_t)L < n ? s + (size_t)L : n, a = e > (size_t)L ? e - (size_t)L : 0;
            /* targets P[s+1 .. e+1) from inputs P[a .. e) */
            nll -= direct_logprob(&em.m, P + a, (int)(e + 1 - a), (int)(s + 1 - a));
        }
        bytes += (int64_t)docs.d[d].len;
        ntok += (int64_t)n;
        free(P);
        free(ids);
    }
    CHECK(r.tokens == ntok && r.bytes == bytes && r.n_groups == 1);
    double want = nll / (log(2.0) * (double)bytes), got = r.g[0].nll / (log(2.0) * (double)r.g[0].bytes);
    CHECK_NEAR(got, want, 1e-6 * want);
    char *js = eval_ppl_json(&r, "fixture");
    CHECK(js && strstr(js, "\"bits_per_byte\"") && strstr(js, "\"macro_bits_per_byte\""));
    free(js);
    eval_ppl_result_free(&r);
    docs.n = 10;
    eval_docs_free(&docs);
    eval_model_close(&em);
}

/* Hand-built item: ll, tokens, chars, bytes and the unconditional ll are chosen so that every normalisation
 * picks a different choice. */
TEST(each_normalisation_picks_its_choice) {
    double ll[4] = {-10, -12, -9, -20}, llu[4] = {-1, -30, -8, -15};
    int ntok[4] = {2, 8, 3, 1}, nch[4] = {100, 30, 4, 40}, nby[4] = {10, 30, 4, 80};
    struct eval_item it = {0};
    it.n = 4;
    it.label = 1;
    it.ll = ll;
    it.ll_uncond = llu;
    it.ntok = ntok;
    it.nchars = nch;
    it.nbytes = nby;
    eval_item_predict(&it);
    CHECK_EQ_INT(it.pred[EVAL_RAW], 2);        /* −9 is the largest sum */
    CHECK_EQ_INT(it.pred[EVAL_PER_TOKEN], 1);  /* −12/8 = −1.5 beats −10/2, −9/3, −20/1 */
    CHECK_EQ_INT(it.pred[EVAL_PER_CHAR], 0);   /* −10/100 = −0.1 beats −0.4, −2.25, −0.5 */
    CHECK_EQ_INT(it.pred[EVAL_PER_BYTE], 3);   /* −20/80 = −0.25 beats −1, −0.4, −2.25 */
    CHECK_EQ_INT(it.pred[EVAL_UNCOND], 1);     /* PMI −12 − (−30) = 18 beats −9, −1, −5 */
    /* ties go to the first choice, as numpy's argmax */
    double tie[2] = {-3, -3};
    int one[2] = {1, 1};
    struct eval_item t2 = {0};
    t2.n = 2;
    t2.ll = tie;
    t2.ntok = t2.nchars = t2.nbytes = one;
    eval_item_predict(&t2);
    CHECK_EQ_INT(t2.pred[EVAL_RAW], 0);
    CHECK_EQ_INT(t2.pred[EVAL_UNCOND], -1);    /* no unconditional scores: not computed */
    /* macro over groups (MMLU's subjects): a right, a wrong, b right -> micro 2/3, macro (1/2 + 1)/2 */
    struct eval_item items[3] = {{0}};
    char ga[] = "a", gb[] = "b";
    for (int i = 0; i < 3; i++) {
        items[i].n = 2;
        items[i].label = i == 1 ? 1 : 0;
        items[i].group = i < 2 ? ga : gb;
        for (int k = 0; k < EVAL_N_NORMS; k++) items[i].pred[k] = 0;
    }
    struct eval_task t = {0};
    t.items = items;
    t.n = 3;
    double v, se;
    CHECK(eval_task_metric(&t, "acc_raw", &v, &se) == 0);
    CHECK_NEAR(v, 2.0 / 3.0, 1e-12);
    CHECK_NEAR(se, sqrt((2.0 / 3.0) * (1.0 / 3.0) * 3.0 / 2.0 / 3.0), 1e-12);   /* sample std / sqrt(n) */
    CHECK(eval_task_metric(&t, "acc_raw_macro", &v, &se) == 0);
    CHECK_NEAR(v, 0.75, 1e-12);
}

TEST(every_shared_task_file_loads) {
    char buf[512];
    const char *dir = th_shared("eval", buf, sizeof buf);
    if (!dir) SKIP("../shared/data/eval absent");
    static const char *const names[] = {
        "arc_easy", "arc_challenge", "basic_arithmetic", "boolq", "copa", "hellaswag", "openbook_qa", "piqa", "sciq",
        "winogrande", "social_iqa", "commonsense_qa", "mmlu", "mmlu_test", "rte", "commitment_bank", "sst2",
        "lambada", "arc_challenge_mc_5shot", "arc_challenge_rc_0shot", "arc_challenge_rc_5shot",
        "arc_easy_mc_5shot", "arc_easy_rc_0shot", "arc_easy_rc_5shot", "boolq_mc_5shot", "boolq_rc_0shot",
        "boolq_rc_5shot", "copa_rc_0shot", "copycolors_10way", "csqa_mc_5shot", "csqa_rc_0shot", "csqa_rc_5shot",
        "hellaswag_mc_5shot", "hellaswag_rc_5shot", "openbookqa_mc_5shot", "openbookqa_rc_0shot",
        "openbookqa_rc_5shot", "piqa_mc_5shot", "piqa_rc_0shot", "piqa_rc_5shot", "sciq_rc_0shot",
        "socialiqa_mc_5shot", "socialiqa_rc_0shot", "socialiqa_rc_5shot", "winogrande_mc_5shot",
        "winogrande_rc_0shot", "winogrande_rc_5shot"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        struct eval_task t;
        CHECK_MSG(eval_task_load(&t, names[i], dir, 0, 0, 0) == 0, "%s: %s", names[i], olmo_errmsg());
        if (th_failed()) return;
        CHECK_MSG(t.n > 0 && t.n_skipped == 0, "%s: %d items, %d skipped", names[i], t.n, t.n_skipped);
        eval_task_free(&t);
    }
    /* known sizes and OLMES details */
    struct eval_task t;
    CHECK(eval_task_load(&t, "arc_easy_rc_0shot", dir, 0, 0, 0) == 0);
    CHECK_EQ_INT(t.n, 570);
    CHECK(t.items[0].n == 4 && t.items[0].uctx && !strcmp(t.items[0].uctx[0], "Answer:"));
    CHECK(!strcmp(t.primary, "acc_raw"));
    eval_task_free(&t);
    CHECK(eval_task_load(&t, "winogrande", dir, 0, 0, 0) == 0);
    CHECK_EQ_INT(t.n, 1267);
    CHECK(strcmp(t.items[0].ctx[0], t.items[0].ctx[1]) && !strcmp(t.items[0].cont[0], t.items[0].cont[1]));
    CHECK_MSG(!strcmp(t.items[0].ctx[0], "Sarah was a much better surgeon than Maria so Sarah"), "%s",
              t.items[0].ctx[0]);
    CHECK_MSG(!strcmp(t.items[0].cont[0], " always got the easier cases."), "%s", t.items[0].cont[0]);
    eval_task_free(&t);
    CHECK(eval_task_load(&t, "arc_easy", dir, 2, 5, 0) == 0);   /* 2 shots, 5 items */
    CHECK(t.n == 5 && t.shots == 2 && strstr(t.items[0].ctx[0], "\n\nQuestion: "));
    eval_task_free(&t);
}
