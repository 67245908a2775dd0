/* bench_eval.c — `olmo eval tasks` scoring speed: KV-prefix reuse against scoring every choice from scratch, at the
 * OLMo-2 1B shape (random bf16 weights, bench_common.h) or any checkpoint.
 *
 * Synthetic items with OLMES's shapes (token ids, no tokenizer needed): 4 choices of 6 tokens and 4 unconditional
 * requests ("Answer:" = 2 tokens) per item;
 *   0-shot: a 40-token context per item;
 *   5-shot: a 360-token few-shot prefix shared by every item, then a 40-token question.
 * For each, items/s and positions run per item with reuse (eval_scorer.reuse = 1, what `olmo eval` does) and from
 * scratch (reuse = 0: every query prefilled from position 0, as a harness without caching does), the speed-up, and
 * the bound: the model's prefill speed measured here (positions/s of one long model_forward_all) divided by the
 * positions an item needs at least with reuse. The CPU is named by olmo_cpu_model().
 *
 *   build/bench/bench_eval [--shape 1b|tiny] [--model-dir DIR] [--items N] [--threads N] [--shared N]
 * (--shared: the few-shot prefix length, default 360; smaller keeps a 1B run on 2 busy cores under two minutes)
 * Run it under `flock /work/locks/bench`. */
#include "bench_common.h"

#include "eval/eval_score.h"

#include <string.h>
#include <unistd.h>

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static int32_t rid(int V) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (int32_t)(rng % (uint64_t)(V - 300)) + 200;
}

/* Scores n items; returns seconds; *positions gets the positions run. */
static double run_items(struct eval_scorer *sc, int V, int n, int shared, int question, int reuse, int64_t *positions) {
    enum { NCH = 4, CL = 6, UL = 2 };
    int ctx_len = shared + question;
    int32_t *ctx = malloc((size_t)ctx_len * sizeof *ctx), cont[NCH][CL], unc[UL] = {300, 301};
    uint64_t save = rng;
    rng = 0x1234567ull;
    for (int i = 0; i < shared; i++) ctx[i] = rid(V);   /* the same few-shot prefix for every item */
    sc->reuse = reuse;
    eval_scorer_reset(sc);
    int64_t p0 = sc->n_positions;
    double t0 = olmo_now();
    /* as eval_task_score: every item's own requests, then every unconditional one */
    for (int pass = 0; pass < 2; pass++) {
        uint64_t items_rng = rng;
        for (int it = 0; it < n; it++) {
            for (int i = shared; i < ctx_len; i++) ctx[i] = rid(V);
            for (int c = 0; c < NCH; c++)
                for (int k = 0; k < CL; k++) cont[c][k] = rid(V);
            struct eval_loglik ll;
            for (int c = 0; c < NCH; c++)
                if (eval_score(sc, pass ? unc : ctx, pass ? UL : ctx_len, cont[c], CL, &ll) != 0) {
                    free(ctx);
                    return -1;
                }
        }
        rng = items_rng;   /* the second pass sees the same continuations */
    }
    double t = olmo_now() - t0;
    *positions = sc->n_positions - p0;
    rng = save;
    free(ctx);
    return t;
}

