/* kgpath train / suggest through the CLI ($KGPATH_BIN) on the sample
 * courses, starting from the tiny BERT of ../shared (skipped when absent):
 * progress and JSON-lines log, checkpoint folder, suggestions, --pairs,
 * resume, rejected suggestions, and usage errors. */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/testutil.h"

static char *g_dir;
static const char *g_bin;

static int kg(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int kg(char **out, const char *fmt, ...)
{
    char args[2048], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd '%s' && env -u KGPATH_MODEL -u KGPATH_CHECKPOINT '%s' --db '%s/k.db' %s 2>'%s/err'",
             tu_source_root(), g_bin, g_dir, args, g_dir);
    int rc = tu_run(cmd, out);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : rc;
}

static char *err_text(void)
{
    char *p = tu_path(g_dir, "err"), *t = tu_read(p, NULL);
    free(p);
    return t ? t : strdup("");
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++) n += *s == '\n';
    return n;
}

/* The JSON header of a safetensors file, read independently of
 * encoder/safetensors.c: 8-byte little-endian length, then JSON. */
static json_t *st_header(const char *path)
{
    size_t len = 0;
    char *b = tu_read(path, &len);
    ck_assert_msg(b && len >= 8, "%s unreadable", path);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | (unsigned char)b[i];
    ck_assert(n <= len - 8);
    json_error_t je;
    json_t *h = json_loadb(b + 8, (size_t)n, 0, &je);
    ck_assert_msg(h != NULL, "%s: %s", path, je.text);
    free(b);
    return h;
}

/* A checkpoint folder is what Hugging Face transformers loads: the same
 * tensor names, dtypes and shapes as the fixture's model.safetensors (saved
 * by transformers), metadata format "pt", and config.json with the
 * fixture's architecture keys and values. */
static void assert_hf_layout(const char *hf, const char *ck)
{
    char *pa = tu_path(hf, "model.safetensors"), *pb = tu_path(ck, "model.safetensors");
    json_t *a = st_header(pa), *b = st_header(pb);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(b, "__metadata__"), "format")), "pt");
    const char *k;
    json_t *v;
    json_object_foreach(a, k, v) {
        if (!strcmp(k, "__metadata__")) continue;
        json_t *w = json_object_get(b, k);
        ck_assert_msg(w != NULL, "checkpoint lacks %s", k);
        ck_assert_str_eq(json_string_value(json_object_get(w, "dtype")), json_string_value(json_object_get(v, "dtype")));
        ck_assert_msg(json_equal(json_object_get(w, "shape"), json_object_get(v, "shape")), "%s: shape differs", k);
    }
    ck_assert_uint_eq(json_object_size(a), json_object_size(b));   /* and nothing else */
    json_decref(a); json_decref(b); free(pa); free(pb);
    pa = tu_path(hf, "config.json"); pb = tu_path(ck, "config.json");
    json_error_t je;
    a = json_load_file(pa, 0, &je); b = json_load_file(pb, 0, &je);
    ck_assert(a && b);
    static const char *keys[] = {"model_type", "vocab_size", "hidden_size", "num_hidden_layers",
                                 "num_attention_heads", "intermediate_size", "max_position_embeddings",
                                 "type_vocab_size", "hidden_act", "layer_norm_eps", "pad_token_id"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        ck_assert_msg(json_equal(json_object_get(a, keys[i]), json_object_get(b, keys[i])), "config.json: %s differs", keys[i]);
    json_decref(a); json_decref(b); free(pa); free(pb);
}

/* A test's start: the tiny BERT of ../shared (NULL, after a message, when
 * it is absent), $KGPATH_BIN, a fresh work folder g_dir. */
static char *start(const char *test)
{
    const char *sh = tu_shared_dir();
    if (!sh) { fprintf(stderr, "test_train_cli: ../shared absent, skipping %s\n", test); return NULL; }
    g_bin = getenv("KGPATH_BIN");
    ck_assert(g_bin && *g_bin);
    g_dir = tu_mkdtemp();
    return tu_path(sh, "fixtures/encoder/tiny-bert");
}

static void finish(char *model)
{
    free(model);
    tu_rmrf(g_dir);
    free(g_dir);
    g_dir = NULL;
}

/* The database file, saved to compare against after a refused command. */
static char *db_save(void)
{
    char *db = tu_path(g_dir, "k.db"), *before = tu_path(g_dir, "k.db.before");
    tu_copy(db, before);
    free(db);
    return before;
}

static void db_unchanged(const char *before, const char *what)
{
    char *db = tu_path(g_dir, "k.db");
    ck_assert_msg(tu_file_cmp(before, db) == 0, "%s changed the database file", what);
    free(db);
}

