/* main.c — `olmo <command> [args]`: dispatches to the subcommands listed in the table below. */
#include "cli/commands.h"
#include "base/threads.h"
#include "base/error.h"
#include "base/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct olmo_command commands[] = {
    {"tokenizer", "encode / decode text with a tokenizer.json, or train a new BPE tokenizer", cmd_tokenizer},
    {"generate", "continue a prompt with a Hugging Face OLMo checkpoint, streaming the text", cmd_generate},
    {"chat", "multi-turn chat with an OLMo Instruct checkpoint (its chat template), stdin or terminal", cmd_chat},
    {"train", "pretrain an OLMo model from an OLMo YAML config (mpirun for data parallel)", cmd_train},
    {"demo", "the whole pipeline on built-in data: tokenizer, training, checkpoint, samples", cmd_demo},
    {"inspect", "show the training batch of any step of a config: instances, files, offsets, text", cmd_inspect},
    {"trace", "OLMoTrace: the spans of a model's output found verbatim in the indexed training data", cmd_trace},
    {"data", "Dolma's data toolkit and training-data search: olmo data --help lists the subcommands", cmd_data},
    {"perplexity", "perplexity and bits per byte of a checkpoint on a text file (e.g. to measure --quant q8)", cmd_perplexity},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

int cli_fail(const char *cmd) {
    fprintf(stderr, "olmo %s: %s\n", cmd, olmo_errmsg());
    return 1;
}

static void usage(FILE *out) {
    fprintf(out, "usage: olmo <command> [options]\n\n"
                 "olmo.c — the OLMo language-model system in C: tokenizers, models, training.\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++) fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'olmo <command> --help' describes each one.\n");
}

int main(int argc, char **argv) {
    const char *lvl = getenv("OLMO_LOG");
    if (lvl) olmo_log_level = atoi(lvl);
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name)) {
            /* Every command: OpenMP threads (OpenBLAS, oneDNN, batch tokenizing) sleep rather than spin while they
             * wait, so a busy core on a shared machine does not stall the whole run (measured under load: 2 spinning
             * threads trained a tiny model 40x slower than 1 thread). Re-executes once with the same argv unless
             * the user set OMP_WAIT_POLICY; without /proc it carries on with spinning waits. */
            if (olmo_threads_prefer_passive(argv) != 0) olmo_err_clear();
            return commands[i].run(argc - 1, argv + 1);
        }
    fprintf(stderr, "olmo: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
