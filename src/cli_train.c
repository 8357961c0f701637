/* kgpath train / suggest: learn prerequisites from the curriculum itself
 * and propose missing ones (public API: kgpath_train.h). */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

/* --prior: "auto" (KGP_PRIOR_AUTO) or a share in (0, 1). */
static int parse_prior(const char *arg, double *out)
{
    if (!strcmp(arg, "auto")) {
        *out = KGP_PRIOR_AUTO;
        return 0;
    }
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (errno || *end || !*arg || !(v > 0 && v < 1)) {
        cli_error("--prior: expected the share of prerequisites among the pairs, above 0 and below 1, or 'auto' "
                  "(not '%s')", arg);
        return KGP_EUSAGE;
    }
    *out = v;
    return 0;
}

/* Exit status of a run interrupted by SIGINT or SIGTERM whose resumable
 * state was saved (EX_TEMPFAIL of sysexits.h: run the --resume command
 * printed to continue); distinct from every kgp_status. */
#define TRAIN_EXIT_INTERRUPTED 75
/* Default --save-every: the resumable state every this many seconds of
 * training (a run of a few seconds never writes it). */
#define TRAIN_SAVE_SECONDS 600.0

/* The signal that asks the run to stop (0: none). The handler only sets
 * it; the progress callback, after the step in flight, turns it into
 * KGP_TRAIN_INTERRUPT. SA_RESETHAND: a second Ctrl-C ends the process at
 * once (a save in flight is atomic, so the previous state stays whole). */
static volatile sig_atomic_t g_stop_signal;

static void on_stop_signal(int sig) { g_stop_signal = sig; }

typedef struct progress_ctx {
    const kgp_cli *cli;
    FILE *log;              /* --log's stream, or NULL */
    int tty;
    long lines;             /* written to the log */
    int log_err;            /* errno of the log's first failed write; 0: none */
    long save_every;        /* steps between saves of the resumable state; 0: none; -1: by time */
    double next_save;       /* by time: the run's seconds at the next save */
    long test_step;         /* $KGPATH_TEST_SIGNAL "STEP SIGNUM": tests send themselves the signal */
    int test_sig;           /* after that step, deterministically (0: none) */
} progress_ctx;

/* What the run does after step p: stop and save on a signal, save at the
 * --save-every mark, else go on. */
static int save_request(progress_ctx *c, const kgp_train_progress *p)
{
    if (c->test_sig && p->step == c->test_step) kill(getpid(), c->test_sig);
    if (g_stop_signal) return KGP_TRAIN_INTERRUPT;
    if (c->save_every > 0 && p->step % c->save_every == 0) return KGP_TRAIN_SAVE;
    if (c->save_every < 0 && p->seconds >= c->next_save) {
        c->next_save = p->seconds + TRAIN_SAVE_SECONDS;
        return KGP_TRAIN_SAVE;
    }
    return 0;
}

static int on_progress(void *ud, const kgp_train_progress *p)
{
    progress_ctx *c = ud;
    int req = save_request(c, p);
    if (c->log) {
        json_t *j = json_pack("{s:I, s:f, s:f, s:f, s:f}", "step", (json_int_t)p->step, "loss", p->loss, "lr", p->lr,
                              "grad_norm", p->grad_norm, "seconds", p->seconds);
        if (j) {
            json_object_set_new(j, "val_loss", isnan(p->val_loss) ? json_null() : json_real(p->val_loss));
            char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
            /* the log is flushed at every step, for `tail -f`; after a
             * failed write (a full disk) training goes on, the log is
             * dropped and train exits 8 naming it */
            if (s && !c->log_err) {
                errno = 0;
                if (fprintf(c->log, "%s\n", s) < 0 || fflush(c->log) != 0) c->log_err = errno ? errno : EIO;
                else c->lines++;
            }
            free(s);
            json_decref(j);
        }
    }
    if (c->cli->quiet) return req;
    /* a progress bar: redrawn in place on a terminal, one line per 10 steps otherwise */
    if (!c->tty && p->step % 10 != 0 && p->step != p->steps && isnan(p->val_loss)) return req;
    int width = 24, fill = p->steps > 0 ? (int)(width * p->step / p->steps) : width;
    char bar[32];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    fprintf(stderr, "%s[%s] %ld/%ld loss %.4f", c->tty ? "\r" : "", bar, p->step, p->steps, p->loss);
    if (!isnan(p->val_loss)) fprintf(stderr, " val %.4f", p->val_loss);
    fprintf(stderr, " lr %.2e %.1fs%s", p->lr, p->seconds, c->tty ? "  " : "\n");
    return req;
}

