/*
 * test_cli.c - ltsim as a program: exit codes, one-line errors naming file/key/value for
 * every kind of bad input, the golden cases through `run --weights --save-outputs`, and the
 * JSON document of `count`. The binary is $LTSIM_BIN (default ./ltsim).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <cJSON.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fmt.h"
#include "safetensors.h"
#include "testutil.h"

/* the argument list terminator of ltsim() (a typed null pointer, as variadics need) */
#define END ((const char *)NULL)

static char out_buf[1 << 20], err_buf[1 << 16];
static const char *stdout_to; /* when set, ltsim()'s standard output goes there instead */

static void slurp(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = '\0';
    if (f) fclose(f);
}

/* Runs ltsim with the given arguments (NULL-terminated); stdout/stderr into out_buf/err_buf. */
static int ltsim(const char *first, ...) {
    const char *bin = getenv("LTSIM_BIN");
    if (bin == NULL) bin = "./ltsim";
    const char *argv[64];
    int n = 0;
    argv[n++] = bin;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a != NULL && n < 63; a = va_arg(ap, const char *)) argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    char op[256], ep[256];
    snprintf(op, sizeof op, "%s/stdout", tu_tmpdir());
    snprintf(ep, sizeof ep, "%s/stderr", tu_tmpdir());
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int o = stdout_to ? open(stdout_to, O_WRONLY) : open(op, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(ep, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o < 0 || e < 0) _exit(127);
        dup2(o, 1);
        dup2(e, 2);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    slurp(op, out_buf, sizeof out_buf);
    slurp(ep, err_buf, sizeof err_buf);
    if (WIFSIGNALED(st)) fail_msg("ltsim killed by signal %d: %s", WTERMSIG(st), err_buf);
    return WEXITSTATUS(st);
}

/* exit code 2 and exactly one stderr line containing every needle */
static void expect_bad(int rc, const char *n1, const char *n2) {
    if (rc != 2) fail_msg("exit code %d, expected 2; stderr: %s", rc, err_buf);
    if (tu_count_lines(err_buf) != 1) fail_msg("expected one stderr line, got: %s", err_buf);
    if (n1 && strstr(err_buf, n1) == NULL) fail_msg("'%s' not in: %s", n1, err_buf);
    if (n2 && strstr(err_buf, n2) == NULL) fail_msg("'%s' not in: %s", n2, err_buf);
    assert_int_equal(out_buf[0], '\0');
}

