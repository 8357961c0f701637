/** @file kgpath_train.h
 * @brief Learning from the curriculum itself: train the encoder (BERT +
 * graph attention + a pair decoder) on the database's concepts and
 * prerequisite edges, in C, and suggest missing prerequisites with scores
 * a designer can review. Included by kgpath.h.
 *
 * A training run starts from a Hugging Face BERT folder (any BERT-family
 * checkpoint: config.json, vocab.txt, model.safetensors) or resumes a
 * kgpath checkpoint, and writes a checkpoint folder: a Hugging Face BERT
 * folder (loadable by `transformers`; also usable as a kgpath model for
 * `encode`/`embed`) plus kgpath's parts (graph attention, decoder, LoRA
 * adapters, optimiser and random state), each file written atomically.
 */
#ifndef KGPATH_TRAIN_H
#define KGPATH_TRAIN_H

#include "kgpath.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Options of kgp_train; zero/NULL fields take the defaults shown. */
typedef struct kgp_train_options {
    const char *model;      /**< BERT folder to start from (NULL: $KGPATH_MODEL; neither: the
                                 small model from scratch, as vocab_size) */
    const char *resume;     /**< the partial folder of an interrupted run (kgp_checkpoint_partial_path)
                                 to continue: it ends as the uninterrupted run would, bit for bit,
                                 on its recorded course, options and step count (course, when
                                 given, must be the recorded one; steps, when given, its step
                                 count; the other options are the recorded ones); a finished
                                 checkpoint: nothing to do (report->finished) */
    const char *out;        /**< checkpoint folder to write (NULL: the database's own, DB.kgmodel:
                                 kgp_checkpoint_path); replaced as a whole, in one rename */
    const char *course;     /**< train on one course only (NULL: all) */
    const char *mode;       /**< "full" (default), "lora" (adapters on query/value) or "head" */
    int         vocab_size; /**< with no model: start from scratch, with a WordPiece vocabulary of at
                                 most this many pieces (0: 2000) trained on the concepts' text and a
                                 small random BERT (hidden 128, 2 layers, 4 heads) */
    const char *objective;  /**< "link" (default): prerequisite link prediction; "mlm": masked-LM
                                 pre-training on the concepts' text (15%, 80/10/10), writing a plain
                                 BERT folder (with its MLM head) to start a link run from */
    long        steps;      /**< 200 */
    double      lr;         /**< encoder peak learning rate, 5e-5 (lora: 1e-3) */
    double      head_lr;    /**< graph attention + decoder, 2e-3 */
    double      val_frac;   /**< edges held out for validation, 0.1 */
    int         patience;   /**< validations without improvement before stopping (0: never) */
    int         max_tokens; /**< tokens per concept text, [CLS]/[SEP] included, 32 */
    int         batch;      /**< positive edges per step, 32 */
    int         enc_batch;  /**< concepts re-encoded per step, 64 (0: all) */
    double      dropout;    /**< hidden and attention dropout, 0.1 */
    double      edge_dropout; /**< message-passing edge dropout, 0.1 */
    unsigned long long seed;  /**< 1 */
    int         threads;    /**< 0: default */
    double      view_prob;  /**< title/summary views: probability that a concept encoded for a step
                                 reads its title alone or its summary alone (each half the time)
                                 instead of its whole text; full and lora modes; 0 (default): never */
    int         force;      /**< train even when out holds a checkpoint of the same graph and options */
} kgp_train_options;

/** Progress of one step (for a progress bar and a JSON-lines log). */
typedef struct kgp_train_progress {
    long   step, steps;
    double loss, lr, grad_norm;
    double val_loss;        /**< NaN when not evaluated at this step */
    double seconds;         /**< since the run started */
} kgp_train_progress;

