/* idx_format.h — the 4096-byte header page every binary index file starts with (spec provenance.md §7.1), and
 * CRC-32C. The payload follows at byte 4096, so it is page-aligned for mmap. All fields little-endian:
 *
 *   0 magic "OLMOIDX\0" | 8 u32 version (1) | 12 u32 kind | 16 u8 token_width | 17 u8 ptr_width | 18 u16 flags
 *   20 u32 eos_id | 24 u64 n_tokens | 32 u64 n_docs | 40 u64 max_cmp | 48 u64 vocab_size | 56 u64 payload_bytes
 *   64 u32 payload CRC-32C | 68 u32 n_files | 72 u64[2·n_files] (first token, token count) | 4092 u32 CRC of 0..4091
 *
 * idx_header_parse is the one reader of untrusted header bytes (fuzzed by fuzz/fuzz_index_header.c). */
#ifndef OLMO_INDEX_IDX_FORMAT_H
#define OLMO_INDEX_IDX_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define IDX_HEADER_BYTES 4096
#define IDX_VERSION 1
#define IDX_MAX_FILES 250
#define IDX_FLAG_NUMERIC 1u   /* tokens compare as numbers (always set) */
#define IDX_FLAG_CAPPED 2u    /* order exact only up to max_cmp tokens */

enum idx_kind { IDX_KIND_SA = 1, IDX_KIND_DOCS = 2, IDX_KIND_META = 3, IDX_KIND_UNIGRAM = 4 };

struct idx_header {
    uint32_t version, kind;
    int token_width, ptr_width;
    uint32_t flags, eos_id;
    uint64_t n_tokens, n_docs, max_cmp, vocab_size, payload_bytes;
    uint32_t payload_crc, n_files;
    uint64_t file_first[IDX_MAX_FILES], file_count[IDX_MAX_FILES];
};

uint32_t idx_crc32c(uint32_t crc, const void *data, size_t n);

/* Serializes h into page[IDX_HEADER_BYTES] (header CRC included). */
void idx_header_write(const struct idx_header *h, uint8_t *page);
/* Parses and checks a header page read from `what` (named in errors): size, magic, version, CRC, kind ==
 * expect_kind (0 = any), widths, file table (contiguous, summing to n_tokens), and that the payload size
 * matches file_bytes - 4096 for the kind. Returns 0 or -1 after olmo_err. */
int idx_header_parse(struct idx_header *h, const uint8_t *page, size_t file_bytes, uint32_t expect_kind,
                     const char *what);

#endif
