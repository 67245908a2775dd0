/* cmd_data_search.c — `olmo data search INDEX_DIR "TEXT" [--max N] [--context K] [--json]`: where a phrase
 * occurs: document index, source file and offsets, the document's metadata (id, src, loc from the .csv.gz) and
 * the surrounding text; with --config, the training steps that read each found occurrence (data_order.h). */
#include "cli/commands.h"
#include "cli/index_cli.h"
#include "cli/index_steps.h"

#include "base/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: olmo data search INDEX_DIR (\"TEXT\" | --ids 1,2,3) [-t TOKENIZER.json] [options]\n\n"
            "Lists occurrences of a phrase (in suffix-array order, shard by shard): document, file, offsets,\n"
            "metadata and the text around it. \"a AND b OR c\" lists co-occurrences (see `olmo data count`).\n\n"
            "  --max N           occurrences shown (default 10)\n"
            "  --context K       tokens of text on each side, clipped to the document (default 20)\n"
            "  --json            one JSON object per line: {\"count\"} first, then one per hit\n"
            "  --config CFG.yaml training config: also print the training steps whose batch held each hit\n"
            "                    (the instance holding it, located in OLMo's data order; `olmo inspect batch`)\n"
            "  --max-diff N, --max-occ N   as in `olmo data count`\n");
}

static void print_hit(const struct index_cli *c, json_t *h, int json) {
    if (json) { index_cli_print_json(h); return; }
    const char *id = json_string_value(json_object_get(h, "id"));
    printf("doc %lld%s%s  %s @%lld (doc offset %lld of %lld)", (long long)json_integer_value(json_object_get(h, "doc")),
           id ? " id=" : "", id ? id : "", json_string_value(json_object_get(h, "file")),
           (long long)json_integer_value(json_object_get(h, "file_offset")),
           (long long)json_integer_value(json_object_get(h, "doc_offset")),
           (long long)json_integer_value(json_object_get(h, "doc_tokens")));
    json_t *steps = json_object_get(h, "steps");
    if (steps) {
        printf("  steps:");
        size_t k; json_t *v;
        json_array_foreach(steps, k, v) printf(" %lld", (long long)json_integer_value(v));
        if (!json_array_size(steps)) printf(" none (not in a trained instance)");
    }
    printf("\n  ...%s[[%s]]%s...\n", json_string_value(json_object_get(h, "before")),
           json_string_value(json_object_get(h, "match")), json_string_value(json_object_get(h, "after")));
    (void)c;
}

int cmd_data_search(int argc, char **argv) {
    const char *dir = NULL, *text = NULL, *tok = NULL, *ids = NULL, *config = NULL;
    int json = 0, have_text = 0;
    long max = 10, context = 20;
    uint64_t max_diff = 100, max_occ = 1000000;
    for (int i = 1; i < argc; i++) {
        if (index_cmd_common(argc, argv, &i, &tok, &ids, &json)) continue;
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        else if ((!strcmp(a, "--max") || !strcmp(a, "-n")) && more) max = atol(argv[++i]);
        else if (!strcmp(a, "--context") && more) context = atol(argv[++i]);
        else if (!strcmp(a, "--config") && more) config = argv[++i];
        else if (!strcmp(a, "--max-diff") && more) max_diff = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--max-occ") && more) max_occ = strtoull(argv[++i], NULL, 10);
        else if (a[0] == '-' && a[1]) { fprintf(stderr, "olmo data search: unknown option '%s'\n\n", a); usage(stderr); return 2; }
        else if (!dir) dir = a;
        else if (!have_text) { text = a; have_text = 1; }
        else { fprintf(stderr, "olmo data search: one query TEXT only (quote it)\n"); return 2; }
    }
    if (!dir || (!have_text && !ids) || max < 0 || context < 0) { usage(stderr); return 2; }
    struct index_cli c;
    if (index_cli_open(&c, dir, tok, 0) < 0) return cli_fail("data search");
    int rc = 1;
    uint32_t *q = NULL;
    size_t m = 0;
    struct idx_range *rs = calloc(c.ix.n_shards, sizeof *rs);
    struct idx_hit *hits = NULL;
    struct index_steps st = {0};
    int64_t n = 0;
    size_t nh = 0;
    if (config && index_steps_open(&st, config, &c.ix) < 0) goto done;
    if (!ids && index_cmd_is_cnf(text)) {
        if (index_cmd_cnf(&c, text, max_diff, max_occ, &n, &hits) < 0) goto done;
        nh = (size_t)(n < max ? n : max);
        m = 0;
    } else {
        if (index_cli_query(&c, text, ids, &q, &m) < 0) goto done;
        if (!m) { olmo_err("empty query: nothing to search for"); goto done; }
        if (!rs || (n = idx_find(&c.ix, q, m, rs)) < 0) goto done;
        hits = calloc((size_t)(n < max ? n : max) + 1, sizeof *hits);
        if (!hits) { olmo_err("out of memory"); goto done; }
        for (uint32_t s = 0; s < c.ix.n_shards && (long)nh < max; s++)
            for (uint64_t r = rs[s].lo; r < rs[s].hi && (long)nh < max; r++)
                idx_hit_at(&c.ix, s, idx_sa_at(&c.ix.shards[s], r), &hits[nh++]);
    }
    if (json) {
        json_t *o = json_pack("{s:I}", "count", (json_int_t)n);
        index_cli_print_json(o);
        json_decref(o);
    } else {
        printf("%lld occurrence(s)%s\n", (long long)n, (long)nh < n ? ", showing the first ones" : "");
    }
    for (size_t k = 0; k < nh; k++) {
        size_t mlen = m;
        json_t *h = index_cli_hit_json(&c, &hits[k], mlen ? mlen : 1, context);
        if (config && index_steps_add(&st, &c.ix, &hits[k], h) < 0) { json_decref(h); goto done; }
        print_hit(&c, h, json);
        json_decref(h);
    }
    rc = 0;
done:
    if (rc) cli_fail("data search");
    index_steps_close(&st);
    free(q); free(rs); free(hits);
    index_cli_close(&c);
    return rc;
}
