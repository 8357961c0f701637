/* kgxml: kgpath's native course format -> course model.
 *
 * Reading happens in four steps, each of which stops the import with
 * diagnostics ("file:line:column: message") when the input is bad:
 *   1. bytes: the file must be UTF-8 (the offending byte is located);
 *   2. XML: kgi_xml_parse (no entities, no DTD loading, no network);
 *   3. schema: RELAX NG validation against the built-in copy of
 *      data/schema/kgxml.rng (or opt->schema_path), libxml2's structured
 *      errors becoming diagnostics that name the element and the rule;
 *   4. meaning: what the schema cannot say — unique concept ids, references
 *      within the course that exist, no self-reference, k <= n options,
 *      numbers in range. These checks run even without the schema, so the
 *      parser never trusts the document's shape.
 * Cycles and references to other courses are the store's business.
 *
 * libxml2 does not record columns on nodes, so an element's column is found
 * by looking for its start tag ("<name") on the line libxml2 reports (or the
 * lines just above, for start tags that span lines); an attribute's position
 * is found inside that start tag.
 */
#include "importers/html_text.h"
#include "importers/importers.h"
#include "importers/kgxml.h"
#include "importers/xml_safe.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/hash.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "base/alloc.h"
#include "kgxml_schema.h"   /* generated from data/schema/kgxml.rng */

#define NS KGI_KGXML_NS
#define MAX_SCHEMA_DIAGS 50

#if LIBXML_VERSION >= 21200
typedef const xmlError *kgi_xml_error_arg;
#else
typedef xmlErrorPtr kgi_xml_error_arg;
#endif

const char *kgi_kgxml_schema(size_t *len)
{
    if (len) *len = KGI_KGXML_SCHEMA_RNG_LEN;
    return kgi_kgxml_schema_rng;
}

/* A reference to a concept of this course, checked once all ids are known. */
typedef struct pending_ref {
    const xmlNode *node;        /* the <require>/<option>/<recommend> element */
    size_t concept;             /* index of the concept that holds it */
    const char *local;          /* the id it names in this course (arena) */
} pending_ref;

typedef struct px {
    kgg_course *c;
    const char *name;           /* file name for diagnostics */
    const char *buf;            /* the document, after any BOM */
    size_t len;
    size_t *lines;              /* byte offset of each line start (lazy) */
    size_t nlines, cap_lines;
    xmlHashTablePtr ids;        /* concept id -> index + 1 */
    xmlHashTablePtr unit_ids;   /* unit id -> line */
    pending_ref *refs;
    size_t nrefs, cap_refs;
    const char *schema_name;    /* schema file for its own diagnostics */
    const xmlNode *last_schema_node;
    size_t nschema;             /* schema diagnostics so far */
    int oom;
} px;

/* ---- positions ---------------------------------------------------------- */

static int build_lines(px *p)
{
    if (p->lines) return 0;
    if (kg_grow(&p->lines, &p->cap_lines, 64, sizeof *p->lines)) return -1;
    p->lines[p->nlines++] = 0;
    for (size_t i = 0; i < p->len; i++) {
        char ch = p->buf[i];
        if (ch == '\n' || (ch == '\r' && (i + 1 >= p->len || p->buf[i + 1] != '\n'))) {
            if (kg_grow(&p->lines, &p->cap_lines, p->nlines + 1, sizeof *p->lines)) return -1;
            p->lines[p->nlines++] = i + 1;
        }
    }
    return 0;
}

/* Column (1-based, in characters) of byte offset off on 1-based line l. */
static uint32_t column_of(const px *p, size_t l, size_t off)
{
    uint32_t col = 1;
    for (size_t i = p->lines[l - 1]; i < off; i++)
        if (((unsigned char)p->buf[i] & 0xC0) != 0x80) col++;
    return col;
}

static size_t line_end(const px *p, size_t l)
{
    return l < p->nlines ? p->lines[l] : p->len;
}

static int is_name_end(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '>' || ch == '/';
}

/* Offset of the nth (0-based) "<qname" on line l, or of the last one when
 * nth is (size_t)-1; (size_t)-1 when there is none. */
static size_t find_tag_on_line(const px *p, size_t l, const char *qname, size_t nth)
{
    size_t ls = p->lines[l - 1], le = line_end(p, l), ql = strlen(qname), found = (size_t)-1;
    for (size_t i = ls; i + ql + 1 <= le; i++) {
        if (p->buf[i] != '<' || memcmp(p->buf + i + 1, qname, ql) != 0) continue;
        if (i + 1 + ql < p->len && !is_name_end(p->buf[i + 1 + ql])) continue;
        found = i;
        if (nth != (size_t)-1 && nth-- == 0) return found;
    }
    return nth == (size_t)-1 ? found : (size_t)-1;
}

/* How many elements with n's name precede n in document order on the same
 * line (to tell apart several start tags of one name on a line). O(nodes). */
static size_t same_line_ordinal(const xmlNode *n, long line)
{
    size_t count = 0;
    const xmlNode *cur = n->doc ? xmlDocGetRootElement(n->doc) : NULL;
    while (cur && cur != n) {
        if (cur->type == XML_ELEMENT_NODE && cur->ns == n->ns &&
            strcmp((const char *)cur->name, (const char *)n->name) == 0 &&
            xmlGetLineNo((xmlNode *)cur) == line)
            count++;
        if (cur->children && cur->type == XML_ELEMENT_NODE) {
            cur = cur->children;
        } else {
            while (cur && !cur->next) cur = cur->parent;
            if (cur) cur = cur->next;
        }
    }
    return count;
}

