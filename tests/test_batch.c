/* The batch engine (planner/batch.h) with a fake "plan one learner"
 * callback: determinism across thread counts, shards, resume after a kill,
 * bad lines, --since, merge. The CLI over the real planner is tested at the
 * end (skipped until `kgpath batch` and the sample courses are there). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lmdb.h>

#include "graph/store.h"
#include "graph/store_stamp.h"
#include "planner/batch.h"
#include "tests/testutil.h"

/* ---- the fake planner ------------------------------------------------------
 * A plan is the goals echoed with a checksum that costs a little work; a goal
 * "nope" fails with "not found"; "kill_at" (set per test) kills the process
 * when that line is reached, as a crash mid-run would. */

static uint64_t g_kill_at;
static int g_fatal_at;

typedef struct scratch { unsigned long calls; } scratch;

static void *fake_init(void *ctx) { (void)ctx; return calloc(1, sizeof(scratch)); }
static void fake_free(void *ctx, void *s) { (void)ctx; free(s); }

static int fake_plan(void *ctx, void *sp, const kgn_batch_req *req, kg_buf *out,
                     char *err, size_t errlen)
{
    scratch *s = sp;
    s->calls++;
    if (g_kill_at && req->line == g_kill_at) raise(SIGKILL);
    if (g_fatal_at && req->line == (uint64_t)g_fatal_at) {
        snprintf(err, errlen, "simulated out of memory");
        return KGP_ENOMEM;
    }
    json_t *goals = json_object_get(req->obj, "goals");
    if (!json_is_array(goals) || json_array_size(goals) == 0) {
        snprintf(err, errlen, "\"goals\" must be a non-empty array");
        return KGP_EUSAGE;
    }
    uint64_t h = 1469598103934665603ULL;
    kg_buf_puts(out, "{\"kgpath_plan\":1,\"goals\":[");
    size_t i;
    json_t *g;
    json_array_foreach(goals, i, g) {
        const char *v = json_string_value(g);
        if (!v) { snprintf(err, errlen, "goal %zu is not a string", i); return KGP_EUSAGE; }
        if (strcmp(v, "nope") == 0) { snprintf(err, errlen, "unknown goal \"nope\""); return KGP_ENOTFOUND; }
        kg_buf_printf(out, "%s\"%s\"", i ? "," : "", v);
        for (int r = 0; r < 200; r++)
            for (const char *p = v; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    }
    kg_buf_printf(out, "],\"checksum\":\"%016llx\"}\n", (unsigned long long)h);
    return 0;
}

/* --since: the learner's "updated" (Unix seconds) after since. */
static int fake_changed(void *ctx, void *sp, const kgn_batch_req *req, int64_t since,
                        char *err, size_t errlen)
{
    json_t *u = json_object_get(req->obj, "updated");
    if (!u) return 1;
    if (!json_is_integer(u)) { snprintf(err, errlen, "\"updated\" must be an integer"); return KGP_EINPUT; }
    return json_integer_value(u) > since;
}

static const kgn_batch_ops fake_ops = {
    NULL, fake_init, fake_free, fake_plan, fake_changed
};

/* ---- helpers ------------------------------------------------------------- */

static char *g_dir;

static void setup(void) { g_dir = tu_mkdtemp(); g_kill_at = 0; g_fatal_at = 0; }
static void teardown(void) { tu_rmrf(g_dir); free(g_dir); g_dir = NULL; }

/* n learners, goals drawn from a small alphabet; line 1-based ids. */
static char *write_learners(const char *name, int n)
{
    char *path = tu_path(g_dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    unsigned x = 12345;
    for (int i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        int ng = 1 + (int)(x >> 16) % 4;
        fprintf(f, "{\"learner\":\"u%d\",\"goals\":[", i);
        for (int g = 0; g < ng; g++) {
            x = x * 1103515245u + 12345u;
            fprintf(f, "%s\"c:%u\"", g ? "," : "", (x >> 16) % 50);
        }
        fprintf(f, "],\"updated\":%d}\n", 1000 + i % 10);
    }
    fclose(f);
    return path;
}

static int run_batch(const char *in, const char *out, int is_dir, unsigned threads,
                     uint32_t shard, uint32_t nshards, int64_t since, size_t chunk,
                     int resume, kgn_batch_stats *st, char *err)
{
    FILE *f = fopen(in, "rb");
    ck_assert_ptr_nonnull(f);
    kgn_batch_opts o = {0};
    o.threads = threads;
    o.shard = shard;
    o.nshards = nshards;
    o.since = since;
    o.chunk_lines = chunk;
    o.resume = resume;
    o.out_is_dir = is_dir;
    o.fingerprint = "test";
    int rc = kgn_batch_run(f, "learners.jsonl", 0, out, NULL, &fake_ops, &o, st, err, 512);
    fclose(f);
    return rc;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

/* Concatenates the part files of a directory output in order. */
static char *read_parts(const char *dir)
{
    size_t cap = 1 << 16, len = 0;
    char *all = malloc(cap);
    all[0] = 0;
    for (int i = 0; i < 100000; i++) {
        char name[64];
        snprintf(name, sizeof name, "part-%06d.jsonl", i);
        char *p = tu_path(dir, name);
        size_t n;
        char *d = tu_read(p, &n);
        free(p);
        if (!d) continue;
        while (len + n + 1 > cap) { cap *= 2; all = realloc(all, cap); }
        memcpy(all + len, d, n + 1);
        len += n;
        free(d);
    }
    return all;
}

/* ---- tests --------------------------------------------------------------- */

START_TEST(same_output_any_thread_count)
{
    char *in = write_learners("l.jsonl", 700);
    char err[512];
    char *first = NULL;
    unsigned threads[] = {1, 2, 3, 8};
    for (size_t k = 0; k < 4; k++) {
        char name[32];
        snprintf(name, sizeof name, "out%u.jsonl", threads[k]);
        char *out = tu_path(g_dir, name);
        kgn_batch_stats st;
        ck_assert_int_eq(run_batch(in, out, 0, threads[k], 0, 0, -1, 64, 0, &st, err), 0);
        ck_assert_uint_eq(st.lines, 700);
        ck_assert_uint_eq(st.learners, 700);
        ck_assert_uint_eq(st.plans, 700);
        ck_assert_uint_eq(st.errors, 0);
        char *got = tu_read(out, NULL);
        ck_assert_uint_eq(count_lines(got), 700);
        /* Input order: record i names line i + 1 and learner u<i>. */
        ck_assert(strncmp(got, "{\"line\":1,\"learner\":\"u0\",\"kgpath_plan\":1,", 40) == 0);
        const char *last = strstr(got, "{\"line\":700,");
        ck_assert_ptr_nonnull(last);
        ck_assert(strncmp(last, "{\"line\":700,\"learner\":\"u699\"", 28) == 0);
        if (!first) first = got;
        else { ck_assert_str_eq(got, first); free(got); }
        free(out);
    }
    free(first);
    free(in);
}
END_TEST

START_TEST(shards_are_disjoint_and_cover_the_input)
{
    char *in = write_learners("l.jsonl", 500);
    /* A bad line too: it must land in exactly one shard. */
    FILE *f = fopen(in, "a");
    fputs("this is not json\n", f);
    fclose(f);
    char err[512];
    kgn_batch_stats st;
    char *whole = tu_path(g_dir, "whole.jsonl");
    ck_assert_int_eq(run_batch(in, whole, 0, 2, 0, 0, -1, 50, 0, &st, err), 0);
    ck_assert_uint_eq(st.learners, 501);

    const char *paths[3];
    uint64_t sum = 0;
    for (uint32_t s = 0; s < 3; s++) {
        char name[32];
        snprintf(name, sizeof name, "shard%u.jsonl", s);
        paths[s] = tu_path(g_dir, name);
        ck_assert_int_eq(run_batch(in, paths[s], 0, 2, s, 3, -1, 50, 0, &st, err), 0);
        ck_assert_uint_eq(st.lines, 501);
        ck_assert_uint_eq(st.learners + st.other_shard, 501);
        ck_assert_uint_gt(st.learners, 100);     /* the hash spreads learners */
        sum += st.learners;
    }
    ck_assert_uint_eq(sum, 501);

    char *merged = tu_path(g_dir, "merged.jsonl");
    FILE *m = fopen(merged, "w");
    uint64_t plans, errors;
    ck_assert_int_eq(kgn_batch_merge(paths, 3, m, &plans, &errors, err, sizeof err), 0);
    fclose(m);
    ck_assert_uint_eq(plans, 500);
    ck_assert_uint_eq(errors, 1);
    ck_assert_int_eq(tu_file_cmp(merged, whole), 0);

    /* Overlapping inputs are refused, naming the line. */
    const char *twice[2] = {paths[1], paths[1]};
    m = fopen(merged, "w");
    ck_assert_int_eq(kgn_batch_merge(twice, 2, m, &plans, &errors, err, sizeof err), KGP_EINPUT);
    fclose(m);
    ck_assert_ptr_nonnull(strstr(err, "shards overlap"));
    /* Something that is not batch output is refused too. */
    const char *notours[1] = {in};
    m = fopen(merged, "w");
    ck_assert_int_eq(kgn_batch_merge(notours, 1, m, &plans, &errors, err, sizeof err), KGP_EINPUT);
    fclose(m);
    ck_assert_ptr_nonnull(strstr(err, ":1: not a kgpath batch record"));

    for (int s = 0; s < 3; s++) free((char *)paths[s]);
    free(merged);
    free(whole);
    free(in);
}
END_TEST

/* Runs the batch (2 threads, chunks of 40) in a child, killed (SIGKILL)
 * at line kill_at when that is not 0, and whose files cannot grow past
 * `limit` bytes when that is not RLIM_INFINITY (RLIMIT_FSIZE: a write
 * fails as on a full disk, with EFBIG). Returns its wait status. */
static int run_child(const char *in, const char *out, int is_dir, uint64_t kill_at, rlim_t limit)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        g_kill_at = kill_at;
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {limit, limit};
        if (limit != RLIM_INFINITY && setrlimit(RLIMIT_FSIZE, &rl)) _exit(99);
        char err[512];
        kgn_batch_stats st;
        _exit(run_batch(in, out, is_dir, 2, 0, 0, -1, 40, 0, &st, err));
    }
    int ws;
    ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
    return ws;
}

static void run_killed(const char *in, const char *out, int is_dir, uint64_t kill_line)
{
    int ws = run_child(in, out, is_dir, kill_line, RLIM_INFINITY);
    ck_assert_msg(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL, "child was not killed");
}

/* n learners in l.jsonl (*in) and their uninterrupted run (one thread,
 * chunks of 40) in full.jsonl, whose path is returned: what an interrupted
 * run must end as. */
static char *full_run(int n, char **in)
{
    *in = write_learners("l.jsonl", n);
    char err[512];
    kgn_batch_stats st;
    char *full = tu_path(g_dir, "full.jsonl");
    ck_assert_msg(run_batch(*in, full, 0, 1, 0, 0, -1, 40, 0, &st, err) == 0, "%s", err);
    return full;
}

START_TEST(resume_after_kill_equals_uninterrupted_file)
{
    char *in, *full = full_run(400, &in);
    char err[512];
    kgn_batch_stats st;

    char *out = tu_path(g_dir, "out.jsonl");
    run_killed(in, out, 0, 237);
    size_t partial = 0;
    free(tu_read(out, &partial));
    char *state = tu_path(g_dir, "out.jsonl.state");
    char *sj = tu_read(state, NULL);
    ck_assert_ptr_nonnull(sj);
    ck_assert_ptr_nonnull(strstr(sj, "\"complete\":false"));
    free(sj);

    ck_assert_int_eq(run_batch(in, out, 0, 2, 0, 0, -1, 40, 1, &st, err), 0);
    ck_assert_uint_ge(st.resumed_lines, 40);       /* earlier chunks were kept */
    ck_assert_uint_le(st.resumed_lines, 236);
    ck_assert_uint_eq(st.resumed_lines % 40, 0);
    ck_assert_uint_eq(st.plans, 400);              /* counters include the resumed part */
    ck_assert_int_eq(tu_file_cmp(out, full), 0);

    /* Resuming a finished run does nothing; other options are refused. */
    ck_assert_int_eq(run_batch(in, out, 0, 2, 0, 0, -1, 40, 1, &st, err), 0);
    ck_assert_int_eq(tu_file_cmp(out, full), 0);
    ck_assert_int_eq(run_batch(in, out, 0, 2, 1, 2, -1, 40, 1, &st, err), KGP_EUSAGE);
    ck_assert_ptr_nonnull(strstr(err, "other options"));
    ck_assert_int_eq(tu_file_cmp(out, full), 0);
    free(state);
    free(out);
    free(full);
    free(in);
}
END_TEST

/* The batch in a child on a full disk at `limit` bytes; its exit status. */
static int run_file_limited(const char *in, const char *out, int is_dir, rlim_t limit)
{
    int ws = run_child(in, out, is_dir, 0, limit);
    ck_assert_msg(WIFEXITED(ws), "child died");
    return WEXITSTATUS(ws);
}

static int exists(const char *dir, const char *name)
{
    char *p = tu_path(dir, name);
    int r = access(p, F_OK) == 0;
    free(p);
    return r;
}

/* A full disk: a run that fails before its first commit leaves the output
 * as it was and nothing beside it (before: an empty or torn output); one
 * that fails later keeps OUT.part and the state, the output still as it
 * was, and --resume ends as an uninterrupted run. */
START_TEST(disk_full_leaves_output_as_it_was)
{
    char *in, *full = full_run(300, &in);
    char err[512];
    kgn_batch_stats st;
    ck_assert(!exists(g_dir, "full.jsonl.part"));
    size_t fullsize = 0;
    free(tu_read(full, &fullsize));
    char *out = tu_path(g_dir, "out.jsonl");
    tu_write(out, "previous\n", (size_t)-1);
    /* at the first chunk */
    ck_assert_int_eq(run_file_limited(in, out, 0, 100), KGP_EIO);
    char *o = tu_read(out, NULL);
    ck_assert_str_eq(o, "previous\n");
    free(o);
    ck_assert(!exists(g_dir, "out.jsonl.part"));
    ck_assert(!exists(g_dir, "out.jsonl.state"));
    /* a new output file: none afterwards */
    char *nf = tu_path(g_dir, "new.jsonl"), *nd = tu_path(g_dir, "newdir");
    ck_assert_int_eq(run_file_limited(in, nf, 0, 100), KGP_EIO);
    ck_assert(!exists(g_dir, "new.jsonl"));
    ck_assert(!exists(g_dir, "new.jsonl.part"));
    ck_assert(!exists(g_dir, "new.jsonl.state"));
    /* a new directory output: none afterwards */
    ck_assert_int_eq(run_file_limited(in, nd, 1, 100), KGP_EIO);
    ck_assert(!exists(g_dir, "newdir"));
    /* half way: the committed part is kept for --resume */
    ck_assert_int_eq(run_file_limited(in, out, 0, (rlim_t)fullsize / 2), KGP_EIO);
    o = tu_read(out, NULL);
    ck_assert_str_eq(o, "previous\n");
    free(o);
    ck_assert(exists(g_dir, "out.jsonl.part"));
    ck_assert(exists(g_dir, "out.jsonl.state"));
    ck_assert_int_eq(run_batch(in, out, 0, 2, 0, 0, -1, 40, 1, &st, err), 0);
    ck_assert_uint_gt(st.resumed_lines, 0);
    ck_assert_int_eq(tu_file_cmp(out, full), 0);
    ck_assert(!exists(g_dir, "out.jsonl.part"));
    /* a run without --resume starts over: an earlier state is dropped */
    ck_assert_int_eq(run_file_limited(in, out, 0, 100), KGP_EIO);
    ck_assert_int_eq(tu_file_cmp(out, full), 0);
    ck_assert(!exists(g_dir, "out.jsonl.state"));
    free(nf);
    free(nd);
    free(out);
    free(full);
    free(in);
}
END_TEST

START_TEST(resume_after_kill_equals_uninterrupted_dir)
{
    char *in = write_learners("l.jsonl", 300);
    char err[512];
    kgn_batch_stats st;
    char *fulldir = tu_path(g_dir, "full");
    ck_assert_int_eq(run_batch(in, fulldir, 1, 2, 0, 0, -1, 40, 0, &st, err), 0);
    char *full = read_parts(fulldir);
    ck_assert_uint_eq(count_lines(full), 300);

    char *dir = tu_path(g_dir, "out");
    run_killed(in, dir, 1, 150);
    ck_assert_int_eq(run_batch(in, dir, 1, 1, 0, 0, -1, 40, 1, &st, err), 0);
    char *got = read_parts(dir);
    ck_assert_str_eq(got, full);
    /* No temporary file is left behind. */
    char *tmp = tu_path(dir, "part-000003.jsonl.tmp");
    ck_assert_int_ne(access(tmp, F_OK), 0);
    free(tmp);
    free(got);
    free(full);
    free(dir);
    free(fulldir);
    free(in);
}
END_TEST

START_TEST(bad_lines_reported_by_line_number)
{
    char *in = tu_path(g_dir, "bad.jsonl");
    tu_write(in,
        "{\"learner\":\"a\",\"goals\":[\"c:1\"]}\n"
        "{\"learner\":\"b\",\"goals\":[\"c:1\"\n"          /* 2: truncated JSON */
        "\n"                                             /* 3: blank, ignored */
        "[1,2]\n"                                        /* 4: not an object */
        "{\"goals\":[\"c:1\"]}\n"                        /* 5: no learner */
        "{\"learner\":42,\"goals\":[\"c:1\"]}\n"         /* 6: learner not a string */
        "{\"learner\":\"g\",\"goals\":[\"nope\"]}\n"     /* 7: planner: not found */
        "{\"learner\":\"h\",\"goals\":[]}\n"             /* 8: planner: usage */
        "{\"learner\":\"i\",\"learner\":\"j\"}\n"        /* 9: duplicate key */
        "{\"learner\":\"k\\\"q\",\"goals\":[\"c:2\"]}\r\n", (size_t)-1);
    char *out = tu_path(g_dir, "out.jsonl");
    char err[512];
    kgn_batch_stats st;
    ck_assert_int_eq(run_batch(in, out, 0, 2, 0, 0, -1, 3, 0, &st, err), 0);
    ck_assert_uint_eq(st.lines, 10);
    ck_assert_uint_eq(st.blank, 1);
    ck_assert_uint_eq(st.learners, 9);
    ck_assert_uint_eq(st.plans, 2);
    ck_assert_uint_eq(st.errors, 7);
    char *got = tu_read(out, NULL);
    ck_assert_uint_eq(count_lines(got), 9);
    ck_assert_ptr_nonnull(strstr(got, "{\"line\":2,\"learner\":null,\"error\":\"learners.jsonl:2:"));
    ck_assert_ptr_nonnull(strstr(got, "{\"line\":4,\"learner\":null,\"error\":\"learners.jsonl:4: expected a JSON object"));
    ck_assert_ptr_nonnull(strstr(got, "{\"line\":5,\"learner\":null,\"error\":\"learners.jsonl:5: missing \\\"learner\\\""));
    ck_assert_ptr_nonnull(strstr(got, "{\"line\":6,\"learner\":null,"));
    ck_assert_ptr_nonnull(strstr(got, "{\"line\":7,\"learner\":\"g\",\"error\":\"learners.jsonl:7: learner g: unknown goal \\\"nope\\\"\",\"status\":3}"));
    ck_assert_ptr_nonnull(strstr(got, "{\"line\":8,\"learner\":\"h\",\"error\":"));
    ck_assert_ptr_nonnull(strstr(got, "\"status\":1}"));
    ck_assert_ptr_nonnull(strstr(got, "{\"line\":9,\"learner\":null,\"error\":\"learners.jsonl:9:"));
    ck_assert_ptr_nonnull(strstr(got, "{\"line\":10,\"learner\":\"k\\\"q\",\"kgpath_plan\":1,"));
    /* Every record is valid JSON. */
    for (char *line = strtok(got, "\n"); line; line = strtok(NULL, "\n")) {
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        ck_assert_msg(j != NULL, "not JSON: %s", line);
        json_decref(j);
    }
    free(got);
    free(out);
    free(in);
}
END_TEST

START_TEST(since_recomputes_exactly_the_changed)
{
    char *in = write_learners("l.jsonl", 200);      /* updated = 1000 + i % 10 */
    char *out = tu_path(g_dir, "out.jsonl");
    char err[512];
    kgn_batch_stats st;
    ck_assert_int_eq(run_batch(in, out, 0, 2, 0, 0, 1006, 16, 0, &st, err), 0);
    ck_assert_uint_eq(st.plans, 60);                 /* i % 10 in 7, 8, 9 */
    ck_assert_uint_eq(st.unchanged, 140);
    char *got = tu_read(out, NULL);
    for (char *line = strtok(got, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned long ln;
        ck_assert_int_eq(sscanf(line, "{\"line\":%lu,", &ln), 1);
        ck_assert_uint_ge((ln - 1) % 10, 7);
    }
    free(got);
    free(out);
    free(in);
}
END_TEST

START_TEST(fatal_callback_stops_the_run)
{
    char *in = write_learners("l.jsonl", 100);
    char *out = tu_path(g_dir, "out.jsonl");
    char err[512];
    kgn_batch_stats st;
    g_fatal_at = 50;
    ck_assert_int_eq(run_batch(in, out, 0, 2, 0, 0, -1, 10, 0, &st, err), KGP_ENOMEM);
    ck_assert_ptr_nonnull(strstr(err, "learners.jsonl:50"));
    /* What was committed (kept in OUT.part for --resume; OUT is not made
     * before the run completes) is whole lines of the first chunks only. */
    ck_assert_int_ne(access(out, F_OK), 0);
    char *part = tu_path(g_dir, "out.jsonl.part");
    size_t n;
    char *got = tu_read(part, &n);
    ck_assert_ptr_nonnull(got);
    ck_assert(n == 0 || got[n - 1] == '\n');
    ck_assert_uint_le(count_lines(got), 49);
    free(got);
    free(part);
    free(out);
    free(in);
}
END_TEST

START_TEST(stream_output_and_errors)
{
    char *in = write_learners("l.jsonl", 10);
    FILE *f = fopen(in, "rb");
    char *outp = tu_path(g_dir, "stream.jsonl");
    FILE *o = fopen(outp, "w");
    kgn_batch_opts opt = {0};
    opt.since = -1;
    kgn_batch_stats st;
    char err[512];
    ck_assert_int_eq(kgn_batch_run(f, "x", 0, NULL, o, &fake_ops, &opt, &st, err, sizeof err), 0);
    fclose(o);
    ck_assert_uint_eq(st.plans, 10);
    /* --resume needs a file. */
    rewind(f);
    opt.resume = 1;
    o = fopen(outp, "w");
    ck_assert_int_eq(kgn_batch_run(f, "x", 0, NULL, o, &fake_ops, &opt, &st, err, sizeof err), KGP_EUSAGE);
    fclose(o);
    fclose(f);
    /* An output in a missing directory is an I/O error. */
    char *bad = tu_path(g_dir, "no/such/dir/out.jsonl");
    ck_assert_int_eq(run_batch(in, bad, 0, 1, 0, 0, -1, 0, 0, &st, err), KGP_EIO);
    ck_assert_ptr_nonnull(strstr(err, "no/such/dir/out.jsonl"));
    free(bad);
    free(outp);
    free(in);
}
END_TEST

START_TEST(shard_parsing_and_slurm_env)
{
    uint32_t i, n;
    ck_assert_int_eq(kgn_batch_parse_shard("2/5", &i, &n), 0);
    ck_assert_uint_eq(i, 2);
    ck_assert_uint_eq(n, 5);
    const char *bad[] = {"5/5", "1/0", "a/2", "1/", "/2", "1/2x", "-1/2", "1", ""};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++)
        ck_assert_msg(kgn_batch_parse_shard(bad[k], &i, &n) == -1, "%s accepted", bad[k]);

    unsetenv("SLURM_ARRAY_TASK_ID");
    ck_assert_int_eq(kgn_batch_shard_from_env(&i, &n), 0);
    setenv("SLURM_ARRAY_TASK_ID", "7", 1);
    setenv("SLURM_ARRAY_TASK_COUNT", "4", 1);
    setenv("SLURM_ARRAY_TASK_MIN", "5", 1);
    ck_assert_int_eq(kgn_batch_shard_from_env(&i, &n), 1);
    ck_assert_uint_eq(i, 2);
    ck_assert_uint_eq(n, 4);
    setenv("SLURM_ARRAY_TASK_ID", "9", 1);      /* beyond MIN + COUNT */
    ck_assert_int_eq(kgn_batch_shard_from_env(&i, &n), -1);
    unsetenv("SLURM_ARRAY_TASK_MIN");
    setenv("SLURM_ARRAY_TASK_ID", "3", 1);
    ck_assert_int_eq(kgn_batch_shard_from_env(&i, &n), 1);
    ck_assert_uint_eq(i, 3);
    unsetenv("SLURM_ARRAY_TASK_ID");
    unsetenv("SLURM_ARRAY_TASK_COUNT");

    /* The hash is fixed: FNV-1a 64 of "u42" modulo 7. */
    ck_assert_uint_eq(kgn_batch_shard_of("u42", 3, 1), 0);
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = "u42"; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    ck_assert_uint_eq(kgn_batch_shard_of("u42", 3, 7), h % 7);
}
END_TEST


/* ---- kgpath batch over the real planner and store --------------------------
 * Course a: a1 <- a2 <- a3, a4 needs 1 of {a2, a3}; course b: b1, b2 needs
 * b1 and a:a1. b1's minutes are the `b1_minutes` argument, so a rewrite of
 * course b changes exactly b1 (and what depends on it). */

static kgg_course *course_a(void)
{
    kgg_course *c = kgg_course_new();
    c->id = kgg_course_str(c, "a");
    c->title = kgg_course_str(c, "A");
    c->format = kgg_course_str(c, "kgxml");
    kgg_concept *k = kgg_course_add_concept(c, "a1", "A one");
    k->minutes = 30;
    k = kgg_course_add_concept(c, "a2", "A two");
    k->minutes = 20;
    kgg_concept_add_require(c, k, "a1", "needs one");
    k = kgg_course_add_concept(c, "a3", "A three");
    k->minutes = 25;
    kgg_concept_add_require(c, k, "a2", NULL);
    k = kgg_course_add_concept(c, "a4", "A four");
    k->minutes = 15;
    kgg_group *g = kgg_concept_add_group(c, k, 1);
    kgg_group_add_member(c, g, "a2", NULL);
    kgg_group_add_member(c, g, "a3", NULL);
    return c;
}

static kgg_course *course_b(double b1_minutes)
{
    kgg_course *c = kgg_course_new();
    c->id = kgg_course_str(c, "b");
    c->title = kgg_course_str(c, "B");
    c->format = kgg_course_str(c, "kgxml");
    kgg_concept *k = kgg_course_add_concept(c, "b1", "B one");
    k->minutes = b1_minutes;
    k = kgg_course_add_concept(c, "b2", "B two");
    k->minutes = 40;
    kgg_concept_add_require(c, k, "b1", NULL);
    kgg_concept_add_require(c, k, "a:a1", "cross-course");
    return c;
}

static void store_courses(const char *db, kgg_course *c1, kgg_course *c2, int64_t stamp_at)
{
    kgg_store *st;
    kgg_err e;
    ck_assert_msg(kgg_store_open(db, 0, 0, &st, &e) == KGP_OK, "%s", e.msg);
    kgg_course *cs[2] = {c1, c2};
    kgg_write_result res;
    kgg_write_result_init(&res);
    ck_assert_msg(kgg_store_write(st, cs, c2 ? 2 : 1, 0, &res, &e) == KGP_OK, "%s", e.msg);
    kgg_write_result_free(&res);
    kgg_course_free(c1);
    if (c2) kgg_course_free(c2);
    if (stamp_at >= 0)
        ck_assert_msg(kgg_stamp_refresh(st, stamp_at, NULL, &e) == KGP_OK, "%s", e.msg);
    kgg_store_close(st);
}

static const char *kgbin(void)
{
    const char *b = getenv("KGPATH_BIN");
    return b && access(b, X_OK) == 0 ? b : NULL;
}

/* Learners with goals drawn from every concept, some bad ones at fixed lines. */
static char *cli_learners(int n)
{
    static const char *goals[] = {"a:a3", "a:a4", "b:b2", "b:b1", "a:a2", "B one"};
    char *path = tu_path(g_dir, "learners.jsonl");
    FILE *f = fopen(path, "w");
    for (int i = 0; i < n; i++) {
        if (i == 10) { fputs("{\"learner\":\"bad-goal\",\"goals\":[\"a:zz\"]}\n", f); continue; }
        if (i == 11) { fputs("{\"learner\":\"known-goal\",\"goals\":[\"a:a1\"],\"known\":[\"a:a1\"]}\n", f); continue; }
        if (i == 12) { fputs("{\"learner\":\"typo\",\"goals\":[\"a:a1\"],\"minutes_per_dy\":3}\n", f); continue; }
        fprintf(f, "{\"learner\":\"v%d\",\"goals\":[\"%s\"]%s}\n", i, goals[i % 6],
                i % 4 == 0 ? ",\"known\":[\"a:a1\"]" : "");
    }
    fclose(f);
    return path;
}

static int kg(const char *db, const char *args, char **out)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s --db %s %s 2>&1", kgbin(), db, args);
    return tu_run(cmd, out);
}

