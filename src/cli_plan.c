/* CLI: `kgpath plan`, `kgpath next`, `kgpath check` (public API only). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "cli.h"
#include "cli_util.h"

typedef struct idlist { uint32_t *v; size_t n, cap; } idlist;

static int ids_add(idlist *l, uint32_t x)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? 2 * l->cap : 16;
        uint32_t *nv = realloc(l->v, nc * sizeof *nv);
        if (!nv) return -1;
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n++] = x;
    return 0;
}

/* Reads concept names, one per line ('#' starts a comment), into l. */
static int read_known_file(kgp_snap *snap, const char *path, idlist *l)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f) { cli_error("cannot read %s", path); return KGP_EIO; }
    char line[4096];
    unsigned lineno = 0;
    int rc = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        lineno++;
        char *h = strchr(line, '#');
        if (h) *h = 0;
        char *s = line, *e = line + strlen(line);
        while (*s == ' ' || *s == '\t') s++;
        while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t')) *--e = 0;
        if (!*s) continue;
        uint32_t id;
        kgp_status st = kgp_snap_lookup(snap, s, &id);
        if (st != KGP_OK) {
            cli_error("%s:%u:1: %s", path, lineno, kgp_snap_errmsg(snap));
            rc = (int)st;
        } else if (ids_add(l, id)) {
            rc = cli_fail(KGP_ENOMEM, NULL);
        }
    }
    if (!rc && ferror(f)) { cli_error("cannot read %s", path); rc = KGP_EIO; }
    if (f != stdin) fclose(f);
    return rc;
}

static int parse_uint(const char *opt, const char *arg, unsigned lo, unsigned hi, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(arg, &end, 10);
    if (!*arg || *end || v < lo || v > hi || arg[0] == '-') {
        cli_error("--%s: expected an integer from %u to %u, got '%s'", opt, lo, hi, arg);
        return KGP_EUSAGE;
    }
    *out = (unsigned)v;
    return 0;
}

static int check_date(const char *opt, const char *arg)
{
    int y, m, d;
    char tail;
    if (strlen(arg) != 10 || sscanf(arg, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3) {
        cli_error("--%s: expected a date YYYY-MM-DD, got '%s'", opt, arg);
        return KGP_EUSAGE;
    }
    return 0;
}

/* Options shared by plan and next. */
typedef struct req {
    const char **goal_names; size_t ngoal_names;
    const char **known_names; size_t nknown_names;
    const char **known_files; size_t nknown_files;
    const char **goal_texts; size_t ngoal_texts;   /* --goal-text: nearest concept */
    const char *model;                             /* --model for --goal-text */
    const char *learner;
    double retention, mastery;  /* learner options (0: defaults 0.9, 0.95) */
} req;

static int req_push(const char ***v, size_t *n, const char *s)
{
    const char **nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv) return -1;
    nv[(*n)++] = s;
    *v = nv;
    return 0;
}

/* Options 0..3 of plan and next (their option tables start alike):
 * --goal, --known, --known-file, --learner. */
static int req_option(req *r, int k, const char *arg)
{
    switch (k) {
    case 0: return req_push(&r->goal_names, &r->ngoal_names, arg) ? KGP_ENOMEM : 0;
    case 1: return req_push(&r->known_names, &r->nknown_names, arg) ? KGP_ENOMEM : 0;
    case 2: return req_push(&r->known_files, &r->nknown_files, arg) ? KGP_ENOMEM : 0;
    default: r->learner = arg; return 0;
    }
}

static void req_free(req *r);

/* What plan and next open: the snapshot, the resolved goals and known set,
 * the learner (with --learner) and a planner on the snapshot. */
typedef struct session {
    kgp_db *db;
    kgp_snap *snap;
    kgp_planner *pl;
    kgp_learner *learner;
    idlist goals, known;
    size_t nexplicit;           /* known concepts named by the user (not the learner's) */
} session;

static int resolve_req(kgp_db *db, kgp_snap *snap, const req *r, idlist *goals, idlist *known,
                       int64_t at, kgp_learner **learner, size_t *nexplicit);

