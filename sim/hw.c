/*
 * hw.c - hardware profiles: YAML loading and validation, writing, name resolution; the
 * latency / energy model over ledgers and its least-squares fit (see hw.h).
 *
 * Units inside: peak in FLOP per millisecond (GFLOPS * 1e6), bandwidth in bytes per
 * millisecond (GB/s * 1e6), times in ms, energies in pJ until converted to mJ (1e-9).
 */
#include "hw.h"

#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "ops.h"
#include "paths.h"

/* ---- names ---- */

static const char *const status_names[HW_SRC_COUNT] = {
    [HW_SRC_VERIFIED] = "verified", [HW_SRC_RECALLED] = "recalled",
    [HW_SRC_DERIVED] = "derived",   [HW_SRC_MEASURED] = "measured",
    [HW_SRC_ESTIMATED] = "estimated", [HW_SRC_FITTED] = "fitted",
};
_Static_assert(sizeof status_names / sizeof status_names[0] == HW_SRC_COUNT,
               "status_names out of sync with HwSourceStatus");

const char *hw_source_status_name(HwSourceStatus s) {
    return (unsigned)s < HW_SRC_COUNT ? status_names[s] : "?";
}

static const char *const class_names[HW_CLASS_COUNT] = {
    [HW_GEMM] = "gemm", [HW_ATTENTION] = "attention", [HW_CONV] = "conv",
    [HW_ELEMENTWISE] = "elementwise",
};
_Static_assert(sizeof class_names / sizeof class_names[0] == HW_CLASS_COUNT,
               "class_names out of sync with HwClass");

const char *hw_class_name(HwClass c) { return (unsigned)c < HW_CLASS_COUNT ? class_names[c] : "?"; }

HwClass hw_op_class(int op) {
    switch (op) {
    case OP_LINEAR:
    case OP_CONV1D: return HW_GEMM; /* sgemm per filter tap */
    case OP_ATTN_SCORES:
    case OP_ATTN_WEIGHTED: return HW_ATTENTION;
    case OP_CONV_DYNAMIC:
    case OP_CONV_LIGHT:
    case OP_CONV_DEPTHWISE: return HW_CONV;
    default: return HW_ELEMENTWISE;
    }
}

int hw_op_transcendental(int op) {
    switch (op) {
    case OP_SOFTMAX:
    case OP_LOG_SOFTMAX:
    case OP_GLU:
    case OP_SWISH:
    case OP_GELU: return 1;
    default: return 0;
    }
}

int hw_gemv(const LedgerEntry *e) {
    return e->op == OP_LINEAR && e->dims[0] <= OPS_GEMV_ROWS;
}

/* Bytes of one weight row of a product (N rows of K weights; fp32 when it has no weights). */
static double weight_row_bytes(const LedgerEntry *e) {
    double calls = e->calls > 0 ? (double)e->calls : 1.0;
    return e->cost.weight_bytes > 0 ? (double)e->cost.weight_bytes / (calls * (double)e->dims[1])
                                    : 4.0 * (double)e->dims[2];
}

int hw_short_rows(const LedgerEntry *e) {
    if (!hw_gemv(e) || e->dims[1] < 1 || e->dims[2] < 1) return 0;
    return weight_row_bytes(e) < HW_STREAM_PAGE;
}

/* ---- the numeric keys ---- */

typedef struct {
    const char *key;  /* "section.key" for nested keys */
    size_t off;       /* offset of the double in HwProfile */
    double max;       /* inclusive upper bound, 0 = none */
    int integer;
    const char *unit;
} NumKey;

#define NK(k, f, mx, in, u) {k, offsetof(HwProfile, f), mx, in, u}
static const NumKey num_keys[] = {
    NK("cores", cores, 4096, 1, "cores"),
    NK("clock_ghz", clock_ghz, 10, 0, "GHz"),
    NK("process_nm", process_nm, 1000, 0, "nm"),
    NK("peak_gflops_fp32", peak_gflops_fp32, 0, 0, "GFLOPS"),
    NK("peak_gops_int8", peak_gops_int8, 0, 0, "GOPS"),
    NK("dram_gbs", dram_gbs, 0, 0, "GB/s"),
    NK("l1d_kib", l1d_kib, 0, 0, "KiB"),
    NK("l2_kib", l2_kib, 0, 0, "KiB"),
    NK("llc_kib", llc_kib, 0, 0, "KiB"),
    NK("energy.mac_fp32_pj", mac_fp32_pj, 0, 0, "pJ/MAC"),
    NK("energy.mac_int8_pj", mac_int8_pj, 0, 0, "pJ/MAC"),
    NK("energy.dram_byte_pj", dram_byte_pj, 0, 0, "pJ/B"),
    NK("energy.sram_byte_pj", sram_byte_pj, 0, 0, "pJ/B"),
    NK("power.active_w", active_w, 0, 0, "W"),
    NK("power.idle_w", idle_w, 0, 0, "W"),
    NK("model.gemm_efficiency", model.gemm_efficiency, 1, 0, "of peak"),
    NK("model.gemm_m_half", model.gemm_m_half, 1e6, 0, "rows"),
    NK("model.attention_efficiency", model.attention_efficiency, 1, 0, "of peak"),
    NK("model.conv_efficiency", model.conv_efficiency, 1, 0, "of peak"),
    NK("model.elementwise_efficiency", model.elementwise_efficiency, 1, 0, "of peak"),
    NK("model.dram_efficiency", model.dram_efficiency, 1, 0, "of dram_gbs"),
    NK("model.overhead_us", model.overhead_us, 1e6, 0, "us/call"),
    NK("model.llc_retention", model.llc_retention, 16, 0, "of LLC"),
    NK("model.gemm_k_half", model.gemm_k_half, 1e6, 0, "K"),
    NK("model.cache_gbs", model.cache_gbs, 1e6, 0, "GB/s"),
    NK("model.loop_overhead_us", model.loop_overhead_us, 1e6, 0, "us/call"),
    NK("model.head_overhead_us", model.head_overhead_us, 1e6, 0, "us/head"),
    NK("model.search_ns", model.search_ns, 1e6, 0, "ns/logit"),
    NK("model.transcendental_efficiency", model.transcendental_efficiency, 1, 0, "of peak"),
    NK("model.gemm_tile_rows", model.gemm_tile_rows, 64, 1, "rows"),
    NK("model.gemm_remainder_rows", model.gemm_remainder_rows, 1e6, 0, "rows/pass"),
    NK("model.dram_row_ns", model.dram_row_ns, 1e6, 0, "ns/row"),
    NK("model.gemm_m_half_dram", model.gemm_m_half_dram, 1e6, 0, "rows"),
    NK("model.dispatch_us", model.dispatch_us, 1e6, 0, "us/call"),
    NK("model.llc_gbs", model.llc_gbs, 1e6, 0, "GB/s"),
    NK("model.llc_share", model.llc_share, 1, 0, "of LLC"),
    NK("model.llc_share_gemm", model.llc_share_gemm, 1, 0, "of LLC"),
    NK("model.dram_short_efficiency", model.dram_short_efficiency, 1, 0, "of dram_gbs"),
    NK("model.dram_short_row_ns", model.dram_short_row_ns, 1e6, 0, "ns/row"),
    NK("model.gemv_reuse_gbs", model.gemv_reuse_gbs, 1e6, 0, "GB/s"),
    NK("model.gemv_reuse_dram_gbs", model.gemv_reuse_dram_gbs, 1e6, 0, "GB/s"),
    NK("model.outside_factor", model.outside_factor, 2, 0, "x"),
};
#undef NK
#define NUM_KEYS ((int)(sizeof num_keys / sizeof num_keys[0]))

/* Key i's double in the profile (at its offset; copied, so no pointer is cast). */
static void num_set(HwProfile *p, int i, double v) {
    memcpy((char *)p + num_keys[i].off, &v, sizeof v);
}
static double num_get(const HwProfile *p, int i) {
    double v;
    memcpy(&v, (const char *)p + num_keys[i].off, sizeof v);
    return v;
}

static int num_lookup(const char *key) {
    for (int i = 0; i < NUM_KEYS; i++)
        if (strcmp(num_keys[i].key, key) == 0) return i;
    return -1;
}

int hw_profile_nkeys(void) { return NUM_KEYS; }

const char *hw_profile_key(int i, const HwProfile *p, double *value, const char **unit) {
    if (i < 0 || i >= NUM_KEYS) return NULL;
    if (value) *value = p ? num_get(p, i) : 0.0;
    if (unit) *unit = num_keys[i].unit;
    return num_keys[i].key;
}

static const char *const param_keys[HW_PARAM_COUNT] = {
    [HW_P_GEMM_EFF] = "model.gemm_efficiency",
    [HW_P_GEMM_M_HALF] = "model.gemm_m_half",
    [HW_P_ATTN_EFF] = "model.attention_efficiency",
    [HW_P_CONV_EFF] = "model.conv_efficiency",
    [HW_P_ELEM_EFF] = "model.elementwise_efficiency",
    [HW_P_DRAM_EFF] = "model.dram_efficiency",
    [HW_P_OVERHEAD] = "model.overhead_us",
    [HW_P_GEMM_K_HALF] = "model.gemm_k_half",
    [HW_P_CACHE_GBS] = "model.cache_gbs",
    [HW_P_LOOP_OVERHEAD] = "model.loop_overhead_us",
    [HW_P_HEAD_OVERHEAD] = "model.head_overhead_us",
    [HW_P_SEARCH] = "model.search_ns",
    [HW_P_TRANS_EFF] = "model.transcendental_efficiency",
    [HW_P_GEMM_REM] = "model.gemm_remainder_rows",
    [HW_P_DRAM_ROW] = "model.dram_row_ns",
    [HW_P_LLC_GBS] = "model.llc_gbs",
    [HW_P_DISPATCH] = "model.dispatch_us",
    [HW_P_GEMM_M_HALF_DRAM] = "model.gemm_m_half_dram",
    [HW_P_DRAM_SHORT_EFF] = "model.dram_short_efficiency",
    [HW_P_DRAM_SHORT_ROW] = "model.dram_short_row_ns",
    [HW_P_GEMV_REUSE] = "model.gemv_reuse_gbs",
    [HW_P_GEMV_REUSE_DRAM] = "model.gemv_reuse_dram_gbs",
    [HW_P_STREAM_SCALE] = "dram_stream.scale",
};
_Static_assert(sizeof param_keys / sizeof param_keys[0] == HW_PARAM_COUNT, "param_keys");

const char *hw_param_key(HwParam k) { return (unsigned)k < HW_PARAM_COUNT ? param_keys[k] : "?"; }

double hw_param_get(const HwModelParams *m, HwParam k) {
    switch (k) {
    case HW_P_GEMM_EFF: return m->gemm_efficiency;
    case HW_P_GEMM_M_HALF: return m->gemm_m_half;
    case HW_P_ATTN_EFF: return m->attention_efficiency;
    case HW_P_CONV_EFF: return m->conv_efficiency;
    case HW_P_ELEM_EFF: return m->elementwise_efficiency;
    case HW_P_DRAM_EFF: return m->dram_efficiency;
    case HW_P_OVERHEAD: return m->overhead_us;
    case HW_P_GEMM_K_HALF: return m->gemm_k_half;
    case HW_P_CACHE_GBS: return m->cache_gbs;
    case HW_P_LOOP_OVERHEAD: return m->loop_overhead_us;
    case HW_P_HEAD_OVERHEAD: return m->head_overhead_us;
    case HW_P_SEARCH: return m->search_ns;
    case HW_P_TRANS_EFF: return m->transcendental_efficiency;
    case HW_P_GEMM_REM: return m->gemm_remainder_rows;
    case HW_P_DRAM_ROW: return m->dram_row_ns;
    case HW_P_LLC_GBS: return m->llc_gbs;
    case HW_P_DISPATCH: return m->dispatch_us;
    case HW_P_GEMM_M_HALF_DRAM: return m->gemm_m_half_dram;
    case HW_P_DRAM_SHORT_EFF: return m->dram_short_efficiency;
    case HW_P_DRAM_SHORT_ROW: return m->dram_short_row_ns;
    case HW_P_GEMV_REUSE: return m->gemv_reuse_gbs;
    case HW_P_GEMV_REUSE_DRAM: return m->gemv_reuse_dram_gbs;
    case HW_P_STREAM_SCALE: return hw_stream_scale(m);
    default: return 0.0;
    }
}

