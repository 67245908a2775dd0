/* sais.h — suffix array of an integer string by induced sorting (SA-IS, Nong, Zhang & Chan 2009).
 *
 * The index builder (idx_build.c) sorts each chunk of a shard with it. The alphabet is the token ids plus a few
 * separator symbols, so it is an integer alphabet of up to ~2^17 symbols, not bytes: libdivsufsort (the only
 * suffix sorter Debian packages) handles bytes only. Linear time; memory is the text, the output and n/8 bytes of
 * type bits plus two K-entry bucket tables per recursion level. */
#ifndef OLMO_INDEX_SAIS_H
#define OLMO_INDEX_SAIS_H

#include <stddef.h>
#include <stdint.h>

/* Writes to sa[0..n) the start positions of the suffixes of t[0..n) in increasing order, a suffix that is a prefix
 * of another sorting first (an implicit end symbol smaller than every t[i]). Every t[i] must be < k. n < 2^32 - 1.
 * Returns 0, or -1 after olmo_err when memory runs out. */
int sais_build(const uint32_t *t, uint32_t *sa, uint32_t n, uint32_t k);

#endif
