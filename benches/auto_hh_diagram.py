# AUTO-07p's side of benches/auto_vs_excitable.sh: the hh diagram alone, as in
# tests/fixtures/auto/run_auto.py (same equations hh.f90, same constants, same start): the
# equilibria from -20 to 250 with Hopf detection, then the cycle branch from the first Hopf
# point (NTST 200, NCOL 4, EPSL=EPSU=1e-9) up to the upper one. Without the fixture script's
# Hopf curves, so both tools compute the same diagram. Run as `auto-07p auto_hh_diagram.py`
# in a folder holding hh.f90 and run_auto.py.
import os
import sys

sys.path.insert(0, os.getcwd())
os.environ["MODEL"] = "none"  # importing the fixture script runs none of its models
import run_auto

common = run_auto.common
u0 = run_auto.start(-20.0, [-95, 0.03, 0.8, 0.25], False)
eq = run(e="hh", sv="hh_eq", IPS=1, ICP=[1], NDIM=4, U={k + 1: x for k, x in enumerate(u0)},
         PAR={1: -20.0, 2: 36.0}, DS=0.1, DSMIN=1e-6, DSMAX=2.0, UZSTOP={1: [-20.0, 250.0]},
         **common)
cyc = run(eq("HB1"), sv="hh_cyc", IPS=2, ICP=[1, 11], DS=0.05, DSMIN=1e-6, DSMAX=2.0, NMX=401,
          UZSTOP={1: [0.0, 154.0]}, STOP=["HB1"],
          **{k: v for k, v in common.items() if k != "NMX"})
