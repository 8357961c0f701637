/* kgpath plan / next / check end to end: golden outputs on the sample
 * courses (data/samples), exit codes of every error path, and the HTML page
 * rendered in headless Chromium (skipped with a message when Chromium is
 * not installed). Regenerate the golden files with KGPATH_UPDATE_GOLDEN=1. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <pthread.h>

#include "kgpath.h"

#include "tests/testutil.h"

static char *dir, *db;
static const char *bin;
static int have_samples;

static void setup(void)
{
    bin = getenv("KGPATH_BIN");
    ck_assert_msg(bin != NULL, "KGPATH_BIN not set");
    dir = tu_mkdtemp();
    db = tu_path(dir, "db");
    char *samples = tu_path(tu_source_root(), "data/samples/ml-intro.xml");
    struct stat st;
    have_samples = stat(samples, &st) == 0;
    free(samples);
    if (!have_samples) return;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' --db '%s' import '%s'/data/samples/*.xml >/dev/null 2>&1",
             bin, db, tu_source_root());
    ck_assert_int_eq(tu_run(cmd, NULL), 0);
}

static void teardown(void)
{
    tu_rmrf(dir);
    free(dir);
    free(db);
}

/* Runs `kgpath --db DB ARGS`, returns the exit code; stdout in *out. */
static int kg(char **out, const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' --db '%s' %s 2>'%s/stderr'", dir, bin, db, args, dir);
    return tu_run(cmd, out);
}

static char *last_stderr(void)
{
    char *p = tu_path(dir, "stderr");
    char *s = tu_read(p, NULL);
    free(p);
    return s ? s : strdup("");
}

static void golden(const char *name, const char *got)
{
    char rel[256];
    snprintf(rel, sizeof rel, "tests/golden_plan/%s", name);
    char *path = tu_path(tu_source_root(), rel);
    if (getenv("KGPATH_UPDATE_GOLDEN")) tu_write(path, got, (size_t)-1);
    char *want = tu_read(path, NULL);
    ck_assert_msg(want != NULL, "missing golden file %s (run with KGPATH_UPDATE_GOLDEN=1)", path);
    ck_assert_msg(strcmp(want, got) == 0, "output differs from %s:\n%s", path, got);
    free(want);
    free(path);
}

#define NEED_SAMPLES() do { if (!have_samples) { \
    fprintf(stderr, "skipped: data/samples not present\n"); return; } } while (0)

static const char *PLAN_NN = "plan --goal ml-intro:neural-networks --known linalg:vectors "
    "--known linalg:matrices --minutes-per-day 90 --days-per-week 5 --start 2026-12-01 "
    "--deadline 2026-12-20";

START_TEST(test_golden_plan_text)
{
    NEED_SAMPLES();
    char *out;
    /* Planning is a pure read: the database file stays byte-for-byte the same. */
    char *before = tu_path(dir, "db.before");
    tu_copy(db, before);
    ck_assert_int_eq(kg(&out, PLAN_NN), 0);
    ck_assert_msg(tu_file_cmp(before, db) == 0, "kgpath plan changed the database file");
    free(before);
    golden("plan_nn.txt", out);
    free(out);
}
END_TEST

START_TEST(test_golden_plan_json)
{
    NEED_SAMPLES();
    char *out, args[1024];
    snprintf(args, sizeof args, "%s --format json", PLAN_NN);
    ck_assert_int_eq(kg(&out, args), 0);
    golden("plan_nn.json", out);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    ck_assert_msg(j, "%s", je.text);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "kgpath_plan")), 1);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "goals"), 0)), "ml-intro:neural-networks");
    ck_assert_uint_eq(json_array_size(json_object_get(j, "known")), 2);
    json_t *steps = json_object_get(j, "steps");
    json_int_t sum = 0;
    for (size_t i = 0; i < json_array_size(steps); i++) {
        json_t *s = json_array_get(steps, i);
        ck_assert(json_is_string(json_object_get(s, "concept")));
        ck_assert(json_is_string(json_object_get(s, "day")));
        ck_assert(json_is_array(json_object_get(s, "why")));
        const char *kind = json_string_value(json_object_get(s, "kind"));
        ck_assert(kind && (!strcmp(kind, "learn") || !strcmp(kind, "review")));
        sum += json_integer_value(json_object_get(s, "minutes"));
    }
    ck_assert_int_eq(sum, json_integer_value(json_object_get(j, "total_minutes")));
    json_decref(j);
    free(out);
}
END_TEST

START_TEST(test_golden_dot_next_check)
{
    NEED_SAMPLES();
    char *out;
    ck_assert_int_eq(kg(&out, "plan --goal python-zh:recursion --format dot"), 0);
    golden("plan_recursion.dot", out);
    free(out);
    ck_assert_int_eq(kg(&out, "next --known linalg:vectors"), 0);
    golden("next.txt", out);
    free(out);
    ck_assert_int_eq(kg(&out, "next --goal ml-intro:neural-networks --known linalg:vectors --json"), 0);
    golden("next_goal.json", out);
    json_t *j = json_loads(out, 0, NULL);
    ck_assert_ptr_nonnull(j);
    json_decref(j);
    free(out);
    ck_assert_int_eq(kg(&out, "check"), 0);
    golden("check.txt", out);
    free(out);
    ck_assert_int_eq(kg(&out, "check --json"), 0);
    j = json_loads(out, 0, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "kgpath_check")), 1);
    json_decref(j);
    free(out);
}
END_TEST

