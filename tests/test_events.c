/* Learner events: parsing (kgpath lines, xAPI variants, time zones,
 * malformed lines), canonical encoding and keys. Storage tests are in the
 * "store" case (LMDB, temp dirs). */
#include <check.h>
#include <math.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kgpath.h"
#include "graph/store.h"
#include "graph/learner_store.h"
#include "api_internal.h"
#include "planner/learner_fsrs.h"
#include "planner/learner_bkt.h"
#include "planner/learner_events.h"
#include "planner/learner_fit.h"
#include "tests/testutil.h"

static kgn_events parse(const char *text)
{
    kgn_events ev;
    ck_assert_int_eq(kgn_events_init(&ev), 0);
    ck_assert_int_eq(kgn_events_parse(&ev, "in.jsonl", text, strlen(text)), 0);
    return ev;
}

/* 2026-11-28T10:15:00Z */
#define T_REF 1795860900LL

START_TEST(timestamps)
{
    int64_t t;
    char err[128];
    ck_assert_int_eq(kgn_parse_timestamp("2026-11-28T10:15:00Z", &t, err, sizeof err), 0);
    ck_assert_int_eq(t, T_REF);
    ck_assert_int_eq(kgn_parse_timestamp("2026-11-28T12:15:00+02:00", &t, err, sizeof err), 0);
    ck_assert_int_eq(t, T_REF);
    ck_assert_int_eq(kgn_parse_timestamp("2026-11-28T05:15:00-0500", &t, err, sizeof err), 0);
    ck_assert_int_eq(t, T_REF);
    ck_assert_int_eq(kgn_parse_timestamp("2026-11-28T15:45:00.250+05:30", &t, err, sizeof err), 0);
    ck_assert_int_eq(t, T_REF);
    ck_assert_int_eq(kgn_parse_timestamp("2026-11-28 10:15z", &t, err, sizeof err), 0);
    ck_assert_int_eq(t, T_REF);
    ck_assert_int_eq(kgn_parse_timestamp("2026-11-29T00:15:00+14", &t, err, sizeof err), 0);
    ck_assert_int_eq(t, T_REF);
    /* date crossing: 23:30 at -03:00 is the next day in UTC */
    ck_assert_int_eq(kgn_parse_timestamp("2026-12-31T23:30:00-03:00", &t, err, sizeof err), 0);
    ck_assert_int_eq(t, 1798770600LL);   /* 2027-01-01T02:30:00Z */
    ck_assert_int_eq(kgn_parse_timestamp("2024-02-29T00:00:00Z", &t, err, sizeof err), 0);
    ck_assert_int_eq(t, 1709164800LL);
    ck_assert_int_eq(kgn_parse_timestamp("1969-12-31T23:59:59Z", &t, err, sizeof err), 0);
    ck_assert_int_eq(t, -1);
    /* errors */
    ck_assert_int_eq(kgn_parse_timestamp("2026-11-28T10:15:00", &t, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "time zone"));
    ck_assert_int_eq(kgn_parse_timestamp("2026-11-28", &t, err, sizeof err), -1);
    ck_assert_int_eq(kgn_parse_timestamp("2025-02-29T00:00:00Z", &t, err, sizeof err), -1);
    ck_assert_int_eq(kgn_parse_timestamp("2026-13-01T00:00:00Z", &t, err, sizeof err), -1);
    ck_assert_int_eq(kgn_parse_timestamp("2026-11-28T25:00:00Z", &t, err, sizeof err), -1);
    ck_assert_int_eq(kgn_parse_timestamp("2026-11-28T10:15:00+25:00", &t, err, sizeof err), -1);
    ck_assert_int_eq(kgn_parse_timestamp("2026-11-28T10:15:00Zjunk", &t, err, sizeof err), -1);
    ck_assert_int_eq(kgn_parse_timestamp("yesterday", &t, err, sizeof err), -1);
    char buf[32];
    kgn_format_timestamp(T_REF, buf, sizeof buf);
    ck_assert_str_eq(buf, "2026-11-28T10:15:00Z");
}
END_TEST

START_TEST(durations)
{
    double d;
    ck_assert_int_eq(kgn_parse_duration("PT9M", &d), 0);
    ck_assert_double_eq(d, 540);
    ck_assert_int_eq(kgn_parse_duration("P1DT2H", &d), 0);
    ck_assert_double_eq(d, 93600);
    ck_assert_int_eq(kgn_parse_duration("PT1H0M1.5S", &d), 0);
    ck_assert_double_eq_tol(d, 3601.5, 1e-9);
    ck_assert_int_eq(kgn_parse_duration("P1W", &d), 0);
    ck_assert_double_eq(d, 604800);
    ck_assert_int_eq(kgn_parse_duration("P1M", &d), -1);     /* months: ambiguous */
    ck_assert_int_eq(kgn_parse_duration("P1Y", &d), -1);
    ck_assert_int_eq(kgn_parse_duration("PT", &d), -1);
    ck_assert_int_eq(kgn_parse_duration("P", &d), -1);
    ck_assert_int_eq(kgn_parse_duration("9M", &d), -1);
    ck_assert_int_eq(kgn_parse_duration("PT1.5M3S", &d), -1); /* fraction not last */
}
END_TEST

START_TEST(kgpath_lines)
{
    kgn_events ev = parse(
        "{\"learner\":\"u42\",\"concept\":\"ml:gradient-descent\",\"kind\":\"read\","
        "\"at\":\"2026-11-28T10:15:00Z\",\"dwell_seconds\":540}\n"
        "\r\n"
        "{\"learner\":\"u42\",\"concept\":\"ml:gradient-descent\",\"kind\":\"quiz\","
        "\"at\":\"2026-11-28T11:15:00+01:00\",\"score\":0.8}\r\n"
        "  {\"learner\":\"u42\",\"concept\":\"ml:x\",\"kind\":\"review\","
        "\"at\":\"2026-11-29T10:15:00Z\",\"grade\":3,\"extra\":[1]}  \n");
    ck_assert_uint_eq(ev.nerr, 0);
    ck_assert_uint_eq(ev.n, 3);
    ck_assert_uint_eq(ev.lines, 3);
    ck_assert_str_eq(ev.ev[0].learner, "u42");
    ck_assert_str_eq(ev.ev[0].concept, "ml:gradient-descent");
    ck_assert_int_eq(ev.ev[0].kind, KGG_EV_READ);
    ck_assert_int_eq(ev.ev[0].at, T_REF);
    ck_assert_double_eq(ev.ev[0].dwell, 540);
    ck_assert_double_eq(ev.ev[0].score, -1);
    ck_assert_int_eq(ev.ev[1].kind, KGG_EV_QUIZ);
    ck_assert_int_eq(ev.ev[1].at, T_REF);
    ck_assert_double_eq(ev.ev[1].score, 0.8);
    ck_assert_int_eq(ev.ev[2].grade, 3);
    kgn_events_free(&ev);
}
END_TEST

START_TEST(byte_order_mark)
{
    kgn_events ev = parse("\xEF\xBB\xBF{\"learner\":\"a\",\"concept\":\"c:1\",\"kind\":\"read\","
                          "\"at\":\"2026-11-28T10:15:00Z\"}\n");
    ck_assert_uint_eq(ev.nerr, 0);
    ck_assert_uint_eq(ev.n, 1);
    kgn_events_free(&ev);
}
END_TEST

START_TEST(malformed_lines_reported_good_kept)
{
    kgn_events ev = parse(
        "{\"learner\":\"a\",\"concept\":\"c:1\",\"kind\":\"read\",\"at\":\"2026-11-28T10:15:00Z\"}\n"
        "{\"learner\":\"a\",\"concept\":\"c:1\",\"kind\":\"read\",\n"                      /* 2: broken JSON */
        "{\"concept\":\"c:1\",\"kind\":\"read\",\"at\":\"2026-11-28T10:15:00Z\"}\n"         /* 3: no learner */
        "{\"learner\":\"a\",\"concept\":\"c:1\",\"kind\":\"watch\",\"at\":\"2026-11-28T10:15:00Z\"}\n" /* 4 */
        "{\"learner\":\"a\",\"concept\":\"c:1\",\"kind\":\"quiz\",\"at\":\"2026-11-28T10:15:00Z\",\"score\":1.5}\n" /* 5 */
        "{\"learner\":\"a\",\"concept\":\"c:1\",\"kind\":\"review\",\"at\":\"2026-11-28T10:15:00Z\"}\n" /* 6 */
        "{\"learner\":\"a\",\"concept\":\"c:1\",\"kind\":\"review\",\"at\":\"2026-11-28T10:15:00Z\",\"grade\":5}\n" /* 7 */
        "{\"learner\":\"a\",\"concept\":\"c:1\",\"kind\":\"read\",\"at\":\"2026-11-28T10:15:00\"}\n" /* 8: no zone */
        "[1,2]\n"                                                                         /* 9 */
        "{\"learner\":\"\",\"concept\":\"c:1\",\"kind\":\"read\",\"at\":\"2026-11-28T10:15:00Z\"}\n" /* 10 */
        "{\"learner\":\"a\",\"concept\":\"c:1\",\"kind\":\"quiz\",\"at\":\"2026-11-28T10:15:00Z\"}\n" /* 11 */
        "{\"learner\":\"a\",\"concept\":\"c:1\",\"kind\":\"read\",\"at\":\"2026-11-28T10:15:00Z\",\"dwell_seconds\":-4}\n" /* 12 */
        "{\"learner\":\"b\",\"concept\":\"c:2\",\"kind\":\"quiz\",\"at\":\"2026-11-28T10:15:00Z\",\"grade\":2}\n");
    ck_assert_uint_eq(ev.n, 2);
    ck_assert_str_eq(ev.ev[1].learner, "b");
    ck_assert_uint_eq(ev.nerr, 11);
    ck_assert_uint_eq(ev.nerr_kept, 11);
    const char *want[] = { "in.jsonl:2:", "in.jsonl:3:1: missing \"learner\"",
                           "in.jsonl:4:1: \"kind\"", "in.jsonl:5:1: \"score\"",
                           "in.jsonl:6:1: a review needs", "in.jsonl:7:1: \"grade\"",
                           "in.jsonl:8:1: \"at\"", "in.jsonl:9:1: expected a JSON object",
                           "in.jsonl:10:1: learner id is empty",
                           "in.jsonl:11:1: a quiz needs", "in.jsonl:12:1: \"dwell_seconds\"" };
    for (int i = 0; i < 11; i++)
        ck_assert_msg(strncmp(ev.err[i], want[i], strlen(want[i])) == 0,
                      "error %d: %s (want %s)", i, ev.err[i], want[i]);
    kgn_events_free(&ev);
}
END_TEST

START_TEST(xapi_variants)
{
    kgn_events ev = parse(
        /* account.name, experienced, duration */
        "{\"actor\":{\"account\":{\"homePage\":\"https://lms.example\",\"name\":\"u42\"}},"
        "\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/experienced\"},"
        "\"object\":{\"id\":\"https://kg.example/concepts/ml%3Agradient-descent\"},"
        "\"result\":{\"duration\":\"PT9M\"},\"timestamp\":\"2026-11-28T11:15:00+01:00\"}\n"
        /* mbox, passed with scaled score, urn */
        "{\"actor\":{\"mbox\":\"mailto:ann@example.org\"},"
        "\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/passed\"},"
        "\"object\":{\"id\":\"urn:kgpath:ml:svm\"},"
        "\"result\":{\"score\":{\"scaled\":0.85}},\"timestamp\":\"2026-11-28T10:15:00Z\"}\n"
        /* failed without score → 0 */
        "{\"actor\":{\"mbox_sha1sum\":\"abc123\"},"
        "\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/failed\"},"
        "\"object\":{\"id\":\"http://x.example/a/b/c:d/\"},\"timestamp\":\"2026-11-28T10:15:00Z\"}\n"
        /* answered with success, raw/max */
        "{\"actor\":{\"account\":{\"name\":\"u7\"}},"
        "\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/answered\"},"
        "\"object\":{\"id\":\"http://x.example/q#c:e\"},"
        "\"result\":{\"score\":{\"raw\":3,\"max\":4}},\"stored\":\"2026-11-28T10:15:00Z\"}\n"
        /* completed with score → quiz */
        "{\"actor\":{\"account\":{\"name\":\"u7\"}},"
        "\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/completed\"},"
        "\"object\":{\"id\":\"urn:kgpath:c:f\"},"
        "\"result\":{\"success\":true},\"timestamp\":\"2026-11-28T10:15:00Z\"}\n"
        /* unknown verb */
        "{\"actor\":{\"account\":{\"name\":\"u7\"}},"
        "\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/liked\"},"
        "\"object\":{\"id\":\"urn:kgpath:c:f\"},\"timestamp\":\"2026-11-28T10:15:00Z\"}\n"
        /* actor without identity */
        "{\"actor\":{\"name\":\"Ann\"},"
        "\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/passed\"},"
        "\"object\":{\"id\":\"urn:kgpath:c:f\"},\"timestamp\":\"2026-11-28T10:15:00Z\"}\n"
        /* bad duration */
        "{\"actor\":{\"account\":{\"name\":\"u7\"}},"
        "\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/experienced\"},"
        "\"object\":{\"id\":\"urn:kgpath:c:f\"},\"result\":{\"duration\":\"9 minutes\"},"
        "\"timestamp\":\"2026-11-28T10:15:00Z\"}\n");
    ck_assert_uint_eq(ev.n, 5);
    ck_assert_uint_eq(ev.nerr, 3);
    ck_assert_str_eq(ev.ev[0].learner, "u42");
    ck_assert_str_eq(ev.ev[0].concept, "ml:gradient-descent");
    ck_assert_int_eq(ev.ev[0].kind, KGG_EV_READ);
    ck_assert_double_eq(ev.ev[0].dwell, 540);
    ck_assert_int_eq(ev.ev[0].at, T_REF);
    ck_assert_str_eq(ev.ev[1].learner, "ann@example.org");
    ck_assert_str_eq(ev.ev[1].concept, "ml:svm");
    ck_assert_int_eq(ev.ev[1].kind, KGG_EV_QUIZ);
    ck_assert_double_eq(ev.ev[1].score, 0.85);
    ck_assert_str_eq(ev.ev[2].learner, "abc123");
    ck_assert_str_eq(ev.ev[2].concept, "c:d");
    ck_assert_double_eq(ev.ev[2].score, 0);
    ck_assert_str_eq(ev.ev[3].concept, "c:e");
    ck_assert_double_eq(ev.ev[3].score, 0.75);
    ck_assert_int_eq(ev.ev[4].kind, KGG_EV_QUIZ);
    ck_assert_double_eq(ev.ev[4].score, 1.0);
    ck_assert_ptr_nonnull(strstr(ev.err[0], "in.jsonl:6:1: xAPI verb"));
    ck_assert_ptr_nonnull(strstr(ev.err[1], "in.jsonl:7:1: xAPI actor"));
    ck_assert_ptr_nonnull(strstr(ev.err[2], "in.jsonl:8:1: \"result.duration\""));
    kgn_events_free(&ev);
}
END_TEST

START_TEST(xapi_documents)
{
    /* an LRS response, pretty-printed over several lines */
    kgn_events ev = parse(
        "{\n  \"statements\": [\n"
        "    {\"actor\":{\"account\":{\"name\":\"u1\"}},\n"
        "     \"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/passed\"},\n"
        "     \"object\":{\"id\":\"urn:kgpath:c:a\"},\"timestamp\":\"2026-11-28T10:15:00Z\"},\n"
        "    {\"actor\":{\"account\":{\"name\":\"u1\"}},\n"
        "     \"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/bogus\"},\n"
        "     \"object\":{\"id\":\"urn:kgpath:c:a\"},\"timestamp\":\"2026-11-28T10:15:00Z\"}\n"
        "  ],\n  \"more\": \"\"\n}\n");
    ck_assert_uint_eq(ev.n, 1);
    ck_assert_uint_eq(ev.nerr, 1);
    ck_assert_ptr_nonnull(strstr(ev.err[0], "statement 2"));
    kgn_events_free(&ev);
    /* a plain array */
    ev = parse("[{\"actor\":{\"account\":{\"name\":\"u1\"}},"
               "\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/experienced\"},"
               "\"object\":{\"id\":\"urn:kgpath:c:a\"},\"timestamp\":\"2026-11-28T10:15:00Z\"}]");
    ck_assert_uint_eq(ev.n, 1);
    ck_assert_uint_eq(ev.nerr, 0);
    kgn_events_free(&ev);
    /* a broken array: one error with its position */
    ev = parse("[{\"actor\":\n{]\n");
    ck_assert_uint_eq(ev.n, 0);
    ck_assert_uint_eq(ev.nerr, 1);
    ck_assert_ptr_nonnull(strstr(ev.err[0], "in.jsonl:2:"));
    kgn_events_free(&ev);
    /* empty input */
    ev = parse("  \n\n");
    ck_assert_uint_eq(ev.n + ev.nerr + ev.lines, 0);
    kgn_events_free(&ev);
}
END_TEST

