/* kgpath import / show / stats / export: the graph commands. Public API only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_util.h"
#include "base/file.h"

/* ---- import ---- */

static void print_diag(const kgp_cli *cli, const kgp_diag *d)
{
    char where[1200] = "";
    if (d->file && d->line && d->column) snprintf(where, sizeof where, "%s:%u:%u: ", d->file, d->line, d->column);
    else if (d->file && d->line) snprintf(where, sizeof where, "%s:%u: ", d->file, d->line);
    else if (d->file) snprintf(where, sizeof where, "%s: ", d->file);
    if (d->severity == 2) cli_error("%s%s", where, d->message);
    else cli_warn(cli, "%s%s", where, d->message);
}

static json_t *diag_json(const kgp_diag *d)
{
    return json_pack("{s:o, s:i, s:i, s:s}", "file", cli_json_str(d->file),
                     "line", (json_int_t)d->line, "column", (json_int_t)d->column,
                     "message", d->message ? d->message : "");
}

static json_t *refs_json(const kgp_unref *u, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:b}", "from", u[i].from ? u[i].from : "",
                                           "target", u[i].target ? u[i].target : "",
                                           "recommended", u[i].recommended));
    return a;
}

json_t *cli_import_report_json(const kgp_report *r, kgp_status st)
{
    json_t *o = json_object(), *cs = json_array(), *w = json_array(), *er = json_array();
    if (!o || !cs || !w || !er) { json_decref(o); json_decref(cs); json_decref(w); json_decref(er); return NULL; }
    json_object_set_new(o, "status", json_integer(st));
    json_object_set_new(o, "committed", json_boolean(r->committed));
    json_object_set_new(o, "dry_run", json_boolean(r->dry_run));
    for (size_t i = 0; i < r->ncourses; i++) {
        const kgp_report_course *c = &r->courses[i];
        json_array_append_new(cs, json_pack("{s:s, s:o, s:o, s:o, s:i, s:i, s:i, s:i, s:i, s:i, s:b, s:b}",
            "id", c->id ? c->id : "", "title", cli_json_str(c->title), "source", cli_json_str(c->source),
            "format", cli_json_str(c->format), "concepts", (json_int_t)c->concepts,
            "groups", (json_int_t)c->groups, "edges", (json_int_t)c->edges,
            "recommends", (json_int_t)c->recommends, "unresolved", (json_int_t)c->unresolved,
            "removed", (json_int_t)c->removed, "replaced", c->replaced, "unchanged", c->unchanged));
        if (c->identity) json_object_set_new(json_array_get(cs, json_array_size(cs) - 1), "identity",
                                             json_string(c->identity));
    }
    for (size_t i = 0; i < r->ndiags; i++)
        json_array_append_new(r->diags[i].severity == 2 ? er : w, diag_json(&r->diags[i]));
    json_object_set_new(o, "courses", cs);
    json_object_set_new(o, "warnings", w);
    json_object_set_new(o, "errors", er);
    json_object_set_new(o, "unresolved", refs_json(r->unresolved, r->nunresolved));
    json_object_set_new(o, "orphaned", refs_json(r->orphaned, r->norphaned));
    json_object_set_new(o, "resolved", json_integer(r->resolved));
    return o;
}

/* mkdir -p of the folder holding path. */
static void make_parent(const char *path)
{
    char *d = strdup(path);
    char *slash = d ? strrchr(d, '/') : NULL;
    if (slash && slash != d) {
        *slash = 0;
        for (char *q = d + 1; *q; q++)
            if (*q == '/') { *q = 0; (void)mkdir(d, 0755); *q = '/'; }
        (void)mkdir(d, 0755);
    }
    free(d);
}

/* Removes a database file made by this process and its LMDB lock file. */
static void remove_db_files(const char *path)
{
    char lock[4200];
    snprintf(lock, sizeof lock, "%s-lock", path);
    (void)unlink(path);
    (void)unlink(lock);
}

