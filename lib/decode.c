/* decode.c - the event decoder: one Kafka message value into a struct cw_event */
/*
 * Design:
 *  - The message is checked for size, then for strict UTF-8 (RFC 3629: no overlong forms,
 *    no surrogates, nothing above U+10FFFF) by our own pass, because yajl's own check
 *    accepts overlong and surrogate sequences. yajl's check is therefore switched off.
 *  - yajl's callback parser then walks the document once. Every configured JSON pointer
 *    (plus one synthesised pointer per trait under each traits pointer) is precompiled
 *    into tokens; while parsing, each open container keeps the bit set of pointers whose
 *    leading tokens match its path, so a key is compared only against the distinct tokens
 *    that can still match at that depth (after a one-bit digest test), and nothing at all
 *    is compared below unmatched paths.
 *  - A pointer's exact target seen twice (a duplicate key on its path) is rejected as
 *    duplicate_field: two readers of one message must never see different values.
 *  - Per field the best-ranked (earliest in its list) non-null value is kept; it is judged
 *    (type, length, control characters, timestamp syntax) only after the parse, so a
 *    broken lower-ranked alternative never rejects an event.
 *  - yajl allocates from a per-decoder bump arena that is reset after every message, so the
 *    decoder does not call malloc per message (except for escaped strings of several KiB,
 *    which fall back to malloc and are freed with the parser).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "churnwatch/event.h"
#include "churnwatch/values.h"

#define MAX_POINTERS  64      /* bits of a uint64_t path mask */
#define MAX_DEPTH_CAP 1024    /* largest input.max_depth the decoder accepts */
#define ARENA_SIZE    16384   /* bytes; yajl needs ~2.5 KiB, plus 2 KiB once a string is escaped */
#define MAX_INDEX     1000000 /* largest array index a pointer token may name */
#define EXCERPT_MAX   64      /* longest piece of a message quoted in a reason */

/* Largest epoch-millisecond timestamp accepted: 9999-12-31T23:59:59.999Z. */
#define TS_MAX_MS INT64_C(253402300799999)
/* Time-valued traits (created_at, renewal_at) are accepted in [1970-01-01, 2200-01-01):
 * renewals lie years ahead, but a date past 2199 is a placeholder ("9999-12-31") or a
 * unit error (seconds read as milliseconds), never a date to schedule by. */
#define TRAIT_TIME_END_MS INT64_C(7258118400000)
/* Largest seats trait accepted. */
#define SEATS_MAX INT64_C(1000000000)

/* The value slots filled while parsing: the six event fields, then the traits. */
enum slot_id {
    SLOT_TRAITS = CW_FIELD_TRAITS,
    SLOT_SEATS = CW_FIELD__COUNT,
    SLOT_CREATED_AT,
    SLOT_RENEWAL_AT,
    SLOT_PLAN,
    SLOT_SEGMENT,
    SLOT_OWNER,
    SLOT_PARENT_ID,
    SLOT_VALUE0, /* then one per event type with a value (at most CW_MAX_VALUED_TYPES) */
    SLOT__COUNT = SLOT_VALUE0 + CW_MAX_VALUED_TYPES
};
#define N_TRAITS       (SLOT_VALUE0 - SLOT_SEATS)
#define IS_TRAIT(slot) ((slot) >= SLOT_SEATS && (slot) < SLOT_VALUE0)

static const char *const trait_names[N_TRAITS] = {"seats",   "created_at", "renewal_at", "plan",
                                                  "segment", "owner",      "parent_id"};

enum vkind { V_NONE = 0, V_NULL, V_BOOL, V_NUMBER, V_STRING, V_OBJECT, V_ARRAY };

static const char *const kind_names[] = {
    [V_NONE] = "absent",     [V_NULL] = "null",       [V_BOOL] = "a boolean",
    [V_NUMBER] = "a number", [V_STRING] = "a string", [V_OBJECT] = "an object",
    [V_ARRAY] = "an array",
};

/* One reference token of a compiled pointer. */
struct token {
    const char *s; /* unescaped (~0 -> ~, ~1 -> /), not NUL-terminated */
    size_t len;
    long index; /* the array index the token names, or -1 */
};

/* A compiled JSON pointer. */
struct jptr {
    struct token *tok;
    unsigned ntok;
    unsigned slot; /* enum slot_id */
    unsigned rank; /* position in its field's list; lower wins */
    char *text;    /* as configured (traits: "<traits pointer>/<trait>"), for reasons */
};

/* The best value found so far for one slot. */
struct slot {
    unsigned rank; /* UINT_MAX: nothing yet */
    unsigned ptr;  /* index of the pointer that found it */
    enum vkind kind;
    size_t len;              /* full length of a string or number text */
    char buf[CW_ID_MAX + 1]; /* its first CW_ID_MAX bytes, NUL-terminated */
};

/* A distinct token at one depth, and the pointers that have it there. */
struct level_key {
    const char *s;
    size_t len;
    long index; /* as in struct token */
    uint64_t mask;
};

/* One open container at depth L (lv[1] is the top-level object). */
struct level {
    uint64_t in;  /* pointers whose tokens before this level match the path here */
    uint64_t cur; /* ... that also match the current key or index */
    long index;   /* current array index */
    bool array;
    /* Constants for depth L, built by cw_decoder_new. */
    uint64_t eq;                  /* pointers with exactly L tokens */
    uint64_t gt;                  /* pointers with more tokens */
    uint64_t bloom;               /* key_hash bits of the keys below */
    const struct level_key *keys; /* the distinct tokens number L of all pointers */
    unsigned nkeys;
};

struct type_entry {
    const char *name; /* NULL: free */
    size_t len;
    int index;
};

/* A bump allocator for yajl, reset per message; falls back to malloc when full. */
struct arena {
    unsigned char *base;
    size_t size, used, last; /* last: offset of the newest block's data */
};

struct cw_decoder {
    const struct cw_config *cfg;
    size_t max_id;
    unsigned max_depth;

