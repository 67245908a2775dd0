/* gemm_bf16.c — bf16 × bf16 → fp32 GEMM through oneDNN's matmul primitive (see gemm_bf16.h).
 *
 * Why oneDNN: its brgemm kernels use AVX512-BF16 (vdpbf16ps) and AMX where present and handle the blocking and
 * packing; a hand-written kernel would need the same packing to reach the bf16 peak. Transposes are expressed as
 * strides of the memory descriptors (no copies). Inputs are rounded fp32 → bf16 (nearest even) into scratch
 * buffers owned by the handle; C stays fp32, and beta is oneDNN's "sum" post-op (accumulation in fp32). */
#include "model/kernels/gemm_bf16.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <oneapi/dnnl/dnnl.h>

#include "base/error.h"
#include "base/mem.h"
#include "model/kernels/linear.h"

#include "base/cpu.h"

#include <immintrin.h>

struct gemm_entry {
    int batch, M, N, K, tA, tB;
    float alpha, beta;
    dnnl_primitive_t prim;
    dnnl_memory_t a, b, c;
};

struct gemm_bf16 {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    struct gemm_entry *e;
    int n, cap;
    uint16_t *abuf, *bbuf;
    size_t acap, bcap;
    char impl[128];
};

struct gemm_bf16 *gemm_bf16_create(void) {
    struct gemm_bf16 *g = olmo_calloc(1, sizeof *g);
    if (!g) return NULL;
    if (dnnl_engine_create(&g->engine, dnnl_cpu, 0) != dnnl_success ||
        dnnl_stream_create(&g->stream, g->engine, dnnl_stream_default_flags) != dnnl_success) {
        olmo_err("bf16 GEMM: oneDNN could not create a CPU engine/stream");
        gemm_bf16_free(g);
        return NULL;
    }
    snprintf(g->impl, sizeof g->impl, "(none yet)");
    return g;
}

void gemm_bf16_free(struct gemm_bf16 *g) {
    if (!g) return;
    for (int i = 0; i < g->n; i++) {
        dnnl_primitive_destroy(g->e[i].prim);
        dnnl_memory_destroy(g->e[i].a);
        dnnl_memory_destroy(g->e[i].b);
        dnnl_memory_destroy(g->e[i].c);
    }
    free(g->e);
    free(g->abuf);
    free(g->bbuf);
    if (g->stream) dnnl_stream_destroy(g->stream);
    if (g->engine) dnnl_engine_destroy(g->engine);
    free(g);
}

const char *gemm_bf16_impl(struct gemm_bf16 *g) { return g->impl; }

/* A descriptor of `batch` dense matrices `rows × cols`, each row-major or (trans) stored as its transpose;
 * batch == 1 gives a plain 2-D descriptor. */
static dnnl_status_t md3(dnnl_memory_desc_t *md, int batch, int rows, int cols, int trans, dnnl_data_type_t dt) {
    if (batch == 1) {
        dnnl_dims_t dims = {rows, cols};
        dnnl_dims_t strides = {trans ? 1 : cols, trans ? rows : 1};
        return dnnl_memory_desc_init_by_strides(md, 2, dims, dt, strides);
    }
    dnnl_dims_t dims = {batch, rows, cols};
    dnnl_dims_t strides = {(dnnl_dim_t)rows * cols, trans ? 1 : cols, trans ? rows : 1};
    return dnnl_memory_desc_init_by_strides(md, 3, dims, dt, strides);
}

static struct gemm_entry *lookup(struct gemm_bf16 *g, int batch, int M, int N, int K, int tA, int tB, float alpha,
                                 float beta) {
    for (int i = 0; i < g->n; i++) {
        struct gemm_entry *e = &g->e[i];
        if (e->batch == batch && e->M == M && e->N == N && e->K == K && e->tA == tA && e->tB == tB &&
            e->alpha == alpha && e->beta == beta)
            return e;
    }
    if (g->n == g->cap) {
        int cap = g->cap ? 2 * g->cap : 16;
        struct gemm_entry *ne = olmo_realloc(g->e, (size_t)cap * sizeof *ne);
        if (!ne) return NULL;
        g->e = ne;
        g->cap = cap;
    }
    struct gemm_entry *e = &g->e[g->n];
    memset(e, 0, sizeof *e);
    dnnl_memory_desc_t a_md, b_md, c_md;
    dnnl_matmul_desc_t mdesc;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t ops = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t st = md3(&a_md, batch, M, K, tA, dnnl_bf16);
    if (st == dnnl_success) st = md3(&b_md, batch, K, N, tB, dnnl_bf16);
    if (st == dnnl_success) st = md3(&c_md, batch, M, N, 0, dnnl_f32);
    if (st == dnnl_success) st = dnnl_matmul_desc_init(&mdesc, &a_md, &b_md, NULL, &c_md);
    if (st == dnnl_success) st = dnnl_primitive_attr_create(&attr);
    if (st == dnnl_success && alpha != 1.0f) st = dnnl_primitive_attr_set_output_scales(attr, 1, 0, &alpha);
    if (st == dnnl_success && beta != 0.0f) {
        st = dnnl_post_ops_create(&ops);
        if (st == dnnl_success) st = dnnl_post_ops_append_sum(ops, beta);
        if (st == dnnl_success) st = dnnl_primitive_attr_set_post_ops(attr, ops);
    }
    if (st == dnnl_success) st = dnnl_primitive_desc_create(&pd, &mdesc, attr, g->engine, NULL);
    if (st == dnnl_success) st = dnnl_primitive_create(&e->prim, pd);
    if (st == dnnl_success) st = dnnl_memory_create(&e->a, &a_md, g->engine, DNNL_MEMORY_NONE);
    if (st == dnnl_success) st = dnnl_memory_create(&e->b, &b_md, g->engine, DNNL_MEMORY_NONE);
    if (st == dnnl_success) st = dnnl_memory_create(&e->c, &c_md, g->engine, DNNL_MEMORY_NONE);
    if (st == dnnl_success) {
        const char *impl = NULL;
        if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success && impl)
            snprintf(g->impl, sizeof g->impl, "%s", impl);
    }
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (ops) dnnl_post_ops_destroy(ops);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (st != dnnl_success) {
        if (e->prim) dnnl_primitive_destroy(e->prim);
        if (e->a) dnnl_memory_destroy(e->a);
        if (e->b) dnnl_memory_destroy(e->b);
        olmo_err("bf16 GEMM: oneDNN could not create a %d x %dx%dx%d matmul (transA %d transB %d): status %d", batch,
                 M, N, K, tA, tB, (int)st);
        return NULL;
    }
    e->batch = batch;
    e->M = M; e->N = N; e->K = K; e->tA = tA; e->tB = tB; e->alpha = alpha; e->beta = beta;
    g->n++;
    return e;
}