START_TEST(test_budget_and_known_file)
{
    NEED_SAMPLES();
    char *out, *kf = tu_path(dir, "known.txt");
    tu_write(kf, "# what I know\nlinalg:vectors\n\n  linalg:matrices  \n", (size_t)-1);
    char args[1024];
    snprintf(args, sizeof args, "plan --goal python-zh:recursion --goal ml-intro:neural-networks "
             "--known-file '%s' --budget-minutes 600 --format json", kf);
    ck_assert_int_eq(kg(&out, args), 0);
    json_t *j = json_loads(out, 0, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "goals")), 1);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "dropped_goals")), 1);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "known")), 2);
    ck_assert_int_le(json_integer_value(json_object_get(j, "total_minutes")), 600);
    json_decref(j);
    free(out);
    /* A bad line is reported with its line number. */
    tu_write(kf, "linalg:vectors\nno-such-thing\n", (size_t)-1);
    snprintf(args, sizeof args, "plan --goal python-zh:recursion --known-file '%s'", kf);
    ck_assert_int_eq(kg(&out, args), 3);
    char *err = last_stderr();
    ck_assert_msg(strstr(err, "known.txt:2:1:"), "%s", err);
    free(err);
    free(out);
    free(kf);
}
END_TEST

START_TEST(test_errors)
{
    NEED_SAMPLES();
    struct { const char *args; int code; const char *msg; } cases[] = {
        {"plan", 1, "--goal"},
        {"plan --goal no-such-concept", 3, "no-such-concept"},
        {"plan --goal linalg:vectors --known linalg:vectors", 5, "already known"},
        {"plan --goal ml-intro:neural-networks --budget-minutes 5", 5, "budget"},
        {"plan --goal linalg:vectors --start 2026-13-01", 1, "start"},
        {"plan --goal linalg:vectors --start tomorrow", 1, "start"},
        {"plan --goal linalg:vectors --minutes-per-day 0", 1, "minutes-per-day"},
        {"plan --goal linalg:vectors --days-per-week 9", 1, "days-per-week"},
        {"plan --goal linalg:vectors --start 2026-12-10 --deadline 2026-12-01", 1, "deadline"},
        {"plan --goal linalg:vectors --format pdf", 1, "format"},
        {"plan --goal linalg:vectors --known-file /nonexistent/k.txt", 8, "/nonexistent/k.txt"},
        {"plan --goal linalg:vectors --bogus", 1, "bogus"},
        {"plan linalg:vectors", 1, "--goal"},
        {"next --limit x", 1, "limit"},
        {"next --goal linalg:vectors --known linalg:vectors", 5, "already known"},
        {"next --format dot", 1, "format"},
        {"check --format html", 1, "format"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *out;
        int rc = kg(&out, cases[i].args);
        char *err = last_stderr();
        ck_assert_msg(rc == cases[i].code, "%s: exit %d, want %d (%s)", cases[i].args, rc, cases[i].code, err);
        ck_assert_msg(strstr(err, cases[i].msg), "%s: message '%s' lacks '%s'", cases[i].args, err, cases[i].msg);
        ck_assert_msg(strncmp(err, "kgpath: ", 8) == 0, "%s: '%s'", cases[i].args, err);
        free(err);
        free(out);
    }
}
END_TEST

/* The option list's line of opt in a --help text (NULL when none): a line
 * that starts, after its indent and a short form, with opt. */
static const char *help_line(const char *help, const char *opt)
{
    for (const char *l = help; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        const char *p = l;
        if (*p != ' ') continue;
        while (*p == ' ') p++;
        if (p[0] == '-' && p[1] != '-' && p[2] == ',') p += 3;
        while (*p == ' ') p++;
        size_t n = strlen(opt);
        if (!strncmp(p, opt, n) && (p[n] == ' ' || p[n] == '\n')) return l;
    }
    return NULL;
}

/* The description of a help line: after the option and its argument,
 * up to the end of the line. */
static void help_text(const char *line, char *out, size_t n)
{
    const char *e = strchr(line, '\n');
    const char *d = strstr(line, "  ");
    while (d && d < e && *d == ' ') d++;
    d = d ? strstr(d, "  ") : NULL;
    while (d && d < e && *d == ' ') d++;
    snprintf(out, n, "%.*s", d && d < e ? (int)(e - d) : 0, d ? d : "");
}

/* Every option the usage line of plan and next shows is described in the
 * option list (next showed --retention and --mastery without a word),
 * and the learner options read the same in both. */
START_TEST(test_help_describes_usage)
{
    char *help[2];
    const char *cmds[2] = {"plan --help", "next --help"};
    for (int c = 0; c < 2; c++) {
        ck_assert_int_eq(kg(&help[c], cmds[c]), 0);
        const char *end = strstr(help[c], "\n  -");    /* the usage lines end at the option list */
        ck_assert_ptr_nonnull(end);
        for (const char *p = help[c]; (p = strstr(p, "--")) && p < end; p += 2) {
            char opt[64];
            size_t n = strspn(p + 2, "abcdefghijklmnopqrstuvwxyz-");
            snprintf(opt, sizeof opt, "--%.*s", (int)n, p + 2);
            if (!strcmp(opt, "--json")) continue;     /* the global option, as -f json */
            ck_assert_msg(help_line(end, opt), "%s: %s is in the usage but not described:\n%s", cmds[c], opt, help[c]);
        }
    }
    const char *same[] = {"--retention", "--mastery"};
    for (size_t i = 0; i < sizeof same / sizeof *same; i++) {
        char a[256], b[256];
        const char *la = help_line(help[0], same[i]), *lb = help_line(help[1], same[i]);
        ck_assert_msg(la && lb, "%s", same[i]);
        help_text(la, a, sizeof a);
        help_text(lb, b, sizeof b);
        ck_assert_msg(*a && !strcmp(a, b), "%s: plan says '%s', next says '%s'", same[i], a, b);
    }
    free(help[0]);
    free(help[1]);
}
END_TEST

/* The HTML page in a real browser: every step and every day is shown. */
START_TEST(test_html_in_chromium)
{
    NEED_SAMPLES();
    char *chromium = NULL;
    if (tu_run("command -v chromium || command -v chromium-browser", &chromium) != 0 || !*chromium) {
        fprintf(stderr, "skipped: chromium not installed (Debian package 'chromium')\n");
        free(chromium);
        return;
    }
    chromium[strcspn(chromium, "\n")] = 0;
    char *html = tu_path(dir, "plan.html"), *json = NULL, args[1024];
    snprintf(args, sizeof args, "%s --format html -o '%s'", PLAN_NN, html);
    char *out;
    ck_assert_int_eq(kg(&out, args), 0);
    free(out);
    snprintf(args, sizeof args, "%s --format json", PLAN_NN);
    ck_assert_int_eq(kg(&json, args), 0);
    char *prof = tu_path(dir, "chromium-profile"), *shot = tu_path(dir, "shot.png"), cmd[4096];
    const char *flags = "--headless --no-sandbox --disable-gpu --no-first-run "
                        "--disable-background-networking --disable-component-update --disable-sync";
    snprintf(cmd, sizeof cmd, "timeout 120 '%s' %s --user-data-dir='%s' --dump-dom 'file://%s' 2>/dev/null",
             chromium, flags, prof, html);
    char *dom = NULL;
    ck_assert_int_eq(tu_run(cmd, &dom), 0);
    ck_assert_msg(strstr(dom, "<svg"), "no SVG in the rendered DOM");
    json_t *j = json_loads(json, 0, NULL);
    ck_assert_ptr_nonnull(j);
    json_t *steps = json_object_get(j, "steps");
    ck_assert_uint_gt(json_array_size(steps), 5);
    for (size_t i = 0; i < json_array_size(steps); i++) {
        json_t *s = json_array_get(steps, i);
        char needle[512];
        snprintf(needle, sizeof needle, "<li class=\"step %s", json_string_value(json_object_get(s, "kind")));
        ck_assert(strstr(dom, needle));
        snprintf(needle, sizeof needle, "data-concept=\"%s\"", json_string_value(json_object_get(s, "concept")));
        ck_assert_msg(strstr(dom, needle), "step %s not in the DOM", needle);
    }
    json_t *days = json_object_get(json_object_get(j, "calendar"), "days");
    ck_assert_uint_gt(json_array_size(days), 3);
    for (size_t i = 0; i < json_array_size(days); i++) {
        char needle[128];
        snprintf(needle, sizeof needle, "data-day=\"%s\"",
                 json_string_value(json_object_get(json_array_get(days, i), "day")));
        ck_assert_msg(strstr(dom, needle), "day %s not in the DOM", needle);
    }
    json_decref(j);
    snprintf(cmd, sizeof cmd, "timeout 120 '%s' %s --user-data-dir='%s' --window-size=1400,1000 "
             "--screenshot='%s' 'file://%s' >/dev/null 2>&1", chromium, flags, prof, shot, html);
    ck_assert_int_eq(tu_run(cmd, NULL), 0);
    struct stat st;
    ck_assert_int_eq(stat(shot, &st), 0);
    ck_assert_int_gt(st.st_size, 10000);
    free(dom); free(json); free(html); free(prof); free(shot); free(chromium);
}
END_TEST


/* ---- plan graph geometry: no edge is drawn across a box it does not
 * connect (long edges used to run straight through the boxes between). */

typedef struct gbox { double x, y, w, h; char key[256]; } gbox;

/* Value of attribute name="..." inside the tag starting at tag (copied, at most n-1 bytes). */
static int attr(const char *tag, const char *end, const char *name, char *out, size_t n)
{
    char pat[64];
    snprintf(pat, sizeof pat, " %s=\"", name);
    const char *p = strstr(tag, pat);
    if (!p || p > end) return 0;
    p += strlen(pat);
    const char *q = strchr(p, '"');
    size_t l = (size_t)(q - p) < n - 1 ? (size_t)(q - p) : n - 1;
    memcpy(out, p, l);
    out[l] = 0;
    return 1;
}

/* 1 when (x, y) lies inside box b shrunk by 1 px on each side. */
static int inside(const gbox *b, double x, double y)
{
    return x > b->x + 1 && x < b->x + b->w - 1 && y > b->y + 1 && y < b->y + b->h - 1;
}

/* Checks every edge of the plan page html; returns the number of edges seen. */
static int check_edges_avoid_boxes(const char *html)
{
    gbox *box = NULL;
    size_t nb = 0;
    for (const char *g = html; (g = strstr(g, "<g class=\"node")); g++) {
        const char *r = strstr(g, "<rect ");
        const char *e = strchr(r, '>');
        char v[256];
        box = realloc(box, (nb + 1) * sizeof *box);
        gbox *b = &box[nb++];
        ck_assert(attr(g, r, "data-concept", b->key, sizeof b->key));
        ck_assert(attr(r, e, "x", v, sizeof v)); b->x = atof(v);
        ck_assert(attr(r, e, "y", v, sizeof v)); b->y = atof(v);
        ck_assert(attr(r, e, "width", v, sizeof v)); b->w = atof(v);
        ck_assert(attr(r, e, "height", v, sizeof v)); b->h = atof(v);
    }
    ck_assert_uint_gt(nb, 3);
    int nedges = 0;
    for (const char *e = html; (e = strstr(e, "<path class=\"edge")); e++) {
        const char *end = strchr(e, '>');
        char from[256], to[256], d[8192];
        ck_assert(attr(e, end, "data-from", from, sizeof from));
        ck_assert(attr(e, end, "data-to", to, sizeof to));
        ck_assert(attr(e, end, "d", d, sizeof d));
        nedges++;
        /* Sample the path: M x,y then C (3 points) and L (1 point) pieces. */
        double cx = 0, cy = 0;
        const char *p = d;
        while (*p) {
            char op = *p++;
            double pt[6];
            int np = op == 'C' ? 3 : 1;
            for (int k = 0; k < np; k++) {
                char *q;
                pt[2 * k] = strtod(p, &q);
                ck_assert_msg(*q == ',', "bad path '%s'", d);
                pt[2 * k + 1] = strtod(q + 1, &q);
                p = q;
                while (*p == ' ') p++;
            }
            for (int t = 0; t <= 64 && op != 'M'; t++) {
                double u = t / 64.0, x, y;
                if (op == 'C') {
                    double a = (1 - u) * (1 - u) * (1 - u), bb = 3 * u * (1 - u) * (1 - u),
                           c = 3 * u * u * (1 - u), dd = u * u * u;
                    x = a * cx + bb * pt[0] + c * pt[2] + dd * pt[4];
                    y = a * cy + bb * pt[1] + c * pt[3] + dd * pt[5];
                } else {
                    x = cx + u * (pt[0] - cx);
                    y = cy + u * (pt[1] - cy);
                }
                for (size_t k = 0; k < nb; k++) {
                    if (!strcmp(box[k].key, from) || !strcmp(box[k].key, to)) continue;
                    ck_assert_msg(!inside(&box[k], x, y), "edge %s -> %s crosses box %s at (%.0f, %.0f)",
                                  from, to, box[k].key, x, y);
                }
            }
            cx = pt[2 * (np - 1)];
            cy = pt[2 * (np - 1) + 1];
        }
    }
    free(box);
    return nedges;
}

START_TEST(test_html_edges_avoid_boxes)
{
    NEED_SAMPLES();
    static const char *goals[] = {
        "--goal ml-intro:neural-networks",
        "--goal ml-intro:fairness --goal ml-intro:embeddings",
        "--goal ml-intro:convolutional-networks --goal ml-intro:ml-workflow --include-recommended",
    };
    int total = 0;
    for (size_t i = 0; i < sizeof goals / sizeof *goals; i++) {
        char args[1024], *html = NULL;
        snprintf(args, sizeof args, "plan %s --format html", goals[i]);
        ck_assert_int_eq(kg(&html, args), 0);
        total += check_edges_avoid_boxes(html);
        free(html);
    }
    ck_assert_int_gt(total, 20);
}
END_TEST

/* The public API from many threads on one planner (workspace pool). */
typedef struct api_arg { kgp_planner *pl; uint32_t n; int seed; uint64_t sum; int fails; } api_arg;

static void *api_thread(void *a)
{
    api_arg *t = a;
    uint64_t x = (uint64_t)t->seed * 2654435761u + 1;
    for (int i = 0; i < 300; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t goal = (uint32_t)((x >> 33) % t->n);
        kgp_plan_options o;
        kgp_plan_options_init(&o);
        o.minutes_per_day = 60;
        o.start = "2026-12-01";
        kgp_plan *p = NULL;
        if (kgp_plan_make(t->pl, &goal, 1, NULL, 0, &o, &p) != KGP_OK) { t->fails++; kgp_plan_free(p); continue; }
        kgp_plan_summary s;
        kgp_plan_summary_get(p, &s);
        for (size_t k = 0; k < s.steps; k++) {
            kgp_plan_step st;
            if (kgp_plan_step_get(p, k, &st) != KGP_OK) t->fails++;
            t->sum = t->sum * 31 + st.concept + st.minutes;
        }
        kgp_plan_free(p);
    }
    return NULL;
}

START_TEST(test_api_threads)
{
    NEED_SAMPLES();
    kgp_db *d = NULL;
    kgp_snap *snap = NULL;
    kgp_planner *pl = NULL;
    ck_assert_int_eq(kgp_db_open(db, KGP_RDONLY, &d), KGP_OK);
    ck_assert_int_eq(kgp_snap_open(d, &snap), KGP_OK);
    ck_assert_int_eq(kgp_planner_open(snap, &pl), KGP_OK);
    uint32_t n = kgp_snap_count(snap);
    api_arg seq[2] = {{pl, n, 1, 0, 0}, {pl, n, 2, 0, 0}};
    api_thread(&seq[0]);
    api_thread(&seq[1]);
    api_arg par[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        par[i] = (api_arg){pl, n, 1 + i % 2, 0, 0};
        pthread_create(&th[i], NULL, api_thread, &par[i]);
    }
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(par[i].fails, 0);
        ck_assert_uint_eq(par[i].sum, seq[i % 2].sum);
    }
    /* Errors through the API: a bad date, an out-of-range id. */
    kgp_plan_options o;
    kgp_plan_options_init(&o);
    o.minutes_per_day = 60;
    o.start = "2026-02-30";
    uint32_t g = 0;
    kgp_plan *p = NULL;
    ck_assert_int_eq(kgp_plan_make(pl, &g, 1, NULL, 0, &o, &p), KGP_EUSAGE);
    ck_assert_ptr_nonnull(strstr(kgp_plan_errmsg(p), "2026-02-30"));
    kgp_plan_free(p);
    g = n + 5;
    ck_assert_int_eq(kgp_plan_make(pl, &g, 1, NULL, 0, NULL, &p), KGP_EUSAGE);
    kgp_plan_free(p);
    kgp_next *x = NULL;
    ck_assert_int_eq(kgp_next_make(pl, NULL, 0, NULL, 0, 3, &x), KGP_OK);
    size_t total = 0;
    ck_assert_uint_eq(kgp_next_count(x, &total), 3);
    ck_assert_uint_ge(total, 3);
    uint32_t c0;
    uint64_t unl0, unl1;
    ck_assert_int_eq(kgp_next_get(x, 0, &c0, NULL, &unl0), KGP_OK);
    ck_assert_int_eq(kgp_next_get(x, 1, NULL, NULL, &unl1), KGP_OK);
    ck_assert_uint_ge(unl0, unl1);
    ck_assert_int_eq(kgp_next_get(x, 3, NULL, NULL, NULL), KGP_EUSAGE);
    kgp_next_free(x);
    uint32_t kn = c0;
    ck_assert_int_eq(kgp_next_make(pl, &kn, 1, &kn, 1, 0, &x), KGP_ECONFLICT);
    ck_assert_ptr_nonnull(strstr(kgp_next_errmsg(x), "already known"));
    kgp_next_free(x);
    kgp_check *c = NULL;
    ck_assert_int_eq(kgp_check_make(pl, &c), KGP_OK);
    kgp_check_summary cs;
    kgp_check_summary_get(c, &cs);
    ck_assert_uint_eq(cs.cycles, 0);
    kgp_check_free(c);
    kgp_planner_close(pl);
    kgp_snap_close(snap);
    kgp_db_close(d);
}
END_TEST

