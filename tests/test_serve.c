/* test_serve.c — the pure parts of `olmo serve`: stop-string hold-back, lossy JSON strings, and request validation
 * (every error's status/type/code/param) against the tiny olmo2_gen fixture. The HTTP side is tests/serve.test.sh. */
#include "harness.h"
#include "base/error.h"
#include "base/file.h"
#include "serve/serve_task.h"

#include <stdlib.h>
#include <string.h>

TEST(serve_stop_scan_holds_back_possible_starts) {
    char *stops[] = {"END", "ab\xC3\xA9"};
    int hit;
    CHECK_EQ_INT((int)serve_stop_scan("hello", 5, 0, stops, 2, &hit), 5);
    CHECK(!hit);
    CHECK_EQ_INT((int)serve_stop_scan("hello E", 7, 0, stops, 2, &hit), 6);   /* "E" may begin "END" */
    CHECK(!hit);
    CHECK_EQ_INT((int)serve_stop_scan("hello EN", 8, 6, stops, 2, &hit), 6);
    CHECK_EQ_INT((int)serve_stop_scan("hello ENDx", 10, 6, stops, 2, &hit), 6);
    CHECK(hit);
    CHECK_EQ_INT((int)serve_stop_scan("xab\xC3", 4, 0, stops, 2, &hit), 1);   /* partial multi-byte stop */
    CHECK(!hit);
    CHECK_EQ_INT((int)serve_stop_scan("END", 3, 0, stops, 0, &hit), 3);        /* no stop strings */
    CHECK_EQ_INT((int)serve_stop_scan("aENDbEND", 8, 0, stops, 1, &hit), 1);   /* the first occurrence */
    CHECK(hit);
}

TEST(serve_json_lossy_replaces_invalid_utf8) {
    json_t *s = serve_json_lossy("a\xE2\x82", 3);
    CHECK(s && !strcmp(json_string_value(s), "a\xEF\xBF\xBD"));
    json_decref(s);
    s = serve_json_lossy("ok", 2);
    CHECK(s && !strcmp(json_string_value(s), "ok"));
    json_decref(s);
}

static struct {
    struct olmo_model m;
    struct olmo_tokenizer *tok;
    struct hf_tokenizer_config tc;
    struct hf_generation_config gc;
    struct chat_template ct;
    struct serve_ctx sc;
} F;

static int fixture(void) {
    static int state;   /* 0 not tried, 1 ok, -1 failed */
    if (state) return state;
    const char *dir = "tests/fixtures/model/olmo2_gen";
    state = -1;
    if (model_load(&F.m, dir, NULL) != 0) return state;
    F.tok = tok_load("tests/fixtures/model/olmo2_gen/tokenizer.json");
    if (!F.tok || hf_tokenizer_config_load(&F.tc, dir) != 0 || hf_generation_config_load(&F.gc, dir) != 0 ||
        chat_template_init(&F.ct, &F.tc) != 0)
        return state;
    F.sc = (struct serve_ctx){.model = &F.m, .tok = F.tok, .ct = &F.ct, .gen_cfg = &F.gc, .model_id = "m", .ctx = 64};
    return state = 1;
}

/* Parses body; returns the task (caller releases) or NULL with *e set. */
static struct serve_task *parse(enum serve_kind k, const char *body, struct serve_err *e) {
    struct serve_task *t = NULL;
    memset(e, 0, sizeof *e);
    if (serve_request_parse(&F.sc, k, body, strlen(body), &t, e) != 0) return NULL;
    return t;
}

static int is_err(enum serve_kind k, const char *body, int status, const char *code, const char *param) {
    struct serve_err e;
    struct serve_task *t = parse(k, body, &e);
    if (t) {
        serve_task_release(t);
        fprintf(stderr, "  accepted: %s\n", body);
        return 0;
    }
    int ok = e.status == status && e.code && !strcmp(e.code, code) && (!param || !strcmp(e.param, param));
    if (!ok) fprintf(stderr, "  %s → %d %s param '%s': %s\n", body, e.status, e.code ? e.code : "-", e.param, e.msg);
    return ok;
}

#define CHAT SERVE_CHAT
#define CMPL SERVE_COMPLETION

TEST(serve_request_errors) {
    if (fixture() < 0) SKIP("fixture: %s", olmo_errmsg());
    CHECK(is_err(CHAT, "{", 400, "invalid_json", NULL));
    CHECK(is_err(CHAT, "[1,2]", 400, "invalid_json", NULL));
    CHECK(is_err(CHAT, "{}", 400, "invalid_value", "messages"));
    {   /* a parse error quoting invalid UTF-8 still gives a valid error body (found by fuzz_serve_request) */
        struct serve_err e;
        CHECK(!parse(CHAT, "{\"per\\\xC2\x99on\"}", &e) && e.status == 400);
        char *j = serve_err_json(&e);
        CHECK(j != NULL);
        free(j);
    }
    CHECK(is_err(CHAT, "{\"messages\":[]}", 400, "invalid_value", "messages"));
    CHECK(is_err(CHAT, "{\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}", 400, "invalid_value", "messages"));
    CHECK(is_err(CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]}", 400,
                 "unsupported_parameter", "messages"));
    const char *m = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],";
    char b[512];
