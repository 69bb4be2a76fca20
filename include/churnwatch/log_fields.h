/* log_fields.h - a log line's fields: the "key=%s key2=%d" format of the logging layer
 * split into keys and separately formatted values, each value typed string or number */
#ifndef CHURNWATCH_LOG_FIELDS_H
#define CHURNWATCH_LOG_FIELDS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define CW_LOG_FIELDS_MAX 32   /* fields per line; more are dropped (truncated is set) */
#define CW_LOG_FIELDS_BUF 4096 /* bytes of keys and values per line; beyond, values are cut */

struct cw_log_field {
    const char *key;   /* NUL-terminated, in the fields' buffer */
    const char *value; /* NUL-terminated, in the fields' buffer; may hold any byte but NUL */
    size_t value_len;
    bool number; /* the value is one numeric conversion that is a valid JSON number */
    bool quoted; /* the format put the value in double quotes: always quote it in logfmt */
};

struct cw_log_fields {
    struct cw_log_field f[CW_LOG_FIELDS_MAX];
    size_t n;
    bool truncated; /* a value was cut or a field dropped for want of room */
    size_t used;
    char buf[CW_LOG_FIELDS_BUF];
};

/*
 * Split fmt and its arguments into fields. fmt is printf-style text of space-separated
 * "key=value" tokens: the key is literal ([A-Za-z0-9_.-]), the value is literal text and
 * conversions (%s, %d, %" PRId64 ", %.*s, %zu, %g, ...; %n is not supported and prints
 * nothing), optionally in double quotes (a literal \" inside them is a quote). Each value is
 * formatted on its own, so whatever an argument holds (spaces, '=', quotes, newlines) stays
 * inside that value: escaping is the encoder's job (log_line.h). A token that is not
 * "key=..." becomes the value of the key "text" when it formats to something non-empty.
 * A value that is exactly one integer or floating conversion (d i u f F e E g G, any
 * length modifier) and formats to a valid JSON number is marked number.
 */
void cw_log_fields_vformat(struct cw_log_fields *out, const char *fmt, va_list ap);
void cw_log_fields_format(struct cw_log_fields *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Append a string field (its value copied); sets truncated when there is no room. */
void cw_log_fields_add(struct cw_log_fields *out, const char *key, const char *value);

#endif /* CHURNWATCH_LOG_FIELDS_H */
