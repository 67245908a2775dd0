/* linear.h — y = x·Wᵀ for a weight matrix kept in its stored precision.
 *
 * Weights stay as they are on disk (bf16 stays bf16: half the bytes to read per token); activations and
 * accumulation are fp32. T == 1 (decoding) is a bandwidth-bound GEMV; T > 1 (prefill) is a GEMM.
 * Q8 is olmo.c's int8 format: each row cut into blocks of OLMO_Q8_BLOCK values, each block int8 with one fp16
 * scale (value = q * scale; 34 bytes per 32 weights, as llama.cpp's Q8_0), made from any other dtype by
 * linear_quantize_q8.
 *
 * Q8 storage order (kernel-private: read rows with linear_row_f32, size with linear_q8_bytes). Rows are grouped
 * in panels of 16 (the last one padded with zero rows). Panel p holds its weights as data[p][cols/4][16][4]:
 * for every 4 consecutive columns, 4 bytes of each of the 16 rows, stored as unsigned q + 128; and its scales
 * as fp16 scales[p][cols/32][16]. That is the order AVX512-VNNI consumes (one 64-byte load = 16 rows x 4 columns)
 * for one token and for many, so no repacking happens at run time.
 *
 * Q4 is olmo.c's 4-bit format (docs/quantization.md): blocks of 32 values with one fp16 scale, value = q·scale,
 * q in [-8, 7] (18 bytes per 32 weights, as llama.cpp's Q4_0), the scale chosen per block by least squares
 * (linear_q4_quant.c). Same panels of 16 rows and the same scale order as Q8; the weights of panel p, block b
 * are 256 bytes at data + (p·cols/32 + b)·256: byte kq·64 + 4·row + j (kq < 4, j < 4) holds q + 8 of column
 * 4·kq + j in its low nibble and of column 16 + 4·kq + j in its high nibble, so one 64-byte load gives two
 * VNNI operands (16 rows x 4 columns each) after a mask and a shift. */
#ifndef OLMO_KERNELS_LINEAR_H
#define OLMO_KERNELS_LINEAR_H

#include "base/half.h"

#include <stddef.h>
#include <stdint.h>

enum olmo_dtype { OLMO_DTYPE_F32 = 1, OLMO_DTYPE_BF16 = 2, OLMO_DTYPE_F16 = 3, OLMO_DTYPE_Q8 = 4, OLMO_DTYPE_Q4 = 5 };
#define OLMO_Q8_BLOCK 32

struct olmo_linear {
    enum olmo_dtype dtype;
    int64_t rows, cols;       /* W is [rows = out_features][cols = in_features], row-major */
    const void *data;         /* rows*cols elements (often points into a mmapped checkpoint) */
    const uint16_t *scales;   /* Q8 and Q4 only: panel-ordered fp16 scales (see above) */
    void *owned;              /* memory this struct owns (quantized copies), freed by linear_free */
};

/* y[T][rows] = x[T][cols] · Wᵀ. The fast path for the build machine's instruction set (AVX-512 with VNNI and
 * BF16; docs/kernels.md): T == 1 is a row-parallel GEMV, T > 1 a packed GEMM, both on the thread pool of
 * kernels/pool.h. Q8 activations are quantized to int8 per 32-block once per call, so Q8 results differ
 * from the reference by that rounding (relative error around 1e-2 of the row's |x|·|w| scale; tests/test_linear.c).
 * Thread-safe (calls are serialised); no allocation after the first call at a given size. */
void linear_forward(float *y, const float *x, const struct olmo_linear *W, int T);
/* Batched decoding: n independent activation rows x[n][cols]; y[i] is bitwise equal to linear_forward(y[i], x[i],
 * W, 1), but the weights are streamed from memory once for all n rows (the GEMV walks each group of weight rows
 * once per vector while it is in cache). */
void linear_forward_batch(float *y, const float *x, const struct olmo_linear *W, int n);
/* The portable reference: fp32 dot products, exact products of the stored weights and fp32 x. */
void linear_forward_ref(float *y, const float *x, const struct olmo_linear *W, int T);
/* Makes a Q8 copy of src into dst (cols must be a multiple of OLMO_Q8_BLOCK); 0 or -1 with olmo_err.
 * dst owns its memory (linear_free). Runs on the thread pool (kernels/pool.h; not from inside a pool job). */
int linear_quantize_q8(struct olmo_linear *dst, const struct olmo_linear *src);
/* The same for Q4 (cols a multiple of OLMO_Q8_BLOCK): per block the scale that minimises the squared error
 * among a few candidates, each refined by least squares. Slower than Q8 (about 10 roundings per block). */
int linear_quantize_q4(struct olmo_linear *dst, const struct olmo_linear *src);
/* One block of OLMO_Q8_BLOCK values: the fp16 scale (into *scale) and integers q in [-8, 7] as above (also
 * GGUF export's Q4_0, which stores the same scale·q). 1, or 0 when the scale does not fit fp16 / v is not finite. */
int linear_q4_block(const float *v, uint16_t *scale, int8_t *q);
/* Bytes of a Q4 matrix of this shape: weights and scales, including the padding rows. */
uint64_t linear_q4_bytes(int64_t rows, int64_t cols);
/* Q4 element (r, c) as fp32 (the reference path and linear_row_f32). */
float linear_q4_at(const struct olmo_linear *W, int64_t r, int64_t c);
void linear_free(struct olmo_linear *W);
/* Optional, at load time: copies W's weights (F32/BF16/F16) into memory the kernels stream faster — 2 MB
 * aligned, transparent huge pages. Decoding reads every weight per token, and here a streaming read from 4 KB
 * pages (a memory-mapped checkpoint) is ~30 % slower than from 2 MB pages (docs/kernels.md). W then owns the
 * copy (linear_free). drop_source = 1 releases the source's whole pages from this process with
 * madvise(MADV_DONTNEED) so that resident memory does not double — ONLY for a read-only file mapping (a
 * later read re-fetches the file; on anonymous memory it would zero the data). Q8 matrices are already in
 * such memory (no-op). 0, or -1 with olmo_err (out of memory; W unchanged). */
int linear_rehome(struct olmo_linear *W, int drop_source);
/* Bytes of a Q8 matrix of this shape: weights and scales, including the padding rows. */
uint64_t linear_q8_bytes(int64_t rows, int64_t cols);
/* The kernel linear_forward runs on this CPU (under OLMO_CPU's cap) for weights of type dt and T tokens, in
 * words, e.g. "avx512bf16: vdpbf16ps GEMM, weights repacked per call" or "portable C (reference)". */
const char *linear_kernel_name(enum olmo_dtype dt, int T);
/* Reads row r of W into out[cols] as fp32 (embedding lookups, tests). */
void linear_row_f32(float *out, const struct olmo_linear *W, int64_t r);

#endif
