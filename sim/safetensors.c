/*
 * safetensors.c - reading and writing safetensors files (see safetensors.h).
 *
 * The reader loads the whole file into one malloc'd buffer, parses the JSON header with
 * cJSON (from a NUL-terminated copy) and validates every entry before the handle is
 * returned: afterwards st_get/st_find/st_data never fail and never point outside the
 * buffer. The writer builds the header with cJSON (so names are escaped), pads it with
 * spaces to a multiple of 8 and writes through a temporary file renamed over the target.
 */
#include "safetensors.h"

#include <cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Largest header accepted (same bound as the reference Rust implementation). */
#define ST_MAX_HEADER ((uint64_t)100000000)

/* Largest integer a JSON number (an IEEE double in cJSON) holds exactly. */
#define ST_MAX_JSON_INT ((uint64_t)1 << 53)

/* Longest tensor name quoted in an error message (the rest is cut). */
#define ST_MSG_NAME_MAX 200

struct SafeTensors {
    char *path;                /* name used in messages (st_path) */
    unsigned char *mem;        /* the whole file; the data buffer is moved to 8-byte alignment */
    const unsigned char *data; /* the data buffer: offsets are relative to it */
    uint64_t data_len;         /* bytes in the data buffer */
    StTensorInfo *tensors;     /* count entries, header order; names owned */
    int count;
};

/* ---- dtypes ---- */

static const struct {
    const char *name;
    size_t size;
} st_dtypes[ST_DTYPE_COUNT] = {
    [ST_F32] = {"F32", 4}, [ST_I64] = {"I64", 8}, [ST_F16] = {"F16", 2},
    [ST_BF16] = {"BF16", 2}, [ST_F64] = {"F64", 8}, [ST_I32] = {"I32", 4},
    [ST_I16] = {"I16", 2}, [ST_I8] = {"I8", 1}, [ST_U8] = {"U8", 1},
    [ST_BOOL] = {"BOOL", 1},
};
_Static_assert(sizeof st_dtypes / sizeof st_dtypes[0] == ST_DTYPE_COUNT,
               "st_dtypes out of sync with StDtype");

size_t st_dtype_size(StDtype dt) {
    if ((int)dt < 0 || dt >= ST_DTYPE_COUNT) return 0;
    return st_dtypes[dt].size;
}

const char *st_dtype_name(StDtype dt) {
    if ((int)dt < 0 || dt >= ST_DTYPE_COUNT) return "?";
    return st_dtypes[dt].name;
}

/* Returns the dtype spelled s, or ST_DTYPE_COUNT if unknown. */
static StDtype st_dtype_parse(const char *s) {
    for (int i = 0; i < ST_DTYPE_COUNT; i++)
        if (strcmp(s, st_dtypes[i].name) == 0) return (StDtype)i;
    return ST_DTYPE_COUNT;
}

/* Product of the shape, or -1 if a dim is negative or the product overflows int64.
 * The reader rejects shapes whose left-to-right product overflows, so for a tensor of an
 * open file this is never -1. */
int64_t st_numel(const StTensorInfo *t) {
    int64_t n = 1;
    if (t->ndim < 0 || t->ndim > ST_MAX_DIMS) return -1;
    for (int i = 0; i < t->ndim; i++) {
        if (t->shape[i] < 0 || __builtin_mul_overflow(n, t->shape[i], &n)) return -1;
    }
    return n;
}

/* ---- messages ---- */

/* "[2, 3]" into buf (cap >= 2). */
static void st_format_shape(char *buf, size_t cap, const int64_t *shape, int ndim) {
    size_t pos = 0;
    int k = snprintf(buf, cap, "[");
    for (int i = 0; i < ndim && k >= 0; i++) {
        pos += (size_t)k;
        if (pos >= cap) return;
        k = snprintf(buf + pos, cap - pos, "%s%" PRId64, i ? ", " : "", shape[i]);
    }
    if (k < 0) return;
    pos += (size_t)k;
    if (pos < cap) snprintf(buf + pos, cap - pos, "]");
}

