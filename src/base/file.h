/* file.h — reading, memory-mapping and atomically writing files.
 *
 * Every writer in olmo.c goes through olmo_atomic_*: the data lands in "PATH.tmp.<pid>", is fsync'ed and
 * renamed over PATH, so a crash or kill -9 never leaves a half-written output under the final name. */
#ifndef OLMO_BASE_FILE_H
#define OLMO_BASE_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Reads a whole file into a NUL-terminated buffer (caller frees). *len gets the byte count (may be NULL). */
char *olmo_read_file(const char *path, size_t *len);

/* A read-only memory map of a whole file. An empty file maps to data == NULL, size == 0. */
struct olmo_mmap {
    const uint8_t *data;
    size_t size;
};
int olmo_mmap_open(struct olmo_mmap *m, const char *path);
void olmo_mmap_close(struct olmo_mmap *m);
/* Drops the whole pages inside [p, p+n) of m from this process's resident memory (MADV_DONTNEED) once a
 * copy has been made of them: they stay valid, a later read fetches them from the file (page cache) again.
 * Does nothing unless the range lies inside m, so it is safe to call on any pointer. */
void olmo_mmap_release(const struct olmo_mmap *m, const void *p, size_t n);

/* Atomic writing: open a temp file beside PATH, write through ->fp, then commit (fsync + rename) or abort
 * (unlink). Exactly one of commit/abort must be called. */
struct olmo_atomic_file {
    FILE *fp;
    char *path;
    char *tmp_path;
};
int olmo_atomic_open(struct olmo_atomic_file *f, const char *path);
int olmo_atomic_commit(struct olmo_atomic_file *f);
void olmo_atomic_abort(struct olmo_atomic_file *f);
/* Writes a whole buffer atomically. */
int olmo_write_file_atomic(const char *path, const void *data, size_t len);

int olmo_mkdir_p(const char *path);         /* like mkdir -p; 0 if it exists already */
int olmo_file_exists(const char *path);     /* 1 if a regular file or directory is there */
int olmo_fsync_dir(const char *dir);        /* makes a rename inside dir durable */
/* Joins dir and name with one '/' into a new string (caller frees). */
char *olmo_path_join(const char *dir, const char *name);

#endif
