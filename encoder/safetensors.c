/* safetensors reading (mmap + validated header) and atomic writing. */
#include "encoder/safetensors.h"
#include "encoder/files.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct kge_st {
    char          *path;
    const uint8_t *map;
    size_t         size;
    size_t         n;
    kge_st_tensor *t;        /* sorted by name */
    char          *names;    /* all names, NUL-separated */
    json_t        *meta;     /* "__metadata__" object or NULL */
};

static const struct { const char *name; size_t size; } dtypes[KGE_DT_COUNT_] = {
    [KGE_DT_F32] = {"F32", 4}, [KGE_DT_F16] = {"F16", 2}, [KGE_DT_BF16] = {"BF16", 2},
    [KGE_DT_F64] = {"F64", 8}, [KGE_DT_I64] = {"I64", 8}, [KGE_DT_I32] = {"I32", 4},
    [KGE_DT_I16] = {"I16", 2}, [KGE_DT_I8] = {"I8", 1},   [KGE_DT_U8] = {"U8", 1},
    [KGE_DT_BOOL] = {"BOOL", 1},
};

const char *kge_dtype_name(kge_dtype dt)
{
    return (unsigned)dt < KGE_DT_COUNT_ ? dtypes[dt].name : NULL;
}

size_t kge_dtype_size(kge_dtype dt)
{
    return (unsigned)dt < KGE_DT_COUNT_ ? dtypes[dt].size : 0;
}

static int dtype_parse(const char *s, kge_dtype *out)
{
    for (int i = 0; i < KGE_DT_COUNT_; i++)
        if (strcmp(s, dtypes[i].name) == 0) { *out = (kge_dtype)i; return 0; }
    return -1;
}

float kge_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) bits = sign;
        else {               /* subnormal: normalise */
            exp = 127 - 15 + 1;
            while (!(man & 0x400)) { man <<= 1; exp--; }
            man &= 0x3ff;
            bits = sign | (exp << 23) | (man << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp - 15 + 127) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

float kge_bf16_to_f32(uint16_t h)
{
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static uint64_t rd_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const kge_st_tensor *)a)->name, ((const kge_st_tensor *)b)->name);
}

static int cmp_ptr(const void *a, const void *b)
{
    const kge_st_tensor *x = *(const kge_st_tensor *const *)a;
    const kge_st_tensor *y = *(const kge_st_tensor *const *)b;
    uintptr_t px = (uintptr_t)x->data, py = (uintptr_t)y->data;
    if (px != py) return px < py ? -1 : 1;
    return x->nbytes < y->nbytes ? -1 : x->nbytes > y->nbytes;
}

/* Reads a JSON integer >= 0 into *out. */
static int json_uint(json_t *v, uint64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0) return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

/* Validates one header entry and fills t (name set by caller). */
static int parse_entry(kge_st *st, const char *path, const char *name, json_t *v,
                       const uint8_t *data, uint64_t data_len, kge_st_tensor *t,
                       kge_err *err)
{
    if (!json_is_object(v))
        return kge_fail(err, KGE_EINPUT, "%s: tensor '%s': entry is not an object", path, name);
    json_t *jd = json_object_get(v, "dtype"), *js = json_object_get(v, "shape"),
           *jo = json_object_get(v, "data_offsets");
    if (!json_is_string(jd) || dtype_parse(json_string_value(jd), &t->dtype) != 0)
        return kge_fail(err, KGE_EINPUT, "%s: tensor '%s': unknown dtype %s", path, name,
                        json_is_string(jd) ? json_string_value(jd) : "(missing)");
    if (!json_is_array(js) || json_array_size(js) > KGE_ST_MAX_DIMS)
        return kge_fail(err, KGE_EINPUT, "%s: tensor '%s': shape must be a list of at most %d integers",
                        path, name, KGE_ST_MAX_DIMS);
    t->ndim = (int)json_array_size(js);
    uint64_t nelem = 1;
    for (int i = 0; i < t->ndim; i++) {
        uint64_t d;
        if (json_uint(json_array_get(js, (size_t)i), &d) != 0)
            return kge_fail(err, KGE_EINPUT, "%s: tensor '%s': shape[%d] is not a non-negative integer",
                            path, name, i);
        if (d && nelem > UINT64_MAX / d)
            return kge_fail(err, KGE_EINPUT, "%s: tensor '%s': shape overflows", path, name);
        nelem *= d;
        t->shape[i] = (int64_t)d;
    }
    uint64_t b, e;
    if (!json_is_array(jo) || json_array_size(jo) != 2 ||
        json_uint(json_array_get(jo, 0), &b) != 0 || json_uint(json_array_get(jo, 1), &e) != 0)
        return kge_fail(err, KGE_EINPUT, "%s: tensor '%s': data_offsets must be [begin, end]", path, name);
    if (e < b || e > data_len)
        return kge_fail(err, KGE_EINPUT,
                        "%s: tensor '%s': data_offsets [%llu, %llu] out of range (data is %llu bytes)",
                        path, name, (unsigned long long)b, (unsigned long long)e,
                        (unsigned long long)data_len);
    size_t es = kge_dtype_size(t->dtype);
    if (nelem > UINT64_MAX / es || nelem * es != e - b)
        return kge_fail(err, KGE_EINPUT,
                        "%s: tensor '%s': %llu bytes for %llu elements of %s (expected %llu)",
                        path, name, (unsigned long long)(e - b), (unsigned long long)nelem,
                        kge_dtype_name(t->dtype), (unsigned long long)(nelem * es));
    t->nelem = (size_t)nelem;
    t->nbytes = (size_t)(e - b);
    t->data = data + b;
    (void)st;
    return KGE_OK;
}

