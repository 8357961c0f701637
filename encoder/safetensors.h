/* safetensors files: validated zero-copy reading (mmap) and atomic writing.
 *
 * Format: 8-byte little-endian header length N, N bytes of UTF-8 JSON
 *   {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
 *    "__metadata__": {"key": "value", ..}}
 * then the data, row-major little-endian, offsets relative to the end of the
 * header, end exclusive.
 *
 * kge_st_open() rejects (KGE_EINPUT, message naming the file and tensor):
 * a file shorter than 8 bytes, a header over KGE_ST_MAX_HEADER bytes or past
 * the end of the file, JSON that is not an object (or has duplicate names),
 * an unknown dtype, a shape that is not a list of non-negative integers,
 * offsets out of the data area, end < begin, overlapping tensors, and a byte
 * size that is not product(shape) * sizeof(dtype).
 */
#ifndef KGE_SAFETENSORS_H
#define KGE_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "encoder/kge_err.h"

#define KGE_ST_MAX_HEADER (100u * 1024u * 1024u)
#define KGE_ST_MAX_DIMS 8

typedef enum kge_dtype {
    KGE_DT_F32, KGE_DT_F16, KGE_DT_BF16, KGE_DT_F64,
    KGE_DT_I64, KGE_DT_I32, KGE_DT_I16, KGE_DT_I8, KGE_DT_U8, KGE_DT_BOOL,
    KGE_DT_COUNT_
} kge_dtype;

/* "F32", "BF16", … ; NULL for an invalid value. */
const char *kge_dtype_name(kge_dtype dt);
/* Bytes per element (0 for an invalid value). */
size_t kge_dtype_size(kge_dtype dt);

typedef struct kge_st_tensor {
    const char *name;
    kge_dtype   dtype;
    int         ndim;
    int64_t     shape[KGE_ST_MAX_DIMS];
    size_t      nelem;     /* product of shape (1 for a scalar) */
    size_t      nbytes;    /* nelem * kge_dtype_size(dtype) */
    const void *data;      /* into the mapping; may be unaligned */
} kge_st_tensor;

typedef struct kge_st kge_st;

/* Maps and validates path. *out is NULL on failure.
 * Errors: KGE_ENOTFOUND (no such file), KGE_EIO, KGE_EINPUT, KGE_ENOMEM.
 * Cost: O(size of header + n log n) for n tensors; the data is not read. */
int  kge_st_open(const char *path, kge_st **out, kge_err *err);
void kge_st_close(kge_st *st);

/* Tensors in name order. O(1). */
size_t               kge_st_count(const kge_st *st);
const kge_st_tensor *kge_st_at(const kge_st *st, size_t i);
/* The tensor called name, or NULL. O(log n). */
const kge_st_tensor *kge_st_find(const kge_st *st, const char *name);
/* A string value of "__metadata__", or NULL. */
const char *kge_st_metadata(const kge_st *st, const char *key);
/* The path the file was opened with. */
const char *kge_st_path(const kge_st *st);

/* Copies a floating tensor (F32, F16, BF16, F64) into out[t->nelem] as
 * float. Errors: KGE_EINPUT for other dtypes. O(nelem). */
int kge_st_to_f32(const kge_st_tensor *t, float *out, kge_err *err);
/* Copies an integer tensor (I64, I32, I16, I8, U8, BOOL) into out[nelem].
 * Errors: KGE_EINPUT for floating dtypes. O(nelem). */
int kge_st_to_i64(const kge_st_tensor *t, int64_t *out, kge_err *err);

/* Looks up name and checks its shape (ndim values in shape; -1 matches any
 * extent). Errors: KGE_ENOTFOUND naming the tensor, KGE_EINPUT naming the
 * expected and actual shapes. */
int kge_st_expect(const kge_st *st, const char *name, int ndim,
                  const int64_t *shape, const kge_st_tensor **out, kge_err *err);

/* One tensor to write. data holds product(shape) elements of dtype. */
typedef struct kge_st_wtensor {
    const char    *name;
    kge_dtype      dtype;
    int            ndim;
    const int64_t *shape;
    const void    *data;
} kge_st_wtensor;

/* Writes n tensors (names must be distinct and not "__metadata__") and the
 * metadata pairs meta[0..2*nmeta) (key, value, key, value…) to path,
 * atomically: a temporary file beside path is written, flushed and renamed
 * over it, so readers see the old file or the new one, never a mixture.
 * The header is padded with spaces to a multiple of 8 bytes so that the
 * data of every tensor whose offset allows it is aligned.
 * Errors: KGE_EUSAGE (bad names/dtype/shape), KGE_EIO, KGE_ENOMEM.
 * Cost: O(total bytes). */
int kge_st_write(const char *path, const kge_st_wtensor *ts, size_t n,
                 const char *const *meta, size_t nmeta, kge_err *err);

/* IEEE half and bfloat16 to float. */
float kge_f16_to_f32(uint16_t h);
float kge_bf16_to_f32(uint16_t h);

#endif