void hw_param_set(HwModelParams *m, HwParam k, double v) {
    switch (k) {
    case HW_P_GEMM_EFF: m->gemm_efficiency = v; break;
    case HW_P_GEMM_M_HALF: m->gemm_m_half = v; break;
    case HW_P_ATTN_EFF: m->attention_efficiency = v; break;
    case HW_P_CONV_EFF: m->conv_efficiency = v; break;
    case HW_P_ELEM_EFF: m->elementwise_efficiency = v; break;
    case HW_P_DRAM_EFF: m->dram_efficiency = v; break;
    case HW_P_OVERHEAD: m->overhead_us = v; break;
    case HW_P_GEMM_K_HALF: m->gemm_k_half = v; break;
    case HW_P_CACHE_GBS: m->cache_gbs = v; break;
    case HW_P_LOOP_OVERHEAD: m->loop_overhead_us = v; break;
    case HW_P_HEAD_OVERHEAD: m->head_overhead_us = v; break;
    case HW_P_SEARCH: m->search_ns = v; break;
    case HW_P_TRANS_EFF: m->transcendental_efficiency = v; break;
    case HW_P_GEMM_REM: m->gemm_remainder_rows = v; break;
    case HW_P_DRAM_ROW: m->dram_row_ns = v; break;
    case HW_P_LLC_GBS: m->llc_gbs = v; break;
    case HW_P_DISPATCH: m->dispatch_us = v; break;
    case HW_P_GEMM_M_HALF_DRAM: m->gemm_m_half_dram = v; break;
    case HW_P_DRAM_SHORT_EFF: m->dram_short_efficiency = v; break;
    case HW_P_DRAM_SHORT_ROW: m->dram_short_row_ns = v; break;
    case HW_P_GEMV_REUSE: m->gemv_reuse_gbs = v; break;
    case HW_P_GEMV_REUSE_DRAM: m->gemv_reuse_dram_gbs = v; break;
    case HW_P_STREAM_SCALE: m->stream_scale = v; break;
    default: break;
    }
}

/* ---- sources ---- */

const HwSource *hw_profile_source(const HwProfile *p, const char *key) {
    for (int i = 0; i < p->nsources; i++)
        if (strcmp(p->sources[i].key, key) == 0) return &p->sources[i];
    return NULL;
}

void hw_profile_set_source(HwProfile *p, const char *key, HwSourceStatus st, const char *fmt, ...) {
    HwSource *s = (HwSource *)hw_profile_source(p, key);
    if (s == NULL) {
        if (p->nsources >= HW_MAX_SOURCES) return;
        s = &p->sources[p->nsources++];
        memset(s, 0, sizeof *s);
        snprintf(s->key, sizeof s->key, "%s", key);
    }
    s->status = st;
    s->line = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->source, sizeof s->source, fmt, ap);
    va_end(ap);
}

static int parse_status(const char *s, HwSourceStatus *out) {
    for (int i = 0; i < HW_SRC_COUNT; i++)
        if (strcmp(s, status_names[i]) == 0) {
            *out = (HwSourceStatus)i;
            return 0;
        }
    return -1;
}

/* ---- loading ---- */

typedef struct {
    const char *path;
    yaml_document_t *doc;
    HwProfile *p;
    SimError *err;
    int line[sizeof num_keys / sizeof num_keys[0]]; /* where each number was set, 0 = absent */
    int name_line, desc_line, sources_line;
    int section_line[3]; /* energy, power, model */
    int prov_line;
    int stream_line;
} Loader;

static int node_line(const yaml_node_t *n) {
    size_t l = n ? n->start_mark.line + 1 : 1;
    return l > 1000000000u ? 1000000000 : (int)l;
}

static const char *scalar(const yaml_node_t *n) {
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int lerr(Loader *L, int line, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Records "path:line: key: message"; returns -1. */
static int lerr(Loader *L, int line, const char *key, const char *fmt, ...) {
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sim_errorf(L->err, SIM_EINVAL, "%s:%d: %s: %s", L->path, line, key, msg);
    return -1;
}

/* Checks a number against key i's rules; message into msg. 0 ok. */
static int num_rule(int i, double v, char *msg, size_t n) {
    if (!isfinite(v) || v <= 0.0) {
        snprintf(msg, n, "must be a positive number (got %g)", v);
        return -1;
    }
    if (num_keys[i].max > 0 && v > num_keys[i].max) {
        snprintf(msg, n, "must be at most %g (got %g)", num_keys[i].max, v);
        return -1;
    }
    if (num_keys[i].integer && v != floor(v)) {
        snprintf(msg, n, "must be a whole number (got %g)", v);
        return -1;
    }
    if (num_keys[i].off == offsetof(HwProfile, model.gemm_tile_rows) &&
        ((unsigned)v & ((unsigned)v - 1u)) != 0) {
        snprintf(msg, n, "must be a power of two (got %g)", v);
        return -1;
    }
    return 0;
}

static int set_number(Loader *L, const char *key, const yaml_node_t *v) {
    int i = num_lookup(key);
    if (i < 0) return lerr(L, node_line(v), key, "unknown key");
    if (L->line[i]) return lerr(L, node_line(v), key, "duplicate key (first at line %d)", L->line[i]);
    const char *s = scalar(v);
    if (s == NULL) return lerr(L, node_line(v), key, "expected a number");
    char *end = NULL;
    errno = 0;
    double x = strtod(s, &end);
    while (end && (*end == ' ' || *end == '\t')) end++;
    if (*s == '\0' || end == s || *end != '\0' || errno == ERANGE)
        return lerr(L, node_line(v), key, "expected a number, got '%.60s'", s);
    char msg[160];
    if (num_rule(i, x, msg, sizeof msg) != 0) return lerr(L, node_line(v), key, "%s", msg);
    num_set(L->p, i, x);
    L->line[i] = node_line(v);
    return 0;
}

static int copy_string(Loader *L, const char *key, const yaml_node_t *v, char *dst, size_t n) {
    const char *s = scalar(v);
    if (s == NULL) return lerr(L, node_line(v), key, "expected a string");
    if (strlen(s) >= n) return lerr(L, node_line(v), key, "longer than %zu characters", n - 1);
    for (const char *q = s; *q; q++)
        if (*q == '\n' || *q == '\r')
            return lerr(L, node_line(v), key, "must be one line");
    snprintf(dst, n, "%s", s);
    return 0;
}

static int valid_name(const char *s) {
    if (*s == '\0' || strlen(s) >= HW_NAME_MAX) return 0;
    for (const char *q = s; *q; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
              *q == '-' || *q == '_' || *q == '.'))
            return 0;
    return 1;
}

/* The pairs of mapping m: calls fn(L, key, keyline, value) for each; rejects non-scalar and
 * duplicate keys among themselves is left to fn. */
typedef int (*PairFn)(Loader *L, const char *section, const char *key, const yaml_node_t *v);

static int walk_mapping(Loader *L, const char *section, const yaml_node_t *m, PairFn fn) {
    for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
        const yaml_node_t *k = yaml_document_get_node(L->doc, pr->key);
        const yaml_node_t *v = yaml_document_get_node(L->doc, pr->value);
        const char *ks = scalar(k);
        if (ks == NULL) return lerr(L, node_line(k), section ? section : "profile",
                                    "keys must be plain scalars");
        if (v == NULL) return lerr(L, node_line(k), ks, "missing value");
        if (fn(L, section, ks, v) != 0) return -1;
    }
    return 0;
}

static int section_pair(Loader *L, const char *section, const char *key, const yaml_node_t *v) {
    char full[96];
    snprintf(full, sizeof full, "%s.%s", section, key);
    return set_number(L, full, v);
}