    struct jptr ptr[MAX_POINTERS];
    unsigned nptr;
    uint64_t root; /* every pointer */

    struct level_key *keys; /* storage of every level's keys */

    struct type_entry *types;
    size_t types_mask;                          /* table size - 1 */
    signed char value_slot[CW_MAX_EVENT_TYPES]; /* type -> its value's slot, -1: none */
    unsigned n_valued;                          /* slots used from SLOT_VALUE0 on */

    yajl_callbacks cb;
    yajl_alloc_funcs afs;
    struct arena arena;

    /* Per message. */
    yajl_handle h;
    const unsigned char *in;
    size_t in_len;
    unsigned depth;   /* open containers */
    struct level *lv; /* [max_depth + 1], lv[1] is the top-level object */
    uint64_t seen;
    enum cw_reject rej;
    char *reason;
    size_t reasonsize;
    struct slot slot[SLOT__COUNT];
};

/* ---- reasons ---------------------------------------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static enum cw_reject
fail(cw_decoder *d, enum cw_reject code, const char *fmt, ...)
{
    d->rej = code;
    if (d->reasonsize) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->reason, d->reasonsize, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* A short, printable excerpt of s (at most EXCERPT_MAX bytes, cut on a UTF-8 boundary,
 * control characters, quotes and backslashes replaced by '?'). */
static void excerpt(char out[EXCERPT_MAX + 4], const char *s, size_t len)
{
    size_t n = len;
    if (n > EXCERPT_MAX) {
        n = EXCERPT_MAX;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c < 0x20 || c == 0x7F || c == '"' || c == '\\') ? '?' : (char)c;
    }
    if (n < len)
        memcpy(out + n, "...", 4);
    else
        out[n] = '\0';
}

/* ---- strict UTF-8 ------------------------------------------------------------------ */

/* Offset of the first byte that is not part of a valid RFC 3629 sequence, or n. */
static size_t utf8_invalid_at(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i + 8 <= n) { /* ASCII fast path */
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & UINT64_C(0x8080808080808080))
                break;
            i += 8;
        }
        if (i >= n)
            break;
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c < 0xC2) /* stray continuation byte, or overlong 2-byte lead */
            return i;
        if (c < 0xE0) {
            if (i + 1 >= n || (s[i + 1] & 0xC0) != 0x80)
                return i;
            i += 2;
        } else if (c < 0xF0) {
            if (i + 2 >= n)
                return i;
            unsigned char c1 = s[i + 1];
            if ((c1 & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80)
                return i;
            if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F)) /* overlong, surrogate */
                return i;
            i += 3;
        } else if (c < 0xF5) {
            if (i + 3 >= n)
                return i;
            unsigned char c1 = s[i + 1];
            if ((c1 & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80 || (s[i + 3] & 0xC0) != 0x80)
                return i;
            if ((c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F)) /* overlong, > U+10FFFF */
                return i;
            i += 4;
        } else {
            return i;
        }
    }
    return n;
}

static unsigned hex4(const unsigned char *p)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i];
        v = v * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

/*
 * Called for a string or key that contained escapes (yajl handed us its decoded copy):
 * find its raw token in the input, which ends just before the parser's offset, and check
 * that every \uD800-\uDFFF escape is part of a high+low pair. yajl silently turns an
 * unpaired surrogate into '?' or into bytes that are not UTF-8. Returns 0 when fine.
 */
static int check_surrogates(cw_decoder *d)
{
    size_t end = yajl_get_bytes_consumed(d->h); /* just past the closing quote */
    const unsigned char *in = d->in;
    if (end < 2 || end > d->in_len || in[end - 1] != '"')
        return 0; /* not positioned on a string token: nothing to check */
    size_t close = end - 1, open = close;
    for (;;) {
        if (open == 0)
            return 0;
        open--;
        if (in[open] == '"') {
            size_t k = 0;
            while (k < open && in[open - k - 1] == '\\')
                k++;
            if (k % 2 == 0)
                break;
        }
    }
    for (size_t j = open + 1; j < close; j++) {
        if (in[j] != '\\')
            continue;
        j++;
        if (in[j] != 'u')
            continue;
        unsigned cp = hex4(in + j + 1);
        size_t at = j - 1;
        j += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF && j + 6 < close && in[j + 1] == '\\' &&
            in[j + 2] == 'u') {
            unsigned lo = hex4(in + j + 3);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                j += 6;
                continue;
            }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) {
            fail(d, CW_REJ_INVALID_UTF8,
                 "unpaired surrogate escape \\u%04x at byte %zu: not a Unicode character", cp, at);
            return -1;
        }
    }
    return 0;
}

static bool from_input(const cw_decoder *d, const unsigned char *s)
{
    uintptr_t p = (uintptr_t)s, b = (uintptr_t)d->in;
    return p >= b && p < b + d->in_len;
}

/* Nonzero when some byte of w is < 0x20, 0x7F or 0xC2 (the bytes has_control looks at). */
static uint64_t control_suspect(uint64_t w)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    uint64_t del = w ^ (ones * 0x7F), c2 = w ^ (ones * 0xC2);
    return ((w - ones * 0x20) & ~w & highs) | ((del - ones) & ~del & highs) |
           ((c2 - ones) & ~c2 & highs);
}

/* True when s holds a C0 control character (NUL from \u0000 included), DEL, or a C1
 * control (U+0080..U+009F, encoded C2 80..C2 9F). s is valid UTF-8. */
static bool has_control(const char *s, size_t len)
{
    size_t i = 0;
    uint64_t w;
    for (; i + 8 <= len; i += 8) { /* whole words with no suspect byte are skipped */
        memcpy(&w, s + i, 8);
        if (control_suspect(w))
            goto exact;
    }
    w = UINT64_C(0x6161616161616161); /* the tail, padded with 'a' */
    memcpy(&w, s + i, len - i);
    if (!control_suspect(w))
        return false;
exact:
    for (; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7F || (c == 0xC2 && i + 1 < len && (unsigned char)s[i + 1] <= 0x9F))
            return true;
    }
    return false;
}

