/* kgpath serve: the daemon (libmicrohttpd thread pool), the life of a
 * request (body, limits, routing, auth, reply, access log, metrics), the
 * shared read view and the single writer, and graceful shutdown.
 * The contract for route files is in src/serve.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "cli.h"
#include "base/file.h"
#include "cli_util.h"
#include "serve.h"
#include "serve_internal.h"

/* ---- the server ---- */

/* Latency histogram bucket bounds (seconds), Prometheus `le` labels. */
static const double lat_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                    0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define NLAT (sizeof lat_bounds / sizeof *lat_bounds)

typedef struct view_box {
    srv_view v;
    double opened;              /* monotonic seconds when built */
    atomic_int refs;
} view_box;

struct kgp_srv {
    struct MHD_Daemon *d;
    kgp_db *db;
    srv_routes *routes;
    srv_options opt;
    FILE *log;                  /* access log, or NULL */
    pthread_mutex_t log_lock;
    /* The view: readers hold `rw` shared for a request's life, the writer
     * exclusively; `view_lock` guards building the view among readers. */
    pthread_rwlock_t rw;
    pthread_mutex_t view_lock;
    view_box *view;             /* NULL: build on next use */
    uint64_t generation;
    uint64_t view_txn;          /* database txn id the view (or our last write) saw */
    double last_check;          /* when view_txn was last compared */
    srv_tokens *tokens;         /* --token-file tokens */
    char ckpt[4096];            /* the checkpoint folder (srv_checkpoint) */
    srv_cache *cache;           /* replies made once per graph version */
    srv_models *models;         /* loaded models (serve_model.c) */
    atomic_int refitting;       /* 1 while a request refits (srv_refit_claim) */
    /* metrics */
    atomic_uint_fast64_t by_code[600];
    atomic_uint_fast64_t lat_bucket[NLAT + 1];
    atomic_uint_fast64_t lat_sum_us;
    atomic_uint_fast64_t requests, errors, rejected_body;
    atomic_int inflight;
    double started;
};

/* Per-request state kept in MHD's *con_cls. */
typedef struct conn_state {
    double t0;
    char *body;
    size_t len, cap;
    int too_big;                /* body over the limit: consumed and dropped */
    int counted;                /* inflight incremented */
} conn_state;

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int srv_noauth(const kgp_srv *s) { return s->opt.noauth; }
kgp_db *srv_db(srv_req *rq) { return rq->srv->db; }
const srv_options *srv_opts(const kgp_srv *s) { return &s->opt; }
const char *srv_checkpoint(const kgp_srv *s) { return s->ckpt; }
srv_cache *srv_cache_of(kgp_srv *s) { return s->cache; }
srv_models *srv_models_of(kgp_srv *s) { return s->models; }

/* ---- request helpers ---- */

const char *srv_query(srv_req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

typedef struct query_iter { const char *name; const char **vals; size_t max, n; } query_iter;

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    query_iter *q = cls;
    if (key && !strcmp(key, q->name)) {
        if (q->n < q->max) q->vals[q->n] = value ? value : "";
        q->n++;
    }
    return MHD_YES;
}

size_t srv_query_all(srv_req *rq, const char *name, const char **vals, size_t max)
{
    query_iter q = {name, vals, max, 0};
    MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, collect_arg, &q);
    return q.n;
}

int srv_query_uint(srv_req *rq, const char *name, unsigned long lo, unsigned long hi,
                   unsigned long def, unsigned long *out)
{
    const char *v = srv_query(rq, name);
    *out = def;
    if (!v || !*v) return 1;
    char *end;
    unsigned long x = strtoul(v, &end, 10);
    if (*end || x < lo || x > hi || v[0] == '-' || v[0] == '+' || v[0] == ' ') {
        srv_error(rq, 400, "bad_request", name, "query parameter '%s' must be an integer in %lu..%lu", name, lo, hi);
        return 0;
    }
    *out = x;
    return 1;
}

