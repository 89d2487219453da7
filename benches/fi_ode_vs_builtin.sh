#!/usr/bin/env bash
# The f-I curves of Hodgkin-Huxley from the `.ode` file (studies/models/hh.ode: RK4 on lanes,
# the file's bytecode compiled for blocks of 16 neurons) against the built-in `hh` (the batch
# kernel, exponential Euler), 0 to 200 uA/cm^2 in steps of 0.5, three starts, every onset,
# offset and the rheobase multisected, no overlay diagram; whole processes on every core,
# alternating in one run (issue 19). The `.ode` file runs at the built-in's dt (0.01 ms) and at
# dt 0.05 ms, where RK4's stated error is still below the built-in's. Prints wall and CPU time
# of each (medians), the ratios, and the integrator error each report states (dt/2, Richardson).
# Usage: benches/fi_ode_vs_builtin.sh [rounds]   (after `cargo build --release`)
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
  "builtin-hh|--model hh"
  "hh.ode-dt0.01|--model-file studies/models/hh.ode"
  "hh.ode-dt0.05|--model-file studies/models/hh.ode --dt 0.05"
)
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $N rounds"
for _ in $(seq "$N"); do
  for c in "${configs[@]}"; do
    name=${c%%|*}
    # shellcheck disable=SC2086
    r=$(t "$B" fi ${c#*|} --no-overlay --out "$work/$name")
    wall[$name]="${wall[$name]:-} ${r% *}"
    cpu[$name]="${cpu[$name]:-} ${r#* }"
  done
done
base=$(med ${wall[builtin-hh]})
for c in "${configs[@]}"; do
  name=${c%%|*}
  # shellcheck disable=SC2086
  w=$(med ${wall[$name]})
  echo "$name: wall $w s (runs:${wall[$name]}), CPU $(med ${cpu[$name]}) s; speed against built-in hh: $(echo "scale=2; $base / $w" | bc)"
  grep -o "puts the rates at dt within about [0-9.]*% of converged" "$work/$name/summary.md" | sed 's/^/  /'
  grep -o "in [0-9.]* s" "$work/$name/summary.md" | head -1 | sed 's/^/  analysis time /'
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
