/* fuzz_common.h - small file helpers shared by the fuzz targets and their replay driver */
#ifndef CHURNWATCH_FUZZ_COMMON_H
#define CHURNWATCH_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* The libFuzzer entry points each target defines (Initialize is optional). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The whole file, NUL-terminated, its length in *len; aborts on any error (setup only). */
char *cw_fuzz_read_file(const char *path, size_t *len);

/* Replace the first occurrence of from in *text (length *len) with to; aborts when absent. */
void cw_fuzz_replace(char **text, size_t *len, const char *from, const char *to);

#endif /* CHURNWATCH_FUZZ_COMMON_H */