/** What the progress callback returns: 0 to go on; KGP_TRAIN_SAVE to
 * write the run's resumable state now (kgp_checkpoint_partial_path of the
 * output folder, replaced as a whole) and go on; KGP_TRAIN_INTERRUPT to
 * write it and stop there (kgp_train then returns KGP_OK with
 * report->interrupted; nothing else is written, and `--resume` of that
 * folder ends as the uninterrupted run would, bit for bit). Both are
 * ignored at the run's last step and where early stopping ends it (the
 * finished checkpoint follows at once), and by masked-LM pre-training,
 * which KGP_TRAIN_INTERRUPT stops with nothing written. Any other non-zero
 * value stops training early and writes the finished checkpoint of the
 * steps done (calibrated as usual). The callback runs on the calling
 * thread after each step; this is how a CLI turns a signal into a clean
 * stop (the library installs no handler). */
#define KGP_TRAIN_SAVE      0x100
#define KGP_TRAIN_INTERRUPT 0x200
typedef int (*kgp_train_fn)(void *ud, const kgp_train_progress *p);

/** What a run did. */
typedef struct kgp_train_report {
    size_t concepts, edges, train_edges, val_edges;
    size_t rejected_negatives; /**< designers' rejected suggestions trained on as labelled negatives */
    long   steps_done;
    double first_loss, last_loss, best_val_loss; /**< NaN when none */
    double seconds;
    int    reused;          /**< 1: out already held a checkpoint of this graph with these options;
                                 nothing was trained or written */
    char   fingerprint[17]; /**< of the graph trained on (hex), as kept in the checkpoint */
    int    calibrated;      /**< Platt scaling fitted on held-out edges (see kgp_train) */
    double platt_a, platt_b;
    double stack_structural; /**< stacked head: weight C of the structural regression's log-odds u
                                 (probability 1 / (1 + exp(A·s + C·u + B))), fitted with A, B on
                                 the cross-fitted out-of-fold pairs when there are rejections;
                                 0: Platt on the model's logit alone */
    size_t cal_positives, cal_negatives;   /**< held-out pairs it was fitted on */
    int    cal_folds;       /**< 0: fitted on the validation split; K: on the out-of-fold scores of K
                                 models (cross-fitted, when the split would hold under 50 edges
                                 in head mode; the checkpoint's model then learns from every edge) */
    double prior;           /**< share of prerequisites the scores hold for: among the reviewed
                                 pairs (edges and rejected suggestions) when there are at least
                                 as many rejections as edges, else 0.5 (kgp_score_pairs_prior) */
    size_t graph_negatives; /**< with no rejections, or fewer than half the edges: the labelled
                                 negatives the graph implies (reversed edges, random non-edges,
                                 role pairs) that the stacked head and the calibration learnt
                                 from instead of (or beside) the rejections */
    long   steps;           /**< the run's length (its schedule's steps) */
    int    interrupted;     /**< 1: stopped by KGP_TRAIN_INTERRUPT after steps_done; the resumable
                                 state is in kgp_checkpoint_partial_path(out), nothing else written */
    int    finished;        /**< 1: opt->resume named a finished run: nothing trained or written */
} kgp_train_report;

/** A database's own checkpoint folder: its path with this suffix
 * ("kgpath.db" → "kgpath.db.kgmodel"), beside it. kgp_train writes there
 * when no folder is given; the CLI's suggest, check --suspicious, align,
 * embed, search, similar and plan --goal-text read it by default. */
#define KGP_CHECKPOINT_SUFFIX ".kgmodel"

/** The default checkpoint folder of the database at db_path into buf
 * (size bytes). Errors: KGP_EUSAGE (no path, buf too small). O(length). */
kgp_status kgp_checkpoint_path(const char *db_path, char *buf, size_t size);

/** Where a run writing the checkpoint folder OUT keeps its resumable
 * state while it trains (KGP_TRAIN_SAVE, KGP_TRAIN_INTERRUPT): OUT with
 * this suffix, beside it, so an interrupted run never replaces the
 * finished checkpoint OUT held before. The finished run removes it. */
#define KGP_PARTIAL_SUFFIX ".part"

/** out's partial folder (out + KGP_PARTIAL_SUFFIX) into buf (size bytes).
 * Errors: KGP_EUSAGE (no path, buf too small). O(length). */