/* Opens a session for r with the learner's state at `at`; prints errors. */
static int session_open(kgp_cli *cli, const req *r, int64_t at, session *ss)
{
    memset(ss, 0, sizeof *ss);
    int rc = cli_open_snap(cli, &ss->db, &ss->snap);
    if (!rc) rc = resolve_req(ss->db, ss->snap, r, &ss->goals, &ss->known, at, &ss->learner,
                              &ss->nexplicit);
    if (rc) return rc;
    if (ss->learner) cli_learner_notes(cli, ss->learner, "--learner");
    kgp_status st = kgp_planner_open(ss->snap, &ss->pl);
    return st ? cli_fail(st, kgp_snap_errmsg(ss->snap)) : 0;
}

static void session_close(session *ss, req *r)
{
    kgp_learner_free(ss->learner);
    kgp_planner_close(ss->pl);
    kgp_snap_close(ss->snap);
    kgp_db_close(ss->db);
    free(ss->goals.v);
    free(ss->known.v);
    req_free(r);
}

static void req_free(req *r)
{
    free(r->goal_names);
    free(r->known_names);
    free(r->known_files);
    free(r->goal_texts);
}

/* --goal-text: the concept nearest in meaning to each text becomes a goal,
 * and the choice is said on stderr so the user can check it. */
static int resolve_goal_texts(kgp_db *db, kgp_snap *snap, const req *r, idlist *goals)
{
    if (!r->ngoal_texts) return 0;
    /* --model, else $KGPATH_MODEL, else the database's own checkpoint */
    const char *dir = r->model, *env = getenv("KGPATH_MODEL");
    char defck[4096], probe[4200];
    if ((!dir || !*dir) && (!env || !*env) && !kgp_checkpoint_path(kgp_db_path(db), defck, sizeof defck)) {
        snprintf(probe, sizeof probe, "%s/config.json", defck);
        if (access(probe, F_OK) == 0) dir = defck;
    }
    kgp_model *m = NULL;
    kgp_status st = kgp_model_load(dir, &m);
    if (st) {
        cli_error("--goal-text needs a text model: %s", m ? kgp_model_errmsg(m) : kgp_strerror(st));
        kgp_model_free(m);
        return st;
    }
    int rc = 0;
    for (size_t i = 0; !rc && i < r->ngoal_texts; i++) {
        kgp_match best;
        size_t n = 0;
        st = kgp_search(snap, m, r->goal_texts[i], 1, &best, &n, NULL);
        if (st) { cli_error("--goal-text: %s", kgp_snap_errmsg(snap)); rc = st; break; }
        if (n == 0) { cli_error("--goal-text '%s': no concept matches", r->goal_texts[i]); rc = KGP_ENOTFOUND; break; }
        fprintf(stderr, "kgpath: goal '%s' -> %s (%s), similarity %.2f\n",
                r->goal_texts[i], best.key, best.title, (double)best.score);
        uint32_t id;
        if ((rc = cli_lookup(snap, best.key, &id))) break;
        if (ids_add(goals, id)) rc = cli_fail(KGP_ENOMEM, NULL);
    }
    kgp_model_free(m);
    return rc;
}

/* Resolves goals and the known set; prints errors. With --learner, adds
 * the learner's known concepts (mastered or fading, kgp_learner_known) and
 * returns the learner in *learner for review steps (kgp_learner_review), its
 * state taken at the start of day `at` (unix seconds, 0: now). */
