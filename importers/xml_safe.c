#include "importers/xml_safe.h"

#include <stdio.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include "graph/course_model.h"

/* Never XML_PARSE_NOENT (entity substitution), XML_PARSE_DTDLOAD (external
 * DTD) or XML_PARSE_HUGE; always XML_PARSE_NONET. */
/* XML_PARSE_BIG_LINES: true line numbers past 65535 in messages. */
#define KGI_XML_OPTIONS  (XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR | XML_PARSE_NOCDATA | \
                          XML_PARSE_BIG_LINES)
#define KGI_HTML_OPTIONS (HTML_PARSE_NONET | HTML_PARSE_NOWARNING | HTML_PARSE_NOERROR | \
                          HTML_PARSE_RECOVER | HTML_PARSE_NOIMPLIED)

static void silent_handler(void *ctx, const char *msg, ...) { (void)ctx; (void)msg; }

static void report(kgg_course *c, char *errbuf, size_t errlen, const char *name,
                   int line, int col, const char *msg)
{
    char m[512];
    snprintf(m, sizeof m, "%s", msg ? msg : "malformed XML");
    size_t l = strlen(m);
    while (l && (m[l - 1] == '\n' || m[l - 1] == ' ')) m[--l] = 0;
    if (c) kgg_course_diag(c, KGG_ERROR, name, (uint32_t)(line > 0 ? line : 0),
                           (uint32_t)(col > 0 ? col : 0), "%s", m);
    if (errbuf && errlen)
        snprintf(errbuf, errlen, "%s:%d:%d: %s", name ? name : "-", line, col, m);
}

/* A DOCTYPE with an internal subset that declares entities is refused
 * outright: real course exports never need one, and refusing is simpler to
 * reason about than bounding expansion. */
static int declares_entities(xmlDocPtr doc)
{
    xmlDtdPtr dtd = doc->intSubset;
    if (dtd) {
        for (xmlNode *n = dtd->children; n; n = n->next)
            if (n->type == XML_ENTITY_DECL) return 1;
        if (dtd->ExternalID || dtd->SystemID) return 2;
    }
    return 0;
}

/* Line and column of "<!DOCTYPE" (libxml2 keeps no line for the DTD node);
 * 1:1 when not found. */
static void doctype_pos(const char *buf, size_t len, int *line, int *col)
{
    for (size_t i = 0; i + 9 <= len; i++)
        if (buf[i] == '<' && memcmp(buf + i, "<!DOCTYPE", 9) == 0) {
            uint32_t l, c;
            kgi_text_position(buf, len, i, &l, &c);
            *line = (int)l;
            *col = (int)c;
            return;
        }
}

xmlDocPtr kgi_xml_parse(const char *buf, size_t len, const char *name,
                        kgg_course *c, char *errbuf, size_t errlen)
{
    if (len >= 3 && (unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB &&
        (unsigned char)buf[2] == 0xBF) { buf += 3; len -= 3; }
    if (len == 0) {
        report(c, errbuf, errlen, name, 1, 1, "empty file");
        return NULL;
    }
    if (len > (size_t)INT32_MAX) {
        report(c, errbuf, errlen, name, 0, 0, "file too large");
        return NULL;
    }
    xmlGenericErrorFunc old = xmlGenericError;
    (void)old;
    xmlSetGenericErrorFunc(NULL, silent_handler);
    xmlParserCtxtPtr ctx = xmlNewParserCtxt();
    if (!ctx) { report(c, errbuf, errlen, name, 0, 0, "out of memory"); return NULL; }
    xmlDocPtr doc = xmlCtxtReadMemory(ctx, buf, (int)len, name, NULL, KGI_XML_OPTIONS);
    if (!doc || !ctx->wellFormed) {
        const xmlError *e = xmlCtxtGetLastError(ctx);
        report(c, errbuf, errlen, name, e ? e->line : 0, e ? e->int2 : 0,
               e && e->message ? e->message : "malformed XML");
        if (doc) xmlFreeDoc(doc);
        xmlFreeParserCtxt(ctx);
        return NULL;
    }
    xmlFreeParserCtxt(ctx);
    int ent = declares_entities(doc);
    if (ent) {
        int dl = 1, dc = 1;
        doctype_pos(buf, len, &dl, &dc);
        report(c, errbuf, errlen, name, dl, dc,
               ent == 1 ? "entity declarations are not allowed (DOCTYPE with ENTITY refused)"
                        : "external DTDs are not allowed");
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

xmlDocPtr kgi_html_parse(const char *buf, size_t len, const char *name)
{
    if (len > (size_t)INT32_MAX) return NULL;
    xmlSetGenericErrorFunc(NULL, silent_handler);
    return htmlReadMemory(buf, (int)len, name, "UTF-8", KGI_HTML_OPTIONS);
}

int kgi_xml_is(const xmlNode *n, const char *ns, const char *name)
{
    if (!n || n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, name) != 0)
        return 0;
    const char *uri = n->ns && n->ns->href ? (const char *)n->ns->href : NULL;
    if (!ns) return uri == NULL;
    return uri && strcmp(uri, ns) == 0;
}

xmlNode *kgi_xml_next(const xmlNode *after, const char *ns, const char *name)
{
    for (xmlNode *n = after ? after->next : NULL; n; n = n->next)
        if (kgi_xml_is(n, ns, name)) return n;
    return NULL;
}

xmlNode *kgi_xml_child(const xmlNode *parent, const char *ns, const char *name)
{
    for (xmlNode *n = parent ? parent->children : NULL; n; n = n->next)
        if (kgi_xml_is(n, ns, name)) return n;
    return NULL;
}

char *kgi_xml_attr(const xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
    if (!v) return NULL;
    char *r = kg_strdup((const char *)v);
    xmlFree(v);
    return r;
}

char *kgi_xml_text(const xmlNode *n)
{
    xmlChar *v = xmlNodeGetContent(n);
    const char *s = v ? (const char *)v : "";
    size_t len = strlen(s);
    char *out = kg_malloc(len + 1);
    if (!out) { if (v) xmlFree(v); return NULL; }
    size_t o = 0;
    int space = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') { space = 1; continue; }
        if (space && o) out[o++] = ' ';
        space = 0;
        out[o++] = (char)ch;
    }
    out[o] = 0;
    if (v) xmlFree(v);
    return out;
}

void kgi_text_position(const char *buf, size_t len, size_t off,
                       uint32_t *line, uint32_t *column)
{
    uint32_t l = 1, col = 1;
    if (off > len) off = len;
    for (size_t i = 0; i < off; i++) {
        unsigned char ch = (unsigned char)buf[i];
        if (ch == '\n' || (ch == '\r' && (i + 1 >= len || buf[i + 1] != '\n'))) {
            l++;
            col = 1;
        } else if ((ch & 0xC0) != 0x80 && ch != '\r') {
            col++;              /* count lead bytes only: characters, not bytes */
        }
    }
    if (line) *line = l;
    if (column) *column = col;
}

int kgi_utf8_check(const char *buf, size_t len, size_t *bad_offset,
                   uint32_t *line, uint32_t *column)
{
    size_t i = kgg_utf8_prefix(buf, len);
    if (i == len) return 0;
    if (bad_offset) *bad_offset = i;
    kgi_text_position(buf, len, i, line, column);
    return -1;
}
