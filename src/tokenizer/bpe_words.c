/* bpe_words.c — the trainer's word counts (struct bpe_words in bpe_train.h): distinct pre-tokens and how often
 * each occurred. Filled by bpe_count.c from text, or directly through bpe_words_add (tests, other front ends). */
#include "tokenizer/bpe_train.h"

int bpe_words_init(struct bpe_words *w) {
    w->n_bytes = 0;
    return bpe_strmap_init(&w->map, 1 << 14);
}

void bpe_words_free(struct bpe_words *w) {
    bpe_strmap_free(&w->map);
    w->n_bytes = 0;
}

int bpe_words_add(struct bpe_words *w, const void *bytes, uint32_t len, uint64_t count) {
    int64_t i = bpe_strmap_upsert(&w->map, bytes, len, NULL);
    if (i < 0) return -1;
    w->map.ents[i].val += count;
    return 0;
}

int bpe_words_merge(struct bpe_words *dst, const struct bpe_words *src) {
    for (uint64_t i = 0; i < src->map.n; i++)
        if (bpe_words_add(dst, bpe_strmap_key(&src->map, i), src->map.ents[i].len, src->map.ents[i].val) < 0)
            return -1;
    dst->n_bytes += src->n_bytes;
    return 0;
}

