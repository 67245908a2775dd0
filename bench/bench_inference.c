/* bench_inference.c — decode and prefill speed at the real OLMo-2 1B / 7B shapes with random weights, next to
 * the machine's measured read bandwidth and llama.cpp's figures on this machine (issue 3).
 *
 *   build/bench/bench_inference [--shape 1b|7b|tiny] [--threads N] [--dtype bf16|q8|q4|all] [--prompt T]
 *                               [--decode N] [--prefill-reps N] [--hugepages 0|1] [--busy] [--dpbf16]
 *                               [--standin 0|1] [--model 0|1] [--rehome 0|1|2] [--distinct-layers N]
 *                               [--write-checkpoint DIR] [--model-dir DIR]
 *
 * (1) stand-in (--standin 1): every linear layer of one forward pass (q, k, v, o, gate, up, down per layer, and
 *     the lm_head for the last token only, as generation needs) through linear_forward, on random weights in one
 *     anonymous arena of the real size (2 MB pages unless --hugepages 0). Also: the read bandwidth — a streaming
 *     AVX-512 read over that same arena, same threads, same pages — the decode bound; the bf16 GEMV variant
 *     with vdpbf16ps; with --busy, decode with one core taken by a spinning process, for this pool, a pool that
 *     spins forever and OpenMP.
 * (2) model (--model 1): a random OLMo-2 checkpoint of the real shape written as bf16 safetensors to $TMPDIR
 *     (removed afterwards), model_load (memory-mapped), model_forward: prefill of the prompt in one call, then
 *     decode from an empty cache (mean per token). bf16 as mapped (4 KB pages) and/or moved to huge pages with
 *     linear_rehome (--rehome 0|1|2 = as mapped | moved | both), and Q8 (quantized at load). The decode row's
 *     read GB/s is a streaming read of the matrices decoding reads (the mapped file's pages, or the Q8 copy)
 *     right after the decode; a third decode row alternates decode steps with such reads token by token, so
 *     that both see the same phases of the host's memory traffic, and prints decode as a share of the read.
 *     --write-checkpoint DIR writes the random checkpoint into DIR and keeps it (with --model 0: nothing else
 *     runs); --model-dir DIR measures an existing checkpoint instead of writing one (bench/llama_cpp_peer.sh
 *     writes one, converts it to GGUF and alternates this with llama.cpp on the same weights).
 * Printed: tokens/s, llama.cpp's figure (1B, 2 threads, this machine), effective bandwidth = weight bytes per
 * token x tokens/s, measured read bandwidth, peak RSS, tokens per CPU-second. */
#include "base/error.h"
#include "base/file.h"
#include "formats/safetensors.h"
#include "model/kernels/linear.h"
#include "model/kernels/linear_internal.h"
#include "model/kernels/pool.h"
#include "model/model.h"
#include "bench_common.h"

#include <immintrin.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}


static int llama_known = 1;   /* only for the 1B shape */
static const char *llama(double v) {
    static char buf[32];
    if (llama_known) snprintf(buf, sizeof buf, "%.0f", v);
    else snprintf(buf, sizeof buf, "-");
    return buf;
}

/* ---- the weight arena ---- */
static uint8_t *arena;
static size_t arena_size, arena_used;

static void *arena_take(size_t n) {
    n = (n + 4095) & ~(size_t)4095;
    if (arena_used + n > arena_size) return NULL;
    void *p = arena + arena_used;
    arena_used += n;
    return p;
}

