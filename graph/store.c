/* The LMDB store: environment, named databases, schema version, growth,
 * default location and record decoding. The writer is graph/store_write.c. */
#include "graph/store.h"
#include "graph/store_check.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

static kgp_status commit_fail(kgg_store *st, int rc, kgg_err *e);
static kgp_status disk_full_fail(const char *path, int rc, kgg_err *e);

static const char *const k_dbi_names[] = {
    "meta", "courses", "names", "concepts", "requires", "recommends",
    "dependents", "recommenders", "unresolved", "embeddings", "learners", "events",
};
#define NDBI (sizeof k_dbi_names / sizeof k_dbi_names[0])
#define MAX_EXTRA_DBI 16

static unsigned dbi_flags(const char *name)
{
    if (!strcmp(name, "dependents") || !strcmp(name, "recommenders") ||
        !strcmp(name, "unresolved"))
        return MDB_DUPSORT | MDB_DUPFIXED;
    return 0;
}

struct kgg_store {
    MDB_env *env;
    char *path;
    unsigned flags;
    MDB_dbi dbi[NDBI];
    struct { char *name; MDB_dbi dbi; } extra[MAX_EXTRA_DBI];
    size_t nextra;
    pthread_mutex_t lock;   /* guards nreaders and extra dbis */
    long nreaders;          /* open snapshots of this process */
    /* Held shared by every transaction of this process while it is open
     * (and while mdb_txn_begin runs), exclusively while the map is moved:
     * mdb_env_set_mapsize unmaps the memory every open transaction points
     * into. Snapshots release it once begun and count in nreaders instead
     * (they live long; a resize refuses while any is open). */
    pthread_rwlock_t maplock;
    /* LMDB allows one environment per file per process (its locks are
     * per process), so opening a file that is already open returns the same
     * store with a reference more. */
    int no_reserve;         /* kgg_store_set_autoreserve(st, 0) */
    dev_t dev;
    ino_t ino;
    int refs;
    struct kgg_store *next;
};

static pthread_mutex_t g_open_lock = PTHREAD_MUTEX_INITIALIZER;
/* Transactions this thread holds (any store): a thread that holds one must
 * not wait for the map lock exclusively (it would wait for itself). */
static __thread int t_held;
static void store_free(kgg_store *st);
static kgg_store *g_open;       /* stores open in this process */

kgp_status kgg_errf(kgg_err *e, kgp_status st, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return st;
}

/* ---- default location ---- */

static int mkdir_p(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        int r = mkdir(path, 0755);
        *p = '/';
        if (r != 0 && errno != EEXIST) return -1;
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST) return -1;
    return 0;
}

char *kgg_default_path(int create, kgg_err *e)
{
    const char *env = getenv("KGPATH_DB");
    if (env && *env) return kg_strdup(env);
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    char dir[4096];
    if (xdg && *xdg && xdg[0] == '/')
        snprintf(dir, sizeof dir, "%s/kgpath", xdg);
    else if (home && *home)
        snprintf(dir, sizeof dir, "%s/.local/share/kgpath", home);
    else {
        kgg_errf(e, KGP_EUSAGE, "no database location: set KGPATH_DB or HOME, or pass --db PATH");
        return NULL;
    }
    if (create && mkdir_p(dir) != 0) {
        kgg_errf(e, KGP_EIO, "cannot create %s: %s", dir, strerror(errno));
        return NULL;
    }
    size_t n = strlen(dir) + sizeof "/kgpath.db";
    char *p = kg_malloc(n);
    if (!p) { kgg_errf(e, KGP_ENOMEM, "out of memory"); return NULL; }
    snprintf(p, n, "%s/kgpath.db", dir);
    return p;
}

/* ---- open / close ---- */

kgp_status kgg_mdb_fail(kgg_err *e, const char *what, int rc)
{
    return rc == ENOMEM ? kgg_errf(e, KGP_ENOMEM, "out of memory")
                        : kgg_errf(e, KGP_EDB, "%s: %s", what, mdb_strerror(rc));
}

