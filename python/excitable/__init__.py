"""excitable: how a conductance-based neuron model behaves, from Python.

Every command of the ``excitable`` command line is a function here, with the same name
(``phase-plane`` -> ``phase_plane``, ``study run`` -> ``study_run``). Its keyword arguments
are the command's flags (``--t-max`` -> ``t_max``, ``--from`` -> ``from_``) with the same
defaults: both are read into the same library spec, so they cannot differ. Results hold each
table as a polars DataFrame, named like its Parquet file (``d.special_points``), the text of
``summary.md`` (``d.summary``) and ``d.write(folder)`` for the report the command line writes.

>>> import excitable as ex
>>> hh = ex.Model("hh")
>>> f = ex.fi(hh, from_=0, to=20, step=1, direction="rest", no_overlay=True)
>>> f.fi.columns[:3]
['i_ua_cm2', 'direction', 'rate_hz']

Refused settings raise :class:`Error` (a ``ValueError``) with the command line's message.
Long runs release the GIL, take ``progress=callable`` (called as
``progress(task, done, total, detail)`` from the calling thread) and stop on Ctrl-C.
"""

from __future__ import annotations

import inspect
import io
import os
import pathlib
import tempfile
from typing import Any, Callable, Dict, List, Optional

from . import _native
from ._native import Error, Model

__version__ = _native.__version__

__all__ = [
    "Error",
    "Model",
    "Result",
    "StudyResult",
    "bifurcation",
    "bifurcation2",
    "excitability",
    "export",
    "fi",
    "fit",
    "gating",
    "max_rate",
    "merge",
    "models",
    "phase_plane",
    "prc",
    "report",
    "rest",
    "simulate",
    "stats",
    "study_run",
    "sweep",
    "windows",
]

# What each command does: the command line's own one-line help (`excitable --help`).
_ABOUT = {
    "simulate": "Simulate one or many neurons: tables trace and spikes.",
    "rest": "Every equilibrium at each current: stability, eigenvalues, eigenvectors, centre subspace.",
    "gating": "Steady states x_inf(V) and time constants tau(V) of every gate.",
    "phase-plane": "Phase plane: trajectory, nullclines and direction field (exact for 2-variable models), limit cycle, equilibria by type.",
    "prc": "Phase response curves of every variable by the adjoint method on the stable cycle.",
    "fit": (
        "Fit free parameters to targets (rest, input resistance, Hopf current, rheobase, onset, "
        "rates, an f-I curve): fit.parquet, fit_summary.parquet, fitted.toml, fit.png, summary.md"
    ),
    "excitability": "Hodgkin's excitability class with its evidence, integrator or resonator, onset, minimum rate, PRC type.",
    "export": "A model written as an XPPAUT .ode file, a NeuroML2 cell or a TOML model file.",
    "stats": "Spike-train statistics (ISI, CV, CV2, LV, LvR, Fano, serial correlation) of spike trains.",
    "windows": "Firing and voltage in sliding windows of a trace, for several widths.",
    "max-rate": "The highest sustained spike rate under constant currents, and where it occurs.",
    "bifurcation": (
        "One-parameter bifurcation diagram: equilibria, folds, Hopf points (with criticality), "
        "cycle branches with Floquet multipliers, folds of cycles, period doubling, torus points."
    ),
    "bifurcation2": "Two-parameter curves of Hopf and fold points, with Bautin, Bogdanov-Takens and cusp points.",
    "fi": "f-I curves from rest, up and down starts, rheobase, onset and offset of firing.",
    "sweep": "Firing over a grid of one or two model parameters and the current (a rate map).",
}

# The settings that say which model: they come from the Model argument.
_MODEL_FLAGS = ("model", "model-file", "set", "v-var")
_MODEL_COMMANDS = (
    "simulate",
    "rest",
    "gating",
    "phase-plane",
    "max-rate",
    "bifurcation",
    "bifurcation2",
    "fi",
    "prc",
    "excitability",
    "fit",
)


