/* kgpath train / suggest: learn prerequisites from the curriculum itself
 * and propose missing ones (public API: kgpath_train.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kgpath.h"
#include "kgpath_train.h"
#include "cli.h"
#include "cli_util.h"

static int parse_num(const char *opt, const char *arg, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (errno || *end || !*arg || !(v >= lo && v <= hi)) {
        cli_error("--%s must be a number in [%g, %g] (not '%s')", opt, lo, hi, arg);
        return KGP_EUSAGE;
    }
    *out = v;
    return 0;
}

typedef struct progress_ctx {
    const kgp_cli *cli;
    FILE *log;
    int tty;
} progress_ctx;

static int on_progress(void *ud, const kgp_train_progress *p)
{
    progress_ctx *c = ud;
    if (c->log) {
        json_t *j = json_pack("{s:I, s:f, s:f, s:f, s:f}", "step", (json_int_t)p->step, "loss", p->loss, "lr", p->lr,
                              "grad_norm", p->grad_norm, "seconds", p->seconds);
        if (j) {
            json_object_set_new(j, "val_loss", isnan(p->val_loss) ? json_null() : json_real(p->val_loss));
            char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
            if (s) fprintf(c->log, "%s\n", s);
            free(s);
            json_decref(j);
            fflush(c->log);
        }
    }
    if (c->cli->quiet) return 0;
    /* a progress bar: redrawn in place on a terminal, one line per 10 steps otherwise */
    if (!c->tty && p->step % 10 != 0 && p->step != p->steps && isnan(p->val_loss)) return 0;
    int width = 24, fill = p->steps > 0 ? (int)(width * p->step / p->steps) : width;
    char bar[32];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    fprintf(stderr, "%s[%s] %ld/%ld loss %.4f", c->tty ? "\r" : "", bar, p->step, p->steps, p->loss);
    if (!isnan(p->val_loss)) fprintf(stderr, " val %.4f", p->val_loss);
    fprintf(stderr, " lr %.2e %.1fs%s", p->lr, p->seconds, c->tty ? "  " : "\n");
    return 0;
}