START_TEST(many_errors_counted)
{
    char *buf = malloc(200 * 8 + 1);
    buf[0] = 0;
    for (int i = 0; i < 200; i++)
        strcat(buf, "{bad}\n\n");
    kgn_events ev = parse(buf);
    ck_assert_uint_eq(ev.nerr, 200);
    ck_assert_uint_eq(ev.nerr_kept, KGN_EVENTS_MAX_ERRORS);
    ck_assert_ptr_nonnull(strstr(ev.err[99], "in.jsonl:199:"));
    kgn_events_free(&ev);
    free(buf);
}
END_TEST

START_TEST(canonical_encoding)
{
    kgg_event a = { "u42", "ml:gd", KGG_EV_QUIZ, T_REF, 12.5, 0.8, 0 };
    char buf[256], sb[256];
    int n = kgg_event_encode(&a, buf, sizeof buf);
    ck_assert_int_gt(n, 0);
    ck_assert_str_eq(buf, "1\tu42\tml:gd\tquiz\t1795860900\t12.5\t0.80000000000000004\t0");
    kgg_event b;
    ck_assert_int_eq(kgg_event_decode(buf, (size_t)n, sb, &b), 0);
    ck_assert_str_eq(b.learner, "u42");
    ck_assert_str_eq(b.concept, "ml:gd");
    ck_assert_int_eq(b.kind, KGG_EV_QUIZ);
    ck_assert_int_eq(b.at, T_REF);
    ck_assert_double_eq(b.dwell, 12.5);
    ck_assert_double_eq(b.score, 0.8);
    ck_assert_uint_eq(kgg_event_hash(&a), kgg_event_hash(&b));
    b.score = 0.81;
    ck_assert_uint_ne(kgg_event_hash(&a), kgg_event_hash(&b));
    /* unknowns */
    kgg_event c = { "u", "c", KGG_EV_READ, -5, -1, -1, 0 };
    n = kgg_event_encode(&c, buf, sizeof buf);
    ck_assert_str_eq(buf, "1\tu\tc\tread\t-5\t-\t-\t0");
    ck_assert_int_eq(kgg_event_decode(buf, (size_t)n, sb, &b), 0);
    ck_assert_double_eq(b.dwell, -1);
    /* malformed */
    ck_assert_int_eq(kgg_event_decode("2\tu\tc\tread\t1\t-\t-\t0", 18, sb, &b), -1);
    ck_assert_int_eq(kgg_event_decode("1\tu\tc\tjump\t1\t-\t-\t0", 18, sb, &b), -1);
    ck_assert_int_eq(kgg_event_decode("1\tu\tc", 5, sb, &b), -1);
    kgg_event t = { "u\tv", "c", KGG_EV_READ, 0, -1, -1, 0 };
    ck_assert_int_eq(kgg_event_encode(&t, buf, sizeof buf), -1);
    /* keys sort by learner, then time (negative times first) */
    unsigned char k1[64], k2[64], k3[64];
    kgg_event e1 = { "u", "c", KGG_EV_READ, -10, -1, -1, 0 };
    kgg_event e2 = { "u", "c", KGG_EV_READ, 5, -1, -1, 0 };
    kgg_event e3 = { "ua", "c", KGG_EV_READ, -100, -1, -1, 0 };
    int l1 = kgg_event_key(&e1, k1, sizeof k1), l2 = kgg_event_key(&e2, k2, sizeof k2);
    int l3 = kgg_event_key(&e3, k3, sizeof k3);
    ck_assert_int_eq(l1, 18);
    ck_assert_int_lt(memcmp(k1, k2, 18), 0);
    ck_assert_int_lt(memcmp(k2, k3, (size_t)(l2 < l3 ? l2 : l3)), 0);
}
END_TEST


/* ---- storage ------------------------------------------------------------ */

typedef struct collect {
    int64_t at[64];
    char concept[64][32];
    int kind[64];
    int n;
    int stop_after;
} collect;

static int collect_fn(void *ud, const kgg_event *e)
{
    collect *c = ud;
    if (c->n < 64) {
        c->at[c->n] = e->at;
        snprintf(c->concept[c->n], 32, "%s", e->concept);
        c->kind[c->n] = e->kind;
    }
    c->n++;
    return c->stop_after && c->n >= c->stop_after;
}

static kgg_store *open_store(char **dir)
{
    *dir = tu_mkdtemp();
    char *path = tu_path(*dir, "k.db");
    kgg_store *st = NULL;
    kgg_err e;
    ck_assert_msg(kgg_store_open(path, 0, 0, &st, &e) == KGP_OK, "%s", e.msg);
    free(path);
    return st;
}

START_TEST(store_idempotent_and_ordered)
{
    char *dir;
    kgg_store *st = open_store(&dir);
    kgg_err e;
    /* out of order, with a duplicate inside the batch */
    kgn_events ev = parse(
        "{\"learner\":\"u1\",\"concept\":\"c:b\",\"kind\":\"quiz\",\"at\":\"2026-11-28T12:00:00Z\",\"score\":1}\n"
        "{\"learner\":\"u1\",\"concept\":\"c:a\",\"kind\":\"read\",\"at\":\"2026-11-28T10:00:00Z\",\"dwell_seconds\":300}\n"
        "{\"learner\":\"u2\",\"concept\":\"c:a\",\"kind\":\"read\",\"at\":\"2026-11-27T10:00:00Z\"}\n"
        "{\"learner\":\"u1\",\"concept\":\"c:b\",\"kind\":\"quiz\",\"at\":\"2026-11-28T14:00:00+02:00\",\"score\":1}\n");
    ck_assert_uint_eq(ev.n, 4);
    size_t added, dups;
    ck_assert_msg(kgg_learner_append(st, ev.ev, ev.n, &added, &dups, &e) == KGP_OK, "%s", e.msg);
    ck_assert_uint_eq(added, 3);
    ck_assert_uint_eq(dups, 1);
    /* the same file again: nothing new */
    ck_assert(kgg_learner_append(st, ev.ev, ev.n, &added, &dups, &e) == KGP_OK);
    ck_assert_uint_eq(added, 0);
    ck_assert_uint_eq(dups, 4);
    kgn_events_free(&ev);
    /* an earlier event arrives later: replay puts it first */
    ev = parse("{\"learner\":\"u1\",\"concept\":\"c:a\",\"kind\":\"review\",\"at\":\"2026-11-01T08:00:00Z\",\"grade\":3}\n");
    ck_assert(kgg_learner_append(st, ev.ev, ev.n, &added, &dups, &e) == KGP_OK);
    ck_assert_uint_eq(added, 1);
    kgn_events_free(&ev);
    collect c = {0};
    ck_assert(kgg_learner_events(st, "u1", collect_fn, &c, &e) == KGP_OK);
    ck_assert_int_eq(c.n, 3);
    ck_assert_int_eq(c.kind[0], KGG_EV_REVIEW);
    ck_assert(c.at[0] < c.at[1] && c.at[1] < c.at[2]);
    ck_assert_str_eq(c.concept[2], "c:b");
    /* learner summary */
    kgg_learner_info info;
    ck_assert(kgg_learner_info_get(st, "u1", &info, &e) == KGP_OK);
    ck_assert_uint_eq(info.nevents, 3);
    ck_assert_int_eq(info.first, c.at[0]);
    ck_assert_int_eq(info.last, c.at[2]);
    /* "u1" is not a prefix match for "u10" and vice versa */
    ck_assert_int_eq(kgg_learner_events(st, "u", collect_fn, &c, &e), KGP_ENOTFOUND);
    ck_assert_int_eq(kgg_learner_info_get(st, "nobody", &info, &e), KGP_ENOTFOUND);
    /* all events, by learner then time; a visitor may stop early */
    collect all = {0};
    ck_assert(kgg_events_all(st, collect_fn, &all, &e) == KGP_OK);
    ck_assert_int_eq(all.n, 4);
    collect some = { .stop_after = 2 };
    ck_assert(kgg_events_all(st, collect_fn, &some, &e) == KGP_OK);
    ck_assert_int_eq(some.n, 2);
    kgg_store_close(st);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

static int count_learner(void *ud, const char *id, const kgg_learner_info *info)
{
    (void)id;
    *(uint64_t *)ud += info->nevents;
    return 0;
}

static int fit_collect(void *ud, const kgg_fit_rec *r)
{
    kgg_fit_rec *out = ud;
    *out = *r;
    out->concept = NULL;
    return 0;
}

START_TEST(store_bad_events_write_nothing)
{
    char *dir;
    kgg_store *st = open_store(&dir);
    kgg_err e;
    kgg_event ev[2] = {
        { "u1", "c:a", KGG_EV_READ, 100, -1, -1, 0 },
        { "u1", "c:a", 9, 200, -1, -1, 0 },          /* bad kind */
    };
    size_t added = 99, dups = 99;
    ck_assert_int_eq(kgg_learner_append(st, ev, 2, &added, &dups, &e), KGP_EINPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "event 2"));
    ck_assert_uint_eq(added, 0);
    uint64_t total = 0;
    ck_assert(kgg_learners_all(st, count_learner, &total, &e) == KGP_OK);
    ck_assert_uint_eq(total, 0);
    ev[1].kind = KGG_EV_QUIZ;
    ev[1].learner = "";
    ck_assert_int_eq(kgg_learner_append(st, ev, 2, &added, &dups, &e), KGP_EINPUT);
    ev[1].learner = "u2";
    ck_assert(kgg_learner_append(st, ev, 2, &added, &dups, &e) == KGP_OK);
    ck_assert(kgg_learners_all(st, count_learner, &total, &e) == KGP_OK);
    ck_assert_uint_eq(total, 2);
    /* fitted parameters round trip, replaced as a whole */
    kgg_fit_rec rec = { "c:a", 0.2, 0.3, 0.25, 0.15, 0.05, 0, 1, 42.5, 120, 9, 3.5, 12.25 };
    ck_assert(kgg_fit_replace(st, &rec, 1, &e) == KGP_OK);
    kgg_fit_rec got = {0};
    ck_assert(kgg_fit_all(st, fit_collect, &got, &e) == KGP_OK);
    ck_assert_double_eq(got.learn_read, 0.25);
    ck_assert_double_eq(got.minutes, 42.5);
    ck_assert_double_eq(got.review_ok, 3.5);
    ck_assert_double_eq(got.review_fail, 12.25);
    ck_assert_uint_eq(got.nobs, 120);
    ck_assert_int_eq(got.bkt_fitted, 1);
    ck_assert(kgg_fit_replace(st, NULL, 0, &e) == KGP_OK);
    got.nobs = 0;
    ck_assert(kgg_fit_all(st, fit_collect, &got, &e) == KGP_OK);
    ck_assert_uint_eq(got.nobs, 0);
    kgg_store_close(st);
    tu_rmrf(dir);
    free(dir);
}
END_TEST


/* ---- public API: observe, learner, fit, plans with the learner ----------- */

static char *g_dir;
static kgp_db *g_db;

static void api_setup(void)
{
    g_dir = tu_mkdtemp();
    char *path = tu_path(g_dir, "k.db");
    ck_assert_int_eq(kgp_db_open(path, 0, &g_db), KGP_OK);
    free(path);
}

static void api_teardown(void)
{
    kgp_db_close(g_db);
    g_db = NULL;
    tu_rmrf(g_dir);
    free(g_dir);
}

static void import_samples(void)
{
    char *a = tu_path(tu_source_root(), "data/samples/linalg.xml");
    char *b = tu_path(tu_source_root(), "data/samples/ml-intro.xml");
    const char *paths[] = { a, b };
    kgp_report *r = NULL;
    ck_assert_int_eq(kgp_import(g_db, paths, 2, NULL, &r), KGP_OK);
    kgp_report_free(r);
    free(a);
    free(b);
}

static kgp_observe_report *observe(const char *text, unsigned flags, kgp_status want)
{
    kgp_observe_report *r = NULL;
    kgp_status st = kgp_observe(g_db, "ev.jsonl", text, strlen(text), flags, &r);
    ck_assert_msg(st == want, "observe: %d (%s)", st, kgp_db_errmsg(g_db));
    ck_assert_ptr_nonnull(r);
    return r;
}

#define EV(l, c, k, at, extra) \
    "{\"learner\":\"" l "\",\"concept\":\"" c "\",\"kind\":\"" k "\",\"at\":\"" at "\"" extra "}\n"
/* A lesson on day D (YYYY-MM-DD) at hour H (HH): a reading, then two quizzes
 * with scores S1 and S2 (0 or 1) half an hour later. */
