/* registry.h — the predict/setup functions of the taggers in this folder, for the table in registry.c. */
#ifndef OLMO_DATA_TAGGERS_REGISTRY_H
#define OLMO_DATA_TAGGERS_REGISTRY_H

#include "data/taggers/taggers.h"

int tg_gopher(const struct tagger *tg, struct tag_text *t, struct tag_result *out);
int tg_c4(const struct tagger *tg, struct tag_text *t, struct tag_result *out);
int tg_c4_setup(void);
int tg_pii(const struct tagger *tg, struct tag_text *t, struct tag_result *out);
int tg_pii_fast(const struct tagger *tg, struct tag_text *t, struct tag_result *out);
int tg_pii_setup(void);
enum { TG_CLD2_EN_DOC, TG_CLD2_EN_PARA, TG_CLD2_EN_PARA_DOC, TG_CLD2_ALL_DOC, TG_CLD2_ALL_PARA };
int tg_cld2(const struct tagger *tg, struct tag_text *t, struct tag_result *out);
int tg_cld2_setup(void);
enum { TG_LEN_CHAR, TG_LEN_CHAR_STRIP, TG_LEN_BYTES, TG_LEN_DOCS, TG_LEN_CHAR_PARA, TG_LEN_WS, TG_LEN_WS_PARA };
int tg_length(const struct tagger *tg, struct tag_text *t, struct tag_result *out);
int tg_repetitions(const struct tagger *tg, struct tag_text *t, struct tag_result *out);
int tg_repetitions_setup(void);
int tg_random(const struct tagger *tg, struct tag_text *t, struct tag_result *out);

#endif
