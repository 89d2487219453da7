"""Shared helpers: the command line (`excitable` binary of this checkout) and table comparison.

The CLI is `EXCITABLE_CLI` if set, else `target/release/excitable` under the repository root
(`.ci/run` builds it with `cargo test --release` before the tests run).
"""

import os
import pathlib
import subprocess

import numpy as np
import polars as pl
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CLI = pathlib.Path(os.environ.get("EXCITABLE_CLI", ROOT / "target" / "release" / "excitable"))


def run_cli(*args, out, check=True):
    """Run `excitable ARGS --out OUT` from the repository root; returns the finished process."""
    cmd = [os.fspath(CLI), *map(str, args)]
    if out is not None:
        cmd += ["--out", os.fspath(out)]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed:\n{p.stderr}")
    return p


def cli_tables(folder):
    """Every Parquet table of a report folder, by file stem."""
    return {p.stem: pl.read_parquet(p) for p in sorted(pathlib.Path(folder).glob("*.parquet"))}


def assert_same_table(a: pl.DataFrame, b: pl.DataFrame, name=""):
    """Equal to the last bit: names, dtypes, and every value (floats compared as bit patterns,
    so NaN equals NaN and -0.0 differs from 0.0)."""
    assert a.columns == b.columns, f"{name}: columns {a.columns} vs {b.columns}"
    assert a.dtypes == b.dtypes, f"{name}: dtypes {a.dtypes} vs {b.dtypes}"
    assert a.height == b.height, f"{name}: {a.height} vs {b.height} rows"
    for c in a.columns:
        x, y = a.get_column(c), b.get_column(c)
        if x.dtype in (pl.Float64, pl.Float32):
            xa, ya = x.to_numpy(), y.to_numpy()
            assert np.array_equal(xa.view(np.uint64 if xa.dtype == np.float64 else np.uint32),
                                  ya.view(np.uint64 if ya.dtype == np.float64 else np.uint32)), \
                f"{name}.{c}: values differ"
        else:
            assert x.to_list() == y.to_list(), f"{name}.{c}: values differ"


def assert_same_tables(result, folder):
    """The result's tables are the CLI report's tables (the same names, equal to the last bit)."""
    expected = cli_tables(folder)
    got = result.tables
    assert sorted(got) == sorted(expected), f"tables {sorted(got)} vs CLI {sorted(expected)}"
    assert expected, "the CLI wrote no table"
    for name in expected:
        assert_same_table(got[name], expected[name], name)


@pytest.fixture(scope="session")
def cli():
    if not CLI.exists():
        pytest.fail(f"the command line {CLI} is not built (cargo build --release)")
    return run_cli
