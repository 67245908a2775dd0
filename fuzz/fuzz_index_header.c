/* fuzz_index_header.c — libFuzzer target for the index header reader (src/index/idx_format.c): any bytes are
 * either refused with a message or parse into a header whose fields are self-consistent (file table contiguous
 * and summing to n_tokens, payload size matching the kind); never a crash. Inputs shorter than a page are
 * padded with zeros but keep their real length as the file size; the CRC is recomputed on odd first bytes so the
 * fuzzer gets past the checksum into the field checks. */
#include "index/idx_format.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t page[IDX_HEADER_BYTES] = {0};
    memcpy(page, data, size < sizeof page ? size : sizeof page);
    if (size && (data[0] & 1)) {
        memcpy(page, "OLMOIDX", 8);
        uint32_t crc = idx_crc32c(0, page, 4092);
        for (int i = 0; i < 4; i++) page[4092 + i] = (uint8_t)(crc >> (8 * i));
    }
    size_t file_bytes = size > IDX_HEADER_BYTES ? size : size + (size ? (size_t)data[size - 1] << 8 : 0);
    struct idx_header h;
    for (uint32_t kind = 0; kind <= 4; kind++) {
        if (idx_header_parse(&h, page, file_bytes, kind, "fuzz") != 0) continue;
        uint64_t sum = 0;
        for (uint32_t i = 0; i < h.n_files; i++) {
            if (h.file_first[i] != sum) abort();
            sum += h.file_count[i];
        }
        if (h.n_files && sum != h.n_tokens) abort();
        if (h.payload_bytes != file_bytes - IDX_HEADER_BYTES) abort();
        if (h.kind == IDX_KIND_SA && h.n_tokens * (uint64_t)h.ptr_width != h.payload_bytes) abort();
    }
    return 0;
}
