/* fuzz_common.c - file helpers for the fuzz targets' one-time setup (abort on failure) */
#include "fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *cw_fuzz_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        abort();
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            char *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
    }
    if (!buf || ferror(f)) {
        fprintf(stderr, "%s: read failed\n", path);
        abort();
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

void cw_fuzz_replace(char **text, size_t *len, const char *from, const char *to)
{
    char *at = strstr(*text, from);
    if (!at) {
        fprintf(stderr, "fuzz setup: '%s' not found\n", from);
        abort();
    }
    size_t head = (size_t)(at - *text), nfrom = strlen(from), nto = strlen(to);
    size_t n = *len - nfrom + nto;
    char *out = malloc(n + 1);
    if (!out)
        abort();
    memcpy(out, *text, head);
    memcpy(out + head, to, nto);
    memcpy(out + head + nto, at + nfrom, *len - head - nfrom + 1);
    free(*text);
    *text = out;
    *len = n;
}
