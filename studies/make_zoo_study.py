#!/usr/bin/env python3
"""Write studies/zoo.toml: every model of the reference zoo (studies/models/zoo/zoo.toml) run in
full (rest, bifurcation diagram with cycles, phase plane for planar models), each number checked
against the independent references committed in tests/fixtures/zoo (AUTO-07p's Hopf points and
folds, scipy's rest states) and tests/fixtures/cycle_ends (AUTO's folds at SNIC ends and its
large-period orbit at a homoclinic end).

Run from the repository root: python3 studies/make_zoo_study.py
Then: excitable study run studies/zoo.toml --out reports/zoo
"""
import csv
import os
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZOO = os.path.join(ROOT, "studies/models/zoo")
FIX = os.path.join(ROOT, "tests/fixtures/zoo")

# SNIC and homoclinic ends (tests/fixtures/cycle_ends: AUTO's LP of equilibria, and the
# parameter of AUTO's cycle of period 3000 for the homoclinic orbit).
ENDS = {
    "ml-snic": ("snic", 39.963153093),
    "wang-buzsaki": ("snic", 0.16008632717),
    "ml-homoclinic": ("homoclinic", 35.006734198),
}

# The two diagrams whose cycle branches take most of the study's time (Connor-Stevens' long
# tail at its homoclinic end, Hindmarsh-Rose's bursting orbits) while no check reads their
# cycles: the test suite's fast mode (`study run --fast`) skips those branches.
FAST_WITHOUT_CYCLES = {"connor-stevens", "hindmarsh-rose"}

manifest = tomllib.load(open(os.path.join(ZOO, "zoo.toml"), "rb"))["model"]
points = {}
for row in csv.DictReader(open(os.path.join(FIX, "points.csv"))):
    points.setdefault(row["model"], []).append(row)
rest = {}
for row in csv.DictReader(open(os.path.join(FIX, "rest.csv"))):
    if row["index"] == "0" and float(row["i"]) == 0.0:
        rest[row["model"]] = float(row["state"].split()[0])


def source(m):
    if "builtin" in m:
        return f'model = "{m["builtin"]}"'
    rel = os.path.normpath(os.path.join("models/zoo", m["file"]))
    return f'model-file = "{{study}}/{rel}"'


def q(x):
    return repr(float(x))


