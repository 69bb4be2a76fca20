/* test_log.c - the logging layer: secrets redacted, repeats rate-limited, both formats */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static char path[64];
static int saved_stderr = -1;

/* Send stderr to a fresh temporary file. */
static void capture(void)
{
    snprintf(path, sizeof path, "/tmp/cw-test-log.XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    fflush(stderr);
    saved_stderr = dup(2);
    cr_assert(dup2(fd, 2) == 2);
    close(fd);
    cw_log_setup(CW_LOG_DEBUG, CW_LOG_LOGFMT);
    cw_log_set_rate_limit(0, 1000);
}

/* Restore stderr and return what was written (caller frees). */
static char *captured(void)
{
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    FILE *f = fopen(path, "r");
    cr_assert(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    unlink(path);
    return strdup(buf);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

Test(log, url_password_is_masked)
{
    capture();
    cw_log_warn("redis error", "target=redis://app:Sup3rS3cret@10.0.0.1:6379/0 error=\"%s\"",
                "refused");
    cw_log_info("two urls", "a=redis://u:p1secret@h/0 b=\"rediss://:p2secret@h2:1\"");
    cw_log_info("no password", "a=redis://user@h:1/0 b=http://h:80/x@y c=mailto:me@x");
    char *out = captured();
    cr_expect(strstr(out, "target=redis://app:***@10.0.0.1:6379/0"), "%s", out);
    cr_expect(strstr(out, "a=redis://u:***@h/0"), "%s", out);
    cr_expect(strstr(out, "rediss://:***@h2:1"), "%s", out);
    cr_expect(!strstr(out, "Sup3rS3cret") && !strstr(out, "p1secret") && !strstr(out, "p2secret"),
              "%s", out);
    cr_expect(strstr(out, "a=redis://user@h:1/0 b=http://h:80/x@y c=mailto:me@x"), "%s", out);
    free(out);
}

Test(log, registered_secrets_are_masked_in_both_formats)
{
    capture();
    cw_log_secret("kafka-Pa55-word");
    cw_log_secret("");   /* ignored */
    cw_log_secret(NULL); /* ignored */
    cw_log_warn("librdkafka", "detail=\"SASL auth failed for password kafka-Pa55-word (%d)\"", 1);
    cw_log_setup(CW_LOG_DEBUG, CW_LOG_JSON);
    cw_log_error("librdkafka", "detail=\"again kafka-Pa55-word\"%s", "");
    cw_log_errno(CW_LOG_ERROR, "open", "file=/x/kafka-Pa55-word%s", "");
    char *out = captured();
    cr_expect(!strstr(out, "kafka-Pa55-word"), "%s", out);
    cr_expect_eq(count(out, "***"), 3, "%s", out);
    cr_expect(strstr(out, "\"detail\":\"again ***\""), "%s", out);
    free(out);
}

Test(log, repeats_are_limited_then_summarised)
{
    capture();
    cw_log_set_rate_limit(5, 300);
    for (int i = 0; i < 50; i++)
        cw_log_warn("kafka consumer error", "i=%d", i);
    cw_log_warn("another message", "x=%d", 1); /* its own budget */
    for (int i = 0; i < 30; i++)
        cw_log_debug("debug is not limited", "d=%d", i);
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 400 * 1000000L}; /* past the interval */
    nanosleep(&ts, NULL);
    cw_log_warn("kafka consumer error", "i=%d", 50);
    char *out = captured();
    cr_expect_eq(count(out, "msg=\"kafka consumer error\""), 6, "%s", out);
    cr_expect(strstr(out, "i=4\n") && !strstr(out, "i=5\n") && strstr(out, "i=50\n"), "%s", out);
    cr_expect_eq(count(out, "msg=\"another message\""), 1, "%s", out);
    cr_expect_eq(count(out, "msg=\"debug is not limited\""), 30, "%s", out);
    cr_expect(strstr(out, "level=warn msg=\"repeated log lines suppressed\" "
                          "what=\"kafka consumer error\" suppressed=45 interval_ms=300\n"),
              "%s", out);
    /* the summary comes before the first line of the new interval */
    cr_expect(strstr(out, "suppressed=45") < strstr(out, "i=50\n"), "%s", out);
    free(out);
}
