/* gguf_export.h — `olmo export gguf`: a Hugging Face OLMo-1 / OLMo-2 / OLMo-3 / OLMoE checkpoint as one GGUF file
 * that llama.cpp and Ollama run (docs/gguf.md). */
#ifndef OLMO_FORMATS_GGUF_EXPORT_H
#define OLMO_FORMATS_GGUF_EXPORT_H

#include "formats/gguf.h"

/* Writes dir (config.json, *.safetensors, tokenizer.json, optional tokenizer_config.json) to out atomically,
 * matrices as `type` (F16, BF16, Q8_0 or Q4_0; norm vectors and the OLMoE router always F32). OLMoE checkpoints
 * that llama.cpp's "olmoe" cannot run as HF does (clip_qkv, norm_topk_prob, grouped-query attention) and OLMo-3
 * ones its "olmo2" cannot (a sliding-layer θ of its own, another YaRN attention factor) are refused.
 * 0, or -1 with olmo_err. */
int gguf_export(const char *dir, const char *out, enum ggml_type type);

/* For the benchmark peer (bench/peer_gguf.c), which converts random checkpoints that have no tokenizer and must
 * show llama.cpp's own Q4_0 quality: */
struct gguf_export_opts {
    int synthetic_vocab;   /* no tokenizer.json: one unique string per id (GPT-2's byte alphabet for ids < 256,
                              "t<id>" after), no merges; the peer is fed ids, never text */
    int q4_reference;      /* Q4_0 as llama.cpp's reference quantizer rounds: d = m/-8, round to nearest */
};
int gguf_export_opts(const char *dir, const char *out, enum ggml_type type, const struct gguf_export_opts *o);
/* "f16" → GGML_TYPE_F16 etc. (f16, bf16, q8_0, q4_0); -1 with olmo_err when unknown. */
int gguf_export_type_parse(const char *s, enum ggml_type *t);

#endif
