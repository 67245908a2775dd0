/* bench_kvcache.c — decode speed with an fp32 vs a bf16 KV cache, side by side, at long positions.
 *
 *   build/bench/bench_kvcache [--model-dir DIR] [--threads N] [--positions 512,2048] [--decode N]
 *
 * Loads a checkpoint (default /tmp/ck1b: an OLMo-2 1B-shape bf16 checkpoint, e.g. written by
 * `bench_inference --write-checkpoint DIR --model 0` or bench_model), creates two states (fp32 and bf16 cache)
 * and, for each position P in ascending order:
 *   - brings both caches to P: the fp32 state by one model_forward prefill call, the bf16 state by rounding the
 *     fp32 cache (what a bf16 prefill would hold up to the rounding of earlier layers' attention; decode time does
 *     not depend on the values), so only one long prefill runs;
 *   - decodes N tokens in each state, ALTERNATING token by token (f32, bf16, bf16, f32, ...): this machine's memory
 *     bandwidth moves between ~23 and ~50 GB/s within seconds with other tenants' traffic, so only figures taken
 *     side by side compare;
 *   - prints tokens/s, the attention time per token (the state's profile) and its share, the bytes a token reads
 *     (weights + the cache up to P), and the streaming read bandwidth of the mapped weights measured right after
 *     (best of two passes; the bound: bytes per token / bandwidth).
 * llama.cpp keeps an f16 cache by default; its 1B bf16 decode on this machine (issue 3) is printed alongside. */
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "model/kernels/pool.h"
#include "model/model.h"
#include "bench_common.h"

#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* Best of `passes` streaming passes over every mapped file (bench_common.h; the first pass of a run also maps the
 * pages decoding never touched, e.g. most embedding rows, so main makes one warm-up pass). */
static double read_bandwidth(const struct olmo_model *m, int passes) {
    double best = 0;
    for (int r = 0; r < passes; r++) {
        uint64_t bytes;
        double t = bench_read_mapped_files(m, &bytes), gbs = (double)bytes / t / 1e9;
        if (gbs > best) best = gbs;
    }
    return best;
}

/* The bf16 state's cache = the fp32 state's, rounded, for positions [0, n). */
static void round_cache(struct olmo_state *dst, const struct olmo_state *src, int n_layers, int n) {
    for (int l = 0; l < n_layers; l++)
        for (int g = 0; g < src->kv_dim / src->head_dim; g++) {   /* positions [0, n) of a head are contiguous */
            size_t at = model_kv_offset(src, l, g, 0);
            kv_store(dst->k_cache, dst->kv_dtype, at, (const float *)src->k_cache + at, n * src->head_dim);
            kv_store(dst->v_cache, dst->kv_dtype, at, (const float *)src->v_cache + at, n * src->head_dim);
        }
}

