/* train_config.h — an OLMo training YAML (the official configs, the tiny ones, or a preset in configs/) mapped to
 * what olmo.c trains: the model architecture (struct olmo_config, shared with inference) and struct
 * train_config (optimizer, schedule, loss, duration, batch, data, checkpoints).
 *
 * Key names and defaults are OLMo's (olmo/config.py: ModelConfig, OptimizerConfig, SchedulerConfig, DataConfig,
 * TrainConfig), so a config the user already has loads as it is. Every key falls in one of three groups
 * (docs/training-config.md lists them):
 *   honoured  read into the structs below;
 *   ignored   only concerns GPUs or services (fsdp, wandb, compile, num_workers, ...): accepted, listed once in
 *             one log line (train_config.ignored);
 *   refused   a value olmo.c cannot honour (alibi: true, dropout > 0, biases, parallel blocks, ...) or an
 *             unknown key: an error naming the key and its line.
 *
 * Loading order is OLMo's: file, then overrides (`--a.b=v`), then interpolation, then typing. */
#ifndef OLMO_TRAIN_TRAIN_CONFIG_H
#define OLMO_TRAIN_TRAIN_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "model/config.h"
#include "eval/eval_train.h"
#include "train/train_model.h"

struct ycfg;

/* init_fn uses train_model.h's enum train_init (TRAIN_INIT_NORMAL, TRAIN_INIT_MITCHELL). */
enum train_sched {
    TRAIN_SCHED_COSINE = 1, TRAIN_SCHED_LINEAR = 2, TRAIN_SCHED_CONSTANT = 3, TRAIN_SCHED_CONSTANT_WARMUP = 4,
    TRAIN_SCHED_INV_SQRT = 5, TRAIN_SCHED_MAX = 6, TRAIN_SCHED_COS_LINEAR_ENVELOPE = 7, TRAIN_SCHED_WSD = 8
};
enum train_units { TRAIN_UNITS_STEPS = 1, TRAIN_UNITS_TOKENS = 2 };
enum train_dur_unit { TRAIN_DUR_STEPS = 1, TRAIN_DUR_TOKENS = 2, TRAIN_DUR_EPOCHS = 3 };

struct train_config {
    char *config_path;         /* the YAML file as given */
    char *run_name;            /* run_name, or NULL */

    /* ---- model ---- */
    struct olmo_config model;  /* model.vocab_size = embedding_size (padded: logits width) */
    int tokenizer_vocab_size;  /* model.vocab_size in OLMo's YAML: ids at or above it are never targets */
    enum train_init init_fn;
    double init_std;           /* model.init_std (normal init; default 0.02) */
    double init_cutoff_factor; /* truncation at ±factor·std; 0 = OLMo's None (mitchell uses 3 then) */

    /* ---- optimizer (AdamW only) ---- */
    double lr;                 /* optimizer.learning_rate (peak) */
    double beta1, beta2;       /* optimizer.betas (default 0.9, 0.95) */
    double eps;                /* optimizer.eps (default 1e-5, OLMo-2 configs set 1e-8) */
    double weight_decay;       /* optimizer.weight_decay (default 0.01) */
    int decay_norm_and_bias;   /* optimizer.decay_norm_and_bias (default false) */
    int decay_embeddings;      /* optimizer.decay_embeddings (default false) */

    /* ---- scheduler ---- */
    enum train_sched sched;    /* scheduler.name */
    enum train_units units;    /* scheduler.units: x counts steps or tokens */
    double t_warmup;           /* in `units` (default 100) */
    double t_max;              /* in `units`; 0 = unset: the run's max steps / max tokens */
    double alpha_f;            /* final lr = alpha_f · lr (default 0.1) */
    double warmup_min_lr;      /* warmup start; OLMo's default when unset is 0.1 · lr (already applied here) */
    int warmup_min_lr_set;     /* 1 if the config gave warmup_min_lr */
    double decay;              /* wsd: decay length in `units` (0 = decay_fraction · t_max) */
    double decay_fraction;     /* wsd: default 0.1 */
    double decay_min_lr;       /* wsd: lr at t_max (default 0) */
    double grad_clip_warmup_steps;   /* scheduler.grad_clip_warmup_steps (in `units`); 0 = none */
    double grad_clip_warmup_factor;  /* max_grad_norm × this while x <= grad_clip_warmup_steps; 0 = none */