static int grow(uint16_t **buf, size_t *cap, size_t n) {
    if (n <= *cap) return 0;
    free(*buf);
    *buf = olmo_aligned_alloc(n * sizeof(uint16_t));
    *cap = *buf ? n : 0;
    return *buf ? 0 : -1;
}

/* 16 at a time with AVX512-BF16 (same rounding); returns how many were converted */
OLMO_TARGET_AVX512BF16_BEGIN
static size_t to_bf16_avx512(uint16_t *dst, const float *src, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(dst + i), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(src + i)));
    return i;
}
OLMO_TARGET_END

/* fp32 → bf16, round to nearest even, in parallel blocks. */
static void to_bf16(uint16_t *dst, const float *src, size_t n) {
    int bf16 = olmo_cpu_has(OLMO_CPU_SET_AVX512BF16);
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t blk = 0; blk < (n + 4095) / 4096; blk++) {
        size_t i = blk * 4096, end = i + 4096 < n ? i + 4096 : n;
        if (bf16) i += to_bf16_avx512(dst + i, src + i, end - i);
        for (; i < end; i++) dst[i] = olmo_f32_to_bf16(src[i]);
    }
}

int gemm_bf16(struct gemm_bf16 *g, float *C, const float *A, const float *B, int M, int N, int K, int transA,
              int transB, float alpha, float beta) {
    return gemm_bf16_batched(g, C, A, B, 1, M, N, K, transA, transB, alpha, beta);
}

int gemm_bf16_batched(struct gemm_bf16 *g, float *C, const float *A, const float *B, int batch, int M, int N, int K,
                      int transA, int transB, float alpha, float beta) {
    if (M <= 0 || N <= 0 || batch <= 0) return 0;
    if (K <= 0) {   /* empty sum: C = beta·C */
        for (size_t i = 0; i < (size_t)batch * M * N; i++) C[i] = beta == 0.0f ? 0.0f : beta * C[i];
        return 0;
    }
    struct gemm_entry *e = lookup(g, batch, M, N, K, transA != 0, transB != 0, alpha, beta);
    if (!e) return -1;
    size_t na = (size_t)batch * M * K, nb = (size_t)batch * K * N;
    if (grow(&g->abuf, &g->acap, na) || grow(&g->bbuf, &g->bcap, nb))
        return olmo_err_prefix("bf16 GEMM %dx%dx%d: ", M, N, K);
    to_bf16(g->abuf, A, na);
    to_bf16(g->bbuf, B, nb);
    dnnl_memory_set_data_handle(e->a, g->abuf);
    dnnl_memory_set_data_handle(e->b, g->bbuf);
    dnnl_memory_set_data_handle(e->c, C);
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, e->a}, {DNNL_ARG_WEIGHTS, e->b}, {DNNL_ARG_DST, e->c}};
    if (dnnl_primitive_execute(e->prim, g->stream, 3, args) != dnnl_success || dnnl_stream_wait(g->stream) != dnnl_success)
        return olmo_err("bf16 GEMM: oneDNN failed to execute a %dx%dx%d matmul", M, N, K);
    return 0;
}

int gemm_bf16_wbf16(struct gemm_bf16 *g, float *C, const float *A, const uint16_t *B, int M, int N, int K, int transB) {
    if (M <= 0 || N <= 0) return 0;
    if (K <= 0) {
        memset(C, 0, (size_t)M * N * sizeof *C);
        return 0;
    }
    struct gemm_entry *e = lookup(g, 1, M, N, K, 0, transB != 0, 1.0f, 0.0f);
    if (!e) return -1;
    size_t na = (size_t)M * K;
    if (grow(&g->abuf, &g->acap, na)) return olmo_err_prefix("bf16 GEMM %dx%dx%d: ", M, N, K);
    to_bf16(g->abuf, A, na);
    dnnl_memory_set_data_handle(e->a, g->abuf);
    dnnl_memory_set_data_handle(e->b, (void *)B);
    dnnl_memory_set_data_handle(e->c, C);
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, e->a}, {DNNL_ARG_WEIGHTS, e->b}, {DNNL_ARG_DST, e->c}};
    if (dnnl_primitive_execute(e->prim, g->stream, 3, args) != dnnl_success || dnnl_stream_wait(g->stream) != dnnl_success)
        return olmo_err("bf16 GEMM: oneDNN failed to execute a %dx%dx%d matmul", M, N, K);
    return 0;
}
