/* bench_common.h — what the inference benchmarks (bench_inference, bench_model, bench_kvcache) share; header-only,
 * since each benchmark is one program:
 *   - llama.cpp's figures on this machine (issue 3: OLMo-2 1B shape, 2 threads), printed beside ours
 *     (bench/llama_cpp_peer.sh measures llama.cpp side by side instead);
 *   - the model shapes (OLMo-2 1B and 7B, and a tiny one for trying pipelines) and bench_write_checkpoint, which
 *     writes a random OLMo-2 checkpoint of a shape in the exact Hugging Face layout;
 *   - the streaming read they hold decoding against (its physical bound): every byte of a range read once with
 *     AVX-512 loads (AVX2 on a CPU without them) on the kernels' thread pool, as the GEMVs read weights;
 *   - bench_print_cpu: the CPU model, its instruction sets and the kernel level in use, which every benchmark
 *     prints first (a figure belongs to a CPU).
 *
 *   bench_read(p, n)                 one pass over [p, p+n); returns the seconds it took
 *   bench_read_model_matrices(m)     one pass over exactly the matrices a decode step reads (the projections of
 *                                    every layer and the lm_head, one pool call per matrix as the GEMVs make)
 *   bench_read_mapped_files(m)       one pass over the checkpoint's mapped files (bytes read in *bytes)
 * Chunks of about 8 per thread, at least 64 KB; unaligned loads (tensors sit at any offset of a file). */
#ifndef OLMO_BENCH_COMMON_H
#define OLMO_BENCH_COMMON_H

#include "base/cpu.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "formats/hf_config.h"
#include "formats/safetensors.h"
#include "model/kernels/linear.h"
#include "model/kernels/pool.h"
#include "model/model.h"

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* tokens/s, llama.cpp, OLMo-2 1B shape, 2 threads, this machine (issue 3); its KV cache is f16 */
static const double LLAMA_DECODE_BF16 = 9, LLAMA_DECODE_Q8 = 20, LLAMA_PREFILL_BF16 = 86, LLAMA_PREFILL_Q8 = 200;

struct shape { const char *name; int d, layers, heads, kv_heads, ff, vocab; };
static const struct shape SHAPES[] = {
    {"1b", 2048, 16, 16, 16, 8192, 100352},    /* OLMo-2-0425-1B */
    {"7b", 4096, 32, 32, 32, 11008, 100352},   /* OLMo-2-1124-7B */
    {"tiny", 128, 2, 4, 2, 256, 4096},         /* seconds: for trying bench/llama_cpp_peer.sh end to end */
};

/* Writes DIR/config.json and DIR/model.safetensors (DIR is created): an OLMo-2 checkpoint of shape S in bf16 with
 * random weights of magnitude ~0.02 (OLMo's init std) and random signs. Every matrix is a window of one random
 * buffer at its own offset, so no two matrices (or layers) are equal and a peer that mixed up tensors computes
 * something else (bench/llama_cpp_peer.sh compares logits); norm weights in [0.75, 1.25). 0 or -1 (olmo_err). */
