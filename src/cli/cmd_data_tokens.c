/* cmd_data_tokens.c — `olmo data tokens --documents GLOB... --tokenizer.name_or_path TOKENIZER.json --destination
 * DIR [--dtype uint16|uint32] [--processes N] [--max_size TOKENS] [--tokenizer.eos_token_id ID]`: what
 * `dolma tokens` writes, deterministically; src/data/tokens.h has the format. Also takes -c CONFIG. */
#include "cli/commands.h"

#include "base/error.h"
#include "data/mix_config.h"
#include "data/tokens.h"
#include "train/mpi.h"

#include <stdio.h>

static void usage(FILE *f) {
    fprintf(f, "usage: olmo data tokens --documents GLOB... --tokenizer.name_or_path TOKENIZER.json --destination DIR\n"
               "         [--dtype uint16|uint32] [--processes N] [--files_per_process N] [--max_size TOKENS]\n"
               "         [--tokenizer.eos_token_id ID] [--tokenizer.bos_token_id ID] [--fields.text_field_name F]\n"
               "         [--fields.id_field_name F] [--skip_bad_lines true] [-c CONFIG.yaml]\n"
               "  Writes part-G-NNNNN.npy (headerless token ids, EOS after each document) + part-G-NNNNN.csv.gz\n"
               "  (start,end,id,src,loc), the files `olmo train --data.paths=[...]` reads.\n");
}

int cmd_data_tokens(int argc, char **argv) {
    if (dist_init(&argc, &argv)) return cli_fail("data tokens");
    struct ycfg cfg;
    int rc = dcfg_load(&cfg, argc, argv, tokens_schema, tokens_list_keys);
    if (rc == 1) { usage(stdout); dist_finalize(); return 0; }
    if (rc) { dist_finalize(); return cli_fail("data tokens"); }
    struct tokens_stats st;
    if (tokens_run(&cfg, &st)) {
        ycfg_free(&cfg);
        int code = cli_fail("data tokens");
        dist_abort(code);
        dist_finalize();
        return code;
    }
    if (dist_rank() == 0)
        fprintf(stderr, "olmo data tokens: %ld files, %ld documents in (%ld bad lines skipped, %ld empty skipped), %ld "
                        "written, %ld tokens in %ld .npy files\n",
                st.files, st.docs_in, st.docs_bad, st.docs_empty, st.docs_out, st.tokens, st.npy_files);
    ycfg_free(&cfg);
    dist_finalize();
    return 0;
}