/* ---- plans with a learner ------------------------------------------------ */

static const char *EVENTS =
    "{\"learner\":\"ann\",\"concept\":\"linalg:vectors\",\"kind\":\"read\",\"at\":\"2026-11-01T10:00:00Z\",\"dwell_seconds\":1800}\n"
    "{\"learner\":\"ann\",\"concept\":\"linalg:vectors\",\"kind\":\"quiz\",\"at\":\"2026-11-01T11:00:00Z\",\"score\":1}\n"
    "{\"learner\":\"ann\",\"concept\":\"linalg:vectors\",\"kind\":\"quiz\",\"at\":\"2026-11-01T11:10:00Z\",\"score\":1}\n"
    "{\"learner\":\"ann\",\"concept\":\"linalg:matrices\",\"kind\":\"read\",\"at\":\"2026-11-25T10:00:00Z\",\"dwell_seconds\":1800}\n"
    "{\"learner\":\"ann\",\"concept\":\"linalg:matrices\",\"kind\":\"quiz\",\"at\":\"2026-11-25T11:00:00Z\",\"score\":1}\n"
    "{\"learner\":\"ann\",\"concept\":\"linalg:matrices\",\"kind\":\"quiz\",\"at\":\"2026-11-25T11:10:00Z\",\"score\":1}\n";