static inline int bench_write_checkpoint(const char *dir, const struct shape *S) {
    int hd = S->d / S->heads, kvd = S->kv_heads * hd;
    struct olmo_config c = {.arch = ARCH_OLMO2, .norm_type = NORM_RMSNORM, .norm_after = 1, .qk_norm = 1,
                            .d_model = S->d, .n_layers = S->layers, .n_heads = S->heads, .n_kv_heads = S->kv_heads,
                            .head_dim = hd, .d_ff = S->ff, .vocab_size = S->vocab, .max_seq_len = 4096,
                            .rope_theta = 500000.0f, .norm_eps = 1e-6f, .bos_token_id = -1,
                            .eos_token_id = S->vocab > 100257 ? 100257 : S->vocab - 1,    /* dolma2's ids */
                            .pad_token_id = S->vocab > 100277 ? 100277 : S->vocab - 2};
    if (olmo_mkdir_p(dir) != 0) return -1;
    size_t maxel = (size_t)S->vocab * (size_t)S->d, slack = 1 << 16, nslack = 4096;
    if ((size_t)S->ff * (size_t)S->d > maxel) maxel = (size_t)S->ff * (size_t)S->d;
    uint16_t *rnd = malloc((maxel + slack) * 2), *norms = malloc(((size_t)S->d + nslack) * 2);
    if (!rnd || !norms) { free(rnd); free(norms); return olmo_err("bench: out of memory"); }
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < maxel + slack; i++) {   /* bf16 in ±[0.008, 0.03) */
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        rnd[i] = (uint16_t)(0x3c00 + (s & 0x1ff)) | (uint16_t)((s >> 20) & 0x8000);
    }
    for (size_t i = 0; i < (size_t)S->d + nslack; i++)
        norms[i] = olmo_f32_to_bf16(0.75f + (float)((i * 2654435761u) % 1000) / 2000.0f);
    struct st_writer w;
    st_writer_init(&w);
    int rc = 0, k = 0;
    char name[160];
#define ADD2(nm, r, cc) do { int64_t sh[2] = {(r), (cc)}; k++; \
        rc |= st_writer_add_raw(&w, nm, ST_BF16, 2, sh, rnd + (size_t)k * 4099 % slack); } while (0)
#define ADD1(nm, n) do { int64_t sh[1] = {(n)}; k++; \
        rc |= st_writer_add_raw(&w, nm, ST_BF16, 1, sh, norms + (size_t)k * 997 % nslack); } while (0)
    ADD2("model.embed_tokens.weight", S->vocab, S->d);
    ADD2("lm_head.weight", S->vocab, S->d);
    ADD1("model.norm.weight", S->d);
    for (int l = 0; l < S->layers; l++) {
        static const char *proj[] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                                     "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};
        int rows[] = {S->d, kvd, kvd, S->d, S->ff, S->ff, S->d}, cols[] = {S->d, S->d, S->d, S->d, S->d, S->d, S->ff};
        for (int i = 0; i < 7; i++) {
            snprintf(name, sizeof name, "model.layers.%d.%s.weight", l, proj[i]);
            ADD2(name, rows[i], cols[i]);
        }
        snprintf(name, sizeof name, "model.layers.%d.self_attn.q_norm.weight", l); ADD1(name, S->d);
        snprintf(name, sizeof name, "model.layers.%d.self_attn.k_norm.weight", l); ADD1(name, kvd);
        snprintf(name, sizeof name, "model.layers.%d.post_attention_layernorm.weight", l); ADD1(name, S->d);
        snprintf(name, sizeof name, "model.layers.%d.post_feedforward_layernorm.weight", l); ADD1(name, S->d);
    }
#undef ADD1
#undef ADD2
    char *p = olmo_path_join(dir, "model.safetensors"), *cp = olmo_path_join(dir, "config.json");
    if (!p || !cp) rc = -1;
    if (rc == 0) rc = st_writer_write(&w, p);
    if (rc == 0) rc = hf_config_write(&c, "bfloat16", cp);
    st_writer_free(&w);
    free(rnd);
    free(norms);
    free(p);
    free(cp);
    return rc;
}

struct bench_read_job { const uint8_t *p; size_t n, chunk; int64_t sums[OLMO_POOL_MAX_THREADS * 8]; };

OLMO_TARGET_AVX512_BEGIN
static inline int64_t bench_read_sum512(const uint8_t *p, size_t b, size_t e) {
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = b; i + 256 <= e; i += 256) {   /* 4 independent 64-byte loads per step, no stores */
        a0 = _mm512_add_epi64(a0, _mm512_loadu_si512(p + i));
        a1 = _mm512_add_epi64(a1, _mm512_loadu_si512(p + i + 64));
        a2 = _mm512_add_epi64(a2, _mm512_loadu_si512(p + i + 128));
        a3 = _mm512_add_epi64(a3, _mm512_loadu_si512(p + i + 192));
    }
    return _mm512_reduce_add_epi64(_mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3)));
}
OLMO_TARGET_END

