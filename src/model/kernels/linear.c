/* linear.c — the entry point of linear.h: dispatch to the fast kernels (linear_gemv.c for one token,
 * linear_gemm.c for several), the scratch space they share, and the portable reference implementation (one
 * fp32 dot product per output element) that the tests hold them to. Also the element conversions and the Q8
 * quantizer. */
#include "model/kernels/linear.h"
#include "base/cpu.h"
#include "base/error.h"
#include "base/mem.h"
#include "model/kernels/linear_internal.h"
#include "model/kernels/pool.h"

#include <immintrin.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* One linear_forward at a time: the kernels share the thread pool and one scratch area. */
static pthread_mutex_t lin_lock = PTHREAD_MUTEX_INITIALIZER;
static void *scratch;
static size_t scratch_cap;

void *linear_scratch(size_t n) {
    if (n <= scratch_cap) return scratch;
    size_t cap = n + n / 4;
    void *p = olmo_aligned_alloc(cap);
    if (!p) return NULL;
    free(scratch);
    scratch = p;
    scratch_cap = cap;
    return scratch;
}

void linear_row_f32(float *out, const struct olmo_linear *W, int64_t r) {
    int64_t n = W->cols;
    switch (W->dtype) {
    case OLMO_DTYPE_F32: memcpy(out, (const float *)W->data + r * n, (size_t)n * sizeof(float)); break;
    case OLMO_DTYPE_BF16: {
        const uint16_t *p = (const uint16_t *)W->data + r * n;
        for (int64_t i = 0; i < n; i++) out[i] = olmo_bf16_to_f32(p[i]);
        break;
    }
    case OLMO_DTYPE_F16: {
        const uint16_t *p = (const uint16_t *)W->data + r * n;
        for (int64_t i = 0; i < n; i++) out[i] = olmo_f16_to_f32(p[i]);
        break;
    }
    case OLMO_DTYPE_Q8: {   /* panel order, see linear.h */
        int64_t nblk = n / OLMO_Q8_BLOCK, p = r / 16, l = r % 16;
        const uint8_t *d = (const uint8_t *)W->data + p * 16 * n + l * 4;
        const uint16_t *s = W->scales + p * 16 * nblk + l;
        for (int64_t i = 0; i < n; i++)
            out[i] = (float)((int)d[(i / 4) * 64 + i % 4] - 128) * olmo_f16_to_f32(s[(i / OLMO_Q8_BLOCK) * 16]);
        break;
    }
    case OLMO_DTYPE_Q4:
        for (int64_t i = 0; i < n; i++) out[i] = linear_q4_at(W, r, i);
        break;
    }
}

void linear_forward(float *y, const float *x, const struct olmo_linear *W, int T) {
    if (T <= 0 || W->rows <= 0) return;
    pthread_mutex_lock(&lin_lock);
    int done = W->dtype == OLMO_DTYPE_Q8       ? linear_q8_fast(y, x, W, T) == 0
               : W->dtype == OLMO_DTYPE_Q4     ? linear_q4_fast(y, x, W, T) == 0
               : T == 1                        ? linear_gemv_fast(y, x, W) == 0
               : linear_onednn_wanted(W, T)    ? linear_onednn_forward(y, x, W, T) == 0 || linear_gemm_fast(y, x, W, T) == 0
                                               : linear_gemm_fast(y, x, W, T) == 0;
    pthread_mutex_unlock(&lin_lock);
    if (!done) linear_forward_ref(y, x, W, T);
}

void linear_forward_batch(float *y, const float *x, const struct olmo_linear *W, int n) {
    if (n <= 0 || W->rows <= 0) return;
    if (n == 1) { linear_forward(y, x, W, 1); return; }
    pthread_mutex_lock(&lin_lock);
    /* Q8: the kernel quantizes and accumulates every token on its own, so T = n rows equal n calls of one */
    int done = W->dtype == OLMO_DTYPE_Q8 ? linear_q8_fast(y, x, W, n) == 0 : linear_gemv_fast_n(y, x, W, n) == 0;
    pthread_mutex_unlock(&lin_lock);
    if (!done) linear_forward_ref(y, x, W, n);   /* row by row, the same sums as with T = 1 */
}

