/* cmd_eval.c — `olmo eval ppl` (Paloma bits per byte) and `olmo eval tasks` (OLMES multiple choice).
 * The scoring lives in src/eval/; this file parses flags, prints the tables and writes the JSON (docs/eval.md). */
#include "cli/commands.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "eval/eval_model.h"
#include "eval/eval_ppl.h"
#include "eval/eval_tasks.h"
#include "model/kernels/pool.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *ppl_usage =
    "usage: olmo eval ppl -m MODEL FILES... [--ctx N] [--stride S] [--quant q8] [--json OUT] [--skip-bad] [-t N]\n";
static const char *tasks_usage =
    "usage: olmo eval tasks -m MODEL --tasks NAME[,NAME...] [--data DIR] [--shots K] [--limit N] [--json OUT]\n"
    "                       [--ctx N] [--quant q8] [--skip-bad] [--no-reuse] [-t N]\n"
    "       olmo eval tasks --list [--data DIR]\n";

struct common {
    const char *model, *json;
    int ctx, quant_q8, threads, skip_bad;
};

/* 1 if argv[*i] was a common flag (advancing *i), 0 if not, -1 on a bad value. */
static int common_flag(struct common *c, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    int has = *i + 1 < argc;
    if (!strcmp(a, "--skip-bad")) { c->skip_bad = 1; return 1; }
    if (!strcmp(a, "--quant")) {
        if (!has || strcmp(argv[*i + 1], "q8")) return olmo_err("--quant: only 'q8' is supported");
        c->quant_q8 = 1;
        ++*i;
        return 1;
    }
    if ((!strcmp(a, "-m") || !strcmp(a, "--model") || !strcmp(a, "--json") || !strcmp(a, "--ctx") ||
         !strcmp(a, "-t") || !strcmp(a, "--threads"))) {
        if (!has) return olmo_err("%s needs a value", a);
        const char *v = argv[++*i];
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) c->model = v;
        else if (!strcmp(a, "--json")) c->json = v;
        else {
            char *e;
            long n = strtol(v, &e, 10);
            if (*e || n < 1 || n > (1 << 24)) return olmo_err("%s: expected a positive integer, found '%s'", a, v);
            if (!strcmp(a, "--ctx")) c->ctx = (int)n;
            else c->threads = (int)n;
        }
        return 1;
    }
    return 0;
}

static void set_threads(int n) {
    if (n <= 0) return;
    omp_set_num_threads(n);
    olmo_pool_set_threads(n);
}

static const char *model_name(const char *dir) {
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') n--;
    const char *b = dir + n;
    while (b > dir && b[-1] != '/') b--;
    return b;   /* may keep a trailing '/', harmless in a name */
}

static int write_json(const char *path, char *txt) {
    if (!txt) return -1;
    size_t n = strlen(txt);
    txt = realloc(txt, n + 2);
    txt[n] = '\n';
    int rc = olmo_write_file_atomic(path, txt, n + 1);
    free(txt);
    return rc;
}

static int eval_ppl_cmd(int argc, char **argv) {
    struct common c = {0};
    int stride = 0;
    const char **files = calloc((size_t)argc, sizeof *files);
    int n_files = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("%s\n"
                   "Perplexity and bits per byte of MODEL on FILES, per source and subdomain, as Paloma reports them.\n"
                   "A FILE is plain text (one document) or JSON lines (.jsonl, .jsonl.gz, .json.gz) with \"text\" and\n"
                   "optional \"source\", \"subdomain\", \"id\" per line (Paloma's format).\n\n"
                   "  -m, --model DIR   Hugging Face checkpoint directory (config.json, safetensors, tokenizer.json)\n"
                   "  --ctx N           window length (default: the model's context)\n"
                   "  --stride S        new tokens per window after the first (default N: Paloma's disjoint windows)\n"
                   "  --quant q8        int8 weights\n"
                   "  --json OUT        every figure as JSON\n"
                   "  --skip-bad        skip (and count) bad lines instead of stopping at the first\n"
                   "  -t, --threads N   threads (default: all cores)\n", ppl_usage);
            free(files);
            return 0;
        }
        int r = common_flag(&c, argc, argv, &i);
        if (r < 0) { free(files); return cli_fail("eval ppl"); }
        if (r) continue;
        if (!strcmp(argv[i], "--stride") && i + 1 < argc) {
            stride = atoi(argv[++i]);
            if (stride < 1) { free(files); olmo_err("--stride: expected a positive integer"); return cli_fail("eval ppl"); }
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "olmo eval ppl: unknown argument '%s'\n%s", argv[i], ppl_usage);
            free(files);
            return 2;
        }
        files[n_files++] = argv[i];
    }
    if (!c.model || !n_files) {
        fprintf(stderr, "%s", ppl_usage);
        free(files);
        return 2;
    }
    set_threads(c.threads);
    struct eval_docs docs = {0};
    struct eval_model em;
    struct eval_ppl_result r = {0};
    int rc = 1, opened = 0;
    for (int i = 0; i < n_files; i++)
        if (eval_docs_load(&docs, files[i], c.skip_bad) != 0) goto out;
    if (eval_model_open(&em, c.model, c.quant_q8, c.ctx) != 0) goto out;
    opened = 1;
    if (em.prefix_token < 0) {
        olmo_err("%s: config.json names no eos_token_id (or bos_token_id): the first window needs one", c.model);
        goto out;
    }
    olmo_log_info("eval ppl: %d documents from %d file(s), window %d", docs.n, n_files, em.ctx);
    struct eval_ppl_opts po = {em.ctx, stride, em.prefix_token, isatty(2)};
    if (eval_ppl_run(&em.sc, em.tok, &docs, &po, &r) != 0) goto out;
    eval_ppl_print(&r, stdout);
    if (c.json && write_json(c.json, eval_ppl_json(&r, model_name(c.model))) != 0) goto out;
    rc = 0;