/* ---- the arena ---------------------------------------------------------------------- */

#define ARENA_ALIGN  16
#define ARENA_HEADER ARENA_ALIGN /* holds the block size */

/* Under AddressSanitizer, arena bytes outside live blocks are poisoned, so an overrun of a
 * yajl block is still caught although it is not a malloc block. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

static void arena_reset(struct arena *a)
{
    a->used = 0;
    a->last = 0;
    POISON(a->base, a->size);
}

static size_t align_up(size_t n)
{
    return (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
}

static bool in_arena(const struct arena *a, const void *p)
{
    uintptr_t q = (uintptr_t)p, b = (uintptr_t)a->base;
    return q >= b && q < b + a->size;
}

static void *arena_malloc(void *ctx, size_t sz)
{
    struct arena *a = ctx;
    size_t need = ARENA_HEADER + align_up(sz);
    if (need > a->size - a->used)
        return malloc(sz);
    unsigned char *hdr = a->base + a->used;
    UNPOISON(hdr, sizeof sz);
    UNPOISON(hdr + ARENA_HEADER, sz);
    memcpy(hdr, &sz, sizeof sz);
    a->last = a->used + ARENA_HEADER;
    a->used += need;
    return hdr + ARENA_HEADER;
}

static void *arena_realloc(void *ctx, void *p, size_t sz)
{
    struct arena *a = ctx;
    if (p == NULL)
        return arena_malloc(ctx, sz);
    if (!in_arena(a, p))
        return realloc(p, sz);
    size_t off = (size_t)((unsigned char *)p - a->base), old;
    memcpy(&old, a->base + off - ARENA_HEADER, sizeof old);
    if (off == a->last && align_up(sz) <= a->size - off) { /* the newest block: grow in place */
        POISON(p, old);
        UNPOISON(p, sz);
        memcpy(a->base + off - ARENA_HEADER, &sz, sizeof sz);
        a->used = off + align_up(sz);
        return p;
    }
    void *q = arena_malloc(ctx, sz);
    if (q)
        memcpy(q, p, old < sz ? old : sz);
    return q;
}

static void arena_free(void *ctx, void *p)
{
    struct arena *a = ctx;
    if (p && !in_arena(a, p))
        free(p);
    /* Arena blocks are reclaimed all at once by the per-message reset. */
}

/* ---- path tracking ----------------------------------------------------------------- */

#define FOR_EACH_BIT(b, mask)                                                                      \
    for (uint64_t m_ = (mask); m_ && ((b) = (unsigned)__builtin_ctzll(m_), 1); m_ &= m_ - 1)

/* Record a value of kind k (text s/len for strings and numbers) found at the exact target
 * of every pointer in hits. Returns 1 to go on, 0 to stop the parse (reject set). */
static int record(cw_decoder *d, uint64_t hits, enum vkind k, const unsigned char *s, size_t len)
{
    unsigned p;
    FOR_EACH_BIT(p, hits)
    {
        const struct jptr *jp = &d->ptr[p];
        if (d->seen & (UINT64_C(1) << p)) {
            fail(d, CW_REJ_DUPLICATE_FIELD, "%s appears twice at %s (duplicate key on its path)",
                 jp->slot >= SLOT_VALUE0  ? "value"
                 : jp->slot >= SLOT_SEATS ? "trait"
                                          : cw_field_name((enum cw_field)jp->slot),
                 jp->text);
            return 0;
        }
        d->seen |= UINT64_C(1) << p;
        if (k == V_NULL && jp->slot != SLOT_PARENT_ID)
            continue; /* null counts as absent: a later pointer may still resolve (a null
                         parent_id is kept: it detaches the account, take_parent) */
        struct slot *sl = &d->slot[jp->slot];
        if (IS_TRAIT(jp->slot)) {
            /* A trait counts only inside the traits value that currently wins. */
            if (d->slot[SLOT_TRAITS].rank != jp->rank)
                continue;
        } else if (jp->rank >= sl->rank) {
            continue;
        }
        sl->rank = jp->rank;
        sl->ptr = p;
        sl->kind = k;
        sl->len = len;
        if (s) {
            /* Longer values are rejected on their length alone, before their content. */
            size_t n = len < CW_ID_MAX ? len : CW_ID_MAX;
            memcpy(sl->buf, s, n);
            sl->buf[n] = '\0';
        }
        if (jp->slot == SLOT_TRAITS)
            for (int t = SLOT_SEATS; t < SLOT_VALUE0; t++)
                d->slot[t].rank = UINT_MAX, d->slot[t].kind = V_NONE;
    }
    return 1;
}

/* A 6-bit digest of a key: most keys that match no pointer are dismissed by one bit test. */
static unsigned key_hash(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    return (unsigned)(len * 7 + (unsigned char)s[0] + (unsigned char)s[len - 1] * 3) & 63u;
}

/* A value starts at the current position (inside depth >= 1). Returns the pointers whose
 * exact target it is. */
static uint64_t value_here(cw_decoder *d)
{
    struct level *l = &d->lv[d->depth];
    if (l->array) {
        l->index++;
        uint64_t cur = 0;
        if (l->in)
            for (unsigned i = 0; i < l->nkeys; i++)
                if (l->keys[i].index == l->index && (l->keys[i].mask & l->in)) {
                    cur = l->keys[i].mask & l->in;
                    break;
                }
        l->cur = cur;
    }
    return l->cur & l->eq;
}

/* A scalar value. */
static int scalar(cw_decoder *d, enum vkind k, const unsigned char *s, size_t len)
{
    if (d->depth == 0) {
        fail(d, CW_REJ_NOT_OBJECT, "the message is %s, not a JSON object", kind_names[k]);
        return 0;
    }
    uint64_t hits = value_here(d);
    return hits ? record(d, hits, k, s, len) : 1;
}

