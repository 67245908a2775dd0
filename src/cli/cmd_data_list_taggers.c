/* cmd_data_list_taggers.c — `olmo data list-taggers`: the taggers `olmo data tag` knows (Dolma's names). */
#include "cli/commands.h"

#include "data/taggers/taggers.h"

#include <stdio.h>
#include <string.h>

int cmd_data_list_taggers(int argc, char **argv) {
    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("usage: olmo data list-taggers\n\nLists the taggers 'olmo data tag --taggers' accepts, one per line: "
               "name, then what it emits.\n");
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "olmo data list-taggers: unexpected argument '%s'\n", argv[1]);
        return 2;
    }
    for (const struct tagger *t = tagger_table; t->name; t++) printf("%-40s %s\n", t->name, t->summary);
    return 0;
}
