/* cmd_generate.c — `olmo generate -m DIR -p TEXT | -p - | -f FILE [--json]`: continue a prompt, streaming the
 * text as it is produced.
 *
 * The prompt (the argument, stdin with `-p -`, or a file's bytes with -f: long prompts, as llama.cpp's -f) is
 * tokenized with the checkpoint's tokenizer.json (plus bos_token when tokenizer_config.json sets add_bos_token),
 * prefilled in one forward call, then tokens are sampled one by one until a stop token or -n. Only the
 * continuation goes to stdout; the speed report goes to stderr. With --json, stdout instead gets one JSON object
 * at the end, for scripts: the text, the token ids, each token's log-probability and the timings (docs/inference.md). */
#include "cli/commands.h"
#include "cli/model_cli.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "model/kernels/linear.h"

#include <jansson.h>
#include <math.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: olmo generate -m DIR (-p TEXT | -p - | -f FILE) [options]\n\n"
               "Continues the prompt with the checkpoint in DIR, printing tokens as they come; stops at EOS or after -n tokens.\n\n"
               "  -p, --prompt TEXT     the text to continue ('-': read it from stdin)\n"
               "  -f, --file FILE       read the prompt from FILE (its bytes as they are)\n"
               "  --json                print one JSON object at the end instead of streaming: text, token ids,\n"
               "                        log-probabilities (model distribution, before temperature/top-k/top-p), timings\n%s",
            model_cli_flags_help);
}

/* All of stdin; NULL with olmo_err on a read error or out of memory. */
static char *read_stdin(size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (!buf) { olmo_err("reading the prompt from stdin: out of memory after %zu bytes", n); return NULL; }
        n += fread(buf + n, 1, cap - n, stdin);
        if (n < cap) break;
        char *b = realloc(buf, 2 * cap + 1);
        if (!b) free(buf);
        buf = b;
        cap *= 2;
    }
    if (ferror(stdin)) { free(buf); olmo_err_errno("reading the prompt from stdin after %zu bytes", n); return NULL; }
    buf[n] = 0;
    *len = n;
    return buf;
}

/* log p(id) under softmax(logits): the model's own distribution, whatever the sampler then does with it */
static double log_prob(const float *logits, int n, int32_t id) {
    float mx = logits[0];
    for (int i = 1; i < n; i++) mx = logits[i] > mx ? logits[i] : mx;
    double sum = 0;
    for (int i = 0; i < n; i++) sum += exp((double)logits[i] - mx);
    return (double)logits[id] - mx - log(sum);
}

/* Where the prompt's time went, as bench_inference prints it for the same prompt: the state's profile
 * (projections = linear_forward, attention, the rest = norms, RoPE, SwiGLU, residuals, embedding) and CPU seconds. */
struct prefill_profile { double wall, proj, attn, cpu; };

static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
           1e-6 * (double)ru.ru_stime.tv_usec;
}