START_TEST(train_and_suggest)
{
    char *model = start("train_and_suggest"), *out = NULL;
    if (!model) return;
    ck_assert_int_eq(kg(NULL, "import data/samples/linalg.xml data/samples/python-zh.xml"), 0);
    /* usage errors: unknown mode, unknown course (no model: the small one from scratch) */
    char *e;
    ck_assert_int_eq(kg(NULL, "train --model '%s' --out '%s/ck' --mode sideways", model, g_dir), 1);
    ck_assert_int_eq(kg(NULL, "train --model '%s' --out '%s/ck' --course nope", model, g_dir), 3);
    /* a short run with a log */
    ck_assert_int_eq(kg(&out, "train --model '%s' --out '%s/ck' --steps 12 --batch 8 --log '%s/log.jsonl' --json "
                        "--course linalg --seed 3", model, g_dir, g_dir), 0);
    json_error_t je;
    json_t *r = json_loads(out, 0, &je);
    ck_assert_msg(r != NULL, "%s", out);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "steps")), 12);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "concepts")), 35);
    ck_assert(json_integer_value(json_object_get(r, "edges")) > 40);
    json_decref(r);
    free(out);
    char *lp = tu_path(g_dir, "log.jsonl"), *log = tu_read(lp, NULL);
    ck_assert(log != NULL);
    ck_assert_uint_eq(count_lines(log), 12);
    r = json_loads(log, JSON_DISABLE_EOF_CHECK, &je);
    ck_assert(r && json_is_number(json_object_get(r, "loss")) && json_object_get(r, "val_loss"));
    json_decref(r);
    free(log);
    free(lp);
    static const char *files[] = {"config.json", "vocab.txt", "model.safetensors", "kgpath_heads.safetensors",
                                  "kgpath_optimizer.safetensors", "kgpath_train.json"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char *ck = tu_path(g_dir, "ck"), *f = tu_path(ck, files[i]), *t = tu_read(f, NULL);
        ck_assert_msg(t != NULL, "%s missing", files[i]);
        free(t); free(f); free(ck);
    }
    char *ckdir = tu_path(g_dir, "ck");
    assert_hf_layout(model, ckdir);
    free(ckdir);
    /* suggestions: JSON, best first, none already an edge */
    ck_assert_int_eq(kg(&out, "suggest --checkpoint '%s/ck' --course linalg --top 5 --min-score 0 --json", g_dir), 0);
    r = json_loads(out, 0, &je);
    ck_assert_msg(json_is_array(r) && json_array_size(r) == 5, "%s", out);
    double prev = 2.0;
    for (size_t i = 0; i < 5; i++) {
        json_t *o = json_array_get(r, i);
        double sc = json_real_value(json_object_get(o, "score"));
        ck_assert(sc <= prev && sc >= 0.0 && sc <= 1.0);
        prev = sc;
        double mn = json_real_value(json_object_get(o, "mention"));
        ck_assert(json_is_real(json_object_get(o, "mention")) && mn >= 0.0 && mn <= 1.0);
        ck_assert(strncmp(json_string_value(json_object_get(o, "concept")), "linalg:", 7) == 0);
    }
    json_decref(r);
    free(out);
    /* --suspicious: existing edges, lowest first, with the reverse score */
    ck_assert_int_eq(kg(&out, "suggest -m '%s/ck' --suspicious --course linalg --top 3 --json", g_dir), 0);
    r = json_loads(out, 0, &je);
    ck_assert_msg(json_is_array(r) && json_array_size(r) == 3, "%s", out);
    ck_assert(json_real_value(json_object_get(json_array_get(r, 0), "score")) <=
              json_real_value(json_object_get(json_array_get(r, 2), "score")));
    ck_assert(json_is_boolean(json_object_get(json_array_get(r, 0), "wrong_way")));
    json_decref(r);
    free(out);
    /* check --suspicious appends the same report; JSON under "suspicious" */
    ck_assert_int_eq(kg(&out, "check --suspicious -m '%s/ck' --course linalg --top 3", g_dir), 0);
    char *sus = strstr(out, "Suspicious edges");
    ck_assert_msg(sus && strstr(out, "Cycles: ") && strstr(out, "Cycles: ") < sus && count_lines(sus) == 4, "%s", out);
    free(out);
    ck_assert_int_eq(kg(&out, "check --suspicious -m '%s/ck' --course linalg --top 3 --json", g_dir), 0);
    r = json_loads(out, 0, &je);
    ck_assert_msg(json_is_object(r) && json_object_get(r, "cycles") &&
                  json_array_size(json_object_get(r, "suspicious")) == 3, "%s", out);
    ck_assert(json_is_boolean(json_object_get(json_array_get(json_object_get(r, "suspicious"), 0), "wrong_way")));
    json_decref(r);
    free(out);
    ck_assert_int_eq(kg(NULL, "check --suspicious"), 1);
    ck_assert_int_eq(kg(NULL, "check --suspicious -m '%s/nope'", g_dir), 3);
    /* align: mutual nearest neighbours across two courses, most similar first */
    ck_assert_int_eq(kg(&out, "align -m '%s/ck' --min-sim -1 --json linalg python-zh", g_dir), 0);
    r = json_loads(out, 0, &je);
    ck_assert_msg(json_is_array(r) && json_array_size(r) >= 1, "%s", out);
    for (size_t i = 0; i < json_array_size(r); i++) {
        json_t *o = json_array_get(r, i);
        ck_assert(strncmp(json_string_value(json_object_get(o, "a")), "linalg:", 7) == 0);
        ck_assert(strncmp(json_string_value(json_object_get(o, "b")), "python-zh:", 10) == 0);
    }
    json_decref(r);
    free(out);
    ck_assert_int_eq(kg(NULL, "align -m '%s/ck' linalg nope", g_dir), 3);
    ck_assert_int_eq(kg(NULL, "align -m '%s/ck' linalg", g_dir), 1);
    /* --pairs from stdin: three columns */
    ck_assert_int_eq(kg(&out, "suggest -m '%s/ck' --pairs - < tests/train_pairs.tsv", g_dir), 0);
    ck_assert_uint_eq(count_lines(out), 2);
    ck_assert(strncmp(out, "linalg:vectors\tlinalg:matrices\t0.", 33) == 0);
    free(out);
    ck_assert_int_eq(kg(NULL, "suggest -m '%s/ck' --pairs '%s/none.tsv'", g_dir, g_dir), 3);
    ck_assert_int_eq(kg(NULL, "suggest -m '%s/nope'", g_dir), 3);
    ck_assert_int_eq(kg(NULL, "suggest"), 1);
    /* resume: a finished run continues to nothing, writes nothing, says so */
    ck_assert_int_eq(kg(&out, "train --resume '%s/ck' --out '%s/ck2' --json --course linalg", g_dir, g_dir), 0);
    r = json_loads(out, 0, &je);
    ck_assert(r != NULL);
    ck_assert(json_is_true(json_object_get(r, "finished")));
    ck_assert_int_eq(json_integer_value(json_object_get(r, "steps_done")), 12);
    json_decref(r);
    free(out);
    struct stat st2;
    char *ck2 = tu_path(g_dir, "ck2");
    ck_assert(stat(ck2, &st2) != 0);
    free(ck2);
    /* masked-LM pre-training writes a BERT folder that `encode` loads */
    ck_assert_int_eq(kg(&out, "train --mlm --model '%s' --out '%s/mlm' --steps 4 --course linalg --json", model, g_dir), 0);
    r = json_loads(out, 0, &je);
    ck_assert(r && json_integer_value(json_object_get(r, "steps")) == 4);
    json_decref(r);
    free(out);
    ck_assert_int_eq(kg(&out, "encode --model '%s/mlm' 'eigenvalues'", g_dir), 0);
    ck_assert(strstr(out, "\"embedding\"") != NULL);
    free(out);
    ck_assert_int_eq(kg(NULL, "train --mlm --resume '%s/ck' --out '%s/x'", g_dir, g_dir), 1);
    /* from scratch: a WordPiece vocabulary trained on the concepts' text */
    ck_assert_int_eq(kg(NULL, "train --mlm --vocab-size 400 --out '%s/scratch' --steps 2 --course linalg", g_dir), 0);
    char *sv = tu_path(g_dir, "scratch/vocab.txt"), *vt = tu_read(sv, NULL);
    ck_assert(vt != NULL && strncmp(vt, "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n", 31) == 0);
    ck_assert_uint_le(count_lines(vt), 400);
    ck_assert(strstr(vt, "\nmatrix\n") != NULL);
    free(vt);
    free(sv);
    ck_assert_int_eq(kg(NULL, "train --model '%s/scratch' --out '%s/ck3' --steps 2 --course linalg", g_dir, g_dir), 0);
    /* title/summary views: recorded in the manifest; head mode and bad values refused */
    ck_assert_int_eq(kg(NULL, "train --model '%s' --out '%s/ckv' --steps 3 --batch 4 --course linalg --views 0.5",
                        model, g_dir), 0);
    char *mp = tu_path(g_dir, "ckv/kgpath_train.json"), *mt = tu_read(mp, NULL);
    ck_assert_msg(mt && strstr(mt, "\"view_prob\": 0.5"), "%s", mt ? mt : "(none)");
    free(mt);
    free(mp);
    ck_assert_int_eq(kg(NULL, "train --model '%s' --out '%s/ckv2' --steps 3 --mode head --views 0.5", model, g_dir), 1);
    ck_assert_int_eq(kg(NULL, "train --model '%s' --out '%s/ckv2' --steps 3 --views 2", model, g_dir), 1);
    /* --accept: suggestions become recommended edges with the model and score as reason */
    char *path = tu_path(g_dir, "acc.tsv");
    FILE *f = fopen(path, "w");
    ck_assert(f != NULL);
    /* a cycle with the line before it: the whole list is refused, at its line */
    fputs("# reviewed\nlinalg:vectors\tlinalg:positive-definite\t0.3\nlinalg:positive-definite\tlinalg:vectors\n", f);
    fclose(f);
    ck_assert_int_eq(kg(&out, "suggest -m '%s/ck' --accept-pairs '%s'", g_dir, path), 2);
    ck_assert_str_eq(out, "");
    free(out);
    e = err_text();
    ck_assert_msg(strstr(e, "acc.tsv:3:") && strstr(e, "cycle"), "%s", e);
    free(e);
    ck_assert_int_eq(kg(&out, "show linalg:positive-definite"), 0);
    ck_assert_msg(strstr(out, "suggested by model") == NULL, "%s", out);
    free(out);
    /* an existing edge; an unknown concept; the same edge twice; usage */
    f = fopen(path, "w");
    fputs("linalg:vectors\tlinalg:matrices\n", f);
    fclose(f);
    ck_assert_int_eq(kg(NULL, "suggest -m '%s/ck' --accept-pairs '%s'", g_dir, path), 2);
    e = err_text();
    ck_assert_msg(strstr(e, "acc.tsv:1:") && strstr(e, "already exists"), "%s", e);
    free(e);
    f = fopen(path, "w");
    fputs("linalg:vectors\tno-such-concept\n", f);
    fclose(f);
    ck_assert_int_eq(kg(NULL, "suggest -m '%s/ck' --accept-pairs '%s'", g_dir, path), 3);
    f = fopen(path, "w");
    fputs("linalg:vectors\tlinalg:positive-definite\nlinalg:vectors\tlinalg:positive-definite\n", f);
    fclose(f);
    ck_assert_int_eq(kg(NULL, "suggest -m '%s/ck' --accept-pairs '%s'", g_dir, path), 2);
    e = err_text();
    ck_assert_msg(strstr(e, "acc.tsv:2:") && strstr(e, "twice"), "%s", e);
    free(e);
    ck_assert_int_eq(kg(NULL, "suggest -m '%s/ck' --accept --pairs '%s'", g_dir, path), 1);
    ck_assert_int_eq(kg(NULL, "suggest -m '%s/ck' --dry-run", g_dir), 1);
    /* a dry run writes nothing */
    f = fopen(path, "w");
    fputs("linalg:vectors\tlinalg:positive-definite\n", f);
    fclose(f);
    ck_assert_int_eq(kg(NULL, "suggest -m '%s/ck' --accept-pairs '%s' --dry-run", g_dir, path), 0);
    e = err_text();
    ck_assert_msg(strstr(e, "would accept 1 of 1") != NULL, "%s", e);
    free(e);
    ck_assert_int_eq(kg(&out, "show linalg:positive-definite"), 0);
    ck_assert_msg(strstr(out, "suggested by model") == NULL, "%s", out);
    free(out);
    /* the reviewed edge is written: show, export and suggest see it */
    ck_assert_int_eq(kg(&out, "suggest -m '%s/ck' --accept-pairs '%s'", g_dir, path), 0);
    ck_assert_msg(strncmp(out, "linalg:vectors\tlinalg:positive-definite\t0.", 42) == 0, "%s", out);
    free(out);
    ck_assert_int_eq(kg(&out, "show linalg:positive-definite"), 0);
    char *rs = strstr(out, "Recommended first:");
    ck_assert_msg(rs && strstr(rs, "linalg:vectors") && strstr(rs, "suggested by model") && strstr(rs, "/ck, score 0."),
                  "%s", out);
    free(out);
    ck_assert_int_eq(kg(&out, "export"), 0);
    ck_assert(strstr(out, "\"linalg:vectors\"") != NULL);
    free(out);
    ck_assert_int_eq(kg(&out, "suggest -m '%s/ck' --course linalg --top 0 --min-score 0", g_dir), 0);
    ck_assert(strstr(out, "linalg:vectors\tlinalg:positive-definite\t") == NULL);
    ck_assert(strstr(out, "linalg:positive-definite\tlinalg:vectors\t") == NULL);
    size_t nsugg = count_lines(out);
    free(out);
    /* accepting the same reviewed list again changes nothing: exit 0, a
     * note, the database file byte-identical (before: exit 2) */
    {
        char *keep = db_save();
        ck_assert_int_eq(kg(NULL, "suggest -m '%s/ck' --accept-pairs '%s'", g_dir, path), 0);
        e = err_text();
        ck_assert_msg(strstr(e, "accepted 0 of 1 suggestion as recommended edges (1 already accepted: left as it was)"),
                      "%s", e);
        free(e);
        db_unchanged(keep, "accepting the same list again");
        free(keep);
    }
    /* --accept takes the best shown suggestion, its reason saying so; run
     * again it writes nothing (it would take the next best, unseen) and
     * says why, database byte-identical; --more takes the next best */
    ck_assert_int_eq(kg(&out, "suggest -m '%s/ck' --course linalg --top 1 --min-score 0 --accept", g_dir), 0);
    ck_assert_uint_eq(count_lines(out), 1);
    char *tab = strchr(out, '\t'), *to = tab ? strndup(tab + 1, strcspn(tab + 1, "\t")) : NULL;
    ck_assert(to != NULL);
    free(out);
    e = err_text();
    ck_assert_msg(strstr(e, "accepted 1 of 1 suggestion as recommended edges"), "%s", e);
    free(e);
    ck_assert_int_eq(kg(&out, "show '%s'", to), 0);
    ck_assert_msg(strstr(out, "/ck, score 0.") && strstr(out, ", taken by --accept\n"), "%s", out);
    free(out);
    {
        char *keep = db_save();
        ck_assert_int_eq(kg(&out, "suggest -m '%s/ck' --course linalg --top 1 --min-score 0 --accept", g_dir), 0);
        ck_assert_str_eq(out, "");
        free(out);
        e = err_text();
        ck_assert_msg(strstr(e, "accepted 0 suggestions: suggest --accept already took 1 here") &&
                      strstr(e, "--more"), "%s", e);
        free(e);
        ck_assert_int_eq(kg(&out, "suggest -m '%s/ck' --course linalg --top 1 --min-score 0 --accept -n --json",
                            g_dir), 0);
        ck_assert_str_eq(out, "[]\n");
        free(out);
        db_unchanged(keep, "suggest --accept run again");
        free(keep);
    }
    ck_assert_int_eq(kg(NULL, "suggest -m '%s/ck' --more", g_dir), 1);   /* --more goes with --accept */
    free(to);
    ck_assert_int_eq(kg(&out, "suggest -m '%s/ck' --course linalg --top 0 --min-score 0", g_dir), 0);
    nsugg = count_lines(out);
    free(out);
    /* --accept --more takes the shown suggestions; those that contradict the graph are skipped */
    ck_assert_int_eq(kg(&out, "suggest -m '%s/ck' --course linalg --top 0 --min-score 0 --accept --more --json",
                        g_dir), 0);
    r = json_loads(out, 0, &je);
    ck_assert(json_is_array(r) && json_array_size(r) == nsugg);
    json_decref(r);
    free(out);
    e = err_text();
    ck_assert_msg(strstr(e, "kgpath: accepted ") && strstr(e, "not accepted:"), "%s", e);
    free(e);
    ck_assert_int_eq(kg(&out, "suggest -m '%s/ck' --course linalg --top 0 --min-score 0", g_dir), 0);
    ck_assert_uint_eq(count_lines(out), 0);   /* every unordered pair is now ordered one way */
    free(out);
    free(path);
    finish(model);
}
END_TEST


