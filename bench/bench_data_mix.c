/* bench_data_mix.c — `olmo data dedup` and `olmo data mix` throughput in MB/s per core of uncompressed JSONL, on
 * the ~27 MB of ../shared/data/corpora turned into Dolma documents (paragraph groups of ~4 KB, 8 .jsonl.gz files),
 * each beside:
 *   - its floor: the same files only decompressed and (for mix) re-compressed line by line through the same
 *     reader/writer, no JSON work — what any tool reading and writing these .gz files must spend;
 *   - Dolma's published figure, 122 CPU-hours/TB ≈ 2.3 MB/s per core for tag + mix (Dolma is not installed here,
 *     so it is quoted, not run);
 *   - 1 and 2 threads (`processes`), for the scaling.
 * And the filter engines side by side: a plain jq path on the own walker vs the same expression in libjq, and a
 * JSONPath filter, in µs per document.
 *
 *   build/bench/bench_data_mix [MAX_MB]    (default: all of the corpora) */
#include "base/cpu.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "data/bloom.h"
#include "data/dedup.h"
#include "data/docs.h"
#include "data/filter.h"
#include "data/mix.h"
#include "data/mix_config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* CPU seconds of this process: "MB/s per core" is MB over CPU time, which a machine shared with other jobs does
 * not inflate the way wall time does (the 2-thread runs also report wall time, for the scaling). */
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}
static double wall(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Every .txt under dir, recursively (sorted by readdir order made stable with a sort). */
static void list_txt(const char *dir, char ***out, size_t *n) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char *p = olmo_path_join(dir, e->d_name);
        struct stat st;
        if (!stat(p, &st) && S_ISDIR(st.st_mode)) { list_txt(p, out, n); free(p); continue; }
        size_t l = strlen(p);
        if (l > 4 && !strcmp(p + l - 4, ".txt")) { *out = realloc(*out, (*n + 1) * sizeof **out); (*out)[(*n)++] = p; }
        else free(p);
    }
    closedir(d);
}
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Writes the corpora as documents into root/documents/NN.jsonl.gz; returns uncompressed JSONL bytes. */
static double make_documents(const char *corpora, const char *root, double max_mb, long *ndocs) {
    char **files = NULL;
    size_t nf = 0;
    list_txt(corpora, &files, &nf);
    qsort(files, nf, sizeof *files, cmp_str);
    char path[4096];
    snprintf(path, sizeof path, "%s/documents", root);
    olmo_mkdir_p(path);
    struct docs_writer *w[8];
    for (int i = 0; i < 8; i++) {
        snprintf(path, sizeof path, "%s/documents/%02d.jsonl.gz", root, i);
        w[i] = docs_writer_open(path);
    }
    struct docs_buf line = {0};
    double bytes = 0;
    long id = 0;
    for (size_t f = 0; f < nf && bytes < max_mb * 1e6; f++) {
        size_t len;
        char *t = olmo_read_file(files[f], &len);
        if (!t) continue;
        size_t start = 0;
        while (start < len) {
            size_t end = start + 4096 < len ? start + 4096 : len;
            char *nl = end < len ? memmem(t + end, len - end, "\n\n", 2) : NULL;
            end = nl ? (size_t)(nl - t) + 2 : len;
            /* only valid UTF-8 reaches the documents: the corpora are UTF-8 text */
            line.len = 0;
            char idb[64];
            snprintf(idb, sizeof idb, "{\"id\":\"%ld\",\"source\":\"corpora\",\"text\":", id);
            docs_buf_puts(&line, idb);
            docs_buf_json_string(&line, t + start, end - start);
            docs_buf_puts(&line, ",\"metadata\":{\"file\":\"bench\"}}");
            docs_writer_line(w[id % 8], line.data, line.len);
            bytes += line.len + 1;
            id++;
            start = end;
        }
        free(t);
    }
    for (int i = 0; i < 8; i++) docs_writer_commit(w[i]);
    for (size_t f = 0; f < nf; f++) free(files[f]);
    free(files);
    docs_buf_free(&line);
    *ndocs = id;
    return bytes;
}

