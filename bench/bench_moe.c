/* bench_moe.c — OLMoE decoding at the OLMoE-1B-7B shape (d 2048, 16 heads × 128, 64 experts of width 1024, top 8,
 * vocab 50304) with random bf16 weights held in memory.
 *
 *   build/bench/bench_moe [--layers L] [--decode N] [--q8]
 *
 * The whole model (13.8 GB bf16) does not fit beside the other engineers' work on the build machine, so L layers
 * (default 2) of the real shape are built and measured, and the 16-layer figure is extrapolated from the per-layer
 * time (printed as such). Reported: bytes one decoded token reads (attention + router + its 8 experts + lm_head)
 * against the bytes of every expert (what a dense pass over the MoE would read: the ratio is the saving), decode
 * tokens/s, and the effective bandwidth next to the machine's streaming read bandwidth over the same weights (the
 * physical limit of a memory-bound decode). CPU: printed by olmo_cpu_model(). */
#include "base/log.h"
#include "base/mem.h"
#include "model/kernels/pool.h"
#include "model/model.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint16_t *rand_bf16(size_t n, uint64_t seed) {
    uint16_t *p = olmo_aligned_alloc(n * 2);
    if (!p) return NULL;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {   /* ±[0.008, 0.03): OLMo's init scale; exponent fixed, random sign and mantissa */
        uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull ^ seed;
        x ^= x >> 29;
        x *= 0xBF58476D1CE4E5B9ull;
        x ^= x >> 32;
        p[i] = (uint16_t)(0x3C00 | (x & 0x7f) | ((x >> 8 & 1) << 15) | ((x >> 9 & 1) << 7));
    }
    return p;
}

static struct olmo_linear mat(const uint16_t *data, int64_t rows, int64_t cols) {
    struct olmo_linear W = {.dtype = OLMO_DTYPE_BF16, .rows = rows, .cols = cols, .data = data};
    return W;
}

static uint64_t lbytes(const struct olmo_linear *W) {
    uint64_t n = (uint64_t)(W->rows * W->cols);
    return W->dtype == OLMO_DTYPE_Q8 ? linear_q8_bytes(W->rows, W->cols) : 2 * n;
}

static double read_bandwidth(const uint16_t *p, size_t n) {   /* one streaming pass, the pool's threads */
    double best = 1e30;
    for (int rep = 0; rep < 2; rep++) {
        double t0 = olmo_now();
        uint64_t s = 0;
#pragma omp parallel for reduction(+ : s) schedule(static) num_threads(olmo_pool_threads())
        for (size_t i = 0; i < n / 4; i++) s += ((const uint64_t *)p)[i];
        double t = olmo_now() - t0;
        if (s == 42) printf(" ");
        if (t < best) best = t;
    }
    return (double)n * 2 / best / 1e9;
}

