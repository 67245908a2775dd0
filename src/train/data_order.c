/* data_order.c — epoch permutations, drop/pad for the world size, and per-rank batch slices (see data_order.h). */
#include "train/data_order.h"
#include "train/pcg64.h"
#include "base/error.h"
#include "base/mem.h"

#include <stdlib.h>
#include <string.h>

uint64_t data_order_total(uint64_t n, int world_size, int drop_last) {
    uint64_t w = (uint64_t)(world_size > 0 ? world_size : 1);
    if (drop_last && n % w != 0) {
        /* OLMo: ceil((N - W) / W) samples per rank; N < W leaves nothing. */
        if (n < w) return 0;
        return w * ((n - w + w - 1) / w);
    }
    return w * ((n + w - 1) / w);
}

int64_t data_order_steps_per_epoch(uint64_t n, int world_size, int drop_last, int64_t batch) {
    if (batch <= 0) return 0;
    uint64_t total = data_order_total(n, world_size, drop_last);
    /* The per-rank DataLoader drops (drop_last) or keeps its partial last batch; per-rank streams are total/W
     * long and batches B/W, so the count is the same as total/B on the global stream. */
    return drop_last ? (int64_t)(total / (uint64_t)batch) : (int64_t)((total + (uint64_t)batch - 1) / (uint64_t)batch);
}

void data_order_permutation(uint32_t *out, uint64_t n, uint64_t seed) {
    for (uint64_t i = 0; i < n; i++) out[i] = (uint32_t)i;
    struct pcg64 g;
    pcg64_seed(&g, seed);
    pcg64_shuffle_u32(&g, out, (size_t)n);
}

int data_order_init(struct data_order *o, uint64_t n, uint64_t seed, int world_size, int drop_last) {
    memset(o, 0, sizeof *o);
    o->epoch = -1;
    if (world_size < 1) return olmo_err("data order: world size must be >= 1, found %d", world_size);
    if (n >= (1ULL << 32))
        return olmo_err("data order: %llu instances; OLMo's order is a uint32 array, so N must be < 2^32",
                        (unsigned long long)n);
    o->n_instances = n;
    o->seed = seed;
    o->world_size = world_size;
    o->drop_last = drop_last;
    o->total = data_order_total(n, world_size, drop_last);
    return 0;
}

void data_order_free(struct data_order *o) {
    free(o->perm);
    o->perm = NULL;
    o->epoch = -1;
}

int data_order_set_epoch(struct data_order *o, int64_t epoch) {
    if (epoch < 0) return olmo_err("data order: epoch must be >= 0, found %lld", (long long)epoch);
    if (o->perm && o->epoch == epoch) return 0;
    if (!o->perm) {
        /* keep at least one slot so an empty dataset still owns a buffer */
        size_t len = (size_t)(o->total > o->n_instances ? o->total : o->n_instances);
        o->perm = olmo_malloc((len ? len : 1) * sizeof *o->perm);
        if (!o->perm) return -1;
    }
    data_order_permutation(o->perm, o->n_instances, o->seed + (uint64_t)epoch);
    /* Padding (no drop_last) repeats the order from its start, tiling when the pad exceeds N. */
    for (uint64_t k = o->n_instances; k < o->total; k++) o->perm[k] = o->perm[k % o->n_instances];
    o->epoch = epoch;
    return 0;
}

void data_order_locate_step(const struct data_order *o, int64_t batch, int64_t first_epoch, int64_t step,
                            int64_t *epoch, uint64_t *start) {
    int64_t spe = data_order_steps_per_epoch(o->n_instances, o->world_size, o->drop_last, batch);
    int64_t s0 = step > 0 ? step - 1 : 0;
    if (spe <= 0) {
        *epoch = first_epoch;
        *start = 0;
        return;
    }
    *epoch = first_epoch + s0 / spe;
    *start = (uint64_t)(s0 % spe) * (uint64_t)batch;
}

int64_t data_order_batch(struct data_order *o, int64_t epoch, uint64_t start, int64_t batch, int rank,
                         uint64_t *out) {
    int64_t w = o->world_size;
    if (batch <= 0 || batch % w != 0)
        return olmo_err("data order: global batch %lld must be a positive multiple of the world size %lld",
                        (long long)batch, (long long)w);
    if (rank < -1 || rank >= w) return olmo_err("data order: rank %d outside 0..%lld", rank, (long long)w - 1);
    if (start % (uint64_t)w != 0)
        return olmo_err("data order: start %llu must be a multiple of the world size %lld",
                        (unsigned long long)start, (long long)w);
    if (data_order_set_epoch(o, epoch) < 0) return -1;
    if (start >= o->total) return 0;
    uint64_t avail = o->total - start;
    if (rank < 0) {
        uint64_t n = avail < (uint64_t)batch ? avail : (uint64_t)batch;
        if (o->drop_last && n < (uint64_t)batch) return 0;   /* the DataLoader drops the partial batch */
        for (uint64_t k = 0; k < n; k++) out[k] = o->perm[start + k];
        return (int64_t)n;
    }
    /* Rank r's stream is perm[start + r], perm[start + r + W], ...; its batch is the next B/W of them. */
    uint64_t per = (uint64_t)(batch / w);
    uint64_t stream = avail / (uint64_t)w;   /* total and start are multiples of W */
    uint64_t n = stream < per ? stream : per;
    if (o->drop_last && n < per) return 0;
    for (uint64_t k = 0; k < n; k++) out[k] = o->perm[start + k * (uint64_t)w + (uint64_t)rank];
    return (int64_t)n;
}
