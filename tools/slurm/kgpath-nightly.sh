#!/usr/bin/env bash
# kgpath-nightly.sh: submits the nightly plan regeneration to Slurm.
#
#   kgpath-nightly.sh --db DB --learners FILE --work DIR [--shards N]
#                     [--cpus-per-task C] [--kgpath BIN] [--wait] [--no-fit]
#                     [--partition P] [-- KGPATH-BATCH-OPTIONS…]
#
# 0. Renews the learner models when a fit is due (`kgpath fit --if-due`: the
#    rule `observe` applies, so events loaded with `observe --no-fit` or a
#    failed refit are caught up before the night's plans; --no-fit skips it,
#    as does a read-only database).
# 1. Freezes the night's graph: a compact copy of DB into DIR/snapshot.db
#    (`kgpath snapshot-copy --stamp`, which also renews the change stamps that
#    `batch --since` reads), so every shard plans on the same state even when
#    the live database changes during the night.
# 2. Submits an array job of N tasks (batch-task.sbatch): each copies the
#    snapshot to node-local scratch, plans its shard of the learners (stable
#    hash of the learner id) and writes DIR/shards/shard-I.jsonl.
# 3. Submits the merge job (merge.sbatch) with --dependency=afterok on the
#    array: DIR/plans.jsonl in input order, DIR/report.json.
# DIR and FILE must be on a filesystem every node sees. Prints the job ids;
# with --wait, waits for the merge and exits with its status.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

db="" learners="" work="" shards=4 cpus=1 kgpath="${KGPATH:-kgpath}" wait=0 fit=1 part=()
while [ $# -gt 0 ]; do
  case "$1" in
    --db) db="$2"; shift 2 ;;
    --learners) learners="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --shards) shards="$2"; shift 2 ;;
    --cpus-per-task) cpus="$2"; shift 2 ;;
    --kgpath) kgpath="$2"; shift 2 ;;
    --partition) part=(--partition "$2"); shift 2 ;;
    --wait) wait=1; shift ;;
    --no-fit) fit=0; shift ;;
    --) shift; break ;;
    *) echo "kgpath-nightly: unknown option $1" >&2; exit 1 ;;
  esac
done
[ -n "$db" ] && [ -n "$learners" ] && [ -n "$work" ] \
  || { echo "usage: kgpath-nightly.sh --db DB --learners FILE --work DIR [--shards N] [--wait] [--no-fit] [-- BATCH-OPTIONS]" >&2; exit 1; }
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || { echo "kgpath-nightly: --shards must be a positive integer" >&2; exit 1; }

kgpath="$(command -v "$kgpath" || echo "$kgpath")"
work="$(mkdir -p "$work" && cd "$work" && pwd)"
learners="$(cd "$(dirname "$learners")" && pwd)/$(basename "$learners")"
rm -rf "$work/shards" "$work/plans.jsonl" "$work/report.json"
mkdir -p "$work/shards" "$work/logs"

if [ "$fit" = 1 ] && [ -w "$db" ]; then
  "$kgpath" --db "$db" fit --if-due   # prints "no fit due: …" or the fit's report
fi
stamp=(--stamp)
[ -w "$db" ] || stamp=()      # a read-only database keeps its stamps
"$kgpath" --db "$db" snapshot-copy "${stamp[@]}" "$work/snapshot.db"

export KGPATH="$kgpath" KG_WORK="$work" KG_LEARNERS="$learners" KG_SHARDS="$shards"
export KG_BATCH_ARGS="$*"
array=$(sbatch --parsable "${part[@]}" --array="0-$((shards - 1))" \
  --cpus-per-task="$cpus" --output="$work/logs/task-%a.log" \
  --export=ALL "$here/batch-task.sbatch")
array="${array%%;*}"
waitopt=()
[ "$wait" = 1 ] && waitopt=(--wait)
set +e
merge=$(sbatch --parsable "${part[@]}" "${waitopt[@]}" --dependency="afterok:$array" \
  --kill-on-invalid-dep=yes --output="$work/logs/merge.log" \
  --export=ALL "$here/merge.sbatch")
rc=$?
set -e
echo "array job $array, merge job ${merge%%;*}"
exit "$rc"