static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert(f != NULL);
    fputs(text, f);
    fclose(f);
}

/* --reject-pairs of text refused with exit status rc and an error that
 * has both where and what; the database file as it was. */
static void refused(const char *bad, const char *text, int rc, const char *where, const char *what, const char *before)
{
    write_file(bad, text);
    ck_assert_int_eq(kg(NULL, "suggest --reject-pairs '%s'", bad), rc);
    char *e = err_text();
    ck_assert_msg(strstr(e, where) && strstr(e, what), "%s", e);
    free(e);
    db_unchanged(before, text);
}

/* The count of "rejected_negatives" a short training run reports. */
static json_int_t train_negatives(const char *model, const char *course)
{
    char *out = NULL;
    ck_assert_int_eq(kg(&out, "train --model '%s' --out '%s/ckr' --steps 2 --batch 4 --course %s --json", model, g_dir,
                        course), 0);
    json_error_t je;
    json_t *r = json_loads(out, 0, &je);
    ck_assert_msg(r && json_is_integer(json_object_get(r, "rejected_negatives")), "%s", out);
    json_int_t n = json_integer_value(json_object_get(r, "rejected_negatives"));
    json_decref(r);
    free(out);
    return n;
}

/* A designer's "no": --reject-pairs records pairs that suggest never
 * proposes again, --rejected lists them, they survive re-import, train
 * uses them as labelled negatives, --unreject-pairs takes them back; bad
 * lists are refused whole and leave the database file as it was. */
