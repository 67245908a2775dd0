/* linear_gemv.c — y = W·x for one token (decoding): every weight is read once, so the speed is the memory
 * read bandwidth and the kernels only have to keep up with it while using few instructions per byte.
 *
 * Rows are cut into chunks handed to the thread pool; each kernel walks 4 rows at once (4 read streams,
 * 8 independent accumulators) over the row-major weights as stored.
 *   F32  : fp32 FMA.
 *   BF16 : exact widening to fp32 without shuffles: a 32-bit lane holding bf16 pair (e, o) gives o exactly as
 *          (lane & 0xffff0000) and e as (lane << 16); x is split once per call into its even and odd elements
 *          to match. (The AVX512-BF16 dot product, which also rounds x to bf16, is kept behind
 *          OLMO_GEMV_DPBF16=1 for comparison: same speed here, less accurate; see docs/kernels.md.)
 *   F16  : F16C widening (vcvtph2ps), fp32 FMA.
 * Q8 has its own file (linear_q8.c). */
#include "model/kernels/linear_internal.h"
#include "base/cpu.h"
#include "model/kernels/pool.h"

#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

OLMO_TARGET_AVX512BF16_BEGIN

#define NR 4   /* rows per kernel call */
/* Software prefetch of the rows PF_GROUPS groups ahead, same column: the hardware streamers stop at 4 KB page
 * ends and each row here is a few pages, so without it every page start waits on memory. Measured with the
 * GEMV alone (CPU time, 64k x 2048 bf16, 2 threads): 12.7 -> 15.2 GB/s per CPU-second on 4 KB pages, 13.2 ->
 * 15.6 on 2 MB pages. A prefetch past the end of the matrix is harmless (prefetches never fault).
 * Into L2 (T1), not L1: an L1 prefetch holds one of the core's L1 miss buffers (about 24 on this Zen 4) until
 * the line arrives, which caps the lines in flight per core; an L2 prefetch takes only an L2 miss entry (about
 * 64), so more of the memory latency overlaps, and lines move L2 -> L1 on use. 4 groups ahead is 64-256 KB
 * (K = 2048..8192), well inside the 1 MB L2. Measured (bench_inference, 1B shape, 2 threads,
 * bf16 decode, runs alternated, quiet phases): stand-in 10.3-12.2 -> 14.0-17.3 tok/s (T0 at 2 groups vs T1 at
 * 3-4 groups), whole model on mmapped 4 KB pages 8.8-9.0 -> 10.7-11.1 tok/s; T0 at 4 groups gained nothing. */
#define PF_GROUPS 4
#define PREFETCH(p) _mm_prefetch((const char *)(p), _MM_HINT_T1)

struct gemv_job {
    const struct olmo_linear *W;
    float *y;
    const void *x;            /* prepared activations (layout depends on dtype) */
    int64_t chunk_rows;
    int dpbf16;
};

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* ---- F32 ---- */
ALWAYS_INLINE void rows_f32(float *y, const float *W, int64_t K, const float *x, int nr) {
    __m512 a[NR][2];
    for (int r = 0; r < NR; r++) a[r][0] = a[r][1] = _mm512_setzero_ps();
    int64_t c = 0;
    for (; c + 32 <= K; c += 32) {
        __m512 x0 = _mm512_loadu_ps(x + c), x1 = _mm512_loadu_ps(x + c + 16);
        for (int r = 0; r < nr; r++) {
            PREFETCH(W + (r + PF_GROUPS * NR) * K + c);
            PREFETCH(W + (r + PF_GROUPS * NR) * K + c + 16);
            a[r][0] = _mm512_fmadd_ps(_mm512_loadu_ps(W + r * K + c), x0, a[r][0]);
            a[r][1] = _mm512_fmadd_ps(_mm512_loadu_ps(W + r * K + c + 16), x1, a[r][1]);
        }
    }
    for (; c < K; c += 16) {
        __mmask16 m = K - c >= 16 ? 0xffff : (__mmask16)((1u << (K - c)) - 1);
        __m512 x0 = _mm512_maskz_loadu_ps(m, x + c);
        for (int r = 0; r < nr; r++) a[r][0] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, W + r * K + c), x0, a[r][0]);
    }
    for (int r = 0; r < nr; r++) y[r] = _mm512_reduce_add_ps(_mm512_add_ps(a[r][0], a[r][1]));
}

