/* kgpath serve: xAPI intake. POST /xapi/statements (one statement or an
 * array) and PUT /xapi/statements?statementId=ID, as an LRS receives them
 * for the Statements resource (xAPI 1.0.3 and 2.0): version header, ids
 * generated when missing, idempotent by id (a replay changes nothing; other
 * content under a stored id is 409), stored as learner events through the
 * same code as `kgpath observe` (kgp_observe). kgpath keeps the learner
 * events it can use; it is not a full LRS (no GET of statements). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

/* ---- statement validation (what an LRS refuses with 400) ----
 *
 * xAPI 1.0.3 Data 2.2-2.4 and 4 (and 2.0, which keeps them): a Statement
 * has an actor (Agent or Group), a verb (an IRI id) and an object
 * (Activity, Agent, Group, StatementRef or SubStatement); no property is
 * null except inside extensions; properties are the specification's, in
 * its case; ids where it wants IRIs have a scheme; Agents have exactly one
 * identifier (mbox "mailto:", mbox_sha1sum, openid, account {homePage,
 * name}); UUIDs, timestamps, durations, scores and language maps have their
 * forms. The first violation is reported with its path, e.g.
 * "statement 2: actor.mbox: ...". */

typedef struct vcx {
    char msg[768];
} vcx;

static int bad(vcx *c, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(vcx *c, const char *path, const char *fmt, ...)
{
    char m[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    snprintf(c->msg, sizeof c->msg, "%s: %s", path, m);
    return 0;
}

/* path + "." + key into buf (cut to n - 1 bytes). */
static const char *sub(char *buf, size_t n, const char *path, const char *key)
{
    size_t o = 0;
    for (const char *s = path; *s && o + 1 < n; ) buf[o++] = *s++;
    if (*path && o + 1 < n) buf[o++] = '.';
    for (const char *s = key; *s && o + 1 < n; ) buf[o++] = *s++;
    buf[o] = 0;
    return buf;
}

/* path + "[i]" into buf. */
static const char *subi(char *buf, size_t n, const char *path, size_t i)
{
    char idx[32];
    snprintf(idx, sizeof idx, "[%zu]", i);
    size_t o = 0;
    for (const char *s = path; *s && o + 1 < n; ) buf[o++] = *s++;
    for (const char *s = idx; *s && o + 1 < n; ) buf[o++] = *s++;
    buf[o] = 0;
    return buf;
}

/* No null anywhere outside extensions (Data 2.2: "MUST NOT contain null"). */
static int no_nulls(vcx *c, json_t *v, const char *path)
{
    char p[256];
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) {
            if (json_is_null(x)) return bad(c, sub(p, sizeof p, path, k), "null is not allowed (leave the property out)");
            if (strcmp(k, "extensions") && !no_nulls(c, x, sub(p, sizeof p, path, k))) return 0;
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *x = json_array_get(v, i);
            if (json_is_null(x)) return bad(c, subi(p, sizeof p, path, i), "null is not allowed");
            if (!no_nulls(c, x, subi(p, sizeof p, path, i))) return 0;
        }
    }
    return 1;
}

/* Only the keys of allowed (NULL-terminated), in their case. */
static int keys_only(vcx *c, json_t *o, const char *path, const char *const *allowed)
{
    const char *k;
    json_t *x;
    json_object_foreach(o, k, x) {
        size_t i = 0;
        while (allowed[i] && strcmp(allowed[i], k)) i++;
        if (!allowed[i]) {
            char p[256];
            for (i = 0; allowed[i] && strcasecmp(allowed[i], k); i++) {}
            if (allowed[i]) return bad(c, sub(p, sizeof p, path, k), "the property is spelled \"%s\"", allowed[i]);
            return bad(c, sub(p, sizeof p, path, k), "not a property xAPI defines here");
        }
    }
    return 1;
}

/* An absolute IRI: a scheme (RFC 3987: ALPHA *(ALPHA / DIGIT / "+" / "-" /
 * ".")), ":" and something after it, without spaces or control bytes. */
static int is_iri(const char *s)
{
    if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))) return 0;
    const char *p = s;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '+' ||
           *p == '-' || *p == '.')
        p++;
    if (*p != ':' || !p[1]) return 0;
    for (; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f || strchr("<>\"{}|\\^`", *p)) return 0;
    return 1;
}

