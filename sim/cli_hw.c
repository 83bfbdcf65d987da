/*
 * cli_hw.c - `ltsim hw list|show`, `ltsim calibrate`, `ltsim validate` and the --hw helpers
 * (see cli_hw.h).
 */
#include "cli_hw.h"
#include "cli_util.h"

#include <cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hw_calib.h"
#include "ops.h"

static const char *prog = "ltsim";

static void note_stderr(void *ctx, const char *msg) {
    fprintf(stderr, "%s: %s\n", (const char *)ctx, msg);
}

/* ---- --hw helpers ---- */

static int add_profile(HwProfile **out, int *n, int *cap, const char *name, SimError *err) {
    HwProfile p;
    SimStatus rc = hw_profile_open(name, &p, err);
    if (rc != SIM_OK) return -1;
    for (int i = 0; i < *n; i++)
        if (strcmp((*out)[i].name, p.name) == 0 && strcmp((*out)[i].path, p.path) == 0) return 0;
    if (*n == *cap) {
        int nc = *cap ? *cap * 2 : 8;
        HwProfile *np = realloc(*out, (size_t)nc * sizeof *np);
        if (np == NULL) {
            sim_errorf(err, SIM_ENOMEM, "out of memory loading profiles");
            return -1;
        }
        *out = np;
        *cap = nc;
    }
    (*out)[(*n)++] = p;
    return 0;
}

SimStatus cli_hw_load_profiles(const char *const *names, int n, HwProfile **out, int *nout,
                               SimError *err) {
    *out = NULL;
    *nout = 0;
    int cap = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i], "all") == 0) {
            HwProfileList l;
            if (hw_profile_list(&l, err) != SIM_OK) goto fail;
            for (int j = 0; j < l.n; j++)
                if (add_profile(out, nout, &cap, l.names[j], err) != 0) {
                    hw_profile_list_free(&l);
                    goto fail;
                }
            hw_profile_list_free(&l);
        } else if (add_profile(out, nout, &cap, names[i], err) != 0) {
            goto fail;
        }
    }
    return SIM_OK;
fail:
    free(*out);
    *out = NULL;
    *nout = 0;
    return err->code;
}

int cli_hw_prediction_json(cJSON *array, const HwPrediction *pr) {
    cJSON *o = cJSON_CreateObject();
    if (o == NULL) return -1;
    int ok = cJSON_AddStringToObject(o, "hw", pr->hw) != NULL &&
             cJSON_AddNumberToObject(o, "latency_ms", pr->latency_ms) != NULL &&
             cJSON_AddNumberToObject(o, "energy_mj", pr->energy_mj) != NULL &&
             cJSON_AddStringToObject(o, "bound", pr->memory_bound ? "memory" : "compute") != NULL &&
             cJSON_AddNumberToObject(o, "dram_bytes", pr->dram_bytes) != NULL &&
             cJSON_AddNumberToObject(o, "weight_dram_bytes", pr->weight_dram_bytes) != NULL &&
             cJSON_AddNumberToObject(o, "sram_bytes", pr->sram_bytes) != NULL;
    cJSON *top = ok ? cJSON_AddArrayToObject(o, "top_ops") : NULL;
    for (int i = 0; top != NULL && i < pr->ntop; i++) {
        cJSON *t = cJSON_CreateObject();
        if (t == NULL) {
            top = NULL;
            break;
        }
        cJSON_AddItemToArray(top, t);
        if (cJSON_AddStringToObject(t, "scope", pr->top[i].scope) == NULL ||
            cJSON_AddStringToObject(t, "op", op_name((OpKind)pr->top[i].op)) == NULL ||
            cJSON_AddNumberToObject(t, "latency_ms", pr->top[i].latency_ms) == NULL)
            top = NULL;
    }
    cJSON *steps = NULL;
    if (top != NULL && pr->nsteps > 1) {
        steps = cJSON_AddArrayToObject(o, "steps_ms");
        for (int i = 0; steps != NULL && i < pr->nsteps; i++) {
            cJSON *v = cJSON_CreateNumber(pr->step_ms[i]);
            if (v == NULL) steps = NULL;
            else cJSON_AddItemToArray(steps, v);
        }
    }
    if (!ok || top == NULL || (pr->nsteps > 1 && steps == NULL)) {
        cJSON_Delete(o);
        return -1;
    }
    cJSON_AddItemToArray(array, o);
    return 0;
}