#define LESSON(l, c, d, h, s1, s2) \
    EV(l, c, "read", d "T" h ":00:00Z", ",\"dwell_seconds\":1800") \
    EV(l, c, "quiz", d "T" h ":30:00Z", ",\"score\":" #s1) \
    EV(l, c, "quiz", d "T" h ":35:00Z", ",\"score\":" #s2)

/* The sample courses with events (all of them good) observed. */
static void samples_with_events(const char *events)
{
    import_samples();
    kgp_observe_report_free(observe(events, 0, KGP_OK));
}

/* Learner id's state at date (YYYY-MM-DD) on snap (may be NULL); *at, when
 * at is not NULL, gets that time (unix seconds). The caller frees it. */
static kgp_learner *learner_on(kgp_snap *snap, const char *id, const char *date, int64_t *at)
{
    kgp_learner_options lo = {0};
    ck_assert_int_eq(kgp_parse_time(date, &lo.at), KGP_OK);
    kgp_learner *l = NULL;
    ck_assert_int_eq(kgp_learner_get(g_db, snap, id, &lo, &l), KGP_OK);
    if (at) *at = lo.at;
    return l;
}

/* The snapshot index of concept key. */
static uint32_t index_of(kgp_snap *snap, const char *key)
{
    uint32_t i = KGP_NONE;
    ck_assert_int_eq(kgp_snap_lookup(snap, key, &i), KGP_OK);
    return i;
}

START_TEST(api_observe_strict_and_duplicates)
{
    const char *text =
        EV("u1", "x:a", "read", "2026-11-01T10:00:00Z", ",\"dwell_seconds\":600")
        "garbage\n"
        EV("u1", "x:a", "quiz", "2026-11-01T10:30:00Z", ",\"score\":1");
    kgp_observe_report *r = observe(text, KGP_OBSERVE_STRICT, KGP_EINPUT);
    ck_assert_int_eq(r->committed, 0);
    ck_assert_uint_eq(r->nerrors, 1);
    ck_assert_ptr_nonnull(strstr(r->errors[0], "ev.jsonl:2:"));
    kgp_observe_report_free(r);
    kgp_learner *l = NULL;
    ck_assert_int_eq(kgp_learner_get(g_db, NULL, "u1", NULL, &l), KGP_ENOTFOUND);
    /* without --strict the good lines are kept */
    r = observe(text, 0, KGP_OK);
    ck_assert_int_eq(r->committed, 1);
    ck_assert_uint_eq(r->added, 2);
    ck_assert_uint_eq(r->learners, 1);
    kgp_observe_report_free(r);
    r = observe(text, 0, KGP_OK);
    ck_assert_uint_eq(r->added, 0);
    ck_assert_uint_eq(r->duplicates, 2);
    kgp_observe_report_free(r);
    /* dry run writes nothing */
    r = observe(EV("u9", "x:a", "read", "2026-11-01T10:00:00Z", ""), KGP_OBSERVE_DRY_RUN, KGP_OK);
    ck_assert_int_eq(r->committed, 0);
    kgp_observe_report_free(r);
    ck_assert_int_eq(kgp_learner_get(g_db, NULL, "u9", NULL, &l), KGP_ENOTFOUND);
    /* nothing well formed at all */
    r = observe("nope\n", 0, KGP_EINPUT);
    kgp_observe_report_free(r);
}
END_TEST

START_TEST(api_learner_state_out_of_order)
{
    import_samples();
    /* the quiz arrives before the reading it followed; replay sorts */
    kgp_observe_report *r = observe(
        EV("u1", "ml-intro:derivatives", "quiz", "2026-11-01T10:40:00Z", ",\"score\":1")
        EV("u1", "ml-intro:derivatives", "quiz", "2026-11-01T10:50:00Z", ",\"score\":1")
        EV("u1", "ml-intro:derivatives", "read", "2026-11-01T10:00:00Z", ",\"dwell_seconds\":2400")
        EV("u1", "ml-intro:loss-functions", "read", "2026-11-30T10:00:00Z", ",\"dwell_seconds\":60")
        EV("u1", "nowhere:x", "review", "2026-11-30T10:00:00Z", ",\"grade\":3"),
        0, KGP_OK);
    kgp_observe_report_free(r);
    kgp_snap *snap;
    ck_assert_int_eq(kgp_snap_open(g_db, &snap), KGP_OK);
    kgp_learner_options o = {0};
    ck_assert_int_eq(kgp_parse_time("2026-11-02", &o.at), KGP_OK);
    kgp_learner *l = NULL;
    ck_assert_int_eq(kgp_learner_get(g_db, snap, "u1", &o, &l), KGP_OK);
    /* the state on 11-02 knows nothing of the events of 11-30 */
    ck_assert_uint_eq(l->nevents, 3);
    ck_assert_uint_eq(l->nconcepts, 1);
    ck_assert_uint_eq(l->nlater, 2);
    ck_assert_int_eq(l->is_new, 0);
    kgp_learner_free(l);
    /* before the first event: not found, or a new learner on request */
    kgp_learner_options o0 = o;
    ck_assert_int_eq(kgp_parse_time("2026-10-01", &o0.at), KGP_OK);
    ck_assert_int_eq(kgp_learner_get(g_db, snap, "u1", &o0, &l), KGP_ENOTFOUND);
    o0.flags = KGP_LEARNER_NEW_OK;
    ck_assert_int_eq(kgp_learner_get(g_db, snap, "u1", &o0, &l), KGP_OK);
    ck_assert_int_eq(l->is_new, 1);
    ck_assert_uint_eq(l->nevents, 0);
    ck_assert_uint_eq(l->nlater, 5);
    ck_assert_uint_eq(l->count[KGP_NOT_STARTED], kgp_snap_count(snap));
    kgp_learner_free(l);
    ck_assert_int_eq(kgp_learner_get(g_db, snap, "nobody", &o0, &l), KGP_OK);
    ck_assert_int_eq(l->is_new, 1);
    kgp_learner_free(l);
    ck_assert_int_eq(kgp_parse_time("2026-12-01", &o.at), KGP_OK);
    ck_assert_int_eq(kgp_learner_get(g_db, snap, "u1", &o, &l), KGP_OK);
    ck_assert_uint_eq(l->nevents, 5);
    ck_assert_uint_eq(l->nconcepts, 3);
    kgp_learner_free(l);
    ck_assert_int_eq(kgp_parse_time("2026-11-02", &o.at), KGP_OK);
    ck_assert_int_eq(kgp_learner_get(g_db, snap, "u1", &o, &l), KGP_OK);
    uint32_t d;
    ck_assert_int_eq(kgp_snap_lookup(snap, "ml-intro:derivatives", &d), KGP_OK);
    const kgp_learner_concept *c = kgp_learner_find(l, d);
    ck_assert_ptr_nonnull(c);
    /* read, correct, correct: mastered (test_bkt_fsrs has the numbers) */
    ck_assert(c->p_learned >= 0.95);
    ck_assert_int_eq(c->status, KGP_MASTERED);
    ck_assert_uint_eq(c->reads, 1);
    ck_assert_uint_eq(c->quizzes, 2);
    ck_assert_str_eq(c->title, "Derivatives");
    kgp_learner_free(l);
    /* a month later the same memory has faded */
    ck_assert_int_eq(kgp_parse_time("2026-12-01T00:00:00Z", &o.at), KGP_OK);
    ck_assert_int_eq(kgp_learner_get(g_db, snap, "u1", &o, &l), KGP_OK);
    /* the concept not in the graph is kept, without an index */
    int seen_nowhere = 0;
    for (size_t i = 0; i < l->nconcepts; i++)
        if (!strcmp(l->concepts[i].key, "nowhere:x")) {
            seen_nowhere = 1;
            ck_assert_uint_eq(l->concepts[i].index, KGP_NONE);
        }
    ck_assert(seen_nowhere);
    c = kgp_learner_find(l, d);
    ck_assert_int_eq(c->status, KGP_FADING);
    ck_assert(c->retrievability < 0.9 && c->retrievability > 0.3);
    ck_assert_uint_eq(l->count[KGP_FADING], 1);
    ck_assert_uint_eq(l->count[KGP_LEARNING], 2);       /* a skim, and nowhere:x */
    ck_assert_uint_eq(l->count[KGP_NOT_STARTED], kgp_snap_count(snap) - 2);
    /* JSON output parses and carries the schema */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_int_eq(kgp_learner_write(l, "json", f), KGP_OK);
    fclose(f);
    json_error_t je;
    json_t *j = json_loads(buf, 0, &je);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "kgpath_learner")), 1);
    ck_assert_int_eq(json_array_size(json_object_get(j, "concepts")), 3);
    json_decref(j);
    free(buf);
    ck_assert_int_eq(kgp_learner_write(l, "yaml", stdout), KGP_EUSAGE);
    kgp_learner_free(l);
    o.retention = 1.5;
    ck_assert_int_eq(kgp_learner_get(g_db, snap, "u1", &o, &l), KGP_EUSAGE);
    kgp_snap_close(snap);
}
END_TEST

/* Plans with the learner's known set and review hook, checked step by step
 * from the plan's JSON: a review of every fading prerequisite comes before
 * the first lesson that needs it, known concepts are not learned again,
 * fresh ones are not reviewed, and no day holds more than its minutes. */
START_TEST(api_plan_with_learner)
{
    samples_with_events(
        /* derivatives: mastered two months before the plan: fading */
        EV("u1", "ml-intro:derivatives", "read", "2026-10-01T10:00:00Z", ",\"dwell_seconds\":3000")
        EV("u1", "ml-intro:derivatives", "quiz", "2026-10-01T11:00:00Z", ",\"score\":1")
        EV("u1", "ml-intro:derivatives", "quiz", "2026-10-01T11:10:00Z", ",\"score\":1")
        /* vectors: mastered yesterday: fresh */
        EV("u1", "linalg:vectors", "read", "2026-11-30T10:00:00Z", ",\"dwell_seconds\":1800")
        EV("u1", "linalg:vectors", "quiz", "2026-11-30T11:00:00Z", ",\"score\":1")
        EV("u1", "linalg:vectors", "quiz", "2026-11-30T11:10:00Z", ",\"score\":1")
        /* loss functions: a wrong then a right answer: mastery uncertain */
        EV("u1", "ml-intro:loss-functions", "read", "2026-11-30T10:00:00Z", ",\"dwell_seconds\":1800")
        EV("u1", "ml-intro:loss-functions", "quiz", "2026-11-30T11:00:00Z", ",\"score\":0")
        EV("u1", "ml-intro:loss-functions", "quiz", "2026-11-30T11:10:00Z", ",\"score\":1"));
    kgp_snap *snap;
    ck_assert_int_eq(kgp_snap_open(g_db, &snap), KGP_OK);
    int64_t at;
    kgp_learner *l = learner_on(snap, "u1", "2026-12-01", &at);
    uint32_t *known;
    size_t nknown;
    ck_assert_int_eq(kgp_learner_known(l, &known, &nknown), KGP_OK);
    ck_assert_uint_eq(nknown, 3);
    uint32_t goal;
    ck_assert_int_eq(kgp_snap_lookup(snap, "ml-intro:gradient-descent", &goal), KGP_OK);
    kgp_planner *pl;
    ck_assert_int_eq(kgp_planner_open(snap, &pl), KGP_OK);
    kgp_plan_options po;
    kgp_plan_options_init(&po);
    po.review = kgp_learner_review;
    po.review_ud = l;
    po.minutes_per_day = 30;
    po.start = "2026-12-01";
    kgp_plan *plan = NULL;
    ck_assert_int_eq(kgp_plan_make(pl, &goal, 1, known, nknown, &po, &plan), KGP_OK);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_int_eq(kgp_plan_write(plan, "json", f), KGP_OK);
    fclose(f);
    json_error_t je;
    json_t *j = json_loads(buf, 0, &je);
    ck_assert_msg(j != NULL, "%s", je.text);
    json_t *steps = json_object_get(j, "steps");
    int review_at = -1, learn_pd_at = -1, review_lf_at = -1, learn_goal_at = -1;
    json_t *days = json_object();
    for (size_t i = 0; i < json_array_size(steps); i++) {
        json_t *st = json_array_get(steps, i);
        const char *c = json_string_value(json_object_get(st, "concept"));
        const char *kind = json_string_value(json_object_get(st, "kind"));
        ck_assert_msg(strcmp(c, "linalg:vectors") != 0, "fresh known concept in the plan");
        if (!strcmp(c, "ml-intro:derivatives")) {
            ck_assert_str_eq(kind, "review");
            const char *note = json_string_value(json_object_get(st, "note"));
            ck_assert_ptr_nonnull(note);
            ck_assert_ptr_nonnull(strstr(note, "retrievability 0."));
            ck_assert_ptr_nonnull(strstr(note, "2026-12-01"));
            /* expected minutes at its recall r: r x a recalled review
             * (max(5, 15 %) of the 57-min lesson = 9) + (1 - r) x a failed
             * one (9 + half the lesson), no fit yet */
            double r = -1;
            ck_assert_int_eq(sscanf(strstr(note, "retrievability "), "retrievability %lf", &r), 1);
            ck_assert_double_eq_tol((double)json_integer_value(json_object_get(st, "minutes")),
                                    r * 9 + (1 - r) * 37.5, 1.01);
            ck_assert_int_gt(json_integer_value(json_object_get(st, "minutes")), 9);
            review_at = (int)i;
        }
        if (!strcmp(c, "ml-intro:partial-derivatives"))
            learn_pd_at = (int)i;
        if (!strcmp(c, "ml-intro:gradient-descent"))
            learn_goal_at = (int)i;
        if (!strcmp(c, "ml-intro:loss-functions")) {
            ck_assert_str_eq(kind, "review");
            ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(st, "note")),
                                         "mastery uncertain: P(learned) 0.8"));
            review_lf_at = (int)i;
        }
        json_t *ss = json_object_get(st, "sessions");
        for (size_t q = 0; q < json_array_size(ss); q++) {
            json_t *se = json_array_get(ss, q);
            const char *day = json_string_value(json_object_get(se, "day"));
            json_int_t m = json_integer_value(json_object_get(se, "minutes"));
            json_t *cur = json_object_get(days, day);
            json_object_set_new(days, day, json_integer(m + (cur ? json_integer_value(cur) : 0)));
        }
    }
    ck_assert_int_ge(review_at, 0);
    ck_assert_int_gt(learn_pd_at, review_at);
    ck_assert_int_ge(review_lf_at, 0);
    ck_assert_int_gt(learn_goal_at, review_lf_at);
    ck_assert_int_gt(learn_goal_at, learn_pd_at);
    ck_assert_int_gt(json_object_size(days), 1);
    const char *day;
    json_t *v;
    json_object_foreach(days, day, v)
        ck_assert_msg(json_integer_value(v) <= 30, "%s: %lld minutes", day,
                      (long long)json_integer_value(v));
    json_decref(days);
    json_decref(j);
    free(buf);
    kgp_plan_free(plan);
    /* spaced reviews of the goal after it is learned: growing intervals,
     * each due when R reaches the target */
    kgp_review_item *items;
    size_t nitems;
    int32_t learn_day = (int32_t)(at / 86400) + 3;
    ck_assert_int_eq(kgp_learner_reviews(l, snap, &goal, &learn_day, 1, 120, &items, &nitems), KGP_OK);
    ck_assert_uint_ge(nitems, 3);
    for (size_t i = 0; i < nitems; i++) {
        ck_assert_uint_eq(items[i].concept, goal);
        ck_assert_double_eq_tol(items[i].retrievability, 0.9, 0.03);
        if (i)
            ck_assert(items[i].stability > items[i - 1].stability);
        if (i)
            ck_assert_str_gt(items[i].day, items[i - 1].day);
    }
    kgp_learner_reviews_free(items);
    kgp_learner_known_free(known);
    kgp_planner_close(pl);
    kgp_learner_free(l);
    kgp_snap_close(snap);
}
END_TEST

/* Plans goal for learner id on 2026-12-01 the way `plan --learner --date
 * --minutes-per-day` does (dated review hook, spaced hook, calendar) and
 * returns the plan's JSON steps (caller frees the returned root *root). */
/* The plan of goal_key for learner id from 2026-12-01 at mpd minutes a
 * day, as the CLI makes it with a learner, written in `format` (malloc'd). */
static char *plan_written(kgp_snap *snap, const char *id, const char *goal_key, unsigned mpd,
                          const char *format)
{
    kgp_learner_options lo = {0};
    lo.flags = KGP_LEARNER_NEW_OK;
    ck_assert_int_eq(kgp_parse_time("2026-12-01", &lo.at), KGP_OK);
    kgp_learner *l = NULL;
    ck_assert_int_eq(kgp_learner_get(g_db, snap, id, &lo, &l), KGP_OK);
    uint32_t *known, goal;
    size_t nknown;
    ck_assert_int_eq(kgp_learner_known(l, &known, &nknown), KGP_OK);
    ck_assert_int_eq(kgp_snap_lookup(snap, goal_key, &goal), KGP_OK);
    kgp_planner *pl;
    ck_assert_int_eq(kgp_planner_open(snap, &pl), KGP_OK);
    kgp_plan_options po;
    kgp_plan_options_init(&po);
    po.review_at = kgp_learner_review_at;
    po.review_at_ud = l;
    po.spaced = kgp_learner_spaced;
    po.spaced_ud = l;
    po.learn_note = kgp_learner_learn_note;
    po.learn_note_ud = l;
    po.known_goals_ok = 1;
    po.minutes_per_day = mpd;
    po.start = "2026-12-01";
    kgp_plan *plan = NULL;
    ck_assert_int_eq(kgp_plan_make(pl, &goal, 1, known, nknown, &po, &plan), KGP_OK);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_int_eq(kgp_plan_write(plan, format, f), KGP_OK);
    fclose(f);
    kgp_plan_free(plan);
    kgp_planner_close(pl);
    kgp_learner_known_free(known);
    kgp_learner_free(l);
    return buf;
}

static json_t *plan_steps(kgp_snap *snap, const char *id, const char *goal_key,
                          unsigned mpd, json_t **root)
{
    char *buf = plan_written(snap, id, goal_key, mpd, "json");
    json_error_t je;
    *root = json_loads(buf, 0, &je);
    ck_assert_msg(*root != NULL, "%s", je.text);
    free(buf);
    return json_object_get(*root, "steps");
}