static int count_reviews(const char *json, int spaced)
{
    json_error_t je;
    json_t *j = json_loads(json, 0, &je);
    ck_assert_msg(j != NULL, "%s", je.text);
    int n = 0;
    json_t *steps = json_object_get(j, "steps");
    for (size_t i = 0; i < json_array_size(steps); i++) {
        json_t *st = json_array_get(steps, i);
        if (!strcmp(json_string_value(json_object_get(st, "kind")), "review") &&
            json_is_true(json_object_get(st, "spaced")) == spaced) n++;
    }
    json_decref(j);
    return n;
}

START_TEST(test_plan_with_learner)
{
    NEED_SAMPLES();
    char *ev = tu_path(dir, "ev.jsonl"), *out, args[1024];
    tu_write(ev, EVENTS, (size_t)-1);
    snprintf(args, sizeof args, "observe '%s' >/dev/null", ev);
    ck_assert_int_eq(kg(NULL, args), 0);
    const char *PL = "plan --learner ann --goal ml-intro:neural-networks --date 2026-12-01 "
                     "--minutes-per-day 60";
    ck_assert_int_eq(kg(&out, PL), 0);
    golden("plan_learner.txt", out);
    free(out);
    snprintf(args, sizeof args, "%s --json", PL);
    ck_assert_int_eq(kg(&out, args), 0);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    ck_assert_msg(j != NULL, "%s", je.text);
    json_t *steps = json_object_get(j, "steps");
    int nrev = 0, nspaced = 0, matrices_late = 0;
    for (size_t i = 0; i < json_array_size(steps); i++) {
        json_t *st = json_array_get(steps, i);
        const char *c = json_string_value(json_object_get(st, "concept"));
        const char *kind = json_string_value(json_object_get(st, "kind"));
        const char *day = json_string_value(json_object_get(st, "day"));
        if (!strcmp(kind, "learn")) continue;
        const char *note = json_string_value(json_object_get(st, "note"));
        ck_assert_ptr_nonnull(note);
        ck_assert_msg(strstr(note, "retrievability 0.") || strstr(note, "recall below target"),
                      "%s", note);
        if (json_is_true(json_object_get(st, "spaced"))) {
            /* after the lesson (or review) of the same concept, on a later day */
            int seen = 0;
            for (size_t q = 0; q < i; q++) {
                json_t *o = json_array_get(steps, q);
                if (!strcmp(json_string_value(json_object_get(o, "concept")), c)) {
                    seen = 1;
                    ck_assert_int_lt(strcmp(json_string_value(json_object_get(o, "day")), day), 0);
                }
            }
            ck_assert_msg(seen, "spaced review of %s before studying it", c);
            nspaced++;
            continue;
        }
        /* Before use, a review pays for itself: (1 - r) x the lesson's
         * minutes (expected loss) above r x a recalled review's minutes,
         * and its minutes are the expected ones (above a recalled review's). */
        double r = -1, loss = -1, spent = -1;
        unsigned stake = 0;
        const char *rp = strstr(note, "retrievability "), *lp = strstr(note, " min expected loss");
        ck_assert_msg(rp && lp, "%s", note);
        ck_assert_int_eq(sscanf(rp, "retrievability %lf", &r), 1);
        while (lp > note && lp[-1] != ' ') lp--;
        ck_assert_int_eq(sscanf(lp, "%lf min expected loss on the %u-min lesson > %lf min spent",
                                &loss, &stake, &spent), 3);
        ck_assert_msg(loss >= spent, "%s", note);   /* both rounded */
        ck_assert_double_eq_tol(loss, (1 - r) * stake, 0.5 + 0.01 * stake);
        ck_assert_int_gt(json_integer_value(json_object_get(st, "minutes")), (json_int_t)spent);
        /* before use: the lesson named by via comes later, not on an earlier day */
        const char *via = json_string_value(json_object_get(st, "via"));
        ck_assert_ptr_nonnull(via);
        int found = 0;
        for (size_t q = i + 1; q < json_array_size(steps) && !found; q++) {
            json_t *o = json_array_get(steps, q);
            if (!strcmp(json_string_value(json_object_get(o, "kind")), "learn") &&
                !strcmp(json_string_value(json_object_get(o, "concept")), via)) {
                found = 1;
                ck_assert_int_le(strcmp(day, json_string_value(json_object_get(o, "day"))), 0);
                /* judged on the day it is done, right before the lesson */
                char want[64];
                snprintf(want, sizeof want, " on %s", day);
                ck_assert_msg(strstr(note, want) != NULL, "%s: %s", note, want);
            }
        }
        ck_assert_msg(found, "review of %s not before %s", c, via);
        if (!strcmp(c, "linalg:matrices") && strcmp(day, "2026-12-01") > 0) matrices_late = 1;
        nrev++;
    }
    ck_assert_int_ge(nrev, 2);
    /* spaced reviews keep only goals: this one is the last lesson */
    ck_assert_int_eq(nspaced, 0);
    ck_assert_msg(matrices_late, "matrices is fine on the plan date: reviewed later, when needed");
    /* the pessimistic total (every review fails and is relearned) is above
     * the expected one */
    ck_assert_int_gt(json_integer_value(json_object_get(j, "pessimistic_minutes")),
                     json_integer_value(json_object_get(j, "total_minutes")));
    /* Never more than the daily limit. */
    json_t *days = json_object_get(json_object_get(j, "calendar"), "days");
    for (size_t d = 0; d < json_array_size(days); d++) {
        json_t *items = json_object_get(json_array_get(days, d), "items");
        json_int_t sum = 0;
        for (size_t k = 0; k < json_array_size(items); k++)
            sum += json_integer_value(json_object_get(json_array_get(items, k), "minutes"));
        ck_assert_int_le(sum, 60);
    }
    json_decref(j);
    /* Reviews before a lesson are decided by cost against value, not by
     * the retention target: a higher target changes none of them. */
    int rv90 = count_reviews(out, 0);
    free(out);
    snprintf(args, sizeof args, "%s --json --retention 0.97", PL);
    ck_assert_int_eq(kg(&out, args), 0);
    ck_assert_int_eq(count_reviews(out, 0), rv90);
    free(out);
    /* Spaced reviews of the goal after the plan with --review-days. */
    snprintf(args, sizeof args, "%s --json --review-days 60", PL);
    ck_assert_int_eq(kg(&out, args), 0);
    ck_assert_int_ge(count_reviews(out, 1), 3);
    free(out);
    /* A goal the learner knows: mastered, reviewed because fading. */
    ck_assert_int_eq(kg(&out, "plan --learner ann --goal linalg:vectors --date 2026-12-01"), 0);
    ck_assert_ptr_nonnull(strstr(out, "goal already mastered: linalg:vectors"));
    ck_assert_ptr_nonnull(strstr(out, "review linalg:vectors"));
    free(out);
    ck_assert_int_eq(kg(&out, "plan --learner ann --goal linalg:matrices --date 2026-12-01 --json"), 0);
    ck_assert_ptr_nonnull(strstr(out, "\"mastered_goals\":[\"linalg:matrices\"]"));
    ck_assert_int_eq(count_reviews(out, 0), 0);
    free(out);
    /* ... but named with --known it is still a conflict. */
    ck_assert_int_eq(kg(&out, "plan --learner ann --known linalg:vectors --goal linalg:vectors"), 5);
    free(out);
    /* next --learner lists the due review. */
    ck_assert_int_eq(kg(&out, "next --learner ann --date 2026-12-01 --json"), 0);
    j = json_loads(out, 0, &je);
    ck_assert_msg(j != NULL, "%s", je.text);
    json_t *rv = json_object_get(j, "reviews");
    ck_assert_uint_eq(json_array_size(rv), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rv, 0), "concept")), "linalg:vectors");
    json_decref(j);
    free(out);
    ck_assert_int_eq(kg(&out, "next --learner ann --date 2026-12-01"), 0);
    ck_assert_ptr_nonnull(strstr(out, "Due reviews: 1"));
    free(out);
    /* Bad options: nothing planned, exit 1. */
    const char *bad[] = {
        "plan --learner ann --goal ml-intro:neural-networks --retention 1.5",
        "plan --learner ann --goal ml-intro:neural-networks --retention x",
        "plan --goal ml-intro:neural-networks --retention 0.8",
        "plan --learner ann --goal ml-intro:neural-networks --date 2026-13-01",
        "plan --learner ann --goal ml-intro:neural-networks --review-days -1",
        "next --learner ann --mastery 0",
        "next --retention 0.9",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        out = NULL;
        ck_assert_msg(kg(&out, bad[i]) == 1, "%s", bad[i]);
        free(out);
        char *e = last_stderr();
        ck_assert_msg(strstr(e, "kgpath:") != NULL, "%s: %s", bad[i], e);
        free(e);
    }
    free(ev);
}
END_TEST

