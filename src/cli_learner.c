/* kgpath observe | learner | fit: learner events, state and fitted
 * parameters (public API: kgpath_learner.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"
#include "kgpath.h"

static int observe_one(kgp_cli *cli, kgp_db *db, const char *path, unsigned flags,
                       json_t *files, int *had_errors, size_t *added)
{
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!in) {
        cli_error("%s: %s", path, strerror(errno));
        return errno == ENOENT ? KGP_ENOTFOUND : KGP_EIO;
    }
    kgp_observe_report *r = NULL;
    kgp_status st = kgp_observe_file(db, path, in, flags, &r);
    if (in != stdin)
        fclose(in);
    if (!r)
        return cli_fail(st, kgp_db_errmsg(db));
    for (size_t i = 0; i < r->nerrors_kept; i++)
        cli_error("%s", r->errors[i]);
    if (r->nerrors > r->nerrors_kept)
        cli_error("%s: … and %zu more malformed lines", path, r->nerrors - r->nerrors_kept);
    if (r->nerrors)
        *had_errors = 1;
    if (r->committed)
        *added += r->added;
    if (r->future) {
        char t[32];
        kgp_format_time(r->future_max, t, sizeof t);
        cli_warn(cli, "%s: %zu event%s dated after tomorrow (latest %s): plans ignore an "
                 "event until its date", path, r->future, r->future == 1 ? "" : "s", t);
    }
    if (cli->json) {
        json_t *o = json_object();
        json_object_set_new(o, "file", json_string(path));
        json_object_set_new(o, "lines", json_integer((json_int_t)r->lines));
        json_object_set_new(o, "events", json_integer((json_int_t)r->events));
        json_object_set_new(o, "added", json_integer((json_int_t)r->added));
        json_object_set_new(o, "duplicates", json_integer((json_int_t)r->duplicates));
        json_object_set_new(o, "learners", json_integer((json_int_t)r->learners));
        json_object_set_new(o, "malformed", json_integer((json_int_t)r->nerrors));
        json_object_set_new(o, "future", json_integer((json_int_t)r->future));
        json_t *errs = json_array();
        for (size_t i = 0; i < r->nerrors_kept; i++)
            json_array_append_new(errs, json_string(r->errors[i]));
        json_object_set_new(o, "errors", errs);
        json_object_set_new(o, "committed", json_boolean(r->committed));
        json_array_append_new(files, o);
    } else if (!cli->quiet || st != KGP_OK) {
        printf("%s: %zu event%s of %zu learner%s from %zu line%s", path, r->events,
               r->events == 1 ? "" : "s", r->learners, r->learners == 1 ? "" : "s",
               r->lines, r->lines == 1 ? "" : "s");
        if (r->committed)
            printf(": %zu new, %zu already stored", r->added, r->duplicates);
        else
            printf(": nothing written%s", (flags & KGP_OBSERVE_DRY_RUN) ? " (dry run)" : "");
        if (r->nerrors)
            printf("; %zu malformed line%s skipped", r->nerrors, r->nerrors == 1 ? "" : "s");
        printf("\n");
    }
    int rc = st == KGP_OK ? 0 : cli_fail(st, kgp_db_errmsg(db));
    kgp_observe_report_free(r);
    return rc;
}

json_t *cli_refit_json(const kgp_fit_report *r, const kgp_fit_due_info *d)
{
    return json_pack("{s:I,s:I,s:b,s:I}", "events", (json_int_t)r->events,
                     "events_at_last_fit", (json_int_t)d->events_at_fit,
                     "fsrs_fitted", r->fsrs_fitted, "bkt_concepts_fitted", (json_int_t)r->nfitted);
}

/* Renews the learner models when the events have grown enough since the
 * last fit (kgp_fit_due). The events are stored whatever happens here: a
 * failed fit is a warning, not observe's failure. */
static void observe_refit(kgp_cli *cli, kgp_db *db, json_t *out)
{
    kgp_fit_due_info d;
    kgp_fit_report *r = NULL;
    if (kgp_fit_if_due(db, &d, &r) != KGP_OK) {
        cli_warn(cli, "observe: refitting the learner models failed (the events are "
                 "stored; run kgpath fit): %s", kgp_db_errmsg(db));
        return;
    }
    if (!r)
        return;
    if (out) {
        json_object_set_new(out, "refit", cli_refit_json(r, &d));
    } else if (!cli->quiet) {
        char was[64] = "no fit recorded before";
        if (d.fitted)
            snprintf(was, sizeof was, "%llu at the last fit", (unsigned long long)d.events_at_fit);
        printf("learner models refitted on %llu events (%s; kgpath fit --dry-run shows "
               "the report)\n", (unsigned long long)r->events, was);
    }
    kgp_fit_report_free(r);
}