static int open_container(cw_decoder *d, bool array)
{
    uint64_t child;
    if (d->depth == 0) {
        /* yajl itself rejects a second top-level value as trailing garbage. */
        if (array) {
            fail(d, CW_REJ_NOT_OBJECT, "the message is an array, not a JSON object");
            return 0;
        }
        child = d->root;
    } else {
        uint64_t hits = value_here(d);
        if (hits && !record(d, hits, array ? V_ARRAY : V_OBJECT, NULL, 0))
            return 0;
        child = d->lv[d->depth].cur & d->lv[d->depth].gt;
    }
    if (d->depth >= d->max_depth) {
        fail(d, CW_REJ_TOO_DEEP, "nesting deeper than input.max_depth (%u) at byte %zu",
             d->max_depth, yajl_get_bytes_consumed(d->h));
        return 0;
    }
    struct level *l = &d->lv[++d->depth];
    l->in = child;
    l->cur = 0;
    l->array = array;
    l->index = -1;
    return 1;
}

static int cb_null(void *ctx)
{
    return scalar(ctx, V_NULL, NULL, 0);
}

static int cb_boolean(void *ctx, int v)
{
    (void)v;
    return scalar(ctx, V_BOOL, NULL, 0);
}

static int cb_number(void *ctx, const char *s, size_t len)
{
    return scalar(ctx, V_NUMBER, (const unsigned char *)s, len);
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
    cw_decoder *d = ctx;
    if (!from_input(d, s) && check_surrogates(d))
        return 0;
    return scalar(d, V_STRING, s, len);
}

static int cb_start_map(void *ctx)
{
    return open_container(ctx, false);
}

static int cb_start_array(void *ctx)
{
    return open_container(ctx, true);
}

static int cb_end(void *ctx)
{
    cw_decoder *d = ctx;
    d->depth--;
    return 1;
}

static int cb_map_key(void *ctx, const unsigned char *key, size_t len)
{
    cw_decoder *d = ctx;
    if (!from_input(d, key) && check_surrogates(d))
        return 0;
    struct level *l = &d->lv[d->depth];
    uint64_t cur = 0;
    if (l->in && (l->bloom >> key_hash((const char *)key, len) & 1))
        for (unsigned i = 0; i < l->nkeys; i++) {
            const struct level_key *k = &l->keys[i];
            if (k->len == len && (k->mask & l->in) && memcmp(k->s, key, len) == 0) {
                cur = k->mask & l->in;
                break;
            }
        }
    l->cur = cur;
    return 1;
}

/* ---- construction ------------------------------------------------------------------- */

/* Compile pointer text into d->ptr[d->nptr] (with an extra trailing token when extra is
 * not NULL). Returns 0, or -1 with err filled. */
static int compile(cw_decoder *d, const char *text, const char *extra, unsigned slot, unsigned rank,
                   char *err, size_t errsize)
{
    const char *field =
        slot >= SLOT_VALUE0
            ? "value"
            : cw_field_name((enum cw_field)(slot < SLOT_SEATS ? slot : SLOT_TRAITS));
    if (d->nptr >= MAX_POINTERS) {
        snprintf(err, errsize,
                 "input: more than %d JSON pointers in all (each traits pointer counts %d)",
                 MAX_POINTERS, 1 + N_TRAITS);
        return -1;
    }
    if (text == NULL || text[0] != '/') {
        snprintf(err, errsize, "input.%s: JSON pointer \"%s\" must start with '/'", field,
                 text ? text : "(null)");
        return -1;
    }
    size_t tlen = strlen(text), elen = extra ? strlen(extra) : 0;
    unsigned ntok = extra ? 1 : 0;
    for (size_t i = 0; i < tlen; i++) {
        if (text[i] == '/')
            ntok++;
        if (text[i] == '~' && (i + 1 >= tlen || (text[i + 1] != '0' && text[i + 1] != '1'))) {
            snprintf(err, errsize, "input.%s: JSON pointer \"%s\": '~' must be followed by 0 or 1",
                     field, text);
            return -1;
        }
    }
    /* One block: tokens, the unescaped token bytes, and the display text. */
    size_t size = ntok * sizeof(struct token) + tlen + elen + 1 + tlen + elen + 2;
    unsigned char *mem = malloc(size);
    if (!mem) {
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    struct jptr *jp = &d->ptr[d->nptr];
    jp->tok = (struct token *)mem;
    char *bytes = (char *)(mem + ntok * sizeof(struct token));
    jp->text = bytes + tlen + elen + 1;
    snprintf(jp->text, tlen + elen + 2, "%s%s%s", text, extra ? "/" : "", extra ? extra : "");

    unsigned t = 0;
    char *w = bytes;
    for (size_t i = 1; i <= tlen; t++) { /* text[0] is '/' */
        struct token *tk = &jp->tok[t];
        tk->s = w;
        while (i < tlen && text[i] != '/') {
            if (text[i] == '~') {
                *w++ = text[i + 1] == '1' ? '/' : '~';
                i += 2;
            } else {
                *w++ = text[i++];
            }
        }
        i++; /* past the '/' (or the end) */
        tk->len = (size_t)(w - tk->s);
    }
    if (extra) {
        memcpy(w, extra, elen);
        jp->tok[t].s = w;
        jp->tok[t++].len = elen;
    }
    for (unsigned k = 0; k < ntok; k++) {
        /* RFC 6901: an array index is "0" or digits without a leading zero. */
        struct token *tk = &jp->tok[k];
        tk->index = -1;
        if (tk->len == 0 || tk->len > 7 || (tk->len > 1 && tk->s[0] == '0'))
            continue;
        long v = 0;
        size_t j = 0;
        for (; j < tk->len && tk->s[j] >= '0' && tk->s[j] <= '9'; j++)
            v = v * 10 + (tk->s[j] - '0');
        if (j == tk->len && v <= MAX_INDEX)
            tk->index = v;
    }
    jp->ntok = ntok;
    jp->slot = slot;
    jp->rank = rank;
    d->nptr++;
    return 0;
}

static uint64_t hash_name(const char *s, size_t len)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * UINT64_C(0x100000001b3);
    return h;
}