int kge_st_open(const char *path, kge_st **out, kge_err *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return kge_fail(err, errno == ENOENT ? KGE_ENOTFOUND : KGE_EIO, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return kge_fail(err, KGE_EIO, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return kge_fail(err, KGE_EINPUT, "%s: not a regular file", path);
    }
    size_t size = (size_t)sb.st_size;
    if (size < 8) {
        close(fd);
        return kge_fail(err, KGE_EINPUT, "%s: truncated safetensors file (%zu bytes, header length needs 8)",
                        path, size);
    }
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    int merr = errno;
    close(fd);
    if (map == MAP_FAILED) return kge_fail(err, KGE_EIO, "%s: mmap: %s", path, strerror(merr));

    kge_st *st = calloc(1, sizeof *st);
    if (!st) { munmap(map, size); return kge_fail(err, KGE_ENOMEM, "out of memory"); }
    st->map = map;
    st->size = size;
    st->path = strdup(path);
    int rc = KGE_OK;
    json_t *root = NULL;
    kge_st_tensor **byoff = NULL;
    if (!st->path) { rc = kge_fail(err, KGE_ENOMEM, "out of memory"); goto fail; }

    uint64_t hlen = rd_le64(st->map);
    if (hlen > KGE_ST_MAX_HEADER) {
        rc = kge_fail(err, KGE_EINPUT, "%s: header length %llu exceeds the %u-byte limit",
                      path, (unsigned long long)hlen, KGE_ST_MAX_HEADER);
        goto fail;
    }
    if (hlen > size - 8) {
        rc = kge_fail(err, KGE_EINPUT, "%s: truncated: header length %llu but only %zu bytes follow",
                      path, (unsigned long long)hlen, size - 8);
        goto fail;
    }
    json_error_t jerr;
    root = json_loadb((const char *)st->map + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        rc = kge_fail(err, KGE_EINPUT, "%s: header JSON, byte %d: %s", path, jerr.position + 8, jerr.text);
        goto fail;
    }
    if (!json_is_object(root)) {
        rc = kge_fail(err, KGE_EINPUT, "%s: header is not a JSON object", path);
        goto fail;
    }
    const uint8_t *data = st->map + 8 + hlen;
    uint64_t data_len = size - 8 - hlen;
    size_t n = json_object_size(root), namebytes = 0;
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) namebytes += strlen(key) + 1;
    st->t = calloc(n ? n : 1, sizeof *st->t);
    st->names = malloc(namebytes ? namebytes : 1);
    byoff = calloc(n ? n : 1, sizeof *byoff);
    if (!st->t || !st->names || !byoff) { rc = kge_fail(err, KGE_ENOMEM, "out of memory"); goto fail; }
    char *np = st->names;
    json_object_foreach(root, key, val) {
        if (strcmp(key, "__metadata__") == 0) {
            if (!json_is_object(val)) {
                rc = kge_fail(err, KGE_EINPUT, "%s: __metadata__ is not an object", path);
                goto fail;
            }
            st->meta = json_incref(val);
            continue;
        }
        kge_st_tensor *t = &st->t[st->n];
        size_t kl = strlen(key) + 1;
        memcpy(np, key, kl);
        t->name = np;
        np += kl;
        if ((rc = parse_entry(st, path, key, val, data, data_len, t, err)) != KGE_OK) goto fail;
        byoff[st->n] = t;
        st->n++;
    }
    /* Overlap: sorted by start, each must begin at or after the previous end. */
    qsort(byoff, st->n, sizeof *byoff, cmp_ptr);
    for (size_t i = 1; i < st->n; i++) {
        const kge_st_tensor *a = byoff[i - 1], *b = byoff[i];
        if (a->nbytes && b->nbytes && (const uint8_t *)b->data < (const uint8_t *)a->data + a->nbytes) {
            rc = kge_fail(err, KGE_EINPUT, "%s: tensors '%s' and '%s' overlap", path, a->name, b->name);
            goto fail;
        }
    }
    free(byoff);
    byoff = NULL;
    qsort(st->t, st->n, sizeof *st->t, cmp_name);
    json_decref(root);
    *out = st;
    return KGE_OK;
fail:
    free(byoff);
    json_decref(root);
    kge_st_close(st);
    return rc;
}