void cli_hw_prediction_text(FILE *f, const HwPrediction *pr) {
    fprintf(f, "  %-24s %10.3f ms %10.3f mJ  %s-bound  (DRAM %.2f MB, of which weights %.2f MB)\n",
            pr->hw, pr->latency_ms, pr->energy_mj, pr->memory_bound ? "memory" : "compute",
            pr->dram_bytes / 1e6, pr->weight_dram_bytes / 1e6);
    for (int i = 0; i < pr->ntop; i++)
        fprintf(f, "      top %d: %-52s %-18s %9.3f ms\n", i + 1, pr->top[i].scope,
                op_name((OpKind)pr->top[i].op), pr->top[i].latency_ms);
}

/* ---- hw list / show ---- */

static void print_hw_help(FILE *f) {
    fprintf(f, "usage: ltsim hw list [--json]\n"
               "       ltsim hw show NAME [--json]\n\n"
               "Hardware profiles (hwprofiles/NAME.yml): 'list' prints every profile's cores, "
               "clock, peak\nfp32 throughput, DRAM bandwidth and last-level cache; 'show' prints "
               "every number of one\nprofile with its unit, status (verified, recalled, derived, "
               "measured, estimated, fitted)\nand source.\n\n"
               "NAME is a profile name (searched in $LTSIM_HOME/hwprofiles, next to the binary, "
               "./hwprofiles)\nor a path to a YAML file.\n\n"
               "options:\n"
               "  --json       one JSON document on stdout\n"
               "  -h, --help   this help\n\n"
               "exit codes: 0 ok, 2 bad input (an unknown or invalid profile), 1 runtime failure\n");
}

/* The headline numbers of a profile (hw list). */
static int profile_summary_json(cJSON *o, const HwProfile *p) {
    return cJSON_AddStringToObject(o, "name", p->name) != NULL &&
           cJSON_AddStringToObject(o, "description", p->description) != NULL &&
           cJSON_AddStringToObject(o, "path", p->path) != NULL &&
           cJSON_AddNumberToObject(o, "cores", p->cores) != NULL &&
           cJSON_AddNumberToObject(o, "clock_ghz", p->clock_ghz) != NULL &&
           cJSON_AddNumberToObject(o, "peak_gflops_fp32", p->peak_gflops_fp32) != NULL &&
           cJSON_AddNumberToObject(o, "dram_gbs", p->dram_gbs) != NULL &&
           cJSON_AddNumberToObject(o, "llc_kib", p->llc_kib) != NULL;
}

static int cmd_hw_list(int json) {
    SimError err;
    sim_error_init(&err);
    HwProfileList l;
    if (hw_profile_list(&l, &err) != SIM_OK) return cli_fail_with("hw", &err);
    if (l.n == 0) {
        fprintf(stderr, "%s hw: no profiles found (looked in $LTSIM_HOME/hwprofiles, next to the "
                        "binary and in ./hwprofiles)\n",
                prog);
        hw_profile_list_free(&l);
        return 2;
    }
    int code = 0;
    cJSON *doc = json ? cJSON_CreateObject() : NULL;
    cJSON *arr = doc ? cJSON_AddArrayToObject(doc, "profiles") : NULL;
    int ok = !json || arr != NULL;
    if (!json)
        printf("%-24s %5s %6s %12s %10s %10s  %s\n", "profile", "cores", "GHz", "peak GFLOPS",
               "DRAM GB/s", "LLC KiB", "description");
    for (int i = 0; i < l.n; i++) {
        HwProfile p;
        sim_error_init(&err);
        if (hw_profile_open(l.names[i], &p, &err) != SIM_OK) {
            fprintf(stderr, "%s hw: %s\n", prog, err.msg);
            code = 2;
            continue;
        }
        if (json) {
            cJSON *x = cJSON_CreateObject();
            ok = ok && x != NULL && cJSON_AddItemToArray(arr, x) && profile_summary_json(x, &p);
            continue;
        }
        printf("%-24s %5.0f %6.2f %12.1f %10.1f %10.0f  %s\n", p.name, p.cores, p.clock_ghz,
               p.peak_gflops_fp32, p.dram_gbs, p.llc_kib, p.description);
    }
    hw_profile_list_free(&l);
    int f = json ? cli_print_json("hw", doc, ok, 0) : cli_flush_stdout("hw");
    return code ? code : f;
}

