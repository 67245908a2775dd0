/* cmd_trace.c — `olmo trace --index INDEX_DIR (-m MODEL_DIR -p PROMPT | -f TEXT_FILE | --text T) [--json]`:
 * OLMoTrace. Generates a text with the model (or reads one), finds the maximal spans of it that occur verbatim in
 * the indexed training tokens (src/index/trace.c: self-contained, maximal, ranked by unigram probability, capped
 * at ceil(0.05·L)) and shows each span with up to --docs documents it occurs in and their metadata. */
#include "cli/commands.h"
#include "cli/index_cli.h"
#include "cli/model_cli.h"
#include "index/trace.h"

#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: olmo trace --index INDEX_DIR (-m MODEL_DIR -p PROMPT [-n N] | -f TEXT_FILE | --text TEXT) [options]\n\n"
            "Finds the spans of a model's output (or of a text) that occur verbatim in the training data, as\n"
            "OLMoTrace does: maximal, starting and ending on word boundaries, no \"\\n\" or \".\" inside, ranked by\n"
            "unigram probability (rarest first), ceil(density x length) kept, each shown with its documents.\n\n"
            "  --docs N        documents shown per span (default 10; evenly spread over its occurrences)\n"
            "  --context K     tokens of document text on each side of a span (default 40)\n"
            "  --density D     spans kept per output token (default 0.05; 0 = keep all maximal spans)\n"
            "  --max-count N   drop spans occurring more often (default 1000000)\n"
            "  --min-len N     drop shorter spans (default 1)\n"
            "  -t PATH         tokenizer for -f/--text (default: the index's)\n"
            "  --json          one JSON object {text, tokens, spans: [{start, len, text, count, unigram_logprob,\n"
            "                  docs: [...]}], seconds}\n"
            "model options (with -m): as `olmo generate` (-n, --temperature, --seed, ...)\n");
}

/* Word-start and delimiter tables from the tokenizer's token strings (byte-level Ġ/Ċ, SentencePiece ▁). */
static int tables(const struct olmo_tokenizer *tok, size_t *vocab, uint8_t **bow, uint8_t **delim) {
    size_t v = (size_t)tok_vocab_size(tok);
    *bow = olmo_calloc(v, 1);
    *delim = olmo_calloc(v, 1);
    if (!*bow || !*delim) return -1;
    for (size_t i = 0; i < v; i++) {
        const char *s = tok_id_to_token(tok, (int32_t)i);
        if (!s) continue;
        (*bow)[i] = !strncmp(s, "\xC4\xA0", 2) || !strncmp(s, "\xC4\x8A", 2) || !strncmp(s, "\xE2\x96\x81", 3);
        (*delim)[i] = !strcmp(s, "\xC4\x8A") || !strcmp(s, ".") || !strcmp(s, "\n");
    }
    *vocab = v;
    return 0;
}