int cmd_train(kgp_cli *cli, int argc, char **argv)
{
    static const cli_opt specs[] = {
        {"model", 'm', 1}, {"resume", 0, 1}, {"out", 'o', 1}, {"course", 'c', 1}, {"mode", 0, 1},
        {"steps", 0, 1}, {"lr", 0, 1}, {"head-lr", 0, 1}, {"val", 0, 1}, {"patience", 0, 1},
        {"max-tokens", 0, 1}, {"batch", 0, 1}, {"enc-batch", 0, 1}, {"dropout", 0, 1}, {"seed", 0, 1},
        {"threads", 0, 1}, {"log", 0, 1}, {"mlm", 0, 0}, {"vocab-size", 0, 1}, {"views", 0, 1}, {"force", 0, 0}, {"save-every", 0, 1}, {0}};
    kgp_train_options o = {0};
    const char *log_path = NULL;
    long save_every = -1;
    int set = 0;            /* options that --resume takes from the checkpoint */
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
        case 19: bad = parse_num("views", arg, 0, 1, &o.view_prob); break;
        case 20: o.force = 1; break;
        case 21: bad = parse_num("save-every", arg, 0, 1e7, &v); save_every = (long)v; break;
        }
        if (k == 0 || k == 4 || (k >= 6 && k <= 15) || (k >= 17 && k <= 20)) set = k;
    }
    int first = p.first;
    cli_parse_free(&p);
    if (bad) return KGP_EUSAGE;
    if (first != argc) return cli_usage("train");
    if (o.resume && set) {
        cli_error("--resume continues the run with the options it was started with (only --out, --course, --steps, "
                  "--log and --save-every go with it): leave out --%s", specs[set].name);
        return KGP_EUSAGE;
    }
    progress_ctx pc = {cli, NULL, isatty(2), 0, 0, save_every, TRAIN_SAVE_SECONDS, 0, 0};
    const char *hook = getenv("KGPATH_TEST_SIGNAL");
    if (hook && sscanf(hook, "%ld %d", &pc.test_step, &pc.test_sig) != 2) pc.test_sig = 0;
    /* --log FILE is written as FILE.tmp-XXXXXX beside it (cli_out) and
     * renamed over FILE when train ends, so a run that fails before its
     * first step leaves an earlier log as it was; a run that fails later
     * keeps the steps it made (they show why). */
    cli_out log;
    if (log_path) {
        int lrc = cli_out_open(&log, log_path);
        if (lrc) return lrc;
        pc.log = log.f;
    }
    kgp_db *db = NULL;
    int rc = cli_open_db(cli, KGP_RDONLY, &db);
    kgp_train_report r;
    char defout[4096], part[4096 + sizeof KGP_PARTIAL_SUFFIX];
    size_t rl = o.resume ? strlen(o.resume) : 0, sl = strlen(KGP_PARTIAL_SUFFIX);
    /* --resume OUT.part goes on writing OUT */
    if (!o.out && rl > sl && rl - sl < sizeof defout && !strcmp(o.resume + rl - sl, KGP_PARTIAL_SUFFIX)) {
        memcpy(defout, o.resume, rl - sl);
        defout[rl - sl] = 0;
        o.out = defout;
    }
    if (!rc && !o.out && !o.objective && !kgp_checkpoint_path(kgp_db_path(db), defout, sizeof defout)) o.out = defout;
    /* Ctrl-C and a scheduler's SIGTERM end link training after the step
     * in flight, with its state saved for --resume (pre-training has none
     * to save: it keeps the default action) */
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESETHAND | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    int handled = !rc && !o.objective;
    if (handled) {
        g_stop_signal = 0;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
    }
    if (!rc) {
        kgp_status st = kgp_train(db, &o, on_progress, &pc, &r);
        if (pc.tty && !cli->quiet) fputc('\n', stderr);
        rc = st ? cli_fail(st, kgp_db_errmsg(db)) : 0;
    }
    if (handled) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
    int log_rc = 0;
    if (log_path && rc && !pc.lines && !pc.log_err) cli_out_discard(&log);
    else if (log_path) log_rc = cli_out_close(&log, pc.log_err ? KGP_EIO : 0, pc.log_err, "the log", NULL);
    if (!rc && (r.interrupted || r.finished)) {
        if (r.interrupted) kgp_checkpoint_partial_path(o.out, part, sizeof part);
        char cmd[3 * 4096 + 64] = "";
        /* the command that continues it, as the user would type it */
        if (r.interrupted) {
            size_t dl = strlen(o.out);
            int same = !strncmp(part, o.out, dl) && !strcmp(part + dl, KGP_PARTIAL_SUFFIX);
            snprintf(cmd, sizeof cmd, "kgpath%s%s%s train --resume '%s'%s%s%s", cli->db_path ? " --db '" : "",
                     cli->db_path ? cli->db_path : "", cli->db_path ? "'" : "", part, same ? "" : " --out '",
                     same ? "" : o.out, same ? "" : "'");
        }
        if (cli->json) {
            json_t *j = json_pack("{s:b, s:b, s:I, s:I}", "interrupted", r.interrupted, "finished", r.finished,
                                  "steps_done", (json_int_t)r.steps_done, "steps", (json_int_t)r.steps);
            if (j && r.interrupted) {
                json_object_set_new(j, "partial", json_string(part));
                json_object_set_new(j, "resume", json_string(cmd));
            }
            rc = cli_json_print(j);
        }
        if (r.interrupted) {
            fprintf(stderr, "kgpath: %s after step %ld of %ld; the run so far is saved in %s; continue it with:\n"
                    "  %s\n", g_stop_signal == SIGTERM ? "stopped by SIGTERM" : "interrupted by SIGINT", r.steps_done, r.steps, part, cmd);
            rc = rc ? rc : TRAIN_EXIT_INTERRUPTED;
        } else if (!cli->quiet)
            fprintf(stderr, "kgpath: %s is a finished run (%ld of %ld steps): nothing to resume, nothing written\n",
                    o.resume, r.steps_done, r.steps);
    } else if (!rc) {
        if (cli->json) {
            json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "checkpoint", o.out ? o.out : "", "concepts",
                                  (json_int_t)r.concepts, "edges", (json_int_t)r.edges, "train_edges",
                                  (json_int_t)r.train_edges, "val_edges", (json_int_t)r.val_edges,
                                  "rejected_negatives", (json_int_t)r.rejected_negatives, "steps",
                                  (json_int_t)r.steps_done, "seconds", r.seconds);
            if (j) {
                json_object_set_new(j, "graph_negatives", json_integer((json_int_t)r.graph_negatives));
                json_object_set_new(j, "first_loss", isnan(r.first_loss) ? json_null() : json_real(r.first_loss));
                json_object_set_new(j, "last_loss", isnan(r.last_loss) ? json_null() : json_real(r.last_loss));
                json_object_set_new(j, "best_val_loss", isnan(r.best_val_loss) ? json_null() : json_real(r.best_val_loss));
                json_object_set_new(j, "reused", json_boolean(r.reused));
                json_object_set_new(j, "fingerprint", json_string(r.fingerprint));
                json_object_set_new(j, "calibration", !r.calibrated ? json_null()
                                    : json_pack("{s:s, s:f, s:f, s:f, s:I, s:I, s:f, s:i}", "method", "platt", "a",
                                                r.platt_a, "b", r.platt_b, "structural", r.stack_structural,
                                                "positives", (json_int_t)r.cal_positives,
                                                "negatives", (json_int_t)r.cal_negatives, "prior", r.prior,
                                                "folds", r.cal_folds));
            }
            rc = cli_json_print(j);
        } else if (r.reused) {
            printf("the graph is unchanged since %s was trained (%zu concepts, %zu edges, fingerprint %s): reusing it "
                   "(--force trains again)\n", o.out, r.concepts, r.edges, r.fingerprint);
        } else {
            if (o.objective)
                printf("masked-LM pre-training on %zu concepts' text for %ld steps in %.1fs\n", r.concepts, r.steps_done,
                       r.seconds);
            else if (!r.calibrated)
                printf("trained on %zu concepts and %zu edges (%zu held out) for %ld steps in %.1fs\n", r.concepts,
                       r.edges, r.val_edges, r.steps_done, r.seconds);
            else if (r.graph_negatives && r.rejected_negatives)
                printf("trained on %zu concepts and %zu edges (%zu held out) for %ld steps in %.1fs; %zu rejected "
                       "suggestion%s, too few alone, so the calibration also learnt from %zu negatives the graph "
                       "implies (reversed edges, random non-edges, role pairs)\n", r.concepts, r.edges, r.val_edges,
                       r.steps_done, r.seconds, r.rejected_negatives, r.rejected_negatives == 1 ? "" : "s",
                       r.graph_negatives);
            else if (r.graph_negatives)
                printf("trained on %zu concepts and %zu edges (%zu held out) for %ld steps in %.1fs; no rejected "
                       "suggestions, so the calibration learnt from %zu negatives the graph implies (reversed edges, "
                       "random non-edges, role pairs)\n", r.concepts, r.edges, r.val_edges, r.steps_done, r.seconds,
                       r.graph_negatives);
            else
                printf("trained on %zu concepts, %zu edges (%zu held out) and %zu rejected suggestion%s as labelled "
                       "negatives for %ld steps in %.1fs\n", r.concepts, r.edges, r.val_edges, r.rejected_negatives,
                       r.rejected_negatives == 1 ? "" : "s", r.steps_done, r.seconds);
            if (!isnan(r.first_loss)) printf("loss %.4f -> %.4f", r.first_loss, r.last_loss);
            if (!isnan(r.best_val_loss)) printf(", best validation loss %.4f", r.best_val_loss);
            if (!r.calibrated && !o.objective)
                printf("\nnot calibrated: too few edges to hold any out, so suggest's scores are the model's raw "
                       "outputs, not probabilities");
            if (r.calibrated)
            {
                char cs[64] = "";
                if (r.stack_structural != 0) snprintf(cs, sizeof cs, ", structural regression %.3f", r.stack_structural);
                printf("\ncalibrated on %zu held-out edges and %zu non-edges%s (%s: a %.3f, b %.3f%s), for lists "
                       "of pairs %.0f%% prerequisites", r.cal_positives, r.cal_negatives,
                       r.cal_folds ? ", each scored by a model trained without it" : "",
                       cs[0] ? "stacked" : "Platt", r.platt_a, r.platt_b, cs, 100 * r.prior);
            }
            printf("\n%s: %s\n", o.objective ? "BERT folder (use as --model)" : "checkpoint", o.out);
        }
    }
    kgp_db_close(db);
    return rc ? rc : log_rc;
}