kgp_status kgp_checkpoint_partial_path(const char *out, char *buf, size_t size);

/** How a checkpoint relates to the database (kgp_checkpoint_check). */
enum {
    KGP_CKPT_CURRENT = 0,   /**< trained on exactly this graph (same fingerprint) */
    KGP_CKPT_CHANGED,       /**< trained on an earlier state of it: usable, `train` brings it up to date */
    KGP_CKPT_OTHER,         /**< trained on another graph: fewer than half its concepts are here */
    KGP_CKPT_UNRECORDED     /**< written before checkpoints recorded their graph */
};

typedef struct kgp_checkpoint_info {
    int    state;           /**< KGP_CKPT_* */
    size_t concepts, edges; /**< of the graph it was trained on (0 when unrecorded) */
    size_t known;           /**< of those concepts, how many this database has */
    int    partial;         /**< 1: the resumable state of an interrupted run (KGP_PARTIAL_SUFFIX),
                                 which scoring refuses: `train --resume` finishes it */
} kgp_checkpoint_info;

/** Compares checkpoint ckpt with the snapshot's graph. Errors:
 * KGP_ENOTFOUND (no checkpoint there), KGP_EINPUT (malformed record),
 * KGP_EDB, KGP_ENOMEM. Cost: one pass over the concepts' text and edges. */
kgp_status kgp_checkpoint_check(kgp_snap *s, const char *ckpt, kgp_checkpoint_info *info);

/** Trains prerequisite link prediction on the concepts (title, summary and
 * goals as text) and resolved requirement edges (each group member is a
 * prerequisite of its concept) of the database, then writes opt->out.
 * The database's rejected suggestions (kgp_reject_suggestions) whose two
 * concepts are trained on, and that are not edges, are labelled negatives
 * (report->rejected_negatives counts them); with none, or fewer than half
 * as many as the edges (too few to fit on), the link model learns as it did
 * before rejections existed, and the stacked head and its calibration learn
 * from the negatives the graph implies (reversed edges and non-edges drawn
 * from the graph, kge_graph_negatives; report->graph_negatives counts
 * them) beside those rejections.
 * With opt->resume, see kgp_train_options.resume and kgp_train_fn.
 * Errors (message in kgp_db_errmsg): KGP_EUSAGE (bad option, no model, no
 * edges to learn from; with resume: another course or step count than
 * recorded), KGP_ENOTFOUND (model, checkpoint or course), KGP_EINPUT (bad
 * checkpoint: malformed, truncated, torn), KGP_ECONFLICT (resume: the graph
 * changed since the run was interrupted), KGP_EIO, KGP_ENOMEM.
 * Cost: per step a forward and backward pass of the encoder over
 * enc_batch concepts; deterministic for a seed and thread count. */
kgp_status kgp_train(kgp_db *db, const kgp_train_options *opt, kgp_train_fn progress, void *ud,
                     kgp_train_report *report);

/** A proposed prerequisite: prereq (snapshot index) is probably a
 * prerequisite of concept, with the model's probability and the existing
 * edge that is the nearest evidence (its prerequisite is the concept most
 * similar to prereq among concept's current prerequisites; KGP_NONE when
 * concept has none). */
typedef struct kgp_suggestion {
    uint32_t prereq, concept;
    float    score;
    uint32_t evidence;      /**< a current prerequisite of concept, or KGP_NONE */
    float    evidence_sim;  /**< cosine of prereq and evidence in the model's space */
    float    mention;       /**< share of prereq's title that concept's text (after its
                                 title) contains as one run: 1 when it names prereq word
                                 for word, 0 when none of it (the model's mention feature) */
} kgp_suggestion;