int cmd_import(kgp_cli *cli, int argc, char **argv)
{
    static const cli_opt specs[] = {{"dry-run", 'n', 0}, {"no-schema", 0, 0}, {"drafts", 0, 0},
                                    {"include-drafts", 0, 0}, {"encoding", 0, 1}, {"replace", 0, 0},
                                    {"as", 0, 1}, {"course-order", 0, 1}, {0}};
    kgp_import_options opt = {0};
    cli_parser p;
    cli_parse_init(&p, argc, argv, specs);
    const char *arg;
    for (int o; (o = cli_parse(&p, &arg)) != -1; ) {
        if (o == -2) { cli_parse_free(&p); return KGP_EUSAGE; }
        if (o == 0) opt.dry_run = 1;
        else if (o == 1) opt.no_schema = 1;
        else if (o == 2 || o == 3) opt.include_drafts = 1;
        else if (o == 4) opt.encoding = arg;
        else if (o == 5) opt.replace = 1;
        else if (o == 6) opt.as_id = arg;
        else if (o == 7) {
            if (!strcmp(arg, "required")) opt.course_order = 1;
            else if (!strcmp(arg, "recommended")) opt.course_order = 0;
            else {
                cli_error("import: --course-order must be required or recommended (got '%s')", arg);
                cli_parse_free(&p);
                return KGP_EUSAGE;
            }
        }
    }
    int nfiles = argc - p.first;
    char **files = argv + p.first;
    cli_parse_free(&p);
    if (nfiles <= 0) { cli_error("import: no FILE given"); return cli_usage("import"); }
    if (opt.replace && opt.as_id) {
        cli_error("import: --replace and --as exclude each other");
        return cli_usage("import");
    }
    /* A database that does not exist yet is built beside its path and
     * linked into place only when the import commits: a failed or dry-run
     * import leaves no file (nor lock file) behind, and readers never see
     * a half-made database. */
    kgp_db *db = NULL;
    char final_path[4096] = "", tmp_path[4200] = "";
    if (kgp_db_open(cli->db_path, KGP_RDONLY, &db) == KGP_ENOTFOUND && db && *kgp_db_path(db)) {
        snprintf(final_path, sizeof final_path, "%s", kgp_db_path(db));
        snprintf(tmp_path, sizeof tmp_path, "%s.new-%ld", final_path, (long)getpid());
        if (!cli->db_path) make_parent(final_path);
    }
    kgp_db_close(db);
    db = NULL;
    int rc;
    if (*tmp_path) {
        kgp_status ost = kgp_db_open(tmp_path, 0, &db);
        if (ost != KGP_OK) {
            /* the message names the file built beside final_path: name both */
            cli_error("cannot create %s: %s", final_path, db ? kgp_db_errmsg(db) : kgp_strerror(ost));
            rc = (int)ost;
            kgp_db_close(db);
            remove_db_files(tmp_path);
            return rc;
        }
    } else {
        rc = cli_open_db(cli, 0, &db);
        if (rc) return rc;
    }
    if (!cli->quiet) { opt.progress = cli_progress; }
    kgp_report *r = NULL;
    kgp_status st = kgp_import(db, (const char *const *)files, (size_t)nfiles, &opt, &r);
    cli_progress_end();
    if (!r) {
        rc = cli_fail(st, kgp_db_errmsg(db));
        kgp_db_close(db);
        if (*tmp_path) remove_db_files(tmp_path);
        return rc;
    }
    if (cli->json) {
        rc = cli_json_print(cli_import_report_json(r, st));
        if (st && !cli->quiet) cli_error("%s", kgp_db_errmsg(db));
    } else {
        for (size_t i = 0; i < r->ndiags; i++) print_diag(cli, &r->diags[i]);
        if (st == KGP_OK) {
            for (size_t i = 0; i < r->ncourses; i++) {
                const kgp_report_course *c = &r->courses[i];
                if (c->unchanged) {
                    printf("%s %s: unchanged (%u concepts)\n", r->dry_run ? "would keep" : "kept",
                           c->id, c->concepts);
                    continue;
                }
                printf("%s %s \"%s\": %u concepts, %u requirement groups, %u prerequisite edges, "
                       "%u recommended",
                       r->dry_run ? "checked" : (c->replaced ? "replaced" : "imported"),
                       c->id, c->title ? c->title : "", c->concepts, c->groups, c->edges, c->recommends);
                if (c->unresolved) printf(", %u unresolved", c->unresolved);
                if (c->removed) printf(", %u removed", c->removed);
                printf(" (%s)\n", c->source ? c->source : "");
            }
            for (size_t i = 0; i < r->nunresolved; i++) {
                const char *t = r->unresolved[i].target;
                const char *colon = t ? strchr(t, ':') : NULL;
                cli_warn(cli, "%s %s %s, which is not in the database (course '%.*s' not imported "
                         "yet): kept unresolved until it is", r->unresolved[i].from,
                         r->unresolved[i].recommended ? "recommends" : "requires", t,
                         colon ? (int)(colon - t) : (int)strlen(t), t);
            }
            for (size_t i = 0; i < r->norphaned; i++)
                cli_warn(cli, "%s %s %s, which this import removed: now unresolved",
                         r->orphaned[i].from, r->orphaned[i].recommended ? "recommends" : "requires",
                         r->orphaned[i].target);
            if (r->resolved) printf("resolved %u earlier reference%s\n", r->resolved, r->resolved == 1 ? "" : "s");
            if (r->dry_run) printf("dry run: nothing was written\n");
        } else {
            if (r->nerrors == 0) cli_fail(st, kgp_db_errmsg(db));
            cli_error("nothing was imported (%zu error%s)", r->nerrors > 0 ? r->nerrors : 1,
                      r->nerrors == 1 || r->nerrors == 0 ? "" : "s");
        }
        rc = 0;
    }
    int committed = r->committed;
    kgp_report_free(r);
    kgp_db_close(db);
    if (*tmp_path) {
        /* link() never replaces a database another process made meanwhile */
        if (st == KGP_OK && committed && link(tmp_path, final_path) != 0) {
            cli_error("cannot create %s: %s%s", final_path, strerror(errno),
                      errno == EEXIST ? " (made by another process during this import: run it again)" : "");
            st = KGP_EDB;
        }
        remove_db_files(tmp_path);
    }
    return st ? (int)st : rc;
}