#define WITH(extra) (snprintf(b, sizeof b, "%s%s}", m, extra), b)
    CHECK(is_err(CHAT, WITH("\"temperature\":2.5"), 400, "invalid_value", "temperature"));
    CHECK(is_err(CHAT, WITH("\"temperature\":\"hot\""), 400, "invalid_value", "temperature"));
    CHECK(is_err(CHAT, WITH("\"top_p\":0"), 400, "invalid_value", "top_p"));
    CHECK(is_err(CHAT, WITH("\"max_tokens\":0"), 400, "invalid_value", "max_tokens"));
    CHECK(is_err(CHAT, WITH("\"max_tokens\":1.5"), 400, "invalid_value", "max_tokens"));
    CHECK(is_err(CHAT, WITH("\"n\":3"), 400, "unsupported_parameter", "n"));
    CHECK(is_err(CHAT, WITH("\"n\":17"), 400, "invalid_value", "n"));
    CHECK(is_err(CHAT, WITH("\"top_logprobs\":2"), 400, "invalid_value", "top_logprobs"));
    CHECK(is_err(CHAT, WITH("\"logprobs\":true,\"top_logprobs\":21"), 400, "invalid_value", "top_logprobs"));
    CHECK(is_err(CHAT, WITH("\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]"), 400, "invalid_value", "stop"));
    CHECK(is_err(CHAT, WITH("\"stop\":[1]"), 400, "invalid_value", "stop"));
    CHECK(is_err(CHAT, WITH("\"logit_bias\":{\"99999\":1}"), 400, "invalid_value", "logit_bias"));
    CHECK(is_err(CHAT, WITH("\"logit_bias\":{\"5\":101}"), 400, "invalid_value", "logit_bias"));
    CHECK(is_err(CHAT, WITH("\"presence_penalty\":3"), 400, "invalid_value", "presence_penalty"));
    CHECK(is_err(CHAT, WITH("\"tools\":[{\"type\":\"function\"}]"), 400, "unsupported_parameter", "tools"));
    CHECK(is_err(CHAT, WITH("\"response_format\":{\"type\":\"json_object\"}"), 400, "unsupported_parameter", "response_format"));
    CHECK(is_err(CHAT, WITH("\"stream_options\":1"), 400, "invalid_value", "stream_options"));
    CHECK(is_err(CMPL, "{\"prompt\":\"hi\",\"max_tokens\":0}", 400, "invalid_value", "max_tokens"));
    CHECK(is_err(CMPL, "{\"prompt\":[1,99999]}", 400, "invalid_value", "prompt"));
    CHECK(is_err(CMPL, "{\"prompt\":[\"a\",\"b\"]}", 400, "unsupported_parameter", "prompt"));
    CHECK(is_err(CMPL, "{\"prompt\":\"\"}", 400, "invalid_value", "prompt"));
    CHECK(is_err(CMPL, "{\"prompt\":\"hi\",\"logprobs\":6}", 400, "invalid_value", "logprobs"));
    CHECK(is_err(CMPL, "{\"prompt\":\"hi\",\"best_of\":2}", 400, "unsupported_parameter", "best_of"));
    CHECK(is_err(CMPL, "{}", 400, "invalid_value", "prompt"));
    /* a prompt that fills the 64-token context */
    char big[1024] = "{\"prompt\":[";
    for (int i = 0; i < 64; i++) strcat(big, i ? ",5" : "5");
    strcat(big, "]}");
    struct serve_err e;
    CHECK(!parse(CMPL, big, &e) && !strcmp(e.code, "context_length_exceeded") && e.n_prompt_tokens == 64 && e.n_ctx == 64);
    char *j = serve_err_json(&e);
    CHECK(j && strstr(j, "\"n_ctx\":64") && strstr(j, "\"type\":\"invalid_request_error\""));
    free(j);
}

TEST(serve_request_accepts_and_defaults) {
    if (fixture() < 0) SKIP("fixture: %s", olmo_errmsg());
    struct serve_err e;
    /* unknown fields ignored, null = absent, developer = system, text parts joined */
    struct serve_task *t = parse(CHAT, "{\"messages\":[{\"role\":\"developer\",\"content\":\"be brief\"},"
                                       "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hel\"},{\"type\":\"text\",\"text\":\"lo\"}]}],"
                                       "\"user\":\"u\",\"store\":false,\"metadata\":{},\"temperature\":null,\"stop\":\"\\n\","
                                       "\"max_completion_tokens\":3,\"max_tokens\":9,\"seed\":-1}", &e);
    CHECK_MSG(t != NULL, "%s", e.msg);
    if (t) {
        CHECK(t->req.max_tokens == 3 && t->req.n_stop == 1 && t->req.temperature == 1.0f && t->req.seed == UINT64_MAX);
        CHECK(!strncmp(t->id, "chatcmpl-", 9));
        char *text = tok_decode(F.tok, t->req.prompt, (size_t)t->req.n_prompt, 0, NULL);
        CHECK_MSG(text && strstr(text, "<|system|>\nbe brief\n<|user|>\nhello\n<|assistant|>\n"), "%s", text ? text : "");
        free(text);
        serve_task_release(t);
    }
    /* a final assistant message is continued, without the end-of-turn token */
    t = parse(CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"Sure\"}]}", &e);
    CHECK(t != NULL);
    if (t) {
        char *text = tok_decode(F.tok, t->req.prompt, (size_t)t->req.n_prompt, 0, NULL);
        size_t n = text ? strlen(text) : 0;
        CHECK_MSG(n >= 4 && !strcmp(text + n - 4, "Sure"), "%s", text ? text : "");
        CHECK(t->req.max_tokens == -1);
        free(text);
        serve_task_release(t);
    }
    t = parse(CMPL, "{\"prompt\":[[3,4,5]],\"echo\":true,\"max_tokens\":0,\"logprobs\":2}", &e);
    CHECK(t && t->req.n_prompt == 3 && t->req.echo && t->req.logprobs && t->req.top_logprobs == 2 && t->req.max_tokens == 0);
    if (t) serve_task_release(t);
    t = parse(CMPL, "{\"prompt\":\"hi\"}", &e);
    CHECK(t && t->req.max_tokens == 16 && !strncmp(t->id, "cmpl-", 5));
    if (t) serve_task_release(t);
}