static int resolve_req(kgp_db *db, kgp_snap *snap, const req *r, idlist *goals, idlist *known,
                       int64_t at, kgp_learner **learner, size_t *nexplicit)
{
    int rc;
    if ((rc = resolve_goal_texts(db, snap, r, goals))) return rc;
    for (size_t i = 0; i < r->ngoal_names; i++) {
        uint32_t id;
        if ((rc = cli_lookup(snap, r->goal_names[i], &id))) return rc;
        if (ids_add(goals, id)) return cli_fail(KGP_ENOMEM, NULL);
    }
    for (size_t i = 0; i < r->nknown_names; i++) {
        uint32_t id;
        if ((rc = cli_lookup(snap, r->known_names[i], &id))) return rc;
        if (ids_add(known, id)) return cli_fail(KGP_ENOMEM, NULL);
    }
    for (size_t i = 0; i < r->nknown_files; i++)
        if ((rc = read_known_file(snap, r->known_files[i], known))) return rc;
    if (nexplicit) *nexplicit = known->n;
    if (r->learner) {
        kgp_learner_options lo;
        memset(&lo, 0, sizeof lo);
        lo.at = at;
        lo.retention = r->retention;
        lo.mastery = r->mastery;
        lo.flags = KGP_LEARNER_NEW_OK;      /* a new learner gets a plan for one */
        kgp_status st = kgp_learner_get(db, snap, r->learner, &lo, learner);
        if (st != KGP_OK) {
            const char *m = kgp_db_errmsg(db);
            if (m && *m) cli_error("--learner %s: %s", r->learner, m);
            else cli_error("--learner %s: %s", r->learner, kgp_strerror(st));
            return (int)st;
        }
        uint32_t *lk = NULL;
        size_t nlk = 0;
        if ((st = kgp_learner_known(*learner, &lk, &nlk)) != KGP_OK) return cli_fail(st, NULL);
        for (size_t i = 0; i < nlk; i++)
            if (ids_add(known, lk[i])) { kgp_learner_known_free(lk); return cli_fail(KGP_ENOMEM, NULL); }
        kgp_learner_known_free(lk);
    }
    return 0;
}

static int parse_prob(const char *opt, const char *arg, double *out)
{
    char *end;
    double v = strtod(arg, &end);
    if (!*arg || *end || !(v > 0 && v < 1)) {
        cli_error("--%s: expected a number between 0 and 1 (exclusive), got '%s'", opt, arg);
        return KGP_EUSAGE;
    }
    *out = v;
    return 0;
}

/* Midnight UTC of a checked "YYYY-MM-DD" as unix seconds. */
static int64_t day_start(const char *d)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    sscanf(d, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

static void today(char buf[16])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, 16, "%Y-%m-%d", &tm);
}

static const cli_opt plan_opts[] = {
    {"goal", 'g', 1}, {"known", 'k', 1}, {"known-file", 0, 1}, {"learner", 0, 1},
    {"budget-minutes", 0, 1}, {"minutes-per-day", 0, 1}, {"days-per-week", 0, 1},
    {"start", 0, 1}, {"deadline", 0, 1}, {"include-recommended", 0, 0},
    {"format", 'f', 1}, {"output", 'o', 1}, {"default-minutes", 0, 1}, {"json", 0, 0},
    {"retention", 0, 1}, {"date", 0, 1}, {"mastery", 0, 1}, {"review-days", 0, 1},
    {"goal-text", 0, 1}, {"model", 0, 1}, {"follow-course-order", 0, 0},
    {0, 0, 0}
};