/* Position of element n (and of its attribute attr when not NULL). libxml2
 * gives the line on which the start tag was read; the column is searched. */
static void node_pos(px *p, const xmlNode *n, const char *attr, uint32_t *line, uint32_t *col)
{
    *line = 0;
    *col = 0;
    if (!n) return;
    long ln = xmlGetLineNo((xmlNode *)n);
    if (ln <= 0) return;
    *line = (uint32_t)ln;
    if (n->type != XML_ELEMENT_NODE || build_lines(p) || (size_t)ln > p->nlines) return;
    char qname[256];
    if (n->ns && n->ns->prefix)
        snprintf(qname, sizeof qname, "%s:%s", (const char *)n->ns->prefix, (const char *)n->name);
    else
        snprintf(qname, sizeof qname, "%s", (const char *)n->name);
    size_t l = (size_t)ln, off = find_tag_on_line(p, l, qname, same_line_ordinal(n, ln));
    for (size_t back = 1; off == (size_t)-1 && back <= 64 && back < l; back++) {
        off = find_tag_on_line(p, l - back, qname, (size_t)-1);
        if (off != (size_t)-1) l -= back;
    }
    if (off == (size_t)-1) return;
    if (attr) {
        /* Scan the start tag for ` attr =`, skipping quoted values. */
        size_t al = strlen(attr);
        char quote = 0;
        for (size_t i = off + 1; i < p->len; i++) {
            char ch = p->buf[i];
            if (quote) { if (ch == quote) quote = 0; continue; }
            if (ch == '"' || ch == '\'') { quote = ch; continue; }
            if (ch == '>') break;
            if ((ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') && i + 1 + al < p->len &&
                memcmp(p->buf + i + 1, attr, al) == 0) {
                size_t j = i + 1 + al;
                while (j < p->len && (p->buf[j] == ' ' || p->buf[j] == '\t' ||
                                      p->buf[j] == '\n' || p->buf[j] == '\r')) j++;
                if (j < p->len && p->buf[j] == '=') {
                    off = i + 1;
                    while (l < p->nlines && p->lines[l] <= off) l++;
                    break;
                }
            }
        }
    }
    *line = (uint32_t)l;
    *col = column_of(p, l, off);
}

/* ---- diagnostics -------------------------------------------------------- */

static void vdiag(px *p, kgg_severity sev, uint32_t line, uint32_t col,
                  const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (kgg_course_diag(p->c, sev, p->name, line, col, "%s", msg)) p->oom = 1;
}

static void __attribute__((format(printf, 5, 6)))
diag_at(px *p, kgg_severity sev, const xmlNode *n, const char *attr, const char *fmt, ...)
{
    uint32_t line, col;
    node_pos(p, n, attr, &line, &col);
    va_list ap;
    va_start(ap, fmt);
    vdiag(p, sev, line, col, fmt, ap);
    va_end(ap);
}

static void diag_plain(px *p, const char *msg)
{
    if (kgg_course_diag(p->c, KGG_ERROR, p->name, 0, 0, "%s", msg)) p->oom = 1;
}

#define ERR(p, n, attr, ...)  diag_at((p), KGG_ERROR, (n), (attr), __VA_ARGS__)
#define WARN(p, n, attr, ...) diag_at((p), KGG_WARNING, (n), (attr), __VA_ARGS__)

/* ---- small readers ------------------------------------------------------ */

static int is_ns(const xmlNode *n)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           strcmp((const char *)n->ns->href, NS) == 0;
}

static int is_el(const xmlNode *n, const char *name)
{
    return is_ns(n) && strcmp((const char *)n->name, name) == 0;
}

static char *trim_copy(px *p, const char *s)
{
    if (!s) return NULL;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r')) n--;
    char *r = kgg_course_strn(p->c, s, n);
    if (!r) p->oom = 1;
    return r;
}

/* Attribute value without surrounding white space, in the course arena;
 * NULL when absent. */
static char *attr_of(px *p, const xmlNode *n, const char *name)
{
    char *v = kgi_xml_attr(n, name);
    if (!v) return NULL;
    char *r = trim_copy(p, v);
    kg_free(v);
    return r;
}

/* Element text with white-space runs collapsed, in the arena; NULL when
 * it is empty. */
static char *text_of(px *p, const xmlNode *n)
{
    char *v = kgi_xml_text(n);
    if (!v) { p->oom = 1; return NULL; }
    char *r = v[0] ? kgg_course_str(p->c, v) : NULL;
    if (v[0] && !r) p->oom = 1;
    kg_free(v);
    return r;
}

/* [A-Za-z0-9][A-Za-z0-9_.-]*, at most 128 bytes. */
static int valid_id(const char *s, size_t n)
{
    if (n == 0 || n > 128) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        int alnum = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
        if (!alnum && (i == 0 || (ch != '_' && ch != '.' && ch != '-'))) return 0;
    }
    return 1;
}

