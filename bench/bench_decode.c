/* bench_decode.c — decode (and prefill) speed of bf16, q8 and q4 weights at the OLMo-2 1B / 7B shapes, as
 * medians of alternating rounds, each beside the streaming-read bandwidth measured in the same round.
 *
 *   build/bench/bench_decode [--shape 1b|7b] [--dtype bf16,q8,q4] [--threads 1,2] [--rounds N] [--tokens N]
 *                            [--prompt T] [--busy] [--distinct-layers N]
 *
 * Weights: every linear layer of the shape (q, k, v, o, gate, up, down per layer, and the lm_head), random, made
 * directly in each format (bf16 values of magnitude ~0.02; q8/q4: random bytes with fp16 block scales around
 * 0.02/127 resp. 0.02/8), in 2 MB pages. Only the projections run (attention at a short context is a few % of a
 * decode step; bench_inference's model section measures the whole forward pass). --distinct-layers N holds only
 * N layers and reuses them in turn: each layer is far larger than the L3 cache, so every token still streams all
 * its weights from memory, but a 7B bf16 run then fits beside other users of a shared machine.
 *
 * A round: for each format in turn, a decode pass of --tokens tokens, then a streaming read (bench_common.h) over
 * that format's weights. The host's memory traffic changes over seconds, so a format's decode is compared with
 * the read of its own round (share of the read bound = bytes per token · tokens/s / read GB/s), and formats are
 * compared by the medians of alternating rounds rather than by runs minutes apart. --busy runs every round with
 * one core taken by a spinning process. Peak RSS is printed at the end. */
#include "base/cpu.h"
#include "base/error.h"
#include "model/kernels/linear.h"
#include "model/kernels/linear_internal.h"
#include "model/kernels/pool.h"
#include "bench_common.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

enum { F_BF16, F_Q8, F_Q4, NF };
static const char *FNAME[NF] = {"bf16", "q8", "q4"};

struct fmt {
    int on;
    uint8_t *arena;
    size_t size, used;
    struct olmo_linear *w;   /* layers·7, then the lm_head */
    int n;
    size_t bytes_per_token;
    double *tps, *bw;        /* per round */
};

static void *take(struct fmt *F, size_t n) {
    n = (n + 4095) & ~(size_t)4095;
    if (F->used + n > F->size) return NULL;
    void *p = F->arena + F->used;
    F->used += n;
    return p;
}

struct fill_job { uint8_t *p; size_t n; uint16_t base; int u16; };
#define FILL_CHUNK ((size_t)8 << 20)
static void fill_chunk(void *ctx, int64_t c, int thread) {   /* xorshift64 per chunk */
    const struct fill_job *J = ctx;
    uint64_t s = 0x9e3779b97f4a7c15ull * (uint64_t)(c + 1);
    size_t b = (size_t)c * FILL_CHUNK, e = J->n - b < FILL_CHUNK ? J->n : b + FILL_CHUNK;
    (void)thread;
    if (J->u16) {   /* bf16 weights or fp16 scales: base + 9 (bf16) or 10 (fp16) random mantissa bits, random sign for bf16 */
        uint16_t *h = (uint16_t *)(J->p + b);
        for (size_t i = 0; i < (e - b) / 2; i++) {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            h[i] = J->base == 0x3c00 ? (uint16_t)(0x3c00 + (s & 0x1ff)) | (uint16_t)((s >> 20) & 0x8000)
                                     : (uint16_t)(J->base + (s & 0x3ff));
        }
        return;
    }
    for (size_t i = b; i < e; i += 8) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        memcpy(J->p + i, &s, e - i < 8 ? e - i : 8);
    }
}
static void fill(void *p, size_t n, uint16_t base, int u16) {
    struct fill_job J = {p, n, base, u16};
    olmo_pool_for((int64_t)((n + FILL_CHUNK - 1) / FILL_CHUNK), fill_chunk, &J);
}

static size_t mat_bytes(int f, int64_t rows, int64_t cols) {
    return f == F_BF16 ? (size_t)(rows * cols) * 2 : f == F_Q8 ? (size_t)linear_q8_bytes(rows, cols) : (size_t)linear_q4_bytes(rows, cols);
}

