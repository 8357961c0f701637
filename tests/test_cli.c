/* The kgpath CLI ($KGPATH_BIN): golden outputs (tests/golden/, made
 * from the kgxml fixtures there; KGPATH_UPDATE_GOLDEN=1 rewrites them),
 * exit codes, --db before or after the command, --json. */
#include <check.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kgpath.h"
#include "tests/testutil.h"

static char *g_dir, *g_db, *g_gold;
static const char *g_bin;

static void setup(void)
{
    g_bin = getenv("KGPATH_BIN");
    ck_assert_msg(g_bin && *g_bin, "KGPATH_BIN is not set");
    g_dir = tu_mkdtemp();
    g_db = tu_path(g_dir, "kg.db");
    g_gold = tu_path(tu_source_root(), "tests/golden");
}

static void teardown(void)
{
    tu_rmrf(g_dir);
    free(g_db); free(g_dir); free(g_gold);
}

/* Runs "cd golden && kgpath ARGS" (stderr to DIR/err); returns the status
 * and stdout in *out (may be NULL). */
static int kg(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int kg(char **out, const char *fmt, ...)
{
    char args[2048], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd '%s' && env -u KGPATH_DB '%s' %s 2>'%s/err'", g_gold, g_bin, args, g_dir);
    return tu_run(cmd, out);
}

static char *err_text(void)
{
    char *p = tu_path(g_dir, "err");
    char *t = tu_read(p, NULL);
    free(p);
    return t ? t : strdup("");
}

/* Replaces every occurrence of a in s by b (s malloc'ed; returns new). */
static char *replace(char *s, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), n = 0;
    for (char *p = strstr(s, a); p; p = strstr(p + la, a)) n++;
    char *o = malloc(strlen(s) + n * (lb + 1) + 1), *w = o;
    const char *r = s;
    for (const char *p = strstr(r, a); p; p = strstr(r, a)) {
        memcpy(w, r, (size_t)(p - r)); w += p - r;
        memcpy(w, b, lb); w += lb;
        r = p + la;
    }
    strcpy(w, r);
    free(s);
    return o;
}

static void golden(const char *name, char *got)
{
    char *path = tu_path(g_gold, name);
    got = replace(got, "kgpath " KGPATH_VERSION_STRING, "kgpath VERSION");
    const char *upd = getenv("KGPATH_UPDATE_GOLDEN");
    if (upd && *upd == '1') tu_write(path, got, (size_t)-1);
    char *want = tu_read(path, NULL);
    ck_assert_msg(want != NULL, "missing golden file %s (run with KGPATH_UPDATE_GOLDEN=1)", path);
    if (strcmp(want, got) != 0) {
        char *gp = tu_path(g_dir, name);
        tu_write(gp, got, (size_t)-1);
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "diff -u '%s' '%s' >&2", path, gp);
        (void)!system(cmd);
        free(gp);
        ck_abort_msg("output differs from %s (diff above)", path);
    }
    free(want);
    free(path);
    free(got);
}

static void import_both(void)
{
    char *out;
    int rc = kg(&out, "--db '%s' import alg.xml calc.xml", g_db);
    ck_assert_msg(rc == 0, "import failed: %d", rc);
    free(out);
}

START_TEST(test_golden_outputs)
{
    char *out;
    ck_assert_int_eq(kg(&out, "--db '%s' import alg.xml", g_db), 0);
    golden("import_alg.out", out);
    char *e = err_text();
    ck_assert_msg(strstr(e, "warning: alg:equations requires calc:limits") != NULL, "%s", e);
    ck_assert_msg(strstr(e, "not imported yet") != NULL, "%s", e);
    ck_assert_msg(strchr(e, '\r') == NULL, "progress bar drawn on a non-terminal");
    free(e);
    /* each command, in order, and the golden file its output must match */
    static const struct { const char *args, *gold; } runs[] = {
        { "import calc.xml alg.xml", "import_calc.out" },
        { "show equations", "show_equations.out" },
        { "show alg:intro", "show_alg_intro.out" },
        { "show 'linear EQUATIONS' --json", "show_equations.json" },
        { "export", "export.json" },
        { "export --format dot", "export.dot" },
        { "export -f graphml", "export.graphml" },
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        ck_assert_msg(kg(&out, "--db '%s' %s", g_db, runs[i].args) == 0, "%s", runs[i].args);
        golden(runs[i].gold, out);
    }
}
END_TEST

