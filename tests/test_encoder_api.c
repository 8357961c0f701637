/* Public encoder API (kgpath_encoder.h) and the `kgpath encode` command. */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kgpath.h"
#include "tests/testutil.h"

static char *tiny_dir(void)
{
    const char *sh = tu_shared_dir();
    return sh ? tu_path(sh, "fixtures/encoder/tiny-bert") : NULL;
}

START_TEST(no_model)
{
    unsetenv("KGPATH_MODEL");
    kgp_model *m = NULL;
    ck_assert_int_eq(kgp_model_load(NULL, &m), KGP_EUSAGE);
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_nonnull(strstr(kgp_model_errmsg(m), "huggingface.co"));
    ck_assert_ptr_nonnull(strstr(kgp_model_errmsg(m), "KGPATH_MODEL"));
    kgp_model_free(m);
    char *d = tu_mkdtemp();
    ck_assert_int_eq(kgp_model_load(d, &m), KGP_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(kgp_model_errmsg(m), "config.json"));
    float v[1];
    const char *t[1] = {"x"};
    ck_assert_int_eq(kgp_model_encode(m, t, 1, KGP_POOL_MEAN, 0, v), KGP_EUSAGE);
    kgp_model_free(m);
    tu_rmrf(d);
    free(d);
    kgp_pooling p;
    ck_assert_int_eq(kgp_pooling_parse("cls", &p), KGP_OK);
    ck_assert_int_eq(p, KGP_POOL_CLS);
    ck_assert_int_eq(kgp_pooling_parse("max", &p), KGP_EUSAGE);
}
END_TEST

START_TEST(encode_batching_and_pooling)
{
    char *dir = tiny_dir();
    if (!dir) { fprintf(stderr, "test_encoder_api: ../shared absent, skipping\n"); return; }
    kgp_model *m = NULL;
    ck_assert_msg(kgp_model_load(dir, &m) == KGP_OK, "%s", kgp_model_errmsg(m));
    ck_assert_uint_eq(kgp_model_dim(m), 64);
    ck_assert_uint_eq(kgp_model_max_tokens(m), 128);
    ck_assert(strncmp(kgp_model_id(m), "bert-", 5) == 0 && strlen(kgp_model_id(m)) == 21);
    ck_assert(kgp_model_has_pooler(m));
    /* same id when loaded again */
    kgp_model *m2 = NULL;
    ck_assert_int_eq(kgp_model_load(dir, &m2), KGP_OK);
    ck_assert_str_eq(kgp_model_id(m), kgp_model_id(m2));
    kgp_model_free(m2);

    const char *texts[] = {
        "Gradient descent minimizes the loss; backpropagation computes the gradients.",
        "Linear algebra",
        "注意力机制是神经网络的核心组件。",
        "",
        "The eigenvalues of a symmetric matrix are real.",
    };
    size_t n = 5, C = 64;
    for (int pool = 0; pool < 3; pool++) {
        float *all = malloc(n * C * sizeof *all), one1[64], *one = one1;
        ck_assert_int_eq(kgp_model_encode(m, texts, n, (kgp_pooling)pool, 1, all), KGP_OK);
        for (size_t i = 0; i < n; i++) {
            ck_assert_int_eq(kgp_model_encode(m, texts + i, 1, (kgp_pooling)pool, 1, one), KGP_OK);
            double norm = 0.0;
            for (size_t c = 0; c < C; c++) {
                ck_assert_msg(fabsf(one[c] - all[i * C + c]) < 1e-5f, "pool %d text %zu dim %zu: %g vs %g",
                              pool, i, c, one[c], all[i * C + c]);
                norm += (double)one[c] * one[c];
            }
            ck_assert(fabs(norm - 1.0) < 1e-5);
        }
        free(all);
    }
    /* many texts of many lengths: several batches, same vectors as alone */
    size_t many = 300;
    char **mt = malloc(many * sizeof *mt);
    for (size_t i = 0; i < many; i++) {
        size_t words = 1 + (i * 7) % 60;
        mt[i] = malloc(words * 8 + 1);
        mt[i][0] = 0;
        for (size_t w = 0; w < words; w++) strcat(mt[i], (i + w) % 3 ? "graph " : "node ");
    }
    float *mv = malloc(many * C * sizeof *mv), one[64];
    ck_assert_int_eq(kgp_model_encode(m, (const char *const *)mt, many, KGP_POOL_MEAN, 1, mv), KGP_OK);
    for (size_t i = 0; i < many; i += 37) {
        ck_assert_int_eq(kgp_model_encode(m, (const char *const *)mt + i, 1, KGP_POOL_MEAN, 1, one), KGP_OK);
        for (size_t c = 0; c < C; c++) ck_assert(fabsf(one[c] - mv[i * C + c]) < 1e-5f);
    }
    for (size_t i = 0; i < many; i++) free(mt[i]);
    free(mt);
    free(mv);

    /* pooling choices give different vectors; unnormalised mean is not unit */
    float a[64], b[64];
    ck_assert_int_eq(kgp_model_encode(m, texts, 1, KGP_POOL_MEAN, 0, a), KGP_OK);
    ck_assert_int_eq(kgp_model_encode(m, texts, 1, KGP_POOL_CLS, 0, b), KGP_OK);
    ck_assert(memcmp(a, b, sizeof a) != 0);

    /* tokens: [CLS] … [SEP], truncated to the model's maximum */
    kgp_tokens tk;
    ck_assert_int_eq(kgp_model_tokenize(m, "Hello, World!", &tk), KGP_OK);
    const char *want[] = {"[CLS]", "he", "##l", "##lo", ",", "wor", "##l", "##d", "!", "[SEP]"};
    ck_assert_uint_eq(tk.n, 10);
    for (size_t i = 0; i < tk.n; i++) ck_assert_str_eq(tk.pieces[i], want[i]);
    ck_assert_int_eq(tk.ids[1], 1984);
    kgp_tokens_free(&tk);
    size_t L = 3000;
    char *longt = malloc(L * 2 + 1);
    for (size_t i = 0; i < L; i++) { longt[2 * i] = 'a'; longt[2 * i + 1] = ' '; }
    longt[2 * L] = 0;
    ck_assert_int_eq(kgp_model_tokenize(m, longt, &tk), KGP_OK);
    ck_assert_uint_eq(tk.n, 128);
    ck_assert_str_eq(tk.pieces[127], "[SEP]");
    kgp_tokens_free(&tk);
    const char *lt[1] = {longt};
    ck_assert_int_eq(kgp_model_encode(m, lt, 1, KGP_POOL_MEAN, 1, a), KGP_OK);
    free(longt);

    /* bad input: invalid UTF-8 names the text; pooler-less use is refused */
    const char *bad[2] = {"fine", "bro\xc3ken"};
    float out[128];
    ck_assert_int_eq(kgp_model_encode(m, bad, 2, KGP_POOL_MEAN, 0, out), KGP_EINPUT);
    ck_assert_msg(strstr(kgp_model_errmsg(m), "text 2") && strstr(kgp_model_errmsg(m), "byte 3"), "%s",
                  kgp_model_errmsg(m));
    ck_assert_int_eq(kgp_model_encode(m, texts, 1, (kgp_pooling)7, 0, out), KGP_EUSAGE);
    kgp_model_free(m);
    free(dir);
}
END_TEST