static const char *tmpfile_with(const char *name, const char *text) {
    static char path[8][256];
    static int k;
    char *p = path[k++ % 8];
    snprintf(p, 256, "%s/%s", tu_tmpdir(), name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static const char *base_cfg =
    "arch: transformer_multibranch_v2_wmt_en_de\n"
    "vocab-size: 97\n"
    "share-all-embeddings: true\n"
    "encoder-layers: 2\n"
    "decoder-layers: 2\n"
    "encoder-embed-dim: 64\n"
    "encoder-ffn-embed-dim: 64\n";

/* ---- configs and options ---- */

static void test_cli_missing_model(void **state) {
    (void)state;
    expect_bad(ltsim("count", "no-such-model", END), "no-such-model", NULL);
    expect_bad(ltsim("count", "/nonexistent/x.yml", END), "/nonexistent/x.yml", NULL);
}

static void test_cli_yaml_syntax_error(void **state) {
    (void)state;
    const char *p = tmpfile_with("syntax.yml", "arch: transformer\nencoder-embed-dim: [64\n");
    expect_bad(ltsim("count", p, "--vocab-size", "10", END), "syntax.yml", NULL);
}

static void test_cli_unknown_key(void **state) {
    (void)state;
    char text[1024];
    snprintf(text, sizeof text, "%sencoder-embed-dimm: 64\n", base_cfg);
    const char *p = tmpfile_with("unknown.yml", text);
    expect_bad(ltsim("count", p, END), "unknown.yml:8", "encoder-embed-dimm");
}

static void test_cli_heads_do_not_divide(void **state) {
    (void)state;
    const char *p = tmpfile_with("heads.yml", "arch: transformer\nvocab-size: 50\n"
                                              "encoder-embed-dim: 100\nencoder-attention-heads: 8\n");
    expect_bad(ltsim("count", p, END), "heads.yml", "encoder-attention-heads");
    expect_bad(ltsim("count", p, END), "100", NULL);
}

static void test_cli_branch_widths(void **state) {
    (void)state;
    char text[1024];
    snprintf(text, sizeof text, "%sencoder-branch-type: [attn:1:32:4, dynamic:default:28:4]\n",
             base_cfg);
    const char *p = tmpfile_with("branches.yml", text);
    expect_bad(ltsim("count", p, END), "branches.yml", "encoder-branch-type");
}

static void test_cli_kernel_list_short(void **state) {
    (void)state;
    char text[1024];
    snprintf(text, sizeof text,
             "%sencoder-branch-type: [attn:1:32:4, dynamic:default:32:4]\n"
             "encoder-layers: 3\nencoder-kernel-size-list: [3, 7]\n",
             "arch: transformer_multibranch_v2_wmt_en_de\nvocab-size: 97\n"
             "encoder-embed-dim: 64\n");
    const char *p = tmpfile_with("kernels.yml", text);
    expect_bad(ltsim("count", p, END), "kernels.yml", "encoder-kernel-size-list");
}

static void test_cli_bad_options(void **state) {
    (void)state;
    expect_bad(ltsim("count", "lite-wmt-200", "--src-len", "0", END), "--src-len", "'0'");
    expect_bad(ltsim("count", "lite-wmt-200", "--tgt-len", "-5", END), "--tgt-len", "-5");
    expect_bad(ltsim("count", "lite-wmt-200", "--src-len", "abc", END), "--src-len", "abc");
    expect_bad(ltsim("count", "lite-wmt-200", "--attn-macs", "half", END), "--attn-macs", "half");
    expect_bad(ltsim("count", "lite-wmt-200", "--conv-macs", "x", END), "--conv-macs", NULL);
    expect_bad(ltsim("count", "lite-wmt-200", "--batch", "2", END), "--batch", NULL);
    expect_bad(ltsim("count", "lite-wmt-200", "--mode", "sideways", END), "--mode", "sideways");
    expect_bad(ltsim("count", "lite-wmt-200", "--frobnicate", END), "--frobnicate", NULL);
    expect_bad(ltsim("count", END), "MODEL", NULL);
    expect_bad(ltsim("frob", END), "frob", NULL);
    expect_bad(ltsim("run", "lite-wmt-200", "--src", "5 x 7", END), "--src", "x");
    expect_bad(ltsim("run", "tests/fixtures/golden_transformer.yml", "--src", "5 97", "--repeats",
                     "1", END),
               "97", "vocabulary");
    assert_int_equal(ltsim("run", "--help", END), 0);
    assert_non_null(strstr(out_buf, "--conv-macs"));
    assert_int_equal(ltsim("--version", END), 0);
    assert_non_null(strstr(out_buf, "OpenBLAS"));
}

static void test_cli_reference_configs_need_vocab(void **state) {
    (void)state;
    const char *p = "tests/reference-configs/wmt14.en-fr_embed496.yml";
    expect_bad(ltsim("count", p, END), "embed496.yml", "vocab");
    assert_int_equal(ltsim("count", p, "--vocab-size", "32768", "--json", END), 0);
    cJSON *j = cJSON_Parse(out_buf);
    assert_non_null(j);
    assert_int_equal((uint64_t)cJSON_GetObjectItem(j, "macs")->valuedouble, 527451360);
    cJSON_Delete(j);
}

/* ---- JSON ---- */

/* --hw takes a comma-separated list, and may be repeated */
static void test_cli_hw_list(void **state) {
    (void)state;
    assert_int_equal(ltsim("count", "models/lite-wmt-200.yml", "--no-db", "--json", "--hw",
                           "raspberry-pi-4,cortex-a55", "--hw", "apple-a13", END),
                     0);
    cJSON *j = cJSON_Parse(out_buf);
    assert_non_null(j);
    cJSON *p = cJSON_GetObjectItem(j, "predictions");
    assert_int_equal(cJSON_GetArraySize(p), 3);
    const char *want[3] = {"raspberry-pi-4", "cortex-a55", "apple-a13"};
    for (int i = 0; i < 3; i++)
        assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(p, i), "hw")->valuestring,
                            want[i]);
    cJSON_Delete(j);
    expect_bad(ltsim("count", "models/lite-wmt-200.yml", "--no-db", "--hw", "raspberry-pi-4,", END),
               "--hw", "empty");
}

