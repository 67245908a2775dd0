/* linear_gemm.c — y = x·Wᵀ for T > 1 tokens (prompt prefill) with BF16, F16 or F32 weights: compute-bound, so
 * the weights are repacked on the fly into the order the vector units want and reused across all tokens.
 *
 * Work unit: a pair of 16-row panels. Its thread gathers the pair into a private buffer (kept in L2):
 *   BF16: [cols/2][16 rows][2] bf16 — one 64-byte load feeds vdpbf16ps with 16 rows x 2 columns, against a
 *         4-byte broadcast of one token's bf16 activations (x rounded to bf16 once per call; products exact,
 *         sums in fp32).
 *   F32/F16: [cols][16 rows] fp32 — vfmadd231ps with a broadcast fp32 activation (exact fp32).
 * Then every tile of 12 tokens passes over the packed pair with 24 accumulators (2 panels x 12 tokens), and
 * the results are stored with a mask for the rows past the end. The gather reads each weight once per call,
 * ~1 % of the time of the arithmetic at prompt sizes.
 * oneDNN's bf16 matmul was measured against this (docs/kernels.md) and was not faster on this Zen 4 (no AMX);
 * it also runs its own OpenMP threads, which spin at barriers on a shared machine. */
#include "model/kernels/linear_internal.h"
#include "base/cpu.h"
#include "model/kernels/pool.h"

#include <immintrin.h>
#include <string.h>

OLMO_TARGET_AVX512BF16_BEGIN

#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define NT_MAX 12

struct gemm_job {
    const struct olmo_linear *W;
    float *y;
    const void *x;           /* BF16: bf16 [T][kp2*2]; F32/F16: the caller's fp32 x [T][cols] */
    int T;
    int64_t kp2;             /* BF16: column pairs (cols rounded up to even, / 2) */
    int64_t npair;           /* panel pairs */
    uint8_t *pack;           /* per-thread packing buffers */
    size_t pack_stride;
};

/* ---- packing ---- */

/* BF16 panel (16 rows from r0, rows >= nrows repeat the last valid row: their outputs are masked off) into
 * dst[kp2][16] 32-bit words. */
static void pack_bf16(uint32_t *dst, const uint16_t *W, int64_t K, int64_t r0, int64_t nrows) {
    int32_t off[16];
    for (int l = 0; l < 16; l++) {
        int64_t r = r0 + l < nrows ? r0 + l : nrows - 1;
        off[l] = (int32_t)((r - r0) * K);
    }
    const uint16_t *base = W + r0 * K;
    __m512i idx = _mm512_loadu_si512(off), two = _mm512_set1_epi32(2);
    int64_t full = K / 2;
    for (int64_t kp = 0; kp < full; kp++) {   /* 16 rows' column pair (2kp, 2kp+1), byte offset 2·index */
        _mm512_store_si512(dst + kp * 16, _mm512_i32gather_epi32(idx, base, 2));
        idx = _mm512_add_epi32(idx, two);
    }
    if (K & 1)   /* last column alone, its partner zero (x's padding is zero too) */
        for (int l = 0; l < 16; l++) dst[full * 16 + l] = base[off[l] + K - 1];
}

/* F32 or F16 panel into dst[K][16] fp32 */
static void pack_f32(float *dst, const struct olmo_linear *W, int64_t r0) {
    int64_t K = W->cols;
    for (int l = 0; l < 16; l++) {
        int64_t r = r0 + l < W->rows ? r0 + l : W->rows - 1;
        if (W->dtype == OLMO_DTYPE_F32) {
            const float *src = (const float *)W->data + r * K;
            for (int64_t k = 0; k < K; k++) dst[k * 16 + l] = src[k];
        } else {
            const uint16_t *src = (const uint16_t *)W->data + r * K;
            int64_t k = 0;
            for (; k + 16 <= K; k += 16) {
                float tmp[16];
                _mm512_storeu_ps(tmp, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(src + k))));
                for (int i = 0; i < 16; i++) dst[(k + i) * 16 + l] = tmp[i];
            }
            for (; k < K; k++) dst[k * 16 + l] = olmo_f16_to_f32(src[k]);
        }
    }
}

/* ---- tiles: NP panels (16 rows each) x NT tokens ---- */

ALWAYS_INLINE void store_tile(float *y, int64_t ldy, int64_t rows_left, __m512 f[2][NT_MAX], const int NP, const int NT) {
#pragma GCC unroll 2
    for (int p = 0; p < NP; p++) {
        int64_t left = rows_left - 16 * p;
        __mmask16 m = left >= 16 ? 0xffff : left <= 0 ? 0 : (__mmask16)((1u << left) - 1);
#pragma GCC unroll 12
        for (int t = 0; t < NT; t++) _mm512_mask_storeu_ps(y + t * ldy + 16 * p, m, f[p][t]);
    }
}