/* Insert name -> index unless the name is already there (the first type naming it wins,
 * as in cw_config_event_type_index). */
static void type_insert(cw_decoder *d, const char *name, int index)
{
    size_t len = strlen(name);
    for (size_t i = hash_name(name, len) & d->types_mask;; i = (i + 1) & d->types_mask) {
        struct type_entry *e = &d->types[i];
        if (e->name == NULL) {
            e->name = name;
            e->len = len;
            e->index = index;
            return;
        }
        if (e->len == len && memcmp(e->name, name, len) == 0)
            return;
    }
}

static int type_lookup(const cw_decoder *d, const char *name, size_t len)
{
    for (size_t i = hash_name(name, len) & d->types_mask;; i = (i + 1) & d->types_mask) {
        const struct type_entry *e = &d->types[i];
        if (e->name == NULL)
            return -1;
        if (e->len == len && memcmp(e->name, name, len) == 0)
            return e->index;
    }
}

cw_decoder *cw_decoder_new(const struct cw_config *cfg, char *err, size_t errsize)
{
    const struct cw_input_config *in = &cfg->input;
    const struct cw_strlist *lists[CW_FIELD__COUNT] = {
        [CW_FIELD_ACCOUNT_ID] = &in->account_id,
        [CW_FIELD_USER_ID] = &in->user_id,
        [CW_FIELD_TYPE] = &in->type,
        [CW_FIELD_TS] = &in->ts,
        [CW_FIELD_EVENT_ID] = &in->event_id,
        [CW_FIELD_TRAITS] = &in->traits,
    };

    if (in->max_id_length == 0 || in->max_id_length > CW_ID_MAX) {
        snprintf(err, errsize, "input.max_id_length %zu is outside 1..%d", in->max_id_length,
                 CW_ID_MAX);
        return NULL;
    }
    if (in->max_depth == 0 || in->max_depth > MAX_DEPTH_CAP) {
        snprintf(err, errsize, "input.max_depth %u is outside 1..%d", in->max_depth, MAX_DEPTH_CAP);
        return NULL;
    }
    if (in->max_message_bytes == 0) {
        snprintf(err, errsize, "input.max_message_bytes must be positive");
        return NULL;
    }
    if (in->account_id.n == 0 || in->type.n == 0) {
        snprintf(err, errsize, "input.%s has no JSON pointer",
                 in->account_id.n == 0 ? "account_id" : "type");
        return NULL;
    }

    cw_decoder *d = calloc(1, sizeof *d);
    if (!d)
        goto oom;
    d->cfg = cfg;
    d->max_id = in->max_id_length;
    d->max_depth = in->max_depth;

    for (unsigned f = 0; f < CW_FIELD__COUNT; f++) {
        for (size_t r = 0; r < lists[f]->n; r++) {
            if (compile(d, lists[f]->items[r], NULL, f, (unsigned)r, err, errsize))
                goto fail;
            if (f == CW_FIELD_TRAITS)
                for (unsigned t = 0; t < N_TRAITS; t++)
                    if (compile(d, lists[f]->items[r], trait_names[t], SLOT_SEATS + t, (unsigned)r,
                                err, errsize))
                        goto fail;
        }
    }
    /* Values: one slot per event type that has one, compiled only when there is one. */
    for (size_t i = 0; i < CW_MAX_EVENT_TYPES; i++)
        d->value_slot[i] = -1;
    for (size_t i = 0; i < cfg->n_event_types && i < CW_MAX_EVENT_TYPES; i++) {
        const struct cw_strlist *v = &cfg->event_types[i].value;
        if (v->n == 0)
            continue;
        if (d->n_valued == CW_MAX_VALUED_TYPES) {
            snprintf(err, errsize, "more than %d event types with a value", CW_MAX_VALUED_TYPES);
            goto fail;
        }
        for (size_t r = 0; r < v->n; r++)
            if (compile(d, v->items[r], NULL, SLOT_VALUE0 + d->n_valued, (unsigned)r, err, errsize))
                goto fail;
        d->value_slot[i] = (signed char)d->n_valued++;
    }
    d->root = d->nptr == 64 ? UINT64_MAX : (UINT64_C(1) << d->nptr) - 1;

    d->lv = calloc(d->max_depth + 1, sizeof *d->lv);
    if (!d->lv)
        goto oom;
    size_t total = 1;
    for (unsigned p = 0; p < d->nptr; p++)
        total += d->ptr[p].ntok;
    d->keys = calloc(total, sizeof *d->keys);
    if (!d->keys)
        goto oom;
    struct level_key *next = d->keys;
    for (unsigned l = 1; l <= d->max_depth; l++) {
        struct level *lv = &d->lv[l];
        lv->keys = next;
        for (unsigned p = 0; p < d->nptr; p++) {
            const struct jptr *jp = &d->ptr[p];
            if (jp->ntok < l)
                continue;
            if (jp->ntok == l)
                lv->eq |= UINT64_C(1) << p;
            else
                lv->gt |= UINT64_C(1) << p;
            const struct token *t = &jp->tok[l - 1];
            unsigned k = 0;
            while (k < lv->nkeys && !(next[k].len == t->len && !memcmp(next[k].s, t->s, t->len)))
                k++;
            if (k == lv->nkeys) {
                next[k] = (struct level_key){t->s, t->len, t->index, 0};
                lv->nkeys++;
                lv->bloom |= UINT64_C(1) << key_hash(t->s, t->len);
            }
            next[k].mask |= UINT64_C(1) << p;
        }
        next += lv->nkeys;
    }

    size_t names = 0;
    for (size_t i = 0; i < cfg->n_event_types; i++)
        names += 1 + cfg->event_types[i].aliases.n;
    size_t cap = 16;
    while (cap < 2 * names)
        cap *= 2;
    d->types = calloc(cap, sizeof *d->types);
    if (!d->types)
        goto oom;
    d->types_mask = cap - 1;
    for (size_t i = 0; i < cfg->n_event_types; i++) {
        const struct cw_event_type *t = &cfg->event_types[i];
        if (t->name == NULL) {
            snprintf(err, errsize, "event_types[%zu] has no name", i);
            goto fail;
        }
        type_insert(d, t->name, (int)i);
        for (size_t a = 0; a < t->aliases.n; a++)
            type_insert(d, t->aliases.items[a], (int)i);
    }

    d->arena.size = ARENA_SIZE;
    d->arena.base = malloc(ARENA_SIZE);
    if (!d->arena.base)
        goto oom;
    arena_reset(&d->arena);
    d->afs = (yajl_alloc_funcs){arena_malloc, arena_realloc, arena_free, &d->arena};
    d->cb = (yajl_callbacks){
        .yajl_null = cb_null,
        .yajl_boolean = cb_boolean,
        .yajl_number = cb_number,
        .yajl_string = cb_string,
        .yajl_start_map = cb_start_map,
        .yajl_map_key = cb_map_key,
        .yajl_end_map = cb_end,
        .yajl_start_array = cb_start_array,
        .yajl_end_array = cb_end,
    };
    return d;

oom:
    snprintf(err, errsize, "out of memory");
fail:
    cw_decoder_free(d);
    return NULL;
}

