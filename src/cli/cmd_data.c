/* cmd_data.c — `olmo data <subcommand>`: Dolma's data toolkit (documents, taggers, dedup, mixer, tokens, stats)
 * and the search index over training tokens. Dispatches by name to the table below; each subcommand lives in its
 * own src/cli/cmd_data_<name>.c and is declared in commands.h. */
#include "cli/commands.h"

#include <stdio.h>
#include <string.h>

static const struct olmo_command data_commands[] = {
    /* One line per subcommand, in pipeline order. */
    {"from-text", "turn plain text files into Dolma documents (JSONL)", cmd_data_from_text},
    {"tag", "run Dolma taggers over documents, writing attribute files", cmd_data_tag},
    {"dedup", "deduplicate documents or paragraphs with a Bloom filter (dolma dedupe)", cmd_data_dedup},
    {"mix", "filter, mask and merge documents with their attributes (dolma mix)", cmd_data_mix},
    {"tokens", "tokenize documents into the .npy token files olmo train reads (dolma tokens)", cmd_data_tokens},
    {"stats", "documents, characters and attribute counts per source (table or --json)", cmd_data_stats},
    {"list-taggers", "list the taggers 'tag' accepts", cmd_data_list_taggers},
    {"index", "suffix-array index of token files (for count, search, ngram, olmo trace)", cmd_data_index},
    {"count", "occurrences of a phrase (or AND/OR of phrases) in an index", cmd_data_count},
    {"search", "where a phrase occurs: documents, metadata, text, training steps", cmd_data_search},
    {"ngram", "next-token counts after a context (infini-gram's ∞-gram)", cmd_data_ngram},
    {NULL, NULL, NULL},
};

static void data_usage(FILE *out) {
    fprintf(out, "usage: olmo data <subcommand> [options]\n\nsubcommands:\n");
    for (const struct olmo_command *c = data_commands; c->name; c++) fprintf(out, "  %-13s %s\n", c->name, c->summary);
    fprintf(out, "\n'olmo data <subcommand> --help' describes each one.\n");
}

int cmd_data(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        data_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (const struct olmo_command *c = data_commands; c->name; c++)
        if (!strcmp(argv[1], c->name)) return c->run(argc - 1, argv + 1);
    fprintf(stderr, "olmo data: unknown subcommand '%s'\n\n", argv[1]);
    data_usage(stderr);
    return 2;
}
