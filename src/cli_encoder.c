/* `kgpath encode`: embed texts with a BERT model, one JSON line per text. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kgpath.h"
#include "cli.h"
#include "cli_util.h"

/* Texts are embedded in chunks of this many, then printed: the output
 * streams for long inputs while the encoder still batches by length. */
#define ENCODE_CHUNK 256

static int print_chunk(kgp_model *m, char **texts, size_t n, kgp_pooling pooling, int normalize)
{
    size_t dim = kgp_model_dim(m);
    float *vec = malloc((n ? n : 1) * dim * sizeof *vec);
    if (!vec) return cli_fail(KGP_ENOMEM, NULL);
    kgp_status st = kgp_model_encode(m, (const char *const *)texts, n, pooling, normalize, vec);
    if (st) {
        free(vec);
        return cli_fail(st, kgp_model_errmsg(m));
    }
    for (size_t i = 0; i < n; i++) {
        kgp_tokens tk;
        if ((st = kgp_model_tokenize(m, texts[i], &tk))) {
            free(vec);
            return cli_fail(st, kgp_model_errmsg(m));
        }
        json_t *o = json_object(), *toks = json_array(), *emb = json_array();
        for (size_t k = 0; k < tk.n; k++) json_array_append_new(toks, json_string(tk.pieces[k]));
        for (size_t k = 0; k < dim; k++) json_array_append_new(emb, json_real(vec[i * dim + k]));
        json_object_set_new(o, "text", json_string(texts[i]));
        json_object_set_new(o, "tokens", toks);
        json_object_set_new(o, "embedding", emb);
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
        json_decref(o);
        kgp_tokens_free(&tk);
        if (!s) { free(vec); return cli_fail(KGP_ENOMEM, NULL); }
        int bad = puts(s) < 0;
        free(s);
        if (bad) { free(vec); return cli_fail(KGP_EIO, "cannot write to standard output"); }
    }
    free(vec);
    return fflush(stdout) == 0 ? 0 : cli_fail(KGP_EIO, "cannot write to standard output");
}

int cmd_encode(kgp_cli *cli, int argc, char **argv)
{
    static const cli_opt specs[] = {{"model", 'm', 1}, {"pooling", 'p', 1}, {"normalize", 'n', 0}, {0}};
    cli_parser p;
    cli_parse_init(&p, argc, argv, specs);
    const char *arg, *dir = NULL;
    kgp_pooling pooling = KGP_POOL_MEAN;
    int normalize = 0;
    for (int o; (o = cli_parse(&p, &arg)) != -1;) {
        if (o == -2) { cli_parse_free(&p); return KGP_EUSAGE; }
        if (o == 0) dir = arg;
        else if (o == 1 && kgp_pooling_parse(arg, &pooling) != KGP_OK) {
            cli_parse_free(&p);
            cli_error("--pooling must be mean, cls or pooler (not '%s')", arg);
            return KGP_EUSAGE;
        } else if (o == 2) normalize = 1;
    }
    int first = p.first;
    cli_parse_free(&p);

    kgp_model *m = NULL;
    kgp_status st = kgp_model_load(dir, &m);
    if (st) {
        int rc = cli_fail(st, kgp_model_errmsg(m));
        kgp_model_free(m);
        return rc;
    }
    if (pooling == KGP_POOL_POOLER && !kgp_model_has_pooler(m)) {
        kgp_model_free(m);
        cli_error("this model has no pooler weights: use --pooling mean or cls");
        return KGP_EUSAGE;
    }
    const char *hint = kgp_encoder_hint();
    if (hint) cli_warn(cli, "%s", hint);
    int rc = 0;
    if (first < argc) {                /* texts on the command line */
        for (int i = first; i < argc && !rc; i += ENCODE_CHUNK) {
            size_t n = (size_t)(argc - i) < ENCODE_CHUNK ? (size_t)(argc - i) : ENCODE_CHUNK;
            rc = print_chunk(m, argv + i, n, pooling, normalize);
        }
    } else {                           /* one text per line of stdin */
        char *texts[ENCODE_CHUNK];
        size_t n = 0, cap = 0;
        char *line = NULL;
        ssize_t len;
        while (!rc && (len = getline(&line, &cap, stdin)) >= 0) {
            while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
            if ((size_t)len != strlen(line)) {
                rc = cli_fail(KGP_EINPUT, "standard input: a line holds a NUL byte");
                break;
            }
            texts[n] = strdup(line);
            if (!texts[n]) { rc = cli_fail(KGP_ENOMEM, NULL); break; }
            if (++n == ENCODE_CHUNK) {
                rc = print_chunk(m, texts, n, pooling, normalize);
                while (n) free(texts[--n]);
            }
        }
        if (!rc && ferror(stdin)) rc = cli_fail(KGP_EIO, "cannot read standard input");
        if (!rc && n) rc = print_chunk(m, texts, n, pooling, normalize);
        while (n) free(texts[--n]);
        free(line);
    }
    kgp_model_free(m);
    return rc;
}

