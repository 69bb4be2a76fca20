/* test_decode.c - the event decoder: must-decode / must-reject tables for all presets */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churnwatch/event.h"

#define MSG_TS INT64_C(1700000000000) /* the Kafka message timestamp the tests pass */
#define T_2026 INT64_C(1795305600000) /* 2026-11-22T00:00:00Z */

/* ---- a hand-built configuration (the YAML loader is tested elsewhere) ------------- */

enum {
    T_LOGIN = 0,
    T_APP_CREATED,
    T_RECORD_WRITTEN,
    T_ACCOUNT_UPDATED,
    T_USER_REGISTERED,
    T_NPS,
    T_WEBINAR
};

static char *login_aliases[] = {"Signed In", "com.example.login"};
static char *app_aliases[] = {"Application Created"};
static char *traits_aliases[] = {"group", "com.example.account.updated"};
static char *registered_aliases[] = {"Signed Up", "Account Added User"};
static char *nps_pointers[] = {"/properties/score", "/score"};
static char *webinar_pointers[] = {"/minutes"};

static struct cw_event_type event_types[] = {
    [T_LOGIN] = {"login", {login_aliases, 2}, 1, false},
    [T_APP_CREATED] = {"app_created", {app_aliases, 1}, 2, false},
    [T_RECORD_WRITTEN] = {"record_written", {NULL, 0}, 3, false},
    [T_ACCOUNT_UPDATED] = {"account_updated", {traits_aliases, 2}, -1, true},
    [T_USER_REGISTERED] = {"user_registered", {registered_aliases, 2}, 4, false},
    [T_NPS] = {"nps_submitted", {NULL, 0}, 5, false, {nps_pointers, 2}},
    [T_WEBINAR] = {"webinar_watched", {NULL, 0}, 6, false, {webinar_pointers, 1}},
};

static struct cw_config cfg;
static cw_decoder *dec;

static struct cw_strlist *field_list(struct cw_config *c, enum cw_field f)
{
    struct cw_strlist *lists[CW_FIELD__COUNT] = {
        &c->input.account_id, &c->input.user_id,  &c->input.type,
        &c->input.ts,         &c->input.event_id, &c->input.traits,
    };
    return lists[f];
}

/* Fill cfg's input section from a preset with the loader's defaults. */
static void config_for(enum cw_preset preset)
{
    memset(&cfg, 0, sizeof cfg);
    cfg.input.preset = preset;
    for (int f = 0; f < CW_FIELD__COUNT; f++) {
        const char *const *ptrs;
        size_t n = cw_preset_pointers(preset, (enum cw_field)f, &ptrs);
        *field_list(&cfg, (enum cw_field)f) = (struct cw_strlist){(char **)ptrs, n};
    }
    cfg.input.unknown_types = CW_UNKNOWN_IGNORE;
    cfg.input.max_message_bytes = 65536;
    cfg.input.max_id_length = 128;
    cfg.input.max_depth = 32;
    cfg.event_types = event_types;
    cfg.n_event_types = sizeof event_types / sizeof event_types[0];
}

static void start(enum cw_preset preset)
{
    char err[256] = "";
    config_for(preset);
    dec = cw_decoder_new(&cfg, err, sizeof err);
    cr_assert_not_null(dec, "cw_decoder_new: %s", err);
}

static void restart(void)
{
    char err[256] = "";
    cw_decoder_free(dec);
    dec = cw_decoder_new(&cfg, err, sizeof err);
    cr_assert_not_null(dec, "cw_decoder_new: %s", err);
}

static void stop(void)
{
    cw_decoder_free(dec);
    dec = NULL;
}

static void native(void)
{
    start(CW_PRESET_NATIVE);
}

static void segment(void)
{
    start(CW_PRESET_SEGMENT);
}

static void cloudevents(void)
{
    start(CW_PRESET_CLOUDEVENTS);
}

/* ---- table machinery -------------------------------------------------------------- */

/* A string literal with its exact length (it may hold NUL bytes). */
#define LIT(s) s, sizeof(s) - 1

struct ok_case {
    const char *name;
    const char *json;
    size_t len;
    const char *account_id, *type, *user_id, *event_id;
    int type_index;
    int64_t ts_ms;
    bool ts_from_message;
};

struct bad_case {
    const char *name;
    const char *json;
    size_t len;
    enum cw_reject code;
};

static void run_ok(const struct ok_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct cw_event ev;
        char reason[256] = "";
        memset(&ev, 0x5A, sizeof ev);
        enum cw_reject rc = cw_decode(dec, c[i].json, c[i].len, MSG_TS, &ev, reason, sizeof reason);
        cr_expect_eq(rc, CW_OK, "[%s] got %s: %s", c[i].name, cw_reject_name(rc), reason);
        if (rc != CW_OK)
            continue;
        cr_expect_str_eq(ev.account_id, c[i].account_id, "[%s] account_id", c[i].name);
        cr_expect_str_eq(ev.type, c[i].type, "[%s] type", c[i].name);
        cr_expect_str_eq(ev.user_id, c[i].user_id, "[%s] user_id", c[i].name);
        cr_expect_str_eq(ev.event_id, c[i].event_id, "[%s] event_id", c[i].name);
        cr_expect_eq(ev.type_index, c[i].type_index, "[%s] type_index %d", c[i].name,
                     ev.type_index);
        cr_expect_eq(ev.metric, c[i].type_index >= 0 ? event_types[c[i].type_index].metric : -1,
                     "[%s] metric", c[i].name);
        cr_expect_eq(ev.ts_ms, c[i].ts_ms, "[%s] ts %lld, want %lld", c[i].name,
                     (long long)ev.ts_ms, (long long)c[i].ts_ms);
        cr_expect_eq(ev.ts_from_message, c[i].ts_from_message, "[%s] ts_from_message", c[i].name);
    }
}

static void run_bad(const struct bad_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct cw_event ev;
        char reason[256] = "";
        enum cw_reject rc = cw_decode(dec, c[i].json, c[i].len, MSG_TS, &ev, reason, sizeof reason);
        cr_expect_eq(rc, c[i].code, "[%s] got %s (%s), want %s", c[i].name, cw_reject_name(rc),
                     reason, cw_reject_name(c[i].code));
        cr_expect_gt(strlen(reason), 10, "[%s] reason too thin: \"%s\"", c[i].name, reason);
    }
}

#define RUN_OK(t)  run_ok(t, sizeof(t) / sizeof((t)[0]))
#define RUN_BAD(t) run_bad(t, sizeof(t) / sizeof((t)[0]))

/* Decode one message expecting code; returns the reason. */
static enum cw_reject decode1(const char *json, size_t len, struct cw_event *ev, char *reason,
                              size_t size)
{
    return cw_decode(dec, json, len, MSG_TS, ev, reason, size);
}

/* ---- native --------------------------------------------------------------------------- */

#define REF                                                                                        \
    "{\"event_id\":\"e-1\",\"account_id\":\"acme\",\"user_id\":\"u-7\",\"type\":\"login\","        \
    "\"ts\":\"2026-11-22T09:00:00+09:00\",\"props\":{\"app\":\"crm\"}}"

static const struct ok_case native_ok[] = {
    {"reference event", LIT(REF), "acme", "login", "u-7", "e-1", T_LOGIN, T_2026, false},
    {"epoch millis equal the RFC 3339 instant",
     LIT("{\"account_id\":\"acme\",\"type\":\"login\",\"ts\":1795305600000}"), "acme", "login", "",
     "", T_LOGIN, T_2026, false},
    {"ts 0", LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":0}"), "a", "login", "", "",
     T_LOGIN, 0, false},
    {"largest epoch millis",
     LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":253402300799999}"), "a", "login", "", "",
     T_LOGIN, INT64_C(253402300799999), false},
    {"no ts: message timestamp", LIT("{\"account_id\":\"a\",\"type\":\"login\"}"), "a", "login", "",
     "", T_LOGIN, MSG_TS, true},
    {"null ts: message timestamp", LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":null}"),
     "a", "login", "", "", T_LOGIN, MSG_TS, true},
    {"+05:45 offset",
     LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":\"2026-11-22T05:45:00+05:45\"}"), "a",
     "login", "", "", T_LOGIN, T_2026, false},
    {"+14:00 offset",
     LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":\"2026-11-22T14:00:00+14:00\"}"), "a",
     "login", "", "", T_LOGIN, T_2026, false},
    {"-00:00 offset",
     LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":\"2026-11-22T00:00:00-00:00\"}"), "a",
     "login", "", "", T_LOGIN, T_2026, false},
    {"lower-case t and z",
     LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":\"2026-11-22t00:00:00z\"}"), "a", "login",
     "", "", T_LOGIN, T_2026, false},
    {"many fraction digits",
     LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":\"2026-11-22T00:00:00.0009999999Z\"}"),
     "a", "login", "", "", T_LOGIN, T_2026, false},
    {"leap day", LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":\"2024-02-29T12:00:00Z\"}"),
     "a", "login", "", "", T_LOGIN, INT64_C(1709208000000), false},
    {"alias maps to its type",
     LIT("{\"account_id\":\"a\",\"type\":\"Signed In\",\"ts\":1795305600000}"), "a", "Signed In",
     "", "", T_LOGIN, T_2026, false},
    {"second alias", LIT("{\"account_id\":\"a\",\"type\":\"Account Added User\"}"), "a",
     "Account Added User", "", "", T_USER_REGISTERED, MSG_TS, true},
    {"type without aliases", LIT("{\"account_id\":\"a\",\"type\":\"record_written\"}"), "a",
     "record_written", "", "", T_RECORD_WRITTEN, MSG_TS, true},
    {"unknown type is ignored (index -1)", LIT("{\"account_id\":\"a\",\"type\":\"Page Viewed\"}"),
     "a", "Page Viewed", "", "", -1, MSG_TS, true},
    {"type names are case-sensitive", LIT("{\"account_id\":\"a\",\"type\":\"LOGIN\"}"), "a",
     "LOGIN", "", "", -1, MSG_TS, true},
    {"fields in any order, nested noise",
     LIT("{\"props\":{\"deep\":[[[{\"account_id\":\"x\"}]]],\"n\":1e400,\"big\":"
         "99999999999999999999999,\"t\":true,\"z\":null},\"ts\":1795305600000,\"type\":\"login\","
         "\"account_id\":\"acme\"}"),
     "acme", "login", "", "", T_LOGIN, T_2026, false},
    {"whitespace everywhere", LIT(" \t\r\n{ \"account_id\" : \"a\" ,\n\"type\"\t:\"login\" } \n"),
     "a", "login", "", "", T_LOGIN, MSG_TS, true},
    {"empty and null optional ids",
     LIT("{\"account_id\":\"a\",\"type\":\"login\",\"user_id\":\"\",\"event_id\":null}"), "a",
     "login", "", "", T_LOGIN, MSG_TS, true},
    {"duplicate keys outside extracted fields are fine",
     LIT("{\"account_id\":\"a\",\"type\":\"login\",\"props\":1,\"props\":2,\"x\":{\"k\":1,\"k\":2}"
         "}"),
     "a", "login", "", "", T_LOGIN, MSG_TS, true},
    {"escaped key matches", LIT("{\"acc\\u006funt_id\":\"a\",\"t\\u0079pe\":\"login\"}"), "a",
     "login", "", "", T_LOGIN, MSG_TS, true},
    {"escapes in values",
     LIT("{\"account_id\":\"a\\/b\\\"c\\\\d\",\"type\":\"login\",\"user_id\":\"\\u00e9\"}"),
     "a/b\"c\\d", "login", "\xc3\xa9", "", T_LOGIN, MSG_TS, true},
    {"surrogate pair escape",
     LIT("{\"account_id\":\"\\ud83d\\ude00\",\"type\":\"login\",\"x\":\"\\uD83D\\uDE00\"}"),
     "\xf0\x9f\x98\x80", "login", "", "", T_LOGIN, MSG_TS, true},
    {"raw UTF-8 in ids",
     LIT("{\"account_id\":\"\xe6\x97\xa5\xe6\x9c\xac\",\"type\":\"login\",\"user_id\":\"\xf0\x9f"
         "\x98\x80\"}"),
     "\xe6\x97\xa5\xe6\x9c\xac", "login", "\xf0\x9f\x98\x80", "", T_LOGIN, MSG_TS, true},
    {"escaped backslash before u is not a \\u escape",
     LIT("{\"account_id\":\"\\\\ud800\",\"type\":\"login\"}"), "\\ud800", "login", "", "", T_LOGIN,
     MSG_TS, true},
    {"escaped quotes and backslashes before an escape",
     LIT("{\"account_id\":\"\\\"\\\\\\u0041\",\"type\":\"login\"}"), "\"\\A", "login", "", "",
     T_LOGIN, MSG_TS, true},
    {"\\u0000 outside extracted fields is fine",
     LIT("{\"account_id\":\"a\",\"type\":\"login\",\"props\":{\"x\":\"\\u0000\"}}"), "a", "login",
     "", "", T_LOGIN, MSG_TS, true},
    {"traits on a non-traits type are not judged",
     LIT("{\"account_id\":\"a\",\"type\":\"login\",\"traits\":\"nonsense\"}"), "a", "login", "", "",
     T_LOGIN, MSG_TS, true},
    {"nesting exactly at max_depth (32)",
     LIT("{\"account_id\":\"a\",\"type\":\"login\",\"p\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]"
         "]]]]]]]]]]]]]]]]]]]]}"),
     "a", "login", "", "", T_LOGIN, MSG_TS, true},
};

