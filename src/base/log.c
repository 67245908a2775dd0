/* log.c — stderr logging with a global level (see log.h). */
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

int olmo_log_level = OLMO_LOG_INFO;

static void vlog(const char *tag, const char *fmt, va_list ap) {
    fputs(tag, stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void olmo_log_info(const char *fmt, ...) {
    if (olmo_log_level < OLMO_LOG_INFO) return;
    va_list ap;
    va_start(ap, fmt);
    vlog("", fmt, ap);
    va_end(ap);
}

void olmo_log_debug(const char *fmt, ...) {
    if (olmo_log_level < OLMO_LOG_DEBUG) return;
    va_list ap;
    va_start(ap, fmt);
    vlog("debug: ", fmt, ap);
    va_end(ap);
}

void olmo_log_warn(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vlog("warning: ", fmt, ap);
    va_end(ap);
}

double olmo_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
