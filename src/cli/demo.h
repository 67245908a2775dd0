/* demo.h — `olmo demo`, the main job: the chain's steps (demo_chain.c), the training run's size and config
 * (demo_train.c), the corpus (demo_corpus.c), child-process steps (demo_steps.c) and the report (demo_report.c). */
#ifndef OLMO_CLI_DEMO_H
#define OLMO_CLI_DEMO_H

#include "cli/demo_corpus.h"
#include "cli/demo_steps.h"

#include <stdint.h>

/* Energy estimate where the machine has no RAPL counters: one busy core of a current server or desktop CPU draws
 * roughly 5-10 W (package power over cores at full load); the grid figure is the world average of 2023 (IEA,
 * about 0.48 kg CO2e per kWh). Both are flags, and the report names them. */
#define DEMO_WATTS_PER_CORE 7.5
#define DEMO_GRID_KG_PER_KWH 0.480

struct demo_opts {
    const char *out;
    double train_seconds;
    int quick;
    double watts_per_core, grid_kg_per_kwh;
};

/* The size of the model and run: fixed for --quick, sized to the time budget otherwise. */
struct demo_size {
    int vocab, d_model, n_heads, n_layers, seq, batch, micro, steps, warmup, eval_interval;
    size_t bytes_per_source;
    double lr;
    char precision[16];
    double calibrated_tokens_per_s;
};

/* Measures this machine's training speed for z's model and sets z->steps (and precision) to fit seconds. */
int demo_size_to_budget(struct demo_size *z, double seconds);
/* Writes the OLMo training YAML (OLMo's own keys: `olmo train PATH` runs it again as it is), with in-loop
 * evaluators: bits per byte on each held-out file (named), and the multiple-choice task file when given. */
int demo_write_train_config(const char *path, const char *out, const struct demo_size *z, int eos, int pad,
                            int n_heldout, const char *const *heldout_names, const char *const *heldout_files,
                            const char *task_file);

int demo_run_chain(const struct demo_opts *o);

/* A multiple-choice task made from held-out documents (demo_tasks.c): the start of a document, and four
 * continuations of which one is the document's own, the others taken from held-out documents of other sources.
 * At most n_max items, in a fixed order. Written in `olmo eval tasks`' JSONL task format. */
int demo_write_cloze_task(const char *heldout_glob, const char *path, int n_max);
/* Writes sample i's text (prompt and continuation) from samples_dir/sample-I.json to txt_path. */
int demo_sample_text(const char *samples_dir, int i, const char *txt_path);

/* Everything the report shows, filled as the chain runs. */
struct demo_results {
    const struct demo_opts *opts;
    struct demo_size size;
    struct demo_source_stats src[DEMO_MAX_SOURCES];
    size_t n_src;
    struct demo_steps steps;
    char checkpoint[1024];
    int64_t train_tokens, final_step;
    int tokenizer_vocab;
    char samples[3][2048];
    const char *prompts[3];
};

int demo_write_report(struct demo_results *r);

#endif