OLMO_TARGET_AVX2_BEGIN
static inline int64_t bench_read_sum256(const uint8_t *p, size_t b, size_t e) {
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = b; i + 128 <= e; i += 128) {
        a0 = _mm256_add_epi64(a0, _mm256_loadu_si256((const __m256i *)(p + i)));
        a1 = _mm256_add_epi64(a1, _mm256_loadu_si256((const __m256i *)(p + i + 32)));
        a2 = _mm256_add_epi64(a2, _mm256_loadu_si256((const __m256i *)(p + i + 64)));
        a3 = _mm256_add_epi64(a3, _mm256_loadu_si256((const __m256i *)(p + i + 96)));
    }
    int64_t l[4];
    _mm256_storeu_si256((__m256i *)l, _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3)));
    return l[0] + l[1] + l[2] + l[3];
}
OLMO_TARGET_END

static inline void bench_read_chunk(void *ctx, int64_t c, int thread) {
    struct bench_read_job *J = ctx;
    size_t b = (size_t)c * J->chunk, e = b + J->chunk < J->n ? b + J->chunk : J->n;
    J->sums[thread * 8] += olmo_cpu_has(OLMO_CPU_SET_AVX512) ? bench_read_sum512(J->p, b, e) : bench_read_sum256(J->p, b, e);
}

/* The line every benchmark prints first (base/cpu.h: olmo_cpu_describe). */
static inline void bench_print_cpu(FILE *f) {
    char buf[512];
    fprintf(f, "%s\n", olmo_cpu_describe(buf, (int)sizeof buf));
}

static inline double bench_read(const void *p, size_t n) {
    static struct bench_read_job J;   /* the sums stay live in a static: the loads cannot be dropped */
    J.p = p;
    J.n = n;
    J.chunk = (n / (8 * (size_t)olmo_pool_threads()) + 255) & ~(size_t)255;
    if (J.chunk < 65536) J.chunk = 65536;
    double t = olmo_now();
    olmo_pool_for((int64_t)((n + J.chunk - 1) / J.chunk), bench_read_chunk, &J);
    return olmo_now() - t;
}

static inline double bench_read_matrix(const struct olmo_linear *W) {
    size_t n = W->dtype == OLMO_DTYPE_Q8   ? (size_t)linear_q8_bytes(W->rows, W->cols)   /* weights, then scales */
               : W->dtype == OLMO_DTYPE_Q4 ? (size_t)linear_q4_bytes(W->rows, W->cols)
                                           : (size_t)W->rows * (size_t)W->cols * (W->dtype == OLMO_DTYPE_F32 ? 4 : 2);
    return bench_read(W->data, n);
}

static inline double bench_read_model_matrices(const struct olmo_model *m) {
    double t = 0;
    for (int l = 0; l < m->cfg.n_layers; l++) {
        const struct olmo_layer *ly = &m->layers[l];
        const struct olmo_linear *all[] = {&ly->wq, &ly->wk, &ly->wv, &ly->wo, &ly->w_gate, &ly->w_up, &ly->w_down};
        for (int i = 0; i < 7; i++) t += bench_read_matrix(all[i]);
    }
    return t + bench_read_matrix(&m->lm_head);
}

static inline double bench_read_mapped_files(const struct olmo_model *m, uint64_t *bytes) {
    double t = 0;
    *bytes = 0;
    for (int f = 0; f < m->st.n_files; f++) {
        t += bench_read(m->st.files[f].map.data, m->st.files[f].map.size);
        *bytes += m->st.files[f].map.size;
    }
    return t;
}

#endif
