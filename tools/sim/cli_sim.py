#!/usr/bin/env python3
"""Fair learner simulator that drives kgpath through its CLI (issue 14).

    tools/sim/cli_sim.py --kgpath build/src/kgpath --courses data/samples/*.xml \
        [--learners N] [--seed S] [--minutes-per-day M] [--sensitivity]
    tools/sim/cli_sim.py --dataset metacademy|khan [--shared ../shared] ...
    ... [--block B --jobs N]     B learners at a time, N processes

Learners are simulated in blocks of --block B (default 1): each learner of a
block starts from a copy of the database the earlier blocks left (their
events, and the last one's fits), so the learner models are fitted on a
growing population as in a deployment: `kgpath observe` refits them
itself whenever the events have grown by a fifth (kgp_fit_due), and
--fit-days N also runs `kgpath fit` every N study days (default 0: never,
the path of an integration that only runs observe and plan); a block's learners run side by side in
--jobs N processes, and the result depends on B and the seed, never on N.
--block 1 is one learner after another on one database (each sees all the
learners before it); a larger block lets learners run in parallel.

Every planner gets the same simulated learners (same hidden memory, same
random draws per learner and action), the same study budget (minutes) and
the same minutes per day, and is measured when its own plan ends and 30
days after that. Planners:
  naive           post-order to the goals over what the learner has not
                  studied; before each lesson, a review of every prerequisite
                  last touched more than 7 days before
  kgpath          `kgpath plan --goal ... --format json` without learner state
                  (every concept of the plan taught once, in its order)
  kgpath+learner  each study day D: `kgpath observe` of the day before's
                  events, then `kgpath plan --learner ID --goal ... --date D
                  --minutes-per-day M --start D --format json`, and the steps
                  of day D are done (the CLI path users run)
Hidden learner (independent of kgpath's models): per concept learned or not,
stability S (days) and last study; recall R = (1 + t/(9 S))^-1 (power law,
not FSRS); a lesson succeeds with probability 0.9 exp(-k * missing), missing
= shortfall of the requirement groups' recall (k: prerequisite strength);
first stability s0 times a per-learner factor (log-normal, sd 0.4); a
review recalls with probability R (S *= 1.4 + 3(1-R)) or fails (S halves,
not below s0, relearned; the extra time of relearning); a "review" of a
concept never learned (its lesson failed) recalls nothing and teaches
nothing (only a lesson does); a lesson refreshes the memory of the
prerequisites it uses (implicit review, recall-gated) unless turned off.
After each lesson two quiz items, right with 0.2 + 0.7 R (0.9 after a
lesson that worked, 0.2 on what was never learned). Before the plan each concept of the goals' closure was studied 5..90
days earlier with probability 0.4 (prerequisites first), on record.
Metrics per learner: goals/h = expected goals gained (sum over the goals of
learned x R at the end, minus the same at the start) per study hour (at
least one hour); ret30 = mean recall of the goals 30 days after the
end. Paired differences kgpath+learner - other, mean +- 95% CI.
"""
import argparse, json, math, multiprocessing, os, random, shutil, subprocess, sys, tempfile, time

PLANNERS = ("naive", "kgpath", "kgpath+learner")
START = 20094          # 2025-01-06 (a Monday), days since 1970-01-01
DAY_S = 86400


def iso(day, frac=0.0):
    t = int(round((day + frac) * DAY_S))
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def date(day):
    return iso(day)[:10]


