/* safetensors.c — validated, memory-mapped safetensors reader and atomic writer (see safetensors.h).
 *
 * Reading never trusts the header: every number is range-checked before it is used to form a pointer, so a
 * hostile file produces a message and no out-of-bounds read (fuzz/fuzz_safetensors.c drives st_parse). */
#include "formats/safetensors.h"
#include "base/error.h"
#include "base/mem.h"
#include "base/half.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static const struct { const char *name; size_t size; } dtypes[ST_N_DTYPES] = {
    [ST_F64] = {"F64", 8},   [ST_F32] = {"F32", 4},   [ST_F16] = {"F16", 2},   [ST_BF16] = {"BF16", 2},
    [ST_I64] = {"I64", 8},   [ST_I32] = {"I32", 4},   [ST_I16] = {"I16", 2},   [ST_I8] = {"I8", 1},
    [ST_U64] = {"U64", 8},   [ST_U32] = {"U32", 4},   [ST_U16] = {"U16", 2},   [ST_U8] = {"U8", 1},
    [ST_BOOL] = {"BOOL", 1}, [ST_F8_E4M3] = {"F8_E4M3", 1}, [ST_F8_E5M2] = {"F8_E5M2", 1},
};

const char *st_dtype_name(enum st_dtype t) { return (unsigned)t < ST_N_DTYPES ? dtypes[t].name : "?"; }
size_t st_dtype_size(enum st_dtype t) { return (unsigned)t < ST_N_DTYPES ? dtypes[t].size : 0; }

int st_dtype_from_name(const char *name) {
    for (int i = 0; i < ST_N_DTYPES; i++)
        if (!strcmp(name, dtypes[i].name)) return i;
    return -1;
}

