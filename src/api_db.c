/* Public API: database handles, snapshots, lookup, concept details,
 * iterators, statistics and export (see kgpath.h). */
#include "kgpath.h"
#include "api_internal.h"
#include "api_train_internal.h"
#include "base/alloc.h"
#include "graph/export.h"
#include "graph/snapshot.h"
#include "graph/store.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* ---- errors ----------------------------------------------------------------
 * Messages are per thread, like errno (kgpath.h): `kgpath serve` answers
 * requests on many threads with one kgp_db and shared snapshots, and
 * `kgpath batch` plans on N threads with one of each, so one buffer per
 * handle would hand a thread another thread's message.
 *
 * Each handle has an err_box: a process-unique id (never reused, so a
 * record naming a closed handle cannot match a new one at the same address)
 * and the last message from any thread, under its mutex. Each thread has
 * ERR_SLOTS records of its own (thread-local: only that thread touches
 * them, so they need no lock): a failure writes the thread's record for the
 * handle and the box; kgp_*_errmsg returns the thread's own message when it
 * has one, else a copy of the box's (a thread reporting, after joining, a
 * failure of another) taken into a record of its own, so the pointer stays
 * valid however other threads fail meanwhile. */

enum { ERR_LEN = 1024, ERR_SLOTS = 8 };

typedef struct err_box {
    uint64_t id;                /* process-unique, set before the handle is shared */
    pthread_mutex_t mu;         /* guards last */
    char last[ERR_LEN];         /* the last failure's message, from any thread */
} err_box;

typedef struct err_slot {
    uint64_t id;                /* the handle's err_box id; 0: free */
    uint64_t used;              /* tl_clock at the last use, for eviction */
    int own;                    /* 1: this thread's failure; 0: a copy of the box */
    char msg[ERR_LEN];
} err_slot;

static atomic_uint_fast64_t err_next_id = 1;
static _Thread_local err_slot tl_err[ERR_SLOTS];
static _Thread_local uint64_t tl_clock;

static void err_box_init(err_box *b)
{
    b->id = (uint64_t)atomic_fetch_add(&err_next_id, 1);
    pthread_mutex_init(&b->mu, NULL);
    b->last[0] = '\0';
}

static err_slot *err_find(uint64_t id)
{
    for (int i = 0; i < ERR_SLOTS; i++)
        if (tl_err[i].id == id) return &tl_err[i];
    return NULL;
}

/* The calling thread's record for id, else a free one, else the least
 * recently used copy, else the least recently used own message. */
static err_slot *err_take(uint64_t id)
{
    err_slot *s = err_find(id), *copy = NULL, *own = NULL;
    for (int i = 0; !s && i < ERR_SLOTS; i++) {
        err_slot *c = &tl_err[i];
        if (!c->id) s = c;
        else if (!c->own && (!copy || c->used < copy->used)) copy = c;
        else if (c->own && (!own || c->used < own->used)) own = c;
    }
    if (!s) s = copy ? copy : own;
    s->id = id;
    s->used = ++tl_clock;
    return s;
}

/* Closing: the calling thread's record goes (other threads' records of the
 * id never match again: ids are not reused). */
static void err_box_fini(err_box *b)
{
    err_slot *s = err_find(b->id);
    if (s) s->id = 0;
    pthread_mutex_destroy(&b->mu);
}

static void err_set(err_box *b, const char *fmt, va_list ap)
{
    char tmp[ERR_LEN];          /* the arguments may be a message of this thread's */
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    err_slot *s = err_take(b->id);
    s->own = 1;
    memcpy(s->msg, tmp, sizeof tmp);
    pthread_mutex_lock(&b->mu);
    memcpy(b->last, tmp, sizeof tmp);
    pthread_mutex_unlock(&b->mu);
}

