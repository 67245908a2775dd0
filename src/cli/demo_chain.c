/* demo_chain.c — the main job's steps, in order (the list is in cmd_demo.c's header). Each step after the corpus
 * is the `olmo` command a user would type; this file only decides their arguments and the files between them. */
#include "cli/demo.h"
#include "base/error.h"
#include "base/file.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/mem.h"
#include "data/docs.h"
#include "train/checkpoint.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Dolma attribute keys are "<experiment>__<tagger>__<type>" */
#define EXP "demo"
#define TAGGERS "gopher_v1,pii_regex_v2,cld2_en_doc_v2,char_length_v1"

/* Paths under OUT, made once (OUT is at most DEMO_OUT_MAX bytes, so every one fits). */
#define DEMO_OUT_MAX 900
#define DP 1024
struct demo_paths {
    char out[DP];
    char docs_glob[DP], heldout_glob[DP], mixed_dir[DP], mixed_glob[DP];
    char configs[DP], dedup_cfg[DP], mix_cfg[DP], train_cfg[DP], bloom[DP];
    char curation[DP], tokenizer[DP], tokens_dir[DP], tokens_glob[DP];
    char eval_dir[DP], samples_dir[DP];
    char index_dir[DP];
};

static void make_paths(struct demo_paths *p, const char *out) {
    snprintf(p->out, sizeof p->out, "%s", out);
#define P(field, fmt) snprintf(p->field, sizeof p->field, fmt, p->out)
    P(docs_glob, "%.900s/documents/*/*.jsonl.gz");
    P(heldout_glob, "%.900s/heldout/*.jsonl.gz");
    P(mixed_dir, "%.900s/mixed");
    P(mixed_glob, "%.900s/mixed/*.gz");
    P(configs, "%.900s/configs");
    P(dedup_cfg, "%.900s/configs/dedup.json");
    P(mix_cfg, "%.900s/configs/mix.json");
    P(train_cfg, "%.900s/configs/train.yaml");
    P(bloom, "%.900s/configs/paragraphs.bloom");
    P(curation, "%.900s/curation");
    P(tokenizer, "%.900s/tokenizer.json");
    P(tokens_dir, "%.900s/tokens");
    P(tokens_glob, "%.900s/tokens/*.npy");
    P(eval_dir, "%.900s/eval");
    P(samples_dir, "%.900s/samples");
    P(index_dir, "%.900s/index");
#undef P
}

/* OUT is emptied first, but only when it is empty or a previous demo's output (it has commands.sh): never a
 * folder of the user's that happens to have that name. */
static int prepare_out(const char *out) {
    struct stat st;
    if (stat(out, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) return olmo_err("%s: exists and is not a folder", out);
        char *marker = olmo_path_join(out, "commands.sh");
        int ours = marker && olmo_file_exists(marker);
        free(marker);
        int empty = rmdir(out) == 0;
        if (!empty && !ours)
            return olmo_err("%s: exists and is not the output of an earlier `olmo demo` (no commands.sh): "
                            "choose another --out", out);
        if (!empty && ckpt_remove_tree(out) != 0) return -1;
    }
    return olmo_mkdir_p(out);
}

static int write_json(const char *path, json_t *j) {
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (!s) return olmo_err("%s: cannot serialise the config", path);
    size_t n = strlen(s);
    s[n] = 0;
    int rc = olmo_write_file_atomic(path, s, n);
    free(s);
    return rc;
}

/* Dolma's dedupe config: duplicate paragraphs across the whole corpus, one Bloom filter (spec §3.1). */
static int write_dedup_config(const struct demo_paths *p, size_t n_docs, int quick) {
    json_t *c = json_pack("{s:[s], s:{s:s, s:{s:s}, s:b}, s:{s:s, s:b, s:I, s:f}, s:i}",
                          "documents", p->docs_glob,
                          "dedupe", "name", "dedupe_paragraphs", "paragraphs", "attribute_name",
                          "bff_duplicate_paragraph_spans", "skip_empty", 1,
                          "bloom_filter", "file", p->bloom, "read_only", 0, "estimated_doc_count",
                          (json_int_t)(n_docs * 20 + 1000), "desired_false_positive_rate", quick ? 1e-3 : 1e-5,
                          "processes", 2);
    return c ? write_json(p->dedup_cfg, c) : olmo_err("dedup config: out of memory");
}

/* A Dolma JSONPath filter on one numeric attribute, guarded as Dolma's own configs write it (spec §4.4). */
static json_t *rule(const char *key, const char *op, double v) {
    char s[512];
    snprintf(s, sizeof s, "$.attributes[?(@.%s && @.%s[0] && @.%s[0][2] %s %g)]", key, key, key, op, v);
    return json_string(s);
}