static json_t *parse_line(const char *s, size_t *used)
{
    const char *nl = strchr(s, '\n');
    ck_assert_ptr_nonnull(nl);
    json_error_t je;
    json_t *o = json_loadb(s, (size_t)(nl - s), 0, &je);
    ck_assert_msg(o != NULL, "%s", je.text);
    *used = (size_t)(nl - s) + 1;
    return o;
}

START_TEST(cli_encode)
{
    char *dir = tiny_dir();
    if (!dir) { fprintf(stderr, "test_encoder_api: ../shared absent, skipping CLI\n"); return; }
    const char *bin = getenv("KGPATH_BIN");
    ck_assert_ptr_nonnull(bin);
    char cmd[8192], *out = NULL;
    snprintf(cmd, sizeof cmd, "'%s' encode --model '%s' --normalize 'Linear algebra' 'Hello, World!'", bin, dir);
    ck_assert_int_eq(tu_run(cmd, &out), 0);
    size_t used, off = 0;
    for (int i = 0; i < 2; i++) {
        json_t *o = parse_line(out + off, &used);
        off += used;
        ck_assert_str_eq(json_string_value(json_object_get(o, "text")), i ? "Hello, World!" : "Linear algebra");
        json_t *tk = json_object_get(o, "tokens"), *emb = json_object_get(o, "embedding");
        ck_assert_str_eq(json_string_value(json_array_get(tk, 0)), "[CLS]");
        ck_assert_uint_eq(json_array_size(emb), 64);
        double nrm = 0.0;
        for (size_t k = 0; k < 64; k++) nrm += pow(json_number_value(json_array_get(emb, k)), 2);
        ck_assert(fabs(nrm - 1.0) < 1e-5);
        json_decref(o);
    }
    ck_assert_uint_eq(strlen(out), off);
    free(out);
    /* stdin lines give the same output as arguments */
    snprintf(cmd, sizeof cmd, "printf 'Linear algebra\\r\\nHello, World!\\n' | '%s' encode -m '%s' -n", bin, dir);
    char *out2 = NULL;
    ck_assert_int_eq(tu_run(cmd, &out2), 0);
    snprintf(cmd, sizeof cmd, "'%s' encode --model '%s' --normalize 'Linear algebra' 'Hello, World!'", bin, dir);
    ck_assert_int_eq(tu_run(cmd, &out), 0);
    ck_assert_str_eq(out, out2);
    free(out);
    free(out2);
    /* errors: exit codes, nothing on stdout */
    snprintf(cmd, sizeof cmd, "env -u KGPATH_MODEL '%s' encode text 2>&1", bin);
    ck_assert_int_eq(tu_run(cmd, &out), 1);
    ck_assert_ptr_nonnull(strstr(out, "huggingface.co"));
    free(out);
    snprintf(cmd, sizeof cmd, "'%s' encode --model /nonexistent text 2>/dev/null", bin);
    ck_assert_int_eq(tu_run(cmd, &out), 3);
    ck_assert_str_eq(out, "");
    free(out);
    snprintf(cmd, sizeof cmd, "'%s' encode --model '%s' --pooling max text 2>/dev/null", bin, dir);
    ck_assert_int_eq(tu_run(cmd, &out), 1);
    free(out);
    snprintf(cmd, sizeof cmd, "printf 'ok\\n\\377\\n' | '%s' encode --model '%s' 2>&1 >/dev/null", bin, dir);
    ck_assert_int_eq(tu_run(cmd, &out), 2);
    ck_assert_ptr_nonnull(strstr(out, "invalid UTF-8"));
    free(out);
    free(dir);
}
END_TEST

