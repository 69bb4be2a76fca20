/* log_line.h - encoding of one log line in logfmt or JSON: every key sanitised, every
 * value escaped, so no value can add a field, a key or a line */
#ifndef CHURNWATCH_LOG_LINE_H
#define CHURNWATCH_LOG_LINE_H

#include <stdbool.h>
#include <stddef.h>

#include "churnwatch/config.h"

#define CW_LOG_LINE_MAX 16384 /* bytes of a line, its newline included */

struct cw_log_line {
    enum cw_log_format format;
    bool truncated; /* a field did not fit and was left out with those after it */
    size_t len;
    char buf[CW_LOG_LINE_MAX];
};

/*
 * Start a line: "ts=<ts> level=<level> msg=\"<msg>\"" in logfmt, {"ts":..,"level":..,
 * "msg":.. in JSON; msg is escaped like any value (always quoted in logfmt).
 */
void cw_log_line_begin(struct cw_log_line *line, enum cw_log_format format, const char *ts,
                       const char *level, const char *msg);

/*
 * Append a field. The key keeps [A-Za-z0-9_.-] (anything else becomes '_', an empty key
 * "_"); the keys ts, level and msg get a leading '_' so they never repeat the line's own.
 * The value (value_len bytes, any content) is escaped: a logfmt value quoted when needed
 * or when quote is set (text_escape.h); in JSON a string, or the bare number when number
 * is set (the caller vouches that value is a valid JSON number). A field that does not
 * fit is left out, with every later one, and the line ends with truncated=true.
 */
void cw_log_line_field(struct cw_log_line *line, const char *key, const char *value,
                       size_t value_len, bool number, bool quote);

/* End the line (with its newline); returns its text, line->len bytes, NUL-terminated. */
const char *cw_log_line_end(struct cw_log_line *line);

#endif /* CHURNWATCH_LOG_LINE_H */