int cmd_plan(kgp_cli *cli, int argc, char **argv)
{
    req r = {0};
    kgp_plan_options o;
    kgp_plan_options_init(&o);
    const char *format = cli->json ? "json" : "text", *output = NULL, *date = NULL;
    unsigned u;
    int rc = 0;
    cli_parser p;
    cli_parse_init(&p, argc, argv, plan_opts);
    const char *arg;
    for (int k; !rc && (k = cli_parse(&p, &arg)) != -1;) {
        switch (k) {
        case -2: rc = KGP_EUSAGE; break;
        case 0: case 1: case 2: case 3: rc = req_option(&r, k, arg); break;
        case 4: if (!(rc = parse_uint("budget-minutes", arg, 1, 100000000u, &u))) o.budget_minutes = u; break;
        case 5: rc = parse_uint("minutes-per-day", arg, 1, 1440, &o.minutes_per_day); break;
        case 6: rc = parse_uint("days-per-week", arg, 1, 7, &o.days_per_week); break;
        case 7: if (!(rc = check_date("start", arg))) o.start = arg; break;
        case 8: if (!(rc = check_date("deadline", arg))) o.deadline = arg; break;
        case 9: o.include_recommended = 1; break;
        case 10: format = arg; break;
        case 11: output = arg; break;
        case 12: rc = parse_uint("default-minutes", arg, 1, 100000, &o.default_minutes); break;
        case 13: format = "json"; break;
        case 14: rc = parse_prob("retention", arg, &r.retention); break;
        case 15: if (!(rc = check_date("date", arg))) date = arg; break;
        case 16: rc = parse_prob("mastery", arg, &r.mastery); break;
        case 17: rc = parse_uint("review-days", arg, 0, 3650, &o.spaced_days); break;
        case 18: rc = req_push(&r.goal_texts, &r.ngoal_texts, arg) ? KGP_ENOMEM : 0; break;
        case 19: r.model = arg; break;
        case 20: o.follow_course_order = 1; break;
        }
    }
    if (!rc && p.first < p.argc) { cli_error("plan: unexpected argument '%s' (use --goal)", p.argv[p.first]); rc = KGP_EUSAGE; }
    if (!rc && !r.learner && (r.retention || r.mastery || o.spaced_days)) {
        cli_error("plan: --retention, --mastery and --review-days need --learner");
        rc = KGP_EUSAGE;
    }
    if (!rc && r.ngoal_names == 0 && r.ngoal_texts == 0) {
        cli_error("plan: give at least one --goal CONCEPT (or --goal-text TEXT)");
        rc = KGP_EUSAGE;
    }
    if (!rc && strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "dot") && strcmp(format, "html")) {
        cli_error("--format: expected text, json, dot or html, got '%s'", format);
        rc = KGP_EUSAGE;
    }
    cli_parse_free(&p);
    if (rc) { req_free(&r); return rc; }
    /* Calendar defaults: 60 minutes a day, starting on --date, else today
     * (UTC). The learner's state is taken on --date, else the start day. */
    char start[16];
    if ((o.start || o.deadline) && !o.minutes_per_day) o.minutes_per_day = 60;
    if (o.minutes_per_day && !o.start) {
        if (date) snprintf(start, sizeof start, "%s", date);
        else today(start);
        o.start = start;
    }

    kgp_plan *plan = NULL;
    session ss;
    int64_t at = date ? day_start(date) : o.start ? day_start(o.start) : 0;
    if ((rc = session_open(cli, &r, at, &ss))) goto out;
    kgp_learner *learner = ss.learner;
    if (learner) {
        /* A goal the learner already knows is reported as mastered (and
         * reviewed when fading); one named with --known is still an error. */
        for (size_t i = 0; i < ss.goals.n; i++)
            for (size_t j = 0; j < ss.nexplicit; j++)
                if (ss.known.v[j] == ss.goals.v[i]) {
                    cli_error("goal '%s' is already known", kgp_snap_key(ss.snap, ss.goals.v[i]));
                    rc = KGP_ECONFLICT;
                    goto out;
                }
        o.review_at = kgp_learner_review_at;
        o.review_at_ud = learner;
        o.spaced = kgp_learner_spaced;
        o.spaced_ud = learner;
        o.review_worst = kgp_learner_review_worst;
        o.review_worst_ud = learner;
        o.review_after = kgp_learner_review_after;
        o.review_after_ud = learner;
        o.learn_note = kgp_learner_learn_note;
        o.learn_note_ud = learner;
        o.known_goals_ok = 1;
        o.cheapest_goals_first = 1;
        if (!o.minutes_per_day && at) {
            /* no calendar: reviews judged on the plan date */
            snprintf(start, sizeof start, "%s", date ? date : o.start);
            o.start = start;
        }
    }
    kgp_status st = kgp_plan_make(ss.pl, ss.goals.v, ss.goals.n, ss.known.v, ss.known.n, &o, &plan);
    if (st) { rc = cli_fail(st, kgp_plan_errmsg(plan)); goto out; }
    cli_out po;
    if ((rc = cli_out_open(&po, output)) != 0) goto out;
    errno = 0;
    st = kgp_plan_write(plan, format, po.f);
    if ((rc = cli_out_close(&po, st, errno, "the plan", NULL)) != 0) goto out;
    kgp_plan_summary sum;
    kgp_plan_summary_get(plan, &sum);
    if (sum.goals == 0 && sum.mastered_goals == 0) {
        cli_error("no goal fits within the budget of %.0f minutes", o.budget_minutes);
        rc = KGP_ECONFLICT;
    }