Test(decode_native, must_decode, .init = native, .fini = stop)
{
    RUN_OK(native_ok);
}

#define LONG129                                                                                    \
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
    "a"                                                                                            \
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct bad_case native_bad[] = {
    /* not JSON at all */
    {"empty message", LIT(""), CW_REJ_INVALID_JSON},
    {"whitespace only", LIT(" \n\t "), CW_REJ_INVALID_JSON},
    {"truncated object", LIT("{\"account_id\":\"a\",\"type\":\"login\""), CW_REJ_INVALID_JSON},
    {"truncated string", LIT("{\"account_id\":\"a"), CW_REJ_INVALID_JSON},
    {"lone brace", LIT("{"), CW_REJ_INVALID_JSON},
    {"missing value", LIT("{\"account_id\":}"), CW_REJ_INVALID_JSON},
    {"trailing comma", LIT("{\"account_id\":\"a\",\"type\":\"login\",}"), CW_REJ_INVALID_JSON},
    {"trailing garbage", LIT("{\"account_id\":\"a\",\"type\":\"login\"} x"), CW_REJ_INVALID_JSON},
    {"two objects", LIT("{\"account_id\":\"a\",\"type\":\"login\"}{}"), CW_REJ_INVALID_JSON},
    {"two objects, whitespace", LIT("{\"account_id\":\"a\",\"type\":\"login\"} {}"),
     CW_REJ_INVALID_JSON},
    {"object then number", LIT("{\"account_id\":\"a\",\"type\":\"login\"}\n1"),
     CW_REJ_INVALID_JSON},
    {"single quotes", LIT("{'account_id':'a'}"), CW_REJ_INVALID_JSON},
    {"unquoted key", LIT("{account_id:\"a\"}"), CW_REJ_INVALID_JSON},
    {"comment", LIT("/* c */{\"account_id\":\"a\",\"type\":\"login\"}"), CW_REJ_INVALID_JSON},
    {"NaN", LIT("{\"account_id\":\"a\",\"type\":\"login\",\"x\":NaN}"), CW_REJ_INVALID_JSON},
    {"leading zero", LIT("{\"account_id\":\"a\",\"type\":\"login\",\"x\":01}"),
     CW_REJ_INVALID_JSON},
    {"bare dot", LIT("{\"account_id\":\"a\",\"type\":\"login\",\"x\":1.}"), CW_REJ_INVALID_JSON},
    {"bad literal", LIT("{\"account_id\":\"a\",\"type\":\"login\",\"x\":tru}"),
     CW_REJ_INVALID_JSON},
    {"bad escape", LIT("{\"account_id\":\"a\\x\",\"type\":\"login\"}"), CW_REJ_INVALID_JSON},
    {"short \\u escape", LIT("{\"account_id\":\"a\\u12\",\"type\":\"login\"}"),
     CW_REJ_INVALID_JSON},
    {"raw NUL outside strings", LIT("{\"account_id\":\"a\",\"type\":\"login\"}\0"),
     CW_REJ_INVALID_JSON},
    {"raw NUL inside a string", LIT("{\"account_id\":\"a\0b\",\"type\":\"login\"}"),
     CW_REJ_INVALID_JSON},
    {"raw newline inside a string", LIT("{\"account_id\":\"a\nb\",\"type\":\"login\"}"),
     CW_REJ_INVALID_JSON},
    {"NUL only", LIT("\0"), CW_REJ_INVALID_JSON},
    /* valid JSON, not an object */
    {"top-level array", LIT("[{\"account_id\":\"a\",\"type\":\"login\"}]"), CW_REJ_NOT_OBJECT},
    {"top-level empty array", LIT("[]"), CW_REJ_NOT_OBJECT},
    {"top-level string", LIT("\"acme\""), CW_REJ_NOT_OBJECT},
    {"top-level integer", LIT("42"), CW_REJ_NOT_OBJECT},
    {"top-level float", LIT("-1.5e3"), CW_REJ_NOT_OBJECT},
    {"top-level true", LIT("true"), CW_REJ_NOT_OBJECT},
    {"top-level null", LIT("null"), CW_REJ_NOT_OBJECT},
    /* invalid UTF-8 (checked strictly, anywhere in the message) */
    {"0xFF byte", LIT("{\"account_id\":\"a\xff\",\"type\":\"login\"}"), CW_REJ_INVALID_UTF8},
    {"0xFE byte", LIT("{\"account_id\":\"a\",\"type\":\"login\",\"x\":\"\xfe\"}"),
     CW_REJ_INVALID_UTF8},
    {"overlong '/' (C0 AF)", LIT("{\"account_id\":\"\xc0\xaf\",\"type\":\"login\"}"),
     CW_REJ_INVALID_UTF8},
    {"overlong NUL (C0 80)", LIT("{\"account_id\":\"a\xc0\x80\",\"type\":\"login\"}"),
     CW_REJ_INVALID_UTF8},
    {"overlong 3-byte (E0 80 AF)", LIT("{\"account_id\":\"\xe0\x80\xaf\",\"type\":\"login\"}"),
     CW_REJ_INVALID_UTF8},
    {"overlong 4-byte (F0 80 80 AF)",
     LIT("{\"account_id\":\"\xf0\x80\x80\xaf\",\"type\":\"login\"}"), CW_REJ_INVALID_UTF8},
    {"encoded high surrogate (ED A0 80)",
     LIT("{\"account_id\":\"\xed\xa0\x80\",\"type\":\"login\"}"), CW_REJ_INVALID_UTF8},
    {"encoded low surrogate (ED BF BF)",
     LIT("{\"account_id\":\"a\",\"type\":\"login\",\"x\":\"\xed\xbf\xbf\"}"), CW_REJ_INVALID_UTF8},
    {"above U+10FFFF (F4 90 80 80)",
     LIT("{\"account_id\":\"\xf4\x90\x80\x80\",\"type\":\"login\"}"), CW_REJ_INVALID_UTF8},
    {"F5 lead", LIT("{\"account_id\":\"\xf5\x80\x80\x80\",\"type\":\"login\"}"),
     CW_REJ_INVALID_UTF8},
    {"stray continuation", LIT("{\"account_id\":\"\x80\",\"type\":\"login\"}"),
     CW_REJ_INVALID_UTF8},
    {"truncated 2-byte before quote", LIT("{\"account_id\":\"\xc3\",\"type\":\"login\"}"),
     CW_REJ_INVALID_UTF8},
    {"truncated 3-byte before quote", LIT("{\"account_id\":\"\xe2\x82\",\"type\":\"login\"}"),
     CW_REJ_INVALID_UTF8},
    {"truncated 4-byte at end of buffer", LIT("{\"account_id\":\"\xf0\x9f\x98"),
     CW_REJ_INVALID_UTF8},
    {"invalid byte in a key", LIT("{\"acc\xffount_id\":\"a\",\"type\":\"login\"}"),
     CW_REJ_INVALID_UTF8},
    {"invalid byte after the object", LIT("{\"account_id\":\"a\",\"type\":\"login\"}\xff"),
     CW_REJ_INVALID_UTF8},
    {"Latin-1 text", LIT("{\"account_id\":\"caf\xe9\",\"type\":\"login\"}"), CW_REJ_INVALID_UTF8},
    {"unpaired high surrogate escape", LIT("{\"account_id\":\"\\ud800\",\"type\":\"login\"}"),
     CW_REJ_INVALID_UTF8},
    {"unpaired high surrogate then text", LIT("{\"account_id\":\"\\ud800ab\",\"type\":\"login\"}"),
     CW_REJ_INVALID_UTF8},
    {"unpaired low surrogate escape", LIT("{\"account_id\":\"a\\udc00\",\"type\":\"login\"}"),
     CW_REJ_INVALID_UTF8},
    {"high surrogate then non-surrogate escape",
     LIT("{\"account_id\":\"\\ud800\\u0041\",\"type\":\"login\"}"), CW_REJ_INVALID_UTF8},
    {"two high surrogates", LIT("{\"account_id\":\"\\ud800\\ud800\",\"type\":\"login\"}"),
     CW_REJ_INVALID_UTF8},
    {"reversed surrogate pair", LIT("{\"account_id\":\"\\ude00\\ud83d\",\"type\":\"login\"}"),
     CW_REJ_INVALID_UTF8},
    {"unpaired surrogate in an ignored value",
     LIT("{\"account_id\":\"a\",\"type\":\"login\",\"props\":{\"x\":\"\\\\\\ud800\"}}"),
     CW_REJ_INVALID_UTF8},
    {"unpaired surrogate in a key", LIT("{\"account_id\":\"a\",\"type\":\"login\",\"\\udfff\":1}"),
     CW_REJ_INVALID_UTF8},
    /* depth */
    {"nesting one deeper than max_depth",
     LIT("{\"account_id\":\"a\",\"type\":\"login\",\"p\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]"
         "]]]]]]]]]]]]]]]]]]]]]]}"),
     CW_REJ_TOO_DEEP},
    {"deep objects",
     LIT("{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{"
         "\"a\":{"
         "\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{"
         "\"a\":{"
         "\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}"),
     CW_REJ_TOO_DEEP},
    {"deep and truncated", LIT("{\"p\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["),
     CW_REJ_TOO_DEEP},
    /* duplicates of extracted fields */
    {"account_id twice", LIT("{\"account_id\":\"a\",\"type\":\"login\",\"account_id\":\"b\"}"),
     CW_REJ_DUPLICATE_FIELD},
    {"account_id twice, same value",
     LIT("{\"account_id\":\"a\",\"account_id\":\"a\",\"type\":\"login\"}"), CW_REJ_DUPLICATE_FIELD},
    {"account_id null then set",
     LIT("{\"account_id\":null,\"type\":\"login\",\"account_id\":\"b\"}"), CW_REJ_DUPLICATE_FIELD},
    {"type twice via an escaped key",
     LIT("{\"account_id\":\"a\",\"type\":\"login\",\"typ\\u0065\":\"app_created\"}"),
     CW_REJ_DUPLICATE_FIELD},
    {"ts twice", LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":1,\"ts\":2}"),
     CW_REJ_DUPLICATE_FIELD},
    {"user_id twice",
     LIT("{\"account_id\":\"a\",\"type\":\"login\",\"user_id\":\"u\",\"user_id\":\"v\"}"),
     CW_REJ_DUPLICATE_FIELD},
    {"event_id twice",
     LIT("{\"account_id\":\"a\",\"type\":\"login\",\"event_id\":\"e\","
         "\"event_id\":{}}"),
     CW_REJ_DUPLICATE_FIELD},
    {"trait twice",
     LIT("{\"account_id\":\"a\",\"type\":\"account_updated\",\"traits\":{\"seats\":1,\"seats\":"
         "500}}"),
     CW_REJ_DUPLICATE_FIELD},
    {"traits twice", LIT("{\"account_id\":\"a\",\"type\":\"login\",\"traits\":{},\"traits\":{}}"),
     CW_REJ_DUPLICATE_FIELD},
    /* missing required fields */
    {"no account_id", LIT("{\"type\":\"login\"}"), CW_REJ_MISSING_ACCOUNT_ID},
    {"null account_id", LIT("{\"account_id\":null,\"type\":\"login\"}"), CW_REJ_MISSING_ACCOUNT_ID},
    {"empty account_id", LIT("{\"account_id\":\"\",\"type\":\"login\"}"),
     CW_REJ_MISSING_ACCOUNT_ID},
    {"account_id only nested", LIT("{\"props\":{\"account_id\":\"a\"},\"type\":\"login\"}"),
     CW_REJ_MISSING_ACCOUNT_ID},
    {"empty object", LIT("{}"), CW_REJ_MISSING_ACCOUNT_ID},
    {"no type", LIT("{\"account_id\":\"a\"}"), CW_REJ_MISSING_TYPE},
    {"null type", LIT("{\"account_id\":\"a\",\"type\":null}"), CW_REJ_MISSING_TYPE},
    {"empty type", LIT("{\"account_id\":\"a\",\"type\":\"\"}"), CW_REJ_MISSING_TYPE},
    /* bad ids */
    {"account_id over max_id_length", LIT("{\"account_id\":\"" LONG129 "\",\"type\":\"login\"}"),
     CW_REJ_BAD_ID},
    {"type over max_id_length", LIT("{\"account_id\":\"a\",\"type\":\"" LONG129 "\"}"),
     CW_REJ_BAD_ID},
    {"user_id over max_id_length",
     LIT("{\"account_id\":\"a\",\"type\":\"login\",\"user_id\":\"" LONG129 "\"}"), CW_REJ_BAD_ID},
    {"\\u0000 in account_id", LIT("{\"account_id\":\"a\\u0000b\",\"type\":\"login\"}"),
     CW_REJ_BAD_ID},
    {"\\u0000 alone", LIT("{\"account_id\":\"\\u0000\",\"type\":\"login\"}"), CW_REJ_BAD_ID},
    {"newline escape in account_id", LIT("{\"account_id\":\"a\\nb\",\"type\":\"login\"}"),
     CW_REJ_BAD_ID},
    {"tab escape in type", LIT("{\"account_id\":\"a\",\"type\":\"log\\tin\"}"), CW_REJ_BAD_ID},
    {"DEL in account_id", LIT("{\"account_id\":\"a\x7f\",\"type\":\"login\"}"), CW_REJ_BAD_ID},
    {"escaped DEL", LIT("{\"account_id\":\"a\\u007f\",\"type\":\"login\"}"), CW_REJ_BAD_ID},
    {"C1 control U+0085", LIT("{\"account_id\":\"a\xc2\x85\",\"type\":\"login\"}"), CW_REJ_BAD_ID},
    {"escape in event_id",
     LIT("{\"account_id\":\"a\",\"type\":\"login\",\"event_id\":\"\\u001b[31m\"}"), CW_REJ_BAD_ID},
    {"control char in user_id",
     LIT("{\"account_id\":\"a\",\"type\":\"login\",\"user_id\":\"u\\r\"}"), CW_REJ_BAD_ID},
    /* wrong JSON types */
    {"numeric account_id", LIT("{\"account_id\":42,\"type\":\"login\"}"), CW_REJ_WRONG_FIELD_TYPE},
    {"object account_id", LIT("{\"account_id\":{\"id\":\"a\"},\"type\":\"login\"}"),
     CW_REJ_WRONG_FIELD_TYPE},
    {"array account_id", LIT("{\"account_id\":[\"a\"],\"type\":\"login\"}"),
     CW_REJ_WRONG_FIELD_TYPE},
    {"boolean account_id", LIT("{\"account_id\":true,\"type\":\"login\"}"),
     CW_REJ_WRONG_FIELD_TYPE},
    {"numeric type", LIT("{\"account_id\":\"a\",\"type\":7}"), CW_REJ_WRONG_FIELD_TYPE},
    {"numeric user_id", LIT("{\"account_id\":\"a\",\"type\":\"login\",\"user_id\":7}"),
     CW_REJ_WRONG_FIELD_TYPE},
    {"object event_id", LIT("{\"account_id\":\"a\",\"type\":\"login\",\"event_id\":{}}"),
     CW_REJ_WRONG_FIELD_TYPE},
    /* timestamps */
    {"ts empty string", LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":\"\"}"),
     CW_REJ_BAD_TIMESTAMP},
    {"ts Feb 29 of a common year",
     LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":\"2026-02-29T00:00:00Z\"}"),
     CW_REJ_BAD_TIMESTAMP},
    {"ts month 13",
     LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":\"2026-13-01T00:00:00Z\"}"),
     CW_REJ_BAD_TIMESTAMP},
    {"ts hour 24", LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":\"2026-11-22T24:00:00Z\"}"),
     CW_REJ_BAD_TIMESTAMP},
    {"ts without offset",
     LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":\"2026-11-22T09:00:00\"}"),
     CW_REJ_BAD_TIMESTAMP},
    {"ts offset +24:00",
     LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":\"2026-11-22T09:00:00+24:00\"}"),
     CW_REJ_BAD_TIMESTAMP},
    {"ts date only", LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":\"2026-11-22\"}"),
     CW_REJ_BAD_TIMESTAMP},
    {"ts before 1970",
     LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":\"1969-07-20T20:17:00Z\"}"),
     CW_REJ_BAD_TIMESTAMP},
    {"ts millis as a string",
     LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":\"1700000000000\"}"),
     CW_REJ_BAD_TIMESTAMP},
    {"ts 1e400", LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":1e400}"),
     CW_REJ_BAD_TIMESTAMP},
    {"ts huge integer",
     LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":99999999999999999999999}"),
     CW_REJ_BAD_TIMESTAMP},
    {"ts past 9999", LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":253402300800000}"),
     CW_REJ_BAD_TIMESTAMP},
    {"ts negative", LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":-1}"),
     CW_REJ_BAD_TIMESTAMP},
    {"ts negative zero", LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":-0}"),
     CW_REJ_BAD_TIMESTAMP},
    {"ts with a fraction", LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":1795305600000.5}"),
     CW_REJ_BAD_TIMESTAMP},
    {"ts with .0", LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":1795305600000.0}"),
     CW_REJ_BAD_TIMESTAMP},
    {"ts with exponent", LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":1.7953056e12}"),
     CW_REJ_BAD_TIMESTAMP},
    {"ts boolean", LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":true}"),
     CW_REJ_BAD_TIMESTAMP},
    {"ts object", LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":{\"s\":1}}"),
     CW_REJ_BAD_TIMESTAMP},
    {"ts array", LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":[1795305600000]}"),
     CW_REJ_BAD_TIMESTAMP},
    {"ts over 255 bytes",
     LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":\"2026-11-22T00:00:00." LONG129 LONG129
         "Z\"}"),
     CW_REJ_BAD_TIMESTAMP},
    /* traits on a traits event type */
    {"traits a string", LIT("{\"account_id\":\"a\",\"type\":\"account_updated\",\"traits\":\"x\"}"),
     CW_REJ_BAD_TRAITS},
    {"traits an array", LIT("{\"account_id\":\"a\",\"type\":\"account_updated\",\"traits\":[]}"),
     CW_REJ_BAD_TRAITS},
    {"seats negative",
     LIT("{\"account_id\":\"a\",\"type\":\"account_updated\",\"traits\":{\"seats\":-1}}"),
     CW_REJ_BAD_TRAITS},
    {"seats fractional",
     LIT("{\"account_id\":\"a\",\"type\":\"account_updated\",\"traits\":{\"seats\":1.5}}"),
     CW_REJ_BAD_TRAITS},
    {"seats too large",
     LIT("{\"account_id\":\"a\",\"type\":\"account_updated\",\"traits\":{\"seats\":1000000001}}"),
     CW_REJ_BAD_TRAITS},
    {"seats huge",
     LIT("{\"account_id\":\"a\",\"type\":\"account_updated\",\"traits\":{\"seats\":1e400}}"),
     CW_REJ_BAD_TRAITS},
    {"seats word",
     LIT("{\"account_id\":\"a\",\"type\":\"account_updated\",\"traits\":{\"seats\":\"fifty\"}}"),
     CW_REJ_BAD_TRAITS},
    {"seats empty string",
     LIT("{\"account_id\":\"a\",\"type\":\"account_updated\",\"traits\":{\"seats\":\"\"}}"),
     CW_REJ_BAD_TRAITS},
    {"seats boolean",
     LIT("{\"account_id\":\"a\",\"type\":\"account_updated\",\"traits\":{\"seats\":true}}"),
     CW_REJ_BAD_TRAITS},
    {"created_at not a time",
     LIT("{\"account_id\":\"a\",\"type\":\"account_updated\",\"traits\":{\"created_at\":"
         "\"yesterday\"}}"),
     CW_REJ_BAD_TRAITS},
    {"renewal_at negative",
     LIT("{\"account_id\":\"a\",\"type\":\"account_updated\",\"traits\":{\"renewal_at\":-5}}"),
     CW_REJ_BAD_TRAITS},
    {"created_at in year 9999",
     LIT("{\"account_id\":\"a\",\"type\":\"account_updated\",\"traits\":{\"created_at\":"
         "\"9999-12-31T00:00:00Z\"}}"),
     CW_REJ_BAD_TRAITS},
    {"renewal_at in year 9999 as epoch ms",
     LIT("{\"account_id\":\"a\",\"type\":\"account_updated\",\"traits\":{\"renewal_at\":"
         "253402214400000}}"),
     CW_REJ_BAD_TRAITS},
    {"renewal_at at 2200-01-01, the first instant refused",
     LIT("{\"account_id\":\"a\",\"type\":\"account_updated\",\"traits\":{\"renewal_at\":"
         "\"2200-01-01T00:00:00Z\"}}"),
     CW_REJ_BAD_TRAITS},
    {"created_at in epoch microseconds",
     LIT("{\"account_id\":\"a\",\"type\":\"account_updated\",\"traits\":{\"created_at\":"
         "1767607200000000}}"),
     CW_REJ_BAD_TRAITS},
    {"created_at before 1970",
     LIT("{\"account_id\":\"a\",\"type\":\"account_updated\",\"traits\":{\"created_at\":"
         "\"1969-12-31T23:59:59Z\"}}"),
     CW_REJ_BAD_TRAITS},
    {"plan a number",
     LIT("{\"account_id\":\"a\",\"type\":\"account_updated\",\"traits\":{\"plan\":3}}"),
     CW_REJ_BAD_TRAITS},
    {"segment over 127 bytes",
     LIT("{\"account_id\":\"a\",\"type\":\"account_updated\",\"traits\":{\"segment\":\"" LONG129
         "\"}}"),
     CW_REJ_BAD_TRAITS},
    {"owner with a control char",
     LIT("{\"account_id\":\"a\",\"type\":\"account_updated\",\"traits\":{\"owner\":\"x\\u0007\"}}"),
     CW_REJ_BAD_TRAITS},
};

