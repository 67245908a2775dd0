/* harness.c — registry and main() for the test binaries (see harness.h). */
#include "harness.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TH_MAX 1024
struct th_test { const char *name; th_fn fn; };
static struct th_test tests[TH_MAX];
static int n_tests, cur_failed, cur_skipped;
static char cur_msg[2048];
static char tmp_root[256];

void th_register(const char *name, th_fn fn) {
    if (n_tests < TH_MAX) tests[n_tests++] = (struct th_test){name, fn};
}

void th_fail(const char *file, int line, const char *fmt, ...) {
    if (cur_failed) return;   /* keep the first failure */
    cur_failed = 1;
    int n = snprintf(cur_msg, sizeof cur_msg, "%s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cur_msg + n, sizeof cur_msg - (size_t)n, fmt, ap);
    va_end(ap);
}

void th_skip(const char *fmt, ...) {
    cur_skipped = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cur_msg, sizeof cur_msg, fmt, ap);
    va_end(ap);
}

int th_failed(void) { return cur_failed; }
int th_slow(void) { const char *s = getenv("OLMO_SLOW"); return s && *s && strcmp(s, "0"); }
int th_sanitized(void) { const char *s = getenv("OLMO_SANITIZED"); return s && *s && strcmp(s, "0"); }

const char *th_shared(const char *relative, char *buf, size_t buflen) {
    const char *root = getenv("OLMO_SHARED_DATA");
    snprintf(buf, buflen, "%s/%s", root && *root ? root : "../shared/data", relative);
    struct stat st;
    return stat(buf, &st) == 0 ? buf : NULL;
}

static int test_counter;
const char *th_tmpdir(void) {
    static char dir[512];
    if (!tmp_root[0]) {
        snprintf(tmp_root, sizeof tmp_root, "/tmp/olmo-test-XXXXXX");
        if (!mkdtemp(tmp_root)) { perror("mkdtemp"); exit(2); }
    }
    snprintf(dir, sizeof dir, "%s/t%d", tmp_root, ++test_counter);
    mkdir(dir, 0777);
    return dir;
}

static void cleanup_tmp(void) {
    if (tmp_root[0] && !getenv("OLMO_KEEP_TMP")) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
        if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", tmp_root);
    }
}

int main(int argc, char **argv) {
    const char *prog = strrchr(argv[0], '/');
    prog = prog ? prog + 1 : argv[0];
    int passed = 0, failed = 0, skipped = 0;
    atexit(cleanup_tmp);
    for (int i = 0; i < n_tests; i++) {
        if (argc > 1 && !strstr(tests[i].name, argv[1])) continue;
        cur_failed = cur_skipped = 0;
        cur_msg[0] = 0;
        tests[i].fn();
        if (cur_failed) { printf("FAIL %s: %s\n", tests[i].name, cur_msg); failed++; }
        else if (cur_skipped) { printf("SKIP %s: %s\n", tests[i].name, cur_msg); skipped++; }
        else { printf("PASS %s\n", tests[i].name); passed++; }
        fflush(stdout);
    }
    printf("%s: %d passed, %d failed, %d skipped\n", prog, passed, failed, skipped);
    return failed ? 1 : 0;
}
