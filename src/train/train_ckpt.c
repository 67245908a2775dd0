/* train_ckpt.c — writing and reading the tensors of a training checkpoint (see train_ckpt.h). */
#include "train/train_ckpt.h"
#include "base/error.h"
#include "base/file.h"
#include "base/mem.h"
#include "formats/hf_config.h"
#include "formats/safetensors.h"
#include "model/kernels/linear.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int train_ckpt_copy_file(const char *src, const char *dst) {
    size_t n = 0;
    char *data = olmo_read_file(src, &n);
    if (!data) return -1;
    int rc = olmo_write_file_atomic(dst, data, n);
    free(data);
    return rc;
}

/* The tensors of n buffers (params, or the two moments) under HF names, buffer i's with suffix i appended. */
static int write_tensors(const struct train_model *m, int n, const float *const *bufs, const char *const *suffixes,
                         const char *path) {
    struct st_writer w;
    st_writer_init(&w);
    int rc = 0;
    char name[128];
    for (int i = 0; rc == 0 && i < m->n_tensors; i++) {
        const struct train_param *t = &m->tensors[i];
        for (int b = 0; rc == 0 && b < n; b++) {
            snprintf(name, sizeof name, "%s%s", t->name, suffixes[b]);
            rc = st_writer_add_f32(&w, name, ST_F32, t->ndim, t->shape, bufs[b] + t->offset);
        }
    }
    if (rc == 0) rc = st_writer_write(&w, path);
    st_writer_free(&w);
    return rc;
}

static int write_in(const char *dir, const char *file, int (*fn)(const char *path, const void *ctx),
                    const void *ctx) {
    char *p = olmo_path_join(dir, file);
    int rc = p ? fn(p, ctx) : -1;
    free(p);
    return rc;
}

struct save_ctx {
    const struct train_model *m;
    const struct train_state *st;
    const struct train_ckpt_extra *extra;
};
static int w_config(const char *p, const void *c) {
    return hf_config_write(&((const struct save_ctx *)c)->m->cfg, "float32", p);
}
static int w_model(const char *p, const void *c) {
    const struct train_model *m = ((const struct save_ctx *)c)->m;
    const float *bufs[] = {m->params};
    const char *suffixes[] = {""};
    return write_tensors(m, 1, bufs, suffixes, p);
}
static int w_optim(const char *p, const void *c) {
    const struct train_model *m = ((const struct save_ctx *)c)->m;
    const float *bufs[] = {m->m, m->v};
    const char *suffixes[] = {".exp_avg", ".exp_avg_sq"};
    return write_tensors(m, 2, bufs, suffixes, p);
}
static int w_tokenizer(const char *p, const void *c) {
    return train_ckpt_copy_file(((const struct save_ctx *)c)->extra->tokenizer_file, p);
}
static int w_yaml(const char *p, const void *c) {
    const char *y = ((const struct save_ctx *)c)->extra->config_yaml;
    return olmo_write_file_atomic(p, y, strlen(y));
}
static int w_state(const char *p, const void *c) { return ckpt_state_write(p, ((const struct save_ctx *)c)->st); }

int train_ckpt_save(const struct train_model *m, const struct train_state *st, const char *save_folder,
                    const struct train_ckpt_extra *extra) {
    struct train_ckpt_extra none = {0};
    struct save_ctx ctx = {m, st, extra ? extra : &none};
    struct ckpt_writer w;
    if (ckpt_begin(&w, save_folder, st->step) != 0) return -1;
    int rc = write_in(w.dir, CKPT_CONFIG_FILE, w_config, &ctx);
    if (rc == 0) rc = write_in(w.dir, CKPT_MODEL_FILE, w_model, &ctx);
    /* Test hook: OLMO_TEST_KILL_IN_SAVE=N dies (SIGKILL) in the middle of writing step N's checkpoint. */
    const char *kill_at = getenv("OLMO_TEST_KILL_IN_SAVE");
    if (rc == 0 && kill_at && atoll(kill_at) == st->step) raise(SIGKILL);
    if (rc == 0) rc = write_in(w.dir, CKPT_OPTIM_FILE, w_optim, &ctx);
    if (rc == 0 && ctx.extra->tokenizer_file) rc = write_in(w.dir, CKPT_TOKENIZER_FILE, w_tokenizer, &ctx);
    if (rc == 0 && ctx.extra->config_yaml) rc = write_in(w.dir, "train_config.yaml", w_yaml, &ctx);
    if (rc == 0) rc = write_in(w.dir, CKPT_STATE_FILE, w_state, &ctx);   /* last: marks the folder complete */
    if (rc != 0) {
        olmo_err_prefix("saving checkpoint step %" PRId64 " in %s: ", st->step, save_folder);
        ckpt_abort(&w);
        return -1;
    }
    return ckpt_commit(&w);
}