START_TEST(cli_threads_shards_and_bad_lines)
{
    if (!kgbin()) { fprintf(stderr, "test_batch: SKIP cli test: KGPATH_BIN not built\n"); return; }
    char *db = tu_path(g_dir, "kg.db");
    store_courses(db, course_a(), course_b(10), -1);
    char *lp = cli_learners(240);
    char args[2048], *o1, *o2, *msg;
    snprintf(args, sizeof args, "batch --read-only --learners %s --out %s/t1.jsonl --threads 1", lp, g_dir);
    ck_assert_int_eq(kg(db, args, &msg), 0);
    ck_assert_msg(strstr(msg, "240 learners, 237 plans, 3 errors") != NULL, "%s", msg);
    free(msg);
    snprintf(args, sizeof args, "batch --read-only --learners %s --out %s/t2.jsonl --threads 2 --chunk 7", lp, g_dir);
    ck_assert_int_eq(kg(db, args, NULL), 0);
    char *p1 = tu_path(g_dir, "t1.jsonl"), *p2 = tu_path(g_dir, "t2.jsonl");
    o1 = tu_read(p1, NULL);
    o2 = tu_read(p2, NULL);
    ck_assert_str_eq(o1, o2);
    ck_assert_uint_eq(count_lines(o1), 240);
    ck_assert_ptr_nonnull(strstr(o1, "{\"line\":1,\"learner\":\"v0\",\"kgpath_plan\":1,"));
    ck_assert_ptr_nonnull(strstr(o1, "{\"line\":11,\"learner\":\"bad-goal\",\"error\":\""));
    ck_assert_ptr_nonnull(strstr(o1, "{\"line\":12,\"learner\":\"known-goal\",\"error\":\""));
    ck_assert_ptr_nonnull(strstr(o1, "/learners.jsonl:13: learner typo: unknown key \\\"minutes_per_dy\\\""));
    /* Every record parses and plans carry the plan schema. */
    char *copy = strdup(o1);
    for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n")) {
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        ck_assert_msg(j != NULL, "not JSON: %.80s", line);
        ck_assert(json_is_integer(json_object_get(j, "line")));
        if (!json_object_get(j, "error")) {
            ck_assert_int_eq(json_integer_value(json_object_get(j, "kgpath_plan")), 1);
            ck_assert(json_is_array(json_object_get(j, "steps")));
            ck_assert(json_is_number(json_object_get(j, "total_minutes")));
        }
        json_decref(j);
    }
    free(copy);

    /* Three shards, merged, give the unsharded output. */
    for (int s = 0; s < 3; s++) {
        snprintf(args, sizeof args, "batch --read-only --learners %s --out %s/s%d.jsonl --shard %d/3",
                 lp, g_dir, s, s);
        ck_assert_int_eq(kg(db, args, NULL), 0);
    }
    snprintf(args, sizeof args, "batch-merge -o %s/merged.jsonl %s/s0.jsonl %s/s1.jsonl %s/s2.jsonl",
             g_dir, g_dir, g_dir, g_dir);
    ck_assert_int_eq(kg(db, args, NULL), 0);
    char *mp = tu_path(g_dir, "merged.jsonl");
    ck_assert_int_eq(tu_file_cmp(mp, p1), 0);
    /* Overlapping shard files are refused. */
    snprintf(args, sizeof args, "batch-merge -o %s/m2.jsonl %s/s0.jsonl %s/s0.jsonl", g_dir, g_dir, g_dir);
    ck_assert_int_eq(kg(db, args, &msg), KGP_EINPUT);
    ck_assert_ptr_nonnull(strstr(msg, "overlap"));
    free(msg);

    /* Usage and input errors. */
    snprintf(args, sizeof args, "batch --learners %s/none.jsonl --out %s/x.jsonl", g_dir, g_dir);
    ck_assert_int_eq(kg(db, args, NULL), KGP_ENOTFOUND);
    snprintf(args, sizeof args, "batch --learners %s --out %s/x.jsonl --shard 3/3", lp, g_dir);
    ck_assert_int_eq(kg(db, args, NULL), KGP_EUSAGE);
    snprintf(args, sizeof args, "batch --learners %s", lp);
    ck_assert_int_eq(kg(db, args, NULL), KGP_EUSAGE);
    snprintf(args, sizeof args, "batch --learners %s --out %s/x.jsonl --since yesterday", lp, g_dir);
    ck_assert_int_eq(kg(db, args, NULL), KGP_EUSAGE);

    free(mp); free(o1); free(o2); free(p1); free(p2); free(lp); free(db);
}
END_TEST