/* x: this tile's tokens interleaved, x[kp][NT] 32-bit words (bf16 pairs), so that every broadcast is one base
 * register plus an immediate offset (12 separate token pointers would not fit in the registers). */
ALWAYS_INLINE void tile_bf16(float *y, int64_t ldy, int64_t rows_left, const uint32_t *Wp, int64_t kp2,
                             const uint32_t *x, const int NP, const int NT) {
    __m512 f[2][NT_MAX];
#pragma GCC unroll 2
    for (int p = 0; p < NP; p++)
#pragma GCC unroll 12
        for (int t = 0; t < NT; t++) f[p][t] = _mm512_setzero_ps();
    const uint32_t *W1 = Wp + kp2 * 16;
    for (int64_t kp = 0; kp < kp2; kp++) {
        __m512bh w0 = (__m512bh)_mm512_load_si512(Wp + kp * 16), w1 = w0;
        if (NP == 2) w1 = (__m512bh)_mm512_load_si512(W1 + kp * 16);
#pragma GCC unroll 12
        for (int t = 0; t < NT; t++) {
            __m512bh xx = (__m512bh)_mm512_set1_epi32((int)x[kp * NT + t]);
            f[0][t] = _mm512_dpbf16_ps(f[0][t], w0, xx);
            if (NP == 2) f[1][t] = _mm512_dpbf16_ps(f[1][t], w1, xx);
        }
    }
    store_tile(y, ldy, rows_left, f, NP, NT);
}

ALWAYS_INLINE void tile_f32(float *y, int64_t ldy, int64_t rows_left, const float *Wp, int64_t K,
                            const float *x, const int NP, const int NT) {   /* x[k][NT], as for bf16 */
    __m512 f[2][NT_MAX];
#pragma GCC unroll 2
    for (int p = 0; p < NP; p++)
#pragma GCC unroll 12
        for (int t = 0; t < NT; t++) f[p][t] = _mm512_setzero_ps();
    const float *W1 = Wp + K * 16;
    for (int64_t k = 0; k < K; k++) {
        __m512 w0 = _mm512_load_ps(Wp + k * 16), w1 = w0;
        if (NP == 2) w1 = _mm512_load_ps(W1 + k * 16);
#pragma GCC unroll 12
        for (int t = 0; t < NT; t++) {
            __m512 xx = _mm512_set1_ps(x[k * NT + t]);
            f[0][t] = _mm512_fmadd_ps(w0, xx, f[0][t]);
            if (NP == 2) f[1][t] = _mm512_fmadd_ps(w1, xx, f[1][t]);
        }
    }
    store_tile(y, ldy, rows_left, f, NP, NT);
}

/* run-time token count (the last partial tile) -> compile-time tile */
static void tile_bf16_n(float *y, int64_t ldy, int64_t rows_left, const uint32_t *Wp, int64_t kp2, const uint32_t *x,
                        int np, int nt) {
#define CASE(n) case n: { if (np == 2) tile_bf16(y, ldy, rows_left, Wp, kp2, x, 2, n); \
                          else tile_bf16(y, ldy, rows_left, Wp, kp2, x, 1, n); } break;
    switch (nt) { CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6) CASE(7) CASE(8) CASE(9) CASE(10) CASE(11) CASE(12) }
#undef CASE
}
static void tile_f32_n(float *y, int64_t ldy, int64_t rows_left, const float *Wp, int64_t K, const float *x,
                       int np, int nt) {
#define CASE(n) case n: { if (np == 2) tile_f32(y, ldy, rows_left, Wp, K, x, 2, n); \
                          else tile_f32(y, ldy, rows_left, Wp, K, x, 1, n); } break;
    switch (nt) { CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6) CASE(7) CASE(8) CASE(9) CASE(10) CASE(11) CASE(12) }
#undef CASE
}

