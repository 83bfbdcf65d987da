/*
 * sweep.h - families as width templates, and the widest width that fits a Mult-Add budget.
 *
 * A family template is a YAML config written for a width d (fairseq key names), so any key
 * can be overridden (--vary) and the config text is stored with each run. Widths live on a
 * grid: multiples of 8 from 16 to 4096 whose head and branch widths are integral (the
 * config validator decides). MACs grow with d, so the widest fitting width is found by
 * bisection over the grid with count-only runs.
 */
#ifndef LTSIM_SWEEP_H
#define LTSIM_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "runner.h"

typedef enum {
    SWEEP_LITE = 0,    /* Lite WMT: attention + dynamic conv (GLU) branches of d/2, 4 heads each,
                          8 cross-attention heads, kernels [3,7,15,31,31,31], FFN = d, shared */
    SWEEP_LITE_LIGHT,  /* Lite IWSLT: lightweight conv, 4 cross heads, separate embeddings */
    SWEEP_TRANSFORMER, /* fairseq Transformer, F = 4d, heads 4 below d = 256, else 8 */
    SWEEP_EVOLVED,     /* Evolved Transformer, 3 + 4 cells, heads 4 below d = 256, else 8 */
    SWEEP_LITE_LM,     /* Lite WIKITEXT-103 LM: 12 layers, branches of d/2, FFN = d, adaptive */
    SWEEP_TRANSFORMER_LM, /* Transformer LM: 12 layers, F = 4d, 8 heads, adaptive */
    SWEEP_FAMILY_COUNT
} SweepFamily;

#define SWEEP_GRID_MIN 16
#define SWEEP_GRID_MAX 4096
#define SWEEP_GRID_STEP 8

const char *sweep_family_name(SweepFamily f); /* "lite" | "lite-light" | ... */
int sweep_family_parse(const char *s, SweepFamily *f); /* 0 ok, -1 unknown */

/* One key override of a template ("encoder-layers" = "4"). */
typedef struct {
    const char *key;
    const char *value;
} SweepOverride;

/* Writes family f's config at width d as YAML into buf (n bytes), with the overrides
 * replacing the template's keys (or added). Returns the length, or -1 if it does not fit. */
int sweep_template_yaml(SweepFamily f, int64_t d, const SweepOverride *ov, int nov, char *buf,
                        size_t n);

/* Loads family f at width d (with overrides) into cfg; SIM_EINVAL when the width is not a
 * valid point (heads or branches would not divide) or an override is bad. */
SimStatus sweep_config(SweepFamily f, int64_t d, const SweepOverride *ov, int nov,
                       ModelConfig *cfg, SimError *err);

/* Headline MACs of cfg under spec's mode, lengths and conventions, counted (not executed). */
SimStatus sweep_count(const ModelConfig *cfg, const RunSpec *spec, uint64_t *macs, SimError *err);

/* The next valid grid width after d (dir > 0) or before it (dir < 0); 0 when none. */
int64_t sweep_grid_step(SweepFamily f, int64_t d, int dir, const SweepOverride *ov, int nov);

/* The widest valid grid width whose MACs fit budget (*width = 0 when even the smallest does
 * not); *macs its MACs. */
SimStatus sweep_solve(SweepFamily f, uint64_t budget, const RunSpec *spec,
                      const SweepOverride *ov, int nov, int64_t *width, uint64_t *macs,
                      SimError *err);

/* The paper's named configs of a family (models/NAME.yml), NULL-terminated. */
const char *const *sweep_references(SweepFamily f);

/* "100M", "1.5G", "500000000" -> MACs; 0 ok, -1 malformed. */
int sweep_parse_macs(const char *s, uint64_t *out);

#endif