/* Dolma's mixer config: quality and language filters, duplicate paragraphs removed, PII masked (spec §4). The
 * thresholds are Dolma's Gopher rules where they suit reference text (dictionary entries are short: a 10-word
 * minimum, not the web's 50), and a document must be mostly English (cld2). */
static int write_mix_config(const struct demo_paths *p) {
    json_t *exclude = json_array();
    json_array_append_new(exclude, rule(EXP "__gopher_v1__word_count", "<", 10));
    json_array_append_new(exclude, rule(EXP "__gopher_v1__fraction_of_words_with_alpha_character", "<", 0.5));
    json_array_append_new(exclude, rule(EXP "__gopher_v1__symbol_to_word_ratio", ">", 0.1));
    json_array_append_new(exclude, rule(EXP "__gopher_v1__fraction_of_duplicate_lines", ">", 0.3));
    json_array_append_new(exclude, rule(EXP "__cld2_en_doc_v2__not_en", ">", 0.5));
    json_t *spans = json_array();
    static const char *const pii[] = {"EMAIL_ADDRESS", "PHONE_NUMBER", "IP_ADDRESS"};
    for (int i = 0; i < 3; i++) {
        char span[128], repl[64];
        snprintf(span, sizeof span, "$.attributes." EXP "__pii_regex_v2__%s", pii[i]);
        snprintf(repl, sizeof repl, " |||%s||| ", pii[i]);
        json_array_append_new(spans, json_pack("{s:s, s:f, s:s}", "span", span, "min_score", 0.5, "replacement", repl));
    }
    json_array_append_new(spans, json_pack("{s:s, s:f, s:s}", "span", "$.attributes.bff_duplicate_paragraph_spans",
                                           "min_score", 0.5, "replacement", ""));
    json_t *c = json_pack("{s:[{s:s, s:[s], s:[s,s], s:{s:[], s:o}, s:o, s:{s:s, s:I, s:i}}], s:i}",
                          "streams", "name", "debian", "documents", p->docs_glob, "attributes", EXP,
                          "dedupe_paragraphs", "filter", "include", "exclude", exclude, "span_replacement", spans,
                          "output", "path", p->mixed_dir, "max_size_in_bytes", (json_int_t)64 << 20,
                          "min_text_length", 1, "processes", 2);
    return c ? write_json(p->mix_cfg, c) : olmo_err("mix config: out of memory");
}

/* argv for a command over a glob's files (commands that take FILE... rather than a Dolma glob). */
static const char **with_files(const char *const *head, int n_head, const char *pattern, const char *const *tail,
                               int n_tail, char ***files_out) {
    size_t n = 0;
    char **files = docs_glob(pattern, &n);
    if (!files) return NULL;
    const char **av = olmo_calloc((size_t)n_head + n + (size_t)n_tail + 1, sizeof *av);
    if (!av) { docs_paths_free(files); return NULL; }
    int k = 0;
    for (int i = 0; i < n_head; i++) av[k++] = head[i];
    for (size_t i = 0; i < n; i++) av[k++] = files[i];
    for (int i = 0; i < n_tail; i++) av[k++] = tail[i];
    *files_out = files;
    return av;
}

static int run_over_files(struct demo_steps *d, const char *name, const char *const *head, int n_head,
                          const char *pattern, const char *const *tail, int n_tail, const char *stdout_path) {
    char **files = NULL;
    const char **av = with_files(head, n_head, pattern, tail, n_tail, &files);
    if (!av) return -1;
    int rc = demo_run(d, name, av, stdout_path);
    free(av);
    docs_paths_free(files);
    return rc;
}

/* The checkpoint the file run/latest names (the trainer writes it last, with the step folder's name). */
static int latest_checkpoint(const char *out, char *buf, size_t n) {
    char path[PATH_MAX], name[256] = {0};
    snprintf(path, sizeof path, "%s/run/latest", out);
    FILE *f = fopen(path, "r");
    if (!f) return olmo_err("%s: no checkpoint was written", path);
    int ok = fgets(name, sizeof name, f) != NULL;
    fclose(f);
    name[strcspn(name, "\r\n")] = 0;
    if (!ok || !name[0] || strchr(name, '/'))
        return olmo_err("%s: expected the name of a step folder, found \"%s\"", path, name);
    snprintf(buf, n, "%s/run/%s", out, name);
    return 0;
}

