/* The course model: what every importer produces and the store's writer
 * consumes (graph/store.h). One kgg_course per imported course.
 *
 * All strings and arrays of a course live in the course's arena, so a course
 * is freed in one call (kgg_course_free) and importers never free pieces.
 * Arrays grow through the kgg_course_add_* functions; a pointer returned by
 * one of them stays valid only until the next add of the same kind (the array
 * may move), so keep indexes, not pointers, across adds.
 *
 * References between concepts are kept as written: "concept" within the same
 * course, or "course:concept" across courses. The writer resolves them.
 */
#ifndef KGG_COURSE_MODEL_H
#define KGG_COURSE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "base/alloc.h"

/* A concept reference (an edge end) with the edge's reason text. */
typedef struct kgg_ref {
    char *target;           /* "concept" or "course:concept" as written */
    char *reason;           /* NULL when none */
    uint32_t line;          /* source line for messages, 0 unknown */
    uint32_t col;           /* source column (1-based) for messages, 0 unknown */
} kgg_ref;

/* k of the members must be learned first. A plain (AND) prerequisite is a
 * group with k = 1 and one member; "any of" is k = 1 of n. 1 <= k <= n. */
typedef struct kgg_group {
    uint32_t k;
    kgg_ref *members;
    size_t nmembers, cap_members;
    char *reason;           /* reason for the group as a whole, or NULL */
} kgg_group;

typedef struct kgg_resource {
    char *title, *url, *kind;   /* kind: "video", "reading", "exercise", … or NULL */
    double minutes;             /* < 0: unknown */
} kgg_resource;

typedef struct kgg_concept {
    char *id;               /* unique within the course; [A-Za-z0-9_.-]+ after normalisation */
    char *title;
    char *summary;          /* short text, or NULL */
    char *description;      /* longer text, or NULL */
    char **goals;   size_t ngoals, cap_goals;     /* learning goals */
    char **tags;    size_t ntags, cap_tags;
    double minutes;         /* author's estimate for the concept itself; < 0 unknown */
    double difficulty;      /* 0..1 (or the format's scale normalised); < 0 unknown */
    int32_t unit;           /* index into kgg_course.units, -1 none */
    kgg_resource *resources; size_t nresources, cap_resources;
    kgg_group *groups;      size_t ngroups, cap_groups;     /* required */
    kgg_ref *recommends;    size_t nrecommends, cap_recommends; /* soft edges */
    uint32_t line;          /* source line of the concept, 0 unknown */
} kgg_concept;

typedef struct kgg_unit {
    char *id, *title;       /* units order concepts; array order is course order */
} kgg_unit;

typedef enum kgg_severity { KGG_WARNING = 1, KGG_ERROR = 2 } kgg_severity;

/* A diagnostic about the input: "file:line:column: message". */
typedef struct kgg_diag {
    kgg_severity severity;
    char *file;             /* may be NULL */
    uint32_t line, column;  /* 0 unknown */
    char *message;
} kgg_diag;

typedef struct kgg_course {
    kg_arena *arena;
    char *id, *title, *language, *version;
    char *source;           /* path (or package!entry) it came from */
    char *format;           /* "kgxml", "olx", "scorm12", "scorm2004", "imscc", "moodle", "csv" */
    char *identity;         /* source identity (kgg_course_set_identity), NULL until set */
    unsigned flags;         /* KGG_COURSE_* */
    int course_order;       /* 1: the authored order binds by default (import
                               --course-order required; planner/course_order.c);
                               0: it only recommends (the default) */
    kgg_unit *units;        size_t nunits, cap_units;
    kgg_concept *concepts;  size_t nconcepts, cap_concepts;
    kgg_diag *diags;        size_t ndiags, cap_diags;
    /* Set when an allocation failed while building (the course is then
     * incomplete: the importer must fail with KGP_ENOMEM, never store it). */
    int oom;
    /* Set once KGG_MAX_ERRORS errors are recorded: later errors are only
     * counted (ndropped; warnings past 10 * KGG_MAX_ERRORS diagnostics in
     * ndropped_warnings) and the report says how many were not shown. */
    int too_many;
    size_t nkept_errors, ndropped, ndropped_warnings;
} kgg_course;

/* kgg_course.flags: replace a stored course of the same id even when it
 * looks like another course (other identity and other title). */
#define KGG_COURSE_REPLACE 0x1u