out:
    if (rc) cli_fail("eval ppl");
    eval_ppl_result_free(&r);
    if (opened) eval_model_close(&em);
    eval_docs_free(&docs);
    free(files);
    return rc;
}

static int eval_tasks_cmd(int argc, char **argv) {
    struct common c = {0};
    const char *names = NULL, *data = eval_default_data_dir();
    int shots = 0, limit = 0, list = 0, no_reuse = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf("%s\n"
                   "Multiple-choice (and greedy-match) tasks scored by log-likelihood as OLMo and OLMES do: every\n"
                   "normalisation (acc_raw, acc_per_token, acc_per_char, acc_per_byte, acc_uncond = PMI), the primary\n"
                   "metric of each task, standard errors, and with --json every item's scores.\n\n"
                   "  -m, --model DIR   Hugging Face checkpoint directory\n"
                   "  --tasks LIST      comma-separated task names (--list) or paths to task files (docs/eval.md)\n"
                   "  --data DIR        eval data directory (default $OLMO_EVAL_DATA or ../shared/data/eval)\n"
                   "  --shots K         K solved examples before each context (in-loop tasks and your files)\n"
                   "  --limit N         the first N items of each task\n"
                   "  --json OUT        results as JSON, items included\n"
                   "  --ctx N           context length (default: the model's)\n"
                   "  --skip-bad        skip (and count) bad items instead of stopping at the first\n"
                   "  --no-reuse        score every choice from scratch (no KV-prefix reuse; for comparison)\n"
                   "  --quant q8        int8 weights\n"
                   "  -t, --threads N   threads\n", tasks_usage);
            return 0;
        }
        int r = common_flag(&c, argc, argv, &i);
        if (r < 0) return cli_fail("eval tasks");
        if (r) continue;
        if (!strcmp(a, "--list")) { list = 1; continue; }
        if (!strcmp(a, "--no-reuse")) { no_reuse = 1; continue; }
        if ((!strcmp(a, "--tasks") || !strcmp(a, "--data") || !strcmp(a, "--shots") || !strcmp(a, "--limit")) &&
            i + 1 < argc) {
            const char *v = argv[++i];
            if (!strcmp(a, "--tasks")) names = v;
            else if (!strcmp(a, "--data")) data = v;
            else {
                char *e;
                long n = strtol(v, &e, 10);
                if (*e || n < 0 || n > (1 << 30)) {
                    olmo_err("%s: expected a non-negative integer, found '%s'", a, v);
                    return cli_fail("eval tasks");
                }
                if (!strcmp(a, "--shots")) shots = (int)n;
                else limit = (int)n;
            }
            continue;
        }
        fprintf(stderr, "olmo eval tasks: unknown argument '%s'\n%s", a, tasks_usage);
        return 2;
    }
    if (list) {
        eval_tasks_list(data, stdout);
        return 0;
    }
    if (!c.model || !names) {
        fprintf(stderr, "%s", tasks_usage);
        return 2;
    }
    set_threads(c.threads);
    char *nl = strdup(names);
    int cap = 1;
    for (const char *p = names; *p; p++) cap += *p == ',';
    struct eval_task *tasks = calloc((size_t)cap, sizeof *tasks);
    int n = 0, rc = 1, opened = 0;
    struct eval_model em;
    if (!nl || !tasks) goto out;
    for (char *save = NULL, *tok = strtok_r(nl, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (!*tok) continue;
        if (eval_task_load(&tasks[n], tok, data, shots, limit, c.skip_bad) != 0) goto out;
        n++;
    }
    if (eval_model_open(&em, c.model, c.quant_q8, c.ctx) != 0) goto out;
    opened = 1;
    em.sc.reuse = !no_reuse;
    for (int i = 0; i < n; i++) {
        olmo_log_info("eval tasks: %s: %d items from %s", tasks[i].name, tasks[i].n, tasks[i].path);
        if (eval_task_score(&tasks[i], &em.sc, em.tok, c.skip_bad, isatty(2)) != 0) goto out;
        olmo_log_info("eval tasks: %s: %.1f s, %.1f items/s, %lld positions run", tasks[i].name, tasks[i].seconds,
                      tasks[i].seconds > 0 ? tasks[i].n / tasks[i].seconds : 0.0, (long long)tasks[i].positions);
    }
    eval_tasks_print(tasks, n, stdout);
    if (c.json && write_json(c.json, eval_tasks_json(tasks, n, model_name(c.model), 1)) != 0) goto out;
    rc = 0;
out:
    if (rc) cli_fail("eval tasks");
    for (int i = 0; i < n; i++) eval_task_free(&tasks[i]);
    free(tasks);
    free(nl);
    if (opened) eval_model_close(&em);
    return rc;
}

int cmd_eval(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "ppl")) return eval_ppl_cmd(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "tasks")) return eval_tasks_cmd(argc - 1, argv + 1);
    int help = argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"));
    FILE *o = help ? stdout : stderr;
    fprintf(o, "usage: olmo eval ppl|tasks ... (docs/eval.md)\n\n"
               "  ppl     perplexity and bits per byte per source and subdomain (Paloma)\n"
               "  tasks   multiple-choice tasks by log-likelihood (OLMES), --list names them\n\n%s%s",
            ppl_usage, tasks_usage);
    return help ? 0 : 2;
}
