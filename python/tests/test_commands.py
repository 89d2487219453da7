"""One test per function: the Python call and the command line on the same arguments give
equal tables (every Parquet table of the CLI's report, equal to the last bit)."""

import pathlib
import re

import numpy as np
import polars as pl
import pytest

import excitable as ex
from conftest import ROOT, assert_same_table, assert_same_tables, cli_tables

ML = ROOT / "studies" / "models" / "ml.ode"


@pytest.fixture(scope="module")
def hh():
    return ex.Model("hh")


def test_simulate(cli, tmp_path, hh):
    t = ex.simulate(hh, stim="step:5:15:10", t_max=100, dt=0.01, method="rk4")
    cli("simulate", "--stim", "step:5:15:10", "--t-max", 100, "--dt", 0.01, "--method", "rk4", out=tmp_path)
    assert_same_tables(t, tmp_path)
    assert set(t.tables) == {"trace", "spikes"}
    assert t.spikes.height > 0 and "t_ms" in t.trace.columns


def test_rest(cli, tmp_path, hh):
    r = ex.rest(hh, current=[0, 10])
    cli("rest", "--current", 0, "--current", 10, out=tmp_path)
    assert_same_tables(r, tmp_path)
    assert {"equilibria", "eigenvalues", "eigenvectors"} <= set(r.tables)


def test_gating(cli, tmp_path, hh):
    g = ex.gating(hh, v_step=0.5)
    cli("gating", "--v-step", 0.5, out=tmp_path)
    assert_same_tables(g, tmp_path)


def test_phase_plane(cli, tmp_path, hh):
    p = ex.phase_plane(hh, current=10, t_max=100)
    cli("phase-plane", "--current", 10, "--t-max", 100, out=tmp_path)
    assert_same_tables(p, tmp_path)


def test_max_rate(cli, tmp_path, hh):
    m = ex.max_rate(hh, currents="0:60:20", window=200, transient=50)
    cli("max-rate", "--currents", "0:60:20", "--window", 200, "--transient", 50, out=tmp_path)
    assert_same_tables(m, tmp_path)


def test_bifurcation(cli, tmp_path, hh):
    d = ex.bifurcation(hh.with_params(g_l=0.03), param="i_ext", from_=-20, to=250)
    cli("bifurcation", "--set", "g_l=0.03", "--param", "i_ext", "--from", -20, "--to", 250, out=tmp_path)
    assert_same_tables(d, tmp_path)
    assert {"equilibria", "cycles", "special_points"} <= set(d.tables)
    assert d.special_points.height > 0
    assert "Hopf" in d.summary or "hopf" in d.summary.lower()
    written = d.write(tmp_path / "py")
    # the same summary but for the time it took
    untimed = lambda text: re.sub(r"\d+(\.\d+)? s\b", "T s", text)
    assert untimed((tmp_path / "py" / "summary.md").read_text()) == untimed((tmp_path / "summary.md").read_text())
    # (the folder's hidden mark is the staging's, not one of the report's files)
    assert {p.name for p in written} == {p.name for p in tmp_path.iterdir() if p.is_file() and not p.name.startswith(".")}
    for name, table in cli_tables(tmp_path / "py").items():
        assert_same_table(table, d.tables[name], name)


def test_bifurcation2(cli, tmp_path, hh):
    d = ex.bifurcation2(hh, max_points=150)
    cli("bifurcation2", "--max-points", 150, out=tmp_path)
    assert_same_tables(d, tmp_path)


def test_fi(cli, tmp_path, hh):
    f = ex.fi(hh, from_=0, to=20, step=1, t_max=400, transient=100)
    cli("fi", "--from", 0, "--to", 20, "--step", 1, "--t-max", 400, "--transient", 100, out=tmp_path)
    assert_same_tables(f, tmp_path)
    assert {"fi", "fi_summary"} <= set(f.tables)


def test_fi_from_an_ode_file(cli, tmp_path):
    ml = ex.Model.from_file(ML, v_var="v")
    f = ex.fi(ml, from_=60, to=120, step=20, t_max=300, transient=100, direction="rest", tol=0.5)
    cli("fi", "--model-file", ML, "--v-var", "v", "--from", 60, "--to", 120, "--step", 20,
        "--t-max", 300, "--transient", 100, "--direction", "rest", "--tol", 0.5, out=tmp_path)
    assert_same_tables(f, tmp_path)
    # A file has no units: rates are per 1000 of its time units, named so.
    assert f.fi["rate_per_1000t"].max() > 0  # Morris-Lecar fires above its Hopf point (93.9)


