/* store_internal.h - what the Redis store's translation units share (not part of the seam) */
#ifndef CHURNWATCH_STORE_INTERNAL_H
#define CHURNWATCH_STORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define CW_XSTR(x) #x
#define CW_STR(x)  CW_XSTR(x)

/* Version of the `churnwatch` Functions library (store_functions.c). */
#define CW_STORE_FUNCTIONS_VERSION 3

extern const int cw_store_functions_version;
extern const char cw_store_functions_lua[];

/* The stored value of a silence: "until_ms|created_ms|reason". */
void cw_silence_value_encode(const struct cw_silence *s, char *out, size_t size);

/* Parse a stored silence value (len bytes) into s->until_ms, created_ms and reason
 * (account_id and rule are left alone). 0, or -1 when malformed. */
int cw_silence_value_decode(const char *v, size_t len, struct cw_silence *s);

/* Counter of slot in a packed day value (little-endian u32 per slot); 0 past its end. */
uint32_t cw_counters_get(const char *v, size_t len, int slot);

/* Parse a whole decimal int64 from v[0..len). 0 or -1. */
int cw_parse_i64(const char *v, size_t len, int64_t *out);

#endif /* CHURNWATCH_STORE_INTERNAL_H */