class Kg:
    def __init__(self, exe, db):
        self.exe, self.db, self.calls, self.fits = exe, db, 0, 0

    def run(self, *args, stdin=None):
        self.calls += 1
        p = subprocess.run([self.exe, "--db", self.db] + list(args), input=stdin,
                           capture_output=True, text=True)
        if p.returncode not in (0,):
            raise RuntimeError("kgpath %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr))
        if args[0] == "fit" or (args[0] == "observe" and "learner models refitted" in p.stdout):
            self.fits += 1              # kgpath fit, or a refit observe did by itself
        return p.stdout


class Learner:
    def __init__(self, g, rng, cfg):
        self.g, self.cfg = g, cfg
        self.factor = math.exp(rng.gauss(0, 0.4))
        self.learned, self.S, self.last, self.touched = {}, {}, {}, {}
        self.events = []
        self.trace = False
        self.lessons = self.failed = self.reviews = 0
        self.review_min = self.lesson_min = self.failed_min = 0.0
        self.redundant, self.redundant_r = 0, []
        self.last_review = None         # (hidden recall, learned, recalled)
        self.steplog = []               # KGSIM_REVIEWS: (kind, recall, learned, recalled, minutes)
        # checks: reviews of a prerequisite of a lesson that failed since the
        # prerequisite's last study; fine: of one learned and recalled
        self.suspect, self.checks, self.checks_fine = set(), 0, 0

    def s0(self):
        return self.cfg.first_stability * self.factor

    def R(self, c, t):
        if not self.learned.get(c):
            return 0.0
        return 1.0 / (1.0 + max(0.0, t - self.last[c]) / (9.0 * self.S[c]))

    def missing(self, c, t):
        miss = 0.0
        for k, members in self.g[c]["req"]:
            rs = sorted((self.R(m, t) for m in members), reverse=True)[:k]
            miss += k - sum(rs)
        return miss

    def lesson(self, c, t, rng, minutes):
        if self.learned.get(c):
            self.redundant += 1
            self.redundant_r.append(self.R(c, t))
        p = 0.9 * math.exp(-self.cfg.strength * self.missing(c, t))
        ok = rng.random() < p
        if self.trace:
            print("  t %.2f lesson %s (%d min) p %.2f %s  prereqs %s" % (
                t - START, c, minutes, p, "ok" if ok else "FAILED", " ".join(
                    "%s:%.2f" % (m, self.R(m, t)) for k, ms in self.g[c]["req"] for m in ms)),
                file=sys.stderr)
        self.lessons += 1
        self.failed += not ok
        if self.cfg.implicit:
            for k, members in self.g[c]["req"]:
                for m in members:
                    if self.learned.get(m) and rng.random() < self.R(m, t):
                        self.S[m] *= 1.2
                        self.last[m] = t
        if ok:
            self.learned[c] = True
            self.S[c] = max(self.S.get(c, 0), self.s0()) if self.learned.get(c) else self.s0()
            self.last[c] = t
        self.touched[c] = t
        self.suspect.discard(c)
        if not ok:
            self.suspect.update(m for k, members in self.g[c]["req"] for m in members
                                if m in self.touched)
        self.lesson_min += minutes
        self.failed_min += 0 if ok else minutes
        # quiz right with 0.2 (guess) + 0.7 x the hidden recall: 0.9 right
        # after a lesson that worked, 0.2 on what was never learned
        p_right = 0.2 + 0.7 * self.R(c, t)
        self.events.append({"concept": c, "kind": "read", "at": iso(0, t),
                            "dwell_seconds": int(minutes * 60)})
        for q in range(2):
            right = rng.random() < p_right
            self.events.append({"concept": c, "kind": "quiz", "at": iso(0, t + (q + 1) / 1440.0),
                                "score": 1 if right else 0})
        return ok

    def review_minutes(self, c, ok, rng):
        """Hidden review time: a recalled review 10 % of the lesson + 1
        minute, a failed one that plus half the lesson (relearning), times
        the review-cost factor and a per-review log-normal noise (sd 0.3).
        kgpath never sees these rules, only the dwell they produce."""
        m = self.g[c]["minutes"]
        base = 0.1 * m + 1.0 + (0.0 if ok else 0.5 * m)
        return base * self.cfg.review_cost * math.exp(rng.gauss(0, 0.3))

    def review(self, c, t, rng):
        """Returns the minutes the review took (hidden, see review_minutes)."""
        r = self.R(c, t)
        ok = rng.random() < r
        self.last_review = (r, bool(self.learned.get(c)), ok)
        if self.trace:
            print("  t %.2f review %s R %.2f learned %s %s" % (t - START, c, r, bool(self.learned.get(c)),
                  "ok" if ok else "failed"), file=sys.stderr)
        if ok:
            self.S[c] *= 1.4 + 3.0 * (1.0 - r)
        elif self.learned.get(c):
            self.S[c] = max(self.s0(), self.S[c] / 2.0)
        # a "review" of what was never learned (its lesson failed) recalls
        # nothing and teaches nothing: only a lesson makes it learned
        if c in self.suspect:
            self.suspect.discard(c)
            self.checks += 1
            self.checks_fine += bool(ok and self.learned.get(c))
        if self.learned.get(c):
            self.last[c] = t
        self.touched[c] = t
        mins = self.review_minutes(c, ok, rng)
        self.reviews += 1
        self.review_min += mins
        self.events.append({"concept": c, "kind": "review", "at": iso(0, t), "grade": 3 if ok else 1,
                            "dwell_seconds": int(round(mins * 60))})
        return mins


def load_graph(kg):
    ex = json.loads(kg.run("export", "--format", "json"))
    g = {}
    for c in ex["concepts"]:
        g[c["id"]] = {"minutes": c["minutes"] if c.get("minutes") and c["minutes"] > 0 else 30,
                      "req": [(r["k"], r["of"]) for r in c.get("requires", [])]}
    return g


def closure(g, goals):
    order, seen = [], set()

    def visit(c):
        if c in seen:
            return
        seen.add(c)
        for k, members in g[c]["req"]:
            for m in members[:k]:
                visit(m)
        order.append(c)
    for x in goals:
        visit(x)
    return order        # post-order: prerequisites first


class Clock:
    """Study days of M minutes; an action runs to its end (overflowing the
    day), and the day ends once its minutes are used."""
    def __init__(self, cfg, budget):
        self.day, self.used_today, self.used, self.mpd, self.budget = START, 0.0, 0.0, cfg.mpd, budget

    def t(self):
        return self.day + 0.35 + 0.5 * min(1.0, self.used_today / self.mpd)

    def spend(self, m):
        self.used += m
        self.used_today += m
        if self.used_today >= self.mpd:
            self.next_day()

    def next_day(self):
        self.day += 1
        self.used_today = 0.0

    def over(self):
        return self.used >= self.budget


def history(L, g, clos, rng, cfg):
    for c in clos:
        if rng.random() < cfg.hist_p:
            t = START - rng.uniform(5, 90)
            L.lesson(c, t, rng, g[c]["minutes"])
            if rng.random() < 0.3:
                L.review(c, t + rng.uniform(1, 4), rng)
    L.events.sort(key=lambda e: e["at"])


def run_naive(L, g, goals, clos, rng, budget, cfg):
    ck = Clock(cfg, budget)
    studied = set(L.touched)
    for c in clos:
        if c in studied:
            continue
        for k, members in g[c]["req"]:
            for m in members[:k]:
                if m in L.touched and ck.t() - L.touched[m] > 7 and not ck.over():
                    ck.spend(L.review(m, ck.t(), rng))
        if ck.over():
            break
        L.lesson(c, ck.t(), rng, g[c]["minutes"])
        ck.spend(g[c]["minutes"] * 1.0 + 2)
    return ck


def run_kgpath(L, g, goals, rng, budget, cfg, kg):
    ck = Clock(cfg, budget)
    args = ["plan", "--format", "json"]
    for x in goals:
        args += ["--goal", x]
    plan = json.loads(kg.run(*args))
    for st in plan["steps"]:
        if st["kind"] != "learn" or ck.over():
            continue
        c = st["concept"]
        L.lesson(c, ck.t(), rng, g[c]["minutes"])
        ck.spend(g[c]["minutes"] + 2)
    return ck


def observe(kg, lid, events):
    if not events:
        return
    text = "".join(json.dumps(dict(e, learner=lid)) + "\n" for e in events)
    kg.run("observe", "-", stdin=text)


def review_kind(st):
    """What a review step of kgpath's plan is for (KGSIM_REVIEWS counts)."""
    if st.get("spaced"):
        return "spaced"
    note = st.get("note") or ""
    un = "uncertain " if note.startswith("mastery uncertain") else ""
    return un + ("goal" if st.get("via") is None else "before use")


def run_learner(L, g, goals, rng, budget, cfg, kg, lid):
    ck = Clock(cfg, budget)
    observe(kg, lid, L.events)
    sent = len(L.events)
    fitted = None
    for guard in range(400):
        if ck.over():
            break
        observe(kg, lid, L.events[sent:])
        sent = len(L.events)
        # --fit-days N: `kgpath fit` on the observed history every N days
        week = (ck.day - START) // 7
        if cfg.fit_days and week != fitted and (ck.day - START) % cfg.fit_days == 0:
            kg.run("fit")
            fitted = week
        args = ["plan", "--learner", lid, "--date", date(ck.day), "--minutes-per-day",
                str(cfg.mpd), "--start", date(ck.day), "--format", "json"]
        for x in goals:
            args += ["--goal", x]
        plan = json.loads(kg.run(*args))
        today = [s for s in plan["steps"] if s.get("day") == date(ck.day)]
        if not plan["steps"]:
            break                        # every goal known and fresh
        if not today:
            ck.next_day()
            continue
        day = ck.day
        for st in today:
            if ck.over() or ck.day != day:
                break
            c = st["concept"]
            if st["kind"] == "learn":
                # the lesson's true minutes, whatever the plan estimated
                L.lesson(c, ck.t(), rng, g[c]["minutes"])
                ck.spend(g[c]["minutes"] + 2)
            else:
                # the learner's own (hidden) review time, not the plan's estimate
                mins = L.review(c, ck.t(), rng)
                ck.spend(mins)
                L.steplog.append((review_kind(st),) + L.last_review + (mins, st.get("note"), st["minutes"]))

        if ck.day == day:
            ck.next_day()
    return ck


def measure(L, goals, ck, start_known):
    """At the end of the planner's own plan, and 30 days after it."""
    end = ck.day + 1 if ck.used_today > 0 else ck.day
    known = sum(L.R(x, end) for x in goals)
    hours = ck.used / 60.0
    ret30 = sum(L.R(x, end + 30) for x in goals) / len(goals)
    # goals gained per study hour (an hour at least: nothing studied, nothing gained)
    return {"goals_h": (known - start_known) / max(hours, 1.0), "ret30": ret30,
            "hours": hours, "goals": known, "review_share": L.review_min / max(ck.used, 1.0),
            "lessons": L.lessons, "failed": L.failed, "reviews": L.reviews,
            "lesson_h": L.lesson_min / 60.0, "failed_h": L.failed_min / 60.0,
            "review_h": L.review_min / 60.0, "checks": L.checks, "checks_fine": L.checks_fine}


def ci(v):
    n = len(v)
    m = sum(v) / n
    sd = math.sqrt(sum((x - m) ** 2 for x in v) / (n - 1)) if n > 1 else 0.0
    return m, 1.96 * sd / math.sqrt(n) if n else 0.0


def safe_id(x):
    s = "".join(ch if ch.isalnum() or ch in "_-" else "-" for ch in x.lower()).strip("-")
    return s or "x"


def dataset_csv(name, shared, out):
    """Writes a shared dataset (metacademy, khan) as a kgpath CSV course."""
    import csv
    d = os.path.join(shared, "datasets", "metacademy" if name == "metacademy" else "khan-academy-kalite")
    rows, req = {}, {}
    if name == "metacademy":
        for line in open(os.path.join(d, "concepts.jsonl")):
            c = json.loads(line)
            h = c.get("learn_time_hours") or 1.0
            rows[c["id"]] = (safe_id(c["tag"]), c["title"], max(1, round(60 * h)))
        edges = [l.rstrip("\n").split("\t")[:2] for l in open(os.path.join(d, "edges.tsv"))][1:]
    else:
        for line in open(os.path.join(d, "nodes.jsonl")):
            c = json.loads(line)
            rows[c["id"]] = (safe_id(c["id"]), c["title"], 20)
        edges = [l.rstrip("\n").split("\t")[:2] for l in open(os.path.join(d, "edges.tsv"))][1:]
    for p, c in edges:
        if p in rows and c in rows and p != c:
            req.setdefault(c, []).append(rows[p][0])
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "title", "minutes", "prerequisites"])
        for k, (i, t, m) in rows.items():
            w.writerow([i, t, m, ";".join(sorted(set(req.get(k, []))))])


