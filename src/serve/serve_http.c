/* serve_http.c — the HTTP side of `olmo serve` on libmicrohttpd (spec §2, §7, §9, §11), and serve_run.
 *
 * libmicrohttpd runs one thread per connection (MHD_USE_THREAD_PER_CONNECTION), so a handler may block: a
 * non-streaming request waits on its task's condvar, a stream's content reader waits for the next chunk. Both
 * poll the client socket for a hang-up (POLLRDHUP) every 100 ms and cancel the task when it is gone, which frees
 * the slot at the scheduler's next iteration; the stream's free callback cancels too (a failed write).
 * The listener binds the address given (127.0.0.1 by default), never every interface. */
#include "serve/serve.h"
#include "serve/serve_sched.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"
#include "model/kernels/pool.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <omp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct server {
    const struct serve_opts *o;
    atomic_int ready;
    struct serve_ctx sc;
    struct serve_sched *sched;
    struct olmo_model model;
    struct olmo_tokenizer *tok;
    struct hf_tokenizer_config tok_cfg;
    struct hf_generation_config gen_cfg;
    struct chat_template ct;
    int have_ct;
    char model_id[256];
    long long created;
};

/* Per request: the body as it arrives. */
struct conn_req {
    char *body;
    size_t len, cap;
    int too_large;
};

/* ---- responses ------------------------------------------------------------------------------------------- */

static void add_cors(struct server *srv, struct MHD_Connection *c, struct MHD_Response *r) {
    if (srv->o->n_cors == 0) return;
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    if (!origin) return;
    for (int i = 0; i < srv->o->n_cors; i++) {
        if (!strcmp(srv->o->cors[i], "*") || !strcmp(srv->o->cors[i], origin)) {
            MHD_add_response_header(r, "Access-Control-Allow-Origin", strcmp(srv->o->cors[i], "*") ? origin : "*");
            MHD_add_response_header(r, "Vary", "Origin");
            return;
        }
    }
}

static enum MHD_Result send_text(struct server *srv, struct MHD_Connection *c, unsigned status, const char *type,
                                 char *body, const char *h1, const char *v1, const char *h2, const char *v2) {
    struct MHD_Response *r = MHD_create_response_from_buffer(body ? strlen(body) : 0, body ? body : (char *)"",
                                                             body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    if (type) MHD_add_response_header(r, "Content-Type", type);
    if (h1) MHD_add_response_header(r, h1, v1);
    if (h2) MHD_add_response_header(r, h2, v2);
    add_cors(srv, c, r);
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result send_json(struct server *srv, struct MHD_Connection *c, unsigned status, json_t *o) {
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s) return MHD_NO;
    return send_text(srv, c, status, "application/json", s, NULL, NULL, NULL, NULL);
}

static enum MHD_Result send_err(struct server *srv, struct MHD_Connection *c, const struct serve_err *e) {
    char *s = serve_err_json(e);
    if (!s) return MHD_NO;
    if (e->status == 503 && e->code && !strcmp(e->code, "server_overloaded"))
        return send_text(srv, c, 503, "application/json", s, "Retry-After", "1", NULL, NULL);
    /* deterministic failures: tell the SDK not to retry them */
    return send_text(srv, c, (unsigned)e->status, "application/json", s,
                     e->status >= 500 && e->status != 503 ? "x-should-retry" : NULL, "false", NULL, NULL);
}

static enum MHD_Result send_error(struct server *srv, struct MHD_Connection *c, int status, const char *type,
                                  const char *code, const char *msg) {
    struct serve_err e;
    serve_err_set(&e, status, type, code, NULL, "%s", msg);
    return send_err(srv, c, &e);
}

/* ---- auth ------------------------------------------------------------------------------------------------ */

/* Compares in time that depends only on the key's length, not on where a guess first differs. */
static int ct_equal(const char *given, const char *key) {
    size_t lg = strlen(given), lk = strlen(key);
    unsigned char d = (unsigned char)(lg != lk);
    for (size_t i = 0; i < lk; i++) d |= (unsigned char)((i < lg ? (unsigned char)given[i] : 0) ^ (unsigned char)key[i]);
    return d == 0;
}

static int authorized(struct server *srv, struct MHD_Connection *c) {
    if (srv->o->n_keys == 0) return 1;
    const char *given = NULL, *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (h && !strncasecmp(h, "Bearer ", 7)) given = h + 7;
    if (!given) given = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Api-Key");
    if (!given) return 0;
    int ok = 0;
    for (int i = 0; i < srv->o->n_keys; i++) ok |= ct_equal(given, srv->o->keys[i]);   /* no early exit */
    return ok;
}

/* ---- generation requests --------------------------------------------------------------------------------- */

static int client_gone(int fd) {
    if (fd < 0) return 0;
    struct pollfd p = {.fd = fd, .events = POLLRDHUP};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

static void wait_100ms(struct serve_task *t) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 100 * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&t->cv, &t->mu, &ts);
}

