/* bench_model.c — the whole forward pass (model_forward: projections, attention over the KV cache, norms, RoPE,
 * SwiGLU, lm_head) on a checkpoint at a real OLMo-2 shape, loaded from disk the way `olmo generate` loads one.
 *
 *   build/bench/bench_model [--shape 1b|7b] [--dir DIR] [--threads N] [--prompt T] [--decode N] [--q8]
 *
 * If DIR (default /tmp/olmo-bench-<shape>-bf16) holds no checkpoint, a random bf16 OLMo-2 checkpoint of that shape
 * is written there first (bench_common.h: bench_write_checkpoint, the same writer as bench_inference's). Then it is loaded (memory-mapped) and measured:
 *   - memory: anonymous resident memory (RssAnon) after load next to the checkpoint size — with the weights
 *     mapped, not copied, RssAnon stays far below the file size (a 15 GB checkpoint does not need 30 GB);
 *   - read bandwidth: one streaming pass over the mapped weights with the same threads (the decode bound);
 *   - prefill tokens/s for a T-token prompt in one model_forward call; decode tokens/s for N single tokens,
 *     with the effective bandwidth (weight bytes per token × tokens/s);
 *   - the same with --q8 (projections converted to Q8 at load; that copy is anonymous memory by design).
 * llama.cpp's figures on this machine (issue 3, OLMo-2 1B shape, 2 threads) are printed alongside. */
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "formats/hf_config.h"
#include "formats/safetensors.h"
#include "model/kernels/linear.h"
#include "model/kernels/pool.h"
#include "model/model.h"
#include "bench_common.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>


static long status_kb(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t k = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, k)) v = atol(line + k + 1);
    if (f) fclose(f);
    return v;
}

/* the decode bound of a bf16 model: best of 3 streaming reads over the mapped files (bench_common.h) */
static double read_bandwidth(const struct olmo_model *m) {
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        uint64_t bytes;
        double t = bench_read_mapped_files(m, &bytes), gbs = (double)bytes / t / 1e9;
        if (gbs > best) best = gbs;
    }
    return best;
}