void cw_decoder_free(cw_decoder *dec)
{
    if (!dec)
        return;
    for (unsigned p = 0; p < dec->nptr; p++)
        free(dec->ptr[p].tok);
    free(dec->lv);
    free(dec->keys);
    free(dec->types);
    free(dec->arena.base);
    free(dec);
}

/* ---- judging the values found --------------------------------------------------------- */

/* The configured pointers of a field, ", "-separated, for "not found" reasons. */
static void pointer_list(const cw_decoder *d, unsigned slot, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    for (unsigned p = 0; p < d->nptr && n < size; p++) {
        if (d->ptr[p].slot != slot)
            continue;
        int w = snprintf(out + n, size - n, "%s%s", n ? ", " : "", d->ptr[p].text);
        if (w < 0)
            break;
        n += (size_t)w;
    }
}

/* Judge an id field: copies it into out (max_id + 1 bytes) or rejects. An absent or empty
 * optional id yields "". */
static enum cw_reject take_id(cw_decoder *d, unsigned slot, enum cw_reject missing, char *out)
{
    const struct slot *s = &d->slot[slot];
    if (s->kind == V_STRING && s->len > 0 && s->len <= d->max_id && !has_control(s->buf, s->len)) {
        memcpy(out, s->buf, s->len + 1); /* the common case */
        return CW_OK;
    }
    const char *name = cw_field_name((enum cw_field)slot);
    if (s->kind == V_NONE || (s->kind == V_STRING && s->len == 0)) {
        if (missing == CW_OK) {
            out[0] = '\0';
            return CW_OK;
        }
        if (s->kind == V_STRING)
            return fail(d, missing, "%s at %s is empty", name, d->ptr[s->ptr].text);
        char list[256];
        pointer_list(d, slot, list, sizeof list);
        return fail(d, missing, "no %s: absent or null at %s", name, list);
    }
    const char *at = d->ptr[s->ptr].text;
    if (s->kind != V_STRING)
        return fail(d, CW_REJ_WRONG_FIELD_TYPE, "%s at %s is %s, expected a string", name, at,
                    kind_names[s->kind]);
    if (s->len > d->max_id)
        return fail(d, CW_REJ_BAD_ID, "%s at %s is %zu bytes, longer than input.max_id_length %zu",
                    name, at, s->len, d->max_id);
    if (has_control(s->buf, s->len))
        return fail(d, CW_REJ_BAD_ID, "%s at %s contains a control character", name, at);
    memcpy(out, s->buf, s->len + 1);
    return CW_OK;
}

/* Parse an epoch-millisecond JSON number: a plain integer (no fraction, no exponent) in
 * 0..TS_MAX_MS. Returns 0 or -1. */
static int parse_epoch_ms(const char *text, size_t len, int64_t *out)
{
    if (len == 0 || len > 15)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        v = v * 10 + (text[i] - '0');
    }
    if (v > TS_MAX_MS)
        return -1;
    *out = v;
    return 0;
}

/* A time value (the ts field, created_at, renewal_at): an RFC 3339 string or an epoch-ms
 * integer. Returns 0, or -1 with a description of what is wrong in why. */
static int take_time(const struct slot *s, int64_t *out, const char **why)
{
    if (s->kind == V_STRING) {
        if (s->len > CW_ID_MAX || cw_rfc3339_parse(s->buf, s->len, out)) {
            *why = "is not an RFC 3339 timestamp with offset in 1970..9999";
            return -1;
        }
        return 0;
    }
    if (s->kind == V_NUMBER) {
        if (s->len > 0 && s->buf[0] == '-') {
            *why = "is a negative number";
            return -1;
        }
        if (strpbrk(s->buf, ".eE")) {
            *why = "is a number with a fraction or exponent, expected integer epoch milliseconds";
            return -1;
        }
        if (parse_epoch_ms(s->buf, s->len, out)) {
            *why = "is beyond 9999-12-31 as epoch milliseconds";
            return -1;
        }
        return 0;
    }
    *why = "is not a string or a number";
    return -1;
}