const char *srv_header(srv_req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

/* ---- the view and the writer ---- */

static void view_close(view_box *b)
{
    if (!b) return;
    kgp_planner_close(b->v.planner);
    kgp_snap_close(b->v.snap);
    free(b);
}

/* Views are reference-counted: the server holds one reference to the
 * current view, each request using it one more; the last one frees it. */
static void view_unref(view_box *b)
{
    if (b && atomic_fetch_sub(&b->refs, 1) == 1) view_close(b);
}

/* Builds a view of the current committed state. Called with view_lock held
 * and rw held shared (so no writer runs). */
static kgp_status view_open(kgp_srv *s, view_box **out, char *err, size_t errlen)
{
    view_box *b = calloc(1, sizeof *b);
    if (!b) return KGP_ENOMEM;
    b->v.db = s->db;
    atomic_init(&b->refs, 1);
    uint64_t txn = 0;
    kgp_db_txn_id(s->db, &txn);
    kgp_status st = kgp_snap_open(s->db, &b->v.snap);
    if (st) {
        snprintf(err, errlen, "%s", b->v.snap ? kgp_snap_errmsg(b->v.snap) : kgp_db_errmsg(s->db));
        view_close(b);
        return st;
    }
    if ((st = kgp_planner_open(b->v.snap, &b->v.planner))) {
        snprintf(err, errlen, "cannot open the planner: %s", kgp_strerror(st));
        view_close(b);
        return st;
    }
    b->v.generation = ++s->generation;
    b->opened = now_mono();
    s->view_txn = txn;
    s->last_check = b->opened;
    *out = b;
    return KGP_OK;
}

static void read_lock(srv_req *rq)
{
    if (!rq->locked) pthread_rwlock_rdlock(&rq->srv->rw);
    rq->locked = 1;
}

const srv_view *srv_view_get(srv_req *rq)
{
    kgp_srv *s = rq->srv;
    if (rq->view) return &((view_box *)rq->view)->v;
    read_lock(rq);
    pthread_mutex_lock(&s->view_lock);
    /* Another process (the CLI) may have written: compare the database's
     * last transaction with the one the view saw, at most every 100 ms,
     * and build a new view; requests using the old one keep it. */
    double t = now_mono();
    if (s->view && t - s->last_check > 0.1) {
        uint64_t txn = 0;
        s->last_check = t;
        if (!kgp_db_txn_id(s->db, &txn) && txn != s->view_txn) {
            char err[1024];
            view_box *nb = NULL;
            if (view_open(s, &nb, err, sizeof err) == KGP_OK) {
                view_unref(s->view);
                s->view = nb;
            }                           /* else keep serving the old state */
        }
    }
    if (!s->view) {
        char err[1024] = "";
        kgp_status st = view_open(s, &s->view, err, sizeof err);
        if (st) {
            pthread_mutex_unlock(&s->view_lock);
            srv_error(rq, 503, "unavailable", NULL, "cannot read the database: %s",
                      err[0] ? err : kgp_strerror(st));
            return NULL;
        }
    }
    view_box *b = s->view;
    atomic_fetch_add(&b->refs, 1);
    pthread_mutex_unlock(&s->view_lock);
    rq->view = b;
    return &b->v;
}

/* Releases the request's view and read lock. */
static void view_release(srv_req *rq)
{
    if (rq->view) view_unref(rq->view);
    rq->view = NULL;
    if (rq->locked) pthread_rwlock_unlock(&rq->srv->rw);
    rq->locked = 0;
}

void srv_view_drop(srv_req *rq) { view_release(rq); }

void srv_read_hold(srv_req *rq) { read_lock(rq); }

int srv_refit_claim(kgp_srv *s)
{
    int idle = 0;
    return atomic_compare_exchange_strong(&s->refitting, &idle, 1);
}

void srv_refit_release(kgp_srv *s) { atomic_store(&s->refitting, 0); }

kgp_status srv_write(srv_req *rq, int graph_changed, srv_write_fn fn, void *ud)
{
    kgp_srv *s = rq->srv;
    view_release(rq);
    /* Exclusive: no request holds a view now, so the only reference to the
     * current one is the server's. */
    pthread_rwlock_wrlock(&s->rw);
    if (graph_changed) { view_unref(s->view); s->view = NULL; }
    kgp_status st = fn(s->db, ud);
    if (st == KGP_EDB && s->view) {
        /* LMDB cannot grow its map while a snapshot is open: drop the
         * view and try once more (a failed write changed nothing). */
        view_unref(s->view);
        s->view = NULL;
        st = fn(s->db, ud);
    }
    if (s->view) kgp_db_txn_id(s->db, &s->view_txn);   /* our own write: no rebuild */
    pthread_rwlock_unlock(&s->rw);
    return st;
}

/* ---- metrics ---- */

static void metrics_record(kgp_srv *s, int status, double seconds)
{
    if (status >= 100 && status < 600) atomic_fetch_add(&s->by_code[status], 1);
    atomic_fetch_add(&s->requests, 1);
    if (status >= 400) atomic_fetch_add(&s->errors, 1);
    size_t i = 0;
    while (i < NLAT && seconds > lat_bounds[i]) i++;
    atomic_fetch_add(&s->lat_bucket[i], 1);
    atomic_fetch_add(&s->lat_sum_us, (uint_fast64_t)(seconds * 1e6 + 0.5));
}

/* The metrics page is written with stdio into an open_memstream buffer
 * (malloc'ed; the caller frees it with free()). */
char *srv_metrics_text(kgp_srv *s, size_t *len)
{
    char *text = NULL;
    FILE *b = open_memstream(&text, len);
    if (!b) return NULL;
    fprintf(b, "# HELP kgpath_http_requests_total HTTP requests answered, by status code.\n"
               "# TYPE kgpath_http_requests_total counter\n");
    for (int c = 100; c < 600; c++) {
        uint64_t n = atomic_load(&s->by_code[c]);
        if (n) fprintf(b, "kgpath_http_requests_total{code=\"%d\"} %llu\n", c, (unsigned long long)n);
    }
    fprintf(b, "# HELP kgpath_http_errors_total HTTP requests answered with a status of 400 or more.\n"
               "# TYPE kgpath_http_errors_total counter\n"
               "kgpath_http_errors_total %llu\n", (unsigned long long)atomic_load(&s->errors));
    fprintf(b, "# HELP kgpath_http_request_duration_seconds Time from request start to reply.\n"
               "# TYPE kgpath_http_request_duration_seconds histogram\n");
    uint64_t cum = 0;
    for (size_t i = 0; i <= NLAT; i++) {
        cum += atomic_load(&s->lat_bucket[i]);
        if (i < NLAT)
            fprintf(b, "kgpath_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                      lat_bounds[i], (unsigned long long)cum);
        else
            fprintf(b, "kgpath_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                      (unsigned long long)cum);
    }
    fprintf(b, "kgpath_http_request_duration_seconds_sum %.6f\n"
               "kgpath_http_request_duration_seconds_count %llu\n",
           atomic_load(&s->lat_sum_us) / 1e6, (unsigned long long)cum);
    fprintf(b, "# HELP kgpath_http_requests_in_flight Requests being received or handled.\n"
               "# TYPE kgpath_http_requests_in_flight gauge\n"
               "kgpath_http_requests_in_flight %d\n", atomic_load(&s->inflight));
    pthread_mutex_lock(&s->view_lock);
    double age = s->view ? now_mono() - s->view->opened : 0;
    uint64_t gen = s->generation;
    pthread_mutex_unlock(&s->view_lock);
    fprintf(b, "# HELP kgpath_snapshot_age_seconds Age of the read snapshot requests use (0: none open).\n"
               "# TYPE kgpath_snapshot_age_seconds gauge\n"
               "kgpath_snapshot_age_seconds %.3f\n", age);
    fprintf(b, "# HELP kgpath_snapshot_builds_total Snapshots (and planners) built since start.\n"
               "# TYPE kgpath_snapshot_builds_total counter\n"
               "kgpath_snapshot_builds_total %llu\n", (unsigned long long)gen);
    uint64_t hits = 0, misses = 0;
    srv_cache_counts(s->cache, &hits, &misses);
    fprintf(b, "# HELP kgpath_cache_hits_total Replies served from the per-graph-version cache (maps, suggestions).\n"
               "# TYPE kgpath_cache_hits_total counter\n"
               "kgpath_cache_hits_total %llu\n"
               "# HELP kgpath_cache_misses_total Replies the cache had to make (once per graph version and query).\n"
               "# TYPE kgpath_cache_misses_total counter\n"
               "kgpath_cache_misses_total %llu\n", (unsigned long long)hits, (unsigned long long)misses);
    fprintf(b, "# HELP kgpath_uptime_seconds Seconds since the server started.\n"
               "# TYPE kgpath_uptime_seconds gauge\n"
               "kgpath_uptime_seconds %.3f\n", now_mono() - s->started);
    if (ferror(b)) { fclose(b); free(text); return NULL; }
    if (fclose(b)) { free(text); return NULL; }
    return text;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* ---- access log (Combined Log Format) ---- */

static void access_log(kgp_srv *s, struct MHD_Connection *c, const srv_req *rq,
                       const char *version, size_t bytes)
{
    if (!s->log) return;
    char host[INET6_ADDRSTRLEN] = "-";
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, sizeof host);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host, sizeof host);
    }
    char when[64];
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S %z", &tm);
    const char *ref = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Referer");
    const char *ua = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "User-Agent");
    /* The path only: query strings may carry learner ids. Quotes and
     * control bytes in client-given fields are escaped as \xHH. */
    char path[512], refb[256], uab[256];
    const char *src[3] = {rq->path, ref ? ref : "-", ua ? ua : "-"};
    char *dst[3] = {path, refb, uab};
    size_t cap[3] = {sizeof path, sizeof refb, sizeof uab};
    for (int k = 0; k < 3; k++) {
        size_t o = 0;
        for (const unsigned char *p = (const unsigned char *)src[k]; *p && o + 5 < cap[k]; p++) {
            if (*p < 0x20 || *p == '"' || *p == '\\' || *p == 0x7f)
                o += (size_t)snprintf(dst[k] + o, cap[k] - o, "\\x%02x", *p);
            else
                dst[k][o++] = (char)*p;
        }
        dst[k][o] = 0;
    }
    pthread_mutex_lock(&s->log_lock);
    fprintf(s->log, "%s - %s [%s] \"%s %s %s\" %d %zu \"%s\" \"%s\"\n", host,
            rq->token_name ? rq->token_name : "-", when, rq->method, path,
            version ? version : "HTTP/1.1", rq->status, bytes, refb, uab);
    fflush(s->log);
    pthread_mutex_unlock(&s->log_lock);
}

