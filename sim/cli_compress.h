/*
 * cli_compress.h - `ltsim compress-report MODEL`: the size and fidelity ledger of fp32 ->
 * int8 -> int8 + pruning at several ratios.
 */
#ifndef LTSIM_CLI_COMPRESS_H
#define LTSIM_CLI_COMPRESS_H

/* argv[0] = "compress-report". Returns the exit code. */
int cli_compress_main(int argc, char **argv);

#endif
