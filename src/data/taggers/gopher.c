/* gopher.c — gopher_v1: the Gopher quality statistics, measured as Dolma measures them (spec §2.3): words
 * are str.split(), C = characters in words, the most-common 2/3/4-gram (ties to the first seen) and the
 * duplicate 5..10-gram fractions count overlapping occurrences, lines are text.split("\n").
 *
 * N-grams are counted by hash: each word gets a 64-bit hash, an n-gram hash mixes its words' hashes, and a
 * per-n open-addressing table counts occurrences — two different n-grams with the same 64-bit hash would be
 * merged (odds ~ n²/2^64 per document). */
#include "data/taggers/registry.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL ^ n;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

static uint64_t mix(uint64_t a, uint64_t b) {
    uint64_t h = (a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2))) * 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 29);
}

struct ng_entry {
    uint64_t key;            /* 0 = empty */
    uint32_t count;
    uint32_t first;          /* first occurrence (word index): Counter's insertion order */
    uint32_t chars;          /* code points in the n-gram's words */
};

static double median_len(uint32_t *v, size_t n) {
    if (!n) return 0.0;
    /* counting sort: word lengths are small, a long tail is clamped into one bucket then sorted */
    size_t cnt[65] = {0};
    for (size_t i = 0; i < n; i++) cnt[v[i] < 64 ? v[i] : 64]++;
    size_t want_lo = (n - 1) / 2, want_hi = n / 2, seen = 0;
    double lo = -1, hi = -1;
    for (int b = 0; b < 64 && hi < 0; b++) {
        if (cnt[b] == 0) continue;
        if (lo < 0 && want_lo < seen + cnt[b]) lo = b;
        if (want_hi < seen + cnt[b]) hi = b;
        seen += cnt[b];
    }
    if (hi < 0) {   /* the median is in the long tail: sort the long words */
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (v[i] >= 64) v[m++] = v[i];
        for (size_t i = 1; i < m; i++)
            for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) { uint32_t x = v[j]; v[j] = v[j - 1]; v[j - 1] = x; }
        if (lo < 0) lo = v[want_lo - seen];
        hi = v[want_hi - seen];
    }
    return (lo + hi) / 2.0;
}

