/* model_cli.c — shared pieces of `olmo generate` and `olmo chat` (see model_cli.h). */
#include "cli/model_cli.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "model/kernels/pool.h"

#include <omp.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

const char *model_cli_flags_help =
    "  -m, --model DIR       Hugging Face checkpoint directory (config.json, *.safetensors, tokenizer.json)\n"
    "  -n N                  most new tokens per reply (default 256)\n"
    "  --temperature T       0 = greedy (default: generation_config.json's when it sets do_sample, else 0)\n"
    "  --top-k K             keep the K most likely tokens (0 = all)\n"
    "  --top-p P             nucleus sampling mass (1 = all)\n"
    "  -s, --seed S          sampling seed (default 0)\n"
    "  -t, --threads N       compute threads (default: the cores this process may use)\n"
    "  --ctx N               context length to allocate (default: what the run needs, at most max_position_embeddings;\n"
    "                        chat: 2048 at most)\n"
    "  --quant q8|q4         convert the projection weights to int8 / 4-bit (blocks of 32, fp16 scales) at load\n"
    "  --kv-cache f32|bf16   KV cache element type (default f32; bf16 halves its memory and the bytes attention\n"
    "                        reads per token, keys and values rounded to bf16, arithmetic still fp32)\n";

/* "KV cache bf16, 512 positions, 64.0 MB" */
static const char *kv_desc(const struct olmo_state *s, char *buf, size_t n) {
    double b = (double)s->kv_bytes;
    snprintf(buf, n, "KV cache %s, %d positions, %.*f %s", model_kv_dtype_name(s->kv_dtype), s->max_seq, b >= 1e9 ? 2 : 1,
             b >= 1e9 ? b / 1e9 : b / 1e6, b >= 1e9 ? "GB" : "MB");
    return buf;
}

static int need(int argc, char **argv, int *i) {
    if (*i + 1 >= argc) return olmo_err("%s needs a value", argv[*i]);
    (*i)++;
    return 0;
}

static int num(const char *s, double lo, double hi, double *out, const char *flag) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= lo && v <= hi)) return olmo_err("%s: '%s' is not a number in [%g, %g]", flag, s, lo, hi);
    *out = v;
    return 0;
}

int model_cli_flag(struct model_cli_opts *o, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    double v;
#define VAL(lo, hi)                                                          \
    if (need(argc, argv, i) || num(argv[*i], lo, hi, &v, a)) return -1;
    if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
        if (need(argc, argv, i)) return -1;
        o->dir = argv[*i];
    } else if (!strcmp(a, "-n")) { VAL(0, 1 << 24) o->n_new = (int)v; }
    else if (!strcmp(a, "--temperature")) { VAL(0, 1e6) o->temperature = (float)v; o->set_temperature = 1; }
    else if (!strcmp(a, "--top-k")) { VAL(0, 1 << 28) o->top_k = (int)v; o->set_top_k = 1; }
    else if (!strcmp(a, "--top-p")) { VAL(1e-9, 1) o->top_p = (float)v; o->set_top_p = 1; }
    else if (!strcmp(a, "-s") || !strcmp(a, "--seed")) { VAL(0, 1.8e19) o->seed = (uint64_t)v; }
    else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) { VAL(1, 4096) o->threads = (int)v; }
    else if (!strcmp(a, "--ctx")) { VAL(1, 1 << 24) o->ctx = (int)v; }
    else if (!strcmp(a, "--quant")) {
        if (need(argc, argv, i)) return -1;
        if (olmo_quant_parse(argv[*i], &o->quant) != 0) return olmo_err_prefix("--quant: ");
    } else if (!strcmp(a, "--kv-cache")) {
        if (need(argc, argv, i)) return -1;
        if (model_kv_dtype_parse(argv[*i], &o->kv_dtype) != 0) return olmo_err_prefix("--kv-cache: ");
    } else return 0;
#undef VAL
    return 1;
}