START_TEST(reject_suggestions)
{
    char *model = start("reject_suggestions"), *out = NULL, *e;
    if (!model) return;
    ck_assert_int_eq(kg(NULL, "import data/samples/linalg.xml data/samples/python-zh.xml"), 0);
    ck_assert_int_eq(kg(NULL, "train --model '%s' --out '%s/ck' --steps 6 --batch 8 --course linalg --seed 3", model,
                        g_dir), 0);
    ck_assert_int_eq(train_negatives(model, "linalg"), 0);
    char *model_path = tu_path(g_dir, "ckr/model.safetensors");
    size_t model_len = 0;
    char *model0 = tu_read(model_path, &model_len);
    ck_assert(model0 != NULL && model_len > 0);
    /* every unordered pair, then the two best, as suggest prints them (extra columns) */
    ck_assert_int_eq(kg(&out, "suggest -m '%s/ck' --course linalg --top 0 --min-score 0", g_dir), 0);
    size_t nall = count_lines(out);
    ck_assert_uint_ge(nall, 4);
    char *two = strdup(out), *cut = two;
    for (int k = 0; k < 2; k++) cut = strchr(cut, '\n') + 1;
    *cut = 0;
    free(out);
    char want[2][256];
    for (int k = 0; k < 2; k++) {   /* "prerequisite\tconcept\t" of line k */
        const char *l = two;
        for (int j = 0; j < k; j++) l = strchr(l, '\n') + 1;
        const char *t2 = strchr(strchr(l, '\t') + 1, '\t');
        snprintf(want[k], sizeof want[k], "%.*s", (int)(t2 - l + 1), l);
    }
    char *path = tu_path(g_dir, "rej.tsv"), *bad = tu_path(g_dir, "bad.tsv");
    write_file(path, two);
    /* bad lists: refused whole, nothing written; so are a dry run and reading the (absent) table */
    char *before = db_save();
    ck_assert_int_eq(kg(&out, "suggest --rejected"), 0);
    ck_assert_str_eq(out, "");
    free(out);
    db_unchanged(before, "--rejected");
    char text[1024];
    snprintf(text, sizeof text, "%slinalg:vectors\tno-such-concept\n", two);
    refused(bad, text, 3, "bad.tsv:3:", "no concept", before);
    snprintf(text, sizeof text, "# reviewed\n%sno tab here\n", two);
    refused(bad, text, 2, "bad.tsv:4:", "prerequisite<TAB>concept", before);
    snprintf(text, sizeof text, "%s%s", two, two);
    refused(bad, text, 2, "bad.tsv:3:", "twice", before);
    snprintf(text, sizeof text, "%slinalg:vectors\tlinalg:matrices\n", two);   /* an existing edge */
    refused(bad, text, 2, "bad.tsv:3:", "already an edge", before);
    ck_assert_int_eq(kg(NULL, "suggest --reject-pairs '%s/none.tsv'", g_dir), 3);
    ck_assert_int_eq(kg(NULL, "suggest --unreject-pairs '%s'", path), 2);   /* not rejected */
    e = err_text();
    ck_assert_msg(strstr(e, "rej.tsv:1:") && strstr(e, "not rejected"), "%s", e);
    free(e);
    ck_assert_int_eq(kg(NULL, "suggest --reject-pairs '%s' --dry-run", path), 0);
    e = err_text();
    ck_assert_msg(strstr(e, "would reject 2 of 2") != NULL, "%s", e);
    free(e);
    db_unchanged(before, "a refused or dry-run rejection");
    ck_assert_int_eq(kg(NULL, "suggest --rejected --pairs '%s'", path), 1);
    ck_assert_int_eq(kg(NULL, "suggest --reason why -m '%s/ck'", g_dir), 1);
    /* rejected (scored by the model, with a reason): never suggested again */
    ck_assert_int_eq(kg(&out, "suggest -m '%s/ck' --reject-pairs - --reason 'not needed' < '%s'", g_dir, path), 0);
    ck_assert_uint_eq(count_lines(out), 2);
    ck_assert_msg(strncmp(out, want[0], strlen(want[0])) == 0, "%s", out);
    free(out);
    ck_assert_int_eq(kg(&out, "suggest -m '%s/ck' --course linalg --top 0 --min-score 0", g_dir), 0);
    ck_assert_uint_eq(count_lines(out), nall - 2);
    ck_assert_msg(!strstr(out, want[0]) && !strstr(out, want[1]), "%s", out);
    free(out);
    ck_assert_int_eq(kg(&out, "suggest -m '%s/ck' --course linalg --top 1 --min-score 0 --json", g_dir), 0);
    ck_assert_msg(strstr(out, "\"prerequisite\"") && !strstr(out, "not needed"), "%s", out);
    free(out);
    /* listed, with time, model, score and reason */
    ck_assert_int_eq(kg(&out, "suggest --rejected --json --course linalg"), 0);
    json_error_t je;
    json_t *r = json_loads(out, 0, &je);
    ck_assert_msg(json_is_array(r) && json_array_size(r) == 2, "%s", out);
    for (size_t k = 0; k < 2; k++) {
        json_t *o = json_array_get(r, k);
        ck_assert_str_eq(json_string_value(json_object_get(o, "reason")), "not needed");
        ck_assert(strstr(json_string_value(json_object_get(o, "model")), "/ck") != NULL);
        double sc = json_real_value(json_object_get(o, "score"));
        ck_assert(json_is_real(json_object_get(o, "score")) && sc >= 0 && sc <= 1);
        ck_assert(json_is_true(json_object_get(o, "in_force")));
        ck_assert_uint_eq(strlen(json_string_value(json_object_get(o, "time"))), 20);
        char pc[256];
        snprintf(pc, sizeof pc, "%s\t%s\t", json_string_value(json_object_get(o, "prerequisite")),
                 json_string_value(json_object_get(o, "concept")));
        ck_assert_msg(!strcmp(pc, want[0]) || !strcmp(pc, want[1]), "%s", pc);
    }
    json_decref(r);
    free(out);
    ck_assert_int_eq(kg(&out, "suggest --rejected --course python-zh --json"), 0);
    ck_assert_str_eq(out, "[]\n");
    free(out);
    /* rejecting them again changes nothing */
    free(before);
    before = db_save();
    ck_assert_int_eq(kg(NULL, "suggest --reject-pairs '%s'", path), 0);
    e = err_text();
    ck_assert_msg(strstr(e, "rejected 0 of 2 pairs (2 already rejected)") != NULL, "%s", e);
    free(e);
    db_unchanged(before, "rejecting rejected pairs");
    /* an identical re-import keeps them */
    ck_assert_int_eq(kg(NULL, "import data/samples/linalg.xml"), 0);
    ck_assert_int_eq(kg(&out, "suggest --rejected"), 0);
    ck_assert_uint_eq(count_lines(out), 2);
    ck_assert_msg(strstr(out, "\tnot needed") && !strstr(out, "ignored"), "%s", out);
    free(out);
    ck_assert_int_eq(kg(&out, "suggest -m '%s/ck' --course linalg --top 0 --min-score 0", g_dir), 0);
    ck_assert_uint_eq(count_lines(out), nall - 2);
    free(out);
    /* training: labelled negatives among the concepts trained on */
    ck_assert_int_eq(train_negatives(model, "linalg"), 2);
    ck_assert_int_eq(train_negatives(model, "python-zh"), 0);
    ck_assert_int_eq(kg(&out, "train --model '%s' --out '%s/ckr' --steps 1 --course linalg", model, g_dir), 0);
    /* two rejections for 55 edges: too few alone, the graph's negatives join them */
    ck_assert_msg(strstr(out, "2 rejected suggestions, too few alone") != NULL, "%s", out);
    free(out);
    /* taken back: suggested again */
    snprintf(text, sizeof text, "%.*s\n", (int)strlen(want[1]) - 1, want[1]);
    write_file(bad, text);
    ck_assert_int_eq(kg(NULL, "suggest --unreject-pairs '%s' -n", bad), 0);
    ck_assert_int_eq(kg(NULL, "suggest --unreject-pairs '%s'", bad), 0);
    ck_assert_int_eq(kg(&out, "suggest -m '%s/ck' --course linalg --top 0 --min-score 0", g_dir), 0);
    ck_assert_uint_eq(count_lines(out), nall - 1);
    ck_assert_msg(strstr(out, want[1]) && !strstr(out, want[0]), "%s", out);
    free(out);
    /* a rejected pair that becomes an edge is ignored (listed as such, not trained on) */
    snprintf(text, sizeof text, "%.*s\n", (int)strlen(want[0]) - 1, want[0]);
    write_file(bad, text);
    ck_assert_int_eq(kg(NULL, "suggest -m '%s/ck' --accept-pairs '%s'", g_dir, bad), 0);
    ck_assert_int_eq(kg(&out, "suggest --rejected"), 0);
    ck_assert_msg(count_lines(out) == 1 && strstr(out, "(ignored: now an edge)"), "%s", out);
    free(out);
    ck_assert_int_eq(train_negatives(model, "linalg"), 0);
    /* no rejection in force: the run is bit for bit the one before any */
    size_t len1 = 0;
    char *model1 = tu_read(model_path, &len1);
    ck_assert_msg(model1 && len1 == model_len && memcmp(model0, model1, len1) == 0,
                  "training without rejections in force differs from training before any");
    free(model0);
    free(model1);
    free(model_path);
    free(before);
    free(path);
    free(bad);
    free(two);
    finish(model);
}
END_TEST