def _keyword(flag: str) -> str:
    """A flag as its Python keyword: ``from`` -> ``from_``, ``t-max`` -> ``t_max``."""
    name = flag.replace("-", "_")
    return name + "_" if name in ("from", "in", "for", "if", "is", "as") else name


def _plain(value: Any) -> Any:
    """A value as plain Python (numbers, text, bool, lists), for the settings reader."""
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class _Flag:
    """One flag of a command, from the library's spec (its help is the field's doc comment)."""

    def __init__(self, flag, help, defaults, kind, choices, repeatable):
        self.flag = flag
        self.keyword = _keyword(flag)
        self.help = " ".join(help.split())
        if self.help and not self.help.endswith("."):
            self.help += "."
        self.kind = kind
        self.choices = [] if kind == "bool" else choices
        self.repeatable = repeatable
        self.default = self._default(defaults)

    def _default(self, defaults):
        if self.kind == "bool":
            return False
        if not defaults:
            return None
        conv = {"float": float, "int": int}.get(self.kind, str)
        values = [conv(d) for d in defaults]
        if self.repeatable:
            return values
        return values[0]

    def annotation(self) -> str:
        base = {"float": "float", "int": "int", "bool": "bool", "path": "str | os.PathLike", "str": "str"}[self.kind]
        if self.repeatable:
            base = f"{base} | Sequence[{base}]"
        if self.default is None and self.kind != "bool":
            base = f"{base} | None"
        return base

    def doc(self) -> str:
        kind = self.annotation()
        default = "" if self.default is None else f", default {self.default!r}"
        choices = f" One of: {', '.join(self.choices)}." if self.choices else ""
        return f"{self.keyword} : {kind}{default}\n    {self.help}{choices}"


def _flags(command: str) -> List[_Flag]:
    return [_Flag(*f) for f in _native.flags(command)]


def _settings(func: str, flags: List[_Flag], kwargs: Dict[str, Any]) -> Dict[str, Any]:
    """Keyword arguments as the command's settings (flag -> value); None means the default."""
    known = {f.keyword: f for f in flags}
    out = {}
    for k, v in kwargs.items():
        if k not in known:
            raise TypeError(
                f"{func}() got an unexpected keyword argument '{k}' (its arguments: {', '.join(known)})"
            )
        if v is None:
            continue
        v = _plain(v)
        if known[k].kind == "str":
            # A number where the flag takes text (a constant stimulus, `stim=10`) is written
            # as the command line would read it.
            v = [_text(x) for x in v] if isinstance(v, list) else _text(v)
        out[known[k].flag] = v
    return out


