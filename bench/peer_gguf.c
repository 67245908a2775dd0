/* peer_gguf.c — converts an OLMo Hugging Face checkpoint directory into a GGUF file that llama.cpp loads, so
 * bench/llama_cpp_peer.sh can time llama.cpp on exactly the weights olmo.c runs (docs/bench-peers.md).
 *
 *   build/bench/peer_gguf DIR OUT.gguf [--type bf16|q8_0|q4_0]
 *
 * It is `olmo export gguf` (formats/gguf_export.c: llama.cpp's "olmo" / "olmo2" names and keys) with two
 * differences for the benchmark's random checkpoints: a synthetic vocabulary (they have no tokenizer; the peer is
 * fed token ids, never text: one unique string per id, GPT-2's byte alphabet below 256, "t<id>" above, no
 * merges), and Q4_0 rounded as llama.cpp's own reference quantizer does (d = m/-8, round to nearest), so that
 * bench/quant_ppl.sh measures llama.cpp's Q4_0 quality, not olmo.c's least-squares blocks. Written atomically. */
#include "base/error.h"
#include "formats/gguf_export.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    enum ggml_type type = GGML_TYPE_BF16;
    if (argc == 5 && !strcmp(argv[3], "--type")) {
        const char *t = argv[4];
        if (!strcmp(t, "q8")) t = "q8_0";
        if (!strcmp(t, "q4")) t = "q4_0";
        if (gguf_export_type_parse(t, &type)) { fprintf(stderr, "peer_gguf: %s\n", olmo_errmsg()); return 2; }
    } else if (argc != 3) {
        fprintf(stderr, "usage: peer_gguf DIR OUT.gguf [--type bf16|q8_0|q4_0]\n");
        return 2;
    }
    struct gguf_export_opts o = {.synthetic_vocab = 1, .q4_reference = 1};
    if (gguf_export_opts(argv[1], argv[2], type, &o)) { fprintf(stderr, "peer_gguf: %s\n", olmo_errmsg()); return 1; }
    fprintf(stderr, "peer_gguf: wrote %s (%s)\n", argv[2], ggml_type_name(type));
    return 0;
}
