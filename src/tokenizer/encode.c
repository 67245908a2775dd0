/* encode.c — the encoding pipeline of tokenizer.h, in HF `tokenizers` order:
 *   1. split the raw text on added tokens with normalized=false (special tokens like <|endoftext|>);
 *   2. normalize each remaining span, then split it on added tokens with normalized=true;
 *   3. pre-tokenize each remaining span separately (so "a" + added "   " + "b" gives pieces "a", "b");
 *   4. BPE each piece (bpe.c); 5. the post-processor's ids around the result when add_special.
 * tok_encode_batch runs documents in parallel with one encoder (scratch + cache) per OpenMP thread. */
#include "tokenizer/tok_internal.h"
#include "base/error.h"
#include "base/mem.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *tok_normalize(const struct olmo_tokenizer *t, const char *s, size_t len, size_t *out_len) {
    char *cur = NULL;
    const char *src = s;
    for (int k = 0; k < t->n_norm; k++) {
        char *nx = uc_normalize(t->norm[k], src, len, &len);
        free(cur);
        if (!nx) {
            olmo_err("out of memory normalizing text");
            return NULL;
        }
        src = cur = nx;
    }
    *out_len = len;
    return cur;
}

/* Steps 2-4 for one span of raw text without non-normalized added tokens. */
static int encode_span(struct tok_enc *e, const char *s, size_t len) {
    const struct olmo_tokenizer *t = e->tok;
    char *norm = NULL;
    if (t->n_norm) {
        int noop = 1;
        for (int k = 0; k < t->n_norm && noop; k++) noop = uc_norm_is_noop(t->norm[k], s, len);
        if (!noop) {
            norm = tok_normalize(t, s, len, &len);
            if (!norm) return -1;
            s = norm;
        }
    }
    size_t nm;   /* with no normalized added tokens: one text span (none when len is 0) */
    int rc = tok_added_find(t, &t->trie_norm, s, len, &e->m2, &nm, &e->cap_m2);
    for (size_t k = 0; k < nm && !rc; k++) {
        struct tok_match m = e->m2[k];
        if (m.added >= 0) { rc = tok_enc_push(e, t->added[m.added].id); continue; }
        size_t np;
        rc = pretok_split(t->pretok, s + m.start, m.end - m.start, &e->pieces, &np, &e->cap_pieces);
        for (size_t i = 0; i < np && !rc; i++) {
            const struct pretok_piece *p = &e->pieces[i];
            rc = tok_bpe_piece(e, s + m.start + p->start, p->len, p->prefix_space);
        }
    }
    free(norm);
    return rc;
}

int tok_encode_with(struct tok_enc *e, const char *text, size_t len, int add_special) {
    const struct olmo_tokenizer *t = e->tok;
    e->n_ids = 0;
    if (add_special)
        for (int k = 0; k < t->n_post_pre; k++)
            if (tok_enc_push(e, t->post_pre[k])) return -1;
    size_t nm;
    if (tok_added_find(t, &t->trie_raw, text, len, &e->m1, &nm, &e->cap_m1)) return -1;
    for (size_t k = 0; k < nm; k++) {
        struct tok_match m = e->m1[k];
        int rc = m.added >= 0 ? tok_enc_push(e, t->added[m.added].id) : encode_span(e, text + m.start, m.end - m.start);
        if (rc) return -1;
    }
    if (add_special)
        for (int k = 0; k < t->n_post_post; k++)
            if (tok_enc_push(e, t->post_post[k])) return -1;
    return 0;
}

/* Copies the encoder's result out (an exact-size array the caller owns). */
static int take_ids(struct tok_enc *e, int32_t **ids, size_t *n_ids) {
    *n_ids = e->n_ids;
    *ids = NULL;
    if (!e->n_ids) return 0;
    *ids = olmo_malloc(e->n_ids * sizeof **ids);
    if (!*ids) return -1;
    memcpy(*ids, e->ids, e->n_ids * sizeof **ids);
    return 0;
}

struct tok_enc *tok_enc_get(const struct olmo_tokenizer *tok) {
    struct olmo_tokenizer *t = (struct olmo_tokenizer *)tok;   /* only the guarded pool is written */
    struct tok_enc *e = NULL;
    pthread_mutex_lock(&t->pool_lock);
    if (t->n_pool) e = t->pool[--t->n_pool];
    pthread_mutex_unlock(&t->pool_lock);
    return e ? e : tok_enc_new(tok);
}

void tok_enc_put(const struct olmo_tokenizer *tok, struct tok_enc *e) {
    struct olmo_tokenizer *t = (struct olmo_tokenizer *)tok;
    if (!e) return;
    /* don't let one huge document pin its buffers */
    if (e->cap_ids > (1u << 22)) { free(e->ids); e->ids = NULL; e->cap_ids = e->n_ids = 0; }
    pthread_mutex_lock(&t->pool_lock);
    if (t->n_pool < TOK_POOL_MAX) { t->pool[t->n_pool++] = e; e = NULL; }
    pthread_mutex_unlock(&t->pool_lock);
    tok_enc_free(e);
}

int tok_encode(const struct olmo_tokenizer *tok, const char *text, size_t len, int add_special, int32_t **ids,
               size_t *n_ids) {
    *ids = NULL;
    *n_ids = 0;
    struct tok_enc *e = tok_enc_get(tok);
    int rc = e ? 0 : -1;
    if (!rc) rc = tok_encode_with(e, text, len, add_special);
    if (!rc) rc = take_ids(e, ids, n_ids);
    tok_enc_put(tok, e);
    return rc;
}

int tok_encode_batch(const struct olmo_tokenizer *tok, const char *const *texts, const size_t *lens, size_t n_docs,
                     int add_special, int n_threads, int32_t **ids, size_t *n_ids) {
    for (size_t i = 0; i < n_docs; i++) { ids[i] = NULL; n_ids[i] = 0; }
    int failed = 0;
    char first_err[OLMO_ERR_MSG_MAX] = "";
    if (n_threads <= 0) n_threads = omp_get_max_threads();
    if ((size_t)n_threads > n_docs) n_threads = n_docs ? (int)n_docs : 1;
#pragma omp parallel num_threads(n_threads)
    {
        struct tok_enc *e = tok_enc_get(tok);
        int my_fail = e == NULL;
#pragma omp for schedule(dynamic, 16)
        for (size_t i = 0; i < n_docs; i++) {
            if (my_fail) continue;
            if (tok_encode_with(e, texts[i], lens[i], add_special) || take_ids(e, &ids[i], &n_ids[i])) my_fail = 1;
        }
        if (my_fail) {
#pragma omp critical(tok_batch_err)
            {
                if (!failed) snprintf(first_err, sizeof first_err, "%s", olmo_errmsg());
                failed = 1;
            }
        }
        tok_enc_put(tok, e);
    }
    if (failed) {
        for (size_t i = 0; i < n_docs; i++) { free(ids[i]); ids[i] = NULL; n_ids[i] = 0; }
        return olmo_err("%s", first_err);
    }
    return 0;
}
