/* trainer_plan.c — YAML config + overrides -> struct trainer_plan, and the token files opened (see trainer_plan.h). */
#include "train/trainer_plan.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"
#include "train/checkpoint.h"
#include "train/train_config.h"

#include <stdlib.h>
#include <string.h>

/* A tokenizer identifier is copied into checkpoints only when it names a local file: as written (relative to
 * the working directory, as OLMo reads it), or relative to the config's folder. */
static char *local_tokenizer(const char *ident, const char *config_path) {
    if (!ident || !*ident) return NULL;
    if (olmo_file_exists(ident)) return olmo_strdup(ident);
    if (ident[0] == '/') return NULL;
    const char *slash = strrchr(config_path, '/');
    if (!slash) return NULL;
    char *dir = olmo_strndup(config_path, (size_t)(slash - config_path));
    char *p = dir ? olmo_path_join(dir, ident) : NULL;
    free(dir);
    if (p && olmo_file_exists(p)) return p;
    free(p);
    return NULL;
}

int trainer_plan_load(struct trainer_plan *p, const char *config_path, int n_overrides, char *const *overrides,
                      int world_size, int quiet) {
    memset(p, 0, sizeof *p);
    struct train_config tc;
    if (train_config_load_yaml(&tc, config_path, n_overrides, overrides, &p->config_yaml) != 0) return -1;
    int rc = 0;
    ckpt_hash_text(p->config_yaml, p->config_hash);

    p->model = tc.model;
    p->init_fn = tc.init_fn;
    p->init_std = tc.init_std;
    p->init_cutoff = tc.init_cutoff_factor;
    p->lr = tc.lr;
    p->beta1 = tc.beta1;
    p->beta2 = tc.beta2;
    p->eps = tc.eps;
    p->weight_decay = tc.weight_decay;
    p->decay_norm_and_bias = tc.decay_norm_and_bias;
    p->decay_embeddings = tc.decay_embeddings;
    switch (tc.sched) {
    case TRAIN_SCHED_COSINE: p->sched = SCHED_COSINE_WITH_WARMUP; break;
    case TRAIN_SCHED_LINEAR: p->sched = SCHED_LINEAR_WITH_WARMUP; break;
    case TRAIN_SCHED_CONSTANT_WARMUP: p->sched = SCHED_CONSTANT_WITH_WARMUP; break;
    case TRAIN_SCHED_INV_SQRT: p->sched = SCHED_INV_SQRT_WITH_WARMUP; break;
    case TRAIN_SCHED_MAX: p->sched = SCHED_MAX; break;
    case TRAIN_SCHED_COS_LINEAR_ENVELOPE: p->sched = SCHED_COS_LINEAR_ENVELOPE; break;
    case TRAIN_SCHED_WSD: p->sched = SCHED_WSD; break;
    case TRAIN_SCHED_CONSTANT:
    default: p->sched = SCHED_CONSTANT; break;
    }
    p->decay = tc.decay;
    p->decay_fraction = tc.decay_fraction;
    p->decay_min_lr = tc.decay_min_lr;
    p->units_tokens = tc.units == TRAIN_UNITS_TOKENS;
    p->t_warmup = tc.t_warmup;
    p->alpha_f = tc.alpha_f;
    p->warmup_min_lr = tc.warmup_min_lr;
    p->clip_warmup_steps = tc.grad_clip_warmup_steps;
    p->clip_warmup_factor = tc.grad_clip_warmup_factor;
    p->max_grad_norm = tc.max_grad_norm;
    p->z_loss_mult = tc.softmax_auxiliary_loss ? tc.auxiliary_loss_multiplier : 0.0;
    p->global_batch = tc.global_train_batch_size;
    p->micro_batch = tc.device_train_microbatch_size;
    p->seq_len = tc.model.max_seq_len;
    p->tokens_per_step = train_config_tokens_per_step(&tc);
    p->seed = (uint64_t)tc.seed;
    p->data_seed = (uint64_t)tc.data_seed;
    p->first_epoch = tc.epoch;
    p->bf16 = tc.precision && strstr(tc.precision, "bf16") != NULL;
    p->save_folder = olmo_strdup(tc.save_folder ? tc.save_folder : ".");
    p->save_interval = tc.save_interval;
    if (tc.save_interval_unsharded > 0 && (p->save_interval <= 0 || tc.save_interval_unsharded < p->save_interval))
        p->save_interval = tc.save_interval_unsharded;   /* one kind of checkpoint here: the more frequent cadence */
    p->save_overwrite = tc.save_overwrite;
    p->load_path = tc.load_path ? olmo_strdup(tc.load_path) : NULL;
    p->restore_dataloader = tc.restore_dataloader;
    p->tokenizer_identifier = olmo_strdup(tc.tokenizer_identifier ? tc.tokenizer_identifier : "");
    p->tokenizer_file = local_tokenizer(tc.tokenizer_identifier, config_path);
    p->run_name = olmo_strdup(tc.run_name ? tc.run_name : "");
    p->ignored = olmo_strdup(tc.ignored ? tc.ignored : "");
    if (!p->save_folder || !p->tokenizer_identifier || !p->run_name || !p->ignored) { rc = -1; goto out; }
    p->evaluators = tc.evaluators;   /* taken over: train_config_free below must not free it */
    memset(&tc.evaluators, 0, sizeof tc.evaluators);
    p->eval_interval = tc.eval_interval;
    p->token_bytes = tc.memmap_dtype_bytes;
    for (int i = 0; i < p->evaluators.n; i++) {
        const struct eval_train_evaluator *e = &p->evaluators.ev[i];
        int text = e->downstream;
        for (int k = 0; k < e->n_paths; k++) text |= !strstr(e->paths[k], ".npy") && !strstr(e->paths[k], ".bin");
        if (text && !p->tokenizer_file) {
            rc = olmo_err("%s: evaluator '%s' needs text tokenized, but the checkpoints get no tokenizer.json "
                          "(tokenizer.identifier must be a local tokenizer.json file)", config_path, e->label);
            goto out;
        }
    }
    if (!quiet && *p->ignored) olmo_log_info("config keys without effect on a CPU run (ignored): %s", p->ignored);

    if (p->global_batch <= 0 || p->global_batch % world_size != 0) {
        rc = olmo_err("%s: global_train_batch_size %lld must be a positive multiple of the %d processes",
                      config_path, (long long)p->global_batch, world_size);
        goto out;
    }
    int64_t local = p->global_batch / world_size;
    if (p->micro_batch <= 0 || p->micro_batch > local) p->micro_batch = local;

    if (train_data_open(&p->data, &tc, world_size) != 0) { rc = -1; goto out; }
    p->data_open = 1;
    p->steps_per_epoch = train_data_steps_per_epoch(&p->data);
    p->max_steps = train_config_max_steps(&tc, p->steps_per_epoch);
    p->t_max = train_config_t_max(&tc, p->steps_per_epoch);
    if (p->max_steps <= 0) {
        rc = olmo_err("%s: max_duration gives %lld steps: nothing to train", config_path, (long long)p->max_steps);
        goto out;
    }
    if (p->data.vocab_size > 0 && p->data.vocab_size != p->model.vocab_size)
        olmo_log_debug("data vocabulary %lld, model embedding rows %d", (long long)p->data.vocab_size,
                       p->model.vocab_size);
out:
    train_config_free(&tc);
    if (rc != 0) trainer_plan_free(p);
    return rc;
}

void trainer_plan_free(struct trainer_plan *p) {
    if (p->data_open) train_data_close(&p->data);
    free(p->save_folder);
    free(p->load_path);
    free(p->tokenizer_file);
    free(p->tokenizer_identifier);
    free(p->run_name);
    free(p->config_yaml);
    free(p->ignored);
    eval_train_spec_free(&p->evaluators);
    memset(p, 0, sizeof *p);
}
