/*
 * test_safetensors.c - CMocka tests of the safetensors reader and writer.
 *
 * Reads every golden file, round-trips them through st_write, and feeds one malformed file
 * per validation rule (built in memory, a few through real files) checking that each is
 * SIM_EINVAL with a one-line message naming the file and the offending tensor or field.
 * Also holds the fuzzer's regression inputs. Run from the repository root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safetensors.h"

#define GOLDEN_DIR "tests/golden"
#define BAD_NAME "bad.safetensors"

/* One valid entry of the header: dtype, shape text, begin, end. */
#define ENT(dt, shape, b, e) \
    "{\"dtype\":\"" dt "\",\"shape\":" shape ",\"data_offsets\":[" b "," e "]}"

static char tmp_dir[64]; /* made by the group setup, removed by the teardown */

/* ---- helpers ---- */

static void put_le64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* A file image: 8-byte length, json (unpadded), data_len bytes of pattern (i * 7 + 1).
 * Caller frees. */
static unsigned char *build_file(const char *json, size_t data_len, size_t *out_len) {
    size_t jl = strlen(json);
    unsigned char *buf = malloc(8 + jl + data_len + 1);
    assert_non_null(buf);
    put_le64(buf, jl);
    memcpy(buf + 8, json, jl);
    for (size_t i = 0; i < data_len; i++) buf[8 + jl + i] = (unsigned char)(i * 7 + 1);
    *out_len = 8 + jl + data_len;
    return buf;
}

/* Asserts the error is SIM_EINVAL, on one line, naming BAD_NAME (or file) and needle. */
static void check_msg(const SimError *err, const char *file, const char *needle) {
    if (strstr(err->msg, file) == NULL || strstr(err->msg, needle) == NULL)
        print_error("message \"%s\" lacks \"%s\" or \"%s\"\n", err->msg, file, needle);
    assert_non_null(strstr(err->msg, file));
    assert_non_null(strstr(err->msg, needle));
    assert_null(strchr(err->msg, '\n'));
}

static void expect_bad_bytes(const unsigned char *buf, size_t len, SimStatus code,
                             const char *needle) {
    SimError err;
    sim_error_init(&err);
    SafeTensors *st = (SafeTensors *)(uintptr_t)1; /* must be reset to NULL */
    SimStatus rc = st_open_buffer(buf, len, BAD_NAME, &st, &err);
    assert_int_equal(rc, code);
    assert_int_equal(err.code, code);
    assert_null(st);
    check_msg(&err, BAD_NAME, needle);
}

/* Builds a file from json + data_len bytes and expects SIM_EINVAL naming needle. */
static void expect_bad(const char *json, size_t data_len, const char *needle) {
    size_t len;
    unsigned char *buf = build_file(json, data_len, &len);
    expect_bad_bytes(buf, len, SIM_EINVAL, needle);
    free(buf);
}

/* Builds a file and expects it to open; returns the handle (caller closes). */
static SafeTensors *expect_good(const char *json, size_t data_len) {
    size_t len;
    unsigned char *buf = build_file(json, data_len, &len);
    SimError err;
    sim_error_init(&err);
    SafeTensors *st = NULL;
    SimStatus rc = st_open_buffer(buf, len, "good.safetensors", &st, &err);
    if (rc != SIM_OK) print_error("unexpected error: %s\n", err.msg);
    assert_int_equal(rc, SIM_OK);
    assert_non_null(st);
    free(buf);
    return st;
}

static void tmp_path(char *out, size_t cap, const char *leaf) {
    snprintf(out, cap, "%s/%s", tmp_dir, leaf);
}

