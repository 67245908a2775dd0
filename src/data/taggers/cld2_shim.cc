// cld2_shim.cc — a C entry point into Debian's libcld2 (a C++ API), so the cld2 taggers stay in C.
// Calls what pycld2.detect() calls with its defaults (is_plain_text = false, no hints, flags 0) and returns
// what Dolma reads from it: is_reliable and the three (language name, percent) pairs.
#include <cstddef>
#include <cstdio>

#include <cld2/public/compact_lang_det.h>
#include <cld2/internal/lang_script.h>

#include "data/taggers/cld2_shim.h"

extern "C" int olmo_cld2_detect(const char *text, int len, int *is_reliable, const char *names[3], int percent[3]) {
    CLD2::Language lang3[3];
    double score3[3];
    int text_bytes = 0, valid_prefix = 0;
    bool reliable = false;
    CLD2::ExtDetectLanguageSummaryCheckUTF8(text, len, false, NULL, 0, lang3, percent, score3, NULL, &text_bytes,
                                            &reliable, &valid_prefix);
    if (valid_prefix < len) return 1;
    *is_reliable = reliable ? 1 : 0;
    for (int i = 0; i < 3; i++) names[i] = CLD2::LanguageName(lang3[i]);
    return 0;
}
