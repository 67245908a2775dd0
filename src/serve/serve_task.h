/* serve_task.h — what the HTTP threads and the scheduler thread share: the model context, a validated request,
 * and the task that carries it to a slot and its output back.
 *
 * A task is created by an HTTP thread (serve_request_parse), handed to the scheduler (serve_sched_submit) and
 * reference-counted by both: the HTTP side waits on task->cv for output, the scheduler appends output and sets
 * done. A client that goes away sets `cancelled`; the scheduler retires the task at its next iteration. */
#ifndef OLMO_SERVE_SERVE_TASK_H
#define OLMO_SERVE_SERVE_TASK_H

#include "formats/hf_config.h"
#include "model/chat_template.h"
#include "model/model.h"
#include "model/utf8_stream.h"
#include "tokenizer/tokenizer.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#define SERVE_MAX_STOP_STR 4
#define SERVE_MAX_TOP_LOGPROBS 20
#define SERVE_STOP_TOKENS 16

/* Everything about the loaded checkpoint that request handling needs (read-only once serving). */
struct serve_ctx {
    const struct olmo_model *model;
    const struct olmo_tokenizer *tok;
    const struct chat_template *ct;          /* NULL: the checkpoint has no chat template (chat → 400) */
    const struct hf_generation_config *gen_cfg;
    const char *model_id;
    int ctx;                                 /* positions per slot */
    int32_t stop_ids[SERVE_STOP_TOKENS];     /* end-of-turn tokens */
    int n_stop_ids;
};

/* An OpenAI error (spec §7). */
struct serve_err {
    int status;
    const char *type, *code;
    char param[64];                          /* "" → null */
    char msg[512];
    int n_prompt_tokens, n_ctx;              /* context_length_exceeded extras (0: absent) */
};

enum serve_kind { SERVE_CHAT = 1, SERVE_COMPLETION = 2 };

struct serve_req {
    enum serve_kind kind;
    int32_t *prompt;                         /* rendered, tokenized prompt */
    int n_prompt;
    char *prompt_text;                       /* completions with echo: the prompt as text */
    float temperature, top_p;
    int top_k;
    uint64_t seed;
    float presence_penalty, frequency_penalty;
    int max_tokens;                          /* new tokens at most; -1: until a stop or the context is full */
    char *stop[SERVE_MAX_STOP_STR];
    int n_stop;
    int stream, include_usage;
    int logprobs, top_logprobs;              /* logprobs: 0/1; top_logprobs: alternatives per token */
    int echo;
    int n_bias;
    int32_t *bias_id;
    float *bias_val;
};

enum serve_finish { FINISH_NONE = 0, FINISH_STOP, FINISH_LENGTH };

struct serve_task {
    struct serve_req req;
    char id[48];                             /* "chatcmpl-…" / "cmpl-…" */
    long long created;
    const struct serve_ctx *sc;
    int fd;                                  /* client socket, polled for a hang-up (-1: unknown) */
    atomic_int cancelled;
    atomic_int refs;

    pthread_mutex_t mu;                      /* guards everything below */
    pthread_cond_t cv;
    char *sse;                               /* streaming: bytes not yet handed to the client */
    size_t sse_len, sse_cap, sse_off;
    char *content;                           /* non-streaming: the whole text */
    size_t content_len, content_cap;
    json_t *lp;                              /* logprob entries (chat: content list; completions: legacy arrays) */
    enum serve_finish finish;
    int done;
    int failed;                              /* an error after admission: err holds it */
    struct serve_err err;
    int cached_tokens, completion_tokens;
    double prompt_ms, predicted_ms;
    int prompt_n;                            /* prompt tokens computed (not reused) */
};

/* serve_request.c */
void serve_err_set(struct serve_err *e, int status, const char *type, const char *code, const char *param,
                   const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* {"error":{…}} for e (caller frees). */
char *serve_err_json(const struct serve_err *e);
/* Parses and validates a request body for `kind`; 0 and *t (refs 1) or -1 and *e. */
int serve_request_parse(const struct serve_ctx *sc, enum serve_kind kind, const char *body, size_t len,
                        struct serve_task **t, struct serve_err *e);
void serve_req_free(struct serve_req *r);
void serve_task_release(struct serve_task *t);   /* drops one reference, frees at zero */

/* serve_text.c */
/* How many bytes of text[0..len) can be sent given stop strings, sending having reached `sent`: the position
 * of the first stop string at or after `sent` (*hit = 1), else len minus the longest tail that could begin one. */
size_t serve_stop_scan(const char *text, size_t len, size_t sent, char *const *stops, int n_stops, int *hit);
/* Lossy UTF-8 of bytes[0..n) as a jansson string (invalid sequences → U+FFFD). */
json_t *serve_json_lossy(const char *bytes, size_t n);
/* Appends to the task's outbox; the caller holds t->mu. */
int serve_task_append_sse(struct serve_task *t, const char *data, size_t n);
int serve_task_append_content(struct serve_task *t, const char *data, size_t n);
/* "data: <json>\n\n" for obj appended to the SSE outbox (steals obj); the caller holds t->mu. */
int serve_task_send_event(struct serve_task *t, json_t *obj);

#endif

/* serve_resp.c — the response bodies (spec §3–§6). */
/* The non-streaming answer for a finished task. */
json_t *serve_resp_final(const struct serve_task *t);
/* One streaming chunk: text (may be NULL) and logprobs (stolen, may be NULL), finish_reason when finish is set. */
json_t *serve_resp_chunk(const struct serve_task *t, const char *text, size_t n, json_t *logprobs,
                         enum serve_finish finish, int role);
json_t *serve_resp_usage(const struct serve_task *t);
json_t *serve_resp_timings(const struct serve_task *t);
const char *serve_finish_name(enum serve_finish f);
extern const char *serve_fingerprint;
