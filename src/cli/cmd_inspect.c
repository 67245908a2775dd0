/* cmd_inspect.c — `olmo inspect batch CONFIG.yaml --step N [--json] [overrides...]`: which instances the batch of
 * training step N holds (global instance index, source file, token offset), and their decoded text.
 *
 * OLMo's users ask for exactly this (spec training-and-eval.md §7: "batch-at-step"): the order is rebuilt from
 * the config alone (file list, sequence length, data seed, epoch, batch size), with the same NumPy PCG64
 * permutation OLMo uses, so no global_indices.npy or data-indices logs are needed. */
#include "cli/commands.h"
#include "train/data.h"
#include "train/train_config.h"
#include "tokenizer/tokenizer.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: olmo inspect batch CONFIG.yaml --step N [--json] [options] [--KEY=VALUE ...]\n\n"
            "Shows the training batch of step N (1-based) of an OLMo training config: global instance indices,\n"
            "source files, token offsets, and the decoded text. The order is OLMo's (NumPy PCG64 shuffle with\n"
            "seed data.seed + epoch), so it matches the batches OLMo's trainer and `olmo train` see.\n\n"
            "options:\n"
            "  --step N          the step (required; counted from 1 as OLMo's global_step)\n"
            "  --json            one JSON object {\"step\", \"epoch\", \"instances\": [{index, file, start, rank, text}]}\n"
            "  --world-size W    processes of the run (default 1): drop/pad at the epoch's end and each rank's share\n"
            "  --tokenizer PATH  tokenizer.json for the text (default: tokenizer.identifier, looked up as a path,\n"
            "                    beside the config, and under $OLMO_SHARED_DATA or ../shared/data)\n"
            "  --no-text         indices and offsets only\n"
            "  --tokens          also print the token ids\n"
            "  --max-chars N     text shown per instance in plain output (default 200; 0 = all)\n"
            "  --KEY=VALUE       config overrides as in OLMo (--data.paths=[a.npy,b.npy], --data.seed=1)\n");
}

/* Finds the tokenizer file for identifier; NULL (no error) when none is found. */
static char *find_tokenizer(const char *identifier, const char *config_path) {
    if (!identifier) return NULL;
    if (olmo_file_exists(identifier)) return olmo_strdup(identifier);
    char *cands[3] = {0};
    const char *slash = strrchr(config_path, '/');
    if (slash) {
        char *dir = olmo_strndup(config_path, (size_t)(slash - config_path));
        if (dir) cands[0] = olmo_path_join(dir, identifier);
        free(dir);
    }
    const char *shared = getenv("OLMO_SHARED_DATA");
    cands[1] = olmo_path_join(shared && *shared ? shared : "../shared/data", identifier);
    char *found = NULL;
    for (int i = 0; i < 3; i++) {
        if (!found && cands[i] && olmo_file_exists(cands[i])) found = cands[i];
        else free(cands[i]);
    }
    return found;
}

/* Prints text on one line with control characters escaped, cut after max_chars bytes (at a UTF-8 boundary). */
static void print_text_line(const char *s, size_t len, size_t max_chars) {
    size_t n = len;
    int cut = 0;
    if (max_chars && n > max_chars) {
        n = max_chars;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
        cut = 1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') fputs("\\n", stdout);
        else if (c == '\t') fputs("\\t", stdout);
        else if (c == '\\') fputs("\\\\", stdout);
        else if (c < 0x20 || c == 0x7f) printf("\\x%02x", c);
        else putchar(c);
    }
    if (cut) fputs("…", stdout);
}

