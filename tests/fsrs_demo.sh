#!/bin/bash
# README's FSRS fit demonstration end to end, small: learners whose memory
# follows FSRS-6 with known weights (tools/sim/fsrs_events.py) through
# `kgpath observe` and `kgpath fit --per-learner --json`. Checks that the fit
# is made and stored, that the fitted weights beat the defaults on the
# held-out learners (log loss and RMSE(bins)), that the first stability of
# "good" moves from the defaults' 2.31 days towards the hidden 6, and that
# the per-learner judgement is reported. Prints a line in Check's format
# for tools/test.sh.
set -u
root=${KGPATH_SOURCE_ROOT:?} k=${KGPATH_BIN:?}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
python3 "$root/tools/sim/fsrs_events.py" --learners 60 --concepts 15 --seed 3 >"$tmp/ev.jsonl" || fail=1
"$k" --db "$tmp/d.db" observe "$tmp/ev.jsonl" >/dev/null 2>"$tmp/err" || { cat "$tmp/err"; fail=1; }
"$k" --db "$tmp/d.db" fit --per-learner --json >"$tmp/fit.json" 2>"$tmp/err" || { cat "$tmp/err"; fail=1; }
python3 - "$tmp/fit.json" <<'PY' || fail=1
import json, sys
f = json.load(open(sys.argv[1]))["fsrs"]
bad = []
if not f["fitted"]: bad.append("not fitted")
if not f["heldout_logloss_fitted"] < f["heldout_logloss_defaults"]: bad.append("log loss")
if not f["heldout_rmse_bins_fitted"] < f["heldout_rmse_bins_defaults"]: bad.append("RMSE(bins)")
if not 3.5 < f["weights"][2] < 9: bad.append("w2 %.3f (hidden 6)" % f["weights"][2])
pl = f.get("per_learner")
if not pl or pl["heldout_learners"] < 1: bad.append("no per-learner judgement")
if not f["learners_fitted"] > 20: bad.append("learners_fitted %d" % f["learners_fitted"])
print("fsrs_demo: " + ("; ".join(bad) if bad else "ok"), json.dumps(f)[:300] if bad else "")
sys.exit(1 if bad else 0)
PY
echo "$((100 - 100 * fail))%: Checks: 1, Failures: $fail, Errors: 0"
exit $fail