static void test_cli_count_json(void **state) {
    (void)state;
    assert_int_equal(ltsim("count", "models/lite-wmt-496.yml", "--json", END), 0);
    assert_int_equal(err_buf[0], '\0');
    cJSON *j = cJSON_Parse(out_buf);
    assert_non_null(j);
    assert_int_equal((uint64_t)cJSON_GetObjectItem(j, "macs")->valuedouble, 527451360);
    assert_int_equal((uint64_t)cJSON_GetObjectItem(j, "params")->valuedouble, 17283616);
    assert_string_equal(cJSON_GetObjectItem(j, "family")->valuestring, "lite");
    assert_string_equal(cJSON_GetObjectItem(j, "mode")->valuestring, "forward");
    cJSON *cv = cJSON_GetObjectItem(j, "conventions");
    assert_string_equal(cJSON_GetObjectItem(cv, "attn_macs")->valuestring, "causal");
    assert_string_equal(cJSON_GetObjectItem(cv, "conv_macs")->valuestring, "taps");
    assert_string_equal(cJSON_GetObjectItem(cv, "unit")->valuestring, "MAC");
    /* layers sum to the totals */
    cJSON *ly = cJSON_GetObjectItem(j, "layers");
    double sum = 0;
    cJSON *e;
    cJSON_ArrayForEach(e, ly) {
        if (strcmp(cJSON_GetObjectItem(e, "class")->valuestring, "embedding+output") != 0)
            sum += cJSON_GetObjectItem(e, "macs")->valuedouble;
    }
    assert_int_equal((uint64_t)sum, 527451360);
    uint64_t out = (uint64_t)cJSON_GetObjectItem(j, "macs_output_projection")->valuedouble;
    assert_int_equal(out, 30ull * 496 * 32768);
    uint64_t other = (uint64_t)cJSON_GetObjectItem(j, "other_flops")->valuedouble;
    assert_int_equal((uint64_t)cJSON_GetObjectItem(j, "flops")->valuedouble,
                     2 * (527451360ull + out) + other);
    cJSON_Delete(j);
    assert_int_equal(ltsim("count", "models/lite-wmt-496.yml", "--json", "--attn-macs", "full",
                           END),
                     0);
    j = cJSON_Parse(out_buf);
    assert_int_equal((uint64_t)cJSON_GetObjectItem(j, "macs")->valuedouble, 528745920);
    cJSON_Delete(j);
    assert_int_equal(ltsim("count", "lite-iwslt-160", "--json", END), 0);
    j = cJSON_Parse(out_buf);
    assert_int_equal((uint64_t)cJSON_GetObjectItem(j, "params_output_projection")->valuedouble,
                     160 * 6632);
    cJSON_Delete(j);
}

