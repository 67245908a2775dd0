/* trainer_plan.h — one training run, resolved: the YAML config (with overrides) turned into the plain numbers the
 * trainer loop uses, plus the opened token files.
 *
 * trainer_plan.c is the only trainer file that reads struct train_config; the loop (trainer.c) sees this struct. */
#ifndef OLMO_TRAIN_TRAINER_PLAN_H
#define OLMO_TRAIN_TRAINER_PLAN_H

#include <stdint.h>

#include "model/config.h"
#include "eval/eval_train.h"
#include "train/data.h"
#include "train/optim.h"

struct trainer_plan {
    struct olmo_config model;
    enum train_init init_fn;      /* OLMo-2 truncated normal(init_std), or OLMo-1 mitchell */
    double init_std, init_cutoff;
    /* AdamW and its weight-decay groups */
    double lr, beta1, beta2, eps, weight_decay;
    int decay_norm_and_bias, decay_embeddings;
    /* schedule: position x counts steps, or tokens when units_tokens */
    enum optim_sched_kind sched;
    int units_tokens;
    double t_warmup, t_max, alpha_f, warmup_min_lr;   /* warmup_min_lr < 0: unset (0.1·lr, OLMo-1's quirk) */
    double decay, decay_fraction, decay_min_lr;       /* wsd only */
    double clip_warmup_steps, clip_warmup_factor, max_grad_norm;
    double z_loss_mult;           /* 0 when softmax_auxiliary_loss is off */
    /* duration and batch */
    int64_t max_steps, steps_per_epoch;
    int64_t global_batch, micro_batch, seq_len, tokens_per_step;
    uint64_t seed, data_seed;
    int64_t first_epoch;
    int bf16;                     /* precision amp_bf16: matrix products on bf16 units, fp32 master weights */
    /* checkpoints */
    char *save_folder;
    int64_t save_interval;        /* 0: only the final checkpoint */
    int save_overwrite;
    char *load_path;              /* NULL, or a checkpoint to resume / start from */
    int restore_dataloader;
    char *tokenizer_file;         /* a local tokenizer.json to copy into checkpoints, or NULL */
    char *tokenizer_identifier;   /* as written in the config (for messages) */
    char *run_name;
    char *config_yaml;            /* the resolved config as YAML (stored beside each checkpoint) */
    char config_hash[17];
    char *ignored;                /* keys accepted without effect ("" if none) */
    /* evaluation during training (eval/eval_train.h): run every eval_interval steps and at the end */
    struct eval_train_spec evaluators;
    int64_t eval_interval;
    int token_bytes;              /* memmap_dtype width: the evaluators' token files use it too */
    /* data */
    struct train_data data;
    int data_open;
};

/* Loads CONFIG with overrides and opens its token files for world_size ranks. 0, or -1 with olmo_err. */
int trainer_plan_load(struct trainer_plan *p, const char *config_path, int n_overrides, char *const *overrides,
                      int world_size, int quiet);
void trainer_plan_free(struct trainer_plan *p);

#endif
