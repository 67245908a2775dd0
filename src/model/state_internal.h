/* state_internal.h — what forward.c needs from state.c beyond model.h: growing a state's scratch buffers. */
#ifndef OLMO_MODEL_STATE_INTERNAL_H
#define OLMO_MODEL_STATE_INTERNAL_H

#include "model/model.h"

#define MODEL_ATT_QB 8   /* queries per attention work unit (forward.c attention_block): score rows per thread */

/* Grows s's per-token buffers to T rows and its per-thread score rows to MODEL_ATT_QB rows of len keys.
 * 0, or -1 with olmo_err (out of memory). */
int model_state_scratch(struct olmo_state *s, const struct olmo_config *c, int T, int len);

/* 1 when layer l of c attends over a sliding window. */
static inline int model_layer_sliding(const struct olmo_config *c, int l) {
    return c->sliding_window > 0 && c->layer_sliding[l];
}

#endif
