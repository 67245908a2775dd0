/* test_gemm_bf16.c — the bf16 GEMM against mm_f32 run on the same inputs rounded to bf16 (the products of bf16
 * values are exact in fp32, so only the fp32 summation order differs: 1e-5 relative to the row scale), for every
 * transpose combination, beta 0 and 1, alpha != 1, odd sizes, the primitive cache (a shape used twice) and the
 * batched form used by attention. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "model/kernels/gemm_bf16.h"
#include "model/kernels/linear.h"
#include "model/kernels/matmul.h"

static float frand(unsigned *s) {
    *s = *s * 1103515245u + 12345u;
    return (float)((*s >> 8) & 0xffff) / 65536.0f - 0.5f;
}

static int check_one(struct gemm_bf16 *g, int M, int N, int K, int tA, int tB, float alpha, float beta) {
    unsigned s = (unsigned)(M * 31 + N * 7 + K + tA * 3 + tB);
    size_t na = (size_t)M * K, nb = (size_t)K * N, nc = (size_t)M * N;
    float *A = malloc(na * 4), *B = malloc(nb * 4), *Ar = malloc(na * 4), *Br = malloc(nb * 4);
    float *C = malloc(nc * 4), *R = malloc(nc * 4);
    int ok = A && B && Ar && Br && C && R;
    if (ok) {
        for (size_t i = 0; i < na; i++) { A[i] = frand(&s); Ar[i] = olmo_bf16_to_f32(olmo_f32_to_bf16(A[i])); }
        for (size_t i = 0; i < nb; i++) { B[i] = frand(&s); Br[i] = olmo_bf16_to_f32(olmo_f32_to_bf16(B[i])); }
        for (size_t i = 0; i < nc; i++) C[i] = R[i] = frand(&s);
        mm_f32(R, Ar, Br, M, N, K, tA, tB, alpha, beta);
        ok = gemm_bf16(g, C, A, B, M, N, K, tA, tB, alpha, beta) == 0;
        double scale = sqrt((double)K) * 0.3 + 1;
        for (size_t i = 0; ok && i < nc; i++)
            if (fabs(C[i] - R[i]) > 1e-5 * scale) {
                th_fail(__FILE__, __LINE__, "%dx%dx%d tA %d tB %d alpha %g beta %g: C[%zu] %.7g vs %.7g", M, N, K, tA,
                        tB, alpha, beta, i, C[i], R[i]);
                ok = 0;
            }
    }
    free(A); free(B); free(Ar); free(Br); free(C); free(R);
    return ok;
}

TEST(gemm_bf16_matches_f32_on_bf16_inputs) {
    struct gemm_bf16 *g = gemm_bf16_create();
    CHECK(g != NULL);
    int sizes[][3] = {{1, 1, 1}, {7, 5, 3}, {33, 17, 65}, {64, 96, 128}, {130, 70, 257}};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (int tA = 0; tA < 2; tA++)
            for (int tB = 0; tB < 2; tB++)
                for (int b = 0; b < 2; b++)
                    if (!check_one(g, sizes[si][0], sizes[si][1], sizes[si][2], tA, tB, 1.0f, (float)b)) goto out;
    CHECK_GOTO(check_one(g, 33, 17, 65, 0, 1, 0.5f, 1.0f), out);
    CHECK_GOTO(check_one(g, 33, 17, 65, 0, 1, 1.0f, 0.0f), out);   /* cached primitive reused */
    CHECK_GOTO(strlen(gemm_bf16_impl(g)) > 0, out);
out:
    gemm_bf16_free(g);
}

TEST(gemm_bf16_batched_matches_per_matrix_f32) {
    struct gemm_bf16 *g = gemm_bf16_create();
    CHECK(g != NULL);
    enum { NB = 3, M = 20, N = 9, K = 33 };
    static float A[NB * M * K], B[NB * K * N], C[NB * M * N], R[NB * M * N];
    unsigned s = 7;
    for (int i = 0; i < NB * M * K; i++) A[i] = olmo_bf16_to_f32(olmo_f32_to_bf16(frand(&s)));
    for (int i = 0; i < NB * K * N; i++) B[i] = olmo_bf16_to_f32(olmo_f32_to_bf16(frand(&s)));
    for (int tA = 0; tA < 2; tA++)
        for (int tB = 0; tB < 2; tB++) {
            for (int b = 0; b < NB; b++)
                mm_f32(R + b * M * N, A + b * M * K, B + b * K * N, M, N, K, tA, tB, 1.0f, 0.0f);
            CHECK_GOTO(gemm_bf16_batched(g, C, A, B, NB, M, N, K, tA, tB, 1.0f, 0.0f) == 0, out);
            for (int i = 0; i < NB * M * N; i++)
                if (fabs(C[i] - R[i]) > 1e-5 * 3) {
                    th_fail(__FILE__, __LINE__, "batched tA %d tB %d: C[%d] %.7g vs %.7g", tA, tB, i, C[i], R[i]);
                    goto out;
                }
        }
out:
    gemm_bf16_free(g);
}
