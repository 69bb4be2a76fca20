/* test_log.c - the logging layer: secrets redacted, repeats rate-limited, both formats,
 * values escaped so that no value forges a field, a key or a line */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
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

static const char *const evil = "evil\" level=error msg=\"pwned";

/* The value of key in one logfmt line (a small parser: bare or quoted values, JSON-style
 * escapes in quotes); how many times key occurs is returned, the last value in val. */
static int logfmt_get(const char *line, const char *key, char *val, size_t size)
{
    int found = 0;
    const char *p = line;
    while (*p && *p != '\n') {
        while (*p == ' ')
            p++;
        const char *k = p;
        while (*p && *p != '=' && *p != ' ' && *p != '\n')
            p++;
        size_t klen = (size_t)(p - k);
        cr_assert_eq(*p, '=', "not key=value at: %s", k);
        p++;
        char v[2048];
        size_t n = 0;
        if (*p == '"') {
            for (p++; *p != '"'; p++) {
                cr_assert(*p && *p != '\n', "unterminated value in: %s", line);
                char c = *p;
                if (c == '\\') {
                    p++;
                    c = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p == 'r' ? '\r' : *p;
                    cr_assert(*p != 'u' && *p != 'x', "the test values need no \\u: %s", line);
                }
                if (n + 1 < sizeof v)
                    v[n++] = c;
            }
            p++;
        } else {
            while (*p && *p != ' ' && *p != '\n') {
                cr_assert(*p != '"' && *p != '\\', "a bare value with a quote: %s", line);
                if (n + 1 < sizeof v)
                    v[n++] = *p;
                p++;
            }
        }
        v[n] = '\0';
        cr_assert(*p == ' ' || *p == '\n' || !*p, "junk after a value in: %s", line);
        if (klen == strlen(key) && !strncmp(k, key, klen)) {
            found++;
            snprintf(val, size, "%s", v);
        }
    }
    return found;
}

Test(log, logfmt_values_cannot_forge_fields)
{
    capture();
    cw_log_info("alert published", "account=%s rule=%s error=\"%s\" n=%d", evil, "a b",
                "line1\nts=x level=error msg=\"injected\"", 5);
    char *out = captured();
    cr_assert_eq(count(out, "\n"), 1, "one line: %s", out);
    char v[2048];
    cr_expect_eq(logfmt_get(out, "level", v, sizeof v), 1, "%s", out);
    cr_expect_str_eq(v, "info");
    cr_expect_eq(logfmt_get(out, "msg", v, sizeof v), 1, "%s", out);
    cr_expect_str_eq(v, "alert published");
    cr_expect_eq(logfmt_get(out, "account", v, sizeof v), 1, "%s", out);
    cr_expect_str_eq(v, evil);
    cr_expect_eq(logfmt_get(out, "rule", v, sizeof v), 1);
    cr_expect_str_eq(v, "a b");
    cr_expect_eq(logfmt_get(out, "error", v, sizeof v), 1);
    cr_expect_str_eq(v, "line1\nts=x level=error msg=\"injected\"");
    cr_expect_eq(logfmt_get(out, "n", v, sizeof v), 1);
    cr_expect_str_eq(v, "5");
    free(out);
}

Test(log, json_lines_have_one_level_and_msg_and_typed_values)
{
    capture();
    cw_log_setup(CW_LOG_DEBUG, CW_LOG_JSON);
    cw_log_info("alert published", "account=%s partition=%d score=%.1f err=\"%s\" id=%s", evil, 3,
                37.5, "a\x01b",
                "abc\xe2\x80\xae"
                "fed");
    errno = ENOENT;
    cw_log_errno(CW_LOG_ERROR, "open failed", "file=%s", evil);
    char *out = captured();
    cr_assert_eq(count(out, "\n"), 2, "%s", out);
    cr_expect(!strstr(out, "\xe2\x80\xae"), "a raw bidi override: %s", out);
    char *second = strchr(out, '\n') + 1;
    second[-1] = '\0';
    json_error_t e;
    json_t *a = json_loads(out, JSON_REJECT_DUPLICATES, &e);
    cr_assert(a, "%s: %s", e.text, out);
    cr_expect_str_eq(json_string_value(json_object_get(a, "level")), "info");
    cr_expect_str_eq(json_string_value(json_object_get(a, "msg")), "alert published");
    cr_expect_str_eq(json_string_value(json_object_get(a, "account")), evil);
    cr_expect(json_is_integer(json_object_get(a, "partition")), "%s", out);
    cr_expect_eq(json_integer_value(json_object_get(a, "partition")), 3);
    cr_expect(json_is_real(json_object_get(a, "score")), "%s", out);
    cr_expect_str_eq(json_string_value(json_object_get(a, "err")), "a\x01b");
    cr_expect_str_eq(json_string_value(json_object_get(a, "id")), "abc\xe2\x80\xae"
                                                                  "fed");
    json_decref(a);
    second[strcspn(second, "\n")] = '\0';
    json_t *b = json_loads(second, JSON_REJECT_DUPLICATES, &e);
    cr_assert(b, "%s: %s", e.text, second);
    cr_expect_str_eq(json_string_value(json_object_get(b, "level")), "error");
    cr_expect_str_eq(json_string_value(json_object_get(b, "file")), evil);
    cr_expect_str_eq(json_string_value(json_object_get(b, "err")), strerror(ENOENT));
    json_decref(b);
    free(out);
}

Test(log, a_number_masked_as_a_secret_is_a_json_string)
{
    capture();
    cw_log_secret("417");
    cw_log_setup(CW_LOG_DEBUG, CW_LOG_JSON);
    cw_log_warn("redis error", "code=%d other=%d", 417, 4170);
    char *out = captured();
    json_error_t e;
    json_t *o = json_loads(out, JSON_REJECT_DUPLICATES, &e);
    cr_assert(o, "%s: %s", e.text, out);
    cr_expect_str_eq(json_string_value(json_object_get(o, "code")), "***");
    cr_expect_str_eq(json_string_value(json_object_get(o, "other")), "***0");
    json_decref(o);
    free(out);
}

Test(log, secrets_are_masked_before_escaping)
{
    capture();
    cw_log_secret("pa\"ss word");
    cw_log_warn("redis error", "target=\"redis://u:x\\y\"z@h:1/0\" detail=%s",
                "auth pa\"ss word failed");
    char *out = captured();
    cr_expect(!strstr(out, "ss word"), "%s", out);
    cr_expect(!strstr(out, "x\\\\y"), "%s", out);
    cr_expect(strstr(out, "detail=\"auth *** failed\""), "%s", out);
    free(out);
}
