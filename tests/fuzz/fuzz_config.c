/* fuzz_config.c - libFuzzer target: the YAML config loader (parse, schema, validation).
 *
 * Every input must either load (and then free cleanly) or be refused with at least one
 * "name:line:col: message" error; a crash, sanitizer report or leak fails. Environment
 * overrides are exercised through a fixed lookup so they are reproducible. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "churnwatch/config.h"
#include "fuzz_common.h"

static const char *fixed_env(const char *name)
{
    if (strcmp(name, "CHURNWATCH_LOG_LEVEL") == 0)
        return "debug";
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char errs[2048];
    errs[0] = '\0';
    struct cw_config *cfg =
        cw_config_load_buffer("fuzz.yaml", (const char *)data, size, fixed_env, errs, sizeof errs);
    if (cfg) {
        cw_config_free(cfg);
        return 0;
    }
    /* Refused: the error must name the input and a position. */
    if (strncmp(errs, "fuzz.yaml:", 10) != 0)
        abort();
    return 0;
}
