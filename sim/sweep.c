/*
 * sweep.c - family templates, the width grid and budget solving (see sweep.h).
 */
#include "sweep.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const family_names[SWEEP_FAMILY_COUNT] = {
    [SWEEP_LITE] = "lite",
    [SWEEP_LITE_LIGHT] = "lite-light",
    [SWEEP_TRANSFORMER] = "transformer",
    [SWEEP_EVOLVED] = "evolved",
    [SWEEP_LITE_LM] = "lite-lm",
    [SWEEP_TRANSFORMER_LM] = "transformer-lm",
};
_Static_assert(sizeof family_names / sizeof family_names[0] == SWEEP_FAMILY_COUNT,
               "family_names out of sync with SweepFamily");

const char *sweep_family_name(SweepFamily f) {
    return (unsigned)f < SWEEP_FAMILY_COUNT ? family_names[f] : "?";
}

int sweep_family_parse(const char *s, SweepFamily *f) {
    for (int i = 0; i < SWEEP_FAMILY_COUNT; i++)
        if (strcmp(s, family_names[i]) == 0) {
            *f = (SweepFamily)i;
            return 0;
        }
    return -1;
}

/* Appends "key: value\n" unless an override replaces the key (then the override's value). */
static int put(char *buf, size_t n, size_t *k, const SweepOverride *ov, int nov, const char *key,
               const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static int put(char *buf, size_t n, size_t *k, const SweepOverride *ov, int nov, const char *key,
               const char *fmt, ...) {
    for (int i = 0; i < nov; i++)
        if (strcmp(ov[i].key, key) == 0) return 0; /* written with the overrides */
    if (*k >= n) return -1;
    int m = snprintf(buf + *k, n - *k, "%s: ", key);
    if (m < 0 || (size_t)m >= n - *k) return -1;
    *k += (size_t)m;
    va_list ap;
    va_start(ap, fmt);
    m = vsnprintf(buf + *k, n - *k, fmt, ap);
    va_end(ap);
    if (m < 0 || (size_t)m + 1 >= n - *k) return -1;
    *k += (size_t)m;
    buf[(*k)++] = '\n';
    buf[*k] = '\0';
    return 0;
}

int sweep_template_yaml(SweepFamily f, int64_t d, const SweepOverride *ov, int nov, char *buf,
                        size_t n) {
    size_t k = 0;
    long long w = (long long)d, c = (long long)(d / 2);
    int heads = d < 256 ? 4 : 8;
    int rc = 0;
    if (n == 0) return -1;
    buf[0] = '\0';
    rc |= put(buf, n, &k, ov, nov, "description", "%s template at d=%lld", sweep_family_name(f), w);
    switch (f) {
    case SWEEP_LITE:
        rc |= put(buf, n, &k, ov, nov, "arch", "transformer_multibranch_v2_wmt_en_de");
        rc |= put(buf, n, &k, ov, nov, "share-all-embeddings", "true");
        rc |= put(buf, n, &k, ov, nov, "vocab-size", "32768");
        rc |= put(buf, n, &k, ov, nov, "encoder-glu", "1");
        rc |= put(buf, n, &k, ov, nov, "decoder-glu", "1");
        rc |= put(buf, n, &k, ov, nov, "encoder-branch-type", "[attn:1:%lld:4, dynamic:default:%lld:4]", c, c);
        rc |= put(buf, n, &k, ov, nov, "decoder-branch-type", "[attn:1:%lld:4, dynamic:default:%lld:4]", c, c);
        rc |= put(buf, n, &k, ov, nov, "conv-linear", "true");
        rc |= put(buf, n, &k, ov, nov, "decoder-attention-heads", "8");
        rc |= put(buf, n, &k, ov, nov, "encoder-ffn-embed-dim", "%lld", w);
        rc |= put(buf, n, &k, ov, nov, "decoder-ffn-embed-dim", "%lld", w);
        break;
    case SWEEP_LITE_LIGHT:
        rc |= put(buf, n, &k, ov, nov, "arch", "transformer_multibranch_v2_iwslt_de_en");
        rc |= put(buf, n, &k, ov, nov, "src-vocab-size", "8848");
        rc |= put(buf, n, &k, ov, nov, "tgt-vocab-size", "6632");
        rc |= put(buf, n, &k, ov, nov, "encoder-glu", "0");
        rc |= put(buf, n, &k, ov, nov, "decoder-glu", "0");
        rc |= put(buf, n, &k, ov, nov, "encoder-branch-type", "[attn:1:%lld:4, lightweight:default:%lld:4]", c, c);
        rc |= put(buf, n, &k, ov, nov, "decoder-branch-type", "[attn:1:%lld:4, lightweight:default:%lld:4]", c, c);
        rc |= put(buf, n, &k, ov, nov, "conv-linear", "true");
        rc |= put(buf, n, &k, ov, nov, "decoder-attention-heads", "4");
        rc |= put(buf, n, &k, ov, nov, "encoder-ffn-embed-dim", "%lld", w);
        rc |= put(buf, n, &k, ov, nov, "decoder-ffn-embed-dim", "%lld", w);
        break;
    case SWEEP_TRANSFORMER:
        rc |= put(buf, n, &k, ov, nov, "arch", "transformer_wmt_en_de");
        rc |= put(buf, n, &k, ov, nov, "share-all-embeddings", "true");
        rc |= put(buf, n, &k, ov, nov, "vocab-size", "32768");
        rc |= put(buf, n, &k, ov, nov, "encoder-attention-heads", "%d", heads);
        rc |= put(buf, n, &k, ov, nov, "decoder-attention-heads", "%d", heads);
        rc |= put(buf, n, &k, ov, nov, "encoder-ffn-embed-dim", "%lld", 4 * w);
        rc |= put(buf, n, &k, ov, nov, "decoder-ffn-embed-dim", "%lld", 4 * w);
        break;
    case SWEEP_EVOLVED:
        rc |= put(buf, n, &k, ov, nov, "arch", "evolved_transformer");
        rc |= put(buf, n, &k, ov, nov, "vocab-size", "32768");
        rc |= put(buf, n, &k, ov, nov, "encoder-attention-heads", "%d", heads);
        rc |= put(buf, n, &k, ov, nov, "decoder-attention-heads", "%d", heads);
        break;
    case SWEEP_LITE_LM:
        rc |= put(buf, n, &k, ov, nov, "arch", "transformer_lm_multibranch_v2_wiki103_small");
        rc |= put(buf, n, &k, ov, nov, "vocab-size", "267744");
        rc |= put(buf, n, &k, ov, nov, "decoder-glu", "1");
        rc |= put(buf, n, &k, ov, nov, "decoder-branch-type", "[attn:1:%lld:4, dynamic:default:%lld:4]", c, c);
        rc |= put(buf, n, &k, ov, nov, "conv-linear", "true");
        rc |= put(buf, n, &k, ov, nov, "decoder-ffn-embed-dim", "%lld", w);
        break;
    case SWEEP_TRANSFORMER_LM:
        rc |= put(buf, n, &k, ov, nov, "arch", "transformer_lm_wiki103");
        rc |= put(buf, n, &k, ov, nov, "vocab-size", "267744");
        rc |= put(buf, n, &k, ov, nov, "decoder-layers", "12");
        rc |= put(buf, n, &k, ov, nov, "decoder-attention-heads", "8");
        rc |= put(buf, n, &k, ov, nov, "decoder-ffn-embed-dim", "%lld", 4 * w);
        break;
    default: return -1;
    }
    if (f != SWEEP_LITE_LM && f != SWEEP_TRANSFORMER_LM)
        rc |= put(buf, n, &k, ov, nov, "encoder-embed-dim", "%lld", w);
    rc |= put(buf, n, &k, ov, nov, "decoder-embed-dim", "%lld", w);
    for (int i = 0; i < nov && rc == 0; i++) {
        int m = snprintf(buf + k, n - k, "%s: %s\n", ov[i].key, ov[i].value);
        if (m < 0 || (size_t)m >= n - k) return -1;
        k += (size_t)m;
    }
    return rc ? -1 : (int)k;
}

SimStatus sweep_config(SweepFamily f, int64_t d, const SweepOverride *ov, int nov,
                       ModelConfig *cfg, SimError *err) {
    char buf[2048], name[96];
    int len = sweep_template_yaml(f, d, ov, nov, buf, sizeof buf);
    if (len < 0)
        return sim_errorf(err, SIM_EINVAL, "sweep: template of %s at d=%lld does not fit",
                          sweep_family_name(f), (long long)d);
    snprintf(name, sizeof name, "sweep:%s:d=%lld", sweep_family_name(f), (long long)d);
    return config_load_buffer(buf, (size_t)len, name, NULL, cfg, err);
}

SimStatus sweep_count(const ModelConfig *cfg, const RunSpec *spec, uint64_t *macs, SimError *err) {
    RunSpec s = *spec;
    s.count_only = 1;
    s.src = s.tgt = NULL;
    s.weights = NULL;
    s.save_weights = NULL;
    s.keep_logits = 0;
    RunResult res;
    SimStatus rc = runner_execute(cfg, &s, &res, err);
    if (rc != SIM_OK) return rc;
    OpCost by[CLASS_COUNT];
    OpCost all = cost_ledger_total(res.ledger, by);
    *macs = all.macs - by[CLASS_EMBED_OUTPUT].macs;
    runner_result_free(&res);
    return SIM_OK;
}

static int valid_width(SweepFamily f, int64_t d, const SweepOverride *ov, int nov) {
    ModelConfig cfg;
    SimError e;
    sim_error_init(&e);
    return sweep_config(f, d, ov, nov, &cfg, &e) == SIM_OK;
}

int64_t sweep_grid_step(SweepFamily f, int64_t d, int dir, const SweepOverride *ov, int nov) {
    int64_t s = dir > 0 ? SWEEP_GRID_STEP : -SWEEP_GRID_STEP;
    int64_t w = (d / SWEEP_GRID_STEP) * SWEEP_GRID_STEP;
    if (dir > 0 || w == d) w += s;
    for (; w >= SWEEP_GRID_MIN && w <= SWEEP_GRID_MAX; w += s)
        if (valid_width(f, w, ov, nov)) return w;
    return 0;
}

SimStatus sweep_solve(SweepFamily f, uint64_t budget, const RunSpec *spec,
                      const SweepOverride *ov, int nov, int64_t *width, uint64_t *macs,
                      SimError *err) {
    *width = 0;
    *macs = 0;
    /* bisection over grid indices: MACs grow with d; invalid widths step to a valid one */
    int64_t lo = SWEEP_GRID_MIN / SWEEP_GRID_STEP, hi = SWEEP_GRID_MAX / SWEEP_GRID_STEP;
    int64_t best = 0;
    uint64_t best_macs = 0;
    while (lo <= hi) {
        int64_t mid = (lo + hi) / 2, d = mid * SWEEP_GRID_STEP;
        if (!valid_width(f, d, ov, nov)) {
            int64_t v = sweep_grid_step(f, d, -1, ov, nov);
            if (v == 0 || v / SWEEP_GRID_STEP < lo) { /* nothing valid below in range */
                lo = mid + 1;
                continue;
            }
            d = v;
            mid = v / SWEEP_GRID_STEP;
        }
        ModelConfig cfg;
        SimStatus rc = sweep_config(f, d, ov, nov, &cfg, err);
        uint64_t m = 0;
        if (rc == SIM_OK) rc = sweep_count(&cfg, spec, &m, err);
        if (rc != SIM_OK) return rc;
        if (m <= budget) {
            if (d > best) {
                best = d;
                best_macs = m;
            }
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    *width = best;
    *macs = best_macs;
    return SIM_OK;
}

const char *const *sweep_references(SweepFamily f) {
    static const char *const lite[] = {"lite-wmt-200", "lite-wmt-408", "lite-wmt-496", NULL};
    static const char *const light[] = {"lite-iwslt-160", "lite-iwslt-240", "lite-iwslt-320", NULL};
    static const char *const tr[] = {"transformer-wmt-128", "transformer-wmt-256",
                                     "transformer-wmt-320", "transformer-base", NULL};
    static const char *const et[] = {"evolved-wmt-128", "evolved-wmt-256", "evolved-base", NULL};
    static const char *const llm[] = {"lite-lm-wiki103-896", NULL};
    static const char *const tlm[] = {"transformer-lm-wiki103-256", "transformer-lm-wiki103-320",
                                      "transformer-lm-wiki103-512", "transformer-lm-wiki103-768",
                                      NULL};
    static const char *const none[] = {NULL};
    switch (f) {
    case SWEEP_LITE: return lite;
    case SWEEP_LITE_LIGHT: return light;
    case SWEEP_TRANSFORMER: return tr;
    case SWEEP_EVOLVED: return et;
    case SWEEP_LITE_LM: return llm;
    case SWEEP_TRANSFORMER_LM: return tlm;
    default: return none;
    }
}

int sweep_parse_macs(const char *s, uint64_t *out) {
    if (s == NULL || *s == '\0') return -1;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || v <= 0) return -1;
    double mul = 1;
    if (*end == 'k' || *end == 'K') mul = 1e3, end++;
    else if (*end == 'M' || *end == 'm') mul = 1e6, end++;
    else if (*end == 'G' || *end == 'g') mul = 1e9, end++;
    if (*end != '\0') return -1;
    double r = v * mul;
    if (r < 1 || r > 1e15) return -1;
    *out = (uint64_t)(r + 0.5);
    return 0;
}
