/* linear_q4.c — y = x·Wᵀ for Q4 weights (layout in linear.h), one token (decode) or many (prefill), with
 * AVX512-VNNI. The portable reference is linear_forward_ref (linear.c), which the tests hold this to.
 *
 * The activations are quantized exactly as for Q8 (q8_act_make: int8 per 32-block, tokens in tiles of 6), so
 * the kernel is linear_q8.c's with a different weight load: per 32-column block of a 16-row panel, 4 loads
 * of 64 bytes; each gives, masked, the unsigned q + 8 of columns 4kq..4kq+3 (VNNI operand for the token's
 * activation group kq) and, shifted right by 4, those of columns 16+4kq.. (group kq + 4). The +8 offset is
 * removed by starting the block's int32 sum at -8·Σx (= the Q8 correction -128·Σx divided by 16). Decode reads
 * 0.5625 bytes per weight instead of Q8's 1.0625: decoding is a memory-bound stream, so it is up to 1.9x faster.
 *   decode : one panel at a time (one contiguous weight stream per thread, as in linear_q8.c).
 *   prefill: 2 panels x 6 tokens per tile (the panel pair stays in L1/L2 while the token tiles pass). */
#include "model/kernels/linear_internal.h"
#include "base/cpu.h"
#include "model/kernels/pool.h"

#include <immintrin.h>
#include <string.h>

OLMO_TARGET_BEGIN_(OLMO_TARGET_STR_AVX512 ",avx512vnni")

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* y[t][16·p + lane] for p < NP, t < NT; W points at the panel's first block, S at its scales. */
ALWAYS_INLINE void q4_tile(float *y, int64_t ldy, int64_t rows_left, const uint8_t *W, const uint16_t *S, int64_t K,
                           const struct q8_act *a, int64_t t0, const int NP, const int NT) {
    const int64_t nblk = K / OLMO_Q8_BLOCK, pstride = 8 * K, sstride = 16 * nblk;
    const __m512i lo4 = _mm512_set1_epi8(0x0f);
    __m512 f[2][6];
#pragma GCC unroll 2
    for (int p = 0; p < NP; p++)
#pragma GCC unroll 6
        for (int t = 0; t < NT; t++) f[p][t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nblk; b++) {
        __m512i s[2][6];
#pragma GCC unroll 6
        for (int t = 0; t < NT; t++) {
            __m512i c = _mm512_set1_epi32(a->negcorr[t0 * nblk + b * NT + t] / 16);
#pragma GCC unroll 2
            for (int p = 0; p < NP; p++) s[p][t] = c;
        }
        __m512i sh[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
        const uint8_t *wb = W + b * 256;
        const int32_t *xb = (const int32_t *)a->xq + t0 * (K / 4) + b * 8 * NT;
#pragma GCC unroll 4
        for (int kq = 0; kq < 4; kq++) {
            __m512i wl[2], wh[2];
#pragma GCC unroll 2
            for (int p = 0; p < NP; p++) {
                __m512i v = _mm512_loadu_si512(wb + p * pstride + kq * 64);
                wl[p] = _mm512_and_si512(v, lo4);
                wh[p] = _mm512_and_si512(_mm512_srli_epi16(v, 4), lo4);
            }
#pragma GCC unroll 6
            for (int t = 0; t < NT; t++) {
                __m512i xl = _mm512_set1_epi32(xb[kq * NT + t]), xh = _mm512_set1_epi32(xb[(kq + 4) * NT + t]);
#pragma GCC unroll 2
                for (int p = 0; p < NP; p++) {
                    if (NT == 1) {   /* decode: two chains of 4 (one of 8 dependent vpdpbusd limits a core) */
                        s[p][t] = _mm512_dpbusd_epi32(s[p][t], wl[p], xl);
                        sh[p] = _mm512_dpbusd_epi32(sh[p], wh[p], xh);
                    } else s[p][t] = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(s[p][t], wl[p], xl), wh[p], xh);
                }
            }
        }
        if (NT == 1)
#pragma GCC unroll 2
            for (int p = 0; p < NP; p++) s[p][0] = _mm512_add_epi32(s[p][0], sh[p]);
#pragma GCC unroll 2
        for (int p = 0; p < NP; p++) {
            __m512 ws = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(S + p * sstride + b * 16)));
#pragma GCC unroll 6
            for (int t = 0; t < NT; t++) {
                __m512 sc = _mm512_mul_ps(ws, _mm512_set1_ps(a->xs[t0 * nblk + b * NT + t]));
                f[p][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[p][t]), sc, f[p][t]);
            }
        }
    }
#pragma GCC unroll 2
    for (int p = 0; p < NP; p++) {
        int64_t left = rows_left - 16 * p;
        __mmask16 m = left >= 16 ? 0xffff : left <= 0 ? 0 : (__mmask16)((1u << left) - 1);
#pragma GCC unroll 6
        for (int t = 0; t < NT; t++) _mm512_mask_storeu_ps(y + t * ldy + 16 * p, m, f[p][t]);
    }
}

#define QD_TILE q4_tile
#define QD_PANEL_BYTES(K) (8 * (K))
#include "model/kernels/linear_qdrive.h"

static int linear_q4_fast_avx512(float *y, const float *x, const struct olmo_linear *W, int T) {
    int64_t K = W->cols;
    if (K % OLMO_Q8_BLOCK) return -1;
    struct q8_act a;
    if (q8_act_make(&a, x, K, T) != 0) return -1;
    qd_run(y, &a, W, T, 32768);   /* decode chunks of at least 32 KB of weights */
    return 0;
}

OLMO_TARGET_END

/* AVX512-VNNI: the tiles above; AVX2 only: linear_q4_avx2.c; below that the reference path (linear_forward_ref). */
int linear_q4_fast(float *y, const float *x, const struct olmo_linear *W, int T) {
    if (olmo_cpu_has(LINEAR_Q4_NEEDS)) return linear_q4_fast_avx512(y, x, W, T);
    if (olmo_cpu_has(OLMO_CPU_SET_AVX2)) return linear_q4_fast_avx2(y, x, W, T);
    return -1;
}