# The graph, config and kgpath of the row being simulated, set before the
# worker processes fork (they inherit them; nothing large is pickled).
_ROW = {}


def one_learner(task):
    """Simulates learner n with every planner on its own copy of the
    database `src` (the state the learners before it left); returns the
    measures, the events kgpath observed (to pass on to later learners) and
    the learner's final database."""
    n, goals, clos, seed, budget, src, work = task
    g, cfg, kg_exe = _ROW["g"], _ROW["cfg"], _ROW["kgpath"]
    db = os.path.join(work, "db-%d" % n)
    shutil.copyfile(src, db)
    kg = Kg(kg_exe, db)
    out, debug = {}, []
    for p in PLANNERS:
        rng = random.Random(seed)
        L = Learner(g, rng, cfg)
        history(L, g, clos, rng, cfg)
        L.lessons = L.failed = L.reviews = 0     # count the plan's own
        L.review_min = L.lesson_min = L.failed_min = 0.0
        L.redundant, L.redundant_r = 0, []
        L.checks = L.checks_fine = 0
        start_known = sum(L.R(x, START) for x in goals)
        if p == "naive":
            ck = run_naive(L, g, goals, clos, rng, budget, cfg)
        elif p == "kgpath":
            ck = run_kgpath(L, g, goals, rng, budget, cfg, kg)
        else:
            L.trace = os.environ.get("KGSIM_TRACE") == str(n)
            ck = run_learner(L, g, goals, rng, budget, cfg, kg, "s%d" % n)
            events = "".join(json.dumps(dict(e, learner="s%d" % n)) + "\n" for e in L.events)
            steplog = L.steplog
        r = out[p] = measure(L, goals, ck, start_known)
        if os.environ.get("KGSIM_DEBUG"):
            debug.append("learner %d %-15s budget %.1f h  used %.1f  start %.2f  end %.2f  goals/h %.3f  "
                         "ret30 %.2f  lessons %d failed %d reviews %d  redundant %s" %
                         (n, p, budget / 60, r["hours"], start_known, r["goals"], r["goals_h"],
                          r["ret30"], r["lessons"], r["failed"], r["reviews"],
                          " ".join("%.2f" % x for x in L.redundant_r)))
    return {"rows": out, "events": events, "db": db, "calls": kg.calls, "fits": kg.fits,
            "debug": debug, "steplog": steplog}


