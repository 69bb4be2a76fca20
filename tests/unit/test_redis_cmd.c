/* test_redis_cmd.c - command buffers and their protocol encoding (daemon/core/redis_cmd.c),
 * checked against hiredis' own formatter */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_cmd.h"

/* c's encoding equals redisFormatCommandArgv's for the same arguments. */
static void expect_hiredis_bytes(struct cw_rcmd *c)
{
    const char **argv = malloc(c->n * sizeof *argv);
    cr_assert_not_null(argv);
    for (size_t i = 0; i < c->n; i++)
        argv[i] = cw_rcmd_arg(c, i);
    char *want = NULL;
    int want_len = redisFormatCommandArgv(&want, (int)c->n, argv, c->lens);
    cr_assert_gt(want_len, 0);
    const char *got = NULL;
    size_t got_len = cw_rcmd_encode(c, &got);
    cr_assert_eq(got_len, (size_t)want_len);
    cr_assert_eq(memcmp(got, want, got_len), 0, "encoding differs from hiredis'");
    free(want);
    free(argv);
}

Test(redis_cmd, lltoa_prints_what_printf_prints)
{
    const long long values[] = {
        0,   1,         -1,        9,         10,        -10,       99,
        100, 123456789, -98765432, 1LL << 40, LLONG_MAX, LLONG_MIN, LLONG_MIN + 1};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char want[32], got[CW_RCMD_LL_MAX + 1];
        int n = snprintf(want, sizeof want, "%lld", values[i]);
        size_t len = cw_rcmd_lltoa(values[i], got);
        got[len] = '\0';
        cr_assert_eq(len, (size_t)n);
        cr_assert_str_eq(got, want);
    }
    unsigned long long x = 88172645463325252ull; /* xorshift: a spread of magnitudes */
    for (int i = 0; i < 10000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        long long v = (long long)(x >> (x % 64u));
        if (x & 1u)
            v = -v;
        char want[32], got[CW_RCMD_LL_MAX + 1];
        snprintf(want, sizeof want, "%lld", v);
        got[cw_rcmd_lltoa(v, got)] = '\0';
        cr_assert_str_eq(got, want);
    }
}

Test(redis_cmd, pair_and_prefixed_arguments)
{
    struct cw_rcmd c = {0};
    cr_assert_eq(cw_rcmd_add_pair(&c, 20400, 7), 0);
    cr_assert_eq(cw_rcmd_add_pair(&c, -3, LLONG_MIN), 0);
    cr_assert_eq(cw_rcmd_add_prefixed(&c, "t:", "login"), 0);
    cr_assert_eq(cw_rcmd_add_prefixed(&c, "", ""), 0);
    char want[64];
    snprintf(want, sizeof want, "%lld:%lld", -3LL, LLONG_MIN);
    cr_assert_eq(c.n, 4);
    cr_assert_str_eq(cw_rcmd_arg(&c, 0), "20400:7");
    cr_assert_str_eq(cw_rcmd_arg(&c, 1), want);
    cr_assert_eq(c.lens[1], strlen(want));
    cr_assert_str_eq(cw_rcmd_arg(&c, 2), "t:login");
    cr_assert_eq(c.lens[2], 7);
    cr_assert_eq(c.lens[3], 0);
    expect_hiredis_bytes(&c);
    cw_rcmd_free(&c);
}

Test(redis_cmd, encoding_equals_hiredis)
{
    struct cw_rcmd c = {0};
    cw_rcmd_adds(&c, "HSET");
    cw_rcmd_adds(&c, "cw:{acct-1}:m");
    cw_rcmd_add(&c, "", 0);          /* an empty argument */
    cw_rcmd_add(&c, "a\0b\r\nc", 6); /* binary: NUL and CRLF inside */
    cw_rcmd_addll(&c, -1234567890123LL);
    cw_rcmd_addf(&c, "%s:%d", "day", 20400);
    expect_hiredis_bytes(&c);

    /* Reused after a reset, and grown past its first buffers. */
    cw_rcmd_reset(&c);
    cw_rcmd_adds(&c, "HSET");
    cw_rcmd_adds(&c, "k");
    char big[5000];
    memset(big, 'x', sizeof big);
    for (int i = 0; i < 300; i++) {
        cw_rcmd_addll(&c, i);
        cw_rcmd_add(&c, big, (size_t)(i * 17) % sizeof big);
    }
    expect_hiredis_bytes(&c);

    cw_rcmd_reset(&c);
    cw_rcmd_adds(&c, "PING");
    expect_hiredis_bytes(&c);
    cw_rcmd_free(&c);
}

Test(redis_cmd, nothing_to_encode)
{
    struct cw_rcmd c = {0};
    const char *wire = NULL;
    cr_assert_eq(cw_rcmd_encode(&c, &wire), 0, "no arguments: no command");
    cw_rcmd_adds(&c, "PING");
    c.oom = 1; /* an adder ran out of memory: the command is unusable */
    cr_assert_eq(cw_rcmd_encode(&c, &wire), 0);
    cw_rcmd_free(&c);
}

Test(redis_cmd, append_puts_the_encoding_in_the_output_buffer)
{
    redisContext *ctx = redisConnectUnix("/nonexistent/churnwatch-test.sock");
    cr_assert_not_null(ctx);
    /* Not connected: appending only buffers, which is all that is checked here. */
    struct cw_rcmd c = {0};
    cw_rcmd_adds(&c, "GET");
    cw_rcmd_adds(&c, "k");
    cr_assert_eq(cw_rcmd_append(ctx, &c), 0);
    cw_rcmd_reset(&c);
    cw_rcmd_adds(&c, "DEL");
    cw_rcmd_adds(&c, "k");
    cr_assert_eq(cw_rcmd_append(ctx, &c), 0);
    const char *want = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n";
    cr_assert_str_eq(ctx->obuf, want);
    cw_rcmd_free(&c);
    redisFree(ctx);
}
