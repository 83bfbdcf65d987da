/*
 * testutil.h - helpers shared by the CMocka suites (linked into every test binary).
 */
#ifndef LTSIM_TESTUTIL_H
#define LTSIM_TESTUTIL_H

#include <stdint.h>

#include "config.h"
#include "runner.h"
#include "safetensors.h"

/* max_i |a_i - b_i| / max_i |b_i| over n floats */
double tu_rel_err(const float *a, const float *b, int64_t n);

/* Loads a config or fails the test with the loader's message. */
void tu_load_config(const char *path, int64_t vocab, ModelConfig *cfg);

/* A RunSpec with the defaults of the CLI (S = T = 30, seed 1, one pass, no warm-up). */
RunSpec tu_spec(int count_only);

/* Sum of the MACs of a ledger's entries whose class is cls (or all when cls < 0), and
 * of those whose scope contains sub (NULL: any) and whose op is op (-1: any). */
uint64_t tu_macs(const CostLedger *l, int cls, const char *sub, int op);

/* Directory for temporary files of this test binary (created once). */
const char *tu_tmpdir(void);

/* A whole file as a NUL-terminated string (malloc'd), or NULL when it cannot be read. */
char *tu_slurp(const char *path);

/* Newlines in s (0 for NULL). */
int tu_count_lines(const char *s);

/* A subcommand's entry point as tu_run_captured calls it (ctx: whatever it needs). */
typedef int (*TuMain)(int argc, char **argv, void *ctx);

/* Runs fn(argc, argv, ctx) in a child process with stdout and stderr in files of
 * tu_tmpdir(); replaces *out and *err (freed first) with what it printed. Returns the exit
 * code; fails the test when the child was killed by a signal. */
int tu_run_captured(TuMain fn, int argc, char **argv, void *ctx, char **out, char **err);

#endif