static void test_cli_generate_json(void **state) {
    (void)state;
    assert_int_equal(ltsim("count", "lite-wmt-496", "--mode", "generate", "--json", END), 0);
    cJSON *j = cJSON_Parse(out_buf);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "mode")->valuestring, "generate");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "conventions"), "conv_macs")->valuestring,
        "valid");
    cJSON *steps = cJSON_GetObjectItem(j, "steps");
    assert_int_equal(cJSON_GetArraySize(steps), 30);
    cJSON *s1 = cJSON_GetArrayItem(steps, 0), *s30 = cJSON_GetArrayItem(steps, 29);
    assert_int_equal((uint64_t)cJSON_GetObjectItem(s1, "macs")->valuedouble, 8787632);
    assert_int_equal((uint64_t)cJSON_GetObjectItem(s30, "macs")->valuedouble, 8900968);
    assert_int_equal((uint64_t)cJSON_GetObjectItem(s30, "t")->valuedouble, 30);
    assert_true(cJSON_GetObjectItem(s30, "bytes_cache")->valuedouble >
                cJSON_GetObjectItem(s1, "bytes_cache")->valuedouble);
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "once"), "macs"));
    cJSON_Delete(j);
    expect_bad(ltsim("count", "lite-wmt-200", "--beam", "2", END), "--mode generate", NULL);
    expect_bad(ltsim("count", "lite-wmt-200", "--mode", "generate", "--beam", "0", END), "--beam",
               "'0'");
    /* generate through the CLI with the golden weights: tokens and step logits saved */
    char outp[256];
    snprintf(outp, sizeof outp, "%s/gen.safetensors", tu_tmpdir());
    int rc = ltsim("run", "tests/fixtures/golden_lite_light.yml", "--weights",
                   "tests/golden/lite_light/model.safetensors", "--src",
                   "11 7 23 16 49 33 73 96 15 57", "--mode", "generate", "--max-steps", "8",
                   "--no-early-stop", "--repeats", "1", "--warmup", "0", "--save-outputs", outp, END);
    if (rc != 0) fail_msg("exit %d: %s", rc, err_buf);
    SimError err;
    sim_error_init(&err);
    SafeTensors *a = NULL, *g = NULL;
    assert_int_equal(st_open(outp, &a, &err), SIM_OK);
    assert_int_equal(st_open("tests/golden/lite_light/io.safetensors", &g, &err), SIM_OK);
    const StTensorInfo *ta = st_find(a, "tokens"), *tg = st_find(g, "incremental.tokens");
    assert_non_null(ta);
    assert_int_equal(st_numel(ta), st_numel(tg));
    assert_memory_equal(st_data(a, ta), st_data(g, tg), (size_t)st_numel(tg) * 8);
    const StTensorInfo *la = st_find(a, "step_logits"), *lg = st_find(g, "incremental.logits");
    assert_int_equal(st_numel(la), st_numel(lg));
    assert_true(tu_rel_err(st_data(a, la), st_data(g, lg), st_numel(lg)) <= 1e-4);
    st_close(a);
    st_close(g);
}

static void test_cli_readable_output(void **state) {
    (void)state;
    assert_int_equal(ltsim("count", "lite-wmt-200", END), 0);
    assert_non_null(strstr(out_buf, "conventions:"));
    assert_non_null(strstr(out_buf, "90,138,000"));
    assert_non_null(strstr(out_buf, "2,884,400"));
    assert_non_null(strstr(out_buf, "decoder.layers.5"));
    assert_int_equal(ltsim("run", "tests/fixtures/golden_transformer.yml", "--repeats", "2", END),
                     0);
    assert_non_null(strstr(out_buf, "measured on this host: median"));
    assert_non_null(strstr(out_buf, "OPENBLAS_CORETYPE="));
}

/* ---- golden cases through the CLI ---- */

static void ids_arg(const SafeTensors *io, const char *name, char *buf, size_t n) {
    const StTensorInfo *t = st_find(io, name);
    assert_non_null(t);
    const int64_t *v = st_data(io, t);
    size_t k = 0;
    buf[0] = '\0';
    for (int64_t i = 0; i < st_numel(t) && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? " " : "", (long long)v[i]);
}

