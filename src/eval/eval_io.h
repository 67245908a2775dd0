/* eval_io.h — reading evaluation files: whole files (gzip or plain, detected by content) and JSON lines. */
#ifndef OLMO_EVAL_EVAL_IO_H
#define OLMO_EVAL_EVAL_IO_H

#include <stddef.h>

/* The whole file, decompressed when it is gzip (any name), NUL-terminated. NULL with olmo_err on failure. */
char *eval_read_all(const char *path, size_t *len);

/* Calls fn(line, len, lineno, arg) for every non-blank line of buf (lineno is 1-based); stops at the first
 * non-zero return and returns it. */
int eval_for_lines(char *buf, size_t len, int (*fn)(char *line, size_t n, int lineno, void *arg), void *arg);

/* The file's name without directory and without .gz / .jsonl / .json / .txt extensions (malloc'd). */
char *eval_path_stem(const char *path);

#endif