const char *linear_kernel_name(enum olmo_dtype dt, int T) {
    if (dt == OLMO_DTYPE_Q8)
        return olmo_cpu_has(LINEAR_Q8_NEEDS) ? "avx512-vnni: int8 dot products on 16-row panels" : "portable C (reference)";
    if (dt == OLMO_DTYPE_Q4)
        return olmo_cpu_has(LINEAR_Q4_NEEDS)     ? "avx512-vnni: 4-bit nibbles x int8 on 16-row panels"
               : olmo_cpu_has(OLMO_CPU_SET_AVX2) ? "avx2: 4-bit nibbles x int8 (vpmaddubsw), one token at a time"
                                                 : "portable C (reference)";
    if (T == 1)
        return olmo_cpu_has(LINEAR_GEMV_NEEDS) ? "avx512bf16: row-parallel GEMV, exact bf16/f16 widening" : "portable C (reference)";
    struct olmo_linear probe = {.dtype = dt};
    if (linear_onednn_wanted(&probe, T))
        return olmo_cpu_has(OLMO_CPU_SET_AMX) ? "oneDNN matmul (brgemm on AMX tiles), bf16 weights as stored"
                                              : "oneDNN matmul (forced by OLMO_PREFILL_ONEDNN=1), bf16 weights as stored";
    return olmo_cpu_has(LINEAR_GEMM_NEEDS) ? "avx512bf16: packed GEMM (vdpbf16ps for bf16, fp32 FMA for f32/f16)"
                                           : "portable C (reference)";
}

/* Element (r, c) of W as fp32 (the reference path reads weights one by one: no buffers, nothing to fail). */
static float w_at(const struct olmo_linear *W, int64_t r, int64_t c) {
    int64_t n = W->cols;
    switch (W->dtype) {
    case OLMO_DTYPE_F32: return ((const float *)W->data)[r * n + c];
    case OLMO_DTYPE_BF16: return olmo_bf16_to_f32(((const uint16_t *)W->data)[r * n + c]);
    case OLMO_DTYPE_F16: return olmo_f16_to_f32(((const uint16_t *)W->data)[r * n + c]);
    case OLMO_DTYPE_Q8: {
        const uint8_t *d = (const uint8_t *)W->data + (r / 16) * 16 * n + (r % 16) * 4;
        const uint16_t *s = W->scales + (r / 16) * 16 * (n / OLMO_Q8_BLOCK) + r % 16;
        return (float)((int)d[(c / 4) * 64 + c % 4] - 128) * olmo_f16_to_f32(s[(c / OLMO_Q8_BLOCK) * 16]);
    }
    case OLMO_DTYPE_Q4: return linear_q4_at(W, r, c);
    }
    return 0.0f;
}

void linear_forward_ref(float *y, const float *x, const struct olmo_linear *W, int T) {
    int64_t rows = W->rows, cols = W->cols;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; r++)
        for (int t = 0; t < T; t++) {
            const float *xt = x + (int64_t)t * cols;
            float acc = 0.0f;
            for (int64_t c = 0; c < cols; c++) acc += w_at(W, r, c) * xt[c];
            y[(int64_t)t * rows + r] = acc;
        }
}

uint64_t linear_q8_bytes(int64_t rows, int64_t cols) {
    uint64_t prow = (uint64_t)(rows + 15) / 16 * 16;
    return prow * (uint64_t)cols + prow * (uint64_t)(cols / OLMO_Q8_BLOCK) * sizeof(uint16_t);
}

/* The block scale amax/127 rounded to fp16 (stored), and 1/that scale for quantizing, so the values are
 * rounded against the scale the kernels will use. 0 when it does not fit fp16 (|w| above 127·65504). */
static int block_scale(float amax, uint16_t *stored, float *inv) {
    uint16_t h = olmo_f32_to_f16(amax / 127.0f);
    if ((h & 0x7c00) == 0x7c00) return 0;   /* inf or NaN */
    float s = olmo_f16_to_f32(h);
    *stored = h;
    *inv = s > 0 ? 1.0f / s : 0.0f;
    return 1;
}

