/* added_tokens.c — finding added and special tokens in text before BPE, as HF AddedVocabulary does.
 *
 * The patterns sit in a byte trie; the scan is leftmost-longest (the aho-corasick MatchKind::LeftmostLongest
 * that HF uses): at the first position where some token starts, the longest token starting there wins, and the
 * scan resumes after it. The flags single_word / lstrip / rstrip then adjust or discard each match exactly as
 * HF's find_matches does. */
#include "tokenizer/tok_internal.h"
#include "base/error.h"

#include <stdlib.h>
#include <string.h>

static int32_t new_node(struct tok_trie *t, uint8_t byte) {
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 64;
        struct tok_trie_node *nv = realloc(t->nodes, nc * sizeof *nv);
        if (!nv) return olmo_err("out of memory building the added-token trie");
        t->nodes = nv;
        t->cap = nc;
    }
    t->nodes[t->n] = (struct tok_trie_node){-1, -1, -1, byte};
    return (int32_t)t->n++;
}

void tok_trie_init(struct tok_trie *t) {
    memset(t, 0, sizeof *t);
    for (int i = 0; i < 256; i++) t->root[i] = -1;
    t->empty = 1;
}

int tok_trie_add(struct tok_trie *t, const char *pat, size_t len, int32_t term) {
    if (len == 0) return 0;   /* an empty token can never be matched */
    const uint8_t *p = (const uint8_t *)pat;
    int32_t cur = t->root[p[0]];
    if (cur < 0) {
        cur = new_node(t, p[0]);
        if (cur < 0) return -1;
        t->root[p[0]] = cur;
    }
    for (size_t i = 1; i < len; i++) {
        int32_t c = t->nodes[cur].child;
        while (c >= 0 && t->nodes[c].byte != p[i]) c = t->nodes[c].sibling;
        if (c < 0) {
            c = new_node(t, p[i]);
            if (c < 0) return -1;
            t->nodes[c].sibling = t->nodes[cur].child;
            t->nodes[cur].child = c;
        }
        cur = c;
    }
    /* Two tokens with the same pattern: the first one listed keeps it. */
    if (t->nodes[cur].term < 0) t->nodes[cur].term = term;
    t->empty = 0;
    return 0;
}

void tok_trie_free(struct tok_trie *t) {
    free(t->nodes);
    memset(t, 0, sizeof *t);
}

/* Longest pattern starting at s[i]: returns its end and sets *term, or returns 0 when none starts there. */
static size_t longest_at(const struct tok_trie *t, const uint8_t *s, size_t len, size_t i, int32_t *term) {
    int32_t cur = t->root[s[i]];
    size_t best = 0;
    size_t j = i + 1;
    while (cur >= 0) {
        if (t->nodes[cur].term >= 0) { best = j; *term = t->nodes[cur].term; }
        if (j >= len) break;
        int32_t c = t->nodes[cur].child;
        while (c >= 0 && t->nodes[c].byte != s[j]) c = t->nodes[c].sibling;
        cur = c;
        j++;
    }
    return best;
}

static int push(struct tok_match **out, size_t *n, size_t *cap, size_t a, size_t b, int32_t added) {
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        struct tok_match *nv = realloc(*out, nc * sizeof *nv);
        if (!nv) return olmo_err("out of memory matching added tokens");
        *out = nv;
        *cap = nc;
    }
    (*out)[(*n)++] = (struct tok_match){a, b, added};
    return 0;
}

/* Last character of s[0..end) (end > 0), tolerating invalid bytes. */
static uint32_t last_char(const uint8_t *s, size_t end) {
    size_t k = end - 1;
    while (k > 0 && end - k < 4 && (s[k] & 0xC0) == 0x80) k--;
    int n;
    uint32_t c = uc_decode(s + k, end - k, &n);
    return (k + (size_t)n == end) ? c : UC_INVALID;
}

int tok_added_find(const struct olmo_tokenizer *tok, const struct tok_trie *t, const char *text, size_t len,
               struct tok_match **out, size_t *n, size_t *cap) {
    const uint8_t *s = (const uint8_t *)text;
    *n = 0;
    if (len == 0) return 0;
    size_t start_off = 0;
    if (!t->empty) {
        for (size_t i = 0; i < len;) {
            int32_t term = -1;
            size_t end = t->root[s[i]] >= 0 ? longest_at(t, s, len, i, &term) : 0;
            if (!end) { i++; continue; }
            const struct tok_added *a = &tok->added[term];
            size_t ms = i, me = end;
            if (a->single_word) {
                int n1;
                int start_ok = ms == 0 || !uc_is_word_char(last_char(s, ms));
                int stop_ok = me == len || !uc_is_word_char(uc_decode(s + me, len - me, &n1));
                if (!start_ok || !stop_ok) { i = end; continue; }   /* the scan resumes after a discarded match */
            }
            if (a->lstrip) {   /* take the whitespace before it, but not what a previous match took */
                size_t k = ms;
                while (k > 0) {
                    uint32_t c = last_char(s, k);
                    if (c == UC_INVALID || !uc_is_white_space(c)) break;
                    k -= (size_t)(c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4);
                }
                ms = k > start_off ? k : start_off;
            }
            if (a->rstrip) {
                while (me < len) {
                    int cl;
                    uint32_t c = uc_decode(s + me, len - me, &cl);
                    if (c == UC_INVALID || !uc_is_white_space(c)) break;
                    me += (size_t)cl;
                }
            }
            if (start_off < ms && push(out, n, cap, start_off, ms, -1)) return -1;
            if (push(out, n, cap, ms, me, term)) return -1;
            start_off = me;
            i = end > me ? end : me;
        }
    }
    if (start_off < len && push(out, n, cap, start_off, len, -1)) return -1;
    return 0;
}
