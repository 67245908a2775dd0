/* linear_q8.c — y = x·Wᵀ for Q8 weights (linear.h: panels of 16 rows, unsigned q+128, fp16 per-32-block scales),
 * one token (decode) or many (prefill), with AVX512-VNNI.
 *
 * The activations are quantized once per call: int8 per 32-block of each token, scale amax/127 (the same
 * format as the weights), plus -128·Σq per block to cancel the +128 of the unsigned weights. Then one kernel
 * does both cases: a tile of NP panels (16 rows each, one zmm of int32 per panel: lanes = rows) by NT tokens.
 * Per 32-column block it runs 8 vpdpbusd per (panel, token) — each a 64-byte weight load (16 rows x 4
 * columns) against a 4-byte broadcast of the token's activations — starting from the block's correction,
 * then scales the exact int32 block sums by w_scale·x_scale into fp32 accumulators (the 16 rows' fp16 weight
 * scales of a block are one 32-byte load, widened with vcvtph2ps).
 *   decode : NP = 1, NT = 1: one panel after the other, so each thread reads one contiguous weight stream (plus
 *            its scales). Memory-bound; the block sums are independent chains, so one panel keeps the core busy
 *            enough. Measured against NP = 4 (4 panels, 4 streams), decode steps alternated in one process, 1B
 *            shape, 2 threads: x1.04-1.10 tokens/s over 8 runs (21:31, commit "q8 decode: one panel at a time").
 *   prefill: NP = 2, NT = 6 (12 int32 + 12 fp32 accumulators); a panel pair (2·16·cols bytes) stays in L2
 *            while every token tile passes over it; compute-bound. */
#include "model/kernels/linear_internal.h"
#include "base/cpu.h"
#include "model/kernels/pool.h"

#include <immintrin.h>
#include <string.h>

OLMO_TARGET_BEGIN_(OLMO_TARGET_STR_AVX512 ",avx512vnni")

#define ALWAYS_INLINE static inline __attribute__((always_inline))
/* (No software prefetch: the panels are long contiguous streams in 2 MB pages; measured, prefetching the
 * panels 1-2 groups ahead made decode 15-20 % slower per CPU-second.) */

/* Token t of tile t0 = 6·(t/6) (n = min(6, T - t0) tokens) lands at: 4-byte group g of its row at word
 * t0·cols/4 + g·n + (t - t0); its block b's scale and correction at t0·nblk + b·n + (t - t0). Interleaving the
 * tile's tokens lets the kernel address all of them from one register with immediate offsets. */
static void quantize_tokens(struct q8_act *a, const float *x, int T, int64_t tb, int64_t te) {
    int64_t K = a->cols, nblk = a->nblk;
    for (int64_t t = tb; t < te; t++) {
        int64_t t0 = t / Q8_NT * Q8_NT, n = T - t0 < Q8_NT ? T - t0 : Q8_NT, i = t - t0;
        int32_t *xw = (int32_t *)a->xq + t0 * (K / 4) + i;
        for (int64_t b = 0; b < nblk; b++) {
            const float *v = x + t * K + b * OLMO_Q8_BLOCK;
            __m512 v0 = _mm512_loadu_ps(v), v1 = _mm512_loadu_ps(v + 16);
            float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
            __m512 iv = _mm512_set1_ps(amax > 0 ? 127.0f / amax : 0.0f);
            __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, iv)), q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, iv));
            int32_t w[8];
            _mm_storeu_si128((__m128i *)w, _mm512_cvtsepi32_epi8(q0));
            _mm_storeu_si128((__m128i *)(w + 4), _mm512_cvtsepi32_epi8(q1));
            for (int g = 0; g < 8; g++) xw[(b * 8 + g) * n] = w[g];
            a->xs[t0 * nblk + b * n + i] = amax / 127.0f;
            a->negcorr[t0 * nblk + b * n + i] = -128 * _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
        }
    }
}