static const char *st_json_type(const cJSON *j) {
    if (cJSON_IsObject(j)) return "an object";
    if (cJSON_IsArray(j)) return "an array";
    if (cJSON_IsString(j)) return "a string";
    if (cJSON_IsNumber(j)) return "a number";
    if (cJSON_IsBool(j)) return "a boolean";
    if (cJSON_IsNull(j)) return "null";
    return "invalid";
}

/* Records SIM_EINVAL "PATH: tensor "NAME": <fmt...>" (name cut to ST_MSG_NAME_MAX). */
static SimStatus st_tensor_fail(SimError *err, const char *path, const char *name,
                                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static SimStatus st_tensor_fail(SimError *err, const char *path, const char *name,
                                const char *fmt, ...) {
    char tail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tail, sizeof tail, fmt, ap);
    va_end(ap);
    return sim_errorf(err, SIM_EINVAL, "%s: tensor \"%.*s\": %s", path, ST_MSG_NAME_MAX, name,
                      tail);
}

/* ---- reader ---- */

static uint64_t st_load_le64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* Reads a JSON number that must be an exact integer in [0, 2^53] into *out.
 * what names the field ("shape[1]", "data_offsets[0]") in the message. */
static SimStatus st_json_uint(const cJSON *j, const char *path, const char *name,
                              const char *what, uint64_t *out, SimError *err) {
    if (!cJSON_IsNumber(j))
        return st_tensor_fail(err, path, name, "%s is %s, not an integer", what,
                              st_json_type(j));
    double d = j->valuedouble;
    if (d < 0) return st_tensor_fail(err, path, name, "%s = %.17g is negative", what, d);
    if (!(d <= (double)ST_MAX_JSON_INT)) /* also catches NaN and inf */
        return st_tensor_fail(err, path, name, "%s = %.17g is too large (more than 2^53)", what,
                              d);
    uint64_t u = (uint64_t)d; /* in range, so the conversion is defined */
    if ((double)u != d)
        return st_tensor_fail(err, path, name, "%s = %.17g is not an integer", what, d);
    *out = u;
    return SIM_OK;
}

/* Validates one header entry (key name, value e) into *t (name not set).
 * hdr_end is 8+N (<= file_len), file_len the file size. */