START_TEST(cli_since_recomputes_exactly_the_changed)
{
    if (!kgbin()) { fprintf(stderr, "test_batch: SKIP cli test: KGPATH_BIN not built\n"); return; }
    char *db = tu_path(g_dir, "kg.db");
    store_courses(db, course_a(), course_b(10), 1000);   /* night 1 stamps at 1000 */
    store_courses(db, course_b(99), NULL, 2000);         /* b1 changes, stamped at 2000 */
    char *lp = tu_path(g_dir, "learners.jsonl");
    tu_write(lp,
        "{\"learner\":\"x1\",\"goals\":[\"a:a3\"]}\n"                    /* unaffected */
        "{\"learner\":\"x2\",\"goals\":[\"b:b2\"]}\n"                    /* needs b1: recompute */
        "{\"learner\":\"x3\",\"goals\":[\"b:b1\"]}\n"                    /* b1 itself */
        "{\"learner\":\"x4\",\"goals\":[\"a:a4\"],\"known\":[\"a:a1\"]}\n" /* unaffected */
        "{\"learner\":\"x5\",\"goals\":[\"a:a2\"],\"changed_at\":1600}\n"  /* own change */
        "{\"learner\":\"x6\",\"goals\":[\"a:a1\"],\"known\":[\"b:b1\"]}\n" /* known changed */
        "{\"learner\":\"x7\",\"goals\":[\"a:a1\"],\"changed_at\":\"1970-01-01\"}\n"
        "{\"learner\":\"x8\",\"goals\":[\"a:a3\"]}\n"                    /* new events */
        "{\"learner\":\"x9\",\"goals\":[\"a:a3\"],\"minutes_perday\":30}\n", (size_t)-1);
    /* x9 is unaffected, but its typo is an error record on every night */
    char args[2048], *msg;
    /* x8 has an event (after 1500); x1 has none. */
    char *ev = tu_path(g_dir, "events.jsonl");
    tu_write(ev, "{\"learner\":\"x8\",\"concept\":\"a:a1\",\"kind\":\"quiz\","
                 "\"at\":\"2026-11-28T10:00:00Z\",\"score\":1}\n", (size_t)-1);
    snprintf(args, sizeof args, "observe %s", ev);
    ck_assert_int_eq(kg(db, args, NULL), 0);
    free(ev);
    snprintf(args, sizeof args, "batch --read-only --since 1500 --learners %s --out %s/inc.jsonl",
             lp, g_dir);
    ck_assert_int_eq(kg(db, args, &msg), 0);
    ck_assert_msg(strstr(msg, "9 learners, 5 plans, 1 errors, 3 unchanged") != NULL, "%s", msg);
    free(msg);
    char *op = tu_path(g_dir, "inc.jsonl");
    char *out = tu_read(op, NULL);
    ck_assert_ptr_nonnull(strstr(out, "\"learner\":\"x2\""));
    ck_assert_ptr_nonnull(strstr(out, "\"learner\":\"x3\""));
    ck_assert_ptr_nonnull(strstr(out, "\"learner\":\"x5\""));
    ck_assert_ptr_nonnull(strstr(out, "\"learner\":\"x6\""));
    ck_assert_ptr_nonnull(strstr(out, "\"learner\":\"x8\""));
    ck_assert_ptr_null(strstr(out, "\"learner\":\"x1\""));
    ck_assert_ptr_null(strstr(out, "\"learner\":\"x4\""));
    ck_assert_ptr_null(strstr(out, "\"learner\":\"x7\""));
    ck_assert_msg(strstr(out, "\"learner\":\"x9\",\"error\":") && strstr(out, "unknown key \\\"minutes_perday\\\""),
                  "%s", out);
    free(out);
    /* Since before night 1: everyone. */
    snprintf(args, sizeof args, "batch --read-only --since 999 --learners %s --out %s/inc.jsonl",
             lp, g_dir);
    ck_assert_int_eq(kg(db, args, &msg), 0);
    ck_assert_msg(strstr(msg, "8 plans, 1 errors") != NULL, "%s", msg);
    free(msg);
    free(op); free(lp); free(db);
}
END_TEST