/* An LMDB failure as a status: ENOMEM (no address space for the map, or
 * no memory: `ulimit -v`, prlimit --as) is KGP_ENOMEM, like any failed
 * allocation, not a damaged database. */
static kgp_status lmdb_fail(kgg_err *e, const char *what, const char *path, int rc)
{
    return kgg_errf(e, kgg_mdb_status(rc), "%s%s%s: %s%s", path ? path : "",
                    path ? ": " : "", what, mdb_strerror(rc),
                    rc == ENOMEM ? " (the database is mapped into memory: raise the address-space "
                                   "limit, ulimit -v)" : "");
}

/* Opens every named database; creates them and the schema record on a
 * writable store, checks the schema version. */
static kgp_status open_dbis(kgg_store *st, kgg_err *e)
{
    int ro = st->flags & KGG_STORE_RDONLY;
    MDB_txn *txn;
    int rc;
    /* Another process may grow the file between mdb_env_open and here:
     * adopt its size (nothing of this store is open yet). */
    for (int tries = 0; (rc = mdb_txn_begin(st->env, NULL, ro ? MDB_RDONLY : 0, &txn)) == MDB_MAP_RESIZED
                        && tries < 8; tries++)
        if ((rc = mdb_env_set_mapsize(st->env, 0))) break;
    if (rc) return lmdb_fail(e, "cannot begin transaction", st->path, rc);
    kgp_status s = KGP_OK;
    if (!ro) {
        /* Another program's LMDB file: refuse before creating anything in
         * it, as a reader refuses it (a new, empty file is ours to fill). */
        MDB_dbi probe, main_dbi;
        MDB_stat ms;
        rc = mdb_dbi_open(txn, k_dbi_names[0], 0, &probe);
        if (rc == MDB_NOTFOUND && mdb_dbi_open(txn, NULL, 0, &main_dbi) == 0 &&
            mdb_stat(txn, main_dbi, &ms) == 0 && ms.ms_entries > 0) {
            s = kgg_errf(e, KGP_EDB, "%s: not a kgpath database (an LMDB file with %zu other "
                         "entries; nothing was written)", st->path, (size_t)ms.ms_entries);
            goto out;
        }
        if (rc == MDB_INCOMPATIBLE) {
            s = kgg_errf(e, KGP_EDB, "%s: not a kgpath database (nothing was written)", st->path);
            goto out;
        }
    }
    for (size_t i = 0; i < NDBI; i++) {
        rc = mdb_dbi_open(txn, k_dbi_names[i], dbi_flags(k_dbi_names[i]) | (ro ? 0 : MDB_CREATE), &st->dbi[i]);
        if (rc == MDB_NOTFOUND && i > 0) {
            s = kgg_errf(e, KGP_EDB, "%s: database '%s' is missing (damaged, or made by another version)",
                         st->path, k_dbi_names[i]);
            goto out;
        }
        if (rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE) {
            s = kgg_errf(e, KGP_EDB, "%s: not a kgpath database", st->path);
            goto out;
        }
        if (rc) { s = lmdb_fail(e, "cannot open named database", st->path, rc); goto out; }
    }
    MDB_val k = {6, "schema"}, v;
    rc = mdb_get(txn, st->dbi[0], &k, &v);
    if (rc == MDB_NOTFOUND) {
        if (ro) { s = kgg_errf(e, KGP_EDB, "%s: not a kgpath database (no schema version)", st->path); goto out; }
        uint8_t b[4];
        kgg_put_be32(b, KGG_SCHEMA_VERSION);
        v.mv_size = 4; v.mv_data = b;
        if ((rc = mdb_put(txn, st->dbi[0], &k, &v, 0))) { s = lmdb_fail(e, "cannot write schema", st->path, rc); goto out; }
    } else if (rc) {
        s = lmdb_fail(e, "cannot read schema", st->path, rc);
        goto out;
    } else {
        uint32_t ver = v.mv_size == 4 ? kgg_be32(v.mv_data) : 0;
        if (ver != KGG_SCHEMA_VERSION) {
            s = kgg_errf(e, KGP_EDB, "%s: schema version %u, but this kgpath uses version %u "
                         "(re-import the courses into a new database)",
                         st->path, ver, KGG_SCHEMA_VERSION);
            goto out;
        }
    }
    rc = mdb_txn_commit(txn);
    if (rc) return commit_fail(st, rc, e);   /* a new database on a full disk: exit 8 */
    return KGP_OK;
out:
    mdb_txn_abort(txn);
    return s;
}