int tg_gopher(const struct tagger *tg, struct tag_text *t, struct tag_result *out) {
    (void)tg;
    size_t end = t->len;
    size_t nw;
    const struct tag_range *w = tag_text_words(t, &nw);
    if (!w) return -1;
    double ngram_vals[11] = {0};
    int have_ngram[11] = {0};
    double word_count = 0, median = 0, symbol = 0, alpha = 0, required = 0;
    double bullet = 0, ellipsis = 0, dup_lines = 0, dup_line_chars = 0;

    if (t->len > 0) {
        uint64_t C = 0;
        for (size_t i = 0; i < nw; i++) C += w[i].ncp;
        word_count = (double)nw;
        size_t table = 16;
        while (table < 2 * nw + 2) table *= 2;
        uint32_t *lens = tag_text_scratch(t, 0, nw * sizeof(uint32_t) + 8);
        /* scratch 1: word hashes, n-gram hashes, the table, and the list of its used slots */
        uint64_t *hs = tag_text_scratch(t, 1, nw * (2 * sizeof(uint64_t)) + table * sizeof(struct ng_entry) +
                                                  nw * sizeof(uint32_t) + 64);
        if (!lens || !hs) return -1;
        uint64_t *cur = hs + nw;   /* hash of the n-gram starting at i, updated n by n */
        struct ng_entry *tab = (struct ng_entry *)(cur + nw);
        uint32_t *used = (uint32_t *)(tab + table);   /* slots filled for this n, in insertion order */
        memset(tab, 0, table * sizeof *tab);
        size_t n_sym = 0, n_alpha = 0, n_req = 0;
        static const char *const required_words[] = {"the", "be", "to", "of", "and", "that", "have", "with"};
        for (size_t i = 0; i < nw; i++) {
            const char *s = t->text + w[i].start;
            size_t len = w[i].end - w[i].start;
            lens[i] = w[i].ncp;
            hs[i] = hash_bytes(s, len);
            cur[i] = hs[i];
            if (memchr(s, '#', len) || memmem(s, len, "\xE2\x80\xA6", 3)) n_sym++;
            int has_alpha = 0;
            for (size_t k = 0; k < len && !has_alpha;) has_alpha = tag_is_alpha(tag_utf8_next(s, len, &k));
            n_alpha += has_alpha;
            if (len <= 4)
                for (int r = 0; r < 8; r++)
                    if (strlen(required_words[r]) == len && !memcmp(required_words[r], s, len)) { n_req++; break; }
        }
        symbol = (double)n_sym / (double)(nw ? nw : 1);
        alpha = (double)n_alpha / (double)(nw ? nw : 1);
        required = (double)n_req;
        median = median_len(lens, nw);

        for (size_t n = 2; n <= 10 && n <= nw; n++) {
            size_t count_ng = nw - n + 1;
            size_t nused = 0;
            uint32_t chars = 0;
            for (size_t k = 0; k < n; k++) chars += w[k].ncp;
            for (size_t i = 0; i < count_ng; i++) {
                if (i > 0) chars += w[i + n - 1].ncp - w[i - 1].ncp;
                cur[i] = mix(cur[i], hs[i + n - 1]);
                uint64_t key = cur[i] | 1;
                size_t slot = (size_t)(key >> 7) & (table - 1);
                while (tab[slot].key && tab[slot].key != key) slot = (slot + 1) & (table - 1);
                if (!tab[slot].key) {
                    tab[slot] = (struct ng_entry){key, 0, (uint32_t)i, chars};
                    used[nused++] = (uint32_t)slot;
                }
                tab[slot].count++;
            }
            if (n <= 4) {
                const struct ng_entry *best = NULL;
                for (size_t u = 0; u < nused; u++) {   /* insertion order: the first of equal counts wins */
                    const struct ng_entry *e = &tab[used[u]];
                    if (!best || e->count > best->count || (e->count == best->count && e->first < best->first)) best = e;
                }
                ngram_vals[n] = (double)best->count * best->chars / (double)(C ? C : 1);
            } else {
                uint64_t all = 0, dup = 0;
                for (size_t u = 0; u < nused; u++) {
                    const struct ng_entry *e = &tab[used[u]];
                    all += (uint64_t)e->count * e->chars;
                    if (e->count > 1) dup += (uint64_t)e->count * e->chars;
                }
                ngram_vals[n] = (double)dup / (double)(all ? all : 1);
            }
            for (size_t u = 0; u < nused; u++) tab[used[u]].key = 0;   /* empty again for the next n */
            have_ngram[n] = 1;
        }

        size_t nl;
        const struct tag_range *l = tag_text_lines(t, &nl);
        if (!l) return -1;
        size_t ltable = 16;
        while (ltable < 2 * nl + 2) ltable *= 2;
        struct ng_entry *lt = tag_text_scratch(t, 0, ltable * sizeof *lt);   /* lens no longer needed */
        if (!lt) return -1;
        memset(lt, 0, ltable * sizeof *lt);
        size_t n_bullet = 0, n_ellipsis = 0;
        for (size_t i = 0; i < nl; i++) {
            const char *s = t->text + l[i].start;
            size_t len = l[i].end - l[i].start;
            if (len && (s[0] == '*' || s[0] == '-')) n_bullet++;
            if (len >= 3 && !memcmp(s + len - 3, "\xE2\x80\xA6", 3)) n_ellipsis++;
            uint64_t key = hash_bytes(s, len) | 1;
            size_t slot = (size_t)(key >> 7) & (ltable - 1);
            /* lines are compared by content, not only hash: a line table is small */
            while (lt[slot].key && !(lt[slot].key == key && l[lt[slot].first].end - l[lt[slot].first].start == len &&
                                     !memcmp(t->text + l[lt[slot].first].start, s, len)))
                slot = (slot + 1) & (ltable - 1);
            if (!lt[slot].key) lt[slot] = (struct ng_entry){key, 0, (uint32_t)i, l[i].ncp};
            lt[slot].count++;
        }
        uint64_t dup_n = 0, dup_c = 0;
        for (size_t s = 0; s < ltable; s++)
            if (lt[s].key && lt[s].count > 1) {
                dup_n += lt[s].count;
                dup_c += (uint64_t)lt[s].chars * lt[s].count;
            }
        bullet = (double)n_bullet / (double)nl;
        ellipsis = (double)n_ellipsis / (double)nl;
        dup_lines = (double)dup_n / (double)nl;
        dup_line_chars = (double)dup_c / (double)(C ? C : 1);
    }

    static const char *const most_common[] = {NULL, NULL, "fraction_of_characters_in_most_common_2grams",
                                              "fraction_of_characters_in_most_common_3grams",
                                              "fraction_of_characters_in_most_common_4grams"};
    static const char *const duplicate[] = {
        "fraction_of_characters_in_duplicate_5grams", "fraction_of_characters_in_duplicate_6grams",
        "fraction_of_characters_in_duplicate_7grams", "fraction_of_characters_in_duplicate_8grams",
        "fraction_of_characters_in_duplicate_9grams", "fraction_of_characters_in_duplicate_10grams"};
    int rc = 0;
    for (int n = 2; n <= 4; n++)
        if (have_ngram[n]) rc |= tag_emit(out, most_common[n], 0, end, ngram_vals[n]);
    for (int n = 5; n <= 10; n++)
        if (have_ngram[n]) rc |= tag_emit(out, duplicate[n - 5], 0, end, ngram_vals[n]);
    rc |= tag_emit(out, "character_count", 0, end, (double)t->ncp);
    rc |= tag_emit(out, "word_count", 0, end, word_count);
    rc |= tag_emit(out, "median_word_length", 0, end, median);
    rc |= tag_emit(out, "symbol_to_word_ratio", 0, end, symbol);
    rc |= tag_emit(out, "fraction_of_words_with_alpha_character", 0, end, alpha);
    rc |= tag_emit(out, "required_word_count", 0, end, required);
    rc |= tag_emit(out, "fraction_of_lines_starting_with_bullet_point", 0, end, bullet);
    rc |= tag_emit(out, "fraction_of_lines_ending_with_ellipsis", 0, end, ellipsis);
    rc |= tag_emit(out, "fraction_of_duplicate_lines", 0, end, dup_lines);
    rc |= tag_emit(out, "fraction_of_characters_in_duplicate_lines", 0, end, dup_line_chars);
    return rc ? -1 : 0;
}
