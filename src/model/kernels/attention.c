/* attention.c — attn_prefill (attention.h): causal attention for a block of new tokens, AVX-512 (compiled for it
 * whatever the build's baseline and used when the CPU has it, base/cpu.h; otherwise the caller's portable loop).
 *
 * Per call: Kt[g][d][n16] = K transposed per KV head (n16 = pos+T rounded up to 16; padding keys are zero and
 * masked), fp32 whatever the cache's element type (a bf16 cache is widened here, once per call). Per pool chunk (one query head, a tile of up to 8 consecutive tokens):
 *   1. scores s[t][j] = scale · q_t · k_j for the keys the tile's last token sees: for each 16 keys, loop over
 *      the hd dimensions with one Kt load and 8 broadcast FMAs (8 accumulators, lanes = keys);
 *   2. per token: causal mask (j > pos+t → excluded), max, exp (vectorized), sum;
 *   3. out_t = Σ_j p[t][j] · v_j / sum: two tokens at a time, hd/16 accumulators each, one V row load per key
 *      shared by both (kv_load16: bf16 rows widened in registers; the element type is a compile-time constant
 *      of each pv instance, so the fp32 loop is unchanged).
 * Two passes over a score buffer (8 × n16 floats per thread) rather than an online softmax: simple, and the
 * buffer stays in L2 up to several thousand keys. */
#include "model/kernels/attention.h"
#include "base/cpu.h"
#include "model/kernels/pool.h"
#include "model/kernels/vexp.h"

#include <immintrin.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

OLMO_TARGET_AVX512_BEGIN

#define TQ 8   /* query tokens per tile */

struct attn_job {
    float *out;
    const float *q, *Kt;
    const void *V;           /* [n][kv_stride] of kv_dtype */
    enum olmo_kv_dtype kv_dtype;
    float *scores;           /* per thread: TQ * n16 */
    int T, pos, H, group, hd, kv_stride, n16, ntiles;
    int64_t head_stride;     /* elements from one KV head's rows to the next's */
    float scale;
};

/* out rows of a tile = P · V / sum, two tokens at a time (NV = hd/16 accumulators each, V rows shared) */
static inline __attribute__((always_inline)) void pv(const struct attn_job *J, const float *S, const float *inv,
                                                     int t0, int nt, int h, int g, const int NV,
                                                     const enum olmo_kv_dtype DT) {
    int H = J->H, hd = J->hd;
    for (int t = 0; t < nt; t += 2) {
        int two = t + 1 < nt;
        __m512 o0[16], o1[16];
#pragma GCC unroll 16
        for (int v = 0; v < NV; v++) o0[v] = o1[v] = _mm512_setzero_ps();
        const float *p0 = S + (size_t)t * J->n16, *p1 = two ? p0 + J->n16 : p0;
        int n = J->pos + t0 + t + 1 + two;   /* keys with a non-zero weight for either token */
        for (int j = 0; j < n; j++) {
            size_t vr = (size_t)j * J->kv_stride + (size_t)g * (size_t)J->head_stride;
            __m512 w0 = _mm512_set1_ps(p0[j]), w1 = _mm512_set1_ps(p1[j]);
#pragma GCC unroll 16
            for (int v = 0; v < NV; v++) {
                __m512 x = kv_load16(J->V, vr + (size_t)v * 16, DT);
                o0[v] = _mm512_fmadd_ps(w0, x, o0[v]);
                o1[v] = _mm512_fmadd_ps(w1, x, o1[v]);
            }
        }
        float *d0 = J->out + ((size_t)(t0 + t) * H + h) * hd;
        __m512 i0 = _mm512_set1_ps(inv[t]);
#pragma GCC unroll 16
        for (int v = 0; v < NV; v++) _mm512_storeu_ps(d0 + v * 16, _mm512_mul_ps(o0[v], i0));
        if (two) {
            float *d1 = d0 + (size_t)H * hd;
            __m512 i1 = _mm512_set1_ps(inv[t + 1]);
#pragma GCC unroll 16
            for (int v = 0; v < NV; v++) _mm512_storeu_ps(d1 + v * 16, _mm512_mul_ps(o1[v], i1));
        }
    }
}

