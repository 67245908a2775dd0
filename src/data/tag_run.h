/* tag_run.h — `olmo data tag`: run taggers over documents files and write Dolma attribute files.
 *
 * Unit of work: one documents file -> one attribute file per experiment, line for line (spec §2.1, §1.2).
 * With an experiment name every tagger writes into attributes/<EXP>/..., keys "<EXP>__<tagger>__<type>";
 * without one each tagger gets attributes/<tagger>/... and keys "<tagger>__<tagger>__<type>". Files are
 * spread over `processes` threads (and, under mpirun, over ranks: file i goes to rank i mod size), each file
 * written atomically, so the output does not depend on the split. */
#ifndef OLMO_DATA_TAG_RUN_H
#define OLMO_DATA_TAG_RUN_H

#include "data/taggers/taggers.h"

#include <stddef.h>

#define TAG_MAX_TAGGERS 64

struct tag_opts {
    const char *taggers[TAG_MAX_TAGGERS];
    size_t ntaggers;
    const char *experiment;      /* NULL: one experiment per tagger, named after it */
    const char *destination;     /* NULL: Dolma's documents -> attributes/<EXP> rule */
    int processes;               /* threads, >= 1 */
    int skip_bad;                /* skip bad document lines (counted) instead of failing */
    int rank, world;             /* this process's share of the files (0, 1 without MPI) */
};

struct tag_stats {
    long files;                  /* files this process tagged */
    long docs, skipped;
    double text_bytes;           /* UTF-8 bytes of text tagged */
    double seconds[TAG_MAX_TAGGERS];   /* time inside each tagger, summed over threads */
};

/* Checks names (an unknown tagger is an error listing the known ones) and runs each tagger's setup. */
int tag_resolve(const char *const *names, size_t n, const struct tagger **out);

/* "Python make_variable_name": every character outside [A-Za-z0-9_] becomes '_'; caller frees.
 * NULL with olmo_err when the name starts with a digit (Dolma refuses such names). */
char *tag_variable_name(const char *name);

/* One attribute line for a document: {"id":...,"attributes":{...},"source":...}, appended to b. results[i]
 * are the spans of taggers[i] on text t; prefix[i] is "<EXP>__<tagger>__". */
int tag_format_line(struct docs_buf *b, const struct docs_doc *d, struct tag_text *t, const char *const *prefix,
                    const struct tag_result *results, size_t n);

/* Tags every file matched by the globs. Returns 0, or -1 with olmo_err (the first failure; outputs of failed
 * files are not left behind). */
int tag_run(const char *const *globs, size_t nglobs, const struct tag_opts *o, struct tag_stats *st);

#endif
