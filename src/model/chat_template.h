/* chat_template.h — turning a conversation into the prompt text a chat checkpoint was trained on (spec §6).
 *
 * olmo.c does not run Jinja. It recognises the two template families OLMo releases use from the checkpoint's
 * chat_template string and renders them in C:
 *   CHAT_TULU  OLMo-2 / OLMoE / OLMo-1 Instruct: "<|user|>\n…\n<|assistant|>\n…<eos>\n", bos_token first
 *   CHAT_IM    OLMo-3 / open-instruct "olmo": "<|im_start|>role\n…<|im_end|>\n"; the default system message
 *              the template inserts when the conversation has none, and the "no functions" sentence OLMo-3
 *              appends to system messages, are read out of the template's string literals
 * Any other template is refused with a message naming what was looked for. */
#ifndef OLMO_MODEL_CHAT_TEMPLATE_H
#define OLMO_MODEL_CHAT_TEMPLATE_H

#include "formats/hf_config.h"

enum chat_format { CHAT_TULU = 1, CHAT_IM = 2 };

struct chat_template {
    enum chat_format format;
    char *bos;              /* text put first (Tulu: bos_token when the template starts with it), may be "" */
    char *eos;              /* eos_token string, ends assistant turns */
    char *default_system;   /* CHAT_IM: system message used when none is given, NULL if the template has none */
    char *system_suffix;    /* CHAT_IM: appended to a given system message (OLMo-3: " You do not currently have
                               access to any functions. <functions></functions>"), NULL if none */
    char *gen_prompt;       /* the generation prompt ("<|assistant|>\n", "<|im_start|>assistant\n", ...) */
};

struct chat_message {
    const char *role;       /* "system", "user", "assistant" (CHAT_IM also "environment") */
    const char *content;
};

/* Detects the template family from tc->chat_template. */
int chat_template_init(struct chat_template *ct, const struct hf_tokenizer_config *tc);
void chat_template_free(struct chat_template *ct);
/* Renders the messages (plus the generation prompt when add_generation_prompt) into a new string. */
char *chat_render(const struct chat_template *ct, const struct chat_message *msgs, int n, int add_generation_prompt);

#endif