def simulate(cfg, kg_exe, courses, label):
    """Learners are simulated in blocks of --block: every learner of a block
    starts from the database the earlier blocks left (their events, and the
    fits the last of them ran), so `kgpath fit` sees a growing population
    as a deployment would, and the learners of a block run side by side
    (--jobs) with the same result for any number of jobs. --block 1 is one
    learner after another on one database (each sees all before it)."""
    tmp = tempfile.mkdtemp(prefix="kgsim")
    db = os.path.join(tmp, "db")
    kg = Kg(kg_exe, db)
    if cfg.dataset:
        path = os.path.join(tmp, cfg.dataset + ".csv")
        dataset_csv(cfg.dataset, cfg.shared, path)
        courses = [path]
    kg.run("import", *courses)
    g = load_graph(kg)
    keys = sorted(g)
    master = random.Random(cfg.seed)
    specs = []                          # the learners: goals and random seed
    while len(specs) < cfg.learners:
        goals = master.sample(keys, cfg.goals)
        clos = closure(g, goals)
        if not (cfg.min_closure <= len(clos) <= cfg.max_closure):
            continue
        seed = master.getrandbits(64)
        budget = sum(g[c]["minutes"] for c in clos) * cfg.budget
        specs.append((len(specs), goals, clos, seed, budget))
    _ROW.update(g=g, cfg=cfg, kgpath=kg_exe)
    pool = None
    if cfg.jobs > 1 and cfg.block > 1:
        pool = multiprocessing.get_context("fork").Pool(min(cfg.jobs, cfg.block))
    rows = {p: [] for p in PLANNERS}
    steplog = []
    src, calls, fits = db, kg.calls, 0
    t0 = shown = time.time()
    try:
        for b in range(0, len(specs), cfg.block):
            tasks = [s + (src, tmp) for s in specs[b:b + cfg.block]]
            done = pool.map(one_learner, tasks, 1) if pool else [one_learner(t) for t in tasks]
            for d in done:
                for p in PLANNERS:
                    rows[p].append(d["rows"][p])
                for line in d["debug"]:
                    print(line, file=sys.stderr)
                calls, fits = calls + d["calls"], fits + d["fits"]
                steplog += d["steplog"]
            # the next block starts from the last learner's database, with
            # the events of the block's other learners observed into it
            nxt = Kg(kg_exe, done[-1]["db"])
            if len(done) > 1:
                nxt.run("observe", "-", stdin="".join(d["events"] for d in done[:-1]))
            calls, fits = calls + nxt.calls, fits + nxt.fits
            for d in done[:-1]:
                os.remove(d["db"])
            if src != db and not os.environ.get("KGSIM_KEEP"):
                os.remove(src)
            src = done[-1]["db"]
            if time.time() - shown >= 60:        # progress of long runs, on stderr
                shown = time.time()
                print("cli_sim: %s: %d of %d learners, %.0f s" % (label, len(rows["naive"]), len(specs),
                                                               shown - t0), file=sys.stderr)
    finally:
        if pool:
            pool.close()
            pool.join()
    n = len(specs)
    if os.environ.get("KGSIM_REVIEWS"):
        if os.environ["KGSIM_REVIEWS"] != "1":      # a path: every review, one JSON line each
            with open(os.environ["KGSIM_REVIEWS"], "a") as f:
                for x in steplog:
                    f.write(json.dumps(dict(zip(("row", "kind", "recall", "learned", "recalled", "minutes",
                                                 "note", "planned"), (label,) + tuple(x)))) + "\n")
        # kgpath+learner's review steps by kind: per learner, the hidden
        # recall when done, how many recalled, and the minutes they took
        for k in sorted(set(x[0] for x in steplog)):
            v = [x for x in steplog if x[0] == k]
            print("cli_sim: %s: %-18s %5.2f per learner  hidden R %.2f  R >= 0.9 %3.0f %%  never learned "
                  "%3.0f %%  recalled %3.0f %%  %5.1f min per learner" %
                  (label, k, len(v) / n, sum(x[1] for x in v) / len(v),
                   100.0 * sum(x[1] >= 0.9 for x in v) / len(v), 100.0 * sum(not x[2] for x in v) / len(v),
                   100.0 * sum(x[3] for x in v) / len(v), sum(x[4] for x in v) / n), file=sys.stderr)
    if os.environ.get("KGSIM_KEEP"):
        print("database kept: %s" % src, file=sys.stderr)
    else:
        subprocess.run(["rm", "-rf", tmp])
    out = {"label": label, "learners": n, "calls": calls, "fits": fits}
    for p, v in rows.items():
        out[p] = {k: ci([x[k] for x in v]) for k in ("goals_h", "ret30", "hours", "review_share",
                                                    "lessons", "failed", "reviews", "lesson_h", "failed_h",
                                                    "review_h", "checks", "checks_fine")}
    for p in ("naive", "kgpath"):
        out["diff_" + p] = {k: ci([a[k] - b[k] for a, b in zip(rows["kgpath+learner"], rows[p])])
                            for k in ("goals_h", "ret30")}
    return out


