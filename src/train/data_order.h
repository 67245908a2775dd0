/* data_order.h — OLMo's global data order: which instances make up the batch of each step, on each rank.
 *
 * For epoch e (0-based, as OLMo's old trainer counts), the order is a NumPy PCG64(data_seed + e) shuffle of
 * range(N) over the N instances of the dataset (pcg64.h). For world size W it is then cut to `total` entries
 * (spec §3c):
 *     drop_last: total = W·ceil((N − W)/W) when N % W != 0, else N      (the tail is dropped)
 *     otherwise: total = W·ceil(N/W), padded by repeating the order from its start
 * The global batch j of an epoch (0-based) is order[j·B : (j+1)·B] and rank r of W takes every W-th entry of the
 * stream from j·B on: order[j·B + k·W + r], k = 0 .. B/W − 1 (spec §3d). So the SET of instances in a global
 * batch never depends on W or on threads; W only changes `total` (the epoch's tail) and which rank gets which.
 * At the end of an epoch, a partial last batch is dropped when drop_last, else trained on (OLMo's DataLoader),
 * and the next epoch starts with seed + e + 1. */
#ifndef OLMO_TRAIN_DATA_ORDER_H
#define OLMO_TRAIN_DATA_ORDER_H

#include <stddef.h>
#include <stdint.h>

struct data_order {
    uint64_t n_instances;    /* N */
    uint64_t seed;           /* data seed; epoch e uses seed + e */
    int world_size;          /* W */
    int drop_last;
    uint64_t total;          /* entries per epoch after drop/pad for W */
    int64_t epoch;           /* epoch whose permutation is in perm (-1 = none yet) */
    uint32_t *perm;          /* (total,) instance indices of that epoch, padded for !drop_last */
};

/* Instances per epoch after the drop/pad rule (the `total` above). */
uint64_t data_order_total(uint64_t n_instances, int world_size, int drop_last);
/* Optimizer steps per epoch for global batch B: total/B when drop_last, else ceil(total/B). */
int64_t data_order_steps_per_epoch(uint64_t n_instances, int world_size, int drop_last, int64_t batch);

/* Fills out[0..n) with the shuffle of range(n) for one epoch: Generator(PCG64(seed)).shuffle(arange(n)). */
void data_order_permutation(uint32_t *out, uint64_t n, uint64_t seed);

/* N must be < 2^32 (OLMo stores the order as uint32). The permutation is built lazily per epoch. */
int data_order_init(struct data_order *o, uint64_t n_instances, uint64_t seed, int world_size, int drop_last);
void data_order_free(struct data_order *o);
/* Makes `perm` hold epoch e's order (no-op when it does already). */
int data_order_set_epoch(struct data_order *o, int64_t epoch);

/* Where 1-based global step `step` falls when the run starts at epoch `first_epoch` step 1 and never changes the
 * batch size: its epoch and the examples already seen in that epoch (OLMo's
 * global_train_examples_seen_this_epoch before the step). */
void data_order_locate_step(const struct data_order *o, int64_t batch, int64_t first_epoch, int64_t step,
                            int64_t *epoch, uint64_t *start);

/* Rank r's share of the batch that starts `start` examples into epoch `epoch`: writes up to batch/W instance
 * indices into out (in the order that rank processes them) and returns how many (fewer at the end of an epoch
 * without drop_last; 0 past its end). rank = -1 returns the whole global batch in global order
 * (order[start .. start+batch)). batch must be a multiple of W. Returns -1 after olmo_err on bad arguments. */
int64_t data_order_batch(struct data_order *o, int64_t epoch, uint64_t start, int64_t batch, int rank,
                         uint64_t *out);

#endif
