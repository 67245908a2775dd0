/* serve_resp.c — the JSON bodies of chat and text completions, whole and as stream chunks (spec §3–§6).
 * Streaming chunks and the final body are built from the same task fields, so joined deltas equal the
 * non-streaming content of the same greedy request. */
#include "serve/serve_task.h"

const char *serve_fingerprint = "olmo.c";

const char *serve_finish_name(enum serve_finish f) {
    return f == FINISH_STOP ? "stop" : f == FINISH_LENGTH ? "length" : NULL;
}

json_t *serve_resp_usage(const struct serve_task *t) {
    int p = t->req.n_prompt, c = t->completion_tokens;
    return json_pack("{s:i, s:i, s:i, s:{s:i}}", "prompt_tokens", p, "completion_tokens", c, "total_tokens", p + c,
                     "prompt_tokens_details", "cached_tokens", t->cached_tokens);
}

json_t *serve_resp_timings(const struct serve_task *t) {
    int pn = t->prompt_n, dn = t->completion_tokens;
    double pm = t->prompt_ms, dm = t->predicted_ms;
    return json_pack("{s:i, s:i, s:f, s:f, s:f, s:i, s:f, s:f, s:f}", "cache_n", t->cached_tokens, "prompt_n", pn,
                     "prompt_ms", pm, "prompt_per_token_ms", pn ? pm / pn : 0.0, "prompt_per_second",
                     pm > 0 ? pn * 1e3 / pm : 0.0, "predicted_n", dn, "predicted_ms", dm, "predicted_per_token_ms",
                     dn ? dm / dn : 0.0, "predicted_per_second", dm > 0 ? dn * 1e3 / dm : 0.0);
}

static json_t *head(const struct serve_task *t, const char *object) {
    return json_pack("{s:s, s:s, s:I, s:s, s:s}", "id", t->id, "object", object, "created", (json_int_t)t->created,
                     "model", t->sc->model_id, "system_fingerprint", serve_fingerprint);
}

static json_t *finish_json(enum serve_finish f) {
    const char *s = serve_finish_name(f);
    return s ? json_string(s) : json_null();
}

json_t *serve_resp_final(const struct serve_task *t) {
    int chat = t->req.kind == SERVE_CHAT;
    json_t *o = head(t, chat ? "chat.completion" : "text_completion");
    json_t *lp = json_null();
    if (t->req.logprobs) lp = chat ? json_pack("{s:O, s:n}", "content", t->lp, "refusal") : json_incref(t->lp);
    const char *text = t->content ? t->content : "";
    json_t *choice = chat ? json_pack("{s:i, s:{s:s, s:s%}, s:o, s:o}", "index", 0, "message", "role", "assistant",
                                      "content", text, t->content_len, "logprobs", lp, "finish_reason", finish_json(t->finish))
                          : json_pack("{s:i, s:s%, s:o, s:o}", "index", 0, "text", text, t->content_len, "logprobs", lp,
                                      "finish_reason", finish_json(t->finish));
    json_object_set_new(o, "choices", json_pack("[o]", choice));
    json_object_set_new(o, "usage", serve_resp_usage(t));
    json_object_set_new(o, "timings", serve_resp_timings(t));
    return o;
}

json_t *serve_resp_chunk(const struct serve_task *t, const char *text, size_t n, json_t *logprobs,
                         enum serve_finish finish, int role) {
    int chat = t->req.kind == SERVE_CHAT;
    json_t *o = head(t, chat ? "chat.completion.chunk" : "text_completion");
    json_t *lp = json_null();
    if (logprobs) lp = chat ? json_pack("{s:o, s:n}", "content", logprobs, "refusal") : logprobs;
    json_t *choice;
    if (chat) {
        json_t *delta = json_object();
        if (role) json_object_set_new(delta, "role", json_string("assistant"));
        if (text) json_object_set_new(delta, "content", json_stringn(text, n));
        choice = json_pack("{s:i, s:o, s:o, s:o}", "index", 0, "delta", delta, "logprobs", lp, "finish_reason",
                           finish_json(finish));
    } else {
        choice = json_pack("{s:i, s:s%, s:o, s:o}", "index", 0, "text", text ? text : "", text ? n : 0, "logprobs", lp,
                           "finish_reason", finish_json(finish));
    }
    json_object_set_new(o, "choices", json_pack("[o]", choice));
    if (t->req.include_usage) json_object_set_new(o, "usage", json_null());
    if (finish) json_object_set_new(o, "timings", serve_resp_timings(t));
    return o;
}
