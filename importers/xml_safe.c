#include "importers/xml_safe.h"

#include <stdio.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>

/* Never XML_PARSE_NOENT (entity substitution), XML_PARSE_DTDLOAD (external
 * DTD) or XML_PARSE_HUGE; always XML_PARSE_NONET. */
#define KGI_XML_OPTIONS  (XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR | XML_PARSE_NOCDATA)
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
        report(c, errbuf, errlen, name, doc->intSubset ? (int)xmlGetLineNo((xmlNode *)doc->intSubset) : 1, 1,
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
