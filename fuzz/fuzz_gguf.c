/* fuzz_gguf.c — libFuzzer target for the GGUF reader (gguf_parse, formats/gguf.h).
 *
 * The input is a whole file image in an exactly-sized heap buffer, so AddressSanitizer catches any read past its
 * end. Every accepted file must keep the reader's promises: each tensor's bytes inside the buffer and of the size
 * its type and dims give, and every string of every key readable through gguf_string. Build: make fuzz
 * (seeds: fuzz/seeds/gguf/, tiny OLMo-1, OLMoE and OLMo-3 exports). */
#include "formats/gguf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    struct gguf_file g;
    if (gguf_parse(&g, buf, size, "fuzz") == 0) {
        volatile uint64_t sum = 0;
        for (uint64_t i = 0; i < g.n_tensors; i++) {
            const struct gguf_tensor *t = &g.tensors[i];
            uint64_t n = 1;
            for (uint32_t d = 0; d < t->ndim; d++) n *= t->dims[d];
            if (ggml_type_bytes(t->type, n) != t->nbytes) abort();
            if (t->data < buf || t->nbytes > (uint64_t)(buf + size - t->data)) abort();
            if (t->nbytes) sum += t->data[0] + t->data[t->nbytes - 1];
        }
        for (uint64_t i = 0; i < g.n_kv; i++) {
            const char *s;
            size_t n;
            for (uint64_t k = 0; k < g.kv[i].n && k < 64; k++)
                if (gguf_string(&g.kv[i], k, &s, &n) == 0 && n) sum += (uint8_t)s[0] + (uint8_t)s[n - 1];
        }
        gguf_free(&g);
    }
    free(buf);
    return 0;
}
