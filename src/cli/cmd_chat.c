/* cmd_chat.c — `olmo chat -m DIR`: a multi-turn conversation with a chat checkpoint.
 *
 * Each line read from stdin is one user turn (so `printf 'Hi\nAnd then?\n' | olmo chat -m DIR` scripts a
 * two-turn chat); the reply is streamed to stdout and ended with a newline. In a terminal a "> " prompt is
 * shown on stderr. "/reset" starts a new conversation, "/exit" or end of input quits. The conversation is
 * rendered with the checkpoint's chat template (model/chat_template.h) every turn, and the KV cache keeps
 * the common prefix, so only the new turn is computed. */
#include "cli/commands.h"
#include "cli/model_cli.h"
#include "base/error.h"
#include "base/mem.h"
#include "model/chat_template.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f) {
    fprintf(f, "usage: olmo chat -m DIR [options] < turns.txt\n\n"
               "Chats with the checkpoint in DIR using its chat template. One line of input is one user turn;\n"
               "'/reset' forgets the conversation, '/exit' (or end of input) quits.\n\n"
               "  --system TEXT         system message (default: the template's own, if any)\n%s", model_cli_flags_help);
}

struct convo {
    struct chat_message *m;
    char **owned;
    int n, cap;
};

static int convo_add(struct convo *c, const char *role, const char *text) {
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 16;
        struct chat_message *m = olmo_realloc(c->m, (size_t)cap * sizeof *m);
        if (!m) return -1;
        c->m = m;
        char **o = olmo_realloc(c->owned, (size_t)cap * sizeof *o);
        if (!o) return -1;
        c->owned = o;
        c->cap = cap;
    }
    c->owned[c->n] = olmo_strdup(text);
    if (!c->owned[c->n]) return -1;
    c->m[c->n] = (struct chat_message){role, c->owned[c->n]};
    c->n++;
    return 0;
}

static void convo_clear(struct convo *c, int keep) {
    while (c->n > keep) free(c->owned[--c->n]);
}

/* One assistant turn: render, tokenize, prefill the new part, stream the reply; appends it to the convo. */
static int reply(struct model_cli *c, const struct chat_template *ct, struct convo *cv, int n_new) {
    char *prompt = chat_render(ct, cv->m, cv->n, 1);
    if (!prompt) return -1;
    int32_t *ids = NULL;
    size_t n = 0;
    int rc = tok_encode(c->tok, prompt, strlen(prompt), 0, &ids, &n);   /* the template wrote BOS itself */
    free(prompt);
    if (rc != 0) return -1;
    if ((int)n >= c->gen.state.max_seq) {
        free(ids);
        return olmo_err("the conversation (%zu tokens) fills the %d-token context; /reset to start over", n, c->gen.state.max_seq);
    }
    rc = gen_prefill(&c->gen, ids, (int)n);
    free(ids);
    if (rc != 0) return -1;
    int32_t *out = olmo_malloc((size_t)(n_new + 1) * sizeof *out);
    if (!out) return -1;
    int k = 0;
    for (; k < n_new && c->gen.n_tokens < c->gen.state.max_seq; k++) {
        if (gen_step(&c->gen, &out[k]) != 0) { free(out); return -1; }
        if (gen_is_stop(&c->gen, out[k])) break;
        model_cli_emit(c, out[k], stdout);
    }
    utf8_stream_flush(&c->out, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    char *text = tok_decode(c->tok, out, (size_t)k, 1, NULL);
    free(out);
    if (!text) return -1;
    rc = convo_add(cv, "assistant", text);
    free(text);
    return rc;
}

int cmd_chat(int argc, char **argv) {
    struct model_cli_opts o = {.n_new = 512, .top_p = 1.0f};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { usage(stdout); return 0; }
        if (!strcmp(argv[i], "--system") && i + 1 < argc) { o.system = argv[++i]; continue; }
        int r = model_cli_flag(&o, argc, argv, &i);
        if (r < 0) return cli_fail("chat");
        if (r == 0) {
            fprintf(stderr, "olmo chat: unknown argument '%s'\n\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!o.dir) {
        usage(stderr);
        return 2;
    }
    /* The template first: a checkpoint without one (a base model) is refused before its weights are loaded. */
    struct hf_tokenizer_config tc;
    struct chat_template ct;
    if (hf_tokenizer_config_load(&tc, o.dir) != 0) return cli_fail("chat");
    int bad = chat_template_init(&ct, &tc) != 0;
    hf_tokenizer_config_free(&tc);
    if (bad) {
        olmo_err_prefix("%s: ", o.dir);
        return cli_fail("chat");
    }
    struct model_cli c;
    if (model_cli_open(&c, &o, 2048) != 0) {
        chat_template_free(&ct);
        return cli_fail("chat");
    }
    struct convo cv = {0};
    int base = 0, rc = 0, tty = isatty(0);
    if (tty)
        fprintf(stderr, "chatting with %s (%s template). One line per turn; /reset starts over, /exit quits.\n", o.dir,
                ct.format == CHAT_TULU ? "Tulu <|user|>" : "<|im_start|>");
    if (o.system) {
        if (convo_add(&cv, "system", o.system) != 0) rc = 1;
        base = 1;
    }
    char *line = NULL;
    size_t cap = 0;
    while (rc == 0) {
        if (tty) fputs("> ", stderr);
        ssize_t len = getline(&line, &cap, stdin);
        if (len < 0) break;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (!strcmp(line, "/exit")) break;
        if (!strcmp(line, "/reset")) {
            convo_clear(&cv, base);
            continue;
        }
        if (len == 0) continue;
        if (convo_add(&cv, "user", line) != 0 || reply(&c, &ct, &cv, o.n_new) != 0) rc = 1;
    }
    free(line);
    if (rc) cli_fail("chat");
    else model_cli_report(&c);
    convo_clear(&cv, 0);
    free(cv.m);
    free(cv.owned);
    chat_template_free(&ct);
    model_cli_close(&c);
    return rc;
}
