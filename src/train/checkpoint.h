/* checkpoint.h — crash-safe checkpoint folders and the trainer state inside them.
 *
 * A checkpoint is save_folder/step-N/ in Hugging Face layout (config.json, model.safetensors, tokenizer.json) plus
 * optimizer moments (optim.safetensors) and trainer_state.json. The folder protocol makes `kill -9` at any moment
 * harmless:
 *   1. ckpt_begin:  create save_folder/step-N.tmp/ (a stale one from a killed run is removed first);
 *   2. the caller writes its files into w.dir;
 *   3. ckpt_commit: fsync every file and the folder, rename step-N.tmp -> step-N, fsync save_folder, then replace
 *      save_folder/latest (a one-line file "step-N") atomically.
 * A reader never sees a partial step-N/: it either does not exist or is complete. If the process dies between the
 * rename and the update of `latest`, ckpt_latest still finds the newest complete folder (it checks `latest` first,
 * then scans step-* folders that hold trainer_state.json, the file written last). */
#ifndef OLMO_TRAIN_CHECKPOINT_H
#define OLMO_TRAIN_CHECKPOINT_H

#include <stdint.h>

#define CKPT_STATE_FILE "trainer_state.json"
#define CKPT_MODEL_FILE "model.safetensors"
#define CKPT_OPTIM_FILE "optim.safetensors"
#define CKPT_CONFIG_FILE "config.json"
#define CKPT_TOKENIZER_FILE "tokenizer.json"
#define CKPT_LATEST_FILE "latest"
#define CKPT_RNG_WORDS 4

/* Everything besides tensors that an exact resume needs (spec §3e, §4). */
struct train_state {
    int64_t step;                     /* optimizer steps completed */
    int64_t tokens_seen;              /* global tokens consumed so far */
    int64_t epoch;                    /* 0-based epoch of the data order */
    int64_t examples_seen_this_epoch; /* global instances consumed in this epoch: the data position */
    int64_t global_batch_size;        /* instances per step when saved (a changed batch size is refused) */
    int64_t seq_len;
    int32_t world_size;               /* processes when saved (resuming with another count is allowed, not exact) */
    uint64_t seed;                    /* model-init seed */
    uint64_t data_seed;               /* data-order seed (epoch e uses data_seed + e) */
    uint64_t rng[CKPT_RNG_WORDS];     /* trainer RNG state (training itself draws nothing: no dropout) */
    char config_hash[17];             /* 16 hex digits of the resolved config (see ckpt_hash_text) */
    double train_seconds;             /* wall time spent training, summed over runs */
};

struct ckpt_writer {
    char *save_folder;
    char *dir;        /* save_folder/step-N.tmp: write the files here */
    char *final_dir;  /* save_folder/step-N */
    int64_t step;
};

int ckpt_begin(struct ckpt_writer *w, const char *save_folder, int64_t step);
/* Makes the checkpoint durable and visible and points `latest` at it; frees w either way. */
int ckpt_commit(struct ckpt_writer *w);
/* Removes the temp folder and frees w. */
void ckpt_abort(struct ckpt_writer *w);

/* Path of the newest complete checkpoint under save_folder (caller frees), or NULL with olmo_err when none. */
char *ckpt_latest(const char *save_folder);
/* 1 when dir looks like a complete checkpoint written by olmo train (trainer_state.json present). */
int ckpt_is_complete(const char *dir);

int ckpt_state_write(const char *path, const struct train_state *st);
int ckpt_state_read(const char *path, struct train_state *st);

/* FNV-1a 64 of a text, as 16 hex digits into out[17]: a cheap fingerprint of the resolved config. */
void ckpt_hash_text(const char *text, char out[17]);

/* Removes every step-N/ (and leftover step-N.tmp/.old) and `latest` from save_folder: a fresh run with
 * save_overwrite must not leave an older run's later steps for --resume to find. */
int ckpt_clear(const char *save_folder);

/* Removes a folder tree (only plain files and folders; used on our own temp folders). */
int ckpt_remove_tree(const char *dir);

#endif
