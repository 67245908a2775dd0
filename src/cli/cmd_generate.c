/* cmd_generate.c — `olmo generate -m DIR -p TEXT`: continue a prompt, streaming the text as it is produced.
 *
 * The prompt is tokenized with the checkpoint's tokenizer.json (plus bos_token when tokenizer_config.json sets
 * add_bos_token), prefilled in one forward call, then tokens are sampled one by one until a stop token or -n.
 * Only the continuation goes to stdout; the speed report goes to stderr. */
#include "cli/commands.h"
#include "cli/model_cli.h"
#include "base/error.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: olmo generate -m DIR -p TEXT [options]\n\n"
               "Continues TEXT with the checkpoint in DIR, printing tokens as they come; stops at EOS or after -n tokens.\n\n"
               "  -p, --prompt TEXT     the text to continue\n%s", model_cli_flags_help);
}

int cmd_generate(int argc, char **argv) {
    struct model_cli_opts o = {.n_new = 256, .top_p = 1.0f};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { usage(stdout); return 0; }
        if ((!strcmp(argv[i], "-p") || !strcmp(argv[i], "--prompt")) && i + 1 < argc) { o.prompt = argv[++i]; continue; }
        int r = model_cli_flag(&o, argc, argv, &i);
        if (r < 0) return cli_fail("generate");
        if (r == 0) {
            fprintf(stderr, "olmo generate: unknown argument '%s'\n\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!o.dir || !o.prompt) {
        usage(stderr);
        return 2;
    }
    struct model_cli c;
    /* byte-level BPE never makes more tokens than bytes: prompt bytes + BOS + new tokens bound the context */
    size_t hint = strlen(o.prompt) + 1 + (size_t)o.n_new;
    if (model_cli_open(&c, &o, hint > (1u << 30) ? 0 : (int)hint) != 0) return cli_fail("generate");
    int32_t *ids = NULL;
    size_t n = 0;
    int rc = 1;
    if (tok_encode(c.tok, o.prompt, strlen(o.prompt), 1, &ids, &n) != 0) goto out;
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
    if ((int)n + o.n_new > c.gen.state.max_seq && o.n_new > 0 && (int)n <= c.gen.state.max_seq)
        o.n_new = c.gen.state.max_seq - (int)n;   /* stop where the context ends */
    if (gen_prefill(&c.gen, ids, (int)n) != 0) goto out;
    for (int i = 0; i < o.n_new; i++) {
        int32_t id;
        if (gen_step(&c.gen, &id) != 0) goto out;
        if (gen_is_stop(&c.gen, id)) break;
        model_cli_emit(&c, id, stdout);
    }
    utf8_stream_flush(&c.out, stdout);
    fflush(stdout);
    model_cli_report(&c);
    rc = 0;
out:
    free(ids);
    if (rc) cli_fail("generate");
    model_cli_close(&c);
    return rc;
}
