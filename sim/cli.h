/*
 * cli.h - the ltsim command line: subcommands, options, exit codes (DESIGN.md §4).
 */
#ifndef LTSIM_CLI_H
#define LTSIM_CLI_H

/* Runs the command line; returns the process exit code (0 ok, 2 bad input, 1 failure). */
int cli_main(int argc, char **argv);

#endif