/* LMDB writes its lock file through a shared map, so on a full disk the
 * first touch of a page is SIGBUS, not an error. A lock file that does not
 * exist yet is made here with its blocks reserved (fallocate, the size
 * unchanged so that LMDB initialises it as new): a full disk is then
 * ENOSPC, before anything is mapped. Returns 0 (also when the file exists,
 * or cannot be made here: LMDB reports that) or the errno; *made says
 * whether this call created the file. */
#define LOCK_MAX_READERS 256
static int reserve_lock_file(const char *lock, int *made)
{
    *made = 0;
    int fd = open(lock, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return 0;
    *made = 1;
    /* LMDB's lock file: a 128-byte header and 64 bytes per reader slot
     * (lmdb.h MDB_txninfo / MDB_reader); a page more for the rounding. */
    int r = fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)LOCK_MAX_READERS * 64 + 4096) ? errno : 0;
    if (r == EOPNOTSUPP || r == ENOSYS) r = 0;      /* a file system without it: as before */
    close(fd);
    if (r) { unlink(lock); *made = 0; }
    return r;
}

kgp_status kgg_store_open(const char *path, unsigned flags, size_t map_size,
                          kgg_store **out, kgg_err *e)
{
    *out = NULL;
    if (!path || !*path) return kgg_errf(e, KGP_EUSAGE, "empty database path");
    int ro = flags & KGG_STORE_RDONLY;
    struct stat sb;
    int exists = stat(path, &sb) == 0;
    if (!exists) {
        if (ro || errno != ENOENT)
            return kgg_errf(e, errno == ENOENT ? KGP_ENOTFOUND : KGP_EDB,
                            "%s: %s", path, strerror(errno));
    } else if (S_ISDIR(sb.st_mode)) {
        return kgg_errf(e, KGP_EDB, "%s: is a directory (the database is a file)", path);
    } else {
        /* Before LMDB maps it: a truncated file would raise SIGBUS. */
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return kgg_errf(e, errno == EACCES ? KGP_EDB : KGP_EIO, "%s: %s", path, strerror(errno));
        kgp_status cs = kgg_store_check_file(path, fd, ro, e);
        close(fd);
        if (cs) return cs;
    }
    if ((flags & KGG_STORE_NOLOCK) && !ro)
        return kgg_errf(e, KGP_EUSAGE, "%s: a database opened without its lock file must be read-only", path);
    pthread_mutex_lock(&g_open_lock);
    for (kgg_store *o = exists ? g_open : NULL; o; o = o->next) {
        if (o->dev != sb.st_dev || o->ino != sb.st_ino) continue;
        kgp_status r = KGP_OK;
        /* a read-only request may share a writable store, not the reverse */
        if ((o->flags & KGG_STORE_RDONLY) && !ro)
            r = kgg_errf(e, KGP_EDB, "%s: already open read-only in this process", path);
        else { o->refs++; *out = o; }
        pthread_mutex_unlock(&g_open_lock);
        return r;
    }
    kgg_store *st = kg_calloc(1, sizeof *st);
    if (!st) { pthread_mutex_unlock(&g_open_lock); return kgg_errf(e, KGP_ENOMEM, "out of memory"); }
    st->refs = 1;
    st->flags = flags;
    st->path = kg_strdup(path);
    pthread_mutex_init(&st->lock, NULL);
    pthread_rwlock_init(&st->maplock, NULL);
    kgp_status s;
    int rc;
    if (!st->path) { s = kgg_errf(e, KGP_ENOMEM, "out of memory"); goto fail; }
    if ((rc = mdb_env_create(&st->env))) { s = lmdb_fail(e, "cannot create environment", path, rc); goto fail; }
    mdb_env_set_userctx(st->env, st);    /* kgg_store_read_end finds the store */
    mdb_env_set_maxdbs(st->env, NDBI + MAX_EXTRA_DBI);
    mdb_env_set_maxreaders(st->env, LOCK_MAX_READERS);
    if (!map_size) {
        /* KGPATH_MAP_SIZE: the first map in bytes (tests use a small one so
         * that growth, and other processes adopting it, happen often). */
        const char *ms = getenv("KGPATH_MAP_SIZE");
        char *end;
        unsigned long long v = ms && *ms ? strtoull(ms, &end, 10) : 0;
        map_size = v >= 65536 && !*end ? (size_t)v : KGG_DEFAULT_MAP_SIZE;
    }
    if (!ro || (size_t)sb.st_size < map_size)
        mdb_env_set_mapsize(st->env, map_size);  /* an existing larger file keeps its size */
    char lock[4200];
    int made_lock = 0;
    snprintf(lock, sizeof lock, "%s-lock", path);
    if (!(flags & KGG_STORE_NOLOCK) && strlen(path) < 4096 && (rc = reserve_lock_file(lock, &made_lock))) {
        s = disk_full_fail(lock, rc, e);
        goto fail;
    }
    rc = mdb_env_open(st->env, path, MDB_NOSUBDIR | MDB_NOTLS | (ro ? MDB_RDONLY : 0) |
                      ((flags & KGG_STORE_NOLOCK) ? MDB_NOLOCK : 0), 0644);
    if (rc) {
        /* A full disk leaves nothing behind: not the lock file made here,
         * nor a new database file LMDB could not write its first pages to. */
        int full = rc == ENOSPC || rc == EDQUOT || rc == EFBIG || (rc == EIO && (made_lock || !exists));
        if (full) {
            s = disk_full_fail(path, rc, e);
            if (made_lock) unlink(lock);
            if (!exists) unlink(path);
        } else if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH)
            s = kgg_errf(e, KGP_EDB, "%s: not a kgpath (LMDB) database: %s", path, mdb_strerror(rc));
        else if ((rc == EACCES || rc == EROFS) && access(path, R_OK) == 0 && !(flags & KGG_STORE_NOLOCK))
            /* The file is readable; its lock file (beside it) is not. */
            s = kgg_errf(e, KGP_EDB, "%s-lock: cannot open or create the lock file: %s%s", path,
                         strerror(rc), ro ? " (read-only folder? --no-lock reads without it, safe "
                         "only while no process writes the database)" : "");
        else
            s = lmdb_fail(e, "cannot open", path, rc);
        goto fail;
    }
    int dead = 0;
    if (!(flags & KGG_STORE_NOLOCK)) mdb_reader_check(st->env, &dead);
    if ((s = open_dbis(st, e)) != KGP_OK) {
        if (s == KGP_EIO && !exists) { unlink(path); if (made_lock) unlink(lock); }   /* a full disk */
        goto fail;
    }
    if (stat(path, &sb) == 0) {
        st->dev = sb.st_dev;
        st->ino = sb.st_ino;
        st->next = g_open;
        g_open = st;
    }
    pthread_mutex_unlock(&g_open_lock);
    *out = st;
    return KGP_OK;
