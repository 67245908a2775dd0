/* cmd_export.c — `olmo export gguf -m DIR -o MODEL.gguf [--type f16|bf16|q8_0|q4_0]`: a checkpoint as one GGUF
 * file for llama.cpp / Ollama (formats/gguf_export.c, docs/gguf.md). */
#include "cli/commands.h"
#include "base/error.h"
#include "base/log.h"
#include "formats/gguf_export.h"

#include <stdio.h>
#include <string.h>

static const char *usage_line = "usage: olmo export gguf -m DIR -o MODEL.gguf [--type f16|bf16|q8_0|q4_0]\n";

int cmd_export(int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("%s\nWrites the OLMo-1, OLMo-2, OLMo-3 or OLMoE checkpoint in DIR (config.json, safetensors, tokenizer.json)\n"
               "as one GGUF file in llama.cpp's \"olmo\" / \"olmo2\" (OLMo-2 and OLMo-3) / \"olmoe\" layout, tokenizer and\n"
               "chat template included (docs/gguf.md).\n\n"
               "  -m, --model DIR   source checkpoint (F32, BF16 or F16 safetensors)\n"
               "  -o FILE           the .gguf to write (atomically)\n"
               "  --type T          matrices as f16, bf16 (default), q8_0 or q4_0 (q4_0 with olmo.c's least-squares\n"
               "                    block scales); norm weights and the OLMoE router are always f32\n", usage_line);
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "gguf")) {
        fprintf(stderr, "olmo export: the only format is gguf\n%s", usage_line);
        return 2;
    }
    const char *dir = NULL, *out = NULL;
    enum ggml_type type = GGML_TYPE_BF16;
    for (int i = 2; i < argc; i++) {
        if (i + 1 >= argc) { fprintf(stderr, "olmo export gguf: '%s' needs a value or is unknown\n%s", argv[i], usage_line); return 2; }
        if (!strcmp(argv[i], "-m") || !strcmp(argv[i], "--model")) dir = argv[++i];
        else if (!strcmp(argv[i], "-o")) out = argv[++i];
        else if (!strcmp(argv[i], "--type")) {
            if (gguf_export_type_parse(argv[++i], &type)) return cli_fail("export gguf");
        } else { fprintf(stderr, "olmo export gguf: unknown argument '%s'\n%s", argv[i], usage_line); return 2; }
    }
    if (!dir || !out) { fprintf(stderr, "olmo export gguf: -m and -o are required\n%s", usage_line); return 2; }
    double t0 = olmo_now();
    if (gguf_export(dir, out, type)) return cli_fail("export gguf");
    olmo_log_info("wrote %s (%s) in %.1f s", out, ggml_type_name(type), olmo_now() - t0);
    return 0;
}
