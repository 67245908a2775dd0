/* trainer.h — `olmo train`: the training loop that ties the config, data order, model, optimizer, checkpoints,
 * metrics and MPI together.
 *
 * One optimizer step (spec §2, §3d):
 *   lr       = schedule(x) at the position after this batch (x = step, or tokens seen in token units)
 *   batch    = the global batch at the data position (epoch, examples seen this epoch); rank r takes its slice
 *   grads    = Σ over micro-batches (device_train_microbatch_size) of ∇[(Σ CE + c·Σ lse²) / (B_global·T)]
 *              (OLMo's old-trainer normalisation: every position of the global batch in the denominator, so
 *              accumulation over micro-batches and ranks is an exact sum)
 *   allreduce one MPI_Allreduce(SUM) over the one gradient buffer (and one over three loss sums)
 *   clip     global L2 norm (pre-clip norm logged), AdamW, schedule
 * Rank 0 alone logs and writes checkpoints. A non-finite loss or gradient norm stops the run with a message
 * before anything is written, so the last checkpoint stays the newest.
 *
 * Start: fresh (init from the seed), --resume (newest complete checkpoint in save_folder: parameters, moments,
 * step, data position; continues bit for bit with the same number of processes), --init-from DIR (weights of a
 * Hugging Face olmo / olmo2 / llama checkpoint, architecture from its config.json, optimizer fresh), or the
 * config's load_path. */
#ifndef OLMO_TRAIN_TRAINER_H
#define OLMO_TRAIN_TRAINER_H

#include <stdint.h>

struct trainer_opts {
    const char *config_path;
    int n_overrides;
    char *const *overrides;     /* "--model.d_model=64", ... (OLMo's dotted overrides) */
    int resume;                 /* continue from save_folder's newest complete checkpoint */
    const char *init_from;      /* Hugging Face checkpoint folder to start from, or NULL */
    int quiet;                  /* no progress line / info messages */
    double max_seconds;         /* > 0: stop (with a checkpoint) after the first step that ends past this much
                                   training time; the schedule is not rescaled (the demo's time cap) */
};

struct trainer_result {
    int64_t steps_done;         /* optimizer steps taken by this invocation */
    int64_t final_step;
    int stopped_by_time;        /* max_seconds ended the run before max_duration */
    int stopped_nonfinite;      /* ended by a NaN / Inf loss or gradient norm: every rank stopped at the same step */
    double final_loss;          /* loss of the last step */
    double tokens_per_s;        /* global tokens per second of step time (first step and checkpoints excluded) */
    double seconds;
    char last_checkpoint[512];  /* folder of the newest checkpoint written ("" if none) */
};

/* Runs the training described by opts. 0 when the run reached its end; -1 with olmo_err otherwise (bad config,
 * I/O, non-finite loss). res may be NULL. Call dist_init first to run data parallel under mpirun. */
int trainer_run(const struct trainer_opts *opts, struct trainer_result *res);

#endif
