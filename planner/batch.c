/* The batch engine: see batch.h for the contract. */
#include "planner/batch.h"
#include "base/file.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"

/* Input lines per committed chunk. Plans with their explanations are ~20 KB
 * of JSON each, and threads + 2 chunks are in flight: 256 keeps that near
 * 20 MB while a commit (fdatasync + state rename) still covers many plans. */
#define DEFAULT_CHUNK 256
#define TASK_LINES    32        /* lines a worker takes at once */
#define STATUS_INPUT    KGP_EINPUT
#define STATUS_NOMEM    KGP_ENOMEM
#define STATUS_IO       KGP_EIO
#define STATUS_INTERNAL KGP_EINTERNAL

/* ------------------------------------------------------------------------ */
/* Shards */

static uint64_t fnv1a(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

uint32_t kgn_batch_shard_of(const char *id, size_t len, uint32_t n)
{
    return n <= 1 ? 0 : (uint32_t)(fnv1a(id, len) % n);
}

static int parse_u32(const char *s, const char **end, uint32_t *v)
{
    if (!isdigit((unsigned char)*s)) return -1;
    errno = 0;
    char *e;
    unsigned long long x = strtoull(s, &e, 10);
    if (errno || x > UINT32_MAX) return -1;
    *v = (uint32_t)x;
    *end = e;
    return 0;
}

int kgn_batch_parse_shard(const char *s, uint32_t *i, uint32_t *n)
{
    const char *e;
    uint32_t a, b;
    if (!s || parse_u32(s, &e, &a) || *e != '/') return -1;
    if (parse_u32(e + 1, &e, &b) || *e || b == 0 || a >= b) return -1;
    *i = a;
    *n = b;
    return 0;
}

int kgn_batch_shard_from_env(uint32_t *i, uint32_t *n)
{
    const char *id = getenv("SLURM_ARRAY_TASK_ID");
    const char *cnt = getenv("SLURM_ARRAY_TASK_COUNT");
    const char *mn = getenv("SLURM_ARRAY_TASK_MIN");
    if (!id || !*id) return 0;
    const char *e;
    uint32_t vid, vcnt, vmin = 0;
    if (parse_u32(id, &e, &vid) || *e) return -1;
    if (!cnt || parse_u32(cnt, &e, &vcnt) || *e || vcnt == 0) return -1;
    if (mn && *mn && (parse_u32(mn, &e, &vmin) || *e)) return -1;
    if (vid < vmin || vid - vmin >= vcnt) return -1;
    *i = vid - vmin;
    *n = vcnt;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* The engine */

typedef struct task {
    size_t a, b;                /* lines [a, b) of the chunk */
    kg_buf out;
    uint64_t learners, plans, errors, unchanged, other, blank;
} task;

typedef struct chunk {
    uint64_t first_line;        /* line number of line 0 */
    size_t n;                   /* lines */
    char *text;                 /* lines, each NUL-terminated */
    size_t tlen, tcap;
    size_t *off;                /* [n + 1] starts in text */
    size_t offcap;
    task *tasks;
    size_t ntasks, taskcap;
    size_t next_task, done_tasks;   /* under engine.mu */
    uint64_t bytes;             /* input bytes of these lines */
} chunk;

typedef struct engine {
    const kgn_batch_ops *ops;
    const kgn_batch_opts *opts;
    const char *in_name;
    uint32_t shard, nshards;
    int64_t since;

    pthread_mutex_t mu;
    pthread_cond_t work_cv, done_cv;
    chunk *ring;
    size_t nring;
    uint64_t seq_head, seq_take, seq_tail;  /* in flight: [head, tail) */
    int stop;
    int fatal;                              /* status that stops the run */
    char fatal_msg[512];
} engine;

static void set_fatal(engine *e, int st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the first fatal error; caller holds no lock. */
static void set_fatal(engine *e, int st, const char *fmt, ...)
{
    pthread_mutex_lock(&e->mu);
    if (!e->fatal) {
        e->fatal = st;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->fatal_msg, sizeof e->fatal_msg, fmt, ap);
        va_end(ap);
    }
    pthread_cond_broadcast(&e->work_cv);
    pthread_cond_broadcast(&e->done_cv);
    pthread_mutex_unlock(&e->mu);
}

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)s[i])) return 0;
    return 1;
}

/* Appends `{"line":N,"learner":` (once per plan: no printf). */
static void put_line_prefix(kg_buf *out, uint64_t line)
{
    char t[48] = "{\"line\":";
    char d[24];
    size_t k = sizeof d, n = 8;
    do { d[--k] = (char)('0' + line % 10); line /= 10; } while (line);
    memcpy(t + n, d + k, sizeof d - k);
    n += sizeof d - k;
    memcpy(t + n, ",\"learner\":", 11);
    kg_buf_put(out, t, n + 11);
}

