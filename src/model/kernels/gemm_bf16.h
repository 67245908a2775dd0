/* gemm_bf16.h — general matrix product with bf16 inputs and fp32 accumulation/output (training's fast path).
 *
 * Same contract as mm_f32 (matmul.h): row-major, C[M,N] = alpha·op(A)[M,K]·op(B)[K,N] + beta·C, op = optional
 * transpose. A and B are fp32 in memory; they are rounded to bf16 (round to nearest even) into scratch buffers,
 * multiplied on the CPU's bf16 units (AVX512-BF16 / AMX) through oneDNN's matmul, accumulated and written in fp32.
 * oneDNN primitives are created once per (M, N, K, transA, transB) and cached in the handle, so the steady state
 * of a training loop creates nothing. A handle is not thread-safe (one per model); the products themselves run
 * on oneDNN's OpenMP threads. Checked against mm_f32 in tests/test_gemm_bf16.c. */
#ifndef OLMO_KERNELS_GEMM_BF16_H
#define OLMO_KERNELS_GEMM_BF16_H

#include <stddef.h>
#include <stdint.h>

struct gemm_bf16;

struct gemm_bf16 *gemm_bf16_create(void);   /* NULL with olmo_err when oneDNN is unusable */
void gemm_bf16_free(struct gemm_bf16 *g);

/* Returns 0, or -1 with olmo_err (oneDNN failure, out of memory). beta may be 0 or 1 (other values too). */
int gemm_bf16(struct gemm_bf16 *g, float *C, const float *A, const float *B, int M, int N, int K, int transA,
              int transB, float alpha, float beta);

/* `batch` independent products of dense matrices laid out one after another (A: batch × [M,K] or its transpose,
 * B: batch × [K,N] or transpose, C: batch × [M,N]), one oneDNN call (attention's per-head products). */
int gemm_bf16_batched(struct gemm_bf16 *g, float *C, const float *A, const float *B, int batch, int M, int N, int K,
                      int transA, int transB, float alpha, float beta);

/* C[M,N] = A[M,K]·op(B) with B already bf16 (a model's stored weights: no conversion, no copy), A fp32 rounded
 * to bf16 as above, C fp32 overwritten. transB = 1: B is stored as its transpose [N][K] (a weight matrix
 * W[out][in], so C = A·Wᵀ). The prompt path of linear.h on AMX CPUs (linear_onednn.c). 0 or -1 with olmo_err. */
int gemm_bf16_wbf16(struct gemm_bf16 *g, float *C, const float *A, const uint16_t *B, int M, int N, int K, int transB);

/* Name of the instruction set oneDNN picked for bf16 matmul (e.g. "brg:avx512_core_bf16"), for benchmarks. */
const char *gemm_bf16_impl(struct gemm_bf16 *g);

#endif
