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

#include "graph/alloc.h"

/* A concept reference (an edge end) with the edge's reason text. */
typedef struct kgg_ref {
    char *target;           /* "concept" or "course:concept" as written */
    char *reason;           /* NULL when none */
    uint32_t line;          /* source line for messages, 0 unknown */
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
    kgg_unit *units;        size_t nunits, cap_units;
    kgg_concept *concepts;  size_t nconcepts, cap_concepts;
    kgg_diag *diags;        size_t ndiags, cap_diags;
} kgg_course;

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
/* Number of diagnostics with severity KGG_ERROR. */
size_t kgg_course_nerrors(const kgg_course *c);

/* Index of the concept with this id, or -1. O(n). */
long kgg_course_find(const kgg_course *c, const char *id);

/* Total minutes of a concept: its own estimate plus its resources' minutes
 * (unknown parts count 0); < 0 when every part is unknown. */
double kgg_concept_total_minutes(const kgg_concept *k);

#endif
