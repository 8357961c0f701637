/* Learner event parsing (kgpath JSON lines and xAPI); see learner_events.h. */
#include "planner/learner_events.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

int kgn_events_init(kgn_events *ev)
{
    *ev = (kgn_events){0};
    ev->arena = kg_arena_new();
    return ev->arena ? 0 : -1;
}

void kgn_events_free(kgn_events *ev)
{
    if (!ev)
        return;
    kg_free(ev->ev);
    kg_free(ev->err);
    kg_arena_free(ev->arena);
    *ev = (kgn_events){0};
}

/* ---- time ---------------------------------------------------------------- */

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return d[m - 1];
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), Howard Hinnant's
 * days_from_civil: exact for any year, no dependence on the process TZ. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int ts_fail(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
    return -1;
}

int kgn_parse_timestamp(const char *s, int64_t *out, char *err, size_t errlen)
{
    int y, mo, d, h, mi, sec = 0;
    const char *p = s;
    if (digits(p, 4, &y) || p[4] != '-' || digits(p + 5, 2, &mo) ||
        p[7] != '-' || digits(p + 8, 2, &d))
        return ts_fail(err, errlen, "expected a date YYYY-MM-DD");
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return ts_fail(err, errlen, "no such date");
    p += 10;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return ts_fail(err, errlen,
                       "expected a time after the date (THH:MM[:SS] and a zone)");
    p++;
    if (digits(p, 2, &h) || p[2] != ':' || digits(p + 3, 2, &mi))
        return ts_fail(err, errlen, "expected a time HH:MM[:SS]");
    p += 5;
    if (*p == ':') {
        if (digits(p + 1, 2, &sec))
            return ts_fail(err, errlen, "expected seconds SS");
        p += 3;
        if (*p == '.' || *p == ',') {
            p++;
            if (!isdigit((unsigned char)*p))
                return ts_fail(err, errlen, "expected digits after the decimal point");
            while (isdigit((unsigned char)*p))
                p++;
        }
    }
    if (h > 24 || mi > 59 || sec > 60 || (h == 24 && (mi || sec)))
        return ts_fail(err, errlen, "time out of range");
    int off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om = 0;
        p++;
        if (digits(p, 2, &oh))
            return ts_fail(err, errlen, "expected a zone offset ±hh:mm");
        p += 2;
        if (*p == ':') {
            if (digits(p + 1, 2, &om))
                return ts_fail(err, errlen, "expected a zone offset ±hh:mm");
            p += 3;
        } else if (isdigit((unsigned char)*p)) {
            if (digits(p, 2, &om))
                return ts_fail(err, errlen, "expected a zone offset ±hhmm");
            p += 2;
        }
        if (oh > 23 || om > 59)
            return ts_fail(err, errlen, "zone offset out of range");
        off = sign * (oh * 3600 + om * 60);
    } else if (*p == '\0') {
        return ts_fail(err, errlen,
                       "timestamp without a time zone (add Z or ±hh:mm)");
    } else {
        return ts_fail(err, errlen, "unexpected characters in timestamp");
    }
    if (*p)
        return ts_fail(err, errlen, "unexpected characters after the zone");
    if (sec == 60)      /* a leap second is the last second of its minute */
        sec = 59;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
    return 0;
}

