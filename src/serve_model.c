/* kgpath serve: the model's endpoints, and the model state every model
 * endpoint shares (contract in src/serve.h):
 *
 *   GET /v1/search?q=TEXT&top=K      `kgpath search --json TEXT`: concepts nearest in meaning
 *   GET /v1/similar?concept=C&top=K  `kgpath similar --json C`: concepts nearest to C
 *
 * The model is the one `kgpath suggest` uses by default: the server's
 * checkpoint (srv_checkpoint: --checkpoint, else $KGPATH_CHECKPOINT, else
 * DB.kgmodel, which bare `kgpath train` writes). Search encodes its text
 * with that checkpoint's encoder ($KGPATH_MODEL instead when set, as
 * `kgpath search` does) and compares it with the vectors `kgpath embed`
 * stored; similar compares stored vectors only.
 * Errors: no trained model, 503 "no_model" saying to run `kgpath train`;
 * no vectors for it, 503 "not_embedded" saying to run `kgpath embed`.
 *
 * A model handle serves one thread at a time, so searches take turns on
 * the one loaded encoder (a query is one short text); it is loaded on the
 * first search and again when its files change (a new `kgpath train`),
 * which their inode, size and modification time tell. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_util.h"
#include "serve.h"
#include "serve_internal.h"

struct srv_models {
    /* the last kgp_checkpoint_check, per view generation and checkpoint files */
    pthread_mutex_t check_lock;
    int checked;
    uint64_t check_gen, check_stamp;
    kgp_status check_st;
    kgp_checkpoint_info info;
    char check_msg[1024];
    /* the encoder search uses */
    pthread_mutex_t enc_lock;
    kgp_model *enc;
    uint64_t enc_stamp;
    char enc_dir[4096];
};

srv_models *srv_models_new(void)
{
    srv_models *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    pthread_mutex_init(&m->check_lock, NULL);
    pthread_mutex_init(&m->enc_lock, NULL);
    return m;
}

void srv_models_free(srv_models *m)
{
    if (!m) return;
    kgp_model_free(m->enc);
    pthread_mutex_destroy(&m->check_lock);
    pthread_mutex_destroy(&m->enc_lock);
    free(m);
}

const char *srv_model_state_name(int state)
{
    switch (state) {
    case KGP_CKPT_CURRENT: return "current";
    case KGP_CKPT_CHANGED: return "changed";
    case KGP_CKPT_OTHER: return "other";
    default: return "unrecorded";
    }
}

/* Identity of dir's files names (inode, size, modification time): 0 when
 * the first is missing. */
static uint64_t files_stamp(const char *dir, const char *const *names)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; names[i]; i++) {
        char path[4200];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (stat(path, &st)) {
            if (i == 0) return 0;
            continue;
        }
        uint64_t f[5] = {(uint64_t)st.st_ino, (uint64_t)st.st_dev, (uint64_t)st.st_size,
                         (uint64_t)st.st_mtim.tv_sec, (uint64_t)st.st_mtim.tv_nsec};
        for (int k = 0; k < 5; k++) { h ^= f[k]; h *= 1099511628211ull; h ^= h >> 29; }
    }
    return h | 1;
}

static const char *const ckpt_files[] = {"kgpath_train.json", "kgpath_heads.safetensors", "model.safetensors",
                                         "config.json", "kgpath_graph.json", NULL};
static const char *const enc_files[] = {"config.json", "model.safetensors", "vocab.txt", NULL};

/* 503 no_model: how to get one (`kgpath train`, for this database's own
 * folder; or the folder given). */
static void no_model(srv_req *rq, const char *then)
{
    const char *dir = srv_checkpoint(rq->srv);
    char own[4096];
    if (!kgp_checkpoint_path(kgp_db_path(srv_db(rq)), own, sizeof own) && !strcmp(own, dir))
        srv_error(rq, 503, "no_model", NULL, "no model: run `kgpath train` (it keeps the model in %s beside "
                  "the database)%s, or start the server with --checkpoint DIR", dir, then);
    else
        srv_error(rq, 503, "no_model", NULL, "no model in %s: run `kgpath train --out %s`%s, or start the server "
                  "with --checkpoint naming a trained checkpoint", dir, dir, then);
}

int srv_model_ready(srv_req *rq, uint64_t *stamp, int *state)
{
    const char *dir = srv_checkpoint(rq->srv);
    *stamp = files_stamp(dir, ckpt_files);
    if (!*stamp) { no_model(rq, ""); return 0; }
    const srv_view *v = srv_view_get(rq);
    if (!v) return 0;
    srv_models *m = srv_models_of(rq->srv);
    pthread_mutex_lock(&m->check_lock);
    if (!m->checked || m->check_gen != v->generation || m->check_stamp != *stamp) {
        m->check_st = kgp_checkpoint_check(v->snap, dir, &m->info);
        snprintf(m->check_msg, sizeof m->check_msg, "%s", m->check_st ? kgp_snap_errmsg(v->snap) : "");
        m->checked = 1;
        m->check_gen = v->generation;
        m->check_stamp = *stamp;
    }
    kgp_status st = m->check_st;
    kgp_checkpoint_info info = m->info;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", m->check_msg);
    pthread_mutex_unlock(&m->check_lock);
    if (st == KGP_ENOTFOUND) { no_model(rq, ""); return 0; }
    if (st) { srv_error_status(rq, st, msg); return 0; }
    if (info.state == KGP_CKPT_OTHER) {
        srv_error(rq, 503, "no_model", NULL, "%s was trained on another graph: only %zu of its %zu concepts are in "
                  "this database (run `kgpath train` for this one)", dir, info.known, info.concepts);
        return 0;
    }
    *state = info.state;
    return 1;
}