static enum cw_reject take_ts(cw_decoder *d, int64_t msg_ts_ms, struct cw_event *ev)
{
    const struct slot *s = &d->slot[CW_FIELD_TS];
    if (s->kind == V_NONE) {
        if (msg_ts_ms < 0) {
            char list[256];
            pointer_list(d, CW_FIELD_TS, list, sizeof list);
            return fail(d, CW_REJ_BAD_TIMESTAMP, "no ts at %s and the message has no timestamp",
                        list);
        }
        ev->ts_ms = msg_ts_ms;
        ev->ts_from_message = true;
        return CW_OK;
    }
    const char *why;
    if (take_time(s, &ev->ts_ms, &why)) {
        char ex[EXCERPT_MAX + 4];
        excerpt(ex, s->buf, s->len < CW_ID_MAX ? s->len : CW_ID_MAX);
        if (s->kind == V_STRING || s->kind == V_NUMBER)
            return fail(d, CW_REJ_BAD_TIMESTAMP, "ts at %s %s: \"%s\"", d->ptr[s->ptr].text, why,
                        ex);
        return fail(d, CW_REJ_BAD_TIMESTAMP,
                    "ts at %s is %s, expected an RFC 3339 string or "
                    "epoch milliseconds",
                    d->ptr[s->ptr].text, kind_names[s->kind]);
    }
    ev->ts_from_message = false;
    return CW_OK;
}

/* The parent_id trait into out: an id under the account id's rules (an empty string is
 * not carried), never the account itself; null detaches the account (*detach). */
static enum cw_reject take_parent(cw_decoder *d, const char *account_id, char *out, bool *detach)
{
    const struct slot *s = &d->slot[SLOT_PARENT_ID];
    out[0] = '\0';
    *detach = s->kind == V_NULL;
    if (s->kind == V_NONE || s->kind == V_NULL || (s->kind == V_STRING && s->len == 0))
        return CW_OK;
    const char *at = d->ptr[s->ptr].text;
    if (s->kind != V_STRING)
        return fail(d, CW_REJ_BAD_TRAITS, "parent_id at %s is %s, expected a string", at,
                    kind_names[s->kind]);
    if (s->len > d->max_id)
        return fail(d, CW_REJ_BAD_TRAITS,
                    "parent_id at %s is %zu bytes, longer than input.max_id_length %zu", at, s->len,
                    d->max_id);
    if (has_control(s->buf, s->len))
        return fail(d, CW_REJ_BAD_TRAITS, "parent_id at %s contains a control character", at);
    if (strcmp(s->buf, account_id) == 0)
        return fail(d, CW_REJ_BAD_TRAITS, "parent_id at %s is the account itself", at);
    memcpy(out, s->buf, s->len + 1);
    return CW_OK;
}

static enum cw_reject take_traits(cw_decoder *d, const char *account_id, struct cw_traits *tr)
{
    const struct slot *ts = &d->slot[SLOT_TRAITS];
    if (ts->kind != V_OBJECT)
        return fail(d, CW_REJ_BAD_TRAITS, "traits at %s is %s, expected an object",
                    d->ptr[ts->ptr].text, kind_names[ts->kind]);

    const struct slot *s = &d->slot[SLOT_SEATS];
    if (s->kind != V_NONE) {
        /* A non-negative integer, or a string of digits (CRM-synced traits often are). */
        int64_t v;
        if ((s->kind != V_NUMBER && s->kind != V_STRING) || s->len > 10 ||
            parse_epoch_ms(s->buf, s->len, &v) || v > SEATS_MAX)
            return fail(d, CW_REJ_BAD_TRAITS,
                        "seats at %s is not a whole number in 0..%lld (it is %s)",
                        d->ptr[s->ptr].text, (long long)SEATS_MAX, kind_names[s->kind]);
        tr->has_seats = true;
        tr->seats = v;
    }

    const unsigned times[2] = {SLOT_CREATED_AT, SLOT_RENEWAL_AT};
    for (int i = 0; i < 2; i++) {
        s = &d->slot[times[i]];
        if (s->kind == V_NONE)
            continue;
        const char *why;
        int64_t v;
        if (take_time(s, &v, &why))
            return fail(d, CW_REJ_BAD_TRAITS, "%s at %s %s", trait_names[times[i] - SLOT_SEATS],
                        d->ptr[s->ptr].text, why);
        if (v >= TRAIT_TIME_END_MS)
            return fail(d, CW_REJ_BAD_TRAITS,
                        "%s at %s is %lld ms, not before 2200-01-01T00:00:00Z (time-valued "
                        "traits are in 1970..2199)",
                        trait_names[times[i] - SLOT_SEATS], d->ptr[s->ptr].text, (long long)v);
        if (i == 0)
            tr->has_created_at = true, tr->created_at_ms = v;
        else
            tr->has_renewal_at = true, tr->renewal_at_ms = v;
    }

    char *const strs[3] = {tr->plan, tr->segment, tr->owner};
    for (int i = 0; i < 3; i++) {
        s = &d->slot[SLOT_PLAN + i];
        const char *name = trait_names[SLOT_PLAN + i - SLOT_SEATS];
        if (s->kind == V_NONE)
            continue;
        if (s->kind != V_STRING)
            return fail(d, CW_REJ_BAD_TRAITS, "%s at %s is %s, expected a string", name,
                        d->ptr[s->ptr].text, kind_names[s->kind]);
        if (s->len > CW_TRAIT_MAX)
            return fail(d, CW_REJ_BAD_TRAITS, "%s at %s is %zu bytes, longer than %d", name,
                        d->ptr[s->ptr].text, s->len, CW_TRAIT_MAX);
        if (has_control(s->buf, s->len))
            return fail(d, CW_REJ_BAD_TRAITS, "%s at %s contains a control character", name,
                        d->ptr[s->ptr].text);
        memcpy(strs[i], s->buf, s->len + 1);
    }
    return take_parent(d, account_id, tr->parent_id, &tr->parent_detach);
}

