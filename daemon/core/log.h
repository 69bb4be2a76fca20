/* log.h - the one logging layer: levels, logfmt or JSON lines on stderr, repeats
 * rate-limited, secrets redacted, every value escaped */
#ifndef CHURNWATCH_LOG_H
#define CHURNWATCH_LOG_H

#include <stdarg.h>

#include "churnwatch/config.h"

/* Configure the process-wide logger (level and format); safe to call again on reload. */
void cw_log_setup(enum cw_log_level level, enum cw_log_format format);

/*
 * Never write value: from now on every occurrence in a line's fields becomes "***"
 * (passwords, SASL and TLS secrets: register them when the config is read). The password
 * of any "scheme://user:password@" is always masked. Thread-safe; values are copied.
 */
void cw_log_secret(const char *value);

/* Replace every occurrence of needle in s (NUL-terminated, capacity size) with "***",
 * truncating when the result would not fit; an empty needle changes nothing. */
void cw_redact(char *s, size_t size, const char *needle);

/* Change the rate limit of non-debug lines (default 20 lines per 10 s per msg and level;
 * burst 0: unlimited) and forget the counts so far. */
void cw_log_set_rate_limit(unsigned burst, int interval_ms);

/* True when messages of this level are written; lets callers skip costly arguments. */
int cw_log_enabled(enum cw_log_level level);

/*
 * Write one line: msg is a short, constant description; fmt holds logfmt-style fields
 * ("key=%s key2=%d", log_fields.h) whose values are formatted one by one, redacted, then
 * escaped (log_line.h): whatever an argument holds (quotes, '=', newlines, control or
 * bidi characters, invalid UTF-8) stays inside its own value, in logfmt and in JSON. A
 * value in quotes in fmt (err=\"%s\") is always quoted in logfmt; a value that is a single
 * numeric conversion is a JSON number. The level is checked before anything is formatted.
 * Thread-safe. Non-debug lines are rate-limited per msg and level: at most 20 per 10 s,
 * then one "repeated log lines suppressed" line with what=<msg> suppressed=<n>.
 */
void cw_log(enum cw_log_level level, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* As cw_log, appending the field err=<strerror(errno)>. */
void cw_log_errno(enum cw_log_level level, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A line with a message and no fields. */
#define cw_log_msg(level, msg) cw_log(level, msg, "%s", "")

#define cw_log_error(msg, ...) cw_log(CW_LOG_ERROR, msg, __VA_ARGS__)
#define cw_log_warn(msg, ...)  cw_log(CW_LOG_WARN, msg, __VA_ARGS__)
#define cw_log_info(msg, ...)  cw_log(CW_LOG_INFO, msg, __VA_ARGS__)
#define cw_log_debug(msg, ...)                                                                     \
    do {                                                                                           \
        if (cw_log_enabled(CW_LOG_DEBUG))                                                          \
            cw_log(CW_LOG_DEBUG, msg, __VA_ARGS__);                                                \
    } while (0)

#endif /* CHURNWATCH_LOG_H */
