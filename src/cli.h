/* kgpath CLI: the command table and the commands' entry points.
 *
 * Adding a command: write `int cmd_NAME(kgp_cli *cli, int argc, char **argv)`
 * in src/cli_FAMILY.c, declare it below, add one line to the table in
 * src/cli_main.c, and add the file to cli_sources in src/meson.build.
 *
 * Contract of a command function: argv[0] is the command name, argv[1..] its
 * arguments with every `--db PATH` already removed (it may appear before or
 * after the command; cli->db_path holds it). `--help`/`-h` never reach the
 * command: cli_main.c prints the table entry's help text. The command
 * returns the process exit code, which is a kgp_status value (0 ok, 1 usage,
 * 2 input, 3 not found, 4 ambiguous, 5 conflict, 6 db, ...). Errors go to
 * stderr as "kgpath: message" (cli_error / cli_fail in cli_util.h); results go
 * to stdout, as JSON when cli->json (`--json`, global or per command).
 * Only the public API (kgpath.h) may be used.
 */
#ifndef KGP_CLI_H
#define KGP_CLI_H

#include "kgpath.h"

typedef struct kgp_cli {
    const char *prog;       /* "kgpath" */
    const char *db_path;    /* --db PATH, or NULL: the default location */
    int json;               /* --json anywhere on the line */
    int quiet;              /* --quiet / -q anywhere on the line */
    int no_lock;            /* --no-lock: read without the lock file */
} kgp_cli;

typedef int (*kgp_cli_fn)(kgp_cli *cli, int argc, char **argv);

typedef struct kgp_cli_command {
    const char *name;       /* "import" */
    kgp_cli_fn fn;
    const char *summary;    /* one line for `kgpath --help` */
    const char *help;       /* full text for `kgpath NAME --help`: usage line
                               first, then options; may be NULL */
} kgp_cli_command;

/* The table (cli_main.c), terminated by an entry whose name is NULL. */
extern const kgp_cli_command kgp_cli_commands[];

/* src/cli_graph.c */
int cmd_import(kgp_cli *cli, int argc, char **argv);
int cmd_show(kgp_cli *cli, int argc, char **argv);
int cmd_stats(kgp_cli *cli, int argc, char **argv);
int cmd_export(kgp_cli *cli, int argc, char **argv);

/* src/cli_encoder.c */
int cmd_encode(kgp_cli *cli, int argc, char **argv);
int cmd_embed(kgp_cli *cli, int argc, char **argv);
int cmd_search(kgp_cli *cli, int argc, char **argv);
int cmd_similar(kgp_cli *cli, int argc, char **argv);

/* Other command families: declare yours here. */

/* src/cli_train.c */
int cmd_train(kgp_cli *cli, int argc, char **argv);
int cmd_suggest(kgp_cli *cli, int argc, char **argv);
int cmd_align(kgp_cli *cli, int argc, char **argv);
int cmd_eval_prereq(kgp_cli *cli, int argc, char **argv);
/* The suspicious-edge report (`suggest --suspicious`, `check --suspicious`):
 * printed as text, or returned as a JSON array in *json when json is not
 * NULL. Returns 0 or the printed error's status. */
struct json_t;
/* The checkpoint a command uses: given (--checkpoint), else
 * $KGPATH_CHECKPOINT, else the database's own (DB.kgmodel) when `kgpath
 * train` wrote one; into *ckpt (buf holds the default's path). Checks it
 * against the snapshot: a changed graph is a warning (retrain with `kgpath
 * train`), a checkpoint of another graph an error. Returns 0 or the
 * printed error's status (KGP_EUSAGE when there is none at all). */
int cli_checkpoint(kgp_cli *cli, kgp_db *db, kgp_snap *snap, const char *given, char *buf, size_t size,
                   const char **ckpt);
int cli_suspicious_report(kgp_cli *cli, kgp_snap *snap, const char *ckpt, const char *course, size_t top,
                          struct json_t **json);

/* src/cli_learner.c */
int cmd_observe(kgp_cli *cli, int argc, char **argv);
int cmd_learner(kgp_cli *cli, int argc, char **argv);
int cmd_fit(kgp_cli *cli, int argc, char **argv);

/* src/cli_plan.c */
int cmd_plan(kgp_cli *cli, int argc, char **argv);
int cmd_next(kgp_cli *cli, int argc, char **argv);
int cmd_check(kgp_cli *cli, int argc, char **argv);

/* src/serve.c, src/serve_token.c: the HTTP server and its tokens */
int cmd_serve(kgp_cli *cli, int argc, char **argv);
int cmd_token(kgp_cli *cli, int argc, char **argv);
/* `kgpath learner forget ID`, reached through cmd_learner (argv[0] "forget"). */
int cmd_learner_forget(kgp_cli *cli, int argc, char **argv);

/* src/cli_batch.c */
int cmd_batch(kgp_cli *cli, int argc, char **argv);
int cmd_batch_merge(kgp_cli *cli, int argc, char **argv);
int cmd_snapshot_copy(kgp_cli *cli, int argc, char **argv);

#endif
