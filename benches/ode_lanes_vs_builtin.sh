#!/usr/bin/env bash
# Hodgkin-Huxley from the `.ode` file (studies/models/hh.ode on lanes, the file's bytecode
# compiled for blocks of 32 neurons) against the built-in `hh` (the batch kernel, exponential
# Euler), whole processes on every core, alternating in one run (issue 19), for the two commands
# that run on lanes:
#   fi     0 to 200 uA/cm^2 in steps of 0.5, three starts, every onset, offset and the rheobase
#          multisected, no overlay diagram;
#   sweep  g_K from 30 to 42 mS/cm^2 in steps of 0.5 x I from 0 to 50 in steps of 1 (1275
#          points of 1200 ms), each from its own rest.
# The `.ode` file runs with the built-in's scheme at its dt (`--method exp-euler`, dt 0.01 ms:
# the same steps, df/dx from the diagonal pass), with RK4 (its default) at that dt, and with
# RK4 at dt 0.05 ms, where RK4's stated error is still below the built-in's. Prints wall and CPU time of each (medians), the speed
# against the built-in, and the integrator error each report states (dt/2, Richardson).
# Usage: benches/ode_lanes_vs_builtin.sh [rounds] [fi|sweep|all]   (after `cargo build --release`)
set -euo pipefail
cd "$(dirname "$0")/.."
B=$PWD/target/release/excitable
N=${1:-3}
WHICH=${2:-all}
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
configs=()
if [[ $WHICH == all || $WHICH == fi ]]; then
  configs+=(
    "fi builtin-hh|fi --no-overlay --model hh"
    "fi hh.ode-exp-euler-dt0.01|fi --no-overlay --model-file studies/models/hh.ode --method exp-euler"
    "fi hh.ode-dt0.01|fi --no-overlay --model-file studies/models/hh.ode"
    "fi hh.ode-dt0.05|fi --no-overlay --model-file studies/models/hh.ode --dt 0.05"
  )
fi
if [[ $WHICH == all || $WHICH == sweep ]]; then
  grid="--current 0:50:1"
  configs+=(
    "sweep builtin-hh|sweep --model hh --param g_k=30:42:0.5 $grid"
    "sweep hh.ode-exp-euler-dt0.01|sweep --model-file studies/models/hh.ode --param gk=30:42:0.5 $grid --method exp-euler"
    "sweep hh.ode-dt0.01|sweep --model-file studies/models/hh.ode --param gk=30:42:0.5 $grid"
    "sweep hh.ode-dt0.05|sweep --model-file studies/models/hh.ode --param gk=30:42:0.5 $grid --dt 0.05"
  )
fi
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $N rounds"
for _ in $(seq "$N"); do
  for c in "${configs[@]}"; do
    name=${c%%|*}
    # shellcheck disable=SC2086
    r=$(t "$B" ${c#*|} --out "$work/${name// /_}")
    wall[$name]="${wall[$name]:-} ${r% *}"
    cpu[$name]="${cpu[$name]:-} ${r#* }"
  done
done
for c in "${configs[@]}"; do
  name=${c%%|*}
  command=${name%% *}
  # shellcheck disable=SC2086
  base=$(med ${wall[$command builtin-hh]})
  # shellcheck disable=SC2086
  w=$(med ${wall[$name]})
  echo "$name: wall $w s (runs:${wall[$name]}), CPU $(med ${cpu[$name]}) s; speed against built-in hh: $(echo "scale=2; $base / $w" | bc)"
  grep -oE "(puts the rates at dt|the rates at dt are) within about [0-9.]*% of converged" "$work/${name// /_}/summary.md" | sed 's/^/  /'
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