Test(decode_native, must_reject, .init = native, .fini = stop)
{
    RUN_BAD(native_bad);
}

Test(decode_native, reference_event_all_fields, .init = native, .fini = stop)
{
    struct cw_event ev;
    char reason[128];
    cr_assert_eq(decode1(LIT(REF), &ev, reason, sizeof reason), CW_OK, "%s", reason);
    cr_expect_str_eq(ev.account_id, "acme");
    cr_expect_str_eq(ev.user_id, "u-7");
    cr_expect_str_eq(ev.event_id, "e-1");
    cr_expect_str_eq(ev.type, "login");
    cr_expect_eq(ev.type_index, T_LOGIN);
    cr_expect_eq(ev.metric, 1);
    cr_expect_eq(ev.ts_ms, T_2026);
    cr_expect_not(ev.ts_from_message);
    cr_expect_not(ev.has_traits);
    cr_expect_not(ev.traits.has_seats);
    cr_expect_str_eq(ev.traits.plan, "");
}

Test(decode_native, traits_event, .init = native, .fini = stop)
{
    static const char msg[] =
        "{\"type\":\"account_updated\",\"account_id\":\"acme\",\"traits\":{\"seats\":50,"
        "\"plan\":\"standard\",\"segment\":\"M\",\"created_at\":\"2026-11-22T09:00:00+09:00\","
        "\"renewal_at\":1795305600000,\"owner\":\"csm@example.com\",\"industry\":{\"x\":[1]},"
        "\"employees\":\"many\"}}";
    struct cw_event ev;
    char reason[128];
    cr_assert_eq(decode1(LIT(msg), &ev, reason, sizeof reason), CW_OK, "%s", reason);
    cr_expect_eq(ev.type_index, T_ACCOUNT_UPDATED);
    cr_expect_eq(ev.metric, -1);
    cr_expect(ev.has_traits);
    cr_expect(ev.traits.has_seats);
    cr_expect_eq(ev.traits.seats, 50);
    cr_expect(ev.traits.has_created_at);
    cr_expect_eq(ev.traits.created_at_ms, T_2026);
    cr_expect(ev.traits.has_renewal_at);
    cr_expect_eq(ev.traits.renewal_at_ms, T_2026);
    cr_expect_str_eq(ev.traits.plan, "standard");
    cr_expect_str_eq(ev.traits.segment, "M");
    cr_expect_str_eq(ev.traits.owner, "csm@example.com");
}