/* One 32-value block: fp16 scale amax/127, values rounded to nearest (even) and clamped to ±127, stored as
 * q + 128 into the panel layout (d points at this row's first byte, k0 is the block's first column).
 * Returns 0 when the block's scale does not fit fp16. The AVX-512 twin gives the same bytes (both round half
 * to even: lrintf and vcvtps2dq in the default rounding mode). */
OLMO_TARGET_AVX512_BEGIN
static int quantize_block_avx512(uint8_t *d, uint16_t *scale, const float *v, int64_t k0) {
    float inv;
    __m512 v0 = _mm512_loadu_ps(v), v1 = _mm512_loadu_ps(v + 16);
    float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
    if (!block_scale(amax, scale, &inv)) return 0;
    __m512 iv = _mm512_set1_ps(inv);
    __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127), off = _mm512_set1_epi32(128);
    uint32_t w[8];
    __m512i q0 = _mm512_add_epi32(_mm512_max_epi32(_mm512_min_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(v0, iv)), hi), lo), off);
    __m512i q1 = _mm512_add_epi32(_mm512_max_epi32(_mm512_min_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(v1, iv)), hi), lo), off);
    _mm_storeu_si128((__m128i *)w, _mm512_cvtepi32_epi8(q0));
    _mm_storeu_si128((__m128i *)(w + 4), _mm512_cvtepi32_epi8(q1));
    for (int g = 0; g < 8; g++) memcpy(d + (k0 / 4 + g) * 64, &w[g], 4);
    return 1;
}
OLMO_TARGET_END

static int quantize_block(uint8_t *d, uint16_t *scale, const float *v, int64_t k0, int avx512) {
    if (avx512) return quantize_block_avx512(d, scale, v, k0);
    float inv, amax = 0;
    for (int i = 0; i < OLMO_Q8_BLOCK; i++) amax = fmaxf(amax, fabsf(v[i]));
    if (!block_scale(amax, scale, &inv)) return 0;
    for (int i = 0; i < OLMO_Q8_BLOCK; i++) {
        int64_t k = k0 + i;
        long v8 = lrintf(v[i] * inv);
        d[(k / 4) * 64 + k % 4] = (uint8_t)((v8 > 127 ? 127 : v8 < -127 ? -127 : v8) + 128);
    }
    return 1;
}

/* Memory for weights the kernels will stream at every token: 2 MB aligned and, when large, backed by
 * transparent huge pages (madvise before the first touch). With 4 KB pages the same streaming read is ~30 %
 * slower here (TLB misses, prefetchers stopping at page ends; docs/kernels.md). Freed with free(). */
void *linear_weight_alloc(size_t n) {
    size_t huge = (size_t)2 << 20;
    void *p = NULL;
    if (n >= huge) {
        size_t rounded = (n + huge - 1) & ~(huge - 1);
        if (posix_memalign(&p, huge, rounded) != 0) p = NULL;
        if (p) madvise(p, rounded, MADV_HUGEPAGE);   /* a hint: failure only costs speed */
    } else if (posix_memalign(&p, 64, n ? n : 64) != 0) p = NULL;
    if (!p) olmo_err("out of memory allocating %zu bytes", n);
    return p;
}

struct quant_job {
    const struct olmo_linear *src;
    uint8_t *q;
    uint16_t *scales;
    float *rowbuf;
    atomic_int out_of_range;   /* a block whose scale overflows fp16 */
};

static void quantize_panel(void *ctx, int64_t p, int thread) {
    struct quant_job *J = ctx;
    int64_t K = J->src->cols, nblk = K / OLMO_Q8_BLOCK;
    float *row = J->rowbuf + (size_t)thread * (size_t)K;
    int avx512 = olmo_cpu_has(OLMO_CPU_SET_AVX512);
    for (int64_t r = p * 16; r < p * 16 + 16 && r < J->src->rows; r++) {
        linear_row_f32(row, J->src, r);
        uint8_t *d = J->q + p * 16 * K + (r % 16) * 4;
        uint16_t *sc = J->scales + p * 16 * nblk + r % 16;
        for (int64_t b = 0; b < nblk; b++)
            if (!quantize_block(d, sc + b * 16, row + b * OLMO_Q8_BLOCK, b * OLMO_Q8_BLOCK, avx512))
                atomic_store(&J->out_of_range, 1);
    }
}

