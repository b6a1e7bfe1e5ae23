#!/usr/bin/env bash
# Bring up a single-node SLURM cluster on localhost (root only): munge + slurmctld + slurmd
# started directly (no systemd), no cgroups, no accounting. Prints the state directory;
# tests/cluster/slurm_down.sh STATE_DIR stops exactly the daemons started here (by PID).
#
# Usage: tests/cluster/slurm_up.sh [STATE_DIR]
set -euo pipefail

state=${1:-/tmp/neurodyn-slurm}
if [ "$(id -u)" != 0 ]; then
    echo "slurm_up.sh: needs root (it writes /etc/slurm and starts daemons)" >&2
    exit 2
fi
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
fi
# Packages may have started daemons through an init system before a config existed.
for svc in slurmctld slurmd munge; do
    command -v systemctl >/dev/null && systemctl stop "$svc" >/dev/null 2>&1 || true
done

mkdir -p "$state"/{spool/ctld,spool/d,log,run}
chown -R slurm:slurm "$state"
# slurmctld drops to the slurm user, which must reach the state directory: a private parent
# (mktemp -d makes 0700 directories) is refused here with a clear message instead of a
# controller that dies at start.
if ! runuser -u slurm -- test -w "$state/spool/ctld"; then
    echo "slurm_up.sh: user 'slurm' cannot write $state/spool/ctld; make every parent of" \
        "$state searchable by others (chmod o+x)" >&2
    exit 1
fi

# munge: key, runtime dir, daemon as the munge user.
install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
install -d -o munge -g munge -m 0755 /run/munge
if [ ! -s /etc/munge/munge.key ]; then
    if command -v mungekey >/dev/null; then mungekey --create --force >/dev/null 2>&1 || true; fi
    [ -s /etc/munge/munge.key ] || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    # munged insists that its pid file's directories belong to root or munge: keep it in
    # /run/munge, and record that this script started it.
    runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/neurodyn-munged.pid
    for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
    cp /run/munge/neurodyn-munged.pid "$state/run/munged.started"
fi
munge -n | unmunge >/dev/null

host=$(hostname -s)
cpus=$(nproc)
mem_mb=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
mkdir -p /etc/slurm
cat >/etc/slurm/slurm.conf <<CONF
ClusterName=neurodyn
SlurmctldHost=${host}(127.0.0.1)
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
MinJobAge=300
SchedulerType=sched/backfill
StateSaveLocation=$state/spool/ctld
SlurmdSpoolDir=$state/spool/d
SlurmctldPidFile=$state/run/slurmctld.pid
SlurmdPidFile=$state/run/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${mem_mb} State=UNKNOWN
PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP
CONF

/usr/sbin/slurmctld -i
/usr/sbin/slurmd
deadline=$(($(date +%s) + 60))
while [ "$(date +%s)" -lt "$deadline" ]; do
    if ! kill -0 "$(cat "$state/run/slurmctld.pid" 2>/dev/null || echo 0)" 2>/dev/null; then
        sleep 0.5 # the pid file may lag the daemonising fork
        kill -0 "$(cat "$state/run/slurmctld.pid" 2>/dev/null || echo 0)" 2>/dev/null || break
    fi
    if timeout 5 sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
        echo "$state"
        exit 0
    fi
    sleep 0.2
done
echo "slurm_up.sh: the node did not become idle; the daemons' logs ($state/log):" >&2
tail -n 20 "$state"/log/*.log >&2 || true
exit 1
