/* index_steps.h — the link from a search hit to training: which step(s) of a training run read the instance
 * holding it. The instance is the hit's file offset / max_sequence_length in that file (train/data.h); its
 * place in each epoch's order (train/data_order.h, OLMo's PCG64 shuffle) gives the step, as `olmo inspect batch`
 * would show it. Hits in a file the config does not list, or in a file's untrained tail, have no step. */
#ifndef OLMO_CLI_INDEX_STEPS_H
#define OLMO_CLI_INDEX_STEPS_H

#include <jansson.h>
#include <stdint.h>

#include "index/idx.h"
#include "train/data.h"
#include "train/train_config.h"

struct index_steps {
    int open;
    struct train_config tc;
    struct train_data d;
    char **real;             /* (d.n_files,) realpath of each config file */
    int64_t spe, max_steps;
    int64_t inv_epoch;       /* epoch whose inverse order is in inv (-1 none) */
    uint64_t *inv;           /* (n_instances,) position + 1 in that epoch's order (0 = not in it) */
};

int index_steps_open(struct index_steps *s, const char *config, const struct olmo_index *ix);
/* Adds "instance" and "steps" (1-based global steps within the run's max_duration) to hit object h. */
int index_steps_add(struct index_steps *s, const struct olmo_index *ix, const struct idx_hit *hit, json_t *h);
void index_steps_close(struct index_steps *s);

#endif
