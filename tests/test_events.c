/* Learner events: parsing (kgpath lines, xAPI variants, time zones,
 * malformed lines), canonical encoding and keys. Storage tests are in the
 * "store" case (LMDB, temp dirs). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "graph/store.h"
#include "planner/learner_bkt.h"
#include "planner/learner_events.h"
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
    kgg_fit_rec rec = { "c:a", 0.2, 0.3, 0.25, 0.15, 0.05, 0, 1, 42.5, 120, 9 };
    ck_assert(kgg_fit_replace(st, &rec, 1, &e) == KGP_OK);
    kgg_fit_rec got = {0};
    ck_assert(kgg_fit_all(st, fit_collect, &got, &e) == KGP_OK);
    ck_assert_double_eq(got.learn_read, 0.25);
    ck_assert_double_eq(got.minutes, 42.5);
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

Suite *suite(void);
Suite *suite(void)
{
    Suite *s = suite_create("events");
    TCase *t = tcase_create("parse");
    tcase_add_test(t, timestamps);
    tcase_add_test(t, durations);
    tcase_add_test(t, kgpath_lines);
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
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
