/* bench_common.h — what the inference benchmarks (bench_inference, bench_model, bench_kvcache) share; header-only,
 * since each benchmark is one program:
 *   - llama.cpp's figures on this machine (issue 3: OLMo-2 1B shape, 2 threads), printed beside ours
 *     (bench/llama_cpp_peer.sh measures llama.cpp side by side instead);
 *   - the streaming read they hold decoding against (its physical bound): every byte of a range read once with
 *     AVX-512 loads on the kernels' thread pool, as the GEMVs read weights.
 *
 *   bench_read(p, n)                 one pass over [p, p+n); returns the seconds it took
 *   bench_read_model_matrices(m)     one pass over exactly the matrices a decode step reads (the projections of
 *                                    every layer and the lm_head, one pool call per matrix as the GEMVs make)
 *   bench_read_mapped_files(m)       one pass over the checkpoint's mapped files (bytes read in *bytes)
 * Chunks of about 8 per thread, at least 64 KB; unaligned loads (tensors sit at any offset of a file). */
#ifndef OLMO_BENCH_COMMON_H
#define OLMO_BENCH_COMMON_H

#include "base/log.h"
#include "model/kernels/linear.h"
#include "model/kernels/pool.h"
#include "model/model.h"

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

/* tokens/s, llama.cpp, OLMo-2 1B shape, 2 threads, this machine (issue 3); its KV cache is f16 */
static const double LLAMA_DECODE_BF16 = 9, LLAMA_DECODE_Q8 = 20, LLAMA_PREFILL_BF16 = 86, LLAMA_PREFILL_Q8 = 200;

struct bench_read_job { const uint8_t *p; size_t n, chunk; int64_t sums[OLMO_POOL_MAX_THREADS * 8]; };

static void bench_read_chunk(void *ctx, int64_t c, int thread) {
    struct bench_read_job *J = ctx;
    size_t b = (size_t)c * J->chunk, e = b + J->chunk < J->n ? b + J->chunk : J->n;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = b; i + 256 <= e; i += 256) {   /* 4 independent 64-byte loads per step, no stores */
        a0 = _mm512_add_epi64(a0, _mm512_loadu_si512(J->p + i));
        a1 = _mm512_add_epi64(a1, _mm512_loadu_si512(J->p + i + 64));
        a2 = _mm512_add_epi64(a2, _mm512_loadu_si512(J->p + i + 128));
        a3 = _mm512_add_epi64(a3, _mm512_loadu_si512(J->p + i + 192));
    }
    J->sums[thread * 8] += _mm512_reduce_add_epi64(_mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3)));
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
    size_t n = W->dtype == OLMO_DTYPE_Q8 ? (size_t)linear_q8_bytes(W->rows, W->cols)   /* weights, then scales */
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