static void write_bytes(const char *path, const void *buf, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Reads a whole file; caller frees. */
static unsigned char *read_bytes(const char *path, size_t *out_len) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = malloc(cap);
    assert_non_null(buf);
    for (;;) {
        if (len == cap) {
            cap *= 2;
            unsigned char *nb = realloc(buf, cap);
            assert_non_null(nb);
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    assert_int_equal(ferror(f), 0);
    fclose(f);
    *out_len = len;
    return buf;
}

static int file_exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* Number of entries of tmp_dir whose name starts with prefix. */
static int count_prefixed(const char *prefix) {
    DIR *d = opendir(tmp_dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) n++;
    closedir(d);
    return n;
}

static int group_setup(void **state) {
    (void)state;
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/test_safetensors.XXXXXX");
    return mkdtemp(tmp_dir) == NULL ? -1 : 0;
}

static int group_teardown(void **state) {
    (void)state;
    DIR *d = opendir(tmp_dir);
    if (d == NULL) return -1;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(p, sizeof p, "%s/%s", tmp_dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    return rmdir(tmp_dir);
}

/* ---- golden files ---- */

static const struct {
    const char *name;
    int model_tensors;
    int64_t src_len; /* S */
} golden_cases[] = {
    {"lite_dyn_glu", 110, 11},
    {"lite_dyn_noglu", 110, 13},
    {"lite_light", 111, 10},
    {"transformer", 90, 12},
};
#define N_GOLDEN ((int)(sizeof golden_cases / sizeof golden_cases[0]))

/* Every tensor: size matches the shape, data inside, aligned (the golden writer aligns). */
static void check_all_tensors(const SafeTensors *st) {
    for (int i = 0; i < st_count(st); i++) {
        const StTensorInfo *t = st_get(st, i);
        assert_non_null(t);
        assert_ptr_equal(st_find(st, t->name), t);
        int64_t numel = st_numel(t);
        assert_true(numel >= 0);
        assert_int_equal(t->end - t->begin, (uint64_t)numel * st_dtype_size(t->dtype));
        const unsigned char *p = st_data(st, t);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % st_dtype_size(t->dtype), 0);
    }
    assert_null(st_get(st, st_count(st)));
    assert_null(st_get(st, -1));
}

static void test_safetensors_reads_golden_models(void **state) {
    (void)state;
    for (int c = 0; c < N_GOLDEN; c++) {
        char path[256];
        snprintf(path, sizeof path, GOLDEN_DIR "/%s/model.safetensors", golden_cases[c].name);
        SimError err;
        sim_error_init(&err);
        SafeTensors *st = NULL;
        SimStatus rc = st_open(path, &st, &err);
        if (rc != SIM_OK) print_error("%s\n", err.msg);
        assert_int_equal(rc, SIM_OK);
        assert_string_equal(st_path(st), path);
        assert_int_equal(st_count(st), golden_cases[c].model_tensors);
        check_all_tensors(st);
        assert_null(st_find(st, "__metadata__"));
        const StTensorInfo *emb = st_find(st, "encoder.embed_tokens.weight");
        assert_non_null(emb);
        assert_int_equal(emb->dtype, ST_F32);
        assert_int_equal(emb->ndim, 2);
        assert_int_equal(emb->shape[0], 97);
        assert_int_equal(emb->shape[1], 64);
        assert_null(st_find(st, "encoder.embed_tokens"));
        st_close(st);
    }
}

static void test_safetensors_reads_golden_io(void **state) {
    (void)state;
    for (int c = 0; c < N_GOLDEN; c++) {
        char path[256];
        snprintf(path, sizeof path, GOLDEN_DIR "/%s/io.safetensors", golden_cases[c].name);
        SimError err;
        sim_error_init(&err);
        SafeTensors *st = NULL;
        SimStatus rc = st_open(path, &st, &err);
        if (rc != SIM_OK) print_error("%s\n", err.msg);
        assert_int_equal(rc, SIM_OK);
        assert_int_equal(st_count(st), 13);
        check_all_tensors(st);

        const StTensorInfo *src = st_find(st, "src_tokens");
        assert_non_null(src);
        assert_int_equal(src->dtype, ST_I64);
        assert_int_equal(src->ndim, 1);
        int64_t s_len = src->shape[0];
        assert_int_equal(s_len, golden_cases[c].src_len);
        const int64_t *ids = st_data(st, src);
        for (int64_t i = 0; i < s_len; i++) assert_in_range(ids[i], 0, 96);

        const StTensorInfo *enc = st_find(st, "encoder_out");
        assert_non_null(enc);
        assert_int_equal(enc->dtype, ST_F32);
        assert_int_equal(enc->ndim, 2);
        assert_int_equal(enc->shape[0], s_len);
        assert_int_equal(enc->shape[1], 64);

        const StTensorInfo *inc = st_find(st, "incremental.tokens");
        assert_non_null(inc);
        assert_int_equal(inc->shape[0], 9);
        assert_int_equal(((const int64_t *)st_data(st, inc))[0], 2); /* starts with eos */
        st_close(st);
    }
}

/* ---- round trips ---- */

/* Items pointing at every tensor of st, in file order. Caller frees. */
static StWriteItem *items_of(const SafeTensors *st) {
    int n = st_count(st);
    StWriteItem *items = calloc((size_t)n, sizeof *items);
    assert_non_null(items);
    for (int i = 0; i < n; i++) {
        const StTensorInfo *t = st_get(st, i);
        items[i].name = t->name;
        items[i].dtype = t->dtype;
        items[i].ndim = t->ndim;
        memcpy(items[i].shape, t->shape, sizeof t->shape);
        items[i].data = st_data(st, t);
    }
    return items;
}

static void test_safetensors_round_trip_golden(void **state) {
    (void)state;
    for (int c = 0; c < N_GOLDEN; c++) {
        char gpath[256], p1[256], p2[256];
        snprintf(gpath, sizeof gpath, GOLDEN_DIR "/%s/model.safetensors", golden_cases[c].name);
        tmp_path(p1, sizeof p1, "rt1.safetensors");
        tmp_path(p2, sizeof p2, "rt2.safetensors");
        SimError err;
        sim_error_init(&err);
        SafeTensors *g = NULL, *r = NULL;
        assert_int_equal(st_open(gpath, &g, &err), SIM_OK);
        StWriteItem *items = items_of(g);
        assert_int_equal(st_write(p1, items, st_count(g), &err), SIM_OK);
        free(items);

        /* header padded with spaces to a multiple of 8; the data buffer is byte-identical
         * to the golden one (same order, back to back) */
        size_t glen, len1;
        unsigned char *gb = read_bytes(gpath, &glen);
        unsigned char *b1 = read_bytes(p1, &len1);
        uint64_t gn = 0, n1 = 0;
        for (int i = 7; i >= 0; i--) {
            gn = (gn << 8) | gb[i];
            n1 = (n1 << 8) | b1[i];
        }
        assert_int_equal((8 + n1) % 8, 0);
        assert_int_equal(b1[8], '{');
        assert_int_equal(glen - 8 - gn, len1 - 8 - n1);
        assert_memory_equal(gb + 8 + gn, b1 + 8 + n1, len1 - 8 - n1);

        /* read back: same tensors, same bytes */
        assert_int_equal(st_open(p1, &r, &err), SIM_OK);
        assert_int_equal(st_count(r), st_count(g));
        for (int i = 0; i < st_count(g); i++) {
            const StTensorInfo *a = st_get(g, i), *b = st_get(r, i);
            assert_string_equal(a->name, b->name);
            assert_int_equal(a->dtype, b->dtype);
            assert_int_equal(a->ndim, b->ndim);
            assert_memory_equal(a->shape, b->shape, sizeof a->shape);
            assert_int_equal(a->begin, b->begin);
            assert_int_equal(a->end, b->end);
            assert_memory_equal(st_data(g, a), st_data(r, b), a->end - a->begin);
        }

        /* write -> read -> write is a fixed point: bytes identical */
        items = items_of(r);
        assert_int_equal(st_write(p2, items, st_count(r), &err), SIM_OK);
        free(items);
        size_t len2;
        unsigned char *b2 = read_bytes(p2, &len2);
        assert_int_equal(len1, len2);
        assert_memory_equal(b1, b2, len1);
        assert_int_equal(count_prefixed("rt1.safetensors.tmp"), 0);

        free(gb);
        free(b1);
        free(b2);
        st_close(g);
        st_close(r);
        unlink(p1);
        unlink(p2);
    }
}

static void test_safetensors_round_trip_edge_cases(void **state) {
    (void)state;
    const double scalar = 3.5;
    const int8_t i8[3] = {-1, 0, 127};
    const uint8_t flags[2] = {1, 0};
    const uint16_t bf16[4] = {0x3f80, 0x4000, 0xbf80, 0};
    const int32_t i32[2][3] = {{1, 2, 3}, {4, 5, 6}};
    const char *const names[] = {"scalar", "empty \"quoted\"", "back\\slash", "new\nline",
                                 "unicode \xc3\xa9", "bf16", "i32", "flags"};
    StWriteItem items[] = {
        {names[0], ST_F64, 0, {0}, &scalar},
        {names[1], ST_F32, 2, {0, 5}, NULL},
        {names[2], ST_I8, 1, {3}, i8},
        {names[3], ST_F16, 1, {0}, NULL},
        {names[4], ST_U8, 1, {2}, flags},
        {names[5], ST_BF16, 1, {4}, bf16},
        {names[6], ST_I32, 2, {2, 3}, i32},
        {names[7], ST_BOOL, 2, {1, 2}, flags},
    };
    int n = (int)(sizeof items / sizeof items[0]);
    char path[256];
    tmp_path(path, sizeof path, "edge.safetensors");
    SimError err;
    sim_error_init(&err);
    assert_int_equal(st_write(path, items, n, &err), SIM_OK);
    SafeTensors *st = NULL;
    assert_int_equal(st_open(path, &st, &err), SIM_OK);
    assert_int_equal(st_count(st), n);
    for (int i = 0; i < n; i++) {
        const StTensorInfo *t = st_find(st, names[i]);
        assert_non_null(t);
        assert_ptr_equal(t, st_get(st, i)); /* header order kept */
        assert_int_equal(t->dtype, items[i].dtype);
        assert_int_equal(t->ndim, items[i].ndim);
        int64_t numel = st_numel(t);
        assert_int_equal(t->end - t->begin, (uint64_t)numel * st_dtype_size(t->dtype));
        if (numel > 0) assert_memory_equal(st_data(st, t), items[i].data, t->end - t->begin);
    }
    assert_int_equal(st_numel(st_find(st, "scalar")), 1);
    assert_int_equal(st_numel(st_find(st, "empty \"quoted\"")), 0);
    st_close(st);

    /* no tensors at all */
    assert_int_equal(st_write(path, NULL, 0, &err), SIM_OK);
    assert_int_equal(st_open(path, &st, &err), SIM_OK);
    assert_int_equal(st_count(st), 0);
    st_close(st);
    unlink(path);
}

/* A header whose length is not a multiple of 8: the data is still read correctly, and
 * st_data is moved to 8-byte alignment. Also metadata of any type is skipped. */
static void test_safetensors_unpadded_header_and_metadata(void **state) {
    (void)state;
    const char *json = "{\"__metadata__\":{\"k\":\"v\"},\"x\":" ENT("F64", "[2]", "0", "16")
                       ",\"__metadata__\":[1]}";
    size_t len;
    unsigned char *buf = build_file(json, 16, &len);
    assert_true((8 + strlen(json)) % 8 != 0);
    const double vals[2] = {1.25, -2.5};
    memcpy(buf + 8 + strlen(json), vals, sizeof vals);
    SimError err;
    sim_error_init(&err);
    SafeTensors *st = NULL;
    assert_int_equal(st_open_buffer(buf, len, "x", &st, &err), SIM_OK);
    free(buf);
    assert_int_equal(st_count(st), 1);
    const StTensorInfo *t = st_find(st, "x");
    const double *p = st_data(st, t);
    assert_int_equal((uintptr_t)p % 8, 0);
    assert_true(p[0] == 1.25 && p[1] == -2.5);
    st_close(st);
}

static void test_safetensors_empty_header_object(void **state) {
    (void)state;
    SafeTensors *st = expect_good("{}", 0);
    assert_int_equal(st_count(st), 0);
    assert_null(st_find(st, "x"));
    assert_null(st_get(st, 0));
    st_close(st);
    st = expect_good("  {\"__metadata__\":{}}\t\r\n  ", 3); /* whitespace, trailing data */
    assert_int_equal(st_count(st), 0);
    st_close(st);
}

/* Zero-size tensors overlap nothing, even inside another tensor's range; touching
 * ranges are fine; offsets need not be sorted. */
static void test_safetensors_zero_size_and_adjacent_ok(void **state) {
    (void)state;
    SafeTensors *st = expect_good(
        "{\"b\":" ENT("U8", "[4]", "4", "8") ",\"a\":" ENT("U8", "[4]", "0", "4")
        ",\"z1\":" ENT("F32", "[0]", "2", "2") ",\"z2\":" ENT("F32", "[3,0]", "2", "2")
        ",\"z3\":" ENT("I64", "[0]", "8", "8") "}",
        8);
    assert_int_equal(st_count(st), 5);
    assert_string_equal(st_get(st, 0)->name, "b");
    assert_int_equal(st_numel(st_find(st, "z2")), 0);
    const uint8_t *a = st_data(st, st_find(st, "a"));
    assert_int_equal(a[1], 8); /* pattern i * 7 + 1 */
    st_close(st);
}

/* ---- bad input: file level ---- */

static void test_safetensors_rejects_missing_file(void **state) {
    (void)state;
    char path[256];
    tmp_path(path, sizeof path, "does-not-exist.safetensors");
    SimError err;
    sim_error_init(&err);
    SafeTensors *st = NULL;
    assert_int_equal(st_open(path, &st, &err), SIM_EINVAL);
    assert_null(st);
    check_msg(&err, path, "cannot open: No such file");
}

static void test_safetensors_rejects_directory(void **state) {
    (void)state;
    SimError err;
    sim_error_init(&err);
    SafeTensors *st = NULL;
    assert_int_equal(st_open(tmp_dir, &st, &err), SIM_EINVAL);
    assert_null(st);
    check_msg(&err, tmp_dir, "cannot");
}

static void test_safetensors_rejects_short_file(void **state) {
    (void)state;
    const unsigned char five[5] = {8, 0, 0, 0, 0};
    expect_bad_bytes(five, sizeof five, SIM_EINVAL, "5 bytes, shorter than");
    expect_bad_bytes(NULL, 0, SIM_EINVAL, "0 bytes, shorter than");
    expect_bad_bytes(NULL, 16, SIM_EINVAL, "NULL buffer of 16 bytes");
}

/* Truncated golden copies through st_open: inside the length field, inside the header,
 * inside the data. */
static void test_safetensors_rejects_truncated_file(void **state) {
    (void)state;
    size_t glen;
    unsigned char *g = read_bytes(GOLDEN_DIR "/lite_dyn_glu/io.safetensors", &glen);
    char path[256];
    tmp_path(path, sizeof path, "truncated.safetensors");
    SimError err;
    SafeTensors *st = NULL;

    write_bytes(path, g, 4);
    sim_error_init(&err);
    assert_int_equal(st_open(path, &st, &err), SIM_EINVAL);
    assert_null(st);
    check_msg(&err, path, "shorter than the 8-byte header length");

    write_bytes(path, g, 200);
    sim_error_init(&err);
    assert_int_equal(st_open(path, &st, &err), SIM_EINVAL);
    check_msg(&err, path, "header length 1048 runs past the end of the file");
    check_msg(&err, path, "file size 200");

    /* data cut after 2000 bytes: the header is intact, the first tensor (in header order)
     * ending past the cut is named */
    write_bytes(path, g, 8 + 1048 + 2000);
    sim_error_init(&err);
    assert_int_equal(st_open(path, &st, &err), SIM_EINVAL);
    check_msg(&err, path, "\"debug.decoder_embed\": data_offsets [232, 2536] end past the data");
    unlink(path);
    free(g);
}

static void test_safetensors_rejects_header_len_zero(void **state) {
    (void)state;
    unsigned char buf[16] = {0};
    expect_bad_bytes(buf, sizeof buf, SIM_EINVAL, "header length is 0");
}

static void test_safetensors_rejects_header_len_past_end(void **state) {
    (void)state;
    unsigned char buf[20];
    memset(buf, ' ', sizeof buf);
    put_le64(buf, 1000);
    expect_bad_bytes(buf, sizeof buf, SIM_EINVAL, "header length 1000 runs past the end");
    expect_bad_bytes(buf, sizeof buf, SIM_EINVAL, "1008 > file size 20");
    put_le64(buf, 13); /* one byte past */
    expect_bad_bytes(buf, sizeof buf, SIM_EINVAL, "21 > file size 20");

    char path[256];
    tmp_path(path, sizeof path, "past-end.safetensors");
    put_le64(buf, 1000);
    write_bytes(path, buf, sizeof buf);
    SimError err;
    sim_error_init(&err);
    SafeTensors *st = NULL;
    assert_int_equal(st_open(path, &st, &err), SIM_EINVAL);
    assert_null(st);
    check_msg(&err, path, "header length 1000");
    check_msg(&err, path, "file size 20");
    unlink(path);
}

static void test_safetensors_rejects_header_len_absurd(void **state) {
    (void)state;
    unsigned char buf[16] = {0};
    put_le64(buf, UINT64_MAX);
    expect_bad_bytes(buf, sizeof buf, SIM_EINVAL, "header length 18446744073709551615 is absurd");
    put_le64(buf, 100000001);
    expect_bad_bytes(buf, sizeof buf, SIM_EINVAL, "absurd");
}

static void test_safetensors_rejects_header_not_json(void **state) {
    (void)state;
    expect_bad("{\"a\": ", 0, "header is not valid JSON");
    expect_bad("{\"a\":{\"dtype\":\"F32\\", 0, "not valid JSON"); /* ends in a backslash */
    expect_bad("        ", 0, "not valid JSON");
    expect_bad("{} x", 0, "header has bytes after the JSON object");
    expect_bad("{}{}", 0, "after the JSON object");
}

static void test_safetensors_rejects_header_not_object(void **state) {
    (void)state;
    expect_bad("[1, 2]", 0, "header is an array, not a JSON object");
    expect_bad("\"F32\"", 0, "header is a string, not a JSON object");
    expect_bad("3", 0, "header is a number, not a JSON object");
}

/* ---- bad input: one tensor entry ---- */

static void test_safetensors_rejects_entry_not_object(void **state) {
    (void)state;
    expect_bad("{\"w\": 5}", 0, "tensor \"w\": entry is a number, not an object");
    expect_bad("{\"ok\":" ENT("U8", "[1]", "0", "1") ",\"w\":[]}", 1,
               "tensor \"w\": entry is an array");
}

static void test_safetensors_rejects_missing_fields(void **state) {
    (void)state;
    expect_bad("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
               "tensor \"w\": missing field \"dtype\"");
    expect_bad("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4,
               "tensor \"w\": missing field \"shape\"");
    expect_bad("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4,
               "tensor \"w\": missing field \"data_offsets\"");
}

static void test_safetensors_rejects_duplicate_field(void **state) {
    (void)state;
    expect_bad("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"dtype\":\"I64\",\"data_offsets\":[0,4]}}",
               4, "tensor \"w\": field \"dtype\" appears twice");
}

static void test_safetensors_rejects_bad_dtype(void **state) {
    (void)state;
    expect_bad("{\"w\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
               "tensor \"w\": field \"dtype\" is a number, not a string");
    expect_bad("{\"w\":" ENT("F8_E4M3", "[1]", "0", "1") "}", 1,
               "tensor \"w\": unknown dtype \"F8_E4M3\"");
    expect_bad("{\"w\":" ENT("f32", "[1]", "0", "4") "}", 4, "unknown dtype \"f32\"");
}

static void test_safetensors_rejects_shape_not_array(void **state) {
    (void)state;
    expect_bad("{\"w\":" ENT("F32", "4", "0", "16") "}", 16,
               "tensor \"w\": field \"shape\" is a number, not an array");
    expect_bad("{\"w\":" ENT("F32", "{}", "0", "4") "}", 4, "field \"shape\" is an object");
}

static void test_safetensors_rejects_shape_negative(void **state) {
    (void)state;
    expect_bad("{\"w\":" ENT("F32", "[2,-3]", "0", "24") "}", 24,
               "tensor \"w\": shape[1] = -3 is negative");
}

static void test_safetensors_rejects_shape_not_integer(void **state) {
    (void)state;
    expect_bad("{\"w\":" ENT("F32", "[1.5]", "0", "4") "}", 4,
               "tensor \"w\": shape[0] = 1.5 is not an integer");
    expect_bad("{\"w\":" ENT("F32", "[\"2\"]", "0", "8") "}", 8,
               "tensor \"w\": shape[0] is a string, not an integer");
    expect_bad("{\"w\":" ENT("F32", "[null]", "0", "8") "}", 8, "shape[0] is null");
    expect_bad("{\"w\":" ENT("F32", "[true]", "0", "4") "}", 4, "shape[0] is a boolean");
}

static void test_safetensors_rejects_shape_too_large(void **state) {
    (void)state;
    expect_bad("{\"w\":" ENT("U8", "[9007199254740994]", "0", "1") "}", 1,
               "tensor \"w\": shape[0] = 9007199254740994 is too large (more than 2^53)");
    expect_bad("{\"w\":" ENT("U8", "[1e400]", "0", "1") "}", 1, "shape[0] = inf is too large");
    /* each dim fine, the product overflows */
    expect_bad("{\"w\":" ENT("U8", "[9007199254740992,9007199254740992,0]", "0", "0") "}", 0,
               "tensor \"w\": shape [9007199254740992, 9007199254740992]... has too many "
               "elements");
    /* the element count fits in int64, the byte size does not */
    expect_bad("{\"w\":" ENT("I64", "[9007199254740992,512]", "0", "0") "}", 0,
               "tensor \"w\": shape [9007199254740992, 512] I64 is too large");
}

static void test_safetensors_rejects_too_many_dims(void **state) {
    (void)state;
    expect_bad("{\"w\":" ENT("U8", "[1,1,1,1,1,1,1,1,1]", "0", "1") "}", 1,
               "tensor \"w\": field \"shape\" has 9 dims, more than 8");
    SafeTensors *st = expect_good("{\"w\":" ENT("U8", "[1,1,1,1,1,1,1,2]", "0", "2") "}", 2);
    assert_int_equal(st_get(st, 0)->ndim, 8);
    st_close(st);
}

static void test_safetensors_rejects_offsets_not_array(void **state) {
    (void)state;
    expect_bad("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":\"0,1\"}}", 1,
               "tensor \"w\": field \"data_offsets\" is a string, not an array");
}

static void test_safetensors_rejects_offsets_count(void **state) {
    (void)state;
    expect_bad("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0]}}", 1,
               "tensor \"w\": field \"data_offsets\" has 1 entries, expected 2");
    expect_bad("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1,1]}}", 1,
               "field \"data_offsets\" has 3 entries");
    expect_bad("{\"w\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[]}}", 1,
               "field \"data_offsets\" has 0 entries");
}

static void test_safetensors_rejects_offsets_negative(void **state) {
    (void)state;
    expect_bad("{\"w\":" ENT("U8", "[4]", "-4", "0") "}", 4,
               "tensor \"w\": data_offsets[0] = -4 is negative");
}

static void test_safetensors_rejects_offsets_not_integer(void **state) {
    (void)state;
    expect_bad("{\"w\":" ENT("U8", "[4]", "0", "4.5") "}", 8,
               "tensor \"w\": data_offsets[1] = 4.5 is not an integer");
    expect_bad("{\"w\":" ENT("U8", "[4]", "0", "\"4\"") "}", 8,
               "tensor \"w\": data_offsets[1] is a string");
    expect_bad("{\"w\":" ENT("U8", "[4]", "0", "1e16") "}", 8,
               "tensor \"w\": data_offsets[1] = 10000000000000000 is too large");
}

static void test_safetensors_rejects_offsets_begin_after_end(void **state) {
    (void)state;
    expect_bad("{\"w\":" ENT("U8", "[0]", "8", "4") "}", 8,
               "tensor \"w\": data_offsets [8, 4]: begin > end");
}

static void test_safetensors_rejects_offsets_past_buffer(void **state) {
    (void)state;
    const char *json = "{\"w\":" ENT("F32", "[3]", "4", "16") "}";
    char needle[128];
    snprintf(needle, sizeof needle, "8+N+end = %zu > file size %zu", 8 + strlen(json) + 16,
             8 + strlen(json) + 15);
    expect_bad(json, 15, "tensor \"w\": data_offsets [4, 16] end past the data buffer");
    expect_bad(json, 15, needle);
    /* a zero-size tensor may sit exactly at the end, not one past it */
    SafeTensors *st = expect_good("{\"w\":" ENT("F32", "[0]", "15", "15") "}", 15);
    st_close(st);
    expect_bad("{\"w\":" ENT("F32", "[0]", "16", "16") "}", 15, "end past the data buffer");
}

static void test_safetensors_rejects_size_mismatch(void **state) {
    (void)state;
    expect_bad("{\"w\":" ENT("F32", "[2,3]", "0", "20") "}", 24,
               "tensor \"w\": shape [2, 3] F32 needs 24 bytes but data_offsets [0, 20] span 20");
    expect_bad("{\"w\":" ENT("I64", "[]", "0", "4") "}", 8,
               "tensor \"w\": shape [] I64 needs 8 bytes");
}

/* ---- bad input: the tensor set ---- */

static void test_safetensors_rejects_overlap(void **state) {
    (void)state;
    expect_bad("{\"a\":" ENT("U8", "[4]", "0", "4") ",\"b\":" ENT("U8", "[4]", "2", "6") "}", 6,
               "tensor \"b\": data_offsets [2, 6] overlap tensor \"a\" [0, 4]");
    /* unsorted header, same ranges */
    expect_bad("{\"b\":" ENT("U8", "[4]", "2", "6") ",\"a\":" ENT("U8", "[4]", "0", "4") "}", 6,
               "overlap tensor \"a\"");
    /* identical ranges */
    expect_bad("{\"a\":" ENT("U8", "[4]", "0", "4") ",\"b\":" ENT("I32", "[1]", "0", "4") "}", 4,
               "overlap");
    /* a tensor inside a larger one */
    expect_bad("{\"big\":" ENT("U8", "[8]", "0", "8") ",\"in\":" ENT("U8", "[2]", "3", "5") "}",
               8, "tensor \"in\": data_offsets [3, 5] overlap tensor \"big\" [0, 8]");
}

static void test_safetensors_rejects_duplicate_names(void **state) {
    (void)state;
    expect_bad("{\"a\":" ENT("U8", "[4]", "0", "4") ",\"b\":" ENT("U8", "[0]", "0", "0")
               ",\"a\":" ENT("U8", "[4]", "4", "8") "}",
               8, "tensor \"a\": duplicate tensor name");
}

/* ---- error convention ---- */

static void test_safetensors_first_error_sticks(void **state) {
    (void)state;
    SimError err;
    sim_error_init(&err);
    sim_errorf(&err, SIM_ESHAPE, "earlier");
    SafeTensors *st = (SafeTensors *)(uintptr_t)1;
    assert_int_equal(st_open(GOLDEN_DIR "/transformer/io.safetensors", &st, &err), SIM_ESHAPE);
    assert_null(st);
    assert_string_equal(err.msg, "earlier");
    /* a NULL error context is allowed */
    assert_int_equal(st_open_buffer("x", 1, NULL, &st, NULL), SIM_EINVAL);
    assert_null(st);
    assert_int_equal(st_open(GOLDEN_DIR "/transformer/io.safetensors", &st, NULL), SIM_OK);
    st_close(st);
}

static void test_safetensors_long_name_message_is_cut(void **state) {
    (void)state;
    char json[4096];
    char name[2001];
    memset(name, 'n', 2000);
    name[2000] = '\0';
    snprintf(json, sizeof json, "{\"%s\":" ENT("F32", "[2]", "0", "4") "}", name);
    expect_bad(json, 4, "needs 8 bytes but data_offsets [0, 4] span 4");
}

/* ---- accessors ---- */

static void test_safetensors_dtype_table(void **state) {
    (void)state;
    static const size_t sizes[ST_DTYPE_COUNT] = {4, 8, 2, 2, 8, 4, 2, 1, 1, 1};
    static const char *const names[ST_DTYPE_COUNT] = {"F32", "I64", "F16", "BF16", "F64",
                                                       "I32", "I16", "I8",  "U8",  "BOOL"};
    for (int i = 0; i < ST_DTYPE_COUNT; i++) {
        assert_int_equal(st_dtype_size((StDtype)i), sizes[i]);
        assert_string_equal(st_dtype_name((StDtype)i), names[i]);
    }
    assert_int_equal(st_dtype_size(ST_DTYPE_COUNT), 0);
    assert_string_equal(st_dtype_name(ST_DTYPE_COUNT), "?");
    StTensorInfo t = {NULL, ST_F32, 0, {0}, 0, 0};
    assert_int_equal(st_numel(&t), 1);
    t.ndim = 3;
    t.shape[0] = 2;
    t.shape[1] = 3;
    t.shape[2] = 4;
    assert_int_equal(st_numel(&t), 24);
    t.shape[1] = -1;
    assert_int_equal(st_numel(&t), -1);
    t.shape[0] = INT64_MAX;
    t.shape[1] = 2;
    assert_int_equal(st_numel(&t), -1);
    assert_int_equal(st_count(NULL), 0);
    assert_null(st_get(NULL, 0));
    assert_null(st_find(NULL, "x"));
    assert_null(st_path(NULL));
    st_close(NULL);
}

/* ---- writer ---- */

static void expect_write_einval(const StWriteItem *items, int n, const char *needle) {
    char path[256];
    tmp_path(path, sizeof path, "invalid.safetensors");
    SimError err;
    sim_error_init(&err);
    assert_int_equal(st_write(path, items, n, &err), SIM_EINVAL);
    check_msg(&err, path, needle);
    assert_false(file_exists(path));
    assert_int_equal(count_prefixed("invalid.safetensors"), 0);
}

static void test_safetensors_write_rejects_bad_items(void **state) {
    (void)state;
    const float x[4] = {0};
    StWriteItem it[2] = {{"a", ST_F32, 1, {4}, x}, {"b", ST_F32, 1, {4}, x}};
    it[0].name = "";
    expect_write_einval(it, 1, "tensor #0: empty name");
    it[0].name = NULL;
    expect_write_einval(it, 1, "tensor #0: empty name");
    it[0].name = "__metadata__";
    expect_write_einval(it, 1, "\"__metadata__\": name is reserved");
    it[0].name = "a";
    it[0].ndim = ST_MAX_DIMS + 1;
    expect_write_einval(it, 1, "tensor \"a\": ndim 9 outside 0..8");
    it[0].ndim = -1;
    expect_write_einval(it, 1, "tensor \"a\": ndim -1");
    it[0].ndim = 2;
    it[0].shape[1] = -2;
    expect_write_einval(it, 1, "tensor \"a\": shape[1] = -2 is negative");
    it[0].ndim = 1;
    it[0].dtype = ST_DTYPE_COUNT;
    expect_write_einval(it, 1, "tensor \"a\": dtype 10");
    it[0].dtype = ST_F32;
    it[0].data = NULL;
    expect_write_einval(it, 1, "tensor \"a\": data is NULL for 16 bytes");
    it[0].data = x;
    it[0].shape[0] = INT64_MAX;
    expect_write_einval(it, 1, "tensor \"a\": shape[0]");
    it[0].shape[0] = 4;
    it[1].name = "a";
    expect_write_einval(it, 2, "tensor \"a\": duplicate tensor name");
    expect_write_einval(it, -1, "cannot write -1 tensors");
    expect_write_einval(NULL, 1, "cannot write 1 tensors");
}

static void test_safetensors_write_unwritable_path(void **state) {
    (void)state;
    const float x[2] = {1, 2};
    StWriteItem it = {"x", ST_F32, 1, {2}, x};
    char path[256];
    tmp_path(path, sizeof path, "no-such-dir/out.safetensors");
    SimError err;
    sim_error_init(&err);
    assert_int_equal(st_write(path, &it, 1, &err), SIM_EIO);
    check_msg(&err, path, "write failed: No such file or directory");
    assert_false(file_exists(path));
    assert_int_equal(count_prefixed("no-such-dir"), 0); /* nothing created */
}

/* Disk full, simulated with RLIMIT_FSIZE (writes past the limit fail with EFBIG; SIGXFSZ is
 * ignored). Writing "/dev/full" itself through the atomic path would create a temporary
 * file in /dev and rename it over the device, so that is deliberately not done. The old
 * file at the path must survive untouched, and no temporary file may be left. */
static void test_safetensors_write_failure_is_atomic(void **state) {
    (void)state;
    char path[256];
    tmp_path(path, sizeof path, "atomic.safetensors");
    const float small[2] = {1, 2};
    StWriteItem it = {"x", ST_F32, 1, {2}, small};
    SimError err;
    sim_error_init(&err);
    assert_int_equal(st_write(path, &it, 1, &err), SIM_OK);
    size_t old_len;
    unsigned char *old = read_bytes(path, &old_len);

    enum { BIG = 1 << 18 };
    float *big = calloc(BIG, sizeof *big);
    assert_non_null(big);
    StWriteItem bit = {"x", ST_F32, 1, {BIG}, big};
    struct rlimit saved, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
    lim = saved;
    lim.rlim_cur = 4096;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    SimStatus rc = st_write(path, &bit, 1, &err);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
    signal(SIGXFSZ, old_handler);
    free(big);

    assert_int_equal(rc, SIM_EIO);
    check_msg(&err, path, "write failed: File too large");
    size_t now_len;
    unsigned char *now = read_bytes(path, &now_len);
    assert_int_equal(now_len, old_len);
    assert_memory_equal(now, old, old_len);
    assert_int_equal(count_prefixed("atomic.safetensors.tmp"), 0);
    free(old);
    free(now);
    unlink(path);
}

/* ---- fuzzer regressions (inputs also in tests/fixtures/fuzz/safetensors/) ---- */

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_safetensors_reads_golden_models),
        cmocka_unit_test(test_safetensors_reads_golden_io),
        cmocka_unit_test(test_safetensors_round_trip_golden),
        cmocka_unit_test(test_safetensors_round_trip_edge_cases),
        cmocka_unit_test(test_safetensors_unpadded_header_and_metadata),
        cmocka_unit_test(test_safetensors_empty_header_object),
        cmocka_unit_test(test_safetensors_zero_size_and_adjacent_ok),
        cmocka_unit_test(test_safetensors_rejects_missing_file),
        cmocka_unit_test(test_safetensors_rejects_directory),
        cmocka_unit_test(test_safetensors_rejects_short_file),
        cmocka_unit_test(test_safetensors_rejects_truncated_file),
        cmocka_unit_test(test_safetensors_rejects_header_len_zero),
        cmocka_unit_test(test_safetensors_rejects_header_len_past_end),
        cmocka_unit_test(test_safetensors_rejects_header_len_absurd),
        cmocka_unit_test(test_safetensors_rejects_header_not_json),
        cmocka_unit_test(test_safetensors_rejects_header_not_object),
        cmocka_unit_test(test_safetensors_rejects_entry_not_object),
        cmocka_unit_test(test_safetensors_rejects_missing_fields),
        cmocka_unit_test(test_safetensors_rejects_duplicate_field),
        cmocka_unit_test(test_safetensors_rejects_bad_dtype),
        cmocka_unit_test(test_safetensors_rejects_shape_not_array),
        cmocka_unit_test(test_safetensors_rejects_shape_negative),
        cmocka_unit_test(test_safetensors_rejects_shape_not_integer),
        cmocka_unit_test(test_safetensors_rejects_shape_too_large),
        cmocka_unit_test(test_safetensors_rejects_too_many_dims),
        cmocka_unit_test(test_safetensors_rejects_offsets_not_array),
        cmocka_unit_test(test_safetensors_rejects_offsets_count),
        cmocka_unit_test(test_safetensors_rejects_offsets_negative),
        cmocka_unit_test(test_safetensors_rejects_offsets_not_integer),
        cmocka_unit_test(test_safetensors_rejects_offsets_begin_after_end),
        cmocka_unit_test(test_safetensors_rejects_offsets_past_buffer),
        cmocka_unit_test(test_safetensors_rejects_size_mismatch),
        cmocka_unit_test(test_safetensors_rejects_overlap),
        cmocka_unit_test(test_safetensors_rejects_duplicate_names),
        cmocka_unit_test(test_safetensors_first_error_sticks),
        cmocka_unit_test(test_safetensors_long_name_message_is_cut),
        cmocka_unit_test(test_safetensors_dtype_table),
        cmocka_unit_test(test_safetensors_write_rejects_bad_items),
        cmocka_unit_test(test_safetensors_write_unwritable_path),
        cmocka_unit_test(test_safetensors_write_failure_is_atomic),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