static void attn_tile(void *ctx, int64_t chunk, int thread) {
    const struct attn_job *J = ctx;
    int h = (int)(chunk / J->ntiles), t0 = (int)(chunk % J->ntiles) * TQ, hd = J->hd, H = J->H, nv = hd / 16;
    int nt = J->T - t0 < TQ ? J->T - t0 : TQ, g = h / J->group;
    int nkeys = J->pos + t0 + nt;   /* keys the tile's last token sees */
    const float *Kt = J->Kt + (size_t)g * hd * J->n16;
    float *S = J->scores + (size_t)thread * TQ * J->n16;
    const float *q[TQ];
    for (int t = 0; t < TQ; t++) q[t] = J->q + ((size_t)(t0 + (t < nt ? t : 0)) * H + h) * hd;
    /* 1. scores, 16 keys at a time */
    __m512 sc = _mm512_set1_ps(J->scale);
    for (int j = 0; j < nkeys; j += 16) {
        __m512 a[TQ];
#pragma GCC unroll 8
        for (int t = 0; t < TQ; t++) a[t] = _mm512_setzero_ps();
        const float *kc = Kt + j;
        for (int d = 0; d < hd; d++) {
            __m512 k = _mm512_load_ps(kc + (size_t)d * J->n16);
#pragma GCC unroll 8
            for (int t = 0; t < TQ; t++) a[t] = _mm512_fmadd_ps(_mm512_set1_ps(q[t][d]), k, a[t]);
        }
        for (int t = 0; t < nt; t++) _mm512_store_ps(S + (size_t)t * J->n16 + j, _mm512_mul_ps(a[t], sc));
    }
    /* 2. causal softmax per token (unnormalised; 1/sum applied at the end) */
    float inv[TQ];
    for (int t = 0; t < nt; t++) {
        float *s = S + (size_t)t * J->n16;
        int n = J->pos + t0 + t + 1;
        __m512 mx = _mm512_set1_ps(-INFINITY);
        for (int j = 0; j < n; j += 16) {
            __mmask16 m = n - j >= 16 ? 0xffff : (__mmask16)((1u << (n - j)) - 1);
            mx = _mm512_mask_max_ps(mx, m, mx, _mm512_load_ps(s + j));
        }
        __m512 vmax = _mm512_set1_ps(_mm512_reduce_max_ps(mx)), sum = _mm512_setzero_ps();
        int jend = (nkeys + 15) & ~15;
        for (int j = 0; j < jend; j += 16) {
            __mmask16 m = n - j >= 16 ? 0xffff : n - j <= 0 ? 0 : (__mmask16)((1u << (n - j)) - 1);
            __m512 e = _mm512_maskz_mov_ps(m, olmo_exp512(_mm512_sub_ps(_mm512_load_ps(s + j), vmax)));
            _mm512_store_ps(s + j, e);
            sum = _mm512_add_ps(sum, e);
        }
        inv[t] = 1.0f / _mm512_reduce_add_ps(sum);
    }
    /* 3. out = P · V, two tokens at a time */
    switch (nv) {
#define PV_CASE(k)                                                                                            \
    case k:                                                                                                   \
        if (J->kv_dtype == OLMO_KV_BF16) pv(J, S, inv, t0, nt, h, g, k, OLMO_KV_BF16);                        \
        else pv(J, S, inv, t0, nt, h, g, k, OLMO_KV_F32);                                                     \
        break;
        PV_CASE(1) PV_CASE(2) PV_CASE(3) PV_CASE(4) PV_CASE(5) PV_CASE(6) PV_CASE(7) PV_CASE(8)
        PV_CASE(9) PV_CASE(10) PV_CASE(11) PV_CASE(12) PV_CASE(13) PV_CASE(14) PV_CASE(15) PV_CASE(16)
#undef PV_CASE
    }
}

struct tr_job { float *Kt; const void *K; enum olmo_kv_dtype kv_dtype; int n, n16, hd, kv_stride; int64_t head_stride; };
static void transpose_head(void *ctx, int64_t g, int thread) {
    (void)thread;
    const struct tr_job *J = ctx;
    float *dst = J->Kt + (size_t)g * J->hd * J->n16, buf[256];   /* hd <= 256 (checked by attn_prefill) */
    for (int j = 0; j < J->n16; j++) {
        if (j >= J->n) {
            for (int d = 0; d < J->hd; d++) dst[(size_t)d * J->n16 + j] = 0.0f;
            continue;
        }
        const float *k = kv_row(J->K, J->kv_dtype, (size_t)j * J->kv_stride + (size_t)g * (size_t)J->head_stride, J->hd, buf);
        for (int d = 0; d < J->hd; d++) dst[(size_t)d * J->n16 + j] = k[d];
    }
}

static pthread_mutex_t attn_lock = PTHREAD_MUTEX_INITIALIZER;
static float *attn_buf;
static size_t attn_cap;

static int attn_prefill_avx512(float *out, const float *q, const void *K, const void *V, enum olmo_kv_dtype kv_dtype, int T, int pos,
                 int H, int Hkv, int hd, int kv_stride, int64_t head_stride, float scale) {
    if ((kv_dtype != OLMO_KV_F32 && kv_dtype != OLMO_KV_BF16) || T < TQ || hd % 16 || hd > 256 || H % Hkv) return -1;
    int n = pos + T, n16 = (n + 15) & ~15, nth = olmo_pool_threads();
    size_t need = (size_t)Hkv * hd * n16 + (size_t)nth * TQ * n16;
    pthread_mutex_lock(&attn_lock);
    if (need > attn_cap) {
        float *p = NULL;
        if (posix_memalign((void **)&p, 64, need * sizeof(float) + need / 4 * sizeof(float)) != 0) {
            pthread_mutex_unlock(&attn_lock);
            return -1;
        }
        free(attn_buf);
        attn_buf = p;
        attn_cap = need + need / 4;
    }
    struct tr_job tj = {attn_buf, K, kv_dtype, n, n16, hd, kv_stride, head_stride};
    olmo_pool_for(Hkv, transpose_head, &tj);
    struct attn_job J = {.out = out, .q = q, .V = V, .kv_dtype = kv_dtype, .Kt = attn_buf, .scores = attn_buf + (size_t)Hkv * hd * n16,
                         .T = T, .pos = pos, .H = H, .group = H / Hkv, .hd = hd, .kv_stride = kv_stride, .head_stride = head_stride, .n16 = n16,
                         .ntiles = (T + TQ - 1) / TQ, .scale = scale};
    olmo_pool_for((int64_t)H * J.ntiles, attn_tile, &J);
    pthread_mutex_unlock(&attn_lock);
    return 0;
}

OLMO_TARGET_END

int attn_prefill(float *out, const float *q, const void *K, const void *V, enum olmo_kv_dtype kv_dtype, int T, int pos,
                 int H, int Hkv, int hd, int kv_stride, int64_t head_stride, float scale) {
    if (!olmo_cpu_has(OLMO_CPU_SET_AVX512)) return -1;
    return attn_prefill_avx512(out, q, K, V, kv_dtype, T, pos, H, Hkv, hd, kv_stride, head_stride, scale);
}