static const char *sget(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

/* Steps of concept c: learn and review counts. */
static void count_steps(json_t *steps, const char *c, int *learn, int *review)
{
    *learn = *review = 0;
    for (size_t i = 0; i < json_array_size(steps); i++) {
        json_t *st = json_array_get(steps, i);
        if (strcmp(sget(st, "concept"), c)) continue;
        if (!strcmp(sget(st, "kind"), "learn")) ++*learn;
        else ++*review;
    }
}

/* Every review that precedes a lesson is on that lesson's day, right before
 * it (only other reviews for the same lesson between), of a concept known
 * or learned earlier, and judged below the target (0.9) on that day. */
static void check_reviews_at_use(json_t *steps)
{
    for (size_t i = 0; i < json_array_size(steps); i++) {
        json_t *st = json_array_get(steps, i);
        if (strcmp(sget(st, "kind"), "review") || json_is_true(json_object_get(st, "spaced")))
            continue;
        const char *via = sget(st, "via");
        if (!via) continue;
        size_t k = i + 1;
        while (k < json_array_size(steps) &&
               !strcmp(sget(json_array_get(steps, k), "kind"), "review"))
            k++;
        ck_assert_uint_lt(k, json_array_size(steps));
        json_t *lesson = json_array_get(steps, k);
        ck_assert_str_eq(sget(lesson, "kind"), "learn");
        ck_assert_str_eq(sget(lesson, "concept"), via);
        /* on the lesson's day, or the day before when the lesson is too
         * long to share a day with its reviews */
        int yr, mo, dy, yl, ml, dl;
        ck_assert_int_eq(sscanf(sget(st, "day"), "%d-%d-%d", &yr, &mo, &dy), 3);
        ck_assert_int_eq(sscanf(sget(lesson, "day"), "%d-%d-%d", &yl, &ml, &dl), 3);
        int gap = (yl - yr) * 372 + (ml - mo) * 31 + (dl - dy);
        ck_assert_msg(gap == 0 || (gap >= 1 && gap <= 3 && strcmp(sget(st, "day"),
                      sget(lesson, "day")) < 0), "review on %s, lesson on %s",
                      sget(st, "day"), sget(lesson, "day"));
        const char *note = sget(st, "note");
        ck_assert_ptr_nonnull(note);
        double r, loss, spent;
        unsigned stake;
        const char *lp = strstr(note, " min expected loss");
        if (lp) {       /* cost against value (kgp_learner_review_at) */
            while (lp > note && lp[-1] != ' ') lp--;
            ck_assert_int_eq(sscanf(lp, "%lf min expected loss on the %u-min lesson > %lf",
                                    &loss, &stake, &spent), 3);
            ck_assert_msg(loss >= spent, "%s", note);   /* both rounded */
        } else if (sscanf(note, "retrievability %lf", &r) == 1)
            ck_assert_msg(r < 0.9, "review at recall %.2f: %s", r, note);
        else
            ck_assert_msg(strstr(note, "recall below target on ") != NULL, "%s", note);
        ck_assert_msg(strstr(note, sget(st, "day")) != NULL, "%s on %s", note, sget(st, "day"));
    }
}


/* Plans goal for learner id at 60 minutes a day (plan_steps): the plan
 * teaches linalg:vectors `learn` times and reviews it `review` times, each
 * review right before its use. */
static void vectors_in_plan(kgp_snap *snap, const char *id, const char *goal, int learn, int review)
{
    json_t *root, *steps = plan_steps(snap, id, goal, 60, &root);
    int nl, nr;
    count_steps(steps, "linalg:vectors", &nl, &nr);
    ck_assert_msg(nl == learn && nr == review, "%s, %s: linalg:vectors taught %d and reviewed %d times, not %d and %d",
                  id, goal, nl, nr, learn, review);
    check_reviews_at_use(steps);
    json_decref(root);
}
/* The review decision table on hand-built histories. */
START_TEST(api_review_decisions)
{
    samples_with_events(
        /* failed lesson: both quizzes after it wrong */
        EV("fail", "linalg:vectors", "read", "2026-11-30T10:00:00Z", ",\"dwell_seconds\":1800")
        EV("fail", "linalg:vectors", "quiz", "2026-11-30T11:00:00Z", ",\"score\":0")
        EV("fail", "linalg:vectors", "quiz", "2026-11-30T11:05:00Z", ",\"score\":0")
        /* right, right, then wrong: P(L) 0.81 (above the check), but the
         * last attempt failed: taught again */
        EV("slip", "linalg:vectors", "read", "2026-11-30T10:00:00Z", ",\"dwell_seconds\":1800")
        EV("slip", "linalg:vectors", "quiz", "2026-11-30T11:00:00Z", ",\"score\":1")
        EV("slip", "linalg:vectors", "quiz", "2026-11-30T11:05:00Z", ",\"score\":1")
        EV("slip", "linalg:vectors", "quiz", "2026-11-30T11:10:00Z", ",\"score\":0")
        /* checked: right, right, wrong, then a review failed: taught */
        EV("checked", "linalg:vectors", "read", "2026-11-30T10:00:00Z", ",\"dwell_seconds\":1800")
        EV("checked", "linalg:vectors", "quiz", "2026-11-30T11:00:00Z", ",\"score\":1")
        EV("checked", "linalg:vectors", "quiz", "2026-11-30T11:05:00Z", ",\"score\":1")
        EV("checked", "linalg:vectors", "quiz", "2026-11-30T11:10:00Z", ",\"score\":0")
        EV("checked", "linalg:vectors", "review", "2026-11-30T12:00:00Z", ",\"grade\":1")
        /* doubt: mastered yesterday (as fresh), then the lesson that needs
         * it failed: one of its prerequisites is likely missing */
        EV("doubt", "linalg:vectors", "read", "2026-11-30T10:00:00Z", ",\"dwell_seconds\":1800")
        EV("doubt", "linalg:vectors", "quiz", "2026-11-30T11:00:00Z", ",\"score\":1")
        EV("doubt", "linalg:vectors", "quiz", "2026-11-30T11:10:00Z", ",\"score\":1")
        EV("doubt", "linalg:vector-addition", "read", "2026-11-30T12:00:00Z", ",\"dwell_seconds\":1500")
        EV("doubt", "linalg:vector-addition", "quiz", "2026-11-30T12:30:00Z", ",\"score\":0")
        EV("doubt", "linalg:vector-addition", "quiz", "2026-11-30T12:35:00Z", ",\"score\":0")
        /* fresh: mastered yesterday */
        EV("fresh", "linalg:vectors", "read", "2026-11-30T10:00:00Z", ",\"dwell_seconds\":1800")
        EV("fresh", "linalg:vectors", "quiz", "2026-11-30T11:00:00Z", ",\"score\":1")
        EV("fresh", "linalg:vectors", "quiz", "2026-11-30T11:10:00Z", ",\"score\":1")
        /* faded: mastered three months ago */
        EV("faded", "linalg:vectors", "read", "2026-09-01T10:00:00Z", ",\"dwell_seconds\":1800")
        EV("faded", "linalg:vectors", "quiz", "2026-09-01T11:00:00Z", ",\"score\":1")
        EV("faded", "linalg:vectors", "quiz", "2026-09-01T11:10:00Z", ",\"score\":1"));
    kgp_snap *snap;
    ck_assert_int_eq(kgp_snap_open(g_db, &snap), KGP_OK);
    json_t *root;
    int nl, nr;
    /* never review a failed lesson: it is taught again, in full */
    json_t *steps = plan_steps(snap, "fail", "linalg:matrices", 60, &root);
    count_steps(steps, "linalg:vectors", &nl, &nr);
    ck_assert_int_eq(nl, 1);
    /* taught first (a review may follow the lesson: the memory its
     * failed quizzes left is weak), never reviewed before it */
    json_t *first = json_array_get(steps, 0);
    ck_assert_str_eq(sget(first, "concept"), "linalg:vectors");
    ck_assert_int_ge(json_integer_value(json_object_get(first, "minutes")), 30);
    json_decref(root);
    /* a failed check (review) is not checked again: taught */
    vectors_in_plan(snap, "checked", "linalg:matrices", 1, 0);
    /* the last attempt wrong, P(L) above the check: taught, not reviewed */
    steps = plan_steps(snap, "slip", "linalg:matrices", 60, &root);
    count_steps(steps, "linalg:vectors", &nl, &nr);
    ck_assert_int_eq(nl, 1);
    ck_assert_str_eq(sget(json_array_get(steps, 0), "kind"), "learn");
    check_reviews_at_use(steps);
    json_decref(root);
    /* a fresh prerequisite of a lesson that failed since: doubted (P(learned)
     * by Bayes, a lesson failing 0.1 with its prerequisites and 0.95
     * without), then checked right before the lesson is taught again iff
     * the check pays: (1 − pl·r)·45 > pl·r·7 + (1 − pl)·29.5, the failed
     * check of a concept never learned teaching nothing; "fresh" below is
     * not doubted */
    {
        int64_t at;
        kgp_learner *l = learner_on(snap, "doubt", "2026-12-01", &at);
        const kgp_learner_concept *c = kgp_learner_find(l, index_of(snap, "linalg:vectors"));
        double p = c->p_learned, rr = c->retrievability;
        double pl = p * 0.1 / (p * 0.1 + (1 - p) * 0.95), r = pl * rr;
        int want = (1 - r) * 45 > r * 7 + (1 - pl) * 29.5;
        kgp_learner_free(l);
        steps = plan_steps(snap, "doubt", "linalg:vector-addition", 60, &root);
        count_steps(steps, "linalg:vectors", &nl, &nr);
        ck_assert_int_eq(nl, 0);
        ck_assert_int_eq(nr, want);
        count_steps(steps, "linalg:vector-addition", &nl, &nr);
        ck_assert_int_eq(nl, 1);
        ck_assert_int_eq(nr, 0);
        check_reviews_at_use(steps);
        if (want)
            ck_assert_ptr_nonnull(strstr(sget(json_array_get(steps, 0), "note"), "mastery uncertain"));
    }
    json_decref(root);
    vectors_in_plan(snap, "fresh", "linalg:vector-addition", 0, 0);
    /* recall still high on the day of use: neither taught nor reviewed */
    vectors_in_plan(snap, "fresh", "linalg:matrices", 0, 0);
    /* faded: reviewed right before the lesson that needs it, that day */
    vectors_in_plan(snap, "faded", "linalg:matrices", 0, 1);
    /* The decision itself (kgp_learner_review_at, the lesson's minutes at
     * stake on entry): the faded concept's recall r on a day; a review pays
     * iff (1 - r) x stake > r x a recalled review's minutes (7 for the
     * 45-min vectors lesson, nothing fitted: max(5, ceil(15 %))). */
    {
        uint32_t vec = index_of(snap, "linalg:vectors");
        const char *who[] = {"faded", "fresh", "fail", "slip"};
        for (int q = 0; q < 4; q++) {
            int64_t at;
            kgp_learner *l = learner_on(snap, who[q], "2026-12-01", &at);
            double rr = kgp_learner_find(l, vec)->retrievability;
            if (q == 3) {
                double pl = kgp_learner_find(l, vec)->p_learned;
                ck_assert_msg(pl > 0.5 && pl < 0.95, "%.3f", pl);
            }
            int32_t day = (int32_t)(at / 86400);
            const unsigned stakes[] = {0, 2, 20, 60, 600};
            for (int k = 0; k < 5; k++) {
                uint32_t mins = stakes[k];
                const char *why = NULL;
                int got = kgp_learner_review_at(l, vec, day, &mins, &why);
                int want = q >= 2 ? 0                                   /* failed: taught */
                         : stakes[k] == 0 ? rr < 0.9                    /* the target */
                         : (1 - rr) * stakes[k] > rr * 7;               /* cost vs value */
                ck_assert_msg(got == want, "%s r %.3f stake %u: %d", who[q], rr, stakes[k], got);
                if (got) {
                    /* expected minutes: r x 7 + (1 - r) x (7 + 22.5) */
                    ck_assert_uint_eq(mins, (uint32_t)ceil(rr * 7 + (1 - rr) * 29.5 - 1e-9));
                    ck_assert_ptr_nonnull(strstr(why, "retrievability"));
                }
            }
            if (q == 0) {       /* faded: reviewed for an hour's lesson, not a 2-min one */
                ck_assert_msg(rr < 0.9, "%.3f", rr);
                uint32_t m = 60;
                const char *why;
                ck_assert_int_eq(kgp_learner_review_at(l, vec, day, &m, &why), 1);
                m = 2;
                ck_assert_int_eq(kgp_learner_review_at(l, vec, day, &m, &why), 0);
                ck_assert_uint_eq(kgp_learner_review_worst(l, vec), 30);
            }
            if (q == 1) ck_assert_msg(rr > 0.95, "fresh %.3f", rr);     /* none while high */
            kgp_learner_free(l);
        }
    }
    /* A long plan at 30 minutes a day: each use of a prerequisite is judged
     * on its own day (vectors is needed on several days), reviews only at
     * low recall and right before use; never of a concept not yet learned. */
    const char *ids[] = {"fresh", "faded", "fail", "nobody"};
    for (size_t q = 0; q < 4; q++) {
        steps = plan_steps(snap, ids[q], "ml-intro:neural-networks", 30, &root);
        check_reviews_at_use(steps);
        json_t *seen = json_object();
        for (size_t i = 0; i < json_array_size(steps); i++) {
            json_t *st = json_array_get(steps, i);
            const char *c = sget(st, "concept");
            if (!strcmp(sget(st, "kind"), "learn")) json_object_set_new(seen, c, json_true());
            else if (!json_object_get(seen, c))
                ck_assert_msg(!strcmp(ids[q], "fresh") || !strcmp(ids[q], "faded"),
                              "%s: review of %s before learning it", ids[q], c);
        }
        json_decref(seen);
        /* spaced reviews only of the goal */
        for (size_t i = 0; i < json_array_size(steps); i++) {
            json_t *st = json_array_get(steps, i);
            if (json_is_true(json_object_get(st, "spaced")))
                ck_assert_str_eq(sget(st, "concept"), "ml-intro:neural-networks");
        }
        json_decref(root);
    }
    kgp_snap_close(snap);
}
END_TEST

/* A failed review of a mastered concept is a lapse: the failed review
 * relearned it, so it stays known (reviewed when needed, never taught again
 * in full); a failed review that checked a doubted prerequisite (a
 * dependent's lesson failed since its previous study) still teaches it. */
START_TEST(api_review_lapse)
{
    samples_with_events(
        LESSON("lapse", "linalg:vectors", "2026-11-01", "10", 1, 1)
        EV("lapse", "linalg:vectors", "review", "2026-11-28T10:00:00Z", ",\"grade\":1")
        LESSON("check", "linalg:vectors", "2026-11-01", "10", 1, 1)
        LESSON("check", "linalg:vector-addition", "2026-11-27", "10", 0, 0)
        EV("check", "linalg:vectors", "review", "2026-11-28T10:00:00Z", ",\"grade\":1"));
    kgp_snap *snap;
    ck_assert_int_eq(kgp_snap_open(g_db, &snap), KGP_OK);
    uint32_t vec = index_of(snap, "linalg:vectors");
    kgp_learner *l = learner_on(snap, "lapse", "2026-12-01", NULL);
    const kgp_learner_concept *c = kgp_learner_find(l, vec);
    ck_assert_int_eq(c->lapses, 1);
    ck_assert_msg(c->status == KGP_FADING || c->status == KGP_MASTERED, "%d", c->status);
    ck_assert_double_ge(c->p_learned, 0.95);
    kgp_learner_free(l);
    l = learner_on(snap, "check", "2026-12-01", NULL);
    ck_assert_int_eq(kgp_learner_find(l, vec)->status, KGP_LEARNING);
    kgp_learner_free(l);
    vectors_in_plan(snap, "lapse", "linalg:vector-addition", 0, 1);    /* its memory after the lapse is weak */
    vectors_in_plan(snap, "check", "linalg:vector-addition", 1, 0);
    kgp_snap_close(snap);
}
END_TEST

/* Uncertain mastery is a mixture: with the fitted prerequisite strength
 * (κ 3, p0 0.9) a doubted prerequisite (learned with P pl, recall rr) is
 * worth reviewing for a lesson of L minutes iff
 * L·p0·(pl(1 − e^(−κ(1−rr))) + (1 − pl)(1 − e^(−κ))) > pl·rr·ok + (1 − pl)·fail
 * (a check of a concept never learned fails and teaches nothing), not the
 * concave curve at the mean recall pl·rr (which checked it before a
 * 20-minute lesson too). */
START_TEST(api_review_uncertain_mixture)
{
    samples_with_events(
        LESSON("doubt", "linalg:vectors", "2026-11-30", "10", 1, 1)
        LESSON("doubt", "linalg:vector-addition", "2026-11-30", "12", 0, 0));
    const double kappa = 3, p0 = 0.9, v[3] = { kappa, p0, 100 };
    kgg_err ge;
    ck_assert_int_eq(kgg_model_put(kgp__db_store(g_db), "prereq-strength", v, 3, &ge), KGP_OK);
    kgp_snap *snap;
    ck_assert_int_eq(kgp_snap_open(g_db, &snap), KGP_OK);
    uint32_t vec = index_of(snap, "linalg:vectors");
    int64_t at;
    kgp_learner *l = learner_on(snap, "doubt", "2026-12-01", &at);
    const kgp_learner_concept *c = kgp_learner_find(l, vec);
    double p = c->p_learned, rr = c->retrievability;
    /* the doubt: Bayes with a lesson failing 1 − p0 with its prerequisites,
     * 1 − p0·e^(−κ) without */
    double f1 = 1 - p0, f0 = 1 - p0 * exp(-kappa);
    double pl = p * f1 / (p * f1 + (1 - p) * f0), ok = 7;      /* max(5, 15 % of 45) */
    double fail = ok + 22.5;                                    /* + half the lesson */
    ck_assert_msg(pl > 0.7 && pl < 0.9 && rr > 0.95, "pl %.3f rr %.3f", pl, rr);
    const unsigned stakes[] = {20, 120};
    for (int k = 0; k < 2; k++) {
        double mix = stakes[k] * p0 * (pl * (1 - exp(-kappa * (1 - rr))) +
                                       (1 - pl) * (1 - exp(-kappa)));
        double mean = stakes[k] * p0 * (1 - exp(-kappa * (1 - pl * rr)));
        uint32_t mins = stakes[k];
        const char *why = NULL;
        int got = kgp_learner_review_at(l, vec, (int32_t)(at / 86400), &mins, &why);
        /* the check's minutes: recalled p·r·ok, failed on a concept never
         * learned (1 − p)·fail (it teaches nothing) */
        ck_assert_int_eq(got, mix > pl * rr * ok + (1 - pl) * fail);
        ck_assert_int_eq(got, k == 1);
        /* the 20-min lesson: the mean-recall curve would have reviewed */
        if (k == 0)
            ck_assert_msg(mean > pl * rr * ok, "%.2f %.2f", mean, pl * rr * ok);
        else
            ck_assert_ptr_nonnull(strstr(why, "mastery uncertain"));
    }
    kgp_learner_free(l);
    kgp_snap_close(snap);
}
END_TEST

/* Stores a fitted record for linalg:vectors: the population-like BKT of
 * tools/sim/cli_sim.py's learners (guess 0.21, slip 0.17: one quiz in five
 * right by guessing), lesson minutes calibrated at 30 (the lessons of the
 * test read 30 minutes) and review minutes ok / fail (< 0: none fitted). */
static void fit_vectors(double ok, double fail)
{
    kgg_fit_rec r = { "linalg:vectors", 0.02, 0.01, 0.58, 0.21, 0.17, 0, 1, 30, 50, 10, ok, fail };
    kgg_err ge;
    ck_assert_int_eq(kgg_fit_replace(kgp__db_store(g_db), &r, 1, &ge), KGP_OK);
}

/* Whether linalg:vectors counts as known for learner id on 2026-12-01. */
static int vectors_known(kgp_snap *snap, const char *id)
{
    kgp_learner *l = learner_on(snap, id, "2026-12-01", NULL);
    uint32_t *known, vec = index_of(snap, "linalg:vectors");
    size_t n;
    int in = 0;
    ck_assert_int_eq(kgp_learner_known(l, &known, &n), KGP_OK);
    for (size_t i = 0; i < n; i++)
        in |= known[i] == vec;
    kgp_learner_known_free(known);
    kgp_learner_free(l);
    return in;
}

/* Check or teach a concept of uncertain mastery, on hand-built histories
 * with an honest fitted BKT (guess 0.21, slip 0.17):
 *   - right, right: P(learned) 0.96, mastered, recall high: no check;
 *   - wrong, then right: P(learned) about 0.55; with the default review
 *     minutes (a recalled check 5 min, a failed one 20 for the 30-min
 *     lesson) a check before a long lesson pays, before a short one not:
 *     cost against value, where a check of a concept never learned
 *     ((1 − p)·fail) teaches nothing;
 *   - the same with failed reviews fitted at 60 min (longer than the lesson,
 *     as when reviews are dear): a check is expected to cost more than
 *     teaching the concept again, so it is taught (a learn step with its
 *     full time), never checked;
 *   - right, then wrong: a failed lesson, taught again, never reviewed. */
START_TEST(api_check_or_teach_uncertain)
{
    samples_with_events(
        LESSON("rr", "linalg:vectors", "2026-11-30", "10", 1, 1)
        LESSON("wr", "linalg:vectors", "2026-11-30", "10", 0, 1)
        LESSON("rw", "linalg:vectors", "2026-11-30", "10", 1, 0));
    fit_vectors(-1, -1);
    kgp_snap *snap;
    ck_assert_int_eq(kgp_snap_open(g_db, &snap), KGP_OK);
    uint32_t vec = index_of(snap, "linalg:vectors");
    int64_t at;
    kgp_learner *l = learner_on(snap, "rr", "2026-12-01", &at);
    int32_t day = (int32_t)(at / 86400);
    const kgp_learner_concept *c = kgp_learner_find(l, vec);
    ck_assert_msg(c->status == KGP_MASTERED && c->p_learned > 0.95 && c->retrievability > 0.9,
                  "status %d P %.3f R %.3f", c->status, c->p_learned, c->retrievability);
    for (unsigned stake = 20; stake <= 60; stake += 40) {
        uint32_t mins = stake;
        const char *why;
        ck_assert_int_eq(kgp_learner_review_at(l, vec, day, &mins, &why), 0);
    }
    kgp_learner_free(l);
    vectors_in_plan(snap, "rr", "linalg:vector-addition", 0, 0);
    /* wrong, then right: known, checked by value */
    l = learner_on(snap, "wr", "2026-12-01", NULL);
    c = kgp_learner_find(l, vec);
    double p = c->p_learned, r = c->retrievability, ok = 5, fail = 5 + 15;
    ck_assert_msg(c->status == KGP_LEARNING && p > 0.5 && p < 0.6 && r > 0.9, "P %.3f R %.3f", p, r);
    /* a check takes p·r·ok + p·(1 − r)·fail + (1 − p)·(fail + 30), less than
     * the 30-min lesson */
    ck_assert_msg(p * r * ok + p * (1 - r) * fail + (1 - p) * (fail + 30) < 30, "P %.3f R %.3f", p, r);
    const unsigned stakes[] = {10, 20, 60, 120};
    for (int k = 0; k < 4; k++) {
        uint32_t mins = stakes[k];
        const char *why = NULL;
        int got = kgp_learner_review_at(l, vec, day, &mins, &why);
        /* no fitted strength: the loss (1 − p·r)·L against p·r·ok + (1 − p)·fail
         * (r: recall on the plan date, midnight) */
        int want = (1 - p * r) * stakes[k] > p * r * ok + (1 - p) * fail;
        ck_assert_msg(got == want && want == (k >= 2), "stake %u: %d", stakes[k], got);
        if (got)
            ck_assert_ptr_nonnull(strstr(why, "mastery uncertain"));
    }
    kgp_learner_free(l);
    ck_assert_int_eq(vectors_known(snap, "wr"), 1);
    ck_assert_int_eq(vectors_known(snap, "rw"), 0);
    /* failed reviews dear (60 min, more than the 45-min lesson): taught */
    fit_vectors(9, 60);
    ck_assert_int_eq(vectors_known(snap, "wr"), 0);
    ck_assert_int_eq(vectors_known(snap, "rr"), 1);
    vectors_in_plan(snap, "wr", "linalg:vector-addition", 1, 0);
    json_t *root, *steps = plan_steps(snap, "wr", "linalg:vector-addition", 60, &root);
    json_t *first = json_array_get(steps, 0);
    ck_assert_str_eq(sget(first, "concept"), "linalg:vectors");
    ck_assert_str_eq(sget(first, "kind"), "learn");
    ck_assert_int_ge(json_integer_value(json_object_get(first, "minutes")), 30);
    ck_assert_ptr_nonnull(strstr(sget(first, "note"), "mastery uncertain (P(learned) 0.5"));
    ck_assert_ptr_nonnull(strstr(sget(first, "note"), "a check would take"));
    json_decref(root);
    char *text = plan_written(snap, "wr", "linalg:vector-addition", 60, "text");
    ck_assert_msg(strstr(text, "- taught again: mastery uncertain (P(learned) 0.5") != NULL, "%s", text);
    free(text);
    /* a failed lesson: taught again, never reviewed (either way) */
    vectors_in_plan(snap, "rw", "linalg:vector-addition", 1, 0);
    kgp_snap_close(snap);
}
END_TEST

/* ---- the joint blame of a failed lesson (kgpath_learner.h) -------------------- */

/* Population BKT that leaves P(L) alone on a reading (learn 0, learn_read
 * 0) from a prior of 0.5: a prerequisite only read is "doubtful" at P 0.5,
 * one read and quizzed right twice "solid" (0.9895); and, when kappa >= 0,
 * the fitted prerequisite strength (kappa, p0). */
static void blame_models(double kappa, double p0)
{
    const double bkt[6] = { 0.5, 0, 0, 0.1, 0.03, 0 }, st[3] = { kappa, p0, 100 };
    kgg_err ge;
    ck_assert_int_eq(kgg_model_put(kgp__db_store(g_db), "bkt-population", bkt, 6, &ge), KGP_OK);
    if (kappa >= 0)
        ck_assert_int_eq(kgg_model_put(kgp__db_store(g_db), "prereq-strength", st, 3, &ge),
                         KGP_OK);
}

/* Learner l's events: a solid prerequisite (read, two right quizzes, the
 * last a second before the failed lesson), a doubtful one (read a second
 * before it), and the failed lesson (read, two wrong quizzes) at 12:00. */
#define SOLID(l, c) \
    EV(l, c, "read", "2026-11-30T11:00:00Z", ",\"dwell_seconds\":1800") \
    EV(l, c, "quiz", "2026-11-30T11:59:58Z", ",\"score\":1") \
    EV(l, c, "quiz", "2026-11-30T11:59:59Z", ",\"score\":1")
#define DOUBTFUL(l, c) EV(l, c, "read", "2026-11-30T11:59:59Z", ",\"dwell_seconds\":1800")
#define FAILED(l, c) \
    EV(l, c, "read", "2026-11-30T12:00:00Z", ",\"dwell_seconds\":1800") \
    EV(l, c, "quiz", "2026-11-30T12:00:01Z", ",\"score\":0") \
    EV(l, c, "quiz", "2026-11-30T12:00:02Z", ",\"score\":0")

/* Posterior P(learned | the lesson failed) of prerequisites with priors
 * p[0..n-1] (all recalled fully when learned) by brute force over the 2^n
 * learned sets: groups of k[g] of members mem[g][0..nm[g]-1] (indexes into
 * p), shortfall k minus the learned members counted up to k; a lesson
 * succeeds with p0·e^(−κ·shortfall). */
static void blame_brute(const double *p, size_t n, const size_t *k, const size_t *nm,
                        const size_t mem[][4], size_t ng, double kappa, double p0, double *post)
{
    double pf = 0, num[8] = {0};
    for (unsigned s = 0; s < 1u << n; s++) {
        double pr = 1, x = 0;
        for (size_t i = 0; i < n; i++)
            pr *= (s >> i & 1) ? p[i] : 1 - p[i];
        for (size_t g = 0; g < ng; g++) {
            size_t have = 0;
            for (size_t j = 0; j < nm[g]; j++)
                have += s >> mem[g][j] & 1;
            x += have >= k[g] ? 0 : (double)(k[g] - have);
        }
        double f = pr * (1 - p0 * exp(-kappa * x));
        pf += f;
        for (size_t i = 0; i < n; i++)
            if (s >> i & 1)
                num[i] += f;
    }
    for (size_t i = 0; i < n; i++)
        post[i] = num[i] / pf;
}

static const kgp_learner_concept *concept_of(kgp_learner *l, kgp_snap *snap, const char *key)
{
    const kgp_learner_concept *c = kgp_learner_find(l, index_of(snap, key));
    ck_assert_ptr_nonnull(c);
    return c;
}

/* A lesson with two prerequisites failed: the doubtful one (P 0.5) takes
 * the blame, the solid one (P 0.99) keeps nearly all of its P(learned) —
 * independent Bayes per prerequisite brought it to 0.91 and checked it
 * too. Both doubtful: each gets p(1 − p0·m)/(1 − p0·m²), m = p + (1 −
 * p)e^(−κ). */
START_TEST(api_blame_explains_away)
{
    const double kappa = 3, p0 = 0.9, e = exp(-kappa);
    import_samples();
    blame_models(kappa, p0);
    kgp_observe_report_free(observe(
        SOLID("one", "linalg:matrices") DOUBTFUL("one", "linalg:linear-combinations")
        FAILED("one", "linalg:matrix-vector-product")
        DOUBTFUL("two", "linalg:matrices") DOUBTFUL("two", "linalg:linear-combinations")
        FAILED("two", "linalg:matrix-vector-product"), 0, KGP_OK));
    kgp_snap *snap;
    ck_assert_int_eq(kgp_snap_open(g_db, &snap), KGP_OK);
    kgp_learner *l = learner_on(snap, "one", "2026-12-02", NULL);
    const kgp_learner_concept *a = concept_of(l, snap, "linalg:matrices"),
                              *b = concept_of(l, snap, "linalg:linear-combinations");
    ck_assert_double_eq_tol(a->p_learned, 0.9895, 1e-3);
    ck_assert_double_eq_tol(b->p_learned, 0.5, 1e-9);
    double ma = a->p_learned + (1 - a->p_learned) * e, mb = b->p_learned + (1 - b->p_learned) * e;
    double pf = 1 - p0 * ma * mb;
    double want_a = a->p_learned * (1 - p0 * mb) / pf, want_b = b->p_learned * (1 - p0 * ma) / pf;
    ck_assert_double_eq_tol(a->p_blamed, want_a, 1e-4);
    ck_assert_double_eq_tol(b->p_blamed, want_b, 1e-4);
    ck_assert_msg(a->p_learned - a->p_blamed < 0.01, "solid %.4f -> %.4f", a->p_learned,
                  a->p_blamed);
    ck_assert_msg(b->p_blamed < 0.15, "doubtful %.4f -> %.4f", b->p_learned, b->p_blamed);
    /* the plan reviews the doubtful one (it is not known anyway: taught),
     * never the solid one, before the lesson is tried again */
    int64_t at;
    kgp_learner_free(l);
    l = learner_on(snap, "one", "2026-12-02", &at);
    uint32_t mins = 35;
    const char *why = NULL;
    ck_assert_int_eq(kgp_learner_review_at(l, index_of(snap, "linalg:matrices"),
                                           (int32_t)(at / 86400), &mins, &why), 0);
    kgp_learner_free(l);
    /* symmetric: the closed form */
    l = learner_on(snap, "two", "2026-12-02", NULL);
    a = concept_of(l, snap, "linalg:matrices");
    b = concept_of(l, snap, "linalg:linear-combinations");
    double p = 0.5, m = p + (1 - p) * e, want = p * (1 - p0 * m) / (1 - p0 * m * m);
    ck_assert_double_eq_tol(a->p_blamed, want, 1e-4);
    ck_assert_double_eq_tol(b->p_blamed, want, 1e-4);
    kgp_learner_free(l);
    kgp_snap_close(snap);
}
END_TEST

/* An OR group where one member is enough: determinants needs
 * identity-and-inverse and one of gaussian-elimination and
 * linear-combinations. With gaussian-elimination solid the doubtful
 * linear-combinations is not needed, so the failure says little about it
 * (it keeps P ≈ 0.5) and the blame goes to what the lesson did need. */
START_TEST(api_blame_or_group)
{
    const double kappa = 3, p0 = 0.9;
    import_samples();
    blame_models(kappa, p0);
    kgp_observe_report_free(observe(
        SOLID("or", "linalg:identity-and-inverse") SOLID("or", "linalg:gaussian-elimination")
        DOUBTFUL("or", "linalg:linear-combinations") FAILED("or", "linalg:determinants"),
        0, KGP_OK));
    kgp_snap *snap;
    ck_assert_int_eq(kgp_snap_open(g_db, &snap), KGP_OK);
    kgp_learner *l = learner_on(snap, "or", "2026-12-02", NULL);
    const char *keys[3] = { "linalg:identity-and-inverse", "linalg:gaussian-elimination",
                            "linalg:linear-combinations" };
    const kgp_learner_concept *c[3];
    double p[3], post[3];
    for (int i = 0; i < 3; i++) {
        c[i] = concept_of(l, snap, keys[i]);
        p[i] = c[i]->p_learned;
    }
    const size_t k[2] = { 1, 1 }, nm[2] = { 1, 2 }, mem[2][4] = { { 0 }, { 1, 2 } };
    blame_brute(p, 3, k, nm, mem, 2, kappa, p0, post);
    for (int i = 0; i < 3; i++)
        ck_assert_double_eq_tol(c[i]->p_blamed, post[i], 1e-4);
    ck_assert_msg(fabs(c[2]->p_blamed - 0.5) < 0.02, "%.4f", c[2]->p_blamed);
    ck_assert_msg(c[0]->p_blamed < c[0]->p_learned - 0.05, "%.4f", c[0]->p_blamed);
    kgp_learner_free(l);
    kgp_snap_close(snap);
}
END_TEST

/* One prerequisite, recalled fully, before any fit: the rule of
 * independent Bayes, p·f1 / (p·f1 + (1 − p)·f0) with f1 = 0.1 and f0 =
 * 0.95. Two failed lessons that share a prerequisite doubt it twice, in
 * time order. A prerequisite studied after the failure is not doubted. */
START_TEST(api_blame_single_and_shared)
{
    import_samples();
    blame_models(-1, 0);
    kgp_observe_report_free(observe(
        SOLID("single", "linalg:vectors") FAILED("single", "linalg:vector-addition")
        SOLID("shared", "linalg:vectors") FAILED("shared", "linalg:vector-addition")
        EV("shared", "linalg:matrices", "read", "2026-11-30T12:00:10Z", ",\"dwell_seconds\":1800")
        EV("shared", "linalg:matrices", "quiz", "2026-11-30T12:00:11Z", ",\"score\":0")
        EV("shared", "linalg:matrices", "quiz", "2026-11-30T12:00:12Z", ",\"score\":0")
        SOLID("after", "linalg:vectors") FAILED("after", "linalg:vector-addition")
        EV("after", "linalg:vectors", "review", "2026-11-30T14:00:00Z", ",\"grade\":3"),
        0, KGP_OK));
    kgp_snap *snap;
    ck_assert_int_eq(kgp_snap_open(g_db, &snap), KGP_OK);
    kgp_learner *l = learner_on(snap, "single", "2026-12-02", NULL);
    const kgp_learner_concept *v = concept_of(l, snap, "linalg:vectors");
    double p = v->p_learned, once = p * 0.1 / (p * 0.1 + (1 - p) * 0.95);
    ck_assert_double_eq_tol(v->p_blamed, once, 1e-4);
    kgp_learner_free(l);
    l = learner_on(snap, "shared", "2026-12-02", NULL);
    v = concept_of(l, snap, "linalg:vectors");
    double twice = once * 0.1 / (once * 0.1 + (1 - once) * 0.95);
    ck_assert_double_eq_tol(v->p_blamed, twice, 1e-4);
    kgp_learner_free(l);
    l = learner_on(snap, "after", "2026-12-02", NULL);
    v = concept_of(l, snap, "linalg:vectors");
    ck_assert_double_eq_tol(v->p_blamed, v->p_learned, 1e-12);
    kgp_learner_free(l);
    kgp_snap_close(snap);
}
END_TEST

/* Groups needing 2 of 3 (the per-group programme) and a prerequisite in
 * two groups of one lesson (enumerated): both as the brute force. */
START_TEST(api_blame_k_of_n_and_repeated)
{
    const double kappa = 2.5, p0 = 0.85;
    char *path = tu_path(g_dir, "rep.xml");
    tu_write(path,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<course xmlns=\"https://kgpath.org/ns/course/1\" id=\"rep\" xml:lang=\"en\" version=\"1\">\n"
        "  <title>Blame</title>\n"
        "  <concept id=\"a\" minutes=\"20\"><title>A</title></concept>\n"
        "  <concept id=\"b\" minutes=\"20\"><title>B</title></concept>\n"
        "  <concept id=\"c\" minutes=\"20\"><title>C</title></concept>\n"
        "  <concept id=\"y\" minutes=\"30\"><title>Y</title><prerequisites>\n"
        "    <any-of k=\"2\"><option ref=\"a\"/><option ref=\"b\"/><option ref=\"c\"/></any-of>\n"
        "  </prerequisites></concept>\n"
        "  <concept id=\"z\" minutes=\"30\"><title>Z</title><prerequisites>\n"
        "    <require ref=\"a\"/>\n"
        "    <any-of k=\"2\"><option ref=\"a\"/><option ref=\"b\"/><option ref=\"c\"/></any-of>\n"
        "  </prerequisites></concept>\n"
        "</course>\n", (size_t)-1);
    const char *paths[] = { path };
    kgp_report *r = NULL;
    ck_assert_int_eq(kgp_import(g_db, paths, 1, NULL, &r), KGP_OK);
    kgp_report_free(r);
    free(path);
    blame_models(kappa, p0);
    kgp_observe_report_free(observe(
        SOLID("y", "rep:a") DOUBTFUL("y", "rep:b") DOUBTFUL("y", "rep:c") FAILED("y", "rep:y")
        SOLID("z", "rep:a") DOUBTFUL("z", "rep:b") DOUBTFUL("z", "rep:c") FAILED("z", "rep:z"),
        0, KGP_OK));
    kgp_snap *snap;
    ck_assert_int_eq(kgp_snap_open(g_db, &snap), KGP_OK);
    const char *keys[3] = { "rep:a", "rep:b", "rep:c" };
    const size_t ky[1] = { 2 }, ny[1] = { 3 }, my[1][4] = { { 0, 1, 2 } };
    const size_t kz[2] = { 1, 2 }, nz[2] = { 1, 3 }, mz[2][4] = { { 0 }, { 0, 1, 2 } };
    for (int who = 0; who < 2; who++) {
        kgp_learner *l = learner_on(snap, who ? "z" : "y", "2026-12-02", NULL);
        const kgp_learner_concept *c[3];
        double p[3], post[3];
        for (int i = 0; i < 3; i++) {
            c[i] = concept_of(l, snap, keys[i]);
            p[i] = c[i]->p_learned;
        }
        if (who)
            blame_brute(p, 3, kz, nz, mz, 2, kappa, p0, post);
        else
            blame_brute(p, 3, ky, ny, my, 1, kappa, p0, post);
        for (int i = 0; i < 3; i++)
            ck_assert_msg(fabs(c[i]->p_blamed - post[i]) < 1e-4, "%s %s: %.5f, want %.5f",
                          who ? "z" : "y", keys[i], c[i]->p_blamed, post[i]);
        kgp_learner_free(l);
    }
    kgp_snap_close(snap);
}
END_TEST

/* kgp_fit fits FSRS-6 to graded reviews and kgp_learner_get uses the
 * weights: learners who forget within ten days (first stability far below
 * the defaults' 2.3 days for "good") get a lower w2, a lower held-out log
 * loss than the defaults, and the lower stability in their state. */
START_TEST(api_fit_fsrs)
{
    size_t cap = 1 << 20, n = 0;
    char *text = malloc(cap);
    for (int u = 0; u < 50; u++)
        for (int c = 0; c < 3; c++) {
            n += (size_t)snprintf(text + n, cap - n,
                "{\"learner\":\"u%d\",\"concept\":\"x:%d\",\"kind\":\"review\",\"at\":"
                "\"2026-11-01T10:00:00Z\",\"grade\":3}\n", u, c);
            /* ten days later: 1 in 5 still recalls */
            n += (size_t)snprintf(text + n, cap - n,
                "{\"learner\":\"u%d\",\"concept\":\"x:%d\",\"kind\":\"review\",\"at\":"
                "\"2026-11-11T10:00:00Z\",\"grade\":%d}\n", u, c, (u + c) % 5 == 0 ? 3 : 1);
        }
    /* one learner (held in training: "big" is not held out) remembers all of
     * 80 concepts after ten days */
    for (int c = 0; c < 80; c++)
        n += (size_t)snprintf(text + n, cap - n,
            "{\"learner\":\"big\",\"concept\":\"y:%d\",\"kind\":\"review\",\"at\":"
            "\"2026-11-01T10:00:00Z\",\"grade\":3}\n"
            "{\"learner\":\"big\",\"concept\":\"y:%d\",\"kind\":\"review\",\"at\":"
            "\"2026-11-11T10:00:00Z\",\"grade\":3}\n", c, c);
    kgp_observe_report *r = observe(text, 0, KGP_OK);
    kgp_observe_report_free(r);
    free(text);
    kgp_fit_report *fr = NULL;
    ck_assert_int_eq(kgp_fit(g_db, NULL, 0, &fr), KGP_OK);
    ck_assert_int_eq(fr->fsrs_fitted, 1);
    ck_assert_uint_ge(fr->fsrs_train, 64);
    ck_assert_uint_gt(fr->fsrs_test, 0);
    ck_assert_msg(fr->fsrs_w[2] < kgn_fsrs_default_w[2], "w2 %.3f", fr->fsrs_w[2]);
    ck_assert_msg(fr->fsrs_logloss_fit < fr->fsrs_logloss_default, "%.4f vs %.4f",
                  fr->fsrs_logloss_fit, fr->fsrs_logloss_default);
    double w2 = fr->fsrs_w[2];
    kgp_fit_report_free(fr);
    kgp_learner *l = learner_on(NULL, "u1", "2026-11-05", NULL);
    ck_assert_double_eq_tol(l->concepts[0].stability, w2, 1e-9);
    kgp_learner_free(l);
    /* per learner: a held-out learner who, like "big", mostly remembers
     * after ten days, 100 concepts: judged on a fifth of his cards, his own
     * weights (fitted on the rest) predict them better than the
     * population's (who mostly forget) */
    char hid[16];
    int h = 0;
    do snprintf(hid, sizeof hid, "h%d", h++); while (!kgn_fit_is_holdout(hid));
    text = malloc(cap);
    n = 0;
    for (int c = 0; c < 100; c++)
        n += (size_t)snprintf(text + n, cap - n,
            "{\"learner\":\"%s\",\"concept\":\"z:%d\",\"kind\":\"review\",\"at\":"
            "\"2026-11-01T10:00:00Z\",\"grade\":3}\n"
            "{\"learner\":\"%s\",\"concept\":\"z:%d\",\"kind\":\"review\",\"at\":"
            "\"2026-11-11T10:00:00Z\",\"grade\":%d}\n", hid, c, hid, c, c % 10 ? 3 : 1);
    r = observe(text, 0, KGP_OK);
    kgp_observe_report_free(r);
    free(text);
    /* only "big" and the held-out learner have 64+ samples; big's own
     * weights, pulled towards the population's, give him a longer first
     * stability */
    ck_assert_int_eq(kgp_fit(g_db, NULL, KGP_FIT_PER_LEARNER, &fr), KGP_OK);
    ck_assert_uint_eq(fr->fsrs_learners, 2);
    ck_assert_uint_eq(fr->fsrs_pl_learners, 1);
    ck_assert_uint_eq(fr->fsrs_pl_test, 20);
    ck_assert_msg(fr->fsrs_pl_logloss_own < fr->fsrs_pl_logloss_population - 0.05,
                  "own %.4f, population %.4f, defaults %.4f", fr->fsrs_pl_logloss_own,
                  fr->fsrs_pl_logloss_population, fr->fsrs_pl_logloss_default);
    ck_assert_msg(fr->fsrs_pl_rmse_own < fr->fsrs_pl_rmse_population, "RMSE own %.4f, population %.4f",
                  fr->fsrs_pl_rmse_own, fr->fsrs_pl_rmse_population);
    char *buf = NULL;
    size_t blen = 0;
    FILE *mf = open_memstream(&buf, &blen);
    ck_assert_int_eq(kgp_fit_write(fr, "text", mf), KGP_OK);
    fclose(mf);
    ck_assert_msg(strstr(buf, "FSRS-6 per learner, judged on 1 held-out learners (a fifth of their cards, 20 reviews)"),
                  "%s", buf);
    free(buf);
    mf = open_memstream(&buf, &blen);
    ck_assert_int_eq(kgp_fit_write(fr, "json", mf), KGP_OK);
    fclose(mf);
    json_t *jr = json_loads(buf, 0, NULL);
    ck_assert_ptr_nonnull(jr);
    json_t *jpl = json_object_get(json_object_get(jr, "fsrs"), "per_learner");
    ck_assert_int_eq(json_integer_value(json_object_get(jpl, "heldout_samples")), 20);
    ck_assert_double_eq_tol(json_real_value(json_object_get(jpl, "heldout_logloss_own")),
                            fr->fsrs_pl_logloss_own, 1e-6);
    json_decref(jr);
    free(buf);
    kgp_fit_report_free(fr);
    l = learner_on(NULL, "big", "2026-11-05", NULL);
    ck_assert_msg(l->concepts[0].stability > w2 * 1.2, "big %.3f, population %.3f",
                  l->concepts[0].stability, w2);
    kgp_learner_free(l);
    l = learner_on(NULL, "u1", "2026-11-05", NULL);
    ck_assert_double_eq_tol(l->concepts[0].stability, w2, 1e-9);
    kgp_learner_free(l);
    /* forgetting "big" removes his own weights with his events */
    kgg_err ge;
    double wb[KGG_FSRS_NW];
    int found = 0;
    ck_assert_int_eq(kgg_fsrs_get(kgp__db_store(g_db), "big", wb, &found, &ge), KGP_OK);
    ck_assert_int_eq(found, 1);
    ck_assert_int_eq(kgg_learner_forget(kgp__db_store(g_db), "big", NULL, &ge), KGP_OK);
    ck_assert_int_eq(kgg_fsrs_get(kgp__db_store(g_db), "big", wb, &found, &ge), KGP_OK);
    ck_assert_int_eq(found, 0);
    ck_assert_int_eq(kgg_fsrs_get(kgp__db_store(g_db), NULL, wb, &found, &ge), KGP_OK);
    ck_assert_int_eq(found, 1);
}
END_TEST

/* A reading tests no recall: a lesson read again five days after it
 * failed is replayed into the card but is no FSRS sample (it was one,
 * "recalled", which taught the fit that failed lessons are remembered).
 * 80 learners: read, quiz wrong, read again on day 5 (a same-day quiz
 * after it), a review on day 15: one sample per training learner. */
START_TEST(api_fit_fsrs_reads)
{
    size_t cap = 1 << 20, n = 0;
    char *text = malloc(cap);
    unsigned ntrain = 0;
    for (int u = 0; u < 80; u++) {
        char who[16];
        snprintf(who, sizeof who, "u%d", u);
        ntrain += !kgn_fit_is_holdout(who);
        n += (size_t)snprintf(text + n, cap - n,
            "{\"learner\":\"%s\",\"concept\":\"x:1\",\"kind\":\"read\",\"at\":"
            "\"2026-11-01T10:00:00Z\",\"dwell_seconds\":600}\n"
            "{\"learner\":\"%s\",\"concept\":\"x:1\",\"kind\":\"quiz\",\"at\":"
            "\"2026-11-01T10:11:00Z\",\"score\":0}\n"
            "{\"learner\":\"%s\",\"concept\":\"x:1\",\"kind\":\"read\",\"at\":"
            "\"2026-11-06T10:00:00Z\",\"dwell_seconds\":600}\n"
            "{\"learner\":\"%s\",\"concept\":\"x:1\",\"kind\":\"quiz\",\"at\":"
            "\"2026-11-06T10:11:00Z\",\"score\":1}\n"
            "{\"learner\":\"%s\",\"concept\":\"x:1\",\"kind\":\"review\",\"at\":"
            "\"2026-11-16T10:00:00Z\",\"grade\":%d}\n", who, who, who, who, who, u % 3 ? 3 : 1);
    }
    kgp_observe_report *r = observe(text, 0, KGP_OK);
    kgp_observe_report_free(r);
    free(text);
    kgp_fit_report *fr = NULL;
    ck_assert_int_eq(kgp_fit(g_db, NULL, KGP_FIT_DRY_RUN, &fr), KGP_OK);
    ck_assert_uint_gt(ntrain, 64);
    ck_assert_uint_eq(fr->fsrs_train, ntrain);
    ck_assert_uint_eq(fr->fsrs_test, 80 - ntrain);
    kgp_fit_report_free(fr);
}
END_TEST

START_TEST(api_fit)
{
    kgp_fit_report *fr = NULL;
    ck_assert_int_eq(kgp_fit(g_db, NULL, 0, &fr), KGP_ENOTFOUND);
    kgp_fit_report_free(fr);
    /* 60 learners on one concept: half know it (right answers), half not */
    size_t cap = 1 << 16, n = 0;
    char *text = malloc(cap);
    for (int u = 0; u < 60; u++)
        for (int k = 0; k < 6; k++)
            n += (size_t)snprintf(text + n, cap - n,
                "{\"learner\":\"u%d\",\"concept\":\"x:a\",\"kind\":\"%s\",\"at\":"
                "\"2026-11-01T10:%02d:00Z\",%s}\n", u, k == 0 ? "read" : "quiz", k,
                k == 0 ? "\"dwell_seconds\":600" :
                (u % 2 == 0 || (k >= 4 && u % 4 == 1)) ? "\"score\":1" : "\"score\":0");
    kgp_observe_report *r = observe(text, 0, KGP_OK);
    ck_assert_uint_eq(r->added, 360);
    kgp_observe_report_free(r);
    free(text);
    ck_assert_int_eq(kgp_fit(g_db, NULL, 1, &fr), KGP_OK);      /* dry run */
    ck_assert_int_eq(fr->committed, 0);
    kgp_fit_report_free(fr);
    ck_assert_int_eq(kgp_fit(g_db, NULL, 0, &fr), KGP_OK);
    ck_assert_int_eq(fr->committed, 1);
    ck_assert_uint_eq(fr->learners, 60);
    ck_assert_uint_eq(fr->nconcepts, 1);
    ck_assert_int_eq(fr->concepts[0].fitted, 1);
    ck_assert_double_eq_tol(fr->concepts[0].minutes, 10.0, 1e-9);   /* median dwell */
    ck_assert_uint_gt(fr->ntest, 0);
    ck_assert(fr->ll_fit >= fr->ll_default);
    kgp_fit_report_free(fr);
    kgp_learner *l = NULL;
    ck_assert_int_eq(kgp_learner_get(g_db, NULL, "u0", NULL, &l), KGP_OK);
    ck_assert_int_eq(l->concepts[0].fitted, 1);
    kgp_learner_free(l);
}
END_TEST

/* kgp_fit in its three steps (read, compute, store) gives kgp_fit's fit;
 * a store with KGP_FIT_STORE_NEWER after a fit on as many events or more
 * was stored meanwhile writes nothing (the file byte-identical). */
START_TEST(api_fit_steps)
{
    kgp_fit_input *in = (kgp_fit_input *)1;
    ck_assert_int_eq(kgp_fit_read(g_db, NULL, 0, &in), KGP_ENOTFOUND);
    ck_assert_ptr_null(in);
    import_samples();
    char *a = tu_quiz_events("q", "linalg:vectors", 0, 100);
    char *b = tu_quiz_events("q", "ml-intro:derivatives", 100, 20);
    kgp_observe_report_free(observe(a, 0, KGP_OK));
    kgp_fit_report *ref = NULL, *r = NULL, *stale = NULL, *same = NULL, *now = NULL;
    ck_assert_int_eq(kgp_fit(g_db, NULL, KGP_FIT_DRY_RUN, &ref), KGP_OK);
    ck_assert_int_eq(kgp_fit_read(g_db, NULL, 0, &in), KGP_OK);
    ck_assert_int_eq(kgp_fit_compute(in, &r), KGP_OK);
    ck_assert_int_eq(r->committed, 0);
    ck_assert_uint_eq(r->events, 100);
    ck_assert_uint_eq(r->events, ref->events);
    ck_assert_uint_eq(r->learners, ref->learners);
    ck_assert_uint_eq(r->nconcepts, ref->nconcepts);
    ck_assert_uint_eq(r->nfitted, ref->nfitted);
    ck_assert(r->ll_fit == ref->ll_fit && r->prereq_kappa == ref->prereq_kappa);
    ck_assert(memcmp(r->fsrs_w, ref->fsrs_w, sizeof r->fsrs_w) == 0);
    for (size_t i = 0; i < r->nconcepts; i++) {
        ck_assert_str_eq(r->concepts[i].key, ref->concepts[i].key);
        ck_assert(r->concepts[i].prior == ref->concepts[i].prior &&
                  r->concepts[i].learn == ref->concepts[i].learn &&
                  r->concepts[i].slip == ref->concepts[i].slip);
    }
    kgp_fit_report_free(ref);
    /* bad arguments: nothing stored */
    ck_assert_int_eq(kgp_fit_store(g_db, NULL, 0), KGP_EUSAGE);
    ck_assert_int_eq(kgp_fit_store(g_db, r, 0x80), KGP_EUSAGE);
    kgp_fit_due_info d;
    ck_assert_int_eq(kgp_fit_due(g_db, &d), KGP_OK);
    ck_assert_int_eq(d.fitted, 0);
    ck_assert_int_eq(kgp_fit_store(g_db, r, KGP_FIT_STORE_NEWER), KGP_OK);
    ck_assert_int_eq(r->committed, 1);
    ck_assert_int_eq(kgp_fit_due(g_db, &d), KGP_OK);
    ck_assert_uint_eq(d.events_at_fit, 100);
    kgp_learner *l = NULL;
    ck_assert_int_eq(kgp_learner_get(g_db, NULL, "q1", NULL, &l), KGP_OK);
    ck_assert_int_eq(l->concepts[0].fitted, r->concepts[0].fitted);
    kgp_learner_free(l);
    /* computed on 100 events; 20 more and a fit on 120 are stored meanwhile */
    ck_assert_int_eq(kgp_fit_read(g_db, NULL, 0, &in), KGP_OK);
    ck_assert_int_eq(kgp_fit_compute(in, &stale), KGP_OK);
    kgp_observe_report_free(observe(b, 0, KGP_OK));
    ck_assert_int_eq(kgp_fit_read(g_db, NULL, 0, &in), KGP_OK);
    ck_assert_int_eq(kgp_fit_compute(in, &same), KGP_OK);
    ck_assert_int_eq(kgp_fit(g_db, NULL, 0, &now), KGP_OK);
    ck_assert_uint_eq(now->events, 120);
    char *path = tu_path(g_dir, "k.db"), *copy = tu_path(g_dir, "copy.db");
    tu_copy(path, copy);
    ck_assert_int_eq(kgp_fit_store(g_db, stale, KGP_FIT_STORE_NEWER), KGP_ECONFLICT);
    ck_assert_ptr_nonnull(strstr(kgp_db_errmsg(g_db), "a fit on 120 events is stored"));
    ck_assert_int_eq(kgp_fit_store(g_db, same, KGP_FIT_STORE_NEWER), KGP_ECONFLICT);
    ck_assert_int_eq(stale->committed, 0);
    ck_assert_int_eq(same->committed, 0);
    ck_assert_int_eq(tu_file_cmp(path, copy), 0);
    ck_assert_int_eq(kgp_fit_due(g_db, &d), KGP_OK);
    ck_assert_uint_eq(d.events_at_fit, 120);
    /* without the flag it replaces, as kgp_fit does */
    ck_assert_int_eq(kgp_fit_store(g_db, stale, 0), KGP_OK);
    ck_assert_int_eq(kgp_fit_due(g_db, &d), KGP_OK);
    ck_assert_uint_eq(d.events_at_fit, 100);
    /* an input freed uncomputed */
    ck_assert_int_eq(kgp_fit_read(g_db, NULL, 0, &in), KGP_OK);
    kgp_fit_input_free(in);
    kgp_fit_input_free(NULL);
    kgp_fit_report_free(r);
    kgp_fit_report_free(stale);
    kgp_fit_report_free(same);
    kgp_fit_report_free(now);
    free(a); free(b); free(path); free(copy);
}
END_TEST

/* Review minutes fitted from review dwell: per concept (median of its
 * reviews, recalled and failed apart), else the population's ratio to the
 * lesson's minutes; stored, read back by the learner's hooks. */
START_TEST(api_fit_review_minutes)
{
    import_samples();
    size_t cap = 1 << 16, n = 0;
    char *text = malloc(cap);
    /* vectors (45-min lesson): 8 recalled reviews of 3 min, 6 failed of 12 */
    for (int u = 0; u < 14; u++)
        n += (size_t)snprintf(text + n, cap - n,
            "{\"learner\":\"r%d\",\"concept\":\"linalg:vectors\",\"kind\":\"review\","
            "\"at\":\"2026-11-01T10:00:00Z\",\"grade\":%d,\"dwell_seconds\":%d}\n",
            u, u < 8 ? 3 : 1, u < 8 ? 150 + 10 * u : 700 + u);
    /* derivatives (57 min): two reviews only, no dwell on one */
    n += (size_t)snprintf(text + n, cap - n,
        "{\"learner\":\"r0\",\"concept\":\"ml-intro:derivatives\",\"kind\":\"review\","
        "\"at\":\"2026-11-01T11:00:00Z\",\"grade\":3,\"dwell_seconds\":60}\n"
        "{\"learner\":\"r1\",\"concept\":\"ml-intro:derivatives\",\"kind\":\"review\","
        "\"at\":\"2026-11-01T11:00:00Z\",\"grade\":3}\n");
    kgp_observe_report *r = observe(text, 0, KGP_OK);
    kgp_observe_report_free(r);
    free(text);
    kgp_fit_report *fr = NULL;
    ck_assert_int_eq(kgp_fit(g_db, NULL, 0, &fr), KGP_OK);
    const kgp_fit_concept *vec = NULL, *der = NULL;
    for (size_t i = 0; i < fr->nconcepts; i++) {
        if (!strcmp(fr->concepts[i].key, "linalg:vectors")) vec = &fr->concepts[i];
        if (!strcmp(fr->concepts[i].key, "ml-intro:derivatives")) der = &fr->concepts[i];
    }
    ck_assert(vec && der);
    ck_assert_uint_eq(vec->nreview_ok, 8);
    ck_assert_uint_eq(vec->nreview_fail, 6);
    ck_assert_double_eq_tol(vec->review_ok, 185.0 / 60, 1e-9);      /* median of 150..220 */
    ck_assert_double_eq_tol(vec->review_fail, 710.5 / 60, 1e-9);     /* median of 708..713 */
    /* the population's ratios: 9 recalled reviews (8 of vectors at x/30, one
     * of derivatives at 1/57), the failed ones of vectors */
    ck_assert_uint_eq(fr->nreview_ok, 9);
    ck_assert_double_eq_tol(fr->review_ratio_ok, 180.0 / 60 / 45, 1e-9);
    ck_assert_double_eq_tol(fr->review_ratio_fail, 710.5 / 60 / 45, 1e-9);
    /* derivatives: too few reviews of its own, so ratio x its 57 minutes */
    ck_assert_double_eq_tol(der->review_ok, fr->review_ratio_ok * 57, 1e-6);
    ck_assert_double_eq_tol(der->review_fail, fr->review_ratio_fail * 57, 1e-6);
    kgp_fit_report_free(fr);
    /* the hooks use them: the pessimistic review is the failed one */
    kgp_snap *snap;
    ck_assert_int_eq(kgp_snap_open(g_db, &snap), KGP_OK);
    uint32_t x = index_of(snap, "linalg:vectors");
    kgp_learner *l = learner_on(snap, "r0", "2026-11-20", NULL);
    ck_assert_uint_eq(kgp_learner_review_worst(l, x), 12);     /* ceil(11.84) */
    /* a concept r0 never met: its fitted record */
    ck_assert_int_eq(kgp_snap_lookup(snap, "ml-intro:derivatives", &x), KGP_OK);
    ck_assert_uint_eq(kgp_learner_review_worst(l, x), (uint32_t)ceil(710.5 / 60 / 45 * 57 - 1e-9));
    kgp_learner_free(l);
    l = learner_on(snap, "r5", "2026-11-20", NULL);
    ck_assert_uint_eq(kgp_learner_review_worst(l, x), (uint32_t)ceil(710.5 / 60 / 45 * 57 - 1e-9));
    kgp_learner_free(l);
    kgp_snap_close(snap);
}
END_TEST

/* Prerequisite strength through the API: 80 learners read vectors, then
 * vector-addition (which requires it) 1..80 days later; the quiz after the
 * lesson is right when the lesson comes within 20 days. fit finds that the
 * prerequisite's recall matters (kappa > 0, better likelihood), stores it,
 * and the review decision uses it: loss = stake·p0·(1 − e^(−kappa(1−r))). */
START_TEST(api_fit_prereq_strength)
{
    import_samples();
    size_t cap = 1 << 16, n = 0;
    char *text = malloc(cap);
    for (int u = 0; u < 80; u++) {
        int d = 1 + u;
        n += (size_t)snprintf(text + n, cap - n,
            "{\"learner\":\"p%d\",\"concept\":\"linalg:vectors\",\"kind\":\"read\","
            "\"at\":\"2026-09-01T10:00:00Z\",\"dwell_seconds\":1500}\n"
            "{\"learner\":\"p%d\",\"concept\":\"linalg:vectors\",\"kind\":\"quiz\","
            "\"at\":\"2026-09-01T10:30:00Z\",\"score\":1}\n"
            "{\"learner\":\"p%d\",\"concept\":\"linalg:vectors\",\"kind\":\"quiz\","
            "\"at\":\"2026-09-01T10:31:00Z\",\"score\":1}\n"
            "{\"learner\":\"p%d\",\"concept\":\"linalg:vector-addition\",\"kind\":\"read\","
            "\"at\":\"2026-%02d-%02dT10:00:00Z\",\"dwell_seconds\":1500}\n"
            "{\"learner\":\"p%d\",\"concept\":\"linalg:vector-addition\",\"kind\":\"quiz\","
            "\"at\":\"2026-%02d-%02dT10:30:00Z\",\"score\":%d}\n",
            u, u, u, u, 9 + (d > 30) + (d > 60), d > 60 ? d - 60 : d > 30 ? d - 30 : d,
            u, 9 + (d > 30) + (d > 60), d > 60 ? d - 60 : d > 30 ? d - 30 : d, d <= 20);
    }
    kgp_observe_report *r = observe(text, 0, KGP_OK);
    kgp_observe_report_free(r);
    free(text);
    kgp_fit_report *fr = NULL;
    ck_assert_int_eq(kgp_fit(g_db, NULL, 0, &fr), KGP_OK);
    ck_assert_uint_eq(fr->prereq_lessons, 80);
    ck_assert_msg(fr->prereq_kappa > 1, "kappa %.2f", fr->prereq_kappa);
    ck_assert(fr->prereq_ll > fr->prereq_ll0);
    double kappa = fr->prereq_kappa, p0 = fr->prereq_p0;
    kgp_fit_report_free(fr);
    double v[3];
    int found = 0;
    kgg_err ge;
    ck_assert_int_eq(kgg_model_get(kgp__db_store(g_db), "prereq-strength", v, 3, &found, &ge), KGP_OK);
    ck_assert_int_eq(found, 1);
    ck_assert_double_eq(v[0], kappa);
    ck_assert_double_eq(v[2], 80);
    /* the decision: learner p50 (vector-addition 51 days after vectors) */
    kgp_snap *snap;
    ck_assert_int_eq(kgp_snap_open(g_db, &snap), KGP_OK);
    uint32_t vec = index_of(snap, "linalg:vectors");
    int64_t at;
    kgp_learner *l = learner_on(snap, "p3", "2026-09-11", &at);
    double rr = kgp_learner_find(l, vec)->retrievability;
    uint32_t mins = 60;
    const char *why = NULL;
    int got = kgp_learner_review_at(l, vec, (int32_t)(at / 86400), &mins, &why);
    double loss = 60 * p0 * (1 - exp(-kappa * (1 - rr)));
    ck_assert_msg(rr < 0.99, "%.3f", rr);
    ck_assert_int_eq(got, loss > rr * 5);
    if (got) {
        double lg;
        const char *lp = strstr(why, " min expected loss");
        ck_assert_ptr_nonnull(lp);
        while (lp > why && lp[-1] != ' ') lp--;
        ck_assert_int_eq(sscanf(lp, "%lf", &lg), 1);
        ck_assert_double_eq_tol(lg, loss, 0.51);
    }
    kgp_learner_free(l);
    kgp_snap_close(snap);
    /* bad model values: nothing stored */
    ck_assert_int_eq(kgg_model_put(kgp__db_store(g_db), "", v, 3, &ge), KGP_EUSAGE);
    ck_assert_int_eq(kgg_model_put(kgp__db_store(g_db), "x", v, 0, &ge), KGP_EUSAGE);
    ck_assert_int_eq(kgg_model_put(kgp__db_store(g_db), "x", v, KGG_MODEL_MAX + 1, &ge), KGP_EUSAGE);
    ck_assert_int_eq(kgg_model_get(kgp__db_store(g_db), "x", v, 1, &found, &ge), KGP_OK);
    ck_assert_int_eq(found, 0);
    /* fewer values stored than asked: not found */
    ck_assert_int_eq(kgg_model_get(kgp__db_store(g_db), "prereq-strength", v, 4, &found, &ge), KGP_OK);
    ck_assert_int_eq(found, 0);
}
END_TEST

START_TEST(api_fit_minutes_replace_author_estimate)
{
    import_samples();
    char text[4096];
    size_t n = 0;
    const int dwell[6] = { 1100, 1200, 1250, 1300, 1400, 90000 };   /* one idle tab */
    for (int u = 0; u < 6; u++)
        n += (size_t)snprintf(text + n, sizeof text - n,
            "{\"learner\":\"v%d\",\"concept\":\"ml-intro:derivatives\",\"kind\":\"read\","
            "\"at\":\"2026-11-01T10:00:00Z\",\"dwell_seconds\":%d}\n", u, dwell[u]);
    kgp_observe_report *r = observe(text, 0, KGP_OK);
    kgp_observe_report_free(r);
    kgp_fit_report *fr = NULL;
    ck_assert_int_eq(kgp_fit(g_db, NULL, 0, &fr), KGP_OK);
    ck_assert_uint_eq(fr->nminutes, 1);
    ck_assert_double_eq_tol(fr->concepts[0].minutes, (1250.0 + 1300.0) / 2 / 60, 1e-9);
    kgp_fit_report_free(fr);
    kgp_snap *snap;
    ck_assert_int_eq(kgp_snap_open(g_db, &snap), KGP_OK);
    kgg_snap *g = (kgg_snap *)kgp__snap_graph(snap);
    uint32_t x = kgg_snap_find_key(g, "ml-intro:derivatives");
    ck_assert_uint_ne(x, KGG_NONE);
    ck_assert(fabsf(g->minutes[x] - 57.0f) < 1e-3);     /* 40 own + 17 video */
    uint32_t replaced;
    kgg_err e;
    ck_assert_int_eq(kgg_fit_apply_minutes(kgp__db_store(g_db), g, &replaced, &e), KGP_OK);
    ck_assert_uint_eq(replaced, 1);
    ck_assert(fabsf(g->minutes[x] - 21.25f) < 1e-3);
    kgp_snap_close(snap);
}
END_TEST

/* ---- CLI ------------------------------------------------------------------ */

static void observe_quizzes(int from, int n)
{
    char *t = tu_quiz_events("a", "x:a", from, n);
    kgp_observe_report *r = NULL;
    ck_assert_int_eq(kgp_observe(g_db, "q.jsonl", t, strlen(t), 0, &r), KGP_OK);
    ck_assert_uint_eq(r->added, (size_t)n);
    kgp_observe_report_free(r);
    free(t);
}

/* A fit is due from KGP_FIT_AUTO_MIN events on when none is recorded, then
 * each time the events grow by KGP_FIT_AUTO_GROWTH; kgp_fit records its
 * count and flags, a dry run records nothing. */
START_TEST(api_fit_due)
{
    kgp_fit_due_info d;
    ck_assert_int_eq(kgp_fit_due(g_db, &d), KGP_OK);
    ck_assert(!d.due && !d.fitted && d.events == 0);
    observe_quizzes(0, KGP_FIT_AUTO_MIN - 1);
    ck_assert_int_eq(kgp_fit_due(g_db, &d), KGP_OK);
    ck_assert(!d.due && d.events == KGP_FIT_AUTO_MIN - 1);
    observe_quizzes(KGP_FIT_AUTO_MIN - 1, 1);
    ck_assert_int_eq(kgp_fit_due(g_db, &d), KGP_OK);
    ck_assert(d.due && !d.fitted && d.events == KGP_FIT_AUTO_MIN);
    kgp_fit_report *r = NULL;
    ck_assert_int_eq(kgp_fit(g_db, NULL, KGP_FIT_DRY_RUN, &r), KGP_OK);
    kgp_fit_report_free(r);
    ck_assert_int_eq(kgp_fit_due(g_db, &d), KGP_OK);
    ck_assert(d.due && !d.fitted);                      /* a dry run records nothing */
    ck_assert_int_eq(kgp_fit(g_db, NULL, KGP_FIT_PER_LEARNER, &r), KGP_OK);
    kgp_fit_report_free(r);
    ck_assert_int_eq(kgp_fit_due(g_db, &d), KGP_OK);
    ck_assert(!d.due && d.fitted && d.events_at_fit == KGP_FIT_AUTO_MIN);
    ck_assert_uint_eq(d.due_at, (uint64_t)(KGP_FIT_AUTO_MIN * KGP_FIT_AUTO_GROWTH + 0.5));
    ck_assert_int_eq(d.flags, KGP_FIT_PER_LEARNER);
    int grow = (int)(KGP_FIT_AUTO_MIN * (KGP_FIT_AUTO_GROWTH - 1) + 0.5);
    observe_quizzes(KGP_FIT_AUTO_MIN, grow - 1);
    ck_assert_int_eq(kgp_fit_due(g_db, &d), KGP_OK);
    ck_assert(!d.due);
    observe_quizzes(KGP_FIT_AUTO_MIN + grow - 1, 1);
    ck_assert_int_eq(kgp_fit_due(g_db, &d), KGP_OK);
    ck_assert(d.due && d.events == (uint64_t)(KGP_FIT_AUTO_MIN + grow));
}
END_TEST

static int kgcli(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int kgcli(char **out, const char *fmt, ...)
{
    char args[2048], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' --db '%s/c.db' %s 2>'%s/err'",
             g_dir, getenv("KGPATH_BIN"), g_dir, args, g_dir);
    return tu_run(cmd, out);
}

START_TEST(cli_observe_learner_fit)
{
    if (!getenv("KGPATH_BIN")) {
        fprintf(stderr, "test_events: KGPATH_BIN not set, skipping the CLI case\n");
        return;
    }
    char *ev = tu_path(g_dir, "ev.jsonl");
    tu_write(ev,
        EV("u1", "x:a", "read", "2026-11-01T10:00:00Z", ",\"dwell_seconds\":600")
        "{\"learner\":\"u1\"}\n"
        EV("u1", "x:a", "quiz", "2026-11-01T10:30:00+01:00", ",\"score\":1"), (size_t)-1);
    char *out = NULL;
    ck_assert_int_eq(kgcli(&out, "observe --strict ev.jsonl"), 2);
    free(out);
    char *errp = tu_path(g_dir, "err");
    char *err = tu_read(errp, NULL);
    ck_assert_ptr_nonnull(strstr(err, "ev.jsonl:2:1: missing \"concept\""));
    free(err);
    ck_assert_int_eq(kgcli(&out, "learner u1"), 3);           /* nothing stored */
    free(out);
    ck_assert_int_eq(kgcli(&out, "observe ev.jsonl"), 2);     /* good lines kept */
    ck_assert_ptr_nonnull(strstr(out, "2 new"));
    free(out);
    ck_assert_int_eq(kgcli(&out, "observe --json - < ev.jsonl"), 2);
    json_t *j = json_loads(out, 0, NULL);
    ck_assert_ptr_nonnull(j);
    json_t *f0 = json_array_get(json_object_get(j, "files"), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(f0, "duplicates")), 2);
    json_decref(j);
    free(out);
    ck_assert_int_eq(kgcli(&out, "learner u1 --json --at 2026-11-02"), 0);
    j = json_loads(out, 0, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(json_string_value(json_object_get(j, "learner")), "u1");
    json_decref(j);
    free(out);
    ck_assert_int_eq(kgcli(&out, "learner"), 0);
    ck_assert_ptr_nonnull(strstr(out, "u1"));
    free(out);
    ck_assert_int_eq(kgcli(&out, "learner u1 --at yesterday"), 1);
    free(out);
    ck_assert_int_eq(kgcli(&out, "observe"), 1);
    free(out);
    ck_assert_int_eq(kgcli(&out, "observe missing.jsonl"), 3);
    free(out);
    ck_assert_int_eq(kgcli(&out, "fit --json"), 0);
    j = json_loads(out, 0, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "events")), 2);
    json_decref(j);
    free(out);
    free(errp);
    free(ev);
}
END_TEST