/* Appends an error record; returns out->oom. */
static int put_error(kg_buf *out, uint64_t line, const char *learner,
                     int status, const char *msg)
{
    kg_buf_printf(out, "{\"line\":%" PRIu64 ",\"learner\":", line);
    if (learner) kg_buf_json(out, learner);
    else kg_buf_puts(out, "null");
    kg_buf_puts(out, ",\"error\":");
    kg_buf_json(out, msg);
    kg_buf_printf(out, ",\"status\":%d}\n", status);
    return out->oom;
}

/* Handles one input line; appends its record (if any) to t->out.
 * Returns 0, or a fatal status. */
static int do_line(engine *e, void *scratch, const char *text, size_t len,
                   uint64_t line, task *t)
{
    char msg[600], cerr[512];
    if (is_blank(text, len)) { t->blank++; return 0; }

    json_error_t je;
    json_t *obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    json_t *jl = obj && json_is_object(obj) ? json_object_get(obj, "learner") : NULL;
    const char *learner = jl && json_is_string(jl) && json_string_length(jl) > 0
                          && strlen(json_string_value(jl)) == json_string_length(jl)
                          ? json_string_value(jl) : NULL;
    uint32_t shard = learner
        ? kgn_batch_shard_of(learner, json_string_length(jl), e->nshards)
        : kgn_batch_shard_of(text, len, e->nshards);
    if (shard != e->shard) { t->other++; json_decref(obj); return 0; }
    t->learners++;

    int rc = 0;
    if (!obj) {
        snprintf(msg, sizeof msg, "%s:%" PRIu64 ":%d: invalid JSON: %s",
                 e->in_name, line, je.column, je.text);
        rc = put_error(&t->out, line, NULL, STATUS_INPUT, msg);
        t->errors++;
        return rc ? STATUS_NOMEM : 0;
    }
    if (!learner) {
        snprintf(msg, sizeof msg, "%s:%" PRIu64 ": %s", e->in_name, line,
                 !json_is_object(obj) ? "expected a JSON object (one learner per line)"
                 : !jl ? "missing \"learner\" (the learner id, a non-empty string)"
                       : "\"learner\" must be a non-empty string without NUL");
        json_decref(obj);
        t->errors++;
        return put_error(&t->out, line, NULL, STATUS_INPUT, msg) ? STATUS_NOMEM : 0;
    }

    kgn_batch_req req = { line, learner, obj, e->in_name };
    int st = 1;
    cerr[0] = 0;
    if (e->since >= 0 && e->ops->changed) {
        st = e->ops->changed(e->ops->ctx, scratch, &req, e->since, cerr, sizeof cerr);
        if (st == 0) { t->unchanged++; goto done; }
    }
    if (st == 1) {
        size_t mark = t->out.len;
        put_line_prefix(&t->out, line);
        kg_buf_json(&t->out, learner);
        if (t->out.oom) { rc = STATUS_NOMEM; goto done; }
        size_t body = t->out.len;
        st = e->ops->plan(e->ops->ctx, scratch, &req, &t->out, cerr, sizeof cerr);
        if (t->out.oom) { rc = STATUS_NOMEM; goto done; }
        if (st == 0) {
            /* Splice the plan's object into the record in place: its "{"
             * becomes the "," after the learner, its "}" closes the record. */
            char *o = t->out.data;
            size_t end = t->out.len;
            while (end > body && (o[end - 1] == '\n' || o[end - 1] == ' ' || o[end - 1] == '\r'))
                end--;
            if (end - body >= 3 && o[body] == '{' && o[body + 1] != '}' && o[end - 1] == '}') {
                o[body] = ',';
                t->out.len = end;
                kg_buf_put(&t->out, "\n", 1);
                if (t->out.oom) rc = STATUS_NOMEM;
                t->plans++;
                goto done;
            }
            st = STATUS_INTERNAL;
            snprintf(cerr, sizeof cerr, "the planner did not write a JSON object");
        }
        t->out.len = mark;
    }
    if (st == STATUS_NOMEM || st == STATUS_INTERNAL || st < 0) {
        set_fatal(e, st < 0 ? STATUS_INTERNAL : st, "%s:%" PRIu64 ": learner %s: %s",
                  e->in_name, line, learner, cerr);
        rc = st < 0 ? STATUS_INTERNAL : st;
        goto done;
    }
    snprintf(msg, sizeof msg, "%s:%" PRIu64 ": learner %s: %s", e->in_name, line, learner,
             cerr[0] ? cerr : "planning failed");
    t->errors++;
    if (put_error(&t->out, line, learner, st, msg)) rc = STATUS_NOMEM;
done:
    json_decref(obj);
    return rc;
}

static void run_task(engine *e, void *scratch, chunk *c, task *t)
{
    t->out.len = 0;
    t->out.oom = 0;
    t->learners = t->plans = t->errors = t->unchanged = t->other = t->blank = 0;
    for (size_t i = t->a; i < t->b; i++) {
        size_t len = c->off[i + 1] - c->off[i] - 1;
        int rc = do_line(e, scratch, c->text + c->off[i], len, c->first_line + i, t);
        if (rc) {
            if (rc == STATUS_NOMEM) set_fatal(e, rc, "out of memory");
            return;
        }
    }
}

