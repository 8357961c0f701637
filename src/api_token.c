/* Access tokens (kgpath_token.h): random secrets, stored as SHA-256
 * digests (GnuTLS's hash) in graph/store_token. */
#include <gnutls/crypto.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "kgpath.h"
#include "api_internal.h"
#include "graph/store.h"
#include "graph/store_token.h"

static const char *const scope_names[] = {"read", "plan", "learner", "write", "admin"};

kgp_status kgp_scopes_parse(const char *list, unsigned *scopes)
{
    *scopes = 0;
    for (const char *p = list ? list : ""; *p; ) {
        size_t n = strcspn(p, ", ");
        if (n) {
            unsigned i = 0;
            while (i < 5 && (strlen(scope_names[i]) != n || strncmp(scope_names[i], p, n))) i++;
            if (i == 5) return KGP_EUSAGE;
            *scopes |= 1u << i;
        }
        p += n;
        while (*p == ',' || *p == ' ') p++;
    }
    return *scopes ? KGP_OK : KGP_EUSAGE;
}

void kgp_scopes_format(unsigned scopes, char *buf, size_t cap)
{
    size_t used = 0;
    if (cap) buf[0] = 0;
    for (unsigned i = 0; i < 5; i++)
        if (scopes & (1u << i)) {
            int w = snprintf(buf + used, cap - used, "%s%s", used ? "," : "", scope_names[i]);
            if (w < 0 || (size_t)w >= cap - used) return;
            used += (size_t)w;
        }
}

static void digest_of(const char *token, uint8_t d[KGG_TOKEN_DIGEST])
{
    gnutls_hash_fast(GNUTLS_DIG_SHA256, token, strlen(token), d);
}

static void id_of(const uint8_t d[KGG_TOKEN_DIGEST], char id[KGP_TOKEN_ID_SIZE])
{
    for (int i = 0; i < 6; i++) snprintf(id + 2 * i, 3, "%02x", d[i]);
}

kgp_status kgp_token_create(kgp_db *db, const char *name, unsigned scopes,
                            char token[KGP_TOKEN_SIZE], char id[KGP_TOKEN_ID_SIZE])
{
    token[0] = 0;
    if (!(scopes & KGP_SCOPE_ALL) || (scopes & ~KGP_SCOPE_ALL))
        return kgp__db_error(db, KGP_EUSAGE, "a token needs at least one scope of read, plan, learner, write, admin");
    if (kgp__db_rdonly(db)) return kgp__db_error(db, KGP_EUSAGE, "%s: opened read-only", kgp_db_path(db));
    uint8_t raw[32];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return kgp__db_error(db, KGP_EIO, "no random bytes from the kernel");
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *w = token + 4;
    memcpy(token, "kgp_", 4);
    /* 32 bytes -> 43 base64url characters (no padding) */
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < sizeof raw; i++) {
        acc = acc << 8 | raw[i];
        bits += 8;
        while (bits >= 6) { *w++ = b64[(acc >> (bits - 6)) & 63]; bits -= 6; }
    }
    if (bits) *w++ = b64[(acc << (6 - bits)) & 63];
    *w = 0;
    kgg_token t = {.scopes = scopes, .created = (int64_t)time(NULL), .name = name ? name : ""};
    digest_of(token, t.digest);
    kgg_err e;
    kgp_status st = kgg_token_put(kgp__db_store(db), &t, &e);
    if (st) { token[0] = 0; return kgp__db_error(db, st, "%s", e.msg); }
    if (id) id_of(t.digest, id);
    return KGP_OK;
}

kgp_status kgp_token_check(kgp_db *db, const char *token, unsigned *scopes, char *name, size_t cap)
{
    *scopes = 0;
    if (!token || strlen(token) < 8) return KGP_ENOTFOUND;
    uint8_t d[KGG_TOKEN_DIGEST];
    digest_of(token, d);
    kgg_token t;
    char buf[256];
    kgg_err e;
    /* No message into the shared handle: this runs on many threads. */
    kgp_status st = kgg_token_get(kgp__db_store(db), d, &t, buf, sizeof buf, &e);
    if (st) return st;
    *scopes = t.scopes;
    if (name && cap) snprintf(name, cap, "%s", t.name);
    return KGP_OK;
}

typedef struct list_ctx { kgp_token_fn fn; void *ud; } list_ctx;

static int list_one(void *ud, const kgg_token *t)
{
    list_ctx *c = ud;
    char id[KGP_TOKEN_ID_SIZE];
    id_of(t->digest, id);
    return c->fn(c->ud, id, t->name, t->scopes, t->created);
}

kgp_status kgp_token_list(kgp_db *db, kgp_token_fn fn, void *ud)
{
    list_ctx c = {fn, ud};
    kgg_err e;
    kgp_status st = kgg_token_each(kgp__db_store(db), list_one, &c, &e);
    if (st == KGP_EDB) return kgp__db_error(db, st, "%s", e.msg);
    return st;
}

kgp_status kgp_token_revoke(kgp_db *db, const char *id)
{
    uint8_t prefix[KGG_TOKEN_DIGEST];
    size_t n = id ? strlen(id) : 0;
    if (n < 8 || n > 64 || n % 2) return kgp__db_error(db, KGP_EUSAGE, "a token id is 12 hex digits (8 to 64, even)");
    for (size_t i = 0; i < n / 2; i++) {
        unsigned x;
        if (sscanf(id + 2 * i, "%2x", &x) != 1 || !strchr("0123456789abcdefABCDEF", id[2 * i])
            || !strchr("0123456789abcdefABCDEF", id[2 * i + 1]))
            return kgp__db_error(db, KGP_EUSAGE, "'%s' is not a token id (hex digits)", id);
        prefix[i] = (uint8_t)x;
    }
    if (kgp__db_rdonly(db)) return kgp__db_error(db, KGP_EUSAGE, "%s: opened read-only", kgp_db_path(db));
    kgg_err e;
    kgp_status st = kgg_token_del(kgp__db_store(db), prefix, n / 2, &e);
    return st ? kgp__db_error(db, st, "%s", e.msg) : KGP_OK;
}
