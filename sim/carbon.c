/*
 * carbon.c - the design-cost estimator of carbon.h: presets reproducing Strubell et al. 2019
 * and Patterson et al. 2021, the source tables, free inputs and the inference side.
 *
 * Checks (carbon.md): 1.58 * 274,120 h * 1515.43 W / 1000 = 656,347 kWh, * 0.954 = 626,155
 * lbs; 1.58 * 14 * 1515.43 / 1000 = 33.52 kWh -> 31.98 lbs (32); 6.8 d * 24 * 200 * 208 W *
 * 1.10 / 1000 = 7.47 MWh, * 0.431 = 3.2 t.
 */
#include "carbon.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "hw.h"
#include "report.h"
#include "runner.h"

/* Strubell's US average: 0.954 lbs CO2e per kWh (EPA 2018). */
#define STRUBELL_LBS_PER_KWH 0.954
#define STRUBELL_PUE 1.58

/* ---- tables ---- */

static const CarbonRow accelerators[] = {
    {"p100-pcie", "NVIDIA Tesla P100 PCIe, board power", 250, "R",
     "NVIDIA Tesla P100 datasheet (recalled: confirm against the datasheet)"},
    {"p100-sxm2", "NVIDIA Tesla P100 SXM2, board power", 300, "R",
     "NVIDIA Tesla P100 datasheet (recalled: confirm against the datasheet)"},
    {"p100-strubell", "NVIDIA P100 with its share of host CPU and DRAM (Strubell's machine)",
     189.42875, "D", "Strubell et al. 2019, Table 3: 1515.43 W for 8 P100 incl. CPU and DRAM, / 8"},
    {"v100-sxm2", "NVIDIA Tesla V100 SXM2, board power", 300, "R",
     "NVIDIA Tesla V100 datasheet (recalled: confirm against the datasheet)"},
    {"a100-sxm4", "NVIDIA A100 SXM4, board power", 400, "R",
     "NVIDIA A100 datasheet (recalled: confirm against the datasheet)"},
    {"h100-sxm5", "NVIDIA H100 SXM5, board power", 700, "R",
     "NVIDIA H100 datasheet (recalled: confirm against the datasheet)"},
    {"titan-xp", "NVIDIA TITAN Xp, board power", 250, "R",
     "NVIDIA TITAN Xp specifications (recalled: confirm against the datasheet)"},
    {"tpu-v2", "Google TPU v2 chip, TDP", 280, "V", "Patterson et al. 2021, arXiv 2104.10350"},
    {"tpu-v2-measured", "Google TPU v2 chip, measured average incl. its host share", 208, "V",
     "Patterson et al. 2021, arXiv 2104.10350"},
};

static const CarbonRow regions[] = {
    {"us-average", "United States average (EPA 2018), as used by Strubell et al.",
     STRUBELL_LBS_PER_KWH * CARBON_KG_PER_LB, "V",
     "Strubell et al. 2019 (0.954 lbs/kWh, EPA 2018); kg = lbs * 0.45359237"},
    {"google-georgia-2018", "Google's Georgia datacenter, December 2018", 0.431, "V",
     "Patterson et al. 2021, arXiv 2104.10350"},
    {"google-iowa-cfe", "Google's Iowa datacenter with 24/7 carbon-free energy", 0.6e3 / 7468.032,
     "D",
     "Patterson et al. 2021: the same search rerun there emits 0.6 tCO2e (V); / 7,468 kWh"},
};

static const CarbonRow equivalents[] = {
    {"ny-sf-flight", "air travel, 1 passenger, New York <-> San Francisco", 1984, "V",
     "Strubell et al. 2019, Table 1"},
    {"human-life-year", "human life, average, 1 year", 11023, "V", "Strubell et al. 2019, Table 1"},
    {"american-life-year", "American life, average, 1 year", 36156, "V",
     "Strubell et al. 2019, Table 1"},
    {"us-car-lifetime", "US car including fuel, average, 1 lifetime", 126000, "V",
     "Strubell et al. 2019, Table 1"},
};