struct fill_job { uint8_t *p; size_t n; int q8_scales; };
#define FILL_CHUNK ((size_t)8 << 20)
static void fill_chunk(void *ctx, int64_t c, int thread) {
    (void)thread;
    struct fill_job *J = ctx;
    size_t b = (size_t)c * FILL_CHUNK, e = b + FILL_CHUNK < J->n ? b + FILL_CHUNK : J->n;
    uint64_t s = 0x9e3779b97f4a7c15ull * (uint64_t)(c + 1);
    if (J->q8_scales) {   /* fp16 scales in [1.2e-4, 2.4e-4), around 0.02/127 (random weights of std ~0.02) */
        uint16_t *f = (uint16_t *)(J->p + b);
        for (size_t i = 0; i < (e - b) / 2; i++) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; f[i] = (uint16_t)(0x0c00 + (s & 0x3ff)); }
        return;
    }
    uint16_t *h = (uint16_t *)(J->p + b);
    for (size_t i = 0; i < (e - b) / 2; i++) {   /* random bf16 in ±[0.008, 0.03) (OLMo's init std is 0.02), or random int8 pairs */
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        h[i] = (uint16_t)(0x3c00 + (s & 0x1ff)) | (uint16_t)((s >> 20) & 0x8000);
    }
}
static void fill(void *p, size_t n, int scales) {
    struct fill_job J = {p, n, scales};
    olmo_pool_for((int64_t)((n + FILL_CHUNK - 1) / FILL_CHUNK), fill_chunk, &J);
}

/* ---- (a) streaming read bandwidth over the arena (bench_common.h), best of reps passes ---- */
static double read_bandwidth(const uint8_t *p, size_t n, int reps) {
    double best = 0;
    for (int r = 0; r < reps; r++) {
        double t = bench_read(p, n);
        if ((double)n / t > best) best = (double)n / t;
    }
    return best;
}

/* ---- the model's matrices ---- */
struct mats { struct olmo_linear *w; int n; struct olmo_linear lm_head; size_t bytes_per_token; };

static struct olmo_linear make_mat(enum olmo_dtype dt, int rows, int cols) {
    struct olmo_linear W = {.dtype = dt, .rows = rows, .cols = cols};
    size_t n = (size_t)rows * (size_t)cols;
    if (dt == OLMO_DTYPE_BF16) {
        void *p = arena_take(n * 2);
        if (p) fill(p, n * 2, 0);
        W.data = p;
    } else {
        size_t prows = ((size_t)rows + 15) / 16 * 16;   /* panels of 16 rows (linear.h) */
        void *p = arena_take(prows * (size_t)cols), *s = arena_take(prows * (size_t)cols / OLMO_Q8_BLOCK * 2);
        if (p && s) { fill(p, prows * (size_t)cols, 0); fill(s, prows * (size_t)cols / OLMO_Q8_BLOCK * 2, 1); }
        W.data = s ? p : NULL;
        W.scales = s;
    }
    return W;
}

static size_t mat_bytes(const struct olmo_linear *W) {
    size_t n = (size_t)W->rows * (size_t)W->cols;
    return W->dtype == OLMO_DTYPE_BF16 ? n * 2 : (size_t)linear_q8_bytes(W->rows, W->cols);
}

/* distinct < layers: layer l reuses layer l % distinct's matrices (each layer is far larger than the 32 MB L3,
 * so every token still streams all its weights from memory; only the memory held is smaller). */
static int distinct_layers;

static int build(struct mats *M, const struct shape *S, enum olmo_dtype dt) {
    M->n = S->layers * 7;
    M->w = calloc((size_t)M->n, sizeof *M->w);
    if (!M->w) return -1;
    M->bytes_per_token = 0;
    int hd = S->d / S->heads, kvd = S->kv_heads * hd;
    for (int l = 0; l < S->layers; l++) {
        struct olmo_linear *L = M->w + l * 7;
        if (distinct_layers > 0 && l >= distinct_layers) {
            memcpy(L, M->w + (l % distinct_layers) * 7, 7 * sizeof *L);
            for (int i = 0; i < 7; i++) M->bytes_per_token += mat_bytes(&L[i]);
            continue;
        }
        L[0] = make_mat(dt, S->d, S->d);     /* q */
        L[1] = make_mat(dt, kvd, S->d);      /* k */
        L[2] = make_mat(dt, kvd, S->d);      /* v */
        L[3] = make_mat(dt, S->d, S->d);     /* o */
        L[4] = make_mat(dt, S->ff, S->d);    /* gate */
        L[5] = make_mat(dt, S->ff, S->d);    /* up */
        L[6] = make_mat(dt, S->d, S->ff);    /* down */
        for (int i = 0; i < 7; i++) {
            if (!L[i].data) return -1;
            M->bytes_per_token += mat_bytes(&L[i]);
        }
    }
    M->lm_head = make_mat(dt, S->vocab, S->d);
    if (!M->lm_head.data) return -1;
    M->bytes_per_token += mat_bytes(&M->lm_head);
    return 0;
}

