/* idx_internal.h — helpers shared by the index's builder and reader, not part of its public API. */
#ifndef OLMO_INDEX_IDX_INTERNAL_H
#define OLMO_INDEX_IDX_INTERNAL_H

#include <stdint.h>

#include "index/idx.h"

/* Compares the suffixes at p and q of a shard in the index's canonical order: token by token, a suffix stopping
 * at its file's end first, two that stop together by file index; cap > 0 compares only cap tokens (0 = equal). */
int idx_text_cmp_suffix(const struct idx_text *t, uint64_t p, uint64_t q, uint64_t cap);

/* Maps a token file (headerless or .npy with descr '<u2'/'<u4'); data and n get its tokens, skip the header bytes. */
int idx_token_file_open(const char *path, int width, struct olmo_mmap *map, const uint8_t **data, uint64_t *n,
                        uint64_t *skip);
/* Heuristic wrong-dtype check on a sample of tokens (and ids >= vocab_limit when nonzero). */
int idx_token_file_check(const char *path, int width, const uint8_t *data, uint64_t n, uint64_t vocab_limit);

#endif