int cmd_train(kgp_cli *cli, int argc, char **argv)
{
    static const cli_opt specs[] = {
        {"model", 'm', 1}, {"resume", 0, 1}, {"out", 'o', 1}, {"course", 'c', 1}, {"mode", 0, 1},
        {"steps", 0, 1}, {"lr", 0, 1}, {"head-lr", 0, 1}, {"val", 0, 1}, {"patience", 0, 1},
        {"max-tokens", 0, 1}, {"batch", 0, 1}, {"enc-batch", 0, 1}, {"dropout", 0, 1}, {"seed", 0, 1},
        {"threads", 0, 1}, {"log", 0, 1}, {"mlm", 0, 0}, {"vocab-size", 0, 1}, {0}};
    kgp_train_options o = {0};
    const char *log_path = NULL;
    cli_parser p;
    cli_parse_init(&p, argc, argv, specs);
    const char *arg;
    int bad = 0;
    double v;
    for (int k; !bad && (k = cli_parse(&p, &arg)) != -1;) {
        switch (k) {
        case -2: bad = 1; break;
        case 0: o.model = arg; break;
        case 1: o.resume = arg; break;
        case 2: o.out = arg; break;
        case 3: o.course = arg; break;
        case 4: o.mode = arg; break;
        case 5: bad = parse_num("steps", arg, 1, 1e7, &v); o.steps = (long)v; break;
        case 6: bad = parse_num("lr", arg, 1e-9, 1, &o.lr); break;
        case 7: bad = parse_num("head-lr", arg, 1e-9, 1, &o.head_lr); break;
        case 8: bad = parse_num("val", arg, 0, 0.5, &o.val_frac); if (o.val_frac == 0) o.val_frac = -1; break;
        case 9: bad = parse_num("patience", arg, 0, 1e6, &v); o.patience = (int)v; break;
        case 10: bad = parse_num("max-tokens", arg, 3, 512, &v); o.max_tokens = (int)v; break;
        case 11: bad = parse_num("batch", arg, 1, 1e5, &v); o.batch = (int)v; break;
        case 12: bad = parse_num("enc-batch", arg, 0, 1e6, &v); o.enc_batch = v == 0 ? -1 : (int)v; break;
        case 13: bad = parse_num("dropout", arg, 0, 0.9, &o.dropout); if (o.dropout == 0) o.dropout = -1; break;
        case 14: bad = parse_num("seed", arg, 1, 1e15, &v); o.seed = (unsigned long long)v; break;
        case 15: bad = parse_num("threads", arg, 1, 1024, &v); o.threads = (int)v; break;
        case 16: log_path = arg; break;
        case 17: o.objective = "mlm"; break;
        case 18: bad = parse_num("vocab-size", arg, 100, 1e6, &v); o.vocab_size = (int)v; break;
        }
    }
    int first = p.first;
    cli_parse_free(&p);
    if (bad) return KGP_EUSAGE;
    if (first != argc || !o.out) return cli_usage("train");
    progress_ctx pc = {cli, NULL, isatty(2)};
    if (log_path && !(pc.log = fopen(log_path, "w"))) {
        cli_error("%s: %s", log_path, strerror(errno));
        return KGP_EIO;
    }
    kgp_db *db = NULL;
    int rc = cli_open_db(cli, KGP_RDONLY, &db);
    kgp_train_report r;
    if (!rc) {
        kgp_status st = kgp_train(db, &o, on_progress, &pc, &r);
        if (pc.tty && !cli->quiet) fputc('\n', stderr);
        rc = st ? cli_fail(st, kgp_db_errmsg(db)) : 0;
    }
    if (pc.log) fclose(pc.log);
    if (!rc) {
        if (cli->json) {
            json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:f}", "checkpoint", o.out, "concepts",
                                  (json_int_t)r.concepts, "edges", (json_int_t)r.edges, "train_edges",
                                  (json_int_t)r.train_edges, "val_edges", (json_int_t)r.val_edges, "steps",
                                  (json_int_t)r.steps_done, "seconds", r.seconds);
            if (j) {
                json_object_set_new(j, "first_loss", isnan(r.first_loss) ? json_null() : json_real(r.first_loss));
                json_object_set_new(j, "last_loss", isnan(r.last_loss) ? json_null() : json_real(r.last_loss));
                json_object_set_new(j, "best_val_loss", isnan(r.best_val_loss) ? json_null() : json_real(r.best_val_loss));
            }
            rc = cli_json_print(j);
        } else {
            if (o.objective)
                printf("masked-LM pre-training on %zu concepts' text for %ld steps in %.1fs\n", r.concepts, r.steps_done,
                       r.seconds);
            else
                printf("trained on %zu concepts, %zu edges (%zu held out) for %ld steps in %.1fs\n", r.concepts,
                       r.edges, r.val_edges, r.steps_done, r.seconds);
            if (!isnan(r.first_loss)) printf("loss %.4f -> %.4f", r.first_loss, r.last_loss);
            if (!isnan(r.best_val_loss)) printf(", best validation loss %.4f", r.best_val_loss);
            printf("\n%s: %s\n", o.objective ? "BERT folder (use as --model)" : "checkpoint", o.out);
        }
    }
    kgp_db_close(db);
    return rc;
}

