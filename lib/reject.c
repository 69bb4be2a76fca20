/* reject.c - stable names of the reject codes */
#include "churnwatch/reject.h"

static const char *const reject_names[CW_REJ__COUNT] = {
    [CW_OK] = "ok",
    [CW_REJ_TOO_LARGE] = "too_large",
    [CW_REJ_INVALID_UTF8] = "invalid_utf8",
    [CW_REJ_INVALID_JSON] = "invalid_json",
    [CW_REJ_NOT_OBJECT] = "not_object",
    [CW_REJ_TOO_DEEP] = "too_deep",
    [CW_REJ_DUPLICATE_FIELD] = "duplicate_field",
    [CW_REJ_MISSING_ACCOUNT_ID] = "missing_account_id",
    [CW_REJ_MISSING_TYPE] = "missing_type",
    [CW_REJ_BAD_ID] = "bad_id",
    [CW_REJ_WRONG_FIELD_TYPE] = "wrong_field_type",
    [CW_REJ_BAD_TIMESTAMP] = "bad_timestamp",
    [CW_REJ_BAD_TRAITS] = "bad_traits",
    [CW_REJ_UNKNOWN_TYPE] = "unknown_type",
    [CW_REJ_TOO_LATE] = "too_late",
    [CW_REJ_FUTURE_TIMESTAMP] = "future_timestamp",
    [CW_REJ_BAD_VALUE] = "bad_value",
};

const char *cw_reject_name(enum cw_reject code)
{
    if ((unsigned)code >= CW_REJ__COUNT)
        return "unknown";
    return reject_names[code];
}