out:
    kgp_plan_free(plan);
    session_close(&ss, &r);
    return rc;
}

static const cli_opt next_opts[] = {
    {"goal", 'g', 1}, {"known", 'k', 1}, {"known-file", 0, 1}, {"learner", 0, 1},
    {"limit", 'n', 1}, {"format", 'f', 1}, {"json", 0, 0}, {"date", 0, 1},
    {"retention", 0, 1}, {"mastery", 0, 1}, {"follow-course-order", 0, 0}, {0, 0, 0}
};

int cmd_next(kgp_cli *cli, int argc, char **argv)
{
    req r = {0};
    kgp_plan_options no;
    kgp_plan_options_init(&no);
    unsigned limit = 10;
    const char *format = cli->json ? "json" : "text", *date = NULL;
    int rc = 0;
    cli_parser p;
    cli_parse_init(&p, argc, argv, next_opts);
    const char *arg;
    for (int k; !rc && (k = cli_parse(&p, &arg)) != -1;) {
        switch (k) {
        case -2: rc = KGP_EUSAGE; break;
        case 0: case 1: case 2: case 3: rc = req_option(&r, k, arg); break;
        case 4: rc = parse_uint("limit", arg, 0, 1000000000u, &limit); break;
        case 5: format = arg; break;
        case 6: format = "json"; break;
        case 7: if (!(rc = check_date("date", arg))) date = arg; break;
        case 8: rc = parse_prob("retention", arg, &r.retention); break;
        case 9: rc = parse_prob("mastery", arg, &r.mastery); break;
        case 10: no.follow_course_order = 1; break;
        }
    }
    if (!rc && p.first < p.argc) { cli_error("next: unexpected argument '%s'", p.argv[p.first]); rc = KGP_EUSAGE; }
    if (!rc && !r.learner && (r.retention || r.mastery)) {
        cli_error("next: --retention and --mastery need --learner");
        rc = KGP_EUSAGE;
    }
    if (!rc && strcmp(format, "text") && strcmp(format, "json")) {
        cli_error("--format: expected text or json, got '%s'", format);
        rc = KGP_EUSAGE;
    }
    cli_parse_free(&p);
    if (rc) { req_free(&r); return rc; }
    kgp_next *x = NULL;
    session ss;
    if ((rc = session_open(cli, &r, date ? day_start(date) : 0, &ss))) goto out;
    kgp_learner *learner = ss.learner;
    kgp_status st = kgp_next_make_opts(ss.pl, ss.goals.v, ss.goals.n, ss.known.v, ss.known.n, limit, &no, &x);
    if (st) { rc = cli_fail(st, kgp_next_errmsg(x)); goto out; }
    if (learner) {
        /* due reviews: the learner's known concepts fading (or uncertain)
         * on the state's day */
        uint32_t *lk = NULL;
        size_t nlk = 0;
        if ((st = kgp_learner_known(learner, &lk, &nlk)) == KGP_OK) {
            st = kgp_next_add_reviews(x, lk, nlk, kgp_learner_review_at, learner, KGP_NO_DAY);
            kgp_learner_known_free(lk);
        }
        if (st) { rc = cli_fail(st, kgp_next_errmsg(x)); goto out; }
    }
    if ((st = kgp_next_write(x, format, stdout))) rc = cli_fail(st, NULL);
out:
    kgp_next_free(x);
    session_close(&ss, &r);
    return rc;
}

static const cli_opt check_opts[] = {
    {"format", 'f', 1}, {"json", 0, 0}, {"strict", 0, 0},
    {"suspicious", 0, 0}, {"checkpoint", 'm', 1}, {"course", 'c', 1}, {"top", 'k', 1}, {0, 0, 0}
};