#define NROWS(a) ((int)(sizeof(a) / sizeof(a)[0]))

const CarbonRow *carbon_accelerators(int *n) {
    *n = NROWS(accelerators);
    return accelerators;
}

const CarbonRow *carbon_regions(int *n) {
    *n = NROWS(regions);
    return regions;
}

const CarbonRow *carbon_equivalents(int *n) {
    *n = NROWS(equivalents);
    return equivalents;
}

const CarbonRow *carbon_row_find(const CarbonRow *rows, int n, const char *name) {
    for (int i = 0; name && i < n; i++)
        if (strcmp(rows[i].name, name) == 0) return &rows[i];
    return NULL;
}

/* ---- presets ---- */

typedef struct {
    const char *name, *description, *method, *hardware;
    double count, hours, watts, pue;
    const char *grid;
    double price_low, price_high; /* USD per unit-hour */
    const char *published, *source;
} Preset;

/* Strubell's cloud prices: $942,973-$3,201,722 for 274,120 h of 8 P100 = $0.43-$1.46 per
 * GPU-hour (the same rates give the Transformer big row's $289-$981). */
#define STRUBELL_PRICE_LOW 0.43
#define STRUBELL_PRICE_HIGH 1.46

static const Preset presets[] = {
    {"strubell-nas", "Evolved Transformer architecture search as Strubell et al. estimated it",
     "strubell", "P100 x8 (1515.43 W incl. CPU and DRAM)", 8, 274120, 1515.43, STRUBELL_PUE,
     "us-average", STRUBELL_PRICE_LOW, STRUBELL_PRICE_HIGH,
     "656,347 kWh, 626,155 lbs CO2e, $942,973-$3,201,722",
     "Strubell, Ganesh, McCallum, ACL 2019, Table 3 (NAS row)"},
    {"strubell-transformer-big", "training Transformer big once (Strubell et al.)", "strubell",
     "P100 x8 (1515.43 W incl. CPU and DRAM)", 8, 84, 1515.43, STRUBELL_PUE, "us-average",
     STRUBELL_PRICE_LOW, STRUBELL_PRICE_HIGH, "201 kWh, 192 lbs CO2e, $289-$981",
     "Strubell, Ganesh, McCallum, ACL 2019, Table 3 (Transformer big row)"},
    {"patterson-nas", "the same search as it actually ran: 200 TPU v2 chips for 6.8 days",
     "patterson", "TPU v2 x200 (208 W per chip incl. host)", 200, 6.8 * 24, 200 * 208.0, 1.10,
     "google-georgia-2018", NAN, NAN, "7.5 MWh, 3.2 tCO2e (88x below Strubell's estimate)",
     "Patterson et al. 2021, arXiv 2104.10350"},
    {"patterson-nas-cfe", "the same search rerun in a region with 24/7 carbon-free energy",
     "patterson", "TPU v2 x200 (208 W per chip incl. host)", 200, 6.8 * 24, 200 * 208.0, 1.10,
     "google-iowa-cfe", NAN, NAN, "0.6 tCO2e", "Patterson et al. 2021, arXiv 2104.10350"},
    {"lite-design", "designing the Lite Transformer by hand (Lite Transformer paper, 1.1e2 GPU-h)",
     "strubell", "P100 x8 (1515.43 W incl. CPU and DRAM)", 8, 14, 1515.43, STRUBELL_PUE,
     "us-average", STRUBELL_PRICE_LOW, STRUBELL_PRICE_HIGH,
     "32 lbs CO2e (the paper's upper cost bound, $2.8e2, used about $2.5 per GPU-hour)",
     "Wu et al., ICLR 2020 (Lite Transformer), CO2 table; Strubell's formula with 8 x 14 h"},
    {"transformer-design",
     "designing the Transformer baseline (Lite Transformer paper, 1.0e2 GPU-h)", "strubell",
     "P100 x8 (1415.78 W incl. CPU and DRAM)", 8, 12, 1415.78, STRUBELL_PUE, "us-average",
     STRUBELL_PRICE_LOW, STRUBELL_PRICE_HIGH,
     "26 lbs CO2e (Strubell's Transformer base row; the paper's upper cost bound $2.3e2)",
     "Wu et al., ICLR 2020, CO2 table; Strubell et al. 2019, Table 3 (Transformer base row)"},
};