static int prov_pair(Loader *L, const char *section, const char *key, const yaml_node_t *v) {
    (void)section;
    HwProvenance *pv = &L->p->prov;
    char full[96];
    snprintf(full, sizeof full, "provenance.%s", key);
    struct { const char *k; char *dst; size_t n; } strs[] = {
        {"cpu", pv->cpu, sizeof pv->cpu},
        {"blas", pv->blas, sizeof pv->blas},
        {"openblas_coretype", pv->coretype, sizeof pv->coretype},
        {"openblas_l2_size", pv->l2_size, sizeof pv->l2_size},
        {"date", pv->date, sizeof pv->date},
        {"method", pv->method, sizeof pv->method},
        {"ltsim_version", pv->version, sizeof pv->version},
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (strcmp(key, strs[i].k) == 0) return copy_string(L, full, v, strs[i].dst, strs[i].n);
    struct { const char *k; double *dst; } nums[] = {
        {"threads", &pv->threads},
        {"fit_rows", &pv->fit_rows},
        {"fit_rms_rel_err", &pv->fit_rms_rel_err},
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
        if (strcmp(key, nums[i].k) == 0) {
            const char *s = scalar(v);
            char *end = NULL;
            double x = s ? strtod(s, &end) : -1.0;
            if (s == NULL || end == s || *end != '\0' || !isfinite(x) || x < 0)
                return lerr(L, node_line(v), full, "expected a number >= 0");
            *nums[i].dst = x;
            return 0;
        }
    return lerr(L, node_line(v), full, "unknown key");
}

/* One sources entry: {key: K | [K, ...], status: S, source: TEXT}. */
static int load_source(Loader *L, const yaml_node_t *item) {
    int line = node_line(item);
    if (item->type != YAML_MAPPING_NODE)
        return lerr(L, line, "sources", "each entry must be a mapping {key, status, source}");
    const yaml_node_t *keyn = NULL, *stn = NULL, *srcn = NULL;
    for (yaml_node_pair_t *pr = item->data.mapping.pairs.start; pr < item->data.mapping.pairs.top;
         pr++) {
        const yaml_node_t *k = yaml_document_get_node(L->doc, pr->key);
        const yaml_node_t *v = yaml_document_get_node(L->doc, pr->value);
        const char *ks = scalar(k);
        if (ks == NULL || v == NULL) return lerr(L, node_line(k), "sources", "bad entry");
        const yaml_node_t **slot = strcmp(ks, "key") == 0      ? &keyn
                                   : strcmp(ks, "status") == 0 ? &stn
                                   : strcmp(ks, "source") == 0 ? &srcn
                                                               : NULL;
        if (slot == NULL)
            return lerr(L, node_line(k), "sources",
                        "unknown field '%.40s' (expected key, status, source)", ks);
        if (*slot != NULL) return lerr(L, node_line(k), "sources", "duplicate field '%s'", ks);
        *slot = v;
    }
    if (keyn == NULL) return lerr(L, line, "sources", "entry without 'key'");
    if (stn == NULL) return lerr(L, line, "sources", "entry without 'status'");
    if (srcn == NULL) return lerr(L, line, "sources", "entry without 'source'");
    HwSourceStatus st;
    const char *sts = scalar(stn);
    if (sts == NULL || parse_status(sts, &st) != 0)
        return lerr(L, node_line(stn), "sources",
                    "status '%.40s' is not one of verified, recalled, derived, measured, "
                    "estimated, fitted",
                    sts ? sts : "?");
    const char *text = scalar(srcn);
    if (text == NULL || *text == '\0')
        return lerr(L, node_line(srcn), "sources", "'source' must be a non-empty string");
    if (strlen(text) >= sizeof L->p->sources[0].source)
        return lerr(L, node_line(srcn), "sources", "source text longer than %zu characters",
                    sizeof L->p->sources[0].source - 1);
    /* key: one name or a list of names */
    const yaml_node_t *single[1] = {keyn};
    const yaml_node_t *const *keys = single;
    int nkeys = 1;
    const yaml_node_t *list[HW_MAX_SOURCES];
    if (keyn->type == YAML_SEQUENCE_NODE) {
        nkeys = 0;
        for (yaml_node_item_t *it = keyn->data.sequence.items.start;
             it < keyn->data.sequence.items.top && nkeys < HW_MAX_SOURCES; it++)
            list[nkeys++] = yaml_document_get_node(L->doc, *it);
        keys = list;
        if (nkeys == 0) return lerr(L, node_line(keyn), "sources", "empty key list");
    }
    for (int j = 0; j < nkeys; j++) {
        const char *ks = scalar(keys[j]);
        if (ks == NULL || (num_lookup(ks) < 0 && strcmp(ks, "dram_stream") != 0 &&
                           strcmp(ks, "dram_stream.scale") != 0))
            return lerr(L, node_line(keys[j]), "sources",
                        "key '%.60s' is not a number of the profile", ks ? ks : "?");
        if (hw_profile_source(L->p, ks) != NULL)
            return lerr(L, node_line(keys[j]), "sources", "key '%s' has two entries", ks);
        if (L->p->nsources >= HW_MAX_SOURCES)
            return lerr(L, node_line(keys[j]), "sources", "more than %d entries", HW_MAX_SOURCES);
        HwSource *s = &L->p->sources[L->p->nsources++];
        memset(s, 0, sizeof *s);
        snprintf(s->key, sizeof s->key, "%s", ks);
        s->status = st;
        snprintf(s->source, sizeof s->source, "%s", text);
        s->line = node_line(keys[j]);
    }
    return 0;
}

/* A YAML scalar as a number: 0, or -1 when it is not one. */
static int scalar_number(const char *s, double *x) {
    char *end = NULL;
    errno = 0;
    *x = s ? strtod(s, &end) : 0.0;
    return s == NULL || *s == '\0' || end == s || *end != '\0' || errno == ERANGE ? -1 : 0;
}

/* One list of numbers of dram_stream (n of them into out). */
static int load_numbers(Loader *L, const char *key, const yaml_node_t *v, double *out, int *n) {
    if (v == NULL || v->type != YAML_SEQUENCE_NODE)
        return lerr(L, node_line(v), key, "expected a list of numbers");
    *n = 0;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        const yaml_node_t *e = yaml_document_get_node(L->doc, *it);
        const char *s = scalar(e);
        if (*n >= HW_STREAM_POINTS)
            return lerr(L, node_line(e), key, "more than %d points", HW_STREAM_POINTS);
        double x;
        if (scalar_number(s, &x) != 0)
            return lerr(L, node_line(e), key, "expected a number, got '%.60s'", s ? s : "(not a scalar)");
        out[(*n)++] = x;
    }
    return 0;
}

/* dram_stream: {row_bytes: [...], ns_per_row: [...], scale: S} (scale optional: 1) */
static int load_stream(Loader *L, const yaml_node_t *v) {
    if (v->type != YAML_MAPPING_NODE)
        return lerr(L, node_line(v), "dram_stream",
                    "expected a mapping {row_bytes, ns_per_row, scale}");
    int nb = -1, nt = -1, scale_line = 0;
    for (yaml_node_pair_t *pr = v->data.mapping.pairs.start; pr < v->data.mapping.pairs.top; pr++) {
        const yaml_node_t *k = yaml_document_get_node(L->doc, pr->key);
        const yaml_node_t *x = yaml_document_get_node(L->doc, pr->value);
        const char *ks = scalar(k);
        if (ks && strcmp(ks, "scale") == 0) {
            if (scale_line)
                return lerr(L, node_line(k), "dram_stream", "duplicate key 'scale'");
            scale_line = node_line(k);
            const char *s = scalar(x);
            double f;
            if (scalar_number(s, &f) != 0)
                return lerr(L, node_line(x), "dram_stream.scale", "expected a number, got '%.60s'",
                            s ? s : "(not a scalar)");
            if (!(f >= HW_STREAM_SCALE_MIN && f <= HW_STREAM_SCALE_MAX))
                return lerr(L, node_line(x), "dram_stream.scale", "%g is not in [%g, %g]", f,
                            HW_STREAM_SCALE_MIN, HW_STREAM_SCALE_MAX);
            L->p->model.stream_scale = f;
            continue;
        }
        int *cnt = ks && strcmp(ks, "row_bytes") == 0    ? &nb
                   : ks && strcmp(ks, "ns_per_row") == 0 ? &nt
                                                         : NULL;
        if (cnt == NULL)
            return lerr(L, node_line(k), "dram_stream", "unknown key '%.60s'", ks ? ks : "?");
        if (*cnt >= 0) return lerr(L, node_line(k), "dram_stream", "duplicate key '%s'", ks);
        char full[64];
        snprintf(full, sizeof full, "dram_stream.%s", ks);
        if (load_numbers(L, full, x, cnt == &nb ? L->p->stream_row_bytes : L->p->stream_row_ns,
                         cnt) != 0)
            return -1;
    }
    if (nb < 0 || nt < 0)
        return lerr(L, node_line(v), "dram_stream", "needs both row_bytes and ns_per_row");
    if (nb != nt)
        return lerr(L, node_line(v), "dram_stream", "%d row_bytes but %d ns_per_row", nb, nt);
    char msg[160];
    if (hw_stream_check(L->p->stream_row_bytes, L->p->stream_row_ns, nb, msg, sizeof msg) != 0)
        return lerr(L, node_line(v), "dram_stream", "%s", msg);
    L->p->nstream = nb;
    return 0;
}

static const char *const sections[3] = {"energy", "power", "model"};

static int top_pair(Loader *L, const char *section, const char *key, const yaml_node_t *v) {
    (void)section;
    int line = node_line(v);
    if (strcmp(key, "name") == 0) {
        if (L->name_line) return lerr(L, line, key, "duplicate key (first at line %d)", L->name_line);
        if (copy_string(L, key, v, L->p->name, sizeof L->p->name) != 0) return -1;
        if (!valid_name(L->p->name))
            return lerr(L, line, key, "'%s' must be letters, digits, '-', '_' or '.'", L->p->name);
        L->name_line = line;
        return 0;
    }
    if (strcmp(key, "description") == 0) {
        if (L->desc_line) return lerr(L, line, key, "duplicate key (first at line %d)", L->desc_line);
        L->desc_line = line;
        return copy_string(L, key, v, L->p->description, sizeof L->p->description);
    }
    for (int s = 0; s < 3; s++)
        if (strcmp(key, sections[s]) == 0) {
            if (L->section_line[s])
                return lerr(L, line, key, "duplicate key (first at line %d)", L->section_line[s]);
            if (v->type != YAML_MAPPING_NODE)
                return lerr(L, line, key, "expected a mapping of numbers");
            L->section_line[s] = line;
            return walk_mapping(L, key, v, section_pair);
        }
    if (strcmp(key, "provenance") == 0) {
        if (L->prov_line) return lerr(L, line, key, "duplicate key (first at line %d)", L->prov_line);
        if (v->type != YAML_MAPPING_NODE) return lerr(L, line, key, "expected a mapping");
        L->prov_line = line;
        L->p->has_provenance = 1;
        return walk_mapping(L, key, v, prov_pair);
    }
    if (strcmp(key, "dram_stream") == 0) {
        if (L->stream_line)
            return lerr(L, line, key, "duplicate key (first at line %d)", L->stream_line);
        L->stream_line = line;
        return load_stream(L, v);
    }
    if (strcmp(key, "sources") == 0) {
        if (L->sources_line)
            return lerr(L, line, key, "duplicate key (first at line %d)", L->sources_line);
        if (v->type != YAML_SEQUENCE_NODE)
            return lerr(L, line, key, "expected a list of {key, status, source}");
        L->sources_line = line;
        for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
             it++) {
            const yaml_node_t *item = yaml_document_get_node(L->doc, *it);
            if (item == NULL || load_source(L, item) != 0) return -1;
        }
        return 0;
    }
    if (strchr(key, '.') == NULL && num_lookup(key) >= 0) return set_number(L, key, v);
    return lerr(L, line, key, "unknown key");
}

/* Line of the section holding key i (for "missing" messages), or 1. */
static int missing_line(const Loader *L, int i) {
    for (int s = 0; s < 3; s++) {
        size_t n = strlen(sections[s]);
        if (strncmp(num_keys[i].key, sections[s], n) == 0 && num_keys[i].key[n] == '.')
            return L->section_line[s] ? L->section_line[s] : 1;
    }
    return 1;
}

static void yaml_error(Loader *L, const yaml_parser_t *yp) {
    if (yp->error == YAML_MEMORY_ERROR) {
        sim_errorf(L->err, SIM_ENOMEM, "%s: out of memory while parsing YAML", L->path);
        return;
    }
    const char *problem = yp->problem ? yp->problem : "unknown error";
    size_t line = yp->error == YAML_READER_ERROR ? 1 : yp->problem_mark.line + 1;
    if (yp->context)
        sim_errorf(L->err, SIM_EINVAL, "%s:%zu: YAML syntax error: %s (%s at line %zu)", L->path,
                   line, problem, yp->context, (size_t)yp->context_mark.line + 1);
    else
        sim_errorf(L->err, SIM_EINVAL, "%s:%zu: YAML syntax error: %s", L->path, line, problem);
}

SimStatus hw_profile_load_buffer(const char *buf, size_t len, const char *name, HwProfile *p,
                                 SimError *err) {
    memset(p, 0, sizeof *p);
    snprintf(p->path, sizeof p->path, "%s", name);
    Loader L;
    memset(&L, 0, sizeof L);
    L.path = name;
    L.p = p;
    L.err = err;
    yaml_parser_t yp;
    yaml_document_t doc;
    int have_doc = 0;
    if (!yaml_parser_initialize(&yp))
        return sim_errorf(err, SIM_ENOMEM, "%s: out of memory (YAML parser)", name);
    yaml_parser_set_input_string(&yp, (const unsigned char *)buf, len);
    if (!yaml_parser_load(&yp, &doc)) {
        yaml_error(&L, &yp);
        goto out;
    }
    have_doc = 1;
    L.doc = &doc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root == NULL) {
        sim_errorf(err, SIM_EINVAL, "%s:1: empty file (expected a mapping of profile keys)", name);
        goto out;
    }
    if (root->type != YAML_MAPPING_NODE) {
        lerr(&L, node_line(root), "profile", "expected a mapping of profile keys");
        goto out;
    }
    if (walk_mapping(&L, NULL, root, top_pair) != 0) goto out;
    /* a second document is an error too */
    yaml_document_t extra;
    if (yaml_parser_load(&yp, &extra)) {
        yaml_node_t *r2 = yaml_document_get_root_node(&extra);
        int l2 = r2 ? node_line(r2) : 0;
        yaml_document_delete(&extra);
        if (r2 != NULL) {
            sim_errorf(err, SIM_EINVAL, "%s:%d: more than one YAML document", name, l2);
            goto out;
        }
    }
    if (!L.name_line) {
        lerr(&L, 1, "name", "missing");
        goto out;
    }
    if (!L.desc_line) {
        lerr(&L, 1, "description", "missing");
        goto out;
    }
    for (int i = 0; i < NUM_KEYS; i++)
        if (!L.line[i]) {
            lerr(&L, missing_line(&L, i), num_keys[i].key, "missing (a positive number is required)");
            goto out;
        }
    if (!L.sources_line) {
        lerr(&L, 1, "sources", "missing (every number needs its source)");
        goto out;
    }
    for (int i = 0; i < NUM_KEYS; i++)
        if (hw_profile_source(p, num_keys[i].key) == NULL) {
            lerr(&L, L.line[i], num_keys[i].key,
                 "no entry in 'sources' (every number needs its source and status)");
            goto out;
        }
    if (L.stream_line && hw_profile_source(p, "dram_stream") == NULL)
        lerr(&L, L.stream_line, "dram_stream",
             "no entry in 'sources' (every number needs its source and status)");
out:
    if (have_doc) yaml_document_delete(&doc);
    yaml_parser_delete(&yp);
    return err->code;
}

SimStatus hw_profile_load(const char *path, HwProfile *p, SimError *err) {
    memset(p, 0, sizeof *p);
    FILE *f = fopen(path, "rb");
    if (f == NULL) return sim_errorf(err, SIM_EINVAL, "%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    SimStatus rc = SIM_OK;
    for (;;) {
        if (len + 4096 > cap) {
            size_t ncap = cap ? cap * 2 : 16384;
            if (ncap > ((size_t)4 << 20)) {
                rc = sim_errorf(err, SIM_EINVAL, "%s:1: file too large for a profile (> 4 MiB)",
                                path);
                goto out;
            }
            char *nb = realloc(buf, ncap);
            if (nb == NULL) {
                rc = sim_errorf(err, SIM_ENOMEM, "%s: out of memory reading the file", path);
                goto out;
            }
            buf = nb;
            cap = ncap;
        }
        size_t k = fread(buf + len, 1, cap - len, f);
        len += k;
        if (k == 0) break;
    }
    if (ferror(f)) {
        rc = sim_errorf(err, SIM_EINVAL, "%s: read error: %s", path, strerror(errno));
        goto out;
    }
    rc = hw_profile_load_buffer(buf, len, path, p, err);
out:
    free(buf);
    fclose(f);
    return rc;
}

int hw_stream_check(const double *row_bytes, const double *ns, int n, char *msg, size_t len) {
    if (n < 2 || n > HW_STREAM_POINTS) {
        snprintf(msg, len, "needs 2 to %d points (got %d)", HW_STREAM_POINTS, n);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (!isfinite(row_bytes[i]) || row_bytes[i] <= 0.0 || !isfinite(ns[i]) || ns[i] <= 0.0) {
            snprintf(msg, len, "point %d: row_bytes and ns_per_row must be positive (got %g, %g)",
                     i + 1, row_bytes[i], ns[i]);
            return -1;
        }
        if (i > 0 && row_bytes[i] <= row_bytes[i - 1]) {
            snprintf(msg, len, "row_bytes must increase (point %d: %g after %g)", i + 1,
                     row_bytes[i], row_bytes[i - 1]);
            return -1;
        }
        if (i > 0 && ns[i] < ns[i - 1]) {
            snprintf(msg, len, "ns_per_row must not decrease (point %d: %g after %g)", i + 1,
                     ns[i], ns[i - 1]);
            return -1;
        }
    }
    return 0;
}

double hw_stream_row_ns(const HwProfile *p, double row_bytes) {
    int n = p->nstream;
    if (n < 2 || !(row_bytes > 0.0)) return 0.0;
    const double *b = p->stream_row_bytes, *t = p->stream_row_ns;
    if (row_bytes <= b[0]) return t[0] * row_bytes / b[0];
    if (row_bytes >= b[n - 1]) return t[n - 1] * row_bytes / b[n - 1];
    int i = 1;
    while (b[i] < row_bytes) i++;
    return t[i - 1] + (t[i] - t[i - 1]) * (row_bytes - b[i - 1]) / (b[i] - b[i - 1]);
}

SimStatus hw_profile_check(const HwProfile *p, SimError *err) {
    const char *nm = p->name[0] ? p->name : "(profile)";
    if (!valid_name(p->name))
        return sim_errorf(err, SIM_EINVAL, "%s: name: '%s' must be letters, digits, '-', '_' or '.'",
                          nm, p->name);
    for (int i = 0; i < NUM_KEYS; i++) {
        char msg[160];
        if (num_rule(i, num_get(p, i), msg, sizeof msg) != 0)
            return sim_errorf(err, SIM_EINVAL, "%s: %s: %s", nm, num_keys[i].key, msg);
    }
    char msg[160];
    double sc = p->model.stream_scale;
    if (sc != 0.0 && !(sc >= HW_STREAM_SCALE_MIN && sc <= HW_STREAM_SCALE_MAX))
        return sim_errorf(err, SIM_EINVAL, "%s: dram_stream.scale: %g is not in [%g, %g]", nm, sc,
                          HW_STREAM_SCALE_MIN, HW_STREAM_SCALE_MAX);
    if (p->nstream != 0 &&
        hw_stream_check(p->stream_row_bytes, p->stream_row_ns, p->nstream, msg, sizeof msg) != 0)
        return sim_errorf(err, SIM_EINVAL, "%s: dram_stream: %s", nm, msg);
    return SIM_OK;
}

/* ---- writing ---- */

/* A YAML double-quoted scalar (control characters become spaces). */
static void put_quoted(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
        if (*q == '"' || *q == '\\') fputc('\\', f);
        fputc(*q < 0x20 ? ' ' : *q, f);
    }
    fputc('"', f);
}

