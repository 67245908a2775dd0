/* cmd_data_ngram.c — `olmo data ngram INDEX_DIR "CONTEXT" [--top K] [--n N] [--json]`: the next-token
 * distribution after a context, with infini-gram's ∞-gram rule by default: back off to the longest suffix of the
 * context that occurs in the data (suffix_len; effective n = suffix_len + 1), and count what follows it. */
#include "cli/commands.h"
#include "cli/index_cli.h"

#include "base/error.h"
#include "base/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: olmo data ngram INDEX_DIR (\"CONTEXT\" | --ids 1,2,3) [-t TOKENIZER.json] [options]\n\n"
            "Next-token counts after CONTEXT. Default: the ∞-gram — the longest suffix of the context found in the\n"
            "data is used (reported as suffix_len). An occurrence at a file end counts as EOS.\n\n"
            "  --top K     most frequent next tokens shown (default 10; 0 = all)\n"
            "  --n N       a plain N-gram: the last N-1 context tokens, no backoff (count 0 = no distribution)\n"
            "  --json      {\"suffix_len\", \"prompt_count\", \"distinct\", \"next\": [{token, text, count, prob}]}\n");
}

int cmd_data_ngram(int argc, char **argv) {
    const char *dir = NULL, *text = NULL, *tok = NULL, *ids = NULL;
    int json = 0, have_text = 0;
    long top = 10, nfixed = 0;
    for (int i = 1; i < argc; i++) {
        if (index_cmd_common(argc, argv, &i, &tok, &ids, &json)) continue;
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--top") && more) top = atol(argv[++i]);
        else if (!strcmp(a, "--n") && more) nfixed = atol(argv[++i]);
        else if (a[0] == '-' && a[1]) { fprintf(stderr, "olmo data ngram: unknown option '%s'\n\n", a); usage(stderr); return 2; }
        else if (!dir) dir = a;
        else if (!have_text) { text = a; have_text = 1; }
        else { fprintf(stderr, "olmo data ngram: one CONTEXT only (quote it)\n"); return 2; }
    }
    if (!dir || (!have_text && !ids) || top < 0 || nfixed < 0) { usage(stderr); return 2; }
    struct index_cli c;
    if (index_cli_open(&c, dir, tok, 0) < 0) return cli_fail("data ngram");
    int rc = 1;
    uint32_t *q = NULL, *tk = NULL;
    uint64_t *ct = NULL, total = 0;
    size_t m = 0, *order = NULL;
    if (index_cli_query(&c, text, ids, &q, &m) < 0) goto done;
    size_t suf = nfixed ? ((size_t)nfixed - 1 < m ? (size_t)nfixed - 1 : m) : idx_infgram_suffix(&c.ix, q, m);
    int64_t d = idx_ntd(&c.ix, q + m - suf, suf, &tk, &ct, &total);
    if (d < 0) goto done;
    order = olmo_malloc(((size_t)d + 1) * sizeof *order);
    if (!order) goto done;
    for (size_t k = 0; k < (size_t)d; k++) order[k] = k;
    for (size_t k = 1; k < (size_t)d; k++) {   /* by count, descending; ties by token id */
        size_t v = order[k], j = k;
        while (j > 0 && ct[order[j - 1]] < ct[v]) { order[j] = order[j - 1]; j--; }
        order[j] = v;
    }
    size_t show = top && (size_t)top < (size_t)d ? (size_t)top : (size_t)d;
    json_t *o = json_object(), *jn = json_array();
    json_object_set_new(o, "suffix_len", json_integer((json_int_t)suf));
    json_object_set_new(o, "effective_n", json_integer((json_int_t)suf + 1));
    json_object_set_new(o, "prompt_count", json_integer((json_int_t)total));
    json_object_set_new(o, "distinct", json_integer(d));
    json_object_set_new(o, "sparse", json_boolean(d == 1));
    for (size_t k = 0; k < show; k++) {
        size_t i = order[k];
        char *s = c.tok ? tok_decode(c.tok, (const int32_t *)&tk[i], 1, 0, NULL) : NULL;
        json_t *e = json_pack("{s:I, s:s, s:I, s:f}", "token", (json_int_t)tk[i], "text", s ? s : "", "count",
                              (json_int_t)ct[i], "prob", total ? (double)ct[i] / (double)total : 0.0);
        free(s);
        json_array_append_new(jn, e);
    }
    json_object_set_new(o, "next", jn);
    if (json) index_cli_print_json(o);
    else {
        printf("context suffix of %zu token(s) (effective n = %zu) occurs %llu time(s); %lld distinct next token(s)\n",
               suf, suf + 1, (unsigned long long)total, (long long)d);
        size_t k; json_t *e;
        json_array_foreach(jn, k, e)
            printf("%10lld  %.4f  %6lld  %s\n", (long long)json_integer_value(json_object_get(e, "count")),
                   json_real_value(json_object_get(e, "prob")), (long long)json_integer_value(json_object_get(e, "token")),
                   json_string_value(json_object_get(e, "text")));
    }
    json_decref(o);
    rc = 0;
done:
    if (rc) cli_fail("data ngram");
    free(q); free(tk); free(ct); free(order);
    index_cli_close(&c);
    return rc;
}
