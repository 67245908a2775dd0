/* idx_text.c — a shard's tokens: opening the token files `olmo train` reads (headerless little-endian arrays
 * or real .npy), and comparing suffixes that stop at their file's end. Shared by the builder and the queries. */
#include "index/idx.h"
#include "index/idx_internal.h"

#include "base/error.h"

#include <stdio.h>
#include <string.h>

uint32_t idx_text_file(const struct idx_text *t, uint64_t pos) {
    if (t->n_files == 1) return 0;
    uint32_t lo = 0, hi = t->n_files;   /* last file whose first <= pos */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (t->first[mid] <= pos) lo = mid; else hi = mid;
    }
    return lo;
}

uint32_t idx_text_at(const struct idx_text *t, uint64_t pos) {
    uint32_t f = idx_text_file(t, pos);
    return idx_text_tok(t, t->data[f], pos - t->first[f]);
}

int idx_text_cmp_query(const struct idx_text *t, uint64_t pos, const uint32_t *q, size_t m, size_t *lcp) {
    uint32_t f = idx_text_file(t, pos);
    uint64_t avail = t->first[f + 1] - pos;
    const uint8_t *d = t->data[f];
    uint64_t off = pos - t->first[f];
    size_t n = avail < m ? (size_t)avail : m, i = 0;
    int r = 0;
    if (t->width == 2) {
        const uint8_t *p = d + 2 * off;
        for (; i < n; i++) {
            uint16_t v; memcpy(&v, p + 2 * i, 2);
            if (v != q[i]) { r = v < q[i] ? -1 : 1; break; }
        }
    } else {
        const uint8_t *p = d + 4 * off;
        for (; i < n; i++) {
            uint32_t v; memcpy(&v, p + 4 * i, 4);
            if (v != q[i]) { r = v < q[i] ? -1 : 1; break; }
        }
    }
    if (lcp) *lcp = i;
    if (r) return r;
    return n < m ? -1 : 0;   /* the suffix ended before the query: it sorts first */
}

int idx_text_cmp_suffix(const struct idx_text *t, uint64_t p, uint64_t q, uint64_t cap) {
    if (p == q) return 0;
    uint32_t fp = idx_text_file(t, p), fq = idx_text_file(t, q);
    uint64_t lp = t->first[fp + 1] - p, lq = t->first[fq + 1] - q;
    uint64_t n = lp < lq ? lp : lq;
    if (cap && cap < n) n = cap;
    const uint8_t *a = t->data[fp] + (p - t->first[fp]) * t->width, *b = t->data[fq] + (q - t->first[fq]) * t->width;
    if (t->width == 2) {
        for (uint64_t i = 0; i < n; i++) {
            uint16_t x, y; memcpy(&x, a + 2 * i, 2); memcpy(&y, b + 2 * i, 2);
            if (x != y) return x < y ? -1 : 1;
        }
    } else {
        for (uint64_t i = 0; i < n; i++) {
            uint32_t x, y; memcpy(&x, a + 4 * i, 4); memcpy(&y, b + 4 * i, 4);
            if (x != y) return x < y ? -1 : 1;
        }
    }
    if (cap && n == cap) return 0;
    if (lp != lq) return lp < lq ? -1 : 1;
    return fp < fq ? -1 : fp > fq ? 1 : 0;
}

int idx_token_file_open(const char *path, int width, struct olmo_mmap *map, const uint8_t **data, uint64_t *n,
                        uint64_t *skip_out) {
    if (olmo_mmap_open(map, path) < 0) return -1;
    const uint8_t *p = map->data;
    size_t size = map->size, skip = 0;
    if (size >= 10 && !memcmp(p, "\x93NUMPY", 6)) {
        size_t hlen = p[6] == 1 ? (size_t)(p[8] | p[9] << 8) : size >= 12 ? (size_t)(p[8] | p[9] << 8 | p[10] << 16 | (uint32_t)p[11] << 24) : SIZE_MAX;
        size_t start = p[6] == 1 ? 10 : 12;
        if (hlen == SIZE_MAX || hlen > size - start) {
            olmo_mmap_close(map);
            return olmo_err("%s: truncated .npy header", path);
        }
        char hdr[256] = {0}, want[8];
        memcpy(hdr, p + start, hlen < sizeof hdr - 1 ? hlen : sizeof hdr - 1);
        snprintf(want, sizeof want, "'<u%d'", width);
        if (!strstr(hdr, want)) {
            olmo_mmap_close(map);
            return olmo_err("%s: .npy header %.120s does not describe %s tokens (expected descr %s): wrong --dtype?",
                            path, hdr, width == 2 ? "uint16" : "uint32", want);
        }
        skip = start + hlen;
    }
    if ((size - skip) % (size_t)width) {
        olmo_mmap_close(map);
        return olmo_err("%s: %zu bytes of tokens is not a whole number of %d-byte tokens: wrong --dtype?", path,
                        size - skip, width);
    }
    *data = p + skip;
    *n = (size - skip) / (size_t)width;
    if (skip_out) *skip_out = skip;
    return 0;
}

int idx_token_file_check(const char *path, int width, const uint8_t *data, uint64_t n, uint64_t vocab_limit) {
    /* A uint32 file read as uint16 shows a zero high half at every odd index; a uint16 file read as uint32
     * shows ids far above any vocabulary (two tokens in one word). Sample up to 65536 tokens. */
    uint64_t step = n > 65536 ? (n / 65536) | 1 : 1, seen = 0, odd_zero = 0, odd = 0, even_zero = 0, even = 0;
    for (uint64_t i = 0; i < n; i += step, seen++) {
        uint32_t v = width == 2 ? (uint32_t)(data[2 * i] | data[2 * i + 1] << 8)
                                : (uint32_t)data[4 * i] | (uint32_t)data[4 * i + 1] << 8 |
                                      (uint32_t)data[4 * i + 2] << 16 | (uint32_t)data[4 * i + 3] << 24;
        if (vocab_limit && v >= vocab_limit && v != UINT32_MAX)
            return olmo_err("%s: token %llu is id %u, at or above the vocabulary size %llu: wrong --dtype?", path,
                            (unsigned long long)i, v, (unsigned long long)vocab_limit);
        if (width == 4 && v >= (1u << 24))
            return olmo_err("%s: token %llu is id %u (>= 2^24): this looks like a uint16 file read as uint32 "
                            "(use --dtype uint16)", path, (unsigned long long)i, v);
        if (width == 2 && (i & 1)) { odd++; odd_zero += v == 0; }
        else if (width == 2) { even++; even_zero += v == 0; }
    }
    if (width == 2 && odd >= 16 && odd_zero * 10 >= odd * 9 && even_zero * 2 < even)
        return olmo_err("%s: %llu of %llu sampled odd-position tokens are 0: this looks like a uint32 file read as "
                        "uint16 (use --dtype uint32)", path, (unsigned long long)odd_zero, (unsigned long long)odd);
    (void)seen;
    return 0;
}
