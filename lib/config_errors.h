/* config_errors.h - private to the config loader: the collector of located errors
 * (config_errors.c) through which every stage of lib/config_*.c reports; it depends on
 * no other config module */
#ifndef CHURNWATCH_CONFIG_ERRORS_H
#define CHURNWATCH_CONFIG_ERRORS_H

#include <stddef.h>

/* Collects "file:line:col: message" errors; cw_errs_finish renders them into the
 * caller's buffer, '\n'-separated, ordered by position (errors without a position last),
 * duplicates dropped, truncated to the buffer's size. */
struct cw_err_item {
    unsigned line, col;
    char *text;
};

struct cw_errs {
    const char *file;
    char *buf;
    size_t size;
    unsigned count; /* errors reported so far */
    struct cw_err_item *items;
    size_t n, cap;
};

void cw_errs_init(struct cw_errs *e, const char *file, char *buf, size_t size);
/* Add one located error; line 0 means "no location" (the file name alone). */
void cw_errs_at(struct cw_errs *e, unsigned line, unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Add one error that has no place in the file (environment overrides). */
void cw_errs_plain(struct cw_errs *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Render the errors into the buffer and release them. */
void cw_errs_finish(struct cw_errs *e);

#endif /* CHURNWATCH_CONFIG_ERRORS_H */
