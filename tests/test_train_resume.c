/* An interrupted `kgpath train`, as a user meets it ($KGPATH_BIN; no
 * ../shared, no model): SIGINT or SIGTERM saves the run's state in
 * OUT.part and exits 75 naming the --resume command; that command ends
 * exactly as the uninterrupted run (every file of the checkpoint byte for
 * byte), on the course the run was started on; --save-every keeps a state
 * a kill -9 cannot take away; a contradicting --course, a torn or damaged
 * state and scoring with a partial folder are refused with nothing
 * written; a finished run resumes to nothing.
 *
 * The signals are sent deterministically: $KGPATH_TEST_SIGNAL="STEP SIG"
 * makes the CLI send itself SIG after STEP (through the same handler as a
 * Ctrl-C), since 200 head-mode steps take about a second and a signal sent
 * from outside could land after the end. */
#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/testutil.h"

static char *g_dir;
static const char *g_bin;

/* Runs `env ENV kgpath --db k.db ARGS` in the source root; stderr to err. */
static int kgenv(const char *env, char **out, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int kgenv(const char *env, char **out, const char *fmt, ...)
{
    char args[2048], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd,
             "cd '%s' && env -u KGPATH_MODEL -u KGPATH_CHECKPOINT -u KGPATH_TEST_SIGNAL %s '%s' --db '%s/k.db' %s "
             "2>'%s/err'", tu_source_root(), env, g_bin, g_dir, args, g_dir);
    return tu_run(cmd, out);   /* the exit status; 128 + N: killed by signal N */
}

#define kg(...) kgenv("", __VA_ARGS__)

static void err_has(const char *what) { tu_file_has(g_dir, "err", what); }

static int exists(const char *name) { return tu_exists(g_dir, name); }

/* Every file of checkpoint folder a is in b with the same bytes, and b
 * has as many files. */
static void same_folders(const char *a, const char *b)
{
    char *pa = tu_path(g_dir, a), *pb = tu_path(g_dir, b);
    DIR *d = opendir(pa);
    ck_assert(d != NULL);
    int n = 0, nb = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char *fa = tu_path(pa, e->d_name), *fb = tu_path(pb, e->d_name);
        ck_assert_msg(tu_file_cmp(fa, fb) == 0, "%s/%s differs from %s", a, e->d_name, b);
        free(fa); free(fb);
        n++;
    }
    closedir(d);
    d = opendir(pb);
    ck_assert(d != NULL);
    for (struct dirent *e; (e = readdir(d));) nb += e->d_name[0] != '.';
    closedir(d);
    ck_assert_int_eq(n, nb);
    ck_assert_int_ge(n, 7);
    free(pa); free(pb);
}

static char *save(const char *name) { return tu_save(g_dir, name); }
static void unchanged(const char *name, const char *copy) { tu_unchanged(g_dir, name, copy); }

static void setup(void)
{
    g_bin = getenv("KGPATH_BIN");
    ck_assert(g_bin && *g_bin);
    g_dir = tu_mkdtemp();
    ck_assert_int_eq(kg(NULL, "import data/samples/linalg.xml data/samples/ml-intro.xml data/samples/python-zh.xml"), 0);
}

static void teardown(void)
{
    tu_rmrf(g_dir);
    free(g_dir);
    g_dir = NULL;
}

/* The default run (head mode, 200 steps) on one course, interrupted by
 * SIGINT after step 57, then resumed with the printed command. */
START_TEST(sigint_then_resume_equals_uninterrupted)
{
    char *out = NULL;
    ck_assert_int_eq(kg(NULL, "train --course ml-intro --out '%s/full'", g_dir), 0);
    ck_assert(!exists("full.part"));   /* a run that finishes writes no state */
    ck_assert_int_eq(kgenv("KGPATH_TEST_SIGNAL='57 2'", &out, "train --course ml-intro --out '%s/ck'", g_dir), 75);
    free(out);
    err_has("interrupted by SIGINT after step 57 of 200");
    err_has("train --resume '");
    err_has("/ck.part'");
    ck_assert(!exists("ck") && exists("ck.part/kgpath_train.json"));
    /* a partial folder is no model: scoring refuses it */
    ck_assert_int_eq(kg(NULL, "suggest -m '%s/ck.part'", g_dir), 2);
    err_has("interrupted training run");
    /* a --course that contradicts the recorded one: refused, nothing written */
    char *db = save("k.db"), *heads = save("ck.part/kgpath_heads.safetensors");
    ck_assert_int_eq(kg(NULL, "train --resume '%s/ck.part' --course linalg", g_dir), 1);
    err_has("was trained on course ml-intro");
    ck_assert_int_eq(kg(NULL, "train --resume '%s/ck.part' --lr 0.1", g_dir), 1);
    ck_assert_int_eq(kg(NULL, "train --resume '%s/ck.part' --steps 300", g_dir), 1);
    ck_assert(!exists("ck"));
    unchanged("k.db", db);
    unchanged("ck.part/kgpath_heads.safetensors", heads);
    /* the printed command (with the course repeated, which is allowed) */
    ck_assert_int_eq(kg(&out, "train --resume '%s/ck.part' --course ml-intro --json", g_dir), 0);
    json_error_t je;
    json_t *r = json_loads(out, 0, &je);
    ck_assert_msg(r != NULL, "%s", out);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "concepts")), 55);   /* ml-intro's, not all 114 */
    ck_assert_int_eq(json_integer_value(json_object_get(r, "steps")), 200);
    json_decref(r);
    free(out);
    same_folders("full", "ck");
    ck_assert(!exists("ck.part"));   /* the finished run removed its state */
    /* a finished run: nothing to resume, nothing written */
    char *man = save("ck/kgpath_train.json");
    ck_assert_int_eq(kg(&out, "train --resume '%s/ck' --json", g_dir), 0);
    ck_assert_msg(strstr(out, "\"finished\": true") != NULL, "%s", out);
    free(out);
    err_has("is a finished run (200 of 200 steps)");
    ck_assert_int_eq(kg(NULL, "train --resume '%s/ck' --steps 400", g_dir), 1);
    ck_assert_int_eq(kg(NULL, "train --resume '%s/ck' --course linalg", g_dir), 1);
    unchanged("ck/kgpath_train.json", man);
    unchanged("k.db", db);
    free(db); free(heads); free(man);
}
END_TEST

