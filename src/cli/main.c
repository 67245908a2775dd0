/* main.c — `olmo <command> [args]`: dispatches to the subcommands listed in the table below. */
#include "cli/commands.h"
#include "base/cpu.h"
#include "base/threads.h"
#include "base/error.h"
#include "base/log.h"
#include "model/kernels/linear.h"

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
    {"eval", "evaluate a checkpoint as OLMo does: Paloma bits per byte (eval ppl), OLMES tasks (eval tasks)", cmd_eval},
    {"perplexity", "perplexity and bits per byte of a checkpoint on a text file (e.g. to measure --quant q8)", cmd_perplexity},
    {"serve", "OpenAI-compatible HTTP server (chat and text completions, streaming, parallel slots)", cmd_serve},
    {"quantize", "write a q8 or q4 copy of a checkpoint that loads memory-mapped without quantizing again", cmd_quantize},
    {"export", "export a checkpoint for other engines: olmo export gguf (llama.cpp, Ollama)", cmd_export},
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
    fprintf(out, "\n'olmo <command> --help' describes each one; 'olmo --version' shows the build and the kernels "
                 "it uses on this CPU.\n");
}

#define OLMO_VERSION "0.1.0"
#ifndef OLMO_BUILD_ARCH   /* set by the Makefile */
#define OLMO_BUILD_ARCH "unknown"
#endif
#ifndef OLMO_BUILD_OPT
#define OLMO_BUILD_OPT ""
#endif

/* `olmo --version`: what was built, how, and which kernels it runs on this CPU (issue 8). */
static void version(void) {
    char buf[512];
    printf("olmo %s\n", OLMO_VERSION);
    printf("build: %s %s, %s %s (%s), MPI %s\n",
#if defined(__clang__)
           "clang",
#else
           "gcc",
#endif
           __VERSION__, OLMO_BUILD_OPT, OLMO_BUILD_ARCH,
#if defined(OLMO_BUILD_BASELINE_V3)
           "portable: AVX2 baseline, faster kernels chosen at run time",
#else
           "this machine only: NATIVE=1",
#endif
#if defined(OLMO_HAVE_MPI)
           "yes (olmo train under mpirun)"
#else
           "no"
#endif
    );
    printf("%s\n", olmo_cpu_describe(buf, (int)sizeof buf));
    printf("kernels on this CPU (OLMO_CPU=scalar|avx2|avx512|avx512bf16|amx caps them):\n");
    printf("  decode, bf16/f16/f32 weights   %s\n", linear_kernel_name(OLMO_DTYPE_BF16, 1));
    printf("  prompt, bf16/f16/f32 weights   %s\n", linear_kernel_name(OLMO_DTYPE_BF16, 2));
    printf("  decode and prompt, q8 weights  %s\n", linear_kernel_name(OLMO_DTYPE_Q8, 1));
    printf("  decode and prompt, q4 weights  %s\n", linear_kernel_name(OLMO_DTYPE_Q4, 1));
    printf("  attention over a prompt        %s\n", olmo_cpu_has(OLMO_CPU_SET_AVX512) ? "avx512" : "portable C");
    printf("  exp (softmax, SwiGLU)          %s\n", olmo_cpu_has(OLMO_CPU_SET_AVX512) ? "avx512" : "libm expf");
    printf("  training matmuls               OpenBLAS fp32 / oneDNN bf16 (each dispatches on the CPU itself)\n");
}

int main(int argc, char **argv) {
    if (olmo_cpu_check_baseline() != 0) {   /* before anything compiled for the baseline runs much */
        fprintf(stderr, "olmo: %s\n", olmo_errmsg());
        return 1;
    }
    if (argc >= 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version"))) {
        version();
        return 0;
    }
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