def test_fi_from_an_ode_file_with_exponential_euler(cli, tmp_path):
    # `method` named: the .ode file runs the built-in's scheme on lanes, as the command line does.
    ml = ex.Model.from_file(ML, v_var="v")
    f = ex.fi(ml, from_=60, to=120, step=20, t_max=300, transient=100, direction="rest", tol=0.5,
              method="exp-euler")
    cli("fi", "--model-file", ML, "--v-var", "v", "--from", 60, "--to", 120, "--step", 20,
        "--t-max", 300, "--transient", 100, "--direction", "rest", "--tol", 0.5,
        "--method", "exp-euler", out=tmp_path)
    assert_same_tables(f, tmp_path)
    assert "exponential Euler on lanes" in f.summary
    assert "RK4" not in f.summary.split("Integrator error")[0]


def test_prc(cli, tmp_path, hh):
    p = ex.prc(hh, currents="10:30:10")
    cli("prc", "--currents", "10:30:10", out=tmp_path)
    assert_same_tables(p, tmp_path)
    assert p.prc.height > 0


def test_excitability(cli, tmp_path, hh):
    e = ex.excitability(hh)
    cli("excitability", out=tmp_path)
    assert_same_tables(e, tmp_path)
    assert e.excitability["hodgkin_class"][0] == "2"


def test_fit(cli, tmp_path, hh):
    # `free` comma-separated, as the flag takes it.
    f = ex.fit(hh, free="g_na,g_k", target=["rest_mv=-66", "hopf=9"])
    cli("fit", "--free", "g_na,g_k", "--target", "rest_mv=-66", "--target", "hopf=9", out=tmp_path)
    assert_same_tables(f, tmp_path)
    assert {"fit_params", "fit_starts"} <= set(f.tables)


def test_fit_of_an_ode_model_writes_the_fitted_file(cli, tmp_path):
    # The command line wrote fitted.ode; Python had written none.
    fhn = ex.Model.from_file(ROOT / "studies" / "models" / "fhn.ode")
    f = ex.fit(fhn, free="a=0.5:0.9", target="rest_mv=-1.1")
    f.write(tmp_path / "py")
    cli("fit", "--model-file", ROOT / "studies" / "models" / "fhn.ode", "--free", "a=0.5:0.9", "--target", "rest_mv=-1.1", out=tmp_path / "cli")
    assert (tmp_path / "py" / "fitted.ode").read_text() == (tmp_path / "cli" / "fitted.ode").read_text()


def test_a_bad_sweep_parameter_says_why(cli):
    # The reason had been lost to a generic "expected a value of the setting's type".
    with pytest.raises(ex.Error) as e:
        ex.sweep(ex.Model("hh"), param="g_k=1:2:0", current="0")
    assert "need FROM <= TO and STEP > 0" in str(e.value)


def test_export(cli, tmp_path, hh):
    text = ex.export(hh, to="ode", out=tmp_path / "py.ode")
    cli("export", "--to", "ode", out=tmp_path / "cli.ode")
    assert (tmp_path / "py.ode").read_text() == (tmp_path / "cli.ode").read_text() == text
    with pytest.raises(ex.Error):
        ex.export(ex.Model("lif"), to="ode")
    # Never over the model's own file, nor over a file of the user's own; an earlier export is
    # replaced.
    mine = tmp_path / "mine.toml"
    mine.write_text((ROOT / "studies" / "models" / "hh.toml").read_text())
    before = mine.read_text()
    with pytest.raises(ex.Error, match="is the model file being read"):
        ex.export(ex.Model.from_file(mine), to="toml", out=mine)
    notes = tmp_path / "notes.toml"
    notes.write_text("# my notes\n")
    with pytest.raises(ex.Error, match="was not written by `excitable export`"):
        ex.export(hh, to="toml", out=notes)
    assert mine.read_text() == before and notes.read_text() == "# my notes\n"
    ex.export(hh, to="ode", out=tmp_path / "py.ode")