/* ---- BF16, exact widening. xe/xo: x's even/odd elements per 32-block (16 + 16 floats), zero padded ---- */
ALWAYS_INLINE void rows_bf16(float *y, const uint16_t *W, int64_t K, const float *xs, int nr) {
    const __m512i hi = _mm512_set1_epi32((int)0xffff0000u);
    __m512 a[NR][2];
    for (int r = 0; r < NR; r++) a[r][0] = a[r][1] = _mm512_setzero_ps();
    int64_t c = 0;
    for (; c + 32 <= K; c += 32) {
        __m512 xe = _mm512_load_ps(xs + c), xo = _mm512_load_ps(xs + c + 16);
        for (int r = 0; r < nr; r++) {
            PREFETCH(W + (r + PF_GROUPS * NR) * K + c);
            __m512i w = _mm512_loadu_si512(W + r * K + c);
            a[r][0] = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(w, 16)), xe, a[r][0]);
            a[r][1] = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(w, hi)), xo, a[r][1]);
        }
    }
    if (c < K) {
        __mmask32 m = (__mmask32)((1ull << (K - c)) - 1);
        __m512 xe = _mm512_load_ps(xs + c), xo = _mm512_load_ps(xs + c + 16);
        for (int r = 0; r < nr; r++) {
            __m512i w = _mm512_maskz_loadu_epi16(m, W + r * K + c);
            a[r][0] = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(w, 16)), xe, a[r][0]);
            a[r][1] = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(w, hi)), xo, a[r][1]);
        }
    }
    for (int r = 0; r < nr; r++) y[r] = _mm512_reduce_add_ps(_mm512_add_ps(a[r][0], a[r][1]));
}

/* ---- BF16 via vdpbf16ps, x rounded to bf16 (xb, zero padded to 32) ---- */
ALWAYS_INLINE void rows_bf16_dp(float *y, const uint16_t *W, int64_t K, const uint16_t *xb, int nr) {
    __m512 a[NR][2];
    for (int r = 0; r < NR; r++) a[r][0] = a[r][1] = _mm512_setzero_ps();
    int64_t c = 0;
    for (; c + 64 <= K; c += 64) {
        __m512bh x0 = (__m512bh)_mm512_load_si512(xb + c), x1 = (__m512bh)_mm512_load_si512(xb + c + 32);
        for (int r = 0; r < nr; r++) {
            PREFETCH(W + (r + PF_GROUPS * NR) * K + c);
            PREFETCH(W + (r + PF_GROUPS * NR) * K + c + 32);
            a[r][0] = _mm512_dpbf16_ps(a[r][0], (__m512bh)_mm512_loadu_si512(W + r * K + c), x0);
            a[r][1] = _mm512_dpbf16_ps(a[r][1], (__m512bh)_mm512_loadu_si512(W + r * K + c + 32), x1);
        }
    }
    for (; c < K; c += 32) {
        __mmask32 m = K - c >= 32 ? 0xffffffffu : (__mmask32)((1ull << (K - c)) - 1);
        __m512bh x0 = (__m512bh)_mm512_load_si512(xb + c);
        for (int r = 0; r < nr; r++)
            a[r][0] = _mm512_dpbf16_ps(a[r][0], (__m512bh)_mm512_maskz_loadu_epi16(m, W + r * K + c), x0);
    }
    for (int r = 0; r < nr; r++) y[r] = _mm512_reduce_add_ps(_mm512_add_ps(a[r][0], a[r][1]));
}

/* ---- F16 ---- */
ALWAYS_INLINE void rows_f16(float *y, const uint16_t *W, int64_t K, const float *x, int nr) {
    __m512 a[NR][2];
    for (int r = 0; r < NR; r++) a[r][0] = a[r][1] = _mm512_setzero_ps();
    int64_t c = 0;
    for (; c + 32 <= K; c += 32) {
        __m512 x0 = _mm512_loadu_ps(x + c), x1 = _mm512_loadu_ps(x + c + 16);
        for (int r = 0; r < nr; r++) {
            PREFETCH(W + (r + PF_GROUPS * NR) * K + c);
            a[r][0] = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(W + r * K + c))), x0, a[r][0]);
            a[r][1] = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(W + r * K + c + 16))), x1, a[r][1]);
        }
    }
    for (; c < K; c += 16) {
        __mmask16 m = K - c >= 16 ? 0xffff : (__mmask16)((1u << (K - c)) - 1);
        __m512 x0 = _mm512_maskz_loadu_ps(m, x + c);
        for (int r = 0; r < nr; r++)
            a[r][0] = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, W + r * K + c)), x0, a[r][0]);
    }
    for (int r = 0; r < nr; r++) y[r] = _mm512_reduce_add_ps(_mm512_add_ps(a[r][0], a[r][1]));
}

