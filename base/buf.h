/* kg_buf: the one growable byte buffer every kgpath layer uses.
 *
 * Text renderers (plans, maps, metrics, JSON lines), importers (CSV fields,
 * HTML text) and the store's record encoder all append to a kg_buf. Memory
 * comes from kg_malloc (base/alloc.h), so an embedding application's
 * allocator is honoured.
 *
 * Errors are sticky, in the manner of stdio's ferror: an append that runs out
 * of memory sets `oom` and every later append does nothing, so a caller
 * appends freely and checks `oom` once at the end. The contents are always
 * NUL-terminated once non-empty (data[len] == 0), so text can be used as a C
 * string; binary contents may hold NULs of their own.
 */
#ifndef KG_BUF_H
#define KG_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct kg_buf {
    char *data;             /* NULL until the first append */
    size_t len, cap;
    int oom;                /* set when an append ran out of memory */
} kg_buf;

/* Frees the contents and resets b to empty (oom cleared). */
void kg_buf_free(kg_buf *b);
/* Takes the contents (a kg_malloc'ed NUL-terminated string, "" when empty;
 * NULL when b->oom or out of memory) and resets b. */
char *kg_buf_take(kg_buf *b);

/* Appends n bytes. Amortised O(n). */
void kg_buf_put(kg_buf *b, const void *p, size_t n);
/* Appends a C string; NULL appends nothing. */
void kg_buf_puts(kg_buf *b, const char *s);
void kg_buf_printf(kg_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s after sep when both b and s are non-empty; s alone otherwise. */
void kg_buf_join(kg_buf *b, const char *sep, const char *s);
/* Appends s escaped for XML/HTML text and attribute values (& < > " ').
 * Control characters that XML 1.0 forbids (U+0001-U+001F other than tab,
 * line feed and carriage return) become U+FFFD, so the output stays
 * well-formed whatever an old database holds. */
void kg_buf_xml(kg_buf *b, const char *s);
/* Appends s unescaped but with the same forbidden control characters
 * replaced by U+FFFD: for writers that escape by themselves (libxml2's
 * xmlTextWriter writes them as character references, which XML 1.0 also
 * forbids). */
void kg_buf_xml_chars(kg_buf *b, const char *s);
/* Non-zero when s holds a control character XML 1.0 forbids. O(strlen). */
int kg_xml_bad_char(const char *s);

/* What a Graphviz string attribute holds (kg_buf_gv's mode). */
enum {
    KG_GV_LABEL,    /* a label: an escString whose lines Graphviz unescapes */
    KG_GV_TOOLTIP,  /* a tooltip, which Graphviz unescapes twice */
    KG_GV_ID        /* an id set through cgraph (agsafeset): Graphviz reads
                       its backslash escapes ("\N", "\\") and nothing else */
};
/* Appends s for a Graphviz string attribute, so that Graphviz shows (or
 * writes, for an id) s as written. A label or tooltip goes inside double
 * quotes (the caller writes them; DOT text or cgraph's agsafeset alike):
 * '"' as \", '&' as "&amp;" (Graphviz decodes HTML entities in labels and
 * tooltips), a line feed as "\n", other control characters (which SVG
 * cannot hold) as a space, and a backslash as "\\" in a label, where "\N"
 * or "\l" would be an escape -- or as four in a tooltip, which Graphviz
 * unescapes twice (lib/common/emit.c: interpretCRNL, then
 * strdup_and_subst_obj). In an id (KG_GV_ID) only the backslash is doubled
 * and every control character is a space: Graphviz decodes neither "\""
 * nor entities there, and writes the id to SVG escaped itself. */
void kg_buf_gv(kg_buf *b, const char *s, int mode);
/* kg_buf_gv of the first n bytes of s (a line of a wrapped label). */
void kg_buf_gv_n(kg_buf *b, const char *s, size_t n, int mode);

/* Binary encoding (the store's records): an unsigned LEB128 varint, and a
 * length-prefixed string: varint(strlen + 1) then the bytes with their NUL,
 * or varint 0 for NULL, so NULL and "" stay distinct. */
void kg_buf_varint(kg_buf *b, uint64_t v);
void kg_buf_lpstr(kg_buf *b, const char *s);

#endif
