/* eval_model.h — a checkpoint directory opened for evaluation: model, tokenizer, one KV cache, the scorer. */
#ifndef OLMO_EVAL_EVAL_MODEL_H
#define OLMO_EVAL_EVAL_MODEL_H

#include "eval/eval_score.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

struct eval_model {
    struct olmo_model m;
    struct olmo_tokenizer *tok;
    struct olmo_state s;
    struct eval_scorer sc;
    int ctx;                 /* positions the cache holds: the longest query */
    int32_t prefix_token;    /* EOS (else BOS) id: the first Paloma window's extra token; -1: none */
};

/* Opens DIR (config.json, *.safetensors, tokenizer.json). ctx <= 0: the model's max_position_embeddings.
 * Refuses a tokenizer whose ids do not fit the model's vocabulary. 0, or -1 with olmo_err. */
int eval_model_open(struct eval_model *em, const char *dir, int quant_q8, int ctx);
void eval_model_close(struct eval_model *em);

#endif
