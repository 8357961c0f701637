/* safetensors: round trip, dtype conversion, and every corruption the
 * reader must reject with a clear message. */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoder/safetensors.h"
#include "tests/testutil.h"

static char *dir;

static void setup(void) { dir = tu_mkdtemp(); }
static void teardown(void) { tu_rmrf(dir); free(dir); }

/* Writes an 8-byte length, the header text and nbytes of data. */
static char *raw_file(const char *name, uint64_t hlen_override, const char *hdr, size_t nbytes)
{
    char *p = tu_path(dir, name);
    size_t hl = strlen(hdr), tot = 8 + hl + nbytes;
    char *buf = calloc(1, tot);
    uint64_t hlen = hlen_override ? hlen_override : hl;
    for (int i = 0; i < 8; i++) buf[i] = (char)(hlen >> (8 * i));
    memcpy(buf + 8, hdr, hl);
    for (size_t i = 0; i < nbytes; i++) buf[8 + hl + i] = (char)i;
    tu_write(p, buf, tot);
    free(buf);
    return p;
}

static void expect_reject(const char *name, uint64_t hlen, const char *hdr, size_t nbytes,
                          const char *needle)
{
    char *p = raw_file(name, hlen, hdr, nbytes);
    kge_st *st = (kge_st *)1;
    kge_err e = {0};
    int rc = kge_st_open(p, &st, &e);
    ck_assert_msg(rc == KGE_EINPUT, "%s: rc %d (%s)", name, rc, e.msg);
    ck_assert_ptr_null(st);
    ck_assert_msg(strstr(e.msg, needle) != NULL, "%s: message '%s' lacks '%s'", name, e.msg, needle);
    ck_assert_msg(strstr(e.msg, name) != NULL, "%s: message '%s' lacks the path", name, e.msg);
    free(p);
}

START_TEST(roundtrip)
{
    float a[6] = {1, -2, 3.5f, 0, 1e-3f, -7};
    int64_t ids[3] = {-1, 5, 1LL << 40};
    uint16_t h[3] = {0x3c00, 0xc000, 0x0001};      /* 1, -2, smallest subnormal */
    uint16_t bf[2] = {0x3f80, 0x4049};             /* 1, 3.140625 */
    int64_t s23[2] = {2, 3}, s3[1] = {3}, s2[1] = {2};
    kge_st_wtensor ts[] = {
        {"b.weight", KGE_DT_F32, 2, s23, a}, {"a.ids", KGE_DT_I64, 1, s3, ids},
        {"half", KGE_DT_F16, 1, s3, h}, {"bf", KGE_DT_BF16, 1, s2, bf},
        {"scalar", KGE_DT_F32, 0, NULL, a},
    };
    const char *meta[] = {"format", "pt", "what", "test"};
    char *p = tu_path(dir, "x.safetensors");
    kge_err e = {0};
    ck_assert_msg(kge_st_write(p, ts, 5, meta, 2, &e) == KGE_OK, "%s", e.msg);
    kge_st *st = NULL;
    ck_assert_msg(kge_st_open(p, &st, &e) == KGE_OK, "%s", e.msg);
    ck_assert_uint_eq(kge_st_count(st), 5);
    ck_assert_str_eq(kge_st_at(st, 0)->name, "a.ids");      /* name order */
    ck_assert_str_eq(kge_st_metadata(st, "what"), "test");
    ck_assert_ptr_null(kge_st_metadata(st, "nope"));
    const kge_st_tensor *t = kge_st_find(st, "b.weight");
    ck_assert(t && t->dtype == KGE_DT_F32 && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3);
    ck_assert_uint_eq(t->nbytes, 24);
    ck_assert(memcmp(t->data, a, 24) == 0);
    ck_assert_uint_eq(((uintptr_t)t->data - (uintptr_t)kge_st_at(st, 0)->data) % 8, 0);
    float f[6];
    ck_assert_int_eq(kge_st_to_f32(t, f, &e), KGE_OK);
    ck_assert(memcmp(f, a, 24) == 0);
    int64_t got[3];
    ck_assert_int_eq(kge_st_to_i64(kge_st_find(st, "a.ids"), got, &e), KGE_OK);
    ck_assert(got[0] == -1 && got[1] == 5 && got[2] == 1LL << 40);
    ck_assert_int_eq(kge_st_to_f32(kge_st_find(st, "half"), f, &e), KGE_OK);
    ck_assert(f[0] == 1.0f && f[1] == -2.0f && fabsf(f[2] - 5.9604645e-8f) < 1e-12f);
    ck_assert_int_eq(kge_st_to_f32(kge_st_find(st, "bf"), f, &e), KGE_OK);
    ck_assert(f[0] == 1.0f && f[1] == 3.140625f);
    ck_assert_uint_eq(kge_st_find(st, "scalar")->nelem, 1);
    /* wrong-kind conversions */
    ck_assert_int_eq(kge_st_to_f32(kge_st_find(st, "a.ids"), f, &e), KGE_EINPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "a.ids"));
    ck_assert_int_eq(kge_st_to_i64(kge_st_find(st, "half"), got, &e), KGE_EINPUT);
    /* kge_st_expect */
    int64_t want[2] = {2, -1}, wrong[2] = {3, 2};
    ck_assert_int_eq(kge_st_expect(st, "b.weight", 2, want, &t, &e), KGE_OK);
    ck_assert_int_eq(kge_st_expect(st, "b.weight", 2, wrong, &t, &e), KGE_EINPUT);
    ck_assert_msg(strstr(e.msg, "[2, 3]") && strstr(e.msg, "[3, 2]"), "%s", e.msg);
    ck_assert_int_eq(kge_st_expect(st, "c", 1, want, &t, &e), KGE_ENOTFOUND);
    ck_assert_ptr_null(t);
    kge_st_close(st);

    /* overwrite is atomic: no temporary left behind; old readers unaffected */
    ck_assert_int_eq(kge_st_open(p, &st, &e), KGE_OK);
    ck_assert_int_eq(kge_st_write(p, ts, 1, NULL, 0, &e), KGE_OK);
    ck_assert(memcmp(kge_st_find(st, "b.weight")->data, a, 24) == 0);
    kge_st_close(st);
    ck_assert_int_eq(kge_st_open(p, &st, &e), KGE_OK);
    ck_assert_uint_eq(kge_st_count(st), 1);
    kge_st_close(st);
    DIR *d = opendir(dir);
    struct dirent *de;
    int files = 0;
    while ((de = readdir(d))) files += de->d_name[0] != '.';
    closedir(d);
    ck_assert_int_eq(files, 1);
    free(p);
}
END_TEST