static void *worker(void *arg)
{
    engine *e = arg;
    void *scratch = NULL;
    if (e->ops->thread_init) {
        scratch = e->ops->thread_init(e->ops->ctx);
        if (!scratch) {
            set_fatal(e, STATUS_NOMEM, "cannot create the planner's per-thread scratch");
            return NULL;
        }
    }
    pthread_mutex_lock(&e->mu);
    for (;;) {
        if (e->fatal) break;
        if (e->seq_take < e->seq_tail) {
            chunk *c = &e->ring[e->seq_take % e->nring];
            size_t ti = c->next_task++;
            if (c->next_task >= c->ntasks) e->seq_take++;
            pthread_mutex_unlock(&e->mu);
            run_task(e, scratch, c, &c->tasks[ti]);
            pthread_mutex_lock(&e->mu);
            if (++c->done_tasks == c->ntasks) pthread_cond_broadcast(&e->done_cv);
            continue;
        }
        if (e->stop) break;
        pthread_cond_wait(&e->work_cv, &e->mu);
    }
    pthread_mutex_unlock(&e->mu);
    if (e->ops->thread_free) e->ops->thread_free(e->ops->ctx, scratch);
    return NULL;
}

/* Reads up to want lines into c. Returns 0 (c->n == 0 at end of input) or an
 * I/O / memory status. *line_buf / *line_cap are getline's buffer. */
static int fill_chunk(chunk *c, FILE *in, size_t want, uint64_t first_line,
                      char **lb, size_t *lcap, char *err, size_t errlen,
                      const char *in_name)
{
    c->first_line = first_line;
    c->n = c->tlen = c->ntasks = c->next_task = c->done_tasks = 0;
    c->bytes = 0;
    if (kg_grow(&c->off, &c->offcap, want + 1, sizeof *c->off)) return STATUS_NOMEM;
    c->off[0] = 0;
    while (c->n < want) {
        ssize_t r = getline(lb, lcap, in);
        if (r < 0) {
            if (ferror(in)) {
                snprintf(err, errlen, "%s: read error: %s", in_name, strerror(errno));
                return STATUS_IO;
            }
            break;
        }
        c->bytes += (uint64_t)r;
        size_t n = (size_t)r;
        while (n > 0 && ((*lb)[n - 1] == '\n' || (*lb)[n - 1] == '\r')) n--;
        if (kg_grow(&c->text, &c->tcap, c->tlen + n + 1, 1)) return STATUS_NOMEM;
        memcpy(c->text + c->tlen, *lb, n);
        c->tlen += n;
        c->text[c->tlen++] = 0;
        c->off[++c->n] = c->tlen;
    }
    size_t nt = (c->n + TASK_LINES - 1) / TASK_LINES;
    if (nt > c->taskcap) {
        task *t = kg_realloc(c->tasks, nt * sizeof *t);
        if (!t) return STATUS_NOMEM;
        memset(t + c->taskcap, 0, (nt - c->taskcap) * sizeof *t);
        c->tasks = t;
        c->taskcap = nt;
    }
    for (size_t i = 0; i < nt; i++) {
        c->tasks[i].a = i * TASK_LINES;
        c->tasks[i].b = (i + 1) * TASK_LINES < c->n ? (i + 1) * TASK_LINES : c->n;
    }
    c->ntasks = nt;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Output and state */

typedef struct sink {
    const char *path;       /* file or directory; NULL: stream */
    int is_dir;
    FILE *stream;
    int fd;                 /* output file (file mode): work, or path itself */
    char *work;             /* file mode, path a regular file or new: PATH.part,
                               renamed over path when the run completes */
    char *state_path;
    uint64_t bytes;         /* committed output bytes (file mode) */
    uint64_t parts;         /* part files written (dir mode) */
    int resumed;            /* continues the committed output of a saved state */
    int state_written;      /* this run committed a chunk (and wrote the state) */
    int made_dir;           /* dir mode: this run created the directory */
    int in_place;           /* file mode, not a regular file (/dev/null, a FIFO):
                               written as it is, with no sync and no state */
} sink;


typedef struct saved_state {
    int valid, complete;
    uint64_t lines, bytes, parts;
    kgn_batch_stats st;
    char fingerprint[1024];
    uint64_t chunk;
    uint32_t shard, nshards;
    int64_t since;
} saved_state;

static int write_state(sink *s, const kgn_batch_opts *o, uint64_t chunk_lines,
                       const kgn_batch_stats *st, int complete, char *err, size_t errlen)
{
    json_t *j = json_pack("{s:i, s:s, s:I, s:I, s:I, s:I, s:I, s:b,"
                          " s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
        "kgpath_batch_state", 1,
        "fingerprint", o->fingerprint ? o->fingerprint : "",
        "chunk_lines", (json_int_t)chunk_lines,
        "shard", (json_int_t)o->shard, "nshards", (json_int_t)o->nshards,
        "since", (json_int_t)o->since,
        "lines_done", (json_int_t)st->lines,
        "complete", complete,
        "bytes", (json_int_t)s->bytes, "parts", (json_int_t)s->parts,
        "learners", (json_int_t)st->learners, "plans", (json_int_t)st->plans,
        "errors", (json_int_t)st->errors, "unchanged", (json_int_t)st->unchanged,
        "other_shard", (json_int_t)st->other_shard);
    if (!j) { snprintf(err, errlen, "out of memory"); return STATUS_NOMEM; }
    json_object_set_new(j, "blank", json_integer((json_int_t)st->blank));
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!text) { snprintf(err, errlen, "out of memory"); return STATUS_NOMEM; }
    size_t len = strlen(text);
    text[len] = '\n';          /* json_dumps's NUL becomes the line's end */
    int e = kg_write_file_atomic(s->state_path, text, len + 1, 0644);
    free(text);
    if (e) {
        snprintf(err, errlen, "%s: cannot write the batch state: %s", s->state_path, strerror(e));
        return STATUS_IO;
    }
    s->state_written = 1;
    return 0;
}