/* "id" or "course:id". */
static int valid_ref(const char *s)
{
    const char *colon = strchr(s, ':');
    if (!colon) return valid_id(s, strlen(s));
    return valid_id(s, (size_t)(colon - s)) && valid_id(colon + 1, strlen(colon + 1));
}

/* A BCP 47 tag in the loose form xsd:language accepts:
 * [A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*. */
static int valid_lang(const char *s)
{
    size_t run = 0, first = 1;
    if (!*s) return 0;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '-') {
            if (run == 0) return 0;
            run = 0;
            first = 0;
            continue;
        }
        int alpha = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
        int digit = ch >= '0' && ch <= '9';
        if (!(alpha || (digit && !first)) || ++run > 8) return 0;
    }
    return run > 0;
}

/* A decimal number as XML Schema writes it: [+-]?(d+(.d*)?|.d+). Returns 0
 * and the value, or -1 (no exponents, no NaN/Inf, no hex). */
static int parse_decimal(const char *s, double *out)
{
    const char *q = s;
    if (*q == '+' || *q == '-') q++;
    size_t digits = 0;
    while (*q >= '0' && *q <= '9') { q++; digits++; }
    if (*q == '.') {
        q++;
        while (*q >= '0' && *q <= '9') { q++; digits++; }
    }
    if (digits == 0 || *q) return -1;
    double v = strtod(s, NULL);
    if (!isfinite(v)) return -1;
    *out = v;
    return 0;
}

/* minutes="…" on a concept or resource: -1 when absent, -2 when invalid
 * (diagnosed). */
static double read_minutes(px *p, const xmlNode *n, const char *what)
{
    char *s = attr_of(p, n, "minutes");
    if (!s) return -1;
    double v;
    if (parse_decimal(s, &v)) {
        ERR(p, n, "minutes", "%s: invalid minutes \"%s\": expected a decimal number "
            "such as 30 or 12.5", what, s);
        return -2;
    }
    if (v < 0) {
        ERR(p, n, "minutes", "%s: minutes must not be negative (got %s)", what, s);
        return -2;
    }
    if (v > KGI_MINUTES_MAX) {
        ERR(p, n, "minutes", "%s: minutes %s is out of range (at most %.0f)", what, s, KGI_MINUTES_MAX);
        return -2;
    }
    return v;
}

/* Short description of an element for messages: <concept id="x">. */
static void describe(const xmlNode *n, char *out, size_t outlen)
{
    const char *key = NULL;
    xmlChar *v = NULL;
    if (n->type == XML_ELEMENT_NODE) {
        static const char *keys[] = { "id", "ref", NULL };
        for (int i = 0; keys[i] && !v; i++)
            if ((v = xmlGetNoNsProp(n, (const xmlChar *)keys[i]))) key = keys[i];
    }
    if (v) {
        snprintf(out, outlen, "<%s %s=\"%.80s\">", (const char *)n->name, key, (const char *)v);
        xmlFree(v);
    } else {
        snprintf(out, outlen, "<%s>", n->name ? (const char *)n->name : "?");
    }
}

/* ---- schema ------------------------------------------------------------- */

/* What an attribute or element must hold, for schema messages. */
static const char *attr_rule(const char *attr)
{
    static const struct { const char *name, *rule; } rules[] = {
        { "id", "an id: letters, digits, '_', '.' and '-', starting with a letter or digit, "
                "at most 128 characters" },
        { "ref", "a reference \"concept\" or \"course:concept\"" },
        { "minutes", "a decimal number of minutes from 0 to 100000" },
        { "difficulty", "a number from 1 (introductory) to 5 (expert)" },
        { "k", "a positive integer" },
        { "kind", "one of book, reading, article, paper, video, lecture, exercise, quiz, "
                  "project, interactive, software, other" },
        { "url", "a URI" },
        { "lang", "a BCP 47 language tag such as en, zh-Hans or pt-BR" },
        { "version", "a non-empty version label" },
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strcmp(rules[i].name, attr) == 0) return rules[i].rule;
    return NULL;
}

/* What an element may contain, for schema messages about misplaced or
 * missing children. */
static const char *content_rule(const xmlNode *n)
{
    static const struct { const char *name, *rule; } rules[] = {
        { "course", "<course> holds a <title>, then <unit> and <concept> elements" },
        { "unit", "<unit> holds a <title>, then <concept> elements" },
        { "concept", "<concept> holds, in this order: <title>, <summary>?, <description>?, "
                     "<goal>*, <tag>*, <resource>*, <prerequisites>?" },
        { "description", "<description> holds text or <p> paragraphs" },
        { "prerequisites", "<prerequisites> holds <require>, <any-of> and <recommend> elements" },
        { "any-of", "<any-of> holds an optional <reason>, then one or more <option> elements" },
    };
    if (!is_ns(n)) return NULL;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strcmp(rules[i].name, (const char *)n->name) == 0) return rules[i].rule;
    return NULL;
}

