/* quant_file.c — reading and writing quantized checkpoints (quant_file.h). */
#include "model/quant_file.h"
#include "base/error.h"
#include "base/mem.h"
#include "model/kernels/linear_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int quant_file_linear(const struct st_set *st, const struct st_tensor *t, int64_t rows, int64_t cols,
                      struct olmo_linear *W, const struct st_tensor **scales) {
    int64_t prow = (rows + 15) / 16 * 16, nblk = cols / OLMO_Q8_BLOCK;
    char sb[160], name[512];
    if (cols % OLMO_Q8_BLOCK || t->ndim != 2 || t->shape[0] != prow || (t->shape[1] != cols && t->shape[1] != cols / 2))
        return olmo_err("quantized tensor '%s' has shape %s; config.json implies [%lld, %lld] (q8) or [%lld, %lld] (q4)",
                        t->name, st_shape_str(t, sb, sizeof sb), (long long)prow, (long long)cols, (long long)prow,
                        (long long)(cols / 2));
    snprintf(name, sizeof name, "%s" QUANT_SCALE_SUFFIX, t->name);
    const struct st_tensor *s = st_find(st, name);
    if (!s) return olmo_err("quantized tensor '%s' has no block scales '%s'", t->name, name);
    if (s->dtype != ST_F16 || s->ndim != 2 || s->shape[0] != prow || s->shape[1] != nblk)
        return olmo_err("block scales '%s' are %s %s; expected F16 [%lld, %lld]", name, st_dtype_name(s->dtype),
                        st_shape_str(s, sb, sizeof sb), (long long)prow, (long long)nblk);
    enum olmo_dtype dt = t->shape[1] == cols ? OLMO_DTYPE_Q8 : OLMO_DTYPE_Q4;
    *W = (struct olmo_linear){.dtype = dt, .rows = rows, .cols = cols, .data = t->data, .scales = s->data};
    /* The Q8 kernel loads aligned 64-byte vectors; fp16 scales are read as uint16_t. Odd placements are copied. */
    int align = dt == OLMO_DTYPE_Q8 ? 64 : 2;
    if ((uintptr_t)t->data % (uintptr_t)align || (uintptr_t)s->data % (uintptr_t)align) {
        uint8_t *mem = linear_weight_alloc(t->nbytes + s->nbytes + 64);
        if (!mem) return olmo_err_prefix("copying '%s': ", t->name);
        size_t at = (t->nbytes + 63) & ~(size_t)63;
        memcpy(mem, t->data, t->nbytes);
        memcpy(mem + at, s->data, s->nbytes);
        W->data = W->owned = mem;
        W->scales = (const uint16_t *)(mem + at);
    }
    *scales = s;
    return 0;
}

/* The projections of m by tensor name (lm_head too), for the writer. */
static const struct olmo_linear *projection(const struct olmo_model *m, const char *name) {
    if (!strcmp(name, "lm_head.weight")) return &m->lm_head;
    int l, n = 0;
    char part[64];
    if (sscanf(name, "model.layers.%d.%63[^ ]%n", &l, part, &n) != 2 || l < 0 || l >= m->cfg.n_layers) return NULL;
    const struct olmo_layer *ly = &m->layers[l];
    static const char *names[] = {"self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
                                  "self_attn.o_proj.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight",
                                  "mlp.down_proj.weight"};
    const struct olmo_linear *lin[] = {&ly->wq, &ly->wk, &ly->wv, &ly->wo, &ly->w_gate, &ly->w_up, &ly->w_down};
    for (int i = 0; i < 7; i++)
        if (!strcmp(part, names[i])) return lin[i];
    return NULL;
}

static int add_quantized(struct st_writer *w, const char *name, const struct olmo_linear *W, enum olmo_quant q,
                         int64_t *shapes) {
    enum olmo_dtype want = q == OLMO_QUANT_Q8 ? OLMO_DTYPE_Q8 : OLMO_DTYPE_Q4;
    if (W->dtype != want)   /* a source that was already quantized the other way */
        return olmo_err("'%s' is %s, not %s (quantize from the unquantized checkpoint)", name,
                        W->dtype == OLMO_DTYPE_Q8 ? "q8" : W->dtype == OLMO_DTYPE_Q4 ? "q4" : "not quantized",
                        olmo_quant_name(q));
    int64_t prow = (W->rows + 15) / 16 * 16;
    shapes[0] = prow;
    shapes[1] = want == OLMO_DTYPE_Q8 ? W->cols : W->cols / 2;
    shapes[2] = prow;
    shapes[3] = W->cols / OLMO_Q8_BLOCK;
    char sname[512];
    snprintf(sname, sizeof sname, "%s" QUANT_SCALE_SUFFIX, name);
    if (st_writer_add_raw(w, name, ST_U8, 2, shapes, W->data) != 0) return -1;
    return st_writer_add_raw(w, sname, ST_F16, 2, shapes + 2, W->scales);
}

int quant_file_write(const struct olmo_model *m, enum olmo_quant q, const char *path) {
    struct st_writer w;
    st_writer_init(&w);
    w.meta_key = "olmo.quant";
    w.meta_value = olmo_quant_name(q);
    w.data_align = 64;
    /* 4 shape numbers per projection: 7 per layer and the lm_head */
    int64_t *shapes = olmo_malloc(sizeof(int64_t) * 4 * (size_t)(7 * m->cfg.n_layers + 1));
    int rc = shapes ? 0 : -1, k = 0;
    for (int64_t i = 0; i < m->st.n_tensors && rc == 0; i++) {
        const struct st_tensor *t = &m->st.tensors[i];
        const struct olmo_linear *W = projection(m, t->name);
        if (W) rc = add_quantized(&w, t->name, W, q, shapes + 4 * k++);
        else if (!strcmp(t->name + strlen(t->name) - strlen(QUANT_SCALE_SUFFIX), QUANT_SCALE_SUFFIX)) continue;
        else rc = st_writer_add_raw(&w, t->name, t->dtype, t->ndim, t->shape, t->data);
    }
    /* tied embeddings: the source has no lm_head.weight; the quantized copy is stored under that name */
    if (rc == 0 && !st_find(&m->st, "lm_head.weight")) rc = add_quantized(&w, "lm_head.weight", &m->lm_head, q, shapes + 4 * k++);
    if (rc == 0) rc = st_writer_write(&w, path);
    st_writer_free(&w);
    free(shapes);
    return rc == 0 ? 0 : olmo_err_prefix("writing %s: ", path);
}
