/* Planner internals shared by requirements.c, plan.c and next.c: the
 * workspace layout and the requirement solver. Not for other layers. */
#ifndef KGN_PLAN_INTERNAL_H
#define KGN_PLAN_INTERNAL_H

#include "planner/planner.h"

#define KGN_F_GOAL 1u
#define KGN_F_REC  2u

typedef struct kgn_pend { uint32_t grp, owner; } kgn_pend;

struct kgn_workspace {
    const kgn_index *ix;
    const kgg_snap *s;
    uint32_t n;
    uint32_t def_minutes;

    /* Stamp arrays [n]: x[c] == gen_x means "set". Never cleared per call. */
    uint32_t *in_s;   uint32_t gen_s;   /* in the current selection */
    uint32_t *known;  uint32_t gen_k;   /* known; also stamps fseen */
    uint32_t *fseen;                    /* learnability decided (== gen_k) */
    uint8_t  *fval;                     /* its value */
    uint32_t *lvl;                      /* level of concepts learnable only thanks to known ones */
    uint32_t next_lvl;                  /* next such level (starts at n each call) */
    uint32_t *ucnt;                     /* unsatisfied groups while deciding */
    uint32_t *vis;    uint32_t gen_v;   /* general visit marks */
    uint32_t *gray;   uint32_t gen_g;   /* DFS in progress */
    uint32_t *gcnt, *gstamp; uint32_t gen_gr;   /* [ngroups] counters */
    /* Per selected concept [n] (valid while in_s). */
    uint32_t *parent;
    const char **reason;
    uint8_t  *flags;
    uint32_t *pos;

    /* Growable vectors. */
    uint32_t *sel;  size_t nsel, csel;          /* selection, in discovery order */
    uint64_t cost;                               /* minutes of the selection */
    kgn_pend *pend; size_t npend, cpend;         /* k-of-n groups met on the way */
    uint32_t *stk;  size_t nstk, cstk;           /* scratch stack */
    uint32_t *stk2; size_t nstk2, cstk2;         /* second scratch stack */
    uint32_t *best; uint32_t *best_par; const char **best_rsn; uint8_t *best_flg;
    size_t nbest, cbest;
    uint64_t best_cost;
    uint64_t work, work_limit;
    int aborted, depth;
    uint64_t *bits; size_t cbits;                /* goal bitsets per step */
    int oom;
};

/* Minutes a concept counts (rounded; default when unknown). */
uint32_t kgn__minutes(const kgn_workspace *ws, uint32_t c);
/* Starts a call with this known set (ids must be < n). O(nknown). */
int  kgn__begin(kgn_workspace *ws, const uint32_t *known, size_t nknown);
static inline int kgn__is_known(const kgn_workspace *ws, uint32_t c) { return ws->known[c] == ws->gen_k; }
static inline int kgn__in_sel(const kgn_workspace *ws, uint32_t c) { return ws->in_s[c] == ws->gen_s; }
/* Whether c can be learned given the known set (known counts as learned). */
int  kgn__learnable(kgn_workspace *ws, uint32_t c);
/* Whether member m may satisfy a group of owner (learnable and strictly
 * before it in the acyclic order; known always may). */
int  kgn__eligible(kgn_workspace *ws, uint32_t owner, uint32_t m);
/* Selects goals and their requirements (k-of-n by least added minutes:
 * greedy, then exact branch-and-bound within the work limit). The selection
 * is ws->sel[0..nsel). Returns 0, -1 when a goal is not learnable (*bad set
 * to it), -2 out of memory. */
int  kgn__solve(kgn_workspace *ws, const uint32_t *goals, size_t ngoals,
                uint64_t work_limit, int *exact, uint32_t *nchoices, uint32_t *bad);
/* Adds recommended concepts of the selection (and what they need); with
 * budget > 0 only those that keep the total within it. transitive: also the
 * recommendations of what is added (a concept is added once, so cycles of
 * recommendations end). 0 or -2. */
int  kgn__add_recommended(kgn_workspace *ws, double budget, int transitive);
/* Describes why c cannot be learned into buf (one sentence). */
void kgn__why_blocked(kgn_workspace *ws, uint32_t c, char *buf, size_t len);
/* A step before it is placed: src is the learn index whose goals it
 * serves (KGG_NONE: it serves `goal` alone). */
typedef struct kgn__proto {
    uint32_t concept, minutes, via, src, goal;
    kgn_step_kind kind;
    const char *via_reason, *note;
} kgn__proto;

/* Input of kgn__steps: the ordered lessons (ws->pos[c] = learn index) and
 * their goal bitsets (W words each). */
typedef struct kgn_step_ctx {
    kgn_workspace *ws;
    kgn_plan *p;                /* goals, mastered, calendar fields set */
    const kgn_options *opt;
    const kgn__proto *learn; uint32_t nlearn;
    const uint64_t *bits; size_t W;
} kgn_step_ctx;

/* Makes p->steps: lessons, review and spaced-review steps, study days
 * (schedule.c). 0, -1 (OOM) or -2 (lessons past KGN_LAST_DAY). */
int  kgn__steps(kgn_step_ctx *x);
/* Packs steps into study days (calendar.c). 0, -1 (OOM) or -2 (past
 * KGN_LAST_DAY). */
int  kgn__calendar(kgn_plan *p);
int  kgn__push(uint32_t **v, size_t *n, size_t *cap, uint32_t x);
void kgn__next_gen(uint32_t *arr, uint32_t *gen, size_t n);

#endif