/* The floor: decompress every line (and, with rewrite, compress it again into a scratch file). */
static double floor_pass(const char *root, int rewrite) {
    double t0 = now();
    for (int i = 0; i < 8; i++) {
        char path[4096], out[4096];
        snprintf(path, sizeof path, "%s/documents/%02d.jsonl.gz", root, i);
        snprintf(out, sizeof out, "%s/floor/%02d.jsonl.gz", root, i);
        struct docs_lines *l = docs_lines_open(path);
        struct docs_writer *w = rewrite ? docs_writer_open(out) : NULL;
        char *s;
        size_t n;
        while (docs_lines_next(l, &s, &n) > 0)
            if (w) docs_writer_line(w, s, n);
        docs_lines_close(l);
        if (w) docs_writer_commit(w);
    }
    return now() - t0;
}

static int run_cfg(const char *yaml, int is_mix) {
    struct ycfg cfg;
    if (ycfg_load_string(&cfg, yaml, "bench")) return -1;
    int rc;
    if (is_mix) {
        struct mix_stats st;
        rc = mix_run(&cfg, &st);
    } else {
        struct dedup_config c;
        struct dedup_stats st;
        rc = dedup_config_read(&cfg, &c) || dedup_run(&c, &st);
        dedup_config_free(&c);
    }
    ycfg_free(&cfg);
    return rc;
}