static CarbonPresetInfo preset_info[NROWS(presets)];

const CarbonPresetInfo *carbon_presets(int *n) {
    for (int i = 0; i < NROWS(presets); i++) {
        preset_info[i].name = presets[i].name;
        preset_info[i].description = presets[i].description;
    }
    *n = NROWS(presets);
    return preset_info;
}

void carbon_item_update(CarbonItem *it) {
    it->watts_per_unit = it->count > 0 ? it->watts / it->count : it->watts;
    it->energy_kwh = it->pue * it->hours * it->watts / 1000.0;
    it->co2e_kg = it->energy_kwh * it->grid_kg_per_kwh;
    it->co2e_lbs = it->co2e_kg / CARBON_KG_PER_LB;
}

static void set_cost(CarbonItem *it, double low, double high) {
    double unit_hours = it->count * it->hours;
    it->cost_low = isnan(low) ? NAN : low * unit_hours;
    it->cost_high = isnan(high) ? NAN : high * unit_hours;
}

SimStatus carbon_grid_parse(const char *s, double *kg_per_kwh, char *name, size_t n,
                            SimError *err) {
    const CarbonRow *r = carbon_row_find(regions, NROWS(regions), s);
    if (r != NULL) {
        *kg_per_kwh = r->value;
        snprintf(name, n, "%s", r->name);
        return SIM_OK;
    }
    char *end = NULL;
    errno = 0;
    double v = s && *s ? strtod(s, &end) : NAN;
    if (s && *s && end && *end == '\0' && errno == 0 && isfinite(v)) {
        if (v < 0)
            return sim_errorf(err, SIM_EINVAL,
                              "--grid: expected a non-negative kg CO2e per kWh, got '%s'", s);
        *kg_per_kwh = v;
        snprintf(name, n, "custom");
        return SIM_OK;
    }
    char list[256] = "";
    for (int i = 0; i < NROWS(regions); i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                 regions[i].name);
    return sim_errorf(err, SIM_EINVAL,
                      "--grid: unknown region '%s' (regions: %s; or a number in kg CO2e/kWh)",
                      s ? s : "", list);
}

SimStatus carbon_preset(const char *name, CarbonItem *out, SimError *err) {
    memset(out, 0, sizeof *out);
    for (int i = 0; i < NROWS(presets); i++) {
        const Preset *p = &presets[i];
        if (strcmp(p->name, name) != 0) continue;
        snprintf(out->preset, sizeof out->preset, "%s", p->name);
        snprintf(out->method, sizeof out->method, "%s", p->method);
        snprintf(out->hardware, sizeof out->hardware, "%s", p->hardware);
        out->count = p->count;
        out->hours = p->hours;
        out->watts = p->watts;
        out->pue = p->pue;
        if (carbon_grid_parse(p->grid, &out->grid_kg_per_kwh, out->grid, sizeof out->grid,
                              err) != SIM_OK)
            return err->code;
        snprintf(out->published, sizeof out->published, "%s", p->published);
        snprintf(out->source, sizeof out->source, "%s", p->source);
        carbon_item_update(out);
        set_cost(out, p->price_low, p->price_high);
        return SIM_OK;
    }
    char list[400] = "";
    for (int i = 0; i < NROWS(presets); i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                 presets[i].name);
    return sim_errorf(err, SIM_EINVAL, "--preset: unknown preset '%s' (presets: %s)", name, list);
}