/* eval-prereq on a tiny RefD-style dataset of our own: every method gets a
 * row per fold and a mean, and bad datasets are refused with file:line. */
/* --course selects the candidates only: the model sees the whole graph,
 * so a pair scores the same in `suggest --course`, in `suggest` over all
 * courses and in `suggest --pairs`. ml-intro's prerequisites in linalg
 * change linalg concepts' degrees, so a course-only context would differ. */
START_TEST(course_filter_keeps_scores)
{
    char *model = start("course_filter_keeps_scores"), *out = NULL, *all = NULL;
    if (!model) return;
    ck_assert_int_eq(kg(NULL, "import data/samples/linalg.xml data/samples/ml-intro.xml"), 0);
    ck_assert_int_eq(kg(NULL, "train --model '%s' --out '%s/ck' --mode head --steps 30 --seed 2", model, g_dir), 0);
    ck_assert_int_eq(kg(&out, "suggest -m '%s/ck' --course linalg --top 4 --min-score 0 --json", g_dir), 0);
    ck_assert_int_eq(kg(&all, "suggest -m '%s/ck' --top 100000 --min-score 0", g_dir), 0);
    json_error_t je;
    json_t *r = json_loads(out, 0, &je);
    ck_assert_msg(json_is_array(r) && json_array_size(r) == 4, "%s", out);
    for (size_t i = 0; i < 4; i++) {
        json_t *o = json_array_get(r, i);
        const char *a = json_string_value(json_object_get(o, "prerequisite")),
                   *b = json_string_value(json_object_get(o, "concept"));
        double sc = json_real_value(json_object_get(o, "score"));
        ck_assert(strncmp(a, "linalg:", 7) == 0 && strncmp(b, "linalg:", 7) == 0);
        char *one = NULL, line[512], *pf = tu_path(g_dir, "pair.tsv");
        snprintf(line, sizeof line, "%s\t%s\n", a, b);
        tu_write(pf, line, (size_t)-1);
        ck_assert_int_eq(kg(&one, "suggest -m '%s/ck' --pairs '%s'", g_dir, pf), 0);
        free(pf);
        double ps = strtod(strrchr(one, '\t') + 1, NULL);
        ck_assert_msg(fabs(ps - sc) < 1e-5, "%s -> %s: --course %.6f, --pairs %.6f", a, b, sc, ps);
        snprintf(line, sizeof line, "\n%s\t%s\t%.4f", a, b, sc);   /* the same line in the unfiltered list */
        ck_assert_msg(strstr(all, line + 1) != NULL, "%s not in the unfiltered suggestions", line + 1);
        free(one);
    }
    json_decref(r);
    free(out); free(all);
    /* --suspicious: an edge of linalg scores the same filtered or not */
    ck_assert_int_eq(kg(&out, "suggest -m '%s/ck' --suspicious --course linalg --top 3 --json", g_dir), 0);
    ck_assert_int_eq(kg(&all, "suggest -m '%s/ck' --suspicious --top 100000 --json", g_dir), 0);
    json_t *rc = json_loads(out, 0, &je), *ra = json_loads(all, 0, &je);
    ck_assert(json_is_array(rc) && json_array_size(rc) == 3 && json_is_array(ra));
    for (size_t i = 0; i < 3; i++) {
        json_t *o = json_array_get(rc, i);
        const char *a = json_string_value(json_object_get(o, "prerequisite")),
                   *b = json_string_value(json_object_get(o, "concept"));
        ck_assert(a && b && strncmp(a, "linalg:", 7) == 0 && strncmp(b, "linalg:", 7) == 0);
        int found = 0;
        for (size_t k = 0; k < json_array_size(ra); k++) {
            json_t *x = json_array_get(ra, k);
            if (strcmp(json_string_value(json_object_get(x, "prerequisite")), a) ||
                strcmp(json_string_value(json_object_get(x, "concept")), b))
                continue;
            found = 1;
            ck_assert_msg(fabs(json_real_value(json_object_get(x, "score")) -
                               json_real_value(json_object_get(o, "score"))) < 1e-5, "%s -> %s", a, b);
        }
        ck_assert_msg(found, "%s -> %s missing from the unfiltered list", a, b);
    }
    json_decref(rc); json_decref(ra);
    free(out); free(all);
    finish(model);
}
END_TEST

