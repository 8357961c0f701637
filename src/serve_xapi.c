/* kgpath serve: xAPI intake. POST /xapi/statements (one statement or an
 * array) and PUT /xapi/statements?statementId=ID, as an LRS receives them
 * for the Statements resource (xAPI 1.0.3 and 2.0): version header, ids
 * generated when missing, idempotent by id (a replay changes nothing; other
 * content under a stored id is 409), stored as learner events through the
 * same code as `kgpath observe` (kgp_observe). kgpath keeps the learner
 * events it can use; it is not a full LRS (no GET of statements). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "serve.h"
#include "serve_internal.h"

/* The version of the request's X-Experience-API-Version ("1.0.3" or
 * "2.0.0"), or NULL after replying 400. */
static const char *xapi_version(srv_req *rq)
{
    const char *v = srv_header(rq, "X-Experience-API-Version");
    const char *reply = !v ? NULL
                      : (!strcmp(v, "1.0") || !strncmp(v, "1.0.", 4)) ? "1.0.3"
                      : (!strcmp(v, "2.0") || !strncmp(v, "2.0.", 4)) ? "2.0.0" : NULL;
    srv_add_header(rq, "X-Experience-API-Version", reply ? reply : "2.0.0");
    if (!reply)
        srv_error(rq, 400, "bad_request", "X-Experience-API-Version",
                  v ? "unsupported xAPI version '%s' (1.0.x or 2.0.x)" : "the X-Experience-API-Version header is required%s",
                  v ? v : "");
    return reply;
}

static int hexv(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Parses a UUID in its standard string form into 16 bytes; 0 or -1. */
static int uuid_parse(const char *s, uint8_t out[16])
{
    if (strlen(s) != 36) return -1;
    int j = 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) { if (s[i] != '-') return -1; continue; }
        int a = hexv(s[i]), b = hexv(s[i + 1]);
        if (a < 0 || b < 0) return -1;
        out[j++] = (uint8_t)(a * 16 + b);
        i++;
    }
    return 0;
}

static void uuid_format(const uint8_t u[16], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    int j = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[j++] = '-';
        out[j++] = hex[u[i] >> 4];
        out[j++] = hex[u[i] & 15];
    }
    out[j] = 0;
}

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) { h ^= (unsigned char)s[i]; h *= 1099511628211ull; }
    return h;
}

typedef struct xapi_job {
    kgp_statement_id *ids;
    size_t n;
    json_t *fresh;              /* statements to observe (array) */
    kgp_observe_report *rep;
    int conflict;
} xapi_job;

/* As the only writer: ids checked, the new statements' events stored, then
 * the ids recorded (a crash in between leaves events whose replay is a
 * duplicate, so a retried request still ends the same). A replayed
 * statement's events are duplicates too, so observing all is harmless. */
static kgp_status xapi_store(kgp_db *db, void *ud)
{
    xapi_job *j = ud;
    kgp_status st = kgp_statement_ids(db, j->ids, j->n, 0);
    if (st) { j->conflict = st == KGP_ECONFLICT; return st; }
    if (json_array_size(j->fresh)) {
        char *buf = json_dumps(j->fresh, JSON_COMPACT);
        if (!buf) return KGP_ENOMEM;
        kgp_observe_report_free(j->rep);
        j->rep = NULL;
        /* Not strict: a valid statement kgpath has no use for (another verb,
         * an object that is no concept) is acknowledged, not refused. */
        st = kgp_observe(db, "statements", buf, strlen(buf), 0, &j->rep);
        free(buf);
        if (st && st != KGP_EINPUT) return st;
    }
    return kgp_statement_ids(db, j->ids, j->n, 1);
}

