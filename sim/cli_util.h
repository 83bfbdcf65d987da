/*
 * cli_util.h - what every ltsim subcommand prints the same way: usage errors (exit 2),
 * failures (the SimError's exit code), the final flush of stdout, JSON documents.
 */
#ifndef LTSIM_CLI_UTIL_H
#define LTSIM_CLI_UTIL_H

#include "status.h"

struct cJSON;

/* "ltsim CMD: MESSAGE (see 'ltsim CMD --help')" on stderr; returns 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "ltsim CMD: MESSAGE" on stderr; returns the exit code of err's status. */
int cli_fail_with(const char *cmd, const SimError *err);

/* Flushes stdout; 1 (with a line on stderr) when writing it failed (a full disk, a closed
 * pipe), else 0. */
int cli_flush_stdout(const char *cmd);

/* Prints doc (indented when pretty) and a newline, then flushes; always deletes doc. When
 * doc is NULL or !ok (building it ran out of memory) prints an error instead and returns 1. */
int cli_print_json(const char *cmd, struct cJSON *doc, int ok, int pretty);

#endif
