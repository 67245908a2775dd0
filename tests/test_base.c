/* test_base.c — error messages, whole-file reads, mmaps and atomic writes. */
#include "harness.h"
#include "base/error.h"
#include "base/file.h"
#include "base/mem.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <stdio.h>
#include <unistd.h>

TEST(base_error_message_and_prefix) {
    CHECK(olmo_err("expected %d, found %d", 3, 4) == -1);
    CHECK(!strcmp(olmo_errmsg(), "expected 3, found 4"));
    olmo_err_prefix("config.json: ");
    CHECK(!strcmp(olmo_errmsg(), "config.json: expected 3, found 4"));
}

TEST(base_atomic_write_then_read_and_mmap) {
    char *path = olmo_path_join(th_tmpdir(), "a.bin");
    const char data[] = "hello\0world";
    CHECK(olmo_write_file_atomic(path, data, sizeof data) == 0);
    size_t n = 0;
    char *back = olmo_read_file(path, &n);
    CHECK(back && n == sizeof data && !memcmp(back, data, n));
    free(back);
    struct olmo_mmap m;
    CHECK(olmo_mmap_open(&m, path) == 0);
    CHECK(m.size == sizeof data && !memcmp(m.data, data, m.size));
    olmo_mmap_close(&m);
    free(path);
}

static long resident_pages(void) {
    long size = 0, res = -1;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f && fscanf(f, "%ld %ld", &size, &res) != 2) res = -1;
    if (f) fclose(f);
    return res;
}

TEST(base_mmap_release_drops_pages_and_keeps_data) {
    /* after a release the pages leave this process's resident set, yet read back the same bytes */
    enum { N = 8 << 20 };
    char *path = olmo_path_join(th_tmpdir(), "big.bin");
    uint8_t *buf = malloc(N);
    for (size_t i = 0; i < N; i++) buf[i] = (uint8_t)(i * 2654435761u >> 24);
    CHECK(olmo_write_file_atomic(path, buf, N) == 0);
    struct olmo_mmap m;
    CHECK(olmo_mmap_open(&m, path) == 0);
    unsigned sum = 0;
    for (size_t i = 0; i < N; i += 512) sum += m.data[i];
    long before = resident_pages();
    olmo_mmap_release(&m, m.data + 100, N - 200);          /* inner whole pages only */
    olmo_mmap_release(&m, m.data + N - 10, 100);           /* reaches past the end: ignored */
    olmo_mmap_release(&m, buf, 100);                       /* not inside the mapping: ignored */
    long after = resident_pages();
    if (before > 0 && after > 0) CHECK(before - after >= (long)(N / sysconf(_SC_PAGESIZE)) * 9 / 10);
    CHECK(!memcmp(m.data, buf, N));
    CHECK(sum > 0);
    olmo_mmap_close(&m);
    free(buf);
    free(path);
}

TEST(base_atomic_abort_leaves_nothing) {
    const char *dir = th_tmpdir();
    char *path = olmo_path_join(dir, "never.bin");
    struct olmo_atomic_file f;
    CHECK(olmo_atomic_open(&f, path) == 0);
    fputs("partial", f.fp);
    olmo_atomic_abort(&f);
    CHECK(!olmo_file_exists(path));
    DIR *d = opendir(dir);
    int entries = 0;
    for (struct dirent *e; (e = readdir(d));) entries += e->d_name[0] != '.';
    closedir(d);
    CHECK_EQ_INT(entries, 0);
    free(path);
}

TEST(base_missing_file_names_the_path) {
    CHECK(olmo_read_file("/nonexistent/x.json", NULL) == NULL);
    CHECK(strstr(olmo_errmsg(), "/nonexistent/x.json") != NULL);
    struct olmo_mmap m;
    CHECK(olmo_mmap_open(&m, "/nonexistent/y") != 0);
}

TEST(base_mkdir_p_nested) {
    char *p = olmo_path_join(th_tmpdir(), "a/b/c");
    CHECK(olmo_mkdir_p(p) == 0);
    CHECK(olmo_mkdir_p(p) == 0);
    struct stat st;
    CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
    free(p);
}
