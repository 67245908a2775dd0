/* eval_model.c — opening a checkpoint for evaluation (see eval_model.h). */
#include "eval/eval_model.h"

#include "base/error.h"
#include "base/file.h"

#include <stdlib.h>
#include <string.h>

int eval_model_open(struct eval_model *em, const char *dir, int quant_q8, int ctx) {
    memset(em, 0, sizeof *em);
    struct model_load_opts lo = {.quant = quant_q8 ? OLMO_QUANT_Q8 : OLMO_QUANT_NONE};
    if (model_load(&em->m, dir, &lo) != 0) return -1;
    char *tp = olmo_path_join(dir, "tokenizer.json");
    em->tok = tp ? tok_load(tp) : NULL;
    free(tp);
    if (!em->tok) goto fail;
    /* every id the tokenizer can produce must have a row in the embedding and a logit */
    int tv = tok_vocab_size(em->tok), mv = em->m.cfg.vocab_size;
    if (tv > mv) {
        olmo_err("%s: the tokenizer has %d ids but the model's vocabulary is %d: they do not belong together", dir,
                 tv, mv);
        goto fail;
    }
    em->ctx = ctx > 0 ? ctx : em->m.cfg.max_seq_len;
    if (em->ctx < 2) {
        olmo_err("%s: context of %d positions: expected at least 2", dir, em->ctx);
        goto fail;
    }
    em->prefix_token = em->m.cfg.eos_token_id >= 0 ? em->m.cfg.eos_token_id : em->m.cfg.bos_token_id;
    if (em->prefix_token >= mv) em->prefix_token = -1;   /* eval ppl refuses to run without one */
    if (model_state_init(&em->s, &em->m, em->ctx) != 0) goto fail;
    if (eval_scorer_init(&em->sc, &em->m, &em->s) != 0) {
        model_state_free(&em->s);
        goto fail;
    }
    return 0;
fail:
    if (em->tok) tok_free(em->tok);
    model_free(&em->m);
    memset(em, 0, sizeof *em);
    return -1;
}

void eval_model_close(struct eval_model *em) {
    eval_scorer_free(&em->sc);
    model_state_free(&em->s);
    if (em->tok) tok_free(em->tok);
    model_free(&em->m);
    memset(em, 0, sizeof *em);
}
