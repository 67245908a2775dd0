/* fuzz_safetensors.c — libFuzzer target for the safetensors header parser (st_parse).
 *
 * The input is a whole file image, copied into an exactly-sized heap buffer so AddressSanitizer catches any
 * read past its end. Every accepted file must satisfy the invariants the reader promises: each tensor's byte
 * range lies inside the buffer and its size equals numel × dtype size. Build (see docs/inference.md):
 *   make fuzz FUZZ_SECONDS=180   (seeds: fuzz/seeds/safetensors/, dictionary: fuzz/safetensors.dict) */
#include "formats/safetensors.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    struct st_set s;
    memset(&s, 0, sizeof s);
    if (st_parse(&s, buf, size, 0, "fuzz") == 0) {
        volatile uint64_t sum = 0;   /* touch each tensor's first and last byte: ASan checks they are inside */
        for (int64_t i = 0; i < s.n_tensors; i++) {
            const struct st_tensor *t = &s.tensors[i];
            if ((uint64_t)t->numel * st_dtype_size(t->dtype) != t->nbytes) abort();
            if (t->nbytes && ((const uint8_t *)t->data < buf || (const uint8_t *)t->data + t->nbytes > buf + size)) abort();
            if (t->nbytes) sum += ((const uint8_t *)t->data)[0] + ((const uint8_t *)t->data)[t->nbytes - 1];
        }
    }
    st_close(&s);
    free(buf);
    return 0;
}