/* hw show --json: every number with its unit, status and source, and the provenance. */
static int cmd_hw_show_json(const HwProfile *p) {
    cJSON *o = cJSON_CreateObject();
    int ok = o != NULL && profile_summary_json(o, p);
    cJSON *keys = ok ? cJSON_AddArrayToObject(o, "keys") : NULL;
    ok = ok && keys != NULL;
    for (int i = 0; ok && i < hw_profile_nkeys(); i++) {
        double v;
        const char *unit;
        const char *key = hw_profile_key(i, p, &v, &unit);
        const HwSource *s = hw_profile_source(p, key);
        cJSON *x = cJSON_CreateObject();
        ok = x != NULL && cJSON_AddItemToArray(keys, x) &&
             cJSON_AddStringToObject(x, "key", key) != NULL &&
             cJSON_AddNumberToObject(x, "value", v) != NULL &&
             cJSON_AddStringToObject(x, "unit", unit) != NULL &&
             cJSON_AddStringToObject(x, "status", s ? hw_source_status_name(s->status) : "?") !=
                 NULL &&
             cJSON_AddStringToObject(x, "source", s ? s->source : "") != NULL;
    }
    if (ok && p->nstream > 0) { /* {row_bytes, ns_per_row, scale, status, source, scale_source} */
        const HwSource *s = hw_profile_source(p, "dram_stream");
        const HwSource *ss = hw_profile_source(p, "dram_stream.scale");
        cJSON *x = cJSON_AddObjectToObject(o, "dram_stream");
        cJSON *b = x ? cJSON_CreateDoubleArray(p->stream_row_bytes, p->nstream) : NULL;
        cJSON *t = x ? cJSON_CreateDoubleArray(p->stream_row_ns, p->nstream) : NULL;
        ok = x != NULL && b != NULL && t != NULL && cJSON_AddItemToObject(x, "row_bytes", b) &&
             cJSON_AddItemToObject(x, "ns_per_row", t) &&
             cJSON_AddNumberToObject(x, "scale", hw_stream_scale(&p->model)) != NULL &&
             cJSON_AddStringToObject(x, "status", s ? hw_source_status_name(s->status) : "?") !=
                 NULL &&
             cJSON_AddStringToObject(x, "source", s ? s->source : "") != NULL &&
             cJSON_AddStringToObject(x, "scale_source", ss ? ss->source : "") != NULL;
        if (!ok && x != NULL) {
            if (b != NULL && cJSON_GetObjectItem(x, "row_bytes") == NULL) cJSON_Delete(b);
            if (t != NULL && cJSON_GetObjectItem(x, "ns_per_row") == NULL) cJSON_Delete(t);
        }
    }
    if (ok && p->has_provenance) {
        const HwProvenance *v = &p->prov;
        cJSON *x = cJSON_AddObjectToObject(o, "provenance");
        ok = x != NULL && cJSON_AddStringToObject(x, "cpu", v->cpu) != NULL &&
             cJSON_AddStringToObject(x, "blas", v->blas) != NULL &&
             cJSON_AddStringToObject(x, "openblas_coretype", v->coretype) != NULL &&
             cJSON_AddStringToObject(x, "openblas_l2_size", v->l2_size) != NULL &&
             cJSON_AddNumberToObject(x, "threads", v->threads) != NULL &&
             cJSON_AddStringToObject(x, "date", v->date) != NULL &&
             cJSON_AddStringToObject(x, "method", v->method) != NULL &&
             cJSON_AddNumberToObject(x, "fit_rows", v->fit_rows) != NULL &&
             cJSON_AddNumberToObject(x, "fit_rms_rel_err", v->fit_rms_rel_err) != NULL;
    }
    return cli_print_json("hw", o, ok, 0);
}

static int cmd_hw_show(const char *name, int json) {
    SimError err;
    sim_error_init(&err);
    HwProfile p;
    if (hw_profile_open(name, &p, &err) != SIM_OK) return cli_fail_with("hw", &err);
    if (json) return cmd_hw_show_json(&p);
    printf("%s: %s\nfile: %s\n\n", p.name, p.description, p.path);
    for (int i = 0; i < hw_profile_nkeys(); i++) {
        double v;
        const char *unit;
        const char *key = hw_profile_key(i, &p, &v, &unit);
        const HwSource *s = hw_profile_source(&p, key);
        printf("  %-30s %12.6g %-12s [%s] %s\n", key, v, unit,
               s ? hw_source_status_name(s->status) : "?", s ? s->source : "");
    }
    if (p.nstream > 0) {
        const HwSource *s = hw_profile_source(&p, "dram_stream");
        printf("\ndram_stream: matrix-vector products from DRAM, ns per weight row [%s] %s\n",
               s ? hw_source_status_name(s->status) : "?", s ? s->source : "");
        for (int i = 0; i < p.nstream; i++)
            printf("  %6.0f B %9.2f ns%s", p.stream_row_bytes[i], p.stream_row_ns[i],
                   i % 4 == 3 || i == p.nstream - 1 ? "\n" : "   ");
        const HwSource *ss = hw_profile_source(&p, "dram_stream.scale");
        printf("  scale %.4g (predictions use ns per row x scale) [%s] %s\n",
               hw_stream_scale(&p.model), ss ? hw_source_status_name(ss->status) : "-",
               ss ? ss->source : "1 unless fitted");
    }
    if (p.has_provenance) {
        const HwProvenance *v = &p.prov;
        printf("\nprovenance:\n");
        if (v->cpu[0]) printf("  cpu            %s\n", v->cpu);
        if (v->blas[0]) printf("  blas           %s\n", v->blas);
        if (v->coretype[0]) printf("  OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s\n", v->coretype, v->l2_size);
        if (v->threads > 0) printf("  threads        %.0f\n", v->threads);
        if (v->date[0]) printf("  date           %s\n", v->date);
        if (v->method[0]) printf("  method         %s\n", v->method);
        if (v->fit_rows > 0)
            printf("  fit            %.0f samples, rms relative error %.2f%%\n", v->fit_rows,
                   100 * v->fit_rms_rel_err);
    }
    return cli_flush_stdout("hw");
}