void kgn_format_timestamp(int64_t t, char *buf, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        snprintf(buf, cap, "?");
        return;
    }
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int kgn_parse_duration(const char *s, double *out)
{
    const char *p = s;
    double total = 0;
    int in_time = 0, any = 0, frac_seen = 0;
    if (*p++ != 'P')
        return -1;
    while (*p) {
        if (*p == 'T') {
            if (in_time)
                return -1;
            in_time = 1;
            p++;
            if (!*p)
                return -1;
            continue;
        }
        if (frac_seen)
            return -1;      /* only the last component may have a fraction */
        char *end;
        if (!isdigit((unsigned char)*p))
            return -1;
        double v = strtod(p, &end);
        if (end == p)
            return -1;
        for (const char *q = p; q < end; q++)
            if (*q == '.' || *q == ',')
                frac_seen = 1;
        p = end;
        double unit;
        switch (*p) {
        case 'W': unit = in_time ? -1 : 7 * 86400.0; break;
        case 'D': unit = in_time ? -1 : 86400.0; break;
        case 'H': unit = in_time ? 3600.0 : -1; break;
        case 'M': unit = in_time ? 60.0 : -1; break;   /* months rejected */
        case 'S': unit = in_time ? 1.0 : -1; break;
        default: unit = -1;
        }
        if (unit < 0 || !isfinite(v))
            return -1;
        total += v * unit;
        any = 1;
        p++;
    }
    if (!any)
        return -1;
    *out = total;
    return 0;
}

/* ---- building events ----------------------------------------------------- */

static int add_error(kgn_events *ev, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int add_error(kgn_events *ev, const char *fmt, ...)
{
    ev->nerr++;
    if (ev->nerr_kept >= KGN_EVENTS_MAX_ERRORS)
        return 0;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    size_t cap = ev->nerr_kept;      /* grow by one each time: few errors */
    char **e = kg_realloc(ev->err, (cap + 1) * sizeof *e);
    if (!e)
        return -1;
    ev->err = e;
    if (!(e[cap] = kg_arena_strdup(ev->arena, buf)))
        return -1;
    ev->nerr_kept++;
    return 0;
}

static int add_event(kgn_events *ev, const kgg_event *e)
{
    if (kg_grow(&ev->ev, &ev->cap, ev->n + 1, sizeof *ev->ev))
        return -1;
    kgg_event *d = &ev->ev[ev->n];
    *d = *e;
    d->learner = kg_arena_strdup(ev->arena, e->learner);
    d->concept = kg_arena_strdup(ev->arena, e->concept);
    if (!d->learner || !d->concept)
        return -1;
    ev->n++;
    return 0;
}

/* Checks an identifier: non-empty, at most max bytes, no control chars. */
static const char *check_id(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0)
        return "is empty";
    if (n > max)
        return "is too long";
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return "contains a control character";
    return NULL;
}

/* Where a message is anchored: "name:line:col" or "name:statement N". */
typedef struct where {
    const char *name;
    size_t line;        /* 0: use stmt */
    size_t stmt;
} where;