static void schema_error(void *ud, kgi_xml_error_arg e)
{
    px *p = ud;
    if (!e || p->oom) return;
    if (e->level == XML_ERR_WARNING) return;
    if (p->nschema >= MAX_SCHEMA_DIAGS) {
        if (p->nschema++ == MAX_SCHEMA_DIAGS)
            diag_plain(p, "too many schema errors; the rest are not shown");
        return;
    }
    char msg[600];
    snprintf(msg, sizeof msg, "%s", e->message ? e->message : "schema violation");
    size_t ml = strlen(msg);
    while (ml && (msg[ml - 1] == '\n' || msg[ml - 1] == ' ')) msg[--ml] = 0;

    const xmlNode *n = e->node;
    if (n && n->type != XML_ELEMENT_NODE) n = n->parent;
    /* libxml2 often reports one problem twice on the same node (the datatype,
     * then "failed to validate content"): fold those into one diagnostic. */
    if (n && n == p->last_schema_node && p->c->ndiags) {
        if (p->c->too_many) return;   /* the first report may have been only counted */
        kgg_diag *d = &p->c->diags[p->c->ndiags - 1];
        if (strlen(d->message) + ml < 1000) {
            char *m = kg_arena_printf(p->c->arena, "%s; %s", d->message, msg);
            if (m) d->message = m;
        }
        return;
    }
    p->last_schema_node = n;
    p->nschema++;

    char attr[64] = "", extra[400] = "";
    const char *ia = strstr(msg, "Invalid attribute ");
    if (ia) sscanf(ia + 18, "%63[^ ]", attr);
    const char *dv = strstr(msg, " doesn't allow value '");
    if (!attr[0] && dv && n) {
        /* A datatype error names the value, not the attribute: find it. */
        char val[256];
        if (sscanf(dv + 22, "%255[^']", val) == 1)
            for (const xmlAttr *a = n->properties; a && !attr[0]; a = a->next) {
                xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
                if (v && strcmp((const char *)v, val) == 0)
                    snprintf(attr, sizeof attr, "%s%s%s", a->ns && a->ns->prefix ? (const char *)a->ns->prefix : "",
                             a->ns && a->ns->prefix ? ":" : "", (const char *)a->name);
                xmlFree(v);
            }
    }
    if (n && attr[0]) {
        const char *local = strchr(attr, ':') ? strchr(attr, ':') + 1 : attr;
        xmlChar *v = strcmp(local, "lang") == 0
                         ? xmlGetNsProp(n, (const xmlChar *)"lang", XML_XML_NAMESPACE)
                         : xmlGetNoNsProp(n, (const xmlChar *)attr);
        const char *rule = attr_rule(local);
        snprintf(extra, sizeof extra, " (value \"%.80s\"%s%s)", v ? (const char *)v : "",
                 rule ? "; expected " : "", rule ? rule : "");
        if (v) xmlFree(v);
    } else if (n && is_ns(n) && xmlHasProp(n, (const xmlChar *)"ref")) {
        char *ref = kgi_xml_attr(n, "ref");
        if (ref && !valid_ref(ref)) {
            snprintf(attr, sizeof attr, "ref");
            snprintf(extra, sizeof extra, " (ref \"%.80s\" is not \"concept\" or "
                     "\"course:concept\" made of letters, digits, '_', '.' and '-')", ref);
        }
        kg_free(ref);
    } else if (n && strstr(msg, "datatype")) {
        snprintf(extra, sizeof extra, " (the element must contain text)");
    } else if (n) {
        const xmlNode *box = n;
        if (strstr(msg, "Did not expect element") || !content_rule(box)) box = n->parent;
        const char *rule = box && box->type == XML_ELEMENT_NODE ? content_rule(box) : NULL;
        if (rule) snprintf(extra, sizeof extra, " (%s)", rule);
    }

    uint32_t line = 0, col = 0;
    if (n) node_pos(p, n, attr[0] ? attr : NULL, &line, &col);
    if (!line && e->line > 0) { line = (uint32_t)e->line; col = e->int2 > 0 ? (uint32_t)e->int2 : 0; }
    char where[160] = "";
    if (n) describe(n, where, sizeof where);
    if (kgg_course_diag(p->c, KGG_ERROR, p->name, line, col, "schema: %s%s%s%s",
                        where, where[0] ? ": " : "", msg, extra))
        p->oom = 1;
}

static void schema_parse_error(void *ud, kgi_xml_error_arg e)
{
    px *p = ud;
    if (!e || e->level == XML_ERR_WARNING) return;
    char msg[600];
    snprintf(msg, sizeof msg, "%s", e->message ? e->message : "unreadable schema");
    size_t ml = strlen(msg);
    while (ml && (msg[ml - 1] == '\n' || msg[ml - 1] == ' ')) msg[--ml] = 0;
    if (kgg_course_diag(p->c, KGG_ERROR, p->schema_name,
                        e->line > 0 ? (uint32_t)e->line : 0, 0, "schema file: %s", msg))
        p->oom = 1;
}