/* observe refits when a fit is due (and says so), not on a dry run, with
 * --no-fit, or when nothing new was stored; the events stay stored. */
START_TEST(cli_observe_refits)
{
    if (!getenv("KGPATH_BIN")) {
        fprintf(stderr, "test_events: KGPATH_BIN not set, skipping the CLI case\n");
        return;
    }
    char *p1 = tu_path(g_dir, "q1.jsonl"), *p2 = tu_path(g_dir, "q2.jsonl");
    char *t1 = tu_quiz_events("a", "x:a", 0, KGP_FIT_AUTO_MIN);
    char *t2 = tu_quiz_events("a", "x:a", KGP_FIT_AUTO_MIN, 40);
    tu_write(p1, t1, (size_t)-1);
    tu_write(p2, t2, (size_t)-1);
    char *out = NULL;
    ck_assert_int_eq(kgcli(&out, "observe --dry-run q1.jsonl"), 0);
    ck_assert_ptr_null(strstr(out, "refitted"));
    free(out);
    ck_assert_int_eq(kgcli(&out, "observe --no-fit q1.jsonl"), 0);
    ck_assert_ptr_null(strstr(out, "refitted"));
    free(out);
    ck_assert_int_eq(kgcli(&out, "observe q1.jsonl"), 0);      /* nothing new: no fit */
    ck_assert_ptr_null(strstr(out, "refitted"));
    free(out);
    ck_assert_int_eq(kgcli(&out, "--json observe q2.jsonl"), 0);
    json_t *j = json_loads(out, 0, NULL);
    ck_assert_ptr_nonnull(j);
    json_t *rf = json_object_get(j, "refit");
    ck_assert_ptr_nonnull(rf);
    ck_assert_int_eq(json_integer_value(json_object_get(rf, "events")), KGP_FIT_AUTO_MIN + 40);
    ck_assert_int_eq(json_integer_value(json_object_get(rf, "events_at_last_fit")), 0);
    json_decref(j);
    free(out);
    /* 40 more is less than a fifth of 140: not due */
    char *t3 = tu_quiz_events("a", "x:a", KGP_FIT_AUTO_MIN + 40, 20);
    tu_write(p2, t3, (size_t)-1);
    ck_assert_int_eq(kgcli(&out, "observe q2.jsonl"), 0);
    ck_assert_ptr_null(strstr(out, "refitted"));
    free(out);
    free(t3);
    t3 = tu_quiz_events("a", "x:a", KGP_FIT_AUTO_MIN + 60, 20);
    tu_write(p2, t3, (size_t)-1);
    ck_assert_int_eq(kgcli(&out, "observe q2.jsonl"), 0);
    ck_assert_ptr_nonnull(strstr(out, "learner models refitted on 180 events (140 at the last fit"));
    free(out);
    ck_assert_int_eq(kgcli(&out, "fit --dry-run --json"), 0);
    j = json_loads(out, 0, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "events")), 180);
    json_decref(j);
    free(out);
    free(t1); free(t2); free(t3);
    free(p1); free(p2);
}
END_TEST

