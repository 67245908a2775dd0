/* test_chat_template.c — template detection and rendering against the renderings quoted in spec §6. */
#include "harness.h"
#include "base/error.h"
#include "model/chat_template.h"

#include <stdlib.h>
#include <string.h>

/* The open-instruct "tulu" template with bos_token first, as stored in OLMo-2 Instruct tokenizer_config.json. */
static const char *TULU =
    "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'system' %}{{ '<|system|>\\n' + message['content'] + '\\n' }}"
    "{% elif message['role'] == 'user' %}{{ '<|user|>\\n' + message['content'] + '\\n' }}{% elif message['role'] == 'assistant' %}"
    "{% if not loop.last %}{{ '<|assistant|>\\n'  + message['content'] + eos_token + '\\n' }}{% else %}{{ '<|assistant|>\\n'  + "
    "message['content'] + eos_token }}{% endif %}{% endif %}{% if loop.last and add_generation_prompt %}{{ '<|assistant|>\\n' }}"
    "{% endif %}{% endfor %}";

/* An <|im_start|> template in the OLMo-3 style: a default system turn when none is given. */
static const char *IM =
    "{% set has_system = messages|selectattr('role', 'equalto', 'system')|list|length > 0 %}{% if not has_system %}"
    "{{ '<|im_start|>system\\nYou are a helpful test assistant.<|im_end|>\\n' }}{% endif %}{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] }}{% if not loop.last or message['role'] != 'assistant' %}"
    "{{ '<|im_end|>\\n' }}{% else %}{{ eos_token }}{% endif %}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\\n' }}{% endif %}";

TEST(chat_tulu_matches_spec_rendering) {
    struct hf_tokenizer_config tc = {.chat_template = (char *)TULU, .bos_token = (char *)"<|endoftext|>",
                                     .eos_token = (char *)"<|endoftext|>"};
    struct chat_template ct;
    CHECK_MSG(chat_template_init(&ct, &tc) == 0, "%s", olmo_errmsg());
    CHECK(ct.format == CHAT_TULU);
    struct chat_message m[3] = {{"user", "Hello, how are you?"}, {"assistant", "I'm doing well, thanks!"},
                                {"user", "That's good to hear!"}};
    char *s = chat_render(&ct, m, 3, 1);
    const char *want = "<|endoftext|><|user|>\nHello, how are you?\n<|assistant|>\nI'm doing well, thanks!<|endoftext|>\n"
                       "<|user|>\nThat's good to hear!\n<|assistant|>\n";
    int ok = s && !strcmp(s, want);
    free(s);
    struct chat_message sys[2] = {{"system", "Be brief."}, {"user", "Hi"}};
    s = chat_render(&ct, sys, 2, 0);
    ok = ok && s && !strcmp(s, "<|endoftext|><|system|>\nBe brief.\n<|user|>\nHi\n");
    free(s);
    chat_template_free(&ct);
    CHECK(ok);
}

TEST(chat_im_start_default_system_and_prompt) {
    struct hf_tokenizer_config tc = {.chat_template = (char *)IM, .eos_token = (char *)"<|endoftext|>"};
    struct chat_template ct;
    CHECK_MSG(chat_template_init(&ct, &tc) == 0, "%s", olmo_errmsg());
    CHECK(ct.format == CHAT_IM && ct.default_system && !strcmp(ct.default_system, "You are a helpful test assistant."));
    struct chat_message m[3] = {{"user", "hi"}, {"assistant", "hello"}, {"user", "bye"}};
    char *s = chat_render(&ct, m, 3, 1);
    const char *want = "<|im_start|>system\nYou are a helpful test assistant.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"
                       "<|im_start|>assistant\nhello<|im_end|>\n<|im_start|>user\nbye<|im_end|>\n<|im_start|>assistant\n";
    int ok = s && !strcmp(s, want);
    if (!ok) printf("got: %s\n", s ? s : "(null)");
    free(s);
    struct chat_message sys[2] = {{"system", "S"}, {"user", "u"}};
    s = chat_render(&ct, sys, 2, 1);
    ok = ok && s && !strcmp(s, "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nu<|im_end|>\n<|im_start|>assistant\n");
    free(s);
    chat_template_free(&ct);
    CHECK(ok);
}

