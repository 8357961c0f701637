/* Public encoder API (kgpath_encoder.h) over encoder/bert.h. */
#include "kgpath.h"
#include "kgpath_encoder.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoder/bert.h"
#include "encoder/kernels.h"
#include "encoder/threads.h"

struct kgp_model {
    kge_bert     *bert;
    kge_bert_acts acts;
    char          id[32];
    char          err[600];
};

static kgp_status model_error(kgp_model *m, kgp_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static kgp_status model_error(kgp_model *m, kgp_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->err, sizeof m->err, fmt, ap);
    va_end(ap);
    return st;
}

kgp_status kgp_pooling_parse(const char *name, kgp_pooling *out)
{
    if (!name) return KGP_EUSAGE;
    if (strcmp(name, "mean") == 0) *out = KGP_POOL_MEAN;
    else if (strcmp(name, "cls") == 0) *out = KGP_POOL_CLS;
    else if (strcmp(name, "pooler") == 0) *out = KGP_POOL_POOLER;
    else return KGP_EUSAGE;
    return KGP_OK;
}

/* FNV-1a over the files of the model; 0 on success. */
static int hash_file(const char *dir, const char *name, uint64_t *h)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    unsigned char buf[1 << 16];
    size_t r;
    uint64_t v = *h;
    while ((r = fread(buf, 1, sizeof buf, f)) > 0)
        for (size_t i = 0; i < r; i++) v = (v ^ buf[i]) * 1099511628211ull;
    int bad = ferror(f);
    fclose(f);
    *h = v;
    return bad ? -1 : 0;
}

kgp_status kgp_model_load(const char *dir, kgp_model **out)
{
    kgp_model *m = calloc(1, sizeof *m);
    *out = m;
    if (!m) return KGP_ENOMEM;
    if (!dir || !*dir) dir = getenv("KGPATH_MODEL");
    if (!dir || !*dir)
        return model_error(m, KGP_EUSAGE,
                           "no model given: pass a Hugging Face BERT folder (config.json, vocab.txt, "
                           "model.safetensors), e.g. `git clone https://huggingface.co/sentence-transformers/"
                           "all-MiniLM-L6-v2`, with --model DIR or set KGPATH_MODEL=DIR");
    kge_err e = {0};
    int rc = kge_bert_load(dir, &m->bert, &e);
    if (!rc) rc = kge_bert_pack(m->bert, &e);   /* inference only: the weights never change here */
    if (rc) return model_error(m, (kgp_status)rc, "%s", e.msg);
    uint64_t h = 1469598103934665603ull;
    if (hash_file(dir, "config.json", &h) || hash_file(dir, "vocab.txt", &h) ||
        hash_file(dir, "model.safetensors", &h)) {
        kge_bert_free(m->bert);
        m->bert = NULL;
        return model_error(m, KGP_EIO, "%s: cannot read the model files to identify them", dir);
    }
    snprintf(m->id, sizeof m->id, "bert-%016llx", (unsigned long long)h);
    return KGP_OK;
}

void kgp_model_free(kgp_model *m)
{
    if (!m) return;
    kge_bert_acts_free(&m->acts);
    kge_bert_free(m->bert);
    free(m);
}

const char *kgp_model_errmsg(const kgp_model *m) { return m ? m->err : "out of memory"; }
size_t kgp_model_dim(const kgp_model *m) { return m->bert ? (size_t)m->bert->cfg.hidden : 0; }
size_t kgp_model_max_tokens(const kgp_model *m) { return m->bert ? (size_t)m->bert->max_seq : 0; }
const char *kgp_model_id(const kgp_model *m) { return m->id; }
int kgp_model_has_pooler(const kgp_model *m) { return m->bert && m->bert->has_pooler; }

void kgp_model_set_threads(kgp_model *m, int n)
{
    if (m) kge_bert_acts_set_threads(&m->acts, n);
}

/* Weak: another BLAS links too. */
extern char *openblas_get_config(void) __attribute__((weak));

int kgp_blas_select(void)
{
    return kge_blas_select_core();
}

const char *kgp_blas_describe(void)
{
    if (openblas_get_config) return openblas_get_config();
    return "unknown BLAS (not OpenBLAS)";
}

const char *kgp_encoder_hint(void)
{
    return kge_blas_hint();
}