fail:
    pthread_mutex_unlock(&g_open_lock);
    st->refs = 0;
    store_free(st);
    return s;
}

void kgg_store_close(kgg_store *st)
{
    if (!st) return;
    pthread_mutex_lock(&g_open_lock);
    if (--st->refs > 0) { pthread_mutex_unlock(&g_open_lock); return; }
    for (kgg_store **pp = &g_open; *pp; pp = &(*pp)->next)
        if (*pp == st) { *pp = st->next; break; }
    pthread_mutex_unlock(&g_open_lock);
    store_free(st);
}

static void store_free(kgg_store *st)
{
    if (st->env) mdb_env_close(st->env);
    for (size_t i = 0; i < st->nextra; i++) kg_free(st->extra[i].name);
    pthread_mutex_destroy(&st->lock);
    pthread_rwlock_destroy(&st->maplock);
    kg_free(st->path);
    kg_free(st);
}

const char *kgg_store_path(const kgg_store *st) { return st->path; }
int kgg_store_rdonly(const kgg_store *st) { return (st->flags & KGG_STORE_RDONLY) != 0; }
MDB_env *kgg_store_env(kgg_store *st) { return st->env; }

size_t kgg_store_map_size(kgg_store *st)
{
    MDB_envinfo info;
    mdb_env_info(st->env, &info);
    return info.me_mapsize;
}