/* ---- embed / search / similar (vectors in the database) ----------------- */

/* --model DIR, else $KGPATH_MODEL, else the encoder of the database's
 * own checkpoint (DB.kgmodel, a BERT folder) when `kgpath train` wrote one. */
static int load_model(const kgp_cli *cli, const char *dir, kgp_model **m)
{
    char defck[4096];
    const char *env = getenv("KGPATH_MODEL");
    if ((!dir || !*dir) && (!env || !*env) && cli_db_checkpoint(cli, defck, sizeof defck) == 0) dir = defck;
    kgp_status st = kgp_model_load(dir, m);
    if (st) {
        int rc = cli_fail(st, kgp_model_errmsg(*m));
        kgp_model_free(*m);
        *m = NULL;
        return rc;
    }
    const char *hint = kgp_encoder_hint();
    if (hint) cli_warn(cli, "%s", hint);
    return 0;
}

int cmd_embed(kgp_cli *cli, int argc, char **argv)
{
    static const cli_opt specs[] = {{"model", 'm', 1}, {"force", 0, 0}, {0}};
    cli_parser p;
    cli_parse_init(&p, argc, argv, specs);
    const char *arg, *dir = NULL;
    int force = 0;
    for (int o; (o = cli_parse(&p, &arg)) != -1;) {
        if (o == -2) { cli_parse_free(&p); return KGP_EUSAGE; }
        if (o == 0) dir = arg;
        else force = 1;
    }
    int extra = p.first < argc;
    cli_parse_free(&p);
    if (extra) return cli_usage("embed");
    kgp_model *m = NULL;
    int rc = load_model(cli, dir, &m);
    if (rc) return rc;
    kgp_db *db = NULL;
    if ((rc = cli_open_db(cli, 0, &db))) { kgp_model_free(m); return rc; }
    kgp_embed_report r;
    kgp_status st = kgp_embed(db, m, force, cli->quiet ? NULL : cli_progress, NULL, &r);
    if (!cli->quiet) cli_progress_end();
    if (st) rc = cli_fail(st, kgp_db_errmsg(db));
    else if (cli->json) {
        json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I}", "model", kgp_model_id(m), "concepts",
                              (json_int_t)r.concepts, "embedded", (json_int_t)r.embedded, "unchanged",
                              (json_int_t)r.unchanged, "removed", (json_int_t)r.removed);
        rc = cli_json_print(o);
    } else {
        printf("embedded %zu, unchanged %zu, removed %zu (of %zu concepts; model %s)\n", r.embedded,
               r.unchanged, r.removed, r.concepts, kgp_model_id(m));
    }
    kgp_db_close(db);
    kgp_model_free(m);
    return rc;
}