static int cmd_hw(int argc, char **argv) {
    if (argc < 2) return cli_usage_error("hw", "expected 'list' or 'show NAME'");
    const char *sub = argv[1];
    if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
        print_hw_help(stdout);
        return 0;
    }
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            print_hw_help(stdout);
            return 0;
        }
    /* --json anywhere after the subcommand; every other argument is the profile name */
    int json = 0;
    const char *pos[2] = {NULL, NULL};
    int npos = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (argv[i][0] == '-') return cli_usage_error("hw", "unknown option '%s'", argv[i]);
        else if (npos < 2) pos[npos++] = argv[i];
        else return cli_usage_error("hw", "unexpected argument '%s'", argv[i]);
    }
    if (strcmp(sub, "list") == 0) {
        if (npos > 0) return cli_usage_error("hw", "unexpected argument '%s'", pos[0]);
        return cmd_hw_list(json);
    }
    if (strcmp(sub, "show") == 0) {
        if (npos < 1) return cli_usage_error("hw", "show: missing NAME");
        if (npos > 1) return cli_usage_error("hw", "unexpected argument '%s'", pos[1]);
        return cmd_hw_show(pos[0], json);
    }
    return cli_usage_error("hw", "unknown subcommand '%s' (expected list or show)", sub);
}

/* ---- calibrate / validate options ---- */

typedef struct {
    const char *profile;
    const char *measurements;
    const char *out;
    int json;
    int quick;
    int cold;
    int threads;
    int validate;
} HwCliOptions;

enum { O_PROFILE = 1000, O_MEAS, O_OUT, O_JSON, O_QUICK, O_COLD, O_THREADS, O_VALIDATE };

static void print_calibrate_help(FILE *f) {
    fprintf(f,
            "usage: ltsim calibrate [--threads N] [--quick] [--out FILE] [--validate]\n"
            "       ltsim calibrate --profile NAME --measurements FILE.csv [--out FILE] [--cold]\n\n"
            "Without --profile: calibrates this machine. Measures read bandwidth by working-set "
            "size\n(the usable last-level cache and the DRAM bandwidth), an sgemm for the peak, "
            "and the\nper-operator times of ltsim's own kernels over a grid of built-in configs "
            "(warm-up, then\nrepeats until the median is stable), fits the latency model and "
            "writes hwprofiles/host.yml\n(atomically) with its provenance: CPU, BLAS, "
            "OPENBLAS_CORETYPE, threads, date.\n\n"
            "With --profile and --measurements: fits the model parameters of profile NAME to "
            "latencies\nmeasured on that device. FILE.csv has a header line "
            "config,mode,src_len,tgt_len,beam,latency_ms\n(optionally vocab_size); config is a "
            "model YAML path relative to the CSV's folder or\nmodels/; mode is forward (beam 1) or "
            "generate (tgt_len decoder steps at beam);\nlatency_ms is the median of repeated runs "
            "(--cold: single cold runs). The fitted profile is written to\nhwprofiles/NAME-calibrated.yml "
            "unless --out says otherwise.\n\n"
            "options:\n"
            "  --profile NAME         profile to fit (a name or a YAML path)\n"
            "  --measurements FILE    CSV of measured latencies\n"
            "  --out FILE             where to write the profile\n"
            "  --cold                 the CSV's latencies are single cold runs\n"
            "  --threads N            BLAS threads for the host measurements (default 1)\n"
            "  --quick                host: a smaller grid (about a third of the time)\n"
            "  --validate             host: also time the validation set of 'ltsim validate', in "
            "the same\n"
            "                         rounds as the grid (one machine state for both), and print "
            "its\n"
            "                         predictions on the fitted profile as 'validate' does\n"
            "  -h, --help             this help\n\n"
            "exit codes: 0 ok, 2 bad input (profile, CSV: file, line and column), 1 runtime "
            "failure\n");
}