def _text(value: Any) -> Any:
    """A number as its text (`10`, `2.5`); anything else as it is."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    return value


def _identity(folder: pathlib.Path):
    """A folder's identity, None if it is gone: its device and inode, and its report list's
    inode and times, which every run writes afresh (a folder's inode alone is reused by the
    next folder on ext4)."""
    try:
        st = os.stat(folder)
        mark = os.stat(pathlib.Path(folder) / ".excitable-report")
    except OSError:
        return None
    return (st.st_dev, st.st_ino, mark.st_ino, mark.st_mtime_ns, mark.st_ctime_ns)


def _read_parquet(source):
    import polars as pl

    return pl.read_parquet(source)


class Result:
    """What a command computed: its tables (polars DataFrames, each also an attribute named
    like its Parquet file), ``summary`` (the text of summary.md) and ``write(folder)``."""

    def __init__(self, command: str, output=None, folder: Optional[pathlib.Path] = None, keep=None):
        self.command = command
        self._output = output
        self._folder = folder
        self._keep = keep  # a temporary folder that lives as long as the result
        self._tables: Optional[Dict[str, Any]] = None
        # The folder's identity now: a later run into it swaps in a new folder, whose tables
        # are not this result's (they had been read back as if they were).
        self._stamp = _identity(folder) if folder is not None else None

    def _folder_checked(self) -> pathlib.Path:
        """The result's folder, refused if another run replaced it (or it is gone)."""
        if _identity(self._folder) != self._stamp:
            raise Error(
                f"{self._folder}: replaced or removed since this '{self.command}' result was "
                "made, so its tables are no longer this result's: run it again"
            )
        return self._folder

    @property
    def tables(self) -> Dict[str, Any]:
        """Every table, by the name of its Parquet file (``fi`` for fi.parquet)."""
        if self._tables is None:
            if self._output is not None:
                self._tables = {
                    name: _read_parquet(io.BytesIO(data)) for name, data in self._output.tables()
                }
            else:
                folder = self._folder_checked()
                self._tables = {p.stem: _read_parquet(p) for p in sorted(folder.glob("*.parquet"))}
        return self._tables

    @property
    def summary(self) -> str:
        """The text of summary.md."""
        if self._output is not None:
            return self._output.summary()
        p = self._folder_checked() / "summary.md"
        return p.read_text() if p.exists() else ""

    def write(self, out) -> List[pathlib.Path]:
        """Write the report (tables, figures, summary.md) into the folder ``out``, replaced
        whole, as the command line does. Returns the files."""
        out = pathlib.Path(out)
        if self._output is not None:
            return [pathlib.Path(p) for p in self._output.write(os.fspath(out))]
        # Checked, staged and swapped in as every report is: a folder a report did not write
        # is refused, never replaced.
        files = _native.write_folder(os.fspath(self._folder_checked()), os.fspath(out))
        return sorted(pathlib.Path(p) for p in files)

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        tables = self.tables
        if name in tables:
            return tables[name]
        raise AttributeError(
            f"'{self.command}' result has no table '{name}' (tables: {', '.join(tables)})"
        )

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self.tables))

    def __repr__(self) -> str:
        shapes = ", ".join(f"{n}: {t.height}x{t.width}" for n, t in self.tables.items())
        return f"<excitable {self.command} result: {shapes}>"


class StudyResult:
    """A study (or model report) that ran: its folder, checks and summary. ``checks`` has a
    row per claim: ``claim``, ``measured``, ``verdict`` (``confirmed``, ``refined``,
    ``refuted``, ``no number`` or ``not run``, as the summary words them) and ``drifted``."""

    def __init__(self, out, checks):
        import polars as pl

        self.out = pathlib.Path(out)
        self.checks = pl.DataFrame(
            {
                "claim": [c[0] for c in checks],
                "measured": [c[1] for c in checks],
                "verdict": [c[2] for c in checks],
                "drifted": [c[3] for c in checks],
            },
            schema={"claim": pl.Utf8, "measured": pl.Float64, "verdict": pl.Utf8, "drifted": pl.Boolean},
        )

    @property
    def drifted(self) -> List[str]:
        """The claims whose measurement drifted from the recorded value."""
        return [r["claim"] for r in self.checks.filter(self.checks["drifted"]).iter_rows(named=True)]

    @property
    def summary(self) -> str:
        """The text of the study's summary.md."""
        return (self.out / "summary.md").read_text()

    def __repr__(self) -> str:
        return f"<excitable study: {self.out}, {self.checks.height} checks, {len(self.drifted)} drifted>"


def _signature(first: List[inspect.Parameter], flags: List[_Flag], extra=()) -> inspect.Signature:
    params = list(first)
    for f in flags:
        params.append(
            inspect.Parameter(f.keyword, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=f.annotation())
        )
    params.extend(extra)
    params.append(
        inspect.Parameter("progress", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="Callable | None")
    )
    return inspect.Signature(params, return_annotation="Result")


_PROGRESS_DOC = (
    "progress : callable, optional\n"
    "    Called as progress(task, done, total, detail) while the run goes (total may be None).\n"
    "    Ctrl-C stops the run (KeyboardInterrupt)."
)