static int want_iri(vcx *c, json_t *v, const char *path)
{
    if (!json_is_string(v) || !is_iri(json_string_value(v)))
        return bad(c, path, "must be an IRI with a scheme (such as \"http://example.com/x\")");
    return 1;
}

static int want_string(vcx *c, json_t *v, const char *path)
{
    return json_is_string(v) ? 1 : bad(c, path, "must be a string");
}

static int want_uuid(vcx *c, json_t *v, const char *path)
{
    uint8_t u[16];
    if (!json_is_string(v) || uuid_parse(json_string_value(v), u))
        return bad(c, path, "must be a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");
    return 1;
}

static int want_time(vcx *c, json_t *v, const char *path)
{
    int64_t t;
    if (!json_is_string(v) || kgp_parse_time(json_string_value(v), &t))
        return bad(c, path, "must be an ISO 8601 time (such as \"2026-11-28T10:00:00Z\")");
    return 1;
}

/* A language map: {"en-US": "text", ...}. */
static int want_langmap(vcx *c, json_t *v, const char *path)
{
    if (!json_is_object(v)) return bad(c, path, "must be a language map ({\"en-US\": \"...\"})");
    const char *k;
    json_t *x;
    char p[256];
    json_object_foreach(v, k, x) {
        if (!*k || strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != strlen(k))
            return bad(c, sub(p, sizeof p, path, k), "not a language tag (RFC 5646, such as \"en-US\")");
        if (!json_is_string(x)) return bad(c, sub(p, sizeof p, path, k), "must be a string");
    }
    return 1;
}

/* Extensions: an object whose keys are IRIs (values are free). */
static int want_extensions(vcx *c, json_t *v, const char *path)
{
    if (!json_is_object(v)) return bad(c, path, "must be an object whose keys are IRIs");
    const char *k;
    json_t *x;
    char p[256];
    json_object_foreach(v, k, x)
        if (!is_iri(k)) return bad(c, sub(p, sizeof p, path, k), "an extension key must be an IRI");
    return 1;
}

/* An ISO 8601 duration: P[nY][nM][nW][nD][T[nH][nM][n[.n]S]], at least
 * one part, a fraction only on the last. */
static int is_duration(const char *s)
{
    if (*s++ != 'P' || !*s) return 0;
    int time = 0, parts = 0, frac = 0;
    const char *order = "YMWD", *torder = "HMS";
    while (*s) {
        if (*s == 'T') {
            if (time) return 0;
            time = 1;
            s++;
            if (!*s) return 0;
            continue;
        }
        if (frac) return 0;                        /* a fraction ends it */
        const char *d = s;
        while (*s >= '0' && *s <= '9') s++;
        if (s == d) return 0;
        if (*s == '.' || *s == ',') {
            s++;
            const char *f = s;
            while (*s >= '0' && *s <= '9') s++;
            if (s == f) return 0;
            frac = 1;
        }
        const char **units = time ? &torder : &order;   /* designators left, in order */
        const char *u = *s ? strchr(*units, *s) : NULL;
        if (!u) return 0;
        *units = u + 1;
        s++;
        parts++;
    }
    return parts > 0;
}

static int check_group(vcx *c, json_t *v, const char *path, int as_object);

