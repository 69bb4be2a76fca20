/* test_reject.c - reject code names are stable and complete */
#include <criterion/criterion.h>
#include <string.h>

#include "churnwatch/reject.h"

Test(reject, names_are_stable)
{
    cr_assert_str_eq(cw_reject_name(CW_OK), "ok");
    cr_assert_str_eq(cw_reject_name(CW_REJ_INVALID_JSON), "invalid_json");
    cr_assert_str_eq(cw_reject_name(CW_REJ_MISSING_ACCOUNT_ID), "missing_account_id");
    cr_assert_str_eq(cw_reject_name(CW_REJ_BAD_TIMESTAMP), "bad_timestamp");
    cr_assert_str_eq(cw_reject_name(CW_REJ_TOO_LATE), "too_late");
    cr_assert_str_eq(cw_reject_name(CW_REJ_TOO_LARGE), "too_large");
    cr_assert_str_eq(cw_reject_name(CW_REJ_FUTURE_TIMESTAMP), "future_timestamp");
}

Test(reject, every_code_has_a_distinct_snake_case_name)
{
    for (int i = 0; i < CW_REJ__COUNT; i++) {
        const char *a = cw_reject_name((enum cw_reject)i);
        cr_assert_not_null(a);
        cr_assert_neq(strcmp(a, "unknown"), 0, "code %d has no name", i);
        cr_assert_eq(strspn(a, "abcdefghijklmnopqrstuvwxyz_0123456789"), strlen(a));
        for (int j = 0; j < i; j++)
            cr_assert_neq(strcmp(a, cw_reject_name((enum cw_reject)j)), 0);
    }
    cr_assert_str_eq(cw_reject_name(CW_REJ__COUNT), "unknown");
    cr_assert_str_eq(cw_reject_name((enum cw_reject) - 1), "unknown");
}
