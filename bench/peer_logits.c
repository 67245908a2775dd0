/* peer_logits.c — olmo.c's side of the peer agreement check (bench/llama_cpp_peer.sh, tests/llama_peer.test.sh):
 * the logits of a checkpoint for given token ids, in the raw layout bench/llama_peer.mjs writes for llama.cpp,
 * so bench/peer_compare.mjs can put the two side by side.
 *
 *   build/bench/peer_logits DIR OUT.f32 --tokens a,b,c,... --prefill P [--q8 | --quant q8|q4]
 *
 * tokens[0..P) go through model_forward_all in one call (logits at every position, as a prefill), then every
 * later token alone through model_forward (a decode step on the KV cache). OUT gets float32 [n_tokens][vocab],
 * written atomically. */
#include "base/error.h"
#include "base/file.h"
#include "model/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int run(const char *dir, const char *out, const int32_t *tok, int n, int prefill, enum olmo_quant q) {
    struct olmo_model m;
    struct model_load_opts o = {.quant = q};
    if (model_load(&m, dir, &o)) return -1;
    int rc = 0;
    struct olmo_state st;
    if (model_state_init(&st, &m, n)) { model_free(&m); return -1; }
    size_t V = (size_t)m.cfg.vocab_size;
    float *lg = malloc(sizeof(float) * V * (size_t)n);
    if (!lg) rc = olmo_err("peer_logits: out of memory");
    if (rc == 0) rc = model_forward_all(&m, &st, tok, prefill, 0, lg);
    for (int i = prefill; i < n && rc == 0; i++) rc = model_forward(&m, &st, tok + i, 1, i, lg + (size_t)i * V);
    if (rc == 0) rc = olmo_write_file_atomic(out, lg, sizeof(float) * V * (size_t)n);
    if (rc == 0) printf("{\"rows\":%d,\"vocab\":%zu}\n", n, V);
    free(lg);
    model_state_free(&st);
    model_free(&m);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 3) goto usage;
    int prefill = 0, n = 0;
    enum olmo_quant q = OLMO_QUANT_NONE;
    int32_t *tok = NULL;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--q8")) q = OLMO_QUANT_Q8;
        else if (!strcmp(argv[i], "--quant") && i + 1 < argc) {
            if (olmo_quant_parse(argv[++i], &q) != 0) { fprintf(stderr, "peer_logits: %s\n", olmo_errmsg()); return 2; }
        }
        else if (!strcmp(argv[i], "--prefill") && i + 1 < argc) prefill = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--tokens") && i + 1 < argc) {
            const char *s = argv[++i];
            free(tok);
            tok = malloc(sizeof(int32_t) * (strlen(s) / 2 + 1));   /* at most one id per two characters */
            if (!tok) { fprintf(stderr, "peer_logits: out of memory\n"); return 1; }
            n = 0;
            for (char *e; *s; s = *e ? e + 1 : e) {
                long v = strtol(s, &e, 10);
                if (e == s || (*e && *e != ',') || v < 0 || v > INT32_MAX) {
                    fprintf(stderr, "peer_logits: --tokens: expected comma-separated ids, found '%s'\n", s);
                    free(tok);
                    return 2;
                }
                tok[n++] = (int32_t)v;
            }
        } else goto usage;
    }
    if (n < 1 || prefill < 1 || prefill > n) { free(tok); goto usage; }
    int rc = run(argv[1], argv[2], tok, n, prefill, q);
    free(tok);
    if (rc) { fprintf(stderr, "peer_logits: %s\n", olmo_errmsg()); return 1; }
    return 0;
usage:
    fprintf(stderr, "usage: peer_logits DIR OUT.f32 --tokens a,b,... --prefill P [--q8 | --quant q8|q4]  (1 <= P <= number of tokens)\n");
    return 2;
}