def _doc(command: str, lead: List[str], flags: List[_Flag], returns: str, extra: List[str] = ()) -> str:
    parts = [_ABOUT.get(command, ""), "", "Parameters", "----------"]
    parts.extend(lead)
    parts.extend(f.doc() for f in flags)
    parts.extend(extra)
    parts.append(_PROGRESS_DOC)
    parts += ["", "Returns", "-------", returns, "", "Raises", "------",
              "excitable.Error", "    A refused setting, with the command line's message."]
    return "\n".join(parts)


_MODEL_DOC = "model : Model\n    The model (ex.Model('hh'), ex.Model.from_file(path), m.with_params(...))."


def _need_model(func: str, model) -> None:
    """A TypeError naming the call when `model` is not an `excitable.Model` (a model's name
    given instead had raised an AttributeError about `_source`)."""
    if not isinstance(model, Model):
        raise TypeError(f"{func}(): the first argument is an excitable.Model, not {type(model).__name__}")


def _model_command(command: str):
    flags = [f for f in _flags(command) if f.flag not in _MODEL_FLAGS]
    name = command.replace("-", "_")

    def run(model: Model, *, progress: Optional[Callable] = None, **kwargs) -> Result:
        _need_model(name, model)
        out = _native.run_model(command, model, _settings(name, flags, kwargs), progress)
        return Result(command, output=out)

    run.__name__ = run.__qualname__ = name
    run.__module__ = __name__
    run.__signature__ = _signature(
        [inspect.Parameter("model", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation="Model")], flags
    )
    run.__doc__ = _doc(
        command, [_MODEL_DOC], flags,
        "Result\n    Tables as attributes named like the command's Parquet files, summary, write(folder).",
    )
    return run


simulate = _model_command("simulate")
rest = _model_command("rest")
gating = _model_command("gating")
phase_plane = _model_command("phase-plane")
max_rate = _model_command("max-rate")
bifurcation = _model_command("bifurcation")
bifurcation2 = _model_command("bifurcation2")
fi = _model_command("fi")
prc = _model_command("prc")
excitability = _model_command("excitability")
fit = _model_command("fit")


_EXPORT_FLAGS = [f for f in _flags("export") if f.flag not in _MODEL_FLAGS and f.flag != "to"]


def export(model: "Model", *, to: str = "toml", out=None, **kwargs) -> str:
    """A model written in another format: ``to`` is ``ode``, ``neuroml`` or ``toml`` (the
    default, as on the command line).

    Returns the file's text, and writes it to ``out`` (a file) when given: what
    ``excitable export --to TO --out FILE`` writes. Other keywords are the command's flags
    (``current``, ``t_stop``, ``dt``, ``v0``); an unknown one is a TypeError.
    """
    _need_model("export", model)
    settings = _settings("export", _EXPORT_FLAGS, kwargs)
    settings["to"] = to
    text = _native.export_text(model, settings)
    if out is not None:
        import pathlib

        # Never over the model's own file, nor a file an earlier export did not write.
        _native.export_check(model, str(out))
        pathlib.Path(out).write_text(text)
    return text


def _run_job(command: str, settings: Dict[str, Any], out, progress) -> Result:
    """Run a command that reads or streams files into `out` (or a temporary folder that lives
    as long as the result), then read its tables back."""
    keep = None
    if out is None:
        keep = tempfile.TemporaryDirectory(prefix=f"excitable-{command}-")
        folder = pathlib.Path(keep.name) / "report"
    else:
        folder = pathlib.Path(out)
    _native.run_job(command, settings, os.fspath(folder), progress)
    return Result(command, folder=folder, keep=keep)


_OUT_DOC = (
    "out : str | os.PathLike | None\n"
    "    Also keep the report (tables, figures, summary.md) in this folder, replaced whole; by\n"
    "    default it is written to a temporary folder that lives as long as the result."
)
_OUT_PARAM = inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="str | os.PathLike | None")

_STATS_FLAGS = [f for f in _flags("stats") if f.flag != "spikes"]


