/*
 * fuzz_config.c - libFuzzer target for the model config loader (sim/config.c).
 *
 * Feeds the input to config_load_buffer twice: without overrides (the vocabulary must come
 * from the file) and with a vocabulary override (so more inputs reach validation). Any
 * crash, leak, sanitizer report or timeout is a bug; a returned error is not. On success the
 * config must pass config_validate again, and on failure the message must be one line.
 * Linked with the whole library by `make fuzz`; defines no main.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks the invariants of one load; traps (a fuzzer finding) when one is broken. */
static void fuzz_config_check(SimStatus st, const ModelConfig *cfg, const SimError *err) {
    if (st == SIM_OK) {
        SimError again;
        sim_error_init(&again);
        if (config_validate(cfg, &again) != SIM_OK) __builtin_trap();
        if (cfg->src_vocab < 1 || cfg->tgt_vocab < 1) __builtin_trap();
        if (cfg->enc.layers < 1 || cfg->enc.layers > CFG_MAX_LAYERS) __builtin_trap();
        if (cfg->dec.layers < 1 || cfg->dec.layers > CFG_MAX_LAYERS) __builtin_trap();
        if (memchr(cfg->path, '\0', sizeof cfg->path) == NULL) __builtin_trap();
        if (memchr(cfg->description, '\0', sizeof cfg->description) == NULL) __builtin_trap();
    } else {
        if (err->code != st || err->msg[0] == '\0') __builtin_trap();
        if (memchr(err->msg, '\0', sizeof err->msg) == NULL) __builtin_trap();
        if (strchr(err->msg, '\n') != NULL) __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ModelConfig cfg;
    SimError err;

    sim_error_init(&err);
    SimStatus st = config_load_buffer((const char *)data, size, "fuzz.yml", NULL, &cfg, &err);
    fuzz_config_check(st, &cfg, &err);

    ConfigOverrides ov = {32768};
    sim_error_init(&err);
    st = config_load_buffer((const char *)data, size, "fuzz.yml", &ov, &cfg, &err);
    fuzz_config_check(st, &cfg, &err);
    return 0;
}