/* Reads a schema file whole (at most 16 MiB). 0, or -1 with a diagnostic. */
static int read_schema_file(px *p, const char *path, char **out, size_t *outlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (kgg_course_diag(p->c, KGG_ERROR, path, 0, 0, "schema file: cannot open: %s",
                            strerror(errno)))
            p->oom = 1;
        return -1;
    }
    size_t cap = 1 << 14, n = 0;
    char *b = kg_malloc(cap);
    while (b) {
        n += fread(b + n, 1, cap - n, f);
        if (n < cap || cap >= (16u << 20)) break;
        char *nb = kg_realloc(b, cap * 2);
        if (!nb) { kg_free(b); b = NULL; break; }
        b = nb;
        cap *= 2;
    }
    int bad = !b || ferror(f) || n == cap;
    fclose(f);
    if (bad) {
        if (!b) p->oom = 1;
        else if (kgg_course_diag(p->c, KGG_ERROR, path, 0, 0, "schema file: cannot read it "
                                 "(or it is larger than 16 MiB)"))
            p->oom = 1;
        kg_free(b);
        return -1;
    }
    *out = b;
    *outlen = n;
    return 0;
}

/* Validates doc; 0 when valid, -1 when not (diagnosed). */
static int validate(px *p, xmlDocPtr doc, const kgi_options *opt)
{
    /* A schema file is read here, not by libxml2, so that a path can never
     * turn into a network fetch. */
    char *text = NULL;
    size_t tlen = 0;
    p->schema_name = "kgxml.rng (built in)";
    if (opt && opt->schema_path) {
        p->schema_name = opt->schema_path;
        if (read_schema_file(p, opt->schema_path, &text, &tlen)) return -1;
    }
    xmlRelaxNGParserCtxtPtr pc = text
        ? xmlRelaxNGNewMemParserCtxt(text, (int)tlen)
        : xmlRelaxNGNewMemParserCtxt(kgi_kgxml_schema_rng, (int)KGI_KGXML_SCHEMA_RNG_LEN);
    if (!pc) { kg_free(text); p->oom = 1; return -1; }
    xmlRelaxNGSetParserStructuredErrors(pc, (xmlStructuredErrorFunc)schema_parse_error, p);
    xmlRelaxNGPtr schema = xmlRelaxNGParse(pc);
    xmlRelaxNGFreeParserCtxt(pc);
    kg_free(text);
    if (!schema) {
        if (!kgg_course_nerrors(p->c))
            diag_plain(p, "cannot load the RELAX NG schema");
        return -1;
    }
    xmlRelaxNGValidCtxtPtr vc = xmlRelaxNGNewValidCtxt(schema);
    int rc = -1;
    if (vc) {
        xmlRelaxNGSetValidStructuredErrors(vc, (xmlStructuredErrorFunc)schema_error, p);
        rc = xmlRelaxNGValidateDoc(vc, doc);
        xmlRelaxNGFreeValidCtxt(vc);
    } else {
        p->oom = 1;
    }
    xmlRelaxNGFree(schema);
    if (rc != 0 && !kgg_course_nerrors(p->c))
        diag_plain(p, "the document does not match the kgxml schema");
    return rc == 0 ? 0 : -1;
}

/* ---- the document ------------------------------------------------------- */

/* Reads an edge element's ref and reason. Returns the ref (arena) or NULL
 * when missing/invalid (diagnosed). Same-course refs are queued for the
 * existence check. */
static const char *read_edge(px *p, const xmlNode *e, size_t ci, const char **reason)
{
    const kgg_concept *k = &p->c->concepts[ci];
    *reason = NULL;
    char *ref = attr_of(p, e, "ref");
    if (!ref || !ref[0]) {
        ERR(p, e, NULL, "concept \"%s\": <%s> has no ref attribute (expected \"concept\" or "
            "\"course:concept\")", k->id, (const char *)e->name);
        return NULL;
    }
    if (!valid_ref(ref)) {
        ERR(p, e, "ref", "concept \"%s\": invalid reference \"%s\" (expected \"concept\" or "
            "\"course:concept\" made of letters, digits, '_', '.' and '-')", k->id, ref);
        return NULL;
    }
    const char *local = ref;
    const char *colon = strchr(ref, ':');
    if (colon) {
        size_t cl = (size_t)(colon - ref);
        local = p->c->id && strlen(p->c->id) == cl && memcmp(p->c->id, ref, cl) == 0 ? colon + 1 : NULL;
    }
    if (local && strcmp(local, k->id) == 0) {
        ERR(p, e, "ref", "concept \"%s\" refers to itself in <%s>", k->id, (const char *)e->name);
        return NULL;
    }
    if (local) {
        if (kg_grow(&p->refs, &p->cap_refs, p->nrefs + 1, sizeof *p->refs)) { p->oom = 1; return NULL; }
        p->refs[p->nrefs++] = (pending_ref){ e, ci, local };
    }
    *reason = text_of(p, e);
    return ref;
}