START_TEST(eval_prereq)
{
    char *model = start("eval_prereq"), *out = NULL;
    if (!model) return;
    static const char *names[] = {"numbers", "addition", "multiplication", "fractions", "algebra",
                                  "equations", "functions", "derivatives", "integrals", "series"};
    /* "A<TAB>B": B is a prerequisite of A; a chain plus a few skips, negatives reversed or unrelated */
    char *pos = tu_path(g_dir, "toy.edges"), *neg = tu_path(g_dir, "toy.edges_neg");
    FILE *fp = fopen(pos, "w"), *fn = fopen(neg, "w");
    ck_assert(fp && fn);
    for (int i = 1; i < 10; i++) fprintf(fp, "%s\t%s\n", names[i], names[i - 1]);
    for (int i = 2; i < 10; i += 2) fprintf(fp, "%s\t%s\n", names[i], names[i - 2]);
    for (int i = 1; i < 10; i++) fprintf(fn, "%s\t%s\n", names[i - 1], names[i]);
    for (int i = 0; i + 5 < 10; i++) fprintf(fn, "%s\t%s\n", names[i], names[i + 5]);
    fclose(fp);
    fclose(fn);
    ck_assert_int_eq(kg(&out, "eval-prereq -m '%s' --steps 6 --folds 2 --tokens 8 --json '%s/toy'", model, g_dir), 0);
    json_error_t je;
    json_t *r = json_loads(out, 0, &je);
    ck_assert_msg(r != NULL, "%s", out);
    ck_assert_str_eq(json_string_value(json_object_get(r, "kind")), "refd");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "concepts")), 10);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "pairs")), 13 + 14);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "positives")), 13);
    json_t *ms = json_object_get(r, "methods");
    ck_assert_uint_eq(json_array_size(ms), 5);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ms, 0), "method")), "kgpath");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ms, 4), "method")), "out-degree");
    for (size_t k = 0; k < 5; k++) {
        json_t *m = json_array_get(ms, k), *folds = json_object_get(m, "folds");
        ck_assert_uint_eq(json_array_size(folds), 2);
        double f1 = json_real_value(json_object_get(json_object_get(m, "mean"), "f1_best"));
        double auc = json_real_value(json_object_get(json_object_get(m, "mean"), "auc"));
        ck_assert(f1 >= 0 && f1 <= 1 && auc >= 0 && auc <= 1);
        /* the mean is the mean of the folds */
        double a = json_real_value(json_object_get(json_array_get(folds, 0), "f1_best")),
               b = json_real_value(json_object_get(json_array_get(folds, 1), "f1_best"));
        ck_assert(fabs((a + b) / 2 - f1) < 1e-9);
        /* F1 at 0.5 and ECE for every method: the baselines are calibrated on
         * their training pairs as kgpath is */
        ck_assert(json_is_real(json_object_get(json_object_get(m, "mean"), "ece")));
        ck_assert(json_is_real(json_object_get(json_object_get(m, "mean"), "f1")));
    }
    json_decref(r);
    free(out);
    /* text output: per-fold lines and the table */
    ck_assert_int_eq(kg(&out, "eval-prereq -m '%s' --steps 2 --folds 2 --tokens 8 '%s/toy'", model, g_dir), 0);
    ck_assert_msg(strstr(out, "fold 1 (") && strstr(out, "| logistic regression (structure) | ") &&
                  strstr(out, "| precedes count | ") && strstr(out, "| out-degree | ") && strstr(out, "| kgpath | "),
                  "%s", out);
    free(out);
    /* bad input: a line without a tab, a missing dataset, too few pairs for the folds, options */
    fp = fopen(pos, "a");
    fputs("no tab here\n", fp);
    fclose(fp);
    ck_assert_int_eq(kg(NULL, "eval-prereq -m '%s' --steps 2 --folds 2 '%s/toy'", model, g_dir), 2);
    char *e = err_text();
    ck_assert_msg(strstr(e, "toy.edges:14:") != NULL, "%s", e);
    free(e);
    ck_assert_int_eq(kg(NULL, "eval-prereq -m '%s' '%s/none'", model, g_dir), 3);
    ck_assert_int_eq(kg(NULL, "eval-prereq -m '%s' --datasets '%s' refd-cs", model, g_dir), 3);
    fp = fopen(pos, "w");
    fputs("b\ta\n", fp);
    fclose(fp);
    ck_assert_int_eq(kg(NULL, "eval-prereq -m '%s' --steps 2 '%s/toy'", model, g_dir), 2);
    e = err_text();
    ck_assert_msg(strstr(e, "fewer than the 5 folds") != NULL, "%s", e);
    free(e);
    ck_assert_int_eq(kg(NULL, "eval-prereq -m '%s' --mode sideways '%s/toy'", model, g_dir), 1);
    ck_assert_int_eq(kg(NULL, "eval-prereq -m '%s'", model), 1);
    free(pos);
    free(neg);
    finish(model);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("train_cli");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, train_and_suggest);
    tcase_add_test(tc, reject_suggestions);
    tcase_add_test(tc, course_filter_keeps_scores);
    tcase_add_test(tc, eval_prereq);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