/** Scores every ordered pair (a, b) of distinct concepts of course (NULL:
 * all) that the graph does not order yet: neither comes before the other
 * through requirement and recommended edges, transitively (an edge there
 * would be redundant or contradict the graph; accepted suggestions are not
 * proposed again), and that no designer has rejected
 * (kgp_reject_suggestions), and returns those scoring at least min_score,
 * best first, at most top (0: no limit), in a malloc'ed array (free()).
 * Uses the checkpoint folder ckpt. The model always sees the whole graph
 * (every course), so a pair's score does not depend on the course filter
 * and equals kgp_score_pairs'; course only selects the candidates (both
 * concepts in it) and the order is taken across courses too.
 * On a selection of more than 2,048 concepts (over 4M ordered pairs) the
 * candidate prerequisites of each concept b are not all m but b's 4M / m
 * (at least 64) nearest concepts by cosine in the model's space, b's
 * course mates (while the courses' pairs number 4M at most) and the 64
 * concepts with the most known dependents: a pair outside them is not
 * listed (score it with kgp_score_pairs). On a 10,000-concept graph this
 * kept 196 of the full scan's top 200 at a tenth of the time.
 * Errors: KGP_ENOTFOUND (checkpoint or course), KGP_EINPUT (bad
 * checkpoint, a damaged kgpath_fit.safetensors among its files), KGP_EDB
 * (reading the rejections), KGP_ENOMEM. Cost: one encoder pass over all n
 * concepts (none while the graph is the one kgp_train stored its encodings
 * for: kgpath_fit.safetensors, the same values), O(m · (n + E)) time and O(m · n)
 * memory for the order (a search from each of the m candidates), then
 * O(min(m², 4M) · width) for the decoder (and O(m² · C) by sgemm for the
 * nearest concepts on large selections). */
kgp_status kgp_suggest(kgp_snap *s, const char *ckpt, const char *course, float min_score, size_t top,
                       kgp_suggestion **out, size_t *nout);

/** Probabilities out[p] that pairs[2p] is a prerequisite of pairs[2p+1]
 * (snapshot indices), with the database's edges as context except the pair
 * itself. The stacked head's pair regression comes from the checkpoint
 * while the graph is the one kgp_train fitted it on and no pair is one of
 * its edges (else it is fitted again here, O(E · (n + E)) at worst: the
 * same scores either way). Errors: KGP_EUSAGE (index out of range), as
 * kgp_suggest. */
kgp_status kgp_score_pairs(kgp_snap *s, const char *ckpt, const uint32_t *pairs, size_t n, float *out);

/** The prior of kgp_score_pairs_prior that estimates a list's share of
 * prerequisites from the list's own scores. */
#define KGP_PRIOR_AUTO 2.0
/** Fewer pairs than this are scored at the checkpoint's prior under
 * KGP_PRIOR_AUTO: too few to estimate a share from. */
#define KGP_PRIOR_AUTO_MIN 50

/** kgp_score_pairs for a given share of prerequisites among the pairs.
 * A checkpoint's probabilities hold for the share kgp_train recorded
 * (kgp_train_report.prior: among the pairs a designer reviewed, or 0.5);
 * prior in (0, 1) moves each log-odds by ln(π/(1−π)) − ln(π₀/(1−π₀)) so
 * they hold for a list of which that share are prerequisites (a ranking is
 * unchanged); prior negative keeps the checkpoint's. prior KGP_PRIOR_AUTO
 * estimates the share from the list's own scores (kge_prior_em: Saerens,
 * Latinne & Decaestecker 2002 EM, from π₀, clamped to [1/n, 1 − 1/n];
 * O(200 · n) more at most) and moves them to it; under KGP_PRIOR_AUTO_MIN
 * pairs it keeps the checkpoint's. *prior_used (may be NULL) gets the
 * share the scores hold for, or -1 when the checkpoint holds no
 * calibration (trained on too few edges to hold any out): its scores are
 * then left as they are, whatever prior says. Errors: KGP_EUSAGE (prior 0, 1 or above other than
 * KGP_PRIOR_AUTO, NaN), as kgp_score_pairs. */
kgp_status kgp_score_pairs_prior(kgp_snap *s, const char *ckpt, const uint32_t *pairs, size_t n, double prior,
                                 float *out, double *prior_used);

