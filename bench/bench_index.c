/* bench_index.c — the search index (src/index/) against issue 11's goals and a brute-force scan as the peer.
 *
 *   bench_index [N_TOKENS (default 20e6)] [DIR (default /tmp)]
 *
 * Generates N uint16 tokens (Zipf-distributed ids over a 50k vocabulary, EOS-separated documents of ~500 tokens,
 * some passages repeated as web text repeats), then measures: in-memory build (one chunk, 1 thread), external
 * build (chunks of N/4: a corpus 4x the sort memory, merged), bytes per token on disk, warm count latency of
 * 1–10-token phrases (median, vs one brute-force scan of the tokens, and vs 2·log2 N dependent reads), locate of
 * 10 hits, and a trace of a 500-token text. Deletes everything it wrote. Goals (2-core machine): index <= 6 B per
 * uint16 token, build >= 5 M tokens/s per core in memory and >= 1 M externally, count <= 100 us, locate 10 <= 1 ms,
 * trace of 500 tokens <= 1 s (all at 1 B tokens; see docs/provenance.md for how figures here scale). */
#include "index/idx.h"
#include "index/trace.h"

#include "base/cpu.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t s = 88172645463325252ull;
static uint64_t rnd64(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s; }

static int cmp_d(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }

static uint64_t dir_bytes(const char *dir, const char *const *names, int n) {
    uint64_t t = 0;
    for (int i = 0; i < n; i++) {
        char *p = olmo_path_join(dir, names[i]);
        FILE *f = fopen(p, "rb");
        if (f) { fseek(f, 0, SEEK_END); t += (uint64_t)ftell(f); fclose(f); }
        free(p);
    }
    return t;
}

static void rm_index(const char *dir) {
    const char *names[] = {"shard-0000.sa", "shard-0000.docs", "unigram.bin", "manifest.json"};
    for (int i = 0; i < 4; i++) { char *p = olmo_path_join(dir, names[i]); unlink(p); free(p); }
    rmdir(dir);
}

