/* Civil dates as day numbers (days since 1970-01-01, proleptic Gregorian),
 * after Howard Hinnant's days_from_civil / civil_from_days. No time zones:
 * a plan's days are calendar dates. */
#include <stdio.h>
#include <string.h>

#include "planner/planner.h"

static int32_t days_from_civil(int y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int32_t)doe - 719468;
}

static void civil_from_days(int32_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)yoe + era * 400 + (*m <= 2);
}

int kgn_date_parse(const char *s, int32_t *day)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return -1;
    int y = (s[0]-'0')*1000 + (s[1]-'0')*100 + (s[2]-'0')*10 + (s[3]-'0');
    unsigned m = (unsigned)((s[5]-'0')*10 + (s[6]-'0'));
    unsigned d = (unsigned)((s[8]-'0')*10 + (s[9]-'0'));
    if (y < 1900 || m < 1 || m > 12 || d < 1) return -1;
    static const unsigned mdays[12] = {31,28,31,30,31,30,31,31,30,31,30,31};
    unsigned lim = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) lim = 29;
    if (d > lim) return -1;
    *day = days_from_civil(y, m, d);
    return 0;
}

void kgn_date_format(int32_t day, char buf[16])
{
    int y; unsigned m, d;
    civil_from_days(day, &y, &m, &d);
    snprintf(buf, 16, "%04d-%02u-%02u", y % 10000, (m - 1) % 12 + 1, (d - 1) % 31 + 1);
}

int kgn_date_weekday(int32_t day)
{
    /* 1970-01-01 was a Thursday (4). */
    int w = (int)(((int64_t)day % 7 + 7 + 3) % 7);   /* 0 = Monday */
    return w + 1;
}

/* Next study day on or after d (study days: the first days_per_week days of
 * each ISO week, Monday first). */
static int32_t study_day_from(int32_t d, uint32_t days_per_week)
{
    while ((uint32_t)kgn_date_weekday(d) > days_per_week) d++;
    return d;
}

/* Packs the plan's steps into study days of minutes_per_day, in order.
 * A step that does not fit in what is left of a day moves to the next
 * study day when it fits in a whole day; a step longer than a day is split
 * into parts over consecutive study days, starting in the current day.
 * Sessions live in the plan's arena. Returns 0, -1 (out of memory) or -2
 * (the calendar runs past KGN_LAST_DAY). O(steps + days). */
int kgn__calendar(kgn_plan *p)
{
    uint32_t mpd = p->minutes_per_day;
    int32_t day = study_day_from(p->start_day, p->days_per_week);
    uint32_t left = mpd;
    int32_t last = KGN_NO_DAY;
    p->study_days = 0;
    p->overrun_minutes = 0;
    for (uint32_t i = 0; i < p->nsteps; i++) {
        kgn_step *st = &p->steps[i];
        uint32_t rem = st->minutes;
        if (rem > left && rem <= mpd && left < mpd) {
            day = study_day_from(day + 1, p->days_per_week);
            left = mpd;
        }
        uint32_t parts = 2 + rem / mpd;     /* upper bound */
        st->sessions = kg_arena_alloc(p->arena, parts * sizeof *st->sessions);
        if (!st->sessions) return -1;
        st->nsessions = 0;
        do {
            if (left == 0) {
                day = study_day_from(day + 1, p->days_per_week);
                left = mpd;
            }
            uint32_t take = rem < left ? rem : left;
            if (day > KGN_LAST_DAY) return -2;
            st->sessions[st->nsessions].day = day;
            st->sessions[st->nsessions].minutes = take;
            st->nsessions++;
            if (take && day != last) { p->study_days++; last = day; }
            if (p->deadline_day != KGN_NO_DAY && day > p->deadline_day)
                p->overrun_minutes += take;
            rem -= take;
            left -= take;
        } while (rem > 0);
        st->day = st->sessions[0].day;
    }
    p->end_day = last != KGN_NO_DAY ? last : study_day_from(p->start_day, p->days_per_week);
    if (p->deadline_day != KGN_NO_DAY) {
        p->fits = p->end_day <= p->deadline_day;
        p->overrun_days = p->fits ? 0 : p->end_day - p->deadline_day;
    }
    return 0;
}