START_TEST(write_errors)
{
    float a[2] = {0};
    int64_t s2[1] = {2}, neg[1] = {-1};
    kge_st_wtensor dup[] = {{"x", KGE_DT_F32, 1, s2, a}, {"x", KGE_DT_F32, 1, s2, a}};
    kge_st_wtensor meta[] = {{"__metadata__", KGE_DT_F32, 1, s2, a}};
    kge_st_wtensor bad[] = {{"y", KGE_DT_F32, 1, neg, a}};
    char *p = tu_path(dir, "w.safetensors");
    kge_err e = {0};
    ck_assert_int_eq(kge_st_write(p, dup, 2, NULL, 0, &e), KGE_EUSAGE);
    ck_assert_int_eq(kge_st_write(p, meta, 1, NULL, 0, &e), KGE_EUSAGE);
    ck_assert_int_eq(kge_st_write(p, bad, 1, NULL, 0, &e), KGE_EUSAGE);
    char *q = tu_path(dir, "no/such/dir.safetensors");
    ck_assert_int_eq(kge_st_write(q, dup, 1, NULL, 0, &e), KGE_EIO);
    ck_assert_ptr_nonnull(strstr(e.msg, "no/such/dir"));
    DIR *d = opendir(dir);
    struct dirent *de;
    int files = 0;
    while ((de = readdir(d))) files += de->d_name[0] != '.';
    closedir(d);
    ck_assert_int_eq(files, 0);   /* nothing written */
    free(p);
    free(q);
}
END_TEST

START_TEST(corruption)
{
    kge_st *st = (kge_st *)1;
    kge_err e = {0};
    char *p = tu_path(dir, "missing.safetensors");
    ck_assert_int_eq(kge_st_open(p, &st, &e), KGE_ENOTFOUND);
    ck_assert_ptr_null(st);
    free(p);
    p = tu_path(dir, "short.safetensors");
    tu_write(p, "\x05\0\0", 3);
    ck_assert_int_eq(kge_st_open(p, &st, &e), KGE_EINPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "truncated"));
    free(p);
    /* header length past the end of the file (a truncated file) */
    expect_reject("trunc-hdr.safetensors", 4096, "{}", 0, "truncated");
    /* data cut short: offsets point past the end */
    expect_reject("trunc-data.safetensors", 0,
                  "{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, "out of range");
    expect_reject("huge.safetensors", 200ull * 1024 * 1024, "{}", 0, "limit");
    expect_reject("badjson.safetensors", 0, "{\"x\":", 0, "header JSON");
    expect_reject("array.safetensors", 0, "[1,2]", 0, "not a JSON object");
    expect_reject("dtype.safetensors", 0,
                  "{\"x\":{\"dtype\":\"F99\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "unknown dtype F99");
    expect_reject("size.safetensors", 0,
                  "{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "expected 12");
    expect_reject("wrongdt.safetensors", 0,
                  "{\"x\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "expected 16");
    expect_reject("reversed.safetensors", 0,
                  "{\"x\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[8,4]}}", 8, "out of range");
    expect_reject("overlap.safetensors", 0,
                  "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                  "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlap");
    expect_reject("dup.safetensors", 0,
                  "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                  "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "duplicate");
    expect_reject("shape.safetensors", 0,
                  "{\"x\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "shape[0]");
    expect_reject("offs.safetensors", 0,
                  "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, "data_offsets");
    expect_reject("meta.safetensors", 0, "{\"__metadata__\":3}", 0, "__metadata__");
    expect_reject("entry.safetensors", 0, "{\"x\":3}", 0, "not an object");
    expect_reject("ovf.safetensors", 0,
                  "{\"x\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4],\"data_offsets\":[0,4]}}", 4,
                  "overflow");
}
END_TEST

Suite *suite(void);
Suite *suite(void)
{
    Suite *s = suite_create("safetensors");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, roundtrip);
    tcase_add_test(tc, write_errors);
    tcase_add_test(tc, corruption);
    suite_add_tcase(s, tc);
    return s;
}