static void write_profile(FILE *f, const HwProfile *p) {
    fprintf(f, "# %s - ltsim hardware profile (format: hwprofiles/README.md)\n", p->name);
    if (p->has_provenance)
        fprintf(f, "# Generated by ltsim on %s; regenerate rather than edit.\n", p->prov.date);
    fprintf(f, "name: ");
    put_quoted(f, p->name);
    fprintf(f, "\ndescription: ");
    put_quoted(f, p->description);
    fputc('\n', f);
    const char *cur = NULL;
    for (int i = 0; i < NUM_KEYS; i++) {
        const char *k = num_keys[i].key, *dot = strchr(k, '.');
        if (dot != NULL) {
            size_t n = (size_t)(dot - k);
            if (cur == NULL || strncmp(cur, k, n) != 0 || cur[n] != '.') {
                fprintf(f, "%.*s:\n", (int)n, k);
                cur = k;
            }
            fprintf(f, "  %s: %.6g\n", dot + 1, num_get(p, i));
        } else {
            fprintf(f, "%s: %.6g\n", k, num_get(p, i));
        }
    }
    if (p->nstream > 0) {
        fprintf(f, "dram_stream:\n  row_bytes: [");
        for (int i = 0; i < p->nstream; i++)
            fprintf(f, "%s%.6g", i ? ", " : "", p->stream_row_bytes[i]);
        fprintf(f, "]\n  ns_per_row: [");
        for (int i = 0; i < p->nstream; i++)
            fprintf(f, "%s%.6g", i ? ", " : "", p->stream_row_ns[i]);
        fprintf(f, "]\n  scale: %.6g\n", hw_stream_scale(&p->model));
    }
    if (p->has_provenance) {
        const HwProvenance *v = &p->prov;
        fprintf(f, "provenance:\n");
        struct { const char *k; const char *s; } strs[] = {
            {"cpu", v->cpu}, {"blas", v->blas}, {"openblas_coretype", v->coretype},
            {"openblas_l2_size", v->l2_size}, {"date", v->date}, {"method", v->method},
            {"ltsim_version", v->version},
        };
        for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
            if (strs[i].s[0]) {
                fprintf(f, "  %s: ", strs[i].k);
                put_quoted(f, strs[i].s);
                fputc('\n', f);
            }
        if (v->threads > 0) fprintf(f, "  threads: %.6g\n", v->threads);
        if (v->fit_rows > 0) fprintf(f, "  fit_rows: %.6g\n", v->fit_rows);
        if (v->fit_rows > 0) fprintf(f, "  fit_rms_rel_err: %.6g\n", v->fit_rms_rel_err);
    }
    fprintf(f, "sources:\n");
    for (int i = 0; i < p->nsources; i++) {
        fprintf(f, "  - {key: %s, status: %s, source: ", p->sources[i].key,
                hw_source_status_name(p->sources[i].status));
        put_quoted(f, p->sources[i].source);
        fprintf(f, "}\n");
    }
}

SimStatus hw_profile_write(const HwProfile *p, const char *path, SimError *err) {
    SimStatus rc = hw_profile_check(p, err);
    if (rc != SIM_OK) return rc;
    char tmp[1100];
    int k = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (k < 0 || (size_t)k >= sizeof tmp)
        return sim_errorf(err, SIM_EIO, "%s: path too long", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL) return sim_errorf(err, SIM_EIO, "%s: cannot create: %s", tmp, strerror(errno));
    write_profile(f, p);
    int bad = ferror(f);
    if (fflush(f) != 0) bad = 1;
    if (fsync(fileno(f)) != 0 && errno != EINVAL) bad = 1;
    if (fclose(f) != 0) bad = 1;
    if (bad) {
        rc = sim_errorf(err, SIM_EIO, "%s: write failed: %s", tmp, strerror(errno));
        remove(tmp);
        return rc;
    }
    if (rename(tmp, path) != 0) {
        rc = sim_errorf(err, SIM_EIO, "%s: cannot rename to %s: %s", tmp, path, strerror(errno));
        remove(tmp);
        return rc;
    }
    return SIM_OK;
}

/* ---- finding ---- */

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The search directories in order; returns their count (at most 3). */
static int search_dirs(char dirs[3][600]) {
    int n = 0;
    const char *home = getenv("LTSIM_HOME");
    if (home && *home) snprintf(dirs[n++], 600, "%s/hwprofiles", home);
    char ed[512];
    paths_exe_dir(ed, sizeof ed);
    snprintf(dirs[n++], 600, "%s/hwprofiles", ed);
    snprintf(dirs[n++], 600, "hwprofiles");
    return n;
}

void hw_profile_dir(char *buf, size_t n) {
    const char *home = getenv("LTSIM_HOME");
    if (home && *home) {
        snprintf(buf, n, "%s/hwprofiles", home);
        return;
    }
    char ed[512], d[600];
    paths_exe_dir(ed, sizeof ed);
    snprintf(d, sizeof d, "%s/hwprofiles", ed);
    snprintf(buf, n, "%s", is_dir(d) ? d : "hwprofiles");
}

SimStatus hw_profile_find(const char *name, char *path, size_t n, SimError *err) {
    if (name == NULL || *name == '\0')
        return sim_errorf(err, SIM_EINVAL, "hardware profile: empty name");
    size_t len = strlen(name);
    int is_path = strchr(name, '/') != NULL || (len > 4 && strcmp(name + len - 4, ".yml") == 0);
    if (is_path) {
        snprintf(path, n, "%s", name);
        if (access(name, R_OK) == 0) return SIM_OK;
        return sim_errorf(err, SIM_EINVAL, "%s: cannot open hardware profile: %s", name,
                          strerror(errno));
    }
    if (!valid_name(name))
        return sim_errorf(err, SIM_EINVAL, "hardware profile '%.80s': not a profile name", name);
    char dirs[3][600];
    int nd = search_dirs(dirs);
    for (int i = 0; i < nd; i++) {
        snprintf(path, n, "%s/%s.yml", dirs[i], name);
        if (access(path, R_OK) == 0) return SIM_OK;
    }
    snprintf(path, n, "hwprofiles/%s.yml", name);
    if (strcmp(name, "host") == 0)
        return sim_errorf(err, SIM_EINVAL,
                          "hardware profile 'host': no hwprofiles/host.yml (run 'ltsim calibrate' "
                          "on this machine first)");
    return sim_errorf(err, SIM_EINVAL,
                      "hardware profile '%s': no %s.yml in $LTSIM_HOME/hwprofiles, next to the "
                      "binary or in ./hwprofiles (see 'ltsim hw list')",
                      name, name);
}

SimStatus hw_profile_open(const char *name, HwProfile *p, SimError *err) {
    char path[1024];
    SimStatus rc = hw_profile_find(name, path, sizeof path, err);
    if (rc != SIM_OK) return rc;
    return hw_profile_load(path, p, err);
}

static int cmp_name(const void *a, const void *b) {
    return strcmp((const char *)a, (const char *)b);
}

SimStatus hw_profile_list(HwProfileList *out, SimError *err) {
    memset(out, 0, sizeof *out);
    char dirs[3][600];
    int nd = search_dirs(dirs), cap = 0;
    for (int i = 0; i < nd; i++) {
        DIR *d = opendir(dirs[i]);
        if (d == NULL) continue;
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            size_t len = strlen(de->d_name);
            if (len <= 4 || strcmp(de->d_name + len - 4, ".yml") != 0) continue;
            if (len - 4 >= HW_NAME_MAX) continue;
            char nm[HW_NAME_MAX];
            snprintf(nm, sizeof nm, "%.*s", (int)(len - 4), de->d_name);
            if (!valid_name(nm)) continue;
            int dup = 0;
            for (int j = 0; j < out->n; j++)
                if (strcmp(out->names[j], nm) == 0) dup = 1;
            if (dup) continue;
            if (out->n == cap) {
                int ncap = cap ? cap * 2 : 32;
                char(*nn)[HW_NAME_MAX] = realloc(out->names, (size_t)ncap * sizeof *nn);
                if (nn == NULL) {
                    closedir(d);
                    hw_profile_list_free(out);
                    return sim_errorf(err, SIM_ENOMEM, "out of memory listing profiles");
                }
                out->names = nn;
                cap = ncap;
            }
            snprintf(out->names[out->n++], HW_NAME_MAX, "%s", nm);
        }
        closedir(d);
    }
    if (out->n > 1) qsort(out->names, (size_t)out->n, sizeof *out->names, cmp_name);
    return SIM_OK;
}

void hw_profile_list_free(HwProfileList *l) {
    free(l->names);
    l->names = NULL;
    l->n = 0;
}

/* ---- the model ---- */

/* What one ledger entry needs from the DRAM / cache model, independent of the fitted
 * parameters: so that hw_predict and hw_fit read the same numbers. */
typedef struct {
    HwClass cls;
    double macs;
    double flops2;      /* 2 * MACs */
    double m;           /* rows of a GEMM (>= 1) */
    double k;           /* inner dimension of a GEMM (>= 1) */
    double heads;       /* attention: heads per call (>= 1), else 0 */
    double other;       /* other FLOPs (elementwise work) */
    int trans;          /* an exponential-type elementwise operator (hw_op_transcendental) */
    double rem;         /* GEMM remainder passes: popcount(M mod gemm_tile_rows) */
    double res;         /* resident share of the weights */
    double drows;       /* matrix-vector products: weight rows read from DRAM, over the calls */
    int stream;         /* matrix-vector products (hw_gemv): memory-bound by nature, their
                           time is the memory term */
    int shortrow;       /* a stream whose weight rows are shorter than HW_STREAM_PAGE bytes:
                           its DRAM weights and rows use the dram_short_* terms */
    double row_ns;      /* a stream on a profile with a stream curve: ns per weight row from
                           DRAM (hw_stream_row_ns), which replaces the dram and dram_short
                           terms of its weights; else 0 */
    double dram;        /* bytes from DRAM */
    double wdram;       /* of which weights */
    double sram;        /* bytes through the cache */
    double cache;       /* of those, the bytes not from DRAM (at cache_gbs) */
    double wcache;      /* matrix-vector products: resident weight bytes (at llc_gbs) */
    double reuse;       /* matrix-vector products of M > 1 rows: of the (M - 1) * weight bytes
                           the other rows re-read from the core's cache, all but reuse_dram
                           (at gemv_reuse_gbs) */
    double reuse_dram;  /* the second row's re-read of the weights streamed from DRAM (at
                           gemv_reuse_dram_gbs): the lines the first row's stream brought are
                           still arriving or only in the LLC; the later rows find them in the
                           core's cache. On the AMD EPYC VM the products of beam-2 steps from
                           DRAM took 1.2-1.9 times the stream curve's one-row time, those of
                           beam-4 steps only 2.0-2.5 */
    double calls;
} Terms;

