/* fuzz_token_file.c — libFuzzer target for token files (headerless or NumPy .npy): any bytes either load with
 * consistent instance counts and every instance readable (or refused for out-of-vocabulary ids), or are refused
 * with a message; never a crash. The first byte picks the token width.
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc fuzz/fuzz_token_file.c \
 *     src/train/data.c src/train/data_order.c src/train/pcg64.c src/base/[a-z]*.c -o /tmp/fuzz_token_file
 *   /tmp/fuzz_token_file fuzz/corpus/token_file */
#include "train/data.h"
#include "base/file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    static const int widths[4] = {1, 2, 4, 8};
    int w = widths[data[0] & 3];
    char path[64];
    snprintf(path, sizeof path, "/tmp/fuzz_token_file.%d", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data + 1, 1, size - 1, f);
    fclose(f);
    char *paths[2] = {path, path};
    struct train_data d;
    if (train_data_open_files(&d, paths, 2, w, 16, 1, 1, 0, 2) == 0) {
        if (d.n_instances != 2 * d.files[0].n_instances || d.files[0].n_tokens * (uint64_t)w > size) abort();
        d.vocab_size = 1000;
        d.instance_filter = data[0] & 4;   /* the OLMo-2 repetition filter on some inputs */
        d.rep_min_period = 1;
        d.rep_max_period = 13;
        d.rep_max_count = 2 + (data[0] >> 4);
        uint32_t buf[16];
        for (uint64_t k = 0; k < d.n_instances; k++) train_data_instance(&d, k, buf);
        uint64_t idx[2];
        int32_t in[32], tg[32];
        train_data_step_batch(&d, 1, 0, idx, in, tg);
        train_data_close(&d);
    }
    unlink(path);
    return 0;
}
