/* matmul.c — fp32 GEMM through OpenBLAS (see matmul.h). */
#include "model/kernels/matmul.h"

#include <cblas.h>

void mm_f32(float *C, const float *A, const float *B, int M, int N, int K, int transA, int transB, float alpha,
            float beta) {
    if (M <= 0 || N <= 0) return;
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, M, N, K,
                alpha, A, transA ? M : K, B, transB ? K : N, beta, C, N);
}