static const char *err_get(const err_box *cb)
{
    err_box *b = (err_box *)cb;  /* handles are heap objects: the mutex is writable */
    err_slot *s = err_find(b->id);
    if (s && s->own) { s->used = ++tl_clock; return s->msg; }
    s = err_take(b->id);
    s->own = 0;
    pthread_mutex_lock(&b->mu);
    memcpy(s->msg, b->last, sizeof s->msg);
    pthread_mutex_unlock(&b->mu);
    return s->msg;
}

struct kgp_db {
    kgg_store *st;
    unsigned flags;
    char *path;
    err_box err;
};

/* Lazily built name index of a snapshot (first lookup by id or title). */
typedef struct name_ent { const char *name; uint32_t index; } name_ent;

struct kgp_snap {
    kgp_db *db;
    kgg_snap *g;
    pthread_mutex_t lock;       /* guards the lazy index */
    err_box err;
    atomic_int indexed;
    name_ent *ids;              /* [n] bare ids, sorted */
    name_ent *titles;           /* [n] case-folded titles, sorted */
    kg_arena *a;                /* folded titles */
    pthread_mutex_t memo_lock;  /* guards memo, held while a record is computed */
    kgp__rec_memo memo;         /* api_ckpt.c's graph records */
};

kgp_status kgp__db_error(kgp_db *db, kgp_status st, const char *fmt, ...)
{
    if (db) {
        va_list ap;
        va_start(ap, fmt);
        err_set(&db->err, fmt, ap);
        va_end(ap);
    }
    return st;
}

kgp_status kgp__snap_error(kgp_snap *s, kgp_status st, const char *fmt, ...)
{
    if (s) {
        va_list ap;
        va_start(ap, fmt);
        err_set(&s->err, fmt, ap);
        va_end(ap);
    }
    return st;
}

const char *kgp_db_errmsg(const kgp_db *db) { return db ? err_get(&db->err) : "out of memory"; }
const char *kgp_snap_errmsg(const kgp_snap *s) { return s ? err_get(&s->err) : "out of memory"; }

/* ---- database ---- */

kgp_status kgp_db_open(const char *path, unsigned flags, kgp_db **out)
{
    *out = NULL;
    kgp_db *db = kg_calloc(1, sizeof *db);
    if (!db) return KGP_ENOMEM;
    *out = db;
    err_box_init(&db->err);
    db->flags = flags;
    kgg_err e = {{0}};
    if (flags & ~(unsigned)(KGP_RDONLY | KGP_NOLOCK))
        return kgp__db_error(db, KGP_EUSAGE, "unknown flags 0x%x", flags);
    if ((flags & KGP_NOLOCK) && !(flags & KGP_RDONLY))
        return kgp__db_error(db, KGP_EUSAGE, "--no-lock is only for commands that read");
    db->path = path ? kg_strdup(path) : kgg_default_path(!(flags & KGP_RDONLY), &e);
    if (!db->path) {
        if (path) return kgp__db_error(db, KGP_ENOMEM, "out of memory");
        return kgp__db_error(db, KGP_EUSAGE, "%s", e.msg);
    }
    kgp_status st = kgg_store_open(db->path, ((flags & KGP_RDONLY) ? KGG_STORE_RDONLY : 0) |
                                   ((flags & KGP_NOLOCK) ? KGG_STORE_NOLOCK : 0), 0, &db->st, &e);
    if (st) return kgp__db_error(db, st, "%s", e.msg);
    return KGP_OK;
}

void kgp_db_close(kgp_db *db)
{
    if (!db) return;
    kgg_store_close(db->st);
    kg_free(db->path);
    err_box_fini(&db->err);
    kg_free(db);
}

const char *kgp_db_path(const kgp_db *db) { return db && db->path ? db->path : ""; }
struct kgg_store *kgp__db_store(kgp_db *db) { return db ? db->st : NULL; }