/* A given number must be finite and >= 0 (> 0 when positive is set). */
static SimStatus check_num(const char *opt, double v, int positive, SimError *err) {
    if (isnan(v)) return SIM_OK;
    if (!isfinite(v) || v < 0 || (positive && v == 0))
        return sim_errorf(err, SIM_EINVAL, "%s: expected a %s number, got %g", opt,
                          positive ? "positive" : "non-negative", v);
    return SIM_OK;
}

SimStatus carbon_compute(const CarbonInput *in, CarbonItem *out, SimError *err) {
    memset(out, 0, sizeof *out);
    if (check_num("--watts", in->watts, 0, err) ||
        check_num("--host-watts", in->host_watts, 0, err) ||
        check_num("--count", in->count, 1, err) || check_num("--hours", in->hours, 0, err) ||
        check_num("--gpu-hours", in->gpu_hours, 0, err) ||
        check_num("--gpu-years", in->gpu_years, 0, err) || check_num("--pue", in->pue, 1, err) ||
        check_num("--price (low)", in->price_low, 0, err) ||
        check_num("--price (high)", in->price_high, 0, err))
        return err->code;
    if (!isnan(in->pue) && in->pue < 1)
        return sim_errorf(err, SIM_EINVAL, "--pue: expected a number >= 1, got %g", in->pue);
    double unit_w = in->watts;
    const CarbonRow *acc = NULL;
    if (in->hardware != NULL) {
        acc = carbon_row_find(accelerators, NROWS(accelerators), in->hardware);
        if (acc == NULL) {
            char list[400] = "";
            for (int i = 0; i < NROWS(accelerators); i++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                         accelerators[i].name);
            return sim_errorf(err, SIM_EINVAL,
                              "--hardware: unknown accelerator '%s' (known: %s; or --watts W)",
                              in->hardware, list);
        }
        if (isnan(unit_w)) unit_w = acc->value;
    }
    if (isnan(unit_w))
        return sim_errorf(err, SIM_EINVAL,
                          "no power given: --hardware NAME (see 'ltsim carbon --list') or "
                          "--watts W per unit");
    int ndur = !isnan(in->hours) + !isnan(in->gpu_hours) + !isnan(in->gpu_years);
    if (ndur != 1)
        return sim_errorf(err, SIM_EINVAL, "%s: give exactly one of --hours, --gpu-hours and "
                                           "--gpu-years",
                          ndur ? "more than one duration" : "no duration");
    double count = isnan(in->count) ? 1 : in->count;
    double hours = in->hours;
    if (!isnan(in->gpu_hours)) hours = in->gpu_hours / count;
    if (!isnan(in->gpu_years)) hours = in->gpu_years * CARBON_HOURS_PER_YEAR / count;
    snprintf(out->method, sizeof out->method, "custom");
    snprintf(out->hardware, sizeof out->hardware, "%s x%g (%g W each%s)",
             acc ? acc->name : "accelerator", count, unit_w,
             isnan(in->host_watts) || in->host_watts == 0 ? "" : " + host");
    out->count = count;
    out->hours = hours;
    out->watts = count * unit_w + (isnan(in->host_watts) ? 0 : in->host_watts);
    out->pue = isnan(in->pue) ? STRUBELL_PUE : in->pue;
    if (carbon_grid_parse(in->grid ? in->grid : "us-average", &out->grid_kg_per_kwh, out->grid,
                          sizeof out->grid, err) != SIM_OK)
        return err->code;
    snprintf(out->source, sizeof out->source, "%s%s",
             acc ? acc->source : "--watts as given",
             isnan(in->pue) ? "; PUE 1.58 (Strubell et al. 2019, 2018 global average)" : "");
    carbon_item_update(out);
    set_cost(out, in->price_low, isnan(in->price_high) ? in->price_low : in->price_high);
    return SIM_OK;
}

