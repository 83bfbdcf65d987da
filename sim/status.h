/*
 * status.h - error codes and the sticky error context of ltsim.
 *
 * Fallible functions return a SimStatus and describe the failure in a SimError.
 * The first error recorded wins; later calls see err->code != SIM_OK and return
 * at once, so layer code does not need a check after every operator.
 */
#ifndef LTSIM_STATUS_H
#define LTSIM_STATUS_H

#include <stddef.h>

typedef enum {
    SIM_OK = 0,
    SIM_EINVAL, /* bad input: option, config, weights file, token ids (exit 2) */
    SIM_ESHAPE, /* a shape that does not fit (exit 2) */
    SIM_ENOMEM, /* out of memory or arena exhausted (exit 1) */
    SIM_EIO,    /* runtime I/O failure: write failed, disk full (exit 1) */
    SIM_EDB,    /* database failure (exit 1) */
    SIM_EPLOT,  /* plotting failure (exit 1) */
    SIM_STATUS_COUNT
} SimStatus;

typedef struct {
    SimStatus code; /* SIM_OK until the first error */
    char msg[1024]; /* one line, no trailing newline */
} SimError;

/* Resets err to SIM_OK with an empty message. */
void sim_error_init(SimError *err);

/* Records an error unless one is already recorded (the first error sticks).
 * Returns the code now held by err (the earlier one if there was one).
 * err may be NULL, in which case code is returned. */
SimStatus sim_errorf(SimError *err, SimStatus code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Short name of a status code ("invalid input", ...). Never NULL. */
const char *sim_status_str(SimStatus code);

/* Process exit code for a status: 0 ok, 2 bad input, 1 runtime failure. */
int sim_exit_code(SimStatus code);

#endif