struct stream_ctx {
    struct serve_task *t;
    double last_send;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
    struct stream_ctx *sx = cls;
    struct serve_task *t = sx->t;
    pthread_mutex_lock(&t->mu);
    for (;;) {
        if (t->sse_off < t->sse_len) {
            size_t n = t->sse_len - t->sse_off;
            if (n > max) n = max;
            memcpy(buf, t->sse + t->sse_off, n);
            t->sse_off += n;
            pthread_mutex_unlock(&t->mu);
            sx->last_send = olmo_now();
            return (ssize_t)n;
        }
        if (t->done) {
            pthread_mutex_unlock(&t->mu);
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
        wait_100ms(t);
        if (t->sse_off < t->sse_len || t->done) continue;
        if (client_gone(t->fd)) {
            atomic_store(&t->cancelled, 1);
            pthread_mutex_unlock(&t->mu);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        if (olmo_now() - sx->last_send > 10 && max >= 8) {   /* keeps proxies open during a long prefill */
            pthread_mutex_unlock(&t->mu);
            memcpy(buf, ": ping\n\n", 8);
            sx->last_send = olmo_now();
            return 8;
        }
    }
}

static void stream_free(void *cls) {
    struct stream_ctx *sx = cls;
    atomic_store(&sx->t->cancelled, 1);   /* no effect once done; otherwise the client is gone */
    serve_task_release(sx->t);
    free(sx);
}

static enum MHD_Result generate(struct server *srv, struct MHD_Connection *c, enum serve_kind kind, struct conn_req *cr) {
    struct serve_err e;
    struct serve_task *t;
    if (serve_request_parse(&srv->sc, kind, cr->body ? cr->body : "", cr->len, &t, &e) != 0) return send_err(srv, c, &e);
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    t->fd = ci ? ci->connect_fd : -1;
    if (serve_sched_submit(srv->sched, t) != 0) {
        serve_task_release(t);
        serve_err_set(&e, 503, "server_error", "server_overloaded", NULL,
                      "all %d slots are busy and %d requests are waiting; retry later", srv->o->parallel, srv->o->queue);
        return send_err(srv, c, &e);
    }
    if (t->req.stream) {
        struct stream_ctx *sx = olmo_calloc(1, sizeof *sx);
        if (!sx) {
            atomic_store(&t->cancelled, 1);
            serve_task_release(t);
            return MHD_NO;
        }
        sx->t = t;
        sx->last_send = olmo_now();
        struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, sx, stream_free);
        if (!r) {
            stream_free(sx);
            return MHD_NO;
        }
        MHD_add_response_header(r, "Content-Type", "text/event-stream");
        MHD_add_response_header(r, "Cache-Control", "no-cache");
        add_cors(srv, c, r);
        enum MHD_Result rc = MHD_queue_response(c, 200, r);
        MHD_destroy_response(r);
        return rc;
    }
    pthread_mutex_lock(&t->mu);
    while (!t->done) {
        wait_100ms(t);
        if (!t->done && client_gone(t->fd)) {
            atomic_store(&t->cancelled, 1);
            pthread_mutex_unlock(&t->mu);
            serve_task_release(t);
            return MHD_NO;   /* nobody to answer */
        }
    }
    pthread_mutex_unlock(&t->mu);
    enum MHD_Result rc = t->failed ? send_err(srv, c, &t->err) : send_json(srv, c, 200, serve_resp_final(t));
    serve_task_release(t);
    return rc;
}

/* ---- routing --------------------------------------------------------------------------------------------- */

static json_t *model_obj(struct server *srv) {
    json_t *m = json_pack("{s:s, s:s, s:I, s:s}", "id", srv->model_id, "object", "model", "created",
                          (json_int_t)srv->created, "owned_by", "olmo.c");
    if (atomic_load(&srv->ready))
        json_object_set_new(m, "meta", json_pack("{s:i, s:i, s:I}", "n_ctx", srv->sc.ctx, "n_vocab",
                                                 srv->model.cfg.vocab_size, "n_params", (json_int_t)srv->model.n_params));
    return m;
}

static enum MHD_Result metrics(struct server *srv, struct MHD_Connection *c) {
    struct serve_stats st;
    serve_sched_stats(srv->sched, &st);
    char *s = NULL;
    if (asprintf(&s,
                 "# olmo serve counters since start\n"
                 "olmo_requests_total %lld\nolmo_requests_cancelled_total %lld\nolmo_requests_rejected_total %lld\n"
                 "olmo_requests_deferred_total %lld\nolmo_requests_failed_total %lld\n"
                 "olmo_prompt_tokens_total %lld\nolmo_prompt_tokens_cached_total %lld\nolmo_prompt_tokens_copied_total %lld\n"
                 "olmo_tokens_predicted_total %lld\n"
                 "olmo_prompt_seconds_total %.6f\nolmo_decode_seconds_total %.6f\n"
                 "olmo_slots %d\nolmo_slots_busy %d\nolmo_requests_queued %d\n",
                 st.requests, st.cancelled, st.rejected, st.deferred, st.failed, st.prompt_tokens, st.cached_tokens, st.copied_tokens,
                 st.generated_tokens, st.prompt_s, st.decode_s, st.slots, st.busy, st.queued) < 0)
        return MHD_NO;
    return send_text(srv, c, 200, "text/plain; version=0.0.4", s, NULL, NULL, NULL, NULL);
}

static enum MHD_Result route(struct server *srv, struct MHD_Connection *c, const char *url, const char *method,
                             struct conn_req *cr) {
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), post = !strcmp(method, "POST");
    if (!strcmp(method, "OPTIONS")) {   /* CORS preflight */
        if (srv->o->n_cors == 0) return send_text(srv, c, 204, NULL, NULL, "Allow", "GET, POST, OPTIONS", NULL, NULL);
        return send_text(srv, c, 204, NULL, NULL, "Access-Control-Allow-Methods", "GET, POST, OPTIONS",
                         "Access-Control-Allow-Headers", "Authorization, Content-Type, X-Api-Key");
    }
    if (!strcmp(url, "/health") || !strcmp(url, "/v1/health")) {
        if (!get) return send_text(srv, c, 405, "application/json", serve_err_json(&(struct serve_err){405, "invalid_request_error", "method_not_allowed", "", "use GET", 0, 0}), "Allow", "GET", NULL, NULL);
        if (!atomic_load(&srv->ready)) return send_error(srv, c, 503, "unavailable_error", "model_loading", "the model is loading");
        return send_json(srv, c, 200, json_pack("{s:s}", "status", "ok"));
    }
    if (!authorized(srv, c))
        return send_error(srv, c, 401, "authentication_error", "invalid_api_key",
                          "missing or wrong API key (send Authorization: Bearer KEY or X-Api-Key: KEY)");
    int is_post_path = !strcmp(url, "/v1/chat/completions") || !strcmp(url, "/chat/completions") ||
                       !strcmp(url, "/v1/completions") || !strcmp(url, "/completions");
    int is_get_path = !strcmp(url, "/v1/models") || !strcmp(url, "/models") || !strncmp(url, "/v1/models/", 11) ||
                      !strcmp(url, "/metrics");
    if ((is_post_path && !post) || (is_get_path && !get)) {
        struct serve_err e;
        serve_err_set(&e, 405, "invalid_request_error", "method_not_allowed", NULL, "%s %s: use %s", method, url,
                      is_post_path ? "POST" : "GET");
        return send_text(srv, c, 405, "application/json", serve_err_json(&e), "Allow", is_post_path ? "POST" : "GET",
                         NULL, NULL);
    }
    if (is_post_path && cr->too_large) {
        struct serve_err e;
        serve_err_set(&e, 413, "invalid_request_error", "request_too_large", NULL,
                      "the request body is larger than the server's limit of %zu bytes (--max-body)", srv->o->max_body);
        return send_err(srv, c, &e);
    }
    if (!atomic_load(&srv->ready) && (is_post_path || !strcmp(url, "/metrics")))
        return send_error(srv, c, 503, "unavailable_error", "model_loading", "the model is loading");
    if (!strcmp(url, "/v1/models") || !strcmp(url, "/models"))
        return send_json(srv, c, 200, json_pack("{s:s, s:[o]}", "object", "list", "data", model_obj(srv)));
    if (!strncmp(url, "/v1/models/", 11)) {
        if (strcmp(url + 11, srv->model_id)) {
            struct serve_err e;
            serve_err_set(&e, 404, "not_found_error", "not_found", "model", "this server has no model '%.100s'", url + 11);
            return send_err(srv, c, &e);
        }
        return send_json(srv, c, 200, model_obj(srv));
    }
    if (!strcmp(url, "/metrics")) return metrics(srv, c);
    if (!strcmp(url, "/v1/chat/completions") || !strcmp(url, "/chat/completions")) return generate(srv, c, SERVE_CHAT, cr);
    if (!strcmp(url, "/v1/completions") || !strcmp(url, "/completions")) return generate(srv, c, SERVE_COMPLETION, cr);
    struct serve_err e;
    serve_err_set(&e, 404, "not_found_error", "not_found", NULL, "no such endpoint: %s %.200s", method, url);
    return send_err(srv, c, &e);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    struct server *srv = cls;
    struct conn_req *cr = *con_cls;
    if (!cr) {
        cr = calloc(1, sizeof *cr);
        if (!cr) return MHD_NO;
        *con_cls = cr;
        return MHD_YES;
    }
    if (*upload_size) {   /* a piece of the body: keep it unless over the limit (then discard, answer 413) */
        size_t n = *upload_size;
        *upload_size = 0;
        if (cr->too_large || cr->len + n > srv->o->max_body) {
            cr->too_large = 1;
            free(cr->body);
            cr->body = NULL;
            cr->len = cr->cap = 0;
            return MHD_YES;
        }
        if (cr->len + n + 1 > cr->cap) {
            size_t cap = cr->cap ? cr->cap : 4096;
            while (cap < cr->len + n + 1) cap *= 2;
            char *b = realloc(cr->body, cap);
            if (!b) return MHD_NO;
            cr->body = b;
            cr->cap = cap;
        }
        memcpy(cr->body + cr->len, upload, n);
        cr->len += n;
        cr->body[cr->len] = 0;
        return MHD_YES;
    }
    return route(srv, c, url, method, cr);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
    struct conn_req *cr = *con_cls;
    if (cr) free(cr->body);
    free(cr);
    *con_cls = NULL;
}