/* ---- one request ---- */

static enum MHD_Result send_reply(kgp_srv *s, struct MHD_Connection *c, srv_req *rq,
                                  conn_state *cs, const char *version, int head)
{
    if (!rq->status) srv_error(rq, 500, "internal", NULL, "the handler gave no reply");
    struct MHD_Response *r;
    if (rq->out_owned == 2)
        r = MHD_create_response_from_buffer_with_free_callback(rq->out_len, rq->out, srv_blob_release);
    else if (rq->out_owned)
        r = MHD_create_response_from_buffer(rq->out_len, rq->out, MHD_RESPMEM_MUST_FREE);
    else
        r = MHD_create_response_from_buffer(rq->out_len, rq->out, MHD_RESPMEM_PERSISTENT);
    if (!r) {
        srv_reply_clear(rq);
        return MHD_NO;
    }
    rq->out_owned = 0;                   /* MHD frees it now */
    if (rq->out_type) MHD_add_response_header(r, "Content-Type", rq->out_type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    for (char *line = rq->headers; *line; ) {
        char *nl = strchr(line, '\n');
        if (!nl) break;
        *nl = 0;
        char *colon = strstr(line, ": ");
        if (colon) { *colon = 0; MHD_add_response_header(r, line, colon + 2); }
        line = nl + 1;
    }
    if (s->opt.cors_origin) {
        const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
        if (origin && (!strcmp(s->opt.cors_origin, "*") || !strcmp(origin, s->opt.cors_origin))) {
            MHD_add_response_header(r, "Access-Control-Allow-Origin", s->opt.cors_origin);
            MHD_add_response_header(r, "Vary", "Origin");
        }
    }
    (void)head;                          /* MHD sends no body for HEAD itself */
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)rq->status, r);
    MHD_destroy_response(r);
    metrics_record(s, rq->status, now_mono() - cs->t0);
    access_log(s, c, rq, version, rq->out_len);
    return ret;
}