Test(decode_native, parent_id_trait, .init = native, .fini = stop)
{
    struct cw_event ev;
    char reason[256];
    cr_assert_eq(decode1(LIT("{\"type\":\"account_updated\",\"account_id\":\"acme-jp\","
                             "\"traits\":{\"parent_id\":\"acme\",\"seats\":3}}"),
                         &ev, reason, sizeof reason),
                 CW_OK, "%s", reason);
    cr_expect_str_eq(ev.traits.parent_id, "acme");
    cr_expect_not(ev.traits.parent_detach);
    cr_expect(cw_traits_carry_parent(&ev.traits));
    cr_expect_eq(ev.traits.seats, 3);
    /* Empty: not carried. */
    cr_assert_eq(decode1(LIT("{\"type\":\"group\",\"account_id\":\"a\",\"traits\":{"
                             "\"parent_id\":\"\"}}"),
                         &ev, reason, sizeof reason),
                 CW_OK, "%s", reason);
    cr_expect_str_eq(ev.traits.parent_id, "");
    cr_expect_not(cw_traits_carry_parent(&ev.traits));
    /* null: a detach, carried (docs/hierarchies.md "Detaching"). */
    cr_assert_eq(decode1(LIT("{\"type\":\"group\",\"account_id\":\"a\",\"traits\":{"
                             "\"parent_id\":null,\"seats\":4}}"),
                         &ev, reason, sizeof reason),
                 CW_OK, "%s", reason);
    cr_expect_str_eq(ev.traits.parent_id, "");
    cr_expect(ev.traits.parent_detach);
    cr_expect(cw_traits_carry_parent(&ev.traits));
    cr_expect_eq(ev.traits.seats, 4);
    /* The next event starts clean: absent is not a detach. */
    cr_assert_eq(decode1(LIT("{\"type\":\"group\",\"account_id\":\"a\",\"traits\":{"
                             "\"seats\":4}}"),
                         &ev, reason, sizeof reason),
                 CW_OK, "%s", reason);
    cr_expect_not(cw_traits_carry_parent(&ev.traits));
    /* A null outside the traits object that wins is not one. */
    cr_assert_eq(decode1(LIT("{\"type\":\"group\",\"account_id\":\"a\",\"parent_id\":null,"
                             "\"traits\":{\"seats\":4}}"),
                         &ev, reason, sizeof reason),
                 CW_OK, "%s", reason);
    cr_expect_not(cw_traits_carry_parent(&ev.traits));

    /* Its own parent. */
    cr_assert_eq(decode1(LIT("{\"type\":\"account_updated\",\"account_id\":\"acme\","
                             "\"traits\":{\"parent_id\":\"acme\"}}"),
                         &ev, reason, sizeof reason),
                 CW_REJ_BAD_TRAITS);
    cr_expect_str_eq(reason, "parent_id at /traits/parent_id is the account itself");
    /* The account id's rules: a string, at most max_id_length (128 here), no control. */
    cr_assert_eq(decode1(LIT("{\"type\":\"group\",\"account_id\":\"a\",\"traits\":{"
                             "\"parent_id\":7}}"),
                         &ev, reason, sizeof reason),
                 CW_REJ_BAD_TRAITS);
    cr_expect_str_eq(reason, "parent_id at /traits/parent_id is a number, expected a string");
    cr_assert_eq(decode1(LIT("{\"type\":\"group\",\"account_id\":\"a\",\"traits\":{"
                             "\"parent_id\":\"" LONG129 "\"}}"),
                         &ev, reason, sizeof reason),
                 CW_REJ_BAD_TRAITS);
    cr_expect_str_eq(reason, "parent_id at /traits/parent_id is 129 bytes, longer than "
                             "input.max_id_length 128");
    cr_assert_eq(decode1(LIT("{\"type\":\"group\",\"account_id\":\"a\",\"traits\":{"
                             "\"parent_id\":\"p\\u0007\"}}"),
                         &ev, reason, sizeof reason),
                 CW_REJ_BAD_TRAITS);
    cr_expect_str_eq(reason, "parent_id at /traits/parent_id contains a control character");
    /* 128 bytes, the longest id here, is kept whole (longer than the other string traits). */
    static const char longest[] =
        "{\"type\":\"group\",\"account_id\":\"a\",\"traits\":{\"parent_id\":\"" LONG129 "\"}}";
    char buf[sizeof longest];
    memcpy(buf, longest, sizeof longest);
    memmove(strstr(buf, "a\"}}"), "\"}}", 4);
    cr_assert_eq(decode1(buf, strlen(buf), &ev, reason, sizeof reason), CW_OK, "%s", reason);
    cr_expect_eq(strlen(ev.traits.parent_id), 128);
}