/* The --json object (stdout), compact, one line. */
static int print_json(const struct model_cli *c, const char *text, size_t text_len, const int32_t *ids, const double *lp,
                      int n_gen, int n_prompt, const char *stop, const struct prefill_profile *pp) {
    const struct gen_session *g = &c->gen;
    json_t *root = json_object(), *toks = json_array(), *lps = json_array(), *tm = json_object();
    for (int i = 0; i < n_gen; i++) {
        json_array_append_new(toks, json_integer(ids[i]));
        json_array_append_new(lps, json_real(lp[i]));
    }
    json_object_set_new(root, "text", json_stringn(text, text_len));
    json_object_set_new(root, "prompt_tokens", json_integer(n_prompt));
    json_object_set_new(root, "tokens", toks);
    json_object_set_new(root, "logprobs", lps);
    json_object_set_new(root, "stop", json_string(stop));
    json_object_set_new(tm, "load_s", json_real(c->load_s));
    json_object_set_new(tm, "prefill_tokens", json_integer(g->prefill_tokens));
    json_object_set_new(tm, "prefill_s", json_real(g->prefill_s));
    json_object_set_new(tm, "prefill_tok_per_s", json_real(g->prefill_s > 0 ? g->prefill_tokens / g->prefill_s : 0));
    json_object_set_new(tm, "prefill_projections_s", json_real(pp->proj));
    json_object_set_new(tm, "prefill_attention_s", json_real(pp->attn));
    json_object_set_new(tm, "prefill_rest_s", json_real(pp->wall - pp->proj - pp->attn));
    json_object_set_new(tm, "prefill_cpu_s", json_real(pp->cpu));
    json_object_set_new(tm, "decode_tokens", json_integer(g->decode_tokens));
    json_object_set_new(tm, "decode_s", json_real(g->decode_s));
    json_object_set_new(tm, "decode_tok_per_s", json_real(g->decode_s > 0 ? g->decode_tokens / g->decode_s : 0));
    json_object_set_new(root, "timings", tm);
    char *out = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(9));
    json_decref(root);
    if (!out) return olmo_err("--json: could not format the result (the text is not valid UTF-8?)");
    printf("%s\n", out);
    free(out);
    return fflush(stdout) == 0 ? 0 : olmo_err_errno("--json: writing stdout");
}