static void golden_cli(const char *name) {
    char cfg[256], w[256], iop[256], outp[256], src[512], tgt[512];
    snprintf(cfg, sizeof cfg, "tests/fixtures/golden_%s.yml", name);
    snprintf(w, sizeof w, "tests/golden/%s/model.safetensors", name);
    snprintf(iop, sizeof iop, "tests/golden/%s/io.safetensors", name);
    snprintf(outp, sizeof outp, "%s/%s-out.safetensors", tu_tmpdir(), name);
    SimError err;
    sim_error_init(&err);
    SafeTensors *io = NULL, *out = NULL;
    assert_int_equal(st_open(iop, &io, &err), SIM_OK);
    ids_arg(io, "src_tokens", src, sizeof src);
    ids_arg(io, "prev_output_tokens", tgt, sizeof tgt);
    int rc = ltsim("run", cfg, "--weights", w, "--src", src, "--tgt", tgt, "--save-outputs", outp,
                   "--repeats", "1", "--warmup", "0", END);
    if (rc != 0) fail_msg("%s: exit %d: %s", name, rc, err_buf);
    assert_int_equal(st_open(outp, &out, &err), SIM_OK);
    const char *names[3] = {"encoder_out", "decoder_features", "logits"};
    for (int i = 0; i < 3; i++) {
        const StTensorInfo *a = st_find(out, names[i]), *b = st_find(io, names[i]);
        assert_non_null(a);
        assert_non_null(b);
        assert_int_equal(st_numel(a), st_numel(b));
        assert_int_equal(a->shape[0], b->shape[0]);
        double e = tu_rel_err(st_data(out, a), st_data(io, b), st_numel(a));
        if (!(e <= 1e-4)) fail_msg("%s %s: rel_err %.3g", name, names[i], e);
    }
    st_close(out);
    st_close(io);
}

static void test_cli_golden_cases(void **state) {
    (void)state;
    golden_cli("lite_dyn_glu");
    golden_cli("lite_dyn_noglu");
    golden_cli("lite_light");
    golden_cli("transformer");
}

/* ---- bad weights files ---- */

static const char *write_raw(const char *name, const void *buf, size_t n) {
    static char path[8][256];
    static int k;
    char *p = path[k++ % 8];
    snprintf(p, 256, "%s/%s", tu_tmpdir(), name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, n, f), n);
    fclose(f);
    return p;
}

static const char *raw_header(const char *name, const char *json, size_t data_bytes) {
    static unsigned char buf[4096];
    size_t hl = strlen(json);
    uint64_t n = hl;
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)(n >> (8 * i));
    memcpy(buf + 8, json, hl);
    memset(buf + 8 + hl, 0, data_bytes);
    return write_raw(name, buf, 8 + hl + data_bytes);
}

/* Rewrites the golden transformer's weights with one change. */
typedef enum { EDIT_DROP, EDIT_DTYPE, EDIT_SHAPE, EDIT_EXTRA } Edit;

static const char *edited_weights(const char *name, Edit edit, const char *target) {
    SimError err;
    sim_error_init(&err);
    SafeTensors *st = NULL;
    assert_int_equal(st_open("tests/golden/transformer/model.safetensors", &st, &err), SIM_OK);
    int n = st_count(st);
    StWriteItem *items = calloc((size_t)n + 1, sizeof *items);
    int k = 0;
    for (int i = 0; i < n; i++) {
        const StTensorInfo *t = st_get(st, i);
        int hit = strcmp(t->name, target) == 0;
        if (hit && edit == EDIT_DROP) continue;
        StWriteItem *it = &items[k++];
        it->name = t->name;
        it->dtype = t->dtype;
        it->ndim = t->ndim;
        memcpy(it->shape, t->shape, sizeof it->shape);
        it->data = st_data(st, t);
        if (hit && edit == EDIT_DTYPE) it->dtype = ST_I32;
        if (hit && edit == EDIT_SHAPE) {
            it->shape[0] = t->shape[0] / 2;
            it->shape[1] = t->shape[1] * 2;
        }
        if (hit && edit == EDIT_EXTRA) {
            StWriteItem *x = &items[k++];
            *x = *it;
            x->name = "decoder.layers.9.fc1.bias";
        }
    }
    static char path[4][256];
    static int pk;
    char *p = path[pk++ % 4];
    snprintf(p, 256, "%s/%s", tu_tmpdir(), name);
    assert_int_equal(st_write(p, items, k, &err), SIM_OK);
    free(items);
    st_close(st);
    return p;
}