const char *st_shape_str(const struct st_tensor *t, char *buf, size_t n) {
    size_t at = 0;
    at += (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < t->ndim && at < n; i++)
        at += (size_t)snprintf(buf + at, n - at, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
    if (at < n) snprintf(buf + at, n - at, "]");
    return buf;
}

int st_tensor_to_f32(float *dst, const struct st_tensor *t, const char *where) {
    const uint8_t *src = t->data;
    uint16_t h;
    switch (t->dtype) {
    case ST_F32: memcpy(dst, src, (size_t)t->numel * 4); return 0;
    case ST_BF16:
        for (int64_t i = 0; i < t->numel; i++) { memcpy(&h, src + 2 * i, 2); dst[i] = olmo_bf16_to_f32(h); }
        return 0;
    case ST_F16:
        for (int64_t i = 0; i < t->numel; i++) { memcpy(&h, src + 2 * i, 2); dst[i] = olmo_f16_to_f32(h); }
        return 0;
    default:
        return olmo_err("%s: tensor %s has dtype %s; expected F32, BF16 or F16", where, t->name, st_dtype_name(t->dtype));
    }
}

static uint64_t read_le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* Reads a JSON integer in [0, 2^62] (safetensors sizes are unsigned; anything bigger cannot describe a file). */
static int get_u62(json_t *v, uint64_t *out) {
    if (!json_is_integer(v)) return -1;
    json_int_t x = json_integer_value(v);
    if (x < 0 || (uint64_t)x > (1ull << 62)) return -1;
    *out = (uint64_t)x;
    return 0;
}

static int parse_entry(struct st_tensor *t, const char *name, json_t *e, const char *where) {
    if (!json_is_object(e)) return olmo_err("%s: tensor '%s': expected an object {dtype, shape, data_offsets}", where, name);
    const char *key;
    json_t *val;
    json_object_foreach(e, key, val) {
        if (strcmp(key, "dtype") && strcmp(key, "shape") && strcmp(key, "data_offsets"))
            return olmo_err("%s: tensor '%s': unexpected field '%s' (expected dtype, shape, data_offsets)", where, name, key);
    }
    json_t *dt = json_object_get(e, "dtype"), *sh = json_object_get(e, "shape"), *off = json_object_get(e, "data_offsets");
    if (!json_is_string(dt)) return olmo_err("%s: tensor '%s': missing or non-string \"dtype\"", where, name);
    int d = st_dtype_from_name(json_string_value(dt));
    if (d < 0) return olmo_err("%s: tensor '%s': unknown dtype '%s'", where, name, json_string_value(dt));
    t->dtype = (enum st_dtype)d;
    if (!json_is_array(sh)) return olmo_err("%s: tensor '%s': missing or non-array \"shape\"", where, name);
    size_t nd = json_array_size(sh);
    if (nd > ST_MAX_DIMS) return olmo_err("%s: tensor '%s': %zu dimensions (at most %d supported)", where, name, nd, ST_MAX_DIMS);
    t->ndim = (int)nd;
    uint64_t numel = 1;
    for (size_t i = 0; i < nd; i++) {
        uint64_t dim;
        if (get_u62(json_array_get(sh, i), &dim) != 0)
            return olmo_err("%s: tensor '%s': shape[%zu] is not a non-negative integer", where, name, i);
        t->shape[i] = (int64_t)dim;
        if (dim && numel > (1ull << 62) / dim)
            return olmo_err("%s: tensor '%s': shape has more elements than any file can hold", where, name);
        numel *= dim;
    }
    t->numel = (int64_t)numel;
    uint64_t nbytes;
    if (__builtin_mul_overflow(numel, (uint64_t)dtypes[d].size, &nbytes) || nbytes > (1ull << 62))
        return olmo_err("%s: tensor '%s': shape has more bytes than any file can hold", where, name);
    if (!json_is_array(off) || json_array_size(off) != 2)
        return olmo_err("%s: tensor '%s': \"data_offsets\" must be [begin, end]", where, name);
    uint64_t b, en;
    if (get_u62(json_array_get(off, 0), &b) || get_u62(json_array_get(off, 1), &en))
        return olmo_err("%s: tensor '%s': data_offsets must be non-negative integers", where, name);
    if (en < b) return olmo_err("%s: tensor '%s': data_offsets [%llu, %llu] end before begin", where, name,
                                (unsigned long long)b, (unsigned long long)en);
    if (en - b != nbytes) {
        char sb[128];
        return olmo_err("%s: tensor '%s': dtype %s shape %s needs %llu bytes but data_offsets [%llu, %llu] hold %llu",
                        where, name, dtypes[d].name, st_shape_str(t, sb, sizeof sb), (unsigned long long)nbytes,
                        (unsigned long long)b, (unsigned long long)en, (unsigned long long)(en - b));
    }
    t->nbytes = nbytes;
    t->offset = b;   /* relative for now; made absolute once the buffer is known to contain it */
    return 0;
}

static int cmp_offset(const void *a, const void *b) {
    const struct st_tensor *x = a, *y = b;
    if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
    return x->nbytes < y->nbytes ? -1 : x->nbytes > y->nbytes;
}

int st_parse(struct st_set *s, const uint8_t *buf, size_t len, int file, const char *where) {
    if (len < 8) return olmo_err("%s: %zu bytes; a safetensors file starts with an 8-byte header length", where, len);
    uint64_t hlen = read_le64(buf);
    if (hlen > ST_MAX_HEADER)
        return olmo_err("%s: header length %llu exceeds the %u-byte limit (not a safetensors file?)", where,
                        (unsigned long long)hlen, ST_MAX_HEADER);
    if (hlen > len - 8)
        return olmo_err("%s: header length %llu but only %zu bytes follow the length field (truncated file?)", where,
                        (unsigned long long)hlen, len - 8);
    if (hlen < 2 || buf[8] != '{') return olmo_err("%s: the header at offset 8 is not a JSON object", where);
    json_error_t jerr;
    json_t *root = json_loadb((const char *)buf + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) return olmo_err("%s: header JSON, byte %d: %s", where, jerr.position + 8, jerr.text);
    int rc = -1;
    struct st_tensor *ts = NULL;
    size_t nt = 0;
    if (!json_is_object(root)) {
        olmo_err("%s: header is not a JSON object", where);
        goto out;
    }
    ts = olmo_calloc(json_object_size(root) + 1, sizeof *ts);
    if (!ts) goto out;
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        if (!strcmp(key, "__metadata__")) {
            if (!json_is_object(val)) { olmo_err("%s: __metadata__ must be an object of strings", where); goto out; }
            const char *mk;
            json_t *mv;
            json_object_foreach(val, mk, mv) {
                if (!json_is_string(mv)) { olmo_err("%s: __metadata__ '%s' is not a string", where, mk); goto out; }
            }
            continue;
        }
        struct st_tensor *t = &ts[nt];
        if (parse_entry(t, key, val, where) != 0) goto out;
        t->name = olmo_strdup(key);
        if (!t->name) goto out;
        t->file = file;
        nt++;
    }
    /* The reference rule: sorted by offset, tensors tile the buffer exactly from 0 to its end. */
    uint64_t buflen = (uint64_t)len - 8 - hlen, at = 0;
    qsort(ts, nt, sizeof *ts, cmp_offset);
    for (size_t i = 0; i < nt; i++) {
        if (ts[i].offset != at) {
            if (ts[i].offset < at)
                olmo_err("%s: tensor '%s' (bytes %llu..%llu of the data buffer) overlaps the previous tensor '%s'",
                         where, ts[i].name, (unsigned long long)ts[i].offset,
                         (unsigned long long)(ts[i].offset + ts[i].nbytes), i ? ts[i - 1].name : "");
            else
                olmo_err("%s: %llu unused bytes before tensor '%s' at data offset %llu (tensors must be contiguous)",
                         where, (unsigned long long)(ts[i].offset - at), ts[i].name, (unsigned long long)ts[i].offset);
            goto out;
        }
        if (ts[i].nbytes > buflen - at) {
            olmo_err("%s: tensor '%s' data_offsets [%llu, %llu] run past the end of the file (data buffer is %llu bytes; "
                     "truncated file?)", where, ts[i].name, (unsigned long long)ts[i].offset,
                     (unsigned long long)(ts[i].offset + ts[i].nbytes), (unsigned long long)buflen);
            goto out;
        }
        at += ts[i].nbytes;
    }
    if (at != buflen) {
        olmo_err("%s: the tensors cover %llu bytes but the data buffer is %llu bytes (trailing garbage or a missing tensor)",
                 where, (unsigned long long)at, (unsigned long long)buflen);
        goto out;
    }
    for (size_t i = 0; i < nt; i++) {
        ts[i].data = ts[i].nbytes ? buf + 8 + hlen + ts[i].offset : NULL;
        ts[i].offset += 8 + hlen;
    }
    struct st_tensor *grown = olmo_realloc(s->tensors, ((size_t)s->n_tensors + nt + 1) * sizeof *grown);
    if (!grown) goto out;
    s->tensors = grown;
    memcpy(s->tensors + s->n_tensors, ts, nt * sizeof *ts);
    s->n_tensors += (int64_t)nt;
    nt = 0;   /* names now owned by s */
    rc = 0;
out:
    for (size_t i = 0; i < nt; i++) free(ts[i].name);
    free(ts);
    json_decref(root);
    return rc;
}

