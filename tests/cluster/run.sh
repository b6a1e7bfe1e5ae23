#!/usr/bin/env bash
# Run the pipeline's tiny configuration through a real single-node SLURM cluster on
# localhost and check that its results match a local run of the same configuration.
# Needs root (installs Debian's slurm + munge when missing, starts and stops the daemons).
# Usage: tests/cluster/run.sh [CONFIGFILE]   (default config/tiny.yaml)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cfg=${1:-config/tiny.yaml}
py=${PYTHON:-$repo/.venv/bin/python}
snakemake=$(dirname "$py")/snakemake
work=$(mktemp -d /tmp/neurodyn-cluster.XXXXXX)
chmod 755 "$work" # the slurm and munge users must reach the cluster's state under it
state="$work/cluster" # daemons' state, apart from the two run directories

"$py" -m pip install --quiet -c "$repo/constraints.txt" snakemake-executor-plugin-slurm
cleanup() {
    local status=$?
    "$repo/tests/cluster/slurm_down.sh" "$state"
    if [ "$status" = 0 ]; then
        rm -rf "$work"
    else
        rm -rf "$work/local" "$work/slurm" "$state"
        echo "run.sh: failed; the two runs' logs are in $work" >&2
    fi
}
trap cleanup EXIT
start=$(date +%s)
"$repo/tests/cluster/slurm_up.sh" "$state" >/dev/null
echo "slurm up in $(( $(date +%s) - start )) s: $(sinfo -h -o '%P %T %c CPUs %m MB')"

for mode in local slurm; do
    mkdir -p "$work/$mode"
    cp -r "$repo/Snakefile" "$repo/workflow" "$repo/profiles" "$repo/config" "$repo/data" "$work/$mode/"
    t0=$(date +%s)
    if [ "$mode" = slurm ]; then
        (cd "$work/$mode" && "$snakemake" --workflow-profile profiles/slurm --configfile "$cfg" \
            --jobs 4 --slurm-logdir "$work/$mode/.snakemake/slurm_logs" >"$work/$mode.log" 2>&1) \
            || { tail -50 "$work/$mode.log"; exit 1; }
    else
        (cd "$work/$mode" && "$snakemake" --configfile "$cfg" \
            >"$work/$mode.log" 2>&1) || { tail -50 "$work/$mode.log"; exit 1; }
    fi
    echo "$mode run: $(( $(date +%s) - t0 )) s"
done
grep -c "Submitted batch job\|submitted.*SLURM\|Job .* has been submitted" "$work/slurm.log" || true
"$py" "$repo/tests/cluster/compare_results.py" "$work/local/results" "$work/slurm/results"
