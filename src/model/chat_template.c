/* chat_template.c — recognising and rendering OLMo chat templates without a Jinja engine (see chat_template.h).
 *
 * Detection reads the template source with its Jinja string escapes (\n, \', \\) undone:
 *   contains "<|im_start|>"                   → CHAT_IM; generation prompt "<|im_start|>assistant\n", plus
 *                                               "<think>" when the template's prompt literal carries it; the
 *                                               default system turn is the literal "<|im_start|>system\n…<|im_end|>"
 *                                               found in the template, if any
 *   contains "<|user|>" and "<|assistant|>"   → CHAT_TULU; bos_token first when the template prints bos_token
 * Rendering then follows spec §6 exactly for those two families. */
#include "model/chat_template.h"
#include "base/error.h"
#include "base/mem.h"

#include <stdlib.h>
#include <string.h>

/* Undo Jinja/Python string-literal escapes so that literals can be matched as the text they produce. */
static char *unescape(const char *s) {
    char *o = olmo_malloc(strlen(s) + 1), *p = o;
    if (!o) return NULL;
    for (; *s; s++) {
        if (*s == '\\' && s[1]) {
            s++;
            *p++ = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
        } else *p++ = *s;
    }
    *p = 0;
    return o;
}

/* The first literal "<|im_start|>system\n<text><|im_end|>" in the (unescaped) template whose text is plain
 * (no Jinja expression inside): that is the default system message. */
static char *find_default_system(const char *t) {
    const char *open = "<|im_start|>system\n", *close = "<|im_end|>";
    for (const char *at = strstr(t, open); at; at = strstr(at + 1, open)) {
        const char *body = at + strlen(open), *end = strstr(body, close);
        if (!end) break;
        size_t n = (size_t)(end - body);
        int plain = n > 0;
        for (size_t i = 0; i < n && plain; i++)
            if (body[i] == '\'' || body[i] == '"' || body[i] == '{' || body[i] == '}' || body[i] == '+') plain = 0;
        if (plain) return olmo_strndup(body, n);
    }
    return NULL;
}

int chat_template_init(struct chat_template *ct, const struct hf_tokenizer_config *tc) {
    memset(ct, 0, sizeof *ct);
    if (!tc->chat_template)
        return olmo_err("the checkpoint has no chat template (tokenizer_config.json \"chat_template\" or chat_template.jinja)");
    char *t = unescape(tc->chat_template);
    if (!t) return -1;
    const char *eos = tc->eos_token ? tc->eos_token : "<|endoftext|>";
    int rc = 0;
    if (strstr(t, "<|im_start|>")) {
        ct->format = CHAT_IM;
        ct->bos = olmo_strdup("");
        ct->default_system = find_default_system(t);
        ct->gen_prompt = olmo_strdup(strstr(t, "<|im_start|>assistant\n<think>") ? "<|im_start|>assistant\n<think>"
                                                                                   : "<|im_start|>assistant\n");
    } else if (strstr(t, "<|user|>") && strstr(t, "<|assistant|>")) {
        ct->format = CHAT_TULU;
        ct->bos = olmo_strdup(strstr(t, "bos_token") && tc->bos_token ? tc->bos_token : "");
        ct->gen_prompt = olmo_strdup("<|assistant|>\n");
    } else {
        rc = olmo_err("unrecognised chat template: olmo.c renders the OLMo-2 \"Tulu\" format (<|user|> / <|assistant|>) "
                      "and the OLMo-3 \"<|im_start|>\" format; this template has neither");
    }
    free(t);
    if (rc == 0) {
        ct->eos = olmo_strdup(eos);
        if (!ct->eos || !ct->bos || !ct->gen_prompt) rc = -1;
    }
    if (rc) chat_template_free(ct);
    return rc;
}

void chat_template_free(struct chat_template *ct) {
    free(ct->bos);
    free(ct->eos);
    free(ct->default_system);
    free(ct->gen_prompt);
    memset(ct, 0, sizeof *ct);
}

struct sbuf {
    char *s;
    size_t n, cap;
    int bad;
};

static void put(struct sbuf *b, const char *s) {
    size_t k = strlen(s);
    if (b->bad) return;
    if (b->n + k + 1 > b->cap) {
        size_t cap = (b->n + k + 1) * 2;
        char *p = olmo_realloc(b->s, cap);
        if (!p) { b->bad = 1; return; }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, k + 1);
    b->n += k;
}

char *chat_render(const struct chat_template *ct, const struct chat_message *msgs, int n, int add_generation_prompt) {
    struct sbuf b = {0};
    put(&b, ct->bos);
    if (ct->format == CHAT_IM && ct->default_system && !(n > 0 && !strcmp(msgs[0].role, "system"))) {
        put(&b, "<|im_start|>system\n");
        put(&b, ct->default_system);
        put(&b, "<|im_end|>\n");
    }
    for (int i = 0; i < n; i++) {
        const char *r = msgs[i].role, *c = msgs[i].content;
        int last = i == n - 1;
        if (ct->format == CHAT_TULU) {
            if (!strcmp(r, "system") || !strcmp(r, "user")) {
                put(&b, !strcmp(r, "system") ? "<|system|>\n" : "<|user|>\n");
                put(&b, c);
                put(&b, "\n");
            } else if (!strcmp(r, "assistant")) {
                put(&b, "<|assistant|>\n");
                put(&b, c);
                put(&b, ct->eos);
                if (!last) put(&b, "\n");
            } else {
                olmo_err("chat: role '%s' is not part of the Tulu template (system, user, assistant)", r);
                free(b.s);
                return NULL;
            }
        } else {
            if (strcmp(r, "system") && strcmp(r, "user") && strcmp(r, "assistant") && strcmp(r, "environment")) {
                olmo_err("chat: role '%s' is not part of the <|im_start|> template (system, user, assistant, environment)", r);
                free(b.s);
                return NULL;
            }
            put(&b, "<|im_start|>");
            put(&b, r);
            put(&b, "\n");
            put(&b, c);
            put(&b, !strcmp(r, "assistant") && last ? ct->eos : "<|im_end|>\n");
        }
    }
    if (add_generation_prompt) put(&b, ct->gen_prompt);
    if (b.bad) {
        free(b.s);
        return NULL;
    }
    if (!b.s) return olmo_strdup("");
    return b.s;
}
