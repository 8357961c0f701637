/* xAPI statement ids received by `kgpath serve` (POST/PUT /xapi/statements),
 * so that a statement id is stored once: a replay of the same statement is
 * recognised, a different statement under a stored id is a conflict.
 *
 * Storage: named database "statements", created by the first statement.
 *   key:   the statement id (a UUID, 16 bytes)
 *   value: a 64-bit hash of the statement's content (8 bytes, big-endian),
 *          computed by the caller over what the xAPI specification compares
 *          (not the LRS-assigned id, stored, authority, version).
 * The events a statement yields are stored with the learner events
 * (graph/learner_store.h); this table only remembers the ids.
 */
#ifndef KGG_STORE_STMT_H
#define KGG_STORE_STMT_H

#include <stddef.h>
#include <stdint.h>

#include "graph/store.h"

enum { KGG_STMT_NEW = 0, KGG_STMT_SAME = 1, KGG_STMT_CONFLICT = 2 };

typedef struct kgg_stmt {
    uint8_t id[16];
    uint64_t hash;
    int outcome;            /* out: KGG_STMT_* */
} kgg_stmt;

/* Looks up every id (outcome NEW, SAME or CONFLICT); with write and no
 * conflict, records the new ones in ONE write transaction (nothing is
 * written when any is a conflict, or none is new).
 * Errors: KGP_ECONFLICT (an id is stored with another hash), KGP_EUSAGE
 * (write on a read-only store), KGP_EDB. O(n log N). */
kgp_status kgg_stmt_record(kgg_store *st, kgg_stmt *s, size_t n, int write, kgg_err *e);

#endif
