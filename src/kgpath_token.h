/** @file kgpath_token.h
 * @brief Access tokens for `kgpath serve` (implemented in src/api_token.c
 * over graph/store_token). Included by kgpath.h.
 *
 * A token is a random secret ("kgp_" and 43 URL-safe base64 characters,
 * 256 bits) with a name and scopes. Only its SHA-256 digest is stored, so
 * the database never holds a usable token; the token is shown once, when
 * created. A token's id is the first 12 hex digits of its digest (safe to
 * show and log).
 */
#ifndef KGPATH_TOKEN_H
#define KGPATH_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Scopes (bits). KGP_SCOPE_ADMIN grants every other scope too. */
#define KGP_SCOPE_READ    0x01u  /**< read the graph */
#define KGP_SCOPE_PLAN    0x02u  /**< plans and next steps */
#define KGP_SCOPE_LEARNER 0x04u  /**< learner events and state */
#define KGP_SCOPE_WRITE   0x08u  /**< imports, suggestion review */
#define KGP_SCOPE_ADMIN   0x10u  /**< everything, learner erasure */
#define KGP_SCOPE_ALL     0x1fu

/** Room for a token and its NUL. */
#define KGP_TOKEN_SIZE 48
/** Room for a token id and its NUL. */
#define KGP_TOKEN_ID_SIZE 13

/** Parses "read,plan" (comma- or space-separated scope names) into bits.
 * Errors: KGP_EUSAGE (unknown name, or none). */
kgp_status kgp_scopes_parse(const char *list, unsigned *scopes);
/** Writes the names of the scopes in bits as "read,plan" into buf. */
void kgp_scopes_format(unsigned scopes, char *buf, size_t cap);

/** Creates a token with the given name (at most 200 bytes) and scopes and
 * stores its digest: token receives the secret, id its id (may be NULL).
 * Errors: KGP_EUSAGE (no scope, read-only database, name too long),
 * KGP_EIO (no randomness), KGP_EDB. O(log N). */
kgp_status kgp_token_create(kgp_db *db, const char *name, unsigned scopes,
                            char token[KGP_TOKEN_SIZE], char id[KGP_TOKEN_ID_SIZE]);
/** Looks a presented token up: its scopes, and its name into name (cap
 * bytes; may be NULL). Errors: KGP_ENOTFOUND (unknown or revoked),
 * KGP_EDB. O(log N), one read transaction. Thread-safe. */
kgp_status kgp_token_check(kgp_db *db, const char *token, unsigned *scopes,
                           char *name, size_t cap);
/** Calls fn for every token (in id order); a non-zero return stops the walk.
 * Errors: KGP_EDB. O(N). */
typedef int (*kgp_token_fn)(void *ud, const char *id, const char *name,
                            unsigned scopes, int64_t created);
kgp_status kgp_token_list(kgp_db *db, kgp_token_fn fn, void *ud);
/** Revokes the token with that id (or a unique prefix of 8+ hex digits).
 * Errors: KGP_ENOTFOUND, KGP_EINPUT (prefix not unique), KGP_EUSAGE (not
 * hex, read-only database), KGP_EDB. O(log N). */
kgp_status kgp_token_revoke(kgp_db *db, const char *id);

#ifdef __cplusplus
}
#endif
#endif /* KGPATH_TOKEN_H */
