/* cmd_serve.c — `olmo serve -m DIR`: the OpenAI-compatible HTTP server (src/serve/serve.h, docs/serving.md). */
#include "cli/commands.h"
#include "base/error.h"
#include "base/file.h"
#include "model/model.h"
#include "serve/serve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: olmo serve -m DIR [options]\n\n"
            "Serves the checkpoint in DIR over HTTP with the OpenAI API: /v1/chat/completions, /v1/completions,\n"
            "/v1/models, /health, /metrics. Stops on Ctrl-C / SIGTERM.\n\n"
            "  -m, --model DIR       Hugging Face checkpoint directory (config.json, *.safetensors, tokenizer.json)\n"
            "  --host ADDR           address to listen on (default 127.0.0.1: this machine only)\n"
            "  --port N              port (default 8080; 0 = any free port, named in the log)\n"
            "  --parallel N          requests generated at once, each in its own slot (default 1)\n"
            "  --queue N             requests that may wait for a slot, beyond that 503 (default 4 x parallel)\n"
            "  --ctx N               context per slot, prompt + completion (default min(max_position_embeddings, 4096))\n"
            "  --alias NAME          model id in responses (default: the directory's name)\n"
            "  --api-key KEY         require this key (Authorization: Bearer KEY or X-Api-Key); also OLMO_API_KEY\n"
            "  --api-key-file FILE   keys, one per line\n"
            "  --cors-origin ORIGIN  allow browser requests from ORIGIN ('*' = any; repeatable; default none)\n"
            "  --max-body N          largest request body in bytes (default 8388608); larger → 413\n"
            "  --timeout S           close idle connections after S seconds (default 600)\n"
            "  --max-conns N         connections at once (default 64; per client address half of it)\n"
            "  -t, --threads N       compute threads (default: the cores this process may use)\n"
            "  --quant q8|q4         quantize the projection weights at load (int8, or 4-bit)\n"
            "  --kv-cache f32|bf16   KV cache element type (default f32)\n"
            "  --port-file FILE      write the bound port to FILE once listening (for scripts)\n");
}

static int int_arg(const char *flag, const char *v, long lo, long hi, int *out) {
    char *end;
    long x = strtol(v, &end, 10);
    if (end == v || *end || x < lo || x > hi) return olmo_err("%s: '%s' is not an integer in [%ld, %ld]", flag, v, lo, hi);
    *out = (int)x;
    return 0;
}

/* Keys from FILE, one per line (blank lines and surrounding spaces ignored); the strings live until exit. */
static int read_keys(const char *path, struct serve_opts *o) {
    size_t len;
    char *text = olmo_read_file(path, &len);
    if (!text) return -1;
    for (char *line = strtok(text, "\r\n"); line; line = strtok(NULL, "\r\n")) {
        while (*line == ' ' || *line == '\t') line++;
        char *e = line + strlen(line);
        while (e > line && (e[-1] == ' ' || e[-1] == '\t')) *--e = 0;
        if (!*line) continue;
        if (o->n_keys == SERVE_MAX_KEYS) return olmo_err("%s: more than %d keys", path, SERVE_MAX_KEYS);
        o->keys[o->n_keys++] = line;
    }
    if (o->n_keys == 0) return olmo_err("%s: no key in the file (expected one key per line)", path);
    return 0;   /* text stays allocated: the keys point into it */
}

int cmd_serve(int argc, char **argv) {
    struct serve_opts o = {.host = "127.0.0.1", .port = 8080, .parallel = 1, .queue = -1, .max_body = 8u << 20,
                           .timeout_s = 600};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "olmo serve: '%s' needs a value or is unknown\n\n", a);
            usage(stderr);
            return 2;
        }
        const char *v = argv[++i];
        int n, rc = 0;
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) o.dir = v;
        else if (!strcmp(a, "--host")) o.host = v;
        else if (!strcmp(a, "--port")) rc = int_arg(a, v, 0, 65535, &o.port);
        else if (!strcmp(a, "--parallel")) rc = int_arg(a, v, 1, 256, &o.parallel);
        else if (!strcmp(a, "--queue")) rc = int_arg(a, v, 0, 1 << 20, &o.queue);
        else if (!strcmp(a, "--ctx")) rc = int_arg(a, v, 2, 1 << 24, &o.ctx);
        else if (!strcmp(a, "--alias")) o.alias = v;
        else if (!strcmp(a, "--api-key")) {
            if (o.n_keys == SERVE_MAX_KEYS) rc = olmo_err("--api-key: more than %d keys", SERVE_MAX_KEYS);
            else if (!*v) rc = olmo_err("--api-key: empty key");
            else o.keys[o.n_keys++] = v;
        } else if (!strcmp(a, "--api-key-file")) rc = read_keys(v, &o);
        else if (!strcmp(a, "--cors-origin")) {
            if (o.n_cors == 8) rc = olmo_err("--cors-origin: at most 8");
            else o.cors[o.n_cors++] = v;
        } else if (!strcmp(a, "--max-body")) {
            rc = int_arg(a, v, 1024, 1 << 30, &n);
            o.max_body = (size_t)n;
        } else if (!strcmp(a, "--timeout")) rc = int_arg(a, v, 1, 86400, &o.timeout_s);
        else if (!strcmp(a, "--max-conns")) rc = int_arg(a, v, 1, 65536, &o.max_conns);
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) rc = int_arg(a, v, 1, 4096, &o.threads);
        else if (!strcmp(a, "--quant")) {
            enum olmo_quant q;
            if (olmo_quant_parse(v, &q) != 0) rc = olmo_err_prefix("--quant: ");
            else o.quant = (int)q;
        } else if (!strcmp(a, "--kv-cache")) {
            if (model_kv_dtype_parse(v, &o.kv_dtype) != 0) rc = olmo_err_prefix("--kv-cache: ");
        } else if (!strcmp(a, "--port-file")) o.port_file = v;
        else {
            fprintf(stderr, "olmo serve: unknown argument '%s'\n\n", a);
            usage(stderr);
            return 2;
        }
        if (rc != 0) return cli_fail("serve");
    }
    if (!o.dir) {
        usage(stderr);
        return 2;
    }
    const char *env = getenv("OLMO_API_KEY");
    if (env && *env && o.n_keys < SERVE_MAX_KEYS) o.keys[o.n_keys++] = env;
    if (o.queue < 0) o.queue = 4 * o.parallel;
    if (serve_run(&o) != 0) return cli_fail("serve");
    return 0;
}
