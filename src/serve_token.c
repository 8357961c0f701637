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

typedef struct file_token { char *token; unsigned scopes; char *name; } file_token;
struct srv_tokens { file_token *v; size_t n; };

static const char *const scope_names[] = {"read", "plan", "learner", "write", "admin"};

int srv_scopes_parse(const char *list, unsigned *bits)
{
    *bits = 0;
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ", ");
        if (n) {
            unsigned i = 0;
            while (i < 5 && (strlen(scope_names[i]) != n || strncmp(scope_names[i], p, n))) i++;
            if (i == 5) return -1;
            *bits |= 1u << i;
        }
        p += n;
        while (*p == ',' || *p == ' ') p++;
    }
    return *bits ? 0 : -1;
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

kgp_status srv_token_check(kgp_srv *s, const char *token, unsigned *scopes, const char **name)
{
    srv_tokens *t = srv_file_tokens(s);
    for (size_t i = 0; t && i < t->n; i++)
        if (same_secret(t->v[i].token, token)) {
            *scopes = t->v[i].scopes;
            *name = t->v[i].name;
            return KGP_OK;
        }
    return KGP_ENOTFOUND;
}