/* One forward pass's linear layers for T tokens (lm_head for the last token only). */
static void pass(const struct mats *M, const struct shape *S, int T, float *x, float *y) {
    for (int i = 0; i < M->n; i++) linear_forward(y, x, &M->w[i], T);
    (void)S;
    linear_forward(y, x, &M->lm_head, 1);
}

static long peak_rss_mb(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss / 1024;
}

static double cpu_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double loadavg(void) {
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) { if (fscanf(f, "%lf", &l) != 1) l = -1; fclose(f); }
    return l;
}

/* Best wall time of reps passes of T tokens; *cpu gets the process CPU seconds of that best pass. */
static double measure(const struct mats *M, const struct shape *S, int T, int reps, float *x, float *y, double *cpu) {
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double c = cpu_s(), t = now_s();
        pass(M, S, T, x, y);
        t = now_s() - t;
        c = cpu_s() - c;
        if (t < best) { best = t; *cpu = c; }
    }
    return best;
}

static pid_t start_spinner(void) {
    pid_t p = fork();
    if (p == 0) { for (volatile unsigned long k = 0;; k++) {} }
    return p;
}
static void stop_spinner(pid_t p) {
    if (p > 0) { kill(p, SIGKILL); waitpid(p, NULL, 0); }
}

/* ---- the whole model through model_load / model_forward ---- */

/* Loads the checkpoint (bf16 memory-mapped as stored, or converted to Q8) and measures prefill of a `prompt`
 * token prompt in one call and decoding from an empty cache (mean over `decode` tokens, as llama-bench's tg). */
