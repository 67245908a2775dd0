/* test_cpu.c — run-time CPU detection (base/cpu.h): levels nest, the cap lowers what is used and never raises
 * it, names round-trip. What the kernels compute at each level is checked in test_linear.c / test_attention.c. */
#include "harness.h"
#include "base/cpu.h"

#include <string.h>

TEST(cpu_levels_nest_and_names_round_trip) {
    for (int l = 0; l < OLMO_CPU_LEVEL_COUNT; l++) {
        const char *n = olmo_cpu_level_name((enum olmo_cpu_level)l);
        CHECK(n != NULL);
        CHECK_EQ_INT(olmo_cpu_level_parse(n), l);
    }
    CHECK(olmo_cpu_level_parse("avx9000") == -1);
    CHECK(olmo_cpu_level_name(OLMO_CPU_LEVEL_COUNT) == NULL);
    CHECK((OLMO_CPU_SET_AVX2 & OLMO_CPU_SET_AVX512) == OLMO_CPU_SET_AVX2);
    CHECK((OLMO_CPU_SET_AVX512 & OLMO_CPU_SET_AVX512BF16) == OLMO_CPU_SET_AVX512);
    CHECK((OLMO_CPU_SET_AVX512BF16 & OLMO_CPU_SET_AMX) == OLMO_CPU_SET_AVX512BF16);
    char buf[256];
    CHECK(!strcmp(olmo_cpu_feature_names(OLMO_CPU_AVX2 | OLMO_CPU_AMX_BF16, buf, sizeof buf), "avx2 amx_bf16"));
}

TEST(cpu_cap_lowers_and_restores) {
    enum olmo_cpu_level prev = olmo_cpu_set_cap(OLMO_CPU_LEVEL_COUNT), top = olmo_cpu_level();   /* uncapped */
    olmo_cpu_set_cap(OLMO_CPU_LEVEL_SCALAR);
    CHECK_EQ_INT(olmo_cpu_level(), OLMO_CPU_LEVEL_SCALAR);
    CHECK(!olmo_cpu_has(OLMO_CPU_AVX2));
    CHECK(olmo_cpu_has(0));
    for (int l = 0; l < OLMO_CPU_LEVEL_COUNT; l++) {
        olmo_cpu_set_cap((enum olmo_cpu_level)l);
        CHECK((int)olmo_cpu_level() <= l);   /* a cap above what the CPU has changes nothing */
        CHECK((int)olmo_cpu_level() <= (int)top);
    }
    olmo_cpu_set_cap(prev);
    CHECK_EQ_INT(olmo_cpu_level(), prev < top ? prev : top);
    /* the detected features are those of the CPU, cap or not */
    CHECK((olmo_cpu_detected() & OLMO_CPU_SET_AVX2) == OLMO_CPU_SET_AVX2 || top == OLMO_CPU_LEVEL_SCALAR);
    CHECK(olmo_cpu_check_baseline() == 0);   /* this test binary runs, so the baseline is there */
    CHECK(strlen(olmo_cpu_model()) > 0);
}
