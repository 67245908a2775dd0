/* hf_config.h — the JSON side files of a Hugging Face model directory.
 *
 *   config.json             ↔ struct olmo_config (model_type olmo, olmo2, llama; anything else is refused with a
 *                             message saying which types are supported). Written back exactly as transformers'
 *                             OlmoConfig / Olmo2Config / LlamaConfig serialise, so `transformers` loads our
 *                             checkpoints.
 *   tokenizer_config.json   chat template (chat_template.jinja beside it wins, as in HF), bos/eos strings, add_bos
 *   generation_config.json  eos ids (one or a list), sampling defaults
 *
 * Every parser takes the text and a name for messages, so the fuzzer can drive it without files. */
#ifndef OLMO_FORMATS_HF_CONFIG_H
#define OLMO_FORMATS_HF_CONFIG_H

#include "model/config.h"

#include <stddef.h>
#include <stdint.h>

/* Parses config.json text. Checks every field's type and range and the fields' consistency
 * (hidden_size = heads × head_dim unless head_dim is given, heads divisible by kv heads, ...). */
int hf_config_parse(struct olmo_config *cfg, const char *json, size_t len, const char *where);
int hf_config_load(struct olmo_config *cfg, const char *path);
/* config.json text for cfg (caller frees). torch_dtype: "float32" or "bfloat16". */
char *hf_config_to_json(const struct olmo_config *cfg, const char *torch_dtype);
/* Writes DIR-less path atomically. */
int hf_config_write(const struct olmo_config *cfg, const char *torch_dtype, const char *path);
/* "olmo", "olmo2", "llama". */
const char *hf_model_type(enum olmo_arch arch);

struct hf_tokenizer_config {
    char *chat_template;    /* NULL if none */
    char *bos_token;        /* token strings, NULL if absent */
    char *eos_token;
    int add_bos_token;      /* 0/1 */
    int add_eos_token;
};
int hf_tokenizer_config_parse(struct hf_tokenizer_config *tc, const char *json, size_t len, const char *where);
/* Reads DIR/tokenizer_config.json (absent: all empty, returns 0) and DIR/chat_template.jinja if present. */
int hf_tokenizer_config_load(struct hf_tokenizer_config *tc, const char *dir);
void hf_tokenizer_config_free(struct hf_tokenizer_config *tc);

#define HF_MAX_EOS 8
struct hf_generation_config {
    int n_eos;
    int32_t eos_token_ids[HF_MAX_EOS];
    int32_t bos_token_id;          /* -1 if absent */
    int has_temperature, has_top_k, has_top_p, do_sample;
    float temperature, top_p;
    int top_k;
    int max_new_tokens;            /* 0 if absent */
};
int hf_generation_config_parse(struct hf_generation_config *gc, const char *json, size_t len, const char *where);
/* Reads DIR/generation_config.json; absent → zeroed config (n_eos 0), returns 0. */
int hf_generation_config_load(struct hf_generation_config *gc, const char *dir);

#endif
