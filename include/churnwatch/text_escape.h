/* text_escape.h - escaping of untrusted text for logfmt values, JSON strings, CSV fields and
 * terminal display */
#ifndef CHURNWATCH_TEXT_ESCAPE_H
#define CHURNWATCH_TEXT_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The characters escaped in every form, besides the ASCII controls (U+0000..U+001F, DEL):
 * the C1 controls U+0080..U+009F, the line and paragraph separators U+2028/U+2029, and the
 * bidirectional formatting characters U+061C, U+200E, U+200F, U+202A..U+202E and
 * U+2066..U+2069 (they reorder what a terminal shows after them). s is valid UTF-8 or not:
 * a byte that does not start a valid RFC 3629 sequence is escaped on its own.
 *
 * Each function writes the encoding of s[0..len) to out and NUL-terminates it when it fits
 * in size (terminator included); otherwise out holds "" (when size > 0). Either way the
 * length of the whole encoding, terminator excluded, is returned: nothing is ever cut in
 * the middle of an escape.
 */

/*
 * A logfmt value. Bare when it is not empty and holds only bytes that need no escape and
 * none of space, '=', '"' or '\'; otherwise (or with quote) in double quotes, where '"',
 * '\', \n, \r and \t are escaped as in JSON, other controls and the characters above as
 * \u00XX / \uXXXX, and an invalid UTF-8 byte as \xNN.
 */
size_t cw_escape_logfmt(char *out, size_t size, const char *s, size_t len, bool quote);

/* A JSON string, quotes included: '"', '\' and controls escaped (\n \r \t \b \f, else
 * \u00XX), DEL and the characters above as \uXXXX, an invalid UTF-8 byte as \ufffd (the
 * output is always valid UTF-8 JSON). */
size_t cw_escape_json(char *out, size_t size, const char *s, size_t len);

/* Text for a terminal (CLI tables): '\' doubled, \n \r \t as such, other controls and an
 * invalid UTF-8 byte as \xNN, the characters above as \uXXXX; everything else as is. */
size_t cw_escape_display(char *out, size_t size, const char *s, size_t len);

/*
 * A CSV field (RFC 4180): the bytes as they are, in double quotes (inner '"' doubled) when
 * they hold ',', '"', CR or LF. With spreadsheet, a field starting with '=', '+', '-', '@',
 * TAB or CR gets a leading "'" inside quotes, so that a spreadsheet application shows it
 * as text instead of running it as a formula (the field then no longer reads back as the
 * exact value: for people, not for loaders).
 */
size_t cw_escape_csv(char *out, size_t size, const char *s, size_t len, bool spreadsheet);

/* True when cw_escape_display would change s (it holds something to escape). */
bool cw_display_needs_escape(const char *s, size_t len);

#endif /* CHURNWATCH_TEXT_ESCAPE_H */
