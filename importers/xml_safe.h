/* Safe XML and HTML reading for every importer.
 *
 * libxml2 is always called with XML_PARSE_NONET and never with
 * XML_PARSE_NOENT, XML_PARSE_DTDLOAD or XML_PARSE_HUGE: no external entities,
 * no network, no entity expansion beyond libxml2's built-in limits. Errors are
 * recorded as "file:line:column: message" diagnostics on the course model.
 * Elements are matched by namespace URI and local name, never by prefix.
 */
#ifndef KGI_XML_SAFE_H
#define KGI_XML_SAFE_H

#include <stddef.h>
#include <stdint.h>
#include <libxml/tree.h>

#include "graph/course_model.h"

/* Parses an XML document from memory. name is the file name for messages.
 * A UTF-8 BOM, a missing XML declaration, CRLF and bare CR are accepted.
 * A DOCTYPE that declares entities is refused (XXE / entity bombs).
 * Returns the document, or NULL with an error diagnostic on `diag_course`
 * (which may be NULL, then the message goes to errbuf when not NULL). */
xmlDocPtr kgi_xml_parse(const char *buf, size_t len, const char *name,
                        kgg_course *diag_course, char *errbuf, size_t errlen);

/* Parses HTML (libxml2's HTML parser, same safety options). NULL on failure. */
xmlDocPtr kgi_html_parse(const char *buf, size_t len, const char *name);

/* The element's namespace URI is ns (NULL: no namespace) and its local name
 * is name. */
int kgi_xml_is(const xmlNode *n, const char *ns, const char *name);

/* First child element with that namespace and local name, or NULL. */
xmlNode *kgi_xml_child(const xmlNode *parent, const char *ns, const char *name);
/* Next sibling element after `after` with that namespace and name, or NULL. */
xmlNode *kgi_xml_next(const xmlNode *after, const char *ns, const char *name);

/* Attribute value (no namespace) as a malloc'ed (kg_malloc) string, or NULL. */
char *kgi_xml_attr(const xmlNode *n, const char *name);

/* Text content of an element with whitespace runs collapsed to one space and
 * trimmed; kg_malloc'ed, never NULL unless out of memory. */
char *kgi_xml_text(const xmlNode *n);

/* Checks that buf holds well-formed UTF-8 (no overlong forms, surrogates or
 * code points above U+10FFFF). Returns 0 when it does; otherwise -1 with the
 * offending byte's offset in *bad_offset and its position in *line and
 * *column (1-based; the column counts characters, not bytes; "\r\n", "\n"
 * and a bare "\r" end a line, as libxml2 counts them). Any output pointer
 * may be NULL. O(len). */
int kgi_utf8_check(const char *buf, size_t len, size_t *bad_offset,
                   uint32_t *line, uint32_t *column);

/* Line and column (1-based, column in characters) of byte offset off in
 * buf, counted as kgi_utf8_check does. O(off). */
void kgi_text_position(const char *buf, size_t len, size_t off,
                       uint32_t *line, uint32_t *column);

#endif
