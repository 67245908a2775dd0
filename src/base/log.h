/* log.h — messages to stderr and a monotonic clock. stdout belongs to the command's output (ids, text). */
#ifndef OLMO_BASE_LOG_H
#define OLMO_BASE_LOG_H

enum olmo_log_level { OLMO_LOG_QUIET = 0, OLMO_LOG_INFO = 1, OLMO_LOG_DEBUG = 2 };

extern int olmo_log_level;   /* default OLMO_LOG_INFO; OLMO_LOG env var or -v flags change it */

void olmo_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void olmo_log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void olmo_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

double olmo_now(void);   /* seconds, monotonic */

#endif
