/* Access tokens of `kgpath serve`, stored hashed.
 *
 * Storage: named database "tokens", created by the first token; a
 * database without it has no tokens, and reading never creates it.
 *   key:   the token's SHA-256 digest (32 bytes); the token itself is never
 *          stored, so a copy of the database gives no one access
 *   value: scopes (u32 big-endian), creation time (u64 big-endian unix
 *          seconds), name (UTF-8, NUL-terminated)
 * The graph layer knows nothing of what scopes mean; it keeps the bits.
 */
#ifndef KGG_STORE_TOKEN_H
#define KGG_STORE_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "graph/store.h"

#define KGG_TOKEN_DIGEST 32

typedef struct kgg_token {
    uint8_t digest[KGG_TOKEN_DIGEST];
    uint32_t scopes;
    int64_t created;
    const char *name;       /* valid for the callback / until the next call */
} kgg_token;

/* Stores (or replaces) a token record. Errors: KGP_EUSAGE (read-only store,
 * name too long), KGP_EDB. O(log N). */
kgp_status kgg_token_put(kgg_store *st, const kgg_token *t, kgg_err *e);
/* Reads the record of a digest into *t (t->name points into buf of cap
 * bytes). Errors: KGP_ENOTFOUND, KGP_EDB. O(log N). */
kgp_status kgg_token_get(kgg_store *st, const uint8_t digest[KGG_TOKEN_DIGEST], kgg_token *t,
                         char *buf, size_t cap, kgg_err *e);
/* Calls fn for every token in digest order (a non-zero return stops the walk
 * and is returned). Errors: KGP_EDB. O(N). */
typedef int (*kgg_token_fn)(void *ud, const kgg_token *t);
kgp_status kgg_token_each(kgg_store *st, kgg_token_fn fn, void *ud, kgg_err *e);
/* Removes every token whose digest starts with the n bytes of prefix (n >= 4);
 * *removed counts them. Errors: KGP_ENOTFOUND (none), KGP_EINPUT (the prefix
 * matches more than one: nothing removed), KGP_EUSAGE, KGP_EDB. O(log N). */
kgp_status kgg_token_del(kgg_store *st, const uint8_t *prefix, size_t n, kgg_err *e);

#endif