static void read_state(const char *path, saved_state *ss)
{
    memset(ss, 0, sizeof *ss);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j) return;
    json_int_t v, lines, bytes, parts, chunk, shard, nsh, since,
        learners, plans, errors, unch, other, blank = 0;
    const char *fp;
    int complete;
    if (json_unpack(j, "{s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:b, s:I, s:I,"
                       " s:I, s:I, s:I, s:I, s:I, s?I}",
                    "kgpath_batch_state", &v, "fingerprint", &fp, "chunk_lines", &chunk,
                    "shard", &shard, "nshards", &nsh, "since", &since,
                    "lines_done", &lines, "complete", &complete, "bytes", &bytes,
                    "parts", &parts, "learners", &learners, "plans", &plans,
                    "errors", &errors, "unchanged", &unch, "other_shard", &other,
                    "blank", &blank) == 0 && v == 1) {
        ss->valid = 1;
        ss->complete = complete;
        ss->lines = (uint64_t)lines;
        ss->bytes = (uint64_t)bytes;
        ss->parts = (uint64_t)parts;
        ss->chunk = (uint64_t)chunk;
        ss->shard = (uint32_t)shard;
        ss->nshards = (uint32_t)nsh;
        ss->since = since;
        snprintf(ss->fingerprint, sizeof ss->fingerprint, "%s", fp);
        ss->st.lines = (uint64_t)lines;
        ss->st.learners = (uint64_t)learners;
        ss->st.plans = (uint64_t)plans;
        ss->st.errors = (uint64_t)errors;
        ss->st.unchanged = (uint64_t)unch;
        ss->st.other_shard = (uint64_t)other;
        ss->st.blank = (uint64_t)blank;
    }
    json_decref(j);
}

static char *part_path(const char *dir, uint64_t index, const char *suffix)
{
    size_t n = strlen(dir) + 40;
    char *p = kg_malloc(n);
    if (p) snprintf(p, n, "%s/part-%06" PRIu64 ".jsonl%s", dir, index, suffix);
    return p;
}

/* Removes part files with index >= from (a fresh start or a resume after a
 * crash between a part's rename and the state update). */
static int remove_parts(const char *dir, uint64_t from, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return STATUS_IO;
    }
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d))) {
        unsigned long long idx;
        char rest[16];
        if (sscanf(de->d_name, "part-%llu.jsonl%15s", &idx, rest) < 1) continue;
        if (strncmp(de->d_name, "part-", 5) != 0) continue;
        if (idx < from) continue;
        size_t n = strlen(dir) + strlen(de->d_name) + 2;
        char *p = kg_malloc(n);
        if (!p) { rc = STATUS_NOMEM; break; }
        snprintf(p, n, "%s/%s", dir, de->d_name);
        if (unlink(p) && errno != ENOENT) {
            snprintf(err, errlen, "%s: %s", p, strerror(errno));
            rc = STATUS_IO;
        }
        kg_free(p);
        if (rc) break;
    }
    closedir(d);
    return rc;
}

