/* hash.h — FNV-1a 64 of a byte string: a cheap, stable fingerprint (config texts in checkpoints, duplicate
 * documents in the demo corpus). Not for hash tables on hot paths: the tokenizer has its own faster mix. */
#ifndef OLMO_BASE_HASH_H
#define OLMO_BASE_HASH_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t olmo_fnv1a64(const void *data, size_t n) {
    const unsigned char *s = data;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 0x100000001b3ull;
    return h;
}

#endif
