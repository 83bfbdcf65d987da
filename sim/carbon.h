/*
 * carbon.h - energy, CO2e and cloud cost of design search, training and lifetime inference
 * (../shared/spec/carbon.md): the published methods as presets, tables of accelerator power
 * and grid intensity with a source per row, and the inference side from a hardware profile.
 *
 * One formula serves every item: energy (kWh) = PUE * hours * watts / 1000, where watts is
 * the average power of the whole setup (Strubell: p_c + p_r + g * p_g; Patterson: chips *
 * power per chip including its host); CO2e (kg) = energy * grid intensity (kg/kWh); Strubell's
 * 0.954 lbs/kWh is the grid intensity 0.954 * 0.45359237 kg/kWh. Pure: nothing here prints.
 */
#ifndef LTSIM_CARBON_H
#define LTSIM_CARBON_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define CARBON_KG_PER_LB 0.45359237
#define CARBON_HOURS_PER_YEAR 8760.0 /* a GPU-year: 365 days of 24 h */

/* A row of a table with its source. tag: V seen in the source, D derived from such values
 * (the rule in the source text), R recalled, to be confirmed against the source. */
typedef struct {
    const char *name;        /* the name used on the command line */
    const char *description;
    double value;            /* accelerators: W; regions: kg CO2e / kWh; equivalents: lbs */
    const char *tag;
    const char *source;
} CarbonRow;

/* The tables: accelerator power per unit (W), grid intensity by region (kg/kWh), everyday
 * equivalents (lbs CO2e). *n receives the row count. */
const CarbonRow *carbon_accelerators(int *n);
const CarbonRow *carbon_regions(int *n);
const CarbonRow *carbon_equivalents(int *n);

/* The row called name in a table of n rows, or NULL. */
const CarbonRow *carbon_row_find(const CarbonRow *rows, int n, const char *name);

/* One line of the ledger: a design search, a training run or lifetime inference. */
typedef struct {
    char preset[48];          /* the preset's name, "" for free inputs */
    char method[16];          /* strubell | patterson | custom | inference */
    char hardware[160];
    double count;             /* accelerators (GPUs, TPU chips) */
    double hours;             /* wall-clock hours, all of them running */
    double watts;             /* average power of the whole setup, W */
    double watts_per_unit;    /* watts / count (host share included) */
    double pue;
    double grid_kg_per_kwh;
    char grid[64];            /* region name, or "custom" */
    double energy_kwh, co2e_kg, co2e_lbs;
    double cost_low, cost_high; /* USD, NAN when no price is known */
    char published[200];      /* what the preset reproduces, "" otherwise */
    char source[400];
} CarbonItem;

/* A preset: name and description. */
typedef struct {
    const char *name;
    const char *description;
} CarbonPresetInfo;

/* The presets (strubell-nas, strubell-transformer-big, patterson-nas, patterson-nas-cfe,
 * lite-design, transformer-design). */
const CarbonPresetInfo *carbon_presets(int *n);

/* Fills out with preset name. SIM_EINVAL naming the presets when there is no such preset. */
SimStatus carbon_preset(const char *name, CarbonItem *out, SimError *err);

/* Free inputs (every number NAN when not given). */
typedef struct {
    const char *hardware;  /* an accelerator of the table, or NULL with watts */
    double watts;          /* power per unit (W), overrides the table's */
    double host_watts;     /* CPU + DRAM power of the hosts (W), added once (default 0) */
    double count;          /* units (default 1) */
    double hours;          /* wall-clock hours; or: */
    double gpu_hours;      /* unit-hours (hours = gpu_hours / count); or: */
    double gpu_years;      /* unit-years of 8760 h */
    double pue;            /* default 1.58 (Strubell's 2018 global average) */
    const char *grid;      /* a region of the table or kg CO2e per kWh as a number; NULL:
                              us-average */
    double price_low, price_high; /* USD per unit-hour */
} CarbonInput;

/* Computes an item from free inputs. SIM_EINVAL with one line naming the option and value:
 * no power (neither a known --hardware nor --watts), an unknown accelerator or region, a
 * negative or non-finite number, no duration or more than one, a zero count. */
SimStatus carbon_compute(const CarbonInput *in, CarbonItem *out, SimError *err);

/* Re-derives energy, CO2e and cost from the item's inputs (after a change). */
void carbon_item_update(CarbonItem *it);

/* Grid intensity from a region name or a number in kg/kWh; name receives the region or
 * "custom". SIM_EINVAL for an unknown region or a negative number. */
SimStatus carbon_grid_parse(const char *s, double *kg_per_kwh, char *name, size_t n,
                            SimError *err);

/* Lifetime inference: energy per sentence from a hardware profile's prediction of a model. */
typedef struct {
    char model[512];          /* the config */
    char hw[64];              /* the profile */
    char mode[16];            /* forward | generate */
    int64_t src_len, tgt_len;
    uint64_t macs;            /* headline MACs of one sentence (generate: the whole decode) */
    double latency_ms, energy_mj; /* per sentence, predicted */
    double sentences_per_day, days;
    double grid_kg_per_kwh;
    char grid[64];
    double energy_kwh, co2e_kg, co2e_lbs;
} CarbonInference;

/* Counts model (a config path) without executing it (generate: tgt_len steps, no early
 * stop), predicts it on hardware profile hw, and multiplies the energy per sentence by
 * sentences_per_day * days. SIM_EINVAL: bad config or profile, a profile without an energy
 * model, negative counts; SIM_ENOMEM. */
SimStatus carbon_inference(const char *model, const char *hw, int generate, int64_t src_len,
                           int64_t tgt_len, double sentences_per_day, double days,
                           const char *grid, CarbonInference *out, SimError *err);

/* a / b of CO2e, and the same with each side rounded to whole pounds first (the published
 * rounding: 626,155 / 32 = 19,567). NAN when b is 0. */
double carbon_ratio(const CarbonItem *a, const CarbonItem *b);
double carbon_ratio_rounded(const CarbonItem *a, const CarbonItem *b);

#endif