static int make_mat(struct fmt *F, int f, int rows, int cols, struct olmo_linear *W) {
    *W = (struct olmo_linear){.dtype = f == F_BF16 ? OLMO_DTYPE_BF16 : f == F_Q8 ? OLMO_DTYPE_Q8 : OLMO_DTYPE_Q4,
                              .rows = rows, .cols = cols};
    size_t prows = ((size_t)rows + 15) / 16 * 16;
    if (f == F_BF16) {
        void *p = take(F, (size_t)rows * cols * 2);
        if (!p) return -1;
        fill(p, (size_t)rows * cols * 2, 0x3c00, 1);
        W->data = p;
        return 0;
    }
    size_t wb = f == F_Q8 ? prows * cols : prows * cols / 2, sb = prows * cols / OLMO_Q8_BLOCK * 2;
    void *p = take(F, wb), *s = take(F, sb);
    if (!p || !s) return -1;
    fill(p, wb, 0, 0);
    fill(s, sb, f == F_Q8 ? 0x0c00 : 0x1400, 1);   /* fp16 ~1.5e-4 (0.02/127) / ~2.4e-3 (0.02/8) */
    W->data = p;
    W->scales = s;
    return 0;
}

static int build(struct fmt *F, int f, const struct shape *S, int distinct) {
    size_t d = (size_t)S->d, ff = (size_t)S->ff, hd = d / (size_t)S->heads, kvd = (size_t)S->kv_heads * hd;
    int held = distinct > 0 && distinct < S->layers ? distinct : S->layers;
    size_t layer = mat_bytes(f, (int64_t)d, (int64_t)d) * 2 + mat_bytes(f, (int64_t)kvd, (int64_t)d) * 2 + mat_bytes(f, (int64_t)ff, (int64_t)d) * 2 +
                   mat_bytes(f, (int64_t)d, (int64_t)ff);
    F->size = (size_t)held * layer + mat_bytes(f, S->vocab, (int64_t)d) + (size_t)(held * 7 + 1) * 2 * 4096 + ((size_t)4 << 20);
    F->arena = mmap(NULL, F->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (F->arena == MAP_FAILED) return -1;
    madvise(F->arena, F->size, MADV_HUGEPAGE);
    F->n = S->layers * 7 + 1;
    F->w = calloc((size_t)F->n, sizeof *F->w);
    if (!F->w) return -1;
    for (int l = 0; l < S->layers; l++) {
        struct olmo_linear *L = F->w + l * 7;
        if (l >= held) memcpy(L, F->w + (l % held) * 7, 7 * sizeof *L);
        else if (make_mat(F, f, (int)d, (int)d, &L[0]) || make_mat(F, f, (int)kvd, (int)d, &L[1]) ||
                 make_mat(F, f, (int)kvd, (int)d, &L[2]) || make_mat(F, f, (int)d, (int)d, &L[3]) ||
                 make_mat(F, f, (int)ff, (int)d, &L[4]) || make_mat(F, f, (int)ff, (int)d, &L[5]) ||
                 make_mat(F, f, (int)d, (int)ff, &L[6]))
            return -1;
    }
    if (make_mat(F, f, S->vocab, (int)d, &F->w[F->n - 1])) return -1;
    F->bytes_per_token = 0;
    for (int i = 0; i < F->n; i++) F->bytes_per_token += mat_bytes(f, F->w[i].rows, F->w[i].cols);
    return 0;
}

/* T tokens through every projection (the lm_head for the last token only). Seconds. */
static double pass(const struct fmt *F, int T, float *x, float *y) {
    double t = olmo_now();
    for (int i = 0; i < F->n - 1; i++) linear_forward(y, x, &F->w[i], T);
    linear_forward(y, x, &F->w[F->n - 1], 1);
    return olmo_now() - t;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double median(const double *v, int n) {
    double *c = malloc(sizeof(double) * (size_t)n), m;
    memcpy(c, v, sizeof(double) * (size_t)n);
    qsort(c, (size_t)n, sizeof(double), cmp_d);
    m = n % 2 ? c[n / 2] : 0.5 * (c[n / 2 - 1] + c[n / 2]);
    free(c);
    return m;
}

static pid_t start_spinner(void) {
    pid_t p = fork();
    if (p == 0) { for (volatile unsigned long k = 0;; k++) {} }
    return p;
}

int main(int argc, char **argv) {
    const struct shape *S = &SHAPES[0];
    int rounds = 5, tokens = 4, prompt = 0, busy = 0, distinct = 0, nthr = 0, thr[8];
    struct fmt F[NF] = {{.on = 1}, {.on = 1}, {.on = 1}};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(a, "--shape")) { S = !strcmp(v, "7b") ? &SHAPES[1] : !strcmp(v, "tiny") ? &SHAPES[2] : &SHAPES[0]; i++; }
        else if (!strcmp(a, "--dtype")) {
            for (int f = 0; f < NF; f++) F[f].on = strstr(v, FNAME[f]) != NULL;
            i++;
        } else if (!strcmp(a, "--threads")) {
            for (const char *p = v; *p && nthr < 8; p = strchr(p, ',') ? strchr(p, ',') + 1 : p + strlen(p)) thr[nthr++] = atoi(p);
            i++;
        } else if (!strcmp(a, "--rounds")) { rounds = atoi(v); i++; }
        else if (!strcmp(a, "--tokens")) { tokens = atoi(v); i++; }
        else if (!strcmp(a, "--prompt")) { prompt = atoi(v); i++; }
        else if (!strcmp(a, "--distinct-layers")) { distinct = atoi(v); i++; }
        else if (!strcmp(a, "--busy")) busy = 1;
        else { fprintf(stderr, "bench_decode: unknown option %s (see the comment at the top)\n", a); return 2; }
    }
    if (!nthr) { thr[0] = 1; thr[1] = 2; nthr = 2; }
    if (rounds < 1 || rounds > 1000 || tokens < 1 || prompt < 0) { fprintf(stderr, "bench_decode: bad numbers\n"); return 2; }
    const char *cpu = olmo_cpu_model();
    printf("bench_decode: OLMo-2 %s shape (projections only), CPU %s, %d rounds of %d decode tokens%s\n", S->name, cpu,
           rounds, tokens, busy ? ", ONE CORE BUSY (spinning process)" : "");
    olmo_pool_set_threads(thr[0]);
    for (int f = 0; f < NF; f++) {
        if (!F[f].on) continue;
        if (build(&F[f], f, S, distinct)) { fprintf(stderr, "bench_decode: cannot build the %s weights (out of memory?)\n", FNAME[f]); return 1; }
        F[f].tps = calloc((size_t)rounds, sizeof(double));
        F[f].bw = calloc((size_t)rounds, sizeof(double));
        if (!F[f].tps || !F[f].bw) return 1;
    }
    size_t xmax = (size_t)(prompt > 1 ? prompt : 1) * (size_t)S->ff;
    if (xmax < (size_t)S->vocab) xmax = (size_t)S->vocab;
    float *x = aligned_alloc(64, xmax * sizeof(float)), *y = aligned_alloc(64, xmax * sizeof(float));
    if (!x || !y) return 1;
    for (size_t i = 0; i < xmax; i++) x[i] = (float)((i * 2654435761u) % 2001) / 1000.0f - 1.0f;
    pid_t sp = busy ? start_spinner() : 0;
    printf("%-7s %-5s %12s %12s %12s %12s %14s\n", "threads", "dtype", "tok/s (med)", "GB/token", "eff GB/s", "read GB/s",
           "share of read");
    for (int ti = 0; ti < nthr; ti++) {
        olmo_pool_set_threads(thr[ti]);
        for (int f = 0; f < NF; f++)
            if (F[f].on) pass(&F[f], 1, x, y);   /* warm-up: threads, scratch */
        for (int r = 0; r < rounds; r++)
            for (int f = 0; f < NF; f++) {
                if (!F[f].on) continue;
                double t = 0;
                for (int k = 0; k < tokens; k++) t += pass(&F[f], 1, x, y);
                F[f].tps[r] = tokens / t;
                F[f].bw[r] = (double)F[f].used / bench_read(F[f].arena, F[f].used);
            }
        for (int f = 0; f < NF; f++) {
            if (!F[f].on) continue;
            double share[1000];
            for (int r = 0; r < rounds; r++) share[r] = (double)F[f].bytes_per_token * F[f].tps[r] / F[f].bw[r];
            double tps = median(F[f].tps, rounds), bw = median(F[f].bw, rounds);
            printf("%-7d %-5s %12.2f %12.3f %12.1f %12.1f %13.0f%%\n", thr[ti], FNAME[f], tps, F[f].bytes_per_token / 1e9,
                   F[f].bytes_per_token * tps / 1e9, bw / 1e9, 100 * median(share, rounds));
        }
        if (prompt > 1)
            for (int f = 0; f < NF; f++)
                if (F[f].on) printf("%-7d %-5s prefill of %d tokens: %.1f tok/s\n", thr[ti], FNAME[f], prompt, prompt / pass(&F[f], prompt, x, y));
        fflush(stdout);
    }
    if (sp > 0) { kill(sp, SIGKILL); waitpid(sp, NULL, 0); }
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    printf("peak RSS %.2f GB (all formats held at once). share of read = bytes per token x tokens/s / the round's "
           "streaming-read GB/s (the decode bound); medians over rounds. llama.cpp on this machine: bench/llama_cpp_peer.sh\n",
           u.ru_maxrss / 1e6);
    return 0;
}
