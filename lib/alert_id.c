/* alert_id.c - stable 128-bit ids: alert episodes (account, rule, episode start) and score
 * feed messages (account, instant, score) */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "churnwatch/rules.h"
#include "churnwatch/score_feed.h"

_Static_assert(CW_ALERT_ID_LEN == 32 && CW_SCORE_ID_LEN == 32, "ids are 128 bits in hex");

#define FNV64_PRIME UINT64_C(0x00000100000001b3)
#define FNV64_BASIS UINT64_C(0xcbf29ce484222325) /* the standard FNV-1a 64 offset basis */
#define ALT_BASIS   UINT64_C(0x6a09e667f3bcc908) /* frac(sqrt(2)): an unrelated second start */

/* Two FNV-1a 64 states advanced over the same bytes from different bases. */
struct hash2 {
    uint64_t a;
    uint64_t b;
};

static void hash2_bytes(struct hash2 *h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h->a = (h->a ^ p[i]) * FNV64_PRIME;
        h->b = (h->b ^ p[i]) * FNV64_PRIME;
    }
}

/* Feed v as 8 little-endian bytes, so the id does not depend on the host's byte order. */
static void hash2_u64(struct hash2 *h, uint64_t v)
{
    unsigned char le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)(v >> (8 * i));
    hash2_bytes(h, le, sizeof le);
}

/* A length-prefixed string: ("ab", "c") and ("a", "bc") feed different bytes. */
static void hash2_str(struct hash2 *h, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    hash2_u64(h, (uint64_t)n);
    hash2_bytes(h, s ? s : "", n);
}

/* MurmurHash3's fmix64 finaliser: every input bit affects every output bit. */
static uint64_t fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= UINT64_C(0xff51afd7ed558ccd);
    k ^= k >> 33;
    k *= UINT64_C(0xc4ceb9fe1a85ec53);
    k ^= k >> 33;
    return k;
}

static void put_hex64(char *out, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        out[i] = digits[v & 0xf];
        v >>= 4;
    }
}

/* The 32 hex digits of h, finalised. */
static void hash2_hex(const struct hash2 *h, char out[33])
{
    put_hex64(out, fmix64(h->a));
    put_hex64(out + 16, fmix64(h->b ^ (h->a >> 32 | h->a << 32)));
    out[32] = '\0';
}

bool cw_hex_id_ok(const char *s, size_t len)
{
    if (len != CW_ALERT_ID_LEN)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

void cw_alert_id(const char *account_id, const char *rule_name, int64_t episode_start_ms,
                 char out[CW_ALERT_ID_LEN + 1])
{
    struct hash2 h = {FNV64_BASIS, ALT_BASIS};
    /* A domain tag, so other hashes of the same fields elsewhere never coincide. */
    hash2_str(&h, "churnwatch.alert.v1");
    hash2_str(&h, account_id);
    hash2_str(&h, rule_name);
    hash2_u64(&h, (uint64_t)episode_start_ms);
    hash2_hex(&h, out);
}

void cw_score_id(const char *account_id, int64_t observed_ms, double score,
                 char out[CW_SCORE_ID_LEN + 1])
{
    struct hash2 h = {FNV64_BASIS, ALT_BASIS};
    hash2_str(&h, CW_SCORE_SCHEMA);
    hash2_str(&h, account_id);
    hash2_u64(&h, (uint64_t)observed_ms);
    /* The score as published, in hundredths: an integer, the same on every host. */
    double hundredths = isfinite(score) ? round(score * 100.0) : 0.0;
    hash2_u64(&h, (uint64_t)(int64_t)hundredths);
    hash2_hex(&h, out);
}