int main(int argc, char **argv) {
    double max_mb = argc > 1 ? atof(argv[1]) : 1e9;
    olmo_log_level = OLMO_LOG_QUIET;
    const char *shared = getenv("OLMO_SHARED_DATA");
    char corpora[4096];
    snprintf(corpora, sizeof corpora, "%s/corpora", shared ? shared : "../shared/data");
    if (access(corpora, R_OK)) { fprintf(stderr, "bench_data_mix: %s not found (set OLMO_SHARED_DATA)\n", corpora); return 1; }
    char root[] = "/tmp/bench_data_mix.XXXXXX";
    if (!mkdtemp(root)) return 1;
    const char *cpu = olmo_cpu_model();
    long ndocs;
    double bytes = make_documents(corpora, root, max_mb, &ndocs);
    double mb = bytes / 1e6;
    printf("bench_data_mix: %.1f MB of JSONL (%ld documents of ~4 KB, 8 .jsonl.gz files) from %s\nCPU: %s\n\n", mb,
           ndocs, corpora, cpu);

    double t_read = floor_pass(root, 0), t_rw = floor_pass(root, 1);
    printf("floor  read (gunzip lines)             %7.1f MB/s/core\n", mb / t_read);
    printf("floor  read + write (gunzip + gzip -6) %7.1f MB/s/core\n", mb / t_rw);

    char yaml[8192];
    double t_dedup[3] = {0}, t_mix[3] = {0}, w_dedup[3] = {0}, w_mix[3] = {0};
    for (int threads = 1; threads <= 2; threads++) {
        snprintf(yaml, sizeof yaml,
                 "documents: [\"%s/documents/*.jsonl.gz\"]\n"
                 "dedupe: {name: dd%d, paragraphs: {attribute_name: bff_duplicate_paragraph_spans}}\n"
                 "bloom_filter: {file: \"%s/bloom%d.bin\", estimated_doc_count: 1000000, desired_false_positive_rate: 1e-6}\n"
                 "processes: %d\n", root, threads, root, threads, threads);
        double t0 = now(), w0 = wall();
        if (run_cfg(yaml, 0)) { fprintf(stderr, "dedup: %s\n", olmo_errmsg()); return 1; }
        t_dedup[threads] = now() - t0;
        w_dedup[threads] = wall() - w0;
        snprintf(yaml, sizeof yaml,
                 "streams:\n"
                 "  - name: m%d\n"
                 "    documents: [\"%s/documents/*.jsonl.gz\"]\n"
                 "    attributes: [dd%d]\n"
                 "    output: {path: \"%s/mixed%d\", max_size_in_bytes: 1000000000}\n"
                 "    filter: {exclude: [\"$.attributes[?(@.bff_duplicate_paragraph_spans && @.bff_duplicate_paragraph_spans[0] && @.bff_duplicate_paragraph_spans[0][1] > 100000000)]\"]}\n"
                 "    span_replacement: [{span: $.attributes.bff_duplicate_paragraph_spans, min_score: 0.5, replacement: ''}]\n"
                 "  - name: p%d\n"
                 "    documents: [\"%s/documents/*.jsonl.gz\"]\n"
                 "    output: {path: \"%s/passed%d\", max_size_in_bytes: 1000000000}\n"
                 "    filter: {include: [\"$.id\"]}\n"
                 "processes: %d\n",
                 threads, root, threads, root, threads, threads, root, root, threads, threads);
        t0 = now();
        w0 = wall();
        if (run_cfg(yaml, 1)) { fprintf(stderr, "mix: %s\n", olmo_errmsg()); return 1; }
        t_mix[threads] = now() - t0;
        w_mix[threads] = wall() - w0;
    }
    /* the same pass-through written as .zst (compression.output: zst): how much of mix is gzip -6 */
    snprintf(yaml, sizeof yaml,
             "streams:\n"
             "  - name: z\n"
             "    documents: [\"%s/documents/*.jsonl.gz\"]\n"
             "    output: {path: \"%s/zst\", max_size_in_bytes: 1000000000}\n"
             "    compression: {output: zst}\n"
             "    filter: {include: [\"$.id\"]}\n", root, root);
    double tz0 = now();
    if (run_cfg(yaml, 1)) { fprintf(stderr, "mix zst: %s\n", olmo_errmsg()); return 1; }
    double t_zst = now() - tz0;
    /* the mix config runs two streams (with attributes + span replacement, and a pass-through): 2 × mb of input */
    printf("dedup  paragraphs, k = %u hashers     %7.1f MB/s/core  (2 threads: %.1f MB/s/core, wall %.2fx of 1 thread)\n",
           bloom_optimal_k(bloom_suggest_size(1000000, 1e-6), 1000000), mb / t_dedup[1], mb / t_dedup[2],
           w_dedup[1] / w_dedup[2]);
    printf("mix    attrs + filter + spans, and a pass-through stream\n"
           "                                       %7.1f MB/s/core  (2 threads: %.1f MB/s/core, wall %.2fx of 1 thread)\n",
           2 * mb / t_mix[1], 2 * mb / t_mix[2], w_mix[1] / w_mix[2]);
    printf("mix    pass-through, .zst output        %7.1f MB/s/core  (gzip -6 output is the floor above)\n", mb / t_zst);
    printf("dedup + mix, 1 core                    %7.1f MB/s  = %.1fx Dolma's published 2.3 MB/s/core (tag + mix),"
           " %.0f%% of the read+write floor\n",
           mb / (t_dedup[1] + t_mix[1] / 2), mb / (t_dedup[1] + t_mix[1] / 2) / 2.3,
           100 * t_rw / (t_dedup[1] + t_mix[1] / 2));

    /* filter engines */
    struct docs_reader *r = NULL;
    char p0[4096];
    snprintf(p0, sizeof p0, "%s/documents/00.jsonl.gz", root);
    r = docs_reader_open(p0);
    json_t **docs = NULL;
    size_t nd = 0;
    struct docs_doc d = {0};
    while (docs_reader_next(r, &d) > 0 && nd < 2000) {
        json_t *o = json_deep_copy(d.obj);
        json_object_set_new(o, "attributes", json_pack("{s:[[i,i,f]]}", "dd", 0, 10, 0.25));
        docs = realloc(docs, (nd + 1) * sizeof *docs);
        docs[nd++] = o;
    }
    docs_doc_clear(&d);
    docs_reader_close(r);
    const char *jqp = ".attributes?.dd?[0]?[2]?";
    struct dfilter *walker = dfilter_compile(jqp, DFILTER_JQ), *libjq = dfilter_compile(jqp, DFILTER_JQ),
                   *jp = dfilter_compile("$.attributes[?(@.dd[0][2] > 0.2)]", DFILTER_JSONPATH);
    dfilter_force_libjq(libjq);
    double te[3];
    struct dfilter *fs[3] = {walker, libjq, jp};
    for (int e = 0; e < 3; e++) {
        double t0 = now();
        int n, t;
        for (int rep = 0; rep < 3; rep++)
            for (size_t i = 0; i < nd; i++) dfilter_eval(fs[e], docs[i], &n, &t);
        te[e] = (now() - t0) / (3.0 * nd) * 1e6;
    }
    printf("\nfilter %s on %zu documents: own walker %.2f µs/doc, libjq %.2f µs/doc (%.0fx); "
           "JSONPath $.attributes[?(@.dd[0][2] > 0.2)] %.2f µs/doc\n",
           jqp, nd, te[0], te[1], te[1] / te[0], te[2]);
    for (int e = 0; e < 3; e++) dfilter_free(fs[e]);
    for (size_t i = 0; i < nd; i++) json_decref(docs[i]);
    free(docs);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd)) return 1;
    return 0;
}