/* An Agent (as_object: objectType required, as when it is the object). */
static int check_agent(vcx *c, json_t *v, const char *path, int as_object)
{
    static const char *const keys[] = {"objectType", "name", "mbox", "mbox_sha1sum", "openid", "account", NULL};
    char p[256];
    if (!json_is_object(v)) return bad(c, path, "must be an Agent (an object)");
    json_t *ot = json_object_get(v, "objectType");
    if (ot && (!json_is_string(ot) || strcmp(json_string_value(ot), "Agent")))
        return bad(c, sub(p, sizeof p, path, "objectType"), "must be \"Agent\" here");
    if (as_object && !ot) return bad(c, path, "an Agent as the object needs \"objectType\": \"Agent\"");
    if (!keys_only(c, v, path, keys)) return 0;
    json_t *x;
    if ((x = json_object_get(v, "name")) && !want_string(c, x, sub(p, sizeof p, path, "name"))) return 0;
    int ifis = 0;
    if ((x = json_object_get(v, "mbox"))) {
        ifis++;
        if (!json_is_string(x) || strncmp(json_string_value(x), "mailto:", 7) || !strchr(json_string_value(x), '@'))
            return bad(c, sub(p, sizeof p, path, "mbox"), "must be a mailto IRI (\"mailto:name@example.com\")");
    }
    if ((x = json_object_get(v, "mbox_sha1sum"))) {
        ifis++;
        const char *h = json_string_value(x);
        if (!h || strlen(h) != 40 || strspn(h, "0123456789abcdefABCDEF") != 40)
            return bad(c, sub(p, sizeof p, path, "mbox_sha1sum"), "must be 40 hexadecimal digits (SHA-1 of the mailto IRI)");
    }
    if ((x = json_object_get(v, "openid"))) {
        ifis++;
        if (!want_iri(c, x, sub(p, sizeof p, path, "openid"))) return 0;
    }
    if ((x = json_object_get(v, "account"))) {
        static const char *const akeys[] = {"homePage", "name", NULL};
        ifis++;
        const char *ap = sub(p, sizeof p, path, "account");
        char q[256];
        if (!json_is_object(x)) return bad(c, ap, "must be an object {\"homePage\", \"name\"}");
        if (!keys_only(c, x, ap, akeys)) return 0;
        if (!json_object_get(x, "homePage") || !json_object_get(x, "name"))
            return bad(c, ap, "needs both \"homePage\" and \"name\"");
        if (!want_iri(c, json_object_get(x, "homePage"), sub(q, sizeof q, ap, "homePage")) ||
            !want_string(c, json_object_get(x, "name"), sub(q, sizeof q, ap, "name")))
            return 0;
    }
    if (ifis != 1)
        return bad(c, path, "an Agent needs exactly one of \"mbox\", \"mbox_sha1sum\", \"openid\", \"account\" (it has %d)",
                   ifis);
    return 1;
}

/* An Agent or a Group, by objectType. */
static int check_actor(vcx *c, json_t *v, const char *path, int as_object)
{
    json_t *ot = json_is_object(v) ? json_object_get(v, "objectType") : NULL;
    if (ot && json_is_string(ot) && !strcmp(json_string_value(ot), "Group")) return check_group(c, v, path, as_object);
    return check_agent(c, v, path, as_object);
}

static int check_group(vcx *c, json_t *v, const char *path, int as_object)
{
    static const char *const keys[] = {"objectType", "name", "mbox", "mbox_sha1sum", "openid", "account", "member", NULL};
    (void)as_object;                                  /* a Group always names its objectType */
    char p[256], q[256];
    if (!json_is_object(v)) return bad(c, path, "must be a Group (an object)");
    json_t *ot = json_object_get(v, "objectType");
    if (!json_is_string(ot) || strcmp(json_string_value(ot), "Group"))
        return bad(c, sub(p, sizeof p, path, "objectType"), "a Group needs \"objectType\": \"Group\"");
    if (!keys_only(c, v, path, keys)) return 0;
    json_t *m = json_object_get(v, "member");
    if (m) {
        if (!json_is_array(m)) return bad(c, sub(p, sizeof p, path, "member"), "must be an array of Agents");
        for (size_t i = 0; i < json_array_size(m); i++)
            if (!check_agent(c, json_array_get(m, i), subi(q, sizeof q, sub(p, sizeof p, path, "member"), i), 0))
                return 0;
    }
    int ifis = !!json_object_get(v, "mbox") + !!json_object_get(v, "mbox_sha1sum") + !!json_object_get(v, "openid") +
               !!json_object_get(v, "account");
    if (!ifis && !m) return bad(c, path, "an anonymous Group (no identifier) needs \"member\"");
    if (ifis) {
        /* identified: the identifier checks of an Agent, without member */
        json_t *copy = json_copy(v);
        json_object_del(copy, "member");
        json_object_set_new(copy, "objectType", json_string("Agent"));
        int ok = copy && check_agent(c, copy, path, 0);
        json_decref(copy);
        if (!ok) return 0;
    }
    return 1;
}

static int check_verb(vcx *c, json_t *v, const char *path)
{
    static const char *const keys[] = {"id", "display", NULL};
    char p[256];
    if (!json_is_object(v)) return bad(c, path, "must be a Verb (an object with an \"id\" IRI)");
    if (!keys_only(c, v, path, keys)) return 0;
    json_t *id = json_object_get(v, "id");
    if (!id) return bad(c, path, "needs \"id\" (an IRI)");
    if (!want_iri(c, id, sub(p, sizeof p, path, "id"))) return 0;
    json_t *d = json_object_get(v, "display");
    return !d || want_langmap(c, d, sub(p, sizeof p, path, "display"));
}

