/* fuzz_decode.c - libFuzzer target: the event decoder under every input preset.
 *
 * The first input byte picks the preset (native, segment, cloudevents) and the unknown-type
 * policy; the rest is the Kafka message value. The decoder is built from the shipped
 * conf/churnwatch.yaml with the preset replaced, so the fuzzer sees the real event types
 * and aliases. Any crash, sanitizer report or leak fails. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churnwatch/config.h"
#include "churnwatch/event.h"
#include "fuzz_common.h"

enum { N_PRESETS = 3 };

static struct cw_config *configs[N_PRESETS][2];
static cw_decoder *decoders[N_PRESETS][2];

static void build(int preset, int dlq_unknown)
{
    static const char *const names[N_PRESETS] = {"native", "segment", "cloudevents"};
    char preset_line[64];
    char errs[4096];
    char derr[256];
    size_t len;
    char *yaml = cw_fuzz_read_file(CW_SOURCE_DIR "/conf/churnwatch.yaml", &len);
    snprintf(preset_line, sizeof preset_line, "preset: %s", names[preset]);
    cw_fuzz_replace(&yaml, &len, "preset: native", preset_line);
    if (dlq_unknown)
        cw_fuzz_replace(&yaml, &len, "unknown_types: ignore", "unknown_types: dlq");
    struct cw_config *cfg = cw_config_load_buffer("fuzz.yaml", yaml, len, NULL, errs, sizeof errs);
    if (!cfg) {
        fprintf(stderr, "fuzz_decode: config for preset %s:\n%s\n", names[preset], errs);
        abort();
    }
    cw_decoder *dec = cw_decoder_new(cfg, derr, sizeof derr);
    if (!dec) {
        fprintf(stderr, "fuzz_decode: decoder: %s\n", derr);
        abort();
    }
    configs[preset][dlq_unknown] = cfg;
    decoders[preset][dlq_unknown] = dec;
    free(yaml);
}

static void release(void)
{
    for (int p = 0; p < N_PRESETS; p++)
        for (int u = 0; u < 2; u++) {
            cw_decoder_free(decoders[p][u]);
            cw_config_free(configs[p][u]);
        }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    for (int p = 0; p < N_PRESETS; p++)
        for (int u = 0; u < 2; u++)
            build(p, u);
    atexit(release);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int preset = data[0] % N_PRESETS;
    int dlq_unknown = (data[0] / N_PRESETS) & 1;
    struct cw_event ev;
    char reason[256];
    enum cw_reject r = cw_decode(decoders[preset][dlq_unknown], data + 1, size - 1,
                                 INT64_C(1795305600000), &ev, reason, sizeof reason);
    /* A reject always explains itself; an accepted event has an account id. */
    if (r != CW_OK && reason[0] == '\0')
        abort();
    if (r == CW_OK && ev.account_id[0] == '\0')
        abort();
    return 0;
}
