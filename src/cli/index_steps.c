/* index_steps.c — search hit → training steps (see index_steps.h). */
#include "cli/index_steps.h"

#include "base/error.h"
#include "base/mem.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

int index_steps_open(struct index_steps *s, const char *config, const struct olmo_index *ix) {
    memset(s, 0, sizeof *s);
    s->inv_epoch = -1;
    if (train_config_load(&s->tc, config, 0, NULL, 1) < 0) return -1;
    if (train_data_open(&s->d, &s->tc, 1) < 0) { train_config_free(&s->tc); return -1; }
    s->open = 1;
    s->real = calloc(s->d.n_files, sizeof *s->real);
    if (!s->real) return olmo_err("out of memory");
    for (size_t i = 0; i < s->d.n_files; i++) {
        char buf[PATH_MAX];
        s->real[i] = olmo_strdup(realpath(s->d.files[i].path, buf) ? buf : s->d.files[i].path);
    }
    s->spe = train_data_steps_per_epoch(&s->d);
    s->max_steps = train_config_max_steps(&s->tc, s->spe);
    (void)ix;
    return 0;
}

void index_steps_close(struct index_steps *s) {
    if (!s->open) return;
    for (size_t i = 0; s->real && i < s->d.n_files; i++) free(s->real[i]);
    free(s->real); free(s->inv);
    train_data_close(&s->d);
    train_config_free(&s->tc);
    memset(s, 0, sizeof *s);
}

int index_steps_add(struct index_steps *s, const struct olmo_index *ix, const struct idx_hit *hit, json_t *h) {
    const char *path = ix->shards[hit->shard].paths[hit->file];
    json_t *steps = json_array();
    json_object_set_new(h, "steps", steps);
    size_t f = 0;
    while (f < s->d.n_files && strcmp(s->real[f], path)) f++;
    if (f == s->d.n_files) return 0;   /* not a file of this run */
    int64_t T = s->d.seq_len, B = s->d.batch;
    uint64_t local = hit->file_offset / (uint64_t)T;
    if (local >= s->d.files[f].n_instances) return 0;   /* the untrained tail of the file */
    uint64_t inst = s->d.files[f].first + local;
    json_object_set_new(h, "instance", json_integer((json_int_t)inst));
    int64_t last = s->max_steps > 0 ? s->max_steps : s->spe;
    for (int64_t e = s->d.first_epoch; s->spe > 0 && (e - s->d.first_epoch) * s->spe < last; e++) {
        if (s->inv_epoch != e) {
            if (data_order_set_epoch(&s->d.order, e) < 0) return -1;
            if (!s->inv && !(s->inv = olmo_malloc(s->d.n_instances * sizeof *s->inv))) return -1;
            memset(s->inv, 0, s->d.n_instances * sizeof *s->inv);
            for (uint64_t k = s->d.order.total; k-- > 0;) s->inv[s->d.order.perm[k]] = k + 1;   /* first place */
            s->inv_epoch = e;
        }
        if (!s->inv[inst]) continue;
        int64_t step = (e - s->d.first_epoch) * s->spe + (int64_t)((s->inv[inst] - 1) / (uint64_t)B) + 1;
        if (step <= last && (int64_t)((s->inv[inst] - 1) / (uint64_t)B) < s->spe)
            json_array_append_new(steps, json_integer(step));
    }
    return 0;
}