static void read_group(px *p, const xmlNode *g, size_t ci)
{
    uint32_t k = 1;
    char *ks = attr_of(p, g, "k");
    if (ks) {
        char *end = NULL;
        unsigned long v = 0;
        int ok = ks[0] >= '0' && ks[0] <= '9';
        if (ok) { v = strtoul(ks, &end, 10); ok = *end == 0 && v >= 1 && v <= 1000000; }
        if (!ok) {
            ERR(p, g, "k", "concept \"%s\": <any-of> k=\"%s\" is invalid: expected a positive "
                "integer (k >= 1)", p->c->concepts[ci].id, ks);
            return;
        }
        k = (uint32_t)v;
    }
    size_t n = 0;
    for (const xmlNode *o = g->children; o; o = o->next) n += is_el(o, "option");
    if (n == 0) {
        ERR(p, g, NULL, "concept \"%s\": <any-of> has no <option>", p->c->concepts[ci].id);
        return;
    }
    if (k > n) {
        ERR(p, g, "k", "concept \"%s\": <any-of> asks for k=%u of only %zu option%s (k must "
            "be at most the number of options)", p->c->concepts[ci].id, k, n, n == 1 ? "" : "s");
        return;
    }
    kgg_group *grp = kgg_concept_add_group(p->c, &p->c->concepts[ci], k);
    if (!grp) { p->oom = 1; return; }
    for (const xmlNode *o = g->children; o; o = o->next) {
        if (o->type != XML_ELEMENT_NODE) continue;
        if (is_el(o, "reason")) {
            grp->reason = text_of(p, o);
        } else if (is_el(o, "option")) {
            const char *reason, *ref = read_edge(p, o, ci, &reason);
            if (!ref) continue;
            for (size_t i = 0; i < grp->nmembers; i++)
                if (strcmp(grp->members[i].target, ref) == 0) {
                    ERR(p, o, "ref", "concept \"%s\": <any-of> lists \"%s\" twice",
                        p->c->concepts[ci].id, ref);
                    ref = NULL;
                    break;
                }
            if (!ref) continue;
            kgg_ref *r = kgg_group_add_member(p->c, grp, ref, reason);
            if (!r) { p->oom = 1; return; }
            r->line = (uint32_t)xmlGetLineNo((xmlNode *)o);
        } else {
            WARN(p, o, NULL, "unknown element <%s> in <any-of> ignored", (const char *)o->name);
        }
    }
}

static void read_prerequisites(px *p, const xmlNode *pr, size_t ci)
{
    for (const xmlNode *e = pr->children; e; e = e->next) {
        if (e->type != XML_ELEMENT_NODE) continue;
        kgg_concept *k = &p->c->concepts[ci];
        if (is_el(e, "require") || is_el(e, "recommend")) {
            int req = is_el(e, "require");
            const char *reason, *ref = read_edge(p, e, ci, &reason);
            if (!ref) continue;
            if (req) {
                for (size_t i = 0; i < k->ngroups; i++)
                    if (k->groups[i].k == 1 && k->groups[i].nmembers == 1 &&
                        strcmp(k->groups[i].members[0].target, ref) == 0)
                        WARN(p, e, "ref", "concept \"%s\" requires \"%s\" twice", k->id, ref);
            }
            kgg_ref *r = req ? kgg_concept_add_require(p->c, k, ref, reason)
                             : kgg_concept_add_recommend(p->c, k, ref, reason);
            if (!r) { p->oom = 1; return; }
            r->line = (uint32_t)xmlGetLineNo((xmlNode *)e);
        } else if (is_el(e, "any-of")) {
            read_group(p, e, ci);
        } else {
            WARN(p, e, NULL, "unknown element <%s> in <prerequisites> ignored", (const char *)e->name);
        }
    }
}

static void read_resource(px *p, const xmlNode *e, size_t ci)
{
    char what[200];
    snprintf(what, sizeof what, "concept \"%s\": <resource>", p->c->concepts[ci].id);
    double m = read_minutes(p, e, what);
    char *title = text_of(p, e);
    if (!title) {
        ERR(p, e, NULL, "%s has no title (its text)", what);
        return;
    }
    static const char *const kinds[] = { "book", "reading", "article", "paper", "video",
        "lecture", "exercise", "quiz", "project", "interactive", "software", "other", NULL };
    char *kind = attr_of(p, e, "kind");
    int known = !kind;
    for (size_t i = 0; kind && kinds[i] && !known; i++) known = strcmp(kinds[i], kind) == 0;
    if (!known)
        WARN(p, e, "kind", "%s: unknown kind \"%s\" kept as written", what, kind);
    kgg_resource *r = kgg_concept_add_resource(p->c, &p->c->concepts[ci]);
    if (!r) { p->oom = 1; return; }
    r->title = title;
    r->kind = kind && kind[0] ? kind : NULL;
    r->url = attr_of(p, e, "url");
    if (r->url && !r->url[0]) r->url = NULL;
    r->minutes = m >= 0 ? m : -1;
}

/* <description>: plain text, or <p> paragraphs joined by a blank line. */
static char *read_description(px *p, const xmlNode *d)
{
    size_t np = 0;
    for (const xmlNode *e = d->children; e; e = e->next) np += is_el(e, "p");
    if (np == 0) return text_of(p, d);
    char *out = NULL;
    for (const xmlNode *e = d->children; e; e = e->next) {
        if (!is_el(e, "p")) continue;
        char *t = text_of(p, e);
        if (!t) continue;
        out = out ? kg_arena_printf(p->c->arena, "%s\n\n%s", out, t) : t;
        if (!out) { p->oom = 1; return NULL; }
    }
    return out;
}