static int cmp_name(const void *a, const void *b) {
    return strcmp(((const struct st_tensor *)a)->name, ((const struct st_tensor *)b)->name);
}

/* Sorts by name and rejects a name present twice (possible across shards). */
static int finish_set(struct st_set *s) {
    qsort(s->tensors, (size_t)s->n_tensors, sizeof *s->tensors, cmp_name);
    for (int64_t i = 1; i < s->n_tensors; i++)
        if (!strcmp(s->tensors[i].name, s->tensors[i - 1].name))
            return olmo_err("tensor '%s' appears in both %s and %s", s->tensors[i].name,
                            s->files[s->tensors[i - 1].file].path, s->files[s->tensors[i].file].path);
    return 0;
}

static int add_file(struct st_set *s, const char *path) {
    struct st_file *grown = olmo_realloc(s->files, (size_t)(s->n_files + 1) * sizeof *grown);
    if (!grown) return -1;
    s->files = grown;
    struct st_file *f = &s->files[s->n_files];
    memset(f, 0, sizeof *f);
    f->path = olmo_strdup(path);
    if (!f->path) return -1;
    if (olmo_mmap_open(&f->map, path) != 0) {
        free(f->path);
        return -1;
    }
    s->n_files++;
    /* Start reading the file in the background: the first forward pass then waits less for the disk. */
    if (f->map.size) madvise((void *)f->map.data, f->map.size, MADV_WILLNEED);
    return st_parse(s, f->map.data, f->map.size, s->n_files - 1, path);
}

int st_open(struct st_set *s, const char *path) {
    memset(s, 0, sizeof *s);
    if (add_file(s, path) != 0 || finish_set(s) != 0) {
        st_close(s);
        return -1;
    }
    return 0;
}