def test_stats(cli, tmp_path, hh):
    sim = tmp_path / "sim"
    cli("simulate", "--stim", "8", "--t-max", 300, "--record", "spikes", out=sim)
    cli("stats", "--spikes", sim / "spikes.parquet", "--t-stop", 300, out=tmp_path / "cli")
    t = ex.simulate(hh, stim="8", t_max=300, record="spikes")
    assert_same_table(t.spikes, cli_tables(sim)["spikes"], "spikes")
    # the same trains as a DataFrame, a numpy array, a list, and the file
    for spikes in (t.spikes, t.spikes["t_ms"].to_numpy(), t.spikes["t_ms"].to_list(), sim / "spikes.parquet"):
        s = ex.stats(spikes, t_stop=300)
        assert_same_tables(s, tmp_path / "cli")
    # without t_stop, a spikes file from simulate is counted to its recording's end, as the CLI does
    cli("stats", "--spikes", sim / "spikes.parquet", out=tmp_path / "cli2")
    assert_same_tables(ex.stats(sim / "spikes.parquet"), tmp_path / "cli2")
    # times out of order: the same numbers, and the summary names the train, as the CLI's does
    times = t.spikes["t_ms"].to_list()
    shuffled = ex.stats(times[len(times) // 2:] + times[: len(times) // 2], t_stop=300)
    assert_same_tables(shuffled, tmp_path / "cli")
    assert "**Spike times out of order** in 1 train(s): neuron 0." in shuffled.summary
    assert "out of order" not in ex.stats(times, t_stop=300).summary


def test_windows(cli, tmp_path, hh):
    cli("windows", "--stim", "10", "--t-max", 300, "--width", 50, "--width", 100, out=tmp_path / "cli")
    w = ex.windows(hh, stim="10", t_max=300, width=[50, 100])
    assert_same_tables(w, tmp_path / "cli")
    # from a trace: a file, and a DataFrame
    cli("simulate", "--stim", "10", "--t-max", 300, out=tmp_path / "sim")
    trace = tmp_path / "sim" / "trace.parquet"
    cli("windows", "--trace", trace, "--width", 50, out=tmp_path / "cli2")
    assert_same_tables(ex.windows(trace=trace, width=50), tmp_path / "cli2")
    assert_same_tables(ex.windows(trace=pl.read_parquet(trace), width=50), tmp_path / "cli2")


def test_sweep(cli, tmp_path, hh):
    args = dict(param="g_l=0.2:0.4:0.1", current="0:20:10", t_max=300, transient=100)
    s = ex.sweep(hh, **args)
    cli("sweep", "--param", "g_l=0.2:0.4:0.1", "--current", "0:20:10", "--t-max", 300, "--transient", 100, out=tmp_path)
    assert_same_tables(s, tmp_path)


def test_merge(cli, tmp_path, hh):
    flags = ["--param", "g_l=0.2:0.4:0.1", "--current", "0:20:10", "--t-max", 300, "--transient", 100]
    for k in (1, 2):
        cli("sweep", *flags, "--shard", f"{k}/2", out=tmp_path / "cli")
        ex.sweep(hh, param="g_l=0.2:0.4:0.1", current="0:20:10", t_max=300, transient=100,
                 shard=f"{k}/2", out=tmp_path / "py")
    cli("merge", tmp_path / "cli", out=None)
    m = ex.merge(tmp_path / "py")
    assert_same_tables(m, tmp_path / "cli")


STUDY = """title = "A small study for the Python tests"
document = "none"
shows = "A step."
adds = "Nothing."

[[step]]
name = "exact"
command = "simulate"
about = "LIF, exponential Euler."
args = { model = "lif", stim = "1.5", t-max = 50, dt = 0.125, method = "exp-euler" }

[[check]]
claim = "It fires"
document = "a spiking trace"
table = "exact/spikes.parquet"
column = "t_ms"
agg = "count"
claims = { op = ">=", value = 2 }
expect = 3
tol = 0
evidence = "3 spikes"
"""


def test_study_run(cli, tmp_path):
    study = tmp_path / "small.toml"
    study.write_text(STUDY)
    cli("study", "run", study, out=tmp_path / "cli")
    o = ex.study_run(study, out=tmp_path / "py")
    assert o.out == tmp_path / "py"
    assert o.checks.height == 1 and o.drifted == []
    assert o.checks["measured"][0] == 3
    assert_same_table(cli_tables(tmp_path / "py" / "exact")["spikes"],
                      cli_tables(tmp_path / "cli" / "exact")["spikes"], "spikes")


def test_report(cli, tmp_path):
    lif = ex.Model("lif")
    o = ex.report(lif, out=tmp_path / "py")
    cli("report", "--model", "lif", out=tmp_path / "cli")
    steps = sorted(p.name for p in (tmp_path / "cli").iterdir() if p.is_dir())
    assert steps == sorted(p.name for p in o.out.iterdir() if p.is_dir())
    for step in steps:
        a, b = cli_tables(tmp_path / "py" / step), cli_tables(tmp_path / "cli" / step)
        assert sorted(a) == sorted(b)
        for name in a:
            assert_same_table(a[name], b[name], f"{step}/{name}")


def test_report_default_folder_names_the_overrides(tmp_path, monkeypatch):
    # As on the command line: a changed model's report goes beside the model's own, never
    # over it.
    monkeypatch.chdir(tmp_path)
    own = ex.report(ex.Model("lif"))
    changed = ex.report(ex.Model("lif").with_params(t_ref=3))
    assert own.out == pathlib.Path("reports/lif")
    assert changed.out == pathlib.Path("reports/lif+t_ref=3")
    assert (tmp_path / "reports" / "lif" / "summary.md").is_file()
    assert (tmp_path / "reports" / "lif+t_ref=3" / "summary.md").is_file()


def test_models(cli):
    text = cli("models", out=None).stdout
    table = ex.models()
    assert set(table["model"]) == {"hh", "hh-1952", "hh-ca", "lif"}
    lines = [l.split() for l in text.splitlines() if l.startswith("  ")]
    for row in table.iter_rows(named=True):
        assert any(w[:2] == [row["param"], f"{row['default']:g}"] or
                   (w[:1] == [row["param"]] and float(w[1]) == row["default"]) for w in lines if len(w) > 1), row
    hh_only = ex.models(ex.Model("hh"))
    assert set(hh_only["model"]) == {"hh"}


def test_every_command_has_a_function(cli):
    help_text = cli("--help", out=None).stdout
    commands = []
    section = False
    for line in help_text.splitlines():
        if line.startswith("Commands:"):
            section = True
            continue
        if section:
            if not line.startswith("  "):
                break
            name = line.split()[0]
            if name != "help" and not line.startswith("   "):
                commands.append(name)
    assert len(commands) >= 14
    for c in commands:
        name = "study_run" if c == "study" else c.replace("-", "_")
        assert callable(getattr(ex, name)), c


@pytest.mark.parametrize("command", ["simulate", "rest", "gating", "phase-plane", "max-rate",
                                     "bifurcation", "bifurcation2", "fi", "sweep", "windows", "stats"])
def test_every_flag_is_an_argument_with_its_default(cli, command):
    """The keywords are the flags (`-` -> `_`, `from` -> `from_`) with the CLI's defaults (as
    `--help` prints them)."""
    import inspect

    help_text = cli(command, "--help", out=None).stdout
    blocks = {}
    flag = None
    for line in help_text.splitlines():
        s = line.strip()
        if s.startswith("--") or (s.startswith("-") and ", --" in s[:6]):
            flag = s[s.index("--") + 2:].split()[0]
            blocks[flag] = s
        elif flag and (line.startswith("  ") or not s):
            blocks[flag] += " " + s
        else:
            flag = None
    for skip in ("model", "model-file", "set", "v-var", "out", "no-wait", "help", "spikes"):
        blocks.pop(skip, None)
    sig = inspect.signature(getattr(ex, command.replace("-", "_")))
    params = {("from" if p == "from_" else p.replace("_", "-")): v for p, v in sig.parameters.items()}
    assert set(blocks) <= set(params), set(blocks) - set(params)
    compared = 0
    for flag, text in blocks.items():
        m = re.search(r"\[default: ([^\]]*)\]", text)
        default = params[flag].default
        if m is None:
            assert default in (None, False), (flag, default)
            continue
        value = default[0] if isinstance(default, list) else default
        compared += 1
        if isinstance(value, float):
            assert value == float(m.group(1)), (flag, value, m.group(1))
        else:
            assert str(value) == m.group(1), (flag, value, m.group(1))
    assert compared > 0 or command == "rest", "no default was read from --help"
