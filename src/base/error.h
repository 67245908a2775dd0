/* error.h — one error message per thread, set where a failure is detected, read by whoever reports it.
 *
 * Library functions return 0 / a pointer on success and a negative value / NULL on failure after calling
 * olmo_err(). The message says where (file, offset or line), what was expected and what was found.
 * The CLI prints olmo_errmsg() and exits non-zero. Nothing in the library calls abort() on bad input. */
#ifndef OLMO_BASE_ERROR_H
#define OLMO_BASE_ERROR_H

#include <stdarg.h>

#define OLMO_ERR_MSG_MAX 1024

/* Records a printf-style message; always returns -1 so callers can write `return olmo_err(...)`. */
int olmo_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int olmo_verr(const char *fmt, va_list ap);
/* Prepends context ("loading model.safetensors: ") to the current message; returns -1. */
int olmo_err_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Also appends strerror(errno) at the time of the call. */
int olmo_err_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *olmo_errmsg(void);
void olmo_err_clear(void);

#endif
