/* bench_tokenizer.c — tokenizer encoding speed: MB/s and tokens/s, single-threaded and batched.
 *
 *   build/bench/bench_tokenizer [-t TOKENIZER.json] [-f TEXT] [-s SECONDS]
 *
 * Prints, on the same text: the memory-bandwidth ceiling (memcpy of the text), the pre-tokenizer alone
 * (hand-written matcher vs PCRE2 JIT on the same regex), tok_encode of the whole text on one thread (first call
 * with an empty cache, then warm), and tok_encode_batch over the text's paragraphs with 1, 2, ... threads
 * (with the CPU time used: on a shared machine "MB per CPU-second" staying flat shows the scaling that the wall
 * clock cannot; OMP_WAIT_POLICY=passive keeps idle threads from spinning).
 * bench/tokenizer_vs_hf.sh runs this beside Hugging Face `tokenizers` (tok_ref.js --bench) on the same file. */
#include "base/cpu.h"
#include "tokenizer/pretok_internal.h"
#include "tokenizer/tokenizer.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static double cpu_seconds(void) {   /* user + system time of all threads */
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
           1e-6 * (double)ru.ru_stime.tv_usec;
}

/* Tokenizer name -> the regex its pre-tokenizer splits with (for the pre-tokenizer-only comparison). */
static const char *regex_for(const char *tok_path) {
    return strstr(tok_path, "dolma2") ? PRETOK_CL100K_REGEX : PRETOK_GPT2_REGEX;
}

static double bench_split(struct pretok *p, const char *text, size_t len, double secs, size_t *pieces) {
    struct pretok_piece *v = NULL;
    size_t n = 0, cap = 0;
    int reps = 0;
    double t0 = olmo_now(), t;
    do {
        pretok_split(p, text, len, &v, &n, &cap);
        reps++;
    } while ((t = olmo_now() - t0) < secs);
    free(v);
    *pieces = n;
    return (double)len * reps / t / 1e6;
}