static int check_activity(vcx *c, json_t *v, const char *path)
{
    static const char *const keys[] = {"objectType", "id", "definition", NULL};
    static const char *const dkeys[] = {"name", "description", "type", "moreInfo", "extensions", "interactionType",
                                        "correctResponsesPattern", "choices", "scale", "source", "target", "steps",
                                        NULL};
    char p[256], q[256], r[256];
    if (!keys_only(c, v, path, keys)) return 0;
    json_t *id = json_object_get(v, "id");
    if (!id) return bad(c, path, "an Activity needs \"id\" (an IRI)");
    if (!want_iri(c, id, sub(p, sizeof p, path, "id"))) return 0;
    json_t *d = json_object_get(v, "definition");
    if (!d) return 1;
    const char *dp = sub(p, sizeof p, path, "definition");
    if (!json_is_object(d)) return bad(c, dp, "must be an object");
    if (!keys_only(c, d, dp, dkeys)) return 0;
    json_t *x;
    if ((x = json_object_get(d, "name")) && !want_langmap(c, x, sub(q, sizeof q, dp, "name"))) return 0;
    if ((x = json_object_get(d, "description")) && !want_langmap(c, x, sub(q, sizeof q, dp, "description"))) return 0;
    if ((x = json_object_get(d, "type")) && !want_iri(c, x, sub(q, sizeof q, dp, "type"))) return 0;
    if ((x = json_object_get(d, "moreInfo")) && !want_iri(c, x, sub(q, sizeof q, dp, "moreInfo"))) return 0;
    if ((x = json_object_get(d, "extensions")) && !want_extensions(c, x, sub(q, sizeof q, dp, "extensions"))) return 0;
    if ((x = json_object_get(d, "interactionType")) && !want_string(c, x, sub(q, sizeof q, dp, "interactionType")))
        return 0;
    if ((x = json_object_get(d, "correctResponsesPattern"))) {
        const char *cp = sub(q, sizeof q, dp, "correctResponsesPattern");
        if (!json_is_array(x)) return bad(c, cp, "must be an array of strings");
        for (size_t i = 0; i < json_array_size(x); i++)
            if (!want_string(c, json_array_get(x, i), subi(r, sizeof r, cp, i))) return 0;
    }
    static const char *const lists[] = {"choices", "scale", "source", "target", "steps"};
    static const char *const ckeys[] = {"id", "description", NULL};
    for (size_t l = 0; l < sizeof lists / sizeof *lists; l++) {
        if (!(x = json_object_get(d, lists[l]))) continue;
        const char *lp = sub(q, sizeof q, dp, lists[l]);
        if (!json_is_array(x)) return bad(c, lp, "must be an array of interaction components");
        for (size_t i = 0; i < json_array_size(x); i++) {
            json_t *e = json_array_get(x, i);
            char ep[256], fp[256];
            subi(ep, sizeof ep, lp, i);
            if (!json_is_object(e)) return bad(c, ep, "must be an object {\"id\", \"description\"}");
            if (!keys_only(c, e, ep, ckeys)) return 0;
            if (!json_object_get(e, "id")) return bad(c, ep, "needs \"id\"");
            if (!want_string(c, json_object_get(e, "id"), sub(fp, sizeof fp, ep, "id"))) return 0;
            if ((e = json_object_get(e, "description")) && !want_langmap(c, e, sub(fp, sizeof fp, ep, "description")))
                return 0;
        }
    }
    return 1;
}

static int check_statement_ref(vcx *c, json_t *v, const char *path)
{
    static const char *const keys[] = {"objectType", "id", NULL};
    char p[256];
    if (!json_is_object(v)) return bad(c, path, "must be a StatementRef {\"objectType\": \"StatementRef\", \"id\"}");
    json_t *ot = json_object_get(v, "objectType");
    if (!json_is_string(ot) || strcmp(json_string_value(ot), "StatementRef"))
        return bad(c, sub(p, sizeof p, path, "objectType"), "must be \"StatementRef\"");
    if (!keys_only(c, v, path, keys)) return 0;
    if (!json_object_get(v, "id")) return bad(c, path, "a StatementRef needs \"id\" (a UUID)");
    return want_uuid(c, json_object_get(v, "id"), sub(p, sizeof p, path, "id"));
}