/* Decodes base64 (standard alphabet, padding optional) into out (cap
 * bytes, NUL-terminated); -1 when malformed or too long. */
static int b64_decode(const char *in, char *out, size_t cap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (const char *p = in; *p && *p != '='; p++) {
        const char *al = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *q = strchr(al, *p);
        if (!q || !*p) return -1;
        acc = acc << 6 | (uint32_t)(q - al);
        bits += 6;
        if (bits >= 8) {
            if (n + 1 >= cap) return -1;
            out[n++] = (char)((acc >> (bits - 8)) & 0xff);
            bits -= 8;
        }
    }
    out[n] = 0;
    return 0;
}

/* The token's scopes, or a 401 reply. The token comes as a bearer token,
 * or as the password of HTTP Basic auth (what xAPI clients and LMS plugins
 * send to an LRS; the user name is ignored). */
static int authorize(kgp_srv *s, srv_req *rq)
{
    if (s->opt.noauth) { rq->scopes = SRV_ALL_SCOPES; return 1; }
    const char *h = srv_header(rq, "Authorization");
    char basic[512];
    const char *tok = NULL;
    if (h && !strncasecmp(h, "Bearer ", 7)) {
        tok = h + 7;
        while (*tok == ' ') tok++;
    } else if (h && !strncasecmp(h, "Basic ", 6) && !b64_decode(h + 6, basic, sizeof basic)
               && strchr(basic, ':')) {
        tok = strchr(basic, ':') + 1;
    }
    if (!tok) {
        srv_add_header(rq, "WWW-Authenticate", "Bearer realm=\"kgpath\"");
        srv_error(rq, 401, "unauthorized", NULL, "a bearer token is required (Authorization: Bearer TOKEN)");
        return 0;
    }
    unsigned scopes = 0;
    if (srv_token_check(s, rq, tok, &scopes) != KGP_OK) {
        srv_add_header(rq, "WWW-Authenticate", "Bearer realm=\"kgpath\", error=\"invalid_token\"");
        srv_error(rq, 401, "unauthorized", NULL, "the token is not valid");
        return 0;
    }
    rq->scopes = scopes;
    return 1;
}