/* "prerequisite<TAB>concept[<TAB>anything]" lines (ids or titles; '#'
 * comments), as --pairs reads them and as suggest prints them. On success
 * *pairs holds 2n snapshot indices, *lines the lines (first two columns
 * only when cut) and *lineno their line numbers. */
typedef struct pair_list {
    uint32_t *pairs;
    char **lines;
    size_t *lineno;
    size_t n;
} pair_list;

static void pair_list_free(pair_list *pl)
{
    for (size_t k = 0; k < pl->n; k++) free(pl->lines[k]);
    free(pl->lines);
    free(pl->pairs);
    free(pl->lineno);
    memset(pl, 0, sizeof *pl);
}

static int read_pair_list(kgp_snap *snap, const char *path, int cut, pair_list *pl)
{
    memset(pl, 0, sizeof *pl);
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f) { cli_error("%s: %s", path, strerror(errno)); return KGP_ENOTFOUND; }
    size_t cap = 0, lineno = 0, lcap = 0;
    char *line = NULL;
    int rc = 0;
    ssize_t len;
    while (!rc && (len = getline(&line, &lcap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (!len || line[0] == '#') continue;
        char *tab = strchr(line, '\t');
        if (!tab) { cli_error("%s:%zu: expected 'prerequisite<TAB>concept'", path, lineno); rc = KGP_EINPUT; break; }
        *tab = 0;
        char *tab2 = strchr(tab + 1, '\t');
        if (tab2) *tab2 = 0;
        if (pl->n == cap) {
            cap = cap ? 2 * cap : 64;
            uint32_t *np = realloc(pl->pairs, 2 * cap * sizeof *np);
            if (np) pl->pairs = np;
            char **nl = realloc(pl->lines, cap * sizeof *nl);
            if (nl) pl->lines = nl;
            size_t *nn = realloc(pl->lineno, cap * sizeof *nn);
            if (nn) pl->lineno = nn;
            if (!np || !nl || !nn) { rc = cli_fail(KGP_ENOMEM, NULL); break; }
        }
        if ((rc = cli_lookup(snap, line, &pl->pairs[2 * pl->n])) ||
            (rc = cli_lookup(snap, tab + 1, &pl->pairs[2 * pl->n + 1]))) {
            cli_error("%s:%zu: in this line", path, lineno);
            break;
        }
        *tab = '\t';
        if (tab2 && !cut) *tab2 = '\t';
        pl->lineno[pl->n] = lineno;
        if (!(pl->lines[pl->n++] = strdup(line))) rc = cli_fail(KGP_ENOMEM, NULL);
    }
    free(line);
    if (f != stdin) fclose(f);
    if (rc) pair_list_free(pl);
    return rc;
}

/* --pairs: scores the listed pairs, printed as a third column. */
static int suggest_pairs(kgp_cli *cli, kgp_snap *snap, const char *ckpt, const char *path, double prior)
{
    pair_list pl;
    int rc = read_pair_list(snap, path, 1, &pl);
    if (rc) return rc;
    size_t n = pl.n;
    double used = -1;
    float *score = malloc((n + 1) * sizeof *score);
    if (!score) rc = cli_fail(KGP_ENOMEM, NULL);
    if (!rc) {
        kgp_status st = kgp_score_pairs_prior(snap, ckpt, pl.pairs, n, prior, score, &used);
        if (st) rc = cli_fail(st, kgp_snap_errmsg(snap));
    }
    if (!rc && prior > 0 && used < 0 && !cli->quiet)
        fprintf(stderr, "kgpath: the checkpoint holds no calibration (it was trained on too few edges to hold "
                "any out), so its scores are not probabilities and --prior leaves them as they are\n");
    else if (!rc && prior == KGP_PRIOR_AUTO && !cli->quiet) {
        if (n < KGP_PRIOR_AUTO_MIN)
            fprintf(stderr, "kgpath: %zu pair%s: too few to estimate their share of prerequisites (%d or more); "
                    "scored at the checkpoint's %.1f%%; --prior P sets it\n", n, n == 1 ? "" : "s",
                    KGP_PRIOR_AUTO_MIN, 100 * used);
        else
            fprintf(stderr, "kgpath: scored at an estimated %.1f%% share of prerequisites (EM over the list's "
                    "scores); --prior P sets it\n", 100 * used);
    }
    if (!rc) {
        if (cli->json) {
            /* each pair with the share its score holds for: the estimate under
             * --prior auto; null from a checkpoint without calibration */
            json_t *a = json_array();
            for (size_t k = 0; k < n; k++)
                json_array_append_new(a, json_pack("{s:s, s:s, s:f, s:o}", "prerequisite",
                                                   kgp_snap_key(snap, pl.pairs[2 * k]), "concept",
                                                   kgp_snap_key(snap, pl.pairs[2 * k + 1]), "score",
                                                   (double)score[k], "prior",
                                                   used < 0 ? json_null() : json_real(used)));
            rc = cli_json_print(a);
        } else
            for (size_t k = 0; k < n; k++) printf("%s\t%.6f\n", pl.lines[k], (double)score[k]);
    }
    pair_list_free(&pl);
    free(score);
    return rc;
}

static const char *outcome_text(int outcome)
{
    switch (outcome) {
    case KGP_ACCEPT_ADDED: return "added";
    case KGP_ACCEPT_UNKNOWN: return "no such concept";
    case KGP_ACCEPT_SELF: return "a concept cannot come before itself";
    case KGP_ACCEPT_EXISTS: return "already a requirement";
    case KGP_ACCEPT_ALREADY: return "already accepted";
    case KGP_ACCEPT_DUPLICATE: return "given twice";
    default: return "the concept already comes before the prerequisite (would close a cycle)";
    }
}

/* --accept / --accept-pairs: the chosen edges (keys, copied: the snapshot
 * and the read-only handle are closed first, so the write may grow the
 * map) become recommended edges. skip_bad: skip and warn (--accept, the
 * model's own list); otherwise one bad edge refuses all, reported at its
 * line of path. */
static int accept_edges(kgp_cli *cli, kgp_accepted *acc, size_t n, const char *ckpt, int skip_bad, int dry_run,
                        const char *path, const size_t *lineno)
{
    kgp_db *db = NULL;
    int rc = cli_open_db(cli, 0, &db);
    if (rc) return rc;
    size_t added = 0;
    /* skip_bad is --accept, the model's own list: its reasons say so (KGP_ACCEPT_TOP) */
    unsigned flags = (skip_bad ? KGP_ACCEPT_SKIP_BAD | KGP_ACCEPT_TOP : 0) | (dry_run ? KGP_ACCEPT_DRY_RUN : 0);
    kgp_status st = kgp_accept_suggestions(db, ckpt, acc, n, flags, &added);
    if (st) {
        size_t bad = 0;
        while (bad < n && acc[bad].outcome == KGP_ACCEPT_ADDED) bad++;
        if (path && bad < n) cli_error("%s:%zu: %s", path, lineno[bad], kgp_db_errmsg(db));
        else cli_error("%s", kgp_db_errmsg(db));
        kgp_db_close(db);
        return st;
    }
    size_t already = 0;
    for (size_t k = 0; k < n; k++) {
        if (acc[k].outcome == KGP_ACCEPT_ALREADY) already++;
        else if (acc[k].outcome != KGP_ACCEPT_ADDED)
            cli_warn(cli, "not accepted: %s -> %s: %s", acc[k].prereq, acc[k].concept, outcome_text(acc[k].outcome));
    }
    if (!cli->quiet) {
        fprintf(stderr, "kgpath: %s %zu of %zu suggestion%s as recommended edges", dry_run ? "would accept" : "accepted",
                added, n, n == 1 ? "" : "s");
        if (already) fprintf(stderr, " (%zu already accepted: left as %s)", already, already == 1 ? "it was" : "they were");
        fputc('\n', stderr);
    }
    kgp_db_close(db);
    return 0;
}

/* A reviewed list read for a write (--accept-pairs, --reject-pairs,
 * --unreject-pairs): the pairs' keys, copied, and scored by the model
 * ckpt when one is given (NaN otherwise). The snapshot and the read-only
 * handle are closed on return, so that the write may grow the map. */
typedef struct reviewed {
    pair_list pl;
    char **keys;            /* 2n: prerequisite, concept */
    float *score;           /* n */
} reviewed;

static void reviewed_free(reviewed *rv)
{
    for (size_t k = 0; rv->keys && k < 2 * rv->pl.n; k++) free(rv->keys[k]);
    free(rv->keys);
    free(rv->score);
    pair_list_free(&rv->pl);
}

static int read_reviewed(kgp_db **db, kgp_snap **snap, const char *ckpt, const char *path, reviewed *rv)
{
    memset(rv, 0, sizeof *rv);
    int rc = read_pair_list(*snap, path, 1, &rv->pl);
    size_t n = rv->pl.n;
    if (!rc) {
        rv->score = malloc((n + 1) * sizeof *rv->score);
        rv->keys = calloc(2 * n + 1, sizeof *rv->keys);
        if (!rv->score || !rv->keys) rc = cli_fail(KGP_ENOMEM, NULL);
    }
    for (size_t k = 0; !rc && k < n; k++) rv->score[k] = NAN;
    if (!rc && n && ckpt) {
        kgp_status st = kgp_score_pairs(*snap, ckpt, rv->pl.pairs, n, rv->score);
        if (st) rc = cli_fail(st, kgp_snap_errmsg(*snap));
    }
    for (size_t k = 0; !rc && k < 2 * n; k++)
        if (!(rv->keys[k] = strdup(kgp_snap_key(*snap, rv->pl.pairs[k])))) rc = cli_fail(KGP_ENOMEM, NULL);
    kgp_snap_close(*snap);
    kgp_db_close(*db);
    *snap = NULL;
    *db = NULL;
    if (rc) reviewed_free(rv);
    return rc;
}

/* What was written: "prerequisite<TAB>concept[<TAB>score]" lines, or JSON. */
static int print_reviewed(const kgp_cli *cli, const reviewed *rv)
{
    size_t n = rv->pl.n;
    if (cli->json) {
        json_t *a = json_array();
        for (size_t k = 0; k < n; k++) {
            json_t *o = json_pack("{s:s, s:s}", "prerequisite", rv->keys[2 * k], "concept", rv->keys[2 * k + 1]);
            if (!isnan(rv->score[k])) json_object_set_new(o, "score", json_real((double)rv->score[k]));
            json_array_append_new(a, o);
        }
        return cli_json_print(a);
    }
    for (size_t k = 0; k < n; k++) {
        printf("%s\t%s", rv->keys[2 * k], rv->keys[2 * k + 1]);
        if (!isnan(rv->score[k])) printf("\t%.4f", (double)rv->score[k]);
        putchar('\n');
    }
    return 0;
}

/* --accept-pairs FILE: a reviewed list, scored by the model for the reason. */
static int accept_pairs(kgp_cli *cli, kgp_db **db, kgp_snap **snap, const char *ckpt, const char *path, int dry_run)
{
    reviewed rv;
    int rc = read_reviewed(db, snap, ckpt, path, &rv);
    if (rc) return rc;
    size_t n = rv.pl.n;
    kgp_accepted *acc = calloc(n + 1, sizeof *acc);
    if (!acc) rc = cli_fail(KGP_ENOMEM, NULL);
    for (size_t k = 0; !rc && k < n; k++) acc[k] = (kgp_accepted){rv.keys[2 * k], rv.keys[2 * k + 1], rv.score[k], 0};
    if (!rc) rc = accept_edges(cli, acc, n, ckpt, 0, dry_run, path, rv.pl.lineno);
    if (!rc) rc = print_reviewed(cli, &rv);
    free(acc);
    reviewed_free(&rv);
    return rc;
}

/* --reject-pairs FILE (remove 0) / --unreject-pairs FILE (remove 1): a
 * designer's "no" recorded (scored by the model when a checkpoint is
 * given, kept with the reason), or taken back. Strict: one bad line
 * refuses all, reported at its line. */
static int reject_pairs(kgp_cli *cli, kgp_db **db, kgp_snap **snap, const char *ckpt, const char *path,
                        const char *reason, int dry_run, int remove)
{
    reviewed rv;
    int rc = read_reviewed(db, snap, remove ? NULL : ckpt, path, &rv);
    if (rc) return rc;
    size_t n = rv.pl.n, done = 0;
    kgp_rejection *rj = calloc(n + 1, sizeof *rj);
    if (!rj) rc = cli_fail(KGP_ENOMEM, NULL);
    for (size_t k = 0; !rc && k < n; k++)
        rj[k] = (kgp_rejection){rv.keys[2 * k], rv.keys[2 * k + 1], ckpt, rv.score[k], reason, 0, 0};
    if (!rc) rc = cli_open_db(cli, 0, db);
    if (!rc) {
        unsigned flags = dry_run ? KGP_REJECT_DRY_RUN : 0;
        kgp_status st = remove ? kgp_unreject_suggestions(*db, rj, n, flags, &done)
                               : kgp_reject_suggestions(*db, rj, n, flags, &done);
        if (st) {
            size_t bad = 0;
            while (bad < n && (rj[bad].outcome == KGP_REJECT_DONE || rj[bad].outcome == KGP_REJECT_ALREADY)) bad++;
            if (bad < n) cli_error("%s:%zu: %s", path, rv.pl.lineno[bad], kgp_db_errmsg(*db));
            else cli_error("%s", kgp_db_errmsg(*db));
            rc = st;
        }
    }
    if (!rc && !cli->quiet) {
        fprintf(stderr, "kgpath: %s %zu of %zu pair%s",
                dry_run ? (remove ? "would unreject" : "would reject") : remove ? "unrejected" : "rejected", done, n,
                n == 1 ? "" : "s");
        if (n - done) fprintf(stderr, " (%zu already rejected)", n - done);
        fputc('\n', stderr);
    }
    if (!rc) rc = print_reviewed(cli, &rv);
    free(rj);
    reviewed_free(&rv);
    return rc;
}

/* --rejected: the stored rejections, in force or ignored. */
static int list_rejected(const kgp_cli *cli, kgp_snap *snap, const char *course)
{
    kgp_rejection *rj = NULL;
    size_t n = 0;
    kgp_status st = kgp_rejections(snap, course, &rj, &n);
    if (st) return cli_fail(st, kgp_snap_errmsg(snap));
    static const char *const state[] = {"in force", "ignored: a concept is no longer in the database", "",
                                        "ignored: now an edge"};
    json_t *a = cli->json ? json_array() : NULL;
    for (size_t k = 0; k < n; k++) {
        char when[32] = "?";
        time_t t = (time_t)rj[k].time;
        struct tm tm;
        if (gmtime_r(&t, &tm)) strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        const char *st_text = state[rj[k].outcome <= KGP_REJECT_EDGE ? rj[k].outcome : 0];
        if (a) {
            json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:b}", "prerequisite", rj[k].prereq, "concept",
                                  rj[k].concept, "time", when, "model", cli_json_str(rj[k].model), "score",
                                  isnan(rj[k].score) ? json_null() : json_real((double)rj[k].score), "reason",
                                  cli_json_str(rj[k].reason), "in_force", rj[k].outcome == KGP_REJECT_DONE);
            json_array_append_new(a, o);
            continue;
        }
        printf("%s\t%s\t%s", rj[k].prereq, rj[k].concept, when);
        if (!isnan(rj[k].score)) printf("\tscore %.2f by %s", (double)rj[k].score, rj[k].model ? rj[k].model : "?");
        if (rj[k].reason) printf("\t%s", rj[k].reason);
        if (rj[k].outcome != KGP_REJECT_DONE) printf("\t(%s)", st_text);
        putchar('\n');
    }
    free(rj);
    if (a) return cli_json_print(a);
    if (!n && !cli->quiet) fprintf(stderr, "kgpath: no rejected suggestions\n");
    return 0;
}

