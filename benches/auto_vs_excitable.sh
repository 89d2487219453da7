#!/usr/bin/env bash
# Whole hh bifurcation diagram at AUTO's mesh (NTST 200, NCOL 4), whole processes, one core
# each, alternating in one run: AUTO-07p (OMP_NUM_THREADS=1; benches/auto_hh_diagram.py with
# tests/fixtures/auto/hh.f90: equilibria with Hopf detection, then the cycle branch from the
# first Hopf point, EPSL=EPSU=1e-9; the process includes AUTO's compile of the equations and
# its Python front end, as its users run it; AUTO's own timer is printed too)
# against `excitable bifurcation --model hh --ntst 200 --ncol 4` (RAYON_NUM_THREADS=1, report
# written), both pinned with taskset to the same core. Then the same pair on every core
# (AUTO with OMP_NUM_THREADS = the number of cores, excitable with its default rayon pool, no
# pinning). Also the default diagram (NTST 60) on one core and on all. Prints every time, the
# medians, the ratios and the load average.
# Usage: benches/auto_vs_excitable.sh [rounds] [core]   (after `cargo build --release`;
# EXCITABLE=path times another build of the binary)
# AUTO's part needs `apt-get install auto-07p gfortran`, and numpy and scipy in the `python3`
# that `auto-07p` runs (the first on PATH: `python3 -m pip install numpy scipy`); without
# AUTO only excitable's rows are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
B=${EXCITABLE:-$root/target/release/excitable}
N=${1:-5}
CORE=${2:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# t CMD...: "wall cpu" seconds of the whole process (cpu = user + system, of it and its
# children: AUTO's compiler and Fortran run included), its console kept in $work/last.log.
t() {
  local s e
  s=$(date +%s.%N)
  /usr/bin/time -f "%U %S" -o "$work/cpu" "$@" >"$work/last.log" 2>&1 || echo "FAILED: $*" >&2
  e=$(date +%s.%N)
  echo "$(echo "$e - $s" | bc) $(awk '{print $1 + $2}' "$work/cpu")"
}
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
have_auto=0
if command -v auto-07p >/dev/null && command -v gfortran >/dev/null; then
  have_auto=1
  cp tests/fixtures/auto/hh.f90 tests/fixtures/auto/run_auto.py benches/auto_hh_diagram.py "$work/"
fi
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); core $CORE; $N rounds"
auto=(); autocpu=(); autoown=(); ex=(); excpu=(); ex60=(); ex60cpu=(); ex60all=()
autoall=(); exall=()
cores=$(nproc)
for _ in $(seq "$N"); do
  if [ $have_auto = 1 ]; then
    r=$(cd "$work" && rm -f b.* s.* d.* && t env OMP_NUM_THREADS=1 taskset -c "$CORE" auto-07p auto_hh_diagram.py)
    [ -s "$work/b.hh_cyc" ] || { echo "AUTO wrote no branch (numpy or scipy missing in the python3 it runs?); its console:"; cat "$work/last.log"; exit 1; }
    auto+=("${r% *}"); autocpu+=("${r#* }")
    # AUTO's own timer: the sum of its runs' "Total Time" (the Fortran computation alone).
    autoown+=("$(grep -i 'total time' "$work/last.log" | awk '{s += $NF} END {print s}')")
  fi
  r=$(t env RAYON_NUM_THREADS=1 taskset -c "$CORE" "$B" bifurcation --model hh --ntst 200 --ncol 4 --out "$work/ex200")
  ex+=("${r% *}"); excpu+=("${r#* }")
  r=$(t env RAYON_NUM_THREADS=1 taskset -c "$CORE" "$B" bifurcation --model hh --out "$work/ex60")
  ex60+=("${r% *}"); ex60cpu+=("${r#* }")
  r=$(t "$B" bifurcation --model hh --out "$work/ex60all")
  ex60all+=("${r% *}")
  if [ $have_auto = 1 ]; then
    r=$(cd "$work" && rm -f b.* s.* d.* && t env OMP_NUM_THREADS="$cores" auto-07p auto_hh_diagram.py)
    [ -s "$work/b.hh_cyc" ] || { echo "AUTO wrote no branch"; cat "$work/last.log"; exit 1; }
    autoall+=("${r% *}")
  fi
  r=$(t "$B" bifurcation --model hh --ntst 200 --ncol 4 --out "$work/ex200all")
  exall+=("${r% *}")
done
me=$(med "${ex[@]}"); mec=$(med "${excpu[@]}")
echo "excitable NTST 200, one core: wall ${ex[*]} -> median $me s; cpu ${excpu[*]} -> median $mec s"
if [ $have_auto = 1 ]; then
  ma=$(med "${auto[@]}"); mac=$(med "${autocpu[@]}"); mao=$(med "${autoown[@]}")
  echo "AUTO-07p  NTST 200, one core: wall ${auto[*]} -> median $ma s; cpu ${autocpu[*]} -> median $mac s"
  # AUTO's "Total Time" is wall-clock: on a loaded machine compare it with wall times only.
  echo "AUTO-07p's own timer (wall time of its Fortran runs): ${autoown[*]} -> median $mao s"
  echo "AUTO / excitable, whole processes: wall $(echo "scale=2; $ma / $me" | bc), cpu $(echo "scale=2; $mac / $mec" | bc)"
else
  echo "AUTO-07p not installed (apt-get install auto-07p gfortran): no ratio"
fi
mx=$(med "${exall[@]}")
echo "excitable NTST 200, all $cores cores: wall ${exall[*]} -> median $mx s"
if [ $have_auto = 1 ]; then
  mxa=$(med "${autoall[@]}")
  echo "AUTO-07p  NTST 200, all $cores cores: wall ${autoall[*]} -> median $mxa s"
  echo "AUTO / excitable on all cores, wall: $(echo "scale=2; $mxa / $mx" | bc)"
fi
echo "excitable default diagram (NTST 60), one core: wall ${ex60[*]} -> median $(med "${ex60[@]}") s; cpu median $(med "${ex60cpu[@]}") s"
echo "excitable default diagram (NTST 60), all cores: wall ${ex60all[*]} -> median $(med "${ex60all[@]}") s"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
