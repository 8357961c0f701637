/* kgpath batch / batch-merge / snapshot-copy. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "cli_util.h"

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static json_t *summary_json(const kgp_batch_summary *s)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:i, s:f, s:f}",
        "lines", (json_int_t)s->lines, "learners", (json_int_t)s->learners,
        "plans", (json_int_t)s->plans, "errors", (json_int_t)s->errors,
        "unchanged", (json_int_t)s->unchanged, "other_shard", (json_int_t)s->other_shard,
        "resumed_lines", (json_int_t)s->resumed_lines,
        "shard", "", "stamps_changed", (int)s->stamps_changed,
        "seconds", s->seconds,
        "plans_per_second", s->seconds > 0 ? (double)(s->plans - s->resumed_plans) / s->seconds : 0.0);
}

static void set_shard(json_t *j, const kgp_batch_summary *s)
{
    char b[32];
    snprintf(b, sizeof b, "%u/%u", s->shard, s->nshards ? s->nshards : 1);
    json_object_set_new(j, "shard", json_string(b));
}

typedef struct progress_ui {
    int mode;           /* 0 none, 1 bar, 2 json */
    double last;
} progress_ui;

static void on_progress(void *ud, const kgp_batch_summary *s)
{
    progress_ui *ui = ud;
    double now = mono_now();
    if (!s->done && now - ui->last < 0.5) return;
    ui->last = now;
    if (ui->mode == 1) {
        if (s->done) { cli_progress_end(); return; }
        char label[96];
        snprintf(label, sizeof label, "batch: %llu plans, %llu errors",
                 (unsigned long long)s->plans, (unsigned long long)s->errors);
        size_t total = s->total_bytes ? (size_t)s->total_bytes : 0;
        cli_progress(NULL, (size_t)s->bytes_read, total, label);
        return;
    }
    json_t *j = summary_json(s);
    if (!j) return;
    set_shard(j, s);
    json_object_set_new(j, "bytes_read", json_integer((json_int_t)s->bytes_read));
    json_object_set_new(j, "total_bytes", json_integer((json_int_t)s->total_bytes));
    json_object_set_new(j, "done", json_boolean(s->done));
    json_t *line = json_pack("{s:o}", "kgpath_batch_progress", j);
    char *t = line ? json_dumps(line, JSON_COMPACT) : NULL;
    if (t) fprintf(stderr, "%s\n", t);
    fflush(stderr);
    free(t);
    json_decref(line);
}

static int write_report(const char *path, json_t *j)
{
    if (!path) return 0;
    /* replaced whole: a failed write leaves the old report (or none) */
    char *t = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!t) return cli_fail(KGP_ENOMEM, NULL);
    size_t n = strlen(t);
    t[n] = '\n';           /* json_dumps's NUL becomes the last line's end */
    int e = kg_write_file_atomic(path, t, n + 1, 0644);
    free(t);
    if (e) {
        cli_error("%s: cannot write the report: %s", path, strerror(e));
        return KGP_EIO;
    }
    return 0;
}

static void print_summary(const kgp_cli *cli, const char *what, const kgp_batch_summary *s,
                          int json_lines, json_t *j)
{
    if (cli->quiet) return;
    if (json_lines || cli->json) {
        json_t *line = json_pack("{s:O}", "kgpath_batch_summary", j);
        char *t = line ? json_dumps(line, JSON_COMPACT) : NULL;
        if (t) fprintf(stderr, "%s\n", t);
        free(t);
        json_decref(line);
        return;
    }
    fprintf(stderr, "kgpath: %s: %llu learners, %llu plans, %llu errors", what,
            (unsigned long long)s->learners, (unsigned long long)s->plans,
            (unsigned long long)s->errors);
    if (s->unchanged) fprintf(stderr, ", %llu unchanged", (unsigned long long)s->unchanged);
    if (s->nshards > 1) fprintf(stderr, " (shard %u/%u)", s->shard, s->nshards);
    if (s->resumed_lines)
        fprintf(stderr, ", %llu lines resumed", (unsigned long long)s->resumed_lines);
    if (s->seconds > 0)
        fprintf(stderr, " in %.2f s (%.0f plans/s)", s->seconds,
                (double)(s->plans - s->resumed_plans) / s->seconds);
    fputc('\n', stderr);
}