/* Share of a ledger's weights (w bytes) that stays resident in `share` of the LLC between
 * uses. */
static double resident_share(const HwProfile *p, double w, double share) {
    double c = share * p->llc_kib * 1024.0;
    if (w <= c) return 1.0;
    /* beyond the capacity the cache keeps part of the weights, less the further they
     * exceed it (cyclic reuse under LRU-like replacement keeps nothing): the share c / w of
     * an ideal cache, scaled down linearly to 0 at w = c * (1 + llc_retention) */
    double keep = 1.0 - (w - c) / (p->model.llc_retention * c);
    return keep > 0.0 ? keep * c / w : 0.0;
}

/* Terms of one ledger entry; res is its ledger's resident weight share (res[0]; res[1] for
 * blocked matrix products, within llc_share_gemm), step says the ledger is a decoder step of
 * a generate run (ledger k >= 1 of several). */
static void entry_terms(const HwProfile *p, const LedgerEntry *e, const double res[2], int step,
                        Terms *t) {
    const OpCost *c = &e->cost;
    double llc = p->llc_kib * 1024.0;
    t->cls = hw_op_class(e->op);
    double resident = t->cls == HW_GEMM && !hw_gemv(e) ? res[1] : res[0];
    t->macs = (double)c->macs;
    t->flops2 = 2.0 * (double)c->macs;
    t->m = e->dims[0] >= 1 ? (double)e->dims[0] : 1.0;
    t->k = e->dims[2] >= 1 ? (double)e->dims[2] : 1.0;
    t->rem = 0.0;
    t->res = resident;
    t->stream = hw_gemv(e);
    t->shortrow = t->stream && hw_short_rows(e);
    t->row_ns = t->stream && p->nstream > 0 && e->dims[1] >= 1 && e->dims[2] >= 1
                    ? hw_stream_row_ns(p, weight_row_bytes(e))
                    : 0.0;
    if (t->cls == HW_GEMM && !t->stream) {
        unsigned tile = p->model.gemm_tile_rows >= 1.0 ? (unsigned)p->model.gemm_tile_rows : 1u;
        t->rem = (double)__builtin_popcount((unsigned)((uint64_t)t->m % tile));
    }
    t->heads = 0.0;
    if (t->cls == HW_ATTENTION) {
        /* heads from the bytes: scores write H*Tq*Tk floats per call; the weighted sum reads
         * the H*Tq*Tk probabilities and the Tk x W values (dims: Tq, Tk, W) */
        double calls = e->calls > 0 ? (double)e->calls : 1.0;
        double tq = (double)e->dims[0], tk = (double)e->dims[1], w = (double)e->dims[2];
        double h = 1.0;
        if (tq >= 1 && tk >= 1) {
            h = e->op == OP_ATTN_SCORES
                    ? (double)c->bytes_written / calls / (4.0 * tq * tk)
                    : ((double)c->act_bytes_read / calls - 4.0 * tk * w) / (4.0 * tq * tk);
            h = floor(h + 0.5);
        }
        t->heads = h >= 1.0 && h <= 4096.0 ? h : 1.0;
    }
    /* the bias and scaling FLOPs of products and convolutions ride along with them; copies
     * (cache appends, beam reordering) do no arithmetic: their time is memory and overhead */
    t->other = t->cls == HW_ELEMENTWISE ? (double)c->other_flops : 0.0;
    t->trans = t->cls == HW_ELEMENTWISE && hw_op_transcendental(e->op);
    double act = (double)c->act_bytes_read + (double)c->bytes_written;
    double act_dram = act > llc ? act - llc : 0.0;
    if (step && t->cls == HW_ATTENTION) {
        /* a decoder step's attention reads the key/value caches the previous steps left;
         * the weights streamed since push them out of the cache as they push out the
         * weights themselves */
        double kv = (double)c->act_bytes_read * (1.0 - resident);
        if (kv > act_dram) act_dram = kv;
    }
    t->wdram = (double)c->weight_bytes * (1.0 - resident);
    t->drows = 0.0;
    if (t->cls == HW_GEMM && c->weight_bytes > 0)
        t->drows = (double)(e->dims[1] > 0 ? e->dims[1] : 0) * (e->calls > 0 ? (double)e->calls : 1.0) *
                   (1.0 - resident);
    t->dram = t->wdram + act_dram;
    t->sram = (double)c->weight_bytes + act;
    t->cache = t->sram - t->dram;
    t->wcache = 0.0;
    t->reuse = 0.0;
    t->reuse_dram = 0.0;
    t->calls = e->calls > 0 ? (double)e->calls : 1.0;
    if (t->stream) {
        t->wcache = (double)c->weight_bytes * resident;
        t->cache -= t->wcache;
        if (t->m > 1.0) {
            double again = (t->m - 1.0) * (double)c->weight_bytes;
            double first = (double)c->weight_bytes * (1.0 - resident);
            t->reuse_dram = first;
            t->reuse = again - first;
            t->sram += again; /* through the cache again, not counted in t->cache */
        }
    }
}

static double terms_compute_ms(const HwProfile *p, const HwModelParams *m, const Terms *t) {
    double peak = p->peak_gflops_fp32 * 1e6; /* FLOP per ms */
    switch (t->cls) {
    case HW_GEMM: /* matrix-vector products stream their weights once, unpacked */
        return t->flops2 *
               (!t->stream ? 1.0 +
                                 (m->gemm_m_half * t->res + m->gemm_m_half_dram * (1.0 - t->res) +
                                  m->gemm_remainder_rows * t->rem) /
                                     t->m +
                                 m->gemm_k_half / t->k
                           : 1.0) /
               (peak * m->gemm_efficiency) +
           (t->stream ? 0.0 : t->drows * m->dram_row_ns * 1e-6);
    case HW_ATTENTION: return t->flops2 / (peak * m->attention_efficiency);
    case HW_CONV: return t->flops2 / (peak * m->conv_efficiency);
    default:
        return t->other /
               (peak * (t->trans ? m->transcendental_efficiency : m->elementwise_efficiency));
    }
}

static double terms_memory_ms(const HwProfile *p, const HwModelParams *m, const Terms *t) {
    double bw = p->dram_gbs * 1e6, cache = t->cache / (m->cache_gbs * 1e6) +
                                          t->wcache / (m->llc_gbs * 1e6) +
                                          t->reuse / (m->gemv_reuse_gbs * 1e6) +
                                          t->reuse_dram / (m->gemv_reuse_dram_gbs * 1e6);
    if (t->row_ns > 0.0)
        return (t->dram - t->wdram) / (bw * m->dram_efficiency) + cache +
               t->drows * t->row_ns * hw_stream_scale(m) * 1e-6;
    if (t->shortrow)
        return (t->dram - t->wdram) / (bw * m->dram_efficiency) +
               t->wdram / (bw * m->dram_short_efficiency) + cache +
               t->drows * m->dram_short_row_ns * 1e-6;
    return t->dram / (bw * m->dram_efficiency) + cache +
           (t->stream ? t->drows * m->dram_row_ns * 1e-6 : 0.0);
}

static int blas_class(HwClass c) { return c == HW_GEMM || c == HW_ATTENTION; }

static double terms_overhead_ms(const HwModelParams *m, const Terms *t) {
    return t->calls * 1e-3 *
           (m->dispatch_us + (blas_class(t->cls) ? m->overhead_us : m->loop_overhead_us) +
            t->heads * m->head_overhead_us);
}

/* Logits the search goes over after decoder step ledger l: rows x columns of its last matrix
 * product (the output projection), over its calls. */
static double step_logits(const CostLedger *l) {
    for (size_t i = cost_ledger_count(l); i-- > 0;) {
        const LedgerEntry *e = cost_ledger_get(l, i);
        if (e->op != OP_LINEAR) continue;
        double k = e->dims[2] >= 1 ? (double)e->dims[2] : 1.0;
        return (double)e->cost.macs / k;
    }
    return 0.0;
}

/* Search time (ms) after ledger k of a run of n: decoder steps only (k >= 1). */
static double search_ms(const HwProfile *p, const CostLedger *const *ledgers, int n, int k) {
    if (n < 2 || k < 1) return 0.0;
    return step_logits(ledgers[k]) * p->model.search_ns * 1e-6;
}

/* Resident shares for ledger k of a sequence of n (see hw.h): res[0] within llc_share of
 * the LLC, res[1] (blocked matrix products) within llc_share_gemm. */
static void ledger_resident(const HwProfile *p, const CostLedger *const *ledgers, int k, int warm,
                            double res[2]) {
    res[0] = res[1] = 0.0;
    if (k >= 2 || warm) {
        double w = 0.0;
        for (size_t i = 0; i < cost_ledger_count(ledgers[k]); i++)
            w += (double)cost_ledger_get(ledgers[k], i)->cost.weight_bytes;
        res[0] = resident_share(p, w, p->model.llc_share);
        res[1] = resident_share(p, w, p->model.llc_share_gemm);
    }
}

double hw_predict_ms(const HwProfile *p, const CostLedger *const *ledgers, int n,
                     const HwPredictOptions *o) {
    int warm = o ? o->warm : 0;
    double total = 0.0;
    for (int k = 0; k < n; k++) {
        if (ledgers[k] == NULL) continue;
        double res[2];
        ledger_resident(p, ledgers, k, warm, res);
        for (size_t i = 0; i < cost_ledger_count(ledgers[k]); i++) {
            Terms t;
            entry_terms(p, cost_ledger_get(ledgers[k], i), res, n >= 2 && k >= 1, &t);
            double c = terms_compute_ms(p, &p->model, &t), mem = terms_memory_ms(p, &p->model, &t);
            total += (c > mem && !t.stream ? c : mem) * p->model.outside_factor +
                     terms_overhead_ms(&p->model, &t);
        }
        total += search_ms(p, ledgers, n, k);
    }
    return total;
}

typedef struct {
    const char *scope;
    int op;
    double ms;
} TopAcc;

static int cmp_top(const void *a, const void *b) {
    const TopAcc *x = a, *y = b;
    int c = strcmp(x->scope, y->scope);
    if (c != 0) return c;
    return (x->op > y->op) - (x->op < y->op);
}

SimStatus hw_predict(const HwProfile *p, const CostLedger *const *ledgers, int n,
                     const HwPredictOptions *o, HwPrediction *out, SimError *err) {
    memset(out, 0, sizeof *out);
    snprintf(out->hw, sizeof out->hw, "%s", p->name);
    if (n < 1 || ledgers == NULL)
        return sim_errorf(err, SIM_EINVAL, "hw_predict: no ledger to predict");
    size_t total = 0;
    for (int k = 0; k < n; k++) {
        if (ledgers[k] == NULL)
            return sim_errorf(err, SIM_EINVAL, "hw_predict: ledger %d is missing", k);
        total += cost_ledger_count(ledgers[k]);
    }
    int warm = o ? o->warm : 0;
    out->ops = calloc(total ? total : 1, sizeof *out->ops);
    out->step_ms = calloc((size_t)n, sizeof *out->step_ms);
    TopAcc *acc = calloc(total ? total : 1, sizeof *acc);
    if (out->ops == NULL || out->step_ms == NULL || acc == NULL) {
        free(acc);
        hw_prediction_free(out);
        return sim_errorf(err, SIM_ENOMEM, "out of memory predicting on %s", p->name);
    }
    out->nsteps = n;
    const HwModelParams *m = &p->model;
    for (int k = 0; k < n; k++) {
        double res[2];
        ledger_resident(p, ledgers, k, warm, res);
        for (size_t i = 0; i < cost_ledger_count(ledgers[k]); i++) {
            const LedgerEntry *e = cost_ledger_get(ledgers[k], i);
            Terms t;
            entry_terms(p, e, res, n >= 2 && k >= 1, &t);
            HwOpPrediction *op = &out->ops[out->nops];
            op->step = k;
            snprintf(op->scope, sizeof op->scope, "%s", e->scope);
            op->op = e->op;
            op->cls = t.cls;
            /* outside_factor: the time between operators that grows with the run */
            op->compute_ms = terms_compute_ms(p, m, &t) * m->outside_factor;
            op->memory_ms = terms_memory_ms(p, m, &t) * m->outside_factor;
            op->overhead_ms = terms_overhead_ms(m, &t);
            op->memory_bound = t.stream || op->memory_ms > op->compute_ms;
            op->time_ms = (op->memory_bound ? op->memory_ms : op->compute_ms) + op->overhead_ms;
            op->dram_bytes = t.dram;
            op->weight_dram_bytes = t.wdram;
            op->sram_bytes = t.sram;
            double dyn_pj = t.macs * p->mac_fp32_pj + t.dram * p->dram_byte_pj +
                            t.sram * p->sram_byte_pj;
            op->energy_mj = dyn_pj * 1e-9 + p->idle_w * op->time_ms;
            /* totals */
            out->latency_ms += op->time_ms;
            out->step_ms[k] += op->time_ms;
            out->overhead_ms += op->overhead_ms;
            if (op->memory_bound) out->memory_bound_ms += op->memory_ms;
            else out->compute_bound_ms += op->compute_ms;
            out->macs += t.macs;
            out->dram_bytes += t.dram;
            out->weight_dram_bytes += t.wdram;
            out->act_dram_bytes += t.dram - t.wdram;
            out->sram_bytes += t.sram;
            out->energy_mac_mj += t.macs * p->mac_fp32_pj * 1e-9;
            out->energy_dram_mj += t.dram * p->dram_byte_pj * 1e-9;
            out->energy_sram_mj += t.sram * p->sram_byte_pj * 1e-9;
            acc[out->nops].scope = op->scope;
            acc[out->nops].op = op->op;
            acc[out->nops].ms = op->time_ms;
            out->nops++;
        }
        double sms = search_ms(p, ledgers, n, k);
        out->search_ms += sms;
        out->step_ms[k] += sms;
        out->latency_ms += sms;
    }
    out->energy_static_mj = p->idle_w * out->latency_ms;
    out->energy_mj = out->energy_mac_mj + out->energy_dram_mj + out->energy_sram_mj +
                     out->energy_static_mj;
    out->memory_bound = out->memory_bound_ms > out->compute_bound_ms;
    /* top operators: (scope, op) summed over the steps */
    qsort(acc, out->nops, sizeof *acc, cmp_top);
    size_t ng = 0;
    for (size_t i = 0; i < out->nops; i++) {
        if (ng > 0 && cmp_top(&acc[ng - 1], &acc[i]) == 0) acc[ng - 1].ms += acc[i].ms;
        else acc[ng++] = acc[i];
    }
    for (size_t i = 0; i < ng; i++) {
        int pos = out->ntop;
        while (pos > 0 && acc[i].ms > out->top[pos - 1].latency_ms) pos--;
        if (pos >= HW_TOP_OPS) continue;
        int last = out->ntop < HW_TOP_OPS ? out->ntop : HW_TOP_OPS - 1;
        for (int j = last; j > pos; j--) out->top[j] = out->top[j - 1];
        snprintf(out->top[pos].scope, sizeof out->top[pos].scope, "%s", acc[i].scope);
        out->top[pos].op = acc[i].op;
        out->top[pos].latency_ms = acc[i].ms;
        if (out->ntop < HW_TOP_OPS) out->ntop++;
    }
    free(acc);
    return SIM_OK;
}