START_TEST(cli_snapshot_copy_and_resume_noop)
{
    if (!kgbin()) { fprintf(stderr, "test_batch: SKIP cli test: KGPATH_BIN not built\n"); return; }
    char *db = tu_path(g_dir, "kg.db");
    store_courses(db, course_a(), course_b(10), -1);
    char *lp = cli_learners(50);
    char args[2048], *msg;
    snprintf(args, sizeof args, "snapshot-copy --stamp %s/copy.db", g_dir);
    ck_assert_int_eq(kg(db, args, NULL), 0);
    char *cp = tu_path(g_dir, "copy.db");
    snprintf(args, sizeof args, "batch --read-only --learners %s --out %s/o1.jsonl", lp, g_dir);
    ck_assert_int_eq(kg(db, args, NULL), 0);
    snprintf(args, sizeof args, "batch --read-only --learners %s --out %s/o2.jsonl", lp, g_dir);
    ck_assert_int_eq(kg(cp, args, NULL), 0);
    char *p1 = tu_path(g_dir, "o1.jsonl"), *p2 = tu_path(g_dir, "o2.jsonl");
    ck_assert_int_eq(tu_file_cmp(p1, p2), 0);
    /* The copy refuses to overwrite the database itself. */
    snprintf(args, sizeof args, "snapshot-copy %s", db);
    ck_assert_int_eq(kg(db, args, &msg), KGP_EUSAGE);
    free(msg);
    /* --resume of a finished run leaves the output as it is. */
    snprintf(args, sizeof args, "batch --read-only --resume --learners %s --out %s/o2.jsonl", lp, g_dir);
    ck_assert_int_eq(kg(cp, args, &msg), 0);
    ck_assert_int_eq(tu_file_cmp(p1, p2), 0);
    free(msg);
    /* ... but not with other plan options. */
    snprintf(args, sizeof args, "batch --read-only --resume --include-recommended --learners %s --out %s/o2.jsonl", lp, g_dir);
    ck_assert_int_eq(kg(cp, args, &msg), KGP_EUSAGE);
    ck_assert_ptr_nonnull(strstr(msg, "other options"));
    free(msg);
    free(p1); free(p2); free(cp); free(lp); free(db);
}
END_TEST

