/* CSV curricula (RFC 4180) for designers who keep courses in spreadsheets.
 *
 * The first record is a header naming the columns, in any order and case:
 *   id            required; the concept id, [A-Za-z0-9_.-]+
 *   title         required
 *   summary       optional short text
 *   description   optional longer text (alias: text)
 *   minutes       optional estimate, a number or a duration ("1:30", "PT90M")
 *   prerequisites optional (alias: requires): "a;b" = a AND b; inside one
 *                 ';' part, "b|c" = one of b or c; "2*{a,b,c}" = two of them
 *   reason        optional reason attached to every prerequisite of the row
 *   recommended   optional soft edges "a;b" (alias: recommends)
 *   unit          optional unit (chapter) title; rows with the same unit title
 *                 share a unit, in first-seen order
 *   goals, tags   optional, ';'-separated
 * Unknown columns are reported as a warning and ignored. Fields may be quoted
 * with '"' ("" inside is one quote) and then hold ',' and line breaks. UTF-8
 * with or without BOM; CRLF, LF or bare CR line ends. Blank lines are skipped.
 * Another encoding is converted with iconv when named (kgi_options.encoding)
 * or when a UTF-16 byte order mark says so; text that is still not valid
 * UTF-8 is an error at its line:column, and nothing of the file is used.
 * The course id is the file's base name (kgi_safe_course_id: non-ASCII
 * letters kept, so "数学.csv" is course "数学"), its title the same.
 */
#include "importers/importers.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "importers/html_text.h"
#include "importers/xml_safe.h"

enum { COL_ID, COL_TITLE, COL_SUMMARY, COL_DESC, COL_MINUTES, COL_PREREQ, COL_REASON,
       COL_RECOMMEND, COL_UNIT, COL_GOALS, COL_TAGS, NCOLS };

static const struct { const char *name; int col; } col_names[] = {
    {"id", COL_ID}, {"title", COL_TITLE}, {"name", COL_TITLE}, {"summary", COL_SUMMARY},
    {"description", COL_DESC}, {"text", COL_DESC}, {"minutes", COL_MINUTES},
    {"prerequisites", COL_PREREQ}, {"requires", COL_PREREQ}, {"prereqs", COL_PREREQ},
    {"reason", COL_REASON}, {"recommended", COL_RECOMMEND}, {"recommends", COL_RECOMMEND},
    {"unit", COL_UNIT}, {"goals", COL_GOALS}, {"tags", COL_TAGS}, {NULL, 0}
};

typedef struct field { char *s; uint32_t line, col; } field;

typedef struct csv_reader {
    const char *p, *end;
    uint32_t line, col;
    kgg_course *c;
    const char *name;
} csv_reader;

static void adv(csv_reader *r)
{
    char ch = *r->p++;
    if (ch == '\n' || (ch == '\r' && (r->p >= r->end || *r->p != '\n'))) { r->line++; r->col = 1; }
    else if (ch != '\r') r->col++;
}

/* Reads one record into fields (kg_malloc'ed strings). Returns the number of
 * fields, 0 at end of input, -1 on a syntax error (diagnostic recorded). */