Test(decode_native, trait_times_at_the_bounds, .init = native, .fini = stop)
{
    static const char msg[] = "{\"type\":\"account_updated\",\"account_id\":\"acme\",\"traits\":{"
                              "\"created_at\":0,\"renewal_at\":\"2199-12-31T23:59:59.999Z\"}}";
    struct cw_event ev;
    char reason[128];
    cr_assert_eq(decode1(LIT(msg), &ev, reason, sizeof reason), CW_OK, "%s", reason);
    cr_expect_eq(ev.traits.created_at_ms, 0);
    cr_expect_eq(ev.traits.renewal_at_ms, INT64_C(7258118399999));
    static const char late[] = "{\"type\":\"account_updated\",\"account_id\":\"acme\",\"traits\":{"
                               "\"created_at\":\"9999-12-31T23:59:59Z\"}}";
    cr_assert_eq(decode1(LIT(late), &ev, reason, sizeof reason), CW_REJ_BAD_TRAITS);
    cr_expect(strstr(reason, "created_at") && strstr(reason, "2200-01-01"), "%s", reason);
}

Test(decode_native, partial_null_and_string_traits, .init = native, .fini = stop)
{
    static const char msg[] = "{\"type\":\"account_updated\",\"account_id\":\"acme\",\"traits\":{"
                              "\"seats\":\"120\",\"plan\":null,\"created_at\":null,"
                              "\"owner\":\"\"}}";
    struct cw_event ev;
    char reason[128];
    cr_assert_eq(decode1(LIT(msg), &ev, reason, sizeof reason), CW_OK, "%s", reason);
    cr_expect(ev.has_traits);
    cr_expect(ev.traits.has_seats);
    cr_expect_eq(ev.traits.seats, 120);
    cr_expect_not(ev.traits.has_created_at);
    cr_expect_not(ev.traits.has_renewal_at);
    cr_expect_str_eq(ev.traits.plan, "");
    cr_expect_str_eq(ev.traits.segment, "");
    cr_expect_str_eq(ev.traits.owner, "");

    /* An empty traits object is still a traits event; absent traits is not. */
    cr_assert_eq(decode1(LIT("{\"type\":\"group\",\"account_id\":\"a\",\"traits\":{}}"), &ev,
                         reason, sizeof reason),
                 CW_OK);
    cr_expect(ev.has_traits);
    cr_expect_not(ev.traits.has_seats);
    cr_assert_eq(decode1(LIT("{\"type\":\"group\",\"account_id\":\"a\",\"traits\":null}"), &ev,
                         reason, sizeof reason),
                 CW_OK);
    cr_expect_not(ev.has_traits);
    /* Longest kept string trait. */
    static const char longest[] =
        "{\"type\":\"account_updated\",\"account_id\":\"a\",\"traits\":{\"plan\":\"" LONG129 "\"}}";
    char buf[sizeof longest];
    memcpy(buf, longest, sizeof longest);
    memmove(strstr(buf, "aa\"}}"), "\"}}", 4); /* 127 bytes of plan */
    cr_assert_eq(decode1(buf, strlen(buf), &ev, reason, sizeof reason), CW_OK, "%s", reason);
    cr_expect_eq(strlen(ev.traits.plan), CW_TRAIT_MAX);
}

Test(decode_native, reasons_are_precise_and_short, .init = native, .fini = stop)
{
    struct cw_event ev;
    char reason[256];
    cr_assert_eq(decode1(LIT("{\"account_id\":42,\"type\":\"login\"}"), &ev, reason, sizeof reason),
                 CW_REJ_WRONG_FIELD_TYPE);
    cr_expect_str_eq(reason, "account_id at /account_id is a number, expected a string");

    cr_assert_eq(decode1(LIT("{\"type\":\"login\"}"), &ev, reason, sizeof reason),
                 CW_REJ_MISSING_ACCOUNT_ID);
    cr_expect_str_eq(reason, "no account_id: absent or null at /account_id");

    cr_assert_eq(decode1(LIT("{\"account_id\":\"a\xff\"}"), &ev, reason, sizeof reason),
                 CW_REJ_INVALID_UTF8);
    cr_expect_str_eq(reason, "invalid UTF-8 at byte 16 (0xff)");

    cr_assert_eq(decode1(LIT("{\"account_id\":\"a\",\"type\":\"login\",\"account_id\":\"b\"}"), &ev,
                         reason, sizeof reason),
                 CW_REJ_DUPLICATE_FIELD);
    cr_expect_str_eq(reason, "account_id appears twice at /account_id (duplicate key on its path)");

    cr_assert_eq(decode1(LIT("{\"a\":1} x"), &ev, reason, sizeof reason), CW_REJ_INVALID_JSON);
    cr_expect(strstr(reason, "trailing garbage") != NULL, "%s", reason);

    cr_assert_eq(decode1(LIT("{\"account_id\":\"a\",\"type\":\"login\",\"ts\":\"2026-02-29T00:00:"
                             "00Z\"}"),
                         &ev, reason, sizeof reason),
                 CW_REJ_BAD_TIMESTAMP);
    cr_expect(strstr(reason, "ts at /ts") && strstr(reason, "2026-02-29T00:00:00Z"), "%s", reason);

    /* A long bad value is quoted only as a short excerpt. */
    static const char msg[] = "{\"account_id\":\"a\",\"type\":\"login\",\"ts\":\"" LONG129 "\"}";
    cr_assert_eq(decode1(LIT(msg), &ev, reason, sizeof reason), CW_REJ_BAD_TIMESTAMP);
    cr_expect(strstr(reason, LONG129) == NULL, "%s", reason);
    cr_expect(strstr(reason, "...") != NULL, "%s", reason);
    cr_expect_lt(strlen(reason), 200);

    /* A too-long id is described, not echoed. */
    static const char msg2[] = "{\"account_id\":\"" LONG129 "\",\"type\":\"login\"}";
    cr_assert_eq(decode1(LIT(msg2), &ev, reason, sizeof reason), CW_REJ_BAD_ID);
    cr_expect_str_eq(reason, "account_id at /account_id is 129 bytes, longer than "
                             "input.max_id_length 128");
}

Test(decode_native, reason_buffer_may_be_small_or_absent, .init = native, .fini = stop)
{
    struct cw_event ev;
    char reason[8];
    memset(reason, 'x', sizeof reason);
    cr_expect_eq(decode1(LIT("[]"), &ev, reason, sizeof reason), CW_REJ_NOT_OBJECT);
    cr_expect_eq(strlen(reason), sizeof reason - 1);
    cr_expect_eq(decode1(LIT("[]"), &ev, NULL, 0), CW_REJ_NOT_OBJECT);
    cr_expect_eq(decode1(LIT(REF), &ev, reason, sizeof reason), CW_OK);
    cr_expect_str_eq(reason, "");
}

Test(decode_native, message_timestamp_fallback, .init = native, .fini = stop)
{
    struct cw_event ev;
    char reason[128];
    static const char msg[] = "{\"account_id\":\"a\",\"type\":\"login\"}";
    cr_expect_eq(cw_decode(dec, LIT(msg), -1, &ev, reason, sizeof reason), CW_REJ_BAD_TIMESTAMP);
    cr_expect_eq(cw_decode(dec, LIT(msg), 0, &ev, reason, sizeof reason), CW_OK);
    cr_expect_eq(ev.ts_ms, 0);
    cr_expect(ev.ts_from_message);
    /* A ts in the message wins over the message timestamp; -1 does not matter then. */
    static const char msg2[] = "{\"account_id\":\"a\",\"type\":\"login\",\"ts\":1795305600000}";
    cr_expect_eq(cw_decode(dec, LIT(msg2), -1, &ev, reason, sizeof reason), CW_OK);
    cr_expect_eq(ev.ts_ms, T_2026);
    cr_expect_not(ev.ts_from_message);
}

Test(decode_native, size_limit, .init = native, .fini = stop)
{
    struct cw_event ev;
    char reason[128];
    size_t n = cfg.input.max_message_bytes;
    char *buf = malloc(n + 1);
    cr_assert_not_null(buf);
    /* Exactly the limit decodes; one byte more is too_large, before any parsing. */
    static const char head[] = "{\"account_id\":\"a\",\"type\":\"login\",\"pad\":\"";
    memcpy(buf, head, sizeof head - 1);
    memset(buf + sizeof head - 1, 'x', n - (sizeof head - 1) - 2);
    memcpy(buf + n - 2, "\"}", 2);
    cr_expect_eq(decode1(buf, n, &ev, reason, sizeof reason), CW_OK, "%s", reason);
    buf[n] = ' ';
    cr_expect_eq(decode1(buf, n + 1, &ev, reason, sizeof reason), CW_REJ_TOO_LARGE);
    cr_expect(strstr(reason, "65537") != NULL, "%s", reason);
    /* Garbage over the limit is too_large too: size is judged first. */
    memset(buf, 0xff, n + 1);
    cr_expect_eq(decode1(buf, n + 1, &ev, reason, sizeof reason), CW_REJ_TOO_LARGE);
    free(buf);
}

/* prefix, then escapes up to about n bytes, then "\"}"; returns the length. */
static size_t escaped_message(char *buf, size_t n, const char *prefix)
{
    size_t w = strlen(prefix);
    memcpy(buf, prefix, w);
    while (w + 10 < n) {
        memcpy(buf + w, "\\u00e9\\n", 8);
        w += 8;
    }
    memcpy(buf + w, "\"}", 2);
    return w + 2;
}

Test(decode_native, long_escaped_strings, .init = native, .fini = stop)
{
    /* Escaped strings of tens of KiB outgrow the decoder's arena and must still work. */
    struct cw_event ev;
    char reason[128];
    size_t n = 60000;
    char *buf = malloc(n);
    cr_assert_not_null(buf);
    size_t len = escaped_message(buf, n, "{\"account_id\":\"a\",\"type\":\"login\",\"pad\":\"");
    for (int i = 0; i < 3; i++)
        cr_expect_eq(decode1(buf, len, &ev, reason, sizeof reason), CW_OK, "%s", reason);
    /* A long escaped account_id is bad_id, not a crash. */
    len = escaped_message(buf, n, "{\"type\":\"login\",\"account_id\":\"");
    cr_expect_eq(decode1(buf, len, &ev, reason, sizeof reason), CW_REJ_BAD_ID, "%s", reason);
    cr_expect(strstr(reason, "longer than") != NULL, "%s", reason);
    free(buf);
}

