/*
 * safetensors.h - reading and writing safetensors files.
 *
 * Format: u64 little-endian header length N, N bytes of JSON
 * {"name": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}, ..., "__metadata__": {..}},
 * then the data buffer; offsets are relative to 8+N. The reader validates everything
 * before any tensor is handed out: header length within the file, JSON well formed,
 * known dtypes, shapes whose byte size equals e-b, offsets inside the buffer, and no two
 * tensors overlapping. Every failure is SIM_EINVAL with a one-line message naming the
 * file and the tensor or field.
 */
#ifndef LTSIM_SAFETENSORS_H
#define LTSIM_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

typedef enum {
    ST_F32 = 0,
    ST_I64,
    ST_F16,
    ST_BF16,
    ST_F64,
    ST_I32,
    ST_I16,
    ST_I8,
    ST_U8,
    ST_BOOL,
    ST_DTYPE_COUNT
} StDtype;

#define ST_MAX_DIMS 8

typedef struct {
    char *name;                   /* owned by the SafeTensors handle */
    StDtype dtype;
    int ndim;                     /* 0..ST_MAX_DIMS */
    int64_t shape[ST_MAX_DIMS];
    uint64_t begin, end;          /* byte offsets into the data buffer */
} StTensorInfo;

typedef struct SafeTensors SafeTensors;

/* Reads and validates the whole file. On success *out owns the file's contents.
 * On failure returns SIM_EINVAL (bad file: missing, unreadable, malformed) or
 * SIM_ENOMEM, with err naming path and the offending tensor or field. */
SimStatus st_open(const char *path, SafeTensors **out, SimError *err);

/* Same as st_open on a buffer already in memory (copied); name is used in messages.
 * Used by the fuzz target. */
SimStatus st_open_buffer(const void *buf, size_t len, const char *name, SafeTensors **out,
                         SimError *err);

void st_close(SafeTensors *st);

int st_count(const SafeTensors *st);
const StTensorInfo *st_get(const SafeTensors *st, int i); /* in file-header order */
const StTensorInfo *st_find(const SafeTensors *st, const char *name); /* NULL if absent */
const void *st_data(const SafeTensors *st, const StTensorInfo *t); /* begin of its bytes */
const char *st_path(const SafeTensors *st);

/* Element size in bytes of a dtype, and its safetensors spelling ("F32", ...). */
size_t st_dtype_size(StDtype dt);
const char *st_dtype_name(StDtype dt);

/* Number of elements of a tensor (product of its shape; 1 for ndim 0). */
int64_t st_numel(const StTensorInfo *t);

/* One tensor to write. data holds numel*dtype_size bytes, little-endian row-major. */
typedef struct {
    const char *name;
    StDtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    const void *data;
} StWriteItem;

/* Writes a safetensors file atomically (a temporary file in the same directory, fsync,
 * rename), so a failure never leaves a partial file at path. Tensors are written in the
 * given order, back to back, header padded with spaces to a multiple of 8.
 * Returns SIM_EIO (with path and strerror) on a write failure. */
SimStatus st_write(const char *path, const StWriteItem *items, int n, SimError *err);

#endif
