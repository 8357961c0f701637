/* Rejected suggestions: the pairs "prereq before concept" a designer has
 * said no to (`kgpath suggest --reject-pairs`), so that `suggest` never
 * proposes them again and training can use them as labelled negatives.
 *
 * Storage: named database "rejected" (listed in graph/store.h's schema),
 * created by the first rejection; a database without it has no
 * rejections, and reading never creates it.
 *   key:   prereq key, a NUL byte, concept key ("course:concept" each; the
 *          whole key at most LMDB's maximum key size, 511 bytes)
 *   value: time (varint unix seconds), score (f64, NaN: none), model
 *          (string), reason (string), encoded as the store's records are
 *          (graph/store.h).
 * Rejections are keyed by concept keys, not ids, and the course writer
 * never touches them: re-importing a course keeps them, and they apply
 * again when a removed concept comes back under the same key. One whose
 * pair is (or later becomes) an edge, or names a concept no longer in the
 * store, stays stored and is ignored by its readers.
 */
#ifndef KGG_STORE_REJECT_H
#define KGG_STORE_REJECT_H

#include <stddef.h>
#include <stdint.h>

#include "graph/store.h"

/* Outcome of one requested pair. */
enum {
    KGG_REJECT_DONE = 0,    /* recorded / removed (or would be, in a dry run) */
    KGG_REJECT_UNKNOWN,     /* an endpoint is not a concept of the store (add only) */
    KGG_REJECT_SELF,        /* prereq == concept */
    KGG_REJECT_EDGE,        /* prereq -> concept is already a requirement or a recommended edge */
    KGG_REJECT_DUPLICATE,   /* the same pair earlier in the request */
    KGG_REJECT_ALREADY,     /* add: already rejected; the stored record is kept (not an error) */
    KGG_REJECT_TOO_LONG,    /* the two keys do not fit in one LMDB key */
    KGG_REJECT_ABSENT       /* remove: the pair is not rejected */
};

typedef struct kgg_reject {
    const char *prereq;     /* "course:concept" the designer refused as a prerequisite */
    const char *concept;    /* "course:concept" it was proposed for */
    const char *model;      /* checkpoint that proposed or scored it; may be NULL */
    double score;           /* that model's probability; NaN: none */
    const char *reason;     /* the designer's words; may be NULL */
    int64_t time;           /* unix seconds (add: 0 means now) */
    int outcome;            /* out: KGG_REJECT_* */
} kgg_reject;

#define KGG_REJECT_DRY_RUN 0x1   /* check only; write nothing */

/* Records the rejections r[0..n) in ONE write transaction. Each pair is
 * checked in order: both keys are concepts of the store, distinct, not
 * linked prereq -> concept already (requirement or recommendation; such a
 * pair is never suggested), not earlier in the request, and short enough.
 * A bad pair refuses the whole request: KGP_ENOTFOUND for an unknown
 * concept, KGP_EINPUT otherwise, nothing written, e naming the pair (by
 * 1-based index) and r[i].outcome marking it (the pairs after it stay
 * KGG_REJECT_DONE, unchecked). An already rejected pair is no error: its
 * record stays as it was (KGG_REJECT_ALREADY). When nothing is new,
 * nothing is written (the file stays byte-for-byte the same); the table
 * is created only by a write that records something.
 * *nadded (may be NULL) counts the pairs recorded.
 * Errors: KGP_ENOTFOUND, KGP_EINPUT, KGP_EUSAGE (read-only store, n > 0
 * with NULL r), KGP_EDB, KGP_ENOMEM.
 * Cost: O(n² + n log N): a few B-tree lookups per pair, and the duplicate
 * check against the pairs before it. */
kgp_status kgg_reject_add(kgg_store *st, kgg_reject *r, size_t n, unsigned flags, size_t *nadded, kgg_err *e);

/* Removes the rejections of the pairs r[0..n) (only prereq and concept
 * are read; the concepts need not exist any more) in one write
 * transaction. A pair not rejected, or given twice, refuses the whole
 * request (KGP_EINPUT, nothing removed, outcome KGG_REJECT_ABSENT or
 * KGG_REJECT_DUPLICATE). *nremoved (may be NULL) counts the removals.
 * Errors: KGP_EINPUT, KGP_EUSAGE, KGP_EDB, KGP_ENOMEM. Cost: O(n² + n log N). */
kgp_status kgg_reject_remove(kgg_store *st, kgg_reject *r, size_t n, unsigned flags, size_t *nremoved,
                             kgg_err *e);

/* Calls fn for every stored rejection, in key order (by prereq key, then
 * concept key), in one read transaction; the strings of *r live until fn
 * returns (outcome is 0). A non-zero return from fn stops the walk and is
 * returned (as a kgp_status). No table: no calls, KGP_OK.
 * Errors: fn's, KGP_EDB (including a damaged record). Cost: O(R). */
typedef int (*kgg_reject_fn)(void *ud, const kgg_reject *r);
kgp_status kgg_reject_each(kgg_store *st, kgg_reject_fn fn, void *ud, kgg_err *e);

#endif
