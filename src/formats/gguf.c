/* gguf.c — the GGUF reader and writer primitives (gguf.h). */
#include "formats/gguf.h"
#include "base/error.h"
#include "base/half.h"
#include "base/mem.h"

#include <stdlib.h>
#include <string.h>

/* ---- reading ---- */
struct cur { const uint8_t *p; size_t len, at; const char *where; };

static int need(struct cur *c, size_t n, const char *what) {
    if (c->len - c->at < n)
        return olmo_err("%s: byte %zu: %s needs %zu bytes, only %zu left", c->where, c->at, what, n, c->len - c->at);
    return 0;
}
static int rd_u32(struct cur *c, uint32_t *v, const char *what) {
    if (need(c, 4, what)) return -1;
    memcpy(v, c->p + c->at, 4);
    c->at += 4;
    return 0;
}
static int rd_u64(struct cur *c, uint64_t *v, const char *what) {
    if (need(c, 8, what)) return -1;
    memcpy(v, c->p + c->at, 8);
    c->at += 8;
    return 0;
}
static int rd_str(struct cur *c, const char **s, size_t *n, const char *what) {
    uint64_t len;
    if (rd_u64(c, &len, what)) return -1;
    if (len > c->len - c->at) return olmo_err("%s: byte %zu: %s of %llu bytes runs past the end of the file", c->where, c->at, what, (unsigned long long)len);
    *s = (const char *)c->p + c->at;
    *n = (size_t)len;
    c->at += (size_t)len;
    return 0;
}