void hw_prediction_free(HwPrediction *pr) {
    if (pr == NULL) return;
    free(pr->ops);
    free(pr->step_ms);
    pr->ops = NULL;
    pr->step_ms = NULL;
    pr->nops = 0;
    pr->nsteps = 0;
}

/* ---- fitting ----
 *
 * Linear coefficients x (all >= 0):
 *   x0 = 1/gemm_efficiency, x1 = gemm_m_half/gemm_efficiency, x2 = 1/attention_efficiency,
 *   x3 = 1/conv_efficiency, x4 = 1/elementwise_efficiency, x5 = 1/dram_efficiency,
 *   x6 = overhead_us, x7 = gemm_k_half/gemm_efficiency, x8 = 1/cache_gbs,
 *   x9 = loop_overhead_us, x10 = head_overhead_us, x11 = search_ns,
 *   x12 = 1/transcendental_efficiency (the exponential-type elementwise operators),
 *   x13 = gemm_remainder_rows/gemm_efficiency, x14 = dram_row_ns, x15 = 1/llc_gbs,
 *   x16 = dispatch_us (whole-run samples only: the others are kernel times),
 *   x17 = gemm_m_half_dram/gemm_efficiency (x1 takes the resident share of the weights),
 *   x18 = 1/dram_short_efficiency, x19 = dram_short_row_ns (matrix-vector products with rows
 *   shorter than a page: their DRAM weights and rows, instead of x5 and x14),
 *   x20 = 1/gemv_reuse_gbs (matrix-vector products of M > 1 rows: the re-read bytes of the
 *   resident weights), x21 = 1/gemv_reuse_dram_gbs (those of the weights from DRAM),
 *   x22 = stream_scale (the factor on a measured stream curve's ns per row).
 * An operator's compute time is c.x (c nonzero only in its class's columns), its memory time
 * m.x5 + cache.x8 + rows.x14 + wcache.x15 + reuse.x20 + reuse_d.x21 + srow.x22, its overhead calls * 1e-3 * (x6 or x9)
 * + heads * calls * 1e-3 * x10; a
 * run adds logits * 1e-6 * x11. Variables are scaled by the prior (z = x / x_prior). */

#define NP HW_PARAM_COUNT

typedef struct {
    int cls;
    int col;       /* the compute column of c0 (class_col, or 12 for exponential-type ops) */
    double c0, c1, ck, cr, cd; /* compute coefficients: c0 on the class column, c1 on x1, ck
                          on x7, cr on x13 and cd on x17 (GEMM only) */
    double mem;    /* coefficient of x5 */
    double cache;  /* coefficient of x8 */
    double rows;   /* coefficient of x14 in the memory term (matrix-vector products) */
    double mems;   /* coefficient of x18 (short-row streams' DRAM weights) */
    double rows_s; /* coefficient of x19 (short-row streams' DRAM rows) */
    double crow;   /* coefficient of x14 in the compute term (blocked products' packing) */
    double wcache; /* coefficient of x15 */
    double reuse;  /* coefficient of x20 */
    double reuse_d; /* coefficient of x21 */
    double srow;   /* coefficient of x22: a stream's DRAM weights on a profile with a stream
                      curve (their ms at the curve's own values) */
    int stream;    /* always memory-bound (Terms.stream) */
    double ovh;    /* coefficient of x6 (BLAS-backed) or x9 (loops) */
    double head;   /* coefficient of x10 */
} FitOp;

typedef struct {
    FitOp *ops;
    size_t nops;
    double search; /* coefficient of x11 */
    double disp;   /* coefficient of x16 (whole runs: calls * 1e-3 summed) */
    double meas, w; /* w: the weight in the objective (w0 times the robust factor) */
    double w0;      /* the sample's weight */
} FitRow;

static int class_col(int cls) {
    switch (cls) {
    case HW_GEMM: return 0;
    case HW_ATTENTION: return 2;
    case HW_CONV: return 3;
    default: return 4;
    }
}

static void params_to_x(const HwModelParams *m, double x[NP]) {
    x[0] = 1.0 / m->gemm_efficiency;
    x[1] = m->gemm_m_half / m->gemm_efficiency;
    x[2] = 1.0 / m->attention_efficiency;
    x[3] = 1.0 / m->conv_efficiency;
    x[4] = 1.0 / m->elementwise_efficiency;
    x[5] = 1.0 / m->dram_efficiency;
    x[6] = m->overhead_us;
    x[7] = m->gemm_k_half / m->gemm_efficiency;
    x[8] = 1.0 / m->cache_gbs;
    x[9] = m->loop_overhead_us;
    x[10] = m->head_overhead_us;
    x[11] = m->search_ns;
    x[12] = 1.0 / m->transcendental_efficiency;
    x[13] = m->gemm_remainder_rows / m->gemm_efficiency;
    x[14] = m->dram_row_ns;
    x[15] = 1.0 / m->llc_gbs;
    x[16] = m->dispatch_us;
    x[17] = m->gemm_m_half_dram / m->gemm_efficiency;
    x[18] = 1.0 / m->dram_short_efficiency;
    x[19] = m->dram_short_row_ns;
    x[20] = 1.0 / m->gemv_reuse_gbs;
    x[21] = 1.0 / m->gemv_reuse_dram_gbs;
    x[22] = hw_stream_scale(m);
}

static void x_to_params(const double x[NP], HwModelParams *m) {
    m->gemm_efficiency = 1.0 / x[0];
    m->gemm_m_half = x[1] / x[0];
    m->attention_efficiency = 1.0 / x[2];
    m->conv_efficiency = 1.0 / x[3];
    m->elementwise_efficiency = 1.0 / x[4];
    m->dram_efficiency = 1.0 / x[5];
    m->overhead_us = x[6];
    m->gemm_k_half = x[7] / x[0];
    m->cache_gbs = 1.0 / x[8];
    m->loop_overhead_us = x[9];
    m->head_overhead_us = x[10];
    m->search_ns = x[11];
    m->transcendental_efficiency = 1.0 / x[12];
    m->gemm_remainder_rows = x[13] / x[0];
    m->dram_row_ns = x[14];
    m->llc_gbs = 1.0 / x[15];
    m->dispatch_us = x[16];
    m->gemm_m_half_dram = x[17] / x[0];
    m->dram_short_efficiency = 1.0 / x[18];
    m->dram_short_row_ns = x[19];
    m->gemv_reuse_gbs = 1.0 / x[20];
    m->gemv_reuse_dram_gbs = 1.0 / x[21];
    m->stream_scale = x[22];
}

/* Builds the operator rows of one sample (the same Terms as hw_predict). */
static SimStatus fit_row(const HwProfile *p, const HwSample *s, int warm, int fold_k, FitRow *r,
                         SimError *err) {
    size_t total = 0;
    for (int k = 0; k < s->nledgers; k++) total += cost_ledger_count(s->ledgers[k]);
    r->ops = calloc(total ? total : 1, sizeof *r->ops);
    if (r->ops == NULL) return sim_errorf(err, SIM_ENOMEM, "out of memory fitting");
    double peak = p->peak_gflops_fp32 * 1e6, bw = p->dram_gbs * 1e6;
    for (int k = 0; k < s->nledgers; k++) {
        if (s->entry >= 0 && k != s->step) continue;
        double res[2];
        ledger_resident(p, s->ledgers, k, warm, res);
        for (size_t i = 0; i < cost_ledger_count(s->ledgers[k]); i++) {
            if (s->entry >= 0 && (long)i != s->entry) continue;
            if (s->entry < 0 && s->search_only) break;
            Terms t;
            entry_terms(p, cost_ledger_get(s->ledgers[k], i), res, s->nledgers >= 2 && k >= 1, &t);
            if (s->entry < 0 && s->by_class && t.cls != s->cls) continue;
            if (s->entry < 0 && s->by_class && t.cls == HW_GEMM && s->gemm_rows &&
                (s->gemm_rows != 2) != (t.stream != 0))
                continue;
            if (s->entry < 0 && s->by_class && t.cls == HW_GEMM && s->gemm_rows >= 3 &&
                (s->gemm_rows == 3) != (t.shortrow != 0))
                continue;
            if (s->entry < 0 && s->by_class && t.cls == HW_ELEMENTWISE && s->elem_kind &&
                (s->elem_kind == 1) != (t.trans != 0))
                continue;
            FitOp *o = &r->ops[r->nops++];
            o->cls = (int)t.cls;
            o->col = t.trans ? 12 : class_col((int)t.cls);
            if (t.cls == HW_ELEMENTWISE) {
                o->c0 = t.other / peak;
                if (t.trans && fold_k) { /* held at the profile's ratio to elementwise */
                    o->col = class_col(HW_ELEMENTWISE);
                    o->c0 *= p->model.elementwise_efficiency / p->model.transcendental_efficiency;
                }
            } else {
                o->c0 = t.flops2 / peak;
                if (t.cls == HW_GEMM && !t.stream) {
                    double row = t.flops2 / (peak * t.m);
                    o->c1 = row * t.res;
                    o->cd = row * (1.0 - t.res);
                    o->ck = t.flops2 / (peak * t.k);
                    o->cr = row * t.rem;
                    if (fold_k) { /* gemm_k_half and gemm_remainder_rows held: their terms
                                     scale with 1/efficiency; gemm_m_half_dram keeps its
                                     ratio to gemm_m_half */
                        o->c0 += o->ck * p->model.gemm_k_half +
                                 o->cr * p->model.gemm_remainder_rows;
                        o->c1 += o->cd * p->model.gemm_m_half_dram / p->model.gemm_m_half;
                        o->ck = 0.0;
                        o->cr = 0.0;
                        o->cd = 0.0;
                    }
                }
            }
            o->mem = t.dram / bw;
            o->cache = t.cache / 1e6;
            /* weight rows from DRAM: a stream's memory term, a blocked product's packing */
            o->rows = t.stream ? t.drows * 1e-6 : 0.0;
            if (t.shortrow) { /* short rows: their own DRAM rate and row cost */
                o->mem = (t.dram - t.wdram) / bw;
                o->mems = t.wdram / bw;
                o->rows_s = o->rows;
                o->rows = 0.0;
                if (fold_k) { /* held at their ratios to dram_efficiency and dram_row_ns */
                    o->mem += o->mems * p->model.dram_efficiency / p->model.dram_short_efficiency;
                    o->rows = o->rows_s * p->model.dram_short_row_ns / p->model.dram_row_ns;
                    o->mems = 0.0;
                    o->rows_s = 0.0;
                }
            }
            if (t.row_ns > 0.0) { /* measured per row, times the curve's scale */
                o->mem = (t.dram - t.wdram) / bw;
                o->mems = 0.0;
                o->rows = 0.0;
                o->rows_s = 0.0;
                o->srow = t.drows * t.row_ns * 1e-6;
            }
            o->crow = t.stream ? 0.0 : t.drows * 1e-6;
            o->wcache = t.wcache / 1e6;
            o->reuse = t.reuse / 1e6;
            o->reuse_d = t.reuse_dram / 1e6;
            if (s->entry < 0 && !s->by_class && !s->search_only) {
                /* a whole run: the time between operators that grows with it (the others
                 * are the operators' own times) */
                double f = p->model.outside_factor;
                o->c0 *= f;
                o->c1 *= f;
                o->ck *= f;
                o->cr *= f;
                o->cd *= f;
                o->crow *= f;
                o->mem *= f;
                o->cache *= f;
                o->rows *= f;
                o->mems *= f;
                o->rows_s *= f;
                o->wcache *= f;
                o->reuse *= f;
                o->reuse_d *= f;
                o->srow *= f;
            }
            o->stream = t.stream;
            o->ovh = t.calls * 1e-3;
            if (s->entry < 0 && !s->by_class && !s->search_only) r->disp += t.calls * 1e-3;
            o->head = t.heads * t.calls * 1e-3;
        }
        if (s->entry < 0 && (!s->by_class || s->search_only) && s->nledgers >= 2 && k >= 1)
            r->search += step_logits(s->ledgers[k]) * 1e-6;
    }
    r->meas = s->measured_ms;
    r->w = r->w0 = s->weight > 0 ? s->weight : 1.0;
    return SIM_OK;
}