def _trains(spikes) -> List[List[float]]:
    """Spike trains (ms) from a DataFrame (t_ms and, for several neurons, neuron), an array
    or list of times (one train), or a list of arrays (one train each)."""
    import numpy as np

    if hasattr(spikes, "columns") and hasattr(spikes, "get_column"):
        t = np.asarray(spikes.get_column("t_ms").to_numpy(), dtype=float)
        if "neuron" in spikes.columns:
            n = np.asarray(spikes.get_column("neuron").to_numpy(), dtype=float)
            if len(n) and not (np.all(n >= 0) and np.all(n == np.floor(n)) and np.all(n <= 1e7)):
                raise Error("spikes: neuron must be a whole number in [0, 10^7]")
            count = int(n.max()) + 1 if len(n) else 0
            return [t[n == k].tolist() for k in range(count)]
        return [t.tolist()]
    if isinstance(spikes, np.ndarray):
        if spikes.ndim == 1:
            return [spikes.astype(float).tolist()]
        return [row.astype(float).tolist() for row in spikes]
    items = list(spikes)
    if items and all(np.ndim(x) == 0 for x in items):
        return [[float(x) for x in items]]
    return [np.asarray(x, dtype=float).tolist() for x in items]


def stats(spikes, *, out=None, progress: Optional[Callable] = None, **kwargs) -> Result:
    settings = _settings("stats", _STATS_FLAGS, kwargs)
    if isinstance(spikes, (str, os.PathLike)):
        settings["spikes"] = os.fspath(spikes)
        return _run_job("stats", settings, out, progress)
    r = Result("stats", output=_native.stats_trains(_trains(spikes), settings, progress))
    if out is not None:
        r.write(out)
    return r


stats.__signature__ = _signature(
    [inspect.Parameter("spikes", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                       annotation="str | os.PathLike | polars.DataFrame | numpy.ndarray | Sequence")],
    _STATS_FLAGS, [_OUT_PARAM],
)
stats.__doc__ = _doc(
    "stats",
    ["spikes : path, DataFrame, array or list\n"
     "    A spikes file (CSV or Parquet with t_ms and, for several neurons, neuron), a DataFrame with\n"
     "    those columns (simulate's `spikes`), an array or list of spike times in ms (one train), or a\n"
     "    list of them (one train each)."],
    _STATS_FLAGS,
    "Result\n    Tables spike_stats, rate, isi_histogram (and io_timing, io_response, cross_correlogram given an input).",
    [_OUT_DOC],
)

_WINDOWS_FLAGS = [f for f in _flags("windows") if f.flag not in _MODEL_FLAGS]


def windows(model: Optional[Model] = None, *, out=None, progress: Optional[Callable] = None, **kwargs) -> Result:
    trace = kwargs.get("trace")
    keep = None
    if trace is not None and not isinstance(trace, (str, os.PathLike)):
        keep = tempfile.TemporaryDirectory(prefix="excitable-trace-")
        path = pathlib.Path(keep.name) / "trace.parquet"
        trace.write_parquet(path)
        kwargs["trace"] = path
    settings = _settings("windows", _WINDOWS_FLAGS, kwargs)
    if model is not None:
        _need_model("windows", model)
        settings.update(model._source())
    try:
        return _run_job("windows", settings, out, progress)
    finally:
        if keep is not None:
            keep.cleanup()


windows.__signature__ = _signature(
    [inspect.Parameter("model", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation="Model | None")],
    _WINDOWS_FLAGS, [_OUT_PARAM],
)
windows.__doc__ = _doc(
    "windows",
    ["model : Model, optional\n    The model to simulate first (with stim=...), when no trace is given."],
    _WINDOWS_FLAGS,
    "Result\n    Table windows (one row per window and width).",
    [_OUT_DOC],
)

_SWEEP_FLAGS = [f for f in _flags("sweep") if f.flag not in _MODEL_FLAGS]