static int read_record(csv_reader *r, field **fs, size_t *cap)
{
    size_t n = 0;
    if (r->p >= r->end) return 0;
    for (;;) {
        kg_buf b = {0};
        uint32_t fl = r->line, fc = r->col;
        if (r->p < r->end && *r->p == '"') {
            adv(r);
            for (;;) {
                if (r->p >= r->end) {
                    kgg_course_diag(r->c, KGG_ERROR, r->name, fl, fc, "unterminated quoted field");
                    kg_buf_free(&b);
                    goto fail;
                }
                if (*r->p == '"') {
                    if (r->p + 1 < r->end && r->p[1] == '"') { kg_buf_put(&b, "\"", 1); adv(r); adv(r); continue; }
                    adv(r);
                    break;
                }
                if (*r->p == '\r') {            /* line breaks inside quotes become \n */
                    adv(r);
                    if (r->p < r->end && *r->p == '\n') adv(r);
                    kg_buf_put(&b, "\n", 1);
                    continue;
                }
                kg_buf_put(&b, r->p, 1);
                adv(r);
            }
            if (r->p < r->end && *r->p != ',' && *r->p != '\n' && *r->p != '\r') {
                kgg_course_diag(r->c, KGG_ERROR, r->name, r->line, r->col,
                                "unexpected character after a closing quote (expected ',' or end of line)");
                kg_buf_free(&b);
                goto fail;
            }
        } else {
            while (r->p < r->end && *r->p != ',' && *r->p != '\n' && *r->p != '\r') {
                if (*r->p == '"') {
                    kgg_course_diag(r->c, KGG_ERROR, r->name, r->line, r->col,
                                    "quote inside an unquoted field (quote the whole field and double the quote)");
                    kg_buf_free(&b);
                    goto fail;
                }
                if (*r->p == 0) {
                    kgg_course_diag(r->c, KGG_ERROR, r->name, r->line, r->col, "NUL byte in CSV");
                    kg_buf_free(&b);
                    goto fail;
                }
                kg_buf_put(&b, r->p, 1);
                adv(r);
            }
        }
        if (kg_grow(fs, cap, n + 1, sizeof **fs)) { kg_buf_free(&b); goto fail; }
        (*fs)[n].s = kg_buf_take(&b);
        (*fs)[n].line = fl;
        (*fs)[n].col = fc;
        if (!(*fs)[n].s) goto fail;
        n++;
        if (r->p < r->end && *r->p == ',') { adv(r); continue; }
        /* end of record */
        if (r->p < r->end && *r->p == '\r') adv(r);
        if (r->p < r->end && *r->p == '\n') adv(r);
        return (int)n;
    }
fail:
    for (size_t i = 0; i < n; i++) kg_free((*fs)[i].s);
    return -1;
}

static void free_fields(field *fs, int n)
{
    for (int i = 0; i < n; i++) kg_free(fs[i].s);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
    return s;
}

static int valid_id(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-') return 0;
    return 1;
}

/* A reference may be "id" or "course:id". */
static int valid_ref(const char *s)
{
    const char *colon = strchr(s, ':');
    if (!colon) return valid_id(s);
    char tmp[512];
    size_t n = (size_t)(colon - s);
    if (n >= sizeof tmp) return 0;
    memcpy(tmp, s, n); tmp[n] = 0;
    return valid_id(tmp) && valid_id(colon + 1);
}

/* Concept ids of the course being read, by hash (open addressing; slots
 * hold concept index + 1, 0 = empty). */
typedef struct idset { uint32_t *slot; size_t cap, n; } idset;

static uint64_t id_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static long idset_find(const idset *h, const kgg_course *c, const char *id)
{
    if (!h->cap) return -1;
    for (size_t i = id_hash(id) & (h->cap - 1); h->slot[i]; i = (i + 1) & (h->cap - 1))
        if (strcmp(c->concepts[h->slot[i] - 1].id, id) == 0) return (long)h->slot[i] - 1;
    return -1;
}

/* Adds concept ki (its id not in the set yet). Returns -1 out of memory. */
static int idset_add(idset *h, const kgg_course *c, size_t ki)
{
    if (ki >= UINT32_MAX - 1) return -1;
    if (2 * (h->n + 1) > h->cap) {
        size_t nc = h->cap ? 2 * h->cap : 64;
        uint32_t *ns = kg_calloc(nc, sizeof *ns);
        if (!ns) return -1;
        for (size_t j = 0; j < h->cap; j++) {
            if (!h->slot[j]) continue;
            size_t i = id_hash(c->concepts[h->slot[j] - 1].id) & (nc - 1);
            while (ns[i]) i = (i + 1) & (nc - 1);
            ns[i] = h->slot[j];
        }
        kg_free(h->slot);
        h->slot = ns;
        h->cap = nc;
    }
    size_t i = id_hash(c->concepts[ki].id) & (h->cap - 1);
    while (h->slot[i]) i = (i + 1) & (h->cap - 1);
    h->slot[i] = (uint32_t)(ki + 1);
    h->n++;
    return 0;
}