    /* ---- loss ---- */
    int softmax_auxiliary_loss;        /* z-loss on/off */
    double auxiliary_loss_multiplier;  /* z-loss coefficient (OLMo's default 1e-4) */

    /* ---- duration and batch ---- */
    enum train_dur_unit duration_unit; /* max_duration: 1000 (steps), "2e12T" (tokens), "1ep" (epochs) */
    int64_t max_duration;              /* in duration_unit */
    int64_t stop_at;                   /* stop_at: last step to run; 0 = none */
    int64_t global_train_batch_size;   /* instances per optimizer step, all ranks together */
    int64_t device_train_microbatch_size;  /* instances per forward/backward */
    double max_grad_norm;              /* 0 = no clipping (OLMo's None) */
    int64_t seed;                      /* top-level seed (model init) */
    int64_t data_seed;                 /* data.seed, or seed */
    int64_t epoch;                     /* epoch: first epoch of this run (default 0) */

    /* ---- data ---- */
    char **data_paths;         /* data.paths (globs expanded, sorted per pattern), or data.datasets flattened
                                  with labels sorted, as OLMo does; duplicates kept (they upsample) */
    size_t n_data_paths;
    int memmap_dtype_bytes;    /* data.memmap_dtype: uint8 1, uint16 2 (default), uint32 4, uint64 8 */
    int drop_last;             /* data.drop_last (default false) */
    int instance_filter;       /* data.instance_filter present: OLMo-2 repetition filter (spec §3f) */
    int rep_min_period, rep_max_period, rep_max_count;   /* its settings (1, 13, 32 by default) */

    /* ---- tokenizer ---- */
    char *tokenizer_identifier;   /* tokenizer.identifier, e.g. tokenizers/allenai_dolma2.json */

    /* ---- checkpoints and evaluation ---- */
    char *save_folder;         /* default "./" */
    int64_t save_interval;     /* steps between checkpoints; 0 = never (null) */
    int64_t save_interval_unsharded;  /* OLMo's second cadence; 0 = unset. The trainer may merge the two. */
    int save_overwrite;
    char *load_path;           /* NULL = none */
    int restore_dataloader;    /* default true */
    int64_t fast_forward_batches;  /* 0 = none */
    int64_t eval_interval;     /* default 1000 */
    struct eval_train_spec evaluators;   /* OLMo's `evaluators` (eval/eval_train.h); n = 0: none */
    char *precision;           /* "amp_bf16", "fp32", ... or NULL */

    char *ignored;             /* "fsdp, wandb, compile, …": keys accepted but without effect here ("" if none) */
};

/* Loads PATH with OLMo-style overrides ("--model.d_model=256", "--data.paths=[a.npy,b.npy]"; each may start
 * with "--" or not). Logs the ignored keys once (olmo_log_info) unless quiet. 0 or -1 after olmo_err. */
int train_config_load(struct train_config *tc, const char *path, int n_overrides, char *const *overrides,
                      int quiet);
/* The same without logging, also giving the resolved tree as YAML text in *yaml (caller frees; the trainer stores
 * and hashes it in checkpoints). */
int train_config_load_yaml(struct train_config *tc, const char *path, int n_overrides, char *const *overrides,
                           char **yaml);
/* The same from an already loaded and resolved tree (tests; `olmo inspect`). */
int train_config_from_tree(struct train_config *tc, const struct ycfg *c);
void train_config_free(struct train_config *tc);

/* Tokens per optimizer step: global_train_batch_size · max_sequence_length. */
int64_t train_config_tokens_per_step(const struct train_config *tc);
/* Steps the run lasts, from max_duration (and stop_at), as OLMo's Trainer.max_steps computes it: steps as
 * given; "…T" = ceil(tokens / tokens_per_step); "…ep" = epochs · steps_per_epoch (from the data order, see
 * data_order.h: data_order_steps_per_epoch). */
int64_t train_config_max_steps(const struct train_config *tc, int64_t steps_per_epoch);
/* The schedule's horizon in its units: t_max if set, else max steps (units steps) or max steps · tokens per
 * step (units tokens). */
double train_config_t_max(const struct train_config *tc, int64_t steps_per_epoch);

#endif