static void print_validate_help(FILE *f) {
    fprintf(f,
            "usage: ltsim validate --profile NAME [--measurements FILE.csv] [--json]\n\n"
            "Predicted versus measured latency. For --profile host without a CSV, times a "
            "built-in set of\n%d configs that calibration does not use (Transformer, Lite and "
            "Evolved, widths 128-1024,\nlengths 10-100) on this machine; with --measurements, compares "
            "against the CSV's latencies\n(format as for 'ltsim calibrate'). Prints each config's "
            "predicted and measured time and the\nshare within +-10 %% and +-20 %%, the median "
            "and 90th-percentile absolute error, and the RMSE,\nover all rows and per mode "
            "(forward, generate). Timed rows add their spread (interquartile\nrange of the timed "
            "passes over the median) and the same statistics over the steady ones\n(spread <= "
            "5 %%).\n\n"
            "options:\n"
            "  --profile NAME         profile to validate (required)\n"
            "  --measurements FILE    CSV of measured latencies (required unless NAME is host)\n"
            "  --json                 one JSON document: {n, within_10, within_20, "
            "median_abs_err,\n"
            "                         p90_abs_err, rmse_ms, by_mode: {forward: {...}, generate: "
            "{...}},\n"
            "                         steady: {max_spread, forward, generate} (timed rows),\n"
            "                         rows: [{config, mode, predicted_ms, measured_ms, "
            "spread}]}\n"
            "  --cold                 the CSV's latencies are single cold runs\n"
            "  --threads N            BLAS threads for host timings (default 1)\n"
            "  --quick                host: fewer repeats\n"
            "  -h, --help             this help\n\n"
            "exit codes: 0 ok, 2 bad input, 1 runtime failure\n",
            hw_validation_set_size());
}

/* Returns 0 ok, -1 after --help, else an exit code. */
static int parse_hw_options(const char *cmd, int argc, char **argv, HwCliOptions *o) {
    static const struct option longopts[] = {
        {"profile", required_argument, 0, O_PROFILE},
        {"measurements", required_argument, 0, O_MEAS},
        {"out", required_argument, 0, O_OUT},
        {"json", no_argument, 0, O_JSON},
        {"quick", no_argument, 0, O_QUICK},
        {"validate", no_argument, 0, O_VALIDATE},
        {"cold", no_argument, 0, O_COLD},
        {"threads", required_argument, 0, O_THREADS},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int cal = strcmp(cmd, "calibrate") == 0;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        const char *name = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
        switch (c) {
        case 'h':
            if (cal) print_calibrate_help(stdout);
            else print_validate_help(stdout);
            return -1;
        case O_PROFILE: o->profile = optarg; break;
        case O_MEAS: o->measurements = optarg; break;
        case O_OUT:
            if (!cal) return cli_usage_error(cmd, "--out: only 'calibrate' writes a profile");
            o->out = optarg;
            break;
        case O_JSON:
            if (cal) return cli_usage_error(cmd, "--json: only 'validate' prints JSON");
            o->json = 1;
            break;
        case O_QUICK: o->quick = 1; break;
        case O_VALIDATE:
            if (!cal) return cli_usage_error(cmd, "--validate: an option of 'calibrate'");
            o->validate = 1;
            break;
        case O_COLD: o->cold = 1; break;
        case O_THREADS: {
            char *end = NULL;
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || v < 1 || v > 256)
                return cli_usage_error(cmd, "--threads: expected an integer from 1 to 256, got '%s'",
                                   optarg);
            o->threads = (int)v;
            break;
        }
        case ':': return cli_usage_error(cmd, "%s needs a value", name);
        default: return cli_usage_error(cmd, "unknown option '%s'", name);
        }
    }
    if (optind < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    return 0;
}

