/* fuzz_yaml_config.c — libFuzzer target for the YAML training-config path: parse, one override taken from the
 * input's first line, interpolation, mapping to train_config. An accepted config must be self-consistent (the
 * invariants the trainer relies on) and the resolved tree must survive a dump/parse/resolve round trip.
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc fuzz/fuzz_yaml_config.c \
 *     src/formats/yaml_config.c src/train/train_config.c src/base/[a-z]*.c -lyaml -o /tmp/fuzz_yaml_config
 *   /tmp/fuzz_yaml_config fuzz/corpus/yaml_config */
#include "formats/yaml_config.h"
#include "train/train_config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    /* first line "--k=v" is an override, the rest the YAML text */
    char *text = buf, *ov = NULL;
    if (!strncmp(buf, "--", 2)) {
        char *nl = strchr(buf, '\n');
        if (nl) {
            *nl = 0;
            ov = buf;
            text = nl + 1;
        }
    }
    struct ycfg c;
    if (ycfg_load_string(&c, text, "fuzz.yaml") == 0) {
        if ((!ov || ycfg_override(&c, ov) == 0) && ycfg_resolve(&c) == 0) {
            struct train_config tc;
            if (train_config_from_tree(&tc, &c) == 0) {
                const struct olmo_config *m = &tc.model;
                if (m->d_model < 1 || m->n_heads < 1 || m->d_model % m->n_heads || m->n_kv_heads < 1 ||
                    m->n_heads % m->n_kv_heads || m->d_ff < 1 || m->vocab_size < tc.tokenizer_vocab_size ||
                    tc.global_train_batch_size < 1 || tc.device_train_microbatch_size < 1 || !tc.ignored)
                    abort();
                train_config_free(&tc);
            }
            char *dump = ycfg_dump(&c);
            struct ycfg d;
            if (!dump || ycfg_load_string(&d, dump, "dump") != 0) abort();
            if (ycfg_resolve(&d) != 0) abort();
            ycfg_free(&d);
            free(dump);
        }
        ycfg_free(&c);
    }
    free(buf);
    return 0;
}
