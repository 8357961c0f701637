/* kgpath serve: bearer tokens. Tokens come from the database (`kgpath token
 * create`, stored hashed) or from --token-file ("TOKEN SCOPE[,SCOPE] [NAME]"
 * lines, for secrets managed outside kgpath). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "serve.h"
#include "serve_internal.h"
#include "cli.h"
#include "cli_util.h"

typedef struct file_token { char *token; unsigned scopes; char *name; } file_token;
struct srv_tokens { file_token *v; size_t n; };

int srv_scopes_parse(const char *list, unsigned *bits)
{
    return kgp_scopes_parse(list, bits) == KGP_OK ? 0 : -1;
}

void srv_tokens_free(srv_tokens *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->n; i++) { free(t->v[i].token); free(t->v[i].name); }
    free(t->v);
    free(t);
}

int srv_tokens_load(const char *path, srv_tokens **out, char *err, size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f) { snprintf(err, errlen, "--token-file %s: %s", path, strerror(errno)); return KGP_ENOTFOUND; }
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & 077)) {
        fclose(f);
        snprintf(err, errlen, "--token-file %s: readable by others (chmod 600 it)", path);
        return KGP_EUSAGE;
    }
    srv_tokens *t = calloc(1, sizeof *t);
    char line[4096];
    unsigned lineno = 0;
    int rc = t ? 0 : KGP_ENOMEM;
    while (!rc && fgets(line, sizeof line, f)) {
        lineno++;
        char *tok = strtok(line, " \t\r\n");
        if (!tok || tok[0] == '#') continue;
        char *scopes = strtok(NULL, " \t\r\n");
        char *name = strtok(NULL, "\r\n");
        unsigned bits;
        if (!scopes || srv_scopes_parse(scopes, &bits) || strlen(tok) < 16) {
            snprintf(err, errlen, "%s:%u: expected 'TOKEN SCOPE[,SCOPE...] [NAME]' with a token of 16+ "
                     "characters and scopes among read, plan, learner, write, admin", path, lineno);
            rc = KGP_EINPUT;
            break;
        }
        file_token *v = realloc(t->v, (t->n + 1) * sizeof *v);
        if (!v) { rc = KGP_ENOMEM; break; }
        t->v = v;
        v[t->n].token = strdup(tok);
        v[t->n].scopes = bits;
        v[t->n].name = strdup(name ? name : "token-file");
        t->n++;
    }
    fclose(f);
    if (rc) { srv_tokens_free(t); if (rc == KGP_ENOMEM) snprintf(err, errlen, "out of memory"); return rc; }
    *out = t;
    return 0;
}

/* Compares in time independent of where the strings differ. */
static int same_secret(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = (unsigned char)(la != lb);
    for (size_t i = 0; i < la && i < lb; i++) d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

kgp_status srv_token_check(kgp_srv *s, srv_req *rq, const char *token, unsigned *scopes)
{
    srv_tokens *t = srv_file_tokens(s);
    for (size_t i = 0; t && i < t->n; i++)
        if (same_secret(t->v[i].token, token)) {
            *scopes = t->v[i].scopes;
            rq->token_name = t->v[i].name;
            return KGP_OK;
        }
    kgp_status st = kgp_token_check(srv_db(rq), token, scopes, rq->token_buf, sizeof rq->token_buf);
    if (!st) rq->token_name = rq->token_buf;
    return st;
}

/* ---- `kgpath token ...` ---- */

static int token_list_fn(void *ud, const char *id, const char *name, unsigned scopes, int64_t created)
{
    char sc[64], when[32];
    kgp_scopes_format(scopes, sc, sizeof sc);
    kgp_format_time(created, when, sizeof when);
    if (ud) json_array_append_new(ud, json_pack("{s:s,s:s,s:s,s:s}", "id", id, "name", name, "scopes", sc,
                                                "created", when));
    else printf("%-12s  %-20s  %-28s  %s\n", id, name, sc, when);
    return 0;
}

int cmd_token(kgp_cli *cli, int argc, char **argv)
{
    static const cli_opt specs[] = {{"scope", 's', 1}, {"name", 'n', 1}, {0}};
    cli_parser p;
    cli_parse_init(&p, argc, argv, specs);
    const char *arg, *scope = NULL, *name = NULL;
    int rc = 0;
    for (int k; !rc && (k = cli_parse(&p, &arg)) != -1; ) {
        if (k == -2) rc = KGP_EUSAGE;
        else if (k == 0) scope = arg;
        else name = arg;
    }
    int nops = p.argc - p.first;
    char **ops = p.argv + p.first;
    const char *sub = nops ? ops[0] : NULL;
    if (!rc && (!sub || (strcmp(sub, "create") && strcmp(sub, "list") && strcmp(sub, "revoke")))) {
        cli_error("token: expected create, list or revoke");
        rc = cli_usage("token");
    }
    if (!rc && !strcmp(sub, "revoke") && nops != 2) { cli_error("token revoke: give one ID"); rc = KGP_EUSAGE; }
    if (!rc && strcmp(sub, "revoke") && nops != 1) { cli_error("token %s: unexpected '%s'", sub, ops[1]); rc = KGP_EUSAGE; }
    unsigned bits = 0;
    if (!rc && !strcmp(sub, "create") && (!scope || kgp_scopes_parse(scope, &bits))) {
        cli_error("token create: --scope takes read, plan, learner, write and/or admin (comma-separated)");
        rc = KGP_EUSAGE;
    }
    char *id = !rc && nops == 2 ? strdup(ops[1]) : NULL;
    cli_parse_free(&p);
    if (rc) { free(id); return rc; }
    kgp_db *db = NULL;
    if ((rc = cli_open_db(cli, 0, &db))) { free(id); return rc; }
    kgp_status st = KGP_OK;
    if (!strcmp(sub, "create")) {
        char tok[KGP_TOKEN_SIZE], tid[KGP_TOKEN_ID_SIZE], sc[64];
        st = kgp_token_create(db, name ? name : "", bits, tok, tid);
        kgp_scopes_format(bits, sc, sizeof sc);
        if (!st && cli->json)
            rc = cli_json_print(json_pack("{s:s,s:s,s:s,s:s}", "token", tok, "id", tid, "name", name ? name : "",
                                          "scopes", sc));
        else if (!st) {
            printf("%s\n", tok);
            if (!cli->quiet)
                fprintf(stderr, "kgpath: token %s (%s) created; it is shown only this once\n", tid, sc);
        }
    } else if (!strcmp(sub, "list")) {
        json_t *arr = cli->json ? json_array() : NULL;
        st = kgp_token_list(db, token_list_fn, arr);
        if (!st && arr) rc = cli_json_print(json_pack("{s:o}", "tokens", arr));
        else json_decref(arr);
    } else {
        st = kgp_token_revoke(db, id);
        if (!st && !cli->quiet) fprintf(stderr, "kgpath: token %s revoked\n", id);
    }
    if (st) rc = cli_fail(st, kgp_db_errmsg(db));
    free(id);
    kgp_db_close(db);
    return rc;
}

/* `kgpath learner forget ID` */
int cmd_learner_forget(kgp_cli *cli, int argc, char **argv)
{
    if (argc != 2) { cli_error("learner forget: give one learner ID"); return KGP_EUSAGE; }
    kgp_db *db = NULL;
    int rc = cli_open_db(cli, 0, &db);
    if (rc) return rc;
    uint64_t n = 0;
    kgp_status st = kgp_learner_forget(db, argv[1], &n);
    if (st) rc = cli_fail(st, kgp_db_errmsg(db));
    else if (cli->json) rc = cli_json_print(json_pack("{s:s,s:I}", "forgot", argv[1], "events", (json_int_t)n));
    else if (!cli->quiet) fprintf(stderr, "kgpath: learner %s forgotten (%llu events erased)\n", argv[1],
                                  (unsigned long long)n);
    kgp_db_close(db);
    return rc;
}
