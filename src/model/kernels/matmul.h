/* matmul.h — the one place matrix products go through (fp32 via OpenBLAS).
 *
 * Row-major everywhere. C[M,N] = alpha * op(A)[M,K] · op(B)[K,N] + beta * C, where op(X) is X or Xᵀ.
 * Weights in olmo.c are stored as PyTorch/HF Linear weights, W[out, in], so y = x·Wᵀ is
 * mm_f32(y, x, W, T, out, in, 0, 1, 1, 0) (no transpose of x, transpose of W). Faster precisions (bf16, int8) live in sibling files
 * behind their own functions and are always checked against this one. */
#ifndef OLMO_KERNELS_MATMUL_H
#define OLMO_KERNELS_MATMUL_H

void mm_f32(float *C, const float *A, const float *B, int M, int N, int K, int transA, int transB, float alpha,
            float beta);

#endif
