/* serve_request.c — an OpenAI request body → a validated serve_task, or the OpenAI error to answer (spec §3, §4,
 * §7). Unknown fields are ignored (clients send user, store, metadata, …); JSON null counts as absent; every
 * number is range-checked and a failure names the field in `param`. The chat messages are rendered with the
 * checkpoint's own template, and the prompt must leave room for at least one new token in the slot's context. */
#include "serve/serve_task.h"
#include "base/mem.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

void serve_err_set(struct serve_err *e, int status, const char *type, const char *code, const char *param,
                   const char *fmt, ...) {
    memset(e, 0, sizeof *e);
    e->status = status;
    e->type = type;
    e->code = code;
    snprintf(e->param, sizeof e->param, "%s", param ? param : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
}

char *serve_err_json(const struct serve_err *e) {
    /* the message may quote the client's bytes (a JSON parse error names the bad character): keep it valid UTF-8 */
    json_t *in = json_pack("{s:o, s:s, s:o, s:o}", "message", serve_json_lossy(e->msg, strlen(e->msg)), "type", e->type, "param",
                           e->param[0] ? json_string(e->param) : json_null(), "code",
                           e->code ? json_string(e->code) : json_null());
    if (in && e->n_ctx > 0) {
        json_object_set_new(in, "n_prompt_tokens", json_integer(e->n_prompt_tokens));
        json_object_set_new(in, "n_ctx", json_integer(e->n_ctx));
    }
    json_t *o = json_pack("{s:o}", "error", in);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

/* A 400 answer; returns -1 so that `return BAD(...)` reads as the failure it is. */
static int err400(struct serve_err *e, const char *code, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int err400(struct serve_err *e, const char *code, const char *param, const char *fmt, ...) {
    serve_err_set(e, 400, "invalid_request_error", code, param, "%s", "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}
#define BAD(param, ...) err400(e, "invalid_value", param, __VA_ARGS__)
#define UNSUPPORTED(param, ...) err400(e, "unsupported_parameter", param, __VA_ARGS__)

static json_t *field(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_null(v) ? NULL : v;
}

/* Number field in [lo, hi]; 0 if absent (out unchanged), 1 if read, -1 (error set) if wrong. */
static int get_num(json_t *o, const char *k, double lo, double hi, double *out, struct serve_err *e) {
    json_t *v = field(o, k);
    if (!v) return 0;
    if (!json_is_number(v)) return BAD(k, "'%s' must be a number", k);
    double x = json_number_value(v);
    if (!(x >= lo && x <= hi)) return BAD(k, "'%s' is %g; it must be in [%g, %g]", k, x, lo, hi);
    *out = x;
    return 1;
}

static int get_int(json_t *o, const char *k, long long lo, long long hi, long long *out, struct serve_err *e) {
    json_t *v = field(o, k);
    if (!v) return 0;
    if (!json_is_integer(v)) return BAD(k, "'%s' must be an integer", k);
    long long x = json_integer_value(v);
    if (x < lo || x > hi) return BAD(k, "'%s' is %lld; it must be in [%lld, %lld]", k, x, lo, hi);
    *out = x;
    return 1;
}

static int get_bool(json_t *o, const char *k, int *out, struct serve_err *e) {
    json_t *v = field(o, k);
    if (!v) return 0;
    if (!json_is_boolean(v)) return BAD(k, "'%s' must be true or false", k);
    *out = json_is_true(v);
    return 1;
}

/* The fields chat and completions share. */
static int parse_sampling(const struct serve_ctx *sc, json_t *o, struct serve_req *r, struct serve_err *e) {
    /* omitted fields: generation_config.json's value when it samples (as vLLM), else OpenAI's defaults */
    const struct hf_generation_config *gc = sc->gen_cfg;
    r->temperature = gc && gc->do_sample && gc->has_temperature ? gc->temperature : 1.0f;
    r->top_p = gc && gc->do_sample && gc->has_top_p ? gc->top_p : 1.0f;
    r->top_k = gc && gc->do_sample && gc->has_top_k ? gc->top_k : 0;
    double d;
    long long i;
    int rc;
    if ((rc = get_num(o, "temperature", 0, 2, &d, e)) < 0) return -1;
    if (rc) r->temperature = (float)d;
    if ((rc = get_num(o, "top_p", 0, 1, &d, e)) < 0) return -1;
    if (rc) {
        if (!(d > 0)) return BAD("top_p", "'top_p' must be in (0, 1]");
        r->top_p = (float)d;
    }
    if ((rc = get_int(o, "top_k", 0, 1 << 30, &i, e)) < 0) return -1;
    if (rc) r->top_k = (int)i;
    if ((rc = get_int(o, "seed", INT64_MIN, INT64_MAX, &i, e)) < 0) return -1;
    if (rc) r->seed = (uint64_t)i;
    else if (getrandom(&r->seed, sizeof r->seed, 0) != (ssize_t)sizeof r->seed) r->seed = (uint64_t)time(NULL);
    d = 0;
    if (get_num(o, "presence_penalty", -2, 2, &d, e) < 0) return -1;
    r->presence_penalty = (float)d;
    d = 0;
    if (get_num(o, "frequency_penalty", -2, 2, &d, e) < 0) return -1;
    r->frequency_penalty = (float)d;
    i = 1;
    if (get_int(o, "n", 1, 16, &i, e) < 0) return -1;
    if (i != 1) return UNSUPPORTED("n", "'n' > 1 is not supported yet; send n requests");
    if (get_bool(o, "stream", &r->stream, e) < 0) return -1;
    json_t *so = field(o, "stream_options");
    if (so) {
        if (!json_is_object(so)) return BAD("stream_options", "'stream_options' must be an object");
        if (get_bool(so, "include_usage", &r->include_usage, e) < 0) return -1;
    }
    json_t *stop = field(o, "stop");
    if (stop) {
        if (json_is_string(stop)) {
            if (json_string_length(stop) > 0 && !(r->stop[r->n_stop++] = olmo_strdup(json_string_value(stop)))) goto oom;
        } else if (json_is_array(stop)) {
            if (json_array_size(stop) > SERVE_MAX_STOP_STR)
                return BAD("stop", "'stop' has %zu strings; at most %d", json_array_size(stop), SERVE_MAX_STOP_STR);
            size_t k;
            json_t *s;
            json_array_foreach(stop, k, s) {
                if (!json_is_string(s)) return BAD("stop", "'stop' must be a string or a list of strings");
                if (json_string_length(s) > 0 && !(r->stop[r->n_stop++] = olmo_strdup(json_string_value(s)))) goto oom;
            }
        } else return BAD("stop", "'stop' must be a string or a list of strings");
        for (int k = 0; k < r->n_stop; k++)
            if (strlen(r->stop[k]) > 256) return BAD("stop", "a stop string is longer than 256 bytes");
    }
    json_t *lb = field(o, "logit_bias");
    if (lb) {
        if (!json_is_object(lb)) return BAD("logit_bias", "'logit_bias' must be an object of token id → bias");
        size_t n = json_object_size(lb);
        r->bias_id = olmo_malloc((n ? n : 1) * sizeof *r->bias_id);
        r->bias_val = olmo_malloc((n ? n : 1) * sizeof *r->bias_val);
        if (!r->bias_id || !r->bias_val) goto oom;
        const char *key;
        json_t *v;
        json_object_foreach(lb, key, v) {
            char *end;
            long id = strtol(key, &end, 10);
            if (end == key || *end || id < 0 || id >= sc->model->cfg.vocab_size)
                return BAD("logit_bias", "logit_bias key '%.40s' is not a token id below %d", key, sc->model->cfg.vocab_size);
            if (!json_is_number(v) || !(json_number_value(v) >= -100 && json_number_value(v) <= 100))
                return BAD("logit_bias", "logit_bias values must be numbers in [-100, 100]");
            r->bias_id[r->n_bias] = (int32_t)id;
            r->bias_val[r->n_bias++] = (float)json_number_value(v);
        }
    }
    json_t *rf = field(o, "response_format");
    if (rf) {
        json_t *ty = json_is_object(rf) ? json_object_get(rf, "type") : NULL;
        if (!json_is_string(ty) || strcmp(json_string_value(ty), "text"))
            return UNSUPPORTED("response_format", "only response_format {\"type\":\"text\"} is supported");
    }
    json_t *tools = field(o, "tools");
    if (tools && !(json_is_array(tools) && json_array_size(tools) == 0))
        return UNSUPPORTED("tools", "tools are not supported");
    json_t *tc = field(o, "tool_choice");
    if (tc && !(json_is_string(tc) && !strcmp(json_string_value(tc), "none")))
        return UNSUPPORTED("tool_choice", "only tool_choice \"none\" is supported");
    return 0;
oom:
    serve_err_set(e, 500, "server_error", "internal_error", NULL, "out of memory");
    return -1;
}

/* Chat content: a string, or parts whose text parts are joined. *out is borrowed or (parts) allocated into *own. */
static int content_text(json_t *c, const char **out, char **own, struct serve_err *e) {
    if (json_is_string(c)) {
        *out = json_string_value(c);
        return 0;
    }
    if (!json_is_array(c)) return BAD("messages", "message content must be a string or a list of parts");
    size_t len = 0, k;
    json_t *p;
    json_array_foreach(c, k, p) {
        json_t *ty = json_object_get(p, "type"), *tx = json_object_get(p, "text");
        if (!json_is_string(ty)) return BAD("messages", "a content part needs a 'type'");
        if (strcmp(json_string_value(ty), "text"))
            return UNSUPPORTED("messages", "content parts of type '%.40s' are not supported (text only)", json_string_value(ty));
        if (!json_is_string(tx)) return BAD("messages", "a text part needs a string 'text'");
        len += json_string_length(tx);
    }
    char *s = olmo_malloc(len + 1);
    if (!s) {
        serve_err_set(e, 500, "server_error", "internal_error", NULL, "out of memory");
        return -1;
    }
    size_t at = 0;
    json_array_foreach(c, k, p) {
        json_t *tx = json_object_get(p, "text");
        memcpy(s + at, json_string_value(tx), json_string_length(tx));
        at += json_string_length(tx);
    }
    s[at] = 0;
    *out = *own = s;
    return 0;
}

/* messages → the rendered prompt text (caller frees). */
static char *render_chat(const struct serve_ctx *sc, json_t *msgs, struct serve_err *e) {
    if (!msgs) {
        BAD("messages", "'messages' is required");
        return NULL;
    }
    if (!json_is_array(msgs) || json_array_size(msgs) == 0) {
        BAD("messages", "'messages' must be a non-empty list");
        return NULL;
    }
    if (!sc->ct) {
        UNSUPPORTED("messages", "this checkpoint has no chat template; use /v1/completions");
        return NULL;
    }
    size_t n = json_array_size(msgs);
    struct chat_message *m = olmo_calloc(n, sizeof *m);
    char **own = olmo_calloc(n, sizeof *own);
    char *text = NULL;
    if (!m || !own) {
        serve_err_set(e, 500, "server_error", "internal_error", NULL, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *msg = json_array_get(msgs, i), *role = json_object_get(msg, "role"), *c = field(msg, "content");
        if (!json_is_object(msg) || !json_is_string(role)) {
            BAD("messages", "messages[%zu] must be an object with a string 'role'", i);
            goto out;
        }
        const char *r = json_string_value(role);
        if (!strcmp(r, "system") || !strcmp(r, "developer")) m[i].role = "system";
        else if (!strcmp(r, "user") || !strcmp(r, "assistant")) m[i].role = r;
        else if (!strcmp(r, "tool") || !strcmp(r, "function")) {
            UNSUPPORTED("messages", "messages[%zu]: role '%s' (tools) is not supported", i, r);
            goto out;
        } else {
            BAD("messages", "messages[%zu]: unknown role '%.40s'", i, r);
            goto out;
        }
        if (!c) {
            BAD("messages", "messages[%zu] has no 'content'", i);
            goto out;
        }
        if (content_text(c, &m[i].content, &own[i], e) != 0) goto out;
    }
    /* a final assistant message is continued: render the rest with the generation prompt, then append it */
    int cont = !strcmp(m[n - 1].role, "assistant");
    char *head = chat_render(sc->ct, m, (int)(n - cont), 1);
    if (!head) {
        serve_err_set(e, 500, "server_error", "internal_error", NULL, "chat template rendering failed");
        goto out;
    }
    if (!cont) text = head;
    else {
        size_t a = strlen(head), b = strlen(m[n - 1].content);
        text = olmo_malloc(a + b + 1);
        if (text) {
            memcpy(text, head, a);
            memcpy(text + a, m[n - 1].content, b + 1);
        }
        free(head);
    }
out:
    for (size_t i = 0; own && i < n; i++) free(own[i]);
    free(own);
    free(m);
    return text;
}

/* Completions prompt: string, [string], [ids] or [[ids]] (one prompt: n and several prompts are not supported). */
static int completion_prompt(const struct serve_ctx *sc, json_t *p, struct serve_req *r, struct serve_err *e) {
    if (!p) return BAD("prompt", "'prompt' is required");
    if (json_is_array(p) && json_array_size(p) == 1 &&
        (json_is_string(json_array_get(p, 0)) || json_is_array(json_array_get(p, 0))))
        p = json_array_get(p, 0);
    else if (json_is_array(p) && json_array_size(p) > 1 && !json_is_integer(json_array_get(p, 0)))
        return UNSUPPORTED("prompt", "several prompts in one request are not supported; send one request each");
    if (json_is_string(p)) {
        r->prompt_text = olmo_strdup(json_string_value(p));
        if (!r->prompt_text) goto oom;
        size_t n = 0;
        /* with the tokenizer's post-processor, as `olmo generate` and HF's add_special_tokens=True (vLLM's default) */
        if (tok_encode(sc->tok, json_string_value(p), json_string_length(p), 1, &r->prompt, &n) != 0) goto oom;
        r->n_prompt = (int)n;
        return 0;
    }
    if (!json_is_array(p)) return BAD("prompt", "'prompt' must be a string, a list of token ids, or a list of one of them");
    size_t n = json_array_size(p), k;
    r->prompt = olmo_malloc((n ? n : 1) * sizeof *r->prompt);
    if (!r->prompt) goto oom;
    json_t *v;
    json_array_foreach(p, k, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= sc->model->cfg.vocab_size)
            return BAD("prompt", "prompt[%zu] is not a token id below %d", k, sc->model->cfg.vocab_size);
        r->prompt[k] = (int32_t)json_integer_value(v);
    }
    r->n_prompt = (int)n;
    r->prompt_text = tok_decode(sc->tok, r->prompt, n, 0, NULL);
    if (!r->prompt_text) goto oom;
    return 0;
oom:
    serve_err_set(e, 500, "server_error", "internal_error", NULL, "tokenizing the prompt failed");
    return -1;
}

static int parse_body(const struct serve_ctx *sc, enum serve_kind kind, json_t *o, struct serve_req *r,
                      struct serve_err *e) {
    r->kind = kind;
    if (parse_sampling(sc, o, r, e) != 0) return -1;
    long long i;
    int rc;
    if (kind == SERVE_CHAT) {
        r->max_tokens = -1;
        if ((rc = get_int(o, "max_tokens", 1, INT32_MAX, &i, e)) < 0) return -1;
        if (rc) r->max_tokens = (int)i;
        if ((rc = get_int(o, "max_completion_tokens", 1, INT32_MAX, &i, e)) < 0) return -1;
        if (rc) r->max_tokens = (int)i;
        if (get_bool(o, "logprobs", &r->logprobs, e) < 0) return -1;
        i = 0;
        if ((rc = get_int(o, "top_logprobs", 0, SERVE_MAX_TOP_LOGPROBS, &i, e)) < 0) return -1;
        if (rc && !r->logprobs) return BAD("top_logprobs", "'top_logprobs' needs 'logprobs': true");
        r->top_logprobs = (int)i;
        char *text = render_chat(sc, field(o, "messages"), e);
        if (!text) return -1;
        size_t n = 0;
        rc = tok_encode(sc->tok, text, strlen(text), 0, &r->prompt, &n);   /* the template wrote BOS itself */
        free(text);
        if (rc != 0) {
            serve_err_set(e, 500, "server_error", "internal_error", NULL, "tokenizing the prompt failed");
            return -1;
        }
        r->n_prompt = (int)n;
    } else {
        r->max_tokens = 16;
        if ((rc = get_int(o, "max_tokens", 0, INT32_MAX, &i, e)) < 0) return -1;
        if (rc) r->max_tokens = (int)i;
        if (get_bool(o, "echo", &r->echo, e) < 0) return -1;
        if (r->max_tokens == 0 && !r->echo) return BAD("max_tokens", "'max_tokens' 0 needs 'echo': true");
        if ((rc = get_int(o, "logprobs", 0, 5, &i, e)) < 0) return -1;
        if (rc) {
            r->logprobs = 1;
            r->top_logprobs = (int)i;
        }
        json_t *sfx = field(o, "suffix");
        if (sfx && !(json_is_string(sfx) && json_string_length(sfx) == 0))
            return UNSUPPORTED("suffix", "'suffix' (insertion) is not supported");
        i = 1;
        if (get_int(o, "best_of", 1, 16, &i, e) < 0) return -1;
        if (i != 1) return UNSUPPORTED("best_of", "'best_of' other than 1 is not supported");
        if (completion_prompt(sc, field(o, "prompt"), r, e) != 0) return -1;
    }
    if (r->n_prompt < 1) return BAD(kind == SERVE_CHAT ? "messages" : "prompt", "the prompt is empty");
    if (r->n_prompt >= sc->ctx) {
        serve_err_set(e, 400, "invalid_request_error", "context_length_exceeded", kind == SERVE_CHAT ? "messages" : "prompt",
                      "the prompt has %d tokens; this server's context is %d per request (prompt + completion)",
                      r->n_prompt, sc->ctx);
        e->n_prompt_tokens = r->n_prompt;
        e->n_ctx = sc->ctx;
        return -1;
    }
    return 0;
}

static void random_id(char *out, size_t cap, const char *prefix) {
    unsigned char b[12];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
        for (size_t i = 0; i < sizeof b; i++) b[i] = (unsigned char)rand();
    size_t at = (size_t)snprintf(out, cap, "%s", prefix);
    for (size_t i = 0; i < sizeof b && at + 2 < cap; i++) at += (size_t)snprintf(out + at, cap - at, "%02x", b[i]);
}

int serve_request_parse(const struct serve_ctx *sc, enum serve_kind kind, const char *body, size_t len,
                        struct serve_task **out, struct serve_err *e) {
    *out = NULL;
    json_error_t je;
    json_t *o = json_loadb(body, len, 0, &je);
    if (!o || !json_is_object(o)) {
        if (o) serve_err_set(e, 400, "invalid_request_error", "invalid_json", NULL, "the request body must be a JSON object");
        else serve_err_set(e, 400, "invalid_request_error", "invalid_json", NULL, "the request body is not JSON: %s at line %d column %d",
                           je.text, je.line, je.column);
        json_decref(o);
        return -1;
    }
    struct serve_task *t = olmo_calloc(1, sizeof *t);
    if (!t) {
        json_decref(o);
        serve_err_set(e, 500, "server_error", "internal_error", NULL, "out of memory");
        return -1;
    }
    int rc = parse_body(sc, kind, o, &t->req, e);
    json_decref(o);
    if (rc != 0) {
        serve_req_free(&t->req);
        free(t);
        return -1;
    }
    t->sc = sc;
    t->fd = -1;
    atomic_init(&t->refs, 1);
    atomic_init(&t->cancelled, 0);
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    random_id(t->id, sizeof t->id, kind == SERVE_CHAT ? "chatcmpl-" : "cmpl-");
    t->created = (long long)time(NULL);
    t->lp = json_array();
    *out = t;
    return 0;
}

void serve_req_free(struct serve_req *r) {
    free(r->prompt);
    free(r->prompt_text);
    for (int i = 0; i < r->n_stop; i++) free(r->stop[i]);
    free(r->bias_id);
    free(r->bias_val);
    memset(r, 0, sizeof *r);
}

void serve_task_release(struct serve_task *t) {
    if (!t || atomic_fetch_sub(&t->refs, 1) != 1) return;
    serve_req_free(&t->req);
    free(t->sse);
    free(t->content);
    json_decref(t->lp);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
    free(t);
}
