/* cmd_data_dedup.c — `olmo data dedup -c dedupe.json [--dotted.key VALUE ...]`: Dolma's `dolma dedupe`, the same
 * config (DeduperConfig) and the same attribute files; src/data/dedup.h has the semantics. Under mpirun the
 * input files are split over the ranks and the result equals the one-process result. */
#include "cli/commands.h"

#include "base/error.h"
#include "base/log.h"
#include "data/dedup.h"
#include "data/mix_config.h"
#include "train/mpi.h"

#include <stdio.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: olmo data dedup -c CONFIG.json|yaml [--key.path VALUE ...]\n"
            "  Dolma's deduper config: documents, dedupe.{name, documents.{attribute_name,key} |\n"
            "  paragraphs.{attribute_name, paragraph_separator, by_ngram.{ngram_length,stride,overlap_threshold,\n"
            "  skip_short_paragraphs}}, skip_empty, min_length, min_words, num_partitions, partition_index,\n"
            "  document_dir}, bloom_filter.{file, read_only, size_in_bytes, estimated_doc_count,\n"
            "  desired_false_positive_rate}, processes. olmo extras: skip_bad_lines (count and skip malformed\n"
            "  lines instead of failing), dedupe.fix_min_words (Dolma's min_words bug corrected),\n"
            "  bloom_filter.seed (hashers of a new filter from a fixed seed).\n"
            "  mpirun -np N olmo data dedup ... splits the files over N ranks; same result as one process.\n");
}

int cmd_data_dedup(int argc, char **argv) {
    if (dist_init(&argc, &argv)) return cli_fail("data dedup");
    struct ycfg cfg;
    int rc = dcfg_load(&cfg, argc, argv, dedup_schema, dedup_list_keys);
    if (rc == 1) { usage(stdout); dist_finalize(); return 0; }
    if (rc) { dist_finalize(); return cli_fail("data dedup"); }
    struct dedup_config c;
    struct dedup_stats st;
    if (dedup_config_read(&cfg, &c) || dedup_run(&c, &st)) {
        dedup_config_free(&c);
        ycfg_free(&cfg);
        int code = cli_fail("data dedup");
        dist_abort(code);
        dist_finalize();
        return code;
    }
    if (dist_rank() == 0)
        fprintf(stderr,
                "olmo data dedup: %ld files (%ld skipped: output exists), %ld documents in, %ld out with an attribute "
                "line each (%ld bad lines skipped); %ld %s duplicates%s\n",
                st.files, st.files_skipped_existing, st.docs + st.docs_bad, st.docs, st.docs_bad,
                c.by_paragraph ? st.dup_paragraphs : st.duplicates, c.by_paragraph ? "paragraph" : "document",
                dist_size() > 1 ? " (all ranks)" : "");
    dedup_config_free(&c);
    ycfg_free(&cfg);
    dist_finalize();
    return 0;
}
