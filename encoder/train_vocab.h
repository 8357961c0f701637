/* Training a WordPiece vocabulary from text, as the Hugging Face
 * `tokenizers` WordPiece trainer does it: BPE with the "##" continuation
 * prefix.
 *
 * Texts are pre-tokenised as BERT's BasicTokenizer does (drop control
 * characters, isolate CJK ideographs, optionally lowercase and strip
 * accents, split on whitespace and punctuation). The vocabulary starts with
 * the special tokens [PAD] [UNK] [CLS] [SEP] [MASK], then the alphabet
 * (every character that starts a word as "c", every character inside a
 * word as "##c"); then the most frequent adjacent pair of pieces, counted
 * over words weighted by their frequency, is merged into a new piece
 * repeatedly until the vocabulary has the requested size or no pair is
 * left. Ties go to the pair whose merged piece sorts first, so the result
 * is deterministic.
 */
#ifndef KGE_TRAIN_VOCAB_H
#define KGE_TRAIN_VOCAB_H

#include <stddef.h>

#include "encoder/kge_err.h"

/* Trains a vocabulary of at most vocab_size pieces (at least the specials
 * and the alphabet) from n NUL-terminated UTF-8 texts and returns it as
 * vocab.txt content (one piece a line, id = line number) in *out (malloc'ed,
 * NUL-terminated; *len its length), ready for kge_vocab_from_buffer.
 * Errors: KGE_EUSAGE (vocab_size below 6), KGE_EINPUT (invalid UTF-8,
 * naming the text and byte), KGE_ENOMEM.
 * Cost: O(merges · symbols in the distinct words). */
int kge_vocab_train(const char *const *texts, size_t n, size_t vocab_size, int lowercase, char **out, size_t *len,
                    kge_err *err);

#endif