int cmd_observe(kgp_cli *cli, int argc, char **argv)
{
    static const cli_opt specs[] = { {"strict", 0, 0}, {"dry-run", 'n', 0}, {"no-fit", 0, 0}, {0} };
    cli_parser p;
    cli_parse_init(&p, argc, argv, specs);
    const char *arg;
    unsigned flags = 0;
    int no_fit = 0;
    for (int o; (o = cli_parse(&p, &arg)) != -1; ) {
        if (o == -2) { cli_parse_free(&p); return KGP_EUSAGE; }
        if (o == 0) flags |= KGP_OBSERVE_STRICT;
        if (o == 1) flags |= KGP_OBSERVE_DRY_RUN;
        if (o == 2) no_fit = 1;
    }
    int first = p.first;
    if (first >= argc) {
        cli_parse_free(&p);
        cli_error("observe: name a FILE of events, or - for standard input");
        return cli_usage("observe");
    }
    kgp_db *db;
    int rc = cli_open_db(cli, 0, &db);
    if (rc) { cli_parse_free(&p); return rc; }
    json_t *files = cli->json ? json_array() : NULL;
    int had_errors = 0;
    size_t added = 0;
    for (int i = first; i < argc && rc == 0; i++)
        rc = observe_one(cli, db, p.argv[i], flags, files, &had_errors, &added);
    cli_parse_free(&p);
    json_t *o = cli->json ? json_object() : NULL;
    if (!rc && added && !no_fit)        /* added: committed events only, none on a dry run */
        observe_refit(cli, db, o);
    if (cli->json) {
        json_object_set_new(o, "kgpath_observe", json_integer(1));
        json_object_set_new(o, "files", files);
        int prc = cli_json_print(o);
        if (!rc) rc = prc;
    }
    kgp_db_close(db);
    /* The good events are stored; malformed lines still make the exit
     * status an input error so that scripts notice. */
    if (!rc && had_errors) rc = KGP_EINPUT;
    return rc;
}

void cli_learner_notes(const kgp_cli *cli, const kgp_learner *l, const char *what)
{
    char at[32], t[32];
    kgp_format_time(l->at, at, sizeof at);
    if (l->is_new)
        cli_warn(cli, "%s: learner '%s' has no events up to %s: planning as for a new "
                 "learner (priors, nothing known)", what, l->id, at);
    if (l->nlater) {
        kgp_format_time(l->later_max, t, sizeof t);
        cli_warn(cli, "%s: %llu event%s of learner '%s' dated after %s ignored (latest %s)",
                 what, (unsigned long long)l->nlater, l->nlater == 1 ? "" : "s", l->id,
                 at, t);
    }
}

typedef struct list_ud { json_t *arr; size_t n; } list_ud;

static int list_fn(void *ud, const char *id, uint64_t nevents, int64_t first, int64_t last)
{
    list_ud *u = ud;
    char f[32], l[32];
    kgp_format_time(first, f, sizeof f);
    kgp_format_time(last, l, sizeof l);
    if (u->arr) {
        json_t *o = json_object();
        json_object_set_new(o, "learner", json_string(id));
        json_object_set_new(o, "events", json_integer((json_int_t)nevents));
        json_object_set_new(o, "first", json_string(f));
        json_object_set_new(o, "last", json_string(l));
        json_array_append_new(u->arr, o);
    } else {
        printf("%s%*s %8llu events  %s .. %s\n", id, cli_pad(id, 24), "", (unsigned long long)nevents, f, l);
    }
    u->n++;
    return 0;
}

