/*
 * fuzz_safetensors.c - libFuzzer target for the safetensors reader.
 *
 * Opens the input with st_open_buffer and, when it is accepted, touches every tensor: its
 * info, its element count and the first and last byte of its data, so a validation gap that
 * lets a tensor point outside the buffer shows up under ASan. Must not define main (built
 * with -fsanitize=fuzzer against all of sim/ except main.c).
 */
#include <stddef.h>
#include <stdint.h>

#include "safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    SimError err;
    sim_error_init(&err);
    SafeTensors *st = NULL;
    if (st_open_buffer(data, size, "fuzz.safetensors", &st, &err) != SIM_OK) return 0;
    volatile uint8_t sink = 0;
    for (int i = 0; i < st_count(st); i++) {
        const StTensorInfo *t = st_get(st, i);
        int64_t numel = st_numel(t);
        if (numel < 0 || st_find(st, t->name) != t) __builtin_trap();
        uint64_t nbytes = t->end - t->begin;
        if (nbytes != (uint64_t)numel * st_dtype_size(t->dtype)) __builtin_trap();
        const uint8_t *p = st_data(st, t);
        if (p == NULL) __builtin_trap();
        if (nbytes > 0) sink ^= (uint8_t)(p[0] ^ p[nbytes - 1]);
    }
    (void)sink;
    st_close(st);
    return 0;
}
