/* Internals shared by the learner API's files (api_learner.c, api_fit.c).
 * Not installed. */
#ifndef KGP_API_LEARNER_INTERNAL_H
#define KGP_API_LEARNER_INTERNAL_H

#include <stdio.h>

#include <jansson.h>

#include "kgpath.h"

/* Fitted prerequisite strength (kgg_model_get): kappa, p0, lessons. */
#define STRENGTH_NAME "prereq-strength"
/* Population BKT (kgn_fit_result.pop): prior, learn, learn_read, guess,
 * slip, forget. */
#define BKT_POP_NAME "bkt-population"

/* Review minutes of a concept of concept_minutes before any are fitted:
 * max(5, 15 %), rounded up. */
double kgp__review_minutes(double concept_minutes);
/* Writes o as indented JSON and a newline to out, then releases o.
 * Returns KGP_EIO when writing fails. */
kgp_status kgp__dump_json(json_t *o, FILE *out);

#endif
