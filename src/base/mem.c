/* mem.c — allocation that reports failures through olmo_err (see mem.h). */
#include "base/mem.h"
#include "base/error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void *olmo_malloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) olmo_err("out of memory allocating %zu bytes", n);
    return p;
}

void *olmo_calloc(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) {
        olmo_err("allocation of %zu x %zu bytes overflows", count, size);
        return NULL;
    }
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) olmo_err("out of memory allocating %zu x %zu bytes", count, size);
    return p;
}

void *olmo_realloc(void *old, size_t n) {
    void *p = realloc(old, n ? n : 1);
    if (!p) olmo_err("out of memory growing a buffer to %zu bytes", n);
    return p;
}

void *olmo_aligned_alloc(size_t n) {
    size_t rounded = (n + 63) & ~(size_t)63;
    if (rounded < n) {
        olmo_err("aligned allocation of %zu bytes overflows", n);
        return NULL;
    }
    void *p = aligned_alloc(64, rounded ? rounded : 64);
    if (!p) {
        olmo_err("out of memory allocating %zu aligned bytes", n);
        return NULL;
    }
    memset(p, 0, rounded ? rounded : 64);
    return p;
}

char *olmo_strndup(const char *s, size_t n) {
    char *p = olmo_malloc(n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *olmo_strdup(const char *s) { return olmo_strndup(s, strlen(s)); }
