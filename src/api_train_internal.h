/* Internals shared by the training API's files (api_train.c, api_suggest.c,
 * api_ckpt.c, api_eval.c). Not installed. */
#ifndef KGP_API_TRAIN_INTERNAL_H
#define KGP_API_TRAIN_INTERNAL_H

#include <stdint.h>

#include "kgpath.h"
#include "kgpath_train.h"
#include "encoder/bert.h"
#include "encoder/train_eval.h"
#include "encoder/train_link.h"
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

/* ---- the data training and scoring share (api_train.c, api_suggest.c) ---- */

/* Concepts of one course (or all) as a kge_link_data, with the maps
 * between snapshot indices and rows. */
typedef struct kgp__tdata {
    kge_link_data d;
    uint32_t *row_of;      /* [g->n] row, or KGP_NONE */
    uint32_t *snap_of;     /* [n] snapshot index */
    int32_t  *ids;
    uint8_t  *mask;
    uint32_t *src, *dst;
    int32_t  *vids;        /* views (title alone, summary alone): (2, n, T), or NULL */
    uint8_t  *vmask;
    uint32_t *neg_src, *neg_dst;   /* rejected suggestions as rows (kgp__tdata_rejected), or NULL */
    kge_link_text mt;      /* titles and bodies for the mention features (d.mention) */
    const char **title;    /* [n] each row's title (its key when it has none), pointing into the snapshot */
    kge_link_fit fit;      /* what `train` stored for scoring this very data (kgp__load_for_snap), or empty */
} kgp__tdata;
void kgp__tdata_free(kgp__tdata *t);
/* Builds t's arrays for course (NULL: every course) with bert's tokens
 * (with views: also the two views of every concept). Errors are set on
 * the snapshot handle. */
kgp_status kgp__tdata_build(kgp_snap *s, const char *course, const kge_bert *bert, int max_tokens, int views,
                            kgp__tdata *t);
/* The designers' rejected suggestions among t's concepts that are not
 * edges, as labelled negatives of t->d (rows; in key order). None: t->d
 * keeps nneg 0 and NULL arrays. Errors are set on the snapshot handle. */
kgp_status kgp__tdata_rejected(kgp_snap *s, kgp__tdata *t);
/* *want = course's index, or KGP_NONE when course is NULL (all courses);
 * KGP_ENOTFOUND, set on the snapshot, when there is no such course. */
kgp_status kgp__find_course(kgp_snap *s, const char *course, uint32_t *want);
/* Is p → c an edge of the snapshot (p a resolved member of a requirement
 * group of c, or recommended before c)? O(c's groups and edges). */
int kgp__is_edge(const kgg_snap *g, uint32_t p, uint32_t c);
/* qsort/bsearch order of uint64_t keys (an edge packed as src << 32 | dst). */
int kgp__cmp_edge(const void *a, const void *b);
/* The graph's negatives (kge_graph_negatives) appended after the r pairs
 * already in (*ns, *nd), reallocating them; *m counts the appended.
 * Returns 0 or -1 (out of memory). */
int kgp__graph_negatives_after(size_t n, size_t E, const uint32_t *src, const uint32_t *dst, uint64_t seed,
                               uint32_t **ns, uint32_t **nd, size_t r, size_t *m);
/* The stacked head's pair regression (see api_train.c): how many features
 * it reads beyond the eight structural ones, its fit on a graph's edges
 * against negatives (0, -1 nothing to fit, -2 out of memory), and its
 * log-odds u of pairs under a fit (0, -2 out of memory). */
size_t kgp__extra_feats(const char *const *titles, int version);
int kgp__structural_fit(size_t n, size_t E, const uint32_t *src, const uint32_t *dst, const uint32_t *ns,
                        const uint32_t *nd, size_t nr, const char *const *titles, int version, kge_pair_fit *fit);
int kgp__structural_apply(size_t n, size_t E, const uint32_t *src, const uint32_t *dst, const uint32_t *pairs,
                          size_t m, const char *const *titles, int version, const kge_pair_fit *fit, double *u);
/* Loads the checkpoint ckpt and the data of the whole graph (scoring
 * always sees every course). Errors are set on s. (api_suggest.c) */
kgp_status kgp__load_for_snap(kgp_snap *s, const char *ckpt, kge_link_model **lm, kgp__tdata *t);
/* What scoring this very graph with lm computes first, for the checkpoint
 * to keep (the encodings in head mode, the stacked head's regression).
 * Errors, set on s: KGP_ENOMEM, the encoder's, the store's. (api_suggest.c) */
kgp_status kgp__scoring_fit(kgp_snap *s, kge_link_model *lm, kge_link_fit *fit);

#endif