void kge_st_close(kge_st *st)
{
    if (!st) return;
    if (st->map) munmap((void *)st->map, st->size);
    json_decref(st->meta);
    free(st->t);
    free(st->names);
    free(st->path);
    free(st);
}

size_t kge_st_count(const kge_st *st) { return st->n; }
const char *kge_st_path(const kge_st *st) { return st->path; }

const kge_st_tensor *kge_st_at(const kge_st *st, size_t i)
{
    return i < st->n ? &st->t[i] : NULL;
}

const kge_st_tensor *kge_st_find(const kge_st *st, const char *name)
{
    kge_st_tensor key = {.name = name};
    return bsearch(&key, st->t, st->n, sizeof *st->t, cmp_name);
}

const char *kge_st_metadata(const kge_st *st, const char *key)
{
    return st->meta ? json_string_value(json_object_get(st->meta, key)) : NULL;
}

int kge_st_to_f32(const kge_st_tensor *t, float *out, kge_err *err)
{
    const uint8_t *p = t->data;
    switch (t->dtype) {
    case KGE_DT_F32:
        memcpy(out, p, t->nbytes);
        return KGE_OK;
    case KGE_DT_F16:
    case KGE_DT_BF16:
        for (size_t i = 0; i < t->nelem; i++) {
            uint16_t h = (uint16_t)(p[2 * i] | (p[2 * i + 1] << 8));
            out[i] = t->dtype == KGE_DT_F16 ? kge_f16_to_f32(h) : kge_bf16_to_f32(h);
        }
        return KGE_OK;
    case KGE_DT_F64:
        for (size_t i = 0; i < t->nelem; i++) {
            double d;
            memcpy(&d, p + 8 * i, 8);
            out[i] = (float)d;
        }
        return KGE_OK;
    default:
        return kge_fail(err, KGE_EINPUT, "tensor '%s': dtype %s is not floating point",
                        t->name, kge_dtype_name(t->dtype));
    }
}

int kge_st_to_i64(const kge_st_tensor *t, int64_t *out, kge_err *err)
{
    const uint8_t *p = t->data;
    for (size_t i = 0; i < t->nelem; i++) {
        switch (t->dtype) {
        case KGE_DT_I64: memcpy(&out[i], p + 8 * i, 8); break;
        case KGE_DT_I32: { int32_t v; memcpy(&v, p + 4 * i, 4); out[i] = v; break; }
        case KGE_DT_I16: { int16_t v; memcpy(&v, p + 2 * i, 2); out[i] = v; break; }
        case KGE_DT_I8:  out[i] = (int8_t)p[i]; break;
        case KGE_DT_U8:
        case KGE_DT_BOOL: out[i] = p[i]; break;
        default:
            return kge_fail(err, KGE_EINPUT, "tensor '%s': dtype %s is not an integer type",
                            t->name, kge_dtype_name(t->dtype));
        }
    }
    return KGE_OK;
}

