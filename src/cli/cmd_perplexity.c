/* cmd_perplexity.c — `olmo perplexity -m DIR -f FILE`: how well a checkpoint predicts a text.
 *
 * The file is tokenized whole, cut into windows of --ctx tokens (default: 512 or the model's context if shorter), and
 * each window is run from position 0 in chunks of 64 tokens through the KV cache; every token after the first of
 * a window is scored. Prints the token count, mean negative log-likelihood (nats), perplexity and bits per byte.
 * Used to measure what --quant q8 and --kv-cache bf16 cost in quality (docs/inference.md). */
#include "cli/commands.h"
#include "cli/model_cli.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 64

int cmd_perplexity(int argc, char **argv) {
    struct model_cli_opts o = {.top_p = 1.0f};
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: olmo perplexity -m DIR -f FILE [--ctx N] [--quant q8|q4] [--kv-cache f32|bf16] [-t N]\n\n"
                   "How well the checkpoint in DIR predicts FILE: the file is tokenized whole, cut into windows of\n"
                   "--ctx tokens (default 512, or the model's context if shorter), and every token after the first of\n"
                   "a window is scored. Prints tokens, mean negative log-likelihood (nats), perplexity, bits per byte.\n\n"
                   "  -m, --model DIR   Hugging Face checkpoint directory\n"
                   "  -f FILE           the text to score\n"
                   "  --ctx N           window length in tokens\n"
                   "  --quant q8|q4     int8 or 4-bit weights (measures what quantization costs in quality)\n"
                   "  --kv-cache T      KV cache element type, f32 (default) or bf16 (measures what bf16 costs)\n"
                   "  -t, --threads N   threads (default: all cores)\n");
            return 0;
        }
        if (!strcmp(argv[i], "-f") && i + 1 < argc) { file = argv[++i]; continue; }
        int r = model_cli_flag(&o, argc, argv, &i);
        if (r < 0) return cli_fail("perplexity");
        if (r == 0) {
            fprintf(stderr, "olmo perplexity: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!o.dir || !file) {
        fprintf(stderr, "usage: olmo perplexity -m DIR -f FILE [--ctx N] [--quant q8|q4] [--kv-cache f32|bf16] [-t N]\n");
        return 2;
    }
    size_t len;
    char *text = olmo_read_file(file, &len);
    if (!text) return cli_fail("perplexity");
    int ctx = o.ctx > 0 ? o.ctx : 512, explicit_ctx = o.ctx > 0;
    struct model_cli c;
    if (model_cli_open(&c, &o, ctx) != 0) {
        free(text);
        return cli_fail("perplexity");
    }
    if (!explicit_ctx && ctx > c.model.cfg.max_seq_len) ctx = c.model.cfg.max_seq_len;
    int32_t *ids = NULL;
    size_t n = 0;
    int V = c.model.cfg.vocab_size, rc = 1;
    float *logits = olmo_malloc((size_t)CHUNK * (size_t)V * sizeof(float));
    double nll = 0;
    int64_t scored = 0;
    double t0 = olmo_now();
    if (!logits || tok_encode(c.tok, text, len, 0, &ids, &n) != 0) goto out;
    for (size_t w = 0; w + 1 < n; w += (size_t)ctx) {
        int wn = (int)(n - w < (size_t)ctx ? n - w : (size_t)ctx);
        for (int p = 0; p < wn; p += CHUNK) {
            int T = wn - p < CHUNK ? wn - p : CHUNK;
            if (model_forward_all(&c.model, &c.gen.state, ids + w + p, T, p, logits) != 0) goto out;
            for (int t = 0; t < T && p + t + 1 < wn; t++) {
                const float *l = logits + (size_t)t * V;
                float mx = l[0];
                for (int v = 1; v < V; v++) mx = fmaxf(mx, l[v]);
                double s = 0;
                for (int v = 0; v < V; v++) s += exp((double)(l[v] - mx));
                nll += log(s) + mx - l[ids[w + p + t + 1]];
                scored++;
            }
        }
    }
    if (!scored) {
        olmo_err("%s: fewer than two tokens", file);
        goto out;
    }
    printf("tokens scored: %lld  mean NLL: %.5f nats  perplexity: %.4f  bits/byte: %.4f  (%.1f s, %s KV cache)\n",
           (long long)scored, nll / scored, exp(nll / scored), nll / log(2.0) / (double)len, olmo_now() - t0,
           model_kv_dtype_name(c.gen.state.kv_dtype));
    rc = 0;
out:
    if (rc) cli_fail("perplexity");
    free(ids);
    free(logits);
    free(text);
    model_cli_close(&c);
    return rc;
}
