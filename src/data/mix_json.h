/* mix_json.h — JSON output as Dolma's Rust side writes it (serde_json without preserve_order): object keys sorted
 * by bytes at every level, compact, integers as integers, floats shortest round-trip ("1.0", "0.5", "1e-7"),
 * non-ASCII raw. And a scanner of a JSON object line's top-level members, so unchanged values can be copied. */
#ifndef OLMO_DATA_MIX_JSON_H
#define OLMO_DATA_MIX_JSON_H

#include <jansson.h>

#include "data/docs.h"

int mix_json_write(struct docs_buf *b, json_t *v);
/* A float as ryu / serde_json writes it. */
int mix_json_float(struct docs_buf *b, double x);

struct mix_member {
    const char *key;   /* raw key bytes (between the quotes) */
    size_t key_len;
    const char *val;   /* raw value bytes */
    size_t val_len;
    int copyable;      /* the raw bytes are what serde_json would write for this value */
};
/* Scans the top-level members of the object in line[0..len). Returns the count (≤ max), or -1 when the line is
 * not a plain object this scanner handles (the caller then re-serialises everything). */
int mix_json_members(const char *line, size_t len, struct mix_member *m, int max);

#endif
