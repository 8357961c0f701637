/* Bayesian Knowledge Tracing and per-concept learner state; see
 * learner_bkt.h for the model and the event mapping. */
#include "planner/learner_bkt.h"

#include <math.h>

const kgn_bkt_params kgn_bkt_defaults = {
    .prior = 0.10, .learn = 0.30, .learn_read = 0.20,
    .guess = 0.10, .slip = 0.03, .forget = 0.0,
};

double kgn_bkt_p_correct(const kgn_bkt_params *p, double L)
{
    return L * (1.0 - p->slip) + (1.0 - L) * p->guess;
}

double kgn_bkt_posterior(const kgn_bkt_params *p, double L, int correct)
{
    double a, b;
    if (correct) {
        a = L * (1.0 - p->slip);
        b = (1.0 - L) * p->guess;
    } else {
        a = L * p->slip;
        b = (1.0 - L) * (1.0 - p->guess);
    }
    return a + b > 0 ? a / (a + b) : L;
}

double kgn_bkt_transition(const kgn_bkt_params *p, double L, double T)
{
    return L * (1.0 - p->forget) + (1.0 - L) * T;
}

double kgn_bkt_observe(const kgn_bkt_params *p, double L, int correct)
{
    return kgn_bkt_transition(p, kgn_bkt_posterior(p, L, correct), p->learn);
}

double kgn_bkt_read_rate(const kgn_bkt_params *p, double dwell_s,
                         double expected_s)
{
    if (dwell_s >= 0 && dwell_s < KGN_BKT_MIN_DWELL)
        return 0.0;
    if (dwell_s < 0 || expected_s <= 0 || dwell_s >= expected_s)
        return p->learn_read;
    return 1.0 - pow(1.0 - p->learn_read, dwell_s / expected_s);
}

double kgn_bkt_read(const kgn_bkt_params *p, double L, double dwell_s,
                    double expected_s)
{
    return kgn_bkt_transition(p, L, kgn_bkt_read_rate(p, dwell_s, expected_s));
}

int kgn_event_outcome(const kgg_event *e)
{
    switch (e->kind) {
    case KGG_EV_QUIZ:
        if (e->score >= 0)
            return e->score >= KGN_BKT_PASS;
        if (e->grade >= 1)
            return e->grade >= 2;
        return -1;
    case KGG_EV_REVIEW:
        return e->grade >= 1 ? e->grade >= 2 : -1;
    default:
        return -1;
    }
}

int kgn_event_fsrs_grade(const kgg_event *e)
{
    switch (e->kind) {
    case KGG_EV_REVIEW:
        return e->grade >= 1 && e->grade <= 4 ? e->grade : 0;
    case KGG_EV_QUIZ:
        if (e->grade >= 1 && e->grade <= 4)
            return e->grade;
        if (e->score < 0)
            return 0;
        return e->score < 0.6 ? 1 : e->score < 0.75 ? 2 : e->score < 0.95 ? 3 : 4;
    case KGG_EV_READ:
        return e->dwell >= 0 && e->dwell < KGN_BKT_MIN_DWELL ? 0 : KGN_GOOD;
    default:
        return 0;
    }
}

static const char *const status_names[] = {
    "not started", "learning", "mastered", "fading",
};

const char *kgn_mastery_status_name(int st)
{
    return st >= 0 && st <= 3 ? status_names[st] : "?";
}

void kgn_concept_state_init(kgn_concept_state *cs, const kgn_bkt_params *p)
{
    *cs = (kgn_concept_state){ .p_learned = p->prior, .last_outcome = -1 };
}

void kgn_concept_state_apply(kgn_concept_state *cs, const kgn_bkt_params *p,
                             const double *w, const kgg_event *e,
                             double expected_s)
{
    int64_t prev = cs->nevents ? cs->last : 0;
    if (cs->nevents == 0 || e->at < cs->first)
        cs->first = e->at;
    if (cs->nevents == 0 || e->at > cs->last)
        cs->last = e->at;
    cs->nevents++;
    if (e->dwell > 0)
        cs->dwell_s += e->dwell;
    int o = kgn_event_outcome(e);
    switch (e->kind) {
    case KGG_EV_READ:
        cs->nreads++;
        cs->p_learned = kgn_bkt_read(p, cs->p_learned, e->dwell, expected_s);
        break;
    case KGG_EV_QUIZ:
    case KGG_EV_REVIEW:
        if (e->kind == KGG_EV_QUIZ)
            cs->nquiz++;
        else
            cs->nreview++;
        if (o >= 0) {
            cs->p_before = cs->p_learned;
            cs->before = prev;
            cs->last_outcome = o;
            cs->last_review = e->kind == KGG_EV_REVIEW;
            cs->ncorrect += (uint32_t)o;
            cs->p_learned = kgn_bkt_observe(p, cs->p_learned, o);
        }
        break;
    default:
        break;
    }
    int g = kgn_event_fsrs_grade(e);
    if (g)
        kgn_fsrs_review(w, &cs->card, g, e->at);
}

int kgn_concept_state_status(const kgn_concept_state *cs, const double *w,
                             int64_t at, double r, double m)
{
    if (cs->nevents == 0)
        return KGN_NOT_STARTED;
    if (cs->p_learned < m)
        return KGN_LEARNING;
    if (cs->card.reps > 0 && kgn_fsrs_card_r(w, &cs->card, at) < r)
        return KGN_FADING;
    return KGN_MASTERED;
}
