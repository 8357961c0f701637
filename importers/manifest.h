/* IMS Content Packaging manifests (imsmanifest.xml), shared by SCORM 1.2,
 * SCORM 2004 and IMS Common Cartridge (scorm.c, imscc.c).
 *
 * Items of the default organization become concepts, in document order:
 *   concept id = item identifier made safe ([A-Za-z0-9_.-]; other bytes '_';
 *                a clash gets "-2", "-3", …), title = <title> (else the id);
 *   an item with child items (an aggregation) requires all its children
 *   (AND): SCORM counts an aggregation done when its items are; without a
 *   resource or a time of its own it takes 0 minutes (nothing to study);
 *   top-level aggregations are also units;
 *   consecutive items in course order get a recommended (soft) edge;
 *   in IMS CC, a leaf item without a resource (a text heading such as Canvas's
 *   "WATCH" / "READ: chapter 2" sub-headers) and a container whose items
 *   are all such headings are not concepts (nothing to study): their title
 *   is prepended to the next item's text (else appended to the enclosing
 *   item's), and kgi_mitem.heading holds it;
 *   text = the resource's launch HTML and its listed .html files as plain
 *   text, LOM general/description as the summary; minutes = LOM
 *   typicalLearningTime, else adlcp:maxtimeallowed (1.2), else
 *   imsss:attemptAbsoluteDurationLimit (2004).
 * The course id is the manifest identifier (made safe), the title the
 * organization's title (else the manifest LOM title).
 */
#ifndef KGI_MANIFEST_H
#define KGI_MANIFEST_H

#include <libxml/tree.h>

#include "importers/pkg.h"

typedef struct kgi_mitem {
    xmlNode *node;          /* the <item> */
    const char *ident;      /* identifier attribute (in the document) */
    size_t concept;         /* index in course->concepts */
    long parent;            /* index in items, -1 for top level */
    xmlNode *resource;      /* the resource it refers to, or NULL */
    const char *heading;    /* not a concept (concept == KGI_NO_CONCEPT): the
                               title of a text heading (a leaf without a
                               resource, such as Canvas's "READ: chapter 2"
                               sub-header) or of an empty container */
} kgi_mitem;

/* kgi_mitem.concept of an item that is not study material. */
#define KGI_NO_CONCEPT ((size_t)-1)

typedef struct kgi_manifest {
    kgi_pkg *pkg;
    const char *root;       /* package folder of the manifest */
    char file[1024];        /* display name for diagnostics */
    xmlDocPtr doc;
    xmlNode *manifest, *org;
    const char *cp_ns;      /* namespace URI of the manifest element */
    kgi_mitem *items; size_t nitems, cap;
    char base[1024];        /* package-relative base of resources (xml:base) */
    char **warned; size_t nwarned, capwarned;   /* missing files already reported */
    int headings;           /* 1: resource-less leaves are headings (IMS CC) */
} kgi_manifest;

/* Reads and parses root/imsmanifest.xml into course c and builds concepts
 * from its default organization (see above). format is the course format
 * name. Returns 0; -1 when the course cannot be built (an error diagnostic
 * has been recorded). Free with kgi_manifest_done. */
int kgi_manifest_load(kgi_manifest *m, kgi_pkg *p, const char *root, kgg_course *c,
                      const char *format);
void kgi_manifest_done(kgi_manifest *m);

/* Index of the item with this identifier, or -1. O(n). */
long kgi_manifest_item(const kgi_manifest *m, const char *ident);

/* Reads a package file (relative to the package): returns 0 and a
 * kg_malloc'ed buffer; else records a warning naming the file (once per
 * file) and returns 1 when it is missing, -1 for other problems. */
int kgi_manifest_read(kgi_manifest *m, kgg_course *c, const char *rel, uint32_t line,
                      char **buf, size_t *len);

/* The xml:base attribute of n, or NULL (kg_malloc'ed). */
char *kgi_xml_base(const xmlNode *n);

/* First descendant element (depth-first) whose local name equals name,
 * case-insensitively, any namespace; NULL when none. */
xmlNode *kgi_xml_find_local(xmlNode *n, const char *name);

/* LOM helpers: minutes of typicalLearningTime under lom (any LOM version),
 * -1 when none or unreadable, KGI_DURATION_OVER when above the bound; the
 * general/description text (kg_malloc'ed) or NULL. */
double kgi_lom_minutes(xmlNode *lom);
char *kgi_lom_description(xmlNode *lom);

#endif