kgp_status kgp_model_tokenize(kgp_model *m, const char *text, kgp_tokens *out)
{
    memset(out, 0, sizeof *out);
    if (!m->bert) return model_error(m, KGP_EUSAGE, "model not loaded");
    kge_ids ids = {0};
    kge_err e = {0};
    int rc = kge_encode(&m->bert->tok, text, NULL, (size_t)m->bert->max_seq, &ids, NULL, &e);
    if (rc) {
        kge_ids_free(&ids);
        return model_error(m, (kgp_status)rc, "%s", e.msg);
    }
    out->pieces = malloc((ids.n ? ids.n : 1) * sizeof *out->pieces);
    if (!out->pieces) {
        kge_ids_free(&ids);
        return model_error(m, KGP_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < ids.n; i++) out->pieces[i] = kge_vocab_piece(m->bert->vocab, ids.v[i]);
    out->n = ids.n;
    out->ids = ids.v;
    return KGP_OK;
}

void kgp_tokens_free(kgp_tokens *t)
{
    if (!t) return;
    free(t->ids);
    free(t->pieces);
    memset(t, 0, sizeof *t);
}

/* Texts are packed end to end (no padding: the dense layers see every
 * token of a batch as one matrix, attention runs per text) into batches
 * bounded as kge_bert_pack_take says. Sorting by length first keeps a
 * batch's attention work even. */
typedef struct { size_t idx; kge_ids ids; } seq;

static int by_len(const void *a, const void *b)
{
    const seq *x = a, *y = b;
    if (x->ids.n != y->ids.n) return x->ids.n < y->ids.n ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

kgp_status kgp_model_encode(kgp_model *m, const char *const *texts, size_t n, kgp_pooling pooling,
                            int normalize, float *out)
{
    if (!m->bert) return model_error(m, KGP_EUSAGE, "model not loaded");
    const kge_bert *b = m->bert;
    if (pooling == KGP_POOL_POOLER && !b->has_pooler)
        return model_error(m, KGP_EUSAGE, "this checkpoint has no pooler weights: use mean or cls pooling");
    if (pooling != KGP_POOL_MEAN && pooling != KGP_POOL_CLS && pooling != KGP_POOL_POOLER)
        return model_error(m, KGP_EUSAGE, "unknown pooling %d", (int)pooling);
    if (n == 0) return KGP_OK;
    size_t C = (size_t)b->cfg.hidden;
    kgp_status st = KGP_OK;
    seq *s = calloc(n, sizeof *s);
    int32_t *ids = NULL;
    size_t *off = NULL, *len = NULL;
    float *pool = NULL, *cls = NULL;
    if (!s) return model_error(m, KGP_ENOMEM, "out of memory");
    kge_err e = {0};
    for (size_t i = 0; i < n; i++) {
        s[i].idx = i;
        int rc = kge_encode(&b->tok, texts[i], NULL, (size_t)b->max_seq, &s[i].ids, NULL, &e);
        if (rc) { st = model_error(m, (kgp_status)rc, "text %zu: %s", i + 1, e.msg); goto out; }
    }
    qsort(s, n, sizeof *s, by_len);
    /* A batch holds at most max(KGE_BERT_PACK_TOKENS, longest) tokens, so
     * at most that many sequences (each has at least [CLS] and [SEP]). */
    size_t Tmax = s[n - 1].ids.n, cap = Tmax > KGE_BERT_PACK_TOKENS ? Tmax : KGE_BERT_PACK_TOKENS;
    size_t maxB = n < cap ? n : cap;
    ids = malloc(cap * sizeof *ids);
    off = malloc((maxB + 1) * sizeof *off);
    len = malloc(n * sizeof *len);
    pool = malloc(maxB * C * sizeof *pool);
    cls = pooling == KGP_POOL_POOLER ? malloc(maxB * C * sizeof *cls) : NULL;
    if (!ids || !off || !len || !pool || (pooling == KGP_POOL_POOLER && !cls)) {
        st = model_error(m, KGP_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) len[i] = s[i].ids.n;
    for (size_t i0 = 0, i1; i0 < n; i0 = i1) {
        /* the batch [i0, i1): texts end to end, text k at rows off[k].. */
        i1 = i0 + kge_bert_pack_take(b, len + i0, n - i0);
        size_t tok = 0;
        off[0] = 0;
        for (size_t i = i0; i < i1; i++) {
            size_t T = s[i].ids.n ? s[i].ids.n : 1;
            for (size_t t = 0; t < T; t++) {
                int32_t id = t < s[i].ids.n ? s[i].ids.v[t] : b->tok.vocab ? kge_vocab_special(b->vocab)->pad : 0;
                ids[tok + t] = id < 0 ? 0 : id;
            }
            tok += T;
            off[i + 1 - i0] = tok;
        }
        size_t B = i1 - i0;
        int rc = kge_bert_forward_packed(b, &m->acts, ids, NULL, off, B, &e);
        if (rc) { st = model_error(m, (kgp_status)rc, "%s", e.msg); goto out; }
        const float *h = m->acts.hidden;
        for (size_t k = 0; k < B; k++) {
            const float *first = h + off[k] * C;
            if (pooling == KGP_POOL_MEAN) kge_mean_pool_forward(pool + k * C, first, NULL, 1, off[k + 1] - off[k], C);
            else if (pooling == KGP_POOL_POOLER) memcpy(cls + k * C, first, C * sizeof *cls);
            else memcpy(pool + k * C, first, C * sizeof *pool);
        }
        if (pooling == KGP_POOL_POOLER) kge_bert_pooler_forward(b, pool, cls, (int)B, 1);
        if (normalize) kge_l2_normalize(pool, B, C);
        for (size_t k = 0; k < B; k++) memcpy(out + s[i0 + k].idx * C, pool + k * C, C * sizeof *out);
    }
out:
    for (size_t i = 0; i < n; i++) kge_ids_free(&s[i].ids);
    free(s);
    free(ids);
    free(off);
    free(len);
    free(pool);
    free(cls);
    return st;
}

/* ======================================================================== */
/* Concept embeddings in the database.
 *
 * `embeddings` table: u32 BE concept id -> record
 *   u8 version (1), u8 n, n bytes model id, u64 LE text hash, u32 LE dim,
 *   dim × f32 LE (unit vector).
 */

#include <lmdb.h>

#include "api_internal.h"
#include "base/alloc.h"
#include "graph/store.h"

#define EMB_VERSION 1
#define EMBED_CHUNK 256

typedef struct emb_view {
    const char *model;  size_t model_len;
    uint64_t    hash;
    uint32_t    dim;
    const uint8_t *vec; /* dim little-endian floats, possibly unaligned */
} emb_view;

static int emb_parse(const MDB_val *v, emb_view *out)
{
    const uint8_t *p = v->mv_data;
    size_t n = v->mv_size;
    if (n < 2 || p[0] != EMB_VERSION) return -1;
    size_t ml = p[1];
    if (n < 2 + ml + 12) return -1;
    out->model = (const char *)p + 2;
    out->model_len = ml;
    const uint8_t *q = p + 2 + ml;
    out->hash = 0;
    for (int i = 7; i >= 0; i--) out->hash = (out->hash << 8) | q[i];
    out->dim = (uint32_t)q[8] | (uint32_t)q[9] << 8 | (uint32_t)q[10] << 16 | (uint32_t)q[11] << 24;
    if (n != 2 + ml + 12 + (size_t)out->dim * 4) return -1;
    out->vec = q + 12;
    return 0;
}

static int emb_same_model(const emb_view *v, const char *id)
{
    return v->model_len == strlen(id) && memcmp(v->model, id, v->model_len) == 0;
}

static float emb_dot(const emb_view *v, const float *q)
{
    float s = 0.0f;
    for (uint32_t i = 0; i < v->dim; i++) {
        float x;
        memcpy(&x, v->vec + 4 * (size_t)i, 4);   /* x86/ARM little-endian hosts */
        s += x * q[i];
    }
    return s;
}

/* Title, summary and goals, one per line: the text a concept is embedded by. */
static char *concept_text(const kgg_snap *g, uint32_t i, kg_arena *a)
{
    kgg_text t;
    if (kgg_snap_concept_text(g, i, a, &t) != 0) return NULL;
    size_t len = strlen(g->title[i] ? g->title[i] : "") + 1 + (t.summary ? strlen(t.summary) : 0) + 1;
    for (size_t k = 0; k < t.ngoals; k++) len += strlen(t.goals[k]) + 1;
    char *s = malloc(len + 1), *p = s;
    if (!s) return NULL;
    p += sprintf(p, "%s", g->title[i] ? g->title[i] : "");
    if (t.summary && *t.summary) p += sprintf(p, "\n%s", t.summary);
    for (size_t k = 0; k < t.ngoals; k++) p += sprintf(p, "\n%s", t.goals[k]);
    return s;
}

static uint64_t text_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static void put_be32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24); b[1] = (uint8_t)(v >> 16); b[2] = (uint8_t)(v >> 8); b[3] = (uint8_t)v;
}

typedef struct embed_job {
    kgg_store  *st;
    const char *model_id;
    size_t      dim;
    size_t      n;           /* concepts to write */
    uint32_t   *ids;         /* store ids */
    uint64_t   *hash;
    float      *vec;         /* n × dim */
    size_t      nstale;
    uint32_t   *stale;       /* store ids to delete */
} embed_job;

static kgp_status embed_write(MDB_txn *txn, void *ud, int *mdb_rc, kgg_err *e)
{
    embed_job *j = ud;
    MDB_dbi dbi;
    if (kgg_store_dbi(j->st, "embeddings", &dbi) != 0)
        return kgg_errf(e, KGP_EDB, "the database has no embeddings table");
    size_t ml = strlen(j->model_id), rl = 2 + ml + 12 + j->dim * 4;
    uint8_t *rec = malloc(rl);
    if (!rec) return kgg_errf(e, KGP_ENOMEM, "out of memory");
    rec[0] = EMB_VERSION;
    rec[1] = (uint8_t)ml;
    memcpy(rec + 2, j->model_id, ml);
    uint8_t *q = rec + 2 + ml;
    for (size_t i = 0; i < j->n; i++) {
        for (int b = 0; b < 8; b++) q[b] = (uint8_t)(j->hash[i] >> (8 * b));
        uint32_t d = (uint32_t)j->dim;
        for (int b = 0; b < 4; b++) q[8 + b] = (uint8_t)(d >> (8 * b));
        memcpy(q + 12, j->vec + i * j->dim, j->dim * 4);
        uint8_t key[4];
        put_be32(key, j->ids[i]);
        MDB_val k = {4, key}, v = {rl, rec};
        int rc = mdb_put(txn, dbi, &k, &v, 0);
        if (rc) {
            free(rec);
            *mdb_rc = rc;
            return kgg_errf(e, kgg_mdb_status(rc), "storing an embedding: %s", mdb_strerror(rc));
        }
    }
    free(rec);
    for (size_t i = 0; i < j->nstale; i++) {
        uint8_t key[4];
        put_be32(key, j->stale[i]);
        MDB_val k = {4, key};
        int rc = mdb_del(txn, dbi, &k, NULL);
        if (rc && rc != MDB_NOTFOUND) {
            *mdb_rc = rc;
            return kgg_errf(e, kgg_mdb_status(rc), "removing an embedding: %s", mdb_strerror(rc));
        }
    }
    return KGP_OK;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

kgp_status kgp_embed(kgp_db *db, kgp_model *m, int force,
                     void (*progress)(void *ud, size_t done, size_t total, const char *label),
                     void *ud, kgp_embed_report *rep)
{
    kgp_embed_report r = {0};
    if (rep) *rep = r;
    kgg_store *st = kgp__db_store(db);
    if (!st) return kgp__db_error(db, KGP_EUSAGE, "database is not open");
    if (kgp__db_rdonly(db)) return kgp__db_error(db, KGP_EUSAGE, "database is open read-only");
    if (!m || !m->bert) return kgp__db_error(db, KGP_EUSAGE, "no model loaded");
    kgp_snap *snap = NULL;
    kgp_status s = kgp_snap_open(db, &snap);
    if (s) return s;
    const kgg_snap *g = kgp__snap_graph(snap);
    size_t n = g->n, dim = kgp_model_dim(m);
    embed_job j = {.st = st, .model_id = m->id, .dim = dim};
    char **texts = calloc(n ? n : 1, sizeof *texts);
    j.ids = malloc((n ? n : 1) * sizeof *j.ids);
    j.hash = malloc((n ? n : 1) * sizeof *j.hash);
    uint32_t *sorted = malloc((n ? n : 1) * sizeof *sorted);
    kg_arena *arena = kg_arena_new();
    MDB_txn *txn = NULL;
    kgg_err ge = {{0}};
    r.concepts = n;
    if (!texts || !j.ids || !j.hash || !sorted || !arena) { s = kgp__db_error(db, KGP_ENOMEM, "out of memory"); goto out; }
    if ((s = kgg_store_read_begin(st, &txn, &ge))) { s = kgp__db_error(db, s, "%s", ge.msg); goto out; }
    MDB_dbi dbi;
    if (kgg_store_dbi(st, "embeddings", &dbi) != 0) { s = kgp__db_error(db, KGP_EDB, "no embeddings table"); goto out; }
    for (uint32_t i = 0; i < n; i++) {
        char *t = concept_text(g, i, arena);
        if (!t) { s = kgp__db_error(db, KGP_EDB, "cannot read the text of %s", g->key[i]); goto out; }
        uint64_t h = text_hash(t);
        uint8_t key[4];
        put_be32(key, g->store_id[i]);
        MDB_val k = {4, key}, v;
        emb_view ev;
        if (!force && mdb_get(txn, dbi, &k, &v) == 0 && emb_parse(&v, &ev) == 0 && emb_same_model(&ev, m->id) &&
            ev.hash == h && ev.dim == dim) {
            free(t);
            r.unchanged++;
            continue;
        }
        texts[j.n] = t;
        j.ids[j.n] = g->store_id[i];
        j.hash[j.n] = h;
        j.n++;
    }
    /* vectors of concepts no longer in the database */
    memcpy(sorted, g->store_id, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_u32);
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, dbi, &cur) == 0) {
        MDB_val k, v;
        size_t cap = 0;
        for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            if (k.mv_size != 4) continue;
            uint32_t id = kgg_be32(k.mv_data);
            if (bsearch(&id, sorted, n, sizeof *sorted, cmp_u32)) continue;
            if (j.nstale == cap) {
                cap = cap ? 2 * cap : 64;
                uint32_t *ns = realloc(j.stale, cap * sizeof *ns);
                if (!ns) { mdb_cursor_close(cur); s = kgp__db_error(db, KGP_ENOMEM, "out of memory"); goto out; }
                j.stale = ns;
            }
            j.stale[j.nstale++] = id;
        }
        mdb_cursor_close(cur);
    }
    kgg_store_read_end(txn);
    txn = NULL;
    kgp_snap_close(snap);     /* no snapshot may be open while the map grows */
    snap = NULL;
    r.removed = j.nstale;
    if (j.n) {
        j.vec = malloc(j.n * dim * sizeof *j.vec);
        if (!j.vec) { s = kgp__db_error(db, KGP_ENOMEM, "out of memory"); goto out; }
        for (size_t i0 = 0; i0 < j.n; i0 += EMBED_CHUNK) {
            size_t c = j.n - i0 < EMBED_CHUNK ? j.n - i0 : EMBED_CHUNK;
            if ((s = kgp_model_encode(m, (const char *const *)texts + i0, c, KGP_POOL_MEAN, 1, j.vec + i0 * dim))) {
                s = kgp__db_error(db, s, "%s", m->err);
                goto out;
            }
            if (progress) progress(ud, i0 + c, j.n, "embedding");
        }
    }
    if (j.n || j.nstale) {
        if ((s = kgg_store_update(st, embed_write, &j, &ge))) { s = kgp__db_error(db, s, "%s", ge.msg); goto out; }
    }
    r.embedded = j.n;
    if (rep) *rep = r;