/* y[t][16·p + lane] for p < NP, t < NT; W points at the first panel, S at its scales. */
ALWAYS_INLINE void q8_tile(float *y, int64_t ldy, int64_t rows_left, const uint8_t *W, const uint16_t *S, int64_t K,
                           const struct q8_act *a, int64_t t0, const int NP, const int NT) {
    const int64_t nblk = K / OLMO_Q8_BLOCK, pstride = 16 * K, sstride = 16 * nblk;
    __m512 f[4][6];
#pragma GCC unroll 4
    for (int p = 0; p < NP; p++)
#pragma GCC unroll 6
        for (int t = 0; t < NT; t++) f[p][t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nblk; b++) {
        __m512i s[4][6];
#pragma GCC unroll 6
        for (int t = 0; t < NT; t++) {
            __m512i c = _mm512_set1_epi32(a->negcorr[t0 * nblk + b * NT + t]);
#pragma GCC unroll 4
            for (int p = 0; p < NP; p++) s[p][t] = c;
        }
        const uint8_t *wb = W + b * 512;
        const int32_t *xb = (const int32_t *)a->xq + t0 * (K / 4) + b * 8 * NT;
#pragma GCC unroll 8
        for (int kq = 0; kq < 8; kq++) {
            __m512i w[4];
#pragma GCC unroll 4
            for (int p = 0; p < NP; p++) w[p] = _mm512_load_si512(wb + p * pstride + kq * 64);
#pragma GCC unroll 6
            for (int t = 0; t < NT; t++) {
                __m512i xx = _mm512_set1_epi32(xb[kq * NT + t]);
#pragma GCC unroll 4
                for (int p = 0; p < NP; p++) s[p][t] = _mm512_dpbusd_epi32(s[p][t], w[p], xx);
            }
        }
#pragma GCC unroll 4
        for (int p = 0; p < NP; p++) {
            __m512 ws = _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)(S + p * sstride + b * 16)));
#pragma GCC unroll 6
            for (int t = 0; t < NT; t++) {
                __m512 sc = _mm512_mul_ps(ws, _mm512_set1_ps(a->xs[t0 * nblk + b * NT + t]));
                f[p][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[p][t]), sc, f[p][t]);
            }
        }
    }
#pragma GCC unroll 4
    for (int p = 0; p < NP; p++) {
        int64_t left = rows_left - 16 * p;
        __mmask16 m = left >= 16 ? 0xffff : left <= 0 ? 0 : (__mmask16)((1u << left) - 1);
#pragma GCC unroll 6
        for (int t = 0; t < NT; t++) _mm512_mask_storeu_ps(y + t * ldy + 16 * p, m, f[p][t]);
    }
}

#define QD_TILE q8_tile
#define QD_PANEL_BYTES(K) (16 * (K))
#include "model/kernels/linear_qdrive.h"

struct qa_job { struct q8_act *a; const float *x; int T; };
static void quantize_tile(void *ctx, int64_t tile, int thread) {   /* one 6-token tile per chunk */
    (void)thread;
    const struct qa_job *J = ctx;
    int64_t tb = tile * Q8_NT, te = tb + Q8_NT < J->T ? tb + Q8_NT : J->T;
    quantize_tokens(J->a, J->x, J->T, tb, te);
}

/* Prompts are quantized in parallel (this is serial time otherwise: ~10 % of a Q8 prefill). */
static void quantize_act(struct q8_act *a, const float *x, int T) {
    if (T < 4 * Q8_NT) { quantize_tokens(a, x, T, 0, T); return; }
    struct qa_job J = {a, x, T};
    olmo_pool_for((T + Q8_NT - 1) / Q8_NT, quantize_tile, &J);
}

int q8_act_make(struct q8_act *a, const float *x, int64_t K, int T) {
    int64_t nblk = K / OLMO_Q8_BLOCK;
    size_t xb = ((size_t)T * (size_t)K + 63) & ~(size_t)63, sb = ((size_t)T * (size_t)nblk * 4 + 63) & ~(size_t)63;
    uint8_t *mem = linear_scratch(xb + 2 * sb);
    if (!mem) return -1;
    *a = (struct q8_act){.xq = (int8_t *)mem, .xs = (float *)(mem + xb), .negcorr = (int32_t *)(mem + xb + sb),
                         .cols = K, .nblk = nblk};
    quantize_act(a, x, T);
    return 0;
}

static int linear_q8_fast_avx512(float *y, const float *x, const struct olmo_linear *W, int T) {
    int64_t K = W->cols;
    if (K % OLMO_Q8_BLOCK || ((uintptr_t)W->data & 63) || ((uintptr_t)W->scales & 63)) return -1;
    struct q8_act a;
    if (q8_act_make(&a, x, K, T) != 0) return -1;
    qd_run(y, &a, W, T, 65536);   /* decode chunks of at least 64 KB of weights */
    return 0;
}

OLMO_TARGET_END

int linear_q8_fast(float *y, const float *x, const struct olmo_linear *W, int T) {
    if (!olmo_cpu_has(LINEAR_Q8_NEEDS)) return -1;
    return linear_q8_fast_avx512(y, x, W, T);
}