int demo_run_chain(const struct demo_opts *o) {
    struct demo_results *r = olmo_calloc(1, sizeof *r);
    struct demo_paths *p = olmo_calloc(1, sizeof *p);
    if (!r || !p) { free(r); free(p); return -1; }
    r->opts = o;
    r->size = o->quick ? (struct demo_size){.vocab = 1024, .d_model = 32, .n_heads = 2, .n_layers = 2, .seq = 64,
                                            .batch = 8, .micro = 8, .steps = 16, .warmup = 2, .eval_interval = 8,
                                            .bytes_per_source = 40 * 1024, .lr = 3e-3, .precision = "fp32"}
                       : (struct demo_size){.vocab = 8192, .d_model = 128, .n_heads = 4, .n_layers = 4, .seq = 256,
                                            .batch = 16, .micro = 16, .bytes_per_source = 2500 * 1024, .lr = 3e-3};
    int rc = -1;
    struct demo_steps *d = &r->steps;
    if (strlen(o->out) > DEMO_OUT_MAX) {
        olmo_err("--out: expected a path of at most %d bytes, found %zu", DEMO_OUT_MAX, strlen(o->out));
        goto out;
    }
    make_paths(p, o->out);
    char path[PATH_MAX], n1[32], n2[32];
    if (prepare_out(o->out) != 0 || olmo_mkdir_p(p->configs) != 0 || olmo_mkdir_p(p->curation) != 0 ||
        olmo_mkdir_p(p->eval_dir) != 0 || olmo_mkdir_p(p->samples_dir) != 0)
        goto out;
    snprintf(path, sizeof path, "%s/commands.sh", o->out);
    if (demo_steps_init(d, path) != 0) goto out;

    /* 1. the corpus */
    struct demo_step *s = demo_begin(d, "corpus", "[1/11] corpus: Debian packages -> Dolma documents, one source each");
    struct demo_corpus_opts co = {o->out, r->size.bytes_per_source, o->quick ? 8 : 40};
    if (demo_corpus_gather(&co, r->src, &r->n_src) != 0) goto out;
    demo_end(d, s);
    size_t n_docs = 0;
    for (size_t i = 0; i < r->n_src; i++) {
        const struct demo_source_stats *x = &r->src[i];
        n_docs += x->docs;
        if (x->present)
            fprintf(stderr, "  %-10s %-12s %7zu documents %6.2f MB  (+%zu held out)\n", x->name, x->package, x->docs,
                    (double)x->bytes / 1e6, x->held_docs);
        else
            fprintf(stderr, "  %-10s %-12s not installed (bash scripts/install-deps.sh adds it)\n", x->name, x->package);
    }

    /* 2-5. curation */
    {
        const char *tag[] = {"data", "tag", "--documents", p->docs_glob, "--taggers", TAGGERS, "--experiment", EXP,
                             "--processes", "2", NULL};
        if (demo_run(d, "tag", tag, NULL) != 0) goto out;
    }
    if (write_dedup_config(p, n_docs, o->quick) != 0 || write_mix_config(p) != 0) goto out;
    {
        const char *dedup[] = {"data", "dedup", "-c", p->dedup_cfg, NULL};
        const char *mix[] = {"data", "mix", "-c", p->mix_cfg, NULL};
        if (demo_run(d, "dedup", dedup, NULL) != 0 || demo_run(d, "mix", mix, NULL) != 0) goto out;
    }
    {
        char in_json[PATH_MAX], out_json[PATH_MAX];
        snprintf(in_json, sizeof in_json, "%s/stats-in.json", p->curation);
        snprintf(out_json, sizeof out_json, "%s/stats-out.json", p->curation);
        const char *st_in[] = {"data", "stats", "--documents", p->docs_glob, "--attributes", EXP, "--json", NULL};
        const char *st_out[] = {"data", "stats", "--documents", p->mixed_glob, "--json", NULL};
        if (demo_run(d, "stats (in)", st_in, in_json) != 0 || demo_run(d, "stats (out)", st_out, out_json) != 0)
            goto out;
    }

    /* 6-7. tokenizer and token files */
    snprintf(n1, sizeof n1, "%d", r->size.vocab);
    {
        const char *head[] = {"tokenizer", "train", "--vocab-size", n1, "-o", p->tokenizer};
        if (run_over_files(d, "tokenizer", head, 6, p->mixed_glob, NULL, 0, NULL) != 0) goto out;
        const char *tok[] = {"data", "tokens", "--documents", p->mixed_glob, "--tokenizer.name_or_path", p->tokenizer,
                             "--tokenizer.eos_token_id", "0", "--destination", p->tokens_dir, "--dtype", "uint16",
                             "--processes", "2", NULL};
        if (demo_run(d, "tokens", tok, NULL) != 0) goto out;
    }

    /* 8. training */
    if (!o->quick) {
        s = demo_begin(d, "sizing", "[8/11] sizing the training run to this machine");
        if (demo_size_to_budget(&r->size, o->train_seconds) != 0) goto out;
        demo_end(d, s);
        fprintf(stderr, "  %.0f tokens/s (%s): %d steps of %d x %d tokens fit in %.0f s\n",
                r->size.calibrated_tokens_per_s, r->size.precision, r->size.steps, r->size.batch, r->size.seq,
                o->train_seconds);
    }
    char cloze[DP + 32];
    snprintf(cloze, sizeof cloze, "%s/debian_cloze.jsonl", p->eval_dir);
    if (demo_write_cloze_task(p->heldout_glob, cloze, o->quick ? 40 : 400) != 0) goto out;
    /* the held-out documents of each source that has some (a small source may have none) */
    const char *held_names[DEMO_MAX_SOURCES], *held_files[DEMO_MAX_SOURCES];
    char held[DEMO_MAX_SOURCES][DP + 64];
    int nh = 0;
    for (size_t i = 0; i < r->n_src; i++)
        if (r->src[i].held_docs > 0) {
            snprintf(held[nh], sizeof held[nh], "%s/heldout/%s.jsonl.gz", p->out, r->src[i].name);
            held_names[nh] = r->src[i].name;
            held_files[nh] = held[nh];
            nh++;
        }
    if (demo_write_train_config(p->train_cfg, o->out, &r->size, 0, 1, nh, held_names, held_files, cloze) != 0)
        goto out;
    snprintf(n2, sizeof n2, "%.0f", o->quick ? 0 : 1.5 * o->train_seconds);
    {
        const char *train[] = {"train", p->train_cfg, o->quick ? NULL : "--max-seconds", n2, NULL};
        if (demo_run(d, "train", train, NULL) != 0) goto out;
    }
    if (latest_checkpoint(o->out, r->checkpoint, sizeof r->checkpoint) != 0) goto out;

    /* 9. evaluation */
    {
        char ppl_json[PATH_MAX], tasks_json[PATH_MAX];
        snprintf(ppl_json, sizeof ppl_json, "%s/ppl.json", p->eval_dir);
        snprintf(tasks_json, sizeof tasks_json, "%s/tasks.json", p->eval_dir);
        const char *ppl[DEMO_MAX_SOURCES + 8] = {"eval", "ppl", "-m", r->checkpoint};
        int k = 4;
        for (int i = 0; i < nh; i++) ppl[k++] = held_files[i];
        ppl[k++] = "--json";
        ppl[k++] = ppl_json;
        ppl[k] = NULL;
        if (demo_run(d, "eval ppl", ppl, NULL) != 0) goto out;
        const char *tasks[] = {"eval", "tasks", "-m", r->checkpoint, "--tasks", cloze, "--json", tasks_json, NULL};
        if (demo_run(d, "eval tasks", tasks, NULL) != 0) goto out;
    }

    /* 10. samples */
    static const char *const prompts[3] = {"And God said", "HACKER, n.", "The Perl function"};
    for (int i = 0; i < 3; i++) {
        char js[PATH_MAX];
        snprintf(js, sizeof js, "%s/sample-%d.json", p->samples_dir, i);
        const char *gen[] = {"generate", "-m", r->checkpoint, "-p", prompts[i], "-n", o->quick ? "16" : "64",
                             "--temperature", "0.8", "--top-k", "40", "-s", i == 0 ? "1" : i == 1 ? "2" : "3",
                             "--json", NULL};
        if (demo_run(d, "generate", gen, js) != 0) goto out;
        r->prompts[i] = prompts[i];
    }

    /* 11. provenance: index the training tokens, trace the first sample back to them */
    {
        const char *head[] = {"data", "index"};
        const char *tail[] = {"-o", p->index_dir, "-t", p->tokenizer, "--eos", "0", "--quiet"};
        if (run_over_files(d, "index", head, 2, p->tokens_glob, tail, 7, NULL) != 0) goto out;
        char sample_txt[PATH_MAX], trace_json[PATH_MAX];
        snprintf(sample_txt, sizeof sample_txt, "%s/sample-0.txt", p->samples_dir);
        snprintf(trace_json, sizeof trace_json, "%s/trace.json", p->eval_dir);
        if (demo_sample_text(p->samples_dir, 0, sample_txt) != 0) goto out;
        const char *trace[] = {"trace", "--index", p->index_dir, "-f", sample_txt, "--json", NULL};
        if (demo_run(d, "trace", trace, trace_json) != 0) goto out;
    }

    /* 12. the report */
    s = demo_begin(d, "report", "[11/11] report");
    if (demo_write_report(r) != 0) goto out;
    demo_end(d, s);
    fprintf(stderr, "\ndone in %.0f s: %s/report.md\n", olmo_now() - d->t0, o->out);
    rc = 0;
out:
    demo_steps_free(d);
    free(r);
    free(p);
    return rc;
}
