/* array.h - growing malloc'd arrays, and the string hash of the daemon's hash tables */
#ifndef CHURNWATCH_ARRAY_H
#define CHURNWATCH_ARRAY_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Make room for n items of size bytes in the array *(void **)p of capacity *cap, doubling
 * it from `first` items; the array may move. 0, or -1 (out of memory, or n * size
 * overflows) with the array and *cap unchanged. */
static inline int cw_array_reserve_from(void *p, size_t *cap, size_t n, size_t size, size_t first)
{
    if (n <= *cap)
        return 0;
    size_t c = *cap ? *cap : first;
    while (c < n)
        c *= 2;
    if (size && c > SIZE_MAX / size)
        return -1;
    void *q = realloc(*(void **)p, c * size);
    if (!q)
        return -1;
    *(void **)p = q;
    *cap = c;
    return 0;
}

/* cw_array_reserve_from, from 16 items. */
static inline int cw_array_reserve(void *p, size_t *cap, size_t n, size_t size)
{
    return cw_array_reserve_from(p, cap, n, size, 16);
}

/* FNV-1a over a NUL-terminated string. */
static inline uint64_t cw_str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

#endif /* CHURNWATCH_ARRAY_H */