int main(int argc, char **argv) {
    uint64_t N = argc > 1 ? (uint64_t)atof(argv[1]) : 20000000;
    const char *base = argc > 2 ? argv[2] : "/tmp";
    const char *cpu = olmo_cpu_model();
    char tokpath[512], ix1[512], ix2[512];
    snprintf(tokpath, sizeof tokpath, "%s/bench_index.%d.npy", base, (int)getpid());
    snprintf(ix1, sizeof ix1, "%s/bench_index.%d.ix", base, (int)getpid());
    snprintf(ix2, sizeof ix2, "%s/bench_index.%d.ixe", base, (int)getpid());
    printf("bench_index: %.0f M uint16 tokens, %s\n", (double)N / 1e6, cpu);

    /* Zipf over 50k ids (inverse-CDF on a power law), EOS 50279 every ~500 tokens, 5% of documents repeated. */
    uint16_t *t = malloc(N * sizeof *t);
    if (!t) { fprintf(stderr, "out of memory\n"); return 1; }
    for (uint64_t i = 0; i < N;) {
        uint64_t len = 100 + rnd64() % 800;
        if (i > 10000 && rnd64() % 20 == 0) {   /* a repeated passage */
            uint64_t from = rnd64() % (i - 5000), l = len < N - i ? len : N - i;
            memcpy(t + i, t + from, l * 2);
            i += l;
            continue;
        }
        for (uint64_t k = 0; k < len && i < N; k++, i++) {
            double u = (double)(rnd64() >> 11) / 9007199254740992.0;
            t[i] = (uint16_t)(pow(50000.0, u) - 1);   /* log-uniform ≈ Zipf with exponent 1 */
        }
        if (i < N) t[i++] = 50279;
    }
    if (olmo_write_file_atomic(tokpath, t, N * 2) < 0) { fprintf(stderr, "%s\n", olmo_errmsg()); return 1; }

    char *files[1] = {tokpath};
    struct idx_build_opts o = {.dtype_bytes = 2, .eos_id = 50279, .threads = 1, .chunk_tokens = N + 1};
    double t0 = olmo_now();
    if (idx_build(ix1, files, 1, &o) < 0) { fprintf(stderr, "%s\n", olmo_errmsg()); return 1; }
    double b1 = olmo_now() - t0;
    o.chunk_tokens = N / 4 + 1;
    t0 = olmo_now();
    if (idx_build(ix2, files, 1, &o) < 0) { fprintf(stderr, "%s\n", olmo_errmsg()); return 1; }
    double b2 = olmo_now() - t0;
    const char *names[] = {"shard-0000.sa", "shard-0000.docs", "unigram.bin", "manifest.json"};
    uint64_t ib = dir_bytes(ix1, names, 4);
    printf("build, in memory (1 chunk, 1 thread):  %6.2f M tokens/s per core   goal >= 5\n", (double)N / b1 / 1e6);
    printf("build, external (4 chunks + merge, 1 thread): %6.2f M tokens/s per core   goal >= 1\n", (double)N / b2 / 1e6);
    printf("size: %.2f B/token with the token file (%.2f index only)   goal <= 6; infini-gram 7\n",
           (double)(ib + N * 2) / (double)N, (double)ib / (double)N);

    struct olmo_index ix;
    if (idx_open(&ix, ix1, 0) < 0) { fprintf(stderr, "%s\n", olmo_errmsg()); return 1; }
    /* warm count: 2000 phrases of 1..10 tokens taken from the corpus (and a first pass to warm the cache) */
    enum { Q = 2000 };
    static double lat[Q];
    uint32_t q[16];
    for (int pass = 0; pass < 2; pass++)
        for (int k = 0; k < Q; k++) {
            size_t m = 1 + (size_t)(rnd64() % 10);
            uint64_t p = rnd64() % (N - m);
            for (size_t j = 0; j < m; j++) q[j] = t[p + j];
            double a = olmo_now();
            int64_t c = idx_find(&ix, q, m, NULL);
            lat[k] = olmo_now() - a;
            if (c < 1) { fprintf(stderr, "count %lld for a corpus phrase\n", (long long)c); return 1; }
        }
    qsort(lat, Q, sizeof *lat, cmp_d);
    double med = lat[Q / 2], p99 = lat[Q * 99 / 100];
    /* the peer: one brute-force scan counting a 3-token phrase */
    uint32_t q3[3] = {t[N / 2], t[N / 2 + 1], t[N / 2 + 2]};
    double a = olmo_now();
    uint64_t bc = 0;
    for (uint64_t p = 0; p + 3 <= N; p++) bc += t[p] == q3[0] && t[p + 1] == q3[1] && t[p + 2] == q3[2];
    double scan = olmo_now() - a;
    if ((int64_t)bc != idx_find(&ix, q3, 3, NULL)) { fprintf(stderr, "brute-force count differs\n"); return 1; }
    double lg = log2((double)N);
    printf("count, warm, 1-10 tokens: median %.1f us, p99 %.1f us   goal <= 100 us at 1 B; brute-force scan %.1f ms "
           "(%.0fx slower); 2*log2 N = %.0f dependent reads x ~0.1 us DRAM = %.1f us\n",
           med * 1e6, p99 * 1e6, scan * 1e3, scan / med, 2 * lg, 2 * lg * 0.1);

    /* locate 10 hits: find + document of each */
    for (int k = 0; k < Q; k++) {
        uint64_t p = rnd64() % (N - 2);
        q[0] = t[p]; q[1] = t[p + 1];
        struct idx_range r;
        double b = olmo_now();
        idx_find(&ix, q, 2, &r);
        struct idx_hit h;
        for (uint64_t j = r.lo; j < r.hi && j < r.lo + 10; j++) idx_hit_at(&ix, 0, idx_sa_at(&ix.shards[0], j), &h);
        lat[k] = olmo_now() - b;
    }
    qsort(lat, Q, sizeof *lat, cmp_d);
    printf("locate 10 hits (find + file + document), warm: median %.1f us   goal <= 1000 us\n", lat[Q / 2] * 1e6);

    /* trace of 500 tokens: corpus passages with every ~25th token replaced */
    uint32_t text[500];
    uint64_t p0 = rnd64() % (N - 600);
    for (int k = 0; k < 500; k++) text[k] = rnd64() % 25 == 0 ? (uint32_t)(rnd64() % 50000) : t[p0 + (uint64_t)k];
    struct trace_opts to = {.density = 0.05, .min_len = 1, .max_count = 1000000};
    struct trace_span *sp;
    a = olmo_now();
    int64_t ns = trace_spans(&ix, text, 500, &to, &sp);
    double tr = olmo_now() - a;
    printf("trace of 500 tokens: %.1f ms, %lld spans kept   goal <= 1000 ms (OLMoTrace: 4.5 s / 458 tokens over 4.6 T)\n",
           tr * 1e3, (long long)ns);
    free(sp);
    idx_close(&ix);
    rm_index(ix1);
    rm_index(ix2);
    unlink(tokpath);
    free(t);
    return 0;
}