int cmd_batch(kgp_cli *cli, int argc, char **argv)
{
    static const cli_opt specs[] = {
        {"learners", 'l', 1}, {"out", 'o', 1}, {"threads", 't', 1}, {"shard", 0, 1},
        {"since", 0, 1}, {"resume", 0, 0}, {"chunk", 0, 1}, {"progress", 0, 1},
        {"report", 0, 1}, {"read-only", 0, 0}, {"fail-on-errors", 0, 0},
        /* plan options: defaults for learners whose line lacks them */
        {"minutes-per-day", 0, 1}, {"days-per-week", 0, 1}, {"start", 0, 1},
        {"deadline", 0, 1}, {"budget-minutes", 0, 1}, {"include-recommended", 0, 0},
        {"default-minutes", 0, 1}, {"defaults", 0, 1}, {"date", 0, 1}, {"retention", 0, 1},
        {"follow-course-order", 0, 0},
        {0, 0, 0}
    };
    kgp_batch_options o;
    kgp_batch_options_init(&o);
    const char *report = NULL, *progress = "auto", *defaults_text = NULL;
    int read_only = 0, fail_on_errors = 0, rc = 0;
    json_t *defs = json_object();
    cli_parser p;
    cli_parse_init(&p, argc, argv, specs);
    const char *arg;
    for (int k; (k = cli_parse(&p, &arg)) != -1;) {
        char *end = NULL;
        long v = 0;
        if (k == -2) { rc = KGP_EUSAGE; goto out; }
        const char *name = specs[k].name;
        if (!strcmp(name, "learners")) o.learners = arg;
        else if (!strcmp(name, "out")) o.out = arg;
        else if (!strcmp(name, "threads") || !strcmp(name, "chunk")) {
            v = strtol(arg, &end, 10);
            if (*end || v < 1 || v > 1 << 20) {
                cli_error("--%s must be a positive integer", name);
                rc = KGP_EUSAGE;
                goto out;
            }
            if (name[0] == 't') o.threads = (unsigned)v;
            else o.chunk_lines = (size_t)v;
        } else if (!strcmp(name, "shard")) {
            if (kgp_batch_parse_shard(arg, &o.shard, &o.nshards)) {
                cli_error("--shard must be I/N with 0 <= I < N (got \"%s\")", arg);
                rc = KGP_EUSAGE;
                goto out;
            }
        } else if (!strcmp(name, "since")) {
            if (kgp_batch_parse_time(arg, &o.since)) {
                cli_error("--since must be Unix seconds or YYYY-MM-DD[THH:MM:SSZ] (got \"%s\")", arg);
                rc = KGP_EUSAGE;
                goto out;
            }
        } else if (!strcmp(name, "resume")) o.resume = 1;
        else if (!strcmp(name, "progress")) progress = arg;
        else if (!strcmp(name, "report")) report = arg;
        else if (!strcmp(name, "read-only")) read_only = 1;
        else if (!strcmp(name, "fail-on-errors")) fail_on_errors = 1;
        else if (!strcmp(name, "defaults")) defaults_text = arg;
        else if (!strcmp(name, "include-recommended"))
            json_object_set_new(defs, "include_recommended", json_true());
        else if (!strcmp(name, "follow-course-order"))
            json_object_set_new(defs, "follow_course_order", json_true());
        else if (!strcmp(name, "start") || !strcmp(name, "deadline") || !strcmp(name, "date")) {
            json_object_set_new(defs, name, json_string(arg));
        } else {
            /* numeric plan options: --minutes-per-day → "minutes_per_day" */
            char key[32];
            snprintf(key, sizeof key, "%s", name);
            for (char *c = key; *c; c++) if (*c == '-') *c = '_';
            double d = strtod(arg, &end);
            if (*end || end == arg) {
                cli_error("--%s must be a number", name);
                rc = KGP_EUSAGE;
                goto out;
            }
            json_object_set_new(defs, key, d == (double)(long long)d
                                ? json_integer((json_int_t)d) : json_real(d));
        }
    }
    if (p.first < p.argc) {
        cli_error("batch takes no operands (got \"%s\"); use --learners FILE", p.argv[p.first]);
        rc = KGP_EUSAGE;
        goto out;
    }
    if (!o.learners || !o.out) {
        rc = cli_usage("batch");
        goto out;
    }
    if (defaults_text) {
        json_error_t je;
        json_t *d = json_loads(defaults_text, 0, &je);
        if (!json_is_object(d)) {
            json_decref(d);
            cli_error("--defaults must be a JSON object");
            rc = KGP_EUSAGE;
            goto out;
        }
        json_object_update_missing(defs, d);
        json_decref(d);
    }
    char *dtext = json_dumps(defs, JSON_COMPACT | JSON_SORT_KEYS);
    o.defaults = dtext;
    struct stat sb;
    size_t olen = strlen(o.out);
    o.out_dir = (olen > 1 && o.out[olen - 1] == '/')
                || (stat(o.out, &sb) == 0 && S_ISDIR(sb.st_mode));

    progress_ui ui = {0};
    if (!strcmp(progress, "auto")) ui.mode = isatty(2) ? 1 : 0;
    else if (!strcmp(progress, "bar")) ui.mode = 1;
    else if (!strcmp(progress, "json")) ui.mode = 2;
    else if (!strcmp(progress, "none")) ui.mode = 0;
    else {
        cli_error("--progress must be auto, bar, json or none");
        free(dtext);
        rc = KGP_EUSAGE;
        goto out;
    }
    if (ui.mode && !cli->quiet) { o.progress = on_progress; o.progress_ud = &ui; }

    /* Read-only unless change stamps can be refreshed (see README). */
    kgp_db *db = NULL;
    if ((rc = cli_open_db(cli, KGP_RDONLY, &db))) { free(dtext); goto out; }
    if (cli->no_lock) read_only = 1;
    if (!read_only) {
        kgp_db *rw = NULL;
        kgp_db_close(db);
        db = NULL;
        if (kgp_db_open(cli->db_path, 0, &rw) == KGP_OK) db = rw;
        else {
            kgp_db_close(rw);
            if ((rc = cli_open_db(cli, KGP_RDONLY, &db))) { free(dtext); goto out; }
        }
    }
    if (read_only) o.no_stamp = 1;
    kgp_batch_summary s;
    kgp_status st = kgp_batch_run(db, &o, &s);
    free(dtext);
    if (st) {
        cli_progress_end();
        cli_error("%s", kgp_db_errmsg(db));
        kgp_db_close(db);
        rc = st;
        goto out;
    }
    kgp_db_close(db);
    json_t *j = summary_json(&s);
    if (!j) { rc = KGP_ENOMEM; goto out; }
    set_shard(j, &s);
    print_summary(cli, "batch", &s, ui.mode == 2, j);
    rc = write_report(report, j);
    json_decref(j);
    if (s.errors) {
        /* Never silent, even with --quiet: error records are easy to miss
         * in millions of lines. */
        fprintf(stderr, "kgpath: batch: %llu of %llu learners got an error record "
                "(\"status\" in each)%s\n", (unsigned long long)s.errors,
                (unsigned long long)s.learners,
                fail_on_errors ? "" : "; --fail-on-errors makes this exit 2");
        if (fail_on_errors && !rc) rc = KGP_EINPUT;
    }
out:
    json_decref(defs);
    cli_parse_free(&p);
    return rc;
}