int main(int argc, char **argv) {
    int L = 2, N = 16, q8 = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--layers") && i + 1 < argc) L = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--decode") && i + 1 < argc) N = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--q8")) q8 = 1;
        else {
            fprintf(stderr, "usage: bench_moe [--layers L] [--decode N] [--q8]\n");
            return 2;
        }
    }
    if (L < 1 || L > 16 || N < 1) return fprintf(stderr, "bench_moe: --layers 1..16, --decode >= 1\n"), 2;
    const char *cpu = olmo_cpu_model();

    struct olmo_model m;
    memset(&m, 0, sizeof m);
    struct olmo_config *c = &m.cfg;
    *c = (struct olmo_config){.arch = ARCH_OLMOE, .norm_type = NORM_RMSNORM, .qk_norm = 1, .d_model = 2048, .n_layers = L,
                              .n_heads = 16, .n_kv_heads = 16, .head_dim = 128, .d_ff = 1024, .vocab_size = 50304,
                              .max_seq_len = 4096, .rope_theta = 10000, .norm_eps = 1e-5f, .n_experts = 64, .top_k = 8,
                              .bos_token_id = -1, .eos_token_id = 50279, .pad_token_id = 1};
    int64_t d = 2048, I = 1024, E = 64, V = 50304;
    size_t per_layer = (size_t)(4 * d * d + E * d + E * 3 * I * d);
    size_t total = (size_t)L * per_layer + 2 * (size_t)(V * d);
    double t0 = olmo_now();
    uint16_t *w = rand_bf16(total, 6198);
    float *ones = malloc(sizeof(float) * (size_t)d);
    m.layers = calloc((size_t)L, sizeof *m.layers);
    if (!w || !ones || !m.layers) return fprintf(stderr, "bench_moe: out of memory (%.1f GB)\n", total * 2 / 1e9), 1;
    for (int i = 0; i < d; i++) ones[i] = 1.0f;
    const uint16_t *p = w;
    m.embed = mat(p, V, d), p += V * d;
    m.lm_head = mat(p, V, d), p += V * d;
    m.final_norm = ones;
    for (int l = 0; l < L; l++) {
        struct olmo_layer *ly = &m.layers[l];
        ly->wq = mat(p, d, d), p += d * d;
        ly->wk = mat(p, d, d), p += d * d;
        ly->wv = mat(p, d, d), p += d * d;
        ly->wo = mat(p, d, d), p += d * d;
        ly->router = mat(p, E, d), p += E * d;
        ly->attn_norm = ly->ffn_norm = ly->q_norm = ly->k_norm = ones;
        ly->ex_gate = calloc((size_t)E, sizeof(struct olmo_linear));
        ly->ex_up = calloc((size_t)E, sizeof(struct olmo_linear));
        ly->ex_down = calloc((size_t)E, sizeof(struct olmo_linear));
        for (int e = 0; e < E; e++) {
            ly->ex_gate[e] = mat(p, I, d), p += I * d;
            ly->ex_up[e] = mat(p, I, d), p += I * d;
            ly->ex_down[e] = mat(p, d, I), p += I * d;
        }
    }
    if (q8 && model_quantize(&m, OLMO_QUANT_Q8) != 0) return fprintf(stderr, "bench_moe: q8 failed\n"), 1;
    double t_build = olmo_now() - t0;
    uint64_t attn = 0, experts = 0;
    for (int l = 0; l < L; l++) {
        const struct olmo_layer *ly = &m.layers[l];
        attn += lbytes(&ly->wq) + lbytes(&ly->wk) + lbytes(&ly->wv) + lbytes(&ly->wo) + lbytes(&ly->router);
        for (int e = 0; e < E; e++) experts += lbytes(&ly->ex_gate[e]) + lbytes(&ly->ex_up[e]) + lbytes(&ly->ex_down[e]);
    }
    uint64_t per_tok = attn + experts / (uint64_t)E * 8 + lbytes(&m.lm_head);

    struct olmo_state s;
    if (model_state_init(&s, &m, 64) != 0) return 1;
    int32_t prompt[16];
    for (int i = 0; i < 16; i++) prompt[i] = (i * 977 + 13) % (int)V;
    float *logits = malloc(sizeof(float) * (size_t)V);
    model_forward(&m, &s, prompt, 16, 0, logits);
    double t1 = olmo_now();
    for (int i = 0; i < N; i++) {
        int32_t t = (i * 31 + 7) % (int)V;
        model_forward(&m, &s, &t, 1, 16 + i, logits);
    }
    double dt = (olmo_now() - t1) / N;
    double bw = read_bandwidth(w, total);
    /* extrapolation to 16 layers: lm_head time taken as its bytes at the measured effective bandwidth */
    double eff = per_tok / dt / 1e9;
    double lm_s = lbytes(&m.lm_head) / (eff * 1e9), layer_s = (dt - lm_s) / L;
    uint64_t per_tok16 = (per_tok - lbytes(&m.lm_head)) / (uint64_t)L * 16 + lbytes(&m.lm_head);
    printf("bench_moe: OLMoE-1B-7B shape, %d of 16 layers built (%s weights, %.1f GB, %.1f s to build), %d threads, CPU %s\n",
           L, q8 ? "Q8" : "bf16", (double)total * 2 / 1e9, t_build, olmo_pool_threads(), cpu);
    printf("  bytes per decoded token: %.1f MB (attention + router + 8 of 64 experts + lm_head); all experts would be "
           "%.1f MB more: x%.1f less read\n", per_tok / 1e6, (double)(experts - experts / (uint64_t)E * 8) / 1e6,
           (double)(per_tok + experts - experts / (uint64_t)E * 8) / per_tok);
    printf("  decode: %.2f tok/s with %d layers; effective %.1f GB/s vs streaming read %.1f GB/s (%.0f %% of the limit)\n",
           1 / dt, L, eff, bw, 100 * eff / bw);
    printf("  16 layers (extrapolated from %.1f ms per layer): %.0f MB per token, %.2f tok/s; the bandwidth limit is "
           "%.2f tok/s\n", layer_s * 1e3, per_tok16 / 1e6, 1 / (16 * layer_s + lm_s), bw * 1e9 / per_tok16);
    model_state_free(&s);
    free(logits);
    return 0;
}
