/* Helpers shared by the CLI commands. */
#include "cli_util.h"
#include <utf8proc.h>

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("kgpath: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_warn(const kgp_cli *cli, const char *fmt, ...)
{
    if (cli && cli->quiet) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("kgpath: warning: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_fail(kgp_status st, const char *msg)
{
    cli_error("%s", msg && *msg ? msg : kgp_strerror(st));
    return (int)st;
}

int cli_out_open(cli_out *o, const char *path)
{
    o->f = stdout;
    o->path = NULL;
    o->direct = 0;
    if (!path || !strcmp(path, "-")) return 0;
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        if (!(o->f = fopen(path, "w"))) {
            o->f = stdout;
            cli_error("cannot write %s: %s", path, strerror(errno));
            return KGP_EIO;
        }
        o->path = path;
        o->direct = 1;
        return 0;
    }
    int e = kg_atomic_begin(&o->af, path, 0644);
    if (!e && !(o->f = kg_atomic_stream(&o->af))) { e = errno ? errno : ENOMEM; kg_atomic_abort(&o->af); }
    if (e) {
        o->f = stdout;
        cli_error("cannot write %s: %s", path, strerror(e));
        return KGP_EIO;
    }
    o->path = path;
    return 0;
}

int cli_out_close(cli_out *o, int st, int err, const char *what, const char *msg)
{
    /* A full disk shows at a write, the flush or the rename: name the file
     * and why (a stream error's errno is the one saved after the writes). */
    int werr = 0;
    if (st == KGP_EIO || ferror(o->f)) werr = err ? err : EIO;
    else if (!st && fflush(o->f)) werr = errno;
    if (o->direct) {
        if (fclose(o->f) && !werr && !st) werr = errno;
    } else if (o->path) {
        if (!werr && !st) werr = kg_atomic_commit(&o->af);
        else kg_atomic_abort(&o->af);
    }
    if (werr) {
        cli_error("cannot write %s: %s", o->path ? o->path : what, strerror(werr));
        return KGP_EIO;
    }
    return st ? cli_fail((kgp_status)st, msg) : 0;
}

void cli_out_discard(cli_out *o)
{
    if (o->direct) fclose(o->f);
    else if (o->path) kg_atomic_abort(&o->af);
}

const kgp_cli_command *cli_find_command(const char *name)
{
    for (const kgp_cli_command *c = kgp_cli_commands; c->name; c++)
        if (strcmp(c->name, name) == 0) return c;
    return NULL;
}

int cli_usage(const char *command)
{
    const kgp_cli_command *c = command ? cli_find_command(command) : NULL;
    if (c && c->help) {
        const char *nl = strchr(c->help, '\n');
        int len = nl ? (int)(nl - c->help) : (int)strlen(c->help);
        fprintf(stderr, "kgpath: %.*s\n", len, c->help);
    } else {
        fprintf(stderr, "kgpath: usage: kgpath %s ...\n", command ? command : "COMMAND");
    }
    fprintf(stderr, "(see kgpath %s --help)\n", command ? command : "");
    return KGP_EUSAGE;
}

/* ---- option parsing ---- */

void cli_parse_init(cli_parser *p, int argc, char **argv, const cli_opt *specs)
{
    memset(p, 0, sizeof *p);
    p->argc = argc;
    p->argv = argv;
    p->specs = specs;
    p->pos = 1;
    p->operands = calloc((size_t)argc + 1, sizeof *p->operands);
}

void cli_parse_free(cli_parser *p)
{
    free(p->operands);
    p->operands = NULL;
}

/* At the end, put the operands (in order) at the end of argv. */
static int parse_finish(cli_parser *p)
{
    int k = p->argc - p->noperands;
    if (p->operands)
        for (int i = 0; i < p->noperands; i++) p->argv[k + i] = p->operands[i];
    p->first = k;
    return -1;
}

int cli_parse(cli_parser *p, const char **arg)
{
    *arg = NULL;
    if (!p->operands) { cli_error("out of memory"); return -2; }
    while (p->pos < p->argc) {
        char *a = p->argv[p->pos++];
        if (p->done_opts || a[0] != '-' || a[1] == 0) {
            p->operands[p->noperands++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) { p->done_opts = 1; continue; }
        const cli_opt *o = NULL;
        const char *inl = NULL;
        if (a[1] == '-') {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            for (const cli_opt *s = p->specs; s && s->name; s++)
                if (strlen(s->name) == len && strncmp(s->name, name, len) == 0) { o = s; break; }
            if (o && eq) inl = eq + 1;
            if (o && eq && !o->has_arg) {
                cli_error("option '--%s' takes no argument", o->name);
                return -2;
            }
        } else {
            for (const cli_opt *s = p->specs; s && s->name; s++)
                if (s->shortc && s->shortc == a[1]) { o = s; break; }
            if (o && a[2]) {
                if (!o->has_arg) { cli_error("unknown option '%s'", a); return -2; }
                inl = a + 2;
            }
        }
        if (!o) {
            cli_error("unknown option '%s' (see kgpath %s --help)", a, p->argv[0]);
            return -2;
        }
        if (o->has_arg) {
            if (inl) *arg = inl;
            else if (p->pos < p->argc) *arg = p->argv[p->pos++];
            else { cli_error("option '%s' needs an argument", a); return -2; }
        }
        return (int)(o - p->specs);
    }
    return parse_finish(p);
}

/* ---- database ---- */

int cli_open_db(const kgp_cli *cli, unsigned flags, kgp_db **db)
{
    if (cli->no_lock && !(flags & KGP_RDONLY)) {
        cli_error("--no-lock is only for commands that read (this one writes)");
        *db = NULL;
        return KGP_EUSAGE;
    }
    kgp_status st = kgp_db_open(cli->db_path, flags | (cli->no_lock ? KGP_NOLOCK : 0), db);
    if (st == KGP_ENOTFOUND && (flags & KGP_RDONLY)) {
        /* A command that only reads creates nothing: a mistyped --db must
         * not leave an empty database behind, nor let a batch job plan
         * against an empty graph without a word. */
        const char *path = *db && kgp_db_path(*db) ? kgp_db_path(*db) : cli->db_path;
        cli_error("no database at %s: import a course first (kgpath import FILE...)", path ? path : "the default path");
    } else if (st != KGP_OK) {
        cli_fail(st, *db ? kgp_db_errmsg(*db) : NULL);
    }
    if (st != KGP_OK) {
        kgp_db_close(*db);
        *db = NULL;
    }
    return (int)st;
}

int cli_open_snap(const kgp_cli *cli, kgp_db **db, kgp_snap **snap)
{
    *snap = NULL;
    int rc = cli_open_db(cli, KGP_RDONLY, db);
    if (rc) return rc;
    kgp_status st = kgp_snap_open(*db, snap);
    if (st != KGP_OK) {
        cli_fail(st, kgp_db_errmsg(*db));
        kgp_db_close(*db);
        *db = NULL;
        *snap = NULL;
    }
    return (int)st;
}

int cli_db_checkpoint(const kgp_cli *cli, char *buf, size_t size)
{
    kgp_db *db = NULL;
    kgp_status st = kgp_db_open(cli->db_path, KGP_RDONLY, &db);
    if (!st) st = kgp_checkpoint_path(kgp_db_path(db), buf, size);
    kgp_db_close(db);
    if (st) return -1;
    size_t l = strlen(buf) + 16;
    char *probe = malloc(l);
    if (!probe) return -1;
    snprintf(probe, l, "%s/config.json", buf);
    int there = access(probe, F_OK) == 0;
    free(probe);
    return there ? 0 : -1;
}

int cli_lookup(kgp_snap *snap, const char *name, uint32_t *index)
{
    kgp_status st = kgp_snap_lookup(snap, name, index);
    if (st != KGP_OK) cli_fail(st, kgp_snap_errmsg(snap));
    return (int)st;
}

/* ---- JSON ---- */

int cli_json_print(json_t *v)
{
    if (!v) return cli_fail(KGP_ENOMEM, NULL);
    int r = json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(v);
    if (r != 0 || fputc('\n', stdout) == EOF || fflush(stdout) != 0)
        return cli_fail(KGP_EIO, "cannot write to standard output");
    return 0;
}

json_t *cli_json_str(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *cli_json_num_or_null(double v)
{
    if (v < 0) return json_null();
    if (v == (double)(long long)v) return json_integer((json_int_t)v);
    return json_real(v);
}

json_t *cli_matches_json(const char *query_key, const char *query, const kgp_match *mt, size_t n,
                         size_t missing)
{
    json_t *res = json_array();
    for (size_t i = 0; res && i < n; i++)
        json_array_append_new(res, json_pack("{s:s, s:o, s:f}", "concept", mt[i].key, "title",
                                             cli_json_str(mt[i].title), "score", (double)mt[i].score));
    return res ? json_pack("{s:s, s:o, s:I}", query_key, query, "results", res, "not_embedded",
                           (json_int_t)missing) : NULL;
}

/* ---- progress ---- */

static int g_bar_drawn;

void cli_progress(void *ud, size_t done, size_t total, const char *label)
{
    (void)ud;
    if (!isatty(STDERR_FILENO) || total == 0) return;
    const int width = 30;
    int fill = (int)(done * (size_t)width / total);
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    const char *base = label ? strrchr(label, '/') : NULL;
    base = base ? base + 1 : (label ? label : "");
    fprintf(stderr, "\r[%s] %zu/%zu %-30.30s", bar, done, total, base);
    fflush(stderr);
    g_bar_drawn = 1;
}

void cli_progress_end(void)
{
    if (!g_bar_drawn) return;
    fprintf(stderr, "\r%*s\r", 80, "");
    fflush(stderr);
    g_bar_drawn = 0;
}

const char *cli_fmt_minutes(double m, char *buf, size_t len)
{
    if (m < 0) snprintf(buf, len, "?");
    else if (m >= 60) {
        long t = (long)(m + 0.5);
        snprintf(buf, len, "%ld h %02ld min", t / 60, t % 60);
    } else if (m == (double)(long)m) snprintf(buf, len, "%ld min", (long)m);
    else snprintf(buf, len, "%.1f min", m);
    return buf;
}

int cli_pad(const char *s, int columns)
{
    int w = 0;
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)(s ? s : "");
    while (*p) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, -1, &cp);
        if (n <= 0) { w++; p++; continue; }
        int cw = utf8proc_charwidth(cp);
        w += cw > 0 ? cw : 0;
        p += n;
    }
    return w < columns ? columns - w : 0;
}