kgp_status kgp_db_txn_id(kgp_db *db, uint64_t *id)
{
    MDB_envinfo info;
    *id = 0;
    if (!db || !db->st) return KGP_EDB;
    int rc = mdb_env_info(kgg_store_env(db->st), &info);
    if (rc) return kgp__db_error(db, kgg_mdb_status(rc), "%s: %s", db->path, mdb_strerror(rc));
    *id = (uint64_t)info.me_last_txnid;
    return KGP_OK;
}
int kgp__db_rdonly(const kgp_db *db) { return !db || (db->flags & KGP_RDONLY) || !db->st || kgg_store_rdonly(db->st); }
kgp_db *kgp__snap_db(const kgp_snap *s) { return s ? s->db : NULL; }

/* ---- snapshots ---- */

kgp_status kgp_snap_open(kgp_db *db, kgp_snap **out)
{
    *out = NULL;
    if (!db || !db->st) return kgp__db_error(db, KGP_EUSAGE, "database is not open");
    kgp_snap *s = kg_calloc(1, sizeof *s);
    if (!s) return kgp__db_error(db, KGP_ENOMEM, "out of memory");
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->memo_lock, NULL);
    err_box_init(&s->err);
    s->db = db;
    kgg_err e = {{0}};
    kgp_status st = kgg_snap_open(db->st, &s->g, &e);
    if (st) {
        pthread_mutex_destroy(&s->lock);
        pthread_mutex_destroy(&s->memo_lock);
        err_box_fini(&s->err);
        kg_free(s);
        return kgp__db_error(db, st, "%s", e.msg);
    }
    *out = s;
    return KGP_OK;
}

void kgp_snap_close(kgp_snap *s)
{
    if (!s) return;
    kgg_snap_close(s->g);
    kg_free(s->ids);
    kg_free(s->titles);
    kg_arena_free(s->a);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->memo_lock);
    err_box_fini(&s->err);
    kg_free(s);
}

kgp__rec_memo *kgp__snap_memo_lock(kgp_snap *s)
{
    pthread_mutex_lock(&s->memo_lock);
    return &s->memo;
}

void kgp__snap_memo_unlock(kgp_snap *s) { pthread_mutex_unlock(&s->memo_lock); }

kgp_status kgp__snap_detach(kgp_snap *s)
{
    kgg_err e = {{0}};
    kgp_status st = kgg_snap_detach(s->g, &e);
    return st ? kgp__db_error(s->db, st, "%s", e.msg) : KGP_OK;
}

const kgg_snap *kgp__snap_graph(const kgp_snap *s) { return s ? s->g : NULL; }
uint32_t kgp_snap_count(const kgp_snap *s) { return s ? s->g->n : 0; }

const char *kgp_snap_key(const kgp_snap *s, uint32_t i)
{
    return s && i < s->g->n ? s->g->key[i] : NULL;
}

const char *kgp_snap_title(const kgp_snap *s, uint32_t i)
{
    return s && i < s->g->n ? s->g->title[i] : NULL;
}

uint32_t kgp_snap_course_count(const kgp_snap *s) { return s ? s->g->ncourses : 0; }

const char *kgp_snap_course_id(const kgp_snap *s, uint32_t c)
{
    return s && c < s->g->ncourses ? s->g->course_id[c] : NULL;
}

const char *kgp_snap_course_title(const kgp_snap *s, uint32_t c)
{
    return s && c < s->g->ncourses ? s->g->course_title[c] : NULL;
}

const char *kgp_snap_course_language(const kgp_snap *s, uint32_t c)
{
    return s && c < s->g->ncourses && s->g->course_language ? s->g->course_language[c] : NULL;
}

uint32_t kgp_snap_unit_count(const kgp_snap *s, uint32_t c)
{
    return s && c < s->g->ncourses ? s->g->unit_off[c + 1] - s->g->unit_off[c] : 0;
}

kgp_status kgp_snap_unit(const kgp_snap *s, uint32_t c, uint32_t u, const char **id, const char **title)
{
    if (u >= kgp_snap_unit_count(s, c)) return KGP_ENOTFOUND;
    uint32_t k = s->g->unit_off[c] + u;
    if (id) *id = s->g->unit_id[k];
    if (title) *title = s->g->unit_title[k];
    return KGP_OK;
}

