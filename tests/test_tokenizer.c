/* Tokenizer: every line of the shared cases.jsonl (both vocabularies, both
 * casing settings) plus edge cases on a small in-memory vocabulary. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoder/tokenizer.h"
#include "tests/testutil.h"

static kge_vocab *small_vocab(void)
{
    static const char v[] =
        "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n"
        "un\n##aff\n##able\nhello\nworld\n,\n!\n.\ncafe\n##s\na\nb\nc\n##c\n##b\n"
        "中\n文\nstrasse\nstraße\n";
    kge_vocab *voc = NULL;
    kge_err e = {0};
    ck_assert_int_eq(kge_vocab_from_buffer(v, sizeof v - 1, &voc, &e), KGE_OK);
    return voc;
}

static void expect_ids(const kge_tokenizer *tk, const char *text, const int32_t *want, size_t n)
{
    kge_ids ids = {0};
    kge_err e = {0};
    ck_assert_int_eq(kge_tokenize(tk, text, strlen(text), &ids, &e), KGE_OK);
    ck_assert_msg(ids.n == n, "'%s': %zu ids, expected %zu", text, ids.n, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(ids.v[i] == want[i], "'%s': id %zu is %d, expected %d", text, i, ids.v[i], want[i]);
    kge_ids_free(&ids);
}

START_TEST(vocab_basics)
{
    kge_vocab *v = small_vocab();
    ck_assert_uint_eq(kge_vocab_size(v), 24);
    const kge_special *sp = kge_vocab_special(v);
    ck_assert_int_eq(sp->pad, 0);
    ck_assert_int_eq(sp->unk, 1);
    ck_assert_int_eq(sp->cls, 2);
    ck_assert_int_eq(sp->sep, 3);
    ck_assert_int_eq(sp->mask, 4);
    ck_assert_int_eq(kge_vocab_id(v, "##able", 6), 7);
    ck_assert_int_eq(kge_vocab_id(v, "##abl", 5), -1);
    ck_assert_str_eq(kge_vocab_piece(v, 8), "hello");
    ck_assert_ptr_null(kge_vocab_piece(v, 24));
    ck_assert_ptr_null(kge_vocab_piece(v, -1));
    kge_vocab_free(v);

    /* CRLF lines, a duplicate (later id wins), special tokens anywhere. */
    const char crlf[] = "x\r\n[SEP]\r\n[CLS]\r\n[UNK]\r\nx\r\n";
    kge_err e = {0};
    ck_assert_int_eq(kge_vocab_from_buffer(crlf, sizeof crlf - 1, &v, &e), KGE_OK);
    ck_assert_int_eq(kge_vocab_id(v, "x", 1), 4);
    ck_assert_int_eq(kge_vocab_special(v)->cls, 2);
    ck_assert_int_eq(kge_vocab_special(v)->pad, -1);
    kge_vocab_free(v);
}
END_TEST

START_TEST(vocab_bad)
{
    kge_vocab *v = (kge_vocab *)1;
    kge_err e = {0};
    ck_assert_int_eq(kge_vocab_from_buffer("", 0, &v, &e), KGE_EINPUT);
    ck_assert_ptr_null(v);
    ck_assert_int_eq(kge_vocab_from_buffer("[CLS]\n[SEP]\n", 12, &v, &e), KGE_EINPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "[UNK]"));
    ck_assert_int_eq(kge_vocab_load("/nonexistent/vocab.txt", &v, &e), KGE_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(e.msg, "/nonexistent/vocab.txt"));
}
END_TEST