static int bench_model(const char *dir, enum olmo_quant q, int rehome, int prompt, int decode, int prefill_reps) {
    struct olmo_model m;
    struct model_load_opts o = {.quant = q};
    int q8 = q == OLMO_QUANT_Q8;   /* llama.cpp's stored figures: BF16, Q8_0; none for q4 (llama_cpp_peer.sh) */
    double t = now_s();
    if (model_load(&m, dir, &o) != 0) return -1;
    int rc = 0;
    if (rehome) {   /* every projection moved from the 4 KB file pages to huge pages (linear_rehome) */
        for (int l = 0; l < m.cfg.n_layers && rc == 0; l++) {
            struct olmo_layer *ly = &m.layers[l];
            struct olmo_linear *all[] = {&ly->wq, &ly->wk, &ly->wv, &ly->wo, &ly->w_gate, &ly->w_up, &ly->w_down};
            for (int i = 0; i < 7 && rc == 0; i++) rc = linear_rehome(all[i], 1);
        }
        if (rc == 0) rc = linear_rehome(&m.lm_head, 1);
        if (rc) { model_free(&m); return -1; }
    }
    double tload = now_s() - t;
    struct olmo_state st;
    if (model_state_init(&st, &m, prompt + decode + 1) != 0) { model_free(&m); return -1; }
    int32_t *tok = malloc(sizeof(int32_t) * (size_t)(prompt + decode));
    float *logits = malloc(sizeof(float) * (size_t)m.cfg.vocab_size);
    if (!tok || !logits) { free(tok); free(logits); model_state_free(&st); model_free(&m); return olmo_err("bench: out of memory"); }
    uint32_t idmax = m.cfg.vocab_size < 50000 ? (uint32_t)m.cfg.vocab_size : 50000u;   /* llama_peer.mjs: same ids */
    for (int i = 0; i < prompt + decode; i++) tok[i] = (int32_t)((i * 7919u) % idmax);
    rc = model_forward(&m, &st, tok, 1, 0, logits);   /* warm-up: pages, threads, scratch */
    double best_pre = 1e30, cpu_pre = 0, pre_proj = 0, pre_attn = 0, pre_total = 0;
    for (int r = 0; r < prefill_reps && rc == 0; r++) {
        double c = cpu_s();
        st.t_total = st.t_proj = st.t_attn = 0;
        t = now_s();
        rc = model_forward(&m, &st, tok, prompt, 0, logits);
        t = now_s() - t;
        if (t < best_pre) { best_pre = t; cpu_pre = cpu_s() - c; pre_proj = st.t_proj; pre_attn = st.t_attn; pre_total = st.t_total; }
    }
    double c = cpu_s();
    t = now_s();
    double best_tok = 1e30;
    st.t_total = st.t_proj = st.t_attn = 0;
    for (int i = 0; i < decode && rc == 0; i++) {
        double ti = now_s();
        rc = model_forward(&m, &st, tok + i, 1, i, logits);
        ti = now_s() - ti;
        if (ti < best_tok) best_tok = ti;
    }
    double tdec = (now_s() - t) / decode, cdec = (cpu_s() - c) / decode;
    /* the decode bound of this run: a streaming read of the very matrices decoding reads (bf16: the 4 KB
     * page-cache pages of the mapped checkpoint; q8: the quantized copy), same threads, right after the decode;
     * best of 3 */
    double bw = 0;
    for (int r = 0; r < 3 && rc == 0; r++) {
        double tr = bench_read_model_matrices(&m);
        if ((double)m.weight_bytes / tr > bw) bw = (double)m.weight_bytes / tr;
    }
    if (rc == 0) {
        const char *dn = q == OLMO_QUANT_NONE ? "bf16" : olmo_quant_name(q);
        printf("%-5s %-8s %10.2f %10s %10.1f %10.1f %6ld MB %14.2f   model_forward, from an empty cache; %s (load %.1f s)\n",
               dn, "decode", 1.0 / tdec, q == OLMO_QUANT_Q4 ? "-" : llama(q8 ? LLAMA_DECODE_Q8 : LLAMA_DECODE_BF16), (double)m.weight_bytes / tdec / 1e9,
               bw / 1e9, peak_rss_mb(), 1.0 / cdec, q != OLMO_QUANT_NONE ? "quantized at load (huge pages)" : rehome ? "moved to huge pages"
               : "mmapped 4 KB pages", tload);
        /* The stand-in reports its best pass, this row the mean token (as llama-bench); the best single token
         * and where the time went (the state's profile) put the two side by side. */
        printf("%-5s %-8s %10.2f   best single token; per token (mean) %.1f ms: projections %.1f, attention %.2f, "
               "the rest %.2f\n", dn, "decode", 1.0 / best_tok, st.t_total / decode * 1e3, st.t_proj / decode * 1e3,
               st.t_attn / decode * 1e3, (st.t_total - st.t_proj - st.t_attn) / decode * 1e3);
        /* The read figure above and the decode were taken seconds apart, and this machine's bandwidth moves on
         * that time scale. Here decode steps and reads of the same matrices alternate (ABBA), so both see the
         * same phases: the ratio is how close decoding comes to the machine's read speed for its own bytes. */
        double td = 0, tr = 0;
        for (int i = 0; i < 2 * decode && rc == 0; i++) {
            int read = (i ^ (i >> 1)) & 1;
            double ti = now_s();
            if (read) bench_read_model_matrices(&m);
            else rc = model_forward(&m, &st, tok + i / 2, 1, i / 2, logits);
            ti = now_s() - ti;
            if (read) tr += ti; else td += ti;
        }
        if (rc == 0)
            printf("%-5s %-8s %10.2f   alternated token by token with a streaming read of the same matrices: decode "
                   "%.1f GB/s, read %.1f GB/s, decode at %.0f %% of the read\n", dn, "decode", decode / td,
                   (double)m.weight_bytes * decode / td / 1e9, (double)m.weight_bytes * decode / tr / 1e9, 100.0 * tr / td);
        if (prefill_reps > 0)
            printf("%-5s %-8s %10.1f %10s %10s %10s %6ld MB %14.1f   model_forward, %d-token prompt in one call\n", dn,
                   "prefill", prompt / best_pre, q == OLMO_QUANT_Q4 ? "-" : llama(q8 ? LLAMA_PREFILL_Q8 : LLAMA_PREFILL_BF16), "-", "-", peak_rss_mb(),
                   prompt / cpu_pre, prompt);
        if (prefill_reps > 0)   /* the same breakdown as `olmo generate` prints for its prompt */
            printf("%-5s %-8s %10s   prefill of %d tokens: projections %.3f s, attention %.3f s, the rest %.3f s; %.1f tok "
                   "per CPU-s (GEMM: %s)\n", dn, "prefill", "", prompt, pre_proj, pre_attn, pre_total - pre_proj - pre_attn,
                   prompt / cpu_pre, linear_kernel_name(m.layers[0].wq.dtype, 2));
        fflush(stdout);
    }
    free(tok);
    free(logits);
    model_state_free(&st);
    model_free(&m);
    return rc;
}

