/*
 * cli_sweep.h - `ltsim sweep`: families x Mult-Add budgets x hardware profiles, stored.
 */
#ifndef LTSIM_CLI_SWEEP_H
#define LTSIM_CLI_SWEEP_H

/* argv[0] = "sweep". Returns the exit code. */
int cli_sweep_main(int argc, char **argv);

#endif