int main(int argc, char **argv) {
    const struct shape *S = &SHAPES[0];
    const char *model_dir = NULL;
    int items = 4, threads = 2, shared = 360;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(a, "--shape")) { S = !strcmp(v, "tiny") ? &SHAPES[2] : &SHAPES[0]; i++; }
        else if (!strcmp(a, "--model-dir")) { model_dir = v; i++; }
        else if (!strcmp(a, "--items")) { items = atoi(v); i++; }
        else if (!strcmp(a, "--threads")) { threads = atoi(v); i++; }
        else if (!strcmp(a, "--shared")) { shared = atoi(v); i++; }
        else { fprintf(stderr, "bench_eval: unknown option %s (see the comment at the top)\n", a); return 2; }
    }
    if (items < 1 || threads < 1) { fprintf(stderr, "bench_eval: bad numbers\n"); return 2; }
    olmo_pool_set_threads(threads);
    char dir[512];
    const char *cpu = olmo_cpu_model();
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    int own = !model_dir;
    if (own) {
        snprintf(dir, sizeof dir, "%s/olmo-bench-eval-XXXXXX", tmp);
        if (!mkdtemp(dir) || bench_write_checkpoint(dir, S) != 0) {
            fprintf(stderr, "bench_eval: cannot write the checkpoint: %s\n", olmo_errmsg());
            return 1;
        }
    } else {
        snprintf(dir, sizeof dir, "%s", model_dir);
    }
    struct olmo_model m;
    struct olmo_state st;
    struct eval_scorer sc;
    int rc = 1;
    if (model_load(&m, dir, NULL) != 0) { fprintf(stderr, "bench_eval: %s\n", olmo_errmsg()); goto rm; }
    if (model_state_init(&st, &m, 512) != 0 || eval_scorer_init(&sc, &m, &st) != 0) {
        fprintf(stderr, "bench_eval: %s\n", olmo_errmsg());
        goto rm;
    }
    int V = m.cfg.vocab_size;
    printf("bench_eval: %s, %d threads, %s (d %d, %d layers, vocab %d), %d items per run\n", cpu, threads,
           own ? S->name : dir, m.cfg.d_model, m.cfg.n_layers, V, items);
    /* the bound's denominator: prefill positions/s of one 400-token forward pass */
    int32_t *ids = malloc(400 * sizeof *ids);
    float *lg = malloc((size_t)64 * V * sizeof *lg);
    for (int i = 0; i < 400; i++) ids[i] = rid(V);
    double t0 = olmo_now();
    for (int p = 0; p < 400; p += 64) model_forward_all(&m, &st, ids + p, 400 - p < 64 ? 400 - p : 64, p, lg);
    double prefill = 400 / (olmo_now() - t0);
    free(ids);
    free(lg);
    printf("prefill (the bound's rate): %.1f positions/s\n", prefill);
    printf("5-shot = a %d-token prefix shared by every item + a 40-token question\n", shared);
    printf("%-7s %-12s %9s %10s %12s %12s %9s\n", "setting", "mode", "items/s", "pos/item", "bound it/s", "vs bound",
           "speed-up");
    const struct { const char *name; int shared, question; } set[] = {{"0-shot", 0, 40}, {"5-shot", shared, 40}};
    for (int s = 0; s < 2; s++) {
        int64_t pr, ps;
        double tr = run_items(&sc, V, items, set[s].shared, set[s].question, 1, &pr);
        double ts = run_items(&sc, V, items, set[s].shared, set[s].question, 0, &ps);
        if (tr < 0 || ts < 0) { fprintf(stderr, "bench_eval: %s\n", olmo_errmsg()); goto out; }
        /* least positions per item that any scorer must run: its own question, each choice's first 5 tokens
         * (the 6th is only predicted), and the unconditional requests' continuations (4 × 5; "Answer:" once) */
        double min_pos = set[s].question + 4 * 5 + 4 * 5;
        double bound = prefill / min_pos;
        printf("%-7s %-12s %9.3f %10.1f %12.3f %11.0f%% %9s\n", set[s].name, "reuse", items / tr, (double)pr / items,
               bound, 100.0 * (items / tr) / bound, "");
        char su[32];
        snprintf(su, sizeof su, "%.2fx", ts / tr);
        printf("%-7s %-12s %9.3f %10.1f %12s %12s %9s\n", set[s].name, "from scratch", items / ts, (double)ps / items,
               "", "", su);
        fflush(stdout);
    }
    rc = 0;
out:
    eval_scorer_free(&sc);
    model_state_free(&st);
    model_free(&m);
rm:
    if (own) {
        char p[600];
        snprintf(p, sizeof p, "%s/model.safetensors", dir);
        unlink(p);
        snprintf(p, sizeof p, "%s/config.json", dir);
        unlink(p);
        rmdir(dir);
    }
    return rc;
}