/* ---- search and similar ---- */

static void reply_matches(srv_req *rq, const char *query_key, const char *query, const kgp_match *mt, size_t n,
                          size_t missing)
{
    json_t *o = cli_matches_json(query_key, query, mt, n, missing);
    srv_reply_json(rq, 200, o);
}

/* GET /v1/search?q=TEXT&top=K */
static void search(srv_req *rq)
{
    const char *q = srv_query(rq, "q");
    unsigned long top;
    if (!q || !*q) {
        srv_error(rq, 400, "bad_request", "q", "query parameter 'q' (the text to search for) is required");
        return;
    }
    if (!srv_query_uint(rq, "top", 1, 1000, 10, &top)) return;
    const char *env = getenv("KGPATH_MODEL");
    const char *dir = env && *env ? env : srv_checkpoint(rq->srv);
    uint64_t stamp = files_stamp(dir, enc_files);
    if (!stamp) {
        if (dir == env) srv_error(rq, 503, "no_model", NULL, "KGPATH_MODEL=%s holds no model (config.json)", env);
        else no_model(rq, ", then `kgpath embed`");
        return;
    }
    const srv_view *v = srv_view_get(rq);
    kgp_match *mt = v ? malloc(top * sizeof *mt) : NULL;
    if (!mt) { if (v) srv_error_status(rq, KGP_ENOMEM, NULL); return; }
    srv_models *m = srv_models_of(rq->srv);
    pthread_mutex_lock(&m->enc_lock);
    kgp_status st = KGP_OK;
    if (!m->enc || m->enc_stamp != stamp || strcmp(m->enc_dir, dir)) {
        kgp_model_free(m->enc);
        m->enc = NULL;
        kgp_model *nm = NULL;
        if ((st = kgp_model_load(dir, &nm))) {
            srv_error_status(rq, st == KGP_ENOTFOUND ? KGP_EINPUT : st, nm ? kgp_model_errmsg(nm) : NULL);
            kgp_model_free(nm);
        } else {
            kgp_model_set_threads(nm, 1);        /* one short text: no thread team */
            m->enc = nm;
            m->enc_stamp = stamp;
            snprintf(m->enc_dir, sizeof m->enc_dir, "%s", dir);
        }
    }
    size_t n = 0, missing = 0;
    char id[64] = "";
    if (!st) {
        snprintf(id, sizeof id, "%s", kgp_model_id(m->enc));
        st = kgp_search(v->snap, m->enc, q, top, mt, &n, &missing);
        if (st == KGP_ENOTFOUND)
            srv_error(rq, 503, "not_embedded", NULL, "no concept has a vector of model %s (%s): run `kgpath embed`",
                      id, dir);
        else if (st)
            srv_error_status(rq, st, kgp_snap_errmsg(v->snap));
    }
    pthread_mutex_unlock(&m->enc_lock);
    if (!st) reply_matches(rq, "query", q, mt, n, missing);
    free(mt);
}

/* GET /v1/similar?concept=NAME&top=K */
static void similar(srv_req *rq)
{
    const char *name = srv_query(rq, "concept");
    unsigned long top;
    if (!name || !*name) {
        srv_error(rq, 400, "bad_request", "concept", "query parameter 'concept' (a concept name) is required");
        return;
    }
    if (!srv_query_uint(rq, "top", 1, 1000, 10, &top)) return;
    const srv_view *v = srv_view_get(rq);
    if (!v) return;
    uint32_t idx;
    kgp_status st = kgp_snap_lookup(v->snap, name, &idx);
    if (st) { srv_error_status_at(rq, st, "concept", kgp_snap_errmsg(v->snap)); return; }
    kgp_match *mt = malloc(top * sizeof *mt);
    if (!mt) { srv_error_status(rq, KGP_ENOMEM, NULL); return; }
    size_t n = 0;
    st = kgp_similar(v->snap, idx, top, mt, &n);
    if (st == KGP_ENOTFOUND) {
        /* no vector for it: nothing trained at all, or not embedded yet */
        if (!files_stamp(srv_checkpoint(rq->srv), enc_files) && !getenv("KGPATH_MODEL"))
            no_model(rq, ", then `kgpath embed`");
        else
            srv_error(rq, 503, "not_embedded", "concept", "%s has no vector: run `kgpath embed`",
                      kgp_snap_key(v->snap, idx));
    } else if (st) {
        srv_error_status(rq, st, kgp_snap_errmsg(v->snap));
    } else {
        reply_matches(rq, "concept", kgp_snap_key(v->snap, idx), mt, n, 0);
    }
    free(mt);
}

void serve_model_routes(srv_routes *t)
{
    srv_route(t, "GET", "/v1/search", SRV_READ, search);
    srv_route(t, "GET", "/v1/similar", SRV_READ, similar);
}
