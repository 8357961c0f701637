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
    (void)cli;
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
