/* eval_train.h — evaluation during `olmo train`: OLMo's `evaluators` list, run every eval_interval steps.
 *
 * YAML (OLMo's EvaluatorConfig, plus olmo.c's `limit`):
 *   evaluators:
 *     - label: held-out            # perplexity (type lm): data.paths (or data.datasets: {label: [paths]})
 *       type: lm
 *       data: {paths: [val.npy]}   # token files (memmap_dtype of the run): CE over seq_len instances (spec §6a);
 *                                  # .txt / .jsonl / .jsonl.gz: documents scored as `olmo eval ppl` does
 *     - label: piqa                # a downstream task: any `olmo eval tasks` name, or a task file path
 *       type: downstream
 *       limit: 200                 # olmo.c: the first N items (OLMo evaluates all)
 * The evaluation reads the checkpoint of that step (the trainer writes one there), so it sees exactly what a
 * later `olmo eval` of the checkpoint sees. Results go to metrics.jsonl as one line per evaluation:
 *   {"step": N, "tokens": T, "eval/<label>/CrossEntropyLoss": x, "eval/<label>/Perplexity": y,
 *    "eval/<label>/bits_per_byte": z (text only), "eval/downstream/<task>_<metric>": v, ...} */
#ifndef OLMO_EVAL_EVAL_TRAIN_H
#define OLMO_EVAL_EVAL_TRAIN_H

#include <stdint.h>
#include <stdio.h>

struct ycfg_node;

struct eval_train_evaluator {
    char *label;
    int downstream;          /* 1: a task; 0: perplexity */
    char **paths, **sublabels;   /* lm: files and the label each reports under */
    int n_paths;
    int limit;               /* downstream: first N items (0 = all) */
};

struct eval_train_spec {
    struct eval_train_evaluator *ev;
    int n;
};

/* Parses the `evaluators` list (NULL node: none). Errors name the file, line and key. 0, or -1 with olmo_err. */
int eval_train_parse(const struct ycfg_node *list, struct eval_train_spec *s);
void eval_train_spec_free(struct eval_train_spec *s);

/* Runs every evaluator on the checkpoint in ckpt_dir; appends one JSON line to jsonl (flushed) and logs a
 * summary. token_bytes: the width of token-file ids (the run's memmap_dtype). data_dir: where task names are
 * looked up. 0, or -1 with olmo_err. */
int eval_train_run(const struct eval_train_spec *s, const char *ckpt_dir, int64_t step, int64_t tokens,
                   int seq_len, int token_bytes, const char *data_dir, FILE *jsonl);

#endif