static int run_weights(const char *w, const char *extra) {
    return ltsim("run", "tests/fixtures/golden_transformer.yml", "--weights", w, "--repeats", "1",
                 "--warmup", "0", extra, END);
}

static void test_cli_bad_weights(void **state) {
    (void)state;
    /* truncated file */
    static unsigned char buf[1 << 20];
    FILE *f = fopen("tests/golden/transformer/model.safetensors", "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    const char *p = write_raw("truncated.safetensors", buf, n / 2);
    expect_bad(run_weights(p, NULL), "truncated.safetensors", NULL);
    /* header length past the end of the file */
    p = raw_header("hdrlen.safetensors", "{}", 0);
    unsigned char big[16] = {0xff, 0xff, 0, 0, 0, 0, 0, 0, '{', '}'};
    p = write_raw("hdrlen.safetensors", big, 10);
    expect_bad(run_weights(p, NULL), "hdrlen.safetensors", NULL);
    /* overlapping offsets */
    p = raw_header("overlap.safetensors",
                   "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                   "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                   12);
    expect_bad(run_weights(p, NULL), "overlap.safetensors", NULL);
    /* offsets beyond the data buffer */
    p = raw_header("range.safetensors",
                   "{\"a\":{\"dtype\":\"F32\",\"shape\":[250],\"data_offsets\":[0,1000]}}", 16);
    expect_bad(run_weights(p, NULL), "range.safetensors", NULL);
    /* wrong dtype, wrong shape, missing tensor, extra tensor */
    p = edited_weights("dtype.safetensors", EDIT_DTYPE, "encoder.layers.1.fc1.weight");
    expect_bad(run_weights(p, NULL), "dtype.safetensors", "encoder.layers.1.fc1.weight");
    p = edited_weights("shape.safetensors", EDIT_SHAPE, "decoder.layers.0.fc2.weight");
    expect_bad(run_weights(p, NULL), "shape.safetensors", "decoder.layers.0.fc2.weight");
    p = edited_weights("missing.safetensors", EDIT_DROP, "decoder.layers.1.encoder_attn.k_proj.bias");
    expect_bad(run_weights(p, NULL), "missing.safetensors",
               "decoder.layers.1.encoder_attn.k_proj.bias");
    p = edited_weights("extra.safetensors", EDIT_EXTRA, "decoder.layers.1.fc1.bias");
    expect_bad(run_weights(p, NULL), "extra.safetensors", "decoder.layers.9.fc1.bias");
    assert_int_equal(run_weights(p, "--allow-extra-tensors"), 0);
    assert_non_null(strstr(out_buf, "warning"));
    /* a missing weights file */
    expect_bad(run_weights("/nonexistent/w.safetensors", NULL), "/nonexistent/w.safetensors", NULL);
}

/* a full disk under standard output: exit 1 and one line that says so, for every command */
static void test_cli_stdout_full(void **state) {
    (void)state;
    if (access("/dev/full", W_OK) != 0) {
        printf("test_cli_stdout_full: skipped: no /dev/full\n");
        return;
    }
    char db[256];
    snprintf(db, sizeof db, "%s/full.db", tu_tmpdir());
    assert_int_equal(ltsim("count", "models/lite-wmt-200.yml", "--db", db, END), 0);
    stdout_to = "/dev/full";
    int rc[6] = {
        ltsim("count", "models/lite-wmt-496.yml", "--no-db", END),
        ltsim("count", "models/lite-wmt-496.yml", "--no-db", "--json", END),
        ltsim("compress-report", "tests/fixtures/golden_lite_dyn_glu.yml", "--ratios", "0.5", END),
        ltsim("hw", "list", END),
        ltsim("db", "list", "--db", db, END),
        ltsim("carbon", "--preset", "lite-design", "--no-db", END),
    };
    stdout_to = NULL;
    for (int i = 0; i < 6; i++) {
        if (rc[i] != 1) fail_msg("command %d: exit %d, expected 1", i, rc[i]);
    }
    /* the last command's message: one line naming the failure */
    assert_int_equal(tu_count_lines(err_buf), 1);
    assert_non_null(strstr(err_buf, "failed"));
}

static void test_cli_save_outputs_failure(void **state) {
    (void)state;
    int rc = ltsim("run", "tests/fixtures/golden_transformer.yml", "--repeats", "1",
                   "--save-outputs", "/nonexistent-dir/out.safetensors", END);
    assert_int_equal(rc, 1);
    assert_int_equal(tu_count_lines(err_buf), 1);
    assert_non_null(strstr(err_buf, "/nonexistent-dir/out.safetensors"));
}

/* Grouped counts, as every text output prints them. */
static void test_fmt_grouped(void **state) {
    (void)state;
    char b[32];
    assert_string_equal(fmt_grouped(0, b, sizeof b), "0");
    assert_string_equal(fmt_grouped(999, b, sizeof b), "999");
    assert_string_equal(fmt_grouped(1000, b, sizeof b), "1,000");
    assert_string_equal(fmt_grouped(527451360, b, sizeof b), "527,451,360");
    assert_string_equal(fmt_grouped(UINT64_MAX, b, sizeof b), "18,446,744,073,709,551,615");
    assert_string_equal(fmt_grouped(1234567, b, 6), "1,234"); /* cut short, never a bare comma */
    assert_string_equal(fmt_grouped(1234567, b, 7), "1,234");
    assert_string_equal(fmt_grouped(1234567, b, 8), "1,234,5");
    fmt_count(1234567.8, b, sizeof b);
    assert_string_equal(b, "1,234,568");
    fmt_count(-1234.4, b, sizeof b);
    assert_string_equal(b, "-1,234");
    fmt_count(-0.3, b, sizeof b);
    assert_string_equal(b, "0");
    fmt_count(NAN, b, sizeof b);
    assert_string_equal(b, "-");
    fmt_count(1e300, b, sizeof b); /* cut to the buffer */
    assert_int_equal(strlen(b), sizeof b - 1);
}

int main(void) {
    /* runs are stored in a database under the test's own LTSIM_HOME, not the repository's */
    setenv("LTSIM_HOME", tu_tmpdir(), 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_missing_model),
        cmocka_unit_test(test_fmt_grouped),
        cmocka_unit_test(test_cli_yaml_syntax_error),
        cmocka_unit_test(test_cli_unknown_key),
        cmocka_unit_test(test_cli_heads_do_not_divide),
        cmocka_unit_test(test_cli_branch_widths),
        cmocka_unit_test(test_cli_kernel_list_short),
        cmocka_unit_test(test_cli_bad_options),
        cmocka_unit_test(test_cli_reference_configs_need_vocab),
        cmocka_unit_test(test_cli_count_json),
        cmocka_unit_test(test_cli_hw_list),
        cmocka_unit_test(test_cli_generate_json),
        cmocka_unit_test(test_cli_readable_output),
        cmocka_unit_test(test_cli_golden_cases),
        cmocka_unit_test(test_cli_bad_weights),
        cmocka_unit_test(test_cli_stdout_full),
        cmocka_unit_test(test_cli_save_outputs_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