double carbon_ratio(const CarbonItem *a, const CarbonItem *b) {
    return b->co2e_lbs > 0 ? a->co2e_lbs / b->co2e_lbs : NAN;
}

double carbon_ratio_rounded(const CarbonItem *a, const CarbonItem *b) {
    double ra = round(a->co2e_lbs), rb = round(b->co2e_lbs);
    return rb > 0 ? ra / rb : NAN;
}

/* ---- inference ---- */

SimStatus carbon_inference(const char *model, const char *hw, int generate, int64_t src_len,
                           int64_t tgt_len, double sentences_per_day, double days,
                           const char *grid, CarbonInference *out, SimError *err) {
    memset(out, 0, sizeof *out);
    if (check_num("--sentences-per-day", sentences_per_day, 0, err) ||
        check_num("--days", days, 0, err))
        return err->code;
    if (isnan(sentences_per_day) || isnan(days))
        return sim_errorf(err, SIM_EINVAL,
                          "--inference needs --sentences-per-day N and --days N");
    if (src_len < 1 || tgt_len < 1)
        return sim_errorf(err, SIM_EINVAL, "--src-len/--tgt-len: expected lengths >= 1");
    snprintf(out->model, sizeof out->model, "%s", model);
    snprintf(out->hw, sizeof out->hw, "%s", hw);
    snprintf(out->mode, sizeof out->mode, "%s", generate ? "generate" : "forward");
    out->src_len = src_len;
    out->tgt_len = tgt_len;
    out->sentences_per_day = sentences_per_day;
    out->days = days;
    if (carbon_grid_parse(grid ? grid : "us-average", &out->grid_kg_per_kwh, out->grid,
                          sizeof out->grid, err) != SIM_OK)
        return err->code;
    ModelConfig cfg;
    if (config_load(model, NULL, &cfg, err) != SIM_OK) return err->code;
    HwProfile *prof = calloc(1, sizeof *prof);
    if (prof == NULL) return sim_errorf(err, SIM_ENOMEM, "out of memory loading profile %s", hw);
    RunResult res;
    memset(&res, 0, sizeof res);
    HwPrediction pr;
    memset(&pr, 0, sizeof pr);
    SimStatus code = hw_profile_open(hw, prof, err);
    if (code != SIM_OK) goto out;
    RunSpec spec;
    memset(&spec, 0, sizeof spec);
    spec.src_len = src_len;
    spec.tgt_len = tgt_len;
    spec.seed = 1;
    spec.threads = 1;
    spec.count_only = 1;
    if (generate) {
        spec.mode = MODE_GENERATE;
        spec.beam = 1;
        spec.max_steps = tgt_len;
        spec.no_early_stop = 1;
        spec.conv.conv_macs = CONV_MACS_VALID; /* what decoding executes */
    }
    if ((code = runner_execute(&cfg, &spec, &res, err)) != SIM_OK) goto out;
    if ((code = runner_predict(&res, prof, &pr, err)) != SIM_OK) goto out;
    if (!isfinite(pr.energy_mj)) {
        code = sim_errorf(err, SIM_EINVAL, "%s: profile %s has no energy model", prof->path, hw);
        goto out;
    }
    ReportInput rin = {.command = "count", .model_path = model, .cfg = &cfg,
                      .spec = &spec, .res = &res};
    ReportTotals tot;
    report_totals(&rin, &tot);
    uint64_t macs = tot.macs;
    out->macs = macs;
    out->latency_ms = pr.latency_ms;
    out->energy_mj = pr.energy_mj;
    /* 1 kWh = 3.6e6 J = 3.6e9 mJ */
    out->energy_kwh = pr.energy_mj * sentences_per_day * days / 3.6e9;
    out->co2e_kg = out->energy_kwh * out->grid_kg_per_kwh;
    out->co2e_lbs = out->co2e_kg / CARBON_KG_PER_LB;
out:
    hw_prediction_free(&pr);
    runner_result_free(&res);
    free(prof);
    return code;
}