int model_cli_open(struct model_cli *c, const struct model_cli_opts *o, int ctx_hint) {
    memset(c, 0, sizeof *c);
    if (!o->dir) return olmo_err("no model: pass -m DIR");
    if (o->threads > 0) {
        omp_set_num_threads(o->threads);
        olmo_pool_set_threads(o->threads);
    }
    double t0 = olmo_now();
    struct model_load_opts lo = {.quant = o->quant};
    if (model_load(&c->model, o->dir, &lo) != 0) return -1;
    char *tp = olmo_path_join(o->dir, "tokenizer.json");
    c->tok = tp ? tok_load(tp) : NULL;
    free(tp);
    if (!c->tok || hf_tokenizer_config_load(&c->tok_cfg, o->dir) != 0 || hf_generation_config_load(&c->gen_cfg, o->dir) != 0) {
        model_cli_close(c);
        return -1;
    }
    c->load_s = olmo_now() - t0;
    /* sampling defaults: the checkpoint's generation_config.json when it asks for sampling, else greedy */
    const struct hf_generation_config *gc = &c->gen_cfg;
    float temp = o->set_temperature ? o->temperature : gc->do_sample && gc->has_temperature ? gc->temperature : 0.0f;
    int top_k = o->set_top_k ? o->top_k : gc->do_sample && gc->has_top_k ? gc->top_k : 0;
    float top_p = o->set_top_p ? o->top_p : gc->do_sample && gc->has_top_p ? gc->top_p : 1.0f;
    /* The fp32 KV cache costs 8·L·Hkv·hd bytes per position (1 MB for OLMo-2 7B, 0.25 MB for 1B; half with
     * --kv-cache bf16): allocate what this run can use (ctx_hint), never more than the model's context unless
     * --ctx asks for it. */
    int ctx = c->model.cfg.max_seq_len;
    if (ctx_hint > 0 && ctx_hint < ctx) ctx = ctx_hint;
    if (o->ctx > 0) ctx = o->ctx;
    struct model_state_opts so = {.kv_dtype = o->kv_dtype};
    if (gen_init_opts(&c->gen, &c->model, ctx, &so, temp, top_k, top_p, o->seed) != 0) {
        model_cli_close(c);
        return -1;
    }
    /* stop tokens: generation_config's list, config.json's eos, the eos_token string, and <|im_end|> */
    for (int i = 0; i < gc->n_eos; i++) gen_add_stop(&c->gen, gc->eos_token_ids[i]);
    gen_add_stop(&c->gen, c->model.cfg.eos_token_id);
    if (c->tok_cfg.eos_token) gen_add_stop(&c->gen, tok_token_to_id(c->tok, c->tok_cfg.eos_token));
    gen_add_stop(&c->gen, tok_token_to_id(c->tok, "<|im_end|>"));
    utf8_stream_init(&c->out);
    char kv[96];
    olmo_log_info("loaded %s: %s, %d layers, d=%d, %s weights (%.2f GB read per token), %.2f s, temperature %g top-k %d top-p %g, %s",
                  o->dir, hf_model_type(c->model.cfg.arch), c->model.cfg.n_layers, c->model.cfg.d_model,
                  o->quant == OLMO_QUANT_Q8 ? "Q8" : o->quant == OLMO_QUANT_Q4 ? "Q4" : c->model.dtype_name, c->model.weight_bytes / 1e9, c->load_s, (double)temp, top_k,
                  (double)top_p, kv_desc(&c->gen.state, kv, sizeof kv));
    return 0;
}

int model_cli_fit_ctx(struct model_cli *c, const struct model_cli_opts *o, int need) {
    if (o->ctx > 0 || need < 1 || need >= c->gen.state.max_seq || c->gen.n_tokens > 0) return 0;
    struct model_state_opts so = {.kv_dtype = o->kv_dtype};
    model_state_free(&c->gen.state);
    return model_state_init_opts(&c->gen.state, &c->model, need, &so);
}

void model_cli_close(struct model_cli *c) {
    gen_free(&c->gen);
    if (c->tok) tok_free(c->tok);
    hf_tokenizer_config_free(&c->tok_cfg);
    model_free(&c->model);
    memset(c, 0, sizeof *c);
}

void model_cli_emit(struct model_cli *c, int32_t id, FILE *out) {
    if (tok_is_special(c->tok, id)) return;
    char small[256];
    int n = tok_token_bytes(c->tok, id, small, sizeof small);
    if (n < 0) return;   /* padding rows above the tokenizer's vocabulary print nothing (as HF decode skips them) */
    if ((size_t)n <= sizeof small) utf8_stream_feed(&c->out, small, (size_t)n, out);
    else {
        char *big = malloc((size_t)n);
        if (big && tok_token_bytes(c->tok, id, big, (size_t)n) == n) utf8_stream_feed(&c->out, big, (size_t)n, out);
        free(big);
    }
    fflush(out);
}

void model_cli_report(const struct model_cli *c) {
    const struct gen_session *g = &c->gen;
    double pre = g->prefill_s > 0 ? g->prefill_tokens / g->prefill_s : 0, dec = g->decode_s > 0 ? g->decode_tokens / g->decode_s : 0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    char kv[96];
    fprintf(stderr, "\nprefill: %lld tokens in %.3f s (%.1f tok/s) | decode: %lld tokens in %.3f s (%.2f tok/s, %.1f GB/s of weights)"
            " | %s | peak RSS %.2f GB (mapped weights included)\n",
            (long long)g->prefill_tokens, g->prefill_s, pre, (long long)g->decode_tokens, g->decode_s, dec,
            dec * (double)c->model.weight_bytes / 1e9, kv_desc(&g->state, kv, sizeof kv), ru.ru_maxrss / 1048576.0);
}
