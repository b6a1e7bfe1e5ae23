#!/usr/bin/env bash
# Stop the daemons that tests/cluster/slurm_up.sh started, by the PIDs in its state dir.
# Usage: tests/cluster/slurm_down.sh [STATE_DIR]
set -u
state=${1:-/tmp/neurodyn-slurm}
for name in slurmd slurmctld munged.started; do
    pidfile="$state/run/$name"
    [ "${name%.started}" = "$name" ] && pidfile="$state/run/$name.pid"
    [ -s "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
done
exit 0
