/* Shared by the plan renderers (render.c, render_html.c). */
#ifndef KGN_RENDER_INTERNAL_H
#define KGN_RENDER_INTERNAL_H

#include "planner/planner.h"

/* Calls emit for each "why" line of step i (goals served, chain to a goal
 * with the edges' reasons, notes). Returns 0, or -1 when out of memory (a
 * line was left out: the caller should fail its render). */
int kgn__why_lines(const kgn_plan *p, uint32_t i, void (*emit)(void *, const char *), void *ud);
/* Sorted concept ids of the learn steps (kg_free it); NULL out of memory. */
uint32_t *kgn__plan_members(const kgn_plan *p, uint32_t *n);
int kgn__has(const uint32_t *v, uint32_t n, uint32_t x);
void kgn__render_html(const kgn_plan *p, kg_buf *b);

#endif
