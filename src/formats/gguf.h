/* gguf.h — reading and writing GGUF files (version 3), the format llama.cpp and Ollama load (docs/gguf.md).
 *
 * Layout: "GGUF", u32 version, u64 tensor count, u64 key/value count; the key/value pairs (string key, u32 value
 * type, value: scalars, length-prefixed UTF-8 strings, or arrays of one element type); the tensor infos (name,
 * u32 dimension count, u64 dims innermost first, u32 ggml type, u64 offset into the data section); padding to
 * general.alignment (default 32); the data section, each tensor at its offset (a multiple of the alignment).
 *
 * Reading (gguf_parse) validates everything before exposing it: counts bounded by the bytes left, every string
 * and array inside the buffer, known value and tensor types, at most 4 dimensions, element counts that are a
 * whole number of blocks and do not overflow, offsets aligned and every tensor's bytes inside the data section.
 * Used by the export test and fuzzed (fuzz/fuzz_gguf.c). Writing: gguf_w_* emit into a FILE the caller opened
 * (formats/gguf_export.c writes atomically). */
#ifndef OLMO_FORMATS_GGUF_H
#define OLMO_FORMATS_GGUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum gguf_vtype {
    GGUF_T_U8 = 0, GGUF_T_I8, GGUF_T_U16, GGUF_T_I16, GGUF_T_U32, GGUF_T_I32, GGUF_T_F32, GGUF_T_BOOL,
    GGUF_T_STRING, GGUF_T_ARRAY, GGUF_T_U64, GGUF_T_I64, GGUF_T_F64, GGUF_T_COUNT
};
/* The ggml tensor types olmo.c writes and reads (ggml's numbering). */
enum ggml_type { GGML_TYPE_F32 = 0, GGML_TYPE_F16 = 1, GGML_TYPE_Q4_0 = 2, GGML_TYPE_Q8_0 = 8, GGML_TYPE_BF16 = 30 };
#define GGUF_DEFAULT_ALIGN 32

struct gguf_kv {
    const char *key;        /* points into the buffer; key_len bytes, not NUL-terminated */
    size_t key_len;
    enum gguf_vtype type;
    enum gguf_vtype elem;   /* arrays: element type */
    uint64_t n;             /* arrays: element count */
    const uint8_t *val;     /* the value's bytes (after the type; for arrays after elem type and count) */
};
struct gguf_tensor {
    const char *name;
    size_t name_len;
    uint32_t ndim;
    uint64_t dims[4];       /* innermost first */
    enum ggml_type type;
    uint64_t offset, nbytes;
    const uint8_t *data;
};
struct gguf_file {
    uint32_t version;
    uint64_t n_kv, n_tensors, alignment;
    struct gguf_kv *kv;
    struct gguf_tensor *tensors;
};

/* Parses a whole file image (data pointers point into buf). 0, or -1 with olmo_err naming `where`, the byte
 * offset, what was expected and what was found. gguf_free releases the arrays (not buf). */
int gguf_parse(struct gguf_file *g, const uint8_t *buf, size_t len, const char *where);
void gguf_free(struct gguf_file *g);
const struct gguf_kv *gguf_find(const struct gguf_file *g, const char *key);
const struct gguf_tensor *gguf_find_tensor(const struct gguf_file *g, const char *name);
/* A string value (or element i of a string array) as a pointer and length; -1 if not that type / out of range. */
int gguf_string(const struct gguf_kv *kv, uint64_t i, const char **s, size_t *n);
/* u32 / i32 / f32 / bool scalar values, widened; -1 if kv is NULL or of another type. */
int gguf_u32(const struct gguf_kv *kv, uint32_t *v);
int gguf_f32(const struct gguf_kv *kv, float *v);
/* Bytes of n elements of a ggml type (n a multiple of its block size), or 0 for an unknown type / bad n. */
uint64_t ggml_type_bytes(enum ggml_type t, uint64_t n);
const char *ggml_type_name(enum ggml_type t);
/* Element j of a row of `type` as fp32 (tests: dequantizing what was written). */
float ggml_row_at(enum ggml_type t, const uint8_t *row, uint64_t j);

/* ---- writing (little-endian; the caller counts keys and tensors for the header) ---- */
void gguf_w_header(FILE *f, uint64_t n_tensors, uint64_t n_kv);
void gguf_w_str(FILE *f, const char *s, size_t n);
void gguf_w_kv_u32(FILE *f, const char *key, uint32_t v);
void gguf_w_kv_f32(FILE *f, const char *key, float v);
void gguf_w_kv_bool(FILE *f, const char *key, int v);
void gguf_w_kv_str(FILE *f, const char *key, const char *v);
/* An array header: key, GGUF_T_ARRAY, element type, count; the caller writes the elements. */
void gguf_w_kv_array(FILE *f, const char *key, enum gguf_vtype elem, uint64_t n);
void gguf_w_tensor_info(FILE *f, const char *name, uint32_t ndim, const uint64_t *dims, enum ggml_type t, uint64_t offset);
/* Zero bytes up to the next multiple of align (from the start of the file). */
void gguf_w_pad(FILE *f, uint64_t align);

#endif