/* A learner without events gets a plan for a new learner (exit 0, a note on
 * stderr); a state taken on a date uses only the events up to it; an event
 * dated 9999-12-31 is reported and ignored; calendars end at 9999-12-31. */
/* With a learner, goals are planned cheapest first (their own remaining
 * requirements' minutes): the 20-minute goal before the long one given
 * first; without a learner, in the order given. */
START_TEST(test_plan_learner_cheapest_goal_first)
{
    NEED_SAMPLES();
    char *out;
    const char *G = "--goal linalg:spectral-theorem --goal ml-intro:what-is-ml --format json";
    char args[512];
    for (int with = 0; with < 2; with++) {
        snprintf(args, sizeof args, "plan %s %s", with ? "--learner nobody --date 2026-12-01" : "",
                 G);
        ck_assert_int_eq(kg(&out, args), 0);
        const char *steps = strstr(out, "\"steps\"");
        ck_assert_ptr_nonnull(steps);
        const char *cheap = strstr(steps, "\"ml-intro:what-is-ml\""),
                   *lin = strstr(steps, "\"linalg:vectors\"");
        ck_assert_ptr_nonnull(cheap);
        ck_assert_ptr_nonnull(lin);
        ck_assert_msg(with ? cheap < lin : lin < cheap, "%s", out);
        free(out);
        free(last_stderr());
    }
}
END_TEST

