/* embedded_addr.c - the file through which `churnwatchd --embedded-kafka` tells the CLI
 * where its in-process broker listens */
#include "embedded_addr.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LINE_MAX_BYTES 1024

int cw_embedded_addr_path(char *buf, size_t size)
{
    const char *dir = getenv("XDG_RUNTIME_DIR");
    int n = dir && *dir ? snprintf(buf, size, "%s/churnwatch-embedded-kafka", dir)
                        : snprintf(buf, size, "/tmp/churnwatch-embedded-kafka.%lu",
                                   (unsigned long)geteuid());
    return n > 0 && (size_t)n < size ? 0 : -1;
}

int cw_embedded_addr_publish(const char *bootstrap, char *err, size_t errsize)
{
    char path[PATH_MAX], tmp[PATH_MAX + 32];
    if (cw_embedded_addr_path(path, sizeof path) != 0) {
        snprintf(err, errsize, "the path of the embedded kafka address file is too long");
        return -1;
    }
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    /* O_EXCL: never write through a file someone else left at this name (in /tmp); a
     * leftover of ours (a pid reused after a crash) is removed once */
    int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    int fd = open(tmp, flags, 0600);
    if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
        fd = open(tmp, flags, 0600);
    if (fd < 0) {
        snprintf(err, errsize, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    char line[LINE_MAX_BYTES];
    int n = snprintf(line, sizeof line, "pid=%ld bootstrap=%s\n", (long)getpid(), bootstrap);
    bool ok = n > 0 && (size_t)n < sizeof line && write(fd, line, (size_t)n) == n;
    int saved = errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, errsize, "%s: %s", path, strerror(ok ? errno : saved));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Read the file's line into line (NUL-terminated). 0, or -1 when unusable. */
static int read_line(char *line, size_t size)
{
    char path[PATH_MAX];
    if (cw_embedded_addr_path(path, sizeof path) != 0)
        return -1;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    ssize_t n = -1;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
        (st.st_mode & (S_IWGRP | S_IWOTH)) == 0)
        n = read(fd, line, size - 1);
    close(fd);
    if (n <= 0)
        return -1;
    line[n] = '\0';
    return 0;
}

/* Parse "pid=PID bootstrap=LIST". 0 or -1. */
static int parse_line(const char *line, long *pid, char *out, size_t size)
{
    char *end;
    if (strncmp(line, "pid=", 4) != 0)
        return -1;
    errno = 0;
    long p = strtol(line + 4, &end, 10);
    if (errno || end == line + 4 || p <= 0 || strncmp(end, " bootstrap=", 11) != 0)
        return -1;
    const char *b = end + 11;
    size_t len = strcspn(b, "\r\n");
    if (len == 0 || len >= size)
        return -1;
    memcpy(out, b, len);
    out[len] = '\0';
    *pid = p;
    return 0;
}

void cw_embedded_addr_withdraw(void)
{
    char line[LINE_MAX_BYTES], addr[LINE_MAX_BYTES], path[PATH_MAX];
    long pid;
    if (read_line(line, sizeof line) == 0 && parse_line(line, &pid, addr, sizeof addr) == 0 &&
        pid == (long)getpid() && cw_embedded_addr_path(path, sizeof path) == 0)
        unlink(path);
}

int cw_embedded_addr_find(char *out, size_t size, long *pid)
{
    char line[LINE_MAX_BYTES];
    if (read_line(line, sizeof line) != 0 || parse_line(line, pid, out, size) != 0)
        return 0;
    if (*pid > INT_MAX || (kill((pid_t)*pid, 0) != 0 && errno != EPERM))
        return 0; /* its daemon is gone: a stale file */
    return 1;
}