/* ---- loading and running --------------------------------------------------------------------------------- */

static int load(struct server *srv) {
    const struct serve_opts *o = srv->o;
    if (o->threads > 0) {
        omp_set_num_threads(o->threads);
        olmo_pool_set_threads(o->threads);
    }
    double t0 = olmo_now();
    struct model_load_opts lo = {.quant = (enum olmo_quant)o->quant};
    if (model_load(&srv->model, o->dir, &lo) != 0) return -1;
    char *tp = olmo_path_join(o->dir, "tokenizer.json");
    srv->tok = tp ? tok_load(tp) : NULL;
    free(tp);
    if (!srv->tok || hf_tokenizer_config_load(&srv->tok_cfg, o->dir) != 0 || hf_generation_config_load(&srv->gen_cfg, o->dir) != 0)
        return -1;
    if (srv->tok_cfg.chat_template) {
        if (chat_template_init(&srv->ct, &srv->tok_cfg) == 0) srv->have_ct = 1;
        else olmo_log_warn("%s: %s; /v1/chat/completions will answer 400", o->dir, olmo_errmsg());
    } else olmo_log_info("%s has no chat template: /v1/chat/completions will answer 400", o->dir);
    struct serve_ctx *sc = &srv->sc;
    sc->model = &srv->model;
    sc->tok = srv->tok;
    sc->ct = srv->have_ct ? &srv->ct : NULL;
    sc->gen_cfg = &srv->gen_cfg;
    sc->model_id = srv->model_id;
    sc->ctx = o->ctx > 0 ? o->ctx : srv->model.cfg.max_seq_len < 4096 ? srv->model.cfg.max_seq_len : 4096;
    /* end-of-turn tokens: generation_config's list, config.json's eos, the eos_token string, and <|im_end|> */
    int32_t cand[HF_MAX_EOS + 3];
    int nc = 0;
    for (int i = 0; i < srv->gen_cfg.n_eos; i++) cand[nc++] = srv->gen_cfg.eos_token_ids[i];
    cand[nc++] = srv->model.cfg.eos_token_id;
    cand[nc++] = srv->tok_cfg.eos_token ? tok_token_to_id(srv->tok, srv->tok_cfg.eos_token) : -1;
    cand[nc++] = tok_token_to_id(srv->tok, "<|im_end|>");
    for (int i = 0; i < nc; i++) {
        int dup = cand[i] < 0;
        for (int j = 0; j < sc->n_stop_ids && !dup; j++) dup = sc->stop_ids[j] == cand[i];
        if (!dup && sc->n_stop_ids < SERVE_STOP_TOKENS) sc->stop_ids[sc->n_stop_ids++] = cand[i];
    }
    srv->sched = serve_sched_start(sc, o->parallel, o->queue, o->kv_dtype);
    if (!srv->sched) return -1;
    olmo_log_info("loaded %s in %.2f s: %s, %d layers, d=%d, %s weights; %d slots × %d positions, KV cache %.1f MB in all, "
                  "queue %d", o->dir, olmo_now() - t0, hf_model_type(srv->model.cfg.arch), srv->model.cfg.n_layers,
                  srv->model.cfg.d_model, o->quant == OLMO_QUANT_Q8 ? "Q8" : o->quant == OLMO_QUANT_Q4 ? "Q4" : srv->model.dtype_name, o->parallel, sc->ctx,
                  serve_sched_kv_bytes(srv->sched) / 1e6, o->queue);
    return 0;
}

