/* Access tokens, stored hashed (graph/store_token.h). */
#include <lmdb.h>
#include <stdio.h>
#include <string.h>

#include "graph/store_token.h"

#define TOK_DB "tokens"
#define NAME_MAX_LEN 200

/* The table's handle; with create 0 an absent table leaves *have 0. */
static kgp_status tok_handle(kgg_store *st, int create, MDB_dbi *dbi, int *have, kgg_err *e)
{
    *have = 0;
    if (!create) return kgg_store_find_dbi(st, TOK_DB, dbi, have, e);
    kgp_status s = kgg_store_open_dbi(st, TOK_DB, MDB_CREATE, dbi, e);
    if (!s) *have = 1;
    return s;
}

static void be32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static int decode(const MDB_val *k, const MDB_val *v, kgg_token *t)
{
    const uint8_t *p = v->mv_data;
    if (k->mv_size != KGG_TOKEN_DIGEST || v->mv_size < 13 || p[v->mv_size - 1] != 0) return -1;
    memcpy(t->digest, k->mv_data, KGG_TOKEN_DIGEST);
    t->scopes = rd32(p);
    t->created = (int64_t)((uint64_t)rd32(p + 4) << 32 | rd32(p + 8));
    t->name = (const char *)p + 12;
    return 0;
}

typedef struct put_ctx { MDB_dbi dbi; const kgg_token *t; } put_ctx;

static kgp_status put_txn(MDB_txn *txn, void *ud, int *mrc, kgg_err *e)
{
    put_ctx *c = ud;
    size_t nl = strlen(c->t->name ? c->t->name : "");
    uint8_t buf[12 + NAME_MAX_LEN + 1];
    be32(buf, c->t->scopes);
    be32(buf + 4, (uint32_t)((uint64_t)c->t->created >> 32));
    be32(buf + 8, (uint32_t)c->t->created);
    memcpy(buf + 12, c->t->name ? c->t->name : "", nl + 1);
    MDB_val k = {KGG_TOKEN_DIGEST, (void *)c->t->digest}, v = {12 + nl + 1, buf};
    int rc = mdb_put(txn, c->dbi, &k, &v, 0);
    if (rc) { *mrc = rc; return kgg_errf(e, kgg_mdb_status(rc), "tokens: %s", mdb_strerror(rc)); }
    return KGP_OK;
}

kgp_status kgg_token_put(kgg_store *st, const kgg_token *t, kgg_err *e)
{
    if (kgg_store_rdonly(st)) return kgg_errf(e, KGP_EUSAGE, "%s: opened read-only", kgg_store_path(st));
    if (t->name && strlen(t->name) > NAME_MAX_LEN)
        return kgg_errf(e, KGP_EUSAGE, "token name longer than %d bytes", NAME_MAX_LEN);
    put_ctx c = {0, t};
    int have;
    kgp_status s = tok_handle(st, 1, &c.dbi, &have, e);
    return s ? s : kgg_store_update(st, put_txn, &c, e);
}

kgp_status kgg_token_get(kgg_store *st, const uint8_t digest[KGG_TOKEN_DIGEST], kgg_token *t,
                         char *buf, size_t cap, kgg_err *e)
{
    MDB_dbi dbi;
    int have;
    kgp_status s = tok_handle(st, 0, &dbi, &have, e);
    if (s) return s;
    if (!have) return kgg_errf(e, KGP_ENOTFOUND, "no such token");
    MDB_txn *txn;
    if ((s = kgg_store_read_begin(st, &txn, e))) return s;
    MDB_val k = {KGG_TOKEN_DIGEST, (void *)digest}, v;
    int rc = mdb_get(txn, dbi, &k, &v);
    if (rc == 0 && decode(&k, &v, t)) rc = -1;
    if (rc == 0) {
        snprintf(buf, cap, "%s", t->name);
        t->name = buf;
    }
    kgg_store_read_end(txn);
    if (rc == MDB_NOTFOUND) return kgg_errf(e, KGP_ENOTFOUND, "no such token");
    if (rc) return kgg_errf(e, kgg_mdb_status(rc), "%s: tokens: %s", kgg_store_path(st), rc < 0 ? "damaged record" : mdb_strerror(rc));
    return KGP_OK;
}

kgp_status kgg_token_each(kgg_store *st, kgg_token_fn fn, void *ud, kgg_err *e)
{
    MDB_dbi dbi;
    int have;
    kgp_status s = tok_handle(st, 0, &dbi, &have, e);
    if (s || !have) return s;
    MDB_txn *txn;
    if ((s = kgg_store_read_begin(st, &txn, e))) return s;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    MDB_val k, v;
    int stop = 0;
    if (!rc) {
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !stop; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            kgg_token t;
            if (decode(&k, &v, &t)) { rc = -1; break; }
            stop = fn(ud, &t);
        }
        mdb_cursor_close(cur);
    }
    kgg_store_read_end(txn);
    if (rc && rc != MDB_NOTFOUND) return kgg_errf(e, kgg_mdb_status(rc), "tokens: %s", rc < 0 ? "damaged record" : mdb_strerror(rc));
    return (kgp_status)stop;
}

typedef struct del_ctx { MDB_dbi dbi; const uint8_t *prefix; size_t n; } del_ctx;

static kgp_status del_txn(MDB_txn *txn, void *ud, int *mrc, kgg_err *e)
{
    del_ctx *c = ud;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, c->dbi, &cur);
    if (rc) { *mrc = rc; return kgg_errf(e, kgg_mdb_status(rc), "tokens: %s", mdb_strerror(rc)); }
    uint8_t key[KGG_TOKEN_DIGEST] = {0};
    memcpy(key, c->prefix, c->n);
    MDB_val k = {KGG_TOKEN_DIGEST, key}, v;
    size_t found = 0;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && k.mv_size >= c->n && !memcmp(k.mv_data, c->prefix, c->n)) {
        found++;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (rc && rc != MDB_NOTFOUND) { mdb_cursor_close(cur); *mrc = rc; return kgg_errf(e, kgg_mdb_status(rc), "tokens: %s", mdb_strerror(rc)); }
    if (found != 1) {
        mdb_cursor_close(cur);
        return found ? kgg_errf(e, KGP_EINPUT, "the id matches %zu tokens: give more of it", found)
                     : kgg_errf(e, KGP_ENOTFOUND, "no token with that id");
    }
    k = (MDB_val){KGG_TOKEN_DIGEST, key};
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (!rc) rc = mdb_cursor_del(cur, 0);
    mdb_cursor_close(cur);
    if (rc) { *mrc = rc; return kgg_errf(e, kgg_mdb_status(rc), "tokens: %s", mdb_strerror(rc)); }
    return KGP_OK;
}

kgp_status kgg_token_del(kgg_store *st, const uint8_t *prefix, size_t n, kgg_err *e)
{
    if (kgg_store_rdonly(st)) return kgg_errf(e, KGP_EUSAGE, "%s: opened read-only", kgg_store_path(st));
    if (n < 4 || n > KGG_TOKEN_DIGEST) return kgg_errf(e, KGP_EUSAGE, "a token id has 8 to 64 hex digits");
    del_ctx c = {0, prefix, n};
    int have;
    kgp_status s = tok_handle(st, 0, &c.dbi, &have, e);
    if (s) return s;
    if (!have) return kgg_errf(e, KGP_ENOTFOUND, "no token with that id");
    return kgg_store_update(st, del_txn, &c, e);
}
