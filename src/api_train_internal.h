/* Internals shared by the training API's files (api_train.c, api_ckpt.c,
 * api_eval.c). Not installed. */
#ifndef KGP_API_TRAIN_INTERNAL_H
#define KGP_API_TRAIN_INTERNAL_H

#include <stdint.h>

#include "kgpath.h"
#include "kgpath_train.h"
#include "graph/snapshot.h"

struct kg_arena;

/* Title, summary and goals of concept i, one per line (as `embed` reads a
 * concept), malloc'ed; NULL when unreadable or out of memory. */
char *kgp__concept_text(const kgg_snap *g, uint32_t i, struct kg_arena *a);

/* What training reads from the database for one selection (want: a
 * course index, or KGP_NONE for all): a fingerprint over the concepts'
 * keys and texts, their requirement edges, their recommended edges
 * (accepted suggestions among them) and the designers' rejections among
 * them, with their counts. */
typedef struct kgp__graph_rec {
    uint64_t fingerprint;
    size_t concepts, edges, rejected, recommended;
} kgp__graph_rec;

/* Errors are set on s: KGP_EDB, KGP_ENOMEM. O(text + edges + rejections)
 * the first time; a record of the same selection on the same snapshot is
 * then memoised (kgp__rec_memo) while the database has no newer
 * transaction, so the three steps of one scoring call (kgp_checkpoint_check,
 * kgp__checkpoint_usable, the stored fit's key) hash the graph once.
 * Thread-safe: concurrent callers on one snapshot compute it once. */
kgp_status kgp__graph_record(kgp_snap *s, uint32_t want, const char *course, kgp__graph_rec *rec);
/* How many times kgp__graph_record hashed a graph (not memo hits), since
 * the library was loaded: for tests. */
size_t kgp__graph_record_runs(void);

/* The memo a snapshot keeps for kgp__graph_record: one slot for the whole
 * graph (want KGP_NONE), one for the last course asked for. A record holds
 * while the database's last transaction is txn (the rejections are read
 * from the database, not the snapshot, so any write may change it). */
typedef struct kgp__rec_slot {
    int have;
    uint32_t want;
    uint64_t txn;
    kgp__graph_rec rec;
} kgp__rec_slot;
typedef struct kgp__rec_memo { kgp__rec_slot slot[2]; } kgp__rec_memo;
/* The snapshot's memo, locked (src/api_db.c); the lock is held while the
 * caller computes a missing record, so concurrent callers wait for it
 * rather than compute it again. Release with kgp__snap_memo_unlock. */
kgp__rec_memo *kgp__snap_memo_lock(kgp_snap *s);
void kgp__snap_memo_unlock(kgp_snap *s);
/* The record as the checkpoint keeps it (KGE_LINK_EXTRA: JSON with the
 * fingerprint, the options' fingerprint and the selection's keys),
 * malloc'ed; NULL when out of memory. */
char *kgp__graph_record_json(kgp_snap *s, uint32_t want, const char *course, const kgp__graph_rec *rec,
                             uint64_t options);
/* 1 when ckpt holds a whole checkpoint trained on this record with these
 * options (so training again would redo the same work). */
int kgp__checkpoint_reusable(const char *ckpt, const kgp__graph_rec *rec, uint64_t options);
/* KGP_OK unless ckpt is missing (KGP_ENOTFOUND), has a malformed record
 * (KGP_EINPUT) or was trained on another graph (KGP_EINPUT, with the
 * counts); the error is set on s. */
kgp_status kgp__checkpoint_usable(kgp_snap *s, const char *ckpt);

/* The record of a partial folder (an interrupted run): record (JSON of
 * kgp__graph_record_json) plus the run's options o, with model, vocab
 * and mode as resolved; malloc'ed, NULL when out of memory. */
char *kgp__partial_record_json(const char *record, const kgp_train_options *o, const char *model, int vocab,
                               const char *mode);

/* What --resume reads from checkpoint dir's record. */
typedef struct kgp__resume {
    const char *dir;
    int recorded;           /* 0: no record (a finished run written before records) */
    int interrupted;        /* 1: a partial folder; opt holds its run's options */
    const char *fingerprint, *course;   /* of the graph it trained on (course NULL: all) */
    int vocab;
    kgp_train_options opt;  /* strings point into root */
    struct json_t *root;
} kgp__resume;
/* Errors, set on db: KGP_ENOTFOUND (no checkpoint in dir), KGP_EINPUT
 * (malformed record, named). kgp__resume_free it. */
kgp_status kgp__resume_read(kgp_db *db, const char *dir, kgp__resume *r);
void kgp__resume_free(kgp__resume *r);

#endif
