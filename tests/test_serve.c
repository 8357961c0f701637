/* `kgpath serve` through a real HTTP client (libcurl) against a server this
 * suite starts ($KGPATH_BIN) on a free 127.0.0.1 port, on a database made
 * from data/samples: contracts, error statuses, auth and scopes, limits,
 * static files, metrics, graceful shutdown. */
#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/testutil.h"

/* Tokens of --token-file, one per scope (and one with all). */
#define TOK_READ    "tok-read-0123456789abcdef"
#define TOK_PLAN    "tok-plan-0123456789abcdef"
#define TOK_LEARNER "tok-learner-0123456789abcdef"
#define TOK_WRITE   "tok-write-0123456789abcdef"
#define TOK_ADMIN   "tok-admin-0123456789abcdef"

static char *g_dir, *g_db;
static const char *g_bin;
static pid_t g_pid;
static unsigned g_port;

static void kg_cli(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void kg_cli(const char *fmt, ...)
{
    char args[4096], cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "'%s' --db '%s' %s >/dev/null 2>&1", g_bin, g_db, args);
    ck_assert_msg(tu_run(cmd, NULL) == 0, "failed: %s", cmd);
}

/* Starts `kgpath serve` with extra arguments; waits for its port file. */
static void server_start(const char *extra)
{
    char *port_file = tu_path(g_dir, "port");
    unlink(port_file);
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "exec '%s' --db '%s' serve --listen 127.0.0.1:0 --port-file '%s' "
             "--token-file '%s/tokens' --access-log '%s/access.log' --quiet %s 2>>'%s/server.err'",
             g_bin, g_db, port_file, g_dir, g_dir, extra ? extra : "", g_dir);
    g_pid = fork();
    ck_assert_int_ge(g_pid, 0);
    if (g_pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 3000; i++) {          /* up to 60 s (ASan start-up is slow) */
        char *t = tu_read(port_file, NULL);
        if (t) { g_port = (unsigned)atoi(t); free(t); break; }
        int st;
        if (waitpid(g_pid, &st, WNOHANG) == g_pid) {
            char *e = tu_path(g_dir, "server.err");
            char *msg = tu_read(e, NULL);
            ck_abort_msg("server exited at start: %s", msg ? msg : "?");
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    free(port_file);
    ck_assert_msg(g_port > 0, "server did not start");
}

/* SIGTERM and wait; returns the exit status. */
static int server_stop(void)
{
    if (g_pid <= 0) return -1;
    kill(g_pid, SIGTERM);
    int st = 0;
    waitpid(g_pid, &st, 0);
    g_pid = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void setup(void)
{
    g_bin = getenv("KGPATH_BIN");
    ck_assert_msg(g_bin && *g_bin, "KGPATH_BIN is not set");
    g_dir = tu_mkdtemp();
    g_db = tu_path(g_dir, "kg.db");
    kg_cli("import '%s/data/samples/linalg.xml' '%s/data/samples/ml-intro.xml' '%s/data/samples/python-zh.xml'",
           tu_source_root(), tu_source_root(), tu_source_root());
    char *tf = tu_path(g_dir, "tokens");
    tu_write(tf, "# test tokens\n"
                 TOK_READ " read reader\n" TOK_PLAN " plan planner\n" TOK_LEARNER " learner lrs\n"
                 TOK_WRITE " write,read author\n" TOK_ADMIN " admin root\n", (size_t)-1);
    chmod(tf, 0600);
    free(tf);
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void setup_server(void)
{
    setup();
    server_start(NULL);
}

static void teardown(void)
{
    if (g_pid > 0) ck_assert_int_eq(server_stop(), 0);
    tu_rmrf(g_dir);
    free(g_db);
    free(g_dir);
    g_port = 0;
}

/* ---- HTTP client ---- */

typedef struct resp {
    long status;
    char *body;
    size_t len;
    char *headers;
    size_t hlen;
    json_t *json;               /* parsed body when it is JSON */
} resp;

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
    char **buf = ((char ***)ud)[0];
    size_t *len = ((size_t **)ud)[1];
    char *q = realloc(*buf, *len + sz * n + 1);
    if (!q) return 0;
    memcpy(q + *len, p, sz * n);
    *len += sz * n;
    q[*len] = 0;
    *buf = q;
    return sz * n;
}

typedef struct req_opts {
    const char *token;
    const char *ctype;
    const char *body;
    size_t blen;                /* (size_t)-1: strlen(body) */
    const char *headers[4];     /* extra "Name: value" */
    int path_as_is;
} req_opts;

static resp http_x(const char *method, const char *path, const req_opts *o)
{
    resp r = {0};
    CURL *c = curl_easy_init();
    ck_assert_ptr_nonnull(c);
    char url[4096];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", g_port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (!strcmp(method, "HEAD")) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    if (o && o->path_as_is) curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    struct curl_slist *h = NULL;
    char auth[512];
    if (o && o->token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", o->token);
        h = curl_slist_append(h, auth);
    }
    char ct[256];
    if (o && o->ctype) {
        snprintf(ct, sizeof ct, "Content-Type: %s", o->ctype);
        h = curl_slist_append(h, ct);
    }
    for (int i = 0; o && i < 4 && o->headers[i]; i++) h = curl_slist_append(h, o->headers[i]);
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (o && o->body) {
        size_t n = o->blen == (size_t)-1 ? strlen(o->body) : o->blen;
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, o->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
    }
    void *bud[2] = {&r.body, &r.len}, *hud[2] = {&r.headers, &r.hlen};
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, bud);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, hud);
    CURLcode rc = curl_easy_perform(c);
    ck_assert_msg(rc == CURLE_OK, "%s %s: %s", method, path, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (!r.body) r.body = strdup("");
    if (!r.headers) r.headers = strdup("");
    r.json = json_loadb(r.body, r.len, 0, NULL);
    return r;
}

static resp http(const char *method, const char *path, const char *token)
{
    req_opts o = {.token = token};
    return http_x(method, path, &o);
}

static __attribute__((unused)) resp http_json(const char *method, const char *path, const char *token, const char *body)
{
    req_opts o = {.token = token, .ctype = "application/json", .body = body, .blen = (size_t)-1};
    return http_x(method, path, &o);
}

static void resp_free(resp *r)
{
    free(r->body);
    free(r->headers);
    json_decref(r->json);
}

/* The header's value (case-insensitive name), or NULL; static buffer. */
static const char *resp_header(const resp *r, const char *name)
{
    static char val[1024];
    size_t n = strlen(name);
    for (const char *p = r->headers; p && *p; ) {
        const char *eol = strchr(p, '\n');
        if (!strncasecmp(p, name, n) && p[n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ') v++;
            size_t l = (size_t)((eol ? eol : p + strlen(p)) - v);
            while (l && (v[l - 1] == '\r' || v[l - 1] == '\n')) l--;
            if (l >= sizeof val) l = sizeof val - 1;
            memcpy(val, v, l);
            val[l] = 0;
            return val;
        }
        p = eol ? eol + 1 : NULL;
    }
    return NULL;
}

/* Asserts the error shape {"error":{"code","message","where"}} and code. */
static void assert_error(const resp *r, long status, const char *code)
{
    ck_assert_msg(r->status == status, "status %ld, expected %ld: %s", r->status, status, r->body);
    ck_assert_msg(r->json, "error body is not JSON: %s", r->body);
    json_t *e = json_object_get(r->json, "error");
    ck_assert_msg(json_is_object(e), "no error object: %s", r->body);
    ck_assert_str_eq(json_string_value(json_object_get(e, "code")), code);
    ck_assert(json_is_string(json_object_get(e, "message")));
    json_t *w = json_object_get(e, "where");
    ck_assert(w && (json_is_string(w) || json_is_null(w)));
    ck_assert_msg(strstr(resp_header(r, "Content-Type") ? resp_header(r, "Content-Type") : "", "application/json"),
                  "error Content-Type");
}

/* ---- operations, routing, static files ---- */

START_TEST(health_and_routing)
{
    resp r = http("GET", "/healthz", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "status")), "ok");
    resp_free(&r);
    r = http("GET", "/no/such/thing", NULL);
    assert_error(&r, 404, "not_found");
    resp_free(&r);
    r = http("DELETE", "/healthz", NULL);
    assert_error(&r, 405, "method_not_allowed");
    ck_assert_ptr_nonnull(resp_header(&r, "Allow"));
    ck_assert_ptr_nonnull(strstr(resp_header(&r, "Allow"), "GET"));
    resp_free(&r);
    r = http("HEAD", "/healthz", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.len, 0);
    resp_free(&r);
}
END_TEST