START_TEST(test_db_before_or_after)
{
    import_both();
    char *a, *b, *c;
    ck_assert_int_eq(kg(&a, "--db '%s' show limits", g_db), 0);
    ck_assert_int_eq(kg(&b, "show limits --db '%s'", g_db), 0);
    ck_assert_int_eq(kg(&c, "show --db='%s' limits", g_db), 0);
    ck_assert_str_eq(a, b);
    ck_assert_str_eq(a, c);
    ck_assert_msg(strstr(a, "Limits (calc:limits)") != NULL, "%s", a);
    free(a); free(b); free(c);
    /* the default location: $KGPATH_DB, then $XDG_DATA_HOME */
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && KGPATH_DB='%s' '%s' stats --json", g_gold, g_db, g_bin);
    char *out;
    ck_assert_int_eq(tu_run(cmd, &out), 0);
    ck_assert_msg(strstr(out, "\"concepts\": 6") != NULL, "%s", out);
    free(out);
    snprintf(cmd, sizeof cmd, "cd '%s' && env -u KGPATH_DB XDG_DATA_HOME='%s/xdg' '%s' import alg.xml 2>/dev/null"
             " && test -f '%s/xdg/kgpath/kgpath.db'", g_gold, g_dir, g_bin, g_dir);
    ck_assert_int_eq(tu_run(cmd, NULL), 0);
}
END_TEST

START_TEST(test_exit_codes)
{
    char *out, *e;
    ck_assert_int_eq(kg(&out, "%s", ""), KGP_EUSAGE);
    e = err_text();
    ck_assert_msg(strstr(e, "usage: kgpath") != NULL, "%s", e);
    free(e); free(out);
    ck_assert_int_eq(kg(&out, "frobnicate"), KGP_EUSAGE); free(out);
    e = err_text();
    ck_assert_msg(strstr(e, "kgpath: unknown command 'frobnicate'") != NULL, "%s", e);
    free(e);
    ck_assert_int_eq(kg(&out, "--bogus"), KGP_EUSAGE); free(out);
    ck_assert_int_eq(kg(&out, "--db"), KGP_EUSAGE); free(out);
    ck_assert_int_eq(kg(&out, "--db '%s' show", g_db), KGP_EUSAGE); free(out);
    ck_assert_int_eq(kg(&out, "--db '%s' show a b", g_db), KGP_EUSAGE); free(out);
    ck_assert_int_eq(kg(&out, "--db '%s' import", g_db), KGP_EUSAGE); free(out);
    ck_assert_int_eq(kg(&out, "--db '%s' import --what alg.xml", g_db), KGP_EUSAGE); free(out);
    ck_assert_int_eq(kg(&out, "--db '%s' stats extra", g_db), KGP_EUSAGE); free(out);
    ck_assert_int_eq(kg(&out, "--db '%s' export --format png", g_db), KGP_EUSAGE); free(out);
    ck_assert_int_eq(kg(&out, "--db '%s' export -f", g_db), KGP_EUSAGE); free(out);
    /* the database at a directory */
    ck_assert_int_eq(kg(&out, "--db '%s' stats", g_dir), KGP_EDB); free(out);
    import_both();
    ck_assert_int_eq(kg(&out, "--db '%s' show nothing-like-it", g_db), KGP_ENOTFOUND); free(out);
    e = err_text();
    ck_assert_msg(strncmp(e, "kgpath: no concept 'nothing-like-it'", 36) == 0, "%s", e);
    free(e);
    ck_assert_int_eq(kg(&out, "--db '%s' show intro", g_db), KGP_EAMBIGUOUS); free(out);
    e = err_text();
    ck_assert_msg(strstr(e, "alg:intro (Introduction)") && strstr(e, "calc:intro"), "%s", e);
    free(e);
    ck_assert_int_eq(kg(&out, "--db '%s' import no-such-file.xml", g_db), KGP_ENOTFOUND); free(out);
    char *bad = tu_path(g_dir, "bad.xml");
    tu_write(bad, "<?xml version=\"1.0\"?>\n<course id=\"x\"><oops></course>\n", (size_t)-1);
    ck_assert_int_eq(kg(&out, "--db '%s' import '%s'", g_db, bad), KGP_EINPUT); free(out);
    e = err_text();
    ck_assert_msg(strstr(e, "bad.xml:") != NULL, "%s", e);
    ck_assert_msg(strstr(e, "nothing was imported") != NULL, "%s", e);
    free(e); free(bad);
    char *o = tu_path(g_dir, "no/such/dir/x.json");
    ck_assert_int_eq(kg(&out, "--db '%s' export -o '%s'", g_db, o), KGP_EIO); free(out);
    free(o);
}
END_TEST

