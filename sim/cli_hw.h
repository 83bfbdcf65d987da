/*
 * cli_hw.h - the hardware commands of ltsim: `hw list`, `hw show NAME`, `calibrate`,
 * `validate`, and the helpers `run` / `count` use for `--hw NAME|all` predictions.
 *
 * Like cli.c, this file prints: results on stdout, progress and errors (one line each) on
 * stderr. Exit codes: 0 ok, 2 bad usage or input, 1 runtime failure.
 */
#ifndef LTSIM_CLI_HW_H
#define LTSIM_CLI_HW_H

#include <stdio.h>

#include "hw.h"

struct cJSON;

/* Runs `ltsim CMD ...` for CMD in {"hw", "calibrate", "validate"}. argv[0] is CMD itself
 * (as cli_main hands argv + 1 to a command); returns the exit code. */
int cli_hw_main(const char *cmd, int argc, char **argv);

/* Loads the profiles named by --hw values: each NAME (or path), or "all" for every profile
 * hw_profile_list finds (host only when hwprofiles/host.yml exists). Duplicates are dropped.
 * *out is malloc'd (free()); SIM_EINVAL with the profile's one-line error. */
SimStatus cli_hw_load_profiles(const char *const *names, int n, HwProfile **out, int *nout,
                               SimError *err);

/* Appends {hw, latency_ms, energy_mj, bound, top_ops: [{scope, op, latency_ms}], steps_ms,
 * dram_bytes, weight_dram_bytes, sram_bytes} to a cJSON array. 0 ok, -1 out of memory. */
int cli_hw_prediction_json(struct cJSON *array, const HwPrediction *pr);

/* Writes the readable lines of one prediction (latency, energy, bound, top operators). */
void cli_hw_prediction_text(FILE *f, const HwPrediction *pr);

#endif