/* Writes one finished chunk and commits it. */
static int commit_chunk(sink *s, const chunk *c, uint64_t chunk_index,
                        char *err, size_t errlen)
{
    if (!s->path) {
        for (size_t i = 0; i < c->ntasks; i++)
            if (c->tasks[i].out.len
                && fwrite(c->tasks[i].out.data, 1, c->tasks[i].out.len, s->stream)
                   != c->tasks[i].out.len) goto ioerr;
        if (fflush(s->stream)) goto ioerr;
        return 0;
    }
    if (!s->is_dir) {
        for (size_t i = 0; i < c->ntasks; i++) {
            if (kg_write_all(s->fd, c->tasks[i].out.data, c->tasks[i].out.len)) goto ioerr;
            s->bytes += c->tasks[i].out.len;
        }
        if (!s->in_place && fdatasync(s->fd)) goto ioerr;   /* EINVAL there */
        return 0;
    }
    size_t total = 0;
    for (size_t i = 0; i < c->ntasks; i++) total += c->tasks[i].out.len;
    if (total == 0) return 0;
    char *fin = part_path(s->path, chunk_index, "");
    if (!fin) { snprintf(err, errlen, "out of memory"); return STATUS_NOMEM; }
    kg_atomic_file f;
    int e = kg_atomic_begin(&f, fin, 0644);
    for (size_t i = 0; !e && i < c->ntasks; i++)
        e = kg_atomic_write(&f, c->tasks[i].out.data, c->tasks[i].out.len);
    if (e) kg_atomic_abort(&f);
    else e = kg_atomic_commit(&f);
    int rc = 0;
    if (e) {
        snprintf(err, errlen, "%s: %s", fin, strerror(e));
        rc = STATUS_IO;
    } else {
        s->parts++;
        s->bytes += total;
    }
    kg_free(fin);
    return rc;
ioerr:
    snprintf(err, errlen, "%s: write error: %s", s->work ? s->work : s->path ? s->path : "output",
             strerror(errno));
    return STATUS_IO;
}

/* Opens the output, applying a matching saved state when resuming. Fills
 * *skip with the input lines to skip and *base with the saved counters. */
