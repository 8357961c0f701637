/** @file kgpath_map.h
 * @brief Curriculum map: the graph (or part of it) laid out by Graphviz as
 * SVG (implemented in src/api_map.c over libgvc). Included by kgpath.h.
 *
 * The map is what a curriculum designer looks at: concepts as boxes
 * (grouped by course, or by unit when one course is shown), requirements as
 * arrows routed as splines around the boxes, k-of-n groups as a small
 * "k of n" junction that its members point into, recommended edges dashed,
 * and the findings of `kgpath check` highlighted when a check is given.
 *
 * Stable element ids, so a page can find and click them (the same across
 * renders as long as the keys stay):
 *  - concept:  id="c:KEY"            class "node concept"
 *  - group:    id="g:KEY#N"          class "node group"   (N: the concept's Nth group, 0-based)
 *  - edge:     id="e:FROM>TO"        class "edge req" | "edge rec" ("edge" from Graphviz)
 *              id="e:FROM>g:KEY#N"   (member into a group junction)
 *              id="e:g:KEY#N>KEY"    (junction into its concept)
 *  - course/unit frames: id="course:ID", id="unit:COURSE/UNIT"
 * Extra classes: "external" (a prerequisite outside the filter, drawn so
 * the reader sees the dependency), "cycle" (concept or edge on a
 * prerequisite cycle), "redundant" (edge implied by a longer path),
 * "bottleneck" (one of check's bottlenecks), "unreachable", "orphan".
 * Every concept also carries a <title> with its key and a tooltip with its
 * title. The SVG is a complete document (XML declaration included).
 *
 * Graphviz is not thread-safe; calls are serialised inside the library (one
 * map is laid out at a time). Layout cost grows quickly (about 0.5 s for
 * 1,000 concepts with nearby edges on one core, much more for random
 * edges), so maps are capped at max_nodes concepts.
 */
#ifndef KGPATH_MAP_H
#define KGPATH_MAP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kgp_snap  kgp_snap;
typedef struct kgp_check kgp_check;

/** Map options; all-zero is the default (whole graph, no findings). */
typedef struct kgp_map_options {
    const char *course;        /**< only this course id; NULL all */
    const char *unit;          /**< only this unit id (within course, or any course); NULL all */
    const char *tag;           /**< only concepts with this tag; NULL all */
    const kgp_check *check;    /**< findings to highlight (of the same snapshot); NULL none */
    const char *rankdir;       /**< Graphviz rankdir: "LR" (default), "TB", "RL", "BT" */
    uint32_t max_nodes;        /**< refuse larger maps; 0 = 2000 */
    int no_clusters;           /**< 1: do not frame courses/units */
    /** Called once, on the calling thread, when the map has read all it
     * needs of the snapshot's graph (Graphviz's layout, the slow part, comes
     * next): a caller may let other work change the database from then on
     * (an error message still goes to the snapshot's message). Not called
     * when the map fails before. NULL: no call. */
    void (*built)(void *ud);
    void *built_ud;
} kgp_map_options;

/** Lays out the selected part of the snapshot with Graphviz dot (splines)
 * and renders it as SVG into a new caller-owned buffer (*svg, NUL-terminated,
 * *len bytes without the NUL; free with kgp_map_free). Concepts are selected
 * by course, unit and tag (all that are given must match); prerequisites of
 * selected concepts outside the selection are drawn as "external".
 * Errors: KGP_ENOTFOUND (no such course), KGP_EUSAGE (bad rankdir, more
 * concepts than max_nodes — the message says how many), KGP_EINTERNAL
 * (Graphviz failed), KGP_EDB, KGP_ENOMEM; the message is kgp_snap_errmsg(s).
 * Cost: O(V + E) to select, then Graphviz's layout (super-linear). */
kgp_status kgp_map_svg(kgp_snap *s, const kgp_map_options *opt, char **svg, size_t *len);
void       kgp_map_free(char *svg);

#ifdef __cplusplus
}
#endif
#endif /* KGPATH_MAP_H */
