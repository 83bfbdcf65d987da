/*
 * status.c - sticky error context (see status.h).
 */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void sim_error_init(SimError *err) {
    err->code = SIM_OK;
    err->msg[0] = '\0';
}

SimStatus sim_errorf(SimError *err, SimStatus code, const char *fmt, ...) {
    if (err == NULL) return code;
    if (err->code != SIM_OK) return err->code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    /* keep the message on one line */
    for (char *p = err->msg; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    return code;
}

static const char *const status_names[SIM_STATUS_COUNT] = {
    [SIM_OK] = "ok",
    [SIM_EINVAL] = "invalid input",
    [SIM_ESHAPE] = "shape mismatch",
    [SIM_ENOMEM] = "out of memory",
    [SIM_EIO] = "I/O failure",
    [SIM_EDB] = "database failure",
    [SIM_EPLOT] = "plotting failure",
};
_Static_assert(sizeof status_names / sizeof status_names[0] == SIM_STATUS_COUNT,
               "status_names out of sync with SimStatus");

const char *sim_status_str(SimStatus code) {
    if ((int)code < 0 || code >= SIM_STATUS_COUNT) return "unknown status";
    return status_names[code];
}

int sim_exit_code(SimStatus code) {
    switch (code) {
    case SIM_OK: return 0;
    case SIM_EINVAL:
    case SIM_ESHAPE: return 2;
    default: return 1;
    }
}