START_TEST(test_plan_new_learner_and_time_travel)
{
    NEED_SAMPLES();
    char *out, *err, args[1024];
    const char *NEW = "plan --learner nobody --goal linalg:matrices --date 2026-12-01 "
                      "--minutes-per-day 60 --start 2026-12-01 --format json";
    ck_assert_int_eq(kg(&out, NEW), 0);
    err = last_stderr();
    ck_assert_msg(strstr(err, "'nobody' has no events") && strstr(err, "new learner"), "%s", err);
    free(err);
    /* the same plan as with no learner at all: both concepts taught */
    ck_assert_ptr_nonnull(strstr(out, "\"linalg:vectors\""));
    ck_assert_int_eq(count_reviews(out, 0), 0);
    free(out);

    char *ev = tu_path(dir, "ev.jsonl");
    char *late = malloc(strlen(EVENTS) + 256);
    sprintf(late, "%s{\"learner\":\"ann\",\"concept\":\"linalg:matrices\",\"kind\":"
            "\"quiz\",\"at\":\"9999-12-31T00:00:00Z\",\"score\":0}\n", EVENTS);
    tu_write(ev, late, (size_t)-1);
    free(late);
    snprintf(args, sizeof args, "observe '%s'", ev);
    ck_assert_int_eq(kg(&out, args), 0);
    free(out);
    err = last_stderr();
    ck_assert_msg(strstr(err, "1 event dated after tomorrow (latest 9999-12-31"), "%s", err);
    free(err);
    /* On 2026-11-10 ann had only read vectors: matrices is not started. */
    ck_assert_int_eq(kg(&out, "learner ann --at 2026-11-10 --json"), 0);
    ck_assert_ptr_nonnull(strstr(out, "\"events\": 3"));
    ck_assert_ptr_null(strstr(out, "linalg:matrices"));
    free(out);
    err = last_stderr();
    ck_assert_msg(strstr(err, "4 events of learner 'ann' dated after 2026-11-10"), "%s", err);
    free(err);
    /* Today: the 9999 event is ignored, matrices still mastered or fading. */
    ck_assert_int_eq(kg(&out, "learner ann --json"), 0);
    ck_assert_ptr_nonnull(strstr(out, "\"events\": 6"));
    free(out);
    err = last_stderr();
    ck_assert_msg(strstr(err, "1 event of learner 'ann' dated after"), "%s", err);
    free(err);
    /* plan --date before matrices was studied teaches it; after, does not. */
    const char *PL = "plan --learner ann --goal linalg:matrices --minutes-per-day 60 --format json --date ";
    snprintf(args, sizeof args, "%s2026-11-10", PL);
    ck_assert_int_eq(kg(&out, args), 0);
    ck_assert_ptr_nonnull(strstr(out, "\"goals\":[\"linalg:matrices\"]"));
    free(out);
    snprintf(args, sizeof args, "%s2026-11-26", PL);
    ck_assert_int_eq(kg(&out, args), 0);
    ck_assert_ptr_nonnull(strstr(out, "\"mastered_goals\":[\"linalg:matrices\"]"));
    free(out);
    /* Before any event: a new learner. */
    snprintf(args, sizeof args, "%s2026-10-01", PL);
    ck_assert_int_eq(kg(&out, args), 0);
    free(out);
    err = last_stderr();
    ck_assert_msg(strstr(err, "'ann' has no events up to 2026-10-01"), "%s", err);
    free(err);
    /* learner (not plan) still reports an unknown learner. */
    ck_assert_int_eq(kg(&out, "learner ann --at 2026-10-01"), 3);
    free(out);
    /* batch: the same for a record of a new learner (a plan, no error) */
    char *lf = tu_path(dir, "learners.jsonl");
    tu_write(lf, "{\"learner\":\"nobody\",\"goals\":[\"linalg:matrices\"],\"date\":\"2026-12-01\"}\n"
                 "{\"learner\":\"ann\",\"goals\":[\"linalg:matrices\"],\"date\":\"2026-10-01\"}\n",
             (size_t)-1);
    snprintf(args, sizeof args, "batch --read-only --learners '%s' --out '%s/b.jsonl'", lf, dir);
    ck_assert_int_eq(kg(&out, args), 0);
    free(out);
    err = last_stderr();
    ck_assert_msg(strstr(err, "2 plans, 0 errors") || strstr(err, "2 plans in"), "%s", err);
    free(err);
    free(lf);
    /* No calendar wraps past 9999-12-31. */
    ck_assert_int_eq(kg(&out, "plan --goal ml-intro:neural-networks --start 9999-12-20 "
                              "--minutes-per-day 5"), 5);
    free(out);
    err = last_stderr();
    ck_assert_msg(strstr(err, "past 9999-12-31"), "%s", err);
    free(err);
    ck_assert_int_eq(kg(&out, "plan --goal linalg:vectors --start 9999-12-30 --json"), 0);
    ck_assert_ptr_nonnull(strstr(out, "9999-12-30"));
    free(out);
    ck_assert_int_eq(kg(&out, "plan --learner ann --goal linalg:vectors --start 9999-12-30 "
                              "--review-days 3650 --json"), 0);
    ck_assert_ptr_null(strstr(out, "\"0000-"));
    free(out);
    free(ev);
}
END_TEST

