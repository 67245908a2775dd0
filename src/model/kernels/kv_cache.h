/* kv_cache.h — the element type of the KV cache (fp32 or bf16) and the only places that convert it.
 *
 * The cache is a flat array of keys (or values) whose elements are fp32 or bf16. All attention arithmetic is fp32:
 * a bf16 cache rounds each key/value element once when it is written (round to nearest even, olmo_f32_to_bf16:
 * relative error <= 2^-9) and widens it exactly when it is read (bf16 -> fp32 is a 16-bit shift). Half the bytes
 * per position: at long contexts attention over the cache is a real share of a decoded token, and the cache of
 * OLMo-2 7B at 4096 positions drops from 4.3 GB to 2.1 GB.
 *
 * The AVX-512 helpers are compiled for AVX-512 whatever the build's baseline (base/cpu.h): kv_load16 only from
 * inside an OLMO_TARGET_AVX512 region; kv_row checks the CPU itself.
 *
 * Readers: forward.c (decode attention: kv_row per key and value row) and attention.c (the prompt kernel:
 * kv_row when it transposes K, kv_load16 in its P·V loop). Writer: forward.c's step_qkv (kv_store). */
#ifndef OLMO_KERNELS_KV_CACHE_H
#define OLMO_KERNELS_KV_CACHE_H

#include "base/cpu.h"
#include "base/half.h"

#include <stddef.h>
#include <stdint.h>
#include <immintrin.h>
#include <string.h>

enum olmo_kv_dtype { OLMO_KV_F32 = 0, OLMO_KV_BF16 = 1 };

static inline size_t kv_elem_size(enum olmo_kv_dtype dt) { return dt == OLMO_KV_BF16 ? 2 : 4; }

OLMO_TARGET_AVX512_BEGIN
/* 16 consecutive elements at element index i as fp32 (DT a compile-time constant in the kernels that use it). */
static inline __m512 kv_load16(const void *cache, size_t i, enum olmo_kv_dtype dt) {
    if (dt == OLMO_KV_BF16) {
        __m256i h = _mm256_loadu_si256((const __m256i *)((const uint16_t *)cache + i));
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    }
    return _mm512_loadu_ps((const float *)cache + i);
}

/* bf16 elements p[0..n16) widened into buf, n16 a multiple of 16 */
static inline void kv_widen16_avx512(float *buf, const uint16_t *p, int n16) {
    for (int i = 0; i < n16; i += 16) _mm512_storeu_ps(buf + i, kv_load16(p, (size_t)i, OLMO_KV_BF16));
}
OLMO_TARGET_END

/* Elements [off, off+n) as fp32: a pointer into an fp32 cache (no copy), or the bf16 elements widened into buf. */
static inline const float *kv_row(const void *cache, enum olmo_kv_dtype dt, size_t off, int n, float *buf) {
    if (dt == OLMO_KV_F32) return (const float *)cache + off;
    const uint16_t *p = (const uint16_t *)cache + off;
    int i = 0;
    if (n >= 16 && olmo_cpu_has(OLMO_CPU_SET_AVX512)) {
        i = n & ~15;
        kv_widen16_avx512(buf, p, i);
    }
    for (; i < n; i++) buf[i] = olmo_bf16_to_f32(p[i]);
    return buf;
}

/* Writes x[0..n) at elements [off, off+n), rounded to nearest even when the cache is bf16. */
static inline void kv_store(void *cache, enum olmo_kv_dtype dt, size_t off, const float *x, int n) {
    if (dt == OLMO_KV_F32) {
        memcpy((float *)cache + off, x, (size_t)n * sizeof(float));
        return;
    }
    uint16_t *p = (uint16_t *)cache + off;
    for (int i = 0; i < n; i++) p[i] = olmo_f32_to_bf16(x[i]);
}

#endif
