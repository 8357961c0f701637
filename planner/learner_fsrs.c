/* FSRS-6 memory model; equations and contracts in learner_fsrs.h. */
#include "planner/learner_fsrs.h"

#include <math.h>

const double kgn_fsrs_default_w[KGN_FSRS_NW] = {
    0.212, 1.2931, 2.3065, 8.2956, 6.4133, 0.8334, 3.0194, 0.001, 1.8722,
    0.1666, 0.796, 1.4835, 0.0614, 0.2629, 1.6483, 0.6014, 1.8729, 0.5425,
    0.0912, 0.0658, 0.1542,
};

static double clamp(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

static double clamp_s(double s) { return clamp(s, KGN_FSRS_S_MIN, KGN_FSRS_S_MAX); }
static double clamp_d(double d) { return clamp(d, 1.0, 10.0); }

double kgn_fsrs_factor(const double *w)
{
    return pow(0.9, -1.0 / w[20]) - 1.0;
}

double kgn_fsrs_retrievability(const double *w, double t_days, double s)
{
    if (t_days <= 0)
        return 1.0;
    s = clamp_s(s);
    return pow(1.0 + kgn_fsrs_factor(w) * t_days / s, -w[20]);
}

double kgn_fsrs_interval(const double *w, double s, double r)
{
    if (!(r > 0 && r < 1))
        return 0;
    return clamp_s(s) / kgn_fsrs_factor(w) * (pow(r, -1.0 / w[20]) - 1.0);
}

int kgn_fsrs_interval_days(const double *w, double s, double r, int max_days)
{
    double i = kgn_fsrs_interval(w, s, r);
    if (max_days < 1)
        max_days = 1;
    if (!(i < (double)max_days))
        return max_days;
    long d = lround(i);
    return d < 1 ? 1 : (int)d;
}

static double d0_raw(const double *w, int grade)
{
    return w[4] - exp(w[5] * (grade - 1)) + 1.0;
}

double kgn_fsrs_init_stability(const double *w, int grade)
{
    if (grade < 1) grade = 1;
    if (grade > 4) grade = 4;
    return clamp_s(w[grade - 1]);
}

double kgn_fsrs_init_difficulty(const double *w, int grade)
{
    return clamp_d(d0_raw(w, grade));
}

double kgn_fsrs_next_difficulty(const double *w, double d, int grade)
{
    double delta = -w[6] * (grade - 3);
    double d1 = d + delta * (10.0 - d) / 9.0;            /* linear damping */
    double d2 = w[7] * d0_raw(w, 4) + (1.0 - w[7]) * d1; /* mean reversion */
    return clamp_d(d2);
}

double kgn_fsrs_stability_success(const double *w, double d, double s,
                                  double r, int grade)
{
    double h = grade == KGN_HARD ? w[15] : 1.0;
    double b = grade == KGN_EASY ? w[16] : 1.0;
    double inc = exp(w[8]) * (11.0 - d) * pow(s, -w[9]) *
                 (exp(w[10] * (1.0 - r)) - 1.0) * h * b;
    return clamp_s(s * (inc + 1.0));
}

double kgn_fsrs_stability_lapse(const double *w, double d, double s, double r)
{
    double lt = w[11] * pow(d, -w[12]) * (pow(s + 1.0, w[13]) - 1.0) *
                exp(w[14] * (1.0 - r));
    double st = s / exp(w[17] * w[18]);
    return clamp_s(lt < st ? lt : st);
}

double kgn_fsrs_stability_same_day(const double *w, double s, int grade)
{
    double inc = exp(w[17] * (grade - 3 + w[18])) * pow(s, -w[19]);
    if (grade >= KGN_HARD && inc < 1.0)
        inc = 1.0;
    return clamp_s(s * inc);
}

int kgn_fsrs_review(const double *w, kgn_fsrs_card *c, int grade, int64_t at)
{
    if (grade < 1 || grade > 4)
        return -1;
    if (c->reps == 0) {
        c->stability = kgn_fsrs_init_stability(w, grade);
        c->difficulty = kgn_fsrs_init_difficulty(w, grade);
        c->last = at;
        c->reps = 1;
        return 0;
    }
    double t = (double)(at - c->last) / 86400.0;
    if (t < 1.0) {
        c->stability = kgn_fsrs_stability_same_day(w, c->stability, grade);
    } else {
        double r = kgn_fsrs_retrievability(w, t, c->stability);
        if (grade == KGN_AGAIN) {
            c->stability = kgn_fsrs_stability_lapse(w, c->difficulty,
                                                    c->stability, r);
        } else {
            c->stability = kgn_fsrs_stability_success(w, c->difficulty,
                                                      c->stability, r, grade);
        }
    }
    if (grade == KGN_AGAIN)
        c->lapses++;
    c->difficulty = kgn_fsrs_next_difficulty(w, c->difficulty, grade);
    if (at > c->last)
        c->last = at;
    c->reps++;
    return 0;
}

double kgn_fsrs_card_r(const double *w, const kgn_fsrs_card *c, int64_t at)
{
    if (c->reps == 0)
        return 0.0;
    return kgn_fsrs_retrievability(w, (double)(at - c->last) / 86400.0,
                                   c->stability);
}

int64_t kgn_fsrs_card_due(const double *w, const kgn_fsrs_card *c, double r)
{
    if (c->reps == 0)
        return INT64_MAX;
    double i = kgn_fsrs_interval(w, c->stability, r);
    return c->last + (int64_t)llround(i * 86400.0);
}