static void statements(srv_req *rq)
{
    const char *version = xapi_version(rq);
    if (!version) return;
    int put = !strcmp(rq->method, "PUT");
    const char *put_id = put ? srv_query(rq, "statementId") : NULL;
    uint8_t put_uuid[16];
    if (put && (!put_id || uuid_parse(put_id, put_uuid))) {
        srv_error(rq, 400, "bad_request", "statementId", "PUT needs ?statementId= with a UUID");
        return;
    }
    json_t *body = srv_body_json(rq);
    if (!body) return;
    if (put && !json_is_object(body)) {
        json_decref(body);
        srv_error(rq, 400, "bad_request", NULL, "PUT takes one statement (a JSON object)");
        return;
    }
    if (!json_is_object(body) && !json_is_array(body)) {
        json_decref(body);
        srv_error(rq, 400, "bad_request", NULL, "expected a statement or an array of statements");
        return;
    }
    size_t n = json_is_array(body) ? json_array_size(body) : 1;
    xapi_job j = {.ids = calloc(n ? n : 1, sizeof *j.ids), .n = n, .fresh = json_array()};
    json_t *idlist = json_array();
    char now[32];
    kgp_format_time((int64_t)time(NULL), now, sizeof now);
    int bad = !j.ids || !j.fresh || !idlist;
    if (bad) srv_error(rq, 503, "unavailable", NULL, "out of memory");
    for (size_t i = 0; !bad && i < n; i++) {
        json_t *s = json_is_array(body) ? json_array_get(body, i) : body;
        char where[32];
        snprintf(where, sizeof where, "statement %zu", i + 1);
        if (!json_is_object(s)) { srv_error(rq, 400, "bad_request", where, "a statement must be a JSON object"); bad = 1; break; }
        const char *req[3] = {"actor", "verb", "object"};
        for (int k = 0; k < 3 && !bad; k++)
            if (!json_is_object(json_object_get(s, req[k]))) {
                srv_error(rq, 400, "bad_request", where, "\"%s\" is required and must be an object", req[k]);
                bad = 1;
            }
        if (bad) break;
        json_t *idv = json_object_get(s, "id");
        char ids[37];
        if (idv) {
            if (!json_is_string(idv) || uuid_parse(json_string_value(idv), j.ids[i].id)) {
                srv_error(rq, 400, "bad_request", where, "\"id\" must be a UUID string"); bad = 1; break;
            }
            if (put && memcmp(j.ids[i].id, put_uuid, 16)) {
                srv_error(rq, 409, "conflict", where, "the statement's id differs from statementId"); bad = 1; break;
            }
        } else if (put) {
            memcpy(j.ids[i].id, put_uuid, 16);
        } else {
            if (getrandom(j.ids[i].id, 16, 0) != 16) { srv_error(rq, 503, "unavailable", NULL, "no randomness"); bad = 1; break; }
            j.ids[i].id[6] = (uint8_t)((j.ids[i].id[6] & 0x0f) | 0x40);     /* version 4 */
            j.ids[i].id[8] = (uint8_t)((j.ids[i].id[8] & 0x3f) | 0x80);     /* variant */
        }
        for (size_t k = 0; k < i; k++)
            if (!memcmp(j.ids[k].id, j.ids[i].id, 16)) {
                srv_error(rq, 400, "bad_request", where, "the same id twice in one request"); bad = 1; break;
            }
        if (bad) break;
        json_t *ts = json_object_get(s, "timestamp");
        int64_t t;
        if (ts && (!json_is_string(ts) || kgp_parse_time(json_string_value(ts), &t))) {
            srv_error(rq, 400, "bad_request", where, "\"timestamp\" must be an ISO 8601 time"); bad = 1; break;
        }
        /* The content hash: what the specification compares, without the
         * LRS-assigned members. */
        json_t *c = json_deep_copy(s);
        json_object_del(c, "id");
        json_object_del(c, "stored");
        json_object_del(c, "authority");
        json_object_del(c, "version");
        char *dump = c ? json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(c);
        if (!dump) { srv_error(rq, 503, "unavailable", NULL, "out of memory"); bad = 1; break; }
        j.ids[i].hash = fnv1a(dump, strlen(dump));
        free(dump);
        uuid_format(j.ids[i].id, ids);
        json_t *copy = json_deep_copy(s);
        json_object_set_new(copy, "id", json_string(ids));
        if (!ts) json_object_set_new(copy, "timestamp", json_string(now));
        json_object_set_new(copy, "stored", json_string(now));
        json_array_append_new(j.fresh, copy);
        json_array_append_new(idlist, json_string(ids));
    }
    json_decref(body);
    if (!bad) {
        kgp_status st = srv_write(rq, 0, xapi_store, &j);
        if (j.conflict)
            srv_error(rq, 409, "conflict", NULL, "a statement with this id is already stored with other content");
        else if (st)
            srv_error_status(rq, st, kgp_db_errmsg(srv_db(rq)));
        else if (put)
            srv_reply_static(rq, 204, NULL, "", 0);
        else {
            srv_reply_json(rq, 200, idlist);
            idlist = NULL;
        }
    }
    json_decref(idlist);
    json_decref(j.fresh);
    kgp_observe_report_free(j.rep);
    free(j.ids);
}

/* GET /xapi/about */
static void about(srv_req *rq)
{
    srv_add_header(rq, "X-Experience-API-Version", "2.0.0");
    srv_reply_static(rq, 200, "application/json", "{\"version\":[\"1.0.3\",\"2.0.0\"]}", 30);
}

void serve_xapi_routes(srv_routes *t)
{
    srv_route(t, "POST", "/xapi/statements", SRV_LEARNER, statements);
    srv_route(t, "PUT", "/xapi/statements", SRV_LEARNER, statements);
    srv_route(t, "GET", "/xapi/about", SRV_PUBLIC, about);
}
