/* fuzz_hf_config.c — libFuzzer target for config.json, tokenizer_config.json and generation_config.json
 * parsing, and for the chat-template detector fed by tokenizer_config.json. An accepted config.json must be
 * self-consistent (the invariants the forward pass relies on) and must survive a write/parse round trip.
 *   make fuzz FUZZ_SECONDS=180   (seeds: fuzz/seeds/hf_config/, dictionary: fuzz/hf_config.dict) */
#include "formats/hf_config.h"
#include "model/chat_template.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    struct olmo_config c;
    if (hf_config_parse(&c, buf, size, "fuzz") == 0) {
        if (c.d_model < 1 || c.n_heads < 1 || c.n_kv_heads < 1 || c.n_heads % c.n_kv_heads || c.head_dim < 2 ||
            c.head_dim % 2 || c.n_layers < 1 || c.vocab_size < 1 || c.d_ff < 1)
            abort();
        char *j = hf_config_to_json(&c, "bfloat16");
        struct olmo_config c2;
        if (!j || hf_config_parse(&c2, j, strlen(j), "round trip") != 0 || memcmp(&c, &c2, sizeof c)) abort();
        free(j);
    }
    struct hf_tokenizer_config tc;
    if (hf_tokenizer_config_parse(&tc, buf, size, "fuzz") == 0) {
        struct chat_template ct;
        if (chat_template_init(&ct, &tc) == 0) {
            struct chat_message m[2] = {{"user", "hi"}, {"assistant", "ok"}};
            free(chat_render(&ct, m, 2, 1));
            chat_template_free(&ct);
        }
        hf_tokenizer_config_free(&tc);
    }
    struct hf_generation_config gc;
    hf_generation_config_parse(&gc, buf, size, "fuzz");
    free(buf);
    return 0;
}