static void read_concept(px *p, const xmlNode *n, int32_t unit)
{
    char *id = attr_of(p, n, "id");
    if (!id) { ERR(p, n, NULL, "<concept> has no id attribute"); return; }
    if (!valid_id(id, strlen(id))) {
        ERR(p, n, "id", "invalid concept id \"%s\" (letters, digits, '_', '.' and '-', "
            "starting with a letter or digit, at most 128 characters)", id);
        return;
    }
    void *seen = xmlHashLookup(p->ids, (const xmlChar *)id);
    if (seen) {
        const kgg_concept *first = &p->c->concepts[(uintptr_t)seen - 1];
        ERR(p, n, "id", "duplicate concept id \"%s\" (first defined at line %u)", id, first->line);
        return;
    }
    const xmlNode *tn = NULL;
    for (const xmlNode *e = n->children; e && !tn; e = e->next)
        if (is_el(e, "title")) tn = e;
    char *title = tn ? text_of(p, tn) : NULL;
    if (!title) ERR(p, tn ? tn : n, NULL, "concept \"%s\" has no title", id);

    kgg_concept *k = kgg_course_add_concept(p->c, id, title ? title : id);
    if (!k) { p->oom = 1; return; }
    size_t ci = p->c->nconcepts - 1;
    if (xmlHashAddEntry(p->ids, (const xmlChar *)id, (void *)(uintptr_t)(ci + 1))) { p->oom = 1; return; }
    k->line = (uint32_t)xmlGetLineNo((xmlNode *)n);
    k->unit = unit;

    char what[200];
    snprintf(what, sizeof what, "concept \"%s\"", id);
    double m = read_minutes(p, n, what);
    k->minutes = m >= 0 ? m : -1;
    char *ds = attr_of(p, n, "difficulty");
    if (ds) {
        double d;
        if (parse_decimal(ds, &d) || d < 1 || d > 5)
            ERR(p, n, "difficulty", "concept \"%s\": difficulty \"%s\" is invalid: expected a "
                "number from 1 (introductory) to 5 (expert)", id, ds);
        else
            k->difficulty = (d - 1) / 4;       /* the model's 0..1 scale */
    }

    for (const xmlNode *e = n->children; e; e = e->next) {
        if (e->type != XML_ELEMENT_NODE || e == tn) continue;
        k = &p->c->concepts[ci];
        if (is_el(e, "summary")) {
            k->summary = text_of(p, e);
        } else if (is_el(e, "description")) {
            k->description = read_description(p, e);
        } else if (is_el(e, "goal") || is_el(e, "tag")) {
            char *t = text_of(p, e);
            if (!t) { WARN(p, e, NULL, "%s: empty <%s> ignored", what, (const char *)e->name); continue; }
            if ((is_el(e, "goal") ? kgg_concept_add_goal : kgg_concept_add_tag)(p->c, k, t))
                p->oom = 1;
        } else if (is_el(e, "resource")) {
            read_resource(p, e, ci);
        } else if (is_el(e, "prerequisites")) {
            read_prerequisites(p, e, ci);
        } else {
            WARN(p, e, NULL, "%s: unknown element <%s> ignored", what, (const char *)e->name);
        }
        if (p->oom) return;
    }
}

static void read_unit(px *p, const xmlNode *u)
{
    char *id = attr_of(p, u, "id");
    if (!id || !valid_id(id, strlen(id))) {
        ERR(p, u, id ? "id" : NULL, "<unit> needs a valid id attribute (got %s%s%s)",
            id ? "\"" : "", id ? id : "none", id ? "\"" : "");
        return;
    }
    void *seen = xmlHashLookup(p->unit_ids, (const xmlChar *)id);
    if (seen) {
        ERR(p, u, "id", "duplicate unit id \"%s\" (first defined at line %u)", id,
            (unsigned)(uintptr_t)seen);
        return;
    }
    if (xmlHashAddEntry(p->unit_ids, (const xmlChar *)id,
                        (void *)(uintptr_t)(xmlGetLineNo((xmlNode *)u) > 0 ? xmlGetLineNo((xmlNode *)u) : 1))) {
        p->oom = 1;
        return;
    }
    const xmlNode *tn = NULL;
    for (const xmlNode *e = u->children; e && !tn; e = e->next)
        if (is_el(e, "title")) tn = e;
    char *title = tn ? text_of(p, tn) : NULL;
    if (!title) ERR(p, tn ? tn : u, NULL, "unit \"%s\" has no title", id);
    if (!kgg_course_add_unit(p->c, id, title ? title : id)) { p->oom = 1; return; }
    int32_t ui = (int32_t)(p->c->nunits - 1);
    size_t before = p->c->nconcepts;
    for (const xmlNode *e = u->children; e && !p->oom; e = e->next) {
        if (e->type != XML_ELEMENT_NODE || e == tn) continue;
        if (is_el(e, "concept")) read_concept(p, e, ui);
        else WARN(p, e, NULL, "unit \"%s\": unknown element <%s> ignored", id, (const char *)e->name);
    }
    if (p->c->nconcepts == before) WARN(p, u, NULL, "unit \"%s\" has no concepts", id);
}

