/*
 * cli_db.h - `ltsim db list|show|diff|export|merge`: the results database from the command
 * line (DESIGN.md §4-§5). Part of the CLI layer: prints results on stdout, one-line errors
 * on stderr.
 */
#ifndef LTSIM_CLI_DB_H
#define LTSIM_CLI_DB_H

/* Runs `ltsim db ...` with argv[0] = "db" and argv[1] the subcommand. Returns the process
 * exit code: 0 ok, 2 bad usage or input (unknown option, no such run or database file),
 * 1 runtime failure (database locked, not writable, disk full, I/O). */
int cli_db_main(int argc, char **argv);

#endif