static int open_sink(sink *s, const char *out_path, FILE *out, const kgn_batch_opts *o,
                     uint64_t chunk_lines, uint64_t *skip, kgn_batch_stats *base,
                     int *already_complete, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    *skip = 0;
    *already_complete = 0;
    if (!out_path) {
        s->stream = out;
        if (o->resume) {
            snprintf(err, errlen, "--resume needs an output file or directory (not a stream)");
            return 1;
        }
        return 0;
    }
    s->path = out_path;
    s->is_dir = o->out_is_dir;
    size_t n = strlen(out_path) + 16;
    s->state_path = kg_malloc(n);
    if (!s->state_path) return STATUS_NOMEM;
    snprintf(s->state_path, n, s->is_dir ? "%s/batch.state" : "%s.state", out_path);
    if (s->is_dir) {
        if (mkdir(out_path, 0755) == 0) s->made_dir = 1;
        else if (errno != EEXIST) {
            snprintf(err, errlen, "%s: cannot create the output directory: %s", out_path,
                     strerror(errno));
            return STATUS_IO;
        }
    }

    saved_state ss = {0};
    if (o->resume) {
        read_state(s->state_path, &ss);
        if (ss.valid) {
            const char *fp = o->fingerprint ? o->fingerprint : "";
            if (strcmp(fp, ss.fingerprint) != 0 || ss.chunk != chunk_lines
                || ss.shard != o->shard || ss.nshards != o->nshards || ss.since != o->since) {
                snprintf(err, errlen, "%s: the interrupted run used other options "
                         "(shard, --since, chunk size or plan options); run without "
                         "--resume to start over", s->state_path);
                return 1;
            }
            *skip = ss.lines;
            *base = ss.st;
            s->bytes = ss.bytes;
            s->parts = ss.parts;
            *already_complete = ss.complete;
            s->resumed = 1;
        }
    }
    /* A fresh start: a state of an earlier run must not describe this one's
     * output if this run stops before its first commit. */
    if (!s->resumed && unlink(s->state_path) && errno != ENOENT) {
        snprintf(err, errlen, "%s: %s", s->state_path, strerror(errno));
        return STATUS_IO;
    }
    if (s->is_dir) {
        /* Parts are numbered by chunk; drop any beyond the committed lines. */
        return remove_parts(out_path, chunk_lines ? *skip / chunk_lines : 0, err, errlen);
    }
    /* A regular (or new) output file is written as PATH.part and renamed
     * over PATH when the run completes: PATH is the previous output or the
     * new one, whole. Anything else (a FIFO, /dev/null) is written as it is. */
    struct stat ob;
    const char *target = out_path;
    if (stat(out_path, &ob) != 0 || S_ISREG(ob.st_mode)) {
        size_t wn = strlen(out_path) + 6;
        if (!(s->work = kg_malloc(wn))) return STATUS_NOMEM;
        snprintf(s->work, wn, "%s.part", out_path);
        target = s->work;
    }
    if (*already_complete) {
        /* killed between the final state and the rename: finish it */
        if (s->work && rename(s->work, out_path) && errno != ENOENT) {
            snprintf(err, errlen, "%s: %s", out_path, strerror(errno));
            return STATUS_IO;
        }
        return 0;
    }
    s->fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (s->fd < 0) {
        snprintf(err, errlen, "%s: cannot open for writing: %s", target, strerror(errno));
        return STATUS_IO;
    }
    struct stat sb;
    if (fstat(s->fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
        if ((uint64_t)sb.st_size < s->bytes) {
            snprintf(err, errlen, "%s: shorter than its batch state says (%" PRIu64
                     " < %" PRIu64 " bytes); run without --resume to start over",
                     target, (uint64_t)sb.st_size, s->bytes);
            return STATUS_IO;
        }
        if (ftruncate(s->fd, (off_t)s->bytes)) {
            snprintf(err, errlen, "%s: %s", target, strerror(errno));
            return STATUS_IO;
        }
    } else if (o->resume) {
        snprintf(err, errlen, "%s: --resume needs a regular output file", out_path);
        return 1;
    } else {
        s->in_place = 1;
    }
    if (lseek(s->fd, 0, SEEK_END) < 0 && errno != ESPIPE) {
        snprintf(err, errlen, "%s: %s", out_path, strerror(errno));
        return STATUS_IO;
    }
    return 0;
}

/* Puts the completed output in place: the work file (synced with each
 * chunk; synced here too for a run that wrote nothing) is renamed over the
 * output, after the final state, so a kill in between is finished by
 * --resume. */
static int finish_sink(sink *s, char *err, size_t errlen)
{
    if (!s->work) return 0;
    if (fdatasync(s->fd) || close(s->fd)) {
        s->fd = -1;
        snprintf(err, errlen, "%s: write error: %s", s->work, strerror(errno));
        return STATUS_IO;
    }
    s->fd = -1;
    if (rename(s->work, s->path)) {
        snprintf(err, errlen, "%s: %s", s->path, strerror(errno));
        return STATUS_IO;
    }
    char *dir = kg_malloc(strlen(s->path) + 2), *slash;
    if (dir) {
        strcpy(dir, s->path);
        if ((slash = strrchr(dir, '/'))) slash[slash == dir] = 0;
        else strcpy(dir, ".");
        (void)kg_sync_dir(dir);     /* best effort: the output is in place */
        kg_free(dir);
    }
    return 0;
}

/* A run that failed before its first commit leaves nothing behind: no
 * work file, no state, no directory it created (the output stays as it
 * was). After a commit, the work file and the state stay for --resume. */
static void close_sink(sink *s, int failed)
{
    if (s->fd >= 0) close(s->fd);
    if (failed && !s->resumed && !s->state_written && s->path) {
        if (s->work) unlink(s->work);
        if (s->made_dir) { unlink(s->state_path); rmdir(s->path); }
    }
    kg_free(s->work);
    kg_free(s->state_path);
}

static int skip_lines(FILE *in, uint64_t n, uint64_t *bytes, char **lb, size_t *lcap)
{
    for (uint64_t i = 0; i < n; i++) {
        ssize_t r = getline(lb, lcap, in);
        if (r < 0) return -1;
        *bytes += (uint64_t)r;
    }
    return 0;
}

static unsigned default_threads(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return (unsigned)CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void add_task_counts(kgn_batch_stats *st, const chunk *c)
{
    st->lines += c->n;
    for (size_t i = 0; i < c->ntasks; i++) {
        const task *t = &c->tasks[i];
        st->learners += t->learners;
        st->plans += t->plans;
        st->errors += t->errors;
        st->unchanged += t->unchanged;
        st->other_shard += t->other;
        st->blank += t->blank;
    }
}

int kgn_batch_run(FILE *in, const char *in_name, uint64_t in_size,
                  const char *out_path, FILE *out,
                  const kgn_batch_ops *ops, const kgn_batch_opts *opts,
                  kgn_batch_stats *st, char *err, size_t errlen)
{
    double t0 = now_s();
    memset(st, 0, sizeof *st);
    if (errlen) err[0] = 0;
    if (!in || !ops || !ops->plan || !opts || (!out_path && !out)) {
        snprintf(err, errlen, "kgn_batch_run: missing argument");
        return 1;
    }
    if (opts->nshards > 1 && opts->shard >= opts->nshards) {
        snprintf(err, errlen, "shard %u is not below the shard count %u",
                 opts->shard, opts->nshards);
        return 1;
    }
    uint64_t chunk_lines = opts->chunk_lines ? opts->chunk_lines : DEFAULT_CHUNK;
    unsigned threads = opts->threads ? opts->threads : default_threads();

    sink s;
    uint64_t skip;
    int complete;
    int rc = open_sink(&s, out_path, out, opts, chunk_lines, &skip, st, &complete,
                       err, errlen);
    if (rc) { close_sink(&s, 1); return rc; }
    st->resumed_lines = skip;
    st->resumed_plans = st->plans;

    char *lb = NULL;
    size_t lcap = 0;
    uint64_t bytes_read = 0;
    if (skip && skip_lines(in, skip, &bytes_read, &lb, &lcap)) {
        snprintf(err, errlen, "%s: has fewer lines (%s) than the interrupted run "
                 "already did (%" PRIu64 "); is it the same input?", in_name,
                 ferror(in) ? strerror(errno) : "end of input", skip);
        free(lb);
        close_sink(&s, 1);
        return STATUS_INPUT;
    }

    engine e;
    memset(&e, 0, sizeof e);
    e.ops = ops;
    e.opts = opts;
    e.in_name = in_name ? in_name : "-";
    e.shard = opts->nshards > 1 ? opts->shard : 0;
    e.nshards = opts->nshards > 1 ? opts->nshards : 1;
    e.since = opts->since;
    e.nring = threads + 2;
    pthread_mutex_init(&e.mu, NULL);
    pthread_cond_init(&e.work_cv, NULL);
    pthread_cond_init(&e.done_cv, NULL);
    json_object_seed(0);    /* before threads: jansson seeds its hash once */

    pthread_t *tids = NULL;
    unsigned started = 0;
    e.ring = kg_calloc(e.nring, sizeof *e.ring);
    tids = kg_calloc(threads, sizeof *tids);
    if (!e.ring || !tids) { rc = STATUS_NOMEM; snprintf(err, errlen, "out of memory"); goto done; }
    if (complete) goto done;     /* open_sink finished what a kill interrupted */
    for (int prc; started < threads; started++)
        if ((prc = pthread_create(&tids[started], NULL, worker, &e))) {
            /* pthread_create returns its error (errno is not set): EAGAIN
             * is no memory for the stack (prlimit --as) or the thread limit */
            rc = prc == EAGAIN || prc == ENOMEM ? STATUS_NOMEM : STATUS_INTERNAL;
            snprintf(err, errlen, "cannot start worker threads: %s%s", strerror(prc),
                     rc == STATUS_NOMEM ? " (out of memory or at the thread limit; try fewer --threads)" : "");
            goto done;
        }

    uint64_t next_line = skip + 1;
    int eof = 0, fatal = 0;
    for (;;) {
        while (!eof && e.seq_tail - e.seq_head < e.nring) {
            chunk *c = &e.ring[e.seq_tail % e.nring];
            rc = fill_chunk(c, in, chunk_lines, next_line, &lb, &lcap, err, errlen, e.in_name);
            if (rc) {
                if (rc == STATUS_NOMEM) snprintf(err, errlen, "out of memory");
                goto done;
            }
            if (c->n == 0) { eof = 1; break; }
            if (c->n < chunk_lines) eof = 1;
            next_line += c->n;
            pthread_mutex_lock(&e.mu);
            e.seq_tail++;
            pthread_cond_broadcast(&e.work_cv);
            pthread_mutex_unlock(&e.mu);
        }
        if (e.seq_head == e.seq_tail) break;
        chunk *c = &e.ring[e.seq_head % e.nring];
        pthread_mutex_lock(&e.mu);
        while (c->done_tasks < c->ntasks && !e.fatal) pthread_cond_wait(&e.done_cv, &e.mu);
        fatal = e.fatal;
        pthread_mutex_unlock(&e.mu);
        if (fatal) break;
        rc = commit_chunk(&s, c, (c->first_line - 1) / chunk_lines, err, errlen);
        if (rc) goto done;
        add_task_counts(st, c);
        bytes_read += c->bytes;
        if (s.path && !s.in_place) {
            rc = write_state(&s, opts, chunk_lines, st, 0, err, errlen);
            if (rc) goto done;
        }
        pthread_mutex_lock(&e.mu);
        e.seq_head++;
        pthread_mutex_unlock(&e.mu);
        if (opts->progress) {
            st->seconds = now_s() - t0;
            opts->progress(opts->progress_ud, st, bytes_read, in_size, 0);
        }
    }
    if (fatal) {
        rc = fatal;
        snprintf(err, errlen, "%s", e.fatal_msg);   /* written once, before fatal was set */
        goto done;
    }
    if (s.path && !s.in_place) rc = write_state(&s, opts, chunk_lines, st, 1, err, errlen);
    if (!rc) rc = finish_sink(&s, err, errlen);
done:
    pthread_mutex_lock(&e.mu);
    e.stop = 1;
    if (rc && !e.fatal) e.fatal = rc;
    pthread_cond_broadcast(&e.work_cv);
    pthread_mutex_unlock(&e.mu);
    for (unsigned i = 0; i < started; i++) pthread_join(tids[i], NULL);
    for (size_t i = 0; e.ring && i < e.nring; i++) {
        chunk *c = &e.ring[i];
        for (size_t k = 0; k < c->taskcap; k++) kg_buf_free(&c->tasks[k].out);
        kg_free(c->tasks);
        kg_free(c->text);
        kg_free(c->off);
    }
    kg_free(e.ring);
    kg_free(tids);
    free(lb);
    pthread_mutex_destroy(&e.mu);
    pthread_cond_destroy(&e.work_cv);
    pthread_cond_destroy(&e.done_cv);
    close_sink(&s, rc != 0);
    st->seconds = now_s() - t0;
    if (!rc && opts->progress) opts->progress(opts->progress_ud, st, bytes_read, in_size, 1);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Merge */

typedef struct merge_in {
    FILE *f;
    const char *path;
    char *buf;
    size_t cap, len;
    uint64_t line, lineno;  /* record's "line", file line number */
    int live;
} merge_in;

/* Parses the record prefix {"line":N,"learner":…, and whether it is an error. */
static int parse_record(const char *s, uint64_t *line, int *is_error)
{
    if (strncmp(s, "{\"line\":", 8) != 0) return -1;
    char *e;
    errno = 0;
    unsigned long long v = strtoull(s + 8, &e, 10);
    if (errno || e == s + 8 || strncmp(e, ",\"learner\":", 11) != 0) return -1;
    const char *p = e + 11;
    if (strncmp(p, "null", 4) == 0) p += 4;
    else if (*p == '"') {
        for (p++; *p && *p != '"'; p++)
            if (*p == '\\' && p[1]) p++;
        if (*p != '"') return -1;
        p++;
    } else return -1;
    if (*p != ',') return -1;
    *is_error = strncmp(p + 1, "\"error\":", 8) == 0;
    *line = v;
    return 0;
}

static int merge_next(merge_in *m, uint64_t *plans, uint64_t *errors, char *err, size_t errlen)
{
    ssize_t r = getline(&m->buf, &m->cap, m->f);
    if (r < 0) {
        m->live = 0;
        if (ferror(m->f)) {
            snprintf(err, errlen, "%s: read error: %s", m->path, strerror(errno));
            return STATUS_IO;
        }
        return 0;
    }
    m->lineno++;
    m->len = (size_t)r;
    if (r == 0 || m->buf[r - 1] != '\n') {
        snprintf(err, errlen, "%s:%" PRIu64 ": torn last line (no newline)", m->path, m->lineno);
        return STATUS_INPUT;
    }
    uint64_t line;
    int is_err;
    if (parse_record(m->buf, &line, &is_err)) {
        snprintf(err, errlen, "%s:%" PRIu64 ": not a kgpath batch record", m->path, m->lineno);
        return STATUS_INPUT;
    }
    if (m->live && line <= m->line) {
        snprintf(err, errlen, "%s:%" PRIu64 ": input line %" PRIu64 " is out of order",
                 m->path, m->lineno, line);
        return STATUS_INPUT;
    }
    m->line = line;
    m->live = 1;
    if (is_err) (*errors)++;
    else (*plans)++;
    return 0;
}

int kgn_batch_merge(const char *const *paths, size_t n, FILE *out,
                    uint64_t *plans, uint64_t *errors, char *err, size_t errlen)
{
    *plans = *errors = 0;
    merge_in *m = kg_calloc(n ? n : 1, sizeof *m);
    size_t *heap = kg_calloc(n ? n : 1, sizeof *heap);
    int rc = 0;
    if (!m || !heap) { rc = STATUS_NOMEM; snprintf(err, errlen, "out of memory"); goto out; }
    size_t hn = 0;
    for (size_t i = 0; i < n; i++) {
        m[i].path = paths[i];
        m[i].f = fopen(paths[i], "rb");
        if (!m[i].f) {
            snprintf(err, errlen, "%s: %s", paths[i], strerror(errno));
            rc = STATUS_IO;
            goto out;
        }
        if ((rc = merge_next(&m[i], plans, errors, err, errlen))) goto out;
        if (!m[i].live) continue;
        /* sift up */
        size_t k = hn++;
        heap[k] = i;
        while (k > 0 && m[heap[(k - 1) / 2]].line > m[heap[k]].line) {
            size_t p = (k - 1) / 2, t = heap[p];
            heap[p] = heap[k]; heap[k] = t; k = p;
        }
    }
    uint64_t last = 0;
    int have_last = 0;
    const char *last_path = NULL;
    while (hn > 0) {
        merge_in *top = &m[heap[0]];
        if (have_last && top->line == last) {
            snprintf(err, errlen, "input line %" PRIu64 " is in both %s and %s: "
                     "the shards overlap", last, last_path, top->path);
            rc = STATUS_INPUT;
            goto out;
        }
        if (fwrite(top->buf, 1, top->len, out) != top->len) {
            snprintf(err, errlen, "write error: %s", strerror(errno));
            rc = STATUS_IO;
            goto out;
        }
        last = top->line;
        have_last = 1;
        last_path = top->path;
        if ((rc = merge_next(top, plans, errors, err, errlen))) goto out;
        if (!top->live) heap[0] = heap[--hn];
        /* sift down */
        size_t k = 0;
        for (;;) {
            size_t l = 2 * k + 1, r = l + 1, s = k;
            if (l < hn && m[heap[l]].line < m[heap[s]].line) s = l;
            if (r < hn && m[heap[r]].line < m[heap[s]].line) s = r;
            if (s == k) break;
            size_t t = heap[s]; heap[s] = heap[k]; heap[k] = t; k = s;
        }
    }
    if (fflush(out)) {
        snprintf(err, errlen, "write error: %s", strerror(errno));
        rc = STATUS_IO;
    }
out:
    for (size_t i = 0; m && i < n; i++) {
        if (m[i].f) fclose(m[i].f);
        free(m[i].buf);
    }
    kg_free(m);
    kg_free(heap);
    return rc;
}