static SimStatus st_parse_entry(const cJSON *e, const char *path, const char *name,
                                uint64_t hdr_end, uint64_t file_len, StTensorInfo *t,
                                SimError *err) {
    if (!cJSON_IsObject(e))
        return st_tensor_fail(err, path, name, "entry is %s, not an object", st_json_type(e));

    /* Find the three fields; a repeated one is ambiguous (cJSON keeps duplicates). */
    static const char *const fields[3] = {"dtype", "shape", "data_offsets"};
    const cJSON *f[3] = {NULL, NULL, NULL};
    const cJSON *c;
    cJSON_ArrayForEach(c, e) {
        for (int k = 0; k < 3; k++) {
            if (c->string == NULL || strcmp(c->string, fields[k]) != 0) continue;
            if (f[k] != NULL)
                return st_tensor_fail(err, path, name, "field \"%s\" appears twice", fields[k]);
            f[k] = c;
        }
    }
    for (int k = 0; k < 3; k++)
        if (f[k] == NULL)
            return st_tensor_fail(err, path, name, "missing field \"%s\"", fields[k]);

    /* dtype */
    if (!cJSON_IsString(f[0]) || f[0]->valuestring == NULL)
        return st_tensor_fail(err, path, name, "field \"dtype\" is %s, not a string",
                              st_json_type(f[0]));
    t->dtype = st_dtype_parse(f[0]->valuestring);
    if (t->dtype == ST_DTYPE_COUNT)
        return st_tensor_fail(err, path, name, "unknown dtype \"%.40s\" in field \"dtype\"",
                              f[0]->valuestring);

    /* shape: at most ST_MAX_DIMS integers whose checked product is the element count */
    if (!cJSON_IsArray(f[1]))
        return st_tensor_fail(err, path, name, "field \"shape\" is %s, not an array",
                              st_json_type(f[1]));
    size_t nd = 0;
    cJSON_ArrayForEach(c, f[1]) nd++;
    if (nd > ST_MAX_DIMS)
        return st_tensor_fail(err, path, name, "field \"shape\" has %zu dims, more than %d", nd,
                              ST_MAX_DIMS);
    t->ndim = (int)nd;
    uint64_t numel = 1;
    int i = 0;
    cJSON_ArrayForEach(c, f[1]) {
        char what[32];
        uint64_t dim = 0;
        snprintf(what, sizeof what, "shape[%d]", i);
        if (st_json_uint(c, path, name, what, &dim, err) != SIM_OK) return SIM_EINVAL;
        t->shape[i++] = (int64_t)dim;
        if (__builtin_mul_overflow(numel, dim, &numel) || numel > (uint64_t)INT64_MAX) {
            char sh[256];
            st_format_shape(sh, sizeof sh, t->shape, i);
            return st_tensor_fail(err, path, name,
                                  "shape %s%s has too many elements (overflows 64 bits)", sh,
                                  i < t->ndim ? "..." : "");
        }
    }
    char shape_txt[256];
    st_format_shape(shape_txt, sizeof shape_txt, t->shape, t->ndim);
    uint64_t nbytes;
    if (__builtin_mul_overflow(numel, (uint64_t)st_dtype_size(t->dtype), &nbytes))
        return st_tensor_fail(err, path, name, "shape %s %s is too large (byte size overflows)",
                              shape_txt, st_dtype_name(t->dtype));

    /* data_offsets: [begin, end] inside the data buffer, spanning exactly nbytes */
    if (!cJSON_IsArray(f[2]))
        return st_tensor_fail(err, path, name, "field \"data_offsets\" is %s, not an array",
                              st_json_type(f[2]));
    uint64_t off[2] = {0, 0};
    size_t no = 0;
    cJSON_ArrayForEach(c, f[2]) {
        if (no < 2) {
            char what[32];
            snprintf(what, sizeof what, "data_offsets[%zu]", no);
            if (st_json_uint(c, path, name, what, &off[no], err) != SIM_OK) return SIM_EINVAL;
        }
        no++;
    }
    if (no != 2)
        return st_tensor_fail(err, path, name,
                              "field \"data_offsets\" has %zu entries, expected 2 [begin, end]",
                              no);
    if (off[0] > off[1])
        return st_tensor_fail(err, path, name, "data_offsets [%" PRIu64 ", %" PRIu64
                              "]: begin > end", off[0], off[1]);
    /* hdr_end <= file_len and off[1] <= 2^53, so the sum cannot overflow */
    if (off[1] > file_len - hdr_end)
        return st_tensor_fail(err, path, name,
                              "data_offsets [%" PRIu64 ", %" PRIu64 "] end past the data buffer: "
                              "8+N+end = %" PRIu64 " > file size %" PRIu64,
                              off[0], off[1], hdr_end + off[1], file_len);
    if (off[1] - off[0] != nbytes)
        return st_tensor_fail(err, path, name,
                              "shape %s %s needs %" PRIu64 " bytes but data_offsets [%" PRIu64
                              ", %" PRIu64 "] span %" PRIu64,
                              shape_txt, st_dtype_name(t->dtype), nbytes, off[0], off[1],
                              off[1] - off[0]);
    t->begin = off[0];
    t->end = off[1];
    return SIM_OK;
}

static int st_cmp_name(const void *a, const void *b) {
    const StTensorInfo *x = *(const StTensorInfo *const *)a;
    const StTensorInfo *y = *(const StTensorInfo *const *)b;
    return strcmp(x->name, y->name);
}

