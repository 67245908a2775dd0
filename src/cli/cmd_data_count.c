/* cmd_data_count.c — `olmo data count INDEX_DIR (-t TOKENIZER.json "TEXT" | --ids 1,2,3) [--json]`: how often a
 * phrase occurs in the indexed token files (per shard too); "a AND b OR c" counts co-occurrences (idx_cnf). */
#include "cli/commands.h"
#include "cli/index_cli.h"

#include "base/error.h"
#include "base/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: olmo data count INDEX_DIR (\"TEXT\" | --ids 1,2,3) [-t TOKENIZER.json] [--json]\n\n"
            "Counts the occurrences of a phrase in the indexed token files (matches never cross a file end).\n"
            "TEXT is tokenized with -t or the tokenizer recorded in the index, without BOS/EOS. \"a AND b OR c\"\n"
            "counts occurrences of the rarest clause with every other clause within --max-diff tokens in the same\n"
            "document (OR binds tighter than AND, as in infini-gram).\n\n"
            "  --json            {\"count\", \"tokens\", \"per_shard\", \"seconds\"} on one line\n"
            "  --max-diff N      AND window in tokens (default 100)\n"
            "  --max-occ N       refuse a clause occurring more often (default 1000000)\n");
}

int cmd_data_count(int argc, char **argv) {
    const char *dir = NULL, *text = NULL, *tok = NULL, *ids = NULL;
    int json = 0, have_text = 0;
    uint64_t max_diff = 100, max_occ = 1000000;
    for (int i = 1; i < argc; i++) {
        if (index_cmd_common(argc, argv, &i, &tok, &ids, &json)) continue;
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--max-diff") && i + 1 < argc) max_diff = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--max-occ") && i + 1 < argc) max_occ = strtoull(argv[++i], NULL, 10);
        else if (a[0] == '-' && a[1]) { fprintf(stderr, "olmo data count: unknown option '%s'\n\n", a); usage(stderr); return 2; }
        else if (!dir) dir = a;
        else if (!have_text) { text = a; have_text = 1; }
        else { fprintf(stderr, "olmo data count: one query TEXT only (quote it)\n"); return 2; }
    }
    if (!dir || (!have_text && !ids)) { usage(stderr); return 2; }
    struct index_cli c;
    if (index_cli_open(&c, dir, tok, ids ? INDEX_CLI_NO_TOK : 0) < 0) return cli_fail("data count");
    int rc = 1;
    uint32_t *q = NULL;
    size_t m = 0;
    struct idx_range *rs = calloc(c.ix.n_shards, sizeof *rs);
    double t0 = olmo_now();
    int64_t n;
    if (!ids && index_cmd_is_cnf(text)) {
        if (index_cmd_cnf(&c, text, max_diff, max_occ, &n, NULL) < 0) goto done;
        double dt = olmo_now() - t0;
        if (json) {
            json_t *o = json_pack("{s:I, s:b, s:s, s:f}", "count", (json_int_t)n, "approx", 0, "query", text, "seconds", dt);
            index_cli_print_json(o);
            json_decref(o);
        } else printf("%lld\n", (long long)n);
        rc = 0;
        goto done;
    }
    if (index_cli_query(&c, text, ids, &q, &m) < 0) goto done;
    if (text && !*text && !ids) olmo_log_warn("data count: empty query: counting every token");
    if (!rs || (n = idx_find(&c.ix, q, m, rs)) < 0) goto done;
    double dt = olmo_now() - t0;
    if (json) {
        json_t *o = json_object(), *jt = json_array(), *js = json_array();
        json_object_set_new(o, "count", json_integer(n));
        json_object_set_new(o, "approx", json_false());
        for (size_t k = 0; k < m; k++) json_array_append_new(jt, json_integer(q[k]));
        json_object_set_new(o, "tokens", jt);
        for (uint32_t s = 0; s < c.ix.n_shards; s++) json_array_append_new(js, json_integer((json_int_t)(rs[s].hi - rs[s].lo)));
        json_object_set_new(o, "per_shard", js);
        json_object_set_new(o, "seconds", json_real(dt));
        index_cli_print_json(o);
        json_decref(o);
    } else {
        printf("%lld\n", (long long)n);
    }
    rc = 0;
done:
    if (rc) cli_fail("data count");
    free(q); free(rs);
    index_cli_close(&c);
    return rc;
}