/* ---- show ---- */

static json_t *ref_json(const kgp_ref *r)
{
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "id", json_string(r->key ? r->key : ""));
    json_object_set_new(o, "title", cli_json_str(r->title));
    json_object_set_new(o, "resolved", json_boolean(r->index != KGP_NONE));
    if (r->reason) json_object_set_new(o, "reason", json_string(r->reason));
    return o;
}

static json_t *refs_arr(const kgp_ref *r, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) json_array_append_new(a, ref_json(&r[i]));
    return a;
}

static json_t *strs_arr(const char *const *s, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) json_array_append_new(a, cli_json_str(s[i]));
    return a;
}

json_t *cli_concept_json(const kgp_concept *c)
{
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "id", json_string(c->key));
    json_object_set_new(o, "title", json_string(c->title));
    json_object_set_new(o, "course", json_string(c->course_id));
    json_object_set_new(o, "course_title", cli_json_str(c->course_title));
    json_object_set_new(o, "course_order", json_string(c->course_order ? "required" : "recommended"));
    json_object_set_new(o, "unit", cli_json_str(c->unit_id));
    json_object_set_new(o, "unit_title", cli_json_str(c->unit_title));
    json_object_set_new(o, "summary", cli_json_str(c->summary));
    json_object_set_new(o, "description", cli_json_str(c->description));
    json_object_set_new(o, "minutes", cli_json_num_or_null(c->minutes));
    json_object_set_new(o, "own_minutes", cli_json_num_or_null(c->own_minutes));
    json_object_set_new(o, "difficulty", cli_json_num_or_null(c->difficulty));
    json_object_set_new(o, "goals", strs_arr(c->goals, c->ngoals));
    json_object_set_new(o, "tags", strs_arr(c->tags, c->ntags));
    json_t *res = json_array();
    for (size_t i = 0; res && i < c->nresources; i++)
        json_array_append_new(res, json_pack("{s:o, s:o, s:o, s:o}",
            "title", cli_json_str(c->resources[i].title), "url", cli_json_str(c->resources[i].url),
            "kind", cli_json_str(c->resources[i].kind),
            "minutes", cli_json_num_or_null(c->resources[i].minutes)));
    json_object_set_new(o, "resources", res);
    json_t *req = json_array();
    for (size_t g = 0; req && g < c->ngroups; g++) {
        json_t *go = json_object();
        if (!go) break;
        json_object_set_new(go, "k", json_integer(c->groups[g].k));
        json_object_set_new(go, "of", refs_arr(c->groups[g].members, c->groups[g].n));
        if (c->groups[g].reason) json_object_set_new(go, "reason", json_string(c->groups[g].reason));
        json_array_append_new(req, go);
    }
    json_object_set_new(o, "requires", req);
    json_object_set_new(o, "recommends", refs_arr(c->recommends, c->nrecommends));
    json_object_set_new(o, "dependents", refs_arr(c->dependents, c->ndependents));
    json_object_set_new(o, "recommended_by", refs_arr(c->recommended_by, c->nrecommended_by));
    return o;
}