static int st_cmp_range(const void *a, const void *b) {
    const StTensorInfo *x = *(const StTensorInfo *const *)a;
    const StTensorInfo *y = *(const StTensorInfo *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

/* Rejects duplicate names and overlapping byte ranges among st->tensors. */
static SimStatus st_check_set(SafeTensors *st, SimError *err) {
    SimStatus rc = SIM_OK;
    const StTensorInfo **v = NULL;
    if (st->count < 2) goto out;
    v = malloc((size_t)st->count * sizeof(const StTensorInfo *));
    if (v == NULL) {
        rc = sim_errorf(err, SIM_ENOMEM, "%s: out of memory indexing %d tensors", st->path,
                        st->count);
        goto out;
    }
    for (int i = 0; i < st->count; i++) v[i] = &st->tensors[i];
    qsort(v, (size_t)st->count, sizeof(const StTensorInfo *), st_cmp_name);
    for (int i = 1; i < st->count; i++) {
        if (strcmp(v[i - 1]->name, v[i]->name) == 0) {
            rc = st_tensor_fail(err, st->path, v[i]->name, "duplicate tensor name");
            goto out;
        }
    }
    /* Overlap: among tensors with at least one byte, sorted by begin, each must start at
     * or after the previous end. Zero-size tensors overlap nothing. */
    int m = 0;
    for (int i = 0; i < st->count; i++)
        if (st->tensors[i].end > st->tensors[i].begin) v[m++] = &st->tensors[i];
    qsort(v, (size_t)m, sizeof(const StTensorInfo *), st_cmp_range);
    for (int i = 1; i < m; i++) {
        if (v[i]->begin < v[i - 1]->end) {
            char other[ST_MSG_NAME_MAX + 1];
            snprintf(other, sizeof other, "%s", v[i - 1]->name);
            rc = st_tensor_fail(err, st->path, v[i]->name,
                                "data_offsets [%" PRIu64 ", %" PRIu64 "] overlap tensor \"%s\" "
                                "[%" PRIu64 ", %" PRIu64 "]",
                                v[i]->begin, v[i]->end, other, v[i - 1]->begin, v[i - 1]->end);
            goto out;
        }
    }
out:
    free(v);
    return rc;
}

/* Parses and validates st->mem (len bytes) into st->tensors. */
static SimStatus st_parse(SafeTensors *st, size_t len, SimError *err) {
    SimStatus rc = SIM_OK;
    char *hdr = NULL;
    cJSON *root = NULL;
    const char *path = st->path;

    if (len < 8) {
        rc = sim_errorf(err, SIM_EINVAL,
                        "%s: file is %zu bytes, shorter than the 8-byte header length field",
                        path, len);
        goto out;
    }
    uint64_t n = st_load_le64(st->mem);
    if (n == 0) {
        rc = sim_errorf(err, SIM_EINVAL, "%s: header length is 0", path);
        goto out;
    }
    if (n > ST_MAX_HEADER) {
        rc = sim_errorf(err, SIM_EINVAL,
                        "%s: header length %" PRIu64 " is absurd (more than %" PRIu64
                        " bytes; file size %zu)",
                        path, n, ST_MAX_HEADER, len);
        goto out;
    }
    if (n > (uint64_t)len - 8) {
        rc = sim_errorf(err, SIM_EINVAL,
                        "%s: header length %" PRIu64 " runs past the end of the file: 8+%" PRIu64
                        " = %" PRIu64 " > file size %zu",
                        path, n, n, n + 8, len);
        goto out;
    }

    /* Parse a NUL-terminated copy so no cJSON path can read past the header. */
    size_t hn = (size_t)n;
    hdr = malloc(hn + 1);
    if (hdr == NULL) {
        rc = sim_errorf(err, SIM_ENOMEM, "%s: out of memory copying a %zu-byte header", path, hn);
        goto out;
    }
    memcpy(hdr, st->mem + 8, hn);
    hdr[hn] = '\0';
    const char *end = NULL;
    root = cJSON_ParseWithLengthOpts(hdr, hn, &end, 0);
    if (root == NULL) {
        size_t at = end != NULL && end >= hdr && end <= hdr + hn ? (size_t)(end - hdr) : 0;
        rc = sim_errorf(err, SIM_EINVAL,
                        "%s: header is not valid JSON (error near header byte %zu of %zu)", path,
                        at, hn);
        goto out;
    }
    for (const char *p = end; p < hdr + hn; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            rc = sim_errorf(err, SIM_EINVAL,
                            "%s: header has bytes after the JSON object (header byte %zu of %zu)",
                            path, (size_t)(p - hdr), hn);
            goto out;
        }
    }
    if (!cJSON_IsObject(root)) {
        rc = sim_errorf(err, SIM_EINVAL, "%s: header is %s, not a JSON object", path,
                        st_json_type(root));
        goto out;
    }

    size_t count = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, root) {
        if (e->string == NULL || strcmp(e->string, "__metadata__") != 0) count++;
    }
    if (count > (size_t)INT_MAX) {
        rc = sim_errorf(err, SIM_EINVAL, "%s: header has %zu tensors, too many", path, count);
        goto out;
    }
    st->tensors = calloc(count ? count : 1, sizeof *st->tensors);
    if (st->tensors == NULL) {
        rc = sim_errorf(err, SIM_ENOMEM, "%s: out of memory for %zu tensor entries", path, count);
        goto out;
    }
    cJSON_ArrayForEach(e, root) {
        /* __metadata__ (a string map) is not a tensor: skip it whatever it holds */
        const char *key = e->string != NULL ? e->string : ""; /* cJSON always sets it */
        if (strcmp(key, "__metadata__") == 0) continue;
        StTensorInfo *t = &st->tensors[st->count];
        rc = st_parse_entry(e, path, key, 8 + n, len, t, err);
        if (rc != SIM_OK) goto out;
        size_t nl = strlen(key);
        t->name = malloc(nl + 1);
        if (t->name == NULL) {
            rc = sim_errorf(err, SIM_ENOMEM, "%s: out of memory copying tensor names", path);
            goto out;
        }
        memcpy(t->name, key, nl + 1);
        st->count++;
    }
    rc = st_check_set(st, err);
    if (rc != SIM_OK) goto out;

    /* The data buffer starts at 8+N. Writers pad N so this is a multiple of 8; when it is
     * not, move the data down (over header bytes no longer needed) so st_data is 8-byte
     * aligned relative to malloc's alignment. */
    size_t data_off = 8 + hn;
    st->data_len = (uint64_t)(len - data_off);
    if (data_off % 8 != 0) {
        size_t aligned = data_off & ~(size_t)7;
        memmove(st->mem + aligned, st->mem + data_off, len - data_off);
        data_off = aligned;
    }
    st->data = st->mem + data_off;
out:
    cJSON_Delete(root);
    free(hdr);
    return rc;
}