/* stdout of "kgpath --version" with OPENBLAS_CORETYPE=core, or unset. */
static char *version_with_core(const char *core)
{
    char cmd[4096], *out = NULL;
    if (core) snprintf(cmd, sizeof cmd, "env OPENBLAS_CORETYPE=%s '%s' --version 2>/dev/null", core, g_bin);
    else snprintf(cmd, sizeof cmd, "env -u OPENBLAS_CORETYPE '%s' --version 2>/dev/null", g_bin);
    ck_assert_int_eq(tu_run(cmd, &out), 0);
    return out;
}

/* OpenBLAS 0.3.21 takes CPUs newer than it for a Prescott and runs its
 * generic kernels; kgpath switches to the kernels the CPU's features allow
 * (5-7x faster sgemm), unless the user chose a core. */
START_TEST(test_blas_kernels)
{
    char *forced = version_with_core("Prescott");
    if (!strstr(forced, "DYNAMIC_ARCH")) {   /* not a DYNAMIC_ARCH OpenBLAS: nothing to choose */
        free(forced);
        return;
    }
    ck_assert_msg(strstr(forced, " Prescott "), "the user's OPENBLAS_CORETYPE must win: %s", forced);
    free(forced);
    char *got = version_with_core(NULL);
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        ck_assert_msg(!strstr(got, " Prescott "), "generic kernels on an AVX2 CPU: %s", got);
#endif
    free(got);
}
END_TEST

/* Commands that only read never create a database: on a missing one
 * they exit 3 naming the path, and leave no file behind. */
START_TEST(test_missing_db_not_created)
{
    char *dir = tu_mkdtemp(), *db = tu_path(dir, "typo.db"), *lock = tu_path(dir, "typo.db-lock");
    const char *cmds[] = {"stats", "show linalg:vectors", "export", "check", "plan --goal linalg:vectors", "next"};
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        char *out = NULL;
        ck_assert_int_eq(kg(&out, "--db '%s' %s", db, cmds[i]), KGP_ENOTFOUND);
        free(out);
        char *e = err_text();
        ck_assert_msg(strstr(e, "no database at") && strstr(e, db) && strstr(e, "kgpath import"), "%s: %s", cmds[i], e);
        free(e);
        ck_assert_msg(access(db, F_OK) != 0 && access(lock, F_OK) != 0, "%s created %s", cmds[i], db);
    }
    tu_rmrf(dir);
    free(dir); free(db); free(lock);
}
END_TEST

START_TEST(test_help_and_version)
{
    char *out;
    ck_assert_int_eq(kg(&out, "--version"), 0);
    const char *first = "kgpath " KGPATH_VERSION_STRING "\n";
    ck_assert_msg(strncmp(out, first, strlen(first)) == 0, "%s", out);
    ck_assert_msg(strstr(out, "\nOpenBLAS ") || strstr(out, "\nunknown BLAS"), "%s", out);   /* the BLAS line */
    free(out);
    ck_assert_int_eq(kg(&out, "--help"), 0);
    ck_assert_msg(strstr(out, "import") && strstr(out, "show") && strstr(out, "stats") &&
                  strstr(out, "export") && strstr(out, "--db PATH"), "%s", out);
    free(out);
    const char *cmds[] = {"import", "show", "stats", "export"};
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(kg(&out, "%s --help", cmds[i]), 0);
        char want[64];
        snprintf(want, sizeof want, "usage: kgpath %s", cmds[i]);
        ck_assert_msg(strncmp(out, want, strlen(want)) == 0, "%s", out);
        free(out);
    }
    /* options README's command table gives are in the usage too */
    ck_assert_int_eq(kg(&out, "import --help"), 0);
    ck_assert_msg(strstr(out, "--course-order required|recommended"), "%s", out);
    free(out);
}
END_TEST

