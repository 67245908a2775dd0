/* mem.h — checked and aligned allocation.
 *
 * olmo_malloc/olmo_calloc set an error message and return NULL on failure (callers propagate);
 * olmo_aligned_alloc returns 64-byte aligned memory (one cache line, one AVX-512 register) freed with free(). */
#ifndef OLMO_BASE_MEM_H
#define OLMO_BASE_MEM_H

#include <stddef.h>

void *olmo_malloc(size_t n);
void *olmo_calloc(size_t count, size_t size);
void *olmo_realloc(void *p, size_t n);
void *olmo_aligned_alloc(size_t n);   /* 64-byte aligned, zeroed; free() it */
char *olmo_strdup(const char *s);
char *olmo_strndup(const char *s, size_t n);

#endif
