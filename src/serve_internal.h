/* kgpath serve: what serve*.c share beyond the route contract (serve.h). */
#ifndef KGP_SERVE_INTERNAL_H
#define KGP_SERVE_INTERNAL_H

#include <stddef.h>
#include "serve.h"

/* `kgpath serve` options. */
typedef struct srv_options {
    const char *listen;         /* "ADDR:PORT" */
    unsigned threads;           /* worker threads (MHD thread pool) */
    const char *tls_cert, *tls_key;
    const char *token_file;     /* extra tokens: "TOKEN SCOPE[,SCOPE] [NAME]" lines */
    int noauth;                 /* loopback only: every request has every scope */
    size_t max_body;            /* bytes */
    size_t max_header;          /* MHD connection memory (request line + headers) */
    unsigned max_connections;
    unsigned timeout;           /* seconds a connection may idle/stall (0: none) */
    const char *cors_origin;    /* NULL: no CORS headers */
    const char *access_log;     /* "-" stdout, a file, or NULL */
    const char *port_file;      /* write the bound port here once listening */
    double drain;               /* seconds to let requests finish at SIGTERM */
    const char *checkpoint;     /* --checkpoint DIR (NULL: $KGPATH_CHECKPOINT, else DB.kgmodel) */
    int quiet;
} srv_options;

/* Runs the server on db until SIGTERM/SIGINT; returns the exit status. */
int srv_run(kgp_db *db, const srv_options *o);
const srv_options *srv_opts(const kgp_srv *s);

/* The metrics in Prometheus text format (malloc'ed), or NULL. */
char *srv_metrics_text(kgp_srv *s, size_t *len);

/* The checkpoint folder the server's model endpoints use: --checkpoint,
 * else $KGPATH_CHECKPOINT, else the database's own (kgp_checkpoint_path:
 * DB.kgmodel, what bare `kgpath train` writes), resolved at start. */
const char *srv_checkpoint(const kgp_srv *s);

/* Replies made once per graph version (serve_cache.c; srv_cached in serve.h). */
typedef struct srv_cache srv_cache;
srv_cache *srv_cache_new(void);
void srv_cache_free(srv_cache *c);
srv_cache *srv_cache_of(kgp_srv *s);
void srv_cache_counts(srv_cache *c, uint64_t *hits, uint64_t *misses);
/* Reference-counted reply buffers: a copy of len bytes (+ NUL) with one
 * reference; NULL when out of memory. srv_blob_release frees it with the
 * last reference (the signature of MHD's free callback). */
char *srv_blob_new(const void *buf, size_t len);
void  srv_blob_ref(const char *data);
void  srv_blob_release(void *data);
/* Replies with a blob, taking one reference (released with the reply). */
void  srv_reply_blob(srv_req *rq, int status, const char *content_type, char *blob, size_t len);
/* Drops the reply set so far (body, status, headers, error code). */
void  srv_reply_clear(srv_req *rq);

/* The model endpoints' state (serve_model.c): loaded encoder, checkpoint checks. */
typedef struct srv_models srv_models;
srv_models *srv_models_new(void);
void srv_models_free(srv_models *m);
srv_models *srv_models_of(kgp_srv *s);
/* For suggestions: 1 when the server's checkpoint holds a trained model
 * usable with the request's graph, with *stamp (identity of its files, for
 * cache keys) and *state (KGP_CKPT_*); else replies 503 "no_model" (none
 * trained: run `kgpath train`; or trained on another graph) and returns 0. */
int srv_model_ready(srv_req *rq, uint64_t *stamp, int *state);
/* "current", "changed" (retrain with `kgpath train`), "unrecorded". */
const char *srv_model_state_name(int state);

/* Tokens (serve_token.c). */
typedef struct srv_tokens srv_tokens;
int  srv_tokens_load(const char *path, srv_tokens **out, char *err, size_t errlen);
void srv_tokens_free(srv_tokens *t);
/* Scopes of a presented token (from --token-file or the database); sets
 * rq->token_name. Errors: KGP_ENOTFOUND (unknown or revoked). */
kgp_status srv_token_check(kgp_srv *s, srv_req *rq, const char *token, unsigned *scopes);
srv_tokens *srv_file_tokens(kgp_srv *s);
/* "read,plan" -> bits; returns -1 on an unknown name. */
int  srv_scopes_parse(const char *list, unsigned *bits);

#endif
