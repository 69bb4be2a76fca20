/* embedded_addr.h - where `churnwatchd --embedded-kafka` publishes its broker's bootstrap
 * address, so that `churnwatch produce` on the same machine finds it without being told */
#ifndef CHURNWATCH_EMBEDDED_ADDR_H
#define CHURNWATCH_EMBEDDED_ADDR_H

#include <stddef.h>

/*
 * The file: $XDG_RUNTIME_DIR/churnwatch-embedded-kafka, or
 * /tmp/churnwatch-embedded-kafka.UID without XDG_RUNTIME_DIR. One line,
 * "pid=PID bootstrap=HOST:PORT[,...]". 0, or -1 when the path does not fit in size.
 */
int cw_embedded_addr_path(char *buf, size_t size);

/* Write the file for this process (mode 0600, replaced atomically). 0, or -1 with err. */
int cw_embedded_addr_publish(const char *bootstrap, char *err, size_t errsize);

/* Remove the file if it is this process's. */
void cw_embedded_addr_withdraw(void);

/*
 * Read the file: 1 with the bootstrap list in out and the daemon's pid in *pid when it
 * exists, belongs to this user, is writable by nobody else and its daemon is alive; 0
 * otherwise (no embedded broker to use: none running, a stale file, someone else's).
 */
int cw_embedded_addr_find(char *out, size_t size, long *pid);

#endif /* CHURNWATCH_EMBEDDED_ADDR_H */