static const char *scope_name(unsigned scope)
{
    switch (scope) {
    case SRV_READ: return "read";
    case SRV_PLAN: return "plan";
    case SRV_LEARNER: return "learner";
    case SRV_WRITE: return "write";
    default: return "admin";
    }
}

static void handle(kgp_srv *s, srv_req *rq)
{
    const char *tail = "";
    unsigned scope = 0;
    int status = 0;
    char allow[128] = "";
    srv_handler fn = srv_match(s->routes, rq->method, rq->path, &tail, &scope, &status,
                               allow, sizeof allow);
    if (!fn) {
        if (status == 405) {
            srv_add_header(rq, "Allow", allow);
            srv_error(rq, 405, "method_not_allowed", NULL, "%s is not allowed on %s (allowed: %s)",
                      rq->method, rq->path, allow);
        } else {
            srv_error(rq, 404, "not_found", NULL, "no such resource: %s", rq->path);
        }
        return;
    }
    rq->tail = tail;
    read_lock(rq);                   /* tokens are read from the database */
    if (scope != SRV_PUBLIC) {
        if (!authorize(s, rq)) return;
        if (!(rq->scopes & (scope | SRV_ADMIN))) {
            srv_error(rq, 403, "forbidden", NULL, "the token lacks the '%s' scope", scope_name(scope));
            return;
        }
    } else if (srv_header(rq, "Authorization")) {
        authorize(s, rq);                /* only to name the caller in the log */
        srv_reply_clear(rq);
    }
    fn(rq);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    kgp_srv *s = cls;
    conn_state *cs = *con_cls;
    if (!cs) {
        cs = calloc(1, sizeof *cs);
        if (!cs) return MHD_NO;
        cs->t0 = now_mono();
        cs->counted = 1;
        atomic_fetch_add(&s->inflight, 1);
        *con_cls = cs;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > s->opt.max_body) {
            /* Refused before the body is read: MHD skips 100 Continue. */
            srv_req rq = {.srv = s, .conn = c, .method = method, .path = url, .body = ""};
            srv_error(&rq, 413, "too_large", NULL, "the body is larger than %zu bytes", s->opt.max_body);
            atomic_fetch_add(&s->rejected_body, 1);
            return send_reply(s, c, &rq, cs, version, 0);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (cs->too_big || cs->len + n > s->opt.max_body) {
            cs->too_big = 1;
            free(cs->body);
            cs->body = NULL;
            cs->len = cs->cap = 0;
            return MHD_YES;
        }
        if (cs->len + n + 1 > cs->cap) {
            size_t cap = cs->cap ? cs->cap : 4096;
            while (cap < cs->len + n + 1) cap *= 2;
            char *p = realloc(cs->body, cap);
            if (!p) return MHD_NO;
            cs->body = p;
            cs->cap = cap;
        }
        memcpy(cs->body + cs->len, upload_data, n);
        cs->len += n;
        return MHD_YES;
    }
    int head = !strcmp(method, "HEAD");
    srv_req rq = {.srv = s, .conn = c, .method = head ? "GET" : method, .path = url,
                  .body = cs->body ? cs->body : "", .body_len = cs->len};
    if (cs->body) cs->body[cs->len] = 0;
    if (cs->too_big) {
        atomic_fetch_add(&s->rejected_body, 1);
        srv_error(&rq, 413, "too_large", NULL, "the body is larger than %zu bytes", s->opt.max_body);
    } else if (!strcmp(method, "OPTIONS") && s->opt.cors_origin) {
        /* CORS preflight (only when --cors-origin is set). */
        srv_add_header(&rq, "Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS");
        srv_add_header(&rq, "Access-Control-Allow-Headers",
                       "Authorization, Content-Type, X-Experience-API-Version");
        srv_add_header(&rq, "Access-Control-Max-Age", "600");
        srv_reply_static(&rq, 204, NULL, "", 0);
    } else {
        handle(s, &rq);
    }
    view_release(&rq);
    return send_reply(s, c, &rq, cs, version, head);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)c; (void)toe;
    kgp_srv *s = cls;
    conn_state *cs = *con_cls;
    if (!cs) return;
    if (cs->counted) atomic_fetch_sub(&s->inflight, 1);
    free(cs->body);
    free(cs);
    *con_cls = NULL;
}