/* A learner whose state cannot be loaded (fitted FSRS weights of a wrong
 * size, written straight into LMDB) gets the library's own message on its
 * line, read in the worker thread that failed (kgp_db_errmsg is per thread),
 * not only the status; the other lines plan. */
START_TEST(cli_learner_state_error_message)
{
    if (!kgbin()) { fprintf(stderr, "test_batch: SKIP cli test: KGPATH_BIN not built\n"); return; }
    char *db = tu_path(g_dir, "kg.db");
    store_courses(db, course_a(), course_b(10), -1);
    kgg_store *st;
    kgg_err e;
    ck_assert_msg(kgg_store_open(db, 0, 0, &st, &e) == KGP_OK, "%s", e.msg);
    MDB_txn *txn;
    MDB_dbi dbi;
    ck_assert_int_eq(mdb_txn_begin(kgg_store_env(st), NULL, 0, &txn), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, "learner_fsrs", MDB_CREATE, &dbi), 0);
    MDB_val k = {7, "corrupt"}, v = {3, "abc"};
    ck_assert_int_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    kgg_store_close(st);
    char *lp = tu_path(g_dir, "learners.jsonl");
    FILE *f = fopen(lp, "w");
    for (int i = 0; i < 40; i++)
        fprintf(f, "{\"learner\":\"%s\",\"goals\":[\"a:a3\"]}\n", i == 17 ? "corrupt" : "ok");
    fclose(f);
    char args[2048], *msg;
    snprintf(args, sizeof args, "batch --read-only --threads 2 --chunk 3 --learners %s --out %s/e.jsonl",
             lp, g_dir);
    ck_assert_int_eq(kg(db, args, &msg), 0);
    ck_assert_msg(strstr(msg, "40 learners, 39 plans, 1 errors") != NULL, "%s", msg);
    free(msg);
    char *op = tu_path(g_dir, "e.jsonl");
    char *out = tu_read(op, NULL);
    char *line = strstr(out, "{\"line\":18,");
    ck_assert_ptr_nonnull(line);
    *strchr(line, '\n') = '\0';
    ck_assert_msg(strstr(line, "cannot load the learner's state: learner store: corrupt fitted weights"),
                  "%s", line);
    free(out); free(op); free(lp); free(db);
}
END_TEST