int cmd_batch_merge(kgp_cli *cli, int argc, char **argv)
{
    static const cli_opt specs[] = { {"out", 'o', 1}, {"report", 0, 1}, {0, 0, 0} };
    const char *out = NULL, *report = NULL;
    int rc = 0;
    cli_parser p;
    cli_parse_init(&p, argc, argv, specs);
    const char *arg;
    for (int k; (k = cli_parse(&p, &arg)) != -1;) {
        if (k == -2) { rc = KGP_EUSAGE; goto out; }
        if (k == 0) out = arg;
        else report = arg;
    }
    if (p.first >= p.argc) { rc = cli_usage("batch-merge"); goto out; }
    kgp_batch_summary s;
    char err[1024] = "";
    double t0 = mono_now();
    kgp_status st = kgp_batch_merge((const char *const *)p.argv + p.first,
                                    (size_t)(p.argc - p.first), out, &s, err, sizeof err);
    if (st) { cli_error("%s", err); rc = st; goto out; }
    s.seconds = mono_now() - t0;
    json_t *j = summary_json(&s);
    if (!j) { rc = KGP_ENOMEM; goto out; }
    json_object_del(j, "shard");
    json_object_del(j, "stamps_changed");
    json_object_del(j, "unchanged");
    json_object_del(j, "other_shard");
    json_object_del(j, "resumed_lines");
    json_object_set_new(j, "inputs", json_integer(p.argc - p.first));
    print_summary(cli, "batch-merge", &s, 0, j);
    rc = write_report(report, j);
    json_decref(j);
out:
    cli_parse_free(&p);
    return rc;
}

int cmd_snapshot_copy(kgp_cli *cli, int argc, char **argv)
{
    static const cli_opt specs[] = { {"stamp", 0, 0}, {0, 0, 0} };
    unsigned flags = 0;
    int rc = 0;
    cli_parser p;
    cli_parse_init(&p, argc, argv, specs);
    const char *arg;
    for (int k; (k = cli_parse(&p, &arg)) != -1;) {
        if (k == -2) { rc = KGP_EUSAGE; goto out; }
        flags |= KGP_COPY_STAMP;
    }
    if (p.argc - p.first != 1) { rc = cli_usage("snapshot-copy"); goto out; }
    kgp_db *db = NULL;
    if ((rc = cli_open_db(cli, (flags & KGP_COPY_STAMP) ? 0 : KGP_RDONLY, &db))) goto out;
    kgp_status st = kgp_db_copy(db, p.argv[p.first], flags);
    if (st) cli_error("%s", kgp_db_errmsg(db));
    kgp_db_close(db);
    rc = st;
out:
    cli_parse_free(&p);
    return rc;
}
