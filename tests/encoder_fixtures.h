/* Helpers shared by the encoder check suites: reading reference tensors
 * from the safetensors fixtures under ../shared and comparing floats.
 * Every helper fails the running check test (ck_assert) on error, so it
 * may only be called from inside a test. */
#ifndef KG_ENCODER_FIXTURES_H
#define KG_ENCODER_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

#include "encoder/safetensors.h"

/* Tensor name of st as a malloc'ed float array (any stored dtype is
 * converted); *n (if n) receives the element count. Fails the test when the
 * tensor is missing or does not convert. O(elements). */
float *ef_load_f32(const kge_st *st, const char *name, size_t *n);

/* The same as ef_load_f32, as int64 values. */
int64_t *ef_load_i64(const kge_st *st, const char *name, size_t *n);

/* Opens the fixture at rel, a path relative to tu_shared_dir(); the caller
 * closes it (kge_st_close). Fails the test when it does not open; the
 * caller checks that the shared folder exists first. */
kge_st *ef_open_fixture(const char *rel);

/* Fails the test unless |got[i] - want[i]| <= tol for every i < n (a NaN
 * difference fails); the message names what and the worst element. O(n). */
void ef_assert_close(const float *got, const float *want, size_t n, float tol, const char *what);

/* A token batch of B rows of T tokens (row-major), as the encoder takes it. */
typedef struct ef_batch {
    int B, T;
    int32_t *ids, *types;
    uint8_t *mask;
} ef_batch;

/* The batch stored in st as the int64 tensors "input_ids" [B, T],
 * "token_type_ids" and "attention_mask"; free it with ef_batch_free. */
ef_batch ef_batch_from(const kge_st *st);

/* Frees the arrays of b (not b itself). */
void ef_batch_free(ef_batch *b);

#endif
