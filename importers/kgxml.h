/* kgxml: kgpath's native course format (importers/kgxml.c).
 *
 * The parser itself, kgi_kgxml_parse, is declared with the other importers
 * in importers/importers.h. The format is specified by the RELAX NG schema
 * data/schema/kgxml.rng (a copy is compiled into the library) and documented
 * in the README section "The kgxml course format".
 */
#ifndef KGI_KGXML_H
#define KGI_KGXML_H

#include <stddef.h>

/* Namespace URI of kgxml 1 documents. */
#define KGI_KGXML_NS "https://kgpath.org/ns/course/1"

/* The built-in RELAX NG schema (NUL-terminated text); its length in bytes
 * goes to *len when len is not NULL. Static storage, never NULL. O(1). */
const char *kgi_kgxml_schema(size_t *len);

#endif
