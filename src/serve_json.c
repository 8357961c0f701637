/* kgpath serve: replies and errors. Every error has the one JSON shape
 * {"error":{"code":..., "message":..., "where":...}} so clients can handle
 * them alike; the HTTP status says which class it is. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

#include "serve_internal.h"

/* out_owned: 0 static, 1 malloc'ed, 2 a blob (serve_cache.c). */
static void reply_reset(srv_req *rq)
{
    if (rq->out_owned == 2) srv_blob_release(rq->out);
    else if (rq->out_owned) free(rq->out);
    rq->out = NULL;
    rq->out_len = 0;
    rq->out_owned = 0;
}

void srv_reply_clear(srv_req *rq)
{
    reply_reset(rq);
    rq->status = 0;
    rq->out_type = NULL;
    rq->headers[0] = 0;
    rq->err_code[0] = 0;
}

/* The one place a reply body is set; owned as reply_reset's out_owned says. */
static void reply_set(srv_req *rq, int status, const char *content_type, char *out, size_t len,
                      int owned)
{
    reply_reset(rq);
    rq->status = status;
    rq->out_type = content_type;
    rq->out = out;
    rq->out_len = len;
    rq->out_owned = owned;
}

void srv_reply_blob(srv_req *rq, int status, const char *content_type, char *blob, size_t len)
{
    reply_set(rq, status, content_type, blob, len, 2);
}

void srv_reply(srv_req *rq, int status, const char *content_type, const void *buf, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy) { srv_reply_static(rq, 500, "text/plain", "out of memory\n", 14); return; }
    memcpy(copy, buf, len);
    copy[len] = 0;
    srv_reply_take(rq, status, content_type, copy, len);
}

void srv_reply_static(srv_req *rq, int status, const char *content_type, const void *buf, size_t len)
{
    reply_set(rq, status, content_type, (char *)buf, len, 0);
}

void srv_reply_take(srv_req *rq, int status, const char *content_type, char *buf, size_t len)
{
    reply_set(rq, status, content_type, buf, len, 1);
}

void srv_reply_json(srv_req *rq, int status, json_t *v)
{
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) : NULL;
    json_decref(v);
    if (!s) {
        srv_reply_static(rq, 500, "application/json",
                         "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\",\"where\":null}}", 66);
        snprintf(rq->err_code, sizeof rq->err_code, "internal");
        return;
    }
    srv_reply_take(rq, status, "application/json", s, strlen(s));
}

static void error_v(srv_req *rq, int status, const char *code, const char *where,
                    const char *fmt, va_list ap)
{
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    json_t *e = json_pack("{s:{s:s,s:s,s:o}}", "error", "code", code, "message", msg,
                          "where", where ? json_string(where) : json_null());
    snprintf(rq->err_code, sizeof rq->err_code, "%s", code);
    srv_reply_json(rq, status, e);
}

void srv_error(srv_req *rq, int status, const char *code, const char *where,
               const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_v(rq, status, code, where, fmt, ap);
    va_end(ap);
}

int srv_http_status(kgp_status st)
{
    switch (st) {
    case KGP_OK:         return 200;
    case KGP_EUSAGE:     return 400;
    case KGP_EINPUT:     return 422;
    case KGP_ENOTFOUND:  return 404;
    case KGP_EAMBIGUOUS: return 409;
    case KGP_ECONFLICT:  return 409;
    case KGP_EDB:        return 503;
    case KGP_ENOMEM:     return 503;
    case KGP_EIO:        return 500;
    default:             return 500;
    }
}

static const char *status_code(kgp_status st)
{
    switch (st) {
    case KGP_EUSAGE:     return "bad_request";
    case KGP_EINPUT:     return "invalid_input";
    case KGP_ENOTFOUND:  return "not_found";
    case KGP_EAMBIGUOUS: return "ambiguous";
    case KGP_ECONFLICT:  return "conflict";
    case KGP_EDB:        return "unavailable";
    case KGP_ENOMEM:     return "unavailable";
    default:             return "internal";
    }
}

/* Splits "file:line:column: message" (or "file:line: message") into where
 * and message: the text before the first ": " must hold no space and end in
 * ":<digits>". Returns 0 when msg has no such prefix. */
static int split_where(const char *msg, char *where, size_t wlen, const char **rest)
{
    const char *p = strstr(msg, ": ");
    if (!p || memchr(msg, ' ', (size_t)(p - msg))) return 0;
    const char *q = p;
    while (q > msg && q[-1] >= '0' && q[-1] <= '9') q--;
    if (q == p || q == msg || q[-1] != ':') return 0;
    size_t n = (size_t)(p - msg);
    if (n >= wlen) n = wlen - 1;
    memcpy(where, msg, n);
    where[n] = 0;
    *rest = p + 2;
    return 1;
}

void srv_error_status_at(srv_req *rq, kgp_status st, const char *where, const char *msg)
{
    if (!msg || !*msg) msg = kgp_strerror(st);
    char at[512];
    const char *rest = msg;
    if (!where && split_where(msg, at, sizeof at, &rest)) where = at;
    srv_error(rq, srv_http_status(st), status_code(st), where, "%s", rest);
}

void srv_error_status(srv_req *rq, kgp_status st, const char *msg)
{
    srv_error_status_at(rq, st, NULL, msg);
}

void srv_add_header(srv_req *rq, const char *name, const char *value)
{
    size_t used = strlen(rq->headers);
    snprintf(rq->headers + used, sizeof rq->headers - used, "%s: %s\n", name, value);
}

json_t *srv_body_json(srv_req *rq)
{
    const char *ct = srv_header(rq, "Content-Type");
    if (ct && strncmp(ct, "application/json", 16) && !strstr(ct, "+json")) {
        srv_error(rq, 415, "unsupported_media_type", NULL,
                  "the body must be application/json, not %s", ct);
        return NULL;
    }
    json_error_t je;
    json_t *v = json_loadb(rq->body, rq->body_len, 0, &je);
    if (!v) {
        char where[64];
        snprintf(where, sizeof where, "body:%d:%d", je.line, je.column);
        srv_error(rq, 400, "bad_json", where, "%s", je.text);
        return NULL;
    }
    return v;
}
