/* redis_cmd.h - building binary-safe Redis commands argument by argument */
#ifndef CHURNWATCH_REDIS_CMD_H
#define CHURNWATCH_REDIS_CMD_H

#include <hiredis/hiredis.h>
#include <stddef.h>

/*
 * One command's arguments, copied into a growing buffer. Zero-initialise, add
 * arguments, cw_rcmd_append() it to a context's output buffer, cw_rcmd_reset() to reuse,
 * cw_rcmd_free() at the end. Adders return 0, or -1 when out of memory (the command is
 * then unusable until reset).
 */
struct cw_rcmd {
    char *buf;
    size_t len, cap;
    size_t *off, *lens;
    size_t n, capn;
    int oom;
    char *wire; /* the encoded command, reused by cw_rcmd_append */
    size_t wire_cap;
};

void cw_rcmd_reset(struct cw_rcmd *c);
void cw_rcmd_free(struct cw_rcmd *c);
int cw_rcmd_add(struct cw_rcmd *c, const void *data, size_t len);
int cw_rcmd_adds(struct cw_rcmd *c, const char *s);
int cw_rcmd_addf(struct cw_rcmd *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cw_rcmd_addll(struct cw_rcmd *c, long long v);

/* The decimal text of v into out (at least CW_RCMD_LL_MAX bytes, not NUL-terminated):
 * its length. What "%lld" prints, without the printf machinery (the hot path formats a
 * number per field it writes). */
#define CW_RCMD_LL_MAX 20
size_t cw_rcmd_lltoa(long long v, char *out);

/* The command in the Redis protocol (an array of bulk strings), into c's reusable wire
 * buffer: its length, with *wire pointing at it, or 0 (out of memory). The bytes
 * redisFormatCommandArgv() produces for the same arguments. */
size_t cw_rcmd_encode(struct cw_rcmd *c, const char **wire);

/* "<a>:<b>", as "%lld:%lld" prints it (the hot path's day:slot fields). */
int cw_rcmd_add_pair(struct cw_rcmd *c, long long a, long long b);

/* prefix followed by s, as one argument ("t:login"). */
int cw_rcmd_add_prefixed(struct cw_rcmd *c, const char *prefix, const char *s);

/* The text of argument i (NUL-terminated; binary arguments may contain NULs). */
const char *cw_rcmd_arg(const struct cw_rcmd *c, size_t i);

/* Append the command to ctx's output buffer (cw_rcmd_encode, then
 * redisAppendFormattedCommand: no allocation per command once the buffers have grown).
 * 0 or -1 (OOM). */
int cw_rcmd_append(redisContext *ctx, struct cw_rcmd *c);

#endif /* CHURNWATCH_REDIS_CMD_H */