Test(decode_native, decoder_is_reusable, .init = native, .fini = stop)
{
    /* Alternate good and bad messages: no state may leak from one to the next. */
    struct cw_event ev;
    char reason[128];
    for (int i = 0; i < 1000; i++) {
        cr_assert_eq(decode1(LIT("{\"account_id\":\"a\",\"account_id\":\"b\",\"type\":\"x\"}"), &ev,
                             reason, sizeof reason),
                     CW_REJ_DUPLICATE_FIELD);
        cr_assert_eq(decode1(LIT("{\"p\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["), &ev,
                             reason, sizeof reason),
                     CW_REJ_TOO_DEEP);
        cr_assert_eq(decode1(LIT("{\"type\":\"account_updated\",\"account_id\":\"t\",\"traits\":{"
                                 "\"seats\":7}}"),
                             &ev, reason, sizeof reason),
                     CW_OK);
        cr_assert(ev.has_traits && ev.traits.seats == 7);
        cr_assert_eq(decode1(LIT(REF), &ev, reason, sizeof reason), CW_OK);
        cr_assert_str_eq(ev.account_id, "acme");
        cr_assert_str_eq(ev.user_id, "u-7");
        cr_assert_not(ev.has_traits);
        cr_assert_not(ev.traits.has_seats);
    }
}

Test(decode_native, unknown_types_to_dlq, .init = native, .fini = stop)
{
    cfg.input.unknown_types = CW_UNKNOWN_DLQ;
    restart();
    struct cw_event ev;
    char reason[128];
    cr_expect_eq(
        decode1(LIT("{\"account_id\":\"a\",\"type\":\"Page Viewed\"}"), &ev, reason, sizeof reason),
        CW_REJ_UNKNOWN_TYPE);
    cr_expect(strstr(reason, "\"Page Viewed\"") != NULL, "%s", reason);
    cr_expect_eq(
        decode1(LIT("{\"account_id\":\"a\",\"type\":\"Signed In\"}"), &ev, reason, sizeof reason),
        CW_OK);
    cr_expect_eq(ev.type_index, T_LOGIN);
}

Test(decode_native, smaller_limits, .init = native, .fini = stop)
{
    cfg.input.max_id_length = 5; /* "login" still fits */
    cfg.input.max_depth = 2;
    restart();
    struct cw_event ev;
    char reason[128];
    cr_expect_eq(decode1(LIT("{\"account_id\":\"abcde\",\"type\":\"login\",\"p\":{}}"), &ev, reason,
                         sizeof reason),
                 CW_OK, "%s", reason);
    cr_expect_eq(
        decode1(LIT("{\"account_id\":\"abcdef\",\"type\":\"login\"}"), &ev, reason, sizeof reason),
        CW_REJ_BAD_ID);
    cr_expect_eq(decode1(LIT("{\"account_id\":\"a\",\"type\":\"login\",\"p\":{\"q\":[]}}"), &ev,
                         reason, sizeof reason),
                 CW_REJ_TOO_DEEP);
    /* A multi-byte id is measured in bytes. */
    cr_expect_eq(decode1(LIT("{\"account_id\":\"\xc3\xa9\xc3\xa9x\",\"type\":\"login\"}"), &ev,
                         reason, sizeof reason),
                 CW_OK);
    cr_expect_eq(decode1(LIT("{\"account_id\":\"\xc3\xa9\xc3\xa9xy\",\"type\":\"login\"}"), &ev,
                         reason, sizeof reason),
                 CW_REJ_BAD_ID);
}

/* ---- explicit pointer lists ---------------------------------------------------------- */

static char *override_account[] = {"/tenant/id", "/account_id"};
static char *index_account[] = {"/accounts/1", "/accounts/01", "/x/-"};
static char *escaped_type[] = {"/a~1b", "/m~0n", "/~01"};
static char *empty_key_user[] = {"/"};

static const struct ok_case override_ok[] = {
    {"override wins over the later entry",
     LIT("{\"account_id\":\"plain\",\"type\":\"login\",\"tenant\":{\"id\":\"t-1\"}}"), "t-1",
     "login", "", "", T_LOGIN, MSG_TS, true},
    {"fallback to the second pointer",
     LIT("{\"account_id\":\"plain\",\"type\":\"login\",\"tenant\":{\"name\":\"x\"}}"), "plain",
     "login", "", "", T_LOGIN, MSG_TS, true},
    {"null first pointer falls back",
     LIT("{\"tenant\":{\"id\":null},\"account_id\":\"plain\",\"type\":\"login\"}"), "plain",
     "login", "", "", T_LOGIN, MSG_TS, true},
    {"tenant not an object falls back",
     LIT("{\"tenant\":\"t\",\"account_id\":\"plain\",\"type\":\"login\"}"), "plain", "login", "",
     "", T_LOGIN, MSG_TS, true},
};

Test(decode_override, explicit_list_replaces_preset_field, .init = native, .fini = stop)
{
    cfg.input.account_id = (struct cw_strlist){override_account, 2};
    restart();
    RUN_OK(override_ok);
    struct cw_event ev;
    char reason[128];
    /* The winner's type is judged even when a later pointer has a good value. */
    cr_expect_eq(decode1(LIT("{\"tenant\":{\"id\":5},\"account_id\":\"plain\",\"type\":\"login\"}"),
                         &ev, reason, sizeof reason),
                 CW_REJ_WRONG_FIELD_TYPE);
    cr_expect(strstr(reason, "/tenant/id") != NULL, "%s", reason);
    /* The other fields still come from the preset. */
    cr_expect_eq(decode1(LIT("{\"tenant\":{\"id\":\"t\"},\"user_id\":\"u\",\"ts\":0,"
                             "\"type\":\"login\"}"),
                         &ev, reason, sizeof reason),
                 CW_OK, "%s", reason);
    cr_expect_str_eq(ev.user_id, "u");
    cr_expect_eq(ev.ts_ms, 0);
    /* Duplicate of an ancestor of an extracted field. */
    cr_expect_eq(decode1(LIT("{\"tenant\":{\"id\":\"t\"},\"tenant\":{\"id\":\"u\"},"
                             "\"type\":\"login\"}"),
                         &ev, reason, sizeof reason),
                 CW_REJ_DUPLICATE_FIELD);
}

static const struct ok_case index_ok[] = {
    {"array index", LIT("{\"accounts\":[\"zero\",\"one\",\"two\"],\"type\":\"login\"}"), "one",
     "login", "", "", T_LOGIN, MSG_TS, true},
    {"array index after nested values",
     LIT("{\"accounts\":[{\"a\":[1,2]},\"one\"],\"type\":\"login\"}"), "one", "login", "", "",
     T_LOGIN, MSG_TS, true},
    {"\"1\" is also an object key", LIT("{\"accounts\":{\"1\":\"k\"},\"type\":\"login\"}"), "k",
     "login", "", "", T_LOGIN, MSG_TS, true},
    {"\"01\" is only an object key", LIT("{\"accounts\":{\"01\":\"k01\"},\"type\":\"login\"}"),
     "k01", "login", "", "", T_LOGIN, MSG_TS, true},
    {"\"-\" is only an object key", LIT("{\"x\":{\"-\":\"dash\"},\"type\":\"login\"}"), "dash",
     "login", "", "", T_LOGIN, MSG_TS, true},
};

Test(decode_override, array_indices, .init = native, .fini = stop)
{
    cfg.input.account_id = (struct cw_strlist){index_account, 3};
    restart();
    RUN_OK(index_ok);
    struct cw_event ev;
    char reason[128];
    /* "01" and "-" never select array elements. */
    cr_expect_eq(decode1(LIT("{\"accounts\":[\"zero\"],\"x\":[\"a\",\"b\"],\"type\":\"login\"}"),
                         &ev, reason, sizeof reason),
                 CW_REJ_MISSING_ACCOUNT_ID);
    cr_expect(strstr(reason, "/accounts/1, /accounts/01, /x/-") != NULL, "%s", reason);
}

static const struct ok_case escaped_ok[] = {
    {"~1 is a slash", LIT("{\"account_id\":\"a\",\"a/b\":\"login\"}"), "a", "login", "", "",
     T_LOGIN, MSG_TS, true},
    {"~0 is a tilde", LIT("{\"account_id\":\"a\",\"m~n\":\"login\"}"), "a", "login", "", "",
     T_LOGIN, MSG_TS, true},
    {"~01 is ~1, not /", LIT("{\"account_id\":\"a\",\"~1\":\"login\",\"/\":\"x\"}"), "a", "login",
     "", "", T_LOGIN, MSG_TS, true},
    {"the empty key", LIT("{\"account_id\":\"a\",\"a/b\":\"login\",\"\":\"u\"}"), "a", "login", "u",
     "", T_LOGIN, MSG_TS, true},
};

Test(decode_override, escaped_tokens_and_empty_key, .init = native, .fini = stop)
{
    cfg.input.type = (struct cw_strlist){escaped_type, 3};
    cfg.input.user_id = (struct cw_strlist){empty_key_user, 1};
    restart();
    RUN_OK(escaped_ok);
    struct cw_event ev;
    char reason[128];
    /* "a/b" as a path (a -> b) is not the key "a/b". */
    cr_expect_eq(
        decode1(LIT("{\"account_id\":\"a\",\"a\":{\"b\":\"login\"}}"), &ev, reason, sizeof reason),
        CW_REJ_MISSING_TYPE);
}