def show(o):
    print("%s: %d learners, %d kgpath calls (%d fits, observe's own refits included)" % (o["label"], o["learners"], o["calls"],
                                                        o["fits"]))
    for p in ("naive", "kgpath", "kgpath+learner"):
        r = o[p]
        print("  %-15s goals/h %.3f ± %.3f  ret30 %.3f ± %.3f  hours %.1f  review share %.2f  "
              "lessons %.1f (failed %.1f)  reviews %.1f (checks %.2f, fine %.2f)  h: lessons %.1f (failed %.1f) "
              "reviews %.1f" %
              (p, r["goals_h"][0], r["goals_h"][1], r["ret30"][0], r["ret30"][1], r["hours"][0],
               r["review_share"][0], r["lessons"][0], r["failed"][0], r["reviews"][0],
               r["checks"][0], r["checks_fine"][0], r["lesson_h"][0], r["failed_h"][0], r["review_h"][0]))
    for p in ("naive", "kgpath"):
        d = o["diff_" + p]
        both = d["goals_h"][0] - d["goals_h"][1] > 0 and d["ret30"][0] - d["ret30"][1] > 0
        print("  kgpath+learner − %-7s goals/h %+.3f ± %.3f  ret30 %+.3f ± %.3f  %s" %
              (p, d["goals_h"][0], d["goals_h"][1], d["ret30"][0], d["ret30"][1],
               "both above zero" if both else "NOT both above zero"))
    sys.stdout.flush()


