/*
 * cli_plot.h - `ltsim plot KIND`, `ltsim report`, `ltsim carbon` and `ltsim accuracy
 * import|list|fit` (DESIGN.md §4, §7; ../shared/spec/carbon.md). Part of the CLI layer:
 * results on stdout (or one JSON document with --json), progress, warnings and one-line
 * errors on stderr.
 */
#ifndef LTSIM_CLI_PLOT_H
#define LTSIM_CLI_PLOT_H

/* Runs `ltsim CMD ...` for CMD in {"plot", "report", "carbon", "accuracy"}; argv[0] is CMD
 * itself (cli_main hands argv + 1, as for cli_hw_main). Returns the exit code: 0 ok, 2 bad
 * usage or input (an option, a CSV: file, line, column; a preset, a region, a negative
 * number), 1 runtime failure (gnuplot missing or failing, a file or the database that cannot
 * be written). */
int cli_plot_main(const char *cmd, int argc, char **argv);

#endif