Test(decode_override, bad_configs_are_refused, .init = native, .fini = stop)
{
    static char *no_slash[] = {"account_id"};
    static char *bad_tilde[] = {"/a~2"};
    static char *trailing_tilde[] = {"/a~"};
    static char *root[] = {""};
    static char *many[60];
    char *const *lists[] = {no_slash, bad_tilde, trailing_tilde, root};
    char err[256];
    for (size_t i = 0; i < 4; i++) {
        config_for(CW_PRESET_NATIVE);
        cfg.input.account_id = (struct cw_strlist){(char **)lists[i], 1};
        err[0] = '\0';
        cr_expect_null(cw_decoder_new(&cfg, err, sizeof err), "pointer %zu accepted", i);
        cr_expect(strstr(err, "input.account_id") != NULL, "%s", err);
    }
    for (size_t i = 0; i < 60; i++)
        many[i] = "/x";
    config_for(CW_PRESET_NATIVE);
    cfg.input.event_id = (struct cw_strlist){many, 60};
    cr_expect_null(cw_decoder_new(&cfg, err, sizeof err));
    cr_expect(strstr(err, "JSON pointers") != NULL, "%s", err);

    config_for(CW_PRESET_NATIVE);
    cfg.input.type = (struct cw_strlist){NULL, 0};
    cr_expect_null(cw_decoder_new(&cfg, err, sizeof err));
    cr_expect_str_eq(err, "input.type has no JSON pointer");

    config_for(CW_PRESET_NATIVE);
    cfg.input.max_id_length = CW_ID_MAX + 1;
    cr_expect_null(cw_decoder_new(&cfg, err, sizeof err));
    config_for(CW_PRESET_NATIVE);
    cfg.input.max_depth = 0;
    cr_expect_null(cw_decoder_new(&cfg, err, sizeof err));
    config_for(CW_PRESET_NATIVE);
    cfg.input.max_message_bytes = 0;
    cr_expect_null(cw_decoder_new(&cfg, err, sizeof err));
    cw_decoder_free(NULL);
}

Test(decode_override, longest_ids, .init = native, .fini = stop)
{
    cfg.input.max_id_length = CW_ID_MAX;
    restart();
    char msg[600];
    char id[CW_ID_MAX + 2];
    memset(id, 'i', sizeof id);
    id[CW_ID_MAX] = '\0';
    snprintf(msg, sizeof msg, "{\"account_id\":\"%s\",\"type\":\"login\"}", id);
    struct cw_event ev;
    char reason[128];
    cr_expect_eq(decode1(msg, strlen(msg), &ev, reason, sizeof reason), CW_OK, "%s", reason);
    cr_expect_str_eq(ev.account_id, id);
    id[CW_ID_MAX] = 'i';
    id[CW_ID_MAX + 1] = '\0';
    snprintf(msg, sizeof msg, "{\"account_id\":\"%s\",\"type\":\"login\"}", id);
    cr_expect_eq(decode1(msg, strlen(msg), &ev, reason, sizeof reason), CW_REJ_BAD_ID);
}

/* ---- Segment / RudderStack ----------------------------------------------------------- */

#define TRACK                                                                                      \
    "{\"type\":\"track\",\"event\":\"Signed In\",\"userId\":\"u-7\",\"anonymousId\":\"anon-1\","   \
    "\"messageId\":\"ajs-next-1\",\"timestamp\":\"2026-11-22T09:00:00.000+09:00\","                \
    "\"originalTimestamp\":\"2026-11-22T08:59:59.000+09:00\",\"properties\":{\"plan\":\"pro\"},"   \
    "\"context\":{\"groupId\":\"acme\",\"library\":{\"name\":\"analytics.js\",\"version\":"        \
    "\"2.11.1\"},\"traits\":{\"seats\":-1}},\"integrations\":{}}"

static const struct ok_case segment_ok[] = {
    {"track call", LIT(TRACK), "acme", "Signed In", "u-7", "ajs-next-1", T_LOGIN, T_2026, false},
    {"groupId at the top level",
     LIT("{\"type\":\"track\",\"event\":\"Application Created\",\"groupId\":\"g\"}"), "g",
     "Application Created", "", "", T_APP_CREATED, MSG_TS, true},
    {"context.groupId wins even when it comes later",
     LIT("{\"groupId\":\"second\",\"event\":\"Signed In\",\"context\":{\"groupId\":\"first\"}}"),
     "first", "Signed In", "", "", T_LOGIN, MSG_TS, true},
    {"null context.groupId falls back",
     LIT("{\"context\":{\"groupId\":null},\"groupId\":\"g\",\"event\":\"Signed In\"}"), "g",
     "Signed In", "", "", T_LOGIN, MSG_TS, true},
    {"properties.account_id as last resort",
     LIT("{\"event\":\"Signed In\",\"properties\":{\"account_id\":\"p\"},\"context\":{}}"), "p",
     "Signed In", "", "", T_LOGIN, MSG_TS, true},
    {"a broken lower-ranked value does not matter",
     LIT("{\"context\":{\"groupId\":\"c\"},\"groupId\":42,\"event\":\"Signed In\"}"), "c",
     "Signed In", "", "", T_LOGIN, MSG_TS, true},
    {"no event: type is used",
     LIT("{\"type\":\"group\",\"groupId\":\"g\",\"timestamp\":\"2026-11-22T00:00:00Z\"}"), "g",
     "group", "", "", T_ACCOUNT_UPDATED, T_2026, false},
    {"originalTimestamp when timestamp is absent",
     LIT("{\"event\":\"Signed In\",\"groupId\":\"g\",\"originalTimestamp\":"
         "\"2026-11-22T00:00:00Z\"}"),
     "g", "Signed In", "", "", T_LOGIN, T_2026, false},
    {"epoch millis in timestamp",
     LIT("{\"event\":\"Signed Up\",\"groupId\":\"g\",\"timestamp\":1795305600000}"), "g",
     "Signed Up", "", "", T_USER_REGISTERED, T_2026, false},
};

static const struct bad_case segment_bad[] = {
    {"identify call has no account", LIT("{\"type\":\"identify\",\"userId\":\"u\"}"),
     CW_REJ_MISSING_ACCOUNT_ID},
    {"numeric context.groupId wins and is wrong",
     LIT("{\"context\":{\"groupId\":42},\"groupId\":\"g\",\"event\":\"Signed In\"}"),
     CW_REJ_WRONG_FIELD_TYPE},
    {"duplicate context object",
     LIT("{\"context\":{\"groupId\":\"a\"},\"event\":\"Signed In\",\"context\":{\"groupId\":"
         "\"b\"}}"),
     CW_REJ_DUPLICATE_FIELD},
    {"event twice", LIT("{\"groupId\":\"g\",\"event\":\"Signed In\",\"event\":\"Signed Up\"}"),
     CW_REJ_DUPLICATE_FIELD},
    {"empty event is not a fallback to type",
     LIT("{\"groupId\":\"g\",\"event\":\"\",\"type\":\"track\"}"), CW_REJ_MISSING_TYPE},
    {"group call with bad traits",
     LIT("{\"type\":\"group\",\"groupId\":\"g\",\"traits\":{\"seats\":\"many\"}}"),
     CW_REJ_BAD_TRAITS},
};

Test(decode_segment, must_decode, .init = segment, .fini = stop)
{
    RUN_OK(segment_ok);
}

Test(decode_segment, must_reject, .init = segment, .fini = stop)
{
    RUN_BAD(segment_bad);
}

Test(decode_segment, group_call_traits, .init = segment, .fini = stop)
{
    static const char msg[] =
        "{\"type\":\"group\",\"groupId\":\"acme\",\"userId\":\"u-1\",\"messageId\":\"m-9\","
        "\"timestamp\":\"2026-11-22T00:00:00Z\",\"traits\":{\"name\":\"Acme Inc\",\"seats\":250,"
        "\"plan\":\"enterprise\",\"segment\":\"L\",\"created_at\":\"2026-01-05T10:00:00Z\","
        "\"industry\":\"manufacturing\",\"employees\":\"5000\"}}";
    struct cw_event ev;
    char reason[128];
    cr_assert_eq(decode1(LIT(msg), &ev, reason, sizeof reason), CW_OK, "%s", reason);
    cr_expect_str_eq(ev.account_id, "acme");
    cr_expect_str_eq(ev.type, "group");
    cr_expect_eq(ev.type_index, T_ACCOUNT_UPDATED);
    cr_expect_str_eq(ev.event_id, "m-9");
    cr_expect(ev.has_traits);
    cr_expect_eq(ev.traits.seats, 250);
    cr_expect_str_eq(ev.traits.plan, "enterprise");
    cr_expect_str_eq(ev.traits.segment, "L");
    cr_expect(ev.traits.has_created_at);
    cr_expect_eq(ev.traits.created_at_ms, INT64_C(1767607200000));
    cr_expect_str_eq(ev.traits.owner, "");
}

/* ---- CloudEvents ---------------------------------------------------------------------- */

#define CE                                                                                         \
    "{\"specversion\":\"1.0\",\"type\":\"com.example.login\",\"source\":\"/crm/web\","             \
    "\"subject\":\"acme\",\"id\":\"A234-1234-1234\",\"time\":\"2026-11-22T09:00:00+09:00\","       \
    "\"datacontenttype\":\"application/json\",\"data\":{\"user_id\":\"u-7\",\"app\":\"crm\"}}"

static const struct ok_case ce_ok[] = {
    {"structured event", LIT(CE), "acme", "com.example.login", "u-7", "A234-1234-1234", T_LOGIN,
     T_2026, false},
    {"no data, no time",
     LIT("{\"specversion\":\"1.0\",\"type\":\"login\",\"source\":\"s\",\"id\":\"1\",\"subject\":"
         "\"a\"}"),
     "a", "login", "", "1", T_LOGIN, MSG_TS, true},
};

static const struct bad_case ce_bad[] = {
    {"no subject", LIT("{\"specversion\":\"1.0\",\"type\":\"login\",\"id\":\"1\"}"),
     CW_REJ_MISSING_ACCOUNT_ID},
    {"numeric id", LIT("{\"subject\":\"a\",\"type\":\"login\",\"id\":1}"), CW_REJ_WRONG_FIELD_TYPE},
    {"data.user_id twice",
     LIT("{\"subject\":\"a\",\"type\":\"login\",\"data\":{\"user_id\":\"u\",\"user_id\":\"v\"}}"),
     CW_REJ_DUPLICATE_FIELD},
    {"bad time", LIT("{\"subject\":\"a\",\"type\":\"login\",\"time\":\"2026-11-22\"}"),
     CW_REJ_BAD_TIMESTAMP},
};

Test(decode_cloudevents, must_decode, .init = cloudevents, .fini = stop)
{
    RUN_OK(ce_ok);
}

Test(decode_cloudevents, must_reject, .init = cloudevents, .fini = stop)
{
    RUN_BAD(ce_bad);
}

