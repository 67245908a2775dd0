/* linear_qdrive.h — the work split shared by the Q8 and Q4 kernels (linear_q8.c, linear_q4.c), included once by
 * each after it defines
 *     QD_TILE(y, ldy, rows_left, W, S, K, a, t0, NP, NT)   its always-inlined tile (NP panels x NT tokens)
 *     QD_PANEL_BYTES(K)                                    weight bytes of one 16-row panel
 * and then calls qd_run. Both formats keep panels of 16 rows with fp16 scales [panel][cols/32][16] and take the
 * activations from q8_act_make, so only the tile differs.
 *   decode (T = 1): chunks of whole panels, one panel at a time (one contiguous weight stream per thread;
 *            linear_q8.c has the measurement), about 8 chunks per thread and at least min_bytes each;
 *   prefill: panel pairs by tiles of Q8_NT tokens, a few pairs per chunk. */
#ifndef OLMO_KERNELS_LINEAR_QDRIVE_H
#define OLMO_KERNELS_LINEAR_QDRIVE_H

#include "model/kernels/linear_internal.h"
#include "model/kernels/pool.h"

struct qd_job {
    const struct olmo_linear *W;
    float *y;
    const struct q8_act *a;
    int T;
    int64_t chunk_panels, npanel;
};

/* The panels [*p0, *p1) of a chunk. */
static inline void qd_range(const struct qd_job *J, int64_t chunk, int64_t *p0, int64_t *p1) {
    *p0 = chunk * J->chunk_panels;
    *p1 = *p0 + J->chunk_panels < J->npanel ? *p0 + J->chunk_panels : J->npanel;
}

static void qd_decode_chunk(void *ctx, int64_t chunk, int thread) {
    (void)thread;
    const struct qd_job *J = ctx;
    int64_t K = J->W->cols, nblk = K / OLMO_Q8_BLOCK, rows = J->W->rows, p0, p1;
    const uint8_t *W = J->W->data;
    qd_range(J, chunk, &p0, &p1);
    for (int64_t p = p0; p < p1; p++)
        QD_TILE(J->y + 16 * p, rows, rows - 16 * p, W + p * QD_PANEL_BYTES(K), J->W->scales + p * 16 * nblk, K, J->a, 0, 1, 1);
}

/* the tile for a token count known only at run time (the last, partial tile of tokens) */
static void qd_tile_nt(float *y, int64_t ldy, int64_t rows_left, const uint8_t *W, const uint16_t *S, int64_t K,
                       const struct q8_act *a, int64_t t0, int np, int nt) {
#define QD_CASE(n)                                                                                      \
    case n:                                                                                             \
        if (np == 2) QD_TILE(y, ldy, rows_left, W, S, K, a, t0, 2, n);                                  \
        else QD_TILE(y, ldy, rows_left, W, S, K, a, t0, 1, n);                                          \
        break;
    switch (nt) { QD_CASE(1) QD_CASE(2) QD_CASE(3) QD_CASE(4) QD_CASE(5) QD_CASE(6) }
#undef QD_CASE
}

static void qd_prefill_chunk(void *ctx, int64_t chunk, int thread) {
    (void)thread;
    const struct qd_job *J = ctx;
    int64_t K = J->W->cols, nblk = K / OLMO_Q8_BLOCK, rows = J->W->rows, p0, p1;
    qd_range(J, chunk, &p0, &p1);
    for (int64_t p = p0; p < p1; p += 2) {
        int np = p + 2 <= p1 ? 2 : 1;
        const uint8_t *Wp = (const uint8_t *)J->W->data + p * QD_PANEL_BYTES(K);
        const uint16_t *Sp = J->W->scales + p * 16 * nblk;
        int64_t t = 0;
        for (; t + Q8_NT <= J->T; t += Q8_NT) {
            float *y = J->y + t * rows + 16 * p;
            if (np == 2) QD_TILE(y, rows, rows - 16 * p, Wp, Sp, K, J->a, t, 2, Q8_NT);
            else QD_TILE(y, rows, rows - 16 * p, Wp, Sp, K, J->a, t, 1, Q8_NT);
        }
        if (t < J->T) qd_tile_nt(J->y + t * rows + 16 * p, rows, rows - 16 * p, Wp, Sp, K, J->a, t, np, J->T - (int)t);
    }
}

static void qd_run(float *y, const struct q8_act *a, const struct olmo_linear *W, int T, int64_t min_bytes) {
    int64_t npanel = (W->rows + 15) / 16, nt = olmo_pool_threads();
    struct qd_job J = {.W = W, .y = y, .a = a, .T = T, .npanel = npanel};
    if (T == 1) {
        int64_t cp = npanel / (nt * 8), minp = min_bytes / QD_PANEL_BYTES(W->cols) + 1;
        J.chunk_panels = cp < minp ? minp : cp;
        olmo_pool_for((npanel + J.chunk_panels - 1) / J.chunk_panels, qd_decode_chunk, &J);
    } else {
        int64_t cp = npanel / (nt * 8);
        cp = cp < 2 ? 2 : cp > 8 ? 8 : cp;
        J.chunk_panels = (cp + 1) / 2 * 2;
        olmo_pool_for((npanel + J.chunk_panels - 1) / J.chunk_panels, qd_prefill_chunk, &J);
    }
}

#endif