/* Takes ownership of mem (len bytes of file contents) and builds a handle. */
static SimStatus st_from_memory(unsigned char *mem, size_t len, const char *name,
                                SafeTensors **out, SimError *err) {
    SimStatus rc;
    SafeTensors *st = calloc(1, sizeof *st);
    if (st == NULL) {
        free(mem);
        return sim_errorf(err, SIM_ENOMEM, "%s: out of memory allocating a handle", name);
    }
    st->mem = mem;
    size_t nl = strlen(name);
    st->path = malloc(nl + 1);
    if (st->path == NULL) {
        rc = sim_errorf(err, SIM_ENOMEM, "%s: out of memory copying the path", name);
        goto out;
    }
    memcpy(st->path, name, nl + 1);
    rc = st_parse(st, len, err);
out:
    if (rc != SIM_OK) {
        st_close(st);
        st = NULL;
    }
    *out = st;
    return rc;
}

/* Reads all of path into a malloc'd buffer. */
static SimStatus st_read_file(const char *path, unsigned char **out, size_t *out_len,
                              SimError *err) {
    SimStatus rc = SIM_OK;
    unsigned char *buf = NULL;
    size_t len = 0, cap = 4096;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        rc = sim_errorf(err, SIM_EINVAL, "%s: cannot open: %s", path, strerror(errno));
        goto out;
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0 &&
        (uintmax_t)sb.st_size < (uintmax_t)SIZE_MAX)
        cap = (size_t)sb.st_size + 1; /* +1 so EOF is seen without growing */
    buf = malloc(cap);
    if (buf == NULL) goto nomem;
    for (;;) {
        if (len == cap) {
            if (cap > SIZE_MAX / 2) goto nomem;
            unsigned char *nb = realloc(buf, cap * 2);
            if (nb == NULL) goto nomem;
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0 || len < cap) {
            if (ferror(f)) {
                rc = sim_errorf(err, SIM_EINVAL, "%s: cannot read: %s", path, strerror(errno));
                goto out;
            }
            if (feof(f)) break;
        }
    }
    goto out;
