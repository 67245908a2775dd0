/* demo_corpus.h — the main job's corpus: real text that Debian packages ship, turned into Dolma documents with one
 * Dolma "source" per package (KJV Bible, GCIDE, the Jargon File, FOLDOC, The Devil's Dictionary, fortunes, Perl's
 * manual, the common licenses). Nothing is downloaded: `scripts/install-deps.sh` installs the packages.
 *
 *   OUT/documents/<source>/0000.jsonl.gz   training documents (Dolma fields: id, text, source, added, metadata)
 *   OUT/heldout/<source>.jsonl.gz          every held_out_every-th document by a hash of its id, never trained on
 *                                          (Paloma-style: text, id, source, subdomain) for `olmo eval ppl` */
#ifndef OLMO_CLI_DEMO_CORPUS_H
#define OLMO_CLI_DEMO_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#define DEMO_MAX_SOURCES 8

struct demo_source_stats {
    char name[32];          /* Dolma source name, e.g. "jargon" */
    char package[32];       /* the Debian package it comes from */
    char origin[128];       /* the path or command read */
    int present;            /* 0: package not installed (the source is left out, and the report says so) */
    size_t docs, bytes;     /* training documents written */
    size_t held_docs, held_bytes;
};

struct demo_corpus_opts {
    const char *out_dir;
    size_t max_bytes_per_source;   /* a source stops after this many bytes of text (deterministic prefix) */
    uint32_t held_out_every;       /* 1 document in N (by id hash) goes to heldout/; 0 = none */
};

/* Gathers every source that is installed. Fills st[0..*n) (one per known source, present or not).
 * Fails if no source at all is present, or on a write error. */
int demo_corpus_gather(const struct demo_corpus_opts *o, struct demo_source_stats st[DEMO_MAX_SOURCES], size_t *n);

#endif
