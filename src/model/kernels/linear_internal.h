/* linear_internal.h — what linear.c (dispatch, scratch space) shares with the fast kernels in
 * linear_gemv.c (T == 1) and linear_gemm.c (T > 1). Not part of the library's API. */
#ifndef OLMO_KERNELS_LINEAR_INTERNAL_H
#define OLMO_KERNELS_LINEAR_INTERNAL_H

#include "base/cpu.h"
#include "model/kernels/linear.h"

#include <stddef.h>
#include <stdint.h>

/* Activations quantized for the Q8 kernels: for T tokens, xq (T·cols int8) with per-32-block scales xs
 * (T·cols/32) and, per block, negcorr = -128·Σ xq (the weights are stored as unsigned q + 128, which VNNI's
 * unsigned x signed product needs; starting the block's sum at negcorr removes the +128 again). Tokens are
 * interleaved in tiles of 6 (linear_q8.c says how). */
struct q8_act {
    int8_t *xq;
    float *xs;
    int32_t *negcorr;
    int64_t cols, nblk;
};
#define Q8_NT 6   /* tokens per activation tile (and per prefill tile of the Q8 and Q4 kernels) */
/* Quantizes x[T][K] into a (memory: the scratch area, so valid until the next linear_scratch call). 0, or -1
 * (no memory: the caller falls back). Used by the Q8 and the Q4 kernels; compiled for AVX512-VNNI, so call it
 * only where olmo_cpu_has(LINEAR_Q8_NEEDS). */
int q8_act_make(struct q8_act *a, const float *x, int64_t K, int T);

/* Grows the module's scratch area to at least n bytes (64-byte aligned; contents not kept). NULL on failure.
 * Only called with linear.c's lock held. */
void *linear_scratch(size_t n);

/* Memory for weights streamed at every token: 2 MB aligned, transparent huge pages when large (linear.c says
 * why). Freed with free(). NULL with olmo_err on failure. */
void *linear_weight_alloc(size_t n);

/* What each fast path needs of the CPU (base/cpu.h); below it, it declines and the reference runs. */
#define LINEAR_GEMV_NEEDS OLMO_CPU_SET_AVX512BF16
#define LINEAR_GEMM_NEEDS OLMO_CPU_SET_AVX512BF16
#define LINEAR_Q8_NEEDS (OLMO_CPU_SET_AVX512 | OLMO_CPU_AVX512_VNNI)
#define LINEAR_Q4_NEEDS LINEAR_Q8_NEEDS   /* the same VNNI tile shape, on q8_act_make's activations */

/* The fast paths; each returns 0, or -1 if it does not handle this case (the caller falls back). */
int linear_gemv_fast(float *y, const float *x, const struct olmo_linear *W);
/* n vectors x[n][cols] -> y[n][rows], each bitwise equal to linear_gemv_fast of that vector alone. */
int linear_gemv_fast_n(float *y, const float *x, const struct olmo_linear *W, int n);
int linear_gemm_fast(float *y, const float *x, const struct olmo_linear *W, int T);
int linear_q8_fast(float *y, const float *x, const struct olmo_linear *W, int T);   /* any T */
int linear_q4_fast(float *y, const float *x, const struct olmo_linear *W, int T);   /* any T */
int linear_q4_fast_avx2(float *y, const float *x, const struct olmo_linear *W, int T);   /* needs OLMO_CPU_SET_AVX2 */

/* The oneDNN prompt path for bf16 weights (linear_onednn.c): wanted on AMX CPUs, or when forced (mode 1; 0 never,
 * 2 automatic; also OLMO_PREFILL_ONEDNN=0|1). forward returns 0, or -1 (the caller falls back). */
int linear_onednn_wanted(const struct olmo_linear *W, int T);
int linear_onednn_forward(float *y, const float *x, const struct olmo_linear *W, int T);
void linear_onednn_set(int mode);
const char *linear_onednn_impl(void);   /* oneDNN's name for the kernel it chose, once it ran */

/* Selects the bf16 GEMV variant: 0 exact fp32 widening (default), 1 vdpbf16ps with x rounded to bf16
 * (also OLMO_GEMV_DPBF16=1). For tests and the benchmark. */
void linear_gemv_set_dpbf16(int on);

#endif