/* --suspicious: existing edges the model scores lowest, and reversed ones
 * (also `kgpath check --suspicious`, declared in cli.h). With json, the
 * array is returned there instead of printed. */
int cli_suspicious_report(kgp_cli *cli, kgp_snap *snap, const char *ckpt, const char *course, size_t top,
                          json_t **json)
{
    kgp_suspect *sp = NULL;
    size_t n = 0;
    kgp_status st = kgp_suspicious(snap, ckpt, course, top, &sp, &n);
    if (st) return cli_fail(st, kgp_snap_errmsg(snap));
    int rc = 0;
    if (json) {
        json_t *a = json_array();
        for (size_t k = 0; a && k < n; k++)
            json_array_append_new(a, json_pack("{s:s, s:s, s:f, s:f, s:b}", "prerequisite",
                                               kgp_snap_key(snap, sp[k].prereq), "concept",
                                               kgp_snap_key(snap, sp[k].concept), "score", (double)sp[k].score,
                                               "reverse_score", (double)sp[k].reverse, "wrong_way",
                                               sp[k].reverse > sp[k].score));
        *json = a;
        if (!a) rc = cli_fail(KGP_ENOMEM, NULL);
    } else
        for (size_t k = 0; k < n; k++)
            printf("%s\t%s\t%.4f%s\n", kgp_snap_key(snap, sp[k].prereq), kgp_snap_key(snap, sp[k].concept),
                   (double)sp[k].score, sp[k].reverse > sp[k].score ? "\tpoints the wrong way?" : "");
    (void)cli;
    free(sp);
    return rc;
}