out:
    kgg_store_read_end(txn);
    if (snap) kgp_snap_close(snap);
    for (size_t i = 0; texts && i < j.n; i++) free(texts[i]);
    free(texts);
    free(j.ids);
    free(j.hash);
    free(j.vec);
    free(j.stale);
    free(sorted);
    kg_arena_free(arena);
    return s;
}

/* Keeps out[0..*nout) the best (highest score) k, best first. */
static void topk_insert(kgp_match *out, size_t *nout, size_t k, const kgp_match *mt)
{
    if (k == 0) return;
    if (*nout == k && out[k - 1].score >= mt->score) return;
    size_t i = *nout < k ? (*nout)++ : k - 1;
    while (i > 0 && out[i - 1].score < mt->score) {
        out[i] = out[i - 1];
        i--;
    }
    out[i] = *mt;
}

/* Scores every concept with a vector of model_id against q. */
static kgp_status scan(kgp_snap *s, const char *model_id, size_t dim, const float *q, uint32_t exclude,
                       size_t k, kgp_match *out, size_t *nout, size_t *missing)
{
    const kgg_snap *g = kgp__snap_graph(s);
    kgg_store *st = kgp__db_store(kgp__snap_db(s));
    MDB_txn *txn;
    kgg_err ge = {{0}};
    kgp_status rc = kgg_store_read_begin(st, &txn, &ge);
    if (rc) return kgp__snap_error(s, rc, "%s", ge.msg);
    MDB_dbi dbi;
    if (kgg_store_dbi(st, "embeddings", &dbi) != 0) {
        kgg_store_read_end(txn);
        return kgp__snap_error(s, KGP_EDB, "no embeddings table");
    }
    size_t miss = 0, have = 0;
    *nout = 0;
    for (uint32_t i = 0; i < g->n; i++) {
        if (i == exclude) continue;
        uint8_t key[4];
        put_be32(key, g->store_id[i]);
        MDB_val kv = {4, key}, v;
        emb_view ev;
        if (mdb_get(txn, dbi, &kv, &v) != 0 || emb_parse(&v, &ev) != 0 || !emb_same_model(&ev, model_id) ||
            ev.dim != dim) {
            miss++;
            continue;
        }
        have++;
        kgp_match mt = {i, g->key[i], g->title[i], emb_dot(&ev, q)};
        topk_insert(out, nout, k, &mt);
    }
    kgg_store_read_end(txn);
    if (missing) *missing = miss;
    if (!have)
        return kgp__snap_error(s, KGP_ENOTFOUND, "no concept is embedded with model %s: run `kgpath embed` first",
                               model_id);
    return KGP_OK;
}