static int check_body(vcx *c, json_t *s, const char *path, int sub_statement);

static int check_object(vcx *c, json_t *v, const char *path, int in_sub)
{
    char p[256];
    if (!json_is_object(v)) return bad(c, path, "must be an object (an Activity, Agent, Group, StatementRef or SubStatement)");
    json_t *ot = json_object_get(v, "objectType");
    const char *t = json_string_value(ot);
    if (ot && !t) return bad(c, sub(p, sizeof p, path, "objectType"), "must be a string");
    if (!t || !strcmp(t, "Activity")) return check_activity(c, v, path);
    if (!strcmp(t, "Agent")) return check_agent(c, v, path, 1);
    if (!strcmp(t, "Group")) return check_group(c, v, path, 1);
    if (!strcmp(t, "StatementRef")) return check_statement_ref(c, v, path);
    if (!strcmp(t, "SubStatement")) {
        if (in_sub) return bad(c, path, "a SubStatement cannot hold another SubStatement");
        return check_body(c, v, path, 1);
    }
    return bad(c, sub(p, sizeof p, path, "objectType"),
               "\"%s\" is not one of Activity, Agent, Group, StatementRef, SubStatement", t);
}

static int check_result(vcx *c, json_t *v, const char *path)
{
    static const char *const keys[] = {"score", "success", "completion", "response", "duration", "extensions", NULL};
    static const char *const skeys[] = {"scaled", "raw", "min", "max", NULL};
    char p[256], q[256];
    if (!json_is_object(v)) return bad(c, path, "must be an object");
    if (!keys_only(c, v, path, keys)) return 0;
    json_t *x;
    if ((x = json_object_get(v, "score"))) {
        const char *sp = sub(p, sizeof p, path, "score");
        if (!json_is_object(x)) return bad(c, sp, "must be an object {\"scaled\", \"raw\", \"min\", \"max\"}");
        if (!keys_only(c, x, sp, skeys)) return 0;
        double val[4];
        int has[4];
        for (int i = 0; i < 4; i++) {
            json_t *n = json_object_get(x, skeys[i]);
            has[i] = n != NULL;
            if (n && !json_is_number(n)) return bad(c, sub(q, sizeof q, sp, skeys[i]), "must be a number");
            val[i] = n ? json_number_value(n) : 0;
        }
        if (has[0] && (val[0] < -1 || val[0] > 1)) return bad(c, sub(q, sizeof q, sp, "scaled"), "must be between -1 and 1");
        if (has[2] && has[3] && val[2] > val[3]) return bad(c, sp, "\"min\" is greater than \"max\"");
        if (has[1] && ((has[2] && val[1] < val[2]) || (has[3] && val[1] > val[3])))
            return bad(c, sub(q, sizeof q, sp, "raw"), "must lie between \"min\" and \"max\"");
    }
    const char *bools[2] = {"success", "completion"};
    for (int i = 0; i < 2; i++)
        if ((x = json_object_get(v, bools[i])) && !json_is_boolean(x))
            return bad(c, sub(p, sizeof p, path, bools[i]), "must be true or false");
    if ((x = json_object_get(v, "response")) && !want_string(c, x, sub(p, sizeof p, path, "response"))) return 0;
    if ((x = json_object_get(v, "duration")) && (!json_is_string(x) || !is_duration(json_string_value(x))))
        return bad(c, sub(p, sizeof p, path, "duration"), "must be an ISO 8601 duration (such as \"PT4H35M59.14S\")");
    if ((x = json_object_get(v, "extensions")) && !want_extensions(c, x, sub(p, sizeof p, path, "extensions")))
        return 0;
    return 1;
}

/* An Activity or an array of Activities (contextActivities' values). */
static int check_activities(vcx *c, json_t *v, const char *path)
{
    char p[256];
    int one = json_is_object(v);
    if (!one && !json_is_array(v)) return bad(c, path, "must be an Activity or an array of Activities");
    for (size_t i = 0; i < (one ? 1 : json_array_size(v)); i++) {
        json_t *a = one ? v : json_array_get(v, i);
        const char *ap = one ? path : subi(p, sizeof p, path, i);
        json_t *ot = json_is_object(a) ? json_object_get(a, "objectType") : NULL;
        if (!json_is_object(a) || (ot && (!json_is_string(ot) || strcmp(json_string_value(ot), "Activity"))))
            return bad(c, ap, "must be an Activity");
        if (!check_activity(c, a, ap)) return 0;
    }
    return 1;
}