START_TEST(cli_resume_after_sigkill)
{
    if (!kgbin()) { fprintf(stderr, "test_batch: SKIP cli test: KGPATH_BIN not built\n"); return; }
    char *db = tu_path(g_dir, "kg.db");
    store_courses(db, course_a(), course_b(10), -1);
    char *lp = cli_learners(2000);
    char *full = tu_path(g_dir, "full.jsonl"), *out = tu_path(g_dir, "out.jsonl");
    char *state = tu_path(g_dir, "out.jsonl.state");
    char args[2048];
    snprintf(args, sizeof args, "batch --read-only --chunk 50 --learners %s --out %s", lp, full);
    ck_assert_int_eq(kg(db, args, NULL), 0);

    /* Kill -9 the real binary once it has committed a chunk (or let it
     * finish if it is faster than the poll: resume must then do nothing). */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        execl(kgbin(), kgbin(), "--db", db, "batch", "--read-only", "--threads", "2",
              "--chunk", "50", "--learners", lp, "--out", out, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 20000 && access(state, F_OK) != 0; i++) usleep(1000);
    kill(pid, SIGKILL);
    int ws;
    ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
    snprintf(args, sizeof args, "batch --read-only --resume --chunk 50 --learners %s --out %s",
             lp, out);
    char *msg;
    ck_assert_int_eq(kg(db, args, &msg), 0);
    ck_assert_msg(strstr(msg, "2000 learners, 1997 plans") != NULL, "%s", msg);
    free(msg);
    ck_assert_int_eq(tu_file_cmp(out, full), 0);
    free(state); free(out); free(full); free(lp); free(db);
}
END_TEST