/* Adds the prerequisites of one cell to concept index ki. */
static void add_prereqs(kgg_course *c, size_t ki, char *cell, const char *reason,
                        const char *name, const field *f)
{
    char *save = NULL;
    for (char *part = strtok_r(cell, ";", &save); part; part = strtok_r(NULL, ";", &save)) {
        part = trim(part);
        if (!*part) continue;
        uint32_t k = 1;
        char *body = part;
        char *star = strchr(part, '*');
        unsigned long long kk = 1;
        char *written = NULL;    /* the group as written (part is cut up below) */
        if (star && strchr(part, '{')) {
            char *end;
            errno = 0;
            kk = strtoull(part, &end, 10);
            if (errno == ERANGE || part[0] == '-') kk = 0;
            char *brace = strchr(star, '{');
            char *close = strrchr(part, '}');
            if (end == part || trim(end) != star || kk < 1 || !brace || !close || close < brace ||
                *trim(close + 1)) {
                kgg_course_diag(c, KGG_ERROR, name, f->line, f->col,
                                "bad prerequisite \"%s\" (expected N*{a,b,...})", part);
                continue;
            }
            if (!(written = kg_strdup(part))) { c->oom = 1; return; }
            *close = 0;
            body = brace + 1;
            for (char *q = body; *q; q++) if (*q == ',') *q = '|';
        }
        /* Collect alternatives first so that k can be checked against n
         * (all of them: a fixed array here once dropped every member after
         * the 256th without a word). */
        char **alts = NULL;
        size_t na = 0, cap = 0;
        char *s2 = NULL;
        int bad = 0;
        for (char *a = strtok_r(body, "|", &s2); a; a = strtok_r(NULL, "|", &s2)) {
            a = trim(a);
            if (!*a) continue;
            if (!valid_ref(a)) {
                kgg_course_diag(c, KGG_ERROR, name, f->line, f->col,
                                "bad prerequisite id \"%s\" (expected [A-Za-z0-9_.-]+ or course:id)", a);
                bad = 1;
                continue;
            }
            if (kg_grow(&alts, &cap, na + 1, sizeof *alts)) { c->oom = 1; kg_free(alts); kg_free(written); return; }
            alts[na++] = a;
        }
        if (bad || na == 0) { kg_free(alts); kg_free(written); continue; }
        if (kk > na) {
            /* kk as written (not wrapped to 32 bits: 4294967297 is not 1),
             * and the whole group as written, not its text up to a comma */
            kgg_course_diag(c, KGG_ERROR, name, f->line, f->col,
                            "prerequisite \"%s\": k = %llu is larger than the number of members (%zu)",
                            written, kk, na);
            kg_free(alts);
            kg_free(written);
            continue;
        }
        kg_free(written);
        k = (uint32_t)kk;
        kgg_group *g = kgg_concept_add_group(c, &c->concepts[ki], k);
        if (!g) { c->oom = 1; kg_free(alts); return; }
        if (reason) g->reason = kgg_course_str(c, reason);
        for (size_t i = 0; i < na; i++) {
            kgg_ref *m = kgg_group_add_member(c, g, alts[i], reason);
            if (m) { m->line = f->line; m->col = f->col; }
        }
        kg_free(alts);
    }
}

/* Minutes: a plain decimal number or a duration, 0 to KGI_MINUTES_MAX
 * (1e308, inf, 0x10 and huge durations are refused, as in kgxml). */
static double parse_minutes(char *s)
{
    const char *end;
    double v = kgi_decimal(s, &end);
    if (end != s && !*trim((char *)end)) return v <= KGI_MINUTES_MAX ? v : KGI_DURATION_OVER;
    return kgi_parse_duration(s);
}

static kgg_course *csv_body(kgg_course *c, const char *buf, size_t len, const char *name);

/* Brings buf to UTF-8 (the input boundary: nothing else of the file is
 * read before this). With an encoding (or a UTF-16 byte order mark) the
 * bytes are converted with iconv into *conv (kg_malloc'ed, the caller
 * frees); then the text must be valid UTF-8. Returns 0, or -1 with an
 * error diagnostic at the offending line:column. */