START_TEST(wordpiece_rules)
{
    kge_vocab *v = small_vocab();
    kge_tokenizer tk = kge_tokenizer_default(v, 1);
    /* greedy longest match with ## continuations */
    expect_ids(&tk, "unaffable", (int32_t[]){5, 6, 7}, 3);
    /* an unmatched position makes the whole word [UNK] */
    expect_ids(&tk, "unaffablex hello", (int32_t[]){1, 8}, 2);
    /* punctuation split, lowercasing, accent stripping */
    expect_ids(&tk, "Hello,WORLD!", (int32_t[]){8, 10, 9, 11}, 4);
    expect_ids(&tk, "CAFÉS.", (int32_t[]){13, 14, 12}, 3);
    /* CJK ideographs become words of their own */
    expect_ids(&tk, "中文a", (int32_t[]){20, 21, 15}, 3);
    /* ß is not casefolded */
    expect_ids(&tk, "Straße", (int32_t[]){23}, 1);
    /* controls dropped, odd whitespace splits */
    expect_ids(&tk, "a\x01\xe2\x80\x8b" "b\xe3\x80\x80" "c", (int32_t[]){15, 19, 17}, 3);
    expect_ids(&tk, "", NULL, 0);
    expect_ids(&tk, " \t\n ", NULL, 0);
    /* over max_word_chars code points: [UNK]; exactly max: matched */
    char w[102];
    memset(w, 'a', 101);
    w[101] = 0;
    expect_ids(&tk, w, (int32_t[]){1}, 1);
    tk.max_word_chars = 3;
    expect_ids(&tk, "abc abcc", (int32_t[]){15, 19, 18, 1}, 4);
    /* cased: no lowercasing, accents kept */
    kge_tokenizer cased = kge_tokenizer_default(v, 0);
    expect_ids(&cased, "Hello café", (int32_t[]){1, 1}, 2);
    kge_vocab_free(v);
}
END_TEST

START_TEST(bad_utf8)
{
    kge_vocab *v = small_vocab();
    kge_tokenizer tk = kge_tokenizer_default(v, 1);
    kge_ids ids = {0};
    kge_err e = {0};
    ck_assert_int_eq(kge_tokenize(&tk, "ab\xff" "c", 4, &ids, &e), KGE_EINPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "byte 2"));
    ck_assert_int_eq(kge_tokenize(&tk, "a\xc3", 2, &ids, &e), KGE_EINPUT);
    kge_ids_free(&ids);
    kge_vocab_free(v);
}
END_TEST

START_TEST(pairs_and_truncation)
{
    kge_vocab *v = small_vocab();
    kge_tokenizer tk = kge_tokenizer_default(v, 1);
    kge_ids ids = {0}, ty = {0};
    kge_err e = {0};
    ck_assert_int_eq(kge_encode(&tk, "hello world", "a b c", 0, &ids, &ty, &e), KGE_OK);
    int32_t want[] = {2, 8, 9, 3, 15, 16, 17, 3}, wt[] = {0, 0, 0, 0, 1, 1, 1, 1};
    ck_assert_uint_eq(ids.n, 8);
    for (int i = 0; i < 8; i++) {
        ck_assert_int_eq(ids.v[i], want[i]);
        ck_assert_int_eq(ty.v[i], wt[i]);
    }
    /* longest_first: room 4 of (2, 3) → (2, 2); room 3 → (1, 2) */
    ck_assert_int_eq(kge_encode(&tk, "hello world", "a b c", 7, &ids, &ty, &e), KGE_OK);
    ck_assert_uint_eq(ids.n, 7);
    ck_assert_int_eq(ids.v[3], 3);
    ck_assert_int_eq(ids.v[5], 16);
    ck_assert_int_eq(ids.v[6], 3);
    ck_assert_int_eq(kge_encode(&tk, "hello world", "a b c", 6, &ids, &ty, &e), KGE_OK);
    int32_t w6[] = {2, 8, 3, 15, 16, 3};
    for (int i = 0; i < 6; i++) ck_assert_int_eq(ids.v[i], w6[i]);
    /* single text: keep [CLS] … [SEP] */
    ck_assert_int_eq(kge_encode(&tk, "a b c a b c", NULL, 4, &ids, NULL, &e), KGE_OK);
    int32_t w4[] = {2, 15, 16, 3};
    ck_assert_uint_eq(ids.n, 4);
    for (int i = 0; i < 4; i++) ck_assert_int_eq(ids.v[i], w4[i]);
    ck_assert_int_eq(kge_encode(&tk, "a", "b", 2, &ids, NULL, &e), KGE_EUSAGE);
    kge_ids_free(&ids);
    kge_ids_free(&ty);
    kge_vocab_free(v);
}
END_TEST