/* An output that is not a regular file is written as it is: no fdatasync
 * (EINVAL on /dev/null and a FIFO: the run exited 8 after its first chunk)
 * and no state beside it (--resume is refused there anyway). */
START_TEST(cli_out_not_a_regular_file)
{
    if (!kgbin()) { fprintf(stderr, "test_batch: SKIP cli test: KGPATH_BIN not built\n"); return; }
    char *db = tu_path(g_dir, "kg.db");
    store_courses(db, course_a(), course_b(10), -1);
    char *lp = cli_learners(40);
    char args[2048], cmd[4096], *msg;
    snprintf(args, sizeof args, "batch --read-only --chunk 7 --learners %s --out %s/file.jsonl", lp, g_dir);
    ck_assert_int_eq(kg(db, args, NULL), 0);
    snprintf(args, sizeof args, "batch --read-only --chunk 7 --learners %s --out /dev/null", lp);
    ck_assert_int_eq(kg(db, args, &msg), 0);
    ck_assert_msg(strstr(msg, "40 learners, 37 plans, 3 errors") != NULL, "%s", msg);
    free(msg);
    ck_assert_int_ne(access("/dev/null.state", F_OK), 0);
    /* a FIFO: its reader gets what the file got */
    snprintf(cmd, sizeof cmd, "cd %s && mkfifo fifo && { timeout 60 cat fifo > got & c=$!; "
             "%s --db %s batch --read-only --chunk 7 --learners %s --out fifo 2>&1; rc=$?; wait $c; exit $rc; }",
             g_dir, kgbin(), db, lp);
    ck_assert_int_eq(tu_run(cmd, &msg), 0);
    ck_assert_msg(strstr(msg, "40 learners, 37 plans, 3 errors") != NULL, "%s", msg);
    free(msg);
    char *pf = tu_path(g_dir, "file.jsonl"), *pg = tu_path(g_dir, "got"), *ps = tu_path(g_dir, "fifo.state");
    char *want = tu_read(pf, NULL), *got = tu_read(pg, NULL);
    ck_assert_str_eq(got, want);
    ck_assert_int_ne(access(ps, F_OK), 0);
    free(want); free(got); free(pf); free(pg); free(ps); free(lp); free(db);
}
END_TEST

