/* file.c — whole-file reads, read-only mmaps and crash-safe writes (see file.h). */
#include "base/file.h"
#include "base/error.h"
#include "base/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

char *olmo_read_file(const char *path, size_t *len) {
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        olmo_err_errno("cannot open %s", path);
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = olmo_malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            char *nb = olmo_realloc(buf, cap * 2);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, fp);
        n += got;
        if (got == 0) {
            if (ferror(fp)) {
                olmo_err_errno("error reading %s", path);
                free(buf);
                buf = NULL;
            }
            break;
        }
    }
    fclose(fp);
    if (!buf) return NULL;
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

int olmo_mmap_open(struct olmo_mmap *m, const char *path) {
    m->data = NULL;
    m->size = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return olmo_err_errno("cannot open %s", path);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return olmo_err_errno("cannot stat %s", path);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return olmo_err("%s: expected a regular file", path);
    }
    if (st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            close(fd);
            return olmo_err_errno("cannot mmap %s (%lld bytes)", path, (long long)st.st_size);
        }
        m->data = p;
        m->size = (size_t)st.st_size;
    }
    close(fd);
    return 0;
}

void olmo_mmap_close(struct olmo_mmap *m) {
    if (m->data) munmap((void *)m->data, m->size);
    m->data = NULL;
    m->size = 0;
}

void olmo_mmap_release(const struct olmo_mmap *m, const void *p, size_t n) {
    uintptr_t b = (uintptr_t)p, e = b + n, mb = (uintptr_t)m->data, me = mb + m->size;
    if (!m->data || b < mb || e > me || e < b) return;
    uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE), a = (b + pg - 1) & ~(pg - 1), z = e & ~(pg - 1);   /* whole pages */
    if (z > a) madvise((void *)a, z - a, MADV_DONTNEED);
}

char *olmo_path_join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    int slash = a > 0 && dir[a - 1] != '/';
    char *p = olmo_malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    if (slash) p[a++] = '/';
    memcpy(p + a, name, b + 1);
    return p;
}

static char *parent_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return olmo_strdup(".");
    if (slash == path) return olmo_strdup("/");
    return olmo_strndup(path, (size_t)(slash - path));
}

int olmo_fsync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return olmo_err_errno("cannot open directory %s", dir);
    int rc = fsync(fd);
    close(fd);
    /* Some filesystems refuse fsync on directories; the rename itself is still atomic there. */
    if (rc != 0 && errno != EINVAL && errno != EROFS) return olmo_err_errno("cannot fsync directory %s", dir);
    return 0;
}

int olmo_atomic_open(struct olmo_atomic_file *f, const char *path) {
    memset(f, 0, sizeof *f);
    size_t n = strlen(path) + 32;
    f->path = olmo_strdup(path);
    f->tmp_path = olmo_malloc(n);
    if (!f->path || !f->tmp_path) goto fail;
    snprintf(f->tmp_path, n, "%s.tmp.%ld", path, (long)getpid());
    f->fp = fopen(f->tmp_path, "wb");
    if (!f->fp) {
        olmo_err_errno("cannot create %s", f->tmp_path);
        goto fail;
    }
    return 0;
fail:
    free(f->path);
    free(f->tmp_path);
    memset(f, 0, sizeof *f);
    return -1;
}

void olmo_atomic_abort(struct olmo_atomic_file *f) {
    if (f->fp) fclose(f->fp);
    if (f->tmp_path) unlink(f->tmp_path);
    free(f->path);
    free(f->tmp_path);
    memset(f, 0, sizeof *f);
}

int olmo_atomic_commit(struct olmo_atomic_file *f) {
    int rc = 0;
    if (fflush(f->fp) != 0 || ferror(f->fp)) rc = olmo_err_errno("error writing %s", f->tmp_path);
    else if (fsync(fileno(f->fp)) != 0) rc = olmo_err_errno("cannot fsync %s", f->tmp_path);
    if (fclose(f->fp) != 0 && rc == 0) rc = olmo_err_errno("error closing %s", f->tmp_path);
    f->fp = NULL;
    if (rc == 0 && rename(f->tmp_path, f->path) != 0) rc = olmo_err_errno("cannot rename %s to %s", f->tmp_path, f->path);
    if (rc == 0) {
        char *dir = parent_dir(f->path);
        if (dir) rc = olmo_fsync_dir(dir);
        free(dir);
    }
    if (rc != 0) unlink(f->tmp_path);
    free(f->path);
    free(f->tmp_path);
    memset(f, 0, sizeof *f);
    return rc;
}

int olmo_write_file_atomic(const char *path, const void *data, size_t len) {
    struct olmo_atomic_file f;
    if (olmo_atomic_open(&f, path) != 0) return -1;
    if (len && fwrite(data, 1, len, f.fp) != len) {
        olmo_err_errno("error writing %s", f.tmp_path);
        olmo_atomic_abort(&f);
        return -1;
    }
    return olmo_atomic_commit(&f);
}

int olmo_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

int olmo_mkdir_p(const char *path) {
    char *p = olmo_strdup(path);
    if (!p) return -1;
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == 0) {
            char c = *s;
            *s = 0;
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                olmo_err_errno("cannot create directory %s", p);
                free(p);
                return -1;
            }
            *s = c;
            if (!c) break;
        }
    }
    struct stat st;
    int ok = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
    free(p);
    return ok ? 0 : olmo_err("%s exists and is not a directory", path);
}