static int check_context(vcx *c, json_t *v, const char *path)
{
    static const char *const keys[] = {"registration", "instructor", "team", "contextActivities", "contextAgents",
                                       "contextGroups", "revision", "platform", "language", "statement",
                                       "extensions", NULL};
    static const char *const akeys[] = {"parent", "grouping", "category", "other", NULL};
    char p[256], q[256];
    if (!json_is_object(v)) return bad(c, path, "must be an object");
    if (!keys_only(c, v, path, keys)) return 0;
    json_t *x;
    if ((x = json_object_get(v, "registration")) && !want_uuid(c, x, sub(p, sizeof p, path, "registration"))) return 0;
    if ((x = json_object_get(v, "instructor")) && !check_actor(c, x, sub(p, sizeof p, path, "instructor"), 0)) return 0;
    if ((x = json_object_get(v, "team")) && !check_group(c, x, sub(p, sizeof p, path, "team"), 0)) return 0;
    if ((x = json_object_get(v, "contextActivities"))) {
        const char *ap = sub(p, sizeof p, path, "contextActivities");
        if (!json_is_object(x)) return bad(c, ap, "must be an object {\"parent\", \"grouping\", \"category\", \"other\"}");
        if (!keys_only(c, x, ap, akeys)) return 0;
        for (int i = 0; akeys[i]; i++) {
            json_t *a = json_object_get(x, akeys[i]);
            if (a && !check_activities(c, a, sub(q, sizeof q, ap, akeys[i]))) return 0;
        }
    }
    const char *lists[2] = {"contextAgents", "contextGroups"};          /* xAPI 2.0 */
    for (int i = 0; i < 2; i++)
        if ((x = json_object_get(v, lists[i])) && !json_is_array(x))
            return bad(c, sub(p, sizeof p, path, lists[i]), "must be an array");
    const char *strs[3] = {"revision", "platform", "language"};
    for (int i = 0; i < 3; i++)
        if ((x = json_object_get(v, strs[i])) && !want_string(c, x, sub(p, sizeof p, path, strs[i]))) return 0;
    if ((x = json_object_get(v, "statement")) && !check_statement_ref(c, x, sub(p, sizeof p, path, "statement")))
        return 0;
    if ((x = json_object_get(v, "extensions")) && !want_extensions(c, x, sub(p, sizeof p, path, "extensions")))
        return 0;
    return 1;
}