static int bad(kgn_events *ev, const where *w, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(kgn_events *ev, const where *w, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (w->line)
        return add_error(ev, "%s:%zu:1: %s", w->name, w->line, msg);
    return add_error(ev, "%s: statement %zu: %s", w->name, w->stmt, msg);
}

static int get_number(json_t *o, const char *k, double *out, int *present)
{
    json_t *v = json_object_get(o, k);
    *present = v && !json_is_null(v);
    if (!*present)
        return 0;
    if (!json_is_number(v))
        return -1;
    *out = json_number_value(v);
    return isfinite(*out) ? 0 : -1;
}

/* Finishes validation common to both forms and appends. Returns 0 or -1
 * when out of memory (input errors are recorded). */
static int validate_add(kgn_events *ev, const where *w, kgg_event *e)
{
    const char *why;
    if ((why = check_id(e->learner, KGG_LEARNER_MAX)))
        return bad(ev, w, "learner id %s", why);
    if ((why = check_id(e->concept, KGG_CONCEPT_MAX)))
        return bad(ev, w, "concept %s", why);
    if (strchr(e->learner, '\t') || strchr(e->concept, '\t'))
        return bad(ev, w, "ids may not contain tabs");
    if (e->kind == KGG_EV_QUIZ && e->score < 0 && e->grade == 0)
        return bad(ev, w, "a quiz needs \"score\" (0..1) or \"grade\" (1..4)");
    if (e->kind == KGG_EV_REVIEW && e->grade == 0)
        return bad(ev, w, "a review needs \"grade\" (1 again, 2 hard, 3 good, 4 easy)");
    return add_event(ev, e);
}

static int parse_kgpath(kgn_events *ev, const where *w, json_t *o)
{
    kgg_event e = { .dwell = -1, .score = -1 };
    json_t *v;
    const char *req[] = { "learner", "concept", "kind", "at" };
    for (int i = 0; i < 4; i++) {
        v = json_object_get(o, req[i]);
        if (!v)
            return bad(ev, w, "missing \"%s\"", req[i]);
        if (!json_is_string(v))
            return bad(ev, w, "\"%s\" must be a string", req[i]);
    }
    e.learner = json_string_value(json_object_get(o, "learner"));
    e.concept = json_string_value(json_object_get(o, "concept"));
    const char *kind = json_string_value(json_object_get(o, "kind"));
    if (!(e.kind = kgg_event_kind_parse(kind)))
        return bad(ev, w, "\"kind\" is \"%.40s\"; expected read, quiz or review", kind);
    char terr[128];
    const char *at = json_string_value(json_object_get(o, "at"));
    if (kgn_parse_timestamp(at, &e.at, terr, sizeof terr))
        return bad(ev, w, "\"at\" \"%.60s\": %s", at, terr);
    int present;
    double x;
    if (get_number(o, "dwell_seconds", &x, &present))
        return bad(ev, w, "\"dwell_seconds\" must be a number");
    if (present) {
        if (x < 0 || x > 1e8)
            return bad(ev, w, "\"dwell_seconds\" %g out of range (0..1e8)", x);
        e.dwell = x;
    }
    if (get_number(o, "score", &x, &present))
        return bad(ev, w, "\"score\" must be a number");
    if (present) {
        if (x < 0 || x > 1)
            return bad(ev, w, "\"score\" %g out of range (0..1)", x);
        e.score = x;
    }
    v = json_object_get(o, "grade");
    if (v && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 ||
            json_integer_value(v) > 4)
            return bad(ev, w, "\"grade\" must be 1 (again), 2 (hard), 3 (good) or 4 (easy)");
        e.grade = (int)json_integer_value(v);
    }
    return validate_add(ev, w, &e);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Concept key from an xAPI object id, into buf. */
static void concept_from_iri(const char *id, char *buf, size_t cap)
{
    const char *s = id;
    if (strncmp(id, "urn:kgpath:", 11) == 0) {
        s = id + 11;
    } else {
        size_t n = strcspn(id, "?");
        const char *end = id + n;
        if (end > id && end[-1] == '/')
            end--;
        const char *q = end;
        while (q > id && q[-1] != '/' && q[-1] != '#')
            q--;
        if (q > id && q < end) {
            size_t m = (size_t)(end - q);
            if (m >= cap)
                m = cap - 1;
            char tmp[KGG_CONCEPT_MAX + 64];
            if (m >= sizeof tmp)
                m = sizeof tmp - 1;
            memcpy(tmp, q, m);
            tmp[m] = '\0';
            s = tmp;
            size_t o = 0;
            for (size_t i = 0; s[i] && o + 1 < cap; i++) {
                int a, b;
                if (s[i] == '%' && (a = hexval((unsigned char)s[i + 1])) >= 0 &&
                    (b = hexval((unsigned char)s[i + 2])) >= 0) {
                    buf[o++] = (char)(a * 16 + b);
                    i += 2;
                } else {
                    buf[o++] = s[i];
                }
            }
            buf[o] = '\0';
            return;
        }
    }
    snprintf(buf, cap, "%s", s);
}

static const char *verb_word(const char *id)
{
    const char *q = id + strlen(id);
    while (q > id && q[-1] != '/' && q[-1] != '#' && q[-1] != ':')
        q--;
    return q;
}

static int parse_xapi(kgn_events *ev, const where *w, json_t *o)
{
    kgg_event e = { .dwell = -1, .score = -1 };
    json_t *actor = json_object_get(o, "actor");
    json_t *verb = json_object_get(o, "verb");
    json_t *obj = json_object_get(o, "object");
    json_t *res = json_object_get(o, "result");
    if (!json_is_object(actor))
        return bad(ev, w, "xAPI statement without an \"actor\" object");
    if (!json_is_object(verb) || !json_is_string(json_object_get(verb, "id")))
        return bad(ev, w, "xAPI statement without \"verb.id\"");
    if (!json_is_object(obj) || !json_is_string(json_object_get(obj, "id")))
        return bad(ev, w, "xAPI statement without \"object.id\"");

    char learner[KGG_LEARNER_MAX + 64];
    json_t *acc = json_object_get(actor, "account");
    const char *mbox = json_string_value(json_object_get(actor, "mbox"));
    const char *sha = json_string_value(json_object_get(actor, "mbox_sha1sum"));
    const char *oid = json_string_value(json_object_get(actor, "openid"));
    if (json_is_object(acc) && json_is_string(json_object_get(acc, "name")))
        snprintf(learner, sizeof learner, "%s",
                 json_string_value(json_object_get(acc, "name")));
    else if (mbox)
        snprintf(learner, sizeof learner, "%s",
                 strncmp(mbox, "mailto:", 7) == 0 ? mbox + 7 : mbox);
    else if (sha)
        snprintf(learner, sizeof learner, "%s", sha);
    else if (oid)
        snprintf(learner, sizeof learner, "%s", oid);
    else
        return bad(ev, w, "xAPI actor has none of account.name, mbox, "
                          "mbox_sha1sum, openid");
    e.learner = learner;

    const char *vid = json_string_value(json_object_get(verb, "id"));
    const char *vw = verb_word(vid);
    int passfail = -1;
    if (!strcmp(vw, "experienced") || !strcmp(vw, "completed"))
        e.kind = KGG_EV_READ;
    else if (!strcmp(vw, "passed"))
        e.kind = KGG_EV_QUIZ, passfail = 1;
    else if (!strcmp(vw, "failed"))
        e.kind = KGG_EV_QUIZ, passfail = 0;
    else if (!strcmp(vw, "answered") || !strcmp(vw, "scored") ||
             !strcmp(vw, "attempted"))
        e.kind = KGG_EV_QUIZ;
    else
        return bad(ev, w, "xAPI verb \"%.80s\" is not one of experienced, "
                          "completed, passed, failed, answered, scored, attempted",
                   vid);

    char concept[KGG_CONCEPT_MAX + 64];
    concept_from_iri(json_string_value(json_object_get(obj, "id")), concept,
                     sizeof concept);
    e.concept = concept;

    if (res && !json_is_object(res))
        return bad(ev, w, "xAPI \"result\" must be an object");
    if (res) {
        json_t *sc = json_object_get(res, "score");
        double x;
        int present;
        if (sc && !json_is_object(sc))
            return bad(ev, w, "xAPI \"result.score\" must be an object");
        if (sc) {
            if (get_number(sc, "scaled", &x, &present))
                return bad(ev, w, "\"result.score.scaled\" must be a number");
            if (present) {
                if (x < -1 || x > 1)
                    return bad(ev, w, "\"result.score.scaled\" %g out of range (-1..1)", x);
                e.score = x < 0 ? 0 : x;
            } else {
                double raw, max, min = 0;
                int pr, pm, pn;
                if (get_number(sc, "raw", &raw, &pr) ||
                    get_number(sc, "max", &max, &pm) ||
                    get_number(sc, "min", &min, &pn))
                    return bad(ev, w, "\"result.score\" raw/min/max must be numbers");
                if (!pn)
                    min = 0;
                if (pr && pm && max > min)
                    e.score = fmax(0, fmin(1, (raw - min) / (max - min)));
            }
        }
        json_t *succ = json_object_get(res, "success");
        if (e.score < 0 && json_is_boolean(succ))
            e.score = json_is_true(succ) ? 1.0 : 0.0;
        json_t *dur = json_object_get(res, "duration");
        if (dur) {
            double d;
            if (!json_is_string(dur) || kgn_parse_duration(json_string_value(dur), &d))
                return bad(ev, w, "\"result.duration\" is not an ISO 8601 duration "
                                  "(e.g. PT9M30S)");
            e.dwell = d;
        }
    }
    if (e.score < 0 && passfail >= 0)
        e.score = passfail;
    if (e.kind == KGG_EV_READ && e.score >= 0 && !strcmp(vw, "completed"))
        e.kind = KGG_EV_QUIZ;
    else if (e.kind == KGG_EV_READ)
        e.score = -1;

    json_t *ts = json_object_get(o, "timestamp");
    if (!ts)
        ts = json_object_get(o, "stored");
    if (!json_is_string(ts))
        return bad(ev, w, "xAPI statement without a \"timestamp\"");
    char terr[128];
    if (kgn_parse_timestamp(json_string_value(ts), &e.at, terr, sizeof terr))
        return bad(ev, w, "\"timestamp\" \"%.60s\": %s", json_string_value(ts), terr);
    return validate_add(ev, w, &e);
}

static int parse_object(kgn_events *ev, const where *w, json_t *o)
{
    if (!json_is_object(o))
        return bad(ev, w, "expected a JSON object");
    if (json_object_get(o, "actor") || json_object_get(o, "verb"))
        return parse_xapi(ev, w, o);
    return parse_kgpath(ev, w, o);
}

static int parse_document(kgn_events *ev, const char *name, json_t *doc)
{
    json_t *arr = doc;
    if (json_is_object(doc) && json_is_array(json_object_get(doc, "statements")))
        arr = json_object_get(doc, "statements");
    where w = { .name = name };
    if (json_is_object(arr)) {
        ev->lines++;
        w.stmt = 1;
        return parse_object(ev, &w, arr);
    }
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        ev->lines++;
        w.stmt = i + 1;
        if (parse_object(ev, &w, v))
            return -1;
    }
    return 0;
}

