/* model_cli.h — what `olmo generate` and `olmo chat` share: the common flags, loading a checkpoint directory
 * (model, tokenizer, side files), the stop-token set, streaming a token to stdout and the closing speed report. */
#ifndef OLMO_CLI_MODEL_CLI_H
#define OLMO_CLI_MODEL_CLI_H

#include "formats/hf_config.h"
#include "model/generate.h"
#include "model/model.h"
#include "model/utf8_stream.h"
#include "tokenizer/tokenizer.h"

#include <stdint.h>
#include <stdio.h>

struct model_cli_opts {
    const char *dir, *prompt, *system;
    int n_new, threads, ctx, top_k;
    enum olmo_quant quant;         /* --quant q8|q4 */
    float temperature, top_p;
    uint64_t seed;
    int set_temperature, set_top_k, set_top_p;
    enum olmo_kv_dtype kv_dtype;   /* --kv-cache f32|bf16 */
};

struct model_cli {
    struct olmo_model model;
    struct olmo_tokenizer *tok;
    struct hf_tokenizer_config tok_cfg;
    struct hf_generation_config gen_cfg;
    struct gen_session gen;
    struct utf8_stream out;
    double load_s;
};

/* Parses the flags common to both commands; returns 1 if argv[*i] was one of them (advancing *i), 0 if not,
 * -1 on a bad value. */
int model_cli_flag(struct model_cli_opts *o, int argc, char **argv, int *i);
/* Loads everything and creates the generation session with the stop tokens. The KV cache holds --ctx positions,
 * else min(max_position_embeddings, ctx_hint) (ctx_hint <= 0: max_position_embeddings). */
int model_cli_open(struct model_cli *c, const struct model_cli_opts *o, int ctx_hint);
void model_cli_close(struct model_cli *c);
/* Once the prompt is tokenized: shrinks the KV cache to `need` positions when --ctx was not given and the cache
 * (sized from ctx_hint, an upper bound in bytes) is larger. The cache sits in 2 MB pages and is laid out per head,
 * so the first touch of a few positions of every head zeroes all of it: a 4x oversized cache made the first
 * prompt ~1 s slower at the OLMo-2 1B shape (docs/inference.md). 0, or -1 with olmo_err. */
int model_cli_fit_ctx(struct model_cli *c, const struct model_cli_opts *o, int need);
/* Prints one generated token's text (special tokens are not printed). */
void model_cli_emit(struct model_cli *c, int32_t id, FILE *out);
/* "prefill: N tokens in S s (X tok/s) | decode: ... | KV cache ..." on stderr. */
void model_cli_report(const struct model_cli *c);
extern const char *model_cli_flags_help;

#endif