TEST(chat_unknown_template_refused) {
    struct hf_tokenizer_config tc = {.chat_template = (char *)"{% for m in messages %}[INST] {{ m['content'] }} [/INST]{% endfor %}"};
    struct chat_template ct;
    CHECK(chat_template_init(&ct, &tc) == -1 && strstr(olmo_errmsg(), "unrecognised chat template"));
    struct hf_tokenizer_config none = {0};
    CHECK(chat_template_init(&ct, &none) == -1 && strstr(olmo_errmsg(), "no chat template"));
}

/* An OLMo-3-style template (written from spec §6.3's description): the default system turn is split over two
 * literals (the no-tools branch finishes it), and a given system message gets the "no functions" sentence. */
static const char *OLMO3 =
    "{%- set has_system = messages|selectattr('role', 'equalto', 'system')|list|length > 0 -%}"
    "{%- if not has_system -%}{{- '<|im_start|>system\\nYou are a test model built for olmo.c. ' -}}"
    "{%- if tools is none or (tools | length) == 0 -%}"
    "{{- 'You do not currently have access to any functions. <functions></functions><|im_end|>\\n' -}}"
    "{%- else -%}{{- '<functions>' + tools | tojson + '</functions><|im_end|>\\n' -}}{%- endif -%}{%- endif -%}"
    "{%- for message in messages -%}{%- if message['role'] == 'system' -%}{{- '<|im_start|>system\\n' + message['content'] -}}"
    "{%- if tools is not none -%}{{- ' <functions>' + tools | tojson + '</functions><|im_end|>\\n' -}}"
    "{%- else -%}{{- ' You do not currently have access to any functions. <functions></functions><|im_end|>\\n' -}}{%- endif -%}"
    "{%- elif message['role'] == 'user' -%}{{- '<|im_start|>user\\n' + message['content'] + '<|im_end|>\\n' -}}"
    "{%- elif message['role'] == 'assistant' -%}{{- '<|im_start|>assistant\\n' + message['content'] -}}"
    "{%- if not loop.last -%}{{- '<|im_end|>\\n' -}}{%- else -%}{{- eos_token -}}{%- endif -%}"
    "{%- elif message['role'] == 'environment' -%}{{- '<|im_start|>environment\\n' + message['content'] + '<|im_end|>\\n' -}}"
    "{%- endif -%}{%- if loop.last and add_generation_prompt -%}{{- '<|im_start|>assistant\\n<think>' -}}{%- endif -%}{%- endfor -%}";

TEST(chat_olmo3_style_default_system_split_over_literals) {
    struct hf_tokenizer_config tc = {.chat_template = (char *)OLMO3, .eos_token = (char *)"<|endoftext|>"};
    struct chat_template ct;
    CHECK_MSG(chat_template_init(&ct, &tc) == 0, "%s", olmo_errmsg());
    struct chat_message m[1] = {{"user", "hi"}};
    char *s = chat_render(&ct, m, 1, 1);
    const char *want = "<|im_start|>system\nYou are a test model built for olmo.c. You do not currently have access to any "
                       "functions. <functions></functions><|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>";
    int ok = s && !strcmp(s, want);
    if (!ok) printf("got: %s\n", s ? s : "(null)");
    free(s);
    struct chat_message sys[2] = {{"system", "Be terse."}, {"user", "hi"}};
    s = chat_render(&ct, sys, 2, 0);
    const char *want2 = "<|im_start|>system\nBe terse. You do not currently have access to any functions. "
                        "<functions></functions><|im_end|>\n<|im_start|>user\nhi<|im_end|>\n";
    int ok2 = s && !strcmp(s, want2);
    if (!ok2) printf("got: %s\n", s ? s : "(null)");
    free(s);
    chat_template_free(&ct);
    CHECK(ok && ok2);
}