nomem:
    rc = sim_errorf(err, SIM_ENOMEM, "%s: out of memory reading the file (%zu bytes so far)",
                    path, len);
out:
    if (f != NULL) fclose(f);
    if (rc != SIM_OK) {
        free(buf);
        buf = NULL;
        len = 0;
    }
    *out = buf;
    *out_len = len;
    return rc;
}

/* If err already holds an error, returns it at once (the first error sticks). */
SimStatus st_open(const char *path, SafeTensors **out, SimError *err) {
    *out = NULL;
    if (err != NULL && err->code != SIM_OK) return err->code;
    if (path == NULL) return sim_errorf(err, SIM_EINVAL, "(null): cannot open: no path given");
    unsigned char *mem;
    size_t len;
    SimStatus rc = st_read_file(path, &mem, &len, err);
    if (rc != SIM_OK) return rc;
    return st_from_memory(mem, len, path, out, err);
}

SimStatus st_open_buffer(const void *buf, size_t len, const char *name, SafeTensors **out,
                         SimError *err) {
    *out = NULL;
    if (name == NULL) name = "<buffer>";
    if (err != NULL && err->code != SIM_OK) return err->code;
    if (buf == NULL && len > 0)
        return sim_errorf(err, SIM_EINVAL, "%s: NULL buffer of %zu bytes", name, len);
    unsigned char *mem = malloc(len ? len : 1);
    if (mem == NULL)
        return sim_errorf(err, SIM_ENOMEM, "%s: out of memory copying %zu bytes", name, len);
    if (len > 0) memcpy(mem, buf, len);
    return st_from_memory(mem, len, name, out, err);
}

void st_close(SafeTensors *st) {
    if (st == NULL) return;
    if (st->tensors != NULL)
        for (int i = 0; i < st->count; i++) free(st->tensors[i].name);
    free(st->tensors);
    free(st->mem);
    free(st->path);
    free(st);
}

int st_count(const SafeTensors *st) { return st ? st->count : 0; }

const StTensorInfo *st_get(const SafeTensors *st, int i) {
    if (st == NULL || i < 0 || i >= st->count) return NULL;
    return &st->tensors[i];
}

const StTensorInfo *st_find(const SafeTensors *st, const char *name) {
    if (st == NULL || name == NULL) return NULL;
    for (int i = 0; i < st->count; i++)
        if (strcmp(st->tensors[i].name, name) == 0) return &st->tensors[i];
    return NULL;
}

/* The data buffer is 8-byte aligned, so the pointer is aligned to the element size when
 * begin is a multiple of it (always true for files from st_write and for the usual
 * writers, but not checked: a file with odd offsets is valid, read it with memcpy). */
const void *st_data(const SafeTensors *st, const StTensorInfo *t) {
    if (st == NULL || t == NULL || t->begin > t->end || t->end > st->data_len) return NULL;
    return st->data + t->begin;
}

const char *st_path(const SafeTensors *st) { return st ? st->path : NULL; }

/* ---- writer ---- */