/* Opens the shards named by an index.json and checks that its weight_map agrees with their headers. */
static int open_index(struct st_set *s, const char *dir, const char *index_path) {
    size_t len;
    char *text = olmo_read_file(index_path, &len);
    if (!text) return -1;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (!root) return olmo_err("%s: line %d: %s", index_path, jerr.line, jerr.text);
    int rc = -1;
    json_t *map = json_object_get(root, "weight_map");
    const char *name;
    json_t *val;
    if (!json_is_object(map)) {
        olmo_err("%s: expected an object \"weight_map\": {tensor name: shard file}", index_path);
        goto out;
    }
    json_object_foreach(map, name, val) {
        if (!json_is_string(val)) { olmo_err("%s: weight_map['%s'] is not a file name", index_path, name); goto out; }
        const char *shard = json_string_value(val);
        if (!*shard || strchr(shard, '/') || !strcmp(shard, "..")) {
            olmo_err("%s: weight_map['%s'] = '%s' is not a file name inside the model directory", index_path, name, shard);
            goto out;
        }
        int seen = 0;
        for (int i = 0; i < s->n_files && !seen; i++) {
            const char *base = strrchr(s->files[i].path, '/');
            seen = !strcmp(base ? base + 1 : s->files[i].path, shard);
        }
        if (seen) continue;
        char *path = olmo_path_join(dir, shard);
        if (!path) goto out;
        int r = add_file(s, path);
        free(path);
        if (r != 0) goto out;
    }
    if (finish_set(s) != 0) goto out;
    /* Every tensor in the shards must be listed, in the shard it is in; every listed tensor must exist. */
    for (int64_t i = 0; i < s->n_tensors; i++) {
        json_t *v = json_object_get(map, s->tensors[i].name);
        const char *path = s->files[s->tensors[i].file].path, *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        if (!v) { olmo_err("%s: tensor '%s' is in %s but not in the index's weight_map", index_path, s->tensors[i].name, path); goto out; }
        if (strcmp(json_string_value(v), base)) {
            olmo_err("%s: weight_map puts '%s' in %s but it is in %s", index_path, s->tensors[i].name, json_string_value(v), base);
            goto out;
        }
    }
    json_object_foreach(map, name, val) {
        if (!st_find(s, name)) { olmo_err("%s: weight_map lists '%s' but %s does not contain it", index_path, name, json_string_value(val)); goto out; }
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}

int st_open_dir(struct st_set *s, const char *dir) {
    memset(s, 0, sizeof *s);
    char *single = olmo_path_join(dir, "model.safetensors"), *index = olmo_path_join(dir, "model.safetensors.index.json");
    int rc = -1;
    if (!single || !index) goto out;
    if (olmo_file_exists(index)) rc = open_index(s, dir, index);
    else if (olmo_file_exists(single)) rc = add_file(s, single) == 0 ? finish_set(s) : -1;
    else olmo_err("%s: neither model.safetensors nor model.safetensors.index.json is there", dir);
    if (rc != 0) st_close(s);
out:
    free(single);
    free(index);
    return rc;
}

void st_close(struct st_set *s) {
    for (int64_t i = 0; i < s->n_tensors; i++) free(s->tensors[i].name);
    for (int i = 0; i < s->n_files; i++) {
        olmo_mmap_close(&s->files[i].map);
        free(s->files[i].path);
    }
    free(s->tensors);
    free(s->files);
    memset(s, 0, sizeof *s);
}

const struct st_tensor *st_find(const struct st_set *s, const char *name) {
    int64_t lo = 0, hi = s->n_tensors - 1;
    while (lo <= hi) {
        int64_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->tensors[mid].name, name);
        if (!c) return &s->tensors[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return NULL;
}

/* ---------------------------------------------------------------------------------------------------------
 * Writer */

struct st_writer_entry {
    char *name;
    enum st_dtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    uint64_t nbytes;
    const void *data;
    int from_f32;     /* data is fp32 to be converted to dtype */
};

void st_writer_init(struct st_writer *w) { memset(w, 0, sizeof *w); }

static int writer_add(struct st_writer *w, const char *name, enum st_dtype dtype, int ndim, const int64_t *shape,
                      const void *data, int from_f32) {
    if ((unsigned)dtype >= ST_N_DTYPES) return olmo_err("st_writer: tensor '%s': bad dtype", name);
    if (ndim < 0 || ndim > ST_MAX_DIMS) return olmo_err("st_writer: tensor '%s': %d dimensions", name, ndim);
    if (!strcmp(name, "__metadata__")) return olmo_err("st_writer: '__metadata__' cannot name a tensor");
    for (int i = 0; i < w->n; i++)
        if (!strcmp(w->entries[i].name, name)) return olmo_err("st_writer: tensor '%s' added twice", name);
    if (w->n == w->cap) {
        int cap = w->cap ? 2 * w->cap : 64;
        struct st_writer_entry *e = olmo_realloc(w->entries, (size_t)cap * sizeof *e);
        if (!e) return -1;
        w->entries = e;
        w->cap = cap;
    }
    struct st_writer_entry *e = &w->entries[w->n];
    memset(e, 0, sizeof *e);
    uint64_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return olmo_err("st_writer: tensor '%s': negative dimension", name);
        e->shape[i] = shape[i];
        numel *= (uint64_t)shape[i];
    }
    e->name = olmo_strdup(name);
    if (!e->name) return -1;
    e->dtype = dtype;
    e->ndim = ndim;
    e->nbytes = numel * dtypes[dtype].size;
    e->data = data;
    e->from_f32 = from_f32;
    w->n++;
    return 0;
}

int st_writer_add_f32(struct st_writer *w, const char *name, enum st_dtype dtype, int ndim, const int64_t *shape,
                      const float *data) {
    if (dtype != ST_F32 && dtype != ST_BF16)
        return olmo_err("st_writer: tensor '%s': fp32 data can be stored as F32 or BF16, not %s", name, st_dtype_name(dtype));
    return writer_add(w, name, dtype, ndim, shape, data, 1);
}

int st_writer_add_raw(struct st_writer *w, const char *name, enum st_dtype dtype, int ndim, const int64_t *shape,
                      const void *data) {
    return writer_add(w, name, dtype, ndim, shape, data, 0);
}

/* HF's serializer order: larger elements first (keeps every tensor aligned to its element size), then name. */
static int cmp_entry(const void *a, const void *b) {
    const struct st_writer_entry *x = a, *y = b;
    size_t sx = dtypes[x->dtype].size, sy = dtypes[y->dtype].size;
    if (sx != sy) return sx > sy ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int write_entry(FILE *fp, const struct st_writer_entry *e) {
    if (!e->nbytes) return 0;
    if (!e->from_f32 || e->dtype == ST_F32) return fwrite(e->data, 1, e->nbytes, fp) == e->nbytes ? 0 : -1;
    /* fp32 → bf16 in chunks */
    uint16_t chunk[4096];
    const float *src = e->data;
    uint64_t n = e->nbytes / 2;
    for (uint64_t i = 0; i < n;) {
        size_t k = n - i < 4096 ? (size_t)(n - i) : 4096;
        for (size_t j = 0; j < k; j++) chunk[j] = olmo_f32_to_bf16(src[i + j]);
        if (fwrite(chunk, 2, k, fp) != k) return -1;
        i += k;
    }
    return 0;
}

int st_writer_write(struct st_writer *w, const char *path) {
    qsort(w->entries, (size_t)w->n, sizeof *w->entries, cmp_entry);
    json_t *root = json_object(), *meta = json_object();
    json_object_set_new(meta, "format", json_string("pt"));
    if (w->meta_key && w->meta_value) json_object_set_new(meta, w->meta_key, json_string(w->meta_value));
    json_object_set_new(root, "__metadata__", meta);
    uint64_t at = 0;
    for (int i = 0; i < w->n; i++) {
        const struct st_writer_entry *e = &w->entries[i];
        json_t *t = json_object(), *shape = json_array(), *off = json_array();
        for (int d = 0; d < e->ndim; d++) json_array_append_new(shape, json_integer(e->shape[d]));
        json_array_append_new(off, json_integer((json_int_t)at));
        json_array_append_new(off, json_integer((json_int_t)(at + e->nbytes)));
        json_object_set_new(t, "dtype", json_string(dtypes[e->dtype].name));
        json_object_set_new(t, "shape", shape);
        json_object_set_new(t, "data_offsets", off);
        json_object_set_new(root, e->name, t);
        at += e->nbytes;
    }
    char *hdr = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!hdr) return olmo_err("st_writer: cannot build the header for %s", path);
    size_t hl = strlen(hdr), padded = (hl + 7) & ~(size_t)7;
    if (w->data_align > 8) padded = (8 + hl + (size_t)w->data_align - 1) / (size_t)w->data_align * (size_t)w->data_align - 8;
    uint8_t lenb[8];
    for (int i = 0; i < 8; i++) lenb[i] = (uint8_t)((uint64_t)padded >> (8 * i));
    struct olmo_atomic_file f;
    if (olmo_atomic_open(&f, path) != 0) {
        free(hdr);
        return -1;
    }
    int ok = fwrite(lenb, 1, 8, f.fp) == 8 && fwrite(hdr, 1, hl, f.fp) == hl;
    for (size_t i = hl; i < padded && ok; i++) ok = fputc(' ', f.fp) != EOF;
    free(hdr);
    for (int i = 0; i < w->n && ok; i++) ok = write_entry(f.fp, &w->entries[i]) == 0;
    if (!ok) {
        olmo_err_errno("st_writer: error writing %s", f.tmp_path);
        olmo_atomic_abort(&f);
        return -1;
    }
    return olmo_atomic_commit(&f);
}

void st_writer_free(struct st_writer *w) {
    for (int i = 0; i < w->n; i++) free(w->entries[i].name);
    free(w->entries);
    memset(w, 0, sizeof *w);
}
