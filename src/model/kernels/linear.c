/* linear.c — portable reference implementation of linear.h: one fp32 dot product per output element,
 * rows split across OpenMP threads. Correct for every dtype; the fast paths are built against it. */
#include "model/kernels/linear.h"
#include "base/error.h"
#include "base/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

float olmo_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) bits = sign;
        else {   /* subnormal: renormalise */
            int e = -1;
            do { man <<= 1; e++; } while (!(man & 0x400));
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ff) << 13);
        }
    } else if (exp == 31) bits = sign | 0x7f800000u | (man << 13);
    else bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    union { uint32_t u; float f; } v = {.u = bits};
    return v.f;
}

uint16_t olmo_f32_to_f16(float f) {
    union { uint32_t u; float f; } v = {.f = f};
    uint32_t sign = (v.u >> 16) & 0x8000, exp = (v.u >> 23) & 0xff, man = v.u & 0x7fffff;
    if (exp == 0xff) return (uint16_t)(sign | 0x7c00 | (man ? 0x200 : 0));
    int e = (int)exp - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7c00);
    if (e <= 0) {
        if (e < -10) return (uint16_t)sign;
        man |= 0x800000;
        int shift = 14 - e;
        uint32_t half = man >> shift, rem = man & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)e << 10) | (man >> 13), rem = man & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) half++;
    return (uint16_t)half;
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
    case OLMO_DTYPE_Q8: {
        const int8_t *p = (const int8_t *)W->data + r * n;
        const float *s = W->scales + r * (n / OLMO_Q8_BLOCK);
        for (int64_t i = 0; i < n; i++) out[i] = (float)p[i] * s[i / OLMO_Q8_BLOCK];
        break;
    }
    }
}

void linear_forward(float *y, const float *x, const struct olmo_linear *W, int T) {
    int64_t rows = W->rows, cols = W->cols;
#pragma omp parallel
    {
        float *row = malloc((size_t)cols * sizeof(float));
#pragma omp for schedule(static)
        for (int64_t r = 0; r < rows; r++) {
            linear_row_f32(row, W, r);
            for (int t = 0; t < T; t++) {
                const float *xt = x + (int64_t)t * cols;
                float acc = 0.0f;
                for (int64_t c = 0; c < cols; c++) acc += row[c] * xt[c];
                y[(int64_t)t * rows + r] = acc;
            }
        }
        free(row);
    }
}

int linear_quantize_q8(struct olmo_linear *dst, const struct olmo_linear *src) {
    if (src->cols % OLMO_Q8_BLOCK) return olmo_err("q8: row length %lld is not a multiple of %d", (long long)src->cols, OLMO_Q8_BLOCK);
    int64_t nblk = src->cols / OLMO_Q8_BLOCK;
    size_t qbytes = (size_t)(src->rows * src->cols), sbytes = (size_t)(src->rows * nblk) * sizeof(float);
    uint8_t *mem = olmo_aligned_alloc(qbytes + sbytes + 64);
    if (!mem) return -1;
    int8_t *q = (int8_t *)mem;
    float *scales = (float *)(mem + ((qbytes + 63) & ~(size_t)63));
#pragma omp parallel
    {
        float *row = malloc((size_t)src->cols * sizeof(float));
#pragma omp for schedule(static)
        for (int64_t r = 0; r < src->rows; r++) {
            linear_row_f32(row, src, r);
            for (int64_t b = 0; b < nblk; b++) {
                const float *v = row + b * OLMO_Q8_BLOCK;
                float amax = 0;
                for (int i = 0; i < OLMO_Q8_BLOCK; i++) amax = fmaxf(amax, fabsf(v[i]));
                float s = amax / 127.0f, inv = s > 0 ? 1.0f / s : 0.0f;
                scales[r * nblk + b] = s;
                for (int i = 0; i < OLMO_Q8_BLOCK; i++) q[r * src->cols + b * OLMO_Q8_BLOCK + i] = (int8_t)lrintf(v[i] * inv);
            }
        }
        free(row);
    }
    *dst = (struct olmo_linear){.dtype = OLMO_DTYPE_Q8, .rows = src->rows, .cols = src->cols, .data = q, .scales = scales, .owned = mem};
    return 0;
}

void linear_free(struct olmo_linear *W) {
    free(W->owned);
    W->owned = NULL;
}
