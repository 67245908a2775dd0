/* cld2_shim.h — C declaration of the libcld2 wrapper in cld2_shim.cc (compiled with g++, linked -lcld2). */
#ifndef OLMO_DATA_TAGGERS_CLD2_SHIM_H
#define OLMO_DATA_TAGGERS_CLD2_SHIM_H

#ifdef __cplusplus
extern "C" {
#endif
/* Detects the language of UTF-8 text[0..len) as pycld2.detect() does. Returns 0 with *is_reliable, the three
 * language names (CLD2's upper-case names: "ENGLISH", "Unknown") and percents; 1 when CLD2 rejects the bytes
 * (pycld2 raises cld2.error then). */
int olmo_cld2_detect(const char *text, int len, int *is_reliable, const char *names[3], int percent[3]);
#ifdef __cplusplus
}
#endif

#endif
