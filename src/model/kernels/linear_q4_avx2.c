/* linear_q4_avx2.c — the Q4 kernel for CPUs with AVX2 but without AVX512-VNNI (most laptops before 2022), so
 * that --quant q4 there runs at memory speed instead of on the element-by-element reference path.
 *
 * Same weights (linear.h's Q4 panels) and the same arithmetic as linear_q4.c: activations rounded to int8 per
 * 32-block (scale amax/127; here with plain AVX2 and a simple [token][cols] layout), exact int32 block sums,
 * block scales applied in fp32. Without vpdpbusd a 32-byte half of a 64-byte group (8 rows x 4 columns) is
 * multiplied with vpmaddubsw (unsigned nibble x signed int8, pairs summed to int16: at most 2·15·127, no
 * saturation) and vpmaddwd by ones (pairs to int32: one sum of 4 products per row), then added up per block;
 * each block's sum starts at -8·Σx to remove the +8 of the stored nibbles. One token at a time (a prompt is T
 * passes over the weights: prompts are slower than with the VNNI tiles, decoding is memory-bound either way). */
#include "model/kernels/linear_internal.h"
#include "base/cpu.h"
#include "model/kernels/pool.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

OLMO_TARGET_AVX2_BEGIN

struct a2_act { int8_t *xq; float *xs; int32_t *corr; int64_t K, nblk; };

static void quantize_row(const struct a2_act *a, const float *x, int64_t t) {
    for (int64_t b = 0; b < a->nblk; b++) {
        const float *v = x + t * a->K + b * 32;
        float amax = 0;
        for (int i = 0; i < 32; i++) amax = fmaxf(amax, fabsf(v[i]));
        float inv = amax > 0 ? 127.0f / amax : 0.0f;
        int32_t sum = 0;
        int8_t *q = a->xq + t * a->K + b * 32;
        for (int i = 0; i < 32; i++) {
            long r = lrintf(v[i] * inv);
            q[i] = (int8_t)(r > 127 ? 127 : r < -127 ? -127 : r);
            sum += q[i];
        }
        a->xs[t * a->nblk + b] = amax / 127.0f;
        a->corr[t * a->nblk + b] = -8 * sum;
    }
}

struct a2_job { const struct olmo_linear *W; float *y; const struct a2_act *a; int T; int64_t chunk, npanel; };

/* rows 16p .. 16p+15 of token t */
static void panel_token(const struct a2_job *J, int64_t p, int t) {
    const struct olmo_linear *W = J->W;
    const struct a2_act *a = J->a;
    int64_t K = W->cols, nblk = a->nblk;
    const uint8_t *wp = (const uint8_t *)W->data + p * 8 * K;
    const uint16_t *sp = W->scales + p * 16 * nblk;
    const int8_t *xq = a->xq + t * K;
    const __m256i lo4 = _mm256_set1_epi8(0x0f), ones = _mm256_set1_epi16(1);
    __m256 f0 = _mm256_setzero_ps(), f1 = _mm256_setzero_ps();
    for (int64_t b = 0; b < nblk; b++) {
        __m256i c = _mm256_set1_epi32(a->corr[t * nblk + b]), s0 = c, s1 = c;
        const uint8_t *wb = wp + b * 256;
        int32_t xg[8];
        memcpy(xg, xq + b * 32, 32);
        for (int kq = 0; kq < 4; kq++) {
            __m256i xl = _mm256_set1_epi32(xg[kq]), xh = _mm256_set1_epi32(xg[kq + 4]);
            __m256i v0 = _mm256_loadu_si256((const __m256i *)(wb + kq * 64)), v1 = _mm256_loadu_si256((const __m256i *)(wb + kq * 64 + 32));
            __m256i l0 = _mm256_and_si256(v0, lo4), h0 = _mm256_and_si256(_mm256_srli_epi16(v0, 4), lo4);
            __m256i l1 = _mm256_and_si256(v1, lo4), h1 = _mm256_and_si256(_mm256_srli_epi16(v1, 4), lo4);
            __m256i p0 = _mm256_add_epi16(_mm256_maddubs_epi16(l0, xl), _mm256_maddubs_epi16(h0, xh));   /* <= 4·15·127 */
            __m256i p1 = _mm256_add_epi16(_mm256_maddubs_epi16(l1, xl), _mm256_maddubs_epi16(h1, xh));
            s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(p0, ones));
            s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(p1, ones));
        }
        __m256 xs = _mm256_set1_ps(a->xs[t * nblk + b]);
        __m256 w0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(sp + b * 16)));
        __m256 w1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(sp + b * 16 + 8)));
        f0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_mul_ps(w0, xs), f0);
        f1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s1), _mm256_mul_ps(w1, xs), f1);
    }
    float out[16];
    _mm256_storeu_ps(out, f0);
    _mm256_storeu_ps(out + 8, f1);
    int64_t rows = W->rows, n = rows - 16 * p < 16 ? rows - 16 * p : 16;
    memcpy(J->y + (int64_t)t * rows + 16 * p, out, (size_t)n * sizeof(float));
}

static void a2_chunk(void *ctx, int64_t chunk, int thread) {
    (void)thread;
    const struct a2_job *J = ctx;
    int64_t p0 = chunk * J->chunk, p1 = p0 + J->chunk < J->npanel ? p0 + J->chunk : J->npanel;
    for (int t = 0; t < J->T; t++)
        for (int64_t p = p0; p < p1; p++) panel_token(J, p, t);
}

int linear_q4_fast_avx2(float *y, const float *x, const struct olmo_linear *W, int T) {
    int64_t K = W->cols, nblk = K / 32, npanel = (W->rows + 15) / 16;
    if (K % 32) return -1;
    size_t xb = ((size_t)T * (size_t)K + 63) & ~(size_t)63, sb = ((size_t)T * (size_t)nblk * 4 + 63) & ~(size_t)63;
    uint8_t *mem = linear_scratch(xb + 2 * sb);
    if (!mem) return -1;
    struct a2_act a = {(int8_t *)mem, (float *)(mem + xb), (int32_t *)(mem + xb + sb), K, nblk};
    for (int t = 0; t < T; t++) quantize_row(&a, x, t);
    int64_t nt = olmo_pool_threads(), cp = npanel / (nt * 8), minp = 32768 / (8 * K) + 1;
    struct a2_job J = {W, y, &a, T, cp < minp ? minp : cp, npanel};
    olmo_pool_for((npanel + J.chunk - 1) / J.chunk, a2_chunk, &J);
    return 0;
}

OLMO_TARGET_END