int main(int argc, char **argv) {
    bench_print_cpu(stdout);   /* a figure belongs to a CPU */
    const char *dir = "/tmp/ck1b";
    int threads = 2, decode = 16, positions[8] = {512, 2048}, n_pos = 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model-dir") && i + 1 < argc) dir = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--decode") && i + 1 < argc) decode = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--positions") && i + 1 < argc) {
            n_pos = 0;
            for (char *s = argv[++i], *end; *s && n_pos < 8; s = *end ? end + 1 : end) {
                positions[n_pos++] = (int)strtol(s, &end, 10);
                if (end == s) break;
            }
        } else {
            fprintf(stderr, "usage: bench_kvcache [--model-dir DIR] [--threads N] [--positions P1,P2,...] [--decode N]\n");
            return 2;
        }
    }
    for (int i = 0; i < n_pos; i++)
        if (positions[i] < 1 || (i && positions[i] <= positions[i - 1] + decode)) {
            fprintf(stderr, "bench_kvcache: positions must be ascending, each more than --decode (%d) past the last\n", decode);
            return 2;
        }
    if (decode < 1 || threads < 1) { fprintf(stderr, "bench_kvcache: --decode and --threads must be positive\n"); return 2; }
    olmo_pool_set_threads(threads);
    omp_set_num_threads(threads);

    struct olmo_model m;
    if (model_load(&m, dir, NULL) != 0) { fprintf(stderr, "bench_kvcache: %s\n", olmo_errmsg()); return 1; }
    const struct olmo_config *c = &m.cfg;
    int max_seq = positions[n_pos - 1] + decode + 1;
    struct olmo_state st[2];
    struct model_state_opts so[2] = {{.kv_dtype = OLMO_KV_F32}, {.kv_dtype = OLMO_KV_BF16}};
    if (model_state_init_opts(&st[0], &m, max_seq, &so[0]) != 0 || model_state_init_opts(&st[1], &m, max_seq, &so[1]) != 0) {
        fprintf(stderr, "bench_kvcache: %s\n", olmo_errmsg());
        return 1;
    }
    int32_t *tok = malloc(sizeof(int32_t) * (size_t)max_seq);
    float *logits = malloc(sizeof(float) * (size_t)c->vocab_size);
    if (!tok || !logits) { fprintf(stderr, "bench_kvcache: out of memory\n"); return 1; }
    for (int i = 0; i < max_seq; i++) tok[i] = (int32_t)((i * 7919) % (c->vocab_size < 50000 ? c->vocab_size : 50000));

    double per_pos[2] = {2.0 * c->n_layers * (double)st[0].kv_dim * 4, 2.0 * c->n_layers * (double)st[0].kv_dim * 2};
    printf("bench_kvcache: %s (%d layers, d=%d, %d KV heads x %d), %s weights %.2f GB, %d threads\n", dir, c->n_layers,
           c->d_model, c->n_kv_heads, c->head_dim, m.dtype_name, m.weight_bytes / 1e9, threads);
    printf("KV cache per position: f32 %.3f MB, bf16 %.3f MB; allocated for %d positions: f32 %.1f MB, bf16 %.1f MB\n",
           per_pos[0] / 1e6, per_pos[1] / 1e6, max_seq, st[0].kv_bytes / 1e6, st[1].kv_bytes / 1e6);
    printf("  (OLMo-2 7B: 32 layers x 4096 per position = f32 1.05 MB, bf16 0.52 MB; at 4096 positions 4.29 GB vs 2.15 GB)\n");

    read_bandwidth(&m, 1);   /* warm-up: maps every page of the file */
    int pos = 0;
    for (int pi = 0; pi < n_pos; pi++) {
        int P = positions[pi];
        double t0 = olmo_now();
        if (model_forward(&m, &st[0], tok + pos, P - pos, pos, logits) != 0) { fprintf(stderr, "%s\n", olmo_errmsg()); return 1; }
        double pre_s = olmo_now() - t0;
        round_cache(&st[1], &st[0], c->n_layers, P);
        printf("\nposition %d: fp32-cache prefill of %d tokens %.1f s (%.1f tok/s); bf16 cache = that cache rounded\n", P,
               P - pos, pre_s, (P - pos) / pre_s);
        double sec[2] = {0, 0}, attn[2], total[2];
        for (int k = 0; k < 2; k++) st[k].t_total = st[k].t_proj = st[k].t_attn = 0;
        for (int i = 0; i < decode; i++)
            for (int o = 0; o < 2; o++) {
                int k = (i & 1) ? 1 - o : o;   /* f32 bf16 | bf16 f32 | ... */
                t0 = olmo_now();
                if (model_forward(&m, &st[k], tok + P + i, 1, P + i, logits) != 0) { fprintf(stderr, "%s\n", olmo_errmsg()); return 1; }
                sec[k] += olmo_now() - t0;
            }
        for (int k = 0; k < 2; k++) { attn[k] = st[k].t_attn; total[k] = st[k].t_total; }
        double bw = read_bandwidth(&m, 2);
        double mid = P + (decode - 1) / 2.0;   /* mean position of the decoded tokens */
        for (int k = 0; k < 2; k++) {
            double tps = decode / sec[k], kv_tok = per_pos[k] * mid, bytes = (double)m.weight_bytes + kv_tok;
            printf("  %-4s cache: decode %d tokens at %d..%d: %.2f tok/s | attention %.1f ms/token = %.1f %% of the token"
                   " | reads %.2f GB/token (cache %.0f MB) -> %.1f GB/s effective, bound at the read bandwidth: %.2f tok/s\n",
                   k ? "bf16" : "f32", decode, P, P + decode - 1, tps, 1e3 * attn[k] / decode, 100 * attn[k] / total[k],
                   bytes / 1e9, kv_tok / 1e6, tps * bytes / 1e9, bw * 1e9 / bytes);
        }
        printf("  bf16/f32: decode speed x%.3f, attention time x%.3f | streaming read of the weights just after: %.1f GB/s"
               " | llama.cpp (bf16 weights, f16 cache, short context): %.0f tok/s\n",
               sec[0] / sec[1], attn[1] / attn[0], bw, LLAMA_DECODE_BF16);
        pos = P + decode;
    }
    free(tok);
    free(logits);
    model_state_free(&st[0]);
    model_state_free(&st[1]);
    model_free(&m);
    return 0;
}