/* Percent-decodes the URL path and query values in place, as MHD does,
 * except "%00": kept as it is, so no decoded NUL can cut a name short
 * ("/studio/index.html%00.png" must not serve index.html). */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls; (void)c;
    char *w = s;
    for (const char *r = s; *r; ) {
        int hi, lo;
        if (r[0] == '%' && (hi = hexval(r[1])) >= 0 && (lo = hexval(r[2])) >= 0 && (hi | lo)) {
            *w++ = (char)(hi * 16 + lo);
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = 0;
    return (size_t)(w - s);
}

/* ---- start, run, stop ---- */

static char *read_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) { snprintf(err, errlen, "%s: %s", path, strerror(errno)); return NULL; }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? 2 * cap : 8192;
            char *p = realloc(buf, cap);
            if (!p) { free(buf); fclose(f); snprintf(err, errlen, "out of memory"); return NULL; }
            buf = p;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) { free(buf); snprintf(err, errlen, "%s: read error", path); return NULL; }
    buf[n] = 0;
    return buf;
}

static int parse_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *len,
                        int *loopback)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    if (!colon || (size_t)(colon - spec) >= sizeof host) return -1;
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = 0;
    char *end;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (*end || port > 65535 || colon[1] == 0) return -1;
    memset(ss, 0, sizeof *ss);
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = 0;
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1) return -1;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *len = sizeof *a6;
        *loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
        return 0;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    if (!strcmp(host, "localhost")) strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) return -1;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    *len = sizeof *a4;
    *loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
    return 0;
}

/* SIGTERM/SIGINT: the signal number goes down a pipe the main thread reads
 * (write(2) is async-signal-safe). */
static int g_stop_pipe[2] = {-1, -1};

static void on_stop_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    ssize_t w = write(g_stop_pipe[1], &b, 1);
    (void)w;
    errno = saved;
}

