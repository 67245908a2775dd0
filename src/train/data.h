/* data.h — the training data: token files memory-mapped, cut into fixed-length instances as OLMo's
 * MemMapDataset does, and the (inputs, targets) arrays of any step's batch.
 *
 * Token files are headerless little-endian arrays of token ids (uint8/16/32/64 as data.memmap_dtype says; EOS
 * between documents), the format OLMo and Dolma write under a `.npy` name; a real NumPy `.npy` (magic
 * "\x93NUMPY", 1-D, little-endian unsigned) is also read, its header skipped. File i holds
 * n_i = floor(tokens_i / T) instances of T = max_sequence_length tokens; the trailing < T tokens of each file are
 * never used; instances never span files. The files are concatenated in the listed order into one global
 * instance index space (spec §3b). The order of instances across steps is data_order.h's.
 *
 * Labels follow OLMo exactly: a batch row is one instance of T tokens; inputs are the T tokens, the target at
 * position t is token t+1 and the last position has no target (-100). With data.instance_filter (OLMo-2), an
 * instance with a repetition of period 1..13 repeated >= 32 times has ALL its targets -100 (spec §3f): zero loss,
 * still consumed from the order. */
#ifndef OLMO_TRAIN_DATA_H
#define OLMO_TRAIN_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "base/file.h"
#include "train/data_order.h"

struct train_config;

#define TRAIN_IGNORE_INDEX (-100)   /* target of a position that carries no loss */

struct data_file {
    char *path;
    struct olmo_mmap map;
    const uint8_t *tokens;   /* first token (after a .npy header if any) */
    uint64_t n_tokens;
    uint64_t first;          /* global index of its first instance */
    uint64_t n_instances;
};

struct train_data {
    struct data_file *files;
    size_t n_files;
    int dtype_bytes;         /* 1, 2, 4 or 8 */
    int seq_len;             /* T = instance length */
    uint64_t n_instances;    /* N over all files */
    int64_t vocab_size;      /* padded vocabulary (embedding rows): tokens at or above it are errors */
    int instance_filter;     /* OLMo-2 repetition filter on */
    int rep_min_period, rep_max_period, rep_max_count;
    int64_t batch;           /* global_train_batch_size */
    int64_t first_epoch;     /* train_config.epoch */
    struct data_order order;
};

/* Opens the token files named by the config (data.paths, memmap_dtype, max_sequence_length, instance_filter,
 * data seed, drop_last, global batch) for `world_size` ranks. Errors name the file: missing, size not a whole
 * number of tokens, fewer tokens than one instance in all files together, N >= 2^32. */
int train_data_open(struct train_data *d, const struct train_config *tc, int world_size);
/* The same without a config (tests, tools). */
int train_data_open_files(struct train_data *d, char *const *paths, size_t n_paths, int dtype_bytes, int seq_len,
                          uint64_t data_seed, int world_size, int drop_last, int64_t global_batch);
void train_data_close(struct train_data *d);

/* Which file instance `index` lives in and its first token's offset in that file (in tokens). */
int train_data_locate(const struct train_data *d, uint64_t index, size_t *file, uint64_t *start);
/* Copies instance `index`'s T tokens into out. */
int train_data_instance(const struct train_data *d, uint64_t index, uint32_t *out);
/* The OLMo-2 repetition filter on T tokens: 1 if the instance is kept, 0 if masked, -1 out of memory. */
int train_data_instance_ok(const int32_t *tokens, int n, int min_period, int max_period, int max_count);

/* Steps in one epoch for this data and global batch (see data_order_steps_per_epoch). */
int64_t train_data_steps_per_epoch(const struct train_data *d);

/* Rank r's micro-batch inputs for 1-based global step `step` of a run that starts at epoch first_epoch, step 1:
 * instance indices (out_index, up to B/W), inputs (n, T) token ids and targets (n, T) (-100 where no loss), in the
 * order rank r processes them. Returns n (the rank's batch size; smaller only at an epoch's end without
 * drop_last) or -1. Any output pointer may be NULL. rank = -1: the whole global batch. */
int64_t train_data_step_batch(struct train_data *d, int64_t step, int rank, uint64_t *out_index,
                              int32_t *inputs, int32_t *targets);
/* The same for an explicit position (resume: epoch and examples seen this epoch from the trainer state). */
int64_t train_data_batch_at(struct train_data *d, int64_t epoch, uint64_t start, int rank, uint64_t *out_index,
                            int32_t *inputs, int32_t *targets);
/* inputs/targets for a list of instance indices (targets may be NULL). */
int train_data_fill(const struct train_data *d, const uint64_t *index, int64_t n, int32_t *inputs,
                    int32_t *targets);

#endif