static int standin_bench(const struct shape *S, int threads, int prompt, int decode, int prefill_reps, int huge,
                         int busy, int want_bf16, int want_q8) {
    (void)threads;
    size_t d = (size_t)S->d, ff = (size_t)S->ff, L = (size_t)S->layers, V = (size_t)S->vocab;
    size_t params = L * (4 * d * d + 3 * d * ff) + V * d;
    size_t Lheld = distinct_layers > 0 && (size_t)distinct_layers < L ? (size_t)distinct_layers : L;
    size_t held = Lheld * (4 * d * d + 3 * d * ff) + V * d;
    arena_size = (want_bf16 ? held * 2 : held + held / OLMO_Q8_BLOCK * 2) + (L * 7 + 1) * 8192 + ((size_t)4 << 20);
    arena = mmap(NULL, arena_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (arena == MAP_FAILED) { perror("bench_inference: mmap"); return -1; }
    if (huge) madvise(arena, arena_size, MADV_HUGEPAGE);

    size_t xmax = (size_t)prompt * ff > V ? (size_t)prompt * ff : V;   /* lm_head runs for one token */
    float *x = aligned_alloc(64, xmax * sizeof(float)), *y = aligned_alloc(64, xmax * sizeof(float));
    if (!x || !y) { fprintf(stderr, "bench_inference: out of memory\n"); return -1; }
    for (size_t i = 0; i < xmax; i++) x[i] = (float)((i * 2654435761u) % 2001) / 1000.0f - 1.0f;

    printf("(1) stand-in for a forward pass: every linear layer, lm_head for the last token only (no attention); "
           "weights in one anonymous arena, %s pages", huge ? "2 MB (THP)" : "4 KB");
    if (distinct_layers > 0 && distinct_layers < S->layers)
        printf("; %d distinct layers held, reused in turn (each > L3: still streamed)", distinct_layers);
    printf("\n");
    for (int pass_dt = 0; pass_dt < 2; pass_dt++) {
        enum olmo_dtype dt = pass_dt == 0 ? OLMO_DTYPE_BF16 : OLMO_DTYPE_Q8;
        if ((dt == OLMO_DTYPE_BF16 && !want_bf16) || (dt == OLMO_DTYPE_Q8 && !want_q8)) continue;
        const char *dn = dt == OLMO_DTYPE_BF16 ? "bf16" : "q8";
        arena_used = 0;
        struct mats M;
        if (build(&M, S, dt)) { fprintf(stderr, "bench_inference: arena too small\n"); return -1; }
        double bw = read_bandwidth(arena, arena_used, 3), cpu = 0;
        pass(&M, S, 1, x, y);   /* warm-up: scratch grown, threads started */
        double t = measure(&M, S, 1, decode, x, y, &cpu);
        printf("%-5s %-8s %10.2f %10s %10.1f %10.1f %6ld MB %14.2f\n", dn, "decode", 1.0 / t,
               llama(dt == OLMO_DTYPE_BF16 ? LLAMA_DECODE_BF16 : LLAMA_DECODE_Q8), (double)M.bytes_per_token / t / 1e9,
               bw / 1e9, peak_rss_mb(), 1.0 / cpu);
        fflush(stdout);
        if (dt == OLMO_DTYPE_BF16) {   /* the other bf16 GEMV: vdpbf16ps, x rounded to bf16 */
            linear_gemv_set_dpbf16(1);
            t = measure(&M, S, 1, decode, x, y, &cpu);
            linear_gemv_set_dpbf16(0);
            printf("%-5s %-8s %10.2f %10s %10.1f %10s %9s %14.2f   GEMV variant: vdpbf16ps (x rounded to bf16)\n", dn,
                   "decode", 1.0 / t, "", (double)M.bytes_per_token / t / 1e9, "", "", 1.0 / cpu);
            fflush(stdout);
        }
        if (prefill_reps > 0) {
            t = measure(&M, S, prompt, prefill_reps, x, y, &cpu);
            double flops = 2.0 * (double)(params - V * d) * prompt + 2.0 * (double)(V * d);
            printf("%-5s %-8s %10.1f %10s %10s %10s %6ld MB %14.1f   %d-token prompt, %.0f GFLOP/s\n", dn,
                   "prefill", prompt / t, llama(dt == OLMO_DTYPE_BF16 ? LLAMA_PREFILL_BF16 : LLAMA_PREFILL_Q8), "-", "-",
                   peak_rss_mb(), prompt / cpu, prompt, flops / t / 1e9);
            fflush(stdout);
        }
        if (busy) {   /* one core taken by another process: our pool vs a pool that spins vs OpenMP */
            pid_t sp = start_spinner();
            static const char *names[3] = {"pool (spin 30us, then futex)", "pool spinning forever", "OpenMP (libgomp defaults)"};
            for (int mode = 0; mode < 3; mode++) {
                olmo_pool_set_spin_us(mode == 1 ? -1 : 30);
                olmo_pool_use_openmp(mode == 2);
                pass(&M, S, 1, x, y);
                t = measure(&M, S, 1, decode, x, y, &cpu);
                printf("%-5s %-8s %10.2f   with ONE CORE BUSY (a spinning process): %s\n", dn, "decode", 1.0 / t, names[mode]);
                fflush(stdout);
            }
            olmo_pool_set_spin_us(30);
            olmo_pool_use_openmp(0);
            stop_spinner(sp);
        }
        free(M.w);
    }
    munmap(arena, arena_size);
    free(x);
    free(y);
    return 0;
}

int main(int argc, char **argv) {
    bench_print_cpu(stdout);   /* a figure belongs to a CPU */
    const struct shape *S = &SHAPES[0];
    int threads = 2, prompt = 512, decode = 10, prefill_reps = 2, huge = 1, busy = 0, want_bf16 = 1, want_q8 = 1, want_q4 = 0;
    int standin = 1, model = 1, rehome = 2;
    const char *write_dir = NULL, *model_dir = NULL;
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(a, "--shape")) {
            S = !strcmp(v, "7b") ? &SHAPES[1] : !strcmp(v, "tiny") ? &SHAPES[2] : &SHAPES[0];
            llama_known = S == &SHAPES[0];
            i++;
        }
        else if (!strcmp(a, "--threads")) { threads = atoi(v); i++; }
        else if (!strcmp(a, "--prompt")) { prompt = atoi(v); i++; }
        else if (!strcmp(a, "--decode")) { decode = atoi(v); i++; }
        else if (!strcmp(a, "--prefill-reps")) { prefill_reps = atoi(v); i++; }
        else if (!strcmp(a, "--hugepages")) { huge = atoi(v); i++; }
        else if (!strcmp(a, "--dtype")) {   /* q4: the model section only (the stand-in has bf16 and q8) */
            want_bf16 = !strcmp(v, "bf16") || !strcmp(v, "all");
            want_q8 = !strcmp(v, "q8") || !strcmp(v, "all");
            want_q4 = !strcmp(v, "q4");
            i++;
        }
        else if (!strcmp(a, "--busy")) busy = 1;
        else if (!strcmp(a, "--standin")) { standin = atoi(v); i++; }
        else if (!strcmp(a, "--model")) { model = atoi(v); i++; }
        else if (!strcmp(a, "--rehome")) { rehome = atoi(v); i++; }
        else if (!strcmp(a, "--distinct-layers")) { distinct_layers = atoi(v); i++; }
        else if (!strcmp(a, "--dpbf16")) linear_gemv_set_dpbf16(1);
        else if (!strcmp(a, "--write-checkpoint") && i + 1 < argc) write_dir = argv[++i];
        else if (!strcmp(a, "--model-dir") && i + 1 < argc) model_dir = argv[++i];
        else { fprintf(stderr, "bench_inference: unknown option %s (see the comment at the top)\n", a); return 2; }
    }
    if (threads < 1 || prompt < 1 || decode < 1 || prefill_reps < 0) { fprintf(stderr, "bench_inference: bad numbers\n"); return 2; }
    olmo_pool_set_threads(threads);

    size_t d = (size_t)S->d, ff = (size_t)S->ff, L = (size_t)S->layers, V = (size_t)S->vocab;
    size_t params = L * (4 * d * d + 3 * d * ff) + V * d;
    printf("OLMo-2 %s shape (d %d, %d layers, ff %d, vocab %d): %.2f G weights in linear layers; %d threads; "
           "load average %.1f\n", S->name, S->d, S->layers, S->ff, S->vocab, (double)params / 1e9, threads, loadavg());
    printf("%-5s %-8s %10s %10s %10s %10s %9s %14s\n", "dtype", "phase", "tokens/s", "llama.cpp", "eff GB/s",
           "read GB/s", "peak RSS", "tok per CPU-s");
    if (standin && standin_bench(S, threads, prompt, decode, prefill_reps, huge, busy, want_bf16, want_q8)) return 1;
    if (write_dir) {   /* write the checkpoint where asked and keep it (bench/llama_cpp_peer.sh) */
        if (bench_write_checkpoint(write_dir, S)) {
            fprintf(stderr, "bench_inference: %s\n", olmo_errmsg());
            return 1;
        }
        printf("random OLMo-2 %s checkpoint (bf16 safetensors) written to %s\n", S->name, write_dir);
        if (!model_dir) model_dir = write_dir;
    }
    if (model) {   /* (2) the real forward pass on a random checkpoint: given, or written to a temporary directory */
        char dir[512];
        if (model_dir) snprintf(dir, sizeof dir, "%s", model_dir);
        else {
            snprintf(dir, sizeof dir, "%s/olmo-bench-XXXXXX", tmp);
            if (!mkdtemp(dir)) { perror("bench_inference: mkdtemp"); return 1; }
        }
        printf("(2) the whole model: %s OLMo-2 checkpoint (bf16 safetensors) in %s, model_load (memory-mapped), "
               "model_forward\n", model_dir ? "the" : "random", dir);
        fflush(stdout);
        int rc = model_dir ? 0 : bench_write_checkpoint(dir, S);
        if (rc == 0 && want_bf16 && rehome != 1) rc = bench_model(dir, OLMO_QUANT_NONE, 0, prompt, decode, prefill_reps);
        if (rc == 0 && want_bf16 && rehome != 0) rc = bench_model(dir, OLMO_QUANT_NONE, 1, prompt, decode, prefill_reps);
        if (rc == 0 && want_q8) rc = bench_model(dir, OLMO_QUANT_Q8, 0, prompt, decode, prefill_reps);
        if (rc == 0 && want_q4) rc = bench_model(dir, OLMO_QUANT_Q4, 0, prompt, decode, prefill_reps);
        if (rc) fprintf(stderr, "bench_inference: %s\n", olmo_errmsg());
        if (!model_dir) {   /* ours: removed */
            char path[600];
            snprintf(path, sizeof path, "%s/model.safetensors", dir);
            unlink(path);
            snprintf(path, sizeof path, "%s/config.json", dir);
            unlink(path);
            rmdir(dir);
        }
        if (rc) return 1;
    }
    if (standin || model)
        printf("tokens/s: best of %d decode and %d prefill passes, wall clock. tok per CPU-s: tokens per CPU-second the\n"
               "process used in that pass (all threads), which other processes on the machine disturb less; with N threads\n"
               "on N free cores, tokens/s approaches N times it. llama.cpp: its figures on this machine, 1B shape, 2 threads\n"
               "(bench/llama_cpp_peer.sh measures it side by side instead).\n",
               decode, prefill_reps);
    return 0;
}