def sensitivity_rows():
    return [("base", {}), ("strength 1.5", {"strength": 1.5}), ("strength 6", {"strength": 6.0}),
            ("first stability 1 d", {"first_stability": 1.0}),
            ("first stability 9 d", {"first_stability": 9.0}),
            ("review cost x2", {"review_cost": 2.0}),
            ("no implicit review", {"implicit": False})]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kgpath", default="build/src/kgpath")
    ap.add_argument("--courses", nargs="+", default=[])
    ap.add_argument("--dataset", choices=["metacademy", "khan"],
                    help="a shared dataset instead of --courses (converted to CSV)")
    ap.add_argument("--shared", default=os.environ.get("KGPATH_SHARED", "../shared"))
    ap.add_argument("--learners", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--goals", type=int, default=2)
    ap.add_argument("--min-closure", type=int, default=4)
    ap.add_argument("--max-closure", type=int, default=20)
    ap.add_argument("--mpd", "--minutes-per-day", type=int, default=60, dest="mpd")
    ap.add_argument("--budget", type=float, default=1.3, help="budget = F x closure minutes")
    ap.add_argument("--strength", type=float, default=3.0, help="prerequisite strength k")
    ap.add_argument("--first-stability", type=float, default=3.0, help="s0 in days")
    ap.add_argument("--review-cost", type=float, default=1.0)
    ap.add_argument("--no-implicit", dest="implicit", action="store_false")
    ap.add_argument("--hist-p", type=float, default=0.4)
    ap.add_argument("--fit-days", type=int, default=0,
                    help="also run `kgpath fit` every N study days of each learner (0: never; "
                    "observe refits by itself as the events grow)")
    ap.add_argument("--sensitivity", action="store_true", help="also the sensitivity rows")
    ap.add_argument("--rows", help="only these rows, comma-separated labels (e.g. "
                    "'strength 1.5,no implicit review'); implies --sensitivity")
    ap.add_argument("--jobs", type=int, default=1,
                    help="learners of a block simulated side by side in N processes (same result for any N)")
    ap.add_argument("--block", type=int, default=1,
                    help="learners per block: each starts from the database of the blocks before it "
                    "(1: one after another, each seeing all before it)")
    ap.add_argument("--json", action="store_true")
    cfg = ap.parse_args()
    if cfg.jobs < 1 or cfg.block < 1:
        ap.error("--jobs and --block must be at least 1")
    if cfg.jobs > 1 and cfg.block == 1:
        print("cli_sim: --jobs %d does nothing with --block 1 (each learner needs the one before)" % cfg.jobs,
              file=sys.stderr)
    runs = sensitivity_rows() if cfg.sensitivity else sensitivity_rows()[:1]
    if cfg.rows:
        want = [x.strip() for x in cfg.rows.split(",")]
        runs = [(label, over) for label, over in sensitivity_rows() if label in want]
    res = []
    for label, over in runs:
        c = argparse.Namespace(**vars(cfg))
        for k, v in over.items():
            setattr(c, k, v)
        o = simulate(c, cfg.kgpath, cfg.courses, label)
        res.append(o)
        if not cfg.json:
            show(o)
    if cfg.json:
        print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