static const size_t scalar_size[GGUF_T_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

/* Skips one value of type t (not an array: arrays of arrays are refused). */
static int skip_value(struct cur *c, enum gguf_vtype t, uint64_t count) {
    if (t == GGUF_T_STRING) {
        for (uint64_t i = 0; i < count; i++) {
            const char *s;
            size_t n;
            if (rd_str(c, &s, &n, "string value")) return -1;
        }
        return 0;
    }
    size_t es = scalar_size[t];
    if (count > (c->len - c->at) / es) return olmo_err("%s: byte %zu: %llu values of %zu bytes run past the end of the file", c->where, c->at, (unsigned long long)count, es);
    c->at += (size_t)count * es;
    return 0;
}

struct blk { uint32_t block, bytes; };
static struct blk type_block(enum ggml_type t) {
    switch (t) {
    case GGML_TYPE_F32: return (struct blk){1, 4};
    case GGML_TYPE_F16: case GGML_TYPE_BF16: return (struct blk){1, 2};
    case GGML_TYPE_Q8_0: return (struct blk){32, 34};
    case GGML_TYPE_Q4_0: return (struct blk){32, 18};
    }
    return (struct blk){0, 0};
}

uint64_t ggml_type_bytes(enum ggml_type t, uint64_t n) {
    struct blk b = type_block(t);
    if (!b.block || n % b.block || n / b.block > UINT64_MAX / b.bytes) return 0;
    return n / b.block * b.bytes;
}

const char *ggml_type_name(enum ggml_type t) {
    switch (t) {
    case GGML_TYPE_F32: return "F32";
    case GGML_TYPE_F16: return "F16";
    case GGML_TYPE_BF16: return "BF16";
    case GGML_TYPE_Q8_0: return "Q8_0";
    case GGML_TYPE_Q4_0: return "Q4_0";
    }
    return "?";
}

float ggml_row_at(enum ggml_type t, const uint8_t *row, uint64_t j) {
    uint16_t h;
    switch (t) {
    case GGML_TYPE_F32: { float v; memcpy(&v, row + 4 * j, 4); return v; }
    case GGML_TYPE_F16: memcpy(&h, row + 2 * j, 2); return olmo_f16_to_f32(h);
    case GGML_TYPE_BF16: memcpy(&h, row + 2 * j, 2); return olmo_bf16_to_f32(h);
    case GGML_TYPE_Q8_0: {
        const uint8_t *b = row + j / 32 * 34;
        memcpy(&h, b, 2);
        return olmo_f16_to_f32(h) * (float)(int8_t)b[2 + j % 32];
    }
    case GGML_TYPE_Q4_0: {
        const uint8_t *b = row + j / 32 * 18;
        memcpy(&h, b, 2);
        int k = (int)(j % 32), q = k < 16 ? b[2 + k] & 15 : b[2 + k - 16] >> 4;
        return olmo_f16_to_f32(h) * (float)(q - 8);
    }
    }
    return 0;
}

int gguf_parse(struct gguf_file *g, const uint8_t *buf, size_t len, const char *where) {
    memset(g, 0, sizeof *g);
    struct cur c = {buf, len, 0, where};
    uint32_t magic;
    if (rd_u32(&c, &magic, "magic")) return -1;
    if (memcmp(&magic, "GGUF", 4)) return olmo_err("%s: not a GGUF file (magic bytes are not \"GGUF\")", where);
    if (rd_u32(&c, &g->version, "version")) return -1;
    if (g->version != 2 && g->version != 3) return olmo_err("%s: GGUF version %u; expected 2 or 3", where, g->version);
    if (rd_u64(&c, &g->n_tensors, "tensor count") || rd_u64(&c, &g->n_kv, "key/value count")) return -1;
    /* every key/value takes at least 12 bytes, every tensor info at least 24: bound the counts by the file */
    if (g->n_kv > len / 12 || g->n_tensors > len / 24)
        return olmo_err("%s: %llu keys and %llu tensors cannot fit in %zu bytes", where, (unsigned long long)g->n_kv,
                        (unsigned long long)g->n_tensors, len);
    g->kv = olmo_calloc((size_t)g->n_kv + 1, sizeof *g->kv);
    g->tensors = olmo_calloc((size_t)g->n_tensors + 1, sizeof *g->tensors);
    if (!g->kv || !g->tensors) goto fail;
    g->alignment = GGUF_DEFAULT_ALIGN;
    for (uint64_t i = 0; i < g->n_kv; i++) {
        struct gguf_kv *kv = &g->kv[i];
        uint32_t t;
        if (rd_str(&c, &kv->key, &kv->key_len, "key") || rd_u32(&c, &t, "value type")) goto fail;
        if (t >= GGUF_T_COUNT) { olmo_err("%s: byte %zu: key '%.*s' has value type %u (known: 0-12)", where, c.at, (int)kv->key_len, kv->key, t); goto fail; }
        kv->type = (enum gguf_vtype)t;
        if (kv->type == GGUF_T_ARRAY) {
            uint32_t e;
            if (rd_u32(&c, &e, "array element type") || rd_u64(&c, &kv->n, "array length")) goto fail;
            if (e >= GGUF_T_COUNT || e == GGUF_T_ARRAY) { olmo_err("%s: byte %zu: array '%.*s' has element type %u", where, c.at, (int)kv->key_len, kv->key, e); goto fail; }
            kv->elem = (enum gguf_vtype)e;
            kv->val = buf + c.at;
            if (skip_value(&c, kv->elem, kv->n)) goto fail;
        } else {
            kv->n = 1;
            kv->val = buf + c.at;
            if (skip_value(&c, kv->type, 1)) goto fail;
        }
        if (kv->key_len == 17 && !memcmp(kv->key, "general.alignment", 17)) {
            uint32_t a;
            if (gguf_u32(kv, &a) || a == 0 || (a & (a - 1))) { olmo_err("%s: general.alignment must be a u32 power of two", where); goto fail; }
            g->alignment = a;
        }
    }
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        struct gguf_tensor *t = &g->tensors[i];
        uint32_t ty;
        if (rd_str(&c, &t->name, &t->name_len, "tensor name") || rd_u32(&c, &t->ndim, "dimension count")) goto fail;
        if (t->ndim < 1 || t->ndim > 4) { olmo_err("%s: tensor '%.*s' has %u dimensions (1-4 allowed)", where, (int)t->name_len, t->name, t->ndim); goto fail; }
        uint64_t n = 1;
        for (uint32_t d = 0; d < t->ndim; d++) {
            if (rd_u64(&c, &t->dims[d], "dimension")) goto fail;
            if (t->dims[d] == 0 || n > UINT64_MAX / t->dims[d]) { olmo_err("%s: tensor '%.*s': dimension %u is 0 or the element count overflows", where, (int)t->name_len, t->name, d); goto fail; }
            n *= t->dims[d];
        }
        if (rd_u32(&c, &ty, "tensor type") || rd_u64(&c, &t->offset, "tensor offset")) goto fail;
        t->type = (enum ggml_type)ty;
        t->nbytes = type_block(t->type).block && t->dims[0] % type_block(t->type).block == 0 ? ggml_type_bytes(t->type, n) : 0;
        if (!t->nbytes) { olmo_err("%s: tensor '%.*s': type %u unknown to olmo.c (F32, F16, BF16, Q8_0, Q4_0), or rows of %llu not whole blocks", where, (int)t->name_len, t->name, ty, (unsigned long long)t->dims[0]); goto fail; }
        if (t->offset % g->alignment) { olmo_err("%s: tensor '%.*s': offset %llu is not a multiple of the alignment %llu", where, (int)t->name_len, t->name, (unsigned long long)t->offset, (unsigned long long)g->alignment); goto fail; }
    }
    size_t data = (c.at + g->alignment - 1) / g->alignment * g->alignment;
    if (data > len) data = len;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        struct gguf_tensor *t = &g->tensors[i];
        if (t->offset > len - data || t->nbytes > len - data - t->offset) {
            olmo_err("%s: tensor '%.*s': bytes %llu..%llu of the data section, which has %zu", where, (int)t->name_len, t->name,
                     (unsigned long long)t->offset, (unsigned long long)(t->offset + t->nbytes), len - data);
            goto fail;
        }
        t->data = buf + data + t->offset;
    }
    return 0;