/* --pairs: "prerequisite<TAB>concept" lines (ids or titles). */
static int suggest_pairs(kgp_cli *cli, kgp_snap *snap, const char *ckpt, const char *path)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f) { cli_error("%s: %s", path, strerror(errno)); return KGP_ENOTFOUND; }
    uint32_t *pairs = NULL;
    char **lines = NULL;
    size_t n = 0, cap = 0, lineno = 0;
    char *line = NULL;
    size_t lcap = 0;
    int rc = 0;
    ssize_t len;
    while (!rc && (len = getline(&line, &lcap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (!len || line[0] == '#') continue;
        char *tab = strchr(line, '\t');
        if (!tab) { cli_error("%s:%zu: expected 'prerequisite<TAB>concept'", path, lineno); rc = KGP_EINPUT; break; }
        *tab = 0;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            uint32_t *np = realloc(pairs, 2 * cap * sizeof *np);
            char **nl = realloc(lines, cap * sizeof *nl);
            if (np) pairs = np;
            if (nl) lines = nl;
            if (!np || !nl) { rc = cli_fail(KGP_ENOMEM, NULL); break; }
        }
        if ((rc = cli_lookup(snap, line, &pairs[2 * n])) || (rc = cli_lookup(snap, tab + 1, &pairs[2 * n + 1]))) {
            cli_error("%s:%zu: in this line", path, lineno);
            break;
        }
        *tab = '\t';
        lines[n++] = strdup(line);
    }
    free(line);
    if (f != stdin) fclose(f);
    float *score = rc ? NULL : malloc((n + 1) * sizeof *score);
    if (!rc && !score) rc = cli_fail(KGP_ENOMEM, NULL);
    if (!rc) {
        kgp_status st = kgp_score_pairs(snap, ckpt, pairs, n, score);
        if (st) rc = cli_fail(st, kgp_snap_errmsg(snap));
    }
    if (!rc) {
        if (cli->json) {
            json_t *a = json_array();
            for (size_t k = 0; k < n; k++)
                json_array_append_new(a, json_pack("{s:s, s:s, s:f}", "prerequisite", kgp_snap_key(snap, pairs[2 * k]),
                                                   "concept", kgp_snap_key(snap, pairs[2 * k + 1]), "score",
                                                   (double)score[k]));
            rc = cli_json_print(a);
        } else
            for (size_t k = 0; k < n; k++) printf("%s\t%.6f\n", lines[k], (double)score[k]);
    }
    for (size_t k = 0; k < n; k++) free(lines[k]);
    free(lines);
    free(pairs);
    free(score);
    return rc;
}

/* --suspicious: existing edges the model scores lowest, and reversed ones. */
static int suspects(kgp_cli *cli, kgp_snap *snap, const char *ckpt, const char *course, size_t top)
{
    kgp_suspect *sp = NULL;
    size_t n = 0;
    kgp_status st = kgp_suspicious(snap, ckpt, course, top, &sp, &n);
    if (st) return cli_fail(st, kgp_snap_errmsg(snap));
    int rc = 0;
    if (cli->json) {
        json_t *a = json_array();
        for (size_t k = 0; k < n; k++)
            json_array_append_new(a, json_pack("{s:s, s:s, s:f, s:f, s:b}", "prerequisite",
                                               kgp_snap_key(snap, sp[k].prereq), "concept",
                                               kgp_snap_key(snap, sp[k].concept), "score", (double)sp[k].score,
                                               "reverse_score", (double)sp[k].reverse, "wrong_way",
                                               sp[k].reverse > sp[k].score));
        rc = cli_json_print(a);
    } else
        for (size_t k = 0; k < n; k++)
            printf("%s\t%s\t%.4f%s\n", kgp_snap_key(snap, sp[k].prereq), kgp_snap_key(snap, sp[k].concept),
                   (double)sp[k].score, sp[k].reverse > sp[k].score ? "\tpoints the wrong way?" : "");
    free(sp);
    return rc;
}

