/* Nearest rows by cosine similarity: the candidate generator for scans over
 * all pairs of a large graph (kgp_suggest), where scoring every ordered
 * pair with the link decoder costs O(n² · width · C) and a 10,000-concept
 * graph took minutes. Arrays in, arrays out; no model.
 */
#ifndef KGE_NEAREST_H
#define KGE_NEAREST_H

#include <stddef.h>
#include <stdint.h>

#include "encoder/kge_err.h"

/* For each of the nr rows listed in rows (indices into x (n, C)), the k
 * listed rows most similar to it by cosine, itself excluded, best first
 * (ties: the lower index first): out (nr, k) holds row indices into x,
 * UINT32_MAX where fewer than k other rows exist. A zero row is similar
 * to nothing (cosine 0).
 * Errors: KGE_EUSAGE (k or C zero), KGE_ENOMEM (also when an address-space
 * limit leaves no room for the BLAS's buffers, kge_blas_headroom).
 * Cost: O(nr² · C) in blocked sgemm calls plus O(nr² · log k) to select;
 * O(B · nr + nr · C) memory, B = 256 rows per block. */
int kge_nearest_rows(const float *x, size_t C, const uint32_t *rows, size_t nr, size_t k, uint32_t *out,
                     kge_err *err);

#endif
