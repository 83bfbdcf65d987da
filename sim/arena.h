/*
 * arena.h - bump allocator for activations (one per run) and weights (one per model).
 *
 * A plan pass runs the model in count-only mode against a *measuring* arena, which
 * hands out no memory and only records how many bytes each allocation would take;
 * the real arena is then opened with exactly that capacity. No per-buffer free.
 */
#ifndef LTSIM_ARENA_H
#define LTSIM_ARENA_H

#include <stddef.h>

#include "status.h"

typedef struct Arena Arena;

/* Opens an arena of cap bytes (64-byte aligned block), or a measuring arena when
 * measure != 0 (cap is then ignored and no memory is reserved). Returns NULL and
 * records SIM_ENOMEM in err when the block cannot be allocated. Caller owns it. */
Arena *arena_open(size_t cap, int measure, SimError *err);

/* Frees the block and the handle. NULL is allowed. */
void arena_close(Arena *a);

/* Returns n bytes aligned to align (a power of two <= 64), zero-filled.
 * A measuring arena returns NULL and only counts. A real arena that is exhausted
 * returns NULL and records SIM_ENOMEM in err. */
void *arena_alloc(Arena *a, size_t n, size_t align, SimError *err);

/* Allocates n floats (64-byte aligned). Same rules as arena_alloc. */
float *arena_floats(Arena *a, size_t n, SimError *err);

/* Current offset, usable with arena_rewind to release everything allocated after it. */
size_t arena_mark(const Arena *a);
void arena_rewind(Arena *a, size_t mark);

size_t arena_used(const Arena *a);     /* bytes in use now */
size_t arena_peak(const Arena *a);     /* high-water mark in bytes */
size_t arena_capacity(const Arena *a); /* 0 for a measuring arena */
int arena_is_measuring(const Arena *a);

#endif