static int run(const char *dir, int q8, int prompt, int decode) {
    struct olmo_model m;
    struct model_load_opts o = {.quant = q8 ? OLMO_QUANT_Q8 : OLMO_QUANT_NONE};
    long anon0 = status_kb("RssAnon:");
    double t0 = olmo_now();
    if (model_load(&m, dir, &o) != 0) return -1;
    double load_s = olmo_now() - t0;
    long anon1 = status_kb("RssAnon:");
    uint64_t file_bytes = 0;
    for (int f = 0; f < m.st.n_files; f++) file_bytes += m.st.files[f].map.size;
    struct olmo_state st;
    if (model_state_init(&st, &m, prompt + decode + 1) != 0) return -1;
    int32_t *tok = malloc(sizeof(int32_t) * (size_t)(prompt + decode));
    float *logits = malloc(sizeof(float) * (size_t)m.cfg.vocab_size);
    for (int i = 0; i < prompt + decode; i++) tok[i] = (int32_t)((i * 7919) % 50000);
    /* bf16 decode reads the mapped file: its read speed is the bound. Q8 reads its own copy, and touching the
     * whole file here would only inflate the peak RSS (quantizing drops each matrix's file pages). */
    double bw = q8 ? 0 : read_bandwidth(&m);
    model_forward(&m, &st, tok, 1, 0, logits);   /* warm-up: pages in, pool started */
    st.t_total = st.t_proj = st.t_attn = 0;
    t0 = olmo_now();
    if (model_forward(&m, &st, tok, prompt, 0, logits) != 0) return -1;
    double pre_s = olmo_now() - t0, pre_prof[3] = {st.t_total, st.t_proj, st.t_attn};
    st.t_total = st.t_proj = st.t_attn = 0;
    t0 = olmo_now();
    for (int i = 0; i < decode; i++)
        if (model_forward(&m, &st, tok + prompt + i, 1, prompt + i, logits) != 0) return -1;
    double dec_s = olmo_now() - t0, dec_prof[3] = {st.t_total, st.t_proj, st.t_attn};
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double dec_tps = decode / dec_s, pre_tps = prompt / pre_s;
    printf("%-5s load %.2f s | checkpoint %.2f GB, anonymous memory added by load %.2f GB, peak RSS %.2f GB\n",
           q8 ? "Q8" : m.dtype_name, load_s, file_bytes / 1e9, (anon1 - anon0) / 1e6, ru.ru_maxrss / 1e6);
    printf("      prefill %d tokens: %.1f tok/s (llama.cpp %s: %.0f) | decode %d tokens at %d..%d: %.2f tok/s (llama.cpp: %.0f)\n",
           prompt, pre_tps, q8 ? "Q8_0" : "bf16", q8 ? LLAMA_PREFILL_Q8 : LLAMA_PREFILL_BF16, decode, prompt,
           prompt + decode - 1, dec_tps, q8 ? LLAMA_DECODE_Q8 : LLAMA_DECODE_BF16);
    printf("      decode effective bandwidth %.1f GB/s (%.2f GB of weights per token)", dec_tps * m.weight_bytes / 1e9,
           m.weight_bytes / 1e9);
    if (bw > 0) printf("; streaming read of the mapped file: %.1f GB/s", bw);
    printf("\n");
    printf("      time split (projections / attention / rest): prefill %.0f%% / %.0f%% / %.0f%%, decode %.0f%% / %.0f%% / %.0f%%\n",
           100 * pre_prof[1] / pre_prof[0], 100 * pre_prof[2] / pre_prof[0], 100 * (1 - (pre_prof[1] + pre_prof[2]) / pre_prof[0]),
           100 * dec_prof[1] / dec_prof[0], 100 * dec_prof[2] / dec_prof[0], 100 * (1 - (dec_prof[1] + dec_prof[2]) / dec_prof[0]));
    free(tok);
    free(logits);
    model_state_free(&st);
    model_free(&m);
    return 0;
}

int main(int argc, char **argv) {
    bench_print_cpu(stdout);   /* a figure belongs to a CPU */
    const struct shape *sh = &SHAPES[0];
    const char *dir = NULL;
    int threads = 2, prompt = 512, decode = 32, q8 = -1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--shape") && i + 1 < argc) sh = !strcmp(argv[++i], "7b") ? &SHAPES[1] : &SHAPES[0];
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--prompt") && i + 1 < argc) prompt = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--decode") && i + 1 < argc) decode = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--q8")) q8 = 1;
        else if (!strcmp(argv[i], "--bf16")) q8 = 0;
        else { fprintf(stderr, "usage: bench_model [--shape 1b|7b] [--dir DIR] [--threads N] [--prompt T] [--decode N] [--q8|--bf16]\n"); return 2; }
    }
    char def[256];
    snprintf(def, sizeof def, "/tmp/olmo-bench-%s-bf16", sh->name);
    if (!dir) dir = def;
    olmo_pool_set_threads(threads);
    char *cfg = olmo_path_join(dir, "config.json");
    int have = olmo_file_exists(cfg);
    free(cfg);
    if (!have) {
        double t0 = olmo_now();
        if (bench_write_checkpoint(dir, sh) != 0) { fprintf(stderr, "bench_model: %s\n", olmo_errmsg()); return 1; }
        printf("wrote %s in %.1f s\n", dir, olmo_now() - t0);
    }
    printf("bench_model: OLMo-2 %s shape from %s, %d threads\n", sh->name, dir, threads);
    if ((q8 <= 0 && run(dir, 0, prompt, decode) != 0) || (q8 != 0 && run(dir, 1, prompt, decode) != 0)) {
        fprintf(stderr, "bench_model: %s\n", olmo_errmsg());
        return 1;
    }
    return 0;
}