/* Full fine-tuning with batched encoding (its embedding cache is part of
 * the state), stopped by a scheduler's SIGTERM, into the default folder
 * DB.kgmodel: `--resume DB.kgmodel.part` writes DB.kgmodel. A damaged or
 * torn state is refused and nothing is written. */
START_TEST(sigterm_full_mode_and_bad_state)
{
    const char *opts = "--course linalg --mode full --steps 12 --enc-batch 8 --max-tokens 16";
    ck_assert_int_eq(kg(NULL, "train %s --out '%s/full'", opts, g_dir), 0);
    ck_assert_int_eq(kgenv("KGPATH_TEST_SIGNAL='5 15'", NULL, "train %s", opts), 75);
    err_has("stopped by SIGTERM after step 5 of 12");
    ck_assert(!exists("k.db.kgmodel") && exists("k.db.kgmodel.part"));
    /* another interrupted run's state, at another step, for the torn case */
    ck_assert_int_eq(kgenv("KGPATH_TEST_SIGNAL='7 2'", NULL, "train %s --out '%s/other'", opts, g_dir), 75);
    char *db = save("k.db");
    char *p = tu_path(g_dir, "k.db.kgmodel.part/kgpath_heads.safetensors"), *keep = save("k.db.kgmodel.part/kgpath_heads.safetensors");
    /* torn: a file of step 7 beside a manifest of step 5 */
    char *o7 = tu_path(g_dir, "other.part/kgpath_heads.safetensors");
    tu_copy(o7, p);
    ck_assert_int_eq(kg(NULL, "train --resume '%s/k.db.kgmodel.part'", g_dir), 2);
    err_has("kgpath_heads.safetensors");
    /* damaged: cut short */
    size_t len = 0;
    char *bytes = tu_read(keep, &len);
    ck_assert(bytes && len > 100);
    tu_write(p, bytes, len / 2);
    ck_assert_int_eq(kg(NULL, "train --resume '%s/k.db.kgmodel.part'", g_dir), 2);
    ck_assert(!exists("k.db.kgmodel"));
    unchanged("k.db", db);
    /* whole again: the resumed run ends as the uninterrupted one */
    tu_write(p, bytes, len);
    ck_assert_int_eq(kg(NULL, "train --resume '%s/k.db.kgmodel.part'", g_dir), 0);
    same_folders("full", "k.db.kgmodel");
    free(db); free(p); free(keep); free(o7); free(bytes);
}
END_TEST

/* --save-every N keeps the state of step N, 2N, ...: a kill -9 after step
 * 12 loses steps 11 and 12 only, and resuming the state of step 10 ends as
 * the uninterrupted run. */
START_TEST(save_every_survives_kill_9)
{
    ck_assert_int_eq(kg(NULL, "train --course linalg --steps 20 --out '%s/full'", g_dir), 0);
    ck_assert_int_eq(kgenv("KGPATH_TEST_SIGNAL='12 9'", NULL, "train --course linalg --steps 20 --save-every 5 --out "
                           "'%s/ck'", g_dir), 128 + 9);
    ck_assert(!exists("ck"));
    char *p = tu_path(g_dir, "ck.part/kgpath_train.json"), *m = tu_read(p, NULL);
    ck_assert_msg(m && strstr(m, "\"step\": 10\n") != NULL, "%s", m ? m : "");
    free(m); free(p);
    ck_assert_int_eq(kg(NULL, "train --resume '%s/ck.part'", g_dir), 0);
    same_folders("full", "ck");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("train_resume");
    TCase *tc = tcase_create("resume");
    tcase_set_timeout(tc, 600);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, sigint_then_resume_equals_uninterrupted);
    tcase_add_test(tc, sigterm_full_mode_and_bad_state);
    tcase_add_test(tc, save_every_survives_kill_9);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