static int st_cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Validates the items and computes each one's byte size into nbytes[i]. */
static SimStatus st_write_check(const char *path, const StWriteItem *items, int n,
                                uint64_t *nbytes, SimError *err) {
    SimStatus rc = SIM_OK;
    const char **names = NULL;
    uint64_t total = 0;
    for (int i = 0; i < n; i++) {
        const StWriteItem *it = &items[i];
        if (it->name == NULL || it->name[0] == '\0')
            return sim_errorf(err, SIM_EINVAL, "%s: tensor #%d: empty name", path, i);
        if (strcmp(it->name, "__metadata__") == 0)
            return st_tensor_fail(err, path, it->name, "name is reserved for metadata");
        if ((int)it->dtype < 0 || it->dtype >= ST_DTYPE_COUNT)
            return st_tensor_fail(err, path, it->name, "dtype %d is not a StDtype",
                                  (int)it->dtype);
        if (it->ndim < 0 || it->ndim > ST_MAX_DIMS)
            return st_tensor_fail(err, path, it->name, "ndim %d outside 0..%d", it->ndim,
                                  ST_MAX_DIMS);
        uint64_t numel = 1;
        for (int d = 0; d < it->ndim; d++) {
            int64_t dim = it->shape[d];
            if (dim < 0)
                return st_tensor_fail(err, path, it->name, "shape[%d] = %" PRId64 " is negative",
                                      d, dim);
            if (__builtin_mul_overflow(numel, (uint64_t)dim, &numel) || numel > ST_MAX_JSON_INT)
                return st_tensor_fail(err, path, it->name, "shape[%d] = %" PRId64
                                      " makes the tensor too large", d, dim);
        }
        if (__builtin_mul_overflow(numel, (uint64_t)st_dtype_size(it->dtype), &nbytes[i]) ||
            __builtin_add_overflow(total, nbytes[i], &total) || total > ST_MAX_JSON_INT)
            return st_tensor_fail(err, path, it->name, "the data would exceed 2^53 bytes");
        if (nbytes[i] > 0 && it->data == NULL)
            return st_tensor_fail(err, path, it->name, "data is NULL for %" PRIu64 " bytes",
                                  nbytes[i]);
    }
    if (n < 2) return SIM_OK;
    /* duplicate names would make a file the reader rejects */
    names = malloc((size_t)n * sizeof *names);
    if (names == NULL) {
        rc = sim_errorf(err, SIM_ENOMEM, "%s: out of memory checking %d names", path, n);
        goto out;
    }
    for (int i = 0; i < n; i++) names[i] = items[i].name;
    qsort(names, (size_t)n, sizeof *names, st_cmp_str);
    for (int i = 1; i < n; i++) {
        if (strcmp(names[i - 1], names[i]) == 0) {
            rc = st_tensor_fail(err, path, names[i], "duplicate tensor name");
            goto out;
        }
    }
out:
    free(names);
    return rc;
}

/* Builds the JSON header text (caller frees with cJSON_free), NULL when out of memory. */
static char *st_write_header(const StWriteItem *items, int n, const uint64_t *nbytes) {
    char *text = NULL;
    cJSON *root = cJSON_CreateObject();
    if (root == NULL) goto out;
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        cJSON *e = cJSON_CreateObject();
        if (e == NULL) goto out;
        if (!cJSON_AddItemToObject(root, items[i].name, e)) {
            cJSON_Delete(e);
            goto out;
        }
        if (cJSON_AddStringToObject(e, "dtype", st_dtype_name(items[i].dtype)) == NULL) goto out;
        cJSON *shape = cJSON_AddArrayToObject(e, "shape");
        if (shape == NULL) goto out;
        for (int d = 0; d < items[i].ndim; d++) {
            /* dims are <= 2^53 (checked), so the double is exact */
            cJSON *x = cJSON_CreateNumber((double)items[i].shape[d]);
            if (x == NULL || !cJSON_AddItemToArray(shape, x)) {
                cJSON_Delete(x);
                goto out;
            }
        }
        cJSON *offs = cJSON_AddArrayToObject(e, "data_offsets");
        if (offs == NULL) goto out;
        double b = (double)off, en = (double)(off + nbytes[i]);
        cJSON *xb = cJSON_CreateNumber(b);
        if (xb == NULL || !cJSON_AddItemToArray(offs, xb)) {
            cJSON_Delete(xb);
            goto out;
        }
        cJSON *xe = cJSON_CreateNumber(en);
        if (xe == NULL || !cJSON_AddItemToArray(offs, xe)) {
            cJSON_Delete(xe);
            goto out;
        }
        off += nbytes[i];
    }
    text = cJSON_PrintUnformatted(root);