START_TEST(test_calibrated_minutes)
{
    NEED_SAMPLES();
    char *out, args[1024];
    /* The author's estimate first. */
    ck_assert_int_eq(kg(&out, "plan --goal linalg:vectors --json"), 0);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    ck_assert_msg(j != NULL, "%s", je.text);
    json_int_t author = json_integer_value(json_object_get(json_array_get(json_object_get(j, "steps"), 0), "minutes"));
    json_decref(j);
    free(out);
    ck_assert_int_ne(author, 7);
    /* Six learners read it for 7 minutes: `fit` calibrates it to 7. */
    char *ev = tu_path(dir, "dwell.jsonl");
    FILE *f = fopen(ev, "w");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < 6; i++)
        fprintf(f, "{\"learner\":\"l%d\",\"concept\":\"linalg:vectors\",\"kind\":\"read\","
                   "\"at\":\"2026-11-0%dT10:00:00Z\",\"dwell_seconds\":420}\n", i, i + 1);
    fclose(f);
    snprintf(args, sizeof args, "observe '%s' >/dev/null && '%s' --db '%s' fit >/dev/null", ev, bin, db);
    ck_assert_int_eq(kg(NULL, args), 0);
    ck_assert_int_eq(kg(&out, "plan --goal linalg:vectors --json"), 0);
    j = json_loads(out, 0, &je);
    ck_assert_msg(j != NULL, "%s", je.text);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(json_object_get(j, "steps"), 0), "minutes")), 7);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "total_minutes")), 7);
    json_decref(j);
    free(out);
    free(ev);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plan_cli");
    TCase *t = tcase_create("cli");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 300);
    tcase_add_test(t, test_golden_plan_text);
    tcase_add_test(t, test_help_describes_usage);
    tcase_add_test(t, test_golden_plan_json);
    tcase_add_test(t, test_golden_dot_next_check);
    tcase_add_test(t, test_budget_and_known_file);
    tcase_add_test(t, test_errors);
    tcase_add_test(t, test_html_in_chromium);
    tcase_add_test(t, test_html_edges_avoid_boxes);
    tcase_add_test(t, test_api_threads);
    tcase_add_test(t, test_plan_with_learner);
    tcase_add_test(t, test_plan_new_learner_and_time_travel);
    tcase_add_test(t, test_plan_learner_cheapest_goal_first);
    tcase_add_test(t, test_calibrated_minutes);
    suite_add_tcase(s, t);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