/* Every option a command's usage lines show is described in the rest of
 * its --help (an option list or the prose), for every command that
 * `kgpath --help` lists; --json and --help are the global ones. */
START_TEST(test_help_describes_every_option)
{
    char *list = NULL;
    ck_assert_int_eq(kg(&list, "--help"), 0);
    const char *p = strstr(list, "Commands:\n");
    ck_assert_ptr_nonnull(p);
    int ncmds = 0;
    for (p = strchr(p, '\n') + 1; *p == ' ' && p[1] == ' ' && p[2] != ' '; p = strchr(p, '\n') + 1) {
        char cmd[32];
        ck_assert_int_eq(sscanf(p, " %31s", cmd), 1);
        char *help = NULL;
        ck_assert_int_eq(kg(&help, "%s --help", cmd), 0);
        /* the usage: "usage:" and "       kgpath" lines, and lines indented
         * past the command that continue them with "[" */
        const char *body = help;
        while (*body) {
            const char *nl = strchr(body, '\n');
            if (!nl) break;
            size_t ind = strspn(body, " ");
            int usage = !strncmp(body, "usage:", 6) || !strncmp(body, "       kgpath", 13) ||
                        (ind >= 10 && body[ind] == '[');
            if (!usage) break;
            body = nl + 1;
        }
        ck_assert_msg(body > help, "%s --help: no usage line", cmd);
        for (const char *q = help; (q = strstr(q, "--")) && q < body; q += 2) {
            char opt[64];
            size_t n = strspn(q + 2, "abcdefghijklmnopqrstuvwxyz-");
            if (!n) continue;
            snprintf(opt, sizeof opt, "--%.*s", (int)n, q + 2);
            if (!strcmp(opt, "--json") || !strcmp(opt, "--help")) continue;
            const char *d = body;
            int found = 0;
            while (!found && (d = strstr(d, opt))) {
                char after = d[strlen(opt)];
                found = !((after >= 'a' && after <= 'z') || after == '-');
                d += strlen(opt);
            }
            ck_assert_msg(found, "%s --help: %s is in the usage but not described:\n%s", cmd, opt, help);
        }
        free(help);
        ncmds++;
    }
    ck_assert_int_ge(ncmds, 20);
    free(list);
}
END_TEST

START_TEST(test_json_outputs_parse)
{
    char *out;
    json_error_t je;
    ck_assert_int_eq(kg(&out, "--db '%s' --json import alg.xml calc.xml", g_db), 0);
    json_t *j = json_loads(out, 0, &je);
    ck_assert_msg(j != NULL, "import --json: %s", je.text);
    ck_assert(json_is_true(json_object_get(j, "committed")));
    ck_assert_uint_eq(json_array_size(json_object_get(j, "courses")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "status")), 0);
    json_decref(j); free(out);
    ck_assert_int_eq(kg(&out, "--db '%s' stats --json", g_db), 0);
    j = json_loads(out, 0, &je);
    ck_assert_msg(j != NULL, "stats --json: %s", je.text);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "courses")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "concepts")), 6);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "groups")), 6);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "edges")), 8);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "unresolved")), 0);
    json_decref(j); free(out);
    ck_assert_int_eq(kg(&out, "--db '%s' show functions --json", g_db), 0);
    j = json_loads(out, 0, &je);
    ck_assert_msg(j != NULL, "show --json: %s", je.text);
    ck_assert_str_eq(json_string_value(json_object_get(j, "id")), "calc:functions");
    ck_assert_uint_eq(json_array_size(json_object_get(j, "requires")), 2);
    json_decref(j); free(out);
    /* a failing import still prints a JSON report */
    char *bad = tu_path(g_dir, "bad.xml");
    tu_write(bad, "", 0);
    ck_assert_int_eq(kg(&out, "--db '%s' import --json '%s'", g_db, bad), KGP_EINPUT);
    j = json_loads(out, 0, &je);
    ck_assert_msg(j != NULL, "import --json (failing): %s", je.text);
    ck_assert(json_is_false(json_object_get(j, "committed")));
    ck_assert_uint_gt(json_array_size(json_object_get(j, "errors")), 0);
    json_decref(j); free(out); free(bad);
}
END_TEST

