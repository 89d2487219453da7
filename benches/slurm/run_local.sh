#!/usr/bin/env bash
# Proves the Slurm recipe of the README on one machine: starts a single-node Slurm cluster
# (Debian's slurm-wlm and munge; run as root), submits benches/slurm/sweep.sbatch as a job
# array of 4 shards, waits, merges, and checks the merged grid equals an unsharded run.
#
#   apt-get install -y slurm-wlm munge && benches/slurm/run_local.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v sbatch >/dev/null || { echo "sbatch not found: apt-get install -y slurm-wlm munge"; exit 1; }
cargo build --release --quiet
work=$(mktemp -d /tmp/excitable-slurm.XXXX)
host=$(hostname -s)
if ! sinfo >/dev/null 2>&1; then
    mkdir -p /etc/slurm /var/lib/slurm/slurmd /var/lib/slurm/slurmctld /var/log/slurm
    cat > /etc/slurm/slurm.conf <<CONF
ClusterName=excitable
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    [ -f /etc/munge/munge.key ] || mungekey --create
    pgrep -x munged >/dev/null || (mkdir -p /run/munge && chown munge: /run/munge 2>/dev/null; su -s /bin/sh munge -c munged 2>/dev/null || munged --force)
    pgrep -x slurmctld >/dev/null || slurmctld
    pgrep -x slurmd >/dev/null || slurmd
    for _ in $(seq 30); do sinfo -h -o %t 2>/dev/null | grep -q idle && break; sleep 1; done
fi
sinfo
# A small grid so the proof takes seconds: 4 g_K x 3 g_Na x 5 currents, 300 ms runs.
export EXCITABLE="$PWD/target/release/excitable" OUT="$work/sharded" CURRENTS=0:20:5 T_MAX=300 TRANSIENT=100
sed -e 's/g_k=20:50:1/g_k=30:39:3/' -e 's/g_na=80:160:2/g_na=100:140:20/' benches/slurm/sweep.sbatch > "$work/sweep.sbatch"
(cd "$work" && sbatch --wait --array=1-4 "$work/sweep.sbatch")
"$EXCITABLE" merge "$OUT"
"$EXCITABLE" sweep --model hh --param g_k=30:39:3 --param g_na=100:140:20 --current 0:20:5 \
    --t-max 300 --transient 100 --out "$work/whole" >/dev/null
# Same frame, same writer: the merged file is byte-identical to the unsharded one.
cmp "$work/whole/grid.parquet" "$work/sharded/grid.parquet"
echo "merged shards equal the whole run: $(md5sum < "$work/sharded/grid.parquet")"
echo "slurm recipe OK: $work"