/* Predicted ms of a row at x; fills the design row J (in x space) for the chosen regimes. */
static double row_eval(const FitRow *r, const double x[NP], double J[NP], unsigned char *regime) {
    double t = 0.0;
    if (J) memset(J, 0, NP * sizeof *J);
    for (size_t j = 0; j < r->nops; j++) {
        const FitOp *o = &r->ops[j];
        int col = o->col, ocol = blas_class((HwClass)o->cls) ? 6 : 9;
        double comp = o->c0 * x[col] + o->c1 * x[1] + o->ck * x[7] + o->cr * x[13] +
                      o->cd * x[17] + o->crow * x[14];
        double mem = o->mem * x[5] + o->cache * x[8] + o->rows * x[14] + o->wcache * x[15] +
                     o->mems * x[18] + o->rows_s * x[19] + o->reuse * x[20] +
                     o->reuse_d * x[21] + o->srow * x[22];
        int membound = o->stream || mem > comp;
        if (regime) regime[j] = (unsigned char)membound;
        t += (membound ? mem : comp) + o->ovh * x[ocol] + o->head * x[10];
        if (J) {
            if (membound) {
                J[5] += o->mem;
                J[8] += o->cache;
                J[14] += o->rows;
                J[15] += o->wcache;
                J[18] += o->mems;
                J[19] += o->rows_s;
                J[20] += o->reuse;
                J[21] += o->reuse_d;
                J[22] += o->srow;
            } else {
                J[col] += o->c0;
                J[1] += o->c1;
                J[7] += o->ck;
                J[13] += o->cr;
                J[17] += o->cd;
                J[14] += o->crow;
            }
            J[ocol] += o->ovh;
            J[10] += o->head;
        }
    }
    t += r->search * x[11] + r->disp * x[16];
    if (J) {
        J[11] += r->search;
        J[16] += r->disp;
    }
    return t;
}

/* Solves the n x n system A y = b in place (partial pivoting). 0 ok, -1 singular. */
static int solve(int n, double A[NP][NP], double b[NP], double y[NP]) {
    double M[NP][NP + 1];
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) M[i][j] = A[i][j];
        M[i][n] = b[i];
    }
    for (int c = 0; c < n; c++) {
        int piv = c;
        for (int i = c + 1; i < n; i++)
            if (fabs(M[i][c]) > fabs(M[piv][c])) piv = i;
        if (fabs(M[piv][c]) < 1e-300) return -1;
        if (piv != c)
            for (int j = 0; j <= n; j++) {
                double tmp = M[c][j];
                M[c][j] = M[piv][j];
                M[piv][j] = tmp;
            }
        for (int i = c + 1; i < n; i++) {
            double f = M[i][c] / M[c][c];
            for (int j = c; j <= n; j++) M[i][j] -= f * M[c][j];
        }
    }
    for (int i = n - 1; i >= 0; i--) {
        /* NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Assign): M is filled */
        double s = M[i][n];
        for (int j = i + 1; j < n; j++) s -= M[i][j] * y[j];
        y[i] = s / M[i][i];
    }
    return 0;
}

/* min z'Az - 2b'z over lo <= z <= hi with the variables in fixed[] held at z's values:
 * an active-set method on the normal equations (NP is tiny). */
static void bounded_solve(double A[NP][NP], const double b[NP], const double lo[NP],
                          const double hi[NP], const int fixed[NP], double z[NP]) {
    int bound[NP]; /* 0 free, -1 at lo, +1 at hi, 2 fixed */
    for (int k = 0; k < NP; k++) {
        bound[k] = fixed[k] ? 2 : 0;
        if (!fixed[k]) z[k] = z[k] < lo[k] ? lo[k] : z[k] > hi[k] ? hi[k] : z[k];
    }
    for (int iter = 0; iter < 200; iter++) {
        int idx[NP] = {0}, nf = 0;
        for (int k = 0; k < NP; k++)
            if (bound[k] == 0) idx[nf++] = k;
        double Af[NP][NP], bf[NP], yf[NP];
        for (int i = 0; i < nf; i++) {
            bf[i] = b[idx[i]];
            for (int k = 0; k < NP; k++)
                if (bound[k] != 0) bf[i] -= A[idx[i]][k] * z[k];
            for (int j = 0; j < nf; j++) Af[i][j] = A[idx[i]][idx[j]];
        }
        if (nf > 0 && solve(nf, Af, bf, yf) != 0) return;
        /* step toward the unconstrained solution, stopping at the first bound hit */
        double alpha = 1.0;
        int hit = -1, hit_side = 0;
        for (int i = 0; i < nf; i++) {
            int k = idx[i];
            if (yf[i] < lo[k]) {
                double a = (z[k] - lo[k]) / (z[k] - yf[i]);
                if (a < alpha) {
                    alpha = a;
                    hit = k;
                    hit_side = -1;
                }
            } else if (yf[i] > hi[k]) {
                double a = (hi[k] - z[k]) / (yf[i] - z[k]);
                if (a < alpha) {
                    alpha = a;
                    hit = k;
                    hit_side = 1;
                }
            }
        }
        if (alpha < 0) alpha = 0;
        for (int i = 0; i < nf; i++) z[idx[i]] += alpha * (yf[i] - z[idx[i]]);
        if (hit >= 0) {
            z[hit] = hit_side < 0 ? lo[hit] : hi[hit];
            bound[hit] = hit_side;
            continue;
        }
        /* optimal on the free set: release a bound variable whose gradient points inside */
        int rel = -1;
        double best = 0.0;
        for (int k = 0; k < NP; k++) {
            if (bound[k] != -1 && bound[k] != 1) continue;
            double g = -b[k];
            for (int j = 0; j < NP; j++) g += A[k][j] * z[j];
            double inward = bound[k] == -1 ? -g : g;
            if (inward > best * (1 + 1e-12) && inward > 1e-14 * (fabs(b[k]) + 1)) {
                best = inward;
                rel = k;
            }
        }
        if (rel < 0) return;
        bound[rel] = 0;
    }
}

typedef struct {
    FitRow *rows;
    int n;
    double x0[NP];       /* prior in x space */
    double lo[NP], hi[NP];
    double lambda;       /* ridge toward the prior */
} FitProblem;

/* Weighted sum of squared relative residuals at x. */
static double fit_objective(const FitProblem *P, const double x[NP]) {
    double s = 0.0;
    for (int i = 0; i < P->n; i++) {
        const FitRow *r = &P->rows[i];
        double e = r->w * (row_eval(r, x, NULL, NULL) - r->meas) / r->meas;
        s += e * e;
    }
    return s;
}

/* Normal equations in z space for the regimes at x (ridge lambda). */
static void normal_eq(const FitProblem *P, const double x[NP], double lambda, double A[NP][NP],
                      double b[NP]) {
    memset(A, 0, sizeof(double) * NP * NP);
    memset(b, 0, sizeof(double) * NP);
    for (int i = 0; i < P->n; i++) {
        const FitRow *r = &P->rows[i];
        double J[NP];
        row_eval(r, x, J, NULL);
        double s = r->w / r->meas;
        for (int k = 0; k < NP; k++) J[k] *= s * P->x0[k];
        /* every part of the prediction is linear in x: the target is the measurement */
        for (int k = 0; k < NP; k++) {
            b[k] += J[k] * r->w;
            for (int j = 0; j < NP; j++) A[k][j] += J[k] * J[j];
        }
    }
    for (int k = 0; k < NP; k++) {
        A[k][k] += lambda;
        b[k] += lambda;
    }
}