def sweep(model: Model, *, out=None, progress: Optional[Callable] = None, **kwargs) -> Result:
    _need_model("sweep", model)
    settings = _settings("sweep", _SWEEP_FLAGS, kwargs)
    settings.update(model._source())
    if "shard" in settings and out is None:
        raise Error("--shard: a shard is written beside the others: give out=FOLDER")
    return _run_job("sweep", settings, out, progress)


sweep.__signature__ = _signature(
    [inspect.Parameter("model", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation="Model")],
    _SWEEP_FLAGS, [_OUT_PARAM],
)
sweep.__doc__ = _doc("sweep", [_MODEL_DOC], _SWEEP_FLAGS, "Result\n    Table grid.", [_OUT_DOC])


def merge(dir, *, progress: Optional[Callable] = None) -> Result:
    """Join the shards of a sharded sweep in ``dir`` into grid.parquet, grid.png and summary.md
    (written beside the shards, as ``excitable merge DIR`` does).

    Returns
    -------
    Result
        Table grid.
    """
    folder = pathlib.Path(dir)
    _native.run_job("merge", {}, os.fspath(folder), progress)
    return Result("merge", folder=folder)


def study_run(*files, out=None, reports="reports", fast: bool = False, all: bool = False,
              dir="studies", no_wait: bool = False, progress: Optional[Callable] = None) -> "StudyResult | List[StudyResult]":
    """Run study files (``excitable study run``): each into ``out`` (one study) or
    ``reports/NAME``, and measure the documents' claims.

    Parameters
    ----------
    *files : str | os.PathLike
        Study files (TOML).
    out : str | os.PathLike | None
        Output folder (one study only); default REPORTS/NAME.
    reports : str | os.PathLike, default 'reports'
        Where study folders go (REPORTS/NAME).
    fast : bool, default False
        Shorter runs (each step's `fast` overrides); checks that need the full runs are not run.
    all : bool, default False
        Run every DIR/*.toml.
    dir : str | os.PathLike, default 'studies'
        Where `all` looks for studies.
    no_wait : bool, default False
        Refuse at once, instead of waiting, when another run is writing the same folder.
    progress : callable, optional
        Called as progress(task, done, total, detail).

    Returns
    -------
    StudyResult
        (a list of them for several files): the folder, the checks as a DataFrame, the claims
        that drifted, and the summary. Drifted claims do not raise (the command line exits
        with an error for them): see ``.drifted``.
    """
    paths = [os.fspath(f) for f in files]
    if all:
        if paths:
            raise Error("--all: name study files or use --all, not both")
        paths = sorted(os.fspath(p) for p in pathlib.Path(dir).glob("*.toml"))
    done = _native.study_run(paths, None if out is None else os.fspath(out), os.fspath(reports),
                             fast, no_wait, progress)
    results = [StudyResult(o, checks) for o, checks in done]
    return results[0] if len(files) == 1 and not all else results


def report(model: Model, *, out=None, no_wait: bool = False, progress: Optional[Callable] = None) -> StudyResult:
    """The full default report of a model (``excitable report``): simulation, rest states,
    gating, phase plane, maximum rate, windows and spike statistics, indexed in OUT/summary.md.

    Parameters
    ----------
    model : Model
    out : str | os.PathLike | None
        Output folder; default reports/MODEL, and reports/MODEL+NAME=VALUE... for a model with
        overrides (each written as the package writes it: t_ref=3), so that it never replaces
        the model's own.
    no_wait : bool, default False
        Refuse at once, instead of waiting, when another run is writing the same folder.
    progress : callable, optional
        Called as progress(task, done, total, detail).
    """
    _need_model("report", model)
    folder = _native.report(model, None if out is None else os.fspath(out), no_wait, progress)
    return StudyResult(folder, [])


def models(model: Optional[Model] = None):
    """The built-in models (or one model) with their parameters, units, defaults and allowed
    ranges (``excitable models``), as a DataFrame."""
    import polars as pl

    rows = _native.models(model)
    return pl.DataFrame(
        rows, schema=["model", "param", "default", "unit", "allowed", "description"], orient="row"
    )
