/* safetensors.h — reading and writing Hugging Face safetensors files (spec olmo-model.md §4.2-4.3).
 *
 * Reading: the file is memory-mapped read-only and every tensor points into the map (nothing is copied: a 15 GB
 * checkpoint costs 15 GB of page cache, not 30 GB of heap). The header is validated completely before anything
 * is exposed: header length inside the file, a JSON object without duplicate keys, known dtypes, shapes whose
 * element count × dtype size equals the byte range, byte ranges inside the buffer, contiguous, non-overlapping
 * and covering the whole buffer (the reference parser's rules). A sharded checkpoint is read through
 * model.safetensors.index.json; tensor names are then unique across all shards and each must live in the
 * shard the index names.
 *
 * Writing: st_writer collects named tensors (borrowed pointers, converted at write time) and writes one file
 * atomically (temp file + fsync + rename) with __metadata__ {"format": "pt"}, in the layout HF's serializer
 * produces (header padded with spaces to a multiple of 8, tensors sorted by name, densely packed). */
#ifndef OLMO_FORMATS_SAFETENSORS_H
#define OLMO_FORMATS_SAFETENSORS_H

#include "base/file.h"

#include <stddef.h>
#include <stdint.h>

enum st_dtype {
    ST_F64, ST_F32, ST_F16, ST_BF16, ST_I64, ST_I32, ST_I16, ST_I8, ST_U64, ST_U32, ST_U16, ST_U8, ST_BOOL,
    ST_F8_E4M3, ST_F8_E5M2, ST_N_DTYPES
};
#define ST_MAX_DIMS 8
#define ST_MAX_HEADER (100u * 1024u * 1024u)   /* the reference parser's limit */

struct st_tensor {
    char *name;
    enum st_dtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    int64_t numel;
    const void *data;      /* points into the mapped file; NULL when nbytes == 0 */
    uint64_t nbytes;
    uint64_t offset;       /* absolute byte offset in its file (for messages) */
    int file;              /* index into st_set.files */
};

struct st_file {
    char *path;
    struct olmo_mmap map;
};

/* One checkpoint: one or several files, all tensors sorted by name for lookup. */
struct st_set {
    struct st_file *files;
    int n_files;
    struct st_tensor *tensors;
    int64_t n_tensors;
};

/* Opens one .safetensors file. 0, or -1 with olmo_err naming the file and the problem. */
int st_open(struct st_set *s, const char *path);
/* Opens a model directory: DIR/model.safetensors, or DIR/model.safetensors.index.json and its shards. */
int st_open_dir(struct st_set *s, const char *dir);
void st_close(struct st_set *s);
/* The tensor called name, or NULL. */
const struct st_tensor *st_find(const struct st_set *s, const char *name);

/* Validates a whole in-memory file image (8-byte length, header, buffer) and appends its tensors to s as file
 * number `file` (data pointers point into buf). `where` names the file in messages. Used by st_open and by the
 * fuzzer. On failure s is left without any of this file's tensors. */
int st_parse(struct st_set *s, const uint8_t *buf, size_t len, int file, const char *where);

const char *st_dtype_name(enum st_dtype t);
size_t st_dtype_size(enum st_dtype t);
/* "F32" → ST_F32; -1 if unknown. */
int st_dtype_from_name(const char *name);
/* All numel values of a F32, BF16 or F16 tensor as fp32 into dst (the data may be unaligned: a mapped file);
 * any other dtype: -1 with a message naming `where` and the tensor. */
int st_tensor_to_f32(float *dst, const struct st_tensor *t, const char *where);
/* Shape as "[2, 3]" into buf (for messages). */
const char *st_shape_str(const struct st_tensor *t, char *buf, size_t n);

/* ---- writer ---- */
struct st_writer_entry;
struct st_writer {
    struct st_writer_entry *entries;
    int n, cap;
    /* optional, set after st_writer_init: one more __metadata__ entry (e.g. olmo quantize's "olmo.quant"), and
     * the data buffer's start aligned to data_align bytes in the file (a power of two > 8; header padded with
     * spaces, as the format allows) so that mapped tensors are aligned for the kernels */
    const char *meta_key, *meta_value;
    int data_align;
};
void st_writer_init(struct st_writer *w);
/* Adds a tensor whose values are fp32 in memory, stored as `dtype` (ST_F32 or ST_BF16, round-to-nearest-even).
 * `data` is borrowed: it must stay valid until st_writer_write. 0, or -1 (bad dtype, duplicate name). */
int st_writer_add_f32(struct st_writer *w, const char *name, enum st_dtype dtype, int ndim, const int64_t *shape,
                      const float *data);
/* Adds already-encoded bytes of any dtype (prod(shape) * size(dtype) bytes, borrowed). */
int st_writer_add_raw(struct st_writer *w, const char *name, enum st_dtype dtype, int ndim, const int64_t *shape,
                      const void *data);
/* Writes the file atomically. The writer can be written again or freed afterwards. */
int st_writer_write(struct st_writer *w, const char *path);
void st_writer_free(struct st_writer *w);

#endif