/** Outcome of one edge given to kgp_accept_suggestions. */
enum {
    KGP_ACCEPT_ADDED = 0,   /**< written (or would be, in a dry run) */
    KGP_ACCEPT_UNKNOWN,     /**< an endpoint is not a concept of the database */
    KGP_ACCEPT_SELF,        /**< prerequisite and concept are the same */
    KGP_ACCEPT_EXISTS,      /**< already a requirement prereq → concept */
    KGP_ACCEPT_DUPLICATE,   /**< the same edge earlier in the list */
    KGP_ACCEPT_CYCLE,       /**< concept already comes before prereq (see below) */
    KGP_ACCEPT_ALREADY      /**< already a recommended edge prereq → concept: left as it
                                 is, never an error (accepting a list again changes nothing) */
};

/** A suggestion chosen for the graph, by concept keys ("course:concept"). */
typedef struct kgp_accepted {
    const char *prereq;     /**< recommended first */
    const char *concept;    /**< the concept it is recommended before */
    float score;            /**< the model's probability, written into the reason */
    int outcome;            /**< out: KGP_ACCEPT_* */
} kgp_accepted;

#define KGP_ACCEPT_SKIP_BAD 0x1   /**< write the good edges; mark and skip the bad ones */
#define KGP_ACCEPT_DRY_RUN  0x2   /**< check only, write nothing */
#define KGP_ACCEPT_TOP      0x4   /**< the model's own top list, not a reviewed one
                                       (`suggest --accept`): each reason ends with
                                       KGP_ACCEPT_TOP_MARK, so a later run can tell */
#define KGP_ACCEPT_TOP_MARK ", taken by --accept"

/** Writes chosen suggestions into the database as recommended (soft)
 * edges, each with the reason "suggested by model MODEL, score S" (S with
 * two decimals; KGP_ACCEPT_TOP appends KGP_ACCEPT_TOP_MARK), in one write transaction: snapshots, `show`, `export` and
 * the planner then see them as authored <recommends> edges. model names
 * the checkpoint (the CLI passes the folder as given).
 * Each edge is checked in order against the database and the edges
 * accepted before it: both concepts exist and differ, the edge is not
 * already a requirement, and concept does
 * not already come before prereq through requirement and recommended edges,
 * transitively. Recommended edges are soft, but one that contradicts the
 * order the graph already gives would only confuse a plan, so it is refused
 * (KGP_ACCEPT_CYCLE). Without KGP_ACCEPT_SKIP_BAD the first bad edge
 * refuses the whole list (KGP_EINPUT, nothing written, the message names
 * the edge and, for a cycle, the path); with it, bad edges are marked in
 * outcome and the others written. An edge already recommended is marked
 * KGP_ACCEPT_ALREADY and left as it is, never an error, so accepting the
 * same reviewed list again writes nothing and succeeds (idempotent). *nadded (may be NULL) counts the edges
 * written (or that would be, with KGP_ACCEPT_DRY_RUN).
 * The edges live in the concepts' records: an identical re-import of the
 * course keeps them, a changed one replaces them with what its source says
 * (`kgpath export` first to keep them).
 * Errors: KGP_EUSAGE (database opened read-only, bad arguments),
 * KGP_EINPUT, KGP_EDB (including a full map while a snapshot of this
 * database is open in the process: close snapshots first), KGP_ENOMEM.
 * Cost: O(n) record updates plus one reachability search per edge over the
 * concepts that come after its concept (O(V + E) at worst). */
kgp_status kgp_accept_suggestions(kgp_db *db, const char *model, kgp_accepted *edges, size_t n, unsigned flags,
                                  size_t *nadded);

/* ---- rejected suggestions: a designer's "no", remembered ---- */

/** Outcome of one pair given to kgp_reject_suggestions or
 * kgp_unreject_suggestions, and state of a listed rejection. */
