/* BERT tokenization exactly as Hugging Face defines it: BasicTokenizer
 * (BertNormalizer + BertPreTokenizer) followed by WordPiece.
 *
 *  1. clean: drop U+0000, U+FFFD and characters of category C* other than
 *     tab, newline and carriage return; map whitespace (Unicode White_Space)
 *     to a space;
 *  2. put spaces around CJK ideographs (the ranges of BERT's
 *     _is_chinese_char);
 *  3. if strip_accents: NFD, then drop category Mn; if lowercase: per
 *     code point lowercase (full mapping, no final-sigma context) — never
 *     casefold, so ß stays ß;
 *  4. split on whitespace, and isolate every punctuation character
 *     (ASCII 33–47, 58–64, 91–96, 123–126 and Unicode P*);
 *  5. WordPiece per word: over max_word_chars code points gives [UNK];
 *     otherwise greedy longest match from the left with "##" continuation
 *     pieces; a position that matches nothing turns the whole word into
 *     [UNK].
 * Special ids ([PAD] [UNK] [CLS] [SEP] [MASK]) come from the vocabulary.
 */
#ifndef KGE_TOKENIZER_H
#define KGE_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "encoder/kge_err.h"

typedef struct kge_vocab kge_vocab;

/* Loads a vocab.txt (one piece a line, id = line number, trailing "\r\n"
 * removed; a later duplicate wins, as in HF). Requires [UNK], [CLS] and
 * [SEP]. Errors: KGE_ENOTFOUND, KGE_EIO, KGE_EINPUT (empty vocabulary,
 * missing special token), KGE_ENOMEM. O(size). */
int  kge_vocab_load(const char *path, kge_vocab **out, kge_err *err);
/* Same from a buffer (need not be NUL-terminated). */
int  kge_vocab_from_buffer(const char *buf, size_t len, kge_vocab **out, kge_err *err);
void kge_vocab_free(kge_vocab *v);
size_t kge_vocab_size(const kge_vocab *v);
/* Id of piece[0..len), or -1. O(len) expected. */
int32_t kge_vocab_id(const kge_vocab *v, const char *piece, size_t len);
/* Piece of id (NUL-terminated), or NULL when out of range. */
const char *kge_vocab_piece(const kge_vocab *v, int32_t id);

/* Special-token ids (-1 when the vocabulary lacks [PAD] or [MASK]). */
typedef struct kge_special {
    int32_t pad, unk, cls, sep, mask;
} kge_special;
const kge_special *kge_vocab_special(const kge_vocab *v);

typedef struct kge_tokenizer {
    const kge_vocab *vocab;    /* borrowed */
    int    lowercase;          /* BERT do_lower_case */
    int    strip_accents;      /* HF default: same as lowercase */
    int    chinese_chars;      /* split CJK ideographs (default 1) */
    size_t max_word_chars;     /* 100 */
} kge_tokenizer;

/* A tokenizer over vocab with the HF defaults for do_lower_case. */
kge_tokenizer kge_tokenizer_default(const kge_vocab *vocab, int lowercase);

/* A growable id list. Free with kge_ids_free. */
typedef struct kge_ids {
    int32_t *v;
    size_t   n, cap;
} kge_ids;
void kge_ids_free(kge_ids *ids);
int  kge_ids_push(kge_ids *ids, int32_t id);

/* Appends the WordPiece ids of text[0..len) (no special tokens) to out.
 * Errors: KGE_EINPUT for invalid UTF-8 (message gives the byte offset),
 * KGE_ENOMEM. O(len · max_word_chars) worst case, O(len) typical. */
int kge_tokenize(const kge_tokenizer *tk, const char *text, size_t len,
                 kge_ids *out, kge_err *err);

/* Model input for a text or a pair: [CLS] a [SEP] (b [SEP]), with token
 * types 0 for the first segment and 1 for the second. When max_len > 0 the
 * result is truncated to max_len tokens as HF's "longest_first" strategy
 * does (the longer segment loses tokens first; specials are kept).
 * ids and types are reset (n = 0) then filled; types may be NULL.
 * Errors: as kge_tokenize; KGE_EUSAGE when max_len is too small for the
 * special tokens. */
int kge_encode(const kge_tokenizer *tk, const char *a, const char *b, size_t max_len,
               kge_ids *ids, kge_ids *types, kge_err *err);

#endif
