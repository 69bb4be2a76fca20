/* html.h - building HTML pages from untrusted text: a growable output buffer, HTML text and
 * attribute escaping (with the terminal's neutralising of controls and bidi characters) and
 * URL query encoding */
#ifndef CHURNWATCH_HTML_H
#define CHURNWATCH_HTML_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Text or a double-quoted attribute value: s first made inert as cw_escape_display makes it
 * for a terminal (controls, bidi formatting characters and invalid UTF-8 become visible
 * \xNN / \uXXXX escapes, '\' doubled), then '&', '<', '>', '"' and '\'' as character
 * references. Writes the encoding to out, NUL-terminated when it fits in size (else out holds
 * "" when size > 0); returns the length of the whole encoding, terminator excluded.
 */
size_t cw_html_escape(char *out, size_t size, const char *s, size_t len);

/* A URL query component: every byte but the unreserved A-Z a-z 0-9 - . _ ~ as %XX
 * (uppercase hex). The output holds no character HTML gives a meaning. Same contract. */
size_t cw_url_encode(char *out, size_t size, const char *s, size_t len);

/* A page under construction. Zero-initialise; on an allocation failure oom is set and
 * nothing more is appended. cw_html_free releases s (not h). */
struct cw_html {
    char *s; /* NUL-terminated (NULL until something was appended) */
    size_t len, cap;
    bool oom;
};

/* Trusted markup, as is (literals of the page, never data). */
void cw_html_raw(struct cw_html *h, const char *markup);
/* Trusted markup from a format; every %s argument must be trusted markup too (pass untrusted
 * text through cw_html_text instead). */
void cw_html_printf(struct cw_html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Untrusted text (or an attribute value), escaped as cw_html_escape; NULL appends "-". */
void cw_html_text(struct cw_html *h, const char *s);
/* Untrusted text as a URL query component (cw_url_encode). */
void cw_html_url(struct cw_html *h, const char *s);
void cw_html_free(struct cw_html *h);

#endif /* CHURNWATCH_HTML_H */