static void print_fit(const HwFitReport *rep) {
    printf("%-32s %12s %12s  %-10s %s\n", "parameter", "before", "after", "identified",
           "rel. std. error");
    for (int k = 0; k < HW_PARAM_COUNT; k++) {
        char se[32];
        if (isfinite(rep->rel_se[k])) snprintf(se, sizeof se, "%.2f%%", 100 * rep->rel_se[k]);
        else snprintf(se, sizeof se, "-");
        printf("%-32s %12.5g %12.5g  %-10s %s\n", hw_param_key((HwParam)k),
               hw_param_get(&rep->before, (HwParam)k), hw_param_get(&rep->after, (HwParam)k),
               rep->identified[k] ? "yes" : "weakly", se);
    }
    if (rep->peak_after != rep->peak_before)
        printf("%-32s %12.5g %12.5g\n", "peak_gflops_fp32", rep->peak_before, rep->peak_after);
    printf("\n%d samples; rms relative error %.2f%% before, %.2f%% after (%d iterations); "
           "%.2f%% over the best 90%%\n",
           rep->n, 100 * rep->rms_rel_err_before, 100 * rep->rms_rel_err_after, rep->iterations,
           100 * rep->trimmed_rms_rel_err);
}

static int ensure_dir(const char *dir) {
    struct stat st;
    if (stat(dir, &st) == 0) return S_ISDIR(st.st_mode) ? 0 : -1;
    return mkdir(dir, 0777) == 0 || errno == EEXIST ? 0 : -1;
}

static void print_validation_text(const HwValidation *v);

/* Where a generated profile goes: --out, else hwprofiles/NAME.yml (the folder created). 0 ok,
 * 1 (with a line on stderr) when the folder cannot be created. */
static int out_path(const char *cmd, const char *out, const char *name, char *path, size_t n) {
    if (out) {
        snprintf(path, n, "%s", out);
        return 0;
    }
    char dir[600];
    hw_profile_dir(dir, sizeof dir);
    if (ensure_dir(dir) != 0) {
        fprintf(stderr, "%s %s: cannot create %s: %s\n", prog, cmd, dir, strerror(errno));
        return 1;
    }
    snprintf(path, n, "%s/%s.yml", dir, name);
    return 0;
}

static int cmd_calibrate(int argc, char **argv) {
    const char *cmd = "calibrate";
    HwCliOptions o = {0};
    int rc = parse_hw_options(cmd, argc, argv, &o);
    if (rc != 0) return rc < 0 ? 0 : rc;
    if ((o.profile == NULL) != (o.measurements == NULL))
        return cli_usage_error(cmd, o.profile ? "--profile needs --measurements FILE.csv (a profile "
                                            "other than this host is fitted from measurements)"
                                          : "--measurements needs --profile NAME");
    SimError err;
    sim_error_init(&err);
    HwCalibOptions co = {0};
    co.threads = o.threads;
    co.quick = o.quick;
    co.cold = o.cold;
    co.note = note_stderr;
    co.note_ctx = (void *)"ltsim calibrate";
    HwFitReport rep;
    char path[1100];
    if (o.profile == NULL) {
        if (o.cold) return cli_usage_error(cmd, "--cold applies to --measurements only");
        HwProfile p;
        HwHostMeasure meas;
        HwValidation val;
        memset(&val, 0, sizeof val);
        co.validate_into = o.validate ? &val : NULL;
        if (hw_calibrate_host(&p, &co, &rep, &meas, &err) != SIM_OK) return cli_fail_with(cmd, &err);
        if (out_path(cmd, o.out, "host", path, sizeof path) != 0) return 1;
        printf("read bandwidth by working set:\n");
        for (int i = 0; i < meas.nsweep; i++)
            printf("  %10.0f KiB %8.1f GB/s\n", meas.sweep_kib[i], meas.sweep_gbs[i]);
        printf("usable LLC %.0f KiB, DRAM %.1f GB/s, sgemm 512^3 %.1f GFLOPS; %d configs timed"
               " (%d noisy)\n\n",
               meas.llc_kib, meas.dram_gbs, meas.sgemm_gflops, meas.runs, meas.noisy);
        print_fit(&rep);
        if (hw_profile_write(&p, path, &err) != SIM_OK) {
            hw_validation_free(&val);
            return cli_fail_with(cmd, &err);
        }
        printf("wrote %s\n", path);
        if (o.validate) {
            printf("\nvalidation set, timed in the same rounds as the grid, on the fitted "
                   "profile:\n\n");
            print_validation_text(&val);
            hw_validation_free(&val);
        }
        return cli_flush_stdout(cmd);
    }
    if (o.validate) return cli_usage_error(cmd, "--validate applies to this host's calibration only");
    HwProfile p;
    if (hw_profile_open(o.profile, &p, &err) != SIM_OK) return cli_fail_with(cmd, &err);
    if (hw_calibrate_csv(&p, o.measurements, &co, &rep, &err) != SIM_OK) return cli_fail_with(cmd, &err);
    char newname[HW_NAME_MAX + 16];
    snprintf(newname, sizeof newname, "%s-calibrated", p.name);
    if (strlen(newname) < HW_NAME_MAX) snprintf(p.name, sizeof p.name, "%s", newname);
    if (out_path(cmd, o.out, p.name, path, sizeof path) != 0) return 1;
    print_fit(&rep);
    if (hw_profile_write(&p, path, &err) != SIM_OK) return cli_fail_with(cmd, &err);
    printf("wrote %s (profile '%s')\n", path, p.name);
    return cli_flush_stdout(cmd);
}