/* check --suspicious: the report, then the model's suspicious edges
 * (cli_suspicious_report, src/cli_train.c); in JSON, under "suspicious". */
static int check_with_suspects(kgp_cli *cli, const kgp_check *c, const char *format, kgp_snap *snap,
                               const char *ckpt, const char *course, size_t top)
{
    if (!strcmp(format, "text")) {
        kgp_status st = kgp_check_write(c, format, stdout);
        if (st) return cli_fail(st, NULL);
        printf("\nSuspicious edges (the model's lowest scores, each without itself as context; %s):\n", ckpt);
        fflush(stdout);
        return cli_suspicious_report(cli, snap, ckpt, course, top, NULL);
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m) return cli_fail(KGP_ENOMEM, NULL);
    kgp_status st = kgp_check_write(c, format, m);
    fclose(m);
    if (st) { free(buf); return cli_fail(st, NULL); }
    json_error_t je;
    json_t *o = json_loadb(buf, len, 0, &je);
    free(buf);
    if (!json_is_object(o)) { json_decref(o); return cli_fail(KGP_EINTERNAL, "check: report is not a JSON object"); }
    json_t *a = NULL;
    int rc = cli_suspicious_report(cli, snap, ckpt, course, top, &a);
    if (rc) { json_decref(o); return rc; }
    json_object_set_new(o, "suspicious", a);
    return cli_json_print(o);
}

int cmd_check(kgp_cli *cli, int argc, char **argv)
{
    const char *format = cli->json ? "json" : "text";
    int rc = 0, strict = 0, suspicious = 0;
    const char *ckpt = NULL, *course = NULL;
    char defck[4096];
    long top = 20;
    cli_parser p;
    cli_parse_init(&p, argc, argv, check_opts);
    const char *arg;
    for (int k; !rc && (k = cli_parse(&p, &arg)) != -1;) {
        if (k == -2) rc = KGP_EUSAGE;
        else if (k == 0) format = arg;
        else if (k == 1) format = "json";
        else if (k == 2) strict = 1;
        else if (k == 3) suspicious = 1;
        else if (k == 4) ckpt = arg;
        else if (k == 5) course = arg;
        else if (k == 6) {
            char *end;
            top = strtol(arg, &end, 10);
            if (*end || !*arg || top < 0) { cli_error("--top: expected a count, got '%s'", arg); rc = KGP_EUSAGE; }
        }
    }
    if (!rc && p.first < p.argc) { cli_error("check: unexpected argument '%s'", p.argv[p.first]); rc = KGP_EUSAGE; }
    if (!rc && strcmp(format, "text") && strcmp(format, "json")) {
        cli_error("--format: expected text or json, got '%s'", format);
        rc = KGP_EUSAGE;
    }
    cli_parse_free(&p);
    if (rc) return rc;
    kgp_db *db = NULL;
    kgp_snap *snap = NULL;
    kgp_planner *pl = NULL;
    kgp_check *c = NULL;
    if ((rc = cli_open_snap(cli, &db, &snap))) goto out;
    kgp_status st = kgp_planner_open(snap, &pl);
    if (st) { rc = cli_fail(st, kgp_snap_errmsg(snap)); goto out; }
    st = kgp_check_make(pl, &c);
    if (st) { rc = cli_fail(st, kgp_check_errmsg(c)); goto out; }
    if (suspicious) {
        if ((rc = cli_checkpoint(cli, db, snap, ckpt, defck, sizeof defck, &ckpt))) goto out;
        if ((rc = check_with_suspects(cli, c, format, snap, ckpt, course, (size_t)top))) goto out;
    } else if ((st = kgp_check_write(c, format, stdout))) { rc = cli_fail(st, NULL); goto out; }
    if (strict) {
        kgp_check_summary s;
        kgp_check_summary_get(c, &s);
        if (s.cycles || s.dangling || s.unreachable) rc = KGP_EINPUT;
    }
out:
    kgp_check_free(c);
    kgp_planner_close(pl);
    kgp_snap_close(snap);
    kgp_db_close(db);
    return rc;
}
