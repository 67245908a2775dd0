/* random_number.c — random_number_v1: a number in [0, 1) per document, for sampling in the mixer.
 * Dolma draws it from random.random() seeded with the process id, so its values cannot be reproduced; here it
 * is a hash of the document's source and id (and OLMO_TAG_SEED when set), uniform in [0, 1), the same
 * whatever the thread or MPI split. Without a document (tests) it hashes the text. */
#include "data/taggers/registry.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fnv(uint64_t h, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    return h;
}

int tg_random(const struct tagger *tg, struct tag_text *t, struct tag_result *out) {
    (void)tg;
    uint64_t h = 0xcbf29ce484222325ULL;
    const char *seed = getenv("OLMO_TAG_SEED");
    if (seed) h = fnv(h, seed, strlen(seed));
    if (t->doc) {
        const char *src = t->doc->source ? t->doc->source : "";
        h = fnv(h, src, strlen(src) + 1);
        h = fnv(h, t->doc->id, strlen(t->doc->id));
    } else {
        h = fnv(h, t->text, t->len);
    }
    /* splitmix64 finaliser, then the top 53 bits as a double in [0, 1) */
    h += 0x9e3779b97f4a7c15ULL;
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return tag_emit(out, "random", 0, t->len, (double)(h >> 11) * (1.0 / 9007199254740992.0));
}