fail:
    gguf_free(g);
    return -1;
}

void gguf_free(struct gguf_file *g) {
    free(g->kv);
    free(g->tensors);
    memset(g, 0, sizeof *g);
}

const struct gguf_kv *gguf_find(const struct gguf_file *g, const char *key) {
    size_t n = strlen(key);
    for (uint64_t i = 0; i < g->n_kv; i++)
        if (g->kv[i].key_len == n && !memcmp(g->kv[i].key, key, n)) return &g->kv[i];
    return NULL;
}

const struct gguf_tensor *gguf_find_tensor(const struct gguf_file *g, const char *name) {
    size_t n = strlen(name);
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].name_len == n && !memcmp(g->tensors[i].name, name, n)) return &g->tensors[i];
    return NULL;
}

int gguf_string(const struct gguf_kv *kv, uint64_t i, const char **s, size_t *n) {
    if (!kv) return -1;
    int arr = kv->type == GGUF_T_ARRAY;
    if ((arr ? kv->elem : kv->type) != GGUF_T_STRING || i >= kv->n) return -1;
    const uint8_t *p = kv->val;   /* validated by gguf_parse: every length is inside the buffer */
    for (uint64_t k = 0;; k++) {
        uint64_t len;
        memcpy(&len, p, 8);
        if (k == i) { *s = (const char *)p + 8; *n = (size_t)len; return 0; }
        p += 8 + len;
    }
}

int gguf_u32(const struct gguf_kv *kv, uint32_t *v) {
    if (!kv || (kv->type != GGUF_T_U32 && kv->type != GGUF_T_I32 && kv->type != GGUF_T_BOOL)) return -1;
    if (kv->type == GGUF_T_BOOL) *v = kv->val[0];
    else memcpy(v, kv->val, 4);
    return 0;
}

int gguf_f32(const struct gguf_kv *kv, float *v) {
    if (!kv || kv->type != GGUF_T_F32) return -1;
    memcpy(v, kv->val, 4);
    return 0;
}

/* ---- writing ---- */
static void w_u32(FILE *f, uint32_t v) { fwrite(&v, 4, 1, f); }
static void w_u64(FILE *f, uint64_t v) { fwrite(&v, 8, 1, f); }

void gguf_w_header(FILE *f, uint64_t n_tensors, uint64_t n_kv) {
    fwrite("GGUF", 1, 4, f);
    w_u32(f, 3);
    w_u64(f, n_tensors);
    w_u64(f, n_kv);
}
void gguf_w_str(FILE *f, const char *s, size_t n) { w_u64(f, n); fwrite(s, 1, n, f); }
static void w_key(FILE *f, const char *key, enum gguf_vtype t) { gguf_w_str(f, key, strlen(key)); w_u32(f, t); }
void gguf_w_kv_u32(FILE *f, const char *key, uint32_t v) { w_key(f, key, GGUF_T_U32); w_u32(f, v); }
void gguf_w_kv_f32(FILE *f, const char *key, float v) { w_key(f, key, GGUF_T_F32); fwrite(&v, 4, 1, f); }
void gguf_w_kv_bool(FILE *f, const char *key, int v) { uint8_t b = (uint8_t)(v != 0); w_key(f, key, GGUF_T_BOOL); fwrite(&b, 1, 1, f); }
void gguf_w_kv_str(FILE *f, const char *key, const char *v) { w_key(f, key, GGUF_T_STRING); gguf_w_str(f, v, strlen(v)); }
void gguf_w_kv_array(FILE *f, const char *key, enum gguf_vtype elem, uint64_t n) { w_key(f, key, GGUF_T_ARRAY); w_u32(f, elem); w_u64(f, n); }
void gguf_w_tensor_info(FILE *f, const char *name, uint32_t ndim, const uint64_t *dims, enum ggml_type t, uint64_t offset) {
    gguf_w_str(f, name, strlen(name));
    w_u32(f, ndim);
    for (uint32_t d = 0; d < ndim; d++) w_u64(f, dims[d]);
    w_u32(f, (uint32_t)t);
    w_u64(f, offset);
}
void gguf_w_pad(FILE *f, uint64_t align) {
    static const uint8_t zero[64];
    long p = ftell(f);
    while (p >= 0 && (uint64_t)p % align) {
        size_t n = (size_t)(align - (uint64_t)p % align);
        if (n > sizeof zero) n = sizeof zero;
        fwrite(zero, 1, n, f);
        p += (long)n;
    }
}
