/* Checkpoints kept with the database (kgpath_train.h): their default
 * place, the record of the graph a checkpoint was trained on (a
 * fingerprint of what training read, and the concepts' keys) and the
 * checks made with it: an unchanged graph reuses its checkpoint, a changed
 * one is reported, a checkpoint of another graph is refused. */
#include "kgpath.h"
#include "kgpath_train.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "api_internal.h"
#include "api_train_internal.h"
#include "encoder/train_link.h"
#include "base/alloc.h"
#include "graph/store_reject.h"

#define GRAPH_FORMAT "kgpath-graph-1"

kgp_status kgp_checkpoint_path(const char *db_path, char *buf, size_t size)
{
    if (!db_path || !*db_path || !buf) return KGP_EUSAGE;
    int n = snprintf(buf, size, "%s%s", db_path, KGP_CHECKPOINT_SUFFIX);
    return n < 0 || (size_t)n >= size ? KGP_EUSAGE : KGP_OK;
}

kgp_status kgp_checkpoint_partial_path(const char *out, char *buf, size_t size)
{
    if (!out || !*out || !buf) return KGP_EUSAGE;
    int n = snprintf(buf, size, "%s%s", out, KGP_PARTIAL_SUFFIX);
    return n < 0 || (size_t)n >= size ? KGP_EUSAGE : KGP_OK;
}

/* FNV-1a, 64 bits, over a byte run; strings include their NUL so that
 * ("ab", "c") and ("a", "bc") differ. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) { h ^= b[i]; h *= 0x100000001b3ull; }
    return h;
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
    return fnv(h, s ? s : "", (s ? strlen(s) : 0) + 1);
}

typedef struct rej_fp {
    const kgg_snap *g;
    uint32_t want;
    uint64_t h;
    size_t n;
} rej_fp;

static int rej_fp_one(void *ud, const kgg_reject *r)
{
    rej_fp *a = ud;
    uint32_t p = kgg_snap_find_key(a->g, r->prereq), c = kgg_snap_find_key(a->g, r->concept);
    if (p == KGG_NONE || c == KGG_NONE) return 0;
    if (a->want != KGP_NONE && (a->g->course[p] != a->want || a->g->course[c] != a->want)) return 0;
    a->h = fnv_str(fnv_str(a->h, r->prereq), r->concept);
    a->n++;
    return 0;
}

static atomic_size_t record_runs;

size_t kgp__graph_record_runs(void) { return atomic_load(&record_runs); }

static kgp_status graph_record(kgp_snap *s, uint32_t want, const char *course, kgp__graph_rec *rec)
{
    atomic_fetch_add(&record_runs, 1);
    const kgg_snap *g = kgp__snap_graph(s);
    memset(rec, 0, sizeof *rec);
    kg_arena *arena = kg_arena_new();
    if (!arena) return kgp__snap_error(s, KGP_ENOMEM, "out of memory");
    uint64_t h = 0xcbf29ce484222325ull;
    h = fnv_str(h, GRAPH_FORMAT);
    h = fnv_str(h, course);
    kgp_status st = KGP_OK;
    for (uint32_t i = 0; i < g->n; i++) {
        if (want != KGP_NONE && g->course[i] != want) continue;
        char *text = kgp__concept_text(g, i, arena);
        if (!text) { st = kgp__snap_error(s, KGP_EDB, "cannot read the text of %s", g->key[i]); break; }
        h = fnv_str(fnv_str(h, g->key[i]), text);
        free(text);
        rec->concepts++;
        /* its requirement edges from the selection, by key */
        for (uint32_t gi = g->grp_off[i]; gi < g->grp_off[i + 1]; gi++)
            for (uint32_t m = g->mem_off[gi]; m < g->mem_off[gi + 1]; m++) {
                uint32_t j = g->mem[m];
                if (j >= g->n || j == i || (want != KGP_NONE && g->course[j] != want)) continue;
                h = fnv_str(h, g->key[j]);
                rec->edges++;   /* as written; training counts each pair once */
            }
        /* its recommended edges (authored, or suggestions accepted with
         * `suggest --accept`): an accepted edge orders the pair, so
         * training no longer reads a rejection of it as a negative, and
         * the model is stale. Hashed only where a concept has any, so a
         * graph without them keeps the fingerprint it always had. */
        if (g->rec_off && g->rec_off[i] < g->rec_off[i + 1]) {
            h = fnv_str(h, "recommended");
            for (uint32_t r = g->rec_off[i]; r < g->rec_off[i + 1]; r++) {
                uint32_t j = g->rec[r];
                if (j >= g->n || j == i || (want != KGP_NONE && g->course[j] != want)) continue;
                h = fnv_str(h, g->key[j]);
                rec->recommended++;
            }
        }
        h = fnv(h, "", 1);
    }
    kg_arena_free(arena);
    if (st) return st;
    rej_fp r = {g, want, h, 0};
    kgg_err e = {{0}};
    st = kgg_reject_each(kgp__db_store(kgp__snap_db(s)), rej_fp_one, &r, &e);
    if (st) return kgp__snap_error(s, st, "%s", e.msg[0] ? e.msg : "cannot read the rejected suggestions");
    rec->rejected = r.n;
    rec->fingerprint = r.h;
    return KGP_OK;
}