uint64_t kgg_store_file_size(const kgg_store *st)
{
    struct stat sb;
    return stat(st->path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

int kgg_store_dbi(const kgg_store *st, const char *name, MDB_dbi *dbi)
{
    for (size_t i = 0; i < NDBI; i++)
        if (!strcmp(k_dbi_names[i], name)) { *dbi = st->dbi[i]; return 0; }
    return -1;
}

static kgp_status resize(kgg_store *st, size_t new_size, kgg_err *e);

void kgg_store_map_hold(kgg_store *st)
{
    pthread_rwlock_rdlock(&st->maplock);
    t_held++;
}

void kgg_store_map_release(kgg_store *st)
{
    t_held--;
    pthread_rwlock_unlock(&st->maplock);
}


/* kgg_store_open_dbi, or with probe set kgg_store_find_dbi: every
 * mdb_dbi_open of the process runs here under st->lock, as LMDB requires
 * (two transactions of a process must not open handles at once: batch's
 * threads loading learners did, and every later read got EINVAL). */
static kgp_status open_dbi(kgg_store *st, const char *name, unsigned flags, int probe,
                           MDB_dbi *dbi, int *present, kgg_err *e)
{
    *present = 1;
    if (kgg_store_dbi(st, name, dbi) == 0) return KGP_OK;
    /* the map lock before st->lock, the order resize takes them in */
    kgg_store_map_hold(st);
    pthread_mutex_lock(&st->lock);
    kgp_status s = KGP_OK;
    for (size_t i = 0; i < st->nextra; i++)
        if (!strcmp(st->extra[i].name, name)) { *dbi = st->extra[i].dbi; goto out; }
    if (st->nextra == MAX_EXTRA_DBI) { s = kgg_errf(e, KGP_EDB, "too many named databases"); goto out; }
    int ro = probe || kgg_store_rdonly(st);   /* a probe creates nothing */
    MDB_txn *txn;
    int rc = mdb_txn_begin(st->env, NULL, ro ? MDB_RDONLY : 0, &txn);
    if (rc == MDB_MAP_RESIZED) {
        /* Another process grew the file: adopt its size (outside both
         * locks, which resize takes), then start over. */
        pthread_mutex_unlock(&st->lock);
        kgg_store_map_release(st);
        if ((s = resize(st, 0, e)) != KGP_OK) return s;
        return open_dbi(st, name, flags, probe, dbi, present, e);
    }
    if (!rc) {
        rc = mdb_dbi_open(txn, name, flags | (ro ? 0 : MDB_CREATE), dbi);
        if (rc) mdb_txn_abort(txn);
        else rc = mdb_txn_commit(txn);   /* (a read-only one's too: keeps the handle) */
    }
    if (rc == MDB_NOTFOUND && probe) { *present = 0; goto out; }
    if (rc == MDB_MAP_FULL && !ro) {
        /* The file fills its map (a reopened file maps just its size):
         * grow it, as a write does (kgg_store_update), then start over. */
        pthread_mutex_unlock(&st->lock);
        kgg_store_map_release(st);
        if ((s = resize(st, kgg_store_map_size(st) * 2, e)) != KGP_OK) return s;
        return open_dbi(st, name, flags, probe, dbi, present, e);
    }
    if (rc) {   /* creating it writes: a full disk is an I/O error, as for any write */
        s = rc == ENOSPC || rc == EDQUOT || rc == EIO ? commit_fail(st, rc, e)
                                                      : lmdb_fail(e, "cannot open named database", name, rc);
        goto out;
    }
    st->extra[st->nextra].name = kg_strdup(name);
    if (!st->extra[st->nextra].name) { s = kgg_errf(e, KGP_ENOMEM, "out of memory"); goto out; }
    st->extra[st->nextra++].dbi = *dbi;
out:
    pthread_mutex_unlock(&st->lock);
    kgg_store_map_release(st);
    return s;
}

kgp_status kgg_store_open_dbi(kgg_store *st, const char *name, unsigned flags,
                              MDB_dbi *dbi, kgg_err *e)
{
    int present;
    return open_dbi(st, name, flags, 0, dbi, &present, e);
}

kgp_status kgg_store_find_dbi(kgg_store *st, const char *name, MDB_dbi *dbi, int *present,
                              kgg_err *e)
{
    return open_dbi(st, name, 0, 1, dbi, present, e);
}

/* ---- growth and transactions ---- */

/* new_size 0: adopt the size another process set (MDB_MAP_RESIZED).
 * Waits for the other threads' transactions to end (they are short: a
 * snapshot, the long-lived kind, makes it refuse instead), so a thread that
 * holds a transaction itself is refused too. */
static kgp_status resize(kgg_store *st, size_t new_size, kgg_err *e)
{
    if (t_held > 0)
        return kgg_errf(e, KGP_EDB, "%s: the database map must grow, but this thread "
                        "holds a transaction; end it and retry", st->path);
    pthread_rwlock_wrlock(&st->maplock);
    pthread_mutex_lock(&st->lock);
    long readers = st->nreaders;
    pthread_mutex_unlock(&st->lock);
    kgp_status s = KGP_OK;
    if (readers > 0) {
        s = kgg_errf(e, KGP_EDB, "%s: the database map must grow, but %ld snapshot%s of "
                     "this process %s open; close them and retry", st->path, readers,
                     readers == 1 ? "" : "s", readers == 1 ? "is" : "are");
    } else {
        int rc = mdb_env_set_mapsize(st->env, new_size);
        if (rc) s = lmdb_fail(e, "cannot resize the map", st->path, rc);
    }
    pthread_rwlock_unlock(&st->maplock);
    return s;
}

void kgg_store_set_autoreserve(kgg_store *st, int on) { st->no_reserve = !on; }

kgp_status kgg_store_reserve(kgg_store *st, size_t bytes, kgg_err *e)
{
    if (kgg_store_rdonly(st) || st->no_reserve) return KGP_OK;
    MDB_envinfo info;
    MDB_stat ms;
    mdb_env_info(st->env, &info);
    mdb_env_stat(st->env, &ms);
    size_t used = (info.me_last_pgno + 1) * (size_t)ms.ms_psize;
    size_t want = info.me_mapsize;
    while (want < used + bytes && want < SIZE_MAX / 4) want *= 2;
    if (want == info.me_mapsize) return KGP_OK;
    pthread_mutex_lock(&st->lock);
    long readers = st->nreaders;
    pthread_mutex_unlock(&st->lock);
    if (readers > 0) return KGP_OK;
    return resize(st, want, e);
}

void kgg_store_snap_enter(kgg_store *st)
{
    pthread_mutex_lock(&st->lock);
    st->nreaders++;
    pthread_mutex_unlock(&st->lock);
}

void kgg_store_snap_leave(kgg_store *st)
{
    pthread_mutex_lock(&st->lock);
    st->nreaders--;
    pthread_mutex_unlock(&st->lock);
}

kgp_status kgg_store_read_begin(kgg_store *st, MDB_txn **txn, kgg_err *e)
{
    for (int tries = 0; ; tries++) {
        kgg_store_map_hold(st);
        int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, txn);
        if (rc == 0) return KGP_OK;
        kgg_store_map_release(st);
        if (rc == MDB_MAP_RESIZED && tries < 8) {
            kgp_status s = resize(st, 0, e);
            if (s) return s;
            continue;
        }
        return lmdb_fail(e, "cannot begin read transaction", st->path, rc);
    }
}

void kgg_store_read_end(MDB_txn *txn)
{
    if (!txn) return;
    kgg_store *st = mdb_env_get_userctx(mdb_txn_env(txn));
    mdb_txn_abort(txn);
    kgg_store_map_release(st);
}

kgp_status kgg_store_snap_begin(kgg_store *st, MDB_txn **txn, kgg_err *e)
{
    kgp_status s = kgg_store_read_begin(st, txn, e);
    if (s) return s;
    /* A snapshot outlives this call: it counts as a reader instead of
     * holding the map lock (see resize). */
    kgg_store_snap_enter(st);
    kgg_store_map_release(st);
    return KGP_OK;
}

void kgg_store_snap_end(kgg_store *st, MDB_txn *txn)
{
    if (!txn) return;
    mdb_txn_abort(txn);
    kgg_store_snap_leave(st);
}

/* A failed commit. LMDB reports a short write as EIO, which is what a full
 * disk gives: say so when the file system has no room left. */
static kgp_status commit_fail(kgg_store *st, int rc, kgg_err *e)
{
    if (rc == ENOSPC || rc == EDQUOT || rc == EFBIG || rc == EIO) return disk_full_fail(st->path, rc, e);
    return lmdb_fail(e, "cannot commit", st->path, rc);
}

/* ENOSPC, EDQUOT, EFBIG or EIO writing path: exit 8 (KGP_EIO) naming it, and an
 * EIO on a file system with less than 1 MiB left called what it is. */
static kgp_status disk_full_fail(const char *path, int rc, kgg_err *e)
{
    struct statvfs vf;
    if (rc == EIO && statvfs(path, &vf) == 0 &&
        (geteuid() == 0 ? vf.f_bfree : vf.f_bavail) * (uint64_t)vf.f_frsize < ((uint64_t)1 << 20))
        rc = ENOSPC;
    return kgg_errf(e, KGP_EIO, "%s: cannot write: %s", path, strerror(rc));
}

kgp_status kgg_store_update(kgg_store *st, kgg_txn_fn fn, void *ud, kgg_err *e)
{
    if (kgg_store_rdonly(st))
        return kgg_errf(e, KGP_EUSAGE, "%s: opened read-only", st->path);
    for (int tries = 0; tries < 40; tries++) {
        MDB_txn *txn;
        kgg_store_map_hold(st);
        int rc = mdb_txn_begin(st->env, NULL, 0, &txn);
        if (rc == MDB_MAP_RESIZED) {
            kgg_store_map_release(st);
            kgp_status s = resize(st, 0, e);
            if (s) return s;
            continue;
        }
        if (rc) { kgg_store_map_release(st); return lmdb_fail(e, "cannot begin write transaction", st->path, rc); }
        int mrc = 0;
        kgp_status s = fn(txn, ud, &mrc, e);
        if (s == KGP_OK) {
            rc = mdb_txn_commit(txn);
            if (rc == 0) { kgg_store_map_release(st); return KGP_OK; }
            mrc = rc;
            s = commit_fail(st, rc, e);
        } else {
            mdb_txn_abort(txn);
        }
        kgg_store_map_release(st);
        if (mrc != MDB_MAP_FULL) return s;
        size_t cur = kgg_store_map_size(st);
        if ((s = resize(st, cur * 2, e)) != KGP_OK) return s;
    }
    return kgg_errf(e, KGP_EDB, "%s: the map kept filling up while growing", st->path);
}

/* ---- record decoding ---- */

uint64_t kgg_rd_varint(kgg_rd *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) { r->bad = 1; return 0; }
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
    }
    r->bad = 1;
    return 0;
}

const char *kgg_rd_str(kgg_rd *r)
{
    uint64_t n = kgg_rd_varint(r);
    if (r->bad || n == 0) return NULL;
    n--;
    if ((uint64_t)(r->end - r->p) < n + 1 || r->p[n] != 0) { r->bad = 1; return NULL; }
    const char *s = (const char *)r->p;
    r->p += n + 1;
    return s;
}

double kgg_rd_f64(kgg_rd *r)
{
    if (r->end - r->p < 8) { r->bad = 1; return -1; }
    uint64_t u = 0;
    for (int i = 7; i >= 0; i--) u = u << 8 | r->p[i];
    r->p += 8;
    double d;
    memcpy(&d, &u, 8);
    return d;
}

uint8_t kgg_rd_u8(kgg_rd *r)
{
    if (r->p >= r->end) { r->bad = 1; return 0; }
    return *r->p++;
}
