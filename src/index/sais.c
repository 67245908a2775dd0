/* sais.c — SA-IS over an integer alphabet (see sais.h). Written from the paper's description: classify
 * suffixes as S/L, sort the LMS substrings by one induced pass, name them, recurse when names repeat, then induce
 * the whole order from the sorted LMS suffixes. The end symbol is implicit (position n, smaller than all). */
#include "index/sais.h"

#include "base/error.h"

#include <stdlib.h>
#include <string.h>

#define EMPTY UINT32_MAX

/* S/L type bits: 1 = S (the suffix at i is smaller than the one at i+1). */
#define IS_S(tb, i) (((tb)[(i) >> 3] >> ((i) & 7)) & 1)
#define SET_S(tb, i) ((tb)[(i) >> 3] |= (uint8_t)(1u << ((i) & 7)))
#define IS_LMS(tb, i) ((i) > 0 && IS_S(tb, i) && !IS_S(tb, (i) - 1))

/* bkt[c] = first slot (end = 0) or one past the last slot (end = 1) of symbol c's bucket. */
static void buckets(const uint32_t *cnt, uint32_t *bkt, uint32_t k, int end) {
    uint64_t sum = 0;
    for (uint32_t c = 0; c < k; c++) {
        sum += cnt[c];
        bkt[c] = (uint32_t)(end ? sum : sum - cnt[c]);
    }
}

/* Induces the L suffixes (left to right from the bucket starts) and then the S suffixes (right to left from the
 * bucket ends) from the LMS suffixes already in sa. The suffix n-1 is always L and comes first: it is preceded
 * (in the order) only by the implicit end symbol. */
static void induce(const uint32_t *t, uint32_t *sa, uint32_t n, uint32_t k, const uint8_t *tb, const uint32_t *cnt,
                   uint32_t *bkt) {
    buckets(cnt, bkt, k, 0);
    sa[bkt[t[n - 1]]++] = n - 1;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t j = sa[i];
        if (j == EMPTY || j == 0) continue;
        j--;
        if (!IS_S(tb, j)) sa[bkt[t[j]]++] = j;
    }
    buckets(cnt, bkt, k, 1);
    for (uint32_t i = n; i-- > 0;) {
        uint32_t j = sa[i];
        if (j == EMPTY || j == 0) continue;
        j--;
        if (IS_S(tb, j)) sa[--bkt[t[j]]] = j;
    }
}

/* Are the LMS substrings at a and b (each up to and including the next LMS position) equal? */
static int lms_equal(const uint32_t *t, uint32_t n, const uint8_t *tb, uint32_t a, uint32_t b) {
    for (uint32_t d = 0;; d++) {
        if (a + d == n || b + d == n) return 0;   /* the end symbol is unique */
        if (t[a + d] != t[b + d] || IS_S(tb, a + d) != IS_S(tb, b + d)) return 0;
        if (d > 0 && IS_LMS(tb, a + d)) return 1;  /* types agree, so b + d is LMS too */
    }
}

int sais_build(const uint32_t *t, uint32_t *sa, uint32_t n, uint32_t k) {
    if (n == 0) return 0;
    if (n == 1) { sa[0] = 0; return 0; }
    uint8_t *tb = calloc((size_t)n / 8 + 1, 1);
    uint32_t *cnt = calloc(k, sizeof *cnt), *bkt = malloc((size_t)k * sizeof *bkt);
    if (!tb || !cnt || !bkt) {
        free(tb); free(cnt); free(bkt);
        return olmo_err("suffix sort: out of memory for %u symbols over an alphabet of %u", n, k);
    }
    /* Types, right to left: n-1 is L (the end symbol after it is smaller). */
    for (uint32_t i = n - 1; i-- > 0;)
        if (t[i] < t[i + 1] || (t[i] == t[i + 1] && IS_S(tb, i + 1))) SET_S(tb, i);
    for (uint32_t i = 0; i < n; i++) cnt[t[i]]++;

    /* Stage 1: LMS suffixes into their bucket ends (any order), induce: LMS substrings come out sorted. */
    for (uint32_t i = 0; i < n; i++) sa[i] = EMPTY;
    buckets(cnt, bkt, k, 1);
    for (uint32_t i = 1; i < n; i++)
        if (IS_LMS(tb, i)) sa[--bkt[t[i]]] = i;
    induce(t, sa, n, k, tb, cnt, bkt);

    /* Compact the sorted LMS positions into sa[0..n1). */
    uint32_t n1 = 0;
    for (uint32_t i = 0; i < n; i++)
        if (IS_LMS(tb, sa[i])) sa[n1++] = sa[i];
    /* Name them: equal substrings get equal names; names go to sa[n1 + pos/2] (LMS positions are >= 2 apart). */
    for (uint32_t i = n1; i < n; i++) sa[i] = EMPTY;
    uint32_t name = 0, prev = EMPTY;
    for (uint32_t i = 0; i < n1; i++) {
        uint32_t p = sa[i];
        if (prev == EMPTY || !lms_equal(t, n, tb, p, prev)) name++;
        prev = p;
        sa[n1 + p / 2] = name - 1;
    }
    /* The reduced string s1 (names in text order) goes to the end of sa. */
    uint32_t j = n;
    for (uint32_t i = n; i-- > n1;)
        if (sa[i] != EMPTY) sa[--j] = sa[i];
    uint32_t *s1 = sa + n - n1;

    /* Stage 2: sort the reduced string (recursively when names repeat) into sa[0..n1). */
    if (name < n1) {
        if (sais_build(s1, sa, n1, name) < 0) { free(tb); free(cnt); free(bkt); return -1; }
    } else {
        for (uint32_t i = 0; i < n1; i++) sa[s1[i]] = i;
    }
    /* Map reduced ranks back to LMS positions, then place them at their bucket ends in sorted order. */
    j = 0;
    for (uint32_t i = 1; i < n; i++)
        if (IS_LMS(tb, i)) s1[j++] = i;
    for (uint32_t i = 0; i < n1; i++) sa[i] = s1[sa[i]];
    for (uint32_t i = n1; i < n; i++) sa[i] = EMPTY;
    buckets(cnt, bkt, k, 1);
    for (uint32_t i = n1; i-- > 0;) {
        uint32_t p = sa[i];
        sa[i] = EMPTY;
        sa[--bkt[t[p]]] = p;
    }
    induce(t, sa, n, k, tb, cnt, bkt);
    free(tb); free(cnt); free(bkt);
    return 0;
}
