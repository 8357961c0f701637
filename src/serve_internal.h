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
    int quiet;
} srv_options;

/* Runs the server on db until SIGTERM/SIGINT; returns the exit status. */
int srv_run(kgp_db *db, const srv_options *o);
const srv_options *srv_opts(const kgp_srv *s);

/* The metrics in Prometheus text format (malloc'ed), or NULL. */
char *srv_metrics_text(kgp_srv *s, size_t *len);

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
