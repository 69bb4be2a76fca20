/* preset.c - where the native, Segment and CloudEvents presets find each event field */
#include <stddef.h>
#include <string.h>

#include "churnwatch/event.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* native: {"event_id","account_id","user_id","type","ts","props","traits"} */
static const char *const native_account[] = {"/account_id"};
static const char *const native_user[] = {"/user_id"};
static const char *const native_type[] = {"/type"};
static const char *const native_ts[] = {"/ts"};
static const char *const native_id[] = {"/event_id"};
static const char *const native_traits[] = {"/traits"};

/* Segment / RudderStack track and group calls. A group call has no "event": its
 * "type" ("group") is the event type, mapped to the traits event by alias. */
static const char *const segment_account[] = {"/context/groupId", "/groupId",
                                              "/properties/account_id"};
static const char *const segment_user[] = {"/userId"};
static const char *const segment_type[] = {"/event", "/type"};
static const char *const segment_ts[] = {"/timestamp", "/originalTimestamp"};
static const char *const segment_id[] = {"/messageId"};
static const char *const segment_traits[] = {"/traits"};

/* CloudEvents 1.0, structured JSON mode. */
static const char *const ce_account[] = {"/subject"};
static const char *const ce_user[] = {"/data/user_id"};
static const char *const ce_type[] = {"/type"};
static const char *const ce_ts[] = {"/time"};
static const char *const ce_id[] = {"/id"};
static const char *const ce_traits[] = {"/data/traits"};

/* By enum cw_preset; the names are in enum_names.c. */
struct preset_table {
    const char *const *ptrs[CW_FIELD__COUNT];
    size_t n[CW_FIELD__COUNT];
};

#define PRESET(a, u, t, ts, id, tr)                                                                \
    {                                                                                              \
        {a, u, t, ts, id, tr},                                                                     \
        {                                                                                          \
            N(a), N(u), N(t), N(ts), N(id), N(tr)                                                  \
        }                                                                                          \
    }

static const struct preset_table presets[] = {
    [CW_PRESET_NATIVE] =
        PRESET(native_account, native_user, native_type, native_ts, native_id, native_traits),
    [CW_PRESET_SEGMENT] =
        PRESET(segment_account, segment_user, segment_type, segment_ts, segment_id, segment_traits),
    [CW_PRESET_CLOUDEVENTS] = PRESET(ce_account, ce_user, ce_type, ce_ts, ce_id, ce_traits),
};

static const char *const field_names[CW_FIELD__COUNT] = {
    "account_id", "user_id", "type", "ts", "event_id", "traits",
};

const char *cw_field_name(enum cw_field field)
{
    return (unsigned)field < CW_FIELD__COUNT ? field_names[field] : "unknown";
}

size_t cw_preset_pointers(enum cw_preset preset, enum cw_field field, const char *const **out)
{
    if ((unsigned)preset >= N(presets) || (unsigned)field >= CW_FIELD__COUNT) {
        *out = NULL;
        return 0;
    }
    *out = presets[preset].ptrs[field];
    return presets[preset].n[field];
}