static const char course_v1[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<course xmlns=\"https://kgpath.org/ns/course/1\" id=\"emb\" xml:lang=\"en\">\n"
    "  <title>Embedding test</title>\n"
    "  <concept id=\"grad\"><title>Gradient descent</title><summary>Minimise a loss by following the "
    "gradient.</summary><goal>Tune the learning rate</goal></concept>\n"
    "  <concept id=\"nn\"><title>Neural networks</title><summary>Layers of weighted sums.</summary></concept>\n"
    "  <concept id=\"eig\"><title>Eigenvalues</title><summary>How a matrix stretches.</summary></concept>\n"
    "</course>\n";
/* v2: eig removed, nn's summary changed, grad unchanged */
static const char course_v2[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<course xmlns=\"https://kgpath.org/ns/course/1\" id=\"emb\" xml:lang=\"en\">\n"
    "  <title>Embedding test</title>\n"
    "  <concept id=\"grad\"><title>Gradient descent</title><summary>Minimise a loss by following the "
    "gradient.</summary><goal>Tune the learning rate</goal></concept>\n"
    "  <concept id=\"nn\"><title>Neural networks</title><summary>Deep layers.</summary></concept>\n"
    "</course>\n";

static json_t *run_json(const char *cmd, int want_rc)
{
    char *out = NULL;
    int rc = tu_run(cmd, &out);
    ck_assert_msg(rc == want_rc, "%s: exit %d (%s)", cmd, rc, out);
    json_error_t je;
    json_t *o = json_loads(out, 0, &je);
    ck_assert_msg(o != NULL, "%s: %s in '%s'", cmd, je.text, out);
    free(out);
    return o;
}

START_TEST(cli_embed_search_similar)
{
    char *dir = tiny_dir();
    if (!dir) { fprintf(stderr, "test_encoder_api: ../shared absent, skipping embed\n"); return; }
    const char *bin = getenv("KGPATH_BIN");
    char *tmp = tu_mkdtemp(), *db = tu_path(tmp, "k.db"), *c1 = tu_path(tmp, "c1.xml"), *c2 = tu_path(tmp, "c2.xml");
    tu_write(c1, course_v1, (size_t)-1);
    tu_write(c2, course_v2, (size_t)-1);
    char cmd[8192], *out = NULL;
    /* search before embedding: says to run embed */
    snprintf(cmd, sizeof cmd, "'%s' --db '%s' import '%s' >/dev/null && '%s' --db '%s' search -m '%s' x 2>&1",
             bin, db, c1, bin, db, dir);
    ck_assert_int_eq(tu_run(cmd, &out), 3);
    ck_assert_ptr_nonnull(strstr(out, "kgpath embed"));
    free(out);
    snprintf(cmd, sizeof cmd, "'%s' --db '%s' embed --json -m '%s' 2>/dev/null", bin, db, dir);
    json_t *r = run_json(cmd, 0);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "embedded")), 3);
    json_decref(r);
    r = run_json(cmd, 0);    /* incremental: nothing changed */
    ck_assert_int_eq(json_integer_value(json_object_get(r, "embedded")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "unchanged")), 3);
    json_decref(r);
    /* the query equal to a concept's text finds it first, score ~1 */
    snprintf(cmd, sizeof cmd,
             "'%s' --db '%s' search --json -k 2 -m '%s' 'Eigenvalues' 'How a matrix stretches.' 2>/dev/null",
             bin, db, dir);
    r = run_json(cmd, 0);
    json_t *res = json_object_get(r, "results");
    ck_assert_uint_eq(json_array_size(res), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(res, 0), "concept")), "emb:eig");
    ck_assert(json_real_value(json_object_get(json_array_get(res, 0), "score")) > 0.99);
    ck_assert(json_real_value(json_object_get(json_array_get(res, 0), "score")) >=
              json_real_value(json_object_get(json_array_get(res, 1), "score")));
    json_decref(r);
    /* plan --goal-text: the best match becomes the goal, and the choice is said */
    snprintf(cmd, sizeof cmd,
             "'%s' --db '%s' plan --json --model '%s' --goal-text 'Eigenvalues How a matrix stretches.' 2>&1 >/dev/null",
             bin, db, dir);
    ck_assert_int_eq(tu_run(cmd, &out), 0);
    ck_assert_msg(strstr(out, "-> emb:eig") != NULL, "goal-text choice not reported: %s", out);
    free(out);
    snprintf(cmd, sizeof cmd,
             "'%s' --db '%s' plan --json --model '%s' --goal-text 'Eigenvalues How a matrix stretches.' 2>/dev/null",
             bin, db, dir);
    r = run_json(cmd, 0);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(r, "goals"), 0)), "emb:eig");
    json_decref(r);
    snprintf(cmd, sizeof cmd, "env -u KGPATH_MODEL '%s' --db '%s' plan --goal-text x 2>&1", bin, db);
    ck_assert_int_eq(tu_run(cmd, &out), 1);
    ck_assert_ptr_nonnull(strstr(out, "huggingface.co"));
    free(out);
    snprintf(cmd, sizeof cmd, "'%s' --db '%s' similar --json --top 5 emb:grad 2>/dev/null", bin, db);
    r = run_json(cmd, 0);
    res = json_object_get(r, "results");
    ck_assert_uint_eq(json_array_size(res), 2);      /* itself excluded */
    for (size_t i = 0; i < 2; i++)
        ck_assert_str_ne(json_string_value(json_object_get(json_array_get(res, i), "concept")), "emb:grad");
    json_decref(r);
    /* re-import v2: one changed, one removed */
    snprintf(cmd, sizeof cmd, "'%s' --db '%s' import '%s' >/dev/null && '%s' --db '%s' embed --json -m '%s' 2>/dev/null",
             bin, db, c2, bin, db, dir);
    r = run_json(cmd, 0);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "embedded")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "unchanged")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "removed")), 1);
    json_decref(r);
    /* bad input */
    snprintf(cmd, sizeof cmd, "'%s' --db '%s' similar nosuch 2>/dev/null", bin, db);
    ck_assert_int_eq(tu_run(cmd, NULL), 3);
    snprintf(cmd, sizeof cmd, "'%s' --db '%s' search --top 0 -m '%s' x 2>/dev/null", bin, db, dir);
    ck_assert_int_eq(tu_run(cmd, NULL), 1);
    snprintf(cmd, sizeof cmd, "env -u KGPATH_MODEL '%s' --db '%s' embed 2>&1", bin, db);
    ck_assert_int_eq(tu_run(cmd, &out), 1);
    ck_assert_ptr_nonnull(strstr(out, "huggingface.co"));
    free(out);
    tu_rmrf(tmp);
    free(tmp); free(db); free(c1); free(c2); free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("encoder_api");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, no_model);
    tcase_add_test(tc, encode_batching_and_pooling);
    tcase_add_test(tc, cli_encode);
    tcase_add_test(tc, cli_embed_search_similar);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? 1 : 0;
}
