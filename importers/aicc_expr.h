/* SCORM 1.2 prerequisites: the aicc_script expression language.
 *
 *   expr    := and ( '|' and )*
 *   and     := unary ( '&' unary )*
 *   unary   := '~' unary | primary
 *   primary := '(' expr ')' | N '*' '{' id ( ',' id )* '}'
 *            | id [ ( '=' | '<>' ) status ]
 *   status  := passed | completed | failed | incomplete | browsed |
 *              not attempted | p | c | f | i | b | n   (case-insensitive)
 * '~' binds tighter than '&', which binds tighter than '|' (the spec leaves
 * it open; LMSes bind AND tighter than OR). Identifiers are runs of bytes
 * other than space and & | ~ ( ) { } , * = < >.
 *
 * The expression is mapped to what kgpath can express: a conjunction of
 * k-of-n groups (CNF). An identifier alone, or "id=passed"/"id=completed",
 * is an atom. What cannot be expressed — '~', "<>", status tests other than
 * passed/completed, k-of-n sets under '|' — is dropped (treated as true,
 * the permissive reading) or widened, each with a warning through warn().
 * An OR of ANDs is distributed into AND of ORs (exact) while that stays
 * under 256 groups.
 */
#ifndef KGI_AICC_EXPR_H
#define KGI_AICC_EXPR_H

#include <stddef.h>
#include <stdint.h>

typedef struct kgi_clause { uint32_t k; char **ids; size_t n, cap; } kgi_clause;
typedef struct kgi_cnf { kgi_clause *c; size_t n, cap; } kgi_cnf;

typedef void (*kgi_expr_warn_fn)(void *ud, const char *msg);

/* Parses expr into *out (zeroed first; free with kgi_cnf_free even on
 * error). Returns 0, or -1 on a syntax error with a message in err and the
 * 1-based byte offset of the problem in *errpos. O(n) plus the size of the
 * distributed CNF (bounded). */
int kgi_aicc_parse(const char *expr, kgi_cnf *out, kgi_expr_warn_fn warn, void *ud,
                   char *err, size_t errlen, size_t *errpos);
void kgi_cnf_free(kgi_cnf *cnf);

/* Building blocks for other condition languages (Moodle availability).
 * kgi_cnf_atom appends the clause "1 of {id}"; kgi_cnf_and moves b's
 * clauses into a (a AND b); kgi_cnf_or sets a to a OR b by distribution
 * (exact while the result has at most 256 clauses, else widened to one
 * "any of all" clause) and frees b. kgi_cnf_or returns 1 when it had to
 * widen (k-of-n under OR, or too large), else 0. All return -1 when out of
 * memory. Empty a or b means "no constraint" only to the caller: these
 * functions treat an empty CNF as an empty conjunction. */
int kgi_cnf_atom(kgi_cnf *f, const char *id);
int kgi_cnf_and(kgi_cnf *a, kgi_cnf *b);
int kgi_cnf_or(kgi_cnf *a, kgi_cnf *b);

#endif