static int inspect_batch(int argc, char **argv) {
    const char *config = NULL, *tok_path = NULL;
    int64_t step = 0, world = 1, max_chars = 200;
    int json = 0, no_text = 0, show_tokens = 0;
    char **overrides = olmo_calloc((size_t)argc + 1, sizeof *overrides);
    int n_ov = 0, rc = 1;
    if (!overrides) return cli_fail("inspect");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = NULL;
#define FLAG_VALUE(name)                                                                               \
    (!strcmp(a, name) ? (i + 1 < argc ? (v = argv[++i]) : NULL)                                        \
                      : (!strncmp(a, name "=", sizeof name) ? (v = a + sizeof name) : NULL))
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            free(overrides);
            return 0;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--no-text")) {
            no_text = 1;
        } else if (!strcmp(a, "--tokens")) {
            show_tokens = 1;
        } else if (FLAG_VALUE("--step") || FLAG_VALUE("--world-size") || FLAG_VALUE("--max-chars")) {
            char *end;
            long long x = strtoll(v, &end, 10);
            if (*end || end == v) {
                olmo_err("%s: expected an integer, found '%s'", a, v);
                goto out;
            }
            if (!strncmp(a, "--step", 6)) step = x;
            else if (!strncmp(a, "--world-size", 12)) world = x;
            else max_chars = x;
        } else if (FLAG_VALUE("--tokenizer")) {
            tok_path = v;
        } else if (!strncmp(a, "--", 2) && strchr(a, '=')) {
            overrides[n_ov++] = argv[i];
        } else if (a[0] != '-' && !config) {
            config = a;
        } else {
            olmo_err("unexpected argument '%s' (see olmo inspect batch --help)", a);
            goto out;
        }