static void print_ref(const kgp_ref *r, const char *indent)
{
    if (r->index == KGP_NONE) printf("%s- %s (not in the database yet)", indent, r->key);
    else printf("%s- %s (%s)", indent, r->title, r->key);
    if (r->reason) printf(" — %s", r->reason);
    putchar('\n');
}

static void print_wrapped(const char *text, const char *indent)
{
    /* Paragraphs as authored; lines are wrapped at about 76 columns. */
    const char *p = text;
    size_t col = 0;
    fputs(indent, stdout);
    while (*p) {
        if (*p == '\n') {
            putchar('\n'); fputs(indent, stdout); col = 0;
            p++;
            continue;
        }
        if (*p == ' ') { p++; continue; }
        size_t w = strcspn(p, " \n");
        if (col > 0 && col + 1 + w > 76) { putchar('\n'); fputs(indent, stdout); col = 0; }
        else if (col > 0) { putchar(' '); col++; }
        fwrite(p, 1, w, stdout);
        col += w;
        p += w;
    }
    putchar('\n');
}

static void print_concept(const kgp_concept *c)
{
    char m1[32], m2[32];
    printf("%s (%s)\n", c->title, c->key);
    printf("Course: %s (%s)", c->course_title ? c->course_title : c->course_id, c->course_id);
    if (c->unit_title || c->unit_id) printf(" · unit: %s", c->unit_title ? c->unit_title : c->unit_id);
    if (c->course_order) printf(" · authored order required");
    putchar('\n');
    printf("Time: %s", cli_fmt_minutes(c->minutes, m1, sizeof m1));
    if (c->own_minutes >= 0 && c->nresources && c->own_minutes != c->minutes)
        printf(" (%s own + resources)", cli_fmt_minutes(c->own_minutes, m2, sizeof m2));
    if (c->difficulty >= 0) printf(" · difficulty: %.2f", c->difficulty);
    putchar('\n');
    if (c->ntags) {
        printf("Tags: ");
        for (size_t i = 0; i < c->ntags; i++) printf("%s%s", i ? ", " : "", c->tags[i]);
        putchar('\n');
    }
    if (c->summary) { putchar('\n'); print_wrapped(c->summary, ""); }
    if (c->description) { putchar('\n'); print_wrapped(c->description, ""); }
    if (c->ngoals) {
        printf("\nGoals:\n");
        for (size_t i = 0; i < c->ngoals; i++) printf("  - %s\n", c->goals[i]);
    }
    printf("\nPrerequisites:%s\n", c->ngroups ? "" : " none");
    for (size_t g = 0; g < c->ngroups; g++) {
        const kgp_group *gr = &c->groups[g];
        if (gr->n == 1 && gr->k == 1) {
            print_ref(&gr->members[0], "  ");
        } else {
            if (gr->k == gr->n) printf("  - all of:\n");
            else if (gr->k == 1) printf("  - any one of:\n");
            else printf("  - at least %u of these %u:\n", gr->k, gr->n);
            for (uint32_t j = 0; j < gr->n; j++) print_ref(&gr->members[j], "      ");
        }
        if (gr->reason) printf("    why: %s\n", gr->reason);
    }
    if (c->nrecommends) {
        printf("\nRecommended first:\n");
        for (size_t i = 0; i < c->nrecommends; i++) print_ref(&c->recommends[i], "  ");
    }
    if (c->nresources) {
        printf("\nResources:\n");
        for (size_t i = 0; i < c->nresources; i++) {
            const kgp_resource *r = &c->resources[i];
            printf("  - %s", r->title ? r->title : (r->url ? r->url : "(untitled)"));
            if (r->kind || r->minutes >= 0) {
                printf(" (");
                if (r->kind) printf("%s", r->kind);
                if (r->minutes >= 0) printf("%s%s", r->kind ? ", " : "", cli_fmt_minutes(r->minutes, m1, sizeof m1));
                printf(")");
            }
            if (r->url && r->title) printf(" %s", r->url);
            putchar('\n');
        }
    }
    printf("\nRequired by:%s\n", c->ndependents ? "" : " none");
    for (size_t i = 0; i < c->ndependents; i++) print_ref(&c->dependents[i], "  ");
    if (c->nrecommended_by) {
        printf("\nRecommended before:\n");
        for (size_t i = 0; i < c->nrecommended_by; i++) print_ref(&c->recommended_by[i], "  ");
    }
}