int srv_run(kgp_db *db, const srv_options *o)
{
    kgp_srv *s = calloc(1, sizeof *s);
    if (!s) return cli_fail(KGP_ENOMEM, NULL);
    s->db = db;
    s->opt = *o;
    s->started = now_mono();
    pthread_mutex_init(&s->log_lock, NULL);
    pthread_mutex_init(&s->view_lock, NULL);
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    /* A steady stream of readers must not starve an import. */
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&s->rw, &ra);
    pthread_rwlockattr_destroy(&ra);
    int rc = 0;
    char *cert = NULL, *key = NULL;
    char err[1024];

    struct sockaddr_storage ss;
    socklen_t sslen;
    int loopback = 0;
    if (parse_listen(o->listen, &ss, &sslen, &loopback)) {
        cli_error("--listen %s: expected ADDRESS:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)", o->listen);
        rc = KGP_EUSAGE;
        goto out;
    }
    if (o->noauth && !loopback) {
        cli_error("--no-auth is allowed only on a loopback address (127.0.0.0/8 or [::1])");
        rc = KGP_EUSAGE;
        goto out;
    }
    if (o->token_file && (rc = srv_tokens_load(o->token_file, &s->tokens, err, sizeof err))) {
        cli_error("%s", err);
        goto out;
    }
    /* The model: as `kgpath suggest` finds it (cli_checkpoint). */
    const char *ck = o->checkpoint && *o->checkpoint ? o->checkpoint : getenv("KGPATH_CHECKPOINT");
    if (ck && *ck) snprintf(s->ckpt, sizeof s->ckpt, "%s", ck);
    else if (kgp_checkpoint_path(kgp_db_path(db), s->ckpt, sizeof s->ckpt)) {
        cli_error("the database path is too long");
        rc = KGP_EUSAGE;
        goto out;
    }
    if (!(s->routes = srv_routes_build()) || !(s->cache = srv_cache_new()) || !(s->models = srv_models_new())) {
        rc = cli_fail(KGP_ENOMEM, NULL);
        goto out;
    }
    if (o->access_log) {
        if (!strcmp(o->access_log, "-")) s->log = stdout;
        else if (!(s->log = fopen(o->access_log, "a"))) {
            cli_error("--access-log %s: %s", o->access_log, strerror(errno));
            rc = KGP_EIO;
            goto out;
        }
    }
    /* poll(), not epoll: libmicrohttpd 0.9.75's MHD_quiesce_daemon (our
     * graceful stop) races with its own epoll loop. Both take the listen
     * socket out of the epoll set, unlocked; the loser gets ENOENT and MHD
     * aborts the process ("Failed to remove listen FD from epoll set",
     * SIGABRT at SIGTERM, about 1 stop in 30 under traffic). The poll loop
     * only skips the listen socket once quiesced. Cost: poll() walks a
     * worker's connections on each wake-up, at most --max-connections. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
    if ((o->tls_cert != NULL) != (o->tls_key != NULL)) {
        cli_error("--tls-cert and --tls-key go together");
        rc = KGP_EUSAGE;
        goto out;
    }
    if (o->tls_cert) {
        if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
            cli_error("this libmicrohttpd has no TLS support");
            rc = KGP_EUSAGE;
            goto out;
        }
        if (!(cert = read_file(o->tls_cert, err, sizeof err)) || !(key = read_file(o->tls_key, err, sizeof err))) {
            cli_error("%s", err);
            rc = KGP_EIO;
            goto out;
        }
        flags |= MHD_USE_TLS;
    }
    /* The stop signals get a handler that wakes the main thread through a
     * pipe. Blocking them and calling sigwait is not enough: threads started
     * before this point (OpenBLAS starts its workers when the library loads)
     * do not have them blocked, and a SIGTERM the kernel hands to one of
     * those would kill the process with the default action instead of
     * stopping it gracefully. MHD's threads still start with the signals
     * blocked (they inherit the mask), so the handler runs on an idle
     * thread, never inside a request. */
    if (pipe2(g_stop_pipe, O_CLOEXEC) != 0) {
        cli_error("cannot set up the stop signals: %s", strerror(errno));
        rc = KGP_EIO;
        goto out;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* Optional options: a thread pool only for 2 threads or more (one
     * thread is MHD's internal polling thread itself; a pool of 1 makes MHD
     * warn "is ignored"), TLS only with a certificate. */
    struct MHD_OptionItem more[4];
    size_t nmore = 0;
    if (o->threads > 1) more[nmore++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)o->threads, NULL};
    if (cert) {
        more[nmore++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, cert};
        more[nmore++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, key};
    }
    more[nmore] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    errno = 0;
    s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned int)o->max_connections,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)o->timeout,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)o->max_header,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
                            MHD_OPTION_ARRAY, more,
                            MHD_OPTION_END);
    if (!s->d) {
        /* MHD says why on stderr; a thread it could not start leaves errno
         * EAGAIN/ENOMEM: out of memory (ulimit -v) or at the thread limit */
        int err = errno;
        if (err == EAGAIN || err == ENOMEM) {
            cli_error("cannot start the server's threads: %s (out of memory or at the thread limit; try fewer "
                      "--threads)", strerror(err));
            rc = KGP_ENOMEM;
        } else {
            cli_error("cannot listen on %s (address in use, or bad TLS certificate/key)", o->listen);
            rc = KGP_EIO;
        }
        goto out;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = di ? di->port : 0;
    if (o->port_file) {
        char text[16];
        int n = snprintf(text, sizeof text, "%u\n", port);
        int e = kg_write_file_atomic(o->port_file, text, (size_t)n, 0644);
        if (e) {
            cli_error("--port-file %s: %s", o->port_file, strerror(e));
            rc = KGP_EIO;
            goto stop;
        }
    }
    if (!o->quiet) {
        /* The URL a client uses: the --listen host with the port bound
         * (port 0 asks for any free one; parse_listen found the colon). */
        int hostlen = (int)(strrchr(o->listen, ':') - o->listen);
        fprintf(stderr, "kgpath: serving %s on %s://%.*s:%u/ (%u thread%s%s)\n", kgp_db_path(db),
                cert ? "https" : "http", hostlen, o->listen, port, o->threads, o->threads == 1 ? "" : "s",
                o->noauth ? ", no auth" : "");
    }

    /* The main thread takes the signals from here on; any other thread
     * that gets one runs the same handler. */
    pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
    unsigned char sig = 0;
    while (read(g_stop_pipe[0], &sig, 1) < 0 && errno == EINTR) {}
    if (!o->quiet) fprintf(stderr, "kgpath: %s: finishing requests in flight\n", strsignal(sig));
stop:;
    /* Graceful stop: accept nothing new, let requests in flight finish
     * (up to --drain seconds), then close the idle keep-alive connections. */
    MHD_socket lfd = MHD_quiesce_daemon(s->d);
    double deadline = now_mono() + o->drain;
    while (atomic_load(&s->inflight) > 0 && now_mono() < deadline) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(s->d);
    if (lfd != MHD_INVALID_SOCKET) close(lfd);
    if (!o->quiet) fprintf(stderr, "kgpath: stopped\n");
out:
    view_unref(s->view);
    srv_routes_free(s->routes);
    srv_cache_free(s->cache);
    srv_models_free(s->models);
    srv_tokens_free(s->tokens);
    if (s->log && s->log != stdout) fclose(s->log);
    free(cert);
    free(key);
    pthread_rwlock_destroy(&s->rw);
    pthread_mutex_destroy(&s->view_lock);
    pthread_mutex_destroy(&s->log_lock);
    free(s);
    for (int i = 0; i < 2; i++)
        if (g_stop_pipe[i] >= 0) { close(g_stop_pipe[i]); g_stop_pipe[i] = -1; }
    return rc;
}

