/* state.c — one sequence's KV cache and scratch space (model.h: struct olmo_state), and moving cache contents
 * between sequences (prefix reuse). A full-attention layer keeps every position; a sliding-window layer (OLMo-3)
 * keeps a ring of window - 1 + MODEL_RING_SLACK rows, so a 64k context costs full-history memory only on the
 * full-attention quarter of the layers. */
#include "base/error.h"
#include "base/mem.h"
#include "model/kernels/pool.h"
#include "model/state_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* The KV cache in 2 MB pages where the kernel allows (transparent huge pages on request): attention reads each
 * head's keys as a long stream and with 4 KB pages nearly every page start is a TLB miss. Not zeroed: only
 * positions already written are ever read. */
static void *cache_alloc(size_t bytes) {
    const size_t huge = (size_t)2 << 20;
    void *p = NULL;
    if (bytes >= huge) {
        bytes = (bytes + huge - 1) & ~(huge - 1);
        if (posix_memalign(&p, huge, bytes) != 0) p = NULL;
        else madvise(p, bytes, MADV_HUGEPAGE);
    } else if (posix_memalign(&p, 64, bytes ? bytes : 64) != 0) p = NULL;
    if (!p) olmo_err("out of memory (%zu bytes of KV cache)", bytes);
    return p;
}

const char *model_kv_dtype_name(enum olmo_kv_dtype dt) {
    return dt == OLMO_KV_F32 ? "f32" : dt == OLMO_KV_BF16 ? "bf16" : "?";
}

int model_kv_dtype_parse(const char *name, enum olmo_kv_dtype *dt) {
    if (!strcmp(name, "f32")) *dt = OLMO_KV_F32;
    else if (!strcmp(name, "bf16")) *dt = OLMO_KV_BF16;
    else return olmo_err("KV cache type '%s': expected 'f32' or 'bf16'", name);
    return 0;
}

int model_state_init(struct olmo_state *s, const struct olmo_model *m, int max_seq) {
    return model_state_init_opts(s, m, max_seq, NULL);
}

int model_state_init_opts(struct olmo_state *s, const struct olmo_model *m, int max_seq, const struct model_state_opts *o) {
    memset(s, 0, sizeof *s);
    const struct olmo_config *c = &m->cfg;
    enum olmo_kv_dtype dt = o ? o->kv_dtype : OLMO_KV_F32;
    if (max_seq < 1) return olmo_err("state: context length %d must be positive", max_seq);
    if (dt != OLMO_KV_F32 && dt != OLMO_KV_BF16) return olmo_err("state: unknown KV cache type %d", (int)dt);
    s->max_seq = max_seq;
    s->kv_dim = c->n_kv_heads * c->head_dim;
    s->head_dim = c->head_dim;
    s->n_layers = c->n_layers;
    s->kv_dtype = dt;
    s->layer_cap = malloc((size_t)c->n_layers * sizeof *s->layer_cap);
    s->layer_off = malloc((size_t)c->n_layers * sizeof *s->layer_off);
    if (!s->layer_cap || !s->layer_off) {
        model_state_free(s);
        return olmo_err("state: out of memory");
    }
    size_t n = 0;
    for (int l = 0; l < c->n_layers; l++) {
        int cap = max_seq;
        if (model_layer_sliding(c, l) && c->sliding_window - 1 + MODEL_RING_SLACK < max_seq)
            cap = c->sliding_window - 1 + MODEL_RING_SLACK;
        s->layer_cap[l] = cap;
        s->layer_off[l] = n;
        n += (size_t)cap * (size_t)s->kv_dim;
    }
    s->kv_bytes = 2 * n * kv_elem_size(dt);
    s->k_cache = cache_alloc(n * kv_elem_size(dt));
    s->v_cache = cache_alloc(n * kv_elem_size(dt));
    if (!s->k_cache || !s->v_cache) {
        model_state_free(s);
        return olmo_err_prefix("KV cache for %d positions: ", max_seq);
    }
    return 0;
}

void model_state_free(struct olmo_state *s) {
    free(s->k_cache); free(s->v_cache); free(s->layer_cap); free(s->layer_off);
    free(s->x); free(s->xb); free(s->q); free(s->k); free(s->v); free(s->att); free(s->hb); free(s->hb2);
    free(s->tmp); free(s->scores); free(s->kv_rows); free(s->moe_buf);
    memset(s, 0, sizeof *s);
}