START_TEST(test_dry_run_and_export_file)
{
    char *out;
    ck_assert_int_eq(kg(&out, "--db '%s' import --dry-run alg.xml", g_db), 0);
    ck_assert_msg(strstr(out, "dry run: nothing was written") != NULL, "%s", out);
    free(out);
    /* a dry run into a new path leaves no database behind */
    ck_assert_int_eq(kg(&out, "--db '%s' stats --json", g_db), KGP_ENOTFOUND);
    free(out);
    import_both();
    char *f = tu_path(g_dir, "g.dot");
    ck_assert_int_eq(kg(&out, "--db '%s' export --format=dot --output '%s'", g_db, f), 0);
    ck_assert_str_eq(out, "");
    free(out);
    char *t = tu_read(f, NULL);
    ck_assert_msg(t && strncmp(t, "digraph kgpath {", 16) == 0, "%s", t ? t : "(none)");
    free(t); free(f);
    /* not a regular file (the pipe to this test): written as it is, not replaced */
    ck_assert_int_eq(kg(&out, "--db '%s' export --format=dot -o /dev/stdout", g_db), 0);
    ck_assert_msg(strncmp(out, "digraph kgpath {", 16) == 0, "%s", out);
    free(out);
}
END_TEST

/* Every command writing an output file, on a full disk (faked: files may
 * not grow, RLIMIT_FSIZE 0, so each write fails with EFBIG): exit 8 naming
 * the file and the reason; the file keeps its previous content and nothing
 * is left beside it (before: plan -o and --report left an empty file, and
 * batch --out an empty or torn one). */
START_TEST(test_output_files_on_full_disk)
{
    import_both();
    char *lp = tu_path(g_dir, "l.jsonl");
    tu_write(lp, "{\"learner\":\"u1\",\"goals\":[\"alg:equations\"]}\n", (size_t)-1);
    char *f = tu_path(g_dir, "out.txt");
    static const char *runs[] = {
        "export -o '%s'", "export -f svg -o '%s'", "plan --goal alg:equations -o '%s'",
        "batch --read-only --learners '%s' --out '%s'",
        "batch --read-only --learners '%s' --out - --report '%s'",
        "batch-merge --report '%s' -o - /dev/null",
    };
    char cmd[4096], *msg = NULL, *keep = tu_path(g_dir, "keep.db");
    tu_copy(g_db, keep);
    /* no lock file yet (the import made the database beside it and linked
     * it into place): LMDB cannot make it, exit 8, nothing left behind */
    snprintf(cmd, sizeof cmd, "cd '%s' && (trap '' XFSZ; ulimit -f 0; exec '%s' --db '%s' stats 2>&1 >/dev/null)",
             g_dir, g_bin, g_db);
    int rc = tu_run(cmd, &msg);
    ck_assert_msg(rc == KGP_EIO && strstr(msg, "kg.db") && strstr(msg, "File too large"), "exit %d: %s", rc, msg);
    free(msg);
    ck_assert_int_eq(tu_file_cmp(g_db, keep), 0);
    char *lock = tu_path(g_dir, "kg.db-lock");
    ck_assert_msg(access(lock, F_OK) != 0, "lock file left behind");
    free(lock);
    unlink(keep);
    free(keep);
    ck_assert_int_eq(kg(NULL, "--db '%s' stats", g_db), 0);     /* the lock file exists from here on */
    for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
        char args[1024];
        if (strstr(runs[i], "--learners")) snprintf(args, sizeof args, runs[i], lp, f);
        else snprintf(args, sizeof args, runs[i], f);
        tu_write(f, "previous\n", (size_t)-1);
        /* stderr goes through a pipe: the limit applies to files only */
        snprintf(cmd, sizeof cmd, "cd '%s' && (trap '' XFSZ; ulimit -f 0; exec env -u KGPATH_DB '%s' --db '%s' %s "
                 "--quiet 2>&1 >/dev/null)", g_dir, g_bin, g_db, args);
        rc = tu_run(cmd, &msg);
        ck_assert_msg(rc == KGP_EIO && strstr(msg, "out.txt") && strstr(msg, "File too large"),
                      "%s: exit %d: %s", args, rc, msg);
        free(msg);
        char *t = tu_read(f, NULL);
        ck_assert_msg(t && !strcmp(t, "previous\n"), "%s: the file changed", args);
        free(t);
        snprintf(cmd, sizeof cmd, "ls '%s' | grep -v '^kg.db' | tr '\\n' ' '", g_dir);
        ck_assert_int_eq(tu_run(cmd, &msg), 0);
        ck_assert_msg(!strcmp(msg, "err l.jsonl out.txt "), "%s: left beside it: %s", args, msg);
        free(msg);
    }
    free(f);
    free(lp);
}
END_TEST