int cmd_learner(kgp_cli *cli, int argc, char **argv)
{
    /* `kgpath learner forget ID` (src/serve_token.c) */
    if (argc >= 2 && !strcmp(argv[1], "forget")) return cmd_learner_forget(cli, argc - 1, argv + 1);
    static const cli_opt specs[] = { {"at", 0, 1}, {"date", 0, 1},
                                     {"retention", 'r', 1}, {"mastery", 0, 1}, {0} };
    cli_parser p;
    cli_parse_init(&p, argc, argv, specs);
    const char *arg;
    kgp_learner_options lo = {0};
    int rc = 0;
    for (int o; (o = cli_parse(&p, &arg)) != -1 && !rc; ) {
        char *end;
        switch (o) {
        case -2: rc = KGP_EUSAGE; break;
        case 0: case 1:
            if (kgp_parse_time(arg, &lo.at)) {
                cli_error("learner: --at '%s': expected YYYY-MM-DD or an ISO 8601 "
                          "timestamp with a zone", arg);
                rc = KGP_EUSAGE;
            }
            break;
        case 2: case 3: {
            double v = strtod(arg, &end);
            if (*end || !(v > 0 && v < 1 + (o == 3))) {
                cli_error("learner: --%s '%s': expected a number between 0 and 1",
                          specs[o].name, arg);
                rc = KGP_EUSAGE;
            } else if (o == 2) {
                lo.retention = v;
            } else {
                lo.mastery = v;
            }
            break;
        }
        }
    }
    int nops = argc - p.first;
    const char *id = nops ? p.argv[p.first] : NULL;
    cli_parse_free(&p);
    if (rc) return rc;
    if (nops > 1) { cli_error("learner: one learner id at a time"); return cli_usage("learner"); }
    kgp_db *db;
    kgp_snap *snap;
    if ((rc = cli_open_snap(cli, &db, &snap))) return rc;
    if (!id) {
        list_ud u = { cli->json ? json_array() : NULL, 0 };
        kgp_status st = kgp_learners_list(db, list_fn, &u);
        if (st) rc = cli_fail(st, kgp_db_errmsg(db));
        else if (u.arr) {
            json_t *o = json_object();
            json_object_set_new(o, "learners", u.arr);
            u.arr = NULL;
            rc = cli_json_print(o);
        } else if (u.n == 0 && !cli->quiet) {
            printf("no learners yet (kgpath observe FILE)\n");
        }
        json_decref(u.arr);
    } else {
        kgp_learner *l = NULL;
        kgp_status st = kgp_learner_get(db, snap, id, &lo, &l);
        if (st) rc = cli_fail(st, kgp_db_errmsg(db));
        else {
            cli_learner_notes(cli, l, "learner");
            st = kgp_learner_write(l, cli->json ? "json" : "text", stdout);
            if (st) rc = cli_fail(st, NULL);
        }
        kgp_learner_free(l);
    }
    kgp_snap_close(snap);
    kgp_db_close(db);
    return rc;
}

/* --if-due when no fit is due (or --dry-run: whether one is): says so. */
static int fit_not_due(kgp_cli *cli, const kgp_fit_due_info *d)
{
    if (cli->json) {
        json_t *j = json_pack("{s:b,s:I,s:I,s:I}", "due", d->due, "events", (json_int_t)d->events,
                              "events_at_last_fit", (json_int_t)d->events_at_fit, "due_at",
                              (json_int_t)d->due_at);
        return cli_json_print(j);
    }
    char was[64] = "no fit recorded";
    if (d->fitted) snprintf(was, sizeof was, "%llu at the last fit", (unsigned long long)d->events_at_fit);
    printf("%s: %llu events, %s (due from %llu)\n", d->due ? "a fit is due" : "no fit due",
           (unsigned long long)d->events, was, (unsigned long long)d->due_at);
    return 0;
}

int cmd_fit(kgp_cli *cli, int argc, char **argv)
{
    static const cli_opt specs[] = { {"dry-run", 'n', 0}, {"per-learner", 0, 0}, {"if-due", 0, 0}, {0} };
    cli_parser p;
    cli_parse_init(&p, argc, argv, specs);
    const char *arg;
    int dry = 0, flags = 0, if_due = 0;
    for (int o; (o = cli_parse(&p, &arg)) != -1; ) {
        if (o == -2) { cli_parse_free(&p); return KGP_EUSAGE; }
        if (o == 0) { dry = 1; flags |= KGP_FIT_DRY_RUN; }
        if (o == 1) flags |= KGP_FIT_PER_LEARNER;
        if (o == 2) if_due = 1;
    }
    int nops = argc - p.first;
    cli_parse_free(&p);
    if (nops) { cli_error("fit: unexpected argument"); return cli_usage("fit"); }
    if (if_due && (flags & KGP_FIT_PER_LEARNER)) {
        cli_error("fit: --if-due renews the recorded fit with its own options; --per-learner goes without it");
        return cli_usage("fit");
    }
    kgp_db *db;
    int rc = cli_open_db(cli, dry ? KGP_RDONLY : 0, &db);
    if (rc) return rc;
    kgp_fit_report *r = NULL;
    kgp_fit_due_info d;
    kgp_status st;
    if (if_due && dry)
        st = kgp_fit_due(db, &d);                        /* reads only */
    else if (if_due)
        st = kgp_fit_if_due(db, &d, &r);                 /* NULL report: not due */
    else
        st = kgp_fit(db, NULL, flags, &r);               /* stored before a snapshot opens */
    if (st) {
        rc = cli_fail(st, kgp_db_errmsg(db));
    } else if (!r) {
        rc = fit_not_due(cli, &d);
    } else {
        kgp_snap *snap = NULL;
        if (kgp_snap_open(db, &snap) == KGP_OK)
            kgp_fit_annotate(r, snap);
        st = kgp_fit_write(r, cli->json ? "json" : "text", stdout);
        if (st) rc = cli_fail(st, NULL);
        kgp_snap_close(snap);
    }
    kgp_fit_report_free(r);
    kgp_db_close(db);
    return rc;
}