/* The value of an event of type ti (which has one) into ev. */
static enum cw_reject take_value(cw_decoder *d, int ti, struct cw_event *ev)
{
    unsigned slot = SLOT_VALUE0 + (unsigned)d->value_slot[ti];
    const struct slot *s = &d->slot[slot];
    const char *why = NULL;
    if (s->kind == V_NONE) {
        char list[256];
        pointer_list(d, slot, list, sizeof list);
        return fail(d, CW_REJ_BAD_VALUE, "no value: absent or null at %s", list);
    }
    if (s->kind != V_NUMBER && s->kind != V_STRING)
        return fail(d, CW_REJ_BAD_VALUE, "value at %s is %s, expected a number",
                    d->ptr[s->ptr].text, kind_names[s->kind]);
    if (s->len > CW_ID_MAX || cw_value_parse(s->buf, s->len, &ev->value, &why)) {
        char ex[EXCERPT_MAX + 4];
        excerpt(ex, s->buf, s->len < CW_ID_MAX ? s->len : CW_ID_MAX);
        return fail(d, CW_REJ_BAD_VALUE, "value at %s %s: \"%s\"", d->ptr[s->ptr].text,
                    why ? why : "is too long", ex);
    }
    ev->has_value = true;
    return CW_OK;
}

/* ---- decoding ------------------------------------------------------------------------ */

/* Run yajl over the message; CW_OK when it is one well-formed JSON object. */
static enum cw_reject parse(cw_decoder *d, const unsigned char *buf, size_t len)
{
    arena_reset(&d->arena);
    d->h = yajl_alloc(&d->cb, &d->afs, d);
    if (!d->h)
        return fail(d, CW_REJ_INVALID_JSON, "out of memory while parsing");
    yajl_config(d->h, yajl_dont_validate_strings, 1); /* done strictly beforehand */

    bool at_end = false;
    yajl_status st = yajl_parse(d->h, buf, len);
    if (st == yajl_status_ok) {
        at_end = true;
        st = yajl_complete_parse(d->h);
    }
    enum cw_reject rc = CW_OK;
    if (st == yajl_status_client_canceled) {
        rc = d->rej;
    } else if (st != yajl_status_ok) {
        unsigned char *msg = yajl_get_error(d->h, 0, buf, len);
        size_t at = at_end ? len : yajl_get_bytes_consumed(d->h);
        char text[128] = "malformed JSON";
        if (msg) {
            snprintf(text, sizeof text, "%s", (const char *)msg);
            text[strcspn(text, "\n")] = '\0';
            yajl_free_error(d->h, msg);
        }
        rc = fail(d, CW_REJ_INVALID_JSON, "invalid JSON at byte %zu: %s", at, text);
    }
    yajl_free(d->h);
    d->h = NULL;
    return rc;
}

enum cw_reject cw_decode(cw_decoder *dec, const void *buf, size_t len, int64_t msg_ts_ms,
                         struct cw_event *ev, char *reason, size_t reasonsize)
{
    cw_decoder *d = dec;
    const struct cw_config *cfg = d->cfg;
    enum cw_reject rc;

    d->reason = reason;
    d->reasonsize = reasonsize;
    if (reasonsize)
        reason[0] = '\0';
    d->rej = CW_OK;

    if (len > cfg->input.max_message_bytes)
        return fail(d, CW_REJ_TOO_LARGE, "message is %zu bytes, over input.max_message_bytes %zu",
                    len, cfg->input.max_message_bytes);
    if (len == 0)
        return fail(d, CW_REJ_INVALID_JSON, "empty message");
    size_t bad = utf8_invalid_at(buf, len);
    if (bad < len)
        return fail(d, CW_REJ_INVALID_UTF8, "invalid UTF-8 at byte %zu (0x%02x)", bad,
                    ((const unsigned char *)buf)[bad]);

    d->in = buf;
    d->in_len = len;
    d->depth = 0;
    d->seen = 0;
    for (unsigned i = 0; i < SLOT_VALUE0 + d->n_valued; i++) {
        d->slot[i].rank = UINT_MAX;
        d->slot[i].kind = V_NONE;
    }
    rc = parse(d, buf, len);
    if (rc != CW_OK)
        return rc;

    if ((rc = take_id(d, CW_FIELD_ACCOUNT_ID, CW_REJ_MISSING_ACCOUNT_ID, ev->account_id)) ||
        (rc = take_id(d, CW_FIELD_TYPE, CW_REJ_MISSING_TYPE, ev->type)) ||
        (rc = take_id(d, CW_FIELD_USER_ID, CW_OK, ev->user_id)) ||
        (rc = take_id(d, CW_FIELD_EVENT_ID, CW_OK, ev->event_id)) ||
        (rc = take_ts(d, msg_ts_ms, ev)))
        return rc;

    int ti = type_lookup(d, ev->type, d->slot[CW_FIELD_TYPE].len);
    if (ti < 0 && cfg->input.unknown_types == CW_UNKNOWN_DLQ) {
        char ex[EXCERPT_MAX + 4];
        excerpt(ex, ev->type, d->slot[CW_FIELD_TYPE].len);
        return fail(d, CW_REJ_UNKNOWN_TYPE,
                    "event type \"%s\" is not in event_types (input.unknown_types: dlq)", ex);
    }
    ev->type_index = ti;
    ev->metric = ti >= 0 ? cfg->event_types[ti].metric : -1;
    ev->has_value = false;
    ev->value = 0;
    if (ti >= 0 && ti < CW_MAX_EVENT_TYPES && d->value_slot[ti] >= 0 &&
        (rc = take_value(d, ti, ev)))
        return rc;

    struct cw_traits *tr = &ev->traits;
    tr->has_seats = tr->has_created_at = tr->has_renewal_at = false;
    tr->seats = tr->created_at_ms = tr->renewal_at_ms = 0;
    tr->plan[0] = tr->segment[0] = tr->owner[0] = tr->parent_id[0] = '\0';
    tr->parent_detach = false;
    ev->has_traits = false;
    /* Traits are read for traits event types only; elsewhere they are not ours to judge. */
    if (ti >= 0 && cfg->event_types[ti].traits && d->slot[SLOT_TRAITS].kind != V_NONE) {
        if ((rc = take_traits(d, ev->account_id, tr)))
            return rc;
        ev->has_traits = true;
    }
    return CW_OK;
}