/* Error diagnostics kept per course (later ones are counted; the import
 * report ends with "N more errors not shown"). */
#define KGG_MAX_ERRORS 100

/* Creates an empty course. NULL when out of memory. */
kgg_course *kgg_course_new(void);
void kgg_course_free(kgg_course *c);

/* Copies s into the course arena (NULL stays NULL). */
char *kgg_course_str(kgg_course *c, const char *s);
char *kgg_course_strn(kgg_course *c, const char *s, size_t n);

/* Appends a zeroed element (minutes/difficulty = -1, unit = -1 for concepts;
 * minutes = -1 for resources) and returns it, NULL when out of memory. */
kgg_concept  *kgg_course_add_concept(kgg_course *c, const char *id, const char *title);
kgg_unit     *kgg_course_add_unit(kgg_course *c, const char *id, const char *title);
kgg_resource *kgg_concept_add_resource(kgg_course *c, kgg_concept *k);
kgg_group    *kgg_concept_add_group(kgg_course *c, kgg_concept *k, uint32_t kk);
kgg_ref      *kgg_group_add_member(kgg_course *c, kgg_group *g, const char *target, const char *reason);
kgg_ref      *kgg_concept_add_recommend(kgg_course *c, kgg_concept *k, const char *target, const char *reason);
int           kgg_concept_add_goal(kgg_course *c, kgg_concept *k, const char *goal);
int           kgg_concept_add_tag(kgg_course *c, kgg_concept *k, const char *tag);
/* Convenience: a plain required prerequisite (group k=1 of 1). */
kgg_ref      *kgg_concept_add_require(kgg_course *c, kgg_concept *k, const char *target, const char *reason);

/* Records a diagnostic (message formatted printf-style). Returns 0 or -1. */
int kgg_course_diag(kgg_course *c, kgg_severity sev, const char *file,
                    uint32_t line, uint32_t column, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Number of diagnostics with severity KGG_ERROR (dropped ones included). O(1). */
size_t kgg_course_nerrors(const kgg_course *c);

/* Index of the concept with this id, or -1. O(n). */
long kgg_course_find(const kgg_course *c, const char *id);

/* Total minutes of a concept: its own estimate plus its resources' minutes
 * (unknown parts count 0); < 0 when every part is unknown. */
double kgg_concept_total_minutes(const kgg_concept *k);

/* ---- identity and text checks ---- */

/* Length of the longest prefix of s[0..n) that is valid UTF-8 (no overlong
 * forms, surrogates or code points above U+10FFFF); n when all of it is.
 * O(n). */
size_t kgg_utf8_prefix(const char *s, size_t n);

/* What kgg_course_digest covers besides units and concepts. */
#define KGG_DIGEST_ID   0x1u    /* the course id */
#define KGG_DIGEST_META 0x2u    /* title, language, version, format */

/* 64-bit FNV-1a digest of the course's canonical content: units, then
 * concepts (ids, text, minutes, difficulty, unit, line, goals, tags,
 * resources, requirement groups, recommendations), plus what `what` adds.
 * References to the course's own concepts count the same written as "x"
 * or "<course id>:x". The source path never counts, so the same content
 * read from "x", "./x/", an absolute path or a zip of x digests the same.
 * *bytes (when not NULL) receives the number of bytes digested, a measure of
 * the course's size. O(size of the course). */
uint64_t kgg_course_digest(const kgg_course *c, unsigned what, size_t *bytes);

/* Sets c->identity, unless already set, to "<format>:<id>@<16 hex digits>"
 * where the digest covers units and concepts only (not the title, not the
 * path): the same course keeps its identity through renames of its title or
 * its path, and two courses that share a template id (IMS CC "cctd0015")
 * but not their content get different identities. Call it before the id
 * is changed (--as, de-duplication) so that it names the course as its
 * format does. Returns 0, -1 when out of memory. O(size of the course). */
int kgg_course_set_identity(kgg_course *c);

/* Adds a KGG_ERROR diagnostic for every string of the course (id, title,
 * metadata, units, concept text, goals, tags, resources, references and
 * reasons) that is not valid UTF-8, naming the field and the concept
 * (the bad bytes are never copied into the message). Every importer's
 * course passes through the writer, which calls this, so no invalid UTF-8
 * reaches the database. Returns the number of such strings, or -1 when
 * out of memory. O(size of the course). */
long kgg_course_check_utf8(kgg_course *c);

#endif