static void gemv_chunk(void *ctx, int64_t chunk, int thread) {
    (void)thread;
    const struct gemv_job *J = ctx;
    const struct olmo_linear *W = J->W;
    int64_t K = W->cols, r0 = chunk * J->chunk_rows, r1 = r0 + J->chunk_rows;
    if (r1 > W->rows) r1 = W->rows;
    for (int64_t r = r0; r < r1; r += NR) {
        int nr = r1 - r >= NR ? NR : (int)(r1 - r);
        float *y = J->y + r;
        switch (W->dtype) {
        case OLMO_DTYPE_F32: {
            const float *w = (const float *)W->data + r * K;
            if (nr == NR) rows_f32(y, w, K, J->x, NR); else rows_f32(y, w, K, J->x, nr);
            break;
        }
        case OLMO_DTYPE_BF16: {
            const uint16_t *w = (const uint16_t *)W->data + r * K;
            if (J->dpbf16) {
                if (nr == NR) rows_bf16_dp(y, w, K, J->x, NR); else rows_bf16_dp(y, w, K, J->x, nr);
            } else {
                if (nr == NR) rows_bf16(y, w, K, J->x, NR); else rows_bf16(y, w, K, J->x, nr);
            }
            break;
        }
        case OLMO_DTYPE_F16: {
            const uint16_t *w = (const uint16_t *)W->data + r * K;
            if (nr == NR) rows_f16(y, w, K, J->x, NR); else rows_f16(y, w, K, J->x, nr);
            break;
        }
        default: break;   /* Q8 never comes here (linear_q8.c) */
        }
    }
}

static int gemv_dpbf16 = -1;

static int linear_gemv_fast_avx512(float *y, const float *x, const struct olmo_linear *W) {
    int64_t K = W->cols, kpad32 = (K + 31) & ~(int64_t)31, kpad64 = (K + 63) & ~(int64_t)63;
    struct gemv_job J = {.W = W, .y = y, .x = x};
    if (gemv_dpbf16 < 0) { const char *e = getenv("OLMO_GEMV_DPBF16"); gemv_dpbf16 = e && *e == '1'; }
    int dp = gemv_dpbf16;
    switch (W->dtype) {
    case OLMO_DTYPE_F32: case OLMO_DTYPE_F16: break;   /* x used as is */
    case OLMO_DTYPE_BF16:
        J.dpbf16 = dp;
        if (dp) {
            uint16_t *xb = linear_scratch((size_t)kpad64 * 2);
            if (!xb) return -1;
            for (int64_t i = 0; i < kpad64; i++) xb[i] = i < K ? olmo_f32_to_bf16(x[i]) : 0;
            J.x = xb;
        } else {   /* even / odd split per 32-block */
            float *xs = linear_scratch((size_t)kpad32 * sizeof(float));
            if (!xs) return -1;
            for (int64_t c = 0; c < kpad32; c += 32)
                for (int i = 0; i < 16; i++) {
                    int64_t e = c + 2 * i, o = e + 1;
                    xs[c + i] = e < K ? x[e] : 0.0f;
                    xs[c + 16 + i] = o < K ? x[o] : 0.0f;
                }
            J.x = xs;
        }
        break;
    default: return -1;
    }
    /* chunks: a multiple of NR rows, about 8 per thread so that a thread slowed down by a busy core only
     * delays the end by a little, and at least 64 KB of weights each to keep the hand-off cost small */
    int nt = olmo_pool_threads();
    int64_t bytes_per_row = K * (W->dtype == OLMO_DTYPE_F32 ? 4 : 2);
    int64_t cr = W->rows / ((int64_t)nt * 8);
    int64_t min_rows = 65536 / (bytes_per_row ? bytes_per_row : 1);
    if (cr < min_rows) cr = min_rows;
    if (cr < NR) cr = NR;
    cr = (cr + NR - 1) / NR * NR;
    J.chunk_rows = cr;
    olmo_pool_for((W->rows + cr - 1) / cr, gemv_chunk, &J);
    return 0;
}

OLMO_TARGET_END
void linear_gemv_set_dpbf16(int on) { gemv_dpbf16 = on; }

int linear_gemv_fast(float *y, const float *x, const struct olmo_linear *W) {
    if (!olmo_cpu_has(LINEAR_GEMV_NEEDS)) return -1;
    return linear_gemv_fast_avx512(y, x, W);
}