static void print_summary_line(const char *label, const HwValidationSummary *s) {
    printf("  %-8s n %d: within +-10%% %.1f%%, within +-20%% %.1f%%; absolute error median "
           "%.2f%%, p90 %.2f%%; RMSE %.3f ms\n",
           label, s->n, 100 * s->within_10, 100 * s->within_20, 100 * s->median_abs_err,
           100 * s->p90_abs_err, s->rmse_ms);
}

static void print_validation_text(const HwValidation *v) {
    printf("%-40s %-8s %5s %5s %12s %12s %8s%s\n", "config", "mode", "S", "T", "predicted ms",
           "measured ms", "error", v->timed ? "   spread" : "");
    for (int i = 0; i < v->n; i++) {
        const HwValidateRow *r = &v->rows[i];
        printf("%-40s %-8s %5lld %5lld %12.3f %12.3f %+7.1f%%", r->config, r->mode,
               (long long)r->src_len, (long long)r->tgt_len, r->predicted_ms, r->measured_ms,
               100 * (r->predicted_ms - r->measured_ms) / r->measured_ms);
        if (v->timed) printf(" %7.1f%%", 100 * r->spread);
        printf("\n");
    }
    printf("\nn %d: within +-10%% %.1f%%, within +-20%% %.1f%%; absolute error median %.2f%%, "
           "p90 %.2f%%; RMSE %.3f ms\n",
           v->n, 100 * v->within_10, 100 * v->within_20, 100 * v->median_abs_err,
           100 * v->p90_abs_err, v->rmse_ms);
    const HwValidationSummary *ms[2] = {&v->forward, &v->generate};
    const char *mn[2] = {"forward", "generate"};
    for (int m = 0; m < 2; m++)
        if (ms[m]->n > 0) print_summary_line(mn[m], ms[m]);
    if (!v->timed) return;
    /* spread: the interquartile range of the timed passes over their median */
    printf("steady measurements (spread <= %.0f%%: the others varied too much while timed to "
           "judge a prediction by):\n",
           100 * HW_STEADY_SPREAD);
    const HwValidationSummary *st[2] = {&v->steady_forward, &v->steady_generate};
    for (int m = 0; m < 2; m++)
        if (ms[m]->n > 0) print_summary_line(mn[m], st[m]);
}

static cJSON *summary_json(cJSON *parent, const char *name, const HwValidationSummary *s) {
    cJSON *x = cJSON_AddObjectToObject(parent, name);
    int ok = x != NULL && cJSON_AddNumberToObject(x, "n", s->n) != NULL &&
             cJSON_AddNumberToObject(x, "within_10", s->within_10) != NULL &&
             cJSON_AddNumberToObject(x, "within_20", s->within_20) != NULL &&
             cJSON_AddNumberToObject(x, "median_abs_err", s->median_abs_err) != NULL &&
             cJSON_AddNumberToObject(x, "p90_abs_err", s->p90_abs_err) != NULL &&
             cJSON_AddNumberToObject(x, "rmse_ms", s->rmse_ms) != NULL;
    return ok ? x : NULL;
}

