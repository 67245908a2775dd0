/* quant_file.h — quantized checkpoints: what `olmo quantize` writes and model_load reads back without
 * re-quantizing (docs/quantization.md has the layout).
 *
 * One model.safetensors beside the source's config.json and tokenizer files. Every projection matrix X (q/k/v/o,
 * the MLP, lm_head — also when the embeddings are tied, so that the logits use the quantized copy) is stored in
 * the kernels' own panel order (kernels/linear.h), so loading is a memory map and no repacking:
 *     X.weight        U8  [P, cols]   (q8)  or  [P, cols/2]  (q4)     P = rows rounded up to a multiple of 16
 *     X.weight_scale  F16 [P, cols/32]                                the block scales, in panel order
 * The row count P and the byte width say which format a tensor is; __metadata__ "olmo.quant" names it too (q8 or
 * q4), for other readers. Everything else (embedding, norm weights) is copied byte for byte. The data buffer
 * starts 64-byte aligned in the file, so with the usual shapes every tensor is. */
#ifndef OLMO_MODEL_QUANT_FILE_H
#define OLMO_MODEL_QUANT_FILE_H

#include "formats/safetensors.h"
#include "model/model.h"

#define QUANT_SCALE_SUFFIX "_scale"

/* Makes W (rows x cols) from the U8 tensor t of st and its companion t->name + "_scale". W points into the map
 * (a Q8 matrix whose bytes are not 64-byte aligned in the file is copied: its kernel uses aligned loads).
 * *scales gets the companion (for the loader's claimed-tensor bookkeeping). 0, or -1 with olmo_err naming the
 * tensor, what was expected and what was found. */
int quant_file_linear(const struct st_set *st, const struct st_tensor *t, int64_t rows, int64_t cols,
                      struct olmo_linear *W, const struct st_tensor **scales);
/* Writes m (whose projections are all quantized to q) to path as above: the non-projection tensors are taken
 * from m's own mapped files. 0, or -1 with olmo_err. */
int quant_file_write(const struct olmo_model *m, enum olmo_quant q, const char *path);

#endif
