/* Helpers shared by the CLI commands (src/cli_*.c). Only the public API. */
#ifndef KGP_CLI_UTIL_H
#define KGP_CLI_UTIL_H

#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

#include "cli.h"
#include "base/file.h"

/* Prints "kgpath: message\n" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "kgpath: warning: message\n" to stderr (unless cli->quiet). */
void cli_warn(const kgp_cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Warns on stderr about a learner state taken for planning: a learner
 * without events (planned as a new one) and events dated after the state's
 * time (ignored). `what` names the command. In cli_learner.c. */
struct kgp_learner;
void cli_learner_notes(const kgp_cli *cli, const struct kgp_learner *l, const char *what);
/* Prints "kgpath: <msg or strerror(st)>" and returns st (the exit code). */
int  cli_fail(kgp_status st, const char *msg);
/* Prints "kgpath: usage: USAGE" (the first line of the command's help) plus
 * a hint, and returns KGP_EUSAGE. */
int  cli_usage(const char *command);

/* The table entry for a command name, or NULL. */
const kgp_cli_command *cli_find_command(const char *name);

/* Option parsing over a command's argv (argv[0] = command name), in the
 * manner of getopt_long: options and operands may be mixed; "--" ends the
 * options. Each spec is {long name, short char or 0, takes an argument}.
 * Returns the spec index of the next option with *arg set (NULL when the
 * option takes none), -1 at the end (operands are then argv[*first ..]
 * in their original order, moved to the end), or -2 after printing an error
 * for an unknown option or a missing argument.
 *   cli_opt specs[] = {{"format", 'f', 1}, {"output", 'o', 1}, {0}};
 *   cli_parser p; cli_parse_init(&p, argc, argv, specs);
 *   for (int o; (o = cli_parse(&p, &arg)) != -1; ) { if (o == -2) return 1; … }
 *   operands: p.argv[p.first .. p.argc-1]
 */
typedef struct cli_opt { const char *name; char shortc; int has_arg; } cli_opt;
typedef struct cli_parser {
    int argc; char **argv;
    const cli_opt *specs;
    int pos;                /* next argv index to read */
    int first;              /* after -1: index of the first operand */
    char **operands;        /* internal */
    int noperands;
    int done_opts;
} cli_parser;
void cli_parse_init(cli_parser *p, int argc, char **argv, const cli_opt *specs);
int  cli_parse(cli_parser *p, const char **arg);
void cli_parse_free(cli_parser *p);

/* Opens the database named by cli->db_path (default location when NULL);
 * prints the error and returns its status on failure (*db then NULL). */
int  cli_open_db(const kgp_cli *cli, unsigned flags, kgp_db **db);
/* Opens the database read-only and a snapshot of it; on failure prints,
 * cleans up and returns the status. A database that does not exist yet
 * counts as empty (opened read-write to create it). */
int  cli_open_snap(const kgp_cli *cli, kgp_db **db, kgp_snap **snap);
/* The database's own checkpoint folder (kgp_checkpoint_path: DB.kgmodel
 * beside the database cli->db_path names) into buf; returns 0 when it
 * holds a model (a config.json), else -1 (no database, no folder, buf too
 * small). Opens the database read-only for its path only. */
int  cli_db_checkpoint(const kgp_cli *cli, char *buf, size_t size);
/* Resolves a concept name in the snapshot, printing not-found/ambiguity
 * messages (with candidates). Returns 0 or the status. */
int  cli_lookup(kgp_snap *snap, const char *name, uint32_t *index);

/* A command's output file (-o FILE): "-" or NULL is stdout; a FILE is
 * written beside it and renamed over it by cli_out_close (base/file.h), so
 * a failed command (a full disk, a bad option found late) leaves FILE as it
 * was, or absent, and nothing beside it. A FILE that exists and is not a
 * regular file (a FIFO, /dev/null, /dev/fd/N from a shell's >(...)) is
 * written as it is: it cannot be replaced. Write to o->f. */
typedef struct cli_out {
    FILE *f;
    const char *path;       /* NULL: stdout */
    int direct;             /* path opened as it is (not a regular file) */
    kg_atomic_file af;
} cli_out;
/* Returns 0, or KGP_EIO after printing "cannot write FILE: reason". */
int  cli_out_open(cli_out *o, const char *path);
/* Ends the output. st: the writer's status (KGP_EIO: a write failed, err
 * the errno saved right after it; any other non-zero st discards FILE and
 * is printed as msg). A flush, sync or rename that fails names FILE (or
 * `what` for stdout) and the reason. Returns the exit status. */
int  cli_out_close(cli_out *o, int st, int err, const char *what, const char *msg);
/* Ends the output without a word: FILE stays as it was (a command that
 * failed before writing anything worth keeping, and said why itself). */
void cli_out_discard(cli_out *o);

/* Prints a JSON value to stdout (indent 2, keys in insertion order) with a
 * final newline and releases it. Returns 0, or KGP_EIO. NULL → KGP_ENOMEM. */
int  cli_json_print(json_t *v);
/* json_string that maps NULL to JSON null. */
json_t *cli_json_str(const char *s);
/* A number, or null when v < 0 (unknown). */
json_t *cli_json_num_or_null(double v);

/* JSON of the CLI's outputs, shared with `kgpath serve` (src/serve*.c) so
 * that both speak one contract: `kgpath show --json` (cli_graph.c) and the
 * import report of `kgpath import --json` (cli_graph.c). NULL: no memory. */
json_t *cli_concept_json(const kgp_concept *c);
json_t *cli_import_report_json(const kgp_report *r, kgp_status st);
/* The "refit" member of `kgpath observe --json` (cli_learner.c) and of
 * /v1/observe's report, after kgp_fit_if_due fitted: {"events", "events_at_last_fit",
 * "fsrs_fitted", "bkt_concepts_fitted"}. */
json_t *cli_refit_json(const kgp_fit_report *r, const kgp_fit_due_info *d);
/* The JSON of `kgpath search` / `kgpath similar` (and of the server's
 * /v1/search, /v1/similar): {query_key: query, "results": [{"concept",
 * "title", "score"}], "not_embedded": missing}. NULL when out of memory. */
json_t *cli_matches_json(const char *query_key, const char *query, const kgp_match *mt, size_t n,
                         size_t missing);

/* Progress bar on stderr, drawn only when stderr is a terminal (no output
 * otherwise). Compatible with kgp_import_options.progress (ud unused). */
void cli_progress(void *ud, size_t done, size_t total, const char *label);
/* Clears the bar line (when one was drawn). */
void cli_progress_end(void);

/* Minutes as "1 h 05 min" / "45 min" / "?" into buf. */
const char *cli_fmt_minutes(double minutes, char *buf, size_t len);

/* Spaces that pad s to `columns` terminal columns (0 when it is as wide or
 * wider): CJK characters take two columns, combining marks none, so
 * tables of ids line up whatever the script (printf's %-14s counts bytes).
 * Invalid UTF-8 counts a column per byte. O(strlen). */
int cli_pad(const char *s, int columns);

#endif
