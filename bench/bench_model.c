/* bench_model.c — the whole forward pass (model_forward: projections, attention over the KV cache, norms, RoPE,
 * SwiGLU, lm_head) on a checkpoint at a real OLMo-2 shape, loaded from disk the way `olmo generate` loads one.
 *
 *   build/bench/bench_model [--shape 1b|7b] [--dir DIR] [--threads N] [--prompt T] [--decode N] [--q8]
 *
 * If DIR (default /tmp/olmo-bench-<shape>-bf16) holds no checkpoint, a random bf16 OLMo-2 checkpoint of that shape
 * is written there first with st_writer (every matrix points at one shared random buffer, so writing needs little
 * memory). Then it is loaded (memory-mapped) and measured:
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

struct shape { const char *name; int d, layers, heads, kv_heads, ff, vocab; };
static const struct shape SHAPES[] = {
    {"1b", 2048, 16, 16, 16, 8192, 100352},    /* OLMo-2-0425-1B */
    {"7b", 4096, 32, 32, 32, 11008, 100352},   /* OLMo-2-1124-7B */
};

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

static int write_random_checkpoint(const char *dir, const struct shape *sh) {
    struct olmo_config c = {.arch = ARCH_OLMO2, .norm_type = NORM_RMSNORM, .norm_after = 1, .qk_norm = 1,
                            .d_model = sh->d, .n_layers = sh->layers, .n_heads = sh->heads, .n_kv_heads = sh->kv_heads,
                            .head_dim = sh->d / sh->heads, .d_ff = sh->ff, .vocab_size = sh->vocab, .max_seq_len = 4096,
                            .rope_theta = 500000.0f, .norm_eps = 1e-6f, .bos_token_id = -1, .eos_token_id = 100257,
                            .pad_token_id = 100277};
    if (olmo_mkdir_p(dir) != 0) return -1;
    size_t big = (size_t)sh->vocab * sh->d;
    if ((size_t)sh->ff * sh->d > big) big = (size_t)sh->ff * sh->d;
    uint16_t *w = malloc(big * 2), *ones = malloc((size_t)sh->d * sh->heads * 2 + 2 * (size_t)sh->d);
    if (!w || !ones) return olmo_err("out of memory");
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < big; i++) {   /* bf16 of magnitude ~0.02 with random sign (std of real OLMo weights) */
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        w[i] = (uint16_t)(0x3c00 + (s & 0x3ff)) | (uint16_t)((s >> 20) & 0x8000);
    }
    for (int i = 0; i < sh->d * 2; i++) ones[i] = 0x3f80;   /* 1.0 */
    struct st_writer wr;
    st_writer_init(&wr);
    int64_t d = sh->d, qd = d, kvd = (int64_t)sh->kv_heads * (d / sh->heads), I = sh->ff, V = sh->vocab;
    char name[128];
    int64_t s_emb[2] = {V, d}, s_q[2] = {qd, d}, s_kv[2] = {kvd, d}, s_o[2] = {d, qd}, s_up[2] = {I, d}, s_down[2] = {d, I};
    int64_t s_d[1] = {d}, s_kvd[1] = {kvd};
    st_writer_add_raw(&wr, "model.embed_tokens.weight", ST_BF16, 2, s_emb, w);
    st_writer_add_raw(&wr, "lm_head.weight", ST_BF16, 2, s_emb, w);
    st_writer_add_raw(&wr, "model.norm.weight", ST_BF16, 1, s_d, ones);
    for (int l = 0; l < sh->layers; l++) {
#define ADD(suffix, nd, shp, ptr)                                                     \
        snprintf(name, sizeof name, "model.layers.%d.%s.weight", l, suffix);          \
        st_writer_add_raw(&wr, name, ST_BF16, nd, shp, ptr);
        ADD("self_attn.q_proj", 2, s_q, w) ADD("self_attn.k_proj", 2, s_kv, w) ADD("self_attn.v_proj", 2, s_kv, w)
        ADD("self_attn.o_proj", 2, s_o, w) ADD("mlp.gate_proj", 2, s_up, w) ADD("mlp.up_proj", 2, s_up, w)
        ADD("mlp.down_proj", 2, s_down, w) ADD("self_attn.q_norm", 1, s_d, ones) ADD("self_attn.k_norm", 1, s_kvd, ones)
        ADD("post_attention_layernorm", 1, s_d, ones) ADD("post_feedforward_layernorm", 1, s_d, ones)
#undef ADD
    }
    char *p = olmo_path_join(dir, "model.safetensors"), *cp = olmo_path_join(dir, "config.json");
    double t0 = olmo_now();
    int rc = st_writer_write(&wr, p);
    if (rc == 0) rc = hf_config_write(&c, "bfloat16", cp);
    printf("wrote %s in %.1f s\n", dir, olmo_now() - t0);
    st_writer_free(&wr);
    free(w);
    free(ones);
    free(p);
    free(cp);
    return rc;
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
    struct model_load_opts o = {.quant_q8 = q8};
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
    if (!have && write_random_checkpoint(dir, sh) != 0) { fprintf(stderr, "bench_model: %s\n", olmo_errmsg()); return 1; }
    printf("bench_model: OLMo-2 %s shape from %s, %d threads\n", sh->name, dir, threads);
    if ((q8 <= 0 && run(dir, 0, prompt, decode) != 0) || (q8 != 0 && run(dir, 1, prompt, decode) != 0)) {
        fprintf(stderr, "bench_model: %s\n", olmo_errmsg());
        return 1;
    }
    return 0;
}
