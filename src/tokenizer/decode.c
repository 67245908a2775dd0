/* decode.c — ids back to text (HF decode), per-token bytes for streaming, and vocabulary lookups.
 *
 * With the ByteLevel decoder HF concatenates the bytes of all tokens (a token whose characters are all byte
 * characters stands for those bytes, any other token for its own UTF-8) and applies String::from_utf8_lossy
 * once to the whole; those per-token bytes were precomputed at load time (tok_load.c). Without a decoder HF
 * joins the token strings with spaces. */
#include "tokenizer/tok_internal.h"
#include "base/error.h"
#include "base/mem.h"

#include <stdlib.h>
#include <string.h>

static int known(const struct olmo_tokenizer *t, int32_t id) {
    return id >= 0 && id < t->vocab_size && t->id_tok[id] != NULL;
}

char *tok_decode(const struct olmo_tokenizer *t, const int32_t *ids, size_t n, int skip_special, size_t *len) {
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        if (known(t, ids[i]) && !(skip_special && t->id_special[ids[i]])) total += t->dec_len[ids[i]] + 1;
    uint8_t *buf = olmo_malloc(total + 1);
    if (!buf) return NULL;
    size_t o = 0;
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (!known(t, id) || (skip_special && t->id_special[id])) continue;
        if (t->decoder == DEC_NONE && !first) buf[o++] = ' ';
        memcpy(buf + o, t->dec_bytes + t->dec_off[id], t->dec_len[id]);
        o += t->dec_len[id];
        first = 0;
    }
    size_t out_len;
    char *out = uc_utf8_lossy(buf, o, &out_len);
    free(buf);
    if (!out) { olmo_err("out of memory decoding %zu ids", n); return NULL; }
    if (len) *len = out_len;
    return out;
}

int tok_token_bytes(const struct olmo_tokenizer *t, int32_t id, char *buf, size_t cap) {
    if (!known(t, id)) return -1;
    size_t n = t->dec_len[id];
    memcpy(buf, t->dec_bytes + t->dec_off[id], n < cap ? n : cap);
    return (int)n;
}

int32_t tok_token_to_id(const struct olmo_tokenizer *t, const char *token) {
    return tok_strmap_get(&t->tok2id, token, strlen(token));
}

const char *tok_id_to_token(const struct olmo_tokenizer *t, int32_t id) {
    return known(t, id) ? t->id_tok[id] : NULL;
}

int tok_vocab_size(const struct olmo_tokenizer *t) { return t->vocab_size; }

int tok_is_special(const struct olmo_tokenizer *t, int32_t id) { return known(t, id) && t->id_special[id]; }