static int to_utf8(kgg_course *c, const char *name, const char *enc, const char **buf,
                   size_t *len, char **conv)
{
    const unsigned char *u = (const unsigned char *)*buf;
    if ((!enc || !*enc) && *len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF)))
        enc = "UTF-16";                  /* the byte order mark says it */
    if (enc && *enc && strcasecmp(enc, "UTF-8") != 0 && strcasecmp(enc, "UTF8") != 0) {
        iconv_t cd = iconv_open("UTF-8", enc);
        if (cd == (iconv_t)-1) {
            kgg_course_diag(c, KGG_ERROR, name, 0, 0, "unknown encoding \"%s\" (iconv names such as "
                            "GBK, ISO-8859-1, WINDOWS-1252, UTF-16; `iconv -l` lists them)", enc);
            return -1;
        }
        size_t cap = *len * 2 + 16, used = 0;
        char *out = kg_malloc(cap);
        char *in = (char *)*buf;
        size_t inleft = *len;
        int bad = 0;
        while (out) {
            char *op = out + used;
            size_t outleft = cap - used - 1;
            size_t r = iconv(cd, &in, &inleft, &op, &outleft);
            used = (size_t)(op - out);
            if (r != (size_t)-1) break;
            if (errno == E2BIG) {
                char *nb = kg_realloc(out, cap * 2);
                if (!nb) { kg_free(out); out = NULL; break; }
                out = nb; cap *= 2;
                continue;
            }
            bad = 1;                     /* EILSEQ or EINVAL (cut short) */
            break;
        }
        iconv_close(cd);
        if (!out) { kgg_course_diag(c, KGG_ERROR, name, 0, 0, "out of memory"); return -1; }
        out[used] = 0;
        if (bad) {
            uint32_t line, col;
            kgi_text_position(out, used, used, &line, &col);
            kgg_course_diag(c, KGG_ERROR, name, line, col,
                            "not valid %s (byte 0x%02X at byte %zu of the file); nothing was read",
                            enc, (unsigned char)*in, (size_t)(in - *buf) + 1);
            kg_free(out);
            return -1;
        }
        *conv = out; *buf = out; *len = used;
    }
    size_t off;
    uint32_t line, col;
    if (kgi_utf8_check(*buf, *len, &off, &line, &col)) {
        kgg_course_diag(c, KGG_ERROR, name, line, col,
                        "not valid UTF-8 (byte 0x%02X); nothing was read. If the file is in another "
                        "encoding, name it: --encoding GBK, ISO-8859-1, WINDOWS-1252, UTF-16, …",
                        (unsigned char)(*buf)[off]);
        return -1;
    }
    /* Control characters other than tab and line breaks cannot appear in
     * any XML-based format (the other importers' parsers refuse them) and
     * would make every XML export (GraphML, the SVG map) invalid; a stray
     * one is an input error, not something to drop silently. */
    for (size_t i = 0; i < *len; i++) {
        unsigned char ch = (unsigned char)(*buf)[i];
        if (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') {
            kgi_text_position(*buf, *len, i, &line, &col);
            kgg_course_diag(c, KGG_ERROR, name, line, col,
                            "control character U+%04X in the text; nothing was read (only tab "
                            "and line breaks are allowed)", ch);
            return -1;
        }
    }
    return 0;
}

kgg_course *kgi_csv_parse(const char *buf, size_t len, const char *name, const kgi_options *opt)
{
    kgg_course *c = kgg_course_new();
    if (!c) return NULL;
    c->format = kgg_course_str(c, "csv");
    c->source = kgg_course_str(c, name);
    {
        char tmp[256], id[256];
        kgi_source_base(name ? name : "course", tmp, sizeof tmp);
        char *dot = strrchr(tmp, '.');
        if (dot && dot != tmp) *dot = 0;
        c->id = kgg_course_str(c, kgi_safe_course_id(tmp, "course", id, sizeof id));
        char *title = kgi_utf8_repair(tmp, strlen(tmp));
        c->title = kgg_course_str(c, title ? title : "course");
        kg_free(title);
    }
    char *conv = NULL;
    if (to_utf8(c, name, opt ? opt->encoding : NULL, &buf, &len, &conv)) {
        kg_free(conv);      /* converted, then refused (control character, bad UTF-8) */
        return c;
    }
    c = csv_body(c, buf, len, name);
    kg_free(conv);
    return c;
}