/* Readers in other processes while a writer imports: every reader sees
 * either none or all of the big course, and never fails. */
/* stats' per-course table pads ids by terminal columns, not bytes: a
 * Chinese course id (2 columns per character) lines up with a Latin one. */
START_TEST(test_stats_pads_by_columns)
{
    char *csv = tu_path(g_dir, "数学.csv");
    tu_write(csv, "id,title,minutes\na,A,10\n", (size_t)-1);
    char *out;
    ck_assert_int_eq(kg(&out, "--db '%s' import '%s' alg.xml", g_db, csv), 0); free(out);
    ck_assert_int_eq(kg(&out, "--db '%s' stats", g_db), 0);
    const char *zh = strstr(out, "  数学"), *la = strstr(out, "  alg");
    ck_assert_msg(zh && la, "%s", out);
    /* both rows: 2 spaces, 14 columns of id, a space, then the count in 5 */
    ck_assert_msg(!strncmp(zh, "  数学          " "     1 concepts", strlen("  数学          " "     1 concepts")),
                  "%s", out);
    ck_assert_msg(!strncmp(la, "  alg               ", 20), "%s", out);
    free(out);
    free(csv);
}
END_TEST

START_TEST(test_readers_during_import)
{
    import_both();
    char *big = tu_path(g_dir, "big.xml");
    FILE *f = fopen(big, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "<?xml version=\"1.0\"?>\n<course xmlns=\"https://kgpath.org/ns/course/1\" "
               "id=\"big\" xml:lang=\"en\" version=\"1\"><title>Big</title>\n");
    for (int i = 0; i < 1500; i++) {
        fprintf(f, "<concept id=\"k%d\" minutes=\"5\"><title>Big %d</title>"
                   "<summary>Concept number %d of a long chain.</summary>", i, i, i);
        if (i) fprintf(f, "<prerequisites><require ref=\"k%d\">chain</require></prerequisites>", i - 1);
        fputs("</concept>\n", f);
    }
    fputs("</course>\n", f);
    fclose(f);
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && B='%s' && D='%s' && ( \"$B\" --db \"$D\" import '%s' >/dev/null 2>&1 & "
             "bad=0; for i in $(seq 1 10); do "
             "  n=$(\"$B\" --db \"$D\" stats --json | sed -n 's/^  \"concepts\": \\([0-9]*\\),$/\\1/p'); "
             "  case \"$n\" in 6|1506) ;; *) bad=1; echo \"saw $n concepts\";; esac; "
             "done; wait $! || bad=1; exit $bad )",
             g_gold, g_bin, g_db, big);
    char *out;
    int rc = tu_run(cmd, &out);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, out);
    free(out);
    ck_assert_int_eq(kg(&out, "--db '%s' stats --json", g_db), 0);
    ck_assert_msg(strstr(out, "\"concepts\": 1506") != NULL, "%s", out);
    free(out);
    free(big);
}
END_TEST

Suite *suite(void);
Suite *suite(void)
{
    Suite *s = suite_create("cli");
    TCase *t = tcase_create("cli");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 120);
    tcase_add_test(t, test_golden_outputs);
    tcase_add_test(t, test_db_before_or_after);
    tcase_add_test(t, test_exit_codes);
    tcase_add_test(t, test_help_and_version);
    tcase_add_test(t, test_help_describes_every_option);
    tcase_add_test(t, test_missing_db_not_created);
    tcase_add_test(t, test_blas_kernels);
    tcase_add_test(t, test_json_outputs_parse);
    tcase_add_test(t, test_dry_run_and_export_file);
    tcase_add_test(t, test_output_files_on_full_disk);
    tcase_add_test(t, test_readers_during_import);
    tcase_add_test(t, test_stats_pads_by_columns);
    suite_add_tcase(s, t);
    return s;
}