static void gemm_pair(void *ctx, int64_t pair, int thread) {
    const struct gemm_job *J = ctx;
    const struct olmo_linear *W = J->W;
    int64_t rows = W->rows, K = W->cols, r0 = pair * 32, rows_left = rows - r0;
    int np = rows_left > 16 ? 2 : 1;
    uint8_t *buf = J->pack + (size_t)thread * J->pack_stride;
    if (W->dtype == OLMO_DTYPE_BF16) {
        uint32_t *Wp = (uint32_t *)buf;
        for (int p = 0; p < np; p++) pack_bf16(Wp + p * J->kp2 * 16, W->data, K, r0 + 16 * p, rows);
        const uint32_t *x = J->x;   /* tile i of 12 tokens starts at word 12·i·kp2 */
        int64_t t = 0;
        for (; t + NT_MAX <= J->T; t += NT_MAX) {
            const uint32_t *xt = x + t * J->kp2;
            if (np == 2) tile_bf16(J->y + t * rows + r0, rows, rows_left, Wp, J->kp2, xt, 2, NT_MAX);
            else tile_bf16(J->y + t * rows + r0, rows, rows_left, Wp, J->kp2, xt, 1, NT_MAX);
        }
        if (t < J->T) tile_bf16_n(J->y + t * rows + r0, rows, rows_left, Wp, J->kp2, x + t * J->kp2, np, J->T - (int)t);
    } else {
        float *Wp = (float *)buf;
        struct olmo_linear sub = *W;
        for (int p = 0; p < np; p++) pack_f32(Wp + p * K * 16, &sub, r0 + 16 * p);
        const float *x = J->x;   /* tile i of 12 tokens starts at 12·i·K */
        int64_t t = 0;
        for (; t + NT_MAX <= J->T; t += NT_MAX) {
            if (np == 2) tile_f32(J->y + t * rows + r0, rows, rows_left, Wp, K, x + t * K, 2, NT_MAX);
            else tile_f32(J->y + t * rows + r0, rows, rows_left, Wp, K, x + t * K, 1, NT_MAX);
        }
        if (t < J->T) tile_f32_n(J->y + t * rows + r0, rows, rows_left, Wp, K, x + t * K, np, J->T - (int)t);
    }
}

/* Tile at token t0 with n tokens is [k][n] (bf16: k is a column pair and x is rounded to bf16 once, odd
 * lengths padded with a zero). */
struct xprep_job { const float *x; const struct olmo_linear *W; uint8_t *mem; int T; int64_t K, kp2; };
static void xprep_tile(void *ctx, int64_t tile, int thread) {
    (void)thread;
    const struct xprep_job *P = ctx;
    int64_t K = P->K, kp2 = P->kp2, t0 = tile * NT_MAX, n = P->T - t0 < NT_MAX ? P->T - t0 : NT_MAX;
    for (int64_t i = 0; i < n; i++) {
        const float *src = P->x + (t0 + i) * K;
        if (P->W->dtype == OLMO_DTYPE_BF16) {
            uint32_t *d = (uint32_t *)P->mem + t0 * kp2 + i;
            for (int64_t kp = 0; kp < kp2; kp++) {
                uint32_t lo = olmo_f32_to_bf16(src[2 * kp]), hi = 2 * kp + 1 < K ? olmo_f32_to_bf16(src[2 * kp + 1]) : 0;
                d[kp * n] = lo | hi << 16;
            }
        } else {
            float *d = (float *)P->mem + t0 * K + i;
            for (int64_t k = 0; k < K; k++) d[k * n] = src[k];
        }
    }
}

static int linear_gemm_fast_avx512(float *y, const float *x, const struct olmo_linear *W, int T) {
    int64_t K = W->cols, rows = W->rows, kp2 = (K + 1) / 2;
    int nt = olmo_pool_threads();
    struct gemm_job J = {.W = W, .y = y, .x = x, .T = T, .kp2 = kp2, .npair = (rows + 31) / 32};
    size_t xbytes;
    if (W->dtype == OLMO_DTYPE_BF16) {
        J.pack_stride = ((size_t)kp2 * 32 * 4 + 63) & ~(size_t)63;
        xbytes = ((size_t)T * (size_t)kp2 * 4 + 63) & ~(size_t)63;
    } else if (W->dtype == OLMO_DTYPE_F32 || W->dtype == OLMO_DTYPE_F16) {
        J.pack_stride = ((size_t)K * 32 * 4 + 63) & ~(size_t)63;
        xbytes = ((size_t)T * (size_t)K * 4 + 63) & ~(size_t)63;
    } else return -1;
    uint8_t *mem = linear_scratch(xbytes + (size_t)nt * J.pack_stride);
    if (!mem) return -1;
    J.pack = mem + xbytes;
    /* activations, interleaved by tiles of 12 tokens (in parallel: serial time otherwise) */
    struct xprep_job P = {.x = x, .W = W, .mem = mem, .T = T, .K = K, .kp2 = kp2};
    olmo_pool_for((T + NT_MAX - 1) / NT_MAX, xprep_tile, &P);
    J.x = mem;
    olmo_pool_for(J.npair, gemm_pair, &J);
    return 0;
}

OLMO_TARGET_END

int linear_gemm_fast(float *y, const float *x, const struct olmo_linear *W, int T) {
    if (!olmo_cpu_has(LINEAR_GEMM_NEEDS)) return -1;
    return linear_gemm_fast_avx512(y, x, W, T);
}