/* fit --if-due fits only when observe would: not under 100 events, then
 * once, then not again until a fifth more; --dry-run only says; the stored
 * fit is the one a plain `fit --dry-run` then reports. */
START_TEST(cli_fit_if_due)
{
    if (!getenv("KGPATH_BIN")) {
        fprintf(stderr, "test_events: KGPATH_BIN not set, skipping the CLI case\n");
        return;
    }
    char *p1 = tu_path(g_dir, "q1.jsonl");
    char *t1 = tu_quiz_events("a", "x:a", 0, KGP_FIT_AUTO_MIN - 1);
    tu_write(p1, t1, (size_t)-1);
    char *out = NULL;
    ck_assert_int_eq(kgcli(&out, "observe --no-fit q1.jsonl"), 0);
    free(out);
    ck_assert_int_eq(kgcli(&out, "fit --if-due"), 0);
    ck_assert_ptr_nonnull(strstr(out, "no fit due: 99 events, no fit recorded (due from 100)"));
    free(out);
    free(t1);
    t1 = tu_quiz_events("a", "x:a", KGP_FIT_AUTO_MIN - 1, 41);   /* 140 */
    tu_write(p1, t1, (size_t)-1);
    ck_assert_int_eq(kgcli(&out, "observe --no-fit q1.jsonl"), 0);
    free(out);
    ck_assert_int_eq(kgcli(&out, "--json fit --if-due --dry-run"), 0);   /* says, stores nothing */
    json_t *j = json_loads(out, 0, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert(json_is_true(json_object_get(j, "due")));
    ck_assert_int_eq(json_integer_value(json_object_get(j, "events")), 140);
    json_decref(j);
    free(out);
    ck_assert_int_eq(kgcli(&out, "fit --if-due --dry-run"), 0);
    ck_assert_ptr_nonnull(strstr(out, "a fit is due: 140 events, no fit recorded (due from 100)"));
    free(out);
    ck_assert_int_eq(kgcli(&out, "--json fit --if-due"), 0);             /* fits: the fit's report */
    j = json_loads(out, 0, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert_ptr_null(json_object_get(j, "due"));
    ck_assert_int_eq(json_integer_value(json_object_get(j, "events")), 140);
    json_decref(j);
    free(out);
    ck_assert_int_eq(kgcli(&out, "--json fit --if-due"), 0);             /* recorded: not due again */
    j = json_loads(out, 0, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert(json_is_false(json_object_get(j, "due")));
    ck_assert_int_eq(json_integer_value(json_object_get(j, "events_at_last_fit")), 140);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "due_at")), 168);   /* 1.2 × 140 */
    json_decref(j);
    free(out);
    ck_assert_int_eq(kgcli(&out, "fit --if-due --per-learner"), 1);   /* refused: usage */
    free(out);
    free(t1);
    free(p1);
}
END_TEST