Suite *suite(void);
Suite *suite(void)
{
    Suite *s = suite_create("batch");
    TCase *tc = tcase_create("engine");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, same_output_any_thread_count);
    tcase_add_test(tc, shards_are_disjoint_and_cover_the_input);
    tcase_add_test(tc, resume_after_kill_equals_uninterrupted_file);
    tcase_add_test(tc, disk_full_leaves_output_as_it_was);
    tcase_add_test(tc, resume_after_kill_equals_uninterrupted_dir);
    tcase_add_test(tc, bad_lines_reported_by_line_number);
    tcase_add_test(tc, since_recomputes_exactly_the_changed);
    tcase_add_test(tc, fatal_callback_stops_the_run);
    tcase_add_test(tc, stream_output_and_errors);
    tcase_add_test(tc, shard_parsing_and_slurm_env);
    suite_add_tcase(s, tc);
    TCase *cli = tcase_create("cli");
    tcase_add_checked_fixture(cli, setup, teardown);
    tcase_add_test(cli, cli_threads_shards_and_bad_lines);
    tcase_add_test(cli, cli_since_recomputes_exactly_the_changed);
    tcase_add_test(cli, cli_snapshot_copy_and_resume_noop);
    tcase_add_test(cli, cli_resume_after_sigkill);
    tcase_add_test(cli, cli_learner_state_error_message);
    tcase_add_test(cli, cli_out_not_a_regular_file);
    suite_add_tcase(s, cli);
    return s;
}