Test(decode_cloudevents, traits_under_data, .init = cloudevents, .fini = stop)
{
    static const char msg[] = "{\"specversion\":\"1.0\",\"type\":\"com.example.account.updated\","
                              "\"subject\":\"acme\",\"id\":\"x\",\"data\":{\"traits\":{"
                              "\"seats\":12,\"owner\":\"csm@example.com\"}}}";
    struct cw_event ev;
    char reason[128];
    cr_assert_eq(decode1(LIT(msg), &ev, reason, sizeof reason), CW_OK, "%s", reason);
    cr_expect_eq(ev.type_index, T_ACCOUNT_UPDATED);
    cr_expect(ev.has_traits);
    cr_expect_eq(ev.traits.seats, 12);
    cr_expect_str_eq(ev.traits.owner, "csm@example.com");
    /* Top-level traits are not where CloudEvents keeps them. */
    static const char msg2[] = "{\"type\":\"com.example.account.updated\",\"subject\":\"acme\","
                               "\"traits\":{\"seats\":12}}";
    cr_assert_eq(decode1(LIT(msg2), &ev, reason, sizeof reason), CW_OK, "%s", reason);
    cr_expect_not(ev.has_traits);
}

/* ---- traits from several pointers ------------------------------------------------------ */

static char *two_traits[] = {"/traits", "/context/traits"};

Test(decode_override, best_ranked_traits_object_wins, .init = native, .fini = stop)
{
    cfg.input.traits = (struct cw_strlist){two_traits, 2};
    restart();
    struct cw_event ev;
    char reason[128];
    /* The second-ranked object comes first and has seats; the winner has none. */
    static const char msg[] = "{\"account_id\":\"a\",\"type\":\"group\",\"context\":{\"traits\":{"
                              "\"seats\":9,\"plan\":\"old\"}},\"traits\":{\"plan\":\"new\"}}";
    cr_assert_eq(decode1(LIT(msg), &ev, reason, sizeof reason), CW_OK, "%s", reason);
    cr_expect(ev.has_traits);
    cr_expect_not(ev.traits.has_seats);
    cr_expect_str_eq(ev.traits.plan, "new");
    /* null first traits: the second is used. */
    static const char msg2[] = "{\"account_id\":\"a\",\"type\":\"group\",\"traits\":null,"
                               "\"context\":{\"traits\":{\"seats\":9}}}";
    cr_assert_eq(decode1(LIT(msg2), &ev, reason, sizeof reason), CW_OK, "%s", reason);
    cr_expect_eq(ev.traits.seats, 9);
    /* A bad trait in the losing object does not reject. */
    static const char msg3[] = "{\"account_id\":\"a\",\"type\":\"group\",\"traits\":{\"seats\":1},"
                               "\"context\":{\"traits\":{\"seats\":-9}}}";
    cr_assert_eq(decode1(LIT(msg3), &ev, reason, sizeof reason), CW_OK, "%s", reason);
    cr_expect_eq(ev.traits.seats, 1);
}

Test(decode_native, control_characters_at_every_position, .init = native, .fini = stop)
{
    /* Every control kind at every offset of a 40-byte id, across 8-byte word boundaries. */
    static const char *const controls[] = {"\\u0000",  "\\u001f",  "\\n",    "\x7f",
                                           "\xc2\x80", "\xc2\x9f", "\\u0085"};
    struct cw_event ev;
    char reason[128], msg[256], id[128];
    for (size_t c = 0; c < sizeof controls / sizeof controls[0]; c++) {
        for (int pos = 0; pos < 40; pos++) {
            snprintf(id, sizeof id, "%.*s%s%.*s", pos, "0123456789012345678901234567890123456789",
                     controls[c], 39 - pos, "abcdefghijabcdefghijabcdefghijabcdefghij");
            snprintf(msg, sizeof msg, "{\"account_id\":\"%s\",\"type\":\"login\"}", id);
            cr_assert_eq(decode1(msg, strlen(msg), &ev, reason, sizeof reason), CW_REJ_BAD_ID,
                         "control %zu at %d: %s", c, pos, reason);
        }
    }
    /* Neighbours of the control ranges are fine: space, '~', U+00A0, U+00C2 ("\xc3\x82"). */
    static const char ok[] = "{\"account_id\":\"a b~c\xc2\xa0"
                             "d\xc3\x82\xc2\xa0\xc2\xbf"
                             "0123456789\",\"type\":\"login\"}";
    cr_assert_eq(decode1(LIT(ok), &ev, reason, sizeof reason), CW_OK, "%s", reason);
    cr_expect_str_eq(ev.account_id, "a b~c\xc2\xa0"
                                    "d\xc3\x82\xc2\xa0\xc2\xbf"
                                    "0123456789");
}

/* ---- values of valued event types ---- */

struct value_case {
    const char *name;
    const char *json;
    size_t len;
    enum cw_reject code;
    double value; /* when CW_OK */
};

#define NPS(rest) "{\"account_id\":\"a\",\"type\":\"nps_submitted\"" rest "}"

static const struct value_case value_cases[] = {
    {"integer at the first pointer", LIT(NPS(",\"properties\":{\"score\":9}")), CW_OK, 9},
    {"the second pointer", LIT(NPS(",\"score\":3")), CW_OK, 3},
    {"the first pointer wins", LIT(NPS(",\"score\":3,\"properties\":{\"score\":10}")), CW_OK, 10},
    {"null falls through", LIT(NPS(",\"score\":4,\"properties\":{\"score\":null}")), CW_OK, 4},
    {"fraction and exponent", LIT(NPS(",\"score\":2.5e1")), CW_OK, 25},
    {"negative", LIT(NPS(",\"score\":-7.25")), CW_OK, -7.25},
    {"negative zero is zero", LIT(NPS(",\"score\":-0")), CW_OK, 0},
    {"a string holding a number", LIT(NPS(",\"score\":\"8\"")), CW_OK, 8},
    {"at the bound", LIT(NPS(",\"score\":1e12")), CW_OK, 1e12},
    {"missing", LIT(NPS("")), CW_REJ_BAD_VALUE, 0},
    {"null everywhere", LIT(NPS(",\"score\":null,\"properties\":{\"score\":null}")),
     CW_REJ_BAD_VALUE, 0},
    {"a boolean", LIT(NPS(",\"score\":true")), CW_REJ_BAD_VALUE, 0},
    {"an object", LIT(NPS(",\"score\":{\"v\":1}")), CW_REJ_BAD_VALUE, 0},
    {"an array", LIT(NPS(",\"score\":[1]")), CW_REJ_BAD_VALUE, 0},
    {"a word", LIT(NPS(",\"score\":\"nine\"")), CW_REJ_BAD_VALUE, 0},
    {"NaN as a string", LIT(NPS(",\"score\":\"NaN\"")), CW_REJ_BAD_VALUE, 0},
    {"Infinity as a string", LIT(NPS(",\"score\":\"Infinity\"")), CW_REJ_BAD_VALUE, 0},
    {"-inf as a string", LIT(NPS(",\"score\":\"-inf\"")), CW_REJ_BAD_VALUE, 0},
    {"hex as a string", LIT(NPS(",\"score\":\"0x10\"")), CW_REJ_BAD_VALUE, 0},
    {"padded string", LIT(NPS(",\"score\":\" 8\"")), CW_REJ_BAD_VALUE, 0},
    {"empty string", LIT(NPS(",\"score\":\"\"")), CW_REJ_BAD_VALUE, 0},
    {"leading plus in a string", LIT(NPS(",\"score\":\"+8\"")), CW_REJ_BAD_VALUE, 0},
    {"huge: overflows a double", LIT(NPS(",\"score\":1e400")), CW_REJ_BAD_VALUE, 0},
    {"beyond the bound", LIT(NPS(",\"score\":1.000001e12")), CW_REJ_BAD_VALUE, 0},
    {"very long number",
     LIT(NPS(",\"score\":1.00000000000000000000000000000000000000000000000000000000000000001")),
     CW_REJ_BAD_VALUE, 0},
    {"duplicate key", LIT(NPS(",\"score\":1,\"score\":2")), CW_REJ_DUPLICATE_FIELD, 0},
};

Test(decode_native, values_of_valued_types, .init = native, .fini = stop)
{
    for (size_t i = 0; i < sizeof value_cases / sizeof value_cases[0]; i++) {
        const struct value_case *c = &value_cases[i];
        struct cw_event ev;
        char reason[256] = "";
        memset(&ev, 0x5A, sizeof ev);
        enum cw_reject rc = cw_decode(dec, c->json, c->len, MSG_TS, &ev, reason, sizeof reason);
        cr_expect_eq(rc, c->code, "[%s] got %s (%s), want %s", c->name, cw_reject_name(rc), reason,
                     cw_reject_name(c->code));
        if (rc != CW_OK) {
            cr_expect_gt(strlen(reason), 10, "[%s] reason too thin: \"%s\"", c->name, reason);
            continue;
        }
        cr_expect(ev.has_value, "[%s] has_value", c->name);
        cr_expect_eq(ev.value, c->value, "[%s] value %.17g, want %.17g", c->name, ev.value,
                     c->value);
        cr_expect_eq(ev.type_index, T_NPS, "[%s]", c->name);
    }
}

Test(decode_native, values_only_on_valued_types, .init = native, .fini = stop)
{
    struct cw_event ev;
    char reason[256] = "";
    /* a login carrying a score member has no value: it is not its type's */
    cr_assert_eq(cw_decode(dec, LIT("{\"account_id\":\"a\",\"type\":\"login\",\"score\":\"x\"}"),
                           MSG_TS, &ev, reason, sizeof reason),
                 CW_OK, "%s", reason);
    cr_expect_not(ev.has_value);
    /* each valued type reads its own pointers */
    cr_assert_eq(cw_decode(dec,
                           LIT("{\"account_id\":\"a\",\"type\":\"webinar_watched\",\"minutes\":45,"
                               "\"score\":\"x\"}"),
                           MSG_TS, &ev, reason, sizeof reason),
                 CW_OK, "%s", reason);
    cr_expect(ev.has_value);
    cr_expect_eq(ev.value, 45);
    cr_assert_eq(cw_decode(dec,
                           LIT("{\"account_id\":\"a\",\"type\":\"webinar_watched\",\"score\":1}"),
                           MSG_TS, &ev, reason, sizeof reason),
                 CW_REJ_BAD_VALUE);
    cr_expect_str_eq(reason, "no value: absent or null at /minutes");
    cr_assert_eq(cw_decode(dec, LIT(NPS(",\"score\":\"NaN\"")), MSG_TS, &ev, reason, sizeof reason),
                 CW_REJ_BAD_VALUE);
    cr_expect_str_eq(reason, "value at /score is not a number: \"NaN\"");
    cr_assert_eq(cw_decode(dec, LIT(NPS(",\"score\":1e400")), MSG_TS, &ev, reason, sizeof reason),
                 CW_REJ_BAD_VALUE);
    cr_expect_str_eq(reason, "value at /score is not finite or beyond ±1e12: \"1e400\"");
    cr_expect_str_eq(cw_reject_name(CW_REJ_BAD_VALUE), "bad_value");
}