static int suspects(kgp_cli *cli, kgp_snap *snap, const char *ckpt, const char *course, size_t top)
{
    json_t *a = NULL;
    int rc = cli_suspicious_report(cli, snap, ckpt, course, top, cli->json ? &a : NULL);
    if (!rc && cli->json) rc = cli_json_print(a);
    return rc;
}

int cli_checkpoint(kgp_cli *cli, kgp_db *db, kgp_snap *snap, const char *given, char *buf, size_t size,
                   const char **ckpt)
{
    *ckpt = NULL;
    const char *c = given && *given ? given : getenv("KGPATH_CHECKPOINT");
    if (c && !*c) c = NULL;
    if (!c) {
        if (kgp_checkpoint_path(kgp_db_path(db), buf, size)) return cli_fail(KGP_EUSAGE, "the database path is too long");
        c = buf;
    }
    kgp_checkpoint_info info;
    kgp_status st = kgp_checkpoint_check(snap, c, &info);
    if (st == KGP_ENOTFOUND && c == buf) {
        cli_error("no checkpoint: run `kgpath train` first (it keeps the model in %s), or pass --checkpoint DIR", buf);
        return KGP_EUSAGE;
    }
    if (st) return cli_fail(st, kgp_snap_errmsg(snap));
    if (info.state == KGP_CKPT_OTHER) {
        cli_error("%s was trained on another graph: only %zu of its %zu concepts are in this database (run `kgpath "
                  "train` for this one)", c, info.known, info.concepts);
        return KGP_EINPUT;
    }
    if (info.state == KGP_CKPT_CHANGED)
        cli_warn(cli, "the graph changed since %s was trained (%zu concepts, %zu edges then): `kgpath train` brings "
                 "it up to date", c, info.concepts, info.edges);
    *ckpt = c;
    return 0;
}

