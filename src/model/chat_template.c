/* chat_template.c — recognising and rendering OLMo chat templates without a Jinja engine (see chat_template.h).
 *
 * Detection reads the template source with its Jinja string escapes (\n, \', \\) undone:
 *   contains "<|im_start|>"                   → CHAT_IM; generation prompt "<|im_start|>assistant\n", plus
 *                                               "<think>" when the template's prompt literal carries it; the
 *                                               default system turn and the "no functions" sentence appended to
 *                                               system messages are read from the template's literals
 *                                               (find_system_texts)
 *   contains "<|user|>" and "<|assistant|>"   → CHAT_TULU; bos_token first when the template prints bos_token
 * Rendering then follows spec §6 exactly for those two families. */
#include "model/chat_template.h"
#include "base/error.h"
#include "base/mem.h"

#include <stdio.h>
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

/* The template's string literals in order, escapes undone: quoted strings inside {{ }} / {% %} tags, and the
 * raw text between tags (which Jinja prints as is). NULL-terminated array; caller frees with free_literals. */
static char **literals(const char *t) {
    size_t cap = 16, n = 0;
    char **out = olmo_calloc(cap, sizeof *out);
    int in_tag = 0;
    const char *raw = t;
    for (const char *p = t; out && *p;) {
        const char *start = NULL, *end = NULL;
        if (!in_tag && p[0] == '{' && (p[1] == '{' || p[1] == '%' || p[1] == '#')) {
            if (p > raw) start = raw, end = p;
            in_tag = p[1];
            p += 2;
        } else if (in_tag && ((in_tag == '{' && p[0] == '}' && p[1] == '}') || (in_tag != '{' && (p[0] == '%' || p[0] == '#') && p[1] == '}'))) {
            in_tag = 0;
            p += 2;
            raw = p;
            continue;
        } else if (in_tag && (*p == '\'' || *p == '"')) {
            char q = *p++;
            start = p;
            while (*p && *p != q) p += p[0] == '\\' && p[1] ? 2 : 1;
            end = p;
            if (*p) p++;
        } else {
            p++;
            if (!*p && !in_tag && p > raw) start = raw, end = p;
        }
        if (!start) continue;
        if (n + 2 > cap) {
            char **g = olmo_realloc(out, 2 * cap * sizeof *g);
            if (!g) break;
            out = g;
            cap *= 2;
        }
        char *lit = olmo_strndup(start, (size_t)(end - start)), *u = lit ? unescape(lit) : NULL;
        free(lit);
        if (!u) break;
        out[n++] = u;
        out[n] = NULL;
    }
    return out;
}

static void free_literals(char **l) {
    for (size_t i = 0; l && l[i]; i++) free(l[i]);
    free(l);
}

/* Text of s up to (not including) "<|im_end|>", or all of it. */
static char *until_im_end(const char *s) {
    const char *e = strstr(s, "<|im_end|>");
    return olmo_strndup(s, e ? (size_t)(e - s) : strlen(s));
}

/* The OLMo-3 / open-instruct "olmo" templates print a default system turn when the conversation has none: the
 * literal "<|im_start|>system\n<text>", continued (when <text> does not reach "<|im_end|>") by the literal of the
 * "no tools" branch ("You do not currently have access to any functions. <functions></functions>"); that same
 * sentence is appended to a system message the user gives. Both are read out of the template's literals. */
static void find_system_texts(const char *tmpl, char **default_system, char **suffix) {
    static const char OPEN[] = "<|im_start|>system\n", NOFN[] = "You do not currently have access to any functions";
    char **l = literals(tmpl);
    *default_system = *suffix = NULL;
    if (!l) return;
    int nofn = -1;
    for (int i = 0; l[i]; i++)
        if (strstr(l[i], NOFN)) { nofn = i; break; }
    for (int i = 0; l[i] && !*default_system; i++) {
        if (strncmp(l[i], OPEN, sizeof OPEN - 1) || !l[i][sizeof OPEN - 1]) continue;
        const char *rest = l[i] + sizeof OPEN - 1;
        if (strstr(rest, "<|im_end|>") || nofn <= i) *default_system = until_im_end(rest);
        else {
            char *tail = until_im_end(strstr(l[nofn], NOFN));
            size_t a = strlen(rest), b = tail ? strlen(tail) : 0;
            *default_system = olmo_malloc(a + b + 1);
            if (*default_system) {
                memcpy(*default_system, rest, a);
                memcpy(*default_system + a, tail ? tail : "", b + 1);
            }
            free(tail);
        }
    }
    if (nofn >= 0) {
        char *tail = until_im_end(strstr(l[nofn], NOFN));
        if (tail) {
            *suffix = olmo_malloc(strlen(tail) + 2);
            if (*suffix) sprintf(*suffix, " %s", tail);
            free(tail);
        }
    }
    free_literals(l);
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
        find_system_texts(tc->chat_template, &ct->default_system, &ct->system_suffix);
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
    free(ct->system_suffix);
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
            if (!strcmp(r, "system") && ct->system_suffix) put(&b, ct->system_suffix);
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
