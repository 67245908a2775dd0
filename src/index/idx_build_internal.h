/* idx_build_internal.h — pieces of the index builder shared between its files. */
#ifndef OLMO_INDEX_IDX_BUILD_INTERNAL_H
#define OLMO_INDEX_IDX_BUILD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "base/file.h"
#include "index/idx.h"
#include "index/idx_format.h"

/* A binary index file being written: header page placeholder, payload with a running CRC-32C, header filled in
 * and the file renamed into place by idx_pw_close (or olmo_atomic_abort(&w->f) on failure). */
struct idx_pw { struct olmo_atomic_file f; uint32_t crc; uint64_t bytes; };
int idx_pw_open(struct idx_pw *w, const char *path);
int idx_pw_write(struct idx_pw *w, const void *p, size_t n);
int idx_pw_close(struct idx_pw *w, struct idx_header *h);

/* "X.csv.gz" beside token file "X.npy" (or "X" + ".csv.gz") when it exists, else NULL. */
char *idx_meta_sibling(const char *token_path);

/* Writes shard-NNNN.docs (and shard-NNNN.meta when any file has metadata) for a shard's text; meta[i] is file
 * i's .csv.gz or NULL. Sets hdr->n_docs. Documents end at EOS (hdr->eos_id) or come from the metadata rows. */
int idx_build_docs(const char *out_dir, uint32_t shard, const struct idx_text *t, const char *const *meta,
                   const char *const *paths, struct idx_header *hdr);

#endif