static void check_int_list(json_t *arr, const kge_ids *ids, const char *what, int line)
{
    ck_assert_msg(json_array_size(arr) == ids->n, "line %d %s: %zu ids, expected %zu", line, what,
                  ids->n, json_array_size(arr));
    for (size_t i = 0; i < ids->n; i++)
        ck_assert_msg(json_integer_value(json_array_get(arr, i)) == ids->v[i],
                      "line %d %s: id %zu is %d, expected %lld", line, what, i, ids->v[i],
                      (long long)json_integer_value(json_array_get(arr, i)));
}

START_TEST(reference_cases)
{
    const char *sh = tu_shared_dir();
    if (!sh) {
        fprintf(stderr, "test_tokenizer: ../shared absent, skipping reference cases\n");
        return;
    }
    char *path = tu_path(sh, "fixtures/encoder/tokenizer/cases.jsonl");
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char *tiny = tu_path(sh, "fixtures/encoder/tiny-bert/vocab.txt");
    char *zh = tu_path(sh, "fixtures/vocab/bert-base-chinese.vocab.txt");
    kge_vocab *vt = NULL, *vz = NULL;
    kge_err e = {0};
    ck_assert_msg(kge_vocab_load(tiny, &vt, &e) == KGE_OK, "%s", e.msg);
    ck_assert_msg(kge_vocab_load(zh, &vz, &e) == KGE_OK, "%s", e.msg);
    ck_assert_uint_eq(kge_vocab_size(vz), 21128);
    char *line = NULL;
    size_t cap = 0;
    int ln = 0, checked = 0;
    while (getline(&line, &cap, f) > 0) {
        ln++;
        json_error_t je;
        json_t *o = json_loads(line, JSON_ALLOW_NUL, &je);
        ck_assert_msg(o != NULL, "line %d: %s", ln, je.text);
        const char *vname = json_string_value(json_object_get(o, "vocab"));
        kge_vocab *v = strstr(vname, "chinese") ? vz : vt;
        kge_tokenizer tk = kge_tokenizer_default(v, json_is_true(json_object_get(o, "do_lower_case")));
        kge_ids ids = {0}, ty = {0};
        json_t *pair = json_object_get(o, "pair");
        if (pair) {
            ck_assert_int_eq(kge_encode(&tk, json_string_value(json_array_get(pair, 0)),
                                        json_string_value(json_array_get(pair, 1)), 0, &ids, &ty, &e),
                             KGE_OK);
            check_int_list(json_object_get(o, "input_ids"), &ids, "pair ids", ln);
            check_int_list(json_object_get(o, "token_type_ids"), &ty, "pair types", ln);
        } else {
            json_t *jt = json_object_get(o, "text");
            const char *text = json_string_value(jt);
            size_t tl = json_string_length(jt);
            ck_assert_msg(kge_tokenize(&tk, text, tl, &ids, &e) == KGE_OK, "line %d: %s", ln, e.msg);
            check_int_list(json_object_get(o, "ids"), &ids, "ids", ln);
            json_t *toks = json_object_get(o, "tokens");
            for (size_t i = 0; i < ids.n; i++)
                ck_assert_str_eq(kge_vocab_piece(v, ids.v[i]), json_string_value(json_array_get(toks, i)));
            if (tl == strlen(text)) {   /* kge_encode takes C strings */
                ck_assert_int_eq(kge_encode(&tk, text, NULL, 0, &ids, NULL, &e), KGE_OK);
                check_int_list(json_object_get(o, "ids_with_special"), &ids, "ids_with_special", ln);
            }
        }
        kge_ids_free(&ids);
        kge_ids_free(&ty);
        json_decref(o);
        checked++;
    }
    ck_assert_int_eq(checked, 92);
    free(line);
    fclose(f);
    kge_vocab_free(vt);
    kge_vocab_free(vz);
    free(tiny);
    free(zh);
    free(path);
}
END_TEST

Suite *suite(void);
Suite *suite(void)
{
    Suite *s = suite_create("tokenizer");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, vocab_basics);
    tcase_add_test(tc, vocab_bad);
    tcase_add_test(tc, wordpiece_rules);
    tcase_add_test(tc, bad_utf8);
    tcase_add_test(tc, pairs_and_truncation);
    tcase_add_test(tc, reference_cases);
    suite_add_tcase(s, tc);
    return s;
}
