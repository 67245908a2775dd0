/* attention.h — causal multi-head attention over the KV cache (fp32 or bf16), for a prompt (many new tokens at once).
 *
 * out[t][h] = softmax(q[t][h] · K[0..pos+t]ᵀ · scale) · V[0..pos+t]   for t < T, h < H,
 * query head h reading KV head h / (H / Hkv) (consecutive groups, as HF's repeat_kv). Layouts:
 *   q, out: [T][H·hd];  K, V: the row of KV head g at position j starts at element j·kv_stride + g·head_stride
 *   (the model's cache is head-major: kv_stride = hd, head_stride = max_seq·hd; an interleaved [pos][Hkv·hd]
 *   layout is kv_stride = Hkv·hd, head_stride = hd); elements of type kv_dtype (kv_cache.h: a bf16 cache is
 *   widened exactly to fp32 as it is read).
 * The plain per-(token, head) loop spends most of its time in one dot product and one expf per key; here the
 * keys of each KV head are transposed once per call, 8 query tokens share every key load (a small register
 * tiled GEMM for q·Kᵀ and for P·V), and exp is vectorized (AVX-512 scalef: error ≈ 1 ulp). fp32 arithmetic
 * throughout; with a bf16 cache the result equals that of an fp32 cache holding the same (rounded) values.
 *
 * Returns 0, or -1 when it does not handle the case (no AVX-512 on this CPU or under OLMO_CPU's cap, base/cpu.h;
 * hd not a multiple of 16 or above 256, T < 8 where transposing the cache would cost more than it saves, out of
 * memory): the caller then uses its own loop. Runs on the thread pool (kernels/pool.h); calls are serialised. */
#ifndef OLMO_KERNELS_ATTENTION_H
#define OLMO_KERNELS_ATTENTION_H

#include "model/kernels/kv_cache.h"

#include <stdint.h>

int attn_prefill(float *out, const float *q, const void *K, const void *V, enum olmo_kv_dtype kv_dtype, int T, int pos,
                 int H, int Hkv, int hd, int kv_stride, int64_t head_stride, float scale);

#endif
