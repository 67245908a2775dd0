/* half.h — bf16 and fp16 <-> fp32 element conversions, exact where the format allows (round to nearest even).
 * Checkpoints store bf16 and fp16; the kernels, the trainer and the safetensors reader all convert with these. */
#ifndef OLMO_BASE_HALF_H
#define OLMO_BASE_HALF_H

#include <stdint.h>

static inline float olmo_bf16_to_f32(uint16_t h) {
    union { uint32_t u; float f; } v = {.u = (uint32_t)h << 16};
    return v.f;
}
static inline uint16_t olmo_f32_to_bf16(float f) {   /* round to nearest even, NaN kept NaN */
    union { uint32_t u; float f; } v = {.f = f};
    if ((v.u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((v.u >> 16) | 0x40);
    return (uint16_t)((v.u + 0x7fffu + ((v.u >> 16) & 1)) >> 16);
}
float olmo_f16_to_f32(uint16_t h);
uint16_t olmo_f32_to_f16(float f);

#endif
