/* idx_format.c — header page and CRC-32C of the index files (see idx_format.h). */
#include "index/idx_format.h"

#include "base/error.h"

#include <string.h>

static const char MAGIC[8] = {'O', 'L', 'M', 'O', 'I', 'D', 'X', 0};

/* CRC-32C (Castagnoli, reflected 0x82F63B78), table-driven, one table built on first use. */
static uint32_t crc_table[256];
static int crc_ready;

uint32_t idx_crc32c(uint32_t crc, const void *data, size_t n) {
    if (!crc_ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            crc_table[i] = c;
        }
        crc_ready = 1;
    }
    const uint8_t *p = data;
    crc = ~crc;
    for (size_t i = 0; i < n; i++) crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static uint32_t get32(const uint8_t *p) { uint32_t v = 0; for (int i = 4; i-- > 0;) v = v << 8 | p[i]; return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v = 0; for (int i = 8; i-- > 0;) v = v << 8 | p[i]; return v; }

void idx_header_write(const struct idx_header *h, uint8_t *page) {
    memset(page, 0, IDX_HEADER_BYTES);
    memcpy(page, MAGIC, 8);
    put32(page + 8, IDX_VERSION);
    put32(page + 12, h->kind);
    page[16] = (uint8_t)h->token_width;
    page[17] = (uint8_t)h->ptr_width;
    page[18] = (uint8_t)h->flags;
    page[19] = (uint8_t)(h->flags >> 8);
    put32(page + 20, h->eos_id);
    put64(page + 24, h->n_tokens);
    put64(page + 32, h->n_docs);
    put64(page + 40, h->max_cmp);
    put64(page + 48, h->vocab_size);
    put64(page + 56, h->payload_bytes);
    put32(page + 64, h->payload_crc);
    put32(page + 68, h->n_files);
    for (uint32_t i = 0; i < h->n_files && i < IDX_MAX_FILES; i++) {
        put64(page + 72 + 16 * i, h->file_first[i]);
        put64(page + 80 + 16 * i, h->file_count[i]);
    }
    put32(page + 4092, idx_crc32c(0, page, 4092));
}

static const char *kind_name(uint32_t k) {
    switch (k) {
    case IDX_KIND_SA: return "suffix array";
    case IDX_KIND_DOCS: return "document table";
    case IDX_KIND_META: return "metadata";
    case IDX_KIND_UNIGRAM: return "unigram counts";
    default: return "unknown";
    }
}

int idx_header_parse(struct idx_header *h, const uint8_t *page, size_t file_bytes, uint32_t expect_kind,
                     const char *what) {
    memset(h, 0, sizeof *h);
    if (file_bytes < IDX_HEADER_BYTES)
        return olmo_err("%s: %zu bytes, expected at least the %d-byte index header (truncated?)", what, file_bytes,
                        IDX_HEADER_BYTES);
    if (memcmp(page, MAGIC, 8))
        return olmo_err("%s: not an olmo index file (expected magic \"OLMOIDX\", found %02x %02x %02x %02x ...)",
                        what, page[0], page[1], page[2], page[3]);
    uint32_t crc = get32(page + 4092), want = idx_crc32c(0, page, 4092);
    if (crc != want)
        return olmo_err("%s: header checksum mismatch (stored %08x, computed %08x): the header is damaged", what, crc,
                        want);
    h->version = get32(page + 8);
    if (h->version != IDX_VERSION)
        return olmo_err("%s: index format version %u, this olmo reads version %d (rebuild the index)", what,
                        h->version, IDX_VERSION);
    h->kind = get32(page + 12);
    if (expect_kind && h->kind != expect_kind)
        return olmo_err("%s: holds a %s (kind %u), expected a %s", what, kind_name(h->kind), h->kind,
                        kind_name(expect_kind));
    h->token_width = page[16];
    h->ptr_width = page[17];
    h->flags = (uint32_t)page[18] | (uint32_t)page[19] << 8;
    h->eos_id = get32(page + 20);
    h->n_tokens = get64(page + 24);
    h->n_docs = get64(page + 32);
    h->max_cmp = get64(page + 40);
    h->vocab_size = get64(page + 48);
    h->payload_bytes = get64(page + 56);
    h->payload_crc = get32(page + 64);
    h->n_files = get32(page + 68);
    if (h->token_width != 2 && h->token_width != 4)
        return olmo_err("%s: token width %d bytes, expected 2 (uint16) or 4 (uint32)", what, h->token_width);
    if (!(h->flags & IDX_FLAG_NUMERIC))
        return olmo_err("%s: flags %#x lack numeric token order (an infini-gram index? not readable here)", what,
                        h->flags);
    if (h->n_files > IDX_MAX_FILES)
        return olmo_err("%s: %u source files, expected at most %d", what, h->n_files, IDX_MAX_FILES);
    if (h->n_tokens > (UINT64_C(1) << 40) || h->n_docs > h->n_tokens + 1 || h->vocab_size > (UINT64_C(1) << 32))
        return olmo_err("%s: implausible sizes (%llu tokens, %llu documents, vocabulary %llu)", what,
                        (unsigned long long)h->n_tokens, (unsigned long long)h->n_docs,
                        (unsigned long long)h->vocab_size);
    uint64_t next = 0;
    for (uint32_t i = 0; i < h->n_files; i++) {
        h->file_first[i] = get64(page + 72 + 16 * i);
        h->file_count[i] = get64(page + 80 + 16 * i);
        if (h->file_first[i] != next || h->file_count[i] > h->n_tokens - next)
            return olmo_err("%s: file table entry %u (first %llu, %llu tokens) does not continue at token %llu of %llu",
                            what, i, (unsigned long long)h->file_first[i], (unsigned long long)h->file_count[i],
                            (unsigned long long)next, (unsigned long long)h->n_tokens);
        next += h->file_count[i];
    }
    if (h->n_files && next != h->n_tokens)
        return olmo_err("%s: file table sums to %llu tokens, header says %llu", what, (unsigned long long)next,
                        (unsigned long long)h->n_tokens);
    uint64_t payload = file_bytes - IDX_HEADER_BYTES, expect = 0;
    switch (h->kind) {
    case IDX_KIND_SA:
        if (h->ptr_width < 4 || h->ptr_width > 8)
            return olmo_err("%s: pointer width %d bytes, expected 4..8", what, h->ptr_width);
        if (h->ptr_width < 8 && h->n_tokens > (UINT64_C(1) << (8 * h->ptr_width)))
            return olmo_err("%s: %llu tokens do not fit %d-byte pointers", what, (unsigned long long)h->n_tokens,
                            h->ptr_width);
        expect = h->n_tokens * (uint64_t)h->ptr_width;
        break;
    case IDX_KIND_DOCS: expect = (h->n_docs + 1) * 8; break;
    case IDX_KIND_META: expect = (h->n_docs + 1) * 8; break;
    case IDX_KIND_UNIGRAM: expect = h->vocab_size * 8; break;
    default: return olmo_err("%s: unknown kind %u", what, h->kind);
    }
    if (h->payload_bytes != payload || (h->kind == IDX_KIND_META ? payload < expect : payload != expect))
        return olmo_err("%s: payload is %llu bytes (header says %llu), expected %llu for this %s (truncated or "
                        "foreign file?)", what, (unsigned long long)payload, (unsigned long long)h->payload_bytes,
                        (unsigned long long)expect, kind_name(h->kind));
    return 0;
}
