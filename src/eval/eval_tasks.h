/* eval_tasks.h — multiple-choice and greedy-match tasks scored by log-likelihood, as OLMo and OLMES do
 * (spec training-and-eval.md §6c–6d).
 *
 * A task is a list of items; an item has n choices, each a (context, continuation) pair — one context shared by
 * every choice for most tasks, one context per choice for WinoGrande's partial scoring — a gold label, and
 * optionally an unconditional context per choice (OLMES's "Answer:") for the PMI score. A greedy task
 * (LAMBADA) has one choice per item and is right when every continuation token is the model's argmax.
 *
 * Sources (eval_task_load):
 *  - OLMES request files (DIR/olmo_oe_eval_tasks/<task>/<variant>/requests.jsonl.gz, named <task>_<variant>),
 *    or a path to any file in that format;
 *  - the Hugging Face rows in DIR/olmo_hf/ rendered with OLMo's in-loop prompts (arc_easy, boolq, piqa, ...),
 *    DIR/olmo_oe_docs/hellaswag__val1000.jsonl and DIR/lambada_test.jsonl;
 *  - a path to a JSON-lines file a user writes (docs/eval.md): {"context", "choices", "label"} per line for
 *    multiple choice, {"context", "continuation"} for greedy match. */
#ifndef OLMO_EVAL_EVAL_TASKS_H
#define OLMO_EVAL_EVAL_TASKS_H

#include "eval/eval_score.h"
#include "tokenizer/tokenizer.h"

#include <stdio.h>

enum eval_task_kind { EVAL_TASK_MC = 0, EVAL_TASK_GREEDY = 1 };

/* Score normalisations (OLMES / catwalk names): each picks argmax over the choices of ll / norm. */
enum eval_norm { EVAL_RAW = 0, EVAL_PER_TOKEN, EVAL_PER_CHAR, EVAL_PER_BYTE, EVAL_UNCOND, EVAL_N_NORMS };
extern const char *const eval_norm_names[EVAL_N_NORMS];   /* "acc_raw", "acc_per_token", ... */

struct eval_item {
    char *doc_id;            /* as the source names it */
    char *where;             /* "file:line" of its first line */
    char *group;             /* MMLU's subject (macro averages over groups), or NULL */
    int label;               /* gold choice */
    int n;                   /* choices */
    char **ctx, **cont;      /* [n] each */
    char **uctx;             /* [n] unconditional contexts, or NULL: no PMI score */
    /* results */
    double *ll, *ll_uncond;  /* [n] Σ log p */
    int *ntok, *nchars, *nbytes, *greedy;
    int pred[EVAL_N_NORMS];  /* argmax per normalisation (-1: not computed) */
    int skipped;             /* 1 when --skip-bad skipped it at scoring time */
};

struct eval_task {
    char *name, *path;
    enum eval_task_kind kind;
    char *primary;           /* "acc_raw", "acc_per_char", ..., "acc" (greedy) */
    int shots;
    struct eval_item *items;
    int n, cap;
    int n_skipped;           /* bad items skipped under skip_bad (loading and scoring) */
    int n_truncated;         /* queries left-truncated to the context (OLMo does the same) */
    double seconds;
    int64_t positions;       /* positions run through the model */
};

/* The eval data directory when none is given: $OLMO_EVAL_DATA, else ../shared/data/eval. */
const char *eval_default_data_dir(void);

/* Every task NAME this data directory offers, one per line with its source and size, to out. */
void eval_tasks_list(const char *data_dir, FILE *out);

/* Loads NAME (a known name under data_dir, or a path). shots > 0 prefixes each context of an HF-style task with
 * that many solved examples (the task's first items, then left out); limit > 0 keeps the first limit items.
 * Bad input (missing field, label out of range, empty choice) is an error naming the file and line, or with
 * skip_bad a warning and a count. 0, or -1 with olmo_err. */
int eval_task_load(struct eval_task *t, const char *name, const char *data_dir, int shots, int limit, int skip_bad);
void eval_task_free(struct eval_task *t);

/* Scores every item. A continuation that cannot fit the context is an error naming the item (skip_bad: counted).
 * 0, or -1 with olmo_err. */
int eval_task_score(struct eval_task *t, struct eval_scorer *sc, const struct olmo_tokenizer *tok, int skip_bad,
                    int progress);

/* Fills it->pred[] from it->ll, ll_uncond, ntok, nchars, nbytes (argmax per normalisation; first maximum wins). */
void eval_item_predict(struct eval_item *it);

/* Metric value and its standard error (sample standard deviation / sqrt(n)); -1 if the task lacks it. A metric
 * name with "_macro" appended (acc_raw_macro, ...) is the mean over the items' groups (MMLU's subjects, as OLMES
 * reports MMLU); its standard error is NaN. */
int eval_task_metric(const struct eval_task *t, const char *metric, double *value, double *stderr_);

/* One table row per task and metric ("task, metric, score, stderr"); the primary metric first. */
void eval_tasks_print(const struct eval_task *t, int n, FILE *out);
/* {"model": ..., "tasks": [{"task", "n", "primary", "metrics": {...}, "items": [...]}]} (malloc'd text). */
char *eval_tasks_json(const struct eval_task *t, int n, const char *model, int with_items);

#endif