int cmd_show(kgp_cli *cli, int argc, char **argv)
{
    cli_parser p;
    cli_parse_init(&p, argc, argv, NULL);
    const char *arg;
    for (int o; (o = cli_parse(&p, &arg)) != -1; )
        if (o == -2) { cli_parse_free(&p); return KGP_EUSAGE; }
    int nops = argc - p.first;
    char **ops = argv + p.first;
    cli_parse_free(&p);
    if (nops != 1) {
        cli_error(nops ? "show: give one CONCEPT (quote a title with spaces)" : "show: no CONCEPT given");
        return cli_usage("show");
    }
    kgp_db *db;
    kgp_snap *snap;
    int rc = cli_open_snap(cli, &db, &snap);
    if (rc) return rc;
    uint32_t idx;
    kgp_concept *c = NULL;
    if ((rc = cli_lookup(snap, ops[0], &idx)) == 0) {
        kgp_status st = kgp_concept_get(snap, idx, &c);
        if (st) rc = cli_fail(st, kgp_snap_errmsg(snap));
        else if (cli->json) rc = cli_json_print(cli_concept_json(c));
        else print_concept(c);
    }
    kgp_concept_free(c);
    kgp_snap_close(snap);
    kgp_db_close(db);
    return rc;
}

/* ---- stats ---- */

