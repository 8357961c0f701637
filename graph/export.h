/* Whole-graph export of a snapshot: "json" (the versioned interface),
 * "dot" (Graphviz) and "graphml".
 *
 * JSON (kgpath_export version 1), one object:
 *   {"kgpath_export": 1, "generator": "kgpath X.Y.Z",
 *    "courses": [{"id", "title", "language", "version", "format", "concepts": N}],
 *    "concepts": [{"id": "course:concept", "title": "...", "course": "course",
 *                  "minutes": 30 | null, "difficulty": 0.4 | null,
 *                  "requires": [{"k": 1, "of": ["course:a"], "member_reasons": {"course:a": "..."}},
 *                               {"k": 2, "of": ["course:b", "course:c", "course:d"],
 *                                "reason": "..."}],
 *                  "recommends": ["course:e"], "recommend_reasons": {"course:e": "..."}}],
 *    "unresolved": [{"from": "course:x", "target": "other:y", "recommended": false}]}
 * Every requirement group of a concept is listed; a plain prerequisite is
 * k = 1 of one; "of" lists every member as written (resolved or not).
 * "member_reasons" / "recommend_reasons" map a resolved prerequisite's key
 * to its edge's reason (authored text, or the model and score of an
 * accepted suggestion); absent when no edge of the group / concept has one.
 * Concepts are in course-id order, then authored order.
 *
 * dot: a digraph with an edge prerequisite -> dependent per member
 * (label "k of n" for groups other than 1 of 1), dashed edges for
 * recommendations, one cluster per course.
 * graphml: nodes with key/title/course/minutes data, edges with kind
 * ("requires"/"recommends"), group index, k, n, the edge's own reason and
 * (requirements) its group's reason, each when there is one.
 */
#ifndef KGG_EXPORT_H
#define KGG_EXPORT_H

#include <stdio.h>

#include "graph/snapshot.h"
#include "graph/store.h"

/* Writes the snapshot to out in format ("json", "dot", "graphml").
 * Errors: KGP_EUSAGE (unknown format), KGP_EIO (write failed), KGP_ENOMEM.
 * O(V + E); the JSON is streamed concept by concept. */
kgp_status kgg_export(const kgg_snap *s, const char *format, FILE *out, kgg_err *e);

#endif
