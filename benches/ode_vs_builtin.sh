#!/usr/bin/env bash
# Whole-process time of the hh bifurcation diagram (current 0..200, default mesh) from
# studies/models/hh.ode against the built-in `hh`, alternating the two in one run, N rounds
# (default 7); prints each time, the medians and their ratio, and the load average.
# Usage: benches/ode_vs_builtin.sh [rounds]   (after `cargo build --release`)
set -euo pipefail
cd "$(dirname "$0")/.."
B=./target/release/excitable
N=${1:-7}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
ode=(); blt=()
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq "$N"); do
  ode+=("$(t $B bifurcation --model-file studies/models/hh.ode --from 0 --to 200 --out "$out/o")")
  blt+=("$(t $B bifurcation --model hh --from 0 --to 200 --out "$out/b")")
done
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mo=$(med "${ode[@]}"); mb=$(med "${blt[@]}")
echo "hh.ode: ${ode[*]}"
echo "hh:     ${blt[*]}"
echo "median hh.ode $mo s, built-in hh $mb s, ratio $(echo "scale=3; $mo / $mb" | bc)"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
