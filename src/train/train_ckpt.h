/* train_ckpt.h — the tensors and side files of a training checkpoint, on top of checkpoint.h's folder protocol.
 *
 * Saving step N writes, into save_folder/step-N.tmp/ and then commits (checkpoint.h):
 *   config.json          HF config for the architecture (model_type olmo / olmo2 / llama), torch_dtype float32
 *   model.safetensors    every parameter in fp32 under its Hugging Face name (lm_head absent when tied)
 *   tokenizer.json       a copy of the config's tokenizer when it is a local file
 *   optim.safetensors    AdamW moments "<name>.exp_avg" / "<name>.exp_avg_sq", fp32
 *   train_config.yaml    the resolved training config
 *   trainer_state.json   step, tokens, data position, seeds, config hash — written last
 * Parameters are fp32 so that a resumed run continues bit for bit; `olmo generate` and transformers load them
 * as they are (a bf16 copy for distribution is one `olmo convert` away). */
#ifndef OLMO_TRAIN_TRAIN_CKPT_H
#define OLMO_TRAIN_TRAIN_CKPT_H

#include "train/checkpoint.h"
#include "train/train_model.h"

struct train_ckpt_extra {
    const char *tokenizer_file;   /* copied to tokenizer.json when not NULL */
    const char *config_yaml;      /* written to train_config.yaml when not NULL */
};

/* Writes a complete checkpoint for st->step under save_folder (atomic: see checkpoint.h). */
int train_ckpt_save(const struct train_model *m, const struct train_state *st, const char *save_folder,
                    const struct train_ckpt_extra *extra);

/* Loads parameters from DIR's safetensors (F32, BF16 or F16 → fp32). Every tensor of m must be present with
 * its shape and nothing else may be there (a different architecture is an error naming the tensor).
 * with_optim: also the moments from DIR/optim.safetensors. */
int train_ckpt_load(struct train_model *m, const char *dir, int with_optim);

/* Copies a file (tokenizer.json) to dst atomically. */
int train_ckpt_copy_file(const char *src, const char *dst);

#endif