enum {
    KGP_REJECT_DONE = 0,    /**< recorded / removed (or would be, in a dry run); listed: in force */
    KGP_REJECT_UNKNOWN,     /**< an endpoint is not a concept of the database (listed: ignored) */
    KGP_REJECT_SELF,        /**< prerequisite and concept are the same */
    KGP_REJECT_EDGE,        /**< already a requirement or recommended edge (listed: ignored) */
    KGP_REJECT_DUPLICATE,   /**< the same pair earlier in the list */
    KGP_REJECT_ALREADY,     /**< already rejected: the stored record is kept (not an error) */
    KGP_REJECT_TOO_LONG,    /**< the two keys together exceed LMDB's key size (511 bytes) */
    KGP_REJECT_ABSENT       /**< unreject: the pair is not rejected */
};

/** A rejected suggestion, by concept keys ("course:concept"). */
typedef struct kgp_rejection {
    const char *prereq;     /**< refused as a prerequisite */
    const char *concept;    /**< of this concept */
    const char *model;      /**< checkpoint that proposed or scored it; may be NULL */
    float score;            /**< that model's probability; NaN: none */
    const char *reason;     /**< the designer's words; may be NULL */
    int64_t time;           /**< unix seconds it was recorded (input: 0 means now) */
    int outcome;            /**< out: KGP_REJECT_* */
} kgp_rejection;

#define KGP_REJECT_DRY_RUN 0x2    /**< check only, write nothing (same value as KGP_ACCEPT_DRY_RUN) */

/** Records the designer's rejections of suggested pairs, in one write
 * transaction: kgp_suggest never proposes a rejected pair again, and
 * kgp_train uses them as labelled negatives. Strict: every pair must name
 * two distinct concepts of the database that are not already an edge
 * prereq → concept, once; the first bad pair refuses the whole list
 * (nothing written, its outcome set, the message names it by 1-based
 * index). A pair already rejected is kept as it was (KGP_REJECT_ALREADY,
 * not an error). Nothing new: nothing is written. Rejections are kept by
 * concept keys, in their own table: re-importing a course keeps them; one
 * whose pair later becomes an edge is ignored. *nadded (may be NULL)
 * counts the pairs recorded (or that would be, with KGP_REJECT_DRY_RUN).
 * Errors: KGP_ENOTFOUND (unknown concept), KGP_EINPUT (same concept, an
 * existing edge, a repeated pair, keys too long), KGP_EUSAGE (database
 * opened read-only, bad arguments), KGP_EDB, KGP_ENOMEM.
 * Cost: O(n² + n log N). */
kgp_status kgp_reject_suggestions(kgp_db *db, kgp_rejection *pairs, size_t n, unsigned flags, size_t *nadded);

/** Removes rejections (prereq and concept are read; the concepts need not
 * exist any more), in one write transaction. Strict: a pair that is not
 * rejected (KGP_REJECT_ABSENT) or is repeated refuses the whole list
 * (KGP_EINPUT, nothing removed). *nremoved (may be NULL) counts them.
 * Errors: KGP_EINPUT, KGP_EUSAGE, KGP_EDB, KGP_ENOMEM. Cost: O(n² + n log N). */
kgp_status kgp_unreject_suggestions(kgp_db *db, kgp_rejection *pairs, size_t n, unsigned flags, size_t *nremoved);

/** Lists the stored rejections whose concept (or prerequisite) belongs to
 * course (NULL: all), ordered by prerequisite key then concept key, in one
 * malloc'ed block (array and strings: free(*out) once). outcome says
 * whether each is in force in the snapshot: KGP_REJECT_DONE, or ignored
 * because a concept is gone (KGP_REJECT_UNKNOWN) or the pair is now an
 * edge (KGP_REJECT_EDGE). A database without rejections gives none (and
 * is not written to). Errors: KGP_EDB, KGP_ENOMEM. Cost: O(R · key length)
 * plus the snapshot's key lookups. */
kgp_status kgp_rejections(kgp_snap *s, const char *course, kgp_rejection **out, size_t *nout);

/** An existing requirement edge as the model sees it. */
typedef struct kgp_suspect {
    uint32_t prereq, concept;   /**< the edge prereq → concept (snapshot indices) */
    float    score;             /**< probability of the edge as written */
    float    reverse;           /**< probability of concept → prereq; above score: it may point the wrong way */
} kgp_suspect;