static int bind_addr(const char *host, int port, struct sockaddr_storage *ss, int *v6) {
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *v6 = 0;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *v6 = 1;
        return 0;
    }
    if (!strcmp(host, "localhost")) return bind_addr("127.0.0.1", port, ss, v6);
    return olmo_err("--host '%s': expected a numeric IPv4 or IPv6 address (e.g. 127.0.0.1, 0.0.0.0, ::1)", host);
}

static int is_loopback(const char *host) {
    return !strncmp(host, "127.", 4) || !strcmp(host, "::1") || !strcmp(host, "localhost");
}

int serve_run(const struct serve_opts *o) {
    struct server *srv = olmo_calloc(1, sizeof *srv);
    if (!srv) return -1;
    srv->o = o;
    srv->created = (long long)time(NULL);
    if (o->alias) snprintf(srv->model_id, sizeof srv->model_id, "%s", o->alias);
    else {
        size_t n = strlen(o->dir);
        while (n > 1 && o->dir[n - 1] == '/') n--;
        size_t b = n;
        while (b > 0 && o->dir[b - 1] != '/') b--;
        snprintf(srv->model_id, sizeof srv->model_id, "%.*s", (int)(n - b), o->dir + b);
    }
    struct sockaddr_storage ss;
    int v6 = 0, rc = -1;
    if (bind_addr(o->host, o->port, &ss, &v6) != 0) {
        free(srv);
        return -1;
    }
    if (!is_loopback(o->host) && o->n_keys == 0)
        olmo_log_warn("listening on %s without an API key: anyone who can reach this address can use the model "
                      "(--api-key KEY or OLMO_API_KEY)", o->host);
    /* SIGINT/SIGTERM are taken with sigwait below: block them before any thread starts so all inherit the mask */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG |
                     (v6 ? MHD_USE_IPv6 : 0);
    int conns = o->max_conns > 0 ? o->max_conns : 64;
    struct MHD_Daemon *d = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL, on_request, srv,
                                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)conns,
                                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)(conns > 2 ? conns / 2 : 1),
                                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->timeout_s,
                                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_END);
    if (!d) {
        olmo_err_errno("serve: cannot listen on %s port %d", o->host, o->port);
        free(srv);
        return -1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    int port = di ? di->port : o->port;
    olmo_log_info("listening on http://%s%s%s:%d (model %s loading)", v6 ? "[" : "", o->host, v6 ? "]" : "", port,
                  srv->model_id);
    if (o->port_file) {
        char buf[32];
        snprintf(buf, sizeof buf, "%d\n", port);
        if (olmo_write_file_atomic(o->port_file, buf, strlen(buf)) != 0) goto out;
    }
    if (load(srv) != 0) goto out;
    atomic_store(&srv->ready, 1);
    olmo_log_info("ready: http://%s%s%s:%d/v1 serves model '%s'", v6 ? "[" : "", o->host, v6 ? "]" : "", port,
                  srv->model_id);
    int sig;
    sigwait(&sigs, &sig);
    olmo_log_info("signal %d: stopping", sig);
    rc = 0;
out:
    /* fail what runs (waiting handlers wake up), then join the connection threads, then free */
    serve_sched_stop(srv->sched);
    MHD_stop_daemon(d);
    serve_sched_free(srv->sched);
    if (srv->have_ct) chat_template_free(&srv->ct);
    if (srv->tok) tok_free(srv->tok);
    hf_tokenizer_config_free(&srv->tok_cfg);
    model_free(&srv->model);
    free(srv);
    return rc;
}