/* Counts in *n the recommended edges in the scope (course, or all when
 * NULL) that an earlier `suggest --accept` wrote (reason ending
 * KGP_ACCEPT_TOP_MARK). Returns 0, or the exit status with the error
 * reported. O(V + E) of the scope. */
static int top_accepted(kgp_snap *snap, const char *course, size_t *n)
{
    kgp_iter *it;
    kgp_status st = kgp_iter_open(snap, course, &it);
    *n = 0;
    if (st) return cli_fail(st, kgp_snap_errmsg(snap));
    size_t ml = strlen(KGP_ACCEPT_TOP_MARK);
    uint32_t idx;
    while (!st && kgp_iter_next(it, &idx)) {
        kgp_concept *c;
        if ((st = kgp_concept_get(snap, idx, &c))) break;
        for (size_t k = 0; k < c->nrecommends; k++) {
            const char *r = c->recommends[k].reason;
            size_t rl = r ? strlen(r) : 0;
            if (rl >= ml && !strcmp(r + rl - ml, KGP_ACCEPT_TOP_MARK)) (*n)++;
        }
        kgp_concept_free(c);
    }
    kgp_iter_close(it);
    return st ? cli_fail(st, kgp_snap_errmsg(snap)) : 0;
}

int cmd_suggest(kgp_cli *cli, int argc, char **argv)
{
    static const cli_opt specs[] = {{"checkpoint", 'm', 1}, {"course", 'c', 1}, {"min-score", 0, 1},
                                    {"top", 'k', 1}, {"pairs", 0, 1}, {"suspicious", 0, 0},
                                    {"accept", 0, 0}, {"accept-pairs", 0, 1}, {"dry-run", 'n', 0},
                                    {"reject-pairs", 0, 1}, {"unreject-pairs", 0, 1}, {"rejected", 0, 0},
                                    {"reason", 0, 1}, {"prior", 0, 1}, {"more", 0, 0}, {0}};
    int suspicious = 0, accept = 0, dry_run = 0, rejected = 0, more = 0;
    double prior = -1;
    const char *ckpt = NULL, *course = NULL, *pairs = NULL, *accept_path = NULL;
    const char *reject_path = NULL, *unreject_path = NULL, *reason = NULL;
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
        case 6: accept = 1; break;
        case 7: accept_path = arg; break;
        case 8: dry_run = 1; break;
        case 9: reject_path = arg; break;
        case 10: unreject_path = arg; break;
        case 11: rejected = 1; break;
        case 12: reason = arg; break;
        case 13: bad = parse_prior(arg, &prior); break;
        case 14: more = 1; break;
        }
    }
    int first = p.first;
    cli_parse_free(&p);
    if (bad) return KGP_EUSAGE;
    if (first != argc) return cli_usage("suggest");
    if (!!pairs + suspicious + accept + !!accept_path + !!reject_path + !!unreject_path + rejected > 1) {
        cli_error("--pairs, --suspicious, --accept, --accept-pairs, --reject-pairs, --unreject-pairs and --rejected "
                  "do not go together");
        return KGP_EUSAGE;
    }
    if (dry_run && !accept && !accept_path && !reject_path && !unreject_path) {
        cli_error("--dry-run goes with --accept, --accept-pairs, --reject-pairs or --unreject-pairs");
        return KGP_EUSAGE;
    }
    if (prior > 0 && !pairs) {   /* a share or KGP_PRIOR_AUTO */
        cli_error("--prior goes with --pairs");
        return KGP_EUSAGE;
    }
    if (more && !accept) {
        cli_error("--more goes with --accept");
        return KGP_EUSAGE;
    }
    if (reason && !reject_path) {
        cli_error("--reason goes with --reject-pairs");
        return KGP_EUSAGE;
    }
    if (ckpt && !*ckpt) ckpt = NULL;
    kgp_db *db = NULL;
    kgp_snap *snap = NULL;
    char defck[4096];
    size_t ntop = 0;
    int rc = cli_open_snap(cli, &db, &snap);
    /* rejections need no model: one given scores the rejected pairs for the record */
    if (!rc && (ckpt || (!reject_path && !unreject_path && !rejected)))
        rc = cli_checkpoint(cli, db, snap, ckpt, defck, sizeof defck, &ckpt);
    if (!rc && pairs) rc = suggest_pairs(cli, snap, ckpt, pairs, prior);
    else if (!rc && accept_path) rc = accept_pairs(cli, &db, &snap, ckpt, accept_path, dry_run);
    else if (!rc && (reject_path || unreject_path))
        rc = reject_pairs(cli, &db, &snap, ckpt, reject_path ? reject_path : unreject_path, reason, dry_run,
                          !reject_path);
    else if (!rc && rejected) rc = list_rejected(cli, snap, course);
    else if (!rc && suspicious) rc = suspects(cli, snap, ckpt, course, (size_t)top);
    else if (!rc && accept && !more && !(rc = top_accepted(snap, course, &ntop)) && ntop) {
        /* --accept is not a reviewed list: run again it would take the next
         * best suggestions, which nobody has seen. Once it has written here,
         * it writes nothing more without --more (idempotent, like a list). */
        if (cli->json) rc = cli_json_print(json_array());
        if (!cli->quiet)
            fprintf(stderr, "kgpath: accepted 0 suggestions: suggest --accept already took %zu here (reason \"..."
                    KGP_ACCEPT_TOP_MARK "\"); add --more to take the model's next best, or review `kgpath suggest` "
                    "and pass the pairs to --accept-pairs\n", ntop);
    } else if (!rc) {
        kgp_suggestion *sg = NULL;
        size_t n = 0;
        kgp_status st = kgp_suggest(snap, ckpt, course, (float)min_score, (size_t)top, &sg, &n);
        if (st) rc = cli_fail(st, kgp_snap_errmsg(snap));
        else if (cli->json) {
            json_t *a = json_array();
            for (size_t k = 0; k < n; k++) {
                json_t *o = json_pack("{s:s, s:s, s:f}", "prerequisite", kgp_snap_key(snap, sg[k].prereq), "concept",
                                      kgp_snap_key(snap, sg[k].concept), "score", (double)sg[k].score);
                json_object_set_new(o, "mention", json_real((double)sg[k].mention));
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
                if (sg[k].mention >= 1.0f) printf("\tnamed in its text");
                putchar('\n');
            }
        }
        if (!rc && accept && n) {
            /* keys outlive the snapshot, which is closed before the write */
            kgp_accepted *acc = calloc(n, sizeof *acc);
            char **keys = calloc(2 * n, sizeof *keys);
            if (!acc || !keys) rc = cli_fail(KGP_ENOMEM, NULL);
            for (size_t k = 0; !rc && k < n; k++) {
                keys[2 * k] = strdup(kgp_snap_key(snap, sg[k].prereq));
                keys[2 * k + 1] = strdup(kgp_snap_key(snap, sg[k].concept));
                if (!keys[2 * k] || !keys[2 * k + 1]) rc = cli_fail(KGP_ENOMEM, NULL);
                else acc[k] = (kgp_accepted){keys[2 * k], keys[2 * k + 1], sg[k].score, 0};
            }
            kgp_snap_close(snap);
            kgp_db_close(db);
            snap = NULL;
            db = NULL;
            if (!rc) rc = accept_edges(cli, acc, n, ckpt, 1, dry_run, NULL, NULL);
            for (size_t k = 0; keys && k < 2 * n; k++) free(keys[k]);
            free(keys);
            free(acc);
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
    const char *ckpt = NULL;
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
    kgp_db *db = NULL;
    kgp_snap *snap = NULL;
    char defck[4096];
    int rc = cli_open_snap(cli, &db, &snap);
    if (!rc) rc = cli_checkpoint(cli, db, snap, ckpt, defck, sizeof defck, &ckpt);
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

/* ---- eval-prereq --------------------------------------------------------------- */

typedef struct eval_ctx { const kgp_cli *cli; } eval_ctx;

/* "0.812" or "-" for NaN (a baseline has no probabilities). */
static const char *num3(char *buf, double v)
{
    if (isnan(v)) return "-";
    snprintf(buf, 16, "%.3f", v);
    return buf;
}

static int on_fold(void *ud, const kgp_eval_report *r)
{
    const eval_ctx *c = ud;
    int f = r->folds_done - 1;
    if (c->cli->json) {
        if (!c->cli->quiet) fprintf(stderr, "kgpath: fold %d of %d done\n", f + 1, r->folds);
        return 0;
    }
    printf("fold %d (%zu labelled training pairs, %zu test pairs; kgpath trained on %zu edges and %zu rejections",
           f, r->fold_train[f], r->fold_test[f], r->fold_edges[f], r->fold_rejected[f]);
    if (r->fold_dropped[f]) printf("; %zu edges left out: they close a cycle", r->fold_dropped[f]);
    printf("; scored at a %.1f%% share of prerequisites)\n", 100 * r->fold_prior[f]);
    for (int k = 0; k < KGP_EVAL_METHODS; k++) {
        const kgp_eval_metrics *m = &r->fold[f][k];
        char a[16], b[16];
        printf("  %-32s F1@0.5 %s  best F1 %.3f  AUC %.3f  ECE %s\n", r->method[k], num3(a, m->f1), m->f1_best, m->auc,
               num3(b, m->ece));
    }
    fflush(stdout);
    return 0;
}

static json_t *num_or_null(double v) { return isnan(v) ? json_null() : json_real(v); }

static json_t *metrics_json(const kgp_eval_metrics *m)
{
    json_t *o = json_object();
    json_object_set_new(o, "precision", num_or_null(m->precision));
    json_object_set_new(o, "recall", num_or_null(m->recall));
    json_object_set_new(o, "f1", num_or_null(m->f1));
    json_object_set_new(o, "f1_best", num_or_null(m->f1_best));
    json_object_set_new(o, "auc", num_or_null(m->auc));
    json_object_set_new(o, "ece", num_or_null(m->ece));
    return o;
}

/* "0.812 ± 0.020", "0.812" for one fold, "-" when not defined. */
static void mean_sd(char *buf, size_t len, double m, double s, int folds)
{
    if (isnan(m)) snprintf(buf, len, "-");
    else if (folds > 1) snprintf(buf, len, "%.3f ± %.3f", m, s);
    else snprintf(buf, len, "%.3f", m);
}

int cmd_eval_prereq(kgp_cli *cli, int argc, char **argv)
{
    static const cli_opt specs[] = {{"model", 'm', 1}, {"datasets", 0, 1}, {"definitions", 0, 1}, {"folds", 0, 1},
                                    {"steps", 0, 1}, {"tokens", 0, 1}, {"mode", 0, 1}, {"seed", 0, 1},
                                    {"threads", 0, 1}, {"csv", 0, 1}, {"pairs", 0, 1},
                                    {"prior", 0, 1}, {"write-folds", 0, 1}, {0}};
    kgp_eval_options o = {0};
    cli_parser p;
    cli_parse_init(&p, argc, argv, specs);
    const char *arg;
    int bad = 0;
    double v;
    for (int k; !bad && (k = cli_parse(&p, &arg)) != -1;) {
        switch (k) {
        case -2: bad = 1; break;
        case 0: o.model = arg; break;
        case 1: o.datasets_dir = arg; break;
        case 2: o.definitions = arg; break;
        case 3: bad = parse_num("folds", arg, 2, KGP_EVAL_MAX_FOLDS, &v); o.folds = (int)v; break;
        case 4: bad = parse_num("steps", arg, 1, 1e7, &v); o.steps = (long)v; break;
        case 5: bad = parse_num("tokens", arg, 3, 512, &v); o.max_tokens = (int)v; break;
        case 6: o.mode = arg; break;
        case 7: bad = parse_num("seed", arg, 1, 1e15, &v); o.seed = (unsigned long long)v; break;
        case 8: bad = parse_num("threads", arg, 1, 1024, &v); o.threads = (int)v; break;
        case 9: o.csv = arg; break;
        case 10: o.pairs = arg; break;
        case 11: bad = parse_prior(arg, &o.prior); break;
        case 12: o.write_folds = arg; break;
        }
    }
    int first = p.first;
    cli_parse_free(&p);
    if (bad) return KGP_EUSAGE;
    if (o.csv || o.pairs) {
        if (first != argc || !o.csv || !o.pairs) return cli_usage("eval-prereq");
    } else if (first != argc - 1) return cli_usage("eval-prereq");
    else o.dataset = argv[first];
    if (o.prior > 0 && !o.csv) {
        cli_error("--prior goes with --csv (a dataset's folds are scored at their test pairs' share)");
        return KGP_EUSAGE;
    }
    kgp_eval_report *r = malloc(sizeof *r);
    if (!r) return cli_fail(KGP_ENOMEM, NULL);
    if (o.write_folds) {   /* the folds as a user's files; nothing trained */
        kgp_status st = kgp_eval_prereq(&o, NULL, NULL, r);
        int rc = st ? cli_fail(st, r->errmsg) : 0;
        if (!st && !cli->quiet)
            for (int f = 0; f < r->folds_done; f++)
                printf("%s/fold%d.csv (%zu edges left out: they close a cycle), %s/fold%d.tsv (%zu test pairs)\n",
                       o.write_folds, f, r->fold_dropped[f], o.write_folds, f, r->fold_test[f]);
        free(r);
        return rc;
    }
    eval_ctx c = {cli};
    const char *model = o.model ? o.model : getenv("KGPATH_MODEL");
    if (model && !*model) model = NULL;
    const char *mode = o.mode ? o.mode : model ? "full" : "head";
    long steps = o.steps ? o.steps : 200;
    if (!cli->json)
        printf("%s %s; model %s, mode %s, %ld steps (as `kgpath train`)\n\n", o.csv ? "course" : "dataset",
               o.csv ? o.csv : o.dataset, model ? model : "(small, from scratch)", mode, steps);
    fflush(stdout);
    kgp_status st = kgp_eval_prereq(&o, on_fold, &c, r);
    int rc = 0;
    if (st) rc = cli_fail(st, r->errmsg);
    else if (cli->json) {
        json_t *j = json_object(), *ms = json_array();
        json_object_set_new(j, "dataset", json_string(r->dataset));
        json_object_set_new(j, "kind", json_string(r->kind));
        json_object_set_new(j, "concepts", json_integer((json_int_t)r->concepts));
        json_object_set_new(j, "pairs", json_integer((json_int_t)r->pairs));
        json_object_set_new(j, "positives", json_integer((json_int_t)r->positives));
        json_object_set_new(j, "model", cli_json_str(model));
        json_object_set_new(j, "mode", json_string(mode));
        json_object_set_new(j, "steps", json_integer(steps));
        json_object_set_new(j, "folds", json_integer(r->folds_done));
        json_object_set_new(j, "train_seconds", json_real(r->train_seconds));
        json_t *dropped = json_array();
        for (int f = 0; f < r->folds_done; f++) json_array_append_new(dropped, json_integer((json_int_t)r->fold_dropped[f]));
        json_object_set_new(j, "cycle_edges_left_out", dropped);
        json_t *fp = json_array();   /* the share kgpath's scores were moved to, per fold */
        for (int f = 0; f < r->folds_done; f++) json_array_append_new(fp, json_real(r->fold_prior[f]));
        json_object_set_new(j, "prior", fp);
        for (int k = 0; k < KGP_EVAL_METHODS; k++) {
            json_t *m = json_object(), *fa = json_array();
            json_object_set_new(m, "method", json_string(r->method[k]));
            for (int f = 0; f < r->folds_done; f++) json_array_append_new(fa, metrics_json(&r->fold[f][k]));
            json_object_set_new(m, "folds", fa);
            json_object_set_new(m, "mean", metrics_json(&r->mean[k]));
            json_object_set_new(m, "sd", metrics_json(&r->sd[k]));
            json_array_append_new(ms, m);
        }
        json_object_set_new(j, "methods", ms);
        rc = cli_json_print(j);
    } else {
        printf("\n%s (%s): %zu concepts, %zu pairs (%zu positive)%s\n\n", r->dataset, r->kind, r->concepts, r->pairs,
               r->positives, r->folds > 1 ? " in fold 0" : "");
        printf("| method | F1 at 0.5 | precision at 0.5 | recall at 0.5 | best-threshold F1 | ROC-AUC | ECE |\n"
               "|---|---|---|---|---|---|---|\n");
        for (int k = 0; k < KGP_EVAL_METHODS; k++) {
            const kgp_eval_metrics *m = &r->mean[k], *s = &r->sd[k];
            char c1[32], c2[32], c3[32], c4[32], c5[32], c6[32];
            int F = r->folds_done;
            mean_sd(c1, sizeof c1, m->f1, s->f1, F);
            mean_sd(c2, sizeof c2, m->precision, s->precision, F);
            mean_sd(c3, sizeof c3, m->recall, s->recall, F);
            mean_sd(c4, sizeof c4, m->f1_best, s->f1_best, F);
            mean_sd(c5, sizeof c5, m->auc, s->auc, F);
            mean_sd(c6, sizeof c6, m->ece, s->ece, F);
            printf("| %s | %s | %s | %s | %s | %s | %s |\n", r->method[k], c1, c2, c3, c4, c5, c6);
        }
        printf("\nkgpath training: %.1f s in all (%.1f s per fold)\n", r->train_seconds,
               r->folds_done ? r->train_seconds / r->folds_done : 0.0);
    }
    free(r);
    return rc;
}