int main(int argc, char **argv) {
    { char cpu[512]; printf("%s\n", olmo_cpu_describe(cpu, (int)sizeof cpu)); }   /* a figure belongs to a CPU */
    const char *tok_path = "../shared/data/tokenizers/allenai_dolma2.json";
    const char *file = "../shared/data/corpora/gutenberg/pg1342_pride_and_prejudice.txt";
    double secs = 2.0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "-t")) tok_path = argv[i + 1];
        else if (!strcmp(argv[i], "-f")) file = argv[i + 1];
        else if (!strcmp(argv[i], "-s")) secs = atof(argv[i + 1]);
    }
    size_t len;
    char *text = olmo_read_file(file, &len);
    if (!text) { fprintf(stderr, "bench_tokenizer: %s\n", olmo_errmsg()); return 1; }
    double t0 = olmo_now();
    struct olmo_tokenizer *tok = tok_load(tok_path);
    double load_s = olmo_now() - t0;
    if (!tok) { fprintf(stderr, "bench_tokenizer: %s\n", olmo_errmsg()); return 1; }
    printf("tokenizer %s (loaded in %.0f ms)\ntext      %s (%.2f MB)\n\n", tok_path, load_s * 1e3, file, len / 1e6);

    /* the ceiling: reading and writing the text once */
    char *copy = malloc(len);
    int reps = 0;
    double t;
    t0 = olmo_now();
    do { memcpy(copy, text, len); reps++; __asm__ volatile("" ::"r"(copy) : "memory"); } while ((t = olmo_now() - t0) < 0.3);
    printf("%-44s %9.0f MB/s\n", "memcpy of the text (bandwidth ceiling)", (double)len * reps / t / 1e6);
    free(copy);

    /* pre-tokenizer alone: hand-written vs PCRE2 */
    struct pretok *hand = pretok_from_regex(regex_for(tok_path)), *pcre = pretok_from_regex_pcre2(regex_for(tok_path));
    if (hand && pcre) {
        size_t n1, n2;
        double a = bench_split(hand, text, len, secs / 4, &n1), b = bench_split(pcre, text, len, secs / 4, &n2);
        printf("%-44s %9.1f MB/s  (%zu pieces)\n", "pre-tokenizer, hand-written matcher", a, n1);
        printf("%-44s %9.1f MB/s  (%zu pieces%s)\n", "pre-tokenizer, PCRE2 JIT (same regex)", b, n2,
               n1 == n2 ? "" : ", DIFFERENT COUNT");
    }
    pretok_free(hand);
    pretok_free(pcre);

    /* one thread, whole text as one document */
    int32_t *ids;
    size_t n_ids = 0;
    t0 = olmo_now();
    if (tok_encode(tok, text, len, 0, &ids, &n_ids)) { fprintf(stderr, "%s\n", olmo_errmsg()); return 1; }
    t = olmo_now() - t0;
    free(ids);
    printf("%-44s %9.1f MB/s  %6.2f Mtok/s  (%zu tokens, %.2f bytes/token)\n", "encode, 1 thread, first call (cold cache)",
           len / t / 1e6, n_ids / t / 1e6, n_ids, (double)len / (double)n_ids);
    reps = 0;
    t0 = olmo_now();
    do {
        tok_encode(tok, text, len, 0, &ids, &n_ids);
        free(ids);
        reps++;
    } while ((t = olmo_now() - t0) < secs);
    printf("%-44s %9.1f MB/s  %6.2f Mtok/s\n", "encode, 1 thread, warm cache", (double)len * reps / t / 1e6,
           (double)n_ids * reps / t / 1e6);

    /* batch: paragraphs (split at blank lines) as documents */
    size_t cap = 1024, nd = 0;
    const char **docs = malloc(cap * sizeof *docs);
    size_t *lens = malloc(cap * sizeof *lens);
    for (size_t p = 0; p < len;) {
        const char *e = memmem(text + p, len - p, "\n\n", 2);
        size_t end = e ? (size_t)(e - text) + 2 : len;
        if (nd == cap) { cap *= 2; docs = realloc(docs, cap * sizeof *docs); lens = realloc(lens, cap * sizeof *lens); }
        docs[nd] = text + p;
        lens[nd++] = end - p;
        p = end;
    }
    int32_t **out = malloc(nd * sizeof *out);
    size_t *nout = malloc(nd * sizeof *nout);
    int maxt = omp_get_num_procs();
    double base = 0;
    for (int th = 1; th <= maxt; th *= 2) {
        reps = 0;
        size_t toks = 0;
        tok_encode_batch(tok, docs, lens, nd, 0, th, out, nout);   /* warm every thread's encoder */
        for (size_t i = 0; i < nd; i++) free(out[i]);
        t0 = olmo_now();
        double c0 = cpu_seconds();
        do {
            tok_encode_batch(tok, docs, lens, nd, 0, th, out, nout);
            toks = 0;
            for (size_t i = 0; i < nd; i++) { toks += nout[i]; free(out[i]); }
            reps++;
        } while ((t = olmo_now() - t0) < secs);
        double cpu = cpu_seconds() - c0;
        double mbs = (double)len * reps / t / 1e6;
        if (th == 1) base = mbs;
        char label[80];
        snprintf(label, sizeof label, "encode_batch, %d thread%s (%zu documents)", th, th > 1 ? "s" : "", nd);
        printf("%-44s %9.1f MB/s  %6.2f Mtok/s  (x%.2f; %.1f MB per CPU-second, %.2f CPUs busy)\n", label, mbs,
               (double)toks * reps / t / 1e6, mbs / base, (double)len * reps / cpu / 1e6, cpu / t);
    }
    free(out); free(nout); free(docs); free(lens);
    tok_free(tok);
    free(text);
    printf("\npeer: Hugging Face tokenizers, same file: bench/tokenizer_vs_hf.sh (tok_ref.js --bench N --mode whole)\n");
    return 0;
}