int cmd_suggest(kgp_cli *cli, int argc, char **argv)
{
    static const cli_opt specs[] = {{"checkpoint", 'm', 1}, {"course", 'c', 1}, {"min-score", 0, 1},
                                    {"top", 'k', 1}, {"pairs", 0, 1}, {"suspicious", 0, 0}, {0}};
    int suspicious = 0;
    const char *ckpt = getenv("KGPATH_CHECKPOINT"), *course = NULL, *pairs = NULL;
    double min_score = 0.5, top = 20;
    cli_parser p;
    cli_parse_init(&p, argc, argv, specs);
    const char *arg;
    int bad = 0;
    for (int k; !bad && (k = cli_parse(&p, &arg)) != -1;) {
        switch (k) {
        case -2: bad = 1; break;
        case 0: ckpt = arg; break;
        case 1: course = arg; break;
        case 2: bad = parse_num("min-score", arg, 0, 1, &min_score); break;
        case 3: bad = parse_num("top", arg, 0, 1e7, &top); break;
        case 4: pairs = arg; break;
        case 5: suspicious = 1; break;
        }
    }
    int first = p.first;
    cli_parse_free(&p);
    if (bad) return KGP_EUSAGE;
    if (first != argc) return cli_usage("suggest");
    if (!ckpt || !*ckpt) {
        cli_error("no checkpoint: pass --checkpoint DIR (written by `kgpath train --out DIR`) or set KGPATH_CHECKPOINT");
        return KGP_EUSAGE;
    }
    kgp_db *db = NULL;
    kgp_snap *snap = NULL;
    int rc = cli_open_snap(cli, &db, &snap);
    if (!rc && pairs) rc = suggest_pairs(cli, snap, ckpt, pairs);
    else if (!rc && suspicious) rc = suspects(cli, snap, ckpt, course, (size_t)top);
    else if (!rc) {
        kgp_suggestion *sg = NULL;
        size_t n = 0;
        kgp_status st = kgp_suggest(snap, ckpt, course, (float)min_score, (size_t)top, &sg, &n);
        if (st) rc = cli_fail(st, kgp_snap_errmsg(snap));
        else if (cli->json) {
            json_t *a = json_array();
            for (size_t k = 0; k < n; k++) {
                json_t *o = json_pack("{s:s, s:s, s:f}", "prerequisite", kgp_snap_key(snap, sg[k].prereq), "concept",
                                      kgp_snap_key(snap, sg[k].concept), "score", (double)sg[k].score);
                json_object_set_new(o, "evidence", sg[k].evidence == KGP_NONE
                                                       ? json_null()
                                                       : json_pack("{s:s, s:f}", "prerequisite",
                                                                   kgp_snap_key(snap, sg[k].evidence), "similarity",
                                                                   (double)sg[k].evidence_sim));
                json_array_append_new(a, o);
            }
            rc = cli_json_print(a);
        } else {
            if (!n && !cli->quiet) fprintf(stderr, "kgpath: no pair scores %.2f or more\n", min_score);
            for (size_t k = 0; k < n; k++) {
                printf("%s\t%s\t%.4f", kgp_snap_key(snap, sg[k].prereq), kgp_snap_key(snap, sg[k].concept),
                       (double)sg[k].score);
                if (sg[k].evidence != KGP_NONE)
                    printf("\tlike %s (%.2f)", kgp_snap_key(snap, sg[k].evidence), (double)sg[k].evidence_sim);
                putchar('\n');
            }
        }
        free(sg);
    }
    kgp_snap_close(snap);
    kgp_db_close(db);
    return rc;
}

int cmd_align(kgp_cli *cli, int argc, char **argv)
{
    static const cli_opt specs[] = {{"checkpoint", 'm', 1}, {"min-sim", 0, 1}, {0}};
    const char *ckpt = getenv("KGPATH_CHECKPOINT");
    double min_sim = 0.8;
    cli_parser p;
    cli_parse_init(&p, argc, argv, specs);
    const char *arg;
    int bad = 0;
    for (int k; !bad && (k = cli_parse(&p, &arg)) != -1;) {
        if (k == -2) bad = 1;
        else if (k == 0) ckpt = arg;
        else if (k == 1) bad = parse_num("min-sim", arg, -1, 1, &min_sim);
    }
    int first = p.first;
    cli_parse_free(&p);
    if (bad) return KGP_EUSAGE;
    if (first != argc - 2) return cli_usage("align");
    if (!ckpt || !*ckpt) {
        cli_error("no checkpoint: pass --checkpoint DIR (written by `kgpath train --out DIR`) or set KGPATH_CHECKPOINT");
        return KGP_EUSAGE;
    }
    kgp_db *db = NULL;
    kgp_snap *snap = NULL;
    int rc = cli_open_snap(cli, &db, &snap);
    if (!rc) {
        kgp_alignment *al = NULL;
        size_t n = 0;
        kgp_status st = kgp_align(snap, ckpt, argv[first], argv[first + 1], (float)min_sim, &al, &n);
        if (st) rc = cli_fail(st, kgp_snap_errmsg(snap));
        else if (cli->json) {
            json_t *a = json_array();
            for (size_t k = 0; k < n; k++)
                json_array_append_new(a, json_pack("{s:s, s:s, s:f}", "a", kgp_snap_key(snap, al[k].a), "b",
                                                   kgp_snap_key(snap, al[k].b), "similarity", (double)al[k].similarity));
            rc = cli_json_print(a);
        } else {
            if (!n && !cli->quiet) fprintf(stderr, "kgpath: no mutual nearest neighbours with similarity %.2f or more\n", min_sim);
            for (size_t k = 0; k < n; k++)
                printf("%s\t%s\t%.4f\n", kgp_snap_key(snap, al[k].a), kgp_snap_key(snap, al[k].b), (double)al[k].similarity);
        }
        free(al);
    }
    kgp_snap_close(snap);
    kgp_db_close(db);
    return rc;
}