static int check_shape(const struct train_param *p, const struct st_tensor *t, const char *where) {
    int ok = t->ndim == p->ndim;
    for (int d = 0; ok && d < p->ndim; d++) ok = t->shape[d] == p->shape[d];
    if (ok) return 0;
    char got[96];
    if (p->ndim == 2)
        return olmo_err("%s: tensor %s has shape %s; the training config expects [%" PRId64 ", %" PRId64 "]",
                        where, t->name, st_shape_str(t, got, sizeof got), p->shape[0], p->shape[1]);
    return olmo_err("%s: tensor %s has shape %s; the training config expects [%" PRId64 "]", where, t->name,
                    st_shape_str(t, got, sizeof got), p->shape[0]);
}

/* Fills buf (params or a moment) from set s; names are "<HF name><suffix>". Every tensor of s must be used. */
static int read_tensors(struct train_model *m, float *buf, const struct st_set *s, const char *suffix,
                        int n_suffixes, const char *where) {
    char name[128];
    for (int i = 0; i < m->n_tensors; i++) {
        const struct train_param *p = &m->tensors[i];
        snprintf(name, sizeof name, "%s%s", p->name, suffix);
        const struct st_tensor *t = st_find(s, name);
        if (!t) {
            if (!strcmp(p->name, "lm_head.weight") && !suffix[0]) {
                /* Some checkpoints of untied models omit the head only when tied; say what is wrong. */
                return olmo_err("%s: no lm_head.weight, but the training config has untied embeddings "
                                "(weight_tying: false)", where);
            }
            return olmo_err("%s: tensor %s is missing (the training config's architecture needs it)", where, name);
        }
        if (check_shape(p, t, where) != 0 || st_tensor_to_f32(buf + p->offset, t, where) != 0) return -1;
    }
    if (s->n_tensors != (int64_t)m->n_tensors * n_suffixes) {
        for (int64_t j = 0; j < s->n_tensors; j++) {
            const char *nm = s->tensors[j].name;
            int known = m->cfg.tie_embeddings && !strncmp(nm, "lm_head.weight", 14);   /* HF may keep a tied copy */
            for (int i = 0; !known && i < m->n_tensors; i++) {
                size_t l = strlen(m->tensors[i].name);
                known = !strncmp(nm, m->tensors[i].name, l);
            }
            if (!known)
                return olmo_err("%s: tensor %s is not part of the training config's architecture "
                                "(check weight_tying, attention_layer_norm, layer_norm_type)", where, nm);
        }
    }
    return 0;
}

int train_ckpt_load(struct train_model *m, const char *dir, int with_optim) {
    struct st_set s;
    if (st_open_dir(&s, dir) != 0) return olmo_err_prefix("loading weights from %s: ", dir);
    char *where = olmo_path_join(dir, CKPT_MODEL_FILE);
    int rc = where ? read_tensors(m, m->params, &s, "", 1, where) : -1;
    st_close(&s);
    free(where);
    if (rc != 0 || !with_optim) return rc;
    char *op = olmo_path_join(dir, CKPT_OPTIM_FILE);
    if (!op) return -1;
    if (st_open(&s, op) != 0) {
        free(op);
        return olmo_err_prefix("loading optimizer moments: ");
    }
    rc = read_tensors(m, m->m, &s, ".exp_avg", 2, op);
    if (rc == 0) rc = read_tensors(m, m->v, &s, ".exp_avg_sq", 2, op);
    st_close(&s);
    free(op);
    return rc;
}