out:
    cJSON_Delete(root);
    return text;
}

/* Writes the file to a temporary "PATH.tmpXXXXXX", fsyncs it and renames it over path.
 * Errors: SIM_EINVAL for bad items (nothing is created), SIM_ENOMEM, SIM_EIO "PATH: write
 * failed: ..." (the temporary file is removed, path is left as it was). */
SimStatus st_write(const char *path, const StWriteItem *items, int n, SimError *err) {
    SimStatus rc = SIM_OK;
    uint64_t *nbytes = NULL;
    char *json = NULL, *tmp = NULL;
    FILE *f = NULL;
    int fd = -1, tmp_made = 0;

    if (err != NULL && err->code != SIM_OK) return err->code;
    if (path == NULL || path[0] == '\0')
        return sim_errorf(err, SIM_EINVAL, "(null): cannot write: no path given");
    if (n < 0 || (n > 0 && items == NULL))
        return sim_errorf(err, SIM_EINVAL, "%s: cannot write %d tensors from %p", path, n,
                          (const void *)items);
    nbytes = calloc(n > 0 ? (size_t)n : 1, sizeof *nbytes);
    if (nbytes == NULL) {
        rc = sim_errorf(err, SIM_ENOMEM, "%s: out of memory for %d tensor sizes", path, n);
        goto out;
    }
    rc = st_write_check(path, items, n, nbytes, err);
    if (rc != SIM_OK) goto out;
    json = st_write_header(items, n, nbytes);
    if (json == NULL) {
        rc = sim_errorf(err, SIM_ENOMEM, "%s: out of memory building the header", path);
        goto out;
    }

    /* header padded with spaces so the data buffer starts at a multiple of 8 */
    size_t jl = strlen(json);
    size_t hn = ((8 + jl + 7) & ~(size_t)7) - 8;
    unsigned char lenbuf[8];
    for (int i = 0; i < 8; i++) lenbuf[i] = (unsigned char)((uint64_t)hn >> (8 * i));
    static const char spaces[] = "        ";

    size_t pl = strlen(path);
    tmp = malloc(pl + sizeof ".tmpXXXXXX");
    if (tmp == NULL) {
        rc = sim_errorf(err, SIM_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, ".tmpXXXXXX", sizeof ".tmpXXXXXX");
    fd = mkstemp(tmp);
    if (fd < 0) goto io_fail;
    tmp_made = 1;
    if (fchmod(fd, 0644) != 0) goto io_fail; /* mkstemp makes 0600 */
    f = fdopen(fd, "wb");
    if (f == NULL) goto io_fail;
    fd = -1; /* owned by f now */
    if (fwrite(lenbuf, 1, 8, f) != 8) goto io_fail;
    if (fwrite(json, 1, jl, f) != jl) goto io_fail;
    if (hn > jl && fwrite(spaces, 1, hn - jl, f) != hn - jl) goto io_fail;
    for (int i = 0; i < n; i++) {
        if (nbytes[i] == 0) continue;
        if (fwrite(items[i].data, 1, (size_t)nbytes[i], f) != (size_t)nbytes[i]) goto io_fail;
    }
    if (fflush(f) != 0) goto io_fail;
    if (fsync(fileno(f)) != 0) goto io_fail;
    int close_rc = fclose(f);
    f = NULL;
    if (close_rc != 0) goto io_fail;
    if (rename(tmp, path) != 0) goto io_fail;
    tmp_made = 0;
    goto out;

io_fail:
    rc = sim_errorf(err, SIM_EIO, "%s: write failed: %s", path, strerror(errno ? errno : EIO));
out:
    if (f != NULL) fclose(f);
    if (fd >= 0) close(fd);
    if (tmp_made) unlink(tmp);
    free(tmp);
    cJSON_free(json);
    free(nbytes);
    return rc;
}
