/* test_proc_stat.c - the process_* values from /proc/self/stat and /proc/stat text */
#include <criterion/criterion.h>
#include <string.h>

#include "churnwatch/proc_stat.h"

/* A real line (cat's), its fields: utime 250, stime 50, starttime 3169823, vsize 3133440,
 * rss 394 pages. */
#define LINE                                                                                       \
    "25939 (cat) R 25927 25927 11507 0 -1 4194304 99 0 0 0 250 50 0 0 20 0 1 0 3169823 "           \
    "3133440 394 18446744073709551615 94769717522432 94769717542313 0 0 0 0 0 0 0 0 0 17 1 0 "     \
    "0 0 0 0\n"

static char err[256];

Test(proc_stat, a_real_line_gives_cpu_memory_and_start_time)
{
    struct cw_proc_sample s;
    cr_assert_eq(cw_proc_stat_parse(LINE, 100, 4096, 1796326097, &s, err, sizeof err), 0, "%s",
                 err);
    cr_expect_float_eq(s.cpu_seconds, 3.0, 1e-9);
    cr_expect_eq(s.rss_bytes, 394u * 4096u);
    cr_expect_eq(s.vsize_bytes, 3133440u);
    cr_expect_float_eq(s.start_time_s, 1796326097.0 + 31698.23, 1e-6);
}

Test(proc_stat, a_command_name_with_spaces_and_parentheses)
{
    struct cw_proc_sample s;
    const char *line = "7 (a) b (c)) S 1 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 100 8192 2 0\n";
    cr_assert_eq(cw_proc_stat_parse(line, 10, 4096, 1000, &s, err, sizeof err), 0, "%s", err);
    cr_expect_float_eq(s.cpu_seconds, 1.0, 1e-9);
    cr_expect_float_eq(s.start_time_s, 1010.0, 1e-9);
    cr_expect_eq(s.vsize_bytes, 8192u);
    cr_expect_eq(s.rss_bytes, 8192u);
}

Test(proc_stat, a_short_or_broken_line_is_an_error)
{
    struct cw_proc_sample s;
    cr_expect_eq(cw_proc_stat_parse("1 (x) S 1 2 3\n", 100, 4096, 0, &s, err, sizeof err), -1);
    cr_expect(strstr(err, "fields") != NULL, "%s", err);
    cr_expect_eq(cw_proc_stat_parse("no command here", 100, 4096, 0, &s, err, sizeof err), -1);
    cr_expect_eq(cw_proc_stat_parse("1 (x) S 1 1 1 0 -1 0 0 0 0 0 x 3 0 0 20 0 1 0 100 8192 2\n",
                                    100, 4096, 0, &s, err, sizeof err),
                 -1);
    cr_expect(strstr(err, "field 14") != NULL, "%s", err);
    cr_expect_eq(cw_proc_stat_parse(LINE, 0, 4096, 0, &s, err, sizeof err), -1);
}

Test(proc_stat, btime_is_found_among_the_lines)
{
    uint64_t b = 0;
    const char *text = "cpu  1 2 3\nintr 5 6\nbtime 1796326097\nprocesses 9\n";
    cr_assert_eq(cw_proc_btime_parse(text, &b, err, sizeof err), 0, "%s", err);
    cr_expect_eq(b, 1796326097u);
    cr_expect_eq(cw_proc_btime_parse("cpu 1\nprocesses 9\n", &b, err, sizeof err), -1);
    cr_expect_eq(cw_proc_btime_parse("btime x\n", &b, err, sizeof err), -1);
}