int cmd_stats(kgp_cli *cli, int argc, char **argv)
{
    cli_parser p;
    cli_parse_init(&p, argc, argv, NULL);
    const char *arg;
    for (int o; (o = cli_parse(&p, &arg)) != -1; )
        if (o == -2) { cli_parse_free(&p); return KGP_EUSAGE; }
    int nops = argc - p.first;
    cli_parse_free(&p);
    if (nops) { cli_error("stats: unexpected argument '%s'", argv[p.first]); return cli_usage("stats"); }
    kgp_db *db;
    kgp_snap *snap;
    int rc = cli_open_snap(cli, &db, &snap);
    if (rc) return rc;
    kgp_stats s;
    kgp_status st = kgp_snap_stats(snap, &s);
    if (st) {
        rc = cli_fail(st, kgp_snap_errmsg(snap));
    } else {
        uint32_t nc = kgp_snap_course_count(snap);
        uint32_t *per = calloc(nc ? nc : 1, sizeof *per);
        kgp_iter *it;
        for (uint32_t c = 0; per && c < nc; c++)
            if (kgp_iter_open(snap, kgp_snap_course_id(snap, c), &it) == KGP_OK) {
                uint32_t i;
                while (kgp_iter_next(it, &i)) per[c]++;
                kgp_iter_close(it);
            }
        if (cli->json) {
            json_t *o = json_object(), *cs = json_array();
            json_object_set_new(o, "database", json_string(kgp_db_path(db)));
            json_object_set_new(o, "courses", json_integer((json_int_t)s.courses));
            json_object_set_new(o, "units", json_integer((json_int_t)s.units));
            json_object_set_new(o, "concepts", json_integer((json_int_t)s.concepts));
            json_object_set_new(o, "groups", json_integer((json_int_t)s.groups));
            json_object_set_new(o, "plain_groups", json_integer((json_int_t)s.plain_groups));
            json_object_set_new(o, "edges", json_integer((json_int_t)s.edges));
            json_object_set_new(o, "recommends", json_integer((json_int_t)s.recommends));
            json_object_set_new(o, "unresolved", json_integer((json_int_t)s.unresolved));
            json_object_set_new(o, "resources", json_integer((json_int_t)s.resources));
            json_object_set_new(o, "goals", json_integer((json_int_t)s.goals));
            json_object_set_new(o, "minutes", json_real(s.minutes));
            json_object_set_new(o, "db_bytes", json_integer((json_int_t)s.db_bytes));
            json_object_set_new(o, "map_bytes", json_integer((json_int_t)s.map_bytes));
            for (uint32_t c = 0; c < nc; c++)
                json_array_append_new(cs, json_pack("{s:s, s:o, s:i, s:s}", "id", kgp_snap_course_id(snap, c),
                    "title", cli_json_str(kgp_snap_course_title(snap, c)), "concepts", (json_int_t)(per ? per[c] : 0),
                    "course_order", kgp_snap_course_order(snap, c) ? "required" : "recommended"));
            json_object_set_new(o, "per_course", cs);
            rc = cli_json_print(o);
        } else {
            char m[32];
            printf("database:             %s\n", kgp_db_path(db));
            printf("courses:              %llu\n", (unsigned long long)s.courses);
            printf("units:                %llu\n", (unsigned long long)s.units);
            printf("concepts:             %llu\n", (unsigned long long)s.concepts);
            printf("requirement groups:   %llu (%llu plain, %llu k-of-n)\n", (unsigned long long)s.groups,
                   (unsigned long long)s.plain_groups, (unsigned long long)(s.groups - s.plain_groups));
            printf("prerequisite edges:   %llu\n", (unsigned long long)s.edges);
            printf("recommended edges:    %llu\n", (unsigned long long)s.recommends);
            printf("unresolved refs:      %llu\n", (unsigned long long)s.unresolved);
            printf("learning goals:       %llu\n", (unsigned long long)s.goals);
            printf("resources:            %llu\n", (unsigned long long)s.resources);
            printf("total time:           %s\n", cli_fmt_minutes(s.minutes, m, sizeof m));
            printf("file size:            %.1f KiB (map %.0f MiB)\n", (double)s.db_bytes / 1024.0,
                   (double)s.map_bytes / 1048576.0);
            for (uint32_t c = 0; c < nc; c++)
                printf("  %s%*s %5u concepts  %s%s\n", kgp_snap_course_id(snap, c),
                       cli_pad(kgp_snap_course_id(snap, c), 14), "", per ? per[c] : 0,
                       kgp_snap_course_title(snap, c) ? kgp_snap_course_title(snap, c) : "",
                       kgp_snap_course_order(snap, c) ? "  (authored order required)" : "");
        }
        free(per);
    }
    kgp_snap_close(snap);
    kgp_db_close(db);
    return rc;
}