#undef FLAG_VALUE
    }
    if (!config) {
        usage(stderr);
        olmo_err("no config given");
        goto out;
    }
    if (step < 1) {
        olmo_err("--step N is required and counts from 1 (found %lld)", (long long)step);
        goto out;
    }
    if (world < 1 || world > 1000000 || max_chars < 0) {
        olmo_err("--world-size must be >= 1 and --max-chars >= 0");
        goto out;
    }

    struct train_config tc;
    if (train_config_load(&tc, config, n_ov, overrides, 1) < 0) goto out;
    struct train_data d;
    if (train_data_open(&d, &tc, (int)world) < 0) {
        train_config_free(&tc);
        goto out;
    }
    struct olmo_tokenizer *tok = NULL;
    if (!no_text) {
        char *tp = tok_path ? olmo_strdup(tok_path) : find_tokenizer(tc.tokenizer_identifier, config);
        if (tp) {
            tok = tok_load(tp);
            if (!tok) {
                olmo_err_prefix("loading the tokenizer %s: ", tp);
                free(tp);
                goto out_data;
            }
        } else if (!json) {
            olmo_log_warn("tokenizer '%s' not found; showing ids only (--tokenizer PATH for text)",
                          tc.tokenizer_identifier ? tc.tokenizer_identifier : "(none)");
        }
        free(tp);
    }

    int64_t B = tc.global_train_batch_size, T = tc.model.max_seq_len;
    int64_t epoch;
    uint64_t start;
    data_order_locate_step(&d.order, B, d.first_epoch, step, &epoch, &start);
    uint64_t *idx = olmo_malloc((size_t)B * sizeof *idx);
    int32_t *toks = olmo_malloc((size_t)T * sizeof *toks);
    int32_t *tg = olmo_malloc((size_t)T * sizeof *tg);
    int64_t n = idx && toks && tg ? train_data_batch_at(&d, epoch, start, -1, idx, NULL, NULL) : -1;
    if (n < 0) goto out_tok;
    int64_t spe = train_data_steps_per_epoch(&d);
    int64_t max_steps = train_config_max_steps(&tc, spe);

    json_t *root = NULL, *arr = NULL;
    if (json) {
        root = json_object();
        arr = json_array();
        json_object_set_new(root, "step", json_integer(step));
        json_object_set_new(root, "epoch", json_integer(epoch));
        json_object_set_new(root, "examples_seen_this_epoch", json_integer((json_int_t)start));
        json_object_set_new(root, "global_batch_size", json_integer(B));
        json_object_set_new(root, "sequence_length", json_integer(T));
        json_object_set_new(root, "world_size", json_integer(world));
        json_object_set_new(root, "data_seed", json_integer(tc.data_seed));
        json_object_set_new(root, "n_instances", json_integer((json_int_t)d.n_instances));
        json_object_set_new(root, "steps_per_epoch", json_integer(spe));
        json_object_set_new(root, "instances", arr);
    } else {
        printf("step %lld: epoch %lld, positions %llu..%llu of this epoch's order (%lld per batch, %lld steps per "
               "epoch, %llu instances of %lld tokens in %zu file(s), data seed %lld + epoch, world size %lld)\n",
               (long long)step, (long long)epoch, (unsigned long long)start,
               (unsigned long long)(start + (uint64_t)(n > 0 ? n - 1 : 0)),
               (long long)B, (long long)spe, (unsigned long long)d.n_instances, (long long)T, d.n_files,
               (long long)tc.data_seed, (long long)world);
        if (max_steps > 0 && step > max_steps)
            printf("note: the run stops at step %lld (max_duration / stop_at); this step is past its end\n",
                   (long long)max_steps);
        if (n == 0) printf("(no batch: the epoch's remaining instances do not fill one and data.drop_last is set)\n");
    }
    for (int64_t k = 0; k < n; k++) {
        size_t fi;
        uint64_t off;
        if (train_data_locate(&d, idx[k], &fi, &off) < 0 || train_data_fill(&d, &idx[k], 1, toks, tg) < 0) {
            json_decref(root);
            goto out_tok;
        }
        int masked = d.instance_filter && tg[0] == TRAIN_IGNORE_INDEX && T > 1;
        char *text = NULL;
        size_t tlen = 0;
        if (tok && !(text = tok_decode(tok, toks, (size_t)T, 0, &tlen))) {
            json_decref(root);
            goto out_tok;
        }
        if (json) {
            json_t *o = json_object();
            json_object_set_new(o, "index", json_integer((json_int_t)idx[k]));
            json_object_set_new(o, "file", json_string(d.files[fi].path));
            json_object_set_new(o, "start", json_integer((json_int_t)off));
            json_object_set_new(o, "rank", json_integer(k % world));
            if (d.instance_filter) json_object_set_new(o, "masked", json_boolean(masked));
            if (text) json_object_set_new(o, "text", json_stringn(text, tlen));
            if (show_tokens) {
                json_t *ta = json_array();
                for (int64_t t = 0; t < T; t++) json_array_append_new(ta, json_integer(toks[t]));
                json_object_set_new(o, "tokens", ta);
            }
            json_array_append_new(arr, o);
        } else {
            printf("[%lld] index %llu  %s  tokens %llu..%llu", (long long)k, (unsigned long long)idx[k],
                   d.files[fi].path, (unsigned long long)off, (unsigned long long)(off + (uint64_t)T));
            if (world > 1) printf("  rank %lld", (long long)(k % world));
            if (masked) printf("  MASKED (repetition filter: no loss)");
            putchar('\n');
            if (text) {
                fputs("    ", stdout);
                print_text_line(text, tlen, (size_t)max_chars);
                putchar('\n');
            }
            if (show_tokens) {
                fputs("    ids:", stdout);
                for (int64_t t = 0; t < T; t++) printf(" %d", toks[t]);
                putchar('\n');
            }
        }
        free(text);
    }
    if (json) {
        char *s = json_dumps(root, JSON_COMPACT);
        json_decref(root);
        if (!s) {
            olmo_err("writing JSON failed (text not valid UTF-8?)");
            goto out_tok;
        }
        puts(s);
        free(s);
    }
    rc = 0;
out_tok:
    free(idx);
    free(toks);
    free(tg);
    tok_free(tok);
out_data:
    train_data_close(&d);
    train_config_free(&tc);
out:
    free(overrides);
    if (rc) return cli_fail("inspect batch");
    return 0;
}

int cmd_inspect(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "batch")) return inspect_batch(argc - 1, argv + 1);
    olmo_err("unknown subcommand '%s' (olmo inspect batch CONFIG --step N)", argv[1]);
    return cli_fail("inspect");
}