/* ---- `kgpath serve` ---- */

int cmd_serve(kgp_cli *cli, int argc, char **argv)
{
    static const cli_opt specs[] = {
        {"listen", 'l', 1}, {"threads", 't', 1}, {"tls-cert", 0, 1}, {"tls-key", 0, 1},
        {"token-file", 0, 1}, {"no-auth", 0, 0}, {"max-body", 0, 1}, {"max-header", 0, 1},
        {"max-connections", 0, 1}, {"timeout", 0, 1}, {"cors-origin", 0, 1},
        {"access-log", 0, 1}, {"port-file", 0, 1}, {"drain", 0, 1}, {"checkpoint", 'm', 1}, {0}};
    srv_options o = {.listen = "127.0.0.1:8080", .threads = 2, .max_body = 64u << 20,
                     .max_header = 32u << 10, .max_connections = 256, .timeout = 30,
                     .access_log = "-", .drain = 30, .quiet = cli->quiet};
    cli_parser p;
    cli_parse_init(&p, argc, argv, specs);
    const char *arg;
    int rc = 0;
    int bad = 0;
    for (int k; !rc && !bad && (k = cli_parse(&p, &arg)) != -1; ) {
        char *end = NULL;
        unsigned long long v = arg ? strtoull(arg, &end, 10) : 0;
        int num_ok = arg && *arg && end && !*end;
        switch (k) {
        case -2: rc = KGP_EUSAGE; continue;
        case 0: o.listen = arg; break;
        case 1: if (!num_ok || v < 1 || v > 256) bad = 1; else o.threads = (unsigned)v; break;
        case 2: o.tls_cert = arg; break;
        case 3: o.tls_key = arg; break;
        case 4: o.token_file = arg; break;
        case 5: o.noauth = 1; break;
        case 6: if (!num_ok || v < 1) bad = 1; else o.max_body = (size_t)v; break;
        case 7: if (!num_ok || v < 4096) bad = 1; else o.max_header = (size_t)v; break;
        case 8: if (!num_ok || v < 1 || v > 65536) bad = 1; else o.max_connections = (unsigned)v; break;
        case 9: if (!num_ok || v > 86400) bad = 1; else o.timeout = (unsigned)v; break;
        case 10: o.cors_origin = arg; break;
        case 11: o.access_log = !strcmp(arg, "none") ? NULL : arg; break;
        case 12: o.port_file = arg; break;
        case 13: if (!num_ok || v > 86400) bad = 1; else o.drain = (double)v; break;
        case 14: o.checkpoint = arg; break;
        }
        if (bad) cli_error("--%s: bad value '%s'", specs[k].name, arg);
    }
    if (bad) rc = KGP_EUSAGE;
    int extra = p.first < p.argc;
    cli_parse_free(&p);
    if (rc) return rc;
    if (extra) return cli_usage("serve");
    kgp_db *db = NULL;
    if ((rc = cli_open_db(cli, 0, &db))) return rc;
    rc = srv_run(db, &o);
    kgp_db_close(db);
    return rc;
}

srv_tokens *srv_file_tokens(kgp_srv *s) { return s->tokens; }
