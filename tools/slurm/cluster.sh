#!/usr/bin/env bash
# tools/slurm/cluster.sh: a real single-node Slurm cluster on localhost, for
# tests. Source it, then:
#   kg_cluster_start DIR [CPUS]   munged + slurmctld + slurmd, every file under DIR
#   kg_cluster_stop               stops what kg_cluster_start started, by PID
# Callers must `trap kg_cluster_stop EXIT` right after sourcing.
# Needs Debian's slurmctld, slurmd, slurm-client and munge (22.05); the
# package scripts cannot start services here, so the daemons are started by
# hand, as root, with their sockets, keys, state and logs under DIR.

KG_CLUSTER_PIDS=()
KG_CLUSTER_DIR=""

kg_cluster_log() { echo "slurm-cluster: $*" >&2; }

kg_cluster_stop() {
  local p
  for p in "${KG_CLUSTER_PIDS[@]}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null
  done
  for p in "${KG_CLUSTER_PIDS[@]}"; do
    # Wait up to 5 s for each, then force.
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
  done
  KG_CLUSTER_PIDS=()
}

# Reads a pid file written by a daemon (they fork into the background).
kg_cluster_pid() {
  local f="$1"
  for _ in $(seq 100); do
    [ -s "$f" ] && { cat "$f"; return 0; }
    sleep 0.05
  done
  return 1
}

kg_cluster_start() {
  local dir="$1" cpus="${2:-4}"
  KG_CLUSTER_DIR="$dir"
  # Random ports (overridable), so two test runs on one host do not collide.
  local port="${KG_SLURMCTLD_PORT:-$((20000 + RANDOM % 20000))}"
  mkdir -p "$dir"/{munge,state,spool,log,run}
  chmod 700 "$dir/munge"
  mungekey --create --keyfile="$dir/munge/munge.key" >/dev/null 2>&1 \
    || { kg_cluster_log "mungekey failed"; return 1; }
  chmod 600 "$dir/munge/munge.key"
  munged --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munge/munged.pid" --seed-file="$dir/munge/munge.seed" \
    --log-file="$dir/log/munged.log" \
    || { kg_cluster_log "munged failed: $(tail -3 "$dir/log/munged.log" 2>/dev/null)"; return 1; }
  KG_CLUSTER_PIDS+=("$(kg_cluster_pid "$dir/munge/munged.pid")")

  : >"$dir/plugstack.conf"
  cat >"$dir/slurm.conf" <<CONF
ClusterName=kgpathtest
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=$port
SlurmdPort=$((port + 1))
PlugStackConfig=$dir/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,bf_interval=1,sched_min_interval=0
SlurmdParameters=config_overrides
ReturnToService=2
MpiDefault=none
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus Sockets=1 CoresPerSocket=$cpus ThreadsPerCore=1
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF="$dir/slurm.conf"
  local t0; t0=$(date +%s)
  slurmctld -i >"$dir/log/slurmctld.out" 2>&1 \
    || { kg_cluster_log "slurmctld failed: $(tail -3 "$dir/log/slurmctld.log")"; return 1; }
  KG_CLUSTER_PIDS+=("$(kg_cluster_pid "$dir/run/slurmctld.pid")")
  slurmd -N localhost >"$dir/log/slurmd.out" 2>&1 \
    || { kg_cluster_log "slurmd failed: $(tail -3 "$dir/log/slurmd.log")"; return 1; }
  KG_CLUSTER_PIDS+=("$(kg_cluster_pid "$dir/run/slurmd.pid")")

  # Ready when the node is idle and registered after our start (saved state
  # can read idle before slurmd registers); resume a node left drained.
  local i state start
  for i in $(seq 200); do
    state=$(sinfo -h -n localhost -o %T 2>/dev/null)
    start=$(scontrol show node localhost 2>/dev/null | sed -n 's/.*SlurmdStartTime=\([^ ]*\).*/\1/p')
    case "$state" in
      drain*|down*) scontrol update nodename=localhost state=resume >/dev/null 2>&1 ;;
    esac
    if [ "$state" = idle ] && [ -n "$start" ] && [ "$start" != None ] \
       && [ "$(date -d "$start" +%s 2>/dev/null || echo 0)" -ge "$t0" ]; then
      return 0
    fi
    sleep 0.1
  done
  kg_cluster_log "node not ready (state: ${state:-none}); slurmctld log:"
  tail -5 "$dir/log/slurmctld.log" >&2
  return 1
}
