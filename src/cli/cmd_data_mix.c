/* cmd_data_mix.c — `olmo data mix -c mixer.json|yaml [--dotted.key VALUE ...]`: Dolma's `dolma mix` (streams,
 * documents, attributes, filter include/exclude in JSONPath or jq, span_replacement, output), the same output
 * files; src/data/mix.h has the semantics. Under mpirun the output shards are split over the ranks. */
#include "cli/commands.h"

#include "base/error.h"
#include "data/mix.h"
#include "data/mix_config.h"
#include "train/mpi.h"

#include <stdio.h>

static void usage(FILE *f) {
    fprintf(f, "usage: olmo data mix -c CONFIG.json|yaml [--key.path VALUE ...]\n"
               "  Dolma's mixer config: streams[].{name, documents, attributes, filter.{include, exclude, syntax},\n"
               "  span_replacement[].{span, min_score, max_score, replacement, syntax}, output.{path,\n"
               "  max_size_in_bytes, discard_fields, min_text_length}, compression.output}, processes.\n"
               "  olmo extra: skip_bad_lines (count and skip malformed document lines instead of failing).\n"
               "  mpirun -np N olmo data mix ... splits the output shards over N ranks.\n");
}

int cmd_data_mix(int argc, char **argv) {
    if (dist_init(&argc, &argv)) return cli_fail("data mix");
    struct ycfg cfg;
    int rc = dcfg_load(&cfg, argc, argv, mix_schema, mix_list_keys);
    if (rc == 1) { usage(stdout); dist_finalize(); return 0; }
    if (rc) { dist_finalize(); return cli_fail("data mix"); }
    struct mix_stats st;
    if (mix_run(&cfg, &st)) {
        ycfg_free(&cfg);
        int code = cli_fail("data mix");
        dist_abort(code);
        dist_finalize();
        return code;
    }
    if (dist_rank() == 0)
        fprintf(stderr,
                "olmo data mix: %ld shards written (%ld skipped: exist); %ld documents in (%ld bad lines skipped), "
                "%ld out, %ld removed by filters, %ld below min_text_length; %ld spans replaced; %.1f MB in, %.1f MB out\n",
                st.shards, st.shards_skipped_existing, st.docs_in, st.docs_bad, st.docs_out, st.dropped_filter,
                st.dropped_min_length, st.spans_replaced, st.bytes_in / 1e6, st.bytes_out / 1e6);
    ycfg_free(&cfg);
    dist_finalize();
    return 0;
}