int cmd_generate(int argc, char **argv) {
    struct model_cli_opts o = {.n_new = 256, .top_p = 1.0f};
    const char *file = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { usage(stdout); return 0; }
        if ((!strcmp(argv[i], "-p") || !strcmp(argv[i], "--prompt")) && i + 1 < argc) { o.prompt = argv[++i]; continue; }
        if ((!strcmp(argv[i], "-f") || !strcmp(argv[i], "--file")) && i + 1 < argc) { file = argv[++i]; continue; }
        if (!strcmp(argv[i], "--json")) { json = 1; continue; }
        int r = model_cli_flag(&o, argc, argv, &i);
        if (r < 0) return cli_fail("generate");
        if (r == 0) {
            fprintf(stderr, "olmo generate: unknown argument '%s'\n\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!o.dir || (!o.prompt && !file)) {
        usage(stderr);
        return 2;
    }
    if (o.prompt && file) {
        fprintf(stderr, "olmo generate: give the prompt once: -p TEXT, -p - (stdin) or -f FILE, not both -p and -f\n");
        return 2;
    }
    char *text = NULL;   /* the prompt when read from a file or stdin */
    size_t text_len = 0;
    if (file) {
        if (!(text = olmo_read_file(file, &text_len))) return cli_fail("generate");
    } else if (!strcmp(o.prompt, "-")) {
        if (!(text = read_stdin(&text_len))) return cli_fail("generate");
    } else text_len = strlen(o.prompt);
    const char *prompt = text ? text : o.prompt;
    struct model_cli c;
    /* byte-level BPE never makes more tokens than bytes: prompt bytes + BOS + new tokens bound the context */
    size_t hint = text_len + 1 + (size_t)o.n_new;
    if (model_cli_open(&c, &o, hint > (1u << 30) ? 0 : (int)hint) != 0) { free(text); return cli_fail("generate"); }
    int32_t *ids = NULL, *gen_ids = NULL;
    double *gen_lp = NULL;
    float *logits = NULL;
    char *jtext = NULL;
    size_t jtext_len = 0, n = 0;
    FILE *jout = NULL;   /* --json: the continuation's text, collected */
    int rc = 1, n_gen = 0, V = c.model.cfg.vocab_size;
    const char *stop = "length";
    if (tok_encode(c.tok, prompt, text_len, 1, &ids, &n) != 0) goto out;
    if (c.tok_cfg.add_bos_token && c.tok_cfg.bos_token) {   /* the tokenizer_config asks for a leading BOS */
        int32_t bos = tok_token_to_id(c.tok, c.tok_cfg.bos_token);
        if (bos >= 0 && (n == 0 || ids[0] != bos)) {
            int32_t *b = realloc(ids, (n + 1) * sizeof *b);
            if (!b) goto out;
            ids = b;
            memmove(ids + 1, ids, n * sizeof *ids);
            ids[0] = bos;
            n++;
        }
    }
    if (n == 0) {   /* empty prompt: start from a document boundary (OLMo's documents are separated by EOS) */
        int32_t start = c.model.cfg.bos_token_id >= 0 ? c.model.cfg.bos_token_id : c.model.cfg.eos_token_id;
        if (start < 0) {
            olmo_err("the prompt is empty and the config has neither bos_token_id nor eos_token_id to start from");
            goto out;
        }
        int32_t *b = realloc(ids, sizeof *b);
        if (!b) goto out;
        ids = b;
        ids[0] = start;
        n = 1;
    }
    if (n + (size_t)o.n_new < (size_t)c.gen.state.max_seq && model_cli_fit_ctx(&c, &o, (int)n + o.n_new) != 0) goto out;
    if ((int)n + o.n_new > c.gen.state.max_seq && o.n_new > 0 && (int)n <= c.gen.state.max_seq)
        o.n_new = c.gen.state.max_seq - (int)n;   /* stop where the context ends */
    if (json) {
        gen_ids = malloc((size_t)(o.n_new > 0 ? o.n_new : 1) * sizeof *gen_ids);
        gen_lp = malloc((size_t)(o.n_new > 0 ? o.n_new : 1) * sizeof *gen_lp);
        logits = malloc((size_t)V * sizeof *logits);
        jout = open_memstream(&jtext, &jtext_len);
        if (!gen_ids || !gen_lp || !logits || !jout) { olmo_err("--json: out of memory"); goto out; }
    }
    struct olmo_state *st = &c.gen.state;
    struct prefill_profile pp = {st->t_total, st->t_proj, st->t_attn, cpu_seconds()};
    if (gen_prefill(&c.gen, ids, (int)n) != 0) goto out;
    pp = (struct prefill_profile){st->t_total - pp.wall, st->t_proj - pp.proj, st->t_attn - pp.attn, cpu_seconds() - pp.cpu};
    for (int i = 0; i < o.n_new; i++) {
        int32_t id;
        if (json) memcpy(logits, c.gen.logits, (size_t)V * sizeof *logits);   /* gen_step overwrites them */
        if (gen_step(&c.gen, &id) != 0) goto out;
        if (gen_is_stop(&c.gen, id)) { stop = "eos"; break; }
        if (json) {
            gen_ids[n_gen] = id;
            gen_lp[n_gen++] = log_prob(logits, V, id);
        }
        model_cli_emit(&c, id, json ? jout : stdout);
    }
    utf8_stream_flush(&c.out, json ? jout : stdout);
    if (json) {
        if (fclose(jout) != 0) { jout = NULL; olmo_err("--json: out of memory collecting the text"); goto out; }
        jout = NULL;
        if (print_json(&c, jtext, jtext_len, gen_ids, gen_lp, n_gen, (int)n, stop, &pp) != 0) goto out;
    }
    fflush(stdout);
    model_cli_report(&c);
    fprintf(stderr, "prefill of %lld tokens: projections %.3f s, attention %.3f s, the rest %.3f s; %.1f tok per CPU-s "
            "(GEMM: %s)\n", (long long)c.gen.prefill_tokens, pp.proj, pp.attn, pp.wall - pp.proj - pp.attn,
            pp.cpu > 0 ? (double)c.gen.prefill_tokens / pp.cpu : 0.0, linear_kernel_name(c.model.layers[0].wq.dtype, 2));
    rc = 0;
out:
    if (jout) fclose(jout);
    free(jtext);
    free(gen_ids);
    free(gen_lp);
    free(logits);
    free(text);
    free(ids);
    if (rc) cli_fail("generate");
    model_cli_close(&c);
    return rc;
}