/* The records of a CSV already in UTF-8. */
static kgg_course *csv_body(kgg_course *c, const char *buf, size_t len, const char *name)
{
    if (len >= 3 && (unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB &&
        (unsigned char)buf[2] == 0xBF) { buf += 3; len -= 3; }
    csv_reader r = { buf, buf + len, 1, 1, c, name };
    field *fs = NULL;
    size_t cap = 0;
    int colmap[64];
    int nh;
    /* header (skipping blank lines) */
    do {
        nh = read_record(&r, &fs, &cap);
        if (nh == 1 && !*trim(fs[0].s)) { free_fields(fs, nh); nh = -2; }
    } while (nh == -2);
    if (nh <= 0) {
        if (nh == 0) kgg_course_diag(c, KGG_ERROR, name, 1, 1, "empty CSV (expected a header line with id,title,…)");
        kg_free(fs);
        return c;
    }
    int have[NCOLS] = {0};
    for (int i = 0; i < nh && i < 64; i++) {
        char *h = trim(fs[i].s);
        colmap[i] = -1;
        for (int j = 0; col_names[j].name; j++)
            if (strcasecmp(h, col_names[j].name) == 0) { colmap[i] = col_names[j].col; break; }
        if (colmap[i] < 0) {
            kgg_course_diag(c, KGG_WARNING, name, fs[i].line, fs[i].col,
                            "unknown column \"%s\" ignored (known: id, title, summary, description, "
                            "minutes, prerequisites, reason, recommended, unit, goals, tags)", h);
        } else if (have[colmap[i]]) {
            kgg_course_diag(c, KGG_ERROR, name, fs[i].line, fs[i].col, "column \"%s\" appears twice", h);
        } else {
            have[colmap[i]] = 1;
        }
    }
    if (nh > 64) kgg_course_diag(c, KGG_WARNING, name, 1, 1, "columns after the 64th ignored");
    if (!have[COL_ID] || !have[COL_TITLE]) {
        kgg_course_diag(c, KGG_ERROR, name, 1, 1, "the header must name the columns \"id\" and \"title\"%s",
                        have[COL_ID] || have[COL_TITLE] ? "" : " (is the first line a header?)");
        free_fields(fs, nh);
        kg_free(fs);
        return c;
    }
    free_fields(fs, nh);
    idset ids = {0};
    int n;
    while ((n = read_record(&r, &fs, &cap)) != 0) {
        if (n < 0) break;
        if (c->oom) { free_fields(fs, n); break; }
        if (n == 1 && !*trim(fs[0].s)) { free_fields(fs, n); continue; }
        uint32_t line = fs[0].line;
        if (n > nh)
            kgg_course_diag(c, KGG_WARNING, name, line, fs[nh].col,
                            "record has %d fields, the header %d; extra fields ignored", n, nh);
        char *cell[NCOLS] = {0};
        field *cf[NCOLS] = {0};
        for (int i = 0; i < n && i < nh && i < 64; i++)
            if (colmap[i] >= 0) { cell[colmap[i]] = fs[i].s; cf[colmap[i]] = &fs[i]; }
        char *id = cell[COL_ID] ? trim(cell[COL_ID]) : (char *)"";
        char *title = cell[COL_TITLE] ? trim(cell[COL_TITLE]) : (char *)"";
        if (!*id) {
            kgg_course_diag(c, KGG_ERROR, name, line, 1, "missing id");
        } else if (!valid_id(id)) {
            kgg_course_diag(c, KGG_ERROR, name, line, cf[COL_ID]->col,
                            "bad id \"%s\" (expected letters, digits, '_', '.', '-')", id);
        } else if (idset_find(&ids, c, id) >= 0) {
            kgg_course_diag(c, KGG_ERROR, name, line, cf[COL_ID]->col, "duplicate id \"%s\"", id);
        } else {
            if (!*title) {
                kgg_course_diag(c, KGG_WARNING, name, line, 1, "concept \"%s\" has no title; using its id", id);
                title = id;
            }
            kgg_concept *k = kgg_course_add_concept(c, id, title);
            if (!k) { free_fields(fs, n); break; }
            size_t ki = c->nconcepts - 1;
            if (idset_add(&ids, c, ki)) { c->oom = 1; free_fields(fs, n); break; }
            k->line = line;
            if (cell[COL_SUMMARY] && *trim(cell[COL_SUMMARY])) k->summary = kgg_course_str(c, trim(cell[COL_SUMMARY]));
            if (cell[COL_DESC] && *trim(cell[COL_DESC])) k->description = kgg_course_str(c, trim(cell[COL_DESC]));
            if (cell[COL_MINUTES] && *trim(cell[COL_MINUTES])) {
                double m = parse_minutes(trim(cell[COL_MINUTES]));
                if (m < 0) kgg_course_diag(c, KGG_ERROR, name, line, cf[COL_MINUTES]->col,
                                           "bad minutes \"%s\" (expected a number from 0 to 100000 or a duration)",
                                           trim(cell[COL_MINUTES]));
                else k->minutes = m;
            }
            if (cell[COL_UNIT] && *trim(cell[COL_UNIT])) {
                const char *ut = trim(cell[COL_UNIT]);
                long ui = -1;
                for (size_t u = 0; u < c->nunits; u++) if (strcmp(c->units[u].title, ut) == 0) ui = (long)u;
                if (ui < 0) {
                    char uid[256], num[32];
                    snprintf(num, sizeof num, "unit%zu", c->nunits + 1);
                    kgi_safe_id(ut, num, uid, sizeof uid);
                    if (kgg_course_add_unit(c, uid, ut)) ui = (long)c->nunits - 1;
                }
                c->concepts[ki].unit = (int32_t)ui;
            }
            const char *reason = cell[COL_REASON] && *trim(cell[COL_REASON]) ? trim(cell[COL_REASON]) : NULL;
            if (cell[COL_PREREQ]) add_prereqs(c, ki, cell[COL_PREREQ], reason, name, cf[COL_PREREQ]);
            if (cell[COL_RECOMMEND]) {
                char *s2 = NULL;
                for (char *a = strtok_r(cell[COL_RECOMMEND], ";", &s2); a; a = strtok_r(NULL, ";", &s2)) {
                    a = trim(a);
                    if (!*a) continue;
                    if (!valid_ref(a)) kgg_course_diag(c, KGG_ERROR, name, line, cf[COL_RECOMMEND]->col,
                                                       "bad recommended id \"%s\"", a);
                    else {
                        kgg_ref *m = kgg_concept_add_recommend(c, &c->concepts[ki], a, NULL);
                        if (m) { m->line = line; m->col = cf[COL_RECOMMEND]->col; }
                    }
                }
            }
            for (int col = COL_GOALS; col <= COL_TAGS; col++) {
                if (!cell[col]) continue;
                char *s2 = NULL;
                for (char *a = strtok_r(cell[col], ";", &s2); a; a = strtok_r(NULL, ";", &s2)) {
                    a = trim(a);
                    if (!*a) continue;
                    if (col == COL_GOALS) kgg_concept_add_goal(c, &c->concepts[ki], a);
                    else kgg_concept_add_tag(c, &c->concepts[ki], a);
                }
            }
        }
        free_fields(fs, n);
    }
    kg_free(fs);
    if (c->nconcepts == 0 && kgg_course_nerrors(c) == 0)
        kgg_course_diag(c, KGG_ERROR, name, r.line, 1, "no concepts (the CSV has a header but no rows)");
    /* A prerequisite naming no id of this file is an error here, at its
     * cell, listed with the file's other errors (the import then stops
     * before the writer, whose own check would report it a second time);
     * "course:id" refs are the writer's. */
    for (size_t i = 0; i < c->nconcepts; i++) {
        kgg_concept *k = &c->concepts[i];
        for (size_t g = 0; g < k->ngroups; g++)
            for (size_t m = 0; m < k->groups[g].nmembers; m++) {
                kgg_ref *ref = &k->groups[g].members[m];
                if (!strchr(ref->target, ':') && idset_find(&ids, c, ref->target) < 0)
                    kgg_course_diag(c, KGG_ERROR, name, ref->line, ref->col,
                                    "concept \"%s\" requires unknown concept \"%s\" (no row of the file has "
                                    "this id)", k->id, ref->target);
            }
    }
    kg_free(ids.slot);
    return c;
}
