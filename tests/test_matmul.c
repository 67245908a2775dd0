/* test_matmul.c — mm_f32 against a naive triple loop, all four transpose combinations. */
#include "harness.h"
#include "model/kernels/matmul.h"

#include <stdlib.h>

static float naive_at(const float *X, int rows, int cols, int t, int i, int j) {
    return t ? X[j * rows + i] : X[i * cols + j];   /* op(X)[i][j]; X stored (rows x cols) of op(X) shape */
}

TEST(matmul_f32_matches_naive_all_transposes) {
    enum { M = 7, N = 5, K = 9 };
    float A[M * K], B[K * N], C[M * N];
    srand(1);
    for (int i = 0; i < M * K; i++) A[i] = (float)rand() / RAND_MAX - 0.5f;
    for (int i = 0; i < K * N; i++) B[i] = (float)rand() / RAND_MAX - 0.5f;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            for (int i = 0; i < M * N; i++) C[i] = 1.0f;
            mm_f32(C, A, B, M, N, K, ta, tb, 2.0f, 0.5f);
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) {
                    double s = 0;
                    for (int k = 0; k < K; k++) s += naive_at(A, M, K, ta, i, k) * naive_at(B, K, N, tb, k, j);
                    CHECK_NEAR(C[i * N + j], 2.0 * s + 0.5, 1e-5);
                }
        }
}