int model_state_can_rewind(const struct olmo_state *s, int n) {
    if (n < 0 || n > s->pos) return 0;
    for (int l = 0; l < s->n_layers; l++)   /* a ring holds positions pos-cap .. pos-1; n needs n-(window-1) .. n-1 */
        if (s->layer_cap[l] < s->max_seq && s->pos - n > MODEL_RING_SLACK) return 0;
    return 1;
}

int model_state_copy_prefix(struct olmo_state *dst, const struct olmo_state *src, int n) {
    if (dst == src) return olmo_err("state prefix copy: source and destination are the same state");
    if (dst->n_layers != src->n_layers || dst->kv_dim != src->kv_dim || dst->head_dim != src->head_dim)
        return olmo_err("state prefix copy: the states belong to different model shapes (%d layers x %d vs %d x %d)",
                        src->n_layers, src->kv_dim, dst->n_layers, dst->kv_dim);
    if (dst->kv_dtype != src->kv_dtype)
        return olmo_err("state prefix copy: KV type %s into %s", model_kv_dtype_name(src->kv_dtype),
                        model_kv_dtype_name(dst->kv_dtype));
    if (n < 0 || n > src->pos || n > dst->max_seq)
        return olmo_err("state prefix copy: %d positions requested; the source holds %d, the destination fits %d", n,
                        src->pos, dst->max_seq);
    if (!model_state_can_rewind(src, n))
        return olmo_err("state prefix copy: the source ran %d positions past %d and its sliding-window ring no longer "
                        "holds them (at most %d)", src->pos - n, n, MODEL_RING_SLACK);
    size_t es = kv_elem_size(src->kv_dtype), hd = (size_t)src->head_dim;
    int heads = src->kv_dim / src->head_dim;
    for (int l = 0; l < src->n_layers; l++) {
        /* the positions layer l keeps of the first n: all of them, or a ring's last cap - MODEL_RING_SLACK */
        int first = 0;
        if (src->layer_cap[l] < src->max_seq && n > src->layer_cap[l] - MODEL_RING_SLACK)
            first = n - (src->layer_cap[l] - MODEL_RING_SLACK);
        for (int g = 0; g < heads; g++)
            for (int p = first; p < n;) {   /* runs of rows contiguous in both rings */
                int sr = p % src->layer_cap[l], dr = p % dst->layer_cap[l];
                int run = n - p;
                if (run > src->layer_cap[l] - sr) run = src->layer_cap[l] - sr;
                if (run > dst->layer_cap[l] - dr) run = dst->layer_cap[l] - dr;
                size_t so = model_kv_offset(src, l, g, p) * es, d_o = model_kv_offset(dst, l, g, p) * es;
                memcpy((char *)dst->k_cache + d_o, (const char *)src->k_cache + so, (size_t)run * hd * es);
                memcpy((char *)dst->v_cache + d_o, (const char *)src->v_cache + so, (size_t)run * hd * es);
                p += run;
            }
    }
    dst->pos = n;
    return 0;
}

int model_state_scratch(struct olmo_state *s, const struct olmo_config *c, int T, int len) {
    if (T > s->scratch_T) {
        size_t d = (size_t)c->d_model, qd = (size_t)c->n_heads * c->head_dim, I = (size_t)c->d_ff;
        size_t big = d > qd ? d : qd;
        float **bufs[] = {&s->x, &s->xb, &s->q, &s->k, &s->v, &s->att, &s->hb, &s->hb2, &s->tmp};
        size_t widths[] = {d, big, qd, (size_t)s->kv_dim, (size_t)s->kv_dim, qd, I, I, d};
        for (int i = 0; i < 9; i++) {
            free(*bufs[i]);
            *bufs[i] = olmo_aligned_alloc(widths[i] * (size_t)T * sizeof(float));
            if (!*bufs[i]) { s->scratch_T = 0; return olmo_err("out of memory (scratch for %d tokens)", T); }
        }
        s->scratch_T = T;
    }
    int nth = olmo_pool_threads();
    if (len > s->scores_len || nth > s->scores_threads) {
        free(s->scores);
        free(s->kv_rows);
        s->scores = olmo_aligned_alloc((size_t)len * MODEL_ATT_QB * (size_t)nth * sizeof(float));
        s->kv_rows = olmo_aligned_alloc((size_t)s->head_dim * (size_t)nth * sizeof(float));
        if (!s->scores || !s->kv_rows) { s->scores_len = 0; return olmo_err("out of memory (attention scores)"); }
        s->scores_len = len;
        s->scores_threads = nth;
    }
    return 0;
}