/** Scores every resolved requirement edge of course (NULL: all; both
 * concepts in the course) both ways, in the whole graph as kgp_suggest,
 * each without itself (and the few edges scored with it) as context, and
 * returns the top (0: all) lowest-scoring, lowest first, in a malloc'ed
 * array (free()). Errors: as kgp_suggest. Cost: one encoder pass per 16
 * edges. */
kgp_status kgp_suspicious(kgp_snap *s, const char *ckpt, const char *course, size_t top, kgp_suspect **out,
                          size_t *nout);

/** A likely-identical pair of concepts across two courses. */
typedef struct kgp_alignment {
    uint32_t a, b;              /**< snapshot indices: a in course A, b in course B */
    float    similarity;        /**< cosine of their graph-contextual embeddings */
} kgp_alignment;

/** Mutual nearest neighbours between the concepts of course_a and
 * course_b in the checkpoint's graph-contextual embedding space (every
 * concept and edge of the database as context), with cosine at least
 * min_sim, most similar first, in a malloc'ed array (free()): candidates
 * to merge. Errors: KGP_ENOTFOUND (course or checkpoint), as kgp_suggest.
 * Cost: one encoder pass, O(|A|·|B|·dim). */
kgp_status kgp_align(kgp_snap *s, const char *ckpt, const char *course_a, const char *course_b, float min_sim,
                     kgp_alignment **out, size_t *nout);

/* ---- evaluation on public prerequisite datasets (`kgpath eval-prereq`) ---- */

/** Options of kgp_eval_prereq; zero/NULL fields take the defaults shown. */
typedef struct kgp_eval_options {
    const char *dataset;      /**< a path: a RefD prefix (PREFIX.edges, PREFIX.edges_neg: "A<TAB>B" = B is a
                                   prerequisite of A), a LectureBank 2.0 data folder (322topics_final.tsv,
                                   split/), a Metacademy folder (concepts.jsonl, edges.tsv); or a name:
                                   refd-cs, refd-math, lecturebank, metacademy (found under datasets_dir) */
    const char *datasets_dir; /**< for names: NULL → $KGPATH_DATASETS, else ../shared/datasets */
    const char *csv;          /**< instead of a dataset: a course file any importer reads (CSV: id, title,
                                   summary, minutes, prerequisites, reason) as the known graph ... */
    const char *pairs;        /**< ... and its labelled pairs: "prerequisite<TAB>concept<TAB>1|0" lines */
    const char *model;        /**< as kgp_train: BERT folder to start from (NULL: $KGPATH_MODEL; neither:
                                   the small model from scratch) */
    const char *definitions;  /**< LectureBank: JSON lines {topic_id, generated_definition} added to the names */
    const char *mode;         /**< as kgp_train (NULL: its default) */
    int    folds;             /**< 5 (LectureBank: its published folds, at most 5) */
    long   steps;             /**< as kgp_train (0: its default, 200) */
    int    max_tokens;        /**< as kgp_train (0: its default, 32) */
    unsigned long long seed;  /**< folds and training, 1 */
    int    threads;           /**< 0: default */
    double prior;             /**< with csv: the list's share of prerequisites, as `suggest --pairs --prior`
                                   (0: none, the checkpoint's own, as bare `suggest --pairs`;
                                   KGP_PRIOR_AUTO: estimated from the scores, as `--prior auto`) */
    const char *write_folds;  /**< a folder: instead of evaluating, write each fold there as the files a
                                   user has, DIR/foldF.csv (the known graph as a course, no rejections) and
                                   foldF.tsv (its test pairs, labelled), the input of csv and pairs */
} kgp_eval_options;

/** Methods compared, in report order: kgpath (what `kgpath train` then
 * `kgpath suggest --pairs` give), transitivity (1 / the shortest path from
 * the candidate to the concept in the known graph), precedes count (how
 * many known concepts the candidate already precedes), a logistic
 * regression on structural features of the known graph (see
 * kge_prereq_baselines), and out-degree (of how many known concepts the
 * candidate is a direct prerequisite: precedes count without the
 * transitive part, the stronger of the two on some lists). */