int kgn_events_parse(kgn_events *ev, const char *name, const char *buf,
                     size_t len)
{
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
        buf += 3;           /* a UTF-8 byte order mark (Windows exports) */
        len -= 3;
    }
    size_t i = 0;
    while (i < len && isspace((unsigned char)buf[i]))
        i++;
    if (i == len)
        return 0;
    /* A whole JSON document (array of statements, LRS response, or one
     * pretty-printed statement) when the buffer starts with '[' or does not
     * parse line by line but parses as a whole. */
    if (buf[i] == '[' || buf[i] == '{') {
        const char *nl = memchr(buf + i, '\n', len - i);
        int try_doc = buf[i] == '[';
        if (!try_doc && nl) {
            json_t *first = json_loadb(buf + i, (size_t)(nl - (buf + i)),
                                       JSON_REJECT_DUPLICATES, NULL);
            try_doc = first == NULL;
            json_decref(first);
        }
        if (try_doc) {
            json_error_t je;
            json_t *doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
            if (doc && (json_is_array(doc) || json_is_object(doc))) {
                int rc = parse_document(ev, name, doc);
                json_decref(doc);
                return rc;
            }
            json_decref(doc);
            if (buf[i] == '[')
                return add_error(ev, "%s:%d:%d: %s", name, je.line, je.column,
                                 je.text);
        }
    }
    size_t line = 0, pos = 0;
    while (pos < len) {
        const char *s = buf + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl ? 1 : 0);
        line++;
        size_t a = 0, b = n;
        while (a < b && isspace((unsigned char)s[a]))
            a++;
        while (b > a && isspace((unsigned char)s[b - 1]))
            b--;
        if (a == b)
            continue;
        ev->lines++;
        json_error_t je;
        json_t *o = json_loadb(s, b, JSON_REJECT_DUPLICATES, &je);
        if (!o) {
            if (add_error(ev, "%s:%zu:%d: %s", name, line, je.column, je.text))
                return -1;
            continue;
        }
        where w = { .name = name, .line = line };
        int rc = parse_object(ev, &w, o);
        json_decref(o);
        if (rc)
            return -1;
    }
    return 0;
}
