#!/usr/bin/env bash
# The f-I curves of hh (0 to 200 uA/cm^2 in steps of 0.5, three starts, multisection of every
# onset, offset and the rheobase) with each integrator of the batch kernel, whole processes on
# every core, alternating in one run (issue 19): exponential Euler at dt 0.01 ms in f64 (the
# default) against the exponential midpoint rule and the staggered scheme at dt 0.02 ms with f32
# exponentials, with and without the bifurcation-diagram overlay. Prints wall and CPU time of each run, the medians,
# and the integrator error each report states (its dt/2 check, Richardson).
# Usage: benches/fi_schemes.sh [rounds]   (after `cargo build --release`)
set -euo pipefail
cd "$(dirname "$0")/.."
B=$PWD/target/release/excitable
N=${1:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
t() {
  local s e
  s=$(date +%s.%N)
  /usr/bin/time -f "%U %S" -o "$work/cpu" "$@" >"$work/last.log" 2>&1 || { echo "FAILED: $*" >&2; cat "$work/last.log" >&2; exit 1; }
  e=$(date +%s.%N)
  echo "$(echo "$e - $s" | bc) $(awk '{print $1 + $2}' "$work/cpu")"
}
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A wall cpu
configs=(
  "euler-f64|--no-overlay"
  "midpoint-mixed|--no-overlay --method exp-midpoint --precision mixed --dt 0.02"
  "staggered-mixed|--no-overlay --method exp-staggered --precision mixed --dt 0.02"
  "euler-f64-overlay|"
  "midpoint-mixed-overlay|--method exp-midpoint --precision mixed --dt 0.02"
  "staggered-mixed-overlay|--method exp-staggered --precision mixed --dt 0.02"
)
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $N rounds"
for _ in $(seq "$N"); do
  for c in "${configs[@]}"; do
    name=${c%%|*}
    # shellcheck disable=SC2086
    r=$(t "$B" fi --model hh ${c#*|} --out "$work/$name")
    wall[$name]="${wall[$name]:-} ${r% *}"
    cpu[$name]="${cpu[$name]:-} ${r#* }"
  done
done
for c in "${configs[@]}"; do
  name=${c%%|*}
  # shellcheck disable=SC2086
  echo "$name: wall $(med ${wall[$name]}) s (runs:${wall[$name]}), CPU $(med ${cpu[$name]}) s"
  grep -o "puts the rates at dt within about [0-9.]*% of converged" "$work/$name/summary.md" | sed 's/^/  /'
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