/* Alternates regimes and bounded solves from x; returns iterations. fixed: held at x. */
static int fit_iterate(const FitProblem *P, const int fixed[NP], double x[NP]) {
    double best = fit_objective(P, x), bestx[NP];
    memcpy(bestx, x, sizeof bestx);
    int it;
    for (it = 1; it <= 60; it++) {
        double A[NP][NP], b[NP], z[NP];
        normal_eq(P, x, P->lambda, A, b);
        for (int k = 0; k < NP; k++) z[k] = x[k] / P->x0[k];
        bounded_solve(A, b, P->lo, P->hi, fixed, z);
        double xn[NP];
        for (int k = 0; k < NP; k++) xn[k] = fixed[k] ? x[k] : z[k] * P->x0[k];
        double obj = fit_objective(P, xn);
        double change = 0.0;
        for (int k = 0; k < NP; k++) change = fmax(change, fabs(xn[k] - x[k]) / (fabs(x[k]) + 1e-30));
        memcpy(x, xn, sizeof xn);
        if (obj < best) {
            best = obj;
            memcpy(bestx, x, sizeof bestx);
        }
        if (change < 1e-10) break;
    }
    memcpy(x, bestx, sizeof bestx);
    return it;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* |relative residual| of every row at x into e (P->n), row order. */
static void abs_residuals(const FitProblem *P, const double x[NP], double *e) {
    for (int i = 0; i < P->n; i++) {
        const FitRow *r = &P->rows[i];
        e[i] = fabs(row_eval(r, x, NULL, NULL) - r->meas) / r->meas;
    }
}

/* RMS relative error over the 90 % of the rows with the smallest errors (unweighted). */
static double trimmed_rms(const FitProblem *P, const double x[NP]) {
    double *e = malloc((size_t)P->n * sizeof *e);
    if (e == NULL) return NAN;
    abs_residuals(P, x, e);
    qsort(e, (size_t)P->n, sizeof *e, cmp_double);
    int m = (int)ceil(0.9 * P->n);
    double s = 0.0;
    for (int i = 0; i < m; i++) s += e[i] * e[i];
    free(e);
    return m > 0 ? sqrt(s / m) : 0.0;
}

/* Robust refit (iteratively reweighted least squares with Huber weights): a row whose
 * relative residual e exceeds c = 1.345 * sigma (sigma = 1.4826 * the median |e|, the
 * residuals' robust scale, at least 1 %) counts with weight c / |e|, so that a few samples
 * the model cannot explain (a step at the LLC's edge on a cache shared with other tenants)
 * do not pull every parameter. Starts from x; returns iterations. */
static int robust_iterate(FitProblem *P, const int fixed[NP], double x[NP]) {
    double *a = malloc(2 * (size_t)P->n * sizeof *a);
    if (a == NULL) return 0;
    double *e = a + P->n; /* a sorted copy of a, for the median */
    int its = 0;
    for (int pass = 0; pass < 4; pass++) {
        abs_residuals(P, x, a);
        memcpy(e, a, (size_t)P->n * sizeof *e);
        qsort(e, (size_t)P->n, sizeof *e, cmp_double);
        double med = P->n % 2 ? e[P->n / 2] : 0.5 * (e[P->n / 2 - 1] + e[P->n / 2]);
        double c = 1.345 * fmax(1.4826 * med, 0.01);
        for (int i = 0; i < P->n; i++)
            P->rows[i].w = P->rows[i].w0 * (a[i] > c ? sqrt(c / a[i]) : 1.0);
        its += fit_iterate(P, fixed, x);
    }
    free(a);
    return its;
}

/* Relative standard errors of the natural parameters at x (free ones; others inf). */
static void fit_stderr(const FitProblem *P, const double x[NP], const int fixed[NP],
                       double rel_se[NP]) {
    for (int k = 0; k < NP; k++) rel_se[k] = INFINITY;
    double A[NP][NP], b[NP];
    normal_eq(P, x, 0.0, A, b);
    int idx[NP], nf = 0;
    for (int k = 0; k < NP; k++) {
        int at_bound = x[k] <= P->lo[k] * P->x0[k] * (1 + 1e-9) ||
                       x[k] >= P->hi[k] * P->x0[k] * (1 - 1e-9);
        if (!fixed[k] && !at_bound && A[k][k] > 0) idx[nf++] = k;
    }
    int dof = P->n - nf;
    if (nf == 0 || dof < 1) return;
    double rss = 0.0, wsum = 0.0;
    for (int i = 0; i < P->n; i++) {
        const FitRow *r = &P->rows[i];
        double e = r->w * (row_eval(r, x, NULL, NULL) - r->meas) / r->meas;
        rss += e * e;
        wsum += r->w * r->w;
    }
    double sigma2 = rss / dof;
    /* a floor: a perfect fit still has float rounding */
    if (sigma2 < 1e-12 * wsum / P->n) sigma2 = 1e-12 * wsum / P->n;
    /* covariance of z over the free set: sigma2 * inv(A_ff) (a tiny ridge if singular) */
    double Af[NP][NP], cov[NP][NP];
    double tr = 0.0;
    for (int i = 0; i < nf; i++) tr += A[idx[i]][idx[i]];
    for (int i = 0; i < nf; i++)
        for (int j = 0; j < nf; j++) Af[i][j] = A[idx[i]][idx[j]] + (i == j ? 1e-13 * tr : 0.0);
    for (int c = 0; c < nf; c++) {
        double e[NP] = {0}, y[NP];
        e[c] = 1.0;
        double Ac[NP][NP];
        memcpy(Ac, Af, sizeof Ac);
        if (solve(nf, Ac, e, y) != 0) return;
        for (int r = 0; r < nf; r++) cov[r][c] = sigma2 * y[r];
    }
    double z[NP], var[NP];
    int pos[NP];
    for (int k = 0; k < NP; k++) {
        z[k] = x[k] / P->x0[k];
        var[k] = INFINITY;
        pos[k] = -1;
    }
    for (int i = 0; i < nf; i++) {
        pos[idx[i]] = i;
        var[idx[i]] = cov[i][i];
    }
    for (int k = 0; k < NP; k++)
        if (pos[k] >= 0 && var[k] >= 0) rel_se[k] = sqrt(var[k]) / z[k];
    /* the half-lengths are x_k / x0 (gemm_m_half, gemm_k_half, gemm_remainder_rows,
     * gemm_m_half_dram): the delta method */
    static const int ratio[] = {1, 7, 13, 17};
    for (size_t i = 0; i < sizeof ratio / sizeof ratio[0]; i++) {
        int k = ratio[i];
        if (pos[0] < 0 || pos[k] < 0) {
            rel_se[k] = INFINITY;
            continue;
        }
        double v = var[k] / (z[k] * z[k]) + var[0] / (z[0] * z[0]) -
                   2.0 * cov[pos[0]][pos[k]] / (z[0] * z[k]);
        rel_se[k] = v > 0 ? sqrt(v) : 0.0;
    }
}

double hw_sample_predict_ms(const HwProfile *p, const HwSample *s, int warm) {
    FitRow r;
    memset(&r, 0, sizeof r);
    SimError err;
    sim_error_init(&err);
    if (fit_row(p, s, warm, 0, &r, &err) != SIM_OK) return NAN;
    double x[NP];
    params_to_x(&p->model, x);
    double ms = row_eval(&r, x, NULL, NULL);
    free(r.ops);
    return ms;
}

SimStatus hw_fit(HwProfile *p, const HwSample *s, int n, const HwFitOptions *o, HwFitReport *rep,
                 SimError *err) {
    memset(rep, 0, sizeof *rep);
    if (n < 1 || s == NULL) return sim_errorf(err, SIM_EINVAL, "calibration: no measurements");
    SimStatus rc = hw_profile_check(p, err);
    if (rc != SIM_OK) return rc;
    for (int i = 0; i < n; i++) {
        if (!(s[i].measured_ms > 0) || !isfinite(s[i].measured_ms))
            return sim_errorf(err, SIM_EINVAL, "calibration: measurement %d is not positive (%g ms)",
                              i + 1, s[i].measured_ms);
        if (s[i].nledgers < 1 || s[i].ledgers == NULL)
            return sim_errorf(err, SIM_EINVAL, "calibration: measurement %d has no ledger", i + 1);
    }
    int warm = o ? o->warm : 0, rescale = o ? o->rescale_peak : 0;
    double thr = o && o->identify_se > 0 ? o->identify_se : 0.02;
    FitProblem P;
    memset(&P, 0, sizeof P);
    P.rows = calloc((size_t)n, sizeof *P.rows);
    if (P.rows == NULL) return sim_errorf(err, SIM_ENOMEM, "out of memory fitting");
    P.n = n;
    for (int i = 0; i < n; i++) {
        rc = fit_row(p, &s[i], warm, !(o && o->fit_all), &P.rows[i], err);
        if (rc != SIM_OK) goto out;
    }
    rep->before = p->model;
    rep->peak_before = rep->peak_after = p->peak_gflops_fp32;
    rep->n = n;
    params_to_x(&p->model, P.x0);
    /* bounds in z = x / x0: efficiencies in [1e-4, 1] (up to 1.25 when the peak may be raised),
     * m_half in [1e-3, 1e5] rows, overhead in [1e-4, 1e5] us */
    for (int k = 0; k < NP; k++) {
        double lo_x, hi_x;
        switch (k) {
        case 1:
        case 7:
        case 13:
        case 17: lo_x = 1e-3 * P.x0[0]; hi_x = 1e5 * 1e4; break;
        case 6:
        case 9:
        case 10:
        case 11:
        case 14:
        case 16:
        case 19: lo_x = 1e-4; hi_x = 1e5; break;
        case 8:
        case 15:
        case 20:
        case 21: lo_x = 1e-6; hi_x = 1e3; break; /* 1 PB/s .. 1 MB/s */
        case 22: lo_x = HW_STREAM_SCALE_MIN; hi_x = HW_STREAM_SCALE_MAX; break;
        default: lo_x = rescale ? 0.8 : 1.0; hi_x = 1e4; break; /* 1/efficiencies */
        }
        P.lo[k] = lo_x / P.x0[k];
        P.hi[k] = hi_x / P.x0[k];
    }
    P.lambda = 1e-8;
    {
        double x[NP];
        memcpy(x, P.x0, sizeof x);
        int fixed[NP] = {0};
        if (!(o && o->fit_all))
            for (int k = HW_P_GEMM_K_HALF; k < NP; k++) fixed[k] = 1;
        for (int k = 0; o && k < NP; k++)
            if (o->hold[k]) fixed[k] = 1;
        if (p->nstream == 0) fixed[HW_P_STREAM_SCALE] = 1; /* no curve to scale */
        rep->rms_rel_err_before = fit_objective(&P, x);
        /* everything free; parameters the data barely touch stay near the prior (the
         * ridge), and only those pinned down to thr count as identified. An operator's
         * regime (compute- or memory-bound) is fixed within a solve, so a parameter whose
         * operators all sit in the other regime gets no gradient: besides the prior, the
         * fit starts from a point where the memory terms are 10x slower (every memory column
         * active) and one where the compute terms are, and keeps the best end point. */
        static const int mem_cols[] = {5, 8, 14, 15, 18, 19, 20, 21, 22};
        static const int comp_cols[] = {0, 1, 2, 3, 4, 7, 12, 13, 17};
        double best_obj = INFINITY, bestx[NP];
        for (int start = 0; start < 3; start++) {
            double xs[NP];
            memcpy(xs, x, sizeof xs);
            if (start == 1)
                for (size_t c = 0; c < sizeof mem_cols / sizeof mem_cols[0]; c++)
                    if (!fixed[mem_cols[c]]) xs[mem_cols[c]] *= 10.0;
            if (start == 2)
                for (size_t c = 0; c < sizeof comp_cols / sizeof comp_cols[0]; c++)
                    if (!fixed[comp_cols[c]]) xs[comp_cols[c]] *= 10.0;
            for (int k = 0; k < NP; k++) { /* within the bounds */
                if (xs[k] < P.lo[k] * P.x0[k]) xs[k] = P.lo[k] * P.x0[k];
                if (xs[k] > P.hi[k] * P.x0[k]) xs[k] = P.hi[k] * P.x0[k];
            }
            rep->iterations += fit_iterate(&P, fixed, xs);
            double obj = fit_objective(&P, xs);
            if (obj < best_obj) {
                best_obj = obj;
                memcpy(bestx, xs, sizeof bestx);
            }
        }
        memcpy(x, bestx, sizeof bestx);
        if (o && o->robust) rep->iterations += robust_iterate(&P, fixed, x);
        fit_stderr(&P, x, fixed, rep->rel_se);
        for (int i = 0; i < n; i++) P.rows[i].w = P.rows[i].w0;
        for (int k = 0; k < NP; k++) rep->identified[k] = rep->rel_se[k] < thr;
        x_to_params(x, &p->model);
        if (!(o && o->fit_all)) {
            p->model.gemm_k_half = rep->before.gemm_k_half;
            p->model.gemm_remainder_rows = rep->before.gemm_remainder_rows;
            p->model.gemm_m_half_dram = p->model.gemm_m_half * rep->before.gemm_m_half_dram /
                                        rep->before.gemm_m_half;
            p->model.dram_short_efficiency = p->model.dram_efficiency *
                                             rep->before.dram_short_efficiency /
                                             rep->before.dram_efficiency;
            /* transcendental_efficiency moves with elementwise_efficiency (their ratio kept) */
            p->model.transcendental_efficiency = p->model.elementwise_efficiency *
                                                 rep->before.transcendental_efficiency /
                                                 rep->before.elementwise_efficiency;
        }
        double wsum = 0.0;
        for (int i = 0; i < n; i++) wsum += P.rows[i].w * P.rows[i].w;
        rep->rms_rel_err_before = sqrt(rep->rms_rel_err_before / wsum);
        rep->rms_rel_err_after = sqrt(fit_objective(&P, x) / wsum);
        rep->trimmed_rms_rel_err = trimmed_rms(&P, x);
    }
    if (rescale) {
        double f = 1.0;
        f = fmax(f, p->model.gemm_efficiency);
        f = fmax(f, p->model.attention_efficiency);
        f = fmax(f, p->model.conv_efficiency);
        /* the elementwise rates do not raise the peak: when their operators are memory-bound
         * the data leave them undetermined, up to the bound */
        if (f > 1.0) {
            p->peak_gflops_fp32 *= f;
            p->model.gemm_efficiency /= f;
            p->model.attention_efficiency /= f;
            p->model.conv_efficiency /= f;
            p->model.elementwise_efficiency /= f;
            p->model.transcendental_efficiency /= f;
        }
        if (p->model.elementwise_efficiency > 1.0) p->model.elementwise_efficiency = 1.0;
        /* a matrix-vector product may stream faster than the read sweep's single stream */
        double d = fmax(p->model.dram_efficiency, p->model.dram_short_efficiency);
        if (d > 1.0) {
            p->dram_gbs *= d;
            p->model.dram_efficiency /= d;
            p->model.dram_short_efficiency /= d;
        }
        if (p->model.transcendental_efficiency > 1.0) p->model.transcendental_efficiency = 1.0;
        rep->peak_after = p->peak_gflops_fp32;
    }
    if (p->model.gemm_m_half < 1e-3) p->model.gemm_m_half = 1e-3;
    if (p->model.overhead_us < 1e-4) p->model.overhead_us = 1e-4;
    if (p->model.gemm_k_half < 1e-3) p->model.gemm_k_half = 1e-3;
    if (p->model.gemm_remainder_rows < 1e-3) p->model.gemm_remainder_rows = 1e-3;
    if (p->model.gemm_m_half_dram < 1e-3) p->model.gemm_m_half_dram = 1e-3;
    if (p->model.loop_overhead_us < 1e-4) p->model.loop_overhead_us = 1e-4;
    if (p->model.head_overhead_us < 1e-4) p->model.head_overhead_us = 1e-4;
    if (p->model.search_ns < 1e-4) p->model.search_ns = 1e-4;
    if (p->model.dram_row_ns < 1e-4) p->model.dram_row_ns = 1e-4;
    if (p->model.dram_short_row_ns < 1e-4) p->model.dram_short_row_ns = 1e-4;
    if (p->model.dispatch_us < 1e-4) p->model.dispatch_us = 1e-4;
    rep->after = p->model;
out:
    for (int i = 0; i < n; i++) free(P.rows[i].ops);
    free(P.rows);
    return err->code;
}