static void read_course(px *p, const xmlNode *root)
{
    kgg_course *c = p->c;
    char *id = attr_of(p, root, "id");
    if (!id) ERR(p, root, NULL, "<course> has no id attribute");
    else if (!valid_id(id, strlen(id)))
        ERR(p, root, "id", "invalid course id \"%s\" (letters, digits, '_', '.' and '-', "
            "starting with a letter or digit)", id);
    else c->id = id;

    xmlChar *lang = xmlGetNsProp(root, (const xmlChar *)"lang", XML_XML_NAMESPACE);
    if (!lang) {
        ERR(p, root, NULL, "<course> has no xml:lang attribute (a BCP 47 language tag such as "
            "\"en\" or \"zh-Hans\")");
    } else {
        char *l = trim_copy(p, (const char *)lang);
        xmlFree(lang);
        if (l && !valid_lang(l))
            ERR(p, root, "xml:lang", "invalid language tag \"%s\" (expected BCP 47, such as "
                "\"en\", \"zh-Hans\" or \"pt-BR\")", l);
        else c->language = l;
    }
    c->version = attr_of(p, root, "version");
    if (c->version && !c->version[0]) c->version = NULL;

    const xmlNode *tn = NULL;
    for (const xmlNode *e = root->children; e && !tn; e = e->next)
        if (is_el(e, "title")) tn = e;
    c->title = tn ? text_of(p, tn) : NULL;
    if (!c->title) ERR(p, tn ? tn : root, NULL, "<course> has no title");

    for (const xmlNode *e = root->children; e && !p->oom; e = e->next) {
        if (e->type != XML_ELEMENT_NODE || e == tn) continue;
        if (is_el(e, "unit")) read_unit(p, e);
        else if (is_el(e, "concept")) read_concept(p, e, -1);
        else WARN(p, e, NULL, "unknown element <%s> in <course> ignored", (const char *)e->name);
    }
    if (!p->oom && c->nconcepts == 0 && !kgg_course_nerrors(c))
        ERR(p, root, NULL, "course \"%s\" has no concepts", c->id ? c->id : "?");

    /* Same-course references must name a concept of the course. */
    for (size_t i = 0; i < p->nrefs && !p->oom; i++) {
        const pending_ref *r = &p->refs[i];
        if (!xmlHashLookup(p->ids, (const xmlChar *)r->local))
            ERR(p, r->node, "ref", "concept \"%s\": <%s ref=\"%s\"> names no concept of course "
                "\"%s\" (dangling reference)", c->concepts[r->concept].id,
                (const char *)r->node->name, r->local, c->id ? c->id : "?");
    }
}

static int utf8_name(const char *enc)
{
    return strcasecmp(enc, "UTF-8") == 0 || strcasecmp(enc, "UTF8") == 0;
}

kgg_course *kgi_kgxml_parse(const char *buf, size_t len, const char *name,
                            const kgi_options *opt)
{
    kgg_course *c = kgg_course_new();
    if (!c) return NULL;
    px p = { .c = c, .name = name, .buf = buf ? buf : "", .len = buf ? len : 0 };
    c->format = kgg_course_str(c, "kgxml");
    c->source = kgg_course_str(c, name);
    if (!c->format || (name && !c->source)) goto oom;

    if (p.len >= 3 && memcmp(p.buf, "\xEF\xBB\xBF", 3) == 0) { p.buf += 3; p.len -= 3; }
    size_t bad;
    uint32_t line, col;
    if (kgi_utf8_check(p.buf, p.len, &bad, &line, &col)) {
        kgg_course_diag(c, KGG_ERROR, name, line, col, "invalid UTF-8 (byte 0x%02X at offset %zu); "
                        "kgxml files must be UTF-8", (unsigned char)p.buf[bad],
                        bad + (size_t)(p.buf - (buf ? buf : "")));
        return c;
    }

    xmlInitParser();
    xmlDocPtr doc = kgi_xml_parse(p.buf, p.len, name, c, NULL, 0);
    if (!doc) return c;
    if (doc->encoding && !utf8_name((const char *)doc->encoding)) {
        kgg_course_diag(c, KGG_ERROR, name, 1, 1, "the XML declaration says encoding=\"%s\"; "
                        "kgxml files must be UTF-8", (const char *)doc->encoding);
        goto done;
    }
    xmlNode *root = xmlDocGetRootElement(doc);
    if (!root) {
        kgg_course_diag(c, KGG_ERROR, name, 1, 1, "no root element");
        goto done;
    }
    if (!is_el(root, "course")) {
        const char *uri = root->ns && root->ns->href ? (const char *)root->ns->href : NULL;
        if (strcmp((const char *)root->name, "course") == 0)
            ERR(&p, root, NULL, "the root <course> is %s%s%s; kgxml needs "
                "xmlns=\"" NS "\"", uri ? "in namespace \"" : "in no namespace",
                uri ? uri : "", uri ? "\"" : "");
        else
            ERR(&p, root, NULL, "the root element is <%s>; a kgxml document starts with "
                "<course xmlns=\"" NS "\">", (const char *)root->name);
        goto done;
    }
    if ((!opt || opt->validate_schema) && validate(&p, doc, opt)) goto done;
    if (p.oom) goto done;

    p.ids = xmlHashCreate(64);
    p.unit_ids = xmlHashCreate(16);
    if (!p.ids || !p.unit_ids) { p.oom = 1; goto done; }
    read_course(&p, root);

done:
    if (p.ids) xmlHashFree(p.ids, NULL);
    if (p.unit_ids) xmlHashFree(p.unit_ids, NULL);
    kg_free(p.lines);
    kg_free(p.refs);
    xmlFreeDoc(doc);
    if (p.oom) goto oom;
    return c;
oom:
    kgg_course_free(c);
    return NULL;
}
