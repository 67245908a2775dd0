/* train_kernels.c — small helpers shared by the forward and backward kernels: a vectorised exp for the softmaxes (attention rows and the vocabulary), which would otherwise dominate the
 * non-GEMM time with scalar expf calls. */
#include "train/train_kernels.h"
#include "base/cpu.h"

#include <immintrin.h>
#include <math.h>

OLMO_TARGET_AVX512_BEGIN
/* exp(x) = 2^k · e^r with k = round(x·log2 e), r = x − k·ln 2 (two-part ln 2), e^r by Cephes' degree-6
 * polynomial; relative error ≈ 1–2 ulp over the range. scalef applies 2^k without building exponent bits. */
static inline __m512 exp512(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-87.5f));
    x = _mm512_min_ps(x, _mm512_set1_ps(88.5f));
    __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    __m512 r2 = _mm512_mul_ps(r, r);
    __m512 y = _mm512_add_ps(_mm512_fmadd_ps(p, r2, r), _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(y, k);
}

static float exp_shift_avx512(float *p, int n, float shift) {
    __m512 s = _mm512_set1_ps(shift), acc = _mm512_setzero_ps();
    int j = 0;
    for (; j + 16 <= n; j += 16) {
        __m512 e = exp512(_mm512_sub_ps(_mm512_loadu_ps(p + j), s));
        _mm512_storeu_ps(p + j, e);
        acc = _mm512_add_ps(acc, e);
    }
    if (j < n) {
        __mmask16 k = (__mmask16)((1u << (n - j)) - 1);
        __m512 e = exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, p + j), s));
        _mm512_mask_storeu_ps(p + j, k, e);
        acc = _mm512_add_ps(acc, _mm512_maskz_mov_ps(k, e));
    }
    return _mm512_reduce_add_ps(acc);
}
OLMO_TARGET_END

float train_exp_shift(float *p, int n, float shift) {
    if (olmo_cpu_has(OLMO_CPU_SET_AVX512)) return exp_shift_avx512(p, n, shift);
    float sum = 0.0f;
    for (int j = 0; j < n; j++) {
        p[j] = expf(p[j] - shift);
        sum += p[j];
    }
    return sum;
}