Suite *suite(void);
Suite *suite(void)
{
    Suite *s = suite_create("events");
    TCase *t = tcase_create("parse");
    tcase_add_test(t, timestamps);
    tcase_add_test(t, durations);
    tcase_add_test(t, kgpath_lines);
    tcase_add_test(t, byte_order_mark);
    tcase_add_test(t, malformed_lines_reported_good_kept);
    tcase_add_test(t, xapi_variants);
    tcase_add_test(t, xapi_documents);
    tcase_add_test(t, many_errors_counted);
    tcase_add_test(t, canonical_encoding);
    suite_add_tcase(s, t);
    TCase *st = tcase_create("store");
    tcase_add_test(st, store_idempotent_and_ordered);
    tcase_add_test(st, store_bad_events_write_nothing);
    suite_add_tcase(s, st);
    TCase *api = tcase_create("api");
    tcase_add_checked_fixture(api, api_setup, api_teardown);
    tcase_add_test(api, api_observe_strict_and_duplicates);
    tcase_add_test(api, api_learner_state_out_of_order);
    tcase_add_test(api, api_plan_with_learner);
    tcase_add_test(api, api_review_decisions);
    tcase_add_test(api, api_review_lapse);
    tcase_add_test(api, api_review_uncertain_mixture);
    tcase_add_test(api, api_check_or_teach_uncertain);
    tcase_add_test(api, api_blame_explains_away);
    tcase_add_test(api, api_blame_or_group);
    tcase_add_test(api, api_blame_single_and_shared);
    tcase_add_test(api, api_blame_k_of_n_and_repeated);
    tcase_add_test(api, api_fit_review_minutes);
    tcase_add_test(api, api_fit_prereq_strength);
    tcase_add_test(api, api_fit);
    tcase_add_test(api, api_fit_steps);
    tcase_add_test(api, api_fit_fsrs);
    tcase_add_test(api, api_fit_fsrs_reads);
    tcase_add_test(api, api_fit_minutes_replace_author_estimate);
    tcase_add_test(api, cli_observe_learner_fit);
    tcase_add_test(api, api_fit_due);
    tcase_add_test(api, cli_observe_refits);
    tcase_add_test(api, cli_fit_if_due);
    suite_add_tcase(s, api);
    return s;
}