int cmd_trace(int argc, char **argv) {
    struct model_cli_opts mo = {.n_new = 256, .top_p = 1.0f};
    const char *dir = NULL, *file = NULL, *text = NULL, *tok_path = NULL;
    int json = 0;
    long docs = 10, context = 40;
    struct trace_opts to = {.density = 0.05, .max_count = 1000000, .min_len = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--index") && more) dir = argv[++i];
        else if ((!strcmp(a, "-p") || !strcmp(a, "--prompt")) && more) mo.prompt = argv[++i];
        else if (!strcmp(a, "-f") && more) file = argv[++i];
        else if (!strcmp(a, "--text") && more) text = argv[++i];
        else if ((!strcmp(a, "-t") || !strcmp(a, "--tokenizer")) && more) tok_path = argv[++i];
        else if (!strcmp(a, "--json")) json = 1;
        else if (!strcmp(a, "--docs") && more) docs = atol(argv[++i]);
        else if (!strcmp(a, "--context") && more) context = atol(argv[++i]);
        else if (!strcmp(a, "--density") && more) to.density = atof(argv[++i]);
        else if (!strcmp(a, "--max-count") && more) to.max_count = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--min-len") && more) to.min_len = strtoull(argv[++i], NULL, 10);
        else {
            int r = model_cli_flag(&mo, argc, argv, &i);
            if (r < 0) return cli_fail("trace");
            if (r == 0) { fprintf(stderr, "olmo trace: unknown argument '%s'\n\n", a); usage(stderr); return 2; }
        }
    }
    int sources = (mo.dir != NULL) + (file != NULL) + (text != NULL);
    if (!dir || sources != 1 || (mo.dir && !mo.prompt) || docs < 0 || context < 0) { usage(stderr); return 2; }
    struct index_cli c;
    if (index_cli_open(&c, dir, tok_path, !mo.dir) < 0) return cli_fail("trace");
    int rc = 1;
    char *owned = NULL;
    uint32_t *ids = NULL;
    size_t L = 0;
    uint8_t *bow = NULL, *delim = NULL;
    struct trace_span *sp = NULL;
    json_t *root = json_object(), *jspans = json_array();
    double t0;
    if (mo.dir) {   /* generate: trace the new tokens only */
        struct model_cli m;
        size_t hint = strlen(mo.prompt) + 1 + (size_t)mo.n_new;
        if (model_cli_open(&m, &mo, hint > (1u << 30) ? 0 : (int)hint) != 0) goto done;
        int32_t *p = NULL;
        size_t n = 0;
        int ok = tok_encode(m.tok, mo.prompt, strlen(mo.prompt), 1, &p, &n) == 0 && n > 0;
        if (!ok) olmo_err("trace: the prompt is empty or could not be tokenized");
        ids = ok ? olmo_malloc((size_t)mo.n_new * sizeof *ids + 4) : NULL;
        if (ok && ids && (int)n + mo.n_new > m.gen.state.max_seq) mo.n_new = m.gen.state.max_seq - (int)n;
        ok = ok && ids && gen_prefill(&m.gen, p, (int)n) == 0;
        for (int i = 0; ok && i < mo.n_new; i++) {
            int32_t id;
            if (gen_step(&m.gen, &id) != 0) { ok = 0; break; }
            if (gen_is_stop(&m.gen, id)) break;
            ids[L++] = (uint32_t)id;
        }
        free(p);
        if (ok && !c.tok) c.tok = m.tok, m.tok = NULL;   /* decode with the model's tokenizer */
        model_cli_close(&m);
        if (!ok) goto done;
    } else {
        if (file && !(owned = olmo_read_file(file, NULL))) goto done;
        if (index_cli_query(&c, file ? owned : text, NULL, &ids, &L) < 0) goto done;
    }
    if (!L) { olmo_err("trace: the text is empty (no tokens to trace)"); goto done; }
    if (c.tok) {
        if (tables(c.tok, &to.vocab, &bow, &delim) < 0) goto done;
        to.bow = bow;
        to.delim = delim;
    }
    t0 = olmo_now();
    int64_t ns = trace_spans(&c.ix, ids, L, &to, &sp);
    if (ns < 0) goto done;
    char *full = c.tok ? tok_decode(c.tok, (const int32_t *)ids, L, 0, NULL) : NULL;
    json_object_set_new(root, "text", json_string(full ? full : ""));
    free(full);
    json_object_set_new(root, "tokens", json_integer((json_int_t)L));
    struct idx_range *rs = calloc(c.ix.n_shards, sizeof *rs);
    if (!rs) goto done;
    for (int64_t k = 0; k < ns; k++) {
        json_t *js = json_object(), *jd = json_array();
        char *st = c.tok ? tok_decode(c.tok, (const int32_t *)ids + sp[k].start, sp[k].len, 0, NULL) : NULL;
        json_object_set_new(js, "start", json_integer((json_int_t)sp[k].start));
        json_object_set_new(js, "len", json_integer((json_int_t)sp[k].len));
        json_object_set_new(js, "text", json_string(st ? st : ""));
        json_object_set_new(js, "count", json_integer((json_int_t)sp[k].count));
        json_object_set_new(js, "unigram_logprob", json_real(sp[k].unigram_logprob));
        free(st);
        int64_t cnt = idx_find(&c.ix, ids + sp[k].start, sp[k].len, rs);
        uint64_t want = cnt < docs ? (uint64_t)cnt : (uint64_t)docs;
        for (uint64_t j = 0; j < want; j++) {   /* the j-th of `want` evenly spaced occurrences (deterministic) */
            uint64_t g = (uint64_t)((double)j * (double)cnt / (double)want);
            for (uint32_t s = 0; s < c.ix.n_shards; s++) {
                uint64_t w = rs[s].hi - rs[s].lo;
                if (g >= w) { g -= w; continue; }
                struct idx_hit h;
                idx_hit_at(&c.ix, s, idx_sa_at(&c.ix.shards[s], rs[s].lo + g), &h);
                json_array_append_new(jd, index_cli_hit_json(&c, &h, sp[k].len, context));
                break;
            }
        }
        json_object_set_new(js, "docs", jd);
        json_array_append_new(jspans, js);
    }
    free(rs);
    json_object_set_new(root, "seconds", json_real(olmo_now() - t0));
    json_object_set(root, "spans", jspans);
    if (json) index_cli_print_json(root);
    else {
        printf("%s\n\n%zu tokens, %lld span(s) found in the training data (%.3f s):\n",
               json_string_value(json_object_get(root, "text")), L, (long long)ns,
               json_real_value(json_object_get(root, "seconds")));
        size_t k; json_t *js;
        json_array_foreach(jspans, k, js) {
            printf("\n[%lld..%lld) count %lld  \"%s\"\n", (long long)json_integer_value(json_object_get(js, "start")),
                   (long long)(json_integer_value(json_object_get(js, "start")) + json_integer_value(json_object_get(js, "len"))),
                   (long long)json_integer_value(json_object_get(js, "count")), json_string_value(json_object_get(js, "text")));
            size_t j; json_t *d;
            json_array_foreach(json_object_get(js, "docs"), j, d) {
                const char *id = json_string_value(json_object_get(d, "id"));
                printf("  doc %lld%s%s %s @%lld: ...%s[[%s]]%s...\n", (long long)json_integer_value(json_object_get(d, "doc")),
                       id ? " id=" : "", id ? id : "", json_string_value(json_object_get(d, "file")),
                       (long long)json_integer_value(json_object_get(d, "file_offset")),
                       json_string_value(json_object_get(d, "before")), json_string_value(json_object_get(d, "match")),
                       json_string_value(json_object_get(d, "after")));
            }
        }
    }
    rc = 0;
done:
    if (rc) cli_fail("trace");
    json_decref(root); json_decref(jspans);
    free(owned); free(ids); free(bow); free(delim); free(sp);
    index_cli_close(&c);
    return rc;
}
