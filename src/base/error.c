/* error.c — thread-local error message (see error.h). */
#include "base/error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char err_buf[OLMO_ERR_MSG_MAX];

/* Writes a then b into err_buf, cutting what does not fit (messages are allowed to be truncated). */
static void set_concat(const char *a, const char *b) {
    size_t na = strnlen(a, sizeof err_buf - 1), nb = strlen(b);
    if (nb > sizeof err_buf - 1 - na) nb = sizeof err_buf - 1 - na;
    memmove(err_buf, a, na);
    memmove(err_buf + na, b, nb);
    err_buf[na + nb] = 0;
}

int olmo_verr(const char *fmt, va_list ap) {
    vsnprintf(err_buf, sizeof err_buf, fmt, ap);
    return -1;
}

int olmo_err(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    olmo_verr(fmt, ap);
    va_end(ap);
    return -1;
}

int olmo_err_errno(const char *fmt, ...) {
    int saved = errno;
    char head[OLMO_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    size_t n = strlen(head);
    if (n + 2 < sizeof head) memcpy(head + n, ": ", 3);
    set_concat(head, strerror(saved));
    return -1;
}

int olmo_err_prefix(const char *fmt, ...) {
    char head[OLMO_ERR_MSG_MAX], old[OLMO_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, err_buf, sizeof old);
    set_concat(head, old);
    return -1;
}

const char *olmo_errmsg(void) { return err_buf[0] ? err_buf : "unknown error"; }
void olmo_err_clear(void) { err_buf[0] = 0; }