/* A Statement's (or SubStatement's) properties. */
static int check_body(vcx *c, json_t *s, const char *path, int sub_statement)
{
    static const char *const keys[] = {"id", "actor", "verb", "object", "result", "context", "timestamp", "stored",
                                       "authority", "version", "attachments", NULL};
    static const char *const subkeys[] = {"objectType", "actor", "verb", "object", "result", "context", "timestamp",
                                          "attachments", NULL};
    char p[256];
    if (!keys_only(c, s, path, sub_statement ? subkeys : keys)) return 0;
    const char *req[3] = {"actor", "verb", "object"};
    for (int k = 0; k < 3; k++)
        if (!json_object_get(s, req[k])) return bad(c, path[0] ? path : "statement", "\"%s\" is required", req[k]);
    json_t *x;
    if (!check_actor(c, json_object_get(s, "actor"), sub(p, sizeof p, path, "actor"), 0) ||
        !check_verb(c, json_object_get(s, "verb"), sub(p, sizeof p, path, "verb")) ||
        !check_object(c, json_object_get(s, "object"), sub(p, sizeof p, path, "object"), sub_statement))
        return 0;
    if ((x = json_object_get(s, "result")) && !check_result(c, x, sub(p, sizeof p, path, "result"))) return 0;
    if ((x = json_object_get(s, "context")) && !check_context(c, x, sub(p, sizeof p, path, "context"))) return 0;
    if ((x = json_object_get(s, "timestamp")) && !want_time(c, x, sub(p, sizeof p, path, "timestamp"))) return 0;
    if ((x = json_object_get(s, "stored")) && !want_time(c, x, sub(p, sizeof p, path, "stored"))) return 0;
    if ((x = json_object_get(s, "id")) && !want_uuid(c, x, sub(p, sizeof p, path, "id"))) return 0;
    if ((x = json_object_get(s, "authority")) && !check_actor(c, x, sub(p, sizeof p, path, "authority"), 0)) return 0;
    if ((x = json_object_get(s, "version"))) {
        const char *ver = json_string_value(x);
        if (!ver || (strcmp(ver, "1.0") && strncmp(ver, "1.0.", 4) && strcmp(ver, "2.0") && strncmp(ver, "2.0.", 4)))
            return bad(c, sub(p, sizeof p, path, "version"), "must be \"1.0.x\" or \"2.0.x\"");
    }
    if ((x = json_object_get(s, "attachments"))) {
        static const char *const atkeys[] = {"usageType", "display", "description", "contentType", "length", "sha2",
                                             "fileUrl", NULL};
        const char *ap = sub(p, sizeof p, path, "attachments");
        if (!json_is_array(x)) return bad(c, ap, "must be an array");
        for (size_t i = 0; i < json_array_size(x); i++) {
            json_t *a = json_array_get(x, i);
            char ip[256], fp[256];
            subi(ip, sizeof ip, ap, i);
            if (!json_is_object(a)) return bad(c, ip, "must be an object");
            if (!keys_only(c, a, ip, atkeys)) return 0;
            if (!json_object_get(a, "usageType") || !json_object_get(a, "display") ||
                !json_object_get(a, "contentType") || !json_object_get(a, "length") || !json_object_get(a, "sha2"))
                return bad(c, ip, "needs \"usageType\", \"display\", \"contentType\", \"length\" and \"sha2\"");
            if (!want_iri(c, json_object_get(a, "usageType"), sub(fp, sizeof fp, ip, "usageType")) ||
                !want_langmap(c, json_object_get(a, "display"), sub(fp, sizeof fp, ip, "display")) ||
                !want_string(c, json_object_get(a, "contentType"), sub(fp, sizeof fp, ip, "contentType")) ||
                !want_string(c, json_object_get(a, "sha2"), sub(fp, sizeof fp, ip, "sha2")))
                return 0;
            if (!json_is_integer(json_object_get(a, "length")) || json_integer_value(json_object_get(a, "length")) < 0)
                return bad(c, sub(fp, sizeof fp, ip, "length"), "must be a whole number of bytes");
        }
    }
    return 1;
}

/* 1 when s is a valid Statement; else 0 with c->msg ("PATH: what is wrong"). */
static int statement_valid(vcx *c, json_t *s)
{
    if (!json_is_object(s)) { snprintf(c->msg, sizeof c->msg, "a statement must be a JSON object"); return 0; }
    return no_nulls(c, s, "") && check_body(c, s, "", 0);
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
 * duplicate, so a retried request still ends the same). Only statements
 * whose id is new are observed: a replayed statement without a timestamp
 * gets this request's time, so its event would not be a duplicate of the
 * first one's (a retry a second later counted the event twice). */
static kgp_status xapi_store(kgp_db *db, void *ud)
{
    xapi_job *j = ud;
    kgp_status st = kgp_statement_ids(db, j->ids, j->n, 0);
    if (st) { j->conflict = st == KGP_ECONFLICT; return st; }
    json_t *todo = json_array();             /* built anew: srv_write may call this twice */
    if (!todo) return KGP_ENOMEM;
    for (size_t i = 0; i < j->n; i++)       /* j->fresh holds statement i at index i */
        if (j->ids[i].outcome == 0 && json_array_append(todo, json_array_get(j->fresh, i))) {
            json_decref(todo);
            return KGP_ENOMEM;
        }
    if (json_array_size(todo)) {
        char *buf = json_dumps(todo, JSON_COMPACT);
        json_decref(todo);
        todo = NULL;
        if (!buf) return KGP_ENOMEM;
        kgp_observe_report_free(j->rep);
        j->rep = NULL;
        /* Not strict: a valid statement kgpath has no use for (another verb,
         * an object that is no concept) is acknowledged, not refused. */
        st = kgp_observe(db, "statements", buf, strlen(buf), 0, &j->rep);
        free(buf);
        if (st && st != KGP_EINPUT) return st;
    }
    json_decref(todo);
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
        vcx vc;
        if (!statement_valid(&vc, s)) {
            srv_error(rq, 400, "bad_request", where, "%s: %s", where, vc.msg);
            bad = 1;
            break;
        }
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
        if (!st && j.rep && j.rep->committed && j.rep->added)
            json_decref(srv_refit(rq));         /* the models follow the events */
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
