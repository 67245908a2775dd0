/* bench_data.c — the data pipeline's two costs, each beside its physical floor and its peer:
 *
 *  1. the epoch permutation (NumPy PCG64 shuffle of arange(N), done once per epoch; OLMo-2 7B has ~1e9
 *     instances): ns per element for olmo.c, for the same Fisher–Yates pass with a near-free RNG (the memory
 *     floor: one random swap per element), and for NumPy itself (when /usr/bin/python3 has NumPy; it must give
 *     the same permutation, compared by checksum);
 *  2. assembling a step's batch (inputs + targets from memory-mapped uint32 token files): GB/s of tokens against
 *     memcpy on the same bytes.
 *
 *   build/bench/bench_data [N]        (default N = 10,000,000) */
#include "base/cpu.h"
#include "train/data.h"
#include "train/data_order.h"
#include "base/file.h"
#include "base/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* sum of i * x[i] mod 2^64: cheap to compute in NumPy too, and sensitive to any displaced element */
static uint64_t checksum(const uint32_t *x, uint64_t n) {
    uint64_t h = 0;
    for (uint64_t i = 0; i < n; i++) h += i * (uint64_t)x[i];
    return h;
}

/* The same swaps, blocked and prefetched the same way, with a xorshift RNG and a multiply-shift bound in place of
 * PCG64 + rejection: what an in-place shuffle costs on this machine's memory (the floor). */
static void floor_shuffle(uint32_t *x, uint64_t n) {
    uint64_t s = 88172645463325252ULL;
    uint64_t js[64];
    for (uint64_t i = 0; i < n; i++) x[i] = (uint32_t)i;
    uint64_t i = n;
    while (i > 1) {
        uint64_t m = i - 1 < 64 ? i - 1 : 64;
        for (uint64_t k = 0; k < m; k++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            js[k] = (uint64_t)(((unsigned __int128)(s >> 32) * (i - k)) >> 32);
            __builtin_prefetch(&x[js[k]], 1, 0);
        }
        for (uint64_t k = 0; k < m; k++) {
            uint32_t t = x[i - 1 - k];
            x[i - 1 - k] = x[js[k]];
            x[js[k]] = t;
        }
        i -= m;
    }
}

int main(int argc, char **argv) {
    { char cpu[512]; printf("%s\n", olmo_cpu_describe(cpu, (int)sizeof cpu)); }   /* a figure belongs to a CPU */
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000ULL;
    uint32_t *x = malloc(n * sizeof *x);
    if (!x) return 1;
    double best = 1e30, best_floor = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = olmo_now();
        data_order_permutation(x, n, 6198);
        double t1 = olmo_now();
        if (t1 - t0 < best) best = t1 - t0;
        floor_shuffle(x, n);
        double t2 = olmo_now();
        if (t2 - t1 < best_floor) best_floor = t2 - t1;
    }
    data_order_permutation(x, n, 6198);
    uint64_t h = checksum(x, n);
    printf("permutation of %llu instances (PCG64 seed 6198), best of 3:\n", (unsigned long long)n);
    printf("  olmo.c pcg64 shuffle        %8.3f s  %6.2f ns/element\n", best, 1e9 * best / (double)n);
    printf("  floor (xorshift, same swaps) %7.3f s  %6.2f ns/element\n", best_floor, 1e9 * best_floor / (double)n);

    /* the peer: NumPy's own shuffle, same seed, same result */
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import time,numpy as np\n"
             "x=np.arange(%llu,dtype=np.uint32);best=1e9\n"
             "for _ in range(3):\n"
             "  y=x.copy();t=time.perf_counter();np.random.Generator(np.random.PCG64(6198)).shuffle(y);best=min(best,time.perf_counter()-t)\n"
             "print(best, int((y.astype(np.uint64)*np.arange(len(y),dtype=np.uint64)).sum()))\" 2>/dev/null",
             (unsigned long long)n);
    FILE *p = access("/usr/bin/python3", X_OK) == 0 ? popen(cmd, "r") : NULL;
    double tn = 0;
    unsigned long long hn = 0;
    if (p && fscanf(p, "%lf %llu", &tn, &hn) == 2) {
        printf("  NumPy 1.24 Generator.shuffle %7.3f s  %6.2f ns/element  (olmo.c %.2fx as fast; same order: %s)\n",
               tn, 1e9 * tn / (double)n, tn / best, hn == h ? "yes" : "NO");
    } else {
        printf("  NumPy: not available (/usr/bin/python3 with numpy)\n");
    }
    if (p) pclose(p);
    free(x);

    /* batch assembly: B x T uint32 tokens from a memory-mapped file */
    const int T = 4096, B = 8;
    const uint64_t n_inst = 256;
    char path[] = "/tmp/olmo_bench_data_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 1;
    uint32_t *tokbuf = malloc((size_t)n_inst * T * sizeof *tokbuf);
    for (uint64_t i = 0; i < n_inst * (uint64_t)T; i++) tokbuf[i] = (uint32_t)((i * 2654435761u) % 100000);
    if (write(fd, tokbuf, (size_t)n_inst * T * 4) != (ssize_t)((size_t)n_inst * T * 4)) return 1;
    close(fd);
    char *paths[1] = {path};
    struct train_data d;
    if (train_data_open_files(&d, paths, 1, 4, T, 6198, 1, 1, B) < 0) return 1;
    d.vocab_size = 100352;
    int32_t *in = malloc((size_t)B * T * sizeof *in), *tg = malloc((size_t)B * T * sizeof *tg);
    uint64_t idx[8];
    double bt = 1e30, mt = 1e30;
    for (int rep = 0; rep < 20; rep++) {
        int64_t step = 1 + rep % 32;
        double t0 = olmo_now();
        train_data_step_batch(&d, step, 0, idx, in, tg);
        double t1 = olmo_now();
        for (int b = 0; b < B; b++) {
            memcpy(in + (size_t)b * T, tokbuf + idx[b] * T, (size_t)T * 4);
            memcpy(tg + (size_t)b * T, tokbuf + idx[b] * T + 1, (size_t)(T - 1) * 4);
        }
        double t2 = olmo_now();
        if (t1 - t0 < bt) bt = t1 - t0;
        if (t2 - t1 < mt) mt = t2 - t1;
    }
    double bytes = (double)B * T * 4 * 2;
    printf("batch of %d x %d uint32 tokens (inputs + targets, %.0f KiB), best of 20:\n", B, T, bytes / 1024);
    printf("  olmo.c train_data_step_batch %7.1f us  %6.2f GB/s\n", bt * 1e6, bytes / bt / 1e9);
    printf("  memcpy of the same bytes     %7.1f us  %6.2f GB/s  (olmo.c at %.0f%%)\n", mt * 1e6, bytes / mt / 1e9,
           100 * mt / bt);
    printf("  (a training step on the 44M benchmark model takes seconds: batch assembly is < 0.1%% of it)\n");
    train_data_close(&d);
    unlink(path);
    free(tokbuf);
    free(in);
    free(tg);
    return 0;
}
