/* fuzz_serve_request.c — libFuzzer target for `olmo serve`'s request handling: any body, as chat and as text
 * completion, against the tiny olmo2_gen fixture (run from the repository root). An accepted request must satisfy
 * what the scheduler relies on (a prompt of 1..ctx-1 valid token ids, limits in range) and its response body must
 * build; a refused one must carry a 4xx/5xx OpenAI error that serialises.
 *   make fuzz FUZZ_SECONDS=180   (seeds: fuzz/seeds/serve_request/) */
#include "base/file.h"
#include "serve/serve_task.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct serve_ctx sc;

static int setup(void) {
    static int state;
    if (state) return state;
    static struct olmo_model m;
    static struct hf_tokenizer_config tc;
    static struct hf_generation_config gc;
    static struct chat_template ct;
    const char *dir = "tests/fixtures/model/olmo2_gen";
    struct olmo_tokenizer *tok = tok_load("tests/fixtures/model/olmo2_gen/tokenizer.json");
    if (!tok || model_load(&m, dir, NULL) != 0 || hf_tokenizer_config_load(&tc, dir) != 0 ||
        hf_generation_config_load(&gc, dir) != 0 || chat_template_init(&ct, &tc) != 0) {
        fprintf(stderr, "fuzz_serve_request: run from the repository root (needs %s)\n", dir);
        abort();
    }
    sc = (struct serve_ctx){.model = &m, .tok = tok, .ct = &ct, .gen_cfg = &gc, .model_id = "fuzz", .ctx = 64};
    return state = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    setup();
    for (int k = SERVE_CHAT; k <= SERVE_COMPLETION; k++) {
        struct serve_task *t = NULL;
        struct serve_err e;
        if (serve_request_parse(&sc, (enum serve_kind)k, (const char *)data, size, &t, &e) == 0) {
            const struct serve_req *r = &t->req;
            if (r->n_prompt < 1 || r->n_prompt >= sc.ctx || r->max_tokens < -1 || r->n_stop > SERVE_MAX_STOP_STR ||
                r->top_logprobs < 0 || r->top_logprobs > SERVE_MAX_TOP_LOGPROBS || !(r->top_p > 0 && r->top_p <= 1) ||
                !(r->temperature >= 0 && r->temperature <= 2))
                abort();
            for (int i = 0; i < r->n_prompt; i++)
                if (r->prompt[i] < 0 || r->prompt[i] >= sc.model->cfg.vocab_size) abort();
            for (int i = 0; i < r->n_bias; i++)
                if (r->bias_id[i] < 0 || r->bias_id[i] >= sc.model->cfg.vocab_size) abort();
            json_t *o = serve_resp_final(t);
            char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
            if (!s) abort();
            free(s);
            json_decref(o);
            serve_task_release(t);
        } else {
            if (e.status < 400 || e.status > 599 || !e.type) abort();
            char *s = serve_err_json(&e);
            if (!s) abort();
            free(s);
        }
    }
    return 0;
}