kgp_status kgp__graph_record(kgp_snap *s, uint32_t want, const char *course, kgp__graph_rec *rec)
{
    const kgg_snap *g = kgp__snap_graph(s);
    uint64_t txn;
    /* memoised only where the selection names itself (the course's own
     * id: the record hashes the name as given) and the database says
     * where it stands */
    int memo = want == KGP_NONE ? !course : want < g->ncourses && course && !strcmp(course, g->course_id[want]);
    if (!memo || kgp_db_txn_id(kgp__snap_db(s), &txn)) return graph_record(s, want, course, rec);
    kgp__rec_memo *m = kgp__snap_memo_lock(s);
    kgp__rec_slot *slot = &m->slot[want == KGP_NONE ? 0 : 1];
    kgp_status st = KGP_OK;
    if (slot->have && slot->want == want && slot->txn == txn) *rec = slot->rec;
    else if ((st = graph_record(s, want, course, rec)) == KGP_OK) {
        slot->have = 1;
        slot->want = want;
        slot->txn = txn;   /* read before: a write meanwhile only costs a recount */
        slot->rec = *rec;
    }
    kgp__snap_memo_unlock(s);
    return st;
}

char *kgp__graph_record_json(kgp_snap *s, uint32_t want, const char *course, const kgp__graph_rec *rec,
                             uint64_t options)
{
    const kgg_snap *g = kgp__snap_graph(s);
    char fp[24], op[24];
    snprintf(fp, sizeof fp, "%016" PRIx64, rec->fingerprint);
    snprintf(op, sizeof op, "%016" PRIx64, options);
    json_t *keys = json_array();
    for (uint32_t i = 0; keys && i < g->n; i++)
        if (want == KGP_NONE || g->course[i] == want) json_array_append_new(keys, json_string(g->key[i]));
    json_t *j = json_pack("{s:s, s:s, s:s, s:o, s:I, s:I, s:I, s:o}", "format", GRAPH_FORMAT, "fingerprint", fp,
                          "options", op, "course", course ? json_string(course) : json_null(), "concepts",
                          (json_int_t)rec->concepts, "edges", (json_int_t)rec->edges, "rejected",
                          (json_int_t)rec->rejected, "keys", keys);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return text;
}

/* The record of checkpoint ckpt (NULL when it has none: written before
 * records existed). Errors, set on s: KGP_EINPUT (malformed, named). */
typedef struct stored_rec {
    json_t *root;
    const char *fp, *opts, *course;
    json_int_t concepts, edges, rejected;
    json_t *keys;
} stored_rec;