START_TEST(studio_assets)
{
    resp r = http("GET", "/studio/", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(resp_header(&r, "Content-Type"), "text/html"));
    ck_assert_ptr_nonnull(strstr(r.body, "<html"));
    resp_free(&r);
    r = http("GET", "/studio/index.html", NULL);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    r = http("GET", "/", NULL);
    ck_assert_int_eq(r.status, 308);
    ck_assert_str_eq(resp_header(&r, "Location"), "/studio/");
    resp_free(&r);
    /* No directory traversal: raw "..", encoded dots and slashes, absolute. */
    const char *bad[] = {"/studio/../src/serve.c", "/studio/%2e%2e/%2e%2e/etc/passwd",
                         "/studio/..%2f..%2fmeson.build", "/studio//etc/passwd",
                         "/studio/studio/index.html", "/studio/index.html%00.png"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        req_opts o = {.path_as_is = 1};
        r = http_x("GET", bad[i], &o);
        ck_assert_msg(r.status == 404, "%s: %ld", bad[i], r.status);
        ck_assert_ptr_null(strstr(r.body, "project("));
        ck_assert_ptr_null(strstr(r.body, "root:"));
        resp_free(&r);
    }
}
END_TEST

START_TEST(metrics_text)
{
    resp r = http("GET", "/healthz", NULL);
    resp_free(&r);
    r = http("GET", "/nothing-here", NULL);
    resp_free(&r);
    r = http("GET", "/metrics", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(resp_header(&r, "Content-Type"), "version=0.0.4"));
    ck_assert_ptr_nonnull(strstr(r.body, "# TYPE kgpath_http_requests_total counter\n"));
    ck_assert_ptr_nonnull(strstr(r.body, "kgpath_http_requests_total{code=\"200\"} "));
    ck_assert_ptr_nonnull(strstr(r.body, "kgpath_http_requests_total{code=\"404\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(r.body, "kgpath_http_request_duration_seconds_bucket{le=\"+Inf\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(r.body, "kgpath_http_request_duration_seconds_count 2\n"));
    ck_assert_ptr_nonnull(strstr(r.body, "kgpath_snapshot_age_seconds "));
    ck_assert(r.len > 0 && r.body[r.len - 1] == '\n');
    resp_free(&r);
}
END_TEST

START_TEST(access_log_combined)
{
    req_opts o = {.token = TOK_READ, .headers = {"User-Agent: tester \"quoted\"", "Referer: http://x/"}};
    resp r = http_x("GET", "/v1/courses", &o);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    ck_assert_int_eq(server_stop(), 0);
    char *p = tu_path(g_dir, "access.log");
    char *log = tu_read(p, NULL);
    free(p);
    ck_assert_ptr_nonnull(log);
    /* host ident user [time] "request" status bytes "referer" "agent" */
    ck_assert_msg(strstr(log, "127.0.0.1 - reader ["), "%s", log);
    ck_assert_msg(strstr(log, "] \"GET /v1/courses HTTP/1.1\" 200 "), "%s", log);
    ck_assert_msg(strstr(log, "\"http://x/\" \"tester \\x22quoted\\x22\"\n"), "%s", log);
    ck_assert_ptr_null(strstr(log, TOK_READ));
    free(log);
}
END_TEST

/* ---- auth and scopes ---- */

START_TEST(auth_scopes)
{
    resp r = http("GET", "/v1/courses", NULL);
    assert_error(&r, 401, "unauthorized");
    ck_assert_ptr_nonnull(resp_header(&r, "WWW-Authenticate"));
    resp_free(&r);
    r = http("GET", "/v1/courses", "not-a-token-at-all");
    assert_error(&r, 401, "unauthorized");
    resp_free(&r);
    r = http("GET", "/v1/courses", TOK_PLAN);          /* plan lacks read */
    assert_error(&r, 403, "forbidden");
    resp_free(&r);
    r = http("GET", "/v1/courses", TOK_READ);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    r = http("GET", "/v1/courses", TOK_ADMIN);         /* admin holds every scope */
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    /* A token in the query string is not a token. */
    r = http("GET", "/v1/courses?access_token=" TOK_ADMIN, NULL);
    assert_error(&r, 401, "unauthorized");
    resp_free(&r);
}
END_TEST

START_TEST(cors_off_by_default)
{
    req_opts o = {.token = TOK_READ, .headers = {"Origin: http://evil.example"}};
    resp r = http_x("GET", "/v1/courses", &o);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_null(resp_header(&r, "Access-Control-Allow-Origin"));
    resp_free(&r);
    r = http_x("OPTIONS", "/v1/courses", &o);
    ck_assert_int_ne(r.status, 204);
    ck_assert_ptr_null(resp_header(&r, "Access-Control-Allow-Origin"));
    resp_free(&r);
}
END_TEST

START_TEST(cors_configured)
{
    ck_assert_int_eq(server_stop(), 0);
    server_start("--cors-origin http://studio.example");
    req_opts o = {.token = TOK_READ, .headers = {"Origin: http://studio.example"}};
    resp r = http_x("GET", "/v1/courses", &o);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(resp_header(&r, "Access-Control-Allow-Origin"), "http://studio.example");
    resp_free(&r);
    r = http_x("OPTIONS", "/v1/plan", &o);
    ck_assert_int_eq(r.status, 204);
    ck_assert_ptr_nonnull(strstr(resp_header(&r, "Access-Control-Allow-Headers"), "Authorization"));
    resp_free(&r);
    req_opts other = {.token = TOK_READ, .headers = {"Origin: http://evil.example"}};
    r = http_x("GET", "/v1/courses", &other);
    ck_assert_ptr_null(resp_header(&r, "Access-Control-Allow-Origin"));
    resp_free(&r);
}
END_TEST

/* ---- /v1 contracts ---- */

START_TEST(concepts_and_courses)
{
    resp r = http("GET", "/v1/courses", TOK_READ);
    ck_assert_int_eq(r.status, 200);
    json_t *cs = json_object_get(r.json, "courses");
    ck_assert_uint_eq(json_array_size(cs), 3);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(cs, 0), "id")), "linalg");
    resp_free(&r);

    r = http("GET", "/v1/concepts?course=linalg&limit=5&offset=2", TOK_READ);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "total")), 35);
    ck_assert_uint_eq(json_array_size(json_object_get(r.json, "concepts")), 5);
    resp_free(&r);
    r = http("GET", "/v1/concepts?course=nope", TOK_READ);
    assert_error(&r, 404, "not_found");
    resp_free(&r);
    r = http("GET", "/v1/concepts?limit=0", TOK_READ);
    assert_error(&r, 400, "bad_request");
    resp_free(&r);
    r = http("GET", "/v1/concepts?limit=abc", TOK_READ);
    assert_error(&r, 400, "bad_request");
    resp_free(&r);

    /* Get by key, by title (percent-encoded, non-Latin). */
    r = http("GET", "/v1/concepts/linalg:vectors", TOK_READ);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "id")), "linalg:vectors");
    ck_assert(json_is_array(json_object_get(r.json, "dependents")));
    resp_free(&r);
    r = http("GET", "/v1/concepts/Vectors", TOK_READ);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    r = http("GET", "/v1/concepts/no-such-concept", TOK_READ);
    assert_error(&r, 404, "not_found");
    resp_free(&r);
}
END_TEST

Suite *suite(void)
{
    Suite *s = suite_create("serve");
    TCase *tc = tcase_create("serve");
    tcase_set_timeout(tc, 300);
    tcase_add_checked_fixture(tc, setup_server, teardown);
    tcase_add_test(tc, health_and_routing);
    tcase_add_test(tc, studio_assets);
    tcase_add_test(tc, metrics_text);
    tcase_add_test(tc, access_log_combined);
    tcase_add_test(tc, auth_scopes);
    tcase_add_test(tc, cors_off_by_default);
    tcase_add_test(tc, cors_configured);
    tcase_add_test(tc, concepts_and_courses);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (!getenv("KGPATH_BIN")) { fprintf(stderr, "KGPATH_BIN not set\n"); return 77; }
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
