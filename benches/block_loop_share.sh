#!/usr/bin/env bash
# Whether the block loops still hold their work (issue 19). The batch kernel and the `.ode`
# lanes each run one multiversioned function per block of neurons (`batch::run_block`,
# `ode_lanes::run_block`), compiled for the CPU's widest vectors. Every array helper the step
# uses must be inlined into it: a helper left out of line is compiled for the baseline target
# (SSE2), called at every step, and can cost a fifth of the speed without any test failing
# (docs/speed-log.md, "A squaring left out of line by a change elsewhere"). Which helpers the
# compiler inlines can change with an edit anywhere in the crate.
#
# This script profiles five `fi` runs with `perf record` and prints each one's share of samples
# in its block loop, and the largest other symbols. Run it by hand after a change to the crate.
# Exit status: 0, every share at least MIN_SHARE (default 95%: on 5 December 2026 the builds
# measured 97.4-99.3%, and the build with the squaring out of line 88.0% and 91.5% on
# `hh.ode`); 1, a share below it; 2, no `perf` (nothing was checked); 3, a run or `perf`
# itself failed (nothing more was checked).
# Usage: benches/block_loop_share.sh   (after `cargo build --release`; EXCITABLE=path for
# another build)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${EXCITABLE:-$PWD/target/release/excitable}
MIN_SHARE=${MIN_SHARE:-95}
if ! command -v perf >/dev/null; then
  echo "perf is not installed: not run (apt-get install linux-perf)"
  exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
runs=(
  "batch::run_block|built-in hh, batch kernel|--model hh"
  "ode_lanes::run_block|hh.ode, lanes, exponential Euler|--model-file studies/models/hh.ode --method exp-euler"
  "ode_lanes::run_block|hh.ode, lanes, RK4|--model-file studies/models/hh.ode --direction rest"
  "ode_lanes::run_block|ml.ode, lanes, RK4|--model-file studies/models/ml.ode --direction rest"
  "ode_lanes::run_block|ml.ode, lanes, exponential Euler|--model-file studies/models/ml.ode --method exp-euler --direction rest"
)
status=0
for r in "${runs[@]}"; do
  IFS='|' read -r loop name args <<<"$r"
  # shellcheck disable=SC2086
  perf record -q -F 2000 -o "$work/perf.data" "$B" fi --no-overlay $args --out "$work/out" \
    >"$work/run.log" 2>&1 || { echo "FAILED (perf record, or fi itself): fi $args"; cat "$work/run.log"; exit 3; }
  perf report -i "$work/perf.data" --no-children --stdio >"$work/full.txt" 2>"$work/report.err" ||
    { echo "FAILED: perf report"; cat "$work/report.err"; exit 3; }
  # Sample lines only ("  97.50%  command  object  [.] symbol"); awk alone, so that no match
  # is a share of 0, not a silent exit under pipefail.
  awk '/^ +[0-9.]+%/' "$work/full.txt" >"$work/report.txt"
  share=$(awk -v p="$loop::run_block_" 'index($0, p) {s += $1} END {printf "%.1f", s}' "$work/report.txt")
  verdict=ok
  if awk -v s="$share" -v m="$MIN_SHARE" 'BEGIN {exit !(s < m)}'; then
    verdict="BELOW $MIN_SHARE%"
    status=1
  fi
  echo "$name: $share% of the samples in $loop ($verdict)"
  # The three largest other symbols, each name whole (field 5 to the end of the line).
  awk -v p="$loop::run_block_" '!index($0, p) && n < 3 {
    n++; name = $5; for (i = 6; i <= NF; i++) name = name " " $i
    printf "    %s %s\n", $1, substr(name, 1, 140)
  }' "$work/report.txt"
done
exit $status