static kgp_status read_record(kgp_snap *s, const char *ckpt, stored_rec *r)
{
    memset(r, 0, sizeof *r);
    size_t l = strlen(ckpt) + sizeof KGE_LINK_EXTRA + 2;
    char *path = malloc(l);
    if (!path) return kgp__snap_error(s, KGP_ENOMEM, "out of memory");
    snprintf(path, l, "%s/%s", ckpt, KGE_LINK_EXTRA);
    kgp_status st = KGP_OK;
    if (access(path, F_OK) != 0) { free(path); return KGP_OK; }
    json_error_t je;
    r->root = json_load_file(path, 0, &je);
    const char *fmt = NULL;
    json_t *jc = NULL;
    if (!r->root) st = kgp__snap_error(s, KGP_EINPUT, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    else if (json_unpack_ex(r->root, &je, 0, "{s:s, s:s, s:s, s:o, s:I, s:I, s:I, s:o}", "format", &fmt, "fingerprint",
                            &r->fp, "options", &r->opts, "course", &jc, "concepts", &r->concepts, "edges", &r->edges,
                            "rejected", &r->rejected, "keys", &r->keys) != 0 ||
             strcmp(fmt, GRAPH_FORMAT) != 0 || !json_is_array(r->keys) || (!json_is_null(jc) && !json_is_string(jc)))
        st = kgp__snap_error(s, KGP_EINPUT, "%s: not a %s record of the graph a checkpoint was trained on", path,
                             GRAPH_FORMAT);
    else r->course = json_string_value(jc);
    free(path);
    if (st) { json_decref(r->root); memset(r, 0, sizeof *r); }
    return st;
}

kgp_status kgp_checkpoint_check(kgp_snap *s, const char *ckpt, kgp_checkpoint_info *info)
{
    memset(info, 0, sizeof *info);
    if (!ckpt || !*ckpt) return kgp__snap_error(s, KGP_EUSAGE, "no checkpoint folder");
    size_t l = strlen(ckpt) + 32;
    char *man = malloc(l);
    if (!man) return kgp__snap_error(s, KGP_ENOMEM, "out of memory");
    snprintf(man, l, "%s/kgpath_train.json", ckpt);
    int there = access(man, F_OK) == 0;
    free(man);
    if (!there)
        return kgp__snap_error(s, KGP_ENOTFOUND, "%s: no checkpoint there (run `kgpath train`%s)", ckpt,
                               strstr(ckpt, KGP_CHECKPOINT_SUFFIX) ? "" : " --out DIR");
    stored_rec r;
    kgp_status st = read_record(s, ckpt, &r);
    if (st) return st;
    if (!r.root) { info->state = KGP_CKPT_UNRECORDED; return KGP_OK; }
    info->partial = json_object_get(r.root, "interrupted") != NULL;
    const kgg_snap *g = kgp__snap_graph(s);
    info->concepts = (size_t)r.concepts;
    info->edges = (size_t)r.edges;
    size_t nk = json_array_size(r.keys), known = 0;
    for (size_t i = 0; i < nk; i++) {
        const char *k = json_string_value(json_array_get(r.keys, i));
        known += k && kgg_snap_find_key(g, k) != KGG_NONE;
    }
    info->known = known;
    if (nk && 2 * known < nk) info->state = KGP_CKPT_OTHER;
    else {
        uint32_t want = KGP_NONE;
        for (uint32_t c = 0; r.course && c < g->ncourses; c++)
            if (!strcmp(g->course_id[c], r.course)) want = c;
        kgp__graph_rec now;
        if (r.course && want == KGP_NONE) info->state = KGP_CKPT_CHANGED;   /* its course is gone */
        else if ((st = kgp__graph_record(s, want, r.course, &now)) == KGP_OK) {
            char fp[24];
            snprintf(fp, sizeof fp, "%016" PRIx64, now.fingerprint);
            info->state = strcmp(fp, r.fp) ? KGP_CKPT_CHANGED : KGP_CKPT_CURRENT;
        }
    }
    json_decref(r.root);
    return st;
}

kgp_status kgp__checkpoint_usable(kgp_snap *s, const char *ckpt)
{
    kgp_checkpoint_info info;
    kgp_status st = kgp_checkpoint_check(s, ckpt, &info);
    if (st) return st;
    if (info.partial)
        return kgp__snap_error(s, KGP_EINPUT, "%s holds an interrupted training run, not a model: finish it with "
                               "`kgpath train --resume %s`", ckpt, ckpt);
    if (info.state == KGP_CKPT_OTHER)
        return kgp__snap_error(s, KGP_EINPUT,
                               "%s was trained on another graph: only %zu of its %zu concepts are in this database "
                               "(run `kgpath train` for this one)", ckpt, info.known, info.concepts);
    return KGP_OK;
}

int kgp__checkpoint_reusable(const char *ckpt, const kgp__graph_rec *rec, uint64_t options)
{
    size_t l = strlen(ckpt) + sizeof KGE_LINK_EXTRA + 2;
    char *path = malloc(l);
    if (!path) return 0;
    snprintf(path, l, "%s/%s", ckpt, KGE_LINK_EXTRA);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    free(path);
    const char *fp = NULL, *op = NULL;
    char want_fp[24], want_op[24];
    snprintf(want_fp, sizeof want_fp, "%016" PRIx64, rec->fingerprint);
    snprintf(want_op, sizeof want_op, "%016" PRIx64, options);
    int same = root && json_unpack(root, "{s:s, s:s}", "fingerprint", &fp, "options", &op) == 0 &&
               !strcmp(fp, want_fp) && !strcmp(op, want_op) && !json_object_get(root, "interrupted");
    json_decref(root);
    if (!same) return 0;
    /* and it loads: a damaged checkpoint is trained again */
    kge_link_model *lm = NULL;
    kge_err e = {0};
    int ok = kge_link_load(ckpt, &lm, &e) == KGE_OK;
    kge_link_free(lm);
    return ok;
}

/* ---- interrupted runs ----------------------------------------------------------
 * A partial folder's record is the graph record plus "interrupted": the
 * run's options as kgp_train was given them (after the model, vocabulary
 * and mode were resolved), so that --resume repeats exactly what the
 * uninterrupted run would have done after its last saved step (the same
 * negatives, held-out pairs, calibration and options fingerprint). Reals
 * are written with 17 digits (jansson), so they read back bit for bit. */

char *kgp__partial_record_json(const char *record, const kgp_train_options *o, const char *model, int vocab,
                               const char *mode)
{
    json_error_t je;
    json_t *r = json_loads(record, 0, &je);
    json_t *in = json_pack("{s:o, s:i, s:s, s:I, s:f, s:f, s:f, s:i, s:i, s:i, s:i, s:f, s:f, s:I, s:i, s:f}",
                           "model", model ? json_string(model) : json_null(), "vocab", vocab, "mode", mode, "steps",
                           (json_int_t)o->steps, "lr", o->lr, "head_lr", o->head_lr, "val_frac", o->val_frac,
                           "patience", o->patience, "max_tokens", o->max_tokens, "batch", o->batch, "enc_batch",
                           o->enc_batch, "dropout", o->dropout, "edge_dropout", o->edge_dropout, "seed",
                           (json_int_t)o->seed, "threads", o->threads, "view_prob", o->view_prob);
    char *text = NULL;
    if (r && in && !json_object_set_new(r, "interrupted", in)) text = json_dumps(r, JSON_COMPACT);
    else json_decref(in);
    json_decref(r);
    return text;
}

void kgp__resume_free(kgp__resume *r)
{
    json_decref(r->root);
    memset(r, 0, sizeof *r);
}

kgp_status kgp__resume_read(kgp_db *db, const char *ckpt, kgp__resume *r)
{
    memset(r, 0, sizeof *r);
    r->dir = ckpt;
    size_t l = strlen(ckpt) + 32;
    char *path = malloc(l);
    if (!path) return kgp__db_error(db, KGP_ENOMEM, "out of memory");
    snprintf(path, l, "%s/kgpath_train.json", ckpt);
    if (access(path, F_OK) != 0) {
        kgp_status st = kgp__db_error(db, KGP_ENOTFOUND, "%s: no checkpoint there to resume", ckpt);
        free(path);
        return st;
    }
    snprintf(path, l, "%s/%s", ckpt, KGE_LINK_EXTRA);
    kgp_status st = KGP_OK;
    if (access(path, F_OK) != 0) { free(path); return KGP_OK; }   /* written before records: a finished run */
    json_error_t je;
    json_t *jc = NULL, *in = NULL, *jm = NULL;
    const char *mode = NULL;
    json_int_t steps = 0, seed = 0;
    kgp_train_options *o = &r->opt;
    if (!(r->root = json_load_file(path, 0, &je)))
        st = kgp__db_error(db, KGP_EINPUT, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    else if (json_unpack_ex(r->root, &je, 0, "{s:s, s:o, s?o}", "fingerprint", &r->fingerprint, "course", &jc,
                            "interrupted", &in) != 0 || (!json_is_null(jc) && !json_is_string(jc)))
        st = kgp__db_error(db, KGP_EINPUT, "%s: not a record of the graph a checkpoint was trained on", path);
    else if (in && (json_unpack_ex(in, &je, JSON_STRICT,
                                   "{s:o, s:i, s:s, s:I, s:F, s:F, s:F, s:i, s:i, s:i, s:i, s:F, s:F, s:I, s:i, s:F}",
                                   "model", &jm, "vocab", &r->vocab, "mode", &mode, "steps", &steps, "lr", &o->lr,
                                   "head_lr", &o->head_lr, "val_frac", &o->val_frac, "patience", &o->patience,
                                   "max_tokens", &o->max_tokens, "batch", &o->batch, "enc_batch", &o->enc_batch,
                                   "dropout", &o->dropout, "edge_dropout", &o->edge_dropout, "seed", &seed,
                                   "threads", &o->threads, "view_prob", &o->view_prob) != 0 ||
                    (!json_is_null(jm) && !json_is_string(jm))))
        st = kgp__db_error(db, KGP_EINPUT, "%s: the interrupted run's options are malformed (%s)", path, je.text);
    else {
        r->recorded = 1;
        r->course = json_string_value(jc);
        r->interrupted = in != NULL;
        o->course = r->course;
        o->model = json_string_value(jm);
        o->mode = mode;
        o->steps = (long)steps;
        o->seed = (unsigned long long)seed;
        o->vocab_size = r->vocab;
    }
    free(path);
    if (st) { json_decref(r->root); r->root = NULL; }
    return st;
}
