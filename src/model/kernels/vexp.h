/* vexp.h — e^x for 16 fp32 lanes with AVX-512 (the compiler does not vectorize libm's expf), shared by the
 * attention softmax (kernels/attention.c) and SwiGLU (forward.c).
 *
 * x = n·ln2 + r with |r| <= ln2/2 (ln2 split in two so n·ln2 is exact), e^r by its degree-7 Taylor polynomial
 * (truncation < 2e-8 relative), scaled by 2^n with vscalefps: about 1 ulp. Inputs below -87 give 0 as expf
 * would (underflow); callers keep x below +88 (no overflow handling here). Compiled for AVX-512 whatever the
 * build's baseline: only callable from an OLMO_TARGET_AVX512 (or higher) region, after olmo_cpu_has (base/cpu.h). */
#ifndef OLMO_KERNELS_VEXP_H
#define OLMO_KERNELS_VEXP_H

#include "base/cpu.h"

#include <immintrin.h>

OLMO_TARGET_AVX512_BEGIN
static inline __m512 olmo_exp512(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187e-06f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}
OLMO_TARGET_END

#endif