/* ---- export ---- */

/* The map with check's findings (the check is computed first: a designer
 * exporting a map wants to see what is wrong with it). */
static int export_map(kgp_snap *snap, kgp_map_options *mo, char **map, size_t *len)
{
    kgp_planner *pl = NULL;
    kgp_check *ck = NULL;
    kgp_status st = kgp_planner_open(snap, &pl);
    if (st) return cli_fail(st, "cannot open the planner");
    st = kgp_check_make(pl, &ck);
    if (st) { int rc = cli_fail(st, kgp_check_errmsg(ck)); kgp_check_free(ck); kgp_planner_close(pl); return rc; }
    mo->check = ck;
    st = kgp_map_svg(snap, mo, map, len);
    int rc = st ? cli_fail(st, kgp_snap_errmsg(snap)) : 0;
    kgp_check_free(ck);
    kgp_planner_close(pl);
    return rc;
}

int cmd_export(kgp_cli *cli, int argc, char **argv)
{
    static const cli_opt specs[] = {{"format", 'f', 1}, {"output", 'o', 1}, {"course", 0, 1},
                                    {"unit", 0, 1}, {"tag", 0, 1}, {"rankdir", 0, 1}, {0}};
    const char *format = "json", *output = NULL;
    kgp_map_options mo = {0};
    cli_parser p;
    cli_parse_init(&p, argc, argv, specs);
    const char *arg;
    for (int o; (o = cli_parse(&p, &arg)) != -1; ) {
        if (o == -2) { cli_parse_free(&p); return KGP_EUSAGE; }
        switch (o) {
        case 0: format = arg; break;
        case 1: output = arg; break;
        case 2: mo.course = arg; break;
        case 3: mo.unit = arg; break;
        case 4: mo.tag = arg; break;
        default: mo.rankdir = arg; break;
        }
    }
    int nops = argc - p.first;
    cli_parse_free(&p);
    if (nops) { cli_error("export: unexpected argument '%s'", argv[p.first]); return cli_usage("export"); }
    int svg = !strcmp(format, "svg");
    if (strcmp(format, "json") && strcmp(format, "dot") && strcmp(format, "graphml") && !svg) {
        cli_error("export: unknown format '%s' (json, dot, graphml or svg)", format);
        return KGP_EUSAGE;
    }
    if (!svg && (mo.course || mo.unit || mo.tag || mo.rankdir)) {
        cli_error("export: --course, --unit, --tag and --rankdir apply to --format svg only");
        return KGP_EUSAGE;
    }
    kgp_db *db;
    kgp_snap *snap;
    int rc = cli_open_snap(cli, &db, &snap);
    if (rc) return rc;
    char *map = NULL;
    size_t maplen = 0;
    if (svg && (rc = export_map(snap, &mo, &map, &maplen)) != 0) {
        kgp_snap_close(snap);
        kgp_db_close(db);
        return rc;
    }
    cli_out out;
    if ((rc = cli_out_open(&out, output)) != 0) {
        kgp_map_free(map);
        kgp_snap_close(snap);
        kgp_db_close(db);
        return rc;
    }
    kgp_status st = KGP_OK;
    errno = 0;
    if (svg && fwrite(map, 1, maplen, out.f) != maplen) st = KGP_EIO;
    else if (!svg) st = kgp_export(snap, format, out.f);
    int saved = errno;      /* a failed write's reason */
    kgp_map_free(map);
    rc = cli_out_close(&out, st, saved, svg ? "the map" : "the export", kgp_snap_errmsg(snap));
    kgp_snap_close(snap);
    kgp_db_close(db);
    return rc;
}
