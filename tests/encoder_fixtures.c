/* Helpers shared by the encoder check suites (see encoder_fixtures.h). */
#include "tests/encoder_fixtures.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "tests/testutil.h"

float *ef_load_f32(const kge_st *st, const char *name, size_t *n)
{
    const kge_st_tensor *t = kge_st_find(st, name);
    ck_assert_msg(t != NULL, "missing %s", name);
    float *v = malloc(t->nelem * sizeof *v);
    ck_assert_int_eq(kge_st_to_f32(t, v, NULL), KGE_OK);
    if (n) *n = t->nelem;
    return v;
}

int64_t *ef_load_i64(const kge_st *st, const char *name, size_t *n)
{
    const kge_st_tensor *t = kge_st_find(st, name);
    ck_assert_msg(t != NULL, "missing %s", name);
    int64_t *v = malloc(t->nelem * sizeof *v);
    ck_assert_int_eq(kge_st_to_i64(t, v, NULL), KGE_OK);
    if (n) *n = t->nelem;
    return v;
}

kge_st *ef_open_fixture(const char *rel)
{
    char *p = tu_path(tu_shared_dir(), rel);
    kge_st *st = NULL;
    kge_err e = {0};
    ck_assert_msg(kge_st_open(p, &st, &e) == KGE_OK, "%s", e.msg);
    free(p);
    return st;
}

void ef_assert_close(const float *got, const float *want, size_t n, float tol, const char *what)
{
    float worst = 0.0f;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        float d = fabsf(got[i] - want[i]);
        if (!(d <= worst)) { worst = d; at = i; }
    }
    ck_assert_msg(worst <= tol, "%s: |diff| %g at %zu (got %g, want %g)", what, worst, at, got[at], want[at]);
}

ef_batch ef_batch_from(const kge_st *st)
{
    ef_batch b = {0};
    const kge_st_tensor *t = kge_st_find(st, "input_ids");
    ck_assert(t && t->ndim == 2);
    b.B = (int)t->shape[0];
    b.T = (int)t->shape[1];
    size_t n;
    int64_t *ids = ef_load_i64(st, "input_ids", &n), *ty = ef_load_i64(st, "token_type_ids", NULL),
            *mk = ef_load_i64(st, "attention_mask", NULL);
    b.ids = malloc(n * sizeof *b.ids);
    b.types = malloc(n * sizeof *b.types);
    b.mask = malloc(n);
    for (size_t i = 0; i < n; i++) {
        b.ids[i] = (int32_t)ids[i];
        b.types[i] = (int32_t)ty[i];
        b.mask[i] = (uint8_t)mk[i];
    }
    free(ids);
    free(ty);
    free(mk);
    return b;
}

void ef_batch_free(ef_batch *b)
{
    free(b->ids);
    free(b->types);
    free(b->mask);
}