static int print_matches(const kgp_cli *cli, const char *query_key, const char *query, const kgp_match *mt,
                         size_t n, size_t missing)
{
    if (cli->json) return cli_json_print(cli_matches_json(query_key, query, mt, n, missing));
    for (size_t i = 0; i < n; i++) printf("%.4f  %s  %s\n", mt[i].score, mt[i].key, mt[i].title ? mt[i].title : "");
    if (missing && !cli->quiet)
        cli_warn(cli, "%zu concept(s) have no vector for this model: run `kgpath embed`", missing);
    return 0;
}

static int parse_top(const char *arg, size_t *k)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (*end || v < 1 || v > 100000) {
        cli_error("--top must be a positive integer (not '%s')", arg);
        return KGP_EUSAGE;
    }
    *k = (size_t)v;
    return 0;
}

int cmd_search(kgp_cli *cli, int argc, char **argv)
{
    static const cli_opt specs[] = {{"model", 'm', 1}, {"top", 'k', 1}, {0}};
    cli_parser p;
    cli_parse_init(&p, argc, argv, specs);
    const char *arg, *dir = NULL;
    size_t k = 10;
    for (int o; (o = cli_parse(&p, &arg)) != -1;) {
        if (o == -2 || (o == 1 && parse_top(arg, &k))) { cli_parse_free(&p); return KGP_EUSAGE; }
        if (o == 0) dir = arg;
    }
    int first = p.first;
    cli_parse_free(&p);
    if (first >= argc) return cli_usage("search");
    size_t ql = 0;
    for (int i = first; i < argc; i++) ql += strlen(argv[i]) + 1;
    char *query = malloc(ql + 1);
    if (!query) return cli_fail(KGP_ENOMEM, NULL);
    query[0] = 0;
    for (int i = first; i < argc; i++) {
        if (i > first) strcat(query, " ");
        strcat(query, argv[i]);
    }
    kgp_model *m = NULL;
    kgp_db *db = NULL;
    kgp_snap *snap = NULL;
    kgp_match *mt = malloc(k * sizeof *mt);
    int rc = mt ? load_model(cli, dir, &m) : cli_fail(KGP_ENOMEM, NULL);
    if (!rc) rc = cli_open_snap(cli, &db, &snap);
    if (!rc) {
        size_t n = 0, missing = 0;
        kgp_status st = kgp_search(snap, m, query, k, mt, &n, &missing);
        rc = st ? cli_fail(st, kgp_snap_errmsg(snap)) : print_matches(cli, "query", query, mt, n, missing);
    }
    kgp_snap_close(snap);
    kgp_db_close(db);
    kgp_model_free(m);
    free(mt);
    free(query);
    return rc;
}

int cmd_similar(kgp_cli *cli, int argc, char **argv)
{
    static const cli_opt specs[] = {{"top", 'k', 1}, {0}};
    cli_parser p;
    cli_parse_init(&p, argc, argv, specs);
    const char *arg;
    size_t k = 10;
    for (int o; (o = cli_parse(&p, &arg)) != -1;)
        if (o == -2 || (o == 0 && parse_top(arg, &k))) { cli_parse_free(&p); return KGP_EUSAGE; }
    int first = p.first;
    cli_parse_free(&p);
    if (first != argc - 1) return cli_usage("similar");
    kgp_db *db = NULL;
    kgp_snap *snap = NULL;
    kgp_match *mt = malloc(k * sizeof *mt);
    if (!mt) return cli_fail(KGP_ENOMEM, NULL);
    int rc = cli_open_snap(cli, &db, &snap);
    uint32_t idx;
    if (!rc) rc = cli_lookup(snap, argv[first], &idx);
    if (!rc) {
        size_t n = 0;
        kgp_status st = kgp_similar(snap, idx, k, mt, &n);
        rc = st ? cli_fail(st, kgp_snap_errmsg(snap)) : print_matches(cli, "concept", kgp_snap_key(snap, idx), mt, n, 0);
    }
    kgp_snap_close(snap);
    kgp_db_close(db);
    free(mt);
    return rc;
}