static void shape_str(char *buf, size_t cap, int ndim, const int64_t *shape)
{
    size_t o = 0;
    o += (size_t)snprintf(buf + o, cap - o, "[");
    for (int i = 0; i < ndim && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, i ? ", %lld" : "%lld", (long long)shape[i]);
    if (o < cap) snprintf(buf + o, cap - o, "]");
}

int kge_st_expect(const kge_st *st, const char *name, int ndim, const int64_t *shape,
                  const kge_st_tensor **out, kge_err *err)
{
    const kge_st_tensor *t = kge_st_find(st, name);
    if (out) *out = t;
    if (!t) return kge_fail(err, KGE_ENOTFOUND, "%s: missing tensor '%s'", st->path, name);
    int ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++) ok = shape[i] < 0 || shape[i] == t->shape[i];
    if (!ok) {
        char want[160], got[160];
        shape_str(want, sizeof want, ndim, shape);
        shape_str(got, sizeof got, t->ndim, t->shape);
        return kge_fail(err, KGE_EINPUT, "%s: tensor '%s' has shape %s, expected %s",
                        st->path, name, got, want);
    }
    return KGE_OK;
}

/* ---- writing ------------------------------------------------------------ */

int kge_st_write(const char *path, const kge_st_wtensor *ts, size_t n,
                 const char *const *meta, size_t nmeta, kge_err *err)
{
    json_t *root = json_object();
    char *hdr = NULL;
    kge_chunk *chunks = NULL;
    int rc = KGE_OK;
    if (!root) return kge_fail(err, KGE_ENOMEM, "out of memory");
    if (nmeta) {
        json_t *m = json_object();
        for (size_t i = 0; m && i < nmeta; i++)
            json_object_set_new(m, meta[2 * i], json_string(meta[2 * i + 1] ? meta[2 * i + 1] : ""));
        json_object_set_new(root, "__metadata__", m);
    }
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        const kge_st_wtensor *t = &ts[i];
        size_t es = kge_dtype_size(t->dtype);
        if (!t->name || !*t->name || strcmp(t->name, "__metadata__") == 0 || !es ||
            t->ndim < 0 || t->ndim > KGE_ST_MAX_DIMS || json_object_get(root, t->name)) {
            rc = kge_fail(err, KGE_EUSAGE, "%s: tensor %zu ('%s'): bad or duplicate name, dtype or rank",
                          path, i, t->name ? t->name : "(null)");
            goto out;
        }
        json_t *shape = json_array();
        uint64_t nel = 1;
        for (int d = 0; d < t->ndim; d++) {
            if (t->shape[d] < 0) {
                json_decref(shape);
                rc = kge_fail(err, KGE_EUSAGE, "%s: tensor '%s': negative extent", path, t->name);
                goto out;
            }
            nel *= (uint64_t)t->shape[d];
            json_array_append_new(shape, json_integer(t->shape[d]));
        }
        uint64_t nb = nel * es;
        json_t *e = json_pack("{s:s, s:o, s:[I,I]}", "dtype", kge_dtype_name(t->dtype), "shape", shape,
                              "data_offsets", (json_int_t)off, (json_int_t)(off + nb));
        if (!e || json_object_set_new(root, t->name, e) != 0) {
            rc = kge_fail(err, KGE_ENOMEM, "out of memory");
            goto out;
        }
        off += nb;
    }
    hdr = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!hdr) { rc = kge_fail(err, KGE_ENOMEM, "out of memory"); goto out; }
    size_t hl = strlen(hdr), padded = (hl + 7) & ~(size_t)7;

    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)padded >> (8 * i));
    static const char spaces[8] = "        ";
    chunks = malloc((n + 3) * sizeof *chunks);
    if (!chunks) { rc = kge_fail(err, KGE_ENOMEM, "out of memory"); goto out; }
    chunks[0] = (kge_chunk){len8, 8};
    chunks[1] = (kge_chunk){hdr, hl};
    chunks[2] = (kge_chunk){spaces, padded - hl};
    for (size_t i = 0; i < n; i++) {
        uint64_t nel = 1;
        for (int d = 0; d < ts[i].ndim; d++) nel *= (uint64_t)ts[i].shape[d];
        chunks[3 + i] = (kge_chunk){ts[i].data, (size_t)(nel * kge_dtype_size(ts[i].dtype))};
    }
    rc = kge_write_atomic(path, chunks, n + 3, err);
out:
    free(chunks);
    free(hdr);
    json_decref(root);
    return rc;
}