#define KGP_EVAL_METHODS 5
#define KGP_EVAL_MAX_FOLDS 16

/** A method's figures on one fold's test pairs. precision, recall, f1 at
 * 0.5 and ece (10 bins) need probabilities: kgpath's only (NaN for the
 * baselines). f1_best is the F1 at the threshold that is best on the test
 * pairs themselves: an upper bound no threshold chosen beforehand beats. */
typedef struct kgp_eval_metrics { double precision, recall, f1, f1_best, auc, ece; } kgp_eval_metrics;

/** What kgp_eval_prereq measured. */
typedef struct kgp_eval_report {
    char   dataset[512];      /**< the path read */
    char   kind[16];          /**< "refd", "lecturebank", "metacademy" or "csv" */
    const char *method[KGP_EVAL_METHODS];
    size_t concepts, pairs, positives;          /**< pairs and positives: fold 0, train + test */
    int    folds, folds_done;
    size_t fold_train[KGP_EVAL_MAX_FOLDS], fold_test[KGP_EVAL_MAX_FOLDS];
    size_t fold_edges[KGP_EVAL_MAX_FOLDS];      /**< edges kgpath trained on */
    size_t fold_rejected[KGP_EVAL_MAX_FOLDS];   /**< labelled negatives it trained on (as rejections) */
    size_t fold_dropped[KGP_EVAL_MAX_FOLDS];    /**< training positives left out: they close a cycle */
    double fold_prior[KGP_EVAL_MAX_FOLDS];      /**< the share kgpath's scores were moved to (the test
                                                     pairs' own, the given one, the estimate, or the
                                                     checkpoint's) */
    kgp_eval_metrics fold[KGP_EVAL_MAX_FOLDS][KGP_EVAL_METHODS];
    kgp_eval_metrics mean[KGP_EVAL_METHODS], sd[KGP_EVAL_METHODS];   /**< over the folds (sample sd) */
    double train_seconds;     /**< kgpath training, all folds */
    char   errmsg[1024];      /**< the error, when the call fails */
} kgp_eval_report;

/** Called after each fold (r->folds_done folds filled); non-zero stops
 * (the report then covers the folds done). */
typedef int (*kgp_eval_fn)(void *ud, const kgp_eval_report *r);

/** Runs the prerequisite benchmark on the user's path: per fold, the
 * fold's known graph becomes a course as a user has it (a CSV: every
 * concept with its title and text, the training positives as its
 * prerequisites; an edge that would close a cycle, which import refuses,
 * is left out and counted), imported into a fresh database in a work
 * folder ($TMPDIR), with the training negatives recorded as a designer's
 * rejected suggestions; then exactly `kgpath train` (kgp_train, the
 * options of opt) and `kgpath suggest --pairs` (kgp_score_pairs) on the
 * test pairs, beside the baselines on the same graph. RefD: folds
 * stratified by label (seeded); LectureBank 2.0: its published folds;
 * Metacademy: per seed, 20% of the edges held out with as many random
 * non-edges, five random non-edges per training edge. With opt->csv and
 * opt->pairs: one run on that course and those pairs. The work folder is
 * removed afterwards.
 * Errors (message in out->errmsg): KGP_EUSAGE (bad option), KGP_ENOTFOUND
 * (dataset, file or model missing), KGP_EINPUT (malformed dataset, with
 * file:line; a fold without both classes; a course that does not import),
 * KGP_EIO, KGP_ENOMEM; and kgp_train's.
 * Cost: per fold, an import, the training run, and O(pairs · (concepts +
 * edges)) for the baselines. */
kgp_status kgp_eval_prereq(const kgp_eval_options *opt, kgp_eval_fn fn, void *ud, kgp_eval_report *out);

#ifdef __cplusplus
}
#endif
#endif /* KGPATH_TRAIN_H */