static int print_validation_json(const HwValidation *v, const char *profile) {
    cJSON *o = cJSON_CreateObject();
    if (o == NULL) return -1;
    int ok = cJSON_AddStringToObject(o, "profile", profile) != NULL &&
             cJSON_AddNumberToObject(o, "n", v->n) != NULL &&
             cJSON_AddNumberToObject(o, "within_10", v->within_10) != NULL &&
             cJSON_AddNumberToObject(o, "within_20", v->within_20) != NULL &&
             cJSON_AddNumberToObject(o, "median_abs_err", v->median_abs_err) != NULL &&
             cJSON_AddNumberToObject(o, "p90_abs_err", v->p90_abs_err) != NULL &&
             cJSON_AddNumberToObject(o, "rmse_ms", v->rmse_ms) != NULL;
    /* the same per mode (DESIGN.md §6's keys plus this one) */
    cJSON *bm = ok ? cJSON_AddObjectToObject(o, "by_mode") : NULL;
    ok = bm != NULL;
    const HwValidationSummary *ms[2] = {&v->forward, &v->generate};
    const char *mn[2] = {"forward", "generate"};
    for (int m = 0; ok && m < 2; m++)
        if (ms[m]->n > 0) ok = summary_json(bm, mn[m], ms[m]) != NULL;
    /* timed rows: the same over the steady measurements (spread <= max_spread) */
    if (ok && v->timed) {
        cJSON *st = cJSON_AddObjectToObject(o, "steady");
        const HwValidationSummary *ss[2] = {&v->steady_forward, &v->steady_generate};
        ok = st != NULL && cJSON_AddNumberToObject(st, "max_spread", HW_STEADY_SPREAD) != NULL;
        for (int m = 0; ok && m < 2; m++)
            if (ms[m]->n > 0) ok = summary_json(st, mn[m], ss[m]) != NULL;
    }
    cJSON *rows = ok ? cJSON_AddArrayToObject(o, "rows") : NULL;
    for (int i = 0; rows != NULL && i < v->n; i++) {
        const HwValidateRow *r = &v->rows[i];
        cJSON *x = cJSON_CreateObject();
        if (x == NULL) {
            rows = NULL;
            break;
        }
        cJSON_AddItemToArray(rows, x);
        if (cJSON_AddStringToObject(x, "config", r->config) == NULL ||
            cJSON_AddStringToObject(x, "mode", r->mode) == NULL ||
            cJSON_AddNumberToObject(x, "src_len", (double)r->src_len) == NULL ||
            cJSON_AddNumberToObject(x, "tgt_len", (double)r->tgt_len) == NULL ||
            cJSON_AddNumberToObject(x, "predicted_ms", r->predicted_ms) == NULL ||
            cJSON_AddNumberToObject(x, "measured_ms", r->measured_ms) == NULL ||
            (v->timed && cJSON_AddNumberToObject(x, "spread", r->spread) == NULL))
            rows = NULL;
    }
    char *s = rows ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (s == NULL) return -1;
    printf("%s\n", s);
    cJSON_free(s);
    return 0;
}

static int cmd_validate(int argc, char **argv) {
    const char *cmd = "validate";
    HwCliOptions o = {0};
    int rc = parse_hw_options(cmd, argc, argv, &o);
    if (rc != 0) return rc < 0 ? 0 : rc;
    if (o.profile == NULL) return cli_usage_error(cmd, "missing --profile NAME");
    SimError err;
    sim_error_init(&err);
    HwProfile p;
    if (hw_profile_open(o.profile, &p, &err) != SIM_OK) return cli_fail_with(cmd, &err);
    int host = strcmp(p.name, "host") == 0;
    if (o.measurements == NULL && !host)
        return cli_usage_error(cmd, "--profile %s: a profile other than host needs --measurements "
                                "FILE.csv (only this machine can be measured here)",
                           o.profile);
    HwCalibOptions co = {0};
    co.threads = o.threads;
    co.quick = o.quick;
    co.cold = o.cold;
    co.note = note_stderr;
    co.note_ctx = (void *)"ltsim validate";
    HwValidation v;
    if (o.measurements) {
        if (hw_validate_csv(&p, o.measurements, &co, &v, &err) != SIM_OK) return cli_fail_with(cmd, &err);
    } else {
        const char *ct = getenv("OPENBLAS_CORETYPE");
        if (p.has_provenance && p.prov.coretype[0] &&
            strcmp(p.prov.coretype, ct && *ct ? ct : "(unset)") != 0)
            fprintf(stderr, "ltsim validate: warning: host.yml was calibrated with "
                            "OPENBLAS_CORETYPE=%s, now %s\n",
                    p.prov.coretype, ct && *ct ? ct : "(unset)");
        if (hw_validate_host(&p, &co, &v, &err) != SIM_OK) return cli_fail_with(cmd, &err);
    }
    if (o.json) {
        if (print_validation_json(&v, p.name) != 0) {
            hw_validation_free(&v);
            fprintf(stderr, "%s %s: out of memory building the JSON document\n", prog, cmd);
            return 1;
        }
    } else {
        printf("profile %s (%s)\n\n", p.name, p.path);
        print_validation_text(&v);
    }
    hw_validation_free(&v);
    return cli_flush_stdout(cmd);
}

int cli_hw_main(const char *cmd, int argc, char **argv) {
    if (strcmp(cmd, "hw") == 0) return cmd_hw(argc, argv);
    if (strcmp(cmd, "calibrate") == 0) return cmd_calibrate(argc, argv);
    if (strcmp(cmd, "validate") == 0) return cmd_validate(argc, argv);
    fprintf(stderr, "%s: unknown command '%s'\n", prog, cmd);
    return 2;
}
