/* bpe_write.c — writes a trained BPE (bpe_train.h) as a Hugging Face tokenizer.json.
 *
 * The pipeline is dolma2's (OLMo-2/3, spec olmo-model.md §5.2), so both olmo.c and HF `tokenizers` load it
 * with code paths the shipped tokenizers already exercise: no normalizer, pre-tokenizer Sequence[Split(cl100k,
 * Removed, invert) = keep the regex matches, ByteLevel(add_prefix_space=false, use_regex=false)], BPE with
 * "a b" merge strings, no post-processor (no BOS/EOS added), ByteLevel decoder, and the special tokens as added
 * tokens (normalized=false, special=true). Written by hand rather than through jansson so the layout is fixed
 * (HF's own 2-space pretty style, vocab in id order): identical models give byte-identical files. */
#include "tokenizer/bpe_train.h"
#include "base/error.h"
#include "base/file.h"

#include <stdio.h>

/* The cl100k split pattern as it appears in dolma2's tokenizer.json (before JSON escaping). */
static const char cl100k_regex[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/* The inside of a JSON string literal. Input is valid UTF-8 (byte-level strings and checked special tokens);
 * only quotes, backslashes and control characters need escaping. */
static void put_json_chars(FILE *f, const uint8_t *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c == '"' || c == '\\') {
            putc('\\', f);
            putc(c, f);
        } else if (c < 0x20) {
            fprintf(f, "\\u%04x", c);
        } else {
            putc(c, f);
        }
    }
}

static void put_json_string(FILE *f, const uint8_t *s, size_t n) {
    putc('"', f);
    put_json_chars(f, s, n);
    putc('"', f);
}

static void put_token(FILE *f, const struct bpe_model *m, uint32_t id) {
    put_json_string(f, bpe_strmap_key(&m->vocab, id), m->vocab.ents[id].len);
}

static void write_body(FILE *f, const struct bpe_model *m) {
    fputs("{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": [", f);
    for (uint32_t i = 0; i < m->n_special; i++) {
        fprintf(f, "%s\n    {\n      \"id\": %u,\n      \"content\": ", i ? "," : "", i);
        put_token(f, m, i);
        fputs(",\n      \"single_word\": false,\n      \"lstrip\": false,\n      \"rstrip\": false,\n"
              "      \"normalized\": false,\n      \"special\": true\n    }", f);
    }
    fputs(m->n_special ? "\n  ],\n" : "],\n", f);
    fputs("  \"normalizer\": null,\n"
          "  \"pre_tokenizer\": {\n    \"type\": \"Sequence\",\n    \"pretokenizers\": [\n"
          "      {\n        \"type\": \"Split\",\n        \"pattern\": {\n          \"Regex\": ", f);
    put_json_string(f, (const uint8_t *)cl100k_regex, sizeof cl100k_regex - 1);
    fputs("\n        },\n        \"behavior\": \"Removed\",\n        \"invert\": true\n      },\n"
          "      {\n        \"type\": \"ByteLevel\",\n        \"add_prefix_space\": false,\n"
          "        \"trim_offsets\": true,\n        \"use_regex\": false\n      }\n    ]\n  },\n"
          "  \"post_processor\": null,\n"
          "  \"decoder\": {\n    \"type\": \"ByteLevel\",\n    \"add_prefix_space\": true,\n"
          "    \"trim_offsets\": true,\n    \"use_regex\": true\n  },\n"
          "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": null,\n"
          "    \"continuing_subword_prefix\": \"\",\n    \"end_of_word_suffix\": \"\",\n"
          "    \"fuse_unk\": false,\n    \"byte_fallback\": false,\n    \"vocab\": {", f);
    for (uint32_t i = 0; i < m->vocab.n; i++) {
        fputs(i ? ",\n      " : "\n      ", f);
        put_token(f, m, i);
        fprintf(f, ": %u", i);
    }
    fputs("\n    },\n    \"merges\": [", f);
    for (uint32_t i = 0; i < m->n_merges; i++) {
        /* "left right" in one JSON string: byte-level token strings never contain a space (it is written as
         * U+0120), but may contain '"' and '\\', which put_json_chars escapes */
        uint32_t l = m->merges[2 * i], r = m->merges[2 * i + 1];
        fputs(i ? ",\n      \"" : "\n      \"", f);
        put_json_chars(f, bpe_strmap_key(&m->vocab, l), m->vocab.ents[l].len);
        putc(' ', f);
        put_json_chars(f, bpe_strmap_key(&m->vocab, r), m->vocab.ents[r].len);
        putc('"', f);
    }
    fputs(m->n_merges ? "\n    ]\n  }\n}\n" : "]\n  }\n}\n", f);
}

int bpe_model_write_json(const struct bpe_model *m, const char *path) {
    struct olmo_atomic_file af;
    if (olmo_atomic_open(&af, path) < 0) return -1;
    write_body(af.fp, m);
    if (ferror(af.fp)) {
        olmo_err("error writing %s", af.tmp_path);
        olmo_atomic_abort(&af);
        return -1;
    }
    return olmo_atomic_commit(&af);
}
