#!/usr/bin/env bash
# Whole hh bifurcation diagram at AUTO's mesh (NTST 200, NCOL 4), whole processes, one core
# each, alternating in one run: AUTO-07p (OMP_NUM_THREADS=1; tests/fixtures/auto/run_auto.py
# with hh.f90: equilibria with Hopf detection, then the cycle branch from the first Hopf point,
# EPSL=EPSU=1e-9; the process includes AUTO's compile of the equations, as its users run it)
# against `excitable bifurcation --model hh --ntst 200 --ncol 4` (RAYON_NUM_THREADS=1, report
# written), both pinned with taskset to the same core. Also the default diagram (NTST 60) on
# one core and on all. Prints every time, the medians, the ratio and the load average.
# Usage: benches/auto_vs_excitable.sh [rounds] [core]   (after `cargo build --release`)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
B=$root/target/release/excitable
N=${1:-5}
CORE=${2:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || echo "FAILED: $*" >&2; e=$(date +%s.%N); echo "$e - $s" | bc; }
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
have_auto=0
if command -v auto-07p >/dev/null && command -v gfortran >/dev/null; then
  have_auto=1
  cp tests/fixtures/auto/hh.f90 tests/fixtures/auto/run_auto.py "$work/"
fi
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); core $CORE; $N rounds"
auto=(); ex=(); ex60=(); ex60all=()
for _ in $(seq "$N"); do
  if [ $have_auto = 1 ]; then
    auto+=("$(cd "$work" && rm -f b.* s.* d.* && t env MODEL=hh OMP_NUM_THREADS=1 taskset -c "$CORE" auto-07p run_auto.py)")
    [ -s "$work/hh_auto.csv" ] || { echo "AUTO wrote no branch (is gfortran installed?)"; exit 1; }
  fi
  ex+=("$(t env RAYON_NUM_THREADS=1 taskset -c "$CORE" "$B" bifurcation --model hh --ntst 200 --ncol 4 --out "$work/ex200")")
  ex60+=("$(t env RAYON_NUM_THREADS=1 taskset -c "$CORE" "$B" bifurcation --model hh --out "$work/ex60")")
  ex60all+=("$(t "$B" bifurcation --model hh --out "$work/ex60all")")
done
me=$(med "${ex[@]}")
echo "excitable NTST 200, one core: ${ex[*]} -> median $me s"
if [ $have_auto = 1 ]; then
  ma=$(med "${auto[@]}")
  echo "AUTO-07p  NTST 200, one core: ${auto[*]} -> median $ma s"
  echo "AUTO / excitable = $(echo "scale=2; $ma / $me" | bc)"
else
  echo "AUTO-07p not installed (apt-get install auto-07p gfortran): no ratio"
fi
echo "excitable default diagram (NTST 60), one core: ${ex60[*]} -> median $(med "${ex60[@]}") s"
echo "excitable default diagram (NTST 60), all cores: ${ex60all[*]} -> median $(med "${ex60all[@]}") s"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