int linear_quantize_q8(struct olmo_linear *dst, const struct olmo_linear *src) {
    if (src->cols % OLMO_Q8_BLOCK) return olmo_err("q8: row length %lld is not a multiple of %d", (long long)src->cols, OLMO_Q8_BLOCK);
    int64_t K = src->cols, nblk = K / OLMO_Q8_BLOCK, npanel = (src->rows + 15) / 16;
    size_t qbytes = (size_t)(npanel * 16 * K), sbytes = (size_t)(npanel * 16 * nblk) * sizeof(uint16_t);
    uint8_t *mem = linear_weight_alloc(qbytes + sbytes + 64);
    if (!mem) return olmo_err_prefix("q8: %lld x %lld matrix: ", (long long)src->rows, (long long)K);
    memset(mem, 128, qbytes);   /* padding rows: q = 0 */
    memset(mem + qbytes, 0, sbytes + 64);   /* padding rows: scale 0 */
    struct quant_job J = {.src = src, .q = mem, .scales = (uint16_t *)(mem + ((qbytes + 63) & ~(size_t)63))};
    atomic_init(&J.out_of_range, 0);
    J.rowbuf = olmo_malloc((size_t)olmo_pool_threads() * (size_t)K * sizeof(float));
    if (!J.rowbuf) { free(mem); return olmo_err_prefix("q8: %lld x %lld matrix: ", (long long)src->rows, (long long)K); }
    olmo_pool_for(npanel, quantize_panel, &J);
    free(J.rowbuf);
    if (atomic_load(&J.out_of_range)) {
        free(mem);
        return olmo_err("q8: %lld x %lld matrix has weights beyond +-%g, outside the fp16 block scales' range "
                        "(or infinite weights)", (long long)src->rows, (long long)K, 127.0 * 65504.0);
    }
    *dst = (struct olmo_linear){.dtype = OLMO_DTYPE_Q8, .rows = src->rows, .cols = src->cols, .data = mem, .scales = J.scales, .owned = mem};
    return 0;
}

struct copy_job { uint8_t *dst; const uint8_t *src; size_t n; };
#define COPY_CHUNK ((size_t)4 << 20)
static void copy_chunk(void *ctx, int64_t c, int thread) {
    (void)thread;
    const struct copy_job *J = ctx;
    size_t b = (size_t)c * COPY_CHUNK, e = b + COPY_CHUNK < J->n ? b + COPY_CHUNK : J->n;
    memcpy(J->dst + b, J->src + b, e - b);
}

int linear_rehome(struct olmo_linear *W, int drop_source) {
    if (W->dtype == OLMO_DTYPE_Q8 || W->dtype == OLMO_DTYPE_Q4 || W->owned || !W->data) return 0;   /* already in memory of our own */
    size_t es = W->dtype == OLMO_DTYPE_F32 ? 4 : 2, n = (size_t)W->rows * (size_t)W->cols * es;
    uint8_t *mem = linear_weight_alloc(n);
    if (!mem) return olmo_err_prefix("moving a %lld x %lld matrix to huge pages: ", (long long)W->rows, (long long)W->cols);
    struct copy_job J = {mem, W->data, n};
    olmo_pool_for((int64_t)((n + COPY_CHUNK - 1) / COPY_CHUNK), copy_chunk, &J);
    if (drop_source) {   /* whole pages inside the source range only */
        uintptr_t a = ((uintptr_t)W->data + 4095) & ~(uintptr_t)4095, e = ((uintptr_t)W->data + n) & ~(uintptr_t)4095;
        if (e > a) madvise((void *)a, e - a, MADV_DONTNEED);
    }
    W->data = mem;
    W->owned = mem;
    return 0;
}

void linear_free(struct olmo_linear *W) {
    free(W->owned);
    W->owned = NULL;
}