int kgp_snap_course_order(const kgp_snap *s, uint32_t c)
{
    return s && c < s->g->ncourses && s->g->course_order ? s->g->course_order[c] : 0;
}

/* ---- lookup ---- */

/* Case-folded, NFC-normalised copy of a UTF-8 string (kg_malloc'ed via
 * utf8proc's malloc, so freed with free()). NULL for invalid UTF-8. */
static char *fold(const char *s)
{
    utf8proc_uint8_t *outp = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s, 0, &outp,
                                      UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE |
                                      UTF8PROC_CASEFOLD);
    return n < 0 ? NULL : (char *)outp;
}

static int ent_cmp(const void *a, const void *b)
{
    const name_ent *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

static kgp_status build_index(kgp_snap *s)
{
    if (atomic_load(&s->indexed)) return KGP_OK;
    pthread_mutex_lock(&s->lock);
    kgp_status st = KGP_OK;
    if (!s->indexed) {
        const kgg_snap *g = s->g;
        uint32_t n = g->n;
        s->ids = kg_malloc(((size_t)n ? n : 1) * sizeof *s->ids);
        s->titles = kg_malloc(((size_t)n ? n : 1) * sizeof *s->titles);
        s->a = kg_arena_new();
        if (!s->ids || !s->titles || !s->a) { st = KGP_ENOMEM; goto out; }
        for (uint32_t i = 0; i < n; i++) {
            const char *colon = strchr(g->key[i], ':');
            s->ids[i].name = colon ? colon + 1 : g->key[i];
            s->ids[i].index = i;
            char *f = fold(g->title[i]);
            s->titles[i].name = kg_arena_strdup(s->a, f ? f : g->title[i]);
            free(f);
            if (!s->titles[i].name) { st = KGP_ENOMEM; goto out; }
            s->titles[i].index = i;
        }
        qsort(s->ids, n, sizeof *s->ids, ent_cmp);
        qsort(s->titles, n, sizeof *s->titles, ent_cmp);
        atomic_store(&s->indexed, 1);
    }
out:
    pthread_mutex_unlock(&s->lock);
    return st;
}

/* The range [*lo, *hi) of entries named name. */
static void ent_range(const name_ent *e, uint32_t n, const char *name, uint32_t *lo, uint32_t *hi)
{
    uint32_t a = 0, b = n;
    while (a < b) { uint32_t m = a + (b - a) / 2; if (strcmp(e[m].name, name) < 0) a = m + 1; else b = m; }
    *lo = a;
    b = n;
    while (a < b) { uint32_t m = a + (b - a) / 2; if (strcmp(e[m].name, name) <= 0) a = m + 1; else b = m; }
    *hi = a;
}

static kgp_status ambiguous(kgp_snap *s, const char *name, const char *what,
                            const name_ent *e, uint32_t lo, uint32_t hi)
{
    char list[768] = "";
    size_t len = 0;
    uint32_t shown = 0;
    for (uint32_t i = lo; i < hi && shown < 10; i++, shown++) {
        int w = snprintf(list + len, sizeof list - len, "%s%s (%s)", i > lo ? ", " : "",
                         s->g->key[e[i].index], s->g->title[e[i].index]);
        if (w < 0 || (size_t)w >= sizeof list - len) break;
        len += (size_t)w;
    }
    return kgp__snap_error(s, KGP_EAMBIGUOUS, "'%s' is ambiguous: %u concepts have that %s: %s%s",
                           name, hi - lo, what, list, hi - lo > shown ? ", ..." : "");
}

/* Folded text with '-' and '_' read as spaces, so "neural networks" finds the
 * id "neural-networks". */
static void despace(char *f)
{
    for (; *f; f++) if (*f == '-' || *f == '_') *f = ' ';
}

/* On a failed lookup: up to five concepts whose title or id contains the
 * name (case-folded), as "; did you mean: key (title), …", or "" when none.
 * O(n): only on the error path. */
static void near_misses(const kgp_snap *s, const char *name, char *out, size_t outlen)
{
    out[0] = 0;
    char *f = fold(name);
    if (!f) return;
    despace(f);
    size_t len = 0;
    unsigned shown = 0;
    for (uint32_t i = 0; i < s->g->n && shown < 5 && *f; i++) {
        char *t = fold(s->g->title[i]), *k = fold(s->g->key[i]);
        int hit = 0;
        if (t) { despace(t); hit = strstr(t, f) != NULL; }
        if (!hit && k) { despace(k); hit = strstr(k, f) != NULL; }
        free(t); free(k);
        if (!hit) continue;
        int w = snprintf(out + len, outlen - len, "%s%s (%s)", shown ? ", " : "; did you mean: ",
                         s->g->key[i], s->g->title[i]);
        if (w < 0 || (size_t)w >= outlen - len) break;
        len += (size_t)w;
        shown++;
    }
    free(f);
}

kgp_status kgp_snap_lookup(kgp_snap *s, const char *name, uint32_t *index)
{
    if (!s) return KGP_EUSAGE;
    *index = KGP_NONE;
    if (!name || !*name) return kgp__snap_error(s, KGP_EUSAGE, "empty concept name");
    uint32_t i = kgg_snap_find_key(s->g, name);
    if (i != KGG_NONE) { *index = i; return KGP_OK; }
    if (build_index(s)) return kgp__snap_error(s, KGP_ENOMEM, "out of memory");
    uint32_t lo, hi, n = s->g->n;
    if (!strchr(name, ':')) {
        ent_range(s->ids, n, name, &lo, &hi);
        if (hi - lo == 1) { *index = s->ids[lo].index; return KGP_OK; }
        if (hi - lo > 1) return ambiguous(s, name, "id", s->ids, lo, hi);
    }
    char *f = fold(name);
    if (!f) return kgp__snap_error(s, KGP_EUSAGE, "'%s' is not valid UTF-8", name);
    ent_range(s->titles, n, f, &lo, &hi);
    free(f);
    if (hi - lo == 1) { *index = s->titles[lo].index; return KGP_OK; }
    if (hi - lo > 1) return ambiguous(s, name, "title", s->titles, lo, hi);
    char near[640];
    near_misses(s, name, near, sizeof near);
    return kgp__snap_error(s, KGP_ENOTFOUND,
                           "no concept '%s' (give course:id, an id, or a title)%s", name, near);
}

/* ---- concept details ---- */

typedef struct concept_box { kgp_concept pub; kg_arena *a; } concept_box;

static void fill_ref(const kgg_snap *g, kgp_ref *r, uint32_t i, const char *reason)
{
    r->index = i;
    r->key = g->key[i];
    r->title = g->title[i];
    r->reason = reason;
}

kgp_status kgp_concept_get(kgp_snap *s, uint32_t i, kgp_concept **out)
{
    *out = NULL;
    if (!s) return KGP_EUSAGE;
    const kgg_snap *g = s->g;
    if (i >= g->n) return kgp__snap_error(s, KGP_ENOTFOUND, "no concept at index %u", i);
    kg_arena *a = kg_arena_new();
    concept_box *b = a ? kg_arena_calloc(a, sizeof *b) : NULL;
    if (!b) { kg_arena_free(a); return kgp__snap_error(s, KGP_ENOMEM, "out of memory"); }
    b->a = a;
    kgp_concept *c = &b->pub;
    kgg_text t;
    if (kgg_snap_concept_text(g, i, a, &t)) {
        kg_arena_free(a);
        return kgp__snap_error(s, KGP_EDB, "damaged record of concept %s", g->key[i]);
    }
    uint32_t course = g->course[i];
    c->index = i;
    c->key = g->key[i];
    const char *colon = strchr(c->key, ':');
    c->id = colon ? colon + 1 : c->key;
    c->course_id = g->course_id[course];
    c->course_title = g->course_title[course];
    c->course_order = g->course_order ? g->course_order[course] : 0;
    c->title = g->title[i];
    c->summary = t.summary;
    c->description = t.description;
    if (g->unit[i] >= 0 && g->unit_off[course] + (uint32_t)g->unit[i] < g->unit_off[course + 1]) {
        c->unit_id = g->unit_id[g->unit_off[course] + (uint32_t)g->unit[i]];
        c->unit_title = g->unit_title[g->unit_off[course] + (uint32_t)g->unit[i]];
    }
    c->seq = g->seq[i];
    c->minutes = g->minutes[i];
    c->own_minutes = t.own_minutes;
    c->difficulty = g->difficulty[i];
    c->goals = t.goals; c->ngoals = t.ngoals;
    c->tags = t.tags; c->ntags = t.ntags;
    kgp_resource *res = kg_arena_calloc(a, (t.nresources ? t.nresources : 1) * sizeof *res);
    size_t ng = g->grp_off[i + 1] - g->grp_off[i];
    kgp_group *grp = kg_arena_calloc(a, (ng ? ng : 1) * sizeof *grp);
    size_t nrec = g->rec_off[i + 1] - g->rec_off[i];
    size_t nun = 0;
    for (size_t u = 0; u < g->nunresolved; u++) nun += g->unresolved[u].concept == i;
    kgp_ref *rec = kg_arena_calloc(a, (nrec + nun + 1) * sizeof *rec);
    size_t ndep = g->dep_off[i + 1] - g->dep_off[i];
    kgp_ref *dep = kg_arena_calloc(a, (ndep ? ndep : 1) * sizeof *dep);
    size_t nrb = g->recby_off[i + 1] - g->recby_off[i];
    kgp_ref *rb = kg_arena_calloc(a, (nrb ? nrb : 1) * sizeof *rb);
    if (!res || !grp || !rec || !dep || !rb) { kg_arena_free(a); return kgp__snap_error(s, KGP_ENOMEM, "out of memory"); }
    for (size_t r = 0; r < t.nresources; r++) {
        res[r].title = t.resources[r].title; res[r].url = t.resources[r].url;
        res[r].kind = t.resources[r].kind; res[r].minutes = t.resources[r].minutes;
    }
    c->resources = res; c->nresources = t.nresources;
    for (size_t k = 0; k < ng; k++) {
        uint32_t gi = g->grp_off[i] + (uint32_t)k;
        kgp_ref *m = kg_arena_calloc(a, (g->grp_n[gi] ? g->grp_n[gi] : 1) * sizeof *m);
        if (!m) { kg_arena_free(a); return kgp__snap_error(s, KGP_ENOMEM, "out of memory"); }
        uint32_t nm = 0;
        for (uint32_t j = g->mem_off[gi]; j < g->mem_off[gi + 1]; j++)
            fill_ref(g, &m[nm++], g->mem[j], g->mem_reason[j]);
        for (size_t u = 0; u < g->nunresolved && nm < g->grp_n[gi]; u++)
            if (g->unresolved[u].concept == i && !g->unresolved[u].recommended && g->unresolved[u].group == gi) {
                m[nm].index = KGP_NONE; m[nm].key = g->unresolved[u].target; nm++;
            }
        grp[k].k = g->grp_k[gi];
        grp[k].n = nm;
        grp[k].members = m;
        grp[k].reason = g->grp_reason[gi];
    }
    c->groups = grp; c->ngroups = ng;
    size_t nr = 0;
    for (uint32_t j = g->rec_off[i]; j < g->rec_off[i + 1]; j++) fill_ref(g, &rec[nr++], g->rec[j], g->rec_reason[j]);
    for (size_t u = 0; u < g->nunresolved; u++)
        if (g->unresolved[u].concept == i && g->unresolved[u].recommended) {
            rec[nr].index = KGP_NONE; rec[nr].key = g->unresolved[u].target; nr++;
        }
    c->recommends = rec; c->nrecommends = nr;
    for (size_t j = 0; j < ndep; j++) fill_ref(g, &dep[j], g->dep[g->dep_off[i] + j], NULL);
    c->dependents = dep; c->ndependents = ndep;
    for (size_t j = 0; j < nrb; j++) fill_ref(g, &rb[j], g->recby[g->recby_off[i] + j], NULL);
    c->recommended_by = rb; c->nrecommended_by = nrb;
    *out = c;
    return KGP_OK;
}

void kgp_concept_free(kgp_concept *c)
{
    if (c) kg_arena_free(((concept_box *)c)->a);
}

/* ---- iterator ---- */

struct kgp_iter { uint32_t next, end; };

kgp_status kgp_iter_open(kgp_snap *s, const char *course, kgp_iter **out)
{
    *out = NULL;
    if (!s) return KGP_EUSAGE;
    uint32_t lo = 0, hi = s->g->n;
    if (course) {
        uint32_t c = 0;
        while (c < s->g->ncourses && strcmp(s->g->course_id[c], course)) c++;
        if (c == s->g->ncourses) return kgp__snap_error(s, KGP_ENOTFOUND, "no course '%s'", course);
        lo = s->g->course_first[c];
        hi = s->g->course_first[c + 1];
    }
    kgp_iter *it = kg_malloc(sizeof *it);
    if (!it) return kgp__snap_error(s, KGP_ENOMEM, "out of memory");
    it->next = lo; it->end = hi;
    *out = it;
    return KGP_OK;
}

int kgp_iter_next(kgp_iter *it, uint32_t *index)
{
    if (!it || it->next >= it->end) return 0;
    *index = it->next++;
    return 1;
}

void kgp_iter_close(kgp_iter *it) { kg_free(it); }

/* ---- stats, unresolved, export ---- */

kgp_status kgp_snap_stats(kgp_snap *s, kgp_stats *st)
{
    memset(st, 0, sizeof *st);
    if (!s) return KGP_EUSAGE;
    const kgg_snap *g = s->g;
    st->courses = g->ncourses;
    st->units = g->unit_off[g->ncourses];
    st->concepts = g->n;
    st->groups = g->ngroups;
    for (uint32_t k = 0; k < g->ngroups; k++) st->plain_groups += g->grp_k[k] == 1 && g->grp_n[k] == 1;
    st->edges = g->mem_off[g->ngroups];
    st->recommends = g->rec_off[g->n];
    st->unresolved = g->nunresolved;
    kg_arena *a = kg_arena_new();
    if (!a) return kgp__snap_error(s, KGP_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < g->n; i++) {
        if (g->minutes[i] >= 0) st->minutes += g->minutes[i];
        kgg_text t;
        if (kgg_snap_concept_text(g, i, a, &t) == 0) { st->resources += t.nresources; st->goals += t.ngoals; }
        if (kg_arena_used(a) > (1u << 20)) { kg_arena_free(a); a = kg_arena_new(); if (!a) return KGP_ENOMEM; }
    }
    kg_arena_free(a);
    st->db_bytes = kgg_store_file_size(s->db->st);
    st->map_bytes = kgg_store_map_size(s->db->st);
    return KGP_OK;
}

size_t kgp_snap_unresolved_count(const kgp_snap *s) { return s ? s->g->nunresolved : 0; }

kgp_status kgp_snap_unresolved(const kgp_snap *s, size_t i, uint32_t *holder,
                               const char **target, int *recommended)
{
    if (!s || i >= s->g->nunresolved) return KGP_ENOTFOUND;
    const kgg_unresolved *u = &s->g->unresolved[i];
    if (holder) *holder = u->concept;
    if (target) *target = u->target;
    if (recommended) *recommended = u->recommended;
    return KGP_OK;
}

kgp_status kgp_export(kgp_snap *s, const char *format, FILE *out)
{
    if (!s) return KGP_EUSAGE;
    if (!out) return kgp__snap_error(s, KGP_EUSAGE, "no output stream");
    kgg_err e = {{0}};
    kgp_status st = kgg_export(s->g, format ? format : "json", out, &e);
    return st ? kgp__snap_error(s, st, "%s", e.msg) : KGP_OK;
}