kgp_status kgp_search(kgp_snap *s, kgp_model *m, const char *text, size_t k, kgp_match *out, size_t *nout,
                      size_t *missing)
{
    *nout = 0;
    if (!m || !m->bert) return kgp__snap_error(s, KGP_EUSAGE, "no model loaded");
    size_t dim = kgp_model_dim(m);
    float *q = malloc(dim * sizeof *q);
    if (!q) return kgp__snap_error(s, KGP_ENOMEM, "out of memory");
    kgp_status rc = kgp_model_encode(m, &text, 1, KGP_POOL_MEAN, 1, q);
    if (rc) rc = kgp__snap_error(s, rc, "%s", m->err);
    else rc = scan(s, m->id, dim, q, UINT32_MAX, k, out, nout, missing);
    free(q);
    return rc;
}

kgp_status kgp_similar(kgp_snap *s, uint32_t index, size_t k, kgp_match *out, size_t *nout)
{
    *nout = 0;
    const kgg_snap *g = kgp__snap_graph(s);
    if (index >= g->n) return kgp__snap_error(s, KGP_EUSAGE, "concept index %u out of range", index);
    kgg_store *st = kgp__db_store(kgp__snap_db(s));
    MDB_txn *txn;
    kgg_err ge = {{0}};
    kgp_status rc = kgg_store_read_begin(st, &txn, &ge);
    if (rc) return kgp__snap_error(s, rc, "%s", ge.msg);
    MDB_dbi dbi;
    uint8_t key[4];
    put_be32(key, g->store_id[index]);
    MDB_val kv = {4, key}, v;
    emb_view ev;
    if (kgg_store_dbi(st, "embeddings", &dbi) != 0 || mdb_get(txn, dbi, &kv, &v) != 0 || emb_parse(&v, &ev) != 0) {
        kgg_store_read_end(txn);
        return kgp__snap_error(s, KGP_ENOTFOUND, "%s has no embedding: run `kgpath embed` first", g->key[index]);
    }
    char model[256];
    memcpy(model, ev.model, ev.model_len);
    model[ev.model_len] = 0;
    size_t dim = ev.dim;
    float *q = malloc((dim ? dim : 1) * sizeof *q);
    if (q) memcpy(q, ev.vec, dim * 4);
    kgg_store_read_end(txn);
    if (!q) return kgp__snap_error(s, KGP_ENOMEM, "out of memory");
    rc = scan(s, model, dim, q, index, k, out, nout, NULL);
    free(q);
    return rc;
}
