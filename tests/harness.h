/* harness.h — the test harness every tests/test_*.c uses.
 *
 *   TEST(tok_roundtrip) { CHECK(x == 1); CHECK_EQ_INT(a, b); CHECK_NEAR(x, y, 1e-5); }
 *
 * Each test binary runs all its TESTs (or those whose name contains argv[1]) and prints one line per test:
 * "PASS name", "FAIL name: file:line: what", "SKIP name: reason", then "<binary>: N passed, N failed,
 * N skipped". tests/run.sh adds the counts of all binaries and shell tests into the suite's closing line.
 * A failing CHECK ends the test (return), so put cleanup you need before CHECKs or use CHECK_GOTO. */
#ifndef OLMO_TESTS_HARNESS_H
#define OLMO_TESTS_HARNESS_H

#include <math.h>
#include <stdio.h>

typedef void (*th_fn)(void);
void th_register(const char *name, th_fn fn);
void th_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void th_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int th_failed(void);   /* has the current test failed? */

/* Path under the shared data folder (../shared/data beside the repo, or $OLMO_SHARED_DATA);
 * NULL when the folder or the file is absent — the test then SKIPs, saying so. Static buffer per call site. */
const char *th_shared(const char *relative, char *buf, size_t buflen);
/* A fresh empty temp directory for this test (removed at exit unless OLMO_KEEP_TMP is set). */
const char *th_tmpdir(void);
/* Is the slow-test flag OLMO_SLOW=1 set? Is this a sanitizer build (slow: shrink sizes)? */
int th_slow(void);
int th_sanitized(void);

#define TEST(name)                                                                   \
    static void name(void);                                                          \
    __attribute__((constructor)) static void th_reg_##name(void) { th_register(#name, name); } \
    static void name(void)

#define CHECK(cond)                                                    \
    do {                                                               \
        if (!(cond)) { th_fail(__FILE__, __LINE__, "%s", #cond); return; } \
    } while (0)
#define CHECK_MSG(cond, ...)                                           \
    do {                                                               \
        if (!(cond)) { th_fail(__FILE__, __LINE__, __VA_ARGS__); return; } \
    } while (0)
#define CHECK_GOTO(cond, label)                                        \
    do {                                                               \
        if (!(cond)) { th_fail(__FILE__, __LINE__, "%s", #cond); goto label; } \
    } while (0)
#define CHECK_EQ_INT(a, b)                                                                       \
    do {                                                                                         \
        long long th_a = (long long)(a), th_b = (long long)(b);                                  \
        if (th_a != th_b) { th_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, th_a, th_b); return; } \
    } while (0)
#define CHECK_NEAR(a, b, tol)                                                                    \
    do {                                                                                         \
        double th_a = (double)(a), th_b = (double)(b);                                           \
        if (!(fabs(th_a - th_b) <= (tol))) { th_fail(__FILE__, __LINE__, "%s ~ %s: %.9g vs %.9g (tol %g)", #a, #b, th_a, th_b, (double)(tol)); return; } \
    } while (0)
#define SKIP(...)              \
    do {                       \
        th_skip(__VA_ARGS__);  \
        return;                \
    } while (0)

#endif