out = []
out.append('title = "The reference zoo: every model run in full against independent references"')
out.append('''shows = """
The models of studies/models/zoo/zoo.toml (Hodgkin-Huxley in both conventions, the HH + calcium
neurone, Morris-Lecar in its Hopf, SNIC and homoclinic sets, FitzHugh-Nagumo, Wang-Buzsaki,
Connor-Stevens, Rinzel's reduction, Hindmarsh-Rose and XPPAUT's own lecar.ode, fhn.ode and
hhred.ode), each run as a user would: the rest state, the whole bifurcation diagram over its
range with cycles, and the phase plane of `hh` and of the planar `.ode` models other than
`hhred.ode`. (LIF, also in the manifest, has no rest state, diagram or phase plane to check:
those commands refuse a hybrid model.)
"""''')
out.append('''adds = """
Every number is checked against a tool the toolkit did not compute it with: AUTO-07p 0.9.2 for
the Hopf points and folds (tests/fixtures/zoo/run_auto_zoo.py), scipy for the rest states
(tests/fixtures/zoo/make_fixtures.py), and AUTO's folds and large-period orbits for the SNIC and
homoclinic ends of the cycle branches (tests/fixtures/cycle_ends). This file is written by
studies/make_zoo_study.py from those fixtures.
"""''')
out.append("")
checks = []
for m in manifest:
    name = m["name"]
    step = name.replace("-", "_")
    param = m.get("param")
    if name == "lif":
        continue
    rest_args = source(m)
    if param:
        rest_args += f', set = "{param}=0"'
    out.append(f'''[[step]]
name = "{step}_rest"
command = "rest"
about = "{name}: every equilibrium at 0 with its eigenvalues."
args = {{ {rest_args}, current = [0] }}
''')
    if name in rest:
        col = "v_mv" if "builtin" in m or m["file"].endswith(".toml") else "v"
        unit = "mV" if col == "v_mv" else "(file units)"
        v = rest[name]
        tol = max(1e-6 * abs(v), 1e-8)
        checks.append(f'''[[check]]
claim = "{name}: the lowest equilibrium at 0"
document = "scipy: {v:.10g}"
table = "{step}_rest/equilibria.parquet"
column = "{col}"
agg = "first"
unit = "{unit}"
claims = {{ value = {q(v)}, tol = {tol:.3g} }}
expect = {q(v)}
tol = {tol:.3g}
evidence = "tests/fixtures/zoo/rest.csv"
''')
    if "range" not in m:
        continue
    lo, hi = m["range"]
    args = f"{source(m)}, from = {q(lo)}, to = {q(hi)}"
    if param:
        args += f', param = "{param}"'
    out.append(f'''[[step]]
name = "{step}_bifurcation"
command = "bifurcation"
about = "{name}: equilibria and cycles over {lo:g}..{hi:g}."
args = {{ {args} }}
''')
    if name in FAST_WITHOUT_CYCLES:
        kinds = {p["kind"] for p in points.get(name, [])}
        assert name not in ENDS and kinds <= {"fold", "hopf"}, f"{name}: a check reads its cycles"
        out[-1] += ("# Its cycle branches take most of the study's time and no check reads them: "
                    "fast mode skips them.\nfast = { no-cycles = true }\n")
    unit = "uA/cm^2" if ("builtin" in m or m["file"].endswith(".toml")) and not param else "(file units)"
    by_kind = {}
    for p in points.get(name, []):
        by_kind.setdefault(p["kind"], []).append(float(p["param"]))
    for kind, values in sorted(by_kind.items()):
        values.sort()
        checks.append(f'''[[check]]
claim = "{name}: {len(values)} {kind} point(s) over {lo:g}..{hi:g}"
document = "AUTO-07p: {', '.join(f'{v:.10g}' for v in values)}"
table = "{step}_bifurcation/special_points.parquet"
column = "param"
agg = "count"
filter = ["kind", "{kind}"]
unit = "points"
claims = {{ op = "==", value = {len(values)} }}
expect = {len(values)}
tol = 0
evidence = "tests/fixtures/zoo/points.csv"
''')
        for agg, v in (("min", values[0]), ("max", values[-1]))[: 1 if len(values) == 1 else 2]:
            tol = max(1e-7 * abs(v), 1e-9)
            checks.append(f'''[[check]]
claim = "{name}: the {'lowest' if agg == 'min' else 'highest'} {kind} point"
document = "AUTO-07p: {v:.10g}"
table = "{step}_bifurcation/special_points.parquet"
column = "param"
agg = "{agg}"
filter = ["kind", "{kind}"]
unit = "{unit}"
claims = {{ value = {q(v)}, tol = {tol:.3g} }}
expect = {q(v)}
tol = {tol:.3g}
evidence = "1e-7 relative, the zoo's tolerance"
''')
    if name in ENDS:
        kind, v = ENDS[name]
        tol = 1e-6 * max(abs(v), 1.0)
        checks.append(f'''[[check]]
claim = "{name}: firing begins at a {kind} end of the cycle branch"
document = "AUTO-07p: {v:.11g}"
table = "{step}_bifurcation/special_points.parquet"
column = "param"
agg = "first"
filter = ["kind", "{kind}"]
unit = "{unit}"
claims = {{ value = {q(v)}, tol = {tol:.3g} }}
expect = {q(v)}
tol = {tol:.3g}
evidence = "tests/fixtures/cycle_ends"
''')
    planar = "file" in m and m["file"].endswith(".ode") and name != "hindmarsh-rose" and name != "xpp-hhred"
    if planar or name == "hh":
        current = m.get("fi", [0.0])[0] if m.get("fi") else 0.0
        pargs = f"{source(m)}, current = {q(current)}, t-max = 300"
        # A file whose own parameter takes the current keeps the file's value of it here (the
        # rest step sets it to 0), and the current is added to that value.
        plane_at = f"{current:g} added to the file's {param}" if param else f"{current:g}"
        out.append(f'''[[step]]
name = "{step}_phase_plane"
command = "phase-plane"
about = "{name}: the phase plane at {plane_at}."
args = {{ {pargs} }}
''')

open(os.path.join(ROOT, "studies/zoo.toml"), "w").write("\n".join(out + checks))
print(f"studies/zoo.toml: {len(checks)} checks")
