/* generate.h — one generation session: model + KV cache + sampler + the tokens already in the cache.
 *
 * gen_prefill runs new prompt tokens, reusing the longest prefix that is already in the cache (so a chat turn
 * only computes the tokens added since the last reply); gen_step samples one token and feeds it back. Timing
 * counters feed the tokens/s report of `olmo generate` and `olmo chat`. */
#ifndef OLMO_MODEL_GENERATE_H
#define OLMO_MODEL_GENERATE_H

#include "model/model.h"
#include "model/sampling.h"

#include <stdint.h>

#define GEN_MAX_STOP 16

struct gen_session {
    const struct olmo_model *model;
    struct olmo_state state;
    struct olmo_sampler sampler;
    int32_t *tokens;            /* tokens whose keys/values are in the cache, in order */
    int n_tokens;
    float *logits;              /* [vocab]: logits after the last token fed */
    int have_logits;
    int32_t stop[GEN_MAX_STOP];
    int n_stop;
    double prefill_s, decode_s; /* time spent */
    int64_t prefill_tokens, decode_tokens;
};

int gen_init(struct gen_session *g, const struct olmo_model *m, int max_seq, float temperature, int top_k, float top_p,
             uint64_t seed);
/* The same with state options (the KV cache's element type; so may be NULL: fp32). */
int gen_init_opts(struct gen_session *g, const struct olmo_model *m, int max_seq, const struct model_state_opts *so,
                  float temperature, int top_k, float top_p, uint64_t seed);
void gen_free(struct gen_session *g);
void gen_add_stop(struct gen_session *g, int32_t id);   /* ignores id < 0 and duplicates */
int gen_is_stop(const struct gen_session *g, int32_t id);
/* Makes the cache hold exactly `tokens` (keeps the common prefix, computes the rest in one forward call). */
int gen_prefill(struct gen_session *g, const int32_t *tokens, int n);
/* Samples the next token into *id; unless it is a stop token, feeds it to the model. 0, or -1 (cache full ...). */
int gen_step(struct gen_session *g, int32_t *id);

#endif
